//! The network engine's answers for the network rules, computed once per evaluation
//! ([`Context::derived`](crate::context::Context::derived)): which policies isolate each
//! workload, which policies select nothing or name peers nothing matches, and what each
//! workload may still reach on the internet.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use palisade_inventory::Inventory;
use palisade_net::addr::{AddrRange, AddrSet};
use palisade_net::policy::{Direction, Peer};
use palisade_net::{Engine, Network, Party};

use crate::context::{Context, Derived, Models, Sees};

/// Address ranges that are not the internet: private, shared, loopback, link-local
/// (including the cloud metadata endpoint), multicast and reserved space, and their IPv6
/// counterparts.
const NOT_INTERNET: &[&str] = &[
    "0.0.0.0/8",
    "10.0.0.0/8",
    "100.64.0.0/10",
    "127.0.0.0/8",
    "169.254.0.0/16",
    "172.16.0.0/12",
    "192.168.0.0/16",
    "224.0.0.0/3",
    "::1/128",
    "fc00::/7",
    "fe80::/10",
    "ff00::/8",
];

/// The internet: every address outside [`NOT_INTERNET`].
pub fn internet() -> AddrSet {
    NOT_INTERNET.iter().fold(AddrSet::all(), |set, cidr| {
        let range = AddrRange::parse_cidr(cidr).expect("valid constant");
        set.subtract(&AddrSet::of_range(range))
    })
}

/// The network engine of the inventory ([`Engine::for_scan`]), built once for the network
/// facts and the escalation graph's exposure.
struct PlacedNetwork(Arc<Engine>);

/// The inventory's network engine, built on first use in this evaluation.
pub(crate) fn placed(inventory: &Inventory, derived: &Derived) -> Arc<Engine> {
    Arc::clone(&derived.get_or_build_from(inventory, place).0)
}

/// The network of a cluster prepared for admission and how many objects it was read from,
/// lent to an evaluation whose judged objects are each one the network never reads, or a
/// new lone endpoint placed after the cluster's objects (a standalone Pod, a new
/// Deployment: [`palisade_net::model::is_lone_endpoint`]). Its network is then the
/// cluster's with their endpoints added (`Network::with_lone_endpoint`), the one a fresh
/// read gives, without reading every object again; the engine is built anew on it.
struct NetworkBase {
    network: Arc<Network>,
    objects: usize,
}

fn network_base(inventory: &Inventory, derived: &Derived) -> NetworkBase {
    NetworkBase {
        network: Arc::clone(&placed(inventory, derived).net),
        objects: inventory.objects.len(),
    }
}

/// Whether the object at `index` leaves the cluster's [`NetworkBase`] a base of the
/// network: one the network never reads, or a lone endpoint placed after the objects the
/// base was read from.
fn unseen_by_network_base(inventory: &Inventory, models: &Derived, index: usize) -> bool {
    unseen_by_network(inventory, models, index)
        || crate::unseen::is_new_lone_endpoint(
            inventory,
            index,
            models.get::<NetworkBase>().map(|base| base.objects),
        )
}

/// Whether the object at `index`, judged through its controller, stands apart from it by its
/// labels: an endpoint of its own for the network `models` hold
/// (`palisade_net::Network::stands_apart`: a Service or policy selects its labels and not the
/// template's); without that network (it is never built here), whether its labels differ
/// from the template's at all (`Inventory::relabelled`).
pub(crate) fn stands_apart(inventory: &Inventory, models: &Derived, index: usize) -> bool {
    match models.get::<PlacedNetwork>() {
        Some(placed) => placed.0.net.stands_apart(inventory, index),
        None => inventory.relabelled(index).is_some(),
    }
}

/// [`crate::unseen::is_unseen_by_network`] with the network `models` hold.
fn unseen_by_network(inventory: &Inventory, models: &Derived, index: usize) -> bool {
    crate::unseen::is_unseen_by_network(inventory, index, || stands_apart(inventory, models, index))
}

/// Lends `settings`' placement of the ingress controller (`[network]` of `palisade.toml`) to
/// the models of one evaluation or of a prepared cluster, for [`place`] to read.
pub(crate) fn lend_ingress(settings: &crate::RuleSettings, derived: &Derived) {
    if settings.ingress != palisade_net::IngressPlacement::default() {
        derived.insert(settings.ingress.clone());
    }
}

fn place(inventory: &Inventory, derived: &Derived) -> PlacedNetwork {
    let lent = derived.get::<NetworkBase>();
    let extended = lent.as_deref().and_then(|base| {
        crate::unseen::extend_by_new_lone_endpoints(
            base.network.as_ref(),
            base.objects,
            inventory,
            |network, index| network.with_lone_endpoint(inventory, index),
        )
    });
    if let Some(network) = extended {
        return PlacedNetwork(Arc::new(Engine::new(Arc::new(network))));
    }
    let ingress = derived.get::<palisade_net::IngressPlacement>();
    let unplaced = palisade_net::IngressPlacement::default();
    PlacedNetwork(Arc::new(Engine::for_scan_placed(
        inventory,
        ingress.as_deref().unwrap_or(&unplaced),
    )))
}

/// Asks for the network facts ahead of a scan (for the rules that read them); a cluster
/// prepared for admission keeps them, and the engine, for objects they do not see.
pub fn ask(models: &mut Models) {
    models.keep_from(place, Sees::AllBut(unseen_by_network));
    models.keep_from(network_base, Sees::AllBut(unseen_by_network_base));
    models.keep_from(NetworkFacts::build, Sees::AllBut(unseen_by_network));
    models.add_from(NetworkFacts::build);
}

/// Whether the object at `index` is an endpoint of the network of its own (see
/// [`crate::Target::Endpoint`]).
pub(crate) fn is_endpoint(inventory: &Inventory, derived: &Derived, index: usize) -> bool {
    derived
        .get_or_build_from(inventory, NetworkFacts::build)
        .holds_endpoint(index)
}

/// The network facts, built on first use in this evaluation.
pub fn facts(cx: &Context<'_>) -> Arc<NetworkFacts> {
    cx.derived_from(NetworkFacts::build)
}

/// What the network rules read.
pub struct NetworkFacts {
    /// The engine, for rules that ask about particular pairs (shared with the escalation
    /// graph).
    pub engine: Arc<Engine>,
    /// The endpoint of each workload object (inventory index) with one pod spec.
    endpoint_of: HashMap<usize, usize>,
    /// The endpoint of each pod template of an object of a kind with several (inventory
    /// index, the template's spec pointer).
    template_endpoint: HashMap<(usize, String), usize>,
    /// The objects of `template_endpoint`.
    with_template_endpoints: HashSet<usize>,
    /// Per endpoint and direction (ingress, egress): inventory indices of the NetworkPolicies
    /// that isolate it.
    pub isolated_by: Vec<[Vec<usize>; 2]>,
    /// Per endpoint: an internet range it may reach on every port although egress policies
    /// select it.
    pub open_internet_egress: Vec<Option<AddrRange>>,
    /// Per NetworkPolicy (inventory index): how many endpoints it selects, and whether
    /// workloads of its namespace read with it carry the label keys its podSelector tests.
    pub selects: HashMap<usize, (usize, bool)>,
    /// Per NetworkPolicy (inventory index): peers that match no endpoint although their
    /// namespaces hold workloads, as (pointer, description).
    pub unmatched_peers: HashMap<usize, Vec<(String, String)>>,
}

impl NetworkFacts {
    /// The endpoint of the pods `cx` judges: its object's, or for an object of a kind with
    /// several pod templates, the template's being judged. `None` for an object judged with
    /// its controller.
    pub fn endpoint(&self, cx: &Context<'_>) -> Option<usize> {
        let own = self.endpoint_of.get(&cx.object_index);
        let template = || {
            let pod = cx.pod.as_ref()?;
            self.template_endpoint
                .get(&(cx.object_index, pod.pointer.to_string()))
        };
        own.or_else(template).copied()
    }

    /// How messages name the pods of `endpoint`: `these pods`, or for a pod template of an
    /// object with several, `the pods of spec.workerGroupSpecs.0.template`.
    pub fn pods(&self, endpoint: usize) -> String {
        match &self.network().endpoints[endpoint].template {
            Some(template) => format!("the pods of {}", template.label()),
            None => "these pods".to_string(),
        }
    }

    /// The endpoint of the pod template at `spec` (its spec's pointer) of the object at
    /// `object`, when the network holds one (read from manifests).
    pub fn template_endpoint(&self, object: usize, spec: &str) -> Option<usize> {
        self.template_endpoint
            .get(&(object, spec.to_string()))
            .copied()
    }

    /// Whether the object at `index` is an endpoint (or has one for a pod template).
    fn holds_endpoint(&self, index: usize) -> bool {
        self.endpoint_of.contains_key(&index) || self.with_template_endpoints.contains(&index)
    }

    /// The network the engine evaluates.
    pub fn network(&self) -> &Network {
        &self.engine.net
    }

    /// The policy read from an inventory object (the first, for Cilium's `specs`), if the
    /// engine evaluates it.
    pub fn policy_of(&self, object: usize) -> Option<&palisade_net::policy::Policy> {
        self.network().policies.iter().find(|p| p.object == object)
    }

    pub fn build(inventory: &Inventory, derived: &Derived) -> NetworkFacts {
        let engine = placed(inventory, derived);
        let network = Arc::clone(&engine.net);
        let mut endpoint_of = HashMap::new();
        let mut template_endpoint = HashMap::new();
        let mut with_template_endpoints = HashSet::new();
        for (i, e) in network.endpoints.iter().enumerate() {
            match &e.template {
                Some(template) => {
                    template_endpoint.insert((e.object, template.spec.clone()), i);
                    with_template_endpoints.insert(e.object);
                }
                None => {
                    endpoint_of.insert(e.object, i);
                }
            }
        }
        let policy_object = |p: usize| network.policies[p].object;
        let isolated_by = (0..network.endpoints.len())
            .map(|e| {
                Direction::BOTH.map(|d| {
                    engine
                        .isolated_by(e, d)
                        .iter()
                        .map(|&p| policy_object(p))
                        .collect()
                })
            })
            .collect();
        let open_internet_egress = open_internet_egress(&engine, &network);
        let mut selects = HashMap::new();
        let mut unmatched_peers = HashMap::new();
        let in_namespace = palisade_net::model::by_namespace(&network.endpoints);
        for (p, policy) in network.policies.iter().enumerate() {
            let ns = policy.namespace.as_deref().unwrap_or_default();
            // Only workloads read with the policy (its directory or rendering) say what the
            // namespace holds: a corpus of unrelated projects shares namespace names.
            let scope = inventory.scope_of(&inventory.objects[policy.object]);
            let near = |e: &palisade_net::Endpoint| {
                inventory.scope_of(&inventory.objects[e.object]) == scope
            };
            let has_workloads = speaks_vocabulary(
                policy.subject.pods.as_ref(),
                in_namespace
                    .get(ns)
                    .into_iter()
                    .flatten()
                    .map(|&e| &network.endpoints[e])
                    .filter(|e| near(e)),
            );
            selects.insert(policy.object, (engine.selected_by(p).len(), has_workloads));
            let unmatched = unmatched(&engine, &network, p, &near);
            if !unmatched.is_empty() {
                unmatched_peers.insert(policy.object, unmatched);
            }
        }
        NetworkFacts {
            engine,
            endpoint_of,
            template_endpoint,
            with_template_endpoints,
            isolated_by,
            open_internet_egress,
            selects,
            unmatched_peers,
        }
    }
}

/// For each endpoint isolated for egress, an internet range its policies still open on every
/// port. The engine's address ranges are cut at every CIDR a policy names, so one address of
/// a range answers for all of it.
fn open_internet_egress(engine: &Engine, network: &Network) -> Vec<Option<AddrRange>> {
    let internet = internet();
    let public: Vec<AddrRange> = engine
        .atoms()
        .iter()
        .filter_map(|&atom| {
            let inside = AddrSet::of_range(atom);
            inside
                .subtract(&inside.subtract(&internet))
                .ranges()
                .into_iter()
                .next()
        })
        .collect();
    (0..network.endpoints.len())
        .map(|e| {
            if engine.isolated_by(e, Direction::Egress).is_empty() {
                return None;
            }
            public.iter().copied().find(|&range| {
                engine
                    .verdict(Party::Pod(e), Party::Addr(range), None)
                    .conn
                    .is_all()
            })
        })
        .collect()
}

/// The label keys a selector tests (`matchLabels` and `matchExpressions`).
fn selector_keys(selector: Option<&serde_json::Value>) -> Vec<&str> {
    let Some(selector) = selector else {
        return Vec::new();
    };
    let labels = selector
        .get("matchLabels")
        .and_then(serde_json::Value::as_object)
        .into_iter()
        .flat_map(|m| m.keys().map(String::as_str));
    let expressions = selector
        .get("matchExpressions")
        .and_then(serde_json::Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|e| e.get("key").and_then(serde_json::Value::as_str));
    labels.chain(expressions).collect()
}

/// Whether some of `endpoints` carries one of the label keys of `selector`: the selector then
/// speaks the workloads' vocabulary and matching none of them means a wrong value (a rename,
/// a typo), not pods an operator creates at run time with labels of its own.
fn speaks_vocabulary<'a>(
    selector: Option<&serde_json::Value>,
    mut endpoints: impl Iterator<Item = &'a palisade_net::Endpoint>,
) -> bool {
    let keys = selector_keys(selector);
    endpoints.any(|e| keys.iter().any(|k| e.labels.contains_key(*k)))
}

/// Pod peers of a NetworkPolicy that match no endpoint, where the namespaces they look in
/// hold workloads read with the policy that carry the label keys the peer tests.
fn unmatched(
    engine: &Engine,
    network: &Network,
    p: usize,
    near: &dyn Fn(&palisade_net::Endpoint) -> bool,
) -> Vec<(String, String)> {
    let policy = &network.policies[p];
    let mut out = Vec::new();
    for direction in Direction::BOTH {
        let field = direction.field();
        let peers_field = match direction {
            Direction::Ingress => "from",
            Direction::Egress => "to",
        };
        for (r, rule) in policy.rules(direction).iter().enumerate() {
            for (i, peer) in rule.peers.iter().flatten().enumerate() {
                let Peer::Pods(pods) = peer else { continue };
                let probe = palisade_net::policy::PodPeer {
                    namespaces: pods.namespaces.clone(),
                    pods: None,
                };
                let looked_in = network
                    .endpoints
                    .iter()
                    .filter(|e| near(e) && engine.pod_peer_matches(&probe, e));
                // Most peers match something: that is asked first, over the engine's classes
                // rather than every endpoint.
                if !engine.matches_some_endpoint(pods)
                    && speaks_vocabulary(pods.pods.as_ref(), looked_in)
                {
                    out.push((
                        format!("/spec/{field}/{r}/{peers_field}/{i}"),
                        format!("{field}[{r}].{peers_field}[{i}]"),
                    ));
                }
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use palisade_inventory::{Limits, load_text};

    /// Whether each object of `inventory` is unseen by its network, in order.
    fn by_network(inventory: &Inventory) -> Vec<bool> {
        let models = Derived::default();
        placed(inventory, &models);
        (0..inventory.objects.len())
            .map(|i| unseen_by_network(inventory, &models, i))
            .collect()
    }

    /// A Pod of a known ReplicaSet with labels its template does not give it is seen by the
    /// network when a selector tells them apart (it is an endpoint of its own), and when no
    /// network is built to ask; a ReplicaSet with such labels is not kept.
    #[test]
    fn relabelled_pods_are_seen_when_a_selector_tells_them_apart() {
        let pod = |name: &str, labels: &str| {
            format!(
                "apiVersion: v1\nkind: Pod\nmetadata: {{name: {name}, namespace: shop, labels: {labels}, ownerReferences: [{{apiVersion: apps/v1, kind: ReplicaSet, name: web-1, uid: rs-1, controller: true}}]}}\nspec: {{containers: [{{name: c, image: 'a:1'}}]}}\n---\n"
            )
        };
        let text = [
            crate::unseen::tests::DEPLOYMENT_AND_REPLICA_SET.to_string(),
            pod("mesh", "{security.istio.io/tlsMode: istio}"),
            pod("front", "{role: frontend}"),
            "apiVersion: v1\nkind: Service\nmetadata: {name: front, namespace: shop}\nspec: {selector: {role: frontend}}\n---\n".into(),
            "apiVersion: apps/v1\nkind: ReplicaSet\nmetadata: {name: web-2, namespace: shop, ownerReferences: [{apiVersion: apps/v1, kind: Deployment, name: web, uid: d-1, controller: true}]}\nspec: {template: {metadata: {labels: {role: frontend}}, spec: {containers: [{name: c, image: 'a:1'}]}}}\n".into(),
        ]
        .concat();
        let inventory = load_text("c.yaml", &text, &Limits::default()).inventory;
        assert_eq!(
            by_network(&inventory),
            [false, true, true, false, false, false],
            "Deployment, RS, mesh-labelled Pod, Pod behind Service front, Service, relabelled RS"
        );
        assert!(!unseen_by_network(&inventory, &Derived::default(), 2));
        assert!(
            !crate::unseen::may_be_kept(&inventory, 5),
            "a relabelled ReplicaSet is not kept"
        );
    }
}
