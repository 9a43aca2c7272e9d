//! Leaked credentials as steps of the escalation graph: a service-account token or a
//! kubeconfig's client certificate written into a ConfigMap, into a Secret that is no token
//! Secret, or into a container's environment or arguments makes whoever reads that value the
//! identity it authenticates as (`palisade_k8s::credential`).
//!
//! Who reads a value: for a Secret, whoever reads the Secrets of its namespace; for a
//! ConfigMap, whoever RBAC lets read that ConfigMap (the built-in `view` role reads
//! ConfigMaps, never Secrets); for both, the workloads whose pods mount or load it, whoever
//! runs code in the pods of the namespace, and root on the nodes those pods run on; for a
//! container's own values, the workload. Each step names its evidence: the field and the
//! identity, never the value.

use std::collections::HashMap;

use palisade_graph::{Change, Fix, FixId, Graph, Node, Relation};
use palisade_inventory::{Inventory, Object};
use palisade_k8s::credential::{self, Credential};
use palisade_k8s::identity::{SUPERUSER_GROUP, Subject};
use palisade_k8s::references::{Store, pod_references};

use crate::authorizer::Request;
use crate::graph::{Brakes, workload_node};
use crate::model::Policy;
use crate::primitives::READ_VERBS;

/// Stored objects holding a credential, by kind, namespace and name: their graph node.
type Holders = HashMap<(Store, String, String), Node>;

/// Adds the steps every leaked credential of `inventory` gives.
pub(crate) fn add_leaked_credentials(
    g: &mut Graph,
    policy: &Policy,
    inventory: &Inventory,
    _brakes: &Brakes<'_>,
) {
    let now = palisade_core::date::unix_now();
    let mut holders = Holders::new();
    for (store, kind) in [(Store::Secret, "Secret"), (Store::ConfigMap, "ConfigMap")] {
        for object in inventory.of_kind("", kind) {
            // Written without a namespace, it shares its scope's key with the workloads and
            // bindings beside it, as the RBAC model reads them.
            let namespace = crate::model::namespace_of(inventory, object);
            if let Some(node) = add_stored(g, policy, object, store, &namespace, now) {
                let name = object.id.name.clone().unwrap_or_default();
                holders.insert((store, namespace, name), node);
            }
        }
    }
    for w in 0..policy.workloads.len() {
        add_workload(g, policy, inventory, w, &holders, now);
    }
}

/// A Secret's or ConfigMap's credentials, and who reads them but the workloads; its node when
/// it holds any.
fn add_stored(
    g: &mut Graph,
    policy: &Policy,
    object: &Object,
    store: Store,
    namespace: &str,
    now: i64,
) -> Option<Node> {
    let texts = credential::stored_texts(&object.value);
    let held: Vec<(String, Credential)> = texts
        .iter()
        .flat_map(|(field, text)| {
            credential::in_text(text, now)
                .into_iter()
                .map(move |c| (field.clone(), c))
        })
        .collect();
    if held.is_empty() || credential::for_another_cluster(&object.value) {
        return None;
    }
    let name = object.id.name.clone().unwrap_or_default();
    let node = Node::Object {
        kind: store.kind().to_string(),
        namespace: namespace.to_string(),
        name: name.clone(),
    };
    let fix = g.fix_with(|| Fix::new(Change::RemoveCredential, node.to_string()));
    for (field, credential) in &held {
        add_leak(g, &node, credential, &format!("its {field}"), fix);
    }
    match store {
        Store::Secret => g.edge(
            Node::Secrets {
                namespace: Some(namespace.to_string()),
            },
            node.clone(),
            Relation::Includes,
            format!("Secret {name} is one of them"),
        ),
        Store::ConfigMap => add_config_map_readers(g, policy, &node, namespace, &name),
    }
    Some(node)
}

/// The steps from `holder` a credential gives: to its user or account, and to the groups its
/// certificate names (`system:masters` is cluster-admin without any binding).
fn add_leak(g: &mut Graph, holder: &Node, credential: &Credential, at: &str, fix: Option<FixId>) {
    let evidence = format!("{at} holds {}", credential.describe());
    g.edge_fixed(
        holder.clone(),
        Node::identity(credential.subject.clone()),
        Relation::Leaks,
        evidence.clone(),
        fix,
    );
    for group in &credential.groups {
        let subject = Subject::Group {
            name: group.clone(),
        };
        g.edge_fixed(
            holder.clone(),
            Node::identity(subject.clone()),
            Relation::Leaks,
            evidence.clone(),
            fix,
        );
        if group == SUPERUSER_GROUP {
            g.edge(
                Node::identity(subject),
                Node::ClusterAdmin,
                Relation::Grants,
                format!(
                    "the API server allows group {SUPERUSER_GROUP} every request, without a binding"
                ),
            );
        }
    }
}

/// Whoever RBAC lets read the ConfigMap `name` of `namespace`: `get` (or an update, which
/// answers with the object) it by name, or `list` or `watch` its namespace.
fn add_config_map_readers(
    g: &mut Graph,
    policy: &Policy,
    node: &Node,
    namespace: &str,
    name: &str,
) {
    for verb in READ_VERBS {
        let request = Request::resource(verb, "", "configmaps", Some(namespace));
        let request = match *verb {
            "list" | "watch" => request,
            _ => request.named(name),
        };
        for grant in policy.grants_for(&request) {
            let binding = &policy.bindings[grant.binding];
            let narrow = g.fix_with(|| Fix::new(Change::NarrowBinding, binding.describe()));
            for subject in &binding.subjects {
                let fix = narrow.filter(|_| !crate::builtin::is_default_grant(binding, subject));
                g.edge_fixed(
                    Node::identity(subject.clone()),
                    node.clone(),
                    Relation::Grants,
                    format!("{}: {verb} it", policy.evidence(&grant)),
                    fix,
                );
            }
        }
    }
}

/// Workload `w`: the stored credentials its pods read, and those written into its containers.
fn add_workload(
    g: &mut Graph,
    policy: &Policy,
    inventory: &Inventory,
    w: usize,
    holders: &Holders,
    now: i64,
) {
    let workload = &policy.workloads[w];
    let Some(spec) = workload.pod_spec(inventory) else {
        return;
    };
    let node = workload_node(policy, w);
    let base = palisade_core::JsonPointer::parse(spec.pointer).unwrap_or_default();
    let mut readers = vec![
        node.clone(),
        Node::RunningPods {
            namespace: Some(workload.namespace.clone()),
        },
    ];
    readers.extend(workload.nodes.iter().map(|name| Node::NodeHost {
        name: Some(name.clone()),
    }));
    for reference in pod_references(spec.value, &base) {
        let key = (
            reference.store,
            workload.namespace.clone(),
            reference.name.to_string(),
        );
        let Some(holder) = holders.get(&key) else {
            continue;
        };
        for reader in &readers {
            let evidence = match reader {
                Node::Workload { .. } => format!("its pods read it ({})", reference.how),
                _ => format!("the pods of {node} read it ({})", reference.how),
            };
            g.edge(reader.clone(), holder.clone(), Relation::Reads, evidence);
        }
    }
    let mut fix = None;
    for container in spec.containers() {
        for (at, text) in credential::container_texts(container.value) {
            for credential in credential::in_text(text, now) {
                let fix = *fix.get_or_insert_with(|| {
                    g.fix_with(|| Fix::new(Change::RemoveCredential, node.to_string()))
                });
                let at = format!("{} of {}", at, container.describe());
                add_leak(g, &node, &credential, &at, fix);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use palisade_graph::Goal;
    use palisade_inventory::{Limits, load_text};

    use super::*;
    use crate::graph::{build, build_for_fixes};

    /// A legacy token of `kube-system/deployer`.
    const TOKEN: &str = "eyJhbGciOiJSUzI1NiIsImtpZCI6ImsifQ.eyJpc3MiOiJrdWJlcm5ldGVzL3NlcnZpY2VhY2NvdW50Iiwia3ViZXJuZXRlcy5pby9zZXJ2aWNlYWNjb3VudC9uYW1lc3BhY2UiOiJrdWJlLXN5c3RlbSIsImt1YmVybmV0ZXMuaW8vc2VydmljZWFjY291bnQvc2VydmljZS1hY2NvdW50Lm5hbWUiOiJkZXBsb3llciIsInN1YiI6InN5c3RlbTpzZXJ2aWNlYWNjb3VudDprdWJlLXN5c3RlbTpkZXBsb3llciJ9.c2lnbmF0dXJl";

    /// A bound token of the same account that expired in 2020.
    const EXPIRED: &str = "eyJhbGciOiJSUzI1NiIsImtpZCI6ImsifQ.eyJpc3MiOiJodHRwczovL2t1YmVybmV0ZXMuZGVmYXVsdC5zdmMiLCJzdWIiOiJzeXN0ZW06c2VydmljZWFjY291bnQ6a3ViZS1zeXN0ZW06ZGVwbG95ZXIiLCJleHAiOjE2MDAwMDAwMDB9.c2lnbmF0dXJl";

    /// `kube-system/deployer` is cluster-admin; group `devs` may read the ConfigMaps of `app`
    /// (as the built-in `view` role lets it), never its Secrets.
    const CLUSTER: &str = "apiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRoleBinding\nmetadata: {name: deployer}\nroleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: cluster-admin}\nsubjects: [{kind: ServiceAccount, name: deployer, namespace: kube-system}]\n---\napiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRole\nmetadata: {name: read-config}\nrules: [{apiGroups: [''], resources: [configmaps], verbs: [get, list]}]\n---\napiVersion: rbac.authorization.k8s.io/v1\nkind: RoleBinding\nmetadata: {name: devs-read, namespace: app}\nroleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: read-config}\nsubjects: [{kind: Group, name: devs, apiGroup: rbac.authorization.k8s.io}]\n";

    fn graph_of(extra: &str) -> (Policy, Graph) {
        let text = format!("{CLUSTER}---\n{extra}");
        let loaded = load_text("leak.yaml", &text, &Limits::default());
        assert!(loaded.diagnostics.is_empty(), "{:?}", loaded.diagnostics);
        let policy = Policy::from_inventory(&loaded.inventory);
        let graph = build(&policy, &loaded.inventory);
        (policy, graph)
    }

    fn devs() -> Node {
        Node::identity(Subject::Group {
            name: "devs".into(),
        })
    }

    fn config_map(value: &str) -> String {
        format!(
            "apiVersion: v1\nkind: ConfigMap\nmetadata: {{name: settings, namespace: app}}\ndata:\n  kubeconfig: |\n    users:\n    - name: ci\n      user: {{token: {value}}}\n"
        )
    }

    #[test]
    fn a_token_in_a_readable_config_map_makes_its_readers_the_account() {
        let (_, graph) = graph_of(&config_map(TOKEN));
        let path = graph.path(&devs(), Goal::ClusterAdmin).expect("a path");
        let text = path.describe();
        assert_eq!(
            text,
            "Group devs → ConfigMap app/settings (RoleBinding app/devs-read → ClusterRole read-config rule 1 (get,list on configmaps (core)): get it) → ServiceAccount kube-system/deployer (its data.kubeconfig holds a service-account token of ServiceAccount kube-system/deployer) → cluster-admin (ClusterRoleBinding deployer → ClusterRole cluster-admin (built-in): every verb on every resource)"
        );
        assert!(!text.contains(TOKEN) && !text.contains("eyJ"));
        // Expired, it is no step.
        let (_, graph) = graph_of(&config_map(EXPIRED));
        assert!(graph.path(&devs(), Goal::ClusterAdmin).is_none());
    }

    #[test]
    fn the_workloads_that_read_it_become_the_account_too() {
        let web = "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web, namespace: app}\nspec:\n  template:\n    spec:\n      automountServiceAccountToken: false\n      volumes: [{name: c, configMap: {name: settings}}]\n      containers: [{name: w, image: 'registry.example.com/w:1'}]\n";
        let (policy, graph) = graph_of(&format!("{}---\n{web}", config_map(TOKEN)));
        let web = workload_node(&policy, 0);
        let text = graph.path(&web, Goal::ClusterAdmin).unwrap().describe();
        assert!(
            text.starts_with("Deployment app/web → ConfigMap app/settings (its pods read it (mounted as a volume)) → ServiceAccount kube-system/deployer"),
            "{text}"
        );
        let exec = Node::RunningPods {
            namespace: Some("app".into()),
        };
        assert!(graph.path(&exec, Goal::ClusterAdmin).is_some());
        // A ConfigMap of another namespace with the same name is not the one it reads.
        let elsewhere = config_map(TOKEN).replace("namespace: app", "namespace: other");
        let (policy, graph) = graph_of(&format!("{elsewhere}---\n{}", web_reading()));
        assert!(
            graph
                .path(&workload_node(&policy, 0), Goal::ClusterAdmin)
                .is_none()
        );
    }

    fn web_reading() -> &'static str {
        "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web, namespace: app}\nspec:\n  template:\n    spec:\n      automountServiceAccountToken: false\n      containers: [{name: w, image: 'registry.example.com/w:1', envFrom: [{configMapRef: {name: settings}}]}]\n"
    }

    #[test]
    fn written_without_a_namespace_it_is_read_by_the_workloads_beside_it() {
        let unset = |text: &str| text.replace(", namespace: app}", "}");
        let text = format!(
            "{CLUSTER}---\n{}---\n{}",
            unset(&config_map(TOKEN)),
            unset(web_reading())
        );
        assert_eq!(
            text.matches("namespace: app").count(),
            1,
            "the binding's alone"
        );
        // In a directory: objects without a namespace share its scope.
        let loaded = load_text("charts/app/leak.yaml", &text, &Limits::default());
        let policy = Policy::from_inventory(&loaded.inventory);
        let graph = build(&policy, &loaded.inventory);
        let path = graph
            .path(&workload_node(&policy, 0), Goal::ClusterAdmin)
            .expect("the Deployment reads the ConfigMap of its own scope");
        assert!(
            path.describe().contains("→ ConfigMap"),
            "{}",
            path.describe()
        );
    }

    #[test]
    fn a_token_in_an_opaque_secret_is_one_of_the_namespace_s_secrets() {
        let secret = format!(
            "apiVersion: v1\nkind: Secret\nmetadata: {{name: ci, namespace: app}}\ntype: Opaque\nstringData: {{token: {TOKEN}}}\n"
        );
        let (_, graph) = graph_of(&secret);
        let secrets = Node::Secrets {
            namespace: Some("app".into()),
        };
        let text = graph.path(&secrets, Goal::ClusterAdmin).unwrap().describe();
        assert!(
            text.starts_with("the Secrets of namespace app → Secret app/ci (Secret ci is one of them) → ServiceAccount kube-system/deployer (its stringData.token holds"),
            "{text}"
        );
        // ConfigMap readers are not Secret readers.
        assert!(graph.path(&devs(), Goal::ClusterAdmin).is_none());
        // An Argo CD cluster Secret of another cluster authenticates there, not here.
        let argo = |server: &str| {
            format!(
                "apiVersion: v1\nkind: Secret\nmetadata: {{name: c, namespace: app, labels: {{argocd.argoproj.io/secret-type: cluster}}}}\nstringData: {{server: '{server}', config: '{{\"bearerToken\": \"{TOKEN}\"}}'}}\n"
            )
        };
        let (_, graph) = graph_of(&argo("https://prod.example.com:6443"));
        assert!(graph.path(&secrets, Goal::ClusterAdmin).is_none());
        let (_, graph) = graph_of(&argo("https://kubernetes.default.svc"));
        assert!(graph.path(&secrets, Goal::ClusterAdmin).is_some());
    }

    #[test]
    fn a_token_in_a_container_s_environment_is_the_workload_s() {
        let job = format!(
            "apiVersion: batch/v1\nkind: Job\nmetadata: {{name: deploy, namespace: app}}\nspec:\n  template:\n    spec:\n      automountServiceAccountToken: false\n      containers: [{{name: kubectl, image: 'registry.example.com/k:1', env: [{{name: KUBE_TOKEN, value: '{TOKEN}'}}]}}]\n"
        );
        let (policy, graph) = graph_of(&job);
        let text = graph
            .path(&workload_node(&policy, 0), Goal::ClusterAdmin)
            .unwrap()
            .describe();
        assert!(
            text.starts_with("Job app/deploy → ServiceAccount kube-system/deployer (environment variable KUBE_TOKEN of container \"kubectl\" holds a service-account token"),
            "{text}"
        );
    }

    #[test]
    fn the_plan_takes_the_credential_out() {
        // Read by group devs and by a workload; the deployer needs its power.
        let text = format!("{CLUSTER}---\n{}---\n{}", config_map(TOKEN), web_reading());
        let loaded = load_text("leak.yaml", &text, &Limits::default());
        let policy = Policy::from_inventory(&loaded.inventory);
        let graph = build_for_fixes(&policy, &loaded.inventory, None, &Default::default());
        let value = |node: &Node| u32::from(matches!(node, Node::ClusterAdmin)) * 8;
        let needed = |fix: &Fix| fix.object == "ClusterRoleBinding deployer";
        let plan = graph.plan_fixes(&value, 3, &needed);
        assert_eq!(plan.fixes.len(), 1, "{plan:?}");
        let first = &plan.fixes.first().expect("a fix").fix;
        assert_eq!(first.change, Change::RemoveCredential, "{plan:?}");
        assert_eq!(first.object, "ConfigMap app/settings");
    }
}
