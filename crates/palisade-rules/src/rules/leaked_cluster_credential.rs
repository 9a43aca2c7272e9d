use palisade_core::{JsonPointer, Severity};
use palisade_graph::{Goal, Node, Relation};
use palisade_k8s::credential;
use palisade_k8s::identity::Subject;

use crate::context::{Context, Reported};
use crate::rbac::model;
use crate::rule::{Check, Target};

declare_rule! {
    /// ## What it checks
    /// ConfigMaps, and Secrets that are no service-account token Secret, whose values hold a
    /// Kubernetes credential of another identity that leads somewhere: a service-account
    /// token (its claims name the account; an expired bound token is none) or a kubeconfig's
    /// client certificate with its key (the certificate's common name is the user, its
    /// organisations the groups; one whose extended key usage rules out client
    /// authentication is none). Each is a step of the escalation graph from whoever reads
    /// the object to that identity, and the rule fires when the identity reaches
    /// cluster-admin, a node or the Secrets of a namespace. The finding gives the chain from
    /// the object, each step with its evidence, and who reads the object: the subjects RBAC
    /// lets read the ConfigMap (`get` it by name, `list` or `watch` its namespace; the
    /// built-in `view` role does), whoever reads the Secrets of the namespace, the workloads
    /// whose pods mount or load it, and whoever runs code in those pods (administrators, who
    /// read everything, are not named). An Argo CD cluster
    /// Secret for another cluster authenticates there, not here, and is left alone. A Secret
    /// whose values were not read (a cluster read without `--include-secret-values` reads
    /// Secrets as metadata only) is counted as not assessed, never as passed. Only the
    /// credential's identity is printed, never the value. A token or kubeconfig written into
    /// a container's environment or arguments is a step from its workload, which the
    /// escalation rule (RBAC017) reports.
    ///
    /// ## Why it matters
    /// A token in a ConfigMap is readable by everyone the `view` role is bound to, and a
    /// kubeconfig pasted into an application's settings hands its user to every pod that
    /// loads them. The secret detectors report the value as a token (SEC015); this rule says
    /// whose it is and what it opens, which is what decides how urgent it is
    /// (MITRE ATT&CK T1552.007, Container API; T1078, Valid Accounts).
    ///
    /// ## Severity
    /// Critical when the identity reaches cluster-admin, high when it reaches a node or the
    /// Secrets of a namespace.
    ///
    /// ## Failing example
    /// ```yaml
    /// kind: ConfigMap
    /// metadata: {name: deploy-settings, namespace: app}
    /// data:
    ///   kubeconfig: |
    ///     users: [{name: ci, user: {token: eyJhbGciOi...}}]   # ci/deployer, bound to cluster-admin
    /// ```
    ///
    /// ## Passing example
    /// ```yaml
    /// # The pipeline asks for a short-lived token of its own account
    /// # (kubectl create token deployer --duration 10m) and keeps it out of every object.
    /// kind: ConfigMap
    /// metadata: {name: deploy-settings, namespace: app}
    /// data: {server: https://10.0.0.1:6443}
    /// ```
    ///
    /// ## Remediation
    /// Take the credential out of the object and revoke it: delete the token's Secret or
    /// recreate the account (a bound token expires on its own), or have the certificate's
    /// user removed from the bindings that name it (a certificate cannot be revoked before it
    /// expires). Pods get their own account's token mounted; a tool that needs another
    /// identity's credential reads it from a Secret only that tool's account may read.
    /// `palisade rbac paths` shows every chain through the object, and `palisade rbac
    /// fixes` ranks taking it out against the other fixes.
    ///
    /// ## References
    /// - Kubernetes documentation, "Good practices for Kubernetes Secrets"
    /// - MITRE ATT&CK for Containers, T1552.007 Container API
    pub struct LeakedClusterCredential {
        id: "SEC023",
        slug: "leaked-cluster-credential",
        title: "Kubernetes credential in a ConfigMap or Secret leads to an escalation",
        severity: Critical,
        target: Target::Kinds(&[("", "ConfigMap"), ("", "Secret")]),
        controls: [
            MitreAttack "T1552.007",
            MitreAttack "T1078",
        ],
        remediation: "Take the credential out of the object and revoke it.",
    }
}

impl Check for LeakedClusterCredential {
    fn models(&self, models: &mut crate::context::Models) {
        crate::rbac::ask(models);
    }

    fn reads(&self) -> &'static [(&'static str, &'static str)] {
        crate::rbac::graph_inputs()
    }

    fn check(&self, cx: &mut Context<'_>) {
        if palisade_k8s::credential::values_withheld(&cx.object.value) {
            cx.not_assessed(
                "its values were not read (a cluster is read with Secrets as metadata only unless --include-secret-values is given)",
            );
            return;
        }
        // Its node as the graph names it: written without a namespace, by its scope's key.
        let node = Node::Object {
            kind: cx.object.id.kind.clone(),
            namespace: palisade_rbac::model::namespace_of(cx.inventory, cx.object),
            name: cx.object.id.name.clone().unwrap_or_default(),
        };
        let model = model(cx);
        let graph = &model.graph;
        // Cluster-admin with the model's search made once; the others only for an object
        // that holds a credential (a node of the graph).
        let reached = graph
            .path_with(&model.toward_admin, &node)
            .filter(|path| !path.steps.is_empty())
            .map(|path| (path, Severity::Critical))
            .or_else(|| {
                [
                    (Goal::Nodes, Severity::High),
                    (Goal::Secrets, Severity::High),
                ]
                .into_iter()
                .find_map(|(goal, severity)| graph.path(&node, goal).map(|path| (path, severity)))
            });
        let Some((path, severity)) = reached else {
            return;
        };
        let Some(Node::Identity { subject }) = path.steps.first().map(|step| &step.to) else {
            return;
        };
        let field = field_of(&cx.object.value, subject);
        let itself = Node::identity(subject.clone());
        // Administrators read everything by design, and the identity holds its own
        // credential: neither is named as a reader.
        let admins: Vec<Node> = graph
            .steps_into(&Node::ClusterAdmin)
            .into_iter()
            .map(|(from, _, _)| from)
            .collect();
        let mut readers: Vec<String> = graph
            .steps_into(&node)
            .into_iter()
            .filter(|(from, _, _)| !admins.contains(from) && from != &itself)
            .map(|(from, relation, _)| match relation {
                Relation::Includes => format!("whoever reads {from}"),
                _ => from.to_string(),
            })
            .collect();
        readers.sort();
        readers.dedup();
        let read_by = match readers.is_empty() {
            true => "no reader is in the scanned objects yet".to_string(),
            false => format!("read by {}", palisade_core::words::first_few(&readers, 6)),
        };
        let mut reported = Reported::new(
            field,
            format!(
                "{} reaches {}: {}; {read_by}",
                subject,
                path.steps
                    .last()
                    .map_or(String::new(), |s| s.to.to_string()),
                path.describe()
            ),
        );
        reported.severity = Some(severity);
        reported.evidence.push(palisade_core::Evidence::Chain {
            steps: crate::rbac::chain_steps(&model, &node, &path),
        });
        cx.report_with(reported);
    }
}

/// The field of `object` holding a credential of `subject` (`/data/kubeconfig`), or the
/// object's name when none is found again.
fn field_of(object: &serde_json::Value, subject: &Subject) -> JsonPointer {
    let now = palisade_core::date::unix_now();
    credential::stored_texts(object)
        .into_iter()
        .find(|(_, text)| {
            credential::in_text(text, now).iter().any(|c| {
                &c.subject == subject
                    || c.groups
                        .iter()
                        .any(|g| matches!(subject, Subject::Group { name } if name == g))
            })
        })
        .and_then(|(field, _)| {
            let (map, key) = field.split_once('.')?;
            Some(JsonPointer::root().join(map).join(key))
        })
        .unwrap_or_else(|| JsonPointer::root().join("metadata").join("name"))
}
