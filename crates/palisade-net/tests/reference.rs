//! The engine against a reference written straight from the NetworkPolicy specification, on
//! random namespaces, pods and policies (matchLabels selectors, pod and namespace peers, ports,
//! policyTypes given or defaulted): for every ordered pair of pods and a sample of ports, both
//! must agree whether the connection is allowed. The reference knows nothing of classes,
//! groups or interval sets.

use std::collections::BTreeMap;
use std::sync::Arc;

use palisade_inventory::{Limits, load_values};
use palisade_net::{Engine, Network, Party, Protocol};
use proptest::prelude::*;
use serde_json::{Value, json};

type Labels = BTreeMap<String, String>;

#[derive(Debug, Clone)]
struct Pod {
    ns: usize,
    labels: Labels,
}

#[derive(Debug, Clone)]
enum PeerSpec {
    Pods(Labels),
    Namespaces(Labels),
    Both(Labels, Labels),
}

#[derive(Debug, Clone)]
struct RuleSpec {
    peers: Option<Vec<PeerSpec>>,
    ports: Option<Vec<(Protocol, u16)>>,
}

#[derive(Debug, Clone)]
struct PolicySpec {
    ns: usize,
    selector: Labels,
    types: Option<(bool, bool)>,
    ingress: Option<Vec<RuleSpec>>,
    egress: Option<Vec<RuleSpec>>,
}

const NAMESPACES: [&str; 2] = ["a", "b"];
const SAMPLE: [(Protocol, u16); 4] = [
    (Protocol::Tcp, 80),
    (Protocol::Tcp, 443),
    (Protocol::Udp, 53),
    (Protocol::Tcp, 8080),
];

fn labels() -> impl Strategy<Value = Labels> {
    prop::collection::btree_map(
        prop::sample::select(vec!["app".to_string(), "tier".to_string()]),
        prop::sample::select(vec!["x".to_string(), "y".to_string()]),
        0..2,
    )
}

fn rule() -> impl Strategy<Value = RuleSpec> {
    let peer = prop_oneof![
        labels().prop_map(PeerSpec::Pods),
        labels().prop_map(PeerSpec::Namespaces),
        (labels(), labels()).prop_map(|(n, p)| PeerSpec::Both(n, p)),
    ];
    let port = prop::sample::select(SAMPLE.to_vec());
    (
        prop::option::of(prop::collection::vec(peer, 1..3)),
        prop::option::of(prop::collection::vec(port, 1..3)),
    )
        .prop_map(|(peers, ports)| RuleSpec { peers, ports })
}

fn policy() -> impl Strategy<Value = PolicySpec> {
    (
        0..2usize,
        labels(),
        prop::option::of((any::<bool>(), any::<bool>())),
        prop::option::of(prop::collection::vec(rule(), 0..3)),
        prop::option::of(prop::collection::vec(rule(), 0..3)),
    )
        .prop_map(|(ns, selector, types, ingress, egress)| PolicySpec {
            ns,
            selector,
            types,
            ingress,
            egress,
        })
}

fn matches(selector: &Labels, labels: &Labels) -> bool {
    selector.iter().all(|(k, v)| labels.get(k) == Some(v))
}

fn ns_labels(ns: usize, declared: &[Labels]) -> Labels {
    let mut l = declared[ns].clone();
    l.insert("kubernetes.io/metadata.name".into(), NAMESPACES[ns].into());
    l
}

/// Whether `policy` isolates its pods in a direction (policyTypes, else the defaulting).
fn isolates(policy: &PolicySpec, ingress: bool) -> bool {
    match policy.types {
        Some((i, e)) if i || e => {
            if ingress {
                i
            } else {
                e
            }
        }
        _ => ingress || policy.egress.as_ref().is_some_and(|e| !e.is_empty()),
    }
}

/// The reference: one direction, as the specification words it.
fn allowed_by(
    policies: &[PolicySpec],
    subject: &Pod,
    other: &Pod,
    ns: &[Labels],
    ingress: bool,
    port: (Protocol, u16),
) -> bool {
    let selecting: Vec<&PolicySpec> = policies
        .iter()
        .filter(|p| {
            p.ns == subject.ns && matches(&p.selector, &subject.labels) && isolates(p, ingress)
        })
        .collect();
    if selecting.is_empty() {
        return true;
    }
    selecting.iter().any(|p| {
        let rules = if ingress { &p.ingress } else { &p.egress };
        rules.iter().flatten().any(|r| {
            let peer_ok = r.peers.as_ref().is_none_or(|peers| {
                peers.iter().any(|peer| match peer {
                    PeerSpec::Pods(sel) => other.ns == p.ns && matches(sel, &other.labels),
                    PeerSpec::Namespaces(sel) => matches(sel, &ns_labels(other.ns, ns)),
                    PeerSpec::Both(n, sel) => {
                        matches(n, &ns_labels(other.ns, ns)) && matches(sel, &other.labels)
                    }
                })
            });
            let port_ok = r.ports.as_ref().is_none_or(|ports| ports.contains(&port));
            peer_ok && port_ok
        })
    })
}

fn manifests(pods: &[Pod], ns: &[Labels], policies: &[PolicySpec]) -> Vec<Value> {
    let mut items = Vec::new();
    for (i, labels) in ns.iter().enumerate() {
        items.push(json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": NAMESPACES[i], "labels": labels}}));
    }
    for (i, pod) in pods.iter().enumerate() {
        items.push(json!({"apiVersion": "v1", "kind": "Pod",
            "metadata": {"name": format!("p{i}"), "namespace": NAMESPACES[pod.ns], "labels": pod.labels},
            "spec": {"containers": [{"name": "c", "image": "registry.example.com/c:1"}]}}));
    }
    let sel = |l: &Labels| json!({"matchLabels": l});
    let rules = |rules: &Vec<RuleSpec>, field: &str| -> Value {
        Value::Array(
            rules
                .iter()
                .map(|r| {
                    let mut rule = serde_json::Map::new();
                    if let Some(peers) = &r.peers {
                        let peers: Vec<Value> = peers
                            .iter()
                            .map(|p| match p {
                                PeerSpec::Pods(l) => json!({"podSelector": sel(l)}),
                                PeerSpec::Namespaces(l) => json!({"namespaceSelector": sel(l)}),
                                PeerSpec::Both(n, l) => {
                                    json!({"namespaceSelector": sel(n), "podSelector": sel(l)})
                                }
                            })
                            .collect();
                        rule.insert(field.into(), Value::Array(peers));
                    }
                    if let Some(ports) = &r.ports {
                        let ports: Vec<Value> = ports
                            .iter()
                            .map(|(p, n)| json!({"protocol": p.name(), "port": n}))
                            .collect();
                        rule.insert("ports".into(), Value::Array(ports));
                    }
                    Value::Object(rule)
                })
                .collect(),
        )
    };
    for (i, p) in policies.iter().enumerate() {
        let mut spec = serde_json::Map::new();
        spec.insert("podSelector".into(), sel(&p.selector));
        if let Some((ing, eg)) = p.types {
            let mut types = Vec::new();
            if ing {
                types.push("Ingress");
            }
            if eg {
                types.push("Egress");
            }
            spec.insert("policyTypes".into(), json!(types));
        }
        if let Some(r) = &p.ingress {
            spec.insert("ingress".into(), rules(r, "from"));
        }
        if let Some(r) = &p.egress {
            spec.insert("egress".into(), rules(r, "to"));
        }
        items.push(
            json!({"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy",
            "metadata": {"name": format!("np{i}"), "namespace": NAMESPACES[p.ns]}, "spec": spec}),
        );
    }
    items
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]
    #[test]
    fn the_engine_agrees_with_the_specification(
        pods in prop::collection::vec((0..2usize, labels()).prop_map(|(ns, labels)| Pod { ns, labels }), 1..5),
        ns in prop::collection::vec(labels(), 2..=2),
        policies in prop::collection::vec(policy(), 0..5),
    ) {
        let loaded = load_values("random", manifests(&pods, &ns, &policies), 1, &Limits::default());
        let network = Arc::new(Network::from_inventory(&loaded.inventory));
        prop_assert_eq!(network.endpoints.len(), pods.len());
        prop_assert!(network.unevaluated.is_empty(), "{:?}", network.unevaluated);
        let engine = Engine::new(Arc::clone(&network));
        for s in 0..pods.len() {
            for d in 0..pods.len() {
                if s == d {
                    continue;
                }
                let verdict = engine.verdict(Party::Pod(s), Party::Pod(d), None);
                for port in SAMPLE {
                    let expected = allowed_by(&policies, &pods[s], &pods[d], &ns, false, port)
                        && allowed_by(&policies, &pods[d], &pods[s], &ns, true, port);
                    prop_assert_eq!(
                        verdict.conn.contains(port.0, port.1),
                        expected,
                        "p{} -> p{} on {:?}", s, d, port
                    );
                }
            }
        }
        // The matrix says the same as the pairwise answers.
        let index: BTreeMap<String, usize> =
            network.endpoints.iter().enumerate().map(|(i, e)| (e.id(), i)).collect();
        for c in palisade_net::matrix::matrix(&engine, None) {
            if let (Some(&s), Some(&d)) = (index.get(&c.src), index.get(&c.dst)) {
                prop_assert_eq!(&c.conn, &engine.verdict(Party::Pod(s), Party::Pod(d), None).conn);
            }
        }
        // The endpoints each policy selects are those its subject includes.
        for (p, policy) in network.policies.iter().enumerate() {
            let each: Vec<usize> = (0..pods.len())
                .filter(|&e| engine.pod_peer_matches(&policy.subject, &network.endpoints[e]))
                .collect();
            prop_assert_eq!(engine.selected_by(p), each, "policy {}", p);
        }
        // What each endpoint may open onward, found once per group of endpoints no policy
        // tells apart, is what the pairwise answers say, notes included.
        let mut onward = engine.onward();
        for s in 0..pods.len() {
            let direct: Vec<(usize, palisade_net::Verdict)> = (0..pods.len())
                .filter(|&d| d != s)
                .map(|d| (d, engine.verdict(Party::Pod(s), Party::Pod(d), None)))
                .filter(|(_, v)| !v.conn.is_empty() || !v.not_evaluated.is_empty())
                .collect();
            let reached: Vec<(usize, palisade_net::Verdict)> =
                onward.from(s).map(|(d, v)| (d, v.clone())).collect();
            prop_assert_eq!(reached, direct, "from p{}", s);
        }
    }
}
