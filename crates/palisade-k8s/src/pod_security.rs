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

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

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
