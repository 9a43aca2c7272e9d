//! RBAC objects read from an inventory: Roles and ClusterRoles (with aggregation resolved),
//! RoleBindings and ClusterRoleBindings, and the ServiceAccounts and workloads that run as them.

use std::collections::{BTreeSet, HashMap};
use std::sync::Arc;

use palisade_core::selector::label_selector_matches;
use palisade_core::tree::Tree as _;
use palisade_inventory::claims::ClaimDirectories;
use palisade_inventory::podspec::{GroupedTemplate, grouped_pod_spec, grouped_templates};
use palisade_inventory::{Inventory, PodSpec, pod_spec};
use serde_json::Value;

use crate::identity::{Identity, Subject};

const RBAC_GROUP: &str = "rbac.authorization.k8s.io";

/// One rule of a Role or ClusterRole.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PolicyRule {
    pub verbs: Vec<String>,
    pub api_groups: Vec<String>,
    pub resources: Vec<String>,
    pub resource_names: Vec<String>,
    pub non_resource_urls: Vec<String>,
    /// Index of the rule in the role that defines it.
    pub index: usize,
    /// For rules of an aggregated ClusterRole: the ClusterRole it was aggregated from.
    pub aggregated_from: Option<String>,
}

impl PolicyRule {
    fn from_value(value: &Value, index: usize) -> PolicyRule {
        let list = |field: &str| -> Vec<String> {
            value
                .get(field)
                .and_then(Value::as_array)
                .map(|a| {
                    a.iter()
                        .filter_map(Value::as_str)
                        .map(str::to_string)
                        .collect()
                })
                .unwrap_or_default()
        };
        PolicyRule {
            verbs: list("verbs"),
            api_groups: list("apiGroups"),
            resources: list("resources"),
            resource_names: list("resourceNames"),
            non_resource_urls: list("nonResourceURLs"),
            index,
            aggregated_from: None,
        }
    }

    /// The `rules` of a Role or ClusterRole object.
    fn all_of(role: &Value) -> Vec<PolicyRule> {
        role.get("rules")
            .and_then(Value::as_array)
            .map(|r| {
                r.iter()
                    .enumerate()
                    .map(|(i, v)| PolicyRule::from_value(v, i))
                    .collect()
            })
            .unwrap_or_default()
    }

    /// `verbs on group/resources [names]`, for evidence.
    pub fn describe(&self) -> String {
        let mut text = if self.non_resource_urls.is_empty() {
            let groups: Vec<&str> = self
                .api_groups
                .iter()
                .map(|g| if g.is_empty() { "core" } else { g.as_str() })
                .collect();
            format!(
                "{} on {} ({})",
                self.verbs.join(","),
                self.resources.join(","),
                groups.join(",")
            )
        } else {
            format!(
                "{} on {}",
                self.verbs.join(","),
                self.non_resource_urls.join(",")
            )
        };
        if !self.resource_names.is_empty() {
            text.push_str(&format!(" named {}", self.resource_names.join(",")));
        }
        if let Some(source) = &self.aggregated_from {
            text.push_str(&format!(" (aggregated from {source})"));
        }
        text
    }
}

/// Role or ClusterRole.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RoleKind {
    Role,
    ClusterRole,
}

/// A Role or ClusterRole.
#[derive(Debug, Clone)]
pub struct Role {
    pub kind: RoleKind,
    pub name: String,
    /// `None` for ClusterRoles; for Roles, their namespace (`""` when not set in the file).
    pub namespace: Option<String>,
    pub rules: Vec<PolicyRule>,
    /// Index of the object in the inventory; `None` for a default ClusterRole the scanned
    /// files do not define (`admin`, `edit`, `view`, `cluster-admin`).
    pub object: Option<usize>,
}

impl Role {
    pub fn describe(&self) -> String {
        match (&self.kind, &self.namespace) {
            (RoleKind::ClusterRole, _) if self.object.is_none() => {
                format!("ClusterRole {} (built-in)", self.name)
            }
            (RoleKind::ClusterRole, _) => format!("ClusterRole {}", self.name),
            (RoleKind::Role, Some(ns)) => format!("Role {}/{}", display_ns(ns), self.name),
            (RoleKind::Role, None) => format!("Role {}", self.name),
        }
    }
}

/// What a binding refers to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RoleRef {
    pub kind: RoleKind,
    pub name: String,
}

/// A RoleBinding (namespace set) or ClusterRoleBinding (`namespace: None`).
#[derive(Debug, Clone)]
pub struct Binding {
    pub name: String,
    pub namespace: Option<String>,
    pub role_ref: RoleRef,
    pub subjects: Vec<Subject>,
    /// Index of the role it grants, `None` when the role is not in the inventory (dangling:
    /// it grants nothing).
    pub role: Option<usize>,
    pub object: usize,
}

impl Binding {
    pub fn describe(&self) -> String {
        match &self.namespace {
            Some(ns) => format!("RoleBinding {}/{}", display_ns(ns), self.name),
            None => format!("ClusterRoleBinding {}", self.name),
        }
    }

    /// Whether a request from `identity` is covered by this binding's subjects.
    pub fn applies_to(&self, identity: &Identity) -> bool {
        self.subjects.iter().any(|s| match s {
            Subject::User { name } => *name == identity.user,
            Subject::Group { name } => identity.groups.contains(name),
            Subject::ServiceAccount { namespace, name } => {
                identity.user == format!("system:serviceaccount:{namespace}:{name}")
            }
        })
    }
}

/// A ServiceAccount in the inventory.
#[derive(Debug, Clone)]
pub struct ServiceAccount {
    pub namespace: String,
    pub name: String,
    /// `automountServiceAccountToken` of the account (None when unset: the default mounts).
    pub automount: Option<bool>,
    pub object: usize,
}

/// A workload (anything with a pod spec) and the identity its pods run as.
#[derive(Debug, Clone)]
pub struct Workload {
    pub namespace: String,
    pub kind: String,
    pub name: String,
    pub service_account: String,
    /// Whether the pods get a token for the service account (pod setting, else account's).
    pub token_mounted: bool,
    /// Why a compromised container of it is root on its node (a privileged container,
    /// `SYS_ADMIN`, a hostPath of the node's root, credentials or runtime socket), if it is.
    pub node_access: Option<String>,
    /// The nodes its pods run on (`spec.nodeName` of the Pods it controls, in a snapshot or
    /// live scan), sorted; empty when unknown.
    pub nodes: Vec<String>,
    /// The host path through which its pods show that their node holds control-plane
    /// credentials (`/etc/kubernetes/...`: the cluster CA key, admin kubeconfigs; or etcd's
    /// data under `/var/lib/etcd`), as kube-apiserver, kube-controller-manager and etcd do.
    pub control_plane_path: Option<String>,
    pub object: usize,
    /// Which of the object's pod templates this is, for a kind with several (a RayCluster's
    /// head and each worker group are workloads of their own); `None` for the one pod spec
    /// of any other kind.
    pub template: Option<GroupedTemplate>,
}

impl Workload {
    /// The pod spec its pods run: the object's, or its template's.
    pub fn pod_spec<'a>(&'a self, inventory: &'a Inventory) -> Option<PodSpec<'a>> {
        let object = inventory.objects.get(self.object)?;
        match &self.template {
            None => pod_spec(object),
            Some(template) => Some(grouped_pod_spec(object, template)),
        }
    }
}

/// Why a compromised container of this pod spec is root on its node, if it is (the one
/// answer, in `palisade_k8s::security`), its claims in `namespace` followed to their volumes.
fn node_access(pod: &PodSpec<'_>, namespace: &str, claims: &ClaimDirectories) -> Option<String> {
    let containers: Vec<(&Value, String)> =
        pod.containers().map(|c| (c.value, c.describe())).collect();
    palisade_k8s::security::node_takeover_with_claims(pod.value, containers.into_iter(), &|claim| {
        claims.get(namespace, claim).cloned()
    })
}

/// `(unset)` for objects written without a namespace.
pub use palisade_k8s::names::display_ns;

/// Why a workload name does not name one workload.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum WorkloadLookupError {
    #[error("no workload of that namespace and name in the scanned files")]
    None,
    #[error("several workloads match; use NAMESPACE/KIND/NAME")]
    Several,
}

/// What RBAC grants in an inventory: its roles (with the default ClusterRoles and
/// aggregation resolved), bindings and ServiceAccounts. It is read from the kinds in
/// [`Grants::READS`] alone, so the grants of a cluster read once stay true while an object of
/// any other kind is judged against it (a Pod at admission); the primitives each binding
/// gives are found once and kept with them.
#[derive(Debug, Default)]
pub struct Grants {
    pub roles: Vec<Role>,
    pub bindings: Vec<Binding>,
    pub service_accounts: Vec<ServiceAccount>,
    cluster_roles: HashMap<String, usize>,
    roles_by_namespace: HashMap<(String, String), usize>,
    binding_by_object: HashMap<usize, usize>,
    /// Per binding, the primitives it gives (see [`Policy::held_by`]), found on first use.
    held: Vec<std::sync::OnceLock<Vec<crate::primitives::Held>>>,
}

/// Every RBAC object of an inventory, with aggregation resolved ([`Grants`], which it
/// dereferences to), and the workloads that run as its service accounts.
#[derive(Debug, Clone, Default)]
pub struct Policy {
    grants: Arc<Grants>,
    pub workloads: Vec<Workload>,
    /// Each workload object's workloads: `workloads[start..end]` (one, or one per template).
    workload_by_object: HashMap<usize, (usize, usize)>,
    /// The claims' volumes on a node's directory, read with the workloads (a workload added
    /// later is read with the same).
    claims: Arc<ClaimDirectories>,
}

impl std::ops::Deref for Policy {
    type Target = Grants;

    fn deref(&self) -> &Grants {
        &self.grants
    }
}

/// An object's namespace; for one written without a namespace, a key of its own scope
/// (see [`palisade_k8s::names::unset_namespace`]).
pub fn namespace_of(inventory: &Inventory, object: &palisade_inventory::Object) -> String {
    object
        .id
        .namespace
        .clone()
        .unwrap_or_else(|| palisade_k8s::names::unset_namespace(inventory.scope_of(object)))
}

/// The kinds the RBAC authorizer decides from: roles and their bindings (the first kinds
/// [`Grants`] reads).
pub const AUTHORIZATION_KINDS: &[(&str, &str)] = Grants::READS.split_at(4).0;

/// The workloads read from the object at `index` of `inventory`: its pod spec when its
/// controller is not in the inventory (Pods and ReplicaSets of a controller in the inventory
/// run as it does, and those made from a template of a RayCluster, a JobSet, ... as that
/// template, [`Inventory::judged_through_template`]), or each of its pod templates for a
/// kind with several (none when it has no pod spec). `automount` is [`Grants::automount`].
fn workloads(
    inventory: &Inventory,
    index: usize,
    automount: &HashMap<(&str, &str), Option<bool>>,
    claims: &ClaimDirectories,
) -> Vec<Workload> {
    let object = &inventory.objects[index];
    let read = |pod: PodSpec<'_>, template: Option<GroupedTemplate>| {
        workload_of_pod(inventory, index, &pod, automount, claims, template)
    };
    let judged_elsewhere = || {
        inventory.controller_of(index).is_some()
            || inventory.judged_through_template(index).is_some()
    };
    match pod_spec(object) {
        Some(_) if judged_elsewhere() => Vec::new(),
        Some(pod) => vec![read(pod, None)],
        None => grouped_templates(object)
            .into_iter()
            .map(|template| read(grouped_pod_spec(object, &template), Some(template.clone())))
            .collect(),
    }
}

/// The workload whose pods run `pod`, a pod spec of the object at `index`.
fn workload_of_pod(
    inventory: &Inventory,
    index: usize,
    pod: &PodSpec<'_>,
    automount: &HashMap<(&str, &str), Option<bool>>,
    claims: &ClaimDirectories,
    template: Option<GroupedTemplate>,
) -> Workload {
    let object = &inventory.objects[index];
    let namespace = namespace_of(inventory, object);
    let node_access = node_access(pod, &namespace, claims);
    let spec = pod.value;
    let service_account = palisade_k8s::security::service_account(spec).to_string();
    let account_setting = automount
        .get(&(namespace.as_str(), service_account.as_str()))
        .copied()
        .flatten();
    let token_mounted = spec
        .get("automountServiceAccountToken")
        .and_then(Value::as_bool)
        .or(account_setting)
        .unwrap_or(true);
    Workload {
        namespace,
        kind: object.id.kind.clone(),
        name: object.id.display_name().to_string(),
        service_account,
        token_mounted,
        node_access,
        control_plane_path: palisade_k8s::security::control_plane_path(pod.value).map(String::from),
        nodes: Vec::new(),
        object: index,
        template,
    }
}

/// The node a core Pod is placed on (`spec.nodeName`), if any.
fn node_name(object: &palisade_inventory::Object) -> Option<&str> {
    if object.id.kind != "Pod" || !object.id.group().is_empty() {
        return None;
    }
    object
        .value
        .at("/spec/nodeName")
        .and_then(Value::as_str)
        .filter(|n| !n.is_empty())
}

impl Grants {
    /// The kinds `(group, kind)` grants are read from: the authorizer's, then the
    /// ServiceAccounts (whether they mount tokens).
    pub const READS: &'static [(&'static str, &'static str)] = &[
        (RBAC_GROUP, "Role"),
        (RBAC_GROUP, "ClusterRole"),
        (RBAC_GROUP, "RoleBinding"),
        (RBAC_GROUP, "ClusterRoleBinding"),
        ("", "ServiceAccount"),
    ];

    /// Each ServiceAccount's `automountServiceAccountToken`, by (namespace, name).
    fn automount(&self) -> HashMap<(&str, &str), Option<bool>> {
        self.service_accounts
            .iter()
            .map(|sa| ((sa.namespace.as_str(), sa.name.as_str()), sa.automount))
            .collect()
    }

    /// Reads the roles, bindings and ServiceAccounts of `inventory`.
    pub fn from_inventory(inventory: &Inventory) -> Grants {
        let mut policy = Grants::default();
        let mut aggregation: Vec<(usize, Vec<Value>)> = Vec::new();
        for (index, object) in inventory.objects.iter().enumerate() {
            let id = &object.id;
            match (id.group(), id.kind.as_str()) {
                (RBAC_GROUP, kind @ ("Role" | "ClusterRole")) => {
                    let Some(name) = id.name.clone() else {
                        continue;
                    };
                    let rules = PolicyRule::all_of(&object.value);
                    let role_index = policy.roles.len();
                    if kind == "ClusterRole" {
                        policy.cluster_roles.insert(name.clone(), role_index);
                        if let Some(selectors) = object
                            .value
                            .at("/aggregationRule/clusterRoleSelectors")
                            .and_then(Value::as_array)
                        {
                            aggregation.push((role_index, selectors.clone()));
                        }
                    } else {
                        policy
                            .roles_by_namespace
                            .insert((namespace_of(inventory, object), name.clone()), role_index);
                    }
                    policy.roles.push(Role {
                        kind: if kind == "Role" {
                            RoleKind::Role
                        } else {
                            RoleKind::ClusterRole
                        },
                        name,
                        namespace: (kind == "Role").then(|| namespace_of(inventory, object)),
                        rules,
                        object: Some(index),
                    });
                }
                ("", "ServiceAccount") => {
                    let Some(name) = id.name.clone() else {
                        continue;
                    };
                    policy.service_accounts.push(ServiceAccount {
                        namespace: namespace_of(inventory, object),
                        name,
                        automount: object
                            .value
                            .get("automountServiceAccountToken")
                            .and_then(Value::as_bool),
                        object: index,
                    });
                }
                _ => {}
            }
        }
        policy.add_default_cluster_roles();
        policy.aggregate(inventory, &aggregation);
        for (index, object) in inventory.objects.iter().enumerate() {
            let id = &object.id;
            if id.group() == RBAC_GROUP
                && matches!(id.kind.as_str(), "RoleBinding" | "ClusterRoleBinding")
                && let Some(binding) = policy.binding(inventory, object, index)
            {
                policy
                    .binding_by_object
                    .insert(index, policy.bindings.len());
                policy.bindings.push(binding);
            }
        }
        policy.held = policy
            .bindings
            .iter()
            .map(|_| std::sync::OnceLock::new())
            .collect();
        policy
    }
}

impl Policy {
    /// Reads the RBAC objects, ServiceAccounts and workloads of `inventory`.
    pub fn from_inventory(inventory: &Inventory) -> Policy {
        Policy::with_grants(inventory, Arc::new(Grants::from_inventory(inventory)))
    }

    /// The policy of `inventory` with `grants` read before (from this inventory, or from one
    /// that differs from it only in objects of kinds [`Grants`] does not read, at the same
    /// indices): only the workloads are read.
    pub fn with_grants(inventory: &Inventory, grants: Arc<Grants>) -> Policy {
        let automount = grants.automount();
        let claims = Arc::new(ClaimDirectories::build(inventory));
        let mut workloads = Vec::new();
        let mut workload_by_object = HashMap::new();
        for index in 0..inventory.objects.len() {
            let read = self::workloads(inventory, index, &automount, &claims);
            if !read.is_empty() {
                let start = workloads.len();
                workloads.extend(read);
                workload_by_object.insert(index, (start, workloads.len()));
            }
        }
        drop(automount);
        let mut policy = Policy {
            grants,
            workloads,
            workload_by_object,
            claims,
        };
        // Where the pods run: each Pod's node goes to the workload it is judged on.
        for (index, object) in inventory.objects.iter().enumerate() {
            let Some(node) = node_name(object) else {
                continue;
            };
            if let Some(w) = policy.workload_judging(inventory, index) {
                policy.workloads[w].nodes.push(node.to_string());
            }
        }
        for workload in &mut policy.workloads {
            workload.nodes.sort_unstable();
            workload.nodes.dedup();
        }
        policy
    }

    /// The policy of `inventory` when it holds this policy's objects, unchanged in what a
    /// policy reads and with their controllers, and after them the object at `index`, a
    /// workload object of its own (a pod spec, no controller in the inventory, or a kind with
    /// several pod templates; `None` for another object): what [`Policy::with_grants`] reads,
    /// without reading every object again (the claims' volumes included: the added object is
    /// a workload, not a claim or a volume). Its workloads come last, as they would there,
    /// with its own node when it is a placed Pod.
    pub fn with_new_workload(&self, inventory: &Inventory, index: usize) -> Option<Policy> {
        let automount = self.grants.automount();
        let mut added = workloads(inventory, index, &automount, &self.claims);
        let first = added.first_mut()?;
        if let Some(node) = node_name(&inventory.objects[index]) {
            first.nodes.push(node.to_string());
        }
        let mut policy = self.clone();
        let start = policy.workloads.len();
        policy.workloads.extend(added);
        policy
            .workload_by_object
            .insert(index, (start, policy.workloads.len()));
        Some(policy)
    }

    /// The workload read from inventory object `index`: its one, or the first of its
    /// templates' ([`Policy::workloads_of_object`] gives them all).
    pub fn workload_of_object(&self, index: usize) -> Option<usize> {
        self.workload_by_object.get(&index).map(|&(start, _)| start)
    }

    /// Every workload read from inventory object `index`: one per pod template of a kind
    /// with several, else at most one.
    pub fn workloads_of_object(&self, index: usize) -> std::ops::Range<usize> {
        self.workload_by_object
            .get(&index)
            .map_or(0..0, |&(start, end)| start..end)
    }

    /// The workload the object at `index` of `inventory` (the inventory this policy was read
    /// from) is judged as: its own, its controller's, or that of the template of a
    /// RayCluster, JobSet, ... it is made from ([`Inventory::judged_through_template`]).
    pub fn workload_judging(&self, inventory: &Inventory, index: usize) -> Option<usize> {
        match inventory.judged_through_template(index) {
            Some((holder, template)) => self.workload_of_pod(holder, &template.spec),
            None => self.workload_of_object(inventory.controller_of(index).unwrap_or(index)),
        }
    }

    /// The workload whose pods run the pod spec at `pointer` of inventory object `index`
    /// (a template's, for a kind with several).
    pub fn workload_of_pod(&self, index: usize, pointer: &str) -> Option<usize> {
        self.workloads_of_object(index).find(|&w| {
            self.workloads[w]
                .template
                .as_ref()
                .is_none_or(|t| t.spec == pointer)
        })
    }

    /// The workloads of the object `NAMESPACE/NAME` or `NAMESPACE/KIND/NAME` (kind in any
    /// case) names: its one, or one per pod template of a kind with several.
    pub fn find_workload(&self, spec: &str) -> Result<std::ops::Range<usize>, WorkloadLookupError> {
        let parts: Vec<&str> = spec.split('/').collect();
        let mut objects: Vec<usize> = self
            .workloads
            .iter()
            .filter(|w| match parts.as_slice() {
                [ns, name] => w.namespace == *ns && w.name == *name,
                [ns, kind, name] => {
                    w.namespace == *ns && w.kind.eq_ignore_ascii_case(kind) && w.name == *name
                }
                _ => false,
            })
            .map(|w| w.object)
            .collect();
        objects.dedup();
        match objects.as_slice() {
            [] => Err(WorkloadLookupError::None),
            [object] => Ok(self.workloads_of_object(*object)),
            _ => Err(WorkloadLookupError::Several),
        }
    }

    /// Every subject named by some binding, plus every ServiceAccount and workload identity.
    pub fn known_subjects(&self) -> BTreeSet<Subject> {
        let mut subjects: BTreeSet<Subject> = self
            .bindings
            .iter()
            .flat_map(|b| b.subjects.iter().cloned())
            .collect();
        for sa in &self.service_accounts {
            subjects.insert(Subject::service_account(&sa.namespace, &sa.name));
        }
        for w in &self.workloads {
            subjects.insert(Subject::service_account(&w.namespace, &w.service_account));
        }
        subjects
    }

    /// The workloads whose pods call the API server, as far as the input shows: they mount
    /// their account's token, and a binding grants that account something by name (the
    /// account itself, or every account of its namespace, `system:serviceaccounts:NS`). The
    /// groups every account or every user is in (`system:serviceaccounts`,
    /// `system:authenticated`) do not count: every cluster binds them to its discovery roles,
    /// which no pod needs the API server for. Inventory object indices, sorted.
    pub fn api_clients(&self) -> Vec<usize> {
        let named = |w: &Workload, subject: &Subject| match subject {
            Subject::ServiceAccount { namespace, name } => {
                *namespace == w.namespace && *name == w.service_account
            }
            Subject::Group { name } => name
                .strip_prefix("system:serviceaccounts:")
                .is_some_and(|ns| ns == w.namespace),
            Subject::User { .. } => false,
        };
        let grants = |b: &Binding| b.role.is_some_and(|r| !self.roles[r].rules.is_empty());
        let mut clients: Vec<usize> = self
            .workloads
            .iter()
            .filter(|w| w.token_mounted)
            .filter(|w| {
                self.bindings
                    .iter()
                    .any(|b| grants(b) && b.subjects.iter().any(|s| named(w, s)))
            })
            .map(|w| w.object)
            .collect();
        clients.sort_unstable();
        clients.dedup();
        clients
    }

    /// The primitives binding `index` gives its subjects ([`Policy::primitives_of`]), found
    /// once for the grants however many policies share them.
    pub fn held_by(&self, index: usize) -> &[crate::primitives::Held] {
        match self.grants.held.get(index) {
            Some(held) => held.get_or_init(|| self.primitives_of(&self.bindings[index])),
            None => &[],
        }
    }
}

impl Grants {
    /// The default user-facing ClusterRoles, where the inventory does not define them.
    fn add_default_cluster_roles(&mut self) {
        static DEFAULTS: std::sync::LazyLock<Vec<(String, Vec<PolicyRule>)>> =
            std::sync::LazyLock::new(|| {
                let loaded = palisade_inventory::load_text(
                    "built-in",
                    crate::builtin::DEFAULT_CLUSTER_ROLES,
                    &palisade_inventory::Limits::default(),
                );
                loaded
                    .inventory
                    .objects
                    .iter()
                    .map(|o| {
                        let rules = PolicyRule::all_of(&o.value);
                        (o.id.display_name().to_string(), rules)
                    })
                    .collect()
            });
        for (name, rules) in DEFAULTS.iter() {
            if !self.cluster_roles.contains_key(name) {
                self.cluster_roles.insert(name.clone(), self.roles.len());
                self.roles.push(Role {
                    kind: RoleKind::ClusterRole,
                    name: name.clone(),
                    namespace: None,
                    rules: rules.clone(),
                    object: None,
                });
            }
        }
    }

    /// Resolves `aggregationRule`s the way the aggregation controller does, to a fixed point
    /// (aggregated roles may themselves be aggregated).
    fn aggregate(&mut self, inventory: &Inventory, aggregating: &[(usize, Vec<Value>)]) {
        for _ in 0..8 {
            let mut changed = false;
            for (target, selectors) in aggregating {
                let mut rules: Vec<PolicyRule> = Vec::new();
                let mut seen = BTreeSet::new();
                for (source_index, source) in self.roles.iter().enumerate() {
                    if source.kind != RoleKind::ClusterRole || source_index == *target {
                        continue;
                    }
                    let Some(object) = source.object else {
                        continue;
                    };
                    let labels = inventory.objects[object]
                        .value
                        .at("/metadata/labels")
                        .and_then(Value::as_object);
                    if !selectors
                        .iter()
                        .any(|s| !s.is_null() && label_selector_matches(s, labels))
                    {
                        continue;
                    }
                    for rule in &source.rules {
                        let mut rule = rule.clone();
                        rule.aggregated_from
                            .get_or_insert_with(|| source.name.clone());
                        let key = (
                            rule.verbs.clone(),
                            rule.api_groups.clone(),
                            rule.resources.clone(),
                            rule.resource_names.clone(),
                            rule.non_resource_urls.clone(),
                        );
                        if seen.insert(key) {
                            rule.index = rules.len();
                            rules.push(rule);
                        }
                    }
                }
                if self.roles[*target].rules != rules {
                    self.roles[*target].rules = rules;
                    changed = true;
                }
            }
            if !changed {
                break;
            }
        }
    }

    fn binding(
        &self,
        inventory: &Inventory,
        object: &palisade_inventory::Object,
        index: usize,
    ) -> Option<Binding> {
        let name = object.id.name.clone()?;
        let cluster = object.id.kind == "ClusterRoleBinding";
        let namespace = (!cluster).then(|| namespace_of(inventory, object));
        let role_ref = object.value.get("roleRef")?;
        let kind = match role_ref.get("kind").and_then(Value::as_str)? {
            "ClusterRole" => RoleKind::ClusterRole,
            "Role" if !cluster => RoleKind::Role,
            _ => return None,
        };
        let role_name = role_ref.get("name").and_then(Value::as_str)?.to_string();
        let subjects = object
            .value
            .get("subjects")
            .and_then(Value::as_array)
            .map(|subjects| {
                subjects
                    .iter()
                    .filter_map(|s| {
                        let name = s.get("name").and_then(Value::as_str)?.to_string();
                        match s.get("kind").and_then(Value::as_str)? {
                            "User" => Some(Subject::User { name }),
                            "Group" => Some(Subject::Group { name }),
                            "ServiceAccount" => Some(Subject::ServiceAccount {
                                // The authorizer defaults a subject's namespace to the binding's.
                                namespace: s
                                    .get("namespace")
                                    .and_then(Value::as_str)
                                    .map(str::to_string)
                                    .or_else(|| namespace.clone())
                                    .unwrap_or_default(),
                                name,
                            }),
                            _ => None,
                        }
                    })
                    .collect()
            })
            .unwrap_or_default();
        let role = match kind {
            RoleKind::ClusterRole => self.cluster_roles.get(&role_name).copied(),
            RoleKind::Role => self
                .roles_by_namespace
                .get(&(namespace.clone().unwrap_or_default(), role_name.clone()))
                .copied(),
        };
        Some(Binding {
            name,
            namespace,
            role_ref: RoleRef {
                kind,
                name: role_name,
            },
            subjects,
            role,
            object: index,
        })
    }

    /// The binding read from inventory object `index`.
    pub fn binding_of_object(&self, index: usize) -> Option<usize> {
        self.binding_by_object.get(&index).copied()
    }

    /// The ClusterRole named `name`.
    pub fn cluster_role(&self, name: &str) -> Option<&Role> {
        self.cluster_roles.get(name).map(|i| &self.roles[*i])
    }

    /// Bindings that apply to `identity`.
    pub fn bindings_of<'a>(
        &'a self,
        identity: &'a Identity,
    ) -> impl Iterator<Item = &'a Binding> + 'a {
        self.bindings.iter().filter(move |b| b.applies_to(identity))
    }
}

#[cfg(test)]
mod tests {
    use palisade_inventory::{Limits, load_text};

    use super::Policy;

    /// `node_access` of a Pod with `spec` (YAML flow mapping).
    fn node_access(spec: &str) -> Option<String> {
        let yaml = format!(
            "apiVersion: v1\nkind: Pod\nmetadata: {{name: p, namespace: n}}\nspec: {spec}\n"
        );
        let loaded = load_text("pod.yaml", &yaml, &Limits::default());
        assert!(loaded.diagnostics.is_empty(), "{:?}", loaded.diagnostics);
        Policy::from_inventory(&loaded.inventory).workloads[0]
            .node_access
            .clone()
    }

    /// A workload calls the API server when its account is granted something by name or as
    /// one of its namespace's accounts, and it mounts the token; the groups every account is
    /// in, and a binding to nothing, do not count.
    #[test]
    fn api_clients_are_granted_accounts_that_mount_their_token() {
        let pod = |name: &str, account: &str, mount: bool| {
            format!(
                "apiVersion: v1\nkind: Pod\nmetadata: {{name: {name}, namespace: ops}}\nspec: {{serviceAccountName: {account}, automountServiceAccountToken: {mount}, containers: [{{name: c, image: x}}]}}\n---\n"
            )
        };
        let binding = |name: &str, role: &str, subject: &str| {
            format!(
                "apiVersion: rbac.authorization.k8s.io/v1\nkind: RoleBinding\nmetadata: {{name: {name}, namespace: ops}}\nroleRef: {{apiGroup: rbac.authorization.k8s.io, kind: Role, name: {role}}}\nsubjects: [{subject}]\n---\n"
            )
        };
        let yaml = [
            pod("named", "op", true),
            pod("unmounted", "op", false),
            pod("plain", "default", true),
            pod("grouped", "batch", true),
            pod("empty-role", "idle", true),
            binding("op", "leases", "{kind: ServiceAccount, name: op, namespace: ops}"),
            binding("all", "leases", "{kind: Group, name: 'system:serviceaccounts', apiGroup: rbac.authorization.k8s.io}"),
            binding("authn", "leases", "{kind: Group, name: 'system:authenticated', apiGroup: rbac.authorization.k8s.io}"),
            binding("ns", "leases", "{kind: Group, name: 'system:serviceaccounts:other', apiGroup: rbac.authorization.k8s.io}"),
            binding("idle", "nothing", "{kind: ServiceAccount, name: idle, namespace: ops}"),
            "apiVersion: rbac.authorization.k8s.io/v1\nkind: Role\nmetadata: {name: leases, namespace: ops}\nrules: [{apiGroups: [coordination.k8s.io], resources: [leases], verbs: [get]}]\n---\n".into(),
            "apiVersion: rbac.authorization.k8s.io/v1\nkind: Role\nmetadata: {name: nothing, namespace: ops}\nrules: []\n".into(),
        ]
        .concat();
        let loaded = load_text("rbac.yaml", &yaml, &Limits::default());
        let names =
            |inventory: &palisade_inventory::Inventory, objects: Vec<usize>| -> Vec<String> {
                objects
                    .into_iter()
                    .map(|i| inventory.objects[i].id.name.clone().unwrap_or_default())
                    .collect()
            };
        let policy = Policy::from_inventory(&loaded.inventory);
        assert_eq!(names(&loaded.inventory, policy.api_clients()), ["named"]);
        // Every account of the namespace, by its group.
        let yaml = yaml.replace("system:serviceaccounts:other", "system:serviceaccounts:ops");
        let loaded = load_text("rbac.yaml", &yaml, &Limits::default());
        let policy = Policy::from_inventory(&loaded.inventory);
        assert_eq!(
            names(&loaded.inventory, policy.api_clients()),
            ["named", "plain", "grouped", "empty-role"]
        );
    }

    #[test]
    fn containers_that_own_their_node() {
        let privileged =
            node_access("{containers: [{name: c, image: x, securityContext: {privileged: true}}]}");
        assert_eq!(
            privileged.as_deref(),
            Some("container \"c\" runs privileged")
        );
        let sys_admin = node_access(
            "{containers: [{name: c, image: x, securityContext: {capabilities: {add: [CAP_SYS_ADMIN]}}}]}",
        );
        assert_eq!(sys_admin.as_deref(), Some("container \"c\" adds SYS_ADMIN"));
        let root_fs = node_access(
            "{volumes: [{name: host, hostPath: {path: /}}], containers: [{name: c, image: x, volumeMounts: [{name: host, mountPath: /host, readOnly: true}]}]}",
        );
        assert!(
            root_fs.as_deref().is_some_and(
                |w| w.starts_with("container \"c\" may run as root and mounts hostPath / (")
            ),
            "{root_fs:?}"
        );
        // The container overrides the pod's non-root setting.
        let overridden = node_access(
            "{securityContext: {runAsNonRoot: true}, volumes: [{name: sock, hostPath: {path: /run/containerd/containerd.sock}}], initContainers: [{name: i, image: x, securityContext: {runAsUser: 0}, volumeMounts: [{name: sock, mountPath: /s}]}]}",
        );
        assert!(overridden.is_some_and(|w| w.contains("init container \"i\"")));
    }

    /// A claim bound to a PersistentVolume on the node's root is the node's root, whichever
    /// side names the binding; Pod Security would let this pod through under `restricted`
    /// but for its root user.
    #[test]
    fn a_claim_on_the_nodes_directory_owns_the_node() {
        let pod = "apiVersion: v1\nkind: Pod\nmetadata: {name: p, namespace: ci}\nspec: {volumes: [{name: data, persistentVolumeClaim: {claimName: scratch}}], containers: [{name: c, image: x, volumeMounts: [{name: data, mountPath: /data}]}]}\n";
        let by_claim_ref = "apiVersion: v1\nkind: PersistentVolume\nmetadata: {name: node-root}\nspec: {hostPath: {path: /}, claimRef: {namespace: ci, name: scratch}}\n";
        let by_volume_name = "apiVersion: v1\nkind: PersistentVolume\nmetadata: {name: node-root}\nspec: {hostPath: {path: /}}\n---\napiVersion: v1\nkind: PersistentVolumeClaim\nmetadata: {name: scratch, namespace: ci}\nspec: {volumeName: node-root}\n";
        for cluster in [by_claim_ref, by_volume_name] {
            let yaml = format!("{pod}---\n{cluster}");
            let loaded = load_text("cluster.yaml", &yaml, &Limits::default());
            let access = Policy::from_inventory(&loaded.inventory).workloads[0]
                .node_access
                .clone();
            assert_eq!(
                access.as_deref(),
                Some(
                    "container \"c\" may run as root and mounts claim scratch, bound to PersistentVolume node-root on hostPath / (the node's whole file system)"
                )
            );
        }
        // The same claim on a cloud disk, or a claim of another namespace, is storage.
        let cloud = "apiVersion: v1\nkind: PersistentVolume\nmetadata: {name: node-root}\nspec: {csi: {driver: ebs.csi.aws.com, volumeHandle: v}, claimRef: {namespace: ci, name: scratch}}\n";
        let elsewhere = by_claim_ref.replace("namespace: ci", "namespace: other");
        for cluster in [cloud.to_string(), elsewhere] {
            let yaml = format!("{pod}---\n{cluster}");
            let loaded = load_text("cluster.yaml", &yaml, &Limits::default());
            assert_eq!(
                Policy::from_inventory(&loaded.inventory).workloads[0].node_access,
                None
            );
        }
    }

    #[test]
    fn containers_that_do_not_own_their_node() {
        assert_eq!(node_access("{containers: [{name: c, image: x}]}"), None);
        // A non-root user cannot read root's files or use root's sockets.
        for context in ["{runAsNonRoot: true}", "{runAsUser: 65534}"] {
            let spec = format!(
                "{{securityContext: {context}, volumes: [{{name: host, hostPath: {{path: /}}}}], containers: [{{name: c, image: x, volumeMounts: [{{name: host, mountPath: /host}}]}}]}}"
            );
            assert_eq!(node_access(&spec), None, "{context}");
        }
        // A harmless host path, and a sensitive one that no container mounts.
        assert_eq!(
            node_access(
                "{volumes: [{name: data, hostPath: {path: /data}}], containers: [{name: c, image: x, volumeMounts: [{name: data, mountPath: /d}]}]}"
            ),
            None
        );
        assert_eq!(
            node_access(
                "{volumes: [{name: host, hostPath: {path: /}}], containers: [{name: c, image: x}]}"
            ),
            None
        );
    }
}
