//! Whether an object that names a controller runs with no more power than that controller's
//! pod template gives. A Pod, ReplicaSet or Job whose controller is in the inventory is judged
//! through the controller (once, on its template); an owner reference is only a claim,
//! written by whoever created the object, so one made by hand with a forged reference could
//! otherwise hide its own account or privileges behind a harmless template. Such an object is
//! judged on its own spec instead ([`crate::Inventory::controller_of`] gives it no controller).
//!
//! What is compared is what the cluster-wide models read of a workload's power: the service
//! account and whether its token is mounted, the node's namespaces, whether a container owns
//! its node (`palisade_k8s::security::node_takeover`, the one answer), and a host path to the
//! control plane's credentials. These are compared as facts, not as fields, because the API
//! server and mutating webhooks add to a Pod what its template lacks: the token volume, the
//! account's default name, tolerations, a mesh's sidecar and init container (whose
//! `NET_ADMIN` owns no node without `hostNetwork`). Anything they add that gives more power
//! than the template makes the Pod its own workload, which is what it then is.
//!
//! A ReplicaSet scaled to zero runs no Pods: a Deployment keeps its old ones at zero, with the
//! template of an earlier revision, and they stay judged through the Deployment.

use palisade_core::tree::Tree as _;
use serde_json::Value;

use crate::object::Object;
use crate::podspec::pod_spec;

/// What a pod spec gives its containers beyond their own process.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Powers<'a> {
    account: &'a str,
    /// `automountServiceAccountToken` as written (unset defers to the account's setting).
    automount: Option<bool>,
    host_network: bool,
    host_pid: bool,
    host_ipc: bool,
    owns_node: bool,
    control_plane: bool,
}

impl<'a> Powers<'a> {
    fn of(object: &'a Object) -> Option<Powers<'a>> {
        Some(Powers::of_spec(pod_spec(object)?))
    }

    fn of_spec(pod: crate::PodSpec<'a>) -> Powers<'a> {
        let spec = pod.value;
        let containers: Vec<(&Value, String)> =
            pod.containers().map(|c| (c.value, String::new())).collect();
        use palisade_k8s::security::{control_plane_path, host_flag, node_takeover};
        Powers {
            account: palisade_k8s::security::service_account(spec),
            automount: spec
                .get("automountServiceAccountToken")
                .and_then(Value::as_bool),
            host_network: host_flag(spec, "hostNetwork"),
            host_pid: host_flag(spec, "hostPID"),
            host_ipc: host_flag(spec, "hostIPC"),
            owns_node: node_takeover(spec, containers.into_iter()).is_some(),
            control_plane: control_plane_path(spec).is_some(),
        }
    }

    /// The first power of these that `template`'s lack, said as a reason (`object` is the
    /// object these are of); `None` when they are no more than the template's.
    fn beyond(&self, template: &Powers<'_>, object: &Object) -> Option<String> {
        if self.account != template.account {
            return Some(format!(
                "runs as service account `{}` where the template runs as `{}`",
                self.account, template.account
            ));
        }
        if self.automount != Some(false) && self.automount != template.automount {
            let said = |v: Option<bool>| v.map_or("unset".to_string(), |v| v.to_string());
            return Some(format!(
                "sets automountServiceAccountToken {} where the template sets it {}",
                said(self.automount),
                said(template.automount)
            ));
        }
        let flags = [
            (self.host_network, template.host_network, "hostNetwork"),
            (self.host_pid, template.host_pid, "hostPID"),
            (self.host_ipc, template.host_ipc, "hostIPC"),
        ];
        if let Some((_, _, flag)) = flags.iter().find(|(own, theirs, _)| *own && !*theirs) {
            return Some(format!("sets {flag} where the template does not"));
        }
        if self.owns_node && !template.owns_node {
            let pod = pod_spec(object)?;
            let containers: Vec<(&Value, String)> =
                pod.containers().map(|c| (c.value, c.describe())).collect();
            let why = palisade_k8s::security::node_takeover(pod.value, containers.into_iter())?;
            return Some(format!("owns its node ({why}) where the template does not"));
        }
        if self.control_plane && !template.control_plane {
            let path = palisade_k8s::security::control_plane_path(pod_spec(object)?.value)?;
            return Some(format!(
                "mounts the control plane's credentials ({path}) where the template does not"
            ));
        }
        None
    }
}

/// Why `object`, which names `controller` as its controller, has more power than the
/// controller's pod template gives (another service account, a token the template does not
/// mount, a host namespace, a container that owns its node, the control plane's credentials);
/// `None` when it has not, runs no Pods, or either has no pod spec. Such an object is judged
/// on its own spec ([`crate::Inventory::controller_of`]).
pub fn beyond_controller(object: &Object, controller: &Object) -> Option<String> {
    if !runs_pods(object) {
        return None;
    }
    Powers::of(object)?.beyond(&Powers::of(controller)?, object)
}

/// [`beyond_controller`] against a template given by itself (what a ControllerRevision
/// records).
pub fn beyond_template(object: &Object, template: crate::PodSpec<'_>) -> Option<String> {
    if !runs_pods(object) {
        return None;
    }
    Powers::of(object)?.beyond(&Powers::of_spec(template), object)
}

/// The labels a controller puts on the Pods it makes besides its template's (the ReplicaSet's
/// `pod-template-hash`, the StatefulSet's pod name, the Job's name and uid, ...).
pub const CONTROLLER_LABELS: &[&str] = &[
    "pod-template-hash",
    "controller-revision-hash",
    "pod-template-generation",
    "statefulset.kubernetes.io/pod-name",
    "apps.kubernetes.io/pod-index",
    "batch.kubernetes.io/controller-uid",
    "batch.kubernetes.io/job-name",
    "batch.kubernetes.io/job-completion-index",
    "controller-uid",
    "job-name",
];

/// The labels of `object`'s Pods and the labels `controller`'s template gives them (with the
/// labels the controller adds itself, as `object` carries them), when the two differ; `None`
/// when they agree, `object` runs no Pods, or `controller` has no pod spec. Labels are not a
/// power ([`beyond_controller`]): mutating webhooks add their own to every Pod. What they
/// change is which Services and network policies select the Pods, which the rules and models
/// that read selectors decide.
pub(crate) fn relabelled(object: &Object, controller: &Object) -> Option<(Labels, Labels)> {
    pod_spec(controller)?;
    pod_spec(object)?;
    if !runs_pods(object) {
        return None;
    }
    let (own, template) = (crate::pod_labels(object), crate::pod_labels(controller));
    if agree(own, template) {
        return None;
    }
    let own = own.cloned().unwrap_or_default();
    let mut template = template.cloned().unwrap_or_default();
    for key in CONTROLLER_LABELS {
        if let Some(value) = own.get(*key) {
            template.insert((*key).to_string(), value.clone());
        }
    }
    (own != template).then_some((own, template))
}

/// The controllers whose Pods all run their template as it is: a ReplicaSet's template is
/// fixed for its Pods (a Deployment's change makes a new ReplicaSet), and a Job's cannot be
/// changed. A StatefulSet's Pods run its template when they are of its update revision
/// ([`runs_template`]); a DaemonSet's or StatefulSet's, when the ControllerRevision their
/// `controller-revision-hash` names records its template as it is now ([`revision_name`],
/// [`records_template`]; a DaemonSet names no revision of its own, and a StatefulSet written
/// out without its status does not either): Pods of an earlier revision (a rolling update in
/// progress, or `OnDelete`) run that revision's spec.
const FIXED_TEMPLATE: &[(&str, &str)] = &[
    ("apps", "ReplicaSet"),
    ("batch", "Job"),
    ("", "ReplicationController"),
];

/// The kinds `(group, kind)` whose `status` is read in judging a cluster: a StatefulSet's
/// `updateRevision`, by [`runs_template`]. No other status is read by the inventory or a
/// built-in rule (the secret detectors skip it; a test in `palisade-rules` gives every fixture
/// object a `status` copying the rest of it and requires the same findings): conditions,
/// counts, heartbeats and addresses, which controllers write many times an hour, change no
/// built-in finding. A user's policy (Rego, CEL) may read any of it.
const STATUS_READ: &[(&str, &str)] = &[("apps", "StatefulSet")];

/// Whether a change to the `status` of an object of `(group, kind)` can change what the
/// built-in rules find ([`STATUS_READ`]).
pub fn status_is_read(group: &str, kind: &str) -> bool {
    STATUS_READ.contains(&(group, kind))
}

/// Whether `pod` runs `controller`'s template as it is now: always for a [`FIXED_TEMPLATE`]
/// controller; for a StatefulSet, when the Pod's `controller-revision-hash` label is the
/// StatefulSet's `status.updateRevision`.
pub(crate) fn runs_template(pod: &Object, controller: &Object) -> bool {
    let id = &controller.id;
    if FIXED_TEMPLATE.contains(&(id.group(), id.kind.as_str())) {
        return true;
    }
    if (id.group(), id.kind.as_str()) != ("apps", "StatefulSet") {
        return false;
    }
    debug_assert!(status_is_read(id.group(), &id.kind));
    let revision = controller
        .value
        .at("/status/updateRevision")
        .and_then(Value::as_str);
    let pods = pod
        .value
        .at("/metadata/labels/controller-revision-hash")
        .and_then(Value::as_str);
    revision.is_some() && revision == pods
}

/// The name of the ControllerRevision that records the template a DaemonSet's or
/// StatefulSet's `pod` was made from, by the Pod's `controller-revision-hash` label: a
/// DaemonSet's Pods carry the hash of a revision named `<daemonset>-<hash>`, a StatefulSet's
/// the revision's name. `None` for another controller, or a Pod without the label.
pub(crate) fn revision_name(pod: &Object, controller: &Object) -> Option<String> {
    let id = &controller.id;
    let label = pod
        .value
        .at("/metadata/labels/controller-revision-hash")
        .and_then(Value::as_str)
        .filter(|label| !label.is_empty())?;
    match (id.group(), id.kind.as_str()) {
        ("apps", "DaemonSet") => Some(format!("{}-{label}", id.name.as_deref()?)),
        ("apps", "StatefulSet") => Some(label.to_string()),
        _ => None,
    }
}

/// Whether `revision`, a ControllerRevision of `controller`, records the controller's
/// template as it is now. A DaemonSet's or StatefulSet's revision holds its template as a
/// patch that replaces it, `{"spec": {"template": {..., "$patch": "replace"}}}`, written from
/// the controller as the API server returns it; a revision written before the template last
/// changed records another one (and so may one written by an earlier Kubernetes version that
/// serialised the template otherwise: its Pods are then not compared).
pub(crate) fn records_template(revision: &Object, controller: &Object) -> bool {
    let (Some(recorded), Some(Value::Object(template))) = (
        crate::podspec::recorded_template(revision),
        controller.value.at("/spec/template"),
    ) else {
        return false;
    };
    // The recorded template holds the `$patch` directive besides the template's fields.
    recorded.len() == template.len() + 1
        && template
            .iter()
            .all(|(key, value)| key != "$patch" && recorded.get(key) == Some(value))
}

/// A label map.
pub type Labels = serde_json::Map<String, Value>;

/// Whether a Pod's labels are its template's, with the labels the controller adds as the Pod
/// carries them ([`relabelled`] without copying either map).
fn agree(own: Option<&Labels>, template: Option<&Labels>) -> bool {
    let added = |key: &str| CONTROLLER_LABELS.contains(&key);
    let own_get = |key: &str| own.and_then(|labels| labels.get(key));
    let template_get = |key: &str| template.and_then(|labels| labels.get(key));
    own.into_iter()
        .flatten()
        .all(|(key, value)| added(key) || template_get(key) == Some(value))
        && template.into_iter().flatten().all(|(key, value)| {
            if added(key) {
                own_get(key).is_some()
            } else {
                own_get(key) == Some(value)
            }
        })
}

/// Whether `object`, which names `controller` as its controller, may be judged through it.
pub(crate) fn within_controller(object: &Object, controller: &Object) -> bool {
    beyond_controller(object, controller).is_none()
}

/// Whether replacing `old` by `new` may change which of the objects naming it are judged
/// through it: its template's powers, or whether it runs Pods, changed.
pub(crate) fn governs_differently(old: &Object, new: &Object) -> bool {
    runs_pods(old) != runs_pods(new) || Powers::of(old) != Powers::of(new)
}

/// False for a ReplicaSet scaled to zero (`spec.replicas: 0`); every other object may run
/// Pods.
pub(crate) fn runs_pods(object: &Object) -> bool {
    let scaled_to_zero = object.id.kind == "ReplicaSet"
        && object.id.group() == "apps"
        && palisade_core::pointer::lookup(&object.value, "/spec/replicas").and_then(Value::as_u64)
            == Some(0);
    !scaled_to_zero
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Limits, load_text};

    const TEMPLATE: &str = "apiVersion: apps/v1\nkind: ReplicaSet\nmetadata: {name: web-1, namespace: a}\nspec:\n  template:\n    metadata: {labels: {app: web}}\n    spec:\n      containers: [{name: web, image: 'web:1'}]\n";

    fn object(text: &str) -> Object {
        load_text("o.yaml", text, &Limits::default())
            .inventory
            .objects
            .remove(0)
    }

    fn pod(spec: &str) -> Object {
        object(&format!(
            "apiVersion: v1\nkind: Pod\nmetadata: {{name: web-1-x, namespace: a, labels: {{app: web, pod-template-hash: abc}}}}\nspec: {spec}\n"
        ))
    }

    /// What the API server and common mutating webhooks add to a Pod keeps it within its
    /// template: the account's default name, the token volume, tolerations, a mesh's sidecar
    /// and init container, a scheduled node.
    #[test]
    fn what_the_api_server_and_meshes_add_stays_within_the_template() {
        let template = object(TEMPLATE);
        let added = pod(
            "{serviceAccountName: default, serviceAccount: default, nodeName: n1, \
             tolerations: [{key: node.kubernetes.io/not-ready, operator: Exists, effect: NoExecute}], \
             volumes: [{name: kube-api-access-x, projected: {sources: [{serviceAccountToken: {path: token}}]}}, {name: istio-envoy, emptyDir: {}}], \
             initContainers: [{name: istio-init, image: proxyv2, securityContext: {capabilities: {add: [NET_ADMIN, NET_RAW]}, runAsUser: 0}}], \
             containers: [{name: web, image: 'web:1', volumeMounts: [{name: kube-api-access-x, mountPath: /var/run/secrets/kubernetes.io/serviceaccount}]}, \
                          {name: istio-proxy, image: proxyv2, ports: [{containerPort: 15090}]}]}",
        );
        assert!(within_controller(&added, &template));
        // Less power than the template is within it too.
        assert!(within_controller(
            &pod(
                "{automountServiceAccountToken: false, containers: [{name: web, image: 'web:1'}]}"
            ),
            &template
        ));
    }

    #[test]
    fn more_power_than_the_template_is_not_within_it() {
        let template = object(TEMPLATE);
        for spec in [
            "{serviceAccountName: admin, containers: [{name: web, image: 'web:1'}]}",
            "{automountServiceAccountToken: true, containers: [{name: web, image: 'web:1'}]}",
            "{hostNetwork: true, containers: [{name: web, image: 'web:1'}]}",
            "{hostPID: true, containers: [{name: web, image: 'web:1'}]}",
            "{hostIPC: true, containers: [{name: web, image: 'web:1'}]}",
            "{containers: [{name: web, image: 'web:1', securityContext: {privileged: true}}]}",
            "{containers: [{name: web, image: 'web:1'}, {name: side, image: x, securityContext: {capabilities: {add: [SYS_ADMIN]}}}]}",
            "{volumes: [{name: pki, hostPath: {path: /etc/kubernetes/pki}}], containers: [{name: web, image: 'web:1', volumeMounts: [{name: pki, mountPath: /pki}], securityContext: {runAsNonRoot: true}}]}",
        ] {
            assert!(!within_controller(&pod(spec), &template), "{spec}");
        }
        let why = |spec: &str| beyond_controller(&pod(spec), &template).unwrap();
        assert_eq!(
            why("{serviceAccountName: admin, containers: [{name: web, image: 'web:1'}]}"),
            "runs as service account `admin` where the template runs as `default`"
        );
        assert_eq!(
            why("{containers: [{name: web, image: 'web:1', securityContext: {privileged: true}}]}"),
            "owns its node (container \"web\" runs privileged) where the template does not"
        );
    }

    #[test]
    fn a_replica_set_scaled_to_zero_is_judged_through_its_controller() {
        let deployment = object(
            &TEMPLATE
                .replace("ReplicaSet", "Deployment")
                .replace("web-1", "web"),
        );
        let old = TEMPLATE.replace("spec:\n  template:", "spec:\n  replicas: 0\n  template:");
        let old = old.replace(
            "containers: [{name: web, image: 'web:1'}]",
            "serviceAccountName: admin\n      containers: [{name: web, image: 'web:1'}]",
        );
        assert!(within_controller(&object(&old), &deployment));
        let running = old.replace("replicas: 0", "replicas: 1");
        assert!(!within_controller(&object(&running), &deployment));
        assert!(governs_differently(&object(&old), &object(&running)));
        assert!(!governs_differently(
            &object(&old),
            &object(&old.replace("web:1", "web:2"))
        ));
    }

    fn labels() -> impl proptest::strategy::Strategy<Value = Option<Labels>> {
        use proptest::prelude::*;
        let key = proptest::sample::select(vec!["app", "role", "pod-template-hash", "job-name"]);
        proptest::option::of(
            proptest::collection::btree_map(key, proptest::sample::select(vec!["a", "b"]), 0..4)
                .prop_map(|m| {
                    m.into_iter()
                        .map(|(k, v)| (k.to_string(), v.into()))
                        .collect()
                }),
        )
    }

    proptest::proptest! {
        /// Comparing in place agrees with comparing the maps `relabelled` builds.
        #[test]
        fn labels_agree_exactly_when_the_built_maps_are_equal(own in labels(), template in labels()) {
            let mut built = template.clone().unwrap_or_default();
            let own_map = own.clone().unwrap_or_default();
            for key in CONTROLLER_LABELS {
                if let Some(value) = own_map.get(*key) {
                    built.insert((*key).to_string(), value.clone());
                }
            }
            proptest::prop_assert_eq!(agree(own.as_ref(), template.as_ref()), own_map == built);
        }
    }

    /// A DaemonSet's revision records its template only as a whole-template patch equal to
    /// it; its Pods name the revision by the hash label.
    #[test]
    fn a_daemon_sets_revision_records_its_template_as_a_replacing_patch() {
        let daemon_set = object(
            "apiVersion: apps/v1\nkind: DaemonSet\nmetadata: {name: agent, namespace: a}\nspec:\n  template:\n    metadata: {labels: {app: agent}}\n    spec: {containers: [{name: c, image: 'agent:2'}]}\n",
        );
        let revision = |template: &str| {
            object(&format!(
                "apiVersion: apps/v1\nkind: ControllerRevision\nmetadata: {{name: agent-1, namespace: a}}\nrevision: 1\ndata: {{spec: {{template: {template}}}}}\n"
            ))
        };
        let current = "{$patch: replace, metadata: {labels: {app: agent}}, spec: {containers: [{name: c, image: 'agent:2'}]}}";
        assert!(records_template(&revision(current), &daemon_set));
        for other in [
            // An earlier template.
            "{$patch: replace, metadata: {labels: {app: agent}}, spec: {containers: [{name: c, image: 'agent:1'}]}}",
            // Not a patch that replaces the template.
            "{metadata: {labels: {app: agent}}, spec: {containers: [{name: c, image: 'agent:2'}]}}",
            "{$patch: merge, metadata: {labels: {app: agent}}, spec: {containers: [{name: c, image: 'agent:2'}]}}",
            // More than the template, or less.
            "{$patch: replace, metadata: {labels: {app: agent}}, spec: {containers: [{name: c, image: 'agent:2'}]}, extra: {}}",
            "{$patch: replace, spec: {containers: [{name: c, image: 'agent:2'}]}}",
        ] {
            assert!(!records_template(&revision(other), &daemon_set), "{other}");
        }
        let labelled = |labels: &str| {
            object(&format!(
                "apiVersion: v1\nkind: Pod\nmetadata: {{name: agent-x, namespace: a, labels: {labels}}}\nspec: {{containers: [{{name: c, image: 'agent:2'}}]}}\n"
            ))
        };
        let pod = labelled("{app: agent, controller-revision-hash: 7c9d}");
        assert_eq!(
            revision_name(&pod, &daemon_set).as_deref(),
            Some("agent-7c9d")
        );
        assert_eq!(revision_name(&labelled("{app: agent}"), &daemon_set), None);
        assert_eq!(
            revision_name(&labelled("{controller-revision-hash: ''}"), &daemon_set),
            None
        );
        assert_eq!(revision_name(&pod, &object(TEMPLATE)), None, "a ReplicaSet");
        let stateful_set = object(
            "apiVersion: apps/v1\nkind: StatefulSet\nmetadata: {name: db, namespace: a}\nspec:\n  template:\n    spec: {containers: [{name: c, image: 'db:2'}]}\n",
        );
        let pod = labelled("{app: db, controller-revision-hash: db-6c8f9d}");
        assert_eq!(
            revision_name(&pod, &stateful_set).as_deref(),
            Some("db-6c8f9d")
        );
    }
}
