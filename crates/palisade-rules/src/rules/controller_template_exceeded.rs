use crate::context::Context;
use crate::rule::{Check, Target};

declare_rule! {
    /// ## What it checks
    /// Pods, ReplicaSets and Jobs that name a controller the cluster holds (their
    /// `ownerReferences` entry with `controller: true`) but have more power than that
    /// controller's pod template gives: another service account, a service account token the
    /// template does not mount, the node's network, PID or IPC namespace, a container that owns
    /// its node (privileged, `SYS_ADMIN`, a host path that gives the node away), or a host path
    /// to the control plane's credentials. What the API server and mutating webhooks add to a
    /// Pod (the token volume, tolerations, the account's default name, a mesh's sidecar) is
    /// not more power. A ReplicaSet scaled to zero runs no Pods and is not checked. For a
    /// controller with several pod templates (a RayCluster's head and worker groups, a JobSet's
    /// replicated jobs), the object is compared with the templates whose containers it runs
    /// (by name and image), and reported when it has more power than every one of them.
    ///
    /// ## Why it matters
    /// A controller's Pods are copies of its template, so Palisade (like a reviewer) judges
    /// them once, on the template. An owner reference is only a claim, written by whoever
    /// created the object: a Pod made by hand that names a harmless Deployment's ReplicaSet
    /// while running as a cluster-admin account, or privileged, hides among that Deployment's
    /// Pods (MITRE ATT&CK T1036, Masquerading; T1610, Deploy Container). A ReplicaSet from an
    /// earlier revision that still runs Pods with an account the Deployment has since dropped
    /// is found the same way, and so is a DaemonSet's or StatefulSet's Pod of an earlier
    /// revision (an `OnDelete` rollout not finished): when the ControllerRevision it names
    /// records a template that granted the power, the finding names that revision. Palisade
    /// judges such an object on its own spec, by every rule; this finding says why.
    ///
    /// ## Severity
    /// High: the object runs with power its controller does not grant, which is either
    /// tampering or a revision that should have been rolled out.
    ///
    /// ## Failing example
    /// ```yaml
    /// kind: Pod
    /// metadata:
    ///   name: web-6d4cf56db6-x7k2p
    ///   ownerReferences: [{apiVersion: apps/v1, kind: ReplicaSet, name: web-6d4cf56db6, uid: ..., controller: true}]
    /// spec:
    ///   serviceAccountName: backup   # the ReplicaSet's template runs as `web`
    /// ```
    ///
    /// ## Passing example
    /// ```yaml
    /// kind: Pod
    /// metadata:
    ///   name: web-6d4cf56db6-x7k2p
    ///   ownerReferences: [{apiVersion: apps/v1, kind: ReplicaSet, name: web-6d4cf56db6, uid: ..., controller: true}]
    /// spec:
    ///   serviceAccountName: web
    /// ```
    ///
    /// ## Remediation
    /// Find who created the object (the audit log's `create` of it). If it was not its
    /// controller, delete it and review that identity's access. If it is an earlier revision,
    /// finish the rollout or scale it to zero.
    ///
    /// ## References
    /// - Kubernetes documentation, "Owners and Dependents" (owner references are set by
    ///   controllers and by any client that creates the object)
    /// - MITRE ATT&CK T1036, T1610
    pub struct ControllerTemplateExceeded {
        id: "POD036",
        slug: "controller-template-exceeded",
        title: "Object has more power than the controller it names",
        severity: High,
        target: Target::PodSpec,
        controls: [
            MitreAttack "T1036",
            MitreAttack "T1610",
        ],
        remediation: "Find who created the object; delete it if its controller did not, or finish the rollout of its revision.",
    }
}

impl Check for ControllerTemplateExceeded {
    fn check(&self, cx: &mut Context<'_>) {
        let Some(claimed) = cx.inventory.claimed_controller(cx.object_index) else {
            return;
        };
        if cx.inventory.controller_of(cx.object_index).is_some() {
            return;
        }
        let controller = &cx.inventory.objects[claimed];
        // What the object is compared with, and why it has more power than that.
        let (compared, why, whence) = match cx.inventory.beyond_its_template(cx.object_index) {
            Some((_, template, why)) => (
                format!(
                    " and runs the containers of its template {}",
                    template.label()
                ),
                why,
                String::new(),
            ),
            None => {
                let Some(why) =
                    palisade_inventory::powers::beyond_controller(cx.object, controller)
                else {
                    return;
                };
                (String::new(), why, earlier_revision(cx))
            }
        };
        cx.report(
            palisade_core::JsonPointer::root()
                .join("metadata")
                .join("ownerReferences"),
            format!(
                "{} {} names {} {} as its controller{compared} but {why}: it is judged on its own spec{whence}",
                cx.object.id.kind,
                cx.object.id.display_name(),
                controller.id.kind,
                controller.id.display_name()
            ),
        );
    }
}

/// For a Pod of an earlier revision whose template granted the power, where it comes from.
fn earlier_revision(cx: &Context<'_>) -> String {
    cx.inventory
        .earlier_revision(cx.object_index)
        .filter(|(_, template)| {
            palisade_inventory::powers::beyond_template(cx.object, *template).is_none()
        })
        .map(|(revision, _)| {
            format!(
                "; it runs the template of the controller's earlier revision {} (a rollout not finished, or `OnDelete`)",
                cx.inventory.objects[revision].id.display_name()
            )
        })
        .unwrap_or_default()
}
