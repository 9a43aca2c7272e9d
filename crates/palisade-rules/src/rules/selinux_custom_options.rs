use crate::context::Context;
use crate::pss::SELINUX_TYPES;
use crate::rule::{Check, Target};

declare_rule! {
    /// ## What it checks
    /// `seLinuxOptions` on the pod or a container that set a `type` outside the container types
    /// (`container_t`, `container_init_t`, `container_kvm_t`, `container_engine_t`), or set a
    /// custom SELinux `user` or `role`.
    ///
    /// ## Why it matters
    /// On SELinux nodes the container type confines what a process may touch on the host.
    /// Choosing another type (`spc_t`, `unconfined_t`) or a custom user or role lifts that
    /// confinement: a "super privileged container" without `privileged: true` in the manifest
    /// (MITRE ATT&CK T1611).
    ///
    /// ## Severity
    /// Medium: only effective on SELinux-enforcing nodes, but then as strong as privileged.
    ///
    /// ## Failing example
    /// ```yaml
    /// securityContext:
    ///   seLinuxOptions:
    ///     type: spc_t
    /// ```
    ///
    /// ## Passing example
    /// ```yaml
    /// securityContext:
    ///   seLinuxOptions:
    ///     level: "s0:c123,c456"
    /// ```
    ///
    /// ## Remediation
    /// Remove `type`, `user` and `role` from `seLinuxOptions`; keep only `level` when you need
    /// MCS categories.
    ///
    /// ## References
    /// - Kubernetes Pod Security Standards, Baseline, "SELinux"
    pub struct SelinuxCustomOptions {
        id: "POD011",
        slug: "selinux-custom-options",
        title: "SELinux type, user or role is overridden",
        severity: Medium,
        target: Target::PodSpec,
        controls: [
            Pss "baseline/selinux",
            NsaCisa12 "pod-security/hardening-container-environments",
            MitreAttack "T1611",
        ],
        remediation: "Remove `type`, `user` and `role` from `seLinuxOptions`.",
    }
}

impl Check for SelinuxCustomOptions {
    fn check(&self, cx: &mut Context<'_>) {
        let places = cx.security_context_places("seLinuxOptions");
        for (path, who) in places {
            if let Some(kind) = cx.str_at(&path.join("type"))
                && !SELINUX_TYPES.contains(&kind)
            {
                cx.report(path.join("type"), format!("{who} sets SELinux type {kind}"));
            }
            for field in ["user", "role"] {
                if let Some(value) = cx.str_at(&path.join(field)).filter(|v| !v.is_empty()) {
                    cx.report(
                        path.join(field),
                        format!("{who} sets SELinux {field} {value}"),
                    );
                }
            }
        }
    }
}
