//! Live capture against recorded API server responses. No Kubernetes API server can run on
//! these machines, so this harness serves real v1.33 response shapes (discovery documents,
//! typed list pages with continue tokens, a 403 Status for Secrets, a 410 Expired Status for a
//! stale continue token, an unavailable aggregated API, and a slow type) over HTTPS on loopback
//! with a freshly generated certificate, and the real kube client reads them through a real
//! kubeconfig file.

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::http::{HeaderMap, Request, StatusCode, Uri};
use axum::response::Response;
use palisade_cluster::{CaptureError, CaptureOptions, Quiet, capture};

fn recorded(name: &str) -> String {
    std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/recorded")
            .join(name),
    )
    .unwrap()
}

fn json(status: StatusCode, body: String) -> Response {
    Response::builder()
        .status(status)
        .header("content-type", "application/json")
        .body(Body::from(body))
        .unwrap()
}

#[derive(Default)]
struct Calls {
    configmaps: AtomicUsize,
    secrets_accept: std::sync::Mutex<Vec<String>>,
}

async fn api(calls: Arc<Calls>, headers: HeaderMap, uri: Uri) -> Response {
    if headers.get("authorization").and_then(|v| v.to_str().ok()) != Some("Bearer recorded-token") {
        return json(StatusCode::UNAUTHORIZED, r#"{"kind":"Status","apiVersion":"v1","status":"Failure","message":"Unauthorized","reason":"Unauthorized","code":401}"#.into());
    }
    let query = uri.query().unwrap_or("");
    let ok = |name: &str| json(StatusCode::OK, recorded(name));
    match uri.path() {
        "/version" => ok("version.json"),
        "/api" => json(
            StatusCode::OK,
            r#"{"kind":"APIVersions","versions":["v1"]}"#.into(),
        ),
        "/api/v1" => ok("api-v1.json"),
        "/apis" => ok("apis.json"),
        "/apis/apps/v1" => ok("apps-v1.json"),
        "/apis/rbac.authorization.k8s.io/v1" => ok("rbac-v1.json"),
        "/apis/metrics.k8s.io/v1beta1" => json(
            StatusCode::SERVICE_UNAVAILABLE,
            recorded("metrics-unavailable.json"),
        ),
        "/api/v1/pods" if query.contains("continue=") => ok("pods-page2.json"),
        "/api/v1/pods" => ok("pods-page1.json"),
        "/api/v1/secrets" => {
            calls.secrets_accept.lock().unwrap().push(
                headers
                    .get("accept")
                    .and_then(|v| v.to_str().ok())
                    .unwrap_or("")
                    .to_string(),
            );
            json(StatusCode::FORBIDDEN, recorded("secrets-forbidden.json"))
        }
        "/api/v1/configmaps" => {
            // First: a page with a continue token; then the token has expired (410); then a
            // fresh list succeeds.
            match calls.configmaps.fetch_add(1, Ordering::SeqCst) {
                0 => ok("configmaps-page1.json"),
                1 => json(StatusCode::GONE, recorded("configmaps-gone.json")),
                _ => ok("configmaps-all.json"),
            }
        }
        "/api/v1/namespaces" => ok("namespaces.json"),
        "/api/v1/serviceaccounts" => ok("serviceaccounts.json"),
        "/apis/apps/v1/deployments" => {
            tokio::time::sleep(Duration::from_secs(3)).await;
            ok("deployments.json")
        }
        "/apis/apps/v1/replicasets" => ok("replicasets.json"),
        "/apis/rbac.authorization.k8s.io/v1/clusterroles" => ok("clusterroles.json"),
        "/apis/rbac.authorization.k8s.io/v1/clusterrolebindings" => ok("clusterrolebindings.json"),
        other => json(
            StatusCode::NOT_FOUND,
            format!(
                r#"{{"kind":"Status","apiVersion":"v1","status":"Failure","message":"the server could not find the requested resource ({other})","reason":"NotFound","code":404}}"#
            ),
        ),
    }
}

fn base64(bytes: &[u8]) -> String {
    const TABLE: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::new();
    for chunk in bytes.chunks(3) {
        let n = (u32::from(chunk[0]) << 16)
            | (u32::from(*chunk.get(1).unwrap_or(&0)) << 8)
            | u32::from(*chunk.get(2).unwrap_or(&0));
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(TABLE[(n >> (18 - 6 * i)) as usize & 63] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// Starts the recorded API server; returns its kubeconfig and the call log.
async fn server(dir: &Path) -> (PathBuf, Arc<Calls>) {
    let cert =
        rcgen::generate_simple_self_signed(vec!["127.0.0.1".to_string(), "localhost".to_string()])
            .unwrap();
    let cert_pem = cert.cert.pem();
    let key_pem = cert.signing_key.serialize_pem();
    let config = axum_server::tls_rustls::RustlsConfig::from_pem(
        cert_pem.clone().into_bytes(),
        key_pem.into_bytes(),
    )
    .await
    .unwrap();
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let calls = Arc::new(Calls::default());
    let state = calls.clone();
    let app = Router::new().fallback(move |req: Request<Body>| {
        let calls = state.clone();
        async move {
            let (parts, _) = req.into_parts();
            api(calls, parts.headers, parts.uri).await
        }
    });
    let server = axum_server::from_tcp_rustls(listener, config).unwrap();
    tokio::spawn(async move { server.serve(app.into_make_service()).await });
    let kubeconfig = dir.join("kubeconfig");
    std::fs::write(
        &kubeconfig,
        format!(
            "apiVersion: v1\nkind: Config\ncurrent-context: recorded\nclusters:\n- name: recorded\n  cluster:\n    server: https://127.0.0.1:{port}\n    certificate-authority-data: {}\ncontexts:\n- name: recorded\n  context: {{cluster: recorded, user: auditor}}\nusers:\n- name: auditor\n  user: {{token: recorded-token}}\n",
            base64(cert_pem.as_bytes())
        ),
    )
    .unwrap();
    (kubeconfig, calls)
}

fn scratch(name: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join(name);
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

#[tokio::test]
async fn captures_every_listable_type_and_records_what_failed() {
    let dir = scratch("live-capture");
    let (kubeconfig, calls) = server(&dir).await;
    let options = CaptureOptions {
        kubeconfig: Some(kubeconfig),
        request_timeout: Duration::from_secs(1),
        page_size: 1,
        ..CaptureOptions::default()
    };
    let snapshot = capture(&options, Arc::new(Quiet)).await.expect("capture");
    let meta = &snapshot.header.metadata;
    assert_eq!(meta.context.as_deref(), Some("recorded"));
    assert_eq!(meta.cluster_version.as_deref(), Some("v1.33.4"));
    let names: Vec<String> = snapshot
        .items
        .iter()
        .map(|i| {
            format!(
                "{}/{}",
                i["kind"].as_str().unwrap(),
                i["metadata"]["name"].as_str().unwrap()
            )
        })
        .collect();
    // Both pages of pods; configmaps after the expired continue token was restarted.
    for expected in [
        "Pod/web-1",
        "Pod/db-0",
        "ConfigMap/app-config",
        "ConfigMap/kube-root-ca.crt",
        "ReplicaSet/web-6d4cf56db6",
        "ClusterRoleBinding/web-exec",
        "Namespace/shop",
    ] {
        assert!(
            names.contains(&expected.to_string()),
            "{expected} missing from {names:?}"
        );
    }
    assert!(
        !names.iter().any(|n| n.starts_with("Event/")),
        "events are not read"
    );
    // Typed list items got their apiVersion and kind.
    let pod = snapshot
        .items
        .iter()
        .find(|i| i["metadata"]["name"] == "web-1")
        .unwrap();
    assert_eq!(pod["apiVersion"], "v1");
    let errors: Vec<(String, String, Option<u16>)> = snapshot
        .header
        .errors
        .iter()
        .map(|e| (e.resource.clone(), e.reason.clone(), e.status))
        .collect();
    assert!(
        errors.contains(&("secrets".into(), "forbidden".into(), Some(403))),
        "{errors:?}"
    );
    assert!(
        errors.contains(&("deployments".into(), "timeout".into(), None)),
        "{errors:?}"
    );
    // The aggregated API answers 503; the client retries 503s with back-off, so within the
    // one-second budget it is reported as a server error or a timeout, never dropped.
    let metrics = snapshot
        .header
        .errors
        .iter()
        .find(|e| e.group == "metrics.k8s.io")
        .expect("the unavailable aggregated API is recorded");
    assert!(
        matches!(metrics.reason.as_str(), "server-error" | "timeout"),
        "{metrics:?}"
    );
    assert!(
        !errors.iter().any(|(r, _, _)| r == "configmaps"),
        "410 on continue restarts the list"
    );
    // Secrets were asked for as metadata only.
    let accept = calls.secrets_accept.lock().unwrap().clone();
    assert!(
        accept
            .iter()
            .all(|a| a.starts_with("application/json;as=PartialObjectMetadataList")),
        "{accept:?}"
    );

    // The snapshot reads back, and a scan of it judges the Pod on its ReplicaSet.
    let mut bytes = Vec::new();
    snapshot.write(&mut bytes).unwrap();
    let loaded = palisade_inventory::load_text(
        "snap.json",
        std::str::from_utf8(&bytes).unwrap(),
        &palisade_inventory::Limits::default(),
    );
    assert!(loaded.diagnostics.is_empty(), "{:?}", loaded.diagnostics);
    assert_eq!(loaded.inventory.objects.len(), snapshot.items.len());
    let web = loaded
        .inventory
        .objects
        .iter()
        .position(|o| o.id.name.as_deref() == Some("web-1"))
        .unwrap();
    let owner = loaded.inventory.controller_of(web).unwrap();
    assert_eq!(loaded.inventory.objects[owner].id.kind, "ReplicaSet");
}

#[tokio::test]
async fn an_unreachable_cluster_names_the_context_and_endpoint() {
    let dir = scratch("live-unreachable");
    // A port nothing listens on.
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let kubeconfig = dir.join("kubeconfig");
    std::fs::write(
        &kubeconfig,
        format!("apiVersion: v1\nkind: Config\ncurrent-context: gone\nclusters:\n- name: gone\n  cluster: {{server: 'https://127.0.0.1:{port}', insecure-skip-tls-verify: true}}\ncontexts:\n- name: gone\n  context: {{cluster: gone, user: u}}\nusers:\n- name: u\n  user: {{token: t}}\n"),
    )
    .unwrap();
    let options = CaptureOptions {
        kubeconfig: Some(kubeconfig),
        request_timeout: Duration::from_secs(2),
        ..CaptureOptions::default()
    };
    match capture(&options, Arc::new(Quiet)).await {
        Err(CaptureError::Unreachable {
            context, server, ..
        }) => {
            assert_eq!(context, "gone");
            assert!(server.contains(&port.to_string()));
        }
        other => panic!(
            "expected Unreachable, got {:?}",
            other.map(|s| s.items.len())
        ),
    }
}

#[tokio::test]
async fn a_certificate_the_kubeconfig_does_not_trust_is_refused() {
    let dir = scratch("live-bad-tls");
    let (kubeconfig, _) = server(&dir).await;
    // Replace the trusted CA with another, unrelated certificate.
    let other = rcgen::generate_simple_self_signed(vec!["localhost".to_string()]).unwrap();
    let text = std::fs::read_to_string(&kubeconfig).unwrap();
    let start =
        text.find("certificate-authority-data: ").unwrap() + "certificate-authority-data: ".len();
    let end = text[start..].find('\n').unwrap() + start;
    let replaced = format!(
        "{}{}{}",
        &text[..start],
        base64(other.cert.pem().as_bytes()),
        &text[end..]
    );
    std::fs::write(&kubeconfig, replaced).unwrap();
    let options = CaptureOptions {
        kubeconfig: Some(kubeconfig),
        request_timeout: Duration::from_secs(2),
        ..CaptureOptions::default()
    };
    assert!(
        matches!(
            capture(&options, Arc::new(Quiet)).await,
            Err(CaptureError::Unreachable { .. })
        ),
        "TLS failure is reported, never bypassed"
    );
}
