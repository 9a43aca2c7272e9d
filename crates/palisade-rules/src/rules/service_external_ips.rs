use serde_json::Value;

use crate::context::Context;
use crate::rule::{Check, Target};

declare_rule! {
    /// ## What it checks
    /// Services with `spec.externalIPs`.
    ///
    /// ## Why it matters
    /// kube-proxy routes traffic for an external IP to the Service from every node, whoever owns
    /// that address. Anyone who can create or patch a Service can therefore capture traffic
    /// meant for another address inside the cluster, including other tenants' and the
    /// cluster's own (CVE-2020-8554, unfixed by design; MITRE ATT&CK T1557). External IPs are
    /// also reached from outside the cluster when the network routes them to the nodes.
    ///
    /// ## Severity
    /// High: a man-in-the-middle primitive available to anyone who can write Services.
    ///
    /// ## Failing example
    /// ```yaml
    /// spec:
    ///   externalIPs: ["203.0.113.10"]
    /// ```
    ///
    /// ## Passing example
    /// ```yaml
    /// spec:
    ///   type: ClusterIP
    /// ```
    ///
    /// ## Remediation
    /// Remove `externalIPs` and use a LoadBalancer or an Ingress. Block the field cluster-wide
    /// with the `DenyServiceExternalIPs` admission plugin.
    ///
    /// ## References
    /// - CVE-2020-8554, Kubernetes security advisory (kubernetes/kubernetes#97076)
    /// - NSA/CISA Kubernetes Hardening Guide v1.2, "Network policies"
    pub struct ServiceExternalIps {
        id: "NET002",
        slug: "service-external-ips",
        title: "Service claims external IPs",
        severity: High,
        target: Target::Kinds(&[("", "Service")]),
        controls: [
            NsaCisa12 "network/network-policies",
            MitreAttack "T1557",
        ],
        remediation: "Remove `spec.externalIPs`; enable the DenyServiceExternalIPs admission plugin.",
    }
}

impl Check for ServiceExternalIps {
    fn check(&self, cx: &mut Context<'_>) {
        let path = palisade_core::JsonPointer::root()
            .join("spec")
            .join("externalIPs");
        let ips = cx.array_at(&path);
        if !ips.is_empty() {
            let list: Vec<&str> = ips.iter().filter_map(Value::as_str).collect();
            cx.report(path, format!("externalIPs {} route traffic for these addresses to this Service from every node (CVE-2020-8554)", list.join(", ")));
        }
    }
}
