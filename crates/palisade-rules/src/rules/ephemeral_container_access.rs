use crate::context::Context;
use crate::rbac::{BINDINGS, report_primitives};
use crate::rule::{Check, Target};

declare_rule! {
    /// ## What it checks
    /// Bindings that grant `update` or `patch` on `pods/ephemeralcontainers`. Control-plane grants
    /// of the default policy (`system:*` users and groups such as `system:kube-controller-manager`,
    /// and each controller's service account bound to its own `system:controller:*` role) are not
    /// reported; broad groups such as `system:authenticated` are. A binding that grants full
    /// control (`cluster-admin`, or every verb on every resource) is reported once, by RBAC001.
    ///
    /// ## Why it matters
    /// An ephemeral container joins a running pod with its identity and volumes, with a
    /// securityContext of the requester's choosing where Pod Security admission does not stop it
    /// (MITRE ATT&CK T1609).
    ///
    /// ## Severity
    /// High: like exec into every running pod of the scope.
    ///
    /// ## Failing example
    /// ```yaml
    /// rules:
    /// - apiGroups: [""]
    ///   resources: [pods/ephemeralcontainers]
    ///   verbs: [patch]
    /// ```
    ///
    /// ## Passing example
    /// ```yaml
    /// rules:
    /// - apiGroups: [""]
    ///   resources: [pods]
    ///   verbs: [get]
    /// ```
    ///
    /// ## Remediation
    /// Grant it just in time for debugging, in namespaces that enforce Pod Security.
    ///
    /// ## References
    /// - Kubernetes documentation, "Ephemeral Containers"
    pub struct EphemeralContainerAccess {
        id: "RBAC014",
        slug: "ephemeral-container-access",
        title: "Subject can add ephemeral containers to pods",
        severity: High,
        target: Target::Kinds(BINDINGS),
        controls: [
            NsaCisa12 "authn-authz/rbac",
            MitreAttack "T1609",
        ],
        remediation: "Grant it just in time for debugging, in namespaces that enforce Pod Security.",
    }
}

impl Check for EphemeralContainerAccess {
    fn models(&self, models: &mut crate::context::Models) {
        crate::rbac::ask(models);
    }

    fn reads(&self) -> &'static [(&'static str, &'static str)] {
        crate::rbac::ROLES
    }

    fn check(&self, cx: &mut Context<'_>) {
        report_primitives(cx, &["ephemeral-containers"]);
    }
}
