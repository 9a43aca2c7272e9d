use crate::context::Context;
use crate::rule::{Check, Target};

declare_rule! {
    /// ## What it checks
    /// Seccomp explicitly turned off: `seccompProfile.type: Unconfined` on the pod or a
    /// container, or the legacy `seccomp.security.alpha.kubernetes.io/pod` /
    /// `container.seccomp.security.alpha.kubernetes.io/<name>` annotations set to
    /// `unconfined`.
    ///
    /// ## Why it matters
    /// The runtime's default seccomp profile blocks about 50 rarely needed system calls that
    /// account for a large share of kernel privilege-escalation exploits (`unshare`, `keyctl`,
    /// `bpf`, `userfaultfd`, ...). Turning it off exposes the node's whole kernel surface
    /// (MITRE ATT&CK T1068, T1611).
    ///
    /// ## Severity
    /// Medium: it removes a layer that stops many kernel exploits.
    ///
    /// ## Failing example
    /// ```yaml
    /// securityContext:
    ///   seccompProfile:
    ///     type: Unconfined
    /// ```
    ///
    /// ## Passing example
    /// ```yaml
    /// securityContext:
    ///   seccompProfile:
    ///     type: RuntimeDefault
    /// ```
    ///
    /// ## Remediation
    /// Set `seccompProfile.type: RuntimeDefault`, or write a `Localhost` profile that allows
    /// the extra system calls the workload needs.
    ///
    /// ## References
    /// - Kubernetes Pod Security Standards, Baseline, "Seccomp"
    /// - CIS Kubernetes Benchmark v1.12, 5.6.2
    pub struct SeccompUnconfined {
        id: "POD013",
        slug: "seccomp-unconfined",
        title: "Seccomp is disabled",
        severity: Medium,
        target: Target::PodSpec,
        controls: [
            CisK8s112 "5.6.2",
            Pss "baseline/seccomp",
            NsaCisa12 "pod-security/hardening-container-environments",
            MitreAttack "T1068",
        ],
        remediation: "Set `seccompProfile.type: RuntimeDefault` instead of `Unconfined`.",
    }
}

impl Check for SeccompUnconfined {
    fn check(&self, cx: &mut Context<'_>) {
        let places = cx.security_context_places("seccompProfile");
        for (path, who) in places {
            let type_path = path.join("type");
            if cx.str_at(&type_path) == Some("Unconfined") {
                cx.report(
                    type_path,
                    format!("{who} sets seccompProfile type Unconfined"),
                );
            }
        }
        let annotations_path = cx.pod_metadata_field("annotations");
        for (key, value) in cx.pod_annotations().into_iter().flatten() {
            let target = if key == "seccomp.security.alpha.kubernetes.io/pod" {
                "the pod".to_string()
            } else if let Some(name) =
                key.strip_prefix("container.seccomp.security.alpha.kubernetes.io/")
            {
                format!("container \"{name}\"")
            } else {
                continue;
            };
            if value.as_str() == Some("unconfined") {
                cx.report(
                    annotations_path.join(key),
                    format!("annotation turns seccomp off for {target}"),
                );
            }
        }
    }
}
