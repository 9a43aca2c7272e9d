use crate::context::Context;
use crate::rule::{Check, Target};

declare_rule! {
    /// ## What it checks
    /// Workloads whose egress NetworkPolicies still allow every port to some range of the
    /// internet (any address outside private, shared, loopback, link-local, multicast and
    /// reserved space, IPv4 or IPv6), as the network engine evaluates them: an `ipBlock` of
    /// `0.0.0.0/0`, a rule without `to`, or an AdminNetworkPolicy that allows it. Workloads no
    /// egress policy selects are NET004's.
    ///
    /// ## Why it matters
    /// Egress control is what stops a compromised pod from downloading tools, reaching a
    /// command-and-control server or exfiltrating data (MITRE ATT&CK T1048). A policy that
    /// restricts in-cluster destinations but leaves the internet open on every port gives the
    /// appearance of egress control without the effect.
    ///
    /// ## Severity
    /// Medium: exfiltration and tool download stay open from the selected pods.
    ///
    /// ## Failing example
    /// ```yaml
    /// kind: NetworkPolicy
    /// spec:
    ///   podSelector: {}
    ///   policyTypes: [Egress]
    ///   egress:
    ///   - to: [{ipBlock: {cidr: 0.0.0.0/0}}]
    /// ```
    ///
    /// ## Passing example
    /// ```yaml
    /// kind: NetworkPolicy
    /// spec:
    ///   podSelector: {}
    ///   policyTypes: [Egress]
    ///   egress:
    ///   - to: [{ipBlock: {cidr: 203.0.113.0/24}}]
    ///     ports: [{port: 443}]
    /// ```
    ///
    /// ## Remediation
    /// Allow only the external ranges and ports the workload needs (a proxy or egress gateway
    /// for the rest).
    ///
    /// ## References
    /// - NSA/CISA Kubernetes Hardening Guide v1.2, "Network policies"
    /// - MITRE ATT&CK T1048, Exfiltration Over Alternative Protocol
    pub struct UnrestrictedInternetEgress {
        id: "NET010",
        slug: "unrestricted-internet-egress",
        title: "Egress policies leave the internet open on every port",
        severity: Medium,
        target: Target::Endpoint,
        controls: [
            NsaCisa12 "network/network-policies",
            MitreAttack "T1048",
        ],
        remediation: "Allow egress only to the external ranges and ports the workload needs.",
    }
}

impl Check for UnrestrictedInternetEgress {
    fn models(&self, models: &mut crate::context::Models) {
        crate::network::ask(models);
    }

    fn reads(&self) -> &'static [(&'static str, &'static str)] {
        palisade_net::READS
    }

    fn check(&self, cx: &mut Context<'_>) {
        let facts = crate::network::facts(cx);
        let Some(endpoint) = facts.endpoint(cx) else {
            return;
        };
        if let Some(range) = facts.open_internet_egress[endpoint] {
            let policies: Vec<String> = facts.isolated_by[endpoint][1]
                .iter()
                .filter_map(|&p| cx.inventory.objects[p].id.name.clone())
                .collect();
            cx.report(
                cx.pod_metadata_field("labels"),
                format!(
                    "egress policies ({}) select {} but still allow every port to internet addresses such as {range}",
                    policies.join(", "),
                    facts.pods(endpoint),
                ),
            );
        }
    }
}
