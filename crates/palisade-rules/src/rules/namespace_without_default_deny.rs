use crate::context::Context;
use crate::rule::{Check, Target};
use palisade_net::policy::{Direction, selects_everything};

declare_rule! {
    /// ## What it checks
    /// Namespaces (their `Namespace` object) where no NetworkPolicy selects every pod
    /// (`podSelector: {}`) for ingress, or for egress. Such a policy is the namespace's
    /// default deny: whatever its allow rules, every pod is isolated in that direction and only
    /// what some policy allows gets through. The control-plane namespaces (`kube-system`,
    /// `kube-public`, `kube-node-lease`) are left out, as are namespaces whose NetworkPolicies
    /// are not among the scanned objects only because they are not there: scan a namespace's
    /// policies with its `Namespace` object.
    ///
    /// ## Why it matters
    /// Without a default deny, every new workload starts reachable by every pod in the cluster
    /// and able to reach everything, the internet included, until someone writes its policy.
    /// Microsegmentation that depends on remembering each workload fails on the first one
    /// forgotten (MITRE ATT&CK T1046 network discovery, T1048 exfiltration).
    ///
    /// ## Severity
    /// Medium: the namespace's segmentation is opt-in for each workload.
    ///
    /// ## Failing example
    /// ```yaml
    /// kind: Namespace
    /// metadata: {name: shop}
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
    /// Add a NetworkPolicy with `podSelector: {}` and `policyTypes: [Ingress, Egress]` to the
    /// namespace (`palisade net generate` writes one with the allow rules the workloads need).
    ///
    /// ## References
    /// - CIS Kubernetes Benchmark v1.12, 5.3.2
    /// - NSA/CISA Kubernetes Hardening Guide v1.2, "Network policies"
    /// - Kubernetes documentation, "Network Policies: Default policies"
    pub struct NamespaceWithoutDefaultDeny {
        id: "NET007",
        slug: "namespace-without-default-deny",
        title: "Namespace has no default-deny NetworkPolicy",
        severity: Medium,
        target: Target::Kinds(&[("", "Namespace")]),
        controls: [
            CisK8s112 "5.3.2",
            NsaCisa12 "network/network-policies",
            MitreAttack "T1046",
            MitreAttack "T1048",
        ],
        remediation: "Add a NetworkPolicy selecting every pod (`podSelector: {}`) for Ingress and Egress.",
    }
}

const CONTROL_PLANE_NAMESPACES: &[&str] = &["kube-system", "kube-public", "kube-node-lease"];

impl Check for NamespaceWithoutDefaultDeny {
    fn models(&self, models: &mut crate::context::Models) {
        crate::network::ask(models);
    }

    fn reads(&self) -> &'static [(&'static str, &'static str)] {
        palisade_net::READS
    }

    fn check(&self, cx: &mut Context<'_>) {
        let Some(name) = cx.object.id.name.as_deref() else {
            return;
        };
        if CONTROL_PLANE_NAMESPACES.contains(&name) {
            return;
        }
        if cx.namespace_being_created()
            || cx.absence_unknown(&format!("the NetworkPolicies of namespace {name}"))
        {
            return;
        }
        let facts = crate::network::facts(cx);
        let missing: Vec<&str> = Direction::BOTH
            .into_iter()
            .filter(|&d| {
                !facts.network().policies.iter().any(|p| {
                    p.namespace.as_deref() == Some(name)
                        && p.isolates(d)
                        && selects_everything(p.subject.pods.as_ref())
                })
            })
            .map(Direction::field)
            .collect();
        if !missing.is_empty() {
            cx.report(
                palisade_core::JsonPointer::root().join("metadata").join("name"),
                format!(
                    "no NetworkPolicy in namespace {name} selects every pod for {}: each new workload starts unisolated",
                    missing.join(" or ")
                ),
            );
        }
    }
}
