use crate::context::Context;
use crate::control_plane::{Component, Expect, Want, check};
use crate::rule::{Check, Target};

declare_rule! {
    /// ## What it checks
    /// An etcd container (flags or `ETCD_*` variables) without serving and peer certificates
    /// (`--cert-file`, `--key-file`, `--peer-cert-file`, `--peer-key-file`), without client
    /// certificate authentication (`--client-cert-auth`, `--peer-client-cert-auth`, both false
    /// by default), or with self-signed automatic TLS (`--auto-tls`, `--peer-auto-tls`).
    ///
    /// ## Why it matters
    /// etcd holds every object of the cluster, Secrets included. Without client certificate
    /// authentication, anyone who reaches its port reads and writes all of it, which is
    /// cluster-admin and more; without TLS, the traffic between the API server and etcd and
    /// between members is readable on the network. Automatic TLS makes certificates no one can
    /// verify.
    ///
    /// ## Severity
    /// High; an etcd that does not authenticate clients is critical.
    ///
    /// ## Failing example
    /// ```yaml
    /// command:
    /// - etcd
    /// - --listen-client-urls=http://0.0.0.0:2379
    /// ```
    ///
    /// ## Passing example
    /// ```yaml
    /// command:
    /// - etcd
    /// - --cert-file=/etc/kubernetes/pki/etcd/server.crt
    /// - --key-file=/etc/kubernetes/pki/etcd/server.key
    /// - --client-cert-auth=true
    /// - --trusted-ca-file=/etc/kubernetes/pki/etcd/ca.crt
    /// - --peer-cert-file=/etc/kubernetes/pki/etcd/peer.crt
    /// - --peer-key-file=/etc/kubernetes/pki/etcd/peer.key
    /// - --peer-client-cert-auth=true
    /// - --peer-trusted-ca-file=/etc/kubernetes/pki/etcd/ca.crt
    /// ```
    ///
    /// ## Remediation
    /// Give etcd a CA of its own (CIS 2.7), serving and peer certificates from it, and set
    /// `--client-cert-auth=true` and `--peer-client-cert-auth=true`; remove `--auto-tls` and
    /// `--peer-auto-tls`.
    ///
    /// ## References
    /// - CIS Kubernetes Benchmark v1.12, 2.1-2.7
    /// - etcd documentation, "Transport security model"
    pub struct EtcdTlsMissing {
        id: "CP012",
        slug: "etcd-tls-missing",
        title: "etcd accepts clients or peers without certificates",
        severity: High,
        target: Target::PodSpec,
        controls: [
            CisK8s112 "2.1",
            CisK8s112 "2.2",
            CisK8s112 "2.3",
            CisK8s112 "2.4",
            CisK8s112 "2.5",
            CisK8s112 "2.6",
            NsaCisa12 "network/control-plane-hardening",
            MitreAttack "T1552.001",
        ],
        remediation: "Set etcd's certificates and `--client-cert-auth=true`, `--peer-client-cert-auth=true`; no auto TLS.",
    }
}

/// The flags checked, each with the CIS control it decides.
const EXPECTED: &[Expect] = &[
    Expect::new(
        "cert-file",
        Want::Given,
        "2.1",
        "clients reach it without TLS",
    ),
    Expect::new(
        "key-file",
        Want::Given,
        "2.1",
        "clients reach it without TLS",
    ),
    Expect::new(
        "client-cert-auth",
        Want::Is {
            value: "true",
            default: "false",
        },
        "2.2",
        "clients are served without certificates",
    )
    .severity(palisade_core::Severity::Critical),
    Expect::new(
        "auto-tls",
        Want::Is {
            value: "false",
            default: "false",
        },
        "2.3",
        "it makes its own certificates, which no one can verify",
    ),
    Expect::new(
        "peer-cert-file",
        Want::Given,
        "2.4",
        "members talk to each other without TLS",
    ),
    Expect::new(
        "peer-key-file",
        Want::Given,
        "2.4",
        "members talk to each other without TLS",
    ),
    Expect::new(
        "peer-client-cert-auth",
        Want::Is {
            value: "true",
            default: "false",
        },
        "2.5",
        "peers are not authenticated",
    ),
    Expect::new(
        "peer-auto-tls",
        Want::Is {
            value: "false",
            default: "false",
        },
        "2.6",
        "it makes its own peer certificates, which no one can verify",
    ),
];

impl Check for EtcdTlsMissing {
    fn check(&self, cx: &mut Context<'_>) {
        check(cx, Component::Etcd, EXPECTED);
    }
}
