//! The detections' fixture files (tests/fixtures/<ID>/{fail,pass}.jsonl): `# why` lines
//! before each event, `#! settings: {...}` lines setting `[audit]` settings (`threat_intel`
//! files relative to the fixture's directory), and an optional `learn.jsonl` learned as the
//! baseline first.

#![allow(dead_code)]

use std::path::{Path, PathBuf};

use palisade_audit::input::{ReadStats, read_path};
use palisade_audit::{Baseline, Event, Origin, Settings};

pub fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures")
}

/// (why, event line) pairs and the settings of a fixture file.
pub fn cases(path: &Path) -> (Vec<(String, String)>, Settings) {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let mut settings = Settings::default();
    let mut cases = Vec::new();
    let mut why = String::new();
    for line in text.lines() {
        if let Some(json) = line.strip_prefix("#! settings: ") {
            let value: serde_json::Value = serde_json::from_str(json).unwrap();
            let mut merged = serde_json::to_value(SettingsView::from(&settings)).unwrap();
            for (k, v) in value.as_object().unwrap() {
                merged[k] = v.clone();
            }
            settings = SettingsView::into_settings(merged);
        } else if let Some(comment) = line.strip_prefix("# ") {
            why = comment.to_string();
        } else if !line.trim().is_empty() {
            cases.push((why.clone(), line.to_string()));
        }
    }
    // Threat-intelligence files are named relative to the fixture's directory.
    let dir = path.parent().unwrap();
    let problems = settings.read_threat_intel(dir, &[]).unwrap();
    assert!(problems.is_empty(), "{}: {problems:?}", path.display());
    (cases, settings)
}

/// Settings through TOML, the way users write them.
struct SettingsView;
impl SettingsView {
    fn from(_: &Settings) -> serde_json::Value {
        serde_json::json!({})
    }
    fn into_settings(value: serde_json::Value) -> Settings {
        let mut text = String::from("[audit]\n");
        for (k, v) in value.as_object().unwrap() {
            text.push_str(&format!("{k} = {v}\n"));
        }
        Settings::parse("fixture", &text).unwrap()
    }
}

pub fn learn(dir: &Path) -> Option<Baseline> {
    let path = dir.join("learn.jsonl");
    if !path.exists() {
        return None;
    }
    let mut baseline = Baseline::default();
    let mut stats = ReadStats::default();
    let mut sink = |e: &Event, _: &Origin| baseline.observe(e);
    read_path(&path, &mut stats, &mut sink).unwrap();
    assert_eq!(stats.malformed, 0);
    Some(baseline)
}
