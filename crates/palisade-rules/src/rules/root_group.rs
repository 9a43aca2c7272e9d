use crate::context::Context;
use crate::rule::{Check, Target};

declare_rule! {
    /// ## What it checks
    /// Pods and containers that run with group 0 (root): an effective `runAsGroup: 0`, the
    /// pod's `fsGroup: 0`, or `0` among its `supplementalGroups`.
    ///
    /// ## Why it matters
    /// Group 0 owns many files of the node and of images (`/etc`, sockets, device nodes are
    /// often group-root writable or readable). A non-root user in group 0 still reads and
    /// writes them, inside the container and on the node after an escape; `fsGroup: 0` also
    /// makes every volume's files group-root (MITRE ATT&CK T1611).
    ///
    /// ## Severity
    /// Low: hardening that limits what a compromised process reaches.
    ///
    /// ## Failing example
    /// ```yaml
    /// securityContext:
    ///   runAsUser: 10001
    ///   runAsGroup: 0
    /// ```
    ///
    /// ## Passing example
    /// ```yaml
    /// securityContext:
    ///   runAsUser: 10001
    ///   runAsGroup: 10001
    ///   fsGroup: 10001
    /// ```
    ///
    /// ## Remediation
    /// Use a non-zero group for `runAsGroup`, `fsGroup` and `supplementalGroups`.
    ///
    /// ## References
    /// - NSA/CISA Kubernetes Hardening Guide v1.2, "Non-root containers"
    pub struct RootGroup {
        id: "POD034",
        slug: "root-group",
        title: "Pod or container runs with the root group",
        severity: Low,
        target: Target::PodSpec,
        controls: [
            NsaCisa12 "pod-security/non-root-containers",
            MitreAttack "T1611",
        ],
        remediation: "Use a non-zero group for runAsGroup, fsGroup and supplementalGroups.",
    }
}

impl Check for RootGroup {
    fn check(&self, cx: &mut Context<'_>) {
        for container in cx.containers() {
            if let Some((0, path)) = cx.effective_security_int(container, "runAsGroup") {
                cx.report(
                    path,
                    format!("{} runs with group 0 (root)", container.describe()),
                );
            }
        }
        let fs_group = cx.pod_field("securityContext").join("fsGroup");
        if cx.int_at(&fs_group) == Some(0) {
            cx.report(
                fs_group,
                "fsGroup: 0 makes the pod's volumes group-root".to_string(),
            );
        }
        let supplemental = cx.pod_field("securityContext").join("supplementalGroups");
        let groups: Vec<i64> = cx
            .array_at(&supplemental)
            .iter()
            .map(|g| g.as_i64().unwrap_or(-1))
            .collect();
        if let Some(i) = groups.iter().position(|g| *g == 0) {
            cx.report(
                supplemental.join(i),
                "supplementalGroups includes group 0 (root)".to_string(),
            );
        }
    }
}
