//! Fuzzes the control-plane checks: any text read as manifests gives each container's flags as
//! every component would read them, and the CP and NODE rules judge it, never a panic; a
//! flag's value is its last occurrence.
//! Run: `cargo install cargo-fuzz && cd fuzz && RUSTC_BOOTSTRAP=1 cargo fuzz run control_plane`.
#![no_main]

use libfuzzer_sys::fuzz_target;
use palisade_core::JsonPointer;
use palisade_inventory::{Limits, load_text};
use palisade_k8s::control_plane::{Component, Flags};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let limits = Limits {
        max_nodes: 100_000,
        ..Limits::default()
    };
    let loaded = load_text("fuzz.yaml", text, &limits);
    for object in &loaded.inventory.objects {
        let containers = object
            .value
            .get("spec")
            .and_then(|s| s.get("containers"))
            .and_then(|c| c.as_array());
        for (i, container) in containers.into_iter().flatten().enumerate() {
            let _ = Component::of_container(container);
            let at = JsonPointer::parse(&format!("/spec/containers/{i}")).unwrap_or_default();
            for component in Component::ALL {
                let flags = Flags::of(component, container, &at);
                for name in ["profiling", "authorization-mode", "cert-file", "config"] {
                    let _ = (flags.items(name), flags.pointer(name), flags.config_file());
                    if let Some(flag) = flags.get(name) {
                        assert_eq!(flags.value(name), Some(flag.value.unwrap_or("true")));
                    }
                }
            }
        }
    }
    let options = palisade_scan::ScanOptions {
        only_rules: [
            "CP001", "CP002", "CP003", "CP005", "CP006", "CP010", "CP012", "CP013", "NODE001",
            "NODE002",
        ]
        .map(String::from)
        .to_vec(),
        ..palisade_scan::ScanOptions::default()
    };
    let _ = palisade_scan::scan_inventory(&loaded.inventory, &options);
});
