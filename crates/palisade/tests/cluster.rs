//! `scan --cluster`, `snapshot`, `scan --snapshot` and `drift` end to end: the real binary
//! against the recorded API server of `palisade_cluster::recorded` (real v1.33 response shapes
//! over HTTPS on loopback; no Kubernetes API server can run on these machines).

mod common;

use common::{bin, json, output_of as run, scratch};
use std::process::Command;

use serde_json::Value;

fn findings(report: &Value) -> Vec<(String, String, String)> {
    let mut out: Vec<(String, String, String)> = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            (
                f["rule"].as_str().unwrap().to_string(),
                f["object"]["name"].as_str().unwrap_or("").to_string(),
                f["message"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    out.sort();
    out
}

#[tokio::test(flavor = "multi_thread")]
async fn snapshot_then_scan_equals_a_live_scan() {
    let dir = scratch("cli-snapshot");
    let (kubeconfig, _) = palisade_cluster::recorded::server(&dir).await;
    let snap = dir.join("cluster.json");
    let mut cmd = bin();
    cmd.args(["snapshot", "--request-timeout", "1", "-o"])
        .arg(&snap)
        .arg("--kubeconfig")
        .arg(&kubeconfig);
    let out = run(cmd).await;
    common::exiting(&out, 0);
    assert!(String::from_utf8_lossy(&out.stderr).contains("could not be listed"));
    // The cluster's content is for its owner's eyes, whatever the umask.
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&snap).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600, "{mode:o}");
        // Written through a link, as to a path of its own: the link stays, and the file it
        // names, readable by all before, is its owner's alone.
        let shared = dir.join("shared.json");
        std::fs::write(&shared, "{}").unwrap();
        std::fs::set_permissions(&shared, std::fs::Permissions::from_mode(0o644)).unwrap();
        let link = dir.join("latest.json");
        std::os::unix::fs::symlink(&shared, &link).unwrap();
        let mut cmd = bin();
        cmd.args(["snapshot", "--request-timeout", "1", "-o"])
            .arg(&link)
            .arg("--kubeconfig")
            .arg(&kubeconfig);
        common::exiting(&run(cmd).await, 0);
        assert!(
            std::fs::symlink_metadata(&link)
                .unwrap()
                .file_type()
                .is_symlink()
        );
        let mode = std::fs::metadata(&shared).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600, "{mode:o}");
        assert!(
            std::fs::read_to_string(&shared)
                .unwrap()
                .contains("palisade.dev/v1alpha1")
        );
    }
    let file: Value = serde_json::from_str(&std::fs::read_to_string(&snap).unwrap()).unwrap();
    assert_eq!(file["apiVersion"], "palisade.dev/v1alpha1");
    assert_eq!(file["metadata"]["context"], "recorded");

    let mut cmd = bin();
    cmd.args([
        "scan",
        "--allow-incomplete",
        "-o",
        "json",
        "--fail-on",
        "none",
        "--no-config",
        "--snapshot",
    ])
    .arg(&snap);
    let offline = json(&run(cmd).await);
    // The privileged pod is judged on its ReplicaSet, with the pod listed as affected.
    let privileged: Vec<&Value> = offline["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["rule"] == "POD001")
        .collect();
    assert_eq!(privileged.len(), 1, "{privileged:?}");
    assert_eq!(privileged[0]["object"]["kind"], "ReplicaSet");
    assert_eq!(privileged[0]["affected"][0], "Pod web-1");
    // Secrets could not be listed: SEC001 says its verdicts are incomplete.
    let sec = offline["coverage"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["rule"] == "SEC001")
        .unwrap();
    assert!(
        sec["incomplete"][0]
            .as_str()
            .unwrap()
            .contains("could not list secrets: forbidden"),
        "{sec}"
    );
    let diagnostics = offline["diagnostics"].as_array().unwrap();
    assert!(
        diagnostics
            .iter()
            .any(|d| d["code"] == "not-listed"
                && d["message"].as_str().unwrap().contains("deployments")),
        "every unlisted type is a diagnostic: {diagnostics:?}"
    );

    let mut cmd = bin();
    cmd.args([
        "scan",
        "--allow-incomplete",
        "-o",
        "json",
        "--fail-on",
        "none",
        "--no-config",
        "--cluster",
        "--request-timeout",
        "1",
        "--kubeconfig",
    ])
    .arg(&kubeconfig);
    let live = run(cmd).await;
    assert_eq!(
        live.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&live.stderr)
    );
    assert_eq!(
        findings(&json(&live)),
        findings(&offline),
        "a live scan and a scan of its snapshot agree"
    );

    // Types the cluster would not list make the run incomplete: exit 2, never a pass.
    let mut cmd = bin();
    cmd.args([
        "scan",
        "-o",
        "table",
        "--no-config",
        "--cluster",
        "--request-timeout",
        "1",
        "--kubeconfig",
    ])
    .arg(&kubeconfig);
    let strict = run(cmd).await;
    assert_eq!(strict.status.code(), Some(2));
    let table = String::from_utf8_lossy(&strict.stdout);
    assert!(
        table.contains("INCOMPLETE") && !table.contains("PASS:"),
        "{table}"
    );
}

/// `scan PATH... --against-cluster`: a pull request's manifests judged as changes to the live
/// cluster (recorded API responses served over HTTPS on loopback), as `--against` judges them
/// against a snapshot.
#[tokio::test(flavor = "multi_thread")]
async fn manifests_are_judged_as_changes_to_the_live_cluster() {
    let dir = scratch("cli-against-live");
    let (kubeconfig, _) = palisade_cluster::recorded::server(&dir).await;
    // Binding the account the cluster's web pods run as to cluster-admin.
    std::fs::write(
        dir.join("pr.yaml"),
        "apiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRoleBinding\nmetadata: {name: web-admin}\nroleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: cluster-admin}\nsubjects: [{kind: ServiceAccount, name: web, namespace: shop}]\n",
    )
    .unwrap();
    let against = |extra: &[&str]| {
        let mut cmd = bin();
        cmd.args(["scan", "--no-config", "-o", "json", "--rules", "RBAC021"])
            .args(["--request-timeout", "1", "--kubeconfig"])
            .arg(&kubeconfig)
            .args(extra);
        cmd
    };
    let pr = dir.join("pr.yaml");
    let out = run(against(&[
        pr.to_str().unwrap(),
        "--against-cluster",
        "--allow-incomplete",
    ]))
    .await;
    common::exiting(&out, 1);
    let report = json(&out);
    let finding = &report["findings"][0];
    assert_eq!(finding["rule"], "RBAC021", "{report:#}");
    assert!(
        finding["location"]["file"]
            .as_str()
            .unwrap()
            .ends_with("pr.yaml")
    );
    let message = finding["message"].as_str().unwrap();
    // The cluster's running web pods (their ReplicaSet) are given the chain.
    assert!(
        message.starts_with("lets ReplicaSet shop/web-"),
        "{message}"
    );
    // What the cluster would not list (Secrets) makes the run incomplete without the flag.
    let out = run(against(&[pr.to_str().unwrap(), "--against-cluster"])).await;
    common::exiting(&out, 2);
    // No manifests: nothing to judge, said so.
    let out = run(against(&["--against-cluster"])).await;
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("give the manifests"));
}

#[tokio::test(flavor = "multi_thread")]
async fn drift_reports_hand_changes_and_live_only_findings() {
    let dir = scratch("cli-drift");
    let (kubeconfig, _) = palisade_cluster::recorded::server(&dir).await;
    let desired = dir.join("desired.yaml");
    std::fs::write(
        &desired,
        "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: app-config, namespace: shop}\ndata: {LOG_LEVEL: debug}\n---\napiVersion: apps/v1\nkind: ReplicaSet\nmetadata: {name: web-6d4cf56db6, namespace: shop, labels: {app: web}}\nspec:\n  replicas: 1\n  selector: {matchLabels: {app: web}}\n  template:\n    metadata: {labels: {app: web}}\n    spec:\n      serviceAccountName: web\n      containers:\n      - name: app\n        image: registry.example.com/web:2.1.0\n---\napiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {name: default-deny, namespace: shop}\nspec: {podSelector: {}, policyTypes: [Ingress, Egress]}\n",
    )
    .unwrap();
    let mut cmd = bin();
    // Secrets are forbidden and Deployments time out: not compared, and the run says so
    // (incomplete, accepted here to read the verdict on what was compared).
    cmd.arg("drift")
        .arg(&desired)
        .args([
            "--allow-incomplete",
            "-o",
            "json",
            "--cluster",
            "--request-timeout",
            "1",
            "--kubeconfig",
        ])
        .arg(&kubeconfig);
    let out = run(cmd).await;
    let report = json(&out);
    let found = findings(&report);
    let has = |rule: &str, name: &str, text: &str| {
        found
            .iter()
            .any(|(r, n, m)| r == rule && n == name && m.contains(text))
    };
    assert!(
        has("DRIFT001", "default-deny", "not in the cluster"),
        "{found:#?}"
    );
    assert!(
        has("DRIFT003", "app-config", "/data/LOG_LEVEL is <hidden #"),
        "{found:#?}"
    );
    assert!(
        has(
            "DRIFT003",
            "web-6d4cf56db6",
            "securityContext/privileged was added in the cluster"
        ),
        "{found:#?}"
    );
    assert!(
        has("POD001", "web-6d4cf56db6", "only in the cluster"),
        "the hand-made privilege is a live-only finding: {found:#?}"
    );
    let severity = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["rule"] == "DRIFT003" && f["object"]["name"] == "web-6d4cf56db6")
        .unwrap()["severity"]
        .clone();
    assert_eq!(severity, "high");
    // Every finding on an object the manifests define points into the manifest, where a
    // reviewer changes it: the field, or its nearest parent when only the cluster has it.
    let at = |rule: &str, name: &str| {
        let f = report["findings"]
            .as_array()
            .unwrap()
            .iter()
            .find(|f| f["rule"] == rule && f["object"]["name"] == name)
            .unwrap();
        (
            f["location"]["file"]
                .as_str()
                .unwrap()
                .ends_with("desired.yaml"),
            f["location"]["line"].as_u64().unwrap(),
        )
    };
    assert_eq!(at("DRIFT003", "app-config"), (true, 4));
    assert_eq!(at("DRIFT003", "web-6d4cf56db6"), (true, 17), "containers/0");
    assert_eq!(at("POD001", "web-6d4cf56db6"), (true, 17));
    assert_eq!(
        out.status.code(),
        Some(1),
        "high drift fails --fail-on high"
    );
}

#[test]
fn unreachable_clusters_and_unknown_snapshots_exit_2() {
    let dir = scratch("cli-unreachable");
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let kubeconfig = dir.join("kubeconfig");
    std::fs::write(
        &kubeconfig,
        format!("apiVersion: v1\nkind: Config\ncurrent-context: prod-eu\nclusters:\n- name: c\n  cluster: {{server: 'https://127.0.0.1:{port}', insecure-skip-tls-verify: true}}\ncontexts:\n- name: prod-eu\n  context: {{cluster: c, user: u}}\nusers:\n- name: u\n  user: {{token: t}}\n"),
    )
    .unwrap();
    let report = dir.join("report.json");
    let out = bin()
        .args([
            "scan",
            "--allow-incomplete",
            "--cluster",
            "--request-timeout",
            "2",
            "--kubeconfig",
        ])
        .arg(&kubeconfig)
        .arg("-o")
        .arg(format!("json={}", report.display()))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("prod-eu") && stderr.contains(&port.to_string()),
        "{stderr}"
    );
    assert!(!report.exists(), "no partial output");

    let future = dir.join("future.json");
    std::fs::write(&future, r#"{"apiVersion": "palisade.dev/v9", "kind": "ClusterSnapshot", "metadata": {"capturedAt": "x", "palisadeVersion": "9"}, "items": []}"#).unwrap();
    let out = bin()
        .args(["scan", "--allow-incomplete", "--snapshot"])
        .arg(&future)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("palisade.dev/v9 is not supported"));

    // A `kubectl get -o json` List is a snapshot too (with nothing known about what is missing).
    let list = dir.join("list.json");
    std::fs::write(&list, r#"{"apiVersion": "v1", "kind": "List", "items": [{"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p", "namespace": "x"}, "spec": {"hostPID": true, "containers": [{"name": "c", "image": "i:1"}]}}]}"#).unwrap();
    let out = bin()
        .args([
            "scan",
            "--allow-incomplete",
            "-o",
            "json",
            "--rules",
            "POD004",
            "--no-config",
            "--snapshot",
        ])
        .arg(&list)
        .output()
        .unwrap();
    assert_eq!(json(&out)["findings"][0]["rule"], "POD004");
}

#[tokio::test(flavor = "multi_thread")]
async fn rbac_commands_read_the_live_cluster() {
    let dir = scratch("cli-rbac-live");
    let (kubeconfig, _) = palisade_cluster::recorded::server(&dir).await;
    let mut cmd = bin();
    cmd.args([
        "rbac",
        "who-can",
        "create",
        "pods/exec",
        "-n",
        "shop",
        "-o",
        "json",
        "--cluster",
        "--request-timeout",
        "1",
        "--kubeconfig",
    ])
    .arg(&kubeconfig);
    let out = run(cmd).await;
    common::exiting(&out, 0);
    let rows = json(&out);
    assert_eq!(rows[0]["subject"]["name"], "web");
    assert_eq!(rows[0]["binding"], "ClusterRoleBinding web-exec");
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("could not list secrets"),
        "what could not be read is said"
    );
    // The fixes plan reads the same cluster: its privileged web pods own their node, and
    // confining them is the one fix.
    let mut cmd = bin();
    cmd.args(["rbac", "fixes", "-o", "json", "--cluster"])
        .args(["--request-timeout", "1", "--kubeconfig"])
        .arg(&kubeconfig);
    let out = run(cmd).await;
    common::exiting(&out, 1);
    let plan = json(&out);
    assert_eq!(plan["at_risk"][0]["from"]["namespace"], "shop", "{plan:#}");
    let fix = &plan["fixes"][0];
    assert!(
        fix["object"]
            .as_str()
            .unwrap()
            .starts_with("ReplicaSet shop/web-"),
        "{plan:#}"
    );
    assert_eq!(fix["change"], "confine-to-container");
    assert_eq!(plan["risk_left"], 0);
}

/// A reader that may not list ClusterRoleBindings cannot say who can: `who-can` exits 2 rather
/// than answer from the rest (recorded API responses over HTTPS on loopback), unless
/// `--allow-incomplete`; Secrets it may not list change no RBAC answer.
#[tokio::test(flavor = "multi_thread")]
async fn rbac_answers_need_the_bindings_of_the_live_cluster() {
    let dir = scratch("cli-rbac-live-forbidden");
    let (kubeconfig, _) = palisade_cluster::recorded::server(&dir).await;
    let text = std::fs::read_to_string(&kubeconfig).unwrap();
    let forbidden = dir.join("kubeconfig-without-bindings");
    std::fs::write(
        &forbidden,
        text.replace(
            "token: recorded-token",
            &format!(
                "token: {}",
                palisade_cluster::recorded::TOKEN_WITHOUT_BINDINGS
            ),
        ),
    )
    .unwrap();
    for (extra, code) in [(None, 2), (Some("--allow-incomplete"), 0)] {
        let mut cmd = bin();
        cmd.args([
            "rbac",
            "who-can",
            "create",
            "pods/exec",
            "-n",
            "shop",
            "--cluster",
            "--request-timeout",
            "1",
            "--kubeconfig",
        ])
        .arg(&forbidden)
        .args(extra);
        let out = run(cmd).await;
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(code), "{extra:?}: {stderr}");
        assert!(
            stderr.contains("could not list clusterrolebindings") && stderr.contains("incomplete"),
            "{stderr}"
        );
    }
}

/// `palisade net` reads the live cluster like `scan` (recorded API responses served over HTTPS
/// on loopback: a real API server cannot run here), and a snapshot file like manifests.
#[tokio::test(flavor = "multi_thread")]
async fn net_commands_read_the_live_cluster_and_snapshots() {
    let dir = scratch("cli-net-live");
    let (kubeconfig, _) = palisade_cluster::recorded::server(&dir).await;
    let mut cmd = bin();
    cmd.args([
        "net",
        "matrix",
        "-o",
        "json",
        "--cluster",
        "--request-timeout",
        "1",
        "--kubeconfig",
    ])
    .arg(&kubeconfig);
    let out = run(cmd).await;
    common::exiting(&out, 0);
    let live = json(&out);
    assert!(live["workloads"].as_u64().unwrap() > 0, "{live:#}");
    assert!(
        !live["connections"].as_array().unwrap().is_empty(),
        "{live:#}"
    );
    let snapshot = dir.join("snap.json");
    let mut cmd = bin();
    cmd.args(["snapshot", "--request-timeout", "1", "--kubeconfig"])
        .arg(&kubeconfig)
        .arg("-o")
        .arg(&snapshot);
    let out = run(cmd).await;
    assert!(
        snapshot.is_file(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let offline = bin()
        .args(["net", "matrix", "-o", "json"])
        .arg(&snapshot)
        .output()
        .unwrap();
    assert_eq!(json(&offline)["connections"], live["connections"]);
}

/// A `kubectl get -o json` List of a namespace as the API server returns it (defaults, status,
/// the control plane's own objects, an owned Job), with two hand changes: the Service made a
/// LoadBalancer, and a RoleBinding to cluster-admin created with `kubectl create`.
#[test]
fn drift_reports_hand_made_objects_with_their_author_and_findings() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/drift");
    let out = bin()
        .args(["drift", "-o", "json", "--snapshot"])
        .arg(dir.join("live.json"))
        .arg(dir.join("desired.yaml"))
        .output()
        .unwrap();
    common::exiting(&out, 1);
    let found = findings(&json(&out));
    let rules: Vec<(&str, &str)> = found
        .iter()
        .map(|(rule, name, _)| (rule.as_str(), name.as_str()))
        .collect();
    assert_eq!(
        rules,
        [
            ("DRIFT002", "debug"),
            ("DRIFT003", "web"),
            ("NET001", "web"),
            ("RBAC001", "debug")
        ],
        "defaults, the control plane's objects and owned objects are not drift: {found:#?}"
    );
    assert!(found[0].2.ends_with(
        "not in the manifests; written by kubectl-create (Update at 2026-11-25T22:10:00Z)"
    ));
    assert!(
        found[3]
            .2
            .starts_with("on an object made in the cluster, not in the manifests: cluster-admin")
    );
}

#[test]
fn drift_honours_palisade_toml() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/drift");
    let config = scratch("drift-config").join("palisade.toml");
    std::fs::write(
        &config,
        "[rules]\ndisable = [\"DRIFT002\"]\n\n[[suppress]]\nrule = \"field-drift\"\nreason = \"LoadBalancer approved in CHG-17 until the Ingress lands\"\nkind = \"Service\"\nname = \"web\"\n",
    )
    .unwrap();
    let out = bin()
        .args(["drift", "-o", "json", "--snapshot"])
        .arg(dir.join("live.json"))
        .arg(dir.join("desired.yaml"))
        .arg("--config")
        .arg(&config)
        .output()
        .unwrap();
    let report = json(&out);
    let rules: Vec<(&str, bool)> = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| (f["rule"].as_str().unwrap(), f["suppressed"].is_object()))
        .collect();
    assert!(!rules.iter().any(|(r, _)| *r == "DRIFT002"), "{rules:?}");
    assert!(rules.contains(&("DRIFT003", true)), "{rules:?}");
    assert!(rules.contains(&("RBAC001", false)), "{rules:?}");
    assert_eq!(
        out.status.code(),
        Some(1),
        "the critical RBAC001 still fails"
    );
}

/// A loopback "API server" that accepts connections and never answers (a hung control plane or
/// a black-holing proxy), a kubeconfig pointing at it, and a receiver told of each connection.
fn hanging_server(dir: &std::path::Path) -> (std::path::PathBuf, std::sync::mpsc::Receiver<()>) {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let (connected, connections) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let mut held = Vec::new();
        for stream in listener.incoming().flatten() {
            held.push(stream);
            let _ = connected.send(());
        }
    });
    let kubeconfig = dir.join("kubeconfig");
    std::fs::write(
        &kubeconfig,
        format!("apiVersion: v1\nkind: Config\ncurrent-context: hung\nclusters:\n- name: c\n  cluster: {{server: 'https://127.0.0.1:{port}', insecure-skip-tls-verify: true}}\ncontexts:\n- name: hung\n  context: {{cluster: c, user: u}}\nusers:\n- name: u\n  user: {{token: t}}\n"),
    )
    .unwrap();
    (kubeconfig, connections)
}

#[test]
fn the_overall_timeout_ends_a_hung_read_without_output() {
    let dir = scratch("cli-timeout");
    let (kubeconfig, _connections) = hanging_server(&dir);
    let snapshot = dir.join("cluster.json");
    let started = std::time::Instant::now();
    let out = bin()
        .args([
            "snapshot",
            "--timeout",
            "2",
            "--request-timeout",
            "60",
            "--kubeconfig",
        ])
        .arg(&kubeconfig)
        .arg("-o")
        .arg(&snapshot)
        .output()
        .unwrap();
    // Far below the 60 s request timeout: the overall --timeout ended it.
    assert!(started.elapsed() < std::time::Duration::from_secs(30));
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("not read within --timeout 2s"), "{stderr}");
    assert!(!snapshot.exists());
    assert_eq!(
        std::fs::read_dir(&dir).unwrap().count(),
        1,
        "only the kubeconfig"
    );
}

#[test]
fn ctrl_c_stops_a_cluster_read_without_output() {
    let dir = scratch("cli-interrupt");
    let (kubeconfig, connections) = hanging_server(&dir);
    let snapshot = dir.join("cluster.json");
    let child = bin()
        .args(["snapshot", "--request-timeout", "60", "--kubeconfig"])
        .arg(&kubeconfig)
        .arg("-o")
        .arg(&snapshot)
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    // Once the read has connected, its Ctrl-C handler is in place (both are set up in the
    // same first poll).
    connections
        .recv_timeout(std::time::Duration::from_secs(30))
        .expect("palisade connects to the API server");
    // SIGINT, as a terminal's Ctrl-C sends it.
    let killed = Command::new("sh")
        .args(["-c", &format!("kill -INT {}", child.id())])
        .status()
        .unwrap();
    assert!(killed.success());
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(130));
    assert!(String::from_utf8_lossy(&out.stderr).contains("interrupted; nothing written"));
    assert!(!snapshot.exists());
    assert_eq!(
        std::fs::read_dir(&dir).unwrap().count(),
        1,
        "only the kubeconfig"
    );
}

/// `KUBECONFIG` with two files, merged as kubectl merges them: the context in one, the
/// cluster (with its CA) and the user's token in the other.
#[tokio::test(flavor = "multi_thread")]
async fn kubeconfig_files_listed_in_kubeconfig_env_are_merged() {
    let dir = scratch("cli-kubeconfig-env");
    let (kubeconfig, calls) = palisade_cluster::recorded::server(&dir).await;
    let text = std::fs::read_to_string(&kubeconfig).unwrap();
    let clusters_and_users = text.replace("current-context: recorded\n", "").replace(
        "contexts:\n- name: recorded\n  context: {cluster: recorded, user: auditor}\n",
        "",
    );
    assert_ne!(clusters_and_users, text);
    let first = dir.join("contexts.yaml");
    let second = dir.join("clusters.yaml");
    std::fs::write(&first, "apiVersion: v1\nkind: Config\ncurrent-context: recorded\ncontexts:\n- name: recorded\n  context: {cluster: recorded, user: auditor}\n").unwrap();
    std::fs::write(&second, clusters_and_users).unwrap();
    let mut cmd = bin();
    cmd.args([
        "scan",
        "--allow-incomplete",
        "--cluster",
        "--request-timeout",
        "1",
        "--no-config",
        "-o",
        "json",
        "--fail-on",
        "none",
    ])
    .env(
        "KUBECONFIG",
        format!("{}:{}", first.display(), second.display()),
    )
    .env("HOME", &dir);
    let out = run(cmd).await;
    common::exiting(&out, 0);
    // The server answers 401 without the token, so findings mean the merged user was used.
    assert!(!json(&out)["findings"].as_array().unwrap().is_empty());
    assert!(
        !calls.secrets_accept.lock().unwrap().is_empty(),
        "the recorded server was read"
    );
}

/// An exec credential plugin (as EKS, GKE and AKS kubeconfigs use) gives the token.
#[tokio::test(flavor = "multi_thread")]
async fn exec_credential_plugins_are_run_for_the_token() {
    let dir = scratch("cli-kubeconfig-exec");
    let (kubeconfig, calls) = palisade_cluster::recorded::server(&dir).await;
    let plugin = dir.join("credential-plugin.sh");
    std::fs::write(
        &plugin,
        "#!/bin/sh\necho '{\"apiVersion\": \"client.authentication.k8s.io/v1\", \"kind\": \"ExecCredential\", \"status\": {\"token\": \"recorded-token\"}}'\n",
    )
    .unwrap();
    let text = std::fs::read_to_string(&kubeconfig).unwrap().replace(
        "  user: {token: recorded-token}\n",
        &format!(
            "  user:\n    exec:\n      apiVersion: client.authentication.k8s.io/v1\n      command: sh\n      args: ['{}']\n      interactiveMode: Never\n",
            plugin.display()
        ),
    );
    assert!(text.contains("exec:"));
    let exec_config = dir.join("exec-kubeconfig");
    std::fs::write(&exec_config, text).unwrap();
    let mut cmd = bin();
    cmd.args([
        "scan",
        "--allow-incomplete",
        "--cluster",
        "--request-timeout",
        "1",
        "--no-config",
        "-o",
        "json",
        "--fail-on",
        "none",
        "--kubeconfig",
    ])
    .arg(&exec_config);
    let out = run(cmd).await;
    common::exiting(&out, 0);
    assert!(!json(&out)["findings"].as_array().unwrap().is_empty());
    assert!(!calls.secrets_accept.lock().unwrap().is_empty());

    // A plugin that yields a token the server refuses: a clear error, exit 2, nothing scanned.
    std::fs::write(
        &plugin,
        "#!/bin/sh\necho '{\"apiVersion\": \"client.authentication.k8s.io/v1\", \"kind\": \"ExecCredential\", \"status\": {\"token\": \"expired\"}}'\n",
    )
    .unwrap();
    let mut cmd = bin();
    cmd.args([
        "scan",
        "--allow-incomplete",
        "--cluster",
        "--request-timeout",
        "1",
        "--no-config",
        "--kubeconfig",
    ])
    .arg(&exec_config);
    let out = run(cmd).await;
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("the cluster of context recorded at https://127.0.0.1:")
            && stderr.contains("refused to list its resource types")
            && stderr.contains("Unauthorized"),
        "{stderr}"
    );
    assert!(
        out.stdout.is_empty(),
        "no report that would look like a clean cluster"
    );
}

/// A snapshot taken with an account that may list nothing: an error, not a clean cluster.
/// Drift against a snapshot whose reader could not list Secrets: the desired Secret is not
/// reported missing, and the run says what it could not compare (incomplete, exit 2).
#[test]
fn drift_does_not_call_what_could_not_be_listed_missing() {
    let dir = scratch("cli-drift-unlisted");
    let snapshot = dir.join("snapshot.json");
    std::fs::write(
        &snapshot,
        r#"{"apiVersion": "palisade.dev/v1alpha1", "kind": "ClusterSnapshot", "metadata": {"capturedAt": "2026-11-26T00:00:00Z", "context": "ci", "palisadeVersion": "0.1.0"}, "errors": [{"group": "", "version": "v1", "resource": "secrets", "kind": "Secret", "status": 403, "reason": "forbidden", "message": "secrets is forbidden: User \"ci\" cannot list resource \"secrets\""}], "resources": [],
"items": [
{"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "settings", "namespace": "shop", "uid": "1", "resourceVersion": "1"}, "data": {"mode": "fast"}}
]}
"#,
    )
    .unwrap();
    std::fs::write(
        dir.join("desired.yaml"),
        "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: settings, namespace: shop}\ndata: {mode: fast}\n---\napiVersion: v1\nkind: Secret\nmetadata: {name: db, namespace: shop}\ntype: Opaque\nstringData: {password: from-vault}\n",
    )
    .unwrap();
    let out = bin()
        .args(["drift", "--no-config", "-o", "json", "--snapshot"])
        .arg(&snapshot)
        .arg(dir.join("desired.yaml"))
        .output()
        .unwrap();
    let report = json(&out);
    assert_eq!(out.status.code(), Some(2), "{report:#}");
    assert!(
        !report["findings"]
            .as_array()
            .unwrap()
            .iter()
            .any(|f| f["object"]["kind"] == "Secret"),
        "{report:#}"
    );
    assert!(
        report["diagnostics"]
            .as_array()
            .unwrap()
            .iter()
            .any(|d| d["code"] == "not-listed"
                && d["message"].as_str().unwrap().contains("not compared")),
        "{report:#}"
    );
}

#[test]
fn a_snapshot_where_nothing_could_be_listed_exits_2() {
    let dir = scratch("cli-nothing-listed");
    let snapshot = dir.join("forbidden.json");
    let error = |resource: &str, kind: &str| {
        format!(
            r#"{{"group": "", "version": "v1", "resource": "{resource}", "kind": "{kind}", "status": 403, "reason": "forbidden", "message": "{resource} is forbidden: User \"ci\" cannot list resource \"{resource}\""}}"#
        )
    };
    std::fs::write(
        &snapshot,
        format!(
            "{{\"apiVersion\": \"palisade.dev/v1alpha1\", \"kind\": \"ClusterSnapshot\", \"metadata\": {{\"capturedAt\": \"2026-11-26T00:00:00Z\", \"context\": \"ci\", \"palisadeVersion\": \"0.1.0\"}}, \"errors\": [{}, {}], \"resources\": [],\n\"items\": [\n]}}\n",
            error("pods", "Pod"),
            error("secrets", "Secret")
        ),
    )
    .unwrap();
    let out = bin()
        .args([
            "scan",
            "--allow-incomplete",
            "--no-config",
            "-o",
            "json",
            "--snapshot",
        ])
        .arg(&snapshot)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("nothing could be scanned"), "{stderr}");
    let report = json(&out);
    let diagnostics = report["diagnostics"].as_array().unwrap();
    assert_eq!(diagnostics.len(), 2, "{diagnostics:#?}");
    assert!(
        diagnostics
            .iter()
            .all(|d| d["code"] == "not-listed" && d["level"] == "error"),
        "{diagnostics:#?}"
    );
}

/// Drift never prints a secret value: a Secret's data (read with --include-secret-values) is
/// described by size, a credential in a ConfigMap or an environment variable by its length.
/// `stringData` is compared as the API server stores it (in `data`), and a Secret read without
/// its values (the default) has no value drift.
#[test]
fn drift_never_prints_secret_values() {
    let dir = scratch("cli-drift-secrets");
    let desired = dir.join("desired.yaml");
    std::fs::write(
        &desired,
        "apiVersion: v1\nkind: Secret\nmetadata: {name: db, namespace: shop}\ndata: {password: c3VwZXJzZWNyZXRwYXNzd29yZA==}\nstringData: {token: plain-text-token-123456, same: unchanged-value}\n---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: cfg, namespace: shop}\ndata: {API_KEY: AKIAABCDEFGHIJKLMNOP, LOG_LEVEL: info}\n---\napiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web, namespace: shop}\nspec:\n  selector: {matchLabels: {app: web}}\n  template:\n    spec:\n      containers:\n      - name: web\n        image: registry.example.com/web:1\n        env: [{name: DB_PASSWORD, value: first-password-value}]\n",
    )
    .unwrap();
    // `same` is `unchanged-value` in base64: stored in data, it is no drift.
    let live = |secret_data: &str| {
        format!(
            r#"{{"apiVersion": "v1", "kind": "List", "items": [
{{"apiVersion": "v1", "kind": "Secret", "metadata": {{"name": "db", "namespace": "shop"}}{secret_data}}},
{{"apiVersion": "v1", "kind": "ConfigMap", "metadata": {{"name": "cfg", "namespace": "shop"}}, "data": {{"API_KEY": "AKIAZZZZZZZZZZZZZZZZ", "LOG_LEVEL": "debug"}}}},
{{"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {{"name": "web", "namespace": "shop"}}, "spec": {{"selector": {{"matchLabels": {{"app": "web"}}}}, "template": {{"spec": {{"containers": [{{"name": "web", "image": "registry.example.com/web:1", "env": [{{"name": "DB_PASSWORD", "value": "second-password-value"}}]}}]}}}}}}}}
]}}"#
        )
    };
    let with_values = dir.join("live.json");
    std::fs::write(
        &with_values,
        live(r#", "data": {"password": "b3RoZXJwYXNzd29yZA==", "token": "cGxhaW4tdGV4dC10b2tlbi0xMjM0NTY=", "same": "dW5jaGFuZ2VkLXZhbHVl"}"#),
    )
    .unwrap();
    let out = bin()
        .args(["drift", "--no-config", "-o", "json", "--snapshot"])
        .arg(&with_values)
        .arg(&desired)
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    for secret in [
        "c3VwZXJzZWNyZXRwYXNzd29yZA",
        "b3RoZXJwYXNzd29yZA",
        "plain-text-token",
        "cGxhaW4t",
        "AKIAABCDEFGHIJKLMNOP",
        "AKIAZZZZZZZZZZZZZZZZ",
        "first-password-value",
        "second-password-value",
    ] {
        assert!(!text.contains(secret), "{secret} printed: {text}");
    }
    let report = json(&out);
    let messages: Vec<&str> = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["rule"] == "DRIFT003")
        .map(|f| f["message"].as_str().unwrap())
        .collect();
    // Neither the values nor their lengths: a stable tag for each.
    let password = messages
        .iter()
        .find(|m| m.starts_with("/data/password is <hidden #"))
        .unwrap_or_else(|| panic!("{messages:#?}"));
    assert!(
        !password.contains("20") && !password.contains("28"),
        "{password}"
    );
    // ConfigMap data is arbitrary text: hidden too (the allow-list names no ConfigMap field).
    assert!(
        messages
            .iter()
            .any(|m| m.starts_with("/data/LOG_LEVEL is <hidden #")),
        "{messages:#?}"
    );
    assert!(
        !messages.iter().any(|m| m.contains("stringData")
            || m.contains("/data/same")
            || m.contains("/data/token")),
        "stringData is compared as stored: {messages:#?}"
    );
    assert_eq!(messages.len(), 4, "{messages:#?}");

    // Read without values (the default): no value drift on the Secret.
    let metadata_only = dir.join("live-metadata.json");
    std::fs::write(&metadata_only, live("")).unwrap();
    let out = bin()
        .args(["drift", "--no-config", "-o", "json", "--snapshot"])
        .arg(&metadata_only)
        .arg(&desired)
        .output()
        .unwrap();
    let report = json(&out);
    assert!(
        !report["findings"]
            .as_array()
            .unwrap()
            .iter()
            .any(|f| f["object"]["kind"] == "Secret"),
        "{report:#}"
    );
}

/// A live cluster's kubelets judged on the configuration they run with (`--kubelet-configs`,
/// read through the node proxy of the recorded API server over HTTPS on loopback): without the
/// flag the nodes are there but their kubelets were not read, so CIS 4.2 is not assessed,
/// never passed or "not applicable"; with it, the worker's anonymous access and read-only port
/// fail 4.2.1 and 4.2.4 and the control-plane node's kubeadm configuration passes.
#[tokio::test(flavor = "multi_thread")]
async fn kubelet_configurations_are_judged_when_read() {
    let dir = scratch("cli-kubelet-configs");
    let (kubeconfig, _) = palisade_cluster::recorded::server(&dir).await;
    let scan = |extra: &[&str]| {
        let mut cmd = bin();
        cmd.args(["scan", "--cluster", "--allow-incomplete", "--no-config"])
            .args(["-o", "json", "--fail-on", "none", "--framework", "cis"])
            .args(["--request-timeout", "5", "--kubeconfig"])
            .arg(&kubeconfig)
            .args(extra);
        cmd
    };
    let status = |report: &Value, id: &str| {
        report["compliance"]["controls"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["control"] == format!("cis-k8s-1.12:{id}"))
            .map(|c| c["status"].as_str().unwrap().to_string())
            .unwrap()
    };
    let out = run(scan(&[])).await;
    let report = json(&out);
    for id in ["4.2.1", "4.2.4", "4.2.10"] {
        assert_eq!(status(&report, id), "not_assessed", "{id}");
    }
    let coverage = report["coverage"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["rule"] == "NODE001")
        .unwrap();
    assert!(
        coverage["incomplete"][0]
            .as_str()
            .unwrap()
            .contains("--kubelet-configs"),
        "{coverage}"
    );

    let out = run(scan(&["--kubelet-configs"])).await;
    let report = json(&out);
    let node: Vec<(String, String, String)> = findings(&report)
        .into_iter()
        .filter(|(rule, _, _)| rule.starts_with("NODE"))
        .collect();
    assert_eq!(
        node,
        [
            (
                "NODE001".to_string(),
                "worker-1".to_string(),
                "the kubelet: pods and their settings are served without authentication (readOnlyPort: 10255)".to_string()
            ),
            (
                "NODE001".to_string(),
                "worker-1".to_string(),
                "the kubelet: requests without credentials are served (authentication.anonymous.enabled: true)".to_string()
            ),
        ]
    );
    for (id, want) in [
        ("4.2.1", "fail"),
        ("4.2.4", "fail"),
        ("4.2.2", "pass"),
        ("4.2.10", "pass"),
    ] {
        assert_eq!(status(&report, id), want, "{id}");
    }
}

/// A snapshot is judged alike whatever its size. Above 8 MiB a snapshot is read item by item
/// (and without `managedFields`); nothing else of an object may be lost on that path. Before
/// this test, objects naming a controller lost their spec there: a privileged Pod forging an
/// owner reference to a harmless ReplicaSet was not reported (the evasion POD036 exists to
/// catch), and every Pod of a ReplicaSet whose template was dropped was reported by POD037.
#[test]
fn a_large_snapshot_is_judged_as_a_small_one() {
    let dir = scratch("cli-large-snapshot");
    let meta = |kind: &str, name: &str, extra: &str| {
        format!(
            r#""metadata":{{"name":"{name}","namespace":"shop","uid":"{kind}-{name}","managedFields":[{{"manager":"kubectl"}}]{extra}}}"#
        )
    };
    let owner = |kind: &str, name: &str| {
        format!(
            r#","labels":{{"app":"web"}},"ownerReferences":[{{"apiVersion":"apps/v1","kind":"{kind}","name":"{name}","uid":"{kind}-{name}","controller":true}}]"#
        )
    };
    let spec = r#"{"serviceAccountName":"web","containers":[{"name":"app","image":"registry.example.com/web:1.2.3"}]}"#;
    let mut items = vec![
        r#"{"apiVersion":"v1","kind":"Namespace","metadata":{"name":"shop","uid":"ns-shop"}}"#
            .to_string(),
        format!(
            r#"{{"apiVersion":"apps/v1","kind":"Deployment",{},"spec":{{"replicas":2,"selector":{{"matchLabels":{{"app":"web"}}}},"template":{{"metadata":{{"labels":{{"app":"web"}}}},"spec":{spec}}}}}}}"#,
            meta("Deployment", "web", r#","labels":{"app":"web"}"#)
        ),
        format!(
            r#"{{"apiVersion":"apps/v1","kind":"ReplicaSet",{},"spec":{{"replicas":2,"selector":{{"matchLabels":{{"app":"web"}}}},"template":{{"metadata":{{"labels":{{"app":"web"}}}},"spec":{spec}}}}}}}"#,
            meta("ReplicaSet", "web-1", &owner("Deployment", "web"))
        ),
        format!(
            r#"{{"apiVersion":"v1","kind":"Service",{},"spec":{{"selector":{{"app":"web"}},"ports":[{{"port":80}}]}}}}"#,
            meta("Service", "web", "")
        ),
    ];
    for pod in ["web-1-a", "web-1-b"] {
        items.push(format!(
            r#"{{"apiVersion":"v1","kind":"Pod",{},"spec":{{"nodeName":"node-1","serviceAccountName":"web","containers":[{{"name":"app","image":"registry.example.com/web:1.2.3"}}]}}}}"#,
            meta("Pod", pod, &owner("ReplicaSet", "web-1"))
        ));
    }
    // Made by hand, naming the ReplicaSet as its controller.
    items.push(format!(
        r#"{{"apiVersion":"v1","kind":"Pod",{},"spec":{{"nodeName":"node-1","hostPID":true,"serviceAccountName":"web","containers":[{{"name":"app","image":"registry.example.com/web:1.2.3","securityContext":{{"privileged":true}}}}]}}}}"#,
        meta("Pod", "web-1-forged", &owner("ReplicaSet", "web-1"))
    ));
    let snapshot = |padding: usize| {
        format!(
            "{{\"apiVersion\": \"palisade.dev/v1alpha1\", \"kind\": \"ClusterSnapshot\", \"metadata\": {{\"capturedAt\": \"2026-11-26T00:00:00Z\", \"context\": \"ci\", \"palisadeVersion\": \"0.1.0\"}}, \"errors\": [], \"resources\": []{}\n,\"items\": [\n{}\n]}}\n",
            " ".repeat(padding),
            items.join(",\n")
        )
    };
    let scan = |name: &str, text: String| {
        let path = dir.join(name);
        std::fs::write(&path, text).unwrap();
        let out = bin()
            .args([
                "scan",
                "--no-config",
                "--fail-on",
                "none",
                "-o",
                "json",
                "--snapshot",
            ])
            .arg(&path)
            .output()
            .unwrap();
        common::exiting(&out, 0);
        findings(&json(&out))
    };
    let small = scan("small.json", snapshot(0));
    let large = scan("large.json", snapshot(9 << 20));
    let on = |found: &[(String, String, String)], rule: &str, object: &str| {
        found.iter().any(|(r, o, _)| r == rule && o == object)
    };
    for found in [&small, &large] {
        assert!(on(found, "POD001", "web-1-forged"), "{found:#?}");
        assert!(on(found, "POD036", "web-1-forged"), "{found:#?}");
        assert!(!found.iter().any(|(r, _, _)| r == "POD037"), "{found:#?}");
    }
    assert_eq!(small, large);
}

/// A cluster read takes Secrets as metadata only (the changing recorded API server answers
/// `as=PartialObjectMetadataList` as the API server does: neither type nor values), yet a
/// legacy token Secret is still one: a workload whose account may read the Secrets of its
/// namespace becomes the token's account, and the path to what that account may do is found
/// (RBAC017), as with the values read. The token is never printed.
#[tokio::test(flavor = "multi_thread")]
async fn a_legacy_token_read_as_metadata_only_still_opens_its_path() {
    let dir = scratch("cli-metadata-token");
    let (kubeconfig, cluster) = palisade_cluster::recorded_live::server(&dir).await;
    cluster.forbid("/api/v1/secrets", false);
    let objects = [
        serde_json::json!({"apiVersion": "v1", "kind": "Secret",
            "metadata": {"name": "deployer-token", "namespace": "shop",
                         "annotations": {"kubernetes.io/service-account.name": "deployer"}},
            "type": "kubernetes.io/service-account-token",
            // The token, base64-encoded as the API server keeps it.
            "data": {"token": "ZXlKaGJHY2lPaUpTVXpJMU5pSjkuY2FuYXJ5LWxlZ2FjeS10b2tlbi12YWx1ZQ=="}}),
        serde_json::json!({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "Role",
            "metadata": {"name": "secret-reader", "namespace": "shop"},
            "rules": [{"apiGroups": [""], "resources": ["secrets"], "verbs": ["get", "list"]}]}),
        serde_json::json!({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "RoleBinding",
            "metadata": {"name": "dev-reads-shop", "namespace": "shop"},
            "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": "secret-reader"},
            "subjects": [{"kind": "ServiceAccount", "name": "db", "namespace": "shop"}]}),
        serde_json::json!({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRoleBinding",
            "metadata": {"name": "deployer-admin"},
            "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "cluster-admin"},
            "subjects": [{"kind": "ServiceAccount", "name": "deployer", "namespace": "shop"}]}),
    ];
    for object in objects {
        let collection = cluster
            .collection_of(
                object["apiVersion"].as_str().unwrap(),
                object["kind"].as_str().unwrap(),
            )
            .unwrap();
        cluster.apply(&collection, object);
    }
    let mut cmd = bin();
    cmd.args([
        "scan",
        "--cluster",
        "--no-config",
        "-o",
        "json",
        "--fail-on",
        "none",
    ])
    .args(["--rules", "RBAC017,SEC003", "--kubeconfig"])
    .arg(&kubeconfig);
    let out = run(cmd).await;
    common::exiting(&out, 0);
    let text = String::from_utf8_lossy(&out.stdout).to_string();
    assert!(!text.contains("canary-legacy-token-value"));
    let report = json(&out);
    let found = findings(&report);
    let path = found
        .iter()
        .find(|(rule, _, message)| rule == "RBAC017" && message.contains("deployer-token"))
        .unwrap_or_else(|| panic!("{found:#?}"));
    assert!(text.contains("read as metadata only"), "{path:?}");
    // The Secret itself is reported as a legacy token, by the same answer.
    assert!(
        found
            .iter()
            .any(|(rule, name, _)| rule == "SEC003" && name == "deployer-token"),
        "{found:#?}"
    );
}
