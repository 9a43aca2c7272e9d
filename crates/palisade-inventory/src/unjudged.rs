//! Pod templates no rule reads: a custom resource that embeds pod specs where the catalogue of
//! [`palisade_core::pod_template`] does not say (a Katib Experiment's trial template, a
//! project's own operator). Their containers run in the cluster all the same, so a scan of
//! the manifests says it did not judge them rather than passing them in silence.

use palisade_core::{Diagnostic, DiagnosticLevel, JsonPointer};
use serde_json::Value;

use crate::object::Object;

/// The code of the diagnostic [`diagnostic`] gives.
pub const CODE: &str = "pod-template-not-judged";

/// How deep under `spec` a pod template is looked for, and how many values are looked at in
/// one object at most: a custom resource is not walked without bound.
const MAX_DEPTH: usize = 10;
const MAX_VALUES: usize = 20_000;
/// How many templates a message names.
const NAMED: usize = 4;

/// The pointers of the pod specs `object` embeds that no rule reads: none for a kind of the
/// catalogue or of the Kubernetes API, or for an object read from a cluster (the Pods made
/// from it are there, and judged).
pub fn unjudged_pod_specs(object: &Object) -> Vec<JsonPointer> {
    let group = object.id.group();
    if palisade_core::object::is_builtin_group(group)
        || palisade_core::pod_template::site(group, &object.id.kind).is_some()
        || palisade_core::pod_template::grouped_site(group, &object.id.kind).is_some()
        || crate::fragment::read_from_a_cluster(&object.value)
    {
        return Vec::new();
    }
    let Some(spec) = object.value.get("spec") else {
        return Vec::new();
    };
    let mut found = Vec::new();
    let mut budget = MAX_VALUES;
    walk(
        spec,
        JsonPointer::root().join("spec"),
        0,
        &mut budget,
        &mut found,
    );
    found
}

/// Whether `value` is a pod spec: a non-empty `containers` list whose first item names an
/// image.
fn is_pod_spec(value: &serde_json::Map<String, Value>) -> bool {
    value
        .get("containers")
        .and_then(Value::as_array)
        .and_then(|list| list.first())
        .and_then(|first| first.get("image"))
        .is_some_and(Value::is_string)
}

fn walk(
    value: &Value,
    at: JsonPointer,
    depth: usize,
    budget: &mut usize,
    found: &mut Vec<JsonPointer>,
) {
    if depth > MAX_DEPTH || *budget == 0 {
        return;
    }
    *budget -= 1;
    match value {
        Value::Object(map) if is_pod_spec(map) => found.push(at),
        Value::Object(map) => {
            for (key, child) in map {
                walk(child, at.join(key.as_str()), depth + 1, budget, found);
            }
        }
        Value::Array(items) => {
            for (index, child) in items.iter().enumerate() {
                walk(child, at.join(index), depth + 1, budget, found);
            }
        }
        _ => {}
    }
}

/// A warning naming the pod templates of `object` (in `file`) that no rule judges, if any.
pub fn diagnostic(object: &Object, file: &str) -> Option<Diagnostic> {
    let specs = unjudged_pod_specs(object);
    let first = specs.first()?;
    let mut named: Vec<String> = specs.iter().take(NAMED).map(JsonPointer::dotted).collect();
    if specs.len() > NAMED {
        named.push(format!("{} more", specs.len() - NAMED));
    }
    let pos = object.locate(first).pos;
    Some(
        Diagnostic::new(
            DiagnosticLevel::Warning,
            CODE,
            format!(
                "the pod specs this {} embeds are not judged ({}): no rule reads its kind's templates, so their containers were not checked; scan the Pods the cluster runs from it (`palisade scan --cluster`)",
                object.id.kind,
                named.join(", ")
            ),
        )
        .in_file(file)
        .at(pos.line, pos.column)
        .on_object(object.id.to_string()),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Limits, load_text};

    fn unjudged(yaml: &str) -> Vec<String> {
        let loaded = load_text("f.yaml", yaml, &Limits::default());
        unjudged_pod_specs(&loaded.inventory.objects[0])
            .iter()
            .map(|p| p.as_str().to_string())
            .collect()
    }

    #[test]
    fn finds_the_templates_of_kinds_the_catalogue_does_not_know() {
        let ray = "apiVersion: example.com/v1\nkind: Cluster\nmetadata: {name: r}\nspec:\n  headGroupSpec:\n    template:\n      spec:\n        containers: [{name: head, image: 'rayproject/ray:2.9'}]\n  workerGroupSpecs:\n  - groupName: gpu\n    template:\n      spec:\n        containers: [{name: w, image: 'rayproject/ray:2.9'}]\n";
        assert_eq!(
            unjudged(ray),
            [
                "/spec/headGroupSpec/template/spec",
                "/spec/workerGroupSpecs/0/template/spec"
            ]
        );
        // Read from a cluster, its Pods are there to judge.
        assert!(unjudged(&ray.replace("{name: r}", "{name: r, uid: 0e1f}")).is_empty());
        // Kinds the catalogues read, built-in kinds, and lists of images that are no pod.
        assert!(unjudged("apiVersion: ray.io/v1\nkind: RayCluster\nmetadata: {name: r}\nspec:\n  headGroupSpec:\n    template:\n      spec:\n        containers: [{name: c, image: i}]\n").is_empty());
        assert!(unjudged("apiVersion: argoproj.io/v1alpha1\nkind: Rollout\nmetadata: {name: r}\nspec:\n  template:\n    spec:\n      containers: [{name: c, image: i}]\n").is_empty());
        assert!(unjudged("apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n  containers: [{name: c, image: i}]\n").is_empty());
        assert!(unjudged("apiVersion: example.com/v1\nkind: Allow\nmetadata: {name: a}\nmatchingCriteria:\n  containers: [{image: i}]\n").is_empty());
    }

    #[test]
    fn the_warning_names_the_templates_at_the_first() {
        let yaml = "apiVersion: example.com/v1\nkind: Batch\nmetadata: {name: js, namespace: ml}\nspec:\n  replicatedJobs:\n  - name: workers\n    template:\n      spec:\n        template:\n          spec:\n            containers: [{name: c, image: i}]\n";
        let loaded = load_text("js.yaml", yaml, &Limits::default());
        let diagnostic = diagnostic(&loaded.inventory.objects[0], "js.yaml").unwrap();
        assert_eq!(diagnostic.code, CODE);
        assert_eq!(diagnostic.level, DiagnosticLevel::Warning);
        assert_eq!(diagnostic.line, Some(10));
        assert!(
            diagnostic.message.starts_with(
                "the pod specs this Batch embeds are not judged (spec.replicatedJobs.0.template.spec.template.spec)"
            ),
            "{}",
            diagnostic.message
        );
    }

    /// A deep or wide custom resource is walked within bounds, without a panic.
    #[test]
    fn a_hostile_resource_is_walked_within_bounds() {
        let deep = format!(
            "apiVersion: example.com/v1\nkind: Deep\nmetadata: {{name: d}}\nspec: {}1{}\n",
            "[".repeat(100),
            "]".repeat(100)
        );
        assert!(unjudged(&deep).is_empty());
        let wide = format!(
            "apiVersion: example.com/v1\nkind: Wide\nmetadata: {{name: w}}\nspec: [{}]\n",
            vec!["{a: 1}"; 50_000].join(",")
        );
        assert!(unjudged(&wide).is_empty());
    }
}
