//! `Policy::with_new_workload` against `Policy::with_grants`: on random clusters
//! (ServiceAccounts that do or do not mount tokens, Deployments with their ReplicaSets and
//! Pods, Pods of an absent owner, standalone Pods placed on nodes, PodTemplates), the policy
//! of the cluster with one more object placed after the others must be the one read afresh,
//! whenever the extension answers; and it must answer for every new workload.

use std::sync::Arc;

use palisade_inventory::{Inventory, Limits, load_values};
use palisade_rbac::Policy;
use palisade_rbac::model::Grants;
use proptest::prelude::*;
use serde_json::{Value, json};

/// (shape, namespace, account, name suffix, flag).
type Spec = (u8, usize, usize, u8, bool);

fn object((shape, ns, account, n, flag): Spec) -> Value {
    let ns = ["a", "b"][ns];
    let account = ["default", "ops"][account];
    let spec = json!({"serviceAccountName": account, "nodeName": if flag { "node-1" } else { "" },
        "containers": [{"name": "c", "image": "i", "securityContext": {"privileged": flag}}]});
    match shape % 6 {
        0 => {
            json!({"apiVersion": "v1", "kind": "ServiceAccount", "metadata": {"name": account, "namespace": ns},
            "automountServiceAccountToken": flag})
        }
        1 => {
            json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": format!("d{n}"), "namespace": ns, "uid": format!("d-{ns}-{n}")},
            "spec": {"template": {"spec": spec}}})
        }
        2 => {
            json!({"apiVersion": "apps/v1", "kind": "ReplicaSet", "metadata": {"name": format!("d{n}-rs"), "namespace": ns, "uid": format!("rs-{ns}-{n}"),
            "ownerReferences": [{"apiVersion": "apps/v1", "kind": "Deployment", "name": format!("d{n}"), "uid": format!("d-{ns}-{n}"), "controller": true}]},
            "spec": {"template": {"spec": spec}}})
        }
        3 => {
            json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": format!("d{n}-rs-p"), "namespace": ns,
            "ownerReferences": [{"apiVersion": "apps/v1", "kind": "ReplicaSet", "name": format!("d{n}-rs"), "uid": format!("rs-{ns}-{n}"), "controller": true}]},
            "spec": spec})
        }
        4 => {
            json!({"apiVersion": "v1", "kind": "PodTemplate", "metadata": {"name": format!("t{n}"), "namespace": ns},
            "template": {"spec": spec}})
        }
        _ => {
            json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": format!("alone-{n}"), "namespace": ns}, "spec": spec})
        }
    }
}

fn spec() -> impl Strategy<Value = Spec> {
    (0..6u8, 0..2usize, 0..2usize, 0..3u8, any::<bool>())
}

fn inventory(items: Vec<Value>) -> Inventory {
    load_values("cluster.json", items, 1, &Limits::default()).inventory
}

/// What a policy's workloads are, written out.
fn written(policy: &Policy) -> String {
    let mut by_object: Vec<(usize, Option<usize>)> = (0..64)
        .map(|i| (i, policy.workload_of_object(i)))
        .filter(|(_, w)| w.is_some())
        .collect();
    by_object.sort();
    format!("{:?}\n{by_object:?}", policy.workloads)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn a_new_workload_extends_the_policy_as_a_fresh_read_does(
        cluster in prop::collection::vec(spec(), 0..12),
        added in spec(),
    ) {
        let mut items: Vec<Value> = Vec::new();
        let id = |v: &Value| (v["kind"].clone(), v["metadata"]["namespace"].clone(), v["metadata"]["name"].clone());
        for value in cluster.into_iter().map(object) {
            if items.iter().all(|i| id(i) != id(&value)) {
                items.push(value);
            }
        }
        let added = object(added);
        prop_assume!(items.iter().all(|i| id(i) != id(&added)));
        let before = inventory(items.clone());
        items.push(added);
        let after = inventory(items);
        let index = after.objects.len() - 1;
        prop_assume!((0..before.objects.len()).all(|i| after.controller_of(i) == before.controller_of(i)));
        // The object is no RBAC object (the grants are the cluster's), as the lending asks.
        prop_assume!(!Grants::READS.contains(&(after.objects[index].id.group(), after.objects[index].id.kind.as_str())));
        let grants = Arc::new(Grants::from_inventory(&before));
        let base = Policy::with_grants(&before, Arc::clone(&grants));
        let extended = base.with_new_workload(&after, index);
        let fresh = Policy::with_grants(&after, grants);
        prop_assert_eq!(extended.is_some(), fresh.workload_of_object(index).is_some());
        if let Some(extended) = extended {
            prop_assert_eq!(written(&extended), written(&fresh));
        }
    }
}
