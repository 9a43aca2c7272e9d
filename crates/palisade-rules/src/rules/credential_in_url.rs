use crate::context::Context;
use crate::rule::{Check, Target};

declare_rule! {
    /// ## What it checks
    /// URLs with a password in their user info (`postgres://user:PASS@db/shop`,
/// `redis://:PASS@redis:6379`, `amqp://`, `mongodb+srv://`, `https://`) and database
/// connection strings with a password (`Server=...;Password=...;`, libpq's
/// `host=... password=...`, JDBC `?password=`) and SQL statements (`CREATE USER ... WITH
    /// PASSWORD '...'`, MySQL's `IDENTIFIED BY '...'`, as in a database init script kept in a
    /// ConfigMap), outside a Secret. References
/// (`postgres://u:${DB_PASSWORD}@db`, `$(PASSWORD)`) are not reported. Values are never printed: a finding gives the detector, the field, at most the
    /// format's public prefix and a stable tag (`#1a2b3c4d`).
    ///
    /// ## Why it matters
    /// Connection strings travel: they are logged by drivers and proxies, printed in error
/// messages and copied into dashboards, and the database behind them holds the data an
/// attacker wants (MITRE ATT&CK T1552.001).
    ///
    /// ## Severity
    /// High: the password is disclosed to everyone with read access.
    ///
    /// ## Failing example
    /// ```yaml
    /// env:
/// - name: DATABASE_URL
///   value: postgres://shop:Zk81qLm0@db:5432/shop
    /// ```
    ///
    /// ## Passing example
    /// ```yaml
    /// env:
/// - name: DB_PASSWORD
///   valueFrom: {secretKeyRef: {name: db, key: password}}
/// - name: DATABASE_URL
///   value: postgres://shop:$(DB_PASSWORD)@db:5432/shop
    /// ```
    ///
    /// ## Remediation
    /// Rotate the password; keep it in a Secret and compose the URL from `$(VAR)` references or read it from a mounted file.
    ///
    /// ## References
    /// - MITRE ATT&CK, "Unsecured Credentials" (T1552)
    /// - NSA/CISA Kubernetes Hardening Guide v1.2, "Secrets"
    pub struct CredentialInUrl {
        id: "SEC016",
        slug: "credential-in-url",
        title: "Password inside a URL, connection string or SQL statement",
        severity: High,
        target: Target::All,
        controls: [MitreAttack "T1552.001", NsaCisa12 "network/secrets"],
        remediation: "Rotate the password; keep it in a Secret and compose the URL from `$(VAR)` references or read it from a mounted file.",
    }
}

impl Check for CredentialInUrl {
    fn models(&self, models: &mut crate::context::Models) {
        crate::secrets::ask(models);
    }

    fn check(&self, cx: &mut Context<'_>) {
        crate::secrets::report_rule(cx, &Self::metadata().id);
    }
}
