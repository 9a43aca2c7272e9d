use crate::context::Context;
use crate::rule::{Check, Target};

declare_rule! {
    /// ## What it checks
    /// GitHub tokens (`ghp_`, `gho_`, `ghu_`, `ghs_`, `ghr_` with 36 characters, fine-grained
/// `github_pat_`) and GitLab tokens (`glpat-`, `gldt-`, `glrt-`, `glptt-`, `glcbt-`) outside a
/// Secret, with the format's length and alphabet checked and a random body required. A
    /// classic GitHub token whose checksum (the last six characters: CRC-32 of the body in base
    /// 62) does not match was never issued by GitHub: it is reported at medium severity, as a
    /// test or made-up value. Values are never printed: a finding gives the detector, the field, at most the
    /// format's public prefix and a stable tag (`#1a2b3c4d`).
    ///
    /// ## Why it matters
    /// A source-control token can push code that CI builds and deploys: the supply chain
/// of every cluster the repository reaches (MITRE ATT&CK T1552.001, T1195).
    ///
    /// ## Severity
    /// High: the token works from anywhere until it is revoked.
    ///
    /// ## Failing example
    /// ```yaml
    /// args: ["--github-token=ghp_Zq3V8mK1pL9xR2tY7wB4nC6dF0hJ5sA8eG1u"]
    /// ```
    ///
    /// ## Passing example
    /// ```yaml
    /// env:
/// - name: GITHUB_TOKEN
///   valueFrom: {secretKeyRef: {name: gh, key: token}}
    /// ```
    ///
    /// ## Remediation
    /// Revoke the token and deliver a fine-grained, short-lived one from a Secret (or a GitHub App installation token).
    ///
    /// ## References
    /// - MITRE ATT&CK, "Unsecured Credentials" (T1552)
    /// - NSA/CISA Kubernetes Hardening Guide v1.2, "Secrets"
    pub struct ExposedSourceControlToken {
        id: "SEC012",
        slug: "exposed-source-control-token",
        title: "Source-control token written in plain text",
        severity: High,
        target: Target::All,
        controls: [MitreAttack "T1552.001", NsaCisa12 "network/secrets"],
        remediation: "Revoke the token and deliver a fine-grained, short-lived one from a Secret (or a GitHub App installation token).",
    }
}

impl Check for ExposedSourceControlToken {
    fn models(&self, models: &mut crate::context::Models) {
        crate::secrets::ask(models);
    }

    fn check(&self, cx: &mut Context<'_>) {
        crate::secrets::report_rule(cx, &Self::metadata().id);
    }
}
