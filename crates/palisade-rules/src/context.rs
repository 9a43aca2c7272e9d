//! What a rule sees while it checks one object, and how it reports.

use std::any::{Any, TypeId};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use palisade_core::Control;
use palisade_core::JsonPointer;
use palisade_inventory::{Container, Inventory, Object, PodSpec};
use serde_json::{Map, Value};

use crate::settings::RuleSettings;

/// Objects by `(group, kind, namespace, name)`, keyed by a hash of the four, so that neither
/// building the index nor a lookup copies a name; a lookup keeps only the candidates whose
/// identity is the one asked for (hashes can collide). The hash is keyed at random, so names
/// chosen to collide cannot make lookups slow. The namespace is part of the key: a name such
/// as `default` is in every namespace, and a lookup for one namespace's must not go through
/// every other's.
struct NameIndex {
    by_hash: HashMap<u64, Vec<usize>>,
    state: std::hash::RandomState,
}

impl NameIndex {
    fn build(inventory: &Inventory) -> NameIndex {
        let mut index = NameIndex {
            by_hash: HashMap::new(),
            state: std::hash::RandomState::new(),
        };
        for (i, o) in inventory.objects.iter().enumerate() {
            if let Some(name) = &o.id.name {
                let key = index.key(o.id.group(), &o.id.kind, o.id.namespace.as_deref(), name);
                index.by_hash.entry(key).or_default().push(i);
            }
        }
        index
    }

    fn key(&self, group: &str, kind: &str, namespace: Option<&str>, name: &str) -> u64 {
        use std::hash::BuildHasher;
        self.state.hash_one((group, kind, namespace, name))
    }

    /// The indices of the objects of `(group, kind)` in `namespace` (`None`: cluster-scoped,
    /// or a manifest that names none) named `name`, in inventory order.
    fn find(
        &self,
        inventory: &Inventory,
        (group, kind): (&str, &str),
        namespace: Option<&str>,
        name: &str,
    ) -> Vec<usize> {
        let Some(candidates) = self.by_hash.get(&self.key(group, kind, namespace, name)) else {
            return Vec::new();
        };
        candidates
            .iter()
            .copied()
            .filter(|&i| is_named(&inventory.objects[i], (group, kind), namespace, name))
            .collect()
    }
}

/// Whether `object` is of `(group, kind)`, in `namespace` and named `name`.
fn is_named(
    object: &Object,
    (group, kind): (&str, &str),
    namespace: Option<&str>,
    name: &str,
) -> bool {
    let id = &object.id;
    id.group() == group
        && id.kind == kind
        && id.namespace.as_deref() == namespace
        && id.name.as_deref() == Some(name)
}

/// Object indices by namespace.
struct NamespaceIndex(HashMap<String, Vec<usize>>);

impl NamespaceIndex {
    fn build(inventory: &Inventory) -> NamespaceIndex {
        let mut map: HashMap<String, Vec<usize>> = HashMap::new();
        for (i, o) in inventory.objects.iter().enumerate() {
            if let Some(ns) = &o.id.namespace {
                map.entry(ns.clone()).or_default().push(i);
            }
        }
        NamespaceIndex(map)
    }
}

/// Models derived from the whole inventory, built on first use and shared (see
/// [`Context::derived`]).
#[derive(Default)]
pub struct Derived {
    /// Each model's cell: the map is locked only to find a cell, so different models are
    /// built at the same time, and a model is built once while others wait for it.
    models: Mutex<HashMap<TypeId, Arc<std::sync::OnceLock<Shared>>>>,
}

/// One value per type made from the last object that asked (see [`Context::object_memo`]).
/// Each worker has its own: one shared by the workers would be taken over by the object
/// another worker judges between two rules of this one.
#[derive(Default)]
pub(crate) struct ObjectMemo(std::cell::RefCell<HashMap<TypeId, (usize, Shared)>>);

/// A model or memo of any type.
type Shared = Arc<dyn Any + Send + Sync>;

impl Derived {
    pub(crate) fn get_or_build<T: Any + Send + Sync>(
        &self,
        inventory: &Inventory,
        build: fn(&Inventory) -> T,
    ) -> Arc<T> {
        self.get_or_make(|| build(inventory))
    }

    /// [`Derived::get_or_build`] for a model made from other models (which `build` asks this
    /// `Derived` for, so that two models never build a third twice).
    pub(crate) fn get_or_build_from<T: Any + Send + Sync>(
        &self,
        inventory: &Inventory,
        build: fn(&Inventory, &Derived) -> T,
    ) -> Arc<T> {
        self.get_or_make(|| build(inventory, self))
    }

    fn get_or_make<T: Any + Send + Sync>(&self, make: impl FnOnce() -> T) -> Arc<T> {
        let cell = self
            .models
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .entry(TypeId::of::<T>())
            .or_default()
            .clone();
        cell.get_or_init(|| Arc::new(make()) as Shared)
            .clone()
            .downcast::<T>()
            .unwrap_or_else(|_| unreachable!("keyed by TypeId"))
    }
}

impl Derived {
    /// The model of type `id`, when it is built.
    fn cell(&self, id: TypeId) -> Option<Shared> {
        let cell = self
            .models
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .get(&id)?
            .clone();
        cell.get().cloned()
    }

    /// Takes `model` as the model of type `id`, unless one is built already.
    fn put(&self, id: TypeId, model: Shared) {
        let cell = self
            .models
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .entry(id)
            .or_default()
            .clone();
        let _ = cell.set(model);
    }

    pub(crate) fn get<T: Any + Send + Sync>(&self) -> Option<Arc<T>> {
        self.cell(TypeId::of::<T>())?.downcast::<T>().ok()
    }

    /// Takes `model` as the model of its type, unless one is built already.
    pub(crate) fn insert<T: Any + Send + Sync>(&self, model: T) {
        self.put(TypeId::of::<T>(), Arc::new(model));
    }
}

/// The whole-inventory models rules read with [`Context::derived`], declared ahead of a scan
/// (see [`crate::Rule::models`]) so that different models are built at the same time on
/// different cores, rather than one after another while the other cores wait for them.
#[derive(Default)]
pub struct Models {
    wanted: Vec<(TypeId, ModelBuilder)>,
    /// Models a cluster prepared for admission builds once and lends to every evaluation
    /// whose judged objects cannot change them.
    kept: Vec<Kept>,
}

/// A model a prepared cluster keeps (see [`Models::keep`]).
struct Kept {
    id: TypeId,
    sees: Sees,
    build: ModelBuilder,
}

/// Which objects a kept model is made from: an evaluation takes the cluster's model as its own
/// when its judged objects are none of them (their presence cannot change the model).
#[derive(Debug, Clone, Copy)]
pub enum Sees {
    /// Objects of these kinds `(group, kind)` only.
    Kinds(&'static [(&'static str, &'static str)]),
    /// Every object but those the predicate says the model never reads (see
    /// [`crate::unseen`]: [`crate::unseen::is_unseen`] for the escalation model,
    /// [`crate::unseen::is_unseen_by_network`] for the network's), given the cluster's kept
    /// models.
    AllBut(fn(&Inventory, &Derived, usize) -> bool),
}

/// Builds one model into the evaluation's [`Derived`].
type ModelBuilder = Box<dyn Fn(&Derived, &Inventory) + Send + Sync>;

impl Models {
    /// Asks for the model `build` makes (once, however many rules ask).
    pub fn add<T: Any + Send + Sync>(&mut self, build: fn(&Inventory) -> T) {
        self.want::<T>(Box::new(move |derived, inventory| {
            derived.get_or_build(inventory, build);
        }));
    }

    /// [`Models::add`] for a model made from other models ([`Derived::get_or_build_from`]).
    pub fn add_from<T: Any + Send + Sync>(&mut self, build: fn(&Inventory, &Derived) -> T) {
        self.want::<T>(Box::new(move |derived, inventory| {
            derived.get_or_build_from(inventory, build);
        }));
    }

    /// Declares that the model `build` makes is made from the objects `sees` says. A cluster
    /// prepared to judge objects one at a time builds it once, and an evaluation whose judged
    /// objects are none of those takes that one as its own rather than build it again (their
    /// presence cannot change it). A scan builds it as [`Derived::get_or_build`] does, on
    /// first use.
    pub fn keep<T: Any + Send + Sync>(&mut self, build: fn(&Inventory) -> T, sees: Sees) {
        self.keep_builder::<T>(
            sees,
            Box::new(move |derived, inventory| {
                derived.get_or_build(inventory, build);
            }),
        );
    }

    /// [`Models::keep`] for a model made from other models ([`Derived::get_or_build_from`]).
    pub fn keep_from<T: Any + Send + Sync>(
        &mut self,
        build: fn(&Inventory, &Derived) -> T,
        sees: Sees,
    ) {
        self.keep_builder::<T>(
            sees,
            Box::new(move |derived, inventory| {
                derived.get_or_build_from(inventory, build);
            }),
        );
    }

    fn keep_builder<T: Any>(&mut self, sees: Sees, build: ModelBuilder) {
        let id = TypeId::of::<T>();
        if self.kept.iter().all(|k| k.id != id) {
            self.kept.push(Kept { id, sees, build });
        }
    }

    /// Keeps `builder` for the model of type `T`, unless that model is wanted already.
    fn want<T: Any>(&mut self, builder: ModelBuilder) {
        let id = TypeId::of::<T>();
        if self.wanted.iter().all(|(t, _)| *t != id) {
            self.wanted.push((id, builder));
        }
    }

    /// Whether no model was asked for.
    pub(crate) fn is_empty(&self) -> bool {
        self.wanted.is_empty() && self.kept.is_empty()
    }

    /// Whether the model of type `T` is asked for.
    pub(crate) fn wants<T: Any>(&self) -> bool {
        let id = TypeId::of::<T>();
        self.wanted.iter().any(|(wanted, _)| *wanted == id) || self.kept.iter().any(|k| k.id == id)
    }

    /// Builds every model asked for into `derived`, on up to `threads` threads.
    pub(crate) fn build(&self, derived: &Derived, inventory: &Inventory, threads: usize) {
        let next = std::sync::atomic::AtomicUsize::new(0);
        let work = || {
            while let Some((_, build)) = self
                .wanted
                .get(next.fetch_add(1, std::sync::atomic::Ordering::Relaxed))
            {
                build(derived, inventory);
            }
        };
        let threads = threads.min(self.wanted.len());
        if threads <= 1 {
            work();
            return;
        }
        std::thread::scope(|scope| {
            for _ in 0..threads {
                scope.spawn(work);
            }
        });
    }
}

/// Models of a cluster that do not depend on the objects judged against it, built once when
/// the cluster is prepared to judge objects one at a time (an admission webhook's cluster) and
/// shared by every evaluation until the next read of the cluster. Each rule builds what it
/// reads with [`Context::cluster_model`] in [`crate::Rule::prepare`].
#[derive(Default)]
pub struct ClusterModels {
    models: Derived,
    /// The models of [`Models::keep`], with what each is made from and, for
    /// [`Sees::AllBut`], whether it did not see each object of the cluster.
    kept: Vec<(TypeId, Sees, Vec<bool>)>,
    /// The cluster as the kept models saw it: each object's controller, and the namespaces its
    /// objects are in (the network declares every one).
    controllers: Vec<Option<usize>>,
    namespaces: std::collections::HashSet<String>,
    /// Per kept model (in the order of `kept`): whether an object the cluster took in since
    /// it was built changes it ([`ClusterModels::take_in`]); such a model is never lent.
    stale: Vec<std::sync::atomic::AtomicBool>,
    /// The workloads that reach cluster-admin in the kept escalation model, when it is kept.
    admin_reach: Option<Arc<crate::rbac::AdminReach>>,
    /// What the rules that compare the cluster before and after an object judge
    /// ([`crate::Rule::only_against_a_cluster`]): only their objects need a before.
    comparing: Vec<crate::rule::Target>,
}

/// What the cluster an object is judged against was before the object was placed in it,
/// found on the copy it is placed in ([`ClusterModels::before`]) and lent to the evaluation:
/// the workloads that reached cluster-admin (RBAC021 reports those the object adds).
#[derive(Debug, Default)]
pub struct Before {
    admin_reach: Option<Arc<crate::rbac::AdminReach>>,
    /// What the evaluation found the cluster to be with the object: the workloads that reach
    /// cluster-admin then ([`Context::record_admin_reach_after`]). Once the object is kept, it
    /// is what the cluster is before the object judged next.
    after: std::sync::OnceLock<Arc<crate::rbac::AdminReach>>,
}

impl Before {
    /// A before already known: the workloads that reach cluster-admin in the cluster.
    pub fn known(admin_reach: Arc<crate::rbac::AdminReach>) -> Before {
        Before {
            admin_reach: Some(admin_reach),
            after: std::sync::OnceLock::new(),
        }
    }

    /// The workloads that reach cluster-admin with the judged object in the cluster, when a
    /// rule found them.
    pub fn admin_reach_after(&self) -> Option<Arc<crate::rbac::AdminReach>> {
        self.after.get().cloned()
    }
}

impl ClusterModels {
    /// The models `rules` read, built from `inventory` (the cluster, without the objects to
    /// be judged).
    pub fn prepare(inventory: &Inventory, rules: &[&dyn crate::Rule]) -> ClusterModels {
        ClusterModels::prepare_with(inventory, rules, &crate::RuleSettings::default())
    }

    /// [`ClusterModels::prepare`], with the run's `settings` (the cluster's admission
    /// policies, which the escalation graph asks what they refuse).
    pub fn prepare_with(
        inventory: &Inventory,
        rules: &[&dyn crate::Rule],
        settings: &crate::RuleSettings,
    ) -> ClusterModels {
        let mut models = ClusterModels::default();
        crate::network::lend_ingress(settings, &models.models);
        models.add(inventory, NameIndex::build);
        models.add(inventory, NamespaceIndex::build);
        let mut wanted = Models::default();
        for rule in rules {
            rule.prepare(inventory, &models);
            rule.models(&mut wanted);
            if rule.only_against_a_cluster().is_some() {
                models.comparing.push(rule.target());
            }
        }
        // The cluster's admission policies, which the escalation graph asks what they refuse,
        // before the graph; lent to every evaluation, with the answers it keeps (by namespace
        // and its labels).
        if wanted.wants::<crate::rbac::RbacModel>()
            && let Some(asker) = crate::refusals::PolicyAsker::of(settings)
        {
            models.models.insert(asker);
            models.kept.push((
                TypeId::of::<crate::refusals::PolicyAsker>(),
                Sees::Kinds(&[]),
                Vec::new(),
            ));
        }
        let all = 0..inventory.objects.len();
        if wanted
            .kept
            .iter()
            .any(|k| matches!(k.sees, Sees::AllBut(_)))
        {
            models.controllers = all.clone().map(|i| inventory.controller_of(i)).collect();
            models.namespaces = inventory
                .objects
                .iter()
                .filter_map(|o| match (o.id.group(), o.id.kind.as_str()) {
                    ("", "Namespace") => o.id.name.clone(),
                    _ => o.id.namespace.clone(),
                })
                .collect();
        }
        for kept in wanted.kept {
            (kept.build)(&models.models, inventory);
            let unseen = match kept.sees {
                Sees::AllBut(unseen) => all
                    .clone()
                    .map(|i| unseen(inventory, &models.models, i))
                    .collect(),
                Sees::Kinds(_) => Vec::new(),
            };
            models.kept.push((kept.id, kept.sees, unseen));
        }
        models.stale = models.kept.iter().map(|_| Default::default()).collect();
        if let Some(model) = models.models.get::<crate::rbac::RbacModel>() {
            models.admin_reach = Some(Arc::new(crate::rbac::AdminReach::of(&model)));
        }
        models
    }

    /// What the cluster `inventory` (a copy of the prepared cluster, holding the objects
    /// taken in since, without the objects about to be judged) is before they are placed in
    /// it: the workloads that reach cluster-admin. While no object taken in changed the kept
    /// escalation model, they are the ones found when it was prepared; otherwise the model is
    /// built from `inventory` (with the kept models that are still the cluster's), which
    /// only an object that changes it needs ([`ClusterModels::unchanged_by`]).
    pub fn before(&self, inventory: &Inventory) -> Before {
        if let Some(before) = self.before_as_read() {
            return before;
        }
        if self.admin_reach.is_none() {
            return Before::default();
        }
        let lent = Derived::default();
        self.lend(&lent, inventory, &[]);
        Before::known(Arc::new(crate::rbac::admin_reach_of(inventory, &lent)))
    }

    /// [`ClusterModels::before`] when nothing needs building: the kept escalation model is
    /// still the cluster's.
    pub fn before_as_read(&self) -> Option<Before> {
        let reach = self.admin_reach.as_ref()?;
        (!self.is_stale::<crate::rbac::RbacModel>()).then(|| Before::known(Arc::clone(reach)))
    }

    /// Whether a rule that compares the cluster before and after an object judges objects
    /// like `object`: only then is [`ClusterModels::before`] worth asking.
    pub fn compares_before(&self, object: &Object) -> bool {
        let key = (object.id.group(), object.id.kind.as_str());
        self.comparing.iter().any(|target| match target {
            crate::rule::Target::All => true,
            crate::rule::Target::Kinds(kinds) => kinds.contains(&key),
            crate::rule::Target::PodSpec | crate::rule::Target::Endpoint => {
                palisade_inventory::podspec::pod_spec_kinds().any(|kind| kind == key)
            }
        })
    }

    /// Whether the kept model of type `T` is changed by an object taken in since it was
    /// built.
    fn is_stale<T: Any>(&self) -> bool {
        let id = TypeId::of::<T>();
        self.kept
            .iter()
            .zip(&self.stale)
            .any(|((kept, _, _), stale)| {
                *kept == id && stale.load(std::sync::atomic::Ordering::Relaxed)
            })
    }

    /// Takes in the object at `index` of `inventory`, new or in place of the version the
    /// models were built with, which the cluster holds for good from now on (an object an
    /// admission webhook let in, kept until the cluster is read again): the kept models it
    /// changes are no longer lent, so every evaluation builds them with it, until models
    /// are prepared again from a cluster that holds it. The caller
    /// vouches that no other object's controller changes with it. A new Namespace that
    /// nothing of the cluster was in changes no model: the objects made in it are new too, in
    /// a namespace the models do not know, and each evaluation of one builds them again.
    /// Returns whether some model is no longer lent.
    pub fn take_in(&self, inventory: &Inventory, index: usize) -> bool {
        let mut changed = false;
        for (kept, stale) in self.stale.iter().enumerate() {
            if self.changes_kept(kept, inventory, index) {
                stale.store(true, std::sync::atomic::Ordering::Relaxed);
                changed = true;
            }
        }
        changed
    }

    /// Whether the object at `index` of `inventory`, taken in for good, changes the kept
    /// escalation model, so the workloads that reach cluster-admin may differ with it
    /// ([`ClusterModels::before`]); yes when that model is not kept.
    pub fn changes_admin_reach(&self, inventory: &Inventory, index: usize) -> bool {
        let id = TypeId::of::<crate::rbac::RbacModel>();
        self.kept
            .iter()
            .position(|(kept, _, _)| *kept == id)
            .is_none_or(|kept| self.changes_kept(kept, inventory, index))
    }

    /// Whether the object at `index` of `inventory`, taken in for good, changes the kept
    /// model at `kept` (see [`ClusterModels::take_in`]).
    fn changes_kept(&self, kept: usize, inventory: &Inventory, index: usize) -> bool {
        let Some(object) = inventory.objects.get(index) else {
            return false;
        };
        let id = &object.id;
        if id.group().is_empty()
            && id.kind == "Namespace"
            && id
                .name
                .as_ref()
                .is_none_or(|n| !self.namespaces.contains(n))
        {
            return false;
        }
        let (_, sees, was_unseen) = &self.kept[kept];
        let unchanged = match sees {
            Sees::Kinds(reads) => !reads.contains(&(id.group(), id.kind.as_str())),
            // An object the model does not see, in place of one it did not see either, or
            // new in a namespace the cluster had.
            Sees::AllBut(unseen) => {
                unseen(inventory, &self.models, index)
                    && match was_unseen.get(index) {
                        Some(was_unseen) => *was_unseen,
                        None => id
                            .namespace
                            .as_ref()
                            .is_none_or(|ns| self.namespaces.contains(ns)),
                    }
            }
        };
        !unchanged
    }

    /// Whether an object taken in since the models were built changes one of them
    /// ([`ClusterModels::take_in`]): preparing them again lends all of them again.
    pub fn outdated(&self) -> bool {
        self.stale
            .iter()
            .any(|stale| stale.load(std::sync::atomic::Ordering::Relaxed))
    }

    /// Lends `derived` (an evaluation's) the kept models that the objects at `judged` in
    /// `inventory` (the cluster with them placed: added at its end, or each in place of the
    /// object of its identity) cannot change, and that no object taken in since they were
    /// built changed ([`ClusterModels::take_in`]).
    pub(crate) fn lend(&self, derived: &Derived, inventory: &Inventory, judged: &[usize]) {
        let lending = self.lending(inventory, judged);
        for ((id, lend), stale) in lending.into_iter().zip(&self.stale) {
            if lend
                && !stale.load(std::sync::atomic::Ordering::Relaxed)
                && let Some(model) = self.models.cell(id)
            {
                derived.put(id, model);
            }
        }
    }

    /// Whether the objects at `judged` of `inventory` (placed as for [`ClusterModels::lend`])
    /// change none of the kept models: once the cluster holds them, the models are still
    /// the cluster's. An admission webhook reads the cluster again soon after letting in one
    /// that does.
    pub fn unchanged_by(&self, inventory: &Inventory, judged: &[usize]) -> bool {
        self.lending(inventory, judged)
            .iter()
            .all(|(_, lend)| *lend)
    }

    /// Each kept model, and whether the objects at `judged` leave it as it is.
    fn lending(&self, inventory: &Inventory, judged: &[usize]) -> Vec<(TypeId, bool)> {
        let mut owners_kept = None;
        self.kept
            .iter()
            .map(|(id, sees, was_unseen)| {
                let lend = match sees {
                    Sees::Kinds(reads) => judged.iter().all(|&j| {
                        let id = &inventory.objects[j].id;
                        !reads.contains(&(id.group(), id.kind.as_str()))
                    }),
                    Sees::AllBut(unseen) => {
                        self.all_unseen(inventory, judged, *unseen, was_unseen)
                            && *owners_kept
                                .get_or_insert_with(|| self.owners_kept(inventory, judged))
                    }
                };
                (*id, lend)
            })
            .collect()
    }

    /// Whether a model of [`Sees::AllBut`] is the same with the judged objects as without
    /// them (with [`ClusterModels::owners_kept`]): each is unseen, the object it replaces was
    /// unseen too (an update keeps its namespace), and a new one is in a namespace the cluster
    /// has already (the network declares every namespace an object is in: one read before the
    /// namespace was would add it). An update that changes nothing a model reads (a new image,
    /// a scale: [`Inventory::placed_alike`]) leaves every model as it was, seen or not.
    fn all_unseen(
        &self,
        inventory: &Inventory,
        judged: &[usize],
        unseen: fn(&Inventory, &Derived, usize) -> bool,
        was_unseen: &[bool],
    ) -> bool {
        judged.iter().all(|&j| {
            let known_namespace = || {
                inventory.objects[j]
                    .id
                    .namespace
                    .as_ref()
                    .is_none_or(|ns| self.namespaces.contains(ns))
            };
            inventory.placed_alike(j)
                || unseen(inventory, &self.models, j)
                    && match was_unseen.get(j) {
                        Some(was_unseen) => *was_unseen,
                        None => known_namespace(),
                    }
        })
    }

    /// Whether every object but the judged ones has the controller it had when the cluster
    /// was read (an object can bridge a chain of owners, and the models judge an object
    /// through its controller).
    fn owners_kept(&self, inventory: &Inventory, judged: &[usize]) -> bool {
        // The inventory knows when it kept the others' owner graph for the placed object.
        if let [one] = judged
            && inventory.placed_keeps_owners(*one)
        {
            return true;
        }
        self.controllers
            .iter()
            .enumerate()
            .all(|(k, was)| judged.contains(&k) || inventory.controller_of(k) == *was)
    }

    /// Whether a kept model depends on the cluster's owner graph (it is lent only while every
    /// object keeps its controller: [`Sees::AllBut`]).
    pub fn reads_owners(&self) -> bool {
        self.kept
            .iter()
            .any(|(_, sees, _)| matches!(sees, Sees::AllBut(_)))
    }

    fn get_model<T: Any + Send + Sync>(&self) -> Option<Arc<T>> {
        self.models.get::<T>()
    }

    /// Builds the model `build` makes of `inventory`, unless it is built already.
    pub fn add<T: Any + Send + Sync>(&self, inventory: &Inventory, build: fn(&Inventory) -> T) {
        self.models.get_or_build(inventory, build);
    }
}

/// The object under evaluation, the inventory around it, and the rule's verdicts so far.
pub struct Context<'a> {
    pub object: &'a Object,
    /// Index of `object` in `inventory.objects`.
    pub object_index: usize,
    pub inventory: &'a Inventory,
    /// The pod spec, for rules that target pod specs.
    pub pod: Option<PodSpec<'a>>,
    /// The `[rules]` settings of `palisade.toml`.
    pub settings: &'a RuleSettings,
    derived: &'a Derived,
    memo: &'a ObjectMemo,
    /// The prepared models of the cluster, when objects are judged one at a time against it.
    cluster: Option<&'a ClusterModels>,
    /// What that cluster was before the judged object was placed in it, when the caller found
    /// it ([`ClusterModels::before`]).
    before: Option<&'a Before>,
    /// What the rule reported, in order.
    pub(crate) findings: Vec<Reported>,
    pub(crate) not_assessed: Option<String>,
    /// Whether the rule's own evaluation failed ([`Context::evaluation_failed`]).
    pub(crate) failed: bool,
    /// The object is not one the rule judges (a pod that runs no control-plane component):
    /// it counts as neither passed nor failed.
    pub(crate) out_of_scope: bool,
    /// Audit annotations made for the object, `(key, value)`.
    pub(crate) audit_annotations: Vec<(String, String)>,
    /// `(path, diagnostic code, message)` of problems the run reports as diagnostics: fields
    /// of the wrong type, a policy that failed.
    pub(crate) errors: Vec<(JsonPointer, &'static str, String)>,
    /// The pod spec's containers and lookup anchors, worked out once per object.
    pod_facts: &'a PodFacts<'a>,
}

/// A value whose pointer is known: `(base, tail, value)`, the pointer being `base` + `tail`.
type Anchor<'a> = (&'a str, String, &'a Value);

/// What rules ask of one object's pod spec, worked out once for every rule that judges the
/// object: its containers, container lists of the wrong type, and the values whose pointers
/// are known (the pod spec, each container), where a lookup starts instead of at the object's
/// root (the longest one its path begins with), which saves most of the map lookups.
#[derive(Debug, Default)]
pub(crate) struct PodFacts<'a> {
    containers: Vec<Container<'a>>,
    /// `(pointer, value)` of container lists that are set but are not lists.
    not_lists: Vec<(JsonPointer, &'a Value)>,
    anchors: Vec<Anchor<'a>>,
}

/// The facts of an object without a pod spec.
pub(crate) static NO_POD: PodFacts<'static> = PodFacts {
    containers: Vec::new(),
    not_lists: Vec::new(),
    anchors: Vec::new(),
};

impl<'a> PodFacts<'a> {
    /// The facts of `pod`. `security_defaults` is the security context the object's operator
    /// gives each container that sets none
    /// (`palisade_inventory::operator_pods::container_security_defaults`): a lookup below
    /// such a container's `securityContext` reads it, as the operator's Pods will have it.
    pub(crate) fn of(pod: PodSpec<'a>, security_defaults: Option<&'a Value>) -> Self {
        if pod.value.is_null() {
            return PodFacts::default();
        }
        let not_lists = palisade_inventory::ContainerKind::ALL
            .into_iter()
            .filter_map(|kind| {
                let value = pod.value.get(kind.field()).filter(|v| !v.is_null())?;
                (!value.is_array()).then(|| (pod.field(kind.field()), value))
            })
            .collect();
        let containers: Vec<Container<'a>> =
            pod.containers().filter(|c| c.value.is_object()).collect();
        let mut anchors = vec![(pod.pointer, String::new(), pod.value)];
        for c in &containers {
            let tail = &c.pointer.as_str()[pod.pointer.len()..];
            anchors.push((pod.pointer, tail.to_string(), c.value));
            let unset = c.value.get("securityContext").is_none_or(Value::is_null);
            if let Some(defaults) = security_defaults.filter(|_| unset)
                && c.kind != palisade_inventory::ContainerKind::Ephemeral
            {
                anchors.push((pod.pointer, format!("{tail}/securityContext"), defaults));
            }
        }
        PodFacts {
            containers,
            not_lists,
            anchors,
        }
    }
}

/// A finding as a rule reports it; the engine adds the rule, the subject, the location and the
/// fingerprint. Only `path` and `message` are required.
#[derive(Debug, Clone)]
pub struct Reported {
    pub path: JsonPointer,
    pub message: String,
    /// The controls the finding cites when they are not all of the rule's (a condition that
    /// violates only some of them).
    pub cited: Option<Vec<Control>>,
    /// This finding's severity when it is not the rule's default.
    pub severity: Option<palisade_core::Severity>,
    /// Keeps findings of the rule at one path apart (part of the fingerprint).
    pub discriminator: Option<String>,
    pub evidence: Vec<palisade_core::Evidence>,
    pub fix: Option<palisade_core::Fix>,
    /// The reason a denial for this finding gives the client at admission (a
    /// ValidatingAdmissionPolicy validation's).
    pub status_reason: Option<palisade_core::StatusReason>,
}

impl Reported {
    pub fn new(path: JsonPointer, message: impl Into<String>) -> Self {
        Reported {
            path,
            message: message.into(),
            cited: None,
            severity: None,
            discriminator: None,
            evidence: Vec::new(),
            fix: None,
            status_reason: None,
        }
    }

    /// The finding the engine makes of this report.
    pub(crate) fn into_finding(
        self,
        rule: impl Into<palisade_core::RuleRef>,
        subject: palisade_core::Subject,
        location: palisade_core::Location,
    ) -> palisade_core::Finding {
        let mut finding = palisade_core::Finding::new(rule, subject, location, self.message);
        if let Some(controls) = self.cited {
            finding = finding.citing(controls);
        }
        if let Some(severity) = self.severity {
            finding = finding.with_severity(severity);
        }
        if let Some(discriminator) = self.discriminator {
            finding = finding.with_discriminator(discriminator);
        }
        if !self.evidence.is_empty() {
            *finding.evidence_mut() = self.evidence;
        }
        finding.set_fix(self.fix);
        match self.status_reason {
            Some(reason) => finding.with_status_reason(reason),
            None => finding,
        }
    }
}

impl<'a> Context<'a> {
    pub(crate) fn new(
        object_index: usize,
        object: &'a Object,
        inventory: &'a Inventory,
        pod: Option<(PodSpec<'a>, &'a PodFacts<'a>)>,
        settings: &'a RuleSettings,
        (derived, memo): (&'a Derived, &'a ObjectMemo),
        (cluster, before): (Option<&'a ClusterModels>, Option<&'a Before>),
    ) -> Self {
        Context {
            object,
            object_index,
            inventory,
            pod: pod.map(|(pod, _)| pod),
            settings,
            derived,
            memo,
            cluster,
            before,
            findings: Vec::new(),
            not_assessed: None,
            failed: false,
            out_of_scope: false,
            audit_annotations: Vec::new(),
            errors: Vec::new(),
            pod_facts: pod.map_or(&NO_POD, |(_, facts)| facts),
        }
    }

    /// A model built once per evaluation from the whole inventory (the RBAC policy, say) and
    /// shared by every rule and object that asks for it.
    pub fn derived<T: Any + Send + Sync>(&self, build: fn(&Inventory) -> T) -> Arc<T> {
        self.derived.get_or_build(self.inventory, build)
    }

    /// [`Context::derived`] for a model made from other models.
    pub fn derived_from<T: Any + Send + Sync>(
        &self,
        build: fn(&Inventory, &Derived) -> T,
    ) -> Arc<T> {
        self.derived.get_or_build_from(self.inventory, build)
    }

    /// A value made from the judged object that several rules read (the object converted for
    /// a policy engine, say): made once for the object while rules ask about it in turn, as
    /// they do when objects are judged one at a time. Only the last object's value is kept,
    /// so memory does not grow with the inventory.
    pub fn object_memo<T: Any + Send + Sync>(&self, make: impl FnOnce() -> T) -> Arc<T> {
        let key = TypeId::of::<T>();
        if let Some((index, value)) = self.memo.0.borrow().get(&key)
            && *index == self.object_index
            && let Ok(value) = value.clone().downcast::<T>()
        {
            return value;
        }
        // Made without holding the memo: `make` may ask for another memo.
        let value = Arc::new(make());
        self.memo
            .0
            .borrow_mut()
            .insert(key, (self.object_index, value.clone() as Shared));
        value
    }

    /// Whether objects are judged one at a time against a prepared cluster (admission), where
    /// a table over every object (built for a scan) would be built for one row.
    pub fn judged_one_at_a_time(&self) -> bool {
        self.cluster.is_some()
    }

    /// The workloads that reached cluster-admin in the cluster before the judged object was
    /// placed in it, when objects are judged one at a time against a prepared cluster: `None`
    /// in a scan, or when the escalation model is not kept.
    pub fn admin_reach_before(&self) -> Option<Arc<crate::rbac::AdminReach>> {
        match self.before {
            Some(before) => before.admin_reach.clone(),
            None => self
                .cluster
                .and_then(ClusterModels::before_as_read)
                .and_then(|before| before.admin_reach),
        }
    }

    /// Whether `model` is the cluster's own, kept when it was prepared and lent to this
    /// evaluation (the judged object cannot change it).
    pub fn is_the_clusters<T: Any + Send + Sync>(&self, model: &Arc<T>) -> bool {
        self.cluster
            .and_then(ClusterModels::get_model::<T>)
            .is_some_and(|kept| Arc::ptr_eq(&kept, model))
    }

    /// Records what the cluster is with the judged object in it (the workloads that reach
    /// cluster-admin), for the caller that lent the before ([`Before::admin_reach_after`]).
    pub fn record_admin_reach_after(&self, reach: Arc<crate::rbac::AdminReach>) {
        if let Some(before) = self.before {
            let _ = before.after.set(reach);
        }
    }

    /// A model of the cluster that does not depend on the judged object (Gatekeeper's
    /// `data.inventory` is the cluster as synced, without the object under review): when
    /// objects are judged one at a time, the one [`crate::Rule::prepare`] built when the
    /// cluster was read, so no request pays for it; in a scan, [`Context::derived`].
    pub fn cluster_model<T: Any + Send + Sync>(&self, build: fn(&Inventory) -> T) -> Arc<T> {
        self.cluster
            .and_then(ClusterModels::get_model::<T>)
            .unwrap_or_else(|| self.derived(build))
    }

    /// Objects of `(group, kind)` in `namespace` (`None`: cluster-scoped, or manifests that
    /// name none) named `name`, through an index built once per evaluation.
    pub fn objects_named(
        &self,
        (group, kind): (&str, &str),
        namespace: Option<&str>,
        name: &str,
    ) -> Vec<&'a Object> {
        let index = self.cluster_model(NameIndex::build);
        let mut found = index.find(self.inventory, (group, kind), namespace, name);
        if is_named(self.object, (group, kind), namespace, name) {
            self.with_judged_object(&mut found);
        }
        let inventory = self.inventory;
        found.iter().map(|i| &inventory.objects[*i]).collect()
    }

    /// Adds the judged object to indices found in the cluster's index when objects are judged
    /// one at a time: the index was built without it (a new object comes after the cluster's;
    /// an updated one keeps the index of the object it replaces, which is listed already).
    fn with_judged_object(&self, found: &mut Vec<usize>) {
        if self.judged_one_at_a_time() && !found.contains(&self.object_index) {
            found.push(self.object_index);
        }
    }

    /// Indices of the objects whose namespace is `namespace`, through an index built once.
    pub fn objects_in_namespace(&self, namespace: &str) -> Vec<usize> {
        let mut found = self
            .cluster_model(NamespaceIndex::build)
            .0
            .get(namespace)
            .cloned()
            .unwrap_or_default();
        if self.object.id.namespace.as_deref() == Some(namespace) {
            self.with_judged_object(&mut found);
        }
        found
    }

    /// Reports a finding at `path` (the offending field, or where a missing field belongs).
    pub fn report(&mut self, path: JsonPointer, message: impl Into<String>) {
        self.findings.push(Reported::new(path, message));
    }

    /// Reports a finding with more than a path and a message: its own severity, a
    /// discriminator, evidence or a fix (see [`Reported`]).
    pub fn report_with(&mut self, reported: Reported) {
        self.findings.push(reported);
    }

    /// Reports a finding that cites only `controls`: the conditions a rule checks often map
    /// to different controls (`hostPID` is CIS 5.2.3, `hostNetwork` 5.2.5), and a framework's
    /// verdict must only fail the controls the finding violates.
    pub fn report_citing(
        &mut self,
        path: JsonPointer,
        message: impl Into<String>,
        controls: Vec<Control>,
    ) {
        let mut reported = Reported::new(path, message);
        reported.cited = Some(controls);
        self.findings.push(reported);
    }

    /// Says the rule could not evaluate this object, and why. The object counts as
    /// `not_assessed` (never as passed) unless the rule also reported findings.
    ///
    /// (See also [`Context::audit_annotation`].)
    pub fn not_assessed(&mut self, reason: impl Into<String>) {
        self.not_assessed.get_or_insert_with(|| reason.into());
    }

    /// Says the object is not one the rule judges, though its target takes it in (a pod that
    /// runs no control-plane component, for a rule on the API server's flags): it is counted
    /// as neither passed nor failed, so a framework's control is never passed on objects its
    /// rule has nothing to say about (it is `not_applicable` when no object is in scope).
    pub fn out_of_scope(&mut self) {
        self.out_of_scope = true;
    }

    /// Whether the judged object is a Namespace an admission request creates: nothing can be
    /// in it yet (no NetworkPolicy, no ResourceQuota can be made before it), so a rule on
    /// what it holds says it was not assessed rather than refusing every new namespace under
    /// a strict `deny_at`. Its pods are judged when they come.
    pub fn namespace_being_created(&mut self) -> bool {
        let creating = self.object.id.kind == "Namespace"
            && self.object.id.group().is_empty()
            && self.object.operation() == Some("CREATE");
        if creating {
            self.not_assessed("the namespace is being created: nothing can be in it yet");
        }
        creating
    }

    /// Whether what other objects lack is unknown because nothing besides the judged objects
    /// was read ([`palisade_inventory::Inventory::alone`]: a webhook judging each object
    /// alone). Then the object is not assessed, for want of `what` ("the NetworkPolicies of
    /// namespace shop"), and the rule must not conclude from an absence.
    pub fn absence_unknown(&mut self, what: &str) -> bool {
        if self.inventory.alone {
            self.not_assessed(format!("judged alone: {what} not read"));
        }
        self.inventory.alone
    }

    /// Says the rule's own evaluation of this object failed (a policy's Rego or CEL error):
    /// the object is not assessed, and the run gets an error diagnostic naming the object and
    /// the error, which makes it incomplete (exit 2): a gate does not pass on a policy that
    /// did not run. A rule that could not judge for want of facts says [`Context::not_assessed`].
    pub fn evaluation_failed(&mut self, error: impl Into<String>) {
        let error = error.into();
        self.not_assessed(error.clone());
        self.failed = true;
        self.errors.push((
            JsonPointer::root(),
            palisade_core::diagnostic::POLICY_ERROR,
            error,
        ));
    }

    /// Records an audit annotation for the judged object (a ValidatingAdmissionPolicy's
    /// `auditAnnotations`): at admission it goes to the API server's audit event for the
    /// request; a scan does not print it.
    pub fn audit_annotation(&mut self, key: impl Into<String>, value: impl Into<String>) {
        self.audit_annotations.push((key.into(), value.into()));
    }

    /// The value at `path`, if present and not null.
    pub fn get(&self, path: &JsonPointer) -> Option<&'a Value> {
        let text = path.as_str();
        for (base, tail, value) in self.pod_facts.anchors.iter().rev() {
            if let Some(rest) = text
                .strip_prefix(base)
                .and_then(|r| r.strip_prefix(tail.as_str()))
                .filter(|r| r.is_empty() || r.starts_with('/'))
            {
                return palisade_core::pointer::lookup(*value, rest).filter(|v| !v.is_null());
            }
        }
        path.lookup(&self.object.value).filter(|v| !v.is_null())
    }

    fn mismatch(&mut self, path: &JsonPointer, expected: &str, found: &Value) {
        let found = match found {
            Value::Bool(_) => "a boolean".to_string(),
            Value::Number(n) => format!("the number {n}"),
            Value::String(s) => format!("the string {:?}", truncate(s)),
            Value::Array(_) => "a list".to_string(),
            Value::Object(_) => "a mapping".to_string(),
            Value::Null => "null".to_string(),
        };
        let message = format!(
            "`{path}` must be {expected}, found {found}; the API server rejects this object"
        );
        self.not_assessed(format!("type mismatch at {path}"));
        self.errors.push((path.clone(), "type-mismatch", message));
    }

    /// A boolean field. A field of another type is reported as a type mismatch (a diagnostic,
    /// and the object is not assessed) and reads as absent.
    pub fn bool_at(&mut self, path: &JsonPointer) -> Option<bool> {
        match self.get(path)? {
            Value::Bool(b) => Some(*b),
            other => {
                self.mismatch(path, "true or false", other);
                None
            }
        }
    }

    /// An integer field (see [`Context::bool_at`] for mismatches).
    pub fn int_at(&mut self, path: &JsonPointer) -> Option<i64> {
        match self.get(path)? {
            Value::Number(n) if n.as_i64().is_some() => n.as_i64(),
            other => {
                self.mismatch(path, "an integer", other);
                None
            }
        }
    }

    /// A string field (see [`Context::bool_at`] for mismatches).
    pub fn str_at(&mut self, path: &JsonPointer) -> Option<&'a str> {
        match self.get(path)? {
            Value::String(s) => Some(s.as_str()),
            other => {
                self.mismatch(path, "a string", other);
                None
            }
        }
    }

    /// A list field; empty when absent (see [`Context::bool_at`] for mismatches).
    pub fn array_at(&mut self, path: &JsonPointer) -> &'a [Value] {
        match self.get(path) {
            None => &[],
            Some(Value::Array(items)) => items.as_slice(),
            Some(other) => {
                self.mismatch(path, "a list", other);
                &[]
            }
        }
    }

    /// A mapping field (see [`Context::bool_at`] for mismatches).
    pub fn map_at(&mut self, path: &JsonPointer) -> Option<&'a Map<String, Value>> {
        match self.get(path)? {
            Value::Object(map) => Some(map),
            other => {
                self.mismatch(path, "a mapping", other);
                None
            }
        }
    }

    /// The pod spec's pointer for a field, such as `hostNetwork`.
    pub fn pod_field(&self, name: &str) -> JsonPointer {
        self.pod.map(|p| p.field(name)).unwrap_or_default()
    }

    /// Every container of the pod spec (regular, init, ephemeral). A `containers` field of the
    /// wrong type is reported as a type mismatch.
    pub fn containers(&mut self) -> &'a [Container<'a>] {
        if self.pod.is_none() {
            return &[];
        }
        let facts = self.pod_facts;
        for (path, value) in &facts.not_lists {
            self.mismatch(path, "a list", value);
        }
        &facts.containers
    }

    /// Every container of the pod spec that names an image (not blank), with the image's
    /// pointer and the image as written. A non-string image is reported as a type mismatch.
    pub fn container_images(&mut self) -> Vec<(&'a Container<'a>, JsonPointer, &'a str)> {
        let mut out = Vec::new();
        for container in self.containers() {
            let path = container.field(&["image"]);
            if let Some(image) = self.str_at(&path).filter(|i| !i.trim().is_empty()) {
                out.push((container, path, image));
            }
        }
        out
    }

    /// A security-context field as the kubelet applies it: the container's value when set,
    /// otherwise the pod's. Returns the value and the pointer it came from.
    pub fn effective_security_bool(
        &mut self,
        container: &Container<'_>,
        field: &str,
    ) -> Option<(bool, JsonPointer)> {
        let own = container.field(&["securityContext", field]);
        if let Some(v) = self.bool_at(&own) {
            return Some((v, own));
        }
        let pod = self.pod_field("securityContext").join(field);
        self.bool_at(&pod).map(|v| (v, pod))
    }

    /// Integer variant of [`Context::effective_security_bool`].
    pub fn effective_security_int(
        &mut self,
        container: &Container<'_>,
        field: &str,
    ) -> Option<(i64, JsonPointer)> {
        let own = container.field(&["securityContext", field]);
        if let Some(v) = self.int_at(&own) {
            return Some((v, own));
        }
        let pod = self.pod_field("securityContext").join(field);
        self.int_at(&pod).map(|v| (v, pod))
    }

    /// Whether `other` lives where this object lives: the same namespace, or, for objects
    /// written without one (they land wherever they are applied), the same directory or
    /// rendered unit. Cross-object rules look up related objects (NetworkPolicies,
    /// ServiceAccounts, Roles) with this, so that unrelated projects scanned together do not
    /// vouch for each other.
    pub fn same_scope(&self, other: &Object) -> bool {
        if self.object.id.namespace != other.id.namespace {
            return false;
        }
        if self.object.id.namespace.is_some() {
            return true;
        }
        self.inventory.scope_of(self.object) == self.inventory.scope_of(other)
    }

    /// Every place a security-context field can be set, each with how messages name it: the
    /// pod's `securityContext.<field>` ("the pod"), then each container's.
    pub fn security_context_places(&mut self, field: &str) -> Vec<(JsonPointer, String)> {
        let mut places = vec![(
            self.pod_field("securityContext").join(field),
            "the pod".to_string(),
        )];
        for container in self.containers() {
            places.push((
                container.field(&["securityContext", field]),
                container.describe(),
            ));
        }
        places
    }

    /// The pod spec's volumes that are mappings: their pointer, name (`?` when missing) and
    /// value. A `volumes` field of the wrong type is reported as a type mismatch.
    pub fn volumes(&mut self) -> Vec<(JsonPointer, &'a str, &'a Map<String, Value>)> {
        let path = self.pod_field("volumes");
        self.array_at(&path)
            .iter()
            .enumerate()
            .filter_map(|(i, v)| {
                let volume = v.as_object()?;
                let name = volume.get("name").and_then(Value::as_str).unwrap_or("?");
                Some((path.join(i), name, volume))
            })
            .collect()
    }

    /// A pointer to a field of the pod (template) metadata, such as `annotations`.
    pub fn pod_metadata_field(&self, name: &str) -> JsonPointer {
        self.pod
            .and_then(|p| JsonPointer::parse(p.metadata_pointer))
            .unwrap_or_default()
            .join(name)
    }

    /// The pod (template) annotations.
    pub fn pod_annotations(&mut self) -> Option<&'a Map<String, Value>> {
        let path = self.pod_metadata_field("annotations");
        self.map_at(&path)
    }

    /// The pod (template) labels.
    pub fn pod_labels(&mut self) -> Option<&'a Map<String, Value>> {
        let path = self.pod_metadata_field("labels");
        self.map_at(&path)
    }

    /// A mapping-valued security-context field (`seccompProfile`, `seLinuxOptions`,
    /// `appArmorProfile`) as the kubelet applies it: the container's when set, else the pod's.
    pub fn effective_security_map(
        &mut self,
        container: &Container<'_>,
        field: &str,
    ) -> Option<(&'a Map<String, Value>, JsonPointer)> {
        let own = container.field(&["securityContext", field]);
        if let Some(v) = self.map_at(&own) {
            return Some((v, own));
        }
        let pod = self.pod_field("securityContext").join(field);
        self.map_at(&pod).map(|v| (v, pod))
    }

    /// The strings of a list field; items of another type are reported as mismatches.
    pub fn strings_at(&mut self, path: &JsonPointer) -> Vec<(usize, &'a str)> {
        let items = self.array_at(path);
        let mut out = Vec::with_capacity(items.len());
        for (i, item) in items.iter().enumerate() {
            match item {
                Value::String(s) => out.push((i, s.as_str())),
                other => self.mismatch(&path.join(i), "a string", other),
            }
        }
        out
    }

    /// Whether the pod declares itself a Windows pod (`spec.os.name: windows`), to which Linux
    /// user and privilege settings do not apply.
    pub fn is_windows_pod(&mut self) -> bool {
        let path = self.pod_field("os").join("name");
        self.str_at(&path) == Some("windows")
    }
}

fn truncate(s: &str) -> String {
    if s.chars().count() > 40 {
        format!("{}...", s.chars().take(40).collect::<String>())
    } else {
        s.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::{Context, Derived, NameIndex, ObjectMemo};

    /// A memo is made once per object while rules ask about it in turn, and made again for
    /// the next object.
    #[test]
    fn an_object_memo_is_made_once_per_object() {
        let text = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\n---\n\
                    apiVersion: v1\nkind: ConfigMap\nmetadata: {name: b}\n";
        let loaded = palisade_inventory::load_text("x.yaml", text, &Default::default());
        let inventory = &loaded.inventory;
        let (derived, memo) = (Derived::default(), ObjectMemo::default());
        let settings = crate::RuleSettings::default();
        let made = std::cell::Cell::new(0);
        let ask = |index: usize| {
            let cx = Context::new(
                index,
                &inventory.objects[index],
                inventory,
                None,
                &settings,
                (&derived, &memo),
                (None, None),
            );
            *cx.object_memo(|| {
                made.set(made.get() + 1);
                index
            })
        };
        assert_eq!((ask(0), ask(0)), (0, 0));
        assert_eq!(made.get(), 1);
        assert_eq!((ask(1), ask(1)), (1, 1));
        assert_eq!(made.get(), 2);
    }

    /// A lookup finds every object of the kind with the name in the namespace, in inventory
    /// order, and nothing of another kind, group, namespace or name.
    #[test]
    fn the_name_index_finds_objects_by_their_identity() {
        let objects = [
            ("v1", "ServiceAccount", "app", "a"),
            ("v1", "ConfigMap", "app", "a"),
            ("apps/v1", "Deployment", "app", "a"),
            ("v1", "ServiceAccount", "app", "b"),
            ("v1", "ServiceAccount", "other", "a"),
        ];
        let text: String = objects
            .iter()
            .map(|(version, kind, name, namespace)| {
                format!(
                    "apiVersion: {version}\nkind: {kind}\n\
                     metadata: {{name: {name}, namespace: {namespace}}}\n---\n"
                )
            })
            .collect();
        let loaded = palisade_inventory::load_text("x.yaml", &text, &Default::default());
        let inventory = &loaded.inventory;
        let index = NameIndex::build(inventory);
        let find = |kind: (&str, &str), namespace: &str, name: &str| {
            index.find(inventory, kind, Some(namespace), name)
        };
        assert_eq!(find(("", "ServiceAccount"), "a", "app"), vec![0]);
        assert_eq!(find(("", "ServiceAccount"), "b", "app"), vec![3]);
        assert_eq!(find(("", "ServiceAccount"), "a", "other"), vec![4]);
        assert_eq!(find(("", "ConfigMap"), "a", "app"), vec![1]);
        assert_eq!(find(("apps", "Deployment"), "a", "app"), vec![2]);
        assert!(find(("", "Deployment"), "a", "app").is_empty());
        assert!(find(("", "ServiceAccount"), "c", "app").is_empty());
        assert!(find(("", "ServiceAccount"), "a", "missing").is_empty());
        assert!(
            index
                .find(inventory, ("", "ServiceAccount"), None, "app")
                .is_empty()
        );
    }

    /// What the cluster was before an object is asked only for the objects a rule that
    /// compares judges (RBAC021: bindings, Services, ...), not for a Deployment (RBAC017
    /// judges it), and only while some such rule runs.
    #[test]
    fn a_before_is_asked_only_for_what_a_comparing_rule_judges() {
        let text = "apiVersion: rbac.authorization.k8s.io/v1\nkind: RoleBinding\n\
                    metadata: {name: b, namespace: a}\nroleRef: {kind: Role, name: r}\n---\n\
                    apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: d, namespace: a}\n";
        let loaded = palisade_inventory::load_text("x.yaml", text, &Default::default());
        let [binding, deployment] = [0, 1].map(|i| &loaded.inventory.objects[i]);
        let all = crate::registry::all_rules();
        let models = super::ClusterModels::prepare(&loaded.inventory, all);
        assert!(models.compares_before(binding));
        assert!(!models.compares_before(deployment));
        let without: Vec<&dyn crate::Rule> = all
            .iter()
            .copied()
            .filter(|r| r.only_against_a_cluster().is_none())
            .collect();
        let models = super::ClusterModels::prepare(&loaded.inventory, &without);
        assert!(!models.compares_before(binding));
    }
}
