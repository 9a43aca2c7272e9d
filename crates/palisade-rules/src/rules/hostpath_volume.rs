use palisade_core::host_path::sensitive_host_path;
use serde_json::Value;

use crate::context::Context;
use crate::rule::{Check, Target};

declare_rule! {
    /// ## What it checks
    /// Volumes of type `hostPath`, which mount a directory or file of the node into the pod.
    /// The message says when the path is one that hands over the node outright (the root file
    /// system, `/etc`, the container runtime's socket, the kubelet's directory, `/proc`, ...).
    ///
    /// ## Why it matters
    /// A writable host mount is a direct escape: write a cron job, an SSH key or a static pod
    /// manifest to the node and wait (MITRE ATT&CK T1611). Even read-only mounts leak other
    /// pods' secrets and tokens under `/var/lib/kubelet`, and a mounted container-runtime
    /// socket lets the pod start a privileged container on the node.
    ///
    /// ## Severity
    /// High: the node's file system is reachable from the container.
    ///
    /// ## Failing example
    /// ```yaml
    /// volumes:
    /// - name: docker
    ///   hostPath:
    ///     path: /var/run/docker.sock
    /// ```
    ///
    /// ## Passing example
    /// ```yaml
    /// volumes:
    /// - name: cache
    ///   emptyDir: {}
    /// ```
    ///
    /// ## Remediation
    /// Use `emptyDir`, a `configMap`/`secret` projection or a PersistentVolumeClaim instead. For
    /// node agents that must read the host, mount the narrowest path with `readOnly: true` and
    /// suppress the finding with a reason.
    ///
    /// ## References
    /// - Kubernetes Pod Security Standards, Baseline, "HostPath Volumes"; Restricted, "Volume
    ///   Types"
    /// - CIS Kubernetes Benchmark v1.12, 5.2.11
    pub struct HostPathVolume {
        id: "POD005",
        slug: "hostpath-volume",
        title: "Pod mounts a hostPath volume",
        severity: High,
        target: Target::PodSpec,
        controls: [
            CisK8s112 "5.2.11",
            Pss "baseline/hostpath-volumes",
            Pss "restricted/volume-types",
            NsaCisa12 "pod-security/pod-security-enforcement",
            MitreAttack "T1611",
        ],
        remediation: "Replace the hostPath volume with emptyDir, a projected volume or a PersistentVolumeClaim.",
    }
}

impl Check for HostPathVolume {
    fn check(&self, cx: &mut Context<'_>) {
        for (pointer, name, volume) in cx.volumes() {
            if !volume.get("hostPath").is_some_and(Value::is_object) {
                continue;
            }
            let path = pointer.join("hostPath");
            let host = cx.str_at(&path.join("path")).unwrap_or("");
            let message = if sensitive_host_path(host).is_some() {
                format!(
                    "volume \"{name}\" mounts host path {host}, which gives control of the node"
                )
            } else {
                format!("volume \"{name}\" mounts host path {host} from the node")
            };
            cx.report(path, message);
        }
    }
}
