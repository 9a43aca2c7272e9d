use palisade_k8s::security::is_privileged;

use super::pod_create::{POD_CREATE, created, spec, trusted, with_images};
use crate::detection::{Cx, Hit, containers, describe_container};

crate::detection! {
    /// ## What it checks
    /// A pod created with a privileged container (init, regular or ephemeral), unless every
    /// image of the pod is in `trusted_images.privileged` (network plugins and node agents
    /// that need it by design).
    ///
    /// ## Why it matters
    /// A privileged container has every capability and the node's devices: it is root on
    /// the node, and from there on every pod scheduled there. Creating one is the most direct
    /// container escape.
    ///
    /// ## Response
    /// Find who created it and why; enforce Pod Security `baseline` or stricter on the
    /// namespace so the API server refuses it.
    ///
    /// ## Falco equivalent
    /// `Create Privileged Pod`.
    ///
    /// ## Sigma equivalent
    /// `Privileged Container Deployed`.
    pub static PRIVILEGED_POD_CREATED {
        id: "AUD004",
        slug: "privileged-pod-created",
        title: "Pod with a privileged container created",
        severity: High,
        mitre: ["T1610", "T1611"],
        remediation: "Enforce Pod Security baseline on the namespace; trust the image in [audit] trusted_images.privileged only if it needs it.",
        triggers: [POD_CREATE],
        check: crate::detection::Check::Request(check),
    }
}

fn check(cx: &Cx) -> Vec<Hit> {
    let Some(spec) = spec(cx) else {
        return Vec::new();
    };
    let Some((kind, container)) = containers(spec).find(|(_, c)| is_privileged(*c)) else {
        return Vec::new();
    };
    if trusted(spec, &cx.settings.trusted_images.privileged) {
        return Vec::new();
    }
    let what = describe_container(kind, container);
    let hit = Hit::new(created(cx, &format!("with privileged {what}"))).with("container", what);
    vec![with_images(hit, spec)]
}
