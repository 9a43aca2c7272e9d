//! A subject's effective permissions as a matrix of resources and verbs
//! (`palisade rbac access`): the common resources, plus every resource the subject's roles
//! name (wildcards as written: `*/scale` in every group, every resource of `cert-manager.io`),
//! and each set of names a role limits a rule to (`secrets` named `db-password`), each with
//! the verbs the authorizer allows.

use serde::Serialize;

use crate::{Identity, Policy, Request};

/// Resources the access matrix always shows, with their group.
pub const MATRIX: &[(&str, &str)] = &[
    ("", "pods"),
    ("", "pods/exec"),
    ("", "pods/attach"),
    ("", "pods/portforward"),
    ("", "pods/ephemeralcontainers"),
    ("", "secrets"),
    ("", "configmaps"),
    ("", "services"),
    ("", "serviceaccounts"),
    ("", "serviceaccounts/token"),
    ("", "persistentvolumeclaims"),
    ("", "persistentvolumes"),
    ("", "namespaces"),
    ("", "nodes"),
    ("", "nodes/proxy"),
    ("", "events"),
    ("apps", "deployments"),
    ("apps", "daemonsets"),
    ("apps", "statefulsets"),
    ("batch", "jobs"),
    ("batch", "cronjobs"),
    ("networking.k8s.io", "networkpolicies"),
    ("networking.k8s.io", "ingresses"),
    ("rbac.authorization.k8s.io", "roles"),
    ("rbac.authorization.k8s.io", "rolebindings"),
    ("rbac.authorization.k8s.io", "clusterroles"),
    ("rbac.authorization.k8s.io", "clusterrolebindings"),
    (
        "admissionregistration.k8s.io",
        "mutatingwebhookconfigurations",
    ),
    (
        "admissionregistration.k8s.io",
        "validatingwebhookconfigurations",
    ),
    ("certificates.k8s.io", "certificatesigningrequests"),
];
/// The verbs every row shows.
pub const COMMON_VERBS: &[&str] = &[
    "get", "list", "watch", "create", "update", "patch", "delete",
];
/// Verbs that escalate, shown when allowed.
pub const SPECIAL_VERBS: &[&str] = &["impersonate", "escalate", "bind", "approve"];

/// One resource and the verbs allowed on it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AccessRow {
    /// `*`: every group (a rule that names the resource in any group).
    #[serde(rename = "apiGroup")]
    pub api_group: String,
    /// `*`: every resource of the group; `*/scale`: that subresource of every resource.
    pub resource: String,
    /// The only objects the verbs are allowed on (a rule's `resourceNames`); empty: any.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub names: Vec<String>,
    pub verbs: Vec<&'static str>,
}

/// What `identity` may do, in `namespace` or cluster-wide.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccessMatrix {
    /// Resources with at least one allowed verb.
    pub rows: Vec<AccessRow>,
    /// Namespaces other than the one asked about where the subject has RoleBindings.
    pub namespaced_grants_elsewhere: Vec<String>,
}

/// The access matrix of `identity`, asked of the authorizer verb by verb.
pub fn access_matrix(
    policy: &Policy,
    identity: &Identity,
    namespace: Option<&str>,
) -> AccessMatrix {
    // (group, resource, names): the common resources, then what the subject's rules name.
    let mut asked: Vec<(String, String, Vec<String>)> = MATRIX
        .iter()
        .map(|(g, r)| (g.to_string(), r.to_string(), Vec::new()))
        .collect();
    for binding in policy.bindings_of(identity) {
        for rule in policy
            .role_of(binding)
            .map(|r| r.rules.as_slice())
            .unwrap_or(&[])
        {
            for group in &rule.api_groups {
                for resource in &rule.resources {
                    let key = (group.clone(), resource.clone(), rule.resource_names.clone());
                    if can_be_requested(group, resource) && !asked.contains(&key) {
                        asked.push(key);
                    }
                }
            }
        }
    }
    let mut rows = Vec::new();
    for (group, resource, names) in asked {
        let verbs: Vec<&'static str> = COMMON_VERBS
            .iter()
            .chain(SPECIAL_VERBS)
            .copied()
            .filter(|verb| {
                let mut request = Request::resource(verb, &group, &resource, namespace);
                if let Some(name) = names.first() {
                    request = request.named(name);
                }
                !policy.authorize(identity, &request).is_empty()
            })
            .collect();
        if !verbs.is_empty() {
            rows.push(AccessRow {
                api_group: group,
                resource,
                names,
                verbs,
            });
        }
    }
    // A row for some names says something only where the names add verbs.
    let any_name: Vec<AccessRow> = rows
        .iter()
        .filter(|r| r.names.is_empty())
        .cloned()
        .collect();
    rows.retain(|row| {
        row.names.is_empty()
            || !any_name.iter().any(|other| {
                (&other.api_group, &other.resource) == (&row.api_group, &row.resource)
                    && row.verbs.iter().all(|v| other.verbs.contains(v))
            })
    });
    let namespaced_grants_elsewhere = policy
        .bindings_of(identity)
        .filter_map(|b| b.namespace.clone())
        .filter(|b| Some(b.as_str()) != namespace)
        .collect::<std::collections::BTreeSet<_>>()
        .into_iter()
        .map(|n| crate::model::display_ns(&n).to_string())
        .collect();
    AccessMatrix {
        rows,
        namespaced_grants_elsewhere,
    }
}

/// Whether some request can match `group` and `resource` as a rule writes them: `*` alone is
/// a wildcard, and a resource's `*` only before its subresource (`*/scale`). `pods/*` names
/// no subresource any request makes, so a rule granting it grants nothing.
fn can_be_requested(group: &str, resource: &str) -> bool {
    let (resource, subresource) = resource.split_once('/').unwrap_or((resource, ""));
    (group == "*" || !group.contains('*'))
        && (resource == "*" || !resource.contains('*'))
        && !subresource.contains('*')
}

impl AccessRow {
    /// `pods`, `deployments.apps`, `*/scale in every group`, `secrets named db-password`.
    pub fn describe(&self) -> String {
        let mut text = match self.api_group.as_str() {
            "" => self.resource.clone(),
            "*" => format!("{} in every group", self.resource),
            group => format!("{}.{group}", self.resource),
        };
        if !self.names.is_empty() {
            text.push_str(&format!(" named {}", self.names.join(",")));
        }
        text
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use palisade_inventory::{Limits, load_text};

    #[test]
    fn rows_list_allowed_verbs_and_other_namespaces_are_named() {
        let text = "\
apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata: {name: r, namespace: a}
rules:
- {apiGroups: [''], resources: [pods, pods/exec], verbs: [get, create]}
- {apiGroups: [example.com], resources: [widgets], verbs: [list]}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {name: b, namespace: a}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: Role, name: r}
subjects: [{kind: User, name: alice}]
";
        let loaded = load_text("r.yaml", text, &Limits::default());
        let policy = Policy::from_inventory(&loaded.inventory);
        let alice = crate::Subject::User {
            name: "alice".into(),
        }
        .identity();
        let in_a = access_matrix(&policy, &alice, Some("a"));
        let row = |resource: &str| in_a.rows.iter().find(|r| r.resource == resource).cloned();
        assert_eq!(row("pods").unwrap().verbs, ["get", "create"]);
        assert_eq!(row("pods/exec").unwrap().verbs, ["get", "create"]);
        assert_eq!(row("widgets").unwrap().api_group, "example.com");
        assert!(row("secrets").is_none());
        let cluster_wide = access_matrix(&policy, &alice, None);
        assert!(cluster_wide.rows.is_empty());
        assert_eq!(cluster_wide.namespaced_grants_elsewhere, ["a"]);
    }

    /// A subject whose rules use wildcards or names is not a subject without permissions.
    #[test]
    fn wildcards_and_names_have_rows_of_their_own() {
        let text = "\
apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata: {name: r, namespace: a}
rules:
- {apiGroups: ['*'], resources: ['*/scale'], verbs: [update, patch]}
- {apiGroups: [cert-manager.io], resources: ['*'], verbs: [delete]}
- {apiGroups: [''], resources: [secrets], resourceNames: [db-password], verbs: [get]}
- {apiGroups: [''], resources: [configmaps], verbs: [get]}
- {apiGroups: [''], resources: [configmaps], resourceNames: [app], verbs: [get]}
- {apiGroups: [''], resources: ['pods/*'], verbs: [create]}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {name: b, namespace: a}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: Role, name: r}
subjects: [{kind: User, name: bob}]
";
        let loaded = load_text("r.yaml", text, &Limits::default());
        let policy = Policy::from_inventory(&loaded.inventory);
        let bob = crate::Subject::User { name: "bob".into() }.identity();
        let rows: Vec<(String, Vec<&str>)> = access_matrix(&policy, &bob, Some("a"))
            .rows
            .into_iter()
            .map(|r| (r.describe(), r.verbs))
            .collect();
        assert_eq!(
            rows,
            [
                ("configmaps".to_string(), vec!["get"]),
                (
                    "*/scale in every group".to_string(),
                    vec!["update", "patch"]
                ),
                ("*.cert-manager.io".to_string(), vec!["delete"]),
                ("secrets named db-password".to_string(), vec!["get"]),
            ],
            "the named configmap adds nothing to every configmap, and pods/* matches no request"
        );
    }
}
