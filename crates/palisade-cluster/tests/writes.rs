//! What Palisade writes to a cluster: the Lease of its leader election and its Policy
//! Reports, against the changing recorded API server (`palisade_cluster::recorded_live`,
//! which takes writes as the API server does: creates, replaces that must name the current
//! resourceVersion, server-side applies, lists by label, deletes), over HTTPS on loopback
//! since no API server can run here.

use std::path::{Path, PathBuf};
use std::time::Duration;

use palisade_cluster::CaptureOptions;
use palisade_cluster::lease::{Elector, LeaseOptions, Round};
use palisade_cluster::publish::{Published, Publisher};
use palisade_cluster::recorded_live::server;
use serde_json::json;

const LEASES: &str = "/apis/coordination.k8s.io/v1/leases";

fn scratch(name: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join(name);
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn capture(kubeconfig: &Path) -> CaptureOptions {
    CaptureOptions {
        kubeconfig: Some(kubeconfig.to_path_buf()),
        request_timeout: Duration::from_secs(5),
        ..CaptureOptions::default()
    }
}

async fn elector(kubeconfig: &Path, identity: &str) -> Elector {
    let options = LeaseOptions {
        namespace: "palisade".into(),
        name: "palisade-watch".into(),
        identity: identity.into(),
        duration: Duration::from_secs(2),
    };
    Elector::connect(&capture(kubeconfig), options)
        .await
        .expect("connect")
}

fn holder(cluster: &palisade_cluster::recorded_live::LiveCluster) -> (String, i64) {
    let lease = cluster
        .get(LEASES, "palisade", "palisade-watch")
        .expect("the Lease");
    (
        lease["spec"]["holderIdentity"]
            .as_str()
            .unwrap_or_default()
            .to_string(),
        lease["spec"]["leaseTransitions"].as_i64().unwrap_or(-1),
    )
}

#[tokio::test]
async fn one_replica_leads_until_it_stops_renewing() {
    let dir = scratch("lease-leads");
    let (kubeconfig, cluster) = server(&dir).await;
    let mut a = elector(&kubeconfig, "palisade-a").await;
    let mut b = elector(&kubeconfig, "palisade-b").await;
    assert_eq!(a.round().await.unwrap(), Round::Leading);
    assert!(a.leading());
    assert_eq!(holder(&cluster), ("palisade-a".into(), 0));
    let following = Round::Following {
        holder: "palisade-a".into(),
    };
    assert_eq!(b.round().await.unwrap(), following);
    assert!(!b.leading());
    // A renews; B keeps seeing the record change, so A keeps it.
    for _ in 0..3 {
        tokio::time::sleep(Duration::from_millis(700)).await;
        assert_eq!(a.round().await.unwrap(), Round::Leading);
        assert_eq!(b.round().await.unwrap(), following);
    }
    // A stops renewing: past its renew deadline it no longer acts as leader, and once the
    // record has not changed for the lease's duration (as B saw it), B takes it.
    let mut rounds = 0;
    while b.round().await.unwrap() != Round::Leading {
        rounds += 1;
        assert!(rounds < 40, "B never took the lapsed Lease");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    assert!(!a.leading());
    assert_eq!(holder(&cluster), ("palisade-b".into(), 1));
    assert_eq!(
        a.round().await.unwrap(),
        Round::Following {
            holder: "palisade-b".into()
        }
    );
}

#[tokio::test]
async fn of_two_replicas_racing_for_a_lapsed_lease_one_wins() {
    let dir = scratch("lease-race");
    let (kubeconfig, cluster) = server(&dir).await;
    cluster.apply(
        LEASES,
        json!({"metadata": {"name": "palisade-watch", "namespace": "palisade"},
               "spec": {"holderIdentity": "palisade-gone", "leaseDurationSeconds": 1,
                        "renewTime": "2026-01-01T00:00:00.000000Z", "leaseTransitions": 4}}),
    );
    let mut a = elector(&kubeconfig, "palisade-a").await;
    let mut b = elector(&kubeconfig, "palisade-b").await;
    // Both first see the record, then wait out its duration (their own clocks, not its
    // renew time from long ago).
    assert!(matches!(a.round().await.unwrap(), Round::Following { .. }));
    assert!(matches!(b.round().await.unwrap(), Round::Following { .. }));
    tokio::time::sleep(Duration::from_millis(1100)).await;
    let (ra, rb) = tokio::join!(a.round(), b.round());
    let leaders = [ra.unwrap(), rb.unwrap()]
        .iter()
        .filter(|r| **r == Round::Leading)
        .count();
    assert_eq!(leaders, 1);
    assert_eq!(a.leading() as u8 + b.leading() as u8, 1);
    assert_eq!(holder(&cluster).1, 5);
}

#[tokio::test]
async fn a_released_lease_is_taken_at_once_and_a_refusal_is_an_error() {
    let dir = scratch("lease-release");
    let (kubeconfig, cluster) = server(&dir).await;
    let mut a = elector(&kubeconfig, "palisade-a").await;
    let mut b = elector(&kubeconfig, "palisade-b").await;
    assert_eq!(a.round().await.unwrap(), Round::Leading);
    assert!(matches!(b.round().await.unwrap(), Round::Following { .. }));
    a.release().await.unwrap();
    assert!(!a.leading());
    assert_eq!(b.round().await.unwrap(), Round::Leading);
    cluster.forbid(LEASES, true);
    let error = b.round().await.unwrap_err();
    assert_eq!(error.status, Some(403));
    assert!(
        error
            .to_string()
            .starts_with("lease palisade/palisade-watch: "),
        "{error}"
    );
}

fn report(kind: &str, namespace: Option<&str>, name: &str, message: &str) -> serde_json::Value {
    let mut metadata =
        json!({"name": name, "labels": {"app.kubernetes.io/managed-by": "palisade"}});
    if let Some(namespace) = namespace {
        metadata["namespace"] = namespace.into();
    }
    json!({"apiVersion": "wgpolicyk8s.io/v1alpha2", "kind": kind, "metadata": metadata,
           "results": [{"policy": "POD001", "result": "fail", "message": message}]})
}

#[tokio::test]
async fn reports_are_applied_and_those_no_longer_written_deleted() {
    const REPORTS: &str = "/apis/wgpolicyk8s.io/v1alpha2/policyreports";
    const CLUSTER_REPORTS: &str = "/apis/wgpolicyk8s.io/v1alpha2/clusterpolicyreports";
    let dir = scratch("publish");
    let (kubeconfig, cluster) = server(&dir).await;
    // Another tool's report, and one of ours by hand under another name: left alone.
    cluster.apply(
        REPORTS,
        json!({"metadata": {"name": "kyverno-shop", "namespace": "shop"}, "results": []}),
    );
    cluster.apply(
        REPORTS,
        json!({"metadata": {"name": "audit-shop", "namespace": "shop",
                            "labels": {"app.kubernetes.io/managed-by": "palisade"}}}),
    );
    let publisher = Publisher::connect(&capture(&kubeconfig)).await.unwrap();
    let first = [
        report("PolicyReport", Some("shop"), "palisade-shop", "privileged"),
        report("PolicyReport", Some("pay"), "palisade-pay", "root"),
        report("ClusterPolicyReport", None, "palisade-cluster", "binding"),
    ];
    assert_eq!(
        publisher.publish(&first).await.unwrap(),
        Published {
            applied: 3,
            deleted: 0
        }
    );
    let stored = cluster.get(REPORTS, "shop", "palisade-shop").unwrap();
    assert_eq!(stored["results"][0]["message"], "privileged");
    assert!(
        cluster
            .get(CLUSTER_REPORTS, "", "palisade-cluster")
            .is_some()
    );
    // The next run: pay is clean, shop's finding changed.
    let second = [
        report(
            "PolicyReport",
            Some("shop"),
            "palisade-shop",
            "privileged, as root",
        ),
        report("ClusterPolicyReport", None, "palisade-cluster", "binding"),
    ];
    assert_eq!(
        publisher.publish(&second).await.unwrap(),
        Published {
            applied: 2,
            deleted: 1
        }
    );
    assert!(cluster.get(REPORTS, "pay", "palisade-pay").is_none());
    let stored = cluster.get(REPORTS, "shop", "palisade-shop").unwrap();
    assert_eq!(stored["results"][0]["message"], "privileged, as root");
    assert!(cluster.get(REPORTS, "shop", "kyverno-shop").is_some());
    assert!(cluster.get(REPORTS, "shop", "audit-shop").is_some());
    // Refused: an error naming the report, with the status.
    cluster.forbid(REPORTS, true);
    let error = publisher.publish(&second).await.unwrap_err();
    assert!(
        error
            .to_string()
            .starts_with("writing PolicyReport shop/palisade-shop: "),
        "{error}"
    );
}
