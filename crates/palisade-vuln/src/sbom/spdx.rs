//! SPDX 2.2/2.3 JSON: packages with a `purl` external reference are the packages; the one
//! whose purpose is `CONTAINER` (or, failing that, the document's name) is the image, and the
//! `OPERATING-SYSTEM` one its distribution.

use super::{Bom, Listed, items, text};
use crate::package::Source;
use crate::purl::Purl;
use serde_json::Value;

fn purl_of(package: &Value) -> Option<Purl> {
    items(package, "externalRefs")
        .find(|r| text(r, "referenceType") == Some("purl"))
        .and_then(|r| text(r, "referenceLocator"))
        .and_then(Purl::parse)
}

pub(super) fn read(document: &Value) -> Bom {
    let mut bom = Bom {
        format: "SPDX",
        ..Bom::default()
    };
    for package in items(document, "packages") {
        match text(package, "primaryPackagePurpose") {
            Some("CONTAINER") => {
                if let Some(name) = text(package, "name") {
                    match text(package, "versionInfo") {
                        Some(v) if v.starts_with("sha256:") => {
                            bom.image.push(format!("{name}@{v}"))
                        }
                        Some(v) if !name.contains(':') => bom.image.push(format!("{name}:{v}")),
                        _ => bom.image.push(name.to_string()),
                    }
                }
                continue;
            }
            Some("OPERATING-SYSTEM") => {
                bom.os_release = text(package, "versionInfo").map(str::to_string);
                continue;
            }
            _ => {}
        }
        match purl_of(package) {
            Some(purl) if purl.kind == "oci" || purl.kind == "docker" => {}
            Some(purl) => bom.packages.push(Listed {
                purl,
                source: Source::default(),
            }),
            None if text(package, "name").is_some() => bom.unreadable += 1,
            None => {}
        }
    }
    // Syft and Trivy name the document after the image reference they were given.
    if let Some(name) = text(document, "name")
        && !name.contains(char::is_whitespace)
        && (name.contains(':') || name.contains('/'))
    {
        bom.image.push(name.to_string());
    }
    bom
}
