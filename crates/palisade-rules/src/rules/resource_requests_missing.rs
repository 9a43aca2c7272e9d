use palisade_inventory::ContainerKind;

use crate::context::Context;
use crate::rule::{Check, Target};

declare_rule! {
    /// ## What it checks
    /// Containers and init containers without a CPU or memory request
    /// (`resources.requests.cpu`, `resources.requests.memory`). A limit without a request
    /// counts as a request, as the API server defaults the request to the limit.
    ///
    /// ## Why it matters
    /// Without requests the scheduler places pods blind and the pod lands in the `BestEffort`
    /// quality-of-service class: under pressure it is evicted first, and a noisy or compromised
    /// neighbour can starve it (MITRE ATT&CK T1499, T1496). Requests are also what
    /// ResourceQuotas account.
    ///
    /// ## Severity
    /// Low: an availability concern more than a confidentiality one.
    ///
    /// ## Failing example
    /// ```yaml
    /// resources:
    ///   limits: {memory: 256Mi}
    /// ```
    ///
    /// ## Passing example
    /// ```yaml
    /// resources:
    ///   requests: {cpu: 100m, memory: 128Mi}
    ///   limits: {memory: 256Mi}
    /// ```
    ///
    /// ## Remediation
    /// Set `resources.requests.cpu` and `resources.requests.memory` from observed usage.
    ///
    /// ## References
    /// - NSA/CISA Kubernetes Hardening Guide v1.2, "Resource policies"
    /// - Kubernetes documentation, "Resource Management for Pods and Containers"
    pub struct ResourceRequestsMissing {
        id: "POD019",
        slug: "resource-requests-missing",
        title: "Container has no CPU or memory request",
        severity: Low,
        target: Target::PodSpec,
        controls: [
            NsaCisa12 "network/resource-policies",
            MitreAttack "T1499",
        ],
        remediation: "Set `resources.requests.cpu` and `resources.requests.memory`.",
    }
}

impl Check for ResourceRequestsMissing {
    fn check(&self, cx: &mut Context<'_>) {
        for container in cx.containers() {
            if container.kind == ContainerKind::Ephemeral {
                continue;
            }
            let requests_path = container.field(&["resources", "requests"]);
            let requests = cx.map_at(&requests_path);
            let limits = cx.map_at(&container.field(&["resources", "limits"]));
            let has = |m: Option<&serde_json::Map<String, serde_json::Value>>, r: &str| {
                m.and_then(|m| m.get(r)).is_some_and(|v| !v.is_null())
            };
            let missing: Vec<&str> = ["cpu", "memory"]
                .into_iter()
                .filter(|r| !has(requests, r) && !has(limits, r))
                .collect();
            if !missing.is_empty() {
                cx.report(
                    requests_path,
                    format!(
                        "{} has no {} request",
                        container.describe(),
                        missing.join(" or ")
                    ),
                );
            }
        }
    }
}
