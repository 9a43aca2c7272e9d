use crate::context::Context;
use crate::rule::{Check, Target};

declare_rule! {
    /// ## What it checks
    /// Windows HostProcess pods and containers: `securityContext.windowsOptions.hostProcess:
    /// true` on the pod or any container.
    ///
    /// ## Why it matters
    /// A HostProcess container runs directly on the Windows node, with the node's network and
    /// file system and, typically, as `NT AUTHORITY\SYSTEM`. It is the Windows equivalent of a
    /// privileged container with every host namespace (MITRE ATT&CK T1611).
    ///
    /// ## Severity
    /// Critical: it is the node.
    ///
    /// ## Failing example
    /// ```yaml
    /// securityContext:
    ///   windowsOptions:
    ///     hostProcess: true
    /// ```
    ///
    /// ## Passing example
    /// ```yaml
    /// securityContext:
    ///   windowsOptions:
    ///     runAsUserName: "ContainerUser"
    /// ```
    ///
    /// ## Remediation
    /// Remove `hostProcess: true`. Node agents that need it belong in a namespace labelled
    /// `privileged`, with a suppression that records why.
    ///
    /// ## References
    /// - Kubernetes Pod Security Standards, Baseline, "HostProcess"
    /// - CIS Kubernetes Benchmark v1.12, 5.2.10
    pub struct WindowsHostProcess {
        id: "POD017",
        slug: "windows-host-process",
        title: "Windows HostProcess container",
        severity: Critical,
        target: Target::PodSpec,
        controls: [
            CisK8s112 "5.2.10",
            Pss "baseline/host-process",
            NsaCisa12 "pod-security/pod-security-enforcement",
            MitreAttack "T1611",
        ],
        remediation: "Remove `windowsOptions.hostProcess: true`.",
    }
}

impl Check for WindowsHostProcess {
    fn check(&self, cx: &mut Context<'_>) {
        let pod = cx
            .pod_field("securityContext")
            .join("windowsOptions")
            .join("hostProcess");
        if cx.bool_at(&pod) == Some(true) {
            cx.report(
                pod,
                "the pod runs as a Windows HostProcess on the node".to_string(),
            );
        }
        for container in cx.containers() {
            let path = container.field(&["securityContext", "windowsOptions", "hostProcess"]);
            if cx.bool_at(&path) == Some(true) {
                cx.report(
                    path,
                    format!(
                        "{} runs as a Windows HostProcess on the node",
                        container.describe()
                    ),
                );
            }
        }
    }
}
