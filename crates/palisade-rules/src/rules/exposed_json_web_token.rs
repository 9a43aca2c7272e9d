use crate::context::Context;
use crate::rule::{Check, Target};

declare_rule! {
    /// ## What it checks
    /// JSON Web Tokens (`eyJ...header.eyJ...payload.signature`) whose header decodes to JSON
/// naming an `alg`, outside a Secret: service-account tokens, OIDC ID tokens, API tokens. Values are never printed: a finding gives the detector, the field, at most the
    /// format's public prefix and a stable tag (`#1a2b3c4d`).
    ///
    /// ## Why it matters
    /// A bearer token authenticates whoever presents it. Legacy Kubernetes service-account
/// tokens and many API tokens never expire (MITRE ATT&CK T1528, T1552.001).
    ///
    /// ## Severity
    /// Medium: many JWTs expire; the ones that do not are as good as a password.
    ///
    /// ## Failing example
    /// ```yaml
    /// env:
/// - name: API_AUTH
///   value: eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJjaSJ9.c2lnbmF0dXJlLWJ5dGVz
    /// ```
    ///
    /// ## Passing example
    /// ```yaml
    /// volumes:
/// - name: token
///   projected:
///     sources:
///     - serviceAccountToken: {audience: api, expirationSeconds: 3600, path: token}
    /// ```
    ///
    /// ## Remediation
    /// Revoke the token; use projected service-account tokens or fetch short-lived tokens at run time.
    ///
    /// ## References
    /// - MITRE ATT&CK, "Unsecured Credentials" (T1552)
    /// - NSA/CISA Kubernetes Hardening Guide v1.2, "Secrets"
    pub struct ExposedJsonWebToken {
        id: "SEC015",
        slug: "exposed-json-web-token",
        title: "JSON Web Token written in plain text",
        severity: Medium,
        target: Target::All,
        controls: [MitreAttack "T1528", MitreAttack "T1552.001"],
        remediation: "Revoke the token; use projected service-account tokens or fetch short-lived tokens at run time.",
    }
}

impl Check for ExposedJsonWebToken {
    fn models(&self, models: &mut crate::context::Models) {
        crate::secrets::ask(models);
    }

    fn check(&self, cx: &mut Context<'_>) {
        crate::secrets::report_rule(cx, &Self::metadata().id);
    }
}
