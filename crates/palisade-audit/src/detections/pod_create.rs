//! What the pod-creation detections share: the created pod's spec, its containers, and the
//! trusted-image exception.

use crate::body::Body;
use crate::detection::{Cx, Hit, Trigger, images};
use crate::settings::Settings;

/// Pod creation (not a subresource).
pub const POD_CREATE: Trigger = Trigger::on(&["create"], "pods");

/// The spec of the pod being created, when the audit level recorded the request body.
pub fn spec<'c>(cx: &'c Cx) -> Option<&'c Body<'c>> {
    crate::detection::pod_spec(cx)
}

/// Whether every image of the pod is in `trusted`.
pub fn trusted(spec: &Body, trusted: &[String]) -> bool {
    Settings::all_in(trusted, images(spec))
}

/// "alice created pod app/web" or "alice tried to create pod app/web (403)".
pub fn created(cx: &Cx, what: &str) -> String {
    let verb = match cx.event.code() {
        Some(code) if !(200..300).contains(&code) => format!("tried to create ({code})"),
        _ => "created".to_string(),
    };
    format!("{} {verb} pod {} {what}", cx.actor(), cx.target())
}

/// The hit with the pod's images as evidence.
pub fn with_images(hit: Hit, spec: &Body) -> Hit {
    let list: Vec<&str> = images(spec).collect();
    hit.with("images", list.join(","))
}
