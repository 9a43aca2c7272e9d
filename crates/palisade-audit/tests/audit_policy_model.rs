//! `audit coverage` reads a policy symbolically (which rules apply to some requesters,
//! namespaces or objects, and which to everyone); the API server applies it to one request at
//! a time. Random policies check the one against the other: a detection said to be covered
//! gets at least the level it reads for every requester, namespace and object tried, and one
//! said to be blind gets less for a requester no rule names, in a namespace no rule names.

use palisade_audit::audit_policy::{AuditPolicy, Request};
use palisade_audit::coverage::{Verdict, coverage};
use palisade_audit::detection::{Level, Sub};
use palisade_audit::registry::DETECTIONS;
use proptest::prelude::*;

const LEVELS: &[&str] = &["None", "Metadata", "Request", "RequestResponse"];
const VERBS: &[&str] = &["get", "list", "create", "update", "patch", "delete"];
const RESOURCES: &[(&str, &str)] = &[
    ("", "pods"),
    ("", "pods/*"),
    ("", "*/exec"),
    ("", "*"),
    ("", "configmaps"),
    ("", "secrets"),
    ("apps", "deployments"),
    ("apps", "*"),
    ("rbac.authorization.k8s.io", "clusterrolebindings"),
    ("rbac.authorization.k8s.io", "*"),
];
const USERS: &[&str] = &["alice", "system:node:n1"];
const GROUPS: &[&str] = &["system:nodes", "system:masters"];
const NAMESPACES: &[&str] = &["kube-system", "app"];

/// One rule: level, and the indexes of its users, groups, verbs, resources and namespaces,
/// a resource name or none, and whether it omits the stage the detections read.
type Rule = (
    usize,
    Vec<usize>,
    Vec<usize>,
    Vec<usize>,
    Vec<usize>,
    Vec<usize>,
    bool,
    bool,
);

fn rule() -> impl Strategy<Value = Rule> {
    let some = |n: usize| prop::collection::vec(0..n, 0..3);
    (
        0..LEVELS.len(),
        prop::collection::vec(0..USERS.len(), 0..2),
        prop::collection::vec(0..GROUPS.len(), 0..2),
        some(VERBS.len()),
        some(RESOURCES.len()),
        prop::collection::vec(0..NAMESPACES.len(), 0..2),
        prop::bool::weighted(0.2),
        prop::bool::weighted(0.1),
    )
}

fn list(items: impl Iterator<Item = String>) -> String {
    let quoted: Vec<String> = items.map(|i| format!("\"{i}\"")).collect();
    format!("[{}]", quoted.join(", "))
}

fn yaml(rules: &[Rule]) -> String {
    let mut text = String::from("apiVersion: audit.k8s.io/v1\nkind: Policy\nrules:\n");
    for (level, users, groups, verbs, resources, namespaces, named, omit) in rules {
        text.push_str(&format!("  - level: {}\n", LEVELS[*level]));
        if !users.is_empty() {
            text.push_str(&format!(
                "    users: {}\n",
                list(users.iter().map(|i| USERS[*i].into()))
            ));
        }
        if !groups.is_empty() {
            let groups = list(groups.iter().map(|i| GROUPS[*i].into()));
            text.push_str(&format!("    userGroups: {groups}\n"));
        }
        if !verbs.is_empty() {
            text.push_str(&format!(
                "    verbs: {}\n",
                list(verbs.iter().map(|i| VERBS[*i].into()))
            ));
        }
        if !resources.is_empty() {
            text.push_str("    resources:\n");
            for i in resources {
                let (group, resource) = RESOURCES[*i];
                text.push_str(&format!(
                    "      - group: \"{group}\"\n        resources: [\"{resource}\"]\n"
                ));
                if *named {
                    text.push_str("        resourceNames: [\"admin\"]\n");
                }
            }
        }
        if !namespaces.is_empty() {
            let namespaces = list(namespaces.iter().map(|i| NAMESPACES[*i].into()));
            text.push_str(&format!("    namespaces: {namespaces}\n"));
        }
        if *omit {
            text.push_str("    omitStages: [\"ResponseComplete\"]\n");
        }
    }
    text
}

/// The requesters tried: each user and group of the vocabulary, and one no rule names.
fn requesters() -> Vec<(&'static str, Vec<String>)> {
    vec![
        ("alice", vec!["system:authenticated".into()]),
        (
            "system:node:n1",
            vec!["system:nodes".into(), "system:authenticated".into()],
        ),
        ("root", vec!["system:masters".into()]),
        ("zed", vec![]),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]
    #[test]
    fn the_symbolic_verdict_agrees_with_each_request(rules in prop::collection::vec(rule(), 0..6)) {
        let text = yaml(&rules);
        let policy = AuditPolicy::parse(&text).unwrap();
        for verdict in coverage(&policy, DETECTIONS) {
            let detection = DETECTIONS.iter().find(|d| d.meta().id == verdict.id.as_str()).unwrap();
            let mut short_for_anyone = false;
            for trigger in detection.triggers.iter().filter(|t| t.resource.is_some()) {
                let resource = trigger.resource.unwrap();
                let group = palisade_k8s::builtin_resource("", resource).map_or("", |(g, _)| g);
                let subresource = match trigger.sub { Sub::Is(s) => s, _ => "" };
                let needs = trigger.needs.max(Level::Metadata);
                let verbs: &[&str] = if trigger.verbs.is_empty() { VERBS } else { trigger.verbs };
                let namespaced =
                    palisade_k8s::builtin_resource_namespaced(group, resource).unwrap_or(true);
                let namespaces: &[&str] = if namespaced { &["kube-system", "app", "elsewhere"] } else { &[""] };
                for verb in verbs {
                    for namespace in namespaces.iter().copied() {
                        for (user, groups) in requesters() {
                            for name in ["admin", "web"] {
                                let request = Request { verb, group, resource, subresource, namespace, path: "" };
                                let level = policy.level_for(&request, user, &groups, name);
                                if verdict.verdict == Verdict::Covered {
                                    prop_assert!(level >= needs,
                                        "{} covered, but {verb} {resource} by {user} in {namespace:?} on {name} is logged at {level:?}\n{text}",
                                        verdict.id);
                                }
                                if user == "zed" && name == "web" && !NAMESPACES.contains(&namespace) && level < needs {
                                    short_for_anyone = true;
                                }
                            }
                        }
                    }
                }
            }
            let every = detection.triggers.iter().any(|t| t.resource.is_none());
            if verdict.verdict == Verdict::Blind && !every {
                prop_assert!(short_for_anyone, "{} blind, yet every request by anyone is logged\n{text}", verdict.id);
            }
        }
    }
}
