//! One writer per output format, all over the same [`Report`] model; and, for the commands
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
pub mod json;
pub mod junit;
pub mod sarif;
pub mod table;

/// An output format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Table,
    Json,
    Sarif,
    Junit,
}

impl Format {
    /// Every format's name, for help texts.
    pub const NAMES: &'static [&'static str] = &["table", "json", "sarif", "junit"];
}

impl FromStr for Format {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.to_ascii_lowercase().as_str() {
            "table" | "text" => Ok(Format::Table),
            "json" => Ok(Format::Json),
            "sarif" => Ok(Format::Sarif),
            "junit" | "junit-xml" => Ok(Format::Junit),
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
    }
}

#[cfg(test)]
pub(crate) mod test_support;
