use crate::context::Context;
use crate::rule::{Check, Target};

declare_rule! {
    /// ## What it checks
    /// Containers that do not set `securityContext.allowPrivilegeEscalation: false`. Leaving it
    /// unset allows escalation, because the kernel's `no_new_privs` flag is only set when the
    /// field is explicitly `false`. Windows pods (`spec.os.name: windows`) are exempt, as in the
    /// Pod Security Standards.
    ///
    /// ## Why it matters
    /// Without `no_new_privs`, a process can gain privileges through setuid binaries (`sudo`,
    /// `su`, a planted setuid shell) or file capabilities. An attacker who gets code execution as
    /// a non-root user in the container becomes root in it, which is the usual first step of a
    /// container escape (MITRE ATT&CK T1068).
    ///
    /// ## Severity
    /// Medium: it needs a setuid binary or a kernel bug to exploit, but it removes a barrier
    /// that costs nothing to keep.
    ///
    /// ## Failing example
    /// ```yaml
    /// containers:
    /// - name: app
    ///   image: registry.example.com/app:1.4.2
    ///   # allowPrivilegeEscalation not set: escalation is allowed
    /// ```
    ///
    /// ## Passing example
    /// ```yaml
    /// containers:
    /// - name: app
    ///   image: registry.example.com/app:1.4.2
    ///   securityContext:
    ///     allowPrivilegeEscalation: false
    /// ```
    ///
    /// ## Remediation
    /// Set `securityContext.allowPrivilegeEscalation: false` on every container. Note that it
    /// cannot be combined with `privileged: true` or the `CAP_SYS_ADMIN` capability.
    /// `palisade fix` adds it to every container where it is unset and allowed
    /// (`docs/fix.md`).
    ///
    /// ## References
    /// - Kubernetes Pod Security Standards, Restricted, "Privilege Escalation"
    /// - CIS Kubernetes Benchmark v1.12, 5.2.6
    /// - Linux `no_new_privs`: https://docs.kernel.org/userspace-api/no_new_privs.html
    pub struct PrivilegeEscalationAllowed {
        id: "POD002",
        slug: "privilege-escalation-allowed",
        title: "Container allows privilege escalation",
        severity: Medium,
        target: Target::PodSpec,
        controls: [
            CisK8s112 "5.2.6",
            Pss "restricted/privilege-escalation",
            NsaCisa12 "pod-security/pod-security-enforcement",
            MitreAttack "T1068",
        ],
        remediation: "Set `securityContext.allowPrivilegeEscalation: false`.",
    }
}

impl Check for PrivilegeEscalationAllowed {
    fn check(&self, cx: &mut Context<'_>) {
        if cx.is_windows_pod() {
            return;
        }
        for container in cx.containers() {
            let path = container.field(&["securityContext", "allowPrivilegeEscalation"]);
            match cx.bool_at(&path) {
                Some(false) => {}
                Some(true) => cx.report(path, format!("{} sets allowPrivilegeEscalation: true", container.describe())),
                None => cx.report(
                    path,
                    format!(
                        "{} does not set allowPrivilegeEscalation: false, so setuid binaries can raise privileges",
                        container.describe()
                    ),
                ),
            }
        }
    }
}
