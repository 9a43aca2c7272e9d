use super::role_rules::{ROLE_CREATE, request_grants, role_name};
use crate::detection::{Cx, Hit};

crate::detection! {
    /// ## What it checks
    /// A Role or ClusterRole created with a verb that changes objects (`create`, `update`,
    /// `patch`, `delete`, `deletecollection`).
    ///
    /// ## Why it matters
    /// Write access is where damage and persistence happen. Creating such roles is routine
    /// in deployments, which is why this is low severity: it gives the trail to review when
    /// another alert points at the same subject.
    ///
    /// ## Response
    /// Review who gets bound to the role.
    ///
    /// ## Falco equivalent
    /// `ClusterRole With Write Privileges Created`.
    pub static WRITE_ROLE_CREATED {
        id: "AUD013",
        slug: "write-role-created",
        title: "Role or ClusterRole with write access created",
        severity: Low,
        mitre: ["T1098.006"],
        remediation: "Grant write verbs only on the resources the subject manages.",
        triggers: [ROLE_CREATE[0], ROLE_CREATE[1]],
        check: crate::detection::Check::Request(check),
    }
}

fn check(cx: &Cx) -> Vec<Hit> {
    // Sorted, once each.
    let verbs: Vec<String> = request_grants(cx).writes.into_iter().collect();
    if verbs.is_empty() {
        return Vec::new();
    }
    vec![
        Hit::new(format!(
            "{} created {} with write access",
            cx.actor(),
            role_name(cx)
        ))
        .with("verbs", verbs.join(",")),
    ]
}
