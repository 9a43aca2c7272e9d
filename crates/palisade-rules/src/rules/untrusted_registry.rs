use crate::context::Context;
use crate::rule::{Check, Target};
use crate::settings::{RuleSettings, Setting};

/// `[rules] allowed-registries`: registry hosts or path prefixes images may come from.
pub(crate) static ALLOWED_REGISTRIES: Setting = Setting {
    key: "allowed-registries",
    help: "registry hosts or path prefixes images may come from (`registry.example.com/team`); without it the rule does not run",
    example: &["registry.example.com", "ghcr.io/acme"],
    parse: |entry| registry_prefix("allowed-registries", entry),
};

/// An entry of a setting `key` that lists registry hosts or path prefixes.
pub(crate) fn registry_prefix(key: &str, entry: &str) -> Result<String, String> {
    let value = entry.trim();
    if value.is_empty() || value.contains(char::is_whitespace) || value.contains("://") {
        return Err(format!(
            "`{key}` entries are registry hosts or path prefixes such as `registry.example.com/team`, found `{value}`"
        ));
    }
    Ok(value.to_string())
}

/// Whether `image` starts with one of the `allowed` registry prefixes. An entry without a `/`
/// names a whole registry host (`quay.io` allows `quay.io/x/y`).
fn registry_allowed(allowed: &[String], image: &str) -> bool {
    let full = crate::image::ImageRef::parse(image).full_name();
    allowed.iter().any(|allowed| {
        let allowed = allowed.trim_end_matches('/');
        full == allowed
            || full
                .strip_prefix(allowed)
                .is_some_and(|rest| rest.starts_with('/'))
    })
}

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
    fn settings(&self) -> &'static [&'static Setting] {
        static SETTINGS: &[&Setting] = &[&ALLOWED_REGISTRIES];
        SETTINGS
    }

    fn unconfigured(&self, settings: &RuleSettings) -> Option<&'static str> {
        settings
            .list(&ALLOWED_REGISTRIES)
            .is_empty()
            .then_some("no allowed registries: set `[rules] allowed-registries` in palisade.toml")
    }

    fn check(&self, cx: &mut Context<'_>) {
        for (container, path, image) in cx.container_images() {
            if !registry_allowed(cx.settings.list(&ALLOWED_REGISTRIES), image) {
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

#[cfg(test)]
mod tests {
    use super::*;

    fn allowed(list: &[&str], image: &str) -> bool {
        let list: Vec<String> = list.iter().map(|s| s.to_string()).collect();
        registry_allowed(&list, image)
    }

    #[test]
    fn registry_prefixes_match_on_path_boundaries() {
        let list = ["registry.example.com/team", "quay.io/"];
        assert!(allowed(&list, "registry.example.com/team/app:1"));
        assert!(!allowed(&list, "registry.example.com/teamevil/app:1"));
        assert!(allowed(&list, "quay.io/x/y@sha256:00"));
        assert!(!allowed(&list, "nginx:1.27"));
        assert!(!allowed(&list, "quay.io.evil.com/x"));
    }

    #[test]
    fn docker_hub_short_names_expand() {
        assert!(allowed(&["docker.io/library"], "nginx:1.27"));
        assert!(!allowed(&["docker.io/library"], "bitnami/nginx:1.27"));
    }
}
