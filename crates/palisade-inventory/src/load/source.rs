//! Sources of objects behind one trait, read in parallel and merged in order by the inventory
//! builder. The manifest sources live here (a file, standard input, a Kustomize directory, a
//! Helm chart, values already in memory, a file's text in memory); other crates add theirs (a snapshot file and a live
//! cluster in `palisade-snapshot`, later an AdmissionReview or node files) by implementing
//! [`ObjectSource`], and every reader of the inventory sees them the same way.

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};

use palisade_core::{Diagnostic, DiagnosticLevel};
use serde_json::Value;

use super::{
    LoadOptions, Loaded, display, failed, inflated_charts, inflates_local_charts,
    kustomize_commands, mib, objects_from_bytes, read_limited, render, render_traced,
    skipped_chart,
};
use crate::inventory::Inventory;
use crate::object::{Object, Source};
use crate::yaml::Limits;

/// What one source produced, before merging.
#[derive(Debug, Default)]
pub struct SourceRead {
    /// Where the objects come from (a file, a rendered directory, a cluster context).
    pub source: Option<Source>,
    pub objects: Vec<Object>,
    pub diagnostics: Vec<Diagnostic>,
    /// Documents that are not Kubernetes objects.
    pub skipped: usize,
}

/// The state shared by the sources of one run: options, and budgets that hold across
/// sources (the alias expansions of every file together).
#[derive(Debug)]
pub struct Reading<'a> {
    pub options: &'a LoadOptions,
    pub(super) run_aliases: AtomicUsize,
}

impl<'a> Reading<'a> {
    pub fn new(options: &'a LoadOptions) -> Self {
        Reading {
            options,
            run_aliases: AtomicUsize::new(0),
        }
    }

    pub fn limits(&self) -> &Limits {
        &self.options.limits
    }

    /// Parses YAML or JSON bytes read from `name` within the run's budgets.
    pub fn parse(
        &self,
        name: &str,
        rendered_by: Option<palisade_core::Renderer>,
        bytes: &[u8],
    ) -> SourceRead {
        objects_from_bytes(
            name,
            rendered_by,
            bytes,
            &self.options.limits,
            &self.run_aliases,
        )
    }
}

/// Somewhere objects come from. A source is read once (standard input cannot be read twice;
/// values in memory are moved into the inventory), possibly on another thread.
pub trait ObjectSource: Send {
    /// Reads the objects. Never fails as a whole: what went wrong is a diagnostic naming
    /// the source, and whatever could be read is kept.
    fn read(self: Box<Self>, reading: &Reading<'_>) -> SourceRead;
}

/// One YAML or JSON file.
#[derive(Debug, Clone)]
pub struct FileSource(pub PathBuf);

impl ObjectSource for FileSource {
    fn read(self: Box<Self>, reading: &Reading<'_>) -> SourceRead {
        let name = display(&self.0);
        match read_limited(&self.0, reading.limits().max_file_bytes) {
            Ok(bytes) => leave_out_fragments(reading.parse(&name, None, &bytes), &name),
            Err(message) => failed(&name, None, "io", message),
        }
    }
}

/// A file's text held in memory (an edited file checked before it is written), read as
/// [`FileSource`] reads the file.
#[derive(Debug, Clone)]
pub struct TextSource {
    pub name: String,
    pub bytes: Vec<u8>,
}

impl ObjectSource for TextSource {
    fn read(self: Box<Self>, reading: &Reading<'_>) -> SourceRead {
        leave_out_fragments(reading.parse(&self.name, None, &self.bytes), &self.name)
    }
}

/// What a source produced already (objects kept from an earlier read), as it was.
impl ObjectSource for SourceRead {
    fn read(self: Box<Self>, _: &Reading<'_>) -> SourceRead {
        *self
    }
}

/// Standard input, named `-`.
#[derive(Debug, Clone, Copy)]
pub struct StdinSource;

impl ObjectSource for StdinSource {
    fn read(self: Box<Self>, reading: &Reading<'_>) -> SourceRead {
        let mut bytes = Vec::new();
        let limit = reading.limits().max_file_bytes;
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
            Ok(_) => leave_out_fragments(reading.parse("-", None, &bytes), "-"),
            Err(err) => failed(
                "-",
                None,
                "io",
                format!("cannot read standard input: {err}"),
            ),
        }
    }
}

/// Leaves out of manifests read as plain files the documents that are fragments of objects
/// (Kustomize patches, partial workloads): each is said, and none gives findings.
fn leave_out_fragments(mut read: SourceRead, name: &str) -> SourceRead {
    let mut kept = Vec::with_capacity(read.objects.len());
    // Each object is looked at on its own, so a large file's are looked at on every core.
    let fragments = palisade_core::parallel::map_each(
        &read.objects,
        crate::admissible::PER_CORE,
        crate::fragment::fragment,
    );
    for (object, fragment) in std::mem::take(&mut read.objects).into_iter().zip(fragments) {
        match fragment {
            Some(why) => read.diagnostics.push(
                Diagnostic::new(
                    DiagnosticLevel::Info,
                    "fragment",
                    format!(
                        "not scanned on its own: {why}, so it is a patch or a piece of an object; scan it through the kustomization that applies it"
                    ),
                )
                .in_file(name)
                .at(object.pos().line, object.pos().column)
                .on_object(object.id.to_string()),
            ),
            None => kept.push(object),
        }
    }
    read.objects = kept;
    read
}

/// A directory with a kustomization file, rendered by `kubectl kustomize` (or `kustomize`).
#[derive(Debug, Clone)]
pub struct KustomizeSource(pub PathBuf);

impl ObjectSource for KustomizeSource {
    fn read(self: Box<Self>, reading: &Reading<'_>) -> SourceRead {
        let remote = super::render::remote_references(&self.0, reading.options);
        if !remote.is_empty() {
            return not_fetched(&self.0, &remote);
        }
        let inflated = inflated_charts(&self.0, reading.options);
        let charts = inflates_local_charts(inflated, reading.options);
        let commands = kustomize_commands(&self.0, charts);
        let mut read = render(
            &self.0,
            palisade_core::Renderer::Kustomize,
            commands,
            reading,
        );
        if read.objects.is_empty() && inflated.1 > 0 {
            for diagnostic in &mut read.diagnostics {
                diagnostic.message.push_str(
                    "; it inflates Helm charts from a repository, which Palisade does not \
                     fetch (that would reach the network and write into the directory): pull \
                     them into chartHome, or pipe in `kustomize build --enable-helm DIR`",
                );
            }
        }
        super::origin::attach(&self.0, charts, &mut read, reading);
        read
    }
}

/// A kustomization that reads `remote` resources, not rendered: an error diagnostic naming
/// them (the run is incomplete), with the way to scan it.
fn not_fetched(dir: &Path, remote: &[String]) -> SourceRead {
    let shown: Vec<&str> = remote.iter().take(3).map(String::as_str).collect();
    let more = match remote.len().saturating_sub(shown.len()) {
        0 => String::new(),
        n => format!(" and {n} more"),
    };
    SourceRead {
        diagnostics: vec![
            Diagnostic::new(
                DiagnosticLevel::Error,
                "not-rendered",
                format!(
                    "Kustomization not rendered: it reads {}{more} from the network, which \
                     Kustomize would fetch and a scan does not. Render it where fetching is \
                     intended and pipe it in: `kubectl kustomize {} | palisade scan -`",
                    shown.join(", "),
                    display(dir)
                ),
            )
            .in_file(display(dir)),
        ],
        ..SourceRead::default()
    }
}

/// A directory with `Chart.yaml`, rendered by `helm template`.
#[derive(Debug, Clone)]
pub struct HelmSource(pub PathBuf);

impl ObjectSource for HelmSource {
    fn read(self: Box<Self>, reading: &Reading<'_>) -> SourceRead {
        let dir = &self.0;
        if !reading.options.helm {
            // Asked for: said, but not a gap in the run.
            return skipped_chart(dir, DiagnosticLevel::Info, "Helm rendering is disabled");
        }
        let release = release_name(dir);
        // Into a namespace of the release's name, as `helm install NAME -n NAME` would: Helm's
        // own default, `default`, would put every object of `{{ .Release.Namespace }}` in the
        // default namespace and report each one for it.
        let mut cmd = Command::new("helm");
        cmd.arg("template")
            .arg(&release)
            .arg(dir)
            .arg("--namespace")
            .arg(&release);
        for file in &reading.options.helm_values {
            cmd.arg("--values").arg(file);
        }
        for value in &reading.options.helm_set {
            cmd.arg("--set").arg(value);
        }
        render_traced(
            dir,
            palisade_core::Renderer::Helm,
            vec![cmd],
            reading,
            |output, read| {
                super::template::attach(dir, output, read, reading);
            },
        )
    }
}

/// A release name Helm accepts (lower-case letters, digits and `-`, at most 53 characters)
/// made from the chart directory's name: `My_Chart.v2` renders as `my-chart-v2`.
fn release_name(dir: &Path) -> String {
    let named = dir
        .file_name()
        .map(std::ffi::OsStr::to_os_string)
        .or_else(|| dir.canonicalize().ok()?.file_name().map(Into::into))
        .unwrap_or_default();
    let lower: String = named
        .to_string_lossy()
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_lowercase()
            } else {
                '-'
            }
        })
        .collect();
    let mut release = lower
        .split('-')
        .filter(|part| !part.is_empty())
        .collect::<Vec<_>>()
        .join("-");
    release.truncate(53);
    let release = release.trim_end_matches('-');
    if release.is_empty() {
        "release".into()
    } else {
        release.into()
    }
}

/// Objects already in memory (a cluster read through its API), with no text to parse; see
/// [`crate::load_values`] for where they are placed.
#[derive(Debug, Clone)]
pub struct ValuesSource {
    pub name: String,
    pub items: Vec<Value>,
    pub first_line: u32,
}

impl ObjectSource for ValuesSource {
    fn read(self: Box<Self>, reading: &Reading<'_>) -> SourceRead {
        super::read_values(&self.name, self.items, self.first_line, reading.limits())
    }
}

/// Merges what sources produced, in the order they are added, into one inventory.
#[derive(Debug, Default)]
pub struct InventoryBuilder {
    sources: Vec<Source>,
    objects: Vec<Object>,
    diagnostics: Vec<Diagnostic>,
    files: usize,
    skipped: usize,
}

impl InventoryBuilder {
    /// Adds one source's objects (numbered as that source) and diagnostics, with a warning
    /// for every value the API server would reject.
    pub fn add(&mut self, mut read: SourceRead) {
        self.files += 1;
        if let Some(source) = &read.source {
            crate::admissible::diagnose(&read.objects, &source.path, &mut read.diagnostics);
        }
        self.diagnostics.append(&mut read.diagnostics);
        self.skipped += read.skipped;
        if let Some(source) = read.source {
            let id = self.sources.len();
            self.sources.push(source);
            for mut object in read.objects {
                object.source = id;
                self.objects.push(object);
            }
        }
    }

    pub fn finish(self) -> Loaded {
        Loaded {
            inventory: Inventory::new(self.sources, self.objects),
            diagnostics: self.diagnostics,
            files: self.files,
            skipped_documents: self.skipped,
        }
    }
}

/// Reads sources on a pool of threads (`options.threads`; 0 is one per core) and merges them
/// in the order given, so the inventory does not depend on which thread finished first.
pub fn read_sources(sources: Vec<Box<dyn ObjectSource>>, options: &LoadOptions) -> Loaded {
    let reading = Reading::new(options);
    let threads = match options.threads {
        0 => palisade_core::parallel::cores(),
        n => n,
    }
    .min(sources.len())
    .max(1);
    let next = AtomicUsize::new(0);
    let count = sources.len();
    let pending: Vec<Mutex<Option<Box<dyn ObjectSource>>>> =
        sources.into_iter().map(|s| Mutex::new(Some(s))).collect();
    let slots: Vec<Mutex<Option<SourceRead>>> = (0..count).map(|_| Mutex::new(None)).collect();
    std::thread::scope(|scope| {
        for _ in 0..threads {
            scope.spawn(|| {
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    let Some(slot) = pending.get(i) else { break };
                    let Some(source) = slot.lock().ok().and_then(|mut s| s.take()) else {
                        continue;
                    };
                    let read = source.read(&reading);
                    if let Ok(mut out) = slots[i].lock() {
                        *out = Some(read);
                    }
                }
            });
        }
    });
    let mut builder = InventoryBuilder::default();
    for slot in slots {
        builder.add(slot.into_inner().ok().flatten().unwrap_or_default());
    }
    builder.finish()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn release_names_are_what_helm_accepts() {
        for (dir, release) in [
            ("charts/web", "web"),
            ("My_Chart.v2", "my-chart-v2"),
            ("--x--", "x"),
            ("___", "release"),
            ("/", "release"),
        ] {
            assert_eq!(release_name(Path::new(dir)), release, "{dir}");
        }
        let long = release_name(Path::new(&"a-".repeat(40)));
        assert!(long.len() <= 53 && !long.ends_with('-'), "{long}");
    }

    /// A source from another crate's point of view: objects from anywhere.
    struct Fixed(&'static str);

    impl ObjectSource for Fixed {
        fn read(self: Box<Self>, reading: &Reading<'_>) -> SourceRead {
            reading.parse(
                self.0,
                None,
                b"apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\n",
            )
        }
    }

    #[test]
    fn sources_merge_in_the_order_given_whatever_the_threads() {
        for threads in [1, 4] {
            let options = LoadOptions {
                threads,
                ..LoadOptions::default()
            };
            let sources: Vec<Box<dyn ObjectSource>> = vec![
                Box::new(Fixed("a.yaml")),
                Box::new(ValuesSource {
                    name: "cluster".into(),
                    items: vec![
                        serde_json::json!({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "s"}}),
                    ],
                    first_line: 8,
                }),
                Box::new(FileSource("/nonexistent/palisade/x.yaml".into())),
                Box::new(Fixed("b.yaml")),
            ];
            let loaded = read_sources(sources, &options);
            let names: Vec<String> = loaded
                .inventory
                .objects
                .iter()
                .map(|o| format!("{}@{}", o.id, loaded.inventory.sources[o.source].path))
                .collect();
            assert_eq!(
                names,
                [
                    "ConfigMap c@a.yaml",
                    "Secret s@cluster",
                    "ConfigMap c@b.yaml"
                ]
            );
            assert_eq!(loaded.files, 4);
            assert_eq!(loaded.diagnostics.len(), 1, "the missing file is said");
            assert_eq!(loaded.diagnostics[0].code, "io");
        }
    }
}
