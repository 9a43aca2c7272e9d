//! Hardening for objects a Kustomize overlay renders, written as a strategic-merge patch in
//! the overlay rather than into files it renders from (a base may be shared by other overlays,
//! or fetched from elsewhere): the patch documents ([`patch_document`], [`patch_file`]) and
//! the `patches:` entry that adds them to the overlay's kustomization ([`add_patch`]).
//!
//! A strategic-merge patch names its target by the kind and name the object has in the file
//! it comes from: Kustomize matches a patch against every name an object has had, so the name
//! before any prefix or suffix reaches it in the overlay. Lists of containers are merged by
//! `name`, so each container in the patch is named and carries only its additions. Kustomize
//! knows that merge key only for Kubernetes' own kinds; for a custom resource it would replace
//! the list, which is why callers render the overlay with the patch and compare every object
//! with the original plus its additions before offering it.

use palisade_core::Edit;
use palisade_core::tree::Tree as _;
use palisade_inventory::Limits;
use serde_json::{Map, Value};

use crate::edit::{self, Document, Text};
use crate::hardening::Addition;

/// Lists whose items a strategic-merge patch merges by their `name`.
const NAMED_LISTS: [&str; 3] = ["containers", "initContainers", "ephemeralContainers"];

/// The strategic-merge patch that makes `additions` (pointers into `rendered`, the object as
/// rendered) on the object `identity` names (`apiVersion`, `kind` and `metadata.name` and
/// `namespace`, as the file it comes from writes them).
pub fn patch_document(
    identity: &Value,
    rendered: &Value,
    additions: &[Addition],
) -> Result<Value, String> {
    let mut metadata = Map::new();
    for key in ["name", "namespace"] {
        if let Some(value) = identity
            .at(&format!("/metadata/{key}"))
            .filter(|v| v.is_string())
        {
            metadata.insert(key.to_string(), value.clone());
        }
    }
    if !metadata.contains_key("name") {
        return Err("the object has no name for a patch to target".to_string());
    }
    let mut patch = Map::new();
    for key in ["apiVersion", "kind"] {
        let value = identity
            .get(key)
            .filter(|v| v.is_string())
            .ok_or_else(|| format!("the object has no {key} for a patch to target"))?;
        patch.insert(key.to_string(), value.clone());
    }
    patch.insert("metadata".to_string(), Value::Object(metadata));
    let mut patch = Value::Object(patch);
    for addition in additions {
        let node = descend(&mut patch, rendered, addition)?;
        node.insert(addition.key.clone(), addition.value.clone());
    }
    Ok(patch)
}

/// The mapping of `patch` that stands for `addition.at` in `rendered`, made on the way: a
/// mapping for each key, and for an index into a list of containers, the item with that
/// container's `name`.
fn descend<'p>(
    patch: &'p mut Value,
    rendered: &Value,
    addition: &Addition,
) -> Result<&'p mut Map<String, Value>, String> {
    let mut node = patch;
    let mut source = rendered;
    let mut key: Option<String> = None;
    for segment in addition.at.segments() {
        let segment = segment.as_ref();
        match source {
            Value::Object(map) => {
                source = map
                    .get(segment)
                    .ok_or_else(|| format!("{} is not in the object", addition.at))?;
                let here = node.as_object_mut().ok_or("the patch is not a mapping")?;
                node = here
                    .entry(segment.to_string())
                    .or_insert_with(|| match source {
                        Value::Array(_) => Value::Array(Vec::new()),
                        _ => Value::Object(Map::new()),
                    });
            }
            Value::Array(items) => {
                let name = key
                    .as_deref()
                    .filter(|k| NAMED_LISTS.contains(k))
                    .and_then(|_| segment.parse::<usize>().ok())
                    .and_then(|i| items.get(i))
                    .and_then(|item| item.get("name"))
                    .and_then(Value::as_str)
                    .ok_or_else(|| {
                        format!(
                            "{}: a strategic-merge patch names list items only in lists of containers",
                            addition.at
                        )
                    })?;
                source = &items[segment.parse::<usize>().unwrap_or_default()];
                let list = node.as_array_mut().ok_or("the patch is not a list")?;
                let at = match list
                    .iter()
                    .position(|item| item.get("name").and_then(Value::as_str) == Some(name))
                {
                    Some(at) => at,
                    None => {
                        list.push(serde_json::json!({ "name": name }));
                        list.len() - 1
                    }
                };
                node = &mut list[at];
            }
            _ => return Err(format!("{} is not in the object", addition.at)),
        }
        key = Some(segment.to_string());
    }
    node.as_object_mut()
        .ok_or_else(|| format!("{} is not a mapping", addition.at))
}

/// The JSON 6902 operations that make `additions` (pointers into `rendered`), for a kind
/// whose lists Kustomize cannot merge by name (a custom resource): before the additions to a
/// container, a `test` that the item at that index is still the container of that name, so a
/// base that reorders its containers makes the build fail instead of hardening another one.
pub fn json_patch(rendered: &Value, additions: &[Addition]) -> Result<Value, String> {
    let mut ops: Vec<Value> = Vec::new();
    for addition in additions {
        let mut path = String::new();
        let mut key = String::new();
        for segment in addition.at.segments() {
            let segment: &str = segment.as_ref();
            let parent = rendered.at(&path);
            path.push('/');
            path.push_str(&segment.replace('~', "~0").replace('/', "~1"));
            if parent.is_some_and(Value::is_array) {
                let name = rendered
                    .at(&format!("{path}/name"))
                    .and_then(Value::as_str)
                    .filter(|_| NAMED_LISTS.contains(&key.as_str()))
                    .ok_or_else(|| {
                        format!("{}: not an item of a list of containers", addition.at)
                    })?;
                let test = serde_json::json!({"op": "test", "path": format!("{path}/name"), "value": name});
                if !ops.contains(&test) {
                    ops.push(test);
                }
            }
            key = segment.to_string();
        }
        ops.push(serde_json::json!({
            "op": "add",
            "path": addition.pointer().as_str(),
            "value": addition.value,
        }));
    }
    Ok(Value::Array(ops))
}

/// The `target` of a JSON 6902 patch for the object `identity` names (as the file it comes
/// from writes it): its group, version, kind and name, the name as the regular expression
/// Kustomize reads there (anchored by Kustomize; its dots escaped).
pub fn json_patch_target(identity: &Value) -> Result<Value, String> {
    let text = |pointer: &str| identity.at(pointer).and_then(Value::as_str);
    let api_version = text("/apiVersion").ok_or("the object has no apiVersion")?;
    let kind = text("/kind").ok_or("the object has no kind")?;
    let name = text("/metadata/name").ok_or("the object has no name for a patch to target")?;
    let (group, version) = api_version.split_once('/').unwrap_or(("", api_version));
    let mut target = Map::new();
    if !group.is_empty() {
        target.insert("group".to_string(), group.into());
    }
    target.insert("version".to_string(), version.into());
    target.insert("kind".to_string(), kind.into());
    target.insert("name".to_string(), regex_literal(name).into());
    if let Some(namespace) = text("/metadata/namespace") {
        target.insert("namespace".to_string(), regex_literal(namespace).into());
    }
    Ok(Value::Object(target))
}

/// `text` as a regular expression that matches only itself.
fn regex_literal(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if "\\.+*?()|[]{}^$".contains(c) {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// The text of a patch file holding `documents` (strategic-merge patches, or one list of JSON
/// 6902 operations), after a comment that says what wrote it and why (`rules`: the findings
/// it resolves).
pub fn patch_file(documents: &[Value], rules: &[&str]) -> String {
    let how = match documents.first() {
        Some(Value::Array(_)) => {
            "# A JSON 6902 patch (Kustomize cannot merge this kind's containers by name): each\n\
             # addition follows a test that the container at that index is still the one named.\n"
        }
        _ => {
            "# A strategic-merge patch: each object is named as its base names it, each container by\n\
             # its name; only fields that were unset are added.\n"
        }
    };
    let mut out = format!(
        "# Written by `palisade fix`: the security-context fields that resolve {}.\n{how}",
        rules.join(", ")
    );
    for (i, document) in documents.iter().enumerate() {
        if i > 0 {
            out.push_str("---\n");
        }
        let mut lines = Vec::new();
        match document {
            Value::Object(map) => {
                for (key, value) in map {
                    edit::block_lines(key, value, 0, (2, true), &mut lines);
                }
            }
            Value::Array(items) => {
                for item in items {
                    edit::item_lines(item, 0, (2, true), &mut lines);
                }
            }
            _ => {}
        }
        for line in lines {
            out.push_str(&line);
            out.push('\n');
        }
    }
    out
}

/// The kustomization `text` (read as `path`) with `entries` (`{path: NAME}`, with a `target`
/// for a JSON 6902 patch) added to its `patches:` (the list is made when there is none), and
/// the edits that make it. The edited text is read back:
/// it must hold the same kustomization with one more patch, or the edit is refused.
pub fn add_patch(
    path: &str,
    text: &str,
    limits: &Limits,
    entries: &[Value],
) -> Result<(String, Vec<Edit>), String> {
    let stream = palisade_inventory::yaml::parse_stream(text, limits);
    let [document] = stream.documents.as_slice() else {
        return Err("the kustomization is not one YAML document".to_string());
    };
    if !stream.errors.is_empty() || !document.warnings.is_empty() {
        return Err("the kustomization does not read cleanly".to_string());
    }
    let Value::Object(root) = &document.value else {
        return Err("the kustomization is not a mapping".to_string());
    };
    let lines = Text::new(path, text);
    let doc = Document {
        value: &document.value,
        spans: &document.spans,
    };
    let edits = match root.get("patches") {
        None => {
            let addition = Addition {
                at: palisade_core::JsonPointer::root(),
                key: "patches".to_string(),
                value: Value::Array(entries.to_vec()),
                fields: Vec::new(),
                holder: palisade_core::JsonPointer::root(),
                holder_name: "the kustomization".to_string(),
            };
            edit::edits(&lines, doc, std::slice::from_ref(&addition))?
        }
        Some(Value::Array(items)) if !items.is_empty() => entries
            .iter()
            .map(|entry| edit::append_item(&lines, doc, "patches", entry))
            .collect::<Result<Vec<_>, _>>()?,
        Some(_) => {
            return Err("its `patches:` is empty or not a list: add the patch by hand".to_string());
        }
    };
    let fixed = edit::apply(text, &edits).ok_or("the edits do not fit the kustomization")?;
    let mut expected = document.value.clone();
    match expected.get_mut("patches") {
        Some(Value::Array(items)) => items.extend_from_slice(entries),
        _ => {
            if let Value::Object(map) = &mut expected {
                map.insert("patches".to_string(), Value::Array(entries.to_vec()));
            }
        }
    }
    let reread = palisade_inventory::yaml::parse_stream(&fixed, limits);
    match reread.documents.as_slice() {
        [again] if again.value == expected && reread.errors.is_empty() => Ok((fixed, edits)),
        _ => Err("the kustomization does not read back with the patch added".to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use palisade_core::JsonPointer;
    use serde_json::json;

    fn addition(at: &str, key: &str, value: Value) -> Addition {
        Addition {
            at: JsonPointer::parse(at).unwrap(),
            key: key.to_string(),
            value,
            fields: Vec::new(),
            holder: JsonPointer::root(),
            holder_name: String::new(),
        }
    }

    fn entry(name: &str) -> Value {
        json!({ "path": name })
    }

    fn deployment() -> Value {
        json!({
            "apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": {"name": "prod-web", "namespace": "prod"},
            "spec": {"template": {"spec": {
                "containers": [
                    {"name": "app", "image": "nginx"},
                    {"name": "side", "image": "busybox", "securityContext": {"runAsUser": 1000}}
                ],
                "initContainers": [{"name": "init", "image": "busybox"}]
            }}}
        })
    }

    #[test]
    fn containers_are_named_and_carry_only_their_additions() {
        let identity = json!({"apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": {"name": "web"}});
        let additions = [
            addition(
                "/spec/template/spec",
                "securityContext",
                json!({"seccompProfile": {"type": "RuntimeDefault"}}),
            ),
            addition(
                "/spec/template/spec/containers/1/securityContext",
                "allowPrivilegeEscalation",
                json!(false),
            ),
            addition(
                "/spec/template/spec/initContainers/0",
                "securityContext",
                json!({"allowPrivilegeEscalation": false}),
            ),
        ];
        let patch = patch_document(&identity, &deployment(), &additions).unwrap();
        assert_eq!(
            patch,
            json!({
                "apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "web"},
                "spec": {"template": {"spec": {
                    "securityContext": {"seccompProfile": {"type": "RuntimeDefault"}},
                    "containers": [{"name": "side",
                        "securityContext": {"allowPrivilegeEscalation": false}}],
                    "initContainers": [{"name": "init",
                        "securityContext": {"allowPrivilegeEscalation": false}}]
                }}}
            })
        );
        let text = patch_file(&[patch.clone(), patch.clone()], &["POD002", "POD014"]);
        let read = palisade_inventory::yaml::parse_stream(&text, &Limits::default());
        assert_eq!(read.documents.len(), 2, "{text}");
        assert_eq!(read.documents[1].value, patch, "{text}");
        assert!(text.contains("containers:\n      - name: side\n        securityContext:\n"));
    }

    #[test]
    fn a_patch_needs_a_name_and_a_named_container() {
        let nameless = json!({"apiVersion": "v1", "kind": "Pod", "metadata": {}});
        assert!(patch_document(&nameless, &deployment(), &[]).is_err());
        let mut rendered = deployment();
        rendered["spec"]["template"]["spec"]["containers"][0]
            .as_object_mut()
            .unwrap()
            .remove("name");
        let at = addition(
            "/spec/template/spec/containers/0",
            "securityContext",
            json!({}),
        );
        let refused = patch_document(&deployment(), &rendered, &[at]).unwrap_err();
        assert!(refused.contains("lists of containers"), "{refused}");
    }

    #[test]
    fn a_custom_resource_gets_operations_guarded_by_its_container_names() {
        let rendered = json!({"apiVersion": "argoproj.io/v1alpha1", "kind": "Rollout",
        "metadata": {"name": "prod-ro"},
        "spec": {"template": {"spec": {"containers": [
            {"name": "a", "image": "x"}, {"name": "b", "image": "y", "securityContext": {}}
        ]}}}});
        let additions = [
            addition(
                "/spec/template/spec/containers/1/securityContext",
                "allowPrivilegeEscalation",
                json!(false),
            ),
            addition(
                "/spec/template/spec/containers/1/securityContext",
                "runAsNonRoot",
                json!(true),
            ),
            addition(
                "/spec/template/spec",
                "securityContext",
                json!({"seccompProfile": {"type": "RuntimeDefault"}}),
            ),
        ];
        let ops = json_patch(&rendered, &additions).unwrap();
        assert_eq!(
            ops,
            json!([
                {"op": "test", "path": "/spec/template/spec/containers/1/name", "value": "b"},
                {"op": "add", "path": "/spec/template/spec/containers/1/securityContext/allowPrivilegeEscalation", "value": false},
                {"op": "add", "path": "/spec/template/spec/containers/1/securityContext/runAsNonRoot", "value": true},
                {"op": "add", "path": "/spec/template/spec/securityContext", "value": {"seccompProfile": {"type": "RuntimeDefault"}}},
            ])
        );
        let text = patch_file(std::slice::from_ref(&ops), &["POD002"]);
        let read = palisade_inventory::yaml::parse_stream(&text, &Limits::default());
        assert_eq!(read.documents[0].value, ops, "{text}");
        let identity = json!({"apiVersion": "argoproj.io/v1alpha1", "kind": "Rollout",
            "metadata": {"name": "web.v2"}});
        assert_eq!(
            json_patch_target(&identity).unwrap(),
            json!({"group": "argoproj.io", "version": "v1alpha1", "kind": "Rollout", "name": "web\\.v2"})
        );
    }

    #[test]
    fn the_patch_is_added_to_the_kustomization_in_its_layout() {
        let limits = Limits::default();
        // No `patches:` yet: the key goes last.
        let text = "resources:\n  - ../base # the base\nnamePrefix: prod-\n";
        let (fixed, _) =
            add_patch("k.yaml", text, &limits, &[entry("palisade-hardening.yaml")]).unwrap();
        assert_eq!(
            fixed,
            "resources:\n  - ../base # the base\nnamePrefix: prod-\npatches:\n  - path: palisade-hardening.yaml\n"
        );
        // A list of patches: one more item, at its items' column, after the last one's lines.
        let text =
            "patches:\n- path: a.yaml\n  target:\n    kind: Deployment\n# done\nnamespace: prod\n";
        let (fixed, _) = add_patch("k.yaml", text, &limits, &[entry("p.yaml")]).unwrap();
        assert_eq!(
            fixed,
            "patches:\n- path: a.yaml\n  target:\n    kind: Deployment\n- path: p.yaml\n# done\nnamespace: prod\n"
        );
        let text = "namespace: prod\npatches:\n  - path: a.yaml";
        let (fixed, _) = add_patch("k.yaml", text, &limits, &[entry("p.yaml")]).unwrap();
        assert_eq!(
            fixed,
            "namespace: prod\npatches:\n  - path: a.yaml\n  - path: p.yaml"
        );
        let text = "{\"resources\": [\"../base\"]}";
        let (fixed, _) = add_patch("k.json", text, &limits, &[entry("p.yaml")]).unwrap();
        assert!(
            fixed.starts_with("{\"patches\": [{\"path\":\"p.yaml\"}], "),
            "{fixed}"
        );
        for refused in ["patches: []\n", "patches: [{path: a.yaml}]\n", "- a\n"] {
            assert!(
                add_patch("k.yaml", refused, &limits, &[entry("p.yaml")]).is_err(),
                "{refused}"
            );
        }
    }
}
