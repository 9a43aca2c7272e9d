//! `--baseline FILE`: a previous JSON report. Its findings found again are not new: they are
//! suppressed with the reason "in the baseline", so only new findings fail the run; its
//! findings not found again are reported as fixed. Findings are matched by fingerprint (rule,
//! subject, field and discriminator: stable when lines move).
//!
//! A baseline that cannot be read is an error, never an empty baseline: an empty one would
//! turn every finding into a new one, and a wrong one could hide new findings.

use std::collections::HashMap;
use std::path::Path;

use palisade_core::{BaselineComparison, FixedFinding, Report, Suppression, SuppressionSource};
use serde::Deserialize;

/// Why a baseline could not be used.
#[derive(Debug, thiserror::Error)]
pub enum BaselineError {
    #[error("{path}: cannot read the baseline: {source}")]
    Io {
        path: String,
        #[source]
        source: std::io::Error,
    },
    #[error("{path}: not a Palisade JSON report (`palisade scan -o json`): {message}")]
    NotAReport { path: String, message: String },
}

/// The findings of a previous report, by fingerprint.
#[derive(Debug, Clone)]
pub struct Baseline {
    file: String,
    findings: Vec<FixedFinding>,
}

#[derive(Deserialize)]
struct ReportFile {
    schema_version: String,
    findings: Vec<BaselineEntry>,
}

#[derive(Deserialize)]
struct BaselineEntry {
    rule: String,
    fingerprint: String,
    #[serde(default)]
    message: String,
    #[serde(default)]
    object: Option<serde_json::Value>,
    #[serde(default)]
    subject: Option<serde_json::Value>,
    #[serde(default)]
    location: Option<serde_json::Value>,
}

impl Baseline {
    pub fn load(path: &Path) -> Result<Baseline, BaselineError> {
        let display = path.display().to_string();
        let text = std::fs::read_to_string(path).map_err(|source| BaselineError::Io {
            path: display.clone(),
            source,
        })?;
        Baseline::parse(&display, &text)
    }

    pub fn parse(path: &str, text: &str) -> Result<Baseline, BaselineError> {
        let not_a_report = |message: String| BaselineError::NotAReport {
            path: path.to_string(),
            message,
        };
        let report: ReportFile =
            serde_json::from_str(text).map_err(|e| not_a_report(e.to_string()))?;
        if !report.schema_version.starts_with("1") {
            return Err(not_a_report(format!(
                "schema_version {} is not one this palisade reads",
                report.schema_version
            )));
        }
        let findings = report
            .findings
            .into_iter()
            .map(|entry| {
                if entry.fingerprint.len() != 16
                    || !entry.fingerprint.bytes().all(|b| b.is_ascii_hexdigit())
                {
                    return Err(not_a_report(format!(
                        "finding of {} has no valid fingerprint (`{}`)",
                        entry.rule, entry.fingerprint
                    )));
                }
                Ok(FixedFinding {
                    subject: subject_name(entry.object.as_ref().or(entry.subject.as_ref())),
                    file: entry
                        .location
                        .as_ref()
                        .and_then(|l| l.get("file"))
                        .and_then(|f| f.as_str())
                        .map(str::to_string),
                    rule: entry.rule,
                    fingerprint: entry.fingerprint,
                    message: entry.message,
                })
            })
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Baseline {
            file: path.to_string(),
            findings,
        })
    }

    /// Marks the findings of `report` that the baseline has, and records what is new and
    /// what was fixed. A finding already suppressed keeps its own suppression.
    pub fn apply(&self, report: &mut Report) {
        let mut known: HashMap<&str, usize> = HashMap::new();
        for (i, f) in self.findings.iter().enumerate() {
            known.entry(f.fingerprint.as_str()).or_insert(i);
        }
        let mut seen = vec![false; self.findings.len()];
        let (mut new, mut unchanged) = (0, 0);
        for finding in &mut report.findings {
            let fingerprint = finding.fingerprint().to_string();
            match known.get(fingerprint.as_str()) {
                Some(&i) => {
                    seen[i] = true;
                    unchanged += 1;
                    if finding.suppressed().is_none() {
                        finding.set_suppressed(Some(Suppression {
                            source: SuppressionSource::Baseline,
                            reason: format!("in the baseline {}", self.file),
                            expires: None,
                            origin: Some(self.file.clone()),
                        }));
                    }
                }
                None => new += 1,
            }
        }
        let fixed = self
            .findings
            .iter()
            .zip(&seen)
            .filter(|(_, seen)| !**seen)
            .map(|(f, _)| f.clone())
            .collect();
        report.baseline = Some(Box::new(BaselineComparison {
            file: self.file.clone(),
            new,
            unchanged,
            fixed,
        }));
    }
}

/// `Kind namespace/name` of a finding's `object` (or the name of its `subject`).
fn subject_name(value: Option<&serde_json::Value>) -> Option<String> {
    let value = value?;
    let get = |key: &str| value.get(key).and_then(|v| v.as_str());
    let kind = get("kind").unwrap_or_default();
    let name = get("name")?;
    Some(match get("namespace") {
        Some(ns) => format!("{kind} {ns}/{name}"),
        None => format!("{kind} {name}"),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn what_is_not_a_report_is_an_error_not_an_empty_baseline() {
        for text in [
            "",
            "{}",
            "[]",
            r#"{"schema_version": "1.0", "findings": [{"rule": "POD001", "fingerprint": "x"}]}"#,
        ] {
            assert!(Baseline::parse("b.json", text).is_err(), "{text}");
        }
        let ok = Baseline::parse(
            "b.json",
            r#"{"schema_version": "1.0", "findings": [{"rule": "POD001", "fingerprint": "0123456789abcdef", "message": "m", "object": {"kind": "Pod", "namespace": "a", "name": "p"}}]}"#,
        )
        .unwrap();
        assert_eq!(ok.findings[0].subject.as_deref(), Some("Pod a/p"));
    }
}
