use palisade_audit::audit_policy::AuditPolicy;
use palisade_audit::coverage::{by_resource, leaks};
use palisade_audit::detection::Level;
use palisade_core::words::and_list;

use crate::context::{Context, Reported};
use crate::rule::{Check, Target};

declare_rule! {
    /// ## What it checks
    /// An API server audit policy (`audit.k8s.io` Policy, the file of
    /// `--audit-policy-file`) that writes credentials into the audit log: Secrets created or
    /// updated at the `Request` level or more, Secrets read at `RequestResponse` (the
    /// response holds them), service-account tokens requested at `RequestResponse` (the
    /// response holds the token), TokenReviews at `Request` or more (the request holds the
    /// token being reviewed). A rule that does so for some requesters only (`userGroups`) is
    /// reported too. The policy is applied as the API server applies it: the first matching
    /// rule decides.
    ///
    /// ## Why it matters
    /// Audit logs travel: to files on the control plane, a webhook, a log pipeline, a SIEM,
    /// and their retention is long. Every Secret value and token written there can be read by
    /// whoever reads the logs, long after the Secret was rotated in the cluster (MITRE ATT&CK
    /// T1552). The Kubernetes documentation logs Secrets at the `Metadata` level for this
    /// reason.
    ///
    /// ## Severity
    /// High: every Secret value and token written is disclosed to whoever reads the logs,
    /// for as long as they are kept.
    ///
    /// ## Failing example
    /// ```yaml
    /// apiVersion: audit.k8s.io/v1
    /// kind: Policy
    /// rules:
    /// - level: RequestResponse
    /// ```
    ///
    /// ## Passing example
    /// ```yaml
    /// apiVersion: audit.k8s.io/v1
    /// kind: Policy
    /// rules:
    /// - level: Metadata
    ///   resources:
    ///   - group: ""
    ///     resources: ["secrets", "serviceaccounts/token"]
    ///   - group: authentication.k8s.io
    ///     resources: ["tokenreviews"]
    /// - level: RequestResponse
    /// ```
    ///
    /// ## Remediation
    /// Put a rule logging `secrets`, `serviceaccounts/token` and `tokenreviews` at the
    /// `Metadata` level before the rules that log bodies. `palisade audit coverage --policy
    /// FILE` shows what each detection still sees.
    ///
    /// ## References
    /// - Kubernetes documentation, "Auditing", audit policy
    /// - CIS Kubernetes Benchmark v1.12, 3.2.2
    /// - NSA/CISA Kubernetes Hardening Guide v1.2, "Audit logging and threat detection"
    pub struct AuditPolicyLogsCredentials {
        id: "LOG001",
        slug: "audit-policy-logs-credentials",
        title: "Audit policy writes credentials into the audit log",
        severity: High,
        target: Target::Kinds(&[("audit.k8s.io", "Policy")]),
        controls: [
            CisK8s112 "3.2.2",
            NsaCisa12 "audit/logging",
            MitreAttack "T1552",
        ],
        remediation: "Log `secrets`, `serviceaccounts/token` and `tokenreviews` at the `Metadata` level, in a rule before those that log bodies.",
    }
}

impl Check for AuditPolicyLogsCredentials {
    fn check(&self, cx: &mut Context<'_>) {
        // A policy that cannot be read is LOG002's.
        let Ok(policy) = AuditPolicy::from_value(&cx.object.value, &[]) else {
            return;
        };
        let found = leaks(&policy);
        let mut rules: Vec<usize> = found.iter().map(|l| l.rule).collect();
        rules.sort_unstable();
        rules.dedup();
        for rule in rules {
            let here: Vec<_> = found.iter().filter(|l| l.rule == rule).collect();
            // Requests by requester and level: `secrets (create, update) at Request`.
            let mut groups: Vec<(Option<&String>, Level, Vec<String>)> = Vec::new();
            for leak in &here {
                let key = (leak.only.as_ref(), leak.logged_at);
                match groups.iter_mut().find(|(o, l, _)| (*o, *l) == key) {
                    Some((.., requests)) => requests.push(leak.request.clone()),
                    None => groups.push((key.0, key.1, vec![leak.request.clone()])),
                }
            }
            let logged: Vec<String> = groups
                .iter()
                .map(|(only, level, requests)| {
                    let whom = only.map_or(String::new(), |o| format!(" {o}"));
                    format!("{}{whom} at {level}", and_list(&by_resource(requests)))
                })
                .collect();
            let mut holds: Vec<String> = Vec::new();
            for leak in &here {
                if !holds.iter().any(|h| h == leak.holds) {
                    holds.push(leak.holds.to_string());
                }
            }
            let path = palisade_core::JsonPointer::root()
                .join("rules")
                .join((rule - 1).to_string());
            cx.report_with(Reported::new(
                path,
                format!(
                    "rule {rule} logs {}: the audit log holds {}",
                    logged.join("; "),
                    and_list(&holds)
                ),
            ));
        }
    }
}
