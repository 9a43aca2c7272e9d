//! Evaluates rules over an inventory: findings with resolved locations, per-rule coverage, and
//! the per-object verdicts that JUnit lists.

use std::collections::HashSet;

use palisade_core::report::{Evaluation, Outcome, ScannedObject};
use palisade_core::{
    Coverage, Diagnostic, DiagnosticLevel, Finding, JsonPointer, Location, NotAssessed, Subject,
};
use palisade_inventory::{Inventory, Object, PodSpec, pod_spec};

use crate::context::{ClusterModels, Context, Derived};
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
    /// Audit annotations the rules made (see [`Context::audit_annotation`]).
    pub audit_annotations: Vec<(String, String)>,
}

/// Where `path` of `object` is in its source.
pub fn locate(inventory: &Inventory, object: &Object, path: &JsonPointer) -> Location {
    if let Some(origin) = &object.origin {
        // A rendered Kustomize object: the file (or patch) a person edits.
        let (file, resolved) = origin.locate(path);
        return Location {
            file,
            line: Some(resolved.pos.line),
            column: Some(resolved.pos.column),
            path: path.clone(),
            rendered_by: None,
        };
    }
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
    group: &str,
    pod: Option<PodSpec<'a>>,
) -> Option<Option<PodSpec<'a>>> {
    match rule.target() {
        Target::PodSpec => pod.map(Some),
        Target::All => Some(None),
        Target::Kinds(kinds) => kinds
            .iter()
            .any(|(g, k)| *g == group && *k == object.id.kind)
            .then_some(None),
    }
}

/// Runs every rule on every object it applies to, with default settings.
pub fn evaluate(inventory: &Inventory, rules: &[&dyn Rule]) -> EngineOutput {
    evaluate_with(inventory, rules, &RuleSettings::default())
}

/// What one rule produced over the whole inventory.
struct RuleOutput {
    findings: Vec<Finding>,
    /// The inventory index of each finding's object.
    finding_objects: Vec<usize>,
    coverage: Coverage,
    evaluations: Vec<Evaluation>,
    /// `(object index, path, message)` of fields with the wrong type.
    type_errors: Vec<(usize, JsonPointer, String)>,
    audit_annotations: Vec<(String, String)>,
}

/// Runs one rule on every object it applies to.
/// What every rule's evaluation shares: per-object facts computed once, the settings, the
/// whole-inventory models, and whether to record an evaluation per (rule, object).
struct Shared<'s, 'i> {
    inventory: &'i Inventory,
    pod_specs: &'s [Option<PodSpec<'i>>],
    groups: &'s [&'i str],
    settings: &'s RuleSettings,
    derived: &'s Derived,
    keep_evaluations: bool,
    /// Each object's identity, shared by its findings.
    ids: &'s [Option<std::sync::Arc<palisade_core::ObjectRef>>],
    /// Evaluate only these objects (an admission request), each on its own even when its
    /// controller is in the inventory; `None` evaluates everything.
    only: Option<&'s [usize]>,
    cluster: Option<&'s ClusterModels>,
}

fn evaluate_rule(rule_index: usize, rule: &dyn Rule, shared: &Shared<'_, '_>) -> RuleOutput {
    let Shared {
        inventory,
        pod_specs,
        groups,
        settings,
        derived,
        keep_evaluations,
        ids,
        only,
        cluster,
    } = *shared;
    let meta = rule.meta();
    let mut out = RuleOutput {
        findings: Vec::new(),
        finding_objects: Vec::new(),
        coverage: Coverage {
            rule: meta.id.to_string(),
            evaluated: 0,
            failed: 0,
            not_assessed: 0,
            not_assessed_objects: Vec::new(),
            skipped: rule.unconfigured(settings).map(str::to_string),
            incomplete: Vec::new(),
        },
        evaluations: Vec::new(),
        type_errors: Vec::new(),
        audit_annotations: Vec::new(),
    };
    if out.coverage.skipped.is_some() {
        return out;
    }
    // A rule of some kinds visits only their objects (from the kind index, in inventory
    // order) rather than comparing every object's kind; a scoped evaluation visits its
    // objects only (`target` below still checks each one's kind).
    let candidates: Vec<usize> = match (only, rule.target()) {
        (Some(only), _) => {
            let mut indices: Vec<usize> = only
                .iter()
                .copied()
                .filter(|&i| i < inventory.objects.len())
                .collect();
            indices.sort_unstable();
            indices.dedup();
            indices
        }
        (None, Target::Kinds(kinds)) => {
            let mut indices: Vec<usize> = kinds
                .iter()
                .flat_map(|(g, k)| inventory.indices_of_kind(g, k).iter().copied())
                .collect();
            indices.sort_unstable();
            indices.dedup();
            indices
        }
        (None, Target::All | Target::PodSpec) => (0..inventory.objects.len()).collect(),
    };
    for object_index in candidates {
        let object = &inventory.objects[object_index];
        let Some(pod) = target(rule, object, groups[object_index], pod_specs[object_index]) else {
            continue;
        };
        // A Pod or ReplicaSet whose controller is in the inventory is judged once, on the
        // controller; its findings list the objects it controls.
        if pod.is_some()
            && only.is_none()
            && inventory
                .controller_of(object_index)
                .is_some_and(|c| pod_specs[c].is_some())
        {
            continue;
        }
        let mut cx = Context::new(
            object_index,
            object,
            inventory,
            pod,
            settings,
            derived,
            cluster,
        );
        rule.check(&mut cx);
        out.audit_annotations.append(&mut cx.audit_annotations);
        for (path, message) in cx.type_errors {
            out.type_errors.push((object_index, path, message));
        }
        let outcome = if !cx.findings.is_empty() {
            out.coverage.evaluated += 1;
            out.coverage.failed += 1;
            Outcome::Fail
        } else if let Some(reason) = cx.not_assessed {
            out.coverage.not_assessed += 1;
            out.coverage.not_assessed_objects.push(NotAssessed {
                object: object.id.clone(),
                reason: reason.clone(),
            });
            Outcome::NotAssessed(reason)
        } else {
            out.coverage.evaluated += 1;
            Outcome::Pass
        };
        for reported in cx.findings {
            let subject = Subject::Object(
                ids[object_index]
                    .clone()
                    .unwrap_or_else(|| std::sync::Arc::new(object.id.clone())),
            );
            let location = locate(inventory, object, &reported.path);
            let finding = reported.into_finding(meta, subject, location);
            out.findings.push(finding);
            out.finding_objects.push(object_index);
        }
        if !keep_evaluations {
            continue;
        }
        out.evaluations.push(Evaluation {
            rule: rule_index,
            object: object_index,
            outcome,
        });
    }
    out
}

/// Runs every rule on every object it applies to. Rules run on all cores (each rule is one
/// unit of work); the output is merged in registry order, so it does not depend on scheduling.
pub fn evaluate_with(
    inventory: &Inventory,
    rules: &[&dyn Rule],
    settings: &RuleSettings,
) -> EngineOutput {
    evaluate_with_options(inventory, rules, settings, true)
}

/// [`evaluate_with`], recording an [`Evaluation`] per (rule, object) only when
/// `keep_evaluations` (formats that list every check, JUnit, need them; on a large inventory
/// they are millions of entries).
pub fn evaluate_with_options(
    inventory: &Inventory,
    rules: &[&dyn Rule],
    settings: &RuleSettings,
    keep_evaluations: bool,
) -> EngineOutput {
    evaluate_scoped(inventory, rules, settings, keep_evaluations, None, None)
}

/// Evaluates the rules on the objects at `only` (an admission request's object, added to a
/// cluster's inventory): every cross-object lookup sees the whole inventory, but only these
/// objects are judged, each on its own (a Pod is judged even when its controller is present,
/// since it is the Pod that asks to be admitted). The output lists only these objects.
pub fn evaluate_objects(
    inventory: &Inventory,
    rules: &[&dyn Rule],
    settings: &RuleSettings,
    only: &[usize],
    cluster: Option<&ClusterModels>,
) -> EngineOutput {
    let mut out = evaluate_scoped(inventory, rules, settings, true, Some(only), cluster);
    // Evaluations index into the object list: renumber them for the shortened one.
    for evaluation in &mut out.evaluations {
        evaluation.object = only
            .iter()
            .position(|&i| i == evaluation.object)
            .unwrap_or(evaluation.object);
    }
    out
}

fn evaluate_scoped(
    inventory: &Inventory,
    rules: &[&dyn Rule],
    settings: &RuleSettings,
    keep_evaluations: bool,
    only: Option<&[usize]>,
    cluster: Option<&ClusterModels>,
) -> EngineOutput {
    // Which objects are workloads, where their pod spec is, their group and their identity
    // are asked once per judged object (every object in a scan, the request's at admission,
    // where the cluster's other objects must cost nothing).
    let judged: Vec<usize> = match only {
        Some(only) => only
            .iter()
            .copied()
            .filter(|&i| i < inventory.objects.len())
            .collect(),
        None => (0..inventory.objects.len()).collect(),
    };
    let mut pod_specs: Vec<Option<PodSpec<'_>>> = vec![None; inventory.objects.len()];
    let mut groups: Vec<&str> = vec![""; inventory.objects.len()];
    let mut ids: Vec<Option<std::sync::Arc<palisade_core::ObjectRef>>> =
        vec![None; inventory.objects.len()];
    for &i in &judged {
        let object = &inventory.objects[i];
        pod_specs[i] = pod_spec(object);
        groups[i] = object.id.group();
        ids[i] = Some(std::sync::Arc::new(object.id.clone()));
    }
    // A scan's rules run on every core; an admission's few objects are judged on the
    // caller's thread (the webhook runs one evaluation per core already).
    let threads = if only.is_some() {
        1
    } else {
        std::thread::available_parallelism()
            .map_or(1, std::num::NonZeroUsize::get)
            .min(rules.len().max(1))
    };
    let next = std::sync::atomic::AtomicUsize::new(0);
    let derived = Derived::default();
    let shared = Shared {
        inventory,
        pod_specs: &pod_specs,
        groups: &groups,
        settings,
        derived: &derived,
        keep_evaluations,
        ids: &ids,
        only,
        cluster,
    };
    let mut results: Vec<Option<RuleOutput>> = (0..rules.len()).map(|_| None).collect();
    let work = || {
        let mut done = Vec::new();
        loop {
            let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            let Some(rule) = rules.get(i) else { break };
            let mut output = evaluate_rule(i, *rule, &shared);
            output.findings.shrink_to_fit();
            output.finding_objects.shrink_to_fit();
            done.push((i, output));
        }
        done
    };
    if threads == 1 {
        for (i, output) in work() {
            results[i] = Some(output);
        }
    } else {
        std::thread::scope(|scope| {
            let workers: Vec<_> = (0..threads).map(|_| scope.spawn(work)).collect();
            for worker in workers {
                // A panicking rule is a bug; re-raise it rather than report a partial scan.
                for (i, output) in worker
                    .join()
                    .unwrap_or_else(|e| std::panic::resume_unwind(e))
                {
                    results[i] = Some(output);
                }
            }
        });
    }

    let mut out = EngineOutput {
        objects: judged
            .iter()
            .map(|&i| {
                let o = &inventory.objects[i];
                ScannedObject {
                    object: o.id.clone(),
                    file: inventory.source_of(o).path.to_string(),
                }
            })
            .collect(),
        ..EngineOutput::default()
    };
    // Objects judged on their controller, by controller (a scan's: an object judged on its
    // own, as at admission, lists nothing).
    let mut controlled: std::collections::HashMap<usize, Vec<String>> =
        std::collections::HashMap::new();
    let scan_all = if only.is_none() {
        inventory.objects.len()
    } else {
        0
    };
    for i in 0..scan_all {
        if let Some(c) = inventory.controller_of(i)
            && pod_specs[i].is_some()
            && pod_specs[c].is_some()
        {
            let id = &inventory.objects[i].id;
            controlled
                .entry(c)
                .or_default()
                .push(format!("{} {}", id.kind, id.display_name()));
        }
    }
    for result in results.iter_mut().flatten() {
        for (finding, object_index) in result.findings.iter_mut().zip(&result.finding_objects) {
            if let Some(list) = controlled.get(object_index) {
                finding.affected = list.clone();
            }
        }
    }
    // The findings are moved, not copied: the largest rule's list becomes the result and
    // grows as the others are appended and freed one by one (a large allocation grows in
    // place, and capacity not yet written is not resident), so one copy of millions of
    // findings is alive rather than two; reserving the total first would hold both. Which
    // list comes first does not matter: the report orders findings by severity, place and
    // rule, and keeps each rule's own order.
    let total = |f: fn(&RuleOutput) -> usize| results.iter().flatten().map(f).sum::<usize>();
    let evaluations_total = total(|r| r.evaluations.len());
    let largest = results
        .iter()
        .enumerate()
        .filter_map(|(i, r)| r.as_ref().map(|r| (r.findings.len(), i)))
        .max()
        .map(|(_, i)| i);
    if let Some(result) = largest.and_then(|i| results[i].as_mut()) {
        out.findings = std::mem::take(&mut result.findings);
        out.finding_objects = std::mem::take(&mut result.finding_objects);
    }
    out.evaluations.reserve_exact(evaluations_total);
    let mut seen_type_errors = HashSet::new();
    for result in results.into_iter().flatten() {
        for (object_index, path, message) in result.type_errors {
            let object = &inventory.objects[object_index];
            let location = locate(inventory, object, &path);
            let key = (location.file.clone(), location.line, message.clone());
            if seen_type_errors.insert(key) {
                let mut d = Diagnostic::new(DiagnosticLevel::Error, "type-mismatch", message)
                    .in_file(location.file.to_string())
                    .on_object(object.id.to_string());
                d.line = location.line;
                d.column = location.column;
                out.diagnostics.push(d);
            }
        }
        out.finding_objects.extend(result.finding_objects);
        out.findings.extend(result.findings);
        out.evaluations.extend(result.evaluations);
        out.audit_annotations.extend(result.audit_annotations);
        out.coverage.push(result.coverage);
    }
    out
}
