//! The first hour with the real binary: defaults, what the output shows, environment
//! variables, and the conveniences (`init`, `completion`, `man`, `--version`).

mod common;

use common::{bin, json, scratch};

fn text(output: &std::process::Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

/// How many open findings a JSON scan of the examples has, to compare the table with.
fn examples_total() -> u64 {
    let out = bin()
        .args(["scan", "examples/", "-o", "json"])
        .output()
        .unwrap();
    json(&out)["summary"]["total"].as_u64().unwrap()
}

#[test]
fn without_a_terminal_the_default_output_is_the_table() {
    // The test's stdout is a pipe, as in CI.
    let out = bin().args(["scan", "examples/"]).output().unwrap();
    let stdout = text(&out);
    assert!(!stdout.trim_start().starts_with('{'), "{stdout}");
    let summary = format!("Summary: {} findings", examples_total());
    assert!(stdout.contains(&summary), "{stdout}");
    assert!(
        stdout.contains("FAIL: 11 findings at or above high"),
        "{stdout}"
    );
    assert_eq!(out.status.code(), Some(1));
}

#[test]
fn severity_narrows_every_output_but_not_the_exit_code() {
    let out = bin()
        .args(["scan", "examples/", "--severity", "critical", "-o", "json"])
        .output()
        .unwrap();
    let report = json(&out);
    let findings = report["findings"].as_array().unwrap();
    assert_eq!(findings.len(), 5);
    assert!(findings.iter().all(|f| f["severity"] == "critical"));
    // The six high findings that are not shown still fail the run.
    assert_eq!(out.status.code(), Some(1));

    let out = bin()
        .args([
            "scan",
            "examples/",
            "--severity",
            "low,info",
            "--fail-on",
            "high",
        ])
        .output()
        .unwrap();
    let stdout = text(&out);
    assert!(
        stdout.contains("30 findings of other severities not shown (--severity), 11 of them at or above --fail-on"),
        "{stdout}"
    );
    assert!(
        stdout.contains("FAIL: 11 findings at or above high"),
        "{stdout}"
    );
    assert!(!stdout.contains("CRITICAL"), "{stdout}");
    assert_eq!(out.status.code(), Some(1));

    let bad = bin()
        .args(["scan", "examples/", "--severity", "urgent"])
        .output()
        .unwrap();
    assert_eq!(bad.status.code(), Some(2));
}

#[test]
fn quiet_shows_only_what_fails_the_run() {
    let out = bin()
        .args(["scan", "examples/", "-q", "--fail-on", "critical"])
        .output()
        .unwrap();
    let stdout = text(&out);
    let listed = stdout
        .lines()
        .filter(|l| l.starts_with("  CRITICAL"))
        .count();
    assert_eq!(listed, 5, "{stdout}");
    for quiet in ["HIGH", "MEDIUM", "LOW", "INFO"] {
        assert!(
            !stdout.contains(&format!("  {quiet} ")),
            "{quiet}:\n{stdout}"
        );
    }
    let summary = format!("Summary: {} findings", examples_total());
    assert!(stdout.contains(&summary), "{stdout}");
}

#[test]
fn group_by_counts_findings_per_rule_object_or_file() {
    let out = bin()
        .args(["scan", "examples/", "--group-by", "rule"])
        .output()
        .unwrap();
    let stdout = text(&out);
    let pod001 = stdout
        .lines()
        .find(|l| l.contains("POD001"))
        .unwrap_or_else(|| panic!("{stdout}"));
    assert!(
        pod001.contains("CRITICAL") && pod001.contains(" 2 "),
        "{pod001}"
    );
    assert!(pod001.contains("Container runs privileged"), "{pod001}");
    assert!(
        !stdout.contains("fix:"),
        "no finding is listed one by one:\n{stdout}"
    );

    let out = bin()
        .args(["scan", "examples/", "--group-by", "file"])
        .output()
        .unwrap();
    let stdout = text(&out);
    assert!(stdout.contains("examples/shop/api.yaml"), "{stdout}");
    let lines = stdout
        .lines()
        .filter(|l| l.starts_with("  ") && !l.contains("[kustomization-included]"))
        .count();
    assert!(
        (2..=10).contains(&lines),
        "one line per file or rendered directory:\n{stdout}"
    );
}

#[test]
fn environment_variables_set_flags_and_cluster_ones_are_only_defaults() {
    let out = bin()
        .args(["scan", "examples/", "-o", "json"])
        .env("PALISADE_SEVERITY", "critical")
        .env("PALISADE_FAIL_ON", "none")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(json(&out)["findings"].as_array().unwrap().len(), 5);

    // Exported for cluster scans, PALISADE_CONTEXT does not break a scan of files...
    let out = bin()
        .args(["scan", "examples/", "--fail-on", "none"])
        .env("PALISADE_CONTEXT", "prod")
        .output()
        .unwrap();
    common::exiting(&out, 0);
    let out = bin()
        .args(["rbac", "who-can", "get", "pods", "examples/rbac"])
        .env("PALISADE_KUBECONFIG", "/nonexistent")
        .output()
        .unwrap();
    common::exiting(&out, 0);
    // ...while the flag typed where it does not apply is an error.
    let out = bin()
        .args(["scan", "examples/", "--context", "prod"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--context applies only with --cluster"));

    // Booleans read as people write them.
    let out = bin()
        .args(["inventory", "examples/"])
        .env("PALISADE_NO_HELM", "yes")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
}

#[test]
fn init_writes_a_commented_config_that_scan_reads() {
    let dir = scratch("init");
    let file = dir.join("palisade.toml");
    let out = bin().arg("init").arg(&file).output().unwrap();
    common::exiting(&out, 0);
    let written = std::fs::read_to_string(&file).unwrap();
    assert!(written.contains("# allowed-registries = ["), "{written}");
    assert!(written.contains("# [[suppress]]"), "{written}");
    // It is a valid configuration as it is.
    let out = bin()
        .args(["scan", "examples/", "--fail-on", "none", "--config"])
        .arg(&file)
        .output()
        .unwrap();
    common::exiting(&out, 0);
    // An existing file is kept unless --force.
    let again = bin().arg("init").arg(&file).output().unwrap();
    assert_eq!(again.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&again.stderr).contains("already exists"));
    let stdout = bin().args(["init", "-"]).output().unwrap();
    assert_eq!(text(&stdout), written);
}

#[test]
fn completions_man_pages_and_version_come_from_the_flags() {
    let out = bin().args(["completion", "bash"]).output().unwrap();
    let script = text(&out);
    assert!(script.contains("_palisade()"), "{script}");
    assert!(script.contains("--group-by"), "completions know the flags");

    let dir = scratch("man");
    let out = bin().arg("man").arg(&dir).output().unwrap();
    assert_eq!(out.status.code(), Some(0));
    let scan = std::fs::read_to_string(dir.join("palisade-scan.1")).unwrap();
    assert!(scan.contains("severity"), "{scan}");
    assert!(dir.join("palisade-rbac-who-can.1").is_file());

    let out = bin().arg("--version").output().unwrap();
    let version = text(&out);
    assert!(version.starts_with("palisade 0."), "{version}");
    assert!(
        version.contains("commit ") && version.contains("built 20"),
        "{version}"
    );
    assert!(version.contains(" rules)"), "{version}");
}

#[test]
fn a_baseline_fails_only_on_new_findings_and_reports_the_fixed_ones() {
    let dir = scratch("baseline");
    let manifest = dir.join("app.yaml");
    let pod = |privileged: bool, host_pid: bool| {
        format!(
            "apiVersion: v1\nkind: Pod\nmetadata: {{name: app, namespace: shop}}\nspec:\n  hostPID: {host_pid}\n  containers:\n  - name: app\n    image: registry.example.com/app@sha256:{}\n    securityContext: {{privileged: {privileged}}}\n",
            "a".repeat(64)
        )
    };
    std::fs::write(&manifest, pod(true, false)).unwrap();
    let baseline = dir.join("baseline.json");
    let out = bin()
        .arg("scan")
        .arg(&manifest)
        .args(["-o"])
        .arg(format!("json={}", baseline.display()))
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(1),
        "privileged fails without a baseline"
    );

    // The same findings again: nothing new, the run passes.
    let out = bin()
        .arg("scan")
        .arg(&manifest)
        .arg("--baseline")
        .arg(&baseline)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert!(text(&out).contains("0 new"), "{}", text(&out));

    // hostPID is new and fails; privileged is gone and is reported fixed.
    std::fs::write(&manifest, pod(false, true)).unwrap();
    let out = bin()
        .arg("scan")
        .arg(&manifest)
        .arg("--baseline")
        .arg(&baseline)
        .output()
        .unwrap();
    let stdout = text(&out);
    assert_eq!(out.status.code(), Some(1), "{stdout}");
    assert!(stdout.contains("Fixed since the baseline"), "{stdout}");
    assert!(stdout.contains("POD001"), "{stdout}");
    let out = bin()
        .arg("scan")
        .arg(&manifest)
        .arg("--baseline")
        .arg(&baseline)
        .args(["-o", "sarif"])
        .output()
        .unwrap();
    let sarif = json(&out);
    let states: Vec<&str> = sarif["runs"][0]["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["baselineState"].as_str().unwrap())
        .collect();
    assert!(
        states.contains(&"new") && states.contains(&"unchanged"),
        "{states:?}"
    );
    let out = bin()
        .arg("scan")
        .arg(&manifest)
        .arg("--baseline")
        .arg(&baseline)
        .args(["-o", "json"])
        .output()
        .unwrap();
    let report = json(&out);
    assert_eq!(report["baseline"]["fixed"][0]["rule"], "POD001", "{report}");

    // A baseline that is not a report is an error, not an empty baseline.
    std::fs::write(dir.join("bad.json"), "{\"findings\": 3}").unwrap();
    let out = bin()
        .arg("scan")
        .arg(&manifest)
        .arg("--baseline")
        .arg(dir.join("bad.json"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("not a Palisade JSON report"));
}

#[test]
fn help_is_grouped_by_headings() {
    let out = bin().args(["scan", "--help"]).output().unwrap();
    let help = text(&out);
    for heading in ["Inputs:", "Output:", "Cluster:", "Rules:"] {
        assert!(
            help.lines().any(|l| l == heading),
            "{heading} missing:\n{help}"
        );
    }
}

#[test]
fn it_runs_as_a_kubectl_plugin() {
    // kubectl finds plugins as `kubectl-NAME` executables on PATH.
    if std::process::Command::new("kubectl")
        .args(["version", "--client"])
        .output()
        .is_err()
    {
        assert!(
            std::env::var_os("CI").is_none(),
            "kubectl is not on PATH: the plugin test cannot run in CI without it"
        );
        return;
    }
    let dir = scratch("kubectl-plugin");
    std::os::unix::fs::symlink(env!("CARGO_BIN_EXE_palisade"), dir.join("kubectl-palisade"))
        .unwrap();
    let path = format!(
        "{}:{}",
        dir.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let out = std::process::Command::new("kubectl")
        .args([
            "palisade",
            "scan",
            "examples/shop/frontend.yaml",
            "--fail-on",
            "none",
        ])
        .current_dir(common::workspace())
        .env("PATH", path)
        .output()
        .unwrap();
    common::exiting(&out, 0);
    assert!(text(&out).contains("Summary:"), "{}", text(&out));
}

/// The progress indicator: on a terminal, a scan that takes more than a second shows a spinner
/// on stderr and clears it; the report itself is untouched. The terminal is a real
/// pseudo-terminal from `script` (util-linux, part of this machine image: without it the test
/// fails), and the scan is of the shared corpus, which the debug build needs several seconds for.
#[test]
fn a_long_scan_on_a_terminal_shows_a_spinner_and_clears_it() {
    let corpus = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../../shared/corpora/real-manifests");
    assert!(corpus.is_dir(), "{} is missing", corpus.display());
    let dir = scratch("spinner");
    let report = dir.join("report.json");
    let typescript = dir.join("typescript.txt");
    let command = format!(
        "{} scan {} -q --fail-on none --allow-incomplete -o json={}",
        env!("CARGO_BIN_EXE_palisade"),
        corpus.display(),
        report.display()
    );
    let status = std::process::Command::new("script")
        .args(["-qec", &command])
        .arg(&typescript)
        .stdout(std::process::Stdio::null())
        .status()
        .expect("`script` (util-linux) runs the scan on a pseudo-terminal");
    assert!(status.success(), "{status:?}");
    let terminal = String::from_utf8_lossy(&std::fs::read(&typescript).unwrap()).into_owned();
    assert!(terminal.contains("scanning 1s"), "{terminal}");
    // Cleared before the summary: the last spinner frame is erased (`ESC[2K`).
    let last_frame = terminal.rfind("scanning").unwrap();
    assert!(terminal[last_frame..].contains("\u{1b}[2K"), "{terminal}");
    let text = std::fs::read_to_string(&report).unwrap();
    let parsed: serde_json::Value = serde_json::from_str(&text).expect("the report is clean JSON");
    assert!(parsed["summary"]["total"].as_u64().unwrap() > 1000);

    // Without a terminal, nothing of it.
    let out = bin()
        .arg("scan")
        .arg(&corpus)
        .args(["-q", "--fail-on", "none", "--allow-incomplete"])
        .output()
        .unwrap();
    assert!(!String::from_utf8_lossy(&out.stderr).contains("scanning"));
}
