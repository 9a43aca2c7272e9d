//! The answers of `palisade rbac who-can`, `access`, `paths` and `generate` as typed models: each
//! serialises as the command's JSON and describes itself as a document for people
//! (`palisade-report` renders both).

use std::collections::BTreeSet;

use palisade_graph::{Node, Path, Plan};
use palisade_k8s::identity::{Identity, Subject};
use palisade_report::answer::{Answer, Document, Table};
use serde::Serialize;

use crate::access::{AccessMatrix, COMMON_VERBS, SPECIAL_VERBS};
use crate::audit::{self, AuditRequests, GeneratedRule, RequestKey, RuleUse};
use crate::{Grant, Policy, Request};

/// Who may make a request, and through which grant.
#[derive(Debug, Clone, Serialize)]
#[serde(transparent)]
pub struct WhoCan {
    #[serde(skip)]
    question: String,
    /// Those allowed the request as asked, then (for a request that names no object) those
    /// allowed it only for some names.
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
    /// For a request that names no object: the only names (`resourceNames`) the subject may
    /// make it for. Empty when it may for any name.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub only_names: Vec<String>,
    /// For a cluster-wide request of a namespaced resource: the one namespace whose
    /// RoleBindings allow the subject the request there. `None` when it may everywhere.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub only_namespace: Option<String>,
    #[serde(skip)]
    evidence: String,
}

impl WhoCan {
    /// Every subject of every binding that allows `request`, by subject, then every subject
    /// that may impersonate one of them (its request is then authorized as that one's). One
    /// step only: the API server authorizes impersonation for the authenticated user alone.
    /// A request that names no object (`get secrets`) is also answered for the grants limited
    /// to some names (`resourceNames`), after the others and saying which names: a subject
    /// that may read the Secret `db-password` is not "nobody" to someone asking who can read
    /// Secrets. Likewise a cluster-wide request of a `namespaced` resource is answered for
    /// each namespace whose RoleBindings allow it there. `verb` and `resource` are as the user
    /// wrote them resolved (`delete secrets`), for the heading.
    pub fn answer(
        policy: &Policy,
        request: &Request,
        verb: &str,
        resource: &str,
        namespaced: bool,
    ) -> WhoCan {
        let mut rows = Vec::new();
        add_rows(policy, request, None, &mut rows);
        if namespaced && request.namespace.is_none() && request.non_resource_url.is_none() {
            let namespaces: BTreeSet<&String> = policy
                .bindings
                .iter()
                .filter_map(|b| b.namespace.as_ref())
                .collect();
            for namespace in namespaces {
                let there = Request {
                    namespace: Some(namespace.clone()),
                    ..request.clone()
                };
                add_rows(policy, &there, Some(namespace), &mut rows);
            }
        }
        let scope = match &request.namespace {
            Some(ns) => format!("in namespace {ns}"),
            None => "cluster-wide".into(),
        };
        let named = match &request.name {
            Some(name) => format!(" named {name}"),
            None => String::new(),
        };
        WhoCan {
            question: format!("who can {verb} {resource}{named} {scope}:"),
            rows,
        }
    }

    pub fn rows(&self) -> &[WhoCanRow] {
        &self.rows
    }
}

/// Adds the rows of those allowed `request` (with `only_namespace`, by the RoleBindings of
/// that namespace alone), then of those allowed it only for some names; a subject already
/// allowed as much by an earlier row gets none.
fn add_rows(
    policy: &Policy,
    request: &Request,
    only_namespace: Option<&String>,
    rows: &mut Vec<WhoCanRow>,
) {
    let of_namespace = |grants: Vec<Grant>| -> Vec<Grant> {
        grants
            .into_iter()
            .filter(|g| {
                only_namespace.is_none()
                    || policy.bindings[g.binding].namespace.as_ref() == only_namespace
            })
            .collect()
    };
    let superusers = only_namespace.is_none();
    for some_names in [false, true] {
        let grants = if some_names {
            of_namespace(policy.grants_for_some_names(request))
        } else {
            of_namespace(policy.grants_for(request))
        };
        let found = rows_with_impersonators(policy, &grants, some_names, superusers);
        // Allowed already for any name, there or everywhere, directly or the same way.
        let covered = |row: &WhoCanRow| {
            rows.iter().any(|r| {
                r.subject == row.subject
                    && (r.impersonating.is_none() || r.impersonating == row.impersonating)
                    && r.only_names.is_empty()
                    && (r.only_namespace.is_none() || r.only_namespace == row.only_namespace)
            })
        };
        let found: Vec<WhoCanRow> = found
            .into_iter()
            .map(|row| WhoCanRow {
                only_namespace: only_namespace.cloned(),
                ..row
            })
            .filter(|row| !covered(row))
            .collect();
        rows.extend(found);
    }
}

/// A row per subject of each of `grants` (which allow the request, or with `some_names`
/// allow it for the names of their rules), then a row per subject that may impersonate one
/// of those subjects, by subject; with `superusers`, also those who may impersonate the
/// superuser group, which is allowed every request.
fn rows_with_impersonators(
    policy: &Policy,
    grants: &[Grant],
    some_names: bool,
    superusers: bool,
) -> Vec<WhoCanRow> {
    let mut rows = rows_of(policy, grants, None, &|grant| {
        if some_names {
            policy.rule(grant).resource_names.clone()
        } else {
            Vec::new()
        }
    });
    let direct: BTreeSet<Subject> = rows.iter().map(|r| r.subject.clone()).collect();
    let superuser_group = Subject::Group {
        name: palisade_k8s::identity::SUPERUSER_GROUP.to_string(),
    };
    let mut impersonated: BTreeSet<&Subject> = direct.iter().collect();
    if superusers && !some_names {
        impersonated.insert(&superuser_group);
    }
    for subject in impersonated {
        let Some(impersonation) = Request::impersonating(subject) else {
            continue;
        };
        // What the impersonated subject may do, it may do for the same names.
        let names: BTreeSet<&String> = rows
            .iter()
            .filter(|r| &r.subject == subject)
            .flat_map(|r| &r.only_names)
            .collect();
        let names: Vec<String> = names.into_iter().cloned().collect();
        let through = policy.grants_for(&impersonation);
        let extra: Vec<WhoCanRow> = rows_of(policy, &through, Some(subject), &|_| names.clone())
            .into_iter()
            .filter(|row| !direct.contains(&row.subject))
            .collect();
        rows.extend(extra);
    }
    rows.sort_by(|a, b| (&a.impersonating, &a.subject).cmp(&(&b.impersonating, &b.subject)));
    rows
}

/// A row per subject of each binding of `grants`; `impersonating`: the subject the request
/// impersonates, for an impersonation; `only_names`: the names a grant's rows are limited to
/// (none: any name).
fn rows_of(
    policy: &Policy,
    grants: &[Grant],
    impersonating: Option<&Subject>,
    only_names: &dyn Fn(&Grant) -> Vec<String>,
) -> Vec<WhoCanRow> {
    let mut rows = Vec::new();
    for grant in grants {
        let binding = &policy.bindings[grant.binding];
        let evidence = match impersonating {
            Some(target @ Subject::Group { name })
                if name == palisade_k8s::identity::SUPERUSER_GROUP =>
            {
                format!(
                    "as {target}, allowed every request: {}",
                    policy.evidence(grant)
                )
            }
            Some(target) => format!("as {target}: {}", policy.evidence(grant)),
            None => policy.evidence(grant),
        };
        let only_names = only_names(grant);
        for subject in &binding.subjects {
            rows.push(WhoCanRow {
                subject: subject.clone(),
                impersonating: impersonating.cloned(),
                binding: binding.describe(),
                role: policy.roles[grant.role].describe(),
                rule: grant.rule + 1,
                grants: policy.rule(grant).describe(),
                only_names: only_names.clone(),
                only_namespace: None,
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
        let everywhere: Vec<&WhoCanRow> = self
            .rows
            .iter()
            .filter(|r| r.only_namespace.is_none())
            .collect();
        let (anyhow, named): (Vec<&WhoCanRow>, Vec<&WhoCanRow>) = everywhere
            .into_iter()
            .partition(|r| r.only_names.is_empty());
        if anyhow.is_empty() {
            doc.line(if self.rows.is_empty() {
                "  nobody (among the bindings in the scanned files)"
            } else if named.is_empty() {
                "  nobody in every namespace (among the bindings in the scanned files)"
            } else {
                "  nobody for any name (among the bindings in the scanned files)"
            });
        }
        let table = |rows: &[&WhoCanRow], indent: usize| Table {
            indent,
            widths: vec![50 - indent],
            header: None,
            rows: rows
                .iter()
                .map(|r| vec![r.subject.to_string(), r.evidence.clone()])
                .collect(),
        };
        doc.table(table(&anyhow, 2));
        if !named.is_empty() {
            doc.line("  only for some names (resourceNames; --name asks for one):");
            doc.table(table(&named, 4));
        }
        let mut namespaces: Vec<&String> = Vec::new();
        for namespace in self.rows.iter().filter_map(|r| r.only_namespace.as_ref()) {
            if !namespaces.contains(&namespace) {
                namespaces.push(namespace);
            }
        }
        for namespace in namespaces {
            let (anyhow, named): (Vec<&WhoCanRow>, Vec<&WhoCanRow>) = self
                .rows
                .iter()
                .filter(|r| r.only_namespace.as_ref() == Some(namespace))
                .partition(|r| r.only_names.is_empty());
            let shown = palisade_k8s::names::display_ns(namespace);
            for (rows, which) in [(anyhow, ""), (named, ", only for some names")] {
                if !rows.is_empty() {
                    doc.line(format!(
                        "  only in namespace {shown}{which} (-n asks there):"
                    ));
                    doc.table(table(&rows, 4));
                }
            }
        }
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
                let mut cells = vec![row.describe()];
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
    paths: Vec<FoundPath>,
}

/// A path, with the known flaw of its start's images when one is marked in the graph.
#[derive(Debug, Clone, Serialize)]
struct FoundPath {
    #[serde(flatten)]
    path: Path,
    /// A flaw exploited over the network in an image the starting workload runs
    /// ([`palisade_graph::Graph::add_exploit`], from `--sbom`).
    #[serde(skip_serializing_if = "Option::is_none")]
    exploit: Option<String>,
}

impl Paths {
    /// `goal` as the user named it, for "no path to ..."; `graph` the paths were found in.
    pub fn answer(goal: &str, paths: Vec<Path>, graph: &palisade_graph::Graph) -> Paths {
        let paths = paths
            .into_iter()
            .map(|path| FoundPath {
                exploit: graph.exploit(&path.from).map(str::to_string),
                path,
            })
            .collect();
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
        for FoundPath { path, exploit } in &self.paths {
            doc.line(match exploit {
                Some(flaw) => format!("{} (exploitable: {flaw})", path.from),
                None => path.from.to_string(),
            });
            for step in &path.steps {
                doc.line(format!("  → {}\n      because {}", step.to, step.evidence));
            }
        }
        doc
    }
}

/// The fixes that cut the most risk on the paths to the targets asked for.
#[derive(Debug, Clone, Serialize)]
pub struct Fixes {
    /// The targets, as a phrase.
    pub targets: String,
    /// The most fixes asked for.
    pub limit: usize,
    /// The objects not to change (`--keep`).
    pub kept: Vec<String>,
    #[serde(flatten)]
    pub plan: Plan,
}

/// Starting points listed by name in the text; JSON lists every one.
const LISTED: usize = 10;

impl Fixes {
    pub fn answer(targets: &str, limit: usize, kept: Vec<String>, plan: Plan) -> Fixes {
        Fixes {
            targets: targets.to_string(),
            limit,
            kept,
            plan,
        }
    }

    /// Whether anything is at risk.
    pub fn at_risk(&self) -> bool {
        self.plan.risk > 0
    }
}

/// `a, b (×3), c, 4 more`: the first few names, each once with how often it comes (manifests
/// of many sources may hold one workload's name more than once).
fn some_of(nodes: &[Node]) -> String {
    let mut names: Vec<(String, usize)> = Vec::new();
    for node in nodes {
        let name = node.to_string();
        match names.iter_mut().find(|(n, _)| *n == name) {
            Some((_, count)) => *count += 1,
            None => names.push((name, 1)),
        }
    }
    let mut listed: Vec<String> = names
        .iter()
        .take(LISTED)
        .map(|(name, count)| match count {
            1 => name.clone(),
            n => format!("{name} (×{n})"),
        })
        .collect();
    if names.len() > LISTED {
        listed.push(format!("{} more", names.len() - LISTED));
    }
    listed.join(", ")
}

impl Answer for Fixes {
    fn document(&self) -> Document {
        let mut doc = Document::new();
        let plan = &self.plan;
        if plan.at_risk.is_empty() {
            doc.line(format!(
                "no path to {} in the scanned objects: nothing to fix",
                self.targets
            ));
        } else {
            doc.line(format!(
                "Risk on the paths to {}: {}, from {} starting point{}",
                self.targets,
                plan.risk,
                plan.at_risk.len(),
                if plan.at_risk.len() == 1 { "" } else { "s" }
            ));
            let mut rows: Vec<Vec<String>> = plan
                .at_risk
                .iter()
                .take(LISTED)
                .map(|r| {
                    vec![
                        r.risk.to_string(),
                        match &r.exploit {
                            // The flaw's id: the JSON has the whole evidence.
                            Some(flaw) => format!(
                                "{} (exploitable: {})",
                                r.from,
                                flaw.split(' ').next().unwrap_or(flaw)
                            ),
                            None => r.from.to_string(),
                        },
                        match r.path.steps.len() {
                            1 => format!("{} in 1 step", r.path.end()),
                            n => format!("{} in {n} steps", r.path.end()),
                        },
                    ]
                })
                .collect();
            if plan.at_risk.len() > LISTED {
                let more = plan.at_risk.len() - LISTED;
                rows.push(vec![
                    String::new(),
                    format!("and {more} more (`-o json` lists every one)"),
                    String::new(),
                ]);
            }
            doc.table(Table {
                indent: 2,
                widths: vec![5, 44],
                header: Some(vec![
                    "risk".into(),
                    "starting point".into(),
                    "reaches".into(),
                ]),
                rows,
            });
        }
        if !plan.fixes.is_empty() {
            doc.line("The fixes that cut the most risk, in order:");
        }
        for (i, fix) in plan.fixes.iter().enumerate() {
            let mut text = format!("{}. {}", i + 1, fix.fix);
            for step in &fix.removes {
                text.push_str(&format!("\n     takes away: {step}"));
            }
            if fix.lowers.is_empty() {
                text.push_str("\n     lowers no risk alone: the next fixes finish the cut");
            } else {
                text.push_str(&format!(
                    "\n     lowers the risk of: {}",
                    some_of(&fix.lowers)
                ));
            }
            text.push_str(&format!(
                "\n     risk left: {} of {}",
                fix.risk_left, plan.risk
            ));
            doc.line(text);
        }
        if plan.risk > 0 {
            let fixes = match plan.fixes.len() {
                1 => "1 fix".to_string(),
                n => format!("{n} fixes"),
            };
            doc.line(if plan.risk_left == 0 {
                format!(
                    "After {fixes}: no risk left on the paths to {}.",
                    self.targets
                )
            } else {
                format!(
                    "Risk left after {fixes}: {}, from {}{}",
                    plan.risk_left,
                    some_of(&plan.still_at_risk),
                    if plan.fixes.len() == self.limit {
                        " (raise --limit for more fixes)"
                    } else {
                        ""
                    }
                )
            });
        }
        if !plan.by_design.is_empty() {
            let kept = if self.kept.is_empty() {
                String::new()
            } else {
                format!(", and the objects kept: {}", self.kept.join(", "))
            };
            doc.line(format!(
                "Not counted: {} starting point{} a target only through steps no fix takes away (the control plane's own grants and credentials{kept}):",
                plan.by_design.len(),
                if plan.by_design.len() == 1 { " reaches" } else { "s reach" }
            ));
            for path in plan.by_design.iter().take(LISTED) {
                doc.line(format!("  {} → {}", path.from, path.end()));
            }
            if plan.by_design.len() > LISTED {
                doc.line(format!("  and {} more", plan.by_design.len() - LISTED));
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
        let answer = WhoCan::answer(&policy, &request, "get", "secrets", true);
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
            true,
        );
        assert!(render(&nobody, AnswerFormat::Text).contains("  nobody"));
        assert_eq!(render(&nobody, AnswerFormat::Json), "[]\n");
    }

    /// Who can read Secrets is not "nobody" when someone can read one by name, nor when
    /// someone may impersonate that one.
    #[test]
    fn who_can_names_grants_limited_to_some_names() {
        let text = "apiVersion: rbac.authorization.k8s.io/v1\nkind: Role\nmetadata: {name: one, namespace: app}\nrules: [{apiGroups: [''], resources: [secrets], resourceNames: [db-password], verbs: [get, update]}]\n---\napiVersion: rbac.authorization.k8s.io/v1\nkind: RoleBinding\nmetadata: {name: one, namespace: app}\nroleRef: {apiGroup: rbac.authorization.k8s.io, kind: Role, name: one}\nsubjects: [{kind: ServiceAccount, name: backup, namespace: app}]\n---\napiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRole\nmetadata: {name: as-backup}\nrules: [{apiGroups: [''], resources: [serviceaccounts], verbs: [impersonate]}]\n---\napiVersion: rbac.authorization.k8s.io/v1\nkind: RoleBinding\nmetadata: {name: as-backup, namespace: app}\nroleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: as-backup}\nsubjects: [{kind: User, name: eve}]\n";
        let loaded = load_text("p.yaml", text, &Limits::default());
        let policy = Policy::from_inventory(&loaded.inventory);
        let get = Request::resource("get", "", "secrets", Some("app"));
        let answer = WhoCan::answer(&policy, &get, "get", "secrets", true);
        let out = render(&answer, AnswerFormat::Text);
        assert!(out.contains("  nobody for any name"), "{out}");
        assert!(out.contains("  only for some names"), "{out}");
        assert!(out.contains("    ServiceAccount app/backup"), "{out}");
        assert!(out.contains("    User eve"), "{out}");
        let json: serde_json::Value =
            serde_json::from_str(&render(&answer, AnswerFormat::Json)).unwrap();
        assert_eq!(json[0]["only_names"], serde_json::json!(["db-password"]));
        assert_eq!(json[1]["subject"]["name"], "eve");
        assert_eq!(json[1]["only_names"], serde_json::json!(["db-password"]));
        // Asked by name, they are allowed the request as asked.
        let named = WhoCan::answer(
            &policy,
            &get.clone().named("db-password"),
            "get",
            "secrets",
            true,
        );
        let out = render(&named, AnswerFormat::Text);
        assert!(
            out.starts_with("who can get secrets named db-password in namespace app:\n"),
            "{out}"
        );
        assert!(
            !out.contains("nobody") && !out.contains("only for some"),
            "{out}"
        );
        // Asked cluster-wide, the namespace's rows say they are for some names too.
        let everywhere = Request::resource("get", "", "secrets", None);
        let answer = WhoCan::answer(&policy, &everywhere, "get", "secrets", true);
        let out = render(&answer, AnswerFormat::Text);
        assert!(
            out.contains("  only in namespace app, only for some names (-n asks there):\n    ServiceAccount app/backup"),
            "{out}"
        );
        // No name can make a create or a list of another Secret allowed.
        for verb in ["create", "deletecollection"] {
            let request = Request::resource(verb, "", "secrets", Some("app"));
            assert!(policy.grants_for_some_names(&request).is_empty(), "{verb}");
        }
    }

    #[test]
    fn paths_say_when_there_is_none() {
        let answer = Paths::answer("cluster-admin", Vec::new(), &Default::default());
        assert!(answer.is_empty());
        assert_eq!(
            render(&answer, AnswerFormat::Text),
            "no path to cluster-admin in the scanned objects\n"
        );
    }
}
