//! Cases from Gatekeeper's mutation tests and docs, and the gatekeeper-library's mutation
//! samples (their pods, mutated as Gatekeeper mutates them).

use serde_json::{Value, json};

use super::*;

fn yaml(text: &str) -> Vec<Value> {
    let stream =
        palisade_inventory::yaml::parse_stream(text, &palisade_inventory::Limits::default());
    assert!(stream.errors.is_empty(), "{:?}", stream.errors);
    stream.documents.into_iter().map(|d| d.value).collect()
}

fn mutator(text: &str) -> Mutator {
    Mutator::from_value(&yaml(text)[0]).unwrap()
}

fn refused(text: &str) -> String {
    Mutator::from_value(&yaml(text)[0]).unwrap_err().0
}

fn system(list: Vec<Mutator>) -> Mutators {
    let (mutators, problems) = Mutators::new(list, Vec::new());
    assert!(problems.is_empty(), "{problems:?}");
    mutators
}

fn pod(containers: Value) -> Value {
    json!({"apiVersion": "v1", "kind": "Pod",
        "metadata": {"name": "web", "namespace": "shop"},
        "spec": {"containers": containers}})
}

fn mutated(mutators: &Mutators, mut object: Value) -> Value {
    mutators
        .mutate(&mut object, true, None, Some("CREATE"), false)
        .unwrap();
    object
}

const RUN_AS_USER: &str = r#"
apiVersion: mutations.gatekeeper.sh/v1
kind: Assign
metadata: {name: k8spsprunasuser}
spec:
  applyTo: [{groups: [""], kinds: ["Pod"], versions: ["v1"]}]
  location: "spec.containers[name:*].securityContext.runAsUser"
  parameters:
    pathTests:
    - subPath: "spec.containers[name:*].securityContext.runAsUser"
      condition: MustNotExist
    assign: {value: 1000}
"#;

#[test]
fn assign_sets_every_element_of_a_glob_unless_the_test_forbids() {
    let mutators = system(vec![mutator(RUN_AS_USER)]);
    let out = mutated(
        &mutators,
        pod(json!([
            {"name": "a", "image": "nginx"},
            {"name": "b", "image": "nginx", "securityContext": {"runAsUser": 0}},
        ])),
    );
    assert_eq!(
        out.at("/spec/containers/0/securityContext"),
        Some(&json!({"runAsUser": 1000}))
    );
    assert_eq!(
        out.at("/spec/containers/1/securityContext/runAsUser"),
        Some(&json!(0)),
        "MustNotExist keeps what the author set"
    );
    // Another kind, another version: not applied.
    let mut deployment = json!({"apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": {"name": "d"}, "spec": {"containers": [{"name": "a"}]}});
    let before = deployment.clone();
    assert!(
        !mutators
            .mutate(&mut deployment, true, None, None, false)
            .unwrap()
    );
    assert_eq!(deployment, before);
}

#[test]
fn a_keyed_element_is_created_when_missing_and_must_exist_stops_it() {
    let sidecar = mutator(
        r#"
kind: Assign
metadata: {name: sidecar}
spec:
  applyTo: [{groups: [""], kinds: ["Pod"], versions: ["v1"]}]
  location: "spec.containers[name: proxy].image"
  parameters: {assign: {value: "envoy:1.30"}}
"#,
    );
    let out = mutated(&system(vec![sidecar]), pod(json!([{"name": "a"}])));
    assert_eq!(
        out.at("/spec/containers"),
        Some(&json!([{"name": "a"}, {"name": "proxy", "image": "envoy:1.30"}]))
    );
    let only_existing = mutator(
        r#"
kind: Assign
metadata: {name: pull}
spec:
  applyTo: [{groups: [""], kinds: ["Pod"], versions: ["v1"]}]
  location: "spec.containers[name: proxy].imagePullPolicy"
  parameters:
    pathTests: [{subPath: "spec.containers[name: proxy]", condition: MustExist}]
    assign: {value: Always}
"#,
    );
    let mutators = system(vec![only_existing]);
    let untouched = pod(json!([{"name": "a"}]));
    assert_eq!(mutated(&mutators, untouched.clone()), untouched);
    let out = mutated(&mutators, pod(json!([{"name": "proxy"}])));
    assert_eq!(
        out.at("/spec/containers/0/imagePullPolicy"),
        Some(&json!("Always"))
    );
}

#[test]
fn missing_parents_are_created_only_when_the_mutation_happens() {
    let seccomp = mutator(
        r#"
kind: Assign
metadata: {name: seccomp}
spec:
  applyTo: [{groups: [""], kinds: ["Pod"], versions: ["v1"]}]
  location: "spec.securityContext.seccompProfile.type"
  parameters:
    pathTests: [{subPath: "spec.securityContext.seccompProfile", condition: MustExist}]
    assign: {value: RuntimeDefault}
"#,
    );
    let mutators = system(vec![seccomp]);
    let bare = pod(json!([{"name": "a"}]));
    assert_eq!(
        mutated(&mutators, bare.clone()),
        bare,
        "no empty securityContext left behind"
    );
}

#[test]
fn assign_metadata_never_overwrites_and_reads_metadata() {
    let owner = mutator(
        r#"
kind: AssignMetadata
metadata: {name: owner}
spec:
  match: {namespaces: ["shop"]}
  location: "metadata.labels.owner"
  parameters: {assign: {value: "platform"}}
"#,
    );
    let ns_label = mutator(
        r#"
kind: AssignMetadata
metadata: {name: ns}
spec:
  location: "metadata.annotations.'example.com/namespace'"
  parameters: {assign: {fromMetadata: {field: namespace}}}
"#,
    );
    let mutators = system(vec![owner, ns_label]);
    let out = mutated(&mutators, pod(json!([])));
    assert_eq!(out.at("/metadata/labels/owner"), Some(&json!("platform")));
    assert_eq!(
        out.at("/metadata/annotations/example.com~1namespace"),
        Some(&json!("shop"))
    );
    let mut labelled = pod(json!([]));
    labelled["metadata"]["labels"] = json!({"owner": "team-a"});
    let out = mutated(&mutators, labelled);
    assert_eq!(out.at("/metadata/labels/owner"), Some(&json!("team-a")));
    let mut elsewhere = pod(json!([]));
    elsewhere["metadata"]["namespace"] = json!("other");
    assert!(
        mutated(&mutators, elsewhere)
            .at("/metadata/labels")
            .is_none()
    );
}

#[test]
fn modify_set_merges_and_prunes_values() {
    let drop_all = mutator(
        r#"
kind: ModifySet
metadata: {name: drop-all}
spec:
  applyTo: [{groups: [""], kinds: ["Pod"], versions: ["v1"]}]
  location: "spec.containers[name: *].securityContext.capabilities.drop"
  parameters:
    operation: merge
    values: {fromList: [ALL]}
"#,
    );
    let no_admin = mutator(
        r#"
kind: ModifySet
metadata: {name: no-admin}
spec:
  applyTo: [{groups: [""], kinds: ["Pod"], versions: ["v1"]}]
  location: "spec.containers[name: *].securityContext.capabilities.add"
  parameters:
    operation: prune
    values: {fromList: [SYS_ADMIN, NET_ADMIN]}
"#,
    );
    let mutators = system(vec![drop_all, no_admin]);
    let out = mutated(
        &mutators,
        pod(json!([
            {"name": "a", "securityContext": {"capabilities": {"add": ["SYS_ADMIN", "CHOWN"], "drop": ["NET_RAW"]}}},
            {"name": "b"},
        ])),
    );
    assert_eq!(
        out.at("/spec/containers/0/securityContext/capabilities"),
        Some(&json!({"add": ["CHOWN"], "drop": ["NET_RAW", "ALL"]}))
    );
    assert_eq!(
        out.at("/spec/containers/1/securityContext/capabilities"),
        Some(&json!({"drop": ["ALL"]})),
        "prune leaves a missing list missing"
    );
}

#[test]
fn assign_image_replaces_the_parts_given() {
    let registry = mutator(
        r#"
kind: AssignImage
metadata: {name: mirror}
spec:
  applyTo: [{groups: [""], kinds: ["Pod"], versions: ["v1"]}]
  location: "spec.containers[name: *].image"
  parameters: {assignDomain: "mirror.example.com:5000"}
"#,
    );
    let mutators = system(vec![registry]);
    let out = mutated(
        &mutators,
        pod(json!([
            {"name": "a", "image": "nginx:1.27"},
            {"name": "b", "image": "ghcr.io/org/app@sha256:0123456789abcdef0123456789abcdef"},
            {"name": "c", "image": "localhost:5000/tool"},
        ])),
    );
    let images: Vec<&str> = out["spec"]["containers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["image"].as_str().unwrap())
        .collect();
    assert_eq!(
        images,
        [
            "mirror.example.com:5000/nginx:1.27",
            "mirror.example.com:5000/org/app@sha256:0123456789abcdef0123456789abcdef",
            "mirror.example.com:5000/tool",
        ]
    );
    assert_eq!(
        mutate_image("nginx", "", "library/nginx", ":1.27"),
        "library/nginx:1.27"
    );
}

#[test]
fn mutators_apply_in_order_until_the_object_stops_changing() {
    // Assign runs before ModifySet (kinds in order), so it sees the securityContext that
    // ModifySet creates only in the second round.
    let non_root = mutator(
        r#"
kind: Assign
metadata: {name: non-root}
spec:
  applyTo: [{groups: [""], kinds: ["Pod"], versions: ["v1"]}]
  location: "spec.containers[name: *].securityContext.runAsNonRoot"
  parameters:
    pathTests: [{subPath: "spec.containers[name: *].securityContext", condition: MustExist}]
    assign: {value: true}
"#,
    );
    let drop_all = mutator(
        r#"
kind: ModifySet
metadata: {name: drop-all}
spec:
  applyTo: [{groups: [""], kinds: ["Pod"], versions: ["v1"]}]
  location: "spec.containers[name: *].securityContext.capabilities.drop"
  parameters: {values: {fromList: [ALL]}}
"#,
    );
    let mutators = system(vec![drop_all, non_root]);
    let out = mutated(&mutators, pod(json!([{"name": "a", "image": "nginx"}])));
    assert_eq!(
        out.at("/spec/containers/0/securityContext"),
        Some(&json!({"capabilities": {"drop": ["ALL"]}, "runAsNonRoot": true}))
    );
    // fromMetadata reads the object's own name.
    let hostname = mutator(
        r#"
kind: Assign
metadata: {name: hostname}
spec:
  applyTo: [{groups: [""], kinds: ["Pod"], versions: ["v1"]}]
  location: "spec.hostname"
  parameters: {assign: {fromMetadata: {field: name}}}
"#,
    );
    let out = mutated(&system(vec![hostname]), pod(json!([])));
    assert_eq!(out.at("/spec/hostname"), Some(&json!("web")));
}

#[test]
fn conflicting_shapes_leave_both_out() {
    let as_list = mutator(
        r#"
kind: Assign
metadata: {name: list}
spec:
  applyTo: [{groups: [""], kinds: ["Pod"], versions: ["v1"]}]
  location: "spec.containers[name: a].image"
  parameters: {assign: {value: x}}
"#,
    );
    let as_object = mutator(
        r#"
kind: Assign
metadata: {name: object}
spec:
  applyTo: [{groups: [""], kinds: ["Pod"], versions: ["v1"]}]
  location: "spec.containers.a"
  parameters: {assign: {value: x}}
"#,
    );
    let other_kind = mutator(
        r#"
kind: Assign
metadata: {name: other}
spec:
  applyTo: [{groups: ["apps"], kinds: ["Deployment"], versions: ["v1"]}]
  location: "spec.containers.a"
  parameters: {assign: {value: x}}
"#,
    );
    let (mutators, problems) = Mutators::new(vec![as_list, as_object, other_kind], Vec::new());
    assert_eq!(
        problems,
        [
            "Assign/list and Assign/object give spec.containers different shapes; neither is applied, as Gatekeeper applies neither"
        ]
    );
    assert_eq!(mutators.list.len(), 1);
    let set = mutator(
        r#"
kind: ModifySet
metadata: {name: set}
spec:
  applyTo: [{groups: [""], kinds: ["Pod"], versions: ["v1"]}]
  location: "spec.containers[name: *].args"
  parameters: {values: {fromList: ["--x"]}}
"#,
    );
    let string = mutator(
        r#"
kind: AssignImage
metadata: {name: string}
spec:
  applyTo: [{groups: [""], kinds: ["Pod"], versions: ["v1"]}]
  location: "spec.containers[name: *].args"
  parameters: {assignTag: ":1"}
"#,
    );
    let (_, problems) = Mutators::new(vec![set, string], Vec::new());
    assert_eq!(problems.len(), 1, "{problems:?}");
}

/// A mutator that meets a value of the wrong type fails naming the type, never the value
/// (it may be a credential).
#[test]
fn a_wrong_type_is_named_without_its_value() {
    let set = mutator(
        r#"
kind: ModifySet
metadata: {name: args}
spec:
  applyTo: [{groups: [""], kinds: ["Pod"], versions: ["v1"]}]
  location: "spec.containers[name: *].args"
  parameters: {values: {fromList: ["--x"]}}
"#,
    );
    let image = mutator(
        r#"
kind: AssignImage
metadata: {name: mirror}
spec:
  applyTo: [{groups: [""], kinds: ["Pod"], versions: ["v1"]}]
  location: "spec.containers[name: *].image"
  parameters: {assignDomain: "m.example.com"}
"#,
    );
    for m in [set, image] {
        let mutators = system(vec![m]);
        let mut object = pod(json!([{"name": "a", "image": {"token": "hunter2-canary"},
            "args": "hunter2-canary"}]));
        let error = mutators
            .mutate(&mut object, true, None, Some("CREATE"), false)
            .unwrap_err()
            .0;
        assert!(!error.contains("hunter2"), "{error}");
        assert!(
            error.contains("a string") || error.contains("a map"),
            "{error}"
        );
    }
}

#[test]
fn what_gatekeeper_refuses_is_refused() {
    let head = |kind: &str| {
        format!(
            "kind: {kind}\nmetadata: {{name: m}}\nspec:\n  applyTo: [{{groups: [\"\"], kinds: [\"Pod\"], versions: [\"v1\"]}}]\n"
        )
    };
    for (yaml, expected) in [
        (
            format!("{}  location: metadata.labels.a\n  parameters: {{assign: {{value: x}}}}\n", head("Assign")),
            "only AssignMetadata may change metadata",
        ),
        (
            format!("{}  location: spec.a\n  parameters: {{assign: {{externalData: {{provider: p}}}}}}\n", head("Assign")),
            "Palisade cannot call",
        ),
        (
            format!("{}  location: spec.a\n  parameters: {{assign: {{}}}}\n", head("Assign")),
            "must set value or fromMetadata",
        ),
        (
            format!("{}  location: \"spec.containers[name: a].name\"\n  parameters: {{assign: {{value: b}}}}\n", head("Assign")),
            "changes the list element's key",
        ),
        (
            format!("{}  location: \"spec.containers[name: a]\"\n  parameters: {{assign: {{value: {{name: b}}}}}}\n", head("Assign")),
            "must be an object whose name is a",
        ),
        (
            format!("{}  location: spec.a.b\n  parameters:\n    pathTests: [{{subPath: spec.x, condition: MustExist}}]\n    assign: {{value: 1}}\n", head("Assign")),
            "not a prefix of the location",
        ),
        (
            format!("{}  location: \"spec.containers[name: *].image\"\n  parameters: {{assignPath: \"gcr.io/app\"}}\n", head("AssignImage")),
            "assignDomain must be set",
        ),
        (
            format!("{}  location: \"spec.containers[name: *].image\"\n  parameters: {{assignTag: \"latest\"}}\n", head("AssignImage")),
            "must be `:tag`",
        ),
        (
            format!("{}  location: \"spec.containers[name: a]\"\n  parameters: {{values: {{fromList: [a]}}}}\n", head("ModifySet")),
            "cannot be a keyed list",
        ),
        (
            "kind: Assign\nmetadata: {name: m}\nspec:\n  location: spec.a\n  parameters: {assign: {value: 1}}\n".to_string(),
            "spec.applyTo is required",
        ),
        (
            "kind: AssignMetadata\nmetadata: {name: m}\nspec:\n  location: spec.a\n  parameters: {assign: {value: x}}\n".to_string(),
            "must be metadata.labels.<key>",
        ),
        (
            "kind: AssignMetadata\nmetadata: {name: m}\nspec:\n  location: metadata.labels.a\n  parameters: {assign: {value: 1}}\n".to_string(),
            "must be a string",
        ),
    ] {
        let message = refused(&yaml);
        assert!(message.contains(expected), "{message}\n{yaml}");
    }
}

/// The gatekeeper-library's mutation samples, applied to their example pods: every mutator
/// reads, and its pod comes out with the field it sets.
#[test]
fn the_gatekeeper_library_samples_mutate_their_pods() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../../shared/corpora/gatekeeper-library/mutation");
    if !root.exists() {
        assert!(
            std::env::var_os("CI").is_none(),
            "{} is required in CI",
            root.display()
        );
        return;
    }
    let mut read = Vec::new();
    let mut pods = Vec::new();
    for entry in walk(&root) {
        let text = std::fs::read_to_string(&entry).unwrap();
        for value in yaml(&text) {
            if value
                .get("apiVersion")
                .and_then(Value::as_str)
                .is_some_and(|v| v.starts_with("mutations.gatekeeper.sh"))
            {
                read.push(
                    Mutator::from_value(&value)
                        .unwrap_or_else(|e| panic!("{}: {e}", entry.display())),
                );
            } else if value.get("kind").and_then(Value::as_str) == Some("Pod") {
                pods.push(value);
            }
        }
    }
    assert_eq!(read.len(), 16);
    assert_eq!(pods.len(), 7);
    // All of them together, as a cluster that installed the library's samples holds them:
    // none conflicts, and every example pod converges with the defaults set.
    let mutators = system(read);
    for mut pod in pods {
        let name = pod.at("/metadata/name").cloned();
        mutators
            .mutate(&mut pod, true, None, Some("CREATE"), false)
            .unwrap_or_else(|e| panic!("{name:?}: {e}"));
        for container in pod["spec"]["containers"].as_array().unwrap() {
            let context = &container["securityContext"];
            assert!(context["runAsNonRoot"].is_boolean(), "{name:?}: {pod}");
            assert!(
                context["readOnlyRootFilesystem"].is_boolean(),
                "{name:?}: {pod}"
            );
        }
        assert_eq!(
            pod.at("/spec/securityContext/seccompProfile/type"),
            Some(&json!("RuntimeDefault")),
            "{name:?}"
        );
    }
}

fn walk(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            out.extend(walk(&path));
        } else if path.extension().is_some_and(|e| e == "yaml") {
            out.push(path);
        }
    }
    out.sort();
    out
}

fn json_value() -> impl proptest::strategy::Strategy<Value = Value> {
    use proptest::prelude::*;
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        (-3i64..3).prop_map(|n| json!(n)),
        prop::sample::select(vec!["a", "proxy", "nginx:1.27", "ALL", "x.io/y:1"])
            .prop_map(|s| json!(s)),
    ];
    leaf.prop_recursive(4, 40, 4, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            prop::collection::btree_map(
                prop::sample::select(vec![
                    "spec",
                    "containers",
                    "name",
                    "image",
                    "securityContext",
                    "capabilities",
                    "drop",
                    "metadata",
                    "labels",
                    "x",
                ]),
                inner,
                0..4
            )
            .prop_map(|m| Value::Object(m.into_iter().map(|(k, v)| (k.to_string(), v)).collect())),
        ]
    })
}

proptest::proptest! {
    /// On any object (of any shape, with wrong types where fields are expected), mutating
    /// fails or succeeds without panicking, and once it succeeded a second pass changes
    /// nothing: the mutators have converged.
    #[test]
    fn mutation_converges_or_fails_on_any_object(spec in json_value(), metadata in json_value()) {
        static MUTATORS: std::sync::OnceLock<Mutators> = std::sync::OnceLock::new();
        let mutators = MUTATORS.get_or_init(|| system(vec![
            mutator(RUN_AS_USER),
            mutator("kind: Assign\nmetadata: {name: proxy}\nspec:\n  applyTo: [{groups: [\"\"], kinds: [\"Pod\"], versions: [\"v1\"]}]\n  location: \"spec.containers[name: proxy].image\"\n  parameters: {assign: {value: \"envoy:1\"}}\n"),
            mutator("kind: ModifySet\nmetadata: {name: drop}\nspec:\n  applyTo: [{groups: [\"\"], kinds: [\"Pod\"], versions: [\"v1\"]}]\n  location: \"spec.containers[name: *].securityContext.capabilities.drop\"\n  parameters: {values: {fromList: [ALL]}}\n"),
            mutator("kind: AssignImage\nmetadata: {name: mirror}\nspec:\n  applyTo: [{groups: [\"\"], kinds: [\"Pod\"], versions: [\"v1\"]}]\n  location: \"spec.containers[name: *].image\"\n  parameters: {assignDomain: \"m.example.com\"}\n"),
            mutator("kind: AssignMetadata\nmetadata: {name: owner}\nspec:\n  location: metadata.labels.owner\n  parameters: {assign: {value: p}}\n"),
        ]));
        let mut object = json!({"apiVersion": "v1", "kind": "Pod", "metadata": metadata, "spec": spec});
        if mutators.mutate(&mut object, true, None, Some("CREATE"), false).is_ok() {
            let once = object.clone();
            let again = mutators.mutate(&mut object, true, None, Some("CREATE"), false);
            proptest::prop_assert_eq!(again, Ok(false));
            proptest::prop_assert_eq!(object, once);
        }
    }
}
