//! The connectivity matrix of a synthetic cluster: 100 namespaces of 20 workloads (a unique
//! `app` label each, three tiers, named ports) and 10 NetworkPolicies per namespace (1,000:
//! default deny, DNS, tier-to-tier, cross-namespace by label, named ports, ipBlocks with
//! except). Prints the time to read the network, prepare the engine and compute every pair,
//! next to a baseline measured in the same run: evaluating pairs one by one, pod by pod
//! (timed on the first 100 sources and scaled to all), and the peak resident memory.
//!
//! `cargo bench -p palisade-net` (release profile).

use std::sync::Arc;
use std::time::Instant;

use palisade_inventory::{Limits, load_values};
use palisade_net::matrix::matrix;
use palisade_net::{Engine, Network, Party};
use serde_json::{Value, json};

const NAMESPACES: usize = 100;
const WORKLOADS: usize = 20;
const TIERS: [&str; 3] = ["frontend", "backend", "db"];

fn cluster() -> Vec<Value> {
    let mut items = Vec::new();
    for n in 0..NAMESPACES {
        let ns = format!("ns-{n:03}");
        items.push(json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": ns,
            "labels": {"team": format!("t{}", n % 10), "env": if n % 2 == 0 { "prod" } else { "dev" }}}}));
        for w in 0..WORKLOADS {
            let app = format!("{ns}-w{w:02}");
            items.push(json!({"apiVersion": "apps/v1", "kind": "Deployment",
                "metadata": {"name": format!("w{w:02}"), "namespace": ns},
                "spec": {"selector": {"matchLabels": {"app": app}},
                    "template": {"metadata": {"labels": {"app": app, "tier": TIERS[w % 3]}},
                        "spec": {"containers": [{"name": "c", "image": "registry.example.com/app:1",
                            "ports": [{"name": "http", "containerPort": 8080}, {"name": "metrics", "containerPort": 9090},
                                      {"name": "pg", "containerPort": 5432}]}]}}}}));
        }
        let policy = |name: &str, spec: Value| {
            json!({"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy",
            "metadata": {"name": name, "namespace": ns}, "spec": spec})
        };
        let tier = |t: &str| json!({"matchLabels": {"tier": t}});
        items.extend([
            policy("default-deny", json!({"podSelector": {}, "policyTypes": ["Ingress", "Egress"]})),
            policy("dns", json!({"podSelector": {}, "policyTypes": ["Egress"], "egress": [{"to": [{"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "kube-system"}}}], "ports": [{"port": 53, "protocol": "UDP"}]}]})),
            policy("web-in", json!({"podSelector": tier("frontend"), "ingress": [{"from": [{"ipBlock": {"cidr": "0.0.0.0/0", "except": ["10.0.0.0/8", format!("192.168.{n}.0/24")]}}], "ports": [{"port": 8080}]}]})),
            policy("api-in", json!({"podSelector": tier("backend"), "ingress": [{"from": [{"podSelector": tier("frontend")}], "ports": [{"port": "http"}]}]})),
            policy("db-in", json!({"podSelector": tier("db"), "ingress": [{"from": [{"podSelector": tier("backend")}], "ports": [{"port": 5432}]}]})),
            policy("web-out", json!({"podSelector": tier("frontend"), "policyTypes": ["Egress"], "egress": [{"to": [{"podSelector": tier("backend")}], "ports": [{"port": 8080}]}]})),
            policy("api-out", json!({"podSelector": tier("backend"), "policyTypes": ["Egress"], "egress": [{"to": [{"podSelector": tier("db")}], "ports": [{"port": 5432}]}, {"to": [{"ipBlock": {"cidr": "203.0.113.0/24"}}], "ports": [{"port": 443}]}]})),
            policy("metrics-in", json!({"podSelector": {}, "ingress": [{"from": [{"namespaceSelector": {"matchLabels": {"team": "t0"}}}], "ports": [{"port": "metrics"}]}]})),
            policy("peer-api-in", json!({"podSelector": tier("backend"), "ingress": [{"from": [{"namespaceSelector": {"matchLabels": {"env": "prod"}}, "podSelector": tier("backend")}], "ports": [{"port": 8080, "endPort": 8090}]}]})),
            policy("peer-api-out", json!({"podSelector": tier("backend"), "policyTypes": ["Egress"], "egress": [{"to": [{"namespaceSelector": {"matchLabels": {"env": "prod"}}, "podSelector": tier("backend")}]}]})),
        ]);
    }
    items
}

fn peak_rss_mib() -> Option<f64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kib: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib / 1024.0)
}

fn main() {
    let items = cluster();
    let loaded = load_values("synthetic", items, 1, &Limits::default());
    let start = Instant::now();
    let network = Arc::new(Network::from_inventory(&loaded.inventory));
    let read = start.elapsed();
    let start = Instant::now();
    let engine = Engine::new(Arc::clone(&network));
    let prepared = start.elapsed();
    let start = Instant::now();
    let connections = matrix(&engine, None);
    let computed = start.elapsed();
    let total = read + prepared + computed;
    println!(
        "synthetic cluster: {} workloads, {} namespaces, {} policies",
        network.endpoints.len(),
        NAMESPACES,
        network.policies.len()
    );
    println!(
        "matrix: {} connections in {:.3} s (read {:.3} s, prepare {:.3} s, pairs {:.3} s)",
        connections.len(),
        total.as_secs_f64(),
        read.as_secs_f64(),
        prepared.as_secs_f64(),
        computed.as_secs_f64()
    );
    // Baseline: the same engine asked pair by pair for every workload, no grouping.
    let sample = 100.min(network.endpoints.len());
    let start = Instant::now();
    let mut allowed = 0usize;
    for s in 0..sample {
        for d in 0..network.endpoints.len() {
            if s != d
                && !engine
                    .verdict(Party::Pod(s), Party::Pod(d), None)
                    .conn
                    .is_empty()
            {
                allowed += 1;
            }
        }
    }
    let per_source = start.elapsed().as_secs_f64() / sample as f64;
    let baseline = per_source * network.endpoints.len() as f64;
    println!(
        "baseline (pod by pod, {sample} sources timed, {allowed} allowed pairs): {baseline:.3} s for all workload pairs; the matrix is {:.1}x faster and also covers external ranges and the ingress controller",
        baseline / computed.as_secs_f64().max(1e-9)
    );
    if let Some(rss) = peak_rss_mib() {
        println!("peak resident memory: {rss:.0} MiB");
    }
}
