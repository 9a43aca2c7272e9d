//! Audit event decoding and analysis: any bytes as a log (lines, EventLists, cloud wrappers,
//! pretty-printed documents) are read without panicking, and every event that decodes runs
//! through every detection, including those that parse request objects, and every alert
//! renders in every format.
//! Run: `cargo install cargo-fuzz && cd fuzz && RUSTC_BOOTSTRAP=1 cargo fuzz run audit_event`.

#![no_main]

use libfuzzer_sys::fuzz_target;
use palisade_audit::input::{ReadStats, read_stream};
use palisade_audit::{Baseline, Engine, Event, Origin, Selection, Settings};

fuzz_target!(|data: &[u8]| {
    let settings = Settings {
        activity: true,
        allowed_users: vec!["alice".into()],
        allowed_namespaces: vec!["app".into()],
        allowed_images: vec!["nginx".into()],
        cluster_cidrs: vec!["10.0.0.0/8".into()],
        forbidden_burst: 2,
        unauthenticated_burst: 2,
        ..Settings::default()
    };
    let mut engine = Engine::new(settings, Some(Baseline::default()), &Selection::default());
    let mut learned = Baseline::default();
    let mut alerts = Vec::new();
    let mut stats = ReadStats::default();
    let mut sink = |event: &Event, origin: &Origin| {
        learned.observe(event);
        engine.analyze(event, origin, &mut alerts);
    };
    let mut reader: &[u8] = data;
    let _ = read_stream("fuzz", &mut reader, &mut stats, &mut sink);
    for alert in &alerts {
        for format in [
            palisade_audit::format::AlertFormat::Text,
            palisade_audit::format::AlertFormat::Json,
            palisade_audit::format::AlertFormat::Ocsf,
            palisade_audit::format::AlertFormat::Ecs,
            palisade_audit::format::AlertFormat::Cef,
        ] {
            let _ = palisade_audit::format::render(alert, format);
        }
    }
});
