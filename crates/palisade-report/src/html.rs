//! A self-contained HTML report for people: one file with its styles inline, no script and no
//! request to anywhere (a Content-Security-Policy forbids both, so that even a page opened from
//! a mail or a CI artefact can run nothing), readable offline and printable. It holds the
//! verdict, the counts by severity, the findings by severity (the failing ones open, the others
//! folded), suppressed findings with their reasons, the compliance matrix when a framework
//! was asked for, what the baseline says was fixed, and the diagnostics.
//!
//! Every text from the input is escaped for HTML ([`escape`]); the writer's own markup is the
//! only markup. The report is checked in a real browser (headless Chromium) by the CLI tests.

use std::fmt::Write as _;
use std::io;

use palisade_core::{ComplianceStatus, DiagnosticLevel, Finding, Report, Severity, Verdict};

use crate::table::{headline, plural};
use crate::{WriteOptions, for_people};

/// Escapes text for HTML content and quoted attribute values.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            // Controls but the line ends (which `white-space: pre-wrap` shows) have no place in
            // a page; direction overrides could make text read otherwise than it is.
            c if (c.is_control() && c != '\n' && c != '\t')
                || matches!(c, '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}') =>
            {
                out.push('\u{fffd}')
            }
            c => out.push(c),
        }
    }
    out
}

const STYLE: &str = "\
body{font:14px/1.45 system-ui,sans-serif;margin:2em;color:#1b1f24;max-width:90em}\
h1{font-size:1.5em;margin:0 0 .3em}h2{font-size:1.15em;margin:1.6em 0 .5em}\
.verdict{padding:.6em 1em;border-radius:6px;font-weight:600;margin:.6em 0}\
.fail,.nothing-scanned{background:#ffe3e3;color:#8a1111}.incomplete{background:#fff3cd;color:#6b4a00}\
.pass{background:#dcf5e3;color:#0d5a25}.no-gate{background:#eef1f4}\
table{border-collapse:collapse;width:100%;margin:.4em 0}\
th,td{border:1px solid #d0d7de;padding:.35em .5em;text-align:left;vertical-align:top}\
th{background:#f4f6f8}td{white-space:pre-wrap;overflow-wrap:anywhere}\
.sev{font-weight:600;text-transform:uppercase;font-size:.8em}\
.critical{color:#8a1111}.high{color:#b4400b}.medium{color:#7a5b00}.low{color:#24508a}.info{color:#555}\
.counts td{text-align:center;font-size:1.2em}summary{cursor:pointer;font-weight:600;margin:.6em 0}\
.meta{color:#57606a}code{font-family:ui-monospace,monospace;font-size:.95em}";

/// Writes `report` as one HTML page.
pub fn write(report: &Report, options: WriteOptions, out: &mut dyn io::Write) -> io::Result<()> {
    let mut page = String::new();
    let _ = write!(
        page,
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'\">\
         <meta name=\"viewport\" content=\"width=device-width\">\
         <title>Palisade report</title><style>{STYLE}</style></head>\n<body>\n\
         <h1>Palisade report</h1>\n"
    );
    write_verdict(report, options, &mut page);
    write_counts(report, &mut page);
    write_findings(report, options, &mut page);
    write_compliance(report, &mut page);
    write_fixed(report, &mut page);
    write_diagnostics(report, &mut page);
    page.push_str("</body></html>\n");
    out.write_all(page.as_bytes())
}

fn write_verdict(report: &Report, options: WriteOptions, page: &mut String) {
    let (class, line) = match headline(report, options) {
        Some((verdict, line)) => {
            let class = match verdict {
                Verdict::NothingScanned => "nothing-scanned",
                Verdict::Fail => "fail",
                Verdict::Incomplete => "incomplete",
                Verdict::Pass => "pass",
            };
            (class, line)
        }
        None => ("no-gate", "No gate (--fail-on none)".to_string()),
    };
    let _ = writeln!(
        page,
        "<p class=\"verdict {class}\" id=\"verdict\">{}</p>",
        escape(&line)
    );
}

fn write_counts(report: &Report, page: &mut String) {
    let summary = report.summary();
    page.push_str("<table class=\"counts\"><tr>");
    for severity in Severity::ALL_DESCENDING {
        let _ = write!(page, "<th class=\"sev {severity}\">{severity}</th>");
    }
    page.push_str("<th>suppressed</th></tr><tr>");
    for severity in Severity::ALL_DESCENDING {
        let n = summary.findings.get(&severity).copied().unwrap_or(0);
        let _ = write!(page, "<td class=\"{severity}\">{n}</td>");
    }
    let _ = writeln!(page, "<td>{}</td></tr></table>", summary.suppressed);
    for sentence in for_people::what_was_read(report) {
        let _ = writeln!(page, "<p class=\"meta\">{}</p>", escape(&sentence));
    }
}

/// The findings: those at or above `--fail-on` in an open table, the others and the suppressed
/// ones folded.
fn write_findings(report: &Report, options: WriteOptions, page: &mut String) {
    let (failing, rest) = for_people::open_findings(report, options.fail_on);
    if !failing.is_empty() {
        let _ = writeln!(
            page,
            "<h2>{} that fail the run</h2>",
            plural(failing.len(), "finding")
        );
        findings_table(&failing, page);
    }
    if !rest.is_empty() {
        let title = match options.fail_on {
            Some(t) => format!("{} below {t}", plural(rest.len(), "finding")),
            None => plural(rest.len(), "finding"),
        };
        let _ = writeln!(page, "<details><summary>{title}</summary>");
        findings_table(&rest, page);
        page.push_str("</details>\n");
    }
    let suppressed: Vec<&Finding> = report
        .findings
        .iter()
        .filter(|f| f.is_suppressed())
        .collect();
    if !suppressed.is_empty() {
        let _ = writeln!(
            page,
            "<details><summary>{} suppressed</summary>\n<table><tr><th>rule</th><th>object</th><th>where</th><th>reason</th></tr>",
            plural(suppressed.len(), "finding")
        );
        for f in suppressed {
            let reason = f
                .suppressed()
                .map(|s| s.reason.as_str())
                .unwrap_or_default();
            let _ = writeln!(
                page,
                "<tr><td><code>{}</code></td><td>{}</td><td>{}</td><td>{}</td></tr>",
                escape(f.rule_id()),
                escape(&f.subject.to_string()),
                escape(&for_people::place(f)),
                escape(reason)
            );
        }
        page.push_str("</table></details>\n");
    }
}

fn findings_table(findings: &[&Finding], page: &mut String) {
    page.push_str(
        "<table><tr><th>severity</th><th>rule</th><th>object</th><th>where</th><th>finding</th><th>fix</th></tr>\n",
    );
    for f in findings {
        let _ = writeln!(
            page,
            "<tr class=\"finding\"><td class=\"sev {sev}\">{sev}</td><td><code>{}</code> {}</td><td>{}</td><td><code>{}</code> <span class=\"meta\">{}</span></td><td>{}</td><td>{}</td></tr>",
            escape(f.rule_id()),
            escape(f.title()),
            escape(&f.subject.to_string()),
            escape(&for_people::place(f)),
            escape(&f.location.path.to_string()),
            escape(&f.message),
            escape(f.remediation()),
            sev = f.severity,
        );
    }
    page.push_str("</table>\n");
}

/// The per-control verdicts of `--framework`.
fn write_compliance(report: &Report, page: &mut String) {
    let Some(compliance) = &report.compliance else {
        return;
    };
    let _ = writeln!(
        page,
        "<h2>Compliance: {} (<code>--framework {}</code>)</h2>\n<table><tr><th>status</th><th>control</th><th>title</th><th>rules</th><th>findings</th></tr>",
        escape(compliance.title),
        escape(compliance.framework)
    );
    for c in &compliance.controls {
        let status = match c.status {
            ComplianceStatus::Fail => "<span class=\"sev critical\">fail</span>",
            ComplianceStatus::Pass => "<span class=\"sev pass\">pass</span>",
            ComplianceStatus::NotAssessed => "<span class=\"sev medium\">not assessed</span>",
            ComplianceStatus::NotApplicable => "n/a",
            ComplianceStatus::Manual => "manual",
            ComplianceStatus::NotCovered => "not covered",
        };
        let _ = writeln!(
            page,
            "<tr><td>{status}</td><td><code>{}</code></td><td>{}</td><td>{}</td><td>{}</td></tr>",
            escape(&c.control.id),
            escape(c.title),
            escape(&c.rules.join(", ")),
            c.findings
        );
    }
    page.push_str("</table>\n");
}

fn write_fixed(report: &Report, page: &mut String) {
    let Some(baseline) = report.baseline.as_ref().filter(|b| !b.fixed.is_empty()) else {
        return;
    };
    let _ = writeln!(
        page,
        "<details><summary>{} fixed since the baseline</summary><ul>",
        plural(baseline.fixed.len(), "finding")
    );
    for f in &baseline.fixed {
        let _ = writeln!(
            page,
            "<li><code>{}</code> {} <span class=\"meta\">{}</span></li>",
            escape(&f.rule),
            escape(&f.message),
            escape(&for_people::fixed_place(f))
        );
    }
    page.push_str("</ul></details>\n");
}

fn write_diagnostics(report: &Report, page: &mut String) {
    let shown = for_people::diagnostics(report);
    if shown.is_empty() {
        return;
    }
    page.push_str("<h2>Diagnostics</h2>\n<table><tr><th>level</th><th>code</th><th>where</th><th>message</th></tr>\n");
    for d in shown {
        let class = match d.level {
            DiagnosticLevel::Error => "critical",
            _ => "medium",
        };
        let object = d.object.as_deref().unwrap_or_default();
        let _ = writeln!(
            page,
            "<tr class=\"diagnostic\"><td class=\"sev {class}\">{}</td><td><code>{}</code></td><td><code>{}</code> {}</td><td>{}</td></tr>",
            for_people::level(d),
            escape(d.code),
            escape(&d.location()),
            escape(object),
            escape(&d.message)
        );
    }
    page.push_str("</table>\n");
}

#[cfg(test)]
mod tests {
    use super::*;

    crate::test_support::snapshot_trio!(crate::Format::Html);

    #[test]
    fn input_text_is_text() {
        assert_eq!(
            escape("<script>alert('x')</script> & \"q\" \u{202e}"),
            "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; &amp; &quot;q&quot; \u{fffd}"
        );
    }
}
