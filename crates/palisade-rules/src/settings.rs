//! Per-rule settings from `palisade.toml` (`[rules]` table): the allow-lists and requirements
//! that differ between organisations. The binary validates them; rules only read them.

/// Settings that rules read. The defaults are what a scan without configuration uses.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RuleSettings {
    /// Registry prefixes images may come from (`registry.example.com/`, `ghcr.io/acme/`).
    /// Empty: the untrusted-registry rule is not configured and does not run.
    pub allowed_registries: Vec<String>,
    /// Capabilities accepted in `capabilities.add` beyond the Pod Security baseline set
    /// (upper case, without `CAP_`).
    pub allowed_capabilities: Vec<String>,
    /// Labels every workload and Service must carry. Empty: the rule does not run.
    pub required_labels: Vec<String>,
    /// The Pod Security level and policy version pods are judged against as the admission
    /// plugin judges them (`--framework pss-*`, `--pss-version`). `None`: the admission rule
    /// (POD031) does not run; the policy version of the other PSS rules is the latest.
    pub pod_security: Option<PodSecurityTarget>,
}

/// A Pod Security level at a policy version.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PodSecurityTarget {
    pub level: crate::pss::Level,
    pub version: crate::pss::admission::PolicyVersion,
}

impl RuleSettings {
    /// The policy version rules follow: the one asked for, else the latest.
    pub fn pss_version(&self) -> crate::pss::admission::PolicyVersion {
        self.pod_security
            .map_or(crate::pss::admission::PolicyVersion::LATEST, |t| t.version)
    }
}

impl RuleSettings {
    /// Whether `image` starts with one of the allowed registry prefixes. An allowed entry
    /// without a `/` names a whole registry host (`quay.io` allows `quay.io/x/y`).
    pub fn registry_allowed(&self, image: &str) -> bool {
        let full = crate::image::ImageRef::parse(image).full_name();
        self.allowed_registries.iter().any(|allowed| {
            let allowed = allowed.trim_end_matches('/');
            full == allowed
                || full
                    .strip_prefix(allowed)
                    .is_some_and(|rest| rest.starts_with('/'))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn registry_prefixes_match_on_path_boundaries() {
        let s = RuleSettings {
            allowed_registries: vec!["registry.example.com/team".into(), "quay.io/".into()],
            ..RuleSettings::default()
        };
        assert!(s.registry_allowed("registry.example.com/team/app:1"));
        assert!(!s.registry_allowed("registry.example.com/teamevil/app:1"));
        assert!(s.registry_allowed("quay.io/x/y@sha256:00"));
        assert!(!s.registry_allowed("nginx:1.27"));
        assert!(!s.registry_allowed("quay.io.evil.com/x"));
    }

    #[test]
    fn docker_hub_short_names_expand() {
        let s = RuleSettings {
            allowed_registries: vec!["docker.io/library".into()],
            ..RuleSettings::default()
        };
        assert!(s.registry_allowed("nginx:1.27"));
        assert!(!s.registry_allowed("bitnami/nginx:1.27"));
    }
}
