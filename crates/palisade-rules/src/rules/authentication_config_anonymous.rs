use palisade_core::JsonPointer;
use serde_json::Value;

use crate::context::Context;
use crate::rule::{Check, Target};

/// The paths anonymous requests may be served on without serving more than health: the API
/// server's own health endpoints.
const HEALTH_PATHS: &[&str] = &["/livez", "/readyz", "/healthz"];

declare_rule! {
    /// ## What it checks
    /// An API server authentication configuration (`AuthenticationConfiguration`, the file
    /// `--authentication-config` names) that turns anonymous requests on (`anonymous.enabled:
    /// true`) for every path (no `conditions`), or for a path other than the health endpoints
    /// (`/livez`, `/readyz`, `/healthz`). A configuration without `anonymous` leaves it to
    /// `--anonymous-auth`, which CP001 judges.
    ///
    /// ## Why it matters
    /// Requests without credentials are served as `system:anonymous` in the group
    /// `system:unauthenticated` on those paths. Authorization still applies, but a single
    /// binding to those subjects (RBAC015 finds them) opens what the paths serve to anyone who
    /// can reach the API server, and the discovery and version endpoints tell an attacker what
    /// to exploit (MITRE ATT&CK T1078.001). The structured configuration exists to allow the
    /// health checks alone.
    ///
    /// ## Severity
    /// Medium: harmless by itself under RBAC, one binding away from an open cluster.
    ///
    /// ## Failing example
    /// ```yaml
    /// apiVersion: apiserver.config.k8s.io/v1
    /// kind: AuthenticationConfiguration
    /// anonymous:
    ///   enabled: true
    /// ```
    ///
    /// ## Passing example
    /// ```yaml
    /// apiVersion: apiserver.config.k8s.io/v1
    /// kind: AuthenticationConfiguration
    /// anonymous:
    ///   enabled: true
    ///   conditions:
    ///   - path: /livez
    ///   - path: /readyz
    /// ```
    ///
    /// ## Remediation
    /// Set `anonymous.enabled: false`, or keep it with `conditions` that name only `/livez`,
    /// `/readyz` and `/healthz`.
    ///
    /// ## References
    /// - CIS Kubernetes Benchmark v1.12, 1.2.1
    /// - Kubernetes documentation, "Authenticating", "Anonymous authenticator configuration"
    pub struct AuthenticationConfigAnonymous {
        id: "CP016",
        slug: "authentication-config-anonymous",
        title: "Authentication configuration serves anonymous requests beyond health checks",
        severity: Medium,
        target: Target::Kinds(&[("apiserver.config.k8s.io", "AuthenticationConfiguration")]),
        controls: [
            CisK8s112 "1.2.1",
            NsaCisa12 "network/control-plane-hardening",
            MitreAttack "T1078.001",
        ],
        remediation: "Set `anonymous.enabled: false`, or allow only /livez, /readyz and /healthz in `anonymous.conditions`.",
    }
}

impl Check for AuthenticationConfigAnonymous {
    fn check(&self, cx: &mut Context<'_>) {
        let Some(anonymous) = cx.object.value.get("anonymous") else {
            // `--anonymous-auth` decides: CP001.
            cx.out_of_scope();
            return;
        };
        if anonymous.get("enabled").and_then(Value::as_bool) != Some(true) {
            return;
        }
        let at = |tail: &str| JsonPointer::parse(&format!("/anonymous{tail}")).unwrap_or_default();
        let conditions = anonymous
            .get("conditions")
            .and_then(Value::as_array)
            .filter(|c| !c.is_empty());
        let Some(conditions) = conditions else {
            cx.report(
                at("/enabled"),
                "anonymous requests are served on every path, as system:anonymous: no \
                 `conditions` limits them to the health endpoints",
            );
            return;
        };
        for (i, condition) in conditions.iter().enumerate() {
            let path = condition.get("path").and_then(Value::as_str).unwrap_or("");
            if !HEALTH_PATHS.contains(&path) {
                cx.report(
                    at(&format!("/conditions/{i}/path")),
                    format!(
                        "anonymous requests are served on `{path}`, which is not a health \
                         endpoint (/livez, /readyz, /healthz)"
                    ),
                );
            }
        }
    }
}
