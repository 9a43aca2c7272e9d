//! Cilium's `CiliumNetworkPolicy` and `CiliumClusterwideNetworkPolicy`, read into the engine's
//! policy shape where their L3/L4 semantics are clear: endpoint selectors (with Cilium's
//! `k8s:`/`any:` label sources and its namespace labels), `fromEndpoints`/`toEndpoints`,
//! `fromCIDR`/`toCIDR`, `fromCIDRSet`/`toCIDRSet`, the `world`, `cluster` and `all`
//! entities, `toPorts` (ports, ranges, named ports, `ANY`), `ingressDeny`/`egressDeny` and
//! `enableDefaultDeny`. L7 rules are allowed at L4 and marked not final. Anything else
//! (`toFQDNs`, `toServices`, `fromRequires`, node selectors, service-account and cluster
//! selectors, ICMP, ...) makes the whole policy "not evaluated", with the field named.

use palisade_core::tree::Tree as _;
use serde_json::{Map, Value, json};

use crate::addr::{AddrRange, AddrSet};
use crate::conn::Protocol;
use crate::policy::{
    Action, Direction, Layer, Namespaces, Parsed, Peer, PodPeer, Policy, PortSpec, Rule, problem,
};

/// The label Cilium gives every endpoint for its namespace.
const NAMESPACE_LABEL: &str = "io.kubernetes.pod.namespace";
/// Cilium's prefix for the labels of an endpoint's namespace.
const NAMESPACE_LABELS: &str = "io.cilium.k8s.namespace.labels.";

/// Fields of a rule the engine evaluates; any other is named in the policy's problem.
const RULE_FIELDS: &[&str] = &[
    "fromEndpoints",
    "toEndpoints",
    "fromCIDR",
    "toCIDR",
    "fromCIDRSet",
    "toCIDRSet",
    "fromEntities",
    "toEntities",
    "toPorts",
];

/// Reads one Cilium policy object: one [`Policy`] per entry of `spec` and `specs`.
pub fn cilium_policies(
    value: &Value,
    namespace: Option<&str>,
    object: usize,
) -> Parsed<Vec<Policy>> {
    let name = value
        .at("/metadata/name")
        .and_then(Value::as_str)
        .unwrap_or("<unnamed>");
    let mut specs = Vec::new();
    if let Some(spec) = value.get("spec").filter(|v| !v.is_null()) {
        specs.push(("/spec".to_string(), spec));
    }
    for (i, spec) in value
        .get("specs")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .enumerate()
    {
        specs.push((format!("/specs/{i}"), spec));
    }
    if specs.is_empty() {
        return Err(problem("/spec", "a Cilium policy needs spec or specs"));
    }
    let many = specs.len() > 1;
    specs
        .into_iter()
        .enumerate()
        .map(|(i, (at, spec))| {
            let label = if many {
                format!("{name}#{i}")
            } else {
                name.to_string()
            };
            one_spec(spec, &at, &label, namespace, object)
        })
        .collect()
}

fn one_spec(
    spec: &Value,
    at: &str,
    name: &str,
    namespace: Option<&str>,
    object: usize,
) -> Parsed<Policy> {
    if spec.get("nodeSelector").is_some_and(|v| !v.is_null()) {
        return Err(problem(
            format!("{at}/nodeSelector"),
            "host policies (nodeSelector) are not evaluated",
        ));
    }
    let selector = spec.get("endpointSelector").ok_or_else(|| {
        problem(
            format!("{at}/endpointSelector"),
            "a Cilium policy needs an endpointSelector",
        )
    })?;
    let subject = selector_peer(selector, namespace, &format!("{at}/endpointSelector"))?;
    let mut rules: [Vec<Rule>; 2] = [Vec::new(), Vec::new()];
    let mut has_rules = [false, false];
    for (direction, field, action) in [
        (Direction::Ingress, "ingress", Action::Allow),
        (Direction::Ingress, "ingressDeny", Action::Deny),
        (Direction::Egress, "egress", Action::Allow),
        (Direction::Egress, "egressDeny", Action::Deny),
    ] {
        let Some(list) = spec.get(field).filter(|v| !v.is_null()) else {
            continue;
        };
        let list = list
            .as_array()
            .ok_or_else(|| problem(format!("{at}/{field}"), "must be a list"))?;
        has_rules[direction as usize] = true;
        for (i, rule) in list.iter().enumerate() {
            let here = format!("{at}/{field}/{i}");
            let mut parsed = cilium_rule(rule, direction, namespace, &here)?;
            parsed.action = action;
            parsed.label = format!("{field}[{i}]");
            rules[direction as usize].push(parsed);
        }
    }
    let default_deny = |key: &str| {
        spec.at(&format!("/enableDefaultDeny/{key}"))
            .and_then(Value::as_bool)
            .unwrap_or(true)
    };
    let [ingress, egress] = rules;
    Ok(Policy {
        layer: if namespace.is_some() {
            Layer::CiliumNetworkPolicy
        } else {
            Layer::CiliumClusterwideNetworkPolicy
        },
        name: name.to_string(),
        namespace: namespace.map(String::from),
        object,
        priority: crate::calico::KUBERNETES_ORDER,
        subject,
        ingress,
        egress,
        isolates: [
            has_rules[0] && default_deny("ingress"),
            has_rules[1] && default_deny("egress"),
        ],
    })
}

fn cilium_rule(
    rule: &Value,
    direction: Direction,
    namespace: Option<&str>,
    at: &str,
) -> Parsed<Rule> {
    let fields = rule
        .as_object()
        .ok_or_else(|| problem(at, "a rule must be an object"))?;
    if let Some(unknown) = fields.keys().find(|k| !RULE_FIELDS.contains(&k.as_str())) {
        return Err(problem(
            format!("{at}/{unknown}"),
            format!("`{unknown}` is not evaluated by Palisade"),
        ));
    }
    let (endpoints, cidr, cidr_set, entities) = match direction {
        Direction::Ingress => ("fromEndpoints", "fromCIDR", "fromCIDRSet", "fromEntities"),
        Direction::Egress => ("toEndpoints", "toCIDR", "toCIDRSet", "toEntities"),
    };
    if let Some(wrong) = fields.keys().find(|k| {
        k.starts_with(match direction {
            Direction::Ingress => "to",
            Direction::Egress => "from",
        }) && k.as_str() != "toPorts"
    }) {
        return Err(problem(
            format!("{at}/{wrong}"),
            format!("`{wrong}` belongs to the other direction"),
        ));
    }
    let mut peers = Vec::new();
    let mut l3 = false;
    for (i, selector) in list(fields.get(endpoints), &format!("{at}/{endpoints}"))?
        .iter()
        .enumerate()
    {
        l3 = true;
        peers.push(Peer::Pods(selector_peer(
            selector,
            namespace,
            &format!("{at}/{endpoints}/{i}"),
        )?));
    }
    for (i, c) in list(fields.get(cidr), &format!("{at}/{cidr}"))?
        .iter()
        .enumerate()
    {
        l3 = true;
        let text = c.as_str().unwrap_or("");
        let range =
            AddrRange::parse_cidr(text).map_err(|m| problem(format!("{at}/{cidr}/{i}"), m))?;
        peers.push(Peer::Addresses(AddrSet::of_range(range)));
    }
    for (i, set) in list(fields.get(cidr_set), &format!("{at}/{cidr_set}"))?
        .iter()
        .enumerate()
    {
        l3 = true;
        let here = format!("{at}/{cidr_set}/{i}");
        let text = set.get("cidr").and_then(Value::as_str).ok_or_else(|| {
            problem(
                &here,
                "only cidr (with except) is evaluated, not cidrGroupRef",
            )
        })?;
        let range = AddrRange::parse_cidr(text).map_err(|m| problem(format!("{here}/cidr"), m))?;
        let mut addrs = AddrSet::of_range(range);
        for (j, e) in set
            .get("except")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .enumerate()
        {
            let cut = AddrRange::parse_cidr(e.as_str().unwrap_or(""))
                .map_err(|m| problem(format!("{here}/except/{j}"), m))?;
            addrs = addrs.subtract(&AddrSet::of_range(cut));
        }
        peers.push(Peer::Addresses(addrs));
    }
    for (i, entity) in list(fields.get(entities), &format!("{at}/{entities}"))?
        .iter()
        .enumerate()
    {
        l3 = true;
        let every_pod = PodPeer {
            namespaces: Namespaces::Selected(json!({})),
            pods: None,
        };
        match entity.as_str() {
            Some("world") => peers.push(Peer::Addresses(AddrSet::all())),
            Some("cluster") => peers.push(Peer::Pods(every_pod)),
            Some("all") => {
                peers.push(Peer::Pods(every_pod));
                peers.push(Peer::Addresses(AddrSet::all()));
            }
            // The node and the control plane: addresses the input does not give.
            Some(
                "host" | "remote-node" | "kube-apiserver" | "health" | "init" | "ingress"
                | "unmanaged",
            ) => {
                peers.push(Peer::Nodes);
            }
            _ => {
                return Err(problem(format!("{at}/{entities}/{i}"), "unknown entity"));
            }
        }
    }
    let (ports, l7) = to_ports(fields.get("toPorts"), &format!("{at}/toPorts"))?;
    // An empty rule matches nothing (Cilium's `ingress: [{}]` is a default deny); ports
    // without peers match every peer on those ports.
    let peers = match (l3, &ports) {
        (false, None) => Some(Vec::new()),
        (false, Some(_)) => None,
        (true, _) => Some(peers),
    };
    Ok(Rule {
        label: String::new(),
        action: Action::Allow,
        peers,
        ports,
        caveat: l7
            .then(|| "its L7 rules further restrict requests and are not evaluated".to_string()),
    })
}

fn list<'v>(value: Option<&'v Value>, at: &str) -> Parsed<&'v [Value]> {
    match value {
        None | Some(Value::Null) => Ok(&[]),
        Some(Value::Array(items)) => Ok(items),
        Some(_) => Err(problem(at, "must be a list")),
    }
}

/// `toPorts`: the ports (`None` when no entry names any) and whether L7 rules apply.
fn to_ports(value: Option<&Value>, at: &str) -> Parsed<(Option<Vec<PortSpec>>, bool)> {
    let entries = list(value, at)?;
    if entries.is_empty() {
        return Ok((None, false));
    }
    let mut specs = Vec::new();
    let mut l7 = false;
    let mut every_port = false;
    for (i, entry) in entries.iter().enumerate() {
        let here = format!("{at}/{i}");
        l7 |= entry.get("rules").is_some_and(|r| !r.is_null())
            || entry.get("serverNames").is_some_and(|r| !r.is_null());
        let ports = list(entry.get("ports"), &format!("{here}/ports"))?;
        if ports.is_empty() {
            every_port = true;
        }
        for (j, port) in ports.iter().enumerate() {
            specs.extend(port_spec(port, &format!("{here}/ports/{j}"))?);
        }
    }
    Ok((if every_port { None } else { Some(specs) }, l7))
}

fn port_spec(port: &Value, at: &str) -> Parsed<Vec<PortSpec>> {
    let protocols: Vec<Protocol> = match port.get("protocol").and_then(Value::as_str) {
        None | Some("ANY") => Protocol::ALL.to_vec(),
        Some(p) => vec![Protocol::parse(p).ok_or_else(|| {
            problem(
                format!("{at}/protocol"),
                "protocol must be TCP, UDP, SCTP or ANY",
            )
        })?],
    };
    let text = match port.get("port") {
        Some(Value::String(s)) => s.clone(),
        Some(Value::Number(n)) => n.to_string(),
        None | Some(Value::Null) => "0".into(),
        Some(_) => {
            return Err(problem(
                format!("{at}/port"),
                "a port is a number or a name",
            ));
        }
    };
    let end = port.get("endPort").and_then(Value::as_u64);
    match text.parse::<u16>() {
        // Port 0 (or none) is every port of the protocol.
        Ok(0) => Ok(protocols
            .into_iter()
            .map(|p| PortSpec::Range(p, 1, 65535))
            .collect()),
        Ok(start) => {
            let end = match end {
                Some(e) => u16::try_from(e)
                    .ok()
                    .filter(|&e| e >= start)
                    .ok_or_else(|| problem(format!("{at}/endPort"), "endPort is below port"))?,
                None => start,
            };
            Ok(protocols
                .into_iter()
                .map(|p| PortSpec::Range(p, start, end))
                .collect())
        }
        Err(_) => Ok(protocols
            .into_iter()
            .map(|p| PortSpec::Named(Some(p), text.clone()))
            .collect()),
    }
}

/// A Cilium endpoint selector as a pod peer: labels with their source prefix (`k8s:`, `any:`)
/// removed; the namespace label and Cilium's namespace labels become a namespace selector.
/// In a namespaced policy a selector without a namespace means the policy's namespace.
fn selector_peer(selector: &Value, namespace: Option<&str>, at: &str) -> Parsed<PodPeer> {
    let fields = match selector {
        Value::Null => Map::new(),
        Value::Object(m) => m.clone(),
        _ => return Err(problem(at, "a selector must be an object")),
    };
    let mut pod_labels = Map::new();
    let mut ns_labels = Map::new();
    let mut pod_exprs = Vec::new();
    let mut ns_exprs = Vec::new();
    for (key, v) in fields
        .get("matchLabels")
        .and_then(Value::as_object)
        .into_iter()
        .flatten()
    {
        match classify(key, at)? {
            Key::Pod(k) => pod_labels.insert(k, v.clone()),
            Key::Namespace(k) => ns_labels.insert(k, v.clone()),
        };
    }
    for e in fields
        .get("matchExpressions")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        let key = e.get("key").and_then(Value::as_str).unwrap_or("");
        let mut expr = e.clone();
        match classify(key, at)? {
            Key::Pod(k) => {
                expr["key"] = Value::String(k);
                pod_exprs.push(expr);
            }
            Key::Namespace(k) => {
                expr["key"] = Value::String(k);
                ns_exprs.push(expr);
            }
        }
    }
    let pods = json!({"matchLabels": pod_labels, "matchExpressions": pod_exprs});
    crate::policy::check_selector(&pods, at)?;
    let namespaces = if ns_labels.is_empty() && ns_exprs.is_empty() {
        match namespace {
            Some(ns) => Namespaces::Same(ns.to_string()),
            None => Namespaces::Selected(json!({})),
        }
    } else {
        let sel = json!({"matchLabels": ns_labels, "matchExpressions": ns_exprs});
        crate::policy::check_selector(&sel, at)?;
        Namespaces::Selected(sel)
    };
    Ok(PodPeer {
        namespaces,
        pods: Some(pods),
    })
}

enum Key {
    Pod(String),
    Namespace(String),
}

fn classify(key: &str, at: &str) -> Parsed<Key> {
    let bare = key
        .strip_prefix("k8s:")
        .or_else(|| key.strip_prefix("any:"))
        .unwrap_or(key);
    if bare == NAMESPACE_LABEL {
        return Ok(Key::Namespace(crate::model::NAMESPACE_NAME_LABEL.into()));
    }
    if let Some(label) = bare.strip_prefix(NAMESPACE_LABELS) {
        return Ok(Key::Namespace(label.into()));
    }
    if bare.starts_with("io.cilium.")
        || bare.starts_with("reserved:")
        || key.contains(':') && !key.starts_with("k8s:") && !key.starts_with("any:")
    {
        return Err(problem(
            at,
            format!("the label `{key}` (a Cilium identity label) is not evaluated"),
        ));
    }
    Ok(Key::Pod(bare.into()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn selectors_strip_sources_and_find_the_namespace() {
        let peer = selector_peer(
            &json!({"matchLabels": {"k8s:app": "web", "k8s:io.kubernetes.pod.namespace": "shop"}}),
            Some("ops"),
            "/x",
        )
        .unwrap();
        assert_eq!(
            peer.pods,
            Some(json!({"matchLabels": {"app": "web"}, "matchExpressions": []}))
        );
        assert_eq!(
            peer.namespaces,
            Namespaces::Selected(
                json!({"matchLabels": {"kubernetes.io/metadata.name": "shop"}, "matchExpressions": []})
            )
        );
        let own = selector_peer(&json!({}), Some("ops"), "/x").unwrap();
        assert_eq!(own.namespaces, Namespaces::Same("ops".into()));
        assert!(
            selector_peer(
                &json!({"matchLabels": {"io.cilium.k8s.policy.serviceaccount": "a"}}),
                None,
                "/x"
            )
            .is_err()
        );
    }

    #[test]
    fn unsupported_fields_are_named() {
        let policy = json!({"metadata": {"name": "p"}, "spec": {"endpointSelector": {}, "egress": [{"toFQDNs": [{"matchName": "example.com"}]}]}});
        let err = cilium_policies(&policy, Some("a"), 0).unwrap_err();
        assert_eq!(err.pointer, "/spec/egress/0/toFQDNs");
        let policy =
            json!({"metadata": {"name": "p"}, "spec": {"endpointSelector": {}, "ingress": [{}]}});
        let parsed = cilium_policies(&policy, Some("a"), 0).unwrap();
        assert_eq!(parsed[0].isolates, [true, false]);
        assert_eq!(
            parsed[0].ingress[0].peers,
            Some(Vec::new()),
            "an empty rule matches nothing"
        );
    }
}
