//! Finding and reading inputs: files, directories, standard input, Kustomize directories and
//! Helm charts, parsed in parallel and merged in a deterministic order.

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::AtomicUsize;
use std::time::{Duration, Instant};

use palisade_core::tree::items;
use palisade_core::{Diagnostic, DiagnosticLevel};
use serde_json::Value;

use crate::inventory::Inventory;
use crate::object::{Object, Source, object_ref};
use crate::spans::Spans;
use crate::yaml::{Limits, ParseIssue, parse_stream_in_run};

mod discover;
mod envelope;
mod json;
mod origin;
mod render;
mod source;
mod template;
mod text;

pub use discover::kustomization_file;
use discover::*;
pub use envelope::Envelope;
use json::*;
pub use origin::{Origin, PatchSite, normalize, relative_between};
use render::*;
pub use source::{
    FileSource, HelmSource, InventoryBuilder, KustomizeSource, ObjectSource, Reading, SourceRead,
    StdinSource, TextSource, ValuesSource, read_sources,
};
use text::*;

/// One thing to read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Input {
    Path(PathBuf),
    Stdin,
}

/// How to load inputs.
#[derive(Debug, Clone)]
pub struct LoadOptions {
    pub limits: Limits,
    /// Render directories with a kustomization file (default true).
    pub kustomize: bool,
    /// Render directories with `Chart.yaml` through `helm template` (default true).
    pub helm: bool,
    /// Values files every chart is rendered with (`helm template --values`), in order.
    pub helm_values: Vec<PathBuf>,
    /// Values every chart is rendered with (`helm template --set`), in order.
    pub helm_set: Vec<String>,
    /// Scan every kustomization found under a directory, also those another one includes
    /// (default false: bases are scanned through the overlays that include them).
    pub all_kustomizations: bool,
    /// Longest time a renderer may run (default 120 s).
    pub render_timeout: Duration,
    /// Worker threads; 0 means one per core (default 0).
    pub threads: usize,
}

impl Default for LoadOptions {
    fn default() -> Self {
        LoadOptions {
            limits: Limits::default(),
            kustomize: true,
            helm: true,
            helm_values: Vec::new(),
            helm_set: Vec::new(),
            all_kustomizations: false,
            render_timeout: Duration::from_secs(120),
            threads: 0,
        }
    }
}

/// What loading produced.
#[derive(Debug, Default)]
pub struct Loaded {
    pub inventory: Inventory,
    pub diagnostics: Vec<Diagnostic>,
    /// Files and rendered directories read.
    pub files: usize,
    /// Documents skipped because they are not Kubernetes objects.
    pub skipped_documents: usize,
}

/// Loads every input into one inventory: finds the sources each path holds (files,
/// Kustomize directories, Helm charts; `-` is standard input) and reads them with
/// [`read_sources`]. Never fails: problems become diagnostics.
pub fn load(inputs: &[Input], options: &LoadOptions) -> Loaded {
    let mut diagnostics = Vec::new();
    let mut found = Found::default();
    for input in inputs {
        match input {
            Input::Stdin => found.sources.push(Box::new(StdinSource)),
            Input::Path(path) => discover(path, options, &mut found, &mut diagnostics),
        }
    }
    let values_given = !options.helm_values.is_empty() || !options.helm_set.is_empty();
    if values_given && found.charts.is_empty() {
        // Not a pass: what the values were for was not scanned.
        diagnostics.push(
            Diagnostic::new(
                DiagnosticLevel::Error,
                "not-applicable",
                "--helm-values and --helm-set render Helm charts, and no chart (a directory \
                 with Chart.yaml) is among the inputs",
            )
            .input_unread(),
        );
    }
    keep_top_sources(&mut found, options, &mut diagnostics);
    let mut loaded = read_sources(found.sources, options);
    diagnostics.append(&mut loaded.diagnostics);
    loaded.diagnostics = diagnostics;
    loaded
}

/// Reads a JSON dump (a snapshot or a `kubectl get -o json` List) with the streaming reader
/// that files over 8 MiB go through, whatever its size: for the fuzz target and tests of that
/// reader. Text that is not such a dump is read as `load_text` reads it.
pub fn load_json_dump(path: &str, text: &str, limits: &Limits) -> Loaded {
    let result = large_json(path, None, text, limits)
        .unwrap_or_else(|| objects_from_text(path, None, text, limits, &AtomicUsize::new(0)));
    loaded_from(path, result)
}

/// The inventory of one source read from memory.
fn loaded_from(path: &str, mut result: SourceRead) -> Loaded {
    if result.source.is_none() {
        result.source = Some(Source {
            path: path.into(),
            rendered_by: None,
        });
    }
    let mut builder = InventoryBuilder::default();
    builder.add(result);
    builder.finish()
}

/// Objects already in memory (a cluster read through its API), with no text to parse: item
/// `i` is placed at line `first_line + i`, column 1, of the source `name` (where a snapshot
/// file would have it: one item per line). The node limit and, with
/// `limits.drop_managed_fields`, the dropping of `managedFields` apply as when a snapshot file
/// is read.
pub fn load_values(name: &str, items: Vec<Value>, first_line: u32, limits: &Limits) -> Loaded {
    loaded_from(name, read_values(name, items, first_line, limits))
}

/// What [`load_values`] reads, as one source.
fn read_values(name: &str, items: Vec<Value>, first_line: u32, limits: &Limits) -> SourceRead {
    let mut result = SourceRead {
        source: Some(Source {
            path: name.into(),
            rendered_by: None,
        }),
        ..SourceRead::default()
    };
    for (i, mut item) in items.into_iter().enumerate() {
        if limits.drop_managed_fields
            && let Value::Object(map) = &mut item
        {
            slim(map);
        }
        let line = first_line.saturating_add(u32::try_from(i).unwrap_or(u32::MAX));
        push_item(&mut result, name, limits, item, line, i);
    }
    result
}

/// Loads one YAML or JSON text, as if read from `path`. Used by tests, the admission webhook
/// and anything else that has the bytes already.
pub fn load_text(path: &str, text: &str, limits: &Limits) -> Loaded {
    let result = objects_from_text(path, None, text, limits, &AtomicUsize::new(0));
    loaded_from(path, result)
}

fn mib(bytes: u64) -> String {
    format!("{} MiB", bytes / (1024 * 1024))
}

/// The first YAML document of the file at `path` (a kustomization, a `Chart.yaml`), when it
/// can be read within the file size limit and parsed.
fn first_document(path: &Path, limits: &Limits) -> Option<Value> {
    let bytes = read_limited(path, limits.max_file_bytes).ok()?;
    let text = std::str::from_utf8(&bytes).ok()?;
    let stream = crate::yaml::parse_stream(text, limits);
    stream.documents.into_iter().next().map(|d| d.value)
}

/// The charts the chart in `dir` depends on through a `file://` repository (Chart.yaml's
/// `dependencies`) that are there: the names the parent calls each by (its `alias`, its
/// `name`) and its directory, as written from `dir`.
fn local_chart_dependencies(dir: &Path, limits: &Limits) -> Vec<(Vec<String>, PathBuf)> {
    let Some(chart) = first_document(&dir.join("Chart.yaml"), limits) else {
        return Vec::new();
    };
    items(&chart, "dependencies")
        .filter_map(|dependency| {
            let path = dependency
                .get("repository")?
                .as_str()?
                .strip_prefix("file://")?;
            let names = ["alias", "name"]
                .iter()
                .filter_map(|key| Some(dependency.get(key)?.as_str()?.to_string()))
                .collect();
            let target = dir.join(path);
            target
                .join("Chart.yaml")
                .is_file()
                .then_some((names, target))
        })
        .collect()
}

fn read_limited(path: &Path, limit: u64) -> Result<Vec<u8>, String> {
    let file = std::fs::File::open(path).map_err(|e| format!("cannot read: {e}"))?;
    let size = file.metadata().map(|m| m.len()).unwrap_or(0);
    if size > limit {
        return Err(format!(
            "file is {} bytes, over the {} limit (--max-file-size); not scanned",
            size,
            mib(limit)
        ));
    }
    let mut bytes = Vec::with_capacity(usize::try_from(size).unwrap_or(0));
    file.take(limit + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| format!("cannot read: {e}"))?;
    if bytes.len() as u64 > limit {
        return Err(format!(
            "file grew past the {} limit while being read; not scanned",
            mib(limit)
        ));
    }
    Ok(bytes)
}

fn failed(
    path: &str,
    rendered_by: Option<palisade_core::Renderer>,
    code: &'static str,
    message: String,
) -> SourceRead {
    let diagnostic = Diagnostic::new(DiagnosticLevel::Error, code, message).in_file(path);
    failed_with(path, rendered_by, diagnostic)
}

/// A source that yielded nothing but `diagnostic`: whatever its code, the input was not
/// read, and the run is incomplete (a chart that `helm template` could not render, say).
fn failed_with(
    path: &str,
    rendered_by: Option<palisade_core::Renderer>,
    diagnostic: Diagnostic,
) -> SourceRead {
    let diagnostic = diagnostic.input_unread();
    SourceRead {
        source: Some(Source {
            path: path.into(),
            rendered_by,
        }),
        diagnostics: vec![diagnostic],
        ..SourceRead::default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use palisade_core::JsonPointer;
    use palisade_core::tree::Tree as _;

    #[test]
    fn typed_list_items_get_their_kind_and_keep_exact_positions() {
        let text = "apiVersion: apps/v1\nkind: DeploymentList\nitems:\n- metadata: {name: a}\n  spec:\n    replicas: 1\n- metadata: {name: b}\n  spec:\n    template:\n      spec:\n        hostPID: true\n";
        let loaded = load_text("list.yaml", text, &Limits::default());
        let objects = &loaded.inventory.objects;
        assert_eq!(objects.len(), 2);
        assert_eq!(objects[1].id.to_string(), "Deployment b");
        assert_eq!(objects[1].id.api_version, "apps/v1");
        let host = objects[1].locate(&JsonPointer::parse("/spec/template/spec/hostPID").unwrap());
        assert!(host.exact);
        assert_eq!((host.pos.line, host.pos.column), (11, 9));
        let kind = objects[0].locate(&JsonPointer::parse("/kind").unwrap());
        assert!(kind.exact, "the added kind has a position too");
        assert_eq!(kind.pos.line, 4);
    }

    #[test]
    fn encoding_problems_name_the_line_where_they_start() {
        let limits = Limits::default();
        let cases: [(&[u8], Option<u32>, &str); 3] = [
            (
                b"a: 1\nb: 2\nc: \xff\n",
                Some(3),
                "invalid UTF-8 at byte 13",
            ),
            (b"a: 1\n\0", Some(2), "NUL"),
            (b"\xff\xfea\0", None, "UTF-16"),
        ];
        for (bytes, line, text) in cases {
            let result = objects_from_bytes("x.yaml", None, bytes, &limits, &AtomicUsize::new(0));
            let d = &result.diagnostics[0];
            assert_eq!((d.code, d.line), ("encoding", line), "{}", d.message);
            assert!(d.message.contains(text), "{}", d.message);
            assert!(result.objects.is_empty());
        }
    }

    #[test]
    fn untyped_list_items_keep_exact_positions() {
        let mut text = String::from("apiVersion: v1\nkind: List\nitems:\n");
        for i in 0..300 {
            text.push_str(&format!(
                "- {{apiVersion: v1, kind: ConfigMap, metadata: {{name: c{i}}}}}\n"
            ));
        }
        let loaded = load_text("list.yaml", &text, &Limits::default());
        assert_eq!(loaded.inventory.objects.len(), 300);
        let last = &loaded.inventory.objects[299];
        let name = last.locate(&JsonPointer::parse("/metadata/name").unwrap());
        assert_eq!((name.pos.line, name.exact), (303, true));
    }

    #[test]
    fn large_json_snapshots_stream_items_with_their_lines_and_keep_controlled_pods_whole() {
        let mut text = String::from(
            "{\n\"apiVersion\": \"palisade.dev/v1alpha1\",\n\"kind\": \"ClusterSnapshot\",\n\"metadata\": {},\n\"errors\": [],\n\"resources\": [],\n\"items\": [\n",
        );
        text.push_str(r#"{"apiVersion":"apps/v1","kind":"ReplicaSet","metadata":{"name":"rs","namespace":"x","uid":"rs-1"},"spec":{"template":{"spec":{"containers":[{"name":"c","image":"i:1"}]}}}}"#);
        let pad = "p".repeat(1000);
        let mut n = 0;
        while text.len() < LARGE_JSON_BYTES + 1000 {
            text.push_str(&format!(",\n{{\"apiVersion\":\"v1\",\"kind\":\"Pod\",\"metadata\":{{\"name\":\"p{n}\",\"namespace\":\"x\",\"ownerReferences\":[{{\"uid\":\"rs-1\",\"controller\":true,\"kind\":\"ReplicaSet\",\"name\":\"rs\"}}],\"managedFields\":[{{\"manager\":\"m\"}}],\"annotations\":{{\"a\":\"{pad}\"}}}},\"spec\":{{\"nodeName\":\"node-a\",\"containers\":[{{\"name\":\"c\",\"image\":\"i:1\"}}]}}}}"));
            n += 1;
        }
        text.push_str("\n]\n}\n");
        // The snapshot's envelope, as palisade-snapshot registers it.
        const SNAPSHOT: &[Envelope] = &[Envelope {
            kind: "ClusterSnapshot",
            api_version: "palisade.dev/v1alpha1",
            noun: "snapshot",
            unsupported_code: "unsupported-snapshot",
            advice: "take it again",
        }];
        let slim = Limits {
            max_file_bytes: u64::MAX,
            drop_managed_fields: true,
            envelopes: SNAPSHOT,
            ..Limits::default()
        };
        let unit = objects_from_text("big.json", None, &text, &slim, &AtomicUsize::new(0));
        assert!(unit.diagnostics.is_empty(), "{:?}", unit.diagnostics);
        assert_eq!(unit.objects.len(), n + 1);
        assert_eq!(unit.objects[0].pos().line, 8);
        assert_eq!(unit.objects[5].pos().line, 13, "one item per line");
        let pod = &unit.objects[1];
        assert_eq!(
            pod.value.get("spec"),
            Some(
                &serde_json::json!({"nodeName": "node-a", "containers": [{"name": "c", "image": "i:1"}]})
            ),
            "a controlled pod keeps its spec: whether it has more power than its template is judged on it"
        );
        assert!(pod.value.at("/metadata/managedFields").is_none());
        assert!(
            unit.objects[0].value.get("spec").is_some(),
            "the controller keeps its spec"
        );
        let full = objects_from_text(
            "big.json",
            None,
            &text,
            &Limits {
                max_file_bytes: u64::MAX,
                envelopes: SNAPSHOT,
                ..Limits::default()
            },
            &AtomicUsize::new(0),
        );
        assert!(
            full.objects[1]
                .value
                .at("/metadata/managedFields")
                .is_some(),
            "drift keeps managedFields"
        );
        let future = text.replacen("palisade.dev/v1alpha1", "palisade.dev/v2", 1);
        let unit = objects_from_text("big.json", None, &future, &slim, &AtomicUsize::new(0));
        assert!(unit.objects.is_empty());
        assert_eq!(unit.diagnostics[0].code, "unsupported-snapshot");
    }
}
