//! The answers of `palisade rules` and `palisade inventory` as typed models: each serialises
//! as the command's JSON and describes itself as a document for people (`palisade-report`
//! renders both).

use palisade_core::{Diagnostic, ObjectRef, RuleMeta};
use palisade_inventory::Loaded;
use palisade_report::answer::{Answer, Document, Table};
use palisade_rules::RuleSet;
use serde::Serialize;

/// The rule catalogue.
#[derive(Debug, Clone, Serialize)]
#[serde(transparent)]
pub struct RuleList<'a> {
    rules: Vec<&'a RuleMeta>,
}

impl<'a> RuleList<'a> {
    pub fn answer(rules: &'a RuleSet) -> RuleList<'a> {
        RuleList {
            rules: rules.metas().collect(),
        }
    }
}

impl Answer for RuleList<'_> {
    fn document(&self) -> Document {
        let mut doc = Document::new();
        doc.table(Table {
            indent: 0,
            widths: vec![8, 9, 28, 44],
            header: Some(
                ["ID", "SEVERITY", "SLUG", "TITLE", "CONTROLS"]
                    .map(String::from)
                    .to_vec(),
            ),
            rows: self
                .rules
                .iter()
                .map(|m| {
                    let controls: Vec<String> =
                        m.controls.iter().map(ToString::to_string).collect();
                    vec![
                        m.id.to_string(),
                        m.severity.to_string(),
                        m.slug.to_string(),
                        m.title.to_string(),
                        controls.join(" "),
                    ]
                })
                .collect(),
        });
        doc
    }
}

/// One rule: its metadata, controls, settings and documentation.
#[derive(Debug, Clone, Serialize)]
#[serde(transparent)]
pub struct RuleDetail<'a> {
    meta: &'a RuleMeta,
    #[serde(skip)]
    settings: Vec<(&'static str, &'static str)>,
}

impl<'a> RuleDetail<'a> {
    /// The rule named `id` (an id or a slug, any case), if the set has it.
    pub fn answer(rules: &'a RuleSet, id: &str) -> Option<RuleDetail<'a>> {
        let meta = rules.find(id)?;
        let settings = rules
            .find_rule(id)
            .map(|r| r.settings())
            .unwrap_or_default()
            .iter()
            .map(|s| (s.key, s.help))
            .collect();
        Some(RuleDetail { meta, settings })
    }
}

impl Answer for RuleDetail<'_> {
    fn document(&self) -> Document {
        let meta = self.meta;
        let mut doc = Document::new();
        doc.line(format!(
            "{} {} ({}, severity {})\n",
            meta.id, meta.title, meta.slug, meta.severity
        ));
        doc.line("Controls:");
        for control in meta.controls.iter() {
            doc.line(format!("  {control}  {}", control.title().unwrap_or("")));
        }
        if !self.settings.is_empty() {
            doc.line("\nSettings (palisade.toml, [rules]):");
            for (key, help) in &self.settings {
                doc.line(format!("  {key} = [...]  {help}"));
            }
        }
        doc.line(format!("\n{}", meta.docs));
        doc
    }
}

/// What loading found: every object with its place, and the diagnostics.
#[derive(Debug, Clone, Serialize)]
pub struct InventoryListing {
    objects: Vec<ListedObject>,
    diagnostics: Vec<Diagnostic>,
    files: usize,
    skipped_documents: usize,
    duration_ms: u64,
}

#[derive(Debug, Clone, Serialize)]
struct ListedObject {
    object: ObjectRef,
    file: String,
    line: u32,
    document: usize,
}

impl InventoryListing {
    /// The listing of `loaded`. Diagnostics pass the same redaction boundary as every
    /// report.
    pub fn answer(mut loaded: Loaded, duration_ms: u64) -> InventoryListing {
        crate::scan::redactor(&[&loaded.inventory]).redact_diagnostics(&mut loaded.diagnostics);
        let inventory = &loaded.inventory;
        let objects = inventory
            .objects
            .iter()
            .map(|o| ListedObject {
                object: palisade_core::ObjectRef::clone(&o.id),
                file: inventory.source_of(o).path.to_string(),
                line: o.pos().line,
                document: o.document,
            })
            .collect();
        InventoryListing {
            objects,
            diagnostics: loaded.diagnostics,
            files: loaded.files,
            skipped_documents: loaded.skipped_documents,
            duration_ms,
        }
    }
}

impl Answer for InventoryListing {
    fn document(&self) -> Document {
        let mut doc = Document::new();
        for o in &self.objects {
            doc.line(format!("{}:{}  {}", o.file, o.line, o.object));
        }
        for d in &self.diagnostics {
            doc.line(format!(
                "{:?} {} [{}] {}",
                d.level,
                d.location(),
                d.code,
                d.message
            ));
        }
        doc.line(format!(
            "{} objects in {} files ({} non-Kubernetes documents skipped), {} diagnostics, {} ms",
            self.objects.len(),
            self.files,
            self.skipped_documents,
            self.diagnostics.len(),
            self.duration_ms
        ));
        doc
    }
}
