use crate::context::Context;
use crate::rule::{Check, Target};

declare_rule! {
    /// ## What it checks
    /// Plain-text credentials found by the generic detector (a name that says "credential" and a
/// literal, random-looking value) in places other than containers and ConfigMaps:
/// annotations, the `last-applied-configuration` copy of an object, Helm release values, and
/// any field of a custom resource (`spec.password`, a `{name, value}` parameter). Container
/// environment and arguments are POD027, ConfigMaps SEC002. Values are never printed: a finding gives the detector, the field, at most the
    /// format's public prefix and a stable tag (`#1a2b3c4d`).
    /// A placeholder under a credential's name is reported at low severity.
    ///
    /// ## Why it matters
    /// Annotations and custom resources are read by controllers, dashboards and anyone with
/// `get` on the kind; they are not encrypted at rest like Secrets (MITRE ATT&CK T1552.001).
    ///
    /// ## Severity
    /// High: the credential is disclosed to everyone with read access.
    ///
    /// ## Failing example
    /// ```yaml
    /// kind: Database
/// spec:
///   adminPassword: Zk81qLm0x
    /// ```
    ///
    /// ## Passing example
    /// ```yaml
    /// kind: Database
/// spec:
///   adminPasswordSecretRef: {name: db-admin, key: password}
    /// ```
    ///
    /// ## Remediation
    /// Rotate the credential and reference a Secret instead (most operators accept a `*SecretRef`).
    ///
    /// ## References
    /// - MITRE ATT&CK, "Unsecured Credentials" (T1552)
    /// - NSA/CISA Kubernetes Hardening Guide v1.2, "Secrets"
    pub struct CredentialInField {
        id: "SEC018",
        slug: "credential-in-field",
        title: "Credential written in plain text in an annotation or resource field",
        severity: High,
        target: Target::All,
        controls: [MitreAttack "T1552.001", NsaCisa12 "network/secrets"],
        remediation: "Rotate the credential and reference a Secret instead (most operators accept a `*SecretRef`).",
    }
}

impl Check for CredentialInField {
    fn models(&self, models: &mut crate::context::Models) {
        crate::secrets::ask(models);
    }

    fn check(&self, cx: &mut Context<'_>) {
        crate::secrets::report_rule(cx, &Self::metadata().id);
    }
}
