use palisade_core::tree::Tree;

use crate::detection::{Cx, Hit, Level, Trigger, is_control_plane};

crate::detection! {
    /// ## What it checks
    /// A Secret of type `kubernetes.io/service-account-token` created by anyone other than
    /// the control plane (the token controller fills such Secrets with a token that never
    /// expires). Needs the `Request` audit level on secrets to see the type; at `Metadata`
    /// level the event does not say.
    ///
    /// ## Why it matters
    /// A long-lived token Secret for a powerful service account is the oldest persistence
    /// trick in Kubernetes: the token survives rotation of every other credential.
    ///
    /// ## Response
    /// Delete the Secret unless a legacy integration needs it; use `serviceaccounts/token`
    /// (bounded lifetime) instead.
    pub static TOKEN_SECRET_CREATED {
        id: "AUD019",
        slug: "token-secret-created",
        title: "Long-lived service account token Secret created",
        severity: Medium,
        mitre: ["T1528", "T1098"],
        remediation: "Delete the Secret; request bounded tokens with serviceaccounts/token instead.",
        triggers: [Trigger::on(&["create"], "secrets").reading(Level::Request)],
        check: crate::detection::Check::Request(check),
    }
}

fn check(cx: &Cx) -> Vec<Hit> {
    if is_control_plane(cx.event.user()) || cx.event.refused() {
        return Vec::new();
    }
    let Some(secret) = cx.request() else {
        return Vec::new();
    };
    if secret.get("type").and_then(Tree::as_str) != Some("kubernetes.io/service-account-token") {
        return Vec::new();
    }
    let account = secret
        .at("/metadata/annotations/kubernetes.io~1service-account.name")
        .and_then(Tree::as_str)
        .unwrap_or("?");
    vec![
        Hit::new(format!(
            "{} created token Secret {} for service account {account}",
            cx.actor(),
            cx.target()
        ))
        .with("service_account", account),
    ]
}
