//! The network of an inventory: endpoints, namespaces, the policies of every layer, what
//! Ingresses and Routes open, and the policies that could not be evaluated.

use std::collections::{BTreeMap, HashSet};

use palisade_core::ObjectRef;
use palisade_core::selector::{NamespaceSelection, label_selector_matches, selects_everything};
use palisade_inventory::Inventory;
use serde_json::{Map, Value};

use crate::conn::Conn;
use crate::exposure::{Service, ingress_controller_ports, select_endpoints, services};
use crate::model::{Endpoint, Namespaces, Placement, Placer, endpoints, namespaces};
use crate::policy::{self, Layer, PodPeer, Policy, Problem};

/// The namespace the ingress controller is given until it is placed
/// ([`Network::place_ingress_controller`]): it is rarely among the scanned objects, so it is
/// evaluated as a pod without labels in a namespace of its own, and answers that depend on
/// its namespace or labels are marked not final.
pub const INGRESS_CONTROLLER_NAMESPACE: &str = "ingress-controller-ns";

/// A policy the engine does not evaluate, and why; pairs it may govern are marked.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Unevaluated {
    /// `CiliumNetworkPolicy shop/allow-web`.
    pub policy: String,
    /// The namespace it governs; `None` for a cluster-wide one.
    pub namespace: Option<String>,
    pub reason: String,
    #[serde(skip)]
    pub object: usize,
}

/// A policy the API server would reject, with the field at fault.
#[derive(Debug, Clone, PartialEq)]
pub struct PolicyProblem {
    pub object: ObjectRef,
    pub index: usize,
    pub problem: Problem,
}

/// Everything the engine evaluates.
#[derive(Debug, Clone)]
pub struct Network {
    pub endpoints: Vec<Endpoint>,
    pub namespaces: Namespaces,
    /// NetworkPolicies, and Cilium's policies (enforced with them).
    pub policies: Vec<Policy>,
    /// AdminNetworkPolicies, by priority (then name).
    pub admin: Vec<Policy>,
    /// BaselineAdminNetworkPolicies (the API allows one, named `default`).
    pub baseline: Vec<Policy>,
    pub unevaluated: Vec<Unevaluated>,
    pub problems: Vec<PolicyProblem>,
    /// Services with a selector, with the endpoints they select.
    pub services: Vec<Service>,
    /// Ports the ingress controller reaches on each endpoint, and the Ingresses and Routes
    /// that open them.
    pub ingress: BTreeMap<usize, (Conn, Vec<String>)>,
    /// The ingress controller as an endpoint (not in `endpoints`).
    pub ingress_controller: Endpoint,
    /// Cluster DNS as an endpoint (not in `endpoints`), for inputs without it.
    pub cluster_dns: Endpoint,
    /// Whether a workload of the input is cluster DNS (`k8s-app: kube-dns` in `kube-system`).
    pub has_cluster_dns: bool,
    /// Where objects without a namespace were placed.
    pub placement: Placement,
    /// Whether the ingress controller's namespace, and its pods' labels, were given
    /// ([`Network::place_ingress_controller`]): unknown otherwise.
    pub ingress_namespace_known: bool,
    pub ingress_labels_known: bool,
    /// The API server's addresses, as the network plugin sees them, when the user gives them
    /// ([`Network::place_api_server`]): then what a workload may open to the API server is
    /// what it may open to them; unknown otherwise.
    pub api_server: Vec<crate::addr::AddrRange>,
    /// Every label key a pod selector of a policy or Service reads: labels that differ only
    /// in other keys are selected alike ([`Network::selected_apart`]).
    selector_keys: HashSet<String>,
}

/// Kinds that are recognised but not evaluated: Calico's policies (their selector expression
/// language, tiers and orders), and secondary or user-defined networks that change which pods
/// can reach each other.
const OTHER_POLICY_KINDS: &[(&str, &str, bool)] = &[
    // OVN-Kubernetes user-defined networks isolate the namespaces they serve.
    ("k8s.ovn.org", "UserDefinedNetwork", true),
    ("k8s.ovn.org", "ClusterUserDefinedNetwork", false),
    ("k8s.cni.cncf.io", "NetworkAttachmentDefinition", true),
];

const ADMIN_GROUP: &str = "policy.networking.k8s.io";

/// Where the ingress controller (or the Gateway API's proxies) runs, and where the API server
/// is, as the user gives them (`--ingress-namespace`, `--ingress-label`, `--api-server`,
/// `[network]` in `palisade.toml`); what is `None` is unknown.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct IngressPlacement {
    pub namespace: Option<String>,
    /// The labels of its pods; given, they are all its labels.
    pub labels: Option<Map<String, Value>>,
    /// The API server's addresses as the network plugin sees them
    /// ([`Network::place_api_server`]).
    pub api_server: Option<Vec<crate::addr::AddrRange>>,
}

/// The `[network]` table of a `palisade.toml`.
#[derive(Debug, Default, serde::Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
struct NetworkSection {
    ingress_namespace: Option<String>,
    #[serde(default)]
    ingress_labels: BTreeMap<String, String>,
    #[serde(default)]
    api_server: Vec<String>,
}

impl IngressPlacement {
    /// Reads the `[network]` table of a `palisade.toml`'s `text`: `ingress-namespace`,
    /// `ingress-labels` (a table of labels) and `api-server` (a list of addresses or CIDRs).
    /// None: nothing placed.
    pub fn parse(
        path: &str,
        text: &str,
    ) -> Result<IngressPlacement, palisade_core::config_section::SettingsError> {
        use palisade_core::config_section::{SettingsError, read};
        let invalid = |line: usize, message: String| SettingsError::Invalid {
            path: path.to_string(),
            line,
            table: "network",
            message,
        };
        let Some(section) =
            read::<NetworkSection>(text, "network").map_err(|e| invalid(e.line, e.message))?
        else {
            return Ok(IngressPlacement::default());
        };
        let line = |key: &str| palisade_core::config_section::line_of(text, key);
        if let Some(ns) = section.ingress_namespace.as_deref()
            && ns.trim().is_empty()
        {
            return Err(invalid(
                line("ingress-namespace"),
                "ingress-namespace is empty".into(),
            ));
        }
        if section.ingress_labels.keys().any(|k| k.trim().is_empty()) {
            return Err(invalid(
                line("ingress-labels"),
                "ingress-labels has an empty label key".into(),
            ));
        }
        let api_server = section
            .api_server
            .iter()
            .map(|text| crate::addr::AddrRange::parse_cidr(text.trim()))
            .collect::<Result<Vec<_>, String>>()
            .map_err(|e| invalid(line("api-server"), format!("api-server: {e}")))?;
        Ok(IngressPlacement {
            api_server: (!api_server.is_empty()).then_some(api_server),
            namespace: section.ingress_namespace,
            labels: (!section.ingress_labels.is_empty()).then(|| {
                section
                    .ingress_labels
                    .into_iter()
                    .map(|(k, v)| (k, Value::String(v)))
                    .collect()
            }),
        })
    }

    /// [`IngressPlacement::parse`] of the file at `path`.
    pub fn load(
        path: &std::path::Path,
    ) -> Result<IngressPlacement, palisade_core::config_section::SettingsError> {
        palisade_core::config_section::load(path, IngressPlacement::parse)
    }

    /// This placement, with what `over` gives (a command's flags) in place of it.
    pub fn overridden_by(self, over: IngressPlacement) -> IngressPlacement {
        IngressPlacement {
            namespace: over.namespace.or(self.namespace),
            labels: over.labels.or(self.labels),
            api_server: over.api_server.or(self.api_server),
        }
    }
}

/// Every kind `(group, kind)` a network is read from besides the workloads (Pods stand for
/// their controllers when those cannot be read): namespaces, Services and what exposes them,
/// and every layer of policy, evaluated or only recognised. An answer made of the network is
/// incomplete when one of these could not be listed (a forbidden AdminNetworkPolicy may
/// allow what the NetworkPolicies deny).
pub const READS: &[(&str, &str)] = &[
    ("", "Pod"),
    ("", "Namespace"),
    ("", "Service"),
    ("networking.k8s.io", "Ingress"),
    ("extensions", "Ingress"),
    // The class and AWS parameters that may make an Ingress's load balancer internal.
    ("networking.k8s.io", "IngressClass"),
    ("elbv2.k8s.aws", "IngressClassParams"),
    ("eks.amazonaws.com", "IngressClassParams"),
    ("route.openshift.io", "Route"),
    (crate::gateway::GROUP, "Gateway"),
    (crate::gateway::GROUP, "HTTPRoute"),
    (crate::gateway::GROUP, "GRPCRoute"),
    (crate::gateway::GROUP, "TLSRoute"),
    (crate::gateway::GROUP, "TCPRoute"),
    (crate::gateway::GROUP, "UDPRoute"),
    (crate::gateway::GROUP, "ReferenceGrant"),
    (crate::gateway::GROUP, "GatewayClass"),
    ("projectcontour.io", "ContourDeployment"),
    ("gateway.envoyproxy.io", "EnvoyProxy"),
    ("gateway.nginx.org", "NginxProxy"),
    ("gateway-operator.konghq.com", "GatewayConfiguration"),
    ("gateway.k8s.aws", "LoadBalancerConfiguration"),
    ("", "ConfigMap"),
    ("networking.k8s.io", "NetworkPolicy"),
    (ADMIN_GROUP, "AdminNetworkPolicy"),
    (ADMIN_GROUP, "BaselineAdminNetworkPolicy"),
    ("cilium.io", "CiliumNetworkPolicy"),
    ("cilium.io", "CiliumClusterwideNetworkPolicy"),
    ("crd.projectcalico.org", "NetworkPolicy"),
    ("crd.projectcalico.org", "GlobalNetworkPolicy"),
    ("projectcalico.org", "NetworkPolicy"),
    ("projectcalico.org", "GlobalNetworkPolicy"),
    ("k8s.ovn.org", "UserDefinedNetwork"),
    ("k8s.ovn.org", "ClusterUserDefinedNetwork"),
    ("k8s.cni.cncf.io", "NetworkAttachmentDefinition"),
];

impl Network {
    /// The network of an inventory, objects without a namespace in `default`.
    pub fn from_inventory(inventory: &Inventory) -> Network {
        Network::placed(inventory, Placement::Default)
    }

    /// The network of an inventory with objects without a namespace placed as `placement`
    /// says.
    pub fn placed(inventory: &Inventory, placement: Placement) -> Network {
        let placer = Placer {
            inventory,
            placement,
        };
        let mut network = Network {
            ingress: BTreeMap::new(),
            services: Vec::new(),
            endpoints: Vec::new(),
            namespaces: namespaces(placer),
            policies: Vec::new(),
            admin: Vec::new(),
            baseline: Vec::new(),
            unevaluated: Vec::new(),
            problems: Vec::new(),
            ingress_controller: Endpoint {
                namespace: INGRESS_CONTROLLER_NAMESPACE.into(),
                name: "ingress-controller".into(),
                kind: "IngressController".into(),
                labels: Map::new(),
                ports: Vec::new(),
                host_network: false,
                object: usize::MAX,
                caveat: None,
                template: None,
            },
            cluster_dns: cluster_dns(),
            has_cluster_dns: false,
            placement,
            ingress_namespace_known: false,
            ingress_labels_known: false,
            api_server: Vec::new(),
            selector_keys: HashSet::new(),
        };
        // The policies and Services first: their selectors decide whether a relabelled Pod
        // stands apart from its controller.
        network.read_policies(placer);
        network.services = services(placer);
        network.selector_keys = network.read_selector_keys();
        let endpoints = endpoints(placer, &|ns, one, other| {
            network.selected_apart(ns, one, other)
        });
        select_endpoints(&mut network.services, &endpoints);
        let ray_heads = crate::exposure::ray_head_services(placer, &endpoints);
        network.services.extend(ray_heads);
        let eck_http = crate::exposure::eck_http_services(placer, &endpoints);
        network.services.extend(eck_http);
        network.ingress = ingress_controller_ports(placer, &endpoints, &network.services);
        for e in &endpoints {
            network.namespaces.declare(&e.namespace, None);
        }
        network.has_cluster_dns = endpoints.iter().any(is_cluster_dns);
        network.endpoints = endpoints;
        // Cluster DNS stands in kube-system, named as every namespace is.
        network.namespaces.declare("kube-system", None);
        network
    }

    /// The network of `inventory` when it holds this network's objects, unchanged, and after
    /// them the object at `index`, a lone endpoint ([`crate::model::is_lone_endpoint`]; `None`
    /// for another object): what [`Network::placed`] reads, without reading every object
    /// again. Its endpoint comes last, as it would there; the Services that select it, the
    /// ingress controller's ports and whether the network holds cluster DNS take it in. Nothing
    /// else of a network depends on its endpoints. The caller vouches that no other object
    /// changed in what a network reads, nor its controller.
    pub fn with_lone_endpoint(&self, inventory: &Inventory, index: usize) -> Option<Network> {
        let placer = Placer {
            inventory,
            placement: self.placement,
        };
        let endpoint = crate::model::lone_endpoint(placer, index)?;
        let mut network = self.clone();
        let at = network.endpoints.len();
        for service in &mut network.services {
            if service.namespace == endpoint.namespace && service.selects(&endpoint.labels) {
                service.selected.push(at);
            }
        }
        network.namespaces.declare(&endpoint.namespace, None);
        network.has_cluster_dns |= is_cluster_dns(&endpoint);
        network.endpoints.push(endpoint);
        network.ingress = ingress_controller_ports(placer, &network.endpoints, &network.services);
        Some(network)
    }

    /// Whether a selector of the network tells apart two label maps of pods of namespace
    /// `namespace`: a policy's pod selector (its subject's, or a peer's) or a Service's
    /// selects one and not the other.
    pub fn selected_apart(
        &self,
        namespace: &str,
        one: &Map<String, Value>,
        other: &Map<String, Value>,
    ) -> bool {
        // A selector reads some of the keys the two differ in, or selects them alike.
        let differ = |key: &String| one.get(key) != other.get(key);
        if !one
            .keys()
            .chain(other.keys())
            .any(|key| differ(key) && self.selector_keys.contains(key))
        {
            return false;
        }
        let apart = |peer: &PodPeer| {
            self.looks_in(peer, namespace)
                && peer.pods.as_ref().is_some_and(|selector| {
                    label_selector_matches(selector, Some(one))
                        != label_selector_matches(selector, Some(other))
                })
        };
        let by_policy = self.all_policies().flat_map(Policy::pod_peers).any(apart);
        by_policy
            || self
                .services
                .iter()
                .any(|s| s.namespace == namespace && s.selects(one) != s.selects(other))
    }

    /// The policies of every layer.
    fn all_policies(&self) -> impl Iterator<Item = &Policy> {
        self.policies
            .iter()
            .chain(&self.admin)
            .chain(&self.baseline)
    }

    /// The label keys the pod selectors of the policies and Services read.
    fn read_selector_keys(&self) -> HashSet<String> {
        let mut keys = HashSet::new();
        let pod_selectors = self
            .all_policies()
            .flat_map(Policy::pod_peers)
            .filter_map(|peer| peer.pods.as_ref());
        for selector in pod_selectors {
            keys.extend(palisade_core::selector::label_selector_keys(selector));
        }
        for service in &self.services {
            keys.extend(service.selector.keys().cloned());
        }
        keys
    }

    /// Places the ingress controller as `placement` says ([`Network::place_ingress_controller`]).
    pub fn place_ingress(&mut self, placement: &IngressPlacement) {
        self.place_ingress_controller(placement.namespace.as_deref(), placement.labels.clone());
        if let Some(api_server) = &placement.api_server {
            self.place_api_server(api_server);
        }
    }

    /// Says where the API server is (`--api-server`): its addresses as the network plugin
    /// sees them. None given leaves it unknown.
    pub fn place_api_server(&mut self, addresses: &[crate::addr::AddrRange]) {
        self.api_server = addresses.to_vec();
    }

    /// Places the ingress controller in `namespace` (its labels are those of the Namespace
    /// object read, or its name label only) with pods labelled `labels`. What is not given
    /// stays unknown: a rule whose peers read it may or may not take the controller, and the
    /// answer says so ([`Network::takes_ingress_controller`]).
    pub fn place_ingress_controller(
        &mut self,
        namespace: Option<&str>,
        labels: Option<Map<String, Value>>,
    ) {
        if let Some(ns) = namespace {
            self.ingress_controller.namespace = ns.to_string();
            self.namespaces.declare(ns, None);
            self.ingress_namespace_known = true;
        }
        if let Some(labels) = labels {
            self.ingress_controller.labels = labels;
            self.ingress_labels_known = true;
        }
    }

    /// Whether a pod peer takes the ingress controller: unknown when the peer reads what was
    /// not given of it (any namespace selector but the empty one while its namespace is
    /// unknown; any pod selector but the empty one while its labels are). A peer of a policy's
    /// own namespace does not take a controller whose namespace is unknown: controllers run
    /// in namespaces of their own.
    pub fn takes_ingress_controller(&self, peer: &PodPeer) -> NamespaceSelection {
        use NamespaceSelection::{NotSelected, Selected, Unknown};
        let controller = &self.ingress_controller;
        let namespace = match &peer.namespaces {
            policy::Namespaces::Same(ns) if *ns == controller.namespace => Selected,
            policy::Namespaces::Same(_) => NotSelected,
            policy::Namespaces::Selected(selector) if selects_everything(selector) => Selected,
            policy::Namespaces::Selected(_) if !self.ingress_namespace_known => Unknown,
            policy::Namespaces::Selected(selector) => {
                self.namespaces.selection(selector, &controller.namespace)
            }
        };
        let pods = match &peer.pods {
            None => Selected,
            Some(selector) if selects_everything(selector) => Selected,
            Some(_) if !self.ingress_labels_known => Unknown,
            Some(selector) if label_selector_matches(selector, Some(&controller.labels)) => {
                Selected
            }
            Some(_) => NotSelected,
        };
        match (namespace, pods) {
            (NotSelected, _) | (_, NotSelected) => NotSelected,
            (Selected, Selected) => Selected,
            _ => Unknown,
        }
    }

    /// Whether a pod peer (or a policy's subject) looks for pods in `namespace`.
    pub fn looks_in(&self, peer: &PodPeer, namespace: &str) -> bool {
        match &peer.namespaces {
            policy::Namespaces::Same(ns) => ns == namespace,
            policy::Namespaces::Selected(selector) => {
                label_selector_matches(selector, self.namespace_labels(namespace))
            }
        }
    }

    /// Whether the object at `index` of `inventory` (this network's), judged through its
    /// controller, is an endpoint of its own: its labels differ from those its controller's
    /// template gives it, and a selector tells the two apart ([`Network::selected_apart`]).
    pub fn stands_apart(&self, inventory: &Inventory, index: usize) -> bool {
        let placer = Placer {
            inventory,
            placement: self.placement,
        };
        crate::model::relabelled_apart(placer, index, &|ns, one, other| {
            self.selected_apart(ns, one, other)
        })
    }

    fn read_policies(&mut self, placer: Placer<'_>) {
        let inventory = placer.inventory;
        for &index in inventory.indices_of_kind("networking.k8s.io", "NetworkPolicy") {
            let object = &inventory.objects[index];
            let ns = placer.namespace(object);
            self.namespaces.declare(&ns, None);
            let parsed = policy::network_policy(&object.value, &ns, index);
            self.accept(parsed, inventory, index, Some(&ns));
        }
        for (kind, baseline) in [
            ("AdminNetworkPolicy", false),
            ("BaselineAdminNetworkPolicy", true),
        ] {
            for &index in inventory.indices_of_kind(ADMIN_GROUP, kind) {
                let object = &inventory.objects[index];
                let parsed = policy::admin_policy(&object.value, index, baseline);
                self.accept(parsed, inventory, index, None);
            }
        }
        self.admin
            .sort_by(|a, b| (a.priority, &a.name).cmp(&(b.priority, &b.name)));
        for (group, kind, namespaced) in [
            ("crd.projectcalico.org", "NetworkPolicy", true),
            ("projectcalico.org", "NetworkPolicy", true),
            ("crd.projectcalico.org", "GlobalNetworkPolicy", false),
            ("projectcalico.org", "GlobalNetworkPolicy", false),
        ] {
            for &index in inventory.indices_of_kind(group, kind) {
                let object = &inventory.objects[index];
                let ns = namespaced.then(|| placer.namespace(object));
                if let Some(ns) = &ns {
                    self.namespaces.declare(ns, None);
                }
                match crate::calico::calico_policy(&object.value, ns.as_deref(), index) {
                    Ok(policy) => self.policies.push(policy),
                    Err(problem) => self.unevaluated.push(Unevaluated {
                        policy: describe(
                            &format!("{kind}.{group}"),
                            ns.as_deref(),
                            object.id.display_name(),
                        ),
                        namespace: ns.clone(),
                        reason: format!("{} (at {})", problem.message, problem.pointer),
                        object: index,
                    }),
                }
            }
        }
        for (kind, namespaced) in [
            ("CiliumNetworkPolicy", true),
            ("CiliumClusterwideNetworkPolicy", false),
        ] {
            for &index in inventory.indices_of_kind("cilium.io", kind) {
                let object = &inventory.objects[index];
                let ns = namespaced.then(|| placer.namespace(object));
                if let Some(ns) = &ns {
                    self.namespaces.declare(ns, None);
                }
                match crate::cilium::cilium_policies(&object.value, ns.as_deref(), index) {
                    Ok(policies) => self.policies.extend(policies),
                    // Beyond what is evaluated (or wrong): its pairs are marked, and why.
                    Err(problem) => self.unevaluated.push(Unevaluated {
                        policy: describe(kind, ns.as_deref(), object.id.display_name()),
                        namespace: ns.clone(),
                        reason: format!("{} (at {})", problem.message, problem.pointer),
                        object: index,
                    }),
                }
            }
        }
        for &(group, kind, namespaced) in OTHER_POLICY_KINDS {
            for &index in inventory.indices_of_kind(group, kind) {
                let object = &inventory.objects[index];
                let namespace = namespaced.then(|| placer.namespace(object));
                self.unevaluated.push(Unevaluated {
                    policy: describe(
                        &format!("{kind}.{group}"),
                        namespace.as_deref(),
                        object.id.display_name(),
                    ),
                    namespace,
                    reason: format!("{kind} objects are recognised but not evaluated by Palisade"),
                    object: index,
                });
            }
        }
    }

    fn accept(
        &mut self,
        parsed: Result<Policy, Problem>,
        inventory: &Inventory,
        index: usize,
        namespace: Option<&str>,
    ) {
        let object = &inventory.objects[index];
        match parsed {
            Ok(policy) => match policy.layer {
                Layer::NetworkPolicy
                | Layer::CiliumNetworkPolicy
                | Layer::CiliumClusterwideNetworkPolicy
                | Layer::CalicoNetworkPolicy
                | Layer::CalicoGlobalNetworkPolicy => self.policies.push(policy),
                Layer::AdminNetworkPolicy => self.admin.push(policy),
                Layer::BaselineAdminNetworkPolicy => self.baseline.push(policy),
            },
            Err(problem) => {
                self.unevaluated.push(Unevaluated {
                    policy: describe(&object.id.kind, namespace, object.id.display_name()),
                    namespace: namespace.map(String::from),
                    reason: format!("invalid at {}: {}", problem.pointer, problem.message),
                    object: index,
                });
                self.problems.push(PolicyProblem {
                    object: ObjectRef::clone(&object.id),
                    index,
                    problem,
                });
            }
        }
    }

    /// Labels of a namespace.
    pub fn namespace_labels(&self, name: &str) -> Option<&Map<String, Value>> {
        self.namespaces.labels(name)
    }

    /// Finds an endpoint by `NS/NAME`, `NS/KIND/NAME` or `NS/NAME[KIND]`; an unknown or
    /// ambiguous name is an error listing what matched or what is close.
    pub fn find(&self, text: &str) -> Result<usize, String> {
        let (ns, rest) = text
            .split_once('/')
            .ok_or_else(|| format!("`{text}` is not NAMESPACE/NAME (or NAMESPACE/KIND/NAME)"))?;
        let (kind, name) =
            if let Some((name, kind)) = rest.strip_suffix(']').and_then(|r| r.split_once('[')) {
                (Some(kind), name)
            } else if let Some((kind, name)) = rest.split_once('/') {
                (Some(kind), name)
            } else {
                (None, rest)
            };
        let hits: Vec<usize> = (0..self.endpoints.len())
            .filter(|&i| {
                let e = &self.endpoints[i];
                e.namespace == ns
                    && e.name == name
                    && kind.is_none_or(|k| e.kind.eq_ignore_ascii_case(k))
            })
            .collect();
        match hits.as_slice() {
            [one] => Ok(*one),
            [] => {
                let close: Vec<String> = self
                    .endpoints
                    .iter()
                    .filter(|e| e.name == name || (e.namespace == ns && e.name.contains(name)))
                    .take(5)
                    .map(Endpoint::id)
                    .collect();
                if close.is_empty() {
                    Err(format!("no workload `{text}` in the input"))
                } else {
                    Err(format!(
                        "no workload `{text}` in the input; did you mean {}?",
                        close.join(", ")
                    ))
                }
            }
            many => Err(format!(
                "`{text}` names {} workloads ({}); add the kind: NAMESPACE/KIND/NAME",
                many.len(),
                many.iter()
                    .map(|&i| self.endpoints[i].id())
                    .collect::<Vec<_>>()
                    .join(", ")
            )),
        }
    }
}

/// Whether an endpoint is cluster DNS: CoreDNS and kube-dns keep the `k8s-app: kube-dns` label.
fn is_cluster_dns(e: &Endpoint) -> bool {
    e.namespace == "kube-system" && e.label("k8s-app") == Some("kube-dns")
}

/// Cluster DNS as every distribution deploys it.
fn cluster_dns() -> Endpoint {
    use crate::model::ContainerPort;
    let mut labels = Map::new();
    labels.insert("k8s-app".into(), Value::String("kube-dns".into()));
    let port = |name: &str, protocol, port| ContainerPort {
        name: Some(name.into()),
        protocol,
        port,
    };
    Endpoint {
        namespace: "kube-system".into(),
        name: "cluster-dns".into(),
        kind: "ClusterDns".into(),
        labels,
        ports: vec![
            port("dns", crate::conn::Protocol::Udp, 53),
            port("dns-tcp", crate::conn::Protocol::Tcp, 53),
        ],
        host_network: false,
        object: usize::MAX,
        caveat: None,
        template: None,
    }
}

fn describe(kind: &str, namespace: Option<&str>, name: &str) -> String {
    match namespace {
        Some(ns) => format!("{kind} {ns}/{name}"),
        None => format!("{kind} {name}"),
    }
}

#[cfg(test)]
mod reads_tests {
    use super::*;

    /// Every kind the network is read from is declared in [`READS`]: the kinds of the lists
    /// the reader walks, and every literal kind it asks the inventory for.
    #[test]
    fn every_kind_read_is_declared() {
        for &(group, kind, _) in OTHER_POLICY_KINDS {
            assert!(READS.contains(&(group, kind)), "{group}/{kind}");
        }
        let source = [
            include_str!("network.rs"),
            include_str!("exposure.rs"),
            include_str!("model.rs"),
        ]
        .concat();
        let mut asked = 0;
        for (at, _) in source.match_indices("of_kind(") {
            let end = source[at..].find(')').map_or(source.len(), |e| at + e);
            let call = &source[at..end];
            let quoted: Vec<&str> = call.split('"').skip(1).step_by(2).collect();
            if let [group, kind] = quoted.as_slice() {
                asked += 1;
                assert!(READS.contains(&(*group, *kind)), "{group}/{kind} in {call}");
            }
        }
        assert!(
            asked >= 4,
            "the reader's literal kinds were found ({asked})"
        );
        // The kinds the reader walks from lists of its own.
        for (group, kind) in [
            ("crd.projectcalico.org", "NetworkPolicy"),
            ("crd.projectcalico.org", "GlobalNetworkPolicy"),
            ("projectcalico.org", "NetworkPolicy"),
            ("projectcalico.org", "GlobalNetworkPolicy"),
            ("cilium.io", "CiliumNetworkPolicy"),
            ("cilium.io", "CiliumClusterwideNetworkPolicy"),
            (ADMIN_GROUP, "AdminNetworkPolicy"),
            (ADMIN_GROUP, "BaselineAdminNetworkPolicy"),
            ("networking.k8s.io", "Ingress"),
            ("extensions", "Ingress"),
            (crate::gateway::GROUP, "Gateway"),
            (crate::gateway::GROUP, "ReferenceGrant"),
        ] {
            assert!(READS.contains(&(group, kind)), "{group}/{kind}");
        }
        for kind in crate::gateway::ROUTE_KINDS {
            assert!(READS.contains(&(crate::gateway::GROUP, kind)), "{kind}");
        }
        // What decides whether a Gateway is public.
        for kind in crate::gateway::PUBLICITY_READS {
            assert!(READS.contains(kind), "{kind:?}");
        }
    }
}

#[cfg(test)]
mod endpoint_tests {
    use super::*;
    use palisade_inventory::{Limits, load_text};

    fn endpoint_ids(text: &str) -> Vec<String> {
        let inventory = load_text("c.yaml", text, &Limits::default()).inventory;
        Network::from_inventory(&inventory)
            .endpoints
            .iter()
            .map(Endpoint::id)
            .collect()
    }

    fn pod(name: &str, owner: &str, spec: &str) -> String {
        format!(
            "apiVersion: v1\nkind: Pod\nmetadata: {{name: {name}, namespace: a, labels: {{app: web}}, ownerReferences: [{owner}]}}\nspec: {spec}\n"
        )
    }

    /// The endpoints of the network read from a cluster file: a Deployment stands for the
    /// Pods judged through it; a Pod that names it (through its ReplicaSet) but runs as
    /// another account is an endpoint of its own; Pods of an operator's resource (no pod
    /// spec) or of an absent owner are grouped under it.
    #[test]
    fn pods_are_endpoints_of_the_workload_they_are_judged_through() {
        let spec = "{serviceAccountName: web, containers: [{name: c, image: x}]}";
        let text = [
            format!("apiVersion: apps/v1\nkind: Deployment\nmetadata: {{name: web, namespace: a, uid: d}}\nspec: {{template: {{metadata: {{labels: {{app: web}}}}, spec: {spec}}}}}\n"),
            format!("apiVersion: apps/v1\nkind: ReplicaSet\nmetadata: {{name: web-1, namespace: a, uid: rs, ownerReferences: [{{apiVersion: apps/v1, kind: Deployment, name: web, uid: d, controller: true}}]}}\nspec: {{template: {{metadata: {{labels: {{app: web}}}}, spec: {spec}}}}}\n"),
            "apiVersion: example.com/v1\nkind: Workflow\nmetadata: {name: wf, namespace: a, uid: w}\n".to_string(),
            pod("web-1-a", "{apiVersion: apps/v1, kind: ReplicaSet, name: web-1, uid: rs, controller: true}", spec),
            pod("web-1-admin", "{apiVersion: apps/v1, kind: ReplicaSet, name: web-1, uid: rs, controller: true}", "{serviceAccountName: admin, containers: [{name: c, image: x}]}"),
            pod("wf-1", "{apiVersion: example.com/v1, kind: Workflow, name: wf, uid: w, controller: true}", spec),
            pod("wf-2", "{apiVersion: example.com/v1, kind: Workflow, name: wf, uid: w, controller: true}", spec),
            pod("gone-1", "{apiVersion: apps/v1, kind: ReplicaSet, name: gone, uid: g, controller: true}", spec),
        ]
        .join("---\n");
        assert_eq!(
            endpoint_ids(&text),
            [
                "a/web[Deployment]",
                "a/web-1-admin[Pod]",
                "a/wf[Workflow]",
                "a/gone[ReplicaSet]"
            ]
        );
    }

    /// A Pod judged through its controller whose labels differ from the template's is an
    /// endpoint of its own only when a Service or policy selector tells the two apart: the
    /// labels the ReplicaSet adds itself and a mesh's labels keep it with its Deployment.
    #[test]
    fn relabelled_pods_are_endpoints_of_their_own_when_a_selector_tells_them_apart() {
        let spec = "{serviceAccountName: web, containers: [{name: c, image: x}]}";
        let owner =
            "{apiVersion: apps/v1, kind: ReplicaSet, name: web-1, uid: rs, controller: true}";
        let labelled = |name: &str, labels: &str| {
            format!(
                "apiVersion: v1\nkind: Pod\nmetadata: {{name: {name}, namespace: a, labels: {labels}, ownerReferences: [{owner}]}}\nspec: {spec}\n"
            )
        };
        let workloads = [
            format!("apiVersion: apps/v1\nkind: Deployment\nmetadata: {{name: web, namespace: a, uid: d}}\nspec: {{template: {{metadata: {{labels: {{app: web}}}}, spec: {spec}}}}}\n"),
            format!("apiVersion: apps/v1\nkind: ReplicaSet\nmetadata: {{name: web-1, namespace: a, uid: rs, ownerReferences: [{{apiVersion: apps/v1, kind: Deployment, name: web, uid: d, controller: true}}]}}\nspec: {{template: {{metadata: {{labels: {{app: web}}}}, spec: {spec}}}}}\n"),
            labelled("web-1-a", "{app: web, pod-template-hash: '1'}"),
            labelled("web-1-mesh", "{app: web, pod-template-hash: '1', security.istio.io/tlsMode: istio}"),
            labelled("web-1-front", "{app: web, pod-template-hash: '1', role: frontend}"),
            labelled("web-1-bare", "{pod-template-hash: '1'}"),
        ]
        .join("---\n");
        // No selector reads `role`, and none selects `app: web`: one endpoint. A policy of
        // another namespace reads `role` there, not here.
        assert_eq!(endpoint_ids(&workloads), ["a/web[Deployment]"]);
        let elsewhere = "---\napiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {name: front, namespace: b}\nspec: {podSelector: {matchLabels: {role: frontend}}, ingress: [{from: [{podSelector: {matchLabels: {role: frontend}}}]}]}\n";
        assert_eq!(
            endpoint_ids(&(workloads.clone() + elsewhere)),
            ["a/web[Deployment]"]
        );
        // A policy lets `role: frontend` reach the database; another isolates `app: web`.
        let policies = "---\napiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {name: db, namespace: a}\nspec: {podSelector: {matchLabels: {app: db}}, ingress: [{from: [{podSelector: {matchLabels: {role: frontend}}}]}]}\n---\napiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {name: web, namespace: a}\nspec: {podSelector: {matchLabels: {app: web}}, policyTypes: [Ingress]}\n";
        assert_eq!(
            endpoint_ids(&(workloads.clone() + policies)),
            [
                "a/web[Deployment]",
                "a/web-1-front[Pod]",
                "a/web-1-bare[Pod]"
            ]
        );
        // A Service selecting `role: frontend` tells them apart too.
        let service = "---\napiVersion: v1\nkind: Service\nmetadata: {name: front, namespace: a}\nspec: {selector: {role: frontend}, ports: [{port: 80}]}\n";
        assert_eq!(
            endpoint_ids(&(workloads + service)),
            ["a/web[Deployment]", "a/web-1-front[Pod]"]
        );
    }
}
