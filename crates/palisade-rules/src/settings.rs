//! Per-rule settings from `palisade.toml` (`[rules]` table): the allow-lists and requirements
//! that differ between organisations. The binary validates them; rules only read them.

/// A setting a rule declares (`Check::settings`): its key in the `[rules]` table of
/// `palisade.toml`, and how one entry is checked and normalised. `palisade.toml` is validated
/// from these declarations, so a new setting is written once, in its rule's file.
#[derive(Debug)]
pub struct Setting {
    /// The key in `[rules]`, such as `allowed-registries`. Its value is a list of strings.
    pub key: &'static str,
    /// What the setting means, for `palisade rules` and the docs.
    pub help: &'static str,
    /// Entries that show how it is written (`palisade init` writes them as a comment).
    pub example: &'static [&'static str],
    /// One entry normalised, or the whole error message (naming the key) when it is invalid.
    pub parse: fn(&str) -> Result<String, String>,
}

/// Settings that rules read. The defaults are what a scan without configuration uses.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RuleSettings {
    /// The `[rules]` lists of `palisade.toml`, by key, each entry normalised by its
    /// [`Setting`].
    lists: std::collections::BTreeMap<String, Vec<String>>,
    /// The Pod Security level and policy version pods are judged against as the admission
    /// plugin judges them (`--framework pss-*`, `--pss-version`). `None`: the admission rule
    /// (POD031) does not run; the policy version of the other PSS rules is the latest.
    pub pod_security: Option<PodSecurityTarget>,
    /// The indicators of `[rules] threat-intel`, read by the configuration's loader.
    pub threat_intel: ThreatIntel,
    /// The cluster's admission policies, whether or not the run reports their findings.
    pub admission_policies: AdmissionPolicies,
    /// Where the ingress controller runs (`[network]` of `palisade.toml`), for the network
    /// engine the network rules and the escalation graph read.
    pub ingress: palisade_net::IngressPlacement,
}

/// The policies the cluster's admission enforces (Gatekeeper constraints, ValidatingAdmission
/// Policy bindings: the rules a provider added to the run), whether or not the run reports
/// their findings (`--rules`, `--framework`): the escalation graph asks those that refuse at
/// admission ([`crate::Rule::refuses_at_admission`]) which pods that would own their node they
/// let in ([`crate::refusals`]). Two are equal when they hold the same rules.
#[derive(Clone, Default)]
pub struct AdmissionPolicies(pub Vec<std::sync::Arc<dyn crate::Rule>>);

impl std::fmt::Debug for AdmissionPolicies {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_list()
            .entries(self.0.iter().map(|rule| &rule.meta().id))
            .finish()
    }
}

impl PartialEq for AdmissionPolicies {
    fn eq(&self, other: &Self) -> bool {
        self.0.len() == other.0.len()
            && self
                .0
                .iter()
                .zip(&other.0)
                .all(|(a, b)| std::sync::Arc::ptr_eq(a, b))
    }
}

impl Eq for AdmissionPolicies {}

/// Threat intelligence the rules match images against (IMG005), read from the files of
/// `[rules] threat-intel`. Two settings are equal when they hold the same read.
#[derive(Debug, Clone, Default)]
pub struct ThreatIntel(pub Option<std::sync::Arc<palisade_intel::Indicators>>);

impl PartialEq for ThreatIntel {
    fn eq(&self, other: &Self) -> bool {
        match (&self.0, &other.0) {
            (None, None) => true,
            (Some(a), Some(b)) => std::sync::Arc::ptr_eq(a, b),
            _ => false,
        }
    }
}

impl Eq for ThreatIntel {}

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
    /// The entries of a list setting (empty when not set).
    pub fn list(&self, setting: &Setting) -> &[String] {
        self.lists.get(setting.key).map_or(&[], Vec::as_slice)
    }

    /// The files of `[rules] threat-intel` (IMG005), as written: the configuration's loader
    /// reads them into [`RuleSettings::threat_intel`].
    pub fn threat_intel_files(&self) -> &[String] {
        self.list(&crate::rules::THREAT_INTEL)
    }

    /// Sets a list by key (entries already normalised).
    pub fn set(&mut self, key: &str, entries: Vec<String>) {
        self.lists.insert(key.to_string(), entries);
    }

    /// These settings with one list set: `RuleSettings::default().with("required-labels", ...)`.
    pub fn with(mut self, key: &str, entries: Vec<String>) -> Self {
        self.set(key, entries);
        self
    }
}
