use palisade_core::host_path::sensitive_host_path;
use palisade_k8s::security::host_path_volumes;

use super::pod_create::{POD_CREATE, created, spec, trusted, with_images};
use crate::detection::{Cx, Hit};

crate::detection! {
    /// ## What it checks
    /// A pod created with a hostPath volume on a sensitive directory of the node (`/`,
    /// `/etc`, `/root`, `/proc`, the container runtime's socket, the kubelet's state,
    /// `/etc/kubernetes`, ...: the same list the manifest rules use), unless every image is in
    /// `trusted_images.sensitive_mount`.
    ///
    /// ## Why it matters
    /// These paths hold the node's credentials, every pod's secrets and tokens, or a socket
    /// that starts privileged containers on request: mounting one is taking the node.
    ///
    /// ## Response
    /// Find who created the pod and what it mounts; enforce Pod Security `baseline` (which
    /// forbids hostPath) where workloads do not need the node.
    ///
    /// ## Falco equivalent
    /// `Create Sensitive Mount Pod`.
    ///
    /// ## Sigma equivalent
    /// `Container With A hostPath Mount Created`.
    pub static SENSITIVE_MOUNT_POD_CREATED {
        id: "AUD008",
        slug: "sensitive-mount-pod-created",
        title: "Pod mounting a sensitive directory of the node created",
        severity: High,
        mitre: ["T1611"],
        remediation: "Remove the hostPath volume or use a narrower path; trust the image in [audit] trusted_images.sensitive_mount only if it needs it.",
        triggers: [POD_CREATE],
        check: crate::detection::Check::Request(check),
    }
}

fn check(cx: &Cx) -> Vec<Hit> {
    let Some(spec) = spec(cx) else {
        return Vec::new();
    };
    let Some((path, what)) = host_path_volumes(spec)
        .find_map(|(_, path)| sensitive_host_path(path).map(|what| (path, what)))
    else {
        return Vec::new();
    };
    if trusted(spec, &cx.settings.trusted_images.sensitive_mount) {
        return Vec::new();
    }
    let hit = Hit::new(created(
        cx,
        &format!("mounting {path} from the node ({what})"),
    ))
    .with("host_path", path);
    vec![with_images(hit, spec)]
}
