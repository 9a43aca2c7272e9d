use crate::context::Context;
use crate::control_plane::{Component, Expect, Want, check};
use crate::rule::{Check, Target};

declare_rule! {
    /// ## What it checks
    /// A kube-apiserver without `--encryption-provider-config`.
    ///
    /// ## Why it matters
    /// Secrets are then written to etcd as base64 only: anyone who reads etcd's data directory,
    /// a snapshot or a backup reads every credential of the cluster (MITRE ATT&CK T1552.001).
    /// The benchmark leaves this to judgement because a managed control plane may encrypt its
    /// storage by other means; a self-managed API server has no other means.
    ///
    /// ## Severity
    /// High: every Secret is one backup away.
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
    /// - --encryption-provider-config=/etc/kubernetes/encryption.yaml
    /// ```
    ///
    /// ## Remediation
    /// Write an `EncryptionConfiguration` with a `kms` v2 provider (or `aescbc`/`secretbox`
    /// with a key kept off the node's disk where possible), pass it with
    /// `--encryption-provider-config`, then rewrite every Secret
    /// (`kubectl get secrets -A -o json | kubectl replace -f -`).
    ///
    /// ## References
    /// - CIS Kubernetes Benchmark v1.12, 1.2.27, 1.2.28
    /// - Kubernetes documentation, "Encrypting Confidential Data at Rest"
    pub struct ApiServerEncryptionAtRestOff {
        id: "CP009",
        slug: "apiserver-encryption-at-rest-off",
        title: "API server stores Secrets unencrypted in etcd",
        severity: High,
        target: Target::PodSpec,
        controls: [
            CisK8s112 "1.2.27",
            NsaCisa12 "network/control-plane-hardening",
            MitreAttack "T1552.001",
        ],
        remediation: "Pass an EncryptionConfiguration with `--encryption-provider-config`.",
    }
}

/// The flags checked, each with the CIS control it decides.
const EXPECTED: &[Expect] = &[Expect::new(
    "encryption-provider-config",
    Want::Given,
    "1.2.27",
    "Secrets are stored in etcd unencrypted",
)];

impl Check for ApiServerEncryptionAtRestOff {
    fn check(&self, cx: &mut Context<'_>) {
        check(cx, Component::ApiServer, EXPECTED);
    }
}
