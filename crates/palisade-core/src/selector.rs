//! Kubernetes label selectors (`matchLabels` and `matchExpressions`, and the plain map form
//! Services use), evaluated as the API server evaluates them.

use serde_json::{Map, Value};

/// The label the API server sets on every namespace (Kubernetes 1.21 and later): its name.
/// Manifests rarely write it, yet selectors read it.
pub const NAMESPACE_NAME_LABEL: &str = "kubernetes.io/metadata.name";

/// What a `namespaceSelector` says of a namespace whose labels may not be known.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NamespaceSelection {
    Selected,
    NotSelected,
    /// The namespace is not among the objects read and the selector reads labels other
    /// than its name: only the cluster knows.
    Unknown,
}

/// Whether `selector` selects namespace `name`, whose labels are `labels` when the namespace
/// was read (the name label is taken as set, as the API server sets it) or `None` when it was
/// not (then only a selector that reads nothing but the name label can be decided).
pub fn namespace_selected(
    selector: &Value,
    name: &str,
    labels: Option<&Map<String, Value>>,
) -> NamespaceSelection {
    let named = |labels: Option<&Map<String, Value>>| {
        let mut labels = labels.cloned().unwrap_or_default();
        labels
            .entry(NAMESPACE_NAME_LABEL)
            .or_insert_with(|| Value::String(name.to_string()));
        labels
    };
    if labels.is_none()
        && label_selector_keys(selector)
            .iter()
            .any(|key| key != NAMESPACE_NAME_LABEL)
    {
        return NamespaceSelection::Unknown;
    }
    let selected = match labels {
        Some(labels) if labels.contains_key(NAMESPACE_NAME_LABEL) => {
            label_selector_matches(selector, Some(labels))
        }
        _ => label_selector_matches(selector, Some(&named(labels))),
    };
    if selected {
        NamespaceSelection::Selected
    } else {
        NamespaceSelection::NotSelected
    }
}

/// Whether `selector` (a `LabelSelector` object) selects every object whatever its labels:
/// null, or with no `matchLabels` and no `matchExpressions` (or empty ones).
pub fn selects_everything(selector: &Value) -> bool {
    let empty = |key: &str| {
        selector.get(key).is_none_or(|v| {
            v.is_null()
                || v.as_object().is_some_and(Map::is_empty)
                || v.as_array().is_some_and(Vec::is_empty)
        })
    };
    selector.is_null()
        || (selector.is_object() && empty("matchLabels") && empty("matchExpressions"))
}

/// Whether `selector` (a `LabelSelector` object) selects an object with `labels`. An empty
/// selector selects everything; a malformed one (unknown operator, wrong types) selects
/// nothing, as the API server would have rejected it.
pub fn label_selector_matches(selector: &Value, labels: Option<&Map<String, Value>>) -> bool {
    let Some(selector) = selector.as_object() else {
        return selector.is_null();
    };
    let label = |key: &str| labels.and_then(|l| l.get(key)).and_then(Value::as_str);
    if let Some(match_labels) = selector.get("matchLabels").filter(|v| !v.is_null()) {
        let Some(match_labels) = match_labels.as_object() else {
            return false;
        };
        for (key, want) in match_labels {
            if label(key) != want.as_str() {
                return false;
            }
        }
    }
    if let Some(expressions) = selector.get("matchExpressions").filter(|v| !v.is_null()) {
        let Some(expressions) = expressions.as_array() else {
            return false;
        };
        for expression in expressions {
            let key = expression.get("key").and_then(Value::as_str).unwrap_or("");
            let values: Vec<&str> = expression
                .get("values")
                .and_then(Value::as_array)
                .map(|v| v.iter().filter_map(Value::as_str).collect())
                .unwrap_or_default();
            let ok = match expression.get("operator").and_then(Value::as_str) {
                Some("In") => label(key).is_some_and(|v| values.contains(&v)),
                Some("NotIn") => label(key).is_none_or(|v| !values.contains(&v)),
                Some("Exists") => label(key).is_some(),
                Some("DoesNotExist") => label(key).is_none(),
                _ => false,
            };
            if !ok {
                return false;
            }
        }
    }
    true
}

/// The label keys a `LabelSelector` reads (its `matchLabels` keys and its expressions' keys):
/// two label sets that agree on these are selected alike.
pub fn label_selector_keys(selector: &Value) -> Vec<String> {
    let match_labels = selector
        .get("matchLabels")
        .and_then(Value::as_object)
        .into_iter()
        .flat_map(|labels| labels.keys().cloned());
    let expressions = selector
        .get("matchExpressions")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|e| e.get("key").and_then(Value::as_str).map(String::from));
    match_labels.chain(expressions).collect()
}

/// Whether a map selector (`Service.spec.selector`) selects `labels`. An empty map selects
/// nothing for Services, so callers decide what empty means; this only compares pairs.
pub fn map_selector_matches(
    selector: &Map<String, Value>,
    labels: Option<&Map<String, Value>>,
) -> bool {
    selector.iter().all(|(key, want)| {
        labels
            .and_then(|l| l.get(key))
            .and_then(Value::as_str)
            .is_some_and(|v| Some(v) == want.as_str())
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn labels(v: Value) -> Map<String, Value> {
        v.as_object().unwrap().clone()
    }

    /// A namespace read is judged on its labels and the name label the API server sets; one
    /// not read only by a selector that reads nothing but its name.
    #[test]
    fn namespace_selection_knows_the_name_label_and_what_it_cannot_know() {
        use NamespaceSelection::*;
        let prod = json!({"matchLabels": {"env": "prod"}});
        let not_system = json!({"matchExpressions": [{"key": NAMESPACE_NAME_LABEL, "operator": "NotIn", "values": ["kube-system"]}]});
        let by_name = json!({"matchLabels": {NAMESPACE_NAME_LABEL: "shop"}});
        let env_prod = labels(json!({"env": "prod"}));
        assert_eq!(namespace_selected(&prod, "shop", Some(&env_prod)), Selected);
        assert_eq!(
            namespace_selected(&prod, "shop", Some(&Map::new())),
            NotSelected
        );
        assert_eq!(namespace_selected(&prod, "shop", None), Unknown);
        assert_eq!(
            namespace_selected(&by_name, "shop", Some(&env_prod)),
            Selected
        );
        assert_eq!(namespace_selected(&by_name, "shop", None), Selected);
        assert_eq!(namespace_selected(&by_name, "web", None), NotSelected);
        assert_eq!(
            namespace_selected(&not_system, "kube-system", None),
            NotSelected
        );
        assert_eq!(namespace_selected(&not_system, "shop", None), Selected);
        assert_eq!(namespace_selected(&json!({}), "shop", None), Selected);
    }

    #[test]
    fn empty_selector_selects_all_and_expressions_combine() {
        let l = labels(json!({"app": "web", "tier": "front"}));
        assert!(label_selector_matches(&json!({}), Some(&l)));
        assert!(label_selector_matches(
            &json!({"matchLabels": {"app": "web"}}),
            Some(&l)
        ));
        assert!(!label_selector_matches(
            &json!({"matchLabels": {"app": "db"}}),
            Some(&l)
        ));
        let sel = json!({"matchExpressions": [
            {"key": "tier", "operator": "In", "values": ["front", "edge"]},
            {"key": "canary", "operator": "DoesNotExist"}
        ]});
        assert!(label_selector_matches(&sel, Some(&l)));
        let sel =
            json!({"matchExpressions": [{"key": "app", "operator": "NotIn", "values": ["web"]}]});
        assert!(!label_selector_matches(&sel, Some(&l)));
        let sel = json!({"matchExpressions": [{"key": "app", "operator": "Bogus"}]});
        assert!(!label_selector_matches(&sel, Some(&l)));
        assert!(!label_selector_matches(
            &json!({"matchLabels": {"app": "web"}}),
            None
        ));
    }

    #[test]
    fn map_selectors_compare_pairs() {
        let l = labels(json!({"app": "web"}));
        assert!(map_selector_matches(
            &labels(json!({"app": "web"})),
            Some(&l)
        ));
        assert!(!map_selector_matches(
            &labels(json!({"app": "web", "x": "y"})),
            Some(&l)
        ));
    }

    fn key() -> impl proptest::strategy::Strategy<Value = String> {
        proptest::sample::select(vec!["app", "role", "tier", "mesh"]).prop_map(String::from)
    }

    fn label_map() -> impl proptest::strategy::Strategy<Value = Map<String, Value>> {
        proptest::collection::btree_map(key(), proptest::sample::select(vec!["a", "b"]), 0..4)
            .prop_map(|m| m.into_iter().map(|(k, v)| (k, json!(v))).collect())
    }

    fn selector() -> impl proptest::strategy::Strategy<Value = Value> {
        let expression = (
            key(),
            proptest::sample::select(vec!["In", "NotIn", "Exists", "DoesNotExist"]),
            proptest::collection::vec(proptest::sample::select(vec!["a", "b"]), 0..2),
        )
            .prop_map(|(key, operator, values)| json!({"key": key, "operator": operator, "values": values}));
        (
            proptest::option::of(label_map()),
            proptest::collection::vec(expression, 0..3),
        )
            .prop_map(|(labels, expressions)| {
                let mut selector = json!({"matchExpressions": expressions});
                if let Some(labels) = labels {
                    selector["matchLabels"] = Value::Object(labels);
                }
                selector
            })
    }

    use proptest::prelude::*;

    proptest! {
        /// Two label sets that agree on the keys a selector reads are selected alike.
        #[test]
        fn a_selector_reads_only_its_keys(
            selector in selector(),
            one in label_map(),
            mut other in label_map(),
        ) {
            for key in label_selector_keys(&selector) {
                match one.get(&key) {
                    Some(value) => other.insert(key, value.clone()),
                    None => other.remove(&key),
                };
            }
            prop_assert_eq!(
                label_selector_matches(&selector, Some(&one)),
                label_selector_matches(&selector, Some(&other))
            );
        }
    }
}
