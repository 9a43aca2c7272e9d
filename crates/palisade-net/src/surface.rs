//! The ways into the cluster from outside, each with why it is reachable from outside or
//! not, the workloads behind it, and what their ingress policies let in: `palisade net
//! exposure`, the attack surface the escalation graph starts its chains from.
//!
//! A way in is a Service exposed by its type (a public load balancer, a node port, external
//! IPs), or an Ingress, OpenShift Route, Gateway API route or ingress-nginx TCP or UDP
//! service opening a Service to the ingress controller ([`crate::exposure::doors`]). Those that stay inside the cluster are listed too,
//! with why: a load balancer an annotation makes internal, a route of an internal Gateway
//! ([`crate::gateway::publicity`]).

use palisade_core::tree::Tree as _;
use palisade_inventory::Inventory;
use serde::Serialize;
use serde_json::Value;

use crate::Engine;
use crate::model::Placer;

/// One way in.
#[derive(Debug, Clone, Serialize)]
pub struct WayIn {
    /// What opens it: `Service shop/web (LoadBalancer)`, `Ingress shop/web → Service web`.
    pub via: String,
    /// Whether traffic comes through it from outside the cluster.
    pub outside: bool,
    /// From where, and why (internal: why it stays inside).
    pub reach: String,
    /// The workloads the Service sends traffic to.
    pub behind: Vec<Behind>,
}

/// A workload behind a way in.
#[derive(Debug, Clone, Serialize)]
pub struct Behind {
    /// `Deployment shop/web`.
    pub workload: String,
    /// For a way in from outside: what its ingress policies let in from outside the cluster
    /// and from the ingress controller (`TCP 8080`; empty: nothing).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub lets_in: Option<String>,
    /// `false` when that answer depends on what the input does not give.
    #[serde(rename = "final", skip_serializing_if = "Option::is_none")]
    pub is_final: Option<bool>,
    /// Why it is not final.
    #[serde(skip_serializing_if = "String::is_empty")]
    pub notes: String,
}

/// Every way in of the engine's network, Services by type first, then Ingresses, Routes and
/// Gateway API routes, then (from manifests) the Ray heads KubeRay publishes; only those in
/// `namespace` when one is given.
pub fn ways_in(engine: &Engine, inventory: &Inventory, namespace: Option<&str>) -> Vec<WayIn> {
    let net = &engine.net;
    let placer = Placer {
        inventory,
        placement: net.placement,
    };
    let selected = |ns: &str, name: &str| -> Vec<usize> {
        net.services
            .iter()
            .find(|s| s.namespace == ns && s.name == name)
            .map(|s| s.selected.clone())
            .unwrap_or_default()
    };
    let wanted = |ns: &str| namespace.is_none_or(|n| n == ns);
    let mut out = Vec::new();
    for service in inventory.of_kind("", "Service") {
        let ns = placer.namespace(service);
        let name = service.id.display_name();
        if !wanted(&ns) {
            continue;
        }
        let kind = service
            .value
            .at("/spec/type")
            .and_then(Value::as_str)
            .unwrap_or("ClusterIP");
        let (outside, reach) = match palisade_k8s::service_exposure(&service.value) {
            Some(exposure) => (true, service_reach(exposure, &service.value)),
            None => match palisade_k8s::exposure::internal_load_balancer_reason(&service.value) {
                Some(reason) if kind == "LoadBalancer" => (false, format!("inside only: {reason}")),
                _ => continue,
            },
        };
        out.push(way(
            engine,
            format!("Service {ns}/{name} ({kind})"),
            outside,
            reach,
            &selected(&ns, name),
        ));
    }
    let mut seen: Vec<(String, String, String)> = Vec::new();
    for door in crate::exposure::doors(inventory, &|o| placer.namespace(o)) {
        if !wanted(&door.namespace) {
            continue;
        }
        let key = (
            door.via.clone(),
            door.namespace.clone(),
            door.service.to_string(),
        );
        if seen.contains(&key) {
            continue;
        }
        seen.push(key);
        let reach = match door.external {
            true => door.reach.clone(),
            false => format!("inside only: {}", door.reach),
        };
        out.push(way(
            engine,
            format!("{} → Service {}/{}", door.via, door.namespace, door.service),
            door.external,
            reach,
            &selected(&door.namespace, door.service),
        ));
    }
    out.extend(published_ray_heads(engine, inventory, &wanted));
    out.extend(published_eck_http(engine, inventory, &wanted, &selected));
    out
}

/// From manifests, the HTTP Services ECK makes that their type publishes
/// (`spec.http.service`), each in front of its cluster's node sets. In a cluster read the
/// Service is one of its own, listed with the others.
fn published_eck_http(
    engine: &Engine,
    inventory: &Inventory,
    wanted: &dyn Fn(&str) -> bool,
    selected: &dyn Fn(&str, &str) -> Vec<usize>,
) -> Vec<WayIn> {
    let net = &engine.net;
    let placer = Placer {
        inventory,
        placement: net.placement,
    };
    let ns_of = |o: &palisade_inventory::Object| placer.namespace(o);
    let (group, kind) = palisade_k8s::eck::ELASTICSEARCH;
    let mut out = Vec::new();
    for object in inventory.of_kind(group, kind) {
        let namespace = ns_of(object);
        let Some(http) = crate::exposure::eck_http_service(inventory, object, &ns_of) else {
            continue;
        };
        let (Some((exposure, field)), true) = (&http.published, wanted(&namespace)) else {
            continue;
        };
        let via = format!(
            "{kind} {namespace}/{}: the HTTP Service ECK makes, {} ({})",
            object.id.display_name(),
            http.name,
            field.dotted()
        );
        let reach = format!("from {}", exposure.reach());
        // The network's Service selects the node sets it knows; none known, none made.
        let behind = selected(&namespace, &http.name);
        if behind.is_empty() {
            continue;
        }
        out.push(way(engine, via, true, reach, &behind));
    }
    out
}

/// From manifests, the Ray heads KubeRay publishes (`palisade_k8s::ray`: the head service by
/// its type, the operator's Ingress), each in front of its head template's endpoint. In a
/// cluster read the head service is a Service of its own, listed above.
fn published_ray_heads(
    engine: &Engine,
    inventory: &Inventory,
    wanted: &dyn Fn(&str) -> bool,
) -> Vec<WayIn> {
    let net = &engine.net;
    let mut out = Vec::new();
    for (index, object, cluster) in crate::exposure::ray_clusters(inventory) {
        let head = cluster.head_pod_spec();
        let Some(endpoint) = net
            .endpoints
            .iter()
            .position(|e| e.object == index && e.template_spec() == Some(head.as_str()))
        else {
            continue;
        };
        if !wanted(&net.endpoints[endpoint].namespace) {
            continue;
        }
        let name = format!(
            "{} {}/{}",
            object.id.kind,
            net.endpoints[endpoint].namespace,
            object.id.display_name()
        );
        for published in cluster.published() {
            let (via, reach) = match &published {
                palisade_k8s::ray::HeadPublished::Service(exposure, field) => (
                    format!(
                        "{name}: the head service KubeRay makes ({})",
                        field.dotted()
                    ),
                    format!("from {}", exposure.reach()),
                ),
                palisade_k8s::ray::HeadPublished::Ingress(field) => (
                    format!("{name}: the Ingress KubeRay makes ({})", field.dotted()),
                    "from the ingress controller".to_string(),
                ),
            };
            out.push(way(engine, via, true, reach, &[endpoint]));
        }
    }
    out
}

/// A way in with the workloads of `endpoints` behind it, and for one from outside what each
/// lets in.
fn way(engine: &Engine, via: String, outside: bool, reach: String, endpoints: &[usize]) -> WayIn {
    let behind = endpoints
        .iter()
        .map(|&e| {
            let endpoint = &engine.net.endpoints[e];
            let workload = format!("{} {}/{}", endpoint.kind, endpoint.namespace, endpoint.name);
            if !outside {
                return Behind {
                    workload,
                    lets_in: None,
                    is_final: None,
                    notes: String::new(),
                };
            }
            let verdict = engine.from_outside(e);
            Behind {
                workload,
                lets_in: Some(verdict.conn.to_string()),
                is_final: Some(verdict.not_evaluated.is_empty()),
                notes: verdict.notes(),
            }
        })
        .collect();
    WayIn {
        via,
        outside,
        reach,
        behind,
    }
}

/// Where an exposed Service is reached from: `from a public load balancer, only from
/// 203.0.113.0/24 (spec.loadBalancerSourceRanges)` where source ranges restrict it.
fn service_reach(exposure: palisade_k8s::Exposure, service: &Value) -> String {
    let reach = format!("from {}", exposure.reach());
    match palisade_k8s::exposure::load_balancer_source_ranges(service) {
        Some(ranges) if exposure == palisade_k8s::Exposure::PublicLoadBalancer => {
            format!("{reach}, {}", ranges.describe())
        }
        _ => reach,
    }
}
