//! `palisade scan --framework pss-baseline|pss-restricted --pss-version vX.Y` on every fixture
//! of the Pod Security admission plugin (`../shared/corpora/pss-admission`, v1.0-v1.37): a
//! fixture the plugin rejects must fail, with the control of the check it is named after
//! failing in the compliance verdict; a fixture it admits must pass every control.
//!
//! Without the corpus this test fails (it does not skip).

use std::path::{Path, PathBuf};

use palisade_core::{ComplianceStatus, Profile};
use palisade_rules::pss::admission::PolicyVersion;
use palisade_scan::{ScanOptions, scan_inventory};

fn corpus() -> PathBuf {
    let dir = std::env::var_os("PALISADE_CORPORA")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/corpora"))
        .join("pss-admission");
    assert!(
        dir.is_dir(),
        "{} is missing: the PSS conformance test needs the shared corpora",
        dir.display()
    );
    dir
}

/// The PSS control a fixture named after a check must fail.
fn control_of(file: &str) -> &'static str {
    let stem = file
        .trim_end_matches(".yaml")
        .trim_end_matches(|c: char| c.is_ascii_digit());
    palisade_rules::pss::admission::check(stem)
        .unwrap_or_else(|| panic!("unknown check in fixture name {stem}"))
        .1
}

#[test]
fn scan_with_a_pss_framework_gives_the_admission_plugins_verdict_on_every_fixture() {
    let root = corpus();
    let (mut checked, mut failures) = (0, Vec::new());
    for (level, profile) in [
        ("baseline", Profile::PssBaseline),
        ("restricted", Profile::PssRestricted),
    ] {
        let mut versions: Vec<PathBuf> = std::fs::read_dir(root.join(level))
            .unwrap()
            .map(|e| e.unwrap().path())
            .collect();
        versions.sort();
        for version_dir in versions {
            let version_name = version_dir
                .file_name()
                .unwrap()
                .to_str()
                .unwrap()
                .to_string();
            let options = ScanOptions {
                framework: Some(profile),
                pss_version: Some(PolicyVersion::parse(&version_name).unwrap()),
                ..ScanOptions::default()
            };
            for verdict in ["fail", "pass"] {
                let Ok(entries) = std::fs::read_dir(version_dir.join(verdict)) else {
                    continue;
                };
                for entry in entries {
                    let path = entry.unwrap().path();
                    let file = path.file_name().unwrap().to_str().unwrap().to_string();
                    let text = std::fs::read_to_string(&path).unwrap();
                    let loaded = palisade_inventory::load_text(&file, &text, &Default::default());
                    let report = scan_inventory(&loaded.inventory, &options);
                    let compliance = report.compliance.as_ref().unwrap();
                    let failed: Vec<&str> = compliance
                        .controls
                        .iter()
                        .filter(|c| c.status == ComplianceStatus::Fail)
                        .map(|c| c.control.id.as_ref())
                        .collect();
                    checked += 1;
                    let label = format!("{level}/{version_name}/{verdict}/{file}");
                    if verdict == "pass" {
                        if !failed.is_empty() || !report.findings.is_empty() {
                            failures.push(format!(
                                "{label}: admitted by the plugin, failed here: {failed:?}"
                            ));
                        }
                    } else if !failed.contains(&control_of(&file)) {
                        failures.push(format!(
                            "{label}: rejected by the plugin for {}; failed here: {failed:?}",
                            control_of(&file)
                        ));
                    }
                }
            }
        }
    }
    assert!(checked > 4000, "only {checked} fixtures found");
    assert!(
        failures.is_empty(),
        "{} of {checked} fixtures disagree:\n{}",
        failures.len(),
        failures
            .iter()
            .take(50)
            .cloned()
            .collect::<Vec<_>>()
            .join("\n")
    );
}
