//! Calico's `NetworkPolicy` and `GlobalNetworkPolicy` (`projectcalico.org/v3`, and the
//! `crd.projectcalico.org/v1` objects that store them), read into the engine's policy shape
//! where the semantics are clear: selectors that are conjunctions of `==`, `!=`, `in`,
//! `not in`, `has()`, `!has()` and `all()` (with Calico's namespace labels), rules with
//! `Allow`, `Deny`, `Pass` and `Log` actions, `nets`, ports (numbers, `a:b` ranges, names) per
//! protocol, in the default tier. Policies are ordered by `order` with Kubernetes
//! NetworkPolicies at 1000, first match decides, as Calico does. Anything else (`||`,
//! `contains`, `notNets`, `notPorts`, `notSelector`, service-account and service matches,
//! other tiers, ICMP-only rules are skipped) makes the policy "not evaluated", the field named.

use palisade_core::tree::Tree as _;
use serde_json::{Map, Value, json};

use crate::addr::{AddrRange, AddrSet};
use crate::conn::Protocol;
use crate::policy::{
    Action, Direction, Layer, Namespaces, Parsed, Peer, PodPeer, Policy, PortSpec, Rule, problem,
};

/// The order Calico gives Kubernetes NetworkPolicies, scaled as [`order_key`] scales.
pub const KUBERNETES_ORDER: i64 = 1_000_000;

/// A policy's `order` as an integer key (three decimals kept); none is last.
fn order_key(order: Option<f64>) -> i64 {
    match order {
        Some(o) if o.is_finite() => (o * 1000.0).round() as i64,
        _ => i64::MAX,
    }
}

/// The fields of a rule's source or destination that are evaluated.
const PEER_FIELDS: &[&str] = &["selector", "namespaceSelector", "nets", "ports"];
/// The fields of a rule that are evaluated.
const RULE_FIELDS: &[&str] = &[
    "action",
    "protocol",
    "source",
    "destination",
    "ipVersion",
    "metadata",
];

/// Reads a Calico policy; `namespace` is `None` for a GlobalNetworkPolicy.
pub fn calico_policy(value: &Value, namespace: Option<&str>, object: usize) -> Parsed<Policy> {
    let name = value
        .at("/metadata/name")
        .and_then(Value::as_str)
        .unwrap_or("<unnamed>");
    let spec = value.get("spec").unwrap_or(&Value::Null);
    if let Some(tier) = spec
        .get("tier")
        .and_then(Value::as_str)
        .filter(|t| *t != "default")
    {
        return Err(problem(
            "/spec/tier",
            format!(
                "policies of tier `{tier}` are not evaluated (tiers are ordered by the cluster's Tier objects)"
            ),
        ));
    }
    for field in [
        "serviceAccountSelector",
        "namespaceSelector",
        "doNotTrack",
        "preDNAT",
        "applyOnForward",
    ] {
        if spec
            .get(field)
            .is_some_and(|v| !v.is_null() && v != &Value::Bool(false) && v != &json!(""))
        {
            return Err(problem(
                format!("/spec/{field}"),
                format!("`{field}` is not evaluated"),
            ));
        }
    }
    let selector = spec
        .get("selector")
        .and_then(Value::as_str)
        .unwrap_or("all()");
    let subject = peer_of(selector, None, namespace, "/spec/selector")?;
    let mut rules = [Vec::new(), Vec::new()];
    for direction in Direction::BOTH {
        let field = direction.field();
        for (i, rule) in spec
            .get(field)
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .enumerate()
        {
            let at = format!("/spec/{field}/{i}");
            if let Some(mut parsed) = calico_rule(rule, direction, namespace, &at)? {
                parsed.label = format!("{field}[{i}]");
                rules[direction as usize].push(parsed);
            }
        }
    }
    let has = |f: &str| {
        spec.get(f)
            .and_then(Value::as_array)
            .is_some_and(|l| !l.is_empty())
    };
    let isolates = match spec
        .get("types")
        .and_then(Value::as_array)
        .filter(|t| !t.is_empty())
    {
        Some(types) => [
            types.iter().any(|t| t.as_str() == Some("Ingress")),
            types.iter().any(|t| t.as_str() == Some("Egress")),
        ],
        // Calico's default: Egress when there are egress rules, Ingress when there are
        // ingress rules or no egress rules.
        None => [has("ingress") || !has("egress"), has("egress")],
    };
    let [ingress, egress] = rules;
    Ok(Policy {
        layer: if namespace.is_some() {
            Layer::CalicoNetworkPolicy
        } else {
            Layer::CalicoGlobalNetworkPolicy
        },
        name: name.to_string(),
        namespace: namespace.map(String::from),
        object,
        priority: order_key(spec.get("order").and_then(Value::as_f64)),
        subject,
        ingress,
        egress,
        isolates,
    })
}

/// One rule; `None` for a rule that cannot match TCP, UDP or SCTP (ICMP).
fn calico_rule(
    rule: &Value,
    direction: Direction,
    namespace: Option<&str>,
    at: &str,
) -> Parsed<Option<Rule>> {
    let fields = rule
        .as_object()
        .ok_or_else(|| problem(at, "a rule must be an object"))?;
    if let Some(unknown) = fields.keys().find(|k| !RULE_FIELDS.contains(&k.as_str())) {
        return Err(problem(
            format!("{at}/{unknown}"),
            format!("`{unknown}` is not evaluated by Palisade"),
        ));
    }
    let action = match fields.get("action").and_then(Value::as_str) {
        Some("Allow") => Action::Allow,
        Some("Deny") => Action::Deny,
        Some("Pass") => Action::Pass,
        Some("Log") => return Ok(None),
        _ => {
            return Err(problem(
                format!("{at}/action"),
                "action must be Allow, Deny, Pass or Log",
            ));
        }
    };
    let protocols: Vec<Protocol> = match fields.get("protocol") {
        None | Some(Value::Null) => Protocol::ALL.to_vec(),
        Some(Value::String(p)) => match p.as_str() {
            "TCP" => vec![Protocol::Tcp],
            "UDP" => vec![Protocol::Udp],
            "SCTP" => vec![Protocol::Sctp],
            "ICMP" | "ICMPv6" => return Ok(None),
            other => {
                return Err(problem(
                    format!("{at}/protocol"),
                    format!("protocol `{other}` is not evaluated"),
                ));
            }
        },
        Some(Value::Number(n)) => match n.as_u64() {
            Some(6) => vec![Protocol::Tcp],
            Some(17) => vec![Protocol::Udp],
            Some(132) => vec![Protocol::Sctp],
            _ => return Ok(None),
        },
        Some(_) => {
            return Err(problem(
                format!("{at}/protocol"),
                "protocol must be a name or a number",
            ));
        }
    };
    let (peer_field, own_field) = match direction {
        Direction::Ingress => ("source", "destination"),
        Direction::Egress => ("destination", "source"),
    };
    let empty = Value::Object(Map::new());
    let peer = fields.get(peer_field).unwrap_or(&empty);
    let own = fields.get(own_field).unwrap_or(&empty);
    for (side, name) in [(peer, peer_field), (own, own_field)] {
        if let Some(unknown) = side
            .as_object()
            .and_then(|m| m.keys().find(|k| !PEER_FIELDS.contains(&k.as_str())))
        {
            return Err(problem(
                format!("{at}/{name}/{unknown}"),
                format!("`{unknown}` is not evaluated by Palisade"),
            ));
        }
    }
    // The policy's own side may only name the ports (and, ingress, the destination's ports).
    if own.get("selector").is_some()
        || own.get("nets").is_some()
        || own.get("namespaceSelector").is_some()
    {
        return Err(problem(
            format!("{at}/{own_field}"),
            "selectors on the policy's own side are not evaluated",
        ));
    }
    let ports_side = match direction {
        Direction::Ingress => own,
        Direction::Egress => peer,
    };
    let ports = match ports_side.get("ports").and_then(Value::as_array) {
        None => protocols_only(&protocols),
        Some(list) => {
            let mut specs = Vec::new();
            for (i, p) in list.iter().enumerate() {
                specs.extend(port_entry(
                    p,
                    &protocols,
                    &format!(
                        "{at}/{}/ports/{i}",
                        if direction == Direction::Ingress {
                            own_field
                        } else {
                            peer_field
                        }
                    ),
                )?);
            }
            Some(specs)
        }
    };
    let selector = peer.get("selector").and_then(Value::as_str);
    let ns_selector = peer.get("namespaceSelector").and_then(Value::as_str);
    let nets = peer.get("nets").and_then(Value::as_array);
    let peers = if selector.is_none() && ns_selector.is_none() && nets.is_none() {
        None
    } else {
        let mut peers = Vec::new();
        if selector.is_some() || ns_selector.is_some() {
            peers.push(Peer::Pods(peer_of(
                selector.unwrap_or("all()"),
                ns_selector,
                namespace,
                &format!("{at}/{peer_field}/selector"),
            )?));
        }
        if let Some(nets) = nets {
            let mut addrs = AddrSet::none();
            for (i, n) in nets.iter().enumerate() {
                let range = AddrRange::parse_cidr(n.as_str().unwrap_or(""))
                    .map_err(|m| problem(format!("{at}/{peer_field}/nets/{i}"), m))?;
                addrs = addrs.union(&AddrSet::of_range(range));
            }
            if selector.is_some() || ns_selector.is_some() {
                return Err(problem(
                    format!("{at}/{peer_field}/nets"),
                    "nets together with selectors are not evaluated",
                ));
            }
            peers.push(Peer::Addresses(addrs));
        }
        Some(peers)
    };
    Ok(Some(Rule {
        label: String::new(),
        action,
        peers,
        ports,
        caveat: None,
    }))
}

/// Every port of the protocols; `None` when that is every protocol.
fn protocols_only(protocols: &[Protocol]) -> Option<Vec<PortSpec>> {
    (protocols.len() < Protocol::ALL.len()).then(|| {
        protocols
            .iter()
            .map(|&p| PortSpec::Range(p, 1, 65535))
            .collect()
    })
}

fn port_entry(port: &Value, protocols: &[Protocol], at: &str) -> Parsed<Vec<PortSpec>> {
    let range = |start: u16, end: u16| {
        protocols
            .iter()
            .map(|&p| PortSpec::Range(p, start, end))
            .collect()
    };
    match port {
        Value::Number(n) => {
            let p = n
                .as_u64()
                .and_then(|p| u16::try_from(p).ok())
                .filter(|&p| p > 0)
                .ok_or_else(|| problem(at, "a port is 1-65535"))?;
            Ok(range(p, p))
        }
        Value::String(s) => match s.split_once(':') {
            Some((a, b)) => {
                let (a, b) = (a.parse::<u16>(), b.parse::<u16>());
                match (a, b) {
                    (Ok(a), Ok(b)) if a >= 1 && b >= a => Ok(range(a, b)),
                    _ => Err(problem(at, format!("`{s}` is not a port range"))),
                }
            }
            None => match s.parse::<u16>() {
                Ok(p) if p > 0 => Ok(range(p, p)),
                _ => Ok(protocols
                    .iter()
                    .map(|&p| PortSpec::Named(Some(p), s.clone()))
                    .collect()),
            },
        },
        _ => Err(problem(at, "a port is a number, a range or a name")),
    }
}

/// A selector expression (and namespace selector) as a pod peer. A namespaced policy's
/// selector without a namespace selector means its own namespace.
fn peer_of(
    selector: &str,
    ns_selector: Option<&str>,
    namespace: Option<&str>,
    at: &str,
) -> Parsed<PodPeer> {
    let (pods, mut ns) = translate(selector).map_err(|m| problem(at, m))?;
    if let Some(text) = ns_selector {
        let (ns_terms, _) = translate(text).map_err(|m| problem(at, m))?;
        ns.extend(ns_terms);
    }
    let namespaces = if ns.is_empty() && ns_selector.is_none() {
        match namespace {
            Some(n) => Namespaces::Same(n.to_string()),
            None => Namespaces::Selected(json!({})),
        }
    } else {
        Namespaces::Selected(json!({"matchExpressions": ns}))
    };
    Ok(PodPeer {
        namespaces,
        pods: Some(json!({"matchExpressions": pods})),
    })
}

/// A conjunction of Calico terms as label-selector expressions: (pod terms, namespace terms).
/// Calico's namespace labels (`projectcalico.org/namespace`, `pcns.KEY`) become namespace
/// terms; `projectcalico.org/name` in a namespace selector is the namespace's name.
fn translate(text: &str) -> Result<(Vec<Value>, Vec<Value>), String> {
    let mut pods = Vec::new();
    let mut namespaces = Vec::new();
    let text = text.trim();
    if text.is_empty() || text == "all()" {
        return Ok((pods, namespaces));
    }
    if text.contains("||")
        || text.contains(" contains ")
        || text.contains("starts with")
        || text.contains("ends with")
        || text.contains("global()")
    {
        return Err(format!(
            "the selector `{text}` uses operators that are not evaluated (only &&, ==, !=, in, not in, has, !has, all)"
        ));
    }
    for term in text.split("&&") {
        let mut term = term.trim();
        while let Some(inner) = term.strip_prefix('(').and_then(|t| t.strip_suffix(')')) {
            term = inner.trim();
        }
        if term == "all()" {
            continue;
        }
        let (key, expression) = term_expression(term)?;
        let (target, key) =
            if key == "projectcalico.org/namespace" || key == "projectcalico.org/name" {
                (
                    &mut namespaces,
                    crate::model::NAMESPACE_NAME_LABEL.to_string(),
                )
            } else if let Some(k) = key.strip_prefix("pcns.") {
                (&mut namespaces, k.to_string())
            } else {
                (&mut pods, key)
            };
        let mut expression = expression;
        expression["key"] = Value::String(key);
        target.push(expression);
    }
    Ok((pods, namespaces))
}

fn unquote(text: &str) -> Option<String> {
    let t = text.trim();
    let inner = t
        .strip_prefix('\'')
        .and_then(|s| s.strip_suffix('\''))
        .or_else(|| t.strip_prefix('"').and_then(|s| s.strip_suffix('"')))?;
    Some(inner.to_string())
}

/// One term: `has(k)`, `!has(k)`, `k == 'v'`, `k != 'v'`, `k in {'a', 'b'}`, `k not in {...}`.
fn term_expression(term: &str) -> Result<(String, Value), String> {
    let bad = || format!("`{term}` is not a selector term Palisade evaluates");
    if let Some(inner) = term.strip_prefix("!has(").and_then(|s| s.strip_suffix(')')) {
        return Ok((inner.trim().into(), json!({"operator": "DoesNotExist"})));
    }
    if let Some(inner) = term.strip_prefix("has(").and_then(|s| s.strip_suffix(')')) {
        return Ok((inner.trim().into(), json!({"operator": "Exists"})));
    }
    for (op, operator) in [("==", "In"), ("!=", "NotIn")] {
        if let Some((k, v)) = term.split_once(op) {
            let value = unquote(v).ok_or_else(bad)?;
            return Ok((
                k.trim().into(),
                json!({"operator": operator, "values": [value]}),
            ));
        }
    }
    for (op, operator) in [(" not in ", "NotIn"), (" in ", "In")] {
        if let Some((k, v)) = term.split_once(op) {
            let set = v
                .trim()
                .strip_prefix('{')
                .and_then(|s| s.strip_suffix('}'))
                .ok_or_else(bad)?;
            let values: Option<Vec<String>> = set
                .split(',')
                .filter(|s| !s.trim().is_empty())
                .map(unquote)
                .collect();
            let values = values.ok_or_else(bad)?;
            if values.is_empty() {
                return Err(bad());
            }
            return Ok((
                k.trim().into(),
                json!({"operator": operator, "values": values}),
            ));
        }
    }
    Err(bad())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn conjunctions_translate_to_label_selectors() {
        let (pods, ns) = translate("app == 'web' && has(tier) && env in {\"prod\", 'stage'} && projectcalico.org/namespace == 'shop'").unwrap();
        assert_eq!(pods.len(), 3);
        assert_eq!(
            pods[0],
            json!({"key": "app", "operator": "In", "values": ["web"]})
        );
        assert_eq!(pods[1], json!({"key": "tier", "operator": "Exists"}));
        assert_eq!(
            ns,
            vec![
                json!({"key": "kubernetes.io/metadata.name", "operator": "In", "values": ["shop"]})
            ]
        );
        assert!(translate("app == 'a' || app == 'b'").is_err());
        assert!(translate("app contains 'x'").is_err());
        assert_eq!(translate("all()").unwrap(), (vec![], vec![]));
    }

    #[test]
    fn rules_read_ports_ranges_and_icmp() {
        let p = calico_policy(
            &json!({"metadata": {"name": "p"}, "spec": {"order": 10, "selector": "app == 'db'",
                "ingress": [
                    {"action": "Allow", "protocol": "TCP", "source": {"selector": "app == 'api'"}, "destination": {"ports": [5432, "6000:6010"]}},
                    {"action": "Allow", "protocol": "ICMP"},
                    {"action": "Deny"}
                ]}}),
            Some("shop"),
            0,
        )
        .unwrap();
        assert_eq!(p.priority, 10_000);
        assert_eq!(p.isolates, [true, false]);
        assert_eq!(
            p.ingress.len(),
            2,
            "the ICMP rule cannot match TCP, UDP or SCTP"
        );
        assert_eq!(
            p.ingress[0].ports,
            Some(vec![
                PortSpec::Range(Protocol::Tcp, 5432, 5432),
                PortSpec::Range(Protocol::Tcp, 6000, 6010)
            ])
        );
        let err = calico_policy(&json!({"spec": {"ingress": [{"action": "Allow", "source": {"notNets": ["10.0.0.0/8"]}}]}}), Some("a"), 0).unwrap_err();
        assert_eq!(err.pointer, "/spec/ingress/0/source/notNets");
    }
}
