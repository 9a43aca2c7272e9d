use crate::context::Context;
use crate::rule::{Check, Target};
use crate::rules::namespace_scope::NAMESPACED_KINDS;
use crate::settings::{RuleSettings, Setting};

/// `[rules] required-labels`: label keys every workload and Service must carry.
pub(crate) static REQUIRED_LABELS: Setting = Setting {
    key: "required-labels",
    help: "label keys every workload and namespaced object must carry (`app.kubernetes.io/name`); without it the rule does not run",
    example: &["app.kubernetes.io/name", "owner"],
    parse: |entry| {
        let value = entry.trim();
        if !palisade_k8s::names::is_label_key(value) {
            return Err(format!(
                "`required-labels` entries are label keys such as `app.kubernetes.io/name`, found `{value}`"
            ));
        }
        Ok(value.to_string())
    },
};

declare_rule! {
    /// ## What it checks
    /// Workloads of every kind (including custom ones such as Argo Rollouts and OpenShift
    /// DeploymentConfigs) and built-in namespaced objects (Services, ConfigMaps, ...) that lack
    /// one of the labels listed in `palisade.toml`:
    ///
    /// ```toml
    /// [rules]
    /// required-labels = ["app.kubernetes.io/name", "owner"]
    /// ```
    ///
    /// A label with an empty value counts as missing. Without the setting the rule does not
    /// run, and coverage says so.
    ///
    /// ## Why it matters
    /// Ownership and application labels are what incident responders, NetworkPolicies, cost
    /// reports and admission policies select on. An object nobody owns is the one that stays
    /// vulnerable.
    ///
    /// ## Severity
    /// Low: an accountability gap, not an exposure.
    ///
    /// ## Failing example
    /// ```yaml
    /// metadata:
    ///   name: api
    ///   labels: {tier: backend}
    /// ```
    ///
    /// ## Passing example
    /// ```yaml
    /// metadata:
    ///   name: api
    ///   labels: {app.kubernetes.io/name: api, owner: team-shop}
    /// ```
    ///
    /// ## Remediation
    /// Add the labels, preferably through Kustomize `labels:` or the Helm chart's common
    /// labels.
    ///
    /// ## References
    /// - Kubernetes documentation, "Recommended Labels"
    /// - CIS Kubernetes Benchmark v1.12, 5.6.1
    pub struct RequiredLabelsMissing {
        id: "META004",
        slug: "required-labels-missing",
        title: "Object lacks a required label",
        severity: Low,
        target: Target::All,
        controls: [
            CisK8s112 "5.6.1",
            NsaCisa12 "network/namespaces",
        ],
        remediation: "Add the required labels to `metadata.labels`.",
    }
}

impl Check for RequiredLabelsMissing {
    fn settings(&self) -> &'static [&'static Setting] {
        static SETTINGS: &[&Setting] = &[&REQUIRED_LABELS];
        SETTINGS
    }

    fn unconfigured(&self, settings: &RuleSettings) -> Option<&'static str> {
        settings
            .list(&REQUIRED_LABELS)
            .is_empty()
            .then_some("no required labels: set `[rules] required-labels` in palisade.toml")
    }

    fn check(&self, cx: &mut Context<'_>) {
        let id = &cx.object.id;
        let namespaced_builtin = NAMESPACED_KINDS
            .iter()
            .any(|(g, k)| *g == id.group() && *k == id.kind);
        if !namespaced_builtin && palisade_inventory::pod_spec(cx.object).is_none() {
            return;
        }
        let labels_path = palisade_core::JsonPointer::root()
            .join("metadata")
            .join("labels");
        let labels = cx.map_at(&labels_path);
        let missing: Vec<&str> = cx
            .settings
            .list(&REQUIRED_LABELS)
            .iter()
            .filter(|l| {
                labels
                    .and_then(|m| m.get(l.as_str()))
                    .and_then(|v| v.as_str())
                    .is_none_or(str::is_empty)
            })
            .map(String::as_str)
            .collect();
        if !missing.is_empty() {
            let at = if labels.is_some() {
                labels_path
            } else {
                palisade_core::JsonPointer::root().join("metadata")
            };
            cx.report(
                at,
                format!(
                    "missing required label{} {}",
                    if missing.len() > 1 { "s" } else { "" },
                    missing.join(", ")
                ),
            );
        }
    }
}
