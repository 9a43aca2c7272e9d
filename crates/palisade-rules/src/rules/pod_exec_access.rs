use crate::context::Context;
use crate::rbac::{BINDINGS, report_primitives};
use crate::rule::{Check, Target};

declare_rule! {
    /// ## What it checks
    /// Bindings that allow `pods/exec`, `pods/attach` or `pods/portforward` (with `create`, or
    /// `get` for the WebSocket upgrade of older API servers), including through `*/exec`-style
    /// wildcards. `pods` alone does not cover them, as in the authorizer. Control-plane grants of
    /// the default policy (`system:*` users and groups such as `system:kube-controller-manager`,
    /// and each controller's service account bound to its own `system:controller:*` role) are not
    /// reported; broad groups such as `system:authenticated` are. A binding that grants full
    /// control (`cluster-admin`, or every verb on every resource) is reported once, by RBAC001.
    ///
    /// ## Why it matters
    /// A shell in a running pod is the pod's identity, its mounted Secrets and its network position
    /// (MITRE ATT&CK T1609, Container Administration Command).
    ///
    /// ## Severity
    /// High: it hands over every running pod of the scope.
    ///
    /// ## Failing example
    /// ```yaml
    /// rules:
    /// - apiGroups: [""]
    ///   resources: [pods/exec]
    ///   verbs: [create]
    /// ```
    ///
    /// ## Passing example
    /// ```yaml
    /// rules:
    /// - apiGroups: [""]
    ///   resources: [pods/log]
    ///   verbs: [get]
    /// ```
    ///
    /// ## Remediation
    /// Remove exec rights from routine roles; grant them just in time for debugging, and prefer
    /// `kubectl debug` with ephemeral containers under audit.
    ///
    /// ## References
    /// - Kubernetes documentation, "RBAC Good Practices"
    /// - Polaris checks clusterrolePodExecAttach and rolePodExecAttach
    pub struct PodExecAccess {
        id: "RBAC005",
        slug: "pod-exec-access",
        title: "Subject can exec, attach or port-forward into pods",
        severity: High,
        target: Target::Kinds(BINDINGS),
        controls: [
            NsaCisa12 "authn-authz/rbac",
            MitreAttack "T1609",
        ],
        remediation: "Remove exec rights from routine roles.",
    }
}

impl Check for PodExecAccess {
    fn models(&self, models: &mut crate::context::Models) {
        crate::rbac::ask(models);
    }

    fn reads(&self) -> &'static [(&'static str, &'static str)] {
        crate::rbac::ROLES
    }

    fn check(&self, cx: &mut Context<'_>) {
        report_primitives(cx, &["exec-into-pods"]);
    }
}
