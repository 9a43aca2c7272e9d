//! A live cluster kept in memory: every type [`capture`](crate::capture) reads is listed once
//! and then followed through the API server's watch, so a scan of the cluster as it is now
//! needs no new read. kube-runtime's watcher speaks the protocol: it resumes a broken watch
//! from the last resourceVersion seen, and lists again (an `Init` ... `InitDone` run) when the
//! API server has compacted past it (`410 Gone`). The few types that serve `list` but not
//! `watch` are listed again every [`WatchOptions::relist`].
//!
//! Memory is bounded by what the cluster holds, not by how often it changes: each object is
//! kept once, as compact JSON without `managedFields` or `resourceVersion` (a
//! `serde_json::Value` takes several times its text), and an object updated without a change
//! the scan could see (a new resourceVersion alone) does not count as a change. A change of
//! an object's `status` alone, which controllers write many times an hour, is counted apart
//! ([`Changes`]): no built-in rule reads it (but a StatefulSet's,
//! [`palisade_inventory::powers::status_is_read`]), so a reader that runs only those need
//! not scan again for it.
//!
//! A type is *listing* until its first list has been read, *current* afterwards, and
//! *failed* when its list was refused or did not answer. A snapshot names the types not
//! current among its errors, as [`capture`](crate::capture) names those it could not list, so
//! a scan says what it did not see.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Debug;
use std::hash::{BuildHasher as _, Hasher as _, RandomState};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use futures::StreamExt as _;
use kube::api::Api;
use kube::core::{ApiResource, DynamicObject, GroupVersionKind, PartialObjectMeta};
use kube::runtime::WatchStreamExt as _;
use kube::runtime::watcher::{self, Event};
use kube::{Client, Resource};
use palisade_core::tree::Tree as _;
use palisade_snapshot::format::ListedResource;
use palisade_snapshot::{ListError, Snapshot, SnapshotHeader, SnapshotMeta};
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::Value;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use crate::{CaptureError, CaptureOptions, Discovered, ResourceType, classify};

/// How the cluster is followed.
#[derive(Debug, Clone)]
pub struct WatchOptions {
    /// Kubeconfig, context, namespaces, timeouts, lists in flight while listing, page size,
    /// Secret values: as a capture reads.
    pub capture: CaptureOptions,
    /// How often a type that cannot be watched is listed again.
    pub relist: Duration,
}

impl Default for WatchOptions {
    fn default() -> Self {
        WatchOptions {
            capture: CaptureOptions::default(),
            relist: Duration::from_secs(300),
        }
    }
}

/// Where a type is in being followed.
#[derive(Debug, Clone)]
enum Status {
    /// Its first list has not been read yet.
    Listing,
    /// Read, and followed since.
    Current,
    /// Its list failed (refused, not found, did not answer); retried with backoff.
    Failed(ListError),
}

/// One type in one scope (the whole cluster, or one of the namespaces asked for).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
struct Scope {
    group: String,
    resource: String,
    namespace: Option<String>,
}

/// An object as kept.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Kept {
    /// Its compact JSON.
    text: Box<str>,
    /// A digest of it but its `status`, where no built-in rule reads that: when only the text
    /// changes, only the status did.
    judged: u64,
}

/// Objects kept, by namespace and name.
type Objects = BTreeMap<(String, String), Kept>;

/// What a change is to a scan.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Changed {
    No,
    /// Objects' status alone, where no built-in rule reads it.
    StatusAlone,
    /// Something a built-in rule reads (an object added, deleted or changed, a type listed
    /// or failing).
    Judged,
}

impl From<bool> for Changed {
    fn from(changed: bool) -> Changed {
        if changed {
            Changed::Judged
        } else {
            Changed::No
        }
    }
}

/// How `new` differs from `old`, read as `new` replacing them whole.
fn compared(old: &Objects, new: &Objects) -> Changed {
    let judged_alike = old.len() == new.len()
        && old
            .iter()
            .zip(new)
            .all(|((a_key, a), (b_key, b))| a_key == b_key && a.judged == b.judged);
    match (judged_alike, old == new) {
        (false, _) => Changed::Judged,
        (true, false) => Changed::StatusAlone,
        (true, true) => Changed::No,
    }
}

/// The changes seen so far, counted two ways: `changed().await` on
/// [`Watched::changes`] wakes on each.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Changes {
    /// Every change: a type listed or failing, an object added, changed or deleted.
    pub all: u64,
    /// Those but the changes of objects' status alone, where no built-in rule reads it
    /// ([`palisade_inventory::powers::status_is_read`]).
    pub judged: u64,
}

impl Changes {
    /// The count a reader compares: [`Changes::all`] when what it runs may read any status
    /// (a user's policy), [`Changes::judged`] when it runs built-in rules only.
    pub fn count(&self, statuses_read: bool) -> u64 {
        if statuses_read { self.all } else { self.judged }
    }
}

/// A type's objects in one scope, by namespace and name.
struct Followed {
    t: ResourceType,
    status: Status,
    objects: Objects,
    /// The objects of a list in progress, which replace `objects` when it ends.
    listing: Option<Objects>,
    /// What a current read could not read of it (the nodes whose kubelet did not answer).
    problems: Vec<ListError>,
}

/// What the followers write and the readers read.
struct Shared {
    scopes: Mutex<BTreeMap<Scope, Followed>>,
    /// Counts the changes a scan could see; readers wait on it.
    generation: tokio::sync::watch::Sender<Changes>,
    /// Keys the digests of [`Kept::judged`], so that no object can be written to collide.
    digest: RandomState,
    /// Watches broken and resumed (or listed again), for the metrics.
    interruptions: std::sync::atomic::AtomicU64,
    secret_values: bool,
    /// The groups that could not be discovered, at the last discovery: in every snapshot's
    /// errors.
    undiscovered: Mutex<Vec<ListError>>,
    /// Each scope's follower, to stop it when its type is no longer served.
    followers: Mutex<BTreeMap<Scope, tokio::task::AbortHandle>>,
}

impl Shared {
    fn scopes(&self) -> MutexGuard<'_, BTreeMap<Scope, Followed>> {
        // A follower that panicked mid-update leaves maps that are still whole.
        self.scopes
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Runs `change` on `scope`'s state; counts a change when it says it made one.
    fn update(&self, scope: &Scope, change: impl FnOnce(&mut Followed) -> Changed) {
        let mut scopes = self.scopes();
        let changed = scopes.get_mut(scope).map_or(Changed::No, change);
        self.count(&scopes, changed);
    }

    /// Counts a change, with the state it changed still locked (`_held`): a reader that sees
    /// the new state sees it counted. Counted after the lock, a reader could see every type
    /// listed, read the count without the last list, and scan again at once.
    fn count(&self, _held: &MutexGuard<'_, BTreeMap<Scope, Followed>>, changed: Changed) {
        match changed {
            Changed::No => {}
            Changed::StatusAlone => self.generation.send_modify(|c| c.all += 1),
            Changed::Judged => self.generation.send_modify(|c| {
                c.all += 1;
                c.judged += 1;
            }),
        }
    }

    /// `value` as kept ([`kept_form`]).
    fn kept(&self, value: &mut Value) -> Option<((String, String), Kept)> {
        kept_form(value, &self.digest)
    }
}

/// How many objects, and how much of them, are kept; how the types stand.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct WatchStats {
    pub types: usize,
    pub listing: usize,
    pub failed: usize,
    pub objects: usize,
    /// Bytes of kept JSON.
    pub bytes: usize,
    pub interruptions: u64,
    /// The changes seen so far.
    pub changes: Changes,
}

/// A live cluster followed in memory. Dropping it stops following.
pub struct Watched {
    shared: Arc<Shared>,
    meta: SnapshotMeta,
    /// Discovers again every `relist`, following the types served since and stopping
    /// those no longer served.
    discoverer: tokio::task::AbortHandle,
}

impl Drop for Watched {
    fn drop(&mut self) {
        self.discoverer.abort();
        let followers = self
            .shared
            .followers
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        for follower in followers.values() {
            follower.abort();
        }
    }
}

/// Connects, discovers and starts following every type. Returns once following has started;
/// [`Watched::changes`] says when the first lists are read ([`Watched::settled`]). The
/// types are discovered again every `relist`: a type served since (a CustomResource
/// Definition created later, a Gatekeeper template's constraint kind) is followed from then,
/// and one no longer served is dropped.
pub async fn watch(options: &WatchOptions) -> Result<Watched, CaptureError> {
    let Discovered {
        client,
        context,
        server,
        version,
        types,
        errors,
    } = crate::connect_and_discover(&options.capture).await?;
    let (generation, _) = tokio::sync::watch::channel(Changes::default());
    let shared = Arc::new(Shared {
        scopes: Mutex::new(BTreeMap::new()),
        generation,
        digest: RandomState::new(),
        interruptions: Default::default(),
        secret_values: options.capture.secret_values,
        undiscovered: Mutex::new(errors),
        followers: Mutex::new(BTreeMap::new()),
    });
    let following = Following {
        client,
        shared: shared.clone(),
        options: options.clone(),
        // Lists in flight at once while listing: a follower holds a permit until its first
        // list is read (or fails).
        permits: Arc::new(Semaphore::new(options.capture.concurrency.max(1))),
    };
    following.follow_new(types);
    let discoverer = tokio::spawn(async move {
        loop {
            tokio::time::sleep(following.options.relist).await;
            following.discover_again().await;
        }
    })
    .abort_handle();
    Ok(Watched {
        shared,
        meta: SnapshotMeta {
            captured_at: String::new(),
            context: Some(context),
            server: Some(server),
            cluster_version: version,
            namespaces: options.capture.namespaces.clone(),
            palisade_version: env!("CARGO_PKG_VERSION").into(),
            secret_values: options.capture.secret_values,
        },
        discoverer,
    })
}

/// What starts followers.
struct Following {
    client: Client,
    shared: Arc<Shared>,
    options: WatchOptions,
    permits: Arc<Semaphore>,
}

impl Following {
    /// The scopes `t` is followed in: the whole cluster, or each namespace asked for.
    fn scopes_of(&self, t: &ResourceType) -> Vec<Scope> {
        let namespaces = &self.options.capture.namespaces;
        let within: Vec<Option<String>> = if t.namespaced && !namespaces.is_empty() {
            namespaces.iter().cloned().map(Some).collect()
        } else {
            vec![None]
        };
        within
            .into_iter()
            .map(|namespace| Scope {
                group: t.group.clone(),
                resource: t.resource.clone(),
                namespace,
            })
            .collect()
    }

    /// Starts following each of `types` not followed yet (and the kubelets' configurations,
    /// when asked, the first time); whether any was new.
    fn follow_new(&self, types: Vec<ResourceType>) -> bool {
        let kubelets = self
            .options
            .capture
            .kubelet_configs
            .then(|| crate::KUBELET_CONFIG.clone());
        let mut started = false;
        for t in types.into_iter().chain(kubelets) {
            for scope in self.scopes_of(&t) {
                if self.shared.scopes().contains_key(&scope) {
                    continue;
                }
                self.shared.scopes().insert(
                    scope.clone(),
                    Followed {
                        t: t.clone(),
                        status: Status::Listing,
                        objects: BTreeMap::new(),
                        listing: None,
                        problems: Vec::new(),
                    },
                );
                let follower = Follower {
                    client: self.client.clone(),
                    shared: self.shared.clone(),
                    t: t.clone(),
                    scope: scope.clone(),
                    options: self.options.clone(),
                };
                let permits = self.permits.clone();
                let task = tokio::spawn(async move {
                    let Ok(permit) = permits.acquire_owned().await else {
                        return;
                    };
                    follower.run(permit).await;
                });
                let mut followers = self
                    .shared
                    .followers
                    .lock()
                    .unwrap_or_else(std::sync::PoisonError::into_inner);
                followers.insert(scope, task.abort_handle());
                started = true;
            }
        }
        started
    }

    /// Discovers again: follows the types served since, drops those no longer served (a
    /// type of a group that did not answer is kept), and keeps the groups that did not
    /// answer for the snapshots' errors.
    async fn discover_again(&self) {
        let mut errors = Vec::new();
        let timeout = self.options.capture.request_timeout;
        let types = crate::discover(&self.client, timeout, &mut errors).await;
        if types.is_empty() {
            // Nothing answered: keep following what is followed.
            return;
        }
        let unanswered: BTreeSet<&str> = errors.iter().map(|e| e.group.as_str()).collect();
        let served: BTreeSet<Scope> = types.iter().flat_map(|t| self.scopes_of(t)).collect();
        let gone: Vec<Scope> = self
            .shared
            .scopes()
            .iter()
            .filter(|(scope, f)| {
                f.t.resource != crate::KUBELET_CONFIG.resource
                    && !served.contains(*scope)
                    && !unanswered.contains(scope.group.as_str())
                    && !unanswered.contains("*")
            })
            .map(|(scope, _)| scope.clone())
            .collect();
        let changed_errors = {
            let mut undiscovered = self
                .shared
                .undiscovered
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            std::mem::replace(&mut *undiscovered, errors) != *undiscovered
        };
        for scope in &gone {
            let mut followers = self
                .shared
                .followers
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            if let Some(follower) = followers.remove(scope) {
                follower.abort();
            }
            drop(followers);
            self.shared.scopes().remove(scope);
        }
        let started = self.follow_new(types);
        let scopes = self.shared.scopes();
        self.shared.count(
            &scopes,
            (started || !gone.is_empty() || changed_errors).into(),
        );
    }
}

/// The counts of a followed cluster ([`Watched::stats_source`]).
#[derive(Clone)]
pub struct StatsSource(Arc<Shared>);

impl StatsSource {
    /// How many objects and types are followed and how they stand, as of now.
    pub fn stats(&self) -> WatchStats {
        let scopes = self.0.scopes();
        let mut stats = WatchStats {
            types: scopes.len(),
            interruptions: self
                .0
                .interruptions
                .load(std::sync::atomic::Ordering::Relaxed),
            changes: *self.0.generation.borrow(),
            ..WatchStats::default()
        };
        for followed in scopes.values() {
            match followed.status {
                Status::Listing => stats.listing += 1,
                Status::Failed(_) => stats.failed += 1,
                Status::Current => {}
            }
            stats.objects += followed.objects.len();
            stats.bytes += followed
                .objects
                .values()
                .map(|o| o.text.len())
                .sum::<usize>();
        }
        stats
    }
}

impl Watched {
    /// A receiver whose value counts the changes seen so far (a type listed or failing, an
    /// object added, changed or deleted; apart, of objects' status alone):
    /// `changed().await` wakes on the next.
    pub fn changes(&self) -> tokio::sync::watch::Receiver<Changes> {
        self.shared.generation.subscribe()
    }

    /// The kubeconfig context followed (`in-cluster` for the pod's own service account).
    pub fn context(&self) -> String {
        self.meta.context.clone().unwrap_or_default()
    }

    /// Whether every type's first list has been read or has failed.
    pub fn settled(&self) -> bool {
        self.shared
            .scopes()
            .values()
            .all(|f| !matches!(f.status, Status::Listing))
    }

    /// How many objects and types are followed and how they stand, as of now.
    pub fn stats(&self) -> WatchStats {
        self.stats_source().stats()
    }

    /// What [`Watched::stats`] reads, to be read while the cluster is followed (a metrics
    /// endpoint).
    pub fn stats_source(&self) -> StatsSource {
        StatsSource(self.shared.clone())
    }

    /// The names of the cluster's Namespaces as followed now; `None` while they are not
    /// current (still listing, or failed). Read from the keys: no object is parsed.
    pub fn namespace_names(&self) -> Option<Vec<String>> {
        let scopes = self.shared.scopes();
        let (_, followed) = scopes
            .iter()
            .find(|(_, f)| f.t.group.is_empty() && f.t.resource == "namespaces")?;
        matches!(followed.status, Status::Current).then(|| {
            followed
                .objects
                .keys()
                .map(|(_, name)| name.clone())
                .collect()
        })
    }

    /// Refuses to follow namespaces of `asked` the cluster does not have, when its Namespaces
    /// are followed ([`palisade_snapshot::namespaces::check`]).
    pub fn has_namespaces(&self, asked: &[String]) -> Result<(), CaptureError> {
        let names = self.namespace_names();
        palisade_snapshot::namespaces::check(
            &self.context(),
            names.as_ref().map(|n| n.iter().map(String::as_str)),
            asked,
        )?;
        Ok(())
    }

    /// The cluster as followed now, as [`capture`](crate::capture) would have read it: the
    /// types not current (still listing, or failed) are errors and hold no object.
    pub fn snapshot(&self) -> Snapshot {
        let mut errors = self
            .shared
            .undiscovered
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clone();
        let mut resources: Vec<ListedResource> = Vec::new();
        let items;
        {
            let scopes = self.shared.scopes();
            let mut texts: Vec<&str> = Vec::new();
            for (scope, followed) in scopes.iter() {
                let t = &followed.t;
                match &followed.status {
                    Status::Current => errors.extend(followed.problems.iter().cloned()),
                    Status::Listing => {
                        errors.push(t.error(
                            scope.namespace.as_deref(),
                            None,
                            "not-listed-yet",
                            "its first list has not been read yet".into(),
                        ));
                        continue;
                    }
                    Status::Failed(error) => {
                        errors.push(error.clone());
                        continue;
                    }
                }
                crate::count_listed(&mut resources, t, followed.objects.len());
                texts.extend(followed.objects.values().map(|kept| &*kept.text));
            }
            items = parse_kept(&texts);
        }
        errors.sort_by(|a, b| {
            (&a.group, &a.resource, &a.namespace).cmp(&(&b.group, &b.resource, &b.namespace))
        });
        Snapshot {
            header: SnapshotHeader {
                metadata: SnapshotMeta {
                    captured_at: palisade_core::date::utc_now_rfc3339(),
                    ..self.meta.clone()
                },
                errors,
                resources,
            },
            items,
        }
    }
}

/// The objects kept as `texts`, in order, parsed on every core: at 50,000 pods, parsing
/// them on one thread was a fifth of a scan.
fn parse_kept(texts: &[&str]) -> Vec<Value> {
    palisade_core::parallel::map_runs(texts, 512, |run| {
        run.iter()
            // Kept from what serde_json wrote: always JSON.
            .filter_map(|text| serde_json::from_str::<Value>(text).ok())
            .collect::<Vec<_>>()
    })
    .into_iter()
    .flatten()
    .collect()
}

/// Follows one type in one scope.
struct Follower {
    client: Client,
    shared: Arc<Shared>,
    t: ResourceType,
    scope: Scope,
    options: WatchOptions,
}

impl Follower {
    async fn run(self, permit: OwnedSemaphorePermit) {
        let resource = ApiResource::from_gvk_with_plural(
            &GroupVersionKind::gvk(&self.t.group, &self.t.version, &self.t.kind),
            &self.t.resource,
        );
        if self.t.resource == crate::KUBELET_CONFIG.resource {
            return self.kubelets(permit).await;
        }
        if !self.t.watchable {
            return self.relist(permit).await;
        }
        let config = watcher::Config::default().page_size(self.options.capture.page_size);
        let namespace = self.scope.namespace.as_deref();
        if self.t.is_secrets() && !self.shared.secret_values {
            let api: Api<PartialObjectMeta<DynamicObject>> = match namespace {
                Some(ns) => Api::namespaced_with(self.client.clone(), ns, &resource),
                None => Api::all_with(self.client.clone(), &resource),
            };
            self.follow(api, config, permit).await;
        } else {
            let api: Api<DynamicObject> = match namespace {
                Some(ns) => Api::namespaced_with(self.client.clone(), ns, &resource),
                None => Api::all_with(self.client.clone(), &resource),
            };
            self.follow(api, config, permit).await;
        }
    }

    /// Applies the watcher's events to the scope's objects until the stream ends (it does
    /// not: errors are retried with kube's default backoff).
    async fn follow<K>(&self, api: Api<K>, config: watcher::Config, permit: OwnedSemaphorePermit)
    where
        K: Resource + Clone + DeserializeOwned + Serialize + Debug + Send + 'static,
    {
        let mut permit = Some(permit);
        let stream = watcher::watcher(api, config).default_backoff();
        let mut stream = std::pin::pin!(stream);
        while let Some(event) = stream.next().await {
            match event {
                Ok(Event::Init) => self.shared.update(&self.scope, |f| {
                    f.listing = Some(BTreeMap::new());
                    Changed::No
                }),
                Ok(Event::InitApply(object)) => {
                    let Some((key, kept)) = self.kept(&object) else {
                        continue;
                    };
                    self.shared.update(&self.scope, |f| {
                        f.listing.get_or_insert_default().insert(key, kept);
                        Changed::No
                    });
                }
                Ok(Event::InitDone) => {
                    permit.take();
                    self.shared.update(&self.scope, |f| {
                        let listed = f.listing.take().unwrap_or_default();
                        let changed = match f.status {
                            Status::Current => compared(&f.objects, &listed),
                            _ => Changed::Judged,
                        };
                        f.objects = listed;
                        f.status = Status::Current;
                        changed
                    });
                }
                Ok(Event::Apply(object)) => {
                    let Some((key, kept)) = self.kept(&object) else {
                        continue;
                    };
                    self.shared.update(&self.scope, |f| {
                        let judged = kept.judged;
                        match f.objects.insert(key, kept.clone()) {
                            Some(old) if old == kept => Changed::No,
                            Some(old) if old.judged == judged => Changed::StatusAlone,
                            _ => Changed::Judged,
                        }
                    });
                }
                Ok(Event::Delete(object)) => {
                    let Some((key, _)) = self.kept(&object) else {
                        continue;
                    };
                    self.shared
                        .update(&self.scope, |f| f.objects.remove(&key).is_some().into());
                }
                Err(watcher::Error::InitialListFailed(error)) => {
                    permit.take();
                    let (status, reason, message) = classify(&error);
                    let error =
                        self.t
                            .error(self.scope.namespace.as_deref(), status, reason, message);
                    self.shared.update(&self.scope, |f| {
                        f.listing = None;
                        let changed = !matches!(&f.status, Status::Failed(e) if *e == error);
                        f.status = Status::Failed(error);
                        changed.into()
                    });
                }
                // The watch broke or expired: the watcher resumes it, or lists again.
                Err(_) => {
                    self.shared
                        .interruptions
                        .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                }
            }
        }
    }

    /// A type that serves `list` but not `watch`: listed now and every `relist`.
    async fn relist(&self, permit: OwnedSemaphorePermit) {
        let mut permit = Some(permit);
        loop {
            let read = crate::list_all(
                &self.client,
                &self.t,
                self.scope.namespace.as_deref(),
                &self.options.capture,
            )
            .await;
            permit.take();
            let read = read.map(|items| {
                items
                    .into_iter()
                    .filter_map(|mut item| self.shared.kept(&mut item))
                    .collect::<Objects>()
            });
            self.shared.update(&self.scope, |f| match read {
                Ok(listed) => {
                    let changed = match f.status {
                        Status::Current => compared(&f.objects, &listed),
                        _ => Changed::Judged,
                    };
                    f.objects = listed;
                    f.status = Status::Current;
                    changed
                }
                Err(error) => {
                    let changed = !matches!(&f.status, Status::Failed(e) if *e == error);
                    f.status = Status::Failed(error);
                    changed.into()
                }
            });
            tokio::time::sleep(self.options.relist).await;
        }
    }

    /// The nodes' kubelet configurations (`--kubelet-configs`: not objects, so not
    /// watched), read through the node proxy for the nodes held, once they are listed, and
    /// again every `relist`. A refusal (no `get` on `nodes/proxy`) fails the type; a node
    /// whose kubelet did not answer is one of its problems.
    async fn kubelets(&self, permit: OwnedSemaphorePermit) {
        let nodes = Scope {
            group: String::new(),
            resource: "nodes".into(),
            namespace: None,
        };
        let mut permit = Some(permit);
        loop {
            let names = loop {
                let held = self.shared.scopes().get(&nodes).map(|f| {
                    let listed = !matches!(f.status, Status::Listing);
                    (
                        listed,
                        f.objects.keys().map(|(_, name)| name.clone()).collect(),
                    )
                });
                match held {
                    Some((true, names)) => break names,
                    None => break Vec::new(),
                    Some((false, _)) => tokio::time::sleep(Duration::from_millis(200)).await,
                }
            };
            let (configs, failed) =
                crate::kubelet_configs(&self.client, names, &self.options.capture).await;
            permit.take();
            let refused = failed
                .iter()
                .find(|e| matches!(e.status, Some(401 | 403)))
                .filter(|_| configs.is_empty())
                .cloned();
            let read: Objects = configs
                .into_iter()
                .filter_map(|mut config| self.shared.kept(&mut config))
                .collect();
            self.shared.update(&self.scope, |f| match refused {
                Some(error) => {
                    let changed = !matches!(&f.status, Status::Failed(e) if *e == error);
                    f.status = Status::Failed(error);
                    changed.into()
                }
                None => {
                    let changed = !matches!(f.status, Status::Current)
                        || read != f.objects
                        || failed != f.problems;
                    (f.objects, f.problems, f.status) = (read, failed, Status::Current);
                    changed.into()
                }
            });
            tokio::time::sleep(self.options.relist).await;
        }
    }

    /// The object's key and what is kept of it.
    fn kept<K: Serialize>(&self, object: &K) -> Option<((String, String), Kept)> {
        let mut value = serde_json::to_value(object).ok()?;
        crate::prepare_item(&self.t, &mut value, self.shared.secret_values);
        self.shared.kept(&mut value)
    }
}

/// What is kept of an object made ready as a snapshot holds it: without what changes on
/// every write and no rule reads (`managedFields`, `resourceVersion`), as compact JSON, keyed
/// by namespace and name, with the digest of [`Kept::judged`] keyed by `digest`.
fn kept_form(value: &mut Value, digest: &RandomState) -> Option<((String, String), Kept)> {
    if let Some(metadata) = value.get_mut("metadata").and_then(Value::as_object_mut) {
        metadata.remove("managedFields");
        metadata.remove("resourceVersion");
    }
    let text = |pointer: &str| {
        value
            .at(pointer)
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string()
    };
    let key = (text("/metadata/namespace"), text("/metadata/name"));
    if key.1.is_empty() {
        return None;
    }
    let text = serde_json::to_string(value).ok()?.into_boxed_str();
    let group = value
        .get("apiVersion")
        .and_then(Value::as_str)
        .map_or("", palisade_core::object::api_group);
    let kind = value
        .get("kind")
        .and_then(Value::as_str)
        .unwrap_or_default();
    let status_read = palisade_inventory::powers::status_is_read(group, kind);
    let mut hasher = digest.build_hasher();
    match value.as_object_mut() {
        Some(map) if !status_read => {
            let status = map.shift_remove("status");
            hasher.write(serde_json::to_string(map).ok()?.as_bytes());
            if let Some(status) = status {
                map.insert("status".into(), status);
            }
        }
        _ => hasher.write(text.as_bytes()),
    }
    let judged = hasher.finish();
    Some((key, Kept { text, judged }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kept_objects_are_parsed_in_their_order() {
        let texts: Vec<String> = (0..5_000).map(|i| format!("{{\"n\":{i}}}")).collect();
        let refs: Vec<&str> = texts.iter().map(String::as_str).collect();
        let parsed = parse_kept(&refs);
        assert_eq!(parsed.len(), 5_000);
        assert!(
            parsed
                .iter()
                .enumerate()
                .all(|(i, v)| v["n"].as_u64() == Some(i as u64))
        );
    }

    #[test]
    fn keeps_objects_without_what_every_write_changes() {
        let mut object = serde_json::json!({
            "metadata": {"name": "a", "namespace": "n", "resourceVersion": "7",
                         "managedFields": [{"manager": "kubectl"}], "labels": {"x": "y"}},
            "spec": {}
        });
        let digest = RandomState::new();
        let (key, kept) = kept_form(&mut object, &digest).unwrap();
        assert_eq!(key, ("n".to_string(), "a".to_string()));
        assert_eq!(
            &*kept.text,
            r#"{"metadata":{"name":"a","namespace":"n","labels":{"x":"y"}},"spec":{}}"#
        );
        assert!(kept_form(&mut serde_json::json!({"metadata": {}}), &digest).is_none());
    }

    fn kept(digest: &RandomState, kind: &str, spec: &str, status: &str) -> Objects {
        let api_version = if kind == "Pod" { "v1" } else { "apps/v1" };
        let mut object = serde_json::json!({
            "apiVersion": api_version, "kind": kind,
            "metadata": {"name": "a", "namespace": "n"},
            "spec": {"image": spec}, "status": {"phase": status}
        });
        kept_form(&mut object, digest).into_iter().collect()
    }

    #[test]
    fn a_change_of_status_alone_is_told_apart_where_no_rule_reads_it() {
        let digest = RandomState::new();
        let pod = |spec, status| kept(&digest, "Pod", spec, status);
        let running = pod("app:1", "Running");
        assert_eq!(compared(&running, &pod("app:1", "Running")), Changed::No);
        assert_eq!(
            compared(&pod("app:1", "Pending"), &running),
            Changed::StatusAlone
        );
        assert_eq!(
            compared(&pod("app:2", "Running"), &running),
            Changed::Judged
        );
        assert_eq!(compared(&Objects::new(), &running), Changed::Judged);
        assert_eq!(compared(&running, &Objects::new()), Changed::Judged);
        // The text kept holds the status, where it was.
        let text = &running.values().next().unwrap().text;
        assert!(text.ends_with(r#""status":{"phase":"Running"}}"#), "{text}");
        // A StatefulSet's status says which template its Pods run: read.
        let set = |status| kept(&digest, "StatefulSet", "app:1", status);
        assert_eq!(compared(&set("r1"), &set("r2")), Changed::Judged);
        let deployment = |status| kept(&digest, "Deployment", "app:1", status);
        assert_eq!(
            compared(&deployment("r1"), &deployment("r2")),
            Changed::StatusAlone
        );
    }

    /// Following one type, whose first list is in progress.
    fn listing_one_type() -> (Arc<Shared>, Scope) {
        let scope = Scope {
            group: String::new(),
            resource: "pods".into(),
            namespace: None,
        };
        let followed = Followed {
            t: ResourceType {
                group: String::new(),
                version: "v1".into(),
                resource: "pods".into(),
                kind: "Pod".into(),
                namespaced: true,
                watchable: true,
            },
            status: Status::Listing,
            objects: Objects::new(),
            listing: None,
            problems: Vec::new(),
        };
        let shared = Arc::new(Shared {
            scopes: Mutex::new(BTreeMap::from([(scope.clone(), followed)])),
            generation: tokio::sync::watch::channel(Changes::default()).0,
            digest: RandomState::new(),
            interruptions: Default::default(),
            secret_values: false,
            undiscovered: Mutex::new(Vec::new()),
            followers: Mutex::new(BTreeMap::new()),
        });
        (shared, scope)
    }

    #[test]
    fn a_reader_that_sees_a_change_sees_it_counted() {
        // The watch reads the count once every type is listed and scans again when the count
        // moves past it: a list read but counted a moment later made a second scan at once.
        for _ in 0..2_000 {
            let (shared, scope) = listing_one_type();
            let writer = shared.clone();
            let listed = std::thread::spawn(move || {
                writer.update(&scope, |f| {
                    f.status = Status::Current;
                    Changed::Judged
                });
            });
            loop {
                let settled = shared
                    .scopes()
                    .values()
                    .all(|f| !matches!(f.status, Status::Listing));
                if settled {
                    assert_eq!(shared.generation.borrow().judged, 1);
                    break;
                }
                std::hint::spin_loop();
            }
            listed.join().unwrap();
        }
    }

    #[test]
    fn changes_are_counted_for_either_reader() {
        let changes = Changes { all: 5, judged: 3 };
        assert_eq!(changes.count(true), 5);
        assert_eq!(changes.count(false), 3);
    }
}
