//! What Ingresses, OpenShift Routes and Gateway API routes open to the ingress controller:
//! the Services they name, the pods those Services select, and the container ports the
//! traffic lands on.

use std::collections::{BTreeMap, HashMap};

use palisade_core::selector::map_selector_matches;
use palisade_core::tree::Tree as _;
use palisade_inventory::{Inventory, Object};
use palisade_k8s::ingress::{AlbGroup, AlbMember, Controller};
use serde_json::{Map, Value};

use crate::conn::{Conn, Protocol};
use crate::model::{Endpoint, Placer};

/// One Service port: the port clients use and where it lands on the pods.
#[derive(Debug, Clone, PartialEq)]
pub struct ServicePort {
    pub name: Option<String>,
    pub port: Option<u16>,
    pub protocol: Protocol,
    pub target: Target,
}

/// Where a Service port lands: a container port by number or by name.
#[derive(Debug, Clone, PartialEq)]
pub enum Target {
    Number(u16),
    Name(String),
}

/// A Service with a selector: the endpoints it selects, its ports, and whether it is
/// reachable from outside the cluster (`palisade-k8s::exposure`).
#[derive(Debug, Clone, PartialEq)]
pub struct Service {
    pub namespace: String,
    pub name: String,
    /// `spec.selector` (never empty).
    pub selector: Map<String, Value>,
    pub selected: Vec<usize>,
    pub ports: Vec<ServicePort>,
    pub exposed: bool,
}

impl Service {
    /// Whether the Service sends traffic to pods with these labels (of its namespace).
    pub fn selects(&self, labels: &Map<String, Value>) -> bool {
        map_selector_matches(&self.selector, Some(labels))
    }
}

/// One way in from outside the cluster to a Service: an Ingress's backend, a Route's, or a
/// Gateway API route's.
#[derive(Debug, Clone)]
pub struct Door<'i> {
    /// What opens it, for evidence: `Ingress shop/web`, `HTTPRoute shop/web (Gateway
    /// infra/public)`.
    pub via: String,
    /// The Service's namespace, as the caller places objects.
    pub namespace: String,
    pub service: &'i str,
    port: PortRef<'i>,
    protocol: Protocol,
    /// Whether the traffic comes from outside the cluster: every Route, an Ingress whose
    /// load balancer is not made internal (`palisade_k8s::ingress::internal_reason`), and a
    /// Gateway API route attached to a Gateway that is not internal.
    pub external: bool,
    /// Where the traffic comes from, and why, for explanations: the ingress controller, or
    /// each Gateway, public or internal.
    pub reach: String,
}

/// Every [`Door`] of the inventory: Ingresses (both API groups), OpenShift Routes, Gateway
/// API routes attached to a Gateway ([`crate::gateway`]) and ingress-nginx's TCP and UDP
/// services ([`crate::stream_services`]). `ns_of` names an object's
/// namespace as the caller places objects. The network engine opens them to the ingress
/// controller; the escalation graph starts its chains from the internet at the external ones.
pub fn doors<'i>(inventory: &'i Inventory, ns_of: &dyn Fn(&Object) -> String) -> Vec<Door<'i>> {
    let mut out = Vec::new();
    let groups = AlbGroups::build(inventory);
    let door = |via: &str, namespace: &str, service: &'i str, port: PortRef<'i>| Door {
        via: via.to_string(),
        namespace: namespace.to_string(),
        service,
        port,
        protocol: Protocol::Tcp,
        external: true,
        reach: "from outside, through the ingress controller".to_string(),
    };
    for group in ["networking.k8s.io", "extensions"] {
        for ingress in inventory.of_kind(group, "Ingress") {
            let ns = ns_of(ingress);
            let via = format!("Ingress {ns}/{}", ingress.id.display_name());
            let (params, group) = alb_context(inventory, ingress, &groups);
            let internal = palisade_k8s::ingress::internal_reason(&ingress.value, params, &group);
            let restricted =
                palisade_k8s::ingress::alb_source_ranges(&ingress.value, params, &group);
            for backend in palisade_k8s::ingress::backends(&ingress.value) {
                use palisade_k8s::ingress::BackendPort;
                let port = match backend.port {
                    Some(BackendPort::Number(n)) => PortRef::ServicePort(n),
                    Some(BackendPort::Name(n)) => PortRef::ServicePortName(n),
                    None => continue,
                };
                let mut door = door(&via, &ns, backend.service, port);
                if let Some(why) = &internal {
                    door.external = false;
                    door.reach = format!("from the private network ({why})");
                } else if let Some(ranges) = &restricted {
                    door.reach = format!(
                        "from outside, {}, through the ingress controller",
                        ranges.describe()
                    );
                }
                out.push(door);
            }
        }
    }
    for route in inventory.of_kind("route.openshift.io", "Route") {
        let ns = ns_of(route);
        let via = format!("Route {ns}/{}", route.id.display_name());
        let port = match route.value.at("/spec/port/targetPort") {
            Some(Value::Number(n)) => {
                PortRef::Target(u16::try_from(n.as_u64().unwrap_or(0)).unwrap_or(0))
            }
            Some(Value::String(s)) => PortRef::TargetName(s),
            _ => PortRef::Any,
        };
        let spec = route.value.get("spec").unwrap_or(&Value::Null);
        let backends = std::iter::once(spec.get("to"))
            .chain(
                spec.get("alternateBackends")
                    .and_then(Value::as_array)
                    .into_iter()
                    .flatten()
                    .map(Some),
            )
            .flatten();
        for backend in backends {
            let kind = backend
                .get("kind")
                .and_then(Value::as_str)
                .unwrap_or("Service");
            if let (Some(name), "Service") = (backend.get("name").and_then(Value::as_str), kind) {
                out.push(door(&via, &ns, name, port.clone()));
            }
        }
    }
    gateway_doors(inventory, ns_of, &mut out);
    for entry in crate::stream_services::entries(inventory, ns_of) {
        let port = match entry.port.parse::<u16>() {
            Ok(n) => PortRef::ServicePort(n),
            Err(_) => PortRef::ServicePortName(entry.port),
        };
        out.push(Door {
            via: entry.via,
            namespace: entry.namespace,
            service: entry.service,
            port,
            protocol: entry.protocol,
            external: true,
            reach: "from outside, through a port the ingress controller publishes".to_string(),
        });
    }
    out
}

/// The [`Door`]s of Gateway API routes attached to some Gateway.
fn gateway_doors<'i>(
    inventory: &'i Inventory,
    ns_of: &dyn Fn(&Object) -> String,
    out: &mut Vec<Door<'i>>,
) {
    for kind in crate::gateway::ROUTE_KINDS {
        for route in inventory.of_kind(crate::gateway::GROUP, kind) {
            let Some(attached) = crate::gateway::attachment(inventory, route, ns_of) else {
                continue;
            };
            let via = format!(
                "{kind} {}/{} ({})",
                ns_of(route),
                route.id.display_name(),
                attached.gateways.join(", ")
            );
            let protocol = if *kind == "UDPRoute" {
                Protocol::Udp
            } else {
                Protocol::Tcp
            };
            for backend in crate::gateway::backends(inventory, route, ns_of) {
                out.push(Door {
                    via: match &backend.unsure {
                        Some(unsure) => format!("{via}, {unsure}"),
                        None => via.clone(),
                    },
                    namespace: backend.namespace,
                    service: backend.name,
                    port: backend.port.map_or(PortRef::Any, PortRef::ServicePort),
                    protocol,
                    external: attached.external,
                    reach: attached.why.join("; "),
                });
            }
        }
    }
}

/// The IngressClass `ingress` names (`ingressClassName` or the older annotation), or the
/// default IngressClass (`ingressclass.kubernetes.io/is-default-class: "true"`) when it
/// names none, as the inventory holds it.
pub fn ingress_class<'i>(inventory: &'i Inventory, ingress: &Value) -> Option<&'i Object> {
    let mut classes = inventory.of_kind("networking.k8s.io", "IngressClass");
    match palisade_k8s::ingress::class(ingress) {
        Some(name) => classes.find(|c| c.id.display_name() == name),
        None => classes.find(|c| {
            c.value
                .at("/metadata/annotations/ingressclass.kubernetes.io~1is-default-class")
                .and_then(Value::as_str)
                == Some("true")
        }),
    }
}

/// Which controller serves `ingress` ([`palisade_k8s::ingress::controller`]), with the
/// IngressClass its class names, or the default IngressClass, as the inventory holds it.
pub fn ingress_controller(inventory: &Inventory, ingress: &Value) -> Controller {
    controller_with(ingress, ingress_class(inventory, ingress))
}

/// [`ingress_controller`] with the IngressClass already looked up.
fn controller_with(ingress: &Value, class: Option<&Object>) -> Controller {
    let class_controller = class
        .and_then(|class| class.value.at("/spec/controller"))
        .and_then(Value::as_str);
    palisade_k8s::ingress::controller(ingress, class_controller)
}

/// Why `ingress`'s load balancer is internal, when it is
/// ([`palisade_k8s::ingress::internal_reason`], with the AWS IngressClassParams its class
/// names and the other members of its IngressGroup, from `groups`): the one answer of the
/// network's doors and the Ingress rules.
pub fn ingress_internal_reason(
    inventory: &Inventory,
    ingress: &Object,
    groups: &AlbGroups,
) -> Option<String> {
    let (params, group) = alb_context(inventory, ingress, groups);
    palisade_k8s::ingress::internal_reason(&ingress.value, params, &group)
}

/// What the AWS controller reads besides `ingress` itself: the IngressClassParams its class
/// names (name and object) and the other members of its IngressGroup.
fn alb_context<'i>(
    inventory: &'i Inventory,
    ingress: &'i Object,
    groups: &AlbGroups,
) -> (Option<(&'i str, &'i Value)>, AlbGroup<'i>) {
    let params =
        alb_class_params(inventory, &ingress.value).map(|p| (p.id.display_name(), &p.value));
    (params, groups.of(inventory, ingress))
}

/// The AWS IngressGroups of an inventory: the Ingresses the AWS controller serves under each
/// group name ([`palisade_k8s::ingress::alb_group_name`]) that set something for their
/// group ([`palisade_k8s::ingress::sets_for_alb_group`]), with the IngressClassParams of
/// each one's class, by index, found once so that asking for each Ingress's group reads no
/// Ingress or class again, and reads only the members that matter.
#[derive(Debug, Default)]
pub struct AlbGroups(HashMap<String, Vec<(usize, Option<usize>)>>);

impl AlbGroups {
    pub fn build(inventory: &Inventory) -> Self {
        let mut groups: HashMap<String, Vec<(usize, Option<usize>)>> = HashMap::new();
        for kind_group in ["networking.k8s.io", "extensions"] {
            for &index in inventory.indices_of_kind(kind_group, "Ingress") {
                let ingress = &inventory.objects[index];
                let Some((name, params)) = alb_group_of(inventory, ingress) else {
                    continue;
                };
                let params_value = params.map(|p| &inventory.objects[p].value);
                if palisade_k8s::ingress::sets_for_alb_group(&ingress.value, params_value) {
                    groups
                        .entry(name.to_string())
                        .or_default()
                        .push((index, params));
                }
            }
        }
        AlbGroups(groups)
    }

    /// The other members of the IngressGroup `ingress` belongs to ([`AlbGroup`]), `ingress`
    /// itself (any version of it) left out. Empty when it is in no group or another
    /// controller serves it.
    pub fn of<'i>(&self, inventory: &'i Inventory, ingress: &'i Object) -> AlbGroup<'i> {
        let Some((name, _)) = alb_group_of(inventory, ingress) else {
            return AlbGroup::default();
        };
        let itself = |other: &Object| {
            other.id.kind == ingress.id.kind
                && other.id.namespace == ingress.id.namespace
                && other.id.name == ingress.id.name
        };
        let members = self
            .0
            .get(name)
            .into_iter()
            .flatten()
            .map(|&(index, params)| (&inventory.objects[index], params))
            .filter(|(other, _)| !itself(other))
            .map(|(other, params)| AlbMember {
                id: &other.id,
                ingress: &other.value,
                class_params: params.map(|index| {
                    let params = &inventory.objects[index];
                    (params.id.display_name(), &params.value)
                }),
            })
            .collect();
        AlbGroup { name, members }
    }
}

/// The IngressGroup name of `ingress` when the AWS controller serves it, with the index of
/// the IngressClassParams its class names.
fn alb_group_of<'i>(
    inventory: &'i Inventory,
    ingress: &'i Object,
) -> Option<(&'i str, Option<usize>)> {
    // The class is looked up once, for its parameters and its controller.
    let class = ingress_class(inventory, &ingress.value);
    let params = class_params_index(inventory, class);
    let values = params.map(|index| &inventory.objects[index].value);
    let name = palisade_k8s::ingress::alb_group_name(&ingress.value, values)?;
    (controller_with(&ingress.value, class) == Controller::AwsAlb).then_some((name, params))
}

/// The AWS IngressClassParams the class of `ingress` names in its `spec.parameters`
/// ([`palisade_k8s::ingress::ALB_CLASS_PARAMS_GROUPS`]), as the inventory holds it.
pub fn alb_class_params<'i>(inventory: &'i Inventory, ingress: &Value) -> Option<&'i Object> {
    alb_class_params_index(inventory, ingress).map(|index| &inventory.objects[index])
}

/// [`alb_class_params`], as the object's index in the inventory.
fn alb_class_params_index(inventory: &Inventory, ingress: &Value) -> Option<usize> {
    class_params_index(inventory, ingress_class(inventory, ingress))
}

/// The index of the AWS IngressClassParams `class` names, when the inventory holds it.
fn class_params_index(inventory: &Inventory, class: Option<&Object>) -> Option<usize> {
    let parameters = class?.value.at("/spec/parameters")?;
    let group = parameters.get("apiGroup").and_then(Value::as_str)?;
    let name = parameters.get("name").and_then(Value::as_str)?;
    if !palisade_k8s::ingress::ALB_CLASS_PARAMS_GROUPS.contains(&group)
        || parameters.get("kind").and_then(Value::as_str) != Some("IngressClassParams")
    {
        return None;
    }
    inventory
        .indices_of_kind(group, "IngressClassParams")
        .iter()
        .copied()
        .find(|&index| inventory.objects[index].id.display_name() == name)
}

/// The ports each endpoint receives from the ingress controller, by endpoint index, and the
/// objects that open them ([`doors`]).
pub fn ingress_controller_ports(
    placer: Placer<'_>,
    endpoints: &[Endpoint],
    services: &[Service],
) -> BTreeMap<usize, (Conn, Vec<String>)> {
    let services: BTreeMap<(&str, &str), &Service> = services
        .iter()
        .map(|s| ((s.namespace.as_str(), s.name.as_str()), s))
        .collect();
    let mut out: BTreeMap<usize, (Conn, Vec<String>)> = BTreeMap::new();
    for door in doors(placer.inventory, &|o| placer.namespace(o)) {
        let Some(found) = services.get(&(door.namespace.as_str(), door.service)) else {
            continue;
        };
        for &e in &found.selected {
            let conn = landing(&endpoints[e], &found.ports, &door.port, door.protocol);
            if conn.is_empty() {
                continue;
            }
            let entry = out.entry(e).or_default();
            entry.0 = entry.0.union(&conn);
            if !entry.1.contains(&door.via) {
                entry.1.push(door.via.clone());
            }
        }
    }
    out
}

impl Door<'_> {
    /// Whether the door names one port of its Service (an OpenShift Route without a
    /// `targetPort` names none: the router picks).
    pub fn names_a_port(&self) -> bool {
        !matches!(self.port, PortRef::Any)
    }

    /// Whether traffic through the door reaches the Service port `entry` (an item of the
    /// Service's `spec.ports`): the port the door names, of its protocol.
    pub fn opens(&self, entry: &Value) -> bool {
        service_port(entry).is_some_and(|p| p.protocol == self.protocol && self.port.names(&p))
    }
}

impl PortRef<'_> {
    /// Whether this reference names the Service port `p`.
    fn names(&self, p: &ServicePort) -> bool {
        match self {
            PortRef::ServicePort(n) => p.port == Some(*n),
            PortRef::ServicePortName(name) => p.name.as_deref() == Some(*name),
            PortRef::Target(n) => matches!(p.target, Target::Number(t) if t == *n),
            PortRef::TargetName(name) => {
                matches!(&p.target, Target::Name(t) if t == name)
                    || p.name.as_deref() == Some(*name)
            }
            PortRef::Any => true,
        }
    }
}

/// Which Service port an Ingress or Route names.
#[derive(Debug, Clone)]
enum PortRef<'a> {
    ServicePort(u16),
    ServicePortName(&'a str),
    /// A Route's `targetPort`: a Service's target port, by number or name.
    Target(u16),
    TargetName(&'a str),
    /// Every port of the Service.
    Any,
}

/// A Service's pod selector; `None` when it has none (its endpoints are managed by hand).
fn selector_of(service: &Object) -> Option<&Map<String, Value>> {
    service
        .value
        .at("/spec/selector")
        .and_then(Value::as_object)
        .filter(|s| !s.is_empty())
}

/// Services with a selector, with their ports; the endpoints they select are for
/// [`select_endpoints`] to fill in.
pub fn services(placer: Placer<'_>) -> Vec<Service> {
    let mut out = Vec::new();
    for service in placer.inventory.of_kind("", "Service") {
        let Some(selector) = selector_of(service) else {
            continue;
        };
        let ports = service
            .value
            .at("/spec/ports")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(service_port)
            .collect();
        out.push(Service {
            namespace: placer.namespace(service),
            name: service.id.display_name().to_string(),
            selector: selector.clone(),
            selected: Vec::new(),
            ports,
            exposed: palisade_k8s::exposure::service_exposure(&service.value).is_some(),
        });
    }
    out
}

/// From manifests, the head Service KubeRay makes for each Ray cluster whose head template is
/// an endpoint ([`palisade_k8s::ray`]: its name, ports and type), selecting that endpoint:
/// what an Ingress or route naming `<cluster>-head-svc` sends traffic to. A Service of that
/// name in the input (a cluster read's, the operator's own) is the one read instead.
pub fn ray_head_services(placer: Placer<'_>, endpoints: &[Endpoint]) -> Vec<Service> {
    let inventory = placer.inventory;
    let mut out = Vec::new();
    for (index, endpoint) in endpoints.iter().enumerate() {
        let Some(template) = endpoint.template_spec() else {
            continue;
        };
        let object = &inventory.objects[endpoint.object];
        let Some(cluster) =
            palisade_k8s::ray::cluster(object.id.group(), &object.id.kind, &object.value)
                .filter(|cluster| cluster.role(template) == Some(palisade_k8s::ray::Role::Head))
        else {
            continue;
        };
        let namespace = |o: &Object| placer.namespace(o);
        let Some(name) = kuberay_head_service(inventory, object, &cluster, &namespace) else {
            continue;
        };
        let ports = cluster
            .head_service_ports()
            .into_iter()
            .map(|(name, port)| ServicePort {
                name,
                port: Some(port),
                protocol: Protocol::Tcp,
                target: Target::Number(port),
            })
            .collect();
        out.push(Service {
            namespace: endpoint.namespace.clone(),
            name,
            selector: endpoint.labels.clone(),
            selected: vec![index],
            ports,
            exposed: cluster.head_service_exposed(),
        });
    }
    out
}

/// From manifests, the HTTP Service ECK makes for each Elasticsearch cluster whose node sets
/// are endpoints ([`palisade_k8s::eck`]: `<cluster>-es-http` on 9200, its type from
/// `spec.http.service`), selecting them: what an Ingress or route naming it sends traffic to.
/// A Service of that name in the input is the one read instead.
pub fn eck_http_services(placer: Placer<'_>, endpoints: &[Endpoint]) -> Vec<Service> {
    let inventory = placer.inventory;
    let (group, kind) = palisade_k8s::eck::ELASTICSEARCH;
    let mut out = Vec::new();
    for (index, object) in inventory.objects.iter().enumerate() {
        if object.id.kind != kind || object.id.group() != group {
            continue;
        }
        let namespace = |o: &Object| placer.namespace(o);
        let Some(http) = eck_http_service(inventory, object, &namespace) else {
            continue;
        };
        let selected: Vec<usize> = (0..endpoints.len())
            .filter(|&e| endpoints[e].object == index)
            .collect();
        if selected.is_empty() {
            continue;
        }
        let mut selector = Map::new();
        selector.insert(
            "elasticsearch.k8s.elastic.co/cluster-name".to_string(),
            Value::String(object.id.display_name().to_string()),
        );
        out.push(Service {
            namespace: placer.namespace(object),
            name: http.name,
            selector,
            selected,
            ports: vec![ServicePort {
                name: Some(http.port_name.to_string()),
                port: Some(palisade_k8s::eck::HTTP_PORT),
                protocol: Protocol::Tcp,
                target: Target::Number(palisade_k8s::eck::HTTP_PORT),
            }],
            exposed: http.published.is_some(),
        });
    }
    out
}

/// The HTTP Service ECK makes for `object` when it is an Elasticsearch cluster and the input
/// holds no Service of that name in its namespace (`ns_of` places objects).
pub fn eck_http_service(
    inventory: &Inventory,
    object: &Object,
    ns_of: &dyn Fn(&Object) -> String,
) -> Option<palisade_k8s::eck::HttpService> {
    let http = palisade_k8s::eck::http_service(
        object.id.group(),
        &object.id.kind,
        object.id.display_name(),
        &object.value,
    )?;
    (!service_written(inventory, &http.name, &ns_of(object), ns_of)).then_some(http)
}

/// Whether the input holds a Service `name` in `namespace`.
fn service_written(
    inventory: &Inventory,
    name: &str,
    namespace: &str,
    ns_of: &dyn Fn(&Object) -> String,
) -> bool {
    inventory
        .of_kind("", "Service")
        .any(|service| service.id.display_name() == name && ns_of(service) == namespace)
}

/// The KubeRay clusters the inventory's objects write (`palisade_k8s::ray::cluster`), with
/// each object's index.
pub fn ray_clusters(
    inventory: &Inventory,
) -> impl Iterator<Item = (usize, &Object, palisade_k8s::ray::RayCluster<'_>)> {
    inventory
        .objects
        .iter()
        .enumerate()
        .filter_map(|(index, object)| {
            let cluster =
                palisade_k8s::ray::cluster(object.id.group(), &object.id.kind, &object.value)?;
            Some((index, object, cluster))
        })
}

/// The name of the head Service KubeRay makes for `cluster`, the Ray cluster `object`
/// writes, when the input holds no Service of that name in its namespace (`ns_of` places
/// objects): the Service an Ingress or route naming it reaches.
pub fn kuberay_head_service(
    inventory: &Inventory,
    object: &Object,
    cluster: &palisade_k8s::ray::RayCluster<'_>,
    ns_of: &dyn Fn(&Object) -> String,
) -> Option<String> {
    let name = cluster.head_service_name(&object.id.kind, object.id.display_name())?;
    (!service_written(inventory, &name, &ns_of(object), ns_of)).then_some(name)
}

/// Fills in the endpoints each Service selects (in its own namespace only).
pub fn select_endpoints(services: &mut [Service], endpoints: &[Endpoint]) {
    let in_namespace = crate::model::by_namespace(endpoints);
    for service in services {
        service.selected = in_namespace
            .get(service.namespace.as_str())
            .into_iter()
            .flatten()
            .copied()
            .filter(|&i| service.selects(&endpoints[i].labels))
            .collect();
    }
}

fn service_port(port: &Value) -> Option<ServicePort> {
    let number = port
        .get("port")
        .and_then(Value::as_u64)
        .and_then(|n| u16::try_from(n).ok());
    let protocol = match port.get("protocol").and_then(Value::as_str) {
        None => Protocol::Tcp,
        Some(p) => Protocol::parse(p)?,
    };
    let target = match port.get("targetPort") {
        Some(Value::Number(n)) => Target::Number(u16::try_from(n.as_u64()?).ok()?),
        Some(Value::String(s)) => match s.parse::<u16>() {
            Ok(n) => Target::Number(n),
            Err(_) => Target::Name(s.clone()),
        },
        _ => Target::Number(number?),
    };
    Some(ServicePort {
        name: port.get("name").and_then(Value::as_str).map(String::from),
        port: number,
        protocol,
        target,
    })
}

/// The container ports of `endpoint` that `protocol` traffic through `port` lands on.
fn landing(
    endpoint: &Endpoint,
    ports: &[ServicePort],
    port: &PortRef<'_>,
    protocol: Protocol,
) -> Conn {
    let chosen = ports
        .iter()
        .filter(|p| p.protocol == protocol && port.names(p));
    let mut conn = Conn::none();
    for p in chosen {
        match &p.target {
            Target::Number(n) => conn = conn.union(&Conn::port(protocol, *n)),
            Target::Name(name) => {
                for (protocol, n) in endpoint.named_port(name, Some(protocol)) {
                    conn = conn.union(&Conn::port(protocol, n));
                }
            }
        }
    }
    conn
}
