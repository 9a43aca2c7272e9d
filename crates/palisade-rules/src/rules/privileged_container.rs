use crate::context::Context;
use crate::rule::{Check, Target};

declare_rule! {
    /// ## What it checks
    /// Containers (including init and ephemeral containers) with
    /// `securityContext.privileged: true`.
    ///
    /// ## Why it matters
    /// A privileged container gets every Linux capability, all host devices and no seccomp or
    /// AppArmor confinement. Whoever controls the process controls the node: mounting the host
    /// disk or loading a kernel module is one command away (MITRE ATT&CK T1611, Escape to Host).
    /// From the node, every secret of every pod scheduled there is readable.
    ///
    /// ## Severity
    /// Critical: a single compromised process becomes root on the node, with no further bug
    /// needed.
    ///
    /// ## Failing example
    /// ```yaml
    /// containers:
    /// - name: app
    ///   image: registry.example.com/app:1.4.2
    ///   securityContext:
    ///     privileged: true
    /// ```
    ///
    /// ## Passing example
    /// ```yaml
    /// containers:
    /// - name: app
    ///   image: registry.example.com/app:1.4.2
    ///   securityContext:
    ///     privileged: false
    ///     capabilities:
    ///       add: ["NET_ADMIN"]   # grant the one capability the workload needs instead
    /// ```
    ///
    /// ## Remediation
    /// Remove `privileged: true`. If the workload needs a specific kernel feature, grant only the
    /// capability it needs (`capabilities.add`) and keep it in a namespace whose Pod Security
    /// level is `privileged` only for that reason.
    ///
    /// ## References
    /// - Kubernetes Pod Security Standards, Baseline, "Privileged Containers"
    /// - CIS Kubernetes Benchmark v1.12, 5.2.2
    /// - MITRE ATT&CK T1611
    pub struct PrivilegedContainer {
        id: "POD001",
        slug: "privileged-container",
        title: "Container runs privileged",
        severity: Critical,
        target: Target::PodSpec,
        controls: [
            CisK8s112 "5.2.2",
            Pss "baseline/privileged-containers",
            NsaCisa12 "pod-security/pod-security-enforcement",
            MitreAttack "T1611",
        ],
        remediation: "Remove `securityContext.privileged: true`; add only the capabilities the container needs.",
    }
}

impl Check for PrivilegedContainer {
    fn check(&self, cx: &mut Context<'_>) {
        for container in cx.containers() {
            let path = container.field(&["securityContext", "privileged"]);
            if cx.bool_at(&path) == Some(true) {
                cx.report(
                    path,
                    format!(
                        "{} runs privileged: it has full access to the node",
                        container.describe()
                    ),
                );
            }
        }
    }
}
