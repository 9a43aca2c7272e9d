//! `palisade audit` and `palisade serve audit`: the real binary on Falco's audit traces
//! (../shared/corpora, required), on logs written here (rotated, gzip, growing), and the
//! receiver end to end over real TLS on loopback with real EventList batches, a sink that is
//! down, and a process killed with batches and alerts in flight.

mod common;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use common::serve::{Rotation, Served, client, wait_for};
use common::{bin, scratch, workspace};
use serde_json::{Value, json};

const TRACES: &str = "../shared/corpora/k8s-audit-logs/falco-legacy/test/trace_files/k8s_audit";

fn traces() -> PathBuf {
    let dir = workspace().join(TRACES);
    assert!(dir.is_dir(), "{} is required", dir.display());
    dir
}

fn lines(output: &std::process::Output) -> Vec<Value> {
    String::from_utf8_lossy(&output.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
        .collect()
}

fn stderr(output: &std::process::Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

/// One event line.
fn event(id: &str, verb: &str, resource: &str, sub: &str, user: &str, time: &str) -> String {
    json!({
        "kind": "Event", "apiVersion": "audit.k8s.io/v1", "auditID": id,
        "stage": if sub.is_empty() { "ResponseComplete" } else { "ResponseStarted" },
        "verb": verb, "requestURI": format!("/api/v1/namespaces/app/{resource}"),
        "user": {"username": user}, "sourceIPs": ["10.0.0.9"], "userAgent": "kubectl/v1.33",
        "objectRef": {"resource": resource, "subresource": sub, "namespace": "app", "name": "web-1"},
        "responseStatus": {"code": if sub.is_empty() { 200 } else { 101 }},
        "requestReceivedTimestamp": time,
    })
    .to_string()
}

#[test]
fn analyses_falcos_traces_with_problems_named_and_the_gate_failing() {
    // Falco's traces log three Secrets at the Metadata level, as most audit policies do:
    // whether they hold service-account tokens is not known, and the run says so.
    let blind = bin()
        .args(["audit", "analyze", traces().to_str().unwrap(), "-o", "json"])
        .output()
        .unwrap();
    assert_eq!(blind.status.code(), Some(2), "{}", stderr(&blind));
    assert!(
        stderr(&blind).contains(
            "not assessed: AUD019 token-secret-created could not judge 3 requests \
             (3 create secrets) logged at Metadata: it reads Request"
        ),
        "{}",
        stderr(&blind)
    );
    let alerts = lines(&blind);
    assert_eq!(alerts.len(), 29, "the alerts are still written");
    // And said in the alert stream, for the SIEM: once a day per kind of request (the traces
    // are from two days).
    let too_low: Vec<&Value> = alerts.iter().filter(|a| a["rule"] == "AUD049").collect();
    assert_eq!(too_low.len(), 2, "{too_low:?}");
    assert!(
        too_low
            .iter()
            .all(|a| a["evidence"]["detections"] == "AUD019 token-secret-created"),
        "{too_low:?}"
    );
    let output = bin()
        .args(["audit", "analyze", traces().to_str().unwrap(), "-o", "json"])
        .args(["--skip-rules", "AUD019"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
    let alerts = lines(&output);
    assert_eq!(alerts.len(), 27, "{}", stderr(&output));
    let err = stderr(&output);
    assert!(
        err.contains("fal_01_003.json:1: not an audit event"),
        "{err}"
    );
    assert!(err.contains("51 events read from 47 files"), "{err}");
    // Every format gives the same alerts.
    for format in ["text", "ocsf", "ecs", "cef"] {
        let out = bin()
            .args(["audit", "analyze", traces().to_str().unwrap(), "-o", format])
            .arg("--allow-incomplete")
            .output()
            .unwrap();
        let count = String::from_utf8_lossy(&out.stdout).lines().count();
        assert_eq!(count, 29, "-o {format}");
    }
    let none = bin()
        .args([
            "audit",
            "analyze",
            traces().to_str().unwrap(),
            "--fail-on",
            "none",
            "--allow-incomplete",
            "-o",
            "json=/dev/null",
        ])
        .output()
        .unwrap();
    assert_eq!(none.status.code(), Some(0));
}

#[test]
fn nothing_read_is_an_error_and_a_missing_input_makes_the_run_incomplete() {
    let dir = scratch("audit-nothing");
    let empty = dir.join("empty.log");
    std::fs::write(&empty, "").unwrap();
    let out = bin()
        .args(["audit", "analyze", empty.to_str().unwrap()])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("nothing analysed"),
        "{}",
        stderr(&out)
    );
    // The British spelling the help text uses is the same command.
    let spelt = bin()
        .args(["audit", "analyse", empty.to_str().unwrap()])
        .output()
        .unwrap();
    assert_eq!(spelt.status.code(), Some(2));
    assert!(stderr(&spelt).contains("nothing analysed"));
    let good = dir.join("good.log");
    std::fs::write(
        &good,
        event("1", "get", "pods", "", "alice", "2026-12-01T10:00:00Z") + "\n",
    )
    .unwrap();
    let out = bin()
        .args([
            "audit",
            "analyze",
            good.to_str().unwrap(),
            "/no/such/file.log",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("/no/such/file.log"),
        "{}",
        stderr(&out)
    );
    let out = bin()
        .args([
            "audit",
            "analyze",
            good.to_str().unwrap(),
            "/no/such/file.log",
            "--allow-incomplete",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let out = bin()
        .args([
            "audit",
            "analyze",
            good.to_str().unwrap(),
            "--rules",
            "AUD999",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("unknown detection `AUD999`"));
    // A detection named that cannot run is an error too, not "0 alerts": the first-seen
    // detection without a baseline, threat intelligence without a feed.
    for (named, why) in [
        ("AUD036", "give --baseline"),
        ("first-seen-behaviour,AUD001", "give --baseline"),
        ("AUD050", "nothing to look for with these settings"),
    ] {
        let out = bin()
            .args(["audit", "analyze", "--no-config"])
            .arg(&good)
            .args(["--rules", named])
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(2), "{named}: {}", stderr(&out));
        assert!(
            stderr(&out).contains("asked for with --rules but cannot run")
                && stderr(&out).contains(why),
            "{named}: {}",
            stderr(&out)
        );
    }
}

/// AUD002's failing event: alice port-forwards to pod db/pg-0 (a medium alert).
fn port_forward_event() -> String {
    let fixture = workspace().join("crates/palisade-audit/tests/fixtures/AUD002/fail.jsonl");
    std::fs::read_to_string(fixture)
        .unwrap()
        .lines()
        .find(|l| l.starts_with('{'))
        .unwrap()
        .to_string()
}

/// AUD002's alert on `dir`'s `audit.log`, with `inventory` as its context.
fn port_forward_alert(dir: &Path, inventory: &Path) -> Value {
    let out = bin()
        .args(["audit", "analyze", dir.join("audit.log").to_str().unwrap()])
        .args(["--rules", "AUD002", "-o", "json", "--inventory"])
        .arg(inventory)
        .output()
        .unwrap();
    lines(&out).remove(0)
}

/// A namespace's criticality is read as a level (`palisade_k8s::criticality`), whatever its
/// case: a port-forward (medium) into a namespace labelled `Critical` is raised to high.
#[test]
fn a_namespace_labelled_critical_in_any_case_raises_its_alerts() {
    let dir = scratch("audit-criticality");
    std::fs::write(dir.join("audit.log"), port_forward_event() + "\n").unwrap();
    let analyse = |level: &str| {
        let inventory = dir.join("inventory.yaml");
        std::fs::write(
            &inventory,
            format!("apiVersion: v1\nkind: Namespace\nmetadata:\n  name: db\n  labels:\n    palisade.dev/criticality: {level}\n"),
        )
        .unwrap();
        port_forward_alert(&dir, &inventory)
    };
    let raised = analyse("Critical");
    assert_eq!(raised["severity"], "high", "{raised}");
    assert_eq!(
        raised["enrichment"]["raised_because"],
        "the namespace is labelled critical"
    );
    let kept = analyse("low");
    assert_eq!(kept["severity"], "medium", "{kept}");
    assert_eq!(kept["enrichment"]["criticality"], "low");
    // palisade.toml's [criticality] rates it, without an inventory, and over the label.
    common::write_file(
        &dir,
        "palisade.toml",
        "[criticality]\nnamespaces = { \"d*\" = \"critical\" }\n",
    );
    let configured = |extra: &[&str]| {
        let out = bin()
            .current_dir(&dir)
            .args([
                "audit",
                "analyze",
                "audit.log",
                "--rules",
                "AUD002",
                "-o",
                "json",
            ])
            .args(extra)
            .output()
            .unwrap();
        lines(&out).remove(0)
    };
    let rated = configured(&[]);
    assert_eq!(rated["severity"], "high", "{rated}");
    assert_eq!(
        rated["enrichment"]["raised_because"],
        "the namespace is rated critical in palisade.toml"
    );
    let over_label = configured(&["--inventory", "inventory.yaml"]);
    assert_eq!(
        over_label["enrichment"]["criticality"], "critical",
        "{over_label}"
    );
    let without = configured(&["--no-config"]);
    assert_eq!(without["severity"], "medium", "{without}");
}

/// A request made as an identity whose token is written in a ConfigMap others read (the
/// escalation graph's leaked credentials) says where, and is raised: whoever read the
/// ConfigMap may be the one making it.
#[test]
fn a_request_made_with_a_leaked_credential_says_where_it_is_written() {
    let dir = scratch("audit-leaked");
    let event = port_forward_event().replace(
            r#""username": "alice", "groups": ["system:authenticated"]"#,
            r#""username": "system:serviceaccount:ci:deployer", "groups": ["system:serviceaccounts", "system:authenticated"]"#,
        );
    assert!(event.contains("system:serviceaccount:ci:deployer"));
    std::fs::write(dir.join("audit.log"), event + "\n").unwrap();
    let inventory = workspace().join("crates/palisade-rules/tests/fixtures/SEC023/fail.yaml");
    let alert = port_forward_alert(&dir, &inventory);
    assert_eq!(alert["severity"], "high", "{alert:#}");
    let places = alert["enrichment"]["leaked_credential"].as_array().unwrap();
    assert_eq!(places.len(), 1, "{alert:#}");
    assert!(
        places[0]
            .as_str()
            .unwrap()
            .starts_with("ConfigMap app/deploy-settings (its data.kubeconfig holds a service-account token of ServiceAccount ci/deployer)"),
        "{alert:#}"
    );
    assert_eq!(
        alert["enrichment"]["raised_because"],
        "the request's identity has a credential written where others read it"
    );
    // Without the ConfigMap, the same request is what the detection says.
    let text = std::fs::read_to_string(&inventory).unwrap();
    let without = text
        .split("\n---\n")
        .skip(1)
        .collect::<Vec<_>>()
        .join("\n---\n");
    std::fs::write(dir.join("inventory.yaml"), without).unwrap();
    let alert = port_forward_alert(&dir, &dir.join("inventory.yaml"));
    assert_eq!(alert["severity"], "medium", "{alert:#}");
    assert!(alert["enrichment"].get("leaked_credential").is_none());
}

#[test]
fn rotated_and_compressed_logs_are_read_oldest_first() {
    let dir = scratch("audit-rotated");
    let logs = dir.join("logs");
    std::fs::create_dir_all(&logs).unwrap();
    let exec = |id: &str, time: &str| event(id, "create", "pods", "exec", "alice", time);
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    writeln!(gz, "{}", exec("a", "2026-12-01T08:00:00Z")).unwrap();
    std::fs::write(logs.join("audit.log.2.gz"), gz.finish().unwrap()).unwrap();
    std::fs::write(
        logs.join("audit.log.1"),
        exec("b", "2026-12-01T09:00:00Z") + "\n",
    )
    .unwrap();
    std::fs::write(
        logs.join("audit.log"),
        exec("c", "2026-12-01T10:00:00Z") + "\n",
    )
    .unwrap();
    let out = bin()
        .args(["audit", "analyze", logs.to_str().unwrap(), "-o", "json"])
        .output()
        .unwrap();
    let ids: Vec<String> = lines(&out)
        .iter()
        .map(|a| a["request"]["audit_id"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(ids, ["a", "b", "c"], "{}", stderr(&out));
    // Standard input, as a stream.
    let mut child = bin()
        .args(["audit", "analyze", "-", "-o", "json"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all((exec("d", "2026-12-01T11:00:00Z") + "\n").as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert_eq!(lines(&out).len(), 1, "{}", stderr(&out));
}

/// Files are analysed on several threads with one thread's answer: the same alerts in the
/// same order, in every format, and the same summary. A hundred copies of Falco's traces
/// (5,400 lines) make a log of several batches.
#[test]
fn any_number_of_threads_gives_the_same_alerts_and_summary() {
    let dir = scratch("audit-threads");
    let mut log = String::new();
    let mut files: Vec<PathBuf> = std::fs::read_dir(traces())
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    files.sort();
    for round in 0..100 {
        for file in &files {
            let text = std::fs::read_to_string(file).unwrap();
            log.push_str(&text.replace(r#""auditID":""#, &format!(r#""auditID":"{round}-"#)));
            log.push('\n');
        }
    }
    std::fs::write(dir.join("audit.log"), &log).unwrap();
    // Context for the alerts (made on the threads that give them, as the formats are).
    let inventory = dir.join("inventory.yaml");
    std::fs::write(
        &inventory,
        "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: default\n  labels:\n    palisade.dev/criticality: high\n",
    )
    .unwrap();
    let run = |threads: &str| {
        let sink = dir.join(format!("{threads}.sink"));
        let out = bin()
            .args(["audit", "analyze", dir.join("audit.log").to_str().unwrap()])
            .args([
                "-o",
                "json",
                "-o",
                &format!("cef={}", dir.join(format!("{threads}.cef")).display()),
            ])
            .args(["--inventory", inventory.to_str().unwrap()])
            .args(["--sink", &format!("file://{}?format=ocsf", sink.display())])
            .args([
                "--store",
                dir.join(format!("{threads}.db")).to_str().unwrap(),
            ])
            .args(["--allow-incomplete", "--threads", threads])
            .output()
            .unwrap();
        let cef = std::fs::read_to_string(dir.join(format!("{threads}.cef"))).unwrap();
        let sunk = std::fs::read_to_string(&sink).unwrap();
        (
            out.status.code(),
            String::from_utf8(out.stdout.clone()).unwrap(),
            cef,
            stderr(&out),
            sunk,
        )
    };
    let one = run("1");
    assert_eq!(one.0, Some(1), "{}", one.3);
    assert!(
        one.1.lines().count() > 1000,
        "{} alerts",
        one.1.lines().count()
    );
    assert!(one.1.contains(r#""criticality":"high""#), "no context");
    // Delivered once per alert id (the log repeats some requests with their ids).
    assert!(
        one.4.lines().count() > 1000,
        "{} delivered",
        one.4.lines().count()
    );
    for threads in ["2", "4"] {
        let many = run(threads);
        assert_eq!(many.0, one.0);
        assert!(many.1 == one.1, "the alerts differ on {threads} threads");
        assert!(
            many.2 == one.2,
            "the CEF alerts differ on {threads} threads"
        );
        assert_eq!(many.3, one.3);
        assert!(
            many.4 == one.4,
            "the alerts delivered differ on {threads} threads"
        );
    }
    let zero = bin()
        .args([
            "audit",
            "analyze",
            dir.join("audit.log").to_str().unwrap(),
            "--threads",
            "0",
        ])
        .output()
        .unwrap();
    assert_eq!(zero.status.code(), Some(2), "{}", stderr(&zero));
}

/// What managed clusters' tools export: `gcloud logging read --format=json` writes a
/// pretty-printed JSON array of Cloud Logging entries, `aws logs filter-log-events` an object
/// whose `events` hold the API server's events as strings, and `az monitor log-analytics
/// query` over AKSAudit an array of rows. Each is read whole.
#[test]
fn exports_of_gke_eks_and_aks_logs_are_read() {
    let dir = scratch("audit-exports");
    let entry = |id: &str, user: &str| {
        json!({
            "protoPayload": {
                "@type": "type.googleapis.com/google.cloud.audit.AuditLog",
                "authenticationInfo": {"principalEmail": user},
                "authorizationInfo": [{"granted": true}],
                "methodName": "io.k8s.core.v1.pods.exec.create",
                "requestMetadata": {"callerIp": "203.0.113.9"},
                "resourceName": "core/v1/namespaces/app/pods/web/exec",
                "status": {}
            },
            "insertId": id,
            "timestamp": "2026-12-01T10:00:00Z",
            "operation": {"id": id, "first": true, "last": true}
        })
    };
    let gcloud =
        serde_json::to_string_pretty(&json!([entry("a", "alice"), entry("b", "bob")])).unwrap();
    std::fs::write(dir.join("gke.json"), gcloud).unwrap();
    let message = event(
        "c",
        "create",
        "pods",
        "exec",
        "carol",
        "2026-12-01T10:00:00Z",
    );
    let aws = json!({"events": [{"logStreamName": "kube-apiserver-audit-1", "timestamp": 1, "message": message}]});
    std::fs::write(
        dir.join("eks.json"),
        serde_json::to_string_pretty(&aws).unwrap(),
    )
    .unwrap();
    // `az monitor log-analytics query` over AKSAudit: rows of PascalCase columns.
    let row = json!({
        "AuditId": "d", "Level": "Metadata", "Stage": "ResponseStarted", "Verb": "create",
        "RequestUri": "/api/v1/namespaces/app/pods/web-1/exec?command=sh",
        "User": "{\"username\":\"dave\"}", "SourceIps": "[\"10.0.0.9\"]",
        "ObjectRef": "{\"resource\":\"pods\",\"subresource\":\"exec\",\"namespace\":\"app\",\"name\":\"web-1\"}",
        "ResponseStatus": "{\"code\":101}", "RequestReceivedTime": "2026-12-01T10:00:00Z",
        "TimeGenerated": "2026-12-01T10:00:01Z", "Type": "AKSAudit"
    });
    let rows = serde_json::to_string_pretty(&json!([row])).unwrap();
    std::fs::write(dir.join("aks.json"), rows).unwrap();
    // Loki's HTTP API answers newest first: read in time order.
    let exec_by = |id: &str, user: &str, at: &str| event(id, "create", "pods", "exec", user, at);
    let loki = json!({"status": "success", "data": {"resultType": "streams", "result": [{
    "stream": {"job": "kube-apiserver-audit"},
    "values": [
        ["1796119260000000000", exec_by("f", "frank", "2026-12-01T10:01:00Z")],
        ["1796119200000000000", exec_by("e", "erin", "2026-12-01T10:00:00Z")]
    ]}]}});
    std::fs::write(
        dir.join("loki.json"),
        serde_json::to_string_pretty(&loki).unwrap(),
    )
    .unwrap();
    // Fluent Bit's file output: `tag: [time, {record}]`, the event in the record's `log`.
    let fluent = format!(
        "kube.audit: [1796119200.5, {}]\n",
        json!({"log": exec_by("g", "grace", "2026-12-01T10:00:00Z")})
    );
    std::fs::write(dir.join("fluent-bit.log"), fluent).unwrap();
    for (file, users) in [
        ("gke.json", vec!["alice", "bob"]),
        ("eks.json", vec!["carol"]),
        ("aks.json", vec!["dave"]),
        ("loki.json", vec!["erin", "frank"]),
        ("fluent-bit.log", vec!["grace"]),
    ] {
        let out = bin()
            .args([
                "audit",
                "analyze",
                dir.join(file).to_str().unwrap(),
                "-o",
                "json",
            ])
            .output()
            .unwrap();
        let alerts = lines(&out);
        let execs: Vec<&str> = alerts
            .iter()
            .filter(|a| a["rule"] == "AUD001")
            .map(|a| a["request"]["user"].as_str().unwrap())
            .collect();
        assert_eq!(execs, users, "{file}: {}", stderr(&out));
        assert!(
            stderr(&out).contains("0 lines not events"),
            "{}",
            stderr(&out)
        );
    }
}

/// `palisade audit analyze LOG --follow ARGS...` on an empty log under `dir`; returns the
/// child and the log.
fn follow_empty_log(dir: &Path, args: &[&str], stdout: Stdio, stderr: Stdio) -> (Served, PathBuf) {
    std::fs::create_dir_all(dir).unwrap();
    let log = dir.join("audit.log");
    std::fs::write(&log, "").unwrap();
    let child = bin()
        .args(["audit", "analyze", log.to_str().unwrap(), "--follow"])
        .args(args)
        .stdout(stdout)
        .stderr(stderr)
        .spawn()
        .unwrap();
    (Served(child), log)
}

/// What a child wrote on its piped standard error, to its end.
fn piped_stderr(child: &mut Served) -> String {
    let mut text = String::new();
    child
        .0
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut text)
        .unwrap();
    text
}

/// Sends SIGTERM to `child` and waits for it to end (`what` names the wait); returns its exit
/// code and what it wrote on its piped standard error.
fn terminated(child: &mut Served, what: &str) -> (Option<i32>, String) {
    let sent = std::process::Command::new("kill")
        .args(["-TERM", &child.0.id().to_string()])
        .status()
        .unwrap();
    assert!(sent.success());
    exit_of(child, what)
}

/// Waits for `child` to end (`what` names the wait); returns its exit code and what it wrote
/// on its piped standard error.
fn exit_of(child: &mut Served, what: &str) -> (Option<i32>, String) {
    let mut exited = None;
    wait_for(what, || {
        exited = child.0.try_wait().unwrap();
        exited.is_some()
    });
    (exited.unwrap().code(), piped_stderr(child))
}

/// The first line `child` writes on its piped standard output, within 20 s (`what` names it).
fn first_line(child: &mut Served, what: &str) -> String {
    let mut reader = BufReader::new(child.0.stdout.take().unwrap());
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let mut line = String::new();
        reader.read_line(&mut line).unwrap();
        tx.send(line).unwrap();
    });
    rx.recv_timeout(Duration::from_secs(20))
        .unwrap_or_else(|_| panic!("{what}"))
}

/// Appends to `log` an exec by alice into a pod (`id` its audit id).
fn append_exec(log: &Path, id: &str) {
    let exec = event(
        id,
        "create",
        "pods",
        "exec",
        "alice",
        "2026-12-01T10:00:00Z",
    );
    let mut file = std::fs::OpenOptions::new().append(true).open(log).unwrap();
    writeln!(file, "{exec}").unwrap();
    file.flush().unwrap();
}

/// A log that does not exist yet (an API server still starting) is waited for, as `tail -F`
/// does, and said to be.
#[test]
fn follow_waits_for_a_log_made_later() {
    let dir = scratch("audit-follow-later");
    std::fs::create_dir_all(&dir).unwrap();
    let log = dir.join("audit.log");
    let _ = std::fs::remove_file(&log);
    let mut child = Served(
        bin()
            .args(["audit", "analyze", "--follow", "-o", "json"])
            .arg(&log)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap(),
    );
    std::thread::sleep(Duration::from_millis(300));
    std::fs::write(&log, "").unwrap();
    append_exec(&log, "later1");
    let line = first_line(&mut child, "an alert from the log made later");
    assert_eq!(
        serde_json::from_str::<Value>(&line).unwrap()["rule"],
        "AUD001"
    );
    let (_, stderr_text) = terminated(&mut child, "SIGTERM to end --follow");
    assert!(
        stderr_text.contains("does not exist yet; waiting for it"),
        "{stderr_text}"
    );
}

#[test]
fn follow_reads_what_is_appended() {
    let dir = scratch("audit-follow");
    let (mut child, log) = follow_empty_log(&dir, &["-o", "json"], Stdio::piped(), Stdio::null());
    std::thread::sleep(Duration::from_millis(300));
    append_exec(&log, "f1");
    let line = first_line(&mut child, "an alert while following");
    drop(child);
    let alert: Value = serde_json::from_str(&line).unwrap();
    assert_eq!(alert["rule"], "AUD001");
}

/// The alerts of `sink` (a file sink's lines).
fn delivered(sink: &Path) -> Vec<Value> {
    std::fs::read_to_string(sink)
        .unwrap_or_default()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

/// A stream has no end to wait for: `--follow` delivers each alert to the sinks while it
/// follows, and SIGTERM ends it as the end of a file would (the summary, exit 0).
#[test]
fn follow_delivers_to_sinks_as_it_goes_and_ends_on_sigterm() {
    let dir = scratch("audit-follow-sink");
    let sink = dir.join("alerts.jsonl");
    let store = dir.join("s.db");
    let (mut child, log) = follow_empty_log(
        &dir,
        &[
            "--store",
            store.to_str().unwrap(),
            "--sink",
            &format!("file://{}", sink.display()),
        ],
        Stdio::null(),
        Stdio::piped(),
    );
    append_exec(&log, "fs1");
    wait_for("the alert delivered while following", || {
        delivered(&sink).len() == 1
    });
    assert_eq!(delivered(&sink)[0]["rule"], "AUD001");
    let (code, stderr_text) = terminated(&mut child, "SIGTERM to end --follow");
    assert_eq!(code, Some(0), "{stderr_text}");
    assert!(
        stderr_text.contains("1 event read from 1 file"),
        "{stderr_text}"
    );
    assert_eq!(delivered(&sink).len(), 1, "delivered once");
}

/// Alerts that cannot be written end `--follow` with an error, instead of following on
/// while they go nowhere (`/dev/full` refuses every write).
#[test]
fn follow_ends_with_an_error_when_its_alerts_cannot_be_written() {
    let full = Path::new("/dev/full");
    assert!(full.exists(), "/dev/full is required");
    let dir = scratch("audit-follow-full");
    let (mut child, log) = follow_empty_log(
        &dir,
        &["-o", "json=/dev/full"],
        Stdio::null(),
        Stdio::piped(),
    );
    append_exec(&log, "ff1");
    let (code, stderr_text) = exit_of(&mut child, "--follow to stop");
    assert_ne!(code, Some(0), "{stderr_text}");
    assert!(
        stderr_text.contains("cannot write the alerts"),
        "{stderr_text}"
    );
}

/// Standard input that stays open is a stream too: its alerts reach the sinks before it ends,
/// and SIGTERM ends it while its writer stays open and silent (as a pod's stop would).
#[test]
fn standard_input_delivers_to_sinks_before_it_ends_and_ends_on_sigterm() {
    let dir = scratch("audit-stdin-sink");
    std::fs::create_dir_all(&dir).unwrap();
    let sink = dir.join("alerts.jsonl");
    let mut child = Served(
        bin()
            .args([
                "audit",
                "analyze",
                "-",
                "--store",
                dir.join("s.db").to_str().unwrap(),
                "--sink",
                &format!("file://{}", sink.display()),
            ])
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap(),
    );
    let mut input = child.0.stdin.take().unwrap();
    let exec = event(
        "si1",
        "create",
        "pods",
        "exec",
        "alice",
        "2026-12-01T10:00:00Z",
    );
    writeln!(input, "{exec}").unwrap();
    input.flush().unwrap();
    wait_for("the alert delivered while the input is open", || {
        delivered(&sink).len() == 1
    });
    let (code, stderr_text) = terminated(&mut child, "SIGTERM to end standard input");
    assert_eq!(code, Some(0), "{stderr_text}");
    assert!(stderr_text.contains("1 event read"), "{stderr_text}");
    assert_eq!(delivered(&sink).len(), 1);
    drop(input);
}

/// The store holds audit batches and alerts: made for its owner alone, and one that others
/// may read (made by an older Palisade) is named on every command that opens it.
#[cfg(unix)]
#[test]
fn a_store_others_may_read_is_named_in_a_warning() {
    use std::os::unix::fs::PermissionsExt;
    let dir = scratch("audit-store-mode");
    std::fs::create_dir_all(&dir).unwrap();
    let store = dir.join("new.db");
    let log = dir.join("audit.log");
    let get = event("m1", "get", "pods", "", "alice", "2026-12-01T10:00:00Z");
    std::fs::write(&log, get + "\n").unwrap();
    let out = bin()
        .args(["audit", "baseline", "learn", "--store"])
        .args([&store, &log])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(!stderr(&out).contains("warning"), "{}", stderr(&out));
    let mode = std::fs::metadata(&store).unwrap().permissions().mode();
    assert_eq!(mode & 0o777, 0o600, "{mode:o}");
    std::fs::set_permissions(&store, std::fs::Permissions::from_mode(0o644)).unwrap();
    let out = bin()
        .args(["audit", "baseline", "show", "--store"])
        .arg(&store)
        .output()
        .unwrap();
    assert!(
        stderr(&out).contains("can be read by others than its owner")
            && stderr(&out).contains("new.db"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn a_learned_baseline_reports_first_seen_behaviour() {
    let dir = scratch("audit-baseline");
    let store = dir.join("store.db");
    let store = store.to_str().unwrap();
    let learn = dir.join("learn.log");
    let mut text = String::new();
    for day in 1..=8 {
        text.push_str(&event(
            &format!("l{day}"),
            "get",
            "configmaps",
            "",
            "system:serviceaccount:app:web",
            &format!("2026-11-{day:02}T10:00:00Z"),
        ));
        text.push('\n');
    }
    std::fs::write(&learn, text).unwrap();
    let out = bin()
        .args([
            "audit",
            "baseline",
            "learn",
            learn.to_str().unwrap(),
            "--store",
            store,
        ])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    let shown = bin()
        .args(["audit", "baseline", "show", "--store", store, "-o", "json"])
        .output()
        .unwrap();
    let baseline: Value = serde_json::from_slice(&shown.stdout).unwrap();
    assert_eq!(
        baseline["identities"]["system:serviceaccount:app:web"]["events"],
        8
    );
    // Learned on one thread or several, the baseline is the same.
    let export = |store: &str| {
        bin()
            .args(["audit", "baseline", "export", "--store", store])
            .output()
            .unwrap()
            .stdout
    };
    for threads in ["1", "3"] {
        let other = dir.join(format!("store-{threads}.db"));
        let other = other.to_str().unwrap();
        let out = bin()
            .args(["audit", "baseline", "learn", learn.to_str().unwrap()])
            .args(["--store", other, "--threads", threads])
            .output()
            .unwrap();
        assert!(out.status.success(), "{}", stderr(&out));
        assert_eq!(export(other), export(store), "{threads} threads");
    }
    let now = dir.join("now.log");
    std::fs::write(
        &now,
        event(
            "n1",
            "list",
            "secrets",
            "",
            "system:serviceaccount:app:web",
            "2026-12-01T10:00:00Z",
        ) + "\n",
    )
    .unwrap();
    let out = bin()
        .args([
            "audit",
            "analyze",
            now.to_str().unwrap(),
            "--baseline",
            "--store",
            store,
            "-o",
            "json",
            "-o",
            &format!("ocsf={}", dir.join("alerts.ocsf").display()),
            "-o",
            &format!("ecs={}", dir.join("alerts.ecs").display()),
            "--fail-on",
            "none",
        ])
        .output()
        .unwrap();
    let alerts = lines(&out);
    let first_seen: Vec<&Value> = alerts.iter().filter(|a| a["rule"] == "AUD036").collect();
    assert_eq!(first_seen.len(), 1, "{alerts:?}");
    assert_eq!(
        first_seen[0]["evidence"]["behaviour"],
        "list secrets in app"
    );
    // The confidence is the alert's, as a number, in every format (OCSF's
    // `confidence_score` and ECS's `event.risk_score` are 0-100), and the evidence says it.
    let confidence = first_seen[0]["confidence"].as_f64().expect("a confidence");
    assert!(confidence > 0.0 && confidence <= 1.0, "{confidence}");
    assert_eq!(
        first_seen[0]["evidence"]["confidence"],
        format!("{confidence:.2}")
    );
    let of = |file: &str| -> Value {
        let text = std::fs::read_to_string(dir.join(file)).unwrap();
        text.lines()
            .map(|l| serde_json::from_str::<Value>(l).unwrap())
            .find(|a| a.to_string().contains("first-seen-behaviour"))
            .expect("the first-seen alert")
    };
    let percent = (confidence * 100.0).round();
    assert_eq!(of("alerts.ocsf")["confidence_score"], percent as i64);
    assert_eq!(of("alerts.ecs")["event"]["risk_score"], percent);
    let reset = bin()
        .args([
            "audit",
            "baseline",
            "reset",
            "--identity",
            "nobody",
            "--store",
            store,
        ])
        .output()
        .unwrap();
    assert_eq!(reset.status.code(), Some(2));
    let empty_store = dir.join("empty.db");
    let out = bin()
        .args([
            "audit",
            "analyze",
            now.to_str().unwrap(),
            "--baseline",
            "--store",
            empty_store.to_str().unwrap(),
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("holds no baseline"),
        "{}",
        stderr(&out)
    );
}

/// A plain HTTP sink that records the alerts POSTed to it (a JSON array per request).
struct HttpSink {
    received: Arc<Mutex<Vec<Value>>>,
    port: u16,
}

/// A plain HTTP/1.1 server on `listener` answering each request 200 with `respond`'s body
/// (given the request line and body).
fn serve_http(
    listener: TcpListener,
    respond: impl Fn(&str, &[u8]) -> String + Send + Sync + 'static,
) {
    let respond = Arc::new(respond);
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { continue };
            let respond = respond.clone();
            std::thread::spawn(move || {
                let mut reader = BufReader::new(stream.try_clone().unwrap());
                loop {
                    let mut request_line = String::new();
                    if reader.read_line(&mut request_line).unwrap_or(0) == 0 {
                        return;
                    }
                    let mut length = 0usize;
                    loop {
                        let mut line = String::new();
                        reader.read_line(&mut line).unwrap();
                        if line.trim().is_empty() {
                            break;
                        }
                        if let Some(v) = line.to_ascii_lowercase().strip_prefix("content-length:") {
                            length = v.trim().parse().unwrap();
                        }
                    }
                    let mut body = vec![0; length];
                    reader.read_exact(&mut body).unwrap();
                    let answer = respond(&request_line, &body);
                    write!(
                        stream,
                        "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n{answer}",
                        answer.len()
                    )
                    .unwrap();
                }
            });
        }
    });
}

/// A store at `store` holding one alert queued for `sink` (its queue identity, the URL).
fn queue_one_alert(store: &Path, sink: &str) {
    palisade_store::Store::open(store)
        .unwrap()
        .enqueue(&[(sink.to_string(), "a1".into(), "{}".into())], None)
        .unwrap();
}

/// What a sink answers reaches the terminal shown, not obeyed: a Splunk endpoint answering
/// with escape sequences (a proxy's page, a hostile server) cannot retitle the window.
#[test]
fn a_sinks_answer_is_shown_escaped() {
    let dir = scratch("audit-deliver-escaped");
    std::fs::create_dir_all(&dir).unwrap();
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    serve_http(listener, |_, _| "\u{1b}]0;pwned\u{7}\u{1b}[2K<html>".into());
    let sink = format!("splunk+http://127.0.0.1:{port}");
    let store = dir.join("s.db");
    queue_one_alert(&store, &sink);
    let out = bin()
        .args(["audit", "deliver", "--timeout", "0", "--store"])
        .arg(&store)
        .args(["--sink", &format!("{sink}?token_env=HEC_TOKEN")])
        .env("HEC_TOKEN", "t")
        .output()
        .unwrap();
    let text = stderr(&out);
    assert_eq!(out.status.code(), Some(2), "{text}");
    assert!(
        text.contains("not an HTTP Event Collector answer"),
        "{text}"
    );
    common::assert_terminal_safe(&text);
}

/// A webhook's URL is its credential (Slack's last path segment): no message names it, when
/// delivery fails, when the sink is named twice, or when its URL is wrong.
#[test]
fn a_webhooks_secret_path_is_never_printed() {
    let dir = scratch("audit-deliver-secret-path");
    std::fs::create_dir_all(&dir).unwrap();
    // A port nothing listens on: delivery fails, and says so.
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let sink = format!("slack+https://127.0.0.1:{port}/services/T0/B0/SECRETXYZ");
    let store = dir.join("s.db");
    queue_one_alert(&store, &sink);
    let deliver = |sinks: &[&str]| {
        let mut command = bin();
        command
            .args(["audit", "deliver", "--timeout", "0", "--store"])
            .arg(&store);
        for sink in sinks {
            command.args(["--sink", sink]);
        }
        command.output().unwrap()
    };
    let bad_format = format!("{sink}?format=nope");
    for sinks in [vec![sink.as_str()], vec![&sink, &sink], vec![&bad_format]] {
        let out = deliver(&sinks);
        let text = stderr(&out);
        assert_eq!(out.status.code(), Some(2), "{text}");
        assert!(text.contains("127.0.0.1"), "{text}");
        assert!(!text.contains("SECRETXYZ"), "{text}");
    }
}

impl HttpSink {
    fn start_on(listener: TcpListener) -> HttpSink {
        let port = listener.local_addr().unwrap().port();
        let received = Arc::new(Mutex::new(Vec::new()));
        let store = received.clone();
        serve_http(listener, move |_, body| {
            let alerts: Vec<Value> = serde_json::from_slice(body).unwrap();
            store.lock().unwrap().extend(alerts);
            "{}".into()
        });
        HttpSink { received, port }
    }

    fn ids(&self) -> std::collections::BTreeSet<String> {
        self.received
            .lock()
            .unwrap()
            .iter()
            .map(|a| a["id"].as_str().unwrap().to_string())
            .collect()
    }
}

/// What a request names (a user, a user agent) reaches the terminal as text: the alert line
/// and the reading problems show escape sequences and line breaks escaped, never obeyed.
#[test]
fn alerts_and_problems_show_hostile_request_values_escaped() {
    let dir = scratch("audit-terminal-safe");
    std::fs::create_dir_all(&dir).unwrap();
    let log = dir.join("audit.log");
    let mut exec: Value = serde_json::from_str(&event(
        "t1",
        "create",
        "pods",
        "exec",
        "eve\u{1b}]0;pwned\u{7}\u{1b}[2K\rINFO fine",
        "2026-12-01T10:00:00Z",
    ))
    .unwrap();
    exec["userAgent"] = json!("kubectl\u{1b}[31m\nforged line");
    // A line whose wrong type serde quotes in its message.
    let quoted = r#"{"kind":"Event","apiVersion":"audit.k8s.io/v1","verb":["\u001b[2Khidden"]}"#;
    std::fs::write(&log, format!("{exec}\n{quoted}\n")).unwrap();
    let out = bin()
        .args([
            "audit",
            "analyze",
            log.to_str().unwrap(),
            "--allow-incomplete",
        ])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout).into_owned() + &stderr(&out);
    assert!(text.contains("AUD001"), "{text}");
    common::assert_terminal_safe(&text);
    assert!(text.contains("eve\\u{1b}]0;pwned"), "{text}");
    assert_eq!(String::from_utf8_lossy(&out.stdout).lines().count(), 1);
}

/// Splunk's HTTP Event Collector with indexer acknowledgment, as far as Palisade uses it:
/// the event endpoint records the events and answers with a new ack id; the ack endpoint
/// answers "not yet" the first time an id is asked about and "indexed" after.
struct Hec {
    events: Arc<Mutex<Vec<Value>>>,
    ack_queries: Arc<Mutex<Vec<String>>>,
    port: u16,
}

impl Hec {
    fn start() -> Hec {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let hec = Hec {
            events: Arc::default(),
            ack_queries: Arc::default(),
            port,
        };
        let (events, queries) = (hec.events.clone(), hec.ack_queries.clone());
        let asked = Mutex::new(std::collections::BTreeSet::<u64>::new());
        let next_id = Mutex::new(0u64);
        serve_http(listener, move |request_line, body| {
            let body = String::from_utf8(body.to_vec()).unwrap();
            if request_line.contains("/services/collector/ack?") {
                queries.lock().unwrap().push(body.clone());
                let ids: Value = serde_json::from_str(&body).unwrap();
                let mut asked = asked.lock().unwrap();
                let acks: serde_json::Map<String, Value> = ids["acks"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|id| {
                        let id = id.as_u64().unwrap();
                        (id.to_string(), json!(!asked.insert(id)))
                    })
                    .collect();
                json!({ "acks": acks }).to_string()
            } else {
                let mut events = events.lock().unwrap();
                events.extend(
                    body.lines()
                        .map(|l| serde_json::from_str::<Value>(l).unwrap()),
                );
                let mut next = next_id.lock().unwrap();
                *next += 1;
                json!({"text": "Success", "code": 0, "ackId": *next - 1}).to_string()
            }
        });
        hec
    }
}

/// `palisade audit analyze` to Splunk with indexer acknowledgment: it waits until the
/// indexers confirm the alerts, and the events carry the time of the request that raised them.
#[test]
fn analyze_delivers_to_splunk_what_the_indexers_confirmed() {
    let dir = scratch("audit-splunk-ack");
    std::fs::create_dir_all(&dir).unwrap();
    let log = exec_log(&dir, "api");
    let hec = Hec::start();
    let out = bin()
        .args([
            "audit",
            "analyze",
            log.to_str().unwrap(),
            "--store",
            dir.join("s.db").to_str().unwrap(),
            "--sink",
            &format!(
                "splunk+http://127.0.0.1:{}?token_env=PALISADE_TEST_HEC",
                hec.port
            ),
        ])
        .env("PALISADE_TEST_HEC", "t0k3n")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("delivered 1 alerts"),
        "{}",
        stderr(&out)
    );
    let events = hec.events.lock().unwrap().clone();
    assert_eq!(events.len(), 1, "{events:?}");
    assert_eq!(events[0]["event"]["rule"], "AUD001");
    assert_eq!(events[0]["time"].as_f64(), Some(1_796_119_200.0));
    // Asked twice: "not yet", then "indexed".
    assert_eq!(
        *hec.ack_queries.lock().unwrap(),
        [r#"{"acks":[0]}"#, r#"{"acks":[0]}"#]
    );
}

/// `palisade serve audit` with a self-signed certificate; returns the child, the HTTPS port,
/// the health port and the CA.
fn serve(dir: &Path, sink: &str) -> (Served, u16, u16, Vec<u8>) {
    serve_with(dir, sink, &[])
}

/// [`serve`] with more flags.
fn serve_with(dir: &Path, sink: &str, extra: &[&str]) -> (Served, u16, u16, Vec<u8>) {
    let (child, port, health, ca, _) = serve_logged(dir, sink, extra);
    (child, port, health, ca)
}

/// [`serve_with`], also returning the thread that collects what the receiver logs.
fn serve_logged(
    dir: &Path,
    sink: &str,
    extra: &[&str],
) -> (Served, u16, u16, Vec<u8>, std::thread::JoinHandle<String>) {
    let mut command = bin();
    command.args([
        "serve",
        "audit",
        "--self-signed",
        dir.join("tls").to_str().unwrap(),
        "--listen",
        "127.0.0.1:0",
        "--health-listen",
        "127.0.0.1:0",
        "--store",
        dir.join("store.db").to_str().unwrap(),
        "--sink",
        sink,
    ]);
    command.args(extra);
    let (child, port, health, logged) = common::serve::start(command, "receiving audit events");
    let ca = std::fs::read(dir.join("tls/ca.pem")).unwrap();
    (child, port, health, ca, logged)
}

/// The receiver's Prometheus metrics, from its operations port.
fn metrics_of(health: u16) -> String {
    ureq::get(&format!("http://127.0.0.1:{health}/metrics"))
        .call()
        .unwrap()
        .body_mut()
        .read_to_string()
        .unwrap()
}

/// Real EventList batches: the Falco traces, 5 events per batch.
fn batches() -> Vec<String> {
    let mut events = Vec::new();
    let mut names: Vec<PathBuf> = std::fs::read_dir(traces())
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    names.sort();
    for path in names {
        for line in std::fs::read_to_string(path).unwrap().lines() {
            if let Ok(v) = serde_json::from_str::<Value>(line)
                && v["kind"] == "Event"
            {
                events.push(v);
            }
        }
    }
    events
        .chunks(5)
        .map(|c| {
            json!({"kind": "EventList", "apiVersion": "audit.k8s.io/v1", "items": c}).to_string()
        })
        .collect()
}

#[test]
fn the_receiver_loses_nothing_when_the_sink_is_down_and_the_process_is_killed() {
    let dir = scratch("audit-serve");
    // The sink's port is reserved but nobody listens yet: deliveries fail.
    let reserved = TcpListener::bind("127.0.0.1:0").unwrap();
    let sink_port = reserved.local_addr().unwrap().port();
    drop(reserved);
    // A path that is the sink's credential, as a webhook's is: never logged, never a label.
    let sink_url = format!("http://127.0.0.1:{sink_port}/alerts/SECRETXYZ");
    let (child, port, health, ca, logged) = serve_logged(&dir, &sink_url, &[]);
    let agent = client(&ca);
    let url = format!("https://127.0.0.1:{port}/");
    let batches = batches();
    for batch in &batches {
        let response = agent.post(&url).send(batch.as_str()).unwrap();
        assert_eq!(response.status().as_u16(), 200);
    }
    // Malformed and oversized bodies: typed errors, never a crash.
    let mut bad = agent.post(&url).send("{not json").unwrap();
    assert_eq!(bad.status().as_u16(), 400);
    assert!(
        bad.body_mut()
            .read_to_string()
            .unwrap()
            .contains("not a JSON EventList")
    );
    let huge = "x".repeat(70 << 20);
    let too_large = agent.post(&url).send(huge.as_str());
    assert!(
        too_large
            .map(|r| r.status().as_u16() == 413)
            .unwrap_or(true)
    );
    let metrics = || metrics_of(health);
    wait_for("every event analysed", || {
        metrics().contains("palisade_audit_events_analysed_total 51")
    });
    // Falco's traces log three Secrets at the Metadata level: AUD019 cannot judge them.
    assert!(
        metrics().contains("palisade_audit_not_assessed_total{rule=\"AUD019\"} 3"),
        "{}",
        metrics()
    );
    // When the stream last spoke, and how far the analysis has read: the newest time among
    // Falco's traces.
    let gauge = |name: &str| -> f64 {
        let text = metrics();
        let line = text
            .lines()
            .find(|l| l.starts_with(&format!("{name} ")))
            .unwrap_or_else(|| panic!("no {name} in {text}"));
        line.rsplit(' ').next().unwrap().parse().unwrap()
    };
    let now = palisade_deliver::now_millis() as f64 / 1e3;
    let last = gauge("palisade_audit_last_batch_timestamp_seconds");
    assert!(
        now - 600.0 < last && last <= now + 1.0,
        "{last} against {now}"
    );
    let newest = batches
        .iter()
        .flat_map(|b| {
            let list: Value = serde_json::from_str(b).unwrap();
            list["items"].as_array().unwrap().clone()
        })
        .filter_map(|e| {
            palisade_audit::Event::decode(&e.to_string())
                .ok()?
                .time_micros()
        })
        .max()
        .unwrap();
    let shown = gauge("palisade_audit_newest_event_timestamp_seconds");
    assert!(
        (shown - newest as f64 / 1e6).abs() < 1e-3,
        "{shown} against {newest}"
    );
    // A failure counted, not only the series: a round that delivered nothing and failed
    // nothing also shows it, at 0, before the failure is logged.
    wait_for("a failed delivery", || {
        metrics().lines().any(|l| {
            l.starts_with("palisade_audit_delivery_failures_total")
                && l.rsplit(' ').next().and_then(|v| v.parse::<f64>().ok()) > Some(0.0)
        })
    });
    assert!(!metrics().contains("SECRETXYZ"), "{}", metrics());
    // Killed with everything queued and nothing delivered.
    drop(child);
    let log = logged.join().unwrap();
    assert!(log.contains("delivery failed"), "{log}");
    assert!(!log.contains("SECRETXYZ"), "{log}");
    // The sink comes back, and so does Palisade on the same store.
    let sink = HttpSink::start_on(TcpListener::bind(("127.0.0.1", sink_port)).unwrap());
    let (child, _, _, _) = serve(&dir, &sink_url);
    let expected = bin()
        .args([
            "audit",
            "analyze",
            traces().to_str().unwrap(),
            "-o",
            "json",
            "--fail-on",
            "none",
        ])
        .output()
        .unwrap();
    let expected: std::collections::BTreeSet<String> = lines(&expected)
        .iter()
        .map(|a| a["id"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(expected.len(), 28);
    wait_for("every alert delivered", || sink.ids() == expected);
    assert_eq!(sink.port, sink_port);
    drop(child);
}

#[test]
fn a_batch_acknowledged_before_a_kill_is_analysed_after_the_restart() {
    let dir = scratch("audit-serve-inbox");
    let sink = HttpSink::start_on(TcpListener::bind("127.0.0.1:0").unwrap());
    let sink_url = format!("http://127.0.0.1:{}/alerts", sink.port);
    // The store's inbox holds a batch that was acknowledged but not analysed (a kill between
    // the two): written as the receiver writes it.
    std::fs::create_dir_all(&dir).unwrap();
    {
        let (child, port, _, ca) = serve(&dir, &sink_url);
        let trace = std::fs::read_to_string(traces().join("exec_pod.json")).unwrap();
        let item: Value = serde_json::from_str(trace.lines().next().unwrap()).unwrap();
        let batch = json!({"kind": "EventList", "items": [item]}).to_string();
        let response = client(&ca)
            .post(format!("https://127.0.0.1:{port}/"))
            .send(batch.as_str())
            .unwrap();
        assert_eq!(response.status().as_u16(), 200);
        drop(child);
    }
    let (child, _, _, _) = serve(&dir, &sink_url);
    wait_for("the exec alert", || !sink.ids().is_empty());
    let received = sink.received.lock().unwrap().clone();
    assert!(
        received.iter().all(|a| a["rule"] == "AUD001"),
        "{received:?}"
    );
    assert_eq!(sink.ids().len(), 1);
    drop(child);
}

/// Whether an exec into a pod is into an internet-exposed workload is the answer `rbac paths`
/// and `scan` give: palisade.toml's `[network]` places the ingress controller for the
/// enrichment too. `web` is routed through a public Gateway, and its policy admits the
/// gateway's proxies by the namespace they run in.
#[test]
fn enrichment_places_the_ingress_controller_as_palisade_toml_says() {
    let exposed = |network: &str| {
        let dir = scratch(&format!("audit-enrich-network-{}", network.len()));
        let app =
            std::fs::read_to_string(workspace().join("crates/palisade/tests/net/gateway/app.yaml"))
                .unwrap();
        std::fs::write(dir.join("app.yaml"), app).unwrap();
        std::fs::write(dir.join("palisade.toml"), network).unwrap();
        let log = exec_log(&dir, "web-7d9f8c-x2x");
        let text = std::fs::read_to_string(&log)
            .unwrap()
            .replace("\"web\"", "\"shop\"");
        std::fs::write(&log, text).unwrap();
        let out = bin()
            .current_dir(&dir)
            .args(["audit", "analyze", "exec.log", "--inventory", "app.yaml"])
            .args(["-o", "json", "--fail-on", "none"])
            .output()
            .unwrap();
        let alert = &lines(&out)[0];
        assert_eq!(
            alert["enrichment"]["workload"], "Deployment shop/web",
            "{alert:#}"
        );
        alert["enrichment"]["internet_exposed"].clone()
    };
    // Unplaced, the policy may admit the proxies: the exposure stays.
    assert_eq!(exposed(""), true);
    assert_eq!(exposed("[network]\ningress-namespace = \"infra\"\n"), true);
    assert_eq!(
        exposed("[network]\ningress-namespace = \"elsewhere-entirely\"\n"),
        false
    );
}

/// A log under `dir` of one exec by alice into pod `web/POD`.
fn exec_log(dir: &Path, pod: &str) -> PathBuf {
    let log = dir.join("exec.log");
    let mut exec: Value = serde_json::from_str(&event(
        "e1",
        "create",
        "pods",
        "exec",
        "alice",
        "2026-12-01T10:00:00Z",
    ))
    .unwrap();
    exec["objectRef"]["namespace"] = json!("web");
    exec["objectRef"]["name"] = json!(pod);
    std::fs::write(&log, exec.to_string() + "\n").unwrap();
    log
}

#[test]
fn an_exec_into_a_pod_whose_account_reaches_cluster_admin_is_critical() {
    let dir = scratch("audit-enrich");
    let log = exec_log(&dir, "web-7d9f8c-x2x");
    let plain = bin()
        .args([
            "audit",
            "analyze",
            log.to_str().unwrap(),
            "-o",
            "json",
            "--fail-on",
            "none",
        ])
        .output()
        .unwrap();
    assert_eq!(lines(&plain)[0]["severity"], "medium");
    // examples/rbac: the exposed web Deployment's account is one escalation from cluster-admin.
    let enriched = bin()
        .args([
            "audit",
            "analyze",
            log.to_str().unwrap(),
            "--inventory",
            "examples/rbac",
            "-o",
            "json",
            "--fail-on",
            "none",
        ])
        .output()
        .unwrap();
    let alert = &lines(&enriched)[0];
    assert_eq!(alert["severity"], "critical", "{alert:#}");
    let enrichment = &alert["enrichment"];
    assert_eq!(enrichment["workload"], "Deployment web/web");
    assert_eq!(enrichment["service_account"], "web/web");
    assert_eq!(enrichment["internet_exposed"], true);
    assert!(
        enrichment["permissions"][0]
            .as_str()
            .unwrap()
            .starts_with("cluster-admin: "),
        "{enrichment:#}"
    );
    assert_eq!(
        enrichment["raised_because"],
        "the pod's service account reaches cluster-admin"
    );
    let refused = bin()
        .args([
            "audit",
            "analyze",
            log.to_str().unwrap(),
            "--context",
            "prod",
        ])
        .output()
        .unwrap();
    assert_eq!(refused.status.code(), Some(2));
}

/// The context reads the cluster's admission policies as a scan does: an exec into a pod
/// whose account reaches cluster-admin only by creating a pod that owns its node is not
/// raised where the policies refuse every such pod.
#[test]
fn the_context_reads_the_admission_policies_given() {
    let dir = scratch("audit-enrich-brakes");
    let log = exec_log(&dir, "frontend-7d9f8c-x2x");
    let brakes = "crates/palisade/tests/policy/brakes";
    let analyze = |extra: &[&str]| {
        let mut command = bin();
        command.args(["audit", "analyze", log.to_str().unwrap(), "-o", "json"]);
        command.args(["--fail-on", "none"]).args(extra);
        command.output().unwrap()
    };
    let cluster = format!("{brakes}/cluster.yaml");
    let open = lines(&analyze(&["--inventory", &cluster]))[0].clone();
    assert_eq!(open["severity"], "critical", "{open:#}");
    let policies = format!("{brakes}/templates.yaml,{brakes}/constraints.yaml");
    let output = analyze(&["--inventory", &cluster, "--admission-policy", &policies]);
    let guarded = lines(&output)[0].clone();
    assert_eq!(guarded["severity"], "medium", "{guarded:#}");
    assert_eq!(guarded["enrichment"]["workload"], "Deployment web/frontend");
    // Without a context the policies have nothing to apply to.
    let refused = analyze(&["--admission-policy", &policies]);
    assert_eq!(refused.status.code(), Some(2), "{}", stderr(&refused));
}

/// The alert of `rule` that `audit analyze` raises on `event`, with context from `inventory`
/// when given.
fn alert_of(dir: &Path, event: &Value, inventory: Option<&str>, rule: &str) -> Value {
    let log = dir.join("event.log");
    std::fs::write(&log, event.to_string() + "\n").unwrap();
    let mut command = bin();
    command.args(["audit", "analyze", log.to_str().unwrap(), "-o", "json"]);
    if let Some(dir) = inventory {
        command.args(["--inventory", dir]);
    }
    let output = command.args(["--fail-on", "none"]).output().unwrap();
    lines(&output)
        .into_iter()
        .find(|a| a["rule"] == rule)
        .unwrap_or_else(|| panic!("no {rule} alert: {}", stderr(&output)))
}

#[test]
fn a_container_added_to_a_workload_whose_account_reaches_cluster_admin_is_critical() {
    let dir = scratch("audit-enrich-workload");
    let patch = json!({
        "kind": "Event", "apiVersion": "audit.k8s.io/v1", "auditID": "p1", "level": "Request",
        "stage": "ResponseComplete", "verb": "patch",
        "requestURI": "/apis/apps/v1/namespaces/web/deployments/web",
        "user": {"username": "alice"}, "sourceIPs": ["203.0.113.7"], "userAgent": "kubectl/v1.33",
        "objectRef": {"resource": "deployments", "apiGroup": "apps", "namespace": "web", "name": "web"},
        "responseStatus": {"code": 200},
        "requestReceivedTimestamp": "2026-12-01T10:00:00Z",
        "requestObject": [{"op": "add", "path": "/spec/template/spec/containers/-",
                           "value": {"name": "sidecar", "image": "attacker.example/proxy:1"}}],
    });
    let analyse = |inventory| alert_of(&dir, &patch, inventory, "AUD044");
    assert_eq!(analyse(None)["severity"], "medium");
    // examples/rbac: the exposed web Deployment's account is one escalation from cluster-admin;
    // the added container runs with it.
    let alert = analyse(Some("examples/rbac"));
    assert_eq!(alert["severity"], "critical", "{alert:#}");
    let enrichment = &alert["enrichment"];
    assert_eq!(enrichment["workload"], "Deployment web/web");
    assert_eq!(enrichment["service_account"], "web/web");
    assert_eq!(
        enrichment["raised_because"],
        "the workload's service account reaches cluster-admin"
    );
}

#[test]
fn a_subject_added_to_a_binding_whose_role_leads_to_other_identities_is_high() {
    let dir = scratch("audit-enrich-binding");
    let patch = json!({
        "kind": "Event", "apiVersion": "audit.k8s.io/v1", "auditID": "b1", "level": "Request",
        "stage": "ResponseComplete", "verb": "patch",
        "requestURI": "/apis/rbac.authorization.k8s.io/v1/namespaces/ops/rolebindings/web-deploys-ops",
        "user": {"username": "alice"}, "sourceIPs": ["203.0.113.7"], "userAgent": "kubectl/v1.33",
        "objectRef": {"resource": "rolebindings", "apiGroup": "rbac.authorization.k8s.io",
                      "namespace": "ops", "name": "web-deploys-ops"},
        "responseStatus": {"code": 200},
        "requestReceivedTimestamp": "2026-12-01T10:00:00Z",
        "requestObject": [{"op": "add", "path": "/subjects/-",
                           "value": {"kind": "User", "name": "mallory"}}],
    });
    let analyse = |inventory| alert_of(&dir, &patch, inventory, "AUD043");
    assert_eq!(analyse(None)["severity"], "medium");
    // examples/rbac: the binding's Role creates Deployments in ops, where a pod may run as
    // the backup account, which is cluster-admin.
    let alert = analyse(Some("examples/rbac"));
    assert_eq!(alert["severity"], "high", "{alert:#}");
    let enrichment = &alert["enrichment"];
    assert!(
        !enrichment["grants"].as_array().unwrap().is_empty(),
        "{enrichment:#}"
    );
    assert_eq!(
        enrichment["raised_because"],
        "the binding's role leads to the cluster, another identity or a node"
    );
}

#[test]
fn a_rotated_certificate_is_served_without_dropping_requests() {
    let dir = scratch("audit-rotate");
    let rotation = Rotation::new(&dir);
    let mut command = bin();
    command
        .args(["serve", "audit", "--cert"])
        .arg(&rotation.live_cert)
        .arg("--key")
        .arg(&rotation.live_key)
        .args([
            "--listen",
            "127.0.0.1:0",
            "--health-listen",
            "127.0.0.1:0",
            "--store",
        ])
        .arg(dir.join("store.db"));
    let (child, port, _, _rest) = common::serve::start(command, "receiving audit events");
    let url = format!("https://127.0.0.1:{port}/");
    let batch = json!({"kind": "EventList", "items": []}).to_string();
    rotation.rotate_under_load(move |agent| match agent.post(&url).send(batch.as_str()) {
        Ok(r) if r.status().as_u16() == 200 => Ok(()),
        Ok(r) => Err(format!("HTTP {}", r.status())),
        Err(e) => Err(e.to_string()),
    });
    drop(child);
}

/// Persistent storage from the CLI: a volume on the node's directory created, a volume
/// re-bound, released or set to destroy its data, and claims, volumes and snapshots deleted,
/// as the detections' own failing fixtures log them; the gate fails on the high ones.
#[test]
fn persistent_storage_is_watched_from_the_cli() {
    let dir = scratch("audit-storage");
    let fixtures = workspace().join("crates/palisade-audit/tests/fixtures");
    let mut log = String::new();
    for id in ["AUD045", "AUD046", "AUD047"] {
        let text = std::fs::read_to_string(fixtures.join(id).join("fail.jsonl")).unwrap();
        for line in text.lines().filter(|l| !l.starts_with('#')) {
            log.push_str(line);
            log.push('\n');
        }
    }
    let file = dir.join("storage.log");
    std::fs::write(&file, log).unwrap();
    let output = bin()
        .args(["audit", "analyze", "--no-config", "-o", "json"])
        .arg(&file)
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
    let alerts = lines(&output);
    let count = |rule: &str, severity: &str| {
        alerts
            .iter()
            .filter(|a| a["rule"] == rule && a["severity"] == severity)
            .count()
    };
    let counts = [
        count("AUD045", "high"),
        count("AUD045", "medium"),
        count("AUD046", "high"),
        count("AUD046", "medium"),
        count("AUD047", "high"),
        count("AUD047", "medium"),
    ];
    assert_eq!(counts, [4, 1, 3, 6, 1, 4], "{alerts:#?}");
    let rebound = alerts
        .iter()
        .find(|a| a["rule"] == "AUD046" && a["evidence"]["claim"] == "attacker/loot")
        .expect("a re-bound volume names its new claim");
    assert_eq!(rebound["mitre_attack"], json!(["T1530", "T1485"]));
}

/// With an inventory, an alert about a claim names the workloads that mount it: those that
/// now read a re-bound volume's data, and the StatefulSet whose pod loses its claim.
#[test]
fn storage_alerts_name_the_workloads_that_mount_the_claim() {
    let dir = scratch("audit-enrich-storage");
    let inventory = dir.join("cluster");
    std::fs::create_dir_all(&inventory).unwrap();
    std::fs::write(
        inventory.join("shop.yaml"),
        "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: reports, namespace: attacker}\nspec:\n  selector: {matchLabels: {app: reports}}\n  template:\n    metadata: {labels: {app: reports}}\n    spec:\n      containers: [{name: c, image: 'registry.example.com/reports:1'}]\n      volumes: [{name: d, persistentVolumeClaim: {claimName: loot}}]\n---\n\
apiVersion: apps/v1\nkind: StatefulSet\nmetadata: {name: db, namespace: shop}\nspec:\n  selector: {matchLabels: {app: db}}\n  serviceName: db\n  template:\n    metadata: {labels: {app: db}}\n    spec:\n      containers: [{name: pg, image: 'registry.example.com/postgres:16'}]\n  volumeClaimTemplates: [{metadata: {name: data}, spec: {accessModes: [ReadWriteOnce], resources: {requests: {storage: 1Gi}}}}]\n",
    )
    .unwrap();
    let inventory = inventory.to_str().unwrap();
    let event = |verb: &str, resource: &str, path: &str, namespace: Option<&str>, name: &str| {
        let mut object = json!({"resource": resource, "name": name});
        if let Some(namespace) = namespace {
            object["namespace"] = json!(namespace);
        }
        json!({
            "kind": "Event", "apiVersion": "audit.k8s.io/v1", "auditID": format!("{verb}-{name}"),
            "level": "Request", "stage": "ResponseComplete", "verb": verb, "requestURI": path,
            "user": {"username": "alice"}, "sourceIPs": ["203.0.113.7"], "objectRef": object,
            "responseStatus": {"code": 200}, "requestReceivedTimestamp": "2026-12-01T10:00:00Z",
        })
    };
    let mut rebind = event(
        "patch",
        "persistentvolumes",
        "/api/v1/persistentvolumes/pg-data",
        None,
        "pg-data",
    );
    rebind["requestObject"] =
        json!({"spec": {"claimRef": {"namespace": "attacker", "name": "loot"}}});
    let alert = alert_of(&dir, &rebind, Some(inventory), "AUD046");
    assert_eq!(
        alert["enrichment"]["mounted_by"],
        json!(["Deployment attacker/reports"]),
        "{alert:#}"
    );
    let delete = event(
        "delete",
        "persistentvolumeclaims",
        "/api/v1/namespaces/shop/persistentvolumeclaims/data-db-0",
        Some("shop"),
        "data-db-0",
    );
    let alert = alert_of(&dir, &delete, Some(inventory), "AUD047");
    assert_eq!(
        alert["enrichment"]["mounted_by"],
        json!(["StatefulSet shop/db"]),
        "{alert:#}"
    );
    // Another StatefulSet's claim, whose name only starts alike, is not the db's.
    let other = event(
        "delete",
        "persistentvolumeclaims",
        "/api/v1/namespaces/shop/persistentvolumeclaims/data-db-backup",
        Some("shop"),
        "data-db-backup",
    );
    let alert = alert_of(&dir, &other, Some(inventory), "AUD047");
    assert!(alert["enrichment"]["mounted_by"].is_null(), "{alert:#}");
}

/// `palisade audit analyze LOG -o json` with `extra` arguments, without a configuration file.
fn analyze_json(log: &Path, extra: &[&str]) -> std::process::Output {
    bin()
        .args(["audit", "analyze", "--no-config", "-o", "json"])
        .arg(log)
        .args(extra)
        .output()
        .unwrap()
}

/// A pod created and logged without its object: the pod detections say they could not judge
/// it, the run is incomplete (exit 2), and the user can accept it or skip them.
#[test]
fn requests_logged_below_what_a_detection_reads_make_the_run_incomplete() {
    let dir = scratch("audit-not-assessed");
    let log = dir.join("metadata.log");
    std::fs::write(
        &log,
        event("1", "create", "pods", "", "alice", "2026-12-01T10:00:00Z") + "\n",
    )
    .unwrap();
    let run = |extra: &[&str]| analyze_json(&log, extra);
    let blind = run(&[]);
    assert_eq!(blind.status.code(), Some(2), "{}", stderr(&blind));
    let err = stderr(&blind);
    assert!(
        err.contains(
            "not assessed: AUD004 privileged-pod-created could not judge 1 request \
             (1 create pods) logged at Metadata: it reads Request"
        ),
        "{err}"
    );
    assert!(err.contains("--skip-rules AUD004,AUD005,"), "{err}");
    assert_eq!(run(&["--allow-incomplete"]).status.code(), Some(0));
    let pod_rules = "AUD004,AUD005,AUD006,AUD007,AUD008,AUD009,AUD041,AUD042";
    let skipped = run(&["--skip-rules", pod_rules]);
    assert_eq!(skipped.status.code(), Some(0), "{}", stderr(&skipped));
    assert!(!stderr(&skipped).contains("not assessed"));
}

/// A controller's pods logged at `Request`, then the same requests at `Metadata`: the run
/// raises AUD048 naming the detections now blind, and is incomplete; a pod the audit backend
/// truncated is said to be, and is not a lowering.
#[test]
fn a_lowered_audit_level_is_an_alert_and_a_truncated_event_is_said() {
    let dir = scratch("audit-level-lowered");
    let log = dir.join("audit.log");
    let pod = |id: &str, level: &str, time: &str| {
        let mut e: Value = serde_json::from_str(&event(
            id,
            "create",
            "pods",
            "",
            "system:serviceaccount:kube-system:replicaset-controller",
            time,
        ))
        .unwrap();
        e["level"] = json!(level);
        if level == "Request" {
            e["requestObject"] = json!({"apiVersion": "v1", "kind": "Pod",
                "metadata": {"generateName": "web-", "namespace": "app"},
                "spec": {"containers": [{"name": "web", "image": "web:1"}]}});
        }
        e
    };
    let mut truncated = pod("3", "Request", "2026-12-01T10:02:00Z");
    truncated["annotations"] = json!({"audit.k8s.io/truncated": "true"});
    truncated.as_object_mut().unwrap().remove("requestObject");
    let events = [
        pod("1", "Request", "2026-12-01T10:00:00Z"),
        pod("2", "Metadata", "2026-12-01T10:01:00Z"),
        truncated,
    ];
    let text: Vec<String> = events.iter().map(Value::to_string).collect();
    std::fs::write(&log, text.join("\n") + "\n").unwrap();
    let run = |extra: &[&str]| analyze_json(&log, extra);
    let blind = run(&[]);
    assert_eq!(blind.status.code(), Some(2), "{}", stderr(&blind));
    let err = stderr(&blind);
    assert!(
        err.contains(
            "AUD004 privileged-pod-created could not judge 2 requests (2 create pods) logged at \
             Metadata: it reads Request; the audit backend truncated 1 of them"
        ),
        "{err}"
    );
    // A medium alert: below the default gate (high).
    let accepted = run(&["--allow-incomplete"]);
    assert_eq!(accepted.status.code(), Some(0), "{}", stderr(&accepted));
    let lowered: Vec<Value> = lines(&accepted)
        .into_iter()
        .filter(|a| a["rule"] == "AUD048")
        .collect();
    assert_eq!(lowered.len(), 1, "{lowered:#?}");
    let alert = &lowered[0];
    assert_eq!(alert["request"]["audit_id"], "2", "{alert:#}");
    assert_eq!(alert["evidence"]["logged_before"], "Request", "{alert:#}");
    assert_eq!(alert["evidence"]["logged_now"], "Metadata", "{alert:#}");
    // The policy changed between the two requests.
    assert_eq!(
        alert["evidence"]["logged_before_last_at"], "2026-12-01T10:00:00Z",
        "{alert:#}"
    );
    assert!(
        alert["evidence"]["detections"]
            .as_str()
            .is_some_and(|d| d.starts_with("AUD004 privileged-pod-created, AUD005")),
        "{alert:#}"
    );
}

fn coverage(policy: &Path, extra: &[&str]) -> std::process::Output {
    bin()
        .args(["audit", "coverage", "--no-config", "--policy"])
        .arg(policy)
        .args(extra)
        .output()
        .unwrap()
}

/// The bundled policy covers every detection but AUD019, which reads Secrets' bodies: the
/// policy keeps those out of the log on purpose.
#[test]
fn coverage_of_the_bundled_policy_names_the_one_detection_it_blinds() {
    let policy = workspace().join("examples/audit/policy.yaml");
    let out = coverage(&policy, &[]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let text = String::from_utf8_lossy(&out.stdout);
    let blind: Vec<&str> = text.lines().filter(|l| !l.contains(" covered")).collect();
    assert_eq!(blind.len(), 2, "{text}");
    assert!(
        blind[1].starts_with("AUD019 token-secret-created"),
        "{text}"
    );
    assert!(
        blind[1].ends_with("blind    create secrets: logged at Metadata (rule 3, line 28)"),
        "{text}"
    );
    assert!(!stderr(&out).contains("warning"), "{}", stderr(&out));
    let accepted = coverage(&policy, &["--skip-rules", "AUD019"]);
    assert_eq!(accepted.status.code(), Some(0), "{}", stderr(&accepted));
    assert!(stderr(&accepted).contains("47 of 47 detections covered"));
}

/// `--suggest` prints the policy with the rules that let the detections see what they read
/// put first, comments kept; the result covers every detection but AUD019 (Secret values),
/// which the command names, and suggesting again adds nothing.
#[test]
fn coverage_suggests_the_rules_that_cover_the_detections() {
    let dir = scratch("audit-coverage-suggest");
    let policy = dir.join("policy.yaml");
    let text = "apiVersion: audit.k8s.io/v1\nkind: Policy\nomitStages: [\"RequestReceived\"]\nrules:\n  # Nodes are too chatty.\n  - level: None\n    userGroups: [\"system:nodes\"]\n  - level: Metadata\n";
    std::fs::write(&policy, text).unwrap();
    let out = coverage(&policy, &["--suggest"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let patched = String::from_utf8(out.stdout.clone()).unwrap();
    assert!(patched.ends_with("  # Nodes are too chatty.\n  - level: None\n    userGroups: [\"system:nodes\"]\n  - level: Metadata\n"), "{patched}");
    assert!(
        patched.contains(
            "# Added by `palisade audit coverage --suggest`: for AUD004 privileged-pod-created"
        ),
        "{patched}"
    );
    let err = stderr(&out);
    assert!(err.contains("not suggested: AUD019: it reads `create secrets` at Request, which writes credentials into the log"), "{err}");
    assert!(
        err.contains("not suggested: AUD036: it looks at every request"),
        "{err}"
    );
    let fixed = dir.join("fixed.yaml");
    std::fs::write(&fixed, &patched).unwrap();
    let json = coverage(&fixed, &["-o", "json"]);
    let report: Value = serde_json::from_slice(&json.stdout).unwrap();
    let short: Vec<&str> = report["detections"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|d| d["verdict"] != "covered")
        .map(|d| d["id"].as_str().unwrap())
        .collect();
    // AUD019, and the detections of every request, which the nodes' `None` rule hides.
    assert!(
        short.contains(&"AUD019")
            && short.iter().all(|id| *id == "AUD019"
                || [
                    "AUD020", "AUD021", "AUD022", "AUD028", "AUD036", "AUD037", "AUD039", "AUD048",
                    "AUD049", "AUD052"
                ]
                .contains(id)),
        "{short:?}"
    );
    assert!(report["leaks"].as_array().unwrap().is_empty());
    let again = coverage(&fixed, &["--suggest", "-o", "json"]);
    let suggestion: Value = serde_json::from_slice(&again.stdout).unwrap();
    assert_eq!(suggestion["rules"], json!([]), "{suggestion:#}");
    assert!(stderr(&again).contains("nothing to add"));
}

/// A policy of a common shape: core resources at Request, Secrets and ConfigMaps at Metadata
/// (except ConfigMaps in kube-system), nodes unlogged, everything else at Metadata, and
/// Secret values logged for administrators.
#[test]
fn coverage_finds_blind_detections_the_rules_that_blind_them_and_leaks() {
    let dir = scratch("audit-coverage");
    let policy = dir.join("policy.yaml");
    std::fs::write(
        &policy,
        r#"apiVersion: audit.k8s.io/v1
kind: Policy
omitStages: ["RequestReceived"]
rules:
  - level: RequestResponse
    userGroups: ["system:masters"]
    resources:
      - group: ""
        resources: ["secrets"]
  - level: None
    userGroups: ["system:nodes"]
  - level: Request
    namespaces: ["kube-system"]
    resources:
      - group: ""
        resources: ["configmaps"]
  - level: Metadata
    resources:
      - group: ""
        resources: ["secrets", "configmaps"]
  - level: Request
    resources:
      - group: ""
  - level: Metadata
"#,
    )
    .unwrap();
    let out = coverage(&policy, &["-o", "json"]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    let of = |id: &str| {
        report["detections"]
            .as_array()
            .unwrap()
            .iter()
            .find(|d| d["id"] == id)
            .cloned()
            .unwrap()
    };
    // Bindings fall to the last rule.
    let bound = of("AUD011");
    assert_eq!(bound["verdict"], "blind");
    assert_eq!(bound["gaps"][0]["rule"], 6);
    assert_eq!(bound["gaps"][0]["line"], 24);
    // ConfigMaps are read in kube-system only.
    let configmaps = of("AUD024");
    assert_eq!(configmaps["verdict"], "blind");
    assert_eq!(configmaps["gaps"][0]["logged_at"], "Metadata");
    // Pods are logged at Request, except those nodes create (mirror pods), not logged.
    let privileged = of("AUD004");
    assert_eq!(privileged["verdict"], "partly");
    assert_eq!(privileged["gaps"][0]["only"], "by groups system:nodes");
    assert_eq!(privileged["gaps"][0]["logged_at"], "None");
    assert_eq!(of("AUD001")["verdict"], "partly");
    // Secret values reach the log for administrators.
    let leaks = report["leaks"].as_array().unwrap();
    assert!(
        leaks.iter().any(|l| l["request"] == "get secrets"
            && l["only"] == "by groups system:masters"
            && l["rule"] == 1),
        "{leaks:?}"
    );
    assert!(
        stderr(&out).contains(
            "warning: the policy writes Secret values into the audit log: \
             create secrets by groups system:masters logged at RequestResponse (rule 1, line 5)"
        ),
        "{}",
        stderr(&out)
    );
}

/// A misspelt field would make a rule match every request: it is an error naming the rule
/// and its line, as is a file that is not a policy.
#[test]
fn a_policy_that_cannot_be_read_is_an_error_naming_the_rule() {
    let dir = scratch("audit-coverage-bad");
    let typo = dir.join("typo.yaml");
    std::fs::write(
        &typo,
        "apiVersion: audit.k8s.io/v1\nkind: Policy\nrules:\n  - level: Metadata\n  - level: None\n    resource:\n      - group: \"\"\n",
    )
    .unwrap();
    let out = coverage(&typo, &[]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("rule 2 (line 5): unknown field `resource`"),
        "{}",
        stderr(&out)
    );
    let other = dir.join("configmap.yaml");
    std::fs::write(&other, "apiVersion: v1\nkind: ConfigMap\n").unwrap();
    let out = coverage(&other, &[]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("not an audit policy"),
        "{}",
        stderr(&out)
    );
    let out = coverage(&dir.join("missing.yaml"), &[]);
    assert_eq!(out.status.code(), Some(2));
    let out = coverage(&typo, &["--rules", "AUD999"]);
    assert_ne!(out.status.code(), Some(0));
    assert!(stderr(&out).contains("unknown detection `AUD999`"));
}

/// The catalogue: every detection listed, one's documentation with the requests it looks at
/// and the audit level it reads them at, and an unknown name refused.
#[test]
fn audit_rules_lists_the_detections_and_what_each_reads() {
    let list = bin().args(["audit", "rules"]).output().unwrap();
    assert_eq!(list.status.code(), Some(0));
    let text = String::from_utf8_lossy(&list.stdout);
    assert_eq!(
        text.lines().filter(|l| l.starts_with("AUD")).count(),
        palisade_audit::registry::DETECTIONS.len(),
        "{text}"
    );
    let one = bin()
        .args(["audit", "rules", "privileged-pod-created"])
        .output()
        .unwrap();
    assert_eq!(one.status.code(), Some(0));
    let text = String::from_utf8_lossy(&one.stdout);
    assert!(text.starts_with("AUD004 "), "{text}");
    assert!(
        text.contains("Looks at: `create` `pods`, logged at `Request`."),
        "{text}"
    );
    assert!(text.contains("## Why it matters"), "{text}");
    let unknown = bin().args(["audit", "rules", "AUD999"]).output().unwrap();
    assert_ne!(unknown.status.code(), Some(0));
    assert!(stderr(&unknown).contains("unknown detection `AUD999`"));
}

/// An audit policy kept beside the manifests is judged by `palisade scan` as by `audit
/// coverage`: the bundled one passes, one logging every body is a high finding (Secret
/// values in the log) and blinds no detection.
#[test]
fn scan_judges_an_audit_policy_with_the_coverage_rules() {
    let bundled = bin()
        .args(["scan", "--no-config", "-o", "json"])
        .arg(workspace().join("examples/audit/policy.yaml"))
        .output()
        .unwrap();
    assert_eq!(bundled.status.code(), Some(0), "{}", stderr(&bundled));
    let dir = scratch("scan-audit-policy");
    let careless = dir.join("policy.yaml");
    std::fs::write(
        &careless,
        "apiVersion: audit.k8s.io/v1\nkind: Policy\nrules:\n  - level: RequestResponse\n",
    )
    .unwrap();
    let out = bin()
        .args(["scan", "--no-config", "-o", "json"])
        .arg(&careless)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    let findings = report["findings"].as_array().unwrap();
    let rules: Vec<&str> = findings
        .iter()
        .map(|f| {
            f["rule"]["id"]
                .as_str()
                .or(f["rule"].as_str())
                .unwrap_or("")
        })
        .collect();
    assert_eq!(rules, ["LOG001"], "{findings:?}");
    let message = findings[0]["message"].as_str().unwrap();
    assert!(
        message.starts_with(
            "rule 1 logs secrets (create, update, get, list), serviceaccounts/token (create) \
             and tokenreviews (create) at RequestResponse: the audit log holds Secret values"
        ),
        "{message}"
    );
}

/// Threat intelligence, from a STIX bundle named in the configuration (relative to it) and a
/// list given with `--threat-intel`: a request from an address the bundle names, through a
/// forged `X-Forwarded-For`, and a pod running an image the list names are reported with the
/// indicator; an entry not read is warned about with its line; a file that cannot be read,
/// or that holds nothing to match, stops the run before anything is analysed (exit 2).
#[test]
fn threat_intelligence_names_the_requests_and_images_it_lists() {
    let dir = scratch("audit-threat-intel");
    std::fs::create_dir_all(dir.join("intel")).unwrap();
    std::fs::write(
        dir.join("intel/feed.json"),
        json!({"type": "bundle", "id": "bundle--1", "objects": [
            {"type": "indicator", "spec_version": "2.1", "id": "indicator--c2",
             "name": "C2 server", "pattern_type": "stix", "valid_from": "2026-01-01T00:00:00Z",
             "pattern": "[ipv4-addr:value = '198.51.100.7']", "confidence": 90},
        ]})
        .to_string(),
    )
    .unwrap();
    std::fs::write(
        dir.join("palisade.toml"),
        "[audit]\nthreat_intel = [\"intel/feed.json\"]\n",
    )
    .unwrap();
    let list = dir.join("miners.txt");
    std::fs::write(&list, "# miners\nimage: xmrig/xmrig\nnot an indicator\n").unwrap();
    let mut from_c2: Value = serde_json::from_str(&event(
        "t-1",
        "list",
        "secrets",
        "",
        "alice",
        "2026-12-01T10:00:00Z",
    ))
    .unwrap();
    from_c2["sourceIPs"] = json!(["10.244.1.5", "198.51.100.7"]);
    let miner = json!({
        "kind": "Event", "apiVersion": "audit.k8s.io/v1", "level": "Request", "auditID": "t-2",
        "stage": "ResponseComplete", "verb": "create", "requestURI": "/api/v1/namespaces/app/pods",
        "user": {"username": "bob"}, "sourceIPs": ["10.0.0.9"],
        "objectRef": {"resource": "pods", "namespace": "app", "apiVersion": "v1"},
        "responseStatus": {"code": 201}, "requestReceivedTimestamp": "2026-12-01T10:01:00Z",
        "requestObject": {"kind": "Pod", "metadata": {"name": "m"},
            "spec": {"containers": [{"name": "m", "image": "xmrig/xmrig:6.21"}]}},
    });
    let log = dir.join("audit.log");
    std::fs::write(&log, format!("{from_c2}\n{miner}\n")).unwrap();
    let config = dir.join("palisade.toml");
    let run = |extra: &[&str]| {
        bin()
            .args(["audit", "analyze", log.to_str().unwrap(), "-o", "json"])
            .args(["--config", config.to_str().unwrap(), "--fail-on", "none"])
            .args(extra)
            .output()
            .unwrap()
    };
    let out = run(&["--threat-intel", list.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let err = stderr(&out);
    assert!(
        err.contains("miners.txt:3: `not an indicator` is not one address"),
        "{err}"
    );
    assert!(
        err.contains("threat intelligence: 2 values to match (1 address, 1 image)"),
        "{err}"
    );
    let alerts = lines(&out);
    let c2 = alerts
        .iter()
        .find(|a| a["rule"] == "AUD050")
        .expect("AUD050");
    assert_eq!(c2["severity"], "high", "{c2}");
    assert_eq!(c2["evidence"]["indicator_id"], "indicator--c2");
    assert_eq!(c2["evidence"]["indicator_source"], "intel/feed.json");
    assert_eq!(c2["evidence"]["matched"], "address 198.51.100.7");
    assert_eq!(c2["evidence"]["indicator_confidence"], "90");
    let image = alerts
        .iter()
        .find(|a| a["rule"] == "AUD051")
        .expect("AUD051");
    assert_eq!(image["evidence"]["images"], "xmrig/xmrig:6.21");
    assert!(
        image["evidence"]["indicator_id"]
            .as_str()
            .unwrap()
            .ends_with("miners.txt:2"),
        "{image}"
    );

    // ECS carries the match as Elastic's indicator match rules write it.
    let ecs = bin()
        .args(["audit", "analyze", log.to_str().unwrap(), "-o", "ecs"])
        .args(["--config", config.to_str().unwrap(), "--fail-on", "none"])
        .args(["--threat-intel", list.to_str().unwrap()])
        .output()
        .unwrap();
    let docs = lines(&ecs);
    let c2 = docs
        .iter()
        .find(|d| d["rule"]["id"] == "AUD050")
        .expect("AUD050");
    let enrichment = &c2["threat"]["enrichments"][0];
    assert_eq!(
        enrichment["matched"],
        json!({"atomic": "198.51.100.7", "field": "source.ip", "id": "indicator--c2",
               "type": "indicator_match_rule"})
    );
    assert_eq!(
        enrichment["indicator"],
        json!({"type": "ipv4-addr", "provider": "intel/feed.json", "confidence": "High",
               "description": "C2 server", "ip": "198.51.100.7"})
    );
    assert_eq!(c2["source"]["ip"], "198.51.100.7");
    let image = docs
        .iter()
        .find(|d| d["rule"]["id"] == "AUD051")
        .expect("AUD051");
    assert_eq!(image["container"]["image"]["name"], "xmrig/xmrig:6.21");
    assert_eq!(
        image["threat"]["enrichments"][0]["indicator"]["type"],
        "artifact"
    );
    assert_eq!(
        image["threat"]["enrichments"][0]["matched"]["field"],
        "container.image.name"
    );

    // Without intelligence, neither detection runs.
    let none = bin()
        .args([
            "audit",
            "analyze",
            log.to_str().unwrap(),
            "-o",
            "json",
            "--no-config",
        ])
        .output()
        .unwrap();
    assert!(
        lines(&none)
            .iter()
            .all(|a| a["rule"] != "AUD050" && a["rule"] != "AUD051")
    );

    let missing = run(&["--threat-intel", dir.join("absent.txt").to_str().unwrap()]);
    assert_eq!(missing.status.code(), Some(2), "{}", stderr(&missing));
    assert!(
        stderr(&missing).contains("cannot read"),
        "{}",
        stderr(&missing)
    );
    assert!(lines(&missing).is_empty());
    let junk = dir.join("junk.txt");
    std::fs::write(&junk, "nothing here\n").unwrap();
    let nothing = bin()
        .args(["audit", "analyze", log.to_str().unwrap(), "--no-config"])
        .args(["--threat-intel", junk.to_str().unwrap()])
        .output()
        .unwrap();
    assert_eq!(nothing.status.code(), Some(2), "{}", stderr(&nothing));
    assert!(
        stderr(&nothing).contains("no indicator that an audit event can match"),
        "{}",
        stderr(&nothing)
    );
}

/// The receiver reads a threat-intelligence feed again when its download job replaces it: a
/// request from an address the first feed does not name raises nothing; once the feed names
/// it, the next request from it is reported to the sink. A replacement that holds nothing
/// usable (an error page) keeps the indicators read before, and is counted.
#[test]
fn the_receiver_reads_a_replaced_feed_again_and_keeps_it_when_a_replacement_is_broken() {
    let dir = scratch("audit-serve-intel");
    let sink = HttpSink::start_on(TcpListener::bind("127.0.0.1:0").unwrap());
    let sink_url = format!("http://127.0.0.1:{}/alerts", sink.port);
    std::fs::create_dir_all(&dir).unwrap();
    let feed = dir.join("feed.txt");
    std::fs::write(&feed, "203.0.113.0/24\n").unwrap();
    let (child, port, health, ca) = serve_with(
        &dir,
        &sink_url,
        &[
            "--threat-intel",
            feed.to_str().unwrap(),
            "--threat-intel-refresh",
            "1",
        ],
    );
    let agent = client(&ca);
    let post = |id: &str, user: &str| {
        let mut item: Value =
            serde_json::from_str(&event(id, "get", "pods", "", user, "2026-12-01T10:00:00Z"))
                .unwrap();
        item["sourceIPs"] = json!(["198.51.100.7"]);
        let batch = json!({"kind": "EventList", "items": [item]}).to_string();
        let response = agent
            .post(format!("https://127.0.0.1:{port}/"))
            .send(batch.as_str())
            .unwrap();
        assert_eq!(response.status().as_u16(), 200);
    };
    let metrics = || metrics_of(health);
    assert!(
        metrics().contains("palisade_audit_threat_intel_values 1\n"),
        "{}",
        metrics()
    );
    post("intel-1", "alice");
    wait_for("the first event analysed", || {
        metrics().contains("palisade_audit_events_analysed_total 1\n")
    });
    let reported = || {
        sink.received
            .lock()
            .unwrap()
            .iter()
            .filter(|a| a["rule"] == "AUD050")
            .count()
    };
    assert_eq!(reported(), 0);

    // The download job replaces the feed: it now names the address.
    std::fs::write(&feed, "203.0.113.0/24\n198.51.100.7 ; C2\n").unwrap();
    wait_for("the feed read again", || {
        metrics().contains("palisade_audit_threat_intel_values 2\n")
    });
    post("intel-2", "alice");
    wait_for("the address reported", || reported() == 1);

    // A broken download: the indicators read before stay.
    std::fs::write(&feed, "<html>rate limited</html>\n").unwrap();
    wait_for("the broken feed counted", || {
        metrics().contains("palisade_audit_threat_intel_reload_failures_total 1\n")
    });
    assert!(metrics().contains("palisade_audit_threat_intel_values 2\n"));
    post("intel-3", "bob");
    wait_for("the address still reported", || reported() == 2);
    drop(child);
}

/// A sink URL that may be a credential (its label hides part of it) typed on the command line
/// is visible to every user of the machine: the command says so, naming it by its label, and
/// says nothing when the sinks come from PALISADE_AUDIT_SINKS or show nothing secret.
#[test]
fn a_credential_sink_on_the_command_line_is_warned_of() {
    let dir = scratch("typed-sink");
    let secret = "https://hooks.example.com/T0/SECRETXYZ";
    let stderr = |sinks: &[&str], env: Option<&str>| {
        let mut command = bin();
        command
            .args(["audit", "deliver", "--timeout", "1", "--store"])
            .arg(dir.join("palisade.db"))
            .env_remove("PALISADE_AUDIT_SINKS");
        for sink in sinks {
            command.args(["--sink", sink]);
        }
        if let Some(env) = env {
            command.env("PALISADE_AUDIT_SINKS", env);
        }
        let output = command.output().unwrap();
        let text = String::from_utf8_lossy(&output.stderr).into_owned();
        assert!(!text.contains("SECRETXYZ"), "{text}");
        text
    };
    let typed = stderr(&[secret], None);
    assert!(
        typed.contains("warning: --sink https://hooks.example.com/… [")
            && typed.contains("PALISADE_AUDIT_SINKS instead"),
        "{typed}"
    );
    assert_eq!(
        typed.matches("is on the command line").count(),
        1,
        "{typed}"
    );
    for quiet in [
        stderr(&[], Some(secret)),
        stderr(
            &["file:///tmp/alerts.jsonl", "https://siem.example.com/"],
            None,
        ),
    ] {
        assert!(!quiet.contains("command line"), "{quiet}");
    }
}

/// An exec into a Pod KubeRay made is enriched with the template the Pod runs, found through
/// the inventory (not guessed from the Pod's name, which a RayCluster's head and workers
/// share): the worker group, whose account is cluster-admin; a Pod made privileged by hand
/// is its own workload.
#[test]
fn an_exec_into_a_ray_pod_names_the_template_it_runs() {
    let dir = scratch("audit-ray-exec");
    let exec = |id: &str, pod: &str| {
        json!({
            "kind": "Event", "apiVersion": "audit.k8s.io/v1", "auditID": id,
            "stage": "ResponseStarted", "verb": "create",
            "requestURI": format!("/api/v1/namespaces/ml/pods/{pod}/exec?command=sh&stdin=true&tty=true"),
            "user": {"username": "alice"}, "sourceIPs": ["10.0.0.9"], "userAgent": "kubectl/v1.33",
            "objectRef": {"resource": "pods", "subresource": "exec", "namespace": "ml", "name": pod, "apiVersion": "v1"},
            "responseStatus": {"code": 101},
            "requestReceivedTimestamp": "2026-12-01T10:00:00.000000Z",
        })
        .to_string()
    };
    let log = [
        exec("e-1", "ray-gpu-worker-x1"),
        exec("e-2", "ray-head-abcde"),
        exec("e-3", "ray-gpu-worker-x2"),
    ];
    common::write_file(&dir, "audit.log", &(log.join("\n") + "\n"));
    let inventory = workspace().join("crates/palisade/tests/rbac/ray-cluster-read.yaml");
    let out = bin()
        .args(["audit", "analyze", dir.join("audit.log").to_str().unwrap()])
        .args(["--rules", "AUD001", "-o", "json", "--inventory"])
        .arg(&inventory)
        .output()
        .unwrap();
    let alerts = lines(&out);
    let workload = |pod: &str| {
        alerts
            .iter()
            .find(|a| a["request"]["name"] == pod)
            .unwrap_or_else(|| panic!("an alert on {pod}: {}", stderr(&out)))["enrichment"]
            ["workload"]
            .clone()
    };
    assert_eq!(
        workload("ray-gpu-worker-x1"),
        "RayCluster ml/ray (spec.workerGroupSpecs.0.template)"
    );
    assert_eq!(
        workload("ray-head-abcde"),
        "RayCluster ml/ray (spec.headGroupSpec.template)"
    );
    assert_eq!(workload("ray-gpu-worker-x2"), "Pod ml/ray-gpu-worker-x2");
    let worker = alerts
        .iter()
        .find(|a| a["request"]["name"] == "ray-gpu-worker-x1")
        .unwrap();
    assert_eq!(worker["severity"], "critical", "{worker}");
}
