//! Evaluates rules over an inventory: findings with resolved locations, per-rule coverage, and
//! the per-object verdicts that JUnit lists.

use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicUsize, Ordering};

use palisade_core::report::{Evaluation, Outcome, ScannedObject};
use palisade_core::{
    Coverage, Diagnostic, DiagnosticLevel, Finding, JsonPointer, Location, NotAssessed, Subject,
};
use palisade_inventory::podspec::{GroupedTemplate, grouped_pod_spec, grouped_templates};
use palisade_inventory::{Inventory, Object, PodSpec, pod_spec};

use crate::context::{Before, ClusterModels, Context, Derived, Models, ObjectMemo, PodFacts};
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
    /// With [`FindingsOrder::Ranked`]: each finding's place in the one order.
    pub ranks: Option<Vec<u32>>,
}

/// How the engine hands its findings over.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FindingsOrder {
    /// In the one order: object by object, each object's in registry order.
    Sorted,
    /// As the workers left them, with each finding's place in the one order in
    /// [`EngineOutput::ranks`], for a caller that sorts them anyway (a scan's report, which
    /// breaks ties by rank): it spares a pass that moves millions of findings.
    Ranked,
}

/// Where `path` of `object` is in its source.
pub fn locate(inventory: &Inventory, object: &Object, path: &JsonPointer) -> Location {
    locate_owned(inventory, object, path.clone())
}

/// [`locate`], keeping `path` in the location.
fn locate_owned(inventory: &Inventory, object: &Object, path: JsonPointer) -> Location {
    if let Some(origin) = &object.origin {
        // A rendered Kustomize object: the file (or patch) a person edits.
        let (file, resolved) = origin.locate(&path);
        return Location {
            file,
            line: Some(resolved.pos.line),
            column: Some(resolved.pos.column),
            path,
            rendered_by: None,
        };
    }
    let source = inventory.source_of(object);
    let resolved = object.locate(&path);
    Location {
        file: source.path.clone(),
        line: Some(resolved.pos.line),
        column: Some(resolved.pos.column),
        path,
        rendered_by: source.rendered_by,
    }
}

/// Runs every rule on every object it applies to, with default settings.
pub fn evaluate(inventory: &Inventory, rules: &[&dyn Rule]) -> EngineOutput {
    evaluate_with(inventory, rules, &RuleSettings::default())
}

/// Objects evaluated as one unit of work: every rule runs on an object while it is in cache
/// (rather than each rule walking the whole inventory), and a chunk is small enough that the
/// cores stay busy to the end.
const CHUNK: usize = 256;

/// The rules that may apply to each object, worked out once per kind rather than once per
/// (rule, object). Rules that target pod specs are listed for every kind and run on objects
/// that have one.
struct Plan {
    /// Rule indices, in registry order, per distinct (group, kind).
    lists: Vec<Vec<usize>>,
    /// Each judged object's list, by inventory index.
    list_of: Vec<u32>,
}

impl Plan {
    fn new(
        inventory: &Inventory,
        judged: &[usize],
        groups: &[&str],
        rules: &[&dyn Rule],
        runs: &[bool],
    ) -> Self {
        let mut lists: Vec<Vec<usize>> = Vec::new();
        let mut by_kind: HashMap<(&str, &str), u32> = HashMap::new();
        let mut list_of = vec![u32::MAX; inventory.objects.len()];
        for &i in judged {
            let key = (groups[i], inventory.objects[i].id.kind.as_str());
            list_of[i] = *by_kind.entry(key).or_insert_with(|| {
                let applies = (0..rules.len()).filter(|&r| {
                    runs[r]
                        && match rules[r].target() {
                            Target::PodSpec | Target::Endpoint | Target::All => true,
                            Target::Kinds(kinds) => kinds.contains(&key),
                        }
                });
                lists.push(applies.collect());
                u32::try_from(lists.len() - 1).unwrap_or(u32::MAX)
            });
        }
        Plan { lists, list_of }
    }

    /// For each rule, whether it applies to one of `objects` at least.
    fn applicable(
        &self,
        rules: &[&dyn Rule],
        objects: &[usize],
        facts: &PerObject<'_>,
    ) -> Vec<bool> {
        let mut seen = vec![false; self.lists.len()];
        let mut with_pod = vec![false; self.lists.len()];
        for &i in objects {
            if let Some(list) = usize::try_from(self.list_of[i])
                .ok()
                .filter(|&l| l < seen.len())
            {
                seen[list] = true;
                with_pod[list] |= facts.has_pods(i);
            }
        }
        let mut applies = vec![false; rules.len()];
        for (list, members) in self.lists.iter().enumerate().filter(|(l, _)| seen[*l]) {
            for &r in members {
                applies[r] |= with_pod[list]
                    || !matches!(rules[r].target(), Target::PodSpec | Target::Endpoint);
            }
        }
        applies
    }

    fn rules_for(&self, object_index: usize) -> &[usize] {
        usize::try_from(self.list_of[object_index])
            .ok()
            .and_then(|list| self.lists.get(list))
            .map_or(&[], Vec::as_slice)
    }
}

/// One rule's tally over some objects.
#[derive(Default)]
struct Tally {
    evaluated: usize,
    failed: usize,
    /// `(object index, why)`.
    not_assessed: Vec<(usize, NotAssessed)>,
}

/// What one worker produced: its chunks' findings one after another, with where each chunk's
/// begin, so the output can be put in inventory order whatever the scheduling was.
#[derive(Default)]
struct WorkerOutput {
    findings: Segments<Finding>,
    /// The inventory index of each finding's object.
    finding_objects: Vec<usize>,
    /// The index of each finding's rule.
    finding_rules: Vec<u32>,
    /// `(pass, chunk, first finding, number of findings)`.
    blocks: Vec<(usize, usize, usize, usize)>,
    /// Per rule, in rule order.
    tallies: Vec<Tally>,
    evaluations: Vec<Evaluation>,
    /// `(rule index, object index, path, code, message)` of problems reported as diagnostics.
    errors: Vec<(usize, usize, JsonPointer, &'static str, String)>,
    /// `(object index, rule index, key, value)`.
    audit_annotations: Vec<(usize, usize, String, String)>,
    /// The messages and pointers of this worker's findings, each distinct one kept once.
    texts: palisade_core::intern::Interner,
}

/// A list kept in segments of at most [`Segments::SEGMENT`] items, so that it never
/// reallocates a large block. A worker's millions of findings grow without being copied, and
/// the merge frees each segment as soon as it is moved (blocks this large go back to the
/// system at once), so two copies of the findings are never alive together.
struct Segments<T> {
    /// Segments of exactly [`Segments::SEGMENT`] items.
    full: Vec<Vec<T>>,
    last: Vec<T>,
}

impl<T> Default for Segments<T> {
    fn default() -> Self {
        Segments {
            full: Vec::new(),
            last: Vec::new(),
        }
    }
}

impl<T> Segments<T> {
    /// 65,536 findings are about 16 MB; a small scan's one segment grows as a vector does.
    const SEGMENT: usize = 1 << 16;

    fn push(&mut self, item: T) {
        if self.last.len() == Self::SEGMENT {
            let full = std::mem::replace(&mut self.last, Vec::with_capacity(Self::SEGMENT));
            self.full.push(full);
        }
        self.last.push(item);
    }

    fn len(&self) -> usize {
        self.full.len() * Self::SEGMENT + self.last.len()
    }

    /// The segments in order, each to be moved and dropped by the caller.
    fn into_segments(self) -> impl Iterator<Item = Vec<T>> {
        self.full.into_iter().chain(std::iter::once(self.last))
    }
}

/// What every evaluation shares: per-object facts computed once, the plan, the settings, the
/// whole-inventory models, and whether to record an evaluation per (rule, object).
struct Shared<'s, 'i> {
    inventory: &'i Inventory,
    rules: &'s [&'s dyn Rule],
    plan: &'s Plan,
    facts: &'s PerObject<'i>,
    settings: &'s RuleSettings,
    derived: &'s Derived,
    keep_evaluations: bool,
    /// Evaluate only these objects (an admission request), each on its own even when its
    /// controller is in the inventory; `None` evaluates everything.
    only: Option<&'s [usize]>,
    cluster: Option<&'s ClusterModels>,
    before: Option<&'s Before>,
    /// Which pass over the objects this is (see [`passes`]).
    pass: usize,
}

/// Runs every rule that applies to one object.
fn evaluate_object(
    object_index: usize,
    shared: &Shared<'_, '_>,
    memo: &ObjectMemo,
    out: &mut WorkerOutput,
) {
    let Shared {
        inventory,
        rules,
        plan,
        facts,
        settings,
        derived,
        keep_evaluations: _,
        only,
        cluster,
        before,
        pass: _,
    } = *shared;
    let object = &inventory.objects[object_index];
    let pod_spec = facts.pod_specs[object_index];
    let grouped = &facts.grouped[object_index];
    let security_defaults = palisade_inventory::operator_pods::container_security_defaults(object);
    // A Pod or ReplicaSet whose controller is in the inventory is judged once, on the
    // controller; its findings list the objects it controls. So is a Pod (or an operator's
    // Job or StatefulSet) made from one of the templates of a RayCluster, a JobSet, ...
    let judged_on_controller = pod_spec.is_some()
        && only.is_none()
        && (inventory
            .controller_of(object_index)
            .is_some_and(|c| facts.pod_specs[c].is_some())
            || inventory.judged_through_template(object_index).is_some());
    let mut pod_facts = None;
    let mut grouped_facts: Option<Vec<(PodSpec<'_>, PodFacts<'_>)>> = None;
    // A deletion or a connection is judged only by the rules that ask for it.
    let storing_nothing = object.storing_nothing();
    for &rule_index in plan.rules_for(object_index) {
        let rule = rules[rule_index];
        if storing_nothing.is_some_and(|op| !rule.judges_operation(op)) {
            continue;
        }
        let context = |pod| {
            Context::new(
                object_index,
                object,
                inventory,
                pod,
                settings,
                (derived, memo),
                (cluster, before),
            )
        };
        if !grouped.is_empty() && matches!(rule.target(), Target::PodSpec | Target::Endpoint) {
            // Each of its pod templates is judged as a pod spec, and as the network's endpoint
            // for its pods where the network holds one (`crate::network::NetworkFacts::endpoint`:
            // read from manifests).
            let pods = grouped_facts.get_or_insert_with(|| {
                grouped
                    .iter()
                    .map(|t| {
                        let pod = grouped_pod_spec(object, t);
                        (pod, PodFacts::of(pod, security_defaults))
                    })
                    .collect()
            });
            let Some(mut cx) = check_each_template(
                rule,
                pods.iter().map(|(pod, facts)| context(Some((*pod, facts)))),
            ) else {
                continue;
            };
            record(rule_index, &mut cx, shared, out);
            continue;
        }
        let pod = match rule.target() {
            Target::PodSpec if judged_on_controller => continue,
            Target::Endpoint
                if judged_on_controller
                    && !crate::network::is_endpoint(inventory, derived, object_index) =>
            {
                continue;
            }
            Target::PodSpec | Target::Endpoint => match pod_spec {
                Some(pod) => Some(pod),
                None => continue,
            },
            Target::All | Target::Kinds(_) => None,
        };
        let pod = pod.map(|pod| {
            let facts = pod_facts.get_or_insert_with(|| PodFacts::of(pod, security_defaults));
            (pod, &*facts)
        });
        let mut cx = context(pod);
        rule.check(&mut cx);
        record(rule_index, &mut cx, shared, out);
    }
}

/// Runs `rule` on each of an object's pod templates (`contexts`, one per template), and
/// gathers its verdicts in the first's context: every template's findings and problems; not
/// assessed with the first reason some template gave; out of scope only when every template
/// is. `None` when there is no template.
fn check_each_template<'a>(
    rule: &dyn Rule,
    mut contexts: impl Iterator<Item = Context<'a>>,
) -> Option<Context<'a>> {
    let mut first = contexts.next()?;
    rule.check(&mut first);
    for mut cx in contexts {
        rule.check(&mut cx);
        first.findings.append(&mut cx.findings);
        first.errors.append(&mut cx.errors);
        first.audit_annotations.append(&mut cx.audit_annotations);
        first.failed |= cx.failed;
        if first.not_assessed.is_none() {
            first.not_assessed = cx.not_assessed.take();
        }
        first.out_of_scope &= cx.out_of_scope;
    }
    Some(first)
}

/// Records what `rule_index` found on the object of `cx`: its findings, problems, audit
/// annotations, the rule's tally and (when kept) the evaluation.
fn record(
    rule_index: usize,
    cx: &mut Context<'_>,
    shared: &Shared<'_, '_>,
    out: &mut WorkerOutput,
) {
    let (object_index, object, inventory) = (cx.object_index, cx.object, shared.inventory);
    let rule = shared.rules[rule_index];
    for (key, value) in cx.audit_annotations.drain(..) {
        out.audit_annotations
            .push((object_index, rule_index, key, value));
    }
    for (path, code, message) in cx.errors.drain(..) {
        out.errors
            .push((rule_index, object_index, path, code, message));
    }
    if cx.out_of_scope && cx.findings.is_empty() && cx.not_assessed.is_none() {
        return;
    }
    let tally = &mut out.tallies[rule_index];
    let outcome = if !cx.findings.is_empty() {
        tally.evaluated += 1;
        tally.failed += 1;
        // Failed on some of what the rule checks and not assessed on the rest: the
        // controls its findings do not cite get no verdict from this object.
        if let Some(reason) = cx.not_assessed.take() {
            tally.not_assessed.push((
                object_index,
                NotAssessed {
                    object: palisade_core::ObjectRef::clone(&object.id),
                    reason,
                    failed: std::mem::take(&mut cx.failed),
                },
            ));
        }
        Outcome::Fail
    } else if let Some(reason) = cx.not_assessed.take() {
        tally.not_assessed.push((
            object_index,
            NotAssessed {
                object: palisade_core::ObjectRef::clone(&object.id),
                reason: reason.clone(),
                failed: std::mem::take(&mut cx.failed),
            },
        ));
        Outcome::NotAssessed(reason)
    } else {
        tally.evaluated += 1;
        Outcome::Pass
    };
    for mut reported in std::mem::take(&mut cx.findings) {
        // The object's identity, shared by its findings.
        let subject = Subject::Object(std::sync::Arc::clone(&object.id));
        let location = locate_owned(inventory, object, std::mem::take(&mut reported.path));
        let mut finding = reported.into_finding(rule.meta(), subject, location);
        finding.share_texts(&mut out.texts);
        out.findings.push(finding);
        out.finding_objects.push(object_index);
        out.finding_rules
            .push(u32::try_from(rule_index).unwrap_or(u32::MAX));
    }
    if shared.keep_evaluations {
        out.evaluations.push(Evaluation {
            rule: rule_index,
            object: object_index,
            outcome,
        });
    }
}

/// Takes chunks of `objects` until none is left.
fn work(objects: &[usize], next: &AtomicUsize, shared: &Shared<'_, '_>) -> WorkerOutput {
    let mut out = WorkerOutput {
        tallies: shared.rules.iter().map(|_| Tally::default()).collect(),
        ..WorkerOutput::default()
    };
    let memo = ObjectMemo::default();
    loop {
        let chunk = next.fetch_add(1, Ordering::Relaxed);
        let start = chunk.saturating_mul(CHUNK);
        let Some(these) = objects.get(start..objects.len().min(start.saturating_add(CHUNK))) else {
            break;
        };
        if these.is_empty() {
            break;
        }
        let first = out.findings.len();
        for &object_index in these {
            evaluate_object(object_index, shared, &memo, &mut out);
        }
        out.blocks
            .push((shared.pass, chunk, first, out.findings.len() - first));
    }
    out
}

/// Runs every rule on every object it applies to. Objects are evaluated in chunks on all cores
/// (every rule on one object, then the next); the output is in inventory order, each object's
/// findings in registry order, so it does not depend on scheduling.
pub fn evaluate_with(
    inventory: &Inventory,
    rules: &[&dyn Rule],
    settings: &RuleSettings,
) -> EngineOutput {
    evaluate_with_options(inventory, rules, settings, true, FindingsOrder::Sorted)
}

/// [`evaluate_with`], recording an [`Evaluation`] per (rule, object) only when
/// `keep_evaluations` (formats that list every check, JUnit, need them; on a large inventory
/// they are millions of entries), the findings handed over in `order`.
pub fn evaluate_with_options(
    inventory: &Inventory,
    rules: &[&dyn Rule],
    settings: &RuleSettings,
    keep_evaluations: bool,
    order: FindingsOrder,
) -> EngineOutput {
    let scope = Scope {
        only: None,
        cluster: None,
        before: None,
        order,
    };
    evaluate_scoped(inventory, rules, settings, keep_evaluations, scope)
}

/// Which objects an evaluation judges, with which kept models, and how it hands findings over.
struct Scope<'a> {
    only: Option<&'a [usize]>,
    cluster: Option<&'a ClusterModels>,
    before: Option<&'a Before>,
    order: FindingsOrder,
}

/// Evaluates the rules on the objects at `only` (an admission request's object, added to a
/// cluster's inventory): every cross-object lookup sees the whole inventory, but only these
/// objects are judged, each on its own (a Pod is judged even when its controller is present,
/// since it is the Pod that asks to be admitted). The output lists only these objects.
/// `before` is what the cluster was before they were placed in it, when the caller found it
/// on the inventory it places them in ([`ClusterModels::before`]).
pub fn evaluate_objects(
    inventory: &Inventory,
    rules: &[&dyn Rule],
    settings: &RuleSettings,
    only: &[usize],
    (cluster, before): (Option<&ClusterModels>, Option<&Before>),
) -> EngineOutput {
    let scope = Scope {
        only: Some(only),
        cluster,
        before,
        order: FindingsOrder::Sorted,
    };
    let mut out = evaluate_scoped(inventory, rules, settings, true, scope);
    // Evaluations index into the object list: renumber them for the shortened one.
    for evaluation in &mut out.evaluations {
        evaluation.object = only
            .iter()
            .position(|&i| i == evaluation.object)
            .unwrap_or(evaluation.object);
    }
    out
}

/// The rules each pass over the objects runs. A scan runs first the rules that read
/// whole-inventory models (the network, the escalation graph, the secrets index), with those
/// models, then the rules that read one object at a time once the models are freed: a large
/// scan's millions of findings come almost all from the second kind, so they never share the
/// memory with the models. An admission evaluation, whose models are the cluster's, kept,
/// runs every rule in one pass. Findings are put back in one order by [`merge`].
fn passes(rules: &[&dyn Rule], runs: &[bool], scan: bool) -> Vec<Vec<bool>> {
    if !scan {
        return vec![runs.to_vec()];
    }
    let reads_models: Vec<bool> = rules
        .iter()
        .map(|rule| {
            let mut models = Models::default();
            rule.models(&mut models);
            !models.is_empty()
        })
        .collect();
    let pass = |models: bool| -> Vec<bool> {
        runs.iter()
            .zip(&reads_models)
            .map(|(&runs, &reads)| runs && reads == models)
            .collect()
    };
    let passes: Vec<Vec<bool>> = [pass(true), pass(false)]
        .into_iter()
        .filter(|runs| runs.contains(&true))
        .collect();
    if passes.is_empty() {
        vec![runs.to_vec()]
    } else {
        passes
    }
}

/// Runs one pass over `objects` on `threads` threads.
fn run_workers(objects: &[usize], shared: &Shared<'_, '_>, threads: usize) -> Vec<WorkerOutput> {
    let next = AtomicUsize::new(0);
    if threads == 1 {
        return vec![work(objects, &next, shared)];
    }
    std::thread::scope(|scope| {
        let workers: Vec<_> = (0..threads)
            .map(|_| scope.spawn(|| work(objects, &next, shared)))
            .collect();
        // A panicking rule is a bug; re-raise it rather than report a partial scan.
        workers
            .into_iter()
            .map(|w| w.join().unwrap_or_else(|e| std::panic::resume_unwind(e)))
            .collect()
    })
}

fn evaluate_scoped(
    inventory: &Inventory,
    rules: &[&dyn Rule],
    settings: &RuleSettings,
    keep_evaluations: bool,
    Scope {
        only,
        cluster,
        before,
        order,
    }: Scope<'_>,
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
    let facts = object_facts(inventory, &judged, only.is_none());
    // A rule that judges what an object changes in a cluster runs only against one.
    let skipped: Vec<Option<String>> = rules
        .iter()
        .map(|r| {
            r.unconfigured(settings)
                .or_else(|| r.only_against_a_cluster().filter(|_| cluster.is_none()))
                .map(str::to_string)
        })
        .collect();
    let runnable: Vec<bool> = skipped.iter().map(Option::is_none).collect();
    // Each object is judged once, in inventory order.
    let mut objects = judged.clone();
    objects.sort_unstable();
    objects.dedup();
    // A scan's objects are judged on every core; an admission's few objects on the caller's
    // thread (the webhook runs one evaluation per core already).
    let threads = if only.is_some() {
        1
    } else {
        palisade_core::parallel::cores().min(objects.len().div_ceil(CHUNK).max(1))
    };
    let mut outputs: Vec<WorkerOutput> = Vec::new();
    for (pass, runs) in passes(rules, &runnable, only.is_none()).iter().enumerate() {
        let plan = Plan::new(inventory, &judged, &facts.groups, rules, runs);
        // This pass's models, freed when it ends.
        let derived = Derived::default();
        crate::network::lend_ingress(settings, &derived);
        if let Some(cluster) = cluster {
            // Without the policies' refusals (not lent when a Namespace is judged, whose labels
            // they may read), an escalation graph built here counts only Pod Security as a
            // brake: it shows more steps, never fewer.
            cluster.lend(&derived, inventory, &objects);
        }
        if only.is_none() {
            // The models the rules that apply to some object read, built side by side.
            let mut models = Models::default();
            let applies = plan.applicable(rules, &objects, &facts);
            for (rule, _) in rules.iter().zip(&applies).filter(|(_, applies)| **applies) {
                rule.models(&mut models);
            }
            if models.wants::<crate::rbac::RbacModel>()
                && let Some(asker) = crate::refusals::PolicyAsker::of(settings)
            {
                // The escalation graph asks the cluster's admission policies what they refuse.
                derived.insert(asker);
            }
            let cores = palisade_core::parallel::cores();
            models.build(&derived, inventory, cores);
        }
        let shared = Shared {
            inventory,
            rules,
            plan: &plan,
            facts: &facts,
            settings,
            derived: &derived,
            keep_evaluations,
            only,
            cluster,
            before,
            pass,
        };
        outputs.extend(run_workers(&objects, &shared, threads));
    }
    let mut out = EngineOutput {
        objects: judged
            .iter()
            .map(|&i| {
                // Shared with the object's findings and its file's other objects.
                let o = &inventory.objects[i];
                ScannedObject {
                    object: std::sync::Arc::clone(&o.id),
                    file: std::sync::Arc::clone(&inventory.source_of(o).path),
                }
            })
            .collect(),
        ..EngineOutput::default()
    };
    merge(&mut out, outputs, (inventory, rules), skipped, order);
    mark_affected(&mut out, inventory, &facts, only.is_none());
    out
}

/// An object's pod spec, pod templates (of a kind with several) and group.
type ObjectFacts<'i> = (Option<PodSpec<'i>>, Vec<GroupedTemplate>, &'i str);

/// What every rule asks of each judged object, by inventory index (the others' are empty).
struct PerObject<'i> {
    pod_specs: Vec<Option<PodSpec<'i>>>,
    /// The pod templates of the objects of kinds with several (a RayCluster's groups).
    grouped: Vec<Vec<GroupedTemplate>>,
    groups: Vec<&'i str>,
}

impl PerObject<'_> {
    /// Whether object `i` has a pod spec or pod templates the rules judge as pod specs.
    fn has_pods(&self, i: usize) -> bool {
        self.pod_specs[i].is_some() || !self.grouped[i].is_empty()
    }
}

/// The [`ObjectFacts`] of the judged objects; asked on all cores in a scan, where a large
/// inventory makes it a noticeable share.
fn object_facts<'i>(inventory: &'i Inventory, judged: &[usize], scan: bool) -> PerObject<'i> {
    let facts_of = |object: &'i Object| -> ObjectFacts<'i> {
        (
            pod_spec(object),
            grouped_templates(object),
            object.id.group(),
        )
    };
    let objects = &inventory.objects;
    let facts: Vec<ObjectFacts<'i>> = if scan {
        palisade_core::parallel::map_each(objects, 1024, facts_of)
    } else {
        let mut facts: Vec<ObjectFacts<'i>> =
            (0..objects.len()).map(|_| (None, Vec::new(), "")).collect();
        for &i in judged {
            facts[i] = facts_of(&objects[i]);
        }
        facts
    };
    let mut per = PerObject {
        pod_specs: Vec::with_capacity(facts.len()),
        grouped: Vec::with_capacity(facts.len()),
        groups: Vec::with_capacity(facts.len()),
    };
    for (pod_spec, grouped, group) in facts {
        per.pod_specs.push(pod_spec);
        per.grouped.push(grouped);
        per.groups.push(group);
    }
    per
}

/// Puts the workers' outputs together in inventory order: findings (moved into that order,
/// or ranked in it, as `order` asks), each rule's coverage, evaluations by rule then object,
/// one diagnostic per wrong-typed field.
fn merge(
    out: &mut EngineOutput,
    outputs: Vec<WorkerOutput>,
    (inventory, rules): (&Inventory, &[&dyn Rule]),
    skipped: Vec<Option<String>>,
    order: FindingsOrder,
) {
    // The findings are moved once into a list of their exact number, each worker's segment
    // freed as soon as it is moved, then the chunks are put in order in place: one copy of
    // millions of findings is alive, not two.
    let total: usize = outputs.iter().map(|o| o.findings.len()).sum();
    out.findings.reserve_exact(total);
    out.finding_objects.reserve_exact(total);
    let mut finding_rules: Vec<u32> = Vec::with_capacity(total);
    let mut blocks: Vec<(usize, usize, usize, usize)> = Vec::new();
    let mut tallies: Vec<Tally> = rules.iter().map(|_| Tally::default()).collect();
    let mut errors = Vec::new();
    let mut annotations = Vec::new();
    for output in outputs {
        let offset = out.findings.len();
        blocks.extend(
            output
                .blocks
                .iter()
                .map(|&(pass, chunk, first, len)| (pass, chunk, first + offset, len)),
        );
        for segment in output.findings.into_segments() {
            out.findings.extend(segment);
        }
        out.finding_objects.extend(output.finding_objects);
        finding_rules.extend(output.finding_rules);
        out.evaluations.extend(output.evaluations);
        for (total, tally) in tallies.iter_mut().zip(output.tallies) {
            total.evaluated += tally.evaluated;
            total.failed += tally.failed;
            total.not_assessed.extend(tally.not_assessed);
        }
        errors.extend(output.errors);
        annotations.extend(output.audit_annotations);
    }
    blocks.sort_unstable_by_key(|&(pass, chunk, _, _)| (pass, chunk));
    // Positions are 32-bit (see `permute`): half the memory of millions of `usize`.
    let position = |i: usize| u32::try_from(i).expect("fewer than 2^32 findings");
    let passes: Vec<Vec<u32>> = blocks
        .chunk_by(|a, b| a.0 == b.0)
        .map(|pass| {
            pass.iter()
                .flat_map(|&(_, _, first, len)| (first..first + len).map(position))
                .collect()
        })
        .collect();
    let one_order = interleave(passes, |i| {
        (out.finding_objects[i as usize], finding_rules[i as usize])
    });
    drop(finding_rules);
    match order {
        FindingsOrder::Sorted => {
            // Both lists in place: a new list of millions of object indices would be the
            // merge's peak.
            let (findings, objects) = (&mut out.findings, &mut out.finding_objects);
            palisade_core::report::permute_by(one_order, |a, b| {
                findings.swap(a, b);
                objects.swap(a, b);
            });
        }
        FindingsOrder::Ranked => out.ranks = Some(palisade_core::report::inverse(&one_order)),
    }
    out.evaluations.sort_unstable_by_key(|e| (e.rule, e.object));
    for ((rule, tally), skipped) in rules.iter().zip(tallies).zip(skipped) {
        let mut not_assessed = tally.not_assessed;
        not_assessed.sort_by_key(|(object, _)| *object);
        out.coverage.push(Coverage {
            rule: rule.meta().id.to_string(),
            evaluated: tally.evaluated,
            failed: tally.failed,
            not_assessed: not_assessed.len(),
            not_assessed_objects: not_assessed.into_iter().map(|(_, n)| n).collect(),
            skipped,
            incomplete: Vec::new(),
            controls: Vec::new(),
        });
    }
    annotations.sort_by_key(|&(object, rule, _, _)| (object, rule));
    out.audit_annotations = annotations
        .into_iter()
        .map(|(_, _, key, value)| (key, value))
        .collect();
    errors.sort_by_key(|&(rule, object, _, _, _)| (rule, object));
    let mut seen = HashSet::new();
    for (rule_index, object_index, path, code, message) in errors {
        let object = &inventory.objects[object_index];
        let message = if code == palisade_core::diagnostic::POLICY_ERROR {
            let rule = rules[rule_index].meta();
            format!("{} could not judge the object: {message}", rule.id)
        } else {
            message
        };
        let location = locate(inventory, object, &path);
        let key = (location.file.clone(), location.line, message.clone());
        if seen.insert(key) {
            let mut d = Diagnostic::new(DiagnosticLevel::Error, code, message)
                .in_file(location.file.to_string())
                .on_object(object.id.to_string());
            d.line = location.line;
            d.column = location.column;
            out.diagnostics.push(d);
        }
    }
}

/// The findings of several passes (each in object order, and each object's in rule order) in
/// the order one pass with every rule would have found them: object by object, each object's
/// in rule order. No rule runs in two passes, so no two findings of different passes tie.
fn interleave(passes: Vec<Vec<u32>>, key: impl Fn(u32) -> (usize, u32)) -> Vec<u32> {
    passes
        .into_iter()
        .reduce(|first, second| {
            let mut merged = Vec::with_capacity(first.len() + second.len());
            let (mut a, mut b) = (first.into_iter().peekable(), second.into_iter().peekable());
            while let (Some(&x), Some(&y)) = (a.peek(), b.peek()) {
                if key(y) < key(x) {
                    merged.push(y);
                    b.next();
                } else {
                    merged.push(x);
                    a.next();
                }
            }
            merged.extend(a);
            merged.extend(b);
            merged
        })
        .unwrap_or_default()
}

/// Lists, on each finding of a controller, the objects judged through it (a scan's Pods and
/// ReplicaSets whose controller is in the inventory; an object judged on its own, as at
/// admission, lists nothing).
fn mark_affected(out: &mut EngineOutput, inventory: &Inventory, facts: &PerObject<'_>, scan: bool) {
    if !scan {
        return;
    }
    let mut controlled: HashMap<usize, Vec<String>> = HashMap::new();
    // Those judged through one of an object's pod templates, with the template's place.
    let mut templated: HashMap<usize, Vec<(String, String)>> = HashMap::new();
    for i in 0..inventory.objects.len() {
        if facts.pod_specs[i].is_none() {
            continue;
        }
        let id = &inventory.objects[i].id;
        let named = || format!("{} {}", id.kind, id.display_name());
        if let Some(c) = inventory.controller_of(i)
            && facts.pod_specs[c].is_some()
        {
            controlled.entry(c).or_default().push(named());
        } else if let Some((holder, template)) = inventory.judged_through_template(i) {
            let place = template.place();
            templated
                .entry(holder)
                .or_default()
                .push((format!("{place}/"), named()));
        }
    }
    for (finding, object_index) in out.findings.iter_mut().zip(&out.finding_objects) {
        if let Some(list) = controlled.get(object_index) {
            *finding.affected_mut() = list.clone();
        } else if let Some(list) = templated.get(object_index) {
            let path = finding.location.path.as_str();
            let affected: Vec<String> = list
                .iter()
                .filter(|(place, _)| path.starts_with(place.as_str()))
                .map(|(_, named)| named.clone())
                .collect();
            if !affected.is_empty() {
                *finding.affected_mut() = affected;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::Segments;
    use crate::context::{ClusterModels, Context, Models, Sees};
    use crate::rule::{Rule, Target};
    use palisade_core::RuleMeta;
    use palisade_inventory::{Inventory, Limits, load_text};
    use std::sync::atomic::{AtomicUsize, Ordering};

    static BUILDS: AtomicUsize = AtomicUsize::new(0);

    struct Counted;

    fn counted(_: &Inventory) -> Counted {
        BUILDS.fetch_add(1, Ordering::SeqCst);
        Counted
    }

    /// A rule that reads a model kept for every object but the unseen ones.
    struct ReadsKept;

    impl Rule for ReadsKept {
        fn meta(&self) -> &'static RuleMeta {
            static META: std::sync::LazyLock<RuleMeta> = std::sync::LazyLock::new(|| RuleMeta {
                id: "TEST001".into(),
                slug: "test".into(),
                title: "test".into(),
                severity: palisade_core::Severity::Low,
                controls: std::borrow::Cow::Owned(vec![]),
                remediation: "".into(),
                docs: "".into(),
            });
            &META
        }
        fn target(&self) -> Target {
            Target::All
        }
        fn check(&self, cx: &mut Context<'_>) {
            cx.derived(counted);
        }
        fn models(&self, models: &mut Models) {
            models.keep(
                counted,
                Sees::AllBut(|inventory, _, index| crate::unseen::is_unseen(inventory, index)),
            );
        }
    }

    fn object(text: &str) -> palisade_inventory::Object {
        let mut loaded = load_text("o.yaml", text, &Limits::default());
        loaded.inventory.objects.remove(0)
    }

    /// How many times judging `text` against `cluster` builds the kept model.
    fn builds_when_judging(cluster: &mut Inventory, models: &ClusterModels, text: &str) -> usize {
        let before = BUILDS.load(Ordering::SeqCst);
        let (index, previous) = cluster.insert(object(text));
        let rule: &dyn Rule = &ReadsKept;
        super::evaluate_objects(
            cluster,
            &[rule],
            &crate::settings::RuleSettings::default(),
            &[index],
            (Some(models), None),
        );
        cluster.restore(index, previous);
        BUILDS.load(Ordering::SeqCst) - before
    }

    const SECRET: &str =
        "apiVersion: v1\nkind: Secret\nmetadata: {name: s, namespace: shop}\ndata: {key: YQ==}\n";

    /// The kept model is lent to an evaluation of an object it does not see, and built again
    /// for one it sees, or one that changes another object's controller.
    #[test]
    fn kept_models_are_lent_only_for_unseen_objects() {
        let cluster = [
            crate::unseen::tests::DEPLOYMENT_AND_REPLICA_SET,
            "\
apiVersion: v1
kind: Pod
metadata: {name: api-2-x, namespace: shop, ownerReferences: [{apiVersion: apps/v1, kind: ReplicaSet, name: api-2, uid: rs-2, controller: true}]}
spec: {containers: [{name: c, image: 'a:1'}]}
---
",
            SECRET,
        ]
        .concat();
        let mut cluster = load_text("c.yaml", &cluster, &Limits::default()).inventory;
        let rule: &dyn Rule = &ReadsKept;
        let models = ClusterModels::prepare(&cluster, &[rule]);
        let controlled = "apiVersion: v1\nkind: Pod\nmetadata: {name: web-1-a, namespace: shop, ownerReferences: [{apiVersion: apps/v1, kind: ReplicaSet, name: web-1, uid: rs-1, controller: true}]}\nspec: {containers: [{name: c, image: 'a:1'}]}\n";
        assert_eq!(builds_when_judging(&mut cluster, &models, controlled), 0);
        let alone = "apiVersion: v1\nkind: Pod\nmetadata: {name: alone, namespace: shop}\nspec: {containers: [{name: c, image: 'a:1'}]}\n";
        assert_eq!(builds_when_judging(&mut cluster, &models, alone), 1);
        // A ReplicaSet of the Deployment that owns a Pod of the cluster: unseen itself, but
        // its Pod is now judged through the Deployment.
        let bridge = "apiVersion: apps/v1\nkind: ReplicaSet\nmetadata: {name: api-2, namespace: shop, uid: rs-2, ownerReferences: [{apiVersion: apps/v1, kind: Deployment, name: web, uid: d-1, controller: true}]}\nspec: {template: {spec: {containers: [{name: c, image: 'a:1'}]}}}\n";
        assert_eq!(builds_when_judging(&mut cluster, &models, bridge), 1);
        // An update of the cluster's own ReplicaSet, still controlled: lent.
        let update = "apiVersion: apps/v1\nkind: ReplicaSet\nmetadata: {name: web-1, namespace: shop, uid: rs-1, labels: {x: y}, ownerReferences: [{apiVersion: apps/v1, kind: Deployment, name: web, uid: d-1, controller: true}]}\nspec: {template: {spec: {containers: [{name: c, image: 'a:1'}]}}}\n";
        assert_eq!(builds_when_judging(&mut cluster, &models, update), 0);
        // An update of the cluster's Deployment (seen) with a new image and replica count:
        // nothing a model reads changes, lent; one with another account is not.
        let deployment = crate::unseen::tests::DEPLOYMENT_AND_REPLICA_SET
            .split("---")
            .next()
            .unwrap();
        assert!(deployment.contains("kind: Deployment"), "{deployment}");
        let rolled = deployment
            .replace("image: 'a:1'", "image: 'a:2'")
            .replace("spec: {template:", "spec: {replicas: 3, template:");
        assert_ne!(rolled, deployment, "the Deployment names an image");
        let rolled = format!("{rolled}status: {{replicas: 3}}\n");
        assert_eq!(builds_when_judging(&mut cluster, &models, &rolled), 0);
        let other_account = deployment.replace(
            "{spec: {containers:",
            "{spec: {serviceAccountName: x, containers:",
        );
        assert_ne!(other_account, deployment, "the Deployment has a pod spec");
        assert_eq!(
            builds_when_judging(&mut cluster, &models, &other_account),
            1
        );
        // The cluster's Secret with a new value, another Secret: lent; a new token Secret,
        // which the escalation graph reads: built.
        assert_eq!(
            builds_when_judging(&mut cluster, &models, &SECRET.replace("YQ==", "Yg==")),
            0
        );
        assert_eq!(
            builds_when_judging(
                &mut cluster,
                &models,
                &SECRET.replace("name: s,", "name: t,")
            ),
            0
        );
        let token = SECRET.replace(
            "name: s,",
            "name: t, annotations: {kubernetes.io/service-account.name: web},",
        ) + "type: kubernetes.io/service-account-token\n";
        assert_eq!(builds_when_judging(&mut cluster, &models, &token), 1);
        let config =
            "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: settings, namespace: shop}\n";
        assert_eq!(builds_when_judging(&mut cluster, &models, config), 0);
        // In a namespace read after the cluster was: the network would declare it.
        let elsewhere =
            "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: settings, namespace: new}\n";
        assert_eq!(builds_when_judging(&mut cluster, &models, elsewhere), 1);
    }

    /// How many [`Tracked`] models are alive.
    static TRACKED_ALIVE: AtomicUsize = AtomicUsize::new(0);

    /// A model that counts itself alive.
    struct Tracked;

    impl Drop for Tracked {
        fn drop(&mut self) {
            TRACKED_ALIVE.fetch_sub(1, Ordering::SeqCst);
        }
    }

    fn tracked(_: &Inventory) -> Tracked {
        TRACKED_ALIVE.fetch_add(1, Ordering::SeqCst);
        Tracked
    }

    /// A rule that reads the [`Tracked`] model, or (`reads_model: false`) one object alone,
    /// reporting on every object whether the model was alive when it ran.
    struct Reporter {
        meta: &'static std::sync::LazyLock<RuleMeta>,
        reads_model: bool,
    }

    impl Rule for Reporter {
        fn meta(&self) -> &'static RuleMeta {
            self.meta
        }
        fn target(&self) -> Target {
            Target::All
        }
        fn check(&self, cx: &mut Context<'_>) {
            if self.reads_model {
                cx.derived(tracked);
            }
            let alive = TRACKED_ALIVE.load(Ordering::SeqCst);
            cx.report(
                palisade_core::JsonPointer::root(),
                format!("model alive: {alive}"),
            );
        }
        fn models(&self, models: &mut Models) {
            if self.reads_model {
                models.add(tracked);
            }
        }
    }

    fn meta(id: &'static str) -> RuleMeta {
        RuleMeta {
            id: id.into(),
            slug: id.to_lowercase().into(),
            title: "test".into(),
            severity: palisade_core::Severity::Low,
            controls: std::borrow::Cow::Owned(vec![]),
            remediation: "".into(),
            docs: "".into(),
        }
    }

    /// A scan runs the rules that read models first, frees the models, then runs the rules
    /// that read one object (whose findings are most of a large scan's), and the findings
    /// come out in the one order: object by object, each object's in registry order.
    #[test]
    fn models_are_freed_before_the_per_object_rules_run() {
        static FIRST: std::sync::LazyLock<RuleMeta> = std::sync::LazyLock::new(|| meta("T001"));
        static SECOND: std::sync::LazyLock<RuleMeta> = std::sync::LazyLock::new(|| meta("T002"));
        static THIRD: std::sync::LazyLock<RuleMeta> = std::sync::LazyLock::new(|| meta("T003"));
        let rules: [&dyn Rule; 3] = [
            &Reporter {
                meta: &FIRST,
                reads_model: false,
            },
            &Reporter {
                meta: &SECOND,
                reads_model: true,
            },
            &Reporter {
                meta: &THIRD,
                reads_model: false,
            },
        ];
        // More objects than one chunk, so that several workers interleave.
        let text: String = (0..super::CHUNK * 3 + 7)
            .map(|i| format!("apiVersion: v1\nkind: ConfigMap\nmetadata: {{name: c{i}}}\n---\n"))
            .collect();
        let inventory = load_text("c.yaml", &text, &Limits::default()).inventory;
        let out = super::evaluate(&inventory, &rules);
        assert_eq!(
            TRACKED_ALIVE.load(Ordering::SeqCst),
            0,
            "the model is freed"
        );
        let expected: Vec<(usize, String, String)> = (0..inventory.objects.len())
            .flat_map(|object| {
                [("T001", 0), ("T002", 1), ("T003", 0)].map(|(rule, alive)| {
                    (object, rule.to_string(), format!("model alive: {alive}"))
                })
            })
            .collect();
        let found: Vec<(usize, String, String)> = out
            .finding_objects
            .iter()
            .zip(&out.findings)
            .map(|(&object, f)| (object, f.rule_id().to_string(), f.message.to_string()))
            .collect();
        assert_eq!(found, expected);
        // Handed over as the passes left them (the first pass's findings first), each
        // finding's rank is its place in the one order.
        let ranked = super::evaluate_with_options(
            &inventory,
            &rules,
            &crate::settings::RuleSettings::default(),
            false,
            super::FindingsOrder::Ranked,
        );
        let mut by_rank: Vec<(u32, (usize, String, String))> = ranked
            .ranks
            .expect("ranks")
            .into_iter()
            .zip(ranked.finding_objects.iter().zip(&ranked.findings))
            .map(|(rank, (&object, f))| {
                let finding = (object, f.rule_id().to_string(), f.message.to_string());
                (rank, finding)
            })
            .collect();
        assert_ne!(
            by_rank.iter().map(|(_, f)| f.clone()).collect::<Vec<_>>(),
            expected,
            "left unmerged"
        );
        by_rank.sort_by_key(|(rank, _)| *rank);
        let ranked: Vec<(usize, String, String)> = by_rank.into_iter().map(|(_, f)| f).collect();
        assert_eq!(ranked, expected);
    }

    /// Passes merged back into one order: object first, then rule, whatever the passes.
    #[test]
    fn passes_interleave_by_object_then_rule() {
        // (object, rule) of each finding, as one pass with every rule would list them.
        let one_pass = [
            (0, 0),
            (0, 1),
            (0, 1),
            (0, 3),
            (2, 1),
            (2, 2),
            (5, 0),
            (5, 3),
        ];
        let key = |i: u32| {
            let (object, rule) = one_pass[i as usize];
            (object, u32::try_from(rule).unwrap())
        };
        let all = 0..u32::try_from(one_pass.len()).unwrap();
        for in_first in [[0, 3], [1, 2], [0, 1], [4, 4]] {
            let (first, second): (Vec<u32>, Vec<u32>) = all
                .clone()
                .partition(|&i| in_first.contains(&one_pass[i as usize].1));
            let merged = super::interleave(vec![first, second], key);
            assert_eq!(merged, all.clone().collect::<Vec<_>>(), "{in_first:?}");
        }
        assert!(super::interleave(Vec::new(), key).is_empty());
    }

    /// Items come back in the order pushed, across segment edges, and are counted.
    #[test]
    fn segments_keep_order_across_their_edges() {
        for count in [
            0,
            1,
            Segments::<u32>::SEGMENT,
            2 * Segments::<u32>::SEGMENT + 3,
        ] {
            let mut segments = Segments::default();
            for i in 0..count {
                segments.push(u32::try_from(i).unwrap());
            }
            assert_eq!(segments.len(), count);
            let back: Vec<u32> = segments.into_segments().flatten().collect();
            assert_eq!(back.len(), count);
            assert!(back.iter().enumerate().all(|(i, &v)| v as usize == i));
        }
    }
}
