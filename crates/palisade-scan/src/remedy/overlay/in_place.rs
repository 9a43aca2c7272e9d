//! Objects an overlay renders from files in the directory that was named, edited in those
//! files as any manifest is: the additions of the rendered object fit the object as its file
//! writes it when each mapping they go into is there, the containers on the way have the same
//! names, and no key they add is set.

use std::sync::Arc;

use palisade_core::ObjectRef;
use palisade_fix::Addition;
use palisade_inventory::Object;
use serde_json::Value;

use crate::remedy::FixOptions;
use crate::remedy::candidate::read_limited;

/// A file in an overlay's directory and its edits.
#[derive(Debug)]
pub(in crate::remedy) struct EditedFile {
    pub path: Arc<str>,
    pub original: String,
    pub fixed: String,
    pub edits: Vec<palisade_core::Edit>,
    /// The rendered objects it changes, with their additions.
    pub changes: Vec<(Arc<ObjectRef>, Vec<Addition>)>,
}

/// Whether `additions` (pointers into `rendered`) can be made on `origin`, the object as its
/// file writes it, at the same pointers.
pub(super) fn fits(origin: &Value, rendered: &Value, additions: &[Addition]) -> bool {
    additions.iter().all(|addition| {
        let (mut written, mut made) = (origin, rendered);
        for segment in addition.at.segments() {
            let segment: &str = segment.as_ref();
            let next = match (written, made) {
                (Value::Object(a), Value::Object(b)) => a.get(segment).zip(b.get(segment)),
                (Value::Array(a), Value::Array(b)) => {
                    let i = segment.parse::<usize>().ok();
                    i.and_then(|i| a.get(i).zip(b.get(i)))
                        .filter(|(a, b)| a.get("name").is_some() && a.get("name") == b.get("name"))
                }
                _ => None,
            };
            let Some(next) = next else { return false };
            (written, made) = next;
        }
        written.is_object() && written.get(&addition.key).is_none_or(Value::is_null)
    })
}

/// The edits of `file` that make each object's additions on the object it comes from; an
/// error when one of them is missing or two come from one object (as when a base is included
/// twice), or the text cannot take them.
pub(super) fn edit(
    file: &Arc<str>,
    list: &[(&Object, Vec<Addition>)],
    options: &FixOptions,
) -> Result<EditedFile, String> {
    let mut origins: Vec<ObjectRef> = Vec::new();
    for (object, _) in list {
        let origin = object
            .origin
            .as_ref()
            .and_then(|o| palisade_inventory::object::object_ref(&o.value))
            .ok_or("an object has no origin")?;
        if origins.contains(&origin) {
            return Err("two objects come from one".to_string());
        }
        origins.push(origin);
    }
    let limits = &options.scan.load.limits;
    let bytes = read_limited(file, limits.max_file_bytes)?;
    let text = String::from_utf8(bytes).map_err(|_| "not UTF-8 text".to_string())?;
    let additions_for = |object: &Object| match origins.iter().position(|o| *o == *object.id) {
        Some(at) => list[at].1.clone(),
        None => Vec::new(),
    };
    let fix = palisade_fix::fix_text(file, &text, limits, &additions_for)
        .map_err(|refused| refused.to_string())?
        .ok_or("no object of the file was found")?;
    if fix.changes.len() != list.len() {
        return Err("some object was not found in its file".to_string());
    }
    Ok(EditedFile {
        path: Arc::clone(file),
        original: text,
        fixed: fix.fixed,
        edits: fix.edits,
        changes: list
            .iter()
            .map(|(object, additions)| (Arc::clone(&object.id), additions.clone()))
            .collect(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use palisade_core::JsonPointer;
    use serde_json::json;

    #[test]
    fn additions_fit_the_written_object_only_where_it_matches_the_rendered_one() {
        let written = json!({"spec": {"containers": [{"name": "app", "securityContext": {}}]}});
        let addition = |at: &str, key: &str| Addition {
            at: JsonPointer::parse(at).unwrap(),
            key: key.to_string(),
            value: json!(false),
            fields: Vec::new(),
            holder: JsonPointer::root(),
            holder_name: String::new(),
        };
        let context = addition(
            "/spec/containers/0/securityContext",
            "allowPrivilegeEscalation",
        );
        assert!(fits(&written, &written, std::slice::from_ref(&context)));
        // A patch of the overlay put another container first.
        let rendered = json!({"spec": {"containers": [{"name": "sidecar", "securityContext": {}},
            {"name": "app", "securityContext": {}}]}});
        assert!(!fits(&written, &rendered, std::slice::from_ref(&context)));
        // The field is set where the file writes the object (a patch removed it).
        let set = json!({"spec": {"containers": [{"name": "app",
            "securityContext": {"allowPrivilegeEscalation": true}}]}});
        assert!(!fits(&set, &written, std::slice::from_ref(&context)));
        // A mapping the file does not write (a patch added it).
        let bare = json!({"spec": {"containers": [{"name": "app"}]}});
        assert!(!fits(&bare, &written, &[context]));
    }
}
