use crate::context::Context;
use crate::rbac::{BINDINGS, report_primitives};
use crate::rule::{Check, Target};

declare_rule! {
    /// ## What it checks
    /// ClusterRoleBindings that grant `update` or `patch` on `namespaces`. Control-plane grants of
    /// the default policy (`system:*` users and groups such as `system:kube-controller-manager`,
    /// and each controller's service account bound to its own `system:controller:*` role) are not
    /// reported; broad groups such as `system:authenticated` are. A binding that grants full
    /// control (`cluster-admin`, or every verb on every resource) is reported once, by RBAC001.
    ///
    /// ## Why it matters
    /// Pod Security admission is configured by namespace labels: whoever can change them can set
    /// `enforce: privileged` and then run privileged pods (MITRE ATT&CK T1562.001).
    ///
    /// ## Severity
    /// Medium: it disables a guard rail; another grant is needed to exploit it.
    ///
    /// ## Failing example
    /// ```yaml
    /// rules:
    /// - apiGroups: [""]
    ///   resources: [namespaces]
    ///   verbs: [patch]
    /// ```
    ///
    /// ## Passing example
    /// ```yaml
    /// rules:
    /// - apiGroups: [""]
    ///   resources: [namespaces]
    ///   verbs: [get, list]
    /// ```
    ///
    /// ## Remediation
    /// Manage namespace labels through the platform's GitOps flow; protect the Pod Security labels
    /// with a validating admission policy.
    ///
    /// ## References
    /// - Kubernetes documentation, "Pod Security Admission"
    pub struct NamespaceModificationAccess {
        id: "RBAC012",
        slug: "namespace-modification-access",
        title: "Subject can change namespaces",
        severity: Medium,
        target: Target::Kinds(BINDINGS),
        controls: [
            NsaCisa12 "pod-security/pod-security-enforcement",
            MitreAttack "T1562.001",
        ],
        remediation: "Manage namespace labels through the platform's GitOps flow.",
    }
}

impl Check for NamespaceModificationAccess {
    fn models(&self, models: &mut crate::context::Models) {
        crate::rbac::ask(models);
    }

    fn reads(&self) -> &'static [(&'static str, &'static str)] {
        crate::rbac::ROLES
    }

    fn check(&self, cx: &mut Context<'_>) {
        report_primitives(cx, &["modify-namespaces"]);
    }
}
