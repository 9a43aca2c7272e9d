//! Palisade's secret detection engine: where credentials hide in Kubernetes objects, how they
//! are encoded there, and the detectors that recognise them.
//!
//! The boundary: this crate finds secrets in JSON values and returns them in memory, with the
//! field and the detector; it never formats a secret for output. The rules crate turns
//! detections into findings through [`palisade_core::redact`], whose redactor also filters
//! every report, so a detection cannot reach a writer in the clear. Keeping detection apart
//! from the rules lets the audit-event and drift paths use the same detectors without pulling
//! in the rule engine. (The rejected alternative, one credential check per rule, had two
//! lists of names that disagreed.)
//!
//! Detectors are of two kinds: structural ones ([`detectors::structured`]) that recognise a
//! format whatever its name (private keys, provider tokens with their prefixes and lengths,
//! JWTs with a decodable header, URLs and connection strings with passwords, authorization
//! headers), and named ones ([`detectors::by_name`]) that need a name saying "credential"
//! and a value that is neither a placeholder, a reference nor a setting.

pub mod detector;
pub mod detectors;
pub mod names;
pub mod object;
pub mod pairs;
pub mod text;
pub mod values;

pub use detector::{Detector, Family};
pub use object::{Detection, LAST_APPLIED, Place, scan_object};
pub use text::{Hit, scan_command, scan_value};

/// How a finding shows a secret: the detector's public prefix (at most 4 characters, and
/// only where the format has one: `AKIA`, `ghp_`) and a stable tag, never the value or its
/// length.
pub fn describe(detector: Detector, secret: &str) -> String {
    let prefix_len = detector.public_prefix_len().min(4);
    let tag = palisade_core::redact::tag(secret);
    match secret.get(..prefix_len).filter(|p| !p.is_empty()) {
        Some(prefix) => format!("starts \"{prefix}\", value not shown, {tag}"),
        None => format!("value not shown, {tag}"),
    }
}
