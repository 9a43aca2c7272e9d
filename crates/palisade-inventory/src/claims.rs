//! Which PersistentVolume a PersistentVolumeClaim is bound to, read once from an inventory:
//! the claim's `spec.volumeName`, else the volume whose `spec.claimRef` names the claim (a
//! live cluster writes both; manifests of static provisioning write either one).

use std::collections::HashMap;

use palisade_core::tree::Tree as _;
use palisade_k8s::storage::{ClaimedDirectory, node_directory};
use serde_json::Value;

use crate::object::Object;
use crate::{Inventory, PodSpec};

/// The claims of an inventory and the volumes they are bound to (read through
/// [`ClaimDirectories`]).
#[derive(Debug, Default)]
struct Claims<'a> {
    /// Volumes by name.
    volumes: HashMap<&'a str, &'a Object>,
    /// The volume each claim names, by `(namespace, claim)`; a claim written without a
    /// namespace is in its scope's (`palisade_k8s::names::unset_namespace`).
    named_by_claim: HashMap<(String, &'a str), &'a str>,
    /// The volume whose claim reference names each claim, by `(namespace, claim)`.
    reserved_for: HashMap<(&'a str, &'a str), &'a str>,
}

impl<'a> Claims<'a> {
    fn of(inventory: &'a Inventory) -> Claims<'a> {
        let mut claims = Claims::default();
        for volume in inventory.of_kind("", "PersistentVolume") {
            let Some(name) = volume.id.name.as_deref() else {
                continue;
            };
            claims.volumes.insert(name, volume);
            let reference = volume.value.at("/spec/claimRef");
            let field = |key| reference.and_then(|r| r.get(key)).and_then(Value::as_str);
            if let (Some(namespace), Some(claim)) = (field("namespace"), field("name")) {
                claims.reserved_for.insert((namespace, claim), name);
            }
        }
        for claim in inventory.of_kind("", "PersistentVolumeClaim") {
            let Some(name) = claim.id.name.as_deref() else {
                continue;
            };
            let namespace =
                claim.id.namespace.clone().unwrap_or_else(|| {
                    palisade_k8s::names::unset_namespace(inventory.scope_of(claim))
                });
            if let Some(volume) = claim.value.at("/spec/volumeName").and_then(Value::as_str) {
                claims.named_by_claim.insert((namespace, name), volume);
            }
        }
        claims
    }

    /// The volume the claim `namespace/claim` is bound to, when the inventory holds it (the
    /// namespace as `palisade_k8s::names` keys one: a scope's for objects written without).
    fn volume(&self, namespace: &str, claim: &str) -> Option<&'a Object> {
        let name = self
            .named_by_claim
            .get(&(namespace.to_string(), claim))
            .or_else(|| self.reserved_for.get(&(namespace, claim)))?;
        self.volumes.get(name).copied()
    }

    /// The directory of a node the claim `namespace/claim` keeps its data in, when its volume
    /// is a `hostPath` or `local` one.
    fn directory(&self, namespace: &str, claim: &str) -> Option<ClaimedDirectory> {
        let volume = self.volume(namespace, claim)?;
        let directory = node_directory(&volume.value)?;
        Some(ClaimedDirectory {
            volume: volume.id.name.clone().unwrap_or_default(),
            source: directory.source,
            path: directory.path.to_string(),
        })
    }
}

/// The directory of a node each claim of an inventory keeps its data in, when its volume is a
/// `hostPath` or `local` one, by `(namespace, claim)` (owned: a model built once per
/// evaluation and shared by the rules that read it).
#[derive(Debug, Default)]
pub struct ClaimDirectories(HashMap<(String, String), ClaimedDirectory>);

impl ClaimDirectories {
    pub fn build(inventory: &Inventory) -> ClaimDirectories {
        let claims = Claims::of(inventory);
        let keys = claims
            .named_by_claim
            .keys()
            .map(|(namespace, claim)| (namespace.as_str(), *claim))
            .chain(claims.reserved_for.keys().copied());
        let mut directories = HashMap::new();
        for (namespace, claim) in keys {
            if let Some(directory) = claims.directory(namespace, claim) {
                directories.insert((namespace.to_string(), claim.to_string()), directory);
            }
        }
        ClaimDirectories(directories)
    }

    /// The directory of the claim `namespace/claim` (the namespace as [`Claims::volume`] takes
    /// it).
    pub fn get(&self, namespace: &str, claim: &str) -> Option<&ClaimedDirectory> {
        self.0.get(&(namespace.to_string(), claim.to_string()))
    }
}

/// A claim a pod spec mounts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MountedClaim<'a> {
    /// The claim's name (in the pod's namespace).
    pub claim: &'a str,
    /// Whether a container may write it: the volume is not `readOnly`, and some container
    /// mounts it without `readOnly`.
    pub writable: bool,
}

/// The claims a pod spec mounts (`volumes[].persistentVolumeClaim.claimName`), each once.
pub fn mounted_claims<'a>(pod: &PodSpec<'a>) -> Vec<MountedClaim<'a>> {
    let mut out: Vec<MountedClaim<'a>> = Vec::new();
    for volume in palisade_k8s::storage::claim_volumes(pod.value) {
        let (Some(name), claim) = (volume.name, volume.claim) else {
            continue;
        };
        let written =
            palisade_k8s::security::volume_mounted_writable(pod.value, name) == Some(true);
        let writable = !volume.read_only && written;
        match out.iter_mut().find(|m| m.claim == claim) {
            Some(known) => known.writable |= writable,
            None => out.push(MountedClaim { claim, writable }),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Limits, load_text};

    const CLUSTER: &str = "
apiVersion: v1
kind: PersistentVolume
metadata: {name: node-root}
spec: {hostPath: {path: /}, claimRef: {namespace: ci, name: scratch}}
---
apiVersion: v1
kind: PersistentVolume
metadata: {name: ebs}
spec: {csi: {driver: ebs.csi.aws.com, volumeHandle: vol-1}}
---
apiVersion: v1
kind: PersistentVolumeClaim
metadata: {name: data, namespace: shop}
spec: {volumeName: ebs}
---
apiVersion: v1
kind: PersistentVolumeClaim
metadata: {name: scratch, namespace: ci}
spec: {}
";

    #[test]
    fn a_claim_is_written_when_a_container_mounts_it_writable() {
        let pod = "apiVersion: v1\nkind: Pod\nmetadata: {name: p, namespace: shop}\nspec:\n  volumes:\n  - {name: up, persistentVolumeClaim: {claimName: uploads}}\n  - {name: ro, persistentVolumeClaim: {claimName: models, readOnly: true}}\n  - {name: seen, persistentVolumeClaim: {claimName: reports}}\n  - {name: tmp, emptyDir: {}}\n  containers:\n  - {name: web, image: x, volumeMounts: [{name: up, mountPath: /up}, {name: ro, mountPath: /m}, {name: seen, mountPath: /r, readOnly: true}]}\n";
        let loaded = load_text("pod.yaml", pod, &Limits::default());
        let spec = crate::pod_spec(&loaded.inventory.objects[0]).unwrap();
        let mounted = mounted_claims(&spec);
        let writable: Vec<(&str, bool)> = mounted.iter().map(|m| (m.claim, m.writable)).collect();
        assert_eq!(
            writable,
            [("uploads", true), ("models", false), ("reports", false)]
        );
    }

    #[test]
    fn a_claim_reaches_its_volume_from_either_side() {
        let loaded = load_text("cluster.yaml", CLUSTER, &Limits::default());
        let claims = Claims::of(&loaded.inventory);
        // By the claim's volumeName.
        assert_eq!(
            claims
                .volume("shop", "data")
                .and_then(|v| v.id.name.as_deref()),
            Some("ebs")
        );
        assert_eq!(claims.directory("shop", "data"), None);
        // By the volume's claimRef.
        assert_eq!(
            claims.directory("ci", "scratch"),
            Some(ClaimedDirectory {
                volume: "node-root".into(),
                source: "hostPath",
                path: "/".into(),
            })
        );
        // Another namespace's claim of the same name is another claim.
        assert_eq!(claims.volume("shop", "scratch"), None);
        assert_eq!(claims.volume("ci", "missing"), None);
    }
}
