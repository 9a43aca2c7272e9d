//! The escalation graph: who can become whom. Nodes are the internet, workloads, identities
//! (service accounts, users, groups), pools ("any service account of a namespace"), Secrets,
//! the node and cluster-admin; each edge carries the evidence for the step (a Service, a
//! mounted token, a binding → role → rule). Paths are shortest chains of evidence.

use std::collections::{BTreeMap, HashMap};

use palisade_core::selector::map_selector_matches;
use palisade_core::tree::Tree as _;
use palisade_graph::{Change, Contributor, Fix, FixId, Goal, Graph, Node, Path, Relation, Step};
use palisade_inventory::Inventory;
use palisade_inventory::podspec::grouped_pod_spec;
use palisade_k8s::identity::Subject;
use palisade_net::IngressPlacement;
use serde_json::Value;

use crate::model::Policy;
use crate::primitives::Leads;

/// The escalation graph of `policy` (with the Services, Ingresses and Namespaces of
/// `inventory` for exposure and Pod Security enforcement). Each kind of edge has its own
/// contributor, run in this order (the order decides between equally short paths).
pub fn build(policy: &Policy, inventory: &Inventory) -> Graph {
    build_with(policy, inventory, &[])
}

/// [`build`], then the edges of other analyzers' contributors, in order (network
/// reachability, leaked credentials): they add to the same graph without this crate
/// knowing them.
pub fn build_with(policy: &Policy, inventory: &Inventory, extra: &[Contributor]) -> Graph {
    let unplaced = IngressPlacement::default();
    build_in(Graph::default(), policy, inventory, extra, None, &unplaced)
}

/// [`build`], asking `admission` what the cluster's admission policies refuse of pods that
/// would own their node (see [`AdmissionAsker`]), with the ingress controller where `ingress`
/// places it (what the network engine reads of the ways in from outside).
pub fn build_asking(
    policy: &Policy,
    inventory: &Inventory,
    admission: Option<&dyn AdmissionAsker>,
    ingress: &IngressPlacement,
) -> Graph {
    build_in(Graph::default(), policy, inventory, &[], admission, ingress)
}

/// [`build_asking`], each edge naming the fix that takes it away, for
/// [`Graph::plan_fixes`] (`palisade rbac fixes`).
pub fn build_for_fixes(
    policy: &Policy,
    inventory: &Inventory,
    admission: Option<&dyn AdmissionAsker>,
    ingress: &IngressPlacement,
) -> Graph {
    build_in(
        Graph::recording_fixes(),
        policy,
        inventory,
        &[],
        admission,
        ingress,
    )
}

/// The graph from `empty` (which says whether edges record their fixes).
fn build_in(
    empty: Graph,
    policy: &Policy,
    inventory: &Inventory,
    extra: &[Contributor],
    admission: Option<&dyn AdmissionAsker>,
    ingress: &IngressPlacement,
) -> Graph {
    let engine = std::sync::OnceLock::new();
    let network = || {
        std::sync::Arc::clone(engine.get_or_init(|| {
            std::sync::Arc::new(palisade_net::Engine::for_scan_placed(inventory, ingress))
        }))
    };
    let mut g = empty;
    add_exposure(&mut g, policy, inventory, &network);
    build_on(g, policy, inventory, extra, admission)
}

/// The graph's first edges, the ones that come from the network: the internet to the
/// workloads it reaches, and on from each to what its pods may connect to. They read the
/// workloads' identities (not their accounts or powers), what exposes them, and the network
/// engine, so a caller that knows none of these changed (an admission webhook judging a
/// binding) may start [`build_on`] from the ones it built before.
pub fn exposure(
    policy: &Policy,
    inventory: &Inventory,
    network: &dyn Fn() -> std::sync::Arc<palisade_net::Engine>,
) -> Graph {
    let mut g = Graph::default();
    add_exposure(&mut g, policy, inventory, network);
    g
}

/// The graph from its [`exposure`] edges `g`: every other contributor, in order.
/// `admission`: the cluster's admission policies, asked what they refuse of pods that would
/// own their node in the namespaces where someone may create pods (see [`AdmissionAsker`]);
/// Pod Security is read from the Namespaces.
pub fn build_on(
    mut g: Graph,
    policy: &Policy,
    inventory: &Inventory,
    extra: &[Contributor],
    admission: Option<&dyn AdmissionAsker>,
) -> Graph {
    let enforced = enforced_namespaces(inventory);
    let refusals =
        admission.map(|asker| asker.ask(inventory, &namespaces_creating_pods(policy, &enforced)));
    let brakes = Brakes {
        enforced,
        refusals: refusals.as_ref(),
    };
    for contribute in BUILT_IN {
        contribute(&mut g, policy, inventory, &brakes);
    }
    g.contribute(inventory, extra);
    g
}

/// The shortest path from `subject`, or from one of its groups (implicit ones, and `groups`
/// the authenticator gives it), with the membership as the first step.
pub fn subject_path(
    graph: &Graph,
    subject: &Subject,
    groups: &[String],
    goal: Goal,
) -> Option<Path> {
    let start = Node::Identity {
        subject: subject.clone(),
    };
    let mut best = graph.path(&start, goal);
    let mut member_of: Vec<String> = subject.identity().groups;
    member_of.extend(groups.iter().cloned());
    if matches!(subject, Subject::Group { .. }) {
        member_of.clear();
    }
    // The superuser group needs no binding: the API server allows it every request, so a
    // member (or the group itself) is cluster-admin, which reaches every goal.
    let superuser = palisade_k8s::identity::SUPERUSER_GROUP;
    let in_superuser_group = member_of.iter().any(|g| g == superuser)
        || matches!(subject, Subject::Group { name } if name == superuser);
    if in_superuser_group {
        let group = Node::Identity {
            subject: Subject::Group {
                name: superuser.to_string(),
            },
        };
        let mut steps = Vec::new();
        if !matches!(subject, Subject::Group { .. }) {
            steps.push(Step {
                to: group,
                relation: Relation::MemberOf,
                evidence: format!("{subject} is in group {superuser}"),
            });
        }
        steps.push(Step {
            to: Node::ClusterAdmin,
            relation: Relation::Grants,
            evidence: format!(
                "the API server allows group {superuser} every request, whatever the bindings"
            ),
        });
        return Some(Path { from: start, steps });
    }
    for group in member_of {
        let node = Node::Identity {
            subject: Subject::Group {
                name: group.clone(),
            },
        };
        let Some(path) = graph.path(&node, goal) else {
            continue;
        };
        if best
            .as_ref()
            .is_none_or(|b| path.steps.len() + 1 < b.steps.len())
        {
            let mut steps = vec![Step {
                to: node,
                relation: Relation::MemberOf,
                evidence: format!("{subject} is in group {group}"),
            }];
            steps.extend(path.steps);
            best = Some(Path {
                from: start.clone(),
                steps,
            });
        }
    }
    best
}

/// Where a name-restricted primitive leads: the identities it may impersonate (the group
/// `system:masters` is cluster-admin), or admin of the scope when a role it may bind or
/// escalate grants everything.
fn named_targets(
    policy: &Policy,
    primitive: &str,
    names: &[(String, String)],
    namespace: Option<&str>,
) -> Vec<Node> {
    let mut targets = Vec::new();
    for (resource, name) in names {
        let target = match (primitive, resource.as_str()) {
            ("impersonate", "users") => Some(Node::Identity {
                subject: Subject::User { name: name.clone() },
            }),
            ("impersonate", "groups") if name == palisade_k8s::identity::SUPERUSER_GROUP => {
                Some(Node::ClusterAdmin)
            }
            ("impersonate", "groups") => Some(Node::Identity {
                subject: Subject::Group { name: name.clone() },
            }),
            ("impersonate-service-accounts", "serviceaccounts") => {
                match namespace {
                    Some(ns) => Some(Node::Identity {
                        subject: Subject::service_account(ns, name),
                    }),
                    None => {
                        // Cluster-wide: the account of that name in every namespace.
                        for subject in policy.known_subjects() {
                            if matches!(&subject, Subject::ServiceAccount { name: n, .. } if n == name)
                            {
                                targets.push(Node::Identity { subject });
                            }
                        }
                        None
                    }
                }
            }
            ("bind-roles" | "escalate-roles", "roles" | "clusterroles") => policy
                .role_named(resource, name, namespace)
                .filter(|role| crate::primitives::rules_grant_everything(&role.rules))
                .map(|role| match (namespace, &role.namespace) {
                    // A Role only ever grants in its own namespace.
                    (_, Some(role_ns)) => Node::NamespaceAdmin {
                        namespace: role_ns.clone(),
                    },
                    (None, None) => Node::ClusterAdmin,
                    (Some(ns), None) => Node::NamespaceAdmin {
                        namespace: ns.to_string(),
                    },
                }),
            _ => None,
        };
        targets.extend(target);
    }
    targets
}

/// The graph node of workload `w`.
pub fn workload_node(policy: &Policy, w: usize) -> Node {
    let workload = &policy.workloads[w];
    let (object, kind, namespace, name) = (
        workload.object,
        &workload.kind,
        &workload.namespace,
        &workload.name,
    );
    match &workload.template {
        None => Node::workload(object, kind, namespace, name),
        Some(t) => Node::template_workload(object, kind, namespace, name, t.label()),
    }
}

/// A built-in contributor, also given what stops a pod from owning its node.
type BuiltIn = fn(&mut Graph, &Policy, &Inventory, &Brakes<'_>);

/// The built-in edge contributors, in the order they run, after exposure (see [`build_on`]).
const BUILT_IN: &[BuiltIn] = &[
    add_workload_accounts,
    crate::ray::add_ray_clusters,
    add_shared_storage,
    add_node_takeover,
    add_control_plane_nodes,
    add_node_placement,
    add_pools,
    add_legacy_tokens,
    crate::leaks::add_leaked_credentials,
    crate::external_secrets::add_secret_stores,
    add_bindings,
    add_aws_auth,
    add_node_identities,
    add_implicit_groups,
];

/// The EKS `aws-auth` ConfigMap: it maps IAM roles and users to Kubernetes users and groups,
/// `system:masters` included.
pub const AWS_AUTH: (&str, &str) = ("kube-system", "aws-auth");

/// The grants that let their subjects write the `aws-auth` ConfigMap (update or patch it by
/// name; create it, which cannot be restricted by name), with the verb.
pub fn aws_auth_writers(policy: &Policy) -> Vec<(crate::authorizer::Grant, &'static str)> {
    let (namespace, name) = AWS_AUTH;
    let mut out = Vec::new();
    for verb in ["update", "patch", "create"] {
        let mut request =
            crate::authorizer::Request::resource(verb, "", "configmaps", Some(namespace));
        if verb != "create" {
            request = request.named(name);
        }
        for grant in policy.grants_for(&request) {
            if !out
                .iter()
                .any(|(g, _): &(crate::authorizer::Grant, &str)| g.binding == grant.binding)
            {
                out.push((grant, verb));
            }
        }
    }
    out
}

/// Whether the inventory holds the `aws-auth` ConfigMap (the cluster maps IAM identities
/// through it).
pub fn has_aws_auth(inventory: &Inventory) -> bool {
    let (namespace, name) = AWS_AUTH;
    inventory.objects.iter().any(|o| {
        o.id.kind == "ConfigMap"
            && o.id.namespace.as_deref() == Some(namespace)
            && o.id.name.as_deref() == Some(name)
    })
}

/// Writers of `aws-auth` → cluster-admin: on EKS they map an IAM role they control to
/// `system:masters`.
fn add_aws_auth(g: &mut Graph, policy: &Policy, inventory: &Inventory, _brakes: &Brakes<'_>) {
    // Without the ConfigMap (a cluster that is not EKS, or uses access entries), a grant on
    // every ConfigMap is no step; a grant naming `aws-auth` says the cluster uses it.
    let exists = has_aws_auth(inventory);
    for (grant, verb) in aws_auth_writers(policy) {
        if !exists && policy.rule(&grant).resource_names.is_empty() {
            continue;
        }
        let binding = &policy.bindings[grant.binding];
        if policy.grants_everything(binding) {
            continue;
        }
        let narrow = g.fix_with(|| Fix::new(Change::NarrowBinding, binding.describe()));
        for subject in &binding.subjects {
            let (from, evidence) = (
                g.id(Node::Identity {
                    subject: subject.clone(),
                }),
                format!(
                    "{}: {verb} ConfigMap kube-system/aws-auth (on EKS, map an IAM role of theirs to system:masters)",
                    policy.evidence(&grant)
                ),
            );
            let admin = g.id(Node::ClusterAdmin);
            // The control plane's own grants are made again by the API server: no fix.
            let fix = narrow.filter(|_| !crate::builtin::is_default_grant(binding, subject));
            g.edge_fixed_by(from, admin, Relation::Grants, evidence, fix);
        }
    }
}

/// Nodes → the node identity: root on a node holds the kubelet's credentials, which
/// authenticate as `system:node:NAME` in group `system:nodes`; whatever RBAC grants that group
/// (beyond what the Node authorizer allows), every compromised node has.
fn add_node_identities(
    g: &mut Graph,
    policy: &Policy,
    _inventory: &Inventory,
    _brakes: &Brakes<'_>,
) {
    let group = Node::Identity {
        subject: Subject::Group {
            name: "system:nodes".into(),
        },
    };
    g.edge(
        Node::any_node(),
        group.clone(),
        Relation::HoldsCredentials,
        "the kubelet's client certificate authenticates the node in group system:nodes",
    );
    let mut names: Vec<&String> = policy.workloads.iter().flat_map(|w| &w.nodes).collect();
    names.sort();
    names.dedup();
    for name in names {
        let node = Node::NodeHost {
            name: Some(name.clone()),
        };
        g.edge(
            node.clone(),
            Node::Identity {
                subject: Subject::User {
                    name: format!("system:node:{name}"),
                },
            },
            Relation::HoldsCredentials,
            format!("the kubelet's client certificate authenticates as system:node:{name}"),
        );
        g.edge(
            node,
            group.clone(),
            Relation::HoldsCredentials,
            "the kubelet's client certificate authenticates the node in group system:nodes",
        );
    }
}

/// Internet → exposed workloads.
fn add_exposure(
    g: &mut Graph,
    policy: &Policy,
    inventory: &Inventory,
    network: &dyn Fn() -> std::sync::Arc<palisade_net::Engine>,
) {
    let workload_of: HashMap<usize, usize> = policy
        .workloads
        .iter()
        .enumerate()
        .map(|(w, workload)| (workload.object, w))
        .collect();
    let exposed = exposed_workloads(policy, inventory, &workload_of);
    if exposed.is_empty() {
        return;
    }
    // The network engine decides whether the exposure gets through the workload's policies,
    // and where its pods may connect from there.
    let engine = network();
    let network = &engine.net;
    // Endpoints and workloads by object and, for a kind with several pod templates, template.
    let endpoint_of: HashMap<(usize, Option<&str>), usize> = network
        .endpoints
        .iter()
        .enumerate()
        .map(|(i, e)| ((e.object, e.template_spec()), i))
        .collect();
    let workload_by_template: HashMap<(usize, Option<&str>), usize> = policy
        .workloads
        .iter()
        .enumerate()
        .map(|(w, workload)| ((workload.object, template_of(workload)), w))
        .collect();
    let mut onward = engine.onward();
    // Found once for every exposed workload that reaches them: the reached workloads' nodes,
    // and the evidence's text apart from the connections (each distinct one written once).
    let workload_at: Vec<Option<usize>> = network
        .endpoints
        .iter()
        .map(|e| {
            workload_by_template
                .get(&(e.object, e.template_spec()))
                .copied()
        })
        .collect();
    let mut nodes: Vec<Option<usize>> = vec![None; policy.workloads.len()];
    // The fix of each reached workload's hops: an ingress policy of its own.
    let mut restrict: Vec<Option<Option<FixId>>> = vec![None; policy.workloads.len()];
    let mut reached: Vec<Option<(String, &str)>> = vec![None; network.endpoints.len()];
    let mut conns: Vec<(palisade_net::Verdict, String)> = Vec::new();
    // Each hop's evidence, by reached endpoint and connection set: every exposed workload
    // that reaches one workload on the same ports shares the text.
    let mut evidence: HashMap<(usize, usize), std::sync::Arc<str>> = HashMap::new();
    for Exposed {
        workload: w,
        why,
        through,
    } in exposed
    {
        // Traffic to the workload's own object reaches its template's pods.
        let template =
            template_of(&policy.workloads[w]).filter(|_| through == policy.workloads[w].object);
        let endpoint = endpoint_of.get(&(through, template)).copied();
        let why = match endpoint.map(|e| engine.from_outside(e)) {
            Some(outside) => match outside_reach(&why, &outside) {
                Some(why) => why,
                // Every way in is blocked by the workload's policies, for certain: no chain
                // starts here.
                None => continue,
            },
            None => why,
        };
        let unexpose =
            g.fix_with(|| Fix::new(Change::Unexpose, workload_node(policy, w).to_string()));
        g.edge_fixed(
            Node::Internet,
            workload_node(policy, w),
            Relation::Exposes,
            why,
            unexpose,
        );
        let Some(from) = endpoint else { continue };
        // One network hop: what an intruder in an exposed workload may connect to next. From
        // manifests, only to workloads of the same directory or rendering: unrelated projects
        // scanned in one run are not one network (they share namespace names such as
        // `default`). A cluster or snapshot is one.
        let scope = (!inventory.complete)
            .then(|| inventory.scope_of(&inventory.objects[network.endpoints[from].object]));
        let a = g.id(workload_node(policy, w));
        for (to, verdict) in onward.from(from) {
            let Some(v) = workload_at[to] else {
                continue;
            };
            let target = &network.endpoints[to];
            // Two manifests of one object (alternatives in one directory) are one workload;
            // the pod templates of one object reach each other through steps of their own
            // (a Ray head runs code in its workers), not through this hop.
            let same = inventory.objects[target.object].id
                == inventory.objects[network.endpoints[from].object].id;
            if same {
                continue;
            }
            if scope.is_some_and(|s| inventory.scope_of(&inventory.objects[target.object]) != s) {
                continue;
            }
            let (to_target, guarded) = reached[to].get_or_insert_with(|| {
                let guarded = if engine
                    .isolated_by(to, palisade_net::policy::Direction::Ingress)
                    .is_empty()
                {
                    "no ingress policy selects it"
                } else {
                    "its ingress policies allow it"
                };
                let text = format!("may connect to {}/{} ", target.namespace, target.name);
                (text, guarded)
            });
            let on = match conns.iter().position(|(v, _)| v == verdict) {
                Some(i) => i,
                None => {
                    conns.push((verdict.clone(), hop_text(verdict)));
                    conns.len() - 1
                }
            };
            let text = evidence.entry((to, on)).or_insert_with(|| {
                let (verdict, said) = &conns[on];
                if verdict.conn.is_empty() {
                    [to_target.as_str(), said].concat().into()
                } else {
                    [to_target.as_str(), said, " (", guarded, ")"]
                        .concat()
                        .into()
                }
            });
            let b = *nodes[v].get_or_insert_with(|| g.id(workload_node(policy, v)));
            // A policy cannot keep clients out of a host-network pod (the API leaves it
            // undefined, and most plugins see its traffic as the node's).
            let change = if target.host_network {
                Change::LeaveHostNetwork
            } else {
                Change::RestrictIngress
            };
            let fix = *restrict[v].get_or_insert_with(|| {
                g.fix_with(|| Fix::new(change, workload_node(policy, v).to_string()))
            });
            g.edge_fixed_by(a, b, Relation::Reaches, std::sync::Arc::clone(text), fix);
        }
    }
}

/// What a network hop's evidence says of its connections (`on TCP 5432`); a hop whose
/// answer is none but not final says why it is kept: the chain is dropped only on what the
/// input shows.
fn hop_text(verdict: &palisade_net::Verdict) -> String {
    if !verdict.conn.is_empty() {
        return format!("on {}", verdict.conn);
    }
    format!(
        "unless its policies keep it out, which is not final ({})",
        verdict.notes()
    )
}

/// Workloads → their service accounts (and the pools of running pods and nodes).
fn add_workload_accounts(
    g: &mut Graph,
    policy: &Policy,
    _inventory: &Inventory,
    _brakes: &Brakes<'_>,
) {
    // Workloads → their service accounts; pools → members.
    for (w, workload) in policy.workloads.iter().enumerate() {
        let account = Subject::service_account(&workload.namespace, &workload.service_account);
        if workload.token_mounted {
            let unmount =
                g.fix_with(|| Fix::new(Change::UnmountToken, workload_node(policy, w).to_string()));
            g.edge_fixed(
                workload_node(policy, w),
                Node::Identity {
                    subject: account.clone(),
                },
                Relation::MountsToken,
                format!(
                    "its pods mount the token of ServiceAccount {}",
                    workload.service_account
                ),
                unmount,
            );
            let ns = Some(workload.namespace.clone());
            g.edge_fixed(
                Node::RunningPods {
                    namespace: ns.clone(),
                },
                Node::Identity {
                    subject: account.clone(),
                },
                Relation::MountsToken,
                format!(
                    "{} runs as it with a mounted token",
                    workload_node(policy, w)
                ),
                unmount,
            );
            for node in &workload.nodes {
                g.edge_fixed(
                    Node::NodeHost {
                        name: Some(node.clone()),
                    },
                    Node::Identity {
                        subject: account.clone(),
                    },
                    Relation::MountsToken,
                    format!(
                        "{} runs there with the token mounted (root on the node reads it)",
                        workload_node(policy, w)
                    ),
                    unmount,
                );
            }
            if workload.kind == "DaemonSet" {
                g.edge_fixed(
                    Node::any_node(),
                    Node::Identity {
                        subject: account.clone(),
                    },
                    Relation::MountsToken,
                    format!(
                        "{} runs on every node with the token mounted",
                        workload_node(policy, w)
                    ),
                    unmount,
                );
            }
        }
    }
}

/// A workload that writes a claim → the other workloads of its namespace that mount it: what
/// is planted there (a script, a model, a configuration a job loads) is read or run by their
/// pods. Like a network connection, the step needs an exploit to go further.
fn add_shared_storage(g: &mut Graph, policy: &Policy, inventory: &Inventory, _brakes: &Brakes<'_>) {
    // (namespace, claim) → the workloads that mount it, with whether each writes it.
    let mut mounts: HashMap<(&str, &str), Vec<(usize, bool)>> = HashMap::new();
    for (w, workload) in policy.workloads.iter().enumerate() {
        let Some(pod) = workload.pod_spec(inventory) else {
            continue;
        };
        for mounted in palisade_inventory::claims::mounted_claims(&pod) {
            mounts
                .entry((workload.namespace.as_str(), mounted.claim))
                .or_default()
                .push((w, mounted.writable));
        }
    }
    let mut shared: Vec<_> = mounts.into_iter().filter(|(_, m)| m.len() > 1).collect();
    shared.sort_unstable();
    for ((namespace, claim), mounted) in shared {
        // Each reader's node and evidence, made once: a claim many workloads write and mount
        // gives an edge per pair, all sharing these.
        let readers: Vec<(usize, usize, std::sync::Arc<str>)> = mounted
            .iter()
            .map(|&(reader, _)| {
                let target = &policy.workloads[reader];
                let text = format!(
                    "writes claim {namespace}/{claim}, which {} {namespace}/{} mounts too: what is planted there is read or run by its pods",
                    target.kind, target.name
                );
                (reader, g.id(workload_node(policy, reader)), text.into())
            })
            .collect();
        for &(writer, writes) in &mounted {
            if !writes {
                continue;
            }
            let from = g.id(workload_node(policy, writer));
            let read_only = g.fix_with(|| {
                Fix::new(
                    Change::MountReadOnly,
                    workload_node(policy, writer).to_string(),
                )
            });
            let writer_id = &inventory.objects[policy.workloads[writer].object].id;
            for (reader, to, text) in &readers {
                // Two manifests of one object (alternatives in one directory) are one workload.
                let same = inventory.objects[policy.workloads[*reader].object].id == *writer_id;
                if *reader != writer && !same {
                    g.edge_fixed_by(
                        from,
                        *to,
                        Relation::SharesStorage,
                        std::sync::Arc::clone(text),
                        read_only,
                    );
                }
            }
        }
    }
}

/// Compromised containers that own their node → that node.
fn add_node_takeover(g: &mut Graph, policy: &Policy, inventory: &Inventory, _brakes: &Brakes<'_>) {
    // Compromised containers that own their node → that node.
    for (w, workload) in policy.workloads.iter().enumerate() {
        let Some(why) = &workload.node_access else {
            continue;
        };
        let confine = g.fix_with(|| {
            Fix::new(
                Change::ConfineToContainer,
                workload_node(policy, w).to_string(),
            )
        });
        if workload.nodes.is_empty() {
            // Where pods are placed is known only in a cluster; there, a workload with no
            // running pod gives no node now.
            if !inventory.complete {
                g.edge_fixed(
                    workload_node(policy, w),
                    Node::any_node(),
                    Relation::OwnsNode,
                    why.clone(),
                    confine,
                );
            }
            continue;
        }
        for node in &workload.nodes {
            g.edge_fixed(
                workload_node(policy, w),
                Node::NodeHost {
                    name: Some(node.clone()),
                },
                Relation::OwnsNode,
                format!("{why}, and its pods run there"),
                confine,
            );
        }
    }
}

/// A node where a control-plane component keeps its credentials is cluster-admin.
fn add_control_plane_nodes(
    g: &mut Graph,
    policy: &Policy,
    _inventory: &Inventory,
    _brakes: &Brakes<'_>,
) {
    // A node where a control-plane component keeps its credentials is cluster-admin.
    for (w, workload) in policy.workloads.iter().enumerate() {
        let Some(path) = &workload.control_plane_path else {
            continue;
        };
        for node in &workload.nodes {
            g.edge(
                    Node::NodeHost {
                        name: Some(node.clone()),
                    },
                    Node::ClusterAdmin, Relation::HoldsControlPlaneCredentials,
                    format!(
                        "{} runs there and mounts {path} from the node: control-plane credentials (the cluster CA key, admin kubeconfigs or etcd's data)",
                        workload_node(policy, w)
                    ),
                );
        }
    }
}

/// Whoever picks a node for a new pod (`spec.nodeName`) reaches every known node.
fn add_node_placement(
    g: &mut Graph,
    policy: &Policy,
    _inventory: &Inventory,
    _brakes: &Brakes<'_>,
) {
    // Whoever picks a node for a new pod (`spec.nodeName`) reaches every known node.
    let known_nodes: std::collections::BTreeSet<&String> =
        policy.workloads.iter().flat_map(|w| &w.nodes).collect();
    for node in known_nodes {
        g.edge(
            Node::any_node(),
            Node::NodeHost {
                name: Some(node.clone()),
            },
            Relation::PlacesPods,
            "a new pod can name its node (spec.nodeName)",
        );
    }
}

/// Pools: any service account of a namespace, cluster-wide grants, namespace admins.
fn add_pools(g: &mut Graph, policy: &Policy, _inventory: &Inventory, _brakes: &Brakes<'_>) {
    let mut namespaces: BTreeMap<String, ()> = BTreeMap::new();
    for subject in policy.known_subjects() {
        if let Subject::ServiceAccount { namespace, .. } = &subject {
            namespaces.insert(namespace.clone(), ());
            g.edge(
                Node::AnyServiceAccount {
                    namespace: Some(namespace.clone()),
                },
                Node::Identity {
                    subject: subject.clone(),
                },
                Relation::Includes,
                "a pod or token can name any service account of its namespace",
            );
        }
    }
    for ns in namespaces.keys() {
        let some = Some(ns.clone());
        g.edge(
            Node::AnyServiceAccount { namespace: None },
            Node::AnyServiceAccount {
                namespace: some.clone(),
            },
            Relation::Includes,
            "cluster-wide grant",
        );
        g.edge(
            Node::RunningPods { namespace: None },
            Node::RunningPods {
                namespace: some.clone(),
            },
            Relation::Includes,
            "cluster-wide grant",
        );
        g.edge(
            Node::Secrets { namespace: None },
            Node::Secrets {
                namespace: some.clone(),
            },
            Relation::Includes,
            "cluster-wide grant",
        );
        g.edge(
            Node::NamespaceAdmin {
                namespace: ns.clone(),
            },
            Node::AnyServiceAccount {
                namespace: some.clone(),
            },
            Relation::Administers,
            "an admin of the namespace can create pods as any of its service accounts",
        );
        g.edge(
            Node::NamespaceAdmin {
                namespace: ns.clone(),
            },
            Node::Secrets { namespace: some },
            Relation::Administers,
            "an admin of the namespace reads its Secrets",
        );
    }
    g.edge(
        Node::ClusterAdmin,
        Node::any_node(),
        Relation::Administers,
        "cluster-admin can run privileged pods",
    );
}

/// Legacy token Secrets: reading them is becoming their account.
fn add_legacy_tokens(g: &mut Graph, _policy: &Policy, inventory: &Inventory, _brakes: &Brakes<'_>) {
    // Legacy token Secrets: reading them is becoming their account.
    // The only Secrets the graph reads (palisade_k8s::credential::token_secret).
    for object in inventory.of_kind("", "Secret") {
        if let Some(token) = palisade_k8s::credential::token_secret(&object.value) {
            let account = token.account;
            // Written without a namespace: its scope's key, as the bindings beside it have.
            let ns = crate::model::namespace_of(inventory, object);
            let delete = g.fix_with(|| {
                Fix::new(
                    Change::DeleteTokenSecret,
                    format!("Secret {}", object.id.display_name()),
                )
            });
            g.edge_fixed(
                Node::Secrets {
                    namespace: Some(ns.clone()),
                },
                Node::Identity {
                    subject: Subject::service_account(&ns, account),
                },
                Relation::HoldsToken,
                format!(
                    "Secret {} holds its long-lived token{}",
                    object.id.display_name(),
                    match token.typed {
                        true => "",
                        false => {
                            " (read as metadata only: named by the annotation the token controller sets)"
                        }
                    }
                ),
                delete,
            );
        }
    }
}

/// Identities → what their bindings give.
fn add_bindings(g: &mut Graph, policy: &Policy, _inventory: &Inventory, brakes: &Brakes<'_>) {
    // Identities → what their bindings give.
    for (index, binding) in policy.bindings.iter().enumerate() {
        let everything = policy.grants_everything(binding);
        let held = policy.held_by(index);
        if !everything && held.is_empty() {
            continue;
        }
        let role = policy
            .role_of(binding)
            .map(|r| r.describe())
            .unwrap_or_default();
        let narrow = g.fix_with(|| Fix::new(Change::NarrowBinding, binding.describe()));
        for subject in &binding.subjects {
            let from = Node::Identity {
                subject: subject.clone(),
            };
            // The control plane's own grants are made again by the API server: no fix.
            let fix = narrow.filter(|_| !crate::builtin::is_default_grant(binding, subject));
            let grant = |g: &mut Graph, to: Node, evidence: String, fix: Option<FixId>| {
                g.edge_fixed(from.clone(), to, Relation::Grants, evidence, fix)
            };
            if everything {
                let to = match &binding.namespace {
                    None => Node::ClusterAdmin,
                    Some(ns) => Node::NamespaceAdmin {
                        namespace: ns.clone(),
                    },
                };
                grant(
                    g,
                    to,
                    format!(
                        "{} → {role}: every verb on every resource",
                        binding.describe()
                    ),
                    fix,
                );
            }
            for h in held {
                let rule_numbers: Vec<String> =
                    h.rules.iter().map(|r| (r + 1).to_string()).collect();
                let evidence = format!(
                    "{} → {role} rule {}: {}",
                    binding.describe(),
                    rule_numbers.join("+"),
                    h.does()
                );
                let ns = h.namespace.clone();
                // Why a pod created here may own its node, when it may.
                let mut node_open: Option<String> = None;
                if let Some(names) = &h.names {
                    for to in named_targets(policy, h.primitive.id, names, ns.as_deref()) {
                        grant(g, to, evidence.clone(), fix);
                    }
                    continue;
                }
                let targets: Vec<Node> = match h.primitive.leads {
                    Leads::Admin => vec![match &ns {
                        None => Node::ClusterAdmin,
                        Some(ns) => Node::NamespaceAdmin {
                            namespace: ns.clone(),
                        },
                    }],
                    Leads::AnyServiceAccount => {
                        let mut t = vec![Node::AnyServiceAccount {
                            namespace: ns.clone(),
                        }];
                        if h.primitive.id == "create-workloads"
                            && let Some(open) = brakes.node_owner_let_in(ns.as_deref())
                        {
                            node_open = Some(open);
                            t.push(Node::any_node());
                        }
                        t
                    }
                    Leads::RunningPodAccounts => vec![Node::RunningPods {
                        namespace: ns.clone(),
                    }],
                    Leads::Secrets => vec![Node::Secrets {
                        namespace: ns.clone(),
                    }],
                    Leads::Node => vec![Node::any_node()],
                    Leads::Capability => vec![],
                };
                for to in targets {
                    let (evidence, fix) = match &node_open {
                        // Pods that own their node are let in where they are created: the step
                        // goes when the binding is narrowed, or when the namespace refuses them.
                        Some(open) if to == Node::any_node() => {
                            let refuse = ns.as_ref().and_then(|ns| {
                                g.fix_with(|| {
                                    Fix::new(Change::EnforcePodSecurity, format!("Namespace {ns}"))
                                })
                            });
                            (format!("{evidence}; {open}"), g.fix_either(&[fix, refuse]))
                        }
                        _ => (evidence.clone(), fix),
                    };
                    grant(g, to, evidence, fix);
                }
            }
        }
    }
}

/// Implicit groups: a member reaches what its groups are bound to.
fn add_implicit_groups(
    g: &mut Graph,
    policy: &Policy,
    _inventory: &Inventory,
    _brakes: &Brakes<'_>,
) {
    // Implicit groups: users are in `system:authenticated` (the anonymous user in
    // `system:unauthenticated`), service accounts also in `system:serviceaccounts` and
    // `system:serviceaccounts:<ns>`. Only groups that bindings name can lead anywhere.
    let bound_groups: std::collections::BTreeSet<&str> = policy
        .bindings
        .iter()
        .flat_map(|b| &b.subjects)
        .filter_map(|s| match s {
            Subject::Group { name } => Some(name.as_str()),
            _ => None,
        })
        .collect();
    if !bound_groups.is_empty() {
        for member in policy.known_subjects() {
            if matches!(member, Subject::Group { .. }) {
                continue;
            }
            for group in member.identity().groups {
                if bound_groups.contains(group.as_str()) {
                    g.edge(
                        Node::Identity {
                            subject: member.clone(),
                        },
                        Node::Identity {
                            subject: Subject::Group {
                                name: group.clone(),
                            },
                        },
                        Relation::MemberOf,
                        format!("{member} is always in group {group}"),
                    );
                }
            }
        }
    }
}

/// What stops a pod created in a namespace from owning its node: Pod Security enforcement
/// (baseline refuses every way [`palisade_k8s::takeover_probes`] lists) and, when they were
/// asked, the admission policies.
pub(crate) struct Brakes<'a> {
    /// Namespaces whose `pod-security.kubernetes.io/enforce` is baseline or restricted.
    enforced: HashMap<String, String>,
    refusals: Option<&'a AdmissionRefusals>,
}

impl Brakes<'_> {
    /// Why a pod created in `namespace` (any namespace: `None`) may own its node, as the
    /// evidence of that step; `None` when admission refuses every way there.
    fn node_owner_let_in(&self, namespace: Option<&str>) -> Option<String> {
        let Some(namespace) = namespace else {
            return Some("no Pod Security enforcement stops a privileged pod there".into());
        };
        if self.enforced.contains_key(namespace) {
            return None;
        }
        let ways = self.refusals.and_then(|r| r.of(namespace));
        match ways {
            None => Some("no Pod Security enforcement stops a privileged pod there".into()),
            Some(ways) => {
                let open = ways.iter().find(|w| w.asked && w.refused_by.is_none())?;
                let refused = ways.iter().filter(|w| w.refused_by.is_some()).count();
                let mut notes: Vec<String> = open.escaped.iter().cloned().collect();
                if refused > 0 && ways.iter().all(|w| w.asked) {
                    notes.push(format!(
                        "policies refuse {refused} of {} ways to own a node",
                        ways.len()
                    ));
                }
                let notes = if notes.is_empty() {
                    String::new()
                } else {
                    format!(" ({})", notes.join("; "))
                };
                Some(format!(
                    "neither Pod Security nor an admission policy stops a pod that {} there{notes}",
                    open.way
                ))
            }
        }
    }
}

/// The namespaces where a binding lets someone create pods (or their controllers) and Pod
/// Security does not stop a pod that owns its node: the only ones whose admission policies the
/// graph asks about.
fn namespaces_creating_pods(policy: &Policy, enforced: &HashMap<String, String>) -> Vec<String> {
    let mut namespaces: Vec<String> = (0..policy.bindings.len())
        .flat_map(|index| policy.held_by(index))
        .filter(|held| held.primitive.id == "create-workloads")
        .filter_map(|held| held.namespace.clone())
        .filter(|ns| !enforced.contains_key(ns))
        .collect();
    namespaces.sort();
    namespaces.dedup();
    namespaces
}

/// Asks the cluster's admission policies what they refuse of pods that would own their node
/// (`palisade-rules` answers, by judging probe pods with the policies).
pub trait AdmissionAsker: Send + Sync {
    /// What the policies do in each of `namespaces` (of `inventory`).
    fn ask(&self, inventory: &Inventory, namespaces: &[String]) -> AdmissionRefusals;
}

/// What the cluster's admission policies do with pods that would own their node, by
/// namespace: each way to own it ([`palisade_k8s::takeover_probes`]) with the policy that
/// refuses it, if one does (`palisade-rules` asks the policies). A namespace not listed was not
/// asked about: only Pod Security stops a pod there.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AdmissionRefusals {
    namespaces: HashMap<String, Vec<WayRefused>>,
}

/// One way to own a node, and the policy that refuses it in a namespace (`Kind/name`); when
/// none does, the policy that would but that a pod's creator escapes, and how. A way is not
/// asked about once another is known to be let in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WayRefused {
    pub way: String,
    pub asked: bool,
    pub refused_by: Option<String>,
    /// "K8sPSPPrivilegedContainer/psp refuses one, but it exempts images safe.example/*".
    pub escaped: Option<String>,
}

impl AdmissionRefusals {
    /// Records what the policies do in `namespace`.
    pub fn insert(&mut self, namespace: String, ways: Vec<WayRefused>) {
        self.namespaces.insert(namespace, ways);
    }

    /// What the policies do in `namespace`, when they were asked.
    pub fn of(&self, namespace: &str) -> Option<&[WayRefused]> {
        self.namespaces.get(namespace).map(Vec::as_slice)
    }

    /// Whether the policies refuse every way in `namespace`.
    pub fn refuse_all(&self, namespace: &str) -> bool {
        self.of(namespace)
            .is_some_and(|ways| ways.iter().all(|w| w.asked && w.refused_by.is_some()))
    }
}

/// Namespaces whose `pod-security.kubernetes.io/enforce` is baseline or restricted.
fn enforced_namespaces(inventory: &Inventory) -> HashMap<String, String> {
    inventory
        .of_kind("", "Namespace")
        .filter_map(|ns| {
            let level = palisade_k8s::pod_security::enforced_level(&ns.value)?;
            (level >= palisade_k8s::pod_security::Level::Baseline)
                .then(|| (ns.id.name.clone().unwrap_or_default(), level.to_string()))
        })
        .collect()
}

/// A Service's namespace, name and selector.
type SelectorEntry<'a> = (String, String, &'a serde_json::Map<String, Value>);

/// The evidence of an exposure `why` given what its workload's policies let in from outside
/// (`palisade_net::Engine::from_outside`); `None` when they keep everything out and that answer
/// is final. An answer that is not final (where the ingress controller runs, or namespace
/// labels the input does not give, decide it) keeps the chain: an attack path is dropped
/// only on what the input shows.
fn outside_reach(why: &str, outside: &palisade_net::Verdict) -> Option<String> {
    match (outside.conn.is_empty(), outside.not_evaluated.is_empty()) {
        (true, true) => None,
        (true, false) => Some(format!(
            "{why}; its policies may keep everything out, but that is not final ({})",
            outside.notes()
        )),
        (false, _) if outside.conn.is_all() => Some(why.to_string()),
        (false, true) => Some(format!("{why}; its policies let in {}", outside.conn)),
        (false, false) => Some(format!(
            "{why}; its policies let in {}, or more ({})",
            outside.conn,
            outside.notes()
        )),
    }
}

/// Workloads reachable from outside the cluster, with the object that exposes them.
/// `workload_of` maps a workload's object to its index in `policy.workloads`.
fn exposed_workloads(
    policy: &Policy,
    inventory: &Inventory,
    workload_of: &HashMap<usize, usize>,
) -> Vec<Exposed> {
    let mut exposed_services: HashMap<(String, String), String> = HashMap::new();
    let mut selectors: Vec<(String, String, &serde_json::Map<String, Value>)> = Vec::new();
    for service in inventory.of_kind("", "Service") {
        let ns = service.id.namespace.clone().unwrap_or_default();
        let name = service.id.display_name().to_string();
        if let Some(selector) = service
            .value
            .at("/spec/selector")
            .and_then(Value::as_object)
            .filter(|s| !s.is_empty())
        {
            selectors.push((ns.clone(), name.clone(), selector));
        }
        let kind = service
            .value
            .at("/spec/type")
            .and_then(Value::as_str)
            .unwrap_or("ClusterIP");
        // The rules' answer (NET001, NET003): an internal load balancer is not exposed.
        if palisade_k8s::service_exposure(&service.value).is_some() {
            let restricted = palisade_k8s::exposure::load_balancer_source_ranges(&service.value)
                .map(|ranges| format!(", {}", ranges.describe()))
                .unwrap_or_default();
            exposed_services.insert(
                (ns, name.clone()),
                format!("Service {name} of type {kind}{restricted}"),
            );
        }
    }
    // What the network engine opens to the ingress controller, where it comes from outside
    // the cluster: Ingresses, Routes, routes of a Gateway that is not internal.
    let ns_of = |o: &palisade_inventory::Object| o.id.namespace.clone().unwrap_or_default();
    for door in palisade_net::exposure::doors(inventory, &ns_of) {
        if door.external {
            exposed_services
                .entry((door.namespace, door.service.to_string()))
                .or_insert_with(|| format!("{} routes to Service {}", door.via, door.service));
        }
    }
    // Selectors by namespace, so each workload meets only its namespace's Services.
    let mut by_namespace: HashMap<&str, Vec<&SelectorEntry<'_>>> = HashMap::new();
    for entry in &selectors {
        by_namespace
            .entry(entry.0.as_str())
            .or_default()
            .push(entry);
    }
    let exposing = |namespace: &str, labels: Option<&serde_json::Map<String, Value>>| {
        by_namespace
            .get(namespace)
            .into_iter()
            .flatten()
            .filter(|(_, _, selector)| map_selector_matches(selector, labels))
            .find_map(|(ns, name, _)| exposed_services.get(&(ns.clone(), name.clone())))
    };
    let mut out = Vec::new();
    for (w, workload) in policy.workloads.iter().enumerate() {
        let object = &inventory.objects[workload.object];
        let Some(pod) = workload.pod_spec(inventory) else {
            continue;
        };
        // The Pods an operator makes from a template carry its labels too.
        let operator_labels = workload
            .template
            .as_ref()
            .and_then(|t| palisade_inventory::operator_pods::pod_labels(object, t));
        let labels = operator_labels.as_ref().or(pod.labels(object));
        // The head Service KubeRay makes, which an Ingress or route may name.
        let head_service = workload.template.as_ref().and_then(|t| {
            let cluster =
                palisade_k8s::ray::cluster(object.id.group(), &object.id.kind, &object.value)
                    .filter(|cluster| {
                        cluster.role(&t.spec) == Some(palisade_k8s::ray::Role::Head)
                    })?;
            palisade_net::exposure::kuberay_head_service(inventory, object, &cluster, &ns_of)
        });
        // The HTTP Service ECK makes in front of every node set of an Elasticsearch, which an
        // Ingress or route may name and `spec.http.service` may publish by its type.
        let eck_http = workload
            .template
            .as_ref()
            .and_then(|_| palisade_net::exposure::eck_http_service(inventory, object, &ns_of));
        let eck_published = eck_http.as_ref().and_then(|http| {
            let (exposure, field) = http.published.as_ref()?;
            Some(format!(
                "Service {} ECK makes ({}) publishes it through {}",
                http.name,
                field.dotted(),
                exposure.reach()
            ))
        });
        let routed = || {
            let name = head_service
                .as_ref()
                .or(eck_http.as_ref().map(|http| &http.name))?;
            exposed_services.get(&(ns_of(object), name.clone()))
        };
        let why = exposing(&workload.namespace, labels)
            .cloned()
            .or_else(|| routed().cloned())
            .or(eck_published);
        if let Some(why) = why {
            out.push(Exposed {
                workload: w,
                why,
                through: workload.object,
            });
        }
    }
    // A Pod judged through its workload whose labels put it behind an exposed Service the
    // template's Pods are not behind exposes the workload's powers (it has no more than the
    // template), through its own endpoint.
    for (index, object) in inventory.objects.iter().enumerate() {
        let (Some(top), Some((own, template))) =
            (inventory.controller_of(index), inventory.relabelled(index))
        else {
            continue;
        };
        let Some(&w) = workload_of.get(&top) else {
            continue;
        };
        let namespace = &policy.workloads[w].namespace;
        if let Some(why) = exposing(namespace, Some(&own))
            && exposing(namespace, Some(&template)).is_none()
        {
            out.push(Exposed {
                workload: w,
                why: format!(
                    "{why} selects {} {}, whose labels differ from its template's",
                    object.id.kind,
                    object.id.display_name()
                ),
                through: index,
            });
        }
    }
    // Likewise a Pod made from one of the templates of a RayCluster, a JobSet, ... (the
    // operator adds labels of its own, which its Services select) exposes that template's
    // workload.
    for (index, object) in inventory.objects.iter().enumerate() {
        let Some((holder, template)) = inventory.judged_through_template(index) else {
            continue;
        };
        let Some(w) = policy.workload_of_pod(holder, &template.spec) else {
            continue;
        };
        let namespace = &policy.workloads[w].namespace;
        let holder = &inventory.objects[holder];
        let operator_labels = palisade_inventory::operator_pods::pod_labels(holder, &template);
        let theirs = operator_labels
            .as_ref()
            .or(grouped_pod_spec(holder, &template).labels(holder));
        if let Some(why) = exposing(namespace, palisade_inventory::pod_labels(object))
            && exposing(namespace, theirs).is_none()
        {
            out.push(Exposed {
                workload: w,
                why: format!(
                    "{why} selects {} {}, made from it",
                    object.id.kind,
                    object.id.display_name()
                ),
                through: index,
            });
        }
    }
    out.extend(crate::ray::exposed_heads(policy, inventory));
    out
}

/// The pointer of the pod template a workload is, for a kind with several.
fn template_of(workload: &crate::model::Workload) -> Option<&str> {
    workload.template.as_ref().map(|t| t.spec.as_str())
}

/// A workload reachable from outside the cluster: why, and the object whose pods the traffic
/// reaches (the workload's own, or a Pod of it that its labels put behind an exposed Service).
pub(crate) struct Exposed {
    pub(crate) workload: usize,
    pub(crate) why: String,
    pub(crate) through: usize,
}

#[cfg(test)]
mod tests {
    use super::*;
    use palisade_inventory::{Limits, load_text};

    /// A web pod exposed to the internet whose account may create pods in `ops`, where an
    /// account is bound to cluster-admin. `without` drops one document to break a link.
    fn cluster(without: Option<&str>) -> (Policy, Graph) {
        let docs = [
            (
                "service",
                "apiVersion: v1\nkind: Service\nmetadata: {name: web, namespace: web}\nspec:\n  type: LoadBalancer\n  selector: {app: web}\n  ports: [{port: 443}]\n",
            ),
            (
                "web",
                "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web, namespace: web}\nspec:\n  template:\n    metadata: {labels: {app: web}}\n    spec:\n      serviceAccountName: web\n      containers: [{name: web, image: 'registry.example.com/web:1'}]\n",
            ),
            (
                "deployer",
                "apiVersion: rbac.authorization.k8s.io/v1\nkind: Role\nmetadata: {name: deployer, namespace: ops}\nrules:\n- {apiGroups: [apps], resources: [deployments], verbs: [create, update]}\n",
            ),
            (
                "binding",
                "apiVersion: rbac.authorization.k8s.io/v1\nkind: RoleBinding\nmetadata: {name: web-deploys-ops, namespace: ops}\nroleRef: {apiGroup: rbac.authorization.k8s.io, kind: Role, name: deployer}\nsubjects: [{kind: ServiceAccount, name: web, namespace: web}]\n",
            ),
            (
                "admin-sa",
                "apiVersion: v1\nkind: ServiceAccount\nmetadata: {name: backup, namespace: ops}\n",
            ),
            (
                "admin",
                "apiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRoleBinding\nmetadata: {name: backup-admin}\nroleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: cluster-admin}\nsubjects: [{kind: ServiceAccount, name: backup, namespace: ops}]\n",
            ),
            (
                "cluster-admin",
                "apiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRole\nmetadata: {name: cluster-admin}\nrules: [{apiGroups: ['*'], resources: ['*'], verbs: ['*']}]\n",
            ),
            (
                "ops-ns",
                "apiVersion: v1\nkind: Namespace\nmetadata: {name: ops, labels: {pod-security.kubernetes.io/enforce: restricted}}\n",
            ),
        ];
        let text: Vec<&str> = docs
            .iter()
            .filter(|(k, _)| Some(*k) != without)
            .map(|(_, d)| *d)
            .collect();
        let loaded = load_text("cluster.yaml", &text.join("---\n"), &Limits::default());
        assert!(loaded.diagnostics.is_empty(), "{:?}", loaded.diagnostics);
        let policy = Policy::from_inventory(&loaded.inventory);
        let graph = build(&policy, &loaded.inventory);
        (policy, graph)
    }

    #[test]
    fn another_analyzer_adds_edges_to_the_same_graph() {
        // A leaked credential (say, a token in a ConfigMap the web pod reads) as another
        // analyzer would contribute it: web reaches the Secrets of `ops`.
        fn leaked(g: &mut Graph, _: &Inventory) {
            g.edge(
                Node::workload(0, "Deployment", "web", "web"),
                Node::Secrets {
                    namespace: Some("ops".into()),
                },
                Relation::HoldsToken,
                "reads a token of ops from ConfigMap web/settings",
            );
        }
        let web = "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web, namespace: web}\nspec:\n  template:\n    spec:\n      automountServiceAccountToken: false\n      containers: [{name: w, image: 'registry.example.com/w:1'}]\n";
        let loaded = load_text("c.yaml", web, &Limits::default());
        let policy = Policy::from_inventory(&loaded.inventory);
        let start = workload_node(&policy, 0);
        let alone = build(&policy, &loaded.inventory);
        assert!(alone.path(&start, Goal::Secrets).is_none());
        let joined = build_with(&policy, &loaded.inventory, &[leaked]);
        let path = joined
            .path(&start, Goal::Secrets)
            .expect("a path through the new edge");
        assert!(path.describe().contains("ConfigMap web/settings"));
    }

    #[test]
    fn a_token_secret_written_without_a_namespace_is_one_of_its_scope_s_secrets() {
        let text = "apiVersion: v1\nkind: Secret\nmetadata: {name: admin-token, annotations: {kubernetes.io/service-account.name: admin}}\ntype: kubernetes.io/service-account-token\n---\napiVersion: rbac.authorization.k8s.io/v1\nkind: Role\nmetadata: {name: read}\nrules: [{apiGroups: [''], resources: [secrets], verbs: [get]}]\n---\napiVersion: rbac.authorization.k8s.io/v1\nkind: RoleBinding\nmetadata: {name: devs-read}\nroleRef: {apiGroup: rbac.authorization.k8s.io, kind: Role, name: read}\nsubjects: [{kind: Group, name: devs, apiGroup: rbac.authorization.k8s.io}]\n";
        let loaded = load_text("charts/app/x.yaml", text, &Limits::default());
        let policy = Policy::from_inventory(&loaded.inventory);
        let graph = build(&policy, &loaded.inventory);
        let scope = palisade_k8s::names::unset_namespace("charts/app");
        let devs = Node::identity(Subject::Group {
            name: "devs".into(),
        });
        let path = graph
            .path(&devs, Goal::Secrets)
            .expect("devs read the scope's Secrets");
        let secrets = Node::Secrets {
            namespace: Some(scope.clone()),
        };
        assert_eq!(
            path.steps.last().unwrap().to,
            secrets,
            "{}",
            path.describe()
        );
        let admin = Node::identity(Subject::service_account(&scope, "admin"));
        let into: Vec<Node> = graph
            .steps_into(&admin)
            .into_iter()
            .map(|(from, _, _)| from)
            .collect();
        assert_eq!(into, [secrets], "the token Secret is one of those Secrets");
    }

    #[test]
    fn an_internal_load_balancer_is_no_way_in_from_the_internet() {
        // The same answer as NET001: a cloud annotation makes the load balancer private.
        let internal = "apiVersion: v1\nkind: Service\nmetadata: {name: web, namespace: web, annotations: {service.beta.kubernetes.io/aws-load-balancer-scheme: internal}}\nspec:\n  type: LoadBalancer\n  selector: {app: web}\n";
        let web = "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web, namespace: web}\nspec:\n  template:\n    metadata: {labels: {app: web}}\n    spec:\n      containers: [{name: w, image: 'registry.example.com/w:1'}]\n";
        let admin = "apiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRoleBinding\nmetadata: {name: web-admin}\nroleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: cluster-admin}\nsubjects: [{kind: ServiceAccount, name: default, namespace: web}]\n";
        let paths = |service: &str| {
            let text = format!("{service}---\n{web}---\n{admin}");
            let loaded = load_text("c.yaml", &text, &Limits::default());
            let policy = Policy::from_inventory(&loaded.inventory);
            let graph = build(&policy, &loaded.inventory);
            graph.path(&Node::Internet, Goal::ClusterAdmin).is_some()
        };
        assert!(!paths(internal));
        assert!(paths(&internal.replace(
            "annotations: {service.beta.kubernetes.io/aws-load-balancer-scheme: internal}",
            "annotations: {}"
        )));
    }

    #[test]
    fn exposed_pod_to_cluster_admin_is_one_chain_of_evidence() {
        let (policy, graph) = cluster(None);
        let path = graph
            .path(&workload_node(&policy, 0), Goal::ClusterAdmin)
            .expect("a path");
        let text = path.describe();
        assert_eq!(path.steps.len(), 4, "{text}");
        assert!(text.contains("ServiceAccount web/web"), "{text}");
        assert!(
            text.contains("RoleBinding ops/web-deploys-ops → Role ops/deployer rule 1"),
            "{text}"
        );
        assert!(text.contains("ServiceAccount ops/backup"), "{text}");
        assert!(text.ends_with("every verb on every resource)"), "{text}");
        let from_internet = graph.path(&Node::Internet, Goal::ClusterAdmin).unwrap();
        assert!(
            from_internet.steps[0]
                .evidence
                .contains("Service web of type LoadBalancer")
        );
        // ops enforces restricted: creating deployments there does not reach the node directly.
        let to_node = graph.path(&workload_node(&policy, 0), Goal::Nodes).unwrap();
        assert!(
            to_node.describe().contains("cluster-admin"),
            "{}",
            to_node.describe()
        );
    }

    #[test]
    fn removing_any_link_breaks_the_path() {
        for link in ["binding", "admin", "deployer"] {
            let (policy, graph) = cluster(Some(link));
            assert!(
                graph
                    .path(&workload_node(&policy, 0), Goal::ClusterAdmin)
                    .is_none(),
                "without {link} there must be no path"
            );
        }
        // cluster-admin is a default ClusterRole: the binding is judged without its definition.
        let (policy, graph) = cluster(Some("cluster-admin"));
        assert!(
            graph
                .path(&workload_node(&policy, 0), Goal::ClusterAdmin)
                .unwrap()
                .describe()
                .contains("ClusterRole cluster-admin (built-in)")
        );
        let (_, graph) = cluster(Some("service"));
        assert!(
            graph.path(&Node::Internet, Goal::ClusterAdmin).is_none(),
            "not exposed"
        );
    }

    fn graph_of(yaml: &str) -> (Policy, Graph) {
        let loaded = load_text("scenario.yaml", yaml, &Limits::default());
        assert!(loaded.diagnostics.is_empty(), "{:?}", loaded.diagnostics);
        let policy = Policy::from_inventory(&loaded.inventory);
        let graph = build(&policy, &loaded.inventory);
        (policy, graph)
    }

    const MONITORING: &str = "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: scraper, namespace: mon}\nspec:\n  template:\n    spec:\n      serviceAccountName: scraper\n      containers: [{name: s, image: 'registry.example.com/s:1'}]\n---\napiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRole\nmetadata: {name: kubelet-proxy}\nrules: [{apiGroups: [''], resources: [nodes/proxy], verbs: [get]}]\n---\napiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRoleBinding\nmetadata: {name: scraper-proxy}\nroleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: kubelet-proxy}\nsubjects: [{kind: ServiceAccount, name: scraper, namespace: mon}]\n---\napiVersion: apps/v1\nkind: DaemonSet\nmetadata: {name: cni, namespace: kube-system}\nspec:\n  template:\n    spec:\n      serviceAccountName: cni\n      containers: [{name: c, image: 'registry.example.com/c:1'}]\n---\napiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRoleBinding\nmetadata: {name: cni-admin}\nroleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: cluster-admin}\nsubjects: [{kind: ServiceAccount, name: cni, namespace: kube-system}]\n";

    #[test]
    fn nodes_proxy_reaches_a_node_and_the_daemonset_accounts_on_it() {
        let (policy, graph) = graph_of(MONITORING);
        let text = graph
            .path(&workload_node(&policy, 0), Goal::ClusterAdmin)
            .unwrap()
            .describe();
        assert!(
            text.contains("→ a node (ClusterRoleBinding scraper-proxy"),
            "{text}"
        );
        assert!(
            text.contains(
                "→ ServiceAccount kube-system/cni (DaemonSet kube-system/cni runs on every node"
            ),
            "{text}"
        );
        // Negative: the agent runs as a Deployment, not on every node.
        let (policy, graph) = graph_of(&MONITORING.replace("kind: DaemonSet", "kind: Deployment"));
        assert!(
            graph
                .path(&workload_node(&policy, 0), Goal::ClusterAdmin)
                .is_none()
        );
        assert!(
            graph
                .path(&workload_node(&policy, 0), Goal::Nodes)
                .is_some(),
            "the node itself is still reached"
        );
    }

    const TOKENS: &str = "apiVersion: rbac.authorization.k8s.io/v1\nkind: Role\nmetadata: {name: secret-reader, namespace: ci}\nrules: [{apiGroups: [''], resources: [secrets], verbs: [get, list]}]\n---\napiVersion: rbac.authorization.k8s.io/v1\nkind: RoleBinding\nmetadata: {name: dev-reads-ci, namespace: ci}\nroleRef: {apiGroup: rbac.authorization.k8s.io, kind: Role, name: secret-reader}\nsubjects: [{kind: User, name: dev}]\n---\napiVersion: v1\nkind: Secret\nmetadata: {name: deployer-token, namespace: ci, annotations: {kubernetes.io/service-account.name: deployer}}\ntype: kubernetes.io/service-account-token\n---\napiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRoleBinding\nmetadata: {name: deployer-edit-everything}\nroleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: everything}\nsubjects: [{kind: ServiceAccount, name: deployer, namespace: ci}]\n---\napiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRole\nmetadata: {name: everything}\nrules: [{apiGroups: ['*'], resources: ['*'], verbs: ['*']}]\n";

    #[test]
    fn reading_secrets_reaches_the_account_whose_legacy_token_is_there() {
        let (_, graph) = graph_of(TOKENS);
        let dev = Node::Identity {
            subject: Subject::User { name: "dev".into() },
        };
        let text = graph.path(&dev, Goal::ClusterAdmin).unwrap().describe();
        assert!(text.contains("the Secrets of namespace ci"), "{text}");
        assert!(
            text.contains("Secret deployer-token holds its long-lived token"),
            "{text}"
        );
        // Negative: a token Secret of another namespace is out of reach.
        let (_, graph) = graph_of(&TOKENS.replace(
            "name: deployer-token, namespace: ci",
            "name: deployer-token, namespace: prod",
        ));
        assert!(graph.path(&dev, Goal::ClusterAdmin).is_none());
        assert!(graph.path(&dev, Goal::Secrets).is_some());
        // Read as metadata only (a cluster read's default), the Secret has no type: the
        // annotation the token controller sets names its account, and the evidence says so.
        let (_, graph) =
            graph_of(&TOKENS.replace("type: kubernetes.io/service-account-token\n", ""));
        let text = graph.path(&dev, Goal::ClusterAdmin).unwrap().describe();
        assert!(text.contains("read as metadata only"), "{text}");
        // An Opaque Secret holds no token, whatever its annotations.
        let (_, graph) =
            graph_of(&TOKENS.replace("type: kubernetes.io/service-account-token", "type: Opaque"));
        assert!(graph.path(&dev, Goal::ClusterAdmin).is_none());
    }

    #[test]
    fn impersonating_groups_is_admin_but_impersonating_accounts_of_a_namespace_is_not() {
        let yaml = "apiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRole\nmetadata: {name: imp}\nrules: [{apiGroups: [''], resources: [groups], verbs: [impersonate]}]\n---\napiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRoleBinding\nmetadata: {name: imp}\nroleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: imp}\nsubjects: [{kind: User, name: support}]\n";
        let (_, graph) = graph_of(yaml);
        let support = Node::Identity {
            subject: Subject::User {
                name: "support".into(),
            },
        };
        assert_eq!(
            graph
                .path(&support, Goal::ClusterAdmin)
                .unwrap()
                .steps
                .len(),
            1
        );
        let namespaced = yaml
            .replace("resources: [groups]", "resources: [serviceaccounts]")
            .replace(
                "kind: ClusterRoleBinding\nmetadata: {name: imp}",
                "kind: RoleBinding\nmetadata: {name: imp, namespace: tools}",
            );
        let (_, graph) = graph_of(&namespaced);
        assert!(
            graph.path(&support, Goal::ClusterAdmin).is_none(),
            "no admin account in tools"
        );
    }

    #[test]
    fn all_paths_starts_from_workloads_and_identities() {
        let (_, graph) = cluster(None);
        let paths = graph.all_paths(Goal::ClusterAdmin);
        let starts: Vec<String> = paths.iter().map(|p| p.from.to_string()).collect();
        assert!(
            starts.contains(&"Deployment web/web".to_string()),
            "{starts:?}"
        );
        assert!(
            starts.contains(&"ServiceAccount ops/backup".to_string()),
            "{starts:?}"
        );
        assert!(starts.contains(&"the internet".to_string()), "{starts:?}");
    }

    /// A live cluster as a snapshot has it: an exposed privileged web Deployment whose pod runs
    /// on `web_node`, and Argo CD's controller (cluster-admin) whose pod runs on `argo_node`.
    fn placed(web_privileged: bool, web_node: &str, argo_node: &str) -> String {
        format!(
            "apiVersion: v1\nkind: Service\nmetadata: {{name: web, namespace: web}}\nspec: {{type: LoadBalancer, selector: {{app: web}}}}\n---\n\
apiVersion: apps/v1\nkind: Deployment\nmetadata: {{name: web, namespace: web, uid: d-web}}\nspec:\n  selector: {{matchLabels: {{app: web}}}}\n  template:\n    metadata: {{labels: {{app: web}}}}\n    spec:\n      containers: [{{name: web, image: 'registry.example.com/web:1', securityContext: {{privileged: {web_privileged}}}}}]\n---\n\
apiVersion: apps/v1\nkind: ReplicaSet\nmetadata:\n  name: web-1\n  namespace: web\n  uid: rs-web\n  ownerReferences: [{{apiVersion: apps/v1, kind: Deployment, name: web, uid: d-web, controller: true}}]\nspec:\n  template:\n    metadata: {{labels: {{app: web}}}}\n    spec:\n      containers: [{{name: web, image: 'registry.example.com/web:1', securityContext: {{privileged: {web_privileged}}}}}]\n---\n\
apiVersion: v1\nkind: Pod\nmetadata:\n  name: web-1-a\n  namespace: web\n  labels: {{app: web}}\n  ownerReferences: [{{apiVersion: apps/v1, kind: ReplicaSet, name: web-1, uid: rs-web, controller: true}}]\nspec:\n  nodeName: {web_node}\n  containers: [{{name: web, image: 'registry.example.com/web:1', securityContext: {{privileged: {web_privileged}}}}}]\n---\n\
apiVersion: apps/v1\nkind: StatefulSet\nmetadata: {{name: argocd-application-controller, namespace: argocd, uid: s-argo}}\nspec:\n  template:\n    spec:\n      serviceAccountName: argocd-application-controller\n      containers: [{{name: c, image: 'registry.example.com/argocd:1'}}]\n---\n\
apiVersion: v1\nkind: Pod\nmetadata:\n  name: argocd-application-controller-0\n  namespace: argocd\n  ownerReferences: [{{apiVersion: apps/v1, kind: StatefulSet, name: argocd-application-controller, uid: s-argo, controller: true}}]\nspec:\n  nodeName: {argo_node}\n  serviceAccountName: argocd-application-controller\n  containers: [{{name: c, image: 'registry.example.com/argocd:1'}}]\n---\n\
apiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRoleBinding\nmetadata: {{name: argocd-admin}}\nroleRef: {{apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: cluster-admin}}\nsubjects: [{{kind: ServiceAccount, name: argocd-application-controller, namespace: argocd}}]\n"
        )
    }

    fn live_graph_of(yaml: &str) -> (Policy, Graph) {
        let mut loaded = load_text("snapshot.yaml", yaml, &Limits::default());
        assert!(loaded.diagnostics.is_empty(), "{:?}", loaded.diagnostics);
        loaded.inventory.complete = true;
        let policy = Policy::from_inventory(&loaded.inventory);
        let graph = build(&policy, &loaded.inventory);
        (policy, graph)
    }

    fn web(policy: &Policy) -> Node {
        let w = policy
            .workloads
            .iter()
            .position(|w| w.name == "web" && w.namespace == "web")
            .unwrap_or_else(|| panic!("{:?}", policy.workloads));
        workload_node(policy, w)
    }

    #[test]
    fn a_privileged_pod_reaches_the_tokens_of_pods_on_its_node() {
        let (policy, graph) = live_graph_of(&placed(true, "node-1", "node-1"));
        let deployment = &policy.workloads[policy
            .workloads
            .iter()
            .position(|w| w.name == "web" && w.namespace == "web")
            .unwrap()];
        assert_eq!(
            deployment.nodes,
            ["node-1"],
            "the Pod's node goes to its Deployment"
        );
        let text = graph
            .path(&web(&policy), Goal::ClusterAdmin)
            .expect("a path")
            .describe();
        assert!(
            text.contains(
                "→ node node-1 (container \"web\" runs privileged, and its pods run there)"
            ),
            "{text}"
        );
        assert!(
            text.contains("→ ServiceAccount argocd/argocd-application-controller (StatefulSet argocd/argocd-application-controller runs there with the token mounted"),
            "{text}"
        );
        let exposed = graph
            .path(&Node::Internet, Goal::ClusterAdmin)
            .expect("from the internet");
        assert!(
            exposed
                .describe()
                .contains("Service web of type LoadBalancer"),
            "{}",
            exposed.describe()
        );
    }

    #[test]
    fn another_node_or_an_unprivileged_pod_breaks_the_path() {
        // Only the network remains: no policy keeps the exposed web tier from connecting to
        // the admin controller, which is a step that needs an exploit, not a node takeover.
        let only_network = |graph: &Graph, policy: &Policy, goal: Goal| {
            graph
                .path(&web(policy), goal)
                .is_none_or(|p| p.steps[0].relation == Relation::Reaches)
        };
        let (policy, graph) = live_graph_of(&placed(true, "node-1", "node-2"));
        assert!(only_network(&graph, &policy, Goal::ClusterAdmin));
        let owns = graph
            .path(&web(&policy), Goal::Nodes)
            .expect("it still owns node-1");
        assert_eq!(owns.steps[0].relation, Relation::OwnsNode);
        let (policy, graph) = live_graph_of(&placed(false, "node-1", "node-1"));
        assert!(only_network(&graph, &policy, Goal::ClusterAdmin));
        assert!(only_network(&graph, &policy, Goal::Nodes));
    }

    const EXPOSED_WEB_AND_ADMIN_JOB: &str = "apiVersion: v1\nkind: Service\nmetadata: {name: web, namespace: shop}\nspec: {type: LoadBalancer, selector: {app: web}, ports: [{port: 443, targetPort: 8443}]}\n---\napiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web, namespace: shop}\nspec:\n  selector: {matchLabels: {app: web}}\n  template:\n    metadata: {labels: {app: web}}\n    spec:\n      automountServiceAccountToken: false\n      containers: [{name: web, image: 'registry.example.com/web:1'}]\n---\napiVersion: apps/v1\nkind: Deployment\nmetadata: {name: deployer, namespace: ops}\nspec:\n  selector: {matchLabels: {app: deployer}}\n  template:\n    metadata: {labels: {app: deployer}}\n    spec:\n      serviceAccountName: deployer\n      containers: [{name: d, image: 'registry.example.com/deployer:1', ports: [{containerPort: 8080}]}]\n---\napiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRoleBinding\nmetadata: {name: deployer}\nroleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: cluster-admin}\nsubjects: [{kind: ServiceAccount, name: deployer, namespace: ops}]\n";

    fn network_graph_of(yaml: &str) -> Graph {
        let loaded = load_text("g.yaml", yaml, &Limits::default());
        assert!(loaded.diagnostics.is_empty(), "{:?}", loaded.diagnostics);
        build(
            &Policy::from_inventory(&loaded.inventory),
            &loaded.inventory,
        )
    }

    /// A Pod of a workload that no exposed Service selects, whose labels put it behind the
    /// LoadBalancer Service of another: the workload's powers are exposed through that Pod
    /// (it has no more than the template), and the chain names it.
    #[test]
    fn a_pod_whose_labels_join_an_exposed_service_exposes_its_workload() {
        let admin = "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: deployer, namespace: shop, uid: d-1}\nspec:\n  selector: {matchLabels: {app: deployer}}\n  template:\n    metadata: {labels: {app: deployer}}\n    spec: {serviceAccountName: deployer, containers: [{name: d, image: 'registry.example.com/deployer:1'}]}\n---\napiVersion: apps/v1\nkind: ReplicaSet\nmetadata: {name: deployer-1, namespace: shop, uid: rs-1, ownerReferences: [{apiVersion: apps/v1, kind: Deployment, name: deployer, uid: d-1, controller: true}]}\nspec:\n  selector: {matchLabels: {app: deployer}}\n  template:\n    metadata: {labels: {app: deployer, pod-template-hash: '1'}}\n    spec: {serviceAccountName: deployer, containers: [{name: d, image: 'registry.example.com/deployer:1'}]}\n---\napiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRoleBinding\nmetadata: {name: deployer}\nroleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: cluster-admin}\nsubjects: [{kind: ServiceAccount, name: deployer, namespace: shop}]\n---\napiVersion: v1\nkind: Service\nmetadata: {name: web, namespace: shop}\nspec: {type: LoadBalancer, selector: {app: web}, ports: [{port: 443}]}\n";
        let pod = |labels: &str| {
            format!(
                "---\napiVersion: v1\nkind: Pod\nmetadata: {{name: deployer-1-x, namespace: shop, labels: {labels}, ownerReferences: [{{apiVersion: apps/v1, kind: ReplicaSet, name: deployer-1, uid: rs-1, controller: true}}]}}\nspec: {{serviceAccountName: deployer, containers: [{{name: d, image: 'registry.example.com/deployer:1'}}]}}\n"
            )
        };
        let honest = network_graph_of(
            &(admin.to_string() + &pod("{app: deployer, pod-template-hash: '1'}")),
        );
        assert!(honest.path(&Node::Internet, Goal::ClusterAdmin).is_none());
        let joined =
            network_graph_of(&(admin.to_string() + &pod("{app: web, pod-template-hash: '1'}")));
        let path = joined
            .path(&Node::Internet, Goal::ClusterAdmin)
            .expect("through the relabelled Pod")
            .describe();
        assert!(
            path.contains("selects Pod deployer-1-x, whose labels differ from its template's"),
            "{path}"
        );
    }

    #[test]
    fn chains_gain_network_steps_and_lose_blocked_ones() {
        let open = network_graph_of(EXPOSED_WEB_AND_ADMIN_JOB);
        let path = open
            .path(&Node::Internet, Goal::ClusterAdmin)
            .expect("through the network")
            .describe();
        assert!(
            path.contains("→ Deployment ops/deployer (may connect to ops/deployer on All Connections (no ingress policy selects it))"),
            "{path}"
        );
        // The deployer admits only its own namespace: the chain needs a blocked connection.
        let guarded = format!(
            "{EXPOSED_WEB_AND_ADMIN_JOB}---\napiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {{name: own-namespace, namespace: ops}}\nspec:\n  podSelector: {{}}\n  ingress: [{{from: [{{podSelector: {{}}}}]}}]\n"
        );
        assert!(
            network_graph_of(&guarded)
                .path(&Node::Internet, Goal::ClusterAdmin)
                .is_none()
        );
        // A web tier whose own policies let nothing in is no way in at all.
        let closed = format!(
            "{EXPOSED_WEB_AND_ADMIN_JOB}---\napiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {{name: deny, namespace: shop}}\nspec:\n  podSelector: {{}}\n  policyTypes: [Ingress]\n"
        );
        let graph = network_graph_of(&closed);
        assert!(graph.path(&Node::Internet, Goal::ClusterAdmin).is_none());
        assert!(
            graph
                .exposure(&Node::workload(1, "Deployment", "shop", "web"))
                .is_none()
        );
    }

    #[test]
    fn creating_pods_reaches_every_node_by_name() {
        let creator = "---\napiVersion: rbac.authorization.k8s.io/v1\nkind: Role\nmetadata: {name: run, namespace: dev}\nrules: [{apiGroups: [''], resources: [pods], verbs: [create]}]\n---\napiVersion: rbac.authorization.k8s.io/v1\nkind: RoleBinding\nmetadata: {name: run, namespace: dev}\nroleRef: {apiGroup: rbac.authorization.k8s.io, kind: Role, name: run}\nsubjects: [{kind: User, name: dev}]\n";
        let (_, graph) = live_graph_of(&(placed(false, "node-1", "node-2") + creator));
        let dev = Node::Identity {
            subject: Subject::User { name: "dev".into() },
        };
        let text = graph
            .path(&dev, Goal::ClusterAdmin)
            .expect("a path")
            .describe();
        assert!(text.contains("→ a node"), "{text}");
        assert!(
            text.contains("→ node node-2 (a new pod can name its node (spec.nodeName))"),
            "{text}"
        );
    }

    #[test]
    fn from_manifests_a_privileged_workload_reaches_daemonset_accounts_only() {
        let privileged = MONITORING.replace(
            "containers: [{name: s, image: 'registry.example.com/s:1'}]",
            "containers: [{name: s, image: 'registry.example.com/s:1', securityContext: {privileged: true}}]",
        )
        .replace("subjects: [{kind: ServiceAccount, name: scraper, namespace: mon}]", "subjects: []");
        let (policy, graph) = graph_of(&privileged);
        let text = graph
            .path(&workload_node(&policy, 0), Goal::ClusterAdmin)
            .expect("a path")
            .describe();
        assert!(
            text.contains("→ a node (container \"s\" runs privileged)"),
            "{text}"
        );
        assert!(
            text.contains("DaemonSet kube-system/cni runs on every node"),
            "{text}"
        );
    }

    #[test]
    fn grants_to_implicit_groups_reach_every_member() {
        let base = "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web, namespace: web}\nspec:\n  template:\n    spec:\n      serviceAccountName: web\n      containers: [{name: w, image: 'registry.example.com/w:1'}]\n---\napiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRoleBinding\nmetadata: {name: backup-admin}\nroleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: cluster-admin}\nsubjects: [{kind: ServiceAccount, name: backup, namespace: ops}]\n";
        let broad = "---\napiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRole\nmetadata: {name: run-pods}\nrules: [{apiGroups: [''], resources: [pods], verbs: [create]}]\n---\napiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRoleBinding\nmetadata: {name: everyone-runs-pods}\nroleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: run-pods}\nsubjects: [{apiGroup: rbac.authorization.k8s.io, kind: Group, name: 'system:serviceaccounts'}]\n";
        let (policy, graph) = graph_of(&format!("{base}{broad}"));
        let text = graph
            .path(&workload_node(&policy, 0), Goal::ClusterAdmin)
            .expect("a path")
            .describe();
        assert!(
            text.contains("→ Group system:serviceaccounts (ServiceAccount web/web is always in group system:serviceaccounts)"),
            "{text}"
        );
        assert!(text.contains("ServiceAccount ops/backup"), "{text}");
        // Users are in system:authenticated, not in system:serviceaccounts.
        let alice = Node::Identity {
            subject: Subject::User {
                name: "alice".into(),
            },
        };
        assert!(graph.path(&alice, Goal::ClusterAdmin).is_none());
        let to_users = broad.replace("system:serviceaccounts", "system:authenticated");
        let (_, graph) = graph_of(&format!(
            "{base}{to_users}\n---\napiVersion: rbac.authorization.k8s.io/v1\nkind: RoleBinding\nmetadata: {{name: alice, namespace: dev}}\nroleRef: {{apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: view}}\nsubjects: [{{kind: User, name: alice}}]\n"
        ));
        assert!(graph.path(&alice, Goal::ClusterAdmin).is_some());
        // Negative: without the broad binding, the web pod's account reaches nothing.
        let (policy, graph) = graph_of(base);
        assert!(
            graph
                .path(&workload_node(&policy, 0), Goal::ClusterAdmin)
                .is_none()
        );
    }

    #[test]
    fn aws_auth_writers_and_node_groups_lead_to_cluster_admin() {
        let web = "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web, namespace: web}\nspec:\n  template:\n    spec:\n      serviceAccountName: web\n      containers: [{name: w, image: 'registry.example.com/w:1'}]\n---\n";
        let aws_auth = "apiVersion: rbac.authorization.k8s.io/v1\nkind: Role\nmetadata: {name: edit-aws-auth, namespace: kube-system}\nrules: [{apiGroups: [''], resources: [configmaps], resourceNames: [aws-auth], verbs: [get, patch]}]\n---\napiVersion: rbac.authorization.k8s.io/v1\nkind: RoleBinding\nmetadata: {name: web-edits-aws-auth, namespace: kube-system}\nroleRef: {apiGroup: rbac.authorization.k8s.io, kind: Role, name: edit-aws-auth}\nsubjects: [{kind: ServiceAccount, name: web, namespace: web}]\n";
        let (policy, graph) = graph_of(&format!("{web}{aws_auth}"));
        let text = graph
            .path(&workload_node(&policy, 0), Goal::ClusterAdmin)
            .expect("a path through aws-auth")
            .describe();
        assert!(
            text.contains("patch ConfigMap kube-system/aws-auth"),
            "{text}"
        );
        // Another ConfigMap of kube-system is no step.
        let other = aws_auth.replace("resourceNames: [aws-auth]", "resourceNames: [coredns]");
        let (policy, graph) = graph_of(&format!("{web}{other}"));
        assert!(
            graph
                .path(&workload_node(&policy, 0), Goal::ClusterAdmin)
                .is_none()
        );

        // A privileged workload owns its node; the node's group is bound to cluster-admin.
        let privileged = "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: agent, namespace: ops}\nspec:\n  template:\n    spec:\n      automountServiceAccountToken: false\n      containers: [{name: a, image: 'registry.example.com/a:1', securityContext: {privileged: true}}]\n---\n";
        let nodes_admin = "apiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRoleBinding\nmetadata: {name: nodes-admin}\nroleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: cluster-admin}\nsubjects: [{apiGroup: rbac.authorization.k8s.io, kind: Group, name: 'system:nodes'}]\n";
        let (policy, graph) = graph_of(&format!("{privileged}{nodes_admin}"));
        let text = graph
            .path(&workload_node(&policy, 0), Goal::ClusterAdmin)
            .expect("a path through the node's identity")
            .describe();
        assert!(text.contains("Group system:nodes"), "{text}");
        let (policy, graph) = graph_of(privileged);
        assert!(
            graph
                .path(&workload_node(&policy, 0), Goal::ClusterAdmin)
                .is_none()
        );
    }

    #[test]
    fn a_control_plane_node_is_cluster_admin_and_new_pods_can_land_on_it() {
        let apiserver = "apiVersion: v1\nkind: Pod\nmetadata: {name: kube-apiserver-cp-1, namespace: kube-system}\nspec:\n  nodeName: cp-1\n  hostNetwork: true\n  volumes: [{name: k8s-certs, hostPath: {path: /etc/kubernetes/pki, type: DirectoryOrCreate}}]\n  containers: [{name: kube-apiserver, image: 'registry.k8s.io/kube-apiserver:v1.33.0', volumeMounts: [{name: k8s-certs, mountPath: /etc/kubernetes/pki, readOnly: true}]}]\n---\n";
        let creator = "apiVersion: rbac.authorization.k8s.io/v1\nkind: Role\nmetadata: {name: run, namespace: dev}\nrules: [{apiGroups: [''], resources: [pods], verbs: [create]}]\n---\napiVersion: rbac.authorization.k8s.io/v1\nkind: RoleBinding\nmetadata: {name: run, namespace: dev}\nroleRef: {apiGroup: rbac.authorization.k8s.io, kind: Role, name: run}\nsubjects: [{kind: User, name: dev}]\n";
        let dev = Node::Identity {
            subject: Subject::User { name: "dev".into() },
        };
        let (_, graph) = live_graph_of(&format!("{apiserver}{creator}"));
        let text = graph
            .path(&dev, Goal::ClusterAdmin)
            .expect("a path")
            .describe();
        assert!(
            text.contains("→ node cp-1 (a new pod can name its node (spec.nodeName)) → cluster-admin (Pod kube-system/kube-apiserver-cp-1 runs there and mounts /etc/kubernetes/pki from the node"),
            "{text}"
        );
        // Negative: without a control-plane component in the snapshot (a managed cluster),
        // creating pods reaches nodes but not cluster-admin.
        let (_, graph) = live_graph_of(&format!(
            "{}{creator}",
            apiserver.replace("/etc/kubernetes/pki", "/srv/certs")
        ));
        assert!(graph.path(&dev, Goal::ClusterAdmin).is_none());
        assert!(graph.path(&dev, Goal::Nodes).is_some());
    }

    /// A support tool's ClusterRoleBinding with one rule (`rule`, a YAML flow mapping), plus
    /// an `ops-admin` user bound to cluster-admin.
    fn restricted(rule: &str) -> Graph {
        let yaml = format!(
            "apiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRole\nmetadata: {{name: support}}\nrules: [{rule}]\n---\napiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRoleBinding\nmetadata: {{name: support}}\nroleRef: {{apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: support}}\nsubjects: [{{kind: User, name: support}}]\n---\napiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRoleBinding\nmetadata: {{name: ops-admin}}\nroleRef: {{apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: cluster-admin}}\nsubjects: [{{kind: User, name: ops-admin}}]\n"
        );
        graph_of(&yaml).1
    }

    #[test]
    fn name_restricted_impersonation_and_binding_lead_to_what_they_name() {
        let support = Node::Identity {
            subject: Subject::User {
                name: "support".into(),
            },
        };
        let reaches = |rule: &str| restricted(rule).path(&support, Goal::ClusterAdmin);
        let admin = reaches("{apiGroups: [''], resources: [users], verbs: [impersonate], resourceNames: [ops-admin]}")
            .expect("impersonating the admin user is admin");
        assert!(
            admin.describe().contains("→ User ops-admin (ClusterRoleBinding support → ClusterRole support rule 1: impersonate users or groups (users ops-admin only))"),
            "{}",
            admin.describe()
        );
        assert!(
            reaches(
                "{apiGroups: [''], resources: [users], verbs: [impersonate], resourceNames: [jane]}"
            )
            .is_none()
        );
        assert!(reaches("{apiGroups: [''], resources: [groups], verbs: [impersonate], resourceNames: ['system:masters']}").is_some());
        // Binding a role takes `bind` on it and the right to write bindings, as the API
        // server checks it; either alone is no step.
        let write_bindings = "{apiGroups: [rbac.authorization.k8s.io], resources: [clusterrolebindings], verbs: [create]}";
        let bind = |role: &str| {
            format!(
                "{{apiGroups: [rbac.authorization.k8s.io], resources: [clusterroles], verbs: [bind], resourceNames: [{role}]}}"
            )
        };
        assert!(reaches(&format!("{}, {write_bindings}", bind("cluster-admin"))).is_some());
        assert!(
            reaches(&bind("cluster-admin")).is_none(),
            "no binding can be written"
        );
        assert!(reaches(write_bindings).is_none(), "no role may be bound");
        assert!(reaches(&format!("{}, {write_bindings}", bind("view"))).is_none());
        // `escalate` takes writing the role too.
        let escalate = "{apiGroups: [rbac.authorization.k8s.io], resources: [clusterroles], verbs: [escalate]}";
        let write_roles =
            "{apiGroups: [rbac.authorization.k8s.io], resources: [clusterroles], verbs: [update]}";
        assert!(reaches(escalate).is_none());
        assert!(
            reaches(&format!("{escalate}, {write_roles}")).is_some(),
            "it rewrites the role it is bound to"
        );
    }

    /// An exposed web Deployment that writes a claim a worker with a cluster-admin account
    /// also mounts, the worker isolated from the network: planting a file the worker runs is
    /// the way on (a step that needs an exploit, like a network connection). Mounted
    /// read-only by the web, the claim leads nowhere; a claim of the same name in another
    /// namespace is another claim.
    #[test]
    fn a_workload_that_writes_a_shared_claim_reaches_the_others_that_mount_it() {
        let scenario = |web_mount: &str, worker_namespace: &str| {
            format!(
                "apiVersion: v1\nkind: Service\nmetadata: {{name: web, namespace: shop}}\nspec: {{type: LoadBalancer, selector: {{app: web}}}}\n---\n\
apiVersion: apps/v1\nkind: Deployment\nmetadata: {{name: web, namespace: shop}}\nspec:\n  template:\n    metadata: {{labels: {{app: web}}}}\n    spec:\n      automountServiceAccountToken: false\n      volumes: [{{name: up, persistentVolumeClaim: {{claimName: uploads}}}}]\n      containers: [{{name: web, image: 'registry.example.com/web:1', volumeMounts: [{web_mount}]}}]\n---\n\
apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {{name: worker-isolated, namespace: {worker_namespace}}}\nspec: {{podSelector: {{matchLabels: {{app: worker}}}}, policyTypes: [Ingress]}}\n---\n\
apiVersion: apps/v1\nkind: Deployment\nmetadata: {{name: worker, namespace: {worker_namespace}}}\nspec:\n  template:\n    metadata: {{labels: {{app: worker}}}}\n    spec:\n      serviceAccountName: worker\n      volumes: [{{name: in, persistentVolumeClaim: {{claimName: uploads, readOnly: true}}}}]\n      containers: [{{name: w, image: 'registry.example.com/worker:1', volumeMounts: [{{name: in, mountPath: /in, readOnly: true}}]}}]\n---\n\
apiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRoleBinding\nmetadata: {{name: worker-admin}}\nroleRef: {{apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: cluster-admin}}\nsubjects: [{{kind: ServiceAccount, name: worker, namespace: {worker_namespace}}}]\n"
            )
        };
        let writable = "{name: up, mountPath: /srv/uploads}";
        let (policy, graph) = graph_of(&scenario(writable, "shop"));
        let path = graph
            .path(&web_of(&policy), Goal::ClusterAdmin)
            .expect("web reaches cluster-admin through the worker");
        assert_eq!(path.steps[0].relation, Relation::SharesStorage);
        assert_eq!(
            path.steps[0].evidence,
            "writes claim shop/uploads, which Deployment shop/worker mounts too: what is planted there is read or run by its pods"
        );
        assert!(graph.path(&Node::Internet, Goal::ClusterAdmin).is_some());
        let read_only = "{name: up, mountPath: /srv/uploads, readOnly: true}";
        let (policy, graph) = graph_of(&scenario(read_only, "shop"));
        assert!(graph.path(&web_of(&policy), Goal::ClusterAdmin).is_none());
        let (policy, graph) = graph_of(&scenario(writable, "jobs"));
        assert!(graph.path(&web_of(&policy), Goal::ClusterAdmin).is_none());
    }

    fn web_of(policy: &Policy) -> Node {
        workload_node(
            policy,
            policy
                .workloads
                .iter()
                .position(|w| w.name == "web")
                .unwrap(),
        )
    }

    fn way(way: &str, asked: bool, refused_by: Option<&str>, escaped: Option<&str>) -> WayRefused {
        WayRefused {
            way: way.into(),
            asked,
            refused_by: refused_by.map(String::from),
            escaped: escaped.map(String::from),
        }
    }

    /// The node step's evidence says which way in is left and why, counting the refused ways
    /// only when every way was asked about; Pod Security enforcement or every way refused
    /// takes the step away.
    #[test]
    fn brakes_name_the_way_admission_lets_in() {
        let mut refusals = AdmissionRefusals::default();
        refusals.insert(
            "all".into(),
            vec![
                way("runs a privileged container", true, Some("A/a"), None),
                way("adds SYS_ADMIN to a container", true, Some("B/b"), None),
            ],
        );
        refusals.insert(
            "one".into(),
            vec![
                way("runs a privileged container", true, Some("A/a"), None),
                way("adds SYS_ADMIN to a container", true, None, None),
            ],
        );
        refusals.insert(
            "first".into(),
            vec![
                way(
                    "runs a privileged container",
                    true,
                    None,
                    Some("A/a refuses one, but it exempts images x/*"),
                ),
                way("adds SYS_ADMIN to a container", false, None, None),
            ],
        );
        let brakes = Brakes {
            enforced: [("pss".to_string(), "baseline".to_string())].into(),
            refusals: Some(&refusals),
        };
        assert_eq!(brakes.node_owner_let_in(Some("pss")), None);
        assert_eq!(brakes.node_owner_let_in(Some("all")), None);
        assert!(refusals.refuse_all("all") && !refusals.refuse_all("first"));
        assert_eq!(
            brakes.node_owner_let_in(Some("one")).unwrap(),
            "neither Pod Security nor an admission policy stops a pod that adds SYS_ADMIN to a container there (policies refuse 1 of 2 ways to own a node)"
        );
        assert_eq!(
            brakes.node_owner_let_in(Some("first")).unwrap(),
            "neither Pod Security nor an admission policy stops a pod that runs a privileged container there (A/a refuses one, but it exempts images x/*)"
        );
        // Not asked about (none of the policies' business, or past the limit): Pod Security
        // alone, as without policies; and a grant in every namespace reaches some node.
        for namespace in [Some("unasked"), None] {
            assert_eq!(
                brakes.node_owner_let_in(namespace).unwrap(),
                "no Pod Security enforcement stops a privileged pod there"
            );
        }
    }

    /// The graph asks the policies only about namespaces where a binding lets someone create
    /// pods and Pod Security does not already stop a pod that owns its node.
    #[test]
    fn the_graph_asks_only_where_pods_may_be_created() {
        struct Recording(std::sync::Mutex<Vec<String>>);
        impl AdmissionAsker for Recording {
            fn ask(&self, _: &Inventory, namespaces: &[String]) -> AdmissionRefusals {
                self.0.lock().unwrap().extend(namespaces.iter().cloned());
                let mut refusals = AdmissionRefusals::default();
                for namespace in namespaces {
                    refusals.insert(
                        namespace.clone(),
                        vec![way("runs a privileged container", true, Some("A/a"), None)],
                    );
                }
                refusals
            }
        }
        let yaml = "apiVersion: rbac.authorization.k8s.io/v1\nkind: Role\nmetadata: {name: maker, namespace: NS}\nrules: [{apiGroups: [''], resources: [pods], verbs: [create]}]\n---\napiVersion: rbac.authorization.k8s.io/v1\nkind: RoleBinding\nmetadata: {name: maker, namespace: NS}\nroleRef: {apiGroup: rbac.authorization.k8s.io, kind: Role, name: maker}\nsubjects: [{kind: User, name: dev}]\n";
        let text = format!(
            "{}---\n{}---\napiVersion: v1\nkind: Namespace\nmetadata: {{name: held, labels: {{pod-security.kubernetes.io/enforce: baseline}}}}\n---\napiVersion: v1\nkind: Namespace\nmetadata: {{name: idle}}\n",
            yaml.replace("NS", "apps"),
            yaml.replace("NS", "held")
        );
        let loaded = load_text("cluster.yaml", &text, &Limits::default());
        let policy = Policy::from_inventory(&loaded.inventory);
        let recording = Recording(std::sync::Mutex::default());
        let graph = build_asking(
            &policy,
            &loaded.inventory,
            Some(&recording),
            &IngressPlacement::default(),
        );
        assert_eq!(*recording.0.lock().unwrap(), ["apps"]);
        // Every way refused in `apps`: the user reaches no node.
        let dev = Node::Identity {
            subject: Subject::User { name: "dev".into() },
        };
        assert!(graph.path(&dev, Goal::Nodes).is_none());
        assert!(
            build(&policy, &loaded.inventory)
                .path(&dev, Goal::Nodes)
                .is_some()
        );
    }
}
