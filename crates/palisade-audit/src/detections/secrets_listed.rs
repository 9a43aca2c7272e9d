use palisade_core::Severity;

use crate::detection::{Cx, Hit, Trigger, is_control_plane};

crate::detection! {
    /// ## What it checks
    /// Secrets listed or watched (every Secret's value at once) by an identity that is not
    /// the control plane; across all namespaces it is high severity.
    ///
    /// ## Why it matters
    /// Listing Secrets returns their data: every credential of the namespace, or of the
    /// cluster, in one request. Operators that need it are few and known; a person or an
    /// application account doing it is harvesting.
    ///
    /// ## Response
    /// Confirm the identity needs it; replace `list`/`watch` on secrets with `get` on named
    /// secrets.
    ///
    /// ## Sigma equivalent
    /// `Kubernetes Secrets Enumeration`.
    pub static SECRETS_LISTED {
        id: "AUD017",
        slug: "secrets-listed",
        title: "Secrets listed or watched in bulk",
        severity: Medium,
        mitre: ["T1552.007", "T1613"],
        remediation: "Grant get on named secrets (resourceNames) instead of list and watch.",
        triggers: [Trigger::on(&["list", "watch"], "secrets")],
        check: crate::detection::Check::Request(check),
    }
}

fn check(cx: &Cx) -> Vec<Hit> {
    if is_control_plane(cx.event.user()) || !cx.event.succeeded() {
        return Vec::new();
    }
    match cx.event.namespace() {
        Some(ns) => vec![Hit::new(format!(
            "{} read every Secret of namespace {ns} ({})",
            cx.actor(),
            cx.event.verb()
        ))],
        None => vec![
            Hit::new(format!(
                "{} read every Secret of the cluster ({})",
                cx.actor(),
                cx.event.verb()
            ))
            .severity(Severity::High),
        ],
    }
}
