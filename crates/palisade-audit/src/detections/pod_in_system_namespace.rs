use super::pod_create::{POD_CREATE, created, spec, trusted, with_images};
use crate::detection::{Cx, Hit};

/// The namespaces the control plane owns.
pub const SYSTEM_NAMESPACES: &[&str] = &["kube-system", "kube-public"];

crate::detection! {
    /// ## What it checks
    /// A pod created in `kube-system` or `kube-public` whose images are not all in
    /// `trusted_images.kube_namespace` (the control plane's add-ons).
    ///
    /// ## Why it matters
    /// kube-system holds the cluster's most powerful service accounts and is often exempt
    /// from admission policies: a pod placed there blends in with the control plane and may
    /// mount its tokens.
    ///
    /// ## Response
    /// Confirm the add-on; add its image to `trusted_images.kube_namespace` when it belongs.
    ///
    /// ## Falco equivalent
    /// `Pod Created in Kube Namespace`.
    ///
    /// ## Sigma equivalent
    /// `Creation Of Pod In System Namespace`.
    pub static POD_IN_SYSTEM_NAMESPACE {
        id: "AUD009",
        slug: "pod-in-system-namespace",
        title: "Pod created in kube-system or kube-public",
        severity: Medium,
        mitre: ["T1610"],
        remediation: "Run workloads in their own namespaces; trust the image in [audit] trusted_images.kube_namespace when it is an add-on.",
        triggers: [POD_CREATE],
        check: crate::detection::Check::Request(check),
    }
}

fn check(cx: &Cx) -> Vec<Hit> {
    if !cx
        .event
        .namespace()
        .is_some_and(|ns| SYSTEM_NAMESPACES.contains(&ns))
    {
        return Vec::new();
    }
    let Some(spec) = spec(cx) else {
        return Vec::new();
    };
    if trusted(spec, &cx.settings.trusted_images.kube_namespace) {
        return Vec::new();
    }
    vec![with_images(
        Hit::new(created(cx, "in a system namespace")),
        spec,
    )]
}
