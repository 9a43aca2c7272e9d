use crate::context::Context;
use crate::rule::{Check, Target};

declare_rule! {
    /// ## What it checks
    /// Liveness, readiness and startup probes, and `postStart`/`preStop` lifecycle hooks, whose
    /// `httpGet.host` or `tcpSocket.host` is set: the kubelet connects to that address instead
    /// of the pod. Regular, init and ephemeral containers are checked.
    ///
    /// ## Why it matters
    /// Probes and hooks are run by the kubelet, from the node's network. A `host` makes the
    /// kubelet a confused deputy: whoever can create a pod can have the node connect to any
    /// address it reaches (the cloud metadata endpoint, node-local services, other networks
    /// that NetworkPolicies would close to the pod) and learn from the probe's result whether
    /// it answered (MITRE ATT&CK T1046). The Pod Security Standards forbid it at Baseline
    /// since policy version v1.34 ("Host Probes / Lifecycle Hooks").
    ///
    /// ## Severity
    /// Medium: a request from the node to an address of the pod author's choice, without the
    /// response body. Low for a loopback address in a pod on the node's network
    /// (`hostNetwork: true`), which reaches nothing the pod cannot reach itself.
    ///
    /// ## Failing example
    /// ```yaml
    /// livenessProbe:
    ///   httpGet: {host: 169.254.169.254, path: /latest/meta-data/, port: 80}
    /// ```
    ///
    /// ## Passing example
    /// ```yaml
    /// livenessProbe:
    ///   httpGet: {path: /healthz, port: 8080}
    /// ```
    ///
    /// ## Remediation
    /// Remove `host` so the probe targets the pod's own IP; check other services from inside
    /// the application, not from the kubelet.
    ///
    /// ## References
    /// - Kubernetes Pod Security Standards, Baseline, "Host Probes / Lifecycle Hooks" (v1.34+)
    pub struct ProbeTargetsOtherHost {
        id: "POD032",
        slug: "probe-targets-other-host",
        title: "Probe or lifecycle hook makes the kubelet connect to another host",
        severity: Medium,
        target: Target::PodSpec,
        controls: [
            Pss "baseline/host-probes",
            MitreAttack "T1046",
        ],
        remediation: "Remove `host` from the probe or hook so it targets the pod itself.",
    }
}

/// Probe and hook handlers, as paths under a container.
const HANDLERS: &[&[&str]] = &[
    &["livenessProbe"],
    &["readinessProbe"],
    &["startupProbe"],
    &["lifecycle", "postStart"],
    &["lifecycle", "preStop"],
];

impl Check for ProbeTargetsOtherHost {
    fn check(&self, cx: &mut Context<'_>) {
        let host_network = cx
            .pod
            .and_then(|p| p.value.get("hostNetwork"))
            .and_then(serde_json::Value::as_bool)
            == Some(true);
        for container in cx.containers() {
            for handler in HANDLERS {
                for action in ["httpGet", "tcpSocket"] {
                    let mut field: Vec<&str> = handler.to_vec();
                    field.extend([action, "host"]);
                    let path = container.field(&field);
                    if let Some(host) = cx.str_at(&path).filter(|h| !h.is_empty()) {
                        let mut reported = crate::context::Reported::new(
                            path,
                            format!(
                                "{} {} {action} makes the kubelet connect to {host} from the node",
                                container.describe(),
                                handler.join(".")
                            ),
                        );
                        // A pod on the node's network reaches the node's loopback itself: the
                        // kubelet is no deputy there, only the Baseline rule is broken.
                        if host_network && palisade_core::addr::is_loopback(host) {
                            reported.message.push_str(
                                " (the pod shares the node's network, so this reaches nothing the pod cannot; Pod Security Baseline still forbids it)",
                            );
                            reported.severity = Some(palisade_core::Severity::Low);
                        }
                        cx.report_with(reported);
                    }
                }
            }
        }
    }
}
