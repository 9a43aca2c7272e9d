//! Following a live cluster, against the changing recorded API server
//! (`palisade_cluster::recorded_live`: the recorded v1.33 objects served over HTTPS on
//! loopback as lists and watch streams, since no API server can run here), read by the real
//! kube client and kube-runtime's watcher through a real kubeconfig file.

use std::path::{Path, PathBuf};
use std::time::Duration;

use palisade_cluster::CaptureOptions;
use palisade_cluster::recorded_live::server;
use palisade_cluster::watch::{WatchOptions, Watched, watch};
use serde_json::{Value, json};

fn scratch(name: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join(name);
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn options(kubeconfig: PathBuf) -> WatchOptions {
    WatchOptions {
        capture: CaptureOptions {
            kubeconfig: Some(kubeconfig),
            request_timeout: Duration::from_secs(5),
            // Lists in pages of one, to follow their continue tokens.
            page_size: 1,
            ..CaptureOptions::default()
        },
        relist: Duration::from_secs(300),
    }
}

/// Waits (at most 20 s) until `done` holds of the followed cluster.
async fn until(watched: &Watched, what: &str, done: impl Fn(&Watched) -> bool) {
    let mut changes = watched.changes();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    while !done(watched) {
        if tokio::time::timeout_at(deadline, changes.changed())
            .await
            .is_err()
        {
            panic!("timed out waiting until {what}");
        }
    }
}

fn names(watched: &Watched, kind: &str) -> Vec<String> {
    watched
        .snapshot()
        .items
        .iter()
        .filter(|i| i["kind"] == kind)
        .map(|i| {
            i["metadata"]["name"]
                .as_str()
                .unwrap_or_default()
                .to_string()
        })
        .collect()
}

fn pod(name: &str, image: &str) -> Value {
    json!({"metadata": {"name": name, "namespace": "shop"},
           "spec": {"containers": [{"name": "app", "image": image}]}})
}

#[tokio::test]
async fn follows_every_type_through_additions_changes_and_deletions() {
    let dir = scratch("watch-follows");
    let (kubeconfig, cluster) = server(&dir).await;
    let watched = watch(&options(kubeconfig)).await.expect("watch");
    until(&watched, "every type is listed", Watched::settled).await;
    let snapshot = watched.snapshot();
    assert_eq!(snapshot.header.metadata.context.as_deref(), Some("live"));
    assert_eq!(names(&watched, "Pod"), ["db-0", "web-1"]);
    // Secrets may not be listed: said, with the reason, and none held.
    let refused: Vec<_> = snapshot
        .header
        .errors
        .iter()
        .map(|e| (e.resource.as_str(), e.status, e.reason.as_str()))
        .collect();
    assert_eq!(refused, [("secrets", Some(403), "forbidden")]);
    // Policy Reports are never read back.
    assert!(
        !snapshot
            .header
            .resources
            .iter()
            .any(|r| r.group == "wgpolicyk8s.io")
    );
    // What is kept has neither managedFields nor resourceVersion.
    let item = &snapshot.items[0];
    assert!(item["metadata"].get("resourceVersion").is_none(), "{item}");
    assert!(item["metadata"].get("managedFields").is_none(), "{item}");

    cluster.apply("/api/v1/pods", pod("added", "nginx:1.27"));
    until(&watched, "the added pod is seen", |w| {
        names(w, "Pod").contains(&"added".to_string())
    })
    .await;
    // Written again unchanged (a new resourceVersion alone) is no change; a new image is.
    let before = *watched.changes().borrow();
    cluster.apply("/api/v1/pods", pod("added", "nginx:1.27"));
    cluster.apply("/api/v1/pods", pod("added", "nginx:1.28"));
    until(&watched, "the new image is seen", |w| {
        w.snapshot().items.iter().any(|i| {
            i["metadata"]["name"] == "added" && i["spec"]["containers"][0]["image"] == "nginx:1.28"
        })
    })
    .await;
    let after = *watched.changes().borrow();
    assert_eq!(
        (after.all, after.judged),
        (before.all + 1, before.judged + 1)
    );
    // Its status written (as the kubelet does) is a change, of the status alone.
    let mut running = pod("added", "nginx:1.28");
    running["status"] = json!({"phase": "Running"});
    cluster.apply("/api/v1/pods", running);
    until(&watched, "the pod's status is seen", |w| {
        w.snapshot()
            .items
            .iter()
            .any(|i| i["metadata"]["name"] == "added" && i["status"]["phase"] == "Running")
    })
    .await;
    let status = *watched.changes().borrow();
    assert_eq!((status.all, status.judged), (after.all + 1, after.judged));
    assert_eq!(watched.stats().changes, status);

    assert!(cluster.delete("/api/v1/pods", "shop", "added"));
    until(&watched, "the deleted pod is gone", |w| {
        !names(w, "Pod").contains(&"added".to_string())
    })
    .await;
    let stats = watched.stats();
    assert_eq!((stats.listing, stats.failed), (0, 1));
    assert_eq!(stats.objects, watched.snapshot().items.len());
    assert!(stats.bytes > 0);
}

#[tokio::test]
async fn lists_again_when_the_watch_has_expired() {
    let dir = scratch("watch-expired");
    let (kubeconfig, cluster) = server(&dir).await;
    let watched = watch(&options(kubeconfig)).await.expect("watch");
    until(&watched, "every type is listed", Watched::settled).await;
    let lists_before = cluster.requests_starting("GET /api/v1/pods?&limit");
    // Written since the pods were listed: the API server compacts past the pods' watch's
    // resourceVersion and ends every watch; a pod is deleted meanwhile.
    cluster.apply(
        "/api/v1/configmaps",
        json!({"metadata": {"name": "later", "namespace": "shop"}, "data": {}}),
    );
    cluster.compact_and_end_watches();
    assert!(cluster.delete("/api/v1/pods", "shop", "web-1"));
    until(&watched, "the deletion is seen after listing again", |w| {
        names(w, "Pod") == ["db-0"]
    })
    .await;
    assert!(
        cluster.requests_starting("GET /api/v1/pods?") > lists_before,
        "{:?}",
        cluster.requests.lock().unwrap()
    );
    assert!(watched.stats().interruptions > 0);
}

#[tokio::test]
async fn a_type_refused_then_allowed_becomes_current() {
    let dir = scratch("watch-allowed");
    let (kubeconfig, cluster) = server(&dir).await;
    cluster.apply(
        "/api/v1/secrets",
        json!({"metadata": {"name": "db", "namespace": "shop"}, "type": "Opaque",
               "data": {"password": "c2VjcmV0"}}),
    );
    let watched = watch(&options(kubeconfig)).await.expect("watch");
    until(&watched, "every type is listed", Watched::settled).await;
    assert_eq!(watched.stats().failed, 1);
    cluster.forbid("/api/v1/secrets", false);
    until(&watched, "Secrets are listed", |w| w.stats().failed == 0).await;
    let snapshot = watched.snapshot();
    assert!(
        snapshot.header.errors.is_empty(),
        "{:?}",
        snapshot.header.errors
    );
    let secret = snapshot
        .items
        .iter()
        .find(|i| i["kind"] == "Secret")
        .expect("the Secret");
    // Read as metadata only: no value, whatever the server sent.
    assert!(!secret.to_string().contains("c2VjcmV0"), "{secret}");
}

#[tokio::test]
async fn follows_only_the_namespaces_asked_for() {
    let dir = scratch("watch-namespaces");
    let (kubeconfig, cluster) = server(&dir).await;
    let mut options = options(kubeconfig);
    options.capture.namespaces = vec!["shop".into()];
    let watched = watch(&options).await.expect("watch");
    until(&watched, "every type is listed", Watched::settled).await;
    cluster.apply(
        "/api/v1/pods",
        json!({"metadata": {"name": "elsewhere", "namespace": "other"}, "spec": {}}),
    );
    cluster.apply("/api/v1/pods", pod("here", "nginx"));
    until(&watched, "the pod in shop is seen", |w| {
        names(w, "Pod").contains(&"here".to_string())
    })
    .await;
    assert!(!names(&watched, "Pod").contains(&"elsewhere".to_string()));
    assert!(
        cluster.requests_starting("GET /api/v1/namespaces/shop/pods?") > 0,
        "{:?}",
        cluster.requests.lock().unwrap()
    );
}

#[tokio::test]
async fn kubelet_configurations_are_read_for_the_nodes_held_and_again_on_a_period() {
    let dir = scratch("watch-kubelets");
    let (kubeconfig, cluster) = server(&dir).await;
    let mut options = options(kubeconfig);
    options.capture.kubelet_configs = true;
    options.relist = Duration::from_millis(300);
    let watched = watch(&options).await.expect("watch");
    until(&watched, "every type is listed", Watched::settled).await;
    let mut configured = names(&watched, "KubeletConfiguration");
    configured.sort();
    let mut nodes = names(&watched, "Node");
    nodes.sort();
    assert!(!nodes.is_empty());
    assert_eq!(configured, nodes);
    cluster.apply(
        "/api/v1/nodes",
        json!({"metadata": {"name": "worker-9"}, "spec": {}}),
    );
    until(&watched, "the new node's kubelet is read", |w| {
        names(w, "KubeletConfiguration").contains(&"worker-9".to_string())
    })
    .await;
    // Refused (no get on nodes/proxy): said as the type's error, none held.
    cluster.forbid("/api/v1/nodes/proxy", true);
    until(&watched, "the refusal is seen", |w| {
        w.snapshot()
            .header
            .errors
            .iter()
            .any(|e| e.kind == "KubeletConfiguration" && e.status == Some(403))
    })
    .await;
    assert!(names(&watched, "KubeletConfiguration").is_empty());
}

#[tokio::test]
async fn a_type_defined_later_is_followed_and_one_no_longer_served_dropped() {
    const CRONTABS: &str = "/apis/stable.example.com/v1/crontabs";
    let dir = scratch("watch-discovery");
    let (kubeconfig, cluster) = server(&dir).await;
    let mut options = options(kubeconfig);
    options.relist = Duration::from_millis(300);
    let watched = watch(&options).await.expect("watch");
    until(&watched, "every type is listed", Watched::settled).await;
    // A CustomResourceDefinition created after the start, and an object of it.
    cluster.define("stable.example.com/v1", "crontabs", "CronTab", true);
    cluster.apply(
        CRONTABS,
        json!({"metadata": {"name": "nightly", "namespace": "shop"}, "spec": {"schedule": "0 3 * * *"}}),
    );
    until(&watched, "the new type's object is held", |w| {
        names(w, "CronTab") == ["nightly"]
    })
    .await;
    assert!(
        watched
            .snapshot()
            .header
            .resources
            .iter()
            .any(|r| r.resource == "crontabs")
    );
    // Its definition deleted: the type is dropped, not reported as failing.
    cluster.undefine(CRONTABS);
    until(&watched, "the type is dropped", |w| {
        let snapshot = w.snapshot();
        !snapshot
            .header
            .resources
            .iter()
            .any(|r| r.resource == "crontabs")
            && !snapshot
                .header
                .errors
                .iter()
                .any(|e| e.resource == "crontabs")
    })
    .await;
    assert!(names(&watched, "CronTab").is_empty());
}
