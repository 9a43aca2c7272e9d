//! `palisade fix`: the hardening additions that resolve open findings, written into the
//! manifest files the findings were found in, and proven by scanning again.
//!
//! Only findings that are open (not suppressed, of rules the run evaluates) are fixed, each by
//! the addition its rule names ([`palisade_fix::Field::rule`]), so a suppression with a
//! reason keeps its field as the author wrote it. A file is offered only when its edited text
//! reads back as its objects with their additions ([`palisade_fix::fix_text`]) and a scan of
//! every input with the edited files in place finds each targeted finding gone and nothing
//! that was not there before; otherwise the file is left as it is, with the reason.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::Arc;

use palisade_core::redact::Redactor;
use palisade_core::{Diagnostic, Finding, Fingerprint, JsonPointer, ObjectRef, Subject};
use palisade_fix::{Addition, Field, Hardening};
use palisade_inventory::Input;

use crate::scan::{ScanOptions, scan_inventory};

mod candidate;
mod chart;
mod overlay;
mod settle;

/// What `palisade fix` is asked to do.
#[derive(Debug, Clone)]
pub struct FixOptions {
    /// How the inputs are read and judged (rules, `palisade.toml`).
    pub scan: ScanOptions,
    pub hardening: Hardening,
    /// The additions asked for (every one by default).
    pub fields: Vec<Field>,
}

/// One file and what fixing it changes.
#[derive(Debug, Clone)]
pub struct FixedFile {
    pub path: Arc<str>,
    pub original: String,
    pub fixed: String,
    /// The edits that make `fixed` from `original` (byte ranges of the original).
    pub edits: Vec<palisade_core::Edit>,
    /// Each object changed, with its additions in order.
    pub changes: Vec<(Arc<ObjectRef>, Vec<Addition>)>,
    /// The findings the edits resolve, by rule id.
    pub resolved: BTreeMap<&'static str, usize>,
    /// A file the fix creates (a Kustomize overlay's patch): `original` is empty, and the
    /// file must not exist when it is written.
    pub created: bool,
    /// Files that must be written before this one (the patches a kustomization names).
    pub needs: Vec<Arc<str>>,
}

/// A source with findings an addition would resolve that is left as it is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NotFixed {
    pub path: Arc<str>,
    pub reason: String,
    /// The open findings in it that the additions asked for address.
    pub findings: usize,
}

/// What a fix run found and would change.
#[derive(Debug)]
pub struct FixRun {
    pub files: Vec<FixedFile>,
    pub not_fixed: Vec<NotFixed>,
    /// The load's diagnostics.
    pub diagnostics: Vec<Diagnostic>,
    /// Some input could not be read: what it holds was neither judged nor fixed.
    pub incomplete: bool,
    /// Open findings before the fixes, and after them (every rule).
    pub open_before: usize,
    pub open_after: usize,
    /// Open findings of the rules asked for that are left after the fixes, by rule: no
    /// addition resolves them without a choice the manifest does not show (whether the image
    /// runs as root), or their file was not fixed.
    pub left: BTreeMap<&'static str, usize>,
    /// The redaction boundary for printing anything read from the inputs.
    pub redactor: Redactor,
}

/// The open findings of the rules of `fields`, by rule.
fn left(open: &[&Finding], fields: &[Field]) -> BTreeMap<&'static str, usize> {
    let mut out = BTreeMap::new();
    for finding in open {
        if let Some(field) = fields.iter().find(|f| f.rule() == finding.rule.id) {
            *out.entry(field.rule()).or_insert(0) += 1;
        }
    }
    out
}

/// An open finding an addition addresses.
#[derive(Debug, Clone)]
pub(crate) struct Target {
    field: Field,
    path: JsonPointer,
    fingerprint: Fingerprint,
}

type Targets = HashMap<(Arc<str>, ObjectRef), Vec<Target>>;

/// A finding by its file and fingerprint: copies of one object in two files have findings
/// with one fingerprint, and fixing one copy does not fix the other.
type Placed = (Arc<str>, Fingerprint);

fn placed(finding: &Finding) -> Placed {
    (Arc::clone(&finding.location.file), finding.fingerprint())
}

/// Loads `inputs`, finds the open findings the additions asked for resolve, and makes the
/// edits that resolve them, checked by scanning again. Writes nothing.
pub fn fix(inputs: &[Input], options: &FixOptions) -> FixRun {
    let loaded = palisade_inventory::load(inputs, &options.scan.load);
    let inventory = loaded.inventory;
    // What is kept of the first scan: the targets and the open findings' places (the report
    // itself is dropped before the second scan).
    let (targets, before_open, open_before, left_before) = {
        let before = scan_inventory(&inventory, &options.scan);
        let open: Vec<&Finding> = before
            .findings
            .iter()
            .filter(|f| !f.is_suppressed())
            .collect();
        let placed: HashSet<Placed> = open.iter().map(|f| placed(f)).collect();
        let found = targets(&open, &options.fields);
        (found, placed, open.len(), left(&open, &options.fields))
    };
    let mut run = FixRun {
        files: Vec::new(),
        not_fixed: Vec::new(),
        incomplete: loaded.diagnostics.iter().any(Diagnostic::input_not_read),
        diagnostics: loaded.diagnostics,
        open_before,
        open_after: open_before,
        left: left_before,
        redactor: Redactor::none(),
    };
    let candidates = candidate::gather(&inventory, &targets, options, &mut run);
    run.redactor = redactor_for(&inventory, &candidates, options);
    settle::settle(&inventory, candidates, &before_open, options, &mut run);
    run
}

/// The redaction boundary for what the run prints: the inputs' objects, and the values files
/// of the charts and the kustomizations of the overlays it edits, read as objects of no known
/// kind (every string in them but the ones printed anyway), since a diff shows their lines
/// beside the edit and a value no template renders (or a generator's literal) is in no object
/// as written.
fn redactor_for(
    inventory: &palisade_inventory::Inventory,
    candidates: &[(usize, candidate::FixFile)],
    options: &FixOptions,
) -> Redactor {
    let mut sensitive = crate::scan::sensitive(&[inventory]);
    // A kustomization holds values no object shows as written (a generator's literals).
    let edited = |f: &candidate::FixFile| f.chart.is_some() || f.overlay.is_some();
    for (_, file) in candidates.iter().filter(|(_, f)| edited(f)) {
        let stream =
            palisade_inventory::yaml::parse_stream(&file.original, &options.scan.load.limits);
        for document in &stream.documents {
            sensitive.add_object(&document.value);
        }
    }
    sensitive.redactor()
}

/// The open findings each object has that an asked-for addition addresses, by file and object.
fn targets(open: &[&Finding], fields: &[Field]) -> Targets {
    let mut out: Targets = HashMap::new();
    for finding in open {
        let Subject::Object(id) = &finding.subject else {
            continue;
        };
        let Some(field) = fields.iter().find(|f| f.rule() == finding.rule.id) else {
            continue;
        };
        out.entry((Arc::clone(&finding.location.file), (**id).clone()))
            .or_default()
            .push(Target {
                field: *field,
                path: finding.location.path.clone(),
                fingerprint: finding.fingerprint(),
            });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::candidate::FixFile;
    use super::*;
    use serde_json::json;

    fn finding(rule: &str, file: &str, object: &ObjectRef, path: &str) -> Finding {
        let meta = palisade_rules::RuleSet::builtin()
            .find(rule)
            .cloned()
            .expect("a built-in rule");
        let mut location = palisade_core::Location::file(file);
        location.path = JsonPointer::parse(path).unwrap();
        Finding::new(
            Arc::new(meta),
            Subject::Object(Arc::new(object.clone())),
            location,
            "m",
        )
    }

    fn web() -> ObjectRef {
        palisade_inventory::object::object_ref(&json!({
            "apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": {"name": "web", "namespace": "shop"}}))
        .unwrap()
    }

    /// A candidate for `file` adding `allowPrivilegeEscalation: false` to container 0 of
    /// the object of `target`; for a chart's values when `chart` names its directory.
    fn candidate(file: &str, target: &Finding, chart: Option<&str>) -> (usize, FixFile) {
        let addition = Addition {
            at: JsonPointer::parse("/spec/template/spec/containers/0/securityContext").unwrap(),
            key: "allowPrivilegeEscalation".into(),
            value: serde_json::json!(false),
            fields: vec![Field::NoPrivilegeEscalation],
            holder: JsonPointer::parse("/spec/template/spec/containers/0").unwrap(),
            holder_name: "container \"app\"".into(),
        };
        let object = Arc::new(web());
        let found = targets(&[target], &Field::ALL);
        let list: Vec<(Arc<str>, &Target)> = found
            .iter()
            .flat_map(|((f, _), l)| l.iter().map(|t| (Arc::clone(f), t)))
            .collect();
        let addressed = candidate::addressed(&object, &list, std::slice::from_ref(&addition));
        let fix = palisade_fix::FileFix {
            fixed: String::new(),
            edits: Vec::new(),
            changes: vec![(object, vec![addition])],
        };
        let file = FixFile {
            findings: 1,
            chart: chart.map(Arc::from),
            ..FixFile::new(file.into(), String::new(), fix, addressed)
        };
        (0, file)
    }

    fn check(
        candidates: &[(usize, FixFile)],
        before: &HashSet<Placed>,
        after: &[&Finding],
    ) -> HashMap<usize, String> {
        let after: Vec<(Placed, &Finding)> = after.iter().map(|f| (placed(f), *f)).collect();
        let placed_set: HashSet<Placed> = after.iter().map(|(p, _)| p.clone()).collect();
        settle::check(candidates, before, &after, &placed_set)
    }

    const ESCALATION: &str =
        "/spec/template/spec/containers/0/securityContext/allowPrivilegeEscalation";

    #[test]
    fn a_fix_is_refused_when_its_finding_stays_or_a_new_one_appears() {
        let before = finding("POD002", "a.yaml", &web(), ESCALATION);
        let before_set: HashSet<Placed> = [placed(&before)].into();
        let candidates = [candidate("a.yaml", &before, None)];
        // Gone, nothing new: accepted.
        assert!(check(&candidates, &before_set, &[]).is_empty());
        // Still there: refused.
        let refused = check(&candidates, &before_set, &[&before]);
        assert!(refused[&0].contains("would not resolve"), "{refused:?}");
        // A copy of the object in another file keeps its own finding: this one is resolved.
        let other = finding("POD002", "b.yaml", &web(), ESCALATION);
        let both: HashSet<Placed> = [placed(&before), placed(&other)].into();
        assert!(check(&candidates, &both, &[&other]).is_empty());
        // A finding that was not there before, in the edited file: refused, named.
        let new = finding(
            "POD001",
            "a.yaml",
            &web(),
            "/spec/template/spec/containers/0",
        );
        let refused = check(&candidates, &before_set, &[&new]);
        assert!(
            refused[&0].contains("would add a finding: POD001 on Deployment shop/web"),
            "{refused:?}"
        );
        // ... or in a file no fix edits: every candidate is refused.
        let elsewhere = finding("POD001", "c.yaml", &web(), "/spec");
        let refused = check(&candidates, &before_set, &[&elsewhere]);
        assert!(refused[&0].contains("in another file"), "{refused:?}");
    }

    /// A chart's values cover every file rendered from the chart; they are refused only when
    /// none of the findings they address goes (its templates do not read them).
    #[test]
    fn a_charts_values_are_judged_by_what_its_templates_render() {
        let before = finding("POD002", "chart/templates/web.yaml", &web(), ESCALATION);
        let before_set: HashSet<Placed> = [placed(&before)].into();
        let candidates = [candidate("chart/values.yaml", &before, Some("chart"))];
        assert!(check(&candidates, &before_set, &[]).is_empty());
        let refused = check(&candidates, &before_set, &[&before]);
        assert!(refused[&0].contains("templates do not read"), "{refused:?}");
        let new = finding("POD001", "chart/templates/other.yaml", &web(), "/spec");
        let refused = check(&candidates, &before_set, &[&new]);
        assert!(refused[&0].contains("would add a finding"), "{refused:?}");
        for (dir, file, inside) in [
            ("chart", "chart/templates/x.yaml", true),
            ("./chart/", "chart/templates/x.yaml", true),
            (".", "templates/x.yaml", true),
            (".", "../other/x.yaml", false),
            ("chart", "charts/x.yaml", false),
            ("./chart", "./chart", true),
        ] {
            assert_eq!(chart::under(dir, file), inside, "{dir} {file}");
        }
    }

    #[test]
    fn only_open_findings_of_the_rules_asked_for_are_targets() {
        let escalation = finding("POD002", "a.yaml", &web(), ESCALATION);
        let seccomp = finding(
            "POD014",
            "a.yaml",
            &web(),
            "/spec/template/spec/securityContext/seccompProfile",
        );
        let other = finding("POD001", "a.yaml", &web(), "/spec");
        let found = targets(&[&escalation, &seccomp, &other], &[Field::Seccomp]);
        let list = &found[&(Arc::from("a.yaml"), web())];
        assert_eq!(list.len(), 1);
        assert_eq!(list[0].field, Field::Seccomp);
        assert_eq!(
            left(&[&escalation, &seccomp, &other], &[Field::Seccomp]).len(),
            1
        );
    }
}
