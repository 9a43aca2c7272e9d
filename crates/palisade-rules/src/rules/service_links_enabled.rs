use crate::context::Context;
use crate::rule::{Check, Target};

declare_rule! {
    /// ## What it checks
    /// Pods that do not set `enableServiceLinks: false`.
    ///
    /// ## Why it matters
    /// With service links on (the default), the kubelet injects `<SERVICE>_SERVICE_HOST`,
    /// `<SERVICE>_PORT` and Docker-link variables for every Service in the namespace into every
    /// container: a map of the namespace's services for anyone who reads the environment
    /// (MITRE ATT&CK T1613), variables that can collide with and override the application's
    /// own configuration, and slow pod start-up in large namespaces. Applications should use
    /// DNS.
    ///
    /// ## Severity
    /// Info: information exposure and hygiene.
    ///
    /// ## Failing example
    /// ```yaml
    /// spec:
    ///   containers: [...]
    /// ```
    ///
    /// ## Passing example
    /// ```yaml
    /// spec:
    ///   enableServiceLinks: false
    ///   containers: [...]
    /// ```
    ///
    /// ## Remediation
    /// Set `enableServiceLinks: false` and reach Services by DNS name.
    ///
    /// ## References
    /// - Kubernetes documentation, "Service", "Environment variables"
    /// - NSA/CISA Kubernetes Hardening Guide v1.2, "Hardening container environments"
    pub struct ServiceLinksEnabled {
        id: "POD030",
        slug: "service-links-enabled",
        title: "Pod receives environment variables for every Service",
        severity: Info,
        target: Target::PodSpec,
        controls: [
            NsaCisa12 "pod-security/hardening-container-environments",
            MitreAttack "T1613",
        ],
        remediation: "Set `enableServiceLinks: false` and use DNS names.",
    }
}

impl Check for ServiceLinksEnabled {
    fn check(&self, cx: &mut Context<'_>) {
        let path = cx.pod_field("enableServiceLinks");
        if cx.bool_at(&path) != Some(false) {
            cx.report(
                path,
                "every Service of the namespace is injected into the containers' environment"
                    .to_string(),
            );
        }
    }
}
