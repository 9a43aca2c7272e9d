use crate::detection::{Cx, Hit, Trigger, is_control_plane, past};

const CHANGE: &[&str] = &["create", "update", "patch", "delete"];

crate::detection! {
    /// ## What it checks
    /// A Role or RoleBinding in `kube-system` created, changed or deleted by anyone other
    /// than the control plane (nodes, controllers and kube-system's own service accounts).
    ///
    /// ## Why it matters
    /// Roles in kube-system reach the control plane's secrets and its controllers' tokens;
    /// a binding added there is a foothold next to the most powerful accounts, and one
    /// removed can break leader election or token signing.
    ///
    /// ## Response
    /// Confirm the change with the platform team; manage kube-system RBAC through the
    /// cluster's provisioning only.
    ///
    /// ## Sigma equivalent
    /// `Kubernetes Rolebinding Modification`.
    pub static SYSTEM_NAMESPACE_RBAC_MODIFIED {
        id: "AUD016",
        slug: "system-namespace-rbac-modified",
        title: "RBAC in kube-system changed by someone other than the control plane",
        severity: Medium,
        mitre: ["T1098.006"],
        remediation: "Manage kube-system RBAC through cluster provisioning; revert unexpected changes.",
        triggers: [Trigger::on(CHANGE, "roles"), Trigger::on(CHANGE, "rolebindings")],
        check: crate::detection::Check::Request(check),
    }
}

fn check(cx: &Cx) -> Vec<Hit> {
    if cx.event.namespace() != Some("kube-system")
        || is_control_plane(cx.event.user())
        || cx.event.refused()
    {
        return Vec::new();
    }
    vec![Hit::new(format!(
        "{} {} {} {}",
        cx.actor(),
        past(cx.event.verb()),
        cx.kind(),
        cx.target()
    ))]
}
