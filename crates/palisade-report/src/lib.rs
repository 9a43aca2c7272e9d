//! One writer per output format (table, JSON, SARIF, JUnit, Markdown, HTML, Policy Reports), all over the same
//! [`Report`] model; and, for the commands
//! that answer a question rather than scan (`answer`), one renderer for their typed answers.
//!
//! Writers take the report and an `io::Write` and nothing else: they never read files, the
//! inventory or secret values, so what they print is only what a finding or diagnostic already
//! carries. That is the redaction boundary the secrets detectors will rely on. SARIF and JUnit
//! are written with `serde_json` and a small XML escaper rather than their typed crates: the
//! formats are small, and this keeps the build light for every crate that links the writers.

use std::io;
use std::str::FromStr;

use palisade_core::Report;

pub mod answer;
mod for_people;
pub mod html;
pub mod json;
pub mod junit;
pub mod markdown;
mod parts;
pub mod policy_report;
pub mod sarif;
pub mod table;

/// An output format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Table,
    Json,
    Sarif,
    Junit,
    /// For a pull request's comment or a CI job summary.
    Markdown,
    /// One self-contained page for people.
    Html,
    /// Kubernetes Policy Reports (`wgpolicyk8s.io/v1alpha2`) for `kubectl apply -f -`.
    PolicyReport,
}

impl Format {
    /// Every format's name, for help texts.
    pub const NAMES: &'static [&'static str] = &[
        "table",
        "json",
        "sarif",
        "junit",
        "markdown",
        "html",
        "policyreport",
    ];
}

impl FromStr for Format {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.to_ascii_lowercase().as_str() {
            "table" | "text" => Ok(Format::Table),
            "json" => Ok(Format::Json),
            "sarif" => Ok(Format::Sarif),
            "junit" | "junit-xml" => Ok(Format::Junit),
            "markdown" | "md" => Ok(Format::Markdown),
            "html" => Ok(Format::Html),
            "policyreport" | "policy-report" => Ok(Format::PolicyReport),
            other => Err(format!(
                "unknown format `{other}` (expected one of {})",
                Format::NAMES.join(", ")
            )),
        }
    }
}

/// Options that only some writers use.
#[derive(Debug, Clone, Copy, Default)]
pub struct WriteOptions {
    /// ANSI colours in the table.
    pub color: bool,
    /// The `--fail-on` threshold, shown in the table's summary.
    pub fail_on: Option<palisade_core::Severity>,
    /// Table: only the findings that fail the run, error diagnostics and the summary.
    pub quiet: bool,
    /// Table: findings one by one under their subject, or counted by rule, object or file.
    pub group_by: GroupBy,
    /// Findings left out of the report because their severity was not asked for
    /// (`--severity`); the table says how many.
    pub hidden: Hidden,
}

/// How the table lists findings.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum GroupBy {
    /// Each finding, under its object and file (the default).
    #[default]
    Finding,
    /// One line per rule with its count.
    Rule,
    /// One line per object with its counts by severity.
    Object,
    /// One line per file with its counts by severity.
    File,
}

/// Findings the report no longer holds because of their severity.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Hidden {
    pub findings: usize,
    /// Of those, at or above `--fail-on`: they still decide the exit code.
    pub failing: usize,
}

/// Writes `report` in `format`.
pub fn write(
    format: Format,
    report: &Report,
    options: WriteOptions,
    out: &mut dyn io::Write,
) -> io::Result<()> {
    match format {
        Format::Table => table::write(report, options, out),
        Format::Json => json::write(report, out),
        Format::Sarif => sarif::write(report, out),
        Format::Junit => junit::write(report, out),
        Format::Markdown => markdown::write(report, options, out),
        Format::Html => html::write(report, options, out),
        Format::PolicyReport => policy_report::write(report, out),
    }
}

#[cfg(test)]
pub(crate) mod test_support;
