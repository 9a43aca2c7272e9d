use super::*;

fn hardening(object: &Value, pointer: &str, settings: &Hardening) -> Vec<Addition> {
    additions(object, pointer, settings, &every)
}

fn patched(object: &Value, pointer: &str, settings: &Hardening) -> Value {
    let mut doc = object.clone();
    assert!(apply(&mut doc, &hardening(object, pointer, settings)));
    doc
}

#[test]
fn adds_the_missing_defaults_and_keeps_what_is_set() {
    let pod = json!({"spec": {"securityContext": {"runAsUser": 1000}, "containers": [
        {"name": "a", "image": "x"},
        {"name": "b", "image": "x", "securityContext": {"allowPrivilegeEscalation": true, "capabilities": {"add": ["NET_ADMIN"]}}},
        {"name": "c", "image": "x", "securityContext": {"privileged": true}},
    ]}});
    let out = patched(&pod, "/spec", &Hardening::default());
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
    assert!(hardening(&out, "/spec", &Hardening::default()).is_empty());
}

#[test]
fn run_as_non_root_only_when_a_user_is_set() {
    let template = json!({"spec": {"template": {"spec": {
        "securityContext": {"runAsUser": 1000},
        "containers": [{"name": "a", "image": "x"}]}}}});
    let out = patched(&template, "/spec/template/spec", &Hardening::default());
    assert_eq!(
        out.at("/spec/template/spec/securityContext/runAsNonRoot"),
        Some(&json!(true))
    );
    let root = json!({"spec": {"containers": [{"name": "a", "image": "x"}]}});
    let settings = Hardening {
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
    let defaults = Hardening::default();
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
    let always_non_root = Hardening {
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
        let settings = Hardening {
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
    assert!(hardening(&windows, "/spec", &Hardening::default()).is_empty());
    let admin = json!({"spec": {"containers": [{"name": "a", "securityContext": {"capabilities": {"add": ["CAP_SYS_ADMIN"]}}}]}});
    let out = patched(&admin, "/spec", &Hardening::default());
    assert!(
        out.at("/spec/containers/0/securityContext/allowPrivilegeEscalation")
            .is_none()
    );
}

/// The caller chooses by field and by the pod spec or container hardened: only the second
/// container's escalation, and the pod's profile.
#[test]
fn only_the_additions_wanted_are_made() {
    let pod = json!({"spec": {"securityContext": {"runAsUser": 1000}, "containers": [
        {"name": "a", "image": "x"},
        {"name": "b", "image": "x"},
    ]}});
    let wanted = |field: Field, holder: &JsonPointer| match field {
        Field::Seccomp => holder.as_str() == "/spec",
        Field::NoPrivilegeEscalation => holder.as_str() == "/spec/containers/1",
        _ => false,
    };
    let made = additions(&pod, "/spec", &Hardening::default(), &wanted);
    let pointers: Vec<String> = made.iter().map(|a| a.pointer().to_string()).collect();
    assert_eq!(
        pointers,
        [
            "/spec/securityContext/seccompProfile",
            "/spec/containers/1/securityContext"
        ]
    );
    assert_eq!(made[1].value, json!({"allowPrivilegeEscalation": false}));
    assert_eq!(made[1].holder_name, "container \"b\"");
    assert_eq!(made[0].holder_name, "the pod");
}

/// An addition answers the finding that names its field in the holder, not every finding of
/// the rule there: dropping `ALL` leaves a capability the container adds.
#[test]
fn an_addition_addresses_the_finding_of_its_own_field() {
    let p = |text: &str| JsonPointer::parse(text).unwrap();
    let container = p("/spec/containers/0");
    let pod = p("/spec");
    assert!(Field::DropAllCapabilities.addresses(
        &container,
        &p("/spec/containers/0/securityContext/capabilities/drop")
    ));
    assert!(!Field::DropAllCapabilities.addresses(
        &container,
        &p("/spec/containers/0/securityContext/capabilities/add/3")
    ));
    assert!(!Field::NoPrivilegeEscalation.addresses(
        &container,
        &p("/spec/containers/1/securityContext/allowPrivilegeEscalation")
    ));
    // The pod's setting settles a container's finding.
    assert!(
        Field::RunAsNonRoot.addresses(&pod, &p("/spec/containers/1/securityContext/runAsNonRoot"))
    );
    assert!(Field::Seccomp.addresses(&pod, &p("/spec/securityContext/seccompProfile")));
}

/// ECK gives each container of Elasticsearch 8.8.0 and later that sets no security context
/// its own (no privilege escalation, every capability dropped, a read-only root): hardening
/// writes no partial context there, which would make ECK drop the rest of its own, and a
/// container that needs more gets the operator's whole context with the addition in it.
#[test]
fn an_operators_default_context_is_kept_whole() {
    let es = |version: &str| {
        json!({"apiVersion": "elasticsearch.k8s.elastic.co/v1", "kind": "Elasticsearch",
            "metadata": {"name": "logs"},
            "spec": {"version": version, "nodeSets": [{"name": "default", "podTemplate": {"spec": {
                "securityContext": {"runAsUser": 1000},
                "containers": [
                    {"name": "elasticsearch"},
                    {"name": "shipper", "image": "x", "securityContext": {"runAsUser": 1000}}]}}}]}})
    };
    let settings = Hardening {
        run_as_non_root: RunAsNonRoot::Never,
        ..Hardening::default()
    };
    let additions = for_value(
        "elasticsearch.k8s.elastic.co",
        "Elasticsearch",
        &es("8.15.0"),
        &settings,
        &every,
    );
    let containers = "/spec/nodeSets/0/podTemplate/spec/containers";
    // Nothing for the elasticsearch container; the shipper's own context gets the fields.
    assert!(
        additions
            .iter()
            .all(|a| a.holder.as_str() != format!("{containers}/0")),
        "{additions:#?}"
    );
    assert!(
        additions
            .iter()
            .any(|a| a.holder.as_str() == format!("{containers}/1")),
        "{additions:#?}"
    );
    // Before 8.8.0 ECK gives none: the container gets the usual context.
    let older = for_value(
        "elasticsearch.k8s.elastic.co",
        "Elasticsearch",
        &es("8.7.0"),
        &settings,
        &every,
    );
    assert!(
        older
            .iter()
            .any(|a| a.holder.as_str() == format!("{containers}/0")),
        "{older:#?}"
    );
    // Every setting at its strictest still leaves ECK's own context in force: the pod gets
    // runAsNonRoot, the container nothing that would replace the operator's.
    let always = Hardening {
        run_as_non_root: RunAsNonRoot::Always,
        drop_all_capabilities: DropAllCapabilities::Always,
        ..Hardening::default()
    };
    let mut object = es("8.15.0");
    let additions = for_value(
        "elasticsearch.k8s.elastic.co",
        "Elasticsearch",
        &object,
        &always,
        &every,
    );
    assert!(apply(&mut object, &additions), "{additions:#?}");
    assert_eq!(
        object.at(&format!("{containers}/0/securityContext")),
        None,
        "{object:#}"
    );
    assert_eq!(
        object.at("/spec/nodeSets/0/podTemplate/spec/securityContext/runAsNonRoot"),
        Some(&json!(true))
    );
}

/// Where the operator's context lacks a field the settings add, the container that sets none
/// gets one whole context: the operator's, with the field in it.
#[test]
fn an_addition_to_an_operators_context_writes_it_whole() {
    let mut object = json!({"spec": {"nodeSets": [{"name": "default", "podTemplate": {"spec": {
        "securityContext": {"runAsNonRoot": true, "seccompProfile": {"type": "RuntimeDefault"}},
        "containers": [{"name": "elasticsearch"}]}}}]}});
    let defaults = json!({"privileged": false, "readOnlyRootFilesystem": true});
    let additions = onto_operator_defaults(
        "elasticsearch.k8s.elastic.co",
        "Elasticsearch",
        &object,
        &defaults,
        &Hardening::default(),
        &every,
    );
    assert_eq!(additions.len(), 1, "{additions:#?}");
    assert_eq!(additions[0].key, "securityContext");
    assert!(apply(&mut object, &additions));
    assert_eq!(
        object.at("/spec/nodeSets/0/podTemplate/spec/containers/0/securityContext"),
        Some(&json!({"privileged": false, "readOnlyRootFilesystem": true,
            "allowPrivilegeEscalation": false, "capabilities": {"drop": ["ALL"]}}))
    );
}
