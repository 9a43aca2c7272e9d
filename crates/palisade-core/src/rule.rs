//! What every rule says about itself: id, slug, severity, title, documentation, remediation and
//! the compliance controls it maps to.

use std::borrow::Cow;

use serde::Serialize;

use crate::{Control, Severity};

/// Rule metadata. Built-in rules hold `&'static` data; policies loaded at run time (Rego, CEL)
/// own theirs, hence the `Cow`s.
#[derive(Debug, Clone, Serialize)]
pub struct RuleMeta {
    /// Stable id such as `POD001`. Never reused once published.
    pub id: Cow<'static, str>,
    /// Kebab-case name of the bad pattern, such as `privileged-container`.
    pub slug: Cow<'static, str>,
    /// One-line summary of what is wrong.
    pub title: Cow<'static, str>,
    pub severity: Severity,
    /// Compliance controls the rule provides evidence for.
    pub controls: Cow<'static, [Control]>,
    /// One-line fix hint shown next to each finding.
    pub remediation: Cow<'static, str>,
    /// The full documentation in Markdown (what, why, examples, remediation, references).
    pub docs: Cow<'static, str>,
}

/// Removes the one space rustdoc leaves after `///` on each line: a rule's doc comment,
/// captured by a declaring macro, becomes its Markdown documentation.
pub fn unindent_docs(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for line in text.lines() {
        out.push_str(line.strip_prefix(' ').unwrap_or(line));
        out.push('\n');
    }
    out.trim().to_string() + "\n"
}

impl RuleMeta {
    /// The rule's controls without those whose ids are listed: for a finding whose condition
    /// does not violate them (see `Context::report_citing`).
    pub fn controls_except(&self, ids: &[&str]) -> Vec<Control> {
        self.controls
            .iter()
            .filter(|c| !ids.contains(&c.id.as_ref()))
            .cloned()
            .collect()
    }

    /// The first paragraph of "What it checks", used where a short description fits; the
    /// title when the docs have no such section.
    pub fn summary(&self) -> &str {
        self.docs_section("What it checks")
            .and_then(|text| text.split("\n\n").next())
            .map(str::trim)
            .filter(|text| !text.is_empty())
            .unwrap_or(&self.title)
    }

    /// The Markdown section whose heading is `## <heading>`, without the heading.
    pub fn docs_section(&self, heading: &str) -> Option<&str> {
        let marker = format!("## {heading}");
        let start = self.docs.find(&marker)? + marker.len();
        let rest = &self.docs[start..];
        let end = rest.find("\n## ").unwrap_or(rest.len());
        Some(rest[..end].trim())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn meta(docs: &'static str) -> RuleMeta {
        RuleMeta {
            id: "X001".into(),
            slug: "x".into(),
            title: "Title".into(),
            severity: Severity::Low,
            controls: Cow::Borrowed(&[]),
            remediation: "fix it".into(),
            docs: docs.into(),
        }
    }

    #[test]
    fn finds_summary_and_sections() {
        let m = meta("## What it checks\nThe thing.\n\n## Why it matters\nBecause.\n");
        assert_eq!(m.docs_section("Why it matters"), Some("Because."));
        assert_eq!(m.docs_section("What it checks"), Some("The thing."));
        assert_eq!(m.summary(), "The thing.");
        assert_eq!(meta("no sections").summary(), "Title");
        assert!(m.docs_section("Missing").is_none());
    }
}
