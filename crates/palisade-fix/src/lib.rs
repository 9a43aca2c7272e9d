//! Remediation: the hardening a pod spec lacks ([`hardening`], which the mutating webhook
//! sends as a JSON Patch) written into manifests ([`fix_text`]) as edits at byte ranges
//! ([`edit`]) that keep the rest of each file byte for byte. An edited text is read back
//! before it is offered: every object must come out exactly as the object with its additions,
//! and the reader must say nothing it did not say of the original; otherwise the file is
//! refused whole.

pub mod edit;
pub mod hardening;
pub mod kustomize;
pub mod values;

use std::sync::Arc;

use palisade_core::ObjectRef;
use palisade_inventory::{Limits, Object, load::load_text};

pub use hardening::{Addition, DropAllCapabilities, Field, Hardening, RunAsNonRoot};

/// What fixing one file changes.
#[derive(Debug, Clone, PartialEq)]
pub struct FileFix {
    /// The text with the additions made.
    pub fixed: String,
    /// The edits that make it from the original, at byte ranges of the original, in the
    /// order of the text (made from the last one back, each leaves the others' offsets).
    pub edits: Vec<palisade_core::Edit>,
    /// Each object changed, with its additions in order.
    pub changes: Vec<(Arc<ObjectRef>, Vec<Addition>)>,
}

/// Why a file is left as it is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refused {
    /// The object whose additions could not be written, when one is to blame.
    pub object: Option<Arc<ObjectRef>>,
    pub reason: String,
}

impl std::fmt::Display for Refused {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.object {
            Some(object) => write!(f, "{object}: {}", self.reason),
            None => f.write_str(&self.reason),
        }
    }
}

/// The objects of `text` (read as the file `path`) with the additions `additions_for` gives
/// each, written into the text; `Ok(None)` when no object needs any.
pub fn fix_text(
    path: &str,
    text: &str,
    limits: &Limits,
    additions_for: &dyn Fn(&Object) -> Vec<Addition>,
) -> Result<Option<FileFix>, Refused> {
    let original = load_text(path, text, limits);
    let lines = edit::Text::new(path, text);
    let mut edits = Vec::new();
    let mut changes = Vec::new();
    for object in &original.inventory.objects {
        let additions = additions_for(object);
        if additions.is_empty() {
            continue;
        }
        let made =
            edit::edits(&lines, edit::Document::of(object), &additions).map_err(|reason| {
                Refused {
                    object: Some(Arc::clone(&object.id)),
                    reason,
                }
            })?;
        edits.extend(made);
        changes.push((Arc::clone(&object.id), additions));
    }
    if changes.is_empty() {
        return Ok(None);
    }
    let refused = |reason: &str| Refused {
        object: None,
        reason: reason.to_string(),
    };
    // In the order of the text; at one offset, in the order made (see `edit::edits`).
    edits.sort_by_key(|e| (e.start, e.end));
    let fixed = edit::apply(text, &edits).ok_or_else(|| refused("two edits overlap"))?;
    let reread = load_text(path, &fixed, limits);
    // Fewer is fine (a `seccompProfile:` left empty is no longer one), more is not.
    let mut had: Vec<&str> = original.diagnostics.iter().map(|d| d.code).collect();
    for diagnostic in &reread.diagnostics {
        match had.iter().position(|code| *code == diagnostic.code) {
            Some(at) => {
                had.swap_remove(at);
            }
            None => {
                return Err(refused(&format!(
                    "the edited text reads with a diagnostic the original does not have ({}: {})",
                    diagnostic.code, diagnostic.message
                )));
            }
        }
    }
    if reread.inventory.objects.len() != original.inventory.objects.len() {
        return Err(refused("the edited text holds another number of objects"));
    }
    for (before, after) in original
        .inventory
        .objects
        .iter()
        .zip(&reread.inventory.objects)
    {
        let mut expected = before.value.clone();
        if let Some((_, additions)) = changes.iter().find(|(id, _)| Arc::ptr_eq(id, &before.id))
            && !hardening::apply(&mut expected, additions)
        {
            return Err(refused("an addition names a mapping the object lacks"));
        }
        if after.value != expected || after.id != before.id {
            return Err(Refused {
                object: Some(Arc::clone(&before.id)),
                reason: "the edited text does not read back as the object with its additions"
                    .to_string(),
            });
        }
    }
    Ok(Some(FileFix {
        fixed,
        edits,
        changes,
    }))
}
