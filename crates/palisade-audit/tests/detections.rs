//! Every detection against its fixtures (tests/fixtures/<ID>/): each event of `fail.jsonl`
//! raises at least one alert of the rule (the alerts are snapshotted), but for those whose
//! `# seen before: ...` says they set up what a later event is compared with; `pass.jsonl`
//! raises none. A `#! settings: {...}` line sets `[audit]` settings; `learn.jsonl` is learned as the
//! baseline first. And the registry: ids, documentation sections, MITRE techniques.

mod fixture_files;

use std::path::Path;

use fixture_files::{cases, fixtures, learn};
use palisade_audit::input::{ReadStats, decode_text};
use palisade_audit::registry::DETECTIONS;
use palisade_audit::{Alert, Engine, Event, Origin, Selection};

/// The start of a failing fixture's case that sets up what a later case is compared with
/// (`# seen before: ...`): it raises no alert of the rule.
const SEEN_BEFORE: &str = "seen before: ";

/// The alerts of the rule, per case, analysing the cases in order in one engine.
fn run(id: &str, file: &str) -> Vec<(String, Vec<Alert>)> {
    let dir = fixtures().join(id);
    let (cases, settings) = cases(&dir.join(file));
    assert!(!cases.is_empty(), "{id}/{file} has no case");
    let mut engine = Engine::new(settings, learn(&dir), &Selection::default());
    let mut out = Vec::new();
    for (i, (why, line)) in cases.into_iter().enumerate() {
        let origin = Origin {
            file: format!("{id}/{file}"),
            line: i as u64 + 1,
        };
        let mut alerts = Vec::new();
        let mut stats = ReadStats::default();
        let mut sink = |e: &Event, o: &Origin| engine.analyze(e, o, &mut alerts);
        decode_text(&line, &origin, &mut stats, &mut sink);
        assert_eq!(
            stats.malformed, 0,
            "{id}/{file}: {why}: {:?}",
            stats.problems
        );
        alerts.retain(|a| a.rule.id == id);
        out.push((why, alerts));
    }
    out
}

#[test]
fn every_detection_fires_on_its_failing_fixture_and_not_on_its_passing_one() {
    for detection in DETECTIONS {
        let id = detection.meta().id.to_string();
        let failing = run(&id, "fail.jsonl");
        let bursts = matches!(id.as_str(), "AUD021" | "AUD022");
        if bursts {
            // A burst is one alert at its threshold, on the last event.
            let total: usize = failing.iter().map(|(_, a)| a.len()).sum();
            assert_eq!(total, 1, "{id}: one burst alert");
        } else {
            for (why, alerts) in &failing {
                // An event that only sets up what a later one is compared with.
                if why.starts_with(SEEN_BEFORE) {
                    assert!(alerts.is_empty(), "{id}: `{why}` raised an alert");
                } else {
                    assert!(!alerts.is_empty(), "{id}: no alert for `{why}`");
                }
            }
        }
        let shown: Vec<serde_json::Value> = failing
            .iter()
            .flat_map(|(why, alerts)| {
                alerts.iter().map(move |a| {
                    serde_json::json!({
                        "case": why,
                        "severity": a.severity,
                        "message": a.message,
                        "evidence": serde_json::to_value(a).unwrap()["evidence"],
                    })
                })
            })
            .collect();
        insta::assert_yaml_snapshot!(id.clone(), shown);
        for (why, alerts) in run(&id, "pass.jsonl") {
            assert!(
                alerts.is_empty(),
                "{id}: `{why}` raised {:?}",
                alerts.iter().map(|a| &a.message).collect::<Vec<_>>()
            );
        }
    }
}

#[test]
fn the_registry_is_complete_and_documented() {
    let mut ids: Vec<&str> = Vec::new();
    for (i, detection) in DETECTIONS.iter().enumerate() {
        let meta = detection.meta();
        assert_eq!(
            meta.id,
            format!("AUD{:03}", i + 1),
            "ids are in order without gaps"
        );
        assert!(!ids.contains(&meta.id.as_ref()));
        ids.push(meta.id.as_ref());
        for section in ["What it checks", "Why it matters", "Response"] {
            assert!(
                meta.docs_section(section).is_some(),
                "{}: no `{section}` section",
                meta.id
            );
        }
        for control in meta.controls.iter() {
            assert!(
                control.title().is_some(),
                "{}: unknown technique {control}",
                meta.id
            );
        }
        assert!(!detection.triggers.is_empty(), "{}: no trigger", meta.id);
        // Coverage and suggestions ask the policy about a resource in its API group.
        for trigger in detection.triggers {
            assert!(
                trigger.resource.is_none() || trigger.group_and_scope().is_some(),
                "{}: `{:?}` is not in the built-in table: declare its group (in_api_group)",
                meta.id,
                trigger.resource
            );
        }
        assert!(
            fixtures()
                .join(meta.id.as_ref())
                .join("fail.jsonl")
                .exists()
        );
        assert!(
            fixtures()
                .join(meta.id.as_ref())
                .join("pass.jsonl")
                .exists()
        );
        // The Falco counterpart named in the docs is the one in the mapping.
        if let Some(falco) = meta.docs_section("Falco equivalent") {
            for name in falco.split('`').skip(1).step_by(2) {
                let mapped = palisade_audit::falco::counterpart(name)
                    .unwrap_or_else(|| panic!("{}: `{name}` is not in the Falco mapping", meta.id));
                assert_eq!(mapped.palisade, meta.id, "{name}");
            }
        }
        // The Sigma rules named in the docs are the ones the mapping gives this detection.
        let sigma = meta.docs_section("Sigma equivalent").unwrap_or_default();
        let mut named: Vec<&str> = sigma.split('`').skip(1).step_by(2).collect();
        let mut mapped: Vec<&str> = palisade_audit::sigma::SIGMA_COUNTERPARTS
            .iter()
            .filter(|c| c.palisade.contains(&meta.id.as_ref()))
            .map(|c| c.title)
            .collect();
        named.sort_unstable();
        mapped.sort_unstable();
        assert_eq!(named, mapped, "{}: the Sigma equivalent section", meta.id);
    }
}

/// `docs/audit-detections.md` is generated from the registry and the Falco and Sigma
/// mappings; this test
/// fails when it is stale. Regenerate with
/// `UPDATE_DOCS=1 cargo test -p palisade-audit --test detections`.
#[test]
fn detections_doc_is_generated_from_the_registry() {
    let mut doc = String::from(
        "# Palisade audit detections\n\nGenerated from the detection registry by `UPDATE_DOCS=1 cargo test -p palisade-audit --test detections`; do not edit. `palisade audit rules [ID]` prints the same.\n\n| id | severity | MITRE ATT&CK | slug | title |\n|---|---|---|---|---|\n",
    );
    for detection in DETECTIONS {
        let m = detection.meta();
        let techniques: Vec<&str> = m.controls.iter().map(|c| c.id.as_ref()).collect();
        doc.push_str(&format!(
            "| [{}](#{}) | {} | {} | {} | {} |\n",
            m.id,
            m.id.to_ascii_lowercase(),
            m.severity,
            techniques.join(", "),
            m.slug,
            m.title
        ));
    }
    doc.push_str("\n## Falco k8saudit rules and their counterparts\n\n| Falco rule | Palisade | requests |\n|---|---|---|\n");
    for c in palisade_audit::falco::COUNTERPARTS {
        let requests = if c.verbs.is_empty() && c.resources.is_empty() {
            String::new()
        } else {
            format!("{} {}", c.verbs.join("/"), c.resources.join(", "))
        };
        doc.push_str(&format!("| {} | {} | {requests} |\n", c.falco, c.palisade));
    }
    for (falco, why) in palisade_audit::falco::WITHOUT_COUNTERPART {
        doc.push_str(&format!("| {falco} | none | {why} |\n"));
    }
    doc.push_str("\n## Sigma rules and their counterparts\n\nSigmaHQ's Kubernetes audit rules, a checklist of behaviours; `tests/sigma.rs` builds events from each rule's selection and requires one of the counterparts to fire on every one.\n\n| Sigma rule | Palisade | how |\n|---|---|---|\n");
    for c in palisade_audit::sigma::SIGMA_COUNTERPARTS {
        doc.push_str(&format!(
            "| {} | {} | {} |\n",
            c.title,
            c.palisade.join(", "),
            c.note
        ));
    }
    for detection in DETECTIONS {
        let m = detection.meta();
        let techniques: Vec<String> = m
            .controls
            .iter()
            .map(|c| format!("- `{}`: {}", c.id, c.title().unwrap_or("")))
            .collect();
        let triggers: Vec<String> = detection.triggers.iter().map(|t| t.describe()).collect();
        doc.push_str(&format!(
            "\n## {}\n\n**{}** ({}, `{}`)\n\nLooks at: {}.\n\n{}\n### Remediation\n{}\n",
            m.id,
            m.title,
            m.severity,
            m.slug,
            triggers.join(", "),
            m.docs.replace("\n## ", "\n### ").replacen("## ", "### ", 1),
            m.remediation
        ));
        if !techniques.is_empty() {
            doc.push_str(&format!("\n### MITRE ATT&CK\n{}\n", techniques.join("\n")));
        }
    }
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/audit-detections.md");
    if std::env::var_os("UPDATE_DOCS").is_some() {
        std::fs::write(&path, &doc).unwrap();
    }
    let current = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        current == doc,
        "docs/audit-detections.md is stale: run UPDATE_DOCS=1 cargo test -p palisade-audit --test detections"
    );
}

/// The README and the opening of `docs/audit.md` say how many detections there are: the
/// registry's count (a new detection makes this fail until they are updated).
#[test]
fn the_readme_and_the_audit_guide_count_the_detections() {
    let count = format!("{} detections", DETECTIONS.len());
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    for (file, opening) in [("README.md", 1200), ("docs/audit.md", 400)] {
        let text = std::fs::read_to_string(root.join(file)).unwrap();
        let head: String = text.chars().take(opening).collect();
        let squeezed = head.split_whitespace().collect::<Vec<_>>().join(" ");
        assert!(
            squeezed.contains(&count),
            "{file} does not say `{count}` near its top"
        );
    }
}
