use serde_json::Value;

use crate::context::Context;
use crate::rule::{Check, Target};

declare_rule! {
    /// ## What it checks
    /// Ingresses that serve plain HTTP: no `spec.tls` at all, or rule hosts that no `spec.tls`
    /// entry covers (a `*.example.com` entry covers one label, as in TLS certificates).
    ///
    /// ## Why it matters
    /// Without TLS, credentials, session cookies and data cross the network in clear text and
    /// can be read or changed by anyone on the path (MITRE ATT&CK T1557). The NSA/CISA guide
    /// asks for TLS on all traffic entering the cluster.
    ///
    /// ## Severity
    /// Medium: exposure depends on the network path, but the fix is routine.
    ///
    /// ## Failing example
    /// ```yaml
    /// spec:
    ///   rules:
    ///   - host: shop.example.com
    /// ```
    ///
    /// ## Passing example
    /// ```yaml
    /// spec:
    ///   tls:
    ///   - hosts: [shop.example.com]
    ///     secretName: shop-tls
    ///   rules:
    ///   - host: shop.example.com
    /// ```
    ///
    /// ## Remediation
    /// Add a `spec.tls` entry for every host, with a certificate Secret (cert-manager can issue
    /// and renew it).
    ///
    /// ## References
    /// - NSA/CISA Kubernetes Hardening Guide v1.2, "Encryption"
    /// - Kubernetes documentation, "Ingress", TLS
    pub struct IngressWithoutTls {
        id: "NET006",
        slug: "ingress-without-tls",
        title: "Ingress serves hosts without TLS",
        severity: Medium,
        target: Target::Kinds(&[("networking.k8s.io", "Ingress"), ("extensions", "Ingress")]),
        controls: [
            NsaCisa12 "network/encryption",
            MitreAttack "T1557",
        ],
        remediation: "Add `spec.tls` entries (with a certificate Secret) covering every host.",
    }
}

/// Whether a TLS host entry covers `host` (exact, or a one-label wildcard).
fn covers(pattern: &str, host: &str) -> bool {
    match pattern.strip_prefix("*.") {
        Some(suffix) => host
            .split_once('.')
            .is_some_and(|(first, rest)| !first.is_empty() && rest.eq_ignore_ascii_case(suffix)),
        None => pattern.eq_ignore_ascii_case(host),
    }
}

impl Check for IngressWithoutTls {
    fn check(&self, cx: &mut Context<'_>) {
        let spec = palisade_core::JsonPointer::root().join("spec");
        let tls = cx.array_at(&spec.join("tls"));
        if tls.is_empty() {
            cx.report(
                spec,
                "the Ingress has no tls section: every host is served over plain HTTP".to_string(),
            );
            return;
        }
        let tls_hosts: Vec<&str> = tls
            .iter()
            .filter_map(|t| t.get("hosts").and_then(Value::as_array))
            .flatten()
            .filter_map(Value::as_str)
            .collect();
        // A TLS entry without hosts serves the controller's default certificate for all hosts.
        if tls.iter().any(|t| {
            t.get("hosts")
                .and_then(Value::as_array)
                .is_none_or(|h| h.is_empty())
        }) {
            return;
        }
        let rules = spec.join("rules");
        for (i, rule) in cx.array_at(&rules).iter().enumerate() {
            let Some(host) = rule.get("host").and_then(Value::as_str) else {
                continue;
            };
            if !tls_hosts.iter().any(|p| covers(p, host)) {
                cx.report(
                    rules.join(i).join("host"),
                    format!("host {host} has no tls entry and is served over plain HTTP"),
                );
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::covers;

    #[test]
    fn wildcards_cover_one_label() {
        assert!(covers("*.example.com", "shop.example.com"));
        assert!(!covers("*.example.com", "a.b.example.com"));
        assert!(!covers("*.example.com", "example.com"));
        assert!(covers("Shop.Example.com", "shop.example.com"));
    }
}
