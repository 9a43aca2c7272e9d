//! What an audit policy lets the detections see: for each detection, whether the requests it
//! looks at are logged at the level it reads, for everyone, in every namespace the policy
//! names, and if not, which rule of the policy stops it. And what the policy writes into the
//! log that it should not: Secret values, tokens.
//!
//! A detection that looks at every request (a baseline, an allow-list of users) is judged on
//! a request no rule names: the policy's level for anything else, and the rules that silence
//! some identities altogether.

use palisade_core::RuleMeta;
use serde::Serialize;

use crate::audit_policy::{AuditPolicy, Request};
use crate::detection::{Detection, Level, Sub, Trigger, request_words};

/// A namespace no rule names: what the policy does in any other namespace.
pub(crate) const OTHER_NAMESPACE: &str = "\u{0}any other namespace";

/// How much of what a detection reads the policy logs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    /// Every request it looks at, for everyone, at the level it reads.
    Covered,
    /// Logged for most, below what it reads for some requesters, namespaces or objects.
    Partly,
    /// Below what it reads for everyone (in some request it looks at).
    Blind,
}

impl Verdict {
    pub fn as_str(self) -> &'static str {
        match self {
            Verdict::Covered => "covered",
            Verdict::Partly => "partly",
            Verdict::Blind => "blind",
        }
    }
}

/// Requests a detection looks at that the policy logs below what it reads.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Gap {
    /// `create pods`.
    pub request: String,
    /// For whom (`groups system:nodes`, `in namespace kube-system`); `None` for everyone.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub only: Option<String>,
    /// The level they are logged at.
    pub logged_at: Level,
    /// The policy rule that decides it (1-based) and its line; `None` when no rule matches.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rule: Option<usize>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub line: Option<u32>,
}

impl Gap {
    /// `create pods by groups system:nodes: logged at Metadata (rule 4, line 20)`.
    pub fn describe(&self) -> String {
        let logged = match self.logged_at {
            Level::None => "not logged".to_string(),
            level => format!("logged at {level}"),
        };
        let rule = match (self.rule, self.line) {
            (Some(rule), Some(line)) if line > 0 => format!(" (rule {rule}, line {line})"),
            (Some(rule), _) => format!(" (rule {rule})"),
            (None, _) => " (no rule matches)".to_string(),
        };
        match &self.only {
            Some(only) => format!("{} {only}: {logged}{rule}", self.request),
            None => format!("{}: {logged}{rule}", self.request),
        }
    }
}

/// One detection's coverage.
#[derive(Debug, Clone, Serialize)]
pub struct Coverage {
    pub id: String,
    pub slug: String,
    /// The most it reads of the requests it looks at.
    pub needs: Level,
    pub verdict: Verdict,
    pub gaps: Vec<Gap>,
}

/// Something the policy writes into the audit log that holds credentials.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Leak {
    /// `create secrets`.
    pub request: String,
    pub only: Option<String>,
    pub logged_at: Level,
    pub rule: usize,
    pub line: u32,
    /// What the log then holds.
    pub holds: &'static str,
}

/// Requests whose bodies hold credentials, the least level that writes them, and what.
const SENSITIVE: &[(&str, &str, &str, &str, Level, &str)] = &[
    ("create", "", "secrets", "", Level::Request, "Secret values"),
    ("update", "", "secrets", "", Level::Request, "Secret values"),
    (
        "get",
        "",
        "secrets",
        "",
        Level::RequestResponse,
        "Secret values",
    ),
    (
        "list",
        "",
        "secrets",
        "",
        Level::RequestResponse,
        "Secret values",
    ),
    (
        "create",
        "",
        "serviceaccounts",
        "token",
        Level::RequestResponse,
        "service-account tokens",
    ),
    (
        "create",
        "authentication.k8s.io",
        "tokenreviews",
        "",
        Level::Request,
        "the bearer tokens being reviewed",
    ),
];

/// What one policy rule (or the lack of one) keeps from the detections.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Blinding {
    /// The rule's index (0-based); `None` when no rule matches the requests: not logged.
    pub rule: Option<usize>,
    /// Whether it does so for everyone, rather than for some requesters, namespaces or
    /// objects.
    pub everyone: bool,
    /// For whom, when not everyone (`by groups system:nodes`, `in namespace kube-system`).
    pub whom: Vec<String>,
    /// The requests, in words (`create pods`).
    pub requests: Vec<String>,
    /// The level the requests are logged at (the lowest, when several).
    pub logged_at: Level,
    /// The detections it blinds: id, slug and the level each reads.
    pub detections: Vec<(String, String, Level)>,
}

/// The gaps of `covered` by the policy rule that makes them, the rules that blind some
/// detection for everyone first. A gap only logging credentials would fill (AUD019 reads
/// Secrets' bodies) is left out: [`leaks`] reports the other side of it.
pub fn blinding(covered: &[Coverage]) -> Vec<Blinding> {
    let mut by_rule: Vec<Blinding> = Vec::new();
    for coverage in covered {
        for gap in &coverage.gaps {
            if covering_would_leak(&gap.request, coverage.needs) {
                continue;
            }
            let rule = gap.rule.map(|r| r - 1);
            let index = match by_rule.iter().position(|b| b.rule == rule) {
                Some(index) => index,
                None => {
                    by_rule.push(Blinding {
                        rule,
                        everyone: false,
                        whom: Vec::new(),
                        requests: Vec::new(),
                        logged_at: gap.logged_at,
                        detections: Vec::new(),
                    });
                    by_rule.len() - 1
                }
            };
            let entry = &mut by_rule[index];
            entry.everyone |= gap.only.is_none();
            entry.logged_at = entry.logged_at.min(gap.logged_at);
            if let Some(only) = &gap.only
                && !entry.whom.contains(only)
            {
                entry.whom.push(only.clone());
            }
            if !entry.requests.contains(&gap.request) {
                entry.requests.push(gap.request.clone());
            }
            if !entry.detections.iter().any(|(id, ..)| *id == coverage.id) {
                let detection = (coverage.id.clone(), coverage.slug.clone(), coverage.needs);
                entry.detections.push(detection);
            }
        }
    }
    by_rule.sort_by_key(|b| !b.everyone);
    by_rule
}

/// Requests (`create pods`, `patch pods`) by resource: `pods (create, patch)`.
pub fn by_resource(requests: &[String]) -> Vec<String> {
    let mut resources: Vec<(String, Vec<String>)> = Vec::new();
    for request in requests {
        let (verb, resource) = request.split_once(' ').unwrap_or(("", request));
        let resource = if resource == "requests" {
            "any request"
        } else {
            resource
        };
        match resources.iter_mut().find(|(r, _)| r == resource) {
            Some((_, verbs)) => verbs.push(verb.to_string()),
            None => resources.push((resource.to_string(), vec![verb.to_string()])),
        }
    }
    resources
        .into_iter()
        .map(|(resource, verbs)| format!("{resource} ({})", verbs.join(", ")))
        .collect()
}

/// Whether logging `request` (`create secrets`) at `level` would write credentials.
pub(crate) fn covering_would_leak(request: &str, level: Level) -> bool {
    SENSITIVE
        .iter()
        .any(|(verb, _, resource, subresource, writes, _)| {
            request_words(verb, resource, subresource) == request && level >= *writes
        })
}

/// The coverage of each detection, in the order given.
pub fn coverage(policy: &AuditPolicy, detections: &[&'static Detection]) -> Vec<Coverage> {
    let named = named_namespaces(policy);
    detections
        .iter()
        .map(|detection| judge(policy, detection, &named))
        .collect()
}

/// The namespaces to ask the policy about a request in: one no rule names, then each one
/// some rule names; a cluster-scoped request is in none (`""`).
fn namespaces_asked(namespaced: bool, named: &[String]) -> Vec<&str> {
    if namespaced {
        std::iter::once(OTHER_NAMESPACE)
            .chain(named.iter().map(String::as_str))
            .collect()
    } else {
        vec![""]
    }
}

/// One request a trigger looks at, as the policy is asked about it.
pub(crate) struct Asked<'a> {
    pub request: Request<'a>,
    /// `create pods`; `get requests` for a trigger of every request.
    pub words: String,
    /// `in namespace kube-system` when asked in a namespace some rule names.
    pub in_namespace: Option<String>,
}

/// The requests of `trigger` to ask the policy about: each verb, in a namespace no rule
/// names, then in each namespace some rule does (`named`); a cluster-scoped resource in
/// none. A trigger of every request is asked as a request no rule names; one of any
/// resource of an API group as a request for `*` in that group (what a rule for the group,
/// or for `*` in it, decides; a rule naming one of its resources does not).
pub(crate) fn asked<'a>(trigger: &Trigger, named: &'a [String]) -> Vec<Asked<'a>> {
    let verbs = if trigger.verbs.is_empty() {
        palisade_k8s::REQUEST_VERBS
    } else {
        trigger.verbs
    };
    let (resource, group, namespaced) = match trigger.resource {
        Some(resource) => {
            let (group, namespaced) = trigger.group_and_scope().unwrap_or(("", true));
            (resource, group, namespaced)
        }
        // Any request: judged on one that no rule names.
        None => ("\u{0}unnamed", "\u{0}unnamed.invalid", true),
    };
    let subresource = match trigger.sub {
        Sub::Is(sub) => sub,
        Sub::None | Sub::Any => "",
    };
    let namespaces = namespaces_asked(namespaced, named);
    let mut out = Vec::with_capacity(verbs.len() * namespaces.len());
    for verb in verbs {
        let words = match (trigger.any_resource_of_group(), trigger.resource) {
            (Some(group), _) => request_words(verb, &format!("{resource}.{group}"), ""),
            (None, Some(_)) => request_words(verb, resource, subresource),
            (None, None) => request_words(verb, "requests", ""),
        };
        for namespace in &namespaces {
            out.push(Asked {
                request: Request {
                    verb,
                    group,
                    resource,
                    subresource,
                    namespace,
                    path: "",
                },
                words: words.clone(),
                in_namespace: (*namespace != OTHER_NAMESPACE && namespaced)
                    .then(|| format!("in namespace {namespace}")),
            });
        }
    }
    out
}

fn judge(policy: &AuditPolicy, detection: &Detection, named: &[String]) -> Coverage {
    let meta: &RuleMeta = detection.meta();
    let mut gaps: Vec<Gap> = Vec::new();
    let mut blind = false;
    for trigger in detection.triggers {
        let needs = trigger.needs.max(Level::Metadata);
        for Asked {
            request,
            words,
            in_namespace,
        } in asked(trigger, named)
        {
            let levels = policy.levels(&request);
            for (index, who, level) in levels.some {
                if level < needs {
                    let only = match &in_namespace {
                        Some(ns) => format!("by {who} {ns}"),
                        None => format!("by {who}"),
                    };
                    gaps.push(gap(policy, &words, Some(only), level, Some(index)));
                }
            }
            if levels.everyone < needs {
                blind |= in_namespace.is_none();
                gaps.push(gap(
                    policy,
                    &words,
                    in_namespace,
                    levels.everyone,
                    levels.rule,
                ));
            }
        }
    }
    let mut unique: Vec<Gap> = Vec::new();
    for gap in gaps {
        if !unique.contains(&gap) {
            unique.push(gap);
        }
    }
    let mut gaps = unique;
    // What blinds it for everyone first.
    gaps.sort_by_key(|g| g.only.is_some());
    let needs = detection
        .triggers
        .iter()
        .map(|t| t.needs.max(Level::Metadata))
        .max()
        .unwrap_or(Level::Metadata);
    let verdict = if blind {
        Verdict::Blind
    } else if gaps.is_empty() {
        Verdict::Covered
    } else {
        Verdict::Partly
    };
    Coverage {
        id: meta.id.to_string(),
        slug: meta.slug.to_string(),
        needs,
        verdict,
        gaps,
    }
}

fn gap(
    policy: &AuditPolicy,
    request: &str,
    only: Option<String>,
    logged_at: Level,
    rule: Option<usize>,
) -> Gap {
    Gap {
        request: request.to_string(),
        only,
        logged_at,
        rule: rule.map(|r| r + 1),
        line: rule.map(|r| policy.rules[r].line),
    }
}

/// The namespaces some rule names, in order, once each.
pub(crate) fn named_namespaces(policy: &AuditPolicy) -> Vec<String> {
    let mut named: Vec<String> = Vec::new();
    for namespace in policy.rules.iter().flat_map(|r| &r.namespaces) {
        if !namespace.is_empty() && !named.contains(namespace) {
            named.push(namespace.clone());
        }
    }
    named
}

/// What the policy writes into the log that holds credentials: each sensitive request logged
/// at the level that writes its secret, for everyone or for some.
pub fn leaks(policy: &AuditPolicy) -> Vec<Leak> {
    let named = named_namespaces(policy);
    let mut out: Vec<Leak> = Vec::new();
    for (verb, group, resource, subresource, writes, holds) in SENSITIVE {
        let namespaced = palisade_k8s::builtin_resource_namespaced(group, resource).unwrap_or(true);
        let namespaces = namespaces_asked(namespaced, &named);
        let shown = request_words(verb, resource, subresource);
        // The rules already reported for this request (a rule for everyone decides it in
        // every namespace it does not name).
        let mut reported: Vec<(usize, Option<String>)> = Vec::new();
        for namespace in namespaces {
            let request = Request {
                verb,
                group,
                resource,
                subresource,
                namespace,
                path: "",
            };
            let levels = policy.levels(&request);
            let everyone = levels.rule.map(|r| (r, None, levels.everyone));
            for (index, who, level) in levels
                .some
                .into_iter()
                .map(|(i, who, l)| (i, Some(who), l))
                .chain(everyone)
            {
                if level < *writes || reported.contains(&(index, who.clone())) {
                    continue;
                }
                reported.push((index, who.clone()));
                let in_namespace = (namespace != OTHER_NAMESPACE && namespaced)
                    .then(|| format!("in namespace {namespace}"));
                let only = match (who, in_namespace) {
                    (Some(who), Some(ns)) => Some(format!("by {who} {ns}")),
                    (Some(who), None) => Some(format!("by {who}")),
                    (None, ns) => ns,
                };
                out.push(Leak {
                    request: shown.clone(),
                    only,
                    logged_at: level,
                    rule: index + 1,
                    line: policy.rules[index].line,
                    holds,
                });
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::registry::DETECTIONS;

    fn policy(rules: &str) -> AuditPolicy {
        AuditPolicy::parse(&format!(
            "apiVersion: audit.k8s.io/v1\nkind: Policy\nrules:\n{rules}"
        ))
        .unwrap()
    }

    fn of<'c>(coverage: &'c [Coverage], id: &str) -> &'c Coverage {
        coverage.iter().find(|c| c.id == id).unwrap()
    }

    #[test]
    fn a_policy_logging_everything_at_request_response_covers_every_detection() {
        let all = policy("  - level: RequestResponse\n");
        let coverage = coverage(&all, DETECTIONS);
        assert!(coverage.iter().all(|c| c.verdict == Verdict::Covered));
        assert_eq!(of(&coverage, "AUD004").needs, Level::Request);
    }

    /// A detection of any resource of an API group (AUD052 on Gatekeeper's constraints) is
    /// blinded by a rule for that group, and by nothing a rule says of other requests.
    #[test]
    fn a_group_detection_is_judged_on_its_group_only() {
        let events_dropped = policy(
            "  - level: None\n    resources:\n      - group: \"\"\n        resources: [\"events\"]\n  - level: None\n    users: [\"system:kube-proxy\"]\n    verbs: [\"watch\"]\n  - level: Metadata\n",
        );
        let coverage_of = |p: &AuditPolicy| {
            coverage(p, DETECTIONS)
                .into_iter()
                .find(|c| c.id == "AUD052")
                .unwrap()
        };
        assert_eq!(coverage_of(&events_dropped).verdict, Verdict::Covered);
        let constraints_dropped = policy(
            "  - level: None\n    resources:\n      - group: \"constraints.gatekeeper.sh\"\n  - level: Metadata\n",
        );
        let blind = coverage_of(&constraints_dropped);
        assert_eq!(blind.verdict, Verdict::Blind);
        assert!(
            blind.gaps.iter().any(|g| g.describe()
                == "create *.constraints.gatekeeper.sh: not logged (rule 1, line 4)"),
            "{:?}",
            blind.gaps.iter().map(Gap::describe).collect::<Vec<_>>()
        );
        // A rule for one constraint kind leaves the others logged.
        let one_kind = policy(
            "  - level: None\n    resources:\n      - group: \"constraints.gatekeeper.sh\"\n        resources: [\"k8srequiredlabels\"]\n  - level: Metadata\n",
        );
        assert_eq!(coverage_of(&one_kind).verdict, Verdict::Covered);
    }

    #[test]
    fn pods_at_metadata_blind_the_pod_detections_and_name_the_rule() {
        let metadata = policy(
            "  - level: Metadata\n    resources:\n      - group: \"\"\n        resources: [\"pods\"]\n  - level: RequestResponse\n",
        );
        let coverage = coverage(&metadata, DETECTIONS);
        let privileged = of(&coverage, "AUD004");
        assert_eq!(privileged.verdict, Verdict::Blind);
        assert_eq!(
            privileged.gaps[0].describe(),
            "create pods: logged at Metadata (rule 1, line 4)"
        );
        // exec is a subresource, not named by `pods`: the rest of the policy logs it.
        assert_eq!(of(&coverage, "AUD001").verdict, Verdict::Covered);
        assert_eq!(of(&coverage, "AUD011").verdict, Verdict::Covered);
    }

    #[test]
    fn rules_for_some_requesters_or_namespaces_leave_a_detection_partly_covered() {
        let some = policy(
            "  - level: None\n    userGroups: [\"system:nodes\"]\n  - level: Metadata\n    namespaces: [\"kube-system\"]\n  - level: Request\n",
        );
        let coverage = coverage(&some, DETECTIONS);
        let system = of(&coverage, "AUD009");
        assert_eq!(system.verdict, Verdict::Partly);
        let gaps: Vec<String> = system.gaps.iter().map(Gap::describe).collect();
        assert!(
            gaps.contains(
                &"create pods by groups system:nodes: not logged (rule 1, line 4)".into()
            ),
            "{gaps:?}"
        );
        assert!(
            gaps.contains(
                &"create pods in namespace kube-system: logged at Metadata (rule 2, line 6)".into()
            ),
            "{gaps:?}"
        );
        // A detection of every request sees that nodes are never logged.
        let users = of(&coverage, "AUD028");
        assert_eq!(users.verdict, Verdict::Partly);
        assert!(
            users.gaps[0]
                .describe()
                .starts_with("get requests by groups system:nodes")
        );
        // Nothing logged by default: blind.
        let nothing = policy("  - level: Metadata\n    namespaces: [\"app\"]\n");
        assert_eq!(
            of(&super::coverage(&nothing, DETECTIONS), "AUD028").verdict,
            Verdict::Blind
        );
    }

    #[test]
    fn gaps_are_grouped_by_the_rule_that_makes_them() {
        let some = policy(
            "  - level: None\n    userGroups: [\"system:nodes\"]\n  - level: Metadata\n    resources:\n      - group: \"\"\n        resources: [\"pods\", \"secrets\"]\n  - level: Request\n",
        );
        let by_rule = blinding(&coverage(&some, DETECTIONS));
        // Rule 2 blinds the pod detections for everyone; AUD019's gap on Secrets is left to
        // the leak check (covering it would log Secret values).
        let pods = &by_rule[0];
        assert_eq!((pods.rule, pods.everyone), (Some(1), true));
        assert_eq!(pods.requests, ["create pods", "patch pods", "update pods"]);
        assert!(pods.detections.iter().any(|(id, ..)| id == "AUD004"));
        assert!(pods.detections.iter().all(|(id, ..)| id != "AUD019"));
        // Rule 3 logs workloads at Request: the detections that compare with what was
        // stored cannot.
        let request = by_rule.iter().find(|b| b.rule == Some(2)).unwrap();
        assert!(request.everyone);
        assert!(request.detections.iter().any(|(id, ..)| id == "AUD044"));
        // Rule 1 only for nodes, so last.
        let nodes = by_rule.last().unwrap();
        assert_eq!((nodes.rule, nodes.everyone), (Some(0), false));
        assert_eq!(nodes.logged_at, Level::None);
        assert_eq!(nodes.whom[0], "by groups system:nodes");
        assert!(nodes.requests.contains(&"create pods".to_string()));
        assert_eq!(by_rule.len(), 3);
    }

    /// CSI snapshots are custom resources in their own API group: a rule for the core group
    /// does not log them, one for their group does, and the cluster-scoped contents are not
    /// in any namespace.
    #[test]
    fn custom_resources_are_judged_in_their_own_group() {
        let core_only = policy(
            r#"  - level: Metadata
    resources:
      - group: ""
  - level: None
"#,
        );
        let storage = of(&coverage(&core_only, DETECTIONS), "AUD047").clone();
        assert_eq!(storage.verdict, Verdict::Blind);
        let gaps: Vec<String> = storage.gaps.iter().map(Gap::describe).collect();
        assert_eq!(
            gaps,
            [
                "delete volumesnapshots: not logged (rule 2, line 7)",
                "deletecollection volumesnapshots: not logged (rule 2, line 7)",
                "delete volumesnapshotcontents: not logged (rule 2, line 7)",
                "deletecollection volumesnapshotcontents: not logged (rule 2, line 7)",
            ]
        );
        let both = policy(
            r#"  - level: Metadata
    resources:
      - group: ""
      - group: snapshot.storage.k8s.io
        resources: ["volumesnapshots"]
  - level: Metadata
    namespaces: [""]
    resources:
      - group: snapshot.storage.k8s.io
  - level: None
"#,
        );
        assert_eq!(
            of(&coverage(&both, DETECTIONS), "AUD047").verdict,
            Verdict::Covered
        );
    }

    #[test]
    fn secret_values_and_tokens_written_to_the_log_are_leaks() {
        let careful = policy(
            "  - level: Metadata\n    resources:\n      - group: \"\"\n        resources: [\"secrets\", \"serviceaccounts/token\"]\n      - group: authentication.k8s.io\n        resources: [\"tokenreviews\"]\n  - level: RequestResponse\n",
        );
        assert_eq!(leaks(&careful), []);
        let careless = policy("  - level: RequestResponse\n");
        let found: Vec<String> = leaks(&careless).iter().map(|l| l.request.clone()).collect();
        assert_eq!(
            found,
            [
                "create secrets",
                "update secrets",
                "get secrets",
                "list secrets",
                "create serviceaccounts/token",
                "create tokenreviews"
            ]
        );
        // Written in one namespace only: still a leak, said where.
        let system = policy(
            "  - level: RequestResponse\n    namespaces: [\"kube-system\"]\n  - level: Metadata\n",
        );
        let found: Vec<String> = leaks(&system)
            .iter()
            .map(|l| format!("{} {}", l.request, l.only.as_deref().unwrap_or("")))
            .collect();
        assert_eq!(
            found,
            [
                "create secrets in namespace kube-system",
                "update secrets in namespace kube-system",
                "get secrets in namespace kube-system",
                "list secrets in namespace kube-system",
                "create serviceaccounts/token in namespace kube-system",
            ]
        );
        let request = policy("  - level: Request\n");
        let found: Vec<String> = leaks(&request).iter().map(|l| l.request.clone()).collect();
        assert_eq!(
            found,
            ["create secrets", "update secrets", "create tokenreviews"]
        );
    }
}
