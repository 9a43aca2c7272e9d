//! What the formats people read (the Markdown and HTML reports) choose and order the same
//! way: the findings that fail the run apart from the others, most severe first, and the
//! diagnostics worth showing, errors first; and what was read, in the same sentences.

use palisade_core::{Diagnostic, DiagnosticLevel, Finding, FixedFinding, Report, Severity};

use crate::table::plural;

/// The unsuppressed findings, most severe first (the report's order within a severity): those
/// at or above `fail_on`, and the others.
pub(crate) fn open_findings(
    report: &Report,
    fail_on: Option<Severity>,
) -> (Vec<&Finding>, Vec<&Finding>) {
    let mut open: Vec<&Finding> = report
        .findings
        .iter()
        .filter(|f| !f.is_suppressed())
        .collect();
    open.sort_by_key(|f| std::cmp::Reverse(f.severity));
    open.into_iter()
        .partition(|f| fail_on.is_some_and(|t| f.severity >= t))
}

/// Where a finding is: `file:line`, or the file.
pub(crate) fn place(f: &Finding) -> String {
    match f.location.line {
        Some(line) => format!("{}:{line}", f.location.file),
        None => f.location.file.to_string(),
    }
}

/// Where a finding of the baseline was: its object and file, as the baseline wrote them.
pub(crate) fn fixed_place(f: &FixedFinding) -> String {
    [f.subject.as_deref(), f.file.as_deref()]
        .into_iter()
        .flatten()
        .collect::<Vec<_>>()
        .join(", ")
}

/// The errors, then the warnings (what was skipped on purpose is not shown).
pub(crate) fn diagnostics(report: &Report) -> Vec<&Diagnostic> {
    let mut shown: Vec<&Diagnostic> = report
        .diagnostics
        .iter()
        .filter(|d| d.level != DiagnosticLevel::Info)
        .collect();
    shown.sort_by_key(|d| d.level != DiagnosticLevel::Error);
    shown
}

/// A diagnostic's level, as people read it.
pub(crate) fn level(d: &Diagnostic) -> &'static str {
    match d.level {
        DiagnosticLevel::Error => "error",
        DiagnosticLevel::Warning => "warning",
        DiagnosticLevel::Info => "info",
    }
}

/// What was read and how far it was judged, as sentences of plain text (each format escapes
/// them): the objects and files read, the evaluations not assessed, the baseline's counts.
pub(crate) fn what_was_read(report: &Report) -> Vec<String> {
    let summary = report.summary();
    let mut sentences = vec![format!(
        "{} in {} read in {} ms by {} {}.",
        plural(summary.objects_scanned, "object"),
        plural(summary.files, "file"),
        summary.duration_ms,
        report.tool.name,
        report.tool.version
    )];
    if summary.not_assessed > 0 {
        sentences.push(format!(
            "{} not assessed: a rule could not judge an object from what was read (the JSON output's coverage says why).",
            plural(summary.not_assessed, "evaluation")
        ));
    }
    if let Some(baseline) = &report.baseline {
        sentences.push(format!(
            "Compared with the baseline {}: {} new, {} unchanged (suppressed), {} fixed.",
            baseline.file,
            baseline.new,
            baseline.unchanged,
            baseline.fixed.len()
        ));
    }
    sentences
}
