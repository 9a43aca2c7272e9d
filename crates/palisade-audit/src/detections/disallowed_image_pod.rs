use super::pod_create::{POD_CREATE, created, spec, trusted, with_images};
use crate::detection::{Cx, Hit};
use crate::settings::Settings;

crate::detection! {
    /// ## What it checks
    /// When `allowed_images` is set: a pod created with an image whose repository is not in
    /// it (any container: init, regular or ephemeral).
    ///
    /// ## Why it matters
    /// Clusters that run only their own images make any other image an intruder's tool: a
    /// miner, a shell, a scanner pulled from a public registry.
    ///
    /// ## Response
    /// Find who created the pod; enforce the list at admission (an image policy) as well.
    ///
    /// ## Falco equivalent
    /// `Create Disallowed Pod`.
    pub static DISALLOWED_IMAGE_POD {
        id: "AUD032",
        slug: "disallowed-image-pod",
        title: "Pod with an image outside the allowed list created",
        severity: Medium,
        mitre: ["T1610", "T1204.003"],
        remediation: "Remove the pod, or add the image's repository to [audit] allowed_images.",
        triggers: [POD_CREATE],
        check: crate::detection::Check::Request(check),
        active: allow_listing,
    }
}

/// Runs only when its setting is given.
fn allow_listing(settings: &Settings) -> bool {
    !settings.allowed_images.is_empty()
}

fn check(cx: &Cx) -> Vec<Hit> {
    if cx.settings.allowed_images.is_empty() {
        return Vec::new();
    }
    let Some(spec) = spec(cx) else {
        return Vec::new();
    };
    if trusted(spec, &cx.settings.allowed_images) {
        return Vec::new();
    }
    vec![with_images(
        Hit::new(created(cx, "with an image not in allowed_images")),
        spec,
    )]
}
