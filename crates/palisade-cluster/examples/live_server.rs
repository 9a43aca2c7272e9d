//! Serves a cluster's objects as the changing recorded API server does (lists, watch
//! streams), for the benchmarks of reading and following a cluster (`bench/watch-50k.sh`).
//! Usage: `live_server OBJECTS.json DIR`: OBJECTS.json holds the objects under `items` (a
//! snapshot or a List); the kubeconfig is written to DIR/kubeconfig, then `ready` is printed
//! and the server runs until killed. With `CHURN=N` in the environment, N Pods a second have
//! their status written again (a condition's `lastProbeTime`, as the kubelet writes it), in
//! turn (`bench/watch-churn.sh`).

use std::path::PathBuf;

#[tokio::main]
async fn main() {
    let mut args = std::env::args().skip(1);
    let (Some(objects), Some(dir)) = (args.next(), args.next()) else {
        eprintln!("usage: live_server OBJECTS.json DIR");
        std::process::exit(2);
    };
    let text = match std::fs::read_to_string(&objects) {
        Ok(text) => text,
        Err(e) => {
            eprintln!("live_server: {objects}: {e}");
            std::process::exit(2);
        }
    };
    let mut document: serde_json::Value = match serde_json::from_str(&text) {
        Ok(document) => document,
        Err(e) => {
            eprintln!("live_server: {objects}: {e}");
            std::process::exit(2);
        }
    };
    drop(text);
    let items = match document.get_mut("items").map(serde_json::Value::take) {
        Some(serde_json::Value::Array(items)) => items,
        _ => {
            eprintln!("live_server: {objects}: no items");
            std::process::exit(2);
        }
    };
    let count = items.len();
    let (kubeconfig, cluster, skipped) =
        palisade_cluster::recorded_live::serve_objects(&PathBuf::from(dir), items).await;
    println!(
        "ready: {} objects served, {skipped} of types not served; {}",
        count - skipped,
        kubeconfig.display()
    );
    let churn: u64 = std::env::var("CHURN")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(0);
    if churn == 0 {
        std::future::pending::<()>().await;
    }
    churn_status(&cluster, churn).await;
}

/// Writes the status of `per_second` Pods a second, in turn, for ever.
async fn churn_status(cluster: &palisade_cluster::recorded_live::LiveCluster, per_second: u64) {
    const PODS: &str = "/api/v1/pods";
    let keys: Vec<(String, String)> = cluster
        .list(PODS)
        .iter()
        .map(|pod| {
            let text = |field: &str| pod["metadata"][field].as_str().unwrap_or("").to_string();
            (text("namespace"), text("name"))
        })
        .collect();
    if keys.is_empty() {
        return std::future::pending::<()>().await;
    }
    let mut next = keys.iter().cycle();
    let mut tick = tokio::time::interval(std::time::Duration::from_millis(100));
    let mut written: u64 = 0;
    loop {
        tick.tick().await;
        for _ in 0..per_second.div_ceil(10) {
            let Some((namespace, name)) = next.next() else {
                continue;
            };
            let Some(mut pod) = cluster.get(PODS, namespace, name) else {
                continue;
            };
            written += 1;
            pod["status"] = serde_json::json!({"phase": "Running", "conditions": [
                {"type": "Ready", "status": "True", "lastProbeTime": written.to_string()}]});
            cluster.apply(PODS, pod);
        }
    }
}
