use palisade_core::{Control, Framework, JsonPointer, Severity};
use serde_json::Value;

use super::apiserver_authorization_mode::{WITHOUT_NODE, WITHOUT_RBAC};
use crate::context::{Context, Reported};
use crate::rule::{Check, Target};

declare_rule! {
    /// ## What it checks
    /// An API server authorization configuration (`AuthorizationConfiguration`, the file
    /// `--authorization-config` names, which replaces `--authorization-mode`) whose
    /// `authorizers` include `AlwaysAllow`, or leave out `Node` or `RBAC`.
    ///
    /// ## Why it matters
    /// The authorizers are asked in order and the first that decides wins; RBAC and Node only
    /// allow, so an `AlwaysAllow` anywhere in the list allows every request the others did not
    /// deny: any service account token is cluster-admin. Without `Node`, kubelets are
    /// authorized by RBAC alone, usually through the broad `system:node` role, so a
    /// compromised node reads every Secret in the cluster instead of those of its own pods.
    /// Without `RBAC`, roles and bindings are ignored. CP002 judges the same of
    /// `--authorization-mode`.
    ///
    /// ## Severity
    /// High; a finding for `AlwaysAllow` is critical.
    ///
    /// ## Failing example
    /// ```yaml
    /// apiVersion: apiserver.config.k8s.io/v1
    /// kind: AuthorizationConfiguration
    /// authorizers:
    /// - {type: RBAC, name: rbac}
    /// - {type: AlwaysAllow, name: allow}
    /// ```
    ///
    /// ## Passing example
    /// ```yaml
    /// apiVersion: apiserver.config.k8s.io/v1
    /// kind: AuthorizationConfiguration
    /// authorizers:
    /// - {type: Node, name: node}
    /// - {type: RBAC, name: rbac}
    /// ```
    ///
    /// ## Remediation
    /// List `Node` and `RBAC` (with `Webhook` authorizers after them if an external authorizer
    /// is used) and no `AlwaysAllow`; pair `Node` with the `NodeRestriction` admission plugin.
    ///
    /// ## References
    /// - CIS Kubernetes Benchmark v1.12, 1.2.6, 1.2.7, 1.2.8
    /// - Kubernetes documentation, "Authorization", "Configuring the API Server using an
    ///   Authorization Config File"
    pub struct AuthorizationConfigWeak {
        id: "CP017",
        slug: "authorization-config-weak",
        title: "Authorization configuration authorizes requests weakly",
        severity: High,
        target: Target::Kinds(&[("apiserver.config.k8s.io", "AuthorizationConfiguration")]),
        controls: [
            CisK8s112 "1.2.6",
            CisK8s112 "1.2.7",
            CisK8s112 "1.2.8",
            NsaCisa12 "network/control-plane-hardening",
            MitreAttack "T1078",
        ],
        remediation: "List the Node and RBAC authorizers, and no AlwaysAllow.",
    }
}

impl Check for AuthorizationConfigWeak {
    fn check(&self, cx: &mut Context<'_>) {
        let authorizers = JsonPointer::root().join("authorizers");
        let types: Vec<&str> = cx
            .array_at(&authorizers)
            .iter()
            .map(|a| a.get("type").and_then(Value::as_str).unwrap_or(""))
            .collect();
        let cite = |control: &'static str| Some(vec![Control::new(Framework::CisK8s112, control)]);
        for (i, kind) in types.iter().enumerate() {
            if *kind == "AlwaysAllow" {
                let mut reported = Reported::new(
                    authorizers.join(i).join("type"),
                    "authorizer `AlwaysAllow` allows every request the authorizers before it did \
                     not deny: every authenticated request is allowed",
                );
                reported.cited = cite("1.2.6");
                reported.severity = Some(Severity::Critical);
                reported.discriminator = Some("AlwaysAllow".into());
                cx.report_with(reported);
            }
        }
        for (kind, control, risk) in [
            ("Node", "1.2.7", WITHOUT_NODE),
            ("RBAC", "1.2.8", WITHOUT_RBAC),
        ] {
            if !types.contains(&kind) {
                let mut reported = Reported::new(
                    authorizers.clone(),
                    format!("no `{kind}` authorizer: {risk}"),
                );
                reported.cited = cite(control);
                reported.discriminator = Some(kind.into());
                cx.report_with(reported);
            }
        }
    }
}
