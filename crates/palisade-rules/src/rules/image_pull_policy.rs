use crate::context::Context;
use crate::image::ImageRef;
use crate::rule::{Check, Target};

declare_rule! {
    /// ## What it checks
    /// Containers whose effective `imagePullPolicy` is not `Always` while the image is not
    /// pinned by digest. The effective policy is the field, or the API server's default when
    /// it is unset (`Always` for `latest` or no tag, `IfNotPresent` otherwise).
    ///
    /// ## Why it matters
    /// With `IfNotPresent` or `Never` the kubelet starts whatever image is cached on the node
    /// under that name, without asking the registry: a pod in another namespace can run a
    /// private image some other tenant pulled (registry credentials are never checked), and a
    /// tampered image in the node cache is used as is (MITRE ATT&CK T1525). The
    /// `AlwaysPullImages` admission plugin exists for this reason.
    ///
    /// ## Severity
    /// Low: it needs a shared node or a poisoned cache to matter.
    ///
    /// ## Failing example
    /// ```yaml
    /// image: registry.example.com/app:1.4.2
    /// imagePullPolicy: IfNotPresent
    /// ```
    ///
    /// ## Passing example
    /// ```yaml
    /// image: registry.example.com/app:1.4.2
    /// imagePullPolicy: Always
    /// ```
    ///
    /// ## Remediation
    /// Set `imagePullPolicy: Always`, or pin the image by digest (then the cache cannot serve
    /// other content).
    ///
    /// ## References
    /// - Kubernetes documentation, "Images", "Image pull policy" and "Ensure Image Pull"
    /// - NSA/CISA Kubernetes Hardening Guide v1.2, "Building secure container images"
    pub struct ImagePullPolicy {
        id: "IMG003",
        slug: "image-pull-policy-not-always",
        title: "Image may be used from the node cache",
        severity: Low,
        target: Target::PodSpec,
        controls: [
            NsaCisa12 "pod-security/secure-images",
            MitreAttack "T1525",
        ],
        remediation: "Set `imagePullPolicy: Always` or pin the image by digest.",
    }
}

impl Check for ImagePullPolicy {
    fn check(&self, cx: &mut Context<'_>) {
        for (container, _, image) in cx.container_images() {
            let reference = ImageRef::parse(image);
            if reference.pinned() {
                continue;
            }
            let path = container.field(&["imagePullPolicy"]);
            let (policy, defaulted) = match cx.str_at(&path) {
                Some(p) => (p, false),
                None if reference.effective_tag() == Some("latest") => ("Always", true),
                None => ("IfNotPresent", true),
            };
            if policy != "Always" {
                let how = if defaulted {
                    " (the default for a version tag)"
                } else {
                    ""
                };
                cx.report(path, format!("{} pulls {image} with policy {policy}{how}, so a cached copy is used without the registry", container.describe()));
            }
        }
    }
}
