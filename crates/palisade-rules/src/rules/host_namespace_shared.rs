use crate::context::Context;
use crate::rule::{Check, Rule, Target};

declare_rule! {
    /// ## What it checks
    /// Pod specs with `hostNetwork: true`, `hostPID: true` or `hostIPC: true`. Each shared
    /// namespace is one finding.
    ///
    /// ## Why it matters
    /// - `hostPID` shows every process on the node; with `ptrace` or a privileged container it
    ///   allows entering them (`nsenter -t 1`), and it exposes their environment variables.
    /// - `hostIPC` shares the node's System V IPC and POSIX shared memory with the pod.
    /// - `hostNetwork` puts the pod on the node's network stack: it can bind node ports, reach
    ///   services bound to localhost (the kubelet's read-only port, cloud metadata endpoints) and
    ///   sniff traffic, and NetworkPolicies no longer apply to it.
    ///
    /// These are routes out of the container's isolation (MITRE ATT&CK T1611).
    ///
    /// ## Severity
    /// High: each one removes a layer of isolation between the pod and the node.
    ///
    /// ## Failing example
    /// ```yaml
    /// spec:
    ///   hostPID: true
    ///   containers:
    ///   - name: agent
    ///     image: registry.example.com/agent:2.0.1
    /// ```
    ///
    /// ## Passing example
    /// ```yaml
    /// spec:
    ///   containers:
    ///   - name: agent
    ///     image: registry.example.com/agent:2.0.1
    /// ```
    ///
    /// ## Remediation
    /// Remove `hostNetwork`, `hostPID` and `hostIPC` (they default to `false`). Node agents that
    /// truly need them belong in a dedicated namespace with a `privileged` Pod Security level,
    /// suppressed with a reason.
    ///
    /// ## References
    /// - Kubernetes Pod Security Standards, Baseline, "Host Namespaces"
    /// - CIS Kubernetes Benchmark v1.12, 5.2.3, 5.2.4, 5.2.5
    pub struct HostNamespaceShared {
        id: "POD004",
        slug: "host-namespace-shared",
        title: "Pod shares a host namespace",
        severity: High,
        target: Target::PodSpec,
        controls: [
            CisK8s112 "5.2.3",
            CisK8s112 "5.2.4",
            CisK8s112 "5.2.5",
            Pss "baseline/host-namespaces",
            NsaCisa12 "pod-security/pod-security-enforcement",
            MitreAttack "T1611",
        ],
        remediation: "Remove `hostNetwork`, `hostPID` and `hostIPC` from the pod spec.",
    }
}

impl Check for HostNamespaceShared {
    fn check(&self, cx: &mut Context<'_>) {
        // Each field is its own CIS control: 5.2.3 hostPID, 5.2.4 hostIPC, 5.2.5 hostNetwork.
        let fields = [
            (
                "hostNetwork",
                "the node's network namespace: it can reach localhost-only services and bypasses NetworkPolicies",
                ["5.2.3", "5.2.4"],
            ),
            (
                "hostPID",
                "the node's process namespace: it sees and may enter every process on the node",
                ["5.2.4", "5.2.5"],
            ),
            (
                "hostIPC",
                "the node's IPC namespace: it can read other processes' shared memory",
                ["5.2.3", "5.2.5"],
            ),
        ];
        for (field, consequence, other_controls) in fields {
            let path = cx.pod_field(field);
            if cx.bool_at(&path) == Some(true) {
                cx.report_citing(
                    path,
                    format!("{field}: true shares {consequence}"),
                    self.meta().controls_except(&other_controls),
                );
            }
        }
    }
}
