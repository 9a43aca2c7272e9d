//! Policies as the engine evaluates them: Kubernetes NetworkPolicies and the cluster-wide
//! AdminNetworkPolicy and BaselineAdminNetworkPolicy (policy.networking.k8s.io) share one
//! shape — a subject, rules per direction with an action, peers and ports — read and checked
//! here. A policy the API server would reject is not guessed at: its problems are returned
//! and the pairs it would govern are marked "not evaluated".

use palisade_core::tree::Tree as _;
use serde_json::{Map, Value};

use crate::addr::{AddrRange, AddrSet};
use crate::conn::Protocol;

/// Which way a rule looks: at traffic into its subject, or out of it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Direction {
    Ingress,
    Egress,
}

impl Direction {
    pub const BOTH: [Direction; 2] = [Direction::Ingress, Direction::Egress];

    pub fn field(self) -> &'static str {
        match self {
            Direction::Ingress => "ingress",
            Direction::Egress => "egress",
        }
    }
}

/// What a matching rule does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub enum Action {
    Allow,
    Deny,
    /// Skip the remaining AdminNetworkPolicies: NetworkPolicies (then the baseline) decide.
    Pass,
}

/// The kinds of policy, in the order the data path applies them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize)]
pub enum Layer {
    AdminNetworkPolicy,
    NetworkPolicy,
    BaselineAdminNetworkPolicy,
    /// Cilium's policies, enforced together with NetworkPolicies (allows unioned, denies
    /// first).
    CiliumNetworkPolicy,
    CiliumClusterwideNetworkPolicy,
    /// Calico's policies, ordered with NetworkPolicies (which Calico places at order 1000),
    /// first match deciding.
    CalicoNetworkPolicy,
    CalicoGlobalNetworkPolicy,
}

impl Layer {
    pub fn kind(self) -> &'static str {
        match self {
            Layer::AdminNetworkPolicy => "AdminNetworkPolicy",
            Layer::NetworkPolicy => "NetworkPolicy",
            Layer::BaselineAdminNetworkPolicy => "BaselineAdminNetworkPolicy",
            Layer::CiliumNetworkPolicy => "CiliumNetworkPolicy",
            Layer::CiliumClusterwideNetworkPolicy => "CiliumClusterwideNetworkPolicy",
            Layer::CalicoNetworkPolicy => "NetworkPolicy.projectcalico.org",
            Layer::CalicoGlobalNetworkPolicy => "GlobalNetworkPolicy.projectcalico.org",
        }
    }

    /// Whether policies of this layer are enforced with NetworkPolicies, in their stage.
    pub fn with_network_policies(self) -> bool {
        matches!(
            self,
            Layer::NetworkPolicy
                | Layer::CiliumNetworkPolicy
                | Layer::CiliumClusterwideNetworkPolicy
                | Layer::CalicoNetworkPolicy
                | Layer::CalicoGlobalNetworkPolicy
        )
    }

    /// Whether policies of this layer are Calico's (ordered, first match).
    pub fn is_calico(self) -> bool {
        matches!(
            self,
            Layer::CalicoNetworkPolicy | Layer::CalicoGlobalNetworkPolicy
        )
    }
}

/// Which namespaces a pod peer looks in.
#[derive(Debug, Clone, PartialEq)]
pub enum Namespaces {
    /// The policy's own namespace.
    Same(String),
    /// Namespaces whose labels a selector matches.
    Selected(Value),
}

/// Pods by namespace and labels. `pods: None` means every pod of those namespaces.
#[derive(Debug, Clone, PartialEq)]
pub struct PodPeer {
    pub namespaces: Namespaces,
    pub pods: Option<Value>,
}

/// One peer of a rule.
#[derive(Debug, Clone, PartialEq)]
pub enum Peer {
    Pods(PodPeer),
    /// Addresses outside the pods (`ipBlock`, `networks`).
    Addresses(AddrSet),
    /// Nodes by label (`nodes` of an admin policy): the engine knows no node labels, so a pair
    /// through it is "not evaluated".
    Nodes,
}

/// One entry of a rule's ports.
#[derive(Debug, Clone, PartialEq)]
pub enum PortSpec {
    /// A protocol and a port range (a single port is `start == end`; no port is 1-65535).
    Range(Protocol, u16, u16),
    /// A container port name, resolved on the destination pod; `None` protocol matches any.
    Named(Option<Protocol>, String),
}

/// One rule.
#[derive(Debug, Clone, PartialEq)]
pub struct Rule {
    /// How `why` names it: `ingress[0]`, or an admin rule's `name`.
    pub label: String,
    pub action: Action,
    /// `None`: every peer (pods and addresses).
    pub peers: Option<Vec<Peer>>,
    /// `None`: every port.
    pub ports: Option<Vec<PortSpec>>,
    /// Why a connection this rule matches is not a final answer (Cilium L7 rules).
    pub caveat: Option<String>,
}

/// A policy of any layer.
#[derive(Debug, Clone, PartialEq)]
pub struct Policy {
    pub layer: Layer,
    pub name: String,
    /// NetworkPolicies only.
    pub namespace: Option<String>,
    /// Index of the inventory object.
    pub object: usize,
    /// Admin policies: lower numbers first. NetworkPolicies and Cilium's: Calico's order for
    /// them (1000, scaled by 1000); Calico's: their `order` scaled by 1000 (none is last).
    pub priority: i64,
    pub subject: PodPeer,
    pub ingress: Vec<Rule>,
    pub egress: Vec<Rule>,
    /// The directions the policy isolates its subject in (NetworkPolicy `policyTypes`, after
    /// the API server's defaulting); admin policies only decide what their rules match.
    pub isolates: [bool; 2],
}

impl Policy {
    pub fn rules(&self, direction: Direction) -> &[Rule] {
        match direction {
            Direction::Ingress => &self.ingress,
            Direction::Egress => &self.egress,
        }
    }

    pub fn isolates(&self, direction: Direction) -> bool {
        self.isolates[direction as usize]
    }

    /// Whether the policy takes part in its subject's decision in a direction: it isolates
    /// it, or (Cilium) it denies something there.
    pub fn applies(&self, direction: Direction) -> bool {
        self.isolates(direction)
            || (matches!(
                self.layer,
                Layer::CiliumNetworkPolicy | Layer::CiliumClusterwideNetworkPolicy
            ) && self
                .rules(direction)
                .iter()
                .any(|r| r.action == Action::Deny))
    }

    /// Every pod selection of the policy: its subject, then its rules' pod peers.
    pub fn pod_peers(&self) -> impl Iterator<Item = &PodPeer> {
        let peers = self
            .ingress
            .iter()
            .chain(&self.egress)
            .flat_map(|rule| rule.peers.iter().flatten())
            .filter_map(|peer| match peer {
                Peer::Pods(pods) => Some(pods),
                _ => None,
            });
        std::iter::once(&self.subject).chain(peers)
    }

    /// `NetworkPolicy shop/default-deny`, `AdminNetworkPolicy deny-slytherin`.
    pub fn describe(&self) -> String {
        match &self.namespace {
            Some(ns) => format!("{} {ns}/{}", self.layer.kind(), self.name),
            None => format!("{} {}", self.layer.kind(), self.name),
        }
    }
}

/// A reason a policy cannot be evaluated, with the field it is about.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    pub pointer: String,
    pub message: String,
}

pub(crate) type Parsed<T> = Result<T, Problem>;

pub(crate) fn problem(pointer: impl Into<String>, message: impl Into<String>) -> Problem {
    Problem {
        pointer: pointer.into(),
        message: message.into(),
    }
}

/// A list field read item by item: `None` when absent or null (and, with `empty_is_none`,
/// when empty), each item parsed at its own pointer.
pub(crate) fn optional_list<T>(
    value: Option<&Value>,
    at: &str,
    empty_is_none: bool,
    item: impl Fn(&Value, &str) -> Parsed<T>,
) -> Parsed<Option<Vec<T>>> {
    match value {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Array(list)) if list.is_empty() && empty_is_none => Ok(None),
        Some(Value::Array(list)) => list
            .iter()
            .enumerate()
            .map(|(i, v)| item(v, &format!("{at}/{i}")))
            .collect::<Parsed<Vec<T>>>()
            .map(Some),
        Some(_) => Err(problem(at, "must be a list")),
    }
}

/// The ingress and egress rules of a policy spec, each read at its pointer.
fn rules_of(
    spec: &Value,
    rule: impl Fn(&Value, Direction, &str) -> Parsed<Rule>,
) -> Parsed<[Vec<Rule>; 2]> {
    let read = |direction: Direction| {
        let field = direction.field();
        optional_list(
            spec.get(field),
            &format!("/spec/{field}"),
            false,
            |r, at| rule(r, direction, at),
        )
        .map(Option::unwrap_or_default)
    };
    Ok([read(Direction::Ingress)?, read(Direction::Egress)?])
}

/// Reads a `networking.k8s.io` NetworkPolicy.
pub fn network_policy(value: &Value, namespace: &str, object: usize) -> Parsed<Policy> {
    let name = name_of(value);
    let spec = value.get("spec").unwrap_or(&Value::Null);
    let pod_selector = spec.get("podSelector").cloned().unwrap_or(Value::Null);
    check_selector(&pod_selector, "/spec/podSelector")?;
    let types = spec.get("policyTypes").and_then(Value::as_array);
    let egress_rules = spec.get("egress").and_then(Value::as_array);
    let isolates = match types.filter(|t| !t.is_empty()) {
        Some(types) => {
            for (i, t) in types.iter().enumerate() {
                if !matches!(t.as_str(), Some("Ingress" | "Egress")) {
                    return Err(problem(
                        format!("/spec/policyTypes/{i}"),
                        "policyTypes lists only Ingress and Egress",
                    ));
                }
            }
            [
                types.iter().any(|t| t.as_str() == Some("Ingress")),
                types.iter().any(|t| t.as_str() == Some("Egress")),
            ]
        }
        // The API server's default: Ingress always, Egress when there are egress rules.
        None => [true, egress_rules.is_some_and(|e| !e.is_empty())],
    };
    let [ingress, egress] = rules_of(spec, |rule, direction, at| {
        let mut parsed = network_policy_rule(rule, direction, namespace, at)?;
        parsed.label = format!("{}]", at.trim_start_matches("/spec/").replace('/', "["));
        Ok(parsed)
    })?;
    Ok(Policy {
        layer: Layer::NetworkPolicy,
        name,
        namespace: Some(namespace.to_string()),
        object,
        priority: crate::calico::KUBERNETES_ORDER,
        subject: PodPeer {
            namespaces: Namespaces::Same(namespace.to_string()),
            pods: Some(pod_selector),
        },
        ingress,
        egress,
        isolates,
    })
}

fn name_of(value: &Value) -> String {
    value
        .at("/metadata/name")
        .and_then(Value::as_str)
        .unwrap_or("<unnamed>")
        .to_string()
}

fn network_policy_rule(
    rule: &Value,
    direction: Direction,
    namespace: &str,
    at: &str,
) -> Parsed<Rule> {
    let peers_field = match direction {
        Direction::Ingress => "from",
        Direction::Egress => "to",
    };
    let peers = optional_list(
        rule.get(peers_field),
        &format!("{at}/{peers_field}"),
        true,
        |peer, here| network_policy_peer(peer, namespace, here),
    )?;
    let ports = optional_list(
        rule.get("ports"),
        &format!("{at}/ports"),
        true,
        network_policy_port,
    )?;
    Ok(Rule {
        label: String::new(),
        action: Action::Allow,
        peers,
        ports,
        caveat: None,
    })
}

fn network_policy_peer(peer: &Value, namespace: &str, at: &str) -> Parsed<Peer> {
    let Some(fields) = peer.as_object() else {
        return Err(problem(at, "a peer must be an object"));
    };
    let pods = fields.get("podSelector").filter(|v| !v.is_null());
    let namespaces = fields.get("namespaceSelector").filter(|v| !v.is_null());
    let ip_block = fields.get("ipBlock").filter(|v| !v.is_null());
    if ip_block.is_some() && (pods.is_some() || namespaces.is_some()) {
        return Err(problem(
            at,
            "ipBlock cannot be combined with podSelector or namespaceSelector",
        ));
    }
    if let Some(block) = ip_block {
        return ip_block_peer(block, &format!("{at}/ipBlock"));
    }
    if pods.is_none() && namespaces.is_none() {
        return Err(problem(
            at,
            "a peer needs podSelector, namespaceSelector or ipBlock",
        ));
    }
    if let Some(sel) = pods {
        check_selector(sel, &format!("{at}/podSelector"))?;
    }
    if let Some(sel) = namespaces {
        check_selector(sel, &format!("{at}/namespaceSelector"))?;
    }
    Ok(Peer::Pods(PodPeer {
        namespaces: match namespaces {
            Some(sel) => Namespaces::Selected(sel.clone()),
            None => Namespaces::Same(namespace.to_string()),
        },
        pods: pods.cloned(),
    }))
}

fn ip_block_peer(block: &Value, at: &str) -> Parsed<Peer> {
    let cidr = block
        .get("cidr")
        .and_then(Value::as_str)
        .ok_or_else(|| problem(format!("{at}/cidr"), "ipBlock needs a cidr"))?;
    let range = AddrRange::parse_cidr(cidr).map_err(|m| problem(format!("{at}/cidr"), m))?;
    let mut set = AddrSet::of_range(range);
    for (i, except) in block
        .get("except")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .enumerate()
    {
        let text = except.as_str().unwrap_or("");
        let cut =
            AddrRange::parse_cidr(text).map_err(|m| problem(format!("{at}/except/{i}"), m))?;
        if cut.family != range.family || cut.start < range.start || cut.end > range.end {
            return Err(problem(
                format!("{at}/except/{i}"),
                format!("except `{text}` is not inside cidr `{cidr}`"),
            ));
        }
        set = set.subtract(&AddrSet::of_range(cut));
    }
    Ok(Peer::Addresses(set))
}

fn protocol_at(value: Option<&Value>, at: &str) -> Parsed<Protocol> {
    match value {
        None | Some(Value::Null) => Ok(Protocol::Tcp),
        Some(v) => v
            .as_str()
            .and_then(Protocol::parse)
            .ok_or_else(|| problem(at, "protocol must be TCP, UDP or SCTP")),
    }
}

fn port_number(value: &Value, at: &str) -> Parsed<u16> {
    value
        .as_u64()
        .and_then(|n| u16::try_from(n).ok())
        .filter(|&n| n >= 1)
        .ok_or_else(|| problem(at, "a port number must be between 1 and 65535"))
}

fn network_policy_port(port: &Value, at: &str) -> Parsed<PortSpec> {
    let protocol = protocol_at(port.get("protocol"), &format!("{at}/protocol"))?;
    let end = port.get("endPort").filter(|v| !v.is_null());
    match port.get("port") {
        None | Some(Value::Null) => {
            if end.is_some() {
                return Err(problem(
                    format!("{at}/endPort"),
                    "endPort needs a numeric port",
                ));
            }
            Ok(PortSpec::Range(protocol, 1, 65535))
        }
        Some(Value::String(name)) => {
            if let Ok(n) = name.parse::<u64>() {
                // An int-or-string written as a string of digits is the number.
                return port_range(protocol, &Value::from(n), end, at);
            }
            if end.is_some() {
                return Err(problem(
                    format!("{at}/endPort"),
                    "endPort cannot follow a named port",
                ));
            }
            Ok(PortSpec::Named(Some(protocol), name.clone()))
        }
        Some(number) => port_range(protocol, number, end, at),
    }
}

fn port_range(
    protocol: Protocol,
    number: &Value,
    end: Option<&Value>,
    at: &str,
) -> Parsed<PortSpec> {
    let start = port_number(number, &format!("{at}/port"))?;
    let end = match end {
        Some(e) => port_number(e, &format!("{at}/endPort"))?,
        None => start,
    };
    if end < start {
        return Err(problem(format!("{at}/endPort"), "endPort is below port"));
    }
    Ok(PortSpec::Range(protocol, start, end))
}

/// Whether a label selector selects everything: absent, `null`, `{}`, or with empty
/// `matchLabels` and `matchExpressions`.
pub fn selects_everything(selector: Option<&Value>) -> bool {
    selector.is_none_or(|s| {
        s.is_null()
            || s.as_object().is_some_and(|m| {
                m.values().all(|v| {
                    v.is_null()
                        || v.as_object().is_some_and(Map::is_empty)
                        || v.as_array().is_some_and(Vec::is_empty)
                })
            })
    })
}

impl PodPeer {
    /// Every pod of every namespace.
    pub fn is_every_pod(&self) -> bool {
        self.pods
            .as_ref()
            .is_none_or(|p| selects_everything(Some(p)))
            && match &self.namespaces {
                Namespaces::Selected(sel) => selects_everything(Some(sel)),
                Namespaces::Same(_) => false,
            }
    }
}

/// Checks a LabelSelector as the API server validates it.
pub fn check_selector(selector: &Value, at: &str) -> Parsed<()> {
    let Some(fields) = selector.as_object() else {
        return if selector.is_null() {
            Ok(())
        } else {
            Err(problem(at, "a label selector must be an object"))
        };
    };
    if let Some(labels) = fields.get("matchLabels").filter(|v| !v.is_null()) {
        let ok = labels
            .as_object()
            .is_some_and(|m| m.values().all(Value::is_string));
        if !ok {
            return Err(problem(
                format!("{at}/matchLabels"),
                "matchLabels maps keys to strings",
            ));
        }
    }
    let expressions = match fields.get("matchExpressions") {
        None | Some(Value::Null) => return Ok(()),
        Some(Value::Array(list)) => list,
        Some(_) => return Err(problem(format!("{at}/matchExpressions"), "must be a list")),
    };
    for (i, expression) in expressions.iter().enumerate() {
        let here = format!("{at}/matchExpressions/{i}");
        let values = expression.get("values").and_then(Value::as_array);
        let has_values = values.is_some_and(|v| !v.is_empty());
        match expression.get("operator").and_then(Value::as_str) {
            Some("In" | "NotIn") if !has_values => {
                return Err(problem(here, "In and NotIn need at least one value"));
            }
            Some("Exists" | "DoesNotExist") if has_values => {
                return Err(problem(here, "Exists and DoesNotExist take no values"));
            }
            Some("In" | "NotIn" | "Exists" | "DoesNotExist") => {}
            Some(other) => {
                return Err(problem(
                    format!("{here}/operator"),
                    format!(
                        "`{other}` is not a selector operator (In, NotIn, Exists, DoesNotExist)"
                    ),
                ));
            }
            None => {
                return Err(problem(
                    format!("{here}/operator"),
                    "an expression needs an operator",
                ));
            }
        }
        if expression
            .get("key")
            .and_then(Value::as_str)
            .is_none_or(str::is_empty)
        {
            return Err(problem(format!("{here}/key"), "an expression needs a key"));
        }
    }
    Ok(())
}

/// Reads an AdminNetworkPolicy or, with `baseline`, a BaselineAdminNetworkPolicy.
pub fn admin_policy(value: &Value, object: usize, baseline: bool) -> Parsed<Policy> {
    let spec = value.get("spec").unwrap_or(&Value::Null);
    let priority = if baseline {
        0
    } else {
        let p = spec.get("priority").and_then(Value::as_i64);
        match p {
            Some(p) if (0..=1000).contains(&p) => p,
            _ => {
                return Err(problem(
                    "/spec/priority",
                    "priority must be a number from 0 to 1000",
                ));
            }
        }
    };
    let subject = admin_subject(spec.get("subject"), "/spec/subject")?;
    for direction in Direction::BOTH {
        let field = direction.field();
        if spec
            .get(field)
            .and_then(Value::as_array)
            .is_some_and(|l| l.len() > 100)
        {
            return Err(problem(
                format!("/spec/{field}"),
                "at most 100 rules per direction",
            ));
        }
    }
    let [ingress, egress] = rules_of(spec, |rule, direction, at| {
        admin_rule(rule, direction, baseline, at)
    })?;
    Ok(Policy {
        layer: if baseline {
            Layer::BaselineAdminNetworkPolicy
        } else {
            Layer::AdminNetworkPolicy
        },
        name: name_of(value),
        namespace: None,
        object,
        priority,
        subject,
        ingress,
        egress,
        isolates: [false, false],
    })
}

fn admin_subject(subject: Option<&Value>, at: &str) -> Parsed<PodPeer> {
    let fields = subject
        .and_then(Value::as_object)
        .ok_or_else(|| problem(at, "an admin policy needs a subject"))?;
    one_of_pod_selectors(fields, at)?
        .ok_or_else(|| problem(at, "a subject selects namespaces or pods"))
}

/// `namespaces: SELECTOR` or `pods: {namespaceSelector, podSelector}` (exactly one).
fn one_of_pod_selectors(fields: &Map<String, Value>, at: &str) -> Parsed<Option<PodPeer>> {
    let namespaces = fields.get("namespaces").filter(|v| !v.is_null());
    let pods = fields.get("pods").filter(|v| !v.is_null());
    match (namespaces, pods) {
        (Some(_), Some(_)) => Err(problem(at, "namespaces and pods are exclusive")),
        (Some(sel), None) => {
            check_selector(sel, &format!("{at}/namespaces"))?;
            Ok(Some(PodPeer {
                namespaces: Namespaces::Selected(sel.clone()),
                pods: None,
            }))
        }
        (None, Some(pods)) => {
            let ns = pods
                .get("namespaceSelector")
                .cloned()
                .unwrap_or(Value::Null);
            let sel = pods.get("podSelector").cloned().unwrap_or(Value::Null);
            check_selector(&ns, &format!("{at}/pods/namespaceSelector"))?;
            check_selector(&sel, &format!("{at}/pods/podSelector"))?;
            Ok(Some(PodPeer {
                namespaces: Namespaces::Selected(ns),
                pods: Some(sel),
            }))
        }
        (None, None) => Ok(None),
    }
}

fn admin_rule(rule: &Value, direction: Direction, baseline: bool, at: &str) -> Parsed<Rule> {
    let action = match rule.get("action").and_then(Value::as_str) {
        Some("Allow") => Action::Allow,
        Some("Deny") => Action::Deny,
        Some("Pass") if !baseline => Action::Pass,
        _ => {
            let allowed = if baseline {
                "Allow or Deny"
            } else {
                "Allow, Deny or Pass"
            };
            return Err(problem(
                format!("{at}/action"),
                format!("action must be {allowed}"),
            ));
        }
    };
    let peers_field = match direction {
        Direction::Ingress => "from",
        Direction::Egress => "to",
    };
    let list = rule
        .get(peers_field)
        .and_then(Value::as_array)
        .filter(|l| !l.is_empty())
        .ok_or_else(|| {
            problem(
                format!("{at}/{peers_field}"),
                "a rule needs at least one peer",
            )
        })?;
    let mut peers = Vec::new();
    for (i, peer) in list.iter().enumerate() {
        let here = format!("{at}/{peers_field}/{i}");
        peers.push(admin_peer(peer, direction, &here)?);
    }
    let ports = optional_list(rule.get("ports"), &format!("{at}/ports"), false, admin_port)?;
    Ok(Rule {
        label: rule.get("name").and_then(Value::as_str).map_or_else(
            || format!("{}]", at.trim_start_matches("/spec/").replace('/', "[")),
            String::from,
        ),
        action,
        peers: Some(peers),
        ports,
        caveat: None,
    })
}

fn admin_peer(peer: &Value, direction: Direction, at: &str) -> Parsed<Peer> {
    let fields = peer
        .as_object()
        .ok_or_else(|| problem(at, "a peer must be an object"))?;
    if direction == Direction::Egress {
        if let Some(networks) = fields.get("networks").filter(|v| !v.is_null()) {
            let list = networks
                .as_array()
                .filter(|l| !l.is_empty())
                .ok_or_else(|| problem(format!("{at}/networks"), "networks lists CIDRs"))?;
            let mut set = AddrSet::none();
            for (i, cidr) in list.iter().enumerate() {
                let text = cidr.as_str().unwrap_or("");
                let range = AddrRange::parse_cidr(text)
                    .map_err(|m| problem(format!("{at}/networks/{i}"), m))?;
                set = set.union(&AddrSet::of_range(range));
            }
            return Ok(Peer::Addresses(set));
        }
        if let Some(nodes) = fields.get("nodes").filter(|v| !v.is_null()) {
            check_selector(nodes, &format!("{at}/nodes"))?;
            return Ok(Peer::Nodes);
        }
    }
    one_of_pod_selectors(fields, at)?
        .map(Peer::Pods)
        .ok_or_else(|| problem(at, "a peer selects namespaces, pods, nodes or networks"))
}

fn admin_port(port: &Value, at: &str) -> Parsed<PortSpec> {
    if let Some(number) = port.get("portNumber").filter(|v| !v.is_null()) {
        let protocol = protocol_at(number.get("protocol"), &format!("{at}/portNumber/protocol"))?;
        let p = port_number(
            number.get("port").unwrap_or(&Value::Null),
            &format!("{at}/portNumber/port"),
        )?;
        return Ok(PortSpec::Range(protocol, p, p));
    }
    if let Some(name) = port.get("namedPort").and_then(Value::as_str) {
        return Ok(PortSpec::Named(None, name.to_string()));
    }
    if let Some(range) = port.get("portRange").filter(|v| !v.is_null()) {
        let protocol = protocol_at(range.get("protocol"), &format!("{at}/portRange/protocol"))?;
        let start = port_number(
            range.get("start").unwrap_or(&Value::Null),
            &format!("{at}/portRange/start"),
        )?;
        let end = port_number(
            range.get("end").unwrap_or(&Value::Null),
            &format!("{at}/portRange/end"),
        )?;
        if end < start {
            return Err(problem(format!("{at}/portRange/end"), "end is below start"));
        }
        return Ok(PortSpec::Range(protocol, start, end));
    }
    Err(problem(at, "a port is portNumber, namedPort or portRange"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn policy_types_default_as_the_api_server_does() {
        let p = network_policy(&json!({"spec": {"podSelector": {}}}), "a", 0).unwrap();
        assert_eq!(p.isolates, [true, false]);
        let p =
            network_policy(&json!({"spec": {"podSelector": {}, "egress": []}}), "a", 0).unwrap();
        assert_eq!(
            p.isolates,
            [true, false],
            "an empty egress list does not add Egress"
        );
        let p = network_policy(
            &json!({"spec": {"podSelector": {}, "egress": [{}]}}),
            "a",
            0,
        )
        .unwrap();
        assert_eq!(p.isolates, [true, true]);
        let p = network_policy(&json!({"spec": {"policyTypes": ["Egress"]}}), "a", 0).unwrap();
        assert_eq!(p.isolates, [false, true]);
    }

    #[test]
    fn invalid_policies_name_the_field() {
        let bad = |spec: Value| network_policy(&json!({"spec": spec}), "a", 0).unwrap_err();
        assert_eq!(
            bad(json!({"ingress": [{"from": [{"ipBlock": {"cidr": "10.0.0.0/8", "except": ["11.0.0.0/8"]}}]}]})).pointer,
            "/spec/ingress/0/from/0/ipBlock/except/0"
        );
        assert!(
            bad(json!({"ingress": [{"ports": [{"port": 80, "endPort": 70}]}]}))
                .message
                .contains("below")
        );
        assert!(bad(json!({"podSelector": {"matchExpressions": [{"key": "a", "operator": "in", "values": ["x"]}]}}))
            .message.contains("not a selector operator"));
        assert!(
            bad(json!({"ingress": [{"ports": [{"protocol": "ICMP"}]}]}))
                .message
                .contains("TCP, UDP or SCTP")
        );
    }
}
