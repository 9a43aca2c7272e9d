use palisade_core::tree::Tree;

use super::pod_create::{POD_CREATE, created, spec, trusted, with_images};
use crate::detection::{Cx, Hit};

crate::detection! {
    /// ## What it checks
    /// A pod created with `hostPID: true`, unless every image of the pod is in
    /// `trusted_images.host_pid`.
    ///
    /// ## Why it matters
    /// The pod shares the node's process namespace: it sees every process on the node with its
    /// command line and environment, and with ptrace or a privileged container enters them.
    ///
    /// ## Response
    /// Find who created it and why; enforce Pod Security `baseline` or stricter on the
    /// namespace so the API server refuses it.
    ///
    /// ## Falco equivalent
    /// `Create HostPid Pod`.
    pub static HOST_PID_POD_CREATED {
        id: "AUD006",
        slug: "host-pid-pod-created",
        title: "Pod sharing the node's process namespace created",
        severity: High,
        mitre: ["T1610", "T1611"],
        remediation: "Enforce Pod Security baseline on the namespace; trust the image in [audit] trusted_images.host_pid only if it needs it.",
        triggers: [POD_CREATE],
        check: crate::detection::Check::Request(check),
    }
}

fn check(cx: &Cx) -> Vec<Hit> {
    let Some(spec) = spec(cx) else {
        return Vec::new();
    };
    if spec.get("hostPID").and_then(Tree::as_bool) != Some(true)
        || trusted(spec, &cx.settings.trusted_images.host_pid)
    {
        return Vec::new();
    }
    let hit = Hit::new(created(
        cx,
        "sharing the node's process namespace (hostPID)",
    ));
    vec![with_images(hit, spec)]
}
