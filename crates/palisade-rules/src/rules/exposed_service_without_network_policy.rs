use palisade_core::tree::Tree as _;
use serde_json::Value;

use crate::context::Context;
use crate::rule::{Check, Target};
use palisade_core::selector::map_selector_matches;

declare_rule! {
    /// ## What it checks
    /// Services exposed outside the cluster (`LoadBalancer` that is not internal, `NodePort`,
    /// `externalIPs`, as `palisade-k8s::exposure` decides) whose selected workloads no
    /// NetworkPolicy isolates for ingress. The workloads are matched by the Service's selector
    /// among the scanned objects of its namespace.
    ///
    /// ## Why it matters
    /// An exposed Service is the front door; without an ingress policy on the pods behind it,
    /// they also accept connections from every pod in the cluster on every port, including
    /// ports the Service never meant to publish. An intruder anywhere in the cluster reaches
    /// them directly, and the pods' own attack surface is not limited to the published port
    /// (MITRE ATT&CK T1190, T1210).
    ///
    /// ## Severity
    /// High: internet-facing pods with no network boundary of their own.
    ///
    /// ## Failing example
    /// ```yaml
    /// kind: Service
    /// spec:
    ///   type: LoadBalancer
    ///   selector: {app: web}
    /// ```
    ///
    /// ## Passing example
    /// ```yaml
    /// kind: NetworkPolicy
    /// spec:
    ///   podSelector: {matchLabels: {app: web}}
    ///   ingress:
    ///   - ports: [{port: 8080}]
    /// ```
    ///
    /// ## Remediation
    /// Add an ingress NetworkPolicy for the selected pods that allows the published ports
    /// (from the load balancer's or node ranges where the CNI preserves them) and nothing else.
    ///
    /// ## References
    /// - NSA/CISA Kubernetes Hardening Guide v1.2, "Network policies"
    /// - CIS Kubernetes Benchmark v1.12, 5.3.2
    pub struct ExposedServiceWithoutNetworkPolicy {
        id: "NET011",
        slug: "exposed-service-without-network-policy",
        title: "Exposed Service fronts pods no ingress policy isolates",
        severity: High,
        target: Target::Kinds(&[("", "Service")]),
        controls: [
            CisK8s112 "5.3.2",
            NsaCisa12 "network/network-policies",
            MitreAttack "T1190",
            MitreAttack "T1210",
        ],
        remediation: "Add an ingress NetworkPolicy for the Service's pods allowing only the published ports.",
    }
}

impl Check for ExposedServiceWithoutNetworkPolicy {
    fn models(&self, models: &mut crate::context::Models) {
        crate::network::ask(models);
    }

    fn reads(&self) -> &'static [(&'static str, &'static str)] {
        palisade_net::READS
    }

    fn check(&self, cx: &mut Context<'_>) {
        let Some(exposure) = palisade_k8s::exposure::service_exposure(&cx.object.value) else {
            return;
        };
        let Some(selector) = cx
            .object
            .value
            .at("/spec/selector")
            .and_then(Value::as_object)
            .filter(|s| !s.is_empty())
        else {
            return;
        };
        let facts = crate::network::facts(cx);
        let ns = cx.object.id.namespace.as_deref().unwrap_or("default");
        let open: Vec<String> = facts
            .network()
            .endpoints
            .iter()
            .enumerate()
            .filter(|(_, e)| e.namespace == ns && !e.host_network)
            .filter(|(_, e)| map_selector_matches(selector, Some(&e.labels)))
            .filter(|(i, _)| {
                !facts.isolated_by[*i][0]
                    .iter()
                    .any(|&p| cx.same_scope(&cx.inventory.objects[p]))
            })
            .map(|(_, e)| e.id())
            .collect::<std::collections::BTreeSet<String>>()
            .into_iter()
            .collect();
        if !open.is_empty() {
            cx.report(
                palisade_core::JsonPointer::root().join("spec").join("selector"),
                format!(
                    "this Service is exposed through {} and selects {} that no ingress NetworkPolicy isolates",
                    exposure.reach(),
                    open.join(", ")
                ),
            );
        }
    }
}
