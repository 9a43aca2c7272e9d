//! Threat-intelligence documents (STIX bundles, TAXII envelopes, lists) and STIX patterns:
//! read or refused, never a panic; what is read is indexed and looked up by every kind.
//! Run: `cargo install cargo-fuzz && cd fuzz && RUSTC_BOOTSTRAP=1 cargo fuzz run threat_intel`.
#![no_main]

use libfuzzer_sys::fuzz_target;
use palisade_intel::{Indicators, Skipped, parse, pattern};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let _ = pattern::observables(text);
    let mut read = Vec::new();
    let mut skipped = Skipped::default();
    if parse("fuzz", text, &mut read, &mut skipped).is_err() {
        return;
    }
    let intel = Indicators::build(read);
    for at in [None, Some(0), Some(i64::MAX)] {
        let _ = intel.address("198.51.100.7", at);
        let _ = intel.address("2001:db8::1", at);
        let _ = intel.domain("a.b.evil.example:5000", at);
        let _ = intel.image("evil.example/x/y:1", at);
        let _ = intel.user_agent("kube-hunter", at);
        let _ = intel.user("mallory", at);
    }
});
