//! Markdown for a pull request's comment or a CI job summary (GitHub, GitLab): the verdict, the
//! counts by severity, the findings that fail the run in a table, the others folded away, the
//! diagnostics, and what the baseline says was fixed.
//!
//! A comment is read by people who did not write the manifests, in a page that renders HTML:
//! every text from the input (messages, names, paths) is escaped so that it can neither break
//! the table (`|`, line breaks), nor become markup (`<details>`, `<img>`, links), nor notify
//! anyone (`@team` mentions, which GitHub sends on `@`): `@` is written as an entity. Comments
//! are limited in size (GitHub: 65,536 characters), so the document stops listing findings
//! before [`MOST`] and says how many it left out: the JSON and SARIF outputs hold them all.

use std::fmt::Write as _;
use std::io;

use palisade_core::{Finding, Report, Severity, Verdict};

use crate::table::{headline, plural};
use crate::{WriteOptions, for_people};

/// The most characters written: under GitHub's 65,536 for a comment, with room for what a CI
/// step adds around it.
pub const MOST: usize = 60_000;

/// Room kept for what follows the last listed finding (the line that counts those left out,
/// the closing of a folded section, the diagnostics' heading).
const TAIL: usize = 2_000;

/// Escapes text from the input for a table cell or a line of Markdown.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '@' => out.push_str("&#64;"),
            '|' => out.push_str("&#124;"),
            '\n' => out.push_str("<br>"),
            '\r' | '\t' => out.push(' '),
            // Markdown's own syntax inside a line: code, emphasis, strikethrough, links and
            // images (a link needs its brackets).
            '\\' | '`' | '*' | '_' | '~' | '[' | ']' => {
                out.push('\\');
                out.push(c);
            }
            c if c.is_control() => out.push('\u{fffd}'),
            c => out.push(c),
        }
    }
    out
}

/// Writes `report` as Markdown.
pub fn write(report: &Report, options: WriteOptions, out: &mut dyn io::Write) -> io::Result<()> {
    let mut text = String::new();
    write_verdict(report, options, &mut text);
    write_counts(report, &mut text);
    let (fail, rest) = for_people::open_findings(report, options.fail_on);
    let mut left_out = 0;
    if !fail.is_empty() {
        let _ = writeln!(text, "\n### Findings that fail the run\n");
        left_out += write_findings(&fail, &mut text);
    }
    if !rest.is_empty() {
        let title = match options.fail_on {
            Some(t) => format!("{} below {t}", plural(rest.len(), "finding")),
            None => plural(rest.len(), "finding"),
        };
        let _ = writeln!(text, "\n<details><summary>{title}</summary>\n");
        left_out += write_findings(&rest, &mut text);
        let _ = writeln!(text, "\n</details>");
    }
    if left_out > 0 {
        let _ = writeln!(
            text,
            "\n{} not listed, to keep the comment under GitHub's size limit: the JSON and SARIF outputs (`-o json`, `-o sarif`) list every one.",
            plural(left_out, "finding")
        );
    }
    write_fixed(report, &mut text);
    write_diagnostics(report, &mut text);
    out.write_all(text.as_bytes())
}

/// The heading: the verdict, as the table's last line says it.
fn write_verdict(report: &Report, options: WriteOptions, text: &mut String) {
    let line = match headline(report, options) {
        Some((verdict, line)) => {
            let mark = match verdict {
                Verdict::NothingScanned | Verdict::Fail => "❌",
                Verdict::Incomplete => "⚠️",
                Verdict::Pass => "✅",
            };
            format!("{mark} {line}")
        }
        None => "Palisade scan (no gate: `--fail-on none`)".to_string(),
    };
    let _ = writeln!(text, "## Palisade: {line}\n");
}

/// The counts by severity, and what was read.
fn write_counts(report: &Report, text: &mut String) {
    let summary = report.summary();
    let _ = writeln!(
        text,
        "| critical | high | medium | low | info | suppressed |"
    );
    let _ = writeln!(text, "|---:|---:|---:|---:|---:|---:|");
    let count = |s: Severity| summary.findings.get(&s).copied().unwrap_or(0);
    let _ = writeln!(
        text,
        "| {} | {} | {} | {} | {} | {} |",
        count(Severity::Critical),
        count(Severity::High),
        count(Severity::Medium),
        count(Severity::Low),
        count(Severity::Info),
        summary.suppressed
    );
    for sentence in for_people::what_was_read(report) {
        let _ = writeln!(text, "\n{}", escape(&sentence));
    }
}

/// A table of `findings`, as many as fit; returns how many were left out.
fn write_findings(findings: &[&Finding], text: &mut String) -> usize {
    let _ = writeln!(text, "| severity | rule | object | where | finding | fix |");
    let _ = writeln!(text, "|---|---|---|---|---|---|");
    for (i, f) in findings.iter().enumerate() {
        let row = row(f);
        if text.len() + row.len() + TAIL > MOST {
            return findings.len() - i;
        }
        text.push_str(&row);
    }
    0
}

/// One finding as a row of the table.
fn row(f: &Finding) -> String {
    format!(
        "| {} | {} {} | {} | {} | {} | {} |\n",
        f.severity,
        escape(f.rule_id()),
        escape(f.title()),
        escape(&f.subject.to_string()),
        escape(&for_people::place(f)),
        escape(&f.message),
        escape(f.remediation())
    )
}

/// The findings of the baseline not found again.
fn write_fixed(report: &Report, text: &mut String) {
    let Some(baseline) = report.baseline.as_ref().filter(|b| !b.fixed.is_empty()) else {
        return;
    };
    let _ = writeln!(
        text,
        "\n<details><summary>{} fixed since the baseline</summary>\n",
        plural(baseline.fixed.len(), "finding")
    );
    for f in &baseline.fixed {
        if text.len() + TAIL > MOST {
            let _ = writeln!(text, "- and more (see the JSON output)");
            break;
        }
        let _ = writeln!(
            text,
            "- {} {} ({})",
            escape(&f.rule),
            escape(&f.message),
            escape(&for_people::fixed_place(f))
        );
    }
    let _ = writeln!(text, "\n</details>");
}

/// Errors and warnings about the input, errors first.
fn write_diagnostics(report: &Report, text: &mut String) {
    let shown = for_people::diagnostics(report);
    if shown.is_empty() {
        return;
    }
    let _ = writeln!(text, "\n### Diagnostics\n");
    for (i, d) in shown.iter().enumerate() {
        if text.len() + TAIL / 2 > MOST {
            let _ = writeln!(text, "- and {} more (see the JSON output)", shown.len() - i);
            break;
        }
        let object = d
            .object
            .as_deref()
            .map(|o| format!(" {}", escape(o)))
            .unwrap_or_default();
        let _ = writeln!(
            text,
            "- **{}** `{}` {}{object}: {}",
            for_people::level(d),
            d.code,
            escape(&d.location()),
            escape(&d.message)
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_support::{render, report_with_finding_count};

    crate::test_support::snapshot_trio!(crate::Format::Markdown);

    #[test]
    fn input_text_cannot_become_markup_a_mention_or_a_new_cell() {
        let hostile = "a|b <img src=x onerror=alert(1)> @org/security [x](http://e) `c` *d*\nnext";
        let escaped = escape(hostile);
        assert_eq!(
            escaped,
            "a&#124;b &lt;img src=x onerror=alert(1)&gt; &#64;org/security \\[x\\](http://e) \\`c\\` \\*d\\*<br>next"
        );
        assert_eq!(escape("plain text, 1.2 (ok)"), "plain text, 1.2 (ok)");
    }

    /// The report read back by a CommonMark parser with GitHub's tables: findings whose text
    /// holds table, HTML, link and mention syntax stay one row of six cells each, and the only
    /// HTML is the writer's own.
    #[test]
    fn hostile_findings_render_as_rows_of_text() {
        use pulldown_cmark::{Event, Options, Parser, Tag, TagEnd};
        let mut report = crate::test_support::report_with_findings();
        let hostile = "x | y </td><script>alert(1)</script> <details open> [a](javascript:b) @org/team **b** `c`\n| z |";
        for f in &mut report.findings {
            f.message = hostile.into();
        }
        let text = render(crate::Format::Markdown, &report);
        let (mut rows, mut cells, mut html) = (Vec::new(), 0, Vec::new());
        let (mut links, mut texts) = (0, Vec::new());
        for event in Parser::new_ext(&text, Options::ENABLE_TABLES) {
            match event {
                Event::Start(Tag::TableRow | Tag::TableHead) => cells = 0,
                Event::Start(Tag::TableCell) => {
                    cells += 1;
                    texts.push(Some(String::new()));
                }
                Event::End(TagEnd::TableCell) => texts.push(None),
                Event::Text(t) | Event::Code(t) => {
                    if let Some(Some(cell)) = texts.last_mut() {
                        cell.push_str(&t);
                    }
                }
                Event::End(TagEnd::TableRow | TagEnd::TableHead) => rows.push(cells),
                Event::Start(Tag::Link { .. }) => links += 1,
                Event::Html(h) | Event::InlineHtml(h) => html.push(h.trim().to_string()),
                _ => {}
            }
        }
        assert!(rows.iter().all(|&n| n == 6), "{rows:?}\n{text}");
        assert_eq!(
            rows.len(),
            2 + 2,
            "counts head and row, findings head and one row"
        );
        assert_eq!(links, 0, "{text}");
        assert!(html.iter().all(|h| h == "<br>"), "{html:?}");
        // The message is one cell, as written (its line break a `<br>`).
        let written = hostile.replace('\n', "");
        assert!(texts.contains(&Some(written)), "{texts:?}");
        assert!(!text.contains('@'));
    }

    #[test]
    fn a_long_report_stays_under_a_comment_s_size_and_says_what_it_left_out() {
        let report = report_with_finding_count(5_000);
        let text = render(crate::Format::Markdown, &report);
        assert!(text.len() <= MOST, "{}", text.len());
        let listed = text.matches("| critical | POD001").count();
        let suppressed = report.findings.iter().filter(|f| f.is_suppressed()).count();
        let left_out = 5_000 - suppressed - listed;
        assert!(listed > 100 && left_out > 0, "{listed}");
        assert!(
            text.contains(&format!("{left_out} findings not listed")),
            "{}",
            &text[text.len() - 400..]
        );
    }
}
