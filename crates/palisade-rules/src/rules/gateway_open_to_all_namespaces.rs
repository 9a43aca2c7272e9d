use palisade_core::JsonPointer;
use palisade_net::gateway::GROUP;
use serde_json::Value;

use crate::context::Context;
use crate::rule::{Check, Target};

declare_rule! {
    /// ## What it checks
    /// Listeners of a public Gateway that take routes from every namespace
    /// (`allowedRoutes.namespaces.from: All`). A Gateway is public unless its
    /// class or its load balancer annotations make it internal, it is an Istio Gateway
    /// deployed on a Service of the input that is not exposed, or its implementation's
    /// parameters (Contour's, Envoy Gateway's, NGINX Gateway Fabric's, Kong's or Istio's,
    /// named by its GatewayClass or the Gateway) give it a ClusterIP Service, as
    /// `palisade net` decides.
    ///
    /// ## Why it matters
    /// A Gateway is shared infrastructure; its routes belong to the application teams. With
    /// `from: All`, anyone who may create an HTTPRoute in any namespace can publish a
    /// service on the internet through it, under any hostname the listener does not pin.
    /// They can also take over part of another team's site: for one hostname, the route with
    /// the more specific path match wins, whatever its namespace (MITRE ATT&CK T1557). The
    /// Gateway API's security model leaves this choice to the cluster operator: `Same` is the
    /// default, and `Selector` names the namespaces trusted to attach.
    ///
    /// ## Severity
    /// Medium: it turns the right to create a route anywhere into the right to serve, or
    /// intercept, traffic on the cluster's public entry point.
    ///
    /// ## Failing example
    /// ```yaml
    /// kind: Gateway
    /// spec:
    ///   listeners:
    ///   - name: https
    ///     allowedRoutes: {namespaces: {from: All}}
    /// ```
    ///
    /// ## Passing example
    /// ```yaml
    /// kind: Gateway
    /// spec:
    ///   listeners:
    ///   - name: https
    ///     allowedRoutes:
    ///       namespaces:
    ///         from: Selector
    ///         selector: {matchLabels: {shared-gateway-access: "true"}}
    /// ```
    ///
    /// ## Remediation
    /// Take routes only from the namespaces trusted to publish on this Gateway:
    /// `from: Selector` with a label that only the platform team sets on Namespaces, or
    /// `from: Same`. Pin each listener's `hostname` where a team owns a domain.
    ///
    /// ## References
    /// - Gateway API documentation, "Security model" and "Cross-namespace routing"
    /// - MITRE ATT&CK T1557, Adversary-in-the-Middle
    pub struct GatewayOpenToAllNamespaces {
        id: "NET019",
        slug: "gateway-open-to-all-namespaces",
        title: "Public Gateway takes routes from every namespace",
        severity: Medium,
        target: Target::Kinds(&[(GROUP, "Gateway")]),
        controls: [
            NsaCisa12 "network/network-policies",
            MitreAttack "T1557",
        ],
        remediation: "Set `allowedRoutes.namespaces.from: Selector` (a label only the platform team sets) or `Same` on the listener.",
    }
}

impl Check for GatewayOpenToAllNamespaces {
    fn reads(&self) -> &'static [(&'static str, &'static str)] {
        palisade_net::gateway::PUBLICITY_READS
    }

    fn check(&self, cx: &mut Context<'_>) {
        let placer = palisade_net::model::Placer::by_scope(cx.inventory);
        if !palisade_net::gateway::is_public(cx.inventory, cx.object, &|o| placer.namespace(o)) {
            return;
        }
        let listeners = JsonPointer::root().join("spec").join("listeners");
        for (i, listener) in cx.array_at(&listeners).iter().enumerate() {
            let from = listener
                .get("allowedRoutes")
                .and_then(|a| a.get("namespaces"))
                .and_then(|n| n.get("from"))
                .and_then(Value::as_str);
            if from != Some("All") {
                continue;
            }
            let name = listener.get("name").and_then(Value::as_str).unwrap_or("?");
            let hostname = match listener.get("hostname").and_then(Value::as_str) {
                Some(host) => format!("on hostname {host}"),
                None => "under any hostname".to_string(),
            };
            cx.report(
                listeners
                    .join(i)
                    .join("allowedRoutes")
                    .join("namespaces")
                    .join("from"),
                format!(
                    "listener {name} of this public Gateway takes routes from every namespace: whoever may create a route in any namespace can publish a service through it {hostname}, or take a more specific path of a site another team serves"
                ),
            );
        }
    }
}
