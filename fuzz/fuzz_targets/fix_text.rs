//! Fuzzes the manifest editor: any text is either left alone, refused with a reason, or
//! edited into a text that reads back as its objects hardened (fix_text checks that itself)
//! and needs no second fix; never a panic. The same text read as a kustomization takes a patch
//! entry or is refused, and each of its objects gives a patch (or a reason) without a panic.
//! Run: `cargo install cargo-fuzz && cd fuzz && RUSTC_BOOTSTRAP=1 cargo fuzz run fix_text`.
#![no_main]

use libfuzzer_sys::fuzz_target;
use palisade_fix::hardening::{Hardening, RunAsNonRoot, every, for_object};
use palisade_fix::kustomize;
use palisade_inventory::{Limits, Object};

fn hardened(object: &Object) -> Vec<palisade_fix::Addition> {
    let settings = Hardening {
        run_as_non_root: RunAsNonRoot::Always,
        ..Hardening::default()
    };
    for_object(object, &settings, &every)
}

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let limits = Limits {
        max_nodes: 100_000,
        ..Limits::default()
    };
    let entry = serde_json::json!({"path": "palisade-hardening.yaml"});
    if let Ok((fixed, _)) = kustomize::add_patch("kustomization.yaml", text, &limits, &[entry]) {
        let read = palisade_inventory::yaml::parse_stream(&fixed, &limits);
        assert_eq!(read.documents.len(), 1, "{fixed:?}");
    }
    let loaded = palisade_inventory::load::load_text("fuzz.yaml", text, &limits);
    for object in &loaded.inventory.objects {
        let additions = hardened(object);
        if let Ok(patch) = kustomize::patch_document(&object.value, &object.value, &additions) {
            let _ = kustomize::patch_file(&[patch], &["POD002"]);
        }
        let _ = kustomize::json_patch(&object.value, &additions);
    }
    if let Ok(Some(fix)) = palisade_fix::fix_text("fuzz.yaml", text, &limits, &hardened) {
        assert_eq!(
            palisade_fix::fix_text("fuzz.yaml", &fix.fixed, &limits, &hardened),
            Ok(None),
            "a second fix changed {:?}",
            fix.fixed
        );
    }
});
