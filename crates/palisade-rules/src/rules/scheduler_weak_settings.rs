use crate::context::Context;
use crate::control_plane::{Component, Expect, Want, check};
use crate::rule::{Check, Target};

declare_rule! {
    /// ## What it checks
    /// A kube-scheduler that does not set `--profiling=false` (true by default) or
    /// `--bind-address=127.0.0.1` (0.0.0.0 by default).
    ///
    /// ## Why it matters
    /// The scheduler's secure port (10259) serves health, metrics and, with profiling, its
    /// internals; bound to every interface it is reachable from the network, where a profile
    /// request loads the component that places every pod.
    ///
    /// ## Severity
    /// Low.
    ///
    /// ## Failing example
    /// ```yaml
    /// command:
    /// - kube-scheduler
    /// ```
    ///
    /// ## Passing example
    /// ```yaml
    /// command:
    /// - kube-scheduler
    /// - --bind-address=127.0.0.1
    /// - --profiling=false
    /// ```
    ///
    /// ## Remediation
    /// Set `--profiling=false` and `--bind-address=127.0.0.1`.
    ///
    /// ## References
    /// - CIS Kubernetes Benchmark v1.12, 1.4.1, 1.4.2
    pub struct SchedulerWeakSettings {
        id: "CP011",
        slug: "scheduler-weak-settings",
        title: "Scheduler serves profiling or listens beyond the loopback",
        severity: Low,
        target: Target::PodSpec,
        controls: [
            CisK8s112 "1.4.1",
            CisK8s112 "1.4.2",
            NsaCisa12 "network/control-plane-hardening",
        ],
        remediation: "Set `--profiling=false` and `--bind-address=127.0.0.1`.",
    }
}

/// The flags checked, each with the CIS control it decides.
const EXPECTED: &[Expect] = &[
    Expect::new(
        "profiling",
        Want::Is {
            value: "false",
            default: "true",
        },
        "1.4.1",
        "profiling endpoints are served",
    ),
    Expect::new(
        "bind-address",
        Want::Is {
            value: "127.0.0.1",
            default: "0.0.0.0",
        },
        "1.4.2",
        "its secure port listens beyond the loopback",
    ),
];

impl Check for SchedulerWeakSettings {
    fn check(&self, cx: &mut Context<'_>) {
        check(cx, Component::Scheduler, EXPECTED);
    }
}
