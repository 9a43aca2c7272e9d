//! `palisade scan --history` and `palisade history` end to end: the real binary recording runs
//! in a real SQLite file, then listing and comparing them.

mod common;

use common::{bin, json_exiting, scratch, write_file};

const PRIVILEGED: &str = "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web, namespace: shop}\nspec:\n  selector: {matchLabels: {app: web}}\n  template:\n    metadata: {labels: {app: web}}\n    spec:\n      containers: [{name: web, image: 'registry.example.com/web:1.0', securityContext: {privileged: true}}]\n";

fn history(args: &[&str]) -> std::process::Output {
    bin().arg("history").args(args).output().unwrap()
}

#[test]
fn runs_are_recorded_listed_and_compared() {
    let dir = scratch("history");
    let db = dir.join("history.db");
    let db = db.to_str().unwrap();
    let app = dir.join("app");
    let scan = |label: Option<&str>| {
        let mut command = bin();
        command.args(["scan", app.to_str().unwrap(), "--history", db, "-q"]);
        if let Some(label) = label {
            command.args(["--history-label", label]);
        }
        command.output().unwrap().status.code()
    };
    // Nothing recorded yet: an error, never an empty history.
    let missing = history(&["list", "--history", db]);
    assert_eq!(missing.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&missing.stderr).contains("no such file"));
    write_file(&app, "web.yaml", PRIVILEGED);
    assert_eq!(scan(None), Some(1), "the scan's own exit code is kept");
    // One run: nothing to compare with.
    let alone = history(&["diff", "--history", db]);
    assert_eq!(alone.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&alone.stderr).contains("run 1 is the first"),
        "{}",
        String::from_utf8_lossy(&alone.stderr)
    );
    // The privileged container is taken away, and a second workload added.
    let fixed = PRIVILEGED.replace(", securityContext: {privileged: true}", "");
    let second = PRIVILEGED.replace("name: web,", "name: api,");
    write_file(&app, "web.yaml", &format!("{fixed}---\n{second}"));
    scan(Some("after the fix"));
    let list = json_exiting(&history(&["list", "--history", db, "-o", "json"]), 0);
    let runs = list["runs"].as_array().unwrap();
    assert_eq!(runs.len(), 2);
    assert_eq!(runs[0]["id"], 2);
    assert_eq!(runs[0]["label"], "after the fix");
    assert_eq!(runs[1]["label"], app.to_str().unwrap());
    assert_eq!(
        runs[1]["new"],
        serde_json::Value::Null,
        "the first run has none before it"
    );
    assert!(runs[0]["new"].as_u64().unwrap() > 0 && runs[0]["fixed"].as_u64().unwrap() > 0);
    assert_eq!(runs[0]["objects"], 2);
    assert_eq!(runs[0]["complete"], true);
    let diff = json_exiting(&history(&["diff", "--history", db, "-o", "json"]), 0);
    let rules = |key: &str, subject: &str| -> Vec<String> {
        diff[key]
            .as_array()
            .unwrap()
            .iter()
            .filter(|f| f["subject"] == subject)
            .map(|f| f["rule"].as_str().unwrap().to_string())
            .collect()
    };
    assert!(
        rules("fixed", "Deployment shop/web").contains(&"POD001".to_string()),
        "{diff:#}"
    );
    assert!(
        rules("new", "Deployment shop/api").contains(&"POD001".to_string()),
        "{diff:#}"
    );
    assert!(rules("new", "Deployment shop/web").is_empty(), "{diff:#}");
    // Either way round, and by id; an id not recorded is an error.
    let back = json_exiting(
        &history(&[
            "diff",
            "--history",
            db,
            "--from",
            "2",
            "--to",
            "1",
            "-o",
            "json",
        ]),
        0,
    );
    assert_eq!(back["new"], diff["fixed"]);
    let text = String::from_utf8(history(&["diff", "--history", db]).stdout).unwrap();
    assert!(text.starts_with("Run 2 ("), "{text}");
    assert!(
        text.contains("CRITICAL POD001") || text.contains("HIGH     POD001"),
        "{text}"
    );
    let unknown = history(&["diff", "--history", db, "--from", "7"]);
    assert_eq!(unknown.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&unknown.stderr).contains("no run 7"));
    // Pruned to the newest run: the first is gone, and nothing is left to compare.
    let prune = history(&["prune", "--history", db, "--keep", "1"]);
    assert_eq!(prune.status.code(), Some(0));
    assert!(String::from_utf8_lossy(&prune.stdout).starts_with("removed 1 run from"));
    let list = json_exiting(&history(&["list", "--history", db, "-o", "json"]), 0);
    assert_eq!(list["runs"].as_array().unwrap().len(), 1);
    assert_eq!(list["runs"][0]["id"], 2);
    assert_eq!(history(&["diff", "--history", db]).status.code(), Some(2));
    assert_eq!(
        history(&["prune", "--history", db, "--keep", "0"])
            .status
            .code(),
        Some(2),
        "keeping nothing is refused"
    );
    // Readable by its owner alone.
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(db).unwrap().permissions().mode();
        assert_eq!(mode & 0o077, 0, "mode {mode:o}");
    }
}

#[test]
fn a_file_that_is_no_history_is_an_error_naming_it() {
    let dir = scratch("history-wrong");
    write_file(&dir, "not.db", "this is no SQLite file\n");
    let path = dir.join("not.db");
    let out = history(&["list", "--history", path.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("not.db"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // A scan asked to record there fails too, rather than losing the run silently.
    write_file(&dir, "app/web.yaml", PRIVILEGED);
    let scan = bin()
        .args(["scan", dir.join("app").to_str().unwrap(), "--history"])
        .arg(&path)
        .output()
        .unwrap();
    assert_eq!(scan.status.code(), Some(2));
}
