//! What a detection cannot see is said, never taken as harmless. Every failing fixture
//! (tests/fixtures/<ID>/fail.jsonl) is replayed as an audit policy logging less would have
//! logged it: without the response's object (`Request`), and without either object
//! (`Metadata`). For each event, the detection must still raise its alerts, or the engine must
//! count the request as not assessed by it. And a detection that declares it reads an object
//! must lose an alert without it somewhere in its fixtures, so the declaration is not noise.

mod fixture_files;

use std::collections::BTreeMap;

use fixture_files::{cases, fixtures, learn};
use palisade_audit::audit_policy::{AuditPolicy, Request};
use palisade_audit::coverage::{Verdict, coverage};
use palisade_audit::detection::Level;
use palisade_audit::event::TRUNCATED_ANNOTATION;
use palisade_audit::input::{ReadStats, decode_text};
use palisade_audit::registry::DETECTIONS;
use palisade_audit::{Engine, Event, Origin, Selection};
use palisade_core::tree::Tree;
use serde_json::Value;

/// The event (or each event of an `EventList`) as a policy at `level` would have logged it.
fn logged_at(line: &str, level: Level) -> String {
    as_logged(line, |_| Some(level)).unwrap()
}

/// The event (or each event of an `EventList`) at the level `level_of` gives it: without the
/// objects that level leaves out, or dropped (`None`: not logged). `None` when nothing is
/// left of the line.
fn as_logged(line: &str, level_of: impl Fn(&Value) -> Option<Level>) -> Option<String> {
    let mut value: Value = serde_json::from_str(line).unwrap();
    let lower = |mut event: Value| -> Option<Value> {
        let level = level_of(&event).filter(|l| *l > Level::None)?;
        let map = event.as_object_mut().unwrap();
        if level < Level::RequestResponse {
            map.remove("responseObject");
        }
        if level < Level::Request {
            map.remove("requestObject");
        }
        map.insert("level".into(), Value::String(level.as_str().into()));
        Some(event)
    };
    match value.get_mut("items").and_then(Value::as_array_mut) {
        Some(items) => {
            let kept: Vec<Value> = items.drain(..).filter_map(lower).collect();
            if kept.is_empty() {
                return None;
            }
            *items = kept;
            Some(value.to_string())
        }
        None => lower(value).map(|v| v.to_string()),
    }
}

/// Per event of `id`'s failing fixture logged at `level` (`None`: as written): the rule's
/// alerts and how many requests the engine said the rule could not judge.
fn replay(id: &str, level: Option<Level>) -> Vec<(String, usize, u64)> {
    let dir = fixtures().join(id);
    let (cases, settings) = cases(&dir.join("fail.jsonl"));
    let mut engine = Engine::new(settings, learn(&dir), &Selection::default());
    let unjudged = |engine: &Engine| {
        engine
            .not_assessed()
            .find(|n| n.rule.id == id)
            .map_or(0, |n| n.requests)
    };
    let mut out = Vec::new();
    for (i, (why, line)) in cases.into_iter().enumerate() {
        let line = level.map_or(line.clone(), |l| logged_at(&line, l));
        let origin = Origin {
            file: format!("{id}/fail.jsonl"),
            line: i as u64 + 1,
        };
        let before = unjudged(&engine);
        let mut alerts = Vec::new();
        let mut stats = ReadStats::default();
        let mut sink = |e: &Event, o: &Origin| engine.analyze(e, o, &mut alerts);
        decode_text(&line, &origin, &mut stats, &mut sink);
        assert_eq!(stats.malformed, 0, "{id}: {why}: {:?}", stats.problems);
        let raised = alerts.iter().filter(|a| a.rule.id == id).count();
        out.push((why, raised, unjudged(&engine) - before));
    }
    out
}

/// Detections whose alerts are about the levels events are logged at: a difference between
/// them (AUD048; replayed all at one level, it is gone by construction), or a level below
/// what other detections read (AUD049; replayed at a higher level, it is gone by
/// construction). `tests/audit_policy_model.rs` checks them against policies instead.
const ABOUT_LEVELS: &[&str] = &["AUD048", "AUD049"];

#[test]
fn an_alert_lost_to_a_lower_audit_level_is_a_request_not_assessed() {
    let mut failures = Vec::new();
    // Per detection, whether some event lost an alert at a lower level.
    let mut loses: BTreeMap<String, bool> = BTreeMap::new();
    for detection in DETECTIONS {
        let id = detection.meta().id.to_string();
        if ABOUT_LEVELS.contains(&id.as_str()) {
            continue;
        }
        let written = replay(&id, None);
        for level in [Level::Request, Level::Metadata] {
            let lower = replay(&id, Some(level));
            for ((why, raised, _), (_, raised_lower, unjudged)) in written.iter().zip(&lower) {
                if raised_lower < raised {
                    loses.insert(id.clone(), true);
                    if *unjudged == 0 {
                        failures.push(format!(
                            "{id}: `{why}` logged at {level}: {raised_lower} of {raised} alerts, \
                             and not counted as not assessed (declare `.reading(Level::...)` on \
                             its trigger)"
                        ));
                    }
                }
            }
        }
        loses.entry(id).or_insert(false);
    }
    for detection in DETECTIONS {
        let id = &detection.meta().id;
        let declares = detection.triggers.iter().any(|t| t.needs > Level::Metadata);
        if declares && !loses[id.as_ref()] {
            failures.push(format!(
                "{id}: declares that it reads a request's objects, but no failing fixture loses \
                 an alert without them (a case that does is missing, or the declaration is noise)"
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// The level `policy` logs an event at, from its request, requester and object.
fn policy_level(policy: &AuditPolicy, event: &Value) -> Option<Level> {
    let text = |pointer: &str| event.at(pointer).and_then(Value::as_str).unwrap_or("");
    let groups: Vec<String> = event
        .at("/user/groups")
        .and_then(Value::as_array)
        .map(|g| {
            g.iter()
                .filter_map(Value::as_str)
                .map(String::from)
                .collect()
        })
        .unwrap_or_default();
    let uri = text("/requestURI");
    let request = Request {
        verb: text("/verb"),
        group: text("/objectRef/apiGroup"),
        resource: text("/objectRef/resource"),
        subresource: text("/objectRef/subresource"),
        namespace: text("/objectRef/namespace"),
        path: uri.split('?').next().unwrap_or(uri),
    };
    Some(policy.level_for(
        &request,
        text("/user/username"),
        &groups,
        text("/objectRef/name"),
    ))
}

/// What `audit coverage` says of a policy holds at run time: every fixture event logged as
/// the policy would log it (without the objects its level leaves out, or not at all), a
/// detection the policy covers is never short of what it reads.
#[test]
fn a_detection_a_policy_covers_is_never_short_of_what_it_reads() {
    let example = std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/audit/policy.yaml"),
    )
    .unwrap();
    let policies = [
        example,
        policy("  - level: Metadata\n"),
        policy("  - level: Request\n"),
        policy(
            "  - level: Metadata\n    resources:\n      - group: \"\"\n        resources: [\"secrets\", \"configmaps\"]\n  - level: Request\n    resources:\n      - group: \"\"\n      - group: apps\n  - level: RequestResponse\n    namespaces: [\"kube-system\"]\n  - level: None\n    userGroups: [\"system:nodes\"]\n  - level: Metadata\n",
        ),
    ];
    let mut checked = 0;
    for text in &policies {
        let policy = AuditPolicy::parse(text).unwrap();
        let covered: Vec<String> = coverage(&policy, DETECTIONS)
            .into_iter()
            .filter(|c| c.verdict == Verdict::Covered)
            .map(|c| c.id)
            .collect();
        for detection in DETECTIONS {
            let id = detection.meta().id.to_string();
            for file in ["fail.jsonl", "pass.jsonl"] {
                let dir = fixtures().join(&id);
                let (cases, settings) = cases(&dir.join(file));
                let mut engine = Engine::new(settings, learn(&dir), &Selection::default());
                for (i, (_, line)) in cases.iter().enumerate() {
                    // A policy cannot help an event the audit backend truncated (its
                    // objects were dropped for its size): it is short whatever the level.
                    if line.contains(TRUNCATED_ANNOTATION) {
                        continue;
                    }
                    let Some(line) = as_logged(line, |e| policy_level(&policy, e)) else {
                        continue;
                    };
                    let origin = Origin {
                        file: format!("{id}/{file}"),
                        line: i as u64 + 1,
                    };
                    let mut stats = ReadStats::default();
                    let mut alerts = Vec::new();
                    let mut sink = |e: &Event, o: &Origin| engine.analyze(e, o, &mut alerts);
                    decode_text(&line, &origin, &mut stats, &mut sink);
                    checked += stats.events;
                }
                for short in engine.not_assessed() {
                    assert!(
                        !covered.iter().any(|c| c == short.rule.id.as_ref()),
                        "{} is covered by the policy, yet was short on {id}/{file}: {:?}\n{text}",
                        short.rule.id,
                        short.by_request
                    );
                }
            }
        }
    }
    assert!(checked > 500, "{checked} events");
}

fn policy(rules: &str) -> String {
    format!("apiVersion: audit.k8s.io/v1\nkind: Policy\nrules:\n{rules}")
}
