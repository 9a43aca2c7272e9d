//! Pod specs inside workloads: where each workload kind keeps its pod template, so a rule
//! written once for a pod spec reports the right path for every kind.

use palisade_core::pod_template::{PodTemplateSite, SITES};
use palisade_core::{JsonPointer, ObjectRef};
use serde_json::Value;

use crate::object::Object;

/// The built-in workload kinds `(group, kind)`, for rules and scans that depend on them.
pub const WORKLOAD_KINDS: &[(&str, &str)] = &[
    ("", "Pod"),
    ("", "ReplicationController"),
    ("apps", "Deployment"),
    ("apps", "StatefulSet"),
    ("apps", "DaemonSet"),
    ("apps", "ReplicaSet"),
    ("batch", "Job"),
    ("batch", "CronJob"),
];

/// Every `(group, kind)` that embeds a pod spec.
pub fn pod_spec_kinds() -> impl Iterator<Item = (&'static str, &'static str)> {
    SITES.iter().map(|w| (w.group, w.kind))
}

fn workload(id: &ObjectRef) -> Option<&'static PodTemplateSite> {
    palisade_core::pod_template::site(id.group(), &id.kind)
}

/// Where objects of `(group, kind)` keep their pod spec (`/spec/template/spec`), for code
/// that holds a bare JSON value rather than an inventory object.
pub fn pod_spec_pointer(group: &str, kind: &str) -> Option<&'static str> {
    palisade_core::pod_template::site(group, kind).map(|w| w.spec)
}

/// The pod spec of a workload.
#[derive(Debug, Clone, Copy)]
pub struct PodSpec<'a> {
    /// Pointer to the spec inside the object, such as `/spec/template/spec`.
    pub pointer: &'a str,
    /// Pointer to the pod (template) metadata.
    pub metadata_pointer: &'a str,
    /// The spec's value; `Value::Null` when the workload has none (for example an Argo Rollout
    /// with `workloadRef`).
    pub value: &'a Value,
    /// Fields of the spec that each hold one container written alone (KServe's
    /// `predictor.model`), after the lists of [`PodSpec::containers`].
    pub containers_alone: &'static [&'static str],
}

impl<'a> PodSpec<'a> {
    /// The labels its pods get: those of its metadata in `object`, the object it is a pod
    /// spec of (`None` when they have none).
    pub fn labels<'o>(&self, object: &'o Object) -> Option<&'o serde_json::Map<String, Value>> {
        palisade_core::pointer::lookup(&object.value, self.metadata_pointer)?
            .get("labels")?
            .as_object()
    }

    /// The pointer to a field of the spec, such as `hostNetwork`.
    pub fn field(&self, name: &str) -> JsonPointer {
        JsonPointer::parse(self.pointer)
            .unwrap_or_default()
            .join(name)
    }

    /// Every container: regular, init and ephemeral, in that order, then the regular ones
    /// written alone ([`PodSpec::containers_alone`]), numbered after the regular list.
    pub fn containers(&self) -> impl Iterator<Item = Container<'a>> + 'a {
        let spec = self.value;
        let base = JsonPointer::parse(self.pointer).unwrap_or_default();
        let listed = {
            let base = base.clone();
            ContainerKind::ALL.into_iter().flat_map(move |kind| {
                let base = base.clone();
                spec.get(kind.field())
                    .and_then(Value::as_array)
                    .into_iter()
                    .flatten()
                    .enumerate()
                    .map(move |(index, value)| Container {
                        kind,
                        index,
                        pointer: base.join(kind.field()).join(index),
                        value,
                        alone: None,
                    })
            })
        };
        let regular = spec
            .get(ContainerKind::Container.field())
            .and_then(Value::as_array)
            .map_or(0, Vec::len);
        let alone = self
            .containers_alone
            .iter()
            .filter_map(move |field| Some((*field, spec.get(*field).filter(|v| v.is_object())?)))
            .enumerate()
            .map(move |(n, (field, value))| Container {
                kind: ContainerKind::Container,
                index: regular + n,
                pointer: base.join(field),
                value,
                alone: Some(field),
            });
        listed.chain(alone)
    }
}

/// The pod spec of `object`, when its kind has one.
pub fn pod_spec(object: &Object) -> Option<PodSpec<'_>> {
    let w = workload(&object.id)?;
    Some(PodSpec {
        pointer: w.spec,
        metadata_pointer: w.metadata,
        value: palisade_core::pointer::lookup(&object.value, w.spec).unwrap_or(&Value::Null),
        containers_alone: &[],
    })
}

/// One pod template of a kind with several ([`palisade_core::pod_template::GROUPED`]): the
/// pointers of its spec and metadata.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GroupedTemplate {
    pub spec: String,
    pub metadata: String,
    /// The fields of an inline pod spec that each hold a container written alone
    /// ([`palisade_core::pod_template::GroupedSite::containers_alone`]).
    pub containers_alone: &'static [&'static str],
}

impl GroupedTemplate {
    /// Where the template stands in its object, as a dotted path without the pod spec's
    /// trailing `spec` (`spec.workerGroupSpecs.0.template`, `spec.predictor`): how fixes and
    /// graph nodes name which of the object's pods they mean.
    pub fn label(&self) -> String {
        JsonPointer::parse(self.place())
            .map(|p| p.dotted())
            .unwrap_or_default()
    }

    /// The pointer of the template (`/spec/workerGroupSpecs/0/template`: its spec's pointer
    /// without the trailing `/spec`), or of the pod spec written inline (`/spec/predictor`),
    /// which is its own metadata.
    pub fn place(&self) -> &str {
        if self.is_inline() {
            return &self.spec;
        }
        self.spec.strip_suffix("/spec").unwrap_or(&self.spec)
    }

    /// Whether the pod spec is written inline, its pods' labels and annotations beside its
    /// fields (see [`palisade_core::pod_template::GroupedSite::pod_specs_in`]).
    pub fn is_inline(&self) -> bool {
        self.spec == self.metadata
    }
}

/// One step on the way from an object to one of its pod templates ([`GroupedTemplate::way`]).
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum Step<'v> {
    /// A key of a map (`workerGroupSpecs`, a Kubeflow job's replica type `Master`).
    Key(&'v str),
    /// An item of a list (a worker group, a replicated job, a node set).
    Item(&'v Value),
}

impl GroupedTemplate {
    /// The steps from `object`'s value to the template's spec, as far as they exist: what
    /// operators name the Pods they make from it by (a worker group's `groupName`, a replica
    /// type).
    pub(crate) fn way<'v>(&self, object: &'v Value) -> Vec<Step<'v>> {
        let mut steps = Vec::new();
        let mut here = object;
        let segments = JsonPointer::parse(&self.spec)
            .map(|p| p.segments().map(|s| s.into_owned()).collect::<Vec<_>>())
            .unwrap_or_default();
        for segment in segments {
            let next = match here {
                Value::Array(items) => {
                    let item = segment.parse::<usize>().ok().and_then(|i| items.get(i));
                    steps.extend(item.map(Step::Item));
                    item
                }
                Value::Object(map) => match map.get_key_value(&segment) {
                    Some((key, next)) => {
                        steps.push(Step::Key(key));
                        Some(next)
                    }
                    None => None,
                },
                _ => None,
            };
            let Some(next) = next else { break };
            here = next;
        }
        steps
    }
}

/// The pod templates of `object` when its kind has several (a RayCluster's head and worker
/// groups), in the order its kind's patterns and the object list them; empty for any other
/// object.
pub fn grouped_templates(object: &Object) -> Vec<GroupedTemplate> {
    grouped_templates_of(object.id.group(), &object.id.kind, &object.value)
}

/// [`grouped_templates`] of an object of `(group, kind)` whose value is `value`, for code that
/// holds a bare JSON value rather than an inventory object (the admission webhook).
pub fn grouped_templates_of(group: &str, kind: &str, value: &Value) -> Vec<GroupedTemplate> {
    let Some(site) = palisade_core::pod_template::grouped_site(group, kind) else {
        return Vec::new();
    };
    site.pod_specs_in(value)
        .into_iter()
        .map(|(spec, metadata)| {
            let mut template = GroupedTemplate {
                spec,
                metadata,
                containers_alone: &[],
            };
            // Only a pod spec written inline holds containers written alone.
            if template.is_inline() {
                template.containers_alone = site.containers_alone;
            }
            template
        })
        .collect()
}

/// The pod spec of one of `object`'s [`grouped_templates`].
pub fn grouped_pod_spec<'a>(object: &'a Object, template: &'a GroupedTemplate) -> PodSpec<'a> {
    PodSpec {
        pointer: &template.spec,
        metadata_pointer: &template.metadata,
        value: palisade_core::pointer::lookup(&object.value, &template.spec)
            .unwrap_or(&Value::Null),
        containers_alone: template.containers_alone,
    }
}

/// Every `(group, kind)` with several pod templates.
pub fn grouped_pod_spec_kinds() -> impl Iterator<Item = (&'static str, &'static str)> {
    palisade_core::pod_template::GROUPED
        .iter()
        .map(|w| (w.group, w.kind))
}

/// The pod template a ControllerRevision records (a DaemonSet's or StatefulSet's): its
/// `data.spec.template`, written as a patch that replaces the controller's template
/// (`$patch: replace`). `None` for another object, or a revision that records no template.
pub fn recorded_pod_spec(revision: &Object) -> Option<PodSpec<'_>> {
    Some(PodSpec {
        pointer: "/data/spec/template/spec",
        metadata_pointer: "/data/spec/template/metadata",
        value: recorded_template(revision)?.get("spec")?,
        containers_alone: &[],
    })
}

/// The pod template a ControllerRevision records, with its `$patch: replace` directive
/// ([`recorded_pod_spec`]).
pub(crate) fn recorded_template(revision: &Object) -> Option<&serde_json::Map<String, Value>> {
    if (revision.id.group(), revision.id.kind.as_str()) != ("apps", "ControllerRevision") {
        return None;
    }
    let template = palisade_core::pointer::lookup(&revision.value, "/data/spec/template")?;
    let template = template.as_object()?;
    (template.get("$patch").and_then(Value::as_str) == Some("replace")).then_some(template)
}

/// The labels of `object`'s pods: a Pod's own, a controller's pod template's (`None` when it
/// has no pod spec or its pods have no labels).
pub fn pod_labels(object: &Object) -> Option<&serde_json::Map<String, Value>> {
    pod_spec(object)?.labels(object)
}

/// Which list of the pod spec a container is in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ContainerKind {
    Container,
    Init,
    Ephemeral,
}

impl ContainerKind {
    pub const ALL: [ContainerKind; 3] = [
        ContainerKind::Container,
        ContainerKind::Init,
        ContainerKind::Ephemeral,
    ];

    /// The pod spec field that holds this kind of container.
    pub fn field(self) -> &'static str {
        match self {
            ContainerKind::Container => "containers",
            ContainerKind::Init => "initContainers",
            ContainerKind::Ephemeral => "ephemeralContainers",
        }
    }

    /// How messages name this kind: `container`, `init container`, `ephemeral container`.
    pub fn noun(self) -> &'static str {
        match self {
            ContainerKind::Container => "container",
            ContainerKind::Init => "init container",
            ContainerKind::Ephemeral => "ephemeral container",
        }
    }
}

/// One container of a pod spec.
#[derive(Debug, Clone)]
pub struct Container<'a> {
    pub kind: ContainerKind,
    pub index: usize,
    /// Pointer to the container, such as `/spec/template/spec/containers/0`.
    pub pointer: JsonPointer,
    pub value: &'a Value,
    /// The field of the pod spec that holds it when it is written alone (KServe's `model`),
    /// not as an item of a list.
    pub alone: Option<&'static str>,
}

impl<'a> Container<'a> {
    /// The container's name, or, when it has none, the field that holds it when it is
    /// written alone (`model`), else `#<index>`.
    pub fn name(&self) -> String {
        match (self.value.get("name").and_then(Value::as_str), self.alone) {
            (Some(name), _) | (None, Some(name)) => name.to_string(),
            (None, None) => format!("#{}", self.index),
        }
    }

    /// `container "web"` / `init container "setup"`, for messages.
    pub fn describe(&self) -> String {
        format!("{} \"{}\"", self.kind.noun(), self.name())
    }

    /// The pointer to a field of the container, such as `securityContext/privileged`.
    pub fn field(&self, path: &[&str]) -> JsonPointer {
        self.pointer.join_all(path)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::yaml::{Limits, parse_stream};

    fn object(yaml: &str) -> Object {
        let mut stream = parse_stream(yaml, &Limits::default());
        let doc = stream.documents.remove(0);
        Object::from_value(doc.value, doc.spans, 0, 0).unwrap()
    }

    /// A grouped template is named by where it stands, with pointer escapes undone: the
    /// template of a RayCluster's worker group, a KServe predictor written inline, a
    /// replica type keyed by a name with a slash.
    #[test]
    fn a_grouped_template_is_named_by_its_place() {
        let template = |spec: &str| GroupedTemplate {
            spec: spec.into(),
            metadata: String::new(),
            containers_alone: &[],
        };
        let ray = template("/spec/workerGroupSpecs/0/template/spec");
        assert_eq!(ray.label(), "spec.workerGroupSpecs.0.template");
        let inline = |spec: &str| GroupedTemplate {
            spec: spec.into(),
            metadata: spec.into(),
            containers_alone: &[],
        };
        assert_eq!(inline("/spec/predictor").label(), "spec.predictor");
        assert_eq!(inline("/spec").label(), "spec");
        assert_eq!(
            template("/spec/a~1b/template/spec").label(),
            "spec.a/b.template"
        );
        assert_eq!(template("/spec").label(), "");
        let raycluster = object(
            "apiVersion: ray.io/v1\nkind: RayCluster\nmetadata: {name: r}\nspec:\n  headGroupSpec: {template: {spec: {containers: [{name: head, image: 'ray:2'}]}}}\n  workerGroupSpecs:\n  - {groupName: w, template: {spec: {containers: [{name: worker, image: 'ray:2'}]}}}\n",
        );
        let labels: Vec<String> = grouped_templates(&raycluster)
            .iter()
            .map(GroupedTemplate::label)
            .collect();
        assert_eq!(
            labels,
            [
                "spec.headGroupSpec.template",
                "spec.workerGroupSpecs.0.template"
            ]
        );
    }

    /// A ControllerRevision's recorded template is a pod spec at `/data/spec/template/spec`,
    /// only when it replaces the controller's template.
    #[test]
    fn a_controller_revision_records_a_pod_spec() {
        let revision = |patch: &str| {
            object(&format!(
                "apiVersion: apps/v1\nkind: ControllerRevision\nmetadata: {{name: a-1}}\ndata: {{spec: {{template: {{{patch}spec: {{containers: [{{name: c, image: 'a:1'}}]}}}}}}}}\n"
            ))
        };
        let replaced = revision("$patch: replace, ");
        let spec = recorded_pod_spec(&replaced).unwrap();
        assert_eq!(spec.pointer, "/data/spec/template/spec");
        assert_eq!(spec.containers().count(), 1);
        assert!(recorded_pod_spec(&revision("")).is_none());
        assert!(recorded_pod_spec(&object("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\ndata: {spec: {template: {$patch: replace, spec: {}}}}\n")).is_none());
    }

    fn container_paths(yaml: &str) -> Vec<String> {
        let obj = object(yaml);
        let spec = pod_spec(&obj).expect("a workload");
        spec.containers().map(|c| c.pointer.to_string()).collect()
    }

    /// A KServe component's implementation container, written alone in its inline pod spec,
    /// is one of its regular containers, after the listed ones; a transformer's spec holds
    /// none, and a field of that name in a template is no container.
    #[test]
    fn a_container_written_alone_is_a_container_of_its_pod_spec() {
        let isvc = object(
            "apiVersion: serving.kserve.io/v1beta1\nkind: InferenceService\nmetadata: {name: m, namespace: ml}\nspec:\n  predictor:\n    containers: [{name: proxy, image: 'envoy:1'}]\n    model: {modelFormat: {name: sklearn}, securityContext: {privileged: true}}\n  transformer:\n    containers: [{name: t, image: 't:1'}]\n",
        );
        let templates = grouped_templates(&isvc);
        let containers: Vec<Vec<(String, String, bool)>> = templates
            .iter()
            .map(|t| {
                grouped_pod_spec(&isvc, t)
                    .containers()
                    .map(|c| (c.pointer.to_string(), c.describe(), c.alone.is_some()))
                    .collect()
            })
            .collect();
        let c = |pointer: &str, describe: &str, alone: bool| {
            (pointer.to_string(), describe.to_string(), alone)
        };
        assert_eq!(
            containers,
            [
                vec![
                    c("/spec/predictor/containers/0", "container \"proxy\"", false),
                    c("/spec/predictor/model", "container \"model\"", true),
                ],
                vec![c(
                    "/spec/transformer/containers/0",
                    "container \"t\"",
                    false
                )],
            ]
        );
        assert_eq!(templates[0].metadata, "/spec/predictor");
        let ray = object(
            "apiVersion: ray.io/v1\nkind: RayCluster\nmetadata: {name: r}\nspec:\n  headGroupSpec: {template: {spec: {model: {image: x}, containers: [{name: head, image: 'ray:2'}]}}}\n",
        );
        let template = &grouped_templates(&ray)[0];
        assert_eq!(grouped_pod_spec(&ray, template).containers().count(), 1);
    }

    #[test]
    fn every_workload_kind_yields_its_pod_spec_path() {
        let cases = [
            (
                "v1",
                "Pod",
                "spec:\n  containers: [{name: a}]",
                "/spec/containers/0",
            ),
            (
                "v1",
                "PodTemplate",
                "template:\n  spec:\n    containers: [{name: a}]",
                "/template/spec/containers/0",
            ),
            (
                "v1",
                "ReplicationController",
                "spec:\n  template:\n    spec:\n      containers: [{name: a}]",
                "/spec/template/spec/containers/0",
            ),
            (
                "apps/v1",
                "Deployment",
                "spec:\n  template:\n    spec:\n      containers: [{name: a}]",
                "/spec/template/spec/containers/0",
            ),
            (
                "apps/v1",
                "StatefulSet",
                "spec:\n  template:\n    spec:\n      containers: [{name: a}]",
                "/spec/template/spec/containers/0",
            ),
            (
                "apps/v1",
                "DaemonSet",
                "spec:\n  template:\n    spec:\n      containers: [{name: a}]",
                "/spec/template/spec/containers/0",
            ),
            (
                "apps/v1",
                "ReplicaSet",
                "spec:\n  template:\n    spec:\n      containers: [{name: a}]",
                "/spec/template/spec/containers/0",
            ),
            (
                "batch/v1",
                "Job",
                "spec:\n  template:\n    spec:\n      containers: [{name: a}]",
                "/spec/template/spec/containers/0",
            ),
            (
                "batch/v1",
                "CronJob",
                "spec:\n  jobTemplate:\n    spec:\n      template:\n        spec:\n          containers: [{name: a}]",
                "/spec/jobTemplate/spec/template/spec/containers/0",
            ),
            (
                "argoproj.io/v1alpha1",
                "Rollout",
                "spec:\n  template:\n    spec:\n      containers: [{name: a}]",
                "/spec/template/spec/containers/0",
            ),
            (
                "serving.knative.dev/v1",
                "Service",
                "spec:\n  template:\n    spec:\n      containers: [{image: a}]",
                "/spec/template/spec/containers/0",
            ),
        ];
        for (api, kind, body, expected) in cases {
            let yaml = format!("apiVersion: {api}\nkind: {kind}\nmetadata: {{name: x}}\n{body}\n");
            assert_eq!(container_paths(&yaml), [expected], "{kind}");
        }
    }

    #[test]
    fn core_service_is_not_a_workload_but_knative_service_is() {
        let core = object("apiVersion: v1\nkind: Service\nmetadata: {name: x}\n");
        assert!(pod_spec(&core).is_none());
        let knative =
            object("apiVersion: serving.knative.dev/v1\nkind: Service\nmetadata: {name: x}\n");
        assert!(pod_spec(&knative).is_some());
    }

    #[test]
    fn lists_init_and_ephemeral_containers_after_regular_ones() {
        let paths = container_paths(
            "apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n  initContainers: [{name: i}]\n  \
             containers: [{name: a}, {name: b}]\n  ephemeralContainers: [{name: e}]\n",
        );
        assert_eq!(
            paths,
            [
                "/spec/containers/0",
                "/spec/containers/1",
                "/spec/initContainers/0",
                "/spec/ephemeralContainers/0"
            ]
        );
    }
}
