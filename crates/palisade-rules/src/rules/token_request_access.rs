use crate::context::Context;
use crate::rbac::{BINDINGS, report_primitives};
use crate::rule::{Check, Target};

declare_rule! {
    /// ## What it checks
    /// Bindings that grant `create` on `serviceaccounts/token` (the TokenRequest API).
    /// Control-plane grants of the default policy (`system:*` users and groups such as
    /// `system:kube-controller-manager`, and each controller's service account bound to its own
    /// `system:controller:*` role) are not reported; broad groups such as `system:authenticated`
    /// are. A binding that grants full control (`cluster-admin`, or every verb on every resource)
    /// is reported once, by RBAC001.
    ///
    /// ## Why it matters
    /// The holder can mint a token for any service account of the scope and act as it (MITRE ATT&CK
    /// T1528).
    ///
    /// ## Severity
    /// High: every identity of the scope.
    ///
    /// ## Failing example
    /// ```yaml
    /// rules:
    /// - apiGroups: [""]
    ///   resources: [serviceaccounts/token]
    ///   verbs: [create]
    /// ```
    ///
    /// ## Passing example
    /// ```yaml
    /// rules:
    /// - apiGroups: [""]
    ///   resources: [serviceaccounts]
    ///   verbs: [get, list]
    /// ```
    ///
    /// ## Remediation
    /// Remove the grant, or restrict it with `resourceNames` to the service accounts the holder
    /// must issue tokens for.
    ///
    /// ## References
    /// - CIS Kubernetes Benchmark v1.12, 5.1.13
    pub struct TokenRequestAccess {
        id: "RBAC008",
        slug: "token-request-access",
        title: "Subject can create service account tokens",
        severity: High,
        target: Target::Kinds(BINDINGS),
        controls: [
            CisK8s112 "5.1.13",
            NsaCisa12 "pod-security/service-account-tokens",
            MitreAttack "T1528",
        ],
        remediation: "Remove the grant, or restrict it with `resourceNames` to the service accounts the holder must issue tokens for.",
    }
}

impl Check for TokenRequestAccess {
    fn models(&self, models: &mut crate::context::Models) {
        crate::rbac::ask(models);
    }

    fn reads(&self) -> &'static [(&'static str, &'static str)] {
        crate::rbac::ROLES
    }

    fn check(&self, cx: &mut Context<'_>) {
        report_primitives(cx, &["create-tokens"]);
    }
}
