//! Fragments: documents that look like objects but are pieces of one (Kustomize patches,
//! `$patch` directives, partial workloads). Scanned as if they were objects, they give findings
//! about fields their base sets (limits, tokens, images) or about a delete directive. A file
//! read as plain manifests is checked here; a fragment is left out with a diagnostic and is
//! scanned through the kustomization that applies it.

use palisade_core::tree::Tree as _;
use serde_json::Value;

use crate::object::Object;
use crate::podspec::pod_spec;

/// Why `object` is a fragment rather than an object the API server would admit, if it is.
pub fn fragment(object: &Object) -> Option<String> {
    if carries_patch_directive(object) {
        return Some("it carries a Kustomize `$patch` directive".into());
    }
    if read_from_a_cluster(&object.value) {
        // The API server returned it (trimmed, perhaps, but not a patch): an object.
        return None;
    }
    if object.value.get("spec").is_some_and(|s| !s.is_object()) {
        // Not a piece of an object but a wrong one: `admissible` says so.
        return None;
    }
    let kind = object.id.kind.as_str();
    let group = object.id.group();
    let missing = |pointer: &str| object.value.at(pointer).is_none_or(Value::is_null);
    let required: &[&str] = match (group, kind) {
        // apps/v1beta1 defaulted the selector from the template's labels.
        ("apps", "Deployment" | "StatefulSet") if object.id.api_version == "apps/v1beta1" => {
            &["/spec/template"]
        }
        ("apps", "Deployment" | "ReplicaSet" | "StatefulSet" | "DaemonSet") => {
            &["/spec/selector", "/spec/template"]
        }
        ("batch", "Job") => &["/spec/template"],
        ("batch", "CronJob") => &["/spec/schedule", "/spec/jobTemplate"],
        _ => &[],
    };
    if let Some(field) = required.iter().find(|p| missing(p)) {
        return Some(format!(
            "it has no {}, which the API requires of a {kind}",
            &field[1..].replace('/', ".")
        ));
    }
    let pod = pod_spec(object)?;
    let names_required = palisade_core::pod_template::site(group, kind)
        .is_none_or(|site| site.container_names_required());
    let containers = pod.value.get("containers").and_then(Value::as_array);
    match containers {
        None => Some(format!(
            "its pod spec has no containers ({} is required)",
            &pod.pointer[1..].replace('/', ".")
        )),
        Some(list) if list.is_empty() => Some("its pod spec has no containers".into()),
        Some(list) => list.iter().find_map(|c| {
            let name = c.get("name").and_then(Value::as_str);
            match (name, c.get("image").and_then(Value::as_str)) {
                (None, _) if names_required => Some("a container has no name".into()),
                (None, None) => Some("a container has no image".into()),
                (Some(name), None) => Some(format!("container \"{name}\" has no image")),
                _ => None,
            }
        }),
    }
}

/// Whether the document carries what only the API server sets: a uid, or a controlling owner
/// reference with one. Patches and hand-written pieces of objects never do.
pub(crate) fn read_from_a_cluster(value: &Value) -> bool {
    let metadata = value.get("metadata");
    metadata
        .and_then(|m| m.get("uid"))
        .is_some_and(Value::is_string)
        || metadata
            .and_then(|m| m.get("ownerReferences"))
            .and_then(Value::as_array)
            .is_some_and(|owners| {
                owners.iter().any(|o| {
                    o.get("uid").is_some_and(Value::is_string)
                        && o.get("controller").and_then(Value::as_bool) == Some(true)
                })
            })
}

/// Whether `object` carries a Kustomize `$patch` directive ([`has_patch_directive`]). A
/// ControllerRevision's `data` is not read: it is the state a controller stored, which for a
/// DaemonSet or StatefulSet is its template as a patch that replaces it (`$patch: replace`),
/// so a cluster written out to a file holds one per revision.
fn carries_patch_directive(object: &Object) -> bool {
    let stored = (object.id.group(), object.id.kind.as_str()) == ("apps", "ControllerRevision");
    match &object.value {
        Value::Object(map) if stored => map.iter().any(|(key, value)| {
            key == "$patch" || (key != "data" && has_patch_directive(value, 1))
        }),
        value => has_patch_directive(value, 0),
    }
}

/// Whether a `$patch` key appears in the document (top level or nested, within a few levels
/// of maps and lists: where Kustomize's directives go).
fn has_patch_directive(value: &Value, depth: usize) -> bool {
    if depth > 12 {
        return false;
    }
    match value {
        Value::Object(map) => {
            map.contains_key("$patch") || map.values().any(|v| has_patch_directive(v, depth + 1))
        }
        Value::Array(items) => items.iter().any(|v| has_patch_directive(v, depth + 1)),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Limits, load_text};

    fn why(yaml: &str) -> Option<String> {
        let loaded = load_text("f.yaml", yaml, &Limits::default());
        fragment(&loaded.inventory.objects[0])
    }

    #[test]
    fn patches_and_partial_workloads_are_fragments() {
        assert!(
            why("apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: x}\n$patch: delete\n")
                .unwrap()
                .contains("$patch")
        );
        assert!(
            why("apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: x}\nspec:\n  template:\n    spec:\n      containers: [{name: a, resources: {limits: {cpu: 1}}}]\n")
                .unwrap()
                .contains("spec.selector")
        );
        assert_eq!(
            why("apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: x}\nspec:\n  selector: {matchLabels: {a: b}}\n  template:\n    spec:\n      containers: [{name: a}]\n")
                .as_deref(),
            Some("container \"a\" has no image")
        );
        assert!(why("apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec: {}\n").is_some());
    }

    #[test]
    fn complete_objects_are_not_fragments() {
        assert_eq!(
            why(
                "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: x}\nspec:\n  selector: {matchLabels: {a: b}}\n  template:\n    spec:\n      containers: [{name: a, image: 'r/a:1'}]\n"
            ),
            None
        );
        assert_eq!(
            why("apiVersion: v1\nkind: Namespace\nmetadata: {name: n}\n"),
            None
        );
        assert_eq!(
            why("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\ndata: {a: b}\n"),
            None
        );
    }

    /// Knative's API names a lone container itself (`user-container`), and its documentation
    /// writes services without names: such a service is an object, not a piece of one.
    #[test]
    fn a_knative_container_needs_no_name() {
        let service = |container: &str| {
            format!(
                "apiVersion: serving.knative.dev/v1\nkind: Service\nmetadata: {{name: k}}\nspec:\n  template:\n    spec:\n      containers: [{container}]\n"
            )
        };
        assert_eq!(why(&service("{image: 'r/a:1'}")), None);
        assert_eq!(
            why(&service("{ports: [{containerPort: 80}]}")).as_deref(),
            Some("a container has no image")
        );
        assert_eq!(
            why("apiVersion: argoproj.io/v1alpha1\nkind: Rollout\nmetadata: {name: r}\nspec:\n  template:\n    spec:\n      containers: [{image: 'r/a:1'}]\n").as_deref(),
            Some("a container has no name")
        );
    }

    /// A ControllerRevision stores its controller's template as a replacing patch: an object,
    /// unless the directive is on the revision itself.
    #[test]
    fn a_controller_revision_holds_a_patch_without_being_one() {
        let revision = |extra: &str| {
            format!(
                "apiVersion: apps/v1\nkind: ControllerRevision\nmetadata: {{name: agent-5f7d9c, namespace: ops}}\nrevision: 2\ndata: {{spec: {{template: {{$patch: replace, spec: {{containers: [{{name: a, image: 'a:1'}}]}}}}}}}}\n{extra}"
            )
        };
        assert_eq!(why(&revision("")), None);
        assert!(why(&revision("$patch: delete\n")).is_some());
        assert!(why(&revision("metadata2: {$patch: delete}\n")).is_some());
        // Another kind's `data` is no stored state.
        let config_map =
            "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\ndata: {$patch: delete}\n";
        assert!(why(config_map).is_some());
    }

    #[test]
    fn objects_the_api_server_returned_are_not_fragments_even_when_trimmed() {
        let owned = "apiVersion: v1\nkind: Pod\nmetadata:\n  name: p\n  ownerReferences: [{kind: DaemonSet, name: d, uid: 1-2, controller: true}]\nspec:\n  containers: [{ports: []}]\n";
        assert_eq!(why(owned), None);
        let with_uid = "apiVersion: v1\nkind: Pod\nmetadata: {name: p, uid: 1-2}\nspec:\n  containers: [{ports: []}]\n";
        assert_eq!(why(with_uid), None);
        let not_controller = "apiVersion: v1\nkind: Pod\nmetadata:\n  name: p\n  ownerReferences: [{kind: DaemonSet, name: d, uid: 1-2}]\nspec:\n  containers: [{ports: []}]\n";
        assert!(why(not_controller).is_some());
    }
}
