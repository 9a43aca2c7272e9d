use serde_json::Value;

use crate::context::Context;
use crate::rule::{Check, Target};

declare_rule! {
    /// ## What it checks
    /// Secrets whose `kubectl.kubernetes.io/last-applied-configuration` annotation holds their
    /// `data` or `stringData`: `kubectl apply` (client-side) copies the whole applied object,
    /// values included, into this annotation. A cluster read (`scan --cluster`, `snapshot`,
    /// `watch`, the webhook's model) keeps a Secret's copy with each value replaced by
    /// `[REDACTED]`, so that the rule judges it there too while Palisade never holds the
    /// values; the finding names the keys only.
    ///
    /// ## Why it matters
    /// Annotations are metadata: they are returned to clients that list objects as metadata
    /// only, shown by `kubectl describe`, copied into events, backups and support bundles,
    /// and read by tools that would never be given `get secrets`. The copy also keeps values
    /// that were since changed (MITRE ATT&CK T1552.001).
    ///
    /// ## Severity
    /// High: the Secret's values are readable through a path RBAC reviews overlook.
    ///
    /// ## Failing example
    /// ```yaml
    /// kind: Secret
    /// metadata:
    ///   annotations:
    ///     kubectl.kubernetes.io/last-applied-configuration: |
    ///       {"apiVersion":"v1","kind":"Secret","data":{"password":"Wms4MXFMbTB4"}, ...}
    /// ```
    ///
    /// ## Passing example
    /// ```yaml
    /// # applied with --server-side: no last-applied annotation
    /// kind: Secret
    /// metadata: {name: db}
    /// ```
    ///
    /// ## Remediation
    /// Rotate the values, remove the annotation (`kubectl annotate secret NAME
    /// kubectl.kubernetes.io/last-applied-configuration-`) and apply Secrets with
    /// `kubectl apply --server-side`, or create them from an external store.
    ///
    /// ## References
    /// - Kubernetes documentation, "Server-Side Apply"
    /// - NSA/CISA Kubernetes Hardening Guide v1.2, "Secrets"
    pub struct SecretInLastApplied {
        id: "SEC021",
        slug: "secret-in-last-applied",
        title: "Secret values copied into the last-applied-configuration annotation",
        severity: High,
        target: Target::Kinds(&[("", "Secret")]),
        controls: [
            NsaCisa12 "network/secrets",
            MitreAttack "T1552.001",
        ],
        remediation: "Rotate the values, remove the annotation and apply Secrets server-side.",
    }
}

impl Check for SecretInLastApplied {
    fn check(&self, cx: &mut Context<'_>) {
        let Some(text) = cx
            .object
            .annotations()
            .and_then(|a| a.get(palisade_secrets::LAST_APPLIED))
            .and_then(Value::as_str)
        else {
            return;
        };
        let Ok(copy) = serde_json::from_str::<Value>(text) else {
            return;
        };
        let keys: Vec<&str> = ["data", "stringData"]
            .iter()
            .filter_map(|f| copy.get(f).and_then(Value::as_object))
            .flat_map(|m| {
                m.iter()
                    .filter(|(_, v)| v.as_str().is_some_and(|s| !s.is_empty()))
                    .map(|(k, _)| k.as_str())
            })
            .collect();
        if keys.is_empty() {
            return;
        }
        let pointer = palisade_core::JsonPointer::root()
            .join("metadata")
            .join("annotations")
            .join(palisade_secrets::LAST_APPLIED);
        cx.report(
            pointer,
            format!(
                "the last-applied-configuration annotation holds a copy of {} value{} ({}): readable by anyone who can read the Secret's metadata",
                keys.len(),
                if keys.len() == 1 { "" } else { "s" },
                keys.iter().take(5).copied().collect::<Vec<_>>().join(", ")
            ),
        );
    }
}
