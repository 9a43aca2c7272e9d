use palisade_core::Severity;
use palisade_core::host_path::sensitive_host_path;
use palisade_k8s::security::{host_path_volumes, volume_mounted_writable};

use super::pod_create::{POD_CREATE, created, spec, trusted, with_images};
use crate::detection::{Cx, Hit};

crate::detection! {
    /// ## What it checks
    /// A pod created with a hostPath volume on a directory of the node that AUD008 does not
    /// count as sensitive (a pod with a sensitive one is AUD008's alone), unless every image
    /// is in `trusted_images.host_path` (by default those trusted with sensitive mounts or
    /// to run privileged). Medium when a container mounts it writable, low when every mount
    /// is read-only or no container mounts it.
    ///
    /// ## Why it matters
    /// A hostPath volume shares a directory of the node with the container, outside any
    /// storage isolation: a writable one lets the container plant files the node or other
    /// pods later read or run, and symbolic links written there have been turned into reads
    /// of any file of the node. Pod Security `baseline` forbids every hostPath for that
    /// reason.
    ///
    /// ## Response
    /// Confirm the workload needs the node's directory (log and metrics agents do); otherwise
    /// use a PersistentVolume or an emptyDir, and enforce Pod Security `baseline`.
    ///
    /// ## Sigma equivalent
    /// `Container With A hostPath Mount Created`.
    pub static HOST_PATH_POD_CREATED {
        id: "AUD042",
        slug: "host-path-pod-created",
        title: "Pod mounting a directory of the node created",
        severity: Medium,
        mitre: ["T1611"],
        remediation: "Use a PersistentVolume or emptyDir instead of hostPath; trust the image in [audit] trusted_images.host_path only if it needs the node's directory.",
        triggers: [POD_CREATE],
        check: crate::detection::Check::Request(check),
    }
}

fn check(cx: &Cx) -> Vec<Hit> {
    let Some(spec) = spec(cx) else {
        return Vec::new();
    };
    let mut paths = Vec::new();
    // None: not mounted; Some(true): mounted writable by some container.
    let mut mounted: Option<bool> = None;
    for (name, path) in host_path_volumes(spec) {
        if sensitive_host_path(path).is_some() {
            // AUD008's, with its own trusted images.
            return Vec::new();
        }
        if let Some(writable) = name.and_then(|name| volume_mounted_writable(spec, name)) {
            mounted = Some(mounted.unwrap_or(false) || writable);
        }
        paths.push(path);
    }
    if paths.is_empty() || trusted(spec, &cx.settings.trusted_images.host_path) {
        return Vec::new();
    }
    let writable = mounted == Some(true);
    let how = match mounted {
        Some(true) => "writable",
        Some(false) => "read-only",
        None => "not mounted by any container",
    };
    let hit = Hit::new(created(
        cx,
        &format!("mounting {} from the node ({how})", paths.join(", ")),
    ))
    .with("host_path", paths.join(","))
    .severity(if writable {
        Severity::Medium
    } else {
        Severity::Low
    });
    vec![with_images(hit, spec)]
}
