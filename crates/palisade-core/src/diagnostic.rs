//! Diagnostics: problems with the input or the tool, as opposed to findings about the cluster.

use serde::Serialize;

/// How serious a diagnostic is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum DiagnosticLevel {
    /// Something was skipped on purpose (a non-Kubernetes file, an unrendered template).
    Info,
    /// Input was read but is suspicious (duplicate keys, an unused suppression).
    Warning,
    /// Input could not be read or evaluated; something was not scanned.
    Error,
}

/// The code of a policy whose evaluation of an object failed (a Rego or CEL error): the
/// object was read but that policy did not judge it.
pub const POLICY_ERROR: &str = "policy-error";

/// The code of a rule the run was asked for by name (`--rules`) that did not run (it needs a
/// setting, or it judges changes at admission only): nothing was judged by it.
pub const RULE_NOT_RUN: &str = "rule-not-run";

/// Codes of diagnostics that mean an input (or part of one) was not scanned, or not judged
/// by a policy or rule the run was given.
pub const INPUT_NOT_READ: &[&str] = &[
    POLICY_ERROR,
    RULE_NOT_RUN,
    "io",
    "encoding",
    "yaml-syntax",
    "json-syntax",
    "limit-exceeded",
    "not-rendered",
    "not-listed",
    "unsupported-snapshot",
    "not-an-sbom",
    "osv-record",
];

/// A problem with the input: names the file, line and object when they are known.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Diagnostic {
    pub level: DiagnosticLevel,
    /// A stable machine-readable code such as `yaml-syntax` or `duplicate-key`.
    pub code: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub file: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub line: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub column: Option<u32>,
    /// The object concerned, as `Kind namespace/name`, when known.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub object: Option<String>,
    pub message: String,
    /// Whether the input it names was not read at all (a source that gave nothing but this
    /// diagnostic), whatever its code: the run is then incomplete ([`Diagnostic::input_not_read`]).
    #[serde(skip)]
    pub unread: bool,
}

impl Diagnostic {
    /// A diagnostic with no location yet.
    pub fn new(level: DiagnosticLevel, code: &'static str, message: impl Into<String>) -> Self {
        Diagnostic {
            level,
            code,
            file: None,
            line: None,
            column: None,
            object: None,
            message: message.into(),
            unread: false,
        }
    }

    /// Marks the input it names as not read at all (see [`Diagnostic::unread`]).
    #[must_use]
    pub fn input_unread(mut self) -> Self {
        self.unread = true;
        self
    }

    /// Sets the file.
    #[must_use]
    pub fn in_file(mut self, file: impl Into<String>) -> Self {
        self.file = Some(file.into());
        self
    }

    /// Sets line and column (both 1-based).
    #[must_use]
    pub fn at(mut self, line: u32, column: u32) -> Self {
        self.line = Some(line);
        self.column = Some(column);
        self
    }

    /// Sets the object.
    #[must_use]
    pub fn on_object(mut self, object: impl Into<String>) -> Self {
        self.object = Some(object.into());
        self
    }

    /// Whether this diagnostic means part of the input was not looked at: a file that could
    /// not be read or parsed, a chart or Kustomization that was not rendered, a document over a
    /// limit, a type the cluster would not list, an object a given policy failed to judge. A
    /// run with such diagnostics is incomplete, never a pass.
    pub fn input_not_read(&self) -> bool {
        self.level >= DiagnosticLevel::Warning
            && (self.unread || INPUT_NOT_READ.contains(&self.code))
    }

    /// `file:line:column` as far as known.
    pub fn location(&self) -> String {
        let mut out = self.file.clone().unwrap_or_else(|| "<input>".to_string());
        if let Some(line) = self.line {
            out.push_str(&format!(":{line}"));
            if let Some(column) = self.column {
                out.push_str(&format!(":{column}"));
            }
        }
        out
    }
}

/// An error with its causes, on one line (`cannot open store: permission denied`): how a
/// library's `thiserror` chain is said in a diagnostic or a log field.
pub fn error_chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}
