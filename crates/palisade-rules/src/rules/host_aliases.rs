use serde_json::Value;

use crate::context::Context;
use crate::rule::{Check, Target};

declare_rule! {
    /// ## What it checks
    /// Pods with `hostAliases`, which write entries into the containers' `/etc/hosts`.
    ///
    /// ## Why it matters
    /// Host aliases override DNS for the pod without any trace in DNS or NetworkPolicy. Used
    /// innocently they hard-code addresses that go stale; used by an attacker who can edit a
    /// workload they silently redirect a dependency (a payment API, a registry, the API server
    /// name) to a host they control (MITRE ATT&CK T1557).
    ///
    /// ## Severity
    /// Info: usually a configuration shortcut, worth a look in review.
    ///
    /// ## Failing example
    /// ```yaml
    /// spec:
    ///   hostAliases:
    ///   - ip: "10.1.2.3"
    ///     hostnames: ["payments.example.com"]
    /// ```
    ///
    /// ## Passing example
    /// ```yaml
    /// spec:
    ///   dnsPolicy: ClusterFirst
    /// ```
    ///
    /// ## Remediation
    /// Publish the name in DNS (a Service, an ExternalName Service or the zone) instead.
    ///
    /// ## References
    /// - Kubernetes documentation, "Adding entries to Pod /etc/hosts with HostAliases"
    pub struct HostAliases {
        id: "POD025",
        slug: "host-aliases",
        title: "Pod overrides name resolution with hostAliases",
        severity: Info,
        target: Target::PodSpec,
        controls: [
            NsaCisa12 "network/network-policies",
            MitreAttack "T1557",
        ],
        remediation: "Remove `hostAliases` and publish the names in DNS.",
    }
}

impl Check for HostAliases {
    fn check(&self, cx: &mut Context<'_>) {
        let path = cx.pod_field("hostAliases");
        let aliases = cx.array_at(&path);
        if aliases.is_empty() {
            return;
        }
        let names: Vec<&str> = aliases
            .iter()
            .filter_map(|a| a.get("hostnames").and_then(Value::as_array))
            .flatten()
            .filter_map(Value::as_str)
            .collect();
        cx.report(
            path,
            format!(
                "hostAliases override name resolution for {}",
                if names.is_empty() {
                    "no names".to_string()
                } else {
                    names.join(", ")
                }
            ),
        );
    }
}
