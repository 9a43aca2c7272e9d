use crate::detection::{Cx, Hit, Trigger};

crate::detection! {
    /// ## What it checks
    /// A request made while impersonating another user, group or service account
    /// (`kubectl --as`, `Impersonate-User` headers). Critical when the groups impersonated
    /// include `system:masters`, which the API server allows every request.
    ///
    /// ## Why it matters
    /// Impersonation is acting with another identity's permissions. It is legitimate for a
    /// few proxies and admins, and an escalation path for anyone else granted `impersonate`:
    /// impersonating `system:masters` members or a powerful service account is
    /// cluster-admin.
    ///
    /// ## Response
    /// Confirm the caller is an expected proxy or admin; restrict the `impersonate` verb to
    /// named users and groups with `resourceNames`.
    pub static IMPERSONATION_USED {
        id: "AUD028",
        slug: "impersonation-used",
        title: "Request made while impersonating another identity",
        severity: Medium,
        mitre: ["T1078", "T1134"],
        remediation: "Limit the impersonate verb to named identities (resourceNames) and known proxies.",
        triggers: [Trigger::every()],
        check: crate::detection::Check::Request(check),
    }
}

fn check(cx: &Cx) -> Vec<Hit> {
    let Some(as_user) = cx.event.impersonated_user.as_ref() else {
        return Vec::new();
    };
    if as_user.name().is_empty() || cx.event.refused() {
        return Vec::new();
    }
    let groups = as_user.groups();
    let what = cx.what();
    let superuser = palisade_k8s::identity::SUPERUSER_GROUP;
    let as_superuser = groups.iter().any(|g| g == superuser);
    let mut hit = Hit::new(format!(
        "{} acted as {}{} to {} {what}",
        cx.event.user(),
        as_user.name(),
        if as_superuser {
            format!(" in group {superuser} (allowed every request)")
        } else {
            String::new()
        },
        cx.event.verb()
    ))
    .with("impersonated_user", as_user.name());
    if as_superuser {
        hit = hit.severity(palisade_core::Severity::Critical);
    }
    if !groups.is_empty() {
        hit = hit.with("impersonated_groups", groups.join(","));
    }
    vec![hit]
}
