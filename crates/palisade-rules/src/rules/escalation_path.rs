use palisade_graph::Node;
use palisade_rbac::graph::workload_node;

use crate::context::{Context, Reported};
use crate::rbac::model;
use crate::rule::{Check, Target};

declare_rule! {
    /// ## What it checks
    /// Workloads from which a chain of steps reaches cluster-admin: the pod's mounted service
    /// account token, then grants of that account (create pods, exec, token requests, read
    /// Secrets holding tokens, bind, impersonate, ...), then the accounts those reach, and so
    /// on, through Roles, ClusterRoles, aggregation and the default roles; the node a
    /// container owns (directly or through a claim bound to a `hostPath` volume), or a pod its
    /// account may create would own where neither Pod Security nor the admission policies of
    /// the run (`--policy`, `--cluster-policies`) refuse every way to own it; and, where
    /// nothing surer leads on, a network hop or a claim the workload writes and a more
    /// powerful workload mounts (docs/rbac.md lists every step). The finding gives
    /// the whole chain, each step with its evidence (binding → role → rule), and says when
    /// the workload is exposed to the internet (a public LoadBalancer, a NodePort Service,
    /// external IPs or an Ingress). JSON and SARIF also carry the chain as data (`evidence`
    /// of type `chain`: each step's `from`, `to` and `relation`). Only the scanned objects are
    /// known. When manifests (not a cluster) are scanned, a step from "a node" to a
    /// DaemonSet's account that joins files of another top-level directory (unrelated projects
    /// scanned together) is marked: it holds only if both run in the same cluster.
    ///
    /// ## Why it matters
    /// Each grant may look harmless alone; chained, they turn a bug in one web pod into full
    /// control of the cluster. This is how real intrusions move (MITRE ATT&CK T1078, T1611).
    ///
    /// ## Severity
    /// Critical: a compromise of this workload is a compromise of the cluster.
    ///
    /// ## Failing example
    /// ```yaml
    /// # web's account can create Deployments in ops, where backup is bound to cluster-admin
    /// kind: RoleBinding
    /// metadata: {name: web-deploys-ops, namespace: ops}
    /// roleRef: {kind: Role, name: deployer}
    /// subjects: [{kind: ServiceAccount, name: web, namespace: web}]
    /// ```
    ///
    /// ## Passing example
    /// ```yaml
    /// spec:
    ///   serviceAccountName: web
    ///   automountServiceAccountToken: false
    /// ```
    ///
    /// ## Remediation
    /// Break the weakest link the message names: stop mounting the token where the workload
    /// does not call the API, remove the grant, give the privileged account to fewer pods,
    /// isolate the network hop, or mount a shared claim read-only where the workload only
    /// reads it.
    /// `palisade rbac paths --from-workload NS/NAME` shows the chain again after a change.
    ///
    /// ## References
    /// - NSA/CISA Kubernetes Hardening Guide v1.2, "Role-based access control"
    /// - MITRE ATT&CK for Containers, Privilege Escalation
    pub struct EscalationPath {
        id: "RBAC017",
        slug: "escalation-path-to-cluster-admin",
        title: "Workload can escalate to cluster-admin",
        severity: Critical,
        target: Target::PodSpec,
        controls: [
            NsaCisa12 "authn-authz/rbac",
            NsaCisa12 "pod-security/service-account-tokens",
            MitreAttack "T1078",
            MitreAttack "T1611",
        ],
        remediation: "Break the chain: unmount the token, remove the grant, or narrow who runs as the privileged account.",
    }
}

impl Check for EscalationPath {
    fn models(&self, models: &mut crate::context::Models) {
        crate::rbac::ask(models);
        models.add(Projects::build);
    }

    fn reads(&self) -> &'static [(&'static str, &'static str)] {
        crate::rbac::graph_inputs()
    }

    fn check(&self, cx: &mut Context<'_>) {
        let model = model(cx);
        let Some(pod) = &cx.pod else { return };
        let Some(w) = model.policy.workload_of_pod(cx.object_index, pod.pointer) else {
            return;
        };
        let node = workload_node(&model.policy, w);
        let Some(path) = model.graph.path_with(&model.toward_admin, &node) else {
            return;
        };
        let prefix = model
            .graph
            .exposure(&node)
            .map(|how| format!("exposed to the internet ({how}); "))
            .unwrap_or_default();
        let steps = crate::rbac::chain_steps(&model, &node, &path);
        let mut message = format!("{prefix}{}", path.describe());
        if !cx.inventory.complete
            && let Some(note) = crossed_projects(cx, &model.policy, w, &path)
        {
            message.push_str(&note);
        }
        let mut reported = Reported::new(cx.pod_field("serviceAccountName"), message);
        reported
            .evidence
            .push(palisade_core::Evidence::Chain { steps });
        cx.report_with(reported);
    }
}

/// The top-level directories of the scanned files: each source's first directory below the
/// one all sources share (`repos/a/x.yaml` and `repos/b/y.yaml` give `a` and `b`).
struct Projects {
    /// How many leading path components every source shares.
    common: usize,
}

impl Projects {
    fn build(inventory: &palisade_inventory::Inventory) -> Projects {
        let mut common: Option<Vec<&str>> = None;
        for source in &inventory.sources {
            let dirs: Vec<&str> = source
                .path
                .rsplit_once('/')
                .map_or(Vec::new(), |(d, _)| d.split('/').collect());
            common = Some(match common {
                None => dirs,
                Some(c) => c
                    .iter()
                    .zip(&dirs)
                    .take_while(|(a, b)| a == b)
                    .map(|(a, _)| *a)
                    .collect(),
            });
        }
        Projects {
            common: common.map_or(0, |c| c.len()),
        }
    }

    /// The top-level directory of `path` below the shared ones (`.` for a file there).
    fn of<'p>(&self, path: &'p str) -> &'p str {
        let parts: Vec<&str> = path.split('/').collect();
        if parts.len() > self.common + 1 {
            parts[self.common]
        } else {
            "."
        }
    }
}

/// A note for a chain whose step from "a node" to a DaemonSet's account joins a DaemonSet of
/// another project than the workload's.
fn crossed_projects(
    cx: &Context<'_>,
    policy: &palisade_rbac::Policy,
    start: usize,
    path: &palisade_graph::Path,
) -> Option<String> {
    let projects = cx.derived(Projects::build);
    let project_of = |w: usize| {
        let object = &cx.inventory.objects[policy.workloads[w].object];
        projects
            .of(&cx.inventory.source_of(object).path)
            .to_string()
    };
    let own = project_of(start);
    let mut previous = &path.from;
    for step in &path.steps {
        let from_any_node = matches!(previous, Node::NodeHost { name: None });
        previous = &step.to;
        let (
            true,
            Node::Identity {
                subject: palisade_k8s::identity::Subject::ServiceAccount { namespace, name },
            },
        ) = (from_any_node, &step.to)
        else {
            continue;
        };
        let daemonsets: Vec<usize> = (0..policy.workloads.len())
            .filter(|&w| {
                let d = &policy.workloads[w];
                d.kind == "DaemonSet" && &d.namespace == namespace && &d.service_account == name
            })
            .collect();
        if daemonsets.is_empty() || daemonsets.iter().any(|&w| project_of(w) == own) {
            continue;
        }
        let theirs = project_of(daemonsets[0]);
        return Some(format!(
            "; the step from the node to ServiceAccount {namespace}/{name} joins a DaemonSet from {theirs}, another directory than this workload's ({own}): it holds only if both run in the same cluster"
        ));
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn projects_are_the_top_directories_below_the_shared_root() {
        let mut inventory = palisade_inventory::Inventory::default();
        for path in [
            "corpus/a__x/deploy/app.yaml",
            "corpus/b__y/ds.yaml",
            "corpus/top.yaml",
        ] {
            inventory.sources.push(palisade_inventory::Source {
                path: path.into(),
                rendered_by: None,
            });
        }
        let projects = Projects::build(&inventory);
        assert_eq!(projects.of("corpus/a__x/deploy/app.yaml"), "a__x");
        assert_eq!(projects.of("corpus/b__y/ds.yaml"), "b__y");
        assert_eq!(projects.of("corpus/top.yaml"), ".");
    }
}
