//! A cluster prepared once and asked many times: the admission webhook judges each object of
//! an AdmissionReview against it, with exactly the rules, settings and suppressions that
//! `palisade scan` applies to the same object in the same cluster.

use std::sync::{Mutex, MutexGuard, TryLockError};
use std::time::{Duration, Instant};

use palisade_core::Report;
use palisade_core::redact::{Redactor, Sensitive};
use palisade_inventory::Inventory;
use palisade_inventory::object::{Object, Source, SourceId};
use palisade_inventory::spans::{Pos, Spans};
use palisade_rules::ClusterModels;
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
pub struct ClusterModel {
    inventories: Vec<Mutex<Inventory>>,
    next: std::sync::atomic::AtomicUsize,
    options: ScanOptions,
    /// What the rules read of the cluster apart from the judged object, built once.
    models: ClusterModels,
    /// The cluster's values that must never be printed, indexed once.
    redactor: Redactor,
    source: SourceId,
    /// The values of the objects kept since the cluster was read ([`ClusterModel::remember`]);
    /// a remembering holds it, so remembering is one at a time.
    learned: Mutex<Sensitive>,
    /// What of them is never printed: read by every evaluation, so apart from `learned`,
    /// which a remembering holds while it waits for the copies.
    learned_redactor: std::sync::RwLock<std::sync::Arc<Redactor>>,
    /// How many objects were kept (read per request for the metrics, without waiting).
    remembered: std::sync::atomic::AtomicUsize,
    /// The labels of each Namespace read, for the mutators' namespace selectors.
    namespace_labels: std::collections::HashMap<String, serde_json::Map<String, Value>>,
}

/// The kinds [`ClusterModel::remember`] may keep (`(group, kind)`).
pub use palisade_rules::unseen::KEPT_KINDS as REMEMBERED_KINDS;

/// Most objects a model keeps after the cluster was read (until it is read again): each costs
/// about 13 KiB per copy of the inventory (2,000 ReplicaSets in two copies took 53 MiB), and
/// the install's memory limit is 512 MiB. Past it, Pods are judged as standalone ones.
pub const MOST_REMEMBERED: usize = 500;

/// How long [`ClusterModel::remember`] waits for the copies of the inventory to be free.
const REMEMBER_WAIT: Duration = Duration::from_millis(100);

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
        let source = inventory.add_source(Source {
            path: "admission-request".into(),
            rendered_by: None,
        });
        let mut sensitive = Sensitive::new();
        for object in &inventory.objects {
            sensitive.add_object(&object.value);
        }
        let models = ClusterModels::prepare_with(
            &inventory,
            &active_rules(&options),
            &crate::scan::run_settings(&options),
        );
        let namespace_labels = inventory.served_namespace_labels();
        let mut inventories: Vec<Mutex<Inventory>> = (1..copies.max(1))
            .map(|_| Mutex::new(inventory.clone()))
            .collect();
        inventories.push(Mutex::new(inventory));
        ClusterModel {
            inventories,
            next: std::sync::atomic::AtomicUsize::new(0),
            options,
            models,
            redactor: sensitive.redactor(),
            source,
            learned: Mutex::default(),
            learned_redactor: std::sync::RwLock::default(),
            remembered: std::sync::atomic::AtomicUsize::new(0),
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
        read(&self.lock())
    }

    /// The objects of the model.
    pub fn len(&self) -> usize {
        self.lock().objects.len()
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
        // The object's own values are indexed per request; the cluster's once.
        let mut sensitive = Sensitive::new();
        sensitive.add_object(&object);
        let spans = Spans::uniform(&object, Pos { line: 1, column: 1 });
        let mut object =
            Object::from_value(object, spans, self.source, 0).ok_or(ModelError::NotAnObject)?;
        object.request = request;
        let (mut report, changes_models) = {
            let mut inventory = self.lock();
            let placed = Placed::new(&mut inventory, object);
            let changes = !self.models.unchanged_by(placed.inventory, &[placed.index]);
            let report = scan_scoped(
                placed.inventory,
                &self.options,
                Some((&[placed.index], &self.models)),
            );
            (report, changes)
        };
        sensitive.redactor().redact_report(&mut report);
        self.redactor.redact_report(&mut report);
        self.learned_redactor().redact_report(&mut report);
        Ok(Evaluation {
            report,
            changes_models,
        })
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
        let Some(mut inventory) = self.free_copy() else {
            return true;
        };
        let placed = Placed::new(&mut inventory, object);
        !self.models.unchanged_by(placed.inventory, &[placed.index])
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
    /// judged later see it, until the cluster is read again: a new ReplicaSet or Job whose
    /// controller the cluster holds ([`palisade_rules::unseen::may_be_kept`]), whose arrival
    /// changes no other object's controller. Its Pods are then judged through their
    /// controller, as they are once the cluster is read again, rather than as standalone
    /// Pods. A new Namespace is kept too, so that objects created in it are judged with its
    /// labels (a policy's namespace selector), and a new NetworkPolicy, so that the workloads
    /// applied after it are judged with it. Returns whether it was kept; at most
    /// [`MOST_REMEMBERED`] are.
    pub fn remember(&self, object: Value) -> bool {
        // One at a time, so that every copy keeps the same objects in the same order.
        let mut learned = self
            .learned
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if self.remembered() >= MOST_REMEMBERED {
            return false;
        }
        let spans = Spans::uniform(&object, Pos { line: 1, column: 1 });
        let Some(placed) = Object::from_value(object, spans, self.source, 0) else {
            return false;
        };
        let reads_owners = self.models.reads_owners();
        // A new Namespace holds nothing yet, so the models read at the cluster's read stay
        // true with it; the rules that read its labels (namespace selectors, Pod Security)
        // find them in the evaluation's inventory.
        let namespace = placed.id.group().is_empty() && placed.id.kind == "Namespace";
        // A new NetworkPolicy changes the network: kept, the evaluations that judge an
        // endpoint build their network with it (as for any object the network reads), so a
        // workload applied right after it is not judged unisolated until the next read.
        let network_policy =
            placed.id.group() == "networking.k8s.io" && placed.id.kind == "NetworkPolicy";
        let may_keep = |inventory: &mut Inventory| {
            let (index, previous) = inventory.insert(placed.clone());
            let keep = previous.is_none()
                && (namespace
                    || network_policy
                    || (!reads_owners || inventory.placed_keeps_owners(index))
                        && palisade_rules::unseen::may_be_kept(inventory, index));
            (index, previous, keep)
        };
        // Most objects are not kept (the cluster holds them already, or not their controller):
        // a copy that is free now answers that without waiting for the others.
        if let Some(mut inventory) = self.free_copy() {
            let (index, previous, keep) = may_keep(&mut inventory);
            inventory.restore(index, previous);
            if !keep {
                return false;
            }
        }
        // Every copy is taken before any keeps it (the copies must hold the same objects),
        // waiting at most `REMEMBER_WAIT` for evaluations to end: a webhook remembers within
        // its request's deadline, and an object not kept is judged as it was before.
        let Some(mut copies) = self.lock_all(REMEMBER_WAIT) else {
            return false;
        };
        for inventory in &mut copies {
            let (index, previous, keep) = may_keep(inventory);
            // The copies hold the same objects: the first decides for all.
            if !keep {
                inventory.restore(index, previous);
                return false;
            }
            inventory.keep_placed(index, previous);
        }
        self.remembered
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        learned.add_object(&placed.value);
        let redactor = std::sync::Arc::new(learned.clone().redactor());
        *self
            .learned_redactor
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner) = redactor;
        true
    }

    /// Every copy of the inventory, when each is free within `wait` (none held meanwhile
    /// waits for another: they are tried, not waited on).
    fn lock_all(&self, wait: Duration) -> Option<Vec<MutexGuard<'_, Inventory>>> {
        let deadline = Instant::now() + wait;
        let mut copies = Vec::with_capacity(self.inventories.len());
        for copy in &self.inventories {
            loop {
                match copy.try_lock() {
                    Ok(guard) => break copies.push(guard),
                    Err(TryLockError::Poisoned(poisoned)) => {
                        break copies.push(poisoned.into_inner());
                    }
                    Err(TryLockError::WouldBlock) if Instant::now() < deadline => {
                        std::thread::sleep(Duration::from_micros(200));
                    }
                    Err(TryLockError::WouldBlock) => return None,
                }
            }
        }
        Some(copies)
    }

    /// How many objects [`ClusterModel::remember`] kept.
    pub fn remembered(&self) -> usize {
        self.remembered.load(std::sync::atomic::Ordering::Relaxed)
    }

    fn learned_redactor(&self) -> std::sync::Arc<Redactor> {
        self.learned_redactor
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clone()
    }

    /// A free copy of the inventory, else the next one in turn (waiting for it).
    fn lock(&self) -> std::sync::MutexGuard<'_, Inventory> {
        if let Some(free) = self.free_copy() {
            return free;
        }
        let turn =
            self.next.fetch_add(1, std::sync::atomic::Ordering::Relaxed) % self.inventories.len();
        self.inventories[turn]
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// A copy no evaluation holds now, if any. `Placed` restores the cluster even when
    /// judging panics, so a poisoned lock still guards a consistent inventory.
    fn free_copy(&self) -> Option<std::sync::MutexGuard<'_, Inventory>> {
        self.inventories
            .iter()
            .find_map(|copy| match copy.try_lock() {
                Ok(guard) => Some(guard),
                Err(std::sync::TryLockError::Poisoned(poisoned)) => Some(poisoned.into_inner()),
                Err(std::sync::TryLockError::WouldBlock) => None,
            })
    }
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

    const DEPLOYMENT: &str = "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web, namespace: shop, uid: d-1}\nspec: {template: {spec: {containers: [{name: c, image: 'a:1'}]}}}\n";

    fn replica_set(name: &str) -> Value {
        json!({"apiVersion": "apps/v1", "kind": "ReplicaSet",
            "metadata": {"name": name, "namespace": "shop", "uid": name,
                "ownerReferences": [{"apiVersion": "apps/v1", "kind": "Deployment", "name": "web", "uid": "d-1", "controller": true}]},
            "spec": {"template": {"spec": {"containers": [{"name": "c", "image": "a:2"}]}}}})
    }

    /// Remembering never waits long for a copy that is judging an object: it gives up, and
    /// no copy holds the object (the copies keep the same objects).
    #[test]
    fn remembering_gives_up_rather_than_wait_for_a_busy_copy() {
        let inventory = load_text("c.yaml", DEPLOYMENT, &Limits::default()).inventory;
        let model = ClusterModel::prepare_copies(inventory, ScanOptions::default(), 2);
        let busy = model.inventories[1].lock().unwrap();
        let start = Instant::now();
        assert!(!model.remember(replica_set("rs-2")));
        assert!(
            start.elapsed() < Duration::from_secs(2),
            "{:?}",
            start.elapsed()
        );
        assert_eq!(model.inventories[0].lock().unwrap().objects.len(), 1);
        drop(busy);
        assert!(model.remember(replica_set("rs-2")));
        assert_eq!(model.remembered(), 1);
        for copy in &model.inventories {
            assert_eq!(copy.lock().unwrap().objects.len(), 2);
        }
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
}
