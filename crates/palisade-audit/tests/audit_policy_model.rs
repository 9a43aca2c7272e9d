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

/// One request the tests try, by a requester, on an object.
struct Tried {
    request: Request<'static>,
    user: &'static str,
    groups: Vec<String>,
    name: &'static str,
}

/// Every request of a resource trigger the tests try: each verb, in kube-system, app and a
/// namespace no rule names (none when cluster-scoped), by each requester, on two objects.
fn tried(trigger: &palisade_audit::detection::Trigger) -> Vec<Tried> {
    let resource = trigger.resource.expect("a resource trigger");
    let (group, namespaced) = trigger.group_and_scope().unwrap_or(("", true));
    let subresource = match trigger.sub {
        Sub::Is(s) => s,
        _ => "",
    };
    let verbs: &[&'static str] = if trigger.verbs.is_empty() {
        VERBS
    } else {
        trigger.verbs
    };
    let namespaces: &[&str] = if namespaced {
        &["kube-system", "app", "elsewhere"]
    } else {
        &[""]
    };
    let mut out = Vec::new();
    for verb in verbs {
        for namespace in namespaces {
            for (user, groups) in requesters() {
                for name in ["admin", "web"] {
                    let request = Request {
                        verb,
                        group,
                        resource,
                        subresource,
                        namespace,
                        path: "",
                    };
                    out.push(Tried {
                        request,
                        user,
                        groups: groups.clone(),
                        name,
                    });
                }
            }
        }
    }
    out
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
                let needs = trigger.needs.max(Level::Metadata);
                for one in tried(trigger) {
                    let (request, user, name) = (&one.request, one.user, one.name);
                    let level = policy.level_for(request, user, &one.groups, name);
                    if verdict.verdict == Verdict::Covered {
                        prop_assert!(level >= needs,
                            "{} covered, but {} {} by {user} in {:?} on {name} is logged at {level:?}\n{text}",
                            verdict.id, request.verb, request.resource, request.namespace);
                    }
                    if user == "zed" && name == "web" && !NAMESPACES.contains(&request.namespace) && level < needs {
                        short_for_anyone = true;
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

/// Requests of the stream AUD048 watches: (verb, group, resource), namespaced or not. Pods,
/// ConfigMaps, Deployments and ClusterRoleBindings are read above `Metadata` by some
/// detection; Secrets' reads are not.
const STREAM_REQUESTS: &[(&str, &str, &str, bool)] = &[
    ("create", "", "pods", true),
    ("update", "", "configmaps", true),
    ("update", "apps", "deployments", true),
    (
        "create",
        "rbac.authorization.k8s.io",
        "clusterrolebindings",
        false,
    ),
    ("get", "", "secrets", true),
];
const STREAM_NAMESPACES: &[&str] = &["kube-system", "app", "elsewhere"];
const STREAM_NAMES: &[&str] = &["admin", "web"];

/// One request of a stream: indexes into the requests, requesters, namespaces and names.
type Step = (usize, usize, usize, usize);

fn step() -> impl Strategy<Value = Step> {
    (
        0..STREAM_REQUESTS.len(),
        0..stream_requesters().len(),
        0..STREAM_NAMESPACES.len(),
        0..STREAM_NAMES.len(),
    )
}

/// The requesters of a stream: those tried above, one of them in other groups (a policy may
/// give the same user's requests another level through `userGroups`), and another user in
/// the same groups.
fn stream_requesters() -> Vec<(&'static str, Vec<String>)> {
    let mut all = requesters();
    all.push(("alice", vec!["system:nodes".into()]));
    all.push(("bob", vec!["system:authenticated".into()]));
    all
}

/// The most any detection that runs by default reads of a request.
fn reads(verb: &str, resource: &str) -> Level {
    let settings = palisade_audit::Settings::default();
    palisade_audit::engine::selected(&settings, &palisade_audit::Selection::default(), false)
        .iter()
        .flat_map(|d| d.triggers.iter())
        .filter(|t| t.resource == Some(resource) && (t.verbs.is_empty() || t.verbs.contains(&verb)))
        .filter(|t| matches!(t.sub, Sub::None | Sub::Any))
        .map(|t| t.needs)
        .fold(Level::Metadata, Level::max)
}

/// What the API server's policy decides a level from, for one step: a create names no
/// object where the policy looks (its URL ends at the collection).
fn policy_key(step: &Step) -> (usize, usize, usize, Option<usize>) {
    let (request, requester, namespace, name) = *step;
    let (verb, _, _, namespaced) = STREAM_REQUESTS[request];
    (
        request,
        requester,
        if namespaced { namespace } else { usize::MAX },
        (verb != "create").then_some(name),
    )
}

/// The step as `policy` logs it (the level it gives the request, with the objects that level
/// holds), at second `i`; `None` when the policy does not log it.
fn logged(policy: &AuditPolicy, step: &Step, i: usize) -> Option<(Level, String)> {
    let (request, requester, namespace, name) = *step;
    let (verb, group, resource, namespaced) = STREAM_REQUESTS[request];
    let (user, groups) = stream_requesters().swap_remove(requester);
    let namespace = if namespaced {
        STREAM_NAMESPACES[namespace]
    } else {
        ""
    };
    let name = STREAM_NAMES[name];
    let policy_name = if verb == "create" { "" } else { name };
    let level = policy.level_for(
        &Request {
            verb,
            group,
            resource,
            subresource: "",
            namespace,
            path: "",
        },
        user,
        &groups,
        policy_name,
    );
    if level == Level::None {
        return None;
    }
    // Each object created is another (`generateName`), as a controller's pods are.
    let name = if verb == "create" {
        format!("{name}-{i}")
    } else {
        name.to_string()
    };
    let object = serde_json::json!({"metadata": {"name": name, "namespace": namespace}});
    let mut event = serde_json::json!({
        "kind": "Event", "apiVersion": "audit.k8s.io/v1", "level": level.as_str(),
        "auditID": format!("id-{i}"), "stage": "ResponseComplete", "requestURI": "/",
        "verb": verb, "user": {"username": user, "groups": groups},
        "objectRef": {"apiGroup": group, "resource": resource, "name": name},
        "responseStatus": {"code": 200},
        "requestReceivedTimestamp": format!("2026-12-01T10:{:02}:{:02}Z", i / 60, i % 60),
    });
    if namespaced {
        event["objectRef"]["namespace"] = namespace.into();
    }
    if level >= Level::Request {
        event["requestObject"] = object.clone();
    }
    if level >= Level::RequestResponse {
        event["responseObject"] = object;
    }
    Some((level, event.to_string()))
}

/// The kinds of request AUD048 reports when `steps` are logged by `policies` in turn.
fn lowered(policies: &[(&AuditPolicy, &[Step])]) -> std::collections::BTreeSet<String> {
    reported("AUD048", policies)
}

/// The kinds of request detection `id` reports when `steps` are logged by `policies` in
/// turn, each once.
fn reported(id: &str, policies: &[(&AuditPolicy, &[Step])]) -> std::collections::BTreeSet<String> {
    let settings = palisade_audit::Settings::default();
    let mut engine =
        palisade_audit::Engine::new(settings, None, &palisade_audit::Selection::default());
    let origin = palisade_audit::Origin {
        file: "stream".into(),
        line: 1,
    };
    let mut alerts = Vec::new();
    let mut i = 0;
    for (policy, steps) in policies {
        for step in *steps {
            i += 1;
            let Some((_, line)) = logged(policy, step, i) else {
                continue;
            };
            let event = palisade_audit::Event::decode(&line).unwrap();
            engine.analyze(&event, &origin, &mut alerts);
        }
    }
    let kinds: Vec<String> = alerts
        .iter()
        .filter(|a| a.rule.id == id)
        .map(|a| format!("{} {}", a.request.verb, a.request.resource))
        .collect();
    let once: std::collections::BTreeSet<String> = kinds.iter().cloned().collect();
    assert_eq!(
        once.len(),
        kinds.len(),
        "{id} reported a kind twice: {kinds:?}"
    );
    once
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]
    /// AUD048 against the policy model: one policy, however conditional its rules, logs the
    /// same request by the same requester at one level, so a stream logged by one policy is
    /// never reported lowered. A stream logged by one policy and then another is reported,
    /// once per kind of request, exactly when some request logged by the first at a level its
    /// detections read is logged by the second below it.
    #[test]
    fn a_level_is_reported_lowered_exactly_when_the_policy_changed_it(
        rules in prop::collection::vec(rule(), 0..5),
        fallback in 0..LEVELS.len(),
        changes in prop::collection::vec((0..6usize, prop_oneof![3 => Just(1usize), 1 => 0..LEVELS.len()]), 1..4),
        added in prop::option::of(rule()),
        before in prop::collection::vec(step(), 1..30),
        more in prop::collection::vec(step(), 0..10),
    ) {
        // The same requests again after the change, and some others.
        let after: Vec<Step> = before.iter().rev().chain(&more).copied().collect();
        // The first policy ends, as most do, with a rule for every other request. The second
        // is the first with some rules' levels changed and maybe a rule put first, as an edit
        // of the policy file would.
        let mut first = rules;
        first.push((fallback, vec![], vec![], vec![], vec![], vec![], false, false));
        let mut second = first.clone();
        for (rule, level) in changes {
            let count = second.len();
            second[rule % count].0 = level;
        }
        second.splice(0..0, added);
        let (a, b) = (AuditPolicy::parse(&yaml(&first)).unwrap(), AuditPolicy::parse(&yaml(&second)).unwrap());
        let all: Vec<Step> = before.iter().chain(&after).copied().collect();
        prop_assert!(lowered(&[(&a, &all)]).is_empty(), "one policy reported lowered\n{}", yaml(&first));

        let mut expected = std::collections::BTreeSet::new();
        for later in &after {
            let Some((now, _)) = logged(&b, later, 0) else { continue };
            let (verb, _, resource, _) = STREAM_REQUESTS[later.0];
            let needs = reads(verb, resource);
            let was = before
                .iter()
                .filter(|s| policy_key(s) == policy_key(later))
                .find_map(|s| logged(&a, s, 0).map(|(level, _)| level));
            if was.is_some_and(|was| was >= needs && now < needs) {
                expected.insert(format!("{verb} {resource}"));
            }
        }
        prop_assert_eq!(lowered(&[(&a, &before), (&b, &after)]), expected, "\n{}\nthen\n{}", yaml(&first), yaml(&second));
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]
    /// AUD049 against the policy model: a stream logged by one policy is reported once (it
    /// lasts less than a day) for each kind of request some requester had logged below what
    /// the detections that run read of it, and for no other.
    #[test]
    fn a_level_is_reported_too_low_exactly_where_a_detection_reads_more(
        rules in prop::collection::vec(rule(), 0..5),
        fallback in 0..LEVELS.len(),
        steps in prop::collection::vec(step(), 1..40),
    ) {
        let mut rules = rules;
        rules.push((fallback, vec![], vec![], vec![], vec![], vec![], false, false));
        let policy = AuditPolicy::parse(&yaml(&rules)).unwrap();
        let mut expected = std::collections::BTreeSet::new();
        for step in &steps {
            let Some((level, _)) = logged(&policy, step, 0) else { continue };
            let (verb, _, resource, _) = STREAM_REQUESTS[step.0];
            if level < reads(verb, resource) {
                expected.insert(format!("{verb} {resource}"));
            }
        }
        prop_assert_eq!(reported("AUD049", &[(&policy, &steps)]), expected, "\n{}", yaml(&rules));
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]
    /// `audit coverage --suggest` against the model: the policy with the suggested rules put
    /// first (as the command writes the file) covers every detection the suggestion does not
    /// leave out with a reason; no request is logged for anyone at less than before, but where
    /// the policy wrote credentials; and no credential is written that was not before.
    #[test]
    fn the_suggested_rules_cover_what_they_claim_and_take_nothing_away(
        rules in prop::collection::vec(rule(), 0..6),
        top_omits in prop::bool::weighted(0.05),
    ) {
        let mut text = yaml(&rules);
        if top_omits {
            text = text.replace("kind: Policy\n", "kind: Policy\nomitStages: [\"ResponseComplete\"]\n");
        }
        let policy = AuditPolicy::parse(&text).unwrap();
        let suggestion = palisade_audit::suggest::suggest(&policy, DETECTIONS);
        let Some(patched_text) = suggestion.put_first(&text, &policy) else {
            prop_assert!(rules.is_empty(), "no place to put the rules\n{text}");
            return Ok(());
        };
        let patched = AuditPolicy::parse(&patched_text)
            .map_err(|e| TestCaseError::fail(format!("{e}\n{patched_text}")))?;
        // Each request a suggested rule logs is one some detection was short of.
        let short: std::collections::BTreeSet<String> = coverage(&policy, DETECTIONS)
            .into_iter()
            .flat_map(|c| c.gaps.into_iter().map(|g| g.request))
            .collect();
        for rule in &suggestion.rules {
            for verb in &rule.verbs {
                for entry in &rule.resources {
                    for resource in &entry.resources {
                        // Any resource of a group is written with its group.
                        let words = match resource.as_str() {
                            "*" => format!("{verb} *.{}", entry.group),
                            _ => format!("{verb} {resource}"),
                        };
                        prop_assert!(short.contains(&words), "{words} was not short\n{patched_text}");
                    }
                }
            }
        }
        let left: Vec<&str> = suggestion.left_out.iter().map(|l| l.detection.as_str()).collect();
        for verdict in coverage(&patched, DETECTIONS) {
            if !left.contains(&verdict.id.as_str()) {
                prop_assert_eq!(verdict.verdict, Verdict::Covered,
                    "{} {:?}\n{}", verdict.id, verdict.gaps.first(), patched_text);
            }
        }
        let leaked = |p: &AuditPolicy| -> std::collections::BTreeSet<String> {
            palisade_audit::coverage::leaks(p).into_iter().map(|l| l.request).collect()
        };
        let (before, after) = (leaked(&policy), leaked(&patched));
        prop_assert!(after.is_subset(&before), "new leaks {:?}\n{}", after.difference(&before).collect::<Vec<_>>(), patched_text);
        for detection in DETECTIONS {
            for trigger in detection.triggers.iter().filter(|t| t.resource.is_some()) {
                for one in tried(trigger) {
                    let (request, user, name) = (&one.request, one.user, one.name);
                    let was = policy.level_for(request, user, &one.groups, name);
                    let now = patched.level_for(request, user, &one.groups, name);
                    let words = palisade_audit::detection::request_words(request.verb, request.resource, request.subresource);
                    prop_assert!(now >= was || before.contains(&words),
                        "{words} by {user} in {:?} on {name}: {was:?} -> {now:?}\n{patched_text}", request.namespace);
                }
            }
        }
    }
}
