//! What the role detections share: the rules of a Role or ClusterRole being written.

use palisade_core::tree::Tree;

use crate::body::Body;
use crate::detection::{Cx, Level, Trigger};

/// Creation of a Role or ClusterRole.
pub const ROLE_CREATE: [Trigger; 2] = [
    Trigger::on(&["create"], "roles").reading(Level::Request),
    Trigger::on(&["create"], "clusterroles").reading(Level::Request),
];

/// `(verbs, resources)` of each rule of the role in the request.
pub fn rules(cx: &Cx) -> Vec<(Vec<String>, Vec<String>)> {
    let list = |rule: &Body, key: &str| palisade_core::tree::strings(rule.get(key));
    cx.request()
        .and_then(|role| role.get("rules"))
        .and_then(Tree::items)
        .into_iter()
        .flatten()
        .map(|rule| (list(rule, "verbs"), list(rule, "resources")))
        .collect()
}

/// `ClusterRole ops-admin` or `Role app/reader`.
pub fn role_name(cx: &Cx) -> String {
    format!("{} {}", cx.kind(), cx.target())
}
