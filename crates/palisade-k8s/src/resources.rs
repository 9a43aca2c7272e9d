//! API resources and their names, resolved as kubectl resolves them.

use std::fmt;

use palisade_core::tree::Tree as _;

/// Whether objects of a resource live in a namespace.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    Namespaced,
    Cluster,
}

/// One resource of the API.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiResource {
    /// API group; empty for the core group.
    pub group: String,
    /// The preferred version.
    pub version: String,
    pub kind: String,
    /// The resource name RBAC rules and URLs use (`deployments`).
    pub plural: String,
    pub singular: String,
    pub short_names: Vec<String>,
    pub scope: Scope,
    /// Subresources (`exec`, `log`, `status`, `scale`, ...).
    pub subresources: Vec<String>,
}

impl ApiResource {
    /// `deployments.apps`, or `pods` for the core group.
    pub fn qualified(&self) -> String {
        if self.group.is_empty() {
            self.plural.clone()
        } else {
            format!("{}.{}", self.plural, self.group)
        }
    }

    /// The resource a CustomResourceDefinition (`apiextensions.k8s.io/v1`) defines: its group,
    /// names, scope, storage version and subresources. `None` when it names no group or plural.
    pub fn from_crd(crd: &serde_json::Value) -> Option<ApiResource> {
        let spec = crd.get("spec")?;
        let text = |p: &str| spec.at(p).and_then(serde_json::Value::as_str).unwrap_or("");
        let (group, plural) = (text("/group"), text("/names/plural"));
        if group.is_empty() || plural.is_empty() {
            return None;
        }
        let versions = spec
            .get("versions")
            .and_then(serde_json::Value::as_array)
            .map_or(&[][..], Vec::as_slice);
        let version = versions
            .iter()
            .find(|v| v["storage"] == true)
            .or(versions.first())
            .and_then(|v| v["name"].as_str())
            .unwrap_or("");
        let subresources = ["status", "scale"]
            .into_iter()
            .filter(|name| {
                versions
                    .iter()
                    .any(|v| v.at(&format!("/subresources/{name}")).is_some())
            })
            .map(str::to_string)
            .collect();
        Some(ApiResource {
            group: group.into(),
            version: version.into(),
            kind: text("/names/kind").into(),
            plural: plural.into(),
            singular: text("/names/singular").into(),
            short_names: spec
                .at("/names/shortNames")
                .and_then(serde_json::Value::as_array)
                .map(|a| {
                    a.iter()
                        .filter_map(|s| s.as_str().map(str::to_string))
                        .collect()
                })
                .unwrap_or_default(),
            scope: if text("/scope") == "Cluster" {
                Scope::Cluster
            } else {
                Scope::Namespaced
            },
            subresources,
        })
    }

    fn answers_to(&self, name: &str) -> bool {
        self.plural.eq_ignore_ascii_case(name)
            || self.singular.eq_ignore_ascii_case(name)
            || self.kind.eq_ignore_ascii_case(name)
            || self
                .short_names
                .iter()
                .any(|s| s.eq_ignore_ascii_case(name))
    }
}

/// A resource name resolved to what RBAC rules and requests name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Resolved {
    pub group: String,
    /// The plural resource name, or `*`.
    pub resource: String,
    /// Empty when none was given.
    pub subresource: String,
    /// The kind, when the resource is known.
    pub kind: Option<String>,
    pub scope: Option<Scope>,
}

/// Why a resource name could not be resolved.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ResolveError {
    /// No resource of any known group answers to the name.
    #[error("unknown resource `{name}`{}", suggest(.suggestions))]
    Unknown {
        name: String,
        suggestions: Vec<String>,
    },
    /// Several groups serve a resource of that name and none is the core group.
    #[error("`{name}` is served by several API groups ({}); name one, such as `{}`", .candidates.join(", "), .candidates[0])]
    Ambiguous {
        name: String,
        candidates: Vec<String>,
    },
    /// The resource has no such subresource.
    #[error("`{resource}` has no subresource `{subresource}`{}", known_list(.known))]
    UnknownSubresource {
        resource: String,
        subresource: String,
        known: Vec<String>,
    },
}

fn suggest(suggestions: &[String]) -> String {
    if suggestions.is_empty() {
        " (see `kubectl api-resources`; custom resources are known from their CustomResourceDefinition in the input, or from the cluster with --cluster)".into()
    } else {
        format!("; did you mean {}?", suggestions.join(", "))
    }
}

fn known_list(known: &[String]) -> String {
    if known.is_empty() {
        " (it has none)".into()
    } else {
        format!(" (it has {})", known.join(", "))
    }
}

/// `(group, version, kind, plural, singular, short names, namespaced, subresources)` of the
/// built-in API, Kubernetes v1.33, plus the names RBAC uses for non-object resources
/// (`users`, `groups` and `serviceaccounts` for impersonation, `signers`).
type Row = (
    &'static str,
    &'static str,
    &'static str,
    &'static str,
    &'static str,
    &'static [&'static str],
    bool,
    &'static [&'static str],
);

const POD_SUBRESOURCES: &[&str] = &[
    "attach",
    "binding",
    "ephemeralcontainers",
    "eviction",
    "exec",
    "log",
    "portforward",
    "proxy",
    "resize",
    "status",
];

/// Custom resources of well-known projects that Palisade's built-in rules judge (workloads
/// with a pod template, a service mesh's policies), as their CustomResourceDefinitions name
/// them: what `palisade install` sends the webhook before the cluster's own definitions are
/// read. Not part of [`Catalogue::builtin`], which is the Kubernetes API alone.
const WELL_KNOWN_CUSTOM: &[Row] = &[
    (
        "argoproj.io",
        "v1alpha1",
        "Rollout",
        "rollouts",
        "rollout",
        &["ro"],
        true,
        &["status", "scale"],
    ),
    (
        "serving.knative.dev",
        "v1",
        "Service",
        "services",
        "service",
        &["kservice", "ksvc"],
        true,
        &["status"],
    ),
    (
        "serving.knative.dev",
        "v1",
        "Configuration",
        "configurations",
        "configuration",
        &["config", "cfg"],
        true,
        &["status"],
    ),
    (
        "serving.knative.dev",
        "v1",
        "Revision",
        "revisions",
        "revision",
        &["rev"],
        true,
        &["status"],
    ),
    (
        "apps.openshift.io",
        "v1",
        "DeploymentConfig",
        "deploymentconfigs",
        "deploymentconfig",
        &["dc"],
        true,
        &["status", "scale"],
    ),
    (
        "apps.kruise.io",
        "v1alpha1",
        "CloneSet",
        "clonesets",
        "cloneset",
        &[],
        true,
        &["status", "scale"],
    ),
    (
        "keda.sh",
        "v1alpha1",
        "ScaledJob",
        "scaledjobs",
        "scaledjob",
        &["sj"],
        true,
        &["status"],
    ),
    (
        "kubeflow.org",
        "v1",
        "Notebook",
        "notebooks",
        "notebook",
        &[],
        true,
        &["status"],
    ),
    (
        "agents.x-k8s.io",
        "v1alpha1",
        "Sandbox",
        "sandboxes",
        "sandbox",
        &[],
        true,
        &[],
    ),
    (
        "extensions.agents.x-k8s.io",
        "v1alpha1",
        "SandboxTemplate",
        "sandboxtemplates",
        "sandboxtemplate",
        &[],
        true,
        &[],
    ),
    // Kinds with several pod templates (a RayCluster's groups, a JobSet's jobs).
    (
        "ray.io",
        "v1",
        "RayCluster",
        "rayclusters",
        "raycluster",
        &[],
        true,
        &[],
    ),
    (
        "ray.io",
        "v1",
        "RayService",
        "rayservices",
        "rayservice",
        &[],
        true,
        &[],
    ),
    (
        "ray.io",
        "v1",
        "RayJob",
        "rayjobs",
        "rayjob",
        &[],
        true,
        &[],
    ),
    (
        "jobset.x-k8s.io",
        "v1alpha2",
        "JobSet",
        "jobsets",
        "jobset",
        &[],
        true,
        &[],
    ),
    (
        "leaderworkerset.x-k8s.io",
        "v1",
        "LeaderWorkerSet",
        "leaderworkersets",
        "leaderworkerset",
        &[],
        true,
        &[],
    ),
    (
        "kubeflow.org",
        "v1",
        "PyTorchJob",
        "pytorchjobs",
        "pytorchjob",
        &[],
        true,
        &[],
    ),
    (
        "kubeflow.org",
        "v1",
        "TFJob",
        "tfjobs",
        "tfjob",
        &[],
        true,
        &[],
    ),
    (
        "kubeflow.org",
        "v2beta1",
        "MPIJob",
        "mpijobs",
        "mpijob",
        &[],
        true,
        &[],
    ),
    (
        "kubeflow.org",
        "v1",
        "XGBoostJob",
        "xgboostjobs",
        "xgboostjob",
        &[],
        true,
        &[],
    ),
    (
        "kubeflow.org",
        "v1",
        "PaddleJob",
        "paddlejobs",
        "paddlejob",
        &[],
        true,
        &[],
    ),
    (
        "kubeflow.org",
        "v1",
        "JAXJob",
        "jaxjobs",
        "jaxjob",
        &[],
        true,
        &[],
    ),
    (
        "trainer.kubeflow.org",
        "v1alpha1",
        "TrainingRuntime",
        "trainingruntimes",
        "trainingruntime",
        &[],
        true,
        &[],
    ),
    (
        "trainer.kubeflow.org",
        "v1alpha1",
        "ClusterTrainingRuntime",
        "clustertrainingruntimes",
        "clustertrainingruntime",
        &[],
        false,
        &[],
    ),
    (
        "kubeflow.org",
        "v2alpha1",
        "TrainingRuntime",
        "trainingruntimes",
        "trainingruntime",
        &[],
        true,
        &[],
    ),
    (
        "kubeflow.org",
        "v2alpha1",
        "ClusterTrainingRuntime",
        "clustertrainingruntimes",
        "clustertrainingruntime",
        &[],
        false,
        &[],
    ),
    (
        "serving.kserve.io",
        "v1beta1",
        "InferenceService",
        "inferenceservices",
        "inferenceservice",
        &["isvc"],
        true,
        &[],
    ),
    (
        "elasticsearch.k8s.elastic.co",
        "v1",
        "Elasticsearch",
        "elasticsearches",
        "elasticsearch",
        &[],
        true,
        &[],
    ),
    (
        "networking.istio.io",
        "v1",
        "DestinationRule",
        "destinationrules",
        "destinationrule",
        &["dr"],
        true,
        &["status"],
    ),
    (
        "security.istio.io",
        "v1",
        "PeerAuthentication",
        "peerauthentications",
        "peerauthentication",
        &["pa"],
        true,
        &["status"],
    ),
];

const BUILTIN: &[Row] = &[
    ("", "v1", "Binding", "bindings", "binding", &[], true, &[]),
    (
        "",
        "v1",
        "ComponentStatus",
        "componentstatuses",
        "componentstatus",
        &["cs"],
        false,
        &[],
    ),
    (
        "",
        "v1",
        "ConfigMap",
        "configmaps",
        "configmap",
        &["cm"],
        true,
        &[],
    ),
    (
        "",
        "v1",
        "Endpoints",
        "endpoints",
        "endpoints",
        &["ep"],
        true,
        &[],
    ),
    ("", "v1", "Event", "events", "event", &["ev"], true, &[]),
    (
        "",
        "v1",
        "LimitRange",
        "limitranges",
        "limitrange",
        &["limits"],
        true,
        &[],
    ),
    (
        "",
        "v1",
        "Namespace",
        "namespaces",
        "namespace",
        &["ns"],
        false,
        &["finalize", "status"],
    ),
    (
        "",
        "v1",
        "Node",
        "nodes",
        "node",
        &["no"],
        false,
        &["proxy", "status"],
    ),
    (
        "",
        "v1",
        "PersistentVolumeClaim",
        "persistentvolumeclaims",
        "persistentvolumeclaim",
        &["pvc"],
        true,
        &["status"],
    ),
    (
        "",
        "v1",
        "PersistentVolume",
        "persistentvolumes",
        "persistentvolume",
        &["pv"],
        false,
        &["status"],
    ),
    (
        "",
        "v1",
        "Pod",
        "pods",
        "pod",
        &["po"],
        true,
        POD_SUBRESOURCES,
    ),
    (
        "",
        "v1",
        "PodTemplate",
        "podtemplates",
        "podtemplate",
        &[],
        true,
        &[],
    ),
    (
        "",
        "v1",
        "ReplicationController",
        "replicationcontrollers",
        "replicationcontroller",
        &["rc"],
        true,
        &["scale", "status"],
    ),
    (
        "",
        "v1",
        "ResourceQuota",
        "resourcequotas",
        "resourcequota",
        &["quota"],
        true,
        &["status"],
    ),
    ("", "v1", "Secret", "secrets", "secret", &[], true, &[]),
    (
        "",
        "v1",
        "ServiceAccount",
        "serviceaccounts",
        "serviceaccount",
        &["sa"],
        true,
        &["token"],
    ),
    (
        "",
        "v1",
        "Service",
        "services",
        "service",
        &["svc"],
        true,
        &["proxy", "status"],
    ),
    // Impersonation targets (`impersonate` on users, groups, uids).
    ("", "v1", "User", "users", "user", &[], false, &[]),
    ("", "v1", "Group", "groups", "group", &[], false, &[]),
    ("", "v1", "UID", "uids", "uid", &[], false, &[]),
    (
        "authentication.k8s.io",
        "v1",
        "UserExtra",
        "userextras",
        "userextra",
        &[],
        false,
        &["*"],
    ),
    (
        "admissionregistration.k8s.io",
        "v1",
        "MutatingWebhookConfiguration",
        "mutatingwebhookconfigurations",
        "mutatingwebhookconfiguration",
        &[],
        false,
        &[],
    ),
    (
        "admissionregistration.k8s.io",
        "v1",
        "ValidatingWebhookConfiguration",
        "validatingwebhookconfigurations",
        "validatingwebhookconfiguration",
        &[],
        false,
        &[],
    ),
    (
        "admissionregistration.k8s.io",
        "v1",
        "ValidatingAdmissionPolicy",
        "validatingadmissionpolicies",
        "validatingadmissionpolicy",
        &[],
        false,
        &["status"],
    ),
    (
        "admissionregistration.k8s.io",
        "v1",
        "ValidatingAdmissionPolicyBinding",
        "validatingadmissionpolicybindings",
        "validatingadmissionpolicybinding",
        &[],
        false,
        &[],
    ),
    (
        "apiextensions.k8s.io",
        "v1",
        "CustomResourceDefinition",
        "customresourcedefinitions",
        "customresourcedefinition",
        &["crd", "crds"],
        false,
        &["status"],
    ),
    (
        "apiregistration.k8s.io",
        "v1",
        "APIService",
        "apiservices",
        "apiservice",
        &[],
        false,
        &["status"],
    ),
    (
        "apps",
        "v1",
        "ControllerRevision",
        "controllerrevisions",
        "controllerrevision",
        &[],
        true,
        &[],
    ),
    (
        "apps",
        "v1",
        "DaemonSet",
        "daemonsets",
        "daemonset",
        &["ds"],
        true,
        &["status"],
    ),
    (
        "apps",
        "v1",
        "Deployment",
        "deployments",
        "deployment",
        &["deploy"],
        true,
        &["scale", "status"],
    ),
    (
        "apps",
        "v1",
        "ReplicaSet",
        "replicasets",
        "replicaset",
        &["rs"],
        true,
        &["scale", "status"],
    ),
    (
        "apps",
        "v1",
        "StatefulSet",
        "statefulsets",
        "statefulset",
        &["sts"],
        true,
        &["scale", "status"],
    ),
    (
        "authentication.k8s.io",
        "v1",
        "SelfSubjectReview",
        "selfsubjectreviews",
        "selfsubjectreview",
        &[],
        false,
        &[],
    ),
    (
        "authentication.k8s.io",
        "v1",
        "TokenReview",
        "tokenreviews",
        "tokenreview",
        &[],
        false,
        &[],
    ),
    (
        "authorization.k8s.io",
        "v1",
        "LocalSubjectAccessReview",
        "localsubjectaccessreviews",
        "localsubjectaccessreview",
        &[],
        true,
        &[],
    ),
    (
        "authorization.k8s.io",
        "v1",
        "SelfSubjectAccessReview",
        "selfsubjectaccessreviews",
        "selfsubjectaccessreview",
        &[],
        false,
        &[],
    ),
    (
        "authorization.k8s.io",
        "v1",
        "SelfSubjectRulesReview",
        "selfsubjectrulesreviews",
        "selfsubjectrulesreview",
        &[],
        false,
        &[],
    ),
    (
        "authorization.k8s.io",
        "v1",
        "SubjectAccessReview",
        "subjectaccessreviews",
        "subjectaccessreview",
        &[],
        false,
        &[],
    ),
    (
        "autoscaling",
        "v2",
        "HorizontalPodAutoscaler",
        "horizontalpodautoscalers",
        "horizontalpodautoscaler",
        &["hpa"],
        true,
        &["status"],
    ),
    (
        "batch",
        "v1",
        "CronJob",
        "cronjobs",
        "cronjob",
        &["cj"],
        true,
        &["status"],
    ),
    ("batch", "v1", "Job", "jobs", "job", &[], true, &["status"]),
    (
        "certificates.k8s.io",
        "v1",
        "CertificateSigningRequest",
        "certificatesigningrequests",
        "certificatesigningrequest",
        &["csr"],
        false,
        &["approval", "status"],
    ),
    (
        "certificates.k8s.io",
        "v1",
        "Signer",
        "signers",
        "signer",
        &[],
        false,
        &[],
    ),
    (
        "coordination.k8s.io",
        "v1",
        "Lease",
        "leases",
        "lease",
        &[],
        true,
        &[],
    ),
    (
        "discovery.k8s.io",
        "v1",
        "EndpointSlice",
        "endpointslices",
        "endpointslice",
        &[],
        true,
        &[],
    ),
    (
        "events.k8s.io",
        "v1",
        "Event",
        "events",
        "event",
        &["ev"],
        true,
        &[],
    ),
    (
        "flowcontrol.apiserver.k8s.io",
        "v1",
        "FlowSchema",
        "flowschemas",
        "flowschema",
        &[],
        false,
        &["status"],
    ),
    (
        "flowcontrol.apiserver.k8s.io",
        "v1",
        "PriorityLevelConfiguration",
        "prioritylevelconfigurations",
        "prioritylevelconfiguration",
        &[],
        false,
        &["status"],
    ),
    (
        "networking.k8s.io",
        "v1",
        "IngressClass",
        "ingressclasses",
        "ingressclass",
        &[],
        false,
        &[],
    ),
    (
        "networking.k8s.io",
        "v1",
        "Ingress",
        "ingresses",
        "ingress",
        &["ing"],
        true,
        &["status"],
    ),
    (
        "networking.k8s.io",
        "v1",
        "NetworkPolicy",
        "networkpolicies",
        "networkpolicy",
        &["netpol"],
        true,
        &[],
    ),
    (
        "networking.k8s.io",
        "v1",
        "IPAddress",
        "ipaddresses",
        "ipaddress",
        &["ip"],
        false,
        &[],
    ),
    (
        "networking.k8s.io",
        "v1",
        "ServiceCIDR",
        "servicecidrs",
        "servicecidr",
        &[],
        false,
        &["status"],
    ),
    (
        "node.k8s.io",
        "v1",
        "RuntimeClass",
        "runtimeclasses",
        "runtimeclass",
        &[],
        false,
        &[],
    ),
    (
        "policy",
        "v1",
        "PodDisruptionBudget",
        "poddisruptionbudgets",
        "poddisruptionbudget",
        &["pdb"],
        true,
        &["status"],
    ),
    (
        "rbac.authorization.k8s.io",
        "v1",
        "ClusterRoleBinding",
        "clusterrolebindings",
        "clusterrolebinding",
        &[],
        false,
        &[],
    ),
    (
        "rbac.authorization.k8s.io",
        "v1",
        "ClusterRole",
        "clusterroles",
        "clusterrole",
        &[],
        false,
        &[],
    ),
    (
        "rbac.authorization.k8s.io",
        "v1",
        "RoleBinding",
        "rolebindings",
        "rolebinding",
        &["rb"],
        true,
        &[],
    ),
    (
        "rbac.authorization.k8s.io",
        "v1",
        "Role",
        "roles",
        "role",
        &[],
        true,
        &[],
    ),
    (
        "scheduling.k8s.io",
        "v1",
        "PriorityClass",
        "priorityclasses",
        "priorityclass",
        &["pc"],
        false,
        &[],
    ),
    (
        "storage.k8s.io",
        "v1",
        "CSIDriver",
        "csidrivers",
        "csidriver",
        &[],
        false,
        &[],
    ),
    (
        "storage.k8s.io",
        "v1",
        "CSINode",
        "csinodes",
        "csinode",
        &[],
        false,
        &[],
    ),
    (
        "storage.k8s.io",
        "v1",
        "CSIStorageCapacity",
        "csistoragecapacities",
        "csistoragecapacity",
        &[],
        true,
        &[],
    ),
    (
        "storage.k8s.io",
        "v1",
        "StorageClass",
        "storageclasses",
        "storageclass",
        &["sc"],
        false,
        &[],
    ),
    (
        "storage.k8s.io",
        "v1",
        "VolumeAttachment",
        "volumeattachments",
        "volumeattachment",
        &[],
        false,
        &["status"],
    ),
    (
        "metrics.k8s.io",
        "v1beta1",
        "NodeMetrics",
        "nodes",
        "node",
        &[],
        false,
        &[],
    ),
    (
        "metrics.k8s.io",
        "v1beta1",
        "PodMetrics",
        "pods",
        "pod",
        &[],
        true,
        &[],
    ),
];

/// Declares the verbs of requests and every verb the API server authorizes from one list of
/// each, so the second holds the first.
macro_rules! verbs {
    (requests: [$($request:literal),*], special: [$($special:literal),*]) => {
        /// The verbs of requests to resources (an audit event's `verb`).
        pub const REQUEST_VERBS: &[&str] = &[$($request),*];
        /// The verbs the API server authorizes: the request verbs and the special verbs RBAC
        /// checks.
        pub const VERBS: &[&str] = &[$($request,)* $($special),*];
    };
}

verbs!(
    requests: [
        "get",
        "list",
        "watch",
        "create",
        "update",
        "patch",
        "delete",
        "deletecollection"
    ],
    special: ["use", "bind", "escalate", "impersonate", "approve", "sign", "attest", "*"]
);

/// Checks a verb against [`VERBS`], case-sensitively as the API server does; suggests the
/// nearest when it is unknown.
pub fn check_verb(verb: &str) -> Result<(), String> {
    if VERBS.contains(&verb) {
        return Ok(());
    }
    let lower = verb.to_ascii_lowercase();
    let nearest: Vec<&str> = VERBS
        .iter()
        .copied()
        .filter(|v| *v == lower || distance(v, &lower) <= 2)
        .take(3)
        .collect();
    Err(if nearest.is_empty() {
        format!(
            "unknown verb `{verb}` (expected one of: {})",
            VERBS.join(", ")
        )
    } else {
        format!(
            "unknown verb `{verb}`; did you mean {}?",
            nearest.join(", ")
        )
    })
}

/// The resources an analysis knows: the built-in API, plus custom resources.
#[derive(Debug, Clone)]
pub struct Catalogue {
    resources: Vec<ApiResource>,
}

impl Default for Catalogue {
    fn default() -> Self {
        Catalogue::builtin()
    }
}

/// The group and kind of a built-in resource by its plural (`deployments` is `apps`
/// `Deployment`), in `group` when several groups define that plural, else in the first group
/// that does (audit events of old API servers leave the group out); `None` for a resource
/// Kubernetes does not define.
pub fn builtin_resource(group: &str, plural: &str) -> Option<(&'static str, &'static str)> {
    builtin_entry(group, plural).map(|(group, _, kind, ..)| (*group, *kind))
}

/// The built-in table's row of a plural: in `group`, else in the first group defining it.
fn builtin_entry(group: &str, plural: &str) -> Option<&'static Row> {
    BUILTIN
        .iter()
        .find(|(g, _, _, p, ..)| *g == group && *p == plural)
        .or_else(|| BUILTIN.iter().find(|(_, _, _, p, ..)| *p == plural))
}

/// Whether a built-in resource (found as [`builtin_resource`] finds it) lives in namespaces;
/// `None` for a resource Kubernetes does not define.
pub fn builtin_resource_namespaced(group: &str, plural: &str) -> Option<bool> {
    builtin_entry(group, plural).map(|(.., namespaced, _)| *namespaced)
}

/// Whether a built-in kind of `group` lives in namespaces; `None` for a kind Kubernetes does
/// not define there.
pub fn builtin_kind_namespaced(group: &str, kind: &str) -> Option<bool> {
    BUILTIN
        .iter()
        .find(|(g, _, k, ..)| *g == group && *k == kind)
        .map(|(.., namespaced, _)| *namespaced)
}

/// The plural resource name the API server most likely serves kind `kind` under, when no
/// discovery or definition says, as CustomResourceDefinitions name them by convention: lower
/// case, `es` after a final `s` (`GatewayClass`, `gatewayclasses`), `ies` for a final `y`
/// after a consonant (`EnvoyProxy`, `envoyproxies`), `s` otherwise (`Gateway`, `gateways`).
pub fn guess_plural(kind: &str) -> String {
    let lower = kind.to_ascii_lowercase();
    let vowel_before_y = |stem: &str| stem.ends_with(['a', 'e', 'i', 'o', 'u']);
    if lower.ends_with('s') {
        format!("{lower}es")
    } else if let Some(stem) = lower.strip_suffix('y').filter(|stem| !vowel_before_y(stem)) {
        format!("{stem}ies")
    } else {
        format!("{lower}s")
    }
}

/// Whether `group` holds configuration file formats (`KubeletConfiguration`, audit
/// `Policy`, `EncryptionConfiguration`) that no API server serves.
pub fn is_file_format_group(group: &str) -> bool {
    group.ends_with(".config.k8s.io") || group == "audit.k8s.io"
}

/// The kind of a built-in resource by its plural, as [`builtin_resource`] finds it.
pub fn builtin_kind(group: &str, plural: &str) -> Option<&'static str> {
    builtin_resource(group, plural).map(|(_, kind)| kind)
}

fn resource_of(
    (group, version, kind, plural, singular, short, namespaced, subs): &Row,
) -> ApiResource {
    ApiResource {
        group: (*group).into(),
        version: (*version).into(),
        kind: (*kind).into(),
        plural: (*plural).into(),
        singular: (*singular).into(),
        short_names: short.iter().map(|s| (*s).into()).collect(),
        scope: if *namespaced {
            Scope::Namespaced
        } else {
            Scope::Cluster
        },
        subresources: subs.iter().map(|s| (*s).into()).collect(),
    }
}

impl Catalogue {
    /// The built-in API of Kubernetes v1.33.
    pub fn builtin() -> Catalogue {
        Catalogue {
            resources: BUILTIN.iter().map(resource_of).collect(),
        }
    }

    /// [`Catalogue::builtin`] with the custom resources of well-known projects that
    /// Palisade's rules judge (Argo Rollouts, Knative, OpenShift DeploymentConfigs, Istio's
    /// DestinationRules and PeerAuthentications), for what is decided before a cluster's
    /// definitions are read (the webhook's rules at install).
    pub fn builtin_with_well_known() -> Catalogue {
        let mut catalogue = Catalogue::builtin();
        for row in WELL_KNOWN_CUSTOM {
            catalogue.add_if_unknown(resource_of(row));
        }
        catalogue
    }

    /// A catalogue of exactly these resources (a cluster's discovery).
    pub fn from_resources(resources: Vec<ApiResource>) -> Catalogue {
        Catalogue { resources }
    }

    /// Adds a resource (a custom resource from its CustomResourceDefinition); one of the same
    /// group and plural is replaced.
    pub fn add(&mut self, resource: ApiResource) {
        self.resources
            .retain(|r| !(r.group == resource.group && r.plural == resource.plural));
        self.resources.push(resource);
    }

    /// Adds a resource unless one of the same group and plural is known (a cluster's
    /// discovery adds what the built-in table lacks, without losing its short names).
    pub fn add_if_unknown(&mut self, resource: ApiResource) {
        let known = self
            .resources
            .iter()
            .any(|r| r.group == resource.group && r.plural == resource.plural);
        if !known {
            self.resources.push(resource);
        }
    }

    pub fn resources(&self) -> &[ApiResource] {
        &self.resources
    }

    /// The resource of a kind in a group.
    pub fn by_kind(&self, group: &str, kind: &str) -> Option<&ApiResource> {
        self.resources
            .iter()
            .find(|r| r.group == group && r.kind == kind)
    }

    /// Resolves `name[.group][/subresource]` as kubectl does: plural, singular, kind or short
    /// name, case-insensitively; `resource.version.group` is accepted; `*` is every resource
    /// (of the group given). When several groups serve a name, the core group wins (as in
    /// kubectl's discovery order); otherwise the name is ambiguous.
    pub fn resolve(&self, text: &str) -> Result<Resolved, ResolveError> {
        let text = text.trim();
        let (main, sub) = text.split_once('/').unwrap_or((text, ""));
        let (name, group) = match main.split_once('.') {
            Some((name, rest)) => (name, Some(strip_version(rest))),
            None => (main, None),
        };
        if name == "*" {
            return Ok(Resolved {
                group: group.unwrap_or("").to_string(),
                resource: "*".into(),
                subresource: sub.into(),
                kind: None,
                scope: None,
            });
        }
        let matches: Vec<&ApiResource> = self
            .resources
            .iter()
            .filter(|r| group.is_none_or(|g| r.group.eq_ignore_ascii_case(g)) && r.answers_to(name))
            .collect();
        let chosen = match matches.as_slice() {
            [] => {
                return Err(ResolveError::Unknown {
                    name: main.to_string(),
                    suggestions: self.suggestions(name),
                });
            }
            [one] => *one,
            many => match many.iter().find(|r| r.group.is_empty()) {
                Some(core) => *core,
                None => {
                    return Err(ResolveError::Ambiguous {
                        name: main.to_string(),
                        candidates: many.iter().map(|r| r.qualified()).collect(),
                    });
                }
            },
        };
        if !sub.is_empty()
            && sub != "*"
            && !chosen.subresources.iter().any(|s| s == sub || s == "*")
        {
            return Err(ResolveError::UnknownSubresource {
                resource: chosen.qualified(),
                subresource: sub.into(),
                known: chosen.subresources.clone(),
            });
        }
        Ok(Resolved {
            group: chosen.group.clone(),
            resource: chosen.plural.clone(),
            subresource: sub.into(),
            kind: Some(chosen.kind.clone()),
            scope: Some(chosen.scope),
        })
    }

    /// Names close to `name` (edit distance, or a shared prefix), for an error message.
    fn suggestions(&self, name: &str) -> Vec<String> {
        let name = name.to_ascii_lowercase();
        let mut scored: Vec<(usize, String)> = self
            .resources
            .iter()
            .filter_map(|r| {
                let best = std::iter::once(r.plural.as_str())
                    .chain(std::iter::once(r.singular.as_str()))
                    .chain(r.short_names.iter().map(String::as_str))
                    .map(|candidate| distance(candidate, &name))
                    .min()?;
                let prefix = name.len() >= 3 && r.plural.starts_with(&name);
                (best <= 2 || prefix).then(|| (best, r.qualified()))
            })
            .collect();
        scored.sort();
        scored.dedup_by(|a, b| a.1 == b.1);
        scored.into_iter().take(3).map(|(_, n)| n).collect()
    }
}

/// `v1.apps` is `apps`; `apps` stays.
fn strip_version(rest: &str) -> &str {
    match rest.split_once('.') {
        Some((version, group))
            if version.starts_with('v')
                && version[1..].starts_with(|c: char| c.is_ascii_digit()) =>
        {
            group
        }
        _ => rest,
    }
}

/// Levenshtein distance (names are short).
fn distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut previous: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut current = vec![i + 1];
        for (j, cb) in b.iter().enumerate() {
            let cost = usize::from(ca != *cb);
            current.push(
                (previous[j] + cost)
                    .min(previous[j + 1] + 1)
                    .min(current[j] + 1),
            );
        }
        previous = current;
    }
    previous[b.len()]
}

impl fmt::Display for Resolved {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.resource)?;
        if !self.group.is_empty() {
            write!(f, ".{}", self.group)?;
        }
        if !self.subresource.is_empty() {
            write!(f, "/{}", self.subresource)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn plurals_are_guessed_as_custom_resources_name_them() {
        use super::{guess_plural, is_file_format_group};
        for (kind, plural) in [
            ("Gateway", "gateways"),
            ("GatewayClass", "gatewayclasses"),
            ("EnvoyProxy", "envoyproxies"),
            ("ContourDeployment", "contourdeployments"),
            ("ClusterSecretStore", "clustersecretstores"),
        ] {
            assert_eq!(guess_plural(kind), plural);
        }
        assert!(is_file_format_group("kubelet.config.k8s.io"));
        assert!(!is_file_format_group("gateway.networking.k8s.io"));
    }

    use super::*;

    fn resolve(text: &str) -> Result<String, ResolveError> {
        Catalogue::builtin().resolve(text).map(|r| r.to_string())
    }

    #[test]
    fn names_resolve_as_kubectl_resolves_them() {
        for (text, expected) in [
            ("deployments", "deployments.apps"),
            ("deployment", "deployments.apps"),
            ("deploy", "deployments.apps"),
            ("Deployment", "deployments.apps"),
            ("deployments.apps", "deployments.apps"),
            ("deployments.v1.apps", "deployments.apps"),
            ("rb", "rolebindings.rbac.authorization.k8s.io"),
            ("sa", "serviceaccounts"),
            ("pods/exec", "pods/exec"),
            ("po/log", "pods/log"),
            ("events", "events"),
            ("events.events.k8s.io", "events.events.k8s.io"),
            ("pods", "pods"),
            (
                "csr/approval",
                "certificatesigningrequests.certificates.k8s.io/approval",
            ),
            ("*", "*"),
        ] {
            assert_eq!(resolve(text).as_deref(), Ok(expected), "{text}");
        }
    }

    #[test]
    fn unknown_names_suggest_and_ambiguous_names_ask_for_the_group() {
        let Err(ResolveError::Unknown { suggestions, .. }) = resolve("deploymnets") else {
            panic!("expected unknown");
        };
        assert_eq!(suggestions, ["deployments.apps"]);
        assert!(matches!(
            resolve("pods/shell"),
            Err(ResolveError::UnknownSubresource { .. })
        ));
        let mut catalogue = Catalogue::builtin();
        for group in ["a.example.com", "b.example.com"] {
            catalogue.add(ApiResource {
                group: group.into(),
                version: "v1".into(),
                kind: "Widget".into(),
                plural: "widgets".into(),
                singular: "widget".into(),
                short_names: vec![],
                scope: Scope::Namespaced,
                subresources: vec![],
            });
        }
        let err = catalogue.resolve("widgets").unwrap_err();
        assert!(matches!(err, ResolveError::Ambiguous { .. }), "{err}");
        assert!(err.to_string().contains("widgets.a.example.com"), "{err}");
        assert_eq!(
            catalogue.resolve("widgets.b.example.com").unwrap().group,
            "b.example.com"
        );
    }

    #[test]
    fn custom_resources_come_from_their_definition() {
        let crd = serde_json::json!({"spec": {"group": "ops.example.com", "scope": "Cluster",
            "names": {"plural": "backups", "singular": "backup", "kind": "Backup", "shortNames": ["bk"]},
            "versions": [{"name": "v1alpha1"}, {"name": "v1", "storage": true, "subresources": {"status": {}}}]}});
        let resource = ApiResource::from_crd(&crd).unwrap();
        assert_eq!(resource.version, "v1");
        assert_eq!(resource.scope, Scope::Cluster);
        assert_eq!(resource.subresources, ["status"]);
        let mut catalogue = Catalogue::builtin();
        catalogue.add(resource);
        assert_eq!(
            catalogue.resolve("bk/status").unwrap().to_string(),
            "backups.ops.example.com/status"
        );
        assert!(ApiResource::from_crd(&serde_json::json!({"spec": {}})).is_none());
    }

    #[test]
    fn verbs_are_checked() {
        assert!(check_verb("get").is_ok());
        assert!(check_verb("*").is_ok());
        assert!(check_verb("gett").unwrap_err().contains("get"));
        assert!(check_verb("GET").unwrap_err().contains("did you mean get"));
    }

    #[test]
    fn a_builtin_kind_is_found_by_its_plural() {
        assert_eq!(builtin_kind("apps", "deployments"), Some("Deployment"));
        assert_eq!(
            builtin_kind("rbac.authorization.k8s.io", "clusterrolebindings"),
            Some("ClusterRoleBinding")
        );
        // Without its group (old audit events omit it), and in another group of the plural.
        assert_eq!(builtin_kind("", "cronjobs"), Some("CronJob"));
        assert_eq!(builtin_kind("events.k8s.io", "events"), Some("Event"));
        assert_eq!(builtin_kind("", "widgets"), None);
        assert_eq!(
            builtin_resource("", "deployments"),
            Some(("apps", "Deployment"))
        );
    }
}

/// Which kinds are namespaced, for a set of objects: the built-in API, the
/// CustomResourceDefinitions among the objects, and, for a kind still unknown, what its
/// objects from a cluster say (an object listed from a cluster has a namespace exactly when its
/// kind is namespaced). A kind nothing tells about is taken as namespaced, as most are.
#[derive(Debug, Clone)]
pub struct Scopes {
    by_kind: std::collections::HashMap<(String, String), Scope>,
}

impl Scopes {
    /// `crds` are the CustomResourceDefinitions found; `observed` are `(group, kind,
    /// has a namespace)` of objects read from a cluster.
    pub fn new<'a>(
        crds: impl IntoIterator<Item = &'a serde_json::Value>,
        observed: impl IntoIterator<Item = (&'a str, &'a str, bool)>,
    ) -> Scopes {
        let mut catalogue = Catalogue::builtin();
        for crd in crds {
            if let Some(resource) = ApiResource::from_crd(crd) {
                catalogue.add_if_unknown(resource);
            }
        }
        let mut by_kind: std::collections::HashMap<(String, String), Scope> = catalogue
            .resources
            .into_iter()
            .map(|r| ((r.group, r.kind), r.scope))
            .collect();
        for (group, kind, namespaced) in observed {
            by_kind
                .entry((group.to_string(), kind.to_string()))
                .or_insert(if namespaced {
                    Scope::Namespaced
                } else {
                    Scope::Cluster
                });
        }
        Scopes { by_kind }
    }

    pub fn is_namespaced(&self, group: &str, kind: &str) -> bool {
        self.by_kind
            .get(&(group.to_string(), kind.to_string()))
            .is_none_or(|scope| *scope == Scope::Namespaced)
    }
}

#[cfg(test)]
mod scope_tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn scope_comes_from_the_api_then_crds_then_what_a_cluster_listed() {
        let crd = json!({"apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
            "spec": {"group": "example.com", "scope": "Cluster",
                     "names": {"kind": "Widget", "plural": "widgets", "singular": "widget"},
                     "versions": [{"name": "v1", "served": true, "storage": true}]}});
        let scopes = Scopes::new([&crd], [("cert-manager.io", "ClusterIssuer", false)]);
        assert!(scopes.is_namespaced("", "ConfigMap"));
        assert!(!scopes.is_namespaced("", "Namespace"));
        assert!(!scopes.is_namespaced("rbac.authorization.k8s.io", "ClusterRole"));
        assert!(!scopes.is_namespaced("example.com", "Widget"));
        assert!(!scopes.is_namespaced("cert-manager.io", "ClusterIssuer"));
        assert!(scopes.is_namespaced("unknown.io", "Thing"));
    }
}
