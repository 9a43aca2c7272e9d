use crate::detection::{Cx, Hit, Trigger};

crate::detection! {
    /// ## What it checks
    /// A port of a pod forwarded to the caller (`pods/portforward`, `kubectl port-forward`).
    ///
    /// ## Why it matters
    /// Port forwarding tunnels the caller's machine straight to a pod's port through the API
    /// server, past every NetworkPolicy and ingress control: a database or an admin port that
    /// was never exposed becomes reachable from a laptop, or from an attacker holding its
    /// credentials.
    ///
    /// ## Response
    /// Confirm the session; grant `create` on `pods/portforward` only for debugging roles.
    ///
    /// ## Falco equivalent
    /// `port-forward`.
    pub static POD_PORT_FORWARD {
        id: "AUD002",
        slug: "pod-port-forward",
        title: "Port of a pod forwarded through the API server",
        severity: Medium,
        mitre: ["T1572"],
        remediation: "Confirm the tunnel was intended; limit create on pods/portforward to debugging roles.",
        triggers: [Trigger::sub(&["create", "get"], "pods", "portforward")],
        check: crate::detection::Check::Request(check),
    }
}

fn check(cx: &Cx) -> Vec<Hit> {
    let mut hit = Hit::new(format!(
        "{} forwarded a port of pod {}",
        cx.actor(),
        cx.target()
    ));
    let ports = cx.query_values("ports");
    if !ports.is_empty() {
        hit = hit.with("ports", ports.join(","));
    }
    vec![hit]
}
