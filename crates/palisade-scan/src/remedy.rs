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
use palisade_fix::{Addition, Field, FileFix, Hardening, hardening};
use palisade_inventory::{Input, Inventory, Object, ObjectSource, SourceRead, TextSource};

use crate::scan::{ScanOptions, redactor, scan_inventory};

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
struct Target {
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
        redactor: redactor(&[&inventory]),
    };
    let mut counts: BTreeMap<Arc<str>, usize> = BTreeMap::new();
    for ((file, _), found) in &targets {
        *counts.entry(Arc::clone(file)).or_default() += found.len();
    }
    let mut candidates: Vec<(usize, FixFile)> = Vec::new();
    for (id, source) in inventory.sources.iter().enumerate() {
        let path = &source.path;
        let Some(findings) = counts.remove(path) else {
            continue;
        };
        match fix_source(source, &targets, options) {
            Ok(Some((original, fix))) => candidates.push((
                id,
                FixFile {
                    path: Arc::clone(path),
                    original,
                    fix,
                    findings,
                },
            )),
            Ok(None) => {}
            Err(reason) => run.not_fixed.push(NotFixed {
                path: Arc::clone(path),
                reason,
                findings,
            }),
        }
    }
    // Findings located in a file no source is (Kustomize places its objects' findings in the
    // files they are rendered from).
    for (path, findings) in counts {
        let renderer = inventory
            .objects
            .iter()
            .filter(|o| targets.contains_key(&(Arc::clone(&path), (*o.id).clone())))
            .find_map(|o| inventory.sources[o.source].rendered_by);
        run.not_fixed.push(NotFixed {
            reason: match renderer {
                Some(renderer) => rendered(renderer, Some(&path)),
                None => "not a file palisade fix read itself".to_string(),
            },
            path,
            findings,
        });
    }
    // Each round either accepts every candidate or refuses some; a refused file's edits may
    // have caused another's new findings, so the rest are checked again without them.
    for _ in 0..4 {
        if candidates.is_empty() {
            break;
        }
        let after = with_fixes(&inventory, &candidates, options);
        let report = scan_inventory(&after, &options.scan);
        let after_open: Vec<&Finding> = report
            .findings
            .iter()
            .filter(|f| !f.is_suppressed())
            .collect();
        let after_placed: HashSet<Placed> = after_open.iter().map(|f| placed(f)).collect();
        let refused = check(
            &candidates,
            &targets,
            &before_open,
            &after_open,
            &after_placed,
        );
        if refused.is_empty() {
            run.open_after = after_open.len();
            run.left = left(&after_open, &options.fields);
            for (_, file) in candidates.drain(..) {
                run.files.push(fixed_file(file, &targets, &after_placed));
            }
            return run;
        }
        candidates.retain(|(id, file)| match refused.get(id) {
            Some(reason) => {
                run.not_fixed.push(NotFixed {
                    path: Arc::clone(&file.path),
                    reason: reason.clone(),
                    findings: file.findings,
                });
                false
            }
            None => true,
        });
    }
    for (_, file) in candidates {
        run.not_fixed.push(NotFixed {
            path: file.path,
            reason: "the fixes of several files together do not settle: fix them one by one"
                .to_string(),
            findings: file.findings,
        });
    }
    run
}

/// A file's edits waiting for the scan that checks them.
struct FixFile {
    path: Arc<str>,
    /// The text the edits were made on.
    original: String,
    fix: FileFix,
    findings: usize,
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

/// The text of one source and its edits, `None` when no addition applies; the reason when
/// the source cannot be edited.
fn fix_source(
    source: &palisade_inventory::Source,
    targets: &Targets,
    options: &FixOptions,
) -> Result<Option<(String, FileFix)>, String> {
    let path = &source.path;
    if let Some(renderer) = source.rendered_by {
        return Err(rendered(renderer, None));
    }
    if &**path == "-" {
        return Err("standard input cannot be written: give the file".to_string());
    }
    let limit = options.scan.load.limits.max_file_bytes;
    let bytes = read_limited(path, limit)?;
    let text = String::from_utf8(bytes).map_err(|_| "not UTF-8 text".to_string())?;
    let additions_for = |object: &Object| -> Vec<Addition> {
        let Some(list) = targets.get(&(Arc::clone(path), (*object.id).clone())) else {
            return Vec::new();
        };
        let wanted = |field: Field, holder: &JsonPointer| {
            list.iter()
                .any(|t| t.field == field && field.addresses(holder, &t.path))
        };
        hardening::for_object(object, &options.hardening, &wanted)
    };
    match palisade_fix::fix_text(path, &text, &options.scan.load.limits, &additions_for) {
        Ok(fix) => Ok(fix.map(|fix| (text, fix))),
        Err(refused) => Err(format!("not edited in place: {refused}")),
    }
}

/// Why objects a renderer made are not edited; `origin` is the file Kustomize rendered them
/// from, when the findings are placed there.
fn rendered(renderer: palisade_core::Renderer, origin: Option<&str>) -> String {
    match renderer {
        palisade_core::Renderer::Kustomize => match origin.map(|file| {
            std::path::Path::new(file)
                .parent()
                .unwrap_or(std::path::Path::new(""))
        }) {
            Some(dir) => {
                let dir = match dir.to_string_lossy() {
                    d if d.is_empty() => ".".to_string(),
                    d => d.into_owned(),
                };
                format!(
                    "rendered by Kustomize from this file: `palisade fix --no-kustomize {}` \
                     edits it (and so every overlay that uses it), or write a patch in the overlay",
                    palisade_core::printable(&dir)
                )
            }
            None => "rendered by Kustomize: `palisade fix --no-kustomize DIR` edits the files \
                 it renders from one by one, or write a patch"
                .to_string(),
        },
        palisade_core::Renderer::Helm => {
            "rendered by Helm: set the fields in the chart's templates or values".to_string()
        }
    }
}

fn read_limited(path: &str, limit: u64) -> Result<Vec<u8>, String> {
    use std::io::Read as _;
    let file = std::fs::File::open(path).map_err(|e| e.to_string())?;
    let mut bytes = Vec::new();
    file.take(limit.saturating_add(1))
        .read_to_end(&mut bytes)
        .map_err(|e| e.to_string())?;
    if bytes.len() as u64 > limit {
        return Err(format!("larger than the {limit}-byte limit"));
    }
    Ok(bytes)
}

/// The inventory with the candidates' edited texts in place of their files.
fn with_fixes(
    inventory: &Inventory,
    candidates: &[(usize, FixFile)],
    options: &FixOptions,
) -> Inventory {
    let mut sources: Vec<Box<dyn ObjectSource>> = Vec::new();
    for (id, source) in inventory.sources.iter().enumerate() {
        match candidates.iter().find(|(c, _)| *c == id) {
            Some((_, file)) => sources.push(Box::new(TextSource {
                name: source.path.to_string(),
                bytes: file.fix.fixed.clone().into_bytes(),
            })),
            None => sources.push(Box::new(SourceRead {
                source: Some(source.clone()),
                objects: inventory
                    .objects
                    .iter()
                    .filter(|o| o.source == id)
                    .cloned()
                    .collect(),
                ..SourceRead::default()
            })),
        }
    }
    palisade_inventory::read_sources(sources, &options.scan.load).inventory
}

/// The targets of an object's changes: the findings its additions address.
fn addressed<'t>(
    path: &Arc<str>,
    changes: &'t [(Arc<ObjectRef>, Vec<Addition>)],
    targets: &'t Targets,
) -> impl Iterator<Item = &'t Target> + 't {
    let path = Arc::clone(path);
    changes.iter().flat_map(move |(id, additions)| {
        targets
            .get(&(Arc::clone(&path), (**id).clone()))
            .into_iter()
            .flatten()
            .filter(|t| {
                additions
                    .iter()
                    .any(|a| a.fields.contains(&t.field) && t.field.addresses(&a.holder, &t.path))
            })
    })
}

/// Why each candidate (by source id) is refused: a finding it should resolve is still open,
/// or a finding is new. New findings in a file no candidate edits refuse every candidate.
fn check(
    candidates: &[(usize, FixFile)],
    targets: &Targets,
    before: &HashSet<Placed>,
    after: &[&Finding],
    after_placed: &HashSet<Placed>,
) -> HashMap<usize, String> {
    let new: Vec<&&Finding> = after
        .iter()
        .filter(|f| !before.contains(&placed(f)))
        .collect();
    let mut refused = HashMap::new();
    for (id, file) in candidates {
        if let Some(finding) = new.iter().find(|f| f.location.file == file.path) {
            refused.insert(
                *id,
                format!("the edits would add a finding: {}", describe(finding)),
            );
            continue;
        }
        if addressed(&file.path, &file.fix.changes, targets)
            .any(|t| after_placed.contains(&(Arc::clone(&file.path), t.fingerprint)))
        {
            refused.insert(
                *id,
                "the edits would not resolve the findings they address".to_string(),
            );
        }
    }
    let edited: HashSet<&Arc<str>> = candidates.iter().map(|(_, file)| &file.path).collect();
    if let Some(elsewhere) = new.iter().find(|f| !edited.contains(&f.location.file)) {
        for (id, _) in candidates {
            refused.entry(*id).or_insert_with(|| {
                format!(
                    "the edits together would add a finding in another file: {}",
                    describe(elsewhere)
                )
            });
        }
    }
    refused
}

fn describe(finding: &Finding) -> String {
    format!(
        "{} on {} at {}",
        finding.rule.id, finding.subject, finding.location.path
    )
}

fn fixed_file(file: FixFile, targets: &Targets, still: &HashSet<Placed>) -> FixedFile {
    let mut resolved = BTreeMap::new();
    for target in addressed(&file.path, &file.fix.changes, targets) {
        if !still.contains(&(Arc::clone(&file.path), target.fingerprint)) {
            *resolved.entry(target.field.rule()).or_insert(0) += 1;
        }
    }
    FixedFile {
        path: file.path,
        original: file.original,
        fixed: file.fix.fixed,
        edits: file.fix.edits,
        changes: file.fix.changes,
        resolved,
    }
}

#[cfg(test)]
mod tests {
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

    /// A candidate for `file` adding `allowPrivilegeEscalation: false` to container 0.
    fn candidate(file: &str) -> (usize, FixFile) {
        let addition = Addition {
            at: JsonPointer::parse("/spec/template/spec/containers/0/securityContext").unwrap(),
            key: "allowPrivilegeEscalation".into(),
            value: json!(false),
            fields: vec![Field::NoPrivilegeEscalation],
            holder: JsonPointer::parse("/spec/template/spec/containers/0").unwrap(),
            holder_name: "container \"app\"".into(),
        };
        let fix = FileFix {
            fixed: String::new(),
            edits: Vec::new(),
            changes: vec![(Arc::new(web()), vec![addition])],
        };
        let file = FixFile {
            path: file.into(),
            original: String::new(),
            fix,
            findings: 1,
        };
        (0, file)
    }

    fn placed_set(after: &[&Finding]) -> HashSet<Placed> {
        after.iter().map(|f| placed(f)).collect()
    }

    const ESCALATION: &str =
        "/spec/template/spec/containers/0/securityContext/allowPrivilegeEscalation";

    #[test]
    fn a_fix_is_refused_when_its_finding_stays_or_a_new_one_appears() {
        let before = finding("POD002", "a.yaml", &web(), ESCALATION);
        let targets = targets(&[&before], &Field::ALL);
        let before_set: HashSet<Placed> = [placed(&before)].into();
        let candidates = [candidate("a.yaml")];
        // Gone, nothing new: accepted.
        assert!(check(&candidates, &targets, &before_set, &[], &placed_set(&[])).is_empty());
        // Still there: refused.
        let refused = check(
            &candidates,
            &targets,
            &before_set,
            &[&before],
            &placed_set(&[&before]),
        );
        assert!(refused[&0].contains("would not resolve"), "{refused:?}");
        // A copy of the object in another file keeps its own finding: this one is resolved.
        let other = finding("POD002", "b.yaml", &web(), ESCALATION);
        let both: HashSet<Placed> = [placed(&before), placed(&other)].into();
        assert!(
            check(
                &candidates,
                &targets,
                &both,
                &[&other],
                &placed_set(&[&other])
            )
            .is_empty()
        );
        // A finding that was not there before, in the edited file: refused, named.
        let new = finding(
            "POD001",
            "a.yaml",
            &web(),
            "/spec/template/spec/containers/0",
        );
        let refused = check(
            &candidates,
            &targets,
            &before_set,
            &[&new],
            &placed_set(&[&new]),
        );
        assert!(
            refused[&0].contains("would add a finding: POD001 on Deployment shop/web"),
            "{refused:?}"
        );
        // ... or in a file no fix edits: every candidate is refused.
        let elsewhere = finding("POD001", "c.yaml", &web(), "/spec");
        let refused = check(
            &candidates,
            &targets,
            &before_set,
            &[&elsewhere],
            &placed_set(&[&elsewhere]),
        );
        assert!(refused[&0].contains("in another file"), "{refused:?}");
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
