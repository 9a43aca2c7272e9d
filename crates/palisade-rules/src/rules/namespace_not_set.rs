use crate::context::Context;
use crate::rule::{Check, Target};
use crate::rules::namespace_scope::NAMESPACED_KINDS;

declare_rule! {
    /// ## What it checks
    /// Built-in namespaced objects written without `metadata.namespace`.
    ///
    /// ## Why it matters
    /// Such an object lands in whatever namespace the person applying it has selected, often
    /// `default`, and the NetworkPolicies, quotas and Pod Security labels that protect it
    /// depend on that accident. Kustomize (`namespace:`) and Helm (`--namespace`) set it at
    /// render time, which is why this is informational: scan rendered output to be sure.
    ///
    /// ## Severity
    /// Info: often set at deploy time by tooling.
    ///
    /// ## Failing example
    /// ```yaml
    /// metadata:
    ///   name: api
    /// ```
    ///
    /// ## Passing example
    /// ```yaml
    /// metadata:
    ///   name: api
    ///   namespace: shop
    /// ```
    ///
    /// ## Remediation
    /// Set `metadata.namespace`, or the `namespace:` field of the Kustomization.
    ///
    /// ## References
    /// - CIS Kubernetes Benchmark v1.12, 5.6.1
    /// - NSA/CISA Kubernetes Hardening Guide v1.2, "Namespaces"
    pub struct NamespaceNotSet {
        id: "META003",
        slug: "namespace-not-set",
        title: "Object does not name its namespace",
        severity: Info,
        target: Target::Kinds(NAMESPACED_KINDS),
        controls: [
            CisK8s112 "5.6.1",
            NsaCisa12 "network/namespaces",
        ],
        remediation: "Set `metadata.namespace` (or Kustomize's `namespace:`).",
    }
}

impl Check for NamespaceNotSet {
    fn check(&self, cx: &mut Context<'_>) {
        if cx.object.id.namespace.is_none() {
            cx.report(
                palisade_core::JsonPointer::root().join("metadata"),
                format!(
                    "{} {} has no namespace and lands wherever it is applied",
                    cx.object.id.kind,
                    cx.object.id.display_name()
                ),
            );
        }
    }
}
