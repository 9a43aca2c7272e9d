//! A ConstraintTemplate's Rego, compiled once with regorus and evaluated per object under
//! Gatekeeper's input contract: `input.review` (an AdmissionRequest), `input.parameters`
//! (the constraint's), and `data.inventory` (the synced objects:
//! `cluster[apiVersion][kind][name]`, `namespace[ns][apiVersion][kind][name]`).
//!
//! Templates are Rego v0 unless their source says `version: v1`; a module written for the
//! other syntax is retried with it, so both work as Gatekeeper accepts them.

use serde_json::{Map, Value, json};

use crate::gatekeeper::{PolicyError, Template};

/// One violation: its message and details.
#[derive(Debug, Clone, PartialEq)]
pub struct Violation {
    pub msg: String,
    pub details: Value,
}

/// A compiled template.
#[derive(Clone)]
pub struct RegoTemplate {
    engine: regorus::Engine,
    query: String,
    pub name: String,
}

impl std::fmt::Debug for RegoTemplate {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RegoTemplate")
            .field("name", &self.name)
            .field("query", &self.query)
            .finish()
    }
}

fn compile(template: &Template, v0: bool) -> Result<(regorus::Engine, String), String> {
    let mut engine = regorus::Engine::new();
    engine.set_rego_v0(v0);
    let package = engine
        .add_policy(format!("{}.rego", template.name), template.rego.clone())
        .map_err(|e| e.to_string())?;
    for (i, lib) in template.libs.iter().enumerate() {
        engine
            .add_policy(format!("{}-lib{i}.rego", template.name), lib.clone())
            .map_err(|e| e.to_string())?;
    }
    Ok((engine, package))
}

/// The `data.inventory` of a run without cluster objects, loaded in every compiled engine.
fn empty_inventory() -> Value {
    json!({"cluster": {}, "namespace": {}})
}

/// The engine with the empty inventory loaded and its modules analysed: regorus analyses
/// (schedules, hoists) on the first evaluation after policies or data change, so doing it
/// once here keeps it out of every clone's evaluation. A query that names no rule analyses
/// without evaluating any (a policy may be arbitrarily slow, even without input); a problem
/// is left for evaluation to report.
fn prepared(mut engine: regorus::Engine) -> regorus::Engine {
    let _ = engine.add_data(regorus::Value::from(
        json!({"inventory": empty_inventory()}),
    ));
    let _ = engine.eval_query("true".to_string(), false);
    engine
}

impl RegoTemplate {
    pub fn compile(template: &Template) -> Result<RegoTemplate, PolicyError> {
        let first = compile(template, !template.rego_v1);
        let (engine, package) = match first {
            Ok(compiled) => compiled,
            Err(first_error) => {
                compile(template, template.rego_v1).map_err(|_| PolicyError::Rego {
                    template: template.name.clone(),
                    message: first_error,
                })?
            }
        };
        let query = format!("{package}.violation");
        let engine = prepared(engine);
        Ok(RegoTemplate {
            engine,
            query,
            name: template.name.clone(),
        })
    }

    /// The violations for one review.
    pub fn violations(
        &self,
        review: &Value,
        parameters: &Value,
        inventory: &Value,
    ) -> Result<Vec<Violation>, PolicyError> {
        let error = |message: String| PolicyError::Rego {
            template: self.name.clone(),
            message,
        };
        let mut engine = self.engine.clone();
        let input = json!({"review": review, "parameters": parameters});
        engine.set_input(regorus::Value::from(input));
        // The empty inventory is loaded already; adding data makes regorus analyse again, so
        // only a real inventory is added.
        if *inventory != empty_inventory() {
            engine
                .add_data(regorus::Value::from(json!({"inventory": inventory})))
                .map_err(|e| error(e.to_string()))?;
        }
        let result = engine
            .eval_rule(self.query.clone())
            .map_err(|e| error(e.to_string()))?;
        let text = result.to_json_str().map_err(|e| error(e.to_string()))?;
        let value: Value = serde_json::from_str(&text).map_err(|e| error(e.to_string()))?;
        let items = match value {
            Value::Array(items) => items,
            Value::Null => Vec::new(),
            Value::Object(map) if map.is_empty() => Vec::new(),
            other => return Err(error(format!("violation is not a set: {other}"))),
        };
        Ok(items
            .into_iter()
            .map(|v| Violation {
                msg: v
                    .get("msg")
                    .and_then(Value::as_str)
                    .unwrap_or("")
                    .to_string(),
                details: v.get("details").cloned().unwrap_or(Value::Null),
            })
            .collect())
    }
}

/// The AdmissionRequest of an inventory object: the request it arrived in at admission (with
/// the object as judged), else one made for it (`review_of`).
pub fn review_in(object: &palisade_inventory::Object) -> Value {
    match &object.request {
        Some(request) => {
            let mut review = Value::clone(request);
            if let Some(map) = review.as_object_mut() {
                map.insert("object".into(), object.value.clone());
            }
            review
        }
        None => review_of(&object.value),
    }
}

/// The AdmissionRequest Gatekeeper gives for an object: an AdmissionReview's request as it
/// is, or a CREATE of the object.
pub fn review_of(object: &Value) -> Value {
    if object.get("kind").and_then(Value::as_str) == Some("AdmissionReview")
        && let Some(request) = object.get("request")
    {
        let mut request = request.clone();
        if request.get("kind").is_none()
            && let Some(obj) = request.get("object").or_else(|| request.get("oldObject"))
        {
            request["kind"] = gvk(obj);
        }
        return request;
    }
    let metadata = object.get("metadata").cloned().unwrap_or(Value::Null);
    let mut review = json!({
        "kind": gvk(object),
        "operation": "CREATE",
        "object": object,
        "name": metadata.get("name").cloned().unwrap_or(Value::Null),
        "userInfo": {"username": "palisade", "groups": ["system:authenticated"]},
        "dryRun": false,
    });
    if let Some(ns) = metadata.get("namespace") {
        review["namespace"] = ns.clone();
    }
    review
}

fn gvk(object: &Value) -> Value {
    let api_version = object
        .get("apiVersion")
        .and_then(Value::as_str)
        .unwrap_or("");
    let (group, version) = api_version.rsplit_once('/').unwrap_or(("", api_version));
    json!({
        "group": group,
        "version": version,
        "kind": object.get("kind").cloned().unwrap_or(Value::Null),
    })
}

/// The object under `key` of `map`, made (or replacing a non-object) when needed.
fn child<'m>(map: &'m mut Map<String, Value>, key: &str) -> &'m mut Map<String, Value> {
    let entry = map
        .entry(key.to_string())
        .or_insert_with(|| Value::Object(Map::new()));
    if !entry.is_object() {
        *entry = Value::Object(Map::new());
    }
    match entry {
        Value::Object(map) => map,
        _ => unreachable!("made an object above"),
    }
}

/// `data.inventory` from objects, as Gatekeeper's sync makes it.
pub fn inventory_of<'v>(objects: impl Iterator<Item = &'v Value>) -> Value {
    let mut cluster = Map::new();
    let mut namespaced = Map::new();
    for object in objects {
        let text = |pointer: &str| {
            object
                .pointer(pointer)
                .and_then(Value::as_str)
                .unwrap_or("")
        };
        let (api_version, kind, name) =
            (text("/apiVersion"), text("/kind"), text("/metadata/name"));
        let root = match object
            .pointer("/metadata/namespace")
            .and_then(Value::as_str)
        {
            Some(ns) => child(&mut namespaced, ns),
            None => &mut cluster,
        };
        child(child(root, api_version), kind).insert(name.to_string(), object.clone());
    }
    json!({"cluster": cluster, "namespace": namespaced})
}

#[cfg(test)]
mod send_sync {
    fn assert_send_sync<T: Send + Sync>() {}

    #[test]
    fn compiled_templates_can_be_shared_across_threads() {
        assert_send_sync::<super::RegoTemplate>();
    }
}
