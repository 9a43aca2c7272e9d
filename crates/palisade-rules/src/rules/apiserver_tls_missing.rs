use crate::context::Context;
use crate::control_plane::{Component, Expect, Want, check};
use crate::rule::{Check, Target};

declare_rule! {
    /// ## What it checks
    /// A kube-apiserver that leaves out any of the certificates and keys of its connections:
    /// to kubelets (`--kubelet-client-certificate`, `--kubelet-client-key`,
    /// `--kubelet-certificate-authority`), to etcd (`--etcd-certfile`, `--etcd-keyfile`,
    /// `--etcd-cafile`), its own serving certificate (`--tls-cert-file`,
    /// `--tls-private-key-file`), the CA of client certificates (`--client-ca-file`) and the
    /// key that verifies service account tokens (`--service-account-key-file`).
    ///
    /// ## Why it matters
    /// Without a CA for kubelets, the API server does not verify whom it talks to when it
    /// forwards `exec`, `logs` and `port-forward`: a machine in the middle sees the session
    /// (MITRE ATT&CK T1557). Without client certificates, kubelets and etcd cannot tell the API
    /// server from anyone else who reaches them; etcd holds every Secret. Without a serving
    /// certificate the API server makes up a self-signed one that clients cannot check, and
    /// without a client CA it cannot authenticate certificate users at all.
    ///
    /// ## Severity
    /// High.
    ///
    /// ## Failing example
    /// ```yaml
    /// command:
    /// - kube-apiserver
    /// - --etcd-servers=https://127.0.0.1:2379   # no --etcd-certfile
    /// ```
    ///
    /// ## Passing example
    /// ```yaml
    /// command:
    /// - kube-apiserver
    /// - --etcd-cafile=/etc/kubernetes/pki/etcd/ca.crt
    /// - --etcd-certfile=/etc/kubernetes/pki/apiserver-etcd-client.crt
    /// - --etcd-keyfile=/etc/kubernetes/pki/apiserver-etcd-client.key
    /// ```
    ///
    /// ## Remediation
    /// Give each flag its file from the cluster's PKI (kubeadm writes them all under
    /// `/etc/kubernetes/pki`; `--kubelet-certificate-authority` needs kubelet serving
    /// certificates signed by that CA, for example with `serverTLSBootstrap: true`).
    ///
    /// ## References
    /// - CIS Kubernetes Benchmark v1.12, 1.2.4, 1.2.5, 1.2.22-1.2.26
    /// - Kubernetes documentation, "PKI certificates and requirements"
    pub struct ApiServerTlsMissing {
        id: "CP006",
        slug: "apiserver-tls-missing",
        title: "API server's connections are not all authenticated with TLS",
        severity: High,
        target: Target::PodSpec,
        controls: [
            CisK8s112 "1.2.4",
            CisK8s112 "1.2.5",
            CisK8s112 "1.2.22",
            CisK8s112 "1.2.23",
            CisK8s112 "1.2.24",
            CisK8s112 "1.2.25",
            CisK8s112 "1.2.26",
            NsaCisa12 "network/control-plane-hardening",
            MitreAttack "T1557",
        ],
        remediation: "Set the API server's TLS, client CA, kubelet and etcd certificate flags.",
    }
}

/// The flags checked, each with the CIS control it decides.
const EXPECTED: &[Expect] = &[
    Expect::new(
        "kubelet-client-certificate",
        Want::Given,
        "1.2.4",
        "kubelets cannot authenticate the API server",
    ),
    Expect::new(
        "kubelet-client-key",
        Want::Given,
        "1.2.4",
        "kubelets cannot authenticate the API server",
    ),
    Expect::new(
        "kubelet-certificate-authority",
        Want::Given,
        "1.2.5",
        "kubelets' serving certificates are not verified",
    ),
    Expect::new(
        "service-account-key-file",
        Want::Given,
        "1.2.22",
        "no key is named to verify service account tokens",
    ),
    Expect::new(
        "etcd-certfile",
        Want::Given,
        "1.2.23",
        "etcd cannot authenticate the API server",
    ),
    Expect::new(
        "etcd-keyfile",
        Want::Given,
        "1.2.23",
        "etcd cannot authenticate the API server",
    ),
    Expect::new(
        "tls-cert-file",
        Want::Given,
        "1.2.24",
        "the API server serves a self-signed certificate",
    ),
    Expect::new(
        "tls-private-key-file",
        Want::Given,
        "1.2.24",
        "the API server serves a self-signed certificate",
    ),
    Expect::new(
        "client-ca-file",
        Want::Given,
        "1.2.25",
        "client certificates are not verified",
    ),
    Expect::new(
        "etcd-cafile",
        Want::Given,
        "1.2.26",
        "etcd's certificate is not verified",
    ),
];

impl Check for ApiServerTlsMissing {
    fn check(&self, cx: &mut Context<'_>) {
        check(cx, Component::ApiServer, EXPECTED);
    }
}
