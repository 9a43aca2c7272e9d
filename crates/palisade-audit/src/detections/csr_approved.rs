use crate::detection::{Cx, Hit, Trigger};

/// Who approves node certificates automatically.
fn is_automatic_approver(user: &str) -> bool {
    user == "system:kube-controller-manager"
        || user == "system:serviceaccount:kube-system:certificate-controller"
}

crate::detection! {
    /// ## What it checks
    /// A CertificateSigningRequest approved by anyone other than the controller manager
    /// (which approves kubelets' own requests).
    ///
    /// ## Why it matters
    /// An approved CSR for the `kubernetes.io/kube-apiserver-client` signer is a client
    /// certificate for any user or group named in it, `system:masters` included: a
    /// credential that RBAC cannot revoke and that lives until it expires.
    ///
    /// ## Response
    /// Check the subject of the certificate; restrict `update` on
    /// `certificatesigningrequests/approval` and `approve` on signers.
    pub static CSR_APPROVED {
        id: "AUD026",
        slug: "csr-approved",
        title: "Certificate signing request approved by hand",
        severity: Medium,
        mitre: ["T1649"],
        remediation: "Confirm the certificate's subject; restrict who may approve for each signer.",
        triggers: [Trigger::sub(&["update", "patch"], "certificatesigningrequests", "approval")],
        check: crate::detection::Check::Request(check),
    }
}

fn check(cx: &Cx) -> Vec<Hit> {
    if is_automatic_approver(cx.event.user()) || !cx.event.succeeded() {
        return Vec::new();
    }
    vec![Hit::new(format!(
        "{} approved certificate signing request {}",
        cx.actor(),
        cx.object_name()
    ))]
}
