//! The JSON report: the [`Report`] model serialised as documented in `docs/json-report.md`.
//!
//! The findings, which are most of a large report (two million of them make 1.7 GB), are
//! rendered in parts on all cores and written in order as each part is ready; the output is
//! byte for byte what serde_json's pretty printer makes of the whole report.

use std::io;

use palisade_core::{Finding, Report};

/// Findings rendered as one unit of work.
const PART: usize = 2048;

/// Stands in the report for the findings list, which is written separately. The NULs are
/// escaped in the rendered JSON, and the summary and tool that come before the list cannot
/// hold them, so the first occurrence is the list's place.
const MARKER: &str = "\u{0}palisade-findings\u{0}";

/// Writes the report as pretty-printed JSON followed by a newline.
pub fn write(report: &Report, out: &mut dyn io::Write) -> io::Result<()> {
    let mut rest = Vec::new();
    report
        .serialize_with(&mut serde_json::Serializer::pretty(&mut rest), &MARKER)
        .map_err(io::Error::other)?;
    let marker = serde_json::to_vec(MARKER).map_err(io::Error::other)?;
    let at = rest
        .windows(marker.len())
        .position(|w| w == marker.as_slice())
        .ok_or_else(|| io::Error::other("the report has no place for its findings"))?;
    out.write_all(&rest[..at])?;
    write_findings(&report.findings, out)?;
    out.write_all(&rest[at + marker.len()..])?;
    writeln!(out)
}

/// The findings list as the pretty printer writes it two levels deep.
fn write_findings(findings: &[Finding], out: &mut dyn io::Write) -> io::Result<()> {
    if findings.is_empty() {
        return out.write_all(b"[]");
    }
    out.write_all(b"[")?;
    let threads = std::thread::available_parallelism().map_or(1, std::num::NonZeroUsize::get);
    for (round, group) in findings.chunks(PART * threads).enumerate() {
        let first = round == 0;
        let parts: Vec<io::Result<Vec<u8>>> = std::thread::scope(|scope| {
            let workers: Vec<_> = group
                .chunks(PART)
                .enumerate()
                .skip(1)
                .map(|(_, part)| scope.spawn(move || render(part, false)))
                .collect();
            let mut parts = vec![render(&group[..group.len().min(PART)], first)];
            parts.extend(
                workers
                    .into_iter()
                    .map(|w| w.join().unwrap_or_else(|e| std::panic::resume_unwind(e))),
            );
            parts
        });
        for part in parts {
            out.write_all(&part?)?;
        }
    }
    out.write_all(b"\n  ]")
}

/// Findings as list items two levels deep, each after a comma unless `first`.
fn render(findings: &[Finding], first: bool) -> io::Result<Vec<u8>> {
    let mut out = Vec::with_capacity(findings.len() * 1024);
    let mut item = Vec::with_capacity(2048);
    for (i, finding) in findings.iter().enumerate() {
        if i > 0 || !first {
            out.push(b',');
        }
        out.extend_from_slice(b"\n    ");
        item.clear();
        serde_json::to_writer_pretty(&mut item, finding).map_err(io::Error::other)?;
        // Strings hold their newlines escaped, so every newline is the printer's.
        for &byte in &item {
            out.push(byte);
            if byte == b'\n' {
                out.extend_from_slice(b"    ");
            }
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    crate::test_support::snapshot_trio!(crate::Format::Json);

    use super::*;

    /// The report in parts is the report serialised whole, for lists that end inside a part,
    /// on a part's edge and across several rounds.
    #[test]
    fn parts_make_what_the_whole_report_makes() {
        let base = crate::test_support::report_with_findings();
        for count in [0, 1, 2, PART - 1, PART, PART + 1, 3 * PART + 5] {
            let mut report = base.clone();
            report.findings = (0..count)
                .map(|i| base.findings[i % base.findings.len()].clone())
                .collect();
            let mut ours = Vec::new();
            write(&report, &mut ours).unwrap();
            let mut whole = serde_json::to_vec_pretty(&report).unwrap();
            whole.push(b'\n');
            assert!(ours == whole, "{count} findings differ");
        }
    }
}
