use std::collections::BTreeSet;

use palisade_k8s::identity::Subject;
use palisade_rbac::authorizer::Request;
use palisade_rbac::builtin::is_default_grant;

use crate::context::{Context, Reported};
use crate::rule::{Check, Target};

declare_rule! {
    /// ## What it checks
    /// Secrets that RBAC lets many identities read: every RoleBinding of the Secret's
    /// namespace whose role grants `get` on it (by name or on all Secrets of the namespace),
    /// and every ClusterRoleBinding that names it, is collected, leaving out the control
    /// plane's own grants and full administrators (who can read everything by design).
    /// Cluster-wide readers of all Secrets are reported once, on their binding (RBAC002),
    /// not again on every Secret. The rule fires when more than five identities can read
    /// the Secret, when a broad group can (`system:authenticated`,
    /// `system:serviceaccounts[:NS]`, anonymous users), or when a workload exposed to the
    /// internet runs as a service account that can read it.
    ///
    /// ## Why it matters
    /// A Secret is as safe as the weakest identity that can read it. Each reader is a
    /// credential that may leak, and an internet-facing workload that can read a Secret hands
    /// it to whoever compromises that workload (MITRE ATT&CK T1552.007, Container API).
    ///
    /// ## Severity
    /// Medium; high when a broad group or an internet-exposed workload can read the Secret.
    ///
    /// ## Failing example
    /// ```yaml
    /// kind: RoleBinding
    /// metadata: {name: read-all, namespace: shop}
    /// roleRef: {kind: ClusterRole, name: view-secrets}   # get secrets
    /// subjects:
    /// - {kind: Group, name: system:serviceaccounts:shop}
    /// ```
    ///
    /// ## Passing example
    /// ```yaml
    /// kind: Role
    /// rules:
    /// - {apiGroups: [""], resources: [secrets], resourceNames: [api-db], verbs: [get]}
    /// # bound to the api's own service account only
    /// ```
    ///
    /// ## Remediation
    /// Grant `get` on Secrets by name (`resourceNames`) to the one service account that needs
    /// each, mount Secrets into pods instead of reading them through the API, and keep
    /// internet-facing workloads from reading Secrets they do not mount.
    ///
    /// ## References
    /// - Kubernetes documentation, "Good practices for Kubernetes Secrets" (least-privilege access)
    /// - CIS Kubernetes Benchmark v1.12, 5.1.2
    pub struct WidelyReadableSecret {
        id: "SEC022",
        slug: "widely-readable-secret",
        title: "Secret readable by many identities",
        severity: Medium,
        target: Target::Kinds(&[("", "Secret")]),
        controls: [
            CisK8s112 "5.1.2",
            MitreAttack "T1552.007",
        ],
        remediation: "Grant get on each Secret by name to the one identity that needs it.",
    }
}

/// More readers than this is "many".
const MANY_READERS: usize = 5;

/// Whether `subject` names the service account `namespace/name`: the account itself, or a
/// group every service account (of its namespace) belongs to.
fn includes_service_account(subject: &Subject, namespace: &str, name: &str) -> bool {
    match subject {
        Subject::ServiceAccount {
            namespace: ns,
            name: n,
        } => ns == namespace && n == name,
        Subject::Group { name: group } => {
            matches!(
                group.as_str(),
                "system:authenticated" | "system:serviceaccounts"
            ) || group.strip_prefix("system:serviceaccounts:") == Some(namespace)
        }
        Subject::User { .. } => false,
    }
}

/// Groups that hold every user, every service account, or every account of a namespace.
fn is_broad(subject: &Subject) -> bool {
    match subject {
        Subject::Group { name } => {
            matches!(
                name.as_str(),
                "system:authenticated" | "system:unauthenticated" | "system:serviceaccounts"
            ) || name.starts_with("system:serviceaccounts:")
        }
        Subject::User { name } => name == "system:anonymous",
        Subject::ServiceAccount { .. } => false,
    }
}

impl Check for WidelyReadableSecret {
    fn models(&self, models: &mut crate::context::Models) {
        crate::rbac::ask(models);
    }

    fn reads(&self) -> &'static [(&'static str, &'static str)] {
        &[
            ("rbac.authorization.k8s.io", "Role"),
            ("rbac.authorization.k8s.io", "ClusterRole"),
            ("rbac.authorization.k8s.io", "RoleBinding"),
            ("rbac.authorization.k8s.io", "ClusterRoleBinding"),
        ]
    }

    fn check(&self, cx: &mut Context<'_>) {
        let (Some(namespace), Some(name)) =
            (cx.object.id.namespace.clone(), cx.object.id.name.clone())
        else {
            return;
        };
        let model = crate::rbac::model(cx);
        let policy = &model.policy;
        let request = Request::resource("get", "", "secrets", Some(&namespace)).named(&name);
        let mut readers: BTreeSet<Subject> = BTreeSet::new();
        for grant in policy.grants_for(&request) {
            let binding = &policy.bindings[grant.binding];
            // Cluster-wide readers of every Secret can read this one too, but they are a
            // property of the cluster, reported once on their binding (RBAC002), not again
            // on every Secret; a cluster-wide grant naming this Secret is its own.
            let by_name = !policy.rule(&grant).resource_names.is_empty();
            if policy.grants_everything(binding) || (binding.namespace.is_none() && !by_name) {
                continue;
            }
            readers.extend(
                binding
                    .subjects
                    .iter()
                    .filter(|s| !is_default_grant(binding, s))
                    .cloned(),
            );
        }
        let broad: Vec<String> = readers
            .iter()
            .filter(|s| is_broad(s))
            .map(ToString::to_string)
            .collect();
        let exposed: Vec<String> = policy
            .workloads
            .iter()
            .enumerate()
            .filter(|(_, w)| {
                readers
                    .iter()
                    .any(|s| includes_service_account(s, &w.namespace, &w.service_account))
            })
            .filter_map(|(i, w)| {
                let node = palisade_rbac::graph::workload_node(policy, i);
                model.graph.exposure(&node).map(|how| {
                    let template = w.template.as_ref().map(|t| format!(" ({})", t.label()));
                    let (ns, kind, name) = (&w.namespace, &w.kind, &w.name);
                    format!("{ns}/{kind} {name}{} ({how})", template.unwrap_or_default())
                })
            })
            .collect();
        if broad.is_empty() && exposed.is_empty() && readers.len() <= MANY_READERS {
            return;
        }
        let readers_named: Vec<String> = readers.iter().map(ToString::to_string).collect();
        let mut message = format!(
            "readable by {} subject{} besides administrators: {}",
            readers.len(),
            if readers.len() == 1 { "" } else { "s" },
            palisade_core::words::first_few(&readers_named, 6),
        );
        if !broad.is_empty() {
            message.push_str(&format!(
                "; {} hold{} every account of a namespace or the cluster",
                broad.join(", "),
                if broad.len() == 1 { "s" } else { "" }
            ));
        }
        if !exposed.is_empty() {
            message.push_str(&format!(
                "; internet-exposed workloads run as a reader: {}",
                exposed.join(", ")
            ));
        }
        let mut reported = Reported::new(
            palisade_core::JsonPointer::root()
                .join("metadata")
                .join("name"),
            message,
        );
        if !broad.is_empty() || !exposed.is_empty() {
            reported.severity = Some(palisade_core::Severity::High);
        }
        cx.report_with(reported);
    }
}
