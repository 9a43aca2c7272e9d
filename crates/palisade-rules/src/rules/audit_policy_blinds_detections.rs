use palisade_audit::Settings;
use palisade_audit::audit_policy::AuditPolicy;
use palisade_audit::coverage::{blinding, by_resource, coverage};
use palisade_audit::engine::{Selection, selected};
use palisade_core::Severity;

use crate::context::{Context, Reported};
use crate::rule::{Check, Target};

declare_rule! {
    /// ## What it checks
    /// An API server audit policy (`audit.k8s.io` Policy) under which Palisade's runtime
    /// detections cannot see what they read: a rule that logs the requests a detection looks
    /// at below the level it reads (a pod created, logged at `Metadata`, cannot be told
    /// privileged or not), or does not log them, or no rule that matches them. One finding
    /// per policy rule, naming the requests and the detections it blinds. The detections are
    /// those that run without settings (allow-lists and the activity trail are left out),
    /// each with the level `palisade audit rules ID` shows. Leaving Secrets' bodies out of the
    /// log is not reported here (logging them is LOG001). A policy that cannot be read (a
    /// misspelt field, an unknown level) is reported too: the API server would refuse it or
    /// read it otherwise than meant.
    ///
    /// ## Why it matters
    /// Runtime detection over audit logs sees only what the policy writes. A policy that logs
    /// pods, roles or bindings without their bodies leaves privileged pods, wildcard roles
    /// and cluster-admin bindings invisible, and the analysis reports nothing (MITRE ATT&CK
    /// T1562.008, disable or modify cloud logs). CIS 3.2.2 asks that the audit policy cover
    /// the key security concerns of the cluster.
    ///
    /// ## Severity
    /// Per finding. Medium when the rule blinds a detection for everyone; low when only for
    /// some requesters, namespaces or objects (nodes, `kube-system`).
    ///
    /// ## Failing example
    /// ```yaml
    /// apiVersion: audit.k8s.io/v1
    /// kind: Policy
    /// rules:
    /// - level: Metadata
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
    /// - level: Metadata
    ///   verbs: ["get", "list", "watch"]
    /// - level: RequestResponse
    /// ```
    ///
    /// ## Remediation
    /// Log writes of pods, workloads, RBAC objects, Services, Ingresses, ConfigMaps and
    /// PersistentVolumes at the `Request` level or more (pods, workloads, PersistentVolumes
    /// and roles at `RequestResponse`); `examples/audit/policy.yaml` is such a policy.
    /// `palisade audit coverage --policy FILE` shows each detection's coverage, and with
    /// `--suggest` prints the policy with the rules that cover them put first, taking no
    /// logging from anyone and writing no credential.
    ///
    /// ## References
    /// - Kubernetes documentation, "Auditing", audit policy
    /// - CIS Kubernetes Benchmark v1.12, 3.2.2
    /// - NSA/CISA Kubernetes Hardening Guide v1.2, "Audit logging and threat detection"
    pub struct AuditPolicyBlindsDetections {
        id: "LOG002",
        slug: "audit-policy-blinds-detections",
        title: "Audit policy hides from runtime detection what it reads",
        severity: Medium,
        target: Target::Kinds(&[("audit.k8s.io", "Policy")]),
        controls: [
            CisK8s112 "3.2.2",
            NsaCisa12 "audit/logging",
            MitreAttack "T1562.008",
        ],
        remediation: "Log the writes the detections read at the level they read: `palisade audit coverage --policy FILE --suggest` writes the rules to put first.",
    }
}

/// Most detections, kinds of request and requesters named in one finding.
const NAMED: usize = 5;

/// The first [`NAMED`] of `items`, and how many more.
fn first_few(items: &[String]) -> String {
    palisade_core::words::first_few(items, NAMED)
}

impl Check for AuditPolicyBlindsDetections {
    fn check(&self, cx: &mut Context<'_>) {
        let root = palisade_core::JsonPointer::root();
        let policy = match AuditPolicy::from_value(&cx.object.value, &[]) {
            Ok(policy) => policy,
            Err(error) => {
                let path = match &error {
                    palisade_audit::audit_policy::PolicyError::Rule { rule, .. } => {
                        root.join("rules").join((rule - 1).to_string())
                    }
                    _ => root,
                };
                cx.report_with(Reported::new(
                    path,
                    format!("the audit policy cannot be read: {error}"),
                ));
                return;
            }
        };
        let detections = selected(&Settings::default(), &Selection::default(), true);
        for blind in blinding(&coverage(&policy, &detections)) {
            let (path, which) = match blind.rule {
                Some(rule) => (
                    root.join("rules").join(rule.to_string()),
                    format!("rule {}", rule + 1),
                ),
                None => (root.join("rules"), "no rule".to_string()),
            };
            // `by groups system:nodes` says all that `by groups system:nodes in namespace
            // kube-system` does.
            let whom: Vec<String> = blind
                .whom
                .iter()
                .filter(|w| !blind.whom.iter().any(|o| w.starts_with(&format!("{o} "))))
                .cloned()
                .collect();
            let whom = if blind.everyone || whom.is_empty() {
                String::new()
            } else {
                format!(" {}", first_few(&whom).replace(", ", "; "))
            };
            let requests = format!("{}{whom}", first_few(&by_resource(&blind.requests)));
            let logs = match (blind.rule, blind.logged_at) {
                (None, _) => format!("matches {requests}: they are not logged"),
                (Some(_), palisade_audit::detection::Level::None) => {
                    format!("does not log {requests}")
                }
                (Some(_), level) => format!("logs {requests} at {level}"),
            };
            let named: Vec<String> = blind
                .detections
                .iter()
                .map(|(id, slug, needs)| format!("{id} {slug} ({needs})"))
                .collect();
            let mut reported = Reported::new(
                path,
                format!(
                    "{which} {logs}: {} cannot see what {} read",
                    first_few(&named),
                    if blind.detections.len() == 1 {
                        "it"
                    } else {
                        "they"
                    },
                ),
            );
            if !blind.everyone {
                reported.severity = Some(Severity::Low);
            }
            cx.report_with(reported);
        }
    }
}
