use crate::context::Context;
use crate::rbac::{BINDINGS, report_primitives};
use crate::rule::{Check, Target};

declare_rule! {
    /// ## What it checks
    /// Bindings that grant `escalate` or `bind` on Roles or ClusterRoles, or `impersonate` on
    /// users, groups, service accounts, UIDs or user extras, also when `resourceNames` restricts
    /// them (the message then lists the names). Control-plane grants of the default
    /// policy (`system:*` users and groups such as `system:kube-controller-manager`, and each
    /// controller's service account bound to its own `system:controller:*` role) are not reported;
    /// broad groups such as `system:authenticated` are. A binding that grants full control
    /// (`cluster-admin`, or every verb on every resource) is reported once, by RBAC001.
    ///
    /// ## Why it matters
    /// `escalate` and `bind` switch off RBAC's own protection against granting more than one holds;
    /// `impersonate` lets the holder act as any user, including members of `system:masters`. Each
    /// is a direct path to cluster-admin (MITRE ATT&CK T1098, Account Manipulation).
    ///
    /// ## Severity
    /// Critical: one request away from full control.
    ///
    /// ## Failing example
    /// ```yaml
    /// rules:
    /// - apiGroups: [""]
    ///   resources: [users, groups]
    ///   verbs: [impersonate]
    /// ```
    ///
    /// ## Passing example
    /// ```yaml
    /// rules:
    /// - apiGroups: [rbac.authorization.k8s.io]
    ///   resources: [roles]
    ///   verbs: [get, list]
    /// ```
    ///
    /// ## Remediation
    /// Remove the verbs; if a controller must bind roles, restrict `bind` with `resourceNames` to
    /// the roles it hands out.
    ///
    /// ## References
    /// - CIS Kubernetes Benchmark v1.12, 5.1.8
    /// - Kubernetes documentation, "Using RBAC Authorization", privilege escalation prevention
    pub struct RbacEscalationAccess {
        id: "RBAC006",
        slug: "rbac-escalation-access",
        title: "Subject can escalate, bind or impersonate",
        severity: Critical,
        target: Target::Kinds(BINDINGS),
        controls: [
            CisK8s112 "5.1.8",
            NsaCisa12 "authn-authz/rbac",
            MitreAttack "T1098",
        ],
        remediation: "Remove the verbs.",
    }
}

impl Check for RbacEscalationAccess {
    fn models(&self, models: &mut crate::context::Models) {
        crate::rbac::ask(models);
    }

    fn reads(&self) -> &'static [(&'static str, &'static str)] {
        crate::rbac::ROLES
    }

    fn check(&self, cx: &mut Context<'_>) {
        report_primitives(
            cx,
            &[
                "escalate-or-bind",
                "impersonate",
                "impersonate-service-accounts",
            ],
        );
    }
}
