//! End-to-end tests: the real `palisade` binary on fixture directories, including a Kustomize
//! overlay rendered by the real `kubectl` on this machine.

mod common;

use common::{bin, json, need_helm, need_kubectl, scratch, workspace, write_file};
use std::io::Write;
use std::path::Path;
use std::process::Stdio;

use serde_json::Value;

fn rules_of(report: &Value) -> Vec<String> {
    report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["rule"].as_str().unwrap().to_string())
        .collect()
}

/// A pod that every rule accepts: hardened, pinned, isolated by a default-deny policy.
const CLEAN_POD: &str = "apiVersion: v1
kind: Pod
metadata: {name: ok, namespace: shop}
spec:
  serviceAccountName: app
  automountServiceAccountToken: false
  enableServiceLinks: false
  securityContext:
    runAsNonRoot: true
    runAsUser: 10001
    seccompProfile: {type: RuntimeDefault}
  containers:
  - name: app
    image: registry.example.com/app:1.0@sha256:4b8a3c1f0d2e5a6b7c8d9e0f1a2b3c4d5e6f7a8b9c0d1e2f3a4b5c6d7e8f9a0b
    securityContext:
      allowPrivilegeEscalation: false
      readOnlyRootFilesystem: true
      capabilities: {drop: [ALL]}
    readinessProbe: {httpGet: {path: /ready, port: 8080}}
    livenessProbe: {httpGet: {path: /healthz, port: 8080}}
    resources:
      requests: {cpu: 50m, memory: 32Mi}
      limits: {cpu: 100m, memory: 64Mi}
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: default-deny, namespace: shop}
spec:
  podSelector: {}
  policyTypes: [Ingress, Egress]
";

#[test]
fn scans_the_bundled_examples_with_findings_exit_code_and_schema() {
    let out = bin()
        .args(["scan", "examples/", "-o", "json"])
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(1),
        "high findings fail the default --fail-on high"
    );
    let report = json(&out);
    assert_eq!(report["schema_version"], "1.0");
    assert_eq!(report["tool"]["name"], "palisade");
    let rules = rules_of(&report);
    for expected in [
        "POD001", "POD002", "POD003", "POD004", "POD005", "POD006", "IMG001", "NET001", "SEC001",
        "RBAC001",
    ] {
        assert!(
            rules.contains(&expected.to_string()),
            "{expected} missing from {rules:?}"
        );
    }
    let suppressed: Vec<&Value> = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| !f["suppressed"].is_null())
        .collect();
    assert_eq!(suppressed.len(), 1);
    assert_eq!(suppressed[0]["suppressed"]["source"], "annotation");
    assert_eq!(report["summary"]["suppressed"], 1);
    let first = &report["findings"][0];
    for key in [
        "rule",
        "severity",
        "title",
        "message",
        "object",
        "location",
        "controls",
        "fingerprint",
        "remediation",
    ] {
        assert!(!first[key].is_null(), "finding lacks {key}");
    }
    assert!(first["location"]["line"].as_u64().unwrap() > 0);
    assert!(
        report["findings"]
            .as_array()
            .unwrap()
            .iter()
            .any(|f| f["controls"]
                .as_array()
                .unwrap()
                .iter()
                .any(|c| c.as_str().unwrap().starts_with("cis-k8s-1.12:"))),
        "findings carry CIS control ids"
    );
    assert!(
        report["coverage"]
            .as_array()
            .unwrap()
            .iter()
            .all(|c| c["evaluated"].as_u64().is_some())
    );
}

#[test]
fn renders_kustomize_overlays_with_the_real_kubectl() {
    if !need_kubectl() {
        return;
    }
    let out = bin()
        .args(["scan", "examples/shop/overlays/prod", "-o", "json"])
        .output()
        .unwrap();
    let report = json(&out);
    let finding = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["rule"] == "POD001")
        .expect("the overlay's patch makes the worker privileged");
    assert_eq!(finding["object"]["name"], "prod-report-worker");
    assert_eq!(finding["object"]["namespace"], "shop");
    // At the patch operation that sets the field, in the overlay's kustomization.
    assert_eq!(
        finding["location"]["file"],
        "examples/shop/overlays/prod/kustomization.yaml"
    );
    assert_eq!(finding["location"]["line"], 13);
    assert_eq!(finding["location"]["column"], 7);
    assert!(finding["location"].get("rendered_by").is_none());
    assert_eq!(out.status.code(), Some(1));
}

/// Skips (locally) or fails (in CI) without kubectl.

#[test]
fn kustomize_findings_point_at_the_base_or_the_patch_that_sets_the_field() {
    if !need_kubectl() {
        return;
    }
    let dir = scratch("kustomize-origin");
    let write = |path: &str, text: &str| write_file(&dir, path, text);
    write(
        "base/kustomization.yaml",
        "resources:\n- deploy.yaml\n- service.yaml\n",
    );
    write(
        "base/deploy.yaml",
        "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: api\nspec:\n  selector: {matchLabels: {app: api}}\n  template:\n    metadata: {labels: {app: api}}\n    spec:\n      hostPID: true\n      containers:\n      - name: api\n        image: registry.example.com/api:1.0\n",
    );
    write(
        "base/service.yaml",
        "apiVersion: v1\nkind: Service\nmetadata:\n  name: api\nspec:\n  selector: {app: api}\n  ports: [{port: 80}]\n",
    );
    write(
        "overlays/prod/kustomization.yaml",
        "namespace: prod\nnamePrefix: prod-\nresources:\n- ../../base\npatches:\n- path: expose.yaml\n",
    );
    write(
        "overlays/prod/expose.yaml",
        "apiVersion: v1\nkind: Service\nmetadata:\n  name: api\nspec:\n  type: LoadBalancer\n",
    );
    let out = bin()
        .arg("scan")
        .arg(&dir)
        .args(["-o", "json", "--fail-on", "none"])
        .output()
        .unwrap();
    let report = json(&out);
    let findings = report["findings"].as_array().unwrap();
    let find = |rule: &str| {
        findings
            .iter()
            .find(|f| f["rule"] == rule)
            .unwrap_or_else(|| panic!("{rule} in {report}"))
    };
    let shown = |f: &serde_json::Value| {
        (
            f["location"]["file"]
                .as_str()
                .unwrap()
                .rsplit_once("kustomize-origin/")
                .unwrap()
                .1
                .to_string(),
            f["location"]["line"].as_u64().unwrap(),
        )
    };
    // hostPID is written in the base.
    assert_eq!(shown(find("POD004")), ("base/deploy.yaml".to_string(), 10));
    // The LoadBalancer comes from the overlay's strategic-merge patch.
    assert_eq!(
        shown(find("NET001")),
        ("overlays/prod/expose.yaml".to_string(), 6)
    );
    // The base is scanned through the overlay only, and that is said.
    assert!(
        findings.iter().all(|f| f["object"]["namespace"] == "prod"),
        "{report}"
    );
    let said = report["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .any(|d| d["code"] == "kustomization-included");
    assert!(said, "{report}");

    let all = bin()
        .arg("scan")
        .arg(&dir)
        .args(["-o", "json", "--fail-on", "none", "--all-kustomizations"])
        .output()
        .unwrap();
    let all = json(&all);
    let pod004 = all["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["rule"] == "POD004")
        .count();
    assert_eq!(pod004, 2, "the base on its own and through the overlay");
}

#[test]
fn exit_codes_follow_fail_on() {
    let dir = scratch("exit-codes");
    std::fs::write(dir.join("clean.yaml"), CLEAN_POD).unwrap();
    let clean = bin()
        .args(["scan", "-o", "json"])
        .arg(dir.join("clean.yaml"))
        .output()
        .unwrap();
    assert_eq!(
        clean.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&clean.stdout)
    );
    assert_eq!(json(&clean)["summary"]["total"], 0);

    let none = bin()
        .args(["scan", "examples/", "-o", "json", "--fail-on", "none"])
        .output()
        .unwrap();
    assert_eq!(none.status.code(), Some(0));
    let low = bin()
        .args([
            "scan",
            "examples/shop/frontend.yaml",
            "-o",
            "json",
            "--fail-on",
            "low",
        ])
        .output()
        .unwrap();
    assert_eq!(low.status.code(), Some(1));
    let critical = bin()
        .args([
            "scan",
            "examples/shop/frontend.yaml",
            "-o",
            "json",
            "--fail-on",
            "critical",
        ])
        .output()
        .unwrap();
    assert_eq!(critical.status.code(), Some(0));
}

#[test]
fn usage_and_tool_errors_exit_2() {
    let missing = bin().args(["scan", "no/such/dir"]).output().unwrap();
    assert_eq!(missing.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&missing.stderr).contains("no/such/dir"));

    let bad_format = bin()
        .args(["scan", "examples/", "-o", "yaml"])
        .output()
        .unwrap();
    assert_eq!(bad_format.status.code(), Some(2));
    let bad_flag = bin()
        .args(["scan", "--fail-on", "severe", "examples/"])
        .output()
        .unwrap();
    assert_eq!(bad_flag.status.code(), Some(2));

    let dir = scratch("nothing-scannable");
    std::fs::write(
        dir.join("broken.yaml"),
        "apiVersion: v1\nkind: Pod\nmetadata: {name: x\n",
    )
    .unwrap();
    let broken = bin()
        .args(["scan", "-o", "json"])
        .arg(&dir)
        .output()
        .unwrap();
    assert_eq!(broken.status.code(), Some(2), "nothing could be scanned");
    let report = json(&broken);
    assert_eq!(report["diagnostics"][0]["level"], "error");
    assert!(
        report["diagnostics"][0]["file"]
            .as_str()
            .unwrap()
            .ends_with("broken.yaml")
    );

    let config = dir.join("palisade.toml");
    std::fs::write(&config, "[[suppress]]\nrule = \"POD999\"\nreason = \"x\"\n").unwrap();
    let bad_config = bin()
        .args(["scan", "examples/", "--config"])
        .arg(&config)
        .output()
        .unwrap();
    assert_eq!(bad_config.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&bad_config.stderr);
    assert!(
        stderr.contains("palisade.toml:2:8") && stderr.contains("POD999"),
        "{stderr}"
    );
}

#[test]
fn hostile_and_broken_inputs_become_diagnostics_and_the_scan_goes_on() {
    let dir = scratch("hostile");
    let mut bomb =
        String::from("a: &a [\"x\",\"x\",\"x\",\"x\",\"x\",\"x\",\"x\",\"x\",\"x\",\"x\"]\n");
    for (prev, name) in ["a", "b", "c", "d", "e", "f", "g", "h"]
        .iter()
        .zip(["b", "c", "d", "e", "f", "g", "h", "i"])
    {
        bomb.push_str(&format!("{name}: &{name} [*{prev},*{prev},*{prev},*{prev},*{prev},*{prev},*{prev},*{prev},*{prev},*{prev}]\n"));
    }
    std::fs::write(dir.join("1-bomb.yaml"), bomb).unwrap();
    std::fs::write(
        dir.join("2-deep.yaml"),
        format!("{}{}", "[".repeat(50_000), "]".repeat(50_000)),
    )
    .unwrap();
    std::fs::write(
        dir.join("3-binary.yaml"),
        b"apiVersion: v1\n\xff\xfe\x00kind",
    )
    .unwrap();
    std::fs::write(
        dir.join("4-tabs.yaml"),
        "apiVersion: v1\nkind: Pod\nmetadata:\n\tname: x\n",
    )
    .unwrap();
    std::fs::write(
        dir.join("5-mixed.yaml"),
        format!("{CLEAN_POD}---\napiVersion: v1\nkind: Pod\nmetadata: {{name: broken\n---\napiVersion: v1\nkind: Pod\nmetadata: {{name: dup, namespace: shop}}\nmetadata: {{name: dup2, namespace: shop}}\nspec:\n  containers:\n  - name: a\n    image: a:1\n    securityContext: {{privileged: \"true\", runAsUser: \"abc\"}}\n"),
    )
    .unwrap();
    std::fs::write(dir.join("6-chart-template.yaml"), "apiVersion: v1\nkind: Pod\nmetadata:\n  name: {{ .Values.name }}\n  labels: {{- include \"x\" . | nindent 4 }}\n").unwrap();
    std::fs::write(dir.join("7-notes.yaml"), "just: some\nconfig: file\n").unwrap();

    // Some inputs could not be read: the run is incomplete (exit 2) unless accepted.
    let incomplete = bin()
        .args(["scan", "-o", "json", "--fail-on", "none"])
        .arg(&dir)
        .output()
        .unwrap();
    assert_eq!(incomplete.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&incomplete.stderr).contains("incomplete"));
    let out = bin()
        .args([
            "scan",
            "-o",
            "json",
            "--fail-on",
            "none",
            "--allow-incomplete",
        ])
        .arg(&dir)
        .output()
        .unwrap();
    common::exiting(&out, 0);
    let report = json(&out);
    let diags = report["diagnostics"].as_array().unwrap();
    let codes: Vec<(&str, &str)> = diags
        .iter()
        .map(|d| {
            (
                d["file"].as_str().unwrap_or("").rsplit('/').next().unwrap(),
                d["code"].as_str().unwrap(),
            )
        })
        .collect();
    for expected in [
        ("1-bomb.yaml", "limit-exceeded"),
        ("2-deep.yaml", "limit-exceeded"),
        ("3-binary.yaml", "encoding"),
        ("4-tabs.yaml", "yaml-syntax"),
        ("5-mixed.yaml", "yaml-syntax"),
        ("5-mixed.yaml", "duplicate-key"),
        ("5-mixed.yaml", "type-mismatch"),
        ("6-chart-template.yaml", "not-rendered"),
    ] {
        assert!(
            codes.contains(&expected),
            "{expected:?} missing from {codes:?}"
        );
    }
    assert!(
        !codes.iter().any(|(f, _)| *f == "7-notes.yaml"),
        "non-Kubernetes YAML is skipped quietly"
    );
    let broken = diags
        .iter()
        .find(|d| {
            d["code"] == "yaml-syntax" && d["file"].as_str().unwrap().ends_with("5-mixed.yaml")
        })
        .unwrap();
    assert_eq!(
        broken["object"], "Pod broken",
        "the diagnostic names the object"
    );
    // The good pod, its NetworkPolicy and the duplicate-key pod in the same file were still
    // scanned.
    assert_eq!(report["summary"]["objects_scanned"], 3);
    let type_error = diags.iter().find(|d| d["code"] == "type-mismatch").unwrap();
    assert_eq!(type_error["object"], "Pod shop/dup2");
    assert!(type_error["line"].as_u64().unwrap() >= 17);

    let strict = bin()
        .args([
            "scan",
            "-o",
            "json",
            "--fail-on",
            "none",
            "--fail-on-diagnostics",
            "--allow-incomplete",
        ])
        .arg(&dir)
        .output()
        .unwrap();
    assert_eq!(
        strict.status.code(),
        Some(1),
        "--fail-on-diagnostics turns input errors into a CI failure"
    );
}

#[test]
fn reads_standard_input_and_lists() {
    let mut child = bin()
        .args(["scan", "-", "-o", "json", "--fail-on", "none"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let list = "{\"apiVersion\": \"v1\", \"kind\": \"List\", \"items\": [\n {\"apiVersion\": \"v1\", \"kind\": \"Pod\", \"metadata\": {\"name\": \"p\"},\n  \"spec\": {\"hostPID\": true, \"containers\": [{\"name\": \"a\", \"image\": \"a:1\"}]}}\n]}\n";
    child
        .stdin
        .take()
        .unwrap()
        .write_all(list.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    let report = json(&out);
    let host = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["rule"] == "POD004")
        .unwrap();
    assert_eq!(host["location"]["file"], "-");
    assert_eq!(host["location"]["line"], 3);
    assert_eq!(host["location"]["path"], "/spec/hostPID");
}

#[test]
fn writes_several_formats_in_one_run() {
    let dir = scratch("formats");
    let sarif = dir.join("out.sarif");
    let junit = dir.join("out.xml");
    let out = bin()
        .args(["scan", "examples/shop/log-agent.yaml", "-o", "json"])
        .arg("-o")
        .arg(format!("sarif={}", sarif.display()))
        .arg("-o")
        .arg(format!("junit={}", junit.display()))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let report = json(&out);
    let sarif: Value = serde_json::from_str(&std::fs::read_to_string(&sarif).unwrap()).unwrap();
    assert_eq!(sarif["version"], "2.1.0");
    let results = sarif["runs"][0]["results"].as_array().unwrap();
    assert_eq!(results.len(), report["findings"].as_array().unwrap().len());
    let privileged = results.iter().find(|r| r["ruleId"] == "POD001").unwrap();
    assert_eq!(
        privileged["locations"][0]["physicalLocation"]["region"]["startLine"],
        22
    );
    assert!(
        results
            .iter()
            .any(|r| r["suppressions"][0]["kind"] == "inSource")
    );
    let rules = sarif["runs"][0]["tool"]["driver"]["rules"]
        .as_array()
        .unwrap();
    assert!(rules.iter().all(|r| {
        r["fullDescription"]["text"]
            .as_str()
            .is_some_and(|t| !t.is_empty())
    }));
    let junit = std::fs::read_to_string(&junit).unwrap();
    assert!(junit.contains("<testsuite name=\"POD001 privileged-container\""));
    assert!(junit.contains("<failure"));
    // No temporary files are left next to the outputs.
    let leftovers: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .filter_map(|e| e.ok())
        .filter(|e| e.file_name().to_string_lossy().ends_with(".tmp"))
        .collect();
    assert!(leftovers.is_empty());
}

#[test]
fn config_suppressions_match_expire_and_report_unused_entries() {
    let dir = scratch("config");
    let config = dir.join("palisade.toml");
    std::fs::write(
        &config,
        "[[suppress]]\nrule = \"host-namespace-shared\"\nreason = \"log agent, reviewed\"\nnamespace = \"logg*\"\nkind = \"DaemonSet\"\n\n\
         [[suppress]]\nrule = \"POD001\"\nreason = \"was accepted until the agent moved\"\nexpires = \"2020-01-01\"\n\n\
         [[suppress]]\nrule = \"RBAC001\"\nreason = \"nothing in this file matches\"\npath = \"elsewhere/**\"\n",
    )
    .unwrap();
    let out = bin()
        .args([
            "scan",
            "examples/shop/log-agent.yaml",
            "-o",
            "json",
            "--config",
        ])
        .arg(&config)
        .output()
        .unwrap();
    let report = json(&out);
    let findings = report["findings"].as_array().unwrap();
    let pod004: Vec<&Value> = findings.iter().filter(|f| f["rule"] == "POD004").collect();
    assert_eq!(pod004.len(), 2);
    assert!(pod004.iter().all(|f| f["suppressed"]["source"] == "config"));
    assert!(
        pod004[0]["suppressed"]["origin"]
            .as_str()
            .unwrap()
            .ends_with("palisade.toml:1")
    );
    let pod001 = findings.iter().find(|f| f["rule"] == "POD001").unwrap();
    assert!(
        pod001["suppressed"].is_null(),
        "an expired suppression no longer applies"
    );
    let codes: Vec<&str> = report["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["code"].as_str().unwrap())
        .collect();
    assert!(codes.contains(&"suppression-expired"), "{codes:?}");
    assert!(codes.contains(&"suppression-unused"), "{codes:?}");
    assert_eq!(
        out.status.code(),
        Some(1),
        "the critical finding is no longer suppressed"
    );
}

/// The real `helm` (`.ci/run` installs it): the release and its namespace are named after the
/// chart's directory, made valid for Helm, so no object lands in `default` by rendering alone.
#[test]
fn renders_helm_charts_with_the_real_helm() {
    if !need_helm() {
        return;
    }
    let dir = scratch("helm-render");
    let chart = dir.join("My_Web.Chart");
    write_file(
        &chart,
        "Chart.yaml",
        "apiVersion: v2\nname: web\ndescription: \"a chart: for tests\"\nversion: 0.1.0\n",
    );
    write_file(&chart, "values.yaml", "privileged: true\n");
    write_file(
        &chart,
        "templates/pod.yaml",
        "apiVersion: v1\nkind: Pod\nmetadata:\n  name: {{ .Release.Name }}\n  namespace: {{ .Release.Namespace }}\nspec:\n  containers:\n  - name: a\n    image: registry.example.com/a:1.0\n    securityContext:\n      privileged: {{ .Values.privileged }}\n",
    );
    let out = bin()
        .args(["scan", "-o", "json"])
        .arg(&chart)
        .output()
        .unwrap();
    let report = json(&out);
    assert_eq!(report["diagnostics"], serde_json::json!([]), "{report}");
    let findings = report["findings"].as_array().unwrap();
    let privileged = findings
        .iter()
        .find(|f| f["rule"] == "POD001")
        .unwrap_or_else(|| panic!("the values make the pod privileged: {report}"));
    assert_eq!(privileged["object"]["name"], "my-web-chart");
    assert_eq!(privileged["object"]["namespace"], "my-web-chart");
    // At the field in the template (Helm writes which one), not at a line of Helm's output.
    let template = chart.join("templates/pod.yaml");
    assert_eq!(
        privileged["location"]["file"],
        template.display().to_string()
    );
    assert_eq!(privileged["location"]["line"], 11);
    assert_eq!(privileged["location"]["column"], 7);
    assert!(privileged["location"].get("rendered_by").is_none());
    // A field the template does not write: at the key it would go under.
    let seccomp = findings
        .iter()
        .find(|f| f["location"]["path"] == "/spec/securityContext/seccompProfile")
        .unwrap_or_else(|| panic!("no seccomp profile is set: {report}"));
    assert_eq!(seccomp["location"]["file"], template.display().to_string());
    assert_eq!(seccomp["location"]["line"], 6);
    assert!(
        !findings.iter().any(|f| f["rule"] == "META002"),
        "rendering alone put the pod in the default namespace: {report}"
    );
    assert_eq!(out.status.code(), Some(1));
}

/// `--helm-values` and `--helm-set` reach `helm template` for every chart, in order, as they
/// would with helm: the same chart is judged as it would be deployed with those values.
#[test]
fn charts_are_rendered_with_the_values_given() {
    if !need_helm() {
        return;
    }
    let dir = scratch("helm-values");
    let chart = dir.join("web");
    write_file(
        &chart,
        "Chart.yaml",
        "apiVersion: v2\nname: web\nversion: 0.1.0\n",
    );
    write_file(
        &chart,
        "values.yaml",
        "privileged: false\nhostNetwork: false\n",
    );
    write_file(
        &chart,
        "templates/pod.yaml",
        "apiVersion: v1\nkind: Pod\nmetadata:\n  name: web\nspec:\n  hostNetwork: {{ .Values.hostNetwork }}\n  containers:\n  - name: a\n    image: registry.example.com/a:1.0\n    securityContext:\n      privileged: {{ .Values.privileged }}\n",
    );
    let production = dir.join("production.yaml");
    std::fs::write(&production, "privileged: true\nhostNetwork: true\n").unwrap();
    let paths = |extra: &[&str]| -> Vec<String> {
        let out = bin()
            .args(["scan", "-o", "json", "--fail-on", "none"])
            .arg(&chart)
            .args(extra)
            .output()
            .unwrap();
        let report = json(&out);
        let mut paths: Vec<String> = report["findings"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|f| f["severity"] == "critical" || f["severity"] == "high")
            .map(|f| f["location"]["path"].as_str().unwrap().to_string())
            .collect();
        paths.sort();
        paths
    };
    assert_eq!(paths(&[]), Vec::<String>::new());
    let production = production.to_str().unwrap();
    assert_eq!(
        paths(&["--helm-values", production]),
        [
            "/spec/containers/0/securityContext/privileged",
            "/spec/hostNetwork"
        ]
    );
    // Later values win, as with helm.
    assert_eq!(
        paths(&[
            "--helm-values",
            production,
            "--helm-set",
            "privileged=false"
        ]),
        ["/spec/hostNetwork"]
    );
}

/// An umbrella chart with a local subchart (`file://`, packed by `helm dependency build`): the
/// subchart is scanned through the umbrella, with the umbrella's values, not once more alone,
/// and its findings point at the subchart's own template.
#[test]
fn a_local_subchart_is_scanned_through_the_chart_that_deploys_it() {
    if !need_helm() {
        return;
    }
    let dir = scratch("helm-umbrella");
    let write = |path: &str, text: &str| write_file(&dir, path, text);
    write(
        "umbrella/Chart.yaml",
        "apiVersion: v2\nname: umbrella\nversion: 1.0.0\ndependencies:\n- name: worker\n  version: 0.1.0\n  repository: file://../worker\n",
    );
    write("umbrella/values.yaml", "worker:\n  hostNetwork: true\n");
    write(
        "worker/Chart.yaml",
        "apiVersion: v2\nname: worker\nversion: 0.1.0\n",
    );
    write("worker/values.yaml", "hostNetwork: false\n");
    write(
        "worker/templates/pod.yaml",
        "apiVersion: v1\nkind: Pod\nmetadata:\n  name: {{ .Release.Name }}-worker\nspec:\n  hostNetwork: {{ .Values.hostNetwork }}\n  containers:\n  - name: a\n    image: registry.example.com/a:1.0\n",
    );
    let built = std::process::Command::new("helm")
        .args(["dependency", "build"])
        .arg(dir.join("umbrella"))
        .output()
        .unwrap();
    assert!(
        built.status.success(),
        "{}",
        String::from_utf8_lossy(&built.stderr)
    );
    let out = bin()
        .args(["scan", "-o", "json"])
        .arg(&dir)
        .output()
        .unwrap();
    let report = json(&out);
    let said: Vec<&str> = report["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["code"].as_str().unwrap_or_default())
        .collect();
    assert_eq!(said, ["chart-dependency"], "{report}");
    let host_network: Vec<&Value> = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["location"]["path"] == "/spec/hostNetwork")
        .collect();
    assert_eq!(
        host_network.len(),
        1,
        "once, with the umbrella's values: {report}"
    );
    assert_eq!(host_network[0]["object"]["name"], "umbrella-worker");
    assert_eq!(
        host_network[0]["location"]["file"],
        dir.join("worker/templates/pod.yaml").display().to_string()
    );
    assert_eq!(host_network[0]["location"]["line"], 6);
}

/// A kustomization that inflates a local chart (`helmCharts`) is rendered with
/// `--enable-helm`; one that names a chart repository is not fetched (no network, nothing
/// written into the directory), and the diagnostic says why and what to do.
#[test]
fn kustomizations_inflate_local_helm_charts_and_never_fetch_one() {
    if !need_kubectl() || !need_helm() {
        return;
    }
    let dir = scratch("kustomize-helm");
    let write = |path: &str, text: &str| write_file(&dir, path, text);
    write(
        "local/charts/web/Chart.yaml",
        "apiVersion: v2\nname: web\nversion: 0.1.0\n",
    );
    write("local/charts/web/values.yaml", "privileged: false\n");
    write(
        "local/charts/web/templates/pod.yaml",
        "apiVersion: v1\nkind: Pod\nmetadata:\n  name: {{ .Release.Name }}\nspec:\n  containers:\n  - name: a\n    image: registry.example.com/a:1.0\n    securityContext:\n      privileged: {{ .Values.privileged }}\n",
    );
    write(
        "local/kustomization.yaml",
        "namespace: shop\nhelmCharts:\n- name: web\n  releaseName: shop-web\n  valuesInline:\n    privileged: true\nhelmGlobals:\n  chartHome: charts\n",
    );
    write(
        "remote/kustomization.yaml",
        "helmCharts:\n- name: nginx\n  repo: https://charts.example.com/stable\n  version: 1.0.0\n  releaseName: web\n",
    );
    let out = bin()
        .args(["scan", "-o", "json"])
        .arg(dir.join("local"))
        .output()
        .unwrap();
    let report = json(&out);
    assert!(
        report["findings"]
            .as_array()
            .unwrap()
            .iter()
            .any(|f| f["rule"] == "POD001" && f["object"]["name"] == "shop-web"),
        "{report}"
    );
    let out = bin()
        .args(["scan", "-o", "json"])
        .arg(dir.join("remote"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let report = json(&out);
    let message = report["diagnostics"][0]["message"].as_str().unwrap();
    assert!(
        message.contains("must specify --enable-helm") && message.contains("does not fetch"),
        "{message}"
    );
    let written: Vec<_> = std::fs::read_dir(dir.join("remote")).unwrap().collect();
    assert_eq!(written.len(), 1, "the scan wrote into the directory");
}

/// A kustomization that reads resources from the network (a URL, a Git repository, in it or
/// in a base it includes) is not rendered: Kustomize would fetch them, and a scan of a pull
/// request could so be pointed at an internal address. A listener on loopback, named as a
/// remote resource, is never reached; the diagnostic names what was not fetched and how to
/// scan it. (Checked before Kustomize runs, so it holds without `kubectl` too.)
#[test]
fn kustomizations_that_read_from_the_network_are_not_rendered() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.set_nonblocking(true).unwrap();
    let url = format!("http://{}/creds", listener.local_addr().unwrap());
    let dir = scratch("kustomize-remote");
    let write = |path: &str, text: &str| write_file(&dir, path, text);
    write("base/kustomization.yaml", &format!("resources:\n- {url}\n"));
    write("overlay/kustomization.yaml", "resources:\n- ../base\n");
    write(
        "git/kustomization.yaml",
        "resources:\n- github.com/kubernetes-sigs/kustomize//examples/multibases?ref=v3.3.1\n",
    );
    for (target, named) in [
        ("overlay", url.as_str()),
        ("git", "github.com/kubernetes-sigs"),
    ] {
        let out = bin()
            .args(["scan", "-o", "json"])
            .arg(dir.join(target))
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(2), "{target}");
        let report = json(&out);
        let message = report["diagnostics"][0]["message"].as_str().unwrap();
        assert!(
            message.contains("not rendered")
                && message.contains(named)
                && message.contains("palisade scan -"),
            "{message}"
        );
    }
    assert!(
        matches!(listener.accept(), Err(e) if e.kind() == std::io::ErrorKind::WouldBlock),
        "the scan reached the address a kustomization named"
    );
}

/// Without `helm` on PATH the chart is not scanned, and the diagnostic says how to render it.
#[test]
fn helm_charts_without_helm_get_a_clear_diagnostic() {
    let dir = scratch("chart");
    std::fs::write(
        dir.join("Chart.yaml"),
        "apiVersion: v2\nname: demo\nversion: 0.1.0\n",
    )
    .unwrap();
    std::fs::create_dir_all(dir.join("templates")).unwrap();
    std::fs::write(
        dir.join("templates/pod.yaml"),
        "apiVersion: v1\nkind: Pod\nmetadata:\n  name: {{ .Release.Name }}\n",
    )
    .unwrap();
    std::fs::write(dir.join("extra.yaml"), CLEAN_POD).unwrap();
    let no_helm = scratch("chart-path");
    let out = bin()
        .args(["scan", "-o", "json"])
        .arg(&dir)
        .env("PATH", &no_helm)
        .output()
        .unwrap();
    let report = json(&out);
    let d = &report["diagnostics"][0];
    assert_eq!(d["code"], "not-rendered");
    assert!(d["message"].as_str().unwrap().contains("helm template"));
}

#[test]
fn rules_lists_and_explains() {
    let out = bin().args(["rules"]).output().unwrap();
    assert_eq!(out.status.code(), Some(0));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("POD001") && text.contains("RBAC001") && text.contains("cis-k8s-1.12:5.2.2")
    );
    // The rules whose findings other commands make are listed and explained too.
    for id in [
        "DRIFT001", "VULN001", "NODE004", "NODE005", "PRB001", "PRB003",
    ] {
        assert!(text.contains(id), "{id} is not listed");
    }
    let probe = bin().args(["rules", "PRB003"]).output().unwrap();
    assert_eq!(probe.status.code(), Some(0));
    assert!(String::from_utf8_lossy(&probe.stdout).contains("client certificate"));
    let one = bin()
        .args(["rules", "privileged-container"])
        .output()
        .unwrap();
    let doc = String::from_utf8_lossy(&one.stdout);
    assert!(
        doc.contains("## Why it matters")
            && doc.contains("## Remediation")
            && doc.contains("T1611")
    );
    // A rule that reads palisade.toml names its settings, from the rule's own declaration.
    let img004 = bin().args(["rules", "IMG004"]).output().unwrap();
    let doc = String::from_utf8_lossy(&img004.stdout);
    assert!(
        doc.contains("Settings (palisade.toml, [rules]):\n  allowed-registries = [...]"),
        "{doc}"
    );
    assert!(!String::from_utf8_lossy(&one.stdout).contains("Settings (palisade.toml"));
    assert_eq!(
        bin()
            .args(["rules", "NOPE"])
            .output()
            .unwrap()
            .status
            .code(),
        Some(2)
    );
}

#[test]
fn framework_scans_give_a_verdict_per_control() {
    let out = bin()
        .args([
            "scan",
            "examples/",
            "-o",
            "json",
            "--framework",
            "pss-restricted",
            "--fail-on",
            "none",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    let report = json(&out);
    let compliance = &report["compliance"];
    assert_eq!(compliance["framework"], "pss-restricted");
    let controls = compliance["controls"].as_array().unwrap();
    assert_eq!(controls.len(), 19, "every Baseline and Restricted control");
    let status = |id: &str| {
        controls
            .iter()
            .find(|c| c["control"] == format!("pss:{id}"))
            .unwrap_or_else(|| panic!("{id} missing"))["status"]
            .as_str()
            .unwrap()
            .to_string()
    };
    // The example's log agent is privileged and shares host namespaces; nothing adds sysctls.
    assert_eq!(status("baseline/privileged-containers"), "fail");
    assert_eq!(status("baseline/host-namespaces"), "fail");
    assert_eq!(status("baseline/sysctls"), "pass");
    // Only Pod Security rules ran, plus the namespace evaluation.
    for rule in rules_of(&report) {
        let pss = find_controls(&report, &rule)
            .iter()
            .any(|c| c.starts_with("pss:"));
        assert!(pss || rule == "NS002", "{rule} is not a Pod Security rule");
    }
    assert!(
        rules_of(&report).contains(&"NS002".to_string()),
        "the namespace's enforce label is compared with its workloads"
    );

    let cis = bin()
        .args([
            "scan",
            "examples/",
            "-o",
            "json",
            "--framework",
            "cis",
            "--fail-on",
            "none",
        ])
        .output()
        .unwrap();
    let report = json(&cis);
    let controls = report["compliance"]["controls"].as_array().unwrap();
    let manual = controls
        .iter()
        .find(|c| c["control"] == "cis-k8s-1.12:5.3.1")
        .unwrap();
    assert_eq!(manual["status"], "manual", "manual items are never pass");
    assert!(manual["reason"].as_str().unwrap().contains("CNI"));

    let bad = bin()
        .args(["scan", "examples/", "--framework", "iso27001"])
        .output()
        .unwrap();
    assert_eq!(bad.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&bad.stderr).contains("pss-restricted"));
}

fn find_controls(report: &Value, rule: &str) -> Vec<String> {
    report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["rule"] == rule)
        .flat_map(|f| f["controls"].as_array().unwrap().iter())
        .map(|c| c.as_str().unwrap().to_string())
        .collect()
}

#[test]
fn rules_framework_prints_the_compliance_matrix() {
    let out = bin()
        .args(["rules", "--framework", "cis", "-o", "json"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    let rows: Value = serde_json::from_slice(&out.stdout).unwrap();
    let row = |id: &str| {
        rows.as_array()
            .unwrap()
            .iter()
            .find(|r| r["control"] == format!("cis-k8s-1.12:{id}"))
            .unwrap()
            .clone()
    };
    assert_eq!(row("5.2.2")["status"], "covered");
    assert_eq!(row("5.2.2")["rules"][0], "POD001");
    assert_eq!(row("5.5.1")["status"], "manual");
    let table = bin()
        .args(["rules", "--framework", "pss-baseline"])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&table.stdout);
    assert!(text.contains("12 of 12 controls covered"), "{text}");
}

#[test]
fn rule_settings_come_from_the_config() {
    let dir = scratch("settings");
    std::fs::write(
        dir.join("pod.yaml"),
        "apiVersion: v1\nkind: Pod\nmetadata: {name: p, namespace: shop}\nspec:\n  containers:\n  - name: a\n    image: docker.io/someone/tool:1.0\n",
    )
    .unwrap();
    let without = bin()
        .args(["scan", "-o", "json", "--no-config", "--rules", "IMG004"])
        .arg(dir.join("pod.yaml"))
        .output()
        .unwrap();
    let report = json(&without);
    assert_eq!(report["summary"]["total"], 0);
    assert!(
        report["coverage"][0]["skipped"]
            .as_str()
            .unwrap()
            .contains("allowed-registries"),
        "an unconfigured rule says so instead of passing"
    );
    // Asked for by name, a rule that did not run leaves the run incomplete: exit 2.
    assert_eq!(without.status.code(), Some(2), "{without:?}");
    assert_eq!(report["diagnostics"][0]["code"], "rule-not-run", "{report}");
    assert_eq!(report["summary"]["inputs_not_read"], 1);
    let accepted = bin()
        .args([
            "scan",
            "--no-config",
            "--rules",
            "IMG004",
            "--allow-incomplete",
        ])
        .arg(dir.join("pod.yaml"))
        .output()
        .unwrap();
    assert_eq!(accepted.status.code(), Some(0), "{accepted:?}");
    assert!(
        String::from_utf8_lossy(&accepted.stdout)
            .contains("INCOMPLETE: 1 rule asked for did not run"),
        "{accepted:?}"
    );
    // So does RBAC021, which judges changes at admission only.
    let admission_only = bin()
        .args(["scan", "--no-config", "--rules", "RBAC021,IMG001"])
        .arg(dir.join("pod.yaml"))
        .output()
        .unwrap();
    assert_eq!(admission_only.status.code(), Some(2), "{admission_only:?}");
    assert!(String::from_utf8_lossy(&admission_only.stdout).contains("RBAC021 was asked for"));
    std::fs::write(
        dir.join("palisade.toml"),
        "[rules]\nallowed-registries = [\"registry.example.com\"]\n",
    )
    .unwrap();
    let with = bin()
        .args(["scan", "-o", "json", "--rules", "IMG004", "--config"])
        .arg(dir.join("palisade.toml"))
        .arg(dir.join("pod.yaml"))
        .output()
        .unwrap();
    let report = json(&with);
    assert_eq!(report["findings"][0]["rule"], "IMG004");
    std::fs::write(
        dir.join("bad.toml"),
        "[rules]\nallowed-capabilities = [\"ALL\"]\n",
    )
    .unwrap();
    let bad = bin()
        .args(["scan", "--config"])
        .arg(dir.join("bad.toml"))
        .arg(dir.join("pod.yaml"))
        .output()
        .unwrap();
    assert_eq!(bad.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&bad.stderr).contains("bad.toml:2:25"));
}

/// IMG005 reads the threat intelligence `palisade.toml` names (relative to it), as `palisade
/// audit` reads it: a manifest running an image it lists is a finding; without the setting
/// the rule says it did not run; an entry not read is a warning with its line; a file that
/// cannot be read stops the scan (exit 2) rather than passing it.
#[test]
fn threat_intelligence_in_the_configuration_names_images_in_manifests() {
    let dir = scratch("scan-threat-intel");
    std::fs::create_dir_all(dir.join("intel")).unwrap();
    std::fs::write(
        dir.join("intel/miners.txt"),
        "image: xmrig/xmrig\nminer.example\nnot an entry\n",
    )
    .unwrap();
    std::fs::write(
        dir.join("pod.yaml"),
        "apiVersion: v1\nkind: Pod\nmetadata: {name: p, namespace: shop}\nspec:\n  containers:\n  - name: a\n    image: xmrig/xmrig:6.21.0\n",
    )
    .unwrap();
    let scan = |config: Option<&str>| {
        let mut command = bin();
        command.args(["scan", "-o", "json", "--rules", "IMG005"]);
        match config {
            Some(name) => command.arg("--config").arg(dir.join(name)),
            None => command.arg("--no-config"),
        };
        command.arg(dir.join("pod.yaml")).output().unwrap()
    };
    let without = scan(None);
    let report = json(&without);
    assert_eq!(report["summary"]["total"], 0);
    assert!(
        report["coverage"][0]["skipped"]
            .as_str()
            .unwrap()
            .contains("threat-intel"),
        "{report}"
    );
    std::fs::write(
        dir.join("palisade.toml"),
        "[rules]\nthreat-intel = [\"intel/miners.txt\"]\n",
    )
    .unwrap();
    let with = scan(Some("palisade.toml"));
    let report = json(&with);
    assert_eq!(report["findings"][0]["rule"], "IMG005", "{report}");
    assert!(
        report["findings"][0]["message"]
            .as_str()
            .unwrap()
            .contains("named by threat intelligence: docker.io/xmrig/xmrig (intel/miners.txt:1)"),
        "{report}"
    );
    let err = String::from_utf8_lossy(&with.stderr);
    assert!(err.contains("intel/miners.txt:3: `not an entry`"), "{err}");
    std::fs::write(
        dir.join("missing.toml"),
        "[rules]\nthreat-intel = [\"intel/absent.txt\"]\n",
    )
    .unwrap();
    let missing = scan(Some("missing.toml"));
    assert_eq!(missing.status.code(), Some(2));
    let err = String::from_utf8_lossy(&missing.stderr);
    assert!(
        err.contains("[rules] threat-intel") && err.contains("intel/absent.txt"),
        "{err}"
    );
}

#[test]
fn a_reader_that_goes_away_stops_the_output_quietly() {
    let mut child = bin()
        .args(["scan", "examples/", "-o", "json", "--no-config"])
        .current_dir(workspace())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // Close the read end, as `| head -0` would. The report (over 100 KB) is larger than a pipe's
    // buffer, so a write fails even if the scan started writing before the close.
    drop(child.stdout.take());
    let output = child.wait_with_output().unwrap();
    assert_eq!(output.status.code(), Some(141));
    assert!(
        output.stderr.is_empty(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
}

/// Help and man pages name the variables, never their values: one may hold a webhook whose
/// URL is its credential.
#[test]
fn help_and_man_pages_never_show_a_variables_value() {
    let secret = "slack+https://hooks.slack.com/services/T0/B0/SECRETXYZ";
    let help = bin()
        .args(["audit", "analyze", "--help"])
        .env("PALISADE_AUDIT_SINKS", secret)
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&help.stdout);
    assert!(text.contains("PALISADE_AUDIT_SINKS"), "{text}");
    assert!(!text.contains("SECRETXYZ"), "{text}");
    let dir = scratch("man-env");
    let man = bin()
        .arg("man")
        .arg(&dir)
        .env("PALISADE_AUDIT_SINKS", secret)
        .output()
        .unwrap();
    assert!(man.status.success());
    let page = std::fs::read_to_string(dir.join("palisade-audit-analyze.1")).unwrap();
    assert!(page.contains("PALISADE_AUDIT_SINKS"), "{page}");
    assert!(!page.contains("SECRETXYZ"));
}

#[test]
fn every_command_stops_quietly_when_its_reader_has_gone() {
    let dir = scratch("reader-gone");
    let store = dir.join("palisade.db");
    let trace = dir.join("audit.log");
    std::fs::write(
        &trace,
        r#"{"kind":"Event","apiVersion":"audit.k8s.io/v1","level":"Metadata","auditID":"a1","stage":"ResponseComplete","requestURI":"/api/v1/namespaces/shop/pods","verb":"list","user":{"username":"alice"},"sourceIPs":["10.0.0.1"],"userAgent":"kubectl/v1.31.0","objectRef":{"resource":"pods","namespace":"shop","apiVersion":"v1"},"responseStatus":{"code":200},"requestReceivedTimestamp":"2026-12-01T10:00:00.000000Z","stageTimestamp":"2026-12-01T10:00:00.010000Z"}"#,
    )
    .unwrap();
    let learned = bin()
        .args(["audit", "baseline", "learn", "--store"])
        .arg(&store)
        .arg(&trace)
        .output()
        .unwrap();
    assert!(learned.status.success(), "{learned:?}");
    let store = store.to_str().unwrap();
    let man = dir.join("man");
    let commands: &[&[&str]] = &[
        &["install", "--print"],
        &["completion", "bash"],
        &["man", man.to_str().unwrap()],
        &["init", "-"],
        &["rules", "-o", "json"],
        &["audit", "rules", "-o", "json"],
        &["audit", "baseline", "export", "--store", store],
        &["audit", "baseline", "show", "-o", "json", "--store", store],
        &["scan", "examples/", "-o", "sarif", "--no-config"],
    ];
    for args in commands {
        // Standard output is a pipe whose reader is already closed: every write fails.
        let (reader, writer) = std::io::pipe().unwrap();
        drop(reader);
        let output = bin()
            .args(*args)
            .current_dir(workspace())
            .stdout(writer)
            .output()
            .unwrap();
        let err = String::from_utf8_lossy(&output.stderr);
        assert_eq!(output.status.code(), Some(141), "{args:?}: {err}");
        assert!(
            !err.contains("panicked") && !err.contains("error"),
            "{args:?}: {err}"
        );
    }
}

/// `palisade scan -o json FILE`: the rule ids of the findings on the object of each name.
fn rules_on_objects(file: &Path) -> impl Fn(&str) -> Vec<String> + use<> {
    let out = bin()
        .args(["scan", "-o", "json"])
        .arg(file)
        .output()
        .unwrap();
    let report = json(&out);
    move |name| {
        report["findings"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|f| f["object"]["name"] == name)
            .map(|f| f["rule"].as_str().unwrap().to_string())
            .collect()
    }
}

/// A cluster read into a file, as `palisade snapshot` or `kubectl get -o yaml` writes it: the
/// Deployment's ReplicaSet and Pods are judged once, through the Deployment. A Pod made by
/// hand that claims the ReplicaSet with a forged owner reference but runs privileged, as a
/// cluster-admin account, is judged on its own spec: the owner reference hides nothing. One
/// that runs another image than the template is reported for it.
#[test]
fn a_pod_with_a_forged_owner_reference_is_judged_on_its_own_spec() {
    let dir = scratch("forged-owner");
    let pod = |name: &str, spec: &str| {
        format!(
            "apiVersion: v1\nkind: Pod\nmetadata:\n  name: {name}\n  namespace: shop\n  labels: {{app: web, pod-template-hash: abc}}\n  ownerReferences: [{{apiVersion: apps/v1, kind: ReplicaSet, name: web-abc, uid: rs-1, controller: true}}]\nspec: {spec}\n"
        )
    };
    let template = "{serviceAccountName: web, containers: [{name: web, image: 'nginx:1.27'}]}";
    let cluster = [
        "apiVersion: v1\nkind: ServiceAccount\nmetadata: {name: backup, namespace: shop}\n".to_string(),
        "apiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRoleBinding\nmetadata: {name: backup-admin}\nroleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: cluster-admin}\nsubjects: [{kind: ServiceAccount, name: backup, namespace: shop}]\n".to_string(),
        format!("apiVersion: apps/v1\nkind: Deployment\nmetadata: {{name: web, namespace: shop, uid: d-1}}\nspec:\n  selector: {{matchLabels: {{app: web}}}}\n  template:\n    metadata: {{labels: {{app: web}}}}\n    spec: {template}\n"),
        format!("apiVersion: apps/v1\nkind: ReplicaSet\nmetadata:\n  name: web-abc\n  namespace: shop\n  uid: rs-1\n  ownerReferences: [{{apiVersion: apps/v1, kind: Deployment, name: web, uid: d-1, controller: true}}]\nspec:\n  selector: {{matchLabels: {{app: web}}}}\n  template:\n    metadata: {{labels: {{app: web, pod-template-hash: abc}}}}\n    spec: {template}\n"),
        pod("web-abc-1", "{serviceAccountName: web, serviceAccount: web, nodeName: n1, containers: [{name: web, image: 'nginx:1.27'}]}"),
        pod("web-abc-evil", "{serviceAccountName: backup, nodeName: n1, containers: [{name: web, image: 'nginx:1.27', securityContext: {privileged: true}}]}"),
        pod("web-abc-swapped", "{serviceAccountName: web, nodeName: n1, containers: [{name: web, image: 'evil.example.net/nginx:1.27'}]}"),
    ]
    .join("---\n");
    write_file(&dir, "cluster.yaml", &cluster);
    let on = rules_on_objects(&dir.join("cluster.yaml"));
    let evil = on("web-abc-evil");
    assert!(evil.contains(&"POD001".to_string()), "{evil:?}");
    assert!(on("web-abc-1").is_empty(), "{:?}", on("web-abc-1"));
    // As powerful as its template, but running another image: judged through the Deployment,
    // and POD038 says what it runs.
    assert_eq!(on("web-abc-swapped"), ["POD038"]);
    assert!(!on("web").is_empty());
    assert!(!on("web").contains(&"POD001".to_string()));
}

/// A DaemonSet read from a cluster with its ControllerRevisions: a Pod of the revision that
/// records the DaemonSet's template as it is now is compared with it (POD038 on an image
/// changed in place); a Pod of an earlier revision (`OnDelete`) runs that revision's image,
/// and is compared with the template that revision records.
#[test]
fn a_daemon_set_pod_of_the_current_revision_is_compared_with_its_template() {
    let dir = scratch("daemon-set-revisions");
    let template = |image: &str| {
        format!(
            "{{metadata: {{labels: {{app: agent}}}}, spec: {{containers: [{{name: agent, image: '{image}'}}]}}}}"
        )
    };
    let revision = |hash: &str, number: u32, image: &str| {
        format!(
            "apiVersion: apps/v1\nkind: ControllerRevision\nmetadata:\n  name: agent-{hash}\n  namespace: ops\n  ownerReferences: [{{apiVersion: apps/v1, kind: DaemonSet, name: agent, uid: ds-1, controller: true}}]\nrevision: {number}\ndata: {{spec: {{template: {{$patch: replace, metadata: {{labels: {{app: agent}}}}, spec: {{containers: [{{name: agent, image: '{image}'}}]}}}}}}}}\n"
        )
    };
    let pod = |name: &str, hash: &str, image: &str| {
        format!(
            "apiVersion: v1\nkind: Pod\nmetadata:\n  name: {name}\n  namespace: ops\n  labels: {{app: agent, controller-revision-hash: {hash}}}\n  ownerReferences: [{{apiVersion: apps/v1, kind: DaemonSet, name: agent, uid: ds-1, controller: true}}]\nspec: {{nodeName: n1, containers: [{{name: agent, image: '{image}'}}]}}\n"
        )
    };
    let cluster = [
        format!(
            "apiVersion: apps/v1\nkind: DaemonSet\nmetadata: {{name: agent, namespace: ops, uid: ds-1}}\nspec:\n  selector: {{matchLabels: {{app: agent}}}}\n  updateStrategy: {{type: OnDelete}}\n  template: {}\n",
            template("agent:2.0")
        ),
        revision("5f7d9c", 2, "agent:2.0"),
        revision("8b6e4a", 1, "agent:1.9"),
        pod("agent-current", "5f7d9c", "agent:2.0"),
        pod("agent-swapped", "5f7d9c", "evil.example.net/agent:2.0"),
        pod("agent-earlier", "8b6e4a", "agent:1.9"),
        pod("agent-earlier-swapped", "8b6e4a", "evil.example.net/agent:1.9"),
    ]
    .join("---\n");
    write_file(&dir, "cluster.yaml", &cluster);
    let on = rules_on_objects(&dir.join("cluster.yaml"));
    assert_eq!(on("agent-swapped"), ["POD038"]);
    assert!(on("agent-current").is_empty(), "{:?}", on("agent-current"));
    assert!(on("agent-earlier").is_empty(), "{:?}", on("agent-earlier"));
    // Of the earlier revision, compared with the template that revision records.
    assert_eq!(on("agent-earlier-swapped"), ["POD038"]);
}

/// A Pod of a known ReplicaSet, as powerful as its template, whose labels leave out the one
/// the namespace's NetworkPolicy isolates by: the network judges it on its own labels, so it
/// is reported as not isolated (NET004), where its controller is. A Pod carrying only a mesh's
/// extra label (no selector reads it) stays with its Deployment.
#[test]
fn a_pod_whose_labels_escape_its_controllers_network_policy_is_its_own_endpoint() {
    let dir = scratch("relabelled-pod");
    let pod = |name: &str, labels: &str| {
        format!(
            "apiVersion: v1\nkind: Pod\nmetadata:\n  name: {name}\n  namespace: shop\n  labels: {labels}\n  ownerReferences: [{{apiVersion: apps/v1, kind: ReplicaSet, name: web-abc, uid: rs-1, controller: true}}]\nspec: {{containers: [{{name: web, image: 'nginx:1.27'}}]}}\n"
        )
    };
    let template = "{containers: [{name: web, image: 'nginx:1.27'}]}";
    let cluster = [
        "apiVersion: v1\nkind: Namespace\nmetadata: {name: shop}\n".to_string(),
        "apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {name: web, namespace: shop}\nspec: {podSelector: {matchLabels: {app: web}}, policyTypes: [Ingress, Egress]}\n".to_string(),
        format!("apiVersion: apps/v1\nkind: Deployment\nmetadata: {{name: web, namespace: shop, uid: d-1}}\nspec:\n  selector: {{matchLabels: {{app: web}}}}\n  template:\n    metadata: {{labels: {{app: web}}}}\n    spec: {template}\n"),
        format!("apiVersion: apps/v1\nkind: ReplicaSet\nmetadata:\n  name: web-abc\n  namespace: shop\n  uid: rs-1\n  ownerReferences: [{{apiVersion: apps/v1, kind: Deployment, name: web, uid: d-1, controller: true}}]\nspec:\n  selector: {{matchLabels: {{app: web}}}}\n  template:\n    metadata: {{labels: {{app: web, pod-template-hash: abc}}}}\n    spec: {template}\n"),
        pod("web-abc-1", "{app: web, pod-template-hash: abc, security.istio.io/tlsMode: istio}"),
        pod("web-abc-loose", "{app: web-debug, pod-template-hash: abc}"),
    ]
    .join("---\n");
    write_file(&dir, "cluster.yaml", &cluster);
    let on = rules_on_objects(&dir.join("cluster.yaml"));
    let loose = on("web-abc-loose");
    assert!(loose.contains(&"NET004".to_string()), "{loose:?}");
    assert!(
        !on("web").contains(&"NET004".to_string()),
        "{:?}",
        on("web")
    );
    assert!(on("web-abc-1").is_empty(), "{:?}", on("web-abc-1"));
    // The network commands see it too.
    let out = bin()
        .args(["net", "matrix", "-o", "json"])
        .arg(dir.join("cluster.yaml"))
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("web-abc-loose"), "{text}");
    assert!(!text.contains("web-abc-1"), "{text}");
}

/// What a manifest names (an object, a container, a file) reaches the terminal report as
/// text: an escape sequence, carriage return or bidirectional override in it is shown
/// escaped, never obeyed (the report's own colours are off when not on a terminal).
#[test]
fn the_terminal_report_shows_hostile_names_escaped() {
    let dir = scratch("cli-terminal-safe");
    write_file(
        &dir,
        "evil\u{1b}[2K.yaml",
        "apiVersion: v1\nkind: Pod\nmetadata:\n  name: \"evil\\e[2K\\rINFO fine\\u202e\"\n  namespace: default\nspec:\n  containers:\n  - name: \"c\\e]0;pwned\\a\"\n    image: nginx\n    securityContext:\n      privileged: true\n",
    );
    let out = bin().arg("scan").arg(&dir).output().unwrap();
    let text =
        String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr);
    assert!(text.contains("POD001"), "{text}");
    common::assert_terminal_safe(&text);
    assert!(text.contains("evil\\u{1b}[2K\\rINFO fine"), "{text}");
    // An error that names the input shows it escaped too.
    let missing = dir.join("gone\u{1b}]0;pwned\u{7}.log");
    let out = bin()
        .args(["audit", "analyze"])
        .arg(&missing)
        .output()
        .unwrap();
    let error = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{error}");
    assert!(error.contains("gone\\u{1b}]0;pwned\\u{7}.log"), "{error}");
    common::assert_terminal_safe(&error);
}

/// The answers of other commands (`rbac who-can`, a table) show what the input named
/// escaped too: a subject whose name holds an escape sequence cannot erase its own row.
#[test]
fn answers_show_hostile_subjects_escaped() {
    let dir = scratch("cli-terminal-safe-answers");
    write_file(
        &dir,
        "rbac.yaml",
        "apiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRoleBinding\nmetadata:\n  name: \"b\\e[2K\"\nroleRef:\n  apiGroup: rbac.authorization.k8s.io\n  kind: ClusterRole\n  name: cluster-admin\nsubjects:\n- kind: User\n  apiGroup: rbac.authorization.k8s.io\n  name: \"eve\\e]0;pwned\\a\\rroot\"\n",
    );
    let out = bin()
        .args(["rbac", "who-can", "delete", "secrets"])
        .arg(&dir)
        .output()
        .unwrap();
    let text =
        String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr);
    assert!(text.contains("eve\\u{1b}]0;pwned\\u{7}\\rroot"), "{text}");
    common::assert_terminal_safe(&text);
}

/// `scan PATH --against SNAPSHOT`: a pull request's manifests judged as changes to the cluster
/// a snapshot holds, as the webhook would judge them. The binding that completes an exposed
/// Deployment's chain to cluster-admin is found (RBAC021, at its file's line), which a scan of
/// the manifests alone cannot see; the same grant to an account nobody runs as is not; a
/// Deployment running as an account the cluster binds to cluster-admin is found (RBAC017)
/// only with the cluster.
#[test]
fn manifests_are_judged_as_changes_to_a_snapshot() {
    let dir = scratch("against");
    let fixture = std::fs::read_to_string(
        workspace().join("crates/palisade-rules/tests/fixtures/RBAC021/fail.yaml"),
    )
    .unwrap();
    let (cluster, binding) = fixture.rsplit_once("\n---\n").unwrap();
    let items: Vec<Value> =
        palisade_inventory::load_text("cluster.yaml", cluster, &Default::default())
            .inventory
            .objects
            .iter()
            .map(|o| o.value.clone())
            .collect();
    let snapshot = dir.join("cluster.json");
    std::fs::write(
        &snapshot,
        serde_json::json!({"apiVersion": "v1", "kind": "List", "items": items}).to_string(),
    )
    .unwrap();
    write_file(&dir, "pr.yaml", &format!("# the pull request\n{binding}\n"));
    let harmless = binding.replace(
        "name: web, namespace: web",
        "name: release-bot, namespace: ops",
    );
    assert_ne!(harmless, binding);
    write_file(&dir, "harmless.yaml", &harmless);
    let against = |file: &str, rules: &str| {
        bin()
            .args(["scan", "--no-config", "-o", "json", "--rules", rules])
            .arg(dir.join(file))
            .arg("--against")
            .arg(&snapshot)
            .output()
            .unwrap()
    };
    let opened = against("pr.yaml", "RBAC021");
    assert_eq!(opened.status.code(), Some(1), "{opened:?}");
    let report = json(&opened);
    let finding = &report["findings"][0];
    assert_eq!(finding["rule"], "RBAC021", "{report}");
    assert!(
        finding["location"]["file"]
            .as_str()
            .unwrap()
            .ends_with("pr.yaml")
    );
    assert_eq!(finding["location"]["line"], 6, "{finding}");
    assert!(
        finding["message"]
            .as_str()
            .unwrap()
            .contains("lets Deployment web/web")
    );
    let quiet = against("harmless.yaml", "RBAC021");
    assert_eq!(quiet.status.code(), Some(0), "{quiet:?}");
    assert_eq!(json(&quiet)["summary"]["total"], 0);
    // A Deployment that runs as ops/backup, which the cluster binds to cluster-admin.
    write_file(
        &dir,
        "deployment.yaml",
        "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: tool, namespace: ops}\nspec:\n  selector: {matchLabels: {app: tool}}\n  template:\n    metadata: {labels: {app: tool}}\n    spec: {serviceAccountName: backup, containers: [{name: t, image: 'registry.example.com/t:1'}]}\n",
    );
    let with_cluster = json(&against("deployment.yaml", "RBAC017"));
    assert_eq!(
        with_cluster["findings"][0]["rule"], "RBAC017",
        "{with_cluster}"
    );
    let alone = bin()
        .args(["scan", "--no-config", "-o", "json", "--rules", "RBAC017"])
        .arg(dir.join("deployment.yaml"))
        .output()
        .unwrap();
    assert_eq!(json(&alone)["summary"]["total"], 0);
    // Manifests are what --against judges.
    let none = bin()
        .args(["scan", "--against"])
        .arg(&snapshot)
        .output()
        .unwrap();
    assert_eq!(none.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&none.stderr).contains("give the manifests"));
}

#[test]
fn policy_reports_are_a_list_kubectl_applies() {
    let out = bin()
        .args(["scan", "examples/", "-o", "policyreport"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let list = json(&out);
    assert_eq!(list["kind"], "List");
    let items = list["items"].as_array().unwrap();
    let shop = items
        .iter()
        .find(|i| i["kind"] == "PolicyReport" && i["metadata"]["namespace"] == "shop")
        .expect("a report for the shop namespace");
    assert_eq!(shop["metadata"]["name"], "palisade-shop");
    let results = shop["results"].as_array().unwrap();
    assert!(
        results
            .iter()
            .all(|r| r["resources"][0]["namespace"] == "shop")
    );
    assert_eq!(
        shop["summary"]["fail"].as_u64().unwrap() as usize,
        results.iter().filter(|r| r["result"] == "fail").count()
    );
    assert!(items.iter().any(|i| i["kind"] == "ClusterPolicyReport"));
}

/// A report written to a named pipe (the shell's `-o json=>(jq .)`) or through a symbolic link
/// goes into it: it once went to a temporary file renamed over the path, which replaced the
/// pipe or link with a file, and as root replaced `/dev/null` itself when a report was sent
/// there. (A pipe and a link stand in for `/dev/null` here, which a failing test must not
/// break.)
#[cfg(unix)]
#[test]
fn reports_are_written_through_pipes_and_links_never_over_them() {
    use std::os::unix::fs::FileTypeExt;
    let dir = scratch("write-through");
    let pipe = dir.join("pipe");
    let made = std::process::Command::new("mkfifo")
        .arg(&pipe)
        .status()
        .unwrap();
    assert!(made.success());
    let reader = {
        let pipe = pipe.clone();
        std::thread::spawn(move || std::fs::read_to_string(pipe).unwrap())
    };
    let report_to = |path: &std::path::Path| {
        let out = bin()
            .args(["scan", "examples/shop/api.yaml", "--no-config"])
            .args(["--fail-on", "none", "-o"])
            .arg(format!("json={}", path.display()))
            .output()
            .unwrap();
        common::exiting(&out, 0);
    };
    report_to(&pipe);
    assert!(
        std::fs::symlink_metadata(&pipe)
            .unwrap()
            .file_type()
            .is_fifo(),
        "the pipe was replaced"
    );
    let read = reader.join().unwrap();
    assert!(read.contains("\"findings\""), "{read}");

    let report = dir.join("report.json");
    let link = dir.join("latest.json");
    std::fs::write(&report, "old").unwrap();
    std::os::unix::fs::symlink(&report, &link).unwrap();
    report_to(&link);
    assert!(
        std::fs::symlink_metadata(&link)
            .unwrap()
            .file_type()
            .is_symlink(),
        "the link was replaced"
    );
    assert!(
        std::fs::read_to_string(&report)
            .unwrap()
            .contains("\"findings\"")
    );
}

/// NS002 takes the API server's PodSecurity admission defaults into account: from an
/// AdmissionConfiguration of the namespace's directory, or from `palisade.toml`
/// (`pod-security-defaults`, `pod-security-exempt-namespaces`); without them, a namespace
/// without a label enforces nothing.
#[test]
fn pod_security_defaults_decide_unlabelled_namespaces() {
    let dir = scratch("pss-defaults");
    let app = "apiVersion: v1\nkind: Namespace\nmetadata: {name: shop}\n---\napiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web, namespace: shop}\nspec:\n  selector: {matchLabels: {app: web}}\n  template:\n    metadata: {labels: {app: web}}\n    spec:\n      containers: [{name: web, image: 'web:1'}]\n";
    write_file(&dir, "app/app.yaml", app);
    let ns002 = |extra: &[&str]| -> Vec<String> {
        let out = bin()
            .args(["scan", "-o", "json", "--rules", "NS002"])
            .args(extra)
            .arg(dir.join("app"))
            .output()
            .unwrap();
        json(&out)["findings"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| f["message"].as_str().unwrap().to_string())
            .collect()
    };
    let none = ns002(&["--no-config"]);
    assert_eq!(none.len(), 1);
    assert!(
        none[0].contains("has no pod-security.kubernetes.io/enforce label"),
        "{none:?}"
    );
    // The cluster enforces baseline by default, which the workload meets; restricted would
    // reject it.
    let admission = |level: &str| {
        format!(
            "apiVersion: apiserver.config.k8s.io/v1\nkind: AdmissionConfiguration\nplugins:\n- name: PodSecurity\n  configuration:\n    apiVersion: pod-security.admission.config.k8s.io/v1\n    kind: PodSecurityConfiguration\n    defaults: {{enforce: {level}, enforce-version: latest}}\n    exemptions: {{namespaces: [ci]}}\n"
        )
    };
    write_file(&dir, "app/admission.yaml", &admission("baseline"));
    let baseline = ns002(&["--no-config"]);
    assert!(baseline.is_empty(), "{baseline:?}");
    write_file(&dir, "app/admission.yaml", &admission("restricted"));
    let restricted = ns002(&["--no-config"]);
    assert_eq!(restricted.len(), 1);
    assert!(
        restricted[0].starts_with("namespace shop enforces restricted by the cluster's default (the AdmissionConfiguration of the input; policy v1.")
            && restricted[0].ends_with("), which would reject the pods of Deployment web"),
        "{restricted:?}"
    );
    std::fs::remove_file(dir.join("app/admission.yaml")).unwrap();
    // palisade.toml says what the live cluster's configuration does.
    write_file(
        &dir,
        "palisade.toml",
        "[rules]\npod-security-defaults = [\"enforce=baseline\"]\n",
    );
    let config = dir.join("palisade.toml");
    let config = config.to_str().unwrap();
    assert!(ns002(&["--config", config]).is_empty());
    write_file(
        &dir,
        "palisade.toml",
        "[rules]\npod-security-defaults = [\"enforce=baseline\"]\npod-security-exempt-namespaces = [\"shop\"]\n",
    );
    let exempt = ns002(&["--config", config]);
    assert_eq!(exempt.len(), 1);
    assert!(
        exempt[0].starts_with(
            "namespace shop is exempt from Pod Security admission (palisade.toml's [rules])"
        ),
        "{exempt:?}"
    );
    // A level that is none is a configuration error.
    write_file(
        &dir,
        "palisade.toml",
        "[rules]\npod-security-defaults = [\"enforce=strict\"]\n",
    );
    let bad = bin()
        .args(["scan", "--rules", "NS002", "--config", config])
        .arg(dir.join("app"))
        .output()
        .unwrap();
    assert_eq!(bad.status.code(), Some(2), "{bad:?}");
    assert!(
        String::from_utf8_lossy(&bad.stderr).contains("`strict` is not a level"),
        "{bad:?}"
    );
}

/// Custom workloads are judged as the pods they make, and say so plainly: a Knative Service
/// whose lone container has no name (as Knative's documentation writes them) is an object, not
/// a patch, and the image of an Argo Rollout's template prints as a Deployment's does, in the
/// table and in JSON, rather than `[REDACTED]`. Its environment values stay hidden.
#[test]
fn custom_workloads_are_judged_and_their_images_named() {
    let dir = scratch("custom-workloads");
    write_file(
        &dir,
        "apps.yaml",
        "apiVersion: serving.knative.dev/v1
kind: Service
metadata: {name: hello, namespace: app}
spec:
  template:
    spec:
      containers:
      - image: registry.example.com/hello:1.4
        securityContext: {privileged: true}
---
apiVersion: argoproj.io/v1alpha1
kind: Rollout
metadata: {name: web, namespace: app}
spec:
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      containers:
      - name: web
        image: registry.example.com/web:2.0
        env: [{name: MODE, value: quiet-canary-7f3e9a}]
---
apiVersion: apps.kruise.io/v1alpha1
kind: CloneSet
metadata: {name: clone, namespace: app}
spec:
  selector: {matchLabels: {app: clone}}
  template:
    metadata: {labels: {app: clone}}
    spec:
      containers: [{name: c, image: 'r/c:1', securityContext: {privileged: true}}]
---
apiVersion: keda.sh/v1alpha1
kind: ScaledJob
metadata: {name: worker, namespace: app}
spec:
  jobTargetRef:
    template:
      spec:
        restartPolicy: Never
        containers: [{name: c, image: 'r/w:1', securityContext: {privileged: true}}]
  triggers: [{type: cron, metadata: {timezone: UTC, start: 0 * * * *, end: 5 * * * *}}]
---
apiVersion: agents.x-k8s.io/v1alpha1
kind: Sandbox
metadata: {name: agent, namespace: app}
spec:
  podTemplate:
    spec:
      containers: [{name: c, image: 'r/a:1', securityContext: {privileged: true}}]
---
apiVersion: kubeflow.org/v1
kind: Notebook
metadata: {name: lab, namespace: app}
spec:
  template:
    spec:
      containers: [{name: c, image: 'r/n:1', securityContext: {privileged: true}}]
",
    );
    for format in ["json", "table"] {
        let out = bin()
            .current_dir(&dir)
            .args([
                "scan",
                "apps.yaml",
                "--fail-on",
                "none",
                "--color",
                "never",
                "-o",
                format,
            ])
            .output()
            .unwrap();
        let text = String::from_utf8_lossy(&out.stdout);
        assert_eq!(out.status.code(), Some(0), "{text}");
        assert!(
            !text.contains("[fragment]") && !text.contains("\"fragment\""),
            "{text}"
        );
        assert!(!text.contains("[REDACTED]"), "{format}: {text}");
        assert!(!text.contains("quiet-canary-7f3e9a"), "{format}: {text}");
        assert!(
            text.contains("uses registry.example.com/hello:1.4 by tag only"),
            "{text}"
        );
        assert!(
            text.contains("uses registry.example.com/web:2.0 by tag only"),
            "{text}"
        );
    }
    let out = bin()
        .current_dir(&dir)
        .args(["scan", "apps.yaml", "-o", "json", "--fail-on", "none"])
        .output()
        .unwrap();
    let report = json(&out);
    let mut privileged: Vec<String> = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["rule"] == "POD001")
        .map(|f| {
            format!(
                "{} {} {}",
                f["object"]["kind"].as_str().unwrap(),
                f["location"]["path"].as_str().unwrap(),
                f["message"].as_str().unwrap()
            )
        })
        .collect();
    privileged.sort();
    let at = "containers/0/securityContext/privileged";
    let says = "runs privileged: it has full access to the node";
    assert_eq!(
        privileged,
        [
            format!("CloneSet /spec/template/spec/{at} container \"c\" {says}"),
            format!("Notebook /spec/template/spec/{at} container \"c\" {says}"),
            format!("Sandbox /spec/podTemplate/spec/{at} container \"c\" {says}"),
            format!("ScaledJob /spec/jobTargetRef/template/spec/{at} container \"c\" {says}"),
            format!("Service /spec/template/spec/{at} container \"#0\" {says}"),
        ]
    );
}

/// A Katib Experiment's trial template is a pod spec where no rule reads one: the scan says so
/// with a warning at it, naming it, rather than passing the manifest in silence; the run
/// itself is not failed by it unless `--fail-on-diagnostics=warning` asks.
#[test]
fn pod_templates_no_rule_reads_are_named_not_passed() {
    let dir = scratch("unjudged-templates");
    write_file(
        &dir,
        "experiment.yaml",
        "apiVersion: kubeflow.org/v1beta1
kind: Experiment
metadata: {name: tune, namespace: ml}
spec:
  trialTemplate:
    trialSpec:
      apiVersion: batch/v1
      kind: Job
      spec:
        template:
          spec:
            containers: [{name: trial, image: 'r/trial:1', securityContext: {privileged: true}}]
",
    );
    let scan = |extra: &[&str]| {
        bin()
            .current_dir(&dir)
            .args(["scan", "experiment.yaml", "-o", "json"])
            .args(extra)
            .output()
            .unwrap()
    };
    let out = scan(&[]);
    assert_eq!(out.status.code(), Some(0));
    let report = json(&out);
    let diagnostics = report["diagnostics"].as_array().unwrap();
    assert_eq!(diagnostics.len(), 1, "{report:#}");
    assert_eq!(diagnostics[0]["code"], "pod-template-not-judged");
    assert_eq!(diagnostics[0]["level"], "warning");
    assert_eq!(diagnostics[0]["line"], 11);
    assert_eq!(diagnostics[0]["object"], "Experiment ml/tune");
    assert!(
        diagnostics[0]["message"]
            .as_str()
            .unwrap()
            .contains("(spec.trialTemplate.trialSpec.spec.template.spec)"),
        "{report:#}"
    );
    assert_eq!(
        scan(&["--fail-on-diagnostics=warning"]).status.code(),
        Some(1)
    );
}

/// Kinds with several pod templates are judged template by template, each finding at its
/// template (a RayCluster's privileged head, a PyTorchJob's Worker that adds SYS_ADMIN, a
/// KServe predictor, whose pod spec is inline, with its workers and its AppArmor annotation
/// beside its fields, and the container of a predictor's framework written alone), with no
/// warning, the images printed and the environment hidden.
#[test]
fn every_pod_template_of_a_grouped_workload_is_judged() {
    let dir = scratch("grouped-templates");
    write_file(
        &dir,
        "ml.yaml",
        "apiVersion: ray.io/v1
kind: RayCluster
metadata: {name: train, namespace: ml}
spec:
  headGroupSpec:
    rayStartParams: {}
    template:
      spec:
        containers: [{name: head, image: 'rayproject/ray:2.9', securityContext: {privileged: true}}]
  workerGroupSpecs:
  - groupName: gpu
    template:
      spec:
        hostNetwork: true
        containers: [{name: worker, image: 'rayproject/ray:2.9', env: [{name: X, value: grouped-canary-5e1d}]}]
---
apiVersion: kubeflow.org/v1
kind: PyTorchJob
metadata: {name: pt, namespace: ml}
spec:
  pytorchReplicaSpecs:
    Master:
      template:
        spec:
          containers: [{name: pytorch, image: 'r/pt:1'}]
    Worker:
      template:
        spec:
          containers: [{name: pytorch, image: 'r/pt:1', securityContext: {capabilities: {add: [SYS_ADMIN]}}}]
---
apiVersion: serving.kserve.io/v1beta1
kind: InferenceService
metadata: {name: llm, namespace: ml}
spec:
  predictor:
    annotations: {container.apparmor.security.beta.kubernetes.io/kserve-container: unconfined}
    model:
      modelFormat: {name: huggingface}
    containers: [{name: kserve-container, image: 'kserve/huggingfaceserver:v0.14.0', securityContext: {privileged: true}}]
    workerSpec:
      hostNetwork: true
      containers: [{name: worker-container, image: 'kserve/huggingfaceserver:v0.14.0'}]
---
apiVersion: serving.kserve.io/v1beta1
kind: InferenceService
metadata: {name: sk, namespace: ml}
spec:
  predictor:
    sklearn:
      storageUri: gs://kfserving-examples/models/sklearn/1.0/model
      securityContext: {capabilities: {add: [SYS_ADMIN]}}
      env: [{name: TOKEN, value: grouped-canary-77ab}]
",
    );
    let out = bin()
        .current_dir(&dir)
        .args(["scan", "ml.yaml", "-o", "json"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let text = String::from_utf8_lossy(&out.stdout);
    for canary in ["grouped-canary-5e1d", "grouped-canary-77ab", "[REDACTED]"] {
        assert!(!text.contains(canary), "{canary} printed");
    }
    let report = json(&out);
    assert_eq!(report["diagnostics"], serde_json::json!([]), "{report:#}");
    let mut high: Vec<String> = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| matches!(f["severity"].as_str(), Some("critical" | "high")))
        .map(|f| {
            format!(
                "{} {} {}",
                f["rule"].as_str().unwrap(),
                f["object"]["kind"].as_str().unwrap(),
                f["location"]["path"].as_str().unwrap()
            )
        })
        .collect();
    high.sort();
    assert_eq!(
        high,
        [
            "POD001 InferenceService /spec/predictor/containers/0/securityContext/privileged",
            "POD001 RayCluster /spec/headGroupSpec/template/spec/containers/0/securityContext/privileged",
            "POD004 InferenceService /spec/predictor/workerSpec/hostNetwork",
            "POD004 RayCluster /spec/workerGroupSpecs/0/template/spec/hostNetwork",
            "POD007 InferenceService /spec/predictor/sklearn/securityContext/capabilities/add/0",
            "POD007 PyTorchJob /spec/pytorchReplicaSpecs/Worker/template/spec/containers/0/securityContext/capabilities/add/0",
            "POD027 InferenceService /spec/predictor/sklearn/env/0/value",
        ]
    );
    // A KServe component's annotations are written beside its fields, and read there.
    let apparmor: Vec<&str> = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["rule"] == "POD010")
        .map(|f| f["location"]["path"].as_str().unwrap())
        .collect();
    assert_eq!(
        apparmor,
        [
            "/spec/predictor/annotations/container.apparmor.security.beta.kubernetes.io~1kserve-container"
        ]
    );
    // Both replicas of the PyTorchJob are judged: the Master's container too.
    let images: Vec<&str> = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["rule"] == "IMG002" && f["object"]["kind"] == "PyTorchJob")
        .map(|f| f["location"]["path"].as_str().unwrap())
        .collect();
    assert_eq!(
        images,
        [
            "/spec/pytorchReplicaSpecs/Master/template/spec/containers/0/image",
            "/spec/pytorchReplicaSpecs/Worker/template/spec/containers/0/image"
        ]
    );
}

/// NET021's severity follows who may reach the Ray dashboard: critical behind a public load
/// balancer, high on node ports, external IPs and behind the operator's Ingress; an authenticated or
/// internal head service is not reported.
#[test]
fn an_exposed_ray_dashboard_is_graded_by_its_reach() {
    let out = bin()
        .args([
            "scan",
            "crates/palisade-rules/tests/fixtures/NET021",
            "-o",
            "json",
        ])
        .args(["--rules", "NET021", "--fail-on", "none"])
        .output()
        .unwrap();
    let report = json(&out);
    let mut graded: Vec<String> = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            format!(
                "{} {}",
                f["severity"].as_str().unwrap(),
                f["object"]["name"].as_str().unwrap()
            )
        })
        .collect();
    graded.sort();
    assert_eq!(
        graded,
        [
            "critical batch",
            "critical public-lb",
            "high node-port",
            "high routed",
            "high serve"
        ]
    );
}
