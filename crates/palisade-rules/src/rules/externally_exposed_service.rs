use serde_json::Value;

use crate::context::Context;
use crate::rule::{Check, Target};

declare_rule! {
    /// ## What it checks
    /// Services of type `LoadBalancer` and `NodePort`. A LoadBalancer is not reported when a
    /// cloud annotation makes it internal, or when its `loadBalancerSourceRanges` (or the older
    /// `service.beta.kubernetes.io/load-balancer-source-ranges` annotation) admit only private
    /// addresses (RFC 1918, `100.64.0.0/10`, IPv6 unique local, loopback, link-local): nobody
    /// on the internet can reach it. Otherwise the message says whether it is reachable from
    /// any address or only from the ranges listed.
    ///
    /// ## Why it matters
    /// These types publish the selected pods outside the cluster: a LoadBalancer usually to the
    /// internet, a NodePort on every node's address. Every such Service is an entry point of an
    /// attack path (MITRE ATT&CK T1190, Exploit Public-Facing Application), and NodePorts
    /// bypass the ingress controller's TLS, authentication and WAF.
    ///
    /// ## Severity
    /// Medium: exposure is often intended, but it must be deliberate and narrow.
    ///
    /// ## Failing example
    /// ```yaml
    /// apiVersion: v1
    /// kind: Service
    /// metadata: {name: admin}
    /// spec:
    ///   type: LoadBalancer
    ///   ports: [{port: 443}]
    /// ```
    ///
    /// ## Passing example
    /// ```yaml
    /// apiVersion: v1
    /// kind: Service
    /// metadata: {name: admin}
    /// spec:
    ///   type: ClusterIP      # published through the Ingress controller instead
    ///   ports: [{port: 443}]
    /// ```
    ///
    /// ## Remediation
    /// Use `ClusterIP` behind an Ingress or Gateway that terminates TLS and authenticates; if a
    /// LoadBalancer is needed, make it internal or restrict `loadBalancerSourceRanges`.
    ///
    /// ## References
    /// - Kubernetes documentation, "Service", "Type LoadBalancer" and "Type NodePort"
    /// - MITRE ATT&CK T1190
    pub struct ExternallyExposedService {
        id: "NET001",
        slug: "externally-exposed-service",
        title: "Service is exposed outside the cluster",
        severity: Medium,
        target: Target::Kinds(&[("", "Service")]),
        controls: [
            NsaCisa12 "network/network-policies",
            MitreAttack "T1190",
        ],
        remediation: "Use ClusterIP behind an Ingress/Gateway, an internal load balancer, or restrict loadBalancerSourceRanges.",
    }
}

impl Check for ExternallyExposedService {
    fn check(&self, cx: &mut Context<'_>) {
        let type_path = palisade_core::JsonPointer::root().join("spec").join("type");
        let Some(service_type) = cx.str_at(&type_path) else {
            return;
        };
        let ports = describe_ports(
            cx.get(
                &palisade_core::JsonPointer::root()
                    .join("spec")
                    .join("ports"),
            ),
        );
        match service_type {
            "LoadBalancer" => {
                if palisade_k8s::exposure::is_internal_load_balancer(&cx.object.value) {
                    return;
                }
                let reach =
                    match palisade_k8s::exposure::load_balancer_source_ranges(&cx.object.value) {
                        Some(ranges) => format!("reachable {}", ranges.describe()),
                        None if written_source_ranges(&cx.object.value) => {
                            "reachable from any address (its source ranges admit every address, \
                             or one is not a CIDR)"
                                .into()
                        }
                        None => "reachable from any address (no loadBalancerSourceRanges)".into(),
                    };
                cx.report(
                    type_path,
                    format!("type LoadBalancer publishes {ports} outside the cluster, {reach}"),
                );
            }
            "NodePort" => {
                cx.report(
                    type_path,
                    format!("type NodePort publishes {ports} on every node's address"),
                );
            }
            _ => {}
        }
    }
}

/// Whether `service` writes source ranges at all (the field or the older annotation).
fn written_source_ranges(service: &Value) -> bool {
    let field = service
        .get("spec")
        .and_then(|s| s.get("loadBalancerSourceRanges"))
        .and_then(Value::as_array)
        .is_some_and(|ranges| !ranges.is_empty());
    field
        || service
            .get("metadata")
            .and_then(|m| m.get("annotations"))
            .and_then(|a| a.get(palisade_k8s::exposure::SOURCE_RANGES_ANNOTATION))
            .is_some()
}

fn describe_ports(ports: Option<&Value>) -> String {
    let list: Vec<String> = ports
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|p| {
            let port = p.get("port")?;
            let protocol = p.get("protocol").and_then(Value::as_str).unwrap_or("TCP");
            Some(format!("{protocol}/{port}"))
        })
        .collect();
    if list.is_empty() {
        "its ports".to_string()
    } else {
        format!(
            "port{} {}",
            if list.len() > 1 { "s" } else { "" },
            list.join(", ")
        )
    }
}
