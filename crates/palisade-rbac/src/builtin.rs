//! What every cluster's bootstrap policy contains: the default ClusterRoles (`cluster-admin`,
//! `admin`, `edit`, `view`) as Kubernetes v1.33 defines them (the security-relevant rules), so
//! that bindings to them are judged even when the scanned files do not define them; and the
//! control-plane grants of that policy, which are not findings.

use crate::identity::Subject;
use crate::model::{Binding, RoleKind};

/// The service accounts kube-controller-manager runs its controllers as
/// (`--use-service-account-credentials`), each bound by the bootstrap policy to the role of the
/// same name: `system:controller:<name>` (v1.33, plus names of earlier and later releases).
pub const CONTROLLER_ACCOUNTS: &[&str] = &[
    "attachdetach-controller",
    "bootstrap-signer",
    "certificate-controller",
    "cloud-provider",
    "clusterrole-aggregation-controller",
    "cronjob-controller",
    "daemon-set-controller",
    "deployment-controller",
    "device-taint-eviction-controller",
    "disruption-controller",
    "endpoint-controller",
    "endpointslice-controller",
    "endpointslicemirroring-controller",
    "ephemeral-volume-controller",
    "expand-controller",
    "generic-garbage-collector",
    "horizontal-pod-autoscaler",
    "job-controller",
    "legacy-service-account-token-cleaner",
    "namespace-controller",
    "node-controller",
    "persistent-volume-binder",
    "pod-garbage-collector",
    "podcheckpoint-controller",
    "pv-protection-controller",
    "pvc-protection-controller",
    "replicaset-controller",
    "replication-controller",
    "resource-claim-controller",
    "resourcequota-controller",
    "root-ca-cert-publisher",
    "route-controller",
    "selinux-warning-controller",
    "service-account-controller",
    "service-cidrs-controller",
    "service-controller",
    "statefulset-controller",
    "storage-version-garbage-collector",
    "storage-version-migrator-controller",
    "taint-eviction-controller",
    "token-cleaner",
    "ttl-after-finished-controller",
    "ttl-controller",
    "validatingadmissionpolicy-status-controller",
    "volumeattributesclass-protection-controller",
];

/// Whether `binding` grants to `subject` as the bootstrap policy does for the control plane,
/// so that the grant is the cluster's own and not a finding:
/// - users and groups named `system:*` (`system:kube-controller-manager`, `system:nodes`,
///   `system:masters`, ...), except the groups everyone is in (`system:authenticated`,
///   `system:unauthenticated`, `system:serviceaccounts[:ns]`) and `system:anonymous`;
/// - a controller's service account (`kube-system/<name>`, [`CONTROLLER_ACCOUNTS`]) bound to
///   the role `system:controller:<name>` by a ClusterRoleBinding or a kube-system
///   RoleBinding, the pairing the bootstrap policy makes.
///
/// The binding's name is never trusted: anyone who can write RBAC can pick it. Another subject
/// added to a default binding, a controller account bound to any other role, and a
/// `system:controller:*` role bound to any other account are all judged as usual.
pub fn is_default_grant(binding: &Binding, subject: &Subject) -> bool {
    match subject {
        Subject::User { name } | Subject::Group { name } => {
            name.starts_with("system:")
                && !matches!(
                    name.as_str(),
                    "system:anonymous"
                        | "system:unauthenticated"
                        | "system:authenticated"
                        | "system:serviceaccounts"
                )
                && !name.starts_with("system:serviceaccounts:")
        }
        Subject::ServiceAccount { namespace, name } => {
            namespace == "kube-system"
                && CONTROLLER_ACCOUNTS.contains(&name.as_str())
                && binding.role_ref.name.strip_prefix("system:controller:") == Some(name.as_str())
                && match binding.role_ref.kind {
                    RoleKind::ClusterRole => true,
                    RoleKind::Role => binding.namespace.as_deref() == Some("kube-system"),
                }
        }
    }
}

/// The bootstrap user-facing roles. `admin` and `edit` are written out in full instead of
/// aggregated, as the aggregation controller leaves them.
pub const DEFAULT_CLUSTER_ROLES: &str = r#"
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata: {name: cluster-admin}
rules:
- {apiGroups: ["*"], resources: ["*"], verbs: ["*"]}
- {nonResourceURLs: ["*"], verbs: ["*"]}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata: {name: edit}
rules:
- {apiGroups: [""], resources: [pods/attach, pods/exec, pods/portforward, pods/proxy, secrets, services/proxy], verbs: [get, list, watch]}
- {apiGroups: [""], resources: [serviceaccounts], verbs: [impersonate]}
- {apiGroups: [""], resources: [pods, pods/attach, pods/exec, pods/portforward, pods/proxy], verbs: [create, delete, deletecollection, patch, update]}
- {apiGroups: [""], resources: [pods/eviction], verbs: [create]}
- {apiGroups: [""], resources: [configmaps, events, persistentvolumeclaims, replicationcontrollers, replicationcontrollers/scale, secrets, serviceaccounts, services, services/proxy], verbs: [create, delete, deletecollection, patch, update]}
- {apiGroups: [""], resources: [serviceaccounts/token], verbs: [create]}
- {apiGroups: [apps], resources: [daemonsets, deployments, deployments/rollback, deployments/scale, replicasets, replicasets/scale, statefulsets, statefulsets/scale], verbs: [create, delete, deletecollection, patch, update]}
- {apiGroups: [autoscaling], resources: [horizontalpodautoscalers], verbs: [create, delete, deletecollection, patch, update]}
- {apiGroups: [batch], resources: [cronjobs, jobs], verbs: [create, delete, deletecollection, patch, update]}
- {apiGroups: [networking.k8s.io], resources: [ingresses, networkpolicies], verbs: [create, delete, deletecollection, patch, update]}
- {apiGroups: [policy], resources: [poddisruptionbudgets], verbs: [create, delete, deletecollection, patch, update]}
- {apiGroups: [""], resources: [configmaps, endpoints, persistentvolumeclaims, persistentvolumeclaims/status, pods, replicationcontrollers, replicationcontrollers/scale, serviceaccounts, services, services/status, bindings, events, limitranges, namespaces/status, pods/log, pods/status, replicationcontrollers/status, resourcequotas, resourcequotas/status, namespaces], verbs: [get, list, watch]}
- {apiGroups: [apps, batch, autoscaling, networking.k8s.io, policy], resources: ["*"], verbs: [get, list, watch]}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata: {name: admin}
rules:
- {apiGroups: [""], resources: [pods/attach, pods/exec, pods/portforward, pods/proxy, secrets, services/proxy], verbs: [get, list, watch]}
- {apiGroups: [""], resources: [serviceaccounts], verbs: [impersonate]}
- {apiGroups: [""], resources: [pods, pods/attach, pods/exec, pods/portforward, pods/proxy], verbs: [create, delete, deletecollection, patch, update]}
- {apiGroups: [""], resources: [pods/eviction], verbs: [create]}
- {apiGroups: [""], resources: [configmaps, events, persistentvolumeclaims, replicationcontrollers, replicationcontrollers/scale, secrets, serviceaccounts, services, services/proxy], verbs: [create, delete, deletecollection, patch, update]}
- {apiGroups: [""], resources: [serviceaccounts/token], verbs: [create]}
- {apiGroups: [apps], resources: [daemonsets, deployments, deployments/rollback, deployments/scale, replicasets, replicasets/scale, statefulsets, statefulsets/scale], verbs: [create, delete, deletecollection, patch, update]}
- {apiGroups: [autoscaling], resources: [horizontalpodautoscalers], verbs: [create, delete, deletecollection, patch, update]}
- {apiGroups: [batch], resources: [cronjobs, jobs], verbs: [create, delete, deletecollection, patch, update]}
- {apiGroups: [networking.k8s.io], resources: [ingresses, networkpolicies], verbs: [create, delete, deletecollection, patch, update]}
- {apiGroups: [policy], resources: [poddisruptionbudgets], verbs: [create, delete, deletecollection, patch, update]}
- {apiGroups: [rbac.authorization.k8s.io], resources: [rolebindings, roles], verbs: [create, delete, deletecollection, get, list, patch, update, watch]}
- {apiGroups: [authorization.k8s.io], resources: [localsubjectaccessreviews], verbs: [create]}
- {apiGroups: [""], resources: [configmaps, endpoints, persistentvolumeclaims, pods, replicationcontrollers, serviceaccounts, services, events, limitranges, pods/log, pods/status, resourcequotas, namespaces], verbs: [get, list, watch]}
- {apiGroups: [apps, batch, autoscaling, networking.k8s.io, policy], resources: ["*"], verbs: [get, list, watch]}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata: {name: view}
rules:
- {apiGroups: [""], resources: [configmaps, endpoints, persistentvolumeclaims, persistentvolumeclaims/status, pods, replicationcontrollers, replicationcontrollers/scale, serviceaccounts, services, services/status, bindings, events, limitranges, namespaces/status, pods/log, pods/status, replicationcontrollers/status, resourcequotas, resourcequotas/status, namespaces], verbs: [get, list, watch]}
- {apiGroups: [apps], resources: [controllerrevisions, daemonsets, daemonsets/status, deployments, deployments/scale, deployments/status, replicasets, replicasets/scale, replicasets/status, statefulsets, statefulsets/scale, statefulsets/status], verbs: [get, list, watch]}
- {apiGroups: [batch], resources: [cronjobs, cronjobs/status, jobs, jobs/status], verbs: [get, list, watch]}
- {apiGroups: [networking.k8s.io], resources: [ingresses, ingresses/status, networkpolicies], verbs: [get, list, watch]}
- {apiGroups: [policy], resources: [poddisruptionbudgets, poddisruptionbudgets/status], verbs: [get, list, watch]}
"#;

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::RoleRef;

    fn binding(namespace: Option<&str>, kind: RoleKind, role: &str) -> Binding {
        Binding {
            name: "any-name".to_string(),
            namespace: namespace.map(str::to_string),
            role_ref: RoleRef {
                kind,
                name: role.to_string(),
            },
            subjects: Vec::new(),
            role: None,
            object: 0,
        }
    }

    #[test]
    fn controller_accounts_are_default_only_with_their_own_role() {
        let gc = Subject::service_account("kube-system", "generic-garbage-collector");
        let own = binding(
            None,
            RoleKind::ClusterRole,
            "system:controller:generic-garbage-collector",
        );
        assert!(is_default_grant(&own, &gc));
        let other_role = binding(None, RoleKind::ClusterRole, "cluster-admin");
        assert!(!is_default_grant(&other_role, &gc));
        let other_controller = binding(
            None,
            RoleKind::ClusterRole,
            "system:controller:namespace-controller",
        );
        assert!(!is_default_grant(&other_controller, &gc));
        let elsewhere = Subject::service_account("default", "generic-garbage-collector");
        assert!(!is_default_grant(&own, &elsewhere));
        let user = Subject::User {
            name: "testuser".to_string(),
        };
        assert!(!is_default_grant(&own, &user));
    }

    #[test]
    fn unknown_controller_names_and_foreign_namespaces_are_not_default() {
        let made_up = Subject::service_account("kube-system", "backdoor");
        let pairing = binding(None, RoleKind::ClusterRole, "system:controller:backdoor");
        assert!(!is_default_grant(&pairing, &made_up));
        let signer = Subject::service_account("kube-system", "bootstrap-signer");
        let in_kube_system = binding(
            Some("kube-system"),
            RoleKind::Role,
            "system:controller:bootstrap-signer",
        );
        assert!(is_default_grant(&in_kube_system, &signer));
        let in_default = binding(
            Some("default"),
            RoleKind::Role,
            "system:controller:bootstrap-signer",
        );
        assert!(!is_default_grant(&in_default, &signer));
    }

    #[test]
    fn system_users_are_default_but_everyone_groups_are_not() {
        let any = binding(None, RoleKind::ClusterRole, "whatever");
        for name in [
            "system:kube-controller-manager",
            "system:masters",
            "system:nodes",
        ] {
            let group = Subject::Group {
                name: name.to_string(),
            };
            assert!(is_default_grant(&any, &group), "{name}");
        }
        for name in [
            "system:authenticated",
            "system:unauthenticated",
            "system:serviceaccounts",
            "system:serviceaccounts:dev",
            "system:anonymous",
        ] {
            let group = Subject::Group {
                name: name.to_string(),
            };
            assert!(!is_default_grant(&any, &group), "{name}");
        }
    }
}
