//! A recorded API server whose objects change (feature `recorded-server`), for the tests of
//! following a cluster and writing to it. No API server can run on these machines, so this
//! serves the recorded v1.33 objects of [`recorded`](crate::recorded), which the test then
//! adds to, changes and deletes, the way the API server serves them: lists in pages carrying
//! their resourceVersion, watch streams of `WatchEvent` lines from any resourceVersion still held,
//! and for one compacted away the API server's `ERROR` event with a `410 Expired` Status.
//! It takes the writes Palisade makes as the API server does: Leases created, read and
//! replaced with optimistic concurrency (`409 Conflict` on a stale resourceVersion), Policy
//! Reports applied server-side, listed by label and deleted. Over HTTPS on loopback with a
//! fresh certificate; the kubeconfig it writes trusts it.

use std::collections::{BTreeMap, BTreeSet};
use std::convert::Infallible;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::body::{Body, Bytes};
use axum::http::{Method, Request, StatusCode};
use axum::response::Response;
use serde_json::{Value, json};

use crate::recorded::{base64, recorded};

/// The types served: (API prefix, resource, kind, namespaced).
const TYPES: &[(&str, &str, &str, bool)] = &[
    ("/api/v1", "configmaps", "ConfigMap", true),
    ("/api/v1", "namespaces", "Namespace", false),
    ("/api/v1", "nodes", "Node", false),
    ("/api/v1", "pods", "Pod", true),
    ("/api/v1", "secrets", "Secret", true),
    ("/api/v1", "serviceaccounts", "ServiceAccount", true),
    ("/api/v1", "services", "Service", true),
    ("/apis/apps/v1", "deployments", "Deployment", true),
    ("/apis/apps/v1", "replicasets", "ReplicaSet", true),
    (
        "/apis/rbac.authorization.k8s.io/v1",
        "clusterroles",
        "ClusterRole",
        false,
    ),
    (
        "/apis/rbac.authorization.k8s.io/v1",
        "clusterrolebindings",
        "ClusterRoleBinding",
        false,
    ),
    ("/apis/rbac.authorization.k8s.io/v1", "roles", "Role", true),
    (
        "/apis/rbac.authorization.k8s.io/v1",
        "rolebindings",
        "RoleBinding",
        true,
    ),
    (
        "/apis/networking.k8s.io/v1",
        "networkpolicies",
        "NetworkPolicy",
        true,
    ),
    ("/apis/coordination.k8s.io/v1", "leases", "Lease", true),
    // A custom resource, as a CRD serves one.
    ("/apis/example.com/v1", "widgets", "Widget", true),
    (
        "/apis/wgpolicyk8s.io/v1alpha2",
        "policyreports",
        "PolicyReport",
        true,
    ),
    (
        "/apis/wgpolicyk8s.io/v1alpha2",
        "clusterpolicyreports",
        "ClusterPolicyReport",
        false,
    ),
];

/// A type the server serves: its API prefix, resource, kind and scope.
#[derive(Clone, PartialEq, Eq)]
struct Served {
    prefix: String,
    resource: String,
    kind: String,
    namespaced: bool,
}

impl Served {
    fn collection(&self) -> String {
        format!("{}/{}", self.prefix, self.resource)
    }

    fn api_version(&self) -> &str {
        api_version_of(&self.prefix)
    }
}

/// One write, as watch streams tell it.
struct Change {
    version: u64,
    collection: String,
    namespace: String,
    kind: &'static str,
    object: Value,
}

#[derive(Default)]
struct State {
    version: u64,
    objects: BTreeMap<String, BTreeMap<(String, String), Value>>,
    changes: Vec<Change>,
    /// Changes at or below this version are gone (a watch from before gets 410).
    compacted: u64,
    forbidden: BTreeSet<String>,
    /// Bumped to end every open watch.
    watch_epoch: u64,
    /// Types served besides [`TYPES`] (custom resources defined later).
    defined: Vec<Served>,
    /// Collections of [`TYPES`] no longer served.
    undefined: BTreeSet<String>,
}

impl State {
    /// Every type served now.
    fn served(&self) -> Vec<Served> {
        TYPES
            .iter()
            .map(|(prefix, resource, kind, namespaced)| Served {
                prefix: (*prefix).into(),
                resource: (*resource).into(),
                kind: (*kind).into(),
                namespaced: *namespaced,
            })
            .filter(|t| !self.undefined.contains(&t.collection()))
            .chain(self.defined.iter().cloned())
            .collect()
    }
}

/// The cluster the server serves, for the test to change and inspect.
#[derive(Default)]
pub struct LiveCluster {
    state: Mutex<State>,
    changed: tokio::sync::Notify,
    /// `METHOD path?query` of every request.
    pub requests: Mutex<Vec<String>>,
}

fn kind_of(types: &[Served], collection: &str) -> Option<Served> {
    types.iter().find(|t| t.collection() == collection).cloned()
}

fn api_version_of(prefix: &str) -> &str {
    prefix
        .strip_prefix("/apis/")
        .or_else(|| prefix.strip_prefix("/api/"))
        .unwrap_or(prefix)
}

fn key_of(object: &Value) -> (String, String) {
    let text = |field: &str| {
        object["metadata"][field]
            .as_str()
            .unwrap_or_default()
            .to_string()
    };
    (text("namespace"), text("name"))
}

impl LiveCluster {
    fn state(&self) -> std::sync::MutexGuard<'_, State> {
        self.state
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Creates or replaces `object` in `collection` (`/api/v1/pods`); returns it as stored.
    pub fn apply(&self, collection: &str, mut object: Value) -> Value {
        let stored = {
            let mut state = self.state();
            let served = kind_of(&state.served(), collection).expect("a served collection");
            let (api_version, kind) = (served.api_version().to_string(), served.kind.clone());
            state.version += 1;
            let version = state.version;
            object["apiVersion"] = api_version.into();
            object["kind"] = kind.into();
            object["metadata"]["resourceVersion"] = version.to_string().into();
            let key = key_of(&object);
            // An object keeps its uid while it exists.
            let uid = state
                .objects
                .get(collection)
                .and_then(|objects| objects.get(&key))
                .map(|previous| previous["metadata"]["uid"].clone());
            if let Some(uid) = uid {
                object["metadata"]["uid"] = uid;
            } else if object["metadata"]["uid"].is_null() {
                object["metadata"]["uid"] = format!("00000000-0000-4000-8000-{version:012}").into();
            }
            let previous = state
                .objects
                .entry(collection.to_string())
                .or_default()
                .insert(key.clone(), object.clone());
            state.changes.push(Change {
                version,
                collection: collection.to_string(),
                namespace: key.0,
                kind: if previous.is_some() {
                    "MODIFIED"
                } else {
                    "ADDED"
                },
                object: object.clone(),
            });
            object
        };
        self.changed.notify_waiters();
        stored
    }

    /// Deletes an object; whether it was there.
    pub fn delete(&self, collection: &str, namespace: &str, name: &str) -> bool {
        let deleted = {
            let mut state = self.state();
            let key = (namespace.to_string(), name.to_string());
            let removed = state
                .objects
                .get_mut(collection)
                .and_then(|objects| objects.remove(&key));
            if let Some(mut object) = removed.clone() {
                state.version += 1;
                object["metadata"]["resourceVersion"] = state.version.to_string().into();
                let version = state.version;
                state.changes.push(Change {
                    version,
                    collection: collection.to_string(),
                    namespace: namespace.to_string(),
                    kind: "DELETED",
                    object,
                });
            }
            removed.is_some()
        };
        self.changed.notify_waiters();
        deleted
    }

    /// The object, if there.
    pub fn get(&self, collection: &str, namespace: &str, name: &str) -> Option<Value> {
        let state = self.state();
        state
            .objects
            .get(collection)?
            .get(&(namespace.to_string(), name.to_string()))
            .cloned()
    }

    /// Every object of `collection`.
    pub fn list(&self, collection: &str) -> Vec<Value> {
        let state = self.state();
        state
            .objects
            .get(collection)
            .map(|o| o.values().cloned().collect())
            .unwrap_or_default()
    }

    /// Forgets every change so far (a watch from before gets 410) and ends the open
    /// watches, as an API server restarting after compaction does.
    pub fn compact_and_end_watches(&self) {
        {
            let mut state = self.state();
            state.compacted = state.version;
            state.changes.clear();
            state.watch_epoch += 1;
        }
        self.changed.notify_waiters();
    }

    /// The collection (`/api/v1/pods`) an object of `api_version` and `kind` is served in,
    /// when this server serves it.
    pub fn collection_of(&self, api_version: &str, kind: &str) -> Option<String> {
        self.state()
            .served()
            .iter()
            .find(|t| t.kind == kind && t.api_version() == api_version)
            .map(Served::collection)
    }

    /// Serves a type from now, as a CustomResourceDefinition created later makes the API
    /// server serve one: `api_version` (`stable.example.com/v1`), its resource and kind.
    pub fn define(&self, api_version: &str, resource: &str, kind: &str, namespaced: bool) {
        self.state().defined.push(Served {
            prefix: format!("/apis/{api_version}"),
            resource: resource.into(),
            kind: kind.into(),
            namespaced,
        });
    }

    /// Stops serving the type of `collection` (its definition deleted): its objects are gone
    /// and its watches end.
    pub fn undefine(&self, collection: &str) {
        {
            let mut state = self.state();
            state.defined.retain(|t| t.collection() != collection);
            state.undefined.insert(collection.to_string());
            state.objects.remove(collection);
            state.watch_epoch += 1;
        }
        self.changed.notify_waiters();
    }

    /// Refuses (403) or allows every request on `collection` from now.
    pub fn forbid(&self, collection: &str, forbidden: bool) {
        {
            let mut state = self.state();
            if forbidden {
                state.forbidden.insert(collection.to_string());
            } else {
                state.forbidden.remove(collection);
            }
            state.watch_epoch += 1;
        }
        self.changed.notify_waiters();
    }

    /// Requests whose line starts with `prefix` (`GET /api/v1/pods?`).
    pub fn requests_starting(&self, prefix: &str) -> usize {
        let requests = self
            .requests
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        requests.iter().filter(|r| r.starts_with(prefix)).count()
    }
}

fn status(code: StatusCode, reason: &str, message: &str) -> Response {
    respond(
        code,
        json!({"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
               "message": message, "reason": reason, "code": code.as_u16()}),
    )
}

fn respond(code: StatusCode, body: Value) -> Response {
    Response::builder()
        .status(code)
        .header("content-type", "application/json")
        .body(Body::from(body.to_string()))
        .unwrap_or_default()
}

/// A request's target: the collection, the namespace and the object's name.
struct Target {
    collection: String,
    namespace: Option<String>,
    name: Option<String>,
}

fn target(types: &[Served], path: &str) -> Option<Target> {
    let (prefix, rest) = types.iter().find_map(|t| {
        path.strip_prefix(t.prefix.as_str())
            .and_then(|rest| rest.strip_prefix('/'))
            .map(|rest| (t.prefix.as_str(), rest))
    })?;
    let parts: Vec<&str> = rest.split('/').collect();
    let (namespace, resource, name) = match parts.as_slice() {
        [resource] => (None, *resource, None),
        ["namespaces", ns, resource] => (Some(*ns), *resource, None),
        ["namespaces", ns, resource, name] => (Some(*ns), *resource, Some(*name)),
        [resource, name] => (None, *resource, Some(*name)),
        _ => return None,
    };
    let collection = format!("{prefix}/{resource}");
    kind_of(types, &collection)?;
    Some(Target {
        collection,
        namespace: namespace.map(str::to_string),
        name: name.map(str::to_string),
    })
}

/// Whether `object` carries every `key=value` of a selector.
fn selected(object: &Value, selector: Option<&str>) -> bool {
    selector.is_none_or(|selector| {
        selector.split(',').filter(|s| !s.is_empty()).all(|term| {
            let (key, value) = term.split_once('=').unwrap_or((term, ""));
            object["metadata"]["labels"][key].as_str() == Some(value)
        })
    })
}

fn discovery(types: &[Served], path: &str) -> Option<Value> {
    if path == "/apis" {
        let groups: Vec<Value> = types
            .iter()
            .filter_map(|t| t.prefix.strip_prefix("/apis/"))
            .collect::<BTreeSet<_>>()
            .into_iter()
            .map(|gv| {
                let (group, version) = gv.split_once('/').unwrap_or((gv, ""));
                json!({"name": group, "versions": [{"groupVersion": gv, "version": version}],
                       "preferredVersion": {"groupVersion": gv, "version": version}})
            })
            .collect();
        return Some(json!({"kind": "APIGroupList", "apiVersion": "v1", "groups": groups}));
    }
    let resources: Vec<Value> = types
        .iter()
        .filter(|t| t.prefix == path)
        .map(|t| {
            json!({"name": t.resource, "singularName": "", "namespaced": t.namespaced,
                   "kind": t.kind,
                   "verbs": ["create", "delete", "get", "list", "patch", "update", "watch"]})
        })
        .collect();
    if resources.is_empty() {
        return None;
    }
    Some(json!({"kind": "APIResourceList", "apiVersion": "v1",
                "groupVersion": api_version_of(path), "resources": resources}))
}

impl LiveCluster {
    async fn serve(self: Arc<Self>, request: Request<Body>) -> Response {
        let (parts, body) = request.into_parts();
        let path = parts.uri.path().to_string();
        let query = parts.uri.query().unwrap_or("").to_string();
        self.requests
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .push(format!("{} {path}?{query}", parts.method));
        let token = parts
            .headers
            .get("authorization")
            .and_then(|v| v.to_str().ok());
        if token != Some("Bearer recorded-token") {
            return status(StatusCode::UNAUTHORIZED, "Unauthorized", "Unauthorized");
        }
        match path.as_str() {
            "/version" => {
                return respond(
                    StatusCode::OK,
                    serde_json::from_str(&recorded("version.json")).unwrap_or_default(),
                );
            }
            "/api" => {
                return respond(
                    StatusCode::OK,
                    json!({"kind": "APIVersions", "versions": ["v1"]}),
                );
            }
            _ => {}
        }
        let types = self.state().served();
        if let Some(document) = discovery(&types, &path) {
            return respond(StatusCode::OK, document);
        }
        if let Some(node) = path
            .strip_prefix("/api/v1/nodes/")
            .and_then(|rest| rest.strip_suffix("/proxy/configz"))
        {
            return self.configz(node);
        }
        let Some(target) = target(&types, &path) else {
            return status(
                StatusCode::NOT_FOUND,
                "NotFound",
                "the server could not find the requested resource",
            );
        };
        if self.state().forbidden.contains(&target.collection) {
            return status(
                StatusCode::FORBIDDEN,
                "Forbidden",
                &format!("{} is forbidden", target.collection),
            );
        }
        let body = axum::body::to_bytes(body, 4 << 20)
            .await
            .unwrap_or_default();
        let body: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
        let metadata_only = parts
            .headers
            .get("accept")
            .and_then(|v| v.to_str().ok())
            .is_some_and(|accept| accept.contains("as=PartialObjectMetadata"));
        match (parts.method, &target.name) {
            (Method::GET, None) => {
                let watching = matches!(
                    palisade_core::query::value(&query, "watch").as_deref(),
                    Some("true" | "1")
                );
                if watching {
                    self.watch(target, &query, metadata_only)
                } else {
                    self.list_response(&target, &query, metadata_only)
                }
            }
            (Method::GET, Some(name)) => match self.get(
                &target.collection,
                target.namespace.as_deref().unwrap_or(""),
                name,
            ) {
                Some(object) if metadata_only => respond(StatusCode::OK, metadata_of(&object)),
                Some(object) => respond(StatusCode::OK, object),
                None => status(
                    StatusCode::NOT_FOUND,
                    "NotFound",
                    &format!("\"{name}\" not found"),
                ),
            },
            (method, _) => self.write(method, &target, body),
        }
    }

    /// A create (POST), replace (PUT, with optimistic concurrency), server-side apply
    /// (PATCH) or delete.
    fn write(&self, method: Method, target: &Target, body: Value) -> Response {
        match (method, &target.name) {
            (Method::POST, None) => {
                let mut object = body;
                object["metadata"]["namespace"] =
                    target.namespace.clone().map_or(Value::Null, Value::from);
                let (ns, name) = key_of(&object);
                if self.get(&target.collection, &ns, &name).is_some() {
                    return status(
                        StatusCode::CONFLICT,
                        "AlreadyExists",
                        &format!("\"{name}\" already exists"),
                    );
                }
                respond(StatusCode::CREATED, self.apply(&target.collection, object))
            }
            (Method::PUT, Some(name)) => {
                let ns = target.namespace.clone().unwrap_or_default();
                let Some(current) = self.get(&target.collection, &ns, name) else {
                    return status(
                        StatusCode::NOT_FOUND,
                        "NotFound",
                        &format!("\"{name}\" not found"),
                    );
                };
                if body["metadata"]["resourceVersion"] != current["metadata"]["resourceVersion"] {
                    return status(
                        StatusCode::CONFLICT,
                        "Conflict",
                        &format!(
                            "Operation cannot be fulfilled on \"{name}\": the object has been modified; please apply your changes to the latest version and try again"
                        ),
                    );
                }
                let mut object = body;
                object["metadata"]["uid"] = current["metadata"]["uid"].clone();
                respond(StatusCode::OK, self.apply(&target.collection, object))
            }
            (Method::PATCH, Some(_)) => {
                let mut object = body;
                if let Some(ns) = &target.namespace {
                    object["metadata"]["namespace"] = ns.clone().into();
                }
                respond(StatusCode::OK, self.apply(&target.collection, object))
            }
            (Method::DELETE, Some(name)) => {
                if self.delete(
                    &target.collection,
                    target.namespace.as_deref().unwrap_or(""),
                    name,
                ) {
                    respond(
                        StatusCode::OK,
                        json!({"kind": "Status", "apiVersion": "v1", "status": "Success"}),
                    )
                } else {
                    status(
                        StatusCode::NOT_FOUND,
                        "NotFound",
                        &format!("\"{name}\" not found"),
                    )
                }
            }
            _ => status(
                StatusCode::METHOD_NOT_ALLOWED,
                "MethodNotAllowed",
                "the server does not allow this method on the requested resource",
            ),
        }
    }

    /// A node's kubelet configuration through the node proxy: the recorded kubeadm
    /// kubelet's, for a node the cluster holds (refused when `/api/v1/nodes/proxy` is
    /// forbidden).
    fn configz(&self, node: &str) -> Response {
        if self.state().forbidden.contains("/api/v1/nodes/proxy") {
            return status(
                StatusCode::FORBIDDEN,
                "Forbidden",
                &format!("nodes \"{node}\" is forbidden: cannot get resource \"nodes/proxy\""),
            );
        }
        if self.get("/api/v1/nodes", "", node).is_none() {
            return status(
                StatusCode::NOT_FOUND,
                "NotFound",
                &format!("nodes \"{node}\" not found"),
            );
        }
        respond(
            StatusCode::OK,
            serde_json::from_str(&recorded("configz-kubeadm.json")).unwrap_or_default(),
        )
    }

    /// A list, in pages of `limit` when asked: the `continue` token is the next page's
    /// offset (pages are cut from the objects as they are when each page is asked).
    fn list_response(&self, target: &Target, query: &str, metadata_only: bool) -> Response {
        let selector = palisade_core::query::value(query, "labelSelector");
        let limit = palisade_core::query::value(query, "limit")
            .and_then(|l| l.parse::<usize>().ok())
            .filter(|l| *l > 0)
            .unwrap_or(usize::MAX);
        let offset = palisade_core::query::value(query, "continue")
            .and_then(|c| c.parse::<usize>().ok())
            .unwrap_or(0);
        let state = self.state();
        let mut matching = state
            .objects
            .get(&target.collection)
            .into_iter()
            .flat_map(|objects| objects.iter())
            .filter(|((ns, _), _)| target.namespace.as_ref().is_none_or(|want| want == ns))
            .map(|(_, object)| object)
            .filter(|object| selected(object, selector.as_deref()))
            .skip(offset);
        let items: Vec<Value> = matching.by_ref().take(limit).cloned().collect();
        let mut metadata = json!({"resourceVersion": state.version.to_string()});
        if matching.next().is_some() {
            metadata["continue"] = (offset + items.len()).to_string().into();
        }
        let (api_version, kind) = kind_of(&state.served(), &target.collection)
            .map(|t| (t.api_version().to_string(), t.kind))
            .unwrap_or_default();
        if metadata_only {
            return respond(
                StatusCode::OK,
                json!({"kind": "PartialObjectMetadataList", "apiVersion": "meta.k8s.io/v1",
                       "metadata": metadata, "items": items.iter().map(metadata_of).collect::<Vec<_>>()}),
            );
        }
        respond(
            StatusCode::OK,
            json!({"kind": format!("{kind}List"), "apiVersion": api_version,
                   "metadata": metadata, "items": items}),
        )
    }

    /// A watch stream from the query's resourceVersion: the changes since, then each change
    /// as it is made, until `timeoutSeconds` or the watches are ended.
    fn watch(self: Arc<Self>, target: Target, query: &str, metadata_only: bool) -> Response {
        let from: u64 = palisade_core::query::value(query, "resourceVersion")
            .and_then(|v| v.parse().ok())
            .unwrap_or(0);
        let timeout = palisade_core::query::value(query, "timeoutSeconds")
            .and_then(|v| v.parse().ok())
            .unwrap_or(290u64);
        let (sender, receiver) = tokio::sync::mpsc::channel::<Bytes>(64);
        let cluster = self.clone();
        tokio::spawn(async move {
            let deadline = tokio::time::Instant::now() + Duration::from_secs(timeout);
            let (epoch, compacted) = {
                let state = cluster.state();
                (state.watch_epoch, state.compacted)
            };
            if from < compacted {
                let line = json!({"type": "ERROR", "object": {"kind": "Status", "apiVersion": "v1", "metadata": {},
                    "status": "Failure", "message": format!("too old resource version: {from} ({compacted})"),
                    "reason": "Expired", "code": 410}});
                let _ = sender.send(Bytes::from(format!("{line}\n"))).await;
                return;
            }
            let mut seen = from;
            loop {
                let notified = cluster.changed.notified();
                let mut notified = std::pin::pin!(notified);
                notified.as_mut().enable();
                let lines: Vec<(u64, String)> = {
                    let state = cluster.state();
                    if state.watch_epoch != epoch {
                        return;
                    }
                    state
                        .changes
                        .iter()
                        .filter(|c| c.version > seen && c.collection == target.collection)
                        .filter(|c| {
                            target
                                .namespace
                                .as_ref()
                                .is_none_or(|ns| *ns == c.namespace)
                        })
                        .map(|c| {
                            let object = match metadata_only {
                                true => metadata_of(&c.object),
                                false => c.object.clone(),
                            };
                            (
                                c.version,
                                format!("{}\n", json!({"type": c.kind, "object": object})),
                            )
                        })
                        .collect()
                };
                for (version, line) in lines {
                    if sender.send(Bytes::from(line)).await.is_err() {
                        return;
                    }
                    seen = version;
                }
                if tokio::time::timeout_at(deadline, notified).await.is_err() {
                    return;
                }
            }
        });
        let stream = futures::stream::unfold(receiver, |mut receiver| async move {
            receiver
                .recv()
                .await
                .map(|line| (Ok::<_, Infallible>(line), receiver))
        });
        Response::builder()
            .status(StatusCode::OK)
            .header("content-type", "application/json")
            .body(Body::from_stream(stream))
            .unwrap_or_default()
    }
}

/// `object` as the API server sends it to a client that asks for metadata only (`Accept:
/// application/json;as=PartialObjectMetadata[List];g=meta.k8s.io;v=v1`, as a cluster read
/// asks for Secrets): its metadata alone, neither its type nor its values.
fn metadata_of(object: &Value) -> Value {
    json!({"kind": "PartialObjectMetadata", "apiVersion": "meta.k8s.io/v1",
           "metadata": object["metadata"]})
}

/// Starts the server with the recorded objects; returns its kubeconfig and the cluster.
pub async fn server(dir: &Path) -> (PathBuf, Arc<LiveCluster>) {
    let cluster = Arc::new(LiveCluster::default());
    add_recorded(&cluster);
    // As the recorded reader: Secrets may not be listed.
    cluster.forbid("/api/v1/secrets", true);
    let kubeconfig = serve(cluster.clone(), dir).await;
    (kubeconfig, cluster)
}

/// Starts the server with `objects` (of the types it serves; the others are skipped and
/// counted); returns its kubeconfig, the cluster and how many objects were skipped.
pub async fn serve_objects(dir: &Path, objects: Vec<Value>) -> (PathBuf, Arc<LiveCluster>, usize) {
    let cluster = Arc::new(LiveCluster::default());
    let mut skipped = 0;
    for object in objects {
        let api_version = object["apiVersion"].as_str().unwrap_or_default();
        let kind = object["kind"].as_str().unwrap_or_default();
        match cluster.collection_of(api_version, kind) {
            Some(collection) => {
                cluster.apply(&collection, object);
            }
            None => skipped += 1,
        }
    }
    let kubeconfig = serve(cluster.clone(), dir).await;
    (kubeconfig, cluster, skipped)
}

fn add_recorded(cluster: &LiveCluster) {
    for (collection, files) in [
        ("/api/v1/namespaces", &["namespaces.json"][..]),
        ("/api/v1/nodes", &["nodes.json"]),
        ("/api/v1/pods", &["pods-page1.json", "pods-page2.json"]),
        ("/api/v1/configmaps", &["configmaps-all.json"]),
        ("/api/v1/serviceaccounts", &["serviceaccounts.json"]),
        ("/apis/apps/v1/deployments", &["deployments.json"]),
        ("/apis/apps/v1/replicasets", &["replicasets.json"]),
        (
            "/apis/rbac.authorization.k8s.io/v1/clusterroles",
            &["clusterroles.json"],
        ),
        (
            "/apis/rbac.authorization.k8s.io/v1/clusterrolebindings",
            &["clusterrolebindings.json"],
        ),
    ] {
        for file in files {
            let list: Value = serde_json::from_str(&recorded(file)).unwrap_or_default();
            for item in list["items"].as_array().into_iter().flatten() {
                cluster.apply(collection, item.clone());
            }
        }
    }
}

/// Serves `cluster` over HTTPS on a loopback port; writes and returns a kubeconfig for it.
async fn serve(cluster: Arc<LiveCluster>, dir: &Path) -> PathBuf {
    let cert =
        rcgen::generate_simple_self_signed(vec!["127.0.0.1".to_string(), "localhost".to_string()])
            .expect("a certificate");
    let cert_pem = cert.cert.pem();
    let config = axum_server::tls_rustls::RustlsConfig::from_pem(
        cert_pem.clone().into_bytes(),
        cert.signing_key.serialize_pem().into_bytes(),
    )
    .await
    .expect("a TLS configuration");
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("a loopback port");
    let port = listener.local_addr().map(|a| a.port()).unwrap_or_default();
    let state = cluster.clone();
    let app = Router::new().fallback(move |request: Request<Body>| state.clone().serve(request));
    let server = axum_server::from_tcp_rustls(listener, config).expect("a listener");
    tokio::spawn(async move { server.serve(app.into_make_service()).await });
    let kubeconfig = dir.join("kubeconfig");
    std::fs::write(
        &kubeconfig,
        format!(
            "apiVersion: v1\nkind: Config\ncurrent-context: live\nclusters:\n- name: live\n  cluster:\n    server: https://127.0.0.1:{port}\n    certificate-authority-data: {}\ncontexts:\n- name: live\n  context: {{cluster: live, user: auditor}}\nusers:\n- name: auditor\n  user: {{token: recorded-token}}\n",
            base64(cert_pem.as_bytes())
        ),
    )
    .expect("a kubeconfig");
    kubeconfig
}
