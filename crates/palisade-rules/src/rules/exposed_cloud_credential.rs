use crate::context::Context;
use crate::rule::{Check, Target};

declare_rule! {
    /// ## What it checks
    /// Cloud provider credentials outside a Secret: AWS access key ids (`AKIA`, `ASIA`, `ABIA`,
/// `ACCA` followed by 16 base-32 characters) and secret access keys (40 characters under an
/// AWS secret key's name), Google Cloud service-account key files (JSON of type
/// `service_account` with a private key) and API keys (`AIza` + 35 characters), Azure storage
/// and Service Bus keys in connection strings (`AccountKey=`, `SharedAccessKey=`) and shared
/// access signatures (`sig=` with a signed version). AWS's documented example keys
/// (`AKIAIOSFODNN7EXAMPLE`) are not reported. Values are never printed: a finding gives the detector, the field, at most the
    /// format's public prefix and a stable tag (`#1a2b3c4d`).
    ///
    /// ## Why it matters
    /// A cloud key opens the account beyond the cluster: storage buckets, databases, the
/// cloud control plane, often with broad IAM rights (MITRE ATT&CK T1552.001).
    ///
    /// ## Severity
    /// High: the key works from anywhere until it is revoked.
    ///
    /// ## Failing example
    /// ```yaml
    /// env:
/// - name: AWS_ACCESS_KEY_ID
///   value: AKIAZ7QK3LM4NP5RT6VW
    /// ```
    ///
    /// ## Passing example
    /// ```yaml
    /// serviceAccountName: uploader   # IRSA / Workload Identity: no key at all
    /// ```
    ///
    /// ## Remediation
    /// Revoke the key; give the workload a cloud identity (IRSA, EKS Pod Identity, GKE Workload Identity, Azure Workload Identity) instead of a key.
    ///
    /// ## References
    /// - MITRE ATT&CK, "Unsecured Credentials" (T1552)
    /// - NSA/CISA Kubernetes Hardening Guide v1.2, "Secrets"
    pub struct ExposedCloudCredential {
        id: "SEC011",
        slug: "exposed-cloud-credential",
        title: "Cloud provider credential written in plain text",
        severity: High,
        target: Target::All,
        controls: [MitreAttack "T1552.001", NsaCisa12 "network/secrets"],
        remediation: "Revoke the key; give the workload a cloud identity (IRSA, EKS Pod Identity, GKE Workload Identity, Azure Workload Identity) instead of a key.",
    }
}

impl Check for ExposedCloudCredential {
    fn models(&self, models: &mut crate::context::Models) {
        crate::secrets::ask(models);
    }

    fn check(&self, cx: &mut Context<'_>) {
        crate::secrets::report_rule(cx, &Self::metadata().id);
    }
}
