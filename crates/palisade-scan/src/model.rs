//! A cluster prepared once and asked many times: the admission webhook judges each object of
//! an AdmissionReview against it, with exactly the rules, settings and suppressions that
//! `palisade scan` applies to the same object in the same cluster.

use std::sync::Mutex;

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
    /// The objects kept since the cluster was read ([`ClusterModel::remember`]).
    learned: Mutex<Learned>,
}

/// Most objects a model keeps after the cluster was read (until it is read again).
pub const MOST_REMEMBERED: usize = 2_000;

/// The objects kept since the cluster was read: how many, and what of them is never printed.
#[derive(Default)]
struct Learned {
    count: usize,
    sensitive: Sensitive,
    redactor: std::sync::Arc<Redactor>,
}

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
        let source = inventory.add_source(Source {
            path: "admission-request".into(),
            rendered_by: None,
        });
        let mut sensitive = Sensitive::new();
        for object in &inventory.objects {
            sensitive.add_object(&object.value);
        }
        let models = ClusterModels::prepare(&inventory, &active_rules(&options));
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
        }
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
        // The object's own values are indexed per request; the cluster's once.
        let mut sensitive = Sensitive::new();
        sensitive.add_object(&object);
        let spans = Spans::uniform(&object, Pos { line: 1, column: 1 });
        let mut object =
            Object::from_value(object, spans, self.source, 0).ok_or(ModelError::NotAnObject)?;
        object.request = request;
        let mut report = {
            let mut inventory = self.lock();
            let placed = Placed::new(&mut inventory, object);
            scan_scoped(
                placed.inventory,
                &self.options,
                Some((&[placed.index], &self.models)),
            )
        };
        sensitive.redactor().redact_report(&mut report);
        self.redactor.redact_report(&mut report);
        self.learned_redactor().redact_report(&mut report);
        Ok(report)
    }

    /// Keeps `object`, which the cluster now holds (a webhook let it in), so that objects
    /// judged later see it, until the cluster is read again: a new ReplicaSet or Job whose
    /// controller the cluster holds ([`palisade_rules::unseen::may_be_kept`]), whose arrival
    /// changes no other object's controller. Its Pods are then judged through their
    /// controller, as they are once the cluster is read again, rather than as standalone
    /// Pods. Returns whether it was kept; at most [`MOST_REMEMBERED`] are.
    pub fn remember(&self, object: Value) -> bool {
        // One at a time, so that every copy keeps the same objects in the same order.
        let mut learned = self
            .learned
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if learned.count >= MOST_REMEMBERED {
            return false;
        }
        let spans = Spans::uniform(&object, Pos { line: 1, column: 1 });
        let Some(placed) = Object::from_value(object, spans, self.source, 0) else {
            return false;
        };
        let reads_owners = self.models.reads_owners();
        let may_keep = |inventory: &mut Inventory| {
            let (index, previous) = inventory.insert(placed.clone());
            let keep = previous.is_none()
                && (!reads_owners || inventory.placed_keeps_owners(index))
                && palisade_rules::unseen::may_be_kept(inventory, index);
            (index, previous, keep)
        };
        // Asked of one free copy first: most objects (one the cluster holds already) are not
        // kept, and need not wait for every copy's evaluation to end.
        {
            let mut inventory = self.lock();
            let (index, previous, keep) = may_keep(&mut inventory);
            inventory.restore(index, previous);
            if !keep {
                return false;
            }
        }
        for copy in &self.inventories {
            let mut inventory = copy
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            let (index, previous, keep) = may_keep(&mut inventory);
            // The copies hold the same objects, so each decides as the first did.
            if !keep || !inventory.keep_placed(index, previous) {
                return false;
            }
        }
        learned.count += 1;
        learned.sensitive.add_object(&placed.value);
        learned.redactor = std::sync::Arc::new(learned.sensitive.clone().redactor());
        true
    }

    /// How many objects [`ClusterModel::remember`] kept.
    pub fn remembered(&self) -> usize {
        self.learned
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .count
    }

    fn learned_redactor(&self) -> std::sync::Arc<Redactor> {
        self.learned
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .redactor
            .clone()
    }

    /// A free copy of the inventory, else the next one in turn (waiting for it).
    fn lock(&self) -> std::sync::MutexGuard<'_, Inventory> {
        // `Placed` restores the cluster even when judging panics, so a poisoned lock still
        // guards a consistent inventory.
        for copy in &self.inventories {
            match copy.try_lock() {
                Ok(guard) => return guard,
                Err(std::sync::TryLockError::Poisoned(poisoned)) => return poisoned.into_inner(),
                Err(std::sync::TryLockError::WouldBlock) => {}
            }
        }
        let turn =
            self.next.fetch_add(1, std::sync::atomic::Ordering::Relaxed) % self.inventories.len();
        self.inventories[turn]
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
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
