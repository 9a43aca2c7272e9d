use crate::context::Context;
use crate::rule::{Check, Target};
use crate::settings::RuleSettings;

declare_rule! {
    /// ## What it checks
    /// Container images that do not come from a registry listed in `palisade.toml`:
    ///
    /// ```toml
    /// [rules]
    /// allowed-registries = ["registry.example.com", "ghcr.io/acme"]
    /// ```
    ///
    /// Short Docker Hub names are expanded (`nginx` is `docker.io/library/nginx`) and prefixes
    /// match on path boundaries (`ghcr.io/acme` does not allow `ghcr.io/acme-evil`). Without
    /// an allow-list the rule does not run, and coverage says so.
    ///
    /// ## Why it matters
    /// Images from arbitrary registries bypass the organisation's scanning, signing and
    /// mirroring, and typosquatted or hijacked public images are a common way in (MITRE
    /// ATT&CK T1195, T1204.003).
    ///
    /// ## Severity
    /// Medium: the content of such images is unknown to the organisation.
    ///
    /// ## Failing example
    /// ```yaml
    /// image: docker.io/someone/tool:1.0
    /// ```
    ///
    /// ## Passing example
    /// ```yaml
    /// image: registry.example.com/platform/tool:1.0
    /// ```
    ///
    /// ## Remediation
    /// Mirror the image into an approved registry (after scanning) and reference the mirror.
    ///
    /// ## References
    /// - CIS Kubernetes Benchmark v1.12, 5.5.1 (evidence only: the control itself is the API
    ///   server's ImagePolicyWebhook configuration)
    /// - NSA/CISA Kubernetes Hardening Guide v1.2, "Building secure container images"
    pub struct UntrustedRegistry {
        id: "IMG004",
        slug: "untrusted-registry",
        title: "Image comes from a registry that is not allowed",
        severity: Medium,
        target: Target::PodSpec,
        controls: [
            NsaCisa12 "pod-security/secure-images",
            MitreAttack "T1195",
            MitreAttack "T1204.003",
        ],
        remediation: "Pull the image from an allowed registry (mirror it there first).",
    }
}

impl Check for UntrustedRegistry {
    fn unconfigured(&self, settings: &RuleSettings) -> Option<&'static str> {
        settings
            .allowed_registries
            .is_empty()
            .then_some("no allowed registries: set `[rules] allowed-registries` in palisade.toml")
    }

    fn check(&self, cx: &mut Context<'_>) {
        for container in cx.containers() {
            let path = container.field(&["image"]);
            let Some(image) = cx.str_at(&path).filter(|i| !i.trim().is_empty()) else {
                continue;
            };
            if !cx.settings.registry_allowed(image) {
                let full = crate::image::ImageRef::parse(image).full_name();
                cx.report(
                    path,
                    format!(
                        "{} uses {image} ({full}), which is not in allowed-registries",
                        container.describe()
                    ),
                );
            }
        }
    }
}
