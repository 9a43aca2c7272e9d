//! Analysing a log on several threads gives one thread's answer, whatever the bytes: the
//! same alerts in the same order, the same counts and problems. The log is written to a
//! file (threads read files) with the input cut into lines of fixture-like events.
//! Run: `cd fuzz && RUSTC_BOOTSTRAP=1 cargo fuzz run audit_parallel`.

#![no_main]

use libfuzzer_sys::fuzz_target;
use palisade_audit::input::ReadStats;
use palisade_audit::parallel::analyze_files_prepared;
use palisade_audit::{Baseline, Engine, Selection, Settings};

fn analyze(path: &std::path::Path, threads: usize) -> (Vec<String>, ReadStats, String) {
    let settings = Settings {
        activity: true,
        allowed_users: vec!["alice".into()],
        cluster_cidrs: vec!["10.0.0.0/8".into()],
        forbidden_burst: 2,
        unauthenticated_burst: 2,
        ..Settings::default()
    };
    let mut engine = Engine::new(settings, Some(Baseline::default()), &Selection::default());
    let mut stats = ReadStats::default();
    let mut alerts = Vec::new();
    let files = [path.to_path_buf()];
    // Each alert rendered on the thread that gives it, handed on in the log's order.
    let prepare = |alert| serde_json::to_string(&alert).unwrap();
    let not_read = analyze_files_prepared(
        &mut engine,
        &files,
        threads,
        &mut stats,
        &prepare,
        &mut |alert| {
            alerts.push(alert);
        },
    );
    let summary = format!(
        "{:?} {:?}",
        engine.counts(),
        not_read.iter().map(ToString::to_string).collect::<Vec<_>>()
    );
    (alerts, stats, summary)
}

/// Analyses `data` repeated as a log on one thread and on three; both must agree.
fn check(data: &[u8]) {
    // The input repeated makes a log of several batches (of 1,024 lines): what one batch
    // shows, a later one reads (bursts, first-seen behaviour, alerts given once).
    let mut log = Vec::with_capacity(data.len() * 300 + 300);
    for _ in 0..300 {
        log.extend_from_slice(data);
        log.push(b'\n');
    }
    let path =
        std::env::temp_dir().join(format!("palisade-fuzz-parallel-{}.log", std::process::id()));
    std::fs::write(&path, &log).unwrap();
    let one = analyze(&path, 1);
    let many = analyze(&path, 3);
    assert_eq!(one, many);
}

fuzz_target!(
    init: {
        // The standard library gives a thread that first waits on a channel a context that
        // lives as long as the thread; made here, before the inputs, LeakSanitizer does not
        // report it as a leak of the input that happened to make it.
        for warm in [&b"[\x18\xd500"[..], b"{\"kind\":\"Event\"}", b"not json"] {
            check(warm);
        }
    },
    |data: &[u8]| check(data)
);
