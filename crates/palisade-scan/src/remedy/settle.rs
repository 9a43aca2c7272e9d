//! Scanning again with the edits in place, until every candidate left is accepted.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::Arc;

use palisade_core::Finding;
use palisade_inventory::load::HelmSource;
use palisade_inventory::{Inventory, ObjectSource, SourceRead, TextSource};

use super::candidate::FixFile;
use super::chart::Copy;
use super::{FixOptions, FixRun, FixedFile, NotFixed, Placed, left};
use crate::scan::scan_inventory;

/// Scans with the candidates' edits in place and accepts them, or refuses the ones that add a
/// finding or do not resolve theirs and checks the rest again without them.
pub(super) fn settle(
    inventory: &Inventory,
    mut candidates: Vec<(usize, FixFile)>,
    before: &HashSet<Placed>,
    options: &FixOptions,
    run: &mut FixRun,
) {
    // Each round either accepts every candidate or refuses some; a refused file's edits may
    // have caused another's new findings, so the rest are checked again without them.
    for _ in 0..4 {
        if candidates.is_empty() {
            return;
        }
        let (after, copies, mut refused) = with_fixes(inventory, &candidates, options);
        let report = scan_inventory(&after, &options.scan);
        let after_open: Vec<(Placed, &Finding)> = report
            .findings
            .iter()
            .filter(|f| !f.is_suppressed())
            .map(|f| (copies.placed(f), f))
            .collect();
        let after_placed: HashSet<Placed> = after_open.iter().map(|(p, _)| p.clone()).collect();
        if refused.is_empty() {
            refused = check(&candidates, before, &after_open, &after_placed);
        }
        if refused.is_empty() {
            let open: Vec<&Finding> = after_open.iter().map(|(_, f)| *f).collect();
            run.open_after = open.len();
            run.left = left(&open, &options.fields);
            for (_, file) in candidates.drain(..) {
                run.files.push(fixed_file(file, &after_placed));
            }
            return;
        }
        candidates.retain(|(id, file)| match refused.get(id) {
            Some(reason) => {
                run.not_fixed.push(NotFixed {
                    path: file.chart.clone().unwrap_or_else(|| Arc::clone(&file.path)),
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
}

/// The inventory with the candidates' edited texts in place of their files, and each chart
/// rendered again from a copy with its edited values (the copies, kept while their findings
/// are read); the candidates whose chart could not be copied, with the reason.
fn with_fixes(
    inventory: &Inventory,
    candidates: &[(usize, FixFile)],
    options: &FixOptions,
) -> (Inventory, Copies, HashMap<usize, String>) {
    let mut sources: Vec<Box<dyn ObjectSource>> = Vec::new();
    let mut copies = Copies::default();
    let mut failed = HashMap::new();
    for (id, source) in inventory.sources.iter().enumerate() {
        let candidate = candidates.iter().find(|(c, _)| *c == id);
        let chart = candidate.and_then(|(_, file)| file.chart.as_ref().map(|dir| (file, dir)));
        match (candidate, chart) {
            (_, Some((file, dir))) => match Copy::of_chart(dir, &file.path, &file.fix.fixed) {
                Ok(copy) => {
                    sources.push(Box::new(HelmSource(copy.chart.clone())));
                    copies.0.push((copy, Arc::clone(dir)));
                }
                Err(reason) => {
                    failed.insert(id, reason);
                }
            },
            (Some((_, file)), None) => sources.push(Box::new(TextSource {
                name: source.path.to_string(),
                bytes: file.fix.fixed.clone().into_bytes(),
            })),
            (None, _) => sources.push(Box::new(SourceRead {
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
    let inventory = palisade_inventory::read_sources(sources, &options.scan.load).inventory;
    (inventory, copies, failed)
}

/// The charts rendered from copies, each with the directory it stands for.
#[derive(Default)]
struct Copies(Vec<(Copy, Arc<str>)>);

impl Copies {
    /// A finding's place, with a copy's directory named as the chart it was copied from.
    fn placed(&self, finding: &Finding) -> Placed {
        let file = &finding.location.file;
        for (copy, dir) in &self.0 {
            if let Some(file) = super::chart::as_in_chart(copy, dir, file) {
                return (Arc::from(file), finding.fingerprint());
            }
        }
        super::placed(finding)
    }
}

/// Why each candidate (by source id) is refused: a finding it should resolve is still open,
/// or a finding is new. New findings in a file no candidate edits refuse every candidate.
pub(super) fn check(
    candidates: &[(usize, FixFile)],
    before: &HashSet<Placed>,
    after: &[(Placed, &Finding)],
    after_placed: &HashSet<Placed>,
) -> HashMap<usize, String> {
    let new: Vec<&(Placed, &Finding)> = after.iter().filter(|(p, _)| !before.contains(p)).collect();
    let mut refused = HashMap::new();
    for (id, file) in candidates {
        if let Some((_, finding)) = new.iter().find(|((f, _), _)| file.covers(f)) {
            refused.insert(
                *id,
                format!("the edits would add a finding: {}", describe(finding)),
            );
            continue;
        }
        let still = file
            .addressed
            .iter()
            .filter(|(f, _, t)| after_placed.contains(&(Arc::clone(f), t.fingerprint)))
            .count();
        // A chart's values reach only the templates that read them: some of its findings may
        // stay (they are left open), but not all.
        let unresolved = match file.chart {
            Some(_) => still == file.addressed.len(),
            None => still > 0,
        };
        if unresolved && file.chart.is_some() {
            refused.insert(
                *id,
                "its templates do not read these values: set the fields in the templates"
                    .to_string(),
            );
        } else if unresolved {
            refused.insert(
                *id,
                "the edits would not resolve the findings they address".to_string(),
            );
        }
    }
    if let Some((_, elsewhere)) = new
        .iter()
        .find(|((f, _), _)| !candidates.iter().any(|(_, c)| c.covers(f)))
    {
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

fn fixed_file(file: FixFile, still: &HashSet<Placed>) -> FixedFile {
    let mut resolved = BTreeMap::new();
    let mut changed = HashSet::new();
    for (place, object, target) in &file.addressed {
        if !still.contains(&(Arc::clone(place), target.fingerprint)) {
            *resolved.entry(target.field.rule()).or_insert(0) += 1;
            changed.insert(Arc::clone(object));
        }
    }
    let mut changes = file.fix.changes;
    if file.chart.is_some() {
        // The objects whose findings the values resolved (a chart's test pod, say, may not
        // read them).
        changes.retain(|(object, _)| changed.contains(object));
    }
    FixedFile {
        path: file.path,
        original: file.original,
        fixed: file.fix.fixed,
        edits: file.fix.edits,
        changes,
        resolved,
    }
}
