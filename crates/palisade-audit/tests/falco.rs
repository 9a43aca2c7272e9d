//! Conformance with Falco's k8saudit regression tests (../shared/corpora/k8s-audit-logs/
//! falco-legacy): for each of its 66 tests, the Falco rules files it loads are translated into
//! Palisade settings, its trace is analysed, and the alerts of each expected Falco rule's
//! counterpart must number exactly what Falco raised; tests expecting no alert must get none
//! from any detection. Needs the shared corpora: it fails when they are missing.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use palisade_audit::input::{ReadStats, read_path};
use palisade_audit::{Alert, Engine, Selection, Settings};
use serde_json::Value;

fn corpus() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../../shared/corpora/k8s-audit-logs/falco-legacy")
}

/// Falco's rules files as Palisade settings.
fn settings_for(rules_files: &[String]) -> Option<Settings> {
    let names: Vec<&str> = rules_files
        .iter()
        .map(|f| f.rsplit('/').next().unwrap_or(f))
        .collect();
    if names.contains(&"single_rule_with_json_pointer.yaml") {
        // A rule written in Falco's own language: not a Palisade detection.
        return None;
    }
    let mut settings = Settings::default();
    let full = names.contains(&"k8s_audit_rules.yaml");
    let v4 = names.contains(&"engine_v4_k8s_audit_rules.yaml");
    if full || v4 {
        settings.activity = true;
        settings.allowed_namespaces = ["kube-system", "kube-public", "default"]
            .map(String::from)
            .to_vec();
        settings.allowed_users = if full {
            vec![
                "minikube",
                "minikube-user",
                "kubelet",
                "kops",
                "admin",
                "kube",
                "kube-proxy",
                "kube-apiserver-healthcheck",
                "kubernetes-admin",
                "vpa-recommender",
                "vpa-updater",
                "cluster-autoscaler",
                "system:addon-manager",
                "cloud-controller-manager",
                "system:kube-controller-manager",
            ]
        } else {
            vec!["minikube", "minikube-user", "kubelet", "kops"]
        }
        .into_iter()
        .map(String::from)
        .collect();
    }
    for name in &names {
        match *name {
            "allow_namespace_foo.yaml" => settings.allowed_namespaces.push("foo".into()),
            "allow_user_some-user.yaml" => settings.allowed_users.push("some-user".into()),
            "disallow_kactivity.yaml" => settings.activity = false,
            "allow_nginx_container.yaml" => settings.allowed_images = vec!["nginx".into()],
            "allow_only_apache_container.yaml" => settings.allowed_images = vec!["apache".into()],
            "trust_nginx_container.yaml" => {
                let t = &mut settings.trusted_images;
                t.privileged.push("nginx".into());
                t.host_network.push("nginx".into());
                t.sensitive_mount.push("nginx".into());
            }
            _ => {}
        }
    }
    Some(settings)
}

/// Alerts about the log rather than the behaviour in it: AUD049 says a detection could not
/// judge a request (Falco's traces log some Secrets at `Metadata`, which AUD019 cannot judge),
/// not that anything happened. Falco has no counterpart; the tests' "no alert" is about
/// behaviour.
const ABOUT_THE_LOG: &[&str] = &["AUD049"];

/// The alerts on the behaviour in `trace`.
fn analyse(trace: &Path, settings: Settings) -> (Vec<Alert>, ReadStats) {
    let mut engine = Engine::new(settings, None, &Selection::default());
    let mut alerts = Vec::new();
    let mut stats = ReadStats::default();
    let mut sink = |event: &palisade_audit::Event, origin: &palisade_audit::Origin| {
        engine.analyze(event, origin, &mut alerts);
    };
    read_path(trace, &mut stats, &mut sink).expect("trace readable");
    alerts.retain(|a| !ABOUT_THE_LOG.contains(&a.rule.id.as_ref()));
    (alerts, stats)
}

#[test]
fn agrees_with_falcos_k8saudit_regression_tests() {
    let root = corpus();
    let text = std::fs::read_to_string(root.join("expectations.json"))
        .expect("../shared/corpora/k8s-audit-logs/falco-legacy/expectations.json is required");
    let expectations: Value = serde_json::from_str(&text).unwrap();
    let tests = expectations["tests"].as_array().unwrap();
    assert_eq!(tests.len(), 66);
    let mut agreed = 0;
    let mut exceptions = Vec::new();
    let mut failures = Vec::new();
    for test in tests {
        let name = test["test"].as_str().unwrap();
        let trace = root.join(test["trace_file"].as_str().unwrap());
        let rules: Vec<String> = test["rules_file"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_str().unwrap().to_string())
            .collect();
        let Some(settings) = settings_for(&rules) else {
            exceptions.push(name.to_string());
            continue;
        };
        let (alerts, stats) = analyse(&trace, settings);
        let expected: BTreeMap<String, u64> = test["detect_counts"]
            .as_object()
            .unwrap()
            .iter()
            .map(|(k, v)| (k.clone(), v.as_u64().unwrap()))
            .collect();
        let detect = test["detect"].as_bool().unwrap();
        let mut problems = Vec::new();
        if !detect && !alerts.is_empty() {
            let got: Vec<String> = alerts
                .iter()
                .map(|a| format!("{} {}", a.rule.id, a.message))
                .collect();
            problems.push(format!("expected no alert, got {got:?}"));
        }
        for (falco, count) in &expected {
            let counterpart = palisade_audit::falco::counterpart(falco)
                .unwrap_or_else(|| panic!("{name}: no counterpart for Falco rule `{falco}`"));
            let got = alerts.iter().filter(|a| counterpart.covers(a)).count() as u64;
            if got != *count {
                problems.push(format!(
                    "`{falco}` ({}): expected {count}, got {got}",
                    counterpart.palisade
                ));
            }
        }
        if let Some(needle) = test["other"].get("stderr_contains").and_then(Value::as_str) {
            // Falco names the malformed event on stderr; Palisade reports it as a problem.
            if stats.malformed == 0 {
                problems.push(format!("expected a malformed-event problem ({needle})"));
            }
        }
        if problems.is_empty() {
            agreed += 1;
        } else {
            failures.push(format!("{name}: {}", problems.join("; ")));
        }
    }
    eprintln!(
        "Falco k8saudit conformance: {agreed} of {} mappable tests agree; not mappable: {exceptions:?}",
        tests.len() - exceptions.len()
    );
    assert_eq!(exceptions, ["json_pointer_correct_parse"]);
    assert!(
        failures.is_empty(),
        "{} disagreements:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

#[test]
fn every_falco_rule_of_the_current_ruleset_is_mapped_or_explained() {
    // The k8saudit plugin's rules, and the GKE plugin's (which override some of them).
    let text = ["k8s_audit_rules.yaml", "k8s_audit_rules_gke.yaml"]
        .iter()
        .map(|file| {
            std::fs::read_to_string(corpus().join("current-rules").join(file))
                .expect("current Falco rules are required")
        })
        .collect::<Vec<_>>()
        .join("\n");
    for line in text.lines() {
        let Some(name) = line.strip_prefix("- rule: ") else {
            continue;
        };
        let name = name.trim();
        assert!(
            palisade_audit::falco::counterpart(name).is_some()
                || palisade_audit::falco::WITHOUT_COUNTERPART
                    .iter()
                    .any(|(n, _)| *n == name),
            "Falco rule `{name}` has no counterpart and no explanation"
        );
    }
}
