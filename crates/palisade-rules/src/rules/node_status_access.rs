use crate::context::Context;
use crate::rbac::{BINDINGS, report_primitives};
use crate::rule::{Check, Target};

declare_rule! {
    /// ## What it checks
    /// ClusterRoleBindings that grant `update` or `patch` on `nodes/status`. Control-plane grants
    /// of the default policy (`system:*` users and groups such as `system:kube-controller-manager`,
    /// and each controller's service account bound to its own `system:controller:*` role) are not
    /// reported; broad groups such as `system:authenticated` are. A binding that grants full
    /// control (`cluster-admin`, or every verb on every resource) is reported once, by RBAC001.
    ///
    /// ## Why it matters
    /// Node status carries addresses, conditions and capacity: a holder can redirect traffic for
    /// the node's pods, mark nodes unready to move workloads onto a node they control, or hide a
    /// compromised node (MITRE ATT&CK T1557).
    ///
    /// ## Severity
    /// Medium: it steers scheduling and traffic rather than granting access.
    ///
    /// ## Failing example
    /// ```yaml
    /// rules:
    /// - apiGroups: [""]
    ///   resources: [nodes/status]
    ///   verbs: [patch]
    /// ```
    ///
    /// ## Passing example
    /// ```yaml
    /// rules:
    /// - apiGroups: [""]
    ///   resources: [nodes]
    ///   verbs: [get, list]
    /// ```
    ///
    /// ## Remediation
    /// Leave node status to kubelets (the Node authorizer) and the node lifecycle controller.
    ///
    /// ## References
    /// - Kubernetes documentation, "Using Node Authorization"
    pub struct NodeStatusAccess {
        id: "RBAC013",
        slug: "node-status-access",
        title: "Subject can change node status",
        severity: Medium,
        target: Target::Kinds(BINDINGS),
        controls: [
            NsaCisa12 "authn-authz/rbac",
            MitreAttack "T1557",
        ],
        remediation: "Leave node status to kubelets (the Node authorizer) and the node lifecycle controller.",
    }
}

impl Check for NodeStatusAccess {
    fn models(&self, models: &mut crate::context::Models) {
        crate::rbac::ask(models);
    }

    fn reads(&self) -> &'static [(&'static str, &'static str)] {
        crate::rbac::ROLES
    }

    fn check(&self, cx: &mut Context<'_>) {
        report_primitives(cx, &["patch-node-status"]);
    }
}
