//! Falco's k8saudit rules and the Palisade detection that has the same intent, for people
//! moving from Falco and for the conformance test on Falco's own regression traces. Falco's
//! per-kind activity rules (`K8s Deployment Created`, ...) are one Palisade detection
//! (AUD035, on with `activity = true`) told apart by verb and resource.

/// A Falco rule's counterpart: the detection, and for the activity rules the verbs and
/// resources that make up the Falco rule.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Counterpart {
    pub falco: &'static str,
    pub palisade: &'static str,
    /// Only alerts whose request has one of these verbs (empty: any).
    pub verbs: &'static [&'static str],
    /// Only alerts whose request is on one of these resources (empty: any).
    pub resources: &'static [&'static str],
}

const fn rule(falco: &'static str, palisade: &'static str) -> Counterpart {
    Counterpart {
        falco,
        palisade,
        verbs: &[],
        resources: &[],
    }
}

const fn activity(
    falco: &'static str,
    verbs: &'static [&'static str],
    resources: &'static [&'static str],
) -> Counterpart {
    Counterpart {
        falco,
        palisade: "AUD035",
        verbs,
        resources,
    }
}

/// Every Falco k8saudit rule with a counterpart (current names and the 2023 names of the
/// regression tests).
pub const COUNTERPARTS: &[Counterpart] = &[
    rule("Disallowed K8s User", "AUD030"),
    rule("Create Disallowed Pod", "AUD032"),
    rule("Create Privileged Pod", "AUD004"),
    rule("Create Sensitive Mount Pod", "AUD008"),
    rule("Create HostNetwork Pod", "AUD005"),
    rule("Create HostPid Pod", "AUD006"),
    rule("Create HostIPC Pod", "AUD007"),
    rule("Create NodePort Service", "AUD023"),
    rule("Create/Modify Configmap With Private Credentials", "AUD024"),
    rule("Anonymous Request Allowed", "AUD020"),
    rule("Attach/Exec Pod", "AUD001"),
    rule("port-forward", "AUD002"),
    rule("EphemeralContainers Created", "AUD003"),
    rule("Create Disallowed Namespace", "AUD031"),
    rule("Pod Created in Kube Namespace", "AUD009"),
    rule("Service Account Created in Kube Namespace", "AUD010"),
    rule("System ClusterRole Modified/Deleted", "AUD015"),
    rule("Attach to cluster-admin Role", "AUD011"),
    rule("ClusterRole With Wildcard Created", "AUD012"),
    rule("ClusterRole With Write Privileges Created", "AUD013"),
    rule("ClusterRole With Pod Exec Created", "AUD014"),
    rule("Ingress Object without TLS Certificate Created", "AUD033"),
    activity("K8s Deployment Created", &["create"], &["deployments"]),
    activity("K8s Deployment Deleted", &["delete"], &["deployments"]),
    activity("K8s Service Created", &["create"], &["services"]),
    activity("K8s Service Deleted", &["delete"], &["services"]),
    activity("K8s ConfigMap Created", &["create"], &["configmaps"]),
    activity("K8s ConfigMap Deleted", &["delete"], &["configmaps"]),
    activity("K8s Namespace Created", &["create"], &["namespaces"]),
    activity("K8s Namespace Deleted", &["delete"], &["namespaces"]),
    activity(
        "K8s Serviceaccount Created",
        &["create"],
        &["serviceaccounts"],
    ),
    activity(
        "K8s Serviceaccount Deleted",
        &["delete"],
        &["serviceaccounts"],
    ),
    activity("K8s Role Created", &["create"], &["roles"]),
    activity("K8s Role Deleted", &["delete"], &["roles"]),
    activity("K8s ClusterRole Created", &["create"], &["clusterroles"]),
    activity("K8s ClusterRole Deleted", &["delete"], &["clusterroles"]),
    activity(
        "K8s Role/Clusterrole Created",
        &["create"],
        &["roles", "clusterroles"],
    ),
    activity(
        "K8s Role/Clusterrole Deleted",
        &["delete"],
        &["roles", "clusterroles"],
    ),
    activity("K8s RoleBinding Created", &["create"], &["rolebindings"]),
    activity("K8s RoleBinding Deleted", &["delete"], &["rolebindings"]),
    activity(
        "K8s ClusterRoleBinding Created",
        &["create"],
        &["clusterrolebindings"],
    ),
    activity(
        "K8s ClusterRoleBinding Deleted",
        &["delete"],
        &["clusterrolebindings"],
    ),
    activity(
        "K8s Role/Clusterrolebinding Created",
        &["create"],
        &["rolebindings", "clusterrolebindings"],
    ),
    activity(
        "K8s Role/Clusterrolebinding Deleted",
        &["delete"],
        &["rolebindings", "clusterrolebindings"],
    ),
    activity("K8s Secret Created", &["create"], &["secrets"]),
    activity("K8s Secret Deleted", &["delete"], &["secrets"]),
    activity("K8s Secret Get Successfully", &["get"], &["secrets"]),
    activity(
        "K8s Secret Get Unsuccessfully Tried",
        &["get"],
        &["secrets"],
    ),
];

/// Falco rules without a counterpart, and why.
pub const WITHOUT_COUNTERPART: &[(&str, &str)] = &[
    (
        "All K8s Audit Events",
        "a debugging rule that matches every event (off in Falco too): `palisade audit analyze -o json` with a pass-through is not an alert",
    ),
    (
        "Full K8s Administrative Access",
        "off in Falco by default (its exception macro is always true); AUD030 with allowed_users covers named admin accounts",
    ),
    (
        "Untrusted Node Successfully Joined the Cluster",
        "off in Falco by default (allow_all_k8s_nodes is always true); node certificates are covered by AUD026",
    ),
    (
        "Untrusted Node Unsuccessfully Tried to Join the Cluster",
        "off in Falco by default, as above",
    ),
];

/// The counterpart of a Falco rule name.
pub fn counterpart(falco: &str) -> Option<&'static Counterpart> {
    COUNTERPARTS.iter().find(|c| c.falco == falco)
}

impl Counterpart {
    /// Whether an alert is one the Falco rule would have raised.
    pub fn covers(&self, alert: &crate::Alert) -> bool {
        alert.rule.id == self.palisade
            && (self.verbs.is_empty() || self.verbs.contains(&alert.request.verb.as_str()))
            && (self.resources.is_empty()
                || self.resources.contains(&alert.request.resource.as_str()))
            && match self.falco {
                "K8s Secret Get Successfully" => alert
                    .request
                    .response_code
                    .is_some_and(|c| (200..300).contains(&c)),
                "K8s Secret Get Unsuccessfully Tried" => !alert
                    .request
                    .response_code
                    .is_some_and(|c| (200..300).contains(&c)),
                _ => true,
            }
    }
}
