//! Probes of real HTTPS and HTTP servers on loopback, each answering as a component does:
//! a kubelet that serves anonymous requests, one that refuses them, an API server that
//! authenticates them, etcd with and without client certificates, and ports nothing listens on.
//! (The components themselves cannot run here; their answers are the status codes and TLS
//! behaviour the Kubernetes documentation and etcd's give for each setting.)

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::http::StatusCode;
use axum_server::tls_rustls::RustlsConfig;
use palisade_core::Severity;
use palisade_probe::{Endpoint, Options, probe};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};

fn answering(status: StatusCode) -> Router {
    Router::new().fallback(move || async move { (status, "{}") })
}

/// A server certificate for 127.0.0.1, and, when `client_ca` is given, a server that requires a
/// client certificate signed by it.
fn tls_config(require_client_certificate: bool) -> rustls::ServerConfig {
    let key = rcgen::KeyPair::generate().unwrap();
    let params = rcgen::CertificateParams::new(vec!["127.0.0.1".to_string()]).unwrap();
    let cert = params.self_signed(&key).unwrap();
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let builder = rustls::ServerConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()
        .unwrap();
    let builder = if require_client_certificate {
        let ca_key = rcgen::KeyPair::generate().unwrap();
        let mut ca_params = rcgen::CertificateParams::new(Vec::<String>::new()).unwrap();
        ca_params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
        let ca = ca_params.self_signed(&ca_key).unwrap();
        let mut roots = rustls::RootCertStore::empty();
        roots.add(ca.der().clone()).unwrap();
        let verifier =
            rustls::server::WebPkiClientVerifier::builder_with_provider(Arc::new(roots), provider)
                .build()
                .unwrap();
        builder.with_client_cert_verifier(verifier)
    } else {
        builder.with_no_client_auth()
    };
    let mut config = builder
        .with_single_cert(
            vec![CertificateDer::from(cert.der().to_vec())],
            PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(key.serialize_der())),
        )
        .unwrap();
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    config
}

/// Serves `router` on a loopback port, over TLS when `tls` is given; returns the port.
async fn serve(router: Router, tls: Option<rustls::ServerConfig>) -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    match tls {
        Some(config) => {
            let config = RustlsConfig::from_config(Arc::new(config));
            tokio::spawn(async move {
                axum_server::from_tcp_rustls(listener, config)
                    .unwrap()
                    .serve(router.into_make_service())
                    .await
                    .unwrap();
            });
        }
        None => {
            tokio::spawn(async move {
                axum_server::from_tcp(listener)
                    .unwrap()
                    .serve(router.into_make_service())
                    .await
                    .unwrap();
            });
        }
    }
    port
}

/// A port nothing listens on.
fn closed_port() -> u16 {
    let listener = std::net::TcpListener::bind(SocketAddr::from(([127, 0, 0, 1], 0))).unwrap();
    listener.local_addr().unwrap().port()
}

fn options(ports: [(Endpoint, u16); 4]) -> Options {
    let mut options = Options {
        timeout: Duration::from_secs(5),
        ..Options::default()
    };
    for (endpoint, port) in ports {
        options.set_port(endpoint, port);
    }
    options
}

fn run(options: Options) -> palisade_probe::Probed {
    std::thread::spawn(move || probe(&["127.0.0.1".to_string()], &options))
        .join()
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_open_node_is_found_open_on_every_endpoint() {
    let kubelet = serve(answering(StatusCode::OK), Some(tls_config(false))).await;
    let read_only = serve(answering(StatusCode::OK), None).await;
    let api = serve(answering(StatusCode::FORBIDDEN), Some(tls_config(false))).await;
    let etcd = serve(answering(StatusCode::OK), Some(tls_config(false))).await;
    let probed = run(options([
        (Endpoint::Kubelet, kubelet),
        (Endpoint::KubeletReadOnly, read_only),
        (Endpoint::ApiServer, api),
        (Endpoint::Etcd, etcd),
    ]));
    let mut found: Vec<(&str, Severity)> = probed
        .findings
        .iter()
        .map(|f| (f.rule_id(), f.severity))
        .collect();
    found.sort();
    assert_eq!(
        found,
        [
            ("PRB001", Severity::High),
            ("PRB001", Severity::Critical),
            ("PRB002", Severity::Medium),
            ("PRB003", Severity::Critical),
        ],
        "{:#?}",
        probed.findings
    );
    assert!(probed.diagnostics.is_empty(), "{:#?}", probed.diagnostics);
    assert_eq!(probed.judged, 4);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_closed_node_passes_and_what_is_not_there_is_not_judged() {
    let kubelet = serve(answering(StatusCode::UNAUTHORIZED), Some(tls_config(false))).await;
    let api = serve(answering(StatusCode::UNAUTHORIZED), Some(tls_config(false))).await;
    let etcd = serve(answering(StatusCode::OK), Some(tls_config(true))).await;
    let probed = run(options([
        (Endpoint::Kubelet, kubelet),
        (Endpoint::KubeletReadOnly, closed_port()),
        (Endpoint::ApiServer, api),
        (Endpoint::Etcd, etcd),
    ]));
    assert!(probed.findings.is_empty(), "{:#?}", probed.findings);
    assert!(probed.diagnostics.is_empty(), "{:#?}", probed.diagnostics);
    // The closed read-only port is judged (closed is the answer wanted).
    assert_eq!(probed.judged, 4);
    // Nothing listening where the kubelet should be: not judged, and not passed.
    let nothing = run(options([
        (Endpoint::Kubelet, closed_port()),
        (Endpoint::KubeletReadOnly, closed_port()),
        (Endpoint::ApiServer, closed_port()),
        (Endpoint::Etcd, closed_port()),
    ]));
    // A closed read-only port says nothing on a host whose kubelet does not answer.
    assert_eq!(nothing.judged, 0);
    assert_eq!(
        nothing
            .diagnostics
            .iter()
            .filter(|d| d.code == "probe-closed")
            .count(),
        4
    );
    let kubelet = nothing
        .coverage
        .iter()
        .find(|c| c.rule == "PRB001")
        .unwrap();
    let api_control = kubelet
        .controls
        .iter()
        .find(|c| c.control.id == "4.2.1")
        .unwrap();
    assert_eq!(api_control.evaluated, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn etcd_speaking_plain_http_is_found_and_an_odd_answer_is_said_not_judged() {
    let etcd = serve(answering(StatusCode::OK), None).await;
    let api = serve(answering(StatusCode::NOT_FOUND), Some(tls_config(false))).await;
    let probed = run(options([
        (Endpoint::Kubelet, closed_port()),
        (Endpoint::KubeletReadOnly, closed_port()),
        (Endpoint::ApiServer, api),
        (Endpoint::Etcd, etcd),
    ]));
    let etcd_findings: Vec<&str> = probed
        .findings
        .iter()
        .filter(|f| f.rule_id() == "PRB003")
        .map(|f| &*f.message)
        .collect();
    assert_eq!(etcd_findings.len(), 1, "{:#?}", probed.findings);
    assert!(
        etcd_findings[0].contains("plain HTTP"),
        "{}",
        etcd_findings[0]
    );
    assert!(
        probed
            .diagnostics
            .iter()
            .any(|d| d.code == "probe-failed" && d.message.contains("HTTP 404"))
    );
}
