//! The `[admission]` table of `palisade.toml`: what each finding does at admission (modes by
//! severity, per rule and per namespace), who and what is exempt, the deadline and what
//! happens when it passes, limits, and the opt-in hardening patches.

use std::collections::BTreeMap;

use palisade_core::Severity;
use serde::Deserialize;

/// What a finding does to a request. Ordered: a namespace's mode caps a rule's.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Mode {
    /// Not evaluated (a namespace) or ignored (a rule).
    Off,
    /// Allowed; logged, counted and added to the request's audit annotations.
    Audit,
    /// Allowed with a warning the client shows (kubectl prints it).
    Warn,
    /// Denied.
    Enforce,
}

impl Mode {
    pub fn name(self) -> &'static str {
        match self {
            Mode::Off => "off",
            Mode::Audit => "audit",
            Mode::Warn => "warn",
            Mode::Enforce => "enforce",
        }
    }
}

/// What the webhook answers when evaluation does not finish before the deadline.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum OnTimeout {
    /// Fail closed: the request is denied and may be retried.
    Deny,
    /// Fail open: the request is allowed with a warning and an audit annotation.
    Allow,
}

pub use palisade_fix::{DropAllCapabilities, RunAsNonRoot};

/// The opt-in hardening patches of `POST /mutate`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct MutateSettings {
    /// Whether `/mutate` patches at all (off: it allows without a patch).
    pub enabled: bool,
    /// `seccompProfile: RuntimeDefault` for pods without a seccomp profile.
    pub seccomp: bool,
    /// `capabilities.drop: [ALL]` for containers that drop nothing.
    pub drop_all_capabilities: DropAllCapabilities,
    /// `allowPrivilegeEscalation: false` where it is unset and allowed.
    pub no_privilege_escalation: bool,
    pub run_as_non_root: RunAsNonRoot,
}

impl MutateSettings {
    /// The additions these settings ask for.
    pub fn hardening(&self) -> palisade_fix::Hardening {
        palisade_fix::Hardening {
            seccomp: self.seccomp,
            drop_all_capabilities: self.drop_all_capabilities,
            no_privilege_escalation: self.no_privilege_escalation,
            run_as_non_root: self.run_as_non_root,
        }
    }
}

impl Default for MutateSettings {
    fn default() -> Self {
        // The additions `palisade fix` makes by default.
        let hardening = palisade_fix::Hardening::default();
        MutateSettings {
            enabled: false,
            seccomp: hardening.seccomp,
            drop_all_capabilities: hardening.drop_all_capabilities,
            no_privilege_escalation: hardening.no_privilege_escalation,
            run_as_non_root: hardening.run_as_non_root,
        }
    }
}

/// The `[admission]` settings.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct AdmissionSettings {
    /// What findings at or above `deny_at` do where no rule or namespace says otherwise.
    pub mode: Mode,
    /// Findings at or above this severity are denied (under `mode = "enforce"`).
    pub deny_at: Severity,
    /// Findings at or above this severity (and below `deny_at`) are warnings; lower ones are
    /// audited.
    pub warn_at: Severity,
    /// A mode per rule (id or slug): the rule's findings do this whatever their severity.
    pub rules: BTreeMap<String, Mode>,
    /// A cap per namespace (exact name, or a prefix ending in `*`): nothing in it does more.
    pub namespaces: BTreeMap<String, Mode>,
    /// Namespaces whose requests are allowed unjudged (the webhook's own is added).
    pub exempt_namespaces: Vec<String>,
    /// Users whose requests are allowed unjudged (exact names).
    pub exempt_users: Vec<String>,
    /// Groups whose members' requests are allowed unjudged.
    pub exempt_groups: Vec<String>,
    /// Honour `palisade.dev/ignore` annotations on the judged object. Off by default: the
    /// author of an object must not be able to exempt it from the cluster's policy.
    pub honor_object_suppressions: bool,
    /// On an update, a finding the stored object already had is at most a warning, so
    /// objects admitted before a rule existed can still be changed (finalizers removed,
    /// scaled, labelled). Set to false to judge updates as creations.
    pub grandfather_existing: bool,
    /// Judge deletions (`DELETE` requests) with the policies: Gatekeeper constraints, which
    /// then read the deleted object as `input.review.object` (Gatekeeper's
    /// `enableDeleteOperations`), and ValidatingAdmissionPolicies whose rules select
    /// `DELETE`. Palisade's own rules never refuse a deletion. Off, deletions are let in
    /// unjudged, as Gatekeeper's default is.
    pub judge_deletions: bool,
    /// Judge connections (`CONNECT` requests: exec, attach and port-forward into pods) with
    /// the policies: ValidatingAdmissionPolicies whose rules select `CONNECT` (on
    /// `pods/exec`, say), and Gatekeeper constraints that match the options' kind
    /// (`PodExecOptions`). Palisade's own rules never refuse one. Off, they are let in
    /// unjudged.
    pub judge_connect: bool,
    /// Milliseconds an evaluation may take before `on_timeout` decides (keep it below the
    /// webhook configuration's `timeoutSeconds`).
    pub timeout_ms: u64,
    pub on_timeout: OnTimeout,
    /// What a rule whose mode is enforce does when its evaluation fails (a policy's Rego or
    /// CEL error): `deny` (the rule cannot vouch for the object) or `allow` with a warning.
    pub on_error: OnTimeout,
    /// Evaluations running or waiting at once; more are answered as a timeout.
    pub max_in_flight: usize,
    /// Largest AdmissionReview body accepted, in bytes.
    pub max_body_bytes: usize,
    pub mutate: MutateSettings,
}

impl Default for AdmissionSettings {
    fn default() -> Self {
        AdmissionSettings {
            mode: Mode::Enforce,
            deny_at: Severity::High,
            warn_at: Severity::Medium,
            rules: BTreeMap::new(),
            namespaces: BTreeMap::new(),
            exempt_namespaces: vec!["kube-system".into()],
            exempt_users: Vec::new(),
            exempt_groups: Vec::new(),
            honor_object_suppressions: false,
            grandfather_existing: true,
            judge_deletions: false,
            judge_connect: false,
            timeout_ms: 3000,
            on_timeout: OnTimeout::Deny,
            on_error: OnTimeout::Deny,
            max_in_flight: 256,
            // An object is at most 1.5 MiB in etcd; a review holds it twice, JSON-escaped.
            max_body_bytes: 7 * 1024 * 1024,
            mutate: MutateSettings::default(),
        }
    }
}

pub use palisade_core::config_section::SettingsError;

impl AdmissionSettings {
    /// Reads the `[admission]` table of a `palisade.toml` (the defaults when there is none).
    /// `canonical` names a rule id or slug's rule (`None` for an unknown name): rule keys
    /// are stored by id, and an unknown one is an error, never a silently ignored entry.
    pub fn parse(
        path: &str,
        text: &str,
        canonical: &dyn Fn(&str) -> Option<String>,
    ) -> Result<AdmissionSettings, SettingsError> {
        let invalid = |line: usize, message: String| SettingsError::Invalid {
            path: path.to_string(),
            line,
            table: "admission",
            message,
        };
        let settings = palisade_core::config_section::read::<AdmissionSettings>(text, "admission")
            .map_err(|e| invalid(e.line, e.message))?
            .unwrap_or_default();
        settings.resolve(canonical).map_err(|(needle, message)| {
            invalid(
                palisade_core::config_section::line_of(text, &needle),
                message,
            )
        })
    }

    /// Reads a file's `[admission]` table.
    pub fn load(
        path: &std::path::Path,
        canonical: &dyn Fn(&str) -> Option<String>,
    ) -> Result<AdmissionSettings, SettingsError> {
        palisade_core::config_section::load(path, |path, text| {
            AdmissionSettings::parse(path, text, canonical)
        })
    }

    /// Checks the values and stores rule modes by id. Errors carry text to find the line by.
    pub fn resolve(
        mut self,
        canonical: &dyn Fn(&str) -> Option<String>,
    ) -> Result<AdmissionSettings, (String, String)> {
        if self.warn_at > self.deny_at {
            return Err((
                "warn_at".into(),
                format!(
                    "warn_at ({}) is above deny_at ({}): nothing could be a warning",
                    self.warn_at, self.deny_at
                ),
            ));
        }
        if self.timeout_ms == 0 || self.timeout_ms > 30_000 {
            return Err((
                "timeout_ms".into(),
                "timeout_ms must be between 1 and 30000 (the API server waits at most 30 s)".into(),
            ));
        }
        if self.max_in_flight == 0 {
            return Err((
                "max_in_flight".into(),
                "max_in_flight must be at least 1".into(),
            ));
        }
        if self.max_body_bytes < 64 * 1024 {
            return Err((
                "max_body_bytes".into(),
                "max_body_bytes must be at least 65536".into(),
            ));
        }
        for pattern in self.namespaces.keys() {
            if pattern.trim_end_matches('*').contains('*') {
                return Err((
                    pattern.clone(),
                    format!("namespaces: `{pattern}`: only a trailing `*` is a wildcard"),
                ));
            }
        }
        let mut rules = BTreeMap::new();
        for (name, mode) in std::mem::take(&mut self.rules) {
            let Some(id) = canonical(&name) else {
                return Err((
                    name.clone(),
                    format!("rules: `{name}` is not a rule of this run (see `palisade rules`)"),
                ));
            };
            rules.insert(id, mode);
        }
        self.rules = rules;
        Ok(self)
    }

    /// The cap of a namespace: its own entry (an exact name wins over the longest prefix),
    /// else no cap.
    pub fn namespace_cap(&self, namespace: &str) -> Mode {
        if let Some(mode) = self.namespaces.get(namespace) {
            return *mode;
        }
        self.namespaces
            .iter()
            .filter_map(|(pattern, mode)| {
                let prefix = pattern.strip_suffix('*')?;
                namespace
                    .starts_with(prefix)
                    .then_some((prefix.len(), *mode))
            })
            .max_by_key(|(len, _)| *len)
            .map_or(Mode::Enforce, |(_, mode)| mode)
    }

    /// What a finding of `rule` at `severity` does in `namespace`.
    pub fn action(&self, rule: &str, severity: Severity, namespace: &str) -> Mode {
        let base = match self.rules.get(rule) {
            Some(mode) => *mode,
            None if severity >= self.deny_at => self.mode,
            None if severity >= self.warn_at => self.mode.min(Mode::Warn),
            None => self.mode.min(Mode::Audit),
        };
        base.min(self.namespace_cap(namespace))
    }
}

/// The `[admission]` part of a commented `palisade.toml` (`palisade init`).
pub fn template() -> String {
    let d = AdmissionSettings::default();
    format!(
        r#"
# palisade serve admission: what each finding does to a request.
[admission]
# What findings at or above deny_at do: enforce (deny), warn, audit (allow, log, count) or off.
# mode = "{mode}"
# deny_at = "{deny_at}"
# Findings from warn_at up to deny_at are warnings; lower ones are audited.
# warn_at = "{warn_at}"
# Namespaces and users whose requests are allowed unjudged (the webhook's own namespace is
# always exempt).
# exempt_namespaces = ["kube-system"]
# exempt_users = []
# exempt_groups = []
# Honour palisade.dev/ignore annotations on the judged object (off: an author cannot exempt
# their own object).
# honor_object_suppressions = {honor}
# On updates, findings the stored object already had are at most warnings.
# grandfather_existing = {grandfather}
# Judge deletions with the policies (Gatekeeper constraints; ValidatingAdmissionPolicies whose
# rules select DELETE). Palisade's own rules never refuse a deletion. `palisade install
# --judge-deletions` sets it and sends deletions under the webhook's failurePolicy.
# judge_deletions = {deletions}
# Judge exec, attach and port-forward into pods (CONNECT) with the policies that select them.
# `palisade install --judge-connect` sets it and sends them to the webhook.
# judge_connect = {connect}
# Deadline per request, and the answer when it passes: "deny" (fail closed) or "allow".
# timeout_ms = {timeout}
# on_timeout = "deny"
# A policy in enforce mode whose evaluation fails (a Rego or CEL error): "deny" or "allow"
# (with a warning).
# on_error = "deny"
# max_in_flight = {in_flight}
# max_body_bytes = {body}

# A mode per rule (id or slug), whatever the finding's severity:
# [admission.rules]
# POD002 = "enforce"
# IMG002 = "off"

# A cap per namespace (exact, or a prefix ending in *):
# [admission.namespaces]
# "sandbox-*" = "warn"
# legacy = "audit"

# Opt-in hardening patches (POST /mutate).
# [admission.mutate]
# enabled = false
# seccomp = true
# drop_all_capabilities = "when-non-root"   # never | when-non-root | always
# no_privilege_escalation = true
# run_as_non_root = "when-user-set"   # never | when-user-set | always
"#,
        mode = d.mode.name(),
        deny_at = d.deny_at,
        warn_at = d.warn_at,
        honor = d.honor_object_suppressions,
        grandfather = d.grandfather_existing,
        deletions = d.judge_deletions,
        connect = d.judge_connect,
        timeout = d.timeout_ms,
        in_flight = d.max_in_flight,
        body = d.max_body_bytes,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn known(name: &str) -> Option<String> {
        match name {
            "POD001" | "privileged-container" => Some("POD001".into()),
            "POD002" => Some("POD002".into()),
            _ => None,
        }
    }

    #[test]
    fn reads_the_table_with_rule_names_resolved() {
        let text = "[admission]\nmode = \"warn\"\n[admission.rules]\nprivileged-container = \"enforce\"\n[admission.namespaces]\n\"dev-*\" = \"audit\"\nprod = \"enforce\"\n";
        let s = AdmissionSettings::parse("p.toml", text, &known).unwrap();
        assert_eq!(s.mode, Mode::Warn);
        assert_eq!(s.rules.get("POD001"), Some(&Mode::Enforce));
        assert_eq!(s.action("POD001", Severity::Low, "prod"), Mode::Enforce);
        assert_eq!(s.action("POD001", Severity::Low, "dev-1"), Mode::Audit);
        assert_eq!(s.action("POD002", Severity::High, "prod"), Mode::Warn);
        assert_eq!(s.action("POD002", Severity::Low, "prod"), Mode::Audit);
    }

    #[test]
    fn on_error_is_read_and_denies_by_default() {
        assert_eq!(AdmissionSettings::default().on_error, OnTimeout::Deny);
        let s = AdmissionSettings::parse("p.toml", "[admission]\non_error = \"allow\"\n", &known)
            .unwrap();
        assert_eq!(s.on_error, OnTimeout::Allow);
    }

    #[test]
    fn severities_decide_without_rule_entries() {
        let s = AdmissionSettings::default();
        assert_eq!(s.action("X", Severity::Critical, "a"), Mode::Enforce);
        assert_eq!(s.action("X", Severity::High, "a"), Mode::Enforce);
        assert_eq!(s.action("X", Severity::Medium, "a"), Mode::Warn);
        assert_eq!(s.action("X", Severity::Info, "a"), Mode::Audit);
    }

    #[test]
    fn errors_name_the_line() {
        let e = AdmissionSettings::parse(
            "p.toml",
            "[rules]\n[admission.rules]\nNOPE = \"enforce\"\n",
            &known,
        )
        .unwrap_err()
        .to_string();
        assert!(e.starts_with("p.toml:3:"), "{e}");
        let e = AdmissionSettings::parse("p.toml", "[admission]\nmode = \"block\"\n", &known)
            .unwrap_err()
            .to_string();
        assert!(e.starts_with("p.toml:2:"), "{e}");
        let e = AdmissionSettings::parse("p.toml", "[admission]\ntimeout_ms = 0\n", &known)
            .unwrap_err()
            .to_string();
        assert!(e.contains("timeout_ms"), "{e}");
        let e = AdmissionSettings::parse(
            "p.toml",
            "[admission.namespaces]\n\"a*b\" = \"off\"\n",
            &known,
        )
        .unwrap_err()
        .to_string();
        assert!(e.starts_with("p.toml:2:"), "{e}");
    }

    #[test]
    fn the_template_reads_back_as_the_defaults() {
        let text: String = template()
            .lines()
            .map(|l| l.strip_prefix("# ").unwrap_or(l))
            .filter(|l| l.starts_with('[') || l.contains(" = "))
            .filter(|l| !l.starts_with("POD") && !l.starts_with("IMG"))
            .filter(|l| !l.starts_with("\"sandbox") && !l.starts_with("legacy"))
            .map(|l| l.split("   #").next().unwrap_or(l).to_string() + "\n")
            .collect();
        let s = AdmissionSettings::parse("t.toml", &text, &known).unwrap();
        assert_eq!(s.mode, Mode::Enforce);
        assert_eq!(s.timeout_ms, 3000);
        assert_eq!(
            s.mutate.drop_all_capabilities,
            DropAllCapabilities::WhenNonRoot
        );
    }

    /// Dropping every capability is by default only for containers that cannot run as root;
    /// the setting's earlier boolean form still reads (`true` was every container).
    #[test]
    fn drop_all_capabilities_reads_names_and_the_old_flags() {
        assert_eq!(
            AdmissionSettings::default().mutate.drop_all_capabilities,
            DropAllCapabilities::WhenNonRoot
        );
        for (written, read) in [
            ("\"never\"", DropAllCapabilities::Never),
            ("\"when-non-root\"", DropAllCapabilities::WhenNonRoot),
            ("\"always\"", DropAllCapabilities::Always),
            ("false", DropAllCapabilities::Never),
            ("true", DropAllCapabilities::Always),
        ] {
            let text = format!("[admission.mutate]\ndrop_all_capabilities = {written}\n");
            let s = AdmissionSettings::parse("p.toml", &text, &known).unwrap();
            assert_eq!(s.mutate.drop_all_capabilities, read, "{written}");
        }
        for wrong in ["\"all\"", "1"] {
            let text = format!("[admission.mutate]\ndrop_all_capabilities = {wrong}\n");
            let e = AdmissionSettings::parse("p.toml", &text, &known)
                .unwrap_err()
                .to_string();
            assert!(
                e.starts_with("p.toml:2:") && e.contains("when-non-root"),
                "{e}"
            );
        }
    }
}
