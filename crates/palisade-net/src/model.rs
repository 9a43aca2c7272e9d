//! What the network engine reasons about: namespaces with their labels and endpoints (one per
//! workload, pods grouped under their controller), read from an inventory.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use palisade_core::tree::Tree as _;
use palisade_inventory::podspec::{GroupedTemplate, pod_spec};
use palisade_inventory::{ContainerKind, Inventory, Object, PodSpec};
use serde_json::{Map, Value};

use crate::conn::Protocol;

/// Where objects written without a namespace land, as `kubectl apply` puts them.
pub const DEFAULT_NAMESPACE: &str = "default";

pub use palisade_core::selector::NAMESPACE_NAME_LABEL;
use palisade_core::selector::{NamespaceSelection, namespace_selected};

/// A port a container declares.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ContainerPort {
    pub name: Option<String>,
    pub protocol: Protocol,
    pub port: u16,
}

/// One workload: the pods of a controller (or a lone pod), which share labels and ports.
#[derive(Debug, Clone, PartialEq)]
pub struct Endpoint {
    pub namespace: String,
    pub name: String,
    pub kind: String,
    pub labels: Map<String, Value>,
    pub ports: Vec<ContainerPort>,
    /// Host-network pods use the node's address; NetworkPolicies do not apply to them.
    pub host_network: bool,
    /// The inventory object it was read from (the first pod, for pods grouped by an owner that
    /// is not in the inventory).
    pub object: usize,
    /// Why answers about it are not final (pods of one owner with different labels).
    pub caveat: Option<String>,
    /// The pod template it stands for when its object has several (a RayCluster's head and
    /// each worker group are endpoints of their own, read from manifests); `None` for the one
    /// pod spec of any other object.
    pub template: Option<GroupedTemplate>,
}

impl Endpoint {
    /// The pointer of the pod spec of its [`Endpoint::template`], if it stands for one.
    pub fn template_spec(&self) -> Option<&str> {
        self.template.as_ref().map(|t| t.spec.as_str())
    }

    /// `namespace/name[Kind]`, how the matrix and `why` name it.
    pub fn id(&self) -> String {
        format!("{}/{}[{}]", self.namespace, self.name, self.kind)
    }

    pub fn label(&self, key: &str) -> Option<&str> {
        self.labels.get(key).and_then(Value::as_str)
    }

    /// The ports of a named container port, for one protocol or any.
    pub fn named_port(&self, name: &str, protocol: Option<Protocol>) -> Vec<(Protocol, u16)> {
        self.ports
            .iter()
            .filter(|p| p.name.as_deref() == Some(name))
            .filter(|p| protocol.is_none_or(|want| p.protocol == want))
            .map(|p| (p.protocol, p.port))
            .collect()
    }
}

/// The namespaces in play and their labels (`kubernetes.io/metadata.name` always set), and
/// which of them were read from a Namespace object: the labels of the others are unknown.
#[derive(Debug, Clone, Default)]
pub struct Namespaces {
    labels: BTreeMap<String, Map<String, Value>>,
    read: BTreeSet<String>,
}

impl Namespaces {
    /// Labels of a namespace; one not declared has only its name label.
    pub fn labels(&self, name: &str) -> Option<&Map<String, Value>> {
        self.labels.get(name)
    }

    /// Whether a Namespace object of this name was read, so its labels are known.
    pub fn is_read(&self, name: &str) -> bool {
        self.read.contains(name)
    }

    /// What a `namespaceSelector` says of namespace `name`: selected, not, or unknown when the
    /// namespace was not read and the selector reads labels other than its name.
    pub fn selection(&self, selector: &Value, name: &str) -> NamespaceSelection {
        let labels = self.is_read(name).then(|| self.labels(name)).flatten();
        namespace_selected(selector, name, labels)
    }

    /// Adds a namespace read from a Namespace object, with its labels.
    pub fn read(&mut self, name: &str, labels: Option<&Map<String, Value>>) {
        self.declare(name, labels);
        self.read.insert(name.to_string());
    }

    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.labels.keys().map(String::as_str)
    }

    /// Adds a namespace (idempotent); declared labels win over nothing.
    pub fn declare(&mut self, name: &str, labels: Option<&Map<String, Value>>) {
        let entry = self.labels.entry(name.to_string()).or_default();
        if let Some(labels) = labels {
            for (k, v) in labels {
                entry.insert(k.clone(), v.clone());
            }
        }
        entry.insert(NAMESPACE_NAME_LABEL.into(), Value::String(name.into()));
    }

    pub fn contains(&self, name: &str) -> bool {
        self.labels.contains_key(name)
    }
}

/// Where objects written without a namespace are placed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Placement {
    /// In `default`, as `kubectl apply` without `-n` puts them.
    #[default]
    Default,
    /// In a namespace of their own per directory (`(no namespace: DIR)`), so unrelated
    /// projects scanned together neither isolate nor reach each other's workloads.
    ByScope,
}

/// Names the namespace of each object under a [`Placement`].
#[derive(Clone, Copy)]
pub struct Placer<'a> {
    pub inventory: &'a Inventory,
    pub placement: Placement,
}

impl<'a> Placer<'a> {
    /// Objects without a namespace placed by their directory or rendering
    /// ([`Placement::ByScope`]), as the analyzers of a scan place them.
    pub fn by_scope(inventory: &'a Inventory) -> Placer<'a> {
        Placer {
            inventory,
            placement: Placement::ByScope,
        }
    }

    /// The namespace an object is in.
    pub fn namespace(&self, object: &Object) -> String {
        match (&object.id.namespace, self.placement) {
            (Some(ns), _) => ns.clone(),
            (None, Placement::Default) => DEFAULT_NAMESPACE.to_string(),
            (None, Placement::ByScope) => {
                format!("(no namespace: {})", self.inventory.scope_of(object))
            }
        }
    }
}

/// The namespaces of the inventory: declared ones with their labels, and every namespace an
/// object is in.
pub fn namespaces(placer: Placer<'_>) -> Namespaces {
    let inventory = placer.inventory;
    let mut namespaces = Namespaces::default();
    for ns in inventory.of_kind("", "Namespace") {
        if let Some(name) = ns.id.name.as_deref() {
            let labels = ns.value.at("/metadata/labels").and_then(Value::as_object);
            namespaces.read(name, labels);
        }
    }
    for object in &inventory.objects {
        if object.id.kind != "Namespace" && object.id.namespace.is_some() {
            namespaces.declare(&placer.namespace(object), None);
        }
    }
    namespaces
}

/// The indices of `endpoints` by namespace, in order: what selects pods (a Service, a
/// policy's subject) selects in one namespace.
pub fn by_namespace(endpoints: &[Endpoint]) -> HashMap<&str, Vec<usize>> {
    let mut out: HashMap<&str, Vec<usize>> = HashMap::new();
    for (i, e) in endpoints.iter().enumerate() {
        out.entry(e.namespace.as_str()).or_default().push(i);
    }
    out
}

/// One endpoint per workload: objects with a pod spec whose controller is not in the inventory
/// (a Deployment stands for its ReplicaSets and Pods), pods whose controlling owner is absent
/// grouped under that owner (`ReplicaSet`, `DaemonSet`), and lone pods.
///
/// A Pod (or ReplicaSet, Job) judged through its controller whose labels differ from those the
/// controller's template gives it is an endpoint of its own when `selected_apart` (a selector
/// of the network's policies and Services, read before the endpoints:
/// `Network::selected_apart`) tells the two apart. Labels no selector reads (a mesh's) keep it
/// with its controller.
pub fn endpoints(placer: Placer<'_>, selected_apart: &SelectedApart<'_>) -> Vec<Endpoint> {
    let inventory = placer.inventory;
    let mut out: Vec<Endpoint> = Vec::new();
    let mut by_owner: BTreeMap<(String, String, String), usize> = BTreeMap::new();
    for (index, object) in inventory.objects.iter().enumerate() {
        if object.id.kind == "PodTemplate" {
            continue;
        }
        let Some(spec) = pod_spec(object) else {
            continue;
        };
        if inventory.controller_of(index).is_some()
            && !relabelled_apart(placer, index, selected_apart)
        {
            continue;
        }
        let namespace = placer.namespace(object);
        // A Pod that names a workload the inventory holds and is not judged through it (it
        // has more power than the workload's template), or that stands apart from it by its
        // labels, is a workload of its own; Pods of an owner without a pod spec (an
        // operator's resource) are grouped under it.
        let disowned = inventory
            .claimed_controller(index)
            .is_some_and(|claimed| pod_spec(&inventory.objects[claimed]).is_some());
        let owner = absent_owner(object).filter(|_| !disowned);
        let grouped = owner.is_some();
        let (kind, name) =
            owner.unwrap_or_else(|| (object.id.kind.clone(), object.id.display_name().to_string()));
        // Only pods of an absent owner are grouped: the others need no key.
        let key = grouped.then(|| (namespace.clone(), kind.clone(), name.clone()));
        let labels = palisade_inventory::pod_labels(object)
            .cloned()
            .unwrap_or_default();
        if let Some(&existing) = key.as_ref().and_then(|key| by_owner.get(key)) {
            // Another pod of the same owner: its ports are the workload's too. Pods of one
            // controller share their template's labels; when they do not, the first pod's
            // labels stand for all and the answers say so.
            let endpoint = &mut out[existing];
            endpoint.ports.extend(container_ports(&spec));
            endpoint.ports.sort();
            endpoint.ports.dedup();
            if !same_labels(&endpoint.labels, &labels) && endpoint.caveat.is_none() {
                endpoint.caveat = Some(format!(
                    "pods of {} have different labels; those of {} stand for all",
                    endpoint.id(),
                    inventory.objects[endpoint.object].id.display_name()
                ));
            }
            continue;
        }
        if let Some(key) = key {
            by_owner.insert(key, out.len());
        }
        out.push(endpoint(namespace, kind, name, labels, &spec, index));
    }
    if !inventory.complete {
        out.extend(template_endpoints(placer));
    }
    out
}

/// From manifests, the endpoints of the pod templates of kinds with several (a RayCluster's
/// head and worker groups, a JobSet's replicated jobs): one per template that makes Pods of
/// its own, with the labels its operator gives them (`palisade_inventory::operator_pods`),
/// named by where it stands (`train (spec.workerGroupSpecs.0.template)`). In a cluster read,
/// the Pods the operator made are read instead, with their own labels.
fn template_endpoints(placer: Placer<'_>) -> Vec<Endpoint> {
    let inventory = placer.inventory;
    let mut out = Vec::new();
    for (index, object) in inventory.objects.iter().enumerate() {
        let templates = palisade_inventory::podspec::grouped_templates(object);
        for template in &templates {
            let Some(labels) = palisade_inventory::operator_pods::pod_labels(object, template)
            else {
                continue;
            };
            let spec = palisade_inventory::podspec::grouped_pod_spec(object, template);
            let name = format!("{} ({})", object.id.display_name(), template.label());
            let mut endpoint = endpoint(
                placer.namespace(object),
                object.id.kind.clone(),
                name,
                labels,
                &spec,
                index,
            );
            endpoint.template = Some(template.clone());
            out.push(endpoint);
        }
    }
    out
}

/// The endpoint of the object at `index` with its pod spec `spec`, as [`endpoints`] makes it.
fn endpoint(
    namespace: String,
    kind: String,
    name: String,
    labels: Map<String, Value>,
    spec: &PodSpec<'_>,
    index: usize,
) -> Endpoint {
    Endpoint {
        namespace,
        name,
        kind,
        labels,
        ports: container_ports(spec),
        host_network: spec.value.get("hostNetwork").and_then(Value::as_bool) == Some(true),
        object: index,
        caveat: None,
        template: None,
    }
}

/// Whether the object at `index` is an endpoint of its own whatever the other objects are,
/// once their controllers are known: a workload with a pod spec (not a PodTemplate), no
/// controller in the inventory and no controlling owner whose pods it would be grouped with
/// (a standalone Pod, a static Pod, a new Deployment). [`endpoints`] gives it
/// [`lone_endpoint`], in its place.
pub fn is_lone_endpoint(inventory: &Inventory, index: usize) -> bool {
    let Some(object) = inventory.objects.get(index) else {
        return false;
    };
    object.id.kind != "PodTemplate"
        && pod_spec(object).is_some()
        && inventory.controller_of(index).is_none()
        && absent_owner(object).is_none()
}

/// The endpoint [`endpoints`] gives the object at `index` when it [`is_lone_endpoint`].
pub fn lone_endpoint(placer: Placer<'_>, index: usize) -> Option<Endpoint> {
    if !is_lone_endpoint(placer.inventory, index) {
        return None;
    }
    let object = &placer.inventory.objects[index];
    let spec = pod_spec(object)?;
    let labels = palisade_inventory::pod_labels(object)
        .cloned()
        .unwrap_or_default();
    Some(endpoint(
        placer.namespace(object),
        object.id.kind.clone(),
        object.id.display_name().to_string(),
        labels,
        &spec,
        index,
    ))
}

/// Whether a selector tells apart two label maps of pods of a namespace: (namespace, one,
/// other).
pub type SelectedApart<'a> = dyn Fn(&str, &Map<String, Value>, &Map<String, Value>) -> bool + 'a;

/// Whether the object at `index`, judged through its controller, carries labels the
/// controller's template does not give it and `selected_apart` tells the two apart.
pub(crate) fn relabelled_apart(
    placer: Placer<'_>,
    index: usize,
    selected_apart: &SelectedApart<'_>,
) -> bool {
    let object = &placer.inventory.objects[index];
    placer
        .inventory
        .relabelled(index)
        .is_some_and(|(own, template)| selected_apart(&placer.namespace(object), &own, &template))
}

fn same_labels(a: &Map<String, Value>, b: &Map<String, Value>) -> bool {
    a.len() == b.len() && a.iter().all(|(k, v)| b.get(k) == Some(v))
}

/// A pod's controlling owner (kind, name) when the pod is a `Pod` with one that is not a
/// workload the pod is judged through (absent, or an operator's resource without a pod spec).
fn absent_owner(object: &Object) -> Option<(String, String)> {
    if object.id.kind != "Pod" {
        return None;
    }
    let owners = object.value.at("/metadata/ownerReferences")?.as_array()?;
    let owner = owners
        .iter()
        .find(|o| o.get("controller").and_then(Value::as_bool) == Some(true))?;
    // A reference without a kind is grouped as pods of that name.
    let kind = owner.get("kind").and_then(Value::as_str).unwrap_or("Pod");
    // Static pods are owned by their Node; a pod is its own workload then.
    if kind == "Node" {
        return None;
    }
    Some((kind.to_string(), owner.get("name")?.as_str()?.to_string()))
}

/// The ports the pod's containers (regular and init, and those written alone) declare.
fn container_ports(spec: &PodSpec<'_>) -> Vec<ContainerPort> {
    let mut ports = Vec::new();
    let containers = spec
        .containers()
        .filter(|c| c.kind != ContainerKind::Ephemeral)
        .map(|c| c.value);
    for container in containers {
        for port in container
            .get("ports")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            let Some(number) = port
                .get("containerPort")
                .and_then(Value::as_u64)
                .and_then(|n| u16::try_from(n).ok())
            else {
                continue;
            };
            let protocol = match port.get("protocol").and_then(Value::as_str) {
                None => Protocol::Tcp,
                Some(p) => match Protocol::parse(p) {
                    Some(p) => p,
                    None => continue,
                },
            };
            ports.push(ContainerPort {
                name: port.get("name").and_then(Value::as_str).map(String::from),
                protocol,
                port: number,
            });
        }
    }
    ports.sort();
    ports.dedup();
    ports
}
