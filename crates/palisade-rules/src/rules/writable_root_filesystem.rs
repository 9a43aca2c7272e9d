use palisade_inventory::ContainerKind;

use crate::context::Context;
use crate::rule::{Check, Target};

declare_rule! {
    /// ## What it checks
    /// Containers and init containers that do not set
    /// `securityContext.readOnlyRootFilesystem: true`. Windows pods are exempt (the field does
    /// not apply to them).
    ///
    /// ## Why it matters
    /// A writable root file system lets an intruder drop tools, modify binaries and
    /// configuration, and persist until the container restarts (MITRE ATT&CK T1525,
    /// T1543). A read-only root with explicit `emptyDir` mounts for the paths that must be
    /// written makes tampering visible and short-lived.
    ///
    /// ## Severity
    /// Low: it limits what an intruder can do next; it does not stop the intrusion.
    ///
    /// ## Failing example
    /// ```yaml
    /// containers:
    /// - name: app
    ///   image: registry.example.com/app:1.4.2
    /// ```
    ///
    /// ## Passing example
    /// ```yaml
    /// containers:
    /// - name: app
    ///   image: registry.example.com/app:1.4.2
    ///   securityContext:
    ///     readOnlyRootFilesystem: true
    ///   volumeMounts:
    ///   - {name: tmp, mountPath: /tmp}
    /// ```
    ///
    /// ## Remediation
    /// Set `readOnlyRootFilesystem: true` and mount `emptyDir` volumes at the paths the
    /// process writes (`/tmp`, caches).
    ///
    /// ## References
    /// - NSA/CISA Kubernetes Hardening Guide v1.2, "Immutable container file systems"
    /// - CIS Kubernetes Benchmark v1.12, 5.6.3
    pub struct WritableRootFilesystem {
        id: "POD018",
        slug: "writable-root-filesystem",
        title: "Container root file system is writable",
        severity: Low,
        target: Target::PodSpec,
        controls: [
            CisK8s112 "5.6.3",
            NsaCisa12 "pod-security/immutable-filesystems",
            MitreAttack "T1525",
        ],
        remediation: "Set `securityContext.readOnlyRootFilesystem: true`; mount emptyDir where the process writes.",
    }
}

impl Check for WritableRootFilesystem {
    fn check(&self, cx: &mut Context<'_>) {
        if cx.is_windows_pod() {
            return;
        }
        for container in cx.containers() {
            if container.kind == ContainerKind::Ephemeral {
                continue;
            }
            let path = container.field(&["securityContext", "readOnlyRootFilesystem"]);
            if cx.bool_at(&path) != Some(true) {
                cx.report(
                    path,
                    format!("{} has a writable root file system", container.describe()),
                );
            }
        }
    }
}
