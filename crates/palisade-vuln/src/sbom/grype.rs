//! Grype's JSON report: the packages of its `matches` (only those Grype found vulnerable, so
//! the report is marked partial), their upstream source packages, the image in
//! `source.target`, the distribution in `distro`.

use super::{Bom, Listed, items, references, text};
use crate::package::Source;
use crate::purl::Purl;
use serde_json::Value;

pub(super) fn read(document: &Value) -> Bom {
    let mut bom = Bom {
        format: "Grype",
        partial: Some(
            "a Grype report lists only the packages Grype found vulnerable: give the image's SBOM (`syft IMAGE -o cyclonedx-json`) for every package to be judged",
        ),
        ..Bom::default()
    };
    if let Some(target) = document.get("source").and_then(|s| s.get("target")) {
        bom.image = references(target);
    }
    bom.os_release = document
        .get("distro")
        .and_then(|d| text(d, "version"))
        .map(str::to_string);
    let mut seen = std::collections::HashSet::new();
    for found in items(document, "matches") {
        let Some(artifact) = found.get("artifact") else {
            continue;
        };
        let Some(purl) = text(artifact, "purl").and_then(Purl::parse) else {
            bom.unreadable += 1;
            continue;
        };
        if !seen.insert(purl.clone()) {
            continue;
        }
        let upstream = items(artifact, "upstreams").next();
        let source = Source {
            name: upstream.and_then(|u| text(u, "name")).map(str::to_string),
            version: upstream
                .and_then(|u| text(u, "version"))
                .map(str::to_string),
        };
        bom.packages.push(Listed { purl, source });
    }
    bom
}
