use crate::context::Context;
use crate::control_plane::{Component, Expect, Want, check};
use crate::rule::{Check, Target};

declare_rule! {
    /// ## What it checks
    /// A kube-controller-manager that serves profiling (`--profiling` is true by default),
    /// runs every controller with its own broad credentials (`--use-service-account-credentials`
    /// is false by default), leaves out `--service-account-private-key-file` or
    /// `--root-ca-file`, turns the `RotateKubeletServerCertificate` feature gate off, or listens
    /// on other addresses than the loopback (`--bind-address` is 0.0.0.0 by default).
    ///
    /// ## Why it matters
    /// With its own credentials for every controller, a flaw in one controller acts with the
    /// permissions of all of them; per-controller service accounts keep each to its role. The
    /// key signs every service account token; the root CA is what pods use to verify the API
    /// server. Its secure port (10257) answers health and metrics and, with profiling, its
    /// internals; bound to every interface, that is reachable from the network.
    ///
    /// ## Severity
    /// Medium.
    ///
    /// ## Failing example
    /// ```yaml
    /// command:
    /// - kube-controller-manager
    /// - --bind-address=0.0.0.0
    /// ```
    ///
    /// ## Passing example
    /// ```yaml
    /// command:
    /// - kube-controller-manager
    /// - --bind-address=127.0.0.1
    /// - --profiling=false
    /// - --use-service-account-credentials=true
    /// - --service-account-private-key-file=/etc/kubernetes/pki/sa.key
    /// - --root-ca-file=/etc/kubernetes/pki/ca.crt
    /// ```
    ///
    /// ## Remediation
    /// Set each flag as in the passing example (kubeadm sets all but `--profiling=false`).
    ///
    /// ## References
    /// - CIS Kubernetes Benchmark v1.12, 1.3.2-1.3.7
    /// - Kubernetes documentation, "kube-controller-manager" command-line reference
    pub struct ControllerManagerWeakSettings {
        id: "CP010",
        slug: "controller-manager-weak-settings",
        title: "Controller manager runs with weak settings",
        severity: Medium,
        target: Target::PodSpec,
        controls: [
            CisK8s112 "1.3.2",
            CisK8s112 "1.3.3",
            CisK8s112 "1.3.4",
            CisK8s112 "1.3.5",
            CisK8s112 "1.3.6",
            CisK8s112 "1.3.7",
            NsaCisa12 "network/control-plane-hardening",
            MitreAttack "T1078",
        ],
        remediation: "Set `--profiling=false`, `--use-service-account-credentials=true` and `--bind-address=127.0.0.1`, with the key and root CA files.",
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
        "1.3.2",
        "profiling endpoints are served",
    )
    .severity(palisade_core::Severity::Low),
    Expect::new(
        "use-service-account-credentials",
        Want::Is {
            value: "true",
            default: "false",
        },
        "1.3.3",
        "every controller acts with the controller manager's own credentials",
    ),
    Expect::new(
        "service-account-private-key-file",
        Want::Given,
        "1.3.4",
        "no key is named to sign service account tokens",
    ),
    Expect::new(
        "root-ca-file",
        Want::Given,
        "1.3.5",
        "pods get no CA to verify the API server with",
    ),
    Expect::new(
        "feature-gates",
        Want::Excludes("RotateKubeletServerCertificate=false", &[]),
        "1.3.6",
        "kubelet serving certificates are not rotated",
    ),
    Expect::new(
        "bind-address",
        Want::Is {
            value: "127.0.0.1",
            default: "0.0.0.0",
        },
        "1.3.7",
        "its secure port listens beyond the loopback",
    ),
];

impl Check for ControllerManagerWeakSettings {
    fn check(&self, cx: &mut Context<'_>) {
        check(cx, Component::ControllerManager, EXPECTED);
    }
}
