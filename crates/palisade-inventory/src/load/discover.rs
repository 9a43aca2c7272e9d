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

pub(super) fn kustomization_in(dir: &Path) -> bool {
    KUSTOMIZATION_FILES.iter().any(|f| dir.join(f).is_file())
}

pub(super) fn discover(
    path: &Path,
    options: &LoadOptions,
    sources: &mut Vec<Box<dyn ObjectSource>>,
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
            sources.push(Box::new(KustomizeSource(dir)));
        } else {
            sources.push(Box::new(FileSource(path.to_path_buf())));
        }
        return;
    }
    let mut visited = std::collections::HashSet::new();
    if let Ok(canonical) = path.canonicalize() {
        visited.insert(canonical);
    }
    walk(path, options, sources, diagnostics, &mut visited, 0);
}

/// Walks a directory in name order. Kustomization and chart directories are rendered as a
/// whole and not descended into: their files are inputs to the renderer, not manifests.
pub(super) fn walk(
    dir: &Path,
    options: &LoadOptions,
    sources: &mut Vec<Box<dyn ObjectSource>>,
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
        sources.push(Box::new(KustomizeSource(dir.to_path_buf())));
        return;
    }
    if dir.join("Chart.yaml").is_file() {
        sources.push(Box::new(HelmSource(dir.to_path_buf())));
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
            walk(&path, options, sources, diagnostics, visited, depth + 1);
        } else if is_manifest_file(&path) && path.is_file() {
            sources.push(Box::new(FileSource(path)));
        }
    }
}
