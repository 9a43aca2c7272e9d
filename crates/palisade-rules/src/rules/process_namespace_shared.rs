use crate::context::Context;
use crate::rule::{Check, Target};

declare_rule! {
    /// ## What it checks
    /// Pods with `shareProcessNamespace: true`.
    ///
    /// ## Why it matters
    /// With a shared process namespace every container sees the others' processes, can signal
    /// them and can read their environment and file systems through `/proc/<pid>/root`. A
    /// compromised sidecar then reads the main container's secrets, and the reverse
    /// (MITRE ATT&CK T1552.001).
    ///
    /// ## Severity
    /// Low: the exposure stays inside the pod.
    ///
    /// ## Failing example
    /// ```yaml
    /// spec:
    ///   shareProcessNamespace: true
    /// ```
    ///
    /// ## Passing example
    /// ```yaml
    /// spec:
    ///   shareProcessNamespace: false
    /// ```
    ///
    /// ## Remediation
    /// Remove `shareProcessNamespace`; debug with ephemeral containers targeting one
    /// container (`kubectl debug --target`).
    ///
    /// ## References
    /// - Kubernetes documentation, "Share Process Namespace between Containers in a Pod"
    /// - NSA/CISA Kubernetes Hardening Guide v1.2, "Hardening container environments"
    pub struct ProcessNamespaceShared {
        id: "POD024",
        slug: "process-namespace-shared",
        title: "Containers share a process namespace",
        severity: Low,
        target: Target::PodSpec,
        controls: [
            NsaCisa12 "pod-security/hardening-container-environments",
            MitreAttack "T1552.001",
        ],
        remediation: "Remove `shareProcessNamespace: true`.",
    }
}

impl Check for ProcessNamespaceShared {
    fn check(&self, cx: &mut Context<'_>) {
        let path = cx.pod_field("shareProcessNamespace");
        if cx.bool_at(&path) == Some(true) {
            cx.report(
                path,
                "containers of this pod see and can signal each other's processes".to_string(),
            );
        }
    }
}
