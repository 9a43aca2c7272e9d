use palisade_core::tree::Tree;

use super::pod_create::{POD_CREATE, created, spec, trusted, with_images};
use crate::detection::{Cx, Hit};

crate::detection! {
    /// ## What it checks
    /// A pod created with `hostIPC: true`, unless every image of the pod is in
    /// `trusted_images.host_ipc`.
    ///
    /// ## Why it matters
    /// The pod shares the node's IPC namespace: shared memory and message queues of the node's
    /// processes and of other host-IPC pods.
    ///
    /// ## Response
    /// Find who created it and why; enforce Pod Security `baseline` or stricter on the
    /// namespace so the API server refuses it.
    ///
    /// ## Falco equivalent
    /// `Create HostIPC Pod`.
    pub static HOST_IPC_POD_CREATED {
        id: "AUD007",
        slug: "host-ipc-pod-created",
        title: "Pod sharing the node's IPC namespace created",
        severity: Medium,
        mitre: ["T1610", "T1611"],
        remediation: "Enforce Pod Security baseline on the namespace; trust the image in [audit] trusted_images.host_ipc only if it needs it.",
        triggers: [POD_CREATE],
        check: crate::detection::Check::Request(check),
    }
}

fn check(cx: &Cx) -> Vec<Hit> {
    let Some(spec) = spec(cx) else {
        return Vec::new();
    };
    if spec.get("hostIPC").and_then(Tree::as_bool) != Some(true)
        || trusted(spec, &cx.settings.trusted_images.host_ipc)
    {
        return Vec::new();
    }
    let hit = Hit::new(created(cx, "sharing the node's IPC namespace (hostIPC)"));
    vec![with_images(hit, spec)]
}
