use super::role_rules::{ROLE_CREATE, request_grants, role_name};
use crate::detection::{Cx, Hit};

crate::detection! {
    /// ## What it checks
    /// A Role or ClusterRole created whose rules name `pods/exec`.
    ///
    /// ## Why it matters
    /// `pods/exec` is a shell in every pod the role reaches, with each pod's service account
    /// token: granting it is granting those accounts.
    ///
    /// ## Response
    /// Keep exec for break-glass roles bound for a limited time.
    ///
    /// ## Falco equivalent
    /// `ClusterRole With Pod Exec Created`.
    pub static POD_EXEC_ROLE_CREATED {
        id: "AUD014",
        slug: "pod-exec-role-created",
        title: "Role or ClusterRole granting pods/exec created",
        severity: Medium,
        mitre: ["T1098.006", "T1609"],
        remediation: "Remove pods/exec from the role, or keep it to a break-glass role.",
        triggers: [ROLE_CREATE[0], ROLE_CREATE[1]],
        check: crate::detection::Check::Request(check),
    }
}

fn check(cx: &Cx) -> Vec<Hit> {
    if !request_grants(cx).exec {
        return Vec::new();
    }
    vec![Hit::new(format!(
        "{} created {} granting pods/exec",
        cx.actor(),
        role_name(cx)
    ))]
}
