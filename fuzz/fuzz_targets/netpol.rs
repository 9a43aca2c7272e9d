//! Fuzzes the network engine: any text read as manifests (policies of every layer, workloads,
//! Services, Ingresses) must give a network, a matrix and explanations, never a panic; every
//! connection listed is non-empty or marked not final, and a `why` for a pair agrees with the
//! matrix; and when the last object is a lone endpoint that is no owner of the others, the
//! network of the others extended by it is the network read afresh.
//! Run: `cargo install cargo-fuzz && cd fuzz && RUSTC_BOOTSTRAP=1 cargo fuzz run netpol`.
#![no_main]

use std::sync::Arc;

use libfuzzer_sys::fuzz_target;
use palisade_inventory::{Limits, load_text};
use palisade_net::matrix::matrix;
use palisade_net::{Engine, Network, Party};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let loaded = load_text("fuzz.yaml", text, &Limits::default());
    let network = Arc::new(Network::from_inventory(&loaded.inventory));
    if network.endpoints.len() > 64 {
        return;
    }
    extension_agrees(&loaded.inventory, &network);
    let engine = Engine::new(Arc::clone(&network));
    for c in matrix(&engine, None) {
        assert!(!c.conn.is_empty() || !c.not_evaluated.is_empty());
    }
    // One memo for every source, as the escalation graph asks.
    let mut onward = engine.onward();
    for s in 0..network.endpoints.len() {
        for d in 0..network.endpoints.len() {
            let mut steps = Vec::new();
            let traced = engine.verdict(Party::Pod(s), Party::Pod(d), Some(&mut steps));
            let plain = engine.verdict(Party::Pod(s), Party::Pod(d), None);
            assert_eq!(traced, plain);
        }
        let _ = engine.from_outside(s);
        // What the endpoint may open onward is what it may open to each other endpoint,
        // notes included (a pair none of whose answer is final is kept).
        let reached: Vec<(usize, palisade_net::Verdict)> =
            onward.from(s).map(|(d, v)| (d, v.clone())).collect();
        let direct: Vec<(usize, palisade_net::Verdict)> = (0..network.endpoints.len())
            .filter(|&d| d != s)
            .map(|d| (d, engine.verdict(Party::Pod(s), Party::Pod(d), None)))
            .filter(|(_, v)| !v.conn.is_empty() || !v.not_evaluated.is_empty())
            .collect();
        assert_eq!(reached, direct);
    }
});

/// `Network::with_lone_endpoint` of the network without the last object gives `network`, when
/// the last object is a lone endpoint whose arrival changed no other object's controller.
fn extension_agrees(inventory: &palisade_inventory::Inventory, network: &Network) {
    let Some(last) = inventory.objects.len().checked_sub(1) else {
        return;
    };
    if !palisade_net::model::is_lone_endpoint(inventory, last) {
        return;
    }
    let before = palisade_inventory::Inventory::new(
        inventory.sources.clone(),
        inventory.objects[..last].to_vec(),
    );
    if (0..last).any(|i| before.controller_of(i) != inventory.controller_of(i)) {
        return;
    }
    let extended = Network::from_inventory(&before)
        .with_lone_endpoint(inventory, last)
        .expect("a lone endpoint extends the network");
    let written = |n: &Network| {
        format!(
            "{:?} {:?} {:?} {:?} {}",
            n.endpoints,
            n.services,
            n.ingress,
            n.namespaces.names().collect::<Vec<_>>(),
            n.has_cluster_dns
        )
    };
    assert_eq!(written(&extended), written(network));
}
