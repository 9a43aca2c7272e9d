//! The prepared cluster model judges one object exactly as a scan of the cluster with that
//! object judges it, sees the rest of the cluster, and leaves the cluster as it was.

use palisade_inventory::{Limits, load_text};
use palisade_scan::{ClusterModel, ModelError, ScanOptions, scan_inventory};
use serde_json::{Value, json};

const CLUSTER: &str = "\
apiVersion: v1
kind: Namespace
metadata: {name: shop, labels: {pod-security.kubernetes.io/enforce: baseline}}
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: default-deny, namespace: shop}
spec: {podSelector: {}, policyTypes: [Ingress, Egress]}
---
apiVersion: apps/v1
kind: ReplicaSet
metadata: {name: web-1, namespace: shop, uid: rs-1}
spec:
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      containers: [{name: web, image: 'registry.example.com/web@sha256:0000000000000000000000000000000000000000000000000000000000000000'}]
";

fn pod(privileged: bool) -> Value {
    json!({
        "apiVersion": "v1", "kind": "Pod",
        "metadata": {"name": "web-1-abcde", "namespace": "shop", "labels": {"app": "web"},
                     "ownerReferences": [{"apiVersion": "apps/v1", "kind": "ReplicaSet",
                                          "name": "web-1", "uid": "rs-1", "controller": true}]},
        "spec": {"containers": [{"name": "web", "image": "nginx:1.27",
                                 "securityContext": {"privileged": privileged}}]}
    })
}

/// `rule message` of every finding, sorted.
fn findings(report: &palisade_core::Report) -> Vec<String> {
    let mut out: Vec<String> = report
        .findings
        .iter()
        .map(|f| format!("{} {}", f.rule_id(), f.message))
        .collect();
    out.sort();
    out
}

fn model() -> ClusterModel {
    let loaded = load_text("cluster.yaml", CLUSTER, &Limits::default());
    assert!(loaded.diagnostics.is_empty(), "{:?}", loaded.diagnostics);
    ClusterModel::prepare(loaded.inventory, ScanOptions::default())
}

#[test]
fn an_object_is_judged_as_a_scan_of_the_cluster_judges_it() {
    let model = model();
    let report = model.evaluate(pod(true)).unwrap();
    let judged = findings(&report);
    assert!(
        judged.iter().any(|f| f.starts_with("POD001 ")),
        "{judged:?}"
    );
    // The cluster's default-deny policy isolates the pod: NET004 sees the whole cluster.
    assert!(
        !judged.iter().any(|f| f.starts_with("NET004 ")),
        "{judged:?}"
    );
    assert_eq!(report.objects.len(), 1);
    assert!(
        report
            .findings
            .iter()
            .all(|f| f.object().unwrap().kind == "Pod")
    );

    // The same object in a scan of the cluster: privileged, it has more power than its
    // ReplicaSet's template (pinned and unprivileged), so it is judged on its own spec there
    // too, not through the ReplicaSet.
    let text = format!(
        "{CLUSTER}---\n{}",
        serde_json::to_string(&pod(true)).unwrap()
    );
    let loaded = load_text("cluster.yaml", &text, &Limits::default());
    let whole = scan_inventory(&loaded.inventory, &ScanOptions::default());
    let privileged_on = |kind: &str| {
        whole
            .findings
            .iter()
            .any(|f| f.rule_id() == "POD001" && f.object().unwrap().kind == kind)
    };
    assert!(privileged_on("Pod"));
    assert!(!privileged_on("ReplicaSet"));
}

#[test]
fn a_free_standing_pod_gets_exactly_the_findings_a_whole_scan_gives_it() {
    let mut free = pod(true);
    free["metadata"]
        .as_object_mut()
        .unwrap()
        .remove("ownerReferences");
    let from_model = findings(&model().evaluate(free.clone()).unwrap());
    let text = format!("{CLUSTER}---\n{}", serde_json::to_string(&free).unwrap());
    let loaded = load_text("cluster.yaml", &text, &Limits::default());
    let whole = scan_inventory(&loaded.inventory, &ScanOptions::default());
    let mut from_scan: Vec<String> = whole
        .findings
        .iter()
        .filter(|f| f.object().is_some_and(|o| o.kind == "Pod"))
        .map(|f| format!("{} {}", f.rule_id(), f.message))
        .collect();
    from_scan.sort();
    assert!(!from_model.is_empty());
    assert_eq!(from_model, from_scan);
}

#[test]
fn the_cluster_is_unchanged_and_updates_replace_their_object() {
    let model = model();
    let before = model.len();
    model.evaluate(pod(true)).unwrap();
    assert_eq!(model.len(), before);
    // An update of the ReplicaSet is judged in place of the stored one.
    let mut replica_set: Value =
        serde_json::from_str(&serde_json::to_string(&serde_yaml_like(CLUSTER, 2)).unwrap())
            .unwrap();
    replica_set["spec"]["template"]["spec"]["hostNetwork"] = json!(true);
    let report = model.evaluate(replica_set).unwrap();
    assert!(
        findings(&report).iter().any(|f| f.starts_with("POD004 ")),
        "{:?}",
        findings(&report)
    );
    assert_eq!(model.len(), before);
    // And the stored one is back: a clean pod judged now sees no host-network ReplicaSet.
    let clean = model.evaluate(pod(false)).unwrap();
    assert!(!findings(&clean).iter().any(|f| f.starts_with("POD001 ")));
}

#[test]
fn what_is_not_an_object_is_an_error_not_a_pass() {
    assert_eq!(
        model().evaluate(json!({"metadata": {"name": "x"}})).err(),
        Some(ModelError::NotAnObject)
    );
}

#[test]
fn a_secret_in_the_request_never_reaches_the_report() {
    let leak = "Zx81-canary-QQ7";
    let mut request = pod(true);
    request["spec"]["containers"][0]["env"] = json!([{"name": "DB_PASSWORD", "value": leak}]);
    let report = model().evaluate(request).unwrap();
    let text = serde_json::to_string(&report).unwrap();
    assert!(!text.contains(leak), "{text}");
}

/// The `n`th document of a YAML stream, as JSON (through the inventory's own loader).
fn serde_yaml_like(text: &str, n: usize) -> Value {
    let loaded = load_text("x.yaml", text, &Limits::default());
    loaded.inventory.objects[n].value.clone()
}

const RBAC_CLUSTER: &str = "\
apiVersion: v1
kind: ServiceAccount
metadata: {name: backup, namespace: ops}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata: {name: backup-admin}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: cluster-admin}
subjects: [{kind: ServiceAccount, name: backup, namespace: ops}]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata: {name: deployer, namespace: ops}
rules: [{apiGroups: [apps], resources: [deployments], verbs: [create]}]
";

/// Findings on `object` from the prepared model, and from a scan of the cluster with it.
fn judged_both_ways(object: &Value) -> (Vec<String>, Vec<String>) {
    let loaded = load_text("cluster.yaml", RBAC_CLUSTER, &Limits::default());
    let model = ClusterModel::prepare(loaded.inventory, ScanOptions::default());
    let from_model = findings(&model.evaluate(object.clone()).unwrap());
    let text = format!(
        "{RBAC_CLUSTER}---\n{}",
        serde_json::to_string(object).unwrap()
    );
    let loaded = load_text("cluster.yaml", &text, &Limits::default());
    let whole = scan_inventory(&loaded.inventory, &ScanOptions::default());
    let (kind, name) = (&object["kind"], &object["metadata"]["name"]);
    let mut from_scan: Vec<String> = whole
        .findings
        .iter()
        .filter(|f| {
            f.object().is_some_and(|o| {
                o.kind == kind.as_str().unwrap() && o.name.as_deref() == name.as_str()
            })
        })
        .map(|f| format!("{} {}", f.rule_id(), f.message))
        .collect();
    from_scan.sort();
    (from_model, from_scan)
}

/// The cluster's grants are read once when it is prepared and lent to evaluations of objects
/// that cannot change them; an RBAC object judged at admission is judged with its own grant.
#[test]
fn grants_read_once_are_used_only_where_the_judged_object_cannot_change_them() {
    // A pod that runs as the cluster-admin account: the prepared grants give the chain.
    let pod = json!({"apiVersion": "v1", "kind": "Pod",
        "metadata": {"name": "runner", "namespace": "ops"},
        "spec": {"serviceAccountName": "backup", "containers": [{"name": "c", "image": "busybox:1.36"}]}});
    let (model, scan) = judged_both_ways(&pod);
    assert!(model.iter().any(|f| f.starts_with("RBAC017 ")), "{model:?}");
    assert_eq!(model, scan);
    // A new binding: judged with itself in the grants (the prepared ones do not hold it).
    let binding = json!({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "RoleBinding",
        "metadata": {"name": "web-deploys", "namespace": "ops"},
        "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": "deployer"},
        "subjects": [{"kind": "ServiceAccount", "name": "web", "namespace": "shop"}]});
    let (model, scan) = judged_both_ways(&binding);
    assert!(!model.is_empty(), "the binding's own grant is judged");
    assert_eq!(model, scan);
    let admin = json!({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRoleBinding",
        "metadata": {"name": "everyone-admin"},
        "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "cluster-admin"},
        "subjects": [{"kind": "Group", "name": "system:authenticated", "apiGroup": "rbac.authorization.k8s.io"}]});
    let (model, scan) = judged_both_ways(&admin);
    assert!(model.iter().any(|f| f.starts_with("RBAC001 ")), "{model:?}");
    assert_eq!(model, scan);
}

/// A cluster whose AdminNetworkPolicies could not be listed: the network rules' verdicts are
/// incomplete (an unseen AdminNetworkPolicy may allow what the NetworkPolicies deny), and so
/// are the escalation graph's (it asks the network where an exposed workload leads).
#[test]
fn an_unlisted_policy_layer_makes_the_network_verdicts_incomplete() {
    let loaded = load_text("cluster.yaml", CLUSTER, &Limits::default());
    let options = ScanOptions {
        unlisted: vec![(
            "policy.networking.k8s.io".into(),
            "AdminNetworkPolicy".into(),
            "AdminNetworkPolicies could not be listed: forbidden".into(),
        )],
        ..ScanOptions::default()
    };
    let report = scan_inventory(&loaded.inventory, &options);
    let incomplete = |rule: &str| {
        report
            .coverage
            .iter()
            .find(|c| c.rule == rule)
            .is_some_and(|c| !c.incomplete.is_empty())
    };
    for rule in ["NET004", "NET007", "RBAC017"] {
        assert!(incomplete(rule), "{rule} is incomplete");
    }
    assert!(!incomplete("POD001"), "a rule of the pod alone is whole");
}

/// A Deployment of the cluster, for ReplicaSets made after the cluster was read.
const DEPLOYMENT_CLUSTER: &str = include_str!("data/exposed-admin-deployment.yaml");

/// A ReplicaSet the model remembers is one the cluster holds: a Pod it makes is judged as
/// by a model read with the ReplicaSet in the cluster, everything rebuilt. A second copy of
/// the same ReplicaSet, an update, or a Pod, is not remembered.
#[test]
fn a_remembered_replica_set_is_judged_as_one_read_with_the_cluster() {
    let replica_set = json!({"apiVersion": "apps/v1", "kind": "ReplicaSet",
        "metadata": {"name": "web-2", "namespace": "shop", "uid": "rs-2",
            "ownerReferences": [{"apiVersion": "apps/v1", "kind": "Deployment", "name": "web", "uid": "d-1", "controller": true}]},
        "spec": {"selector": {"matchLabels": {"app": "web"}}, "template": {"metadata": {"labels": {"app": "web"}},
            "spec": {"serviceAccountName": "backup", "containers": [{"name": "web", "image": "nginx:1.28"}]}}}});
    let pod = json!({"apiVersion": "v1", "kind": "Pod",
        "metadata": {"name": "web-2-x", "namespace": "shop", "labels": {"app": "web"},
            "ownerReferences": [{"apiVersion": "apps/v1", "kind": "ReplicaSet", "name": "web-2", "uid": "rs-2", "controller": true}]},
        "spec": {"serviceAccountName": "backup", "containers": [{"name": "web", "image": "nginx:1.28"}]}});
    let read = |text: &str| load_text("cluster.yaml", text, &Limits::default()).inventory;
    let model = ClusterModel::prepare_copies(read(DEPLOYMENT_CLUSTER), ScanOptions::default(), 2);
    let standalone = findings(&model.evaluate(pod.clone()).unwrap());
    assert!(
        standalone.iter().any(|f| f.starts_with("RBAC017 ")),
        "{standalone:?}"
    );
    assert!(model.remember(replica_set.clone()));
    assert!(!model.remember(replica_set.clone()), "already held");
    assert!(
        !model.remember(pod.clone()),
        "only controllers of Pods are kept"
    );
    assert_eq!(model.remembered(), 1);
    let with_it = format!(
        "{DEPLOYMENT_CLUSTER}---\n{}",
        serde_json::to_string(&replica_set).unwrap()
    );
    let fresh = ClusterModel::prepare(read(&with_it), ScanOptions::default());
    let expected = findings(&fresh.evaluate(pod.clone()).unwrap());
    assert!(
        !expected.iter().any(|f| f.starts_with("RBAC017 ")),
        "{expected:?}"
    );
    // Both copies hold it: two evaluations at once each give the fresh model's findings.
    std::thread::scope(|scope| {
        let runs: Vec<_> = (0..2)
            .map(|_| scope.spawn(|| findings(&model.evaluate(pod.clone()).unwrap())))
            .collect();
        for run in runs {
            assert_eq!(run.join().unwrap(), expected);
        }
    });
}
