use crate::context::Context;
use crate::rule::{Check, Target};
use crate::rules::namespace_scope::SYSTEM_NAMESPACES;

declare_rule! {
    /// ## What it checks
    /// Namespace objects for which the scanned files define no ResourceQuota or no LimitRange
    /// in that namespace. System namespaces (`kube-system`, `kube-public`, `kube-node-lease`)
    /// are skipped. Only the scanned files are known: scan a namespace's policies together with
    /// the Namespace object.
    ///
    /// ## Why it matters
    /// Without a ResourceQuota one tenant (or one compromised workload, or a cryptominer) can
    /// consume the cluster's capacity and object counts; without a LimitRange containers
    /// without limits get none (MITRE ATT&CK T1496, T1499). The NSA/CISA guide asks for both
    /// in every namespace.
    ///
    /// ## Severity
    /// Low: an availability and abuse-containment control.
    ///
    /// ## Failing example
    /// ```yaml
    /// kind: Namespace
    /// metadata: {name: shop}
    /// ```
    ///
    /// ## Passing example
    /// ```yaml
    /// kind: Namespace
    /// metadata: {name: shop}
    /// ---
    /// kind: ResourceQuota
    /// metadata: {name: quota, namespace: shop}
    /// ---
    /// kind: LimitRange
    /// metadata: {name: limits, namespace: shop}
    /// ```
    ///
    /// ## Remediation
    /// Add a ResourceQuota (CPU, memory, object counts) and a LimitRange with default requests
    /// and limits to the namespace.
    ///
    /// ## References
    /// - NSA/CISA Kubernetes Hardening Guide v1.2, "Resource policies"
    pub struct NamespaceWithoutResourcePolicy {
        id: "NS001",
        slug: "namespace-without-resource-policy",
        title: "Namespace has no ResourceQuota or LimitRange",
        severity: Low,
        target: Target::Kinds(&[("", "Namespace")]),
        controls: [
            NsaCisa12 "network/resource-policies",
            MitreAttack "T1496",
        ],
        remediation: "Add a ResourceQuota and a LimitRange to the namespace.",
    }
}

impl Check for NamespaceWithoutResourcePolicy {
    fn reads(&self) -> &'static [(&'static str, &'static str)] {
        &[("", "ResourceQuota"), ("", "LimitRange")]
    }

    fn check(&self, cx: &mut Context<'_>) {
        let Some(name) = cx.object.id.name.as_deref() else {
            return;
        };
        if SYSTEM_NAMESPACES.contains(&name) {
            return;
        }
        if cx.namespace_being_created()
            || cx.absence_unknown(&format!(
                "the ResourceQuotas and LimitRanges of namespace {name}"
            ))
        {
            return;
        }
        let missing: Vec<&str> = ["ResourceQuota", "LimitRange"]
            .into_iter()
            .filter(|kind| {
                !cx.inventory
                    .of_kind("", kind)
                    .any(|o| o.id.namespace.as_deref() == Some(name))
            })
            .collect();
        if !missing.is_empty() {
            cx.report(
                palisade_core::JsonPointer::root()
                    .join("metadata")
                    .join("name"),
                format!(
                    "namespace {name} has no {} in the scanned files",
                    missing.join(" and no ")
                ),
            );
        }
    }
}
