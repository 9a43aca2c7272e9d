//! What a PersistentVolume's source amounts to, answered once for the manifest rule and the
//! audit detection: whether its data lives in a directory of a node's own file system
//! (`hostPath`, or a `local` volume), how dangerous that directory is, and whether a
//! provisioner chose it.
//!
//! Pod Security admission judges a pod's own volumes only. A pod that mounts a claim bound to
//! a `hostPath` PersistentVolume passes even the `restricted` profile and still mounts the
//! node's directory, so such a volume is the node's disk handed to whoever claims it.

use palisade_core::Severity;
use palisade_core::host_path::{node_takeover_path, sensitive_host_path};
use palisade_core::tree::Tree;

/// The annotation a dynamic provisioner writes on the volumes it creates.
pub const PROVISIONED_BY: &str = "pv.kubernetes.io/provisioned-by";

/// A PersistentVolume's directory on a node.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NodeDirectory<'t> {
    /// `hostPath` (the directory on whichever node the pod lands) or `local` (one node's
    /// disk, pinned by node affinity).
    pub source: &'static str,
    pub path: &'t str,
}

/// The directory of the node a PersistentVolume keeps its data in, read from the volume
/// object (`spec.hostPath.path` or `spec.local.path`).
pub fn node_directory<T: Tree>(volume: &T) -> Option<NodeDirectory<'_>> {
    ["hostPath", "local"].into_iter().find_map(|source| {
        let path = volume.get("spec")?.get(source)?.get("path")?.as_str()?;
        Some(NodeDirectory { source, path })
    })
}

/// The provisioner that created the volume (its `pv.kubernetes.io/provisioned-by`
/// annotation), when one did.
pub fn provisioner<T: Tree>(volume: &T) -> Option<&str> {
    volume
        .get("metadata")?
        .get("annotations")?
        .get(PROVISIONED_BY)?
        .as_str()
        .filter(|p| !p.is_empty())
}

/// A volume of a pod spec that mounts a PersistentVolumeClaim.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClaimVolume<'t> {
    /// The volume's name, when set.
    pub name: Option<&'t str>,
    pub claim: &'t str,
    /// `persistentVolumeClaim.readOnly`: every container mounts it read-only.
    pub read_only: bool,
}

/// The pod spec's volumes of a PersistentVolumeClaim.
pub fn claim_volumes<T: Tree>(pod_spec: &T) -> impl Iterator<Item = ClaimVolume<'_>> {
    crate::security::volumes(pod_spec).filter_map(|v| {
        let source = v.get("persistentVolumeClaim")?;
        Some(ClaimVolume {
            name: v.get("name").and_then(Tree::as_str),
            claim: source.get("claimName").and_then(Tree::as_str)?,
            read_only: source.get("readOnly").and_then(Tree::as_bool) == Some(true),
        })
    })
}

/// The directory of a node a pod reaches through a PersistentVolumeClaim: the volume the
/// claim is bound to, and where that volume keeps its data.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClaimedDirectory {
    /// The PersistentVolume's name.
    pub volume: String,
    /// `hostPath` or `local`.
    pub source: &'static str,
    pub path: String,
}

/// What a volume kept in this directory gives whoever mounts it, and how severe that is:
/// `Critical` for a path that hands over the node (its root, `/etc`, a runtime socket, the
/// kubelet's state), `High` for another sensitive path (`/proc`, `/sys`, `/home`, ...),
/// `Medium` for any other `hostPath`. `None` for a `local` volume outside the sensitive paths
/// and for a `hostPath` a provisioner chose outside them (a provisioner hands out its own
/// directory per claim): those are storage as intended.
pub fn node_directory_risk<T: Tree>(volume: &T) -> Option<(NodeDirectory<'_>, String, Severity)> {
    let directory = node_directory(volume)?;
    if let Some(what) = node_takeover_path(directory.path) {
        return Some((directory, what, Severity::Critical));
    }
    if let Some(what) = sensitive_host_path(directory.path) {
        return Some((directory, what, Severity::High));
    }
    if directory.source == "local" || provisioner(volume).is_some() {
        return None;
    }
    Some((
        directory,
        "a directory of whichever node the pod lands on, outside Pod Security's view".to_string(),
        Severity::Medium,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::{Value, json};

    fn volume(spec: Value) -> Value {
        json!({"apiVersion": "v1", "kind": "PersistentVolume", "metadata": {"name": "pv"}, "spec": spec})
    }

    #[test]
    fn a_host_path_volume_is_graded_by_its_path() {
        let root = volume(json!({"hostPath": {"path": "/"}}));
        let (dir, what, severity) = node_directory_risk(&root).unwrap();
        assert_eq!(
            (dir.source, dir.path, severity),
            ("hostPath", "/", Severity::Critical)
        );
        assert!(what.contains("whole file system"), "{what}");

        let proc = volume(json!({"hostPath": {"path": "/proc"}}));
        assert_eq!(node_directory_risk(&proc).unwrap().2, Severity::High);

        let data = volume(json!({"hostPath": {"path": "/srv/data", "type": "DirectoryOrCreate"}}));
        assert_eq!(node_directory_risk(&data).unwrap().2, Severity::Medium);
    }

    #[test]
    fn storage_as_intended_is_not_a_risk() {
        // A local disk, pinned to its node.
        let local = volume(json!({"local": {"path": "/mnt/disks/ssd1"}}));
        assert_eq!(node_directory(&local).unwrap().source, "local");
        assert!(node_directory_risk(&local).is_none());
        // A provisioner's own directory per claim.
        let mut provisioned =
            volume(json!({"hostPath": {"path": "/opt/local-path-provisioner/pvc-1"}}));
        provisioned["metadata"]["annotations"] = json!({PROVISIONED_BY: "rancher.io/local-path"});
        assert_eq!(provisioner(&provisioned), Some("rancher.io/local-path"));
        assert!(node_directory_risk(&provisioned).is_none());
        // A network or cloud volume.
        let csi = volume(json!({"csi": {"driver": "ebs.csi.aws.com", "volumeHandle": "vol-1"}}));
        assert!(node_directory(&csi).is_none());
    }

    #[test]
    fn a_sensitive_path_is_reported_whoever_chose_it() {
        let mut local_etc = volume(json!({"local": {"path": "/etc"}}));
        assert_eq!(
            node_directory_risk(&local_etc).unwrap().2,
            Severity::Critical
        );
        local_etc["metadata"]["annotations"] = json!({PROVISIONED_BY: "rancher.io/local-path"});
        assert_eq!(
            node_directory_risk(&local_etc).unwrap().2,
            Severity::Critical
        );
        // Spelled another way.
        let sneaky = volume(json!({"hostPath": {"path": "/var/../var/run/docker.sock"}}));
        assert_eq!(node_directory_risk(&sneaky).unwrap().2, Severity::Critical);
    }
}
