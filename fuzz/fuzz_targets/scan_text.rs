//! Fuzzes the whole scan: any manifests are loaded and judged by every built-in rule, with the
//! models of the cluster they share (RBAC and its escalation graph, the network and its ways
//! in, the secrets, the Ingress controllers, the operators' templates), read as files and, by
//! the first byte, as a whole cluster; the report is then written in the format the first
//! byte picks. Never a panic, and every finding names a rule that ran.
//! Seed it with the rules' own fixtures, which hold the objects each rule looks at:
//! `cd fuzz && RUSTC_BOOTSTRAP=1 cargo fuzz run scan_text corpus/scan_text
//! ../crates/palisade-rules/tests/fixtures/*/ -- -detect_leaks=0` (the first directory keeps
//! what it finds). Leak detection is off because it races the scan's threads: a scoped thread
//! counts as joined before its thread-local destructors have run, and LeakSanitizer then
//! reported their 32-byte registration, which a run of the same input alone does not.
#![no_main]

use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use palisade_inventory::{Limits, load_text};
use palisade_report::{Format, WriteOptions};
use palisade_scan::ScanOptions;

/// Every format a report is written in.
const FORMATS: &[Format] = &[
    Format::Table,
    Format::Json,
    Format::Sarif,
    Format::Junit,
    Format::Markdown,
    Format::Html,
    Format::PolicyReport,
];

/// The options of a scan of files, or of a whole cluster; made once (the rule set compiles
/// its policies and patterns).
fn options(whole_cluster: bool) -> &'static ScanOptions {
    static FILES: OnceLock<ScanOptions> = OnceLock::new();
    static CLUSTER: OnceLock<ScanOptions> = OnceLock::new();
    let cell = if whole_cluster { &CLUSTER } else { &FILES };
    cell.get_or_init(|| ScanOptions {
        whole_cluster,
        ..ScanOptions::default()
    })
}

fuzz_target!(|data: &[u8]| {
    let Some((&mode, rest)) = data.split_first() else {
        return;
    };
    let Ok(text) = std::str::from_utf8(rest) else {
        return;
    };
    let limits = Limits {
        max_nodes: 20_000,
        ..Limits::default()
    };
    let loaded = load_text("fuzz.yaml", text, &limits);
    let report = palisade_scan::scan_inventory(&loaded.inventory, options(mode & 1 == 1));
    for finding in &report.findings {
        assert!(
            report.rules.iter().any(|r| r.id == finding.rule.id),
            "{} is not among the rules that ran",
            finding.rule.id
        );
    }
    // One format per input, by the first byte (SARIF's rule table alone costs more than a
    // small scan).
    let format = FORMATS[usize::from(mode >> 1) % FORMATS.len()];
    let mut out = Vec::new();
    palisade_report::write(format, &report, WriteOptions::default(), &mut out)
        .expect("writing to memory does not fail");
});
