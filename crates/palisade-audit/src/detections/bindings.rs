//! What the binding detections share: a RoleBinding's or ClusterRoleBinding's role and
//! subjects, as the audit event's request or response shows them.

use palisade_core::tree::Tree;

use crate::body::Body;

/// The name of the role a binding grants.
pub fn role_name<'b>(binding: &'b Body) -> Option<&'b str> {
    binding.at("/roleRef/name").and_then(Tree::as_str)
}

/// `Role edit`, `ClusterRole view`: the role a binding grants, for messages.
pub fn role(binding: &Body) -> Option<String> {
    let name = role_name(binding)?;
    let kind = binding
        .at("/roleRef/kind")
        .and_then(Tree::as_str)
        .unwrap_or("role");
    Some(format!("{kind} {name}"))
}

/// The binding's subjects, each as `User alice` or `ServiceAccount app/ci`; `None` when the
/// body does not list them (a patch that leaves them alone).
pub fn subjects(binding: &Body) -> Option<Vec<String>> {
    let items = binding.get("subjects")?.items()?;
    Some(
        items
            .iter()
            .map(|s| {
                let kind = s.get("kind").and_then(Tree::as_str).unwrap_or("?");
                let name = s.get("name").and_then(Tree::as_str).unwrap_or("?");
                match s.get("namespace").and_then(Tree::as_str) {
                    Some(ns) => format!("{kind} {ns}/{name}"),
                    None => format!("{kind} {name}"),
                }
            })
            .collect(),
    )
}
