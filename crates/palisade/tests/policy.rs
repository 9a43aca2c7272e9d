//! `palisade policy test`: the real binary on a small suite (tests/policy/labels: a template,
//! a constraint excluding kube-system, and a case whose expectation is wrong on purpose).

mod common;

use common::{bin, scratch};

const SUITE: &str = "crates/palisade/tests/policy/labels";

/// `palisade policy test SUITE` with `extra` arguments, the table on standard output and JUnit
/// written under `dir`: the run, and the JUnit report.
fn policy_test(dir: &std::path::Path, extra: &[&str]) -> (std::process::Output, String) {
    let junit = dir.join("junit.xml");
    let out = bin()
        .args(["policy", "test", SUITE])
        .args(extra)
        .args(["-o", "table", "-o", &format!("junit={}", junit.display())])
        .output()
        .unwrap();
    let xml = std::fs::read_to_string(&junit).unwrap_or_default();
    (out, xml)
}

#[test]
fn runs_a_gatekeeper_suite_and_fails_on_a_wrong_expectation() {
    let dir = scratch("policy-test");
    let (out, xml) = policy_test(&dir, &[]);
    assert_eq!(
        out.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let table = String::from_utf8_lossy(&out.stdout);
    assert!(
        table.contains("PASS  team-label / deployments-need-a-team / unlabelled"),
        "{table}"
    );
    assert!(
        table.contains("PASS  team-label / deployments-need-a-team / excluded-namespace"),
        "{table}"
    );
    assert!(
        table.contains("FAIL  team-label / deployments-need-a-team / wrong-expectation: expected no violations, got 1"),
        "{table}"
    );
    assert!(xml.contains("tests=\"4\" failures=\"1\""), "{xml}");
    let json = bin()
        .args(["policy", "test", SUITE, "-o", "json"])
        .output()
        .unwrap();
    let cases: serde_json::Value = serde_json::from_slice(&json.stdout).unwrap();
    assert_eq!(
        cases[1]["violations"][0],
        "Deployment api has no team label"
    );
    let none = bin()
        .args(["policy", "test", dir.to_str().unwrap()])
        .output()
        .unwrap();
    assert_eq!(none.status.code(), Some(2));
}

/// Asked for the CEL engine, a template without one is not assessed: each case says so, the
/// JUnit report skips it, and the run exits 2 (something was not looked at), never 0.
#[test]
fn a_template_without_the_engine_asked_for_is_not_assessed() {
    let (out, xml) = policy_test(&scratch("policy-test-cel"), &["--engine", "cel"]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("4 not assessed"), "{stderr}");
    let table = String::from_utf8_lossy(&out.stdout);
    assert!(
        table.contains("SKIP  team-label / deployments-need-a-team / unlabelled"),
        "{table}"
    );
    assert!(!table.contains("FAIL"), "{table}");
    assert!(xml.contains("failures=\"0\" skipped=\"4\""), "{xml}");
    assert!(xml.contains("<skipped message="), "{xml}");
}

#[test]
fn constraints_are_rules_of_a_scan() {
    let template = format!("{SUITE}/template.yaml");
    let constraint = format!("{SUITE}/samples/constraint.yaml");
    let policies = format!("{template},{constraint}");
    let out = bin()
        .args([
            "scan",
            &format!("{SUITE}/samples/unlabelled.yaml"),
            &format!("{SUITE}/samples/labelled.yaml"),
            &format!("{SUITE}/samples/excluded.yaml"),
            "--policy",
            &policies,
            "--rules",
            "K8sTeamLabel/team-label",
            "-o",
            "json",
        ])
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let findings = report["findings"].as_array().unwrap();
    assert_eq!(findings.len(), 1, "{report:#}");
    assert_eq!(findings[0]["rule"], "K8sTeamLabel/team-label");
    assert_eq!(findings[0]["severity"], "high");
    assert_eq!(findings[0]["message"], "Deployment api has no team label");
    assert_eq!(findings[0]["object"]["name"], "api");
    // A policy set without constraints is refused rather than passing on nothing.
    let out = bin()
        .args([
            "scan",
            &format!("{SUITE}/samples/unlabelled.yaml"),
            "--policy",
            &template,
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("no Gatekeeper constraint"));
    // `--framework` runs the rules citing it: a policy that cites none is refused, never
    // silently left out of the run.
    let out = bin()
        .args([
            "scan",
            &format!("{SUITE}/samples/unlabelled.yaml"),
            "--policy",
            &policies,
            "--framework",
            "cis",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("would not be evaluated: K8sTeamLabel/team-label"),
        "{stderr}"
    );
}

#[test]
fn validating_admission_policies_are_rules_of_a_scan() {
    let dir = "crates/palisade/tests/policy/vap";
    let out = bin()
        .args([
            "scan",
            &format!("{dir}/manifests.yaml"),
            "--policy",
            &format!("{dir}/policy.yaml"),
            "--rules",
            "replica-limit-prod",
            "-o",
            "json",
            "--fail-on",
            "none",
        ])
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let findings = report["findings"].as_array().unwrap();
    // Only the Deployment over the limit in the namespace the binding selects.
    assert_eq!(findings.len(), 1, "{report:#}");
    assert_eq!(
        findings[0]["rule"],
        "ValidatingAdmissionPolicy/replica-limit-prod"
    );
    assert_eq!(findings[0]["severity"], "medium");
    assert_eq!(findings[0]["message"], "replicas 10 exceed the limit of 5");
    assert_eq!(findings[0]["object"]["namespace"], "shop");
}
