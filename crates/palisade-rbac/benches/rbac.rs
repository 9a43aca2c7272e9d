//! RBAC benchmark on a synthetic cluster: 20,000 bindings, 5,000 roles, 10,000 pods (as
//! Deployments) over 50 namespaces, with a few cluster-admin accounts. Prints the time of
//! who-can, of all escalation paths to cluster-admin and of building the model, next to the
//! time to parse the same objects (measured in the same run), and the peak RSS.
//! Run: `cargo bench -p palisade-rbac`. Targets (issue): who-can < 50 ms, all paths < 2 s.

use std::fmt::Write as _;
use std::time::Instant;

use palisade_graph::Goal;
use palisade_inventory::{Limits, load_text};
use palisade_rbac::{Policy, Request};

/// A small deterministic generator, so every run builds the same cluster.
struct Lcg(u64);

impl Lcg {
    fn next(&mut self, n: usize) -> usize {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        ((self.0 >> 33) as usize) % n
    }
}

const RULES: &[&str] = &[
    "- {apiGroups: [\"\"], resources: [pods], verbs: [get, list, watch]}",
    "- {apiGroups: [\"\"], resources: [configmaps], verbs: [get, list]}",
    "- {apiGroups: [apps], resources: [deployments], verbs: [get, list, patch]}",
    "- {apiGroups: [\"\"], resources: [secrets], resourceNames: [app], verbs: [get]}",
    "- {apiGroups: [\"\"], resources: [services, endpoints], verbs: [get, list, watch]}",
    "- {apiGroups: [batch], resources: [jobs], verbs: [create, get]}",
    "- {apiGroups: [\"\"], resources: [pods/log], verbs: [get]}",
    "- {apiGroups: [\"\"], resources: [events], verbs: [create, patch]}",
    "- {apiGroups: [\"\"], resources: [pods/exec], verbs: [create]}",
    "- {apiGroups: [\"\"], resources: [secrets], verbs: [list]}",
];

fn cluster() -> String {
    let mut rng = Lcg(42);
    let mut text = String::with_capacity(20 << 20);
    let namespaces = 50;
    for n in 0..namespaces {
        let _ = write!(
            text,
            "apiVersion: v1\nkind: Namespace\nmetadata: {{name: ns{n}}}\n---\n"
        );
    }
    // 4,000 Roles (80 per namespace) and 1,000 ClusterRoles.
    for r in 0..5000 {
        let rules: Vec<&str> = (0..3).map(|_| RULES[rng.next(RULES.len())]).collect();
        if r < 4000 {
            let _ = write!(
                text,
                "apiVersion: rbac.authorization.k8s.io/v1\nkind: Role\nmetadata: {{name: role{r}, namespace: ns{}}}\nrules:\n{}\n---\n",
                r % namespaces,
                rules.join("\n")
            );
        } else {
            let _ = write!(
                text,
                "apiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRole\nmetadata: {{name: crole{r}}}\nrules:\n{}\n---\n",
                rules.join("\n")
            );
        }
    }
    // 10,000 workloads (200 per namespace), 40 service accounts per namespace.
    for w in 0..10_000 {
        let ns = w % namespaces;
        let _ = write!(
            text,
            "apiVersion: apps/v1\nkind: Deployment\nmetadata: {{name: app{w}, namespace: ns{ns}}}\nspec:\n  template:\n    metadata: {{labels: {{app: app{w}}}}}\n    spec:\n      serviceAccountName: sa{}\n      containers: [{{name: c, image: 'registry.example.com/app:1'}}]\n---\n",
            w % 40
        );
    }
    // 20,000 bindings: RoleBindings to the namespace's Roles or to ClusterRoles, and a few
    // ClusterRoleBindings, three of them to cluster-admin.
    for b in 0..20_000 {
        let ns = rng.next(namespaces);
        let subject = format!(
            "- {{kind: ServiceAccount, name: sa{}, namespace: ns{ns}}}",
            rng.next(40)
        );
        if b < 3 {
            let _ = write!(
                text,
                "apiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRoleBinding\nmetadata: {{name: admin{b}}}\nroleRef: {{apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: cluster-admin}}\nsubjects:\n{subject}\n---\n"
            );
        } else if b % 50 == 0 {
            let _ = write!(
                text,
                "apiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRoleBinding\nmetadata: {{name: crb{b}}}\nroleRef: {{apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: crole{}}}\nsubjects:\n{subject}\n---\n",
                4000 + rng.next(1000)
            );
        } else if b % 3 == 0 {
            let _ = write!(
                text,
                "apiVersion: rbac.authorization.k8s.io/v1\nkind: RoleBinding\nmetadata: {{name: rb{b}, namespace: ns{ns}}}\nroleRef: {{apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: crole{}}}\nsubjects:\n{subject}\n---\n",
                4000 + rng.next(1000)
            );
        } else {
            let role = ns + namespaces * rng.next(80);
            let _ = write!(
                text,
                "apiVersion: rbac.authorization.k8s.io/v1\nkind: RoleBinding\nmetadata: {{name: rb{b}, namespace: ns{ns}}}\nroleRef: {{apiGroup: rbac.authorization.k8s.io, kind: Role, name: role{role}}}\nsubjects:\n{subject}\n---\n"
            );
        }
    }
    text
}

fn peak_rss_mib() -> f64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|kb| kb.parse::<f64>().ok())
        })
        .map_or(0.0, |kb| kb / 1024.0)
}

fn best<T>(runs: usize, mut f: impl FnMut() -> T) -> (f64, T) {
    let mut best = f64::MAX;
    let mut last = None;
    for _ in 0..runs {
        let start = Instant::now();
        let value = f();
        best = best.min(start.elapsed().as_secs_f64());
        last = Some(value);
    }
    (best, last.unwrap())
}

fn main() {
    let text = cluster();
    let (parse_s, loaded) = best(3, || load_text("cluster.yaml", &text, &Limits::default()));
    let inventory = loaded.inventory;
    let (policy_s, policy) = best(3, || Policy::from_inventory(&inventory));
    let (graph_s, graph) = best(3, || palisade_rbac::graph::build(&policy, &inventory));
    let requests = [
        Request::resource("list", "", "secrets", Some("ns7")),
        Request::resource("create", "", "pods/exec", Some("ns3")),
        Request::resource("patch", "apps", "deployments", Some("ns11")),
        Request::resource("delete", "", "nodes", None),
    ];
    let (who_can_s, counts) = best(20, || {
        requests
            .iter()
            .map(|r| policy.grants_for(r).len())
            .collect::<Vec<_>>()
    });
    let who_can_s = who_can_s / requests.len() as f64;
    let (paths_s, paths) = best(3, || graph.all_paths(Goal::ClusterAdmin));
    let (fixes_graph_s, fixes_graph) = best(3, || {
        palisade_rbac::graph::build_for_fixes(&policy, &inventory, None, &Default::default())
    });
    let valuation = palisade_rbac::risk::Valuation::read(
        &inventory,
        palisade_rbac::risk::Targets::All,
        &Default::default(),
    )
    .expect("no criticality labels");
    let (plan_s, plan) = best(3, || {
        fixes_graph.plan_fixes(&|node| valuation.value(node), 10, &|_| false)
    });
    println!(
        "synthetic cluster: {} objects ({} roles, {} bindings, {} workloads); graph {} nodes, {} edges",
        inventory.objects.len(),
        policy.roles.len(),
        policy.bindings.len(),
        policy.workloads.len(),
        graph.node_count(),
        graph.edge_count()
    );
    println!("parse (baseline):          {:8.1} ms", parse_s * 1e3);
    println!(
        "policy model:              {:8.1} ms  ({:.2}x parse)",
        policy_s * 1e3,
        policy_s / parse_s
    );
    println!(
        "escalation graph:          {:8.1} ms  ({:.2}x parse)",
        graph_s * 1e3,
        graph_s / parse_s
    );
    println!(
        "who-can, per request:      {:8.2} ms  (grants found: {counts:?}; target < 50 ms)",
        who_can_s * 1e3
    );
    println!(
        "all paths to cluster-admin:{:8.1} ms  ({} paths; target < 2,000 ms)",
        paths_s * 1e3,
        paths.len()
    );
    println!(
        "graph naming its fixes:    {:8.1} ms  ({:.2}x the graph)",
        fixes_graph_s * 1e3,
        fixes_graph_s / graph_s
    );
    println!(
        "ten fixes, every target:   {:8.1} ms  ({:.2}x paths; risk {} → {}, {} starting points)",
        plan_s * 1e3,
        plan_s / paths_s,
        plan.risk,
        plan.risk_left,
        plan.at_risk.len()
    );
    println!("peak RSS:                  {:8.0} MiB", peak_rss_mib());
}
