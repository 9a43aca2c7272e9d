use serde_json::Value;

use crate::context::Context;
use crate::rule::{Check, Target};

declare_rule! {
    /// ## What it checks
    /// Container ports with a non-zero `hostPort`.
    ///
    /// ## Why it matters
    /// A host port binds the node's own network interfaces, so the pod is reachable on every
    /// node address, outside Services and usually outside NetworkPolicies (the CNI's hostPort
    /// handling bypasses many policy engines). It also pins the pod to nodes where the port is
    /// free and exposes it to whoever can reach the node (MITRE ATT&CK T1133).
    ///
    /// ## Severity
    /// Medium: an unplanned entry point, not a privilege by itself.
    ///
    /// ## Failing example
    /// ```yaml
    /// ports:
    /// - containerPort: 8080
    ///   hostPort: 8080
    /// ```
    ///
    /// ## Passing example
    /// ```yaml
    /// ports:
    /// - containerPort: 8080
    /// ```
    ///
    /// ## Remediation
    /// Remove `hostPort` and expose the pod through a Service (ClusterIP, or a LoadBalancer
    /// through an Ingress).
    ///
    /// ## References
    /// - Kubernetes Pod Security Standards, Baseline, "Host Ports"
    /// - CIS Kubernetes Benchmark v1.12, 5.2.12
    pub struct HostPort {
        id: "POD009",
        slug: "host-port",
        title: "Container binds a port on the node",
        severity: Medium,
        target: Target::PodSpec,
        controls: [
            CisK8s112 "5.2.12",
            Pss "baseline/host-ports",
            NsaCisa12 "network/network-policies",
            MitreAttack "T1133",
        ],
        remediation: "Remove `hostPort`; expose the pod through a Service.",
    }
}

impl Check for HostPort {
    fn check(&self, cx: &mut Context<'_>) {
        for container in cx.containers() {
            let ports_path = container.field(&["ports"]);
            for (i, port) in cx.array_at(&ports_path).iter().enumerate() {
                if !port.is_object() {
                    continue;
                }
                let path = ports_path.join(i).join("hostPort");
                if let Some(host_port) = cx.int_at(&path).filter(|p| *p != 0) {
                    let container_port = port.get("containerPort").and_then(Value::as_i64);
                    let target = container_port
                        .map(|p| format!(" (container port {p})"))
                        .unwrap_or_default();
                    cx.report(
                        path,
                        format!(
                            "{} binds port {host_port} on the node{target}",
                            container.describe()
                        ),
                    );
                }
            }
        }
    }
}
