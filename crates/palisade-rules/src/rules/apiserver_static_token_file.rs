use crate::context::Context;
use crate::control_plane::{Component, Expect, Want, check};
use crate::rule::{Check, Target};

declare_rule! {
    /// ## What it checks
    /// A kube-apiserver started with `--token-auth-file`.
    ///
    /// ## Why it matters
    /// The file holds bearer tokens in clear text on the control-plane node; they never expire,
    /// and one can be revoked only by editing the file and restarting the API server. Anyone
    /// who reads the file, or a backup of it, holds those identities indefinitely (MITRE ATT&CK
    /// T1552.001).
    ///
    /// ## Severity
    /// High: long-lived credentials that cannot be revoked in time.
    ///
    /// ## Failing example
    /// ```yaml
    /// command:
    /// - kube-apiserver
    /// - --token-auth-file=/etc/kubernetes/tokens.csv
    /// ```
    ///
    /// ## Passing example
    /// ```yaml
    /// command:
    /// - kube-apiserver   # client certificates, OIDC or webhook token authentication
    /// ```
    ///
    /// ## Remediation
    /// Move its users to client certificates, OIDC, or service accounts with bound tokens, then
    /// remove `--token-auth-file`.
    ///
    /// ## References
    /// - CIS Kubernetes Benchmark v1.12, 1.2.2
    /// - Kubernetes documentation, "Authenticating", "Static Token File"
    pub struct ApiServerStaticTokenFile {
        id: "CP004",
        slug: "apiserver-static-token-file",
        title: "API server accepts static tokens from a file",
        severity: High,
        target: Target::PodSpec,
        controls: [
            CisK8s112 "1.2.2",
            NsaCisa12 "network/control-plane-hardening",
            MitreAttack "T1552.001",
        ],
        remediation: "Remove `--token-auth-file`; use OIDC, certificates or bound service account tokens.",
    }
}

/// The flags checked, each with the CIS control it decides.
const EXPECTED: &[Expect] = &[Expect::new(
    "token-auth-file",
    Want::Absent,
    "1.2.2",
    "static tokens that never expire are accepted",
)];

impl Check for ApiServerStaticTokenFile {
    fn check(&self, cx: &mut Context<'_>) {
        check(cx, Component::ApiServer, EXPECTED);
    }
}
