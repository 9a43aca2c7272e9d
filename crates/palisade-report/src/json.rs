//! The JSON report: the [`Report`] model serialised as documented in `docs/json-report.md`.

use std::io;

use palisade_core::Report;

/// Writes the report as pretty-printed JSON followed by a newline.
pub fn write(report: &Report, out: &mut dyn io::Write) -> io::Result<()> {
    serde_json::to_writer_pretty(&mut *out, report)?;
    writeln!(out)
}

#[cfg(test)]
mod tests {
    crate::test_support::snapshot_trio!(crate::Format::Json);
}
