use palisade_core::{JsonPointer, Severity};
use palisade_rbac::Subject;

use crate::context::Context;
use crate::rbac::{BINDINGS, binding_of, scope};
use crate::rule::{Check, Target};

/// Groups that mean "everyone" or "every workload".
const BROAD_GROUPS: &[(&str, &str)] = &[
    ("system:anonymous", "anyone, without credentials"),
    ("system:unauthenticated", "anyone, without credentials"),
    (
        "system:authenticated",
        "every user and service account with any credential",
    ),
    (
        "system:serviceaccounts",
        "every service account of the cluster",
    ),
];

/// Default ClusterRoles the bootstrap policy binds to these groups on purpose.
const DEFAULT_BROAD_ROLES: &[&str] = &[
    "system:discovery",
    "system:basic-user",
    "system:public-info-viewer",
    "system:service-account-issuer-discovery",
];

declare_rule! {
    /// ## What it checks
    /// Bindings whose subjects include the user or group `system:anonymous`, `system:unauthenticated`,
    /// `system:authenticated`, `system:serviceaccounts` or a `system:serviceaccounts:<ns>`
    /// group, to any role other than the discovery roles the default policy binds to them.
    ///
    /// ## Why it matters
    /// These groups are everyone: an anonymous request from the internet, any user of the
    /// identity provider, any pod of any namespace. A permission granted to them is granted to
    /// every attacker who reaches the API server (MITRE ATT&CK T1078, T1190).
    ///
    /// ## Severity
    /// Per finding, by what the role grants. High when it grants any write, any read of
    /// Secrets, any escalation primitive (exec, impersonate, create pods, ...) or anything
    /// through a wildcard; critical when that is granted to anonymous users. Medium when the
    /// role only reads ordinary resources (`get`, `list`, `watch` on named resources other
    /// than Secrets). Low when it grants nothing a current cluster serves
    /// (`use` of PodSecurityPolicies, removed in v1.25) or the role does not exist (RBAC018).
    ///
    /// ## Failing example
    /// ```yaml
    /// kind: ClusterRoleBinding
    /// roleRef: {kind: ClusterRole, name: view}
    /// subjects:
    /// - {kind: Group, name: "system:authenticated"}
    /// ```
    ///
    /// ## Passing example
    /// ```yaml
    /// kind: ClusterRoleBinding
    /// roleRef: {kind: ClusterRole, name: view}
    /// subjects:
    /// - {kind: Group, name: "platform-readers"}
    /// ```
    ///
    /// ## Remediation
    /// Bind a named group of the identity provider, or the service accounts that need it.
    ///
    /// ## References
    /// - Kubernetes documentation, "Using RBAC Authorization", default roles and role bindings
    /// - NSA/CISA Kubernetes Hardening Guide v1.2, "Authentication"
    pub struct BroadGroupBinding {
        id: "RBAC015",
        slug: "broad-group-binding",
        title: "Role granted to everyone or every service account",
        severity: High,
        target: Target::Kinds(BINDINGS),
        controls: [
            NsaCisa12 "authn-authz/authentication",
            NsaCisa12 "authn-authz/rbac",
            MitreAttack "T1078",
            MitreAttack "T1190",
        ],
        remediation: "Bind a named group or specific service accounts instead of a system-wide group.",
    }
}

impl Check for BroadGroupBinding {
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
        if DEFAULT_BROAD_ROLES.contains(&binding.role_ref.name.as_str()) {
            return;
        }
        for subject in &binding.subjects {
            // The groups, and the anonymous user itself (bound by name as a User).
            let (Subject::Group { name } | Subject::User { name }) = subject else {
                continue;
            };
            if matches!(subject, Subject::User { .. }) && name != "system:anonymous" {
                continue;
            }
            let who = BROAD_GROUPS
                .iter()
                .find(|(g, _)| g == name)
                .map(|(_, who)| (*who).to_string())
                .or_else(|| {
                    name.strip_prefix("system:serviceaccounts:")
                        .map(|ns| format!("every service account of namespace {ns}"))
                });
            if let Some(who) = who {
                let anonymous =
                    matches!(name.as_str(), "system:anonymous" | "system:unauthenticated");
                let (weight, what) = weight(&model, index, anonymous);
                let mut reported = crate::context::Reported::new(
                    JsonPointer::root().join("subjects"),
                    format!(
                        "{} {} is granted to {} {name}: {who} ({what})",
                        binding.role_ref.name,
                        scope(binding),
                        if matches!(subject, Subject::User { .. }) {
                            "user"
                        } else {
                            "group"
                        }
                    ),
                );
                reported.severity = Some(weight);
                cx.report_with(reported);
            }
        }
    }
}

/// Verbs that only read.
const READ_VERBS: &[&str] = &["get", "list", "watch"];

/// How much a role granted to everyone gives away, and why.
fn weight(
    model: &crate::rbac::RbacModel,
    index: usize,
    anonymous: bool,
) -> (Severity, &'static str) {
    let binding = &model.policy.bindings[index];
    let Some(role) = model.policy.role_of(binding) else {
        return (
            Severity::Low,
            "the role does not exist, so it grants nothing yet",
        );
    };
    let psp_only = !role.rules.is_empty()
        && role.rules.iter().all(|r| {
            r.verbs.iter().all(|v| v == "use")
                && r.resources.iter().all(|res| res == "podsecuritypolicies")
        });
    if psp_only {
        return (
            Severity::Low,
            "use of PodSecurityPolicies, which clusters stopped serving in v1.25",
        );
    }
    let powerful = !model.policy.held_by(index).is_empty()
        || role.rules.iter().any(|r| {
            r.verbs.iter().any(|v| !READ_VERBS.contains(&v.as_str()))
                || r.resources
                    .iter()
                    .any(|res| res == "*" || res == "secrets" || res.starts_with("secrets/"))
                || r.api_groups.iter().any(|g| g == "*")
                || r.non_resource_urls.iter().any(|u| u == "*")
        });
    match (powerful, anonymous) {
        (true, true) => (
            Severity::Critical,
            "writes, Secrets or escalation, without any credential",
        ),
        (true, false) => (Severity::High, "writes, Secrets or escalation"),
        (false, true) => (Severity::High, "read access, without any credential"),
        (false, false) => (Severity::Medium, "read access to ordinary resources only"),
    }
}
