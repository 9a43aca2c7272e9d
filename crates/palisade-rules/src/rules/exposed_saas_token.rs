use crate::context::Context;
use crate::rule::{Check, Target};

declare_rule! {
    /// ## What it checks
    /// API keys of hosted services outside a Secret: Slack bot, user and app tokens
/// (`xoxb-`, `xoxp-`, `xapp-`, ...) and incoming-webhook URLs, Stripe secret and restricted
/// keys (`sk_live_`, `rk_live_`, and the test-mode `sk_test_`), Twilio API keys (`SK` + 32
/// hex digits) and SendGrid keys (`SG.` + 22 + `.` + 43 characters). Values are never printed: a finding gives the detector, the field, at most the
    /// format's public prefix and a stable tag (`#1a2b3c4d`).
    ///
    /// ## Why it matters
    /// These keys act as the organisation: post to its Slack, charge or refund through its
/// payment account, send mail and SMS in its name (MITRE ATT&CK T1552.001).
    ///
    /// ## Severity
    /// High: the key works from anywhere until it is revoked.
    ///
    /// ## Failing example
    /// ```yaml
    /// data:
///   SLACK_WEBHOOK: https://hooks.slack.com/services/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
    /// ```
    ///
    /// ## Passing example
    /// ```yaml
    /// envFrom:
/// - secretRef: {name: slack}
    /// ```
    ///
    /// ## Remediation
    /// Revoke the key at the provider and deliver the new one from a Secret.
    ///
    /// ## References
    /// - MITRE ATT&CK, "Unsecured Credentials" (T1552)
    /// - NSA/CISA Kubernetes Hardening Guide v1.2, "Secrets"
    pub struct ExposedSaasToken {
        id: "SEC013",
        slug: "exposed-saas-token",
        title: "SaaS API key written in plain text",
        severity: High,
        target: Target::All,
        controls: [MitreAttack "T1552.001", NsaCisa12 "network/secrets"],
        remediation: "Revoke the key at the provider and deliver the new one from a Secret.",
    }
}

impl Check for ExposedSaasToken {
    fn models(&self, models: &mut crate::context::Models) {
        crate::secrets::ask(models);
    }

    fn check(&self, cx: &mut Context<'_>) {
        crate::secrets::report_rule(cx, &Self::metadata().id);
    }
}
