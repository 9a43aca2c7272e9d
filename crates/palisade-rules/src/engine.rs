//! Evaluates rules over an inventory: findings with resolved locations, per-rule coverage, and
//! the per-object verdicts that JUnit lists.

use std::collections::HashSet;

use palisade_core::report::{Evaluation, Outcome, ScannedObject};
use palisade_core::{
    Coverage, Diagnostic, DiagnosticLevel, Finding, JsonPointer, Location, NotAssessed,
    fingerprint::fingerprint,
};
use palisade_inventory::{Inventory, Object, PodSpec, pod_spec};

use crate::context::Context;
use crate::rule::{Rule, Target};
use crate::settings::RuleSettings;

/// Everything the rules produced.
#[derive(Debug, Default)]
pub struct EngineOutput {
    pub findings: Vec<Finding>,
    /// For each finding, the index of its object in the inventory.
    pub finding_objects: Vec<usize>,
    pub coverage: Vec<Coverage>,
    pub evaluations: Vec<Evaluation>,
    pub diagnostics: Vec<Diagnostic>,
    pub objects: Vec<ScannedObject>,
}

/// Where `path` of `object` is in its source.
pub fn locate(inventory: &Inventory, object: &Object, path: &JsonPointer) -> Location {
    let source = inventory.source_of(object);
    let resolved = object.locate(path);
    Location {
        file: source.path.clone(),
        line: Some(resolved.pos.line),
        column: Some(resolved.pos.column),
        path: path.clone(),
        rendered_by: source.rendered_by,
    }
}

/// Whether `rule` applies to `object`, and the pod spec it is given if so.
fn target<'a>(
    rule: &dyn Rule,
    object: &Object,
    pod: Option<PodSpec<'a>>,
) -> Option<Option<PodSpec<'a>>> {
    match rule.target() {
        Target::PodSpec => pod.map(Some),
        Target::All => Some(None),
        Target::Kinds(kinds) => {
            let group = object.id.group();
            kinds
                .iter()
                .any(|(g, k)| *g == group && *k == object.id.kind)
                .then_some(None)
        }
    }
}

/// Runs every rule on every object it applies to, with default settings.
pub fn evaluate(inventory: &Inventory, rules: &[&dyn Rule]) -> EngineOutput {
    evaluate_with(inventory, rules, &RuleSettings::default())
}

/// Runs every rule on every object it applies to.
pub fn evaluate_with(
    inventory: &Inventory,
    rules: &[&dyn Rule],
    settings: &RuleSettings,
) -> EngineOutput {
    let mut out = EngineOutput {
        objects: inventory
            .objects
            .iter()
            .map(|o| ScannedObject {
                object: o.id.clone(),
                file: inventory.source_of(o).path.clone(),
            })
            .collect(),
        ..EngineOutput::default()
    };
    // Which objects are workloads, and where their pod spec is, is asked once per object.
    let pod_specs: Vec<Option<PodSpec<'_>>> = inventory.objects.iter().map(pod_spec).collect();
    let mut seen_type_errors = HashSet::new();
    for (rule_index, rule) in rules.iter().enumerate() {
        let meta = rule.meta();
        let mut coverage = Coverage {
            rule: meta.id.to_string(),
            evaluated: 0,
            failed: 0,
            not_assessed: 0,
            not_assessed_objects: Vec::new(),
            skipped: rule.unconfigured(settings).map(str::to_string),
        };
        if coverage.skipped.is_some() {
            out.coverage.push(coverage);
            continue;
        }
        for (object_index, object) in inventory.objects.iter().enumerate() {
            let Some(pod) = target(*rule, object, pod_specs[object_index]) else {
                continue;
            };
            let mut cx = Context::new(object, inventory, pod, settings);
            rule.check(&mut cx);
            for (path, message) in cx.type_errors {
                let location = locate(inventory, object, &path);
                let key = (location.file.clone(), location.line, message.clone());
                if seen_type_errors.insert(key) {
                    let mut d = Diagnostic::new(DiagnosticLevel::Error, "type-mismatch", message)
                        .in_file(location.file)
                        .on_object(object.id.to_string());
                    d.line = location.line;
                    d.column = location.column;
                    out.diagnostics.push(d);
                }
            }
            let outcome = if !cx.findings.is_empty() {
                coverage.evaluated += 1;
                coverage.failed += 1;
                Outcome::Fail
            } else if let Some(reason) = cx.not_assessed {
                coverage.not_assessed += 1;
                coverage.not_assessed_objects.push(NotAssessed {
                    object: object.id.clone(),
                    reason: reason.clone(),
                });
                Outcome::NotAssessed(reason)
            } else {
                coverage.evaluated += 1;
                Outcome::Pass
            };
            for (path, message) in cx.findings {
                out.findings.push(Finding {
                    rule: meta.id.to_string(),
                    severity: meta.severity,
                    title: meta.title.to_string(),
                    message,
                    object: object.id.clone(),
                    location: locate(inventory, object, &path),
                    controls: meta.controls.to_vec(),
                    fingerprint: fingerprint(&meta.id, &object.id, &path),
                    suppressed: None,
                    remediation: meta.remediation.to_string(),
                });
                out.finding_objects.push(object_index);
            }
            out.evaluations.push(Evaluation {
                rule: rule_index,
                object: object_index,
                outcome,
            });
        }
        out.coverage.push(coverage);
    }
    out
}
