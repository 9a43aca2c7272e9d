use palisade_core::JsonPointer;
use palisade_core::tree::Tree as _;
use serde_json::Value;

use crate::context::Context;
use crate::rule::{Check, Target};

declare_rule! {
    /// ## What it checks
    /// Rules of Roles and ClusterRoles with `*` in `verbs`, `resources` or `apiGroups`.
    /// ClusterRoles that Kubernetes itself defines (`cluster-admin`, and those labelled
    /// `kubernetes.io/bootstrapping: rbac-defaults`) are skipped; RBAC001 reports bindings to
    /// them.
    ///
    /// ## Why it matters
    /// A wildcard grants more than anyone reviewed: every resource type added later by an
    /// upgrade or a CRD (including new subresources such as `pods/ephemeralcontainers`), and
    /// every verb, `escalate`, `bind` and `impersonate` included (MITRE ATT&CK T1078).
    ///
    /// ## Severity
    /// Medium: the actual risk depends on who is bound, which the other RBAC rules judge.
    ///
    /// ## Failing example
    /// ```yaml
    /// rules:
    /// - apiGroups: ["apps"]
    ///   resources: ["*"]
    ///   verbs: ["*"]
    /// ```
    ///
    /// ## Passing example
    /// ```yaml
    /// rules:
    /// - apiGroups: ["apps"]
    ///   resources: ["deployments"]
    ///   verbs: ["get", "list", "watch", "patch"]
    /// ```
    ///
    /// ## Remediation
    /// List the resources and verbs the subject needs; `palisade rbac generate --audit-log`
    /// derives them from what it actually did.
    ///
    /// ## References
    /// - CIS Kubernetes Benchmark v1.12, 5.1.3
    /// - Kubernetes documentation, "RBAC Good Practices", least privilege
    pub struct WildcardRule {
        id: "RBAC003",
        slug: "wildcard-rule",
        title: "Role rule uses a wildcard",
        severity: Medium,
        target: Target::Kinds(&[
            ("rbac.authorization.k8s.io", "ClusterRole"),
            ("rbac.authorization.k8s.io", "Role"),
        ]),
        controls: [
            CisK8s112 "5.1.3",
            NsaCisa12 "authn-authz/rbac",
            MitreAttack "T1078",
        ],
        remediation: "Replace `*` with the resources and verbs the subject needs.",
    }
}

impl Check for WildcardRule {
    fn check(&self, cx: &mut Context<'_>) {
        let name = cx.object.id.name.as_deref().unwrap_or("");
        let bootstrap = cx
            .object
            .value
            .at("/metadata/labels/kubernetes.io~1bootstrapping")
            .and_then(Value::as_str)
            == Some("rbac-defaults");
        if cx.object.id.kind == "ClusterRole" && (name == "cluster-admin" || bootstrap) {
            return;
        }
        let rules_path = JsonPointer::root().join("rules");
        for (i, rule) in cx.array_at(&rules_path).iter().enumerate() {
            let starred: Vec<&str> = ["verbs", "resources", "apiGroups"]
                .into_iter()
                .filter(|field| {
                    rule.get(*field)
                        .and_then(Value::as_array)
                        .is_some_and(|items| items.iter().any(|v| v.as_str() == Some("*")))
                })
                .collect();
            if let Some(first) = starred.first() {
                cx.report(
                    rules_path.join(i).join(first),
                    format!("rule {} grants `*` in {}", i + 1, starred.join(" and ")),
                );
            }
        }
    }
}
