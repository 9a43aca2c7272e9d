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
    use crate::test_support::{empty_report, report_with_diagnostics, report_with_findings};

    fn render(report: &palisade_core::Report) -> String {
        let mut out = Vec::new();
        super::write(report, &mut out).unwrap();
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn findings() {
        insta::assert_snapshot!(render(&report_with_findings()));
    }

    #[test]
    fn empty() {
        insta::assert_snapshot!(render(&empty_report()));
    }

    #[test]
    fn diagnostics() {
        insta::assert_snapshot!(render(&report_with_diagnostics()));
    }
}
