//! A subject's effective permissions as a matrix of resources and verbs
//! (`palisade rbac access`): the common resources, plus every resource the subject's roles
//! name, each with the verbs the authorizer allows.

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
    #[serde(rename = "apiGroup")]
    pub api_group: String,
    pub resource: String,
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
    let mut resources: Vec<(String, String)> = MATRIX
        .iter()
        .map(|(g, r)| (g.to_string(), r.to_string()))
        .collect();
    for binding in policy.bindings_of(identity) {
        for rule in policy
            .role_of(binding)
            .map(|r| r.rules.as_slice())
            .unwrap_or(&[])
        {
            for group in &rule.api_groups {
                for resource in &rule.resources {
                    if group != "*"
                        && resource != "*"
                        && !resources.contains(&(group.clone(), resource.clone()))
                    {
                        resources.push((group.clone(), resource.clone()));
                    }
                }
            }
        }
    }
    let mut rows = Vec::new();
    for (group, resource) in &resources {
        let verbs: Vec<&'static str> = COMMON_VERBS
            .iter()
            .chain(SPECIAL_VERBS)
            .copied()
            .filter(|verb| {
                let request = Request::resource(verb, group, resource, namespace);
                !policy.authorize(identity, &request).is_empty()
            })
            .collect();
        if !verbs.is_empty() {
            rows.push(AccessRow {
                api_group: group.clone(),
                resource: resource.clone(),
                verbs,
            });
        }
    }
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
}
