//! The JSON report: the [`Report`] model serialised as documented in `docs/json-report.md`.
//!
//! The findings, which are most of a large report (two million of them make 1.7 GB), are
//! rendered in parts on all cores ([`crate::parts`]).

use std::io;

use palisade_core::Report;

use crate::parts::{MARKER, splice};

/// Writes the report as pretty-printed JSON followed by a newline.
pub fn write(report: &Report, out: &mut dyn io::Write) -> io::Result<()> {
    let mut rest = Vec::new();
    report
        .serialize_with(&mut serde_json::Serializer::pretty(&mut rest), &MARKER)
        .map_err(io::Error::other)?;
    splice(
        &rest,
        "findings",
        &report.findings,
        2,
        &|finding, buf| serde_json::to_writer_pretty(buf, finding),
        out,
    )?;
    writeln!(out)
}

#[cfg(test)]
mod tests {
    crate::test_support::snapshot_trio!(crate::Format::Json);

    use super::*;
    use crate::parts::PART;

    /// The report in parts is the report serialised whole, for lists that end inside a part,
    /// on a part's edge and across several rounds.
    #[test]
    fn parts_make_what_the_whole_report_makes() {
        for count in [0, 1, 2, PART - 1, PART, PART + 1, 3 * PART + 5] {
            let report = crate::test_support::report_with_finding_count(count);
            let mut ours = Vec::new();
            write(&report, &mut ours).unwrap();
            let mut whole = serde_json::to_vec_pretty(&report).unwrap();
            whole.push(b'\n');
            assert!(ours == whole, "{count} findings differ");
        }
    }
}
