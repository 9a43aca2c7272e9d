use palisade_core::Severity;
use palisade_k8s::storage::node_directory_risk;

use palisade_core::tree::Tree;

use crate::body::Body;
use crate::detection::{Cx, Hit, Level, Trigger, created_or_tried};

crate::detection! {
    /// ## What it checks
    /// A PersistentVolume created that keeps its data in a directory of a node: a `hostPath`
    /// volume, or a `local` volume at a sensitive path, judged as the manifest rule STO001
    /// judges it. High when the path hands over the node (its root, `/etc`, a container
    /// runtime's socket, the kubelet's state), medium otherwise. A `hostPath` volume that a
    /// provisioner created in its own directory (`pv.kubernetes.io/provisioned-by`: the
    /// local-path provisioner of kind and k3s creates one per claim) and a `local` volume on
    /// a data disk are storage as intended and are not reported. A volume's source cannot
    /// change after creation, so creation is the one request to watch. Refused attempts are
    /// reported as attempts.
    ///
    /// ## Why it matters
    /// Pod Security admission judges a pod's own volumes only: a pod that mounts a claim
    /// bound to this volume passes even the `restricted` profile and still mounts the node's
    /// directory. Creating a `hostPath` volume at `/` and claiming it is a known way around
    /// Pod Security to the node, for anyone allowed to create PersistentVolumes (RBAC011).
    ///
    /// ## Response
    /// Delete the volume and any claim bound to it; find who holds `create` on
    /// PersistentVolumes and why; provision volumes through a StorageClass.
    pub static HOST_PATH_VOLUME_CREATED {
        id: "AUD045",
        slug: "host-path-volume-created",
        title: "PersistentVolume on a directory of the node created",
        severity: Medium,
        mitre: ["T1611"],
        remediation: "Delete the volume and its claim; provision volumes through a StorageClass and restrict who may create PersistentVolumes.",
        triggers: [Trigger::on(&["create"], "persistentvolumes").reading(Level::Request)],
        check: crate::detection::Check::Request(check),
    }
}

fn check(cx: &Cx) -> Vec<Hit> {
    // The volume as stored (after admission's changes), else as sent.
    let Some(volume) = cx
        .response()
        .filter(|r| r.get("spec").is_some())
        .or(cx.request())
    else {
        return Vec::new();
    };
    let Some((directory, what, severity)) = node_directory_risk(volume) else {
        return Vec::new();
    };
    vec![
        Hit::new(format!(
            "{} {} PersistentVolume {} on the node's {} {} ({what}): any pod whose claim binds it mounts it, whatever its Pod Security level",
            cx.actor(),
            created_or_tried(cx),
            cx.target(),
            directory.source,
            directory.path
        ))
        .with("source", directory.source)
        .with("host_path", directory.path)
        .with_some("claim", reserved_for(volume))
        .severity(if severity == Severity::Critical {
            Severity::High
        } else {
            Severity::Medium
        }),
    ]
}

/// The claim a volume is reserved for (`spec.claimRef`), as `namespace/name`.
fn reserved_for(volume: &Body) -> Option<String> {
    let reference = volume.at("/spec/claimRef")?;
    let field = |key| reference.get(key).and_then(Tree::as_str);
    Some(format!("{}/{}", field("namespace")?, field("name")?))
}
