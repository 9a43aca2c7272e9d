use crate::context::Context;
use crate::rbac::{BINDINGS, report_primitives};
use crate::rule::{Check, Target};

declare_rule! {
    /// ## What it checks
    /// ClusterRoleBindings that grant all three of: `create` on `certificatesigningrequests`,
    /// `update` or `patch` on `certificatesigningrequests/approval`, and `approve` on `signers`.
    /// Control-plane grants of the default policy (`system:*` users and groups such as
    /// `system:kube-controller-manager`, and each controller's service account bound to its own
    /// `system:controller:*` role) are not reported; broad groups such as `system:authenticated`
    /// are. A binding that grants full control (`cluster-admin`, or every verb on every resource)
    /// is reported once, by RBAC001.
    ///
    /// ## Why it matters
    /// With all three, the holder requests and approves a client certificate for any user and
    /// group, `system:masters` included, and authenticates as it for the certificate's lifetime;
    /// certificates cannot be revoked (MITRE ATT&CK T1098).
    ///
    /// ## Severity
    /// Critical: a non-revocable cluster-admin credential.
    ///
    /// ## Failing example
    /// ```yaml
    /// rules:
    /// - apiGroups: [certificates.k8s.io]
    ///   resources: [certificatesigningrequests, certificatesigningrequests/approval]
    ///   verbs: [create, update]
    /// - apiGroups: [certificates.k8s.io]
    ///   resources: [signers]
    ///   verbs: [approve]
    /// ```
    ///
    /// ## Passing example
    /// ```yaml
    /// rules:
    /// - apiGroups: [certificates.k8s.io]
    ///   resources: [certificatesigningrequests]
    ///   verbs: [create, get]
    /// ```
    ///
    /// ## Remediation
    /// Keep approval with the controller manager; restrict `approve` on `signers` to a specific
    /// signer name with `resourceNames`.
    ///
    /// ## References
    /// - CIS Kubernetes Benchmark v1.12, 5.1.11
    /// - Kubernetes documentation, "Certificates and Certificate Signing Requests", authorization
    pub struct CertificateApprovalAccess {
        id: "RBAC009",
        slug: "certificate-approval-access",
        title: "Subject can create and approve certificate requests",
        severity: Critical,
        target: Target::Kinds(BINDINGS),
        controls: [
            CisK8s112 "5.1.11",
            NsaCisa12 "authn-authz/authentication",
            MitreAttack "T1098",
        ],
        remediation: "Keep approval with the controller manager.",
    }
}

impl Check for CertificateApprovalAccess {
    fn models(&self, models: &mut crate::context::Models) {
        crate::rbac::ask(models);
    }

    fn reads(&self) -> &'static [(&'static str, &'static str)] {
        crate::rbac::ROLES
    }

    fn check(&self, cx: &mut Context<'_>) {
        report_primitives(cx, &["approve-certificates"]);
    }
}
