//! KubeRay clusters in the graph. Each of a cluster's pod templates is a workload of its own
//! (the head, each worker group); Ray makes them one place to run code: a job submitted to
//! the head's Jobs API runs its driver on the head and its tasks on any worker, and a process
//! on any node may submit more. So code run in one of the cluster's pods runs in all of them,
//! with each pod's service account, node and mounts. The operator may also publish the head
//! outside the cluster ([`palisade_k8s::ray`] says how), which exposes it as a Service would.

use std::collections::BTreeMap;
use std::sync::Arc;

use palisade_graph::{Graph, Relation};
use palisade_inventory::Inventory;
use palisade_k8s::ray::{RayCluster, Role};

use crate::graph::{Brakes, Exposed, workload_node};
use crate::model::Policy;

/// The Ray cluster each workload of `policy` belongs to, when it is a pod template of one,
/// with what it runs: `(cluster, workload, role)`.
fn ray_workloads<'i>(
    policy: &Policy,
    inventory: &'i Inventory,
) -> Vec<(RayCluster<'i>, usize, Role)> {
    let mut out = Vec::new();
    for (w, workload) in policy.workloads.iter().enumerate() {
        let Some(template) = &workload.template else {
            continue;
        };
        let object = &inventory.objects[workload.object];
        let Some(cluster) =
            palisade_k8s::ray::cluster(object.id.group(), &object.id.kind, &object.value)
        else {
            continue;
        };
        if let Some(role) = cluster.role(&template.spec) {
            out.push((cluster, w, role));
        }
    }
    out
}

/// Internet → the head of each Ray cluster the operator publishes outside the cluster.
pub(crate) fn exposed_heads(policy: &Policy, inventory: &Inventory) -> Vec<Exposed> {
    let mut out = Vec::new();
    for (cluster, w, role) in ray_workloads(policy, inventory) {
        if role != Role::Head {
            continue;
        }
        let Some(published) = cluster.published().into_iter().next() else {
            continue;
        };
        let field = published.field().dotted();
        let mut why = format!("{} ({field})", published.describe());
        if !cluster.authenticates() {
            why.push_str(", and Ray authenticates nobody: its Jobs API runs any caller's code");
        }
        out.push(Exposed {
            workload: w,
            why,
            through: policy.workloads[w].object,
        });
    }
    out
}

/// Each node template of a Ray cluster (head, worker groups) → every other: code run in one
/// runs in all; a RayJob's submitter → the head, to which it submits the job.
pub(crate) fn add_ray_clusters(
    g: &mut Graph,
    policy: &Policy,
    inventory: &Inventory,
    _brakes: &Brakes<'_>,
) {
    let mut clusters: BTreeMap<usize, Vec<(usize, Role)>> = BTreeMap::new();
    for (_, w, role) in ray_workloads(policy, inventory) {
        clusters
            .entry(policy.workloads[w].object)
            .or_default()
            .push((w, role));
    }
    let shared: Arc<str> = "one Ray cluster: a job submitted to its head runs tasks on every node, and code on any node may submit one".into();
    let submits: Arc<str> =
        "submits the RayJob's entrypoint to the head's Jobs API, which runs it".into();
    for members in clusters.values() {
        let nodes = || members.iter().filter(|(_, role)| *role != Role::Submitter);
        for &(from, role) in members {
            for &(to, to_role) in nodes().filter(|&&(to, _)| to != from) {
                let evidence = match role {
                    Role::Submitter if to_role == Role::Head => &submits,
                    Role::Submitter => continue,
                    Role::Head | Role::Worker => &shared,
                };
                g.edge(
                    workload_node(policy, from),
                    workload_node(policy, to),
                    Relation::RunsCodeIn,
                    Arc::clone(evidence),
                );
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use palisade_graph::Goal;
    use palisade_inventory::{Limits, load_text};

    fn policy_of(yaml: &str) -> (Inventory, Policy) {
        let loaded = load_text("ray.yaml", yaml, &Limits::default());
        let inventory = loaded.inventory;
        let policy = Policy::from_inventory(&inventory);
        (inventory, policy)
    }

    const RAY: &str = r#"
apiVersion: ray.io/v1
kind: RayCluster
metadata: {name: ray, namespace: ml}
spec:
  headGroupSpec:
    serviceType: LoadBalancer
    template:
      spec:
        containers: [{name: ray-head, image: "rayproject/ray:2.40.0"}]
  workerGroupSpecs:
  - groupName: gpu
    template:
      spec:
        serviceAccountName: trainer
        containers: [{name: ray-worker, image: "rayproject/ray:2.40.0"}]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata: {name: trainer-admin}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: cluster-admin}
subjects: [{kind: ServiceAccount, name: trainer, namespace: ml}]
"#;

    /// ShadowRay's chain: the internet reaches the published head, whose Jobs API runs code
    /// on a worker whose account is cluster-admin.
    #[test]
    fn a_published_head_leads_through_its_workers() {
        let (inventory, policy) = policy_of(RAY);
        assert_eq!(policy.workloads.len(), 2);
        let graph = crate::graph::build(&policy, &inventory);
        let head = workload_node(&policy, 0);
        assert_eq!(
            head.to_string(),
            "RayCluster ml/ray (spec.headGroupSpec.template)"
        );
        let exposure = graph.exposure(&head).expect("the head is exposed");
        assert!(
            exposure.contains("public load balancer (spec.headGroupSpec.serviceType)"),
            "{exposure}"
        );
        assert!(exposure.contains("Ray authenticates nobody"), "{exposure}");
        let path = graph.path(&head, Goal::ClusterAdmin).expect("a path");
        assert_eq!(path.steps[0].relation, Relation::RunsCodeIn);
        assert_eq!(
            path.steps[0].to.to_string(),
            "RayCluster ml/ray (spec.workerGroupSpecs.0.template)"
        );
        assert_eq!(path.steps.len(), 3, "{}", path.describe());
    }

    /// A head kept inside the cluster is not exposed; a RayJob's submitter is no Ray node.
    #[test]
    fn only_published_heads_are_exposed_and_only_ray_nodes_share_code() {
        let inside = RAY.replace("serviceType: LoadBalancer", "serviceType: ClusterIP");
        let (inventory, policy) = policy_of(&inside);
        let graph = crate::graph::build(&policy, &inventory);
        assert!(graph.exposure(&workload_node(&policy, 0)).is_none());
        let job = r#"
apiVersion: ray.io/v1
kind: RayJob
metadata: {name: job, namespace: ml}
spec:
  rayClusterSpec:
    headGroupSpec:
      template: {spec: {containers: [{name: head, image: "ray:2"}]}}
  submitterPodTemplate:
    spec: {serviceAccountName: trainer, containers: [{name: submit, image: "ray:2"}]}
"#;
        let (inventory, policy) = policy_of(job);
        assert_eq!(policy.workloads.len(), 2);
        let roles: Vec<Role> = ray_workloads(&policy, &inventory)
            .into_iter()
            .map(|(_, _, role)| role)
            .collect();
        assert_eq!(roles, [Role::Head, Role::Submitter]);
        let graph = crate::graph::build(&policy, &inventory);
        let submitter = workload_node(&policy, 1);
        assert_eq!(
            submitter.to_string(),
            "RayJob ml/job (spec.submitterPodTemplate)"
        );
        // The submitter reaches the head; nothing runs code in the submitter.
        let steps = graph.steps_of(Relation::RunsCodeIn);
        assert_eq!(steps.len(), 1, "{steps:?}");
        assert_eq!(
            (&steps[0].0, &steps[0].1),
            (&submitter, &workload_node(&policy, 0))
        );
        assert!(steps[0].2.contains("Jobs API"));
    }
}
