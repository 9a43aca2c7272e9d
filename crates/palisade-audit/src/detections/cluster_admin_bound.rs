use palisade_core::tree::Tree;

use crate::detection::{Cx, Hit, Trigger};
use crate::state::State;

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
    pub static CLUSTER_ADMIN_BOUND {
        id: "AUD011",
        slug: "cluster-admin-bound",
        title: "Binding to cluster-admin created",
        severity: High,
        mitre: ["T1098.006"],
        remediation: "Remove the binding; bind a role that grants only what the subject needs.",
        triggers: [
            Trigger::on(WRITE, "clusterrolebindings"),
            Trigger::on(WRITE, "rolebindings"),
        ],
        check: check,
    }
}

fn check(cx: &Cx, _: &mut State) -> Vec<Hit> {
    let Some(binding) = cx.request() else {
        return Vec::new();
    };
    if binding.at("/roleRef/name").and_then(Tree::as_str) != Some("cluster-admin") {
        return Vec::new();
    }
    let subjects: Vec<String> = binding
        .get("subjects")
        .and_then(Tree::items)
        .into_iter()
        .flatten()
        .map(|s| {
            let kind = s.get("kind").and_then(Tree::as_str).unwrap_or("?");
            let name = s.get("name").and_then(Tree::as_str).unwrap_or("?");
            match s.get("namespace").and_then(Tree::as_str) {
                Some(ns) => format!("{kind} {ns}/{name}"),
                None => format!("{kind} {name}"),
            }
        })
        .collect();
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
