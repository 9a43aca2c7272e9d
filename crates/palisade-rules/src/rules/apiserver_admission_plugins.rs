use crate::context::Context;
use crate::control_plane::{Component, Expect, Want, check};
use crate::rule::{Check, Target};

declare_rule! {
    /// ## What it checks
    /// A kube-apiserver that enables `AlwaysAdmit`, disables `ServiceAccount` or
    /// `NamespaceLifecycle`, or does not enable `NodeRestriction` (which is not on by default).
    ///
    /// ## Why it matters
    /// `NodeRestriction` limits what a kubelet may change to its own Node and the pods bound
    /// to it; without it, a compromised node can relabel itself or other nodes to attract
    /// workloads with secrets (taints and `nodeSelector`s are then no boundary). `AlwaysAdmit`
    /// turns admission off. Disabling `ServiceAccount` lets pods name accounts that do not
    /// exist and skips token mounting rules; disabling `NamespaceLifecycle` lets objects be
    /// created in namespaces being deleted, or in ones that do not exist.
    ///
    /// ## Severity
    /// Medium.
    ///
    /// ## Failing example
    /// ```yaml
    /// command:
    /// - kube-apiserver
    /// - --enable-admission-plugins=AlwaysAdmit
    /// ```
    ///
    /// ## Passing example
    /// ```yaml
    /// command:
    /// - kube-apiserver
    /// - --enable-admission-plugins=NodeRestriction
    /// ```
    ///
    /// ## Remediation
    /// Add `NodeRestriction` to `--enable-admission-plugins`, remove `AlwaysAdmit` from it, and
    /// remove `ServiceAccount` and `NamespaceLifecycle` from `--disable-admission-plugins`.
    ///
    /// ## References
    /// - CIS Kubernetes Benchmark v1.12, 1.2.10, 1.2.12, 1.2.13, 1.2.14
    /// - Kubernetes documentation, "Admission Control in Kubernetes"
    pub struct ApiServerAdmissionPlugins {
        id: "CP003",
        slug: "apiserver-admission-plugins",
        title: "API server's admission plugins leave gaps",
        severity: Medium,
        target: Target::PodSpec,
        controls: [
            CisK8s112 "1.2.10",
            CisK8s112 "1.2.12",
            CisK8s112 "1.2.13",
            CisK8s112 "1.2.14",
            NsaCisa12 "network/control-plane-hardening",
            MitreAttack "T1611",
        ],
        remediation: "Enable NodeRestriction; do not enable AlwaysAdmit or disable ServiceAccount and NamespaceLifecycle.",
    }
}

/// The flags checked, each with the CIS control it decides.
const EXPECTED: &[Expect] = &[
    Expect::new(
        "enable-admission-plugins",
        Want::Excludes("AlwaysAdmit", &[]),
        "1.2.10",
        "admission control lets every request in",
    )
    .severity(palisade_core::Severity::Critical),
    Expect::new(
        "disable-admission-plugins",
        Want::Excludes("ServiceAccount", &[]),
        "1.2.12",
        "the ServiceAccount admission plugin is disabled",
    ),
    Expect::new(
        "disable-admission-plugins",
        Want::Excludes("NamespaceLifecycle", &[]),
        "1.2.13",
        "the NamespaceLifecycle admission plugin is disabled",
    ),
    Expect::new(
        "enable-admission-plugins",
        Want::Includes("NodeRestriction", &[]),
        "1.2.14",
        "kubelets may change other nodes and their labels",
    ),
];

impl Check for ApiServerAdmissionPlugins {
    fn check(&self, cx: &mut Context<'_>) {
        check(cx, Component::ApiServer, EXPECTED);
    }
}
