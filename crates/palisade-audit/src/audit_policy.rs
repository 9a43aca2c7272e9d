//! The API server's audit policy (`audit.k8s.io/v1` Policy, the file `--audit-policy-file`
//! names): the level each request is logged at, decided by its first matching rule as the API
//! server decides it, and, when the rule depends on who asks or on the object's name, on what.
//!
//! Unknown fields are errors: a rule spelled `resource:` instead of `resources:` would match
//! every request, and a policy whose first rule is `level: None` logs nothing.

use serde::Deserialize;

use crate::detection::Level;

/// Why a file is not an audit policy Palisade can read.
#[derive(Debug, thiserror::Error)]
pub enum PolicyError {
    #[error("{0}")]
    Yaml(String),
    #[error("not an audit policy: {0}")]
    NotAPolicy(String),
    #[error("rule {rule}{}: {message}", at_line(*.line))]
    Rule {
        rule: usize,
        line: u32,
        message: String,
    },
    #[error("{0}")]
    Invalid(String),
}

/// ` (line 12)`, or nothing when the line is not known.
fn at_line(line: u32) -> String {
    if line > 0 {
        format!(" (line {line})")
    } else {
        String::new()
    }
}

/// Resources of one API group a rule matches.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct GroupResources {
    #[serde(default)]
    pub group: String,
    /// `pods`, `pods/log`, `*`, `pods/*`, `*/scale`; empty for every resource of the group.
    #[serde(default, deserialize_with = "or_empty")]
    pub resources: Vec<String>,
    #[serde(default, deserialize_with = "or_empty")]
    pub resource_names: Vec<String>,
}

/// One rule of the policy.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct PolicyRule {
    #[serde(deserialize_with = "level")]
    pub level: Level,
    #[serde(default, deserialize_with = "or_empty")]
    pub users: Vec<String>,
    #[serde(default, deserialize_with = "or_empty")]
    pub user_groups: Vec<String>,
    #[serde(default, deserialize_with = "or_empty")]
    pub verbs: Vec<String>,
    #[serde(default, deserialize_with = "or_empty")]
    pub resources: Vec<GroupResources>,
    #[serde(default, deserialize_with = "or_empty")]
    pub namespaces: Vec<String>,
    #[serde(default, rename = "nonResourceURLs", deserialize_with = "or_empty")]
    pub non_resource_urls: Vec<String>,
    #[serde(default, deserialize_with = "or_empty")]
    pub omit_stages: Vec<String>,
    #[serde(default)]
    pub omit_managed_fields: Option<bool>,
    /// The rule's line in the file (1-based; 0 when not known).
    #[serde(skip)]
    pub line: u32,
}

/// A list, or nothing (`rules:` with nothing after it is an empty list, as in YAML it is
/// null).
fn or_empty<'de, D: serde::Deserializer<'de>, T: Deserialize<'de>>(
    deserializer: D,
) -> Result<Vec<T>, D::Error> {
    Ok(Option::<Vec<T>>::deserialize(deserializer)?.unwrap_or_default())
}

fn level<'de, D: serde::Deserializer<'de>>(deserializer: D) -> Result<Level, D::Error> {
    let text = String::deserialize(deserializer)?;
    Level::parse(&text).ok_or_else(|| {
        serde::de::Error::custom(format!(
            "unknown level `{text}` (None, Metadata, Request or RequestResponse)"
        ))
    })
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct PolicyDocument {
    #[serde(default)]
    api_version: String,
    #[serde(default)]
    kind: String,
    /// Accepted, not read.
    #[serde(default, rename = "metadata")]
    _metadata: Option<serde_json::Value>,
    #[serde(default, deserialize_with = "or_empty")]
    rules: Vec<serde_json::Value>,
    #[serde(default, deserialize_with = "or_empty")]
    omit_stages: Vec<String>,
    /// Accepted, not read.
    #[serde(default, rename = "omitManagedFields")]
    _omit_managed_fields: Option<bool>,
}

/// An audit policy.
#[derive(Debug, Clone, Default)]
pub struct AuditPolicy {
    pub rules: Vec<PolicyRule>,
    /// Stages no event is written for, whatever the rule.
    pub omit_stages: Vec<String>,
}

/// A request as the policy sees it. `namespace` is empty for a cluster-scoped resource;
/// `resource` is empty for a non-resource request (then `path` is read).
#[derive(Debug, Clone, Copy, Default)]
pub struct Request<'r> {
    pub verb: &'r str,
    pub group: &'r str,
    pub resource: &'r str,
    pub subresource: &'r str,
    pub namespace: &'r str,
    pub path: &'r str,
}

/// Whether a rule matches a request, and if that depends on who asks or the object's name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Match {
    No,
    Always,
    /// Only when every condition holds.
    If(Vec<Condition>),
}

/// What a rule asks of a request beyond its verb and resource.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Condition {
    /// The requester is one of these users.
    Users(Vec<String>),
    /// The requester is in one of these groups.
    Groups(Vec<String>),
    /// The object is named one of these.
    Names(Vec<String>),
}

impl Condition {
    /// Whether a request by `user` in `groups` on the object `name` meets it.
    pub fn holds(&self, user: &str, groups: &[String], name: &str) -> bool {
        match self {
            Condition::Users(users) => users.iter().any(|u| u == user),
            Condition::Groups(wanted) => wanted.iter().any(|g| groups.contains(g)),
            Condition::Names(names) => names.iter().any(|n| n == name),
        }
    }

    /// In words: `users a, b`, `groups system:nodes`, `objects named admin`.
    pub fn describe(&self) -> String {
        match self {
            Condition::Users(users) => format!("users {}", users.join(", ")),
            Condition::Groups(groups) => format!("groups {}", groups.join(", ")),
            Condition::Names(names) => format!("objects named {}", names.join(", ")),
        }
    }
}

/// Conditions in words, joined by `and`.
pub fn describe(conditions: &[Condition]) -> String {
    conditions
        .iter()
        .map(Condition::describe)
        .collect::<Vec<_>>()
        .join(" and ")
}

/// How a policy logs one request, for anyone.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Levels {
    /// The rules that apply only to some requesters or objects, before the first that applies
    /// to all: each rule's index, for whom in words, and its level.
    pub some: Vec<(usize, String, Level)>,
    /// The level for everyone else.
    pub everyone: Level,
    /// The index of the rule that decides it; `None` when no rule matches (not logged).
    pub rule: Option<usize>,
}

/// The stage the detections read: a policy that omits it gives them nothing.
const READ_STAGE: &str = "ResponseComplete";

impl AuditPolicy {
    /// Reads a policy from YAML or JSON text (one document, `kind: Policy`).
    pub fn parse(text: &str) -> Result<AuditPolicy, PolicyError> {
        let limits = palisade_inventory::yaml::Limits::default();
        let stream = palisade_inventory::yaml::parse_stream(text, &limits);
        if let Some(error) = stream.errors.first() {
            return Err(PolicyError::Yaml(format!(
                "line {}: {}",
                error.pos.line, error.message
            )));
        }
        let [document] = stream.documents.as_slice() else {
            return Err(PolicyError::NotAPolicy(format!(
                "{} documents, where a policy file holds one",
                stream.documents.len()
            )));
        };
        let lines: Vec<u32> = document
            .spans
            .sequence_items(&document.value, ["rules"])
            .unwrap_or_default()
            .iter()
            .map(|s| s.pos().line)
            .collect();
        AuditPolicy::from_value(&document.value, &lines)
    }

    /// Reads a policy from a parsed document; `lines` are its rules' lines (1-based), when
    /// known.
    pub fn from_value(
        value: &serde_json::Value,
        lines: &[u32],
    ) -> Result<AuditPolicy, PolicyError> {
        let parsed: PolicyDocument = serde_json::from_value(value.clone())
            .map_err(|e| PolicyError::Invalid(e.to_string()))?;
        if parsed.kind != "Policy" || !parsed.api_version.starts_with("audit.k8s.io/") {
            return Err(PolicyError::NotAPolicy(format!(
                "apiVersion `{}`, kind `{}` (want audit.k8s.io/v1 Policy)",
                parsed.api_version, parsed.kind
            )));
        }
        let mut rules = Vec::new();
        for (i, value) in parsed.rules.into_iter().enumerate() {
            let line = lines.get(i).copied().unwrap_or(0);
            let mut rule: PolicyRule =
                serde_json::from_value(value).map_err(|e| PolicyError::Rule {
                    rule: i + 1,
                    line,
                    message: e.to_string(),
                })?;
            rule.line = line;
            rules.push(rule);
        }
        Ok(AuditPolicy {
            rules,
            omit_stages: parsed.omit_stages,
        })
    }

    /// The level of a request by anyone, as the rules in order decide it.
    pub fn levels(&self, request: &Request) -> Levels {
        let mut some = Vec::new();
        for (index, rule) in self.rules.iter().enumerate() {
            match rule.matches(request) {
                Match::No => {}
                Match::If(only) => some.push((index, describe(&only), self.effective(rule))),
                Match::Always => {
                    return Levels {
                        some,
                        everyone: self.effective(rule),
                        rule: Some(index),
                    };
                }
            }
        }
        Levels {
            some,
            everyone: Level::None,
            rule: None,
        }
    }

    /// The level one request is logged at, by `user` in `groups`, on the object `name` (empty
    /// for none), as the detections see it: the first matching rule's, `None` when none
    /// matches.
    pub fn level_for(&self, request: &Request, user: &str, groups: &[String], name: &str) -> Level {
        for rule in &self.rules {
            let applies = match rule.matches(request) {
                Match::No => false,
                Match::Always => true,
                Match::If(only) => only.iter().all(|c| c.holds(user, groups, name)),
            };
            if applies {
                return self.effective(rule);
            }
        }
        Level::None
    }

    /// Whether the policy omits the stage the detections read for every rule.
    pub fn omits_read_stage(&self) -> bool {
        self.omit_stages.iter().any(|s| s == READ_STAGE)
    }

    /// A rule's level as the detections see it: nothing when its events omit the stage they
    /// read.
    pub fn effective(&self, rule: &PolicyRule) -> Level {
        let omitted = |stages: &[String]| stages.iter().any(|s| s == READ_STAGE);
        if omitted(&self.omit_stages) || omitted(&rule.omit_stages) {
            Level::None
        } else {
            rule.level
        }
    }
}

impl PolicyRule {
    /// Whether the rule matches the request, as the API server's policy checker decides it
    /// (`users`, `userGroups`, `verbs`, then resources and namespaces or non-resource URLs).
    pub fn matches(&self, request: &Request) -> Match {
        if !self.verbs.is_empty() && !self.verbs.iter().any(|v| v == request.verb) {
            return Match::No;
        }
        let mut conditions = Vec::new();
        if !self.users.is_empty() {
            conditions.push(Condition::Users(self.users.clone()));
        }
        if !self.user_groups.is_empty() {
            conditions.push(Condition::Groups(self.user_groups.clone()));
        }
        if !self.namespaces.is_empty() || !self.resources.is_empty() {
            match self.matches_resource(request) {
                Match::No => return Match::No,
                Match::If(names) => conditions.extend(names),
                Match::Always => {}
            }
        } else if !self.non_resource_urls.is_empty() {
            let non_resource = request.resource.is_empty();
            if !non_resource || !self.matches_path(request.path) {
                return Match::No;
            }
        }
        if conditions.is_empty() {
            Match::Always
        } else {
            Match::If(conditions)
        }
    }

    fn matches_resource(&self, request: &Request) -> Match {
        if request.resource.is_empty() {
            return Match::No;
        }
        if !self.namespaces.is_empty() && !self.namespaces.iter().any(|n| n == request.namespace) {
            return Match::No;
        }
        if self.resources.is_empty() {
            return Match::Always;
        }
        let combined = if request.subresource.is_empty() {
            request.resource.to_string()
        } else {
            format!("{}/{}", request.resource, request.subresource)
        };
        let mut names: Vec<String> = Vec::new();
        for group in self.resources.iter().filter(|g| g.group == request.group) {
            let any = group.resources.is_empty()
                || group.resources.iter().any(|r| {
                    r == &combined
                        || r == "*"
                        || (!request.subresource.is_empty()
                            && r.strip_prefix("*/") == Some(request.subresource))
                        || r.strip_suffix("/*") == Some(request.resource)
                });
            if !any {
                continue;
            }
            if group.resource_names.is_empty() || group.resources.is_empty() {
                return Match::Always;
            }
            names.extend(group.resource_names.iter().cloned());
        }
        if names.is_empty() {
            Match::No
        } else {
            Match::If(vec![Condition::Names(names)])
        }
    }

    /// `/healthz*` matches every path under it; other entries match exactly.
    fn matches_path(&self, path: &str) -> bool {
        self.non_resource_urls
            .iter()
            .any(|url| match url.strip_suffix('*') {
                Some(prefix) => path.starts_with(prefix),
                None => url == path,
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const POLICY: &str = r#"
apiVersion: audit.k8s.io/v1
kind: Policy
omitStages: ["RequestReceived"]
rules:
  - level: None
    users: ["system:kube-proxy"]
    verbs: ["watch"]
    resources:
      - group: ""
        resources: ["endpoints", "services"]
  - level: None
    nonResourceURLs: ["/healthz*", "/version"]
  - level: Metadata
    resources:
      - group: ""
        resources: ["secrets", "configmaps"]
  - level: Metadata
    userGroups: ["system:nodes"]
  - level: Request
    resources:
      - group: ""
        resources: ["pods/*"]
      - group: "apps"
  - level: RequestResponse
    resources:
      - group: ""
        resources: ["*/status"]
      - group: "rbac.authorization.k8s.io"
        resources: ["clusterroles"]
        resourceNames: ["admin"]
  - level: Metadata
"#;

    fn request<'r>(verb: &'r str, group: &'r str, resource: &'r str, sub: &'r str) -> Request<'r> {
        Request {
            verb,
            group,
            resource,
            subresource: sub,
            namespace: "app",
            path: "",
        }
    }

    #[test]
    fn the_first_rule_for_everyone_decides_after_the_rules_for_some() {
        let policy = AuditPolicy::parse(POLICY).unwrap();
        assert_eq!(policy.rules.len(), 7);
        assert_eq!(policy.rules[0].line, 6);

        let Levels {
            some,
            everyone: level,
            rule,
        } = policy.levels(&request("create", "", "pods", ""));
        assert_eq!(
            (level, rule),
            (Level::Request, Some(4)),
            "`pods/*` covers pods"
        );
        assert_eq!(
            some,
            [(3, "groups system:nodes".to_string(), Level::Metadata)]
        );

        let Levels {
            everyone: level, ..
        } = policy.levels(&request("create", "", "pods", "exec"));
        assert_eq!(level, Level::Request);
        let Levels {
            everyone: level, ..
        } = policy.levels(&request("update", "apps", "deployments", "scale"));
        assert_eq!(
            level,
            Level::Request,
            "an empty resource list is the whole group"
        );
        let Levels {
            everyone: level, ..
        } = policy.levels(&request("update", "", "nodes", "status"));
        assert_eq!(level, Level::RequestResponse, "`*/status`");
        let Levels {
            everyone: level,
            rule,
            ..
        } = policy.levels(&request("get", "", "secrets", ""));
        assert_eq!((level, rule), (Level::Metadata, Some(2)));

        let Levels {
            some,
            everyone: level,
            ..
        } = policy.levels(&request("watch", "", "services", ""));
        assert_eq!(level, Level::Metadata);
        assert_eq!(some[0], (0, "users system:kube-proxy".into(), Level::None));

        let Levels {
            some,
            everyone: level,
            ..
        } = policy.levels(&request(
            "update",
            "rbac.authorization.k8s.io",
            "clusterroles",
            "",
        ));
        assert_eq!(level, Level::Metadata);
        assert!(
            some.contains(&(5, "objects named admin".into(), Level::RequestResponse)),
            "{some:?}"
        );

        let health = Request {
            verb: "get",
            path: "/healthz/etcd",
            ..Request::default()
        };
        assert_eq!(policy.levels(&health).everyone, Level::None);
    }

    #[test]
    fn one_request_gets_the_level_of_the_first_rule_it_meets() {
        let policy = AuditPolicy::parse(POLICY).unwrap();
        let nodes = [
            "system:nodes".to_string(),
            "system:authenticated".to_string(),
        ];
        let pod = request("create", "", "pods", "");
        assert_eq!(policy.level_for(&pod, "alice", &[], ""), Level::Request);
        assert_eq!(
            policy.level_for(&pod, "system:node:n1", &nodes, ""),
            Level::Metadata
        );
        let watch = request("watch", "", "services", "");
        assert_eq!(
            policy.level_for(&watch, "system:kube-proxy", &[], ""),
            Level::None
        );
        assert_eq!(policy.level_for(&watch, "bob", &[], ""), Level::Metadata);
        let role = request("update", "rbac.authorization.k8s.io", "clusterroles", "");
        assert_eq!(
            policy.level_for(&role, "bob", &[], "admin"),
            Level::RequestResponse
        );
        assert_eq!(policy.level_for(&role, "bob", &[], "edit"), Level::Metadata);
    }

    #[test]
    fn a_policy_omitting_the_response_stage_gives_the_detections_nothing() {
        let text = POLICY.replace("[\"RequestReceived\"]", "[\"ResponseComplete\"]");
        let policy = AuditPolicy::parse(&text).unwrap();
        assert_eq!(
            policy.levels(&request("create", "", "pods", "")).everyone,
            Level::None
        );
    }

    #[test]
    fn a_misspelt_field_or_level_is_an_error_naming_the_rule() {
        let typo = POLICY.replace("    nonResourceURLs:", "    nonResourceUrls:");
        let error = AuditPolicy::parse(&typo).unwrap_err().to_string();
        assert!(
            error.starts_with("rule 2 (line 12): unknown field `nonResourceUrls`"),
            "{error}"
        );
        let level = POLICY.replace("level: Request\n", "level: Requests\n");
        let error = AuditPolicy::parse(&level).unwrap_err().to_string();
        assert!(error.contains("unknown level `Requests`"), "{error}");
        let other = "apiVersion: v1\nkind: ConfigMap\n";
        assert!(matches!(
            AuditPolicy::parse(other),
            Err(PolicyError::NotAPolicy(_))
        ));
        assert!(AuditPolicy::parse("rules: [").is_err());
    }
}
