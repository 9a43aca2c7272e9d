//! Live capture against recorded API server responses (`palisade_cluster::recorded`: real
//! v1.33 response shapes served over HTTPS on loopback, since no API server can run here), read
//! by the real kube client through a real kubeconfig file.

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use palisade_cluster::recorded::{base64, server};
use palisade_cluster::{CaptureError, CaptureOptions, Quiet, capture};

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
        &palisade_snapshot::recognising_snapshots(palisade_inventory::Limits::default()),
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
    let result = capture(&options, Arc::new(Quiet)).await;
    let Err(CaptureError::Unreachable { message, .. }) = result else {
        panic!("TLS failure is reported, never bypassed: {result:?}");
    };
    // Said as kubectl says it, not as the HTTP client's "client error (Connect)".
    assert!(
        message.contains("x509: certificate signed by unknown authority"),
        "{message}"
    );
}

/// Each node's kubelet configuration is read through the node proxy only when asked, named
/// after its node; a reader refused `nodes/proxy` gets one error that says what to grant.
#[tokio::test]
async fn kubelet_configurations_are_read_through_the_node_proxy_when_asked() {
    let dir = scratch("live-kubelet-configs");
    let (kubeconfig, _) = server(&dir).await;
    let options = CaptureOptions {
        kubeconfig: Some(kubeconfig.clone()),
        request_timeout: Duration::from_secs(5),
        ..CaptureOptions::default()
    };
    let configs = |snapshot: &palisade_snapshot::Snapshot| -> Vec<serde_json::Value> {
        let mut found: Vec<serde_json::Value> = snapshot
            .items
            .iter()
            .filter(|i| i["kind"] == "KubeletConfiguration")
            .cloned()
            .collect();
        found.sort_by_key(|c| c["metadata"]["name"].as_str().unwrap_or("").to_string());
        found
    };
    let plain = capture(&options, Arc::new(Quiet)).await.expect("capture");
    assert!(configs(&plain).is_empty(), "read without being asked");
    assert!(plain.items.iter().any(|i| i["kind"] == "Node"));

    let asked = CaptureOptions {
        kubelet_configs: true,
        ..options.clone()
    };
    let snapshot = capture(&asked, Arc::new(Quiet)).await.expect("capture");
    let found = configs(&snapshot);
    let names: Vec<&str> = found
        .iter()
        .map(|c| c["metadata"]["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["cp1", "worker-1"]);
    assert_eq!(found[0]["apiVersion"], "kubelet.config.k8s.io/v1beta1");
    assert_eq!(
        found[0]["authentication"]["x509"]["clientCAFile"],
        "/etc/kubernetes/pki/ca.crt"
    );
    assert_eq!(found[1]["readOnlyPort"], 10255);
    // What a kubelet runs with, not a file: a zero timeout in it is zero (NODE002).
    assert!(
        found
            .iter()
            .all(palisade_k8s::control_plane::is_running_kubelet_configuration)
    );
    assert!(
        snapshot
            .header
            .resources
            .iter()
            .any(|r| r.kind == "KubeletConfiguration" && r.count == 2),
        "{:?}",
        snapshot.header.resources
    );
    assert!(
        snapshot
            .header
            .errors
            .iter()
            .all(|e| e.kind != "KubeletConfiguration")
    );

    // A reader that may not use the node proxy: one error for all nodes, naming the grant.
    let text = std::fs::read_to_string(&kubeconfig).unwrap().replace(
        "token: recorded-token",
        &format!(
            "token: {}",
            palisade_cluster::recorded::TOKEN_WITHOUT_BINDINGS
        ),
    );
    let refused_config = dir.join("refused.kubeconfig");
    std::fs::write(&refused_config, text).unwrap();
    let refused = CaptureOptions {
        kubeconfig: Some(refused_config),
        ..asked
    };
    let snapshot = capture(&refused, Arc::new(Quiet)).await.expect("capture");
    assert!(configs(&snapshot).is_empty());
    let errors: Vec<&palisade_snapshot::ListError> = snapshot
        .header
        .errors
        .iter()
        .filter(|e| e.kind == "KubeletConfiguration")
        .collect();
    assert_eq!(errors.len(), 1, "{errors:?}");
    assert_eq!(errors[0].status, Some(403));
    assert!(
        errors[0].message.contains("get on nodes/proxy"),
        "{}",
        errors[0].message
    );
}
