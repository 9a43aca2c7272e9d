//! Helpers shared by this crate's integration tests.

use std::path::PathBuf;

/// Checks that the generated page `docs/<name>` equals `doc`; with `UPDATE_DOCS=1` it writes
/// the page first. `test` names the test target that regenerates it.
pub fn check_generated_doc(name: &str, doc: &str, test: &str) {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../docs")
        .join(name);
    if std::env::var_os("UPDATE_DOCS").is_some() {
        std::fs::write(&path, doc).unwrap();
    }
    let current = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        current == doc,
        "docs/{name} is stale: run UPDATE_DOCS=1 cargo test -p palisade-rules --test {test}"
    );
}
