use crate::detection::{Cx, Hit, Trigger, is_control_plane};

crate::detection! {
    /// ## What it checks
    /// A token requested for a service account (`serviceaccounts/token`, as `kubectl create
    /// token` does) by anyone other than the control plane and the nodes (kubelets request
    /// the tokens of their pods).
    ///
    /// ## Why it matters
    /// A token minted this way is a credential of that service account for as long as the
    /// caller asked, usable from anywhere: a way to keep access, or to take a more powerful
    /// account's identity.
    ///
    /// ## Response
    /// Find what the token was for; restrict `create` on `serviceaccounts/token`.
    pub static SERVICE_ACCOUNT_TOKEN_REQUESTED {
        id: "AUD018",
        slug: "service-account-token-requested",
        title: "Service account token requested outside the control plane",
        severity: Medium,
        mitre: ["T1528"],
        remediation: "Restrict create on serviceaccounts/token; prefer short-lived projected tokens in pods.",
        triggers: [Trigger::sub(&["create"], "serviceaccounts", "token")],
        check: crate::detection::Check::Request(check),
    }
}

fn check(cx: &Cx) -> Vec<Hit> {
    if is_control_plane(cx.event.user()) || !cx.event.succeeded() {
        return Vec::new();
    }
    vec![Hit::new(format!(
        "{} requested a token for service account {}",
        cx.actor(),
        cx.target()
    ))]
}
