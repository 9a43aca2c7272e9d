use crate::context::Context;
use crate::rule::{Check, Target};

declare_rule! {
    /// ## What it checks
    /// Literal HTTP credentials outside a Secret: `Authorization: Basic ...` and
/// `Bearer ...` headers (in probe `httpHeaders`, commands, configuration files),
/// `curl -u user:password`, and container-registry `auth` entries (base64 of
/// `user:password`, as in a Docker `config.json`). Values are never printed: a finding gives the detector, the field, at most the
    /// format's public prefix and a stable tag (`#1a2b3c4d`).
    ///
    /// ## Why it matters
    /// A probe header or a health-check command is read by everyone who can read the
/// workload, and the credential in it usually opens more than the health endpoint (MITRE
/// ATT&CK T1552.001).
    ///
    /// ## Severity
    /// High: the credential is disclosed to everyone with read access.
    ///
    /// ## Failing example
    /// ```yaml
    /// livenessProbe:
///   httpGet:
///     path: /healthz
///     port: 8080
///     httpHeaders:
///     - {name: Authorization, value: "Bearer Zk9q2Lm8Pw7x"}
    /// ```
    ///
    /// ## Passing example
    /// ```yaml
    /// livenessProbe:
///   httpGet: {path: /healthz, port: 8080}   # an unauthenticated health endpoint
    /// ```
    ///
    /// ## Remediation
    /// Rotate the credential; probe an unauthenticated health endpoint, and give commands the credential from a mounted Secret file.
    ///
    /// ## References
    /// - MITRE ATT&CK, "Unsecured Credentials" (T1552)
    /// - NSA/CISA Kubernetes Hardening Guide v1.2, "Secrets"
    pub struct ExposedAuthorizationCredential {
        id: "SEC017",
        slug: "exposed-authorization-credential",
        title: "HTTP authorization credential written in plain text",
        severity: High,
        target: Target::All,
        controls: [MitreAttack "T1552.001", NsaCisa12 "network/secrets"],
        remediation: "Rotate the credential; probe an unauthenticated health endpoint, and give commands the credential from a mounted Secret file.",
    }
}

impl Check for ExposedAuthorizationCredential {
    fn models(&self, models: &mut crate::context::Models) {
        crate::secrets::ask(models);
    }

    fn check(&self, cx: &mut Context<'_>) {
        crate::secrets::report_rule(cx, &Self::metadata().id);
    }
}
