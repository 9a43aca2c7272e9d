use serde_json::Value;

use crate::context::Context;
use crate::rule::{Check, Target};

declare_rule! {
    /// ## What it checks
    /// Pods that get a service account token mounted: `automountServiceAccountToken` is not
    /// `false` on the pod and, when the pod leaves it unset, not `false` on its ServiceAccount
    /// either (the ServiceAccount is looked up in the scanned objects; one that is not in the
    /// scan counts as the default, which mounts the token). The pod's setting overrides the
    /// ServiceAccount's, as in the API server.
    ///
    /// ## Why it matters
    /// Every mounted token is a credential for the API server that anyone with code execution or
    /// a file-read bug in the pod can steal (MITRE ATT&CK T1528, T1552.007). Most applications
    /// never call the API server; their token only helps an attacker.
    ///
    /// ## Severity
    /// Low: the token's value depends on the RBAC it is bound to, which the RBAC rules assess.
    ///
    /// ## Failing example
    /// ```yaml
    /// spec:
    ///   serviceAccountName: web
    ///   containers: [...]
    /// ```
    ///
    /// ## Passing example
    /// ```yaml
    /// spec:
    ///   serviceAccountName: web
    ///   automountServiceAccountToken: false
    ///   containers: [...]
    /// ```
    ///
    /// ## Remediation
    /// Set `automountServiceAccountToken: false` on the ServiceAccount (or the pod). Pods that
    /// call the API server keep it and mount a short-lived projected token with an audience.
    ///
    /// ## References
    /// - CIS Kubernetes Benchmark v1.12, 5.1.6
    /// - NSA/CISA Kubernetes Hardening Guide v1.2, "Protecting Pod service account tokens"
    pub struct ServiceAccountTokenAutomounted {
        id: "POD020",
        slug: "service-account-token-automounted",
        title: "Service account token is mounted automatically",
        severity: Low,
        target: Target::PodSpec,
        controls: [
            CisK8s112 "5.1.6",
            NsaCisa12 "pod-security/service-account-tokens",
            MitreAttack "T1528",
            MitreAttack "T1552.007",
        ],
        remediation: "Set `automountServiceAccountToken: false` on the ServiceAccount or the pod.",
    }
}

impl Check for ServiceAccountTokenAutomounted {
    fn reads(&self) -> &'static [(&'static str, &'static str)] {
        &[("", "ServiceAccount")]
    }

    fn check(&self, cx: &mut Context<'_>) {
        let path = cx.pod_field("automountServiceAccountToken");
        match cx.bool_at(&path) {
            Some(false) => return,
            Some(true) => {
                cx.report(
                    path,
                    "the pod sets automountServiceAccountToken: true".to_string(),
                );
                return;
            }
            None => {}
        }
        let account = service_account_name(cx);
        let declared = cx
            .objects_named(
                ("", "ServiceAccount"),
                cx.object.id.namespace.as_deref(),
                account,
            )
            .into_iter()
            .find(|sa| cx.same_scope(sa));
        let account_setting = declared
            .and_then(|sa| sa.value.get("automountServiceAccountToken"))
            .and_then(Value::as_bool);
        if account_setting == Some(false) {
            return;
        }
        if declared.is_none() && cx.absence_unknown(&format!("ServiceAccount \"{account}\"")) {
            return;
        }
        let why = match declared {
            Some(_) => format!(
                "its ServiceAccount \"{account}\" does not set automountServiceAccountToken: false"
            ),
            None => format!(
                "ServiceAccount \"{account}\" is not in the scanned files, so the default (mount) applies"
            ),
        };
        cx.report(
            path,
            format!("the pod mounts a service account token: the pod does not opt out and {why}"),
        );
    }
}

/// The service account a pod runs as: `serviceAccountName`, the deprecated `serviceAccount`,
/// or `default`.
pub(crate) fn service_account_name<'a>(cx: &mut Context<'a>) -> &'a str {
    let name = cx.pod_field("serviceAccountName");
    let deprecated = cx.pod_field("serviceAccount");
    cx.str_at(&name)
        .filter(|n| !n.is_empty())
        .or_else(|| cx.str_at(&deprecated).filter(|n| !n.is_empty()))
        .unwrap_or("default")
}
