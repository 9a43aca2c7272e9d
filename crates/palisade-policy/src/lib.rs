//! Policy as code: Gatekeeper ConstraintTemplates and Constraints, evaluated by regorus (a
//! Rego interpreter in Rust, v0 and v1 syntax) under Gatekeeper's input contract and match
//! semantics (`gatekeeper`, `rego`), constraints as rules of a scan (`provider`), and Gatekeeper's
//! policy test suites (`suite`).
//!
//! The boundary: this crate knows Gatekeeper's objects and Rego; the scan pipeline and the
//! webhook call it. regorus is kept here so crates that do not evaluate policies do not
//! compile it. The rejected alternative, running `opa` or `gator` as subprocesses, would add
//! a runtime dependency users must install and a process per evaluation.

pub mod authorizer;
pub mod cel;
mod cel_bounds;
mod cel_expression;
pub mod engine;
pub mod expansion;
pub mod gatekeeper;
pub mod mutation;
mod mutation_path;
pub mod provider;
pub mod rego;
#[cfg(test)]
mod rego_conformance;
mod rego_rewrite;
pub mod schema;
pub mod suite;
pub mod vap;

pub use gatekeeper::{Constraint, Enforcement, EnforcementPoint, Match, PolicyError, Template};
pub use rego::{RegoTemplate, Violation};

/// `run`, with a panic in it (a bug in regorus, the `cel` crate or kube-cel, which a policy or
/// an object may reach) made the error `failed` builds, naming the engine and the panic's
/// message: the object is then not assessed by that policy, or the policy not used, as for
/// any policy error, and the scan or the webhook goes on. Each panic found is also fixed where
/// it starts (`cel_bounds`, `rego_rewrite`); this is for those not found yet.
pub(crate) fn contained<T>(
    engine: &str,
    run: impl FnOnce() -> Result<T, PolicyError>,
    failed: impl FnOnce(String) -> PolicyError,
) -> Result<T, PolicyError> {
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(run)).unwrap_or_else(|payload| {
        let message = payload
            .downcast_ref::<&str>()
            .map(|s| s.to_string())
            .or_else(|| payload.downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "no message".into());
        Err(failed(format!(
            "{engine} failed on it (a bug in {engine}, contained): {message}"
        )))
    })
}

/// The files under `paths` whose names `keep` accepts, sorted; a path that is a file is taken
/// as it is; hidden files and directories are skipped.
pub(crate) fn files_under(
    paths: &[std::path::PathBuf],
    keep: impl Fn(&str) -> bool,
) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    let mut stack: Vec<std::path::PathBuf> = Vec::new();
    for path in paths {
        if path.is_file() {
            out.push(path.clone());
        } else {
            stack.push(path.clone());
        }
    }
    while let Some(dir) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            let name = entry.file_name().to_string_lossy().into_owned();
            if name.starts_with('.') {
                continue;
            }
            if path.is_dir() {
                stack.push(path);
            } else if keep(&name) {
                out.push(path);
            }
        }
    }
    out.sort();
    out
}

/// Whether policy code (Rego or CEL) reads a namespace: a `namespace` field
/// (`metadata.namespace`, `review.namespace`, `["namespace"]`) or the `namespaceObject`; a
/// name that only contains the word (`hostNamespace`) does not.
pub(crate) fn reads_namespace(code: &str) -> bool {
    code.contains(".namespace")
        || code.contains("\"namespace\"")
        || code.contains("'namespace'")
        || code.contains("namespaceObject")
}

#[cfg(test)]
mod reads_namespace_tests {
    #[test]
    fn reads_namespace_fields_not_words() {
        for code in [
            "input.review.object.metadata.namespace == \"x\"",
            "input.review.namespace",
            "object.metadata[\"namespace\"]",
            "namespaceObject.metadata.labels",
        ] {
            assert!(super::reads_namespace(code), "{code}");
        }
        for code in [
            "package k8spsphostnamespace",
            "input.review.object.spec.hostPID",
        ] {
            assert!(!super::reads_namespace(code), "{code}");
        }
    }
}
