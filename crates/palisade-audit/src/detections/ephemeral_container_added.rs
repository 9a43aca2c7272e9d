use palisade_core::tree::Tree;

use crate::detection::{Cx, Hit, Trigger};

crate::detection! {
    /// ## What it checks
    /// An ephemeral container added to a running pod (`pods/ephemeralcontainers`, which
    /// `kubectl debug` uses).
    ///
    /// ## Why it matters
    /// An ephemeral container runs any image inside an existing pod, sharing its network and
    /// (with `targetContainerName`) its processes, without a restart and without the pod's
    /// owner changing anything: a quiet way to get a shell next to an application.
    ///
    /// ## Response
    /// Confirm the debugging session and the image; restrict `update` and `patch` on
    /// `pods/ephemeralcontainers`.
    ///
    /// ## Falco equivalent
    /// `EphemeralContainers Created`.
    pub static EPHEMERAL_CONTAINER_ADDED {
        id: "AUD003",
        slug: "ephemeral-container-added",
        title: "Ephemeral container added to a running pod",
        severity: Medium,
        mitre: ["T1609", "T1610"],
        remediation: "Confirm the debugging session; limit update and patch on pods/ephemeralcontainers.",
        triggers: [Trigger::sub(&["create", "update", "patch"], "pods", "ephemeralcontainers")],
        check: crate::detection::Check::Request(check),
    }
}

fn check(cx: &Cx) -> Vec<Hit> {
    if !cx.event.succeeded() && cx.event.code().is_some() {
        return Vec::new();
    }
    let mut hit = Hit::new(format!(
        "{} added an ephemeral container to pod {}",
        cx.actor(),
        cx.target()
    ));
    let added = cx
        .request()
        .and_then(|r| {
            r.at("/spec/ephemeralContainers")
                .or_else(|| r.get("ephemeralContainers"))
        })
        .and_then(Tree::items)
        .and_then(|list| list.last());
    if let Some(container) = added {
        if let Some(name) = container.get("name").and_then(Tree::as_str) {
            hit = hit.with("container", name);
        }
        if let Some(image) = container.get("image").and_then(Tree::as_str) {
            hit = hit.with("image", image);
        }
    }
    vec![hit]
}
