use palisade_k8s::control_plane::Flags;
use palisade_k8s::identity_claims::{Names, from_flags};

use crate::context::{Context, Reported};
use crate::control_plane::Component;
use crate::rule::{Check, Target};

declare_rule! {
    /// ## What it checks
    /// A kube-apiserver that trusts an OpenID Connect provider (`--oidc-issuer-url`) and takes
    /// the provider's names as Kubernetes names without a prefix: groups from
    /// `--oidc-groups-claim` with no `--oidc-groups-prefix`, or a user name with
    /// `--oidc-username-prefix=-` (from any claim but `email`, whose addresses hold an `@`). A
    /// prefix that is the start of `system:` (`sys`) prefixes nothing. An API server
    /// configured with `--authentication-config` is judged by CP015 on that file.
    ///
    /// ## Why it matters
    /// Kubernetes reserves the `system:` names for itself but does not refuse them from a
    /// token. A provider group named `system:masters` is cluster-admin, whatever RBAC says; a
    /// user named `system:kube-controller-manager` may mint any service account's token. So
    /// whoever can name a group or a user at the provider (its administrators, self-service
    /// groups, a user editing a profile claim) owns the cluster (MITRE ATT&CK T1078, T1098).
    ///
    /// ## Severity
    /// High: an identity outside the cluster's control becomes cluster-admin.
    ///
    /// ## Failing example
    /// ```yaml
    /// command:
    /// - kube-apiserver
    /// - --oidc-issuer-url=https://idp.example.com
    /// - --oidc-client-id=kubernetes
    /// - --oidc-groups-claim=groups
    /// ```
    ///
    /// ## Passing example
    /// ```yaml
    /// command:
    /// - kube-apiserver
    /// - --oidc-issuer-url=https://idp.example.com
    /// - --oidc-client-id=kubernetes
    /// - --oidc-groups-claim=groups
    /// - --oidc-groups-prefix=oidc:
    /// ```
    ///
    /// ## Remediation
    /// Set `--oidc-groups-prefix=oidc:` (and keep the user name's default prefix, or set
    /// `--oidc-username-prefix=oidc:`), then write the bindings for the prefixed names
    /// (`oidc:platform-admins`). Or move to `--authentication-config` with a
    /// `userValidationRules` expression that refuses `system:` names.
    ///
    /// ## References
    /// - Kubernetes documentation, "Authenticating", "OpenID Connect Tokens" and "Using
    ///   Authentication Configuration"
    /// - NSA/CISA Kubernetes Hardening Guide v1.2, "Authentication"
    pub struct ApiServerOidcClaimsUnprefixed {
        id: "CP014",
        slug: "apiserver-oidc-claims-unprefixed",
        title: "API server takes an identity provider's names as Kubernetes names",
        severity: High,
        target: Target::PodSpec,
        controls: [
            NsaCisa12 "authn-authz/authentication",
            MitreAttack "T1078",
            MitreAttack "T1098",
        ],
        remediation: "Set `--oidc-groups-prefix` (and keep a user name prefix) so that no provider name can be a `system:` one.",
    }
}

impl Check for ApiServerOidcClaimsUnprefixed {
    fn check(&self, cx: &mut Context<'_>) {
        let mut ran = false;
        for container in cx.containers() {
            if Component::of_container(container.value) != Some(Component::ApiServer) {
                if let Some((Component::ApiServer, why)) = Component::unread(container.value) {
                    ran = true;
                    cx.not_assessed(format!("the API server ({}): {why}", container.describe()));
                }
                continue;
            }
            ran = true;
            let flags = Flags::of(Component::ApiServer, container.value, &container.pointer);
            if let Some(file) = flags.value("authentication-config") {
                cx.not_assessed(format!(
                    "the API server ({}) reads its authenticators from {file}: CP015 judges \
                     that file when it is scanned",
                    container.describe()
                ));
                continue;
            }
            for unguarded in from_flags(|name| flags.value(name)) {
                let mut reported = Reported::new(
                    flags.pointer(&unguarded.at),
                    format!(
                        "the API server ({}): {}: {}",
                        container.describe(),
                        unguarded.how,
                        unguarded.names.consequence()
                    ),
                );
                reported.discriminator = Some(match unguarded.names {
                    Names::Username => "username".into(),
                    Names::Groups => "groups".into(),
                });
                cx.report_with(reported);
            }
        }
        if !ran {
            cx.out_of_scope();
        }
    }
}
