use crate::context::Context;
use crate::image::ImageRef;
use crate::rule::{Check, Target};

declare_rule! {
    /// ## What it checks
    /// Images referenced by tag without a digest (`@sha256:...`). Images without a tag or with
    /// `latest` are reported by IMG001 instead.
    ///
    /// ## Why it matters
    /// Tags are mutable: whoever can push to the repository (or compromise the registry or a
    /// mirror) changes what a version tag points to, and the cluster runs the new content at
    /// the next pull with no change in Git (MITRE ATT&CK T1195, T1525). A digest pins the exact
    /// content that was scanned and signed.
    ///
    /// ## Severity
    /// Info: common practice, but required by supply-chain policies (SLSA, admission
    /// verification of signatures).
    ///
    /// ## Failing example
    /// ```yaml
    /// image: registry.example.com/app:1.4.2
    /// ```
    ///
    /// ## Passing example
    /// ```yaml
    /// image: registry.example.com/app:1.4.2@sha256:4b8a3c1f0d2e5a6b7c8d9e0f1a2b3c4d5e6f7a8b9c0d1e2f3a4b5c6d7e8f9a0b
    /// ```
    ///
    /// ## Remediation
    /// Resolve the tag to its digest at release time (`crane digest`, Renovate's `pinDigests`)
    /// and reference `name:tag@sha256:...`.
    ///
    /// ## References
    /// - NSA/CISA Kubernetes Hardening Guide v1.2, "Building secure container images"
    /// - CIS Kubernetes Benchmark v1.12, 5.5.1 (evidence only: the control itself is the API
    ///   server's ImagePolicyWebhook configuration)
    pub struct ImageNotPinned {
        id: "IMG002",
        slug: "image-not-pinned-by-digest",
        title: "Image is not pinned by digest",
        severity: Info,
        target: Target::PodSpec,
        controls: [
            NsaCisa12 "pod-security/secure-images",
            MitreAttack "T1195",
        ],
        remediation: "Reference the image by digest: `name:tag@sha256:...`.",
    }
}

impl Check for ImageNotPinned {
    fn check(&self, cx: &mut Context<'_>) {
        for (container, path, image) in cx.container_images() {
            let reference = ImageRef::parse(image);
            if let (None, Some(tag)) = (reference.digest, reference.tag)
                && tag != "latest"
            {
                cx.report(
                    path,
                    format!(
                        "{} uses {image} by tag only; the tag can be moved to other content",
                        container.describe()
                    ),
                );
            }
        }
    }
}
