//! The RBAC authorizer's decision, rule by rule, as `k8s.io/kubernetes/plugin/pkg/auth/
//! authorizer/rbac` computes it, with the evidence (binding, role, rule) for every grant.

use serde::Serialize;

use crate::identity::{Identity, Subject};
use crate::model::{Binding, Policy, PolicyRule, Role};

/// One API request.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Request {
    pub verb: String,
    /// API group; `""` is the core group.
    pub api_group: String,
    pub resource: String,
    pub subresource: String,
    /// Object name, when the request names one (`get`, `update`, ...).
    pub name: Option<String>,
    /// The namespace, or `None` for cluster-scoped resources and requests across all namespaces.
    pub namespace: Option<String>,
    /// For non-resource requests (`/metrics`, `/healthz`): the path.
    pub non_resource_url: Option<String>,
}

impl Request {
    /// The request that impersonating `subject` is authorized as: `impersonate` on the service
    /// account in its namespace, the user, or the group. `None` for the groups everyone is in,
    /// which the API server adds itself.
    pub fn impersonating(subject: &Subject) -> Option<Request> {
        let (resource, namespace, name) = match subject {
            Subject::User { name } => ("users", None, name),
            Subject::ServiceAccount { namespace, name } => {
                ("serviceaccounts", Some(namespace.clone()), name)
            }
            Subject::Group { name }
                if name == "system:authenticated" || name == "system:unauthenticated" =>
            {
                return None;
            }
            Subject::Group { name } => ("groups", None, name),
        };
        Some(Request {
            verb: "impersonate".into(),
            resource: resource.into(),
            name: Some(name.clone()),
            namespace,
            ..Request::default()
        })
    }

    /// A resource request; `resource` may be `pods/exec`.
    pub fn resource(
        verb: &str,
        api_group: &str,
        resource: &str,
        namespace: Option<&str>,
    ) -> Request {
        let (resource, subresource) = resource.split_once('/').unwrap_or((resource, ""));
        Request {
            verb: verb.into(),
            api_group: api_group.into(),
            resource: resource.into(),
            subresource: subresource.into(),
            namespace: namespace.map(str::to_string),
            ..Request::default()
        }
    }

    /// Whether the request could name one object, so that a rule limited by `resourceNames`
    /// might allow it: a resource request of any verb but `create` and `deletecollection`,
    /// whose requests carry no name (`list` and `watch` name one through a `metadata.name`
    /// field selector).
    pub fn may_name_one(&self) -> bool {
        self.non_resource_url.is_none()
            && !matches!(self.verb.as_str(), "create" | "deletecollection")
    }

    pub fn named(mut self, name: &str) -> Request {
        self.name = Some(name.into());
        self
    }

    /// `resource` or `resource/subresource`.
    pub fn combined_resource(&self) -> String {
        if self.subresource.is_empty() {
            self.resource.clone()
        } else {
            format!("{}/{}", self.resource, self.subresource)
        }
    }
}

/// Evidence that a binding's role grants a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Grant {
    /// Index into [`Policy::bindings`].
    pub binding: usize,
    /// Index into [`Policy::roles`].
    pub role: usize,
    /// Index into the role's rules.
    pub rule: usize,
}

fn matches_any(list: &[String], value: &str) -> bool {
    list.iter().any(|item| item == "*" || item == value)
}

/// `ResourceMatches`: `*`, the exact `resource[/subresource]`, or `*/subresource`. Note that
/// `pods` does not cover `pods/exec`, and `pods/*` is not a wildcard.
pub fn resource_matches(rule: &PolicyRule, combined: &str, subresource: &str) -> bool {
    rule.resources.iter().any(|r| {
        r == "*"
            || r == combined
            || (!subresource.is_empty() && r.strip_prefix("*/") == Some(subresource))
    })
}

/// `NonResourceURLMatches`: `*`, exact, or a prefix ending in `*`.
pub fn non_resource_url_matches(rule: &PolicyRule, url: &str) -> bool {
    rule.non_resource_urls.iter().any(|u| {
        u == "*"
            || u == url
            || u.strip_suffix('*')
                .is_some_and(|prefix| url.starts_with(prefix))
    })
}

/// Whether `rule` allows `request` (`RuleAllows`).
pub fn rule_allows(rule: &PolicyRule, request: &Request) -> bool {
    if !matches_any(&rule.verbs, &request.verb) {
        return false;
    }
    if let Some(url) = &request.non_resource_url {
        return non_resource_url_matches(rule, url);
    }
    if !matches_any(&rule.api_groups, &request.api_group)
        || !resource_matches(rule, &request.combined_resource(), &request.subresource)
    {
        return false;
    }
    rule.resource_names.is_empty()
        || request
            .name
            .as_ref()
            .is_some_and(|name| rule.resource_names.iter().any(|n| n == name))
}

impl Policy {
    /// The role a binding grants, if it exists.
    pub fn role_of(&self, binding: &Binding) -> Option<&Role> {
        binding.role.map(|i| &self.roles[i])
    }

    /// Whether `binding` can apply to `request` by scope: ClusterRoleBindings everywhere,
    /// RoleBindings only to requests in their namespace, and never to non-resource URLs or
    /// cluster-wide requests.
    pub fn binding_in_scope(binding: &Binding, request: &Request) -> bool {
        match &binding.namespace {
            None => true,
            Some(ns) => {
                request.non_resource_url.is_none() && request.namespace.as_deref() == Some(ns)
            }
        }
    }

    /// Every (binding, role, rule) that grants `request` to whoever the binding names.
    pub fn grants_for(&self, request: &Request) -> Vec<Grant> {
        self.grants_where(request, |rule| rule_allows(rule, request))
    }

    /// For a request that names no object: every (binding, role, rule) limited by
    /// `resourceNames` that grants it for one of those names. Such a grant does not allow the
    /// request as asked, but it does allow the same request of a named object (`get` of the
    /// Secret `db-password`). Empty when the request names an object or cannot name one.
    pub fn grants_for_some_names(&self, request: &Request) -> Vec<Grant> {
        if request.name.is_some() || !request.may_name_one() {
            return Vec::new();
        }
        self.grants_where(request, |rule| {
            rule.resource_names
                .first()
                .is_some_and(|name| rule_allows(rule, &request.clone().named(name)))
        })
    }

    /// The rule of each binding in scope for `request` that `allows`.
    fn grants_where(&self, request: &Request, allows: impl Fn(&PolicyRule) -> bool) -> Vec<Grant> {
        let mut grants = Vec::new();
        for (b, binding) in self.bindings.iter().enumerate() {
            if !Policy::binding_in_scope(binding, request) {
                continue;
            }
            let Some(r) = binding.role else { continue };
            for rule in &self.roles[r].rules {
                if allows(rule) {
                    grants.push(Grant {
                        binding: b,
                        role: r,
                        rule: rule.index,
                    });
                }
            }
        }
        grants
    }

    /// The grants that let `identity` make `request`; empty means RBAC denies it.
    pub fn authorize(&self, identity: &Identity, request: &Request) -> Vec<Grant> {
        self.grants_for(request)
            .into_iter()
            .filter(|g| self.bindings[g.binding].applies_to(identity))
            .collect()
    }

    /// The rule a grant points at.
    pub fn rule(&self, grant: &Grant) -> &PolicyRule {
        &self.roles[grant.role].rules[grant.rule]
    }

    /// `binding → role → rule` for messages.
    pub fn evidence(&self, grant: &Grant) -> String {
        let binding = &self.bindings[grant.binding];
        let role = &self.roles[grant.role];
        format!(
            "{} → {} rule {} ({})",
            binding.describe(),
            role.describe(),
            grant.rule + 1,
            self.rule(grant).describe()
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::identity::Subject;
    use palisade_inventory::{Limits, load_text};

    fn policy(yaml: &str) -> Policy {
        let loaded = load_text("test.yaml", yaml, &Limits::default());
        assert!(loaded.diagnostics.is_empty(), "{:?}", loaded.diagnostics);
        Policy::from_inventory(&loaded.inventory)
    }

    const BASE: &str = r#"
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata: {name: pod-reader}
rules:
- {apiGroups: [""], resources: ["pods"], verbs: ["get", "list"]}
- {apiGroups: [""], resources: ["*/log"], verbs: ["get"]}
- {apiGroups: [""], resources: ["configmaps"], resourceNames: ["app-config"], verbs: ["get", "list"]}
- {nonResourceURLs: ["/metrics", "/logs/*"], verbs: ["get"]}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {name: read-pods, namespace: shop}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: pod-reader}
subjects:
- {kind: ServiceAccount, name: web}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata: {name: metrics}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: pod-reader}
subjects:
- {kind: Group, name: monitoring}
"#;

    #[test]
    fn role_binding_to_a_cluster_role_grants_only_in_its_namespace() {
        let p = policy(BASE);
        let web = Subject::service_account("shop", "web").identity();
        assert!(
            !p.authorize(&web, &Request::resource("list", "", "pods", Some("shop")))
                .is_empty()
        );
        assert!(
            p.authorize(&web, &Request::resource("list", "", "pods", Some("ops")))
                .is_empty()
        );
        assert!(
            p.authorize(&web, &Request::resource("list", "", "pods", None))
                .is_empty(),
            "not across namespaces"
        );
        // The subject's namespace defaulted to the binding's.
        let other = Subject::service_account("ops", "web").identity();
        assert!(
            p.authorize(&other, &Request::resource("list", "", "pods", Some("shop")))
                .is_empty()
        );
    }

    #[test]
    fn subresources_need_their_own_grant_or_a_star_prefix() {
        let p = policy(BASE);
        let web = Subject::service_account("shop", "web").identity();
        assert!(
            p.authorize(
                &web,
                &Request::resource("get", "", "pods/exec", Some("shop"))
            )
            .is_empty(),
            "pods does not cover pods/exec"
        );
        assert!(
            !p.authorize(
                &web,
                &Request::resource("get", "", "pods/log", Some("shop"))
            )
            .is_empty(),
            "*/log covers pods/log"
        );
        assert!(
            !p.authorize(
                &web,
                &Request::resource("get", "", "services/log", Some("shop"))
            )
            .is_empty()
        );
    }

    #[test]
    fn resource_names_restrict_named_requests_and_never_allow_list() {
        let p = policy(BASE);
        let web = Subject::service_account("shop", "web").identity();
        let get = |name: &str| Request::resource("get", "", "configmaps", Some("shop")).named(name);
        assert!(!p.authorize(&web, &get("app-config")).is_empty());
        assert!(p.authorize(&web, &get("other")).is_empty());
        assert!(
            p.authorize(
                &web,
                &Request::resource("list", "", "configmaps", Some("shop"))
            )
            .is_empty(),
            "list has no name"
        );
    }

    #[test]
    fn non_resource_urls_only_through_cluster_role_bindings() {
        let p = policy(BASE);
        let url = |path: &str| Request {
            verb: "get".into(),
            non_resource_url: Some(path.into()),
            ..Request::default()
        };
        let member = Identity {
            user: "prometheus".into(),
            groups: vec!["monitoring".into()],
        };
        assert!(!p.authorize(&member, &url("/metrics")).is_empty());
        assert!(
            !p.authorize(&member, &url("/logs/kubelet.log")).is_empty(),
            "prefix with *"
        );
        assert!(p.authorize(&member, &url("/healthz")).is_empty());
        let web = Subject::service_account("shop", "web").identity();
        assert!(
            p.authorize(&web, &url("/metrics")).is_empty(),
            "RoleBindings never grant URLs"
        );
    }

    #[test]
    fn aggregation_collects_matching_cluster_roles_transitively() {
        let p = policy(
            r#"
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata: {name: monitoring}
aggregationRule:
  clusterRoleSelectors:
  - matchLabels: {rbac.example.com/aggregate-to-monitoring: "true"}
rules: []
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata: {name: middle, labels: {rbac.example.com/aggregate-to-monitoring: "true"}}
aggregationRule:
  clusterRoleSelectors:
  - matchLabels: {rbac.example.com/aggregate-to-middle: "true"}
rules: []
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata: {name: leaf, labels: {rbac.example.com/aggregate-to-middle: "true"}}
rules:
- {apiGroups: [""], resources: ["secrets"], verbs: ["get"]}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata: {name: mon}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: monitoring}
subjects: [{kind: User, name: alice}]
"#,
        );
        let alice = Subject::User {
            name: "alice".into(),
        }
        .identity();
        let grants = p.authorize(&alice, &Request::resource("get", "", "secrets", Some("x")));
        assert_eq!(grants.len(), 1);
        assert_eq!(p.rule(&grants[0]).aggregated_from.as_deref(), Some("leaf"));
    }

    #[test]
    fn dangling_bindings_grant_nothing_and_implicit_groups_apply() {
        let p = policy(
            r#"
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata: {name: ghost}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: does-not-exist}
subjects: [{kind: Group, name: "system:authenticated"}]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata: {name: everything}
rules: [{apiGroups: ["*"], resources: ["*"], verbs: ["*"]}]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {name: all-sas, namespace: ops}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: everything}
subjects: [{kind: Group, name: "system:serviceaccounts:ops"}]
"#,
        );
        assert_eq!(p.bindings[0].role, None);
        let sa = Subject::service_account("ops", "any").identity();
        assert!(
            !p.authorize(
                &sa,
                &Request::resource("delete", "apps", "deployments", Some("ops"))
            )
            .is_empty()
        );
        let other = Subject::service_account("shop", "any").identity();
        assert!(
            p.authorize(
                &other,
                &Request::resource("delete", "apps", "deployments", Some("ops"))
            )
            .is_empty()
        );
    }
}
