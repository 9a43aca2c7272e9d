//! What an image holds, from the documents SBOM tools and scanners write: CycloneDX JSON,
//! SPDX 2 JSON, Syft's JSON, and Trivy's and Grype's JSON reports (read for their packages,
//! whose vulnerabilities Palisade finds again in its own database, so every image is judged
//! by one database and one set of version orderings). Each gives the image's names (tags and
//! digests, to find the workloads that run it), its distribution's release, and its packages
//! as package URLs with their source packages.
//!
//! The format is told from the document itself. A document of no format Palisade reads is an
//! error naming what it looks like; a package that cannot be read is skipped and counted.

mod cyclonedx;
mod grype;
mod spdx;
mod syft;
mod trivy;

use crate::package::Source;
use crate::purl::Purl;
use palisade_core::tree::items;
use serde_json::Value;

/// The largest document read.
pub const MAX_SBOM_BYTES: u64 = 512 * 1024 * 1024;

/// One package as the document lists it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Listed {
    pub purl: Purl,
    pub source: Source,
}

/// An image's packages, as one document describes them.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Bom {
    /// The document's format (`CycloneDX`, `SPDX`, `Syft`, `Trivy`, `Grype`).
    pub format: &'static str,
    /// The image's references (`nginx:1.25`, `nginx@sha256:…`), as the document names it;
    /// empty when it describes no image (a directory, a repository).
    pub image: Vec<String>,
    /// The distribution's release the image is built on, when the document says it.
    pub os_release: Option<String>,
    pub packages: Vec<Listed>,
    /// Entries that name a package but give no package URL Palisade can read.
    pub unreadable: usize,
    /// Why the package list may be incomplete (a scanner's report lists only the packages
    /// it found vulnerable).
    pub partial: Option<&'static str>,
}

/// Why a document cannot be read as an SBOM.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum SbomError {
    #[error("not JSON: {0}")]
    Json(String),
    #[error(
        "not a document Palisade reads ({0}); give CycloneDX JSON, SPDX 2 JSON, Syft JSON, or a Trivy or Grype JSON report"
    )]
    Unknown(String),
}

impl Bom {
    /// Reads a document, telling its format from its content.
    pub fn read(text: &[u8]) -> Result<Bom, SbomError> {
        if palisade_core::encoding::is_utf16(text) {
            return Err(SbomError::Unknown(
                palisade_core::encoding::UTF16_ADVICE.into(),
            ));
        }
        let text = text
            .strip_prefix(palisade_core::encoding::UTF8_MARK)
            .unwrap_or(text);
        let first = text.iter().find(|b| !b.is_ascii_whitespace()).copied();
        if first == Some(b'<') {
            return Err(SbomError::Unknown(
                "XML: CycloneDX XML and SPDX RDF are not read".into(),
            ));
        }
        if text.starts_with(b"SPDXVersion") {
            return Err(SbomError::Unknown("SPDX tag-value".into()));
        }
        let document: Value =
            serde_json::from_slice(text).map_err(|e| SbomError::Json(e.to_string()))?;
        let has = |key: &str| document.get(key).is_some();
        let mut bom = if document.get("bomFormat").and_then(Value::as_str) == Some("CycloneDX") {
            cyclonedx::read(&document)
        } else if has("spdxVersion") {
            spdx::read(&document)
        } else if has("artifacts") && has("source") {
            syft::read(&document)
        } else if has("matches") && has("source") {
            grype::read(&document)
        } else if has("Results") || (has("ArtifactName") && has("SchemaVersion")) {
            trivy::read(&document)
        } else {
            return Err(SbomError::Unknown(match &document {
                Value::Object(_) => "a JSON object of no known SBOM or report format".into(),
                other => format!("JSON that is {}", palisade_core::tree::kind_of(other)),
            }));
        };
        bom.image.retain(|name| !name.trim().is_empty());
        let mut seen = std::collections::HashSet::new();
        bom.image.retain(|name| seen.insert(name.clone()));
        Ok(bom)
    }
}

/// An image's references as Syft's `source.metadata` and Grype's `source.target` write them:
/// the reference given, its tags and its repository digests.
fn references(value: &Value) -> Vec<String> {
    let mut names: Vec<String> = text(value, "userInput")
        .map(str::to_string)
        .into_iter()
        .collect();
    names.extend(strings(value, "tags"));
    names.extend(strings(value, "repoDigests"));
    names
}

/// A string field.
fn text<'a>(value: &'a Value, key: &str) -> Option<&'a str> {
    value
        .get(key)
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty())
}

/// The strings of the list under `key`.
fn strings(value: &Value, key: &str) -> Vec<String> {
    palisade_core::tree::strings(value.get(key))
}

/// A `[epoch:]version[-release]` from the parts scanners keep apart.
fn full_version(epoch: Option<&str>, version: &str, release: Option<&str>) -> String {
    let mut full = String::new();
    if let Some(epoch) = epoch.filter(|e| !e.is_empty() && *e != "0") {
        full.push_str(epoch);
        full.push(':');
    }
    full.push_str(version);
    if let Some(release) = release.filter(|r| !r.is_empty()) {
        full.push('-');
        full.push_str(release);
    }
    full
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn documents_of_no_known_format_are_named() {
        assert!(matches!(Bom::read(b"<bom/>"), Err(SbomError::Unknown(m)) if m.contains("XML")));
        assert!(matches!(Bom::read(b"[]"), Err(SbomError::Unknown(m)) if m.contains("a list")));
        assert!(matches!(
            Bom::read(b"{\"a\": 1}"),
            Err(SbomError::Unknown(_))
        ));
        assert!(matches!(Bom::read(b"{"), Err(SbomError::Json(_))));
        assert!(
            matches!(Bom::read(b"SPDXVersion: SPDX-2.3"), Err(SbomError::Unknown(m)) if m.contains("tag-value"))
        );
    }

    #[test]
    fn versions_are_put_back_together() {
        assert_eq!(
            full_version(Some("1"), "3.0.7", Some("25.el9_3")),
            "1:3.0.7-25.el9_3"
        );
        assert_eq!(full_version(Some("0"), "2.36", None), "2.36");
    }
}
