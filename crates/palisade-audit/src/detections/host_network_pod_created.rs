use palisade_core::tree::Tree;

use super::pod_create::{POD_CREATE, created, spec, trusted, with_images};
use crate::detection::{Cx, Hit};

crate::detection! {
    /// ## What it checks
    /// A pod created with `hostNetwork: true`, unless every image of the pod is in
    /// `trusted_images.host_network`.
    ///
    /// ## Why it matters
    /// The pod shares the node's network namespace: it sees and can bind the node's interfaces,
    /// reaches services that listen on the node's loopback (the kubelet's read-only port, cloud
    /// metadata agents) and bypasses NetworkPolicies, which do not apply to host-network pods.
    ///
    /// ## Response
    /// Find who created it and why; enforce Pod Security `baseline` or stricter on the
    /// namespace so the API server refuses it.
    ///
    /// ## Falco equivalent
    /// `Create HostNetwork Pod`.
    pub static HOST_NETWORK_POD_CREATED {
        id: "AUD005",
        slug: "host-network-pod-created",
        title: "Pod sharing the node's network namespace created",
        severity: Medium,
        mitre: ["T1610", "T1611"],
        remediation: "Enforce Pod Security baseline on the namespace; trust the image in [audit] trusted_images.host_network only if it needs it.",
        triggers: [POD_CREATE],
        check: crate::detection::Check::Request(check),
    }
}

fn check(cx: &Cx) -> Vec<Hit> {
    let Some(spec) = spec(cx) else {
        return Vec::new();
    };
    if spec.get("hostNetwork").and_then(Tree::as_bool) != Some(true)
        || trusted(spec, &cx.settings.trusted_images.host_network)
    {
        return Vec::new();
    }
    let hit = Hit::new(created(
        cx,
        "sharing the node's network namespace (hostNetwork)",
    ));
    vec![with_images(hit, spec)]
}
