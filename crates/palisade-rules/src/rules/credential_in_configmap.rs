use crate::context::Context;
use crate::credentials::{credential_reason, describe_hidden};
use crate::rule::{Check, Target};

declare_rule! {
    /// ## What it checks
    /// ConfigMap `data` entries that hold a credential: the key says so (`password`,
    /// `*_SECRET*`, `*TOKEN*`, `AWS_SECRET_ACCESS_KEY`, `AZURE_*KEY`, ...) and the value is a
    /// literal, or the value is key material or a known token format whatever the key (private
    /// key blocks, AWS access key ids, GitHub, GitLab, Slack and Stripe tokens). Values are
    /// never printed; findings give a stable tag (`#1a2b3c4d`), never the value or its length.
    ///
    /// ## Why it matters
    /// ConfigMaps are not treated as secret: they are readable by far more subjects than
    /// Secrets (`view` grants them), are not encrypted at rest by the usual encryption
    /// configuration and end up in logs and support bundles (MITRE ATT&CK T1552.001).
    ///
    /// ## Severity
    /// High: the credential is disclosed to everyone who can read ConfigMaps.
    ///
    /// ## Failing example
    /// ```yaml
    /// kind: ConfigMap
    /// data:
    ///   DB_PASSWORD: s3cr3t
    /// ```
    ///
    /// ## Passing example
    /// ```yaml
    /// kind: ConfigMap
    /// data:
    ///   DB_HOST: db.shop.svc
    /// ```
    ///
    /// ## Remediation
    /// Rotate the credential and move it into a Secret (or an external secret store).
    ///
    /// ## References
    /// - CIS Kubernetes Benchmark v1.12, 5.4.1
    /// - NSA/CISA Kubernetes Hardening Guide v1.2, "Secrets"
    pub struct CredentialInConfigMap {
        id: "SEC002",
        slug: "credential-in-configmap",
        title: "Credential stored in a ConfigMap",
        severity: High,
        target: Target::Kinds(&[("", "ConfigMap")]),
        controls: [
            CisK8s112 "5.4.1",
            NsaCisa12 "network/secrets",
            MitreAttack "T1552.001",
        ],
        remediation: "Rotate the credential and store it in a Secret.",
    }
}

impl Check for CredentialInConfigMap {
    fn check(&self, cx: &mut Context<'_>) {
        let data_path = palisade_core::JsonPointer::root().join("data");
        let Some(data) = cx.map_at(&data_path) else {
            return;
        };
        for (key, value) in data {
            let Some(value) = value.as_str() else {
                continue;
            };
            // Whole configuration files are only checked for key material and token formats:
            // their key is a file name, not a variable name.
            let reason = if value.contains('\n') {
                crate::credentials::secret_value_reason(value)
            } else {
                credential_reason(key, value)
            };
            if let Some(reason) = reason {
                cx.report(
                    data_path.join(key),
                    format!(
                        "data key {key} holds a credential ({}): {reason}",
                        describe_hidden(value)
                    ),
                );
            }
        }
    }
}
