//! Findings at the line people edit, for Kustomize: each rendered object is traced to the file
//! it came from and to the patches that change it.
//!
//! Kustomize can annotate every object it renders with its origin
//! (`buildMetadata: [originAnnotations]` gives `config.kubernetes.io/origin: path: ...`). The
//! directory is rendered a second time through a temporary wrapper kustomization that turns
//! this on, so the objects that are scanned stay exactly what `kubectl kustomize DIR` gives.
//! Each object then carries an [`Origin`]: its own object in the origin file (a base or a
//! resource), and the patches of the kustomizations on the way that target it. A finding is
//! located in the patch that sets its field when there is one, else at the field (or its
//! nearest parent) in the origin file.

use std::collections::HashMap;
use std::path::{Component, Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use palisade_core::tree::Tree as _;
use palisade_core::{JsonPointer, ObjectRef};
use serde_json::Value;

use super::{
    Reading, Rendered, SourceRead, display, kustomization_file, kustomize_commands, read_limited,
    run_first,
};
use crate::spans::{Pos, Resolved, Spans};
use crate::yaml::parse_stream;

/// The annotation Kustomize writes with `buildMetadata: [originAnnotations]`.
const ORIGIN_ANNOTATION: &str = "config.kubernetes.io/origin";
/// Kustomization chains deeper than this are not followed for patches.
const MAX_DEPTH: usize = 16;

/// Where a rendered object comes from.
#[derive(Debug, Clone, PartialEq)]
pub struct Origin {
    /// The origin file, as the user would name it (relative like the directory they gave).
    pub file: Arc<str>,
    /// The object as that file writes it, with positions.
    pub value: Value,
    pub spans: Spans,
    /// The patches that target the object, in the order the kustomizations apply them.
    pub patches: Vec<PatchSite>,
}

/// A patch that changes an object.
#[derive(Debug, Clone, PartialEq)]
pub enum PatchSite {
    /// A JSON 6902 operation on `pointer`, written at `pos` of `file`.
    Operation {
        file: Arc<str>,
        pointer: JsonPointer,
        pos: Pos,
    },
    /// A strategic-merge patch: the fields it writes, with their positions in `file`.
    Strategic {
        file: Arc<str>,
        value: Value,
        spans: Spans,
    },
}

impl Origin {
    /// Where `pointer` is written: the last patch that sets it (or a parent of it, for an
    /// operation), else the origin file (the field, or its nearest parent).
    pub fn locate(&self, pointer: &JsonPointer) -> (Arc<str>, Resolved) {
        for patch in self.patches.iter().rev() {
            match patch {
                PatchSite::Operation {
                    file,
                    pointer: set,
                    pos,
                } if pointer.starts_with(set) => {
                    let resolved = Resolved {
                        pos: *pos,
                        exact: true,
                        indent: None,
                    };
                    return (file.clone(), resolved);
                }
                PatchSite::Strategic { file, value, spans } => {
                    let resolved = spans.resolve(value, pointer.segments());
                    if resolved.exact {
                        return (file.clone(), resolved);
                    }
                }
                PatchSite::Operation { .. } => {}
            }
        }
        (
            self.file.clone(),
            self.spans.resolve(&self.value, pointer.segments()),
        )
    }
}

/// What a patch applies to: a kind and a name (either may be absent: any).
#[derive(Debug, Clone, Default)]
struct Target {
    kind: Option<String>,
    name: Option<String>,
}

impl Target {
    /// Whether a rendered object is the patch's target. Names are compared by containment:
    /// the rendered name carries the prefixes and suffixes of the kustomizations above.
    fn matches(&self, id: &ObjectRef) -> bool {
        self.kind.as_ref().is_none_or(|k| *k == id.kind)
            && self.name.as_ref().is_none_or(|n| {
                id.name
                    .as_deref()
                    .is_some_and(|name| name.contains(n.as_str()))
            })
    }

    fn from_value(value: Option<&Value>) -> Target {
        let get = |key: &str| {
            value
                .and_then(|v| v.get(key))
                .and_then(Value::as_str)
                .map(str::to_string)
        };
        Target {
            kind: get("kind"),
            name: get("name"),
        }
    }
}

/// Traces the objects `read` holds (the rendering of the Kustomization in `dir`) to their
/// origin files and patches. Best effort: when the second rendering fails or differs, the
/// objects keep the positions of the rendered stream, as they had before.
/// `charts`: whether the kustomization is rendered with `--enable-helm` (see
/// [`super::render::inflates_local_charts`]).
pub(super) fn attach(dir: &Path, charts: bool, read: &mut SourceRead, reading: &Reading<'_>) {
    if read.objects.is_empty() {
        return;
    }
    let Ok(root) = dir.canonicalize() else { return };
    let Some((wrapper_dir, output)) = render_with_origins(&root, charts, reading) else {
        return;
    };
    let annotated = reading.parse(
        &display(dir),
        Some(palisade_core::Renderer::Kustomize),
        &output,
    );
    if annotated.objects.len() != read.objects.len()
        || annotated
            .objects
            .iter()
            .zip(&read.objects)
            .any(|(a, b)| !a.id.same_identity(&b.id))
    {
        return;
    }
    let patches = collect_patches(dir, reading, 0, &mut Vec::new());
    let mut files: HashMap<PathBuf, Option<Vec<(Value, Spans)>>> = HashMap::new();
    for (object, annotated) in read.objects.iter_mut().zip(&annotated.objects) {
        let Some(relative) = origin_path(&annotated.value) else {
            continue; // generated (configMapGenerator, ...): no file to point at
        };
        let absolute = normalize(&wrapper_dir.join(relative));
        let Some(shown) = relative_between(&root, &absolute).map(|r| normalize(&dir.join(r)))
        else {
            continue;
        };
        let documents = files
            .entry(absolute.clone())
            .or_insert_with(|| documents_of(&absolute, reading));
        let Some((value, spans)) = documents
            .as_ref()
            .and_then(|docs| find_object(docs, &object.id))
        else {
            continue;
        };
        object.origin = Some(Box::new(Origin {
            file: shown.display().to_string().into(),
            value: value.clone(),
            spans: spans.clone(),
            patches: patches
                .iter()
                .filter(|(target, _)| target.matches(&object.id))
                .map(|(_, site)| site.clone())
                .collect(),
        }));
    }
}

static WRAPPERS: AtomicUsize = AtomicUsize::new(0);

/// Renders `root` through a temporary kustomization that adds origin annotations: the
/// wrapper's directory (origin paths are relative to it; it is removed again) and the output,
/// or `None` when no renderer worked.
fn render_with_origins(
    root: &Path,
    charts: bool,
    reading: &Reading<'_>,
) -> Option<(PathBuf, Vec<u8>)> {
    let wrapper = std::env::temp_dir().join(format!(
        "palisade-origin-{}-{}",
        std::process::id(),
        WRAPPERS.fetch_add(1, Ordering::Relaxed)
    ));
    let _ = std::fs::remove_dir_all(&wrapper);
    std::fs::create_dir_all(&wrapper).ok()?;
    let wrapper = wrapper.canonicalize().ok()?;
    let result = (|| {
        // Kustomize refuses an absolute resource path: name the directory relatively.
        let target = relative_between(&wrapper, root)?;
        let text = format!(
            "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources:\n- {}\nbuildMetadata: [originAnnotations]\n",
            serde_json::to_string(&target.display().to_string()).ok()?
        );
        std::fs::write(wrapper.join("kustomization.yaml"), text).ok()?;
        match run_first(kustomize_commands(&wrapper, charts), reading.options) {
            Rendered::Output(output) => Some((wrapper.clone(), output)),
            Rendered::Failed(..) | Rendered::NotFound(_) => None,
        }
    })();
    let _ = std::fs::remove_dir_all(&wrapper);
    result
}

/// The `path` of an object's origin annotation.
fn origin_path(value: &Value) -> Option<String> {
    let text = value
        .at("/metadata/annotations")?
        .get(ORIGIN_ANNOTATION)?
        .as_str()?;
    text.lines()
        .find_map(|line| line.strip_prefix("path: "))
        .map(|p| p.trim().trim_matches(|c| c == '\'' || c == '"').to_string())
}

/// The documents of a file, with positions; `None` when it cannot be read.
fn documents_of(path: &Path, reading: &Reading<'_>) -> Option<Vec<(Value, Spans)>> {
    let bytes = read_limited(path, reading.limits().max_file_bytes).ok()?;
    let text = std::str::from_utf8(&bytes).ok()?;
    let stream = parse_stream(text, reading.limits());
    Some(
        stream
            .documents
            .into_iter()
            .map(|d| (d.value, d.spans))
            .collect(),
    )
}

/// The document of `docs` that became the rendered object `id`: the same kind, and the name
/// the rendered one contains (prefixes and suffixes are added on the way); the longest such
/// name when several match.
fn find_object<'d>(docs: &'d [(Value, Spans)], id: &ObjectRef) -> Option<&'d (Value, Spans)> {
    let rendered = id.name.as_deref().unwrap_or_default();
    docs.iter()
        .filter(|(value, _)| value.get("kind").and_then(Value::as_str) == Some(id.kind.as_str()))
        .filter_map(|doc| {
            let name = doc.0.at("/metadata/name").and_then(Value::as_str)?;
            rendered.contains(name).then_some((name.len(), doc))
        })
        .max_by_key(|(len, _)| *len)
        .map(|(_, doc)| doc)
}

/// The patches of the kustomization in `dir` and of the kustomizations it includes, each with
/// its target; outermost last (the order they apply in is innermost first).
fn collect_patches(
    dir: &Path,
    reading: &Reading<'_>,
    depth: usize,
    seen: &mut Vec<PathBuf>,
) -> Vec<(Target, PatchSite)> {
    let Ok(canonical) = dir.canonicalize() else {
        return Vec::new();
    };
    if depth > MAX_DEPTH || seen.contains(&canonical) {
        return Vec::new();
    }
    seen.push(canonical);
    let Some((file, value, spans)) = kustomization_of(dir, reading) else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for resource in strings(value.get("resources")) {
        let path = dir.join(resource);
        if path.is_dir() {
            out.extend(collect_patches(&normalize(&path), reading, depth + 1, seen));
        }
    }
    for (i, entry) in list(value.get("patches")).iter().enumerate() {
        let target = Target::from_value(entry.get("target"));
        let at = ["patches".to_string(), i.to_string()];
        out.extend(patch_entry(
            dir, &file, entry, target, &spans, &value, &at, reading,
        ));
    }
    for (i, entry) in list(value.get("patchesJson6902")).iter().enumerate() {
        let target = Target::from_value(entry.get("target"));
        let at = ["patchesJson6902".to_string(), i.to_string()];
        out.extend(patch_entry(
            dir, &file, entry, target, &spans, &value, &at, reading,
        ));
    }
    for (i, entry) in list(value.get("patchesStrategicMerge")).iter().enumerate() {
        let at = ["patchesStrategicMerge".to_string(), i.to_string()];
        let entry = match entry {
            Value::String(text) if !text.contains('\n') => serde_json::json!({ "path": text }),
            Value::String(text) => serde_json::json!({ "patch": text }),
            other => other.clone(),
        };
        out.extend(patch_entry(
            dir,
            &file,
            &entry,
            Target::default(),
            &spans,
            &value,
            &at,
            reading,
        ));
    }
    out
}

/// The sites of one patch entry (`path:` a file, or `patch:` inline).
#[allow(clippy::too_many_arguments)]
fn patch_entry(
    dir: &Path,
    kustomization: &Arc<str>,
    entry: &Value,
    target: Target,
    spans: &Spans,
    root: &Value,
    at: &[String],
    reading: &Reading<'_>,
) -> Vec<(Target, PatchSite)> {
    if let Some(path) = entry.get("path").and_then(Value::as_str) {
        let file = normalize(&dir.join(path));
        let shown: Arc<str> = file.display().to_string().into();
        let Some(docs) = documents_of(&file, reading) else {
            return Vec::new();
        };
        return docs
            .into_iter()
            .flat_map(|(value, spans)| sites(&shown, value, spans, &target, (0, 0)))
            .collect();
    }
    let Some(text) = entry.get("patch").and_then(Value::as_str) else {
        return Vec::new();
    };
    // An inline patch is a block scalar: its lines start on the line after its key.
    let mut segments: Vec<&str> = at.iter().map(String::as_str).collect();
    segments.push("patch");
    let key_line = spans.resolve(root, segments.iter().copied()).pos.line;
    // Its lines are indented in the kustomization: columns move by that indentation.
    let indent = std::fs::read_to_string(&**kustomization)
        .ok()
        .and_then(|t| {
            t.lines()
                .skip(key_line as usize)
                .find(|l| !l.trim().is_empty())
                .map(|l| (l.len() - l.trim_start().len()) as u32)
        })
        .unwrap_or(0);
    parse_stream(text, reading.limits())
        .documents
        .into_iter()
        .flat_map(|d| sites(kustomization, d.value, d.spans, &target, (key_line, indent)))
        .collect()
}

/// The sites a parsed patch document gives: JSON 6902 operations (a list of `op`s) or one
/// strategic-merge patch (its own kind and name are its target unless one is given).
/// The offsets move positions of inline patches to where they are in the kustomization.
fn sites(
    file: &Arc<str>,
    value: Value,
    spans: Spans,
    target: &Target,
    (line_offset, column_offset): (u32, u32),
) -> Vec<(Target, PatchSite)> {
    if let Value::Array(ops) = &value {
        let Some(items) = spans.sequence_items(&value, std::iter::empty::<&str>()) else {
            return Vec::new();
        };
        return ops
            .iter()
            .zip(items)
            .filter_map(|(op, item)| {
                let pointer = JsonPointer::parse(op.get("path")?.as_str()?)?;
                let mut pos = item.resolve(op, ["path"]).pos;
                pos.line += line_offset;
                pos.column += column_offset;
                Some((
                    target.clone(),
                    PatchSite::Operation {
                        file: file.clone(),
                        pointer,
                        pos,
                    },
                ))
            })
            .collect();
    }
    if !value.is_object() {
        return Vec::new();
    }
    let target = if target.kind.is_some() || target.name.is_some() {
        target.clone()
    } else {
        Target {
            kind: value
                .get("kind")
                .and_then(Value::as_str)
                .map(str::to_string),
            name: value
                .at("/metadata/name")
                .and_then(Value::as_str)
                .map(str::to_string),
        }
    };
    let spans = if line_offset > 0 {
        spans.shifted(line_offset, column_offset)
    } else {
        spans
    };
    vec![(
        target,
        PatchSite::Strategic {
            file: file.clone(),
            value,
            spans,
        },
    )]
}

/// The kustomization file of `dir`: its name as shown, its value and positions.
fn kustomization_of(dir: &Path, reading: &Reading<'_>) -> Option<(Arc<str>, Value, Spans)> {
    kustomization_file(dir).and_then(|path| {
        let (value, spans) = documents_of(&path, reading)?.into_iter().next()?;
        Some((normalize(&path).display().to_string().into(), value, spans))
    })
}

fn list(value: Option<&Value>) -> &[Value] {
    value.and_then(Value::as_array).map_or(&[], Vec::as_slice)
}

fn strings(value: Option<&Value>) -> impl Iterator<Item = &str> {
    list(value).iter().filter_map(Value::as_str)
}

/// `a/b/../c` as `a/c`, without touching the file system (`..` past the start is kept).
pub fn normalize(path: &Path) -> PathBuf {
    let mut out: Vec<Component<'_>> = Vec::new();
    for component in path.components() {
        match component {
            Component::CurDir => {}
            Component::ParentDir => match out.last() {
                Some(Component::Normal(_)) => {
                    out.pop();
                }
                Some(Component::RootDir | Component::Prefix(_)) => {}
                _ => out.push(component),
            },
            other => out.push(other),
        }
    }
    if out.is_empty() {
        return PathBuf::from(".");
    }
    out.iter().collect()
}

/// The relative path from directory `from` to `to` (both absolute).
pub fn relative_between(from: &Path, to: &Path) -> Option<PathBuf> {
    if !from.is_absolute() || !to.is_absolute() {
        return None;
    }
    let from: Vec<_> = from.components().collect();
    let to: Vec<_> = to.components().collect();
    let common = from.iter().zip(&to).take_while(|(a, b)| a == b).count();
    let mut out = PathBuf::new();
    for _ in common..from.len() {
        out.push("..");
    }
    for component in &to[common..] {
        out.push(component);
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_are_normalised_and_related_without_the_file_system() {
        assert_eq!(
            normalize(Path::new("examples/shop/overlays/prod/../../base/w.yaml")),
            PathBuf::from("examples/shop/base/w.yaml")
        );
        assert_eq!(normalize(Path::new("../a/./b")), PathBuf::from("../a/b"));
        assert_eq!(
            relative_between(Path::new("/tmp/w"), Path::new("/work/x/y")),
            Some(PathBuf::from("../../work/x/y"))
        );
        assert_eq!(
            relative_between(Path::new("/a/b"), Path::new("/a/b/c.yaml")),
            Some(PathBuf::from("c.yaml"))
        );
    }

    #[test]
    fn a_patch_that_sets_a_field_is_where_it_is_found() {
        let file: Arc<str> = "k.yaml".into();
        let pointer = |p: &str| JsonPointer::parse(p).unwrap();
        let origin = Origin {
            file: "base.yaml".into(),
            value: serde_json::json!({"spec": {"a": 1}}),
            spans: Spans::uniform(
                &serde_json::json!({"spec": {"a": 1}}),
                Pos { line: 3, column: 1 },
            ),
            patches: vec![PatchSite::Operation {
                file: file.clone(),
                pointer: pointer("/spec/b"),
                pos: Pos { line: 9, column: 7 },
            }],
        };
        let (at, resolved) = origin.locate(&pointer("/spec/b/c"));
        assert_eq!((&*at, resolved.pos.line), ("k.yaml", 9));
        let (at, resolved) = origin.locate(&pointer("/spec/a"));
        assert_eq!(
            (&*at, resolved.pos.line, resolved.exact),
            ("base.yaml", 3, true)
        );
    }
}
