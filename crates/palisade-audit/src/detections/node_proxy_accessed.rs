use crate::detection::{Cx, Hit, Trigger, is_control_plane};

crate::detection! {
    /// ## What it checks
    /// A request through `nodes/proxy` (the kubelet's API, reached through the API server)
    /// by anyone other than the control plane.
    ///
    /// ## Why it matters
    /// The kubelet's API runs commands in any container of the node (`/exec`, `/run`) and
    /// these calls are not audited as pod exec: `nodes/proxy` is exec on every pod of the
    /// node, without the trail.
    ///
    /// ## Response
    /// Confirm the caller (metrics collectors use `nodes/proxy` for `/metrics` and `/stats`);
    /// grant `nodes/metrics` and `nodes/stats` instead.
    ///
    /// ## Sigma equivalent
    /// `Kubernetes Potential Enumeration Activity` (a shell or tool in the request URI, when
    /// the kubelet's run endpoint runs it).
    pub static NODE_PROXY_ACCESSED {
        id: "AUD027",
        slug: "node-proxy-accessed",
        title: "Kubelet API reached through nodes/proxy",
        severity: High,
        mitre: ["T1609", "T1611"],
        remediation: "Grant nodes/metrics or nodes/stats instead of nodes/proxy.",
        triggers: [Trigger::sub(&[], "nodes", "proxy")],
        check: crate::detection::Check::Request(check),
    }
}

fn check(cx: &Cx) -> Vec<Hit> {
    if is_control_plane(cx.event.user()) || cx.event.refused() {
        return Vec::new();
    }
    let path = cx.event.path();
    let kubelet_path = path.split("/proxy").nth(1).unwrap_or("/");
    vec![
        Hit::new(format!(
            "{} reached the kubelet of node {} ({} {kubelet_path})",
            cx.actor(),
            cx.object_name(),
            cx.event.verb()
        ))
        .with("kubelet_path", kubelet_path),
    ]
}
