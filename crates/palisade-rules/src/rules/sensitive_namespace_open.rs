use crate::context::Context;
use crate::rule::{Check, Target};
use crate::settings::Setting;
use palisade_net::policy::{Direction, Namespaces, Peer};

/// `[rules] sensitive-namespaces`: namespaces besides kube-system and the monitoring ones
/// whose pods other namespaces must not reach freely.
pub(crate) static SENSITIVE_NAMESPACES: Setting = Setting {
    key: "sensitive-namespaces",
    help: "namespaces, besides kube-system, monitoring and the Istio and cert-manager ones, that other namespaces must not reach on every port (NET012)",
    example: &["vault", "payments"],
    parse: |entry| {
        let value = entry.trim();
        if palisade_k8s::names::is_dns_label(value) {
            Ok(value.to_string())
        } else {
            Err(format!(
                "`sensitive-namespaces` entries are namespace names, found `{value}`"
            ))
        }
    },
};

/// Namespaces sensitive by default: the control plane's, monitoring (which scrapes every
/// pod and holds credentials to do so), the mesh's control plane and certificate issuers.
const DEFAULT_SENSITIVE: &[&str] = &[
    "kube-system",
    "monitoring",
    "prometheus",
    "istio-system",
    "cert-manager",
];

declare_rule! {
    /// ## What it checks
    /// NetworkPolicies in sensitive namespaces (`kube-system`, `monitoring`, `prometheus`,
    /// `istio-system`, `cert-manager`, and those listed in `[rules] sensitive-namespaces`)
    /// with an ingress rule that admits pods of other namespaces on every port: no `from`, or
    /// a `namespaceSelector` that matches other namespaces, with no `ports`. Rules limited to
    /// ports (CoreDNS's 53 for every namespace, a metrics port) are the normal way to serve
    /// the cluster and are not reported.
    ///
    /// ## Why it matters
    /// Components in these namespaces hold the cluster's most powerful credentials (controller
    /// tokens, metrics scrapers that reach every pod, certificate authorities). Letting every
    /// namespace reach them on every port exposes their admin and debug endpoints to any
    /// compromised workload (MITRE ATT&CK T1210).
    ///
    /// ## Severity
    /// High: lateral movement from any namespace into the cluster's control components.
    ///
    /// ## Failing example
    /// ```yaml
    /// kind: NetworkPolicy
    /// metadata: {name: allow-cluster, namespace: monitoring}
    /// spec:
    ///   podSelector: {}
    ///   ingress:
    ///   - from: [{namespaceSelector: {}}]
    /// ```
    ///
    /// ## Passing example
    /// ```yaml
    /// kind: NetworkPolicy
    /// metadata: {name: allow-scrape, namespace: monitoring}
    /// spec:
    ///   podSelector: {matchLabels: {app: grafana}}
    ///   ingress:
    ///   - from: [{namespaceSelector: {}}]
    ///     ports: [{port: 3000}]
    /// ```
    ///
    /// ## Remediation
    /// Name the ports other namespaces need, and the namespaces (by
    /// `kubernetes.io/metadata.name`) that need them.
    ///
    /// ## References
    /// - NSA/CISA Kubernetes Hardening Guide v1.2, "Network policies"
    /// - MITRE ATT&CK T1210, Exploitation of Remote Services
    pub struct SensitiveNamespaceOpen {
        id: "NET012",
        slug: "sensitive-namespace-open",
        title: "Sensitive namespace admits other namespaces on every port",
        severity: High,
        target: Target::Kinds(&[("networking.k8s.io", "NetworkPolicy")]),
        controls: [
            NsaCisa12 "network/network-policies",
            MitreAttack "T1210",
        ],
        remediation: "Limit the rule to the ports, and the namespaces, that need them.",
    }
}

impl Check for SensitiveNamespaceOpen {
    fn models(&self, models: &mut crate::context::Models) {
        crate::network::ask(models);
    }

    fn settings(&self) -> &'static [&'static Setting] {
        static SETTINGS: &[&Setting] = &[&SENSITIVE_NAMESPACES];
        SETTINGS
    }

    fn check(&self, cx: &mut Context<'_>) {
        let Some(ns) = cx.object.id.namespace.clone() else {
            return;
        };
        let sensitive = DEFAULT_SENSITIVE.contains(&ns.as_str())
            || cx.settings.list(&SENSITIVE_NAMESPACES).contains(&ns);
        if !sensitive {
            return;
        }
        let facts = crate::network::facts(cx);
        let Some(policy) = facts.policy_of(cx.object_index) else {
            return;
        };
        if !policy.isolates(Direction::Ingress) {
            return;
        }
        let namespaces = &facts.network().namespaces;
        let others = |sel: &serde_json::Value| {
            palisade_net::policy::selects_everything(Some(sel))
                || namespaces.names().any(|other| {
                    other != ns
                        && palisade_core::selector::label_selector_matches(
                            sel,
                            namespaces.labels(other),
                        )
                })
        };
        for (r, rule) in policy.ingress.iter().enumerate() {
            if rule.ports.is_some() {
                continue;
            }
            let admits_others = match &rule.peers {
                None => true,
                Some(peers) => peers.iter().any(|p| {
                    matches!(p, Peer::Pods(pods) if matches!(&pods.namespaces, Namespaces::Selected(sel) if others(sel)))
                }),
            };
            if admits_others {
                cx.report(
                    palisade_core::JsonPointer::root()
                        .join("spec")
                        .join("ingress")
                        .join(r),
                    format!("ingress[{r}] admits pods of other namespaces into {ns} on every port"),
                );
            }
        }
    }
}
