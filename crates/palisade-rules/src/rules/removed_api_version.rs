use crate::context::Context;
use crate::rule::{Check, Target};

/// `(apiVersion, kind or "*", removed in, replacement)`, from the Kubernetes deprecated API
/// migration guide.
const REMOVED: &[(&str, &str, &str, &str)] = &[
    (
        "extensions/v1beta1",
        "Ingress",
        "1.22",
        "networking.k8s.io/v1",
    ),
    (
        "extensions/v1beta1",
        "PodSecurityPolicy",
        "1.16",
        "Pod Security Admission",
    ),
    (
        "extensions/v1beta1",
        "NetworkPolicy",
        "1.16",
        "networking.k8s.io/v1",
    ),
    ("extensions/v1beta1", "*", "1.16", "apps/v1"),
    ("apps/v1beta1", "*", "1.16", "apps/v1"),
    ("apps/v1beta2", "*", "1.16", "apps/v1"),
    (
        "networking.k8s.io/v1beta1",
        "*",
        "1.22",
        "networking.k8s.io/v1",
    ),
    (
        "rbac.authorization.k8s.io/v1beta1",
        "*",
        "1.22",
        "rbac.authorization.k8s.io/v1",
    ),
    (
        "rbac.authorization.k8s.io/v1alpha1",
        "*",
        "1.22",
        "rbac.authorization.k8s.io/v1",
    ),
    (
        "admissionregistration.k8s.io/v1beta1",
        "*",
        "1.22",
        "admissionregistration.k8s.io/v1",
    ),
    (
        "apiextensions.k8s.io/v1beta1",
        "*",
        "1.22",
        "apiextensions.k8s.io/v1",
    ),
    (
        "apiregistration.k8s.io/v1beta1",
        "*",
        "1.22",
        "apiregistration.k8s.io/v1",
    ),
    (
        "authentication.k8s.io/v1beta1",
        "*",
        "1.22",
        "authentication.k8s.io/v1",
    ),
    (
        "authorization.k8s.io/v1beta1",
        "*",
        "1.22",
        "authorization.k8s.io/v1",
    ),
    (
        "certificates.k8s.io/v1beta1",
        "*",
        "1.22",
        "certificates.k8s.io/v1",
    ),
    (
        "coordination.k8s.io/v1beta1",
        "*",
        "1.22",
        "coordination.k8s.io/v1",
    ),
    (
        "scheduling.k8s.io/v1beta1",
        "*",
        "1.22",
        "scheduling.k8s.io/v1",
    ),
    (
        "storage.k8s.io/v1beta1",
        "CSIStorageCapacity",
        "1.27",
        "storage.k8s.io/v1",
    ),
    ("storage.k8s.io/v1beta1", "*", "1.22", "storage.k8s.io/v1"),
    ("batch/v1beta1", "CronJob", "1.25", "batch/v1"),
    ("batch/v2alpha1", "CronJob", "1.21", "batch/v1"),
    (
        "discovery.k8s.io/v1beta1",
        "*",
        "1.25",
        "discovery.k8s.io/v1",
    ),
    ("events.k8s.io/v1beta1", "*", "1.25", "events.k8s.io/v1"),
    ("autoscaling/v2beta1", "*", "1.25", "autoscaling/v2"),
    ("autoscaling/v2beta2", "*", "1.26", "autoscaling/v2"),
    (
        "policy/v1beta1",
        "PodSecurityPolicy",
        "1.25",
        "Pod Security Admission",
    ),
    ("policy/v1beta1", "*", "1.25", "policy/v1"),
    ("node.k8s.io/v1beta1", "*", "1.25", "node.k8s.io/v1"),
    ("node.k8s.io/v1alpha1", "*", "1.22", "node.k8s.io/v1"),
    (
        "flowcontrol.apiserver.k8s.io/v1beta1",
        "*",
        "1.26",
        "flowcontrol.apiserver.k8s.io/v1",
    ),
    (
        "flowcontrol.apiserver.k8s.io/v1beta2",
        "*",
        "1.29",
        "flowcontrol.apiserver.k8s.io/v1",
    ),
    (
        "flowcontrol.apiserver.k8s.io/v1beta3",
        "*",
        "1.32",
        "flowcontrol.apiserver.k8s.io/v1",
    ),
];

/// Groups whose versions the table covers; other groups (CRDs) are not judged.
fn removal(api_version: &str, kind: &str) -> Option<(&'static str, &'static str)> {
    REMOVED
        .iter()
        .find(|(v, k, _, _)| *v == api_version && (*k == kind || *k == "*"))
        .map(|(_, _, removed, replacement)| (*removed, *replacement))
}

declare_rule! {
    /// ## What it checks
    /// Objects written with an API version that Kubernetes has removed (for example
    /// `extensions/v1beta1` Deployments, `policy/v1beta1` PodSecurityPolicies, `batch/v1beta1`
    /// CronJobs, `autoscaling/v2beta2` HorizontalPodAutoscalers, `flowcontrol` betas), with the
    /// release that removed it and the replacement.
    ///
    /// ## Why it matters
    /// A current API server rejects these objects, so the security settings they carry are not
    /// applied at all; manifests kept on removed APIs also pin clusters to old, unpatched
    /// releases. PodSecurityPolicies are the sharpest case: since 1.25 they enforce nothing,
    /// and workloads that relied on them run unrestricted (MITRE ATT&CK T1562.001).
    ///
    /// ## Severity
    /// Low in general; the message says when the removed object was a security control.
    ///
    /// ## Failing example
    /// ```yaml
    /// apiVersion: extensions/v1beta1
    /// kind: Deployment
    /// ```
    ///
    /// ## Passing example
    /// ```yaml
    /// apiVersion: apps/v1
    /// kind: Deployment
    /// ```
    ///
    /// ## Remediation
    /// Migrate to the replacement API (`kubectl convert` or the migration guide); replace
    /// PodSecurityPolicies with Pod Security Admission labels or an admission policy.
    ///
    /// ## References
    /// - Kubernetes documentation, "Deprecated API Migration Guide"
    /// - NSA/CISA Kubernetes Hardening Guide v1.2, "Upgrading and application security practices"
    pub struct RemovedApiVersion {
        id: "META001",
        slug: "removed-api-version",
        title: "Object uses a removed API version",
        severity: Low,
        target: Target::All,
        controls: [
            NsaCisa12 "upgrading/application-security",
            MitreAttack "T1562.001",
        ],
        remediation: "Migrate the object to the replacement API version.",
    }
}

impl Check for RemovedApiVersion {
    fn check(&self, cx: &mut Context<'_>) {
        let id = &cx.object.id;
        if let Some((removed, replacement)) = removal(&id.api_version, &id.kind) {
            let consequence = if id.kind == "PodSecurityPolicy" {
                "; it enforces nothing on current clusters"
            } else {
                ""
            };
            let message = format!(
                "{} {} was removed in Kubernetes {removed}; use {replacement}{consequence}",
                id.api_version, id.kind
            );
            cx.report(
                palisade_core::JsonPointer::root().join("apiVersion"),
                message,
            );
        }
    }
}
