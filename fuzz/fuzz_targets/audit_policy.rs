//! Audit policy reading and coverage: any bytes as a policy file are read without panicking,
//! and a policy that reads is checked against every detection, for leaks, and per request.
//! The policy with the suggested rules put first (`audit coverage --suggest`) reads too, and
//! needs nothing more.
//! Run: `cargo install cargo-fuzz && cd fuzz && RUSTC_BOOTSTRAP=1 cargo fuzz run audit_policy`.

#![no_main]

use libfuzzer_sys::fuzz_target;
use palisade_audit::audit_policy::{AuditPolicy, Request};
use palisade_audit::coverage::{coverage, leaks};
use palisade_audit::registry::DETECTIONS;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(policy) = AuditPolicy::parse(text) else {
        return;
    };
    for c in coverage(&policy, DETECTIONS) {
        for gap in &c.gaps {
            let _ = gap.describe();
        }
    }
    let _ = leaks(&policy);
    let suggestion = palisade_audit::suggest::suggest(&policy, DETECTIONS);
    if let Some(patched) = suggestion.put_first(text, &policy) {
        let again = AuditPolicy::parse(&patched)
            .unwrap_or_else(|e| panic!("the suggested policy does not read: {e}\n{patched}"));
        if !suggestion.rules.is_empty() {
            assert!(
                palisade_audit::suggest::suggest(&again, DETECTIONS)
                    .rules
                    .is_empty(),
                "suggested twice\n{patched}"
            );
        }
    }
    let request = Request {
        verb: "create",
        resource: "pods",
        subresource: "exec",
        namespace: "kube-system",
        path: "/healthz",
        ..Request::default()
    };
    let _ = policy.level_for(&request, "alice", &["system:nodes".to_string()], "admin");
});
