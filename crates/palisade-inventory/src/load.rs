//! Finding and reading inputs: files, directories, standard input, Kustomize directories and
//! Helm charts, parsed in parallel and merged in a deterministic order.

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use palisade_core::{Diagnostic, DiagnosticLevel};
use serde_json::Value;

use crate::inventory::Inventory;
use crate::object::{Object, Source, object_ref};
use crate::spans::Spans;
use crate::yaml::{Limits, ParseIssue, parse_stream_in_run};

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

/// A unit of work: one file, one stream, one rendered directory.
#[derive(Debug, Clone)]
enum Unit {
    File(PathBuf),
    Stdin,
    Kustomize(PathBuf),
    Helm(PathBuf),
}

/// What one unit produced, before merging.
#[derive(Default)]
struct UnitResult {
    source: Option<Source>,
    objects: Vec<Object>,
    diagnostics: Vec<Diagnostic>,
    skipped: usize,
}

const KUSTOMIZATION_FILES: [&str; 3] = ["kustomization.yaml", "kustomization.yml", "Kustomization"];

/// Loads every input into one inventory. Never fails: problems become diagnostics.
pub fn load(inputs: &[Input], options: &LoadOptions) -> Loaded {
    let mut diagnostics = Vec::new();
    let mut units = Vec::new();
    for input in inputs {
        match input {
            Input::Stdin => units.push(Unit::Stdin),
            Input::Path(path) => discover(path, options, &mut units, &mut diagnostics),
        }
    }
    let results = run_parallel(&units, options);
    let mut sources = Vec::new();
    let mut objects = Vec::new();
    let mut skipped = 0;
    let files = units.len();
    for mut result in results {
        diagnostics.append(&mut result.diagnostics);
        skipped += result.skipped;
        if let Some(source) = result.source {
            let id = sources.len();
            sources.push(source);
            for mut object in result.objects {
                object.source = id;
                objects.push(object);
            }
        }
    }
    Loaded {
        inventory: Inventory::new(sources, objects),
        diagnostics,
        files,
        skipped_documents: skipped,
    }
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
fn loaded_from(path: &str, result: UnitResult) -> Loaded {
    let mut loaded = Loaded {
        files: 1,
        skipped_documents: result.skipped,
        diagnostics: result.diagnostics,
        ..Loaded::default()
    };
    loaded.inventory = Inventory::new(
        vec![Source {
            path: path.into(),
            rendered_by: None,
        }],
        result.objects,
    );
    loaded
}

/// Objects already in memory (a cluster read through its API), with no text to parse: item
/// `i` is placed at line `first_line + i`, column 1, of the source `name` (where a snapshot
/// file would have it: one item per line). The node limit and, with `limits.slim_snapshots`,
/// the slimming of controlled objects apply as when a snapshot file is read.
pub fn load_values(name: &str, items: Vec<Value>, first_line: u32, limits: &Limits) -> Loaded {
    let mut result = UnitResult {
        source: Some(Source {
            path: name.into(),
            rendered_by: None,
        }),
        ..UnitResult::default()
    };
    let controllers: std::collections::HashSet<String> = if limits.slim_snapshots {
        let kinds: Vec<(&str, &str)> = crate::podspec::pod_spec_kinds().collect();
        items
            .iter()
            .filter(|item| {
                let api = item.get("apiVersion").and_then(Value::as_str).unwrap_or("");
                let group = api.split_once('/').map_or("", |(g, _)| g);
                let kind = item.get("kind").and_then(Value::as_str).unwrap_or("");
                kinds.contains(&(group, kind))
            })
            .filter_map(|item| item.pointer("/metadata/uid").and_then(Value::as_str))
            .map(str::to_string)
            .collect()
    } else {
        std::collections::HashSet::new()
    };
    for (i, mut item) in items.into_iter().enumerate() {
        if limits.slim_snapshots
            && let Value::Object(map) = &mut item
        {
            slim(map, &controllers);
        }
        let line = first_line.saturating_add(u32::try_from(i).unwrap_or(u32::MAX));
        push_item(&mut result, name, limits, item, line, i);
    }
    loaded_from(name, result)
}

/// Loads one YAML or JSON text, as if read from `path`. Used by tests, the admission webhook
/// and anything else that has the bytes already.
pub fn load_text(path: &str, text: &str, limits: &Limits) -> Loaded {
    let result = objects_from_text(path, None, text, limits, &AtomicUsize::new(0));
    loaded_from(path, result)
}

fn display(path: &Path) -> String {
    path.to_string_lossy().into_owned()
}

fn is_manifest_file(path: &Path) -> bool {
    matches!(
        path.extension()
            .and_then(|e| e.to_str())
            .map(str::to_ascii_lowercase)
            .as_deref(),
        Some("yaml" | "yml" | "json")
    )
}

fn kustomization_in(dir: &Path) -> bool {
    KUSTOMIZATION_FILES.iter().any(|f| dir.join(f).is_file())
}

fn discover(
    path: &Path,
    options: &LoadOptions,
    units: &mut Vec<Unit>,
    diagnostics: &mut Vec<Diagnostic>,
) {
    let meta = match std::fs::metadata(path) {
        Ok(meta) => meta,
        Err(err) => {
            diagnostics.push(
                Diagnostic::new(DiagnosticLevel::Error, "io", format!("cannot read: {err}"))
                    .in_file(display(path)),
            );
            return;
        }
    };
    // Anything that is not a directory is read as a file: regular files, and also FIFOs and
    // the pipes of process substitution (`palisade scan <(kustomize build .)`).
    if !meta.is_dir() {
        let name = path
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or_default();
        if options.kustomize && KUSTOMIZATION_FILES.contains(&name) {
            let dir = path
                .parent()
                .map(Path::to_path_buf)
                .unwrap_or_else(|| PathBuf::from("."));
            units.push(Unit::Kustomize(dir));
        } else {
            units.push(Unit::File(path.to_path_buf()));
        }
        return;
    }
    let mut visited = std::collections::HashSet::new();
    if let Ok(canonical) = path.canonicalize() {
        visited.insert(canonical);
    }
    walk(path, options, units, diagnostics, &mut visited, 0);
}

/// Walks a directory in name order. Kustomization and chart directories are rendered as a
/// whole and not descended into: their files are inputs to the renderer, not manifests.
fn walk(
    dir: &Path,
    options: &LoadOptions,
    units: &mut Vec<Unit>,
    diagnostics: &mut Vec<Diagnostic>,
    visited: &mut std::collections::HashSet<PathBuf>,
    depth: usize,
) {
    if depth > 64 {
        diagnostics.push(
            Diagnostic::new(
                DiagnosticLevel::Warning,
                "io",
                "directory nesting deeper than 64 levels; not descended",
            )
            .in_file(display(dir)),
        );
        return;
    }
    if options.kustomize && kustomization_in(dir) {
        units.push(Unit::Kustomize(dir.to_path_buf()));
        return;
    }
    if dir.join("Chart.yaml").is_file() {
        units.push(Unit::Helm(dir.to_path_buf()));
        return;
    }
    let entries = match std::fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(err) => {
            diagnostics.push(
                Diagnostic::new(
                    DiagnosticLevel::Error,
                    "io",
                    format!("cannot list directory: {err}"),
                )
                .in_file(display(dir)),
            );
            return;
        }
    };
    let mut paths: Vec<PathBuf> = entries.filter_map(|e| e.ok().map(|e| e.path())).collect();
    paths.sort();
    for path in paths {
        let hidden = path
            .file_name()
            .and_then(|n| n.to_str())
            .is_some_and(|n| n.starts_with('.'));
        if hidden {
            continue;
        }
        // Symlinked directories are followed once: a directory reached again (a loop, or a
        // tree linked twice) is reported and not descended into a second time.
        let Ok(link_meta) = std::fs::symlink_metadata(&path) else {
            continue;
        };
        let is_dir = if link_meta.file_type().is_symlink() {
            path.is_dir()
        } else {
            link_meta.is_dir()
        };
        if is_dir {
            let canonical = path.canonicalize().unwrap_or_else(|_| path.clone());
            if !visited.insert(canonical.clone()) {
                diagnostics.push(
                    Diagnostic::new(
                        DiagnosticLevel::Info,
                        "symlink-loop",
                        format!(
                            "symbolic link to {}, which is scanned already; not followed again",
                            display(&canonical)
                        ),
                    )
                    .in_file(display(&path)),
                );
                continue;
            }
            walk(&path, options, units, diagnostics, visited, depth + 1);
        } else if is_manifest_file(&path) && path.is_file() {
            units.push(Unit::File(path));
        }
    }
}

fn run_parallel(units: &[Unit], options: &LoadOptions) -> Vec<UnitResult> {
    // Alias expansion is budgeted for the whole run, across threads.
    let run_aliases = AtomicUsize::new(0);
    let threads = match options.threads {
        0 => std::thread::available_parallelism().map_or(1, usize::from),
        n => n,
    }
    .min(units.len())
    .max(1);
    let next = AtomicUsize::new(0);
    let slots: Vec<Mutex<Option<UnitResult>>> = units.iter().map(|_| Mutex::new(None)).collect();
    std::thread::scope(|scope| {
        for _ in 0..threads {
            scope.spawn(|| {
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    let Some(unit) = units.get(i) else { break };
                    let result = load_unit(unit, options, &run_aliases);
                    if let Ok(mut slot) = slots[i].lock() {
                        *slot = Some(result);
                    }
                }
            });
        }
    });
    slots
        .into_iter()
        .map(|slot| slot.into_inner().ok().flatten().unwrap_or_default())
        .collect()
}

fn load_unit(unit: &Unit, options: &LoadOptions, run_aliases: &AtomicUsize) -> UnitResult {
    match unit {
        Unit::File(path) => {
            let name = display(path);
            match read_limited(path, options.limits.max_file_bytes) {
                Ok(bytes) => objects_from_bytes(&name, None, &bytes, &options.limits, run_aliases),
                Err(message) => failed(&name, None, "io", message),
            }
        }
        Unit::Stdin => {
            let mut bytes = Vec::new();
            let limit = options.limits.max_file_bytes;
            match std::io::stdin()
                .lock()
                .take(limit + 1)
                .read_to_end(&mut bytes)
            {
                Ok(_) if bytes.len() as u64 > limit => failed(
                    "-",
                    None,
                    "limit-exceeded",
                    format!("standard input is over the {} limit", mib(limit)),
                ),
                Ok(_) => objects_from_bytes("-", None, &bytes, &options.limits, run_aliases),
                Err(err) => failed(
                    "-",
                    None,
                    "io",
                    format!("cannot read standard input: {err}"),
                ),
            }
        }
        Unit::Kustomize(dir) => render(
            dir,
            "kustomize",
            kustomize_commands(dir),
            options,
            run_aliases,
        ),
        Unit::Helm(dir) => {
            if !options.helm {
                // Asked for: said, but not a gap in the run.
                return skipped_chart(dir, DiagnosticLevel::Info, "Helm rendering is disabled");
            }
            let release = dir
                .file_name()
                .and_then(|n| n.to_str())
                .unwrap_or("release")
                .to_ascii_lowercase();
            let mut cmd = Command::new("helm");
            cmd.arg("template").arg(&release).arg(dir);
            render(dir, "helm", vec![cmd], options, run_aliases)
        }
    }
}

fn skipped_chart(dir: &Path, level: DiagnosticLevel, why: &str) -> UnitResult {
    UnitResult {
        diagnostics: vec![
            Diagnostic::new(
                level,
                "not-rendered",
                format!(
                    "Helm chart not scanned: {why}. Render it yourself and pipe it in: \
                     `helm template RELEASE {} | palisade scan -`",
                    display(dir)
                ),
            )
            .in_file(display(dir)),
        ],
        ..UnitResult::default()
    }
}

fn kustomize_commands(dir: &Path) -> Vec<Command> {
    let mut kubectl = Command::new("kubectl");
    kubectl.arg("kustomize").arg(dir);
    let mut kustomize = Command::new("kustomize");
    kustomize.arg("build").arg(dir);
    vec![kubectl, kustomize]
}

fn mib(bytes: u64) -> String {
    format!("{} MiB", bytes / (1024 * 1024))
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
    rendered_by: Option<&'static str>,
    code: &'static str,
    message: String,
) -> UnitResult {
    let diagnostic = Diagnostic::new(DiagnosticLevel::Error, code, message).in_file(path);
    failed_with(path, rendered_by, diagnostic)
}

/// A source that yielded nothing but `diagnostic`.
fn failed_with(
    path: &str,
    rendered_by: Option<&'static str>,
    diagnostic: Diagnostic,
) -> UnitResult {
    UnitResult {
        source: Some(Source {
            path: path.into(),
            rendered_by,
        }),
        diagnostics: vec![diagnostic],
        ..UnitResult::default()
    }
}

/// Runs the first renderer that exists and parses its output.
fn render(
    dir: &Path,
    renderer: &'static str,
    commands: Vec<Command>,
    options: &LoadOptions,
    run_aliases: &AtomicUsize,
) -> UnitResult {
    let name = display(dir);
    let mut tried = Vec::new();
    for mut cmd in commands {
        let program = cmd.get_program().to_string_lossy().into_owned();
        match run_with_timeout(
            &mut cmd,
            options.render_timeout,
            options.limits.max_file_bytes,
        ) {
            Err(RunError::NotFound) => tried.push(program),
            Err(RunError::Failed(message)) => {
                return failed(
                    &name,
                    Some(renderer),
                    "render-failed",
                    format!("`{program}` failed: {message}"),
                );
            }
            Ok(output) => {
                return objects_from_bytes(
                    &name,
                    Some(renderer),
                    &output,
                    &options.limits,
                    run_aliases,
                );
            }
        }
    }
    if renderer == "helm" {
        // Not scanned though it was asked for: the run is incomplete.
        return skipped_chart(dir, DiagnosticLevel::Error, "`helm` is not on PATH");
    }
    failed(
        &name,
        Some(renderer),
        "not-rendered",
        format!(
            "Kustomization not rendered: none of {} is on PATH. Render it yourself and pipe it in: \
             `kubectl kustomize {name} | palisade scan -`",
            tried.join(", ")
        ),
    )
}

enum RunError {
    NotFound,
    Failed(String),
}

fn run_with_timeout(cmd: &mut Command, timeout: Duration, limit: u64) -> Result<Vec<u8>, RunError> {
    let mut child = cmd
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| {
            if e.kind() == std::io::ErrorKind::NotFound {
                RunError::NotFound
            } else {
                RunError::Failed(e.to_string())
            }
        })?;
    // Drain both pipes on threads so a chatty renderer cannot block on a full pipe.
    let mut stdout = child.stdout.take();
    let mut stderr = child.stderr.take();
    let out_reader = std::thread::spawn(move || {
        let mut buf = Vec::new();
        if let Some(out) = stdout.as_mut() {
            let _ = out.take(limit + 1).read_to_end(&mut buf);
        }
        buf
    });
    let err_reader = std::thread::spawn(move || {
        let mut buf = Vec::new();
        if let Some(err) = stderr.as_mut() {
            let _ = err.take(64 * 1024).read_to_end(&mut buf);
        }
        buf
    });
    let start = Instant::now();
    let status = loop {
        match child.try_wait() {
            Ok(Some(status)) => break status,
            Ok(None) if start.elapsed() > timeout => {
                let _ = child.kill();
                let _ = child.wait();
                return Err(RunError::Failed(format!(
                    "timed out after {} s (a remote base that cannot be fetched?)",
                    timeout.as_secs()
                )));
            }
            Ok(None) => std::thread::sleep(Duration::from_millis(10)),
            Err(e) => return Err(RunError::Failed(e.to_string())),
        }
    };
    let out = out_reader.join().unwrap_or_default();
    let err = err_reader.join().unwrap_or_default();
    if !status.success() {
        let text = String::from_utf8_lossy(&err);
        let first = text
            .lines()
            .find(|l| !l.trim().is_empty())
            .unwrap_or("no message");
        return Err(RunError::Failed(format!("{status}: {}", first.trim())));
    }
    if out.len() as u64 > limit {
        return Err(RunError::Failed(format!(
            "output is over the {} limit",
            mib(limit)
        )));
    }
    Ok(out)
}

fn objects_from_bytes(
    path: &str,
    rendered_by: Option<&'static str>,
    bytes: &[u8],
    limits: &Limits,
    run_aliases: &AtomicUsize,
) -> UnitResult {
    // An encoding problem fails the whole file, at the line where it starts when known.
    let encoding = |message: String, offset: Option<usize>| {
        let mut diagnostic =
            Diagnostic::new(DiagnosticLevel::Error, "encoding", message).in_file(path);
        diagnostic.line = offset.map(|o| line_of_offset(bytes, o));
        failed_with(path, rendered_by, diagnostic)
    };
    if bytes.starts_with(&[0xff, 0xfe]) || bytes.starts_with(&[0xfe, 0xff]) {
        return encoding(
            "UTF-16 is not supported; save the file as UTF-8".into(),
            None,
        );
    }
    match std::str::from_utf8(bytes) {
        Ok(text) => match text.find('\0') {
            Some(nul) => encoding(
                "binary file (contains NUL bytes); not scanned".into(),
                Some(nul),
            ),
            None => objects_from_text(path, rendered_by, text, limits, run_aliases),
        },
        Err(err) => {
            let offset = err.valid_up_to();
            encoding(
                format!(
                    "invalid UTF-8 at byte {offset}; Kubernetes manifests must be UTF-8; not scanned"
                ),
                Some(offset),
            )
        }
    }
}

/// The 1-based line that byte `offset` of `bytes` is on.
fn line_of_offset(bytes: &[u8], offset: usize) -> u32 {
    let newlines = bytes[..offset.min(bytes.len())]
        .iter()
        .filter(|&&b| b == b'\n')
        .count();
    u32::try_from(newlines + 1).unwrap_or(u32::MAX)
}

/// Whether the text looks like an unrendered Go/Helm template.
fn looks_templated(text: &str) -> bool {
    text.contains("{{")
}

/// Pass 1 of reading a snapshot slimly: the uids of the controllers that have a pod template
/// (their pods and ReplicaSets are judged on them). `None` when the text is not JSON.
fn controllers_with_templates(text: &str) -> Option<std::collections::HashSet<String>> {
    #[derive(serde::Deserialize, Default)]
    #[serde(default)]
    struct Meta {
        uid: Option<String>,
    }
    #[derive(serde::Deserialize, Default)]
    #[serde(default, rename_all = "camelCase")]
    struct Head {
        api_version: String,
        kind: String,
        metadata: Meta,
    }
    #[derive(serde::Deserialize, Default)]
    #[serde(default)]
    struct Heads {
        items: Vec<Head>,
    }
    let heads: Heads = serde_json::from_str(text).ok()?;
    let kinds: Vec<(&str, &str)> = crate::podspec::pod_spec_kinds().collect();
    Some(
        heads
            .items
            .into_iter()
            .filter(|h| {
                let group = h.api_version.split_once('/').map_or("", |(g, _)| g);
                kinds.contains(&(group, h.kind.as_str()))
            })
            .filter_map(|h| h.metadata.uid)
            .collect(),
    )
}

/// Drops what a snapshot item does not need: `managedFields`, and for an object a
/// controller in the snapshot judges (its pods and ReplicaSets), everything but the node a pod
/// runs on.
fn slim(map: &mut serde_json::Map<String, Value>, controllers: &std::collections::HashSet<String>) {
    let controlled = map
        .get("metadata")
        .and_then(|m| m.get("ownerReferences"))
        .and_then(Value::as_array)
        .and_then(|refs| {
            refs.iter()
                .find(|r| r.get("controller").and_then(Value::as_bool) == Some(true))
        })
        .and_then(|owner| owner.get("uid").and_then(Value::as_str))
        .is_some_and(|uid| controllers.contains(uid));
    if let Some(metadata) = map.get_mut("metadata").and_then(Value::as_object_mut) {
        metadata.remove("managedFields");
    }
    if controlled {
        // The node a pod runs on stays: the RBAC graph places tokens on
        // nodes with it.
        let node = map
            .get("spec")
            .and_then(|s| s.get("nodeName"))
            .filter(|n| n.is_string())
            .cloned();
        map.remove("status");
        match node {
            Some(node) => {
                let mut spec = serde_json::Map::new();
                spec.insert("nodeName".into(), node);
                map.insert("spec".into(), Value::Object(spec));
            }
            None => {
                map.remove("spec");
            }
        }
    }
}

/// Adds one item of a large JSON list, unless it is over the node limit or not an object.
fn push_item(
    result: &mut UnitResult,
    path: &str,
    limits: &Limits,
    item: Value,
    line: u32,
    index: usize,
) {
    if crate::spans::count_nodes(&item) > limits.max_nodes {
        result.diagnostics.push(
            Diagnostic::new(
                DiagnosticLevel::Error,
                "limit-exceeded",
                format!(
                    "/items/{} has more than {} nodes; skipped",
                    index, limits.max_nodes
                ),
            )
            .in_file(path)
            .at(line, 1),
        );
        return;
    }
    let spans = Spans::uniform(&item, crate::spans::Pos { line, column: 1 });
    match Object::from_value(item, spans, 0, 0) {
        Some(object) => result.objects.push(object),
        None => result.diagnostics.push(
            Diagnostic::new(
                DiagnosticLevel::Warning,
                "not-an-object",
                format!("/items/{} has no apiVersion or kind; skipped", index),
            )
            .in_file(path)
            .at(line, 1),
        ),
    }
}

/// Above this size a JSON document (a cluster snapshot, a `kubectl get -o json` dump) is read
/// with the JSON parser: one document of hundreds of thousands of objects would otherwise
/// count as one document against the node limit, and the JSON parser needs far less memory.
const LARGE_JSON_BYTES: usize = 8 << 20;

/// Reads a large JSON document of objects, one item at a time so that the whole document is
/// never held as one tree. Every node of an item gets the item's position: its own line in
/// Palisade snapshots (one item per line), the document's start otherwise. `None` when the
/// text is not JSON (it is then read as YAML, which reports the problem).
fn large_json(
    path: &str,
    rendered_by: Option<&'static str>,
    text: &str,
    limits: &Limits,
) -> Option<UnitResult> {
    use serde::de::{DeserializeSeed, Deserializer, MapAccess, SeqAccess, Visitor};

    let mut result = UnitResult {
        source: Some(Source {
            path: path.into(),
            rendered_by,
        }),
        ..UnitResult::default()
    };
    // Pass 1 (when slimming): the uids of controllers with a pod template.
    let controllers: std::collections::HashSet<String> = if limits.slim_snapshots {
        controllers_with_templates(text)?
    } else {
        std::collections::HashSet::new()
    };
    // Palisade snapshots write `"items": [` on its own line and one item per line.
    let first_item_line = text
        .find("\n\"items\": [\n")
        .map(|at| text[..at].matches('\n').count() as u32 + 3);

    struct Top<'r, 'c> {
        path: &'r str,
        result: &'r mut UnitResult,
        limits: &'r Limits,
        controllers: &'c std::collections::HashSet<String>,
        first_item_line: Option<u32>,
        api: Option<String>,
        kind: Option<String>,
        had_items: bool,
    }

    struct Items<'t, 'r, 'c>(&'t mut Top<'r, 'c>);

    impl<'de> DeserializeSeed<'de> for Items<'_, '_, '_> {
        type Value = ();
        fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
            deserializer.deserialize_seq(self)
        }
    }

    impl<'de> Visitor<'de> for Items<'_, '_, '_> {
        type Value = ();
        fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str("a list of objects")
        }
        fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
            let top = self.0;
            let item_kind = top
                .kind
                .as_deref()
                .and_then(|k| k.strip_suffix("List"))
                .unwrap_or_default()
                .to_string();
            let unsupported = top.kind.as_deref() == Some(SNAPSHOT_KIND)
                && top.api.as_deref() != Some(SNAPSHOT_API_VERSION);
            let mut i = 0usize;
            while let Some(mut item) = seq.next_element::<Value>()? {
                let line = top.first_item_line.map_or(1, |l| l + i as u32);
                i += 1;
                if unsupported {
                    continue;
                }
                if let Value::Object(map) = &mut item {
                    if !item_kind.is_empty() && !map.contains_key("kind") {
                        map.insert("kind".into(), Value::String(item_kind.clone()));
                        map.insert(
                            "apiVersion".into(),
                            Value::String(top.api.clone().unwrap_or_default()),
                        );
                    }
                    if top.limits.slim_snapshots {
                        slim(map, top.controllers);
                    }
                }
                push_item(top.result, top.path, top.limits, item, line, i - 1);
            }
            Ok(())
        }
    }

    impl<'de> Visitor<'de> for &mut Top<'_, '_> {
        type Value = ();
        fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str("a JSON object")
        }
        fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
            while let Some(key) = map.next_key::<String>()? {
                match key.as_str() {
                    "items" => {
                        self.had_items = true;
                        map.next_value_seed(Items(self))?;
                    }
                    "apiVersion" => {
                        self.api = map.next_value::<Value>()?.as_str().map(str::to_string)
                    }
                    "kind" => self.kind = map.next_value::<Value>()?.as_str().map(str::to_string),
                    _ => {
                        map.next_value::<serde::de::IgnoredAny>()?;
                    }
                }
            }
            Ok(())
        }
    }

    let mut top = Top {
        path,
        result: &mut result,
        limits,
        controllers: &controllers,
        first_item_line,
        api: None,
        kind: None,
        had_items: false,
    };
    // serde_json's recursion limit (128) stays on: hostile nesting is an error, not a crash.
    let mut deserializer = serde_json::Deserializer::from_str(text);
    if (&mut deserializer).deserialize_map(&mut top).is_err() {
        return None;
    }
    let (api, kind, had_items) = (top.api.clone(), top.kind.clone(), top.had_items);
    if kind.as_deref() == Some(SNAPSHOT_KIND) && api.as_deref() != Some(SNAPSHOT_API_VERSION) {
        result.diagnostics.push(
            Diagnostic::new(
                DiagnosticLevel::Error,
                "unsupported-snapshot",
                format!(
                    "snapshot format {} is not supported; this palisade reads {SNAPSHOT_API_VERSION} (take the snapshot again with this version)",
                    api.unwrap_or_default()
                ),
            )
            .in_file(path)
            .at(1, 1),
        );
    } else if !had_items {
        // One large object, not a list: read it whole.
        let value: Value = serde_json::from_str(text).ok()?;
        let spans = Spans::uniform(&value, crate::spans::Pos { line: 1, column: 1 });
        add_document(&mut result, path, value, spans, 0);
    }
    Some(result)
}

fn objects_from_text(
    path: &str,
    rendered_by: Option<&'static str>,
    text: &str,
    limits: &Limits,
    run_aliases: &AtomicUsize,
) -> UnitResult {
    if text.len() > LARGE_JSON_BYTES
        && text.trim_start().starts_with('{')
        && let Some(result) = large_json(path, rendered_by, text, limits)
    {
        return result;
    }
    let stream = parse_stream_in_run(text, limits, run_aliases);
    let mut result = UnitResult {
        source: Some(Source {
            path: path.into(),
            rendered_by,
        }),
        ..UnitResult::default()
    };
    let templated = looks_templated(text);
    if templated && !stream.errors.is_empty() {
        // A template is not YAML until rendered; one diagnostic for the file says so.
        result.diagnostics.push(
            Diagnostic::new(
                DiagnosticLevel::Info,
                "not-rendered",
                "contains `{{ }}` template directives and is not valid YAML: an unrendered Helm or \
                 Go template; render it (`helm template ...`) and pipe the output to `palisade scan -`",
            )
            .in_file(path),
        );
        return result;
    }
    for issue in &stream.errors {
        result.diagnostics.push(issue_diagnostic(
            path,
            issue,
            guess_object(text, issue.pos.line),
        ));
    }
    for (document, doc) in stream.documents.into_iter().enumerate() {
        let object_name = object_ref(&doc.value).map(|id| id.to_string());
        if templated && doc.warnings.iter().any(|w| w.code == "non-string-key") {
            result.diagnostics.push(
                Diagnostic::new(
                    DiagnosticLevel::Info,
                    "not-rendered",
                    "document contains `{{ }}` template directives (an unrendered Helm or Go template); skipped",
                )
                .in_file(path)
                .at(doc.spans.pos().line, 1),
            );
            continue;
        }
        for warning in &doc.warnings {
            let mut d = issue_diagnostic(path, warning, object_name.clone());
            d.level = DiagnosticLevel::Warning;
            result.diagnostics.push(d);
        }
        add_document(&mut result, path, doc.value, doc.spans, document);
    }
    result
}

/// The kind and format version of Palisade's cluster snapshots (see `palisade-snapshot`):
/// their `items` are read like a List's.
pub const SNAPSHOT_KIND: &str = "ClusterSnapshot";
pub const SNAPSHOT_API_VERSION: &str = "palisade.dev/v1alpha1";

/// Adds a document's object, a List's items, or a snapshot's items.
fn add_document(result: &mut UnitResult, path: &str, value: Value, spans: Spans, document: usize) {
    let Some(map) = value.as_object() else {
        if !value.is_null() {
            result.skipped += 1;
        }
        return;
    };
    let line = spans.pos().line;
    let api_version = map.get("apiVersion");
    let kind = map.get("kind");
    match (api_version, kind) {
        (Some(Value::String(api)), Some(Value::String(kind)))
            if kind == SNAPSHOT_KIND && api != SNAPSHOT_API_VERSION =>
        {
            result.diagnostics.push(
                Diagnostic::new(
                    DiagnosticLevel::Error,
                    "unsupported-snapshot",
                    format!(
                        "snapshot format {api} is not supported; this palisade reads {SNAPSHOT_API_VERSION} (take the snapshot again with this version)"
                    ),
                )
                .in_file(path)
                .at(line, 1),
            );
        }
        (Some(Value::String(_)), Some(Value::String(kind)))
            if (kind.ends_with("List") || kind == SNAPSHOT_KIND)
                && map.get("items").is_some_and(Value::is_array) =>
        {
            expand_list(result, path, value, spans, document);
        }
        (Some(Value::String(_)), Some(Value::String(_))) => {
            match Object::from_value(value, spans, 0, document) {
                Some(object) => result.objects.push(object),
                None => {
                    result.diagnostics.push(
                        Diagnostic::new(
                            DiagnosticLevel::Warning,
                            "not-an-object",
                            "empty apiVersion or kind; document skipped",
                        )
                        .in_file(path)
                        .at(line, 1),
                    );
                }
            }
        }
        (None, None) => result.skipped += 1,
        (a, k) => {
            let what = match (a, k) {
                (Some(Value::String(_)), None) => "has apiVersion but no kind".to_string(),
                (None, Some(Value::String(_))) => "has kind but no apiVersion".to_string(),
                _ => "has an apiVersion or kind that is not a string".to_string(),
            };
            result.diagnostics.push(
                Diagnostic::new(
                    DiagnosticLevel::Warning,
                    "not-an-object",
                    format!("document {what}; skipped"),
                )
                .in_file(path)
                .at(line, 1),
            );
        }
    }
}

fn expand_list(result: &mut UnitResult, path: &str, value: Value, spans: Spans, document: usize) {
    let list_pos = spans.pos();
    // Spans always mirror the value, so this yields one entry per item; the fallback only keeps
    // an item (at the list's position) should that ever not hold.
    let mut item_spans = spans
        .sequence_items(&value, ["items"])
        .unwrap_or_default()
        .into_iter();
    let Value::Object(mut map) = value else {
        return;
    };
    let text = |key: &str| {
        map.get(key)
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string()
    };
    let list_api = text("apiVersion");
    let list_kind = text("kind");
    let item_kind = list_kind
        .strip_suffix("List")
        .unwrap_or_default()
        .to_string();
    let Some(Value::Array(items)) = map.remove("items") else {
        return;
    };
    for (i, mut item) in items.into_iter().enumerate() {
        let mut item_span = item_spans
            .next()
            .unwrap_or_else(|| Spans::uniform(&item, list_pos));
        // Typed lists from the API (`DeploymentList`) omit each item's apiVersion and kind.
        if let Value::Object(item_map) = &mut item
            && !item_kind.is_empty()
            && !item_map.contains_key("kind")
        {
            item_map.insert("kind".into(), Value::String(item_kind.clone()));
            item_map.insert("apiVersion".into(), Value::String(list_api.clone()));
            item_span.append(2, item_span.pos());
        }
        let line = item_span.pos().line;
        match Object::from_value(item, item_span, 0, document) {
            Some(object) => result.objects.push(object),
            None => result.diagnostics.push(
                Diagnostic::new(
                    DiagnosticLevel::Warning,
                    "not-an-object",
                    format!("/items/{i} of {list_kind} has no apiVersion or kind; skipped"),
                )
                .in_file(path)
                .at(line, 1),
            ),
        }
    }
}

fn issue_diagnostic(path: &str, issue: &ParseIssue, object: Option<String>) -> Diagnostic {
    let level = if issue.fatal {
        DiagnosticLevel::Error
    } else {
        DiagnosticLevel::Warning
    };
    let message = if issue.fatal {
        format!("{}; this document was not scanned", issue.message)
    } else {
        issue.message.clone()
    };
    let mut d = Diagnostic::new(level, issue.code, message)
        .in_file(path)
        .at(issue.pos.line, issue.pos.column);
    d.object = object;
    d
}

/// Names the object a broken document was probably about, from its `kind:` and first
/// `name:` lines at the top of the document that contains `line`.
fn guess_object(text: &str, line: u32) -> Option<String> {
    let lines: Vec<&str> = text.lines().collect();
    let error_index = usize::try_from(line)
        .ok()?
        .saturating_sub(1)
        .min(lines.len());
    let start = lines[..error_index]
        .iter()
        .rposition(|l| l.starts_with("---"))
        .map_or(0, |i| i + 1);
    let mut kind = None;
    let mut name = None;
    for l in lines.iter().skip(start) {
        if l.starts_with("---") {
            break;
        }
        if let Some(k) = l.strip_prefix("kind:") {
            kind.get_or_insert_with(|| k.trim().trim_matches(['"', '\'']).to_string());
        } else if let Some(n) = l.strip_prefix("  name:") {
            name.get_or_insert_with(|| n.trim().trim_matches(['"', '\'']).to_string());
        } else if let Some(flow) = l
            .strip_prefix("metadata:")
            .and_then(|m| m.split_once("name:"))
        {
            // `metadata: {name: x, ...}`
            let n = flow.1.split([',', '}']).next().unwrap_or_default();
            name.get_or_insert_with(|| n.trim().trim_matches(['"', '\'']).to_string());
        }
        if kind.is_some() && name.is_some() {
            break;
        }
    }
    match (kind, name) {
        (Some(k), Some(n)) => Some(format!("{k} {n}")),
        (Some(k), None) => Some(k),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use palisade_core::JsonPointer;

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
    fn large_json_snapshots_stream_items_with_their_lines_and_slim_controlled_pods() {
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
        let slim = Limits {
            max_file_bytes: u64::MAX,
            slim_snapshots: true,
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
            Some(&serde_json::json!({"nodeName": "node-a"})),
            "a controlled pod keeps only its metadata and node"
        );
        assert!(pod.value.pointer("/metadata/managedFields").is_none());
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
                ..Limits::default()
            },
            &AtomicUsize::new(0),
        );
        assert!(
            full.objects[1]
                .value
                .pointer("/metadata/managedFields")
                .is_some(),
            "drift keeps managedFields"
        );
        let future = text.replacen("palisade.dev/v1alpha1", "palisade.dev/v2", 1);
        let unit = objects_from_text("big.json", None, &future, &slim, &AtomicUsize::new(0));
        assert!(unit.objects.is_empty());
        assert_eq!(unit.diagnostics[0].code, "unsupported-snapshot");
    }
}
