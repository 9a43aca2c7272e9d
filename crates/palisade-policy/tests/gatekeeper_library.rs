//! Conformance with the Gatekeeper policy library (../shared/corpora/gatekeeper-library,
//! required): every `suite.yaml` of `library/` run through the Rego engine; each case's
//! assertions (violation counts, message substrings) must hold as they do under Gatekeeper.
//! The cases are counted against `expectations.json` (75 suites, 270 cases); every failing case
//! is printed with its reason, and only the known regorus gaps may fail (a new failure fails
//! the test): 264 of 270 pass (97.8%).

use std::path::{Path, PathBuf};

use palisade_policy::suite::{CaseResult, EngineChoice, find_suites, run_suite};

/// Counts `results` into the totals: the cases run, passed, and each failure with its reason.
#[derive(Default)]
struct Tally {
    total: usize,
    passed: usize,
    failed: Vec<String>,
}

impl Tally {
    fn add<'r>(&mut self, results: impl IntoIterator<Item = &'r CaseResult>) {
        for result in results {
            self.total += 1;
            if result.passed {
                self.passed += 1;
            } else {
                self.failed.push(format!(
                    "{} / {} / {}: {}",
                    result.suite,
                    result.test,
                    result.case,
                    result.problem.clone().unwrap_or_default()
                ));
            }
        }
    }
}

fn library() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/corpora/gatekeeper-library")
}

#[test]
fn the_rego_engine_gives_gatekeepers_verdicts_on_the_library() {
    let root = library();
    let expectations: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(root.join("expectations.json"))
            .expect("../shared/corpora/gatekeeper-library/expectations.json is required"),
    )
    .unwrap();
    let expected_cases: usize = expectations["suites"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["cases"].as_array().map_or(0, Vec::len))
        .sum();
    assert_eq!(expected_cases, 270);
    let suites = find_suites(&[root.join("library")]);
    let mut tally = Tally::default();
    for suite in &suites {
        let results = run_suite(suite, EngineChoice::Rego).unwrap_or_else(|e| panic!("{e}"));
        tally.add(&results);
    }
    let Tally {
        total,
        passed,
        failed,
    } = tally;
    let rate = passed as f64 * 100.0 / total as f64;
    eprintln!(
        "gatekeeper-library: {passed} of {total} cases pass ({rate:.1}%) over {} suites",
        suites.len()
    );
    for failure in &failed {
        eprintln!("  {failure}");
    }
    assert_eq!(
        total, expected_cases,
        "every case of expectations.json is run"
    );
    // regorus gaps: a parenthesised expression starting a line is read as a call of the
    // previous line (horizontalpodautoscaler); a set rule with several bodies is refused
    // (noupdateserviceaccount); a user function called with an undefined argument under `not`
    // (users, RunAsAny without ranges) is true in regorus, false in OPA.
    const KNOWN: &[&str] = &[
        "horizontalpodautoscaler / horizontal-pod-autoscaler / example-allowed-hpa",
        "horizontalpodautoscaler / horizontal-pod-autoscaler / example-disallowed-hpa-replicas",
        "horizontalpodautoscaler / horizontal-pod-autoscaler / example-disallowed-hpa-replicaspread",
        "horizontalpodautoscaler / horizontal-pod-autoscaler / example-disallowed-scaletarget",
        "noupdateserviceaccount / noupdateserviceaccount / example-allowed",
        "users / users-and-groups-together / example-allowed",
    ];
    let unexpected: Vec<&String> = failed
        .iter()
        .filter(|f| !KNOWN.iter().any(|k| f.starts_with(&format!("{k}:"))))
        .collect();
    assert!(unexpected.is_empty(), "new failures:\n{unexpected:#?}");
    assert!(rate >= 97.7, "{rate:.1}%");
}

/// The CEL (`K8sNativeValidation`) variants, on the suites of the templates that have one.
#[test]
fn the_cel_engine_gives_gatekeepers_verdicts_where_templates_have_cel() {
    let suites = find_suites(&[library().join("library")]);
    let mut templates = 0;
    let mut tally = Tally::default();
    for suite in &suites {
        let results = run_suite(suite, EngineChoice::Cel).unwrap_or_else(|e| panic!("{e}"));
        let without_cel = |r: &palisade_policy::suite::CaseResult| {
            r.problem
                .as_deref()
                .is_some_and(|p| p.contains("no K8sNativeValidation"))
        };
        let with_cel: Vec<_> = results.iter().filter(|r| !without_cel(r)).collect();
        if with_cel.is_empty() {
            continue;
        }
        templates += 1;
        tally.add(with_cel);
    }
    let Tally {
        total,
        passed,
        failed,
    } = tally;
    let rate = passed as f64 * 100.0 / total.max(1) as f64;
    eprintln!(
        "gatekeeper-library CEL: {passed} of {total} cases pass ({rate:.1}%) over {templates} suites with CEL"
    );
    for failure in &failed {
        eprintln!("  {failure}");
    }
    assert_eq!(templates, 16, "the library's templates with a CEL engine");
    assert!(
        failed.is_empty(),
        "{} failures:\n{}",
        failed.len(),
        failed.join("\n")
    );
}
