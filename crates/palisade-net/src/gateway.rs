//! What Gateway API routes (`HTTPRoute`, `GRPCRoute`, `TLSRoute`, `TCPRoute`, `UDPRoute`)
//! open: the Gateways a route is attached to, as the Gateway API defines attachment (a
//! parent reference to a `Gateway`, accepted by one of its listeners), and the Services its
//! rules send traffic to (backend references, and the backends requests are mirrored to),
//! with the cross-namespace references a `ReferenceGrant` permits.
//!
//! Where the input does not show what decides, the exposure stays: a Gateway or a
//! `ReferenceGrant` missing from manifests may live in another repository, and a listener's
//! namespace selector may read labels of a namespace that has no object in the input. Only a
//! whole cluster (a snapshot, a live read) lets a missing one mean "not there".

use palisade_core::selector::{NamespaceSelection, namespace_selected};
use palisade_core::tree::Tree as _;
use palisade_inventory::{Inventory, Object};
use serde_json::Value;

pub mod infrastructure;

/// The Gateway API's group.
pub const GROUP: &str = "gateway.networking.k8s.io";

/// The route kinds, each read in every version of the group.
pub const ROUTE_KINDS: &[&str] = &["HTTPRoute", "GRPCRoute", "TLSRoute", "TCPRoute", "UDPRoute"];

/// The kinds [`is_public`] reads besides the Gateway: the Services an Istio Gateway may be
/// deployed on, the Gateway's class, and its implementation's parameters
/// (`palisade_k8s::exposure::GATEWAY_PARAMETERS`: of the ConfigMaps, only those that
/// [`infrastructure::may_be_parameters`]).
pub const PUBLICITY_READS: &[(&str, &str)] = &[
    ("", "Service"),
    (GROUP, "GatewayClass"),
    ("projectcontour.io", "ContourDeployment"),
    ("gateway.envoyproxy.io", "EnvoyProxy"),
    ("gateway.nginx.org", "NginxProxy"),
    ("gateway-operator.konghq.com", "GatewayConfiguration"),
    ("gateway.k8s.aws", "LoadBalancerConfiguration"),
    ("", "ConfigMap"),
];

/// The Gateways a route is attached to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Attachment {
    /// Each Gateway, for evidence: `Gateway infra/public`, with `(not in the input)` when
    /// the route names one the input does not hold.
    pub gateways: Vec<String>,
    /// Whether one of them is reachable from outside the cluster
    /// ([`is_public`]).
    pub external: bool,
    /// Whether each is reachable from outside, and why ([`publicity`]), for explanations.
    pub why: Vec<String>,
}

/// One Service a route sends traffic to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Backend<'v> {
    /// The Service's namespace: the reference's, or the route's.
    pub namespace: String,
    pub name: &'v str,
    /// The Service port (`None`: the reference names none).
    pub port: Option<u16>,
    /// Why the reference may not hold, for evidence: a cross-namespace reference that no
    /// `ReferenceGrant` in the input permits (manifests only).
    pub unsure: Option<String>,
}

/// Whether `gateway` is reachable from outside the cluster: not when its class or
/// annotations make it internal (`palisade_k8s::exposure::is_internal_gateway`); for an
/// Istio Gateway deployed by hand on Services (`spec.addresses` of type `Hostname` naming a
/// Service, `NAME` or `NAME.NAMESPACE.svc.cluster.local`), as public as those Services; else
/// not when its implementation's parameters give it a Service that stays inside the cluster
/// ([`infrastructure::internal`]). From manifests, only objects of the Gateway's own
/// directory or rendering vouch for it. Where the input does not say, it is public.
pub fn is_public(
    inventory: &Inventory,
    gateway: &Object,
    ns_of: &dyn Fn(&Object) -> String,
) -> bool {
    publicity(inventory, gateway, ns_of).public
}

/// Whether a Gateway is reachable from outside the cluster, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Publicity {
    pub public: bool,
    pub why: String,
}

/// [`is_public`], with why.
pub fn publicity(
    inventory: &Inventory,
    gateway: &Object,
    ns_of: &dyn Fn(&Object) -> String,
) -> Publicity {
    if let Some(why) = palisade_k8s::exposure::internal_gateway_reason(&gateway.value) {
        return Publicity { public: false, why };
    }
    if let Some((public, why)) = deployed_on_services(inventory, gateway, ns_of) {
        return Publicity { public, why };
    }
    match infrastructure::internal(inventory, gateway, ns_of) {
        Some(said) => Publicity {
            public: !said.internal,
            why: said.why,
        },
        None => Publicity {
            public: true,
            why: "nothing in the input makes its load balancer internal".to_string(),
        },
    }
}

/// Whether an object of the input may speak for `gateway`: any object of a whole cluster;
/// from manifests, one of the Gateway's own directory or rendering (unrelated projects scanned
/// together share names such as istio-system).
fn vouches_for(inventory: &Inventory, gateway: &Object, object: &Object) -> bool {
    inventory.complete || inventory.scope_of(object) == inventory.scope_of(gateway)
}

/// For an Istio Gateway deployed by hand on Services (`spec.addresses` of type `Hostname`),
/// whether one of them is exposed or missing from the input, and which; `None` for any other
/// Gateway.
fn deployed_on_services(
    inventory: &Inventory,
    gateway: &Object,
    ns_of: &dyn Fn(&Object) -> String,
) -> Option<(bool, String)> {
    if gateway
        .value
        .at("/spec/gatewayClassName")
        .and_then(Value::as_str)
        != Some("istio")
    {
        return None;
    }
    let gateway_ns = ns_of(gateway);
    let services: Vec<(String, String)> = gateway
        .value
        .at("/spec/addresses")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter(|a| a.get("type").and_then(Value::as_str) == Some("Hostname"))
        .filter_map(|a| a.get("value").and_then(Value::as_str))
        .map(|host| match host.split_once('.') {
            Some((name, rest)) => {
                let ns = rest.strip_suffix(".svc.cluster.local").unwrap_or(rest);
                (name.to_string(), ns.to_string())
            }
            None => (host.to_string(), gateway_ns.clone()),
        })
        .collect();
    if services.is_empty() {
        return None;
    }
    // Deployed on those Services: public when one of them is exposed, or is not in the input.
    let mut inside = Vec::new();
    for (name, ns) in &services {
        let found = inventory.of_kind("", "Service").find(|s| {
            s.id.name.as_deref() == Some(name)
                && ns_of(s) == *ns
                && vouches_for(inventory, gateway, s)
        });
        match found.map(|s| palisade_k8s::service_exposure(&s.value)) {
            None => {
                let why = format!("deployed on Service {ns}/{name}, which is not in the input");
                return Some((true, why));
            }
            Some(Some(exposure)) => {
                let why = format!(
                    "deployed on Service {ns}/{name}, reachable from {}",
                    exposure.reach()
                );
                return Some((true, why));
            }
            Some(None) => inside.push(format!("{ns}/{name}")),
        }
    }
    let why = format!(
        "deployed on Service {}, which is not exposed",
        inside.join(", ")
    );
    Some((false, why))
}

/// A Gateway a route names as its parent.
#[derive(Debug, Clone)]
pub struct Parent<'i> {
    /// `Gateway infra/public`, for evidence.
    pub name: String,
    /// The `parentRefs` entry's index.
    pub index: usize,
    /// The Gateway, when the input holds it.
    pub gateway: Option<&'i Object>,
    /// Its listeners that accept the route (the one `sectionName` and `port` name, or any).
    pub listeners: Vec<&'i Value>,
}

/// The Gateways `route` names in `parentRefs` (other parents, such as a mesh's Services,
/// are left out), each with the listeners that accept it. `ns_of` names an object's
/// namespace as the caller places objects.
pub fn parents<'i>(
    inventory: &'i Inventory,
    route: &Object,
    ns_of: &dyn Fn(&Object) -> String,
) -> Vec<Parent<'i>> {
    let route_ns = ns_of(route);
    let mut out = Vec::new();
    let refs = route.value.at("/spec/parentRefs").and_then(Value::as_array);
    for (index, parent) in refs.into_iter().flatten().enumerate() {
        let Some((name, written)) = reference_to(parent, (GROUP, "Gateway"), GROUP) else {
            continue;
        };
        let namespace = written.map_or_else(|| route_ns.clone(), String::from);
        let gateway = inventory
            .of_kind(GROUP, "Gateway")
            .find(|g| g.id.name.as_deref() == Some(name) && ns_of(g) == namespace);
        let listeners = gateway.map_or_else(Vec::new, |gateway| {
            accepting(inventory, gateway, parent, &route.id.kind, &route_ns, ns_of)
        });
        // Shown with the namespace the input names, if any.
        let name = match written.or(route.id.namespace.as_deref()) {
            Some(ns) => format!("Gateway {ns}/{name}"),
            None => format!("Gateway {name}"),
        };
        out.push(Parent {
            name,
            index,
            gateway,
            listeners,
        });
    }
    out
}

/// The Gateways `route` is attached to; `None` when it is attached to none (its parents are
/// Services, as a service mesh's routes are; or no listener of its Gateways accepts it).
/// `ns_of` names an object's namespace as the caller places objects.
pub fn attachment(
    inventory: &Inventory,
    route: &Object,
    ns_of: &dyn Fn(&Object) -> String,
) -> Option<Attachment> {
    let mut out = Attachment {
        gateways: Vec::new(),
        external: false,
        why: Vec::new(),
    };
    for parent in parents(inventory, route, ns_of) {
        match parent.gateway {
            Some(gateway) => {
                if parent.listeners.is_empty() {
                    continue;
                }
                let publicity = publicity(inventory, gateway, ns_of);
                let reach = match publicity.public {
                    true => "public",
                    false => "internal",
                };
                out.why
                    .push(format!("{} is {reach}: {}", parent.name, publicity.why));
                out.gateways.push(parent.name);
                out.external |= publicity.public;
            }
            // A whole cluster without the Gateway: the route is attached to nothing.
            None if inventory.complete => continue,
            None => {
                out.why.push(format!(
                    "{} is not in the input, so taken as public",
                    parent.name
                ));
                out.gateways
                    .push(format!("{} (not in the input)", parent.name));
                out.external = true;
            }
        }
    }
    (!out.gateways.is_empty()).then_some(out)
}

/// The listeners of `gateway` that `parent` names (by `sectionName` and `port`, or any) and
/// that accept a route of `kind` from namespace `route_ns`.
fn accepting<'i>(
    inventory: &Inventory,
    gateway: &'i Object,
    parent: &Value,
    kind: &str,
    route_ns: &str,
    ns_of: &dyn Fn(&Object) -> String,
) -> Vec<&'i Value> {
    let section = parent.get("sectionName").and_then(Value::as_str);
    let port = parent.get("port").and_then(Value::as_u64);
    let gateway_ns = ns_of(gateway);
    gateway
        .value
        .at("/spec/listeners")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter(|l| section.is_none_or(|s| l.get("name").and_then(Value::as_str) == Some(s)))
        .filter(|l| port.is_none_or(|p| l.get("port").and_then(Value::as_u64) == Some(p)))
        .filter(|listener| {
            listener_takes_kind(listener, kind)
                && listener_takes_namespace(inventory, listener, &gateway_ns, route_ns)
        })
        .collect()
}

/// Whether a listener accepts routes of `kind`: those `allowedRoutes.kinds` lists, or by
/// default those its protocol carries (an implementation's own protocol: any).
fn listener_takes_kind(listener: &Value, kind: &str) -> bool {
    let listed = listener
        .at("/allowedRoutes/kinds")
        .and_then(Value::as_array)
        .filter(|kinds| !kinds.is_empty());
    if let Some(kinds) = listed {
        return kinds.iter().any(|k| {
            k.get("group").and_then(Value::as_str).unwrap_or(GROUP) == GROUP
                && k.get("kind").and_then(Value::as_str) == Some(kind)
        });
    }
    match listener.get("protocol").and_then(Value::as_str) {
        Some("HTTP" | "HTTPS") => matches!(kind, "HTTPRoute" | "GRPCRoute"),
        Some("TLS") => matches!(kind, "TLSRoute" | "TCPRoute"),
        Some("TCP") => kind == "TCPRoute",
        Some("UDP") => kind == "UDPRoute",
        _ => true,
    }
}

/// Whether a listener of a Gateway in `gateway_ns` accepts routes from `route_ns`
/// (`allowedRoutes.namespaces.from`: `Same` by default, `All`, `Selector`, `None`). A
/// selector that reads labels of a namespace the input has no object for may take it: it is
/// taken.
fn listener_takes_namespace(
    inventory: &Inventory,
    listener: &Value,
    gateway_ns: &str,
    route_ns: &str,
) -> bool {
    let namespaces = listener.at("/allowedRoutes/namespaces");
    match namespaces
        .and_then(|n| n.get("from"))
        .and_then(Value::as_str)
    {
        None | Some("Same") => gateway_ns == route_ns,
        Some("All") => true,
        Some("None") => false,
        Some("Selector") => {
            let selector = namespaces
                .and_then(|n| n.get("selector"))
                .unwrap_or(&Value::Null);
            let labels = inventory.served_labels_of_namespace(route_ns);
            namespace_selected(selector, route_ns, labels.as_ref())
                != NamespaceSelection::NotSelected
        }
        // A value this reader does not know: the route may be accepted.
        Some(_) => true,
    }
}

/// The Services `route` sends traffic to: each rule's backend references (a weight of 0
/// sends nothing) and the backends of its `RequestMirror` filters. A reference to another
/// namespace needs a `ReferenceGrant` there: without one it is dropped from a whole cluster
/// and kept, marked, from manifests.
pub fn backends<'v>(
    inventory: &Inventory,
    route: &'v Object,
    ns_of: &dyn Fn(&Object) -> String,
) -> Vec<Backend<'v>> {
    let route_ns = ns_of(route);
    let mut refs: Vec<&'v Value> = Vec::new();
    for rule in route
        .value
        .at("/spec/rules")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        mirrors(rule, &mut refs);
        for backend in rule
            .get("backendRefs")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            mirrors(backend, &mut refs);
            if backend.get("weight").and_then(Value::as_u64) != Some(0) {
                refs.push(backend);
            }
        }
    }
    let mut out: Vec<Backend<'v>> = Vec::new();
    for reference in refs {
        let Some((name, written)) = reference_to(reference, ("", "Service"), "") else {
            continue;
        };
        let namespace = written.map_or_else(|| route_ns.clone(), String::from);
        let mut unsure = None;
        if namespace != route_ns && !granted(inventory, route, &route_ns, &namespace, name, ns_of) {
            if inventory.complete {
                continue;
            }
            unsure = Some(format!(
                "if a ReferenceGrant in namespace {namespace} permits it (none in the input does)"
            ));
        }
        let port = reference
            .get("port")
            .and_then(Value::as_u64)
            .and_then(|p| u16::try_from(p).ok());
        let backend = Backend {
            namespace,
            name,
            port,
            unsure,
        };
        if !out.contains(&backend) {
            out.push(backend);
        }
    }
    out
}

/// The name and the namespace (when written) of a Gateway API object reference
/// (`parentRefs`, `backendRefs`) to an object of `wanted` (group, kind); `None` for a
/// reference to another kind, or without a name. An unwritten kind is the `wanted` one, an
/// unwritten group `default_group`, as the API defaults each field.
fn reference_to<'v>(
    reference: &'v Value,
    wanted: (&str, &str),
    default_group: &str,
) -> Option<(&'v str, Option<&'v str>)> {
    let field = |key: &str| reference.get(key).and_then(Value::as_str);
    let group = field("group").unwrap_or(default_group);
    let kind = field("kind").unwrap_or(wanted.1);
    ((group, kind) == wanted).then_some((field("name")?, field("namespace")))
}

/// The backend references of the `RequestMirror` filters of `holder` (a rule or a backend
/// reference), added to `refs`.
fn mirrors<'v>(holder: &'v Value, refs: &mut Vec<&'v Value>) {
    for filter in holder
        .get("filters")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        if filter.get("type").and_then(Value::as_str) == Some("RequestMirror")
            && let Some(backend) = filter.at("/requestMirror/backendRef")
        {
            refs.push(backend);
        }
    }
}

/// Whether a `ReferenceGrant` in `namespace` lets routes of `route`'s kind in `route_ns`
/// refer to Service `name` there.
fn granted(
    inventory: &Inventory,
    route: &Object,
    route_ns: &str,
    namespace: &str,
    name: &str,
    ns_of: &dyn Fn(&Object) -> String,
) -> bool {
    let kind = route.id.kind.as_str();
    inventory
        .of_kind(GROUP, "ReferenceGrant")
        .filter(|grant| ns_of(grant) == namespace)
        .any(|grant| {
            let list = |key: &str| -> Vec<&Value> {
                grant
                    .value
                    .at(key)
                    .and_then(Value::as_array)
                    .map(|a| a.iter().collect())
                    .unwrap_or_default()
            };
            let from = list("/spec/from").into_iter().any(|f| {
                f.get("group").and_then(Value::as_str) == Some(GROUP)
                    && f.get("kind").and_then(Value::as_str) == Some(kind)
                    && f.get("namespace").and_then(Value::as_str) == Some(route_ns)
            });
            let to = list("/spec/to").into_iter().any(|t| {
                t.get("group")
                    .and_then(Value::as_str)
                    .unwrap_or("")
                    .is_empty()
                    && t.get("kind").and_then(Value::as_str) == Some("Service")
                    && t.get("name")
                        .and_then(Value::as_str)
                        .is_none_or(|n| n == name)
            });
            from && to
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use palisade_inventory::{Limits, load_text};

    fn inventory(text: &str, complete: bool) -> Inventory {
        let mut inventory = load_text("g.yaml", text, &Limits::default()).inventory;
        inventory.complete = complete;
        inventory
    }

    fn ns_of(object: &Object) -> String {
        object.id.namespace.clone().unwrap_or_default()
    }

    fn route_of<'i>(inventory: &'i Inventory, kind: &str) -> &'i Object {
        inventory.of_kind(GROUP, kind).next().expect("a route")
    }

    const GATEWAY: &str = "apiVersion: gateway.networking.k8s.io/v1\nkind: Gateway\nmetadata: {name: public, namespace: infra}\nspec:\n  gatewayClassName: istio\n  listeners:\n  - {name: http, port: 80, protocol: HTTP, allowedRoutes: {namespaces: {from: Selector, selector: {matchLabels: {expose: 'yes'}}}}}\n  - {name: tcp, port: 5432, protocol: TCP, allowedRoutes: {namespaces: {from: All}}}\n";

    fn route(kind: &str, parent: &str, backends: &str) -> String {
        format!(
            "---\napiVersion: gateway.networking.k8s.io/v1\nkind: {kind}\nmetadata: {{name: r, namespace: shop}}\nspec:\n  parentRefs: [{parent}]\n  rules:\n  - backendRefs: [{backends}]\n"
        )
    }

    #[test]
    fn a_route_is_attached_where_a_listener_accepts_its_kind_and_namespace() {
        let shop = "---\napiVersion: v1\nkind: Namespace\nmetadata: {name: shop, labels: {expose: 'yes'}}\n";
        let closed = "---\napiVersion: v1\nkind: Namespace\nmetadata: {name: shop}\n";
        let http = route(
            "HTTPRoute",
            "{name: public, namespace: infra}",
            "{name: web, port: 80}",
        );
        let attached = |text: String, kind: &str| {
            let inventory = inventory(&text, false);
            attachment(&inventory, route_of(&inventory, kind), &ns_of)
        };
        let found = attached(format!("{GATEWAY}{shop}{http}"), "HTTPRoute").unwrap();
        assert_eq!(found.gateways, ["Gateway infra/public"]);
        assert!(found.external);
        // The namespace's labels do not match the HTTP listener's selector.
        assert_eq!(
            attached(format!("{GATEWAY}{closed}{http}"), "HTTPRoute"),
            None
        );
        // Without the Namespace object, the selector may take it.
        assert!(attached(format!("{GATEWAY}{http}"), "HTTPRoute").is_some());
        // The TCP listener takes every namespace, but not HTTP routes; section names narrow.
        let to_tcp = route(
            "HTTPRoute",
            "{name: public, namespace: infra, sectionName: tcp}",
            "{name: web, port: 80}",
        );
        assert_eq!(attached(format!("{GATEWAY}{to_tcp}"), "HTTPRoute"), None);
        let tcp = route(
            "TCPRoute",
            "{name: public, namespace: infra}",
            "{name: db, port: 5432}",
        );
        assert!(attached(format!("{GATEWAY}{closed}{tcp}"), "TCPRoute").is_some());
        // A mesh route (its parent a Service) is not attached to a Gateway.
        let mesh = route(
            "HTTPRoute",
            "{kind: Service, group: '', name: web}",
            "{name: web}",
        );
        assert_eq!(attached(mesh, "HTTPRoute"), None);
        // A Gateway not in manifests is taken as there; not in a whole cluster.
        let elsewhere = route(
            "HTTPRoute",
            "{name: other, namespace: infra}",
            "{name: web}",
        );
        let found = attached(elsewhere.clone(), "HTTPRoute").unwrap();
        assert_eq!(found.gateways, ["Gateway infra/other (not in the input)"]);
        let cluster = inventory(&elsewhere, true);
        assert_eq!(
            attachment(&cluster, route_of(&cluster, "HTTPRoute"), &ns_of),
            None
        );
    }

    #[test]
    fn an_istio_gateway_on_a_service_of_the_input_is_as_public_as_the_service() {
        let gateway = "apiVersion: gateway.networking.k8s.io/v1\nkind: Gateway\nmetadata: {name: g, namespace: istio-system}\nspec:\n  gatewayClassName: istio\n  addresses: [{type: Hostname, value: gw.istio-system.svc.cluster.local}]\n";
        let service = |kind: &str| {
            format!(
                "---\napiVersion: v1\nkind: Service\nmetadata: {{name: gw, namespace: istio-system}}\nspec: {{type: {kind}, selector: {{istio: gw}}}}\n"
            )
        };
        let public = |text: String| {
            let inventory = inventory(&text, false);
            let gateway = inventory.of_kind(GROUP, "Gateway").next().unwrap();
            is_public(&inventory, gateway, &ns_of)
        };
        assert!(!public(format!("{gateway}{}", service("ClusterIP"))));
        let why = |text: String| {
            let inventory = inventory(&text, false);
            let gateway = inventory.of_kind(GROUP, "Gateway").next().unwrap();
            publicity(&inventory, gateway, &ns_of).why
        };
        assert_eq!(
            why(format!("{gateway}{}", service("ClusterIP"))),
            "deployed on Service istio-system/gw, which is not exposed"
        );
        assert_eq!(
            why(format!("{gateway}{}", service("NodePort"))),
            "deployed on Service istio-system/gw, reachable from every node's address"
        );
        assert!(public(format!("{gateway}{}", service("LoadBalancer"))));
        assert!(
            public(gateway.to_string()),
            "the Service is not in the input"
        );
        let other_class = gateway.replace("istio\n", "eg\n");
        assert!(public(format!("{other_class}{}", service("ClusterIP"))));
        // From manifests, a Service of another directory does not vouch for the Gateway.
        let dir = std::env::temp_dir().join(format!("palisade-gateway-{}", std::process::id()));
        for (path, text) in [
            ("a/g.yaml", gateway.to_string()),
            ("b/s.yaml", service("ClusterIP")),
        ] {
            std::fs::create_dir_all(dir.join(path).parent().unwrap()).unwrap();
            std::fs::write(dir.join(path), text).unwrap();
        }
        let loaded = palisade_inventory::load(
            &[palisade_inventory::Input::Path(dir.clone())],
            &palisade_inventory::LoadOptions::default(),
        );
        let _ = std::fs::remove_dir_all(&dir);
        let apart = loaded.inventory;
        let g = apart.of_kind(GROUP, "Gateway").next().unwrap();
        assert_eq!(apart.of_kind("", "Service").count(), 1);
        assert!(is_public(&apart, g, &ns_of));
    }

    #[test]
    fn publicity_reads_every_parameters_kind() {
        for parameters in palisade_k8s::exposure::GATEWAY_PARAMETERS {
            let kind = (parameters.group, parameters.kind);
            assert!(PUBLICITY_READS.contains(&kind), "{kind:?}");
        }
    }

    #[test]
    fn an_internal_gateway_attaches_without_exposing() {
        let internal = GATEWAY.replace("istio", "gke-l7-rilb");
        let text = format!(
            "{internal}{}",
            route(
                "TCPRoute",
                "{name: public, namespace: infra}",
                "{name: db, port: 5432}"
            )
        );
        let inventory = inventory(&text, false);
        let found = attachment(&inventory, route_of(&inventory, "TCPRoute"), &ns_of).unwrap();
        assert!(!found.external);
    }

    #[test]
    fn backends_are_services_weighted_above_zero_mirrors_included_and_granted_across_namespaces() {
        let text = route(
            "HTTPRoute",
            "{name: public, namespace: infra}",
            "{name: web, port: 80}, {name: canary, port: 80, weight: 0}, {name: bucket, kind: Bucket, group: example.com}, {name: api, namespace: backend, port: 8080}",
        ) + "    filters:\n    - {type: RequestMirror, requestMirror: {backendRef: {name: shadow, port: 80}}}\n";
        let names = |inventory: &Inventory| -> Vec<(String, String, Option<u16>, bool)> {
            backends(inventory, route_of(inventory, "HTTPRoute"), &ns_of)
                .into_iter()
                .map(|b| (b.namespace, b.name.to_string(), b.port, b.unsure.is_some()))
                .collect()
        };
        let manifests = inventory(&text, false);
        assert_eq!(
            names(&manifests),
            [
                ("shop".into(), "shadow".into(), Some(80), false),
                ("shop".into(), "web".into(), Some(80), false),
                ("backend".into(), "api".into(), Some(8080), true),
            ]
        );
        // A whole cluster without a grant: the reference is refused.
        let cluster = inventory(&text, true);
        assert_eq!(names(&cluster).len(), 2);
        let grant = "---\napiVersion: gateway.networking.k8s.io/v1beta1\nkind: ReferenceGrant\nmetadata: {name: g, namespace: backend}\nspec:\n  from: [{group: gateway.networking.k8s.io, kind: HTTPRoute, namespace: shop}]\n  to: [{group: '', kind: Service}]\n";
        let granted = inventory(&format!("{text}{grant}"), true);
        assert_eq!(
            names(&granted)[2],
            ("backend".into(), "api".into(), Some(8080), false)
        );
    }
}
