//! Pod Security Standards exactly as the admission plugin decides them (issue "Trust", item
//! 3), from the command line: controls cited per violated condition in every framework, the
//! policy version chosen with `--pss-version` or pinned by a namespace's `enforce-version`.

mod common;

use common::{bin, json, scratch};
use serde_json::Value;

fn statuses(dir: &std::path::Path, extra: &[&str]) -> Value {
    let output = bin()
        .arg("scan")
        .arg(dir)
        .args(["-o", "json", "--fail-on", "none"])
        .args(extra)
        .output()
        .unwrap();
    assert_eq!(
        output.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    json(&output)
}

fn status(report: &Value, control: &str) -> String {
    report["compliance"]["controls"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["control"] == control)
        .unwrap_or_else(|| panic!("{control} missing"))["status"]
        .as_str()
        .unwrap()
        .to_string()
}

const POD: &str = "apiVersion: v1
kind: Pod
metadata: {name: p, namespace: app}
spec:
  hostNetwork: true
  securityContext:
    seccompProfile: {type: Unconfined}
    sysctls:
    - {name: net.ipv4.tcp_rmem, value: \"4096 87380 6291456\"}
  containers:
  - name: c
    image: registry.example.com/app:1.0
    securityContext:
      allowPrivilegeEscalation: false
      capabilities: {drop: [ALL]}
";

#[test]
fn controls_are_cited_per_violated_condition() {
    let dir = scratch("pss-conditions");
    std::fs::write(dir.join("pod.yaml"), POD).unwrap();
    let report = statuses(&dir, &["--framework", "pss-restricted"]);
    // Unconfined fails the Restricted seccomp control, not only the Baseline one.
    assert_eq!(status(&report, "pss:restricted/seccomp"), "fail");
    assert_eq!(status(&report, "pss:baseline/seccomp"), "fail");
    // runAsNonRoot is missing; runAsUser is never set, which that other control allows.
    assert_eq!(
        status(&report, "pss:restricted/running-as-non-root"),
        "fail"
    );
    assert_eq!(
        status(&report, "pss:restricted/running-as-non-root-user"),
        "pass"
    );
    // tcp_rmem is safe at the latest version.
    assert_eq!(status(&report, "pss:baseline/sysctls"), "pass");

    // hostNetwork alone fails CIS 5.2.5, not 5.2.3 (hostPID) or 5.2.4 (hostIPC).
    let cis = statuses(&dir, &["--framework", "cis"]);
    assert_eq!(status(&cis, "cis-k8s-1.12:5.2.5"), "fail");
    assert_eq!(status(&cis, "cis-k8s-1.12:5.2.3"), "pass");
    assert_eq!(status(&cis, "cis-k8s-1.12:5.2.4"), "pass");
}

#[test]
fn the_policy_version_is_chosen_or_pinned() {
    let dir = scratch("pss-version");
    std::fs::write(dir.join("pod.yaml"), POD).unwrap();
    // tcp_rmem became safe in v1.32.
    let old = statuses(
        &dir,
        &["--framework", "pss-baseline", "--pss-version", "v1.31"],
    );
    assert_eq!(status(&old, "pss:baseline/sysctls"), "fail");
    let new = statuses(
        &dir,
        &["--framework", "pss-baseline", "--pss-version", "v1.32"],
    );
    assert_eq!(status(&new, "pss:baseline/sysctls"), "pass");
    let bad = bin()
        .arg("scan")
        .arg(&dir)
        .args(["--framework", "pss", "--pss-version", "v2.1"])
        .output()
        .unwrap();
    assert_eq!(bad.status.code(), Some(2));

    // A namespace pinned to v1.31 enforcing baseline rejects the pod's sysctl; at the latest
    // version its workloads would meet baseline apart from the host network.
    let pinned = scratch("pss-pinned");
    std::fs::write(
        pinned.join("all.yaml"),
        "apiVersion: v1
kind: Namespace
metadata:
  name: app
  labels:
    pod-security.kubernetes.io/enforce: baseline
    pod-security.kubernetes.io/enforce-version: v1.31
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: web, namespace: app}
spec:
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      securityContext:
        sysctls:
        - {name: net.ipv4.tcp_rmem, value: \"4096 87380 6291456\"}
      containers:
      - {name: c, image: registry.example.com/app:1.0}
",
    )
    .unwrap();
    let report = statuses(&pinned, &["--framework", "pss-baseline"]);
    let ns002: Vec<&str> = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["rule"] == "NS002")
        .filter_map(|f| f["message"].as_str())
        .collect();
    assert!(
        ns002
            .iter()
            .any(|m| m.contains("policy v1.31") && m.contains("would reject")),
        "{ns002:#?}"
    );
}
