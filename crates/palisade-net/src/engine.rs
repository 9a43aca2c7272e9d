//! The evaluation: which connections the data path allows from one party to another, layer
//! by layer as the API specifies — AdminNetworkPolicies by priority (first matching rule
//! decides; `Pass` hands over), then NetworkPolicies (a pod selected for a direction is
//! isolated in it and gets the union of the matching rules), then the
//! BaselineAdminNetworkPolicy, then the default (allowed). A connection needs both the
//! source's egress and the destination's ingress.
//!
//! Pods with the same namespace, labels, ports and host networking are indistinguishable to
//! every policy, so the engine works on these classes; selectors are matched once per class
//! and rule when the engine is prepared.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::Arc;

use palisade_core::selector::{NamespaceSelection, label_selector_matches};
use serde::Serialize;

use crate::addr::{AddrRange, AddrSet, atoms};
use crate::conn::{Conn, Protocol};
use crate::model::Endpoint;
use crate::network::Network;
use crate::policy::{Action, Direction, Layer, Namespaces, Peer, PodPeer, Policy, PortSpec};

/// One side of a connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Party {
    /// An endpoint, by index in [`Network::endpoints`].
    Pod(usize),
    /// The ingress controller (only as a source).
    IngressController,
    /// Cluster DNS when no workload of the input is it: a pod labelled `k8s-app: kube-dns`
    /// in `kube-system`, serving 53/UDP and 53/TCP (only as a destination).
    ClusterDns,
    /// The API server: an address outside the pods that the input does not give (only as a
    /// destination).
    ApiServer,
    /// Addresses outside the cluster's pods.
    Addr(AddrRange),
}

/// What the engine concluded for one pair.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Verdict {
    pub conn: Conn,
    /// Policies that may govern the pair but were not evaluated (Calico, Cilium, invalid
    /// policies, admin rules naming nodes): the pair's connections are not a final answer.
    pub not_evaluated: BTreeSet<String>,
}

impl Verdict {
    /// Why the answer is not final, one sentence per note, for evidence (empty when it is).
    pub fn notes(&self) -> String {
        let notes: Vec<&str> = self.not_evaluated.iter().map(String::as_str).collect();
        notes.join("; ")
    }
}

/// One step of an explanation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Step {
    pub direction: Direction,
    /// The policy (`NetworkPolicy shop/allow-web`), or `None` for the default.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub policy: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rule: Option<String>,
    pub effect: Effect,
    /// The connections this step decides.
    pub conn: Conn,
}

impl Step {
    pub fn direction_label(&self) -> String {
        match self.direction {
            Direction::Ingress => "ingress".into(),
            Direction::Egress => "egress".into(),
        }
    }

    pub fn effect_label(&self) -> &'static str {
        match self.effect {
            Effect::Allow => "allow",
            Effect::Deny => "deny",
            Effect::Pass => "pass",
            Effect::Isolated => "isolated (no rule allows)",
            Effect::Default => "allow (not isolated)",
            Effect::HostNetwork => "host network: policy behaviour undefined",
            Effect::NotExposed => "no Ingress or Route opens it",
        }
    }
}

/// What a step does to the connections it decides.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Effect {
    /// A rule allows them.
    Allow,
    /// An admin rule denies them.
    Deny,
    /// An admin rule passes them to NetworkPolicies and the baseline.
    Pass,
    /// NetworkPolicies select the pod for this direction and no rule allows them.
    Isolated,
    /// No policy isolates the pod in this direction: allowed by default.
    Default,
    /// The pod uses the host network, for which policy behaviour is undefined.
    HostNetwork,
    /// The ingress controller reaches only the ports Ingresses and Routes open.
    NotExposed,
}

/// Why a connection to the API server is not a final answer.
pub const API_SERVER_NOTE: &str =
    "the API server's address is not in the input; policies allow some addresses only";

/// Why a connection to the API server at the addresses given is not a final answer.
pub const API_SERVER_ADDRESSES_NOTE: &str =
    "the policies allow some of the API server's addresses given, not all";

/// Why a pair with a host-network pod is not a final answer.
pub const HOST_NETWORK_NOTE: &str =
    "host-network pod (NetworkPolicy behaviour for host-network pods is undefined)";

/// Where an evaluation reports its steps (policy, rule, effect, connections).
type StepSink<'a> = dyn FnMut(Option<&Policy>, Option<&str>, Effect, &Conn) + 'a;

/// What [`Engine::first_match`] decided: allowed, passed on, and matched by no rule.
struct FirstMatch {
    allowed: Conn,
    passed: Conn,
    remaining: Conn,
}

/// A small bit set over classes.
#[derive(Debug, Clone, Default)]
struct Bits(Vec<u64>);

impl Bits {
    fn with_len(n: usize) -> Bits {
        Bits(vec![0; n.div_ceil(64)])
    }
    fn set(&mut self, i: usize) {
        self.0[i / 64] |= 1 << (i % 64);
    }
    fn get(&self, i: usize) -> bool {
        self.0.get(i / 64).is_some_and(|w| w & (1 << (i % 64)) != 0)
    }
}

/// A rule prepared for evaluation: which classes and addresses its peers match, and its ports.
#[derive(Debug, Clone)]
struct Prepared {
    everything: bool,
    classes: Bits,
    /// Classes whose match is the input's best guess: the cluster may decide otherwise
    /// ([`Engine::guessed_classes`]).
    guessed: Bits,
    addrs: AddrSet,
    nodes: bool,
    numeric: Conn,
    named: Vec<(Option<Protocol>, String)>,
}

impl Prepared {
    fn matches(&self, other: Party, class: Option<usize>) -> bool {
        if self.everything {
            return true;
        }
        match other {
            Party::Addr(range) => self.addrs.covers(&range),
            _ => class.is_some_and(|c| self.classes.get(c)),
        }
    }

    fn conn(&self, dst: Option<&Endpoint>) -> Conn {
        let mut conn = self.numeric.clone();
        if let Some(dst) = dst {
            for (protocol, name) in &self.named {
                for (p, n) in dst.named_port(name, *protocol) {
                    conn = conn.union(&Conn::port(p, n));
                }
            }
        }
        conn
    }
}

/// The network prepared for many questions.
pub struct Engine {
    pub net: Arc<Network>,
    class_of: Vec<usize>,
    /// A representative endpoint per class; the last class is the ingress controller.
    reps: Vec<usize>,
    members: Vec<Vec<usize>>,
    admin_of: Vec<Vec<usize>>,
    policies_of: Vec<[Vec<usize>; 2]>,
    baseline_of: Vec<Vec<usize>>,
    /// Prepared rules by layer, policy, direction and rule.
    prepared: [Vec<[Vec<Prepared>; 2]>; 3],
    unevaluated_in: BTreeMap<String, Vec<String>>,
    unevaluated_everywhere: Vec<String>,
    atoms: Vec<AddrRange>,
    /// See [`Engine::groups`].
    groups: Vec<(usize, Vec<usize>)>,
    /// The group (index in `groups`) of each endpoint.
    group_of: Vec<usize>,
    /// The classes of each namespace (by their representatives').
    classes_in: HashMap<String, Vec<usize>>,
    /// Per class, the policies (layer, index) whose subject may or may not include it as the
    /// cluster has it ([`Engine::guessed_classes`]).
    subject_guesses: Vec<Vec<(usize, usize)>>,
}

/// What endpoints may open to the others, each group's answer found once: endpoints no policy
/// can tell apart ([`Engine::groups`]) reach the same, as sources as they are as
/// destinations (the matrix relies on both).
pub struct Onward<'e> {
    engine: &'e Engine,
    /// Per source group: the endpoints it may reach, in order, each with the index of its
    /// connections in the second list (one per destination group).
    by_group: HashMap<usize, Reached>,
}

type Reached = (Vec<(usize, usize)>, Vec<Verdict>);

impl Onward<'_> {
    /// What endpoint `from` may open to every other endpoint: (endpoint, verdict) for each
    /// endpoint with some allowed connection, or whose answer is not final (it may have some:
    /// the verdict's notes say why), by endpoint.
    pub fn from(&mut self, from: usize) -> impl Iterator<Item = (usize, &Verdict)> + '_ {
        let engine = self.engine;
        let group = engine.group_of[from];
        let (reached, conns) = self
            .by_group
            .entry(group)
            .or_insert_with(|| engine.reached_by(group));
        let conns: &Vec<Verdict> = conns;
        reached
            .iter()
            .filter(move |(m, _)| *m != from)
            .map(move |&(m, c)| (m, &conns[c]))
    }
}

fn layer_index(layer: Layer) -> usize {
    match layer {
        Layer::AdminNetworkPolicy => 0,
        Layer::BaselineAdminNetworkPolicy => 2,
        // NetworkPolicies and the CNIs' policies enforced with them.
        _ => 1,
    }
}

impl Engine {
    /// The engine of an inventory's workloads as the analyzers of a scan place them
    /// ([`crate::model::Placement::ByScope`]: unrelated projects scanned together share no
    /// namespace). The network rules and the escalation graph ask the same question of one
    /// inventory; whoever holds the inventory's models builds it once for both.
    pub fn for_scan(inventory: &palisade_inventory::Inventory) -> Engine {
        Engine::for_scan_placed(inventory, &crate::IngressPlacement::default())
    }

    /// [`Engine::for_scan`] with the ingress controller placed as the user says.
    pub fn for_scan_placed(
        inventory: &palisade_inventory::Inventory,
        ingress: &crate::IngressPlacement,
    ) -> Engine {
        let mut network = Network::placed(inventory, crate::model::Placement::ByScope);
        network.place_ingress(ingress);
        Engine::new(Arc::new(network))
    }

    pub fn new(net: Arc<Network>) -> Engine {
        let (class_of, reps, members) = classes(&net);
        let mut engine = Engine {
            net: Arc::clone(&net),
            class_of,
            reps,
            members,
            admin_of: Vec::new(),
            policies_of: Vec::new(),
            baseline_of: Vec::new(),
            prepared: [Vec::new(), Vec::new(), Vec::new()],
            unevaluated_in: BTreeMap::new(),
            unevaluated_everywhere: Vec::new(),
            atoms: Vec::new(),
            groups: Vec::new(),
            group_of: Vec::new(),
            classes_in: HashMap::new(),
            subject_guesses: Vec::new(),
        };
        for c in 0..engine.reps.len() {
            let namespace = engine.rep(c).namespace.clone();
            engine.classes_in.entry(namespace).or_default().push(c);
        }
        engine.subject_guesses = engine.guessed_subjects();
        engine.admin_of = engine.subjects(&net.admin);
        engine.baseline_of = engine.subjects(&net.baseline);
        engine.policies_of = engine
            .subjects(&net.policies)
            .into_iter()
            .map(|selecting| {
                Direction::BOTH.map(|d| {
                    selecting
                        .iter()
                        .copied()
                        .filter(|&p| net.policies[p].applies(d))
                        .collect()
                })
            })
            .collect();
        let mut cidrs = Vec::new();
        for (layer, policies) in [
            (Layer::AdminNetworkPolicy, &net.admin),
            (Layer::NetworkPolicy, &net.policies),
            (Layer::BaselineAdminNetworkPolicy, &net.baseline),
        ] {
            let prepared = policies
                .iter()
                .map(|p| {
                    Direction::BOTH.map(|d| {
                        p.rules(d)
                            .iter()
                            .map(|r| engine.prepare(p, r, &mut cidrs))
                            .collect()
                    })
                })
                .collect();
            engine.prepared[layer_index(layer)] = prepared;
        }
        // The API server's addresses, when given, are ranges of their own.
        cidrs.extend(net.api_server.iter().copied());
        engine.atoms = atoms(&cidrs);
        for u in &net.unevaluated {
            match &u.namespace {
                Some(ns) => engine
                    .unevaluated_in
                    .entry(ns.clone())
                    .or_default()
                    .push(u.policy.clone()),
                None => engine.unevaluated_everywhere.push(u.policy.clone()),
            }
        }
        engine.groups = engine.signature_groups();
        engine.group_of = vec![usize::MAX; net.endpoints.len()];
        for (g, (_, members)) in engine.groups.iter().enumerate() {
            for &e in members {
                engine.group_of[e] = g;
            }
        }
        engine
    }

    /// Per class, the policies of a layer whose subject includes it, in order (never for the
    /// ingress controller's class, which stands for a pod outside the analysed objects).
    fn subjects(&self, policies: &[Policy]) -> Vec<Vec<usize>> {
        let mut by_class = vec![Vec::new(); self.reps.len()];
        for (p, policy) in policies.iter().enumerate() {
            for c in self.peer_classes(&policy.subject) {
                if self.reps[c] != INGRESS_CONTROLLER_CLASS {
                    by_class[c].push(p);
                }
            }
        }
        by_class
    }

    /// The policies of a layer as the prepared rules index them (0 admin, 1 NetworkPolicies
    /// and the CNIs', 2 baseline).
    fn layer(&self, layer: usize) -> &[Policy] {
        match layer {
            0 => &self.net.admin,
            2 => &self.net.baseline,
            _ => &self.net.policies,
        }
    }

    /// Whether some answer about class `c` is a guess: a policy's subject, or a rule's peers,
    /// may or may not take it ([`Engine::guessed_classes`]).
    fn is_guessed(&self, c: usize) -> bool {
        !self.subject_guesses[c].is_empty()
            || self
                .prepared
                .iter()
                .flatten()
                .flatten()
                .flatten()
                .any(|p| p.guessed.get(c))
    }

    /// Per class, the policies of every layer (layer index, policy) whose subject may or may
    /// not include it ([`Engine::guessed_classes`]).
    fn guessed_subjects(&self) -> Vec<Vec<(usize, usize)>> {
        let mut by_class = vec![Vec::new(); self.reps.len()];
        for layer in 0..3 {
            for (p, policy) in self.layer(layer).iter().enumerate() {
                for c in self.guessed_classes(&policy.subject) {
                    if self.reps[c] != INGRESS_CONTROLLER_CLASS {
                        by_class[c].push((layer, p));
                    }
                }
            }
        }
        by_class
    }

    /// The classes a pod peer (or a policy's subject) includes or leaves out only as the
    /// input's best guess: those in namespaces no Namespace object was read for, when the
    /// peer's namespace selector reads their labels; and the ingress controller, whose
    /// namespace and labels are unknown unless they were given
    /// ([`Network::place_ingress_controller`]). The guess is what the input says (labels not
    /// given are absent).
    fn guessed_classes(&self, peer: &PodPeer) -> Vec<usize> {
        let mut out = Vec::new();
        if let Namespaces::Selected(selector) = &peer.namespaces {
            for (ns, classes) in &self.classes_in {
                if self.net.namespaces.selection(selector, ns) != NamespaceSelection::Unknown {
                    continue;
                }
                out.extend(classes.iter().copied().filter(|&c| {
                    self.reps[c] != INGRESS_CONTROLLER_CLASS && selects_pods(peer, self.rep(c))
                }));
            }
        }
        if self.net.takes_ingress_controller(peer) == NamespaceSelection::Unknown {
            out.push(self.reps.len() - 2);
        }
        out
    }

    /// Why the answer about class `c` is a guess for a rule's (or subject's) selectors.
    fn guess_note(&self, c: usize, what: &str) -> String {
        if self.reps[c] == INGRESS_CONTROLLER_CLASS {
            format!(
                "{what} may admit the ingress controller or not: its namespace and labels are not known (give them with --ingress-namespace and --ingress-label, or [network] in palisade.toml)"
            )
        } else {
            let ns = &self.rep(c).namespace;
            format!(
                "{what} reads namespace labels, and no Namespace object `{ns}` was read (taken to have only its name label)"
            )
        }
    }

    /// The connections of `rest` a rule decides with `other`, `None` when its peers do not take
    /// `other`; a match (or a miss) that is only the input's guess marks the pair not final,
    /// named by `label`, when the rule would decide some connections.
    fn decides(
        &self,
        prepared: &Prepared,
        label: impl FnOnce() -> String,
        other: Party,
        dst: Option<&Endpoint>,
        rest: &Conn,
        verdict: &mut Verdict,
    ) -> Option<Conn> {
        let class = self.class(other);
        if let Some(c) = class
            && !prepared.everything
            && prepared.guessed.get(c)
            && !prepared.conn(dst).intersect(rest).is_empty()
        {
            verdict.not_evaluated.insert(self.guess_note(c, &label()));
        }
        prepared
            .matches(other, class)
            .then(|| prepared.conn(dst).intersect(rest))
    }

    /// Notes the pair not final when a policy of `subject`'s namespace may or may not
    /// select it in `direction`.
    fn note_subject_guesses(&self, subject: usize, direction: Direction, verdict: &mut Verdict) {
        for &(layer, p) in &self.subject_guesses[subject] {
            let policy = &self.layer(layer)[p];
            if policy.applies(direction) || !policy.rules(direction).is_empty() {
                let what = format!("{}'s subject", policy.describe());
                verdict
                    .not_evaluated
                    .insert(self.guess_note(subject, &what));
            }
        }
    }

    /// The classes a pod peer (or a policy's subject) includes ([`Engine::pod_peer_matches`]
    /// of their representatives), in order.
    fn peer_classes(&self, peer: &PodPeer) -> Vec<usize> {
        let mut out: Vec<usize> = self.peer_classes_unordered(peer).collect();
        out.sort_unstable();
        out
    }

    /// [`Engine::peer_classes`] in no order: only the classes of the namespaces the peer
    /// looks in are tried.
    fn peer_classes_unordered<'s>(&'s self, peer: &'s PodPeer) -> impl Iterator<Item = usize> + 's {
        let namespaces: Box<dyn Iterator<Item = &Vec<usize>>> = match &peer.namespaces {
            Namespaces::Same(ns) => Box::new(self.classes_in.get(ns).into_iter()),
            Namespaces::Selected(_) => Box::new(
                self.classes_in
                    .iter()
                    .filter(|(ns, _)| self.net.looks_in(peer, ns))
                    .map(|(_, classes)| classes),
            ),
        };
        namespaces
            .flatten()
            .copied()
            .filter(|&c| selects_pods(peer, self.rep(c)))
    }

    /// Whether a pod peer (or a policy's subject) includes an endpoint.
    pub fn pod_peer_matches(&self, peer: &PodPeer, e: &Endpoint) -> bool {
        self.net.looks_in(peer, &e.namespace) && selects_pods(peer, e)
    }

    fn prepare(
        &self,
        _policy: &Policy,
        rule: &crate::policy::Rule,
        cidrs: &mut Vec<AddrRange>,
    ) -> Prepared {
        let mut prepared = Prepared {
            everything: rule.peers.is_none(),
            classes: Bits::with_len(self.reps.len()),
            guessed: Bits::with_len(self.reps.len()),
            addrs: AddrSet::none(),
            nodes: false,
            numeric: Conn::none(),
            named: Vec::new(),
        };
        for peer in rule.peers.iter().flatten() {
            match peer {
                Peer::Pods(pods) => {
                    for c in self.peer_classes(pods) {
                        prepared.classes.set(c);
                    }
                    for c in self.guessed_classes(pods) {
                        prepared.guessed.set(c);
                    }
                }
                Peer::Addresses(set) => {
                    for range in set.ranges() {
                        cidrs.push(range);
                    }
                    prepared.addrs = prepared.addrs.union(set);
                }
                Peer::Nodes => prepared.nodes = true,
            }
        }
        match &rule.ports {
            None => prepared.numeric = Conn::all(),
            Some(ports) => {
                for port in ports {
                    match port {
                        PortSpec::Range(p, start, end) => {
                            prepared.numeric =
                                prepared.numeric.union(&Conn::ports(*p, *start, *end));
                        }
                        PortSpec::Named(p, name) => prepared.named.push((*p, name.clone())),
                    }
                }
            }
        }
        prepared
    }

    /// The namespaces of the input whose labels some selector reads while no Namespace object
    /// of theirs was read: answers about their pods may be guesses ([`Engine::guessed_classes`]).
    pub fn namespaces_guessed(&self) -> std::collections::BTreeSet<&str> {
        (0..self.reps.len())
            .filter(|&c| !self.members[c].is_empty())
            .filter(|&c| self.is_guessed(c))
            .map(|c| self.rep(c).namespace.as_str())
            .collect()
    }

    /// The address ranges the matrix lists: every address, cut at every CIDR a policy names.
    pub fn atoms(&self) -> &[AddrRange] {
        &self.atoms
    }

    fn class(&self, party: Party) -> Option<usize> {
        match party {
            Party::Pod(e) => Some(self.class_of[e]),
            Party::IngressController => Some(self.reps.len() - 2),
            Party::ClusterDns => Some(self.reps.len() - 1),
            Party::ApiServer => None,
            Party::Addr(_) => None,
        }
    }

    /// The endpoint standing for class `c`.
    fn rep(&self, c: usize) -> &Endpoint {
        match self.reps[c] {
            INGRESS_CONTROLLER_CLASS => &self.net.ingress_controller,
            CLUSTER_DNS_CLASS => &self.net.cluster_dns,
            e => &self.net.endpoints[e],
        }
    }

    fn endpoint(&self, party: Party) -> Option<&Endpoint> {
        match party {
            Party::Pod(e) => Some(&self.net.endpoints[e]),
            Party::IngressController => Some(&self.net.ingress_controller),
            Party::ClusterDns => Some(&self.net.cluster_dns),
            Party::Addr(_) | Party::ApiServer => None,
        }
    }

    /// The connections allowed from `src` to `dst`; `trace` collects the steps that decide.
    pub fn verdict(&self, src: Party, dst: Party, mut trace: Option<&mut Vec<Step>>) -> Verdict {
        let mut verdict = Verdict::default();
        let outside = |p: Party| matches!(p, Party::Addr(_) | Party::ApiServer);
        if matches!(dst, Party::IngressController)
            || matches!(src, Party::ClusterDns | Party::ApiServer)
            || (outside(src) && outside(dst))
        {
            return verdict;
        }
        if dst == Party::ApiServer {
            return self.to_api_server(src, trace);
        }
        let dst_endpoint = self.endpoint(dst);
        let mut conn = Conn::all();
        if let Party::IngressController = src {
            let Party::Pod(d) = dst else { return verdict };
            let opened = self
                .net
                .ingress
                .get(&d)
                .map(|(c, _)| c.clone())
                .unwrap_or_default();
            if let Some(t) = trace.as_deref_mut() {
                let via = self.net.ingress.get(&d).map(|(_, v)| v.join(", "));
                t.push(Step {
                    direction: Direction::Ingress,
                    policy: via,
                    rule: None,
                    effect: if opened.is_empty() {
                        Effect::NotExposed
                    } else {
                        Effect::Allow
                    },
                    conn: opened.clone(),
                });
            }
            conn = opened;
        } else if let Some(s) = self.class(src) {
            let egress = self.decide(
                Direction::Egress,
                s,
                dst,
                dst_endpoint,
                &mut verdict,
                trace.as_deref_mut(),
            );
            conn = conn.intersect(&egress);
        }
        // A blocked egress settles the pair (nothing on the destination's side can undo it, so
        // what is not evaluated there does not matter); an explanation still shows both sides.
        if let Some(d) = self.class(dst)
            && (!conn.is_empty() || trace.is_some())
        {
            let mut settled = Verdict::default();
            let marks = if conn.is_empty() {
                &mut settled
            } else {
                &mut verdict
            };
            let ingress = self.decide(Direction::Ingress, d, src, dst_endpoint, marks, trace);
            conn = conn.intersect(&ingress);
        }
        for party in [src, dst] {
            if let Some(caveat) = self.endpoint(party).and_then(|e| e.caveat.as_ref()) {
                verdict.not_evaluated.insert(caveat.clone());
            }
        }
        verdict.conn = conn;
        verdict
    }

    /// What the source may open to the API server. Its addresses given
    /// ([`Network::place_api_server`]), what it may open to them (to any of them, and not
    /// final where they differ); otherwise what it may open to every address range is
    /// certain, and what it may open to some ranges only is not final.
    fn to_api_server(&self, src: Party, trace: Option<&mut Vec<Step>>) -> Verdict {
        let mut any = Conn::none();
        let mut every = Conn::all();
        let mut marks = BTreeSet::new();
        let mut widest: Option<(AddrRange, Conn)> = None;
        let known = &self.net.api_server;
        let is_api_server = |range: &AddrRange| {
            known.is_empty()
                || known.iter().any(|k| {
                    k.family == range.family && k.start <= range.start && range.end <= k.end
                })
        };
        for &range in self.atoms.iter().filter(|r| is_api_server(r)) {
            let v = self.verdict(src, Party::Addr(range), None);
            any = any.union(&v.conn);
            every = every.intersect(&v.conn);
            marks.extend(v.not_evaluated);
            if widest.as_ref().is_none_or(|(_, c)| !c.covers(&v.conn)) {
                widest = Some((range, v.conn));
            }
        }
        // The explanation is that of the range the source may reach most of.
        if let (Some(t), Some((range, _))) = (trace, widest) {
            self.verdict(src, Party::Addr(range), Some(t));
        }
        if any != every {
            marks.insert(if known.is_empty() {
                API_SERVER_NOTE.to_string()
            } else {
                API_SERVER_ADDRESSES_NOTE.to_string()
            });
        }
        Verdict {
            conn: any,
            not_evaluated: marks,
        }
    }

    /// What the policies of `subject` allow in `direction` with `other`.
    fn decide(
        &self,
        direction: Direction,
        subject: usize,
        other: Party,
        dst: Option<&Endpoint>,
        verdict: &mut Verdict,
        mut trace: Option<&mut Vec<Step>>,
    ) -> Conn {
        let d = direction as usize;
        let mut step =
            |policy: Option<&Policy>, rule: Option<&str>, effect: Effect, conn: &Conn| {
                if let Some(t) = trace.as_deref_mut() {
                    t.push(Step {
                        direction,
                        policy: policy.map(Policy::describe),
                        rule: rule.map(String::from),
                        effect,
                        conn: conn.clone(),
                    });
                }
            };
        let rep = self.rep(subject);
        if rep.host_network {
            // The API leaves policy behaviour for host-network pods undefined (most plugins see
            // their traffic as the node's): evaluate as written, and say the answer is not final.
            step(None, None, Effect::HostNetwork, &Conn::none());
            verdict.not_evaluated.insert(HOST_NETWORK_NOTE.to_string());
        }
        self.mark_unevaluated(rep, verdict);
        self.note_subject_guesses(subject, direction, verdict);
        let admin = self.first_match(
            0,
            &self.admin_of[subject],
            direction,
            other,
            dst,
            Conn::all(),
            verdict,
            &mut step,
        );
        let mut allowed = admin.allowed;
        let mut rest = admin.remaining.union(&admin.passed);
        if rest.is_empty() {
            return allowed;
        }
        // NetworkPolicies and Cilium's policies, enforced together: Cilium's denies first,
        // then, where some policy isolates the pod, the union of the matching allow rules.
        // With Calico's policies among them, Calico's order decides instead.
        let applying = &self.policies_of[subject][d];
        if applying
            .iter()
            .any(|&p| self.net.policies[p].layer.is_calico())
        {
            let decided = self.ordered(direction, applying, other, dst, &rest, verdict, &mut step);
            return allowed.union(&decided);
        }
        for &p in applying {
            let policy = &self.net.policies[p];
            for (r, rule) in policy.rules(direction).iter().enumerate() {
                let prepared = &self.prepared[1][p][d][r];
                self.note_nodes(prepared, policy, other, verdict);
                if rule.action != Action::Deny {
                    continue;
                }
                let label = || format!("{} {}", policy.describe(), rule.label);
                let Some(denied) = self.decides(prepared, label, other, dst, &rest, verdict) else {
                    continue;
                };
                if !denied.is_empty() {
                    step(Some(policy), Some(&rule.label), Effect::Deny, &denied);
                    rest = rest.subtract(&denied);
                }
            }
        }
        let isolating: Vec<usize> = applying
            .iter()
            .copied()
            .filter(|&p| self.net.policies[p].isolates(direction))
            .collect();
        if !isolating.is_empty() {
            let mut granted = Conn::none();
            for &p in &isolating {
                let policy = &self.net.policies[p];
                for (r, rule) in policy.rules(direction).iter().enumerate() {
                    let prepared = &self.prepared[1][p][d][r];
                    if rule.action != Action::Allow {
                        continue;
                    }
                    let label = || format!("{} {}", policy.describe(), rule.label);
                    let Some(conn) = self.decides(prepared, label, other, dst, &rest, verdict)
                    else {
                        continue;
                    };
                    if let Some(caveat) = &rule.caveat {
                        verdict.not_evaluated.insert(format!(
                            "{} {}: {caveat}",
                            policy.describe(),
                            rule.label
                        ));
                    }
                    if !conn.is_empty() {
                        step(Some(policy), Some(&rule.label), Effect::Allow, &conn);
                        granted = granted.union(&conn);
                    }
                }
            }
            let refused = rest.subtract(&granted);
            if !refused.is_empty() {
                for &p in &isolating {
                    step(
                        Some(&self.net.policies[p]),
                        None,
                        Effect::Isolated,
                        &refused,
                    );
                }
            }
            return allowed.union(&granted);
        }
        let baseline = self.first_match(
            2,
            &self.baseline_of[subject],
            direction,
            other,
            dst,
            rest,
            verdict,
            &mut step,
        );
        allowed = allowed.union(&baseline.allowed);
        let rest = baseline.remaining;
        if !rest.is_empty() {
            step(None, None, Effect::Default, &rest);
        }
        allowed.union(&rest)
    }

    /// Calico's evaluation of one tier: the policies by order (NetworkPolicies at 1000), their
    /// rules in order, the first rule that matches deciding (`Pass` leaves the tier, which for
    /// the default tier means the namespace's allow-all profile); what no rule matches is
    /// denied when a policy selects the pod for the direction.
    #[allow(clippy::too_many_arguments)]
    fn ordered(
        &self,
        direction: Direction,
        applying: &[usize],
        other: Party,
        dst: Option<&Endpoint>,
        rest: &Conn,
        verdict: &mut Verdict,
        step: &mut StepSink<'_>,
    ) -> Conn {
        let mut order: Vec<usize> = applying.to_vec();
        order.sort_by(|&a, &b| {
            let (a, b) = (&self.net.policies[a], &self.net.policies[b]);
            (a.priority, &a.name).cmp(&(b.priority, &b.name))
        });
        let decided = self.first_match(
            1,
            &order,
            direction,
            other,
            dst,
            rest.clone(),
            verdict,
            step,
        );
        // Passing the default tier leaves the pod to its namespace's allow-all profile.
        let allowed = decided.allowed.union(&decided.passed);
        let remaining = decided.remaining;
        if !remaining.is_empty() {
            for &p in &order {
                step(
                    Some(&self.net.policies[p]),
                    None,
                    Effect::Isolated,
                    &remaining,
                );
            }
        }
        allowed
    }

    /// Ordered policies of one layer (0 admin, 1 NetworkPolicies and the CNIs', 2 baseline),
    /// their rules in order, the first rule that matches deciding the connections it names.
    #[allow(clippy::too_many_arguments)]
    fn first_match(
        &self,
        layer: usize,
        policies: &[usize],
        direction: Direction,
        other: Party,
        dst: Option<&Endpoint>,
        mut remaining: Conn,
        verdict: &mut Verdict,
        step: &mut StepSink<'_>,
    ) -> FirstMatch {
        let list = self.layer(layer);
        let d = direction as usize;
        let mut allowed = Conn::none();
        let mut passed = Conn::none();
        'policies: for &p in policies {
            let policy = &list[p];
            for (r, rule) in policy.rules(direction).iter().enumerate() {
                let prepared = &self.prepared[layer][p][d][r];
                self.note_nodes(prepared, policy, other, verdict);
                let label = || format!("{} {}", policy.describe(), rule.label);
                let Some(decided) = self.decides(prepared, label, other, dst, &remaining, verdict)
                else {
                    continue;
                };
                if decided.is_empty() {
                    continue;
                }
                let effect = match rule.action {
                    Action::Allow => {
                        allowed = allowed.union(&decided);
                        Effect::Allow
                    }
                    Action::Deny => Effect::Deny,
                    Action::Pass => {
                        passed = passed.union(&decided);
                        Effect::Pass
                    }
                };
                step(Some(policy), Some(&rule.label), effect, &decided);
                remaining = remaining.subtract(&decided);
                if remaining.is_empty() {
                    break 'policies;
                }
            }
        }
        FirstMatch {
            allowed,
            passed,
            remaining,
        }
    }

    /// An admin rule naming nodes may match an address: the engine knows no node addresses.
    fn note_nodes(
        &self,
        prepared: &Prepared,
        policy: &Policy,
        other: Party,
        verdict: &mut Verdict,
    ) {
        if prepared.nodes && matches!(other, Party::Addr(_)) {
            verdict
                .not_evaluated
                .insert(format!("{} (rule naming nodes)", policy.describe()));
        }
    }

    fn mark_unevaluated(&self, subject: &Endpoint, verdict: &mut Verdict) {
        for p in self
            .unevaluated_in
            .get(&subject.namespace)
            .into_iter()
            .flatten()
            .chain(&self.unevaluated_everywhere)
        {
            verdict.not_evaluated.insert(p.clone());
        }
    }

    /// The NetworkPolicies (indices in [`Network::policies`]) that isolate an endpoint in a
    /// direction.
    pub fn isolated_by(&self, endpoint: usize, direction: Direction) -> Vec<usize> {
        self.policies_of[self.class_of[endpoint]][direction as usize]
            .iter()
            .copied()
            .filter(|&p| self.net.policies[p].isolates(direction))
            .collect()
    }

    /// The endpoints a NetworkPolicy (index in [`Network::policies`]) selects.
    pub fn selected_by(&self, policy: usize) -> Vec<usize> {
        // Endpoints of a class share the namespace and labels a subject is matched on.
        let subject = &self.net.policies[policy].subject;
        let mut selected: Vec<usize> = self
            .peer_classes_unordered(subject)
            .flat_map(|c| self.members[c].iter().copied())
            .collect();
        selected.sort_unstable();
        selected
    }

    /// What the endpoints of `group` may open to every endpoint ([`Onward`]): the group's
    /// first endpoint speaks for it. A pair whose answer is none, for certain, is left out.
    fn reached_by(&self, group: usize) -> Reached {
        let source = Party::Pod(self.groups[group].1[0]);
        let mut reached = Vec::new();
        let mut conns = Vec::new();
        for (rep, members) in &self.groups {
            let verdict = self.verdict(source, self.class_party(*rep), None);
            if verdict.conn.is_empty() && verdict.not_evaluated.is_empty() {
                continue;
            }
            reached.extend(members.iter().map(|&m| (m, conns.len())));
            conns.push(verdict);
        }
        reached.sort_unstable();
        (reached, conns)
    }

    /// What endpoints may open to every other endpoint ([`Onward::from`]), for asking about
    /// many endpoints.
    pub fn onward(&self) -> Onward<'_> {
        Onward {
            engine: self,
            by_group: HashMap::new(),
        }
    }

    /// What reaches an endpoint from outside the cluster: any address range, or the ingress
    /// controller on what Ingresses, Routes and Gateway API routes open; with why that is not
    /// final when it is not (a policy that reads where the controller runs, or namespace
    /// labels the input does not give).
    pub fn from_outside(&self, to: usize) -> Verdict {
        let mut outside = self.verdict(Party::IngressController, Party::Pod(to), None);
        for &range in &self.atoms {
            let v = self.verdict(Party::Addr(range), Party::Pod(to), None);
            outside.conn = outside.conn.union(&v.conn);
            outside.not_evaluated.extend(v.not_evaluated);
            if outside.conn.is_all() {
                break;
            }
        }
        outside
    }

    /// Whether a pod peer matches some endpoint of the input.
    pub fn matches_some_endpoint(&self, peer: &PodPeer) -> bool {
        self.peer_classes_unordered(peer)
            .any(|c| !self.members[c].is_empty())
    }

    /// Endpoints no policy can tell apart, beyond equal labels: label classes that every
    /// prepared rule and every policy subject treats alike, with the same ports, host
    /// networking and caveats, grouped; each group as (a representative class, its endpoints).
    /// Workloads usually carry a unique `app` label while policies select by tier, so this is
    /// what keeps the matrix near (tiers x namespaces) squared rather than workloads squared.
    pub(crate) fn groups(&self) -> &[(usize, Vec<usize>)] {
        &self.groups
    }

    fn signature_groups(&self) -> Vec<(usize, Vec<usize>)> {
        let prepared: Vec<&Prepared> = self
            .prepared
            .iter()
            .flatten()
            .flat_map(|dirs| dirs.iter().flatten())
            .collect();
        let mut by_signature: HashMap<Vec<u64>, usize> = HashMap::new();
        let mut groups: Vec<(usize, Vec<usize>)> = Vec::new();
        for (c, members) in self.members.iter().enumerate() {
            if members.is_empty() {
                continue;
            }
            let rep = self.rep(c);
            let mut signature: Vec<u64> = Vec::new();
            for (r, p) in prepared.iter().enumerate() {
                if p.classes.get(c) {
                    signature.push(r as u64);
                }
                if p.guessed.get(c) {
                    signature.push(r as u64 | 1 << 63);
                }
            }
            signature.push(u64::MAX);
            for list in [
                &self.admin_of[c],
                &self.baseline_of[c],
                &self.policies_of[c][0],
                &self.policies_of[c][1],
            ] {
                signature.extend(list.iter().map(|&p| p as u64));
                signature.push(u64::MAX);
            }
            for port in &rep.ports {
                signature.push(fnv(&format!("{port:?}")));
            }
            signature.push(u64::from(rep.host_network));
            if let Some(caveat) = &rep.caveat {
                signature.push(fnv(caveat));
            }
            if self.unevaluated_in.contains_key(&rep.namespace) || self.is_guessed(c) {
                signature.push(fnv(&rep.namespace));
            }
            let g = *by_signature.entry(signature).or_insert_with(|| {
                groups.push((c, Vec::new()));
                groups.len() - 1
            });
            groups[g].1.extend_from_slice(members);
        }
        groups
    }

    pub(crate) fn class_party(&self, c: usize) -> Party {
        match (self.members[c].first(), self.reps[c]) {
            (Some(&e), _) => Party::Pod(e),
            (None, CLUSTER_DNS_CLASS) => Party::ClusterDns,
            (None, _) => Party::IngressController,
        }
    }
}

/// Whether a pod peer's pod selector (none: every pod) takes an endpoint, in whichever
/// namespace.
fn selects_pods(peer: &PodPeer, e: &Endpoint) -> bool {
    peer.pods
        .as_ref()
        .is_none_or(|sel| label_selector_matches(sel, Some(&e.labels)))
}

fn fnv(text: &str) -> u64 {
    text.bytes().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    })
}

/// The representative of the ingress controller's class.
const INGRESS_CONTROLLER_CLASS: usize = usize::MAX;
/// The representative of cluster DNS's class (when no workload of the input is it).
const CLUSTER_DNS_CLASS: usize = usize::MAX - 1;

type Classes = (Vec<usize>, Vec<usize>, Vec<Vec<usize>>);

/// Groups endpoints no policy can tell apart; the ingress controller and cluster DNS are the
/// last two classes.
fn classes(net: &Network) -> Classes {
    let mut by_key: HashMap<String, usize> = HashMap::new();
    let mut class_of = Vec::with_capacity(net.endpoints.len());
    let mut reps = Vec::new();
    let mut members: Vec<Vec<usize>> = Vec::new();
    for (i, e) in net.endpoints.iter().enumerate() {
        let labels: BTreeMap<&String, &serde_json::Value> = e.labels.iter().collect();
        let key = serde_json::to_string(&(&e.namespace, labels, e.host_network))
            .unwrap_or_default()
            + &format!("{:?}", e.ports);
        let c = *by_key.entry(key).or_insert_with(|| {
            reps.push(i);
            members.push(Vec::new());
            reps.len() - 1
        });
        members[c].push(i);
        class_of.push(c);
    }
    reps.push(INGRESS_CONTROLLER_CLASS);
    members.push(Vec::new());
    reps.push(CLUSTER_DNS_CLASS);
    members.push(Vec::new());
    (class_of, reps, members)
}

#[cfg(test)]
mod tests {
    use super::*;
    use palisade_inventory::{Limits, load_text};

    fn engine(yaml: &str) -> Engine {
        let loaded = load_text("t.yaml", yaml, &Limits::default());
        Engine::new(Arc::new(Network::from_inventory(&loaded.inventory)))
    }

    const POD: &str = "apiVersion: v1\nkind: Pod\nmetadata: {name: NAME, namespace: NS, labels: {app: NAME}}\nspec: {containers: [{name: c, image: 'r/c:1'}]}\n---\n";

    fn pod(ns: &str, name: &str) -> String {
        POD.replace("NAME", name).replace("NS", ns)
    }

    /// Found by the fuzz target: an explanation evaluated the destination's side of a pair the
    /// source's egress already blocked, and marked it with the destination's unevaluated
    /// policies while the plain answer did not.
    #[test]
    fn explaining_a_pair_does_not_change_its_answer() {
        let yaml = pod("a", "web")
            + &pod("b", "db")
            + "apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {name: deny, namespace: a}\nspec: {podSelector: {}, policyTypes: [Egress]}\n---\napiVersion: crd.projectcalico.org/v1\nkind: NetworkPolicy\nmetadata: {name: extra, namespace: b}\nspec: {selector: \"a == 'x' || b == 'y'\"}\n";
        let engine = engine(&yaml);
        let (web, db) = (Party::Pod(0), Party::Pod(1));
        let mut steps = Vec::new();
        let traced = engine.verdict(web, db, Some(&mut steps));
        assert_eq!(traced, engine.verdict(web, db, None));
        assert!(traced.conn.is_empty() && traced.not_evaluated.is_empty());
        assert!(steps.iter().any(|s| s.direction == Direction::Ingress));
        // The other way the Calico policy governs the source's egress: not final.
        let back = engine.verdict(db, web, None);
        assert!(
            back.not_evaluated
                .contains("NetworkPolicy.crd.projectcalico.org b/extra")
        );
    }

    /// The API server's addresses given, what a workload may open to it is what the policies
    /// allow to them: final when they agree, not final (and said why) when they differ; an
    /// egress rule to one address only is not final while the address is unknown.
    #[test]
    fn the_api_server_at_the_addresses_given() {
        let yaml = pod("a", "web")
            + "apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {name: api, namespace: a}\nspec:\n  podSelector: {}\n  policyTypes: [Egress]\n  egress: [{to: [{ipBlock: {cidr: 10.0.0.1/32}}], ports: [{port: 6443}]}]\n";
        let loaded = load_text("t.yaml", &yaml, &Limits::default());
        let at = |addresses: &[&str]| {
            let mut network = Network::from_inventory(&loaded.inventory);
            let ranges: Vec<AddrRange> = addresses
                .iter()
                .map(|a| AddrRange::parse_cidr(a).unwrap())
                .collect();
            network.place_api_server(&ranges);
            let v = Engine::new(Arc::new(network)).verdict(Party::Pod(0), Party::ApiServer, None);
            (
                v.conn.to_string(),
                v.not_evaluated.into_iter().collect::<Vec<_>>(),
            )
        };
        assert_eq!(at(&["10.0.0.1"]), ("TCP 6443".to_string(), vec![]));
        assert_eq!(at(&["10.0.0.2"]), ("No Connections".to_string(), vec![]));
        assert_eq!(
            at(&["10.0.0.0/30"]),
            (
                "TCP 6443".to_string(),
                vec![API_SERVER_ADDRESSES_NOTE.to_string()]
            )
        );
        assert_eq!(
            at(&[]),
            ("TCP 6443".to_string(), vec![API_SERVER_NOTE.to_string()])
        );
    }

    const FROM_TEAM: &str = "apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {name: db-in, namespace: data}\nspec:\n  podSelector: {}\n  ingress: [{from: [{namespaceSelector: {matchLabels: {team: front}}}]}]\n---\n";

    /// A namespace selector that reads labels cannot be decided for a namespace whose object
    /// was not read: the answer is what the input says (no such label), marked not final.
    #[test]
    fn a_namespace_selector_on_a_namespace_not_read_is_not_final() {
        let yaml = pod("front", "web") + &pod("data", "db") + FROM_TEAM;
        let engine = engine(&yaml);
        let (web, db) = (Party::Pod(0), Party::Pod(1));
        let v = engine.verdict(web, db, None);
        assert!(v.conn.is_empty());
        let note = v.not_evaluated.iter().next().expect("a note");
        assert!(
            note.contains("NetworkPolicy data/db-in ingress[0]") && note.contains("`front`"),
            "{note}"
        );
        // The other way no selector reads labels: final.
        assert!(engine.verdict(db, web, None).not_evaluated.is_empty());

        // With the Namespace read, the answer is final either way.
        for (labels, allowed) in [("{team: front}", true), ("{team: back}", false)] {
            let namespace = format!(
                "apiVersion: v1\nkind: Namespace\nmetadata: {{name: front, labels: {labels}}}\n---\n"
            );
            let engine = super::tests::engine(&(yaml.clone() + &namespace));
            let v = engine.verdict(web, db, None);
            assert_eq!(!v.conn.is_empty(), allowed, "{labels}");
            assert!(
                v.not_evaluated.is_empty(),
                "{labels}: {:?}",
                v.not_evaluated
            );
        }

        // A selector of the name label alone is decided without the object.
        let by_name = FROM_TEAM.replace("team: front", "kubernetes.io/metadata.name: front");
        let engine = super::tests::engine(&(pod("front", "web") + &pod("data", "db") + &by_name));
        let v = engine.verdict(web, db, None);
        assert!(!v.conn.is_empty() && v.not_evaluated.is_empty());
    }

    /// A policy whose subject selects namespaces by label may or may not isolate a pod of a
    /// namespace not read.
    #[test]
    fn an_admin_subject_on_a_namespace_not_read_is_not_final() {
        let yaml = pod("front", "web")
            + &pod("data", "db")
            + "apiVersion: policy.networking.k8s.io/v1alpha1\nkind: AdminNetworkPolicy\nmetadata: {name: lock}\nspec:\n  priority: 1\n  subject: {namespaces: {matchLabels: {tier: data}}}\n  ingress: [{name: none, action: Deny, from: [{namespaces: {}}]}]\n";
        let engine = engine(&yaml);
        let v = engine.verdict(Party::Pod(0), Party::Pod(1), None);
        assert!(!v.conn.is_empty());
        assert!(
            v.not_evaluated
                .iter()
                .any(|n| n.contains("AdminNetworkPolicy lock's subject") && n.contains("`data`")),
            "{:?}",
            v.not_evaluated
        );
    }

    /// The ingress controller's namespace and labels are unknown until given: a rule that
    /// admits one namespace by name may or may not admit it; placed, the answer is final.
    #[test]
    fn the_ingress_controller_is_not_final_until_placed() {
        let yaml = "apiVersion: v1\nkind: Pod\nmetadata: {name: web, namespace: shop, labels: {app: web}}\nspec: {containers: [{name: c, image: 'r/c:1', ports: [{containerPort: 8080}]}]}\n---\napiVersion: v1\nkind: Service\nmetadata: {name: web, namespace: shop}\nspec: {selector: {app: web}, ports: [{port: 80, targetPort: 8080}]}\n---\napiVersion: networking.k8s.io/v1\nkind: Ingress\nmetadata: {name: web, namespace: shop}\nspec: {defaultBackend: {service: {name: web, port: {number: 80}}}}\n---\napiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {name: web-in, namespace: shop}\nspec:\n  podSelector: {}\n  ingress: [{from: [{namespaceSelector: {matchLabels: {kubernetes.io/metadata.name: ingress-nginx}}, podSelector: {matchLabels: {app: controller}}}]}]\n";
        let loaded = load_text("t.yaml", yaml, &Limits::default());
        let verdict = |network: Network| {
            Engine::new(Arc::new(network)).verdict(Party::IngressController, Party::Pod(0), None)
        };
        let unplaced = verdict(Network::from_inventory(&loaded.inventory));
        assert!(unplaced.conn.is_empty());
        assert!(
            unplaced
                .not_evaluated
                .iter()
                .any(|n| n.contains("ingress controller")),
            "{:?}",
            unplaced.not_evaluated
        );
        let labels = |v: &str| Some(serde_json::json!({"app": v}).as_object().unwrap().clone());
        // The namespace alone leaves the pod selector undecided.
        let mut network = Network::from_inventory(&loaded.inventory);
        network.place_ingress_controller(Some("ingress-nginx"), None);
        let v = verdict(network);
        assert!(v.conn.is_empty() && !v.not_evaluated.is_empty());
        for (ns, app, allowed) in [
            ("ingress-nginx", "controller", true),
            ("ingress-nginx", "other", false),
            ("traefik", "controller", false),
        ] {
            let mut network = Network::from_inventory(&loaded.inventory);
            network.place_ingress_controller(Some(ns), labels(app));
            let v = verdict(network);
            assert_eq!(
                v.conn == Conn::port(Protocol::Tcp, 8080),
                allowed,
                "{ns} {app}"
            );
            assert!(
                v.not_evaluated.is_empty(),
                "{ns} {app}: {:?}",
                v.not_evaluated
            );
        }
    }
}
