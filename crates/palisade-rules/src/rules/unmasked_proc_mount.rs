use crate::context::Context;
use crate::rule::{Check, Target};

declare_rule! {
    /// ## What it checks
    /// Containers with `securityContext.procMount` set to anything but `Default` (in practice
    /// `Unmasked`).
    ///
    /// ## Why it matters
    /// The runtime masks and makes read-only sensitive parts of `/proc` (`/proc/kcore`,
    /// `/proc/sys`, `/proc/sysrq-trigger`, ...). An unmasked `/proc` lets a process read kernel
    /// memory, change kernel settings or trigger a node reboot (MITRE ATT&CK T1611).
    ///
    /// ## Severity
    /// High: it exposes kernel interfaces of the node.
    ///
    /// ## Failing example
    /// ```yaml
    /// securityContext:
    ///   procMount: Unmasked
    /// ```
    ///
    /// ## Passing example
    /// ```yaml
    /// securityContext:
    ///   procMount: Default
    /// ```
    ///
    /// ## Remediation
    /// Remove `procMount` (it defaults to `Default`). Nested container runtimes that need an
    /// unmasked `/proc` belong in a dedicated, isolated node pool with user namespaces.
    ///
    /// ## References
    /// - Kubernetes Pod Security Standards, Baseline, "/proc Mount Type"
    pub struct UnmaskedProcMount {
        id: "POD012",
        slug: "unmasked-proc-mount",
        title: "Container unmasks /proc",
        severity: High,
        target: Target::PodSpec,
        controls: [
            Pss "baseline/proc-mount-type",
            NsaCisa12 "pod-security/hardening-container-environments",
            MitreAttack "T1611",
        ],
        remediation: "Remove `securityContext.procMount` or set it to `Default`.",
    }
}

impl Check for UnmaskedProcMount {
    fn check(&self, cx: &mut Context<'_>) {
        for container in cx.containers() {
            let path = container.field(&["securityContext", "procMount"]);
            if let Some(mount) = cx.str_at(&path).filter(|m| *m != "Default") {
                cx.report(
                    path,
                    format!(
                        "{} sets procMount: {mount}, exposing the node's /proc",
                        container.describe()
                    ),
                );
            }
        }
    }
}
