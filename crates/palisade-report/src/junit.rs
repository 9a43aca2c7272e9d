//! JUnit XML: a test suite per rule, a test case per rule × object it applies to (failed,
//! passed, or skipped when not assessed or suppressed), and a suite of input errors, so CI
//! systems that read JUnit show both.

use std::collections::HashMap;
use std::fmt::Write as _;
use std::io;

use palisade_core::report::{Evaluation, Outcome};
use palisade_core::{DiagnosticLevel, Finding, ObjectRef, Report};

/// Escapes text for XML attributes and content.
fn xml(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for ch in text.chars() {
        match ch {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            // Characters XML 1.0 cannot carry at all.
            c if (c as u32) < 0x20 && !matches!(c, '\n' | '\r' | '\t') => out.push('\u{fffd}'),
            c => out.push(c),
        }
    }
    out
}

/// Writes the JUnit XML document.
pub fn write(report: &Report, out: &mut dyn io::Write) -> io::Result<()> {
    let mut suites = String::new();
    let (mut total, mut total_failures, mut total_skipped) = (0usize, 0usize, 0usize);
    // Findings of one rule on one object (from one file), grouped once rather than searched
    // for every test case.
    let mut by_case: HashMap<(&str, &ObjectRef, &str), Vec<&Finding>> = HashMap::new();
    for f in &report.findings {
        by_case
            .entry((f.rule.as_ref(), &f.object, f.location.file.as_str()))
            .or_default()
            .push(f);
    }
    let mut evaluations_by_rule: Vec<Vec<&Evaluation>> = vec![Vec::new(); report.rules.len()];
    for evaluation in &report.evaluations {
        if let Some(list) = evaluations_by_rule.get_mut(evaluation.rule) {
            list.push(evaluation);
        }
    }
    for (rule_index, rule) in report.rules.iter().enumerate() {
        let mut cases = String::new();
        let (mut tests, mut failures, mut skipped) = (0usize, 0usize, 0usize);
        for evaluation in &evaluations_by_rule[rule_index] {
            let Some(scanned) = report.objects.get(evaluation.object) else {
                continue;
            };
            tests += 1;
            let name = xml(&scanned.object.to_string());
            let _ = write!(
                cases,
                "    <testcase name=\"{name}\" classname=\"{}\" file=\"{}\"",
                xml(&rule.id),
                xml(&scanned.file)
            );
            match &evaluation.outcome {
                Outcome::Pass => cases.push_str("/>\n"),
                Outcome::NotAssessed(reason) => {
                    skipped += 1;
                    let _ = writeln!(
                        cases,
                        ">\n      <skipped message=\"not assessed: {}\"/>\n    </testcase>",
                        xml(reason)
                    );
                }
                Outcome::Fail => {
                    let findings: &[&Finding] = by_case
                        .get(&(rule.id.as_ref(), &scanned.object, scanned.file.as_str()))
                        .map_or(&[], Vec::as_slice);
                    let open: Vec<_> = findings.iter().filter(|f| f.suppressed.is_none()).collect();
                    if open.is_empty() {
                        skipped += 1;
                        let reason = findings
                            .iter()
                            .find_map(|f| f.suppressed.as_ref().map(|s| s.reason.clone()))
                            .unwrap_or_default();
                        let _ = writeln!(
                            cases,
                            ">\n      <skipped message=\"suppressed: {}\"/>\n    </testcase>",
                            xml(&reason)
                        );
                    } else {
                        failures += 1;
                        let mut body = String::new();
                        for f in &open {
                            let _ = writeln!(
                                body,
                                "{}:{}:{} {} {}\nfix: {}",
                                f.location.file,
                                f.location.line.unwrap_or(0),
                                f.location.column.unwrap_or(0),
                                f.location.path,
                                f.message,
                                f.remediation
                            );
                        }
                        let _ = writeln!(
                            cases,
                            ">\n      <failure message=\"{}\" type=\"{}\">{}</failure>\n    </testcase>",
                            xml(&open[0].message),
                            rule.severity,
                            xml(body.trim_end())
                        );
                    }
                }
            }
        }
        total += tests;
        total_failures += failures;
        total_skipped += skipped;
        let _ = writeln!(
            suites,
            "  <testsuite name=\"{} {}\" tests=\"{tests}\" failures=\"{failures}\" errors=\"0\" skipped=\"{skipped}\">",
            xml(&rule.id),
            xml(&rule.slug)
        );
        suites.push_str(&cases);
        suites.push_str("  </testsuite>\n");
    }
    let errors: Vec<_> = report
        .diagnostics
        .iter()
        .filter(|d| d.level == DiagnosticLevel::Error)
        .collect();
    if !errors.is_empty() {
        let _ = writeln!(
            suites,
            "  <testsuite name=\"palisade input\" tests=\"{0}\" failures=\"0\" errors=\"{0}\" skipped=\"0\">",
            errors.len()
        );
        for d in &errors {
            let _ = writeln!(
                suites,
                "    <testcase name=\"{}\" classname=\"palisade.{}\">\n      <error message=\"{}\" type=\"{}\"/>\n    </testcase>",
                xml(&d.location()),
                xml(d.code),
                xml(&d.message),
                xml(d.code)
            );
        }
        suites.push_str("  </testsuite>\n");
    }
    let seconds = report.summary.duration_ms as f64 / 1000.0;
    write!(
        out,
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuites name=\"palisade\" tests=\"{}\" failures=\"{total_failures}\" errors=\"{}\" skipped=\"{total_skipped}\" time=\"{seconds:.3}\">\n{suites}</testsuites>\n",
        total + errors.len(),
        errors.len()
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    crate::test_support::snapshot_trio!(crate::Format::Junit);

    #[test]
    fn escapes_markup_and_control_characters() {
        assert_eq!(xml("a<b>&\"'\u{1}"), "a&lt;b&gt;&amp;&quot;&apos;\u{fffd}");
    }
}
