//! Fuzzes the reading of cluster dumps: the snapshot header and the streaming JSON reader that
//! large snapshots and `kubectl get -o json` Lists go through. Any bytes must give objects and
//! diagnostics or a typed error, never a panic.
//! Run: `cd fuzz && RUSTC_BOOTSTRAP=1 cargo fuzz run snapshot_json`.
#![no_main]

use libfuzzer_sys::fuzz_target;
use palisade_inventory::{Limits, load_json_dump};

fuzz_target!(|data: &[u8]| {
    let _ = palisade_snapshot::format::read_header_from(data, "fuzz.json");
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let limits = Limits {
        max_nodes: 100_000,
        drop_managed_fields: data.first().is_some_and(|b| b % 2 == 0),
        envelopes: palisade_snapshot::source::ENVELOPES,
        ..Limits::default()
    };
    let loaded = load_json_dump("fuzz.json", text, &limits);
    for object in &loaded.inventory.objects {
        let _ =
            object.locate(&palisade_core::JsonPointer::parse("/metadata/name").unwrap_or_default());
    }
});
