use std::sync::Arc;

use palisade_core::JsonPointer;
use palisade_rbac::graph::workload_node;

use crate::context::{Context, Reported};
use crate::rbac::{AdminReach, RbacModel, chain_steps, model};
use crate::rule::{Check, Target};

declare_rule! {
    /// ## What it checks
    /// At admission (`palisade serve admission`), an object that gives workloads already in
    /// the cluster a chain of steps to cluster-admin they did not have: a binding that lets
    /// a web pod's account create pods, or read a Secret holding a powerful token; a Role
    /// given such a grant; a Service made a LoadBalancer, so that an exposed workload may
    /// connect to a more powerful one; a NetworkPolicy that opens that connection; a
    /// Namespace relabelled to a Pod Security level that lets pods own their node; a claim
    /// bound to a volume on the node's directory. The cluster's workloads that reach
    /// cluster-admin once the object is in it are compared with those that reached it
    /// before; each new one is named with its chain, as RBAC017 gives it (workloads
    /// themselves are judged by RBAC017, not by this rule). A scan has no "before" (it judges
    /// the objects together) and reports the chains themselves on the workloads (RBAC017);
    /// its coverage lists this rule as skipped.
    ///
    /// ## Why it matters
    /// RBAC017 judges a workload when it is created or changed. The change that gives an
    /// existing workload its chain is another object: without this rule a webhook lets in
    /// the binding, the Service or the policy, and the chain appears in the cluster with no
    /// request that admitted it. Each grant may look harmless alone (a binding that only
    /// lets an account create Deployments in one namespace is at most a high finding);
    /// what makes it critical is the workload it completes a chain for (MITRE ATT&CK T1078,
    /// T1098, T1611).
    ///
    /// ## Severity
    /// Critical: once the object is in, a compromise of each named workload is a
    /// compromise of the cluster.
    ///
    /// ## Failing example
    /// ```yaml
    /// # the cluster: Deployment web/web (account web, exposed by a LoadBalancer), and
    /// # ServiceAccount ops/backup bound to cluster-admin. Admitting:
    /// kind: RoleBinding
    /// metadata: {name: web-deploys-ops, namespace: ops}
    /// roleRef: {kind: Role, name: deployer}   # create deployments in ops
    /// subjects: [{kind: ServiceAccount, name: web, namespace: web}]
    /// ```
    ///
    /// ## Passing example
    /// ```yaml
    /// # the same binding to an account no workload runs as, or once web stops mounting
    /// # its token (`automountServiceAccountToken: false`)
    /// subjects: [{kind: ServiceAccount, name: release-bot, namespace: ops}]
    /// ```
    ///
    /// ## Remediation
    /// Break the chain the message names before the change goes in: narrow the grant,
    /// bind it to an account no exposed workload runs as, stop mounting the token where the
    /// workload does not call the API, or keep the network hop closed.
    /// `palisade rbac paths --from-workload NS/NAME` over the manifests with the change
    /// shows the chain.
    ///
    /// ## References
    /// - NSA/CISA Kubernetes Hardening Guide v1.2, "Role-based access control"
    /// - MITRE ATT&CK for Containers, Privilege Escalation
    pub struct NewEscalationPath {
        id: "RBAC021",
        slug: "change-opens-escalation-path",
        title: "Change gives a workload a path to cluster-admin",
        severity: Critical,
        target: Target::Kinds(CHANGES.as_slice()),
        controls: [
            NsaCisa12 "authn-authz/rbac",
            MitreAttack "T1078",
            MitreAttack "T1098",
            MitreAttack "T1611",
        ],
        remediation: "Break the chain the message names before the change goes in: narrow the grant, bind it to another account, unmount the token, or keep the network hop closed.",
    }
}

/// The kinds the escalation graph reads (`crate::rbac::graph_inputs`, and the claims and
/// volumes it reads for node directories) but those with a pod spec, which RBAC017 judges.
static CHANGES: std::sync::LazyLock<Vec<(&str, &str)>> = std::sync::LazyLock::new(|| {
    let pod_specs: Vec<(&str, &str)> = palisade_inventory::podspec::pod_spec_kinds().collect();
    crate::rbac::graph_inputs()
        .iter()
        .chain(&[("", "PersistentVolumeClaim"), ("", "PersistentVolume")])
        .filter(|kind| !pod_specs.contains(kind))
        .copied()
        .collect()
});

/// Most workloads a finding names; the count says how many more.
const NAMED: usize = 5;

impl Check for NewEscalationPath {
    fn models(&self, models: &mut crate::context::Models) {
        crate::rbac::ask(models);
    }

    fn reads(&self) -> &'static [(&'static str, &'static str)] {
        crate::rbac::graph_inputs()
    }

    fn only_against_a_cluster(&self) -> Option<&'static str> {
        Some(
            "judges what an object adds to a cluster, at admission (`palisade serve admission`); a scan reports the chains on the workloads (RBAC017)",
        )
    }

    fn check(&self, cx: &mut Context<'_>) {
        let Some(before) = cx.admin_reach_before() else {
            return;
        };
        let after = model(cx);
        // The cluster's own model, lent: the object changes nothing it reads.
        if cx.is_the_clusters(&after) {
            cx.record_admin_reach_after(before);
            return;
        }
        let reaching: Vec<usize> = AdminReach::reaching(&after).collect();
        cx.record_admin_reach_after(Arc::new(AdminReach::of_workloads(&after, &reaching)));
        let opened = opened(&after, &reaching, &before);
        let Some(&(first, _)) = opened.first() else {
            return;
        };
        let policy = &after.policy;
        let describe = |w: usize| workload_node(policy, w).to_string();
        let node = workload_node(policy, first);
        let Some(path) = after.graph.path_with(&after.toward_admin, &node) else {
            return;
        };
        let exposed = after
            .graph
            .exposure(&node)
            .map(|how| format!(" (exposed to the internet: {how})"))
            .unwrap_or_default();
        let mut message = format!(
            "lets {}{exposed} escalate to cluster-admin, which it could not before: {}",
            describe(first),
            path.describe()
        );
        if opened.len() > 1 {
            let others: Vec<String> = opened[1..]
                .iter()
                .take(NAMED - 1)
                .map(|&(w, _)| describe(w))
                .collect();
            let more = opened.len() - 1 - others.len();
            message.push_str(&format!(
                "; and {} other workload{} the same way: {}{}",
                opened.len() - 1,
                if opened.len() == 2 { "" } else { "s" },
                others.join(", "),
                if more > 0 {
                    format!(" and {more} more")
                } else {
                    String::new()
                }
            ));
        }
        let mut reported = Reported::new(pointer(cx), message);
        reported.evidence.push(palisade_core::Evidence::Chain {
            steps: chain_steps(&after, &node, &path),
        });
        cx.report_with(reported);
    }
}

/// The workloads of `after` (the cluster with the judged object, never a workload itself:
/// RBAC017 judges those) that reach cluster-admin (`reaching`) and did not `before`: exposed
/// ones first, then in the cluster's order, each with whether it is exposed.
fn opened(after: &RbacModel, reaching: &[usize], before: &AdminReach) -> Vec<(usize, bool)> {
    let policy = &after.policy;
    let mut opened: Vec<(usize, bool)> = reaching
        .iter()
        .copied()
        .filter(|&w| !before.holds(&policy.workloads[w]))
        .map(|w| {
            let exposed = after.graph.exposure(&workload_node(policy, w)).is_some();
            (w, exposed)
        })
        .collect();
    opened.sort_by_key(|&(w, exposed)| (!exposed, w));
    opened
}

/// Where the finding points: a binding's subjects, a role's rules, a Service's type, or the
/// object.
fn pointer(cx: &Context<'_>) -> JsonPointer {
    let root = JsonPointer::root();
    let field = match cx.object.id.kind.as_str() {
        "RoleBinding" | "ClusterRoleBinding" => root.join("subjects"),
        "Role" | "ClusterRole" => root.join("rules"),
        "Service" => root.join("spec").join("type"),
        _ => return root,
    };
    if cx.get(&field).is_some() {
        field
    } else {
        root
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The kinds a chain runs through are judged, and workloads are left to RBAC017.
    #[test]
    fn the_kinds_a_chain_runs_through_are_judged() {
        for kind in [
            ("rbac.authorization.k8s.io", "RoleBinding"),
            ("rbac.authorization.k8s.io", "ClusterRole"),
            ("", "ServiceAccount"),
            ("", "Secret"),
            ("", "Namespace"),
            ("", "Service"),
            ("networking.k8s.io", "NetworkPolicy"),
            ("", "PersistentVolumeClaim"),
        ] {
            assert!(CHANGES.contains(&kind), "{kind:?}");
        }
        for kind in [("", "Pod"), ("apps", "Deployment")] {
            assert!(!CHANGES.contains(&kind), "{kind:?}");
        }
    }
}
