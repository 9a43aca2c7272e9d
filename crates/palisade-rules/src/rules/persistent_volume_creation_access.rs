use crate::context::Context;
use crate::rbac::{BINDINGS, report_primitives};
use crate::rule::{Check, Target};

declare_rule! {
    /// ## What it checks
    /// ClusterRoleBindings that grant `create` on `persistentvolumes`. Control-plane grants of the
    /// default policy (`system:*` users and groups such as `system:kube-controller-manager`, and
    /// each controller's service account bound to its own `system:controller:*` role) are not
    /// reported; broad groups such as `system:authenticated` are. A binding that grants full
    /// control (`cluster-admin`, or every verb on every resource) is reported once, by RBAC001.
    ///
    /// ## Why it matters
    /// A PersistentVolume can be a `hostPath` volume: whoever creates one and claims it mounts the
    /// node's file system, outside Pod Security admission's view of the pod (MITRE ATT&CK T1611).
    ///
    /// ## Severity
    /// High: a path to the node.
    ///
    /// ## Failing example
    /// ```yaml
    /// rules:
    /// - apiGroups: [""]
    ///   resources: [persistentvolumes]
    ///   verbs: [create]
    /// ```
    ///
    /// ## Passing example
    /// ```yaml
    /// rules:
    /// - apiGroups: [""]
    ///   resources: [persistentvolumeclaims]
    ///   verbs: [create]
    /// ```
    ///
    /// ## Remediation
    /// Let users create PersistentVolumeClaims against StorageClasses; keep PersistentVolume
    /// creation with storage operators.
    ///
    /// ## References
    /// - CIS Kubernetes Benchmark v1.12, 5.1.9
    pub struct PersistentVolumeCreationAccess {
        id: "RBAC011",
        slug: "persistent-volume-creation-access",
        title: "Subject can create PersistentVolumes",
        severity: High,
        target: Target::Kinds(BINDINGS),
        controls: [
            CisK8s112 "5.1.9",
            NsaCisa12 "authn-authz/rbac",
            MitreAttack "T1611",
        ],
        remediation: "Let users create PersistentVolumeClaims against StorageClasses.",
    }
}

impl Check for PersistentVolumeCreationAccess {
    fn models(&self, models: &mut crate::context::Models) {
        crate::rbac::ask(models);
    }

    fn reads(&self) -> &'static [(&'static str, &'static str)] {
        crate::rbac::ROLES
    }

    fn check(&self, cx: &mut Context<'_>) {
        report_primitives(cx, &["create-persistent-volumes"]);
    }
}
