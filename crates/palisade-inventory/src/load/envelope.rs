//! Envelopes: document kinds, other than Kubernetes Lists, that hold objects under `items`
//! (Palisade's cluster snapshot, defined in `palisade-snapshot`). Each supports one format
//! version; a document of the kind with another version is an error, never read as if it
//! were understood. The crate that owns a format registers it through
//! [`crate::Limits::envelopes`], so this crate knows no format but the Kubernetes List.

use palisade_core::{Diagnostic, DiagnosticLevel};

/// A document kind that holds objects under `items`, in one supported format version.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Envelope {
    pub kind: &'static str,
    /// The one `apiVersion` this build reads.
    pub api_version: &'static str,
    /// What the format is called in messages (`snapshot`).
    pub noun: &'static str,
    /// The diagnostic code for another version (`unsupported-snapshot`).
    pub unsupported_code: &'static str,
    /// What to do about another version.
    pub advice: &'static str,
}

impl Envelope {
    /// The envelope of `kind`, among `envelopes`.
    pub fn find<'e>(envelopes: &'e [Envelope], kind: Option<&str>) -> Option<&'e Envelope> {
        let kind = kind?;
        envelopes.iter().find(|e| e.kind == kind)
    }

    /// Whether a document of `kind` holds objects under `items`: a Kubernetes List
    /// (`...List`) or an envelope.
    pub fn holds_items(envelopes: &[Envelope], kind: &str) -> bool {
        kind.ends_with("List") || Envelope::find(envelopes, Some(kind)).is_some()
    }

    /// The error for a document of this kind in format version `found`, when it is not the
    /// supported one.
    pub fn unsupported(&self, found: &str, path: &str, line: u32) -> Option<Diagnostic> {
        (found != self.api_version).then(|| {
            Diagnostic::new(
                DiagnosticLevel::Error,
                self.unsupported_code,
                format!(
                    "{} format {found} is not supported; this palisade reads {} ({})",
                    self.noun, self.api_version, self.advice
                ),
            )
            .in_file(path)
            .at(line, 1)
        })
    }
}
