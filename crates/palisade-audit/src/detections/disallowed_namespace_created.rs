use crate::detection::{Cx, Hit, Trigger};
use crate::settings::Settings;

crate::detection! {
    /// ## What it checks
    /// When `allowed_namespaces` is set: a namespace created whose name is not in it.
    ///
    /// ## Why it matters
    /// Where namespaces are provisioned from a known list, a new one is a place outside
    /// every policy, quota and review: attackers create one to run workloads unnoticed.
    ///
    /// ## Response
    /// Confirm the namespace's owner; add it to `allowed_namespaces` if expected.
    ///
    /// ## Falco equivalent
    /// `Create Disallowed Namespace`.
    pub static DISALLOWED_NAMESPACE_CREATED {
        id: "AUD031",
        slug: "disallowed-namespace-created",
        title: "Namespace outside the allowed list created",
        severity: Medium,
        mitre: ["T1610"],
        remediation: "Delete the namespace, or add it to [audit] allowed_namespaces.",
        triggers: [Trigger::on(&["create"], "namespaces")],
        check: crate::detection::Check::Request(check),
        active: allow_listing,
    }
}

/// Runs only when its setting is given.
fn allow_listing(settings: &Settings) -> bool {
    !settings.allowed_namespaces.is_empty()
}

fn check(cx: &Cx) -> Vec<Hit> {
    let name = cx.object_name();
    if cx.settings.allowed_namespaces.is_empty() || cx.settings.allowed_namespaces.contains(&name) {
        return Vec::new();
    }
    vec![Hit::new(format!(
        "{} created namespace {name}, which is not in allowed_namespaces",
        cx.actor()
    ))]
}
