//! The graph: nodes, and edges with their relation and evidence.

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};
use std::sync::Arc;

use indexmap::IndexSet;
use palisade_inventory::Inventory;
use serde::Serialize;

use crate::fix::{Fix, FixId};
use crate::node::Node;

/// How one node becomes the next.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Relation {
    /// The internet reaches a workload through a Service or an Ingress.
    Exposes,
    /// A workload's pods may open connections to another's (network policies allow it).
    Reaches,
    /// A workload writes a volume another workload mounts: content planted there is read or
    /// run by the other (MITRE ATT&CK T1080, Taint Shared Content).
    SharesStorage,
    /// Whoever runs code in the pods (or is root on their node) holds a service account token.
    MountsToken,
    /// A container owns its node (privileged, host namespaces, a host path, ...).
    OwnsNode,
    /// A node holds control-plane credentials.
    HoldsControlPlaneCredentials,
    /// Whoever creates a pod chooses the node it runs on.
    PlacesPods,
    /// A pool (any service account of a namespace, every namespace) includes a narrower one.
    Includes,
    /// An admin's power over what it administers.
    Administers,
    /// A Secret holds an identity's long-lived token.
    HoldsToken,
    /// An RBAC binding grants a permission that leads there.
    Grants,
    /// An identity is always a member of a group.
    MemberOf,
    /// A node holds the kubelet's credentials: root on it acts as the node's identity
    /// (`system:node:NAME`, group `system:nodes`).
    HoldsCredentials,
    /// A workload's pods read a Secret's or ConfigMap's values (mounted, or in their
    /// environment), so whoever runs code in them, or is root on their node, holds the values.
    Reads,
    /// A value written where it does not belong (a ConfigMap, a Secret that is no token
    /// Secret, a container's environment or arguments) holds another identity's credential: a
    /// service-account token, or a kubeconfig's client certificate and key.
    Leaks,
    /// Code run in one workload's pods runs in another's by design: a Ray cluster's head and
    /// workers run the tasks any of its processes submit.
    RunsCodeIn,
}

impl Relation {
    /// Whether going on from this step needs an exploit of what it reaches (a service that
    /// answers the connection, a program that reads the planted file), unlike every other
    /// step, which follows from configuration alone.
    pub fn needs_exploit(self) -> bool {
        matches!(self, Relation::Reaches | Relation::SharesStorage)
    }
}

/// One outgoing edge.
#[derive(Debug, Clone)]
pub(crate) struct Edge {
    pub(crate) to: usize,
    pub(crate) relation: Relation,
    /// Shared: an exposed workload's hops to one workload on the same ports read the same,
    /// and a graph lent to many evaluations is copied without copying its texts.
    pub(crate) evidence: Arc<str>,
    /// What makes the step possible, as the fixes that would take it away.
    pub(crate) causes: Causes,
}

/// The causes of a step, as fixes ([`FixId`]): the step goes once every one of them is made.
/// Two bindings may give one account the same step, and two workloads may run with one
/// account's token on a node: one edge, several causes. Packed in 32 bits, so that an edge is
/// no larger than it was without them (the graph of a large cluster holds many thousands):
/// [`Causes::UNFIXABLE`] when some cause is no change a person makes to an object (a pool
/// includes its members, the control plane's own grants, a node's kubelet credentials), else
/// one fix's id, or with the top bit set the index of a list in `Graph::cause_lists`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Causes(FixId);

/// The top bit of a [`Causes`] that indexes a list of fixes.
const MANY: u32 = 1 << 31;

/// The bit of a [`FixId`] that names a choice between fixes ([`Graph::fix_either`]).
const EITHER: u32 = 1 << 30;

impl Causes {
    pub(crate) const UNFIXABLE: Causes = Causes(FixId(u32::MAX));

    /// The list of fixes this points to, when it is one.
    fn list(self) -> Option<usize> {
        (self != Causes::UNFIXABLE && self.0.0 & MANY != 0).then_some((self.0.0 & !MANY) as usize)
    }
}

/// The graph. Nodes are interned, each held once (a node's index is its position in the
/// set); each pair of nodes has at most one edge (the first contributed stays, so the order
/// of contributors decides between equal evidence). A clone shares the edges' evidence.
#[derive(Debug, Default, Clone)]
pub struct Graph {
    pub(crate) nodes: IndexSet<Node>,
    pub(crate) edges: Vec<Vec<Edge>>,
    /// The pairs of nodes with an edge (an exposed workload may reach thousands), with the
    /// edge's position among the first node's.
    pairs: HashMap<(usize, usize), u32, BuildHasherDefault<IndexHasher>>,
    /// The fixes that edges name as their causes, each held once.
    pub(crate) fixes: IndexSet<Fix>,
    /// Choices between fixes, any one of which removes a cause ([`Graph::fix_either`]).
    pub(crate) choices: Vec<Vec<FixId>>,
    /// The causes of the edges with more than one.
    pub(crate) cause_lists: Vec<Vec<FixId>>,
    /// Whether edges record their fixes ([`Graph::recording_fixes`]): only a graph made to
    /// plan fixes pays for naming them; the graphs the rules build per evaluation do not.
    records_fixes: bool,
    /// Workloads whose images have a known flaw exploited over the network, by node, with
    /// the evidence ([`Graph::add_exploit`]).
    pub(crate) exploits: HashMap<usize, Arc<str>>,
}

/// Hashes node indices (never input text, so a fast multiplicative hash is enough).
#[derive(Default, Clone)]
struct IndexHasher(u64);

impl Hasher for IndexHasher {
    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.write_u64(u64::from(b));
        }
    }
    fn write_usize(&mut self, i: usize) {
        self.write_u64(i as u64);
    }
    fn write_u64(&mut self, i: u64) {
        self.0 = (self.0.rotate_left(5) ^ i).wrapping_mul(0x51_7c_c1_b7_27_22_0a_95);
    }
    fn finish(&self) -> u64 {
        self.0
    }
}

/// Adds one kind of edge from the objects of an inventory. Analyzers other than RBAC
/// (network reachability, leaked credentials, vulnerable images) contribute this way.
pub type Contributor = fn(&mut Graph, &Inventory);

impl Graph {
    /// The index of `node`, added when new: for adding many edges to or from one node
    /// without building it again ([`Graph::edge_between`]).
    pub fn id(&mut self, node: Node) -> usize {
        let (i, added) = self.nodes.insert_full(node);
        if added {
            self.edges.push(Vec::new());
        }
        i
    }

    pub(crate) fn position(&self, node: &Node) -> Option<usize> {
        self.nodes.get_index_of(node)
    }

    /// Adds an edge, once per pair of nodes (the first evidence stays), for a step no fix
    /// takes away (a pool includes its members; the control plane's own grants).
    pub fn edge(
        &mut self,
        from: Node,
        to: Node,
        relation: Relation,
        evidence: impl Into<Arc<str>>,
    ) {
        let (a, b) = (self.id(from), self.id(to));
        self.edge_between(a, b, relation, evidence);
    }

    /// [`Graph::edge`], for a step that `fix` takes away (see [`Graph::edge_fixed_by`]).
    pub fn edge_fixed(
        &mut self,
        from: Node,
        to: Node,
        relation: Relation,
        evidence: impl Into<Arc<str>>,
        fix: Option<FixId>,
    ) {
        let (a, b) = (self.id(from), self.id(to));
        self.edge_fixed_by(a, b, relation, evidence, fix);
    }

    /// [`Graph::edge`] between nodes given by index ([`Graph::id`]). A step added this way
    /// has a cause no fix takes away (see [`Graph::edge_fixed_by`]).
    pub fn edge_between(
        &mut self,
        a: usize,
        b: usize,
        relation: Relation,
        evidence: impl Into<Arc<str>>,
    ) {
        self.add_edge(a, b, relation, evidence, Causes::UNFIXABLE);
    }

    /// An empty graph whose edges record the fixes that take them away, for
    /// [`Graph::plan_fixes`]. A graph made otherwise records none: every edge of it is as if
    /// no fix took it away.
    pub fn recording_fixes() -> Graph {
        Graph {
            records_fixes: true,
            ..Graph::default()
        }
    }

    /// Whether edges record their fixes ([`Graph::recording_fixes`]).
    pub fn records_fixes(&self) -> bool {
        self.records_fixes
    }

    /// The id of the fix `make` makes, added when new, for naming it as the cause of many
    /// edges; `None`, without making it, when the graph records no fixes.
    pub fn fix_with(&mut self, make: impl FnOnce() -> Fix) -> Option<FixId> {
        if !self.records_fixes {
            return None;
        }
        // Ids stay below the bit `Causes` marks lists with (no graph holds 2^31 fixes; one
        // that did would have its further steps counted as by design, never as fixed).
        let id = u32::try_from(self.fixes.insert_full(make()).0).ok()?;
        (id < EITHER).then_some(FixId(id))
    }

    /// A cause that any one of `fixes` removes (the step "create pods → a node" goes when the
    /// binding is narrowed, or when the namespace refuses such pods); the one fix when only
    /// one is given, `None` when none is (the graph records no fixes).
    pub fn fix_either(&mut self, fixes: &[Option<FixId>]) -> Option<FixId> {
        let mut given: Vec<FixId> = fixes.iter().flatten().copied().collect();
        given.sort_unstable();
        given.dedup();
        match given.len() {
            0 => None,
            1 => Some(given[0]),
            _ => {
                let id = u32::try_from(self.choices.len())
                    .ok()
                    .filter(|&i| i < EITHER)?;
                self.choices.push(given);
                Some(FixId(EITHER | id))
            }
        }
    }

    /// The fixes any one of which removes `cause`: its choices, or itself.
    pub(crate) fn alternatives<'a>(&'a self, cause: &'a FixId) -> &'a [FixId] {
        if cause.0 & EITHER != 0 {
            &self.choices[(cause.0 & !EITHER) as usize]
        } else {
            std::slice::from_ref(cause)
        }
    }

    /// [`Graph::edge_between`], for a step that `fix` takes away ([`Graph::fix_with`]; `None`:
    /// no fix does, or the graph records none). The same step added again with another cause
    /// keeps the first evidence and needs both fixes.
    pub fn edge_fixed_by(
        &mut self,
        a: usize,
        b: usize,
        relation: Relation,
        evidence: impl Into<Arc<str>>,
        fix: Option<FixId>,
    ) {
        let cause = fix.map_or(Causes::UNFIXABLE, Causes);
        self.add_edge(a, b, relation, evidence, cause);
    }

    fn add_edge(
        &mut self,
        a: usize,
        b: usize,
        relation: Relation,
        evidence: impl Into<Arc<str>>,
        cause: Causes,
    ) {
        if a == b {
            return;
        }
        let next = self.edges[a].len() as u32;
        match self.pairs.entry((a, b)) {
            std::collections::hash_map::Entry::Vacant(slot) => {
                slot.insert(next);
                self.edges[a].push(Edge {
                    to: b,
                    relation,
                    evidence: evidence.into(),
                    causes: cause,
                });
            }
            std::collections::hash_map::Entry::Occupied(slot) => {
                let at = *slot.get() as usize;
                let merged = self.merge_causes(self.edges[a][at].causes, cause);
                self.edges[a][at].causes = merged;
            }
        }
    }

    /// The causes of an edge given again with another cause.
    fn merge_causes(&mut self, old: Causes, new: Causes) -> Causes {
        if old == Causes::UNFIXABLE || new == Causes::UNFIXABLE {
            return Causes::UNFIXABLE;
        }
        // An edge is added with one cause; `new` is one fix.
        let added = new.0;
        match old.list() {
            None if old.0 == added => old,
            None => {
                self.cause_lists.push(vec![old.0, added]);
                Causes(FixId(MANY | (self.cause_lists.len() - 1) as u32))
            }
            Some(list) => {
                let fixes = &mut self.cause_lists[list];
                if !fixes.contains(&added) {
                    fixes.push(added);
                }
                old
            }
        }
    }

    /// The fixes that take an edge away, all of them needed; `None` when none does.
    pub(crate) fn causes_of<'a>(&'a self, edge: &'a Edge) -> Option<&'a [FixId]> {
        if edge.causes == Causes::UNFIXABLE {
            return None;
        }
        Some(match edge.causes.list() {
            Some(list) => &self.cause_lists[list],
            None => std::slice::from_ref(&edge.causes.0),
        })
    }

    /// Every fix some edge names as its cause, in the order first named.
    pub fn fixes(&self) -> impl Iterator<Item = &Fix> {
        self.fixes.iter()
    }

    /// The fix of id `id`.
    pub fn fix_named(&self, id: FixId) -> &Fix {
        &self.fixes[id.0 as usize]
    }

    /// Runs contributors, in order, over `inventory`.
    pub fn contribute(&mut self, inventory: &Inventory, contributors: &[Contributor]) {
        for contribute in contributors {
            contribute(self, inventory);
        }
    }

    /// How `node` is reachable from the internet (the exposing Service or Ingress), if it is.
    pub fn exposure(&self, node: &Node) -> Option<&str> {
        let internet = self.position(&Node::Internet)?;
        let target = self.position(node)?;
        self.edges[internet]
            .iter()
            .find(|e| e.to == target)
            .map(|e| &*e.evidence)
    }

    /// Marks `node` (a workload) as running an image with a known flaw exploited over the
    /// network, with the evidence people read (`CVE-2023-44487 in nginx (critical)`): an
    /// attacker who reaches it needs no exploit of their own, so a plan counts it as a likelier
    /// start ([`crate::plan::likelihood`]). The first evidence given stays.
    pub fn add_exploit(&mut self, node: Node, evidence: impl Into<Arc<str>>) {
        let at = self.id(node);
        self.exploits.entry(at).or_insert_with(|| evidence.into());
    }

    /// The known exploitable flaw of `node`'s images, if [`Graph::add_exploit`] marked one.
    pub fn exploit(&self, node: &Node) -> Option<&str> {
        self.exploits.get(&self.position(node)?).map(|e| &**e)
    }

    /// Every step of one relation: from, to and evidence (a scan of every edge).
    pub fn steps_of(&self, relation: Relation) -> Vec<(Node, Node, Arc<str>)> {
        let mut steps = Vec::new();
        for (from, edges) in self.edges.iter().enumerate() {
            for edge in edges.iter().filter(|edge| edge.relation == relation) {
                steps.push((
                    self.nodes[from].clone(),
                    self.nodes[edge.to].clone(),
                    Arc::clone(&edge.evidence),
                ));
            }
        }
        steps
    }

    /// The steps into `node`: where each comes from, its relation and its evidence (a scan of
    /// every edge, for the few nodes a rule asks about).
    pub fn steps_into(&self, node: &Node) -> Vec<(Node, Relation, Arc<str>)> {
        let Some(to) = self.nodes.get_index_of(node) else {
            return Vec::new();
        };
        let mut steps = Vec::new();
        for (from, edges) in self.edges.iter().enumerate() {
            for edge in edges.iter().filter(|edge| edge.to == to) {
                steps.push((
                    self.nodes[from].clone(),
                    edge.relation,
                    Arc::clone(&edge.evidence),
                ));
            }
        }
        steps
    }

    pub fn node_count(&self) -> usize {
        self.nodes.len()
    }

    pub fn edge_count(&self) -> usize {
        self.edges.iter().map(Vec::len).sum()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_edge_is_no_larger_for_naming_its_fixes() {
        // The node index, the evidence's pointer and length, the causes and the relation.
        assert_eq!(std::mem::size_of::<Edge>(), 32);
    }

    #[test]
    fn one_edge_per_pair_and_the_first_evidence_stays() {
        let mut g = Graph::default();
        let web = Node::workload(0, "Deployment", "web", "web");
        g.edge(Node::Internet, web.clone(), Relation::Exposes, "first");
        g.edge(Node::Internet, web.clone(), Relation::Exposes, "second");
        g.edge(web.clone(), web.clone(), Relation::Includes, "self");
        assert_eq!(g.edge_count(), 1);
        assert_eq!(g.node_count(), 2);
        assert_eq!(g.exposure(&web), Some("first"));
        assert_eq!(g.exposure(&Node::ClusterAdmin), None);
    }
}
