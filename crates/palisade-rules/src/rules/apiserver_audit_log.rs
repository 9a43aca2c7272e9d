use crate::context::Context;
use crate::control_plane::{Component, Expect, Want, check};
use crate::rule::{Check, Target};

declare_rule! {
    /// ## What it checks
    /// A kube-apiserver without `--audit-log-path`, or whose log keeps fewer than 30 days
    /// (`--audit-log-maxage`), 10 rotated files (`--audit-log-maxbackup`) or 100 MB per file
    /// (`--audit-log-maxsize`).
    ///
    /// ## Why it matters
    /// The audit log is the only record of who read which Secret, exec'd into which pod or
    /// bound which role. Without it, an intrusion leaves no trace in the cluster, and
    /// `palisade audit` has nothing to read; kept too briefly, the evidence is rotated away
    /// before anyone looks (MITRE ATT&CK T1562.008). An audit webhook backend
    /// (`--audit-webhook-config-file`) sends events elsewhere, but the benchmark asks for the
    /// log file as well.
    ///
    /// ## Severity
    /// Medium: no direct exposure, but an attack goes unseen.
    ///
    /// ## Failing example
    /// ```yaml
    /// command:
    /// - kube-apiserver
    /// - --audit-log-maxage=7
    /// ```
    ///
    /// ## Passing example
    /// ```yaml
    /// command:
    /// - kube-apiserver
    /// - --audit-log-path=/var/log/kubernetes/audit/audit.log
    /// - --audit-log-maxage=30
    /// - --audit-log-maxbackup=10
    /// - --audit-log-maxsize=100
    /// - --audit-policy-file=/etc/kubernetes/audit-policy.yaml
    /// ```
    ///
    /// ## Remediation
    /// Set `--audit-log-path` (on a mounted host path), `--audit-log-maxage=30`,
    /// `--audit-log-maxbackup=10` and `--audit-log-maxsize=100` or more, with an
    /// `--audit-policy-file` that logs what matters (LOG001 checks the policy).
    ///
    /// ## References
    /// - CIS Kubernetes Benchmark v1.12, 1.2.16, 1.2.17, 1.2.18, 1.2.19
    /// - Kubernetes documentation, "Auditing"
    pub struct ApiServerAuditLog {
        id: "CP005",
        slug: "apiserver-audit-log",
        title: "API server's audit log is missing or kept too briefly",
        severity: Medium,
        target: Target::PodSpec,
        controls: [
            CisK8s112 "1.2.16",
            CisK8s112 "1.2.17",
            CisK8s112 "1.2.18",
            CisK8s112 "1.2.19",
            NsaCisa12 "audit/logging",
            MitreAttack "T1562.008",
        ],
        remediation: "Set `--audit-log-path` and keep 30 days, 10 files of 100 MB.",
    }
}

/// The flags checked, each with the CIS control it decides.
const EXPECTED: &[Expect] = &[
    Expect::new(
        "audit-log-path",
        Want::Given,
        "1.2.16",
        "requests are not written to an audit log",
    ),
    Expect::new(
        "audit-log-maxage",
        Want::AtLeast(30),
        "1.2.17",
        "audit logs are kept fewer than 30 days",
    ),
    Expect::new(
        "audit-log-maxbackup",
        Want::AtLeast(10),
        "1.2.18",
        "fewer than 10 rotated audit logs are kept",
    ),
    Expect::new(
        "audit-log-maxsize",
        Want::AtLeast(100),
        "1.2.19",
        "audit logs rotate before 100 MB",
    ),
];

impl Check for ApiServerAuditLog {
    fn check(&self, cx: &mut Context<'_>) {
        check(cx, Component::ApiServer, EXPECTED);
    }
}
