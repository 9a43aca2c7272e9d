//! JUnit XML: a test suite per rule, a test case per rule × object it applies to (failed,
//! passed, or skipped when not assessed or suppressed), and a suite of input errors, so CI
//! systems that read JUnit show both.

use std::collections::HashMap;
use std::fmt::Write as _;
use std::io;

use palisade_core::report::{Evaluation, Outcome};
use palisade_core::{DiagnosticLevel, Finding, Report};

/// Escapes text for XML attributes and content.
pub fn xml(text: &str) -> String {
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

/// Appends the end of the test case of `findings` (one rule on one object): `true` when it
/// failed, `false` when every finding is suppressed (skipped).
fn finding_case(cases: &mut String, findings: &[&Finding]) -> bool {
    let open: Vec<_> = findings.iter().filter(|f| f.suppressed.is_none()).collect();
    if open.is_empty() {
        let reason = findings
            .iter()
            .find_map(|f| f.suppressed.as_ref().map(|s| s.reason.clone()))
            .unwrap_or_default();
        let _ = writeln!(
            cases,
            ">\n      <skipped message=\"suppressed: {}\"/>\n    </testcase>",
            xml(&reason)
        );
        return false;
    }
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
            f.remediation()
        );
    }
    let _ = writeln!(
        cases,
        ">\n      <failure message=\"{}\" type=\"{}\">{}</failure>\n    </testcase>",
        xml(&open[0].message),
        open[0].severity,
        xml(body.trim_end())
    );
    true
}

/// Test-case key: one rule on one object from one file.
type CaseKey<'r> = (&'r str, String, &'r str);

/// Writes the JUnit XML document. Every finding is a failed (or, when suppressed, skipped)
/// test case, also those no per-object evaluation lists (drift, live-only findings), so the
/// counts agree with every other format.
pub fn write(report: &Report, out: &mut dyn io::Write) -> io::Result<()> {
    let mut suites = String::new();
    let (mut total, mut total_failures, mut total_skipped) = (0usize, 0usize, 0usize);
    // Findings of one rule on one object (from one file), grouped once rather than searched
    // for every test case, in the order they first appear.
    let mut by_case: HashMap<CaseKey<'_>, Vec<&Finding>> = HashMap::new();
    let mut case_order: Vec<CaseKey<'_>> = Vec::new();
    for f in &report.findings {
        let key = (f.rule_id(), f.subject.to_string(), &*f.location.file);
        let entry = by_case.entry(key.clone()).or_default();
        if entry.is_empty() {
            case_order.push(key);
        }
        entry.push(f);
    }
    let mut evaluations_by_rule: Vec<Vec<&Evaluation>> = vec![Vec::new(); report.rules.len()];
    for evaluation in &report.evaluations {
        if let Some(list) = evaluations_by_rule.get_mut(evaluation.rule) {
            list.push(evaluation);
        }
    }
    let mut emitted: std::collections::HashSet<CaseKey<'_>> = std::collections::HashSet::new();
    // Suites in rule order, then any rule that has findings but no metadata.
    let mut suite_ids: Vec<(&str, &str)> = report
        .rules
        .iter()
        .map(|r| (r.id.as_ref(), r.slug.as_ref()))
        .collect();
    for (rule, _, _) in &case_order {
        if !suite_ids.iter().any(|(id, _)| id == rule) {
            suite_ids.push((rule, ""));
        }
    }
    for (suite_index, (rule_id, slug)) in suite_ids.iter().enumerate() {
        let mut cases = String::new();
        let (mut tests, mut failures, mut skipped) = (0usize, 0usize, 0usize);
        let evaluations = evaluations_by_rule
            .get(suite_index)
            .map_or(&[][..], Vec::as_slice);
        for evaluation in evaluations {
            let Some(scanned) = report.objects.get(evaluation.object) else {
                continue;
            };
            tests += 1;
            let _ = write!(
                cases,
                "    <testcase name=\"{}\" classname=\"{}\" file=\"{}\"",
                xml(&scanned.object.to_string()),
                xml(rule_id),
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
                    let key = (*rule_id, scanned.object.to_string(), scanned.file.as_str());
                    emitted.insert(key.clone());
                    let findings = by_case.get(&key).map_or(&[][..], Vec::as_slice);
                    if finding_case(&mut cases, findings) {
                        failures += 1;
                    } else {
                        skipped += 1;
                    }
                }
            }
        }
        // Findings no evaluation listed.
        for key in case_order
            .iter()
            .filter(|k| k.0 == *rule_id && !emitted.contains(*k))
        {
            let findings = &by_case[key];
            tests += 1;
            let _ = write!(
                cases,
                "    <testcase name=\"{}\" classname=\"{}\" file=\"{}\"",
                xml(&key.1.to_string()),
                xml(rule_id),
                xml(key.2)
            );
            if finding_case(&mut cases, findings) {
                failures += 1;
            } else {
                skipped += 1;
            }
        }
        if tests == 0 && suite_index >= report.rules.len() {
            continue;
        }
        total += tests;
        total_failures += failures;
        total_skipped += skipped;
        let _ = writeln!(
            suites,
            "  <testsuite name=\"{} {}\" tests=\"{tests}\" failures=\"{failures}\" errors=\"0\" skipped=\"{skipped}\">",
            xml(rule_id),
            xml(slug)
        );
        suites.push_str(&cases);
        suites.push_str("  </testsuite>\n");
    }
    let errors: Vec<_> = report
        .diagnostics
        .iter()
        .filter(|d| d.level == DiagnosticLevel::Error || d.input_not_read())
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
    let seconds = report.duration_ms as f64 / 1000.0;
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
