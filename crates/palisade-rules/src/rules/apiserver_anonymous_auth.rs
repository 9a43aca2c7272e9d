use crate::context::Context;
use crate::control_plane::{Component, Expect, InFile, Want, check};
use crate::rule::{Check, Target};

declare_rule! {
    /// ## What it checks
    /// A kube-apiserver container (a static pod, a mirror pod read from a cluster, or a hosted
    /// control plane's Deployment) that does not set `--anonymous-auth=false`; the flag is true
    /// by default. An API server started with `--authentication-config` may set anonymous
    /// access in that file's `anonymous` instead: where the input holds the file (as `palisade
    /// node` reads it) and it does, CP016 judges the file; where the input does not hold it,
    /// the API server is not assessed.
    ///
    /// ## Why it matters
    /// Every request without credentials is then served as `system:anonymous` in the group
    /// `system:unauthenticated`. Authorization still applies, but a single binding to those
    /// subjects (RBAC015 finds them) opens the cluster to anyone who can reach the API server,
    /// and the discovery and version endpoints tell an attacker what to exploit (MITRE ATT&CK
    /// T1078.001). Health checks can use `/livez` and `/readyz` with credentials, or the
    /// structured authentication configuration's anonymous endpoints.
    ///
    /// ## Severity
    /// Medium: harmless by itself under RBAC, one binding away from an open cluster.
    ///
    /// ## Failing example
    /// ```yaml
    /// command:
    /// - kube-apiserver
    /// - --authorization-mode=Node,RBAC
    /// ```
    ///
    /// ## Passing example
    /// ```yaml
    /// command:
    /// - kube-apiserver
    /// - --anonymous-auth=false
    /// ```
    ///
    /// ## Remediation
    /// Add `--anonymous-auth=false` to the API server's command (in kubeadm,
    /// `apiServer.extraArgs`), or allow anonymous requests only on the health endpoints with
    /// the structured authentication configuration (`anonymous.conditions`).
    ///
    /// ## References
    /// - CIS Kubernetes Benchmark v1.12, 1.2.1
    /// - NSA/CISA Kubernetes Hardening Guide v1.2, "Control plane hardening"
    /// - Kubernetes documentation, "kube-apiserver" command-line reference
    pub struct ApiServerAnonymousAuth {
        id: "CP001",
        slug: "apiserver-anonymous-auth",
        title: "API server serves anonymous requests",
        severity: Medium,
        target: Target::PodSpec,
        controls: [
            CisK8s112 "1.2.1",
            NsaCisa12 "network/control-plane-hardening",
            MitreAttack "T1078.001",
        ],
        remediation: "Set `--anonymous-auth=false` on the API server.",
    }
}

/// The flags checked, each with the CIS control it decides.
const EXPECTED: &[Expect] = &[Expect::new(
    "anonymous-auth",
    Want::Is {
        value: "false",
        default: "true",
    },
    "1.2.1",
    "requests without credentials are served as system:anonymous",
)
.or_in_file(InFile {
    flag: "authentication-config",
    group: "apiserver.config.k8s.io",
    kind: "AuthenticationConfiguration",
    field: "anonymous",
})];

impl Check for ApiServerAnonymousAuth {
    fn check(&self, cx: &mut Context<'_>) {
        check(cx, Component::ApiServer, EXPECTED);
    }
}
