//! A Constraint checked against its CRD's schema, as Gatekeeper (and gator) check it before
//! using it: the constraint kind's fields (`match`, `enforcementAction`, ...) and the
//! parameters against the template's `openAPIV3Schema`. A wrong type, a value outside an
//! `enum`, a missing `required` field or an unknown field is refused, so a typo
//! (`excludedNamespace`, `repos: docker.io` for a list) cannot silently switch a policy off.
//!
//! What CRD schemas hold is read: the structure (`type`, `properties`,
//! `additionalProperties`, `items`, `x-kubernetes-int-or-string`,
//! `x-kubernetes-preserve-unknown-fields`) and the value validations the API server applies
//! (`required`, `enum`, `minimum`/`maximum` with their `exclusive` flags, `multipleOf`,
//! `minLength`/`maxLength` in characters, `pattern`, `minItems`/`maxItems`, `uniqueItems`,
//! `minProperties`/`maxProperties`, `allOf`, `anyOf`, `oneOf` and `not`). Unknown fields are
//! told by the structure alone, as the API server prunes by it: a `properties` inside `anyOf`
//! constrains the fields it names and allows others. `format` and `x-kubernetes-validations`
//! are not checked. A null value is taken as absent, as the API server prunes it.

use palisade_inventory::admissible::kind_of;
use serde_json::{Value, json};

/// The most problems reported for one constraint.
const MAX_PROBLEMS: usize = 5;

/// The deepest a value is followed into its schema.
const MAX_DEPTH: usize = 64;

/// The problems of `value` under `schema` (at most [`MAX_PROBLEMS`]), each naming its field.
pub fn problems(value: &Value, schema: &Value) -> Vec<String> {
    let mut found = Vec::new();
    let mut at = At {
        path: String::new(),
        depth: 0,
        structural: true,
    };
    check(value, schema, &mut at, &mut found);
    found
}

/// Where the walk is: the field's path, how deep, and whether the schema is the structure
/// (which tells unknown fields) or a value validation inside `allOf`/`anyOf`/`oneOf`/`not`.
struct At {
    path: String,
    depth: usize,
    structural: bool,
}

impl At {
    /// `f` at the field `step` (`.name` or `[i]`) one level down.
    fn down(&mut self, step: &str, f: impl FnOnce(&mut At)) {
        let length = self.path.len();
        if !self.path.is_empty() && !step.starts_with('[') {
            self.path.push('.');
        }
        self.path.push_str(step);
        self.depth += 1;
        f(self);
        self.depth -= 1;
        self.path.truncate(length);
    }
}

fn check(value: &Value, schema: &Value, at: &mut At, found: &mut Vec<String>) {
    if found.len() >= MAX_PROBLEMS || at.depth > MAX_DEPTH || value.is_null() {
        return;
    }
    let path = at.path.clone();
    let path = path.as_str();
    let report = |found: &mut Vec<String>, path: &str, message: String| {
        let at = if path.is_empty() { "the object" } else { path };
        report_whole(found, format!("{at}: {message}"));
    };
    if let Some(expected) = schema.get("type").and_then(Value::as_str)
        && !has_type(value, expected, schema)
    {
        return report(
            found,
            path,
            format!("must be {}, not {}", article(expected), kind_of(value)),
        );
    }
    if let Some(allowed) = schema.get("enum").and_then(Value::as_array)
        && !allowed.contains(value)
    {
        let listed: Vec<String> = allowed.iter().map(Value::to_string).collect();
        return report(
            found,
            path,
            format!("{value} is not one of {}", listed.join(", ")),
        );
    }
    if let Some(problem) = value_problem(value, schema) {
        return report(found, path, problem);
    }
    if let Some(problem) = junctor_problem(value, schema, at) {
        report_whole(found, problem);
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
                    report(found, path, format!("{key} is required"));
                }
            }
            let properties = schema.get("properties").and_then(Value::as_object);
            let additional = schema.get("additionalProperties");
            let preserve = schema
                .get("x-kubernetes-preserve-unknown-fields")
                .and_then(Value::as_bool)
                .unwrap_or(false);
            for (key, item) in map.iter().filter(|(_, item)| !item.is_null()) {
                at.down(key, |at| {
                    match (properties.and_then(|p| p.get(key)), additional) {
                        (Some(field), _) => check(item, field, at, found),
                        (None, Some(field @ Value::Object(_))) => check(item, field, at, found),
                        (None, Some(Value::Bool(true))) => {}
                        _ if preserve || is_open(schema) || !at.structural => {}
                        _ => report_whole(found, format!("{}: unknown field", at.path)),
                    }
                });
            }
        }
        Value::Array(items) => {
            if let Some(item_schema) = schema.get("items").filter(|s| s.is_object()) {
                for (i, item) in items.iter().enumerate() {
                    at.down(&format!("[{i}]"), |at| check(item, item_schema, at, found));
                }
            }
        }
        _ => {}
    }
}

/// Adds a problem that names its field itself, while fewer than [`MAX_PROBLEMS`] are found.
fn report_whole(found: &mut Vec<String>, problem: String) {
    if found.len() < MAX_PROBLEMS {
        found.push(problem);
    }
}

/// The first value validation `value` fails (bounds, lengths, pattern, counts).
fn value_problem(value: &Value, schema: &Value) -> Option<String> {
    let bound = |key: &str| schema.get(key).and_then(Value::as_f64);
    let flag = |key: &str| schema.get(key).and_then(Value::as_bool).unwrap_or(false);
    let count = |key: &str| schema.get(key).and_then(Value::as_u64);
    match value {
        Value::Number(n) => {
            let x = n.as_f64()?;
            if let Some(min) = bound("minimum") {
                let exclusive = flag("exclusiveMinimum");
                if x < min || (exclusive && x == min) {
                    let than = if exclusive { "more than" } else { "at least" };
                    return Some(format!("must be {than} {min}, not {n}"));
                }
            }
            if let Some(max) = bound("maximum") {
                let exclusive = flag("exclusiveMaximum");
                if x > max || (exclusive && x == max) {
                    let than = if exclusive { "less than" } else { "at most" };
                    return Some(format!("must be {than} {max}, not {n}"));
                }
            }
            if let Some(step) = bound("multipleOf").filter(|s| *s > 0.0)
                && (x / step).fract() != 0.0
            {
                return Some(format!("must be a multiple of {step}, not {n}"));
            }
            None
        }
        Value::String(text) => {
            let length = text.chars().count() as u64;
            if let Some(min) = count("minLength").filter(|min| length < *min) {
                return Some(format!("must be at least {min} characters long"));
            }
            if let Some(max) = count("maxLength").filter(|max| length > *max) {
                return Some(format!("must be at most {max} characters long"));
            }
            let pattern = schema.get("pattern").and_then(Value::as_str)?;
            match regex::Regex::new(pattern) {
                Ok(re) if re.is_match(text) => None,
                Ok(_) => Some(format!("{value} does not match the pattern `{pattern}`")),
                Err(_) => Some(format!(
                    "the schema's pattern `{pattern}` is not a valid regular expression"
                )),
            }
        }
        Value::Array(items) => {
            let length = items.len() as u64;
            if let Some(min) = count("minItems").filter(|min| length < *min) {
                return Some(format!("must have at least {min} items, not {length}"));
            }
            if let Some(max) = count("maxItems").filter(|max| length > *max) {
                return Some(format!("must have at most {max} items, not {length}"));
            }
            if flag("uniqueItems")
                && let Some(i) = (1..items.len()).find(|&i| items[..i].contains(&items[i]))
            {
                return Some(format!("item {i} repeats {}", items[i]));
            }
            None
        }
        Value::Object(map) => {
            let length = map.values().filter(|v| !v.is_null()).count() as u64;
            if let Some(min) = count("minProperties").filter(|min| length < *min) {
                return Some(format!("must have at least {min} fields, not {length}"));
            }
            if let Some(max) = count("maxProperties").filter(|max| length > *max) {
                return Some(format!("must have at most {max} fields, not {length}"));
            }
            None
        }
        _ => None,
    }
}

/// What `allOf`, `anyOf`, `oneOf` and `not` say of `value`, as one problem naming its field:
/// each branch is checked as a value validation (its `properties` allow other fields).
fn junctor_problem(value: &Value, schema: &Value, at: &mut At) -> Option<String> {
    let branches = |key: &str| {
        schema
            .get(key)
            .and_then(Value::as_array)
            .map(Vec::as_slice)
            .unwrap_or_default()
    };
    let path = if at.path.is_empty() {
        "the object".to_string()
    } else {
        at.path.clone()
    };
    let mut problems_under = |branch: &Value| {
        let structural = std::mem::replace(&mut at.structural, false);
        let mut found = Vec::new();
        check(value, branch, at, &mut found);
        at.structural = structural;
        found
    };
    // A branch's problems name their own fields.
    for branch in branches("allOf") {
        if let Some(first) = problems_under(branch).into_iter().next() {
            return Some(first);
        }
    }
    let any = branches("anyOf");
    if !any.is_empty() {
        let failed: Vec<Vec<String>> = any.iter().map(&mut problems_under).collect();
        if failed.iter().all(|f| !f.is_empty()) {
            let first = failed
                .iter()
                .find_map(|f| f.first())
                .cloned()
                .unwrap_or_default();
            return Some(format!(
                "{path}: matches none of the {} schemas of anyOf (the first: {first})",
                any.len()
            ));
        }
    }
    let one = branches("oneOf");
    if !one.is_empty() {
        let matched = one.iter().filter(|b| problems_under(b).is_empty()).count();
        if matched != 1 {
            return Some(format!(
                "{path}: matches {matched} of the {} schemas of oneOf, not exactly one",
                one.len()
            ));
        }
    }
    if let Some(branch) = schema.get("not").filter(|b| b.is_object())
        && problems_under(branch).is_empty()
    {
        return Some(format!("{path}: matches the schema under `not`"));
    }
    None
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

    /// The value validations the API server applies to a constraint's parameters.
    #[test]
    fn bounds_lengths_patterns_and_counts_are_checked() {
        let schema = json!({"type": "object", "properties": {
            "replicas": {"type": "integer", "minimum": 1, "maximum": 10},
            "ratio": {"type": "number", "minimum": 0, "exclusiveMinimum": true, "multipleOf": 0.5},
            "prefix": {"type": "string", "minLength": 2, "maxLength": 4, "pattern": "^[^/]+/$"},
            "repos": {"type": "array", "minItems": 1, "maxItems": 2, "uniqueItems": true,
                "items": {"type": "string"}},
            "labels": {"type": "object", "minProperties": 1,
                "additionalProperties": {"type": "string"}}}});
        let good = json!({"replicas": 10, "ratio": 1.5, "prefix": "éé/", "repos": ["a"],
            "labels": {"a": "b"}});
        assert_eq!(problems(&good, &schema), Vec::<String>::new());
        let bad = json!({"replicas": 0, "ratio": 0, "prefix": "ab", "repos": [], "labels": {}});
        assert_eq!(
            problems(&bad, &schema),
            [
                "replicas: must be at least 1, not 0",
                "ratio: must be more than 0, not 0",
                "prefix: \"ab\" does not match the pattern `^[^/]+/$`",
                "repos: must have at least 1 items, not 0",
                "labels: must have at least 1 fields, not 0",
            ]
        );
        let bad =
            json!({"replicas": 11, "ratio": 0.7, "prefix": "abcd/", "repos": ["a", "b", "c"]});
        assert_eq!(
            problems(&bad, &schema),
            [
                "replicas: must be at most 10, not 11",
                "ratio: must be a multiple of 0.5, not 0.7",
                "prefix: must be at most 4 characters long",
                "repos: must have at most 2 items, not 3",
            ]
        );
        assert_eq!(
            problems(&json!({"repos": ["a", "a"], "prefix": "a"}), &schema),
            [
                "repos: item 1 repeats \"a\"",
                "prefix: must be at least 2 characters long"
            ]
        );
    }

    /// `allOf`, `anyOf`, `oneOf` and `not` as value validations: a branch's `properties`
    /// constrain the fields it names and leave the others to the structure.
    #[test]
    fn junctors_are_value_validations() {
        let schema = json!({"type": "object",
            "properties": {"cpu": {"type": "string"}, "memory": {"type": "string"},
                "mode": {"type": "string"}},
            "anyOf": [{"required": ["cpu"]}, {"required": ["memory"]}],
            "oneOf": [{"properties": {"mode": {"enum": ["a"]}}},
                      {"properties": {"mode": {"enum": ["b"]}}}],
            "allOf": [{"properties": {"cpu": {"pattern": "^[0-9]+m?$"}}}],
            "not": {"required": ["forbidden"]}});
        assert_eq!(
            problems(&json!({"cpu": "100m", "mode": "a"}), &schema),
            Vec::<String>::new()
        );
        assert_eq!(
            problems(&json!({"mode": "a"}), &schema),
            [
                "the object: matches none of the 2 schemas of anyOf (the first: the object: cpu is required)"
            ]
        );
        assert_eq!(
            problems(&json!({"memory": "1Gi", "mode": "c"}), &schema),
            ["the object: matches 0 of the 2 schemas of oneOf, not exactly one"]
        );
        assert_eq!(
            problems(&json!({"cpu": "lots", "mode": "b"}), &schema),
            ["cpu: \"lots\" does not match the pattern `^[0-9]+m?$`"]
        );
        let mut with_forbidden = json!({"cpu": "1", "mode": "a", "forbidden": "x"});
        assert_eq!(
            problems(&with_forbidden, &schema),
            [
                "the object: matches the schema under `not`",
                "forbidden: unknown field"
            ]
        );
        with_forbidden["forbidden"] = Value::Null;
        assert!(problems(&with_forbidden, &schema).is_empty());
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
