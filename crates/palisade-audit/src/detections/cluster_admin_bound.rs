use super::bindings::{role_name, subjects};
use crate::detection::{Cx, Hit, Level, Trigger};

const WRITE: &[&str] = &["create", "update", "patch"];

crate::detection! {
    /// ## What it checks
    /// A ClusterRoleBinding or RoleBinding created or changed to grant `cluster-admin`.
    ///
    /// ## Why it matters
    /// `cluster-admin` is every permission on every object. A new binding to it is the
    /// classic privilege escalation and persistence step once any binding rights are held.
    ///
    /// ## Response
    /// Confirm the grant with its owner; bind a role with only what is needed.
    ///
    /// ## Falco equivalent
    /// `Attach to cluster-admin Role`.
    ///
    /// ## Sigma equivalent
    /// `Kubernetes Rolebinding Modification`.
    pub static CLUSTER_ADMIN_BOUND {
        id: "AUD011",
        slug: "cluster-admin-bound",
        title: "Binding to cluster-admin created",
        severity: High,
        mitre: ["T1098.006"],
        remediation: "Remove the binding; bind a role that grants only what the subject needs.",
        triggers: [
            Trigger::on(WRITE, "clusterrolebindings").reading(Level::Request),
            Trigger::on(WRITE, "rolebindings").reading(Level::Request),
        ],
        check: crate::detection::Check::Request(check),
    }
}

fn check(cx: &Cx) -> Vec<Hit> {
    let Some(binding) = cx.request() else {
        return Vec::new();
    };
    if role_name(binding) != Some("cluster-admin") {
        return Vec::new();
    }
    let subjects = subjects(binding).unwrap_or_default();
    vec![
        Hit::new(format!(
            "{} bound cluster-admin to {} ({})",
            cx.actor(),
            if subjects.is_empty() {
                "nobody yet".to_string()
            } else {
                subjects.join(", ")
            },
            cx.target()
        ))
        .with("subjects", subjects.join(",")),
    ]
}
