use crate::context::Context;
use crate::pss::RESTRICTED_VOLUME_TYPES;
use crate::rule::{Check, Target};

declare_rule! {
    /// ## What it checks
    /// Volumes whose source is not one of the Pod Security Restricted types (`configMap`,
    /// `csi`, `downwardAPI`, `emptyDir`, `ephemeral`, `persistentVolumeClaim`, `projected`,
    /// `secret`). `hostPath` is reported by POD005 and `gitRepo` by POD023, not here.
    ///
    /// ## Why it matters
    /// In-tree volume types (`nfs`, `iscsi`, `rbd`, `cephfs`, `flexVolume`, `awsElasticBlockStore`,
    /// ...) let the pod author choose the storage endpoint and credentials directly, bypassing
    /// PersistentVolume administration: a pod can mount any share the node can reach (MITRE
    /// ATT&CK T1611). PersistentVolumeClaims keep that decision with the cluster operators.
    ///
    /// ## Severity
    /// Low: the pod must still reach the storage, but the choice should not be the pod's.
    ///
    /// ## Failing example
    /// ```yaml
    /// volumes:
    /// - name: share
    ///   nfs: {server: 10.0.0.5, path: /exports}
    /// ```
    ///
    /// ## Passing example
    /// ```yaml
    /// volumes:
    /// - name: share
    ///   persistentVolumeClaim: {claimName: share}
    /// ```
    ///
    /// ## Remediation
    /// Create a PersistentVolume (or a CSI StorageClass) for the storage and mount it through a
    /// PersistentVolumeClaim.
    ///
    /// ## References
    /// - Kubernetes Pod Security Standards, Restricted, "Volume Types"
    pub struct RestrictedVolumeType {
        id: "POD016",
        slug: "restricted-volume-type",
        title: "Pod uses a volume type the restricted profile forbids",
        severity: Low,
        target: Target::PodSpec,
        controls: [
            Pss "restricted/volume-types",
            NsaCisa12 "pod-security/pod-security-enforcement",
        ],
        remediation: "Mount the storage through a PersistentVolumeClaim instead of an in-tree volume source.",
    }
}

impl Check for RestrictedVolumeType {
    fn check(&self, cx: &mut Context<'_>) {
        for (pointer, name, volume) in cx.volumes() {
            for (source, value) in volume {
                if source == "name"
                    || value.is_null()
                    || matches!(source.as_str(), "hostPath" | "gitRepo")
                    || RESTRICTED_VOLUME_TYPES.contains(&source.as_str())
                {
                    continue;
                }
                cx.report(
                    pointer.join(source),
                    format!("volume \"{name}\" uses the {source} volume type"),
                );
            }
        }
    }
}
