//! Least-privilege roles from API server audit logs (audit2rbac semantics): the requests a
//! subject made become the minimal Role/ClusterRole rules that allow them, with resource names
//! when every request named one; `diff` lists what is granted today and was never used.

use std::collections::{BTreeMap, BTreeSet};

use crate::authorizer::{Request, rule_allows};
use crate::identity::{Identity, Subject};
use crate::model::{Policy, display_ns};

/// What was read from the logs.
#[derive(Debug, Default)]
pub struct AuditRequests {
    /// Requests of the subject the API server allowed, deduplicated.
    pub requests: BTreeSet<RequestKey>,
    /// Requests of the subject the API server refused (403, or an authorization decision of
    /// `forbid`): never granted unless asked for (`--include-denied`, the workflow of running
    /// with no permissions first and granting what was refused).
    pub denied: BTreeSet<RequestKey>,
    /// Events read in all.
    pub events: usize,
    /// Events of the subject.
    pub matched: usize,
    /// The identities requests were made as, with how many events each: to name the
    /// subjects a log does hold when it holds none of the one asked for.
    pub identities: BTreeMap<String, usize>,
}

/// One audit event as generation reads it; the caller decodes the log.
#[derive(Debug, Clone, Default)]
pub struct SeenRequest<'a> {
    /// `RequestReceived`, `ResponseStarted`, `ResponseComplete`, `Panic`, or empty.
    pub stage: &'a str,
    /// Who authenticated (`user.username`).
    pub user: &'a str,
    /// Who the request was made as when impersonated (`impersonatedUser`): name and groups.
    pub impersonated: Option<(&'a str, Vec<String>)>,
    pub verb: &'a str,
    pub namespace: Option<&'a str>,
    pub api_group: &'a str,
    pub resource: &'a str,
    pub subresource: &'a str,
    pub name: Option<&'a str>,
    /// The request's path without its query (read for non-resource requests).
    pub path: &'a str,
    /// The API server refused it: a 403, or the authorizer's `forbid`.
    pub refused: bool,
}

/// A request, reduced to what authorization looks at.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct RequestKey {
    pub namespace: Option<String>,
    pub api_group: String,
    pub resource: String,
    pub subresource: String,
    pub name: Option<String>,
    pub verb: String,
    pub non_resource_url: Option<String>,
}

impl RequestKey {
    /// `delete secrets in app`, `get /metrics`.
    pub fn describe(&self) -> String {
        if let Some(url) = &self.non_resource_url {
            return format!("{} {url}", self.verb);
        }
        let mut resource = self.resource.clone();
        if !self.api_group.is_empty() {
            resource = format!("{resource}.{}", self.api_group);
        }
        if !self.subresource.is_empty() {
            resource = format!("{resource}/{}", self.subresource);
        }
        let name = self
            .name
            .as_deref()
            .map(|n| format!(" {n}"))
            .unwrap_or_default();
        match &self.namespace {
            Some(ns) => format!("{} {resource}{name} in {ns}", self.verb),
            None => format!("{} {resource}{name} (cluster-wide)", self.verb),
        }
    }

    /// The key of `request`.
    pub fn of(request: &Request) -> RequestKey {
        RequestKey {
            namespace: request.namespace.clone(),
            api_group: request.api_group.clone(),
            resource: request.resource.clone(),
            subresource: request.subresource.clone(),
            name: request.name.clone(),
            verb: request.verb.clone(),
            non_resource_url: request.non_resource_url.clone(),
        }
    }

    pub fn to_request(&self) -> Request {
        Request {
            verb: self.verb.clone(),
            api_group: self.api_group.clone(),
            resource: self.resource.clone(),
            subresource: self.subresource.clone(),
            name: self.name.clone(),
            namespace: self.namespace.clone(),
            non_resource_url: self.non_resource_url.clone(),
        }
    }
}

impl AuditRequests {
    /// Counts `seen` if `identity` made it or, impersonating another identity, had it made.
    /// An impersonated request is authorized as the identity impersonated: it counts for that
    /// identity, and the impersonator needs only `impersonate` on it (its user or service
    /// account, and the groups asked for). The `RequestReceived` stage is left out: its
    /// outcome is not known yet, and a later stage of the same request says it.
    pub fn take(&mut self, seen: &SeenRequest, identity: &Identity) {
        self.events += 1;
        if seen.stage == "RequestReceived" {
            return;
        }
        let acting = seen
            .impersonated
            .as_ref()
            .map_or(seen.user, |(name, _)| name);
        *self.identities.entry(acting.to_string()).or_default() += 1;
        let mut keys = Vec::new();
        if acting == identity.user {
            keys.extend(request_key(seen));
        }
        if let Some((name, groups)) = &seen.impersonated
            && seen.user == identity.user
        {
            keys.extend(impersonation_keys(name, groups));
        }
        if keys.is_empty() {
            return;
        }
        self.matched += 1;
        let into = if seen.refused {
            &mut self.denied
        } else {
            &mut self.requests
        };
        into.extend(keys);
    }

    /// Counts the refused requests as made, so the generated roles grant them too.
    pub fn include_denied(&mut self) {
        let denied = std::mem::take(&mut self.denied);
        self.requests.extend(denied);
    }
}

/// The request `seen` is, reduced to what authorization looks at; `None` for one that names
/// neither a resource nor a path.
fn request_key(seen: &SeenRequest) -> Option<RequestKey> {
    let verb = seen.verb.to_string();
    let key = if seen.resource.is_empty() {
        RequestKey {
            namespace: None,
            api_group: String::new(),
            resource: String::new(),
            subresource: String::new(),
            name: None,
            verb,
            non_resource_url: Some(seen.path.to_string()).filter(|p| !p.is_empty()),
        }
    } else {
        RequestKey {
            namespace: seen.namespace.filter(|n| !n.is_empty()).map(str::to_string),
            api_group: seen.api_group.to_string(),
            resource: seen.resource.to_string(),
            subresource: seen.subresource.to_string(),
            name: seen.name.filter(|n| !n.is_empty()).map(str::to_string),
            verb,
            non_resource_url: None,
        }
    };
    (!key.resource.is_empty() || key.non_resource_url.is_some()).then_some(key)
}

/// What impersonating `name` with `groups` is authorized as ([`Request::impersonating`]: the
/// service account in its namespace, or the user, and each group asked for). The groups the
/// API server adds itself (`system:authenticated`; a service account's own) need no
/// permission.
fn impersonation_keys(name: &str, groups: &[String]) -> Vec<RequestKey> {
    let subject = Subject::of_username(name);
    let implicit = subject.identity().groups;
    let asked = groups
        .iter()
        .filter(|g| !implicit.contains(g))
        .map(|g| Subject::Group { name: g.clone() });
    std::iter::once(subject)
        .chain(asked)
        .filter_map(|s| Request::impersonating(&s))
        .map(|request| RequestKey::of(&request))
        .collect()
}

/// One generated rule.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, serde::Serialize)]
pub struct GeneratedRule {
    #[serde(rename = "apiGroup")]
    pub api_group: String,
    pub resource: String,
    #[serde(rename = "resourceNames")]
    pub names: Vec<String>,
    pub verbs: Vec<String>,
    #[serde(rename = "nonResourceURL")]
    pub non_resource_url: Option<String>,
}

/// `(group, resource) -> verb -> names`; `None` when some request had no name.
type ByResource = BTreeMap<(String, String), BTreeMap<String, Option<BTreeSet<String>>>>;

/// Verbs that never carry a name.
const UNNAMED_VERBS: &[&str] = &["list", "watch", "create", "deletecollection"];

/// The minimal rules per scope (`None`: the ClusterRole, for cluster-scoped resources,
/// requests across namespaces and non-resource URLs).
pub fn generate(requests: &AuditRequests) -> BTreeMap<Option<String>, Vec<GeneratedRule>> {
    let mut by_scope: BTreeMap<Option<String>, ByResource> = BTreeMap::new();
    let mut urls: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for r in &requests.requests {
        if let Some(url) = &r.non_resource_url {
            urls.entry(url.clone()).or_default().insert(r.verb.clone());
            continue;
        }
        let resource = if r.subresource.is_empty() {
            r.resource.clone()
        } else {
            format!("{}/{}", r.resource, r.subresource)
        };
        let entry = by_scope
            .entry(r.namespace.clone())
            .or_default()
            .entry((r.api_group.clone(), resource))
            .or_default()
            .entry(r.verb.clone())
            .or_insert_with(|| Some(BTreeSet::new()));
        match (&r.name, entry.as_mut()) {
            (Some(name), Some(names)) if !UNNAMED_VERBS.contains(&r.verb.as_str()) => {
                names.insert(name.clone());
            }
            _ => *entry = None,
        }
    }
    let mut out: BTreeMap<Option<String>, Vec<GeneratedRule>> = BTreeMap::new();
    for (scope, resources) in by_scope {
        let rules = out.entry(scope).or_default();
        for ((group, resource), verbs) in resources {
            // Verbs with the same names (or all without names) share a rule.
            let mut merged: BTreeMap<Vec<String>, Vec<String>> = BTreeMap::new();
            for (verb, names) in verbs {
                merged
                    .entry(names.map(|n| n.into_iter().collect()).unwrap_or_default())
                    .or_default()
                    .push(verb);
            }
            for (names, verbs) in merged {
                rules.push(GeneratedRule {
                    api_group: group.clone(),
                    resource: resource.clone(),
                    names,
                    verbs,
                    non_resource_url: None,
                });
            }
        }
    }
    for (url, verbs) in urls {
        out.entry(None).or_default().push(GeneratedRule {
            api_group: String::new(),
            resource: String::new(),
            names: Vec::new(),
            verbs: verbs.into_iter().collect(),
            non_resource_url: Some(url),
        });
    }
    out
}

fn quoted(items: &[String]) -> String {
    items
        .iter()
        .map(|i| format!("\"{i}\""))
        .collect::<Vec<_>>()
        .join(", ")
}

/// The generated roles and bindings as YAML for `kubectl apply`.
pub fn to_yaml(
    subject: &Subject,
    rules: &BTreeMap<Option<String>, Vec<GeneratedRule>>,
    name: &str,
) -> String {
    let subject_yaml = match subject {
        Subject::User { name } => {
            format!("- kind: User\n  apiGroup: rbac.authorization.k8s.io\n  name: \"{name}\"")
        }
        Subject::Group { name } => {
            format!("- kind: Group\n  apiGroup: rbac.authorization.k8s.io\n  name: \"{name}\"")
        }
        Subject::ServiceAccount { namespace, name } => {
            format!("- kind: ServiceAccount\n  name: \"{name}\"\n  namespace: \"{namespace}\"")
        }
    };
    let mut out = String::new();
    for (scope, rules) in rules {
        let (role_kind, binding_kind, meta) = match scope {
            Some(ns) => (
                "Role",
                "RoleBinding",
                format!("  name: {name}\n  namespace: {ns}\n"),
            ),
            None => (
                "ClusterRole",
                "ClusterRoleBinding",
                format!("  name: {name}\n"),
            ),
        };
        out.push_str(&format!("---\napiVersion: rbac.authorization.k8s.io/v1\nkind: {role_kind}\nmetadata:\n{meta}  labels:\n    generated-by: palisade-rbac-generate\nrules:\n"));
        for rule in rules {
            match &rule.non_resource_url {
                Some(url) => out.push_str(&format!(
                    "- nonResourceURLs: [\"{url}\"]\n  verbs: [{}]\n",
                    quoted(&rule.verbs)
                )),
                None => {
                    out.push_str(&format!(
                        "- apiGroups: [\"{}\"]\n  resources: [\"{}\"]\n",
                        rule.api_group, rule.resource
                    ));
                    if !rule.names.is_empty() {
                        out.push_str(&format!("  resourceNames: [{}]\n", quoted(&rule.names)));
                    }
                    out.push_str(&format!("  verbs: [{}]\n", quoted(&rule.verbs)));
                }
            }
        }
        out.push_str(&format!(
            "---\napiVersion: rbac.authorization.k8s.io/v1\nkind: {binding_kind}\nmetadata:\n{meta}roleRef:\n  apiGroup: rbac.authorization.k8s.io\n  kind: {role_kind}\n  name: {name}\nsubjects:\n{subject_yaml}\n"
        ));
    }
    out
}

/// A granted rule and what of it the logs used.
#[derive(Debug, Clone, serde::Serialize)]
pub struct RuleUse {
    #[serde(rename = "granted_by")]
    pub evidence: String,
    /// `verb resource` pairs the rule grants that no logged request used (wildcards are
    /// reported as such).
    pub unused: Vec<String>,
    #[serde(rename = "requests_using_it")]
    pub used: usize,
}

/// For each rule granted to `identity` today: which of its verbs and resources the logged
/// requests used.
pub fn diff(policy: &Policy, identity: &Identity, requests: &AuditRequests) -> Vec<RuleUse> {
    let mut out = Vec::new();
    for (b, binding) in policy.bindings.iter().enumerate() {
        if !binding.applies_to(identity) {
            continue;
        }
        let Some(r) = binding.role else { continue };
        for rule in &policy.roles[r].rules {
            let in_scope: Vec<&RequestKey> = requests
                .requests
                .iter()
                .filter(|k| Policy::binding_in_scope(binding, &k.to_request()))
                .collect();
            let used = in_scope
                .iter()
                .filter(|k| rule_allows(rule, &k.to_request()))
                .count();
            let mut unused = Vec::new();
            let resources: Vec<String> = if rule.non_resource_urls.is_empty() {
                rule.resources.clone()
            } else {
                rule.non_resource_urls.clone()
            };
            for verb in &rule.verbs {
                for resource in &resources {
                    if verb == "*" || resource == "*" {
                        // A wildcard is always more than what was used: say what was.
                        unused.push(format!(
                            "{verb} {resource} (wildcard; the logs used it for {used} request kinds)"
                        ));
                        continue;
                    }
                    let covered = in_scope.iter().any(|k| {
                        let req = k.to_request();
                        (verb == "*" || *verb == req.verb)
                            && (resource == "*"
                                || *resource == req.combined_resource()
                                || req.non_resource_url.as_deref() == Some(resource.as_str()))
                            && rule_allows(rule, &req)
                    });
                    if !covered {
                        unused.push(format!("{verb} {resource}"));
                    }
                }
            }
            let grant = crate::authorizer::Grant {
                binding: b,
                role: r,
                rule: rule.index,
            };
            out.push(RuleUse {
                evidence: policy.evidence(&grant),
                unused,
                used,
            });
        }
    }
    out
}

/// `namespace` for display.
pub fn scope_name(scope: &Option<String>) -> String {
    match scope {
        Some(ns) => display_ns(ns).to_string(),
        None => "cluster".to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A resource request as an audit event shows it.
    fn seen<'a>(
        user: &'a str,
        verb: &'a str,
        resource: &'a str,
        namespace: &'a str,
        name: &'a str,
    ) -> SeenRequest<'a> {
        SeenRequest {
            stage: "ResponseComplete",
            user,
            verb,
            resource,
            namespace: Some(namespace),
            name: Some(name),
            ..SeenRequest::default()
        }
    }

    #[test]
    fn refused_requests_are_kept_apart() {
        let identity = Subject::parse("user:alice").unwrap().identity();
        let mut read = AuditRequests::default();
        read.take(&seen("alice", "get", "pods", "app", ""), &identity);
        let refused = SeenRequest {
            refused: true,
            ..seen("alice", "delete", "secrets", "app", "")
        };
        read.take(&refused, &identity);
        assert_eq!(read.requests.len(), 1);
        assert_eq!(read.denied.len(), 1);
        assert_eq!(read.denied.iter().next().unwrap().resource, "secrets");
        read.include_denied();
        assert_eq!(read.requests.len(), 2);
    }

    /// An impersonated request is authorized as the identity impersonated: it is that
    /// identity's, and the impersonator is granted only `impersonate` (never the request).
    #[test]
    fn an_impersonated_request_counts_for_the_identity_impersonated() {
        let account = "system:serviceaccount:prod:admin";
        let impersonated = SeenRequest {
            impersonated: Some((
                account,
                vec![
                    "system:serviceaccounts".into(),
                    "system:serviceaccounts:prod".into(),
                    "system:authenticated".into(),
                ],
            )),
            ..seen("alice", "list", "secrets", "prod", "")
        };
        let as_user = SeenRequest {
            impersonated: Some(("bob", vec!["ops".into(), "system:authenticated".into()])),
            ..seen("alice", "get", "nodes", "", "node-1")
        };
        let alice = Subject::parse("user:alice").unwrap().identity();
        let mut read = AuditRequests::default();
        read.take(&impersonated, &alice);
        read.take(&as_user, &alice);
        let granted: Vec<String> = read.requests.iter().map(RequestKey::describe).collect();
        assert_eq!(
            granted,
            [
                "impersonate groups ops (cluster-wide)",
                "impersonate users bob (cluster-wide)",
                "impersonate serviceaccounts admin in prod",
            ],
            "{:?}",
            read.requests
        );
        let admin = Subject::service_account("prod", "admin").identity();
        let mut read = AuditRequests::default();
        read.take(&impersonated, &admin);
        read.take(&as_user, &admin);
        let granted: Vec<String> = read.requests.iter().map(RequestKey::describe).collect();
        assert_eq!(granted, ["list secrets in prod"]);
        assert_eq!(read.identities.get(account), Some(&1));
    }

    #[test]
    fn generates_minimal_rules_with_consistent_names() {
        let user = "system:serviceaccount:shop:api";
        let received = SeenRequest {
            stage: "RequestReceived",
            ..seen(user, "delete", "secrets", "shop", "")
        };
        let events = [
            seen(user, "get", "configmaps", "shop", "app-config"),
            seen(user, "update", "configmaps", "shop", "app-config"),
            seen(user, "list", "pods", "shop", ""),
            seen(user, "get", "pods", "shop", "web-1"),
            seen("someone-else", "delete", "secrets", "shop", "x"),
            seen(user, "get", "nodes", "", "node-1"),
            received,
        ];
        let identity = Subject::service_account("shop", "api").identity();
        let mut requests = AuditRequests::default();
        for event in &events {
            requests.take(event, &identity);
        }
        assert_eq!(
            requests.matched, 5,
            "the other user and the RequestReceived stage are left out"
        );
        let rules = generate(&requests);
        let shop = &rules[&Some("shop".to_string())];
        let configmaps = shop.iter().find(|r| r.resource == "configmaps").unwrap();
        assert_eq!(configmaps.names, ["app-config"]);
        assert_eq!(configmaps.verbs, ["get", "update"]);
        let pods: Vec<&GeneratedRule> = shop.iter().filter(|r| r.resource == "pods").collect();
        assert!(
            pods.iter()
                .any(|r| r.verbs == ["list"] && r.names.is_empty())
        );
        assert!(
            pods.iter()
                .any(|r| r.verbs == ["get"] && r.names == ["web-1"])
        );
        assert_eq!(rules[&None][0].resource, "nodes");
        let yaml = to_yaml(
            &Subject::service_account("shop", "api"),
            &rules,
            "api-least-privilege",
        );
        assert!(
            yaml.contains("kind: Role\n") && yaml.contains("kind: ClusterRoleBinding"),
            "{yaml}"
        );
        let loaded = palisade_inventory::load_text(
            "gen.yaml",
            &yaml,
            &palisade_inventory::Limits::default(),
        );
        assert!(
            loaded.diagnostics.is_empty(),
            "generated YAML parses: {:?}",
            loaded.diagnostics
        );
        // What is generated allows every logged request, and nothing is unused.
        let policy = Policy::from_inventory(&loaded.inventory);
        for r in &requests.requests {
            assert!(
                !policy.authorize(&identity, &r.to_request()).is_empty(),
                "{r:?}"
            );
        }
        assert!(
            diff(&policy, &identity, &requests)
                .iter()
                .all(|u| u.unused.is_empty())
        );
    }
}
