//! Serves a cluster's objects as the changing recorded API server does (lists, watch
//! streams), for the benchmarks of reading and following a cluster (`bench/watch-50k.sh`).
//! Usage: `live_server OBJECTS.json DIR`: OBJECTS.json holds the objects under `items` (a
//! snapshot or a List); the kubeconfig is written to DIR/kubeconfig, then `ready` is printed
//! and the server runs until killed.

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
    let (kubeconfig, _cluster, skipped) =
        palisade_cluster::recorded_live::serve_objects(&PathBuf::from(dir), items).await;
    println!(
        "ready: {} objects served, {skipped} of types not served; {}",
        count - skipped,
        kubeconfig.display()
    );
    std::future::pending::<()>().await;
}
