//! Syft's own JSON: `artifacts` with purls (a Debian or Alpine package's source in its
//! metadata), the image in `source.metadata` (the reference given, its tags and digests),
//! the distribution in `distro`.

use super::{Bom, Listed, items, references, text};
use crate::package::Source;
use crate::purl::Purl;
use serde_json::Value;

pub(super) fn read(document: &Value) -> Bom {
    let mut bom = Bom {
        format: "Syft",
        ..Bom::default()
    };
    if let Some(metadata) = document.get("source").and_then(|s| s.get("metadata")) {
        bom.image = references(metadata);
    }
    bom.os_release = document
        .get("distro")
        .and_then(|d| text(d, "versionID").or_else(|| text(d, "version")))
        .map(str::to_string);
    for artifact in items(document, "artifacts") {
        let metadata = artifact.get("metadata");
        let source = Source {
            name: metadata
                .and_then(|m| text(m, "source").or_else(|| text(m, "originPackage")))
                .map(str::to_string),
            version: metadata
                .and_then(|m| text(m, "sourceVersion"))
                .map(str::to_string),
        };
        match text(artifact, "purl").and_then(Purl::parse) {
            Some(purl) => bom.packages.push(Listed { purl, source }),
            None => bom.unreadable += 1,
        }
    }
    bom
}
