//! How much a namespace matters to the business: the `palisade.dev/criticality` label (or,
//! where labels are governed by others, the annotation) on the Namespace, one of `low`,
//! `medium`, `high` or `critical`. Audit alerts carry it; the risk of an attack path is
//! weighed by it (`palisade rbac fixes`).

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

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

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
