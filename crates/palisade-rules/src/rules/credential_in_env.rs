use crate::context::Context;
use crate::rule::{Check, Target};

declare_rule! {
    /// ## What it checks
    /// Plain-text credentials in a container (of any kind that embeds containers): environment
    /// variables, `args` and `command` (flags such as `--db-password=...` or `--token X`,
    /// assignments such as `PGPASSWORD=... psql` inside a script) and probe headers. This is
    /// the generic detector: the name says "credential" (`DB_PASS`, `PGPASS`, `MYSQL_PWD`,
    /// `*_PWD`, `SSH_KEY`, `ENCRYPTION_KEY`, `PASSPHRASE`, `ACCESS_KEY`, `dbPassword`, ...) and
    /// the value is a literal that looks chosen or generated. Not reported: references
    /// (`$(VAR)`, `${VAR}`, `valueFrom`), placeholders (`<password>`, `YOUR_API_KEY`, the
    /// variable's own name), settings that mention a credential (`PASSWORD_MIN_LENGTH`,
    /// `TOKEN_TTL`, `SECRET_NAME`, `AUTH_MODE=oidc`). Formats with their own rule (private
    /// keys SEC010, cloud keys SEC011, tokens SEC012–SEC015, URLs SEC016, authorization headers
    /// SEC017) and well-known defaults (SEC019) are reported there. Values are never printed:
    /// findings give a stable tag (`#1a2b3c4d`), never the value or its length.
    /// A placeholder (`<your-token>`, `xxxxx`, `YOUR_API_KEY`, the variable's own name) is
    /// reported at low severity: no secret is exposed, but the manifest is built to carry the
    /// real credential in plain text.
    ///
    /// ## Why it matters
    /// A credential in a manifest is readable by everyone who can read the repository, the
    /// workload object (`get deployments` is a common, "harmless" permission) or the CI logs,
    /// and it cannot be rotated without a commit (MITRE ATT&CK T1552.001).
    ///
    /// ## Severity
    /// High: the secret is already disclosed to everyone with read access.
    ///
    /// ## Failing example
    /// ```yaml
    /// env:
    /// - name: DB_PASSWORD
    ///   value: "s3cr3t-in-git"
    /// ```
    ///
    /// ## Passing example
    /// ```yaml
    /// env:
    /// - name: DB_PASSWORD_FILE
    ///   value: /run/secrets/db/password
    /// ```
    ///
    /// ## Remediation
    /// Rotate the credential, store it in a Secret (or an external secret store) and mount it
    /// as a file.
    ///
    /// ## References
    /// - CIS Kubernetes Benchmark v1.12, 5.4.1
    /// - NSA/CISA Kubernetes Hardening Guide v1.2, "Secrets"
    pub struct CredentialInEnv {
        id: "POD027",
        slug: "credential-in-env",
        title: "Credential written in plain text in a container's environment or arguments",
        severity: High,
        target: Target::All,
        controls: [
            CisK8s112 "5.4.1",
            NsaCisa12 "network/secrets",
            MitreAttack "T1552.001",
        ],
        remediation: "Rotate the credential and move it into a Secret mounted as a file.",
    }
}

impl Check for CredentialInEnv {
    fn models(&self, models: &mut crate::context::Models) {
        crate::secrets::ask(models);
    }

    fn check(&self, cx: &mut Context<'_>) {
        crate::secrets::report_rule(cx, &Self::metadata().id);
    }
}
