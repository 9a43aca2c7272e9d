//! What a Gateway's implementation is told about the Service it creates for the Gateway:
//! the parameters object the Gateway names (`spec.infrastructure.parametersRef`, in its own
//! namespace), else the one its `GatewayClass` names (`spec.parametersRef`). The kinds read
//! are `palisade_k8s::exposure::GATEWAY_PARAMETERS` (Contour's `ContourDeployment`, Envoy
//! Gateway's `EnvoyProxy`); the nearer object that says something of the Service decides.
//!
//! A reference the input does not resolve says nothing, so the Gateway stays public: a
//! missing class or parameters object may live elsewhere, and an implementation rejects a
//! Gateway whose parameters it cannot find rather than deploying it inside the cluster.

use palisade_core::tree::Tree as _;
use palisade_inventory::{Inventory, Object};
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
            said(
                inventory,
                gateway,
                reference,
                Some(&namespace),
                ns_of,
                "its own",
            )
        });
    own.or_else(|| {
        let class = class_of(inventory, gateway)?;
        let reference = class.value.at("/spec/parametersRef")?;
        // A namespaced parameters object is named with its namespace; a reference without
        // one resolves only to an object written without a namespace.
        let namespace = reference.get("namespace").and_then(Value::as_str);
        let whose = format!("its GatewayClass {}'s", class.id.display_name());
        said(inventory, gateway, reference, namespace, ns_of, &whose)
    })
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

/// What the object `reference` names (`group`, `kind`, `name`; in `namespace`, or written
/// without one) says of `gateway`'s Service; `whose` parameters they are, for evidence.
fn said(
    inventory: &Inventory,
    gateway: &Object,
    reference: &Value,
    namespace: Option<&str>,
    ns_of: &dyn Fn(&Object) -> String,
    whose: &str,
) -> Option<Said> {
    let field = |key: &str| reference.get(key).and_then(Value::as_str);
    let (group, kind, name) = (field("group")?, field("kind")?, field("name")?);
    let parameters = inventory.of_kind(group, kind).find(|object| {
        object.id.name.as_deref() == Some(name)
            && match namespace {
                Some(ns) => ns_of(object) == ns,
                None => object.id.namespace.is_none(),
            }
            && vouches_for(inventory, gateway, object)
    })?;
    let internal =
        palisade_k8s::exposure::gateway_parameters_internal(group, kind, &parameters.value)?;
    let at = match namespace {
        Some(ns) => format!("{ns}/{name}"),
        None => name.to_string(),
    };
    let gives = match internal {
        true => "a Service inside the cluster",
        false => "a Service reachable from outside",
    };
    Some(Said {
        internal,
        why: format!("{kind} {at}, {whose} parameters, gives it {gives}"),
    })
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
}
