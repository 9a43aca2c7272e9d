//! The order objects are created in when a set of manifests is applied at once: Helm's
//! `InstallOrder` (kinds that others need first: namespaces, accounts, roles and bindings,
//! Services, then workloads), which `kubectl apply -f DIR` users follow too by naming files.

/// Kinds in the order `helm install` creates them; other kinds (custom resources) after them.
pub const HELM_INSTALL_ORDER: &[&str] = &[
    "PriorityClass",
    "Namespace",
    "NetworkPolicy",
    "ResourceQuota",
    "LimitRange",
    "PodSecurityPolicy",
    "PodDisruptionBudget",
    "ServiceAccount",
    "Secret",
    "SecretList",
    "ConfigMap",
    "StorageClass",
    "PersistentVolume",
    "PersistentVolumeClaim",
    "CustomResourceDefinition",
    "ClusterRole",
    "ClusterRoleList",
    "ClusterRoleBinding",
    "ClusterRoleBindingList",
    "Role",
    "RoleList",
    "RoleBinding",
    "RoleBindingList",
    "Service",
    "DaemonSet",
    "Pod",
    "ReplicationController",
    "ReplicaSet",
    "Deployment",
    "HorizontalPodAutoscaler",
    "StatefulSet",
    "Job",
    "CronJob",
    "IngressClass",
    "Ingress",
    "APIService",
    "MutatingWebhookConfiguration",
    "ValidatingWebhookConfiguration",
];

/// Where objects of `kind` come in [`HELM_INSTALL_ORDER`]: a kind it does not name after
/// every kind it names.
pub fn rank(kind: &str) -> usize {
    HELM_INSTALL_ORDER
        .iter()
        .position(|k| *k == kind)
        .unwrap_or(HELM_INSTALL_ORDER.len())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accounts_and_bindings_come_before_the_workloads_that_use_them() {
        assert!(rank("Namespace") < rank("ServiceAccount"));
        assert!(rank("ServiceAccount") < rank("RoleBinding"));
        assert!(rank("RoleBinding") < rank("Service"));
        assert!(rank("Service") < rank("Deployment"));
        assert_eq!(rank("Widget"), HELM_INSTALL_ORDER.len());
    }
}
