//! Suppressions: accepted risks, from `palisade.toml` or from an object's
//! `palisade.dev/ignore` annotation. Every suppression carries a reason; one that has expired
//! stops suppressing and is reported; one that matches nothing is reported too. Suppressed
//! findings stay in the report, marked, never dropped.
//!
//! Annotation syntax, one entry per line:
//!
//! ```yaml
//! metadata:
//!   annotations:
//!     palisade.dev/ignore: |
//!       POD004,POD005: node agent needs the host's network and logs
//!       IMG001: pinned by the image-policy controller; expires=2027-01-31
//! ```

use std::collections::HashSet;

use palisade_core::{
    Diagnostic, DiagnosticLevel, Finding, JsonPointer, Subject, Suppression, SuppressionSource,
};
use palisade_inventory::{Inventory, Object, Pos};
use serde_json::Value;

use crate::config::{Config, SuppressionEntry};
use crate::date::Date;
use crate::glob;

/// The annotation that suppresses findings on the object that carries it.
pub const ANNOTATION: &str = "palisade.dev/ignore";

/// One entry of a `palisade.dev/ignore` annotation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AnnotationEntry {
    pub rules: Vec<String>,
    pub reason: String,
    pub expires: Option<Date>,
}

/// Parses an annotation value. Returns the entries and one message per malformed line.
pub fn parse_annotation(
    text: &str,
    canonical: &dyn Fn(&str) -> Option<String>,
) -> (Vec<AnnotationEntry>, Vec<String>) {
    let mut entries = Vec::new();
    let mut errors = Vec::new();
    for line in text.lines().map(str::trim).filter(|l| !l.is_empty()) {
        let Some((ids, rest)) = line.split_once(':') else {
            errors.push(format!("`{line}`: expected `RULE[,RULE]: reason`"));
            continue;
        };
        let (reason, expires) = match rest.rsplit_once("; expires=") {
            Some((reason, date)) => match Date::parse(date) {
                Some(d) => (reason.trim(), Some(d)),
                None => {
                    errors.push(format!("`{line}`: expires must be a date as YYYY-MM-DD"));
                    continue;
                }
            },
            None => (rest.trim(), None),
        };
        if reason.is_empty() {
            errors.push(format!(
                "`{line}`: a suppression needs a reason after the colon"
            ));
            continue;
        }
        let mut rules = Vec::new();
        for id in ids.split(',').map(str::trim).filter(|s| !s.is_empty()) {
            match canonical(id) {
                Some(rule) => rules.push(rule),
                None => errors.push(format!("unknown rule `{id}`")),
            }
        }
        if !rules.is_empty() {
            entries.push(AnnotationEntry {
                rules,
                reason: reason.to_string(),
                expires,
            });
        }
    }
    (entries, errors)
}

fn entry_matches(entry: &SuppressionEntry, finding: &Finding) -> bool {
    let opt = |pattern: &Option<String>, value: Option<&str>| match pattern {
        None => true,
        Some(p) => glob::matches(p, value.unwrap_or("")),
    };
    let file = finding.location.file.trim_start_matches("./");
    // An entry's kind and name match a subject that is not an object by its kind (`image`,
    // `node`, ...) and name; such a subject has no namespace.
    let (namespace, kind, name) = match &finding.subject {
        Subject::Object(o) => (o.namespace.as_deref(), o.kind.as_str(), o.name.as_deref()),
        Subject::File(n)
        | Subject::Image(n)
        | Subject::Node(n)
        | Subject::AuditEvent(n)
        | Subject::Identity(n) => (None, finding.subject.kind(), Some(&**n)),
    };
    entry.rule == finding.rule_id()
        && opt(&entry.namespace, namespace)
        && opt(&entry.kind, Some(kind))
        && opt(&entry.name, name)
        && opt(
            &entry.vulnerability,
            finding.discriminator().and_then(|d| d.split(' ').next()),
        )
        && entry
            .path
            .as_ref()
            .is_none_or(|p| glob::matches(p.trim_start_matches("./"), file))
}

/// Suppresses `finding` by the first unexpired `palisade.toml` entry that matches it, and marks
/// in `used` every entry that matched it (expired ones included).
fn suppress_by_config(finding: &mut Finding, config: &Config, today: Date, used: &mut [bool]) {
    for (i, entry) in config.suppressions.iter().enumerate() {
        if !entry_matches(entry, finding) {
            continue;
        }
        used[i] = true;
        if entry.expires.is_some_and(|e| e < today) {
            continue;
        }
        finding.set_suppressed(Some(Suppression {
            source: SuppressionSource::Config,
            reason: entry.reason.clone(),
            expires: entry.expires.map(|d| d.to_string()),
            origin: Some(format!("{}:{}", config.path, entry.line)),
        }));
        return;
    }
}

/// Applies the `palisade.toml` suppressions to findings that have no object in an inventory
/// (drift differences).
pub fn apply_config(findings: &mut [Finding], config: &Config, today: Date) {
    let mut used = vec![false; config.suppressions.len()];
    for finding in findings {
        suppress_by_config(finding, config, today, &mut used);
    }
}

/// An object's parsed `palisade.dev/ignore` entries, which of them matched, and where the
/// annotation is written.
#[derive(Clone)]
struct Annotated {
    entries: Vec<AnnotationEntry>,
    used: Vec<bool>,
    file: String,
    pos: Pos,
}

fn annotation_pointer() -> JsonPointer {
    JsonPointer::root()
        .join("metadata")
        .join("annotations")
        .join(ANNOTATION)
}

fn object_annotation(object: &Object) -> Option<&str> {
    object
        .annotations()?
        .get(ANNOTATION)
        .and_then(Value::as_str)
}

/// Applies suppressions to `findings` (whose objects are `finding_objects`, indices into the
/// inventory) and returns diagnostics about the suppressions themselves. The annotations read
/// are those of the judged objects of the inventory (`only`, or every object).
pub fn apply(
    findings: &mut [Finding],
    finding_objects: &[usize],
    (inventory, only): (&Inventory, Option<&[usize]>),
    config: &Config,
    active_rules: &HashSet<String>,
    canonical: &dyn Fn(&str) -> Option<String>,
    today: Date,
) -> Vec<Diagnostic> {
    let mut diagnostics = Vec::new();
    let mut config_used = vec![false; config.suppressions.len()];

    // Parse each annotated object's entries, and locate the annotation, once.
    let mut annotations: Vec<Option<Annotated>> = vec![None; inventory.objects.len()];
    let judged: Box<dyn Iterator<Item = usize>> = match only {
        Some(only) => Box::new(
            only.iter()
                .copied()
                .filter(|&i| i < inventory.objects.len()),
        ),
        None => Box::new(0..inventory.objects.len()),
    };
    for i in judged {
        let object = &inventory.objects[i];
        let Some(text) = object_annotation(object) else {
            continue;
        };
        let (entries, errors) = parse_annotation(text, canonical);
        let pos = object.locate(&annotation_pointer()).pos;
        let file = inventory.source_of(object).path.to_string();
        for error in errors {
            diagnostics.push(
                Diagnostic::new(
                    DiagnosticLevel::Warning,
                    "suppression-invalid",
                    format!("{ANNOTATION}: {error}; ignored"),
                )
                .in_file(file.clone())
                .at(pos.line, pos.column)
                .on_object(object.id.to_string()),
            );
        }
        annotations[i] = Some(Annotated {
            used: vec![false; entries.len()],
            entries,
            file,
            pos,
        });
    }

    for (finding, &object_index) in findings.iter_mut().zip(finding_objects) {
        suppress_by_config(finding, config, today, &mut config_used);
        let Some(annotated) = annotations.get_mut(object_index).and_then(Option::as_mut) else {
            continue;
        };
        for (j, entry) in annotated.entries.iter().enumerate() {
            if !entry.rules.iter().any(|r| r == finding.rule_id()) {
                continue;
            }
            annotated.used[j] = true;
            if finding.suppressed().is_some() || entry.expires.is_some_and(|e| e < today) {
                continue;
            }
            finding.set_suppressed(Some(Suppression {
                source: SuppressionSource::Annotation,
                reason: entry.reason.clone(),
                expires: entry.expires.map(|d| d.to_string()),
                origin: Some(format!("{}:{}", annotated.file, annotated.pos.line)),
            }));
        }
    }

    for (entry, used) in config.suppressions.iter().zip(&config_used) {
        let located = |d: Diagnostic| d.in_file(config.path.clone()).at(entry.line, 1);
        if let Some(expires) = entry.expires.filter(|e| *e < today) {
            diagnostics.push(located(Diagnostic::new(
                DiagnosticLevel::Warning,
                "suppression-expired",
                format!(
                    "suppression of {} expired on {expires}; its findings are reported again",
                    entry.rule
                ),
            )));
        } else if !used && active_rules.contains(&entry.rule) {
            diagnostics.push(located(Diagnostic::new(
                DiagnosticLevel::Warning,
                "suppression-unused",
                format!(
                    "suppression of {} matches no finding; remove it or fix its filters",
                    entry.rule
                ),
            )));
        }
    }
    for (i, slot) in annotations.iter().enumerate() {
        let Some(Annotated {
            entries,
            used,
            file,
            pos,
        }) = slot
        else {
            continue;
        };
        let object = &inventory.objects[i];
        for (entry, used) in entries.iter().zip(used) {
            let rules = entry.rules.join(",");
            let diagnostic = if let Some(expires) = entry.expires.filter(|e| *e < today) {
                Diagnostic::new(
                    DiagnosticLevel::Warning,
                    "suppression-expired",
                    format!(
                        "{ANNOTATION} for {rules} expired on {expires}; its findings are reported again"
                    ),
                )
            } else if !used && entry.rules.iter().any(|r| active_rules.contains(r)) {
                Diagnostic::new(
                    DiagnosticLevel::Warning,
                    "suppression-unused",
                    format!(
                        "{ANNOTATION} for {rules} matches no finding on this object; remove it"
                    ),
                )
            } else {
                continue;
            };
            diagnostics.push(
                diagnostic
                    .in_file(file.clone())
                    .at(pos.line, pos.column)
                    .on_object(object.id.to_string()),
            );
        }
    }
    diagnostics
}

#[cfg(test)]
mod tests {
    use super::*;

    fn canonical(id: &str) -> Option<String> {
        ["POD001", "POD004", "IMG001"]
            .contains(&id)
            .then(|| id.to_string())
    }

    #[test]
    fn parses_annotation_entries() {
        let (entries, errors) = parse_annotation(
            "POD004, POD001: node agent\nIMG001: pinned elsewhere; expires=2027-01-31\nPOD004:\nNOPE1: x\njunk",
            &canonical,
        );
        assert_eq!(entries.len(), 2);
        assert_eq!(entries[0].rules, ["POD004", "POD001"]);
        assert_eq!(entries[1].expires.unwrap().to_string(), "2027-01-31");
        assert_eq!(errors.len(), 3, "{errors:?}");
    }
}
