//! `palisade watch`, the real binary against the changing recorded API server
//! (`palisade_cluster::recorded_live`: recorded v1.33 objects served over HTTPS on loopback as
//! lists and watch streams, taking Lease and Policy Report writes as the API server does,
//! since no API server can run here).

mod common;

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use common::{bin, scratch};
use palisade_cluster::recorded_live::{LiveCluster, server};
use serde_json::{Value, json};

const PODS: &str = "/api/v1/pods";
const REPORTS: &str = "/apis/wgpolicyk8s.io/v1alpha2/policyreports";

/// A running `palisade watch`, stopped with SIGTERM when dropped.
struct Watching(Child);

impl Watching {
    fn start(mut command: Command) -> Watching {
        Watching(
            command
                .stdout(Stdio::null())
                .stderr(Stdio::piped())
                .spawn()
                .expect("palisade watch"),
        )
    }

    /// Stops it as Kubernetes does (SIGTERM); its exit code and standard error.
    fn stop(mut self) -> (Option<i32>, String) {
        let _ = Command::new("kill")
            .args(["-TERM", &self.0.id().to_string()])
            .status();
        let out = std::mem::replace(&mut self.0, Command::new("true").spawn().unwrap())
            .wait_with_output()
            .unwrap();
        (
            out.status.code(),
            String::from_utf8_lossy(&out.stderr).into(),
        )
    }
}

impl Drop for Watching {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn watch(kubeconfig: &Path, events: &Path) -> Command {
    let mut cmd = bin();
    cmd.args(["watch", "--no-config", "--settle", "200ms", "--kubeconfig"])
        .arg(kubeconfig)
        .arg("--events")
        .arg(events);
    cmd
}

fn events(path: &Path) -> Vec<Value> {
    std::fs::read_to_string(path)
        .unwrap_or_default()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
        .collect()
}

/// Waits (at most 30 s) until the events hold one that `wanted` accepts.
async fn until_event(path: &Path, what: &str, wanted: impl Fn(&Value) -> bool) -> Value {
    for _ in 0..300 {
        if let Some(event) = events(path).into_iter().find(|e| wanted(e)) {
            return event;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("no event: {what}; events: {:#?}", events(path));
}

/// Waits (at most 30 s) until `done`.
async fn until(what: &str, done: impl Fn() -> bool) {
    for _ in 0..300 {
        if done() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("timed out waiting until {what}");
}

fn privileged(name: &str) -> Value {
    json!({"metadata": {"name": name, "namespace": "shop"},
           "spec": {"containers": [{"name": "app", "image": "nginx:1.27",
                                    "securityContext": {"privileged": true}}]}})
}

fn is(event: &Value, kind: &str, rule: &str, name: &str) -> bool {
    event["event"] == kind
        && event["rule"] == rule
        && event["subject"].as_str().is_some_and(|s| s.contains(name))
}

fn metrics(port: u16) -> String {
    use std::io::{Read, Write};
    let mut stream = std::net::TcpStream::connect(("127.0.0.1", port)).unwrap();
    write!(stream, "GET /metrics HTTP/1.0\r\nHost: localhost\r\n\r\n").unwrap();
    let mut text = String::new();
    stream.read_to_string(&mut text).unwrap();
    text
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

#[tokio::test(flavor = "multi_thread")]
async fn once_writes_the_open_findings_and_says_what_was_not_listed() {
    let dir = scratch("watch-once");
    let (kubeconfig, _) = server(&dir).await;
    let file = dir.join("events.jsonl");
    let mut cmd = watch(&kubeconfig, &file);
    cmd.arg("--once");
    let out = common::output_of(cmd).await;
    // Secrets could not be listed: incomplete, exit 2, and said.
    common::exiting(&out, 2);
    assert!(String::from_utf8_lossy(&out.stderr).contains("incomplete"));
    let lines = events(&file);
    let scan = lines.last().unwrap();
    assert_eq!(scan["event"], "scan");
    assert_eq!(scan["cluster"], "live");
    assert!(scan["objects"].as_u64().unwrap() > 5, "{scan}");
    assert!(
        scan["not_listed"][0].as_str().unwrap().contains("secrets"),
        "{scan}"
    );
    let open: Vec<&Value> = lines.iter().filter(|e| e["event"] == "open").collect();
    assert_eq!(open.len() as u64, scan["open"].as_u64().unwrap());
    assert!(!open.is_empty());
    for event in &open {
        for field in ["fingerprint", "rule", "severity", "subject", "message"] {
            assert!(
                event[field].as_str().is_some_and(|v| !v.is_empty()),
                "{event}"
            );
        }
    }
    // The events are for the file's owner alone.
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&file).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600, "{mode:o}");
    }
    let mut cmd = watch(&kubeconfig, &dir.join("again.jsonl"));
    cmd.args(["--once", "--allow-incomplete"]);
    let out = common::output_of(cmd).await;
    common::exiting(&out, 0);
}

#[tokio::test(flavor = "multi_thread")]
async fn changes_are_scanned_as_they_come_and_published() {
    let dir = scratch("watch-changes");
    let (kubeconfig, cluster) = server(&dir).await;
    let file = dir.join("events.jsonl");
    let history = dir.join("history.db");
    let sink = dir.join("sink.jsonl");
    let health = free_port();
    let mut cmd = watch(&kubeconfig, &file);
    cmd.args(["--policy-reports", "--health-listen"])
        .arg(format!("127.0.0.1:{health}"))
        .arg("--history")
        .arg(&history)
        .arg("--sink")
        .arg(format!("file://{}", sink.display()))
        .arg("--store")
        .arg(dir.join("queue.db"));
    let watching = Watching::start(cmd);
    until_event(&file, "the first scan", |e| e["event"] == "scan").await;
    until("shop's report is written", || {
        cluster.get(REPORTS, "shop", "palisade-shop").is_some()
    })
    .await;
    let shop = cluster.get(REPORTS, "shop", "palisade-shop").unwrap();
    assert_eq!(
        shop["metadata"]["labels"]["app.kubernetes.io/managed-by"],
        "palisade"
    );

    cluster.apply(PODS, privileged("intruder"));
    let opened = until_event(&file, "the privileged pod's finding opened", |e| {
        is(e, "opened", "POD001", "intruder")
    })
    .await;
    assert_eq!(opened["severity"], "critical");
    let reported = |cluster: &LiveCluster| {
        cluster
            .get(REPORTS, "shop", "palisade-shop")
            .is_some_and(|r| r.to_string().contains("intruder"))
    };
    until("the report names the new pod", || reported(&cluster)).await;

    assert!(cluster.delete(PODS, "shop", "intruder"));
    let resolved = until_event(&file, "the finding resolved", |e| {
        is(e, "resolved", "POD001", "intruder")
    })
    .await;
    assert_eq!(resolved["fingerprint"], opened["fingerprint"]);
    until("the report no longer names the deleted pod", || {
        !reported(&cluster)
    })
    .await;

    let text = metrics(health);
    assert!(text.contains("palisade_watch_leading 1"), "{text}");
    assert!(text.contains("palisade_watch_types_failed 1"), "{text}");
    let scans: u64 = text
        .lines()
        .find_map(|l| l.strip_prefix("palisade_watch_scans_total "))
        .and_then(|n| n.parse().ok())
        .unwrap();
    assert!(scans >= 3, "{text}");
    let (code, stderr) = watching.stop();
    assert_eq!(code, Some(0), "{stderr}");
    // The sink got every event, through the store's queue.
    let delivered = events(&sink);
    assert_eq!(delivered, events(&file));
    assert!(
        delivered
            .iter()
            .any(|e| is(e, "resolved", "POD001", "intruder"))
    );
    // Each scan that changed something is in the history: the first, the pod's arrival and
    // its deletion.
    let out = bin()
        .args(["history", "list", "-o", "json", "--history"])
        .arg(&history)
        .output()
        .unwrap();
    let runs: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(runs["runs"].as_array().map(Vec::len), Some(3), "{runs}");
}

#[tokio::test(flavor = "multi_thread")]
async fn of_two_replicas_one_writes_and_the_other_takes_over() {
    let dir = scratch("watch-lease");
    let (kubeconfig, cluster) = server(&dir).await;
    let replica = |name: &str| {
        let mut cmd = watch(&kubeconfig, &dir.join(format!("{name}.jsonl")));
        cmd.args([
            "--lease",
            "palisade/palisade-watch",
            "--lease-duration",
            "2s",
        ])
        .args(["--identity", name]);
        Watching::start(cmd)
    };
    let a = replica("a");
    until_event(&dir.join("a.jsonl"), "a leads and writes", |e| {
        e["event"] == "scan"
    })
    .await;
    let b = replica("b");
    // b follows the cluster but neither scans nor writes while a holds the Lease.
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert!(events(&dir.join("b.jsonl")).is_empty());
    let lease = cluster
        .get(
            "/apis/coordination.k8s.io/v1/leases",
            "palisade",
            "palisade-watch",
        )
        .unwrap();
    assert_eq!(lease["spec"]["holderIdentity"], "a");
    // a stops and gives the Lease up; b takes it and writes every open finding.
    let (code, stderr) = a.stop();
    assert_eq!(code, Some(0), "{stderr}");
    assert!(
        stderr.contains("a holds the Lease palisade/palisade-watch"),
        "{stderr}"
    );
    until_event(&dir.join("b.jsonl"), "b takes over", |e| {
        e["event"] == "open"
    })
    .await;
    cluster.apply(PODS, privileged("later"));
    until_event(&dir.join("b.jsonl"), "b writes the change", |e| {
        is(e, "opened", "POD001", "later")
    })
    .await;
    assert!(
        !events(&dir.join("a.jsonl"))
            .iter()
            .any(|e| is(e, "opened", "POD001", "later"))
    );
    let (code, stderr) = b.stop();
    assert_eq!(code, Some(0), "{stderr}");
}

/// The events in a real PostgreSQL (Debian's, on loopback) through the sink: one row each, in
/// order, and the open findings are what docs/watch.md's query says.
#[tokio::test(flavor = "multi_thread")]
async fn the_events_reach_a_postgresql_table_that_answers_what_is_open() {
    use palisade_deliver::test_postgres::{PASSWORD, Server};
    let Some(database) = Server::start("watch", None) else {
        return;
    };
    let dir = scratch("watch-postgres");
    let (kubeconfig, cluster) = server(&dir).await;
    let file = dir.join("events.jsonl");
    let mut cmd = watch(&kubeconfig, &file);
    cmd.arg("--sink")
        .arg(format!(
            "postgresql://palisade@127.0.0.1:{}/postgres?password_env=PGPW",
            database.port
        ))
        .env("PGPW", PASSWORD)
        .arg("--store")
        .arg(dir.join("queue.db"));
    let watching = Watching::start(cmd);
    until_event(&file, "the first scan", |e| e["event"] == "scan").await;
    cluster.apply(PODS, privileged("intruder"));
    until_event(&file, "opened", |e| is(e, "opened", "POD001", "intruder")).await;
    cluster.apply(PODS, privileged("stays"));
    assert!(cluster.delete(PODS, "shop", "intruder"));
    until_event(&file, "resolved", |e| {
        is(e, "resolved", "POD001", "intruder")
    })
    .await;
    let (code, stderr) = watching.stop();
    assert_eq!(code, Some(0), "{stderr}");
    assert_eq!(
        database.query("SELECT count(*) FROM palisade_events"),
        events(&file).len().to_string()
    );
    let open = database.query(
        "SELECT body->>'subject' FROM (
           SELECT DISTINCT ON (body->>'cluster', body->>'fingerprint') body
           FROM palisade_events WHERE body->>'event' IN ('open', 'opened', 'resolved')
           ORDER BY body->>'cluster', body->>'fingerprint', seq DESC) last
         WHERE body->>'event' <> 'resolved' AND body->>'rule' = 'POD001'",
    );
    assert!(open.contains("stays"), "{open}");
    assert!(!open.contains("intruder"), "{open}");
}

/// `--sbom/--osv-db`: the images' flaws are judged on the pods the watch follows, the
/// SBOMs and database read once.
#[tokio::test(flavor = "multi_thread")]
async fn the_flaws_of_the_images_the_followed_pods_run_are_found() {
    let dir = scratch("watch-vulnerabilities");
    let (kubeconfig, cluster) = server(&dir).await;
    cluster.apply(
        PODS,
        json!({"metadata": {"name": "frontend", "namespace": "shop"},
               "spec": {"containers": [{"name": "nginx", "image": "nginx"}]}}),
    );
    let file = dir.join("events.jsonl");
    let mut cmd = watch(&kubeconfig, &file);
    cmd.args(["--once", "--allow-incomplete", "--rules", "VULN001"])
        .args(["--sbom", "examples/vulnerabilities/sboms"])
        .args(["--osv-db", "examples/vulnerabilities/osv"]);
    let out = common::output_of(cmd).await;
    common::exiting(&out, 0);
    let found: Vec<String> = events(&file)
        .iter()
        .filter(|e| e["event"] == "open" && e["rule"] == "VULN001")
        .map(|e| e["message"].as_str().unwrap_or_default().to_string())
        .collect();
    assert!(
        found.iter().any(|m| m.contains("CVE-2023-44487")),
        "{found:#?}"
    );
}

/// One answer whatever the reading path: the recorded cluster (Secrets listed, a Secret whose
/// last applied configuration holds its value added) gives the same findings, by rule and
/// message, when scanned live, followed by `watch --once`, captured and scanned as a snapshot,
/// and as the same snapshot padded past 8 MiB (which is read item by item).
#[tokio::test(flavor = "multi_thread")]
async fn every_reading_path_gives_the_same_findings() {
    let dir = scratch("watch-same-findings");
    let (kubeconfig, cluster) = server(&dir).await;
    cluster.forbid("/api/v1/secrets", false);
    let copy = json!({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "db", "namespace": "shop"},
                      "data": {"password": "aHVudGVyMi1odW50ZXIy"}})
    .to_string();
    cluster.apply(
        "/api/v1/secrets",
        json!({"apiVersion": "v1", "kind": "Secret", "type": "Opaque",
               "metadata": {"name": "db", "namespace": "shop",
                            "annotations": {"kubectl.kubernetes.io/last-applied-configuration": copy}},
               "data": {"password": "aHVudGVyMi1odW50ZXIy"}}),
    );
    // A legacy token of an admin account, which db's pods may read: the path is found
    // though the Secret is read as metadata only.
    cluster.apply(
        "/api/v1/secrets",
        json!({"apiVersion": "v1", "kind": "Secret", "type": "kubernetes.io/service-account-token",
               "metadata": {"name": "deployer-token", "namespace": "shop",
                            "annotations": {"kubernetes.io/service-account.name": "deployer"}},
               "data": {"token": "aHVudGVyMi1odW50ZXIy"}}),
    );
    for (kind, object) in [
        (
            "Role",
            json!({"metadata": {"name": "secret-reader", "namespace": "shop"},
            "rules": [{"apiGroups": [""], "resources": ["secrets"], "verbs": ["get"]}]}),
        ),
        (
            "RoleBinding",
            json!({"metadata": {"name": "db-reads-secrets", "namespace": "shop"},
            "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": "secret-reader"},
            "subjects": [{"kind": "ServiceAccount", "name": "db", "namespace": "shop"}]}),
        ),
        (
            "ClusterRoleBinding",
            json!({"metadata": {"name": "deployer-admin"},
            "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "cluster-admin"},
            "subjects": [{"kind": "ServiceAccount", "name": "deployer", "namespace": "shop"}]}),
        ),
    ] {
        let collection = cluster
            .collection_of("rbac.authorization.k8s.io/v1", kind)
            .unwrap();
        cluster.apply(&collection, object);
    }
    let run = |cmd: Command| async move {
        let out = common::output_of(cmd).await;
        common::exiting(&out, 0);
        out
    };
    let said = |findings: Vec<(String, String)>| {
        let mut findings = findings;
        findings.sort();
        findings
    };
    let of_report = |out: &std::process::Output| {
        said(
            common::json(out)["findings"]
                .as_array()
                .unwrap()
                .iter()
                .map(|f| {
                    (
                        f["rule"].as_str().unwrap().to_string(),
                        f["message"].as_str().unwrap().to_string(),
                    )
                })
                .collect(),
        )
    };
    let scan_args = ["scan", "--no-config", "--fail-on", "none", "-o", "json"];
    let mut live = bin();
    live.args(scan_args)
        .arg("--cluster")
        .arg("--kubeconfig")
        .arg(&kubeconfig);
    let live = run(live).await;
    // Secrets read as metadata only: SEC023 could not look at their values, and says so.
    let coverage = common::json(&live)["coverage"].clone();
    let leaked = coverage
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["rule"] == "SEC023")
        .unwrap()
        .clone();
    assert!(leaked["not_assessed"].as_u64().unwrap() >= 1, "{leaked}");
    let live = of_report(&live);
    for (rule, about) in [
        ("SEC021", "password"),
        ("SEC003", "deployer"),
        ("RBAC017", "deployer-token"),
    ] {
        assert!(
            live.iter()
                .any(|(r, message)| r == rule && message.contains(about)),
            "{rule}: {live:#?}"
        );
    }
    let snapshot = dir.join("cluster.json");
    let mut capture = bin();
    capture
        .args(["snapshot", "-o"])
        .arg(&snapshot)
        .arg("--kubeconfig")
        .arg(&kubeconfig);
    run(capture).await;
    let text = std::fs::read_to_string(&snapshot).unwrap();
    assert!(
        !text.contains("aHVudGVyMi1odW50ZXIy"),
        "a value in the snapshot"
    );
    let (first, rest) = text.split_once('\n').unwrap();
    let large = dir.join("large.json");
    std::fs::write(&large, format!("{first}{}\n{rest}", " ".repeat(9 << 20))).unwrap();
    let mut paths = vec![("scan --cluster", live.clone())];
    for (name, file) in [("small snapshot", &snapshot), ("large snapshot", &large)] {
        let mut scan = bin();
        scan.args(scan_args).arg("--snapshot").arg(file);
        paths.push((name, of_report(&run(scan).await)));
    }
    let events_file = dir.join("events.jsonl");
    let mut once = watch(&kubeconfig, &events_file);
    once.arg("--once");
    run(once).await;
    let opened = events(&events_file)
        .into_iter()
        .filter(|e| e["event"] == "open")
        .map(|e| {
            (
                e["rule"].as_str().unwrap().to_string(),
                e["message"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    paths.push(("watch --once", said(opened)));
    for (name, found) in &paths {
        assert_eq!(found, &live, "{name} differs from scan --cluster");
    }
}

/// A namespace the cluster does not have is an error (exit 2, naming it and the namespaces
/// there are) for a live scan, a snapshot, the watch and a scan of a snapshot: reading it
/// would find nothing, which looks like a clean namespace. When the Namespaces cannot be
/// listed, the read goes on.
#[tokio::test(flavor = "multi_thread")]
async fn an_unknown_namespace_is_an_error() {
    let dir = scratch("watch-unknown-namespace");
    let (kubeconfig, cluster) = server(&dir).await;
    let commands = |namespace: &str| {
        let mut live = bin();
        live.args(["scan", "--no-config", "--allow-incomplete", "-o", "json"])
            .args(["--fail-on", "none", "--cluster", "--kubeconfig"])
            .arg(&kubeconfig);
        let mut capture = bin();
        capture
            .arg("snapshot")
            .arg("-o")
            .arg(dir.join("s.json"))
            .arg("--kubeconfig")
            .arg(&kubeconfig);
        let mut once = watch(&kubeconfig, &dir.join("events.jsonl"));
        once.args(["--once", "--allow-incomplete"]);
        let mut all = vec![live, capture, once];
        for cmd in &mut all {
            cmd.args(["--namespace", "shop", "--namespace", namespace]);
        }
        all
    };
    for cmd in commands("shpo") {
        let out = common::output_of(cmd).await;
        common::exiting(&out, 2);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(
            stderr.contains("has no namespace \"shpo\"; its namespaces: ")
                && stderr.contains("shop"),
            "{stderr}"
        );
    }
    // A snapshot of the whole cluster says the same when read for a namespace it lacks.
    let whole = dir.join("whole.json");
    let mut capture = bin();
    capture
        .arg("snapshot")
        .arg("-o")
        .arg(&whole)
        .arg("--kubeconfig")
        .arg(&kubeconfig);
    let out = common::output_of(capture).await;
    common::exiting(&out, 0);
    for (namespace, code) in [("shpo", 2), ("shop", 0)] {
        let out = bin()
            .args([
                "scan",
                "--no-config",
                "--allow-incomplete",
                "--fail-on",
                "none",
            ])
            .args(["-o", "json", "--namespace", namespace, "--snapshot"])
            .arg(&whole)
            .output()
            .unwrap();
        common::exiting(&out, code);
    }
    cluster.forbid("/api/v1/namespaces", true);
    for cmd in commands("shpo") {
        let out = common::output_of(cmd).await;
        common::exiting(&out, 0);
    }
}

fn scans(path: &Path) -> usize {
    events(path).iter().filter(|e| e["event"] == "scan").count()
}

/// A Pod's status changing alone (as the kubelet writes it many times in a Pod's life) starts
/// no scan when only built-in rules run, which read no Pod's status; with a policy, which may
/// read it, it does. A change of the spec is scanned either way.
#[tokio::test(flavor = "multi_thread")]
async fn a_change_of_status_alone_is_scanned_only_when_a_policy_may_read_it() {
    let dir = scratch("watch-status");
    let (kubeconfig, cluster) = server(&dir).await;
    let (built_in, with_policy) = (dir.join("built-in.jsonl"), dir.join("policy.jsonl"));
    let health = free_port();
    let mut cmd = watch(&kubeconfig, &built_in);
    cmd.arg("--health-listen")
        .arg(format!("127.0.0.1:{health}"));
    let _built_in_watch = Watching::start(cmd);
    let labels = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/policy/labels");
    let mut cmd = watch(&kubeconfig, &with_policy);
    cmd.arg("--policy")
        .arg(labels.join("template.yaml"))
        .arg("--policy")
        .arg(labels.join("samples/constraint.yaml"));
    let _policy_watch = Watching::start(cmd);
    until("both watches scanned", || {
        scans(&built_in) == 1 && scans(&with_policy) == 1
    })
    .await;

    let mut pod = cluster
        .list(PODS)
        .into_iter()
        .next()
        .expect("a recorded pod");
    pod["status"] = json!({"phase": "Running", "conditions": [
        {"type": "Ready", "status": "True", "lastTransitionTime": "2026-12-06T10:00:00Z"}]});
    cluster.apply(PODS, pod);
    until("the policy's watch scanned the status", || {
        scans(&with_policy) == 2
    })
    .await;
    let counted = |name: &str| -> u64 {
        metrics(health)
            .lines()
            .find_map(|l| l.strip_prefix(name)?.strip_prefix(' ')?.parse().ok())
            .unwrap()
    };
    until("the built-in watch counted the status change", || {
        counted("palisade_watch_status_changes_total") == 1
    })
    .await;
    // Several times the settling time: a scan it started would have been written.
    tokio::time::sleep(Duration::from_millis(1_500)).await;
    assert_eq!(scans(&built_in), 1, "{:#?}", events(&built_in));
    assert_eq!(counted("palisade_watch_scans_total"), 1);

    cluster.apply(PODS, privileged("intruder"));
    until_event(&built_in, "the new pod's finding", |e| {
        is(e, "opened", "POD001", "intruder")
    })
    .await;
    assert_eq!(scans(&built_in), 2);
}
