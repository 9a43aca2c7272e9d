use base64::Engine as _;
use serde_json::Value;

use crate::context::Context;
use crate::rule::{Check, Target};

declare_rule! {
    /// ## What it checks
    /// Secret objects with plain values (`data` or `stringData` holding something other than
    /// an empty value, a placeholder or a template reference) in the scanned manifests, that is,
    /// committed to a repository or passed around as files. Not reported: objects read from a
    /// live cluster, service-account token Secrets (SEC003), Helm's release records, and
    /// Secrets encrypted with SOPS (a `sops` stanza, or every value `ENC[...]`). A
    /// SealedSecret, an ExternalSecret (External Secrets Operator), a Secrets Store CSI
    /// `SecretProviderClass` or Vault agent injection annotations are the alternatives the
    /// finding recommends; they are never findings.
    ///
    /// ## Why it matters
    /// Base64 is an encoding, not encryption: everyone who can read the repository, its forks,
    /// its CI logs and its history has the credentials, and removing the file later does not
    /// remove them from the history (MITRE ATT&CK T1552.001).
    ///
    /// ## Severity
    /// High: the credentials are disclosed to everyone with access to the files. Low for an
    /// `Opaque` Secret none of whose values is recognised as a credential (a configuration
    /// file kept in a Secret).
    ///
    /// ## Failing example
    /// ```yaml
    /// kind: Secret
    /// metadata: {name: db}
    /// stringData:
    ///   password: Zk81qLm0x
    /// ```
    ///
    /// ## Passing example
    /// ```yaml
    /// kind: ExternalSecret
    /// apiVersion: external-secrets.io/v1
    /// metadata: {name: db}
    /// spec:
    ///   secretStoreRef: {name: vault, kind: ClusterSecretStore}
    ///   data:
    ///   - secretKey: password
    ///     remoteRef: {key: shop/db, property: password}
    /// ```
    ///
    /// ## Remediation
    /// Rotate the credentials, remove the Secret from the repository (and its history), and
    /// commit an encrypted or referenced form instead: a SealedSecret, a SOPS-encrypted file,
    /// or an ExternalSecret / SecretProviderClass that fetches the value from a vault.
    ///
    /// ## References
    /// - Kubernetes documentation, "Good practices for Kubernetes Secrets"
    /// - NSA/CISA Kubernetes Hardening Guide v1.2, "Secrets"
    pub struct SecretInManifest {
        id: "SEC020",
        slug: "secret-in-manifest",
        title: "Secret with plain values in a manifest",
        severity: High,
        target: Target::Kinds(&[("", "Secret")]),
        controls: [
            NsaCisa12 "network/secrets",
            MitreAttack "T1552.001",
        ],
        remediation: "Rotate the values and commit a SealedSecret, a SOPS-encrypted file or an ExternalSecret instead.",
    }
}

/// Secret types whose values are not a user's credentials to keep out of Git.
const EXEMPT_TYPES: &[&str] = &["kubernetes.io/service-account-token", "helm.sh/release.v1"];

impl Check for SecretInManifest {
    fn check(&self, cx: &mut Context<'_>) {
        let value = &cx.object.value;
        let secret_type = value
            .get("type")
            .and_then(Value::as_str)
            .unwrap_or("Opaque");
        let live = cx
            .inventory
            .source_of(cx.object)
            .path
            .starts_with("cluster:");
        if live || EXEMPT_TYPES.contains(&secret_type) || value.get("sops").is_some() {
            return;
        }
        for field in ["data", "stringData"] {
            let Some(entries) = value.get(field).and_then(Value::as_object) else {
                continue;
            };
            if !entries.is_empty()
                && entries
                    .values()
                    .all(|v| v.as_str().is_some_and(|s| s.starts_with("ENC[")))
            {
                return;
            }
            // Each plain value with its key, decoded once (from base64 for `data`).
            let plain: Vec<(&str, String)> = entries
                .iter()
                .filter_map(|(key, v)| {
                    Some((
                        key.as_str(),
                        plain_value(key, v.as_str()?, field == "data")?,
                    ))
                })
                .collect();
            if plain.is_empty() {
                continue;
            }
            let keys: Vec<&str> = plain.iter().map(|(key, _)| *key).collect();
            let keys = palisade_core::words::first_few(&keys, 5);
            let credentials = plain.iter().any(|(key, text)| {
                palisade_secrets::names::is_credential_name(key)
                    || !palisade_secrets::scan_value(Some(key), text).is_empty()
            });
            let (what, severity) = if credentials || secret_type != "Opaque" {
                ("anyone who can read these files has the credentials", None)
            } else {
                (
                    "none is recognised as a credential, but anything put there later is disclosed the same way",
                    Some(palisade_core::Severity::Low),
                )
            };
            let mut reported = crate::context::Reported::new(
                palisade_core::JsonPointer::root().join(field),
                format!(
                    "Secret of type {secret_type} carries {} plain value{} in {field} ({keys}): {what}; commit a SealedSecret, a SOPS-encrypted file or an ExternalSecret instead",
                    plain.len(),
                    if plain.len() == 1 { "" } else { "s" },
                ),
            );
            reported.severity = severity;
            cx.report_with(reported);
        }
    }
}

/// A Secret value as it is used (decoded from base64 for `data`), when it is a real value:
/// not empty, not a template or reference, not a placeholder.
fn plain_value(key: &str, text: &str, encoded: bool) -> Option<String> {
    let plain = if encoded {
        // Not base64: a template (`{{ .Values.x | b64enc }}`) or broken; the API server would
        // reject a broken one.
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(text.trim())
            .ok()?;
        String::from_utf8_lossy(&bytes).into_owned()
    } else {
        text.to_string()
    };
    (!palisade_secrets::values::is_reference(&plain)
        && !palisade_secrets::values::is_placeholder(key, &plain))
    .then_some(plain)
}
