use palisade_core::tree::Tree as _;
use palisade_k8s::storage::node_directory_risk;
use serde_json::Value;

use crate::context::{Context, Reported};
use crate::rule::{Check, Target};

declare_rule! {
    /// ## What it checks
    /// PersistentVolumes that keep their data in a directory of a node: a `hostPath` volume,
    /// and a `local` volume at a sensitive path. Paths are judged as POD022 judges a pod's
    /// hostPath (normalised, matched both ways). A `local` volume elsewhere (a node's data
    /// disk, pinned by node affinity) and a `hostPath` volume a provisioner created in its own
    /// directory (`pv.kubernetes.io/provisioned-by`, as the local-path provisioner of kind
    /// and k3s does) are storage as intended and are not reported, unless the path is
    /// sensitive.
    ///
    /// ## Why it matters
    /// Pod Security admission judges a pod's own volumes only. A pod that mounts a
    /// PersistentVolumeClaim bound to this volume passes even the `restricted` profile and
    /// still mounts the node's directory: a volume at `/`, `/etc`, a runtime socket or the
    /// kubelet's state hands the node to whoever claims it (MITRE ATT&CK T1611), and a
    /// writable directory of the node outlives every pod that wrote to it. The Kubernetes
    /// documentation keeps `hostPath` volumes to single-node testing.
    ///
    /// ## Severity
    /// Per finding. Critical for a path that hands over the node (its root, `/etc`, a runtime
    /// socket, the kubelet's state); high for another sensitive path (`/proc`, `/sys`,
    /// `/home`, `/var/log`...); medium for any other `hostPath` created by hand.
    ///
    /// ## Failing example
    /// ```yaml
    /// kind: PersistentVolume
    /// spec:
    ///   hostPath: {path: /}
    /// ```
    ///
    /// ## Passing example
    /// ```yaml
    /// kind: PersistentVolume
    /// spec:
    ///   csi: {driver: ebs.csi.aws.com, volumeHandle: vol-0a1b2c}
    /// ```
    ///
    /// ## Remediation
    /// Provision volumes through a StorageClass and a CSI driver; for node-local disks use a
    /// `local` volume on a dedicated mount with node affinity. Restrict who may create
    /// PersistentVolumes (RBAC011).
    ///
    /// ## References
    /// - Kubernetes documentation, "Persistent Volumes" and "Volumes" (hostPath: "for
    ///   single node testing only")
    /// - CIS Kubernetes Benchmark v1.12, 5.1.9, on who may create PersistentVolumes (RBAC011)
    pub struct HostPathPersistentVolume {
        id: "STO001",
        slug: "host-path-persistent-volume",
        title: "PersistentVolume keeps its data in a directory of the node",
        severity: Critical,
        target: Target::Kinds(&[("", "PersistentVolume")]),
        controls: [MitreAttack "T1611"],
        remediation: "Provision the volume through a StorageClass and a CSI driver, or a `local` volume on a dedicated disk.",
    }
}

impl Check for HostPathPersistentVolume {
    fn check(&self, cx: &mut Context<'_>) {
        let volume = &cx.object.value;
        let Some((directory, what, severity)) = node_directory_risk(volume) else {
            return;
        };
        let path = palisade_core::JsonPointer::root()
            .join("spec")
            .join(directory.source)
            .join("path");
        let holders = volume
            .at("/spec/claimRef")
            .map(|claim| {
                let part = |key| claim.get(key).and_then(Value::as_str).unwrap_or("?");
                format!("the pods of claim {}/{}", part("namespace"), part("name"))
            })
            .unwrap_or_else(|| "every pod whose claim binds it".to_string());
        let mut reported = Reported::new(
            path,
            format!(
                "{} volume at {} gives {holders} {what}",
                directory.source, directory.path
            ),
        );
        reported.severity = Some(severity);
        cx.report_with(reported);
    }
}
