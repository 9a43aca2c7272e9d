use crate::context::Context;
use crate::rule::{Check, Target};

declare_rule! {
    /// ## What it checks
    /// The Pod Security Restricted seccomp control: each container's effective
    /// `seccompProfile.type` (the container's own, else the pod's) must be `RuntimeDefault` or
    /// `Localhost`. Containers with no profile at either level are reported; `Unconfined` is
    /// reported by POD013. Windows pods are exempt.
    ///
    /// ## Why it matters
    /// Without a profile, the kubelet runs containers `Unconfined` unless the cluster enables
    /// `SeccompDefault`, which many managed clusters do not. The whole kernel system-call
    /// surface is then open to a compromised process (MITRE ATT&CK T1068).
    ///
    /// ## Severity
    /// Low: the profile is a hardening layer; its absence is the default on many clusters.
    ///
    /// ## Failing example
    /// ```yaml
    /// spec:
    ///   containers:
    ///   - name: app
    ///     image: registry.example.com/app:1.4.2
    /// ```
    ///
    /// ## Passing example
    /// ```yaml
    /// spec:
    ///   securityContext:
    ///     seccompProfile:
    ///       type: RuntimeDefault
    ///   containers:
    ///   - name: app
    ///     image: registry.example.com/app:1.4.2
    /// ```
    ///
    /// ## Remediation
    /// Set `securityContext.seccompProfile.type: RuntimeDefault` at the pod level.
    /// `palisade fix` adds it (`docs/fix.md`).
    ///
    /// ## References
    /// - Kubernetes Pod Security Standards, Restricted, "Seccomp"
    /// - CIS Kubernetes Benchmark v1.12, 5.6.2
    pub struct SeccompProfileMissing {
        id: "POD014",
        slug: "seccomp-profile-missing",
        title: "No seccomp profile is set",
        severity: Low,
        target: Target::PodSpec,
        controls: [
            CisK8s112 "5.6.2",
            CisK8s112 "5.6.3",
            Pss "restricted/seccomp",
            NsaCisa12 "pod-security/hardening-container-environments",
            MitreAttack "T1068",
        ],
        remediation: "Set `securityContext.seccompProfile.type: RuntimeDefault` on the pod.",
    }
}

impl Check for SeccompProfileMissing {
    fn check(&self, cx: &mut Context<'_>) {
        if cx.is_windows_pod() {
            return;
        }
        for container in cx.containers() {
            let set = cx
                .effective_security_map(container, "seccompProfile")
                .and_then(|(profile, _)| profile.get("type"))
                .is_some_and(|t| !t.is_null());
            if !set {
                cx.report(
                    cx.pod_field("securityContext").join("seccompProfile"),
                    format!(
                        "{} has no seccomp profile (pod or container)",
                        container.describe()
                    ),
                );
            }
        }
    }
}
