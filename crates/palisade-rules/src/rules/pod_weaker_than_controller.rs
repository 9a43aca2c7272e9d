use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};

use palisade_core::JsonPointer;
use palisade_inventory::{Object, PodSpec};
use serde_json::Value;

use crate::context::Context;
use crate::pss::Level;
use crate::pss::admission::{PolicyVersion, Violation, by_field, evaluate};
use crate::rule::{Check, Target};

declare_rule! {
    /// ## What it checks
    /// Pods judged through their controller (a ReplicaSet, Job or ReplicationController the
    /// cluster holds, a StatefulSet whose update revision they are of, or a DaemonSet or
    /// StatefulSet whose template as it is now the ControllerRevision they name records) that fail a check of
    /// the Pod Security Standards' Restricted profile their controller's template passes (for
    /// a Pod of a DaemonSet's or StatefulSet's earlier revision, the template that revision's
    /// ControllerRevision records, when the scan holds it): a
    /// container running as root where the template's does not, an added capability, privilege
    /// escalation allowed, an `Unconfined` seccomp or AppArmor profile, a `hostPort`, ... The
    /// checks are the Pod Security admission plugin's (the same as POD031's), compared field
    /// by field with containers and volumes matched by name. Containers and volumes the
    /// template does not have (a mesh's sidecar and its init container, an agent's socket) are
    /// not compared, nor are ephemeral containers (POD038 reports those). What gives more power
    /// than that (another account, host namespaces, a container that owns its node) makes the
    /// Pod its own workload, which POD036 reports.
    ///
    /// ## Why it matters
    /// A controller's Pods are copies of its template, so the workload rules judge the template
    /// once. A Pod's security settings cannot be changed after it is created, so a Pod that is
    /// weaker than its template was made so: by hand, with an owner reference naming a
    /// reviewed ReplicaSet, or by a mutating webhook that loosens what it was given. Either way
    /// it runs with less isolation than the workload that was reviewed (MITRE ATT&CK T1036,
    /// Masquerading; T1610, Deploy Container).
    ///
    /// ## Severity
    /// Medium: less isolation than reviewed, short of the powers POD036 reports.
    ///
    /// ## Failing example
    /// ```yaml
    /// kind: Pod
    /// metadata:
    ///   ownerReferences: [{apiVersion: apps/v1, kind: ReplicaSet, name: web-6d4cf56db6, controller: true, ...}]
    /// spec:
    ///   containers:
    ///   - name: web
    ///     securityContext: {runAsUser: 0}   # the template's runs as 10001
    /// ```
    ///
    /// ## Passing example
    /// ```yaml
    /// kind: Pod
    /// metadata:
    ///   ownerReferences: [{apiVersion: apps/v1, kind: ReplicaSet, name: web-6d4cf56db6, controller: true, ...}]
    /// spec:
    ///   containers:
    ///   - name: web
    ///     securityContext: {runAsUser: 10001}
    /// ```
    ///
    /// ## Remediation
    /// Find who created the Pod (the audit log's `create` of it) and which mutating webhooks
    /// changed it. Delete it if its controller did not make it so; fix the webhook otherwise.
    ///
    /// ## References
    /// - Kubernetes documentation, "Pod Security Standards"
    /// - MITRE ATT&CK T1036, T1610
    pub struct PodWeakerThanController {
        id: "POD039",
        slug: "pod-weaker-than-controller",
        title: "Pod is less restricted than its controller's template",
        severity: Medium,
        target: Target::Kinds(&[("", "Pod")]),
        controls: [
            MitreAttack "T1036",
            MitreAttack "T1610",
        ],
        remediation: "Find who created or mutated the Pod; delete it if its controller did not make it so.",
    }
}

impl Check for PodWeakerThanController {
    fn check(&self, cx: &mut Context<'_>) {
        let (Some((holder, template)), Some(parent), Some(pod)) = (
            cx.inventory.made_from(cx.object_index),
            cx.inventory.controlling_parent(cx.object_index),
            palisade_inventory::pod_spec(cx.object),
        ) else {
            return;
        };
        let recorded_in = match holder == parent {
            true => String::new(),
            false => format!(
                " recorded in revision {}",
                cx.inventory.objects[holder].id.display_name()
            ),
        };
        let holder_index = holder;
        let (controller, holder) = (&cx.inventory.objects[parent], &cx.inventory.objects[holder]);
        let passed_by_template = cx.derived(|_| Failed::default()).of(holder_index, || {
            restricted(holder, &template)
                .iter()
                .filter_map(|v| place(v, template.value, None))
                .collect()
        });
        let weaker = restricted(cx.object, &pod).into_iter().filter(|violation| {
            place(violation, pod.value, Some(template.value))
                .is_some_and(|at| !passed_by_template.contains(&at))
        });
        for (path, violations) in by_field(weaker) {
            let controls: Vec<&str> = violations.iter().map(|v| v.control).collect();
            cx.report(
                JsonPointer::parse(&path).unwrap_or_default(),
                format!(
                    "Pod {} fails Pod Security {} where the template of its controller {} {}{recorded_in} passes: {}",
                    cx.object.id.display_name(),
                    controls.join(" and "),
                    controller.id.kind,
                    controller.id.display_name(),
                    violations[0].message
                ),
            );
        }
    }
}

/// Where each template fails the Restricted profile ([`place`]), by the inventory index of
/// the object holding it: found once for all the Pods made from it (a ReplicaSet's hundreds).
#[derive(Default)]
struct Failed(Mutex<HashMap<usize, Arc<HashSet<String>>>>);

impl Failed {
    fn of(&self, holder: usize, find: impl FnOnce() -> HashSet<String>) -> Arc<HashSet<String>> {
        let known = self
            .0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .get(&holder)
            .cloned();
        known.unwrap_or_else(|| {
            // Found without holding the lock: another thread may find it too, alike.
            let found = Arc::new(find());
            self.0
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner)
                .insert(holder, found.clone());
            found
        })
    }
}

/// The Restricted profile's violations of a pod spec (latest version).
fn restricted(object: &Object, pod: &PodSpec<'_>) -> Vec<Violation> {
    let metadata = palisade_core::pointer::lookup(&object.value, pod.metadata_pointer);
    evaluate(
        metadata,
        pod.value,
        Level::Restricted,
        PolicyVersion::LATEST,
    )
}

/// Where a violation is, with containers and volumes named rather than counted
/// (`runAsUser containers web/securityContext/runAsUser`); `None` for a container or volume
/// `template` (when given) does not have, and for ephemeral containers.
///
/// An AppArmor profile is placed by container whether it is written as the annotation or as
/// the field: the API server copies a template's annotation into the Pod's fields.
fn place(violation: &Violation, spec: &Value, template: Option<&Value>) -> Option<String> {
    let check = violation.check;
    const APP_ARMOR: &str =
        "/metadata/annotations/container.apparmor.security.beta.kubernetes.io~1";
    if let Some(name) = violation.path.strip_prefix(APP_ARMOR) {
        let name = name.replace("~1", "/").replace("~0", "~");
        let in_template = |template: &Value| {
            ["containers", "initContainers"].iter().any(|list| {
                template
                    .get(*list)
                    .and_then(Value::as_array)
                    .into_iter()
                    .flatten()
                    .any(|c| c.get("name").and_then(Value::as_str) == Some(name.as_str()))
            })
        };
        if template.is_some_and(|template| !in_template(template)) {
            return None;
        }
        return Some(format!(
            "{check} containers {name}/securityContext/appArmorProfile/type"
        ));
    }
    let Some(rest) = violation.path.strip_prefix("/spec/") else {
        return Some(format!("{check} {}", violation.path));
    };
    let mut parts = rest.splitn(3, '/');
    let (list, index, field) = (parts.next()?, parts.next(), parts.next().unwrap_or(""));
    if list == "ephemeralContainers" {
        return None;
    }
    if !matches!(list, "containers" | "initContainers" | "volumes") {
        return Some(format!("{check} {}", violation.path));
    }
    let index: usize = index?.parse().ok()?;
    let name = spec.get(list)?.get(index)?.get("name")?.as_str()?;
    if let Some(template) = template {
        let listed = template.get(list).and_then(Value::as_array)?;
        if !listed
            .iter()
            .any(|c| c.get("name").and_then(Value::as_str) == Some(name))
        {
            return None;
        }
    }
    Some(format!("{check} {list} {name}/{field}"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_template_is_judged_once_for_all_its_pods() {
        let failed = Failed::default();
        let calls = std::cell::Cell::new(0);
        let find = |what: &str| {
            calls.set(calls.get() + 1);
            HashSet::from([what.to_string()])
        };
        assert!(failed.of(3, || find("three")).contains("three"));
        assert!(failed.of(3, || find("again")).contains("three"));
        assert!(failed.of(4, || find("four")).contains("four"));
        assert_eq!(calls.get(), 2);
    }

    fn violation(path: &str) -> Violation {
        Violation {
            check: "appArmorProfile",
            control: "baseline/apparmor",
            path: path.to_string(),
            message: String::new(),
        }
    }

    /// The annotation a template carries and the field the API server gives its Pods are one
    /// place; a container the template lacks has none.
    #[test]
    fn an_app_armor_profile_is_placed_by_container_however_it_is_written() {
        let spec = json!({"containers": [{"name": "web"}, {"name": "istio-proxy"}]});
        let template = json!({"containers": [{"name": "web"}]});
        let annotation =
            violation("/metadata/annotations/container.apparmor.security.beta.kubernetes.io~1web");
        let field = violation("/spec/containers/0/securityContext/appArmorProfile/type");
        assert_eq!(
            place(&annotation, &template, None),
            place(&field, &spec, Some(&template))
        );
        let sidecar = violation("/spec/containers/1/securityContext/appArmorProfile/type");
        assert_eq!(place(&sidecar, &spec, Some(&template)), None);
        let sidecar = violation(
            "/metadata/annotations/container.apparmor.security.beta.kubernetes.io~1istio-proxy",
        );
        assert_eq!(place(&sidecar, &spec, Some(&template)), None);
    }
}
