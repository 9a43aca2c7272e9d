use palisade_core::tree::Tree as _;
use serde_json::Value;

use crate::context::Context;
use crate::rule::{Check, Target};

declare_rule! {
    /// ## What it checks
    /// Istio `DestinationRule`s that turn TLS off for a destination: `tls.mode: DISABLE` in
    /// `trafficPolicy`, in one of its `portLevelSettings`, or in a subset's `trafficPolicy`.
    ///
    /// ## Why it matters
    /// A client-side DISABLE makes sidecars send plain text to the destination even where
    /// mutual TLS is available, so the traffic crosses the network readable and the server
    /// cannot authenticate the caller; with the server in STRICT mode the calls fail, which
    /// tempts teams to relax the server too (MITRE ATT&CK T1557).
    ///
    /// ## Severity
    /// Medium: east-west traffic to the destination is unencrypted.
    ///
    /// ## Failing example
    /// ```yaml
    /// kind: DestinationRule
    /// spec:
    ///   host: payments.shop.svc.cluster.local
    ///   trafficPolicy: {tls: {mode: DISABLE}}
    /// ```
    ///
    /// ## Passing example
    /// ```yaml
    /// kind: DestinationRule
    /// spec:
    ///   host: payments.shop.svc.cluster.local
    ///   trafficPolicy: {tls: {mode: ISTIO_MUTUAL}}
    /// ```
    ///
    /// ## Remediation
    /// Use `ISTIO_MUTUAL` (or remove the `tls` block: auto mTLS picks it).
    ///
    /// ## References
    /// - Istio documentation, "DestinationRule: ClientTLSSettings"
    /// - NSA/CISA Kubernetes Hardening Guide v1.2, "Encryption"
    pub struct MeshTlsDisabled {
        id: "NET016",
        slug: "mesh-tls-disabled",
        title: "DestinationRule disables TLS",
        severity: Medium,
        target: Target::Kinds(&[("networking.istio.io", "DestinationRule")]),
        controls: [
            NsaCisa12 "network/encryption",
            MitreAttack "T1557",
        ],
        remediation: "Set `tls.mode: ISTIO_MUTUAL`, or remove the `tls` block.",
    }
}

impl Check for MeshTlsDisabled {
    fn check(&self, cx: &mut Context<'_>) {
        let spec = palisade_core::JsonPointer::root().join("spec");
        let mut policies = vec![(spec.join("trafficPolicy"), "trafficPolicy".to_string())];
        for (i, subset) in cx.array_at(&spec.join("subsets")).iter().enumerate() {
            let name = subset.get("name").and_then(Value::as_str).unwrap_or("?");
            policies.push((
                spec.join("subsets").join(i).join("trafficPolicy"),
                format!("subset {name}"),
            ));
        }
        for (at, what) in policies {
            let mut places = vec![(at.join("tls").join("mode"), what.clone())];
            let ports = at.join("portLevelSettings");
            for (i, port) in cx.array_at(&ports).iter().enumerate() {
                let number = port.at("/port/number").and_then(Value::as_u64).unwrap_or(0);
                places.push((
                    ports.join(i).join("tls").join("mode"),
                    format!("{what}, port {number}"),
                ));
            }
            for (pointer, label) in places {
                if cx.str_at(&pointer) == Some("DISABLE") {
                    cx.report(
                        pointer,
                        format!("{label}: tls.mode DISABLE sends plain text to the destination"),
                    );
                }
            }
        }
    }
}
