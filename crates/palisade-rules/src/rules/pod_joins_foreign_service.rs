use palisade_core::tree::Tree as _;
use serde_json::{Map, Value};

use crate::context::Context;
use crate::rule::{Check, Target};

declare_rule! {
    /// ## What it checks
    /// Pods judged through their controller (they name it in `ownerReferences` and have no
    /// more power than its template) whose labels put them behind a Service of their
    /// namespace that their controller's template does not: a Service whose selector matches
    /// the Pod's labels but not the template's (with the labels the controller adds to each
    /// Pod, such as `pod-template-hash`).
    ///
    /// ## Why it matters
    /// A controller's Pods are copies of its template, so they are judged once, on the
    /// template, and the template decides which Services send them traffic. A Pod made by hand
    /// that names a harmless ReplicaSet, or one relabelled after it started, can add the labels
    /// another application's Service selects and receive that application's traffic: its
    /// clients' requests, tokens and credentials (MITRE ATT&CK T1557, Adversary-in-the-Middle).
    /// Labels added by mutating webhooks that no Service selects on (a mesh's) are not
    /// reported.
    ///
    /// ## Severity
    /// High: traffic meant for another workload reaches a Pod that was never reviewed as its
    /// backend.
    ///
    /// ## Failing example
    /// ```yaml
    /// kind: Pod
    /// metadata:
    ///   labels: {app: web, pod-template-hash: 6d4cf56db6, role: payments}  # Service payments selects role=payments
    ///   ownerReferences: [{kind: ReplicaSet, name: web-6d4cf56db6, controller: true, ...}]
    /// ```
    ///
    /// ## Passing example
    /// ```yaml
    /// kind: Pod
    /// metadata:
    ///   labels: {app: web, pod-template-hash: 6d4cf56db6}
    ///   ownerReferences: [{kind: ReplicaSet, name: web-6d4cf56db6, controller: true, ...}]
    /// ```
    ///
    /// ## Remediation
    /// Find who created or relabelled the Pod (the audit log). Delete it if its controller did
    /// not make it so; otherwise put the label in the controller's template, where it is
    /// reviewed.
    ///
    /// ## References
    /// - Kubernetes documentation, "Service" (a Service sends traffic to every Pod its selector
    ///   matches, whoever created it)
    /// - MITRE ATT&CK T1557
    pub struct PodJoinsForeignService {
        id: "POD037",
        slug: "pod-joins-foreign-service",
        title: "Pod is behind a Service its controller's Pods are not behind",
        severity: High,
        target: Target::Kinds(&[("", "Pod")]),
        controls: [
            MitreAttack "T1557",
        ],
        remediation: "Find who labelled the Pod; delete it, or put the label in its controller's template.",
    }
}

impl Check for PodJoinsForeignService {
    fn check(&self, cx: &mut Context<'_>) {
        let (Some((own, theirs)), Some(parent)) = (
            cx.inventory.relabelled(cx.object_index),
            cx.inventory.controlling_parent(cx.object_index),
        ) else {
            return;
        };
        let controller = &cx.inventory.objects[parent];
        let namespace = cx.object.id.namespace.clone();
        let selects = |selector: &Map<String, Value>, labels: &Map<String, Value>| {
            !selector.is_empty()
                && palisade_core::selector::map_selector_matches(selector, Some(labels))
        };
        let mut services: Vec<String> = cx
            .inventory
            .of_kind("", "Service")
            .filter(|service| service.id.namespace == namespace)
            .filter_map(|service| {
                let selector = service.value.at("/spec/selector")?.as_object()?;
                (selects(selector, &own) && !selects(selector, &theirs))
                    .then(|| service.id.display_name().to_string())
            })
            .collect();
        if services.is_empty() {
            return;
        }
        services.sort();
        cx.report(
            palisade_core::JsonPointer::root().join("metadata").join("labels"),
            format!(
                "Pod {} is behind Service {}, which the Pods of its controller {} {} are not behind: its labels differ from the template's",
                cx.object.id.display_name(),
                services.join(", "),
                controller.id.kind,
                controller.id.display_name()
            ),
        );
    }
}
