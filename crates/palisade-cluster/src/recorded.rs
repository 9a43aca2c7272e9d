//! A recorded Kubernetes API server for tests (feature `recorded-server`). No API server can
//! run on these machines, so this serves real v1.33 response shapes (discovery documents,
//! typed list pages with continue tokens, a 403 Status for Secrets, a 410 Expired Status for a
//! stale continue token, an unavailable aggregated API, a slow type, a Namespace created
//! after the list was read, found by name, and two nodes whose kubelets' `/configz` answers
//! through the node proxy, one of them a real kubelet's) over HTTPS on
//! loopback with a freshly generated certificate, and writes a kubeconfig that trusts it.

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::http::{HeaderMap, Request, StatusCode, Uri};
use axum::response::Response;

pub fn recorded(name: &str) -> String {
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
pub struct Calls {
    pub configmaps: AtomicUsize,
    /// The Accept header of every Secrets list.
    pub secrets_accept: std::sync::Mutex<Vec<String>>,
}

/// The token of a reader that may not list ClusterRoleBindings (otherwise as `recorded-token`).
pub const TOKEN_WITHOUT_BINDINGS: &str = "recorded-token-without-bindings";

async fn api(calls: Arc<Calls>, headers: HeaderMap, uri: Uri) -> Response {
    let token = headers.get("authorization").and_then(|v| v.to_str().ok());
    let without_bindings = token == Some(&format!("Bearer {TOKEN_WITHOUT_BINDINGS}"));
    if token != Some("Bearer recorded-token") && !without_bindings {
        return json(StatusCode::UNAUTHORIZED, r#"{"kind":"Status","apiVersion":"v1","status":"Failure","message":"Unauthorized","reason":"Unauthorized","code":401}"#.into());
    }
    if without_bindings && uri.path() == "/apis/rbac.authorization.k8s.io/v1/clusterrolebindings" {
        return json(
            StatusCode::FORBIDDEN,
            recorded("secrets-forbidden.json")
                .replace("secrets", "clusterrolebindings")
                .replace(
                    r#"API group \"\""#,
                    r#"API group \"rbac.authorization.k8s.io\""#,
                ),
        );
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
        // `late` was created after the list was read: found by name only.
        "/api/v1/namespaces/shop" => json(
            StatusCode::OK,
            serde_json::from_str::<serde_json::Value>(&recorded("namespaces.json")).unwrap()
                ["items"][0]
                .to_string(),
        ),
        "/api/v1/namespaces/late" => ok("namespace-late.json"),
        namespace if namespace.starts_with("/api/v1/namespaces/") && namespace.matches('/').count() == 4 => {
            let name = namespace.rsplit('/').next().unwrap_or("");
            json(
                StatusCode::NOT_FOUND,
                format!(
                    r#"{{"kind":"Status","apiVersion":"v1","metadata":{{}},"status":"Failure","message":"namespaces \"{name}\" not found","reason":"NotFound","details":{{"name":"{name}","kind":"namespaces"}},"code":404}}"#
                ),
            )
        }
        "/api/v1/serviceaccounts" => ok("serviceaccounts.json"),
        "/api/v1/nodes" => ok("nodes.json"),
        // A reader without `get` on nodes/proxy is refused, as the API server refuses it.
        path if path.ends_with("/proxy/configz") && without_bindings => json(
            StatusCode::FORBIDDEN,
            r#"{"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure","message":"nodes \"cp1\" is forbidden: User \"reader\" cannot get resource \"nodes/proxy\" in API group \"\" at the cluster scope","reason":"Forbidden","details":{"name":"cp1","kind":"nodes"},"code":403}"#.into(),
        ),
        // The control-plane node's kubelet runs kubeadm's configuration (a real /configz
        // answer); the worker's was started with anonymous access and the read-only port.
        "/api/v1/nodes/cp1/proxy/configz" => ok("configz-kubeadm.json"),
        "/api/v1/nodes/worker-1/proxy/configz" => {
            let mut body: serde_json::Value =
                serde_json::from_str(&recorded("configz-kubeadm.json")).unwrap();
            body["kubeletconfig"]["authentication"]["anonymous"]["enabled"] = true.into();
            body["kubeletconfig"]["readOnlyPort"] = 10255.into();
            json(StatusCode::OK, body.to_string())
        }
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

pub fn base64(bytes: &[u8]) -> String {
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
pub async fn server(dir: &Path) -> (PathBuf, Arc<Calls>) {
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
