//! Pod Security admission as a namespace declares it: the levels and the labels that choose
//! them, read in one place for the rules and the attack-path graph.

use std::fmt;

use palisade_core::tree::Tree as _;
use serde_json::Value;

/// The label that sets the level Pod Security admission enforces in a namespace.
pub const ENFORCE_LABEL: &str = "pod-security.kubernetes.io/enforce";
/// The label that pins the policy version of the enforced level.
pub const ENFORCE_VERSION_LABEL: &str = "pod-security.kubernetes.io/enforce-version";

/// A Pod Security Standards level.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Level {
    Privileged,
    Baseline,
    Restricted,
}

impl Level {
    /// Parses a `pod-security.kubernetes.io/enforce` label value.
    pub fn parse(text: &str) -> Option<Level> {
        match text {
            "privileged" => Some(Level::Privileged),
            "baseline" => Some(Level::Baseline),
            "restricted" => Some(Level::Restricted),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Level::Privileged => "privileged",
            Level::Baseline => "baseline",
            Level::Restricted => "restricted",
        }
    }

    /// The level a `pss:<level>/<control>` id belongs to.
    pub fn of_control(id: &str) -> Option<Level> {
        Level::parse(id.split('/').next()?)
    }
}

impl fmt::Display for Level {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The value of a Namespace's `enforce` label, as written.
pub fn enforce_label(namespace: &Value) -> Option<&str> {
    namespace
        .at("/metadata/labels")
        .and_then(|labels| labels.get(ENFORCE_LABEL))
        .and_then(Value::as_str)
}

/// The level a Namespace enforces: its `enforce` label when that is a level. Admission
/// rejects a label that is not one, so such a namespace enforces nothing.
pub fn enforced_level(namespace: &Value) -> Option<Level> {
    enforce_label(namespace).and_then(Level::parse)
}

/// What the API server's PodSecurity admission configuration sets for every namespace: the
/// level enforced where a namespace has no `enforce` label (`defaults.enforce`, privileged
/// when unset), its policy version, and the namespaces exempt from enforcement whatever their
/// labels say.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct AdmissionDefaults {
    pub enforce: Option<Level>,
    /// `defaults.enforce-version` as written (`latest`, `v1.30`).
    pub enforce_version: Option<String>,
    pub exempt_namespaces: Vec<String>,
}

/// The PodSecurity admission configuration `config` holds: a `PodSecurityConfiguration`
/// (`pod-security.admission.config.k8s.io`, the file a plugin entry's `path` names), or an
/// `AdmissionConfiguration` whose `PodSecurity` plugin carries it inline (`configuration`);
/// `None` for anything else.
pub fn admission_defaults(config: &Value) -> Option<AdmissionDefaults> {
    let kind = config.get("kind").and_then(Value::as_str)?;
    let configuration = match kind {
        "PodSecurityConfiguration" => config,
        "AdmissionConfiguration" => config
            .get("plugins")
            .and_then(Value::as_array)?
            .iter()
            .find(|p| p.get("name").and_then(Value::as_str) == Some("PodSecurity"))?
            .get("configuration")?,
        _ => return None,
    };
    let text = |pointer: &str| configuration.at(pointer).and_then(Value::as_str);
    Some(AdmissionDefaults {
        enforce: text("/defaults/enforce").and_then(Level::parse),
        enforce_version: text("/defaults/enforce-version").map(str::to_string),
        exempt_namespaces: configuration
            .at("/exemptions/namespaces")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(Value::as_str)
            .map(str::to_string)
            .collect(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn the_admission_configuration_gives_defaults_and_exemptions() {
        let inline = json!({
            "apiVersion": "apiserver.config.k8s.io/v1", "kind": "AdmissionConfiguration",
            "plugins": [
                {"name": "EventRateLimit", "path": "/etc/kubernetes/eventconfig.yaml"},
                {"name": "PodSecurity", "configuration": {
                    "apiVersion": "pod-security.admission.config.k8s.io/v1",
                    "kind": "PodSecurityConfiguration",
                    "defaults": {"enforce": "baseline", "enforce-version": "latest"},
                    "exemptions": {"namespaces": ["ci-runners"], "usernames": []}
                }}
            ]
        });
        assert_eq!(
            admission_defaults(&inline),
            Some(AdmissionDefaults {
                enforce: Some(Level::Baseline),
                enforce_version: Some("latest".into()),
                exempt_namespaces: vec!["ci-runners".into()],
            })
        );
        let file = json!({"kind": "PodSecurityConfiguration", "defaults": {"audit": "restricted"}});
        assert_eq!(
            admission_defaults(&file),
            Some(AdmissionDefaults::default())
        );
        // A plugin given by `path` carries nothing here; other kinds say nothing.
        let by_path = json!({"kind": "AdmissionConfiguration",
                             "plugins": [{"name": "PodSecurity", "path": "/etc/pss.yaml"}]});
        assert_eq!(admission_defaults(&by_path), None);
        assert_eq!(admission_defaults(&json!({"kind": "Namespace"})), None);
    }

    #[test]
    fn the_enforce_label_decides_the_level() {
        let ns = |labels: Value| json!({"kind": "Namespace", "metadata": {"name": "a", "labels": labels}});
        assert_eq!(
            enforced_level(&ns(json!({ENFORCE_LABEL: "restricted"}))),
            Some(Level::Restricted)
        );
        assert_eq!(
            enforced_level(&ns(json!({ENFORCE_LABEL: "Restricted"}))),
            None
        );
        assert_eq!(enforced_level(&ns(json!({}))), None);
        assert!(Level::Baseline < Level::Restricted);
    }
}
