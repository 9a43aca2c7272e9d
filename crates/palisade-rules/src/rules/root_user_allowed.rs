use crate::context::Context;
use crate::rule::{Check, Rule, Target};

declare_rule! {
    /// ## What it checks
    /// Containers that may run as root: those whose effective `runAsUser` is 0, and those where
    /// neither `runAsNonRoot: true` nor a non-zero `runAsUser` is set, at the container or at
    /// the pod level. Container settings override pod settings, exactly as the kubelet applies
    /// them. Windows pods (`spec.os.name: windows`) are exempt.
    ///
    /// ## Why it matters
    /// A process running as uid 0 in a container is root on the node as far as the kernel is
    /// concerned (unless user namespaces are in use): every kernel or runtime escape bug, every
    /// writable host mount and every added capability is worth more to an attacker running as
    /// root (MITRE ATT&CK T1611). Images run as root by default unless their Dockerfile says
    /// otherwise, so an unset field usually means root.
    ///
    /// ## Severity
    /// Medium: not an escape by itself, but it turns many other weaknesses into one.
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
    ///     runAsNonRoot: true
    ///     runAsUser: 10001
    ///   containers:
    ///   - name: app
    ///     image: registry.example.com/app:1.4.2
    /// ```
    ///
    /// ## Remediation
    /// Set `securityContext.runAsNonRoot: true` (pod or container) and a non-zero `runAsUser`;
    /// build images with a `USER` other than root. `palisade fix` adds `runAsNonRoot: true`
    /// where a non-zero `runAsUser` is set, or everywhere with `--run-as-non-root always`
    /// (`docs/fix.md`).
    ///
    /// ## References
    /// - Kubernetes Pod Security Standards, Restricted, "Running as Non-root" and "Running as
    ///   Non-root user"
    /// - CIS Kubernetes Benchmark v1.12, 5.2.7
    /// - NSA/CISA Kubernetes Hardening Guide v1.2, "Non-root containers and rootless container
    ///   engines"
    pub struct RootUserAllowed {
        id: "POD003",
        slug: "root-user-allowed",
        title: "Container may run as root",
        severity: Medium,
        target: Target::PodSpec,
        controls: [
            CisK8s112 "5.2.7",
            Pss "restricted/running-as-non-root",
            Pss "restricted/running-as-non-root-user",
            NsaCisa12 "pod-security/non-root-containers",
            MitreAttack "T1611",
        ],
        remediation: "Set `runAsNonRoot: true` and a non-zero `runAsUser` in the pod or container securityContext.",
    }
}

impl Check for RootUserAllowed {
    fn check(&self, cx: &mut Context<'_>) {
        if cx.is_windows_pod() {
            return;
        }
        // `runAsUser: 0` violates "Running as Non-root user"; a missing or false
        // `runAsNonRoot` violates "Running as Non-root" only (that control forbids an explicit
        // 0, not an unset user).
        let as_root_user = self
            .meta()
            .controls_except(&["restricted/running-as-non-root"]);
        let no_non_root = self
            .meta()
            .controls_except(&["restricted/running-as-non-root-user"]);
        for container in cx.containers() {
            let user = cx.effective_security_int(container, "runAsUser");
            let non_root = cx.effective_security_bool(container, "runAsNonRoot");
            match (user, non_root) {
                (Some((0, path)), _) => {
                    cx.report_citing(
                        path,
                        format!("{} runs as root (runAsUser: 0)", container.describe()),
                        as_root_user.clone(),
                    );
                }
                (Some(_), _) | (None, Some((true, _))) => {}
                (None, Some((false, path))) => cx.report_citing(
                    path,
                    format!("{} sets runAsNonRoot: false and no non-zero runAsUser", container.describe()),
                    no_non_root.clone(),
                ),
                (None, None) => cx.report_citing(
                    container.field(&["securityContext", "runAsNonRoot"]),
                    format!(
                        "{} sets neither runAsNonRoot: true nor a non-zero runAsUser (pod or container); it runs as root unless the image says otherwise",
                        container.describe()
                    ),
                    no_non_root.clone(),
                ),
            }
        }
    }
}
