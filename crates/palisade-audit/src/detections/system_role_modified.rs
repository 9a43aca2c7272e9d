use super::role_rules::role_name;
use crate::detection::{Cx, Hit, Trigger};

/// Roles with `system:` names that add-ons manage themselves.
const MANAGED_BY_ADDONS: &[&str] = &["system:coredns", "system:managed-certificate-controller"];

const CHANGE: &[&str] = &["create", "update", "patch", "delete"];

crate::detection! {
    /// ## What it checks
    /// A Role or ClusterRole whose name starts with `system:` created, changed or deleted
    /// (except those add-ons manage: `system:coredns`, `system:managed-certificate-controller`).
    ///
    /// ## Why it matters
    /// The `system:` roles are the control plane's own grants, reconciled at API server
    /// start. Editing one quietly widens what nodes, controllers or every authenticated user
    /// may do; deleting one breaks a component until restart.
    ///
    /// ## Response
    /// Find the change in the request; restore the role (`kubectl auth reconcile`, or restart
    /// the API server, which re-creates the bootstrap roles).
    ///
    /// ## Falco equivalent
    /// `System ClusterRole Modified/Deleted`.
    pub static SYSTEM_ROLE_MODIFIED {
        id: "AUD015",
        slug: "system-role-modified",
        title: "Control-plane role modified or deleted",
        severity: High,
        mitre: ["T1098.006", "T1562.001"],
        remediation: "Restore the role from the bootstrap policy; grant extra access through a new role instead.",
        triggers: [Trigger::on(CHANGE, "clusterroles"), Trigger::on(CHANGE, "roles")],
        check: crate::detection::Check::Request(check),
    }
}

fn check(cx: &Cx) -> Vec<Hit> {
    let name = cx.object_name();
    if !name.starts_with("system:") || MANAGED_BY_ADDONS.contains(&name.as_str()) {
        return Vec::new();
    }
    if cx.event.refused() {
        return Vec::new();
    }
    let action = match cx.event.verb() {
        "delete" => "deleted",
        "create" => "created",
        _ => "modified",
    };
    vec![
        Hit::new(format!("{} {action} {}", cx.actor(), role_name(cx)))
            .with("action", cx.event.verb()),
    ]
}
