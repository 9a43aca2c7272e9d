//! Values the API server would reject. An object that would not be admitted is not a clean
//! object: each such value is a diagnostic at its line (the object is still scanned, so what
//! is wrong with the rest of it is reported too).

use palisade_core::{Diagnostic, DiagnosticLevel, JsonPointer};
use serde_json::Value;

use crate::object::Object;
use crate::podspec::pod_spec;

/// Top-level fields that are objects whenever they are present.
const OBJECT_FIELDS: &[&str] = &["metadata", "spec", "data", "stringData", "roleRef"];
/// `seccompProfile.type` values the API accepts.
const SECCOMP_TYPES: &[&str] = &["RuntimeDefault", "Localhost", "Unconfined"];

/// Why the API server would reject `object`: each problem with the field it is at.
pub fn problems(object: &Object) -> Vec<(JsonPointer, String)> {
    let mut out = Vec::new();
    let root = JsonPointer::root();
    for field in OBJECT_FIELDS {
        if let Some(value) = object.value.get(*field)
            && !value.is_object()
            && !value.is_null()
        {
            out.push((
                root.join(*field),
                format!("`{field}` must be a map, not {}", kind_of(value)),
            ));
        }
    }
    if object.id.group() == "rbac.authorization.k8s.io" {
        let role_kind = object
            .value
            .pointer("/roleRef/kind")
            .and_then(Value::as_str);
        match (object.id.kind.as_str(), role_kind) {
            ("ClusterRoleBinding", Some(kind)) if kind != "ClusterRole" => out.push((
                root.join("roleRef").join("kind"),
                format!("a ClusterRoleBinding can only refer to a ClusterRole, not a {kind}"),
            )),
            ("RoleBinding", Some(kind)) if kind != "ClusterRole" && kind != "Role" => out.push((
                root.join("roleRef").join("kind"),
                format!("roleRef.kind must be Role or ClusterRole, not {kind}"),
            )),
            _ => {}
        }
    }
    if let Some(pod) = pod_spec(object).filter(|p| p.value.is_object()) {
        let mut places = vec![(
            pod.field("securityContext"),
            pod.value.get("securityContext"),
        )];
        for container in pod.containers() {
            places.push((
                container.field(&["securityContext"]),
                container.value.get("securityContext"),
            ));
        }
        for (pointer, context) in places {
            let Some(profile) = context.and_then(|c| c.get("seccompProfile")) else {
                continue;
            };
            match profile.get("type").and_then(Value::as_str) {
                Some(kind) if !SECCOMP_TYPES.contains(&kind) => out.push((
                    pointer.join("seccompProfile").join("type"),
                    format!(
                        "seccompProfile.type must be RuntimeDefault, Localhost or Unconfined, not {kind}"
                    ),
                )),
                Some("Localhost") if profile.get("localhostProfile").is_none() => out.push((
                    pointer.join("seccompProfile"),
                    "seccompProfile.type Localhost needs a localhostProfile".into(),
                )),
                None => out.push((
                    pointer.join("seccompProfile"),
                    "seccompProfile needs a type".into(),
                )),
                _ => {}
            }
        }
    }
    out
}

fn kind_of(value: &Value) -> &'static str {
    match value {
        Value::Array(_) => "a list",
        Value::String(_) => "a string",
        Value::Number(_) => "a number",
        Value::Bool(_) => "a boolean",
        Value::Null => "null",
        Value::Object(_) => "a map",
    }
}

/// The diagnostics for every object of a source that the API server would reject.
pub(crate) fn diagnose(objects: &[Object], file: &str, diagnostics: &mut Vec<Diagnostic>) {
    for object in objects {
        for (pointer, problem) in problems(object) {
            let pos = object.locate(&pointer).pos;
            diagnostics.push(
                Diagnostic::new(
                    DiagnosticLevel::Warning,
                    "not-admissible",
                    format!("the API server would reject this object: {problem}"),
                )
                .in_file(file)
                .at(pos.line, pos.column)
                .on_object(object.id.to_string()),
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Limits, load_text};

    fn problems_of(yaml: &str) -> Vec<String> {
        let loaded = load_text("a.yaml", yaml, &Limits::default());
        problems(&loaded.inventory.objects[0])
            .into_iter()
            .map(|(p, m)| format!("{p}: {m}"))
            .collect()
    }

    #[test]
    fn what_the_api_server_rejects_is_named_at_its_field() {
        let seccomp = problems_of(
            "apiVersion: v1\nkind: Pod\nmetadata: {name: a}\nspec:\n  securityContext: {seccompProfile: {type: Strict}}\n  containers:\n  - name: c\n    image: i\n    securityContext: {seccompProfile: {type: Localhost}}\n",
        );
        assert_eq!(seccomp.len(), 2, "{seccomp:?}");
        assert!(seccomp[0].starts_with("/spec/securityContext/seccompProfile/type: "));
        assert!(seccomp[1].contains("localhostProfile"));
        let list = problems_of(
            "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: d}\nspec:\n- replicas: 1\n",
        );
        assert_eq!(list, ["/spec: `spec` must be a map, not a list"]);
        let binding = problems_of(
            "apiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRoleBinding\nmetadata: {name: b}\nroleRef: {apiGroup: rbac.authorization.k8s.io, kind: Role, name: r}\n",
        );
        assert_eq!(binding.len(), 1, "{binding:?}");
        assert!(binding[0].starts_with("/roleRef/kind"));
    }

    #[test]
    fn admissible_objects_have_no_problems() {
        assert!(problems_of("apiVersion: v1\nkind: Pod\nmetadata: {name: a}\nspec:\n  securityContext: {seccompProfile: {type: RuntimeDefault}}\n  containers: [{name: c, image: i}]\n").is_empty());
        assert!(problems_of("apiVersion: rbac.authorization.k8s.io/v1\nkind: RoleBinding\nmetadata: {name: b, namespace: n}\nroleRef: {apiGroup: rbac.authorization.k8s.io, kind: Role, name: r}\n").is_empty());
    }
}
