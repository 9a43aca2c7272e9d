use palisade_core::JsonPointer;
use palisade_k8s::identity_claims::{Names, from_configuration};

use crate::context::{Context, Reported};
use crate::rule::{Check, Target};

declare_rule! {
    /// ## What it checks
    /// An API server authentication configuration (`AuthenticationConfiguration`, the file
    /// `--authentication-config` names) with a JWT authenticator whose claim mappings pass the
    /// provider's names through as they are: a user name or groups claim mapped with an empty
    /// prefix (or one that is the start of `system:`), or an expression that does not start
    /// its result with a text of its own (`'oidc:' + claims.sub`, `claims.groups.map(g,
    /// 'oidc:' + g)`), while no `userValidationRules` expression refuses `system:` names. A
    /// user name from the `email` claim is not reported: an address holds an `@`, which no
    /// reserved name does.
    ///
    /// ## Why it matters
    /// Kubernetes reserves the `system:` names for itself but does not refuse them from a
    /// token; its own documentation shows the `userValidationRules` that do. A provider group
    /// named `system:masters` is cluster-admin, whatever RBAC says; a user named
    /// `system:kube-controller-manager` may mint any service account's token. So whoever can
    /// name a group or a user at the provider owns the cluster (MITRE ATT&CK T1078, T1098).
    ///
    /// ## Severity
    /// High: an identity outside the cluster's control becomes cluster-admin.
    ///
    /// ## Failing example
    /// ```yaml
    /// apiVersion: apiserver.config.k8s.io/v1
    /// kind: AuthenticationConfiguration
    /// jwt:
    /// - issuer: {url: https://idp.example.com, audiences: [kubernetes]}
    ///   claimMappings:
    ///     username: {claim: sub, prefix: ""}
    ///     groups: {claim: groups, prefix: ""}
    /// ```
    ///
    /// ## Passing example
    /// ```yaml
    /// apiVersion: apiserver.config.k8s.io/v1
    /// kind: AuthenticationConfiguration
    /// jwt:
    /// - issuer: {url: https://idp.example.com, audiences: [kubernetes]}
    ///   claimMappings:
    ///     username: {claim: sub, prefix: ""}
    ///     groups: {claim: groups, prefix: "oidc:"}
    ///   userValidationRules:
    ///   - expression: "!user.username.startsWith('system:')"
    ///     message: "user names may not use the reserved system: prefix"
    /// ```
    ///
    /// ## Remediation
    /// Give each mapping a prefix (`oidc:`) and bind the prefixed names, or add
    /// `userValidationRules` that refuse `system:` names
    /// (`!user.username.startsWith('system:')`, `user.groups.all(g,
    /// !g.startsWith('system:'))`).
    ///
    /// ## References
    /// - Kubernetes documentation, "Authenticating", "Using Authentication Configuration"
    /// - NSA/CISA Kubernetes Hardening Guide v1.2, "Authentication"
    pub struct AuthenticationConfigClaimsUnprefixed {
        id: "CP015",
        slug: "authentication-config-claims-unprefixed",
        title: "Authentication configuration takes an identity provider's names as Kubernetes names",
        severity: High,
        target: Target::Kinds(&[("apiserver.config.k8s.io", "AuthenticationConfiguration")]),
        controls: [
            NsaCisa12 "authn-authz/authentication",
            MitreAttack "T1078",
            MitreAttack "T1098",
        ],
        remediation: "Prefix the mapped names, or refuse `system:` names with userValidationRules.",
    }
}

impl Check for AuthenticationConfigClaimsUnprefixed {
    fn check(&self, cx: &mut Context<'_>) {
        for unguarded in from_configuration(&cx.object.value) {
            let mut reported = Reported::new(
                JsonPointer::parse(&unguarded.at).unwrap_or_default(),
                format!("{}: {}", unguarded.how, unguarded.names.consequence()),
            );
            reported.discriminator = Some(match unguarded.names {
                Names::Username => "username".into(),
                Names::Groups => "groups".into(),
            });
            cx.report_with(reported);
        }
    }
}
