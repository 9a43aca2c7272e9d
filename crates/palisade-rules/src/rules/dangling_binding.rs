use palisade_core::JsonPointer;

use crate::context::Context;
use crate::rbac::{BINDINGS, binding_of};
use crate::rule::{Check, Target};

/// Roles the control plane creates in kube-system whose names lack the `system:` prefix.
const BUILT_IN_ROLES: &[&str] = &["extension-apiserver-authentication-reader"];

declare_rule! {
    /// ## What it checks
    /// RoleBindings and ClusterRoleBindings whose `roleRef` names a Role or ClusterRole that
    /// is not among the scanned objects (nor one of the default user-facing ClusterRoles
    /// `cluster-admin`, `admin`, `edit`, `view`). Roles named `system:*` and kube-system's
    /// `extension-apiserver-authentication-reader` come from the control plane and are
    /// skipped.
    ///
    /// ## Why it matters
    /// A dangling binding grants nothing today, but whoever later creates a role with that
    /// name (a new chart, a typo fixed, an attacker with `create roles`) silently grants it to
    /// the binding's subjects without touching the binding (MITRE ATT&CK T1098). It is also a
    /// sign that the RBAC in Git is out of step with what was intended.
    ///
    /// ## Severity
    /// Low: no access today; a trap for later.
    ///
    /// ## Failing example
    /// ```yaml
    /// kind: RoleBinding
    /// roleRef: {kind: Role, name: depolyer}   # typo
    /// ```
    ///
    /// ## Passing example
    /// ```yaml
    /// kind: RoleBinding
    /// roleRef: {kind: Role, name: deployer}   # defined alongside
    /// ```
    ///
    /// ## Remediation
    /// Delete the binding or fix its `roleRef`; scan the role's manifest together with it.
    ///
    /// ## References
    /// - Kubernetes documentation, "Using RBAC Authorization", RoleBinding and ClusterRoleBinding
    pub struct DanglingBinding {
        id: "RBAC018",
        slug: "dangling-binding",
        title: "Binding refers to a role that does not exist",
        severity: Low,
        target: Target::Kinds(BINDINGS),
        controls: [
            NsaCisa12 "authn-authz/rbac",
            MitreAttack "T1098",
        ],
        remediation: "Delete the binding or point it at an existing role.",
    }
}

impl Check for DanglingBinding {
    fn models(&self, models: &mut crate::context::Models) {
        crate::rbac::ask(models);
    }

    fn reads(&self) -> &'static [(&'static str, &'static str)] {
        crate::rbac::ROLES
    }

    fn check(&self, cx: &mut Context<'_>) {
        let Some((model, index)) = binding_of(cx) else {
            return;
        };
        let binding = &model.policy.bindings[index];
        if binding.role.is_some()
            || binding.role_ref.name.starts_with("system:")
            || BUILT_IN_ROLES.contains(&binding.role_ref.name.as_str())
        {
            return;
        }
        let kind = match binding.role_ref.kind {
            palisade_rbac::model::RoleKind::Role => "Role",
            palisade_rbac::model::RoleKind::ClusterRole => "ClusterRole",
        };
        if cx.absence_unknown(&format!("the {kind}s of the cluster")) {
            return;
        }
        cx.report(
            JsonPointer::root().join("roleRef").join("name"),
            format!(
                "{kind} {} is not in the scanned objects: the binding grants nothing now, and grants whatever a role created later under that name holds",
                binding.role_ref.name
            ),
        );
    }
}
