//! External Secrets Operator: which namespaces may use a secret store, and the steps of the
//! escalation graph a store that reads this cluster's Secrets gives.
//!
//! A `SecretStore` serves the ExternalSecrets of its own namespace; a `ClusterSecretStore`
//! those of every namespace its `spec.conditions` take (none: every namespace). A condition
//! takes a namespace its `namespaceSelector` selects, that its `namespaces` names, or whose
//! name one of its `namespaceRegexes` finds (searched unanchored, as the operator's Go
//! `regexp.MatchString` searches).
//!
//! A store of the `kubernetes` provider without a `server.url` (or with the in-cluster API
//! server's) reads the Secrets of `remoteNamespace` (`default` when unset) of this cluster:
//! whoever may create an ExternalSecret where the store may be used reads them, `dataFrom`
//! finding every one (MITRE ATT&CK T1552.007). The store reads as the identity its `auth`
//! names: a service account, checked against RBAC (a store whose account may not read those
//! Secrets gives nothing; one a ClusterSecretStore names without a namespace is each using
//! namespace's own), or a token or certificate whose identity the input does not say, taken
//! as able. Stores of other providers (Vault, the clouds' secret managers) read outside
//! the cluster; SEC024 reports those open to every namespace.

use std::collections::HashSet;

use palisade_core::JsonPointer;
use palisade_core::selector::{NamespaceSelection, namespace_selected, selects_everything};
use palisade_core::tree::Tree as _;
use palisade_graph::{Change, Fix, Graph, Node, Relation};
use palisade_inventory::{Inventory, Object};
use palisade_k8s::identity::Subject;
use serde_json::{Map, Value};

use crate::authorizer::Request;
use crate::graph::Brakes;
use crate::model::Policy;

/// The External Secrets Operator's API group.
pub const GROUP: &str = "external-secrets.io";

/// The kinds the escalation graph reads of the operator.
pub const READS: &[(&str, &str)] = &[(GROUP, "ClusterSecretStore"), (GROUP, "SecretStore")];

/// Names no condition is written for: a pattern that finds every one finds any namespace.
const ANY_NAMES: &[&str] = &["palisade-any-namespace-7", "a", "kube-system", "default"];

/// A condition of a ClusterSecretStore that takes every namespace.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OpenCondition {
    /// Where, from the store's root.
    pub path: JsonPointer,
    /// Why, for a message.
    pub why: String,
}

/// Whether a ClusterSecretStore may be used from every namespace.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Openness {
    /// It has no conditions.
    NoConditions,
    /// This condition takes every namespace.
    Open(OpenCondition),
    /// Its conditions narrow it.
    Narrowed,
}

/// Whether `store` (a ClusterSecretStore) may be used from every namespace: without
/// conditions, or with one that takes every namespace (a `namespaceSelector` that selects a
/// namespace carrying no label but its name, a pattern that finds every name).
pub fn open_to_every_namespace(store: &Value) -> Openness {
    let conditions = conditions(store);
    if conditions.is_empty() {
        return Openness::NoConditions;
    }
    let at = JsonPointer::root().join("spec").join("conditions");
    for (i, condition) in conditions.iter().enumerate() {
        let at = at.join(i);
        if let Some(selector) = condition.get("namespaceSelector").filter(|s| s.is_object()) {
            let mut labels = Map::new();
            labels.insert(
                palisade_core::selector::NAMESPACE_NAME_LABEL.to_string(),
                Value::String(ANY_NAMES[0].to_string()),
            );
            if namespace_selected(selector, ANY_NAMES[0], Some(&labels))
                == NamespaceSelection::Selected
            {
                let why = if selects_everything(selector) {
                    "its namespaceSelector is empty and selects every namespace"
                } else {
                    "its namespaceSelector selects a namespace that carries no label but its name, so it takes every namespace created without one"
                };
                return Openness::Open(OpenCondition {
                    path: at.join("namespaceSelector"),
                    why: why.to_string(),
                });
            }
        }
        for (j, pattern) in patterns(condition) {
            if pattern_finds_any_name(pattern) {
                return Openness::Open(OpenCondition {
                    path: at.join("namespaceRegexes").join(j),
                    why: format!("the pattern `{pattern}` matches every namespace name"),
                });
            }
        }
    }
    Openness::Narrowed
}

/// Whether ExternalSecrets of `namespace` may use the ClusterSecretStore `store`. `labels`
/// are the namespace's, `None` when the input has no Namespace object for it: a selector
/// that reads other labels than the name then may take it, and is taken to.
pub fn usable_from(store: &Value, namespace: &str, labels: Option<&Map<String, Value>>) -> bool {
    let conditions = conditions(store);
    conditions.is_empty()
        || conditions.iter().any(|condition| {
            let selected = condition
                .get("namespaceSelector")
                .filter(|s| s.is_object())
                .is_some_and(|selector| {
                    namespace_selected(selector, namespace, labels)
                        != NamespaceSelection::NotSelected
                });
            let named = condition
                .get("namespaces")
                .and_then(Value::as_array)
                .is_some_and(|names| names.iter().any(|n| n.as_str() == Some(namespace)));
            let found = patterns(condition)
                .any(|(_, p)| compile(p).is_some_and(|re| re.is_match(namespace)));
            selected || named || found
        })
}

/// The namespace whose Secrets a store of the `kubernetes` provider reads (its
/// `remoteNamespace`, `default` when unset); `None` for a store of another provider.
pub fn kubernetes_namespace(store: &Value) -> Option<&str> {
    let provider = store.at("/spec/provider/kubernetes")?;
    Some(
        provider
            .get("remoteNamespace")
            .and_then(Value::as_str)
            .unwrap_or("default"),
    )
}

fn conditions(store: &Value) -> &[Value] {
    store
        .at("/spec/conditions")
        .and_then(Value::as_array)
        .map_or(&[], Vec::as_slice)
}

fn patterns(condition: &Value) -> impl Iterator<Item = (usize, &str)> {
    condition
        .get("namespaceRegexes")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .enumerate()
        .filter_map(|(j, p)| Some((j, p.as_str()?)))
}

/// A namespace pattern, bounded in size; `None` when it does not compile (the operator then
/// takes no namespace by it).
fn compile(pattern: &str) -> Option<regex::Regex> {
    regex::RegexBuilder::new(pattern)
        .size_limit(1 << 20)
        .build()
        .ok()
}

/// Whether a namespace pattern finds every name.
fn pattern_finds_any_name(pattern: &str) -> bool {
    compile(pattern).is_some_and(|re| ANY_NAMES.iter().all(|name| re.is_match(name)))
}

/// Adds the steps every store of `inventory` that reads this cluster's Secrets gives: from
/// whoever may create an ExternalSecret where the store may be used to the Secrets it reads.
pub(crate) fn add_secret_stores(
    g: &mut Graph,
    policy: &Policy,
    inventory: &Inventory,
    _brakes: &Brakes<'_>,
) {
    for kind in ["ClusterSecretStore", "SecretStore"] {
        for store in inventory.of_kind(GROUP, kind) {
            add_store(g, policy, inventory, store);
        }
    }
}

/// Whom the Kubernetes provider of a store reads as.
enum Reader {
    /// A service account of a namespace the store names (a SecretStore's own by default).
    Account(Subject),
    /// A ClusterSecretStore's service account named without a namespace: the operator looks
    /// it up in the namespace of each ExternalSecret that uses the store.
    Referent(String),
    /// A token or certificate, whose identity the input does not say.
    Unnamed,
}

/// What the Kubernetes provider of a store reads in this cluster: the namespace, and whom it
/// reads as.
struct LocalReads {
    namespace: String,
    reader: Reader,
}

/// The Secrets `store` reads in this cluster, when it reads any.
fn local_reads(store: &Object, store_ns: Option<&str>) -> Option<LocalReads> {
    let provider = store.value.at("/spec/provider/kubernetes")?;
    let url = provider.at("/server/url").and_then(Value::as_str);
    let in_cluster = url.is_none_or(|url| {
        let host = url
            .trim_start_matches("https://")
            .split(['/', ':'])
            .next()
            .unwrap_or_default();
        host == "kubernetes.default"
            || host == "kubernetes.default.svc"
            || host.starts_with("kubernetes.default.svc.")
    });
    if !in_cluster {
        return None;
    }
    let namespace = kubernetes_namespace(&store.value)?.to_string();
    let account = provider.at("/auth/serviceAccount");
    let reader = match account.and_then(|a| a.get("name")).and_then(Value::as_str) {
        None => Reader::Unnamed,
        Some(name) => match account
            .and_then(|a| a.get("namespace"))
            .and_then(Value::as_str)
            .or(store_ns)
        {
            Some(ns) => Reader::Account(Subject::service_account(ns, name)),
            None => Reader::Referent(name.to_string()),
        },
    };
    Some(LocalReads { namespace, reader })
}

/// The bindings that let `who` read the Secrets of `namespace` (`get` or `list`).
fn read_bindings(policy: &Policy, who: &Subject, namespace: &str) -> Vec<usize> {
    let mut bindings: Vec<usize> = ["get", "list"]
        .iter()
        .flat_map(|verb| {
            let request = Request::resource(verb, "", "secrets", Some(namespace));
            policy.authorize(&who.identity(), &request)
        })
        .map(|grant| grant.binding)
        .collect();
    bindings.sort_unstable();
    bindings.dedup();
    bindings
}

/// The steps `store` gives.
fn add_store(g: &mut Graph, policy: &Policy, inventory: &Inventory, store: &Object) {
    let cluster_wide = store.id.kind == "ClusterSecretStore";
    let own_ns = (!cluster_wide).then(|| crate::model::namespace_of(inventory, store));
    let Some(reads) = local_reads(store, own_ns.as_deref()) else {
        return;
    };
    let mut usable = where_usable(policy, inventory, store, own_ns.as_deref());
    // The bindings that let the store's account read those Secrets: a store whose account
    // may not read them reads nothing.
    let account_bindings = match &reads.reader {
        Reader::Account(who) => read_bindings(policy, who, &reads.namespace),
        Reader::Referent(name) => {
            // Each namespace's own account of that name reads for its ExternalSecrets.
            usable.retain(|ns| {
                ns.as_ref().is_none_or(|ns| {
                    let who = Subject::service_account(ns, name);
                    !read_bindings(policy, &who, &reads.namespace).is_empty()
                })
            });
            if usable.iter().all(Option::is_none) {
                usable.clear();
            }
            Vec::new()
        }
        Reader::Unnamed => Vec::new(),
    };
    if usable.is_empty()
        || matches!(reads.reader, Reader::Account(_)) && account_bindings.is_empty()
    {
        return;
    }
    let name = match &own_ns {
        Some(ns) => format!("{ns}/{}", store.id.display_name()),
        None => store.id.display_name().to_string(),
    };
    let reader = match &reads.reader {
        Reader::Account(who) => format!("as {who}"),
        Reader::Referent(account) => {
            format!("as the ServiceAccount {account} of the ExternalSecret's namespace")
        }
        Reader::Unnamed => "with the credentials it holds".to_string(),
    };
    let to = Node::Secrets {
        namespace: Some(reads.namespace.clone()),
    };
    let restrict = g.fix_with(|| {
        Fix::new(
            Change::RestrictSecretStore,
            format!("{} {name}", store.id.kind),
        )
    });
    // One binding alone lets the account read: narrowing it cuts the step too.
    let account_fix = match account_bindings.as_slice() {
        [only] => {
            let binding = &policy.bindings[*only];
            g.fix_with(|| Fix::new(Change::NarrowBinding, binding.describe()))
        }
        _ => None,
    };
    let fills = format!(
        "which {} {name} (Kubernetes provider) fills from the Secrets of namespace {} {reader}",
        store.id.kind, reads.namespace
    );
    // Who may have an ExternalSecret made where the store may be used: its creators there,
    // and the creators of ClusterExternalSecrets, which make them in the namespaces they
    // select.
    let mut asks: Vec<(Request, Option<String>)> = usable
        .iter()
        .map(|ns| {
            let request = Request::resource("create", GROUP, "externalsecrets", ns.as_deref());
            (request, ns.clone())
        })
        .collect();
    let request = Request::resource("create", GROUP, "clusterexternalsecrets", None);
    asks.push((request, None));
    let mut seen: HashSet<usize> = HashSet::new();
    for (request, namespace) in asks {
        for grant in policy.grants_for(&request) {
            if !seen.insert(grant.binding) {
                continue;
            }
            let binding = &policy.bindings[grant.binding];
            let narrow = g.fix_with(|| Fix::new(Change::NarrowBinding, binding.describe()));
            let made = if request.resource == "clusterexternalsecrets" {
                "create ClusterExternalSecrets, which make ExternalSecrets in the namespaces they select".to_string()
            } else {
                match (&binding.namespace, &namespace) {
                    (Some(ns), _) | (None, Some(ns)) => {
                        format!("create ExternalSecrets in namespace {ns}")
                    }
                    (None, None) => "create ExternalSecrets in any namespace".to_string(),
                }
            };
            let evidence = format!("{}: {made}, {fills}", policy.evidence(&grant));
            for subject in &binding.subjects {
                let narrow = narrow.filter(|_| !crate::builtin::is_default_grant(binding, subject));
                let fix = g.fix_either(&[narrow, restrict, account_fix]);
                g.edge_fixed(
                    Node::identity(subject.clone()),
                    to.clone(),
                    Relation::Grants,
                    evidence.clone(),
                    fix,
                );
            }
        }
    }
}

/// The namespaces whose ExternalSecrets may use `store`, as requests name them: its own for a
/// SecretStore; for a ClusterSecretStore, each namespace a binding of the input grants in
/// that its conditions take, and `None` (any namespace, which cluster-wide grants cover) when
/// some namespace may use it.
fn where_usable(
    policy: &Policy,
    inventory: &Inventory,
    store: &Object,
    own_ns: Option<&str>,
) -> Vec<Option<String>> {
    if let Some(ns) = own_ns {
        return vec![Some(ns.to_string())];
    }
    let mut namespaces: Vec<String> = policy
        .bindings
        .iter()
        .filter_map(|b| b.namespace.clone())
        .collect();
    namespaces.sort();
    namespaces.dedup();
    let usable: Vec<Option<String>> = namespaces
        .into_iter()
        .filter(|ns| {
            let labels = inventory.served_labels_of_namespace(ns);
            usable_from(&store.value, ns, labels.as_ref())
        })
        .map(Some)
        .collect();
    let anywhere = conditions(&store.value).is_empty() || !usable.is_empty();
    let mut out = usable;
    if anywhere {
        out.push(None);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use palisade_graph::Goal;
    use palisade_inventory::{Limits, load_text};
    use serde_json::json;

    /// A store of the Kubernetes provider reading namespace `platform` as
    /// `external-secrets/eso-reader`, which may read the Secrets there; group `shop-devs` may
    /// create ExternalSecrets in `shop`.
    const CLUSTER: &str = "apiVersion: v1\nkind: ServiceAccount\nmetadata: {name: eso-reader, namespace: external-secrets}\n---\napiVersion: rbac.authorization.k8s.io/v1\nkind: Role\nmetadata: {name: read-secrets, namespace: platform}\nrules: [{apiGroups: [''], resources: [secrets], verbs: [get, list]}]\n---\napiVersion: rbac.authorization.k8s.io/v1\nkind: RoleBinding\nmetadata: {name: eso-reads, namespace: platform}\nroleRef: {apiGroup: rbac.authorization.k8s.io, kind: Role, name: read-secrets}\nsubjects: [{kind: ServiceAccount, name: eso-reader, namespace: external-secrets}]\n---\napiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRole\nmetadata: {name: es-editor}\nrules: [{apiGroups: [external-secrets.io], resources: [externalsecrets], verbs: [create]}]\n---\napiVersion: rbac.authorization.k8s.io/v1\nkind: RoleBinding\nmetadata: {name: devs-es, namespace: shop}\nroleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: es-editor}\nsubjects: [{kind: Group, name: shop-devs, apiGroup: rbac.authorization.k8s.io}]\n";

    fn store(kind: &str, extra: &str, provider: &str) -> String {
        let namespace = if kind == "SecretStore" {
            ", namespace: shop"
        } else {
            ""
        };
        format!(
            "---\napiVersion: external-secrets.io/v1\nkind: {kind}\nmetadata: {{name: s{namespace}}}\nspec:\n{extra}  provider:\n    kubernetes:\n      remoteNamespace: platform\n{provider}      auth: {{serviceAccount: {{name: eso-reader, namespace: external-secrets}}}}\n"
        )
    }

    /// The path from group `shop-devs` to some Secrets, described.
    fn from_devs(text: &str) -> Option<String> {
        let loaded = load_text("eso.yaml", text, &Limits::default());
        let policy = Policy::from_inventory(&loaded.inventory);
        let graph = crate::graph::build(&policy, &loaded.inventory);
        let devs = Node::identity(Subject::Group {
            name: "shop-devs".into(),
        });
        graph.path(&devs, Goal::Secrets).map(|p| p.describe())
    }

    #[test]
    fn creating_an_external_secret_reads_what_the_store_reads() {
        let open = from_devs(&format!("{CLUSTER}{}", store("ClusterSecretStore", "", "")));
        assert_eq!(
            open.as_deref(),
            Some(
                "Group shop-devs → the Secrets of namespace platform (RoleBinding shop/devs-es → ClusterRole es-editor rule 1 (create on externalsecrets (external-secrets.io)): create ExternalSecrets in namespace shop, which ClusterSecretStore s (Kubernetes provider) fills from the Secrets of namespace platform as ServiceAccount external-secrets/eso-reader)"
            )
        );
        // A namespaced store serves its own namespace.
        assert!(from_devs(&format!("{CLUSTER}{}", store("SecretStore", "", ""))).is_some());
        // Conditions that take shop, and those that do not.
        let only = |names: &str| {
            store(
                "ClusterSecretStore",
                &format!("  conditions: [{{namespaces: [{names}]}}]\n"),
                "",
            )
        };
        assert!(from_devs(&format!("{CLUSTER}{}", only("shop"))).is_some());
        assert_eq!(from_devs(&format!("{CLUSTER}{}", only("payments"))), None);
        // Another cluster's API server: nothing of this one.
        let remote = store(
            "ClusterSecretStore",
            "",
            "      server: {url: 'https://other.example.com:6443'}\n",
        );
        assert_eq!(from_devs(&format!("{CLUSTER}{remote}")), None);
        let local = store(
            "ClusterSecretStore",
            "",
            "      server: {url: 'https://kubernetes.default.svc'}\n",
        );
        assert!(from_devs(&format!("{CLUSTER}{local}")).is_some());
        // An account that may not read those Secrets: the store reads nothing.
    }

    #[test]
    fn cluster_external_secrets_and_referent_accounts_read_too() {
        // The creators of ClusterExternalSecrets have them made anywhere the store is used.
        let platform_team = "---\napiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRole\nmetadata: {name: ces}\nrules: [{apiGroups: [external-secrets.io], resources: [clusterexternalsecrets], verbs: ['*']}]\n---\napiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRoleBinding\nmetadata: {name: platform-ces}\nroleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: ces}\nsubjects: [{kind: Group, name: shop-devs, apiGroup: rbac.authorization.k8s.io}]\n";
        let without_namespaced =
            CLUSTER.replace("resources: [externalsecrets]", "resources: [pushsecrets]");
        assert_ne!(without_namespaced, CLUSTER);
        let made = from_devs(&format!(
            "{without_namespaced}{}{platform_team}",
            store("SecretStore", "", "")
        ))
        .expect("a path through a ClusterExternalSecret");
        assert!(
            made.contains("create ClusterExternalSecrets, which make ExternalSecrets in the namespaces they select, which SecretStore shop/s"),
            "{made}"
        );
        // Referent authentication: the account of the ExternalSecret's own namespace reads.
        let referent = store("ClusterSecretStore", "", "").replace(
            "{name: eso-reader, namespace: external-secrets}",
            "{name: eso-reader}",
        );
        assert!(referent.contains("{name: eso-reader}"));
        assert_eq!(from_devs(&format!("{CLUSTER}{referent}")), None);
        let shop_reader = CLUSTER.replace(
            "subjects: [{kind: ServiceAccount, name: eso-reader, namespace: external-secrets}]",
            "subjects: [{kind: ServiceAccount, name: eso-reader, namespace: shop}]",
        );
        assert_ne!(shop_reader, CLUSTER);
        let path = from_devs(&format!("{shop_reader}{referent}")).expect("a path");
        assert!(
            path.ends_with("as the ServiceAccount eso-reader of the ExternalSecret's namespace)"),
            "{path}"
        );
        let unbound = CLUSTER.replace(
            "name: eso-reader, namespace: external-secrets}]",
            "name: other, namespace: external-secrets}]",
        );
        assert_ne!(unbound, CLUSTER);
        assert_eq!(
            from_devs(&format!("{unbound}{}", store("ClusterSecretStore", "", ""))),
            None
        );
    }

    #[test]
    fn stores_are_open_without_conditions_or_with_one_that_takes_every_namespace() {
        let store = |conditions: Value| json!({"spec": {"conditions": conditions}});
        assert_eq!(
            open_to_every_namespace(&json!({"spec": {}})),
            Openness::NoConditions
        );
        assert_eq!(
            open_to_every_namespace(&store(json!([]))),
            Openness::NoConditions
        );
        let open = |conditions: Value| match open_to_every_namespace(&store(conditions)) {
            Openness::Open(open) => Some(open.path.to_string()),
            _ => None,
        };
        assert_eq!(
            open(json!([{"namespaceSelector": {}}])).as_deref(),
            Some("/spec/conditions/0/namespaceSelector")
        );
        assert_eq!(
            open(json!([{"namespaces": ["a"]}, {"namespaceRegexes": ["^team-", "."]}])).as_deref(),
            Some("/spec/conditions/1/namespaceRegexes/1")
        );
        for pattern in ["", "^", ".*", "^.*$", ".+", "(?:.+)", "[a-z]", "^."] {
            assert!(pattern_finds_any_name(pattern), "{pattern}");
        }
        for pattern in ["^$", "^team-a$", "team", "^payments", "(", "^\\w$"] {
            assert!(!pattern_finds_any_name(pattern), "{pattern}");
        }
        assert_eq!(
            open(json!([{"namespaceSelector": {"matchLabels": {"eso": "yes"}}}])),
            None
        );
    }

    #[test]
    fn a_store_is_usable_where_a_condition_takes_the_namespace() {
        let store = json!({"spec": {"conditions": [
            {"namespaces": ["payments"]},
            {"namespaceSelector": {"matchLabels": {"team": "data"}}},
            {"namespaceRegexes": ["^ci-"]}
        ]}});
        let labels = |team: &str| {
            let mut map = Map::new();
            map.insert("team".into(), json!(team));
            map
        };
        assert!(usable_from(&store, "payments", Some(&Map::new())));
        assert!(usable_from(&store, "warehouse", Some(&labels("data"))));
        assert!(!usable_from(&store, "warehouse", Some(&labels("web"))));
        // No Namespace object: the selector may take it.
        assert!(usable_from(&store, "warehouse", None));
        assert!(usable_from(&store, "ci-main", Some(&Map::new())));
        assert!(!usable_from(&store, "main-ci", Some(&Map::new())));
        assert!(usable_from(&json!({"spec": {}}), "anything", None));
    }
}
