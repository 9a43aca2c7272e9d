use crate::detection::{Cx, Hit, Trigger, is_person_or_external};
use crate::settings::Settings;
use crate::state::State;

crate::detection! {
    /// ## What it checks
    /// When `allowed_users` is set: a request by a user (not a `system:` identity) outside
    /// that list, reported once per user per analysis.
    ///
    /// ## Why it matters
    /// In clusters where people act only through a few named accounts (CI, GitOps, break
    /// glass), any other human identity is a credential that should not exist: a leaked
    /// kubeconfig, a forgotten admin, an attacker's certificate.
    ///
    /// ## Response
    /// Identify the credential (certificate, OIDC subject, token) and revoke it; add the
    /// user to `allowed_users` if expected.
    ///
    /// ## Falco equivalent
    /// `Disallowed K8s User`.
    pub static DISALLOWED_USER {
        id: "AUD030",
        slug: "disallowed-user",
        title: "Request by a user outside the allowed list",
        severity: Medium,
        mitre: ["T1078"],
        remediation: "Revoke the credential, or add the user to [audit] allowed_users.",
        triggers: [Trigger::every()],
        check: crate::detection::Check::Stream(check),
        active: allow_listing,
    }
}

/// Runs only when its setting is given.
fn allow_listing(settings: &Settings) -> bool {
    !settings.allowed_users.is_empty()
}

fn check(cx: &Cx, state: &mut State) -> Vec<Hit> {
    let user = cx.event.user();
    if cx.settings.allowed_users.is_empty()
        || user.is_empty()
        || !is_person_or_external(user)
        || cx.settings.allowed_users.iter().any(|u| u == user)
        || !state.first("disallowed-user", user)
    {
        return Vec::new();
    }
    let what = cx.what();
    vec![Hit::new(format!(
        "user {user}, who is not in allowed_users, made a request ({} {what})",
        cx.event.verb()
    ))]
}
