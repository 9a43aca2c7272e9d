use palisade_core::tree::Tree as _;
use serde_json::Value;

use crate::context::Context;
use crate::rule::{Check, Target};

declare_rule! {
    /// ## What it checks
    /// Istio mutual TLS that is not enforced: a `PeerAuthentication` whose `mtls.mode` (or a
    /// `portLevelMtls` entry) is `PERMISSIVE` or `DISABLE`, which overrides a stricter
    /// mesh-wide or namespace setting for what it selects (workload over namespace over mesh,
    /// as Istio applies them); and namespaces with sidecar injection on
    /// (`istio-injection: enabled` or an `istio.io/rev` label) that no `STRICT`
    /// PeerAuthentication covers, neither their own (without a selector) nor the mesh-wide one
    /// in `istio-system`, so Istio's default, `PERMISSIVE`, applies; and namespaces where
    /// mutual TLS is required but their pods get no proxy: `istio-injection: disabled` under an
    /// effective STRICT policy, or `linkerd.io/inject: disabled` with Linkerd
    /// `MeshTLSAuthentication` policies in the namespace.
    ///
    /// ## Why it matters
    /// In PERMISSIVE mode a sidecar also accepts plain text: any pod without a sidecar (or an
    /// attacker in one) talks to the workload unauthenticated and unencrypted, and
    /// authorization policies that rely on peer identities can be bypassed. East-west traffic
    /// then crosses the network readable and forgeable (MITRE ATT&CK T1557).
    ///
    /// ## Severity
    /// Medium: encryption and peer authentication inside the mesh are optional.
    ///
    /// ## Failing example
    /// ```yaml
    /// kind: PeerAuthentication
    /// metadata: {name: default, namespace: shop}
    /// spec:
    ///   mtls: {mode: PERMISSIVE}
    /// ```
    ///
    /// ## Passing example
    /// ```yaml
    /// kind: PeerAuthentication
    /// metadata: {name: default, namespace: istio-system}
    /// spec:
    ///   mtls: {mode: STRICT}
    /// ```
    ///
    /// ## Remediation
    /// Set `mtls.mode: STRICT` mesh-wide (in `istio-system`) once every workload has a
    /// sidecar; keep PERMISSIVE only for named ports during a migration.
    ///
    /// ## References
    /// - Istio documentation, "PeerAuthentication" and "Mutual TLS Migration"
    /// - NSA/CISA Kubernetes Hardening Guide v1.2, "Encryption"
    pub struct MeshMtlsNotStrict {
        id: "NET015",
        slug: "mesh-mtls-not-strict",
        title: "Service mesh mutual TLS is not enforced",
        severity: Medium,
        target: Target::Kinds(&[("security.istio.io", "PeerAuthentication"), ("", "Namespace")]),
        controls: [
            NsaCisa12 "network/encryption",
            MitreAttack "T1557",
        ],
        remediation: "Set `mtls.mode: STRICT` on a PeerAuthentication that covers the workloads.",
    }
}

const ROOT_NAMESPACE: &str = "istio-system";

fn mode(pa: &Value) -> Option<&str> {
    pa.at("/spec/mtls/mode").and_then(Value::as_str)
}

fn has_selector(pa: &Value) -> bool {
    pa.at("/spec/selector/matchLabels")
        .and_then(Value::as_object)
        .is_some_and(|m| !m.is_empty())
}

impl Check for MeshMtlsNotStrict {
    fn reads(&self) -> &'static [(&'static str, &'static str)] {
        &[
            ("security.istio.io", "PeerAuthentication"),
            ("policy.linkerd.io", "MeshTLSAuthentication"),
        ]
    }

    fn check(&self, cx: &mut Context<'_>) {
        if cx.object.id.kind == "Namespace" {
            self.check_namespace(cx);
            return;
        }
        let spec = palisade_core::JsonPointer::root().join("spec");
        if let Some(m @ ("PERMISSIVE" | "DISABLE")) = mode(&cx.object.value) {
            cx.report(
                spec.join("mtls").join("mode"),
                format!("mtls.mode {m} accepts plain-text connections for what this policy covers"),
            );
        }
        if let Some(ports) = cx
            .object
            .value
            .at("/spec/portLevelMtls")
            .and_then(Value::as_object)
        {
            for (port, setting) in ports {
                if let Some(m @ ("PERMISSIVE" | "DISABLE")) =
                    setting.get("mode").and_then(Value::as_str)
                {
                    cx.report(
                        spec.join("portLevelMtls").join(port.as_str()),
                        format!("port {port} accepts plain-text connections (mode {m})"),
                    );
                }
            }
        }
    }
}

impl MeshMtlsNotStrict {
    fn check_namespace(&self, cx: &mut Context<'_>) {
        let labels = cx
            .object
            .value
            .at("/metadata/labels")
            .and_then(Value::as_object);
        let label = |k: &str| labels.and_then(|l| l.get(k)).and_then(Value::as_str);
        let annotation = |k: &str| {
            cx.object
                .annotations()
                .and_then(|a| a.get(k))
                .and_then(Value::as_str)
        };
        let Some(name) = cx.object.id.name.as_deref() else {
            return;
        };
        // The namespace's own policy wins over the mesh-wide one; UNSET inherits.
        let effective = |namespace: &str| {
            cx.inventory
                .of_kind("security.istio.io", "PeerAuthentication")
                .filter(|pa| {
                    pa.id.namespace.as_deref() == Some(namespace) && !has_selector(&pa.value)
                })
                .find_map(|pa| mode(&pa.value).filter(|m| *m != "UNSET"))
        };
        let mode = effective(name).or_else(|| effective(ROOT_NAMESPACE));
        let labels_at = palisade_core::JsonPointer::root()
            .join("metadata")
            .join("labels");
        let injected =
            label("istio-injection") == Some("enabled") || label("istio.io/rev").is_some();
        if injected && mode.is_none() && cx.absence_unknown("the PeerAuthentications of the mesh") {
            return;
        }
        if injected && mode != Some("STRICT") {
            cx.report(
                labels_at.clone(),
                format!(
                    "sidecars are injected in {name} but no STRICT PeerAuthentication covers it (effective mode: {})",
                    mode.unwrap_or("PERMISSIVE, Istio's default")
                ),
            );
        }
        // Mutual TLS is required, but the namespace's pods get no proxy to speak it.
        if label("istio-injection") == Some("disabled") && mode == Some("STRICT") {
            cx.report(
                labels_at,
                format!(
                    "sidecar injection is disabled in {name} while STRICT mutual TLS is required: its pods have no mesh identity and talk plain text"
                ),
            );
        }
        let linkerd_mtls = cx
            .inventory
            .of_kind("policy.linkerd.io", "MeshTLSAuthentication")
            .any(|m| m.id.namespace.as_deref() == Some(name));
        if annotation("linkerd.io/inject") == Some("disabled") && linkerd_mtls {
            cx.report(
                palisade_core::JsonPointer::root().join("metadata").join("annotations"),
                format!(
                    "Linkerd injection is disabled in {name} while its MeshTLSAuthentication policies require mesh identities: its pods have no proxy to present one"
                ),
            );
        }
    }
}
