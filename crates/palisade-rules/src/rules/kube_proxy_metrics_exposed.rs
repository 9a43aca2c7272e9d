use palisade_core::JsonPointer;
use palisade_core::tree::Tree as _;
use serde_json::Value;

use crate::context::Context;
use crate::rule::{Check, Target};

declare_rule! {
    /// ## What it checks
    /// A kube-proxy configuration (`KubeProxyConfiguration`, or the `config.conf` of the
    /// `kube-system/kube-proxy` ConfigMap, where kubeadm keeps it) whose `metricsBindAddress`
    /// serves the metrics beyond the loopback. Unset or empty, it is `127.0.0.1:10249`.
    ///
    /// ## Why it matters
    /// kube-proxy runs on every node in the host's network. Its metrics port answers without
    /// authentication, and `/metrics` tells whoever reaches it how the node routes Services;
    /// `/configz` (the whole configuration) is served on the same port, and `/debug/pprof`
    /// when profiling is on (MITRE ATT&CK T1613). Setting `0.0.0.0:10249` so that Prometheus can scrape it opens
    /// that to every pod and every machine that reaches the node.
    ///
    /// ## Severity
    /// Low: information about the node, and a way to load it.
    ///
    /// ## Failing example
    /// ```yaml
    /// apiVersion: kubeproxy.config.k8s.io/v1alpha1
    /// kind: KubeProxyConfiguration
    /// metricsBindAddress: 0.0.0.0:10249
    /// ```
    ///
    /// ## Passing example
    /// ```yaml
    /// apiVersion: kubeproxy.config.k8s.io/v1alpha1
    /// kind: KubeProxyConfiguration
    /// metricsBindAddress: 127.0.0.1:10249
    /// ```
    ///
    /// ## Remediation
    /// Keep the metrics on the loopback and scrape them through an authenticating proxy on
    /// the node (kube-rbac-proxy), or allow only the monitoring system's addresses to reach
    /// port 10249 in the node's firewall.
    ///
    /// ## References
    /// - CIS Kubernetes Benchmark v1.12, 4.3.1
    /// - Kubernetes documentation, "kube-proxy" command-line reference, `--metrics-bind-address`
    pub struct KubeProxyMetricsExposed {
        id: "NODE003",
        slug: "kube-proxy-metrics-exposed",
        title: "kube-proxy serves its metrics beyond the loopback",
        severity: Low,
        target: Target::Kinds(&[
            ("", "ConfigMap"),
            ("kubeproxy.config.k8s.io", "KubeProxyConfiguration"),
        ]),
        controls: [
            CisK8s112 "4.3.1",
            MitreAttack "T1613",
        ],
        remediation: "Keep `metricsBindAddress` on 127.0.0.1 and scrape through an authenticating proxy.",
    }
}

/// The address kube-proxy's configuration gives its metrics, and where it is written.
fn metrics_address(configuration: &Value) -> String {
    match configuration
        .get("metricsBindAddress")
        .and_then(Value::as_str)
    {
        Some(address) if !address.trim().is_empty() => address.trim().to_string(),
        _ => "127.0.0.1:10249".to_string(),
    }
}

/// Whether `host:port` (or `[v6]:port`) is a loopback address.
fn on_loopback(address: &str) -> bool {
    let host = match address.rsplit_once(':') {
        Some((host, port)) if port.chars().all(|c| c.is_ascii_digit()) => host,
        _ => address,
    };
    let host = host.trim_start_matches('[').trim_end_matches(']');
    host == "localhost"
        || host
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

impl Check for KubeProxyMetricsExposed {
    fn check(&self, cx: &mut Context<'_>) {
        let object = cx.object;
        let (configuration, path) = if object.id.kind == "ConfigMap" {
            let named = object.id.name.as_deref() == Some("kube-proxy")
                && object.id.namespace.as_deref() == Some("kube-system");
            if !named {
                cx.out_of_scope();
                return;
            }
            let Some(text) = object.value.at("/data/config.conf").and_then(Value::as_str) else {
                cx.not_assessed("the kube-proxy ConfigMap has no config.conf");
                return;
            };
            let limits = palisade_inventory::Limits::default();
            let stream = palisade_inventory::yaml::parse_stream(text, &limits);
            let Some(document) = stream.documents.into_iter().next() else {
                cx.not_assessed("the kube-proxy ConfigMap's config.conf is not a YAML document");
                return;
            };
            let path = JsonPointer::parse("/data/config.conf").unwrap_or_default();
            (document.value, path)
        } else {
            let path = JsonPointer::parse("/metricsBindAddress").unwrap_or_default();
            (object.value.clone(), path)
        };
        let address = metrics_address(&configuration);
        if !on_loopback(&address) {
            cx.report(
                path,
                format!(
                    "kube-proxy serves its metrics and configuration without authentication \
                     on {address}, beyond the loopback"
                ),
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loopback_addresses_are_told_apart() {
        for (address, loopback) in [
            ("127.0.0.1:10249", true),
            ("localhost:10249", true),
            ("[::1]:10249", true),
            ("0.0.0.0:10249", false),
            ("[::]:10249", false),
            ("10.0.0.10:10249", false),
            (":10249", false),
        ] {
            assert_eq!(on_loopback(address), loopback, "{address}");
        }
        assert_eq!(
            metrics_address(&serde_json::json!({"metricsBindAddress": ""})),
            "127.0.0.1:10249"
        );
    }
}
