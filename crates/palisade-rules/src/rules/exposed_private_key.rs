use crate::context::Context;
use crate::rule::{Check, Target};

declare_rule! {
    /// ## What it checks
    /// PEM private key blocks (`-----BEGIN ... PRIVATE KEY-----` with a body: RSA, EC, DSA,
/// PKCS#8, encrypted PKCS#8, OpenSSH, PGP private key blocks) and PuTTY key files, anywhere
/// outside a Secret's own data: environment values, arguments, ConfigMap data and binaryData
/// (base64 and gzip decoded), annotations, the `last-applied-configuration` copy, Helm release
/// values and any field of a custom resource. A header without a key body (documentation
/// naming the format) is not a key. Values are never printed: a finding gives the detector, the field, at most the
    /// format's public prefix and a stable tag (`#1a2b3c4d`).
    ///
    /// ## Why it matters
    /// Whoever reads the object holds the key: TLS server identities can be impersonated,
/// SSH keys open the hosts that trust them, signing keys sign. ConfigMaps and workload specs
/// are readable by far more subjects than Secrets (MITRE ATT&CK T1552.004).
    ///
    /// ## Severity
    /// High: the key is disclosed to everyone with read access.
    ///
    /// ## Failing example
    /// ```yaml
    /// kind: ConfigMap
/// data:
///   tls.key: |
///     -----BEGIN PRIVATE KEY-----
///     MIIEvQIBADANBgkqhkiG9w0BAQEFAASC...
///     -----END PRIVATE KEY-----
    /// ```
    ///
    /// ## Passing example
    /// ```yaml
    /// kind: Secret
/// type: kubernetes.io/tls
/// # created from an external store, not committed
    /// ```
    ///
    /// ## Remediation
    /// Revoke the key, issue a new one and keep it in a Secret fed from an external store (External Secrets Operator, Secrets Store CSI, cert-manager).
    ///
    /// ## References
    /// - MITRE ATT&CK, "Unsecured Credentials" (T1552)
    /// - NSA/CISA Kubernetes Hardening Guide v1.2, "Secrets"
    pub struct ExposedPrivateKey {
        id: "SEC010",
        slug: "exposed-private-key",
        title: "Private key written in plain text",
        severity: High,
        target: Target::All,
        controls: [MitreAttack "T1552.004", NsaCisa12 "network/secrets"],
        remediation: "Revoke the key, issue a new one and keep it in a Secret fed from an external store (External Secrets Operator, Secrets Store CSI, cert-manager).",
    }
}

impl Check for ExposedPrivateKey {
    fn models(&self, models: &mut crate::context::Models) {
        crate::secrets::ask(models);
    }

    fn check(&self, cx: &mut Context<'_>) {
        crate::secrets::report_rule(cx, &Self::metadata().id);
    }
}
