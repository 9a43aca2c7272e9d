//! Context for alerts from an inventory (manifests, a snapshot or a live cluster): for an
//! alert about a pod, the workload it belongs to (for an alert about a workload, the workload
//! itself), its service account and what that account can reach (cluster-admin, Secrets,
//! nodes: the attack graph's own answer, escalations included), whether the workload is
//! reachable from the internet; for an alert about a binding, what its role grants; for an
//! alert about a claim, the workloads that mount it; for every alert, its namespace's
//! criticality (`palisade.dev/criticality`, a label or an
//! annotation on the Namespace). An exec, attach, port-forward or ephemeral container into a
//! pod, a pod's image swapped or a container added to a workload's template, where the
//! account reaches cluster-admin is critical; in an internet-exposed workload, at least high.
//! A subject given a role that leads beyond itself (full control, any service account, a
//! node) is at least high.

use std::collections::HashMap;

use palisade_core::Severity;
use palisade_core::tree::Tree as _;
use palisade_graph::Goal;
use palisade_inventory::Inventory;
use palisade_rbac::graph::{AdmissionAsker, build_asking, workload_node};
use palisade_rbac::model::Policy;
use palisade_rbac::primitives::{Held, Leads};
use serde_json::Value;

use crate::alert::{Alert, Enrichment};

/// The label or annotation that says how critical a namespace is.
pub const CRITICALITY: &str = palisade_k8s::criticality::KEY;

/// Detections that put the caller inside a pod, or their code into a pod or a workload's
/// template (a swapped image, an added container): either runs with the workload's service
/// account and network position.
const INSIDE_A_WORKLOAD: &[&str] = &["AUD001", "AUD002", "AUD003", "AUD040", "AUD044"];

#[derive(Debug, Clone)]
struct WorkloadContext {
    kind: String,
    name: String,
    /// The workload as the attack graph names it (`Deployment shop/web`, `RayCluster ml/ray
    /// (spec.workerGroupSpecs.0.template)`).
    named: String,
    service_account: String,
    /// What the account can reach, as the graph's paths say (`cluster-admin: ...`).
    reaches: Vec<String>,
    cluster_admin: bool,
    exposed: Option<String>,
}

/// What a binding of the inventory grants its subjects.
#[derive(Debug, Clone)]
struct BindingContext {
    /// The role's risky primitives, in its scope (`read Secrets`, `create pods`, ...).
    grants: Vec<String>,
    /// Whether they lead to control of the cluster or of another identity: full control,
    /// any service account, a node (the primitives' own answer).
    leads_beyond: bool,
}

/// Detections about a binding whose subjects gain its role.
const BINDING_GRANTED: &[&str] = &["AUD011", "AUD043"];

/// The evidence key of an alert that names a claim (`namespace/name`).
const CLAIM_EVIDENCE: &str = "claim";

/// Context prepared once from an inventory.
#[derive(Debug, Default)]
pub struct Enricher {
    workloads: HashMap<String, Vec<WorkloadContext>>,
    /// By `(namespace or "", name, cluster-wide)`.
    bindings: HashMap<(String, String, bool), BindingContext>,
    criticality: HashMap<String, String>,
    /// `[criticality]` of `palisade.toml`, which wins over the Namespaces.
    configured: palisade_k8s::criticality::Configured,
    /// The identities whose credentials are written where others read them, by user name
    /// (`system:serviceaccount:ns:name`): where, with the evidence.
    leaked: HashMap<String, Vec<String>>,
    /// The claims each namespace's workloads mount: (claim or StatefulSet prefix, whether a
    /// prefix, the workload as alerts name it).
    claims: HashMap<String, Vec<(String, bool, String)>>,
    /// The Pods the inventory holds, by namespace and name: the position of their workload
    /// in `workloads[namespace]` (their own, their controller's, or the template's of a
    /// RayCluster, JobSet, ... they are made from).
    pods: HashMap<(String, String), usize>,
}

impl Enricher {
    pub fn from_inventory(inventory: &Inventory) -> Enricher {
        Enricher::from_inventory_asking(inventory, None, &Default::default())
    }

    /// [`Enricher::from_inventory`], with the cluster's admission policies asked what they
    /// refuse of pods that would own their node (as the escalation graph of a scan asks
    /// them), and the ingress controller where `ingress` places it (`palisade.toml`'s
    /// `[network]`), so that whether a pod is exposed is the answer `scan`, `net` and `rbac`
    /// give.
    pub fn from_inventory_asking(
        inventory: &Inventory,
        admission: Option<&dyn AdmissionAsker>,
        ingress: &palisade_net::IngressPlacement,
    ) -> Enricher {
        let policy = Policy::from_inventory(inventory);
        let graph = build_asking(&policy, inventory, admission, ingress);
        let goals = [
            (Goal::ClusterAdmin, "cluster-admin"),
            (Goal::Secrets, "secrets"),
            (Goal::Nodes, "nodes"),
        ];
        let toward: Vec<_> = goals.iter().map(|(g, _)| graph.toward(*g)).collect();
        let mut workloads: HashMap<String, Vec<WorkloadContext>> = HashMap::new();
        // Each workload's position in its namespace's list.
        let mut positions: Vec<usize> = Vec::with_capacity(policy.workloads.len());
        let mut claims: HashMap<String, Vec<(String, bool, String)>> = HashMap::new();
        for (w, workload) in policy.workloads.iter().enumerate() {
            let object = &inventory.objects[workload.object];
            let node = workload_node(&policy, w);
            let named = node.to_string();
            for (claim, prefix) in claims_mounted(object, workload.pod_spec(inventory)) {
                claims.entry(workload.namespace.clone()).or_default().push((
                    claim,
                    prefix,
                    named.clone(),
                ));
            }
            let mut reaches = Vec::new();
            let mut cluster_admin = false;
            for ((goal, name), toward) in goals.iter().zip(&toward) {
                if let Some(path) = graph.path_with(toward, &node) {
                    cluster_admin |= *goal == Goal::ClusterAdmin;
                    reaches.push(format!("{name}: {}", path.describe()));
                }
            }
            let listed = workloads.entry(workload.namespace.clone()).or_default();
            positions.push(listed.len());
            listed.push(WorkloadContext {
                kind: workload.kind.clone(),
                name: workload.name.clone(),
                named: named.clone(),
                service_account: workload.service_account.clone(),
                reaches,
                cluster_admin,
                exposed: graph.exposure(&node).map(str::to_string),
            });
        }
        let bindings = policy
            .bindings
            .iter()
            .map(|binding| {
                let held = policy.primitives_of(binding);
                let leads_beyond = policy.grants_everything(binding)
                    || held.iter().any(|h| {
                        matches!(
                            h.primitive.leads,
                            Leads::Admin | Leads::AnyServiceAccount | Leads::Node
                        )
                    });
                let key = (
                    binding.namespace.clone().unwrap_or_default(),
                    binding.name.clone(),
                    binding.namespace.is_none(),
                );
                let grants = held.iter().map(Held::does).collect();
                (
                    key,
                    BindingContext {
                        grants,
                        leads_beyond,
                    },
                )
            })
            .collect();
        let mut criticality = HashMap::new();
        for object in &inventory.objects {
            if object.id.kind != "Namespace" {
                continue;
            }
            let value = palisade_k8s::criticality::declared(&object.value);
            if let (Some(value), Some(name)) = (value, &object.id.name) {
                criticality.insert(name.clone(), value.to_string());
            }
        }
        Enricher {
            workloads,
            bindings,
            criticality,
            configured: Default::default(),
            leaked: leaked_identities(&graph),
            claims,
            pods: pod_workloads(inventory, &policy, &positions),
        }
    }

    /// The enricher, with the namespaces' criticality `configured` sets (`[criticality]` of
    /// `palisade.toml`) winning over what their Namespaces declare.
    pub fn with_criticality(mut self, configured: palisade_k8s::criticality::Configured) -> Self {
        self.configured = configured;
        self
    }

    /// The workload a pod belongs to: the pod itself, or the workload whose name is the
    /// longest prefix of the pod's (`web-7d9f8-x2x` of Deployment `web`). Between the pod
    /// templates of one object (which the name does not tell apart), the one that reaches
    /// cluster-admin, if one does.
    fn workload_of(&self, namespace: &str, pod: &str) -> Option<&WorkloadContext> {
        let candidates = self.workloads.get(namespace)?;
        if let Some(&at) = self.pods.get(&(namespace.to_string(), pod.to_string())) {
            return candidates.get(at);
        }
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
                    .max_by_key(|w| (w.name.len(), w.cluster_admin))
            })
    }

    /// The workload an alert is about: a pod's (see [`Self::workload_of`]), or the workload
    /// itself when the request names one (a Deployment, a DaemonSet, ...).
    fn target_of(&self, alert: &Alert, namespace: &str) -> Option<&WorkloadContext> {
        let request = &alert.request;
        if request.resource == "pods" {
            return self.workload_of(namespace, &request.name);
        }
        let kind = palisade_k8s::builtin_kind(&request.api_group, &request.resource)?;
        self.workloads
            .get(namespace)?
            .iter()
            .find(|w| w.kind == kind && w.name == request.name)
    }

    /// Adds what the inventory knows to the alert, raising its severity when the target is
    /// worth more than the detection alone says.
    pub fn enrich(&self, alert: &mut Alert) {
        let mut enrichment = Enrichment::default();
        let namespace = alert.request.namespace.clone().unwrap_or_default();
        let configured = self.configured.of(&namespace).map(|c| c.name().to_string());
        let rated = match configured.is_some() {
            true => "the namespace is rated critical in palisade.toml",
            false => "the namespace is labelled critical",
        };
        if let Some(level) = configured.or_else(|| self.criticality.get(&namespace).cloned()) {
            enrichment.criticality = Some(level);
        }
        let noun = if alert.request.resource == "pods" {
            "pod"
        } else {
            "workload"
        };
        if let Some(workload) = self.target_of(alert, &namespace) {
            enrichment.workload = Some(workload.named.clone());
            enrichment.service_account = Some(format!("{namespace}/{}", workload.service_account));
            enrichment.permissions = workload.reaches.clone();
            enrichment.internet_exposed = Some(workload.exposed.is_some());
            if INSIDE_A_WORKLOAD.contains(&alert.rule.id.as_ref()) {
                if workload.cluster_admin {
                    raise(
                        alert,
                        &mut enrichment,
                        Severity::Critical,
                        &format!("the {noun}'s service account reaches cluster-admin"),
                    );
                } else if let Some(exposure) = &workload.exposed {
                    raise(
                        alert,
                        &mut enrichment,
                        Severity::High,
                        &format!("the {noun} is reachable from the internet ({exposure})"),
                    );
                }
            }
        }
        self.add_binding_context(alert, &namespace, &mut enrichment);
        self.add_claim_context(alert, &namespace, &mut enrichment);
        if let Some(places) = self.leaked.get(&alert.request.user) {
            enrichment.leaked_credential = places.clone();
            raise(
                alert,
                &mut enrichment,
                Severity::High,
                "the request's identity has a credential written where others read it",
            );
        }
        let critical = palisade_k8s::criticality::Criticality::Critical;
        if enrichment
            .criticality
            .as_deref()
            .and_then(palisade_k8s::criticality::Criticality::parse)
            == Some(critical)
            && alert.severity >= Severity::Medium
        {
            raise(alert, &mut enrichment, Severity::High, rated);
        }
        if enrichment != Enrichment::default() {
            alert.enrichment = Some(enrichment);
        }
    }

    /// For an alert about a RoleBinding or ClusterRoleBinding the inventory holds (a binding's
    /// role cannot change, so the inventory's says what the binding grants): what its role
    /// grants, and for a subject given the role (AUD011, AUD043), high when that leads to the
    /// cluster, another identity or a node.
    fn add_binding_context(&self, alert: &mut Alert, namespace: &str, enrichment: &mut Enrichment) {
        let cluster_wide = match alert.request.resource.as_str() {
            "rolebindings" => false,
            "clusterrolebindings" => true,
            _ => return,
        };
        let key = (
            if cluster_wide { "" } else { namespace }.to_string(),
            alert.request.name.clone(),
            cluster_wide,
        );
        let Some(binding) = self.bindings.get(&key) else {
            return;
        };
        enrichment.grants = binding.grants.clone();
        if binding.leads_beyond && BINDING_GRANTED.contains(&alert.rule.id.as_ref()) {
            raise(
                alert,
                enrichment,
                Severity::High,
                "the binding's role leads to the cluster, another identity or a node",
            );
        }
    }
}

impl Enricher {
    /// For an alert about a claim (a volume bound to it, AUD046; the claim deleted, AUD047):
    /// the workloads of the inventory that mount it, who now read the data or lose it.
    fn add_claim_context(&self, alert: &Alert, namespace: &str, enrichment: &mut Enrichment) {
        let named = alert
            .evidence
            .iter()
            .find(|(key, _)| *key == CLAIM_EVIDENCE)
            .and_then(|(_, claim)| claim.split_once('/'));
        let deleted = (alert.request.resource == "persistentvolumeclaims"
            && alert.request.verb == "delete")
            .then_some((namespace, alert.request.name.as_str()));
        let Some((namespace, claim)) = named.or(deleted) else {
            return;
        };
        enrichment.mounted_by = self
            .claims
            .get(namespace)
            .into_iter()
            .flatten()
            .filter(|(mounted, prefix, _)| mounts(mounted, *prefix, claim))
            .map(|(_, _, workload)| workload.clone())
            .collect();
    }
}

/// The Pods of `inventory` by namespace and name, each with the position of its workload in
/// its namespace's list (`positions`, by workload of `policy`): the Pod's own, its
/// controller's, or that of the template it is made from.
fn pod_workloads(
    inventory: &Inventory,
    policy: &Policy,
    positions: &[usize],
) -> HashMap<(String, String), usize> {
    let mut pods = HashMap::new();
    for (index, object) in inventory.objects.iter().enumerate() {
        if (object.id.group(), object.id.kind.as_str()) != ("", "Pod") {
            continue;
        }
        let (Some(namespace), Some(name)) = (&object.id.namespace, &object.id.name) else {
            continue;
        };
        let w = policy.workload_judging(inventory, index);
        // Its position is in the list of its workload's namespace, which must be the Pod's.
        let Some(w) = w.filter(|&w| policy.workloads[w].namespace == *namespace) else {
            continue;
        };
        if let Some(&at) = positions.get(w) {
            pods.insert((namespace.clone(), name.clone()), at);
        }
    }
    pods
}

/// The claims a workload (of `object`, running `pod`) mounts: those its pod spec names
/// ([`palisade_inventory::claims::mounted_claims`]),
/// and for a StatefulSet the prefix of each claim its templates make
/// (`<template>-<statefulset>-`, followed by the pod's ordinal), with whether it is a prefix.
fn claims_mounted(
    object: &palisade_inventory::Object,
    pod: Option<palisade_inventory::PodSpec<'_>>,
) -> Vec<(String, bool)> {
    let Some(pod) = pod else {
        return Vec::new();
    };
    let named = palisade_inventory::claims::mounted_claims(&pod)
        .into_iter()
        .map(|mounted| (mounted.claim.to_string(), false));
    let set = object.id.name.as_deref().unwrap_or_default();
    let templates = (object.id.kind == "StatefulSet")
        .then(|| object.value.at("/spec/volumeClaimTemplates"))
        .flatten()
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|template| template.at("/metadata/name").and_then(Value::as_str))
        .map(|template| (format!("{template}-{set}-"), true));
    named.chain(templates).collect()
}

/// Whether the claim named `claim` is `mounted` (a claim's name, or a StatefulSet's prefix
/// followed by an ordinal).
fn mounts(mounted: &str, prefix: bool, claim: &str) -> bool {
    if !prefix {
        return mounted == claim;
    }
    claim
        .strip_prefix(mounted)
        .is_some_and(|ordinal| !ordinal.is_empty() && ordinal.bytes().all(|b| b.is_ascii_digit()))
}

/// The user names whose credentials the attack graph holds as leaked (`Relation::Leaks`:
/// a token or kubeconfig in a ConfigMap, an Opaque Secret or a container's values), each with
/// where: `ConfigMap app/settings (its data.kubeconfig holds ...)`.
fn leaked_identities(graph: &palisade_graph::Graph) -> HashMap<String, Vec<String>> {
    let mut leaked: HashMap<String, Vec<String>> = HashMap::new();
    for (holder, to, evidence) in graph.steps_of(palisade_graph::Relation::Leaks) {
        let palisade_graph::Node::Identity { subject } = to else {
            continue;
        };
        if matches!(subject, palisade_k8s::identity::Subject::Group { .. }) {
            continue;
        }
        let places = leaked.entry(subject.identity().user).or_default();
        let place = format!("{holder} ({evidence})");
        if !places.contains(&place) {
            places.push(place);
        }
    }
    leaked
}

fn raise(alert: &mut Alert, enrichment: &mut Enrichment, to: Severity, why: &str) {
    if alert.severity < to {
        alert.severity = to;
        enrichment.raised_because = Some(why.to_string());
    }
}
