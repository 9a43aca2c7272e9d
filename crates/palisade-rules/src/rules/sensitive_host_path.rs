use palisade_core::Severity;
use palisade_core::host_path::{node_takeover_path, sensitive_host_path};
use serde_json::Value;

use crate::context::Context;
use crate::rule::{Check, Target};

declare_rule! {
    /// ## What it checks
    /// `hostPath` volumes of paths that hand over the node: the root file system, `/etc`,
    /// `/root`, `/home`, the Docker, containerd and CRI-O sockets, `/var/run` and `/run`, the
    /// kubelet's and runtimes' state directories, `/etc/kubernetes`, `/etc/ssh`, `/etc/shadow`,
    /// `/etc/sudoers`, `/proc/sys/kernel`, `/proc`, `/sys`, `/boot` and `/dev`. Paths are
    /// normalised as the kernel resolves them (`//etc` and `/etc/../etc` are `/etc`), and
    /// matched both ways: a path below an entry whose whole subtree is sensitive (`/root/.ssh`,
    /// `/etc/kubernetes/pki`, `/var/lib/kubelet/pods/...`), and a directory that holds one
    /// (`/var` holds the runtime sockets). Ordinary node mounts below other entries
    /// (`/etc/ssl/certs`, `/sys/fs/cgroup`, `/var/log`) are not singled out. The mount is
    /// reported whether or not it is read-only: a read-only mount of a socket still talks to
    /// the daemon, and a read-only `/etc` or `/var/lib/kubelet` still leaks credentials.
    /// POD005 reports every hostPath; this rule singles out the critical ones.
    ///
    /// ## Why it matters
    /// A container runtime socket starts privileged containers on request; the kubelet's
    /// directory holds every pod's Secrets and tokens; `/etc` and `/root` hold node
    /// credentials. Any of them is a direct path to the node and from there to the cluster
    /// (MITRE ATT&CK T1611, T1552.001).
    ///
    /// ## Severity
    /// Per finding, by what the mount enables. Critical for a path that hands over the node
    /// (sockets, the root file system, `/etc`, the kubelet's state, `/proc/sys/kernel`): each
    /// is a known, one-step node takeover, read-only or not. For `/proc`, `/sys`, `/dev`,
    /// `/boot` and `/home`: high when a container mounts them writable (or some container
    /// mounts the volume without `readOnly`), medium when every mount is read-only (the node's
    /// processes, devices and settings are disclosed, not taken over).
    ///
    /// ## Failing example
    /// ```yaml
    /// volumes:
    /// - name: docker
    ///   hostPath: {path: /var/run/docker.sock}
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
    /// Remove the mount. Build images with a daemonless builder (BuildKit rootless, kaniko);
    /// read node metrics through the kubelet's API or a dedicated agent with a narrow path.
    ///
    /// ## References
    /// - CIS Kubernetes Benchmark v1.12, 5.2.11
    /// - Kubernetes Pod Security Standards, Baseline, "HostPath Volumes"
    /// - Kubernetes documentation, "Volumes", hostPath security warnings
    pub struct SensitiveHostPath {
        id: "POD022",
        slug: "sensitive-host-path",
        title: "Pod mounts a sensitive path of the node",
        severity: Critical,
        target: Target::PodSpec,
        controls: [
            CisK8s112 "5.2.11",
            Pss "baseline/hostpath-volumes",
            NsaCisa12 "pod-security/pod-security-enforcement",
            MitreAttack "T1611",
            MitreAttack "T1552.001",
        ],
        remediation: "Remove the hostPath mount of the runtime socket or system directory.",
    }
}

impl Check for SensitiveHostPath {
    fn check(&self, cx: &mut Context<'_>) {
        for (pointer, name, volume) in cx.volumes() {
            if !volume.get("hostPath").is_some_and(Value::is_object) {
                continue;
            }
            let path = pointer.join("hostPath").join("path");
            let Some(host) = cx.str_at(&path) else {
                continue;
            };
            let Some(what) = sensitive_host_path(host) else {
                continue;
            };
            let mut reported = crate::context::Reported::new(
                path,
                format!("volume \"{name}\" mounts {host} from the node: {what}"),
            );
            if node_takeover_path(host).is_none() {
                reported.severity = Some(if mounted_read_only(cx, name) {
                    reported.message.push_str(" (read-only in every container)");
                    Severity::Medium
                } else {
                    Severity::High
                });
            }
            cx.report_with(reported);
        }
    }
}

/// Whether every container that mounts volume `name` mounts it read-only (and one does).
fn mounted_read_only(cx: &mut Context<'_>, name: &str) -> bool {
    let mut mounted = false;
    for container in cx.containers() {
        let mounts = container.field(&["volumeMounts"]);
        for mount in cx.array_at(&mounts) {
            if mount.get("name").and_then(Value::as_str) != Some(name) {
                continue;
            }
            mounted = true;
            if mount.get("readOnly").and_then(Value::as_bool) != Some(true) {
                return false;
            }
        }
    }
    mounted
}
