//! A cluster prepared once and asked many times: the admission webhook judges each object of
//! an AdmissionReview against it, with exactly the rules, settings and suppressions that
//! `palisade scan` applies to the same object in the same cluster.

use std::sync::atomic::Ordering;
use std::sync::{Mutex, MutexGuard, TryLockError};

use palisade_core::Report;
use palisade_core::redact::{Redactor, Sensitive};
use palisade_inventory::Inventory;
use palisade_inventory::object::{Object, Source, SourceId};
use palisade_inventory::spans::{Pos, Spans};
use palisade_rules::rbac::AdminReach;
use palisade_rules::{Before, ClusterModels};
use serde_json::Value;

use crate::scan::{ScanOptions, active_rules, scan_scoped};

/// Why an object could not be judged.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ModelError {
    #[error("the object has no apiVersion or kind")]
    NotAnObject,
}

/// What [`ClusterModel::evaluate_request`] found.
#[derive(Debug)]
pub struct Evaluation {
    pub report: Report,
    /// Whether the cluster-wide models (network, escalation graph, RBAC workloads) would
    /// differ once the cluster holds the object: a Service, a policy, a binding, a standalone
    /// Pod, a workload's new account or labels. Pods of known controllers, ConfigMaps and
    /// updates that change no field the models read do not.
    pub changes_models: bool,
}

/// A long-lived cluster model: the objects of a cluster (a snapshot, a live read, manifests),
/// the scan options, and what redaction needs from the cluster, prepared once.
///
/// An evaluation places its object in an inventory, so each copy serves one evaluation at a
/// time; the model keeps one copy per core (`copies`), and concurrent evaluations take a
/// free one (memory grows with the copies; one copy judges one object at a time).
///
/// The objects kept since the cluster was read ([`ClusterModel::remember`]) are listed, and
/// each copy takes in those it lacks when it is next taken, so keeping one never waits for
/// the copies that are judging. Locks are taken in one order: `learned`, a copy, `kept`.
pub struct ClusterModel {
    inventories: Vec<Mutex<Inventory>>,
    /// How many of the objects kept each copy has taken in (changed under its lock and
    /// `kept`'s).
    taken_in: Vec<std::sync::atomic::AtomicUsize>,
    next: std::sync::atomic::AtomicUsize,
    options: ScanOptions,
    /// What the rules read of the cluster apart from the judged object, built when the
    /// cluster was read, and again from a copy once an object kept since changes them
    /// ([`ClusterModel::refresh_models`]). Read and replaced under `kept`'s lock: a copy
    /// that has taken in every object kept gets the models of no more objects than it
    /// holds.
    models: std::sync::RwLock<std::sync::Arc<ClusterModels>>,
    /// Whether the models are being prepared again ([`ClusterModel::refresh_in_background`]),
    /// and whether an object was kept meanwhile that needs another round.
    refreshing: Mutex<Refreshing>,
    /// The cluster's values that must never be printed, indexed once.
    redactor: Redactor,
    source: SourceId,
    /// The values of the objects kept since the cluster was read ([`ClusterModel::remember`]);
    /// a remembering holds it, so remembering is one at a time.
    learned: Mutex<Sensitive>,
    /// What of them is never printed: read by every evaluation, so apart from `learned`,
    /// which a remembering holds while it waits for a copy.
    learned_redactor: std::sync::RwLock<std::sync::Arc<Redactor>>,
    /// How many objects were kept (read per request for the metrics, without waiting).
    remembered: std::sync::atomic::AtomicUsize,
    /// The objects kept, in the order kept, with where each went in the inventory.
    kept: Mutex<Vec<(Object, usize)>>,
    /// What judging recent objects found the cluster to be with each (the workloads that
    /// reach cluster-admin, RBAC021): how many kept objects the copy held, the object as
    /// judged, and the reach. Once one of them is kept next, its reach is the cluster's with
    /// the objects kept (`reach_with_kept`): the before of the object judged after it.
    recent_reach: Mutex<std::collections::VecDeque<(usize, Value, std::sync::Arc<AdminReach>)>>,
    /// The workloads that reach cluster-admin in the cluster as read with the first `n`
    /// objects kept, when judging the last of them found it.
    reach_with_kept: Mutex<Option<(usize, std::sync::Arc<AdminReach>)>>,
    /// How many times the before of an object was found on a copy with it taken out.
    befores_built: std::sync::atomic::AtomicUsize,
    /// The labels of each Namespace read, for the mutators' namespace selectors.
    namespace_labels: std::collections::HashMap<String, serde_json::Map<String, Value>>,
}

/// The kinds [`ClusterModel::remember`] may keep (`(group, kind)`).
pub use palisade_rules::unseen::KEPT_KINDS as REMEMBERED_KINDS;

/// How many judged objects' reaches [`ClusterModel`] remembers until one of them is kept: an
/// update's old object is judged after the new one, and other requests come between.
const RECENT_REACHES: usize = 8;

/// Most objects a model keeps after the cluster was read (until it is read again): each costs
/// about 13 KiB per copy of the inventory (2,000 ReplicaSets in two copies took 53 MiB), and
/// the install's memory limit is 512 MiB. Past it, Pods are judged as standalone ones.
pub const MOST_REMEMBERED: usize = 500;

impl ClusterModel {
    /// Prepares `inventory` (a whole cluster when `options.whole_cluster`) for judging
    /// objects one at a time.
    pub fn prepare(inventory: Inventory, options: ScanOptions) -> ClusterModel {
        Self::prepare_copies(inventory, options, 1)
    }

    /// [`ClusterModel::prepare`] with `copies` inventories, so that many evaluations run at
    /// once (the number of cores is the useful most).
    pub fn prepare_copies(
        mut inventory: Inventory,
        options: ScanOptions,
        copies: usize,
    ) -> ClusterModel {
        inventory.complete = options.whole_cluster;
        inventory.alone = options.judged_alone;
        // Found once for every copy, so that each object kept tells whether it changes
        // another's controller ([`ClusterModel::remember`]).
        inventory.find_owners();
        let source = inventory.add_source(Source {
            path: "admission-request".into(),
            rendered_by: None,
        });
        let mut sensitive = Sensitive::new();
        for object in &inventory.objects {
            sensitive.add_object(&object.value);
        }
        let models = prepare_models(&inventory, &options);
        let namespace_labels = inventory.served_namespace_labels();
        let mut inventories: Vec<Mutex<Inventory>> = (1..copies.max(1))
            .map(|_| Mutex::new(inventory.clone()))
            .collect();
        inventories.push(Mutex::new(inventory));
        ClusterModel {
            taken_in: inventories.iter().map(|_| Default::default()).collect(),
            inventories,
            next: std::sync::atomic::AtomicUsize::new(0),
            options,
            models: std::sync::RwLock::new(std::sync::Arc::new(models)),
            refreshing: Mutex::default(),
            redactor: sensitive.redactor(),
            source,
            learned: Mutex::default(),
            learned_redactor: std::sync::RwLock::default(),
            remembered: std::sync::atomic::AtomicUsize::new(0),
            kept: Mutex::default(),
            recent_reach: Mutex::default(),
            reach_with_kept: Mutex::default(),
            befores_built: std::sync::atomic::AtomicUsize::new(0),
            namespace_labels,
        }
    }

    /// The mutators of the run's policies, applied at admission, when there are any.
    pub fn mutators(&self) -> Option<&std::sync::Arc<dyn palisade_rules::ObjectMutators>> {
        self.options.rules.mutators()
    }

    /// The labels of namespace `name` as the API server serves them, when the model read its
    /// Namespace or has kept it since ([`ClusterModel::remember`]).
    pub fn namespace_labels(
        &self,
        name: &str,
    ) -> Option<std::borrow::Cow<'_, serde_json::Map<String, Value>>> {
        match self.namespace_labels.get(name) {
            Some(labels) => Some(std::borrow::Cow::Borrowed(labels)),
            None => self
                .lock()
                .inventory
                .served_labels_of_namespace(name)
                .map(std::borrow::Cow::Owned),
        }
    }

    /// The run's options (its rules and policies, what the cluster would not list).
    pub fn options(&self) -> &ScanOptions {
        &self.options
    }

    /// The rules an evaluation runs: the run's, less those the options leave out (disabled,
    /// skipped, outside `--rules` or the framework).
    pub fn active_rules(&self) -> Vec<&dyn palisade_rules::Rule> {
        active_rules(&self.options)
    }

    /// Reads the cluster as the model holds it.
    pub fn with_inventory<R>(&self, read: impl FnOnce(&Inventory) -> R) -> R {
        read(&self.lock().inventory)
    }

    /// The objects of the model.
    pub fn len(&self) -> usize {
        self.lock().inventory.objects.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Judges `object` as if it were in the cluster (in place of the object of the same
    /// identity, for an update): the report's findings, coverage and objects are this
    /// object's only; cross-object rules see the whole cluster. Positions are the object's
    /// own (line 1), as it comes from a request, not a file.
    pub fn evaluate(&self, object: Value) -> Result<Report, ModelError> {
        self.evaluate_in(object, None)
    }

    /// [`ClusterModel::evaluate`] for an object that arrived in an AdmissionRequest
    /// (`request`, without its object): policies read the request (operation, user, old
    /// object) as they do at admission.
    pub fn evaluate_in(
        &self,
        object: Value,
        request: Option<std::sync::Arc<Value>>,
    ) -> Result<Report, ModelError> {
        self.evaluate_request(object, request).map(|e| e.report)
    }

    /// [`ClusterModel::evaluate_in`], saying also whether the object changes what the
    /// cluster-wide models read ([`Evaluation::changes_models`]).
    pub fn evaluate_request(
        &self,
        object: Value,
        request: Option<std::sync::Arc<Value>>,
    ) -> Result<Evaluation, ModelError> {
        let spans = Spans::uniform(&object, Pos { line: 1, column: 1 });
        let mut object =
            Object::from_value(object, spans, self.source, 0).ok_or(ModelError::NotAnObject)?;
        object.request = request;
        Ok(self.evaluate_object(object))
    }

    /// [`ClusterModel::evaluate_request`] for an object read from a file, with its own
    /// positions and source (a source of the inventory the model was prepared from, so that
    /// findings name its file and lines): `palisade scan --against` judges manifests so.
    pub fn evaluate_object(&self, object: Object) -> Evaluation {
        // The object's own values are indexed per request; the cluster's once.
        let mut sensitive = Sensitive::new();
        sensitive.add_object(&object.value);
        let (mut report, changes_models) = {
            let mut copy = self.lock();
            let models = copy.models.clone();
            let held = self.taken_in[copy.number].load(Ordering::Relaxed);
            let mut placed = Placed::new(&mut copy.inventory, object);
            let changes = !models.unchanged_by(placed.inventory, &[placed.index]);
            // What the cluster was without the object, for the rules that compare (RBAC021):
            // the kept models say it, unless an object kept since the read changed them; then
            // what judging the last object kept found the cluster to be with it, or else it is
            // found on the copy with the object taken out again.
            let judged = &placed.inventory.objects[placed.index];
            let compared = models.compares_before(judged);
            // What the cluster is with it, remembered for when it is kept, only when it may
            // change which workloads reach cluster-admin (one that cannot leaves the before of
            // the next object as it is: `keep_reach_after`); as it would be kept, a Secret
            // without its values.
            let remembered = (compared && changes).then(|| without_values(&judged.value));
            let mut before = None;
            if compared {
                before = models.before_as_read();
                if before.is_none() && changes {
                    before = self.reach_with_kept(held).map(Before::known);
                }
                if before.is_none() && changes {
                    self.befores_built.fetch_add(1, Ordering::Relaxed);
                    let object = placed.take_out();
                    before = Some(models.before(&copy.inventory));
                    placed = Placed::new(&mut copy.inventory, object);
                }
            }
            let report = scan_scoped(
                placed.inventory,
                &self.options,
                Some((&[placed.index], &models, before.as_ref())),
            );
            if let (Some(value), Some(after)) = (
                remembered,
                before.as_ref().and_then(Before::admin_reach_after),
            ) {
                self.note_reach_after(held, value, after);
            }
            (report, changes)
        };
        sensitive.redactor().redact_report(&mut report);
        self.redactor.redact_report(&mut report);
        self.learned_redactor().redact_report(&mut report);
        Evaluation {
            report,
            changes_models,
        }
    }

    /// Whether `object`, once the cluster holds it, may change what the cluster-wide models
    /// read ([`Evaluation::changes_models`]), found without judging it, for objects a webhook
    /// lets in unjudged (an exempt namespace or user). It never waits: when every copy is
    /// judging an object, the answer is yes (the caller reads the cluster again sooner).
    pub fn changes_models(&self, object: Value) -> bool {
        let spans = Spans::uniform(&object, Pos { line: 1, column: 1 });
        let Some(object) = Object::from_value(object, spans, self.source, 0) else {
            return false;
        };
        let Some(mut copy) = self.free_copy() else {
            return true;
        };
        let models = copy.models.clone();
        let placed = Placed::new(&mut copy.inventory, object);
        !models.unchanged_by(placed.inventory, &[placed.index])
    }

    /// Whether deleting `object` from the cluster may change what the cluster-wide models read:
    /// whether they read an object like it at all. It is asked as for a new object of its
    /// content (its name made one no object can have, its uid dropped), since the object in
    /// place of itself changes nothing. Never waits, as [`ClusterModel::changes_models`].
    pub fn removal_changes_models(&self, mut object: Value) -> bool {
        if let Some(metadata) = object.get_mut("metadata").and_then(Value::as_object_mut) {
            let name = metadata.get("name").and_then(Value::as_str).unwrap_or("");
            // A `/` is in no object's name.
            let apart = format!("{name}/deleted");
            metadata.insert("name".into(), Value::String(apart));
            metadata.remove("uid");
        }
        self.changes_models(object)
    }

    /// Keeps `object`, which the cluster now holds (a webhook let it in), so that objects
    /// judged later see it, until the cluster is read again: a chart's objects are let in one
    /// by one (`helm install` makes the ServiceAccount, the roles and bindings and the
    /// Service before the Deployment), and each is judged with those let in before it, as a
    /// scan of the cluster holding them judges it. A Pod is not kept (nothing is made after a
    /// Pod that needs it, and a workflow engine makes them without end), nor a ReplicaSet or
    /// Job whose controller the cluster does not hold
    /// ([`palisade_rules::unseen::may_be_kept`]), nor an object that would change another
    /// object's controller, nor an object the model holds already: a creation of a name the
    /// cluster has fails (`AlreadyExists`) after the webhooks let it in, and the version
    /// the model holds may be newer. A Secret is kept without its values (what it is named
    /// is what the rules ask of it); its values are still never printed.
    ///
    /// The models a kept object changes are no longer lent to evaluations (each builds them
    /// with it, [`palisade_rules::ClusterModels::take_in`]) until they are prepared again
    /// ([`ClusterModel::refresh_models`]). Returns whether it was kept; at most
    /// [`MOST_REMEMBERED`] are.
    pub fn remember(&self, object: Value) -> bool {
        self.keep(object, false)
    }

    /// [`ClusterModel::remember`] for an update let in: kept in place of the version the
    /// model holds when it changes what the cluster-wide models read (a binding's subjects,
    /// a Service's type, a workload's account; not a new image or a scale), or as a new
    /// object when the model lacks it.
    pub fn remember_update(&self, object: Value) -> bool {
        self.keep(object, true)
    }

    fn keep(&self, object: Value, replacing: bool) -> bool {
        // One at a time, so that the objects kept are listed in the order each was decided.
        let mut learned = lock(&self.learned);
        if self.remembered() >= MOST_REMEMBERED {
            return false;
        }
        let stored = without_values(&object);
        let spans = Spans::uniform(&stored, Pos { line: 1, column: 1 });
        let Some(placed) = Object::from_value(stored, spans, self.source, 0) else {
            return false;
        };
        // Any copy: it takes in what was kept before, decides, and keeps the object; the
        // others take it in when they are next taken.
        let mut copy = self.lock();
        let reads_owners = copy.models.reads_owners();
        let inventory = &mut copy.inventory;
        let (index, previous) = inventory.insert(placed.clone());
        // An update is kept when it changes what the models read.
        let keep = (previous.is_none() || replacing && !inventory.placed_alike(index))
            && (!reads_owners || inventory.placed_keeps_owners(index))
            && palisade_rules::unseen::may_be_kept(inventory, index);
        if !keep {
            inventory.restore(index, previous);
            return false;
        }
        if previous.is_some() {
            inventory.keep_replacing(index, previous);
        } else {
            inventory.keep_placed(index, previous);
        }
        let outdated = {
            let mut kept = lock(&self.kept);
            // The models now, under the lock they are replaced under.
            let models = self.models();
            self.keep_reach_after(kept.len(), &placed.value, || {
                models.changes_admin_reach(&copy.inventory, index)
            });
            kept.push((placed.clone(), index));
            self.taken_in[copy.number].store(kept.len(), Ordering::Relaxed);
            models.take_in(&copy.inventory, index)
        };
        drop(copy);
        // The models it changes are built by each evaluation until they are prepared again;
        // so are the cluster's other models (the inventory a Gatekeeper policy reads), unless
        // it is a rollout's ReplicaSet or Job, which those do not read.
        let rollout = REMEMBERED_KINDS.contains(&(placed.id.group(), placed.id.kind.as_str()));
        if outdated || !rollout {
            lock(&self.refreshing).wanted = true;
        }
        self.remembered.fetch_add(1, Ordering::Relaxed);
        learned.add_object(&object);
        let redactor = std::sync::Arc::new(learned.clone().redactor());
        *self
            .learned_redactor
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner) = redactor;
        true
    }

    /// Prepares the models again from the cluster as a copy holds it now (with the objects
    /// kept since it was read), so that evaluations are lent them again rather than build
    /// those a kept object changed ([`ClusterModel::remember`]). Takes as long as preparing
    /// the cluster did, on the calling thread, while evaluations go on with the models they
    /// have; the new ones replace them at once, with any object kept meanwhile taken in.
    pub fn refresh_models(&self) {
        let (inventory, kept_before) = {
            let copy = self.lock();
            (
                copy.inventory.clone(),
                self.taken_in[copy.number].load(Ordering::Relaxed),
            )
        };
        let models = prepare_models(&inventory, &self.options);
        drop(inventory);
        // No object is kept meanwhile; a copy that holds every one kept takes them in.
        let _learned = lock(&self.learned);
        let copy = self.lock();
        let kept = lock(&self.kept);
        for (_, index) in &kept[kept_before..] {
            models.take_in(&copy.inventory, *index);
        }
        *self
            .models
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner) = std::sync::Arc::new(models);
    }

    /// Prepares the models again on a thread of its own when an object kept since they were
    /// prepared asks for it ([`ClusterModel::refresh_models`]), unless that thread runs
    /// already (it prepares them once more for objects kept meanwhile). A model that nothing
    /// but that thread holds any more (the cluster was read again) is not prepared.
    pub fn refresh_in_background(self: &std::sync::Arc<Self>) {
        {
            let mut refreshing = lock(&self.refreshing);
            if !refreshing.wanted || refreshing.running {
                return;
            }
            refreshing.running = true;
        }
        let model = std::sync::Arc::clone(self);
        let spawned = std::thread::Builder::new()
            .name("palisade-models".into())
            .spawn(move || {
                loop {
                    {
                        let mut refreshing = lock(&model.refreshing);
                        if !refreshing.wanted || std::sync::Arc::strong_count(&model) == 1 {
                            refreshing.running = false;
                            return;
                        }
                        refreshing.wanted = false;
                    }
                    model.refresh_models();
                }
            });
        if spawned.is_err() {
            lock(&self.refreshing).running = false;
        }
    }

    /// Whether the models are to be prepared again, or are being prepared
    /// ([`ClusterModel::refresh_in_background`]).
    pub fn refreshing(&self) -> bool {
        let refreshing = lock(&self.refreshing);
        refreshing.wanted || refreshing.running
    }

    /// The models as they are now (a copy takes them with [`ClusterModel::take_in_kept`]).
    fn models(&self) -> std::sync::Arc<ClusterModels> {
        self.models
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clone()
    }

    /// What the cluster was after the object judged with `held` objects kept in its copy
    /// ([`ClusterModel::evaluate_request`]): the last few are remembered, for
    /// [`ClusterModel::keep_reach_after`].
    fn note_reach_after(&self, held: usize, object: Value, reach: std::sync::Arc<AdminReach>) {
        let mut recent = lock(&self.recent_reach);
        if recent.len() == RECENT_REACHES {
            recent.pop_front();
        }
        recent.push_back((held, object, reach));
    }

    /// `object` (as kept: [`without_values`]) is kept after `held` others: if judging it
    /// with those found what the cluster is with it, that is the cluster's now; if it cannot
    /// change which workloads reach cluster-admin (`changes_reach` says no: a ConfigMap, a
    /// ReplicaSet of a known Deployment), the cluster's before it still is.
    fn keep_reach_after(&self, held: usize, object: &Value, changes_reach: impl FnOnce() -> bool) {
        let found = lock(&self.recent_reach)
            .iter()
            .rev()
            .find(|(h, judged, _)| *h == held && judged == object)
            .map(|(_, _, reach)| std::sync::Arc::clone(reach));
        let mut with_kept = lock(&self.reach_with_kept);
        match found {
            Some(reach) => *with_kept = Some((held + 1, reach)),
            None if !changes_reach() => {
                if let Some((n, _)) = with_kept.as_mut().filter(|(n, _)| *n == held) {
                    *n = held + 1;
                }
            }
            None => {}
        }
    }

    /// The workloads that reach cluster-admin in the cluster with the first `held` objects
    /// kept, when known.
    fn reach_with_kept(&self, held: usize) -> Option<std::sync::Arc<AdminReach>> {
        lock(&self.reach_with_kept)
            .as_ref()
            .filter(|(n, _)| *n == held)
            .map(|(_, reach)| std::sync::Arc::clone(reach))
    }

    /// How many objects [`ClusterModel::remember`] kept.
    pub fn remembered(&self) -> usize {
        self.remembered.load(Ordering::Relaxed)
    }

    fn learned_redactor(&self) -> std::sync::Arc<Redactor> {
        self.learned_redactor
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clone()
    }

    /// A free copy of the inventory, else the next one in turn (waiting for it), with every
    /// object kept taken in.
    fn lock(&self) -> Taken<'_> {
        if let Some(free) = self.free_copy() {
            return free;
        }
        let number = self.next.fetch_add(1, Ordering::Relaxed) % self.inventories.len();
        let inventory = lock(&self.inventories[number]);
        self.take_in_kept(number, inventory)
    }

    /// A copy no evaluation holds now, if any, with every object kept taken in. `Placed`
    /// restores the cluster even when judging panics, so a poisoned lock still guards a
    /// consistent inventory.
    fn free_copy(&self) -> Option<Taken<'_>> {
        self.inventories
            .iter()
            .enumerate()
            .find_map(|(number, copy)| match copy.try_lock() {
                Ok(guard) => Some((number, guard)),
                Err(TryLockError::Poisoned(poisoned)) => Some((number, poisoned.into_inner())),
                Err(TryLockError::WouldBlock) => None,
            })
            .map(|(number, inventory)| self.take_in_kept(number, inventory))
    }

    /// Copy `number`, taking in the objects kept since it last was taken, with the models as
    /// they are now: read under the same lock as the list, they are the models of no more
    /// objects than the copy holds, and those kept after them are not lent.
    fn take_in_kept<'m>(
        &'m self,
        number: usize,
        mut inventory: MutexGuard<'m, Inventory>,
    ) -> Taken<'m> {
        let kept = lock(&self.kept);
        let taken_in = &self.taken_in[number];
        for (object, index) in &kept[taken_in.load(Ordering::Relaxed)..] {
            let (placed, previous) = inventory.insert(object.clone());
            debug_assert_eq!(placed, *index);
            if previous.is_some() {
                inventory.keep_replacing(placed, previous);
            } else {
                inventory.keep_placed(placed, previous);
            }
        }
        taken_in.store(kept.len(), Ordering::Relaxed);
        Taken {
            inventory,
            number,
            models: self.models(),
        }
    }
}

/// A copy of the inventory taken for one use, with every object kept in it, and the models
/// that go with it.
struct Taken<'m> {
    inventory: MutexGuard<'m, Inventory>,
    number: usize,
    models: std::sync::Arc<ClusterModels>,
}

/// The cluster-wide models the run's rules read of `inventory`.
fn prepare_models(inventory: &Inventory, options: &ScanOptions) -> ClusterModels {
    ClusterModels::prepare_with(
        inventory,
        &active_rules(options),
        &crate::scan::run_settings(options),
    )
}

/// Whether the models are to be prepared again, and whether a thread prepares them.
#[derive(Default)]
struct Refreshing {
    wanted: bool,
    running: bool,
}

/// Takes `mutex`, whether or not a thread panicked holding it: what it guards is whole at
/// every step.
fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// What a cluster model keeps of `object`: a Secret as a cluster read keeps one
/// (`palisade_snapshot::format`: its values `""`, the keys staying, and its last applied
/// configuration's values `[REDACTED]`), anything else whole. A Helm release Secret
/// holds the whole release (up to a megabyte); what rules ask of a Secret kept is its name.
pub fn without_values(object: &Value) -> Value {
    let mut stored = object.clone();
    if stored.get("kind").and_then(Value::as_str) == Some("Secret")
        && stored.get("apiVersion").and_then(Value::as_str) == Some("v1")
    {
        palisade_snapshot::format::strip_noise(&mut stored);
        palisade_snapshot::format::redact_secret(&mut stored);
    }
    stored
}

/// An object put in the inventory for one evaluation; taken out again when dropped.
struct Placed<'i> {
    inventory: &'i mut Inventory,
    index: usize,
    previous: Option<Option<Object>>,
}

impl<'i> Placed<'i> {
    fn new(inventory: &'i mut Inventory, object: Object) -> Self {
        let (index, previous) = inventory.insert(object);
        Placed {
            inventory,
            index,
            previous: Some(previous),
        }
    }
}

impl Placed<'_> {
    /// Takes the object out of the inventory again (as dropping does), and gives it back.
    fn take_out(self) -> Object {
        self.inventory.objects[self.index].clone()
    }
}

impl Drop for Placed<'_> {
    fn drop(&mut self) {
        if let Some(previous) = self.previous.take() {
            self.inventory.restore(self.index, previous);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use palisade_inventory::{Limits, load_text};
    use serde_json::json;
    use std::time::{Duration, Instant};

    const DEPLOYMENT: &str = "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web, namespace: shop, uid: d-1}\nspec: {template: {spec: {containers: [{name: c, image: 'a:1'}]}}}\n";

    fn replica_set(name: &str) -> Value {
        json!({"apiVersion": "apps/v1", "kind": "ReplicaSet",
            "metadata": {"name": name, "namespace": "shop", "uid": name,
                "ownerReferences": [{"apiVersion": "apps/v1", "kind": "Deployment", "name": "web", "uid": "d-1", "controller": true}]},
            "spec": {"template": {"spec": {"containers": [{"name": "c", "image": "a:2"}]}}}})
    }

    /// Remembering does not wait for a copy that is judging an object: it keeps the object in
    /// a free one, and the busy copy takes it in when it is next taken (the copies hold the
    /// same objects in the same order).
    #[test]
    fn remembering_does_not_wait_for_a_busy_copy() {
        let inventory = load_text("c.yaml", DEPLOYMENT, &Limits::default()).inventory;
        let model = ClusterModel::prepare_copies(inventory, ScanOptions::default(), 2);
        let busy = model.inventories[1].lock().unwrap();
        assert!(model.remember(replica_set("rs-2")));
        assert!(model.remember(replica_set("rs-3")));
        assert_eq!(model.remembered(), 2);
        assert_eq!(busy.objects.len(), 1, "the busy copy is not touched");
        drop(busy);
        let copy = model.take_in_kept(1, model.inventories[1].lock().unwrap());
        let names = |inventory: &Inventory| -> Vec<Option<String>> {
            inventory
                .objects
                .iter()
                .map(|o| o.id.name.clone())
                .collect()
        };
        let other = model.inventories[0].lock().unwrap();
        assert_eq!(names(&copy.inventory), names(&other));
        assert_eq!(copy.inventory.objects.len(), 3);
        assert_eq!(copy.inventory.controller_of(2), Some(0));
    }

    const EXPOSED: &str = "\
apiVersion: v1
kind: Namespace
metadata: {name: shop}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata: {name: everything}
rules: [{apiGroups: ['*'], resources: ['*'], verbs: ['*']}]
---
apiVersion: v1
kind: ServiceAccount
metadata: {name: web, namespace: shop}
---
apiVersion: v1
kind: Service
metadata: {name: web, namespace: shop}
spec: {type: LoadBalancer, selector: {app: web}, ports: [{port: 80, targetPort: 8080}]}
";

    fn exposed_deployment() -> Value {
        json!({"apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": {"name": "web", "namespace": "shop"},
            "spec": {"selector": {"matchLabels": {"app": "web"}},
                "template": {"metadata": {"labels": {"app": "web"}},
                    "spec": {"serviceAccountName": "web",
                        "containers": [{"name": "web", "image": "a:1", "ports": [{"containerPort": 8080}]}]}}}})
    }

    fn binding_to_everything() -> Value {
        json!({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRoleBinding",
            "metadata": {"name": "web-everything"},
            "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "everything"},
            "subjects": [{"kind": "ServiceAccount", "name": "web", "namespace": "shop"}]})
    }

    fn rules_of(report: &Report) -> std::collections::BTreeSet<String> {
        report
            .findings
            .iter()
            .map(|f| f.rule_id().to_string())
            .collect()
    }

    /// A binding kept (a chart's, let in before its Deployment) changes the RBAC models: each
    /// evaluation builds them with it rather than be lent the ones read without it, so the
    /// Deployment's escalation path through it (RBAC017) is found, as a scan of the cluster
    /// holding it finds it. Once the models are prepared again they hold it and are lent.
    #[test]
    fn a_kept_binding_is_in_the_models_of_the_evaluations_after_it() {
        let inventory = load_text("c.yaml", EXPOSED, &Limits::default()).inventory;
        let model = ClusterModel::prepare_copies(inventory, ScanOptions::default(), 2);
        let before = model.evaluate(exposed_deployment()).unwrap();
        assert!(
            !rules_of(&before).contains("RBAC017"),
            "{:?}",
            rules_of(&before)
        );
        assert!(!model.refreshing());
        assert!(model.remember(binding_to_everything()));
        assert!(model.models().outdated() && model.refreshing());
        let kept = model.evaluate(exposed_deployment()).unwrap();
        let held = format!(
            "{EXPOSED}---\n{}\n---\n{}\n",
            binding_to_everything(),
            exposed_deployment()
        );
        let scanned = crate::scan_inventory(
            &load_text("c.yaml", &held, &Limits::default()).inventory,
            &ScanOptions::default(),
        );
        let on_deployment: std::collections::BTreeSet<String> = scanned
            .findings
            .iter()
            .filter(|f| f.object().is_some_and(|o| o.kind == "Deployment"))
            .map(|f| f.rule_id().to_string())
            .collect();
        assert!(rules_of(&kept).contains("RBAC017"), "{:?}", rules_of(&kept));
        assert_eq!(rules_of(&kept), on_deployment);
        model.refresh_models();
        assert!(!model.models().outdated());
        let refreshed = model.evaluate(exposed_deployment()).unwrap();
        assert_eq!(rules_of(&refreshed), rules_of(&kept));
        // Kept objects that change no model leave them lent: a ConfigMap, a new Namespace.
        for object in [
            json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c", "namespace": "shop"}}),
            json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "new"}}),
        ] {
            assert!(model.remember(object));
            assert!(!model.models().outdated());
        }
        // A Pod is never kept.
        let pod = json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p", "namespace": "shop"},
            "spec": {"containers": [{"name": "c", "image": "a:1"}]}});
        assert!(!model.remember(pod));
    }

    /// A creation of a name the model holds is not kept (it fails with `AlreadyExists` after
    /// the webhooks, and a read may hold a newer version than a creation offered to it); an
    /// update is, when it changes what the models read.
    #[test]
    fn only_an_update_replaces_what_the_model_holds() {
        let inventory = load_text("c.yaml", EXPOSED, &Limits::default()).inventory;
        let model = ClusterModel::prepare(inventory, ScanOptions::default());
        let service = |kind: &str| {
            json!({"apiVersion": "v1", "kind": "Service", "metadata": {"name": "web", "namespace": "shop"},
                "spec": {"type": kind, "selector": {"app": "web"}, "ports": [{"port": 80, "targetPort": 8080}]}})
        };
        assert!(!model.remember(service("ClusterIP")));
        assert!(!model.remember_update(service("LoadBalancer")), "unchanged");
        assert!(model.remember_update(service("ClusterIP")));
        assert_eq!(model.remembered(), 1);
        model.with_inventory(|inventory| {
            let held = inventory
                .objects
                .iter()
                .find(|o| o.id.kind == "Service")
                .unwrap();
            assert_eq!(held.value["spec"]["type"], "ClusterIP");
        });
    }

    /// The models are prepared again on a thread of their own, once for every object kept
    /// meanwhile, and the thread ends.
    #[test]
    fn the_models_are_prepared_again_in_the_background() {
        let inventory = load_text("c.yaml", EXPOSED, &Limits::default()).inventory;
        let model = std::sync::Arc::new(ClusterModel::prepare(inventory, ScanOptions::default()));
        model.refresh_in_background();
        assert!(!model.refreshing(), "nothing was kept");
        assert!(model.remember(binding_to_everything()));
        model.refresh_in_background();
        let start = Instant::now();
        while model.refreshing() && start.elapsed() < Duration::from_secs(60) {
            std::thread::sleep(Duration::from_millis(5));
        }
        assert!(!model.refreshing() && !model.models().outdated());
        let report = model.evaluate(exposed_deployment()).unwrap();
        assert!(rules_of(&report).contains("RBAC017"));
    }

    /// Objects kept from two threads while two others judge and the models are prepared
    /// again in the background: nothing waits for ever, every object is kept once, and the
    /// verdict at the end is the one a model read with all of them in it gives.
    #[test]
    fn keeping_judging_and_preparing_again_at_once_agree_with_a_fresh_read() {
        let inventory = load_text("c.yaml", EXPOSED, &Limits::default()).inventory;
        let model = std::sync::Arc::new(ClusterModel::prepare_copies(
            inventory,
            ScanOptions::default(),
            2,
        ));
        let kept = |thread: usize, n: usize| {
            json!({"apiVersion": "v1", "kind": "ConfigMap",
                "metadata": {"name": format!("c-{thread}-{n}"), "namespace": "shop"}})
        };
        std::thread::scope(|scope| {
            for thread in 0..2 {
                let model = &model;
                scope.spawn(move || {
                    for n in 0..20 {
                        let object = match (thread, n) {
                            (0, 10) => binding_to_everything(),
                            _ => kept(thread, n),
                        };
                        // A busy copy may make it give up; it is offered again.
                        while !model.remember(object.clone()) {}
                        model.refresh_in_background();
                    }
                });
            }
            for _ in 0..2 {
                let model = &model;
                scope.spawn(move || {
                    for _ in 0..20 {
                        model.evaluate(exposed_deployment()).unwrap();
                    }
                });
            }
        });
        assert_eq!(model.remembered(), 40);
        let start = Instant::now();
        while model.refreshing() && start.elapsed() < Duration::from_secs(60) {
            std::thread::sleep(Duration::from_millis(5));
        }
        assert!(!model.refreshing());
        let everything = model.with_inventory(|inventory| {
            inventory
                .objects
                .iter()
                .map(|o| o.value.to_string())
                .collect::<Vec<_>>()
                .join("\n---\n")
        });
        let fresh = ClusterModel::prepare(
            load_text("c.yaml", &everything, &Limits::default()).inventory,
            ScanOptions::default(),
        );
        let report = model.evaluate(exposed_deployment()).unwrap();
        assert!(rules_of(&report).contains("RBAC017"));
        assert_eq!(
            rules_of(&report),
            rules_of(&fresh.evaluate(exposed_deployment()).unwrap())
        );
    }

    /// A Secret is kept by name, without its values, which are still never printed.
    #[test]
    fn a_secret_is_kept_without_its_values() {
        let inventory = load_text("c.yaml", EXPOSED, &Limits::default()).inventory;
        let model = ClusterModel::prepare(inventory, ScanOptions::default());
        let canary = "s3cr3t-canary-4f1d9a";
        let applied =
            json!({"apiVersion": "v1", "kind": "Secret", "stringData": {"token": canary}});
        let secret = json!({"apiVersion": "v1", "kind": "Secret",
            "metadata": {"name": "db", "namespace": "shop", "annotations": {
                "kubectl.kubernetes.io/last-applied-configuration": applied.to_string()}},
            "data": {"password": "czNjcjN0LWNhbmFyeS00ZjFkOWE="}, "stringData": {"token": canary}});
        assert!(model.remember(secret));
        model.with_inventory(|inventory| {
            let kept = inventory.objects.last().unwrap();
            assert_eq!(kept.id.name.as_deref(), Some("db"));
            assert_eq!(kept.value["data"], json!({"password": ""}));
            assert_eq!(kept.value["stringData"], json!({"token": ""}));
            assert!(!kept.value.to_string().contains(canary), "{}", kept.value);
        });
        let mut leaking = exposed_deployment();
        leaking["spec"]["template"]["spec"]["containers"][0]["env"] =
            json!([{"name": "TOKEN", "value": canary}]);
        let report = model.evaluate(leaking).unwrap();
        let printed = serde_json::to_string(&report.findings).unwrap();
        assert!(!printed.contains(canary), "{printed}");
    }

    /// Whether an object let in unjudged changes the models is answered without waiting: a
    /// Service does, a ConfigMap does not, and with every copy busy the answer is yes.
    #[test]
    fn what_changes_the_models_is_answered_without_waiting() {
        let inventory = load_text("c.yaml", DEPLOYMENT, &Limits::default()).inventory;
        let model = ClusterModel::prepare_copies(inventory, ScanOptions::default(), 1);
        let service = json!({"apiVersion": "v1", "kind": "Service",
            "metadata": {"name": "web", "namespace": "shop"},
            "spec": {"selector": {"app": "web"}, "ports": [{"port": 80}]}});
        let config_map = json!({"apiVersion": "v1", "kind": "ConfigMap",
            "metadata": {"name": "settings", "namespace": "shop"}, "data": {"a": "b"}});
        assert!(model.changes_models(service));
        assert!(!model.changes_models(config_map.clone()));
        let busy = model.inventories[0].lock().unwrap();
        assert!(model.changes_models(config_map));
        drop(busy);
        assert_eq!(model.inventories[0].lock().unwrap().objects.len(), 1);
    }

    /// Two workloads, one exposed, and an account of `ops` bound to cluster-admin: whoever
    /// may create Deployments in `ops` reaches cluster-admin.
    const TWO_WORKLOADS: &str = "\
apiVersion: apps/v1
kind: Deployment
metadata: {name: web, namespace: shop}
spec:
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec: {serviceAccountName: web, containers: [{name: web, image: 'a:1'}]}
---
apiVersion: v1
kind: Service
metadata: {name: web, namespace: shop}
spec: {type: LoadBalancer, selector: {app: web}, ports: [{port: 80}]}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: api, namespace: shop}
spec:
  selector: {matchLabels: {app: api}}
  template:
    metadata: {labels: {app: api}}
    spec: {serviceAccountName: api, containers: [{name: api, image: 'a:1'}]}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata: {name: deployer, namespace: ops}
rules: [{apiGroups: [apps], resources: [deployments], verbs: [create]}]
---
apiVersion: v1
kind: ServiceAccount
metadata: {name: backup, namespace: ops}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata: {name: backup-admin}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: cluster-admin}
subjects: [{kind: ServiceAccount, name: backup, namespace: ops}]
";

    fn deployer_binding(account: &str) -> Value {
        json!({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "RoleBinding",
            "metadata": {"name": format!("{account}-deploys"), "namespace": "ops"},
            "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": "deployer"},
            "subjects": [{"kind": "ServiceAccount", "name": account, "namespace": "shop"}]})
    }

    /// The message of RBAC021's finding, if any.
    fn opened(report: &Report) -> Option<String> {
        report
            .findings
            .iter()
            .find(|f| f.rule_id() == "RBAC021")
            .map(|f| f.message.to_string())
    }

    /// A change is compared with the cluster as it holds the objects kept before it: once
    /// web's binding is let in and kept (and the kept models no longer hold), api's binding
    /// opens a chain for api only; web's came with the binding before. Compared with the
    /// cluster as read, web would be named too (and first: it is exposed).
    #[test]
    fn a_change_is_compared_with_the_cluster_holding_what_was_kept_before_it() {
        let inventory = load_text("c.yaml", TWO_WORKLOADS, &Limits::default()).inventory;
        let model = ClusterModel::prepare_copies(inventory, ScanOptions::default(), 2);
        let web = opened(&model.evaluate(deployer_binding("web")).unwrap()).unwrap();
        assert!(
            web.starts_with("lets Deployment shop/web (exposed to the internet"),
            "{web}"
        );
        assert!(!web.contains("shop/api"), "{web}");
        // Another binding judged (and not let in) in between.
        assert!(opened(&model.evaluate(deployer_binding("other")).unwrap()).is_none());
        assert!(model.remember(deployer_binding("web")));
        assert!(model.models().before_as_read().is_none());
        // A ConfigMap kept after it changes no workload's reach.
        assert!(model.remember(
            json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c", "namespace": "shop"}})
        ));
        let api = opened(&model.evaluate(deployer_binding("api")).unwrap()).unwrap();
        // What judging web's binding found the cluster to be with it was the before: nothing
        // was built again.
        assert_eq!(model.befores_built.load(Ordering::Relaxed), 0);
        assert!(
            api.starts_with("lets Deployment shop/api escalate"),
            "{api}"
        );
        assert!(!api.contains("shop/web escalate"), "{api}");
        assert!(!api.contains("other workload"), "{api}");
        // Kept unjudged (an exempt namespace's), the cluster with it is found on a copy.
        assert!(model.remember(deployer_binding("other")));
        let again = opened(&model.evaluate(deployer_binding("api")).unwrap());
        assert_eq!(again.as_deref(), Some(api.as_str()));
        assert_eq!(model.befores_built.load(Ordering::Relaxed), 1);
        // The same once the models are prepared again with the binding in them.
        model.refresh_models();
        assert!(model.models().before_as_read().is_some());
        let refreshed = opened(&model.evaluate(deployer_binding("api")).unwrap());
        assert_eq!(refreshed.as_deref(), Some(api.as_str()));
        // Web's binding applied again opens nothing: the cluster holds it.
        assert_eq!(
            opened(&model.evaluate(deployer_binding("web")).unwrap()),
            None
        );
    }
}
