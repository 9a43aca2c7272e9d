use crate::context::Context;
use crate::control_plane::{Component, Expect, InFile, Want, check};
use crate::rule::{Check, Target};

declare_rule! {
    /// ## What it checks
    /// A kube-apiserver whose `--authorization-mode` includes `AlwaysAllow` (the default when
    /// the flag is not set), or leaves out `Node` or `RBAC`. An API server started with
    /// `--authorization-config` lists its authorizers in that file instead: where the input
    /// holds the file (as `palisade node` reads it), CP017 judges it; where it does not, the
    /// API server's authorization is not assessed.
    ///
    /// ## Why it matters
    /// `AlwaysAllow` lets every authenticated request do anything: any service account token
    /// is cluster-admin. Without `Node`, kubelets are authorized by RBAC alone, usually through
    /// the broad `system:node` role, so a compromised node reads every Secret in the cluster
    /// instead of those of its own pods. Without `RBAC`, roles and bindings are ignored, and
    /// the cluster's access control is whatever the remaining modes decide.
    ///
    /// ## Severity
    /// High; a finding for `AlwaysAllow` is critical.
    ///
    /// ## Failing example
    /// ```yaml
    /// command:
    /// - kube-apiserver
    /// - --authorization-mode=AlwaysAllow
    /// ```
    ///
    /// ## Passing example
    /// ```yaml
    /// command:
    /// - kube-apiserver
    /// - --authorization-mode=Node,RBAC
    /// ```
    ///
    /// ## Remediation
    /// Set `--authorization-mode=Node,RBAC` (with `Webhook` after them if an external
    /// authorizer is used), and pair `Node` with the `NodeRestriction` admission plugin.
    ///
    /// ## References
    /// - CIS Kubernetes Benchmark v1.12, 1.2.6, 1.2.7, 1.2.8
    /// - Kubernetes documentation, "Using Node Authorization"
    /// - Kubernetes documentation, "kube-apiserver" command-line reference
    pub struct ApiServerAuthorizationMode {
        id: "CP002",
        slug: "apiserver-authorization-mode",
        title: "API server authorizes requests weakly",
        severity: High,
        target: Target::PodSpec,
        controls: [
            CisK8s112 "1.2.6",
            CisK8s112 "1.2.7",
            CisK8s112 "1.2.8",
            NsaCisa12 "network/control-plane-hardening",
            MitreAttack "T1078",
        ],
        remediation: "Set `--authorization-mode=Node,RBAC` on the API server.",
    }
}

/// The structured authorization configuration, which replaces the flag.
const AUTHORIZATION_CONFIG: InFile = InFile {
    flag: "authorization-config",
    group: "apiserver.config.k8s.io",
    kind: "AuthorizationConfiguration",
    field: "authorizers",
};

/// What leaving out the Node authorizer means (CP002, CP017).
pub(crate) const WITHOUT_NODE: &str = "kubelets are not limited to their own node's objects";
/// What leaving out the RBAC authorizer means (CP002, CP017).
pub(crate) const WITHOUT_RBAC: &str = "roles and bindings are not enforced";

/// The flags checked, each with the CIS control it decides.
const EXPECTED: &[Expect] = &[
    Expect::new(
        "authorization-mode",
        Want::Excludes("AlwaysAllow", &["AlwaysAllow"]),
        "1.2.6",
        "every authenticated request is allowed",
    )
    .severity(palisade_core::Severity::Critical)
    .or_in_file(AUTHORIZATION_CONFIG),
    Expect::new(
        "authorization-mode",
        Want::Includes("Node", &["AlwaysAllow"]),
        "1.2.7",
        WITHOUT_NODE,
    )
    .or_in_file(AUTHORIZATION_CONFIG),
    Expect::new(
        "authorization-mode",
        Want::Includes("RBAC", &["AlwaysAllow"]),
        "1.2.8",
        WITHOUT_RBAC,
    )
    .or_in_file(AUTHORIZATION_CONFIG),
];

impl Check for ApiServerAuthorizationMode {
    fn check(&self, cx: &mut Context<'_>) {
        check(cx, Component::ApiServer, EXPECTED);
    }
}
