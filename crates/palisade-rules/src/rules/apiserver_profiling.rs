use crate::context::Context;
use crate::control_plane::{Component, Expect, Want, check};
use crate::rule::{Check, Target};

declare_rule! {
    /// ## What it checks
    /// A kube-apiserver that does not set `--profiling=false`; profiling is on by default.
    ///
    /// ## Why it matters
    /// `/debug/pprof` tells whoever may read it how the server runs and where it spends its
    /// time, and a CPU profile request makes the server do extra work: information for an
    /// attacker and a cheap way to load the control plane.
    ///
    /// ## Severity
    /// Low.
    ///
    /// ## Failing example
    /// ```yaml
    /// command:
    /// - kube-apiserver
    /// ```
    ///
    /// ## Passing example
    /// ```yaml
    /// command:
    /// - kube-apiserver
    /// - --profiling=false
    /// ```
    ///
    /// ## Remediation
    /// Add `--profiling=false`; turn it on for a debugging session only.
    ///
    /// ## References
    /// - CIS Kubernetes Benchmark v1.12, 1.2.15
    pub struct ApiServerProfiling {
        id: "CP008",
        slug: "apiserver-profiling",
        title: "API server exposes profiling endpoints",
        severity: Low,
        target: Target::PodSpec,
        controls: [
            CisK8s112 "1.2.15",
            NsaCisa12 "network/control-plane-hardening",
        ],
        remediation: "Set `--profiling=false`.",
    }
}

/// The flags checked, each with the CIS control it decides.
const EXPECTED: &[Expect] = &[Expect::new(
    "profiling",
    Want::Is {
        value: "false",
        default: "true",
    },
    "1.2.15",
    "profiling endpoints are served",
)];

impl Check for ApiServerProfiling {
    fn check(&self, cx: &mut Context<'_>) {
        check(cx, Component::ApiServer, EXPECTED);
    }
}
