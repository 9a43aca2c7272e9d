use super::role_rules::{ROLE_CREATE, is_wildcard, role_name, rules};
use crate::detection::{Cx, Hit};

crate::detection! {
    /// ## What it checks
    /// A Role or ClusterRole created with `*` among the verbs or the resources of a rule.
    ///
    /// ## Why it matters
    /// A wildcard grants everything that exists and everything added later (new resources,
    /// custom resources, `escalate` and `bind`, `impersonate`): whoever is bound to it can
    /// usually make themselves cluster-admin.
    ///
    /// ## Response
    /// Replace the wildcard with the verbs and resources the subject needs (`palisade rbac
    /// generate` derives them from audit logs).
    ///
    /// ## Falco equivalent
    /// `ClusterRole With Wildcard Created`.
    pub static WILDCARD_ROLE_CREATED {
        id: "AUD012",
        slug: "wildcard-role-created",
        title: "Role or ClusterRole with a wildcard created",
        severity: Medium,
        mitre: ["T1098.006"],
        remediation: "List the verbs and resources the subject needs instead of `*`.",
        triggers: [ROLE_CREATE[0], ROLE_CREATE[1]],
        check: crate::detection::Check::Request(check),
    }
}

fn check(cx: &Cx) -> Vec<Hit> {
    let wild = rules(cx)
        .into_iter()
        .find(|(verbs, resources)| is_wildcard(verbs, resources));
    match wild {
        Some((verbs, resources)) => vec![
            Hit::new(format!(
                "{} created {} with a wildcard rule",
                cx.actor(),
                role_name(cx)
            ))
            .with("verbs", verbs.join(","))
            .with("resources", resources.join(",")),
        ],
        None => Vec::new(),
    }
}
