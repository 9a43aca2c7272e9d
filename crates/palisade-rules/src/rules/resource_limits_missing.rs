use crate::context::Context;
use crate::rule::{Check, Target};
use palisade_inventory::ContainerKind;

declare_rule! {
    /// ## What it checks
    /// Containers and init containers without `resources.limits.memory` or
    /// `resources.limits.cpu`. Ephemeral containers are skipped: Kubernetes does not allow
    /// resources on them.
    ///
    /// ## Why it matters
    /// A container without limits can take all of a node's memory or CPU. A compromised or
    /// buggy workload then starves its neighbours (MITRE ATT&CK T1499, Endpoint Denial of
    /// Service) or mines cryptocurrency at the cluster's expense (T1496, Resource Hijacking).
    /// A namespace `LimitRange` can supply defaults; this rule reads the manifest as written.
    ///
    /// ## Severity
    /// Low: availability rather than confidentiality, and a LimitRange may cover it.
    ///
    /// ## Failing example
    /// ```yaml
    /// containers:
    /// - name: app
    ///   image: registry.example.com/app:1.4.2
    ///   resources:
    ///     requests: {cpu: 100m, memory: 128Mi}
    /// ```
    ///
    /// ## Passing example
    /// ```yaml
    /// containers:
    /// - name: app
    ///   image: registry.example.com/app:1.4.2
    ///   resources:
    ///     requests: {cpu: 100m, memory: 128Mi}
    ///     limits: {cpu: 500m, memory: 256Mi}
    /// ```
    ///
    /// ## Remediation
    /// Set `resources.limits.memory` and `resources.limits.cpu` from observed usage, or a
    /// `LimitRange` with defaults in the namespace.
    ///
    /// ## References
    /// - NSA/CISA Kubernetes Hardening Guide v1.2, "Resource policies"
    /// - Kubernetes documentation, "Resource Management for Pods and Containers"
    pub struct ResourceLimitsMissing {
        id: "POD006",
        slug: "resource-limits-missing",
        title: "Container has no CPU or memory limit",
        severity: Low,
        target: Target::PodSpec,
        controls: [
            NsaCisa12 "network/resource-policies",
            MitreAttack "T1499",
            MitreAttack "T1496",
        ],
        remediation: "Set `resources.limits.cpu` and `resources.limits.memory`, or a namespace LimitRange.",
    }
}

impl Check for ResourceLimitsMissing {
    fn check(&self, cx: &mut Context<'_>) {
        for container in cx.containers() {
            if container.kind == ContainerKind::Ephemeral {
                continue;
            }
            let limits = container.field(&["resources", "limits"]);
            let map = cx.map_at(&limits);
            let missing: Vec<&str> = ["cpu", "memory"]
                .into_iter()
                .filter(|r| {
                    map.and_then(|m| m.get(*r))
                        .is_none_or(serde_json::Value::is_null)
                })
                .collect();
            if !missing.is_empty() {
                cx.report(
                    limits,
                    format!(
                        "{} has no {} limit",
                        container.describe(),
                        missing.join(" or ")
                    ),
                );
            }
        }
    }
}
