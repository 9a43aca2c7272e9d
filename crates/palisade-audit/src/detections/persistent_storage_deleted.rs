use palisade_core::Severity;

use crate::detection::{Cx, Hit, Trigger, is_control_plane, is_person_or_external};

const DELETE: &[&str] = &["delete", "deletecollection"];

/// The API group of CSI volume snapshots (external-snapshotter's CRDs).
const SNAPSHOTS: &str = "snapshot.storage.k8s.io";

crate::detection! {
    /// ## What it checks
    /// Persistent storage deleted: PersistentVolumeClaims, PersistentVolumes, and CSI volume
    /// snapshots (`VolumeSnapshot`, `VolumeSnapshotContent`), deleted one at a time by a
    /// person or an identity from outside the cluster (not `system:`), or as a collection by
    /// anyone other than the control plane (high). Service accounts that delete single
    /// objects (operators, backup tools, pipelines) are left to AUD036's first-seen
    /// behaviour; the namespace controller deleting a namespace's claims is the control plane.
    /// Refused requests are not reported.
    ///
    /// ## Why it matters
    /// A claim's deletion destroys its volume's data whenever the volume's reclaim policy is
    /// `Delete`, the default of dynamically provisioned volumes; deleting the snapshots
    /// first removes the way back. Destroying data and its recovery points is how
    /// ransomware and sabotage end, in a cluster as on a server.
    ///
    /// ## Response
    /// Confirm the deletion with the application's owner; restore from snapshots or backups
    /// that live outside the cluster; protect volumes that matter with reclaim policy
    /// `Retain` and remove `delete` on claims and snapshots from roles that do not need it.
    pub static PERSISTENT_STORAGE_DELETED {
        id: "AUD047",
        slug: "persistent-storage-deleted",
        title: "Persistent volume, claim or snapshot deleted by a person or in bulk",
        severity: Medium,
        mitre: ["T1485", "T1490"],
        remediation: "Confirm the deletion with the owner; keep snapshots and backups outside the cluster; set reclaim policy Retain on volumes that matter.",
        triggers: [
            Trigger::on(DELETE, "persistentvolumeclaims"),
            Trigger::on(DELETE, "persistentvolumes"),
            Trigger::on(DELETE, "volumesnapshots").in_api_group(SNAPSHOTS, true),
            Trigger::on(DELETE, "volumesnapshotcontents").in_api_group(SNAPSHOTS, false),
        ],
        check: crate::detection::Check::Request(check),
    }
}

fn check(cx: &Cx) -> Vec<Hit> {
    let event = cx.event;
    let user = event.user();
    let bulk = event.verb() == "deletecollection";
    if event.refused() || is_control_plane(user) || !(bulk || is_person_or_external(user)) {
        return Vec::new();
    }
    // The CSI snapshot kinds are custom resources (external-snapshotter), outside the
    // built-in table `Cx::kind` reads.
    let kind = match event.resource() {
        "volumesnapshots" => "VolumeSnapshot",
        "volumesnapshotcontents" => "VolumeSnapshotContent",
        _ => cx.kind(),
    };
    if !bulk {
        return vec![Hit::new(format!(
            "{} deleted {kind} {}",
            cx.actor(),
            cx.target()
        ))];
    }
    let selected = cx
        .query_values("labelSelector")
        .first()
        .map(|selector| format!(" matching {selector}"))
        .unwrap_or_default();
    let scope = match event.namespace() {
        Some(namespace) => format!("of namespace {namespace}"),
        None => "of the cluster".to_string(),
    };
    vec![
        Hit::new(format!(
            "{} deleted every {kind} {scope}{selected}",
            cx.actor()
        ))
        .severity(Severity::High),
    ]
}
