//! Verdicts in process, on real AdmissionReview documents and peers' webhook cases
//! (../shared/corpora, required), and the product promise: an object gets the verdict from
//! the webhook that `palisade scan` gives it, across every rule fixture.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use palisade_admission::{Admission, AdmissionSettings, Mode, OnTimeout, ReviewError, decode};
use palisade_core::tree::Tree as _;
use palisade_inventory::{Limits, load_text};
use palisade_scan::{ClusterModel, ScanOptions, scan_inventory};
use serde_json::{Value, json};

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn corpus(relative: &str) -> PathBuf {
    let path = workspace().join("../shared/corpora").join(relative);
    assert!(
        path.exists(),
        "{}: the shared corpora are required (../shared/corpora)",
        path.display()
    );
    path
}

/// A CREATE review of `object` as the API server sends it.
fn review_of(object: &Value, uid: &str) -> Vec<u8> {
    let api_version = object["apiVersion"].as_str().unwrap_or("v1");
    let (group, version) = api_version.split_once('/').unwrap_or(("", api_version));
    let kind = object["kind"].as_str().unwrap_or("");
    let mut request = json!({
        "uid": uid,
        "kind": {"group": group, "version": version, "kind": kind},
        "resource": {"group": group, "version": version, "resource": format!("{}s", kind.to_ascii_lowercase())},
        "name": object.at("/metadata/name").and_then(Value::as_str).unwrap_or(""),
        "operation": "CREATE",
        "userInfo": {"username": "alice", "groups": ["system:authenticated"]},
        "object": object,
    });
    if let Some(ns) = object.at("/metadata/namespace").and_then(Value::as_str) {
        request["namespace"] = json!(ns);
    }
    serde_json::to_vec(&json!({"apiVersion": "admission.k8s.io/v1", "kind": "AdmissionReview", "request": request})).unwrap()
}

fn admission(settings: AdmissionSettings, cluster: palisade_inventory::Inventory) -> Admission {
    Admission::new(
        ClusterModel::prepare(cluster, ScanOptions::default()),
        settings,
        None,
    )
}

/// Settings that enforce exactly `rules`, everything else audited.
fn enforcing(rules: &[&str]) -> AdmissionSettings {
    let mut settings = AdmissionSettings {
        mode: Mode::Audit,
        ..AdmissionSettings::default()
    };
    for rule in rules {
        settings.rules.insert(rule.to_string(), Mode::Enforce);
    }
    settings
}

#[test]
fn kubewarden_reviews_get_the_policy_servers_verdicts() {
    let dir = corpus("admission-review/kubewarden-policy-server/tests/data");
    // Its pod-privileged policy, translated: only privileged containers are denied.
    let judge = admission(enforcing(&["POD001"]), Default::default());
    let expected = [
        ("pod_with_privileged_containers.json", Some(false)),
        ("pod_without_privileged_containers.json", Some(true)),
        ("pod_sleep_100ms.json", Some(true)),
        ("pod_sleep_4s.json", Some(true)),
        ("raw_review.json", None),
    ];
    for (file, allowed) in expected {
        let body = std::fs::read(dir.join(file)).unwrap();
        match (decode(&body), allowed) {
            (Ok(review), Some(allowed)) => {
                let judged = judge.validate(&review);
                assert_eq!(judged.allowed(), allowed, "{file}: {:?}", judged.log);
                assert_eq!(judged.response().uid, review.request.uid);
                if !allowed {
                    let message = &judged.response().result.message;
                    assert!(message.contains("privileged"), "{file}: {message}");
                }
            }
            // A raw (non-Kubernetes) review is not an AdmissionReview: a typed error.
            (Err(ReviewError::WrongKind { .. }), None) => {}
            (other, _) => panic!("{file}: {other:?}"),
        }
    }
}

#[test]
fn polaris_webhook_cases_get_polaris_verdicts() {
    let dir = corpus("polaris/test/webhook_cases");
    let expectations: Value =
        serde_json::from_slice(&std::fs::read(corpus("polaris/expectations.json")).unwrap())
            .unwrap();
    // Polaris's default `danger` checks, translated to the rules that check the same thing:
    // tagNotSpecified, runAsPrivileged, privilegeEscalationAllowed, runAsRootAllowed,
    // hostIPC/PID/NetworkSet, dangerousCapabilities.
    let rules = ["IMG001", "POD001", "POD002", "POD003", "POD004", "POD007"];
    let mut settings = enforcing(&rules);
    // Its `polaris.fairwinds.com/exempt` annotation, translated to ours, which the webhook
    // honours only when told to.
    settings.honor_object_suppressions = true;
    let judge = admission(settings, Default::default());
    let mut compared = 0;
    for (name, expected) in expectations["files"].as_object().unwrap() {
        let Some(file) = name.strip_prefix("test/webhook_cases/") else {
            continue;
        };
        let allowed = match expected["_admission_webhook"].as_str() {
            Some("allow") => true,
            Some("deny") => false,
            _ => continue,
        };
        let text = std::fs::read_to_string(dir.join(file)).unwrap().replace(
            "polaris.fairwinds.com/exempt: \"true\"",
            &format!(
                "palisade.dev/ignore: \"{}: exempt from Polaris\"",
                rules.join(",")
            ),
        );
        let loaded = load_text(file, &text, &Limits::default());
        assert!(!loaded.inventory.objects.is_empty(), "{file}");
        // `kubectl apply` of the file succeeds only when every object is admitted.
        let logs: Vec<_> = loaded
            .inventory
            .objects
            .iter()
            .map(|object| judge.validate(&decode(&review_of(&object.value, file)).unwrap()))
            .collect();
        let admitted = logs.iter().all(|judged| judged.allowed());
        let logs: Vec<_> = logs.iter().map(|j| &j.log).collect();
        assert_eq!(admitted, allowed, "{file}: {logs:?}");
        compared += 1;
    }
    assert_eq!(compared, 25, "every webhook case was compared");
}

/// Every object of every rule fixture: the webhook (default settings, nothing exempt, the
/// objects' own suppressions honoured as a scan honours them) denies exactly the objects a
/// scan of the same file fails at the default `--fail-on high`. Pods whose controller is in
/// the same file are left out: a scan judges them through their controller, while at
/// admission the pod is a request of its own.
#[test]
fn the_webhook_gives_the_verdict_scan_gives_across_all_fixtures() {
    let fixtures = workspace().join("crates/palisade-rules/tests/fixtures");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&fixtures)
        .unwrap()
        .flat_map(|rule| std::fs::read_dir(rule.unwrap().path()).unwrap())
        .map(|f| f.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "yaml" || e == "yml"))
        .collect();
    files.sort();
    assert!(files.len() > 150, "{} fixture files", files.len());
    let settings = AdmissionSettings {
        exempt_namespaces: Vec::new(),
        honor_object_suppressions: true,
        ..AdmissionSettings::default()
    };
    let (mut compared, mut denied) = (0, 0);
    let mut disagreements = Vec::new();
    for file in &files {
        let text = std::fs::read_to_string(file).unwrap();
        let name = file.strip_prefix(&fixtures).unwrap().display().to_string();
        let loaded = load_text(&name, &text, &Limits::default());
        let report = scan_inventory(&loaded.inventory, &ScanOptions::default());
        let cluster = load_text(&name, &text, &Limits::default()).inventory;
        let judge = admission(settings.clone(), cluster);
        for (index, object) in loaded.inventory.objects.iter().enumerate() {
            let id = &object.id;
            let controlled = object
                .value
                .at("/metadata/ownerReferences")
                .and_then(Value::as_array)
                .is_some_and(|owners| !owners.is_empty());
            if controlled || id.name.is_none() {
                continue;
            }
            let scan_fails = report.findings.iter().any(|f| {
                !f.is_suppressed()
                    && f.severity >= palisade_core::Severity::High
                    && f.object().is_some_and(|o| {
                        o.kind == id.kind && o.name == id.name && o.namespace == id.namespace
                    })
            });
            let review = decode(&review_of(&object.value, &format!("{name}#{index}"))).unwrap();
            let judged = judge.validate(&review);
            if judged.allowed() == scan_fails {
                disagreements.push(format!(
                    "{name} {} {:?}: scan {} webhook {:?}",
                    id.kind,
                    id.name,
                    if scan_fails { "fails" } else { "passes" },
                    judged.log
                ));
            }
            compared += 1;
            denied += usize::from(!judged.allowed());
        }
    }
    assert!(disagreements.is_empty(), "{}", disagreements.join("\n"));
    eprintln!(
        "{compared} objects of {} fixture files: the same verdict, {denied} denied",
        files.len()
    );
    assert!(
        compared > 200 && denied > 30,
        "{compared} compared, {denied} denied"
    );
}

#[test]
fn updates_grandfather_what_the_stored_object_already_had() {
    let judge = admission(AdmissionSettings::default(), Default::default());
    let pod = |privileged: bool, host_pid: bool| {
        json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p", "namespace": "shop"},
               "spec": {"hostPID": host_pid, "containers": [{"name": "c", "image": "nginx:1.27", "securityContext": {"privileged": privileged}}]}})
    };
    let update = |old: Value, new: Value| {
        let mut body: Value = serde_json::from_slice(&review_of(&new, "u")).unwrap();
        body["request"]["operation"] = json!("UPDATE");
        body["request"]["oldObject"] = old;
        decode(&serde_json::to_vec(&body).unwrap()).unwrap()
    };
    // Already privileged: a label change is allowed, with a warning.
    let judged = judge.validate(&update(pod(true, false), pod(true, false)));
    assert!(judged.allowed(), "{:?}", judged.log);
    assert_eq!(judged.log.grandfathered, ["POD001"]);
    // A new violation in the update is denied.
    let judged = judge.validate(&update(pod(true, false), pod(true, true)));
    assert!(!judged.allowed());
    assert_eq!(judged.log.denied, ["POD004"]);
    // Deletions and status updates are not judged.
    let mut body: Value = serde_json::from_slice(&review_of(&pod(true, false), "d")).unwrap();
    body["request"]["operation"] = json!("DELETE");
    body["request"]["oldObject"] = body["request"]["object"].take();
    assert!(
        judge
            .validate(&decode(&serde_json::to_vec(&body).unwrap()).unwrap())
            .allowed()
    );
    let mut body: Value = serde_json::from_slice(&review_of(&pod(true, false), "s")).unwrap();
    body["request"]["subResource"] = json!("status");
    assert!(
        judge
            .validate(&decode(&serde_json::to_vec(&body).unwrap()).unwrap())
            .allowed()
    );
}

/// A webhook with the hardening patch on.
fn mutating() -> Admission {
    let settings = AdmissionSettings {
        mutate: palisade_admission::settings::MutateSettings {
            enabled: true,
            ..Default::default()
        },
        ..AdmissionSettings::default()
    };
    admission(settings, Default::default())
}

#[test]
fn the_mutated_object_passes_the_rules_the_patch_is_for() {
    let judge = mutating();
    let deployment = json!({"apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": {"name": "web", "namespace": "shop"},
        "spec": {"selector": {"matchLabels": {"app": "web"}}, "template": {
            "metadata": {"labels": {"app": "web"}},
            "spec": {"securityContext": {"runAsUser": 1000}, "containers": [{"name": "web", "image": "nginx:1.27"}]}}}});
    let review = decode(&review_of(&deployment, "m")).unwrap();
    let before = judge.validate(&review);
    let mutated = judge.mutate(&review);
    let patch: json_patch::Patch =
        serde_json::from_slice(mutated.response().patch.as_ref().expect("a patch")).unwrap();
    let mut patched = deployment.clone();
    json_patch::patch(&mut patched, &patch).unwrap();
    let after = judge.validate(&decode(&review_of(&patched, "m2")).unwrap());
    let targeted = ["POD002", "POD008", "POD014"];
    for rule in targeted {
        let had = [&before.log.warned, &before.log.audited, &before.log.denied]
            .iter()
            .any(|ids| ids.iter().any(|id| id == rule));
        let has = [&after.log.warned, &after.log.audited, &after.log.denied]
            .iter()
            .any(|ids| ids.iter().any(|id| id == rule));
        assert!(
            had && !has,
            "{rule}: before {:?} after {:?}",
            before.log,
            after.log
        );
    }
}

/// Each pod template of a kind with several is hardened: a RayCluster's head and worker
/// group both get the patch, and the patched object passes the rules it is for.
#[test]
fn every_template_of_a_ray_cluster_is_hardened() {
    let template = |name: &str| {
        json!({"spec": {"securityContext": {"runAsUser": 1000},
            "containers": [{"name": name, "image": "rayproject/ray:2.40.0"}]}})
    };
    let ray = json!({"apiVersion": "ray.io/v1", "kind": "RayCluster",
        "metadata": {"name": "ray", "namespace": "ml"},
        "spec": {"headGroupSpec": {"template": template("ray-head")},
            "workerGroupSpecs": [{"groupName": "gpu", "template": template("ray-worker")}]}});
    let patched = hardened_until_the_rules_pass(&ray);
    for spec in [
        "/spec/headGroupSpec/template/spec",
        "/spec/workerGroupSpecs/0/template/spec",
    ] {
        assert_eq!(
            patched.at(&format!("{spec}/securityContext/seccompProfile/type")),
            Some(&json!("RuntimeDefault")),
            "{spec}"
        );
    }
}

/// A container written alone (a KServe predictor's `sklearn`, which KServe merges into the
/// serving runtime's container) is hardened like a listed one, beside the pod-level fields
/// of the predictor.
#[test]
fn a_container_written_alone_is_hardened() {
    let isvc = json!({"apiVersion": "serving.kserve.io/v1beta1", "kind": "InferenceService",
        "metadata": {"name": "iris", "namespace": "ml"},
        "spec": {"predictor": {"securityContext": {"runAsUser": 1000},
            "sklearn": {"storageUri": "gs://models/iris"}}}});
    let patched = hardened_until_the_rules_pass(&isvc);
    assert_eq!(
        patched.at("/spec/predictor/sklearn/securityContext"),
        Some(&json!({"allowPrivilegeEscalation": false, "capabilities": {"drop": ["ALL"]}}))
    );
    assert_eq!(
        patched.at("/spec/predictor/securityContext/seccompProfile/type"),
        Some(&json!("RuntimeDefault"))
    );
}

/// `object` with the mutating webhook's patch applied, after checking that the validating
/// pass finds the rules the patch is for (POD002, POD008, POD014) on `object` and none of
/// them on it.
fn hardened_until_the_rules_pass(object: &Value) -> Value {
    let judge = mutating();
    let reported = |object: &Value, uid: &str, rule: &str| {
        let judged = judge.validate(&decode(&review_of(object, uid)).unwrap());
        [&judged.log.warned, &judged.log.audited, &judged.log.denied]
            .iter()
            .any(|ids| ids.iter().any(|id| id == rule))
    };
    let review = decode(&review_of(object, "m")).unwrap();
    let mutated = judge.mutate(&review);
    let patch: json_patch::Patch =
        serde_json::from_slice(mutated.response().patch.as_ref().expect("a patch")).unwrap();
    let mut patched = object.clone();
    json_patch::patch(&mut patched, &patch).unwrap();
    for rule in ["POD002", "POD008", "POD014"] {
        assert!(reported(object, "v1", rule), "{rule} before the patch");
        assert!(!reported(&patched, "v2", rule), "{rule} after the patch");
    }
    patched
}

/// At admission a Gatekeeper policy reads the request itself (`input.review.userInfo`,
/// `operation`, `oldObject`), not a request made up for the object.
#[test]
fn policies_read_the_request_the_object_arrived_in() {
    let dir =
        std::env::temp_dir().join(format!("palisade-admission-request-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(
        dir.join("policy.yaml"),
        r#"apiVersion: templates.gatekeeper.sh/v1
kind: ConstraintTemplate
metadata: {name: k8snomallory}
spec:
  crd: {spec: {names: {kind: K8sNoMallory}}}
  targets:
    - target: admission.k8s.gatekeeper.sh
      rego: |
        package k8snomallory
        violation[{"msg": msg}] {
          input.review.userInfo.username == "mallory"
          input.review.operation == "UPDATE"
          input.review.oldObject.metadata.labels.team != input.review.object.metadata.labels.team
          msg := "mallory may not move objects between teams"
        }
---
apiVersion: constraints.gatekeeper.sh/v1beta1
kind: K8sNoMallory
metadata: {name: no-mallory}
spec: {match: {kinds: [{apiGroups: [""], kinds: ["ConfigMap"]}]}}
"#,
    )
    .unwrap();
    let loaded = palisade_policy::provider::load(
        &[dir.join("policy.yaml")],
        palisade_policy::EnforcementPoint::Validation,
    );
    assert!(loaded.problems.is_empty(), "{:?}", loaded.problems);
    let mut options = ScanOptions::default();
    for rule in loaded.rules {
        options.rules.add(rule).unwrap();
    }
    let judge = Admission::new(
        ClusterModel::prepare(Default::default(), options),
        AdmissionSettings::default(),
        None,
    );
    let config = |team: &str| json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c", "namespace": "shop", "labels": {"team": team}}});
    let update = |user: &str| {
        let mut body: Value = serde_json::from_slice(&review_of(&config("b"), "u")).unwrap();
        body["request"]["operation"] = json!("UPDATE");
        body["request"]["userInfo"]["username"] = json!(user);
        body["request"]["oldObject"] = config("a");
        decode(&serde_json::to_vec(&body).unwrap()).unwrap()
    };
    let judged = judge.validate(&update("mallory"));
    assert!(!judged.allowed(), "{:?}", judged.log);
    assert!(
        judged
            .response()
            .result
            .message
            .contains("mallory may not move"),
        "{:?}",
        judged.response()
    );
    assert!(judge.validate(&update("alice")).allowed());
    let _ = std::fs::remove_dir_all(&dir);
}

/// Scan options that run the policies of `file` and nothing else.
fn only_policies_of(file: &Path) -> ScanOptions {
    let loaded = palisade_policy::provider::load(
        &[file.to_path_buf()],
        palisade_policy::EnforcementPoint::Validation,
    );
    assert!(loaded.problems.is_empty(), "{:?}", loaded.problems);
    let mut options = ScanOptions::default();
    for rule in loaded.rules {
        options.only_rules.push(rule.meta().id.to_string());
        options.rules.add(rule).unwrap();
    }
    if let Some(mutators) = loaded.mutators {
        options.rules.set_mutators(mutators);
    }
    options
}

/// `/mutate` applies the policies' Gatekeeper mutators before the hardening patch, in one
/// JSONPatch, as Gatekeeper's mutation webhook would: the validating pass then sees the
/// defaults the mutators set. A mutator whose namespace selector the webhook cannot decide
/// (no cluster read) denies under `on_error = "deny"`, and lets the object in unmutated with a
/// warning under `allow`.
#[test]
fn mutate_applies_the_policies_mutators_before_the_hardening_patch() {
    let mutators = r#"apiVersion: mutations.gatekeeper.sh/v1
kind: Assign
metadata: {name: pull-always}
spec:
  applyTo: [{groups: [""], kinds: ["Pod"], versions: ["v1"], operations: ["CREATE"]}]
  location: "spec.containers[name: *].imagePullPolicy"
  parameters: {assign: {value: Always}}
---
apiVersion: mutations.gatekeeper.sh/v1
kind: AssignMetadata
metadata: {name: owner}
spec:
  location: "metadata.labels.owner"
  parameters: {assign: {value: platform}}
---
apiVersion: mutations.gatekeeper.sh/v1
kind: ModifySet
metadata: {name: no-net-admin}
spec:
  applyTo: [{groups: [""], kinds: ["Pod"], versions: ["v1"]}]
  location: "spec.containers[name: *].securityContext.capabilities.add"
  parameters: {operation: prune, values: {fromList: [NET_ADMIN]}}
"#;
    let settings = AdmissionSettings {
        mutate: palisade_admission::settings::MutateSettings {
            enabled: true,
            ..Default::default()
        },
        ..AdmissionSettings::default()
    };
    let judge = judging_with("mutators", mutators, settings.clone());
    let pod = json!({"apiVersion": "v1", "kind": "Pod",
        "metadata": {"name": "web", "namespace": "shop"},
        "spec": {"securityContext": {"runAsUser": 1000}, "containers": [{"name": "web", "image": "nginx:1.27",
            "securityContext": {"capabilities": {"add": ["NET_ADMIN"]}}}]}});
    let review = decode(&review_of(&pod, "m")).unwrap();
    let mutated = judge.mutate(&review);
    assert!(mutated.allowed());
    let patch: json_patch::Patch =
        serde_json::from_slice(mutated.response().patch.as_ref().expect("a patch")).unwrap();
    let mut patched = pod.clone();
    json_patch::patch(&mut patched, &patch).unwrap();
    assert_eq!(
        patched.at("/metadata/labels/owner"),
        Some(&json!("platform"))
    );
    let container = &patched["spec"]["containers"][0];
    assert_eq!(container["imagePullPolicy"], "Always");
    assert_eq!(
        container["securityContext"]["capabilities"],
        json!({"add": [], "drop": ["ALL"]}),
        "pruned by the ModifySet, then hardened"
    );
    assert_eq!(
        container["securityContext"]["allowPrivilegeEscalation"],
        false
    );
    assert_eq!(
        patched.at("/spec/securityContext/seccompProfile/type"),
        Some(&json!("RuntimeDefault"))
    );
    // A Deployment: no pod spec at the top, so no hardening, but the AssignMetadata applies.
    let deployment = json!({"apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": {"name": "web", "namespace": "shop", "labels": {"owner": "team-a"}}, "spec": {}});
    let unchanged = judge.mutate(&decode(&review_of(&deployment, "d")).unwrap());
    assert!(
        unchanged.response().patch.is_none(),
        "the owner label is kept"
    );

    let selective = r#"apiVersion: mutations.gatekeeper.sh/v1
kind: AssignMetadata
metadata: {name: prod-only}
spec:
  match: {namespaceSelector: {matchLabels: {env: prod}}}
  location: "metadata.labels.tier"
  parameters: {assign: {value: prod}}
"#;
    let judge = judging_with("mutators-unknown", selective, settings.clone());
    let denied = judge.mutate(&review);
    assert!(!denied.allowed());
    assert!(
        format!("{:?}", denied.response())
            .contains("namespace shop, which is not among the objects read"),
        "{:?}",
        denied.response()
    );
    // With the cluster read, the namespace's labels decide: shop is not prod, so no label;
    // a prod namespace gets it.
    let cluster = palisade_inventory::load_text(
        "cluster.yaml",
        "apiVersion: v1\nkind: Namespace\nmetadata: {name: shop}\n---\napiVersion: v1\nkind: Namespace\nmetadata: {name: live, labels: {env: prod}}\n",
        &palisade_inventory::Limits::default(),
    )
    .inventory;
    let judge = judging_in("mutators-ns", selective, settings.clone(), cluster);
    let labels_after = |judged: &palisade_admission::Judged, object: &Value| {
        let patch: json_patch::Patch =
            serde_json::from_slice(judged.response().patch.as_ref().expect("a patch")).unwrap();
        let mut patched = object.clone();
        json_patch::patch(&mut patched, &patch).unwrap();
        patched.at("/metadata/labels").cloned()
    };
    assert_eq!(labels_after(&judge.mutate(&review), &pod), None);
    let mut in_prod = pod.clone();
    in_prod["metadata"]["namespace"] = json!("live");
    let mut body: Value = serde_json::from_slice(&review_of(&in_prod, "p")).unwrap();
    body["request"]["namespace"] = json!("live");
    let patched = judge.mutate(&decode(&serde_json::to_vec(&body).unwrap()).unwrap());
    assert_eq!(
        labels_after(&patched, &in_prod),
        Some(json!({"tier": "prod"}))
    );
    let lenient = AdmissionSettings {
        on_error: palisade_admission::OnTimeout::Allow,
        ..settings
    };
    let judge = judging_with("mutators-lenient", selective, lenient);
    let allowed = judge.mutate(&review);
    assert!(allowed.allowed());
    assert!(allowed.response().patch.is_none());
    assert!(
        allowed
            .response()
            .warnings
            .as_ref()
            .is_some_and(|w| w[0].contains("allowed unmutated"))
    );
}

/// A webhook judging against an empty cluster with exactly the policies of `yaml` and
/// `settings` (the file is written under a scratch directory named after `name`).
fn judging_with(name: &str, yaml: &str, settings: AdmissionSettings) -> Admission {
    judging_in(name, yaml, settings, Default::default())
}

/// [`judging_with`] in `cluster`.
fn judging_in(
    name: &str,
    yaml: &str,
    settings: AdmissionSettings,
    cluster: palisade_inventory::Inventory,
) -> Admission {
    let dir =
        std::env::temp_dir().join(format!("palisade-admission-{name}-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("policy.yaml");
    std::fs::write(&file, yaml).unwrap();
    let options = only_policies_of(&file);
    let _ = std::fs::remove_dir_all(&dir);
    Admission::new(ClusterModel::prepare(cluster, options), settings, None)
}

/// A ValidatingAdmissionPolicy's `auditAnnotations` reach the response as the API server
/// would record them (one per key, unique values of several bindings joined), and its
/// `failurePolicy` decides what an evaluation error does: `Fail` denies, `Ignore` allows.
#[test]
fn admission_policies_annotate_the_audit_event_and_follow_their_failure_policy() {
    let dir = std::env::temp_dir().join(format!("palisade-admission-vap-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(
        dir.join("policy.yaml"),
        r#"apiVersion: admissionregistration.k8s.io/v1
kind: ValidatingAdmissionPolicy
metadata: {name: replicas.example.com}
spec:
  matchConstraints:
    resourceRules: [{apiGroups: ["apps"], apiVersions: ["v1"], operations: ["CREATE", "UPDATE"], resources: ["deployments"]}]
  validations:
    - expression: "object.spec.replicas <= 5"
      message: "at most 5 replicas"
  auditAnnotations:
    - key: high-replica-count
      valueExpression: "object.spec.replicas > 3 ? 'Deployment spec.replicas set to ' + string(object.spec.replicas) : null"
    - key: unset
      valueExpression: "''"
---
apiVersion: admissionregistration.k8s.io/v1
kind: ValidatingAdmissionPolicyBinding
metadata: {name: replicas-audit}
spec: {policyName: replicas.example.com, validationActions: [Audit]}
---
apiVersion: admissionregistration.k8s.io/v1
kind: ValidatingAdmissionPolicyBinding
metadata: {name: replicas-warn}
spec: {policyName: replicas.example.com, validationActions: [Warn]}
---
apiVersion: admissionregistration.k8s.io/v1
kind: ValidatingAdmissionPolicy
metadata: {name: needs-team-label}
spec:
  failurePolicy: Fail
  matchConstraints:
    resourceRules: [{apiGroups: ["apps"], apiVersions: ["v1"], operations: ["CREATE"], resources: ["deployments"]}]
  validations:
    - expression: "object.metadata.labels.team != ''"
---
apiVersion: admissionregistration.k8s.io/v1
kind: ValidatingAdmissionPolicyBinding
metadata: {name: needs-team-label}
spec: {policyName: needs-team-label, validationActions: [Deny]}
"#,
    )
    .unwrap();
    let judge = |ignore: bool| {
        let text = std::fs::read_to_string(dir.join("policy.yaml")).unwrap();
        let file = dir.join(if ignore { "ignore.yaml" } else { "fail.yaml" });
        let text = if ignore {
            text.replace("failurePolicy: Fail", "failurePolicy: Ignore")
        } else {
            text
        };
        std::fs::write(&file, text).unwrap();
        Admission::new(
            ClusterModel::prepare(Default::default(), only_policies_of(&file)),
            AdmissionSettings::default(),
            None,
        )
    };
    let deployment = |replicas: u32, labels: Value| {
        json!({"apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": {"name": "web", "namespace": "shop", "labels": labels},
            "spec": {"replicas": replicas}})
    };
    let fail = judge(false);
    let judged =
        fail.validate(&decode(&review_of(&deployment(4, json!({"team": "a"})), "u1")).unwrap());
    assert!(judged.allowed(), "{:?}", judged.log);
    let annotations = &judged.response().audit_annotations;
    assert_eq!(
        annotations
            .get("replicas.example.com.high-replica-count")
            .map(String::as_str),
        Some("Deployment spec.replicas set to 4"),
        "{annotations:?}"
    );
    assert!(
        !annotations.keys().any(|k| k.ends_with(".unset")),
        "an empty value is left out: {annotations:?}"
    );
    // A failed validation through the Warn binding warns, through the Audit binding audits.
    let judged =
        fail.validate(&decode(&review_of(&deployment(9, json!({"team": "a"})), "u2")).unwrap());
    assert!(judged.allowed(), "{:?}", judged.log);
    assert!(
        !judged.log.warned.is_empty() && !judged.log.audited.is_empty(),
        "{:?}",
        judged.log
    );
    // No labels: `object.metadata.labels.team` is an error; Fail denies, Ignore does not.
    let unlabelled = decode(&review_of(
        &json!({"apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": {"name": "web", "namespace": "shop"}, "spec": {"replicas": 1}}),
        "u3",
    ))
    .unwrap();
    let judged = fail.validate(&unlabelled);
    assert!(!judged.allowed(), "{:?}", judged.log);
    assert!(
        judged
            .response()
            .result
            .message
            .contains("failurePolicy: Fail"),
        "{:?}",
        judged.response()
    );
    // The API server answers a policy that failed to judge as a validation with no reason.
    assert_eq!(
        (
            judged.response().result.code,
            judged.response().result.reason.as_str()
        ),
        (422, "Invalid")
    );
    assert!(judge(true).validate(&unlabelled).allowed());
    let _ = std::fs::remove_dir_all(&dir);
}

/// A ValidatingAdmissionPolicy's denial answers with the `reason` of the validation that
/// failed and its status code (`Invalid`, 422, when it names none), as the API server
/// answers for the policy; a built-in rule's denial is `Forbidden`. A reason the API server
/// would refuse makes the policy a problem, named, not a silent 403.
#[test]
fn a_policys_denial_answers_with_the_reason_its_validation_gives() {
    let policies = r#"apiVersion: admissionregistration.k8s.io/v1
kind: ValidatingAdmissionPolicy
metadata: {name: sizes}
spec:
  matchConstraints:
    resourceRules: [{apiGroups: ["apps"], apiVersions: ["v1"], operations: ["CREATE"], resources: ["deployments"]}]
  validations:
    - expression: "object.spec.replicas <= 50"
      message: "at most 50 replicas"
      reason: RequestEntityTooLarge
    - expression: "has(object.metadata.labels) && 'team' in object.metadata.labels"
      message: "a team label"
      reason: Unauthorized
---
apiVersion: admissionregistration.k8s.io/v1
kind: ValidatingAdmissionPolicyBinding
metadata: {name: sizes}
spec: {policyName: sizes, validationActions: [Deny]}
---
apiVersion: admissionregistration.k8s.io/v1
kind: ValidatingAdmissionPolicy
metadata: {name: names}
spec:
  matchConstraints:
    resourceRules: [{apiGroups: ["apps"], apiVersions: ["v1"], operations: ["CREATE"], resources: ["deployments"]}]
  validations:
    - expression: "object.metadata.name != 'bad'"
---
apiVersion: admissionregistration.k8s.io/v1
kind: ValidatingAdmissionPolicyBinding
metadata: {name: names}
spec: {policyName: names, validationActions: [Deny]}
"#;
    let policy_webhook = judging_with("reasons", policies, AdmissionSettings::default());
    let answer = |name: &str, replicas: u32, labels: Value| {
        let deployment = json!({"apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": {"name": name, "namespace": "shop", "labels": labels},
            "spec": {"replicas": replicas}});
        let judged = policy_webhook.validate(&decode(&review_of(&deployment, name)).unwrap());
        let result = &judged.response().result;
        (judged.allowed(), result.code, result.reason.clone())
    };
    let team = json!({"team": "a"});
    assert_eq!(answer("web", 3, team.clone()), (true, 0, String::new()));
    assert_eq!(
        answer("big", 60, team.clone()),
        (false, 413, "RequestEntityTooLarge".into())
    );
    assert_eq!(
        answer("anonymous", 3, json!({})),
        (false, 401, "Unauthorized".into())
    );
    assert_eq!(answer("bad", 3, team), (false, 422, "Invalid".into()));

    // A built-in rule's denial is Forbidden.
    let privileged = json!({"apiVersion": "v1", "kind": "Pod",
        "metadata": {"name": "p", "namespace": "shop"},
        "spec": {"containers": [{"name": "c", "image": "nginx:1.27",
            "securityContext": {"privileged": true}}]}});
    let judged = admission(enforcing(&["POD001"]), Default::default())
        .validate(&decode(&review_of(&privileged, "p")).unwrap());
    assert!(!judged.allowed(), "{:?}", judged.log);
    assert_eq!(
        (
            judged.response().result.code,
            judged.response().result.reason.as_str()
        ),
        (403, "Forbidden")
    );

    // `NotFound` is not a reason a validation may give.
    let dir = std::env::temp_dir().join(format!("palisade-reason-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("policy.yaml");
    std::fs::write(
        &file,
        policies.replace("reason: Unauthorized", "reason: NotFound"),
    )
    .unwrap();
    let loaded = palisade_policy::provider::load(
        std::slice::from_ref(&file),
        palisade_policy::EnforcementPoint::Validation,
    );
    let _ = std::fs::remove_dir_all(&dir);
    assert!(
        loaded
            .problems
            .iter()
            .any(|p| p.contains("validations[].reason") && p.contains("NotFound")),
        "{:?}",
        loaded.problems
    );
}

/// A binding whose parameters are missing under `parameterNotFoundAction: Deny` is what the
/// API server calls a configuration error: under `failurePolicy: Fail` the request is denied
/// even though the binding only warns; under `Ignore` it is let in.
#[test]
fn a_binding_that_cannot_be_applied_denies_under_fail_whatever_its_actions() {
    let policies = |failure: &str| {
        format!(
            r#"apiVersion: admissionregistration.k8s.io/v1
kind: ValidatingAdmissionPolicy
metadata: {{name: limits}}
spec:
  failurePolicy: {failure}
  paramKind: {{apiVersion: v1, kind: ConfigMap}}
  matchConstraints:
    resourceRules: [{{apiGroups: ["apps"], apiVersions: ["v1"], operations: ["CREATE"], resources: ["deployments"]}}]
  validations:
    - expression: "object.spec.replicas <= int(params.data.max)"
---
apiVersion: admissionregistration.k8s.io/v1
kind: ValidatingAdmissionPolicyBinding
metadata: {{name: limits-warn}}
spec:
  policyName: limits
  validationActions: [Warn]
  paramRef: {{name: replica-limits, namespace: policy, parameterNotFoundAction: Deny}}
"#
        )
    };
    let deployment = json!({"apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": {"name": "web", "namespace": "shop"}, "spec": {"replicas": 3}});
    let review = decode(&review_of(&deployment, "u1")).unwrap();
    let fail = judging_with(
        "config-fail",
        &policies("Fail"),
        AdmissionSettings::default(),
    );
    let judged = fail.validate(&review);
    assert!(!judged.allowed(), "{:?}", judged.log);
    let result = &judged.response().result;
    assert!(
        result
            .message
            .contains("failed to configure binding limits-warn")
            && result.message.contains("no params found"),
        "{result:?}"
    );
    assert_eq!((result.code, result.reason.as_str()), (422, "Invalid"));
    let ignore = judging_with(
        "config-ignore",
        &policies("Ignore"),
        AdmissionSettings::default(),
    );
    assert!(ignore.validate(&review).allowed());
}

/// A ValidatingAdmissionPolicy's `authorizer` answers for the requesting user from the
/// cluster's RBAC: built checks, `requestResource`, `serviceAccount` and `system:masters`.
/// A scan, which has no requester, leaves such a policy not assessed.
#[test]
fn admission_policies_ask_the_authorizer_about_the_requesting_user() {
    let policies = r#"apiVersion: admissionregistration.k8s.io/v1
kind: ValidatingAdmissionPolicy
metadata: {name: big-needs-approval}
spec:
  matchConstraints:
    resourceRules: [{apiGroups: ["apps"], apiVersions: ["v1"], operations: ["CREATE"], resources: ["deployments"]}]
  validations:
    - expression: "object.spec.replicas <= 10 || authorizer.group('example.com').resource('replicaapprovals').namespace(object.metadata.namespace).check('create').allowed()"
      message: "more than 10 replicas needs replica approval rights"
    - expression: "!has(object.metadata.labels) || !has(object.metadata.labels.protected) || authorizer.requestResource.check('delete').allowed()"
      message: "only who may delete Deployments may create protected ones"
    - expression: "authorizer.serviceAccount(object.metadata.namespace, 'deployer').group('apps').resource('deployments').namespace(object.metadata.namespace).check('create').allowed()"
      message: "the namespace's deployer account must be able to manage Deployments"
---
apiVersion: admissionregistration.k8s.io/v1
kind: ValidatingAdmissionPolicyBinding
metadata: {name: big-needs-approval}
spec: {policyName: big-needs-approval, validationActions: [Deny]}
"#;
    let cluster = r#"apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata: {name: approver}
rules:
  - {apiGroups: ["example.com"], resources: ["replicaapprovals"], verbs: ["create"]}
  - {apiGroups: ["apps"], resources: ["deployments"], verbs: ["create", "delete"]}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {name: alice-approves, namespace: shop}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: approver}
subjects: [{kind: User, name: alice}, {kind: ServiceAccount, name: deployer, namespace: shop}]
"#;
    let dir = std::env::temp_dir().join(format!("palisade-admission-authz-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("policy.yaml"), policies).unwrap();
    let options = only_policies_of(&dir.join("policy.yaml"));
    let inventory = load_text("cluster.yaml", cluster, &Limits::default()).inventory;
    let model = ClusterModel::prepare(inventory, options);
    let deployment = |namespace: &str, replicas: u32, labels: Value| {
        json!({"apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": {"name": "web", "namespace": namespace, "labels": labels},
            "spec": {"replicas": replicas}})
    };
    // Without a requester (a scan), the policy is not assessed, never passed.
    let scanned = model.evaluate(deployment("shop", 20, json!({}))).unwrap();
    assert!(scanned.findings.is_empty(), "{:?}", scanned.findings);
    assert!(
        scanned.coverage.iter().any(|c| c.not_assessed == 1),
        "{:?}",
        scanned.coverage
    );
    let judge = Admission::new(model, AdmissionSettings::default(), None);
    let as_user = |object: Value, user: &str, groups: Value| {
        let mut body: Value = serde_json::from_slice(&review_of(&object, "u")).unwrap();
        body["request"]["userInfo"] = json!({"username": user, "groups": groups});
        decode(&serde_json::to_vec(&body).unwrap()).unwrap()
    };
    let authenticated = json!(["system:authenticated"]);
    let big = deployment("shop", 20, json!({"protected": "yes"}));
    let judged = judge.validate(&as_user(big.clone(), "alice", authenticated.clone()));
    assert!(judged.allowed(), "{:?}", judged.response());
    let judged = judge.validate(&as_user(big.clone(), "bob", authenticated.clone()));
    assert!(!judged.allowed());
    let message = &judged.response().result.message;
    assert!(
        message.contains("needs replica approval rights"),
        "{message}"
    );
    assert!(message.contains("only who may delete"), "{message}");
    assert!(!message.contains("deployer account"), "{message}");
    // Members of system:masters may do everything.
    let masters = json!(["system:masters", "system:authenticated"]);
    assert!(judge.validate(&as_user(big, "bob", masters)).allowed());
    // In a namespace where the deployer account has no rights, even alice is denied.
    let elsewhere = judge.validate(&as_user(
        deployment("other", 1, json!({})),
        "alice",
        authenticated,
    ));
    assert!(!elsewhere.allowed());
    assert!(
        elsewhere
            .response()
            .result
            .message
            .contains("deployer account"),
        "{:?}",
        elsewhere.response()
    );
    // Without any binding in the cluster there is no RBAC to answer from: the check is an
    // error, and the policy's failurePolicy (Fail) denies rather than guessing.
    let unknown = Admission::new(
        ClusterModel::prepare(
            Default::default(),
            only_policies_of(&dir.join("policy.yaml")),
        ),
        AdmissionSettings::default(),
        None,
    );
    let judged = unknown.validate(&as_user(
        deployment("shop", 20, json!({})),
        "alice",
        json!(["system:authenticated"]),
    ));
    assert!(!judged.allowed());
    assert!(
        judged
            .response()
            .result
            .message
            .contains("RBAC is not known"),
        "{:?}",
        judged.response()
    );
    let _ = std::fs::remove_dir_all(&dir);
}

/// A rule `[admission.rules]` switches off is not evaluated at all (its cost is not paid for
/// findings nobody sees); the others are.
#[test]
fn rules_switched_off_for_admission_are_not_run() {
    let mut settings = AdmissionSettings::default();
    settings.rules.insert("POD001".into(), Mode::Off);
    let model =
        palisade_admission::prepare_model(Default::default(), ScanOptions::default(), 1, &settings);
    let pod = json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p", "namespace": "shop"},
        "spec": {"containers": [{"name": "c", "image": "nginx:1.27", "securityContext": {"privileged": true}}]}});
    let report = model.evaluate(pod).unwrap();
    let ran: Vec<&str> = report.coverage.iter().map(|c| c.rule.as_str()).collect();
    assert!(!ran.contains(&"POD001"), "{ran:?}");
    assert!(ran.contains(&"POD002"), "{ran:?}");
}

/// A cluster whose Deployment runs as a cluster-admin account behind a LoadBalancer: RBAC017
/// reports the path on the Deployment, and a Pod of its ReplicaSet is judged through it.
const EXPOSED_ADMIN_DEPLOYMENT: &str =
    include_str!("../../palisade-scan/tests/data/exposed-admin-deployment.yaml");

/// The Deployment's ReplicaSet, which the cluster holds.
const KNOWN_REPLICA_SET: &str = "\
apiVersion: apps/v1
kind: ReplicaSet
metadata: {name: web-1, namespace: shop, uid: uid-web-1, ownerReferences: [{apiVersion: apps/v1, kind: Deployment, name: web, uid: d-1, controller: true}]}
spec:
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      serviceAccountName: backup
      containers: [{name: web, image: 'nginx:1.27'}]
";

/// A Pod of `replica_set`, with its template's image: the known one's, or a rollout's.
fn pod_of(replica_set: &str) -> Value {
    let image = if replica_set == "web-1" {
        "nginx:1.27"
    } else {
        "nginx:1.28"
    };
    json!({"apiVersion": "v1", "kind": "Pod",
        "metadata": {"name": format!("{replica_set}-x"), "namespace": "shop", "labels": {"app": "web"},
            "ownerReferences": [{"apiVersion": "apps/v1", "kind": "ReplicaSet", "name": replica_set,
                "uid": format!("uid-{replica_set}"), "controller": true}]},
        "spec": {"serviceAccountName": "backup", "containers": [{"name": "web", "image": image}]}})
}

fn replica_set(name: &str) -> Value {
    json!({"apiVersion": "apps/v1", "kind": "ReplicaSet",
        "metadata": {"name": name, "namespace": "shop", "uid": format!("uid-{name}"),
            "ownerReferences": [{"apiVersion": "apps/v1", "kind": "Deployment", "name": "web", "uid": "d-1", "controller": true}]},
        "spec": {"selector": {"matchLabels": {"app": "web"}},
            "template": {"metadata": {"labels": {"app": "web"}},
                "spec": {"serviceAccountName": "backup", "containers": [{"name": "web", "image": "nginx:1.28"}]}}}})
}

/// A rollout creates a ReplicaSet the model (read every few minutes) does not hold yet, then
/// its Pods. The webhook keeps the ReplicaSet it let in, so those Pods get the verdict Pods
/// of a known ReplicaSet get (judged through the Deployment) instead of a denial as
/// standalone Pods until the next read. A dry run, or a ReplicaSet denied, is not kept.
#[test]
fn pods_of_a_replica_set_let_in_are_judged_through_its_deployment() {
    let text = format!("{EXPOSED_ADMIN_DEPLOYMENT}---\n{KNOWN_REPLICA_SET}");
    let cluster = load_text("c.yaml", &text, &Limits::default()).inventory;
    let admission = admission(AdmissionSettings::default(), cluster);
    let judge = |object: &Value| {
        let judged = admission.validate(&decode(&review_of(object, "u")).unwrap());
        (judged.log.allowed, judged.log.denied)
    };
    assert_eq!(judge(&pod_of("web-1")), (true, vec![]));
    // Before its ReplicaSet is let in, the Pod is judged as a standalone one.
    let (allowed, denied) = judge(&pod_of("web-2"));
    assert!(
        !allowed && denied.contains(&"RBAC017".to_string()),
        "{denied:?}"
    );
    // A dry run of the ReplicaSet is judged but not kept.
    let mut dry = serde_json::from_slice::<Value>(&review_of(&replica_set("web-2"), "d")).unwrap();
    dry["request"]["dryRun"] = json!(true);
    let dry = admission.validate(&decode(&serde_json::to_vec(&dry).unwrap()).unwrap());
    assert!(dry.log.allowed);
    assert!(!judge(&pod_of("web-2")).0);
    // Let in for real: its Pods are judged through the Deployment.
    assert!(judge(&replica_set("web-2")).0);
    assert_eq!(judge(&pod_of("web-2")), (true, vec![]));
    // A ReplicaSet denied (privileged) is not kept.
    let mut privileged = replica_set("web-3");
    privileged["spec"]["template"]["spec"]["containers"][0]["securityContext"] =
        json!({"privileged": true});
    assert!(!judge(&privileged).0);
    assert!(!judge(&pod_of("web-3")).0);
}

/// The cluster is read again every few minutes, and a read can miss a ReplicaSet let in
/// while it ran (or just before: the API server stores an object after its webhooks let it
/// in). The model that replaces the current one is offered what was let in since shortly
/// before the read began, so the rollout's Pods stay judged through their Deployment; what
/// was let in long before the read is the read's to hold.
#[test]
fn a_replica_set_let_in_while_the_cluster_is_read_again_is_not_forgotten() {
    let text = format!("{EXPOSED_ADMIN_DEPLOYMENT}---\n{KNOWN_REPLICA_SET}");
    let read = || load_text("c.yaml", &text, &Limits::default()).inventory;
    let admission = admission(AdmissionSettings::default(), read());
    let judge = |object: &Value| {
        let judged = admission.validate(&decode(&review_of(object, "u")).unwrap());
        (judged.log.allowed, judged.log.denied)
    };
    let began = std::time::Instant::now();
    assert!(judge(&replica_set("web-2")).0);
    assert_eq!(admission.remembered(), 1);
    // The read missed it; the new model is offered it.
    let fresh = |admission: &Admission| {
        palisade_admission::prepare_model(read(), ScanOptions::default(), 2, admission.settings())
    };
    admission.replace_model(fresh(&admission), began);
    assert_eq!(admission.remembered(), 1);
    assert_eq!(judge(&pod_of("web-2")), (true, vec![]));
    // A read that began long after it was let in holds it, or it is gone: not offered.
    let much_later = began + std::time::Duration::from_secs(600);
    admission.replace_model(fresh(&admission), much_later);
    assert_eq!(admission.remembered(), 0);
    assert!(!judge(&pod_of("web-2")).0);
    // An object let in and then deleted before the read is not offered to it.
    let config_map = json!({"apiVersion": "v1", "kind": "ConfigMap",
        "metadata": {"name": "settings", "namespace": "shop"}});
    let began = std::time::Instant::now();
    assert!(judge(&config_map).0);
    assert!(judge(&replica_set("web-3")).0);
    assert_eq!(admission.remembered(), 2);
    let mut deletion: Value = serde_json::from_slice(&review_of(&config_map, "d")).unwrap();
    deletion["request"]["operation"] = json!("DELETE");
    deletion["request"]["oldObject"] = deletion["request"]["object"].take();
    assert!(
        admission
            .validate(&decode(deletion.to_string().as_bytes()).unwrap())
            .allowed()
    );
    admission.replace_model(fresh(&admission), began);
    assert_eq!(admission.remembered(), 1, "the ReplicaSet alone");
}

/// An owner reference is a claim its writer makes. A ReplicaSet or Pod made by hand that
/// names the Deployment (or its ReplicaSet) of a harmless account, but runs as a cluster-admin
/// account behind the same LoadBalancer, is judged on its own spec: RBAC017 denies it as it
/// denies the same object without the reference. Honest objects of the Deployment, with what
/// the API server adds to a Pod, are still judged through it and let in.
#[test]
fn a_forged_owner_reference_hides_no_power() {
    let harmless = EXPOSED_ADMIN_DEPLOYMENT.replace(
        "spec: {serviceAccountName: backup, containers",
        "spec: {serviceAccountName: web, containers",
    );
    assert_ne!(harmless, EXPOSED_ADMIN_DEPLOYMENT);
    let known = KNOWN_REPLICA_SET.replace("serviceAccountName: backup", "serviceAccountName: web");
    let text = format!("{harmless}---\n{known}");
    let cluster = load_text("c.yaml", &text, &Limits::default()).inventory;
    let admission = admission(AdmissionSettings::default(), cluster);
    let judge = |object: &Value| {
        let judged = admission.validate(&decode(&review_of(object, "u")).unwrap());
        (judged.log.allowed, judged.log.denied)
    };
    // Denied by RBAC017 (exposed and cluster-admin), and POD036 says why it is judged alone.
    let denied_as_forged = |object: &Value| {
        let (allowed, denied) = judge(object);
        !allowed
            && ["RBAC017", "POD036"]
                .iter()
                .all(|id| denied.contains(&id.to_string()))
    };
    let as_account = |mut object: Value, account: &str| {
        let spec = if object["kind"] == "Pod" {
            &mut object["spec"]
        } else {
            &mut object["spec"]["template"]["spec"]
        };
        spec["serviceAccountName"] = json!(account);
        object
    };
    // Honest: the Deployment's account, and a Pod with what the API server adds.
    let mut honest_pod = as_account(pod_of("web-1"), "web");
    honest_pod["spec"]["serviceAccount"] = json!("web");
    honest_pod["spec"]["nodeName"] = json!("node-1");
    honest_pod["spec"]["tolerations"] = json!([{"key": "node.kubernetes.io/not-ready", "operator": "Exists", "effect": "NoExecute"}]);
    honest_pod["spec"]["volumes"] = json!([{"name": "kube-api-access-x",
        "projected": {"sources": [{"serviceAccountToken": {"path": "token"}}]}}]);
    honest_pod["metadata"]["labels"]["pod-template-hash"] = json!("abc");
    assert_eq!(judge(&honest_pod), (true, vec![]));
    // The same Pod with its image changed (in place, or in a copy made by hand) runs code the
    // template does not declare: POD038 denies it.
    let mut swapped = honest_pod.clone();
    swapped["spec"]["containers"][0]["image"] = json!("evil.example.net/web:1.0");
    let (allowed, denied) = judge(&swapped);
    assert!(!allowed && denied == ["POD038"], "{denied:?}");
    // One that adds a capability its template does not: POD039 (medium) warns.
    let mut weaker = honest_pod.clone();
    weaker["spec"]["containers"][0]["securityContext"] =
        json!({"capabilities": {"add": ["NET_RAW"]}});
    let judged = admission.validate(&decode(&review_of(&weaker, "u")).unwrap());
    assert!(
        judged.log.allowed && judged.log.warned.contains(&"POD039".to_string()),
        "{:?}",
        judged.log
    );
    assert_eq!(
        judge(&as_account(replica_set("web-2"), "web")),
        (true, vec![])
    );
    // Forged: the cluster-admin account under the harmless Deployment's name.
    assert!(denied_as_forged(&as_account(
        replica_set("web-3"),
        "backup"
    )));
    assert!(denied_as_forged(&as_account(pod_of("web-1"), "backup")));
    let mut privileged_node = as_account(pod_of("web-1"), "backup");
    privileged_node["spec"]["hostNetwork"] = json!(true);
    assert!(!judge(&privileged_node).0);
}

/// The webhook knows when an object it let in made its model stale: one that changes what
/// the cluster-wide models read (a Service, a binding, also in an exempt namespace), not a
/// Pod of a known ReplicaSet, a ConfigMap or a dry run. A model read after the change is the
/// cluster's again; one whose read began before it is not.
#[test]
fn the_webhook_knows_when_what_it_let_in_made_its_model_stale() {
    let text = format!("{EXPOSED_ADMIN_DEPLOYMENT}---\n{KNOWN_REPLICA_SET}");
    let read = || load_text("c.yaml", &text, &Limits::default()).inventory;
    let admission = admission(AdmissionSettings::default(), read());
    let let_in = |object: &Value, dry_run: bool| {
        let mut review = serde_json::from_slice::<Value>(&review_of(object, "u")).unwrap();
        review["request"]["dryRun"] = json!(dry_run);
        let review = serde_json::to_vec(&review).unwrap();
        assert!(admission.validate(&decode(&review).unwrap()).allowed());
    };
    let service = json!({"apiVersion": "v1", "kind": "Service",
        "metadata": {"name": "api", "namespace": "shop"},
        "spec": {"selector": {"app": "api"}, "ports": [{"port": 80}]}});
    let config_map = json!({"apiVersion": "v1", "kind": "ConfigMap",
        "metadata": {"name": "settings", "namespace": "shop"}, "data": {"mode": "fast"}});
    let_in(&pod_of("web-1"), false);
    let_in(&config_map, false);
    let_in(&service, true);
    // The cluster's Service applied again unchanged (a `helm upgrade`): only what the API
    // server keeps differs.
    let known = json!({"apiVersion": "v1", "kind": "Service",
        "metadata": {"name": "web", "namespace": "shop"},
        "spec": {"type": "LoadBalancer", "selector": {"app": "web"}, "ports": [{"port": 80}]}});
    let mut reapplied = known.clone();
    reapplied["metadata"]["resourceVersion"] = json!("7");
    let mut update = serde_json::from_slice::<Value>(&review_of(&reapplied, "u")).unwrap();
    update["request"]["operation"] = json!("UPDATE");
    update["request"]["oldObject"] = known;
    let update = serde_json::to_vec(&update).unwrap();
    assert!(admission.validate(&decode(&update).unwrap()).allowed());
    assert_eq!(admission.changed_at(), None);
    let before = std::time::Instant::now();
    let_in(&service, false);
    let changed = admission
        .changed_at()
        .expect("a Service changes the network");
    assert!(changed >= before);
    // A read that began before the change may not hold it.
    let fresh = || {
        palisade_admission::prepare_model(read(), ScanOptions::default(), 1, admission.settings())
    };
    admission.replace_model(fresh(), before);
    assert_eq!(admission.changed_at(), Some(changed));
    admission.replace_model(fresh(), std::time::Instant::now());
    assert_eq!(admission.changed_at(), None);
    // Let in unjudged (kube-system is exempt), a binding still changes the escalation graph.
    let binding = json!({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "RoleBinding",
        "metadata": {"name": "reader", "namespace": "kube-system"},
        "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "view"},
        "subjects": [{"kind": "ServiceAccount", "name": "web", "namespace": "shop"}]});
    let_in(&binding, false);
    assert!(admission.changed_at().is_some());
}

/// A deletion is never refused, and the webhook knows when one made its model stale: an
/// object the cluster-wide models read (the cluster's own exposed Service, a binding), not a
/// Pod of a known ReplicaSet, a ConfigMap, a dry run or a deletion without its old object.
#[test]
fn the_webhook_knows_when_a_deletion_made_its_model_stale() {
    let text = format!("{EXPOSED_ADMIN_DEPLOYMENT}---\n{KNOWN_REPLICA_SET}");
    let admission = admission(
        AdmissionSettings::default(),
        load_text("c.yaml", &text, &Limits::default()).inventory,
    );
    let delete = |object: &Value, dry_run: bool, with_old: bool| {
        let mut review = serde_json::from_slice::<Value>(&review_of(object, "u")).unwrap();
        review["request"]["operation"] = json!("DELETE");
        review["request"]["dryRun"] = json!(dry_run);
        review["request"]["object"] = Value::Null;
        if with_old {
            review["request"]["oldObject"] = object.clone();
        }
        let review = serde_json::to_vec(&review).unwrap();
        assert!(admission.validate(&decode(&review).unwrap()).allowed());
    };
    let config_map = json!({"apiVersion": "v1", "kind": "ConfigMap",
        "metadata": {"name": "settings", "namespace": "shop"}, "data": {"mode": "fast"}});
    // The cluster's own Service, exactly as the model holds it.
    let service = json!({"apiVersion": "v1", "kind": "Service",
        "metadata": {"name": "web", "namespace": "shop"},
        "spec": {"type": "LoadBalancer", "selector": {"app": "web"}, "ports": [{"port": 80}]}});
    delete(&pod_of("web-1"), false, true);
    delete(&config_map, false, true);
    delete(&service, true, true);
    delete(&service, false, false);
    assert_eq!(admission.changed_at(), None);
    let before = std::time::Instant::now();
    delete(&service, false, true);
    let changed = admission
        .changed_at()
        .expect("the Service's deletion changes the network");
    assert!(changed >= before);
}

/// A Gatekeeper policy whose evaluation fails (here it asks an external data provider, which
/// Palisade does not call) cannot vouch for the object: enforced, it denies with the error under
/// `on_error = "deny"` (the default), and allows with a warning under `on_error = "allow"`;
/// audited, it never denies. An object it judges without error is let in.
#[test]
fn a_policy_that_fails_to_judge_denies_only_when_enforced_and_on_error_denies() {
    const POLICY: &str = r#"apiVersion: templates.gatekeeper.sh/v1
kind: ConstraintTemplate
metadata: {name: k8steamprefix}
spec:
  crd: {spec: {names: {kind: K8sTeamPrefix}}}
  targets:
    - target: admission.k8s.gatekeeper.sh
      rego: |
        package k8steamprefix
        violation[{"msg": msg}] {
          input.review.object.metadata.labels.team != "checked"
          response := external_data({"provider": "teams", "keys": [input.review.object.metadata.labels.team]})
          count(response.errors) > 0
          msg := "the team is not known"
        }
---
apiVersion: constraints.gatekeeper.sh/v1beta1
kind: K8sTeamPrefix
metadata: {name: team-prefix}
spec: {match: {kinds: [{apiGroups: [""], kinds: ["ConfigMap"]}]}}
"#;
    let config = |team: Value| {
        let object = json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c", "namespace": "shop", "labels": {"team": team}}});
        decode(&review_of(&object, "u")).unwrap()
    };
    let judge = |mode: Mode, on_error: OnTimeout| {
        let mut settings = AdmissionSettings {
            mode: Mode::Audit,
            on_error,
            ..AdmissionSettings::default()
        };
        settings
            .rules
            .insert("K8sTeamPrefix/team-prefix".into(), mode);
        judging_with("error", POLICY, settings)
    };
    let enforced = judge(Mode::Enforce, OnTimeout::Deny);
    let judged = enforced.validate(&config(json!("a")));
    assert!(!judged.allowed(), "{:?}", judged.log);
    let message = &judged.response().result.message;
    assert!(
        message.contains("K8sTeamPrefix/team-prefix") && message.contains("could not judge"),
        "{message}"
    );
    // The call is not reached: judged, and nothing found.
    assert!(enforced.validate(&config(json!("checked"))).allowed());

    let lenient = judge(Mode::Enforce, OnTimeout::Allow).validate(&config(json!("a")));
    assert!(lenient.allowed(), "{:?}", lenient.log);
    let warnings = lenient.response().warnings.clone().unwrap_or_default();
    assert!(
        warnings.iter().any(|w| w.contains("could not judge")),
        "{warnings:?}"
    );

    let audited = judge(Mode::Audit, OnTimeout::Deny).validate(&config(json!("a")));
    assert!(audited.allowed(), "{:?}", audited.log);
    assert_eq!(audited.log.audited, ["K8sTeamPrefix/team-prefix"]);
}

/// A constraint scoped to warn at Gatekeeper's webhook point and deny shift-left warns at
/// admission; one scoped to deny there denies.
#[test]
fn scoped_constraints_take_the_webhooks_action() {
    let judge = |webhook_action: &str| {
        let policy = format!(
            r#"apiVersion: templates.gatekeeper.sh/v1
kind: ConstraintTemplate
metadata: {{name: k8sneedsteam}}
spec:
  crd: {{spec: {{names: {{kind: K8sNeedsTeam}}}}}}
  targets:
    - target: admission.k8s.gatekeeper.sh
      rego: |
        package k8sneedsteam
        violation[{{"msg": "no team label"}}] {{
          not input.review.object.metadata.labels.team
        }}
---
apiVersion: constraints.gatekeeper.sh/v1beta1
kind: K8sNeedsTeam
metadata: {{name: needs-team}}
spec:
  match: {{kinds: [{{apiGroups: [""], kinds: ["ConfigMap"]}}]}}
  enforcementAction: scoped
  scopedEnforcementActions:
    - {{action: {webhook_action}, enforcementPoints: [{{name: validation.gatekeeper.sh}}]}}
    - {{action: deny, enforcementPoints: [{{name: gator.gatekeeper.sh}}]}}
"#
        );
        let admission = judging_with("scoped", &policy, AdmissionSettings::default());
        let object = json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c", "namespace": "shop"}});
        admission.validate(&decode(&review_of(&object, "u")).unwrap())
    };
    let warned = judge("warn");
    assert!(warned.allowed(), "{:?}", warned.log);
    assert_eq!(warned.log.warned, ["K8sNeedsTeam/needs-team"]);
    assert!(!judge("deny").allowed());
}

/// At admission an ExpansionTemplate judges the Pod a Deployment would create: a denying
/// constraint on Pods denies the Deployment, its message naming the template.
#[test]
fn a_deployment_is_judged_as_the_pods_it_would_create() {
    const POLICY: &str = r#"apiVersion: templates.gatekeeper.sh/v1
kind: ConstraintTemplate
metadata: {name: k8snohostnetwork}
spec:
  crd: {spec: {names: {kind: K8sNoHostNetwork}}}
  targets:
    - target: admission.k8s.gatekeeper.sh
      rego: |
        package k8snohostnetwork
        violation[{"msg": "the pod shares the node's network"}] {
          input.review.object.spec.hostNetwork
        }
---
apiVersion: constraints.gatekeeper.sh/v1beta1
kind: K8sNoHostNetwork
metadata: {name: no-host-network}
spec: {match: {kinds: [{apiGroups: [""], kinds: ["Pod"]}]}}
---
apiVersion: expansion.gatekeeper.sh/v1beta1
kind: ExpansionTemplate
metadata: {name: expand-deployments}
spec:
  applyTo: [{groups: ["apps"], kinds: ["Deployment"], versions: ["v1"]}]
  templateSource: spec.template
  generatedGVK: {kind: Pod, group: "", version: v1}
"#;
    let admission = judging_with("expansion", POLICY, AdmissionSettings::default());
    let deployment = |host_network: bool| {
        json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "web", "namespace": "shop"},
            "spec": {"selector": {"matchLabels": {"app": "web"}}, "template": {"metadata": {"labels": {"app": "web"}},
            "spec": {"hostNetwork": host_network, "containers": [{"name": "c", "image": "nginx"}]}}}})
    };
    let judged = admission.validate(&decode(&review_of(&deployment(true), "u")).unwrap());
    assert!(!judged.allowed(), "{:?}", judged.log);
    let message = &judged.response().result.message;
    assert!(
        message.contains("[Implied by expand-deployments] the pod shares the node's network"),
        "{message}"
    );
    assert!(
        admission
            .validate(&decode(&review_of(&deployment(false), "u")).unwrap())
            .allowed()
    );
}

/// A Gatekeeper `Config` given with the policies exempts its namespaces from every
/// constraint at admission (`processes: [webhook]`), a Namespace by its own name.
#[test]
fn a_gatekeeper_config_exempts_its_namespaces() {
    const CONFIG: &str = r#"---
apiVersion: config.gatekeeper.sh/v1alpha1
kind: Config
metadata: {name: config, namespace: gatekeeper-system}
spec:
  match:
    - {excludedNamespaces: ["team-*"], processes: ["webhook"]}
    - {excludedNamespaces: ["batch"], processes: ["audit"]}
"#;
    let policy = [include_str!("data/needs-owner.yaml"), CONFIG].concat();
    let admission = judging_with("config", &policy, AdmissionSettings::default());
    let allowed = |object: Value| {
        admission
            .validate(&decode(&review_of(&object, "u")).unwrap())
            .allowed()
    };
    let config_map = |ns: &str| json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c", "namespace": ns}});
    assert!(allowed(config_map("team-a")));
    assert!(!allowed(config_map("batch")), "exempt from audit only");
    assert!(allowed(
        json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "team-b"}})
    ));
    assert!(!allowed(
        json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "shop"}})
    ));
}

/// The request was let in unjudged, the log naming the setting that would judge it.
fn let_in_for_want_of(judged: &palisade_admission::Judged, setting: &str) {
    assert!(judged.allowed(), "{:?}", judged.log);
    assert!(
        judged
            .log
            .reason
            .as_deref()
            .is_some_and(|r| r.contains(setting)),
        "{:?}",
        judged.log
    );
}

/// A file of the policies on deletions and connections (crates/palisade/tests/policy/
/// operations), which the webhook's test over TLS reads too.
fn operations(name: &str) -> PathBuf {
    workspace()
        .join("crates/palisade/tests/policy/operations")
        .join(name)
}

/// `review_of(object)` as another operation: an UPDATE from `old`, or a DELETE of `object`
/// (the API server sends a deletion's object as `oldObject` only).
fn review_as(operation: &str, object: &Value, old: Option<&Value>) -> palisade_admission::Review {
    let mut body: Value = serde_json::from_slice(&review_of(object, operation)).unwrap();
    body["request"]["operation"] = json!(operation);
    if operation == "DELETE" {
        body["request"]["oldObject"] = body["request"]["object"].take();
    } else if let Some(old) = old {
        body["request"]["oldObject"] = old.clone();
    }
    decode(&serde_json::to_vec(&body).unwrap()).unwrap()
}

/// A ValidatingAdmissionPolicy judges the operations its rules select, as the API server
/// does: an UPDATE-only policy judges updates and not creations, a CREATE-only one creations
/// and not updates. `pods` does not select the `ephemeralcontainers` subresource.
#[test]
fn admission_policies_judge_the_operations_and_subresources_they_select() {
    const POLICIES: &str = r#"apiVersion: admissionregistration.k8s.io/v1
kind: ValidatingAdmissionPolicy
metadata: {name: team-is-immutable}
spec:
  matchConstraints:
    resourceRules: [{apiGroups: ["apps"], apiVersions: ["v1"], operations: ["UPDATE"], resources: ["deployments"]}]
  validations:
    - expression: "object.metadata.labels.team == oldObject.metadata.labels.team"
      message: "the team label cannot change"
---
apiVersion: admissionregistration.k8s.io/v1
kind: ValidatingAdmissionPolicyBinding
metadata: {name: team-is-immutable}
spec: {policyName: team-is-immutable, validationActions: [Deny]}
---
apiVersion: admissionregistration.k8s.io/v1
kind: ValidatingAdmissionPolicy
metadata: {name: new-ones-are-small}
spec:
  matchConstraints:
    resourceRules: [{apiGroups: ["apps"], apiVersions: ["v1"], operations: ["CREATE"], resources: ["deployments"]}]
  validations:
    - expression: "object.spec.replicas <= 3"
      message: "start with at most 3 replicas"
---
apiVersion: admissionregistration.k8s.io/v1
kind: ValidatingAdmissionPolicyBinding
metadata: {name: new-ones-are-small}
spec: {policyName: new-ones-are-small, validationActions: [Deny]}
---
apiVersion: admissionregistration.k8s.io/v1
kind: ValidatingAdmissionPolicy
metadata: {name: pods-need-owners}
spec:
  matchConstraints:
    resourceRules: [{apiGroups: [""], apiVersions: ["v1"], operations: ["CREATE", "UPDATE"], resources: ["pods"]}]
  validations:
    - expression: "has(object.metadata.labels) && has(object.metadata.labels.owner)"
      message: "pods need an owner label"
---
apiVersion: admissionregistration.k8s.io/v1
kind: ValidatingAdmissionPolicyBinding
metadata: {name: pods-need-owners}
spec: {policyName: pods-need-owners, validationActions: [Deny]}
"#;
    let admission = judging_with("operations", POLICIES, AdmissionSettings::default());
    let deployment = |team: &str, replicas: u32| {
        json!({"apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": {"name": "web", "namespace": "shop", "labels": {"team": team}},
            "spec": {"replicas": replicas}})
    };
    let verdict = |review: palisade_admission::Review| {
        let judged = admission.validate(&review);
        (judged.allowed(), judged.log.denied.clone())
    };
    // Created: the CREATE policy judges, the UPDATE one does not (no oldObject to compare).
    assert_eq!(
        verdict(decode(&review_of(&deployment("a", 2), "c1")).unwrap()),
        (true, vec![])
    );
    let (allowed, denied) = verdict(decode(&review_of(&deployment("a", 9), "c2")).unwrap());
    assert!(!allowed && denied.len() == 1, "{denied:?}");
    // Updated: the UPDATE policy judges, the CREATE one does not (9 replicas are fine now).
    assert_eq!(
        verdict(review_as(
            "UPDATE",
            &deployment("a", 9),
            Some(&deployment("a", 2))
        )),
        (true, vec![])
    );
    let (allowed, denied) = verdict(review_as(
        "UPDATE",
        &deployment("b", 2),
        Some(&deployment("a", 2)),
    ));
    assert!(!allowed && denied.len() == 1, "{denied:?}");
    // An ephemeral container added to an unlabelled pod: `pods` does not select the
    // subresource, so the pod policy stays out.
    let pod = json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p", "namespace": "shop"},
        "spec": {"containers": [{"name": "c", "image": "nginx"}]}});
    let mut body: Value = serde_json::from_slice(&review_of(&pod, "e")).unwrap();
    body["request"]["operation"] = json!("UPDATE");
    body["request"]["subResource"] = json!("ephemeralcontainers");
    body["request"]["oldObject"] = pod.clone();
    let review = decode(&serde_json::to_vec(&body).unwrap()).unwrap();
    assert_eq!(verdict(review), (true, vec![]));
    let (allowed, _) = verdict(decode(&review_of(&pod, "p")).unwrap());
    assert!(!allowed, "the pod itself is selected");
}

/// With `judge_deletions`, a deletion is judged by the policies that ask for it: a
/// ValidatingAdmissionPolicy selecting DELETE (reading `oldObject`; `object` is null), and a
/// Gatekeeper constraint (reading the deleted object as `input.review.object`, as Gatekeeper
/// does). Palisade's own rules never refuse a deletion. Without the setting, deletions are
/// let in unjudged.
#[test]
fn deletions_are_judged_by_the_policies_that_ask_for_them() {
    let policies = std::fs::read_to_string(operations("policies.yaml")).unwrap();
    let judging = |judge_deletions: bool| {
        judging_with(
            &format!("deletions-{judge_deletions}"),
            &policies,
            AdmissionSettings {
                judge_deletions,
                ..AdmissionSettings::default()
            },
        )
    };
    let namespace = |labels: Value| json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "payments", "labels": labels}});
    let database = json!({"apiVersion": "apps/v1", "kind": "StatefulSet",
        "metadata": {"name": "ledger", "namespace": "payments", "labels": {"tier": "database"}},
        "spec": {"template": {"spec": {"containers": [{"name": "db", "image": "postgres:16"}]}}}});
    let on = judging(true);
    let judged = on.validate(&review_as(
        "DELETE",
        &namespace(json!({"protected": "yes"})),
        None,
    ));
    assert!(!judged.allowed(), "{:?}", judged.log);
    assert!(
        judged
            .response()
            .result
            .message
            .contains("protected namespaces cannot be deleted"),
        "{:?}",
        judged.response().result
    );
    let judged = on.validate(&review_as("DELETE", &namespace(json!({})), None));
    assert!(judged.allowed(), "{:?}", judged.log);
    let judged = on.validate(&review_as("DELETE", &database, None));
    assert!(!judged.allowed(), "{:?}", judged.log);
    assert!(
        judged
            .response()
            .result
            .message
            .contains("ledger is a database"),
        "{:?}",
        judged.response().result
    );
    // Creating the namespace or the database is not what these policies judge.
    assert!(
        on.validate(&decode(&review_of(&database, "c")).unwrap())
            .allowed()
    );
    let off = judging(false);
    let judged = off.validate(&review_as("DELETE", &database, None));
    let_in_for_want_of(&judged, "judge_deletions");
    // Built-in rules enforced: a privileged pod cannot be created, but it can be deleted.
    let builtin = admission(
        AdmissionSettings {
            judge_deletions: true,
            ..AdmissionSettings::default()
        },
        Default::default(),
    );
    let privileged = json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p", "namespace": "shop"},
        "spec": {"containers": [{"name": "c", "image": "nginx:1.27", "securityContext": {"privileged": true}}]}});
    assert!(
        !builtin
            .validate(&decode(&review_of(&privileged, "c")).unwrap())
            .allowed()
    );
    let judged = builtin.validate(&review_as("DELETE", &privileged, None));
    assert!(judged.allowed(), "{:?}", judged.log);
    assert!(judged.log.denied.is_empty() && judged.log.warned.is_empty());
}

/// An update that removes the label a policy selects by is still judged, as Gatekeeper
/// (either object matching the constraint) and the API server (either object matching a
/// policy's `objectSelector`) judge it: a policy cannot be escaped by relabelling in the same
/// request. Without the old object's labels, the new object alone decides.
#[test]
fn an_update_cannot_relabel_itself_out_of_a_policy() {
    const POLICIES: &str = r#"apiVersion: templates.gatekeeper.sh/v1
kind: ConstraintTemplate
metadata: {name: k8snolatest}
spec:
  crd: {spec: {names: {kind: K8sNoLatest}}}
  targets:
    - target: admission.k8s.gatekeeper.sh
      rego: |
        package k8snolatest
        violation[{"msg": msg}] {
          c := input.review.object.spec.containers[_]
          endswith(c.image, ":latest")
          msg := sprintf("%v uses a latest tag", [c.name])
        }
---
apiVersion: constraints.gatekeeper.sh/v1beta1
kind: K8sNoLatest
metadata: {name: prod-no-latest}
spec:
  match:
    kinds: [{apiGroups: [""], kinds: ["Pod"]}]
    labelSelector: {matchLabels: {env: prod}}
---
apiVersion: admissionregistration.k8s.io/v1
kind: ValidatingAdmissionPolicy
metadata: {name: prod-pods-pull-always}
spec:
  matchConstraints:
    resourceRules: [{apiGroups: [""], apiVersions: ["v1"], operations: ["CREATE", "UPDATE"], resources: ["pods"]}]
    objectSelector: {matchLabels: {env: prod}}
  validations:
    - expression: "object.spec.containers.all(c, c.?imagePullPolicy.orValue('') == 'Always')"
      message: "prod pods pull their images always"
---
apiVersion: admissionregistration.k8s.io/v1
kind: ValidatingAdmissionPolicyBinding
metadata: {name: prod-pods-pull-always}
spec: {policyName: prod-pods-pull-always, validationActions: [Deny]}
"#;
    let admission = judging_with("relabel", POLICIES, AdmissionSettings::default());
    let pod = |labels: Value, image: &str, pull: &str| {
        json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p", "namespace": "shop", "labels": labels},
            "spec": {"containers": [{"name": "c", "image": image, "imagePullPolicy": pull}]}})
    };
    let compliant = pod(json!({"env": "prod"}), "nginx:1.27", "Always");
    // The label removed and both policies broken in one update: both still judge it.
    let escaping = pod(json!({}), "nginx:latest", "IfNotPresent");
    let judged = admission.validate(&review_as("UPDATE", &escaping, Some(&compliant)));
    assert!(!judged.allowed(), "{:?}", judged.log);
    assert_eq!(judged.log.denied.len(), 2, "{:?}", judged.log);
    // Created without the label, neither applies.
    let judged = admission.validate(&decode(&review_of(&escaping, "c")).unwrap());
    assert!(judged.allowed(), "{:?}", judged.log);
    // Updated from an unlabelled pod, neither applies either.
    let unlabelled = pod(json!({}), "nginx:1.27", "Always");
    let judged = admission.validate(&review_as("UPDATE", &escaping, Some(&unlabelled)));
    assert!(judged.allowed(), "{:?}", judged.log);
}

/// At admission a ValidatingAdmissionPolicy matches the resource the request names: a custom
/// resource whose plural is not its kind's plus "s" (`Policy`, `policies`), with no CRD read.
#[test]
fn admission_policies_match_the_resource_the_request_names() {
    const POLICIES: &str = r#"apiVersion: admissionregistration.k8s.io/v1
kind: ValidatingAdmissionPolicy
metadata: {name: policies-have-owners}
spec:
  matchConstraints:
    resourceRules: [{apiGroups: ["example.com"], apiVersions: ["v1"], operations: ["CREATE"], resources: ["policies"]}]
  validations:
    - expression: "object.metadata.?labels.?owner.hasValue()"
      message: "policies need an owner"
---
apiVersion: admissionregistration.k8s.io/v1
kind: ValidatingAdmissionPolicyBinding
metadata: {name: policies-have-owners}
spec: {policyName: policies-have-owners, validationActions: [Deny]}
"#;
    let admission = judging_with("plural", POLICIES, AdmissionSettings::default());
    let policy = json!({"apiVersion": "example.com/v1", "kind": "Policy",
        "metadata": {"name": "p", "namespace": "shop"}, "spec": {}});
    let mut body: Value = serde_json::from_slice(&review_of(&policy, "p")).unwrap();
    body["request"]["resource"]["resource"] = json!("policies");
    let judged = admission.validate(&decode(&serde_json::to_vec(&body).unwrap()).unwrap());
    assert!(!judged.allowed(), "{:?}", judged.log);
}

/// A CONNECT (`kubectl exec`) as the API server sends it: the pod's name, the subresource,
/// and the options as the object.
fn exec_review(uid: &str, namespace: &str, user: &str, groups: &[&str]) -> Vec<u8> {
    serde_json::to_vec(
        &json!({"apiVersion": "admission.k8s.io/v1", "kind": "AdmissionReview",
        "request": {"uid": uid, "kind": {"group": "", "version": "v1", "kind": "PodExecOptions"},
            "resource": {"group": "", "version": "v1", "resource": "pods"}, "subResource": "exec",
            "requestKind": {"group": "", "version": "v1", "kind": "PodExecOptions"},
            "requestResource": {"group": "", "version": "v1", "resource": "pods"},
            "requestSubResource": "exec",
            "name": "web-1", "namespace": namespace, "operation": "CONNECT",
            "userInfo": {"username": user, "groups": groups},
            "object": {"kind": "PodExecOptions", "apiVersion": "v1", "stdin": true, "stdout": true,
                "tty": true, "container": "web", "command": ["sh"]},
            "oldObject": null, "dryRun": false, "options": null}}),
    )
    .unwrap()
}

/// With `judge_connect`, an exec is judged by the policies that select it: a
/// ValidatingAdmissionPolicy on `pods/exec` CONNECT refuses an exec into a production namespace
/// to anyone outside the break-glass group. Palisade's own rules never refuse one, and without
/// the setting it is let in unjudged.
#[test]
fn connections_are_judged_by_the_policies_that_select_them() {
    let policies = std::fs::read_to_string(operations("policies.yaml")).unwrap();
    let namespaces = std::fs::read_to_string(operations("namespaces.yaml")).unwrap();
    let cluster = load_text("namespaces.yaml", &namespaces, &Limits::default()).inventory;
    let judging = |judge_connect: bool| {
        judging_in(
            &format!("connect-{judge_connect}"),
            &policies,
            AdmissionSettings {
                judge_connect,
                ..AdmissionSettings::default()
            },
            cluster.clone(),
        )
    };
    let on = judging(true);
    let verdict = |admission: &Admission, body: Vec<u8>| {
        let review = decode(&body).unwrap();
        admission.validate(&review)
    };
    let judged = verdict(
        &on,
        exec_review("e1", "shop", "mallory", &["system:authenticated"]),
    );
    assert!(!judged.allowed(), "{:?}", judged.log);
    assert!(
        judged
            .response()
            .result
            .message
            .contains("exec into shop/web-1 needs break-glass"),
        "{:?}",
        judged.response().result
    );
    let judged = verdict(&on, exec_review("e2", "shop", "alice", &["break-glass"]));
    assert!(judged.allowed(), "{:?}", judged.log);
    let judged = verdict(&on, exec_review("e3", "lab", "mallory", &[]));
    assert!(judged.allowed(), "{:?}", judged.log);
    let off = judging(false);
    let judged = verdict(&off, exec_review("e4", "shop", "mallory", &[]));
    let_in_for_want_of(&judged, "judge_connect");
    // Built-in rules only: an exec is never refused by them.
    let builtin = admission(
        AdmissionSettings {
            judge_connect: true,
            ..AdmissionSettings::default()
        },
        Default::default(),
    );
    let judged = verdict(&builtin, exec_review("e5", "shop", "mallory", &[]));
    assert!(judged.allowed(), "{:?}", judged.log);
    assert!(
        judged.log.denied.is_empty() && judged.log.warned.is_empty(),
        "{:?}",
        judged.log
    );
}

/// The webhook's escalation graph asks the policies it enforces which pods that would own
/// their node they refuse, as `palisade scan` does: a Deployment whose account may create pods
/// in its namespace is let in where the policies refuse every way to own a node, and refused
/// (RBAC017, enforced) where one way is let in.
#[test]
fn the_webhooks_escalation_graph_reads_the_policies_it_enforces() {
    let brakes = workspace().join("crates/palisade/tests/policy/brakes");
    let text = std::fs::read_to_string(brakes.join("cluster.yaml")).unwrap();
    let (frontend, rest): (Vec<&str>, Vec<&str>) = text
        .split("---\n")
        .partition(|doc| doc.contains("kind: Deployment"));
    let cluster = load_text("cluster.yaml", &rest.join("---\n"), &Limits::default()).inventory;
    let deployment = load_text("frontend.yaml", frontend[0], &Limits::default())
        .inventory
        .objects[0]
        .value
        .clone();
    let dir = std::env::temp_dir().join(format!("palisade-brakes-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let judge_with = |constraints: &str| {
        let file = dir.join("policies.yaml");
        let templates = std::fs::read_to_string(brakes.join("templates.yaml")).unwrap();
        std::fs::write(&file, format!("{templates}---\n{constraints}")).unwrap();
        let mut options = only_policies_of(&file);
        options.only_rules.push("RBAC017".into());
        Admission::new(
            ClusterModel::prepare(cluster.clone(), options),
            enforcing(&["RBAC017"]),
            None,
        )
    };
    let constraints = std::fs::read_to_string(brakes.join("constraints.yaml")).unwrap();
    let guarded = judge_with(&constraints);
    let review = decode(&review_of(&deployment, "guarded")).unwrap();
    let judged = guarded.validate(&review);
    assert!(judged.allowed(), "{:?}", judged.log);
    // The same answer on the next request (the answers are kept with the cluster).
    assert!(guarded.validate(&review).allowed());
    let partial: Vec<&str> = constraints
        .split("---\n")
        .filter(|doc| !doc.contains("no-added-capabilities"))
        .collect();
    let judged = judge_with(&partial.join("---\n")).validate(&review);
    assert!(!judged.allowed());
    assert_eq!(judged.log.denied, ["RBAC017"], "{:?}", judged.log);
    let _ = std::fs::remove_dir_all(&dir);
}

/// A webhook that read neither the cluster nor manifests of it (`judged_alone`) cannot know
/// what other objects lack: the rules that would conclude from an absence (no NetworkPolicy,
/// no ResourceQuota, a binding's role, an undeclared ServiceAccount, a mesh's
/// PeerAuthentication, the FrontendConfig an Ingress names) say the object was not assessed instead. Against a cluster read
/// (here, an empty one) the same objects get those findings.
#[test]
fn a_webhook_judging_objects_alone_concludes_nothing_from_absence() {
    let objects = [
        json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "db", "namespace": "shop", "labels": {"tier": "database"}},
            "spec": {"containers": [{"name": "db", "image": "postgres:17"}]}}),
        json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "shop", "labels": {"istio-injection": "enabled"}}}),
        json!({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "RoleBinding", "metadata": {"name": "b", "namespace": "shop"},
            "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": "reader"},
            "subjects": [{"kind": "ServiceAccount", "name": "web", "namespace": "shop"}]}),
        // Whether GKE redirects this Ingress's plain HTTP is in the FrontendConfig it names,
        // and whether Cloud Armor guards it in the BackendConfig its Service names.
        json!({"apiVersion": "networking.k8s.io/v1", "kind": "Ingress", "metadata": {"name": "web", "namespace": "shop",
            "annotations": {"networking.gke.io/managed-certificates": "web", "networking.gke.io/v1beta1.FrontendConfig": "web"}},
            "spec": {"defaultBackend": {"service": {"name": "web", "port": {"number": 80}}}}}),
    ];
    let from_absence = [
        "NET004", "NET013", "POD020", "NET007", "NS001", "NET015", "RBAC018", "NET006", "NET014",
    ];
    let found = |judged_alone: bool| {
        let options = ScanOptions {
            judged_alone,
            ..ScanOptions::default()
        };
        let model = palisade_admission::prepare_model(
            Default::default(),
            options,
            1,
            &AdmissionSettings::default(),
        );
        let (mut rules, mut not_assessed) = (Vec::new(), Vec::new());
        for object in &objects {
            let report = model.evaluate(object.clone()).unwrap();
            rules.extend(report.findings.iter().map(|f| f.rule.id.to_string()));
            for coverage in &report.coverage {
                for n in &coverage.not_assessed_objects {
                    not_assessed.push(format!("{}: {}", coverage.rule, n.reason));
                }
            }
        }
        (rules, not_assessed)
    };
    let (read, _) = found(false);
    let (alone, not_assessed) = found(true);
    for rule in from_absence {
        assert!(
            read.iter().any(|r| r == rule),
            "{rule} with a cluster: {read:?}"
        );
        assert!(!alone.iter().any(|r| r == rule), "{rule} alone: {alone:?}");
        assert!(
            not_assessed
                .iter()
                .any(|n| n.starts_with(&format!("{rule}: judged alone: "))),
            "{rule}: {not_assessed:?}"
        );
    }
    // What the objects hold themselves is judged alone as with a cluster.
    for rule in ["POD002", "POD003"] {
        assert!(read.iter().any(|r| r == rule), "{rule}: {read:?}");
        assert!(alone.iter().any(|r| r == rule), "{rule} alone: {alone:?}");
    }
}

/// A webhook that denies from medium findings up (`deny_at = "medium"`, a strict but usual
/// setting) over the cluster `yaml`.
fn strict_judge(yaml: &str, grandfather_existing: bool) -> Admission {
    let settings = AdmissionSettings {
        deny_at: palisade_core::Severity::Medium,
        warn_at: palisade_core::Severity::Low,
        grandfather_existing,
        ..AdmissionSettings::default()
    };
    admission(
        settings,
        load_text("cluster.yaml", yaml, &Limits::default()).inventory,
    )
}

/// Nothing can be in a namespace being created, so the rules on what a namespace holds (a
/// default-deny NetworkPolicy, a ResourceQuota) do not judge its creation: under a strict
/// `deny_at = "medium"` every new namespace was refused for want of objects that cannot be
/// made before it. A scan of the same namespace, and an update of it, are still judged.
#[test]
fn a_namespace_being_created_is_not_refused_for_what_cannot_be_in_it_yet() {
    let judge = strict_judge(
        "apiVersion: v1\nkind: Namespace\nmetadata: {name: other}\n",
        false,
    );
    // Labelled for Pod Security, which a new namespace can be (NS002).
    let namespace = json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "shop",
        "labels": {"pod-security.kubernetes.io/enforce": "restricted"}}});
    let created = judge.validate(&decode(&review_of(&namespace, "u-ns")).unwrap());
    assert!(created.allowed(), "{:?}", created.log);
    for rule in ["NET007", "NS001"] {
        assert!(
            !created
                .log
                .denied
                .iter()
                .chain(&created.log.warned)
                .any(|r| r == rule),
            "{rule}: {:?}",
            created.log
        );
    }
    let mut update: Value = serde_json::from_slice(&review_of(&namespace, "u-ns2")).unwrap();
    update["request"]["operation"] = json!("UPDATE");
    update["request"]["oldObject"] = namespace.clone();
    let updated = judge.validate(&decode(update.to_string().as_bytes()).unwrap());
    assert!(
        !updated.allowed() && updated.log.denied.iter().any(|r| r == "NET007"),
        "{:?}",
        updated.log
    );
    let scanned = scan_inventory(
        &load_text(
            "ns.yaml",
            "apiVersion: v1\nkind: Namespace\nmetadata: {name: shop}\n",
            &Limits::default(),
        )
        .inventory,
        &ScanOptions::default(),
    );
    for rule in ["NET007", "NS001"] {
        assert!(scanned.findings.iter().any(|f| f.rule.id == rule), "{rule}");
    }
}

/// A NetworkPolicy let in was not in the cluster the webhook read until it read it again (a
/// minute later): a Pod of its namespace applied right after (`kubectl apply -f dir/`, a
/// GitOps sync) was judged unisolated (NET004), and refused under `deny_at = "medium"`. It is
/// kept now, so the Pod is judged with it. A Pod of another namespace still is judged
/// unisolated.
#[test]
fn a_network_policy_let_in_is_not_missed_by_the_pods_after_it() {
    let judge = strict_judge(
        "apiVersion: v1\nkind: Namespace\nmetadata: {name: shop}\n---\napiVersion: v1\nkind: Namespace\nmetadata: {name: other}\n",
        true,
    );
    let pod = |namespace: &str| {
        json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "web", "namespace": namespace},
            "spec": {"containers": [{"name": "web", "image": "registry.example.com/web@sha256:0000000000000000000000000000000000000000000000000000000000000000"}]}})
    };
    let net004 = |judged: &palisade_admission::Judged| {
        judged
            .log
            .denied
            .iter()
            .chain(&judged.log.warned)
            .any(|r| r == "NET004")
    };
    let before = judge.validate(&decode(&review_of(&pod("shop"), "u-1")).unwrap());
    assert!(net004(&before), "{:?}", before.log);
    let policy = json!({"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy",
        "metadata": {"name": "default-deny", "namespace": "shop"},
        "spec": {"podSelector": {}, "policyTypes": ["Ingress", "Egress"]}});
    let let_in = judge.validate(&decode(&review_of(&policy, "u-2")).unwrap());
    assert!(let_in.allowed(), "{:?}", let_in.log);
    let after = judge.validate(&decode(&review_of(&pod("shop"), "u-3")).unwrap());
    assert!(!net004(&after), "{:?}", after.log);
    let elsewhere = judge.validate(&decode(&review_of(&pod("other"), "u-4")).unwrap());
    assert!(net004(&elsewhere), "{:?}", elsewhere.log);
}

/// The rules that judge `object` in `report`, unsuppressed.
fn rules_on(report: &palisade_core::Report, object: &Value) -> BTreeSet<String> {
    let text = |field: &str| object.at(field).and_then(Value::as_str).map(str::to_string);
    let (kind, name, namespace) = (
        text("/kind"),
        text("/metadata/name"),
        text("/metadata/namespace"),
    );
    report
        .findings
        .iter()
        .filter(|f| !f.is_suppressed())
        .filter(|f| {
            f.object().is_some_and(|o| {
                Some(&o.kind) == kind.as_ref() && o.name == name && o.namespace == namespace
            })
        })
        .map(|f| f.rule_id().to_string())
        .collect()
}

/// A chart installed into a cluster the webhook read before: `helm install` creates the
/// ServiceAccounts, roles, bindings and Services first, then the workloads, each a request of
/// its own within a second, long before the webhook reads the cluster again. Each object must
/// get the findings a scan of the cluster holding what was let in before it gives it. Before
/// the webhook kept every object it let in, 203 of the 905 objects of 38 real install
/// manifests did not: a binding made after its role was "dangling" (RBAC018: 186 times), so
/// what the role grants was never judged (RBAC001 cluster-admin, RBAC002 secrets), and a
/// workload was judged without its account's new bindings (RBAC017, an escalation path, 12
/// times). The one exception is a namespace's creation (NET007, NS001: nothing can be in
/// it yet).
#[test]
fn a_chart_installed_object_by_object_gets_the_verdict_of_a_scan_of_the_cluster_so_far() {
    let charts = [
        "argoproj__argo-cd/manifests/install.yaml",
        "kubernetes__ingress-nginx/deploy/static/provider/cloud/deploy.yaml",
        "longhorn__longhorn/deploy/longhorn.yaml",
        "knative__serving/third_party/contour-latest/contour.yaml",
        "knative__serving/third_party/cert-manager-latest/cert-manager.yaml",
        "istio__istio/samples/security/spire/spire-quickstart.yaml",
        "projectcalico__calico/manifests/apiserver.yaml",
        "rook__rook/deploy/examples/csi-operator.yaml",
        "madhuakula__kubernetes-goat/scenarios/hunger-check/deployment.yaml",
    ];
    let cluster = "apiVersion: v1\nkind: Namespace\nmetadata: {name: default}\n---\napiVersion: v1\nkind: Namespace\nmetadata: {name: kube-system}\n";
    let settings = AdmissionSettings {
        mode: Mode::Audit,
        exempt_namespaces: Vec::new(),
        ..AdmissionSettings::default()
    };
    let whole = ScanOptions {
        whole_cluster: true,
        ..ScanOptions::default()
    };
    let (mut compared, mut judged_rules) = (0, 0);
    let mut disagreements = Vec::new();
    for chart in charts {
        let path = corpus(&format!("real-manifests/{chart}"));
        let text = std::fs::read_to_string(&path).unwrap();
        let mut objects: Vec<Value> = load_text(chart, &text, &Limits::default())
            .inventory
            .objects
            .iter()
            .map(|o| o.value.clone())
            .filter(|v| v["kind"] != "CustomResourceDefinition")
            .collect();
        let rank = |v: &Value| palisade_k8s::install_order::rank(v["kind"].as_str().unwrap_or(""));
        objects.sort_by_key(rank);
        let read = load_text("cluster.yaml", cluster, &Limits::default()).inventory;
        let judge = Admission::new(
            ClusterModel::prepare(read, whole.clone()),
            settings.clone(),
            None,
        );
        let mut so_far = cluster.to_string();
        for (index, object) in objects.iter().enumerate() {
            so_far.push_str(&format!("---\n{object}\n"));
            let mut held = load_text("cluster.yaml", &so_far, &Limits::default()).inventory;
            held.complete = true;
            let mut scanned = rules_on(&scan_inventory(&held, &whole), object);
            let review = decode(&review_of(object, &format!("{chart}#{index}"))).unwrap();
            let judged = judge.validate(&review);
            assert!(judged.allowed(), "{chart} {object}: {:?}", judged.log);
            let log = &judged.log;
            let hooked: BTreeSet<String> = log
                .denied
                .iter()
                .chain(&log.warned)
                .chain(&log.audited)
                .cloned()
                .collect();
            if object["kind"] == "Namespace" {
                scanned.retain(|rule| rule != "NET007" && rule != "NS001");
            }
            if scanned != hooked {
                disagreements.push(format!(
                    "{chart}: {} {}: scan {scanned:?}, webhook {hooked:?}",
                    object["kind"], object["metadata"]["name"]
                ));
            }
            compared += 1;
            judged_rules += scanned.len();
        }
    }
    assert!(disagreements.is_empty(), "{}", disagreements.join("\n"));
    assert!(
        compared > 250 && judged_rules > 350,
        "{compared} objects, {judged_rules} findings"
    );
}

/// `helm upgrade` of a chart whose Deployment ran harmless: the upgrade makes its Service a
/// LoadBalancer and binds its account to cluster-admin, then rolls the Deployment to a new
/// image. The Service's update and the binding are kept, so the Deployment is judged with
/// them: its escalation path (RBAC017) is found, as a scan of the upgraded chart finds it.
/// Before, the update was judged against the cluster read before the upgrade. An update that
/// changes nothing the models read (the new image) is not kept.
#[test]
fn an_upgrade_is_judged_with_the_updates_let_in_before_it() {
    let read = "\
apiVersion: v1
kind: Namespace
metadata: {name: shop}
---
apiVersion: v1
kind: ServiceAccount
metadata: {name: backup, namespace: shop}
---
apiVersion: v1
kind: Service
metadata: {name: web, namespace: shop}
spec: {type: ClusterIP, selector: {app: web}, ports: [{port: 80}]}
";
    let deployment = |image: &str| {
        json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "web", "namespace": "shop"},
            "spec": {"selector": {"matchLabels": {"app": "web"}},
                "template": {"metadata": {"labels": {"app": "web"}},
                    "spec": {"serviceAccountName": "backup",
                        "containers": [{"name": "web", "image": image, "ports": [{"containerPort": 80}]}]}}}})
    };
    let old = deployment("nginx:1.27");
    let cluster = format!("{read}---\n{old}\n");
    let settings = AdmissionSettings {
        rules: [
            ("RBAC001".to_string(), Mode::Warn),
            ("NET011".to_string(), Mode::Warn),
            ("RBAC021".to_string(), Mode::Warn),
        ]
        .into(),
        ..AdmissionSettings::default()
    };
    let judge = admission(
        settings,
        load_text("cluster.yaml", &cluster, &Limits::default()).inventory,
    );
    let rules = |judged: &palisade_admission::Judged| -> BTreeSet<String> {
        judged
            .log
            .denied
            .iter()
            .chain(&judged.log.warned)
            .cloned()
            .collect()
    };
    let new = deployment("nginx:1.28");
    let before = judge.validate(&review_as("UPDATE", &new, Some(&old)));
    assert!(!rules(&before).contains("RBAC017"), "{:?}", before.log);
    assert_eq!(judge.remembered(), 0, "a new image changes no model");
    let service_before = json!({"apiVersion": "v1", "kind": "Service", "metadata": {"name": "web", "namespace": "shop"},
        "spec": {"type": "ClusterIP", "selector": {"app": "web"}, "ports": [{"port": 80}]}});
    let mut service = service_before.clone();
    service["spec"]["type"] = json!("LoadBalancer");
    let binding = json!({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRoleBinding",
        "metadata": {"name": "backup-admin"},
        "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "cluster-admin"},
        "subjects": [{"kind": "ServiceAccount", "name": "backup", "namespace": "shop"}]});
    let exposed = judge.validate(&review_as("UPDATE", &service, Some(&service_before)));
    assert!(exposed.allowed(), "{:?}", exposed.log);
    // The binding gives the running Deployment its chain (a warning here, denied by default).
    let bound = judge.validate(&decode(&review_of(&binding, "b")).unwrap());
    assert!(bound.allowed());
    assert!(rules(&bound).contains("RBAC021"), "{:?}", bound.log);
    assert_eq!(judge.remembered(), 2);
    let after = judge.validate(&review_as("UPDATE", &new, Some(&old)));
    assert!(rules(&after).contains("RBAC017"), "{:?}", after.log);
    let upgraded = format!("{read}---\n{service}\n---\n{binding}\n---\n{new}\n");
    let scanned = scan_inventory(
        &load_text("chart.yaml", &upgraded, &Limits::default()).inventory,
        &ScanOptions::default(),
    );
    assert!(scanned.findings.iter().any(|f| f.rule_id() == "RBAC017"));
}

/// A Service made a LoadBalancer exposes web, whose pods may connect to an operator bound to
/// cluster-admin (no ingress policy selects it): web gains a chain to cluster-admin through
/// that hop. On its own the Service is a medium finding (NET001, exposed: a warning), and
/// web's ingress policy keeps NET011 quiet, so only RBAC021 denies the update, with the
/// default settings. With an ingress policy on the operator that admits only its own
/// namespace, the same update is let in with the warning.
#[test]
fn a_service_made_public_that_opens_a_network_hop_to_cluster_admin_is_denied() {
    let cluster = "\
apiVersion: apps/v1
kind: Deployment
metadata: {name: web, namespace: shop}
spec:
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec: {automountServiceAccountToken: false, containers: [{name: web, image: 'a:1', ports: [{containerPort: 8080}]}]}
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: web-ingress, namespace: shop}
spec:
  podSelector: {matchLabels: {app: web}}
  policyTypes: [Ingress]
  ingress: [{ports: [{port: 8080}]}]
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: operator, namespace: ops}
spec:
  selector: {matchLabels: {app: operator}}
  template:
    metadata: {labels: {app: operator}}
    spec: {serviceAccountName: operator, containers: [{name: op, image: 'a:1', ports: [{containerPort: 9443}]}]}
---
apiVersion: v1
kind: ServiceAccount
metadata: {name: operator, namespace: ops}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata: {name: operator-admin}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: cluster-admin}
subjects: [{kind: ServiceAccount, name: operator, namespace: ops}]
";
    let service = |kind: &str| {
        json!({"apiVersion": "v1", "kind": "Service", "metadata": {"name": "web", "namespace": "shop"},
            "spec": {"type": kind, "selector": {"app": "web"}, "ports": [{"port": 80, "targetPort": 8080}]}})
    };
    let (internal, public) = (service("ClusterIP"), service("LoadBalancer"));
    let settings = AdmissionSettings::default();
    let judged = |extra: &str| {
        let text = format!("{cluster}---\n{internal}\n{extra}");
        let judge = admission(
            settings.clone(),
            load_text("cluster.yaml", &text, &Limits::default()).inventory,
        );
        judge.validate(&review_as("UPDATE", &public, Some(&internal)))
    };
    let open = judged("");
    assert!(!open.allowed(), "{:?}", open.log);
    assert_eq!(open.log.denied, ["RBAC021"], "{:?}", open.log);
    assert!(
        open.log.warned.contains(&"NET001".to_string()),
        "{:?}",
        open.log
    );
    let operator_isolated = "\
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: operator-ingress, namespace: ops}
spec:
  podSelector: {matchLabels: {app: operator}}
  policyTypes: [Ingress]
  ingress: [{from: [{podSelector: {}}]}]
";
    let closed = judged(operator_isolated);
    assert!(closed.allowed(), "{:?}", closed.log);
    assert!(
        closed.log.warned.contains(&"NET001".to_string()),
        "{:?}",
        closed.log
    );
}

/// A Namespace relabelled from `restricted` to `privileged` enforcement, where web's account
/// may create pods: a privileged pod there owns its node, and the node holds the token of a
/// DaemonSet bound to cluster-admin. The update gives web a chain (RBAC021); the same update
/// to `baseline` (which refuses every way to own the node) gives none.
#[test]
fn a_namespace_relabelled_to_privileged_opens_a_chain_for_who_creates_pods_there() {
    let cluster = std::fs::read_to_string(
        workspace().join("crates/palisade-admission/tests/data/pod-makers.yaml"),
    )
    .unwrap();
    let namespace = |level: &str| {
        json!({"apiVersion": "v1", "kind": "Namespace",
            "metadata": {"name": "build", "labels": {"pod-security.kubernetes.io/enforce": level}}})
    };
    let restricted = namespace("restricted");
    let text = format!("{cluster}---\n{restricted}\n");
    let judge = admission(
        AdmissionSettings::default(),
        load_text("cluster.yaml", &text, &Limits::default()).inventory,
    );
    let opened = judge.validate(&review_as(
        "UPDATE",
        &namespace("privileged"),
        Some(&restricted),
    ));
    assert!(
        opened.log.denied.contains(&"RBAC021".to_string()),
        "{:?}",
        opened.log
    );
    let message = opened.to_json()["response"]["status"]["message"].to_string();
    assert!(message.contains("lets Deployment shop/web"), "{message}");
    let kept_closed = judge.validate(&review_as(
        "UPDATE",
        &namespace("baseline"),
        Some(&restricted),
    ));
    assert!(
        !kept_closed.log.denied.contains(&"RBAC021".to_string())
            && !kept_closed.log.warned.contains(&"RBAC021".to_string()),
        "{:?}",
        kept_closed.log
    );
}

/// A claim created for a Deployment that mounts it, bound by name to a PersistentVolume on
/// the node's whole file system: web then owns its node, where a cluster-admin token lies
/// (RBAC021). The same claim bound to no volume opens nothing.
#[test]
fn a_claim_bound_to_the_nodes_file_system_opens_a_chain_for_the_workload_mounting_it() {
    let cluster = std::fs::read_to_string(
        workspace().join("crates/palisade-admission/tests/data/claim-on-node.yaml"),
    )
    .unwrap();
    let judge = admission(
        AdmissionSettings::default(),
        load_text("cluster.yaml", &cluster, &Limits::default()).inventory,
    );
    let claim = |volume: Option<&str>| {
        let mut claim = json!({"apiVersion": "v1", "kind": "PersistentVolumeClaim",
            "metadata": {"name": "data", "namespace": "shop"},
            "spec": {"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": "1Gi"}}}});
        if let Some(volume) = volume {
            claim["spec"]["volumeName"] = json!(volume);
        }
        claim
    };
    let bound = judge.validate(&decode(&review_of(&claim(Some("node-root")), "c1")).unwrap());
    assert!(
        bound.log.denied.contains(&"RBAC021".to_string()),
        "{:?}",
        bound.log
    );
    let unbound = judge.validate(&decode(&review_of(&claim(None), "c2")).unwrap());
    assert!(
        !unbound.log.denied.contains(&"RBAC021".to_string()),
        "{:?}",
        unbound.log
    );
}

/// A RayCluster admitted into a cluster holding its workers' cluster-admin binding is judged
/// on its exposure as a scan of both is: its head, published on a public load balancer,
/// leads the internet through its workers to cluster-admin (RBAC017, two paths).
#[test]
fn a_ray_clusters_exposure_is_judged_at_admission_as_a_scan_judges_it() {
    let text =
        std::fs::read_to_string(workspace().join("crates/palisade/tests/rbac/ray-published.yaml"))
            .unwrap();
    let (ray, binding): (Vec<&str>, Vec<&str>) = text
        .split("---\n")
        .partition(|doc| doc.contains("kind: RayCluster"));
    let cluster = load_text("cluster.yaml", &binding.join("---\n"), &Limits::default()).inventory;
    let object = load_text("ray.yaml", ray[0], &Limits::default())
        .inventory
        .objects[0]
        .value
        .clone();
    let options = ScanOptions {
        only_rules: vec!["RBAC017".into()],
        ..ScanOptions::default()
    };
    let scanned = scan_inventory(
        &load_text("all.yaml", &text, &Limits::default()).inventory,
        &options,
    );
    let judge = Admission::new(
        ClusterModel::prepare(cluster, options),
        enforcing(&["RBAC017"]),
        None,
    );
    let judged = judge.validate(&decode(&review_of(&object, "ray")).unwrap());
    let message = judged.response().result.message.clone();
    let exposed = "exposed to the internet (the Ray head service";
    assert!(
        scanned.findings.iter().any(|f| f.message.contains(exposed)),
        "the scan finds the exposed path"
    );
    assert!(message.contains(exposed), "{message}");
}
