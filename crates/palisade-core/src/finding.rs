//! Findings: what a rule found wrong, where, and whether someone accepted it.

use std::borrow::Cow;

use serde::Serialize;

use crate::{Control, JsonPointer, ObjectRef, Severity};

/// Where a finding points: the file and position of the offending field (or of the nearest
/// enclosing field that exists, when the problem is a missing field), and its JSON pointer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Location {
    /// The file as given on the command line; for rendered sources, the Kustomization or
    /// chart directory; `-` for standard input.
    pub file: String,
    /// 1-based line, when the source has lines.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub line: Option<u32>,
    /// 1-based column.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub column: Option<u32>,
    /// JSON pointer of the offending field inside the object.
    pub path: JsonPointer,
    /// How the source was produced when it is not the file itself (`kustomize`, `helm`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rendered_by: Option<&'static str>,
}

/// Where an accepted-risk decision came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum SuppressionSource {
    /// An entry of `palisade.toml`.
    Config,
    /// A `palisade.dev/ignore` annotation on the object.
    Annotation,
}

/// Why a finding is suppressed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Suppression {
    pub source: SuppressionSource,
    pub reason: String,
    /// `YYYY-MM-DD`, when the suppression expires.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub expires: Option<String>,
    /// Where the suppression is written (`palisade.toml:12`, or the annotation's location).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub origin: Option<String>,
}

/// One problem found on one object.
#[derive(Debug, Clone, Serialize)]
pub struct Finding {
    /// Rule id; borrowed from the rule's static metadata, as are `title`, `controls` and
    /// `remediation`, so that tens of thousands of findings do not copy them.
    pub rule: Cow<'static, str>,
    pub severity: Severity,
    pub title: Cow<'static, str>,
    /// What is wrong on this object, in a sentence that names the container or field.
    pub message: String,
    /// The object, shared by every finding on it (a large scan has millions of findings).
    pub object: std::sync::Arc<ObjectRef>,
    pub location: Location,
    pub controls: Cow<'static, [Control]>,
    pub fingerprint: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub suppressed: Option<Suppression>,
    pub remediation: Cow<'static, str>,
    /// Objects judged through this one: the Pods and ReplicaSets a Deployment controls, when
    /// a cluster or snapshot holds them (they are not reported separately).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub affected: Vec<String>,
}
