//! The labelled test set (`tests/labelled/cases.jsonl`): true secrets of every detector and
//! near-misses (settings that mention a credential, references, placeholders, documented
//! examples, public material). Precision and recall are computed over "a secret was found";
//! the detector that found it must be the labelled one. Targets (issue "Secrets exposed in
//! configuration"): precision and recall at least 0.95.

use palisade_secrets::scan_value;

struct Case {
    name: String,
    value: String,
    expect: Option<String>,
    note: String,
}

fn cases() -> Vec<Case> {
    let text = include_str!("labelled/cases.jsonl");
    text.lines()
        .filter(|l| !l.trim().is_empty())
        .map(|line| {
            let v: serde_json::Value = serde_json::from_str(line).expect("valid JSON line");
            let s = |k: &str| v.get(k).and_then(|x| x.as_str()).unwrap_or("").to_string();
            Case {
                name: s("name"),
                value: s("value"),
                expect: v.get("expect").and_then(|x| x.as_str()).map(str::to_string),
                note: s("note"),
            }
        })
        .collect()
}

#[test]
fn precision_and_recall_on_the_labelled_set() {
    let cases = cases();
    let (mut tp, mut fp, mut fneg, mut tn) = (0usize, 0usize, 0usize, 0usize);
    let mut wrong_detector = Vec::new();
    let mut misses = Vec::new();
    for case in &cases {
        // A placeholder exposes nothing: it counts as "no secret found".
        let hits: Vec<_> = scan_value(Some(&case.name), &case.value)
            .into_iter()
            .filter(|h| h.detector.exposes_secret())
            .collect();
        match (&case.expect, hits.first()) {
            (Some(expected), Some(_)) => {
                tp += 1;
                if !hits.iter().any(|h| h.detector.id() == expected) {
                    wrong_detector.push(format!(
                        "{} -> {:?} (expected {expected})",
                        case.name,
                        hits.iter().map(|h| h.detector.id()).collect::<Vec<_>>()
                    ));
                }
            }
            (Some(expected), None) => {
                fneg += 1;
                misses.push(format!("missed {expected} under {}", case.name));
            }
            (None, Some(hit)) => {
                fp += 1;
                misses.push(format!(
                    "false positive {} under {} ({})",
                    hit.detector.id(),
                    case.name,
                    case.note
                ));
            }
            (None, None) => tn += 1,
        }
    }
    let precision = tp as f64 / (tp + fp).max(1) as f64;
    let recall = tp as f64 / (tp + fneg).max(1) as f64;
    println!(
        "labelled set: {} cases, tp {tp}, fp {fp}, fn {fneg}, tn {tn}; precision {precision:.3}, recall {recall:.3}",
        cases.len()
    );
    for m in &misses {
        println!("  {m}");
    }
    assert!(
        wrong_detector.is_empty(),
        "wrong detector: {wrong_detector:#?}"
    );
    assert!(precision >= 0.95, "precision {precision:.3}: {misses:#?}");
    assert!(recall >= 0.95, "recall {recall:.3}: {misses:#?}");
}
