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
    let Some(annotations) = service
        .at("/metadata/annotations")
        .and_then(Value::as_object)
    else {
        return false;
    };
    INTERNAL_LB_ANNOTATIONS.iter().any(|(key, values)| {
        annotations
            .get(*key)
            .and_then(Value::as_str)
            .is_some_and(|v| values.contains(&v))
    })
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
