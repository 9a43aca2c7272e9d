use palisade_core::{JsonPointer, Severity};
use serde_json::Value;

use crate::context::{Context, Reported};
use crate::rule::{Check, Target};

declare_rule! {
    /// ## What it checks
    /// An API server encryption configuration (`EncryptionConfiguration`, the file
    /// `--encryption-provider-config` names) under which Secrets are not encrypted: no entry
    /// covers them (`secrets`, or the wildcards `*.` and `*.*`), or the first entry that does
    /// writes with `identity`. It also reports the weaker choices for that entry's first
    /// provider: `aesgcm`, whose key must be rotated every 200,000 writes, and KMS v1, which is
    /// deprecated and off by default since Kubernetes 1.29.
    ///
    /// ## Why it matters
    /// The API server writes with the first provider of the first entry that matches a
    /// resource; the others only read. With `identity` first, Secrets go to etcd as base64,
    /// however many keys are listed after it, and anyone who reads etcd's disk, a snapshot or
    /// a backup reads every credential of the cluster (MITRE ATT&CK T1552.001). CP009 finds
    /// an API server that names no configuration at all; this rule reads the configuration.
    ///
    /// ## Severity
    /// Critical when Secrets are written unencrypted; medium for `aesgcm`, low for KMS v1.
    ///
    /// ## Failing example
    /// ```yaml
    /// apiVersion: apiserver.config.k8s.io/v1
    /// kind: EncryptionConfiguration
    /// resources:
    /// - resources: [secrets]
    ///   providers:
    ///   - identity: {}
    ///   - aescbc:
    ///       keys: [{name: key1, secret: <base64 key>}]
    /// ```
    ///
    /// ## Passing example
    /// ```yaml
    /// apiVersion: apiserver.config.k8s.io/v1
    /// kind: EncryptionConfiguration
    /// resources:
    /// - resources: [secrets]
    ///   providers:
    ///   - kms:
    ///       apiVersion: v2
    ///       name: vault
    ///       endpoint: unix:///var/run/kms-plugin/socket.sock
    ///   - identity: {}   # reads what was written before encryption
    /// ```
    ///
    /// ## Remediation
    /// Put a `kms` (v2) provider first, or `aescbc` or `secretbox`, keep `identity` last only
    /// to read older data, restart the API server, then rewrite every Secret so it is stored
    /// encrypted (`kubectl get secrets -A -o json | kubectl replace -f -`).
    ///
    /// ## References
    /// - CIS Kubernetes Benchmark v1.12, 1.2.28
    /// - Kubernetes documentation, "Encrypting Confidential Data at Rest"
    /// - NSA/CISA Kubernetes Hardening Guide v1.2, "Encryption"
    pub struct EncryptionConfigWeak {
        id: "CP013",
        slug: "encryption-config-weak",
        title: "Encryption configuration writes Secrets unencrypted or weakly",
        severity: Critical,
        target: Target::Kinds(&[("apiserver.config.k8s.io", "EncryptionConfiguration")]),
        controls: [
            CisK8s112 "1.2.28",
            NsaCisa12 "network/encryption",
            MitreAttack "T1552.001",
        ],
        remediation: "Put a kms v2, aescbc or secretbox provider first for Secrets; `identity` only last.",
    }
}

/// Whether an entry's `resources` names Secrets: themselves, or every resource of the core
/// group (`*.`) or of every group (`*.*`).
fn covers_secrets(entry: &Value) -> bool {
    entry
        .get("resources")
        .and_then(Value::as_array)
        .is_some_and(|names| {
            names
                .iter()
                .filter_map(Value::as_str)
                .any(|n| matches!(n, "secrets" | "*." | "*.*"))
        })
}

impl Check for EncryptionConfigWeak {
    fn check(&self, cx: &mut Context<'_>) {
        let entries = cx.array_at(&JsonPointer::parse("/resources").unwrap_or_default());
        // The API server writes with the first entry that matches: only that one counts.
        let Some(at) = entries.iter().position(covers_secrets) else {
            cx.report(
                JsonPointer::parse("/resources").unwrap_or_default(),
                "no entry covers Secrets: they are written to etcd unencrypted",
            );
            return;
        };
        let pointer = |tail: &str| {
            JsonPointer::parse(&format!("/resources/{at}/providers/0{tail}")).unwrap_or_default()
        };
        let first = entries[at]
            .get("providers")
            .and_then(Value::as_array)
            .and_then(|p| p.first())
            .and_then(Value::as_object);
        let Some((name, settings)) = first.and_then(|f| f.iter().next()) else {
            cx.report(
                JsonPointer::parse(&format!("/resources/{at}")).unwrap_or_default(),
                "the entry that covers Secrets names no provider",
            );
            return;
        };
        let (message, severity) = match name.as_str() {
            "identity" => (
                "Secrets are written to etcd unencrypted: `identity` is the first provider of \
                 the entry that covers them"
                    .to_string(),
                None,
            ),
            "aesgcm" => (
                "Secrets are encrypted with aesgcm, whose key must be rotated every 200,000 \
                 writes; the benchmark names kms, aescbc and secretbox"
                    .to_string(),
                Some(Severity::Medium),
            ),
            "kms" if settings.get("apiVersion").and_then(Value::as_str) != Some("v2") => (
                "Secrets are encrypted with KMS v1, deprecated and off by default since \
                 Kubernetes 1.29: use `apiVersion: v2`"
                    .to_string(),
                Some(Severity::Low),
            ),
            "kms" | "aescbc" | "secretbox" => return,
            other => (
                format!(
                    "the first provider for Secrets, `{other}`, is not one the API server knows"
                ),
                None,
            ),
        };
        let mut reported = Reported::new(pointer(&format!("/{name}")), message);
        reported.severity = severity;
        cx.report_with(reported);
    }
}
