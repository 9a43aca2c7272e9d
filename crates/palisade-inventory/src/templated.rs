//! The pod templates of the objects of kinds with several (a RayCluster's head and worker
//! groups, a JobSet's replicated jobs), each with the containers it runs, found once for an
//! inventory: every object an operator makes from one is matched against them
//! ([`crate::Inventory::template_of`]), and a large cluster's Pods are many while such
//! objects are few.

use std::collections::HashMap;

use serde_json::Value;

use crate::object::Object;
use crate::podspec::{GroupedTemplate, Step, grouped_pod_spec, grouped_templates};

/// A regular container's name and image.
pub(crate) type Signature<'a> = (Option<&'a str>, Option<&'a str>);

/// One template of an object, with its regular containers' names and images.
#[derive(Debug, Clone)]
pub(crate) struct Template {
    pub(crate) template: GroupedTemplate,
    containers: Vec<(Option<String>, Option<String>)>,
    /// The names on its way from the object (the keys of its pointer, and the `name` or
    /// `groupName` of each list item it is in: `Master`, `gpu`), lower-cased: what operators
    /// write into the labels of what they make from it (`training.kubeflow.org/replica-type:
    /// master`, `ray.io/group: gpu`, `jobset.sigs.k8s.io/replicatedjob-name: workers`).
    names: Vec<String>,
}

impl Template {
    /// Whether an object whose regular containers are `own` runs this template's: each of
    /// them, by name and image, is one of `own` (the operator may add its own). A template
    /// without containers is run by nothing.
    pub(crate) fn run_by(&self, own: &[Signature<'_>]) -> bool {
        !self.containers.is_empty()
            && self
                .containers
                .iter()
                .all(|(name, image)| own.contains(&(name.as_deref(), image.as_deref())))
    }

    /// Whether one of its names is a value of `labels` (in any case).
    pub(crate) fn named_by(&self, labels: Option<&serde_json::Map<String, Value>>) -> bool {
        labels.into_iter().flatten().any(|(_, value)| {
            value
                .as_str()
                .is_some_and(|v| self.names.iter().any(|n| n.eq_ignore_ascii_case(v)))
        })
    }
}

/// The names on the way to `template` in `value` ([`Template::names`]).
fn names_on_the_way(value: &Value, template: &GroupedTemplate) -> Vec<String> {
    let mut names = Vec::new();
    for step in template.way(value) {
        match step {
            Step::Key(key) => names.push(key.to_lowercase()),
            Step::Item(item) => {
                for field in ["name", "groupName"] {
                    if let Some(name) = item.get(field).and_then(Value::as_str) {
                        names.push(name.to_lowercase());
                    }
                }
            }
        }
    }
    names
}

/// A template whose containers an object runs.
#[derive(Debug)]
pub(crate) struct Run {
    pub(crate) template: GroupedTemplate,
    /// Whether the object's labels carry the template's name ([`Template::named_by`]).
    pub(crate) named: bool,
    /// Why the object has more power than the template, when it has.
    pub(crate) beyond: Option<String>,
}

/// The templates of each object of a kind with several, by the object's index.
#[derive(Debug, Clone, Default)]
pub(crate) struct Templates(HashMap<usize, Vec<Template>>);

impl Templates {
    /// The templates of `objects` (those of the kinds in `grouped`, by index).
    pub(crate) fn of<'a>(
        objects: &[Object],
        grouped: impl Iterator<Item = &'a usize>,
    ) -> Templates {
        let mut found = HashMap::new();
        for &index in grouped {
            let Some(holder) = objects.get(index) else {
                continue;
            };
            let templates = grouped_templates(holder)
                .into_iter()
                .map(|template| {
                    let containers = regular_containers(grouped_pod_spec(holder, &template))
                        .into_iter()
                        .map(|(name, image)| (name.map(str::to_string), image.map(str::to_string)))
                        .collect();
                    let names = names_on_the_way(&holder.value, &template);
                    Template {
                        template,
                        containers,
                        names,
                    }
                })
                .collect();
            found.insert(index, templates);
        }
        Templates(found)
    }

    /// The templates of the object at `index`; empty for an object of another kind.
    pub(crate) fn of_object(&self, index: usize) -> &[Template] {
        self.0.get(&index).map_or(&[], Vec::as_slice)
    }
}

/// The name and image of each regular container of `spec`.
pub(crate) fn regular_containers(spec: crate::PodSpec<'_>) -> Vec<Signature<'_>> {
    spec.containers()
        .filter(|c| c.kind == crate::ContainerKind::Container && c.alone.is_none())
        .map(|c| {
            let field = |name: &str| c.value.get(name).and_then(Value::as_str);
            (field("name"), field("image"))
        })
        .collect()
}
