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
    let open: Vec<_> = findings
        .iter()
        .filter(|f| f.suppressed().is_none())
        .collect();
    if open.is_empty() {
        let reason = findings
            .iter()
            .find_map(|f| f.suppressed().map(|s| s.reason.clone()))
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

/// What the test cases are made of: the findings of each case, in the order they first
/// appear, and each rule's evaluations.
struct Cases<'r> {
    report: &'r Report,
    by_case: HashMap<CaseKey<'r>, Vec<&'r Finding>>,
    case_order: Vec<CaseKey<'r>>,
    /// Each rule's cases, as indices into `case_order`.
    cases_of_rule: HashMap<&'r str, Vec<usize>>,
    evaluations_by_rule: Vec<Vec<&'r Evaluation>>,
}

/// A suite's counts.
#[derive(Default, Clone, Copy)]
struct Counts {
    tests: usize,
    failures: usize,
    skipped: usize,
}

impl<'r> Cases<'r> {
    fn new(report: &'r Report) -> Self {
        // Findings of one rule on one object (from one file), grouped once rather than
        // searched for every test case, in the order they first appear.
        let mut by_case: HashMap<CaseKey<'r>, Vec<&'r Finding>> = HashMap::new();
        let mut case_order: Vec<CaseKey<'r>> = Vec::new();
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
        let mut cases_of_rule: HashMap<&str, Vec<usize>> = HashMap::new();
        for (i, key) in case_order.iter().enumerate() {
            cases_of_rule.entry(key.0).or_default().push(i);
        }
        Cases {
            report,
            by_case,
            case_order,
            cases_of_rule,
            evaluations_by_rule,
        }
    }

    /// Suites in rule order, then any rule that has findings but no metadata.
    fn suite_ids(&self) -> Vec<(&'r str, &'r str)> {
        let mut suite_ids: Vec<(&str, &str)> = self
            .report
            .rules
            .iter()
            .map(|r| (r.id.as_ref(), r.slug.as_ref()))
            .collect();
        for (rule, _, _) in &self.case_order {
            if !suite_ids.iter().any(|(id, _)| id == rule) {
                suite_ids.push((rule, ""));
            }
        }
        suite_ids
    }

    /// The suite's counts and, when `cases` is given, its test cases written to it.
    fn suite(&self, suite_index: usize, rule_id: &str, mut cases: Option<&mut String>) -> Counts {
        let report = self.report;
        let mut counts = Counts::default();
        let mut emitted: std::collections::HashSet<CaseKey<'_>> = std::collections::HashSet::new();
        // A test case of findings: failed, or skipped when all of them are suppressed.
        let finding_case_of =
            |counts: &mut Counts, cases: &mut Option<&mut String>, findings: &[&Finding]| {
                let failed = match cases {
                    Some(cases) => finding_case(cases, findings),
                    None => findings.iter().any(|f| f.suppressed().is_none()),
                };
                if failed {
                    counts.failures += 1;
                } else {
                    counts.skipped += 1;
                }
            };
        let evaluations = self
            .evaluations_by_rule
            .get(suite_index)
            .map_or(&[][..], Vec::as_slice);
        for evaluation in evaluations {
            let Some(scanned) = report.objects.get(evaluation.object) else {
                continue;
            };
            counts.tests += 1;
            if let Some(cases) = cases.as_deref_mut() {
                let _ = write!(
                    cases,
                    "    <testcase name=\"{}\" classname=\"{}\" file=\"{}\"",
                    xml(&scanned.object.to_string()),
                    xml(rule_id),
                    xml(&scanned.file)
                );
            }
            match &evaluation.outcome {
                Outcome::Pass => {
                    if let Some(cases) = cases.as_deref_mut() {
                        cases.push_str("/>\n");
                    }
                }
                Outcome::NotAssessed(reason) => {
                    counts.skipped += 1;
                    if let Some(cases) = cases.as_deref_mut() {
                        let _ = writeln!(
                            cases,
                            ">\n      <skipped message=\"not assessed: {}\"/>\n    </testcase>",
                            xml(reason)
                        );
                    }
                }
                Outcome::Fail => {
                    let key = (rule_id, scanned.object.to_string(), &*scanned.file);
                    let findings = self.by_case.get(&key).map_or(&[][..], Vec::as_slice);
                    emitted.insert(key);
                    finding_case_of(&mut counts, &mut cases, findings);
                }
            }
        }
        // Findings no evaluation listed.
        for key in self
            .cases_of_rule
            .get(rule_id)
            .into_iter()
            .flatten()
            .map(|&i| &self.case_order[i])
            .filter(|k| !emitted.contains(*k))
        {
            let findings = &self.by_case[key];
            counts.tests += 1;
            if let Some(cases) = cases.as_deref_mut() {
                let _ = write!(
                    cases,
                    "    <testcase name=\"{}\" classname=\"{}\" file=\"{}\"",
                    xml(&key.1.to_string()),
                    xml(rule_id),
                    xml(key.2)
                );
            }
            finding_case_of(&mut counts, &mut cases, findings);
        }
        counts
    }
}

/// Writes the JUnit XML document. Every finding is a failed (or, when suppressed, skipped)
/// test case, also those no per-object evaluation lists (drift, live-only findings), so the
/// counts agree with every other format. The totals the document starts with are counted
/// first; then each suite is written as it is made, so a report of millions of test cases is
/// never held as one text.
pub fn write(report: &Report, out: &mut dyn io::Write) -> io::Result<()> {
    let cases = Cases::new(report);
    let suite_ids = cases.suite_ids();
    let counts: Vec<Counts> = suite_ids
        .iter()
        .enumerate()
        .map(|(i, (rule_id, _))| cases.suite(i, rule_id, None))
        .collect();
    let shown = |i: usize, counts: &Counts| counts.tests > 0 || i < report.rules.len();
    let (mut total, mut total_failures, mut total_skipped) = (0usize, 0usize, 0usize);
    for (_, c) in counts.iter().enumerate().filter(|(i, c)| shown(*i, c)) {
        total += c.tests;
        total_failures += c.failures;
        total_skipped += c.skipped;
    }
    let errors: Vec<_> = report
        .diagnostics
        .iter()
        .filter(|d| d.level == DiagnosticLevel::Error || d.input_not_read())
        .collect();
    let seconds = report.duration_ms as f64 / 1000.0;
    write!(
        out,
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuites name=\"palisade\" tests=\"{}\" failures=\"{total_failures}\" errors=\"{}\" skipped=\"{total_skipped}\" time=\"{seconds:.3}\">\n",
        total + errors.len(),
        errors.len()
    )?;
    for (suite_index, ((rule_id, slug), counts)) in suite_ids.iter().zip(&counts).enumerate() {
        if !shown(suite_index, counts) {
            continue;
        }
        let mut text = String::new();
        cases.suite(suite_index, rule_id, Some(&mut text));
        let Counts {
            tests,
            failures,
            skipped,
        } = *counts;
        write!(
            out,
            "  <testsuite name=\"{} {}\" tests=\"{tests}\" failures=\"{failures}\" errors=\"0\" skipped=\"{skipped}\">\n{text}  </testsuite>\n",
            xml(rule_id),
            xml(slug)
        )?;
    }
    if !errors.is_empty() {
        let mut suite = String::new();
        let _ = writeln!(
            suite,
            "  <testsuite name=\"palisade input\" tests=\"{0}\" failures=\"0\" errors=\"{0}\" skipped=\"0\">",
            errors.len()
        );
        for d in &errors {
            let _ = writeln!(
                suite,
                "    <testcase name=\"{}\" classname=\"palisade.{}\">\n      <error message=\"{}\" type=\"{}\"/>\n    </testcase>",
                xml(&d.location()),
                xml(d.code),
                xml(&d.message),
                xml(d.code)
            );
        }
        suite.push_str("  </testsuite>\n");
        out.write_all(suite.as_bytes())?;
    }
    out.write_all(b"</testsuites>\n")
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
