//! The control plane's settings (CIS sections 1.2-1.4, 2 and 4.2) end to end: the real binary
//! on the mirror pods of a real minikube cluster (../shared/corpora, required), on kubelet
//! configuration files, and on manifests without a control plane, whose CIS controls of
//! those sections must be `not_applicable`, never `pass`.

mod common;

use std::collections::BTreeSet;
use std::path::PathBuf;

use common::{bin, json, scratch, write_file};
use serde_json::Value;

/// The pods of a minikube cluster as `kubectl get pods -A -o yaml` lists them, with the mirror
/// pods of its static control plane (kubeadm's flags).
fn minikube_pods() -> PathBuf {
    let path = common::workspace()
        .join("../shared/corpora/netpol-analyzer/tests/minikube_resources/pods.yaml");
    assert!(
        path.is_file(),
        "{} is missing (the shared corpora are required: ../shared/corpora)",
        path.display()
    );
    path
}

/// A scan of `path` with the CIS framework, as JSON.
fn cis_scan(path: &str) -> Value {
    let out = bin()
        .args([
            "scan",
            path,
            "-o",
            "json",
            "--framework",
            "cis",
            "--fail-on",
            "none",
        ])
        .output()
        .unwrap();
    json(&out)
}

/// The status of each CIS control whose id starts with one of `sections`.
fn statuses(report: &Value, sections: &[&str]) -> Vec<(String, String)> {
    report["compliance"]["controls"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            let id = c["control"]
                .as_str()
                .unwrap()
                .trim_start_matches("cis-k8s-1.12:");
            (id.to_string(), c["status"].as_str().unwrap().to_string())
        })
        .filter(|(id, _)| sections.iter().any(|s| id.starts_with(s)))
        .collect()
}

fn status<'r>(statuses: &'r [(String, String)], id: &str) -> &'r str {
    &statuses
        .iter()
        .find(|(control, _)| control == id)
        .unwrap_or_else(|| panic!("no control {id}"))
        .1
}

/// On kubeadm's defaults (as minikube runs them) the findings are what the benchmark says of
/// them: anonymous access, no audit log, no kubelet CA, no encryption at rest, extended token
/// expiry and profiling fail; authorization, admission, TLS and etcd pass.
#[test]
fn a_clusters_mirror_pods_are_judged_against_the_benchmark() {
    let pods = minikube_pods();
    let report = cis_scan(pods.to_str().unwrap());
    let failed: BTreeSet<(String, String)> = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| {
            let rule = f["rule"].as_str().unwrap();
            rule.starts_with("CP") || rule.starts_with("NODE")
        })
        .flat_map(|f| {
            let rule = f["rule"].as_str().unwrap().to_string();
            f["controls"]
                .as_array()
                .unwrap()
                .iter()
                .filter_map(|c| c.as_str()?.strip_prefix("cis-k8s-1.12:"))
                .map(move |c| (rule.clone(), c.to_string()))
                .collect::<Vec<_>>()
        })
        .collect();
    let expected: BTreeSet<(String, String)> = [
        ("CP001", "1.2.1"),
        ("CP005", "1.2.16"),
        ("CP005", "1.2.17"),
        ("CP005", "1.2.18"),
        ("CP005", "1.2.19"),
        ("CP006", "1.2.5"),
        ("CP007", "1.2.30"),
        ("CP008", "1.2.15"),
        ("CP009", "1.2.27"),
        ("CP010", "1.3.2"),
        ("CP011", "1.4.1"),
    ]
    .iter()
    .map(|(r, c)| (r.to_string(), c.to_string()))
    .collect();
    assert_eq!(failed, expected);
    let cis = statuses(&report, &["1.", "2.", "4."]);
    for (id, want) in [
        ("1.2.1", "fail"),
        ("1.2.6", "pass"),
        ("1.2.7", "pass"),
        ("1.2.14", "pass"),
        ("1.2.23", "pass"),
        ("1.3.3", "pass"),
        ("1.3.7", "pass"),
        ("1.4.2", "pass"),
        ("2.2", "pass"),
        ("2.5", "pass"),
        // No kubelet configuration among the inputs.
        ("4.2.1", "not_applicable"),
        ("1.1.1", "manual"),
        ("4.1.1", "manual"),
        ("1.2.29", "manual"),
    ] {
        assert_eq!(status(&cis, id), want, "{id}");
    }
}

/// Workloads are not a control plane: with none of its pods among the inputs, the controls of
/// sections 1.2-1.4, 2 and 4.2 say nothing was there to judge.
#[test]
fn without_a_control_plane_its_controls_are_not_applicable() {
    let dir = scratch("no-control-plane");
    write_file(
        &dir,
        "web.yaml",
        "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web, namespace: shop}\nspec:\n  \
         selector: {matchLabels: {app: web}}\n  template:\n    metadata: {labels: {app: web}}\n    \
         spec:\n      containers:\n      - name: web\n        image: registry.example.com/web:1.0\n        \
         command: [\"kube-apiserver-proxy\", \"--profiling\"]\n",
    );
    // A ConfigMap that is not kube-proxy's is not kube-proxy's configuration.
    write_file(
        &dir,
        "settings.yaml",
        "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: settings, namespace: shop}\n\
         data:\n  config.conf: \"metricsBindAddress: 0.0.0.0:10249\"\n",
    );
    let report = cis_scan(dir.to_str().unwrap());
    for (id, status) in statuses(&report, &["1.2.", "1.3.", "1.4.", "2.", "4.2.", "4.3."]) {
        assert!(
            ["not_applicable", "manual"].contains(&status.as_str()),
            "{id} is {status}"
        );
    }
}

/// A kubelet configuration file: its settings against their defaults in the file, each
/// finding citing its control; a control-plane component that reads a configuration file
/// is not assessed on what the command line leaves to it.
#[test]
fn kubelet_files_and_configuration_files_are_judged_as_far_as_they_show() {
    let dir = scratch("kubelet-config");
    write_file(
        &dir,
        "kubelet.yaml",
        "apiVersion: kubelet.config.k8s.io/v1beta1\nkind: KubeletConfiguration\n\
         authentication:\n  anonymous:\n    enabled: true\nreadOnlyPort: 10255\n\
         rotateCertificates: true\n",
    );
    write_file(
        &dir,
        "scheduler.yaml",
        "apiVersion: v1\nkind: Pod\nmetadata: {name: kube-scheduler-cp1, namespace: kube-system}\n\
         spec:\n  containers:\n  - name: kube-scheduler\n    image: registry.k8s.io/kube-scheduler:v1.33.1\n    \
         command: [kube-scheduler, --config=/etc/kubernetes/scheduler-config.yaml, --bind-address=0.0.0.0]\n",
    );
    let report = cis_scan(dir.to_str().unwrap());
    let cis = statuses(&report, &["1.4.", "4.2."]);
    for (id, want) in [
        ("4.2.1", "fail"),
        ("4.2.2", "pass"),
        // No client CA named.
        ("4.2.3", "fail"),
        ("4.2.4", "fail"),
        ("4.2.10", "pass"),
        // The bind address is on the command line; profiling is left to the file, so the
        // scheduler's failing on one control gives no verdict on the other.
        ("1.4.2", "fail"),
        ("1.4.1", "not_assessed"),
    ] {
        assert_eq!(status(&cis, id), want, "{id}");
    }
    let findings: Vec<&str> = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["rule"] == "NODE001")
        .map(|f| f["message"].as_str().unwrap())
        .collect();
    assert!(
        findings.contains(&"the kubelet: pods and their settings are served without authentication (readOnlyPort: 10255)"),
        "{findings:?}"
    );
    let coverage = report["coverage"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["rule"] == "CP011")
        .unwrap();
    assert_eq!(coverage["failed"], 1, "{coverage}");
    assert_eq!(coverage["not_assessed"], 1, "{coverage}");
    let reason = coverage["not_assessed_objects"][0]["reason"]
        .as_str()
        .unwrap();
    assert!(
        reason.contains("--profiling is not on the command line"),
        "{reason}"
    );
}

/// A control-plane component whose flags the pod does not show (started by a shell script, or
/// by its image's own entrypoint) leaves its controls not assessed, never passed and never
/// not applicable: the pod does run it.
#[test]
fn a_component_started_by_a_shell_or_its_image_is_not_assessed() {
    let dir = scratch("control-plane-unread");
    write_file(
        &dir,
        "apiserver.yaml",
        "apiVersion: v1\nkind: Pod\nmetadata: {name: kube-apiserver, namespace: kube-system}\nspec:\n  containers:\n  - name: kube-apiserver\n    image: registry.k8s.io/kube-apiserver:v1.33.0\n    command: [/bin/sh, -c]\n    args: ['exec kube-apiserver --authorization-mode=AlwaysAllow --anonymous-auth=true']\n",
    );
    write_file(
        &dir,
        "scheduler.yaml",
        "apiVersion: v1\nkind: Pod\nmetadata: {name: kube-scheduler, namespace: kube-system}\nspec:\n  containers:\n  - {name: kube-scheduler, image: 'registry.k8s.io/kube-scheduler:v1.33.0'}\n",
    );
    let report = cis_scan(dir.to_str().unwrap());
    let status: std::collections::BTreeMap<String, String> =
        statuses(&report, &["1.2.", "1.4."]).into_iter().collect();
    for control in ["1.2.1", "1.2.6", "1.4.1"] {
        assert_eq!(status[control], "not_assessed", "{control}: {status:?}");
    }
    let reasons = report["coverage"].to_string();
    assert!(
        reasons.contains("kube-apiserver is started by a shell script (/bin/sh)"),
        "{reasons}"
    );
    assert!(
        reasons.contains(
            "the container runs the kube-scheduler image, but its command is left to the image"
        ),
        "{reasons}"
    );
}
