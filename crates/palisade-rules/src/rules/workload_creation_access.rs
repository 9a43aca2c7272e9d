use crate::context::Context;
use crate::rbac::{BINDINGS, report_primitives};
use crate::rule::{Check, Target};

declare_rule! {
    /// ## What it checks
    /// Bindings that let a subject create pods, or create or change Deployments, DaemonSets,
    /// StatefulSets, ReplicaSets, Jobs, CronJobs or ReplicationControllers; and, as a finding
    /// of its own, bindings that let a subject `update` or `patch` pods (a running pod's image
    /// can be changed in place: the new code runs as that pod's service account). Control-plane grants of
    /// the default policy (`system:*` users and groups such as `system:kube-controller-manager`,
    /// and each controller's service account bound to its own `system:controller:*` role) are not
    /// reported; broad groups such as `system:authenticated` are. A binding that grants full
    /// control (`cluster-admin`, or every verb on every resource) is reported once, by RBAC001.
    ///
    /// ## Why it matters
    /// Whoever creates a pod chooses its service account, so they act as any service account of the
    /// namespace; unless admission forbids it (Pod Security, or the Gatekeeper constraints and
    /// ValidatingAdmissionPolicies of the run: RBAC017 reads both), the pod can also be
    /// privileged and mount the node's file system (MITRE ATT&CK T1610, Deploy Container).
    ///
    /// ## Severity
    /// High: it is the holder's identity plus every identity of the namespace.
    ///
    /// ## Failing example
    /// ```yaml
    /// rules:
    /// - apiGroups: [apps]
    ///   resources: [deployments]
    ///   verbs: [create, patch]
    /// ```
    ///
    /// ## Passing example
    /// ```yaml
    /// rules:
    /// - apiGroups: [apps]
    ///   resources: [deployments]
    ///   verbs: [get, list, watch]
    /// ```
    ///
    /// ## Remediation
    /// Give deployment rights to the CD system only, in the namespaces it deploys to, and enforce
    /// `pod-security.kubernetes.io/enforce: restricted` there.
    ///
    /// ## References
    /// - CIS Kubernetes Benchmark v1.12, 5.1.4
    /// - Kubernetes documentation, "RBAC Good Practices", Workload creation
    pub struct WorkloadCreationAccess {
        id: "RBAC004",
        slug: "workload-creation-access",
        title: "Subject can create pods or pod controllers",
        severity: High,
        target: Target::Kinds(BINDINGS),
        controls: [
            CisK8s112 "5.1.4",
            NsaCisa12 "authn-authz/rbac",
            MitreAttack "T1610",
        ],
        remediation: "Give deployment rights to the CD system only, in the namespaces it deploys to, and enforce `pod-security.kubernetes.io/enforce: restricted` there.",
    }
}

impl Check for WorkloadCreationAccess {
    fn models(&self, models: &mut crate::context::Models) {
        crate::rbac::ask(models);
    }

    fn reads(&self) -> &'static [(&'static str, &'static str)] {
        crate::rbac::ROLES
    }

    fn check(&self, cx: &mut Context<'_>) {
        report_primitives(cx, &["create-workloads", "patch-pods"]);
    }
}
