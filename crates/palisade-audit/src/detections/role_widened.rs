use palisade_core::Severity;
use palisade_core::tree::Tree;

use super::role_rules::{RoleGrants, role_name};
use crate::body::Body;
use crate::detection::{Cx, Hit, Level, Trigger, is_control_plane};
use crate::state::{State, StoredRole};

crate::detection! {
    /// ## What it checks
    /// An existing Role or ClusterRole updated or patched, outside the control plane, so that
    /// it grants what AUD012-AUD014 report when a role is created with it: a wildcard rule,
    /// `pods/exec`, write verbs it did not have; or labelled to aggregate its rules into
    /// another ClusterRole (`rbac.authorization.k8s.io/aggregate-to-admin: "true"` gives
    /// them to every holder of `admin`). The role as stored after the change is read from
    /// the response (`RequestResponse` level), or from a full update's request, and compared
    /// with the role as the log last showed it (its creation or an earlier change, same
    /// uid); with no earlier version in the log, what it grants now is reported, once, and
    /// the alert says so. It is high for a wildcard, or for rules given to `admin`, `edit` or
    /// `cluster-admin`. Left to AUD015: the control plane's own `system:` roles. Refused
    /// requests and dry runs change nothing and are not reported.
    ///
    /// ## Why it matters
    /// Reviews, admission policies and Falco's role rules (wildcard, write privileges, pod
    /// exec: AUD012-AUD014) look at roles when they are created.
    /// Widening one that is already bound (`kubectl patch clusterrole app-reader --type=json
    /// -p '[{"op":"add","path":"/rules/-","value":{"apiGroups":["*"],"resources":["*"],
    /// "verbs":["*"]}}]'`) hands the new power to every subject bound to it, with no new
    /// binding; an aggregation label does the same through `admin` or `edit`.
    ///
    /// ## Response
    /// Compare the role with version control and restore it; find how the writer got
    /// `update`, `patch` or `escalate` on roles (`palisade rbac who-can patch clusterroles`).
    pub static ROLE_WIDENED {
        id: "AUD053",
        slug: "role-widened",
        title: "Existing Role or ClusterRole widened outside the control plane",
        severity: Medium,
        mitre: ["T1098.006"],
        remediation: "Restore the role from version control; grant update, patch and escalate on roles only to the deployment pipeline.",
        triggers: [
            // A creation is remembered, a deletion forgotten; a change is read as stored.
            Trigger::on(&["create"], "roles").reading(Level::Request),
            Trigger::on(&["create"], "clusterroles").reading(Level::Request),
            Trigger::on(&["delete"], "roles"),
            Trigger::on(&["delete"], "clusterroles"),
            // A full update sends the whole role; a patch only its change, so the role as
            // stored is in the response.
            Trigger::on(&["update"], "roles").reading(Level::Request),
            Trigger::on(&["update"], "clusterroles").reading(Level::Request),
            Trigger::on(&["patch"], "roles").reading(Level::RequestResponse),
            Trigger::on(&["patch"], "clusterroles").reading(Level::RequestResponse),
        ],
        check: crate::detection::Check::Stream(check),
    }
}

fn check(cx: &Cx, state: &mut State) -> Vec<Hit> {
    let event = cx.event;
    if event.refused() || cx.dry_run() {
        return Vec::new();
    }
    let key = format!("{}/{}", event.resource(), cx.target());
    if event.verb() == "delete" {
        state.roles.forget(&key);
        return Vec::new();
    }
    // The role as stored, else as a create or a full update sent it (a patch shows only its
    // change).
    let is_role = |b: &&Body| b.get("rules").is_some() || b.get("metadata").is_some();
    let full_request = || {
        cx.request()
            .filter(|_| matches!(event.verb(), "create" | "update"))
    };
    let Some(role) = cx.response().filter(is_role).or_else(full_request) else {
        return Vec::new();
    };
    let uid = role
        .at("/metadata/uid")
        .and_then(Tree::as_str)
        .unwrap_or_default()
        .to_string();
    let now = StoredRole {
        uid,
        grants: RoleGrants::of(role),
    };
    let before = state
        .roles
        .get(&key)
        .filter(|before| before.uid == now.uid)
        .map(|before| before.grants.clone());
    state.roles.store(&key, now.clone());
    if event.verb() == "create"
        || is_control_plane(event.user())
        || cx.object_name().starts_with("system:")
    {
        return Vec::new();
    }
    let (added, severe) = now
        .grants
        .added_since(before.as_ref().unwrap_or(&RoleGrants::default()));
    if added.is_empty() {
        return Vec::new();
    }
    let unknown = if before.is_none() {
        " (the log shows no earlier version to compare with)"
    } else {
        ""
    };
    let hit = Hit::new(format!(
        "{} changed {}: it now grants {}{unknown}",
        cx.actor(),
        role_name(cx),
        added.join("; ")
    ))
    .with("added", added.join("; "));
    vec![if severe {
        hit.severity(Severity::High)
    } else {
        hit
    }]
}
