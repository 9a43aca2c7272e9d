use crate::context::Context;
use crate::image::ImageRef;
use crate::rule::{Check, Target};

declare_rule! {
    /// ## What it checks
    /// Container images referenced without a tag (which means `latest`) or with the `latest`
    /// tag, and not pinned by digest (`@sha256:...`).
    ///
    /// ## Why it matters
    /// A mutable reference runs whatever the registry serves at pull time. Whoever can push to
    /// the repository, or poison a cache or mirror, changes what runs in the cluster without a
    /// change in Git (MITRE ATT&CK T1525, Implant Internal Image; T1195, Supply Chain
    /// Compromise). It also makes scans and rollbacks meaningless: the image that was reviewed
    /// is not necessarily the one running.
    ///
    /// ## Severity
    /// Medium: exploiting it needs write access to a registry or a cache in the pull path.
    ///
    /// ## Failing example
    /// ```yaml
    /// containers:
    /// - name: app
    ///   image: nginx
    /// ```
    ///
    /// ## Passing example
    /// ```yaml
    /// containers:
    /// - name: app
    ///   image: nginx:1.27.3@sha256:0a399eb16751829e1af26fea27b20c3ec28d7ab1fb72182879dcae1cca21206a
    /// ```
    ///
    /// ## Remediation
    /// Pin a version tag, and preferably a digest (`image: repo/name:1.2.3@sha256:...`); let a
    /// bot such as Renovate propose updates.
    ///
    /// ## References
    /// - NSA/CISA Kubernetes Hardening Guide v1.2, "Building secure container images"
    /// - Kubernetes documentation, "Images", "Image names"
    pub struct MutableImageTag {
        id: "IMG001",
        slug: "mutable-image-tag",
        title: "Image has no tag or uses latest",
        severity: Medium,
        target: Target::PodSpec,
        controls: [
            NsaCisa12 "pod-security/secure-images",
            MitreAttack "T1525",
            MitreAttack "T1195",
        ],
        remediation: "Pin the image to a version tag and a digest (`name:1.2.3@sha256:...`).",
    }
}

impl Check for MutableImageTag {
    fn check(&self, cx: &mut Context<'_>) {
        for (container, path, image) in cx.container_images() {
            let image = image.trim();
            let reference = ImageRef::parse(image);
            match (reference.digest, reference.tag) {
                (Some(_), _) => {}
                (None, Some(tag)) if tag != "latest" => {}
                (None, Some(_)) => cx.report(
                    path,
                    format!(
                        "{} uses image {image}: `latest` changes whenever someone pushes",
                        container.describe()
                    ),
                ),
                (None, None) => cx.report(
                    path,
                    format!(
                        "{} uses image {image} without a tag, which pulls `latest`",
                        container.describe()
                    ),
                ),
            }
        }
    }
}
