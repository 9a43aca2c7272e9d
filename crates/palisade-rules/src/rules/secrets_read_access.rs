use crate::context::Context;
use crate::rbac::{BINDINGS, report_primitives};
use crate::rule::{Check, Target};

declare_rule! {
    /// ## What it checks
    /// Bindings that let a subject `get`, `list`, `watch`, `update` or `patch` Secrets (the
    /// answer to an update or a patch is the whole stored Secret) (all of them, not only named
    /// ones), through the bound Role or ClusterRole, an aggregated rule, a wildcard, or a default
    /// role such as `edit` or `admin`. The scope is the binding's namespace, or the whole cluster
    /// for a ClusterRoleBinding. Control-plane grants of the default policy (`system:*` users and
    /// groups such as `system:kube-controller-manager`, and each controller's service account bound
    /// to its own `system:controller:*` role) are not reported; broad groups such as
    /// `system:authenticated` are. A binding that grants full control (`cluster-admin`, or every
    /// verb on every resource) is reported once, by RBAC001.
    ///
    /// ## Why it matters
    /// Secrets hold database passwords, API keys, TLS keys and, in clusters with legacy token
    /// Secrets, service account tokens: reading them is usually a step to other identities (MITRE
    /// ATT&CK T1552.007). `list` and `watch` return every value, not only names.
    ///
    /// ## Severity
    /// High: it discloses every credential of the scope.
    ///
    /// ## Failing example
    /// ```yaml
    /// rules:
    /// - apiGroups: [""]
    ///   resources: [secrets]
    ///   verbs: [get, list]
    /// ```
    ///
    /// ## Passing example
    /// ```yaml
    /// rules:
    /// - apiGroups: [""]
    ///   resources: [secrets]
    ///   resourceNames: [app-config]
    ///   verbs: [get]
    /// ```
    ///
    /// ## Remediation
    /// Grant `get` on the named Secrets the workload needs (`resourceNames`), or mount them instead
    /// of reading them through the API.
    ///
    /// ## References
    /// - CIS Kubernetes Benchmark v1.12, 5.1.2
    /// - Kubernetes documentation, "RBAC Good Practices", Secrets
    pub struct SecretsReadAccess {
        id: "RBAC002",
        slug: "secrets-read-access",
        title: "Subject can read Secrets",
        severity: High,
        target: Target::Kinds(BINDINGS),
        controls: [
            CisK8s112 "5.1.2",
            NsaCisa12 "authn-authz/rbac",
            MitreAttack "T1552.007",
        ],
        remediation: "Grant `get` on the named Secrets the workload needs (`resourceNames`), or mount them instead of reading them through the API.",
    }
}

impl Check for SecretsReadAccess {
    fn models(&self, models: &mut crate::context::Models) {
        crate::rbac::ask(models);
    }

    fn reads(&self) -> &'static [(&'static str, &'static str)] {
        crate::rbac::ROLES
    }

    fn check(&self, cx: &mut Context<'_>) {
        report_primitives(cx, &["read-secrets"]);
    }
}
