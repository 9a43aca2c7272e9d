//! A Kustomize overlay's hardening. The files of the directory that was named are edited in
//! place, as any manifest is ([`in_place`]); objects that come from elsewhere (a base that
//! other overlays may share) get a patch in the overlay, listed under its `patches:`
//! (`palisade_fix::kustomize`). The result is checked by rendering a copy of the overlay with
//! the edits and patches ([`copy`]), whose objects must be exactly the overlay's objects with
//! their additions.

mod copy;
mod in_place;

pub(super) use copy::OverlayCopy;

use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::Path;
use std::sync::Arc;

use palisade_core::ObjectRef;
use palisade_core::tree::Tree as _;
use palisade_fix::{Addition, FileFix, hardening, kustomize};
use palisade_inventory::load::{PatchSite, kustomization_file, normalize};
use palisade_inventory::{Inventory, Object};
use palisade_k8s::resources::builtin_kind_namespaced;
use serde_json::Value;

use super::candidate::{FixFile, additions_for, addressed, read_limited};
use super::{FixOptions, Target, Targets};

/// What an overlay gets, and what its rendering must give.
#[derive(Debug)]
pub(super) struct Overlay {
    /// The overlay's directory, as its source names it.
    pub dir: Arc<str>,
    /// The patch files to create: a strategic-merge patch for Kubernetes' own kinds, and a
    /// JSON 6902 patch for each object of another kind.
    pub patches: Vec<PatchFile>,
    /// The files in the overlay's directory edited in place.
    pub edited: Vec<in_place::EditedFile>,
    /// Each object of the overlay as rendered, with its additions made, in order.
    pub expected: Vec<Value>,
    /// The files the overlay's findings may be placed in: those its objects come from, the
    /// patches that change them, and the overlay's own.
    pub files: HashSet<Arc<str>>,
}

/// A patch file an overlay gets.
#[derive(Debug)]
pub(super) struct PatchFile {
    /// Its path, named like the overlay's directory.
    pub path: Arc<str>,
    pub text: String,
    /// The objects it changes.
    pub objects: Vec<Arc<ObjectRef>>,
}

impl Overlay {
    pub fn covers(&self, file: &str) -> bool {
        self.files.contains(file) || super::chart::under(&self.dir, file)
    }
}

/// Free names for patch files in an overlay: a name is never one a file has already (a patch
/// of an earlier run is never rewritten) nor one given before.
struct Names<'d> {
    dir: &'d Path,
    given: Vec<String>,
}

impl Names<'_> {
    /// `palisade-hardening{-stem}.yaml`, numbered when that is taken.
    fn next(&mut self, stem: &str) -> Result<String, String> {
        let stem: String = stem
            .chars()
            .map(|c| match c.to_ascii_lowercase() {
                c @ ('a'..='z' | '0'..='9' | '.' | '-') => c,
                _ => '-',
            })
            .take(80)
            .collect();
        let base = match stem.is_empty() {
            true => "palisade-hardening".to_string(),
            false => format!("palisade-hardening-{stem}"),
        };
        let name = (1..100)
            .map(|n| match n {
                1 => format!("{base}.yaml"),
                n => format!("{base}-{n}.yaml"),
            })
            .find(|name| {
                !self.given.contains(name)
                    && std::fs::symlink_metadata(self.dir.join(name)).is_err()
            })
            .ok_or("no free name for a patch file")?;
        self.given.push(name.clone());
        Ok(name)
    }
}

/// The edits, patches and kustomization edit for the overlay read as source `id`; `None`
/// when no addition applies.
pub(super) fn fix_overlay(
    id: usize,
    source: &palisade_inventory::Source,
    inventory: &Inventory,
    targets: &Targets,
    options: &FixOptions,
) -> Result<Option<FixFile>, String> {
    let dir = &source.path;
    let objects: Vec<&Object> = inventory
        .objects
        .iter()
        .filter(|o| o.source == id)
        .collect();
    // The findings of the overlay's objects, wherever they were placed (bases, patches).
    let ids: HashSet<&ObjectRef> = objects.iter().map(|o| &*o.id).collect();
    let mut found: HashMap<&ObjectRef, Vec<(Arc<str>, &Target)>> = HashMap::new();
    for ((file, object), list) in targets {
        if ids.contains(object) {
            let entry = found.entry(object).or_default();
            entry.extend(list.iter().map(|t| (Arc::clone(file), t)));
        }
    }
    let (mut changes, mut addressed_here, mut expected) = (Vec::new(), Vec::new(), Vec::new());
    let mut files = HashSet::new();
    // Objects from files in the directory named, by file; the others, to be patched.
    let mut local: BTreeMap<Arc<str>, Vec<(&Object, Vec<Addition>)>> = BTreeMap::new();
    let mut patched: Vec<(&Object, Vec<Addition>)> = Vec::new();
    for object in &objects {
        if let Some(origin) = &object.origin {
            files.insert(Arc::clone(&origin.file));
            files.extend(origin.patches.iter().map(|p| match p {
                PatchSite::Operation { file, .. } | PatchSite::Strategic { file, .. } => {
                    Arc::clone(file)
                }
            }));
        }
        let list = found
            .get(&*object.id)
            .map(Vec::as_slice)
            .unwrap_or_default();
        let additions = additions_for(object, list.iter().map(|(_, t)| *t), options);
        let mut value = object.value.clone();
        if !hardening::apply(&mut value, &additions) {
            return Err(format!(
                "{}: an addition names a mapping the object lacks",
                object.id
            ));
        }
        expected.push(value);
        if additions.is_empty() {
            continue;
        }
        addressed_here.extend(addressed(&object.id, list, &additions));
        changes.push((Arc::clone(&object.id), additions.clone()));
        match &object.origin {
            Some(origin)
                if super::chart::under(dir, &origin.file)
                    && in_place::fits(&origin.value, &object.value, &additions) =>
            {
                let entry = local.entry(Arc::clone(&origin.file)).or_default();
                entry.push((object, additions));
            }
            _ => patched.push((object, additions)),
        }
    }
    if changes.is_empty() {
        return Ok(None);
    }
    // A file that cannot take its objects' additions in place leaves them to the patch.
    let mut edited = Vec::new();
    for (file, list) in local {
        match in_place::edit(&file, &list, options) {
            Ok(file) => edited.push(file),
            Err(_) => patched.extend(list),
        }
    }
    let (patches, entries) = patches_for(dir, &patched)?;
    let kustomization = kustomization_file(Path::new(&**dir))
        .ok_or("rendered by Kustomize, and its kustomization file is gone")?;
    let kustomization_name = kustomization.display().to_string();
    let limits = &options.scan.load.limits;
    let bytes = read_limited(&kustomization_name, limits.max_file_bytes)?;
    let text =
        String::from_utf8(bytes).map_err(|_| "the kustomization is not UTF-8 text".to_string())?;
    let (fixed, edits) = match entries.is_empty() {
        true => (text.clone(), Vec::new()),
        false => kustomize::add_patch(&kustomization_name, &text, limits, &entries)
            .map_err(|reason| format!("rendered by Kustomize, and {reason}"))?,
    };
    let fix = FileFix {
        fixed,
        edits,
        changes,
    };
    Ok(Some(FixFile {
        overlay: Some(Overlay {
            dir: Arc::clone(dir),
            patches,
            edited,
            expected,
            files,
        }),
        ..FixFile::new(Arc::from(kustomization_name), text, fix, addressed_here)
    }))
}

/// The patch files for `patched` (objects with their additions) in the overlay `dir`, and the
/// entries that list them under `patches:`: one strategic-merge patch for the objects of
/// Kubernetes' own kinds, named as the files they come from name them, and one JSON 6902 patch
/// per object of another kind.
fn patches_for(
    dir: &Arc<str>,
    patched: &[(&Object, Vec<Addition>)],
) -> Result<(Vec<PatchFile>, Vec<Value>), String> {
    let mut names = Names {
        dir: Path::new(&**dir),
        given: Vec::new(),
    };
    let (mut patches, mut entries) = (Vec::new(), Vec::new());
    let (mut merged, mut merged_objects, mut rules) = (Vec::new(), Vec::new(), Vec::new());
    for (object, additions) in patched {
        let identity = object.origin.as_ref().map_or(&object.value, |o| &o.value);
        let named = |reason: String| format!("{}: {reason}", object.id);
        let own: Vec<&str> = additions
            .iter()
            .flat_map(|a| a.fields.iter().map(|f| f.rule()))
            .collect();
        if builtin_kind_namespaced(object.id.group(), &object.id.kind).is_some() {
            merged.push(
                kustomize::patch_document(identity, &object.value, additions).map_err(named)?,
            );
            merged_objects.push(Arc::clone(&object.id));
            rules.extend(own);
        } else {
            let ops = kustomize::json_patch(&object.value, additions).map_err(named)?;
            let target = kustomize::json_patch_target(identity).map_err(named)?;
            let name = identity.at("/metadata/name").and_then(Value::as_str);
            let name = names.next(&format!("{}-{}", object.id.kind, name.unwrap_or_default()))?;
            entries.push(serde_json::json!({"path": name, "target": target}));
            patches.push(patch_file(
                dir,
                &name,
                &[ops],
                &own,
                vec![Arc::clone(&object.id)],
            ));
        }
    }
    if !merged.is_empty() {
        let name = names.next("")?;
        entries.insert(0, serde_json::json!({ "path": name }));
        patches.insert(0, patch_file(dir, &name, &merged, &rules, merged_objects));
    }
    Ok((patches, entries))
}

/// The patch file `name` of the overlay in `dir`, holding `documents`.
fn patch_file(
    dir: &str,
    name: &str,
    documents: &[Value],
    rules: &[&str],
    objects: Vec<Arc<ObjectRef>>,
) -> PatchFile {
    let mut rules = rules.to_vec();
    rules.sort_unstable();
    rules.dedup();
    PatchFile {
        path: Arc::from(normalize(&Path::new(dir).join(name)).display().to_string()),
        text: kustomize::patch_file(documents, &rules),
        objects,
    }
}

/// Why the rendering of the patched copy is refused: an object that is not the object with
/// its additions (Kustomize replaces, rather than merges, the lists of a kind it has no schema
/// for, such as a custom resource's containers), or objects missing.
pub(super) fn differs(overlay: &Overlay, rendered: &[&Object]) -> Option<String> {
    if rendered.len() != overlay.expected.len() {
        return Some(format!(
            "the overlay with the patch renders {} objects, not {}",
            rendered.len(),
            overlay.expected.len()
        ));
    }
    let object = rendered
        .iter()
        .zip(&overlay.expected)
        .find(|(object, expected)| object.value != **expected)?
        .0;
    Some(format!(
        "with the patch, {} would not be the object plus its fields (Kustomize merges lists of \
         containers only for Kubernetes' own kinds): set the fields in the file it comes from",
        object.id
    ))
}
