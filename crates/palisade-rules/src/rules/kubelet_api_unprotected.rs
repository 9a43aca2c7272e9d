use crate::context::Context;
use crate::control_plane::{Setting, Want, check_kubelet};
use crate::rule::{Check, Target};

declare_rule! {
    /// ## What it checks
    /// A kubelet configuration file (`KubeletConfiguration`) that enables anonymous
    /// authentication, authorizes with `AlwaysAllow`, names no client CA
    /// (`authentication.x509.clientCAFile`), or opens the read-only port (`readOnlyPort` other
    /// than 0). Unset, the file's defaults are safe (anonymous off, `Webhook`, port 0) but for the
    /// client CA; a kubelet started with command-line flags instead is not seen here.
    ///
    /// ## Why it matters
    /// The kubelet's API (port 10250) runs commands in any container on the node, reads their
    /// logs and lists their pods: with anonymous access and `AlwaysAllow`, anyone who reaches
    /// the node is root in every container on it (MITRE ATT&CK T1609), the path of several
    /// cryptomining campaigns. The read-only port (10255) serves the pod list, with environment
    /// values, without any authentication.
    ///
    /// ## Severity
    /// High.
    ///
    /// ## Failing example
    /// ```yaml
    /// authentication:
    ///   anonymous:
    ///     enabled: true
    /// authorization:
    ///   mode: AlwaysAllow
    /// ```
    ///
    /// ## Passing example
    /// ```yaml
    /// authentication:
    ///   anonymous:
    ///     enabled: false
    ///   x509:
    ///     clientCAFile: /etc/kubernetes/pki/ca.crt
    /// authorization:
    ///   mode: Webhook
    /// readOnlyPort: 0
    /// ```
    ///
    /// ## Remediation
    /// Set `authentication.anonymous.enabled: false`, `authorization.mode: Webhook`,
    /// `authentication.x509.clientCAFile` to the cluster CA and `readOnlyPort: 0`, then restart
    /// the kubelet.
    ///
    /// ## References
    /// - CIS Kubernetes Benchmark v1.12, 4.2.1-4.2.4
    /// - Kubernetes documentation, "Kubelet authentication/authorization"
    pub struct KubeletApiUnprotected {
        id: "NODE001",
        slug: "kubelet-api-unprotected",
        title: "Kubelet API answers unauthenticated or unauthorized requests",
        severity: High,
        target: Target::Kinds(&[("kubelet.config.k8s.io", "KubeletConfiguration")]),
        controls: [
            CisK8s112 "4.2.1",
            CisK8s112 "4.2.2",
            CisK8s112 "4.2.3",
            CisK8s112 "4.2.4",
            MitreAttack "T1609",
        ],
        remediation: "Turn off anonymous access, authorize with Webhook, name the client CA and set `readOnlyPort: 0`.",
    }
}

/// The settings checked, each with the CIS control it decides (unset, a setting takes the
/// configuration file's default, which is not always the command line's).
const SETTINGS: &[Setting] = &[
    Setting {
        pointer: "/authentication/anonymous/enabled",
        want: Want::Is {
            value: "false",
            default: "false",
        },
        control: "4.2.1",
        risk: "requests without credentials are served",
    },
    Setting {
        pointer: "/authorization/mode",
        want: Want::Not {
            value: "AlwaysAllow",
            default: "Webhook",
        },
        control: "4.2.2",
        risk: "every request to the kubelet's API is allowed",
    },
    Setting {
        pointer: "/authentication/x509/clientCAFile",
        want: Want::Given,
        control: "4.2.3",
        risk: "client certificates are not verified",
    },
    Setting {
        pointer: "/readOnlyPort",
        want: Want::Is {
            value: "0",
            default: "0",
        },
        control: "4.2.4",
        risk: "pods and their settings are served without authentication",
    },
];

impl Check for KubeletApiUnprotected {
    fn check(&self, cx: &mut Context<'_>) {
        check_kubelet(cx, SETTINGS);
    }
}
