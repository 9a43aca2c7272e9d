//! The scan report: the one model every writer (table, JSON, SARIF, JUnit, ...) renders.
//!
//! The JSON writer serialises [`Report`] as it is; its shape is the documented, versioned
//! schema (`docs/json-schema.md`). Fields a machine consumer does not need (the rule metadata and
//! the per-object evaluation list, which SARIF and JUnit use) are skipped in JSON.

use std::collections::BTreeMap;

use serde::Serialize;

use crate::{Control, Diagnostic, DiagnosticLevel, Finding, ObjectRef, RuleMeta, Severity};

/// The version of the JSON report schema. Bump the major part on breaking changes.
pub const SCHEMA_VERSION: &str = "1.0";

/// Name and version of the tool that produced a report.
#[derive(Debug, Clone, Serialize)]
pub struct ToolInfo {
    pub name: String,
    pub version: String,
}

/// Counts for the report's header and the terminal summary.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Summary {
    /// Unsuppressed findings by severity; every severity is present.
    pub findings: BTreeMap<Severity, usize>,
    /// Unsuppressed findings in all.
    pub total: usize,
    /// Findings accepted by a suppression (still listed in `findings`).
    pub suppressed: usize,
    /// Diagnostics by level; every level is present.
    pub diagnostics: BTreeMap<DiagnosticLevel, usize>,
    /// Rule × object evaluations that could not be made (see `coverage`).
    pub not_assessed: usize,
    /// Diagnostics that mean part of the input was not scanned (unreadable or unparsable
    /// files, unrendered charts, types a cluster would not list). When non-zero the run is
    /// incomplete: no output calls it a pass.
    pub inputs_not_read: usize,
    pub objects_scanned: usize,
    pub files: usize,
    pub duration_ms: u64,
}

/// An object a rule could not evaluate, and why.
#[derive(Debug, Clone, Serialize)]
pub struct NotAssessed {
    pub object: ObjectRef,
    pub reason: String,
}

/// How much of the inventory one rule evaluated.
#[derive(Debug, Clone, Serialize)]
pub struct Coverage {
    pub rule: String,
    /// Objects the rule applies to and evaluated (with or without findings).
    pub evaluated: usize,
    /// Objects with at least one finding of this rule.
    pub failed: usize,
    /// Objects the rule applies to but could not evaluate.
    pub not_assessed: usize,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub not_assessed_objects: Vec<NotAssessed>,
    /// Why the rule did not run at all (it needs settings that were not given).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub skipped: Option<String>,
    /// Types the rule depends on that a cluster scan could not list: its passes are not
    /// proof (`could not list secrets: forbidden (...)`).
    #[serde(skip_serializing_if = "Vec::is_empty", default)]
    pub incomplete: Vec<String>,
}

/// The verdict of one rule on one object.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    Pass,
    /// The rule found something; the findings are in [`Report::findings`].
    Fail,
    NotAssessed(String),
}

/// One rule applied to one object, for formats that list every check (JUnit).
#[derive(Debug, Clone)]
pub struct Evaluation {
    /// Index into [`Report::rules`].
    pub rule: usize,
    /// Index into [`Report::objects`].
    pub object: usize,
    pub outcome: Outcome,
}

/// An object that was scanned, and the file it came from.
#[derive(Debug, Clone, Serialize)]
pub struct ScannedObject {
    pub object: ObjectRef,
    pub file: String,
}

/// The verdict on one control of a framework.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ComplianceStatus {
    /// Rules cover the control and found nothing (unsuppressed) on the objects they evaluated.
    Pass,
    /// At least one unsuppressed finding of a covering rule.
    Fail,
    /// No finding, but some objects could not be assessed by a covering rule: no verdict.
    NotAssessed,
    /// Rules cover the control but no scanned object was in their scope.
    NotApplicable,
    /// The control cannot be decided from Kubernetes objects; check it by hand.
    Manual,
    /// No Palisade rule covers the control yet.
    NotCovered,
}

impl ComplianceStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            ComplianceStatus::Pass => "pass",
            ComplianceStatus::Fail => "fail",
            ComplianceStatus::NotAssessed => "not_assessed",
            ComplianceStatus::NotApplicable => "not_applicable",
            ComplianceStatus::Manual => "manual",
            ComplianceStatus::NotCovered => "not_covered",
        }
    }
}

/// One control's verdict and the evidence for it.
#[derive(Debug, Clone, Serialize)]
pub struct ControlResult {
    /// `cis-k8s-1.12:5.2.2` and friends.
    pub control: Control,
    pub title: &'static str,
    pub status: ComplianceStatus,
    /// Ids of the rules that cover it.
    pub rules: Vec<String>,
    /// Unsuppressed findings of those rules.
    pub findings: usize,
    /// Objects those rules evaluated.
    pub evaluated: usize,
    /// Objects those rules could not assess.
    pub not_assessed: usize,
    /// Why the control is manual, when it is.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<&'static str>,
}

/// A framework's controls and their verdicts for one scan.
#[derive(Debug, Clone, Serialize)]
pub struct Compliance {
    /// The `--framework` selection (`cis-k8s-1.12`, `pss-restricted`, ...).
    pub framework: &'static str,
    pub title: &'static str,
    pub controls: Vec<ControlResult>,
}

/// What a run amounts to, for a gate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// Nothing at or above the threshold, and every input was read.
    Pass,
    /// Findings at or above the threshold.
    Fail,
    /// No finding at or above the threshold in what was read, but some input was not read.
    Incomplete,
    /// No object was scanned at all.
    NothingScanned,
}

/// Everything a scan produced.
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    pub schema_version: &'static str,
    pub tool: ToolInfo,
    pub summary: Summary,
    pub findings: Vec<Finding>,
    pub diagnostics: Vec<Diagnostic>,
    pub coverage: Vec<Coverage>,
    /// Per-control verdicts, when the scan was asked for a framework (`--framework`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub compliance: Option<Compliance>,
    /// The rules that ran, for SARIF's rule table and JUnit's suites.
    #[serde(skip)]
    pub rules: Vec<RuleMeta>,
    #[serde(skip)]
    pub objects: Vec<ScannedObject>,
    #[serde(skip)]
    pub evaluations: Vec<Evaluation>,
}

impl Report {
    /// Recomputes [`Report::summary`]'s counts from findings, diagnostics and coverage.
    /// `files` and `duration_ms` are left as they are.
    pub fn recount(&mut self) {
        let mut findings: BTreeMap<Severity, usize> =
            Severity::ALL_DESCENDING.iter().map(|s| (*s, 0)).collect();
        let mut suppressed = 0;
        for finding in &self.findings {
            if finding.suppressed.is_some() {
                suppressed += 1;
            } else {
                *findings.entry(finding.severity).or_default() += 1;
            }
        }
        let mut diagnostics: BTreeMap<DiagnosticLevel, usize> = [
            DiagnosticLevel::Error,
            DiagnosticLevel::Warning,
            DiagnosticLevel::Info,
        ]
        .into_iter()
        .map(|l| (l, 0))
        .collect();
        for diagnostic in &self.diagnostics {
            *diagnostics.entry(diagnostic.level).or_default() += 1;
        }
        self.summary.total = findings.values().sum();
        self.summary.findings = findings;
        self.summary.suppressed = suppressed;
        self.summary.diagnostics = diagnostics;
        self.summary.not_assessed = self.coverage.iter().map(|c| c.not_assessed).sum();
        self.summary.inputs_not_read = self
            .diagnostics
            .iter()
            .filter(|d| d.input_not_read())
            .count();
        self.summary.objects_scanned = self.objects.len();
    }

    /// Unsuppressed findings at or above `threshold`.
    pub fn findings_at_or_above(&self, threshold: Severity) -> usize {
        self.findings
            .iter()
            .filter(|f| f.suppressed.is_none() && f.severity >= threshold)
            .count()
    }

    /// Diagnostics at `level` or worse.
    pub fn diagnostics_at_or_above(&self, level: DiagnosticLevel) -> usize {
        self.diagnostics.iter().filter(|d| d.level >= level).count()
    }

    /// The verdict of a run against a `--fail-on` threshold, the one every format and the exit
    /// code agree on.
    pub fn verdict(&self, fail_on: Option<Severity>) -> Verdict {
        if self.objects.is_empty() {
            return Verdict::NothingScanned;
        }
        if fail_on.is_some_and(|t| self.findings_at_or_above(t) > 0) {
            return Verdict::Fail;
        }
        if self.summary.inputs_not_read > 0 {
            return Verdict::Incomplete;
        }
        Verdict::Pass
    }

    /// The rule metadata for a finding's rule id.
    pub fn rule(&self, id: &str) -> Option<&RuleMeta> {
        self.rules.iter().find(|r| r.id == id)
    }
}
