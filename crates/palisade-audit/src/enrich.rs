//! Context for alerts from an inventory (manifests, a snapshot or a live cluster): for an
//! alert about a pod, the workload it belongs to, its service account and what that account
//! can reach (cluster-admin, Secrets, nodes: the attack graph's own answer, escalations
//! included), whether the workload is reachable from the internet; for every alert, its
//! namespace's criticality (`palisade.dev/criticality`, a label or an annotation on the
//! Namespace). An exec, attach, port-forward or ephemeral container into a pod whose
//! account reaches cluster-admin is critical; into an internet-exposed pod, at least high.

use std::collections::HashMap;

use palisade_core::Severity;
use palisade_core::tree::Tree as _;
use palisade_graph::Goal;
use palisade_inventory::Inventory;
use palisade_rbac::graph::{build, workload_node};
use palisade_rbac::model::Policy;
use serde_json::Value;

use crate::alert::{Alert, Enrichment};

/// The label or annotation that says how critical a namespace is.
pub const CRITICALITY: &str = "palisade.dev/criticality";

/// Detections that put the caller inside a pod.
const INSIDE_A_POD: &[&str] = &["AUD001", "AUD002", "AUD003"];

#[derive(Debug, Clone)]
struct WorkloadContext {
    kind: String,
    name: String,
    service_account: String,
    /// What the account can reach, as the graph's paths say (`cluster-admin: ...`).
    reaches: Vec<String>,
    cluster_admin: bool,
    exposed: Option<String>,
}

/// Context prepared once from an inventory.
#[derive(Debug, Default)]
pub struct Enricher {
    workloads: HashMap<String, Vec<WorkloadContext>>,
    criticality: HashMap<String, String>,
}

impl Enricher {
    pub fn from_inventory(inventory: &Inventory) -> Enricher {
        let policy = Policy::from_inventory(inventory);
        let graph = build(&policy, inventory);
        let goals = [
            (Goal::ClusterAdmin, "cluster-admin"),
            (Goal::Secrets, "secrets"),
            (Goal::Nodes, "nodes"),
        ];
        let toward: Vec<_> = goals.iter().map(|(g, _)| graph.toward(*g)).collect();
        let mut workloads: HashMap<String, Vec<WorkloadContext>> = HashMap::new();
        for (w, workload) in policy.workloads.iter().enumerate() {
            let node = workload_node(&policy, w);
            let mut reaches = Vec::new();
            let mut cluster_admin = false;
            for ((goal, name), toward) in goals.iter().zip(&toward) {
                if let Some(path) = graph.path_with(toward, &node) {
                    cluster_admin |= *goal == Goal::ClusterAdmin;
                    reaches.push(format!("{name}: {}", path.describe()));
                }
            }
            workloads
                .entry(workload.namespace.clone())
                .or_default()
                .push(WorkloadContext {
                    kind: workload.kind.clone(),
                    name: workload.name.clone(),
                    service_account: workload.service_account.clone(),
                    reaches,
                    cluster_admin,
                    exposed: graph.exposure(&node).map(str::to_string),
                });
        }
        let mut criticality = HashMap::new();
        for object in &inventory.objects {
            if object.id.kind != "Namespace" {
                continue;
            }
            let value = ["labels", "annotations"].iter().find_map(|field| {
                object
                    .value
                    .at(&format!("/metadata/{field}"))
                    .and_then(|m| m.get(CRITICALITY))
                    .and_then(Value::as_str)
            });
            if let (Some(value), Some(name)) = (value, &object.id.name) {
                criticality.insert(name.clone(), value.to_string());
            }
        }
        Enricher {
            workloads,
            criticality,
        }
    }

    /// The workload a pod belongs to: the pod itself, or the workload whose name is the
    /// longest prefix of the pod's (`web-7d9f8-x2x` of Deployment `web`).
    fn workload_of(&self, namespace: &str, pod: &str) -> Option<&WorkloadContext> {
        let candidates = self.workloads.get(namespace)?;
        candidates
            .iter()
            .find(|w| w.kind == "Pod" && w.name == pod)
            .or_else(|| {
                candidates
                    .iter()
                    .filter(|w| {
                        w.kind != "Pod"
                            && pod
                                .strip_prefix(w.name.as_str())
                                .is_some_and(|rest| rest.starts_with('-'))
                    })
                    .max_by_key(|w| w.name.len())
            })
    }

    /// Adds what the inventory knows to the alert, raising its severity when the target is
    /// worth more than the detection alone says.
    pub fn enrich(&self, alert: &mut Alert) {
        let mut enrichment = Enrichment::default();
        let namespace = alert.request.namespace.clone().unwrap_or_default();
        if let Some(level) = self.criticality.get(&namespace) {
            enrichment.criticality = Some(level.clone());
        }
        let pod = (alert.request.resource == "pods")
            .then(|| self.workload_of(&namespace, &alert.request.name))
            .flatten();
        if let Some(workload) = pod {
            enrichment.workload = Some(format!("{} {namespace}/{}", workload.kind, workload.name));
            enrichment.service_account = Some(format!("{namespace}/{}", workload.service_account));
            enrichment.permissions = workload.reaches.clone();
            enrichment.internet_exposed = Some(workload.exposed.is_some());
            if INSIDE_A_POD.contains(&alert.rule.id.as_ref()) {
                if workload.cluster_admin {
                    raise(
                        alert,
                        &mut enrichment,
                        Severity::Critical,
                        "the pod's service account reaches cluster-admin",
                    );
                } else if let Some(exposure) = &workload.exposed {
                    raise(
                        alert,
                        &mut enrichment,
                        Severity::High,
                        &format!("the pod is reachable from the internet ({exposure})"),
                    );
                }
            }
        }
        if enrichment.criticality.as_deref() == Some("critical")
            && alert.severity >= Severity::Medium
        {
            raise(
                alert,
                &mut enrichment,
                Severity::High,
                "the namespace is labelled critical",
            );
        }
        if enrichment != Enrichment::default() {
            alert.enrichment = Some(enrichment);
        }
    }
}

fn raise(alert: &mut Alert, enrichment: &mut Enrichment, to: Severity, why: &str) {
    if alert.severity < to {
        alert.severity = to;
        enrichment.raised_because = Some(why.to_string());
    }
}
