//! A gate never passes on nothing (issue "Trust", item 2): a run that scanned nothing exits 2,
//! a run that could not read some input is INCOMPLETE, flags that would be ignored are
//! refused, and every output format reports the same findings.

mod common;

use std::collections::HashSet;
use std::io::Write;
use std::process::{Output, Stdio};

use common::{bin, json, scratch};
use serde_json::Value;

const FORMATS: &[&str] = &["table", "json", "sarif", "junit", "markdown", "html"];

fn text(output: &Output) -> (String, String) {
    (
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

fn clean_configmap(name: &str, namespace: &str) -> String {
    format!(
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {name}\n  namespace: {namespace}\ndata:\n  mode: fast\n"
    )
}

#[test]
fn nothing_scanned_exits_2_and_no_format_says_pass() {
    let dir = scratch("gate-empty");
    let only_other = scratch("gate-not-k8s");
    std::fs::write(
        only_other.join("values.yaml"),
        "replicaCount: 2\nimage: nginx\n",
    )
    .unwrap();
    for target in [&dir, &only_other] {
        for format in FORMATS {
            let output = bin()
                .arg("scan")
                .arg(target)
                .args(["-o", format])
                .output()
                .unwrap();
            let (stdout, stderr) = text(&output);
            assert_eq!(output.status.code(), Some(2), "{format}: {stdout}{stderr}");
            assert!(!stdout.contains("PASS:"), "{format} says PASS: {stdout}");
            assert!(stderr.contains("nothing was scanned"), "{stderr}");
        }
    }
    // Empty standard input.
    let output = bin()
        .args(["scan", "-", "-o", "table"])
        .stdin(Stdio::null())
        .output()
        .unwrap();
    let (stdout, stderr) = text(&output);
    assert_eq!(output.status.code(), Some(2), "{stdout}{stderr}");
    assert!(
        stdout.contains("NOTHING SCANNED") && !stdout.contains("PASS:"),
        "{stdout}"
    );
}

#[test]
fn an_input_that_could_not_be_read_makes_the_run_incomplete() {
    let dir = scratch("gate-incomplete");
    std::fs::write(dir.join("good.yaml"), clean_configmap("good", "app")).unwrap();
    std::fs::write(
        dir.join("broken.yaml"),
        "kind: ConfigMap\nmetadata: [unclosed\n",
    )
    .unwrap();
    for format in FORMATS {
        let output = bin()
            .arg("scan")
            .arg(&dir)
            .args(["-o", format])
            .output()
            .unwrap();
        let (stdout, stderr) = text(&output);
        assert_eq!(output.status.code(), Some(2), "{format}: {stdout}{stderr}");
        assert!(!stdout.contains("PASS:"), "{format} says PASS: {stdout}");
        assert!(stderr.contains("incomplete"), "{stderr}");
        if ["table", "markdown", "html"].contains(format) {
            assert!(stdout.contains("INCOMPLETE"), "{stdout}");
        }
        if *format == "sarif" {
            assert_eq!(
                json(&output)["runs"][0]["invocations"][0]["executionSuccessful"],
                false
            );
        }
    }
    // The inventory lists what was read, and does not exit as if it were all.
    for (extra, code) in [(None, 2), (Some("--allow-incomplete"), 0)] {
        let output = bin()
            .arg("inventory")
            .arg(&dir)
            .args(extra)
            .output()
            .unwrap();
        let (stdout, stderr) = text(&output);
        assert_eq!(output.status.code(), Some(code), "{stdout}{stderr}");
        assert!(stdout.contains("ConfigMap app/good"), "{stdout}");
    }
    // The user may accept it, and is still told.
    let output = bin()
        .arg("scan")
        .arg(&dir)
        .args(["-o", "table", "--allow-incomplete"])
        .output()
        .unwrap();
    let (stdout, _) = text(&output);
    assert_eq!(output.status.code(), Some(0), "{stdout}");
    assert!(
        stdout.contains("INCOMPLETE") && !stdout.contains("PASS:"),
        "{stdout}"
    );
}

#[test]
fn a_chart_that_could_not_be_rendered_is_not_a_pass() {
    let dir = scratch("gate-helm");
    let chart = dir.join("chart");
    std::fs::create_dir_all(chart.join("templates")).unwrap();
    std::fs::write(
        chart.join("Chart.yaml"),
        "apiVersion: v2\nname: web\nversion: 1.0.0\n",
    )
    .unwrap();
    std::fs::write(
        chart.join("templates/pod.yaml"),
        "apiVersion: v1\nkind: Pod\nmetadata:\n  name: {{ .Release.Name }}\n",
    )
    .unwrap();
    std::fs::write(dir.join("cm.yaml"), clean_configmap("cm", "app")).unwrap();
    // A PATH without helm.
    let empty_path = scratch("gate-helm-path");
    let output = bin()
        .arg("scan")
        .arg(&dir)
        .args(["-o", "table"])
        .env("PATH", &empty_path)
        .output()
        .unwrap();
    let (stdout, stderr) = text(&output);
    assert_eq!(output.status.code(), Some(2), "{stdout}{stderr}");
    assert!(
        stdout.contains("INCOMPLETE") && stdout.contains("helm"),
        "{stdout}"
    );
    // `--no-helm` is the user's choice: said, not a gap.
    let output = bin()
        .arg("scan")
        .arg(&dir)
        .args(["-o", "table", "--no-helm"])
        .env("PATH", &empty_path)
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(0), "{}", text(&output).0);
}

/// A chart the real `helm` fails to render (a template error), and values for charts where
/// there is none: the run is incomplete in every format, never a pass, whatever the
/// diagnostic's code.
#[test]
fn a_chart_that_helm_fails_to_render_is_not_a_pass() {
    if !common::need_helm() {
        return;
    }
    let dir = scratch("gate-helm-fails");
    std::fs::create_dir_all(dir.join("chart/templates")).unwrap();
    std::fs::write(
        dir.join("chart/Chart.yaml"),
        "apiVersion: v2\nname: web\nversion: 1.0.0\n",
    )
    .unwrap();
    std::fs::write(
        dir.join("chart/templates/pod.yaml"),
        "apiVersion: v1\nkind: Pod\nmetadata:\n  name: {{ .Values.missing.deep }}\n",
    )
    .unwrap();
    std::fs::write(dir.join("cm.yaml"), clean_configmap("cm", "app")).unwrap();
    let only_configmaps = scratch("gate-helm-values-nothing");
    std::fs::write(
        only_configmaps.join("cm.yaml"),
        clean_configmap("cm", "app"),
    )
    .unwrap();
    for (input, extra, code) in [
        (&dir, &[][..], "render-failed"),
        (
            &only_configmaps,
            &["--helm-set", "a=b"][..],
            "not-applicable",
        ),
    ] {
        for format in FORMATS {
            let output = bin()
                .arg("scan")
                .arg(input)
                .args(["-o", format])
                .args(extra)
                .output()
                .unwrap();
            let (stdout, stderr) = text(&output);
            assert_eq!(
                output.status.code(),
                Some(2),
                "{code} {format}: {stdout}{stderr}"
            );
            assert!(!stdout.contains("PASS:"), "{format} says PASS: {stdout}");
            if *format == "json" {
                let report = json(&output);
                assert_eq!(report["summary"]["inputs_not_read"], 1, "{report:#}");
                assert_eq!(report["diagnostics"][0]["code"], code, "{report:#}");
            }
            if *format == "sarif" {
                assert_eq!(
                    json(&output)["runs"][0]["invocations"][0]["executionSuccessful"],
                    false
                );
            }
        }
    }
}

#[test]
fn symlinked_directories_are_followed_once() {
    let dir = scratch("gate-symlinks");
    let outside = scratch("gate-symlinks-target");
    std::fs::write(outside.join("b.yaml"), clean_configmap("b", "app")).unwrap();
    std::fs::create_dir_all(dir.join("real")).unwrap();
    std::fs::write(dir.join("real/a.yaml"), clean_configmap("a", "app")).unwrap();
    std::os::unix::fs::symlink(&outside, dir.join("external")).unwrap();
    std::os::unix::fs::symlink(dir.join("real"), dir.join("again")).unwrap();
    std::os::unix::fs::symlink(&dir, dir.join("real/loop")).unwrap();
    let output = bin()
        .arg("scan")
        .arg(&dir)
        .args(["-o", "json"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(0), "{}", text(&output).1);
    let report = json(&output);
    assert_eq!(report["summary"]["objects_scanned"], 2, "{report:#}");
    let loops = report["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|d| d["code"] == "symlink-loop")
        .count();
    assert!(loops >= 1, "{report:#}");
}

#[test]
fn fifos_and_process_substitution_are_read_as_files() {
    let dir = scratch("gate-fifo");
    let fifo = dir.join("pipe");
    let status = std::process::Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .unwrap();
    assert!(status.success());
    let writer_path = fifo.clone();
    let writer = std::thread::spawn(move || {
        let mut pipe = std::fs::OpenOptions::new()
            .write(true)
            .open(writer_path)
            .unwrap();
        pipe.write_all(clean_configmap("piped", "app").as_bytes())
            .unwrap();
    });
    let output = bin()
        .arg("scan")
        .arg(&fifo)
        .args(["-o", "json"])
        .output()
        .unwrap();
    writer.join().unwrap();
    assert_eq!(output.status.code(), Some(0), "{}", text(&output).1);
    assert_eq!(json(&output)["summary"]["objects_scanned"], 1);
}

#[test]
fn flags_that_would_be_ignored_are_refused() {
    let cases: &[(&[&str], &str)] = &[
        (
            &[
                "scan",
                "examples/",
                "--snapshot",
                "crates/palisade/tests/drift/live.json",
            ],
            "not both",
        ),
        (
            &["scan", "examples/", "--context", "prod"],
            "--context applies only with --cluster",
        ),
        (
            &["scan", "examples/", "--timeout", "5s"],
            "--timeout applies only with --cluster",
        ),
        (
            &["scan", "examples/", "--include-secret-values"],
            "--include-secret-values applies only with --cluster",
        ),
        (
            &[
                "drift",
                "crates/palisade/tests/drift/desired.yaml",
                "--snapshot",
                "crates/palisade/tests/drift/live.json",
                "--context",
                "x",
            ],
            "--context applies only with --cluster",
        ),
        (
            &["scan", "--cluster", "--timeout", "soon"],
            "invalid duration",
        ),
        (
            &[
                "scan",
                "--snapshot",
                "crates/palisade/tests/drift/live.json",
                "--helm-set",
                "a=b",
            ],
            "a cluster has none",
        ),
        (
            &["scan", "examples/", "--helm-values", "no-such-values.yaml"],
            "--helm-values no-such-values.yaml: no such file",
        ),
        (
            &["scan", "examples/", "--helm-set", "a=b", "--no-helm"],
            "cannot be used with",
        ),
    ];
    for (args, expected) in cases {
        let output = bin().args(*args).output().unwrap();
        let (stdout, stderr) = text(&output);
        assert_eq!(output.status.code(), Some(2), "{args:?}: {stdout}{stderr}");
        assert!(stderr.contains(expected), "{args:?}: {stderr}");
    }
}

#[test]
fn namespace_filters_manifests_as_kubectl_does() {
    let dir = scratch("gate-namespace");
    std::fs::write(
        dir.join("all.yaml"),
        format!(
            "{}---\n{}---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: unset\ndata: {{}}\n---\napiVersion: v1\nkind: Namespace\nmetadata:\n  name: b\n",
            clean_configmap("in-a", "a"),
            clean_configmap("in-b", "b")
        ),
    )
    .unwrap();
    let output = bin()
        .arg("scan")
        .arg(&dir)
        .args(["-n", "a", "-o", "json", "--fail-on", "none"])
        .output()
        .unwrap();
    let report = json(&output);
    assert_eq!(report["summary"]["objects_scanned"], 2, "{report:#}");
    let names: HashSet<&str> = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|f| f["object"]["name"].as_str())
        .collect();
    assert!(!names.contains("in-b") && !names.contains("b"), "{names:?}");
}

/// Findings as each format counts them: unsuppressed findings (JSON), results (SARIF),
/// failed test cases and their findings (JUnit), and the table's summary line.
fn counts(args: &[&str]) -> Vec<(String, usize)> {
    let mut out = Vec::new();
    for format in FORMATS {
        let output = bin()
            .args(args)
            .args(["-o", format, "--fail-on", "none"])
            .output()
            .unwrap();
        let (stdout, stderr) = text(&output);
        assert!(
            output.status.code().is_some_and(|c| c <= 1),
            "{args:?} -o {format}: {stderr}"
        );
        let n = match *format {
            "json" => json(&output)["findings"]
                .as_array()
                .unwrap()
                .iter()
                .filter(|f| f.get("suppressed").is_none())
                .count(),
            "sarif" => json(&output)["runs"][0]["results"]
                .as_array()
                .unwrap()
                .iter()
                .filter(|r| {
                    r.get("suppressions")
                        .is_none_or(|s: &Value| s.as_array().is_none_or(Vec::is_empty))
                })
                .count(),
            "junit" => count_junit_findings(&stdout),
            "markdown" => count_markdown_findings(&stdout),
            "html" => stdout.matches("<tr class=\"finding\">").count(),
            "table" => stdout
                .lines()
                .find_map(|l| l.strip_prefix("Summary: "))
                .and_then(|l| l.split_whitespace().next())
                .and_then(|n| n.parse().ok())
                .unwrap_or(usize::MAX),
            _ => unreachable!(),
        };
        out.push((format.to_string(), n));
    }
    out
}

/// Findings in a Markdown report: the counts by severity under the verdict (the row after
/// the table's alignment line), less the suppressed ones in its last column.
fn count_markdown_findings(markdown: &str) -> usize {
    let mut lines = markdown.lines().skip_while(|l| !l.starts_with("|---:"));
    let row = lines.nth(1).unwrap_or_default();
    let cells: Vec<usize> = row
        .split('|')
        .filter_map(|c| c.trim().parse().ok())
        .collect();
    assert_eq!(cells.len(), 6, "{markdown}");
    cells[..5].iter().sum()
}

/// Findings in a JUnit document: each failure body has one `fix:` line per finding.
fn count_junit_findings(xml: &str) -> usize {
    xml.split("<failure")
        .skip(1)
        .map(|case| {
            let body = case.split("</failure>").next().unwrap_or("");
            body.matches("fix: ").count()
        })
        .sum()
}

#[test]
fn every_format_reports_the_same_findings() {
    for args in [
        vec!["scan", "examples/"],
        vec![
            "drift",
            "crates/palisade/tests/drift/desired.yaml",
            "--snapshot",
            "crates/palisade/tests/drift/live.json",
            "--no-config",
        ],
    ] {
        let counts = counts(&args);
        let first = counts[0].1;
        assert!(first > 0, "{args:?}: {counts:?}");
        assert!(
            counts.iter().all(|(_, n)| *n == first),
            "{args:?}: {counts:?}"
        );
    }
    // The rbac commands: the table lists what the JSON lists.
    let who = bin()
        .args([
            "rbac",
            "who-can",
            "get",
            "secrets",
            "examples/rbac",
            "-o",
            "json",
        ])
        .output()
        .unwrap();
    let entries = json(&who).as_array().unwrap().len();
    let table = bin()
        .args(["rbac", "who-can", "get", "secrets", "examples/rbac"])
        .output()
        .unwrap();
    let rows = text(&table)
        .0
        .lines()
        .filter(|l| l.starts_with("  "))
        .count();
    assert!(entries > 0);
    assert_eq!(entries, rows, "{}", text(&table).0);
}

#[test]
fn error_messages_name_the_cause_once_and_never_a_temporary_file() {
    let dir = scratch("gate-messages");
    let kubeconfig = dir.join("kubeconfig");
    std::fs::write(
        &kubeconfig,
        "apiVersion: v1\nkind: Config\ncurrent-context: a\ncontexts:\n- {name: a, context: {cluster: c, user: u}}\n- {name: b, context: {cluster: c, user: u}}\nclusters:\n- {name: c, cluster: {server: \"https://127.0.0.1:1\"}}\nusers:\n- {name: u, user: {token: x}}\n",
    )
    .unwrap();
    let missing = dir.join("missing-kubeconfig");
    let out_dir = dir.join("no-such-dir").join("out.json");
    // A link to itself: the system's reason, not "no such file".
    let looped = dir.join("looped.yaml");
    let _ = std::fs::remove_file(&looped);
    std::os::unix::fs::symlink(&looped, &looped).unwrap();
    let cases: Vec<(Vec<String>, Vec<&str>, Vec<&str>)> = vec![
        (
            vec!["scan".into(), "--snapshot".into(), "nope.json".into()],
            vec!["nope.json: No such file or directory"],
            vec![],
        ),
        (
            vec!["scan".into(), looped.display().to_string()],
            vec!["looped.yaml: Too many levels of symbolic links"],
            vec!["No such file"],
        ),
        (
            vec!["scan".into(), "nope.yaml".into()],
            vec!["nope.yaml: No such file or directory"],
            vec![],
        ),
        (
            vec![
                "scan".into(),
                "examples/".into(),
                "-o".into(),
                format!("json={}", out_dir.display()),
            ],
            vec!["cannot write", "out.json"],
            vec![".tmp", "palisade-"],
        ),
        (
            vec![
                "scan".into(),
                "--cluster".into(),
                "--kubeconfig".into(),
                missing.display().to_string(),
            ],
            vec!["missing-kubeconfig: No such file or directory"],
            vec!["'\"", "\"'"],
        ),
        (
            vec![
                "scan".into(),
                "--cluster".into(),
                "--kubeconfig".into(),
                kubeconfig.display().to_string(),
                "--context".into(),
                "nope".into(),
            ],
            vec!["context nope is not in", "available: a, b"],
            vec![],
        ),
        (
            vec![
                "scan".into(),
                "--cluster".into(),
                "--kubeconfig".into(),
                kubeconfig.display().to_string(),
                "--timeout".into(),
                "5s".into(),
            ],
            vec!["Connection refused"],
            vec!["client error (Connect)"],
        ),
    ];
    for (args, present, absent) in cases {
        let output = bin().args(&args).output().unwrap();
        let (_, stderr) = text(&output);
        assert_eq!(output.status.code(), Some(2), "{args:?}: {stderr}");
        for p in present {
            assert!(stderr.contains(p), "{args:?}: `{p}` missing from {stderr}");
        }
        for a in absent {
            assert!(!stderr.contains(a), "{args:?}: `{a}` in {stderr}");
        }
        // The cause is said once.
        let first_line = stderr.lines().next().unwrap_or("");
        assert!(
            !first_line.contains("(os error 2): No such file"),
            "{args:?}: cause repeated: {stderr}"
        );
    }
}
