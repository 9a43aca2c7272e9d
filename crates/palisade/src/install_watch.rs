//! `palisade install --watch`: the objects that run `palisade watch` in the cluster
//! (docs/watch.md). Replicas share a Lease in their namespace; the leader writes the Policy
//! Reports and logs the events. They read what the webhook reads (never Secrets), write only
//! Policy Reports, and take and renew only their own Lease.

use serde_json::{Value, json};

use crate::install_cmd::{
    api_server_and_dns, labels_of, meta_of, read_rules, restricted_container, restricted_pod,
    spread,
};

pub(crate) const NAME: &str = "palisade-watch";

fn labels() -> Value {
    labels_of(NAME)
}

fn meta(name: &str, namespace: Option<&str>) -> Value {
    meta_of(NAME, name, namespace)
}

/// Every object, in apply order: the account and its rights, the Deployment, its
/// NetworkPolicy. `image` and `replicas` are values (or the chart's placeholders).
pub(crate) fn objects(ns: &str, image: &Value, replicas: &Value) -> Vec<Value> {
    let mut rules = read_rules();
    if let Some(rules) = rules.as_array_mut() {
        rules.push(json!({"apiGroups": ["wgpolicyk8s.io"],
                          "resources": ["policyreports", "clusterpolicyreports"],
                          "verbs": ["get", "list", "create", "patch", "delete"]}));
    }
    let binding = |kind: &str, role: &str, namespace: Option<&str>| {
        json!({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": kind,
               "metadata": meta(role, namespace),
               "roleRef": {"apiGroup": "rbac.authorization.k8s.io",
                           "kind": kind.trim_end_matches("Binding"), "name": role},
               "subjects": [{"kind": "ServiceAccount", "name": NAME, "namespace": ns}]})
    };
    vec![
        json!({"apiVersion": "v1", "kind": "ServiceAccount", "metadata": meta(NAME, Some(ns)),
               "automountServiceAccountToken": true}),
        json!({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRole",
               "metadata": meta(NAME, None), "rules": rules}),
        binding("ClusterRoleBinding", NAME, None),
        // Its own Lease only, by name; creating it cannot be limited by name.
        json!({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "Role",
               "metadata": meta(NAME, Some(ns)), "rules": [
            {"apiGroups": ["coordination.k8s.io"], "resources": ["leases"], "verbs": ["create"]},
            {"apiGroups": ["coordination.k8s.io"], "resources": ["leases"],
             "resourceNames": [NAME], "verbs": ["get", "update"]},
        ]}),
        binding("RoleBinding", NAME, Some(ns)),
        deployment(ns, image, replicas),
        json!({"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy", "metadata": meta(NAME, Some(ns)),
            "spec": {"podSelector": {"matchLabels": {"app.kubernetes.io/name": NAME}},
                     "policyTypes": ["Ingress", "Egress"],
                     "ingress": [{"ports": [{"port": 8080, "protocol": "TCP"}]}],
                     "egress": api_server_and_dns()}}),
    ]
}

fn deployment(ns: &str, image: &Value, replicas: &Value) -> Value {
    let lease = format!("{ns}/{NAME}");
    let args = [
        "watch",
        "--lease",
        lease.as_str(),
        "--policy-reports",
        "--health-listen",
        "0.0.0.0:8080",
        "--config",
        "/config/palisade.toml",
    ];
    let container = json!({
        "name": "watch", "image": image, "imagePullPolicy": "Always", "args": args,
        "env": [{"name": "POD_NAME", "valueFrom": {"fieldRef": {"fieldPath": "metadata.name"}}}],
        "ports": [{"name": "health", "containerPort": 8080, "protocol": "TCP"}],
        // Ready once the first scan is done, which on a large cluster takes a while.
        "readinessProbe": {"httpGet": {"path": "/readyz", "port": "health"}, "periodSeconds": 10},
        "livenessProbe": {"httpGet": {"path": "/healthz", "port": "health"}, "periodSeconds": 10},
        // About 1 GB at the peak of a scan of 50,000 pods (bench/watch-50k.sh).
        "resources": {"requests": {"cpu": "200m", "memory": "256Mi"}, "limits": {"cpu": "2", "memory": "2Gi"}},
        "securityContext": restricted_container(),
        "volumeMounts": [{"name": "config", "mountPath": "/config", "readOnly": true}],
    });
    json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": meta(NAME, Some(ns)),
        "spec": {"replicas": replicas,
                 "selector": {"matchLabels": {"app.kubernetes.io/name": NAME}},
                 "template": {"metadata": {"labels": labels()}, "spec": {
                     "serviceAccountName": NAME,
                     "automountServiceAccountToken": true,
                     "enableServiceLinks": false,
                     "securityContext": restricted_pod(),
                     "topologySpreadConstraints": spread(NAME),
                     "containers": [container],
                     // The webhook's palisade.toml: the same suppressions and settings.
                     "volumes": [{"name": "config", "configMap": {"name": format!("{}-config", crate::install_cmd::NAME)}}]}}}})
}
