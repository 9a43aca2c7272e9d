//! CycloneDX JSON (1.2-1.6): `metadata.component` is the image (Trivy adds its tags and
//! digests as properties), an `operating-system` component its distribution, and every other
//! component with a `purl`, at any depth of `components`, a package. Trivy records a
//! distribution package's source in `aquasecurity:trivy:Src*` properties.

use super::{Bom, Listed, full_version, items, text};
use crate::package::Source;
use crate::purl::Purl;
use serde_json::Value;

fn property<'a>(component: &'a Value, name: &str) -> Option<&'a str> {
    items(component, "properties")
        .find(|p| text(p, "name") == Some(name))
        .and_then(|p| text(p, "value"))
}

fn properties<'a>(component: &'a Value, name: &'a str) -> impl Iterator<Item = &'a str> + 'a {
    items(component, "properties")
        .filter(move |p| text(p, "name") == Some(name))
        .filter_map(|p| text(p, "value"))
}

pub(super) fn read(document: &Value) -> Bom {
    let mut bom = Bom {
        format: "CycloneDX",
        ..Bom::default()
    };
    if let Some(subject) = document.get("metadata").and_then(|m| m.get("component")) {
        image_names(subject, &mut bom.image);
    }
    let mut stack: Vec<&Value> = items(document, "components").collect();
    while let Some(component) = stack.pop() {
        stack.extend(items(component, "components"));
        match text(component, "type") {
            Some("operating-system") => {
                if bom.os_release.is_none() {
                    bom.os_release = text(component, "version").map(str::to_string);
                }
                continue;
            }
            // Trivy's `application` groups a lock file's or binary's packages; files, data
            // and services are not packages.
            Some("container" | "application" | "file" | "data" | "service") => continue,
            _ => {}
        }
        match text(component, "purl").and_then(Purl::parse) {
            Some(purl) => {
                let source = Source {
                    name: property(component, "aquasecurity:trivy:SrcName").map(str::to_string),
                    version: property(component, "aquasecurity:trivy:SrcVersion").map(|v| {
                        full_version(
                            property(component, "aquasecurity:trivy:SrcEpoch"),
                            v,
                            property(component, "aquasecurity:trivy:SrcRelease"),
                        )
                    }),
                };
                bom.packages.push(Listed { purl, source });
            }
            None if text(component, "name").is_some() => bom.unreadable += 1,
            None => {}
        }
    }
    bom
}

/// The image's references: Trivy's tag and digest properties, the name with its version (a
/// tag, or a digest), and an `oci` purl's repository with its digest.
fn image_names(subject: &Value, names: &mut Vec<String>) {
    names.extend(properties(subject, "aquasecurity:trivy:RepoTag").map(str::to_string));
    names.extend(properties(subject, "aquasecurity:trivy:RepoDigest").map(str::to_string));
    if let Some(name) = text(subject, "name") {
        match text(subject, "version") {
            Some(version) if version.starts_with("sha256:") && !name.contains('@') => {
                names.push(format!("{name}@{version}"));
            }
            Some(version) if !name.rsplit('/').next().unwrap_or(name).contains(':') => {
                names.push(format!("{name}:{version}"));
            }
            _ => names.push(name.to_string()),
        }
    }
    if let Some(purl) = text(subject, "purl").and_then(Purl::parse)
        && purl.kind == "oci"
        && let (Some(repository), Some(digest)) = (purl.qualifier("repository_url"), &purl.version)
    {
        names.push(format!("{repository}@{digest}"));
    }
}
