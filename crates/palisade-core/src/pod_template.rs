//! Where each kind that embeds a pod spec keeps it: the one catalogue that scans, fixes,
//! admission, audit detections and the redaction boundary read, so a pod spec is found (and its
//! fields printed or hidden) the same way in a Deployment, an Argo Rollout or a Knative Service;
//! and where the kinds that embed several keep them (a RayCluster's groups, a JobSet's jobs).

use serde_json::Value;

/// Where a kind keeps its pod spec and the pod template's metadata.
#[derive(Debug)]
pub struct PodTemplateSite {
    /// The API group (`""` for the core group).
    pub group: &'static str,
    pub kind: &'static str,
    /// Pointer to the pod spec, such as `/spec/template/spec`.
    pub spec: &'static str,
    /// Pointer to the pod (template) metadata.
    pub metadata: &'static str,
}

impl PodTemplateSite {
    /// Whether the kind's API requires every container to have a name. Knative's does not:
    /// its webhook names a lone container `user-container`, and its documentation writes
    /// services without one.
    pub fn container_names_required(&self) -> bool {
        self.group != "serving.knative.dev"
    }

    /// Whether a field at `segments` of an object of this kind lies in its pod template (its
    /// pod spec or the template's metadata), whose schema is the built-in pod's whatever
    /// group the kind is in.
    pub fn holds(&self, segments: &[&str]) -> bool {
        below(self.spec, segments).is_some() || below(self.metadata, segments).is_some()
    }
}

const TEMPLATE_SPEC: &str = "/spec/template/spec";
const TEMPLATE_METADATA: &str = "/spec/template/metadata";

/// Every kind that embeds a pod spec. Groups are matched exactly; `extensions` covers the
/// pre-1.16 API versions still found in old manifests.
pub const SITES: &[PodTemplateSite] = &[
    PodTemplateSite {
        group: "",
        kind: "Pod",
        spec: "/spec",
        metadata: "/metadata",
    },
    PodTemplateSite {
        group: "",
        kind: "PodTemplate",
        spec: "/template/spec",
        metadata: "/template/metadata",
    },
    PodTemplateSite {
        group: "",
        kind: "ReplicationController",
        spec: TEMPLATE_SPEC,
        metadata: TEMPLATE_METADATA,
    },
    PodTemplateSite {
        group: "apps",
        kind: "Deployment",
        spec: TEMPLATE_SPEC,
        metadata: TEMPLATE_METADATA,
    },
    PodTemplateSite {
        group: "apps",
        kind: "StatefulSet",
        spec: TEMPLATE_SPEC,
        metadata: TEMPLATE_METADATA,
    },
    PodTemplateSite {
        group: "apps",
        kind: "DaemonSet",
        spec: TEMPLATE_SPEC,
        metadata: TEMPLATE_METADATA,
    },
    PodTemplateSite {
        group: "apps",
        kind: "ReplicaSet",
        spec: TEMPLATE_SPEC,
        metadata: TEMPLATE_METADATA,
    },
    PodTemplateSite {
        group: "extensions",
        kind: "Deployment",
        spec: TEMPLATE_SPEC,
        metadata: TEMPLATE_METADATA,
    },
    PodTemplateSite {
        group: "extensions",
        kind: "DaemonSet",
        spec: TEMPLATE_SPEC,
        metadata: TEMPLATE_METADATA,
    },
    PodTemplateSite {
        group: "extensions",
        kind: "ReplicaSet",
        spec: TEMPLATE_SPEC,
        metadata: TEMPLATE_METADATA,
    },
    PodTemplateSite {
        group: "batch",
        kind: "Job",
        spec: TEMPLATE_SPEC,
        metadata: TEMPLATE_METADATA,
    },
    PodTemplateSite {
        group: "batch",
        kind: "CronJob",
        spec: "/spec/jobTemplate/spec/template/spec",
        metadata: "/spec/jobTemplate/spec/template/metadata",
    },
    PodTemplateSite {
        group: "argoproj.io",
        kind: "Rollout",
        spec: TEMPLATE_SPEC,
        metadata: TEMPLATE_METADATA,
    },
    PodTemplateSite {
        group: "serving.knative.dev",
        kind: "Service",
        spec: TEMPLATE_SPEC,
        metadata: TEMPLATE_METADATA,
    },
    PodTemplateSite {
        group: "serving.knative.dev",
        kind: "Configuration",
        spec: TEMPLATE_SPEC,
        metadata: TEMPLATE_METADATA,
    },
    PodTemplateSite {
        group: "serving.knative.dev",
        kind: "Revision",
        spec: "/spec",
        metadata: "/metadata",
    },
    PodTemplateSite {
        group: "apps.openshift.io",
        kind: "DeploymentConfig",
        spec: TEMPLATE_SPEC,
        metadata: TEMPLATE_METADATA,
    },
    // OpenKruise's CloneSet, which replaces Deployments in place.
    PodTemplateSite {
        group: "apps.kruise.io",
        kind: "CloneSet",
        spec: TEMPLATE_SPEC,
        metadata: TEMPLATE_METADATA,
    },
    // KEDA's ScaledJob: a Job's spec, whose Jobs KEDA creates per event.
    PodTemplateSite {
        group: "keda.sh",
        kind: "ScaledJob",
        spec: "/spec/jobTargetRef/template/spec",
        metadata: "/spec/jobTargetRef/template/metadata",
    },
    // Kubernetes SIG Apps' agent sandboxes: the pod an AI agent's code runs in, and the
    // template a warm pool makes them from.
    PodTemplateSite {
        group: "agents.x-k8s.io",
        kind: "Sandbox",
        spec: "/spec/podTemplate/spec",
        metadata: "/spec/podTemplate/metadata",
    },
    PodTemplateSite {
        group: "extensions.agents.x-k8s.io",
        kind: "SandboxTemplate",
        spec: "/spec/podTemplate/spec",
        metadata: "/spec/podTemplate/metadata",
    },
    // Kubeflow's Notebook: a notebook server's StatefulSet template.
    PodTemplateSite {
        group: "kubeflow.org",
        kind: "Notebook",
        spec: TEMPLATE_SPEC,
        metadata: TEMPLATE_METADATA,
    },
];

/// A kind that embeds several pod templates (`PodTemplateSpec`s: `metadata` and `spec`), at
/// pointers where `*` stands for any key of a map or index of a list: a RayCluster's head and
/// each worker group, a JobSet's replicated jobs, a PyTorchJob's replicas by role.
#[derive(Debug)]
pub struct GroupedSite {
    pub group: &'static str,
    pub kind: &'static str,
    /// Pointers to the templates (`PodTemplateSpec`s), with `*` for any segment.
    pub templates: &'static [&'static str],
    /// Pointers to pod specs written inline (a PodSpec's fields, with the pods' `labels` and
    /// `annotations` beside them rather than in a template's `metadata`), with `*` for any
    /// segment.
    pub pod_specs: &'static [&'static str],
    /// Fields of the pod specs written inline that each hold one container, its fields
    /// written alone rather than as an item of `containers` (KServe's `predictor.model`).
    pub containers_alone: &'static [&'static str],
}

/// Every kind with several pod templates the rules judge, each template as a pod spec.
pub const GROUPED: &[GroupedSite] = &[
    GroupedSite {
        group: "ray.io",
        kind: "RayCluster",
        templates: &[
            "/spec/headGroupSpec/template",
            "/spec/workerGroupSpecs/*/template",
        ],
        pod_specs: &[],
        containers_alone: &[],
    },
    GroupedSite {
        group: "ray.io",
        kind: "RayService",
        templates: &[
            "/spec/rayClusterConfig/headGroupSpec/template",
            "/spec/rayClusterConfig/workerGroupSpecs/*/template",
        ],
        pod_specs: &[],
        containers_alone: &[],
    },
    GroupedSite {
        group: "ray.io",
        kind: "RayJob",
        templates: &[
            "/spec/rayClusterSpec/headGroupSpec/template",
            "/spec/rayClusterSpec/workerGroupSpecs/*/template",
            "/spec/submitterPodTemplate",
        ],
        pod_specs: &[],
        containers_alone: &[],
    },
    GroupedSite {
        group: "jobset.x-k8s.io",
        kind: "JobSet",
        templates: &["/spec/replicatedJobs/*/template/spec/template"],
        pod_specs: &[],
        containers_alone: &[],
    },
    GroupedSite {
        group: "leaderworkerset.x-k8s.io",
        kind: "LeaderWorkerSet",
        templates: &[
            "/spec/leaderWorkerTemplate/leaderTemplate",
            "/spec/leaderWorkerTemplate/workerTemplate",
        ],
        pod_specs: &[],
        containers_alone: &[],
    },
    GroupedSite {
        group: "kubeflow.org",
        kind: "PyTorchJob",
        templates: &["/spec/pytorchReplicaSpecs/*/template"],
        pod_specs: &[],
        containers_alone: &[],
    },
    GroupedSite {
        group: "kubeflow.org",
        kind: "TFJob",
        templates: &["/spec/tfReplicaSpecs/*/template"],
        pod_specs: &[],
        containers_alone: &[],
    },
    GroupedSite {
        group: "kubeflow.org",
        kind: "MPIJob",
        templates: &["/spec/mpiReplicaSpecs/*/template"],
        pod_specs: &[],
        containers_alone: &[],
    },
    GroupedSite {
        group: "kubeflow.org",
        kind: "XGBoostJob",
        templates: &["/spec/xgbReplicaSpecs/*/template"],
        pod_specs: &[],
        containers_alone: &[],
    },
    GroupedSite {
        group: "kubeflow.org",
        kind: "PaddleJob",
        templates: &["/spec/paddleReplicaSpecs/*/template"],
        pod_specs: &[],
        containers_alone: &[],
    },
    GroupedSite {
        group: "kubeflow.org",
        kind: "JAXJob",
        templates: &["/spec/jaxReplicaSpecs/*/template"],
        pod_specs: &[],
        containers_alone: &[],
    },
    GroupedSite {
        group: "trainer.kubeflow.org",
        kind: "TrainingRuntime",
        templates: &["/spec/template/spec/replicatedJobs/*/template/spec/template"],
        pod_specs: &[],
        containers_alone: &[],
    },
    GroupedSite {
        group: "trainer.kubeflow.org",
        kind: "ClusterTrainingRuntime",
        templates: &["/spec/template/spec/replicatedJobs/*/template/spec/template"],
        pod_specs: &[],
        containers_alone: &[],
    },
    // The same, as Kubeflow's training operator v2 first named them.
    GroupedSite {
        group: "kubeflow.org",
        kind: "TrainingRuntime",
        templates: &["/spec/template/spec/replicatedJobs/*/template/spec/template"],
        pod_specs: &[],
        containers_alone: &[],
    },
    GroupedSite {
        group: "kubeflow.org",
        kind: "ClusterTrainingRuntime",
        templates: &["/spec/template/spec/replicatedJobs/*/template/spec/template"],
        pod_specs: &[],
        containers_alone: &[],
    },
    GroupedSite {
        group: "elasticsearch.k8s.elastic.co",
        kind: "Elasticsearch",
        templates: &["/spec/nodeSets/*/podTemplate"],
        pod_specs: &[],
        containers_alone: &[],
    },
    // KServe's InferenceService: its predictor, transformer and explainer are pod specs
    // themselves (the PodSpec's fields inline, next to the model's), and so is the
    // predictor's `workerSpec` (the other nodes of a model served across several).
    GroupedSite {
        group: "serving.kserve.io",
        kind: "InferenceService",
        templates: &[],
        pod_specs: &[
            "/spec/predictor",
            "/spec/predictor/workerSpec",
            "/spec/transformer",
            "/spec/explainer",
        ],
        containers_alone: KSERVE_IMPLEMENTATIONS,
    },
];

/// The fields of a KServe component that each hold the container of its implementation, a
/// Container's fields written alone (`predictor.model`, the framework predictors,
/// `explainer.art`): KServe makes it the pod's `kserve-container`, merged into the serving
/// runtime's.
const KSERVE_IMPLEMENTATIONS: &[&str] = &[
    "model",
    "sklearn",
    "xgboost",
    "tensorflow",
    "pytorch",
    "triton",
    "onnx",
    "huggingface",
    "pmml",
    "lightgbm",
    "paddle",
    "art",
];

/// Most templates of one object that are judged: a hostile object cannot make a scan judge
/// without bound.
pub const MAX_GROUPED_TEMPLATES: usize = 64;

impl GroupedSite {
    /// The pod specs `object` holds, as `(spec, metadata)` pointers, in the order the
    /// patterns and the object list them, at most [`MAX_GROUPED_TEMPLATES`]: each a map (one
    /// that is not is the API server's to refuse). A pod spec written inline carries its
    /// pods' `labels` and `annotations` beside the PodSpec's fields (KServe's components), so
    /// its metadata pointer is its own.
    pub fn pod_specs_in(&self, object: &Value) -> Vec<(String, String)> {
        let mut found = Vec::new();
        let at = |patterns: &[&str], found: &mut Vec<String>| {
            for pattern in patterns {
                let segments: Vec<&str> = pattern.split('/').skip(1).collect();
                expand(object, &segments, String::new(), found);
            }
        };
        let mut templates = Vec::new();
        at(self.templates, &mut templates);
        found.extend(
            templates
                .into_iter()
                .map(|t| (format!("{t}/spec"), format!("{t}/metadata"))),
        );
        let mut inline = Vec::new();
        at(self.pod_specs, &mut inline);
        found.extend(inline.into_iter().map(|s| (s.clone(), s)));
        found.truncate(MAX_GROUPED_TEMPLATES);
        found
    }

    /// Whether the field at `segments` is a container written alone: one of the
    /// [`GroupedSite::containers_alone`] fields directly in one of the kind's inline pod specs
    /// (`spec/predictor/sklearn`), not a field of that name deeper down.
    pub fn holds_container_alone(&self, segments: &[&str]) -> bool {
        let Some((field, spec)) = segments.split_last() else {
            return false;
        };
        self.containers_alone.contains(field)
            && self
                .pod_specs
                .iter()
                .any(|pattern| below(pattern, spec).is_some_and(<[&str]>::is_empty))
    }

    /// Whether a field at `segments` lies in one of the kind's pod specs or templates (a
    /// template's `spec` or `metadata`), whose schema is the built-in pod's.
    pub fn holds(&self, segments: &[&str]) -> bool {
        self.templates.iter().any(|pattern| {
            below(pattern, segments)
                .and_then(|rest| rest.first())
                .is_some_and(|field| matches!(*field, "spec" | "metadata"))
        }) || self
            .pod_specs
            .iter()
            .any(|pattern| below(pattern, segments).is_some_and(|rest| !rest.is_empty()))
    }
}

/// The segments of `segments` past `pattern` (a pointer, `*` standing for any segment), when
/// `segments` start with it.
fn below<'s, 'a>(pattern: &str, segments: &'s [&'a str]) -> Option<&'s [&'a str]> {
    let mut rest = segments;
    for p in pattern.split('/').skip(1) {
        let (first, tail) = rest.split_first()?;
        if p != "*" && p != *first {
            return None;
        }
        rest = tail;
    }
    Some(rest)
}

/// Appends to `found` the pointers under `at` that `segments` (with `*`) reach in `value`.
fn expand(value: &Value, segments: &[&str], at: String, found: &mut Vec<String>) {
    if found.len() >= MAX_GROUPED_TEMPLATES {
        return;
    }
    let Some((first, rest)) = segments.split_first() else {
        if value.is_object() {
            found.push(at);
        }
        return;
    };
    let escaped = |key: &str| key.replace('~', "~0").replace('/', "~1");
    match (value, *first) {
        (Value::Object(map), "*") => {
            for (key, child) in map {
                expand(child, rest, format!("{at}/{}", escaped(key)), found);
            }
        }
        (Value::Array(items), "*") => {
            for (index, child) in items.iter().enumerate() {
                expand(child, rest, format!("{at}/{index}"), found);
            }
        }
        (Value::Object(map), key) => {
            if let Some(child) = map.get(key) {
                expand(child, rest, format!("{at}/{key}"), found);
            }
        }
        _ => {}
    }
}

/// The kind with several pod templates `(group, kind)` is, if it is one.
pub fn grouped_site(group: &str, kind: &str) -> Option<&'static GroupedSite> {
    GROUPED.iter().find(|w| w.kind == kind && w.group == group)
}

/// Where objects of `(group, kind)` keep their pod template, if they have one.
pub fn site(group: &str, kind: &str) -> Option<&'static PodTemplateSite> {
    SITES.iter().find(|w| w.kind == kind && w.group == group)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn holds_the_spec_and_the_template_metadata_only() {
        let rollout = site("argoproj.io", "Rollout").unwrap();
        assert!(rollout.holds(&["spec", "template", "spec", "containers", "0", "image"]));
        assert!(rollout.holds(&["spec", "template", "metadata", "labels", "app"]));
        assert!(!rollout.holds(&["spec", "strategy", "canary", "analysis"]));
        assert!(!rollout.holds(&["spec", "template"]));
        let revision = site("serving.knative.dev", "Revision").unwrap();
        assert!(revision.holds(&["spec", "containers", "0", "image"]));
        assert!(!revision.container_names_required());
        assert!(
            site("apps", "Deployment")
                .unwrap()
                .container_names_required()
        );
        assert!(site("", "Service").is_none());
    }

    #[test]
    fn a_container_written_alone_is_a_field_of_an_inline_pod_spec() {
        let isvc = grouped_site("serving.kserve.io", "InferenceService").unwrap();
        assert!(isvc.holds_container_alone(&["spec", "predictor", "sklearn"]));
        assert!(isvc.holds_container_alone(&["spec", "explainer", "art"]));
        assert!(isvc.holds_container_alone(&["spec", "predictor", "workerSpec", "model"]));
        assert!(!isvc.holds_container_alone(&["spec", "predictor", "sklearn", "model"]));
        assert!(!isvc.holds_container_alone(&["spec", "model"]));
        assert!(!isvc.holds_container_alone(&["spec", "predictor", "containers"]));
        assert!(!isvc.holds_container_alone(&[]));
        let ray = grouped_site("ray.io", "RayCluster").unwrap();
        assert!(!ray.holds_container_alone(&[
            "spec",
            "headGroupSpec",
            "template",
            "spec",
            "model"
        ]));
    }

    #[test]
    fn grouped_templates_are_found_under_any_key_or_index() {
        let specs = |found: Vec<(String, String)>| -> Vec<String> {
            found.into_iter().map(|(spec, _)| spec).collect()
        };
        let ray = serde_json::json!({"spec": {
            "headGroupSpec": {"template": {"spec": {}}},
            "workerGroupSpecs": [{"template": {"spec": {}}}, {"groupName": "x"}, {"template": {}}],
        }});
        assert_eq!(
            specs(
                grouped_site("ray.io", "RayCluster")
                    .unwrap()
                    .pod_specs_in(&ray)
            ),
            [
                "/spec/headGroupSpec/template/spec",
                "/spec/workerGroupSpecs/0/template/spec",
                "/spec/workerGroupSpecs/2/template/spec"
            ]
        );
        let pytorch = serde_json::json!({"spec": {"pytorchReplicaSpecs": {
            "Master": {"template": {"spec": {}}},
            "a/b~": {"template": {"spec": {}}},
            "Worker": {"template": "not a template"},
        }}});
        assert_eq!(
            grouped_site("kubeflow.org", "PyTorchJob")
                .unwrap()
                .pod_specs_in(&pytorch),
            [
                (
                    "/spec/pytorchReplicaSpecs/Master/template/spec".to_string(),
                    "/spec/pytorchReplicaSpecs/Master/template/metadata".to_string()
                ),
                (
                    "/spec/pytorchReplicaSpecs/a~1b~0/template/spec".to_string(),
                    "/spec/pytorchReplicaSpecs/a~1b~0/template/metadata".to_string()
                )
            ]
        );
        let many = serde_json::json!({"spec": {"workerGroupSpecs": vec![serde_json::json!({"template": {}}); 500]}});
        assert_eq!(
            grouped_site("ray.io", "RayCluster")
                .unwrap()
                .pod_specs_in(&many)
                .len(),
            MAX_GROUPED_TEMPLATES
        );
        let kserve =
            serde_json::json!({"spec": {"predictor": {"containers": []}, "explainer": {}}});
        let isvc = grouped_site("serving.kserve.io", "InferenceService").unwrap();
        assert_eq!(
            specs(isvc.pod_specs_in(&kserve)),
            ["/spec/predictor", "/spec/explainer"]
        );
        assert!(isvc.holds(&["spec", "predictor", "containers", "0", "image"]));
        assert!(!isvc.holds(&["spec", "predictor"]));
        assert!(!isvc.holds(&["spec", "scaleTarget"]));
        let site = grouped_site("jobset.x-k8s.io", "JobSet").unwrap();
        assert!(site.holds(&[
            "spec",
            "replicatedJobs",
            "3",
            "template",
            "spec",
            "template",
            "spec",
            "containers",
            "0",
            "image"
        ]));
        assert!(site.holds(&[
            "spec",
            "replicatedJobs",
            "0",
            "template",
            "spec",
            "template",
            "metadata",
            "labels",
            "a"
        ]));
        assert!(!site.holds(&[
            "spec",
            "replicatedJobs",
            "0",
            "template",
            "spec",
            "template"
        ]));
        assert!(!site.holds(&["spec", "replicatedJobs", "0", "name"]));
    }
}
