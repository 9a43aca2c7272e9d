//! Least-privilege roles from API server audit logs (audit2rbac semantics): the requests a
//! subject made become the minimal Role/ClusterRole rules that allow them, with resource names
//! when every request named one; `diff` lists what is granted today and was never used.

use std::collections::{BTreeMap, BTreeSet};
use std::io::BufRead;

use palisade_core::tree::Tree as _;
use serde_json::Value;

use crate::authorizer::{Request, rule_allows};
use crate::identity::{Identity, Subject};
use crate::model::{Policy, display_ns};

/// A log that could not be read, with the line.
#[derive(Debug, thiserror::Error)]
pub enum AuditError {
    /// The file could not be read; the cause is the source, printed once.
    #[error("{path}")]
    Io {
        path: String,
        #[source]
        source: std::io::Error,
    },
}

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
    /// `file:line: problem` for lines that are not audit events.
    pub problems: Vec<String>,
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

/// Reads audit events (`audit.k8s.io/v1` Event per line, or an `EventList` document) and keeps
/// those of `identity` at stage `ResponseComplete` (or without a stage).
pub fn read_logs(
    paths: &[std::path::PathBuf],
    identity: &Identity,
) -> Result<AuditRequests, AuditError> {
    let mut out = AuditRequests::default();
    for path in paths {
        let display = path.display().to_string();
        let file = std::fs::File::open(path).map_err(|source| AuditError::Io {
            path: display.clone(),
            source,
        })?;
        let reader = std::io::BufReader::new(file);
        let mut whole = String::new();
        let mut line_events = 0usize;
        for (number, line) in reader.lines().enumerate() {
            let line = line.map_err(|source| AuditError::Io {
                path: display.clone(),
                source,
            })?;
            let trimmed = line.trim();
            if trimmed.is_empty() {
                continue;
            }
            match serde_json::from_str::<Value>(trimmed) {
                Ok(event) if event.get("kind").and_then(Value::as_str) == Some("Event") => {
                    line_events += 1;
                    out.take(&event, identity);
                }
                _ => {
                    whole.push_str(&line);
                    whole.push('\n');
                    if line_events > 0 {
                        out.problems
                            .push(format!("{display}:{}: not an audit event", number + 1));
                    }
                }
            }
        }
        if line_events == 0 && !whole.trim().is_empty() {
            match serde_json::from_str::<Value>(&whole) {
                Ok(list) if list.get("items").is_some_and(Value::is_array) => {
                    for event in list["items"].as_array().into_iter().flatten() {
                        out.take(event, identity);
                    }
                }
                _ => out.problems.push(format!(
                    "{display}: neither audit events (one JSON object per line) nor an EventList"
                )),
            }
        }
    }
    Ok(out)
}

impl AuditRequests {
    fn take(&mut self, event: &Value, identity: &Identity) {
        self.events += 1;
        if event
            .get("stage")
            .and_then(Value::as_str)
            .is_some_and(|s| s != "ResponseComplete")
        {
            return;
        }
        if event.at("/user/username").and_then(Value::as_str) != Some(identity.user.as_str()) {
            return;
        }
        self.matched += 1;
        let verb = event
            .get("verb")
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_string();
        let key = match event.get("objectRef") {
            Some(object) => {
                let text = |field: &str| {
                    object
                        .get(field)
                        .and_then(Value::as_str)
                        .map(str::to_string)
                };
                RequestKey {
                    namespace: text("namespace").filter(|n| !n.is_empty()),
                    api_group: text("apiGroup").unwrap_or_default(),
                    resource: text("resource").unwrap_or_default(),
                    subresource: text("subresource").unwrap_or_default(),
                    name: text("name").filter(|n| !n.is_empty()),
                    verb,
                    non_resource_url: None,
                }
            }
            None => RequestKey {
                namespace: None,
                api_group: String::new(),
                resource: String::new(),
                subresource: String::new(),
                name: None,
                verb,
                non_resource_url: event
                    .get("requestURI")
                    .and_then(Value::as_str)
                    .map(|u| u.split('?').next().unwrap_or(u).to_string()),
            },
        };
        if key.resource.is_empty() && key.non_resource_url.is_none() {
            return;
        }
        if refused(event) {
            self.denied.insert(key);
        } else {
            self.requests.insert(key);
        }
    }

    /// Counts the refused requests as made, so the generated roles grant them too.
    pub fn include_denied(&mut self) {
        let denied = std::mem::take(&mut self.denied);
        self.requests.extend(denied);
    }
}

/// Whether the API server refused the request: a 403 response, or the authorizer's
/// `forbid` decision in the event's annotations.
fn refused(event: &Value) -> bool {
    event.at("/responseStatus/code").and_then(Value::as_i64) == Some(403)
        || event
            .at("/annotations/authorization.k8s.io~1decision")
            .and_then(Value::as_str)
            == Some("forbid")
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

    #[test]
    fn refused_requests_are_kept_apart() {
        let dir =
            std::env::temp_dir().join(format!("palisade-audit-refused-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let log = dir.join("audit.log");
        let event = |verb: &str, resource: &str, code: i64| {
            format!(
                "{{\"kind\":\"Event\",\"stage\":\"ResponseComplete\",\"verb\":\"{verb}\",\"user\":{{\"username\":\"alice\"}},\"objectRef\":{{\"resource\":\"{resource}\",\"namespace\":\"app\"}},\"responseStatus\":{{\"code\":{code}}}}}\n"
            )
        };
        std::fs::write(
            &log,
            event("get", "pods", 200) + &event("delete", "secrets", 403),
        )
        .unwrap();
        let identity = Subject::parse("user:alice").unwrap().identity();
        let mut read = read_logs(&[log], &identity).unwrap();
        assert_eq!(read.requests.len(), 1);
        assert_eq!(read.denied.len(), 1);
        assert_eq!(read.denied.iter().next().unwrap().resource, "secrets");
        read.include_denied();
        assert_eq!(read.requests.len(), 2);
        let _ = std::fs::remove_dir_all(&dir);
    }

    fn event(user: &str, verb: &str, resource: &str, ns: &str, name: &str) -> String {
        format!(
            r#"{{"kind":"Event","apiVersion":"audit.k8s.io/v1","stage":"ResponseComplete","verb":"{verb}","user":{{"username":"{user}"}},"objectRef":{{"resource":"{resource}","namespace":"{ns}","name":"{name}","apiGroup":""}}}}"#
        )
    }

    #[test]
    fn generates_minimal_rules_with_consistent_names() {
        let dir = std::env::temp_dir().join(format!("palisade-audit-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let user = "system:serviceaccount:shop:api";
        let lines = [
            event(user, "get", "configmaps", "shop", "app-config"),
            event(user, "update", "configmaps", "shop", "app-config"),
            event(user, "list", "pods", "shop", ""),
            event(user, "get", "pods", "shop", "web-1"),
            event("someone-else", "delete", "secrets", "shop", "x"),
            event(user, "get", "nodes", "", "node-1"),
            r#"{"kind":"Event","stage":"RequestReceived","verb":"delete","user":{"username":"system:serviceaccount:shop:api"},"objectRef":{"resource":"secrets","namespace":"shop"}}"#.to_string(),
        ];
        std::fs::write(dir.join("audit.log"), lines.join("\n")).unwrap();
        let identity = Subject::service_account("shop", "api").identity();
        let requests = read_logs(&[dir.join("audit.log")], &identity).unwrap();
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
        std::fs::remove_dir_all(&dir).ok();
    }
}
