use palisade_core::Severity;

use super::pod_create::{POD_CREATE, created, spec};
use super::threat_intel::with_indicator;
use crate::detection::{Cx, Hit, images};
use crate::settings::Settings;

crate::detection! {
    /// ## What it checks
    /// When threat-intelligence files are given (`[audit] threat_intel`, `--threat-intel`): a
    /// pod created with an image (any container: init, regular or ephemeral) whose repository
    /// an indicator names (`image: docker.io/xmrig/xmrig`, any tag or digest), or whose
    /// registry is a domain an indicator names (or under one), or an address an indicator's
    /// range holds, while the indicator is valid at the request's time. A creation the API
    /// server refused is medium.
    ///
    /// ## Why it matters
    /// Miners, scanners and implants are published as images, and feeds list them and the
    /// registries that serve them. A pod running one is an intruder's tool already scheduled
    /// onto a node of the cluster, with whatever its service account and mounts give it.
    ///
    /// ## Response
    /// Delete the pod and what created it (find the owner in the alert's target), find how
    /// the creator's credentials were used, and block the registry at admission (an image
    /// policy, or `palisade serve admission` with IMG rules).
    pub static THREAT_INTEL_IMAGE {
        id: "AUD051",
        slug: "threat-intel-image",
        title: "Pod with an image threat intelligence names created",
        severity: High,
        mitre: ["T1610", "T1204.003"],
        remediation: "Delete the pod and what created it, and block the image's registry at admission.",
        triggers: [POD_CREATE],
        check: crate::detection::Check::Request(check),
        active: has_image_indicators,
    }
}

/// Runs only when threat intelligence was read (of any kind: a registry may be named by
/// address, and a receiver reads its feeds again when they change).
fn has_image_indicators(settings: &Settings) -> bool {
    !settings.intel.is_empty()
}

fn check(cx: &Cx) -> Vec<Hit> {
    let Some(spec) = spec(cx) else {
        return Vec::new();
    };
    let at = cx.event.time_micros();
    let intel = &cx.settings.intel;
    let found: Vec<(&str, palisade_intel::Match)> = images(spec)
        .filter_map(|image| Some((image, intel.image(image, at)?)))
        .collect();
    let Some((image, first)) = found.first() else {
        return Vec::new();
    };
    let mut hit = Hit::new(created(
        cx,
        &format!(
            "with image {image}, named by threat intelligence: {}",
            first.describe()
        ),
    ));
    if cx.event.refused() {
        hit.severity = Some(Severity::Medium);
    }
    let named: Vec<&str> = found.iter().map(|(image, _)| *image).collect();
    vec![with_indicator(hit, first, image, "container.image.name").with("images", named.join(","))]
}
