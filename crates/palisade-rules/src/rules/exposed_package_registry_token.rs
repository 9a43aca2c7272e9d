use crate::context::Context;
use crate::rule::{Check, Target};

declare_rule! {
    /// ## What it checks
    /// npm access tokens (`npm_` + 36 characters) and PyPI upload tokens
/// (`pypi-AgEIcHlwaS5vcmc...`) outside a Secret, for example in an `.npmrc` or `.pypirc` held
/// in a ConfigMap. Values are never printed: a finding gives the detector, the field, at most the
    /// format's public prefix and a stable tag (`#1a2b3c4d`).
    ///
    /// ## Why it matters
    /// A publish token lets its holder release a malicious version of the organisation's
/// packages to everyone who depends on them (MITRE ATT&CK T1552.001, T1195).
    ///
    /// ## Severity
    /// High: the token publishes from anywhere until it is revoked.
    ///
    /// ## Failing example
    /// ```yaml
    /// data:
///   .npmrc: |
///     //registry.npmjs.org/:_authToken=npm_Q8zK3mN5pR7tV9xW1yA2bC4dE6fG8hJ0kL2m
    /// ```
    ///
    /// ## Passing example
    /// ```yaml
    /// volumes:
/// - name: npmrc
///   secret: {secretName: npmrc}
    /// ```
    ///
    /// ## Remediation
    /// Revoke the token; publish from CI with trusted publishing (OIDC) or a token in a Secret.
    ///
    /// ## References
    /// - MITRE ATT&CK, "Unsecured Credentials" (T1552)
    /// - NSA/CISA Kubernetes Hardening Guide v1.2, "Secrets"
    pub struct ExposedPackageRegistryToken {
        id: "SEC014",
        slug: "exposed-package-registry-token",
        title: "Package registry token written in plain text",
        severity: High,
        target: Target::All,
        controls: [MitreAttack "T1552.001", NsaCisa12 "network/secrets"],
        remediation: "Revoke the token; publish from CI with trusted publishing (OIDC) or a token in a Secret.",
    }
}

impl Check for ExposedPackageRegistryToken {
    fn models(&self, models: &mut crate::context::Models) {
        crate::secrets::ask(models);
    }

    fn check(&self, cx: &mut Context<'_>) {
        crate::secrets::report_rule(cx, &Self::metadata().id);
    }
}
