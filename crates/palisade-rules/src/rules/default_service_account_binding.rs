use palisade_core::JsonPointer;
use palisade_rbac::Subject;

use crate::context::Context;
use crate::rbac::{BINDINGS, binding_of, scope};
use crate::rule::{Check, Target};

declare_rule! {
    /// ## What it checks
    /// Bindings that grant a role to a namespace's `default` service account.
    ///
    /// ## Why it matters
    /// Every pod that does not name a service account runs as `default`. A permission given
    /// to it is given to every such pod of the namespace, today's and tomorrow's, which is
    /// why the CIS Benchmark asks that `default` is never used (MITRE ATT&CK T1078.001).
    ///
    /// ## Severity
    /// Medium: the grant spreads to unrelated workloads.
    ///
    /// ## Failing example
    /// ```yaml
    /// kind: RoleBinding
    /// subjects:
    /// - {kind: ServiceAccount, name: default, namespace: shop}
    /// ```
    ///
    /// ## Passing example
    /// ```yaml
    /// kind: RoleBinding
    /// subjects:
    /// - {kind: ServiceAccount, name: checkout, namespace: shop}
    /// ```
    ///
    /// ## Remediation
    /// Create a dedicated service account for the workload that needs the role and bind that.
    ///
    /// ## References
    /// - CIS Kubernetes Benchmark v1.12, 5.1.5
    pub struct DefaultServiceAccountBinding {
        id: "RBAC016",
        slug: "default-service-account-binding",
        title: "Role granted to a default service account",
        severity: Medium,
        target: Target::Kinds(BINDINGS),
        controls: [
            CisK8s112 "5.1.5",
            NsaCisa12 "authn-authz/rbac",
            MitreAttack "T1078.001",
        ],
        remediation: "Bind a dedicated service account instead of `default`.",
    }
}

impl Check for DefaultServiceAccountBinding {
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
        for subject in &binding.subjects {
            if let Subject::ServiceAccount { namespace, name } = subject
                && name == "default"
            {
                cx.report(
                    JsonPointer::root().join("subjects"),
                    format!(
                        "{} {} is granted to the default service account of namespace {}, so to every pod there that names no account",
                        binding.role_ref.name,
                        scope(binding),
                        palisade_rbac::model::display_ns(namespace)
                    ),
                );
            }
        }
    }
}
