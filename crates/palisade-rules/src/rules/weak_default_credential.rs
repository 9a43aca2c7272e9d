use crate::context::Context;
use crate::rule::{Check, Target};

declare_rule! {
    /// ## What it checks
    /// Credential fields (environment variables, ConfigMap entries and configuration lines,
/// custom-resource fields, and a Secret's own `data` and `stringData`, decoded) whose value is
/// a well-known default (`changeme`, `password`, `admin`, `secret`, `minioadmin`,
/// `prom-operator`, ...) or a word of the field's own name (`POSTGRES_PASSWORD=postgres`,
/// `MYSQL_ROOT_PASSWORD=root`). Values are never printed: a finding gives the detector, the field, at most the
    /// format's public prefix and a stable tag (`#1a2b3c4d`).
    ///
    /// ## Why it matters
    /// Default passwords are the first ones an attacker tries: an exposed service with one
/// is open (MITRE ATT&CK T1078.001, Default Accounts). Keeping it in a Secret does not help.
    ///
    /// ## Severity
    /// High: the account is open to anyone who can reach the service.
    ///
    /// ## Failing example
    /// ```yaml
    /// env:
/// - name: MYSQL_ROOT_PASSWORD
///   value: changeme
    /// ```
    ///
    /// ## Passing example
    /// ```yaml
    /// env:
/// - name: MYSQL_ROOT_PASSWORD
///   valueFrom: {secretKeyRef: {name: mysql, key: root-password}}   # generated
    /// ```
    ///
    /// ## Remediation
    /// Generate a random password (or let the operator generate one) and keep it in a Secret.
    ///
    /// ## References
    /// - MITRE ATT&CK, "Valid Accounts: Default Accounts" (T1078.001)
    /// - NSA/CISA Kubernetes Hardening Guide v1.2, "Secrets"
    pub struct WeakDefaultCredential {
        id: "SEC019",
        slug: "weak-default-credential",
        title: "Well-known default password",
        severity: High,
        target: Target::All,
        controls: [MitreAttack "T1078.001"],
        remediation: "Generate a random password (or let the operator generate one) and keep it in a Secret.",
    }
}

impl Check for WeakDefaultCredential {
    fn models(&self, models: &mut crate::context::Models) {
        crate::secrets::ask(models);
    }

    fn check(&self, cx: &mut Context<'_>) {
        crate::secrets::report_rule(cx, &Self::metadata().id);
    }
}
