//! The Pods an operator makes from each pod template of a kind with several (a RayCluster's
//! head and worker groups, a JobSet's replicated jobs): the labels they carry, so that a
//! NetworkPolicy or Service read from manifests selects them as it selects the Pods once they
//! run. Each is the template's own labels with those its operator adds, as the operator's
//! sources and documentation give them; a label whose value cannot be known from the object
//! (a RayService's cluster, whose name the operator generates) is left out.

use serde_json::{Map, Value};

use crate::object::Object;
use crate::podspec::{GroupedTemplate, Step};

/// The labels of the Pods made from `template` of `object`, or `None` when its kind's
/// templates make no Pods of their own: Kubeflow's (Cluster)TrainingRuntimes, whose templates
/// run as part of the TrainJobs that name them, with those jobs' labels.
pub fn pod_labels(object: &Object, template: &GroupedTemplate) -> Option<Map<String, Value>> {
    let name = object.id.name.as_deref().unwrap_or_default();
    let place = Place::of(object, template);
    let added = operator_labels(object.id.group(), &object.id.kind, name, &place)?;
    let mut labels = palisade_core::pointer::lookup(&object.value, &template.metadata)
        .and_then(|m| m.get("labels"))
        .and_then(Value::as_object)
        .cloned()
        .unwrap_or_default();
    // The operator's labels win: KubeRay refuses to let a template override its own.
    for (key, value) in added {
        labels.insert(key.to_string(), Value::String(value));
    }
    Some(labels)
}

/// Where a template stands in its object: the keys on its pointer, and the `name` or
/// `groupName` of the list item it is in (a worker group's, a replicated job's, a node set's).
struct Place {
    keys: Vec<String>,
    item_name: Option<String>,
}

impl Place {
    fn of(object: &Object, template: &GroupedTemplate) -> Place {
        let mut keys = Vec::new();
        let mut item_name = None;
        for step in template.way(&object.value) {
            match step {
                Step::Key(key) => keys.push(key.to_string()),
                Step::Item(item) => {
                    item_name = ["name", "groupName"]
                        .iter()
                        .find_map(|f| item.get(*f).and_then(Value::as_str))
                        .map(String::from);
                }
            }
        }
        Place { keys, item_name }
    }

    fn has(&self, key: &str) -> bool {
        self.keys.iter().any(|k| k == key)
    }

    /// The key of a map the template is under (a Kubeflow job's replica type: `Master`).
    fn key_after(&self, key: &str) -> Option<&str> {
        let at = self.keys.iter().position(|k| k == key)?;
        self.keys.get(at + 1).map(String::as_str)
    }
}

/// The labels the operator of `(group, kind)` gives the Pods of a template at `place` of an
/// object named `name`; `None` for a kind whose templates make no Pods of their own.
fn operator_labels(
    group: &str,
    kind: &str,
    name: &str,
    place: &Place,
) -> Option<Vec<(&'static str, String)>> {
    let mut labels = Vec::new();
    match (group, kind) {
        ("ray.io", _) => ray_labels(kind, name, place, &mut labels),
        ("jobset.x-k8s.io", "JobSet") => {
            labels.push(("jobset.sigs.k8s.io/jobset-name", name.to_string()));
            if let Some(job) = &place.item_name {
                labels.push(("jobset.sigs.k8s.io/replicatedjob-name", job.clone()));
            }
        }
        ("leaderworkerset.x-k8s.io", "LeaderWorkerSet") => {
            labels.push(("leaderworkerset.sigs.k8s.io/name", name.to_string()));
        }
        ("kubeflow.org", "TrainingRuntime" | "ClusterTrainingRuntime")
        | ("trainer.kubeflow.org", "TrainingRuntime" | "ClusterTrainingRuntime") => return None,
        ("kubeflow.org", _) => {
            labels.push(("training.kubeflow.org/job-name", name.to_string()));
            let replica = KUBEFLOW_REPLICA_SPECS
                .iter()
                .find_map(|specs| place.key_after(specs));
            if let Some(replica) = replica {
                labels.push(("training.kubeflow.org/replica-type", replica.to_lowercase()));
            }
        }
        ("elasticsearch.k8s.elastic.co", "Elasticsearch") => {
            labels.push(("common.k8s.elastic.co/type", "elasticsearch".to_string()));
            labels.push((
                "elasticsearch.k8s.elastic.co/cluster-name",
                name.to_string(),
            ));
            if let Some(set) = &place.item_name {
                labels.push((
                    "elasticsearch.k8s.elastic.co/statefulset-name",
                    format!("{name}-es-{set}"),
                ));
            }
        }
        ("serving.kserve.io", "InferenceService") => {
            labels.push(("serving.kserve.io/inferenceservice", name.to_string()));
            // A predictor's workerSpec makes the other nodes of a model served on several.
            if !place.has("workerSpec")
                && let Some(component) = place.keys.get(1)
            {
                labels.push(("component", component.clone()));
            }
        }
        _ => {}
    }
    Some(labels)
}

/// The security context an operator gives each container of the Pods it makes from `object`'s
/// templates when the template sets none for it, as the operator documents it: ECK runs
/// Elasticsearch 8.8.0 and later, its sidecars and init containers with privilege escalation
/// and every capability dropped, unprivileged, on a read-only root file system ("Security
/// context", ECK's documentation; ECK mounts the data directory in a volume, which the
/// read-only root needs). `None` for other objects, an older or unreadable version.
pub fn container_security_defaults(object: &Object) -> Option<&'static Value> {
    container_security_defaults_of(object.id.group(), &object.id.kind, &object.value)
}

/// [`container_security_defaults`] for an object of `(group, kind)` whose value is `object`.
pub fn container_security_defaults_of(
    group: &str,
    kind: &str,
    object: &Value,
) -> Option<&'static Value> {
    static ECK: std::sync::LazyLock<Value> = std::sync::LazyLock::new(|| {
        serde_json::json!({
            "allowPrivilegeEscalation": false,
            "capabilities": {"drop": ["ALL"]},
            "privileged": false,
            "readOnlyRootFilesystem": true,
        })
    });
    match (group, kind) {
        ("elasticsearch.k8s.elastic.co", "Elasticsearch") => {
            let version =
                palisade_core::pointer::lookup(object, "/spec/version").and_then(Value::as_str)?;
            (version_at_least(version, (8, 8))).then(|| &*ECK)
        }
        _ => None,
    }
}

/// Whether `version` (`8.15.0`, `v8.8.1-SNAPSHOT`) is at least `major.minor`.
fn version_at_least(version: &str, (major, minor): (u64, u64)) -> bool {
    let mut parts = version
        .trim()
        .trim_start_matches('v')
        .split(['.', '-', '+']);
    let number = |part: Option<&str>| part.and_then(|p| p.parse::<u64>().ok());
    match (number(parts.next()), number(parts.next())) {
        (Some(found_major), Some(found_minor)) => (found_major, found_minor) >= (major, minor),
        _ => false,
    }
}

/// `pod` (a pod spec) with `defaults` as the security context of each container and init
/// container that sets none, as the operator's Pods have it: what the Pod Security checks,
/// which read a whole pod spec, judge.
pub fn with_container_security_defaults(pod: &Value, defaults: &Value) -> Value {
    let mut pod = pod.clone();
    for field in ["containers", "initContainers"] {
        let Some(containers) = pod.get_mut(field).and_then(Value::as_array_mut) else {
            continue;
        };
        for container in containers.iter_mut().filter_map(Value::as_object_mut) {
            if container.get("securityContext").is_none_or(Value::is_null) {
                container.insert("securityContext".to_string(), defaults.clone());
            }
        }
    }
    pod
}

/// The fields of Kubeflow's training jobs that map replica types to templates.
const KUBEFLOW_REPLICA_SPECS: &[&str] = &[
    "pytorchReplicaSpecs",
    "tfReplicaSpecs",
    "mpiReplicaSpecs",
    "xgbReplicaSpecs",
    "paddleReplicaSpecs",
    "jaxReplicaSpecs",
];

/// KubeRay's labels on a Ray node's Pods (`labelPod`): the node type, its group (`headgroup`
/// for the head), and for a RayCluster its name; a RayService's or RayJob's cluster is named
/// by the operator. A RayJob's submitter is no Ray node.
fn ray_labels(kind: &str, name: &str, place: &Place, labels: &mut Vec<(&'static str, String)>) {
    let node_type = if place.has("headGroupSpec") {
        "head"
    } else if place.has("workerGroupSpecs") {
        "worker"
    } else {
        return;
    };
    let group = match node_type {
        "head" => "headgroup".to_string(),
        _ => place.item_name.clone().unwrap_or_default(),
    };
    labels.extend([
        ("ray.io/is-ray-node", "yes".to_string()),
        ("ray.io/node-type", node_type.to_string()),
        ("ray.io/group", group),
        ("app.kubernetes.io/name", "kuberay".to_string()),
        (
            "app.kubernetes.io/created-by",
            "kuberay-operator".to_string(),
        ),
    ]);
    if kind == "RayCluster" {
        labels.push(("ray.io/cluster", name.to_string()));
        // KubeRay's identifier, clipped to a label's 63 characters.
        let mut identifier = format!("{name}-{node_type}");
        identifier.truncate(63);
        labels.push(("ray.io/identifier", identifier));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::podspec::grouped_templates;
    use crate::yaml::Limits;

    fn labels_of(yaml: &str) -> Vec<Option<Map<String, Value>>> {
        let inventory = crate::load_text("x.yaml", yaml, &Limits::default()).inventory;
        let object = &inventory.objects[0];
        grouped_templates(object)
            .iter()
            .map(|t| pod_labels(object, t))
            .collect()
    }

    fn label<'m>(labels: &'m Option<Map<String, Value>>, key: &str) -> Option<&'m str> {
        labels.as_ref()?.get(key)?.as_str()
    }

    #[test]
    fn a_ray_clusters_pods_carry_kuberays_labels_over_the_templates() {
        let found = labels_of(
            "apiVersion: ray.io/v1
kind: RayCluster
metadata: {name: train, namespace: ml}
spec:
  headGroupSpec:
    template:
      metadata: {labels: {app: ray, ray.io/node-type: worker}}
      spec: {containers: [{name: head, image: ray}]}
  workerGroupSpecs:
  - groupName: gpu
    template:
      metadata: {labels: {app: ray}}
      spec: {containers: [{name: worker, image: ray}]}
",
        );
        assert_eq!(label(&found[0], "app"), Some("ray"));
        assert_eq!(label(&found[0], "ray.io/node-type"), Some("head"));
        assert_eq!(label(&found[0], "ray.io/group"), Some("headgroup"));
        assert_eq!(label(&found[0], "ray.io/cluster"), Some("train"));
        assert_eq!(label(&found[1], "ray.io/group"), Some("gpu"));
        assert_eq!(label(&found[1], "ray.io/identifier"), Some("train-worker"));
    }

    #[test]
    fn each_operator_names_its_pods_and_runtimes_make_none() {
        let job = labels_of(
            "apiVersion: kubeflow.org/v1
kind: PyTorchJob
metadata: {name: pt}
spec:
  pytorchReplicaSpecs:
    Master: {template: {spec: {containers: [{name: a, image: x}]}}}
",
        );
        assert_eq!(label(&job[0], "training.kubeflow.org/job-name"), Some("pt"));
        assert_eq!(
            label(&job[0], "training.kubeflow.org/replica-type"),
            Some("master")
        );
        let service = labels_of(
            "apiVersion: ray.io/v1
kind: RayService
metadata: {name: serve}
spec:
  rayClusterConfig:
    headGroupSpec: {template: {spec: {containers: [{name: a, image: x}]}}}
",
        );
        assert_eq!(label(&service[0], "ray.io/node-type"), Some("head"));
        assert_eq!(label(&service[0], "ray.io/cluster"), None);
        let isvc = labels_of(
            "apiVersion: serving.kserve.io/v1beta1
kind: InferenceService
metadata: {name: iris}
spec:
  predictor:
    labels: {team: ml}
    sklearn: {storageUri: gs://m}
    workerSpec: {containers: [{name: w, image: x}]}
",
        );
        assert_eq!(label(&isvc[0], "component"), Some("predictor"));
        assert_eq!(label(&isvc[0], "team"), Some("ml"));
        assert_eq!(label(&isvc[1], "component"), None);
        assert_eq!(
            label(&isvc[1], "serving.kserve.io/inferenceservice"),
            Some("iris")
        );
        let es = labels_of(
            "apiVersion: elasticsearch.k8s.elastic.co/v1
kind: Elasticsearch
metadata: {name: logs}
spec:
  nodeSets:
  - name: hot
    podTemplate: {spec: {containers: [{name: elasticsearch}]}}
",
        );
        assert_eq!(
            label(&es[0], "elasticsearch.k8s.elastic.co/statefulset-name"),
            Some("logs-es-hot")
        );
        let runtime = labels_of(
            "apiVersion: trainer.kubeflow.org/v1alpha1
kind: ClusterTrainingRuntime
metadata: {name: torch}
spec:
  template:
    spec:
      replicatedJobs:
      - name: node
        template: {spec: {template: {spec: {containers: [{name: a, image: x}]}}}}
",
        );
        assert_eq!(runtime, [None]);
    }

    #[test]
    fn eck_hardens_elasticsearch_from_8_8_on() {
        let es = |version: &str| {
            let text = format!(
                "apiVersion: elasticsearch.k8s.elastic.co/v1\nkind: Elasticsearch\nmetadata: {{name: logs}}\nspec: {{version: '{version}', nodeSets: [{{name: default, count: 1}}]}}\n"
            );
            crate::load::load_text("es.yaml", &text, &Default::default())
                .inventory
                .objects
                .remove(0)
        };
        assert!(container_security_defaults(&es("8.15.0")).is_some());
        assert!(container_security_defaults(&es("8.8.0")).is_some());
        assert!(container_security_defaults(&es("v9.0.1-SNAPSHOT")).is_some());
        assert!(container_security_defaults(&es("8.7.1")).is_none());
        assert!(container_security_defaults(&es("7.17.0")).is_none());
        assert!(container_security_defaults(&es("latest")).is_none());
        let defaults = container_security_defaults(&es("8.8.0")).unwrap();
        let pod = serde_json::json!({"containers": [{"name": "elasticsearch"},
            {"name": "sidecar", "securityContext": {"runAsUser": 1000}}],
            "initContainers": [{"name": "init", "securityContext": null}]});
        let hardened = with_container_security_defaults(&pod, defaults);
        assert_eq!(hardened["containers"][0]["securityContext"], *defaults);
        assert_eq!(
            hardened["containers"][1]["securityContext"],
            serde_json::json!({"runAsUser": 1000})
        );
        assert_eq!(hardened["initContainers"][0]["securityContext"], *defaults);
    }
}
