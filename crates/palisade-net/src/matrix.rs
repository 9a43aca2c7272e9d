//! Every allowed connection between the workloads, the addresses outside the cluster and the
//! ingress controller; and what changes between two inputs.

use std::collections::{BTreeMap, BTreeSet};

use serde::Serialize;

use crate::addr::{AddrRange, atoms};
use crate::conn::Conn;
use crate::engine::{Engine, Party, Verdict};

/// How the matrix names the ingress controller.
pub const INGRESS_CONTROLLER: &str = "{ingress-controller}";
/// How the matrix names cluster DNS when no workload of the input is it.
pub const CLUSTER_DNS: &str = "{cluster-dns}";
/// How the matrix names the API server.
pub const API_SERVER: &str = "{api-server}";

/// One allowed connection (or a pair whose answer is not final).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Connection {
    pub src: String,
    pub dst: String,
    pub conn: Conn,
    #[serde(skip_serializing_if = "BTreeSet::is_empty")]
    pub not_evaluated: BTreeSet<String>,
}

/// How a party is named: `ns/name[Kind]`, `10.0.0.0-10.255.255.255[External]`,
/// `{ingress-controller}`.
pub fn party_name(engine: &Engine, party: Party) -> String {
    match party {
        Party::Pod(e) => engine.net.endpoints[e].id(),
        Party::IngressController => INGRESS_CONTROLLER.to_string(),
        Party::ClusterDns => CLUSTER_DNS.to_string(),
        Party::ApiServer => API_SERVER.to_string(),
        Party::Addr(range) => format!("{range}[External]"),
    }
}

/// The connections of the network, sorted by source then destination; with `namespace`, only
/// those with an end in it.
pub fn matrix(engine: &Engine, namespace: Option<&str>) -> Vec<Connection> {
    matrix_over(engine, namespace, engine.atoms())
}

/// [`matrix`] with the external addresses cut into `ranges` (for comparing two networks whose
/// policies name different CIDRs).
pub fn matrix_over(
    engine: &Engine,
    namespace: Option<&str>,
    ranges: &[AddrRange],
) -> Vec<Connection> {
    let mut out = Vec::new();
    visit(engine, namespace, ranges, &mut |src, dst, v| {
        out.push(connection(engine, src, dst, v));
    });
    out.sort_by(|a, b| (&a.src, &a.dst).cmp(&(&b.src, &b.dst)));
    out
}

/// How many connections [`matrix`] lists, without building them.
pub fn count(engine: &Engine, namespace: Option<&str>) -> usize {
    let mut n = 0usize;
    visit(engine, namespace, engine.atoms(), &mut |_, _, _| n += 1);
    n
}

/// Every connection of [`matrix`], one at a time in the engine's order (grouped, not sorted),
/// so a matrix of millions of pairs is written without being held.
pub fn stream(engine: &Engine, namespace: Option<&str>, f: &mut dyn FnMut(Connection)) {
    visit(engine, namespace, engine.atoms(), &mut |src, dst, v| {
        f(connection(engine, src, dst, v));
    });
}

fn connection(engine: &Engine, src: Party, dst: Party, v: &Verdict) -> Connection {
    Connection {
        src: party_name(engine, src),
        dst: party_name(engine, dst),
        conn: v.conn.clone(),
        not_evaluated: v.not_evaluated.clone(),
    }
}

/// Calls `f` for every pair with a connection (or an answer that is not final); each verdict
/// is computed once per pair of groups.
fn visit(
    engine: &Engine,
    namespace: Option<&str>,
    ranges: &[AddrRange],
    f: &mut dyn FnMut(Party, Party, &Verdict),
) {
    let net = &engine.net;
    let wanted = |e: usize| namespace.is_none_or(|ns| net.endpoints[e].namespace == ns);
    let listed = |v: &Verdict| !v.conn.is_empty() || !v.not_evaluated.is_empty();
    let classes: Vec<(usize, &[usize])> = engine
        .groups()
        .iter()
        .map(|(c, m)| (*c, m.as_slice()))
        .collect();
    for &(sc, src_members) in &classes {
        for &(dc, dst_members) in &classes {
            let v = engine.verdict(engine.class_party(sc), engine.class_party(dc), None);
            if !listed(&v) {
                continue;
            }
            for &s in src_members {
                for &d in dst_members {
                    if s != d && (wanted(s) || wanted(d)) {
                        f(Party::Pod(s), Party::Pod(d), &v);
                    }
                }
            }
        }
    }
    for &range in ranges {
        let addr = Party::Addr(range);
        for &(c, members) in &classes {
            for (src, dst) in [(addr, engine.class_party(c)), (engine.class_party(c), addr)] {
                let v = engine.verdict(src, dst, None);
                if !listed(&v) {
                    continue;
                }
                for &e in members.iter().filter(|&&e| wanted(e)) {
                    if src == addr {
                        f(addr, Party::Pod(e), &v);
                    } else {
                        f(Party::Pod(e), addr, &v);
                    }
                }
            }
        }
    }
    // Cluster DNS (when the input has none of its own) and the API server, as destinations.
    let mut services = vec![Party::ApiServer];
    if !net.has_cluster_dns {
        services.push(Party::ClusterDns);
    }
    for &(c, members) in &classes {
        for &service in &services {
            let v = engine.verdict(engine.class_party(c), service, None);
            if !listed(&v) {
                continue;
            }
            for &e in members.iter().filter(|&&e| wanted(e)) {
                f(Party::Pod(e), service, &v);
            }
        }
    }
    for &e in net.ingress.keys().filter(|&&e| wanted(e)) {
        let v = engine.verdict(Party::IngressController, Party::Pod(e), None);
        if listed(&v) {
            f(Party::IngressController, Party::Pod(e), &v);
        }
    }
}

/// Connectivity gained or lost for one pair between two inputs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Change {
    pub src: String,
    pub dst: String,
    pub before: Conn,
    pub after: Conn,
    pub gained: Conn,
    pub lost: Conn,
    /// `added` (the pair had no connection), `removed` (it has none now) or `changed`.
    pub kind: &'static str,
}

/// What changes from `old` to `new`, by pair.
pub fn diff(old: &Engine, new: &Engine, namespace: Option<&str>) -> Vec<Change> {
    let mut cidrs: Vec<AddrRange> = old.atoms().to_vec();
    cidrs.extend_from_slice(new.atoms());
    let ranges = atoms(&cidrs);
    let before: BTreeMap<(String, String), Conn> = matrix_over(old, namespace, &ranges)
        .into_iter()
        .map(|c| ((c.src, c.dst), c.conn))
        .collect();
    let after: BTreeMap<(String, String), Conn> = matrix_over(new, namespace, &ranges)
        .into_iter()
        .map(|c| ((c.src, c.dst), c.conn))
        .collect();
    let keys: BTreeSet<&(String, String)> = before.keys().chain(after.keys()).collect();
    let none = Conn::none();
    keys.into_iter()
        .filter_map(|key| {
            let b = before.get(key).unwrap_or(&none);
            let a = after.get(key).unwrap_or(&none);
            (a != b).then(|| Change {
                src: key.0.clone(),
                dst: key.1.clone(),
                before: b.clone(),
                after: a.clone(),
                gained: a.subtract(b),
                lost: b.subtract(a),
                kind: if b.is_empty() {
                    "added"
                } else if a.is_empty() {
                    "removed"
                } else {
                    "changed"
                },
            })
        })
        .collect()
}
