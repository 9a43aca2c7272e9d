//! Whether a Service is reachable from outside the cluster, answered once for the rules and
//! the attack-path graph.

use palisade_core::tree::Tree as _;
use serde_json::Value;

/// Annotations by which cloud providers make a LoadBalancer internal (reachable only from the
/// VPC or VNet), with the values that mean "internal".
pub const INTERNAL_LB_ANNOTATIONS: &[(&str, &[&str])] = &[
    (
        "networking.gke.io/load-balancer-type",
        &["Internal", "internal"],
    ),
    (
        "cloud.google.com/load-balancer-type",
        &["Internal", "internal"],
    ),
    (
        "service.beta.kubernetes.io/aws-load-balancer-internal",
        &["true", "0.0.0.0/0"],
    ),
    (
        "service.beta.kubernetes.io/aws-load-balancer-scheme",
        &["internal"],
    ),
    (
        "service.beta.kubernetes.io/azure-load-balancer-internal",
        &["true"],
    ),
    (
        "service.beta.kubernetes.io/oci-load-balancer-internal",
        &["true"],
    ),
    (
        "service.beta.kubernetes.io/openstack-internal-load-balancer",
        &["true"],
    ),
    (
        "service.kubernetes.io/ibm-load-balancer-cloud-provider-ip-type",
        &["private"],
    ),
];

/// How a Service is published outside the cluster.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Exposure {
    /// Type `LoadBalancer` without an annotation that makes the load balancer internal.
    PublicLoadBalancer,
    /// Type `NodePort`: the port is open on every node's address.
    NodePort,
    /// `spec.externalIPs`: addresses routed to the Service by the nodes.
    ExternalIps,
}

impl Exposure {
    /// Where the Service can be reached from, for a message.
    pub fn reach(self) -> &'static str {
        match self {
            Exposure::PublicLoadBalancer => "a public load balancer",
            Exposure::NodePort => "every node's address",
            Exposure::ExternalIps => "its external IPs",
        }
    }
}

/// How `service` (a Service object) is reachable from outside the cluster, if it is: its
/// type first (a public load balancer, a node port), then external IPs. A `LoadBalancer` that
/// a cloud annotation makes internal is reachable only from the private network, and so not
/// exposed by its type.
pub fn service_exposure(service: &Value) -> Option<Exposure> {
    let spec = service.get("spec");
    let service_type = spec.and_then(|s| s.get("type")).and_then(Value::as_str);
    match service_type {
        Some("LoadBalancer") if !is_internal_load_balancer(service) => {
            return Some(Exposure::PublicLoadBalancer);
        }
        Some("NodePort") => return Some(Exposure::NodePort),
        _ => {}
    }
    spec.and_then(|s| s.get("externalIPs"))
        .and_then(Value::as_array)
        .is_some_and(|ips| !ips.is_empty())
        .then_some(Exposure::ExternalIps)
}

/// Whether a cloud annotation makes `service`'s load balancer internal.
pub fn is_internal_load_balancer(service: &Value) -> bool {
    internal_load_balancer_annotation(service).is_some()
}

/// The cloud annotation that makes `service`'s load balancer internal, as `KEY: VALUE`.
pub fn internal_load_balancer_annotation(service: &Value) -> Option<String> {
    service
        .at("/metadata/annotations")
        .and_then(internal_annotation)
}

/// Whether `annotations` (an object of annotations) hold one of [`INTERNAL_LB_ANNOTATIONS`]
/// with a value that means "internal".
fn annotations_make_internal(annotations: &Value) -> bool {
    internal_annotation(annotations).is_some()
}

/// The first of [`INTERNAL_LB_ANNOTATIONS`] that `annotations` hold with a value that means
/// "internal", as `KEY: VALUE`.
fn internal_annotation(annotations: &Value) -> Option<String> {
    let annotations = annotations.as_object()?;
    INTERNAL_LB_ANNOTATIONS.iter().find_map(|(key, values)| {
        let value = annotations.get(*key).and_then(Value::as_str)?;
        values.contains(&value).then(|| format!("{key}: {value}"))
    })
}

/// GatewayClasses whose load balancers are internal by design (GKE's regional and
/// cross-regional internal Application Load Balancers).
pub const INTERNAL_GATEWAY_CLASSES: &[&str] = &[
    "gke-l7-rilb",
    "gke-l7-rilb-mc",
    "gke-l7-cross-regional-internal-managed",
    "gke-l7-cross-regional-internal-managed-mc",
];

/// Whether a Gateway API `Gateway` is reachable only from the private network: its class is
/// an internal one ([`INTERNAL_GATEWAY_CLASSES`]), a cloud annotation on the Gateway or in
/// `spec.infrastructure.annotations` (copied to the Service its implementation creates) makes
/// its load balancer internal, or Istio is told to give it a `ClusterIP` Service
/// (`networking.istio.io/service-type`). Any other Gateway is taken as public, as an
/// Ingress is: where the input does not say, the exposure stays.
pub fn is_internal_gateway(gateway: &Value) -> bool {
    internal_gateway_reason(gateway).is_some()
}

/// Why [`is_internal_gateway`] says a Gateway is internal: its class, or the annotation
/// (`KEY: VALUE`, on the Gateway or in `spec.infrastructure.annotations`).
pub fn internal_gateway_reason(gateway: &Value) -> Option<String> {
    let class = gateway.at("/spec/gatewayClassName").and_then(Value::as_str);
    if let Some(class) = class.filter(|c| INTERNAL_GATEWAY_CLASSES.contains(c)) {
        return Some(format!("its class {class} makes internal load balancers"));
    }
    let istio_cluster_ip = |annotations: &Value| {
        let key = "networking.istio.io/service-type";
        (annotations.get(key).and_then(Value::as_str) == Some("ClusterIP"))
            .then(|| format!("{key}: ClusterIP"))
    };
    ["/metadata/annotations", "/spec/infrastructure/annotations"]
        .iter()
        .filter_map(|path| Some((*path, gateway.at(path)?)))
        .find_map(|(path, annotations)| {
            let found =
                internal_annotation(annotations).or_else(|| istio_cluster_ip(annotations))?;
            Some(match path {
                "/metadata/annotations" => format!("annotation {found}"),
                _ => format!("infrastructure annotation {found}"),
            })
        })
}

/// Where a Gateway API implementation's parameters object (a `GatewayClass`'s
/// `spec.parametersRef`, a `Gateway`'s `spec.infrastructure.parametersRef`) sets the Service
/// it creates for each Gateway.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct GatewayParameters {
    pub group: &'static str,
    pub kind: &'static str,
    /// The Service's type (a JSON pointer).
    pub service_type: &'static str,
    /// The values of that type that keep the Service inside the cluster.
    pub cluster_internal: &'static [&'static str],
    /// The value that asks for a load balancer, which annotations may make internal.
    pub load_balancer: &'static str,
    /// The Service's annotations (a JSON pointer).
    pub annotations: &'static str,
}

/// The parameters objects whose Service settings Palisade reads: Contour's
/// `ContourDeployment` and Envoy Gateway's `EnvoyProxy`. Each implementation's default is a
/// LoadBalancer Service, so a Gateway whose parameters say nothing of it stays public.
pub const GATEWAY_PARAMETERS: &[GatewayParameters] = &[
    GatewayParameters {
        group: "projectcontour.io",
        kind: "ContourDeployment",
        service_type: "/spec/envoy/networkPublishing/type",
        cluster_internal: &["ClusterIPService"],
        load_balancer: "LoadBalancerService",
        annotations: "/spec/envoy/networkPublishing/serviceAnnotations",
    },
    GatewayParameters {
        group: "gateway.envoyproxy.io",
        kind: "EnvoyProxy",
        service_type: "/spec/provider/kubernetes/envoyService/type",
        cluster_internal: &["ClusterIP"],
        load_balancer: "LoadBalancer",
        annotations: "/spec/provider/kubernetes/envoyService/annotations",
    },
];

/// What `parameters`, an object of `group`/`kind`, says of the Service its implementation
/// creates for a Gateway: `Some(true)` when the Service stays inside the cluster (a
/// cluster-internal type, or a load balancer that a cloud annotation makes internal),
/// `Some(false)` when it is reachable from outside (another type it names), `None` when it
/// says nothing of the Service or is not a kind of [`GATEWAY_PARAMETERS`].
pub fn gateway_parameters_internal(group: &str, kind: &str, parameters: &Value) -> Option<bool> {
    let known = GATEWAY_PARAMETERS
        .iter()
        .find(|p| p.group == group && p.kind == kind)?;
    let service_type = parameters.at(known.service_type).and_then(Value::as_str);
    if service_type.is_some_and(|t| known.cluster_internal.contains(&t)) {
        return Some(true);
    }
    let load_balancer = service_type.is_none_or(|t| t == known.load_balancer);
    if load_balancer
        && parameters
            .at(known.annotations)
            .is_some_and(annotations_make_internal)
    {
        return Some(true);
    }
    service_type.map(|_| false)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn service(spec: Value, annotations: Value) -> Value {
        json!({"apiVersion": "v1", "kind": "Service",
               "metadata": {"name": "s", "annotations": annotations}, "spec": spec})
    }

    #[test]
    fn a_gateway_is_internal_by_its_class_or_its_load_balancer_annotations() {
        let gateway = |spec: Value, annotations: Value| {
            json!({"apiVersion": "gateway.networking.k8s.io/v1", "kind": "Gateway",
                   "metadata": {"name": "g", "annotations": annotations}, "spec": spec})
        };
        assert!(!is_internal_gateway(&gateway(
            json!({"gatewayClassName": "istio"}),
            json!({})
        )));
        assert!(is_internal_gateway(&gateway(
            json!({"gatewayClassName": "gke-l7-rilb"}),
            json!({})
        )));
        assert!(is_internal_gateway(&gateway(
            json!({"gatewayClassName": "eg", "infrastructure": {"annotations":
                {"service.beta.kubernetes.io/aws-load-balancer-scheme": "internal"}}}),
            json!({})
        )));
        assert!(is_internal_gateway(&gateway(
            json!({"gatewayClassName": "istio"}),
            json!({"networking.istio.io/service-type": "ClusterIP"})
        )));
        assert!(!is_internal_gateway(&gateway(
            json!({"gatewayClassName": "istio"}),
            json!({"networking.istio.io/service-type": "LoadBalancer"})
        )));
    }

    #[test]
    fn gateway_parameters_say_whether_the_gateway_service_stays_inside_the_cluster() {
        let contour = |publishing: Value| {
            gateway_parameters_internal(
                "projectcontour.io",
                "ContourDeployment",
                &json!({"spec": {"envoy": {"networkPublishing": publishing}}}),
            )
        };
        assert_eq!(contour(json!({"type": "ClusterIPService"})), Some(true));
        assert_eq!(contour(json!({"type": "NodePortService"})), Some(false));
        assert_eq!(contour(json!({"type": "LoadBalancerService"})), Some(false));
        assert_eq!(contour(json!({})), None);
        let internal = json!({"service.beta.kubernetes.io/azure-load-balancer-internal": "true"});
        assert_eq!(
            contour(json!({"serviceAnnotations": internal.clone()})),
            Some(true)
        );
        // A node port is on every node's address, whatever the load-balancer annotations say.
        assert_eq!(
            contour(json!({"type": "NodePortService", "serviceAnnotations": internal})),
            Some(false)
        );
        let envoy = |service: Value| {
            gateway_parameters_internal(
                "gateway.envoyproxy.io",
                "EnvoyProxy",
                &json!({"spec": {"provider": {"type": "Kubernetes", "kubernetes": {"envoyService": service}}}}),
            )
        };
        assert_eq!(envoy(json!({"type": "ClusterIP"})), Some(true));
        assert_eq!(envoy(json!({"type": "LoadBalancer"})), Some(false));
        assert_eq!(
            envoy(json!({"annotations": {"networking.gke.io/load-balancer-type": "Internal"}})),
            Some(true)
        );
        // Another kind, or the right fields under another kind: nothing is said.
        assert_eq!(
            gateway_parameters_internal(
                "example.com",
                "EnvoyProxy",
                &json!({"spec": {"provider": {"kubernetes": {"envoyService": {"type": "ClusterIP"}}}}})
            ),
            None
        );
    }

    #[test]
    fn internal_load_balancers_are_not_exposed_by_their_type() {
        let internal = json!({"networking.gke.io/load-balancer-type": "Internal"});
        assert_eq!(
            service_exposure(&service(json!({"type": "LoadBalancer"}), json!({}))),
            Some(Exposure::PublicLoadBalancer)
        );
        assert_eq!(
            service_exposure(&service(json!({"type": "LoadBalancer"}), internal.clone())),
            None
        );
        assert_eq!(
            service_exposure(&service(
                json!({"type": "LoadBalancer", "externalIPs": ["1.2.3.4"]}),
                internal
            )),
            Some(Exposure::ExternalIps)
        );
        assert_eq!(
            service_exposure(&service(json!({"type": "NodePort"}), json!({}))),
            Some(Exposure::NodePort)
        );
        assert_eq!(service_exposure(&service(json!({}), json!({}))), None);
    }
}
