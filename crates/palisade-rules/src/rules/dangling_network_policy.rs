use crate::context::Context;
use crate::rule::{Check, Target};

declare_rule! {
    /// ## What it checks
    /// NetworkPolicies that select no workload of their namespace, and rule peers
    /// (`podSelector`, `namespaceSelector`) that match no workload, when the namespaces they
    /// look in hold scanned workloads. Labels are compared as the API server compares them
    /// (`matchLabels`, `matchExpressions`, namespaces' labels including
    /// `kubernetes.io/metadata.name`). Only selectors that test a label key some workload of
    /// the namespace, read with the policy (same directory or rendering), carries are judged:
    /// a wrong value is then a rename or a typo, while pods an operator creates at run time
    /// (with labels of their own) or workloads kept elsewhere are not in view.
    ///
    /// ## Why it matters
    /// A policy that selects nothing protects nothing, and a peer that matches nothing allows
    /// nothing: both usually mean a label was renamed (`app` to `app.kubernetes.io/name`) and
    /// the policy silently stopped applying. The workload it was written for is then open, or
    /// the clients it was meant to admit are cut off.
    ///
    /// ## Severity
    /// Low: the policy does not do what it says; the exposure it leaves is reported by NET004.
    ///
    /// ## Failing example
    /// ```yaml
    /// kind: NetworkPolicy
    /// metadata: {name: api, namespace: shop}
    /// spec:
    ///   podSelector: {matchLabels: {app: api-v1}}   # the Deployment's pods say app: api
    /// ```
    ///
    /// ## Passing example
    /// ```yaml
    /// kind: NetworkPolicy
    /// metadata: {name: api, namespace: shop}
    /// spec:
    ///   podSelector: {matchLabels: {app: api}}
    /// ```
    ///
    /// ## Remediation
    /// Fix the selector to the labels the pods carry (`palisade net matrix -n NS` shows what
    /// each policy lets through), or delete the policy.
    ///
    /// ## References
    /// - Kubernetes documentation, "Network Policies"
    /// - NSA/CISA Kubernetes Hardening Guide v1.2, "Network policies"
    pub struct DanglingNetworkPolicy {
        id: "NET009",
        slug: "dangling-network-policy",
        title: "NetworkPolicy selects or admits no workload",
        severity: Low,
        target: Target::Kinds(&[("networking.k8s.io", "NetworkPolicy")]),
        controls: [
            NsaCisa12 "network/network-policies",
        ],
        remediation: "Match the selectors to the labels the pods carry, or delete the policy.",
    }
}

impl Check for DanglingNetworkPolicy {
    fn models(&self, models: &mut crate::context::Models) {
        crate::network::ask(models);
    }

    fn check(&self, cx: &mut Context<'_>) {
        let facts = crate::network::facts(cx);
        let ns = cx.object.id.namespace.as_deref().unwrap_or("default");
        if let Some(&(0, true)) = facts.selects.get(&cx.object_index) {
            cx.report(
                palisade_core::JsonPointer::root().join("spec").join("podSelector"),
                format!("the podSelector matches no workload in namespace {ns}: the policy applies to nothing"),
            );
        }
        for (pointer, name) in facts
            .unmatched_peers
            .get(&cx.object_index)
            .into_iter()
            .flatten()
        {
            let path = palisade_core::JsonPointer::parse(pointer).unwrap_or_default();
            cx.report(
                path,
                format!(
                    "{name} matches no scanned workload: the rule admits nothing through this peer"
                ),
            );
        }
    }
}
