//! Fuzzes kubeconfig reading as `--kubeconfig FILE --context C` does it: any text must give the
//! contexts or a clear error, never a panic.
//! Run: `cd fuzz && RUSTC_BOOTSTRAP=1 cargo fuzz run kubeconfig`.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let _ = palisade_cluster::check_kubeconfig(text, None);
    let _ = palisade_cluster::check_kubeconfig(text, Some("prod"));
});
