//! Conformance with np-guard's netpol-analyzer: for each scenario of its test suite with a
//! golden connectivity list and no options (`../shared/corpora/netpol-analyzer`), compute the
//! matrix and compare it with the golden list as a set of (source, destination, connections)
//! tuples. External address ranges are cut at every boundary either side names before
//! comparing, so the same addresses written as different ranges compare equal; np-guard models
//! IPv4 only, so IPv6 ranges are left out of our side, as are cluster DNS and the API server,
//! which it does not name.
//!
//! Scenarios are scored by what they exercise: Kubernetes NetworkPolicies (with Ingress and
//! Route exposure), AdminNetworkPolicy/BaselineAdminNetworkPolicy, and OVN-Kubernetes
//! user-defined networks, which Palisade recognises but does not evaluate (their pairs are
//! marked "not evaluated"), so those are reported and not scored.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use palisade_inventory::{Input, LoadOptions, load};
use palisade_net::addr::{AddrRange, Family, atoms};
use palisade_net::matrix::matrix;
use palisade_net::{Conn, Engine, Network};
use serde_json::Value;

fn corpus() -> PathBuf {
    let dir = std::env::var_os("PALISADE_CORPORA")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/corpora")
        })
        .join("netpol-analyzer");
    assert!(
        dir.join("connlist_expectations.json").is_file(),
        "netpol-analyzer corpus not found at {} (set PALISADE_CORPORA or place ../shared/corpora next to the repository)",
        dir.display()
    );
    dir
}

type Tuple = (String, String, String);

/// `a.b.c.d-e.f.g.h[External]` (np-guard) or `10.0.0.0/8[External]` (ours) as a range.
fn external(name: &str) -> Option<AddrRange> {
    AddrRange::parse(name.strip_suffix("[External]")?).ok()
}

/// The tuples of a list, with external ranges cut at `cuts`.
fn canonical(lines: &[(String, String, Conn)], cuts: &[AddrRange]) -> BTreeSet<Tuple> {
    let pieces = atoms(cuts);
    let mut out = BTreeSet::new();
    for (src, dst, conn) in lines {
        let expand = |name: &str| -> Vec<String> {
            match external(name) {
                Some(r) => pieces
                    .iter()
                    .filter(|p| p.family == r.family && p.start >= r.start && p.end <= r.end)
                    .map(|p| format!("{p}[External]"))
                    .collect(),
                None => vec![name.to_string()],
            }
        };
        for s in expand(src) {
            for d in expand(dst) {
                out.insert((s.clone(), d, conn.to_string()));
            }
        }
    }
    out
}

fn category(inventory: &palisade_inventory::Inventory) -> &'static str {
    let has = |group: &str, kind: &str| inventory.of_kind(group, kind).next().is_some();
    if has("k8s.ovn.org", "UserDefinedNetwork")
        || has("k8s.ovn.org", "ClusterUserDefinedNetwork")
        || has("k8s.cni.cncf.io", "NetworkAttachmentDefinition")
        || has("kubevirt.io", "VirtualMachine")
    {
        "user-defined networks and virtual machines (not evaluated)"
    } else if has("policy.networking.k8s.io", "AdminNetworkPolicy")
        || has("policy.networking.k8s.io", "BaselineAdminNetworkPolicy")
    {
        "AdminNetworkPolicy and BaselineAdminNetworkPolicy"
    } else {
        "NetworkPolicy, Ingress and Route"
    }
}

struct Outcome {
    name: String,
    category: &'static str,
    missing: Vec<Tuple>,
    extra: Vec<Tuple>,
}

fn run_case(dir: &Path, case: &Value) -> Option<Outcome> {
    let input = case.get("input_dir")?.as_str()?;
    let expected = case.get("connections")?.as_array()?;
    let options = LoadOptions {
        kustomize: false,
        helm: false,
        ..LoadOptions::default()
    };
    let loaded = load(&[Input::Path(dir.join(input))], &options);
    let engine = Engine::new(std::sync::Arc::new(Network::from_inventory(
        &loaded.inventory,
    )));
    let ours: Vec<(String, String, Conn)> = matrix(&engine, None)
        .into_iter()
        .filter(|c| !c.conn.is_empty())
        // np-guard names neither cluster DNS nor the API server.
        .filter(|c| c.dst != "{cluster-dns}" && c.dst != "{api-server}")
        .filter(|c| {
            ![&c.src, &c.dst]
                .iter()
                .any(|n| external(n).is_some_and(|r| r.family == Family::V6))
        })
        .map(|c| (c.src, c.dst, c.conn))
        .collect();
    let theirs: Vec<(String, String, Conn)> = expected
        .iter()
        .map(|c| {
            let field = |k: &str| c.get(k).and_then(Value::as_str).unwrap_or("").to_string();
            let conn =
                Conn::parse(&field("conn")).unwrap_or_else(|| panic!("{input}: bad conn {c}"));
            (field("src"), field("dst"), conn)
        })
        .collect();
    let cuts: Vec<AddrRange> = ours
        .iter()
        .chain(&theirs)
        .flat_map(|(s, d, _)| [external(s), external(d)])
        .flatten()
        .collect();
    let (ours, theirs) = (canonical(&ours, &cuts), canonical(&theirs, &cuts));
    Some(Outcome {
        name: input.trim_start_matches("tests/").to_string(),
        category: category(&loaded.inventory),
        missing: theirs.difference(&ours).cloned().collect(),
        extra: ours.difference(&theirs).cloned().collect(),
    })
}

#[test]
fn connectivity_matches_netpol_analyzer_goldens() {
    let dir = corpus();
    let text = std::fs::read_to_string(dir.join("connlist_expectations.json")).unwrap();
    let cases: Value = serde_json::from_str(&text).unwrap();
    let mut by_category: BTreeMap<&str, (usize, usize)> = BTreeMap::new();
    let mut report = String::new();
    for case in cases["cases"].as_array().unwrap() {
        if case
            .get("options")
            .and_then(Value::as_str)
            .is_some_and(|o| !o.is_empty())
        {
            continue;
        }
        let Some(outcome) = run_case(&dir, case) else {
            continue;
        };
        let entry = by_category.entry(outcome.category).or_default();
        entry.1 += 1;
        if outcome.missing.is_empty() && outcome.extra.is_empty() {
            entry.0 += 1;
            continue;
        }
        report.push_str(&format!(
            "\n{} [{}]: {} missing, {} extra\n",
            outcome.name,
            outcome.category,
            outcome.missing.len(),
            outcome.extra.len()
        ));
        for (sign, list) in [("-", &outcome.missing), ("+", &outcome.extra)] {
            for t in list.iter().take(4) {
                report.push_str(&format!("  {sign} {} => {} : {}\n", t.0, t.1, t.2));
            }
        }
    }
    eprintln!("{report}");
    for (category, (equal, total)) in &by_category {
        eprintln!(
            "{category}: {equal}/{total} scenarios equal ({:.1}%)",
            100.0 * *equal as f64 / *total as f64
        );
    }
    let score = |c: &str| {
        by_category
            .get(c)
            .map_or(0.0, |(e, t)| *e as f64 / *t as f64)
    };
    assert!(score("NetworkPolicy, Ingress and Route") >= 0.98);
    assert!(score("AdminNetworkPolicy and BaselineAdminNetworkPolicy") >= 0.90);
}
