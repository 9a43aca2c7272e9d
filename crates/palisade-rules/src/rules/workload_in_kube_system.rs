use palisade_core::tree::Tree as _;
use serde_json::Value;

use crate::context::Context;
use crate::rule::{Check, Target};

declare_rule! {
    /// ## What it checks
    /// Workloads in the `kube-system` namespace that are not cluster add-ons. Add-ons are
    /// recognised by name (CoreDNS, kube-proxy, CNI and CSI agents, the cloud providers'
    /// agents, metrics-server, logging agents, ...) or by the labels the addon manager, static
    /// control-plane pods and providers set (`kubernetes.io/cluster-service`,
    /// `addonmanager.kubernetes.io/mode`, `tier`, the providers' component labels), on the
    /// workload or its pod template. `k8s-app` alone is not enough: applications copied from
    /// add-on examples carry it too.
    ///
    /// ## Why it matters
    /// `kube-system` holds the control plane's service accounts and Secrets (bootstrap
    /// tokens, controller credentials), is usually exempted from Pod Security admission and
    /// policy engines, and many grants are scoped to it. An application deployed there shares
    /// all of that: its compromise reaches the control plane's identities, and its own
    /// misconfigurations pass unchecked (MITRE ATT&CK T1610, Deploy Container).
    ///
    /// ## Severity
    /// Medium: it removes a boundary rather than opening a hole by itself.
    ///
    /// ## Failing example
    /// ```yaml
    /// kind: Deployment
    /// metadata: {name: billing-api, namespace: kube-system}
    /// ```
    ///
    /// ## Passing example
    /// ```yaml
    /// kind: Deployment
    /// metadata: {name: billing-api, namespace: billing}
    /// ```
    ///
    /// ## Remediation
    /// Move the workload to a namespace of its own, with its own service account, Pod
    /// Security level and NetworkPolicies.
    ///
    /// ## References
    /// - Kubernetes documentation, "Namespaces" (kube-system is for objects created by the
    ///   Kubernetes system)
    /// - NSA/CISA Kubernetes Hardening Guide v1.2, "Namespaces"
    pub struct WorkloadInKubeSystem {
        id: "NS003",
        slug: "workload-in-kube-system",
        title: "Application workload in kube-system",
        severity: Medium,
        target: Target::PodSpec,
        controls: [
            NsaCisa12 "network/namespaces",
            MitreAttack "T1610",
        ],
        remediation: "Move the workload to a namespace of its own.",
    }
}

impl Check for WorkloadInKubeSystem {
    fn check(&self, cx: &mut Context<'_>) {
        if cx.object.id.namespace.as_deref() != Some("kube-system") {
            return;
        }
        // Pods and ReplicaSets of a controller in the inventory are judged on it.
        if cx.inventory.controller_of(cx.object_index).is_some() {
            return;
        }
        let name = cx.object.id.name.as_deref().unwrap_or("");
        let mut labels = Vec::new();
        if let Some(l) = cx
            .object
            .value
            .at("/metadata/labels")
            .and_then(Value::as_object)
        {
            labels.push(l);
        }
        if let Some(l) = palisade_inventory::pod_labels(cx.object) {
            labels.push(l);
        }
        if palisade_k8s::names::is_cluster_addon(name, &labels) {
            return;
        }
        cx.report(
            palisade_core::JsonPointer::root().join("metadata").join("namespace"),
            format!(
                "{} {name} runs in kube-system but is not a cluster add-on: it shares the control plane's service accounts, Secrets and admission exemptions",
                cx.object.id.kind
            ),
        );
    }
}
