//! `Network::with_lone_endpoint` against `Network::placed`: on random clusters (namespaces,
//! Services that select pods by label, an Ingress, a NetworkPolicy, Deployments with their
//! ReplicaSets and Pods, Pods of an absent owner, standalone Pods, cluster DNS), the network
//! of the cluster with one more object placed after the others must be the network read
//! afresh, whenever the extension answers; and it must answer for every lone endpoint.

use palisade_inventory::{Inventory, Limits, load_values};
use palisade_net::Network;
use palisade_net::model::{Placement, is_lone_endpoint};
use proptest::prelude::*;
use serde_json::{Value, json};

const NAMESPACES: [&str; 3] = ["a", "b", "kube-system"];
const APPS: [&str; 3] = ["web", "api", "kube-dns"];

/// One object of the cluster, by shape: (shape, namespace, app, name suffix, port).
type Spec = (u8, usize, usize, u8, u16);

fn object((shape, ns, app, n, port): Spec) -> Value {
    let ns = NAMESPACES[ns];
    let app = APPS[app];
    let labels = json!({"app": app, "k8s-app": app});
    let containers = json!([{"name": "c", "image": "i", "ports": [{"containerPort": port}]}]);
    let pod_spec = json!({"containers": containers});
    let meta = |name: String| json!({"name": name, "namespace": ns, "labels": labels});
    match shape % 8 {
        0 => {
            json!({"apiVersion": "v1", "kind": "Service", "metadata": {"name": format!("{app}-{n}"), "namespace": ns},
            "spec": {"type": if n % 2 == 0 { "LoadBalancer" } else { "ClusterIP" }, "selector": {"app": app},
                "ports": [{"port": 80, "targetPort": port}]}})
        }
        1 => {
            json!({"apiVersion": "networking.k8s.io/v1", "kind": "Ingress", "metadata": {"name": format!("in-{n}"), "namespace": ns},
            "spec": {"rules": [{"http": {"paths": [{"path": "/", "pathType": "Prefix",
                "backend": {"service": {"name": format!("{app}-{}", n % 2), "port": {"number": 80}}}}]}}]}})
        }
        2 => {
            json!({"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy", "metadata": {"name": format!("np-{n}"), "namespace": ns},
            "spec": {"podSelector": {"matchLabels": {"app": app}}, "ingress": [{"ports": [{"port": port}]}]}})
        }
        3 => json!({"apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": {"name": format!("{app}-d{n}"), "namespace": ns, "uid": format!("d-{ns}-{app}-{n}")},
            "spec": {"selector": {"matchLabels": {"app": app}}, "template": {"metadata": {"labels": labels}, "spec": pod_spec}}}),
        // A Pod of a ReplicaSet the cluster may or may not hold.
        4 => {
            let mut m = meta(format!("{app}-rs{n}-p"));
            m["ownerReferences"] = json!([{"apiVersion": "apps/v1", "kind": "ReplicaSet", "name": format!("{app}-rs{n}"), "uid": format!("rs-{ns}-{app}-{n}"), "controller": true}]);
            json!({"apiVersion": "v1", "kind": "Pod", "metadata": m, "spec": pod_spec})
        }
        5 => json!({"apiVersion": "apps/v1", "kind": "ReplicaSet",
            "metadata": {"name": format!("{app}-rs{n}"), "namespace": ns, "uid": format!("rs-{ns}-{app}-{n}"),
                "ownerReferences": [{"apiVersion": "apps/v1", "kind": "Deployment", "name": format!("{app}-d{n}"), "uid": format!("d-{ns}-{app}-{n}"), "controller": true}]},
            "spec": {"selector": {"matchLabels": {"app": app}}, "template": {"metadata": {"labels": labels}, "spec": pod_spec}}}),
        6 => {
            json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": ns, "labels": {"team": app}}})
        }
        // A standalone Pod, on the host's network now and then.
        _ => {
            json!({"apiVersion": "v1", "kind": "Pod", "metadata": meta(format!("{app}-alone-{n}")),
            "spec": {"hostNetwork": n % 3 == 0, "containers": containers}})
        }
    }
}

fn spec() -> impl Strategy<Value = Spec> {
    (
        0..8u8,
        0..3usize,
        0..3usize,
        0..3u8,
        prop::sample::select(vec![80u16, 8080]),
    )
}

fn inventory(items: Vec<Value>) -> Inventory {
    load_values("cluster.json", items, 1, &Limits::default()).inventory
}

/// What a network holds, written out: two networks are the same when these are.
fn written(network: &Network) -> String {
    format!(
        "{:?}\n{:?}\n{:?}\n{:?}\n{}\n{:?}\n{:?}\n{:?}\n{:?}",
        network.endpoints,
        network.services,
        network.ingress,
        network.namespaces.names().collect::<Vec<_>>(),
        network.has_cluster_dns,
        network.policies,
        network.admin,
        network.unevaluated,
        network.problems,
    )
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn a_lone_endpoint_extends_the_network_as_a_fresh_read_does(
        cluster in prop::collection::vec(spec(), 0..14),
        added in spec(),
    ) {
        let mut items: Vec<Value> = Vec::new();
        for value in cluster.into_iter().map(object) {
            // One object per identity, as a cluster holds them.
            let id = |v: &Value| (v["kind"].clone(), v["metadata"]["namespace"].clone(), v["metadata"]["name"].clone());
            if items.iter().all(|i| id(i) != id(&value)) {
                items.push(value);
            }
        }
        let before = inventory(items.clone());
        let base = Network::placed(&before, Placement::ByScope);
        items.push(object(added));
        let after = inventory(items);
        let index = after.objects.len() - 1;
        // The added object must be new and change no other object's controller, as the
        // lending that uses the extension requires.
        prop_assume!(after.objects.len() == before.objects.len() + 1);
        prop_assume!((0..before.objects.len()).all(|i| after.controller_of(i) == before.controller_of(i)));
        let extended = base.with_lone_endpoint(&after, index);
        prop_assert_eq!(extended.is_some(), is_lone_endpoint(&after, index));
        if let Some(extended) = extended {
            let fresh = Network::placed(&after, Placement::ByScope);
            prop_assert_eq!(written(&extended), written(&fresh));
        }
    }
}
