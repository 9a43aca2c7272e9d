//! `palisade probe` run as a user runs it, against real HTTPS and HTTP servers on loopback that
//! answer as an open kubelet and a locked API server do (the components themselves cannot run
//! here; their answers are the status codes the Kubernetes documentation gives).

mod common;

use axum::Router;
use axum::http::StatusCode;
use common::{bin, json_exiting};

fn answering(status: StatusCode) -> Router {
    Router::new().fallback(move || async move { (status, "{}") })
}

/// Serves `router` over TLS (a self-signed certificate for 127.0.0.1) on a loopback port.
async fn serve_tls(router: Router) -> u16 {
    let cert = rcgen::generate_simple_self_signed(vec!["127.0.0.1".to_string()]).unwrap();
    let config = axum_server::tls_rustls::RustlsConfig::from_pem(
        cert.cert.pem().into_bytes(),
        cert.signing_key.serialize_pem().into_bytes(),
    )
    .await
    .unwrap();
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    tokio::spawn(async move {
        axum_server::from_tcp_rustls(listener, config)
            .unwrap()
            .serve(router.into_make_service())
            .await
            .unwrap();
    });
    port
}

fn closed_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn probe(ports: [u16; 4], extra: &[&str]) -> std::process::Output {
    let [api, kubelet, read_only, etcd] = ports.map(|p| p.to_string());
    bin()
        .args(["probe", "127.0.0.1", "--timeout", "5s"])
        .args(["--api-server-port", &api, "--kubelet-port", &kubelet])
        .args(["--read-only-port", &read_only, "--etcd-port", &etcd])
        .args(extra)
        .output()
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_open_kubelet_is_a_critical_finding_on_the_node() {
    let kubelet = serve_tls(answering(StatusCode::OK)).await;
    let api = serve_tls(answering(StatusCode::UNAUTHORIZED)).await;
    let ports = [api, kubelet, closed_port(), closed_port()];
    let output = tokio::task::spawn_blocking(move || probe(ports, &["-o", "json"]))
        .await
        .unwrap();
    let report = json_exiting(&output, 1);
    let findings = report["findings"].as_array().unwrap();
    assert_eq!(findings.len(), 1, "{findings:#?}");
    assert_eq!(findings[0]["rule"], "PRB001");
    assert_eq!(findings[0]["severity"], "critical");
    assert_eq!(findings[0]["subject"]["kind"], "node");
    assert_eq!(findings[0]["subject"]["name"], "127.0.0.1");
    assert_eq!(
        findings[0]["location"]["file"],
        format!("https://127.0.0.1:{kubelet}/pods")
    );
    // The closed read-only port beside the kubelet, and the API server's 401, pass.
    let coverage = report["coverage"].as_array().unwrap();
    let api_coverage = coverage.iter().find(|c| c["rule"] == "PRB002").unwrap();
    assert_eq!(api_coverage["evaluated"], 1);
    assert_eq!(api_coverage["failed"], 0);
    // SARIF carries the rule's documentation.
    let sarif = tokio::task::spawn_blocking(move || probe(ports, &["-o", "sarif"]))
        .await
        .unwrap();
    let sarif: serde_json::Value = serde_json::from_slice(&sarif.stdout).unwrap();
    let rules = sarif["runs"][0]["tool"]["driver"]["rules"]
        .as_array()
        .unwrap();
    assert!(rules.iter().any(|r| r["id"] == "PRB001"));
}

#[test]
fn a_host_where_nothing_answers_is_not_a_pass() {
    let output = probe(
        [closed_port(), closed_port(), closed_port(), closed_port()],
        &["-o", "json"],
    );
    let report = json_exiting(&output, 2);
    let diagnostics = report["diagnostics"].as_array().unwrap();
    assert!(diagnostics.iter().any(|d| {
        d["code"] == "probe-failed"
            && d["message"]
                .as_str()
                .unwrap()
                .contains("nothing was judged")
    }));
}

#[test]
fn a_url_is_refused_as_a_host() {
    let output = bin()
        .args(["probe", "https://10.0.0.1:6443"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&output.stderr).contains("is not a host"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_nodes_of_a_snapshot_are_probed_at_their_internal_address() {
    let kubelet = serve_tls(answering(StatusCode::FORBIDDEN)).await;
    let dir = common::scratch("probe-snapshot");
    let list = dir.join("nodes.json");
    std::fs::write(
        &list,
        serde_json::json!({
            "apiVersion": "v1", "kind": "List",
            "items": [{
                "apiVersion": "v1", "kind": "Node", "metadata": {"name": "worker-1"},
                "status": {"addresses": [
                    {"type": "Hostname", "address": "worker-1"},
                    {"type": "InternalIP", "address": "127.0.0.1"}
                ]}
            }]
        })
        .to_string(),
    )
    .unwrap();
    let ports = [closed_port(), kubelet, closed_port(), closed_port()];
    let snapshot = list.to_str().unwrap().to_string();
    let output = tokio::task::spawn_blocking(move || {
        let [api, kubelet, read_only, etcd] = ports.map(|p| p.to_string());
        bin()
            .args([
                "probe",
                "--snapshot",
                &snapshot,
                "-o",
                "json",
                "--fail-on",
                "medium",
            ])
            .args(["--api-server-port", &api, "--kubelet-port", &kubelet])
            .args(["--read-only-port", &read_only, "--etcd-port", &etcd])
            .output()
            .unwrap()
    })
    .await
    .unwrap();
    let report = json_exiting(&output, 1);
    let findings = report["findings"].as_array().unwrap();
    assert_eq!(findings.len(), 1, "{findings:#?}");
    assert_eq!(findings[0]["severity"], "medium");
    assert_eq!(findings[0]["subject"]["name"], "127.0.0.1");
}
