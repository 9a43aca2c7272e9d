//! A Helm chart's hardening written into its `values.yaml` (`palisade_fix::values`), checked
//! by rendering a copy of the chart with the edited values: the chart itself is not touched
//! until `--write`.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use palisade_core::ObjectRef;
use palisade_fix::FileFix;
use palisade_fix::values::{chart_settings, fix_values};
use palisade_inventory::load::normalize;
use palisade_inventory::{Inventory, Object};

use super::candidate::{FixFile, additions_for, addressed, read_limited};
use super::{FixOptions, Target, Targets};

/// Whether `file` is the chart directory `dir` or lies in it, however either is written
/// (`./web`, `web/`; the loader names a chart's templates by the normalised path).
pub(super) fn under(dir: &str, file: &str) -> bool {
    dir == file || within(dir, file).is_some()
}

/// `file` relative to the directory `dir`, when it lies in it (however either is written).
pub(super) fn within(dir: &str, file: &str) -> Option<PathBuf> {
    let (dir, file) = (normalize(Path::new(dir)), normalize(Path::new(file)));
    if dir == Path::new(".") {
        return (file.is_relative() && !file.starts_with("..")).then_some(file);
    }
    file.strip_prefix(&dir).ok().map(Path::to_path_buf)
}

/// A file of the copy `copy` named as the loader names the same file of the chart `dir`.
pub(super) fn as_in_chart(copy: &Copy, dir: &str, file: &str) -> Option<String> {
    as_in(&copy.chart, &copy.name, dir, file)
}

/// A file of a copied directory `copied` (its source named `name`) named as the loader names
/// the same file of the directory `dir` it was copied from.
pub(super) fn as_in(copied: &Path, name: &str, dir: &str, file: &str) -> Option<String> {
    if file == name {
        return Some(dir.to_string());
    }
    let inside = normalize(Path::new(file));
    let rest = inside.strip_prefix(copied).ok()?;
    Some(normalize(&Path::new(dir).join(rest)).display().to_string())
}

/// The values edits for the chart read as source `id`; `None` when no addition applies.
pub(super) fn fix_chart(
    id: usize,
    source: &palisade_inventory::Source,
    inventory: &Inventory,
    targets: &Targets,
    options: &FixOptions,
) -> Result<Option<FixFile>, String> {
    let dir = &source.path;
    // The findings of the chart's objects, wherever they were placed (its templates).
    let mut found: HashMap<&ObjectRef, Vec<(Arc<str>, &Target)>> = HashMap::new();
    for ((file, object), list) in targets {
        if under(dir, file) {
            let entry = found.entry(object).or_default();
            entry.extend(list.iter().map(|t| (Arc::clone(file), t)));
        }
    }
    let objects: Vec<(&Object, Vec<_>)> = inventory
        .objects
        .iter()
        .filter(|o| o.source == id)
        .map(|o| {
            let list = found.get(&*o.id).map(Vec::as_slice).unwrap_or_default();
            (o, additions_for(o, list.iter().map(|(_, t)| *t), options))
        })
        .collect();
    if objects.iter().all(|(_, additions)| additions.is_empty()) {
        return Ok(None);
    }
    // No field every pod and container lacking it wants (the values may reach them all):
    // the findings are left open, as a privileged container's are in a file.
    let settings = chart_settings(&objects);
    if settings.is_empty() {
        return Ok(None);
    }
    let values = ["values.yaml", "values.yml"]
        .iter()
        .map(|name| Path::new(&**dir).join(name))
        .find(|path| path.is_file())
        .ok_or(
            "rendered by Helm, and the chart has no values.yaml: set the fields in its templates",
        )?;
    let values_name = values.display().to_string();
    let limits = &options.scan.load.limits;
    let bytes = read_limited(&values_name, limits.max_file_bytes)?;
    let text = String::from_utf8(bytes).map_err(|_| "values.yaml is not UTF-8 text".to_string())?;
    // Values that set the fields already leave the findings of pods whose templates do not
    // read them (`helm create`'s test pod) open: nothing more is done in the values.
    let Some((fixed, edits)) = fix_values(&values_name, &text, limits, &settings)
        .map_err(|reason| format!("rendered by Helm, and {reason}"))?
    else {
        return Ok(None);
    };
    // Each object keeps the additions the values make for it.
    let mut changes = Vec::new();
    let mut addressed_here = Vec::new();
    for (object, additions) in objects {
        let kept: Vec<_> = additions
            .into_iter()
            .filter(|a| {
                a.fields
                    .iter()
                    .any(|f| settings.iter().any(|s| s.field == *f))
            })
            .collect();
        if kept.is_empty() {
            continue;
        }
        let list = found
            .get(&*object.id)
            .map(Vec::as_slice)
            .unwrap_or_default();
        addressed_here.extend(addressed(&object.id, list, &kept));
        changes.push((Arc::clone(&object.id), kept));
    }
    let fix = FileFix {
        fixed,
        edits,
        changes,
    };
    Ok(Some(FixFile {
        chart: Some(Arc::clone(dir)),
        ..FixFile::new(Arc::from(values_name), text, fix, addressed_here)
    }))
}

/// A copy of a chart with edited values, removed when dropped.
pub(super) struct Copy {
    root: PathBuf,
    /// The copied chart's directory (named as the chart's, so the release is named alike).
    pub chart: PathBuf,
    /// How its source names it.
    pub name: String,
}

/// The largest chart copied (every file together).
pub(super) const MOST_BYTES: u64 = 64 * 1024 * 1024;

impl Copy {
    /// Copies the chart in `dir` to a temporary directory and writes `values` over its values
    /// file (`values_file`, in `dir`).
    pub fn of_chart(dir: &str, values_file: &str, values: &str) -> Result<Copy, String> {
        static NEXT: AtomicUsize = AtomicUsize::new(0);
        let root = std::env::temp_dir().join(format!(
            "palisade-fix-{}-{}",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::Relaxed)
        ));
        let dir = Path::new(dir);
        let name = dir
            .canonicalize()
            .ok()
            .and_then(|d| d.file_name().map(|n| n.to_os_string()))
            .ok_or("the chart's directory has no name")?;
        let chart = root.join(name);
        let copy = Copy {
            name: chart.display().to_string(),
            chart,
            root,
        };
        let mut budget = MOST_BYTES;
        copy_tree(dir, &copy.chart, &mut budget, 0)
            .map_err(|e| format!("the chart could not be copied to be rendered again: {e}"))?;
        let relative = Path::new(values_file)
            .file_name()
            .ok_or("the values file has no name")?;
        std::fs::write(copy.chart.join(relative), values)
            .map_err(|e| format!("the edited values could not be written to a copy: {e}"))?;
        Ok(copy)
    }
}

impl Drop for Copy {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.root);
    }
}

/// Copies the files under `from` to `to` (links followed, as `helm` reads them), within
/// `budget` bytes and 32 levels.
pub(super) fn copy_tree(
    from: &Path,
    to: &Path,
    budget: &mut u64,
    depth: usize,
) -> std::io::Result<()> {
    if depth > 32 {
        return Err(std::io::Error::other("directories nest too deep"));
    }
    std::fs::create_dir_all(to)?;
    for entry in std::fs::read_dir(from)? {
        let entry = entry?;
        let path = entry.path();
        let target = to.join(entry.file_name());
        let metadata = std::fs::metadata(&path)?;
        if metadata.is_dir() {
            copy_tree(&path, &target, budget, depth + 1)?;
        } else if metadata.is_file() {
            *budget = budget
                .checked_sub(metadata.len())
                .ok_or_else(|| std::io::Error::other("the chart is larger than 64 MiB"))?;
            std::fs::copy(&path, &target)?;
        }
    }
    Ok(())
}
