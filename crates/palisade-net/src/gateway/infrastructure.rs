//! What a Gateway's implementation is told about the Service it creates for the Gateway:
//! the parameters object the Gateway names (`spec.infrastructure.parametersRef`, in its own
//! namespace), else the one its `GatewayClass` names (`spec.parametersRef`), else, for Istio,
//! the ConfigMap of its class's defaults (labelled `gateway.istio.io/defaults-for-class` in
//! `istio-system`). The kinds read are `palisade_k8s::exposure::GATEWAY_PARAMETERS`
//! (Contour's `ContourDeployment`, Envoy Gateway's `EnvoyProxy`, NGINX Gateway Fabric's
//! `NginxProxy`, Kong's `GatewayConfiguration`, Istio's ConfigMap whose `service` key patches
//! the Service, the AWS Load Balancer Controller's `LoadBalancerConfiguration` and its
//! scheme); the nearer object that says something of the Service decides, except where the
//! implementation lets the class's win (the AWS controller's default merging mode).
//!
//! A reference the input does not resolve says nothing, so the Gateway stays public: a
//! missing class or parameters object may live elsewhere, and an implementation rejects a
//! Gateway whose parameters it cannot find rather than deploying it inside the cluster.

use palisade_core::tree::Tree as _;
use palisade_inventory::{Inventory, Limits, Object};
use palisade_k8s::exposure::{ISTIO_CLASS_DEFAULTS_LABEL, ISTIO_ROOT_NAMESPACE};
use serde_json::Value;

use super::{GROUP, vouches_for};

/// What a Gateway's parameters say of its Service.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Said {
    /// Whether the Service stays inside the cluster.
    pub internal: bool,
    /// Which object says it, for evidence.
    pub why: String,
}

/// What `gateway`'s parameters say: whether they give it a Service that stays inside the
/// cluster, and which object says so; `None` when no parameters object of the input (of the
/// Gateway's own directory or rendering, from manifests) says anything of its Service.
pub fn internal(
    inventory: &Inventory,
    gateway: &Object,
    ns_of: &dyn Fn(&Object) -> String,
) -> Option<Said> {
    let own = gateway
        .value
        .at("/spec/infrastructure/parametersRef")
        .and_then(|reference| {
            let namespace = ns_of(gateway);
            let parameters = named(inventory, gateway, reference, Some(&namespace), ns_of)?;
            said(parameters, Some(&namespace), "its own parameters")
        });
    let by_class = || {
        let class = class_of(inventory, gateway)?;
        let reference = class.value.at("/spec/parametersRef")?;
        // A namespaced parameters object is named with its namespace; a reference without
        // one resolves only to an object written without a namespace.
        let namespace = reference.get("namespace").and_then(Value::as_str);
        let parameters = named(inventory, gateway, reference, namespace, ns_of)?;
        let whose = format!("its GatewayClass {}'s parameters", class.id.display_name());
        Some((said(parameters, namespace, &whose)?, parameters))
    };
    match own {
        // Where both set it, an implementation may let the class's win (the AWS controller
        // does, unless the class's parameters say `mergingMode: prefer-gateway`).
        Some(own) => match by_class() {
            Some((class, parameters)) if class_wins(parameters) => Some(class),
            _ => Some(own),
        },
        None => by_class().map(|(said, _)| said),
    }
    .or_else(|| istio_class_defaults(inventory, gateway, ns_of))
}

/// Whether the GatewayClass's `parameters` win over a Gateway's own where both set its reach
/// ([`GatewayParameters::class_wins_unless`](palisade_k8s::exposure::GatewayParameters)).
fn class_wins(parameters: &Object) -> bool {
    palisade_k8s::exposure::gateway_parameters(parameters.id.group(), &parameters.id.kind)
        .and_then(|known| known.class_wins_unless)
        .is_some_and(|(pointer, value)| {
            parameters.value.at(pointer).and_then(Value::as_str) != Some(value)
        })
}

/// Whether `object` may be the parameters of a Gateway of `inventory`: one of
/// [`GATEWAY_PARAMETERS`](palisade_k8s::exposure::GATEWAY_PARAMETERS)' custom kinds, or a
/// ConfigMap that a Gateway or GatewayClass names or that holds Istio's class defaults. Other
/// ConfigMaps change nothing of the network.
pub fn may_be_parameters(inventory: &Inventory, object: &Object) -> bool {
    let (group, kind) = (object.id.group(), object.id.kind.as_str());
    if palisade_k8s::exposure::gateway_parameters(group, kind).is_none() {
        return false;
    }
    if (group, kind) != ("", "ConfigMap") {
        return true;
    }
    if object.value.at(&label_pointer()).is_some() {
        return true;
    }
    let names_it = |reference: Option<&Value>| {
        reference.is_some_and(|r| {
            r.get("kind").and_then(Value::as_str) == Some("ConfigMap")
                && r.get("name").and_then(Value::as_str) == object.id.name.as_deref()
        })
    };
    inventory
        .of_kind(GROUP, "Gateway")
        .any(|g| names_it(g.value.at("/spec/infrastructure/parametersRef")))
        || inventory
            .of_kind(GROUP, "GatewayClass")
            .any(|c| names_it(c.value.at("/spec/parametersRef")))
}

/// Where [`ISTIO_CLASS_DEFAULTS_LABEL`] is, as a JSON pointer.
fn label_pointer() -> String {
    format!(
        "/metadata/labels/{}",
        ISTIO_CLASS_DEFAULTS_LABEL
            .replace('~', "~0")
            .replace('/', "~1")
    )
}

/// The `GatewayClass` `gateway` names, when the input holds it and it may speak for the
/// Gateway.
fn class_of<'i>(inventory: &'i Inventory, gateway: &Object) -> Option<&'i Object> {
    let name = gateway
        .value
        .at("/spec/gatewayClassName")
        .and_then(Value::as_str)?;
    inventory.of_kind(GROUP, "GatewayClass").find(|class| {
        class.id.name.as_deref() == Some(name) && vouches_for(inventory, gateway, class)
    })
}

/// The object `reference` names (`group`, `kind`, `name`; in `namespace`, or written without
/// one), when the input holds it and it may speak for `gateway`.
fn named<'i>(
    inventory: &'i Inventory,
    gateway: &Object,
    reference: &Value,
    namespace: Option<&str>,
    ns_of: &dyn Fn(&Object) -> String,
) -> Option<&'i Object> {
    let field = |key: &str| reference.get(key).and_then(Value::as_str);
    let (group, kind, name) = (field("group")?, field("kind")?, field("name")?);
    inventory.of_kind(group, kind).find(|object| {
        object.id.name.as_deref() == Some(name)
            && match namespace {
                Some(ns) => ns_of(object) == ns,
                None => object.id.namespace.is_none(),
            }
            && vouches_for(inventory, gateway, object)
    })
}

/// Istio's defaults for the Gateways of `gateway`'s class: a ConfigMap in
/// [`ISTIO_ROOT_NAMESPACE`] labelled with the class's name. Only there: a ConfigMap so
/// labelled elsewhere is not read by istiod, and must not make a Gateway look internal.
fn istio_class_defaults(
    inventory: &Inventory,
    gateway: &Object,
    ns_of: &dyn Fn(&Object) -> String,
) -> Option<Said> {
    let class = gateway
        .value
        .at("/spec/gatewayClassName")
        .and_then(Value::as_str)?;
    let pointer = label_pointer();
    inventory
        .of_kind("", "ConfigMap")
        .filter(|map| {
            map.value.at(&pointer).and_then(Value::as_str) == Some(class)
                && ns_of(map) == ISTIO_ROOT_NAMESPACE
                && vouches_for(inventory, gateway, map)
        })
        .find_map(|map| {
            let whose = format!("the defaults of its class {class}");
            said(map, Some(ISTIO_ROOT_NAMESPACE), &whose)
        })
}

/// What `parameters` (in `namespace`, or written without one) say of a Gateway's Service;
/// `whose` they are (`its own parameters`), for evidence.
fn said(parameters: &Object, namespace: Option<&str>, whose: &str) -> Option<Said> {
    let (group, kind) = (parameters.id.group(), parameters.id.kind.as_str());
    let known = palisade_k8s::exposure::gateway_parameters(group, kind)?;
    let embedded;
    let settings = match known.embedded {
        None => &parameters.value,
        Some(pointer) => {
            let text = parameters.value.at(pointer).and_then(Value::as_str)?;
            let stream = palisade_inventory::yaml::parse_stream(text, &Limits::default());
            embedded = stream.documents.into_iter().next()?.value;
            &embedded
        }
    };
    let reach = known.reach(settings)?;
    let name = parameters.id.name.as_deref().unwrap_or_default();
    let at = match namespace {
        Some(ns) => format!("{ns}/{name}"),
        None => name.to_string(),
    };
    use palisade_k8s::exposure::{Creates, ParametersReach};
    let made = match known.creates {
        Creates::Service => "a Service",
        Creates::LoadBalancer => "a load balancer",
    };
    let gives = match (known.creates, &reach) {
        (Creates::Service, ParametersReach::Inside) => "a Service inside the cluster".to_string(),
        (Creates::LoadBalancer, ParametersReach::Inside) => "an internal load balancer".to_string(),
        (_, ParametersReach::PrivateRanges(ranges)) => {
            ranges.only_private(made).unwrap_or_default()
        }
        (Creates::Service, ParametersReach::Outside(ranges)) => {
            restricted("a Service reachable from outside", ranges.as_ref())
        }
        (Creates::LoadBalancer, ParametersReach::Outside(ranges)) => {
            restricted("an internet-facing load balancer", ranges.as_ref())
        }
    };
    Some(Said {
        internal: !matches!(reach, ParametersReach::Outside(_)),
        why: format!("{kind} {at}, {whose}, gives it {gives}"),
    })
}

/// `what`, with where its source ranges let traffic in from, if they restrict it.
fn restricted(what: &str, ranges: Option<&palisade_k8s::exposure::SourceRanges>) -> String {
    match ranges {
        Some(ranges) => format!("{what}, {}", ranges.describe()),
        None => what.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use palisade_inventory::{Limits, load_text};

    fn answer(text: &str) -> Option<bool> {
        let inventory = load_text("g.yaml", text, &Limits::default()).inventory;
        let gateway = inventory
            .of_kind(GROUP, "Gateway")
            .next()
            .expect("a Gateway");
        internal(&inventory, gateway, &|o: &Object| {
            o.id.namespace.clone().unwrap_or_default()
        })
        .map(|said| said.internal)
    }

    const GATEWAY: &str = "apiVersion: gateway.networking.k8s.io/v1\nkind: Gateway\nmetadata: {name: local, namespace: edge}\nspec:\n  gatewayClassName: internal\n  listeners: [{name: http, port: 80, protocol: HTTP}]\n";

    fn class(reference: &str) -> String {
        format!(
            "---\napiVersion: gateway.networking.k8s.io/v1\nkind: GatewayClass\nmetadata: {{name: internal}}\nspec:\n  controllerName: projectcontour.io/gateway-controller\n  parametersRef: {reference}\n"
        )
    }

    fn contour(name: &str, publishing: &str) -> String {
        format!(
            "---\napiVersion: projectcontour.io/v1alpha1\nkind: ContourDeployment\nmetadata: {{name: {name}, namespace: projectcontour}}\nspec:\n  envoy:\n    networkPublishing: {publishing}\n"
        )
    }

    #[test]
    fn the_class_parameters_decide_where_the_gateway_says_nothing() {
        let reference = "{group: projectcontour.io, kind: ContourDeployment, name: cd, namespace: projectcontour}";
        let internal_class = format!(
            "{GATEWAY}{}{}",
            class(reference),
            contour("cd", "{type: ClusterIPService}")
        );
        assert_eq!(answer(&internal_class), Some(true));
        let public_class = format!(
            "{GATEWAY}{}{}",
            class(reference),
            contour("cd", "{type: NodePortService}")
        );
        assert_eq!(answer(&public_class), Some(false));
        // The object named is not in the input, or not in the namespace named.
        assert_eq!(answer(&format!("{GATEWAY}{}", class(reference))), None);
        let elsewhere = format!(
            "{GATEWAY}{}{}",
            class(&reference.replace("namespace: projectcontour", "namespace: other")),
            contour("cd", "{type: ClusterIPService}")
        );
        assert_eq!(answer(&elsewhere), None);
        // No class in the input.
        assert_eq!(
            answer(&format!(
                "{GATEWAY}{}",
                contour("cd", "{type: ClusterIPService}")
            )),
            None
        );
    }

    #[test]
    fn the_gateway_own_parameters_come_before_its_class() {
        let own = GATEWAY.replace(
            "  listeners:",
            "  infrastructure:\n    parametersRef: {group: gateway.envoyproxy.io, kind: EnvoyProxy, name: open}\n  listeners:",
        );
        let envoy = |service_type: &str| {
            format!(
                "---\napiVersion: gateway.envoyproxy.io/v1alpha1\nkind: EnvoyProxy\nmetadata: {{name: open, namespace: edge}}\nspec:\n  provider:\n    type: Kubernetes\n    kubernetes: {{envoyService: {{type: {service_type}}}}}\n"
            )
        };
        let class = class(
            "{group: projectcontour.io, kind: ContourDeployment, name: cd, namespace: projectcontour}",
        );
        let internal_class = contour("cd", "{type: ClusterIPService}");
        assert_eq!(
            answer(&format!(
                "{own}{class}{internal_class}{}",
                envoy("LoadBalancer")
            )),
            Some(false)
        );
        assert_eq!(
            answer(&format!("{own}{class}{}", envoy("ClusterIP"))),
            Some(true)
        );
        // The Gateway's parameters say nothing of the Service: the class's decide.
        let silent = envoy("LoadBalancer")
            .replace("    kubernetes: {envoyService: {type: LoadBalancer}}\n", "");
        assert_eq!(
            answer(&format!("{own}{class}{internal_class}{silent}")),
            Some(true)
        );
    }

    #[test]
    fn istio_reads_the_service_patch_of_its_config_map() {
        let istio = GATEWAY.replace("gatewayClassName: internal", "gatewayClassName: istio");
        let own = istio.replace(
            "  listeners:",
            "  infrastructure:\n    parametersRef: {group: '', kind: ConfigMap, name: gw-options}\n  listeners:",
        );
        let options = |namespace: &str, service: &str| {
            format!(
                "---\napiVersion: v1\nkind: ConfigMap\nmetadata: {{name: gw-options, namespace: {namespace}}}\ndata:\n  service: |\n{service}"
            )
        };
        let cluster_ip = "    spec:\n      type: ClusterIP\n";
        assert_eq!(
            answer(&format!("{own}{}", options("edge", cluster_ip))),
            Some(true)
        );
        let internal_lb = "    metadata:\n      annotations:\n        networking.gke.io/load-balancer-type: Internal\n";
        assert_eq!(
            answer(&format!("{own}{}", options("edge", internal_lb))),
            Some(true)
        );
        let node_port = "    spec:\n      type: NodePort\n";
        assert_eq!(
            answer(&format!("{own}{}", options("edge", node_port))),
            Some(false)
        );
        // In another namespace, or a patch that is no YAML, or says nothing of the Service.
        assert_eq!(
            answer(&format!("{own}{}", options("other", cluster_ip))),
            None
        );
        assert_eq!(
            answer(&format!("{own}{}", options("edge", "    [unclosed\n"))),
            None
        );
        let replicas = "    spec:\n      replicas: 2\n";
        assert_eq!(answer(&format!("{own}{}", options("edge", replicas))), None);
        // The class's defaults, read in istio-system only.
        let defaults = |namespace: &str, class: &str| {
            format!(
                "---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: defaults\n  namespace: {namespace}\n  labels: {{gateway.istio.io/defaults-for-class: {class}}}\ndata:\n  service: |\n{cluster_ip}"
            )
        };
        assert_eq!(
            answer(&format!("{istio}{}", defaults("istio-system", "istio"))),
            Some(true)
        );
        assert_eq!(
            answer(&format!("{istio}{}", defaults("shop", "istio"))),
            None
        );
        assert_eq!(
            answer(&format!("{istio}{}", defaults("istio-system", "other"))),
            None
        );
        // The Gateway's own parameters come first.
        assert_eq!(
            answer(&format!(
                "{own}{}{}",
                options("edge", node_port),
                defaults("istio-system", "istio")
            )),
            Some(false)
        );
    }

    #[test]
    fn nginx_and_kong_parameters_are_read() {
        let nginx = format!(
            "{GATEWAY}{}---\napiVersion: gateway.nginx.org/v1alpha2\nkind: NginxProxy\nmetadata: {{name: np, namespace: nginx-gateway}}\nspec:\n  kubernetes: {{service: {{type: ClusterIP}}}}\n",
            class(
                "{group: gateway.nginx.org, kind: NginxProxy, name: np, namespace: nginx-gateway}"
            )
        );
        assert_eq!(answer(&nginx), Some(true));
        let kong = format!(
            "{GATEWAY}{}---\napiVersion: gateway-operator.konghq.com/v1beta1\nkind: GatewayConfiguration\nmetadata: {{name: kgc, namespace: kong}}\nspec:\n  dataPlaneOptions:\n    network: {{services: {{ingress: {{type: LoadBalancer}}}}}}\n",
            class(
                "{group: gateway-operator.konghq.com, kind: GatewayConfiguration, name: kgc, namespace: kong}"
            )
        );
        assert_eq!(answer(&kong), Some(false));
    }

    /// The AWS Load Balancer Controller's LoadBalancerConfiguration sets the scheme of the
    /// load balancer it makes; where the GatewayClass's and the Gateway's both set it, the
    /// class's wins unless it says `mergingMode: prefer-gateway`.
    #[test]
    fn the_aws_controller_reads_the_scheme_with_its_merging_mode() {
        let aws_gateway = GATEWAY.replace(
            "  listeners:",
            "  infrastructure:\n    parametersRef: {group: gateway.k8s.aws, kind: LoadBalancerConfiguration, name: own}\n  listeners:",
        );
        let aws_class = |mode: &str| {
            format!(
                "---\napiVersion: gateway.networking.k8s.io/v1\nkind: GatewayClass\nmetadata: {{name: internal}}\nspec:\n  controllerName: gateway.k8s.aws/alb\n  parametersRef: {{group: gateway.k8s.aws, kind: LoadBalancerConfiguration, name: class, namespace: kube-system}}\n---\napiVersion: gateway.k8s.aws/v1beta1\nkind: LoadBalancerConfiguration\nmetadata: {{name: class, namespace: kube-system}}\nspec: {{scheme: internet-facing{mode}}}\n"
            )
        };
        let own = |spec: &str| {
            format!(
                "---\napiVersion: gateway.k8s.aws/v1beta1\nkind: LoadBalancerConfiguration\nmetadata: {{name: own, namespace: edge}}\nspec: {spec}\n"
            )
        };
        let said_of = |text: &str| {
            let inventory = load_text("g.yaml", text, &Limits::default()).inventory;
            let gateway = inventory.of_kind(GROUP, "Gateway").next().unwrap();
            internal(&inventory, gateway, &|o: &Object| {
                o.id.namespace.clone().unwrap_or_default()
            })
        };
        // Its own configuration alone.
        let alone = said_of(&format!("{aws_gateway}{}", own("{scheme: internal}"))).unwrap();
        assert!(alone.internal);
        assert_eq!(
            alone.why,
            "LoadBalancerConfiguration edge/own, its own parameters, gives it an internal load balancer"
        );
        // Unset: says nothing (the controller's default scheme is its own setting).
        assert_eq!(answer(&format!("{aws_gateway}{}", own("{}"))), None);
        // The class's internet-facing scheme wins by default...
        let both = format!(
            "{aws_gateway}{}{}",
            own("{scheme: internal}"),
            aws_class("")
        );
        let class_wins = said_of(&both).unwrap();
        assert!(!class_wins.internal);
        assert_eq!(
            class_wins.why,
            "LoadBalancerConfiguration kube-system/class, its GatewayClass internal's parameters, gives it an internet-facing load balancer"
        );
        // ... and the Gateway's own wins where the class prefers it.
        let preferred = format!(
            "{aws_gateway}{}{}",
            own("{scheme: internal}"),
            aws_class(", mergingMode: prefer-gateway")
        );
        assert_eq!(answer(&preferred), Some(true));
        // Where only the class sets it, the class decides.
        let class_only = format!("{aws_gateway}{}{}", own("{}"), aws_class(""));
        assert_eq!(answer(&class_only), Some(false));
    }
}
