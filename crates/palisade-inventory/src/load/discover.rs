//! Finding the inputs: files and directories (followed once through symlinks), Kustomization
//! directories and Helm charts, in a stable order.

use super::*;

pub(super) const KUSTOMIZATION_FILES: [&str; 3] =
    ["kustomization.yaml", "kustomization.yml", "Kustomization"];

pub(super) fn display(path: &Path) -> String {
    path.to_string_lossy().into_owned()
}

pub(super) fn is_manifest_file(path: &Path) -> bool {
    matches!(
        path.extension()
            .and_then(|e| e.to_str())
            .map(str::to_ascii_lowercase)
            .as_deref(),
        Some("yaml" | "yml" | "json")
    )
}

/// The kustomization file of `dir`, if it has one.
pub fn kustomization_file(dir: &Path) -> Option<PathBuf> {
    KUSTOMIZATION_FILES
        .iter()
        .map(|f| dir.join(f))
        .find(|p| p.is_file())
}

pub(super) fn kustomization_in(dir: &Path) -> bool {
    kustomization_file(dir).is_some()
}

/// What the paths given hold.
#[derive(Default)]
pub(super) struct Found {
    pub(super) sources: Vec<Box<dyn ObjectSource>>,
    /// The Kustomization directories found while walking directories, by their index in
    /// `sources` (a kustomization named directly is not listed: it is always scanned).
    pub(super) kustomizations: Vec<(usize, PathBuf)>,
    /// The Helm charts found while walking directories, likewise.
    pub(super) charts: Vec<(usize, PathBuf)>,
}

pub(super) fn discover(
    path: &Path,
    options: &LoadOptions,
    found: &mut Found,
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
            found.sources.push(Box::new(KustomizeSource(dir)));
        } else {
            found.sources.push(Box::new(FileSource(path.to_path_buf())));
        }
        return;
    }
    let mut visited = std::collections::HashSet::new();
    if let Ok(canonical) = path.canonicalize() {
        visited.insert(canonical);
    }
    walk(path, options, found, diagnostics, &mut visited, 0);
}

/// Walks a directory in name order. Kustomization and chart directories are rendered as a
/// whole and not descended into: their files are inputs to the renderer, not manifests.
pub(super) fn walk(
    dir: &Path,
    options: &LoadOptions,
    found: &mut Found,
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
        found
            .kustomizations
            .push((found.sources.len(), dir.to_path_buf()));
        found
            .sources
            .push(Box::new(KustomizeSource(dir.to_path_buf())));
        return;
    }
    if dir.join("Chart.yaml").is_file() {
        found.charts.push((found.sources.len(), dir.to_path_buf()));
        found.sources.push(Box::new(HelmSource(dir.to_path_buf())));
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
            walk(&path, options, found, diagnostics, visited, depth + 1);
        } else if is_manifest_file(&path) && path.is_file() {
            found.sources.push(Box::new(FileSource(path)));
        }
    }
}

/// Drops what another source found while walking deploys as part of itself, and says so:
/// - a kustomization that another includes (as a resource, base or component, at any depth)
///   is scanned through the overlays that deploy it, unless `--all-kustomizations`;
/// - a chart that another chart depends on through `file://` is scanned through that chart,
///   rendered with its values (on its own it may not even render: it can use the parent's
///   helpers).
pub(super) fn keep_top_sources(
    found: &mut Found,
    options: &LoadOptions,
    diagnostics: &mut Vec<Diagnostic>,
) {
    let mut drop = Vec::new();
    if !options.all_kustomizations {
        drop.extend(included_roots(
            &found.kustomizations,
            |dir, seen| included(dir, options, seen, 0),
            ("kustomization-included", |including| {
                format!(
                    "included by the kustomization {including}, and scanned through it (what gets deployed); --all-kustomizations also scans it on its own"
                )
            }),
            diagnostics,
        ));
    }
    drop.extend(included_roots(
        &found.charts,
        |dir, seen| chart_dependencies(dir, options, seen, 0),
        ("chart-dependency", |including| {
            format!(
                "a dependency (file://) of the chart {including}, and scanned through it with its values (what gets deployed); name it on its own to scan it alone"
            )
        }),
        diagnostics,
    ));
    let mut index = 0;
    found.sources.retain(|_| {
        let keep = !drop.contains(&index);
        index += 1;
        keep
    });
    found.kustomizations.clear();
    found.charts.clear();
}

/// The source indices of the `roots` that another root includes (`includes` lists what a root
/// includes, canonical), each said in an info diagnostic: its code, and the message made of
/// the including root.
fn included_roots(
    roots: &[(usize, PathBuf)],
    includes: impl Fn(&Path, &mut Vec<PathBuf>),
    (code, say): (&'static str, fn(&str) -> String),
    diagnostics: &mut Vec<Diagnostic>,
) -> Vec<usize> {
    if roots.len() < 2 {
        return Vec::new();
    }
    let included_by: Vec<Vec<PathBuf>> = roots
        .iter()
        .map(|(_, dir)| {
            let mut seen = Vec::new();
            includes(dir, &mut seen);
            seen
        })
        .collect();
    let mut drop = Vec::new();
    for (i, (index, dir)) in roots.iter().enumerate() {
        let Ok(me) = dir.canonicalize() else { continue };
        let by = roots
            .iter()
            .enumerate()
            .find(|(j, _)| *j != i && included_by[*j].contains(&me));
        if let Some((_, (_, including))) = by {
            diagnostics.push(
                Diagnostic::new(DiagnosticLevel::Info, code, say(&display(including)))
                    .in_file(display(dir)),
            );
            drop.push(*index);
        }
    }
    drop
}

/// The charts the chart in `dir` depends on through `file://` repositories (Chart.yaml's
/// `dependencies`), at any depth, canonical.
fn chart_dependencies(dir: &Path, options: &LoadOptions, seen: &mut Vec<PathBuf>, depth: usize) {
    if depth > 16 {
        return;
    }
    for (_, target) in local_chart_dependencies(dir, &options.limits) {
        let Ok(target) = target.canonicalize() else {
            continue;
        };
        if !seen.contains(&target) {
            seen.push(target.clone());
            chart_dependencies(&target, options, seen, depth + 1);
        }
    }
}

/// The directories a kustomization includes (`resources`, `bases`, `components` that are
/// directories), at any depth, canonical.
pub(super) fn included(dir: &Path, options: &LoadOptions, seen: &mut Vec<PathBuf>, depth: usize) {
    if depth > 16 {
        return;
    }
    let Some(kustomization) =
        kustomization_file(dir).and_then(|file| first_document(&file, &options.limits))
    else {
        return;
    };
    for key in ["resources", "bases", "components"] {
        for entry in items(&kustomization, key) {
            let Some(path) = entry.as_str() else { continue };
            let Ok(target) = dir.join(path).canonicalize() else {
                continue;
            };
            if target.is_dir() && !seen.contains(&target) {
                seen.push(target.clone());
                included(&target, options, seen, depth + 1);
            }
        }
    }
}
