use serde_json::Value;

use crate::context::Context;
use crate::rule::{Check, Target};

declare_rule! {
    /// ## What it checks
    /// Ingress rules that answer for hosts nobody named: a wildcard host (`*.example.com`) or a
    /// rule without `host`, which serves every host name that reaches the controller, and a
    /// `defaultBackend`, which serves every request no rule matches.
    ///
    /// ## Why it matters
    /// A catch-all publishes the backend under any name pointed at the load balancer: DNS
    /// records left dangling, a name an attacker points at your address, or one another team
    /// expects to own. Wildcards also widen what one certificate and one backend stand for, so
    /// a new subdomain is exposed without review (MITRE ATT&CK T1190).
    ///
    /// ## Severity
    /// Low: it widens what the Ingress exposes; the exposure itself is NET001's and NET011's.
    ///
    /// ## Failing example
    /// ```yaml
    /// spec:
    ///   rules:
    ///   - host: "*.example.com"
    /// ```
    ///
    /// ## Passing example
    /// ```yaml
    /// spec:
    ///   rules:
    ///   - host: shop.example.com
    /// ```
    ///
    /// ## Remediation
    /// Name each host the backend serves; drop the default backend, or point it at a
    /// backend that answers 404.
    ///
    /// ## References
    /// - Kubernetes documentation, "Ingress: Hostname wildcards" and "Default backend"
    /// - MITRE ATT&CK T1190, Exploit Public-Facing Application
    pub struct IngressWildcardHost {
        id: "NET017",
        slug: "ingress-wildcard-host",
        title: "Ingress answers for hosts nobody named",
        severity: Low,
        target: Target::Kinds(&[("networking.k8s.io", "Ingress"), ("extensions", "Ingress")]),
        controls: [
            NsaCisa12 "network/network-policies",
            MitreAttack "T1190",
        ],
        remediation: "Name every host the Ingress serves; remove the default backend.",
    }
}

impl Check for IngressWildcardHost {
    fn check(&self, cx: &mut Context<'_>) {
        let spec = palisade_core::JsonPointer::root().join("spec");
        for field in ["defaultBackend", "backend"] {
            if cx.get(&spec.join(field)).is_some() {
                cx.report(
                    spec.join(field),
                    format!("spec.{field} serves every request no rule matches, whatever its host"),
                );
            }
        }
        let rules = spec.join("rules");
        for (i, rule) in cx.array_at(&rules).iter().enumerate() {
            match rule.get("host").and_then(Value::as_str) {
                None | Some("") => cx.report(
                    rules.join(i),
                    format!("rules[{i}] has no host: it serves every host name that reaches the controller"),
                ),
                Some(host) if host.starts_with('*') => cx.report(
                    rules.join(i).join("host"),
                    format!("host {host} serves every subdomain, including ones nobody has created yet"),
                ),
                Some(_) => {}
            }
        }
    }
}
