//! The copy of an overlay that is rendered to check its fix: the overlay's files with the
//! fix's edits and patches, its references to directories outside it made relative to the copy.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};

use palisade_inventory::load::{normalize, relative_between};
use serde_json::Value;

use super::Overlay;
use crate::remedy::candidate::FixFile;

/// A copy of an overlay with the patch and the edited kustomization, removed when dropped.
pub(in crate::remedy) struct OverlayCopy {
    root: PathBuf,
    /// The copied overlay's directory.
    pub dir: PathBuf,
}

impl OverlayCopy {
    /// Copies the overlay in `dir` to a temporary directory, adds the patch and writes the
    /// edited kustomization, whose references to directories outside the overlay (its bases)
    /// are made relative to the copy, so the copy renders what the overlay would.
    pub fn of(file: &FixFile, overlay: &Overlay) -> Result<OverlayCopy, String> {
        static NEXT: AtomicUsize = AtomicUsize::new(0);
        let root = std::env::temp_dir().join(format!(
            "palisade-fix-overlay-{}-{}",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::Relaxed)
        ));
        let real = Path::new(&*overlay.dir)
            .canonicalize()
            .map_err(|e| format!("the overlay's directory: {e}"))?;
        let name = real
            .file_name()
            .ok_or("the overlay's directory has no name")?;
        let copy = OverlayCopy {
            dir: root.join(name),
            root,
        };
        let mut budget = crate::remedy::chart::MOST_BYTES;
        crate::remedy::chart::copy_tree(&real, &copy.dir, &mut budget, 0)
            .map_err(|e| format!("the overlay could not be copied to be rendered again: {e}"))?;
        let copied = copy
            .dir
            .canonicalize()
            .map_err(|e| format!("the overlay's copy: {e}"))?;
        let kustomization = Path::new(&*file.path)
            .file_name()
            .ok_or("the kustomization has no name")?;
        let text = outward_references(&file.fix.fixed, &real, &copied);
        let written =
            |e: std::io::Error| format!("the patched overlay could not be written to a copy: {e}");
        std::fs::write(copy.dir.join(kustomization), text).map_err(written)?;
        for file in &overlay.edited {
            let inside = crate::remedy::chart::within(&overlay.dir, &file.path)
                .ok_or("an edited file is not in the overlay")?;
            std::fs::write(copy.dir.join(inside), &file.fixed).map_err(written)?;
        }
        for patch in &overlay.patches {
            let name = Path::new(&*patch.path)
                .file_name()
                .ok_or("a patch has no name")?;
            std::fs::write(copy.dir.join(name), &patch.text).map_err(written)?;
        }
        Ok(copy)
    }
}

impl Drop for OverlayCopy {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.root);
    }
}

/// The keys of a kustomization that may name directories.
const DIRECTORY_KEYS: [&str; 6] = [
    "resources",
    "components",
    "bases",
    "generators",
    "transformers",
    "validators",
];

/// The kustomization `text` of the overlay in `real`, for a copy in `copied`: each local path
/// that leads out of the overlay is made relative to the copy (as JSON, which Kustomize reads
/// as YAML); the text as it is when none does.
fn outward_references(text: &str, real: &Path, copied: &Path) -> String {
    let stream =
        palisade_inventory::yaml::parse_stream(text, &palisade_inventory::Limits::default());
    let Some(mut value) = stream.documents.into_iter().next().map(|d| d.value) else {
        return text.to_string();
    };
    let mut changed = false;
    for key in DIRECTORY_KEYS {
        let Some(Value::Array(items)) = value.get_mut(key) else {
            continue;
        };
        for item in items.iter_mut() {
            let Some(path) = item.as_str().filter(|p| local(p)) else {
                continue;
            };
            if !normalize(Path::new(path)).starts_with("..") {
                continue;
            }
            let Ok(target) = real.join(path).canonicalize() else {
                continue;
            };
            if let Some(relative) = relative_between(copied, &target) {
                *item = Value::String(relative.display().to_string());
                changed = true;
            }
        }
    }
    match changed {
        true => serde_json::to_string(&value).unwrap_or_else(|_| text.to_string()),
        false => text.to_string(),
    }
}

/// Whether a kustomization entry is a path on this machine (not a URL or a Git address).
fn local(entry: &str) -> bool {
    let remote = entry.contains("://")
        || entry.starts_with("git@")
        || ["github.com/", "gitlab.com/", "bitbucket.org/"]
            .iter()
            .any(|host| entry.starts_with(host));
    !remote && !Path::new(entry).is_absolute()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn references_out_of_the_overlay_are_made_relative_to_its_copy() {
        let scratch = std::env::temp_dir().join(format!("palisade-overlay-{}", std::process::id()));
        let base = scratch.join("app/base");
        let overlay = scratch.join("app/overlays/prod");
        let copied = scratch.join("tmp/copy/prod");
        for dir in [&base, &overlay, &copied] {
            std::fs::create_dir_all(dir).unwrap();
        }
        let (overlay, copied) = (
            overlay.canonicalize().unwrap(),
            copied.canonicalize().unwrap(),
        );
        let text = "resources:\n- ../../base\n- web.yaml\n- https://github.com/x/y\npatches:\n- path: p.yaml\n";
        let made = outward_references(text, &overlay, &copied);
        let value: Value = serde_json::from_str(&made).unwrap();
        assert_eq!(
            value["resources"],
            serde_json::json!(["../../../app/base", "web.yaml", "https://github.com/x/y"])
        );
        assert_eq!(value["patches"][0]["path"], "p.yaml");
        // Nothing leads out: the text is kept as written.
        let inside = "resources:\n- web.yaml\n";
        assert_eq!(outward_references(inside, &overlay, &copied), inside);
        let _ = std::fs::remove_dir_all(&scratch);
    }
}
