use palisade_inventory::ContainerKind;
use palisade_k8s::image::ImageRef;
use serde_json::Value;

use crate::context::Context;
use crate::rule::{Check, Target};
use crate::settings::Setting;

/// `[rules] registry-mirrors`: registries an image-rewriting webhook moves Pods' images to.
pub(crate) static REGISTRY_MIRRORS: Setting = Setting {
    key: "registry-mirrors",
    help: "registry hosts or path prefixes a mutating webhook rewrites Pods' images to (k8s-image-swapper, a Kyverno policy): an image under one of them is the template's image it mirrors",
    example: &[
        "123456789012.dkr.ecr.eu-west-1.amazonaws.com",
        "mirror.example.com/hub",
    ],
    parse: |entry| super::untrusted_registry::registry_prefix("registry-mirrors", entry),
};

declare_rule! {
    /// ## What it checks
    /// Pods judged through their controller (a ReplicaSet, Job or ReplicationController the
    /// cluster holds, a StatefulSet whose update revision they are of, or a DaemonSet or
    /// StatefulSet whose template as it is now the ControllerRevision they name records, and whose template
    /// they do not exceed in power) whose container runs
    /// another image than the container of the same name in that template: another
    /// registry, repository, tag or digest. A digest added to the template's tag (a mutating
    /// webhook that pins tags to digests, such as Kyverno's `mutateDigest`) is the same
    /// image; containers the template does not have (a mesh's injected sidecar) are not
    /// compared. Pods of a StatefulSet's or DaemonSet's earlier revision (a rolling update in
    /// progress, or `OnDelete`) run that revision's images: they are compared with the
    /// template that revision's ControllerRevision records when the scan holds it (a cluster
    /// read does), and not checked otherwise (manifests without their revisions, whose
    /// DaemonSet Pods are then not checked at all). An ephemeral container (`kubectl
    /// debug`) is reported on the Pod of any controller: no template declares one. Where a mutating webhook rewrites
    /// Pods' images to a registry mirror, list the mirror in `[rules] registry-mirrors`:
    /// `mirror.example.com/hub/docker.io/library/nginx:1.27` (or `.../library/nginx:1.27`,
    /// `.../nginx:1.27`) is then the template's `nginx:1.27`.
    ///
    /// ## Why it matters
    /// A controller's Pods are copies of its template, so the image rules (and a reviewer)
    /// judge the template's images. A Pod's container image can be changed in place
    /// (`kubectl set image pod/...`, a `patch` of the Pod), and a Pod made by hand can name a
    /// harmless ReplicaSet: either way the Pod runs code that was never reviewed, under the
    /// controller's name (MITRE ATT&CK T1525, Implant Internal Image; T1036, Masquerading).
    /// The controller does not undo it: a ReplicaSet only counts its Pods.
    ///
    /// ## Severity
    /// High: the workload runs an image nobody declared.
    ///
    /// ## Failing example
    /// ```yaml
    /// kind: Pod
    /// metadata:
    ///   ownerReferences: [{apiVersion: apps/v1, kind: ReplicaSet, name: web-6d4cf56db6, controller: true, ...}]
    /// spec:
    ///   containers: [{name: web, image: 'registry.example.com/web:debug'}]  # the template runs web:1.4.2
    /// ```
    ///
    /// ## Passing example
    /// ```yaml
    /// kind: Pod
    /// metadata:
    ///   ownerReferences: [{apiVersion: apps/v1, kind: ReplicaSet, name: web-6d4cf56db6, controller: true, ...}]
    /// spec:
    ///   containers: [{name: web, image: 'registry.example.com/web:1.4.2@sha256:...'}]
    /// ```
    ///
    /// ## Remediation
    /// Find who changed or created the Pod (the audit log's `patch`, `update` or `create` of
    /// it). Delete the Pod so that its controller replaces it from the template, and review
    /// that identity's access; ship image changes through the controller's template.
    ///
    /// ## References
    /// - Kubernetes documentation, "Pods: Pod update and replacement" (a Pod's container
    ///   `image` is one of the few fields that can be changed in place)
    /// - MITRE ATT&CK T1525, T1036
    pub struct PodImageDiffersFromController {
        id: "POD038",
        slug: "pod-image-differs-from-controller",
        title: "Pod runs an image its controller's template does not declare",
        severity: High,
        target: Target::Kinds(&[("", "Pod")]),
        controls: [
            MitreAttack "T1525",
            MitreAttack "T1036",
        ],
        remediation: "Find who changed the Pod's image; delete the Pod so that its controller recreates it, and change images through the template.",
    }
}

impl Check for PodImageDiffersFromController {
    fn settings(&self) -> &'static [&'static Setting] {
        static SETTINGS: &[&Setting] = &[&REGISTRY_MIRRORS];
        SETTINGS
    }

    fn check(&self, cx: &mut Context<'_>) {
        let Some(parent) = cx.inventory.controlling_parent(cx.object_index) else {
            return;
        };
        let controller = &cx.inventory.objects[parent];
        let Some(pod) = palisade_inventory::pod_spec(cx.object) else {
            return;
        };
        let (kind, name) = (&controller.id.kind, controller.id.display_name());
        // No template declares an ephemeral container: `kubectl debug` adds it to the Pod.
        for container in pod
            .containers()
            .filter(|c| c.kind == ContainerKind::Ephemeral)
        {
            cx.report(
                container.pointer.join("image"),
                format!(
                    "Pod {} runs `{}` in {}, which a debugging session added and its controller {kind} {name} does not declare",
                    cx.object.id.display_name(),
                    image(container.value),
                    container.describe(),
                ),
            );
        }
        let Some((holder, template)) = cx.inventory.made_from(cx.object_index) else {
            return;
        };
        let declared_by = match holder == parent {
            true => format!("its controller {kind} {name}"),
            false => format!(
                "revision {} of its controller {kind} {name}",
                cx.inventory.objects[holder].id.display_name()
            ),
        };
        let mirrors = cx.settings.list(&REGISTRY_MIRRORS);
        for container in pod.containers() {
            let Some(declared) = template
                .containers()
                .find(|t| t.kind == container.kind && t.name() == container.name())
            else {
                continue;
            };
            let (runs, declared) = (image(container.value), image(declared.value));
            let (running, template) = (ImageRef::parse(runs), ImageRef::parse(declared));
            if running.runs_declared(&template)
                || mirrors
                    .iter()
                    .any(|mirror| running.runs_declared_via(&template, mirror))
            {
                continue;
            }
            cx.report(
                container.pointer.join("image"),
                format!(
                    "Pod {} runs `{runs}` in {} where {declared_by} declares `{declared}`: it runs code its controller does not declare",
                    cx.object.id.display_name(),
                    container.describe(),
                ),
            );
        }
    }
}

/// A container's image (empty when it has none).
fn image(container: &Value) -> &str {
    container.get("image").and_then(Value::as_str).unwrap_or("")
}
