use crate::context::Context;
use crate::rbac::{BINDINGS, report_primitives};
use crate::rule::{Check, Target};

declare_rule! {
    /// ## What it checks
    /// ClusterRoleBindings that grant `get` or `create` on `nodes/proxy`. Control-plane grants of
    /// the default policy (`system:*` users and groups such as `system:kube-controller-manager`,
    /// and each controller's service account bound to its own `system:controller:*` role) are not
    /// reported; broad groups such as `system:authenticated` are. A binding that grants full
    /// control (`cluster-admin`, or every verb on every resource) is reported once, by RBAC001.
    ///
    /// ## Why it matters
    /// The API server forwards `nodes/proxy` requests to the kubelet with its own credentials: the
    /// holder can run commands in any container on any node through the kubelet's `/exec` and
    /// `/run` endpoints, bypassing admission and most audit (MITRE ATT&CK T1611).
    ///
    /// ## Severity
    /// Critical: it is exec in every pod of the cluster.
    ///
    /// ## Failing example
    /// ```yaml
    /// rules:
    /// - apiGroups: [""]
    ///   resources: [nodes/proxy]
    ///   verbs: [get]
    /// ```
    ///
    /// ## Passing example
    /// ```yaml
    /// rules:
    /// - apiGroups: [""]
    ///   resources: [nodes/metrics, nodes/stats]
    ///   verbs: [get]
    /// ```
    ///
    /// ## Remediation
    /// Grant `nodes/metrics` or `nodes/stats` to monitoring instead of `nodes/proxy`.
    ///
    /// ## References
    /// - CIS Kubernetes Benchmark v1.12, 5.1.10
    /// - Kubernetes documentation, "RBAC Good Practices", nodes/proxy
    pub struct NodesProxyAccess {
        id: "RBAC007",
        slug: "nodes-proxy-access",
        title: "Subject can reach the kubelet API through nodes/proxy",
        severity: Critical,
        target: Target::Kinds(BINDINGS),
        controls: [
            CisK8s112 "5.1.10",
            NsaCisa12 "authn-authz/rbac",
            MitreAttack "T1611",
        ],
        remediation: "Grant `nodes/metrics` or `nodes/stats` to monitoring instead of `nodes/proxy`.",
    }
}

impl Check for NodesProxyAccess {
    fn models(&self, models: &mut crate::context::Models) {
        crate::rbac::ask(models);
    }

    fn reads(&self) -> &'static [(&'static str, &'static str)] {
        crate::rbac::ROLES
    }

    fn check(&self, cx: &mut Context<'_>) {
        report_primitives(cx, &["nodes-proxy"]);
    }
}
