//! Drift between desired objects (manifests, rendered Kustomize or Helm) and live ones (a
//! snapshot or a cluster): objects missing on either side and field-level differences,
//! ignoring what the API server fills in, each classified by security relevance and
//! attributed through `managedFields` to whoever changed it.

use std::collections::{HashMap, HashSet};

use palisade_core::tree::Tree as _;
use palisade_core::{JsonPointer, ObjectRef, Severity};
use palisade_inventory::Inventory;
use serde_json::{Map, Value};

/// Who last wrote a field, from `metadata.managedFields`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Manager {
    pub manager: String,
    pub operation: String,
    pub time: Option<String>,
}

/// One difference.
#[derive(Debug, Clone, PartialEq)]
pub enum Change {
    /// In the manifests, not in the cluster.
    MissingInCluster,
    /// In the cluster (in a namespace and kind the manifests manage), not in the manifests.
    NotInManifests,
    /// A field differs, is missing in the cluster, or was added there.
    Field(Box<FieldChange>),
}

/// A field-level difference.
#[derive(Debug, Clone, PartialEq)]
pub struct FieldChange {
    pub path: JsonPointer,
    /// The manifest's value; `None` when the field was added in the cluster.
    pub desired: Option<Value>,
    /// The cluster's value; `None` when the field is missing there.
    pub live: Option<Value>,
    pub relevance: Severity,
    pub manager: Option<Manager>,
}

/// A difference on one object.
#[derive(Debug, Clone, PartialEq)]
pub struct Drift {
    pub object: ObjectRef,
    /// Index in the desired inventory, when the object is there.
    pub desired: Option<usize>,
    /// Index in the live inventory, when the object is there.
    pub live: Option<usize>,
    pub change: Change,
}

/// How objects are matched.
#[derive(Debug, Clone)]
pub struct DriftOptions {
    /// The namespace desired objects without one are compared in.
    pub default_namespace: String,
    /// Types the cluster would not list, as (group, kind): objects of them are not compared
    /// (an empty kind is every kind of the group whose discovery failed; group `*`, every
    /// group).
    pub unlisted: Vec<(String, String)>,
}

impl DriftOptions {
    /// Whether the live side could not list objects of `id`'s type.
    fn unlisted(&self, id: &ObjectRef) -> bool {
        self.unlisted
            .iter()
            .any(|(group, kind)| crate::withholds((group, kind), (id.group(), &id.kind)))
    }
}

impl Default for DriftOptions {
    fn default() -> Self {
        DriftOptions {
            default_namespace: "default".into(),
            unlisted: Vec::new(),
        }
    }
}

/// Kinds the cluster creates on its own; never "not in the manifests". (Pods and Jobs that a
/// controller made carry owner references and are passed over as owned.)
const GENERATED_KINDS: &[&str] = &[
    "Event",
    "Endpoints",
    "EndpointSlice",
    "ControllerRevision",
    "Lease",
    "ReplicaSet",
];

/// Namespaced kinds through which a hand-made object changes who can do what, what runs, or
/// what is reachable. One of them, unowned, in a namespace the manifests manage is "not in
/// the manifests" even when the manifests have no object of that kind (a RoleBinding made by
/// hand in an application namespace, a debug Pod).
const SECURITY_KINDS: &[&str] = &[
    "Role",
    "RoleBinding",
    "NetworkPolicy",
    "ServiceAccount",
    "Pod",
    "Deployment",
    "DaemonSet",
    "StatefulSet",
    "ReplicationController",
    "Job",
    "CronJob",
    "Service",
    "Ingress",
];

/// Matching key: group, kind, namespace, name (the version is left out: `v1beta1` and `v1`
/// are the same object).
fn key(
    id: &ObjectRef,
    default_namespace: &str,
    namespaced: bool,
) -> (String, String, String, String) {
    let ns = if namespaced {
        id.namespace
            .clone()
            .unwrap_or_else(|| default_namespace.to_string())
    } else {
        String::new()
    };
    (
        id.group().to_string(),
        id.kind.clone(),
        ns,
        id.name.clone().unwrap_or_default(),
    )
}

/// Which kinds are namespaced: the API, the CRDs on either side, and what the cluster listed.
fn scopes(desired: &Inventory, live: &Inventory) -> palisade_k8s::Scopes {
    let crds = [desired, live].into_iter().flat_map(|inventory| {
        inventory
            .of_kind("apiextensions.k8s.io", "CustomResourceDefinition")
            .map(|o| &o.value)
    });
    let observed = live
        .objects
        .iter()
        .map(|o| (o.id.group(), o.id.kind.as_str(), o.id.namespace.is_some()));
    palisade_k8s::Scopes::new(crds, observed)
}

/// Compares desired with live objects.
pub fn compare(desired: &Inventory, live: &Inventory, options: &DriftOptions) -> Vec<Drift> {
    let scopes = scopes(desired, live);
    let is_namespaced = |id: &palisade_core::ObjectRef| scopes.is_namespaced(id.group(), &id.kind);
    let mut live_by_key: HashMap<(String, String, String, String), usize> = HashMap::new();
    for (i, o) in live.objects.iter().enumerate() {
        live_by_key.insert(
            key(&o.id, &options.default_namespace, is_namespaced(&o.id)),
            i,
        );
    }
    let mut matched: HashSet<usize> = HashSet::new();
    let mut managed: HashSet<(String, String, String)> = HashSet::new();
    let mut managed_namespaces: HashSet<String> = HashSet::new();
    let mut out = Vec::new();
    for (d, object) in desired.objects.iter().enumerate() {
        let namespaced = is_namespaced(&object.id);
        let k = key(&object.id, &options.default_namespace, namespaced);
        managed.insert((k.0.clone(), k.1.clone(), k.2.clone()));
        if namespaced {
            managed_namespaces.insert(k.2.clone());
        } else if object.id.kind == "Namespace"
            && let Some(name) = &object.id.name
        {
            managed_namespaces.insert(name.clone());
        }
        match live_by_key.get(&k) {
            // Not read from the cluster: not compared (the run says it is incomplete).
            None if options.unlisted(&object.id) => {}
            None => out.push(Drift {
                object: ObjectRef::clone(&object.id),
                desired: Some(d),
                live: None,
                change: Change::MissingInCluster,
            }),
            Some(&l) => {
                matched.insert(l);
                let live_object = &live.objects[l];
                let managers = live_object
                    .value
                    .at("/metadata/managedFields")
                    .and_then(Value::as_array);
                let mut fields = Vec::new();
                let desired_value = if object.id.kind == "Secret" && object.id.group().is_empty() {
                    std::borrow::Cow::Owned(secret_as_stored(&object.value, &live_object.value))
                } else {
                    std::borrow::Cow::Borrowed(&object.value)
                };
                diff_value(
                    &desired_value,
                    &live_object.value,
                    &mut Vec::new(),
                    &mut fields,
                );
                for (segments, desired_value, live_value) in fields {
                    let path =
                        JsonPointer::root().join_all(segments.iter().map(|s| s.pointer.clone()));
                    let relevance = relevance(&object.id.kind, &segments);
                    let manager = managers.and_then(|m| attribute(m, &segments));
                    out.push(Drift {
                        object: ObjectRef::clone(&object.id),
                        desired: Some(d),
                        live: Some(l),
                        change: Change::Field(Box::new(FieldChange {
                            path,
                            desired: desired_value,
                            live: live_value,
                            relevance,
                            manager,
                        })),
                    });
                }
            }
        }
    }
    for (l, object) in live.objects.iter().enumerate() {
        if matched.contains(&l) || GENERATED_KINDS.contains(&object.id.kind.as_str()) {
            continue;
        }
        if object
            .value
            .at("/metadata/ownerReferences")
            .is_some_and(|r| r.as_array().is_some_and(|a| !a.is_empty()))
        {
            continue;
        }
        let namespaced = is_namespaced(&object.id);
        let k = key(&object.id, &options.default_namespace, namespaced);
        let security_kind_in_managed_namespace = namespaced
            && SECURITY_KINDS.contains(&object.id.kind.as_str())
            && managed_namespaces.contains(&k.2);
        if !security_kind_in_managed_namespace && !managed.contains(&(k.0, k.1, k.2)) {
            continue;
        }
        let name = object.id.display_name();
        // Objects every namespace gets from the control plane.
        if palisade_k8s::names::made_by_control_plane(
            &object.id.kind,
            object.id.namespace.as_deref(),
            name,
        ) {
            continue;
        }
        out.push(Drift {
            object: ObjectRef::clone(&object.id),
            desired: None,
            live: Some(l),
            change: Change::NotInManifests,
        });
    }
    out
}

/// A desired Secret as the API server stores it, for comparison with `live`: `stringData`
/// merged into `data` (base64), as the API server does on write. When the live Secret was read
/// without its values (the default: metadata only, or key names with emptied values), its
/// values are unknown, so neither side's are compared.
fn secret_as_stored(desired: &Value, live: &Value) -> Value {
    let mut secret = desired.clone();
    let Some(map) = secret.as_object_mut() else {
        return secret;
    };
    let string_data = map.remove("stringData");
    let values_unknown = live
        .get("data")
        .and_then(Value::as_object)
        .is_none_or(|data| data.values().all(|v| v.as_str() == Some("")));
    if values_unknown {
        map.remove("data");
        return secret;
    }
    if let Some(Value::Object(strings)) = string_data {
        let data = map
            .entry("data")
            .or_insert_with(|| Value::Object(Map::new()));
        if let Some(data) = data.as_object_mut() {
            for (key, value) in strings {
                if let Some(text) = value.as_str() {
                    data.insert(key, Value::String(base64(text.as_bytes())));
                }
            }
        }
    }
    secret
}

/// Standard base64 with padding.
fn base64(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let b = [
            chunk[0],
            chunk.get(1).copied().unwrap_or(0),
            chunk.get(2).copied().unwrap_or(0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(char::from(ALPHABET[((n >> (18 - 6 * i)) & 63) as usize]));
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// A path segment: its JSON-pointer text and, for list items, the item's merge key (how
/// `managedFields` names it).
#[derive(Debug, Clone)]
struct Segment {
    pointer: String,
    /// `f:<key>` for map keys, `k:{...}` or `i:<n>` for list items.
    managed: String,
}

/// Fields the API server adds or rewrites: never drift.
fn server_populated(segments: &[Segment], key: &str) -> bool {
    match segments.len() {
        0 => matches!(key, "status"),
        1 if segments[0].pointer == "metadata" => matches!(
            key,
            "uid"
                | "resourceVersion"
                | "generation"
                | "creationTimestamp"
                | "managedFields"
                | "selfLink"
                | "ownerReferences"
                | "finalizers"
                | "deletionTimestamp"
                | "deletionGracePeriodSeconds"
        ),
        2 if segments[0].pointer == "metadata" && segments[1].pointer == "annotations" => {
            key.starts_with("kubectl.kubernetes.io/")
                || key.starts_with("deployment.kubernetes.io/")
                || key.starts_with("autoscaling.alpha.kubernetes.io/")
                || key == "kubernetes.io/psp"
        }
        _ => key == "creationTimestamp",
    }
}

/// Defaults the API server fills in when a field is omitted (key, default value). A live field
/// absent from the manifest is drift only when it differs from its default.
const DEFAULTS: &[(&str, &str)] = &[
    ("terminationMessagePath", "/dev/termination-log"),
    ("terminationMessagePolicy", "File"),
    ("imagePullPolicy", "IfNotPresent"),
    ("imagePullPolicy", "Always"),
    ("dnsPolicy", "ClusterFirst"),
    ("restartPolicy", "Always"),
    ("schedulerName", "default-scheduler"),
    ("terminationGracePeriodSeconds", "30"),
    ("progressDeadlineSeconds", "600"),
    ("revisionHistoryLimit", "10"),
    ("sessionAffinity", "None"),
    ("internalTrafficPolicy", "Cluster"),
    ("ipFamilyPolicy", "SingleStack"),
    ("protocol", "TCP"),
    ("type", "ClusterIP"),
    ("type", "RollingUpdate"),
    ("type", "Opaque"),
    ("podManagementPolicy", "OrderedReady"),
    ("concurrencyPolicy", "Allow"),
    ("successfulJobsHistoryLimit", "3"),
    ("failedJobsHistoryLimit", "1"),
    ("suspend", "false"),
    ("replicas", "1"),
    ("enableServiceLinks", "true"),
    ("preemptionPolicy", "PreemptLowerPriority"),
    ("priority", "0"),
    ("backoffLimit", "6"),
    ("completionMode", "NonIndexed"),
    ("parallelism", "1"),
    ("completions", "1"),
    ("mode", "420"),
    ("defaultMode", "420"),
    ("path", ""),
];

/// Fields whose value the API server always sets (addresses, allocations): not drift.
const ALLOCATED: &[&str] = &[
    "clusterIP",
    "clusterIPs",
    "ipFamilies",
    "nodeName",
    "volumeName",
    "healthCheckNodePort",
    "nodePort",
    "podIP",
    "hostIP",
    "targetPort",
    "maxUnavailable",
    "maxSurge",
    "rollingUpdate",
    "strategy",
    "updateStrategy",
    "selector",
    "template",
    "jobTemplate",
    "manualSelector",
    "podReplacementPolicy",
];

fn is_default(key: &str, live: &Value) -> bool {
    if ALLOCATED.contains(&key) {
        return true;
    }
    let text = match live {
        Value::String(s) => s.clone(),
        Value::Number(n) => n.to_string(),
        Value::Bool(b) => b.to_string(),
        Value::Object(m) => return m.is_empty() || m.values().all(|v| v.is_null()),
        Value::Array(a) => return a.is_empty(),
        Value::Null => return true,
    };
    DEFAULTS.iter().any(|(k, v)| *k == key && *v == text)
}

fn scalar_text(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

/// A Kubernetes quantity in millis, for comparing `0.5` with `500m` and `1Gi` with `1024Mi`.
fn quantity(text: &str) -> Option<f64> {
    let (number, factor) = [
        ("Ki", 1024f64),
        ("Mi", 1024f64.powi(2)),
        ("Gi", 1024f64.powi(3)),
        ("Ti", 1024f64.powi(4)),
        ("m", 0.001),
        ("k", 1e3),
        ("M", 1e6),
        ("G", 1e9),
        ("T", 1e12),
    ]
    .iter()
    .find_map(|(suffix, f)| text.strip_suffix(suffix).map(|n| (n, *f)))
    .unwrap_or((text, 1.0));
    number.parse::<f64>().ok().map(|n| n * factor)
}

fn same_scalar(desired: &Value, live: &Value) -> bool {
    if desired == live {
        return true;
    }
    match (scalar_text(desired), scalar_text(live)) {
        (Some(a), Some(b)) => {
            a == b
                || matches!((quantity(&a), quantity(&b)), (Some(x), Some(y)) if (x - y).abs() < 1e-9)
        }
        _ => false,
    }
}

/// The key list items are merged by: `name`, else `containerPort`, else `port`, else `key`.
fn merge_key(item: &Value) -> Option<(&'static str, Value)> {
    ["name", "containerPort", "port", "key", "ip"]
        .into_iter()
        .find_map(|k| item.get(k).filter(|v| !v.is_null()).map(|v| (k, v.clone())))
}

type FieldDiff = (Vec<Segment>, Option<Value>, Option<Value>);

fn diff_value(desired: &Value, live: &Value, at: &mut Vec<Segment>, out: &mut Vec<FieldDiff>) {
    match (desired, live) {
        (Value::Object(d), Value::Object(l)) => diff_map(d, l, at, out),
        (Value::Array(d), Value::Array(l)) => diff_list(d, l, at, out),
        (d, l) if same_scalar(d, l) => {}
        (Value::Null, l) if is_default("", l) => {}
        (d, l) => out.push((at.clone(), Some(d.clone()), Some(l.clone()))),
    }
}

fn diff_map(
    desired: &Map<String, Value>,
    live: &Map<String, Value>,
    at: &mut Vec<Segment>,
    out: &mut Vec<FieldDiff>,
) {
    for (key, d) in desired {
        if server_populated(at, key) {
            continue;
        }
        at.push(Segment {
            pointer: key.clone(),
            managed: format!("f:{key}"),
        });
        match live.get(key) {
            Some(l) => diff_value(d, l, at, out),
            None if d.is_null()
                || d.as_object().is_some_and(Map::is_empty)
                || d.as_array().is_some_and(Vec::is_empty) => {}
            None => out.push((at.clone(), Some(d.clone()), None)),
        }
        at.pop();
    }
    for (key, l) in live {
        if desired.contains_key(key) || server_populated(at, key) || is_default(key, l) {
            continue;
        }
        at.push(Segment {
            pointer: key.clone(),
            managed: format!("f:{key}"),
        });
        match l {
            // A map added in the cluster: judge its entries one by one (they may all be
            // server-populated or defaults).
            Value::Object(inner) => diff_map(&Map::new(), inner, at, out),
            _ => out.push((at.clone(), None, Some(l.clone()))),
        }
        at.pop();
    }
}

fn diff_list(desired: &[Value], live: &[Value], at: &mut Vec<Segment>, out: &mut Vec<FieldDiff>) {
    let keyed = desired.iter().chain(live).all(|i| merge_key(i).is_some());
    if !keyed {
        if desired.len() != live.len()
            || desired
                .iter()
                .zip(live)
                .any(|(d, l)| d != l && !same_scalar(d, l))
        {
            // Positional lists (args, command) are compared whole.
            let differs = desired.iter().zip(live).any(|(d, l)| {
                let mut inner = Vec::new();
                diff_value(d, l, &mut Vec::new(), &mut inner);
                !inner.is_empty()
            }) || desired.len() != live.len();
            if differs {
                out.push((
                    at.clone(),
                    Some(Value::Array(desired.to_vec())),
                    Some(Value::Array(live.to_vec())),
                ));
            }
        }
        return;
    }
    let segment = |index: usize, item: &Value| {
        let (k, v) = merge_key(item).expect("keyed");
        Segment {
            pointer: index.to_string(),
            managed: format!("k:{{\"{k}\":{v}}}"),
        }
    };
    for d in desired {
        let dk = merge_key(d);
        match live.iter().position(|l| merge_key(l) == dk) {
            Some(li) => {
                at.push(segment(li, &live[li]));
                diff_value(d, &live[li], at, out);
                at.pop();
            }
            None => {
                let index = desired.iter().position(|x| std::ptr::eq(x, d)).unwrap_or(0);
                at.push(segment(index, d));
                out.push((at.clone(), Some(d.clone()), None));
                at.pop();
            }
        }
    }
    for (li, l) in live.iter().enumerate() {
        let lk = merge_key(l);
        if !desired.iter().any(|d| merge_key(d) == lk) {
            at.push(segment(li, l));
            out.push((at.clone(), None, Some(l.clone())));
            at.pop();
        }
    }
}

/// How much a difference at `segments` matters for security.
fn relevance(kind: &str, segments: &[Segment]) -> Severity {
    const HIGH: &[&str] = &[
        "securityContext",
        "privileged",
        "allowPrivilegeEscalation",
        "capabilities",
        "runAsUser",
        "runAsNonRoot",
        "runAsGroup",
        "hostNetwork",
        "hostPID",
        "hostIPC",
        "hostPath",
        "hostPort",
        "volumes",
        "image",
        "serviceAccountName",
        "serviceAccount",
        "automountServiceAccountToken",
        "rules",
        "subjects",
        "roleRef",
        "externalIPs",
        "loadBalancerSourceRanges",
        "podSelector",
        "ingress",
        "egress",
        "policyTypes",
        "procMount",
        "seccompProfile",
        "appArmorProfile",
        "seLinuxOptions",
        "sysctls",
        "webhooks",
        "clientConfig",
        "aggregationRule",
        "shareProcessNamespace",
        "ephemeralContainers",
        "initContainers",
        "readOnlyRootFilesystem",
    ];
    const MEDIUM: &[&str] = &[
        "env",
        "envFrom",
        "command",
        "args",
        "ports",
        "volumeMounts",
        "nodeSelector",
        "tolerations",
        "affinity",
        "data",
        "stringData",
        "tls",
        "rules",
    ];
    let names: Vec<&str> = segments.iter().map(|s| s.pointer.as_str()).collect();
    if kind == "Service" && names == ["spec", "type"] {
        return Severity::High;
    }
    if names
        .iter()
        .any(|n| n.starts_with("nginx.ingress.kubernetes.io/") && n.contains("snippet"))
    {
        return Severity::High;
    }
    if kind == "Namespace"
        && names
            .iter()
            .any(|n| n.starts_with("pod-security.kubernetes.io/"))
    {
        return Severity::High;
    }
    if names.iter().any(|n| HIGH.contains(n)) {
        Severity::High
    } else if names.iter().any(|n| MEDIUM.contains(n)) {
        Severity::Medium
    } else {
        Severity::Low
    }
}

/// Who first wrote `object` (the `managedFields` entry with the earliest time): for an object
/// made in the cluster, who made it.
pub fn creator(object: &Value) -> Option<Manager> {
    let entries = object.at("/metadata/managedFields")?.as_array()?;
    entries
        .iter()
        .filter_map(|e| {
            Some(Manager {
                manager: e.get("manager")?.as_str()?.to_string(),
                operation: e
                    .get("operation")
                    .and_then(Value::as_str)
                    .unwrap_or("Update")
                    .to_string(),
                time: e.get("time").and_then(Value::as_str).map(String::from),
            })
        })
        // RFC 3339 times in UTC sort as text; entries without a time come last.
        .min_by(|a, b| match (&a.time, &b.time) {
            (Some(x), Some(y)) => x.cmp(y),
            (Some(_), None) => std::cmp::Ordering::Less,
            (None, Some(_)) => std::cmp::Ordering::Greater,
            (None, None) => std::cmp::Ordering::Equal,
        })
}

/// The manager whose `fieldsV1` owns the field at `segments` (the most recent, when several
/// share it), or the one owning its nearest ancestor.
fn attribute(managed_fields: &[Value], segments: &[Segment]) -> Option<Manager> {
    let mut best: Option<(usize, Option<String>, Manager)> = None;
    for entry in managed_fields {
        let Some(fields) = entry.get("fieldsV1") else {
            continue;
        };
        // How deep the path goes in this entry's field set.
        let mut node = fields;
        let mut depth = 0;
        for segment in segments {
            let next = node.get(&segment.managed).or_else(|| {
                // List items keyed by several fields (`k:{"containerPort":80,"protocol":"TCP"}`).
                let inner = segment.managed.strip_prefix("k:{")?.strip_suffix('}')?;
                node.as_object()?
                    .iter()
                    .find(|(k, _)| k.starts_with("k:{") && k.contains(inner))
                    .map(|(_, v)| v)
            });
            match next {
                Some(n) => {
                    node = n;
                    depth += 1;
                }
                None => break,
            }
        }
        if depth == 0 {
            continue;
        }
        let manager = Manager {
            manager: entry
                .get("manager")
                .and_then(Value::as_str)
                .unwrap_or("?")
                .to_string(),
            operation: entry
                .get("operation")
                .and_then(Value::as_str)
                .unwrap_or("?")
                .to_string(),
            time: entry
                .get("time")
                .and_then(Value::as_str)
                .map(str::to_string),
        };
        let time = manager.time.clone();
        let better = match &best {
            None => true,
            Some((d, t, _)) => depth > *d || (depth == *d && time > *t),
        };
        if better {
            best = Some((depth, time, manager));
        }
    }
    best.map(|(_, _, m)| m)
}

#[cfg(test)]
mod tests {
    use super::*;
    use palisade_inventory::{Limits, load_text};

    fn inventory(yaml: &str) -> Inventory {
        let loaded = load_text("t.yaml", yaml, &Limits::default());
        assert!(loaded.diagnostics.is_empty(), "{:?}", loaded.diagnostics);
        loaded.inventory
    }

    const DESIRED: &str = "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web, namespace: shop}\nspec:\n  replicas: 2\n  template:\n    spec:\n      containers:\n      - name: app\n        image: registry.example.com/app:1.4.2\n        resources: {limits: {cpu: '0.5', memory: 256Mi}}\n---\napiVersion: v1\nkind: Service\nmetadata: {name: web, namespace: shop}\nspec:\n  selector: {app: web}\n  ports: [{port: 80, targetPort: 8080}]\n";

    /// The live Deployment as the API server returns it: defaults filled in, status,
    /// managedFields, and one change made by hand with `kubectl edit`.
    const LIVE: &str = "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\n  namespace: shop\n  uid: 6c1c7c39-0000-4000-8000-000000000001\n  resourceVersion: '8812'\n  generation: 3\n  creationTimestamp: '2026-11-20T10:00:00Z'\n  annotations: {deployment.kubernetes.io/revision: '3'}\n  managedFields:\n  - manager: kubectl-client-side-apply\n    operation: Update\n    time: '2026-11-20T10:00:00Z'\n    fieldsV1: {'f:spec': {'f:replicas': {}, 'f:template': {'f:spec': {'f:containers': {'k:{\"name\":\"app\"}': {'f:image': {}, 'f:resources': {}}}}}}}\n  - manager: kubectl-edit\n    operation: Update\n    time: '2026-11-25T22:14:03Z'\n    fieldsV1: {'f:spec': {'f:template': {'f:spec': {'f:containers': {'k:{\"name\":\"app\"}': {'f:securityContext': {'f:privileged': {}}}}}}}}\nspec:\n  replicas: 2\n  progressDeadlineSeconds: 600\n  revisionHistoryLimit: 10\n  strategy: {type: RollingUpdate, rollingUpdate: {maxSurge: 25%, maxUnavailable: 25%}}\n  template:\n    metadata: {creationTimestamp: null}\n    spec:\n      dnsPolicy: ClusterFirst\n      restartPolicy: Always\n      schedulerName: default-scheduler\n      securityContext: {}\n      terminationGracePeriodSeconds: 30\n      containers:\n      - name: app\n        image: registry.example.com/app:1.4.2\n        imagePullPolicy: IfNotPresent\n        terminationMessagePath: /dev/termination-log\n        terminationMessagePolicy: File\n        resources: {limits: {cpu: 500m, memory: 256Mi}}\n        securityContext: {privileged: true}\nstatus: {replicas: 2, readyReplicas: 2}\n---\napiVersion: v1\nkind: Service\nmetadata: {name: web, namespace: shop, uid: x, resourceVersion: '9'}\nspec:\n  clusterIP: 10.96.0.12\n  clusterIPs: [10.96.0.12]\n  ipFamilies: [IPv4]\n  ipFamilyPolicy: SingleStack\n  internalTrafficPolicy: Cluster\n  sessionAffinity: None\n  type: ClusterIP\n  selector: {app: web}\n  ports: [{port: 80, targetPort: 8080, protocol: TCP}]\n---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: debug-flags, namespace: shop}\ndata: {DEBUG: 'true'}\n---\napiVersion: v1\nkind: ServiceAccount\nmetadata: {name: default, namespace: shop}\n";

    /// A reader that may not list Secrets sees none: a desired Secret is not compared, never
    /// "missing in the cluster".
    #[test]
    fn types_the_cluster_would_not_list_are_not_compared() {
        let desired = inventory(&format!(
            "{DESIRED}---\napiVersion: v1\nkind: Secret\nmetadata: {{name: db, namespace: shop}}\nstringData: {{password: x}}\n"
        ));
        let live = inventory(LIVE);
        let missing = |options: &DriftOptions| -> Vec<String> {
            compare(&desired, &live, options)
                .iter()
                .filter(|d| d.change == Change::MissingInCluster)
                .map(|d| d.object.kind.clone())
                .collect()
        };
        assert_eq!(missing(&DriftOptions::default()), ["Secret"]);
        for unlisted in [("", "Secret"), ("", ""), ("*", "")] {
            let options = DriftOptions {
                unlisted: vec![(unlisted.0.into(), unlisted.1.into())],
                ..DriftOptions::default()
            };
            assert_eq!(missing(&options), Vec::<String>::new(), "{unlisted:?}");
        }
        let options = DriftOptions {
            unlisted: vec![("apps".into(), "Deployment".into())],
            ..DriftOptions::default()
        };
        assert_eq!(missing(&options), ["Secret"]);
    }

    #[test]
    fn defaults_and_server_fields_are_not_drift_but_a_hand_edit_is() {
        let desired = inventory(&format!(
            "{DESIRED}---\napiVersion: v1\nkind: ConfigMap\nmetadata: {{name: app, namespace: shop}}\ndata: {{A: b}}\n"
        ));
        let live = inventory(LIVE);
        let drifts = compare(&desired, &live, &DriftOptions::default());
        let fields: Vec<String> = drifts
            .iter()
            .filter_map(|d| match &d.change {
                Change::Field(f) => Some(f.path.to_string()),
                _ => None,
            })
            .collect();
        assert_eq!(
            fields,
            ["/spec/template/spec/containers/0/securityContext/privileged"],
            "{drifts:#?}"
        );
        let Change::Field(f) = &drifts
            .iter()
            .find(|d| matches!(d.change, Change::Field(_)))
            .unwrap()
            .change
        else {
            unreachable!()
        };
        assert_eq!(f.relevance, Severity::High);
        assert_eq!(f.manager.as_ref().unwrap().manager, "kubectl-edit");
        assert!(f.desired.is_none() && f.live.is_some());
        assert!(drifts.iter().any(
            |d| d.change == Change::MissingInCluster && d.object.name.as_deref() == Some("app")
        ));
        let extra: Vec<&str> = drifts
            .iter()
            .filter(|d| d.change == Change::NotInManifests)
            .map(|d| d.object.display_name())
            .collect();
        assert_eq!(
            extra,
            ["debug-flags"],
            "the default ServiceAccount is the control plane's"
        );
    }

    #[test]
    fn hand_made_security_objects_in_managed_namespaces_are_reported() {
        let desired = inventory(DESIRED);
        let extras = "---\napiVersion: rbac.authorization.k8s.io/v1\nkind: RoleBinding\nmetadata: {name: debug, namespace: shop}\nroleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: cluster-admin}\nsubjects: [{kind: User, name: mallory}]\n---\napiVersion: v1\nkind: Pod\nmetadata: {name: shell, namespace: shop}\nspec: {containers: [{name: s, image: busybox}]}\n---\napiVersion: v1\nkind: Pod\nmetadata:\n  name: web-7d9-x\n  namespace: shop\n  ownerReferences: [{apiVersion: apps/v1, kind: ReplicaSet, name: web-7d9, uid: u, controller: true}]\nspec: {containers: [{name: s, image: busybox}]}\n---\napiVersion: rbac.authorization.k8s.io/v1\nkind: RoleBinding\nmetadata: {name: elsewhere, namespace: other-team}\nroleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: view}\nsubjects: [{kind: User, name: bob}]\n---\napiVersion: v1\nkind: Service\nmetadata: {name: kubernetes, namespace: default}\nspec: {ports: [{port: 443}]}\n---\napiVersion: v1\nkind: Secret\nmetadata: {name: sh.helm.release.v1.web.v3, namespace: shop}\ntype: helm.sh/release.v1\n";
        let live = inventory(&format!("{LIVE}{extras}"));
        let drifts = compare(&desired, &live, &DriftOptions::default());
        let extra: Vec<String> = drifts
            .iter()
            .filter(|d| d.change == Change::NotInManifests)
            .map(|d| format!("{} {}", d.object.kind, d.object.display_name()))
            .collect();
        // Git has no RoleBinding or Pod, but manages namespace shop: a hand-made binding and a
        // bare pod there are drift. Owned pods, other teams' namespaces, the API server's own
        // `kubernetes` Service and tool-made Secrets are not.
        assert_eq!(extra, ["RoleBinding debug", "Pod shell"], "{drifts:#?}");
    }

    #[test]
    fn secrets_compare_as_stored_and_only_when_values_were_read() {
        assert_eq!(base64(b"unchanged-value"), "dW5jaGFuZ2VkLXZhbHVl");
        assert_eq!(base64(b"ab"), "YWI=");
        assert_eq!(base64(b""), "");
        let desired =
            serde_json::json!({"kind": "Secret", "stringData": {"a": "ab"}, "data": {"b": "Yg=="}});
        let with_values = serde_json::json!({"kind": "Secret", "data": {"a": "YWI=", "b": "Yg=="}});
        assert_eq!(
            secret_as_stored(&desired, &with_values),
            serde_json::json!({"kind": "Secret", "data": {"b": "Yg==", "a": "YWI="}})
        );
        for unknown in [
            serde_json::json!({"kind": "Secret"}),
            serde_json::json!({"kind": "Secret", "data": {"a": "", "b": ""}}),
        ] {
            assert_eq!(
                secret_as_stored(&desired, &unknown),
                serde_json::json!({"kind": "Secret"}),
                "values read as metadata only are not compared"
            );
        }
    }

    #[test]
    fn quantities_and_ports_compare_by_value_and_lists_by_merge_key() {
        assert!(same_scalar(
            &Value::String("0.5".into()),
            &Value::String("500m".into())
        ));
        assert!(same_scalar(
            &Value::String("1Gi".into()),
            &Value::String("1024Mi".into())
        ));
        assert!(same_scalar(
            &Value::String("8080".into()),
            &serde_json::json!(8080)
        ));
        let desired = inventory(
            "apiVersion: v1\nkind: Pod\nmetadata: {name: p, namespace: x}\nspec:\n  containers:\n  - {name: a, image: 'i:1'}\n  - {name: b, image: 'i:2'}\n",
        );
        let live = inventory(
            "apiVersion: v1\nkind: Pod\nmetadata: {name: p, namespace: x}\nspec:\n  containers:\n  - {name: b, image: 'i:2'}\n  - {name: a, image: 'i:9'}\n",
        );
        let drifts = compare(&desired, &live, &DriftOptions::default());
        assert_eq!(drifts.len(), 1);
        let Change::Field(f) = &drifts[0].change else {
            panic!()
        };
        assert_eq!(
            f.path.as_str(),
            "/spec/containers/1/image",
            "matched by name, reported at the live index"
        );
        assert_eq!(f.relevance, Severity::High);
    }
}
