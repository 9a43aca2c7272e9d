use crate::context::Context;
use crate::rule::{Check, Target};
use palisade_net::policy::Direction;

declare_rule! {
    /// ## What it checks
    /// Workloads whose pods no NetworkPolicy of their namespace selects for ingress, or for
    /// egress. A policy selects a pod when its `podSelector` matches the pod template's labels;
    /// it isolates ingress unless `policyTypes` leaves `Ingress` out, and egress when
    /// `policyTypes` lists `Egress` (or, with no `policyTypes`, when it has at least one
    /// `egress` rule), exactly as the API server defaults them; the network engine
    /// (`palisade net`) answers which policies select which pods. A default-deny policy counts: isolation is
    /// what matters, not the presence of allow rules. For workloads without a namespace, only
    /// policies without a namespace from the same directory (or the same Kustomize or Helm
    /// rendering) count, since unrelated files may be applied to different namespaces. Only NetworkPolicies in the scanned
    /// files are known, so scan a namespace's policies together with its workloads. A Pod
    /// judged through its controller is judged on its own labels when they differ from the
    /// template's in a way a selector reads (it left out the label a policy isolates by). Each
    /// pod template of a kind with several (a RayCluster's head and worker groups, a JobSet's
    /// replicated jobs) is judged on its own, with the labels its operator gives its Pods.
    ///
    /// ## Why it matters
    /// Pods accept traffic from every pod in the cluster and reach everything, including the
    /// cloud metadata endpoint and the API server, until a NetworkPolicy isolates them. An
    /// intruder in any pod can then scan and attack every service (MITRE ATT&CK T1046), and
    /// exfiltrate freely.
    ///
    /// ## Severity
    /// Medium: it turns any single compromise into reach over the whole cluster network.
    ///
    /// ## Failing example
    /// ```yaml
    /// kind: Deployment
    /// metadata: {name: api, namespace: shop}
    /// spec:
    ///   template:
    ///     metadata: {labels: {app: api}}
    /// ```
    ///
    /// ## Passing example
    /// ```yaml
    /// kind: NetworkPolicy
    /// metadata: {name: default-deny, namespace: shop}
    /// spec:
    ///   podSelector: {}
    ///   policyTypes: [Ingress, Egress]
    /// ```
    ///
    /// ## Remediation
    /// Add a default-deny NetworkPolicy (`podSelector: {}`, `policyTypes: [Ingress, Egress]`)
    /// to the namespace and allow the flows each workload needs.
    ///
    /// ## References
    /// - CIS Kubernetes Benchmark v1.12, 5.3.2
    /// - NSA/CISA Kubernetes Hardening Guide v1.2, "Network policies"
    pub struct MissingNetworkPolicy {
        id: "NET004",
        slug: "missing-network-policy",
        title: "Pods are not isolated by a NetworkPolicy",
        severity: Medium,
        target: Target::Endpoint,
        controls: [
            CisK8s112 "5.3.2",
            NsaCisa12 "network/network-policies",
            MitreAttack "T1046",
        ],
        remediation: "Add a default-deny NetworkPolicy to the namespace, then allow the needed flows.",
    }
}

impl Check for MissingNetworkPolicy {
    fn models(&self, models: &mut crate::context::Models) {
        crate::network::ask(models);
    }

    fn reads(&self) -> &'static [(&'static str, &'static str)] {
        palisade_net::READS
    }

    fn check(&self, cx: &mut Context<'_>) {
        if cx.object.id.kind == "PodTemplate" {
            return;
        }
        let host_network = cx.pod_field("hostNetwork");
        if cx.bool_at(&host_network) == Some(true) {
            // NetworkPolicies do not apply to host-network pods; POD004 reports them.
            return;
        }
        let ns = cx.object.id.namespace.as_deref().unwrap_or("(unset)");
        if cx.absence_unknown(&format!("the NetworkPolicies of namespace {ns}")) {
            return;
        }
        let facts = crate::network::facts(cx);
        // A Pod grouped under its controller is judged with it, on the same policies.
        let Some(endpoint) = facts.endpoint(cx) else {
            return;
        };
        let inventory = cx.inventory;
        let missing: Vec<&str> = Direction::BOTH
            .into_iter()
            .filter(|&d| {
                !facts.isolated_by[endpoint][d as usize]
                    .iter()
                    .any(|&p| cx.same_scope(&inventory.objects[p]))
            })
            .map(Direction::field)
            .collect();
        if !missing.is_empty() {
            cx.report(
                cx.pod_metadata_field("labels"),
                format!(
                    "no NetworkPolicy in namespace {ns} isolates {} for {}",
                    facts.pods(endpoint),
                    missing.join(" or ")
                ),
            );
        }
    }
}
