//! Fuzzes the secret detection engine: any text, as a value under a name, as a command line,
//! and as the fields of an object (annotations, ConfigMap data and binaryData, a Helm release
//! record), must give detections or none, never a panic, and every detection must hold a
//! non-empty secret.
//! Run: `cargo install cargo-fuzz && cd fuzz && RUSTC_BOOTSTRAP=1 cargo fuzz run secrets`.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let (name, value) = text.split_once('\u{1}').unwrap_or(("password", text));
    for hit in palisade_secrets::scan_value(Some(name), value) {
        assert!(!hit.secret.is_empty());
    }
    let words: Vec<&str> = value.split(' ').collect();
    let _ = palisade_secrets::scan_command(&words);
    let object = serde_json::json!({
        "apiVersion": "v1", "kind": "ConfigMap",
        "metadata": {"name": "x", "annotations": {name: value, "kubectl.kubernetes.io/last-applied-configuration": value}},
        "data": {name: value},
        "binaryData": {"b": value},
    });
    let _ = palisade_secrets::scan_object(&object);
    let _ = palisade_secrets::object::decode_helm_release(value);
});
