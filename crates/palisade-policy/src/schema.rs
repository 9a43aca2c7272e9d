//! A Constraint checked against its CRD's schema, as Gatekeeper (and gator) check it before
//! using it: the constraint kind's fields (`match`, `enforcementAction`, ...) and the
//! parameters against the template's `openAPIV3Schema`. A wrong type, a value outside an
//! `enum`, a missing `required` field or an unknown field is refused, so a typo
//! (`excludedNamespace`, `repos: docker.io` for a list) cannot silently switch a policy off.
//!
//! The subset of OpenAPI v3 that structural CRD schemas use is read: `type`, `properties`,
//! `additionalProperties`, `items`, `required`, `enum`, `nullable`,
//! `x-kubernetes-int-or-string` and `x-kubernetes-preserve-unknown-fields`. Value
//! validations beyond those (`pattern`, `minimum`, `anyOf`, ...) are not checked. A null
//! value is taken as absent, as the API server prunes it.

use palisade_inventory::admissible::kind_of;
use serde_json::{Value, json};

/// The most problems reported for one constraint.
const MAX_PROBLEMS: usize = 5;

/// The deepest a value is followed into its schema.
const MAX_DEPTH: usize = 64;

/// The problems of `value` under `schema` (at most [`MAX_PROBLEMS`]), each naming its field.
pub fn problems(value: &Value, schema: &Value) -> Vec<String> {
    let mut found = Vec::new();
    check(value, schema, &mut String::new(), 0, &mut found);
    found
}

fn check(value: &Value, schema: &Value, path: &mut String, depth: usize, found: &mut Vec<String>) {
    if found.len() >= MAX_PROBLEMS || depth > MAX_DEPTH || value.is_null() {
        return;
    }
    let mut report = |path: &str, message: String| {
        if found.len() < MAX_PROBLEMS {
            let at = if path.is_empty() { "the object" } else { path };
            found.push(format!("{at}: {message}"));
        }
    };
    if let Some(expected) = schema.get("type").and_then(Value::as_str)
        && !has_type(value, expected, schema)
    {
        return report(
            path,
            format!("must be {}, not {}", article(expected), kind_of(value)),
        );
    }
    if let Some(allowed) = schema.get("enum").and_then(Value::as_array)
        && !allowed.contains(value)
    {
        let listed: Vec<String> = allowed.iter().map(Value::to_string).collect();
        return report(path, format!("{value} is not one of {}", listed.join(", ")));
    }
    match value {
        Value::Object(map) => {
            for key in schema
                .get("required")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .filter_map(Value::as_str)
            {
                if map.get(key).is_none_or(Value::is_null) {
                    report(path, format!("{key} is required"));
                }
            }
            let properties = schema.get("properties").and_then(Value::as_object);
            let additional = schema.get("additionalProperties");
            let preserve = schema
                .get("x-kubernetes-preserve-unknown-fields")
                .and_then(Value::as_bool)
                .unwrap_or(false);
            for (key, item) in map.iter().filter(|(_, item)| !item.is_null()) {
                let length = path.len();
                if !path.is_empty() {
                    path.push('.');
                }
                path.push_str(key);
                match (properties.and_then(|p| p.get(key)), additional) {
                    (Some(field), _) => check(item, field, path, depth + 1, found),
                    (None, Some(Value::Object(_))) => check(
                        item,
                        additional.unwrap_or(&Value::Null),
                        path,
                        depth + 1,
                        found,
                    ),
                    (None, Some(Value::Bool(true))) => {}
                    _ if preserve || is_open(schema) => {}
                    _ => {
                        if found.len() < MAX_PROBLEMS {
                            found.push(format!("{path}: unknown field"));
                        }
                    }
                }
                path.truncate(length);
            }
        }
        Value::Array(items) => {
            if let Some(item_schema) = schema.get("items").filter(|s| s.is_object()) {
                for (i, item) in items.iter().enumerate() {
                    let length = path.len();
                    path.push_str(&format!("[{i}]"));
                    check(item, item_schema, path, depth + 1, found);
                    path.truncate(length);
                }
            }
        }
        _ => {}
    }
}

/// A schema that says nothing of an object's fields (no type, properties or
/// additionalProperties): anything is accepted under it, as an empty schema accepts it.
fn is_open(schema: &Value) -> bool {
    ["type", "properties", "additionalProperties"]
        .iter()
        .all(|key| schema.get(key).is_none())
}

fn has_type(value: &Value, expected: &str, schema: &Value) -> bool {
    let int_or_string = schema
        .get("x-kubernetes-int-or-string")
        .and_then(Value::as_bool)
        .unwrap_or(false);
    match value {
        Value::String(_) if int_or_string => true,
        Value::Number(n) if int_or_string => is_integer(n),
        Value::Object(_) => expected == "object",
        Value::Array(_) => expected == "array",
        Value::String(_) => expected == "string",
        Value::Bool(_) => expected == "boolean",
        Value::Number(n) => expected == "number" || (expected == "integer" && is_integer(n)),
        Value::Null => true,
    }
}

fn is_integer(n: &serde_json::Number) -> bool {
    n.is_i64() || n.is_u64() || n.as_f64().is_some_and(|f| f.fract() == 0.0)
}

fn article(kind: &str) -> String {
    match kind {
        "object" => "a map".into(),
        "array" => "a list".into(),
        "integer" => "an integer".into(),
        other => format!("a {other}"),
    }
}

/// A label selector's schema (`labelSelector`, `namespaceSelector`).
fn label_selector() -> Value {
    json!({"type": "object", "properties": {
        "matchLabels": {"type": "object", "additionalProperties": {"type": "string"}},
        "matchExpressions": {"type": "array", "items": {"type": "object",
            "required": ["key", "operator"],
            "properties": {
                "key": {"type": "string"},
                "operator": {"type": "string", "enum": ["In", "NotIn", "Exists", "DoesNotExist"]},
                "values": {"type": "array", "items": {"type": "string"}}}}}}})
}

/// The schema of a constraint kind as Gatekeeper generates its CRD, with `parameters` the
/// template's schema (`None`: the template declares none, and any parameters are kept).
/// A template of `v1beta1` or `v1alpha1`, or with `legacySchema: true`, keeps unknown
/// parameters, as Gatekeeper marks such schemas.
pub fn constraint_schema(parameters: Option<&Value>, legacy: bool) -> Value {
    let strings = json!({"type": "array", "items": {"type": "string"}});
    let parameters = match parameters {
        Some(schema) if legacy => preserving(schema),
        Some(schema) => schema.clone(),
        None => json!({"x-kubernetes-preserve-unknown-fields": true}),
    };
    json!({"type": "object", "properties": {
        "apiVersion": {"type": "string"},
        "kind": {"type": "string"},
        "metadata": {"type": "object", "x-kubernetes-preserve-unknown-fields": true},
        "status": {"type": "object", "x-kubernetes-preserve-unknown-fields": true},
        "spec": {"type": "object", "properties": {
            "enforcementAction": {"type": "string"},
            "scopedEnforcementActions": {"type": "array", "items": {"type": "object",
                "properties": {
                    "action": {"type": "string"},
                    "enforcementPoints": {"type": "array", "items": {"type": "object",
                        "properties": {"name": {"type": "string"}}}}}}},
            "parameters": parameters,
            "match": {"type": "object", "properties": {
                "kinds": {"type": "array", "items": {"type": "object", "properties": {
                    "apiGroups": strings, "kinds": strings}}},
                "scope": {"type": "string", "enum": ["*", "Cluster", "Namespaced"]},
                "namespaces": strings,
                "excludedNamespaces": strings,
                "labelSelector": label_selector(),
                "namespaceSelector": label_selector(),
                "name": {"type": "string"},
                "source": {"type": "string", "enum": ["All", "Original", "Generated"]}}}}}}})
}

/// `schema` with unknown fields kept at every level, as Gatekeeper marks a legacy schema.
fn preserving(schema: &Value) -> Value {
    match schema {
        Value::Object(map) => {
            let mut out: serde_json::Map<String, Value> = map
                .iter()
                .map(|(key, value)| {
                    let value = match key.as_str() {
                        "properties" => Value::Object(
                            value
                                .as_object()
                                .into_iter()
                                .flatten()
                                .map(|(k, v)| (k.clone(), preserving(v)))
                                .collect(),
                        ),
                        "items" | "additionalProperties" => preserving(value),
                        _ => value.clone(),
                    };
                    (key.clone(), value)
                })
                .collect();
            out.insert("x-kubernetes-preserve-unknown-fields".into(), json!(true));
            Value::Object(out)
        }
        other => other.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn repos() -> Value {
        json!({"type": "object", "properties": {
            "repos": {"type": "array", "items": {"type": "string"}},
            "limit": {"type": "integer"},
            "mode": {"type": "string", "enum": ["strict", "loose"]},
            "port": {"x-kubernetes-int-or-string": true}}})
    }

    fn constraint(spec: Value) -> Value {
        json!({"apiVersion": "constraints.gatekeeper.sh/v1beta1", "kind": "K8sAllowedRepos",
            "metadata": {"name": "repos", "labels": {"a": "b"}}, "spec": spec})
    }

    #[test]
    fn a_well_formed_constraint_has_no_problem() {
        let value = constraint(json!({
            "enforcementAction": "warn",
            "match": {"kinds": [{"apiGroups": [""], "kinds": ["Pod"]}],
                "excludedNamespaces": ["kube-*"], "scope": "Namespaced",
                "labelSelector": {"matchExpressions": [{"key": "app", "operator": "Exists"}]}},
            "parameters": {"repos": ["docker.io/"], "limit": 3, "mode": "strict", "port": "http",
                "unused": null}}));
        assert_eq!(
            problems(&value, &constraint_schema(Some(&repos()), false)),
            Vec::<String>::new()
        );
    }

    /// Typos and wrong types that would silently narrow or switch off a policy.
    #[test]
    fn typos_and_wrong_types_are_named() {
        let value = constraint(json!({
            "match": {"excludedNamespace": ["kube-system"], "scope": "Namespace",
                "labelSelector": {"matchExpressions": [{"key": "app", "operator": "exists"}]}},
            "parameters": {"repos": "docker.io/", "limit": 2.5, "port": 80, "repo": ["x"]},
            "enforcement": "deny"}));
        let found = problems(&value, &constraint_schema(Some(&repos()), false));
        // In the order of the object's fields, at most five.
        assert_eq!(
            found,
            [
                "spec.match.excludedNamespace: unknown field",
                "spec.match.scope: \"Namespace\" is not one of \"*\", \"Cluster\", \"Namespaced\"",
                "spec.match.labelSelector.matchExpressions[0].operator: \"exists\" is not one of \"In\", \"NotIn\", \"Exists\", \"DoesNotExist\"",
                "spec.parameters.repos: must be a list, not a string",
                "spec.parameters.limit: must be an integer, not a number",
            ]
        );
        let rest = json!({"parameters": {"port": 80, "repo": ["x"]}, "enforcement": "deny"});
        let found = problems(&constraint(rest), &constraint_schema(Some(&repos()), false));
        assert_eq!(
            found,
            [
                "spec.parameters.repo: unknown field",
                "spec.enforcement: unknown field"
            ]
        );
    }

    /// A legacy schema (v1beta1 templates) keeps unknown parameters but still checks types;
    /// a template without a schema takes any parameters.
    #[test]
    fn legacy_and_missing_schemas_keep_unknown_parameters() {
        let value = constraint(json!({"parameters": {"repo": ["x"], "repos": ["y"]}}));
        assert!(problems(&value, &constraint_schema(Some(&repos()), true)).is_empty());
        assert!(problems(&value, &constraint_schema(None, false)).is_empty());
        let wrong = constraint(json!({"parameters": {"repos": 3}}));
        assert_eq!(
            problems(&wrong, &constraint_schema(Some(&repos()), true)),
            ["spec.parameters.repos: must be a list, not a number"]
        );
    }

    #[test]
    fn required_fields_and_additional_properties_are_checked() {
        let schema = json!({"type": "object", "required": ["labels"], "properties": {
            "labels": {"type": "object", "additionalProperties": {"type": "string"}}}});
        assert_eq!(
            problems(&json!({}), &schema),
            ["the object: labels is required"]
        );
        assert_eq!(
            problems(&json!({"labels": {"a": 1}}), &schema),
            ["labels.a: must be a string, not a number"]
        );
    }
}
