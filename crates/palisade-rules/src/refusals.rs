//! What the cluster's admission policies refuse of pods that would own their node, found by
//! asking them. In each namespace where a binding lets someone create pods and Pod Security
//! does not already hold to baseline (the escalation graph asks about those), a restricted
//! probe pod and one probe per way to own a node
//! ([`palisade_k8s::takeover_probes`]) are judged by the rules that refuse at admission
//! ([`Rule::refuses_at_admission`]: the policies the cluster enforces with deny; one a pod's
//! creator can escape, by a label or an exempted image, is named but stops nothing). A policy
//! refuses a way when it finds on that way's probe what it does not find on the restricted
//! pod: one that refuses every pod for something else (a missing label, an unlisted
//! registry) is one the pod's creator satisfies, not a brake. The escalation graph reads the
//! answer ([`palisade_rbac::graph::AdmissionRefusals`]): "create pods → the node" stays where
//! some way is let in. The policies are judged as a scan judges them (an object created), so
//! the graph of `palisade scan`, of `palisade rbac paths --policy` and of the webhook agree.

use std::collections::{HashMap, HashSet};
use std::sync::Mutex;

use palisade_inventory::{Inventory, Object, Pos, Source, Spans};
use palisade_k8s::takeover_probes::{TakeoverProbe, restricted_pod_spec, takeover_probes};
use palisade_rbac::graph::{AdmissionAsker, AdmissionRefusals, WayRefused};
use serde_json::{Value, json};

use crate::engine::evaluate_objects;
use crate::rule::{Refusal, Rule};
use crate::settings::RuleSettings;

/// Namespaces asked about in one evaluation, at most (in name order); pods created in the
/// others are taken to own their node unless Pod Security stops them.
pub const MAX_NAMESPACES: usize = 1000;

/// Namespaces whose probes are judged together.
const NAMESPACES_AT_ONCE: usize = 8;

/// The name of probe `n` (0 is the restricted pod).
fn probe_name(n: usize) -> String {
    format!("palisade-probe-{n}")
}

/// The cluster's admission policies ([`RuleSettings::admission_policies`]) as the escalation
/// graph asks them. An answer is kept for the namespace's name and labels (what the policies'
/// namespace matching reads), so a webhook that rebuilds the graph for a request asks again
/// only about a namespace it has not seen so.
pub struct PolicyAsker {
    settings: RuleSettings,
    answers: Mutex<HashMap<(String, String), Vec<WayRefused>>>,
}

impl PolicyAsker {
    /// The asker of the policies of `settings`; `None` when there are none.
    pub fn of(settings: &RuleSettings) -> Option<PolicyAsker> {
        (!settings.admission_policies.0.is_empty()).then(|| PolicyAsker {
            settings: settings.clone(),
            answers: Mutex::default(),
        })
    }
}

impl AdmissionAsker for PolicyAsker {
    fn ask(&self, inventory: &Inventory, namespaces: &[String]) -> AdmissionRefusals {
        let labels = inventory.served_namespace_labels();
        let key = |ns: &String| {
            let labels = labels.get(ns).map(|l| Value::Object(l.clone()).to_string());
            (ns.clone(), labels.unwrap_or_default())
        };
        let mut answers = self
            .answers
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let unknown: Vec<String> = namespaces
            .iter()
            .filter(|ns| !answers.contains_key(&key(ns)))
            .take(MAX_NAMESPACES)
            .cloned()
            .collect();
        for (namespace, ways) in ask(inventory, &labels, &self.settings, &unknown) {
            let key = key(&namespace);
            answers.insert(key, ways);
        }
        let mut out = AdmissionRefusals::default();
        for namespace in namespaces {
            if let Some(ways) = answers.get(&key(namespace)) {
                out.insert(namespace.clone(), ways.clone());
            }
        }
        out
    }
}

/// What the cluster's admission policies ([`RuleSettings::admission_policies`]) do in each of
/// `namespaces` of `inventory`. Namespaces that every policy treats alike (each refuses there
/// or not, escapably or not, and judges pods there or not, by its match alone:
/// [`Rule::judges_pods_in`], given the namespaces' `labels` as served) get one answer, asked
/// in the first of them.
fn ask(
    inventory: &Inventory,
    labels: &HashMap<String, serde_json::Map<String, Value>>,
    settings: &RuleSettings,
    namespaces: &[String],
) -> Vec<(String, Vec<WayRefused>)> {
    let policies = &settings.admission_policies.0;
    let mut classes: HashMap<String, Vec<usize>> = HashMap::new();
    let mut representatives: Vec<String> = Vec::new();
    for (n, namespace) in namespaces.iter().enumerate() {
        let mut key = String::new();
        for rule in policies {
            let judged = rule.judges_pods_in(namespace, labels.get(namespace));
            let Some(judged) = judged else {
                // Only the probes there can say: a class of its own.
                key = format!("\u{0}{namespace}");
                break;
            };
            key.push_str(&format!(
                "{:?}{judged};",
                rule.refuses_at_admission(namespace)
            ));
        }
        let class = classes.entry(key).or_default();
        if class.is_empty() {
            representatives.push(namespace.clone());
        }
        class.push(n);
    }
    let answered: HashMap<String, Vec<WayRefused>> =
        ask_each(inventory, settings, &representatives)
            .into_iter()
            .collect();
    let mut out: Vec<(String, Vec<WayRefused>)> = Vec::with_capacity(namespaces.len());
    for members in classes.values() {
        let ways = &answered[&namespaces[members[0]]];
        out.extend(
            members
                .iter()
                .map(|&n| (namespaces[n].clone(), ways.clone())),
        );
    }
    out
}

/// What the cluster's admission policies ([`RuleSettings::admission_policies`]) do in each of
/// `namespaces` of `inventory`, by judging the probes there in two rounds: the restricted pod
/// and the first way everywhere, then the other ways where the first is refused (where it is
/// let in, the answer is known: a pod may own its node there).
fn ask_each(
    inventory: &Inventory,
    settings: &RuleSettings,
    namespaces: &[String],
) -> Vec<(String, Vec<WayRefused>)> {
    let probes = takeover_probes();
    let refusing: Vec<&dyn Rule> = settings
        .admission_policies
        .0
        .iter()
        .map(|rule| rule.as_ref())
        .filter(|rule| {
            namespaces
                .iter()
                .any(|ns| rule.refuses_at_admission(ns) != Refusal::No)
        })
        .collect();
    let unasked: Vec<WayRefused> = probes
        .iter()
        .map(|probe| WayRefused {
            way: probe.way.clone(),
            asked: false,
            refused_by: None,
            escaped: None,
        })
        .collect();
    let mut answers: Vec<(String, Vec<WayRefused>)> = namespaces
        .iter()
        .map(|ns| (ns.clone(), unasked.clone()))
        .collect();
    if refusing.is_empty() {
        // No policy refuses anything here: every way is let in.
        for (_, ways) in &mut answers {
            for way in ways {
                way.asked = true;
            }
        }
        return answers;
    }
    let asking = Asking {
        inventory,
        settings,
        refusing: &refusing,
    };
    let everywhere: Vec<usize> = (0..answers.len()).collect();
    // In groups of namespaces, so that the probes judged at once stay few (memory).
    for group in everywhere.chunks(NAMESPACES_AT_ONCE) {
        asking.ways(&mut answers, group, &probes[..1], 0);
    }
    let refused_first: Vec<usize> = everywhere
        .into_iter()
        .filter(|&n| answers[n].1[0].refused_by.is_some())
        .collect();
    for group in refused_first.chunks(NAMESPACES_AT_ONCE) {
        asking.ways(&mut answers, group, &probes[1..], 1);
    }
    answers
}

/// The policies asked, about the objects of one inventory.
struct Asking<'a> {
    inventory: &'a Inventory,
    settings: &'a RuleSettings,
    /// The policies that refuse at admission in some namespace asked about.
    refusing: &'a [&'a dyn Rule],
}

impl Asking<'_> {
    /// Judges the restricted pod and `probes` (ways `from..` of
    /// [`palisade_k8s::takeover_probes`]) in the namespaces of `answers` at `which`, and
    /// records what the policies do with each.
    fn ways(
        &self,
        answers: &mut [(String, Vec<WayRefused>)],
        which: &[usize],
        probes: &[TakeoverProbe],
        from: usize,
    ) {
        if which.is_empty() || probes.is_empty() {
            return;
        }
        let specs: Vec<Value> = std::iter::once(restricted_pod_spec())
            .chain(probes.iter().map(|p| p.spec.clone()))
            .collect();
        let namespaces: Vec<String> = which.iter().map(|&n| answers[n].0.clone()).collect();
        let read: Vec<(String, String)> = self
            .refusing
            .iter()
            .flat_map(|rule| rule.reads_at_admission())
            .collect();
        let (asked, first) = with_probes(self.inventory, &read, &namespaces, &specs);
        let judged: Vec<usize> = (first..asked.objects.len()).collect();
        let found = judge(&asked, self.refusing, self.settings, &judged);

        let none = HashSet::new();
        for (i, &n) in which.iter().enumerate() {
            let of = |k: usize| found.get(&(first + i * specs.len() + k)).unwrap_or(&none);
            let restricted = of(0);
            // The policies enforced in this namespace, in the rule set's order, each with how
            // a pod's creator escapes it, if it can.
            let namespace = &answers[n].0;
            let here: Vec<(&str, Refusal)> = self
                .refusing
                .iter()
                .map(|rule| (&*rule.meta().id, rule.refuses_at_admission(namespace)))
                .filter(|(_, refusal)| *refusal != Refusal::No)
                .collect();
            for k in 0..probes.len() {
                let new: Vec<&(String, String)> = of(k + 1).difference(restricted).collect();
                let finds = |id: &str| new.iter().any(|(rule, _)| rule == id);
                let refused_by = here
                    .iter()
                    .find(|(id, refusal)| *refusal == Refusal::Yes && finds(id))
                    .map(|(id, _)| id.to_string());
                let escaped = here.iter().find_map(|(id, refusal)| match refusal {
                    Refusal::Escapable(how) if refused_by.is_none() && finds(id) => {
                        Some(format!("{id} refuses one, but {how}"))
                    }
                    _ => None,
                });
                let way = &mut answers[n].1[from + k];
                way.asked = true;
                way.refused_by = refused_by;
                way.escaped = escaped;
            }
        }
    }
}

/// What the policies read of `inventory` when they judge a pod (its Namespaces and the
/// objects of the kinds `read`; a Pod is no custom resource), with a probe pod of each of
/// `specs` in each of `namespaces` after it; and where the probes begin. Policies that read the
/// rest of the cluster (`data.inventory`) are ones a pod's creator may escape anyway.
fn with_probes(
    inventory: &Inventory,
    read: &[(String, String)],
    namespaces: &[String],
    specs: &[Value],
) -> (Inventory, usize) {
    let mut objects: Vec<Object> = [("", "Namespace")]
        .into_iter()
        .chain(read.iter().map(|(g, k)| (g.as_str(), k.as_str())))
        .flat_map(|(group, kind)| inventory.of_kind(group, kind))
        .cloned()
        .collect();
    let first = objects.len();
    let mut sources = inventory.sources.clone();
    sources.push(Source {
        path: "palisade: admission probe".into(),
        rendered_by: None,
    });
    let source = sources.len() - 1;
    for namespace in namespaces {
        for (n, spec) in specs.iter().enumerate() {
            let value = json!({
                "apiVersion": "v1",
                "kind": "Pod",
                "metadata": {"name": probe_name(n), "namespace": namespace},
                "spec": spec,
            });
            let spans = Spans::uniform(&value, Pos { line: 1, column: 1 });
            if let Some(object) = Object::from_value(value, spans, source, 0) {
                objects.push(object);
            }
        }
    }
    let mut asked = Inventory::new(sources, objects);
    asked.complete = inventory.complete;
    (asked, first)
}

/// Each probe's findings of `rules` as (rule id, message with the probe's name taken out),
/// the probes judged on every core.
fn judge(
    asked: &Inventory,
    rules: &[&dyn Rule],
    settings: &RuleSettings,
    judged: &[usize],
) -> HashMap<usize, HashSet<(String, String)>> {
    // A few probes are judged on one core: each evaluation reads the policies' cluster first.
    let cores = palisade_core::parallel::cores().max(1);
    let chunk = judged.len().div_ceil(cores).max(64);
    let outputs: Vec<crate::engine::EngineOutput> = std::thread::scope(|scope| {
        let workers: Vec<_> = judged
            .chunks(chunk)
            .map(|these| {
                scope.spawn(move || evaluate_objects(asked, rules, settings, these, (None, None)))
            })
            .collect();
        workers
            .into_iter()
            .map(|w| w.join().unwrap_or_else(|e| std::panic::resume_unwind(e)))
            .collect()
    });
    let mut found: HashMap<usize, HashSet<(String, String)>> = HashMap::new();
    for output in outputs {
        for (finding, &index) in output.findings.iter().zip(&output.finding_objects) {
            let name = asked.objects[index].id.name.as_deref().unwrap_or("");
            let message = finding.message.replace(name, "<pod>");
            found
                .entry(index)
                .or_default()
                .insert((finding.rule_id().to_string(), message));
        }
    }
    found
}
