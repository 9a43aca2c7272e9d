use super::pod_in_system_namespace::SYSTEM_NAMESPACES;
use crate::detection::{Cx, Hit, Trigger};

/// The service accounts the control plane's controllers create for themselves.
const CONTROLLER_ACCOUNTS: &[&str] = &[
    "attachdetach-controller",
    "bootstrap-signer",
    "certificate-controller",
    "clusterrole-aggregation-controller",
    "coredns",
    "coredns-autoscaler",
    "cronjob-controller",
    "daemon-set-controller",
    "default",
    "deployment-controller",
    "disruption-controller",
    "endpoint-controller",
    "endpointslice-controller",
    "endpointslicemirroring-controller",
    "ephemeral-volume-controller",
    "expand-controller",
    "generic-garbage-collector",
    "horizontal-pod-autoscaler",
    "job-controller",
    "kube-proxy",
    "legacy-service-account-token-cleaner",
    "namespace-controller",
    "node-controller",
    "persistent-volume-binder",
    "pod-garbage-collector",
    "pv-protection-controller",
    "pvc-protection-controller",
    "replicaset-controller",
    "replication-controller",
    "resourcequota-controller",
    "root-ca-cert-publisher",
    "service-account-controller",
    "service-controller",
    "statefulset-controller",
    "token-cleaner",
    "ttl-after-finished-controller",
    "ttl-controller",
    "validatingadmissionpolicy-status-controller",
];

crate::detection! {
    /// ## What it checks
    /// A service account created (successfully) in `kube-system` or `kube-public` that is not
    /// one of the controllers' own or in `known_service_accounts`.
    ///
    /// ## Why it matters
    /// An account created among the control plane's is a persistence foothold that reviews
    /// overlook; bound to a powerful role, it outlives the credential that created it.
    ///
    /// ## Response
    /// Confirm the owner of the account; add it to `known_service_accounts` when expected.
    ///
    /// ## Falco equivalent
    /// `Service Account Created in Kube Namespace`.
    ///
    /// ## Sigma equivalent
    /// `New Kubernetes Service Account Created`.
    pub static SERVICE_ACCOUNT_IN_SYSTEM_NAMESPACE {
        id: "AUD010",
        slug: "service-account-in-system-namespace",
        title: "Service account created in kube-system or kube-public",
        severity: Medium,
        mitre: ["T1136", "T1078"],
        remediation: "Create application service accounts in the application's namespace; list expected ones in [audit] known_service_accounts.",
        triggers: [Trigger::on(&["create"], "serviceaccounts")],
        check: crate::detection::Check::Request(check),
    }
}

fn check(cx: &Cx) -> Vec<Hit> {
    if !cx.event.succeeded()
        || !cx
            .event
            .namespace()
            .is_some_and(|ns| SYSTEM_NAMESPACES.contains(&ns))
    {
        return Vec::new();
    }
    let name = cx.object_name();
    if CONTROLLER_ACCOUNTS.contains(&name.as_str())
        || cx.settings.known_service_accounts.contains(&name)
    {
        return Vec::new();
    }
    vec![Hit::new(format!(
        "{} created service account {} in a system namespace",
        cx.actor(),
        cx.target()
    ))]
}
