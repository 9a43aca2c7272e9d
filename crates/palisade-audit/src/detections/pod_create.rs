//! What the pod-creation detections share: the created pod's spec, its containers, and the
//! trusted-image exception.

use crate::body::Body;
use crate::detection::{Cx, Hit, Level, Trigger, images};
use crate::settings::Settings;

/// Pod creation (not a subresource), judged from the pod sent.
pub const POD_CREATE: Trigger = Trigger::on(&["create"], "pods").reading(Level::Request);

/// The spec of the pod being created, when the audit level recorded the request body.
pub fn spec<'c>(cx: &'c Cx) -> Option<&'c Body<'c>> {
    crate::detection::pod_spec(cx)
}

/// Whether every image of the pod is in `trusted`.
pub fn trusted(spec: &Body, trusted: &[String]) -> bool {
    Settings::all_in(trusted, images(spec))
}

/// "alice created pod app/web" or "alice tried to create (403) pod app/web".
pub fn created(cx: &Cx, what: &str) -> String {
    format!(
        "{} {} pod {} {what}",
        cx.actor(),
        crate::detection::created_or_tried(cx),
        cx.target()
    )
}

/// The hit with the pod's images as evidence.
pub fn with_images(hit: Hit, spec: &Body) -> Hit {
    let list: Vec<&str> = images(spec).collect();
    hit.with("images", list.join(","))
}
