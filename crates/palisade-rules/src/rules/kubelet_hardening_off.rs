use crate::context::Context;
use crate::control_plane::{Setting, Want, check_kubelet};
use crate::rule::{Check, Target};

declare_rule! {
    /// ## What it checks
    /// A kubelet configuration that runs with a `streamingConnectionIdleTimeout` of zero, turns
    /// off `makeIPTablesUtilChains` or the `RotateKubeletServerCertificate` feature gate, or does
    /// not set `rotateCertificates: true` (false by default in the file).
    ///
    /// A zero timeout fails only in the configuration a kubelet runs with (its `/configz`, read
    /// by `scan --cluster --kubelet-configs`, or its file merged with its command line by
    /// `palisade node`): the kubelet replaces a zero in its file by its default, four hours, and
    /// kubeadm writes `streamingConnectionIdleTimeout: 0s` in every file it makes. Only
    /// `--streaming-connection-idle-timeout=0` on the command line turns the timeout off.
    ///
    /// ## Why it matters
    /// An idle timeout of zero keeps `exec` and `port-forward` sessions open forever, a way to
    /// hold a foothold and to exhaust the node. Without its iptables chains the kubelet does not
    /// keep the rules that drop traffic to closed ports in place. Without rotation, the
    /// kubelet's client and serving certificates expire (and the node leaves the cluster) or are
    /// renewed by hand; a certificate that is never rotated is a credential that lives as long
    /// as the node.
    ///
    /// ## Severity
    /// Medium.
    ///
    /// ## Failing example
    /// ```yaml
    /// makeIPTablesUtilChains: false
    /// rotateCertificates: false
    /// ```
    ///
    /// ## Passing example
    /// ```yaml
    /// streamingConnectionIdleTimeout: 4h0m0s
    /// makeIPTablesUtilChains: true
    /// rotateCertificates: true
    /// ```
    ///
    /// ## Remediation
    /// Remove `streamingConnectionIdleTimeout: 0` (or set a duration), remove
    /// `makeIPTablesUtilChains: false` and `featureGates.RotateKubeletServerCertificate: false`,
    /// and set `rotateCertificates: true`.
    ///
    /// ## References
    /// - CIS Kubernetes Benchmark v1.12, 4.2.5, 4.2.6, 4.2.10, 4.2.11
    /// - Kubernetes documentation, "Configure Certificate Rotation for the Kubelet"
    pub struct KubeletHardeningOff {
        id: "NODE002",
        slug: "kubelet-hardening-off",
        title: "Kubelet's protective defaults are turned off",
        severity: Medium,
        target: Target::Kinds(&[("kubelet.config.k8s.io", "KubeletConfiguration")]),
        controls: [
            CisK8s112 "4.2.5",
            CisK8s112 "4.2.6",
            CisK8s112 "4.2.10",
            CisK8s112 "4.2.11",
            MitreAttack "T1557",
        ],
        remediation: "Keep an idle timeout, the iptables chains and certificate rotation.",
    }
}

/// The settings checked, each with the CIS control it decides (unset, a setting takes the
/// configuration file's default, which is not always the command line's).
const SETTINGS: &[Setting] = &[
    Setting {
        pointer: "/streamingConnectionIdleTimeout",
        want: Want::NonZeroDuration,
        control: "4.2.5",
        risk: "streaming sessions never time out",
    },
    Setting {
        pointer: "/makeIPTablesUtilChains",
        want: Want::Is {
            value: "true",
            default: "true",
        },
        control: "4.2.6",
        risk: "the kubelet does not manage its iptables chains",
    },
    Setting {
        pointer: "/rotateCertificates",
        want: Want::Is {
            value: "true",
            default: "false",
        },
        control: "4.2.10",
        risk: "the kubelet's client certificate is not rotated",
    },
    Setting {
        pointer: "/featureGates/RotateKubeletServerCertificate",
        want: Want::Is {
            value: "true",
            default: "true",
        },
        control: "4.2.11",
        risk: "the kubelet's serving certificate is not rotated",
    },
];

impl Check for KubeletHardeningOff {
    fn check(&self, cx: &mut Context<'_>) {
        check_kubelet(cx, SETTINGS);
    }
}
