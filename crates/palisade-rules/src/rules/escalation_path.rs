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
    /// on, through Roles, ClusterRoles, aggregation and the default roles. The finding gives
    /// the whole chain, each step with its evidence (binding → role → rule), and says when
    /// the workload is exposed to the internet (a public LoadBalancer, a NodePort Service,
    /// external IPs or an Ingress). JSON and SARIF also carry the chain as data (`evidence`
    /// of type `chain`: each step's `from`, `to` and `relation`). Only the scanned objects are
    /// known.
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
    /// does not call the API, remove the grant, or give the privileged account to fewer pods.
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
    fn reads(&self) -> &'static [(&'static str, &'static str)] {
        crate::rbac::GRAPH_INPUTS
    }

    fn check(&self, cx: &mut Context<'_>) {
        let model = model(cx);
        let Some(w) = model.policy.workload_of_object(cx.object_index) else {
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
        let mut steps = Vec::new();
        if let Some(how) = model.graph.exposure(&node) {
            steps.push(palisade_core::Step {
                from: Node::Internet.to_string(),
                to: node.to_string(),
                relation: how.to_string(),
            });
        }
        let mut from = path.from.to_string();
        for step in &path.steps {
            let to = step.to.to_string();
            steps.push(palisade_core::Step {
                from: std::mem::replace(&mut from, to.clone()),
                to,
                relation: step.evidence.clone(),
            });
        }
        let mut reported = Reported::new(
            cx.pod_field("serviceAccountName"),
            format!("{prefix}{}", path.describe()),
        );
        reported
            .evidence
            .push(palisade_core::Evidence::Chain { steps });
        cx.report_with(reported);
    }
}
