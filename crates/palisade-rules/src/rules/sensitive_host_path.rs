use palisade_core::Severity;
use palisade_core::host_path::{node_takeover_path, sensitive_host_path};
use palisade_inventory::claims::ClaimDirectories;
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
    /// POD005 reports every hostPath; this rule singles out the critical ones. A volume of a
    /// PersistentVolumeClaim counts as the path of the volume it is bound to when that is a
    /// `hostPath` or `local` PersistentVolume in the scanned objects (the claim's
    /// `volumeName`, or the volume's `claimRef`): Pod Security admission never looks through
    /// a claim, so such a pod passes even the `restricted` profile (STO001 reports the
    /// volume itself).
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
    fn models(&self, models: &mut crate::context::Models) {
        // Read from claims and volumes alone: a cluster prepared for admission keeps it for
        // every object that is neither.
        models.keep(
            ClaimDirectories::build,
            crate::context::Sees::Kinds(&[("", "PersistentVolumeClaim"), ("", "PersistentVolume")]),
        );
    }

    fn reads(&self) -> &'static [(&'static str, &'static str)] {
        &[("", "PersistentVolumeClaim"), ("", "PersistentVolume")]
    }

    fn check(&self, cx: &mut Context<'_>) {
        let claims = cx.derived(ClaimDirectories::build);
        let namespace = cx.object.id.namespace.clone().unwrap_or_else(|| {
            palisade_k8s::names::unset_namespace(cx.inventory.scope_of(cx.object))
        });
        for (pointer, name, volume) in cx.volumes() {
            // The node's path, where the finding points, and how the volume reaches it.
            let (path, host, how) = if volume.get("hostPath").is_some_and(Value::is_object) {
                let path = pointer.join("hostPath").join("path");
                let Some(host) = cx.str_at(&path) else {
                    continue;
                };
                (path, host.to_string(), format!("{host} from the node"))
            } else if volume
                .get("persistentVolumeClaim")
                .is_some_and(Value::is_object)
            {
                let path = pointer.join("persistentVolumeClaim").join("claimName");
                let Some(directory) = cx.str_at(&path).and_then(|c| claims.get(&namespace, c))
                else {
                    continue;
                };
                let how = format!(
                    "claim {}, bound to PersistentVolume {} on the node's {} {}",
                    cx.str_at(&path).unwrap_or_default(),
                    directory.volume,
                    directory.source,
                    directory.path
                );
                (path, directory.path.clone(), how)
            } else {
                continue;
            };
            let Some(what) = sensitive_host_path(&host) else {
                continue;
            };
            let mut reported = crate::context::Reported::new(
                path,
                format!("volume \"{name}\" mounts {how}: {what}"),
            );
            if node_takeover_path(&host).is_none() {
                // A claim's volume may be read-only for every container at once.
                let claim_read_only = volume
                    .get("persistentVolumeClaim")
                    .and_then(|c| c.get("readOnly"))
                    .and_then(Value::as_bool)
                    == Some(true);
                reported.severity = Some(if claim_read_only || mounted_read_only(cx, name) {
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
