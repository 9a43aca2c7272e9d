use crate::detection::{Cx, Hit, Trigger, past};

const CHANGE: &[&str] = &["create", "update", "patch", "delete", "deletecollection"];

/// Gatekeeper's constraints: one resource per constraint kind, named by its template.
const CONSTRAINTS: &str = "constraints.gatekeeper.sh";

/// `(group, resource)` of the other policies, as the triggers name them (the check is also
/// shown every request of the constraints' group, so it tells these apart itself).
const WATCHED: &[(&str, &str)] = &[
    ("templates.gatekeeper.sh", "constrainttemplates"),
    ("config.gatekeeper.sh", "configs"),
    ("mutations.gatekeeper.sh", "assign"),
    ("mutations.gatekeeper.sh", "assignmetadata"),
    ("mutations.gatekeeper.sh", "modifyset"),
    ("mutations.gatekeeper.sh", "assignimage"),
    ("expansion.gatekeeper.sh", "expansiontemplates"),
    ("externaldata.gatekeeper.sh", "providers"),
    ("kyverno.io", "clusterpolicies"),
    ("kyverno.io", "policies"),
    ("kyverno.io", "policyexceptions"),
];

crate::detection! {
    /// ## What it checks
    /// A policy of a policy engine created, changed or deleted: Gatekeeper's
    /// ConstraintTemplates, constraints (of any kind), `Config` (its exempt namespaces),
    /// mutators (`Assign`, `AssignMetadata`, `ModifySet`, `AssignImage`), ExpansionTemplates
    /// and external data providers; Kyverno's policies, cluster policies and policy
    /// exceptions. Status updates (the engines' own bookkeeping) and refused requests are
    /// not reported.
    ///
    /// ## Why it matters
    /// An attacker who can write these turns the guard off without touching the webhook:
    /// a namespace added to Gatekeeper's `Config` exemptions or a Kyverno exception lets a
    /// privileged pod in; a deleted ConstraintTemplate deletes every constraint of its kind;
    /// a mutator or external data provider rewrites every pod created (an image swapped for
    /// the attacker's, a sidecar injected).
    ///
    /// ## Response
    /// Confirm the change with the owner of the policies; manage them through reviewed GitOps
    /// changes and keep write access to these groups to the engine and its pipeline. Add the
    /// pipeline's identity to `allowed_users` if its changes are expected.
    pub static POLICY_ENGINE_CHANGED {
        id: "AUD052",
        slug: "policy-engine-changed",
        title: "Policy engine policy or exemption changed",
        severity: High,
        mitre: ["T1562.001"],
        remediation: "Revert unexpected policy changes; manage policies and exemptions through reviewed GitOps changes.",
        triggers: [
            Trigger::on(CHANGE, "constrainttemplates").in_api_group("templates.gatekeeper.sh", false),
            Trigger::on(CHANGE, "configs").in_api_group("config.gatekeeper.sh", true),
            Trigger::on(CHANGE, "assign").in_api_group("mutations.gatekeeper.sh", false),
            Trigger::on(CHANGE, "assignmetadata").in_api_group("mutations.gatekeeper.sh", false),
            Trigger::on(CHANGE, "modifyset").in_api_group("mutations.gatekeeper.sh", false),
            Trigger::on(CHANGE, "assignimage").in_api_group("mutations.gatekeeper.sh", false),
            Trigger::on(CHANGE, "expansiontemplates").in_api_group("expansion.gatekeeper.sh", false),
            Trigger::on(CHANGE, "providers").in_api_group("externaldata.gatekeeper.sh", false),
            Trigger::on(CHANGE, "clusterpolicies").in_api_group("kyverno.io", false),
            Trigger::on(CHANGE, "policies").in_api_group("kyverno.io", true),
            Trigger::on(CHANGE, "policyexceptions").in_api_group("kyverno.io", true),
            // Constraint resources are named by their templates: any resource of that group.
            Trigger::any_in_group(CHANGE, CONSTRAINTS, false),
        ],
        check: crate::detection::Check::Request(check),
    }
}

fn check(cx: &Cx) -> Vec<Hit> {
    let event = cx.event;
    let constraint = event.api_group() == CONSTRAINTS;
    let named = WATCHED.contains(&(event.api_group(), event.resource()));
    if !(constraint || named)
        || !CHANGE.contains(&event.verb())
        || !event.subresource().is_empty()
        || event.refused()
    {
        return Vec::new();
    }
    let what = if constraint {
        format!("{} constraint", event.resource())
    } else {
        event.resource().to_string()
    };
    vec![
        Hit::new(format!(
            "{} {} {what} {} ({})",
            cx.actor(),
            past(event.verb()),
            cx.target(),
            event.api_group()
        ))
        .with("api_group", event.api_group().to_string()),
    ]
}
