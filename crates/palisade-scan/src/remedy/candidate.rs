//! The edits each source would get: a file's own text, or a chart's values.

use std::collections::{BTreeMap, HashSet};
use std::sync::Arc;

use palisade_core::{JsonPointer, ObjectRef};
use palisade_fix::{Addition, Field, FileFix, hardening};
use palisade_inventory::{Inventory, Object};

use super::{FixOptions, FixRun, NotFixed, Placed, Target, Targets};

/// A file's edits waiting for the scan that checks them.
pub(super) struct FixFile {
    /// The file the edits are for.
    pub path: Arc<str>,
    /// The text the edits were made on.
    pub original: String,
    pub fix: FileFix,
    /// The open findings its source has that the additions asked for address.
    pub findings: usize,
    /// The findings its changes address, with the file each was found in and its object.
    pub addressed: Vec<Addressed>,
    /// For a chart's values file: the chart's directory, as its source names it.
    pub chart: Option<Arc<str>>,
    /// For a Kustomize overlay's kustomization: the patch it gets.
    pub overlay: Option<super::overlay::Overlay>,
}

impl FixFile {
    /// The edits `fix` of the file `path` (its text `original`), addressing `addressed`; a
    /// chart's values or an overlay's kustomization say so after.
    pub fn new(path: Arc<str>, original: String, fix: FileFix, addressed: Vec<Addressed>) -> Self {
        FixFile {
            path,
            original,
            fix,
            findings: 0,
            addressed,
            chart: None,
            overlay: None,
        }
    }

    /// Whether a finding placed in `file` is about what this fix changes: the file itself, or
    /// for a chart, anything rendered from it.
    pub fn covers(&self, file: &str) -> bool {
        match (&self.chart, &self.overlay) {
            (Some(dir), _) => crate::remedy::chart::under(dir, file),
            (None, Some(overlay)) => overlay.covers(file),
            (None, None) => *self.path == *file,
        }
    }

    /// The findings of `set` as this fix sees them: by place, or for an overlay by fingerprint
    /// in any file it covers (a finding moves into the patch that now writes its field's
    /// mapping).
    pub fn seen<'s>(&self, set: &'s HashSet<Placed>) -> Seen<'s> {
        match self.overlay {
            None => Seen::Placed(set),
            Some(_) => Seen::Moved(
                set.iter()
                    .filter(|(file, _)| self.covers(file))
                    .map(|(_, fingerprint)| *fingerprint)
                    .collect(),
            ),
        }
    }

    /// The source it fixes, as the run names it: the chart or overlay directory, else the
    /// file.
    pub fn source_path(&self) -> &Arc<str> {
        match (&self.chart, &self.overlay) {
            (Some(dir), _) => dir,
            (None, Some(overlay)) => &overlay.dir,
            (None, None) => &self.path,
        }
    }
}

/// A set of findings as one fix sees them ([`FixFile::seen`]).
pub(super) enum Seen<'s> {
    Placed(&'s HashSet<Placed>),
    Moved(HashSet<palisade_core::Fingerprint>),
}

impl Seen<'_> {
    pub fn contains(&self, place: &Placed) -> bool {
        match self {
            Seen::Placed(set) => set.contains(place),
            Seen::Moved(fingerprints) => fingerprints.contains(&place.1),
        }
    }
}

/// The candidates of every source with findings the additions address; what cannot be
/// edited goes to `run.not_fixed` with the reason.
pub(super) fn gather(
    inventory: &Inventory,
    targets: &Targets,
    options: &FixOptions,
    run: &mut FixRun,
) -> Vec<(usize, FixFile)> {
    let mut counts: BTreeMap<Arc<str>, usize> = BTreeMap::new();
    for ((file, _), found) in targets {
        *counts.entry(Arc::clone(file)).or_default() += found.len();
    }
    let mut candidates = Vec::new();
    for (id, source) in inventory.sources.iter().enumerate() {
        let path = &source.path;
        let (findings, made) = if source.rendered_by == Some(palisade_core::Renderer::Helm) {
            let mut findings = 0;
            counts.retain(|file, n| {
                let ours = super::chart::under(path, file);
                findings += if ours { *n } else { 0 };
                !ours
            });
            if findings == 0 {
                continue;
            }
            let made = super::chart::fix_chart(id, source, inventory, targets, options);
            (findings, made)
        } else if source.rendered_by == Some(palisade_core::Renderer::Kustomize) {
            // The findings of its objects, wherever they were placed (its bases, its patches).
            let ids: HashSet<&ObjectRef> = inventory
                .objects
                .iter()
                .filter(|o| o.source == id)
                .map(|o| &*o.id)
                .collect();
            let mut findings = 0;
            for ((file, object), list) in targets {
                if ids.contains(object) {
                    findings += list.len();
                    if let Some(n) = counts.get_mut(file) {
                        *n = n.saturating_sub(list.len());
                    }
                }
            }
            counts.retain(|_, n| *n > 0);
            if findings == 0 {
                continue;
            }
            let made = super::overlay::fix_overlay(id, source, inventory, targets, options);
            (findings, made)
        } else {
            let Some(findings) = counts.remove(path) else {
                continue;
            };
            (findings, fix_source(source, targets, options))
        };
        match made {
            Ok(Some(mut file)) => {
                file.findings = findings;
                candidates.push((id, file));
            }
            Ok(None) => {}
            Err(reason) => run.not_fixed.push(NotFixed {
                path: Arc::clone(path),
                reason,
                findings,
            }),
        }
    }
    // Findings placed in a file that no source is and no chart or kustomization claimed.
    for (path, findings) in counts {
        run.not_fixed.push(NotFixed {
            reason: "not a file palisade fix read itself".to_string(),
            path,
            findings,
        });
    }
    candidates
}

/// The additions `object` gets for its open findings in `found`.
pub(super) fn additions_for<'t>(
    object: &Object,
    found: impl Iterator<Item = &'t Target> + Clone,
    options: &FixOptions,
) -> Vec<Addition> {
    let wanted = |field: Field, holder: &JsonPointer| {
        found
            .clone()
            .any(|t| t.field == field && field.addresses(holder, &t.path))
    };
    hardening::for_object(object, &options.hardening, &wanted)
}

/// A finding a change addresses: the file it was placed in, its object, and the finding.
pub(super) type Addressed = (Arc<str>, Arc<ObjectRef>, Target);

/// Of `found` (with the file each was placed in), the findings the additions to `object`
/// address.
pub(super) fn addressed(
    object: &Arc<ObjectRef>,
    found: &[(Arc<str>, &Target)],
    additions: &[Addition],
) -> Vec<Addressed> {
    found
        .iter()
        .filter(|(_, t)| {
            additions
                .iter()
                .any(|a| a.fields.contains(&t.field) && t.field.addresses(&a.holder, &t.path))
        })
        .map(|(file, t)| (Arc::clone(file), Arc::clone(object), (*t).clone()))
        .collect()
}

/// The text of one source and its edits, `None` when no addition applies; the reason when
/// the source cannot be edited.
fn fix_source(
    source: &palisade_inventory::Source,
    targets: &Targets,
    options: &FixOptions,
) -> Result<Option<FixFile>, String> {
    let path = &source.path;
    if &**path == "-" {
        return Err("standard input cannot be written: give the file".to_string());
    }
    let limit = options.scan.load.limits.max_file_bytes;
    let bytes = read_limited(path, limit)?;
    let text = String::from_utf8(bytes).map_err(|_| "not UTF-8 text".to_string())?;
    let found = |id: &ObjectRef| targets.get(&(Arc::clone(path), id.clone()));
    let additions = |object: &Object| match found(&object.id) {
        Some(list) => additions_for(object, list.iter(), options),
        None => Vec::new(),
    };
    let fix = match palisade_fix::fix_text(path, &text, &options.scan.load.limits, &additions) {
        Ok(Some(fix)) => fix,
        Ok(None) => return Ok(None),
        Err(refused) => return Err(format!("not edited in place: {refused}")),
    };
    let mut addressed_here = Vec::new();
    for (id, made) in &fix.changes {
        let list: Vec<(Arc<str>, &Target)> = found(id)
            .into_iter()
            .flatten()
            .map(|t| (Arc::clone(path), t))
            .collect();
        addressed_here.extend(addressed(id, &list, made));
    }
    Ok(Some(FixFile::new(
        Arc::clone(path),
        text,
        fix,
        addressed_here,
    )))
}

pub(super) fn read_limited(path: &str, limit: u64) -> Result<Vec<u8>, String> {
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
