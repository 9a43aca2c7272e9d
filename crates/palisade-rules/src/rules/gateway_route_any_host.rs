use palisade_core::JsonPointer;
use palisade_net::gateway::GROUP;
use serde_json::Value;

use crate::context::Context;
use crate::rule::{Check, Target};

declare_rule! {
    /// ## What it checks
    /// HTTPRoutes, GRPCRoutes and TLSRoutes that a public Gateway serves for hosts nobody
    /// named: neither the listener that takes the route (`hostname`) nor the route
    /// (`spec.hostnames`) names a host, so the route answers for every host name that reaches
    /// the Gateway; or the names they leave are a wildcard (`*.example.com`). The Gateway API's
    /// counterpart of NET017. A Gateway is public as NET018 and NET019 judge it; a route whose
    /// Gateway is not in the input is not assessed.
    ///
    /// ## Why it matters
    /// A catch-all publishes the backend under any name pointed at the Gateway's address: DNS
    /// records left dangling, a name an attacker points at it, or one another team expects to
    /// own. On a Gateway shared by many teams, a route without hostnames also competes with
    /// every other route of the listener for every host (MITRE ATT&CK T1190).
    ///
    /// ## Severity
    /// Low: it widens what the route exposes; the exposure itself is the Gateway's.
    ///
    /// ## Failing example
    /// ```yaml
    /// kind: HTTPRoute
    /// spec:
    ///   parentRefs: [{name: public, namespace: infra}]   # its listener names no hostname
    ///   rules:
    ///   - backendRefs: [{name: web, port: 80}]
    /// ```
    ///
    /// ## Passing example
    /// ```yaml
    /// kind: HTTPRoute
    /// spec:
    ///   parentRefs: [{name: public, namespace: infra}]
    ///   hostnames: [shop.example.com]
    /// ```
    ///
    /// ## Remediation
    /// Name the hosts the route serves in `spec.hostnames`, or pin the listener's `hostname`
    /// where one team owns the domain.
    ///
    /// ## References
    /// - Gateway API documentation, "HTTPRoute: hostnames" and "Listener: hostname"
    /// - MITRE ATT&CK T1190, Exploit Public-Facing Application
    pub struct GatewayRouteAnyHost {
        id: "NET020",
        slug: "gateway-route-any-host",
        title: "Gateway route answers for hosts nobody named",
        severity: Low,
        target: Target::Kinds(&[(GROUP, "HTTPRoute"), (GROUP, "GRPCRoute"), (GROUP, "TLSRoute")]),
        controls: [
            NsaCisa12 "network/network-policies",
            MitreAttack "T1190",
        ],
        remediation: "Name the hosts the route serves in spec.hostnames, or pin the listener's hostname.",
    }
}

/// What a listener and a route leave of the host names the route answers for, when that is
/// more than named hosts: every host, or every name under a wildcard.
fn unnamed(listener: Option<&str>, route: &[&str]) -> Option<String> {
    match (listener, route) {
        (None, []) => Some("any host name that reaches the Gateway".to_string()),
        (Some(l), []) if l.starts_with("*.") => Some(format!("every name under {l}")),
        (Some(_), []) => None,
        (_, hosts) => hosts
            .iter()
            .find(|h| h.starts_with("*."))
            .map(|h| format!("every name under {h}")),
    }
}

impl Check for GatewayRouteAnyHost {
    fn reads(&self) -> &'static [(&'static str, &'static str)] {
        super::gateway_route_without_tls::ROUTE_READS
    }

    fn check(&self, cx: &mut Context<'_>) {
        let hostnames: Vec<&str> = cx
            .object
            .value
            .get("spec")
            .and_then(|s| s.get("hostnames"))
            .and_then(Value::as_array)
            .map(|h| h.iter().filter_map(Value::as_str).collect())
            .unwrap_or_default();
        let parents = super::gateway_route_without_tls::route_parents(cx.inventory, cx.object);
        for parent in &parents.public {
            for listener in &parent.listeners {
                let host = listener.get("hostname").and_then(Value::as_str);
                let Some(left) = unnamed(host, &hostnames) else {
                    continue;
                };
                let name = listener.get("name").and_then(Value::as_str).unwrap_or("?");
                let named = match host {
                    Some(host) => format!("names {host}"),
                    None => "names no hostname".to_string(),
                };
                let path = JsonPointer::root().join("spec");
                let path = match hostnames.is_empty() {
                    true => path,
                    false => path.join("hostnames"),
                };
                cx.report(
                    path,
                    format!(
                        "listener {name} of {}, a public Gateway, {named}, and this route {}: it answers for {left}",
                        parent.name,
                        match hostnames.is_empty() {
                            true => "names none",
                            false => "names a wildcard",
                        }
                    ),
                );
                return;
            }
        }
        parents.not_assessed_for_missing(cx, "the hostnames of its listeners are not known");
    }
}

#[cfg(test)]
mod tests {
    use super::unnamed;

    #[test]
    fn the_names_left_are_every_host_or_a_wildcard() {
        assert!(unnamed(None, &[]).unwrap().starts_with("any host"));
        assert_eq!(unnamed(Some("shop.example.com"), &[]), None);
        assert_eq!(
            unnamed(Some("*.example.com"), &[]).as_deref(),
            Some("every name under *.example.com")
        );
        assert_eq!(unnamed(None, &["shop.example.com"]), None);
        assert_eq!(
            unnamed(Some("*.example.com"), &["*.shop.example.com"]).as_deref(),
            Some("every name under *.shop.example.com")
        );
        assert_eq!(unnamed(Some("*.example.com"), &["shop.example.com"]), None);
    }
}
