//! `palisade policy test`: the real binary on a small suite (tests/policy/labels: a template,
//! a constraint excluding kube-system, and a case whose expectation is wrong on purpose).

mod common;

use common::{bin, json_exiting, scratch};

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
    common::exiting(&out, 1);
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
    let report = json_exiting(&out, 1);
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
    let report = json_exiting(&out, 0);
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
    // The Deployment in a namespace not read is not assessed, never passed.
    let coverage = report["coverage"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["rule"] == "ValidatingAdmissionPolicy/replica-limit-prod")
        .unwrap();
    assert_eq!(coverage["not_assessed"], 1, "{coverage:#}");
    let unknown = &coverage["not_assessed_objects"][0];
    assert_eq!(unknown["object"]["namespace"], "ops");
    assert!(
        unknown["reason"]
            .as_str()
            .unwrap()
            .contains("namespaceSelector reads labels of namespace ops"),
        "{unknown:#}"
    );
}

/// Kubernetes CEL's optional syntax (`object.metadata.?labels.?owner.orValue('')`) is read:
/// the Deployments without the label fail, the labelled one passes, none errs.
#[test]
fn validating_admission_policies_read_the_optional_syntax() {
    let dir = "crates/palisade/tests/policy/vap";
    let out = bin()
        .args([
            "scan",
            &format!("{dir}/manifests.yaml"),
            "--policy",
            &format!("{dir}/policy.yaml"),
            "--rules",
            "owner-label",
            "-o",
            "json",
            "--fail-on",
            "none",
        ])
        .output()
        .unwrap();
    let report = json_exiting(&out, 0);
    let mut failed: Vec<String> = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            assert_eq!(f["message"], "deployments need an owner label", "{f:#}");
            format!(
                "{}/{}",
                f["object"]["namespace"].as_str().unwrap(),
                f["object"]["name"].as_str().unwrap()
            )
        })
        .collect();
    failed.sort();
    assert_eq!(failed, ["lab/big", "ops/big", "shop/big"], "{report:#}");
    let coverage = report["coverage"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["rule"] == "ValidatingAdmissionPolicy/owner-label")
        .unwrap();
    assert_eq!(coverage["failed"], 3, "{coverage:#}");
    assert_eq!(coverage["not_assessed"], 0, "{coverage:#}");
}

/// A policy whose evaluation fails on an object (here it asks a Gatekeeper external data
/// provider, which Palisade does not call) leaves the run incomplete: exit 2, an error
/// diagnostic naming the object and the policy, and the text naming what was not judged,
/// never a pass. `--allow-incomplete` accepts the run as it is.
#[test]
fn a_policy_that_fails_to_evaluate_leaves_the_run_incomplete() {
    let dir = scratch("policy-error");
    let policy = dir.join("policy.yaml");
    std::fs::write(
        &policy,
        r#"apiVersion: templates.gatekeeper.sh/v1
kind: ConstraintTemplate
metadata: {name: k8sknownteam}
spec:
  crd: {spec: {names: {kind: K8sKnownTeam}}}
  targets:
    - target: admission.k8s.gatekeeper.sh
      rego: |
        package k8sknownteam
        violation[{"msg": "the team is not known"}] {
          response := external_data({"provider": "teams", "keys": [input.review.object.metadata.name]})
          count(response.errors) > 0
        }
---
apiVersion: constraints.gatekeeper.sh/v1beta1
kind: K8sKnownTeam
metadata: {name: known-team}
spec: {match: {kinds: [{apiGroups: ["apps"], kinds: ["Deployment"]}]}}
"#,
    )
    .unwrap();
    let scan = |extra: &[&str]| {
        bin()
            .args([
                "scan",
                &format!("{SUITE}/samples/labelled.yaml"),
                "--policy",
            ])
            .arg(&policy)
            .args(["--rules", "K8sKnownTeam/known-team"])
            .args(extra)
            .output()
            .unwrap()
    };
    let out = scan(&["-o", "json"]);
    let report = json_exiting(&out, 2);
    let diagnostic = &report["diagnostics"][0];
    assert_eq!(diagnostic["code"], "policy-error", "{report:#}");
    assert_eq!(diagnostic["level"], "error");
    let message = diagnostic["message"].as_str().unwrap();
    assert!(
        message.starts_with("K8sKnownTeam/known-team could not judge the object")
            && message.contains("external_data"),
        "{message}"
    );
    assert!(
        diagnostic["object"]
            .as_str()
            .unwrap()
            .contains("Deployment")
    );
    let out = scan(&[]);
    assert_eq!(out.status.code(), Some(2));
    let table = String::from_utf8_lossy(&out.stdout);
    assert!(
        table.contains("INCOMPLETE: 1 object a policy failed to judge"),
        "{table}"
    );
    assert!(
        table.contains("K8sKnownTeam/known-team on 1 object"),
        "{table}"
    );
    assert_eq!(scan(&["--allow-incomplete"]).status.code(), Some(0));
}

/// A constraint is checked against its template's schema, as Gatekeeper and gator check
/// it: a misspelt `match` field or parameter, or a wrong type, would silently switch a policy
/// off. `policy test` honours gator's `invalid: true` (the test passes when the constraint is
/// refused, fails when it is accepted) and `skip: true` (reported, not a failure, exit code
/// unchanged); `scan` refuses such a constraint naming the file and the field (exit 2).
#[test]
fn constraints_are_checked_against_their_templates_schema() {
    let dir = "crates/palisade/tests/policy/schema";
    let out = bin().args(["policy", "test", dir]).output().unwrap();
    let table = String::from_utf8_lossy(&out.stdout);
    for line in [
        "PASS  schema / well-formed / unlabelled",
        "SKIP  schema / well-formed / parked: skipped (skip: true)",
        "PASS  schema / misspelt-parameter-is-refused / (invalid constraint)",
        "PASS  schema / wrong-type-is-refused / (invalid constraint)",
        "PASS  schema / bad-pattern-is-refused / (invalid constraint)",
        "FAIL  schema / well-formed-is-not-invalid / (invalid constraint): the constraint follows its template's schema, but the test expects it refused",
        "FAIL  schema / misspelt-match / unlabelled: K8sRequiredLabel team: schema: does not follow the schema of template k8srequiredlabel: spec.match.excludedNamespace: unknown field",
        "SKIP  schema / parked-test / unlabelled: skipped (skip: true)",
    ] {
        assert!(table.lines().any(|l| l == line), "{line}\n{table}");
    }
    assert_eq!(out.status.code(), Some(1));
    assert!(
        String::from_utf8_lossy(&out.stderr)
            .contains("4 of 6 cases pass in 1 suites; 2 skipped (skip: true)")
    );
    for (constraint, problem) in [
        (
            "misspelt-parameter.yaml",
            "spec.parameters.lable: unknown field",
        ),
        (
            "wrong-type.yaml",
            "spec.parameters.label: must be a string, not a list",
        ),
        (
            "bad-pattern.yaml",
            "spec.parameters.label: \"team name\" does not match the pattern",
        ),
    ] {
        let out = bin()
            .args(["scan", &format!("{dir}/unlabelled.yaml")])
            .args(["--policy", &format!("{dir}/template.yaml")])
            .args(["--policy", &format!("{dir}/{constraint}")])
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(2));
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(
            stderr.contains(&format!("{constraint}: K8sRequiredLabel team"))
                && stderr.contains(problem),
            "{stderr}"
        );
    }
}

/// An AdmissionReview of a DELETE gives its `oldObject` as `input.review.object`, as
/// Gatekeeper and gator do, so a policy against deleting protected namespaces is tested
/// (tests/policy/delete).
#[test]
fn suites_judge_the_object_a_delete_removes() {
    let out = bin()
        .args(["policy", "test", "crates/palisade/tests/policy/delete"])
        .output()
        .unwrap();
    let table = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{table}");
    assert!(
        table.contains("PASS  delete / protected-namespaces / protected"),
        "{table}"
    );
    assert!(
        table.contains("PASS  delete / protected-namespaces / unprotected"),
        "{table}"
    );
}

/// A policy whose evaluation would run for minutes is stopped at the time limit: a Rego
/// template (four nested iterations over 60, 13 million steps) leaves the run incomplete as
/// any policy error does; a ValidatingAdmissionPolicy (six nested `all()` over 20, 64 million
/// steps) with `failurePolicy: Fail` rejects the object, as the API server does past its cost
/// budget. A VAP building a struct (`Foo{...}`), which the CEL evaluator cannot evaluate, is
/// refused when read rather than crashing the scan.
#[test]
fn policies_that_would_run_for_minutes_are_stopped() {
    let dir = scratch("policy-slow");
    let manifest = dir.join("cm.yaml");
    std::fs::write(
        &manifest,
        "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: settings, namespace: shop}\n",
    )
    .unwrap();
    let rego = dir.join("rego.yaml");
    std::fs::write(
        &rego,
        r#"apiVersion: templates.gatekeeper.sh/v1
kind: ConstraintTemplate
metadata: {name: k8sslow}
spec:
  crd: {spec: {names: {kind: K8sSlow}}}
  targets:
    - target: admission.k8s.gatekeeper.sh
      rego: |
        package k8sslow
        violation[{"msg": "never"}] {
          r := numbers.range(1, 60)
          count([1 | r[a]; r[b]; r[c]; r[d]]) < 0
        }
---
apiVersion: constraints.gatekeeper.sh/v1beta1
kind: K8sSlow
metadata: {name: slow}
spec: {match: {kinds: [{apiGroups: [""], kinds: ["ConfigMap"]}]}}
"#,
    )
    .unwrap();
    let vap = |name: &str, expression: &str| {
        let path = dir.join(format!("{name}.yaml"));
        std::fs::write(
            &path,
            format!(
                r#"apiVersion: admissionregistration.k8s.io/v1
kind: ValidatingAdmissionPolicy
metadata: {{name: {name}}}
spec:
  failurePolicy: Fail
  matchConstraints:
    resourceRules: [{{apiGroups: [""], apiVersions: ["v1"], operations: ["CREATE", "UPDATE"], resources: ["configmaps"]}}]
  validations: [{{expression: "{expression}"}}]
---
apiVersion: admissionregistration.k8s.io/v1
kind: ValidatingAdmissionPolicyBinding
metadata: {{name: {name}}}
spec: {{policyName: {name}, validationActions: [Deny]}}
"#
            ),
        )
        .unwrap();
        path
    };
    let scan = |policy: &std::path::Path| {
        bin()
            .arg("scan")
            .arg(&manifest)
            .arg("--policy")
            .arg(policy)
            .args(["-o", "json"])
            .output()
            .unwrap()
    };
    let stopped = "the evaluation ran past its time limit of 2 s and was stopped";
    let out = scan(&rego);
    let report = json_exiting(&out, 2);
    let message = report["diagnostics"][0]["message"].as_str().unwrap();
    assert!(
        message.starts_with("K8sSlow/slow could not judge the object") && message.contains(stopped),
        "{message}"
    );
    let list = "[1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20]";
    let nested = format!(
        "{list}.all(a, {list}.all(b, {list}.all(c, {list}.all(d, {list}.all(e, {list}.all(f, a + b + c + d + e + f > 0))))))"
    );
    let out = scan(&vap("slow", &nested));
    let report = json_exiting(&out, 1);
    let finding = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["rule"] == "ValidatingAdmissionPolicy/slow")
        .expect("the policy's finding");
    let message = finding["message"].as_str().unwrap();
    assert!(
        message.contains("failurePolicy: Fail")
            && message.contains(&format!("slow: CEL: {stopped}")),
        "{message}"
    );
    let out = scan(&vap("builds", "Foo{a: 1} == null"));
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("`Foo{...}`: object construction is not supported")
            && !stderr.contains("panicked"),
        "{stderr}"
    );
}

/// `enforcementAction: scoped`: a scan of manifests takes the action Gatekeeper's gator
/// point has, and a constraint scoped to other points is left out with a note (here only
/// the audit point: the scan of files then has no constraint to run, an error).
#[test]
fn scoped_constraints_take_the_action_of_the_scans_enforcement_point() {
    let dir = scratch("policy-scoped");
    let constraint = |actions: &str| {
        let path = dir.join(format!("constraint-{}.yaml", actions.len()));
        std::fs::write(
            &path,
            format!(
                r#"apiVersion: constraints.gatekeeper.sh/v1beta1
kind: K8sTeamLabel
metadata: {{name: team-label}}
spec:
  match: {{kinds: [{{apiGroups: ["apps"], kinds: ["Deployment"]}}]}}
  parameters: {{label: team}}
  enforcementAction: scoped
  scopedEnforcementActions: {actions}
"#
            ),
        )
        .unwrap();
        format!("{SUITE}/template.yaml,{}", path.display())
    };
    let scan = |policies: &str| {
        bin()
            .args(["scan", &format!("{SUITE}/samples/unlabelled.yaml")])
            .args(["--policy", policies, "--rules", "K8sTeamLabel/team-label"])
            .args(["-o", "json"])
            .output()
            .unwrap()
    };
    let shift_left = constraint(
        r#"[{action: warn, enforcementPoints: [{name: validation.gatekeeper.sh}]}, {action: deny, enforcementPoints: [{name: gator.gatekeeper.sh}]}]"#,
    );
    let out = scan(&shift_left);
    let report = json_exiting(&out, 1);
    assert_eq!(report["findings"][0]["severity"], "high", "{report:#}");

    let audit_only =
        constraint(r#"[{action: deny, enforcementPoints: [{name: audit.gatekeeper.sh}]}]"#);
    let out = scan(&audit_only);
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("not enforced at gator.gatekeeper.sh")
            && stderr.contains("K8sTeamLabel/team-label"),
        "{stderr}"
    );
}

/// An ExpansionTemplate makes a constraint written for Pods judge the Pod a Deployment would
/// create, as Gatekeeper does: the Deployment's finding, at its template, prefixed with the
/// template's name and with its action (`warn`: medium). Expansion is recursive: a CronJob's
/// Job is expanded into its Pod, whose finding stands at the CronJob's pod template. The mock
/// Pods are owned by their workload, so a policy against Pods without an owner fails none
/// of them. `match.source` picks originals, mock resources or both.
#[test]
fn expansion_templates_judge_the_pods_workloads_would_create() {
    let dir = scratch("policy-expansion");
    let policy = |source: &str| {
        let path = dir.join(format!("policy-{source}.yaml"));
        std::fs::write(
            &path,
            format!(
                r#"apiVersion: templates.gatekeeper.sh/v1
kind: ConstraintTemplate
metadata: {{name: k8snolatest}}
spec:
  crd: {{spec: {{names: {{kind: K8sNoLatest}}}}}}
  targets:
    - target: admission.k8s.gatekeeper.sh
      rego: |
        package k8snolatest
        violation[{{"msg": msg}}] {{
          c := input.review.object.spec.containers[_]
          endswith(c.image, ":latest")
          msg := sprintf("container %v uses a latest tag", [c.name])
        }}
---
apiVersion: constraints.gatekeeper.sh/v1beta1
kind: K8sNoLatest
metadata: {{name: no-latest}}
spec:
  match: {{kinds: [{{apiGroups: [""], kinds: ["Pod"]}}], source: {source}}}
---
apiVersion: expansion.gatekeeper.sh/v1beta1
kind: ExpansionTemplate
metadata: {{name: expand-deployments}}
spec:
  applyTo: [{{groups: ["apps"], kinds: ["Deployment"], versions: ["v1"]}}]
  templateSource: spec.template
  enforcementAction: warn
  generatedGVK: {{kind: Pod, group: "", version: v1}}
---
apiVersion: expansion.gatekeeper.sh/v1beta1
kind: ExpansionTemplate
metadata: {{name: expand-cronjobs}}
spec:
  applyTo: [{{groups: ["batch"], kinds: ["CronJob"], versions: ["v1"]}}]
  templateSource: spec.jobTemplate
  generatedGVK: {{kind: Job, group: batch, version: v1}}
---
apiVersion: expansion.gatekeeper.sh/v1beta1
kind: ExpansionTemplate
metadata: {{name: expand-jobs}}
spec:
  applyTo: [{{groups: ["batch"], kinds: ["Job"], versions: ["v1"]}}]
  templateSource: spec.template
  generatedGVK: {{kind: Pod, group: "", version: v1}}
---
apiVersion: templates.gatekeeper.sh/v1
kind: ConstraintTemplate
metadata: {{name: k8sowned}}
spec:
  crd: {{spec: {{names: {{kind: K8sOwned}}}}}}
  targets:
    - target: admission.k8s.gatekeeper.sh
      rego: |
        package k8sowned
        violation[{{"msg": "the pod has no owner"}}] {{
          not input.review.object.metadata.ownerReferences
        }}
---
apiVersion: constraints.gatekeeper.sh/v1beta1
kind: K8sOwned
metadata: {{name: owned}}
spec:
  match: {{kinds: [{{apiGroups: [""], kinds: ["Pod"]}}], source: Generated}}
"#
            ),
        )
        .unwrap();
        path
    };
    let manifests = dir.join("app.yaml");
    std::fs::write(
        &manifests,
        r#"apiVersion: apps/v1
kind: Deployment
metadata: {name: web, namespace: shop}
spec:
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec: {containers: [{name: web, image: "nginx:latest"}]}
---
apiVersion: v1
kind: Pod
metadata: {name: debug, namespace: shop}
spec: {containers: [{name: shell, image: "busybox:latest"}]}
---
apiVersion: batch/v1
kind: CronJob
metadata: {name: nightly, namespace: shop}
spec:
  schedule: "0 3 * * *"
  jobTemplate:
    spec:
      template:
        spec:
          restartPolicy: Never
          containers: [{name: backup, image: "restic:latest"}]
"#,
    )
    .unwrap();
    let findings = |source: &str| {
        let out = bin()
            .arg("scan")
            .arg(&manifests)
            .arg("--policy")
            .arg(policy(source))
            .args([
                "--rules",
                "K8sNoLatest/no-latest,K8sOwned/owned",
                "-o",
                "json",
                "--fail-on",
                "none",
            ])
            .output()
            .unwrap();
        let report = json_exiting(&out, 0);
        let mut found: Vec<String> = report["findings"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| {
                format!(
                    "{} {} {} {}",
                    f["object"]["kind"],
                    f["severity"].as_str().unwrap(),
                    f["location"]["path"].as_str().unwrap_or(""),
                    f["message"].as_str().unwrap()
                )
            })
            .collect();
        found.sort();
        found
    };
    assert_eq!(
        findings("All"),
        [
            r#""CronJob" high /spec/jobTemplate/spec/template [Implied by expand-jobs] container backup uses a latest tag"#,
            r#""Deployment" medium /spec/template [Implied by expand-deployments] container web uses a latest tag"#,
            r#""Pod" high  container shell uses a latest tag"#,
        ]
    );
    assert_eq!(
        findings("Original"),
        [r#""Pod" high  container shell uses a latest tag"#]
    );
    assert_eq!(
        findings("Generated"),
        [
            r#""CronJob" high /spec/jobTemplate/spec/template [Implied by expand-jobs] container backup uses a latest tag"#,
            r#""Deployment" medium /spec/template [Implied by expand-deployments] container web uses a latest tag"#
        ]
    );
}

/// Gatekeeper's mutators change the mock resources of ExpansionTemplates before they are
/// judged, as Gatekeeper mutates them: a Deployment whose Pods a mutator gives
/// `runAsNonRoot: true` has no implied violation of a policy requiring it, the Pod written
/// as a manifest still has its own, and the mutator's `match` decides where it applies. A
/// mutator Gatekeeper would refuse makes the scan incomplete (exit 2), naming it.
#[test]
fn mutators_change_mock_resources_before_they_are_judged() {
    let dir = scratch("policy-mutation");
    let policy = dir.join("policy.yaml");
    let mutator = dir.join("mutator.yaml");
    std::fs::write(
        &policy,
        r#"apiVersion: templates.gatekeeper.sh/v1
kind: ConstraintTemplate
metadata: {name: k8snonroot}
spec:
  crd: {spec: {names: {kind: K8sNonRoot}}}
  targets:
    - target: admission.k8s.gatekeeper.sh
      rego: |
        package k8snonroot
        violation[{"msg": msg}] {
          c := input.review.object.spec.containers[_]
          not c.securityContext.runAsNonRoot
          msg := sprintf("container %v may run as root", [c.name])
        }
---
apiVersion: constraints.gatekeeper.sh/v1beta1
kind: K8sNonRoot
metadata: {name: non-root}
spec:
  match: {kinds: [{apiGroups: [""], kinds: ["Pod"]}]}
"#,
    )
    .unwrap();
    // The expansion suite's templates (Deployments, CronJobs and Jobs to their Pods).
    let expansion =
        common::workspace().join("crates/palisade/tests/policy/expansion/expansion.yaml");
    // The gatekeeper-library's mustRunAsNonRoot sample, kept to one namespace.
    std::fs::write(
        &mutator,
        r#"apiVersion: mutations.gatekeeper.sh/v1
kind: Assign
metadata: {name: k8spsprunasnonroot}
spec:
  applyTo: [{groups: [""], kinds: ["Pod"], versions: ["v1"]}]
  match: {namespaces: ["shop"]}
  location: "spec.containers[name:*].securityContext.runAsNonRoot"
  parameters:
    pathTests:
      - subPath: "spec.containers[name:*].securityContext.runAsNonRoot"
        condition: MustNotExist
    assign: {value: true}
"#,
    )
    .unwrap();
    let manifests = dir.join("app.yaml");
    let deployment = |name: &str, namespace: &str| {
        format!(
            "apiVersion: apps/v1\nkind: Deployment\nmetadata: {{name: {name}, namespace: {namespace}}}\nspec:\n  selector: {{matchLabels: {{app: {name}}}}}\n  template:\n    metadata: {{labels: {{app: {name}}}}}\n    spec: {{containers: [{{name: {name}, image: \"nginx:1.27\"}}]}}\n---\n"
        )
    };
    std::fs::write(
        &manifests,
        deployment("web", "shop")
            + &deployment("batch", "jobs")
            + "apiVersion: v1\nkind: Pod\nmetadata: {name: debug, namespace: shop}\nspec: {containers: [{name: shell, image: \"busybox:1.36\"}]}\n",
    )
    .unwrap();
    let scan = |policies: &[&std::path::Path]| {
        let mut command = bin();
        command.arg("scan").arg(&manifests);
        for p in policies {
            command.arg("--policy").arg(p);
        }
        command
            .args([
                "--rules",
                "K8sNonRoot/non-root",
                "-o",
                "json",
                "--fail-on",
                "none",
            ])
            .output()
            .unwrap()
    };
    let messages = |out: &std::process::Output| {
        let report = json_exiting(out, 0);
        let mut found: Vec<String> = report["findings"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| {
                format!(
                    "{}/{}: {}",
                    f["object"]["kind"].as_str().unwrap(),
                    f["object"]["name"].as_str().unwrap(),
                    f["message"].as_str().unwrap()
                )
            })
            .collect();
        found.sort();
        found
    };
    let unmutated = [
        "Deployment/batch: [Implied by expand-deployments] container batch may run as root",
        "Deployment/web: [Implied by expand-deployments] container web may run as root",
        "Pod/debug: container shell may run as root",
    ];
    assert_eq!(messages(&scan(&[&policy, &expansion])), unmutated);
    // Without an ExpansionTemplate the mutator changes nothing a scan judges, and says so.
    let out = scan(&[&policy, &mutator]);
    assert!(
        String::from_utf8_lossy(&out.stderr)
            .contains("1 mutator read; mutators change only the resources ExpansionTemplates make (none given)"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        messages(&out),
        ["Pod/debug: container shell may run as root"]
    );
    assert_eq!(
        messages(&scan(&[&policy, &expansion, &mutator])),
        [
            "Deployment/batch: [Implied by expand-deployments] container batch may run as root",
            "Pod/debug: container shell may run as root",
        ]
    );
    // Assign may not change metadata: refused, naming the mutator and its file.
    std::fs::write(
        &mutator,
        "apiVersion: mutations.gatekeeper.sh/v1\nkind: Assign\nmetadata: {name: relabel}\nspec:\n  applyTo: [{groups: [\"\"], kinds: [\"Pod\"], versions: [\"v1\"]}]\n  location: metadata.labels.team\n  parameters: {assign: {value: a}}\n",
    )
    .unwrap();
    let out = scan(&[&policy, &expansion, &mutator]);
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("mutator.yaml")
            && stderr.contains("Assign relabel: only AssignMetadata may change metadata"),
        "{stderr}"
    );
}

/// `policy expand` prints what the ExpansionTemplates make of manifests, mutated, as
/// `gator expand` does: a CronJob's Job and that Job's Pod, with the mutator's default set
/// and values off the print allow-list masked; a workload without the template's source
/// field is an error naming its file (exit 2), and policies without an ExpansionTemplate
/// are refused.
#[test]
fn policy_expand_prints_the_mutated_mock_resources() {
    let dir = scratch("policy-expand");
    // The expansion suite's templates, and a mutator of the Pods they make.
    let expansion =
        common::workspace().join("crates/palisade/tests/policy/expansion/expansion.yaml");
    let policy = dir.join("policy.yaml");
    std::fs::write(
        &policy,
        r#"apiVersion: mutations.gatekeeper.sh/v1
kind: Assign
metadata: {name: non-root}
spec:
  applyTo: [{groups: [""], kinds: ["Pod"], versions: ["v1"]}]
  location: "spec.securityContext.runAsNonRoot"
  parameters: {assign: {value: true}}
"#,
    )
    .unwrap();
    let manifests = dir.join("jobs.yaml");
    std::fs::write(
        &manifests,
        r#"apiVersion: batch/v1
kind: CronJob
metadata: {name: nightly, namespace: ops}
spec:
  schedule: "0 3 * * *"
  jobTemplate:
    spec:
      template:
        spec:
          restartPolicy: Never
          containers:
            - name: backup
              image: "restic:0.17"
              env: [{name: RESTIC_PASSWORD, value: "hunter2-expand-canary"}]
"#,
    )
    .unwrap();
    let expand = |format: &str, files: &[&std::path::Path]| {
        let mut command = bin();
        command.args(["policy", "expand"]);
        for f in files {
            command.arg(f);
        }
        command
            .arg("--policy")
            .arg(&expansion)
            .arg("--policy")
            .arg(&policy)
            .args(["-o", format])
            .output()
            .unwrap()
    };
    let out = expand("yaml", &[&manifests]);
    common::exiting(&out, 0);
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(text.matches("---\n").count(), 2, "{text}");
    for expected in [
        "apiVersion: batch/v1\nkind: Job\n",
        "apiVersion: v1\nkind: Pod\n",
        "name: nightly-job",
        "name: nightly-job-pod",
        "runAsNonRoot: true",
        "value: \"[REDACTED]\"",
    ] {
        assert!(text.contains(expected), "{expected}:\n{text}");
    }
    assert!(!text.contains("hunter2"), "{text}");
    let out = expand("json", &[&manifests]);
    let made = json_exiting(&out, 0);
    assert_eq!(made.as_array().unwrap().len(), 2);
    assert_eq!(made[1]["spec"]["securityContext"]["runAsNonRoot"], true);

    // A workload of a custom kind without the template's source field cannot be expanded.
    std::fs::write(
        &policy,
        std::fs::read_to_string(&policy).unwrap()
            + "---\napiVersion: expansion.gatekeeper.sh/v1beta1\nkind: ExpansionTemplate\nmetadata: {name: expand-widgets}\nspec:\n  applyTo: [{groups: [example.com], kinds: [Widget], versions: [v1]}]\n  templateSource: spec.podTemplate\n  generatedGVK: {kind: Pod, group: \"\", version: v1}\n",
    )
    .unwrap();
    let broken = dir.join("broken.yaml");
    std::fs::write(
        &broken,
        "apiVersion: example.com/v1\nkind: Widget\nmetadata: {name: empty, namespace: ops}\nspec: {size: 1}\n",
    )
    .unwrap();
    let out = expand("yaml", &[&manifests, &broken]);
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("broken.yaml")
            && stderr.contains("Widget")
            && stderr.contains("expand-widgets"),
        "{stderr}"
    );
    assert_eq!(
        String::from_utf8_lossy(&out.stdout)
            .matches("---\n")
            .count(),
        2
    );
    let out = bin()
        .args(["policy", "expand"])
        .arg(&manifests)
        .arg("--policy")
        .arg(dir.join("nothing.yaml"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    // Nothing read is not an empty answer: a CronJob without its jobTemplate is a fragment.
    std::fs::write(
        &broken,
        "apiVersion: batch/v1\nkind: CronJob\nmetadata: {name: empty, namespace: ops}\nspec: {schedule: \"* * * * *\"}\n",
    )
    .unwrap();
    let out = expand("yaml", &[&broken]);
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("[fragment]") && stderr.contains("no Kubernetes object was read"),
        "{stderr}"
    );
}

/// ExpansionTemplates that expand each other's mock resources in a cycle are not used by
/// Gatekeeper; the scan refuses them (exit 2, naming the file and the cycle) rather than
/// judging workloads without them.
#[test]
fn expansion_templates_in_a_cycle_are_refused() {
    let dir = scratch("policy-expansion-cycle");
    let policy = dir.join("cycle.yaml");
    std::fs::write(
        &policy,
        r#"apiVersion: expansion.gatekeeper.sh/v1beta1
kind: ExpansionTemplate
metadata: {name: jobs-to-pods}
spec:
  applyTo: [{groups: ["batch"], kinds: ["Job"], versions: ["v1"]}]
  templateSource: spec.template
  generatedGVK: {kind: Pod, group: "", version: v1}
---
apiVersion: expansion.gatekeeper.sh/v1beta1
kind: ExpansionTemplate
metadata: {name: pods-to-jobs}
spec:
  applyTo: [{groups: [""], kinds: ["Pod"], versions: ["v1"]}]
  templateSource: spec
  generatedGVK: {kind: Job, group: batch, version: v1}
"#,
    )
    .unwrap();
    let manifest = dir.join("job.yaml");
    std::fs::write(
        &manifest,
        "apiVersion: batch/v1\nkind: Job\nmetadata: {name: j, namespace: shop}\n\
         spec: {template: {spec: {containers: [{name: c, image: busybox}]}}}\n",
    )
    .unwrap();
    let out = bin()
        .arg("scan")
        .arg(&manifest)
        .arg("--policy")
        .arg(&policy)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("cycle.yaml: ExpansionTemplate jobs-to-pods")
            && stderr.contains(
                "jobs-to-pods, pods-to-jobs expand each other's mock resources in a cycle"
            ),
        "{stderr}"
    );
}

/// `--cluster-policies` runs the policies a cluster holds (here a snapshot, a `kubectl get -o
/// json` List): a constraint there judges the cluster's objects, the scan of a cluster being
/// Gatekeeper's audit point; without a cluster the flag is refused, and a cluster without
/// policies is said to hold none.
#[test]
fn the_policies_a_cluster_holds_judge_it() {
    let dir = scratch("policy-cluster");
    let template_value = |name: &str, kind: &str, rego: &str| {
        serde_json::json!({
            "apiVersion": "templates.gatekeeper.sh/v1", "kind": "ConstraintTemplate",
            "metadata": {"name": name},
            "spec": {"crd": {"spec": {"names": {"kind": kind}}},
                "targets": [{"target": "admission.k8s.gatekeeper.sh", "rego": rego}]}
        })
    };
    let template = template_value(
        "k8sneedsowner",
        "K8sNeedsOwner",
        "package k8sneedsowner\nviolation[{\"msg\": \"no owner label\"}] {\n  not input.review.object.metadata.labels.owner\n}\n",
    );
    let constraint = serde_json::json!({
        "apiVersion": "constraints.gatekeeper.sh/v1beta1", "kind": "K8sNeedsOwner",
        "metadata": {"name": "needs-owner"},
        "spec": {"match": {"kinds": [{"apiGroups": [""], "kinds": ["ConfigMap"]}]},
            "enforcementAction": "scoped",
            "scopedEnforcementActions": [{"action": "warn", "enforcementPoints": [{"name": "audit.gatekeeper.sh"}]}]}
    });
    let config_map = |name: &str, owner: Option<&str>| {
        let mut labels = serde_json::Map::new();
        if let Some(owner) = owner {
            labels.insert("owner".into(), owner.into());
        }
        serde_json::json!({"apiVersion": "v1", "kind": "ConfigMap",
            "metadata": {"name": name, "namespace": "shop", "labels": labels}})
    };
    let list = |items: Vec<serde_json::Value>| {
        let path = dir.join(format!("list-{}.json", items.len()));
        std::fs::write(
            &path,
            serde_json::json!({"apiVersion": "v1", "kind": "List", "items": items}).to_string(),
        )
        .unwrap();
        path
    };
    let scan = |snapshot: &std::path::Path, extra: &[&str]| {
        bin()
            .args([
                "scan",
                "--allow-incomplete",
                "--no-config",
                "-o",
                "json",
                "--snapshot",
            ])
            .arg(snapshot)
            .args(extra)
            .output()
            .unwrap()
    };
    let with_policies = list(vec![
        template,
        constraint,
        config_map("orphan", None),
        config_map("owned", Some("team-a")),
    ]);
    let out = scan(
        &with_policies,
        &[
            "--cluster-policies",
            "--rules",
            "K8sNeedsOwner/needs-owner",
            "--fail-on",
            "medium",
        ],
    );
    let report = json_exiting(&out, 1);
    let findings = report["findings"].as_array().unwrap();
    assert_eq!(findings.len(), 1, "{report:#}");
    assert_eq!(findings[0]["object"]["name"], "orphan");
    assert_eq!(findings[0]["severity"], "medium");
    // Without the flag the cluster's policies are not run.
    let out = scan(&with_policies, &["--rules", "K8sNeedsOwner/needs-owner"]);
    assert_eq!(out.status.code(), Some(2));
    // A scan of files has no cluster whose policies it could run.
    let out = bin()
        .args([
            "scan",
            &format!("{SUITE}/samples/unlabelled.yaml"),
            "--cluster-policies",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("give --cluster or --snapshot"));
    // A policy of the cluster that cannot be used stops a scan: it would pass unjudged.
    let broken = template_value(
        "k8sbroken",
        "K8sBroken",
        "package k8sbroken\nviolation[{\"msg\": \"x\"}] { x := := 1 }\n",
    );
    let broken_constraint = serde_json::json!({"apiVersion": "constraints.gatekeeper.sh/v1beta1",
        "kind": "K8sBroken", "metadata": {"name": "broken"}, "spec": {}});
    let out = scan(
        &list(vec![
            broken,
            broken_constraint,
            config_map("orphan", None),
            config_map("x", None),
            config_map("y", None),
        ]),
        &["--cluster-policies"],
    );
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("1 policy of the cluster cannot be used")
            && stderr.contains("cluster: K8sBroken"),
        "{stderr}"
    );
    // A cluster without policies: noted, and the built-in rules run.
    let out = scan(
        &list(vec![config_map("orphan", None)]),
        &["--cluster-policies", "--fail-on", "none"],
    );
    assert_eq!(out.status.code(), Some(0));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("the cluster holds no Gatekeeper constraint")
    );
}

/// gator's suite features: a test's `expansion` (the Deployment judged as its Pod, the
/// violation aggregated with the `[Implied by ...]` prefix) and `message` as an unanchored
/// regular expression (tests/policy/expansion). A message that is not a regular expression
/// fails its case with the reason.
#[test]
fn suites_expand_workloads_and_match_messages_as_regular_expressions() {
    let out = bin()
        .args(["policy", "test", "crates/palisade/tests/policy/expansion"])
        .output()
        .unwrap();
    let table = String::from_utf8_lossy(&out.stdout);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{table}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    for case in [
        "PASS  expansion / pods-of-deployments / deployment",
        "PASS  expansion / pods-of-deployments / pod",
        "PASS  expansion / without-expansion / deployment",
    ] {
        assert!(table.contains(case), "{case}:\n{table}");
    }
    let dir = scratch("policy-bad-regex");
    for file in ["template.yaml", "constraint.yaml", "pod.yaml"] {
        std::fs::copy(
            format!(
                "{}/tests/policy/expansion/{file}",
                env!("CARGO_MANIFEST_DIR")
            ),
            dir.join(file),
        )
        .unwrap();
    }
    std::fs::write(
        dir.join("suite.yaml"),
        "kind: Suite\napiVersion: test.gatekeeper.sh/v1alpha1\ntests:\n- name: t\n  template: template.yaml\n  constraint: constraint.yaml\n  cases:\n  - name: bad\n    object: pod.yaml\n    assertions:\n    - violations: 1\n      message: 'container (shell'\n",
    )
    .unwrap();
    let out = bin().args(["policy", "test"]).arg(&dir).output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    let table = String::from_utf8_lossy(&out.stdout);
    assert!(
        table.contains("`message` is not a regular expression"),
        "{table}"
    );
}
