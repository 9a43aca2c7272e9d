//! What the role detections share: the rules of a Role or ClusterRole being written.

use palisade_core::tree::Tree;

use crate::body::Body;
use crate::detection::{Cx, Level, Trigger};

/// Creation of a Role or ClusterRole.
pub const ROLE_CREATE: [Trigger; 2] = [
    Trigger::on(&["create"], "roles").reading(Level::Request),
    Trigger::on(&["create"], "clusterroles").reading(Level::Request),
];

/// Verbs that change objects.
const WRITE_VERBS: &[&str] = &["create", "update", "patch", "delete", "deletecollection"];

/// Whether a rule of `verbs` on `resources` is a wildcard rule (`*` among either).
pub fn is_wildcard(verbs: &[String], resources: &[String]) -> bool {
    verbs.iter().chain(resources).any(|v| v == "*")
}

/// What the role in the request grants ([`RoleGrants`]).
pub fn request_grants(cx: &Cx) -> RoleGrants {
    cx.request().map(RoleGrants::of).unwrap_or_default()
}

/// `(verbs, resources)` of each rule of the role in the request.
pub fn rules(cx: &Cx) -> Vec<(Vec<String>, Vec<String>)> {
    cx.request().map(rules_of).unwrap_or_default()
}

/// `(verbs, resources)` of each rule of `role`.
pub fn rules_of(role: &Body) -> Vec<(Vec<String>, Vec<String>)> {
    let list = |rule: &Body, key: &str| palisade_core::tree::strings(rule.get(key));
    role.get("rules")
        .and_then(Tree::items)
        .into_iter()
        .flatten()
        .map(|rule| (list(rule, "verbs"), list(rule, "resources")))
        .collect()
}

/// What a role grants that the role detections report: a wildcard (AUD012), write verbs
/// (AUD013), `pods/exec` (AUD014), and the aggregated ClusterRoles its labels add its rules
/// to (`rbac.authorization.k8s.io/aggregate-to-admin: "true"` puts them in `admin`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RoleGrants {
    pub wildcard: bool,
    pub writes: std::collections::BTreeSet<String>,
    pub exec: bool,
    pub aggregated_into: std::collections::BTreeSet<String>,
}

/// The label prefix that aggregates a ClusterRole's rules into another.
const AGGREGATE_TO: &str = "rbac.authorization.k8s.io/aggregate-to-";

impl RoleGrants {
    /// What `role` (a Role or ClusterRole as stored or sent whole) grants.
    pub fn of(role: &Body) -> RoleGrants {
        let mut grants = RoleGrants::default();
        for (verbs, resources) in rules_of(role) {
            grants.wildcard |= is_wildcard(&verbs, &resources);
            grants.exec |= resources.iter().any(|r| r == "pods/exec");
            grants.writes.extend(
                verbs
                    .into_iter()
                    .filter(|v| WRITE_VERBS.contains(&v.as_str())),
            );
        }
        if let Some(labels) = role.at("/metadata/labels").and_then(Body::members) {
            grants.aggregated_into = labels
                .iter()
                .filter(|(_, value)| value.as_str() == Some("true"))
                .filter_map(|(key, _)| key.as_str().strip_prefix(AGGREGATE_TO))
                .map(str::to_string)
                .collect();
        }
        grants
    }

    /// What `self` grants that `before` did not, as an alert words it, and whether it is
    /// severe (a wildcard, or rules given to `admin`, `edit` or `cluster-admin`).
    pub fn added_since(&self, before: &RoleGrants) -> (Vec<String>, bool) {
        let mut added = Vec::new();
        let mut severe = false;
        if self.wildcard && !before.wildcard {
            added.push("a wildcard rule".to_string());
            severe = true;
        }
        if self.exec && !before.exec {
            added.push("pods/exec".to_string());
        }
        let writes: Vec<&str> = self
            .writes
            .difference(&before.writes)
            .map(String::as_str)
            .collect();
        if !writes.is_empty() {
            added.push(format!("write verbs ({})", writes.join(", ")));
        }
        let into: Vec<&str> = self
            .aggregated_into
            .difference(&before.aggregated_into)
            .map(String::as_str)
            .collect();
        if !into.is_empty() {
            severe |= into
                .iter()
                .any(|role| ["admin", "edit", "cluster-admin"].contains(role));
            added.push(format!(
                "every holder of {} its rules (an aggregation label)",
                into.join(", ")
            ));
        }
        (added, severe)
    }
}

/// `ClusterRole ops-admin` or `Role app/reader`.
pub fn role_name(cx: &Cx) -> String {
    format!("{} {}", cx.kind(), cx.target())
}
