//! Scanning again with the edits in place, until every candidate left is accepted.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::Arc;

use palisade_core::{Finding, ObjectRef};
use palisade_inventory::load::{HelmSource, KustomizeSource};
use palisade_inventory::{Inventory, ObjectSource, SourceRead, TextSource};

use super::candidate::FixFile;
use super::chart::Copy;
use super::overlay::OverlayCopy;
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
        let (after, copies, mut refused) = with_fixes(inventory, &candidates, before, options);
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
                run.files.extend(fixed_files(file, &after_placed));
            }
            return;
        }
        candidates.retain(|(id, file)| match refused.get(id) {
            Some(reason) => {
                run.not_fixed.push(NotFixed {
                    path: Arc::clone(file.source_path()),
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
            path: Arc::clone(file.source_path()),
            reason: "the fixes of several files together do not settle: fix them one by one"
                .to_string(),
            findings: file.findings,
        });
    }
}

/// The inventory with the candidates' edited texts in place of their files, each chart
/// rendered again from a copy with its edited values and each overlay from a copy with its
/// patch (the copies, kept while their findings are read); the candidates whose copy could
/// not be made, or whose overlay does not render as the objects with their additions, with the
/// reason.
fn with_fixes(
    inventory: &Inventory,
    candidates: &[(usize, FixFile)],
    before: &HashSet<Placed>,
    options: &FixOptions,
) -> (Inventory, Copies, HashMap<usize, String>) {
    let mut sources: Vec<Box<dyn ObjectSource>> = Vec::new();
    let mut copies = Copies::default();
    let mut failed = HashMap::new();
    let mut overlays = Vec::new();
    for (id, source) in inventory.sources.iter().enumerate() {
        let unchanged = || -> Box<dyn ObjectSource> {
            Box::new(SourceRead {
                source: Some(source.clone()),
                objects: inventory
                    .objects
                    .iter()
                    .filter(|o| o.source == id)
                    .cloned()
                    .collect(),
                ..SourceRead::default()
            })
        };
        let Some((_, file)) = candidates.iter().find(|(c, _)| *c == id) else {
            sources.push(unchanged());
            continue;
        };
        let copied = match (&file.chart, &file.overlay) {
            (Some(dir), _) => Copy::of_chart(dir, &file.path, &file.fix.fixed).map(|copy| {
                sources.push(Box::new(HelmSource(copy.chart.clone())));
                copies.charts.push((copy, Arc::clone(dir)));
            }),
            (None, Some(overlay)) => OverlayCopy::of(file, overlay).map(|copy| {
                sources.push(Box::new(KustomizeSource(copy.dir.clone())));
                overlays.push((id, copy.dir.display().to_string()));
                copies.overlays.push((copy, Arc::clone(&overlay.dir)));
            }),
            (None, None) => {
                sources.push(Box::new(TextSource {
                    name: source.path.to_string(),
                    bytes: file.fix.fixed.clone().into_bytes(),
                }));
                Ok(())
            }
        };
        if let Err(reason) = copied {
            failed.insert(id, reason);
            sources.push(unchanged());
        }
    }
    let loaded = palisade_inventory::read_sources(sources, &options.scan.load);
    let after = loaded.inventory;
    for (id, name) in overlays {
        let Some(Some(overlay)) = candidates
            .iter()
            .find(|(c, _)| *c == id)
            .map(|(_, f)| f.overlay.as_ref())
        else {
            continue;
        };
        let rendered: Vec<&palisade_inventory::Object> =
            match after.sources.iter().position(|s| *s.path == *name) {
                Some(at) => after.objects.iter().filter(|o| o.source == at).collect(),
                None => Vec::new(),
            };
        let why = || {
            loaded
                .diagnostics
                .iter()
                .find(|d| d.file.as_deref() == Some(name.as_str()))
                .map(|d| format!(": {}", d.message.replace(&name, &overlay.dir)))
                .unwrap_or_default()
        };
        if let Some(reason) = super::overlay::differs(overlay, &rendered) {
            let reason = match rendered.is_empty() {
                true => format!("{reason}{}", why()),
                false => reason,
            };
            failed.insert(id, reason);
        }
    }
    if !copies.overlays.is_empty() {
        copies.names_of(before);
    }
    (after, copies, failed)
}

/// The charts and overlays rendered from copies, each with the directory it stands for.
#[derive(Default)]
struct Copies {
    charts: Vec<(Copy, Arc<str>)>,
    overlays: Vec<(OverlayCopy, Arc<str>)>,
    /// The files of the first scan's findings by their canonical path: an overlay's copy
    /// names the files it renders from outside itself (its bases) by their absolute paths.
    names: HashMap<std::path::PathBuf, Arc<str>>,
}

impl Copies {
    /// A finding's place, with a copy's directory named as the chart or overlay it was copied
    /// from, and a base an overlay's copy renders from named as the first scan named it.
    fn placed(&self, finding: &Finding) -> Placed {
        let file = &finding.location.file;
        let fingerprint = finding.fingerprint();
        for (copy, dir) in &self.charts {
            if let Some(file) = super::chart::as_in_chart(copy, dir, file) {
                return (Arc::from(file), fingerprint);
            }
        }
        for (copy, dir) in &self.overlays {
            let name = copy.dir.display().to_string();
            if let Some(file) = super::chart::as_in(&copy.dir, &name, dir, file) {
                return (Arc::from(file), fingerprint);
            }
        }
        let path = std::path::Path::new(&**file);
        if !self.overlays.is_empty()
            && path.is_absolute()
            && let Some(name) = path.canonicalize().ok().and_then(|p| self.names.get(&p))
        {
            return (Arc::clone(name), fingerprint);
        }
        super::placed(finding)
    }

    /// Learns the canonical path of each file the first scan's findings were placed in.
    fn names_of(&mut self, before: &HashSet<Placed>) {
        for (file, _) in before {
            if let Ok(canonical) = std::path::Path::new(&**file).canonicalize() {
                self.names
                    .entry(canonical)
                    .or_insert_with(|| Arc::clone(file));
            }
        }
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
        let (had, has) = (file.seen(before), file.seen(after_placed));
        if let Some((_, finding)) = new
            .iter()
            .find(|(place, _)| file.covers(&place.0) && !had.contains(place))
        {
            refused.insert(
                *id,
                format!("the edits would add a finding: {}", describe(finding)),
            );
            continue;
        }
        let still = file
            .addressed
            .iter()
            .filter(|(f, _, t)| has.contains(&(Arc::clone(f), t.fingerprint)))
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

/// What a candidate writes: its file, and for an overlay its patches first, which carry the
/// changes (the kustomization only names them).
fn fixed_files(file: FixFile, still: &HashSet<Placed>) -> Vec<FixedFile> {
    let mut resolved: HashMap<Arc<ObjectRef>, BTreeMap<&'static str, usize>> = HashMap::new();
    let still = file.seen(still);
    for (place, object, target) in &file.addressed {
        if !still.contains(&(Arc::clone(place), target.fingerprint)) {
            let rules = resolved.entry(Arc::clone(object)).or_default();
            *rules.entry(target.field.rule()).or_insert(0) += 1;
        }
    }
    let of = |objects: &mut dyn Iterator<Item = &Arc<ObjectRef>>| {
        let mut sum = BTreeMap::new();
        for rules in objects.filter_map(|o| resolved.get(o)) {
            for (rule, n) in rules {
                *sum.entry(*rule).or_insert(0) += n;
            }
        }
        sum
    };
    let mut changes = file.fix.changes;
    if file.chart.is_some() {
        // The objects whose findings the values resolved (a chart's test pod, say, may not
        // read them).
        changes.retain(|(object, _)| resolved.contains_key(object));
    }
    let Some(overlay) = file.overlay else {
        let resolved = of(&mut changes.iter().map(|(o, _)| o));
        return vec![FixedFile {
            path: file.path,
            original: file.original,
            fixed: file.fix.fixed,
            edits: file.fix.edits,
            changes,
            resolved,
            created: false,
            needs: Vec::new(),
        }];
    };
    let mut out: Vec<FixedFile> = overlay
        .patches
        .iter()
        .map(|patch| FixedFile {
            path: Arc::clone(&patch.path),
            original: String::new(),
            fixed: patch.text.clone(),
            edits: vec![palisade_core::Edit {
                file: Arc::clone(&patch.path),
                start: 0,
                end: 0,
                replacement: patch.text.clone(),
            }],
            changes: changes
                .iter()
                .filter(|(o, _)| patch.objects.contains(o))
                .cloned()
                .collect(),
            resolved: of(&mut patch.objects.iter()),
            created: true,
            needs: Vec::new(),
        })
        .collect();
    out.extend(overlay.edited.into_iter().map(|edited| FixedFile {
        resolved: of(&mut edited.changes.iter().map(|(o, _)| o)),
        path: edited.path,
        original: edited.original,
        fixed: edited.fixed,
        edits: edited.edits,
        changes: edited.changes,
        created: false,
        needs: Vec::new(),
    }));
    if file.fix.edits.is_empty() {
        return out;
    }
    out.push(FixedFile {
        path: file.path,
        original: file.original,
        fixed: file.fix.fixed,
        edits: file.fix.edits,
        changes: Vec::new(),
        resolved: BTreeMap::new(),
        created: false,
        needs: overlay
            .patches
            .iter()
            .map(|p| Arc::clone(&p.path))
            .collect(),
    });
    out
}
