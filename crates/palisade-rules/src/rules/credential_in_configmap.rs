use crate::context::Context;
use crate::rule::{Check, Target};

declare_rule! {
    /// ## What it checks
    /// Plain-text credentials in a ConfigMap, found by the generic detector: a `data` entry
    /// whose key says "credential" (`password`, `DB_PASS`, `*_SECRET*`, `*TOKEN*`, ...) with a
    /// literal, random-looking value, and the same inside configuration files held in `data`
    /// or `binaryData` (base64, and gzip, decoded): `.env` lines (`REDIS_PASSWORD=...`), INI,
    /// properties, TOML, YAML and JSON keys (`password: ...`), `requirepass ...` and
    /// `<password>...</password>`. Formats with their own rule (private keys, cloud keys,
    /// tokens, URLs with passwords, authorization headers: SEC010–SEC017) and well-known
    /// defaults (SEC019) are reported there. Values are never printed; findings give a stable
    /// tag (`#1a2b3c4d`) and the line inside the file, never the value or its length.
    /// A placeholder (`xxxxx`, `<password>`) under a credential's key is reported at low
    /// severity: no secret is exposed, but the ConfigMap is built to carry one.
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
    ///   DB_PASSWORD: Zk81qLm0x
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
    fn models(&self, models: &mut crate::context::Models) {
        crate::secrets::ask(models);
    }

    fn check(&self, cx: &mut Context<'_>) {
        crate::secrets::report_rule(cx, &Self::metadata().id);
    }
}
