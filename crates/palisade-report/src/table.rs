//! The terminal report: findings grouped by object, most severe first, each with its
//! file:line, what is wrong and a one-line fix; then diagnostics and a summary.

use std::fmt::Write as _;
use std::io;

use palisade_core::{DiagnosticLevel, Finding, Report, Severity, Verdict, printable};

use crate::{GroupBy, WriteOptions};

struct Style {
    color: bool,
}

impl Style {
    fn paint(&self, code: &str, text: &str) -> String {
        if self.color {
            format!("\x1b[{code}m{text}\x1b[0m")
        } else {
            text.to_string()
        }
    }

    fn severity(&self, severity: Severity) -> String {
        let label = format!("{:<8}", severity.as_str().to_ascii_uppercase());
        let code = match severity {
            Severity::Critical => "1;97;41",
            Severity::High => "1;31",
            Severity::Medium => "33",
            Severity::Low => "36",
            Severity::Info => "2",
        };
        self.paint(code, &label)
    }

    fn dim(&self, text: &str) -> String {
        self.paint("2", text)
    }

    fn bold(&self, text: &str) -> String {
        self.paint("1", text)
    }
}

fn position(f: &Finding) -> String {
    let mut text = f.location.file.to_string();
    if let Some(line) = f.location.line {
        let _ = write!(text, ":{line}");
        if let Some(column) = f.location.column {
            let _ = write!(text, ":{column}");
        }
    }
    if let Some(renderer) = f.location.rendered_by {
        let _ = write!(text, " ({renderer} output)");
    }
    text
}

/// `1 input`, `2 inputs`.
/// What an incomplete run did not look at: inputs not scanned, objects a given policy failed
/// to judge.
pub fn not_looked_at(report: &Report) -> String {
    let unread: Vec<_> = report
        .diagnostics
        .iter()
        .filter(|d| d.input_not_read())
        .collect();
    let count = |code: &str| unread.iter().filter(|d| d.code == code).count();
    let policy_errors = count(palisade_core::diagnostic::POLICY_ERROR);
    let rules_not_run = count(palisade_core::diagnostic::RULE_NOT_RUN);
    let mut parts = Vec::new();
    if unread.len() > policy_errors + rules_not_run {
        parts.push(format!(
            "{} not scanned",
            plural(unread.len() - policy_errors - rules_not_run, "input")
        ));
    }
    if policy_errors > 0 {
        parts.push(format!(
            "{} a policy failed to judge",
            plural(policy_errors, "object")
        ));
    }
    if rules_not_run > 0 {
        parts.push(format!(
            "{} asked for did not run",
            plural(rules_not_run, "rule")
        ));
    }
    parts.join(", ")
}

/// Rules shown by name under the count of checks not assessed.
const NOT_ASSESSED_SHOWN: usize = 5;

/// The rules that could not assess some objects, most objects first, each with one reason.
fn write_not_assessed(coverage: &[palisade_core::report::Coverage], text: &mut String) {
    let mut rules: Vec<_> = coverage.iter().filter(|c| c.not_assessed > 0).collect();
    rules.sort_by(|a, b| {
        b.not_assessed
            .cmp(&a.not_assessed)
            .then(a.rule.cmp(&b.rule))
    });
    for rule in rules.iter().take(NOT_ASSESSED_SHOWN) {
        let reason = rule
            .not_assessed_objects
            .first()
            .map(|n| n.reason.split_whitespace().collect::<Vec<_>>().join(" "))
            .unwrap_or_else(|| "see the diagnostics".to_string());
        let _ = writeln!(
            text,
            "           {} on {}: {reason}",
            rule.rule,
            plural(rule.not_assessed, "object")
        );
    }
    if rules.len() > NOT_ASSESSED_SHOWN {
        let _ = writeln!(
            text,
            "           and {} more",
            plural(rules.len() - NOT_ASSESSED_SHOWN, "rule")
        );
    }
}

pub fn plural(n: usize, word: &str) -> String {
    if n == 1 {
        format!("{n} {word}")
    } else {
        format!("{n} {word}s")
    }
}

/// Writes the table: findings grouped by subject, diagnostics, compliance, the summary and
/// the verdict.
pub fn write(report: &Report, options: WriteOptions, out: &mut dyn io::Write) -> io::Result<()> {
    let style = Style {
        color: options.color,
    };
    let mut text = String::new();
    let shown = shown_findings(report, options);
    match options.group_by {
        GroupBy::Finding => write_findings(&shown, &style, &mut text),
        group_by => write_counts(&shown, group_by, &style, &mut text),
    }
    write_diagnostics(report, options.quiet, &style, &mut text);
    if let Some(compliance) = report.compliance.as_ref().filter(|_| !options.quiet) {
        write_compliance(compliance, &style, &mut text);
    }
    if let Some(baseline) = report.baseline.as_ref().filter(|_| !options.quiet) {
        write_fixed(baseline, &style, &mut text);
    }
    write_summary(report, options, &style, &mut text);
    out.write_all(text.as_bytes())
}

/// The open findings to list: all of them, or with `quiet` those that fail the run.
fn shown_findings(report: &Report, options: WriteOptions) -> Vec<&Finding> {
    report
        .findings
        .iter()
        .filter(|f| f.suppressed().is_none())
        .filter(|f| !options.quiet || options.fail_on.is_some_and(|t| f.severity >= t))
        .collect()
}

/// One line per rule, object or file: how many findings, by severity, most first.
fn write_counts(shown: &[&Finding], group_by: GroupBy, style: &Style, text: &mut String) {
    let mut groups: Vec<(String, String, [usize; 5])> = Vec::new();
    let mut group_of: std::collections::HashMap<String, usize> = std::collections::HashMap::new();
    for f in shown {
        let (key, label) = match group_by {
            GroupBy::Rule => (f.rule_id().to_string(), f.title().to_string()),
            GroupBy::Object => (
                format!("{}\u{0}{}", f.location.file, f.subject),
                format!("{}  {}", f.subject, style.dim(&f.location.file)),
            ),
            GroupBy::File | GroupBy::Finding => (f.location.file.to_string(), String::new()),
        };
        let index = *group_of.entry(key.clone()).or_insert_with(|| {
            groups.push((key, label, [0; 5]));
            groups.len() - 1
        });
        let rank = Severity::ALL_DESCENDING
            .iter()
            .position(|s| *s == f.severity)
            .unwrap_or(4);
        groups[index].2[rank] += 1;
    }
    // Most severe first, then most findings, then by name: the report's order is by place.
    groups.sort_by(|a, b| b.2.cmp(&a.2).then_with(|| a.0.cmp(&b.0)));
    for (key, label, counts) in &groups {
        let total: usize = counts.iter().sum();
        let worst = Severity::ALL_DESCENDING[counts.iter().position(|c| *c > 0).unwrap_or(4)];
        let by_severity: Vec<String> = Severity::ALL_DESCENDING
            .iter()
            .zip(counts)
            .filter(|(_, c)| **c > 0)
            .map(|(s, c)| format!("{c} {s}"))
            .collect();
        let name = match group_by {
            GroupBy::Rule => format!("{key:<7} {label}"),
            GroupBy::Object => label.clone(),
            GroupBy::File | GroupBy::Finding => key.clone(),
        };
        let _ = writeln!(
            text,
            "  {} {:>6}  {name}  {}",
            style.severity(worst),
            total,
            style.dim(&format!("({})", by_severity.join(", ")))
        );
    }
    if !groups.is_empty() {
        text.push('\n');
    }
}

/// Open findings grouped by subject and file, in the report's order (most severe first).
fn write_findings(open: &[&Finding], style: &Style, text: &mut String) {
    // Group open findings by object, keeping the report's order (most severe first).
    let open = open.iter().copied();
    let mut groups: Vec<(String, Vec<&Finding>)> = Vec::new();
    let mut group_of: std::collections::HashMap<String, usize> = std::collections::HashMap::new();
    for finding in open {
        let key = format!("{}\u{0}{}", finding.location.file, finding.subject);
        match group_of.get(&key) {
            Some(&index) => groups[index].1.push(finding),
            None => {
                group_of.insert(key.clone(), groups.len());
                groups.push((key, vec![finding]));
            }
        }
    }
    for (_, findings) in &groups {
        let first = findings[0];
        let _ = writeln!(
            text,
            "{}  {}",
            style.bold(&printable(&first.subject.to_string())),
            style.dim(&printable(&first.location.file))
        );
        for f in findings {
            let _ = writeln!(
                text,
                "  {} {:<7} {}",
                style.severity(f.severity),
                printable(f.rule_id()),
                printable(&f.message)
            );
            let _ = writeln!(
                text,
                "  {:<8} {:<7} {} {}",
                "",
                "",
                style.dim("at"),
                style.dim(&printable(&format!("{} {}", position(f), f.location.path)))
            );
            let _ = writeln!(
                text,
                "  {:<8} {:<7} {} {}",
                "",
                "",
                style.dim("fix:"),
                printable(f.remediation())
            );
        }
        text.push('\n');
    }
}

/// The findings of the baseline that this run did not find.
fn write_fixed(baseline: &palisade_core::BaselineComparison, style: &Style, text: &mut String) {
    if baseline.fixed.is_empty() {
        return;
    }
    let _ = writeln!(
        text,
        "{}",
        style.bold(&format!("Fixed since the baseline {}", baseline.file))
    );
    for f in &baseline.fixed {
        let place = [f.subject.as_deref(), f.file.as_deref()]
            .into_iter()
            .flatten()
            .collect::<Vec<_>>()
            .join("  ");
        let _ = writeln!(
            text,
            "  {:<7} {}  {}",
            printable(&f.rule),
            printable(&f.message),
            style.dim(&printable(&place))
        );
    }
    text.push('\n');
}

/// The diagnostics; with `quiet`, only errors.
fn write_diagnostics(report: &Report, quiet: bool, style: &Style, text: &mut String) {
    let shown: Vec<_> = report
        .diagnostics
        .iter()
        .filter(|d| !quiet || d.level == DiagnosticLevel::Error)
        .collect();
    if !shown.is_empty() {
        let _ = writeln!(text, "{}", style.bold("Diagnostics"));
        for d in shown {
            let level = match d.level {
                DiagnosticLevel::Error => style.paint("1;31", "error  "),
                DiagnosticLevel::Warning => style.paint("33", "warning"),
                DiagnosticLevel::Info => style.dim("info   "),
            };
            let object = d
                .object
                .as_ref()
                .map(|o| format!(" ({o})"))
                .unwrap_or_default();
            let _ = writeln!(
                text,
                "  {level} {} [{}] {}{}",
                printable(&d.location()),
                d.code,
                printable(&d.message),
                printable(&object)
            );
        }
        text.push('\n');
    }
}

/// The counts, then the verdict line.
fn write_summary(report: &Report, options: WriteOptions, style: &Style, text: &mut String) {
    let s = &report.summary();
    let counts: Vec<String> = Severity::ALL_DESCENDING
        .iter()
        .map(|sev| format!("{} {sev}", s.findings.get(sev).copied().unwrap_or(0)))
        .collect();
    let _ = write!(
        text,
        "{} {} ({})",
        style.bold("Summary:"),
        plural(s.total, "finding"),
        counts.join(", ")
    );
    if s.suppressed > 0 {
        let _ = write!(
            text,
            ", {} suppressed (listed in -o json/sarif)",
            s.suppressed
        );
    }
    text.push('\n');
    let errors = s
        .diagnostics
        .get(&DiagnosticLevel::Error)
        .copied()
        .unwrap_or(0);
    let warnings = s
        .diagnostics
        .get(&DiagnosticLevel::Warning)
        .copied()
        .unwrap_or(0);
    let infos = s
        .diagnostics
        .get(&DiagnosticLevel::Info)
        .copied()
        .unwrap_or(0);
    let _ = writeln!(
        text,
        "         {} in {}, {} ms; {} ({} errors, {} warnings, {} info)",
        plural(s.objects_scanned, "object"),
        plural(s.files, "file"),
        s.duration_ms,
        plural(report.diagnostics.len(), "diagnostic"),
        errors,
        warnings,
        infos
    );
    if s.not_assessed > 0 {
        let _ = writeln!(
            text,
            "         {} could not be assessed (see `coverage` in -o json):",
            plural(s.not_assessed, "rule check")
        );
        write_not_assessed(&report.coverage, text);
    }
    if let Some(b) = &report.baseline {
        let _ = writeln!(
            text,
            "         baseline {}: {} new, {} unchanged (not failing), {} fixed",
            b.file,
            b.new,
            b.unchanged,
            b.fixed.len()
        );
    }
    let hidden = options.hidden;
    if hidden.findings > 0 {
        let failing = if hidden.failing > 0 {
            format!(
                ", {} of them at or above --fail-on (they still fail the run)",
                hidden.failing
            )
        } else {
            String::new()
        };
        let _ = writeln!(
            text,
            "         {} of other severities not shown (--severity){failing}",
            plural(hidden.findings, "finding")
        );
    }
    write_verdict(report, options, style, text);
}

fn write_verdict(report: &Report, options: WriteOptions, style: &Style, text: &mut String) {
    let Some((verdict, line)) = headline(report, options) else {
        // `--fail-on none`: no gate, no verdict line.
        return;
    };
    let colour = match verdict {
        Verdict::NothingScanned | Verdict::Fail => "1;31",
        Verdict::Incomplete => "1;33",
        Verdict::Pass => "32",
    };
    let _ = writeln!(text, "         {}", style.paint(colour, &line));
}

/// The run's verdict and the line that says it, as every format for people words it (`FAIL: 3
/// findings at or above high`); `None` for a pass without a gate (`--fail-on none`). Findings
/// left out by `--severity` still fail the run.
pub fn headline(report: &Report, options: WriteOptions) -> Option<(Verdict, String)> {
    let mut verdict = report.verdict(options.fail_on);
    if options.hidden.failing > 0 && matches!(verdict, Verdict::Pass | Verdict::Incomplete) {
        verdict = Verdict::Fail;
    }
    let failing = report.findings_at_or_above(options.fail_on.unwrap_or(Severity::Info))
        + options.hidden.failing;
    let line = match verdict {
        Verdict::NothingScanned => {
            "NOTHING SCANNED: no Kubernetes object was read (see the diagnostics)".to_string()
        }
        Verdict::Fail => {
            let threshold = options.fail_on.map(|t| t.to_string()).unwrap_or_default();
            let also = if report.inputs_not_read() > 0 {
                format!("; INCOMPLETE: {}", not_looked_at(report))
            } else {
                String::new()
            };
            format!(
                "FAIL: {} at or above {threshold}{also}",
                plural(failing, "finding")
            )
        }
        Verdict::Incomplete => format!(
            "INCOMPLETE: {} (see the diagnostics); no verdict on what was not read",
            not_looked_at(report)
        ),
        Verdict::Pass => format!("PASS: nothing at or above {}", options.fail_on?),
    };
    Some((verdict, line))
}

/// One line per control: verdict, id, title, and the evidence (rules, findings).
fn write_compliance(compliance: &palisade_core::Compliance, style: &Style, text: &mut String) {
    use palisade_core::ComplianceStatus as S;
    let _ = writeln!(
        text,
        "{} {} (--framework {})",
        style.bold("Compliance:"),
        compliance.title,
        compliance.framework
    );
    let mut counts = std::collections::BTreeMap::new();
    // Columns as wide as their widest cell: titles are never cut.
    let id_width = compliance
        .controls
        .iter()
        .map(|c| c.control.id.chars().count())
        .max()
        .unwrap_or(0);
    let title_width = compliance
        .controls
        .iter()
        .map(|c| c.title.chars().count())
        .max()
        .unwrap_or(0);
    for c in &compliance.controls {
        *counts.entry(c.status.as_str()).or_insert(0usize) += 1;
        let status = match c.status {
            S::Pass => style.paint("32", "pass          "),
            S::Fail => style.paint("1;31", "FAIL          "),
            S::NotAssessed => style.paint("33", "not assessed  "),
            S::NotApplicable => style.dim("n/a           "),
            S::Manual => style.dim("manual        "),
            S::NotCovered => style.dim("not covered   "),
        };
        let evidence = match c.status {
            S::Manual => c.reason.unwrap_or("").to_string(),
            S::NotCovered => "no rule yet".to_string(),
            _ => {
                let mut e = c.rules.join(" ");
                if c.findings > 0 {
                    let _ = write!(e, ": {}", plural(c.findings, "finding"));
                }
                if c.not_assessed > 0 {
                    let _ = write!(e, ", {} not assessed", c.not_assessed);
                }
                e
            }
        };
        let _ = writeln!(
            text,
            "  {status} {:<id_width$} {:<title_width$} {}",
            c.control.id,
            c.title,
            style.dim(&evidence)
        );
    }
    let summary: Vec<String> = counts.iter().map(|(k, v)| format!("{v} {k}")).collect();
    let _ = writeln!(text, "  {}\n", summary.join(", "));
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_support::{render, report_with_findings};

    crate::test_support::snapshot_trio!(crate::Format::Table);

    #[test]
    fn colours_only_when_asked() {
        let mut out = Vec::new();
        let options = WriteOptions {
            color: true,
            fail_on: None,
            ..WriteOptions::default()
        };
        write(&report_with_findings(), options, &mut out).unwrap();
        assert!(String::from_utf8(out).unwrap().contains("\x1b["));
        assert!(!render(crate::Format::Table, &report_with_findings()).contains("\x1b["));
    }
}
