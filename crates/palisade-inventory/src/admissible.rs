//! Values the API server would reject. An object that would not be admitted is not a clean
//! object: each such value is a diagnostic at its line (the object is still scanned, so what
//! is wrong with the rest of it is reported too).

use palisade_core::tree::Tree as _;
use palisade_core::{Diagnostic, DiagnosticLevel, JsonPointer};
use palisade_k8s::names::{is_dns_label, is_dns_subdomain};
use serde_json::Value;

use crate::object::Object;
use crate::podspec::{WORKLOAD_KINDS, pod_spec};

/// Top-level fields that are objects whenever they are present.
const OBJECT_FIELDS: &[&str] = &["metadata", "spec", "data", "stringData", "roleRef"];
/// `seccompProfile.type` values the API accepts.
const SECCOMP_TYPES: &[&str] = &["RuntimeDefault", "Localhost", "Unconfined"];

/// Built-in kinds besides the workloads ([`WORKLOAD_KINDS`]) whose names must be DNS-1123
/// subdomains. RBAC kinds are not among them: their names are path segments
/// (`system:controller:x` is valid).
const SUBDOMAIN_NAMED: &[(&str, &str)] = &[
    ("", "ConfigMap"),
    ("", "Secret"),
    ("", "ServiceAccount"),
    ("", "PersistentVolumeClaim"),
    ("", "PersistentVolume"),
    ("networking.k8s.io", "Ingress"),
    ("networking.k8s.io", "NetworkPolicy"),
];

/// Kinds whose names must be DNS-1123 labels (at most 63 characters, no dots); a Service's
/// must also start with a letter (DNS-1035).
const LABEL_NAMED: &[(&str, &str)] = &[("", "Namespace"), ("", "Service")];

/// The problems of `metadata.name` and `metadata.namespace` (a `${VAR}` left by a template,
/// capitals, underscores): the API server rejects such names before anything else.
fn name_problems(object: &Object, out: &mut Vec<(JsonPointer, String)>) {
    let metadata = JsonPointer::root().join("metadata");
    let key = (object.id.group(), object.id.kind.as_str());
    let name = object.value.at("/metadata/name").and_then(Value::as_str);
    if let Some(name) = name {
        let (valid, what) = if SUBDOMAIN_NAMED.contains(&key) || WORKLOAD_KINDS.contains(&key) {
            (
                is_dns_subdomain(name),
                "a DNS subdomain (lower-case letters, digits, '-' and '.')",
            )
        } else if key == ("", "Service") {
            (
                is_dns_label(name) && name.as_bytes()[0].is_ascii_lowercase(),
                "a DNS label starting with a letter (lower-case letters, digits and '-', at most 63)",
            )
        } else if LABEL_NAMED.contains(&key) {
            (
                is_dns_label(name),
                "a DNS label (lower-case letters, digits and '-', at most 63)",
            )
        } else {
            (true, "")
        };
        if !valid {
            out.push((
                metadata.join("name"),
                format!("the name {name:?} is not {what}"),
            ));
        }
    }
    if let Some(namespace) = object
        .value
        .at("/metadata/namespace")
        .and_then(Value::as_str)
        && !namespace.is_empty()
        && !is_dns_label(namespace)
    {
        out.push((
            metadata.join("namespace"),
            format!("the namespace {namespace:?} is not a DNS label (lower-case letters, digits and '-', at most 63)"),
        ));
    }
}

/// Why the API server would reject `object`: each problem with the field it is at.
pub fn problems(object: &Object) -> Vec<(JsonPointer, String)> {
    let mut out = Vec::new();
    let root = JsonPointer::root();
    name_problems(object, &mut out);
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
        let role_kind = object.value.at("/roleRef/kind").and_then(Value::as_str);
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

pub use palisade_core::tree::kind_of;

/// The diagnostics for every object of a source that the API server would reject, or whose
/// pod templates no rule reads ([`crate::unjudged`]), in the objects' order (a large file's
/// objects are looked at on every core).
pub(crate) fn diagnose(objects: &[Object], file: &str, diagnostics: &mut Vec<Diagnostic>) {
    let runs = palisade_core::parallel::map_runs(objects, PER_CORE, |objects| {
        let mut found = Vec::new();
        for object in objects {
            for (pointer, problem) in problems(object) {
                let pos = object.locate(&pointer).pos;
                found.push(
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
            found.extend(crate::unjudged::diagnostic(object, file));
        }
        found
    });
    for mut run in runs {
        diagnostics.append(&mut run);
    }
}

/// Objects per core from which [`diagnose`] uses several.
pub(crate) const PER_CORE: usize = 4096;

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
    fn names_the_api_server_rejects_are_problems() {
        let template = problems_of(
            "apiVersion: v1\nkind: Secret\nmetadata: {name: '${SECRET_NAME:-x}', namespace: '${NAMESPACE}'}\n",
        );
        assert_eq!(template.len(), 2, "{template:?}");
        assert!(template[0].starts_with("/metadata/name: "));
        assert!(template[1].starts_with("/metadata/namespace: "));
        assert_eq!(
            problems_of("apiVersion: v1\nkind: Service\nmetadata: {name: 1web}\n").len(),
            1
        );
        assert_eq!(
            problems_of("apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: My_App}\n").len(),
            1
        );
        // Path-segment names are valid for RBAC kinds; dotted names for subdomain kinds.
        assert!(problems_of("apiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRole\nmetadata: {name: 'system:controller:x'}\n").is_empty());
        assert!(
            problems_of("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: kube-root-ca.crt}\n")
                .is_empty()
        );
    }

    #[test]
    fn admissible_objects_have_no_problems() {
        assert!(problems_of("apiVersion: v1\nkind: Pod\nmetadata: {name: a}\nspec:\n  securityContext: {seccompProfile: {type: RuntimeDefault}}\n  containers: [{name: c, image: i}]\n").is_empty());
        assert!(problems_of("apiVersion: rbac.authorization.k8s.io/v1\nkind: RoleBinding\nmetadata: {name: b, namespace: n}\nroleRef: {apiGroup: rbac.authorization.k8s.io, kind: Role, name: r}\n").is_empty());
    }
}
