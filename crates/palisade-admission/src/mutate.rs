//! The opt-in hardening patch: safe security-context defaults added where the object leaves
//! them unset, never a value the author chose. Each addition is one the API server accepts
//! for that container (no `allowPrivilegeEscalation: false` beside `privileged` or
//! `SYS_ADMIN`, nothing on Windows pods), so a patched object is never rejected because of
//! the patch.

use json_patch::jsonptr::PointerBuf;
use json_patch::{AddOperation, PatchOperation};
use palisade_core::tree::Tree as _;
use palisade_inventory::ContainerKind;
use palisade_k8s::security;
use serde_json::{Value, json};

use crate::settings::{DropAllCapabilities, MutateSettings, RunAsNonRoot};

/// The additions for `object` of `(group, kind)` whose pod spec is at `spec_pointer`, in
/// order; empty when nothing is missing.
pub fn hardening(
    object: &Value,
    spec_pointer: &str,
    settings: &MutateSettings,
) -> Vec<PatchOperation> {
    let Some(spec) = object.at(spec_pointer).filter(|s| s.is_object()) else {
        return Vec::new();
    };
    if spec.at("/os/name").and_then(Value::as_str) == Some("windows")
        || spec.at("/securityContext/windowsOptions/hostProcess") == Some(&json!(true))
    {
        return Vec::new();
    }
    let base = PointerBuf::parse(spec_pointer).unwrap_or_default();
    let mut out = Vec::new();
    let pod_non_root = pod_level(spec, &base, settings, &mut out);
    for kind in [ContainerKind::Container, ContainerKind::Init] {
        let Some(list) = spec.get(kind.field()).and_then(Value::as_array) else {
            continue;
        };
        for (index, container) in list.iter().enumerate() {
            let mut at = base.clone();
            at.push_back(kind.field());
            at.push_back(index.to_string());
            container_level(container, spec, &at, settings, pod_non_root, &mut out);
        }
    }
    out
}

fn add(out: &mut Vec<PatchOperation>, path: PointerBuf, value: Value) {
    out.push(PatchOperation::Add(AddOperation { path, value }));
}

/// Adds `fields` under `at/securityContext` (creating it when absent).
fn add_fields(
    out: &mut Vec<PatchOperation>,
    holder: &Value,
    at: &PointerBuf,
    fields: Vec<(&str, Value)>,
) {
    if fields.is_empty() {
        return;
    }
    let mut context = at.clone();
    context.push_back("securityContext");
    match holder.get("securityContext") {
        Some(Value::Object(_)) => {
            for (field, value) in fields {
                let mut path = context.clone();
                path.push_back(field);
                add(out, path, value);
            }
        }
        // Absent or null: the whole context at once.
        _ => add(
            out,
            context,
            Value::Object(
                fields
                    .into_iter()
                    .map(|(k, v)| (k.to_string(), v))
                    .collect(),
            ),
        ),
    }
}

/// Adds the pod-level defaults; true when they include `runAsNonRoot: true`.
fn pod_level(
    spec: &Value,
    base: &PointerBuf,
    settings: &MutateSettings,
    out: &mut Vec<PatchOperation>,
) -> bool {
    let pod_context = spec.get("securityContext");
    let unset = |field: &str| {
        pod_context
            .and_then(|c| c.get(field))
            .is_none_or(Value::is_null)
    };
    let containers = || {
        ContainerKind::ALL
            .iter()
            .filter_map(|k| spec.get(k.field()).and_then(Value::as_array))
            .flatten()
    };
    let mut fields = Vec::new();
    let container_seccomp = containers().any(|c| c.at("/securityContext/seccompProfile").is_some());
    if settings.seccomp && unset("seccompProfile") && !container_seccomp {
        fields.push(("seccompProfile", json!({"type": "RuntimeDefault"})));
    }
    let pod_user = pod_context
        .and_then(|c| c.get("runAsUser"))
        .and_then(Value::as_i64);
    let a_container_is_root =
        containers().any(|c| c.at("/securityContext/runAsUser").and_then(Value::as_i64) == Some(0));
    let non_root = match settings.run_as_non_root {
        RunAsNonRoot::Never => false,
        RunAsNonRoot::WhenUserSet => pod_user.is_some_and(|u| u != 0),
        RunAsNonRoot::Always => pod_user != Some(0),
    };
    let adds_non_root = non_root && unset("runAsNonRoot") && !a_container_is_root;
    if adds_non_root {
        fields.push(("runAsNonRoot", json!(true)));
    }
    add_fields(out, spec, base, fields);
    adds_non_root
}

fn container_level(
    container: &Value,
    spec: &Value,
    at: &PointerBuf,
    settings: &MutateSettings,
    pod_non_root: bool,
    out: &mut Vec<PatchOperation>,
) {
    let context = container.get("securityContext").filter(|c| c.is_object());
    let unset = |field: &str| {
        context
            .and_then(|c| c.get(field))
            .is_none_or(Value::is_null)
    };
    let privileged = security::is_privileged(container);
    let mut fields = Vec::new();
    // The API server rejects `allowPrivilegeEscalation: false` with privileged or SYS_ADMIN.
    if settings.no_privilege_escalation
        && unset("allowPrivilegeEscalation")
        && !privileged
        && !security::adds_capability(container, "SYS_ADMIN")
    {
        fields.push(("allowPrivilegeEscalation", json!(false)));
    }
    let own_user = context
        .and_then(|c| c.get("runAsUser"))
        .and_then(Value::as_i64);
    if settings.run_as_non_root == RunAsNonRoot::WhenUserSet
        && own_user.is_some_and(|u| u != 0)
        && security::effective(container, spec, "runAsNonRoot").is_none()
    {
        fields.push(("runAsNonRoot", json!(true)));
    }
    let drops = context
        .and_then(|c| c.at("/capabilities/drop"))
        .and_then(Value::as_array)
        .is_some_and(|d| !d.is_empty());
    let drop_all = match settings.drop_all_capabilities {
        DropAllCapabilities::Never => false,
        // The pod-level `runAsNonRoot: true` just added covers a container without a user
        // of its own (one with `runAsUser: 0` keeps the patch from adding it).
        DropAllCapabilities::WhenNonRoot => {
            pod_non_root || !security::may_run_as_root(container, spec)
        }
        DropAllCapabilities::Always => true,
    };
    if drop_all && !privileged && !drops {
        match context
            .and_then(|c| c.get("capabilities"))
            .filter(|c| c.is_object())
        {
            Some(_) => {
                let mut path = at.clone();
                path.push_back("securityContext");
                path.push_back("capabilities");
                path.push_back("drop");
                add(out, path, json!(["ALL"]));
            }
            None => fields.push(("capabilities", json!({"drop": ["ALL"]}))),
        }
    }
    // A context that is present but holds capabilities only: fields go in one by one.
    add_fields(out, container, at, fields);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn patched(object: &Value, pointer: &str, settings: &MutateSettings) -> Value {
        let ops = hardening(object, pointer, settings);
        let mut doc = object.clone();
        json_patch::patch(&mut doc, &ops).unwrap();
        doc
    }

    #[test]
    fn adds_the_missing_defaults_and_keeps_what_is_set() {
        let pod = json!({"spec": {"securityContext": {"runAsUser": 1000}, "containers": [
            {"name": "a", "image": "x"},
            {"name": "b", "image": "x", "securityContext": {"allowPrivilegeEscalation": true, "capabilities": {"add": ["NET_ADMIN"]}}},
            {"name": "c", "image": "x", "securityContext": {"privileged": true}},
        ]}});
        let out = patched(&pod, "/spec", &MutateSettings::default());
        assert_eq!(
            out.at("/spec/securityContext/seccompProfile/type"),
            Some(&json!("RuntimeDefault"))
        );
        assert_eq!(
            out.at("/spec/containers/0/securityContext"),
            Some(&json!({"allowPrivilegeEscalation": false, "capabilities": {"drop": ["ALL"]}}))
        );
        assert_eq!(
            out.at("/spec/containers/1/securityContext/allowPrivilegeEscalation"),
            Some(&json!(true))
        );
        assert_eq!(
            out.at("/spec/containers/1/securityContext/capabilities"),
            Some(&json!({"add": ["NET_ADMIN"], "drop": ["ALL"]}))
        );
        assert_eq!(
            out.at("/spec/containers/2/securityContext"),
            Some(&json!({"privileged": true}))
        );
        assert_eq!(
            out.at("/spec/securityContext/runAsNonRoot"),
            Some(&json!(true))
        );
        // Patching again adds nothing.
        assert!(hardening(&out, "/spec", &MutateSettings::default()).is_empty());
    }

    #[test]
    fn run_as_non_root_only_when_a_user_is_set() {
        let template = json!({"spec": {"template": {"spec": {
            "securityContext": {"runAsUser": 1000},
            "containers": [{"name": "a", "image": "x"}]}}}});
        let out = patched(&template, "/spec/template/spec", &MutateSettings::default());
        assert_eq!(
            out.at("/spec/template/spec/securityContext/runAsNonRoot"),
            Some(&json!(true))
        );
        let root = json!({"spec": {"containers": [{"name": "a", "image": "x"}]}});
        let settings = MutateSettings {
            run_as_non_root: RunAsNonRoot::Always,
            ..Default::default()
        };
        assert_eq!(
            patched(&root, "/spec", &settings).at("/spec/securityContext/runAsNonRoot"),
            Some(&json!(true))
        );
        let explicit_root = json!({"spec": {"containers": [{"name": "a", "image": "x", "securityContext": {"runAsUser": 0}}]}});
        assert!(
            patched(&explicit_root, "/spec", &settings)
                .at("/spec/securityContext/runAsNonRoot")
                .is_none()
        );
    }

    /// A container that may run as root keeps the runtime's default capabilities unless
    /// `always` is asked: nginx's master process chowns its cache and switches user, so
    /// dropping them all stops it at start.
    #[test]
    fn capabilities_are_dropped_only_where_the_process_cannot_be_root() {
        let caps = "/spec/containers/0/securityContext/capabilities/drop";
        let pod = |context: Value, container: Value| {
            json!({"spec": {"securityContext": context, "containers": [
                {"name": "a", "image": "nginx:1.27", "securityContext": container}]}})
        };
        let defaults = MutateSettings::default();
        for (context, container, dropped) in [
            (json!({}), json!({}), false),
            (json!({"runAsUser": 0}), json!({}), false),
            (json!({"runAsUser": 1000}), json!({"runAsUser": 0}), false),
            (json!({"runAsNonRoot": false}), json!({}), false),
            (json!({"runAsUser": 1000}), json!({}), true),
            (json!({}), json!({"runAsUser": 101}), true),
            (json!({"runAsNonRoot": true}), json!({}), true),
            (json!({}), json!({"runAsNonRoot": true}), true),
        ] {
            let out = patched(&pod(context.clone(), container.clone()), "/spec", &defaults);
            assert_eq!(
                out.at(caps) == Some(&json!(["ALL"])),
                dropped,
                "{context} {container}: {out}"
            );
        }
        // The patch's own pod-level runAsNonRoot (run_as_non_root = always) makes it safe.
        let always_non_root = MutateSettings {
            run_as_non_root: RunAsNonRoot::Always,
            ..Default::default()
        };
        let out = patched(&pod(json!({}), json!({})), "/spec", &always_non_root);
        assert_eq!(out.at(caps), Some(&json!(["ALL"])));
        // `always` drops them from every container; `never` from none.
        for (mode, dropped) in [
            (DropAllCapabilities::Always, true),
            (DropAllCapabilities::Never, false),
        ] {
            let settings = MutateSettings {
                drop_all_capabilities: mode,
                ..Default::default()
            };
            for user in [json!({}), json!({"runAsUser": 1000})] {
                let out = patched(&pod(user, json!({})), "/spec", &settings);
                assert_eq!(out.at(caps) == Some(&json!(["ALL"])), dropped, "{mode:?}");
            }
        }
    }

    #[test]
    fn windows_pods_and_sys_admin_are_left_alone() {
        let windows = json!({"spec": {"os": {"name": "windows"}, "containers": [{"name": "a"}]}});
        assert!(hardening(&windows, "/spec", &MutateSettings::default()).is_empty());
        let admin = json!({"spec": {"containers": [{"name": "a", "securityContext": {"capabilities": {"add": ["CAP_SYS_ADMIN"]}}}]}});
        let out = patched(&admin, "/spec", &MutateSettings::default());
        assert!(
            out.at("/spec/containers/0/securityContext/allowPrivilegeEscalation")
                .is_none()
        );
    }
}
