use crate::context::Context;
use crate::rule::{Check, Target};
use crate::rules::service_account_token_automounted::service_account_name;

declare_rule! {
    /// ## What it checks
    /// Workloads that run as their namespace's `default` service account: no
    /// `serviceAccountName` (nor the deprecated `serviceAccount`), or `default` explicitly.
    ///
    /// ## Why it matters
    /// Every pod that does not choose an identity shares `default`. Any permission granted to
    /// `default` for one application is then granted to every pod in the namespace, and RBAC
    /// audit trails cannot tell the workloads apart (MITRE ATT&CK T1078.001).
    ///
    /// ## Severity
    /// Low: harmful only together with bindings to `default`, which the RBAC rules report.
    ///
    /// ## Failing example
    /// ```yaml
    /// spec:
    ///   containers: [...]
    /// ```
    ///
    /// ## Passing example
    /// ```yaml
    /// spec:
    ///   serviceAccountName: checkout
    ///   containers: [...]
    /// ```
    ///
    /// ## Remediation
    /// Create a ServiceAccount per workload and set `serviceAccountName`; set
    /// `automountServiceAccountToken: false` on `default`.
    ///
    /// ## References
    /// - CIS Kubernetes Benchmark v1.12, 5.1.5
    /// - NSA/CISA Kubernetes Hardening Guide v1.2, "Protecting Pod service account tokens"
    pub struct DefaultServiceAccount {
        id: "POD021",
        slug: "default-service-account",
        title: "Workload runs as the default service account",
        severity: Low,
        target: Target::PodSpec,
        controls: [
            CisK8s112 "5.1.5",
            NsaCisa12 "pod-security/service-account-tokens",
            MitreAttack "T1078.001",
        ],
        remediation: "Create a dedicated ServiceAccount and set `serviceAccountName`.",
    }
}

impl Check for DefaultServiceAccount {
    fn check(&self, cx: &mut Context<'_>) {
        if service_account_name(cx) == "default" {
            let path = cx.pod_field("serviceAccountName");
            cx.report(
                path,
                "the workload runs as the namespace's default service account".to_string(),
            );
        }
    }
}
