//! `--secrets-in-all-files`: secrets in the files of the inputs that are not Kubernetes
//! manifests (`.env`, `*.properties`, `*.ini`, `*.conf`, Helm `values.yaml`, any YAML or JSON
//! file that held no object). They go through the same detectors as objects' fields, and
//! their findings name the file and line, with the file as the subject.
//!
//! Off by default: a scan of manifests should not read every file of a repository.

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use palisade_core::{
    Diagnostic, DiagnosticLevel, Finding, JsonPointer, Location, Severity, Subject,
};
use palisade_inventory::{Input, Inventory};

/// Most files read; a bound for a mistyped root directory.
const MAX_FILES: usize = 20_000;
/// Directories never descended into.
const SKIPPED_DIRS: &[&str] = &[
    ".git",
    "node_modules",
    "target",
    "vendor",
    ".terraform",
    "__pycache__",
];

/// The findings and diagnostics of the loose files of `inputs`, for the rules in `active`,
/// and the secrets found (for the redactor).
pub struct LooseFiles {
    pub findings: Vec<Finding>,
    pub diagnostics: Vec<Diagnostic>,
    pub secrets: Vec<String>,
}

/// Scans the loose files under `inputs` (those `inventory` holds no object from).
pub fn scan(
    inputs: &[Input],
    inventory: &Inventory,
    active: &HashSet<String>,
    max_bytes: u64,
) -> LooseFiles {
    let with_objects: HashSet<&str> = inventory
        .objects
        .iter()
        .map(|o| &*inventory.source_of(o).path)
        .collect();
    let mut files = Vec::new();
    for input in inputs {
        if let Input::Path(path) = input {
            collect(path, &mut files);
        }
    }
    files.sort();
    files.dedup();
    let mut out = LooseFiles {
        findings: Vec::new(),
        diagnostics: Vec::new(),
        secrets: Vec::new(),
    };
    for path in files.iter().take(MAX_FILES) {
        let shown = path.to_string_lossy();
        if with_objects.contains(shown.as_ref()) {
            continue;
        }
        scan_file(path, &shown, active, max_bytes, &mut out);
    }
    if files.len() > MAX_FILES {
        out.diagnostics.push(Diagnostic::new(
            DiagnosticLevel::Error,
            "limit-exceeded",
            format!("--secrets-in-all-files read the first {MAX_FILES} of {} files; the rest were not scanned for secrets", files.len()),
        ));
    }
    out
}

fn collect(path: &Path, files: &mut Vec<PathBuf>) {
    let Ok(meta) = std::fs::symlink_metadata(path) else {
        return;
    };
    if meta.is_file() {
        files.push(path.to_path_buf());
        return;
    }
    if !meta.is_dir() || files.len() > MAX_FILES {
        return;
    }
    let Ok(entries) = std::fs::read_dir(path) else {
        return;
    };
    let mut children: Vec<PathBuf> = entries.filter_map(|e| e.ok().map(|e| e.path())).collect();
    children.sort();
    for child in children {
        let skipped = child
            .file_name()
            .and_then(|n| n.to_str())
            .is_some_and(|n| SKIPPED_DIRS.contains(&n));
        if !skipped {
            collect(&child, files);
        }
    }
}

fn scan_file(
    path: &Path,
    shown: &str,
    active: &HashSet<String>,
    max_bytes: u64,
    out: &mut LooseFiles,
) {
    let file: Arc<str> = Arc::from(shown);
    let size = std::fs::metadata(path).map(|m| m.len()).unwrap_or(0);
    if size > max_bytes {
        out.diagnostics.push(
            Diagnostic::new(
                DiagnosticLevel::Error,
                "limit-exceeded",
                format!("{size} bytes, over the limit of {max_bytes}; not scanned for secrets"),
            )
            .in_file(shown),
        );
        return;
    }
    let Ok(bytes) = std::fs::read(path) else {
        out.diagnostics.push(
            Diagnostic::new(
                DiagnosticLevel::Error,
                "io",
                "could not be read; not scanned for secrets",
            )
            .in_file(shown),
        );
        return;
    };
    // Binary files (images, archives) are not configuration.
    if bytes.iter().take(8192).any(|b| *b == 0) {
        return;
    }
    let text = String::from_utf8_lossy(&bytes);
    // Manifests that reach the scan another way (a Kustomize base or patch, a Helm template,
    // rendered into the inventory from their directory) are judged as objects, not again here.
    if looks_like_manifest(&text) {
        return;
    }
    let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
    for hit in palisade_secrets::scan_value(None, &text)
        .into_iter()
        .chain(named_file(name, &text))
    {
        let Some(id) = palisade_rules::secrets::rule_of(hit.detector, None) else {
            continue;
        };
        if !active.contains(id) {
            continue;
        }
        let Some(rule) = palisade_rules::find_rule(id) else {
            continue;
        };
        let line = hit.line.or_else(|| {
            text.find(&hit.secret)
                .map(|at| 1 + text[..at].matches('\n').count())
        });
        let location = Location {
            file: file.clone(),
            line: line.and_then(|l| u32::try_from(l).ok()),
            column: None,
            path: JsonPointer::root(),
            rendered_by: None,
        };
        // The line is the finding's own; the message need not repeat it.
        let message = palisade_rules::secrets::hit_message(&palisade_secrets::Hit {
            line: None,
            ..hit.clone()
        });
        let mut finding = Finding::new(rule.meta(), Subject::File(file.clone()), location, message)
            .with_discriminator(palisade_core::redact::tag(&hit.secret));
        if hit.detector == palisade_secrets::Detector::Placeholder {
            finding = finding.with_severity(Severity::Low);
        }
        out.secrets.push(hit.secret);
        out.findings.push(finding);
    }
}

/// Whether a text holds Kubernetes objects (or Kustomize's): top-level `apiVersion` and
/// `kind`, in YAML or JSON.
fn looks_like_manifest(text: &str) -> bool {
    let top = |key: &str| {
        text.lines().any(|l| l.starts_with(key))
            || text.contains(&format!("\"{}\"", key.trim_end_matches(':')))
    };
    top("apiVersion:") && top("kind:")
}

/// A whole file that is one value (a key file, a token file): scanned under its own name, so
/// `id_rsa` or `token` files are judged as the value of a variable of that name would be.
fn named_file(name: &str, text: &str) -> Vec<palisade_secrets::Hit> {
    if text.lines().filter(|l| !l.trim().is_empty()).count() != 1 {
        return Vec::new();
    }
    palisade_secrets::scan_value(Some(name), text.trim())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn manifests_are_left_to_the_object_scan() {
        assert!(looks_like_manifest(
            "apiVersion: v1\nkind: ConfigMap\ndata: {a: b}\n"
        ));
        assert!(looks_like_manifest(
            "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources: [a.yaml]\n"
        ));
        assert!(looks_like_manifest(
            "{\"apiVersion\": \"v1\", \"kind\": \"Pod\"}"
        ));
        assert!(!looks_like_manifest(
            "image:\n  tag: 1.0\nauth:\n  rootPassword: x\n"
        ));
        assert!(
            !looks_like_manifest("apiVersion: v2\nname: chart\nversion: 1.0.0\n"),
            "Chart.yaml"
        );
        assert!(!looks_like_manifest("REDIS_PASSWORD=x\n"));
    }
}
