//! How much a namespace matters to the business: the `palisade.dev/criticality` label (or,
//! where labels are governed by others, the annotation) on the Namespace, one of `low`,
//! `medium`, `high` or `critical`, or the `[criticality]` table of `palisade.toml`, which
//! names namespaces or glob patterns and wins over the Namespace ([`Configured`]). Audit alerts
//! carry it; the risk of an attack path is weighed by it (`palisade rbac fixes`).

use serde::Serialize;
use serde_json::Value;

/// The label (or annotation) that says how critical a namespace is.
pub const KEY: &str = "palisade.dev/criticality";

/// A namespace's criticality, least first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Criticality {
    Low,
    Medium,
    High,
    Critical,
}

impl Criticality {
    /// The levels, as written.
    pub const NAMES: &[&str] = &["low", "medium", "high", "critical"];

    /// `low`, `medium`, `high` or `critical` (any case).
    pub fn parse(text: &str) -> Option<Criticality> {
        let text = text.trim();
        let levels = [
            Criticality::Low,
            Criticality::Medium,
            Criticality::High,
            Criticality::Critical,
        ];
        Self::NAMES
            .iter()
            .position(|name| name.eq_ignore_ascii_case(text))
            .map(|i| levels[i])
    }

    /// `low`, `medium`, `high` or `critical`.
    pub fn name(self) -> &'static str {
        Self::NAMES[self as usize]
    }

    /// 1 (low) to 4 (critical), for weighing.
    pub fn weight(self) -> u32 {
        self as u32 + 1
    }
}

/// What a Namespace object says of its criticality, as written: the label, else the
/// annotation.
pub fn declared(namespace: &Value) -> Option<&str> {
    let metadata = namespace.get("metadata")?;
    ["labels", "annotations"].iter().find_map(|field| {
        metadata
            .get(field)
            .and_then(|m| m.get(KEY))
            .and_then(Value::as_str)
    })
}

/// The criticality a Namespace object declares: `None` when it declares none, `Err` with the
/// text when it is not a level.
pub fn of_namespace(namespace: &Value) -> Option<Result<Criticality, String>> {
    declared(namespace).map(|text| Criticality::parse(text).ok_or_else(|| text.to_string()))
}

/// The `[criticality]` table of a `palisade.toml`.
#[derive(Debug, Default, serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct Section {
    /// A level for each namespace named, or matching a glob pattern (`payments-*`).
    #[serde(default)]
    namespaces: std::collections::BTreeMap<String, String>,
}

/// Namespaces' criticality as a configuration file sets it (`[criticality]` of
/// `palisade.toml`): for a security team that does not own the Namespaces' labels, or judges
/// manifests that hold no Namespace. It wins over what a Namespace declares of itself: the
/// namespace's owners may not lower what the security team rates.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Configured {
    /// Exact names, and glob patterns (`*`, `?`) most specific first.
    exact: std::collections::HashMap<String, Criticality>,
    patterns: Vec<(String, Criticality)>,
}

impl Configured {
    /// Reads the `[criticality]` table of a `palisade.toml`'s `text` (none: nothing set). A
    /// level that is none of the four is an error at its line.
    pub fn parse(
        path: &str,
        text: &str,
    ) -> Result<Configured, palisade_core::config_section::SettingsError> {
        use palisade_core::config_section::{SettingsError, line_of, read};
        let invalid = |line: usize, message: String| SettingsError::Invalid {
            path: path.to_string(),
            line,
            table: "criticality",
            message,
        };
        let Some(section) =
            read::<Section>(text, "criticality").map_err(|e| invalid(e.line, e.message))?
        else {
            return Ok(Configured::default());
        };
        let mut configured = Configured::default();
        for (namespace, level) in section.namespaces {
            let Some(criticality) = Criticality::parse(&level) else {
                return Err(invalid(
                    line_of(text, &namespace),
                    format!(
                        "namespaces.{namespace} is {level:?}; expected low, medium, high or critical"
                    ),
                ));
            };
            match namespace.contains(['*', '?']) {
                true => configured.patterns.push((namespace, criticality)),
                false => {
                    configured.exact.insert(namespace, criticality);
                }
            }
        }
        // The most specific pattern first: the one with the most characters that are not
        // wildcards (`payments-eu-*` before `payments-*`).
        let literal = |pattern: &str| pattern.chars().filter(|c| !matches!(c, '*' | '?')).count();
        configured
            .patterns
            .sort_by(|a, b| literal(&b.0).cmp(&literal(&a.0)).then(a.0.cmp(&b.0)));
        Ok(configured)
    }

    /// Reads a file's `[criticality]` table.
    pub fn load(
        path: &std::path::Path,
    ) -> Result<Configured, palisade_core::config_section::SettingsError> {
        palisade_core::config_section::load(path, Configured::parse)
    }

    /// The level set for `namespace`: by its name, else by the most specific pattern it
    /// matches.
    pub fn of(&self, namespace: &str) -> Option<Criticality> {
        self.exact.get(namespace).copied().or_else(|| {
            self.patterns
                .iter()
                .find(|(pattern, _)| palisade_core::glob::matches(pattern, namespace))
                .map(|(_, level)| *level)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_configuration_names_namespaces_or_patterns_the_most_specific_winning() {
        let text = "[rules]\ndisable = []\n\n[criticality]\nnamespaces = { payments = \"critical\", \"payments-*\" = \"high\", \"payments-eu-*\" = \"Critical\", \"dev-*\" = \"low\" }\n";
        let configured = Configured::parse("palisade.toml", text).unwrap();
        assert_eq!(configured.of("payments"), Some(Criticality::Critical));
        assert_eq!(configured.of("payments-us"), Some(Criticality::High));
        assert_eq!(configured.of("payments-eu-1"), Some(Criticality::Critical));
        assert_eq!(configured.of("dev-alice"), Some(Criticality::Low));
        assert_eq!(configured.of("web"), None);
        assert_eq!(
            Configured::parse("palisade.toml", "[rules]\n").unwrap(),
            Configured::default()
        );
        let wrong = "[criticality]\nnamespaces = { payments = \"crit\" }\n";
        assert_eq!(
            Configured::parse("palisade.toml", wrong)
                .unwrap_err()
                .to_string(),
            "palisade.toml:2: [criticality]: namespaces.payments is \"crit\"; expected low, medium, high or critical"
        );
        let unknown = "[criticality]\nnamespace = {}\n";
        assert!(
            Configured::parse("palisade.toml", unknown)
                .unwrap_err()
                .to_string()
                .contains("unknown field `namespace`")
        );
    }

    #[test]
    fn the_label_wins_over_the_annotation_and_a_wrong_level_is_told() {
        let both = json!({"metadata": {"labels": {KEY: "Critical"}, "annotations": {KEY: "low"}}});
        assert_eq!(of_namespace(&both), Some(Ok(Criticality::Critical)));
        let annotated = json!({"metadata": {"annotations": {KEY: "low"}}});
        assert_eq!(of_namespace(&annotated), Some(Ok(Criticality::Low)));
        let typo = json!({"metadata": {"labels": {KEY: "crit"}}});
        assert_eq!(of_namespace(&typo), Some(Err("crit".into())));
        assert_eq!(of_namespace(&json!({"metadata": {}})), None);
        assert_eq!(Criticality::High.weight(), 3);
        assert!(Criticality::Low < Criticality::Critical);
    }
}
