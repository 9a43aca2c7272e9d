//! Trivy's JSON report (`trivy image --format json`): `Results[].Packages` (written with
//! `--list-all-pkgs`, the default for the JSON format since Trivy 0.50) with their purls and
//! source packages; the image in `ArtifactName` and `Metadata`'s tags and digests, the
//! distribution in `Metadata.OS`. A report without package lists still names the packages of
//! its vulnerabilities: those are read, and the report is marked partial.

use super::{Bom, Listed, full_version, items, strings, text};
use crate::package::Source;
use crate::purl::Purl;
use serde_json::Value;

fn purl_of(package: &Value) -> Option<Purl> {
    package
        .get("Identifier")
        .or_else(|| package.get("PkgIdentifier"))
        .and_then(|i| text(i, "PURL"))
        .and_then(Purl::parse)
}

pub(super) fn read(document: &Value) -> Bom {
    let mut bom = Bom {
        format: "Trivy",
        ..Bom::default()
    };
    if text(document, "ArtifactType").is_none_or(|t| t == "container_image") {
        bom.image
            .extend(text(document, "ArtifactName").map(str::to_string));
    }
    if let Some(metadata) = document.get("Metadata") {
        bom.image.extend(strings(metadata, "RepoTags"));
        bom.image.extend(strings(metadata, "RepoDigests"));
        bom.os_release = metadata
            .get("OS")
            .and_then(|os| text(os, "Name"))
            .map(str::to_string);
    }
    let mut listed_all = false;
    for result in items(document, "Results") {
        if result.get("Packages").is_some() {
            listed_all = true;
            for package in items(result, "Packages") {
                push(&mut bom, package, purl_of(package));
            }
        }
    }
    if !listed_all {
        let mut seen = std::collections::HashSet::new();
        for result in items(document, "Results") {
            for vulnerability in items(result, "Vulnerabilities") {
                let purl = purl_of(vulnerability);
                if seen.insert(purl.clone()) {
                    push(&mut bom, vulnerability, purl);
                }
            }
        }
        bom.partial = Some(
            "the Trivy report lists no packages, only those Trivy found vulnerable: run Trivy with `--list-all-pkgs` for every package to be judged",
        );
    }
    bom
}

fn push(bom: &mut Bom, package: &Value, purl: Option<Purl>) {
    let Some(purl) = purl else {
        bom.unreadable += 1;
        return;
    };
    let source = Source {
        name: text(package, "SrcName").map(str::to_string),
        version: text(package, "SrcVersion")
            .map(|v| full_version(text(package, "SrcEpoch"), v, text(package, "SrcRelease"))),
    };
    bom.packages.push(Listed { purl, source });
}
