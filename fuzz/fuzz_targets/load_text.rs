//! Fuzzes the manifest loader: any bytes must give objects and diagnostics, never a panic,
//! and every object's positions must resolve.
//! Run: `cargo install cargo-fuzz && cd fuzz && RUSTC_BOOTSTRAP=1 cargo fuzz run load_text`.
#![no_main]

use libfuzzer_sys::fuzz_target;
use palisade_core::JsonPointer;
use palisade_inventory::{Limits, load_text};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let limits = Limits {
        max_nodes: 100_000,
        ..Limits::default()
    };
    let loaded = load_text("fuzz.yaml", text, &limits);
    let pointer = JsonPointer::parse("/spec/template/spec/containers/0").unwrap_or_default();
    for object in &loaded.inventory.objects {
        let _ = object.locate(&pointer);
    }
});
