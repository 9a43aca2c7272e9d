use serde_json::Value;

use crate::context::Context;
use crate::rule::{Check, Rule, Target};

/// Subjects that the default cluster binds to cluster-admin itself.
const BUILT_IN_ADMINS: &[(&str, &str)] = &[("Group", "system:masters")];

/// Groups that make a binding apply to everyone (or to anyone with any credential).
const EVERYONE: &[&str] = &[
    "system:anonymous",
    "system:unauthenticated",
    "system:authenticated",
];

declare_rule! {
    /// ## What it checks
    /// ClusterRoleBindings and RoleBindings whose `roleRef` is the ClusterRole `cluster-admin`,
    /// or a Role or ClusterRole in the scanned files with a rule granting every verb (`*`, or
    /// all of get, list, watch, create, update, patch and delete) on every resource of every
    /// API group, for subjects other than the built-in `system:masters` group. A RoleBinding grants full
    /// control of its namespace; a ClusterRoleBinding, of the cluster. Bindings to everyone
    /// (`system:anonymous`, `system:unauthenticated`, `system:authenticated`) are called out.
    ///
    /// ## Why it matters
    /// `cluster-admin` is `*` on `*`: read every Secret, create privileged pods on any node,
    /// rewrite RBAC and admission webhooks. A compromised subject holding it is a compromised
    /// cluster (MITRE ATT&CK T1078, Valid Accounts). Service accounts bound to it turn any
    /// exploit of their pod into cluster takeover.
    ///
    /// ## Severity
    /// Critical: no escalation step is needed once the subject's credentials are in hand, and
    /// the binding includes every critical primitive of the RBAC catalogue (impersonation,
    /// `escalate`/`bind`, nodes/proxy, certificate approval, webhook configurations). Those
    /// rules (RBAC002, RBAC004–RBAC014) stay silent on a full-control binding so that it is
    /// one finding, and this rule carries their CIS controls.
    ///
    /// ## Failing example
    /// ```yaml
    /// apiVersion: rbac.authorization.k8s.io/v1
    /// kind: ClusterRoleBinding
    /// metadata: {name: ci-admin}
    /// roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: cluster-admin}
    /// subjects:
    /// - {kind: ServiceAccount, name: deployer, namespace: ci}
    /// ```
    ///
    /// ## Passing example
    /// ```yaml
    /// apiVersion: rbac.authorization.k8s.io/v1
    /// kind: RoleBinding
    /// metadata: {name: ci-deployer, namespace: shop}
    /// roleRef: {apiGroup: rbac.authorization.k8s.io, kind: Role, name: deployer}
    /// subjects:
    /// - {kind: ServiceAccount, name: deployer, namespace: ci}
    /// ```
    ///
    /// ## Remediation
    /// Bind a Role (or ClusterRole) with the verbs and resources the subject uses; `palisade
    /// rbac generate` can derive one from audit logs. Keep `cluster-admin` for break-glass
    /// accounts outside day-to-day use.
    ///
    /// ## References
    /// - CIS Kubernetes Benchmark v1.12, 5.1.1 (and 5.1.2, 5.1.4, 5.1.8–5.1.13, whose access it
    ///   includes)
    /// - Kubernetes documentation, "Using RBAC Authorization", "User-facing roles"
    pub struct ClusterAdminBinding {
        id: "RBAC001",
        slug: "cluster-admin-binding",
        title: "Subject is bound to cluster-admin",
        severity: Critical,
        target: Target::Kinds(&[
            ("rbac.authorization.k8s.io", "ClusterRoleBinding"),
            ("rbac.authorization.k8s.io", "RoleBinding"),
        ]),
        controls: [
            CisK8s112 "5.1.1",
            CisK8s112 "5.1.2",
            CisK8s112 "5.1.4",
            CisK8s112 "5.1.8",
            CisK8s112 "5.1.9",
            CisK8s112 "5.1.10",
            CisK8s112 "5.1.11",
            CisK8s112 "5.1.12",
            CisK8s112 "5.1.13",
            NsaCisa12 "authn-authz/rbac",
            MitreAttack "T1078",
        ],
        remediation: "Bind a least-privilege Role instead of cluster-admin.",
    }
}

impl Check for ClusterAdminBinding {
    fn models(&self, models: &mut crate::context::Models) {
        crate::rbac::ask(models);
    }

    fn reads(&self) -> &'static [(&'static str, &'static str)] {
        crate::rbac::ROLES
    }

    fn check(&self, cx: &mut Context<'_>) {
        let root = palisade_core::JsonPointer::root();
        let kind = cx.str_at(&root.join("roleRef").join("kind"));
        let name_path = root.join("roleRef").join("name");
        let name = cx.str_at(&name_path);
        let (Some(kind), Some(name)) = (kind, name) else {
            return;
        };
        let role_label = if kind == "ClusterRole" && name == "cluster-admin" {
            "cluster-admin".to_string()
        } else if crate::rbac::binding_of(cx)
            .is_some_and(|(model, b)| model.policy.grants_everything(&model.policy.bindings[b]))
        {
            format!("{kind} {name}, which allows every verb on every resource,")
        } else {
            return;
        };
        let subjects_path = root.join("subjects");
        let subjects: Vec<(String, String)> = cx
            .array_at(&subjects_path)
            .iter()
            .filter_map(|s| {
                let kind = s.get("kind").and_then(Value::as_str)?;
                let name = s.get("name").and_then(Value::as_str)?;
                let shown = match (kind, s.get("namespace").and_then(Value::as_str)) {
                    ("ServiceAccount", Some(ns)) => format!("ServiceAccount {ns}/{name}"),
                    _ => format!("{kind} {name}"),
                };
                Some((shown, format!("{kind}:{name}")))
            })
            .filter(|(_, key)| {
                !BUILT_IN_ADMINS
                    .iter()
                    .any(|(k, n)| *key == format!("{k}:{n}"))
            })
            .collect();
        if subjects.is_empty() {
            return;
        }
        let everyone = subjects.iter().any(|(_, key)| {
            EVERYONE
                .iter()
                .any(|group| key.ends_with(&format!(":{group}")))
        });
        let scope = if cx.object.id.kind == "RoleBinding" {
            format!(
                "full control of namespace {}",
                cx.object
                    .id
                    .namespace
                    .as_deref()
                    .unwrap_or("(the one it is applied to)")
            )
        } else {
            "full control of the cluster".to_string()
        };
        let names: Vec<&str> = subjects.iter().map(|(shown, _)| shown.as_str()).collect();
        let mut message = format!("{role_label} grants {scope} to {}", names.join(", "));
        if everyone {
            message.push_str("; this includes every user or anonymous requests");
        }
        if cx.object.id.kind == "RoleBinding" {
            // A RoleBinding grants nothing on cluster-scoped resources: PersistentVolumes
            // (5.1.9), nodes/proxy (5.1.10), CSR approval (5.1.11) and webhook configurations
            // (5.1.12) stay out of reach.
            let cited = self
                .meta()
                .controls_except(&["5.1.9", "5.1.10", "5.1.11", "5.1.12"]);
            cx.report_citing(name_path, message, cited);
        } else {
            cx.report(name_path, message);
        }
    }
}
