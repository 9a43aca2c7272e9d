use crate::context::Context;
use crate::rule::{Check, Target};

declare_rule! {
    /// ## What it checks
    /// Secrets of type `kubernetes.io/service-account-token`: legacy, long-lived service
    /// account tokens that the token controller fills in for the named ServiceAccount. When
    /// Secrets were read as metadata only (a cluster scan), the controller's
    /// `kubernetes.io/service-account.name` annotation identifies them.
    ///
    /// ## Why it matters
    /// These tokens never expire and are not bound to a pod, so a leaked one (a backup, a
    /// support bundle, anyone allowed to read Secrets in the namespace) stays valid until the
    /// Secret is deleted (MITRE ATT&CK T1528, T1078). Since Kubernetes 1.24 pods get
    /// short-lived projected tokens instead, and since 1.29 unused legacy tokens are
    /// invalidated and purged.
    ///
    /// ## Severity
    /// Medium: a non-expiring credential for the API server.
    ///
    /// ## Failing example
    /// ```yaml
    /// kind: Secret
    /// type: kubernetes.io/service-account-token
    /// metadata:
    ///   annotations: {kubernetes.io/service-account.name: ci}
    /// ```
    ///
    /// ## Passing example
    /// ```yaml
    /// # a projected token with an audience and an expiry, in the pod
    /// volumes:
    /// - name: token
    ///   projected:
    ///     sources:
    ///     - serviceAccountToken: {audience: vault, expirationSeconds: 3600, path: token}
    /// ```
    ///
    /// ## Remediation
    /// Delete the Secret. Pods use projected tokens; external systems get short-lived tokens
    /// from the TokenRequest API (`kubectl create token`) or workload identity federation.
    ///
    /// ## References
    /// - Kubernetes documentation, "Service account tokens", "Legacy service account token cleaner"
    /// - NSA/CISA Kubernetes Hardening Guide v1.2, "Protecting Pod service account tokens"
    pub struct LegacyServiceAccountToken {
        id: "SEC003",
        slug: "legacy-service-account-token",
        title: "Long-lived service account token Secret",
        severity: Medium,
        target: Target::Kinds(&[("", "Secret")]),
        controls: [
            NsaCisa12 "pod-security/service-account-tokens",
            MitreAttack "T1528",
        ],
        remediation: "Delete the token Secret; use projected or TokenRequest tokens, which expire.",
    }
}

impl Check for LegacyServiceAccountToken {
    fn check(&self, cx: &mut Context<'_>) {
        let type_path = palisade_core::JsonPointer::root().join("type");
        // A type of the wrong JSON type is a diagnostic, as for any field read.
        cx.str_at(&type_path);
        let Some(token) = palisade_k8s::credential::token_secret(&cx.object.value) else {
            return;
        };
        let account = token.account;
        cx.report(
            type_path,
            format!("a non-expiring token for ServiceAccount \"{account}\" is kept in this Secret"),
        );
    }
}
