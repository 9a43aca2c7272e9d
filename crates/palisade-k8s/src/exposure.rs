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
/// a cloud annotation makes internal, or whose source ranges admit only private addresses
/// ([`internal_load_balancer_reason`]), is reachable only from the private network, and so
/// not exposed by its type.
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

/// Whether `service`'s load balancer is reachable from the private network alone
/// ([`internal_load_balancer_reason`]).
pub fn is_internal_load_balancer(service: &Value) -> bool {
    internal_load_balancer_reason(service).is_some()
}

/// Why `service`'s load balancer is reachable from the private network alone, for a message:
/// a cloud annotation makes it internal (`an internal load balancer (KEY: VALUE)`), or its
/// source ranges admit only private addresses ([`load_balancer_source_ranges`]).
pub fn internal_load_balancer_reason(service: &Value) -> Option<String> {
    if let Some(annotation) = service
        .at("/metadata/annotations")
        .and_then(internal_annotation)
    {
        return Some(format!("an internal load balancer ({annotation})"));
    }
    load_balancer_source_ranges(service)?.only_private("a load balancer")
}

/// The annotation by which a Service gave its load balancer's source ranges before
/// `spec.loadBalancerSourceRanges` existed (comma-separated); the field wins when both are set.
pub const SOURCE_RANGES_ANNOTATION: &str = "service.beta.kubernetes.io/load-balancer-source-ranges";

/// The addresses a load balancer's firewall admits, where they are restricted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SourceRanges {
    /// The CIDRs as written.
    pub ranges: Vec<String>,
    /// What sets them, for a message (`spec.loadBalancerSourceRanges`, `annotation KEY`).
    pub set_by: String,
    /// Whether every range is one the internet cannot send from
    /// ([`palisade_core::addr::AddrRange::is_private`]).
    pub private_only: bool,
}

impl SourceRanges {
    /// The restriction `ranges` make: `None` when they are empty (every address is admitted),
    /// when one admits every address (`0.0.0.0/0`, `::/0`), or when one is not a CIDR (the API
    /// server and the cloud controllers refuse such a list, so it restricts nothing known).
    pub fn of<'r>(ranges: impl IntoIterator<Item = &'r str>, set_by: &str) -> Option<SourceRanges> {
        let mut written = Vec::new();
        let mut private_only = true;
        for text in ranges {
            let text = text.trim();
            if text.is_empty() {
                continue;
            }
            let range = palisade_core::addr::AddrRange::parse_cidr(text).ok()?;
            if range.prefix() == Some(0) {
                return None;
            }
            private_only &= range.is_private();
            written.push(text.to_string());
        }
        (!written.is_empty()).then(|| SourceRanges {
            ranges: written,
            set_by: set_by.to_string(),
            private_only,
        })
    }

    /// Why `what` (`a load balancer`) is reached from the private network alone, when every
    /// range is private: `a load balancer that admits only private addresses
    /// (spec.loadBalancerSourceRanges: 10.0.0.0/8)`.
    pub fn only_private(&self, what: &str) -> Option<String> {
        self.private_only.then(|| {
            format!(
                "{what} that admits only private addresses ({}: {})",
                self.set_by,
                self.ranges.join(", ")
            )
        })
    }

    /// Where traffic may come from, for a message: `only from 203.0.113.0/24 (spec.loadBalancerSourceRanges)`.
    pub fn describe(&self) -> String {
        format!("only from {} ({})", self.ranges.join(", "), self.set_by)
    }
}

/// The source ranges of a `LoadBalancer` Service: `spec.loadBalancerSourceRanges`, else the
/// older annotation ([`SOURCE_RANGES_ANNOTATION`]). `None` for another type, or where they
/// restrict nothing ([`SourceRanges::of`]).
pub fn load_balancer_source_ranges(service: &Value) -> Option<SourceRanges> {
    if service.at("/spec/type").and_then(Value::as_str) != Some("LoadBalancer") {
        return None;
    }
    let field = service
        .at("/spec/loadBalancerSourceRanges")
        .and_then(Value::as_array)
        .filter(|ranges| !ranges.is_empty());
    if let Some(field) = field {
        // A list with an entry that is not a string is one the API server refuses.
        let texts: Option<Vec<&str>> = field.iter().map(Value::as_str).collect();
        return SourceRanges::of(texts?, "spec.loadBalancerSourceRanges");
    }
    let annotation = service
        .at("/metadata/annotations")
        .and_then(|a| a.get(SOURCE_RANGES_ANNOTATION))
        .and_then(Value::as_str)?;
    SourceRanges::of(
        annotation.split(','),
        &format!("annotation {SOURCE_RANGES_ANNOTATION}"),
    )
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
            let private_ranges = || {
                let text = annotations.get(SOURCE_RANGES_ANNOTATION)?.as_str()?;
                let ranges = SourceRanges::of(text.split(','), SOURCE_RANGES_ANNOTATION)?;
                ranges.private_only.then(|| {
                    format!(
                        "{SOURCE_RANGES_ANNOTATION}: {} (only private addresses)",
                        ranges.ranges.join(", ")
                    )
                })
            };
            let found = internal_annotation(annotations)
                .or_else(|| istio_cluster_ip(annotations))
                .or_else(private_ranges)?;
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
    /// Where the Service's settings are written: in the object itself (`None`), or as a YAML
    /// document in one of its text fields (a JSON pointer: Istio's ConfigMap `data.service`,
    /// a patch of the Service), which the caller parses. The pointers below are read in
    /// what this gives.
    pub embedded: Option<&'static str>,
    /// The Service's type, or the load balancer's scheme where the implementation makes the
    /// load balancer itself (a JSON pointer).
    pub service_type: &'static str,
    /// The values of that setting that keep the Gateway inside the cluster (or the private
    /// network).
    pub cluster_internal: &'static [&'static str],
    /// The value that asks for a load balancer, which annotations may make internal.
    pub load_balancer: &'static str,
    /// The Service's annotations (a JSON pointer), where the parameters set them.
    pub annotations: Option<&'static str>,
    /// What the implementation makes for each Gateway.
    pub creates: Creates,
    /// Where both the GatewayClass's and the Gateway's parameters set it: `None` when the
    /// Gateway's own win; else the class's win unless the class's parameters hold this value
    /// at this JSON pointer (the AWS Load Balancer Controller's `mergingMode:
    /// prefer-gateway`).
    pub class_wins_unless: Option<(&'static str, &'static str)>,
    /// The load balancer's source ranges (a JSON pointer to a list of CIDRs), where the
    /// parameters have a field for them; else [`SOURCE_RANGES_ANNOTATION`] among the
    /// annotations above says them.
    pub source_ranges: Option<&'static str>,
    /// Settings (JSON pointers) with which the load balancer's firewall is the user's own, so
    /// that what it admits is not known (the AWS controller's security groups and prefix lists).
    pub own_firewall: &'static [&'static str],
}

/// What a Gateway's parameters say of where its Service or load balancer is reached from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ParametersReach {
    /// Inside the cluster or the private network: a cluster-internal type, an internal scheme,
    /// or an annotation that makes the load balancer internal.
    Inside,
    /// A load balancer whose source ranges admit only private addresses.
    PrivateRanges(SourceRanges),
    /// From outside, from the ranges given where they restrict it.
    Outside(Option<SourceRanges>),
}

/// What a Gateway API implementation makes for each Gateway, whose reach its parameters set.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Creates {
    /// A Service, of a type and with annotations.
    Service,
    /// A cloud load balancer, with a scheme.
    LoadBalancer,
}

/// The parameters objects whose Service settings Palisade reads: Contour's
/// `ContourDeployment`, Envoy Gateway's `EnvoyProxy`, NGINX Gateway Fabric's `NginxProxy`,
/// Kong's `GatewayConfiguration` and Istio's ConfigMap, and the scheme of the AWS Load
/// Balancer Controller's `LoadBalancerConfiguration`. A Gateway whose parameters say nothing
/// of it stays public.
pub const GATEWAY_PARAMETERS: &[GatewayParameters] = &[
    GatewayParameters {
        group: "projectcontour.io",
        kind: "ContourDeployment",
        embedded: None,
        service_type: "/spec/envoy/networkPublishing/type",
        cluster_internal: &["ClusterIPService"],
        load_balancer: "LoadBalancerService",
        annotations: Some("/spec/envoy/networkPublishing/serviceAnnotations"),
        creates: Creates::Service,
        class_wins_unless: None,
        source_ranges: None,
        own_firewall: &[],
    },
    GatewayParameters {
        group: "gateway.envoyproxy.io",
        kind: "EnvoyProxy",
        embedded: None,
        service_type: "/spec/provider/kubernetes/envoyService/type",
        cluster_internal: &["ClusterIP"],
        load_balancer: "LoadBalancer",
        annotations: Some("/spec/provider/kubernetes/envoyService/annotations"),
        creates: Creates::Service,
        class_wins_unless: None,
        source_ranges: None,
        own_firewall: &[],
    },
    // Annotations reach NGINX's Service only through patches, which are not read.
    GatewayParameters {
        group: "gateway.nginx.org",
        kind: "NginxProxy",
        embedded: None,
        service_type: "/spec/kubernetes/service/type",
        cluster_internal: &["ClusterIP"],
        load_balancer: "LoadBalancer",
        annotations: None,
        creates: Creates::Service,
        class_wins_unless: None,
        source_ranges: Some("/spec/kubernetes/service/loadBalancerSourceRanges"),
        own_firewall: &[],
    },
    GatewayParameters {
        group: "gateway-operator.konghq.com",
        kind: "GatewayConfiguration",
        embedded: None,
        service_type: "/spec/dataPlaneOptions/network/services/ingress/type",
        cluster_internal: &["ClusterIP"],
        load_balancer: "LoadBalancer",
        annotations: Some("/spec/dataPlaneOptions/network/services/ingress/annotations"),
        creates: Creates::Service,
        class_wins_unless: None,
        source_ranges: None,
        own_firewall: &[],
    },
    GatewayParameters {
        group: "",
        kind: "ConfigMap",
        embedded: Some("/data/service"),
        service_type: "/spec/type",
        cluster_internal: &["ClusterIP"],
        load_balancer: "LoadBalancer",
        annotations: Some("/metadata/annotations"),
        creates: Creates::Service,
        class_wins_unless: None,
        source_ranges: Some("/spec/loadBalancerSourceRanges"),
        own_firewall: &[],
    },
    // The AWS Load Balancer Controller makes the load balancer itself. An unset scheme says
    // nothing: the controller's default is internal unless it is told otherwise.
    GatewayParameters {
        group: "gateway.k8s.aws",
        kind: "LoadBalancerConfiguration",
        embedded: None,
        service_type: "/spec/scheme",
        cluster_internal: &["internal"],
        load_balancer: "internet-facing",
        annotations: None,
        creates: Creates::LoadBalancer,
        class_wins_unless: Some(("/spec/mergingMode", "prefer-gateway")),
        source_ranges: Some("/spec/sourceRanges"),
        own_firewall: &["/spec/securityGroups", "/spec/securityGroupPrefixes"],
    },
];

/// The label that makes an Istio ConfigMap the defaults of the Gateways of a class (its
/// value), read from [`ISTIO_ROOT_NAMESPACE`] only.
pub const ISTIO_CLASS_DEFAULTS_LABEL: &str = "gateway.istio.io/defaults-for-class";

/// Istio's root namespace, as installed by default: where istiod reads the class defaults.
pub const ISTIO_ROOT_NAMESPACE: &str = "istio-system";

/// The entry of [`GATEWAY_PARAMETERS`] for objects of `group`/`kind`.
pub fn gateway_parameters(group: &str, kind: &str) -> Option<&'static GatewayParameters> {
    GATEWAY_PARAMETERS
        .iter()
        .find(|p| p.group == group && p.kind == kind)
}

impl GatewayParameters {
    /// What `settings` (the parameters object, or the document [`GatewayParameters::embedded`]
    /// holds) say of the Service the implementation creates for a Gateway: `Some(true)` when
    /// it stays inside the cluster (a cluster-internal type, or a load balancer that a cloud
    /// annotation makes internal), `Some(false)` when it is reachable from outside (another
    /// type they name), `None` when they say nothing of it.
    pub fn internal(&self, settings: &Value) -> Option<bool> {
        self.reach(settings)
            .map(|reach| !matches!(reach, ParametersReach::Outside(_)))
    }

    /// [`GatewayParameters::internal`], with the source ranges: a load balancer whose ranges
    /// admit only private addresses is reached from inside only; public ranges are said with
    /// the type that publishes it. `None` when the settings say nothing of the type, the
    /// annotations or private ranges.
    pub fn reach(&self, settings: &Value) -> Option<ParametersReach> {
        let service_type = settings.at(self.service_type).and_then(Value::as_str);
        if service_type.is_some_and(|t| self.cluster_internal.contains(&t)) {
            return Some(ParametersReach::Inside);
        }
        let load_balancer = service_type.is_none_or(|t| t == self.load_balancer);
        let annotations = self.annotations.and_then(|pointer| settings.at(pointer));
        if load_balancer && annotations.is_some_and(annotations_make_internal) {
            return Some(ParametersReach::Inside);
        }
        let ranges = load_balancer
            .then(|| self.source_ranges_in(settings, annotations))
            .flatten();
        match ranges {
            Some(ranges) if ranges.private_only => Some(ParametersReach::PrivateRanges(ranges)),
            ranges => service_type.map(|_| ParametersReach::Outside(ranges)),
        }
    }

    /// The source ranges `settings` give the load balancer: the field, else the annotation;
    /// none where the firewall is the user's own.
    fn source_ranges_in(
        &self,
        settings: &Value,
        annotations: Option<&Value>,
    ) -> Option<SourceRanges> {
        // A setting that is there: not null, and not an empty list.
        let set = |pointer: &str| {
            settings
                .at(pointer)
                .filter(|v| !matches!(v, Value::Null) && v.as_array().is_none_or(|a| !a.is_empty()))
        };
        if self.own_firewall.iter().any(|p| set(p).is_some()) {
            return None;
        }
        if let Some((pointer, list)) = self.source_ranges.and_then(|p| Some((p, set(p)?))) {
            // A list with an entry that is not a string is one the implementation refuses.
            let texts: Option<Vec<&str>> = list.as_array()?.iter().map(Value::as_str).collect();
            let field = pointer.rsplit('/').next().unwrap_or(pointer);
            return SourceRanges::of(texts?, field);
        }
        let text = annotations?.get(SOURCE_RANGES_ANNOTATION)?.as_str()?;
        SourceRanges::of(
            text.split(','),
            &format!("annotation {SOURCE_RANGES_ANNOTATION}"),
        )
    }
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

    /// What the parameters object of `group`/`kind` whose settings are `settings` says.
    fn parameters_say(group: &str, kind: &str, settings: Value) -> Option<bool> {
        gateway_parameters(group, kind)?.internal(&settings)
    }

    #[test]
    fn gateway_parameters_say_whether_the_gateway_service_stays_inside_the_cluster() {
        let contour = |publishing: Value| {
            parameters_say(
                "projectcontour.io",
                "ContourDeployment",
                json!({"spec": {"envoy": {"networkPublishing": publishing}}}),
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
            parameters_say(
                "gateway.envoyproxy.io",
                "EnvoyProxy",
                json!({"spec": {"provider": {"type": "Kubernetes", "kubernetes": {"envoyService": service}}}}),
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
            parameters_say(
                "example.com",
                "EnvoyProxy",
                json!({"spec": {"provider": {"kubernetes": {"envoyService": {"type": "ClusterIP"}}}}})
            ),
            None
        );
    }

    #[test]
    fn nginx_kong_and_istio_parameters_are_read_where_each_writes_the_service() {
        let nginx = |service: Value| {
            parameters_say(
                "gateway.nginx.org",
                "NginxProxy",
                json!({"spec": {"kubernetes": {"service": service}}}),
            )
        };
        assert_eq!(nginx(json!({"type": "ClusterIP"})), Some(true));
        assert_eq!(nginx(json!({"type": "NodePort"})), Some(false));
        assert_eq!(nginx(json!({"externalTrafficPolicy": "Local"})), None);
        let kong = |ingress: Value| {
            parameters_say(
                "gateway-operator.konghq.com",
                "GatewayConfiguration",
                json!({"spec": {"dataPlaneOptions": {"network": {"services": {"ingress": ingress}}}}}),
            )
        };
        assert_eq!(kong(json!({"type": "ClusterIP"})), Some(true));
        assert_eq!(kong(json!({"type": "LoadBalancer"})), Some(false));
        assert_eq!(
            kong(
                json!({"annotations": {"service.beta.kubernetes.io/aws-load-balancer-scheme": "internal"}})
            ),
            Some(true)
        );
        // Istio's ConfigMap: read in the Service patch its `service` key holds.
        let istio = gateway_parameters("", "ConfigMap").unwrap();
        assert_eq!(istio.embedded, Some("/data/service"));
        assert_eq!(
            istio.internal(&json!({"spec": {"type": "ClusterIP"}})),
            Some(true)
        );
        assert_eq!(
            istio.internal(&json!({"metadata": {"annotations": {"networking.gke.io/load-balancer-type": "Internal"}}})),
            Some(true)
        );
        assert_eq!(
            istio.internal(&json!({"spec": {"type": "NodePort"}})),
            Some(false)
        );
    }

    #[test]
    fn gateway_parameters_read_the_load_balancer_source_ranges() {
        let reach = |group: &str, kind: &str, settings: Value| {
            gateway_parameters(group, kind).unwrap().reach(&settings)
        };
        let private = |reach: Option<ParametersReach>| matches!(reach, Some(ParametersReach::PrivateRanges(r)) if r.private_only);
        let nginx = |service: Value| {
            reach(
                "gateway.nginx.org",
                "NginxProxy",
                json!({"spec": {"kubernetes": {"service": service}}}),
            )
        };
        assert!(private(nginx(
            json!({"loadBalancerSourceRanges": ["10.0.0.0/8"]})
        )));
        // A cluster-internal type decides before any range; NodePort has no source ranges.
        assert_eq!(
            nginx(json!({"type": "ClusterIP", "loadBalancerSourceRanges": ["203.0.113.0/24"]})),
            Some(ParametersReach::Inside)
        );
        assert_eq!(
            nginx(json!({"type": "NodePort", "loadBalancerSourceRanges": ["10.0.0.0/8"]})),
            Some(ParametersReach::Outside(None))
        );
        let Some(ParametersReach::Outside(Some(office))) = nginx(json!({
            "type": "LoadBalancer", "loadBalancerSourceRanges": ["203.0.113.0/24"]
        })) else {
            panic!("public ranges keep the load balancer outside, restricted");
        };
        assert_eq!(office.set_by, "loadBalancerSourceRanges");
        // Public ranges without a type say nothing the type would not.
        assert_eq!(
            nginx(json!({"loadBalancerSourceRanges": ["203.0.113.0/24"]})),
            None
        );
        // Where the parameters carry the Service's annotations, the older annotation counts.
        assert!(private(reach(
            "gateway.envoyproxy.io",
            "EnvoyProxy",
            json!({"spec": {"provider": {"kubernetes": {"envoyService": {
                "annotations": {SOURCE_RANGES_ANNOTATION: "10.0.0.0/8,172.16.0.0/12"}}}}}}),
        )));
        // The AWS controller: its `sourceRanges`, unless a security group of the user's own
        // or a prefix list decides what the load balancer admits.
        let aws = |spec: Value| {
            reach(
                "gateway.k8s.aws",
                "LoadBalancerConfiguration",
                json!({"spec": spec}),
            )
        };
        assert!(private(aws(json!({"sourceRanges": ["10.0.0.0/8"]}))));
        assert_eq!(
            aws(json!({"sourceRanges": ["10.0.0.0/8"], "securityGroups": ["sg-1"]})),
            None
        );
        assert_eq!(
            aws(
                json!({"scheme": "internet-facing", "sourceRanges": ["10.0.0.0/8"],
                       "securityGroupPrefixes": ["pl-1"]})
            ),
            Some(ParametersReach::Outside(None))
        );
        // A Gateway's own infrastructure annotations, which implementations copy to the Service.
        let gateway = json!({"spec": {"gatewayClassName": "eg", "infrastructure": {
            "annotations": {SOURCE_RANGES_ANNOTATION: "192.168.0.0/16"}}}});
        assert_eq!(
            internal_gateway_reason(&gateway).as_deref(),
            Some(
                "infrastructure annotation service.beta.kubernetes.io/load-balancer-source-ranges: \
                 192.168.0.0/16 (only private addresses)"
            )
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

    /// The reasons quote the ranges, so the redaction boundary must let them through where
    /// they are read (and only there: `palisade_core::redact`).
    #[test]
    fn the_source_ranges_read_are_printable() {
        use palisade_core::redact::is_printable;
        let cidrs = Value::String("10.0.0.0/8, 203.0.113.0/24".into());
        for (api_version, kind, segments) in [
            (
                "v1",
                "Service",
                &["spec", "loadBalancerSourceRanges", "0"][..],
            ),
            (
                "v1",
                "Service",
                &["metadata", "annotations", SOURCE_RANGES_ANNOTATION][..],
            ),
            (
                "networking.k8s.io/v1",
                "Ingress",
                &["metadata", "annotations", crate::ingress::ALB_INBOUND_CIDRS][..],
            ),
            (
                "elbv2.k8s.aws/v1beta1",
                "IngressClassParams",
                &["spec", "inboundCIDRs", "0"][..],
            ),
        ] {
            assert!(
                is_printable(api_version, kind, segments, &cidrs),
                "{segments:?}"
            );
        }
    }

    #[test]
    fn a_load_balancer_admitting_only_private_addresses_is_internal() {
        let lb = |ranges: Value, annotations: Value| {
            service(
                json!({"type": "LoadBalancer", "loadBalancerSourceRanges": ranges}),
                annotations,
            )
        };
        let private = lb(
            json!(["10.0.0.0/8", "192.168.4.0/24", "fd00::/8"]),
            json!({}),
        );
        assert_eq!(service_exposure(&private), None);
        assert_eq!(
            internal_load_balancer_reason(&private).as_deref(),
            Some(
                "a load balancer that admits only private addresses \
                 (spec.loadBalancerSourceRanges: 10.0.0.0/8, 192.168.4.0/24, fd00::/8)"
            )
        );
        // One public range, one range that admits everyone, or one that is not a CIDR: the
        // load balancer stays public.
        for ranges in [
            json!(["10.0.0.0/8", "203.0.113.0/24"]),
            json!(["10.0.0.0/8", "0.0.0.0/0"]),
            json!(["10.0.0.0/8", "office"]),
            json!(["10.0.0.0/8", 7]),
            json!([]),
        ] {
            let public = lb(ranges.clone(), json!({}));
            assert_eq!(
                service_exposure(&public),
                Some(Exposure::PublicLoadBalancer),
                "{ranges}"
            );
            assert_eq!(internal_load_balancer_reason(&public), None, "{ranges}");
        }
        let office = load_balancer_source_ranges(&lb(json!(["203.0.113.0/24"]), json!({})));
        assert_eq!(
            office.map(|r| r.describe()).as_deref(),
            Some("only from 203.0.113.0/24 (spec.loadBalancerSourceRanges)")
        );
        // The older annotation counts where the field is not set, and only there.
        let annotated = |ranges: Value| {
            lb(
                ranges,
                json!({SOURCE_RANGES_ANNOTATION: "10.1.0.0/16, 172.20.0.0/16"}),
            )
        };
        assert_eq!(service_exposure(&annotated(json!(null))), None);
        assert_eq!(
            service_exposure(&annotated(json!(["198.51.100.0/24"]))),
            Some(Exposure::PublicLoadBalancer)
        );
        // Source ranges do not close a node port.
        let node_port = service(
            json!({"type": "NodePort", "loadBalancerSourceRanges": ["10.0.0.0/8"]}),
            json!({}),
        );
        assert_eq!(service_exposure(&node_port), Some(Exposure::NodePort));
    }
}
