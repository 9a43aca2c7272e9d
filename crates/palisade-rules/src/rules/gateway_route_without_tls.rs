use palisade_core::JsonPointer;
use palisade_inventory::{Inventory, Object};
use palisade_net::gateway::{GROUP, Parent, parents};
use serde_json::Value;

use crate::context::Context;
use crate::rule::{Check, Target};

declare_rule! {
    /// ## What it checks
    /// HTTPRoutes and GRPCRoutes that a public Gateway serves over plain HTTP: a listener of
    /// protocol `HTTP` takes the route, and a rule of the route forwards to backends rather
    /// than redirecting to HTTPS (a `RequestRedirect` filter). A Gateway is public unless its
    /// class or its load balancer annotations make it internal, it is an Istio Gateway
    /// deployed on a Service of the input that is not exposed, or its implementation's
    /// parameters (Contour's, Envoy Gateway's, NGINX Gateway Fabric's, Kong's or Istio's,
    /// named by its GatewayClass or the Gateway) give it a ClusterIP Service, as
    /// `palisade net` decides.
    /// A route whose Gateway is not in the input is not assessed: its listeners are unknown.
    ///
    /// ## Why it matters
    /// Without TLS, credentials, session cookies and data cross the network in clear text and
    /// can be read or changed by anyone on the path (MITRE ATT&CK T1557). The NSA/CISA guide
    /// asks for TLS on all traffic entering the cluster. This is the Gateway API's
    /// counterpart of NET006.
    ///
    /// ## Severity
    /// Medium: exposure depends on the network path, but the fix is routine.
    ///
    /// ## Failing example
    /// ```yaml
    /// kind: HTTPRoute
    /// spec:
    ///   parentRefs: [{name: public, sectionName: http}]   # listener protocol HTTP
    ///   rules:
    ///   - backendRefs: [{name: web, port: 80}]
    /// ```
    ///
    /// ## Passing example
    /// ```yaml
    /// kind: HTTPRoute
    /// spec:
    ///   parentRefs: [{name: public, sectionName: http}]
    ///   rules:
    ///   - filters:
    ///     - type: RequestRedirect
    ///       requestRedirect: {scheme: https, statusCode: 301}
    /// ```
    ///
    /// ## Remediation
    /// Attach the route to an `HTTPS` listener (with `tls.certificateRefs`; cert-manager can
    /// issue them), and on the `HTTP` listener keep only a route that redirects to HTTPS.
    ///
    /// ## References
    /// - NSA/CISA Kubernetes Hardening Guide v1.2, "Encryption"
    /// - Gateway API documentation, "HTTP redirects and rewrites", "TLS configuration"
    pub struct GatewayRouteWithoutTls {
        id: "NET018",
        slug: "gateway-route-without-tls",
        title: "Public Gateway serves a route over plain HTTP",
        severity: Medium,
        target: Target::Kinds(&[(GROUP, "HTTPRoute"), (GROUP, "GRPCRoute")]),
        controls: [
            NsaCisa12 "network/encryption",
            MitreAttack "T1557",
        ],
        remediation: "Attach the route to an HTTPS listener; on the HTTP listener keep only a redirect to HTTPS.",
    }
}

/// The first rule of `route` that forwards requests to backends without redirecting them.
fn serving_rule(route: &Value) -> Option<usize> {
    let rules = route.get("spec")?.get("rules")?.as_array()?;
    rules.iter().position(|rule| {
        let redirects = rule
            .get("filters")
            .and_then(Value::as_array)
            .is_some_and(|filters| {
                filters
                    .iter()
                    .any(|f| f.get("type").and_then(Value::as_str) == Some("RequestRedirect"))
            });
        let forwards = rule
            .get("backendRefs")
            .and_then(Value::as_array)
            .is_some_and(|refs| !refs.is_empty());
        forwards && !redirects
    })
}

/// What a rule on a route reads besides the route: its Gateways, the namespaces their
/// listeners select, and what decides whether a Gateway is public
/// (`palisade_net::gateway::PUBLICITY_READS`).
pub(crate) const ROUTE_READS: &[(&str, &str)] = &{
    const PUBLICITY: &[(&str, &str)] = palisade_net::gateway::PUBLICITY_READS;
    let mut out = [("", ""); PUBLICITY.len() + 2];
    out[0] = (GROUP, "Gateway");
    out[1] = ("", "Namespace");
    let mut i = 0;
    while i < PUBLICITY.len() {
        out[i + 2] = PUBLICITY[i];
        i += 1;
    }
    out
};

/// The Gateways a route names, as a rule on the route judges them: the public ones, and
/// the names of those the input does not hold (the rule cannot judge those).
pub(crate) struct RouteParents<'i> {
    pub public: Vec<Parent<'i>>,
    pub missing: Vec<String>,
}

impl RouteParents<'_> {
    /// Says the route is not assessed when a Gateway it names is not in the input: `unknown`
    /// is what the rule could not learn of it.
    pub(crate) fn not_assessed_for_missing(&self, cx: &mut Context<'_>, unknown: &str) {
        if !self.missing.is_empty() {
            cx.not_assessed(format!(
                "{} not in the input: {unknown}",
                self.missing.join(", ")
            ));
        }
    }
}

/// [`RouteParents`] of `route`. Objects without a namespace meet only those of their own
/// directory, as in the network engine.
pub(crate) fn route_parents<'i>(inventory: &'i Inventory, route: &Object) -> RouteParents<'i> {
    let placer = palisade_net::model::Placer::by_scope(inventory);
    let ns_of = |o: &Object| placer.namespace(o);
    let mut out = RouteParents {
        public: Vec::new(),
        missing: Vec::new(),
    };
    for parent in parents(inventory, route, &ns_of) {
        match parent.gateway {
            None => out.missing.push(parent.name),
            Some(gateway) if palisade_net::gateway::is_public(inventory, gateway, &ns_of) => {
                out.public.push(parent);
            }
            Some(_) => {}
        }
    }
    out
}

impl Check for GatewayRouteWithoutTls {
    fn reads(&self) -> &'static [(&'static str, &'static str)] {
        ROUTE_READS
    }

    fn check(&self, cx: &mut Context<'_>) {
        let Some(rule) = serving_rule(&cx.object.value) else {
            return;
        };
        let parents = route_parents(cx.inventory, cx.object);
        for parent in &parents.public {
            let plain = parent
                .listeners
                .iter()
                .find(|l| l.get("protocol").and_then(Value::as_str) == Some("HTTP"));
            if let Some(listener) = plain {
                let name = listener.get("name").and_then(Value::as_str).unwrap_or("?");
                let port = listener.get("port").and_then(Value::as_u64).unwrap_or(0);
                cx.report(
                    JsonPointer::root()
                        .join("spec")
                        .join("parentRefs")
                        .join(parent.index),
                    format!(
                        "listener {name} (HTTP, port {port}) of {}, a public Gateway, takes this route, and rule {rule} forwards to backends without redirecting to HTTPS: requests and responses cross the internet in clear text",
                        parent.name
                    ),
                );
                return;
            }
        }
        parents.not_assessed_for_missing(
            cx,
            "whether a listener serves the route over plain HTTP is not known",
        );
    }
}

#[cfg(test)]
mod tests {
    use super::serving_rule;
    use crate::rule::Check as _;
    use serde_json::json;

    #[test]
    fn reads_what_decides_whether_a_gateway_is_public() {
        let reads = super::GatewayRouteWithoutTls.reads();
        for kind in palisade_net::gateway::PUBLICITY_READS {
            assert!(reads.contains(kind), "{kind:?}");
        }
        assert_eq!(super::super::GatewayRouteAnyHost.reads(), reads);
    }

    #[test]
    fn a_rule_serves_when_it_forwards_without_redirecting() {
        let route = |rules: serde_json::Value| json!({"spec": {"rules": rules}});
        assert_eq!(
            serving_rule(&route(json!([{"backendRefs": [{"name": "web"}]}]))),
            Some(0)
        );
        assert_eq!(
            serving_rule(&route(json!([
                {"filters": [{"type": "RequestRedirect", "requestRedirect": {"scheme": "https"}}]},
                {"matches": [{"path": {"value": "/"}}]}
            ]))),
            None
        );
        assert_eq!(serving_rule(&json!({"spec": {}})), None);
    }
}
