//! The answers of `palisade rbac who-can`, `access`, `paths` and `generate` as typed models: each
//! serialises as the command's JSON and describes itself as a document for people
//! (`palisade-report` renders both).

use std::collections::BTreeSet;

use palisade_graph::Path;
use palisade_k8s::identity::{Identity, Subject};
use palisade_report::answer::{Answer, Document, Table};
use serde::Serialize;

use crate::access::{AccessMatrix, COMMON_VERBS, SPECIAL_VERBS};
use crate::audit::{self, AuditRequests, GeneratedRule, RequestKey, RuleUse};
use crate::{Policy, Request};

/// Who may make a request, and through which grant.
#[derive(Debug, Clone, Serialize)]
#[serde(transparent)]
pub struct WhoCan {
    #[serde(skip)]
    question: String,
    rows: Vec<WhoCanRow>,
}

/// One subject allowed by one grant.
#[derive(Debug, Clone, Serialize)]
pub struct WhoCanRow {
    pub subject: Subject,
    /// The subject allowed directly whose permission this one takes by impersonating it
    /// (`kubectl --as`); the grant is then the impersonation's.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub impersonating: Option<Subject>,
    pub binding: String,
    pub role: String,
    /// The rule's number in the role, from 1.
    pub rule: usize,
    pub grants: String,
    #[serde(skip)]
    evidence: String,
}

impl WhoCan {
    /// Every subject of every binding that allows `request`, by subject, then every subject
    /// that may impersonate one of them (its request is then authorized as that one's). One
    /// step only: the API server authorizes impersonation for the authenticated user alone.
    /// `verb` and `resource` are as the user wrote them resolved (`delete secrets`), for the
    /// heading.
    pub fn answer(policy: &Policy, request: &Request, verb: &str, resource: &str) -> WhoCan {
        let mut rows = rows_allowed(policy, request, None);
        let direct: BTreeSet<Subject> = rows.iter().map(|r| r.subject.clone()).collect();
        // The superuser group is allowed every request without a binding: who may impersonate
        // it may make this one.
        let superusers = Subject::Group {
            name: palisade_k8s::identity::SUPERUSER_GROUP.to_string(),
        };
        let mut impersonated: BTreeSet<&Subject> = direct.iter().collect();
        impersonated.insert(&superusers);
        for subject in impersonated {
            let Some(impersonation) = Request::impersonating(subject) else {
                continue;
            };
            rows.extend(
                rows_allowed(policy, &impersonation, Some(subject))
                    .into_iter()
                    .filter(|row| !direct.contains(&row.subject)),
            );
        }
        rows.sort_by(|a, b| (&a.impersonating, &a.subject).cmp(&(&b.impersonating, &b.subject)));
        let scope = match &request.namespace {
            Some(ns) => format!("in namespace {ns}"),
            None => "cluster-wide".into(),
        };
        WhoCan {
            question: format!("who can {verb} {resource} {scope}:"),
            rows,
        }
    }

    pub fn rows(&self) -> &[WhoCanRow] {
        &self.rows
    }
}

/// A row per subject of each binding that allows `request`; `impersonating`: the subject
/// the request impersonates, for an impersonation.
fn rows_allowed(
    policy: &Policy,
    request: &Request,
    impersonating: Option<&Subject>,
) -> Vec<WhoCanRow> {
    let mut rows = Vec::new();
    for grant in policy.grants_for(request) {
        let binding = &policy.bindings[grant.binding];
        let evidence = match impersonating {
            Some(target @ Subject::Group { name })
                if name == palisade_k8s::identity::SUPERUSER_GROUP =>
            {
                format!(
                    "as {target}, allowed every request: {}",
                    policy.evidence(&grant)
                )
            }
            Some(target) => format!("as {target}: {}", policy.evidence(&grant)),
            None => policy.evidence(&grant),
        };
        for subject in &binding.subjects {
            rows.push(WhoCanRow {
                subject: subject.clone(),
                impersonating: impersonating.cloned(),
                binding: binding.describe(),
                role: policy.roles[grant.role].describe(),
                rule: grant.rule + 1,
                grants: policy.rule(&grant).describe(),
                evidence: evidence.clone(),
            });
        }
    }
    rows
}

impl Answer for WhoCan {
    fn document(&self) -> Document {
        let mut doc = Document::new();
        doc.line(&self.question);
        if self.rows.is_empty() {
            doc.line("  nobody (among the bindings in the scanned files)");
        }
        doc.table(Table {
            indent: 2,
            widths: vec![48],
            header: None,
            rows: self
                .rows
                .iter()
                .map(|r| vec![r.subject.to_string(), r.evidence.clone()])
                .collect(),
        });
        doc
    }
}

/// A subject's effective permissions.
#[derive(Debug, Clone, Serialize)]
pub struct Access {
    pub subject: Subject,
    pub groups: Vec<String>,
    /// A member of `system:masters`: the API server allows it every request, whatever the
    /// bindings (which the matrix still lists).
    pub superuser: bool,
    pub namespace: Option<String>,
    pub permissions: Vec<crate::access::AccessRow>,
    pub namespaced_grants_elsewhere: Vec<String>,
}

impl Access {
    pub fn answer(
        subject: Subject,
        identity: Identity,
        matrix: AccessMatrix,
        namespace: Option<&str>,
    ) -> Access {
        let superuser = identity
            .groups
            .iter()
            .any(|g| g == palisade_k8s::identity::SUPERUSER_GROUP);
        Access {
            subject,
            superuser,
            groups: identity.groups,
            namespace: namespace.map(str::to_string),
            permissions: matrix.rows,
            namespaced_grants_elsewhere: matrix.namespaced_grants_elsewhere,
        }
    }
}

impl Answer for Access {
    fn document(&self) -> Document {
        let mut doc = Document::new();
        let scope = self
            .namespace
            .as_ref()
            .map_or("cluster-wide".to_string(), |n| format!("in namespace {n}"));
        doc.line(format!(
            "{} (groups: {}), {scope}:",
            self.subject,
            self.groups.join(", ")
        ));
        let mut header = vec!["RESOURCE".to_string()];
        header.extend(COMMON_VERBS.iter().map(|v| v.to_uppercase()));
        header.push("OTHER".into());
        let mut widths = vec![52];
        widths.extend(COMMON_VERBS.iter().map(|_| 7));
        let rows = self
            .permissions
            .iter()
            .map(|row| {
                let mut cells = vec![if row.api_group.is_empty() {
                    row.resource.clone()
                } else {
                    format!("{}.{}", row.resource, row.api_group)
                }];
                for verb in COMMON_VERBS {
                    cells.push(
                        if row.verbs.contains(verb) {
                            "✔"
                        } else {
                            "✖"
                        }
                        .into(),
                    );
                }
                let special: Vec<&str> = row
                    .verbs
                    .iter()
                    .copied()
                    .filter(|v| SPECIAL_VERBS.contains(v))
                    .collect();
                cells.push(special.join(","));
                cells
            })
            .collect();
        doc.table(Table {
            indent: 2,
            widths,
            header: Some(header),
            rows,
        });
        if self.superuser {
            doc.line(format!(
                "  every request: a member of {}, which the API server allows everything whatever the bindings",
                palisade_k8s::identity::SUPERUSER_GROUP
            ));
        } else if self.permissions.is_empty() {
            doc.line("  no permissions from the bindings in the scanned files");
        }
        if !self.namespaced_grants_elsewhere.is_empty() {
            doc.line(format!(
                "  also has RoleBindings in: {} (use -n)",
                self.namespaced_grants_elsewhere.join(", ")
            ));
        }
        doc
    }
}

/// Escalation paths toward a goal.
#[derive(Debug, Clone, Serialize)]
#[serde(transparent)]
pub struct Paths {
    #[serde(skip)]
    goal: String,
    paths: Vec<Path>,
}

impl Paths {
    /// `goal` as the user named it, for "no path to ...".
    pub fn answer(goal: &str, paths: Vec<Path>) -> Paths {
        Paths {
            goal: goal.to_string(),
            paths,
        }
    }

    pub fn is_empty(&self) -> bool {
        self.paths.is_empty()
    }
}

impl Answer for Paths {
    fn document(&self) -> Document {
        let mut doc = Document::new();
        if self.paths.is_empty() {
            doc.line(format!("no path to {} in the scanned objects", self.goal));
        }
        for path in &self.paths {
            doc.line(path.from.to_string());
            for step in &path.steps {
                doc.line(format!("  → {}\n      because {}", step.to, step.evidence));
            }
        }
        doc
    }
}

/// A least-privilege Role and ClusterRole generated from audit logs, with what the logs show
/// about refused requests and, when compared with the current grants, what is never used.
#[derive(Debug, Clone, Serialize)]
pub struct Generated {
    pub subject: Subject,
    pub events: usize,
    pub matched: usize,
    pub denied: Vec<String>,
    pub denied_granted: bool,
    pub rules: Vec<GeneratedScope>,
    pub unused: Option<Vec<RuleUse>>,
    #[serde(skip)]
    yaml: String,
}

/// The rules of one scope (a namespace, or `cluster`).
#[derive(Debug, Clone, Serialize)]
pub struct GeneratedScope {
    pub scope: String,
    pub rules: Vec<GeneratedRule>,
}

impl Generated {
    /// The answer for `subject` from `requests`: `denied` were refused (403) and are granted
    /// only when `denied_granted`; `unused` is the comparison with today's grants, if asked;
    /// `name` names the generated roles.
    pub fn answer(
        subject: Subject,
        requests: &AuditRequests,
        denied: &[RequestKey],
        denied_granted: bool,
        unused: Option<Vec<RuleUse>>,
        name: &str,
    ) -> Generated {
        let rules = audit::generate(requests);
        let yaml = audit::to_yaml(&subject, &rules, name);
        Generated {
            events: requests.events,
            matched: requests.matched,
            denied: denied.iter().map(RequestKey::describe).collect(),
            denied_granted,
            rules: rules
                .into_iter()
                .map(|(scope, rules)| GeneratedScope {
                    scope: audit::scope_name(&scope),
                    rules,
                })
                .collect(),
            unused,
            yaml,
            subject,
        }
    }
}

impl Answer for Generated {
    /// The manifests, with what they rest on as YAML comments.
    fn document(&self) -> Document {
        let mut doc = Document::new();
        doc.line(format!(
            "# {} of {} audit events are requests of {}",
            self.matched, self.events, self.subject
        ));
        if !self.denied.is_empty() {
            doc.line(format!(
                "# {} requests were refused by the API server (403) and are {}:",
                self.denied.len(),
                if self.denied_granted {
                    "granted below (--include-denied)"
                } else {
                    "not granted (--include-denied grants them)"
                }
            ));
            for request in &self.denied {
                doc.line(format!("#   {request}"));
            }
        }
        doc.text(&self.yaml);
        if let Some(unused) = &self.unused {
            doc.line("# Granted today and never used in these logs:");
            for used in unused.iter().filter(|u| !u.unused.is_empty()) {
                doc.line(format!("#   {}: {}", used.evidence, used.unused.join(", ")));
            }
        }
        doc
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use palisade_inventory::{Limits, load_text};
    use palisade_report::answer::{AnswerFormat, write_answer};

    fn render<A: Answer>(answer: &A, format: AnswerFormat) -> String {
        let mut out = Vec::new();
        write_answer(answer, format, &mut out).unwrap();
        String::from_utf8(out).unwrap()
    }

    const POLICY: &str = "apiVersion: rbac.authorization.k8s.io/v1\nkind: Role\nmetadata: {name: reader, namespace: app}\nrules: [{apiGroups: [''], resources: [secrets], verbs: [get]}]\n---\napiVersion: rbac.authorization.k8s.io/v1\nkind: RoleBinding\nmetadata: {name: readers, namespace: app}\nroleRef: {apiGroup: rbac.authorization.k8s.io, kind: Role, name: reader}\nsubjects: [{kind: User, name: dana}, {kind: Group, name: auditors}]\n";

    #[test]
    fn who_can_is_one_model_in_text_and_json() {
        let loaded = load_text("p.yaml", POLICY, &Limits::default());
        let policy = Policy::from_inventory(&loaded.inventory);
        let request = Request {
            verb: "get".into(),
            resource: "secrets".into(),
            namespace: Some("app".into()),
            ..Request::default()
        };
        let answer = WhoCan::answer(&policy, &request, "get", "secrets");
        let text = render(&answer, AnswerFormat::Text);
        assert!(
            text.starts_with("who can get secrets in namespace app:\n"),
            "{text}"
        );
        assert!(
            text.contains(&format!("  {:<48} RoleBinding app/readers", "User dana")),
            "{text}"
        );
        let json: serde_json::Value =
            serde_json::from_str(&render(&answer, AnswerFormat::Json)).unwrap();
        assert_eq!(json.as_array().map(Vec::len), Some(2));
        assert_eq!(
            json[0]["subject"]["name"], "dana",
            "users sort before groups"
        );
        assert_eq!(json[1]["subject"]["kind"], "Group");
        assert_eq!(json[0]["rule"], 1);

        let nobody = WhoCan::answer(
            &policy,
            &Request {
                verb: "delete".into(),
                ..request
            },
            "delete",
            "secrets",
        );
        assert!(render(&nobody, AnswerFormat::Text).contains("  nobody"));
        assert_eq!(render(&nobody, AnswerFormat::Json), "[]\n");
    }

    #[test]
    fn paths_say_when_there_is_none() {
        let answer = Paths::answer("cluster-admin", Vec::new());
        assert!(answer.is_empty());
        assert_eq!(
            render(&answer, AnswerFormat::Text),
            "no path to cluster-admin in the scanned objects\n"
        );
    }
}
