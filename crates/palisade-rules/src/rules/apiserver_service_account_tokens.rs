use crate::context::Context;
use crate::control_plane::{Component, Expect, Want, check};
use crate::rule::{Check, Target};

declare_rule! {
    /// ## What it checks
    /// A kube-apiserver with `--service-account-lookup=false`, or without
    /// `--service-account-extend-token-expiration=false` (extension is on by default).
    ///
    /// ## Why it matters
    /// Without the lookup, a token stays valid after its service account or Secret is deleted,
    /// so removing a leaked account does not revoke it. With extended expiration, the API
    /// server issues projected tokens valid for a year to ease migration from legacy tokens
    /// (they are warned about only when used past their nominal hour), which makes a token
    /// stolen from a pod useful for much longer (MITRE ATT&CK T1528).
    ///
    /// ## Severity
    /// Medium.
    ///
    /// ## Failing example
    /// ```yaml
    /// command:
    /// - kube-apiserver
    /// - --service-account-lookup=false
    /// ```
    ///
    /// ## Passing example
    /// ```yaml
    /// command:
    /// - kube-apiserver
    /// - --service-account-extend-token-expiration=false
    /// ```
    ///
    /// ## Remediation
    /// Remove `--service-account-lookup=false`, and set
    /// `--service-account-extend-token-expiration=false` once workloads read refreshed tokens
    /// (client libraries since Kubernetes 1.22 do).
    ///
    /// ## References
    /// - CIS Kubernetes Benchmark v1.12, 1.2.21, 1.2.30
    /// - Kubernetes documentation, "Managing Service Accounts"
    pub struct ApiServerServiceAccountTokens {
        id: "CP007",
        slug: "apiserver-service-account-tokens",
        title: "API server accepts service account tokens too readily",
        severity: Medium,
        target: Target::PodSpec,
        controls: [
            CisK8s112 "1.2.21",
            CisK8s112 "1.2.30",
            MitreAttack "T1528",
        ],
        remediation: "Keep the service account lookup on and set `--service-account-extend-token-expiration=false`.",
    }
}

/// The flags checked, each with the CIS control it decides.
const EXPECTED: &[Expect] = &[
    Expect::new(
        "service-account-lookup",
        Want::Is {
            value: "true",
            default: "true",
        },
        "1.2.21",
        "tokens of deleted service accounts stay valid",
    ),
    Expect::new(
        "service-account-extend-token-expiration",
        Want::Is {
            value: "false",
            default: "true",
        },
        "1.2.30",
        "projected tokens are issued valid for a year",
    ),
];

impl Check for ApiServerServiceAccountTokens {
    fn check(&self, cx: &mut Context<'_>) {
        check(cx, Component::ApiServer, EXPECTED);
    }
}
