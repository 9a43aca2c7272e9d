//! The scan report: the one model every writer (table, JSON, SARIF, JUnit, ...) renders.
//!
//! The JSON writer serialises [`Report`] as it is; its shape is the documented, versioned
//! schema (`docs/json-report.md`). Fields a machine consumer does not need (the rule metadata and
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
    /// The rule's own evaluation failed (a policy's error), rather than lacking facts: the
    /// run reports it as a `policy-error` diagnostic, and the admission webhook treats the
    /// rule as unable to judge (`on_error`).
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub failed: bool,
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
    /// For a rule that judges each of its controls on different subjects (NODE004 judges the
    /// API server's manifest for CIS 1.1.1 and the kubelet's unit for 4.1.1): every control's
    /// own counts, which the compliance matrix reads instead of the rule's. Empty for a rule
    /// whose every evaluation counts for each of its controls.
    #[serde(skip_serializing_if = "Vec::is_empty", default)]
    pub controls: Vec<ControlCoverage>,
}

impl Coverage {
    /// The coverage of a rule that judges each of its controls of `framework` on subjects of
    /// its own (a node's files, a host's endpoints): `own` gives a control's `(evaluated,
    /// not_assessed)`, every control of the framework listed (those with nothing judged at
    /// zero, so the compliance matrix does not pass them); the rule's totals are the caller's.
    pub fn per_control(
        meta: &RuleMeta,
        framework: crate::control::Framework,
        totals: (usize, usize, usize),
        own: impl Fn(&Control) -> (usize, usize),
    ) -> Coverage {
        let (evaluated, failed, not_assessed) = totals;
        Coverage {
            rule: meta.id.to_string(),
            evaluated,
            failed,
            not_assessed,
            not_assessed_objects: Vec::new(),
            skipped: None,
            incomplete: Vec::new(),
            controls: meta
                .controls
                .iter()
                .filter(|c| c.framework == framework)
                .map(|c| {
                    let (evaluated, not_assessed) = own(c);
                    ControlCoverage {
                        control: c.clone(),
                        evaluated,
                        not_assessed,
                    }
                })
                .collect(),
        }
    }
}

/// One control's share of a rule's [`Coverage`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ControlCoverage {
    pub control: crate::Control,
    /// Subjects judged for this control.
    pub evaluated: usize,
    /// Subjects this control applies to that could not be judged.
    pub not_assessed: usize,
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
    /// Shared with the object's findings (a scan lists every object it read).
    pub object: std::sync::Arc<ObjectRef>,
    pub file: std::sync::Arc<str>,
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

/// Everything a scan produced. Built by [`ReportBuilder`], which puts the findings in their
/// order; the summary's counts are derived from the findings, diagnostics and coverage each
/// time they are asked for, so they cannot go stale when a diagnostic is added later.
#[derive(Debug, Clone)]
pub struct Report {
    pub schema_version: &'static str,
    pub tool: ToolInfo,
    pub findings: Vec<Finding>,
    pub diagnostics: Vec<Diagnostic>,
    pub coverage: Vec<Coverage>,
    /// Per-control verdicts, when the scan was asked for a framework (`--framework`).
    pub compliance: Option<Compliance>,
    /// The rules that ran, for SARIF's rule table and JUnit's suites.
    pub rules: Vec<crate::RuleRef>,
    pub objects: Vec<ScannedObject>,
    pub evaluations: Vec<Evaluation>,
    /// Files read (a rendered Kustomization or chart counts once).
    pub files: usize,
    pub duration_ms: u64,
    /// The comparison with a previous report (`--baseline`), when one was given.
    pub baseline: Option<Box<BaselineComparison>>,
    /// Audit annotations the rules made for the judged objects (a ValidatingAdmissionPolicy's
    /// `auditAnnotations`, as `policy/key`): the admission webhook returns them for the API
    /// server's audit event; no report format prints them.
    pub audit_annotations: Vec<(String, String)>,
}

/// What changed since a baseline report: its findings found again are suppressed with
/// [`crate::SuppressionSource::Baseline`]; the others are new; findings of the baseline not
/// found again are fixed.
#[derive(Debug, Clone, Default, Serialize)]
pub struct BaselineComparison {
    /// The baseline report, as given.
    pub file: String,
    /// Findings not in the baseline (unsuppressed ones decide the exit code).
    pub new: usize,
    /// Findings of the baseline found again.
    pub unchanged: usize,
    /// Findings of the baseline not found again.
    pub fixed: Vec<FixedFinding>,
}

/// A finding of the baseline report that this run did not find, as the baseline wrote it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct FixedFinding {
    pub rule: String,
    pub fingerprint: String,
    #[serde(default)]
    pub message: String,
    /// `Kind namespace/name`, or the subject's name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subject: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub file: Option<String>,
}

impl Serialize for Report {
    /// The documented JSON shape (`docs/json-report.md`); the rule metadata and the per-object
    /// evaluation list, which SARIF and JUnit use, are not part of it.
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.serialize_with(serializer, &self.findings)
    }
}

impl Report {
    /// Serialises the report in its documented shape with `findings` in place of the findings
    /// (a writer that renders a long list in parts puts a marker there).
    pub fn serialize_with<S: serde::Serializer>(
        &self,
        serializer: S,
        findings: &impl Serialize,
    ) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeStruct;
        let mut s = serializer.serialize_struct("Report", 8)?;
        s.serialize_field("schema_version", self.schema_version)?;
        s.serialize_field("tool", &self.tool)?;
        s.serialize_field("summary", &self.summary())?;
        s.serialize_field("findings", findings)?;
        s.serialize_field("diagnostics", &self.diagnostics)?;
        s.serialize_field("coverage", &self.coverage)?;
        if let Some(compliance) = &self.compliance {
            s.serialize_field("compliance", compliance)?;
        }
        if let Some(baseline) = &self.baseline {
            s.serialize_field("baseline", baseline)?;
        }
        s.end()
    }
}

impl Report {
    /// The counts of the report's header and the terminal summary.
    /// Puts findings added after the report was built in the report's order (most severe
    /// first, then by file and line).
    pub fn sort_findings(&mut self) {
        sort_by_location(&mut self.findings, None);
    }

    pub fn summary(&self) -> Summary {
        let mut findings: BTreeMap<Severity, usize> =
            Severity::ALL_DESCENDING.iter().map(|s| (*s, 0)).collect();
        let mut suppressed = 0;
        for finding in &self.findings {
            if finding.is_suppressed() {
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
        Summary {
            total: findings.values().sum(),
            findings,
            suppressed,
            diagnostics,
            not_assessed: self.coverage.iter().map(|c| c.not_assessed).sum(),
            inputs_not_read: self.inputs_not_read(),
            objects_scanned: self.objects.len(),
            files: self.files,
            duration_ms: self.duration_ms,
        }
    }

    /// Diagnostics that mean part of the input was not scanned.
    pub fn inputs_not_read(&self) -> usize {
        self.diagnostics
            .iter()
            .filter(|d| d.input_not_read())
            .count()
    }

    /// Unsuppressed findings at or above `threshold`.
    pub fn findings_at_or_above(&self, threshold: Severity) -> usize {
        self.findings
            .iter()
            .filter(|f| !f.is_suppressed() && f.severity >= threshold)
            .count()
    }

    /// Diagnostics at `level` or worse.
    pub fn diagnostics_at_or_above(&self, level: DiagnosticLevel) -> usize {
        self.diagnostics.iter().filter(|d| d.level >= level).count()
    }

    /// The verdict of a run against a `--fail-on` threshold, the one every format and the exit
    /// code agree on.
    pub fn verdict(&self, fail_on: Option<Severity>) -> Verdict {
        // SBOMs judged without manifests (`scan --sbom`) are something scanned too.
        if self.objects.is_empty() && !self.coverage.iter().any(|c| c.evaluated > 0) {
            return Verdict::NothingScanned;
        }
        if fail_on.is_some_and(|t| self.findings_at_or_above(t) > 0) {
            return Verdict::Fail;
        }
        if self.inputs_not_read() > 0 {
            return Verdict::Incomplete;
        }
        Verdict::Pass
    }

    /// The rule metadata for a finding's rule id.
    pub fn rule(&self, id: &str) -> Option<&RuleMeta> {
        self.rules.iter().find(|r| r.id == id).map(|r| &**r)
    }
}

/// The order findings are listed in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum FindingOrder {
    /// Most severe first, then by file, line and column, then rule and path: reading order
    /// for a scan of files.
    #[default]
    Location,
    /// Most severe first, then by subject and path: for reports about live objects (drift).
    Subject,
}

/// Assembles a [`Report`]: owns the finding order; the counts follow from the parts.
#[derive(Debug, Default)]
pub struct ReportBuilder {
    pub findings: Vec<Finding>,
    pub diagnostics: Vec<Diagnostic>,
    pub coverage: Vec<Coverage>,
    pub rules: Vec<crate::RuleRef>,
    pub objects: Vec<ScannedObject>,
    pub evaluations: Vec<Evaluation>,
    pub files: usize,
    pub order: FindingOrder,
    /// Each finding's place in the order they were found in, which breaks ties in the sort;
    /// `None` when that is their order in `findings`.
    pub ranks: Option<Vec<u32>>,
}

impl ReportBuilder {
    pub fn build(self, duration: std::time::Duration) -> Report {
        let mut findings = self.findings;
        match self.order {
            FindingOrder::Location => sort_by_location(&mut findings, self.ranks.as_deref()),
            FindingOrder::Subject => {
                if let Some(ranks) = self.ranks {
                    // Found order first: the sort below is stable.
                    permute(&mut findings, inverse(&ranks));
                }
                findings.sort_by(|a, b| {
                    b.severity
                        .cmp(&a.severity)
                        .then_with(|| a.object().cmp(&b.object()))
                        .then_with(|| a.subject.identity_key().cmp(&b.subject.identity_key()))
                        .then_with(|| a.location.path.cmp(&b.location.path))
                })
            }
        }
        Report {
            schema_version: SCHEMA_VERSION,
            tool: ToolInfo {
                name: "palisade".into(),
                version: env!("CARGO_PKG_VERSION").into(),
            },
            findings,
            diagnostics: self.diagnostics,
            coverage: self.coverage,
            compliance: None,
            rules: self.rules,
            objects: self.objects,
            evaluations: self.evaluations,
            files: self.files,
            duration_ms: u64::try_from(duration.as_millis()).unwrap_or(u64::MAX),
            baseline: None,
            audit_annotations: Vec::new(),
        }
    }
}

/// Sorts most severe first, then by file, line and column, then rule id and path, then by
/// rank (each finding's place in the order found; their index without ranks).
/// Sorts a permutation and applies it in place, so millions of findings are not copied.
fn sort_by_location(findings: &mut [Finding], ranks: Option<&[u32]>) {
    let files = Ranks::of(findings.iter().map(|f| &*f.location.file));
    let rules = Ranks::of(findings.iter().map(Finding::rule_id));
    /// Severity (most severe first), file rank, line and column (0 when unknown, which sorts
    /// first as `None` does), rule rank, and the finding's index: 24 bytes, as there are
    /// millions of keys (the sort holds one copy of them and merges its halves into the
    /// positions). Four billion findings would not fit in memory, so an index fits in 32 bits.
    type Key = (std::cmp::Reverse<Severity>, u32, u32, u32, u32, u32);
    let narrow = |n: usize| u32::try_from(n).unwrap_or(u32::MAX);
    let position = |p: Option<u32>| p.map_or(0, |p| p.saturating_add(1));
    let mut order: Vec<Key> = findings
        .iter()
        .enumerate()
        .map(|(i, f)| {
            (
                std::cmp::Reverse(f.severity),
                narrow(files.rank(&f.location.file)),
                position(f.location.line),
                position(f.location.column),
                narrow(rules.rank(f.rule_id())),
                narrow(i),
            )
        })
        .collect();
    let compare = |a: &Key, b: &Key| {
        (a.0, a.1, a.2, a.3, a.4)
            .cmp(&(b.0, b.1, b.2, b.3, b.4))
            .then_with(|| {
                findings[a.5 as usize]
                    .location
                    .path
                    .cmp(&findings[b.5 as usize].location.path)
            })
            .then_with(|| match ranks {
                Some(ranks) => ranks[a.5 as usize].cmp(&ranks[b.5 as usize]),
                None => a.5.cmp(&b.5),
            })
    };
    let order = sorted_on_all_cores(&mut order, &compare, |key| key.5);
    drop((files, rules));
    permute(findings, order);
}

/// Each distinct name's place among them sorted, so comparing ranks orders as comparing the
/// names. Millions of findings share a few names (a file's path, a rule's id), held once
/// each: a name is looked up by where its text is (a hash of two words), and its text is
/// read only the first time that place is seen.
struct Ranks {
    by_place: std::collections::HashMap<(usize, usize), usize, PlaceHasher>,
}

/// Places are addresses, not chosen by whoever wrote the input.
type PlaceHasher = std::hash::BuildHasherDefault<crate::fingerprint::Fnv>;

impl Ranks {
    fn of<'f>(names: impl Iterator<Item = &'f str>) -> Ranks {
        let mut places: std::collections::HashMap<(usize, usize), &str, PlaceHasher> =
            std::collections::HashMap::default();
        for name in names {
            places.entry(place(name)).or_insert(name);
        }
        let mut sorted: Vec<&str> = places.values().copied().collect();
        sorted.sort_unstable();
        sorted.dedup();
        let by_place = places
            .into_iter()
            .map(|(at, name)| (at, sorted.binary_search(&name).unwrap_or(usize::MAX)))
            .collect();
        Ranks { by_place }
    }

    /// The rank of a name given to [`Ranks::of`].
    fn rank(&self, name: &str) -> usize {
        self.by_place
            .get(&place(name))
            .copied()
            .unwrap_or(usize::MAX)
    }
}

/// Where a name's text is: its address and length.
fn place(name: &str) -> (usize, usize) {
    (name.as_ptr() as usize, name.len())
}

/// Sorts `items` (whose order under `compare` is total) with its halves sorted on two cores,
/// when it is long enough to be worth a thread, and returns `take` of each item in sorted
/// order. The halves are merged into the taken values rather than into a copy of the items,
/// so sorting millions of keys holds one copy of them.
fn sorted_on_all_cores<T: Send, R>(
    items: &mut [T],
    compare: &(dyn Fn(&T, &T) -> std::cmp::Ordering + Sync),
    take: impl Fn(&T) -> R,
) -> Vec<R> {
    const ALONE: usize = 1 << 16;
    let cores = crate::parallel::cores();
    if items.len() < ALONE || cores < 2 {
        items.sort_unstable_by(compare);
        return items.iter().map(take).collect();
    }
    let middle = items.len() / 2;
    let (left, right) = items.split_at_mut(middle);
    std::thread::scope(|scope| {
        scope.spawn(|| left.sort_unstable_by(compare));
        right.sort_unstable_by(compare);
    });
    let mut merged = Vec::with_capacity(items.len());
    let (mut l, mut r) = (0, middle);
    while l < middle && r < items.len() {
        if compare(&items[r], &items[l]) == std::cmp::Ordering::Less {
            merged.push(take(&items[r]));
            r += 1;
        } else {
            merged.push(take(&items[l]));
            l += 1;
        }
    }
    merged.extend(items[l..middle].iter().map(&take));
    merged.extend(items[r..].iter().map(&take));
    merged
}

/// Reorders `items` so that position `i` holds what was at `order[i]`, by following cycles:
/// in place, so millions of large items are not copied (`order` must be a permutation).
/// Positions are 32-bit, half the memory of `usize` on millions of items: four billion
/// findings would not fit in memory.
pub fn permute<T>(items: &mut [T], order: Vec<u32>) {
    assert_eq!(items.len(), order.len(), "an order for every item");
    permute_by(order, |a, b| items.swap(a, b));
}

/// The inverse of the permutation `order`: where each position's item goes, for the order
/// that says where each position's item comes from (and the other way round).
pub fn inverse(order: &[u32]) -> Vec<u32> {
    let mut inverse = vec![0; order.len()];
    for (at, &from) in (0..).zip(order) {
        inverse[from as usize] = at;
    }
    inverse
}

/// [`permute`] for lists kept side by side: `swap` exchanges two positions in each of them.
pub fn permute_by(mut order: Vec<u32>, mut swap: impl FnMut(usize, usize)) {
    assert!(
        u32::try_from(order.len()).is_ok(),
        "more than 2^32 items to permute"
    );
    for start in 0..order.len() {
        let mut current = start;
        while order[current] as usize != start {
            let next = order[current] as usize;
            swap(current, next);
            order[current] = current as u32;
            current = next;
        }
        order[current] = current as u32;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Findings equal in every key but their message come out in the order of their ranks
    /// (the order they were found in), in either finding order.
    #[test]
    fn ranks_break_ties() {
        static META: std::sync::LazyLock<crate::RuleMeta> =
            std::sync::LazyLock::new(|| crate::RuleMeta {
                id: "T001".into(),
                slug: "t".into(),
                title: "t".into(),
                severity: Severity::Low,
                controls: std::borrow::Cow::Owned(vec![]),
                remediation: "".into(),
                docs: "".into(),
            });
        let finding = |message: &str| {
            let subject = crate::Subject::File("f.yaml".into());
            Finding::new(&*META, subject, crate::Location::file("f.yaml"), message)
        };
        for order in [FindingOrder::Location, FindingOrder::Subject] {
            let messages = |ranks: Option<Vec<u32>>| -> Vec<String> {
                let builder = ReportBuilder {
                    findings: ["a", "b", "c"].map(finding).into(),
                    order,
                    ranks,
                    ..ReportBuilder::default()
                };
                let report = builder.build(std::time::Duration::ZERO);
                report
                    .findings
                    .iter()
                    .map(|f| f.message.to_string())
                    .collect()
            };
            assert_eq!(messages(None), ["a", "b", "c"], "{order:?}");
            assert_eq!(messages(Some(vec![2, 0, 1])), ["b", "c", "a"], "{order:?}");
        }
    }

    /// Sorting on two cores gives the order of one sort, at the sizes around the split and
    /// with many equal keys.
    #[test]
    fn sorting_on_all_cores_agrees_with_one_sort() {
        for len in [0, 1, 1 << 16, (1 << 16) + 1, 200_003] {
            let mut state = 0x9e37_79b9_7f4a_7c15u64 ^ len as u64;
            let items: Vec<(u16, usize)> = (0..len)
                .map(|i| {
                    state ^= state << 13;
                    state ^= state >> 7;
                    state ^= state << 17;
                    (u16::try_from(state % 97).unwrap(), i)
                })
                .collect();
            let mut expected = items.clone();
            expected.sort();
            let mut keys = items;
            let sorted = sorted_on_all_cores(
                &mut keys,
                &|a: &(u16, usize), b: &(u16, usize)| a.cmp(b),
                |k| *k,
            );
            assert_eq!(sorted, expected, "{len}");
        }
    }

    #[test]
    fn inverse_undoes_a_permutation() {
        let order = [2, 0, 3, 1];
        assert_eq!(inverse(&order), [1, 3, 0, 2]);
        assert_eq!(inverse(&inverse(&order)), order);
        assert!(inverse(&[]).is_empty());
    }

    #[test]
    fn permute_moves_every_item_to_its_place() {
        let mut items = vec!['a', 'b', 'c', 'd', 'e', 'f'];
        // Two cycles and a fixed point.
        permute(&mut items, vec![2, 0, 1, 3, 5, 4]);
        assert_eq!(items, vec!['c', 'a', 'b', 'd', 'f', 'e']);
        let mut empty: Vec<u8> = Vec::new();
        permute(&mut empty, Vec::new());
    }

    #[test]
    fn lists_kept_side_by_side_are_permuted_alike() {
        let mut letters = vec!['a', 'b', 'c', 'd'];
        let mut numbers = vec![0, 1, 2, 3];
        permute_by(vec![3, 1, 0, 2], |a, b| {
            letters.swap(a, b);
            numbers.swap(a, b);
        });
        assert_eq!(letters, ['d', 'b', 'a', 'c']);
        assert_eq!(numbers, [3, 1, 0, 2]);
    }

    proptest::proptest! {
        #[test]
        fn permute_agrees_with_indexing(seed in proptest::collection::vec(0u32..1000, 0..60)) {
            let mut order: Vec<u32> = (0..seed.len() as u32).collect();
            order.sort_by_key(|&i| (seed[i as usize], i));
            let expected: Vec<u32> = order.iter().map(|&i| seed[i as usize]).collect();
            let mut items = seed.clone();
            permute(&mut items, order);
            proptest::prop_assert_eq!(items, expected);
        }
    }
}
