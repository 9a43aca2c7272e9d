//! Gatekeeper's ExpansionTemplates (`expansion.gatekeeper.sh`): a workload (a Deployment, a
//! Job) is also judged as the resource it would create (a Pod), so constraints written for
//! Pods catch the Deployment in CI and at admission instead of its Pods failing later. The
//! mock resource is built as Gatekeeper builds it: the workload's `templateSource` field,
//! given the generated kind, the workload's namespace and the name `<workload>-<kind>`; its
//! violations are the workload's, their messages prefixed `[Implied by <template>]`, with the
//! template's `enforcementAction` when it sets one.
//!
//! Expansion is recursive, as in Gatekeeper: a mock resource that another template expands is
//! expanded too (a CronJob's Job, then that Job's Pod), each mock judged and its violations
//! prefixed with the template that made it. Templates that expand each other's output in a
//! cycle are not used (Gatekeeper marks them as conflicting); a template that expands its own
//! output is refused.
//!
//! Gatekeeper's mutators (`Assign`, `ModifySet`) that shape mock resources are not applied:
//! a mock is the template as written.

use std::sync::Arc;

use palisade_core::tree::Tree as _;

use serde_json::{Map, Value, json};

use crate::gatekeeper::{Enforcement, PolicyError, strings};

/// One ExpansionTemplate.
#[derive(Debug, Clone, PartialEq)]
pub struct ExpansionTemplate {
    pub name: String,
    /// `(groups, versions, kinds)` of the workloads it expands.
    apply_to: Vec<(Vec<String>, Vec<String>, Vec<String>)>,
    /// `templateSource` split at dots (`spec.template`).
    source: Vec<String>,
    /// `(group, version, kind)` of the mock resource.
    generated: (String, String, String),
    /// Overrides the constraint's action for violations of the mock resource.
    pub action: Option<Enforcement>,
}

impl ExpansionTemplate {
    pub fn from_value(value: &Value) -> Result<ExpansionTemplate, PolicyError> {
        let name = value
            .at("/metadata/name")
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_string();
        let invalid = |field: &'static str, message: &str| PolicyError::Invalid {
            object: format!("ExpansionTemplate {name}"),
            field,
            message: message.to_string(),
        };
        if name.is_empty() {
            return Err(invalid("metadata.name", "is empty"));
        }
        let text = |pointer: &str| value.at(pointer).and_then(Value::as_str).unwrap_or("");
        let source = text("/spec/templateSource");
        if source.is_empty() {
            return Err(invalid("spec.templateSource", "is empty"));
        }
        let generated = (
            text("/spec/generatedGVK/group").to_string(),
            text("/spec/generatedGVK/version").to_string(),
            text("/spec/generatedGVK/kind").to_string(),
        );
        if generated.2.is_empty() {
            return Err(invalid("spec.generatedGVK", "names no kind"));
        }
        let action =
            match text("/spec/enforcementAction") {
                "" => None,
                other => Some(Enforcement::parse(other).ok_or_else(|| {
                    invalid("spec.enforcementAction", "is not deny, warn or dryrun")
                })?),
            };
        let apply_to = value
            .at("/spec/applyTo")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .map(|a| {
                (
                    strings(a.get("groups")),
                    strings(a.get("versions")),
                    strings(a.get("kinds")),
                )
            })
            .collect::<Vec<_>>();
        if apply_to.is_empty() {
            return Err(invalid("spec.applyTo", "names no kind to expand"));
        }
        let template = ExpansionTemplate {
            source: source.split('.').map(str::to_string).collect(),
            name: name.clone(),
            apply_to,
            generated,
            action,
        };
        if template.applies_to(&template.generated_api_version(), &template.generated.2) {
            return Err(invalid(
                "spec.applyTo",
                "expands the kind it generates (Gatekeeper refuses such a template)",
            ));
        }
        Ok(template)
    }

    /// The `apiVersion` of the mock resources it makes.
    fn generated_api_version(&self) -> String {
        let (group, version, _) = &self.generated;
        if group.is_empty() {
            version.clone()
        } else {
            format!("{group}/{version}")
        }
    }

    /// Whether it expands objects of `api_version` and `kind`.
    pub fn applies_to(&self, api_version: &str, kind: &str) -> bool {
        let (group, version) = api_version.rsplit_once('/').unwrap_or(("", api_version));
        let has = |list: &[String], value: &str| list.iter().any(|v| v == value || v == "*");
        self.apply_to.iter().any(|(groups, versions, kinds)| {
            has(groups, group) && has(versions, version) && has(kinds, kind)
        })
    }

    /// The mock resource `workload` would create, or why there is none (no source field).
    pub fn expand(&self, workload: &Value, namespace: &str) -> Result<Value, String> {
        let mut source = workload;
        for key in &self.source {
            source = source
                .get(key)
                .ok_or_else(|| format!("{} has no field {}", self.name, self.source.join(".")))?;
        }
        let Some(fields) = source.as_object() else {
            return Err(format!(
                "{}: {} is not a mapping",
                self.name,
                self.source.join(".")
            ));
        };
        // `apiVersion` and `kind` first, as a manifest is written (`policy expand` prints it).
        let kind = &self.generated.2;
        let mut map = Map::new();
        map.insert("apiVersion".into(), json!(self.generated_api_version()));
        map.insert("kind".into(), json!(kind));
        map.extend(
            fields
                .iter()
                .filter(|(key, _)| !matches!(key.as_str(), "apiVersion" | "kind"))
                .map(|(key, value)| (key.clone(), value.clone())),
        );
        let text = |pointer: &str| workload.at(pointer).and_then(Value::as_str).unwrap_or("");
        let workload_name = text("/metadata/name");
        let metadata = map.entry("metadata").or_insert_with(|| json!({}));
        if !metadata.is_object() {
            *metadata = json!({});
        }
        metadata["namespace"] = json!(namespace);
        metadata["name"] = json!(format!("{workload_name}-{kind}").to_lowercase());
        // The workload owns its mock, as Gatekeeper records it (a policy against Pods without
        // an owner would otherwise fail every Deployment).
        let owner = json!({"apiVersion": text("/apiVersion"), "kind": text("/kind"),
            "name": workload_name});
        if owner
            .as_object()
            .is_some_and(|o| o.values().all(|v| v != ""))
        {
            let owners = metadata
                .as_object_mut()
                .expect("made a mapping above")
                .entry("ownerReferences")
                .or_insert_with(|| json!([]));
            if !owners.is_array() {
                *owners = json!([]);
            }
            let same = |o: &Value| {
                ["apiVersion", "kind", "name"]
                    .iter()
                    .all(|k| o.get(k) == owner.get(k))
            };
            if let Some(list) = owners.as_array_mut()
                && !list.iter().any(same)
            {
                list.push(owner);
            }
        }
        Ok(Value::Object(map))
    }

    /// The request for `mock`, from the `review` (an AdmissionRequest) of its workload: the
    /// generated kind and the mock's name, without the workload's old object.
    pub fn mock_review(&self, review: &Value, mock: Value) -> Value {
        let mut review = review.clone();
        if let Some(map) = review.as_object_mut() {
            let (group, version, kind) = &self.generated;
            map.insert(
                "kind".into(),
                json!({"group": group, "version": version, "kind": kind}),
            );
            map.insert("name".into(), mock["metadata"]["name"].clone());
            map.remove("oldObject");
            map.insert("object".into(), mock);
        }
        review
    }

    /// The generated resource's `(group, version, kind)`.
    pub fn generated(&self) -> (&str, &str, &str) {
        let (g, v, k) = &self.generated;
        (g, v, k)
    }
}

/// The most nested expansions followed (Gatekeeper's bound; cycles are refused before, so
/// only a chain of that many distinct templates reaches it).
const MAX_DEPTH: usize = 30;

/// The most mock resources made of one workload: templates without a cycle can still fan
/// out (two templates for each kind of a chain of ten make a thousand mocks).
const MAX_RESULTANTS: usize = 256;

/// The ExpansionTemplates of a run, those that expand each other's output in a cycle left
/// out.
#[derive(Debug, Clone, Default)]
pub struct Expansions {
    templates: Vec<ExpansionTemplate>,
    /// The mutators applied to each mock resource before it is judged or expanded again.
    mutators: Arc<crate::mutation::Mutators>,
}

/// One mock resource a workload would make, directly or through other mocks.
#[derive(Debug, Clone)]
pub struct Resultant {
    /// The template that made it.
    pub template: ExpansionTemplate,
    /// Where its source lies in the judged workload (`spec.jobTemplate.spec.template` for a
    /// CronJob's Pod).
    pub path: Vec<String>,
    /// The mock resource, or why it could not be made (its workload lacks the source field).
    pub mock: Result<Value, String>,
}

impl Expansions {
    /// The templates to use, and a problem for each one left out for a cycle (with its index
    /// in `templates`).
    pub fn new(templates: Vec<ExpansionTemplate>) -> (Expansions, Vec<(usize, PolicyError)>) {
        let next: Vec<Vec<usize>> = templates
            .iter()
            .map(|t| {
                let (api_version, kind) = (t.generated_api_version(), &t.generated.2);
                (0..templates.len())
                    .filter(|&u| templates[u].applies_to(&api_version, kind))
                    .collect()
            })
            .collect();
        let cyclic: Vec<Vec<usize>> = strongly_connected(&next)
            .into_iter()
            .filter(|component| component.len() > 1)
            .collect();
        let mut problems = Vec::new();
        let mut left_out = vec![false; templates.len()];
        for component in &cyclic {
            let mut names: Vec<&str> = component
                .iter()
                .map(|&i| templates[i].name.as_str())
                .collect();
            names.sort_unstable();
            for &i in component {
                left_out[i] = true;
                problems.push((
                    i,
                    PolicyError::Invalid {
                        object: format!("ExpansionTemplate {}", templates[i].name),
                        field: "spec.generatedGVK",
                        message: format!(
                            "the templates {} expand each other's mock resources in a cycle \
                             (Gatekeeper does not use them)",
                            names.join(", ")
                        ),
                    },
                ));
            }
        }
        let templates = templates
            .into_iter()
            .zip(left_out)
            .filter_map(|(t, out)| (!out).then_some(t))
            .collect();
        (
            Expansions {
                templates,
                mutators: Arc::default(),
            },
            problems,
        )
    }

    /// The templates, with `mutators` applied to their mock resources as Gatekeeper applies
    /// its mutators to them.
    pub fn with_mutators(mut self, mutators: Arc<crate::mutation::Mutators>) -> Expansions {
        self.mutators = mutators;
        self
    }

    pub fn is_empty(&self) -> bool {
        self.templates.is_empty()
    }

    /// Every mock resource `workload` (in `namespace`, whose labels are `namespace_labels`
    /// when it was read) would make, mutated by the mutators that match it; a mock's own
    /// mocks after it.
    pub fn resultants(
        &self,
        workload: &Value,
        namespace: &str,
        namespace_labels: Option<&Map<String, Value>>,
    ) -> Vec<Resultant> {
        let mut found = Vec::new();
        let mut at = Place {
            namespace,
            namespace_labels,
            path: Vec::new(),
            depth: 0,
        };
        self.expand_into(workload, &mut at, &mut found);
        found
    }

    fn expand_into(&self, workload: &Value, at: &mut Place<'_>, found: &mut Vec<Resultant>) {
        let text = |key: &str| workload.get(key).and_then(Value::as_str).unwrap_or("");
        let (api_version, kind) = (text("apiVersion"), text("kind"));
        for template in self
            .templates
            .iter()
            .filter(|t| t.applies_to(api_version, kind))
        {
            let mut mock_path = at.path.clone();
            mock_path.extend(template.source.iter().cloned());
            let mock = if at.depth >= MAX_DEPTH {
                Err(format!(
                    "{}: more than {MAX_DEPTH} nested expansions",
                    template.name
                ))
            } else if found.len() >= MAX_RESULTANTS {
                Err(format!(
                    "{}: more than {MAX_RESULTANTS} mock resources of one object",
                    template.name
                ))
            } else {
                template
                    .expand(workload, at.namespace)
                    .and_then(|mock| self.mutated(mock, at.namespace_labels))
            };
            let made = mock.as_ref().ok().cloned();
            found.push(Resultant {
                template: template.clone(),
                path: mock_path.clone(),
                mock,
            });
            if let Some(made) = made {
                let path = std::mem::replace(&mut at.path, mock_path);
                at.depth += 1;
                self.expand_into(&made, at, found);
                at.depth -= 1;
                at.path = path;
            }
        }
    }

    /// `mock` as the run's mutators leave it (a mock resource is generated, and namespaced).
    fn mutated(
        &self,
        mut mock: Value,
        namespace_labels: Option<&Map<String, Value>>,
    ) -> Result<Value, String> {
        self.mutators
            .mutate(&mut mock, true, namespace_labels, None, true)
            .map_err(|e| format!("mutating it failed: {e}"))?;
        Ok(mock)
    }
}

/// Where an expansion is: the workload's namespace and its labels, the path of the source
/// in the judged workload, and how many expansions deep.
struct Place<'a> {
    namespace: &'a str,
    namespace_labels: Option<&'a Map<String, Value>>,
    path: Vec<String>,
    depth: usize,
}

/// The strongly connected components of the graph whose edges from `i` are `next[i]`
/// (Tarjan's algorithm, without recursion so that a long chain cannot exhaust the stack).
fn strongly_connected(next: &[Vec<usize>]) -> Vec<Vec<usize>> {
    let n = next.len();
    let mut index = vec![usize::MAX; n];
    let mut low = vec![0; n];
    let mut on_stack = vec![false; n];
    let mut stack = Vec::new();
    let mut components = Vec::new();
    let mut counter = 0;
    for root in 0..n {
        if index[root] != usize::MAX {
            continue;
        }
        // (node, position in its edge list)
        let mut calls = vec![(root, 0)];
        index[root] = counter;
        low[root] = counter;
        counter += 1;
        stack.push(root);
        on_stack[root] = true;
        while let Some(&mut (v, ref mut edge)) = calls.last_mut() {
            if let Some(&w) = next[v].get(*edge) {
                *edge += 1;
                if index[w] == usize::MAX {
                    index[w] = counter;
                    low[w] = counter;
                    counter += 1;
                    stack.push(w);
                    on_stack[w] = true;
                    calls.push((w, 0));
                } else if on_stack[w] {
                    low[v] = low[v].min(index[w]);
                }
                continue;
            }
            calls.pop();
            if let Some(&(parent, _)) = calls.last() {
                low[parent] = low[parent].min(low[v]);
            }
            if low[v] == index[v] {
                let mut component = Vec::new();
                while let Some(w) = stack.pop() {
                    on_stack[w] = false;
                    component.push(w);
                    if w == v {
                        break;
                    }
                }
                components.push(component);
            }
        }
    }
    components
}

/// The message of a violation of a mock resource, as Gatekeeper writes it.
pub fn implied(template: &str, message: &str) -> String {
    format!("[Implied by {template}] {message}")
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::strategy::Strategy as _;

    fn deployments() -> ExpansionTemplate {
        ExpansionTemplate::from_value(&json!({
            "apiVersion": "expansion.gatekeeper.sh/v1beta1", "kind": "ExpansionTemplate",
            "metadata": {"name": "expand-deployments"},
            "spec": {
                "applyTo": [{"groups": ["apps"], "kinds": ["Deployment"], "versions": ["v1"]}],
                "templateSource": "spec.template",
                "generatedGVK": {"kind": "Pod", "group": "", "version": "v1"},
                "enforcementAction": "warn"
            }
        }))
        .unwrap()
    }

    #[test]
    fn a_deployment_expands_into_the_pod_gatekeeper_mocks() {
        let t = deployments();
        assert!(t.applies_to("apps/v1", "Deployment"));
        assert!(!t.applies_to("apps/v1", "StatefulSet"));
        assert!(!t.applies_to("v1", "Pod"));
        assert_eq!(t.action, Some(Enforcement::Warn));
        let deployment = json!({"apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": {"name": "Web", "namespace": "shop"},
            "spec": {"template": {"metadata": {"labels": {"app": "web"}},
                "spec": {"containers": [{"name": "c", "image": "nginx"}]}}}});
        assert_eq!(
            t.expand(&deployment, "shop").unwrap(),
            json!({"apiVersion": "v1", "kind": "Pod",
                "metadata": {"labels": {"app": "web"}, "namespace": "shop", "name": "web-pod",
                    "ownerReferences": [{"apiVersion": "apps/v1", "kind": "Deployment", "name": "Web"}]},
                "spec": {"containers": [{"name": "c", "image": "nginx"}]}})
        );
        let bare =
            json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "x"}});
        assert!(
            t.expand(&bare, "shop")
                .unwrap_err()
                .contains("spec.template")
        );
    }

    /// JSON shaped like Gatekeeper's objects: keys from their vocabulary, any values.
    fn gatekeeper_shaped() -> impl proptest::strategy::Strategy<Value = Value> {
        use proptest::prelude::*;
        let key = proptest::sample::select(vec![
            "apiVersion",
            "kind",
            "metadata",
            "name",
            "namespace",
            "spec",
            "template",
            "templateSource",
            "generatedGVK",
            "group",
            "version",
            "applyTo",
            "groups",
            "kinds",
            "versions",
            "enforcementAction",
            "match",
            "source",
            "labels",
            "scopedEnforcementActions",
            "action",
            "enforcementPoints",
            "namespaceSelector",
            "matchLabels",
            "matchExpressions",
            "key",
            "operator",
            "values",
            "containers",
        ])
        .prop_map(str::to_string);
        let leaf = prop_oneof![
            Just(Value::Null),
            any::<bool>().prop_map(Value::from),
            any::<i64>().prop_map(Value::from),
            proptest::sample::select(vec![
                "",
                "spec.template",
                "spec",
                "Pod",
                "v1",
                "apps",
                "Deployment",
                "*",
                "warn",
                "deny",
                "dryrun",
                "scoped",
                "All",
                "Generated",
                "Original",
                "In",
                "Exists",
                "apps/v1",
                "gator.gatekeeper.sh",
                "a.b.c.d",
            ])
            .prop_map(Value::from),
        ];
        leaf.prop_recursive(5, 64, 6, move |inner| {
            prop_oneof![
                proptest::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
                proptest::collection::btree_map(key.clone(), inner, 0..6)
                    .prop_map(|m| Value::Object(m.into_iter().collect())),
            ]
        })
    }

    proptest::proptest! {
        /// Any template and workload: no panic; a mock resource has the generated kind, the
        /// given namespace and a name of its own.
        #[test]
        fn expansion_never_panics_and_mocks_are_placed(
            template in proptest::prop_oneof![
                gatekeeper_shaped(),
                (
                    proptest::sample::select(vec!["spec.template", "spec", "a.b.c.d", "metadata"]),
                    proptest::sample::select(vec!["Pod", "", "Job"]),
                    gatekeeper_shaped(),
                )
                    .prop_map(|(source, kind, apply_to)| json!({
                        "metadata": {"name": "t"},
                        "spec": {"templateSource": source, "applyTo": apply_to,
                            "generatedGVK": {"kind": kind, "version": "v1"}}
                    })),
            ],
            workload in proptest::prop_oneof![
                gatekeeper_shaped(),
                gatekeeper_shaped().prop_map(|t| json!({"metadata": {"name": "w"}, "spec": {"template": t}})),
                gatekeeper_shaped().prop_map(|m| json!({"spec": {"template": {"metadata": m}}})),
            ],
            constraint in gatekeeper_shaped(),
        ) {
            if let Ok(t) = ExpansionTemplate::from_value(&template) {
                let _ = t.applies_to("apps/v1", "Deployment");
                if let Ok(mock) = t.expand(&workload, "shop") {
                    proptest::prop_assert_eq!(mock["kind"].as_str(), Some(t.generated().2));
                    proptest::prop_assert_eq!(mock["metadata"]["namespace"].as_str(), Some("shop"));
                    proptest::prop_assert!(mock["metadata"]["name"].is_string());
                }
            }
            if let Ok(c) = crate::gatekeeper::Constraint::from_value(&constraint) {
                let _ = c.enforcement_at(crate::gatekeeper::EnforcementPoint::Gator);
                let _ = c.matcher.applies(&workload, true, None);
                let _ = c.matcher.applies(&workload, false, workload.as_object());
            }
        }
    }

    fn template(name: &str, group: &str, kind: &str, source: &str, generated: &str) -> Value {
        json!({"metadata": {"name": name}, "spec": {
            "applyTo": [{"groups": [group], "kinds": [kind], "versions": ["v1"]}],
            "templateSource": source,
            "generatedGVK": {"kind": generated, "group": if generated == "Pod" { "" } else { "batch" }, "version": "v1"}}})
    }

    fn expansions(templates: &[Value]) -> (Expansions, Vec<PolicyError>) {
        let (expansions, problems) = Expansions::new(
            templates
                .iter()
                .map(|t| ExpansionTemplate::from_value(t).unwrap())
                .collect(),
        );
        (expansions, problems.into_iter().map(|(_, e)| e).collect())
    }

    /// A CronJob makes a Job, which makes a Pod: both are mocked, the Pod from the mock Job,
    /// each at its place in the CronJob and owned by the object it was made of.
    #[test]
    fn expansion_follows_mocks_that_other_templates_expand() {
        let (expansions, problems) = expansions(&[
            template("expand-jobs", "batch", "Job", "spec.template", "Pod"),
            template(
                "expand-cronjobs",
                "batch",
                "CronJob",
                "spec.jobTemplate",
                "Job",
            ),
        ]);
        assert!(problems.is_empty());
        let cronjob = json!({"apiVersion": "batch/v1", "kind": "CronJob",
            "metadata": {"name": "nightly", "namespace": "ops"},
            "spec": {"jobTemplate": {"spec": {"template": {"spec": {
                "containers": [{"name": "c", "image": "busybox"}]}}}}}});
        let found: Vec<(String, String, Value)> = expansions
            .resultants(&cronjob, "ops", None)
            .into_iter()
            .map(|r| {
                let mock = r.mock.unwrap();
                (r.template.name.clone(), r.path.join("."), mock)
            })
            .collect();
        let summary: Vec<(&str, &str, &str, &str, &Value)> = found
            .iter()
            .map(|(t, path, mock)| {
                (
                    t.as_str(),
                    path.as_str(),
                    mock["kind"].as_str().unwrap(),
                    mock["metadata"]["name"].as_str().unwrap(),
                    &mock["metadata"]["ownerReferences"],
                )
            })
            .collect();
        assert_eq!(
            summary,
            [
                (
                    "expand-cronjobs",
                    "spec.jobTemplate",
                    "Job",
                    "nightly-job",
                    &json!([{"apiVersion": "batch/v1", "kind": "CronJob", "name": "nightly"}])
                ),
                (
                    "expand-jobs",
                    "spec.jobTemplate.spec.template",
                    "Pod",
                    "nightly-job-pod",
                    &json!([{"apiVersion": "batch/v1", "kind": "Job", "name": "nightly-job"}])
                ),
            ]
        );
        assert_eq!(found[1].2["spec"]["containers"][0]["image"], "busybox");
        assert_eq!(found[1].2["metadata"]["namespace"], "ops");
    }

    /// An owner the template already names is not named twice.
    #[test]
    fn a_mock_names_its_workload_as_owner_once() {
        let t = deployments();
        let deployment = json!({"apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": {"name": "web"},
            "spec": {"template": {"metadata": {"ownerReferences": [
                {"apiVersion": "apps/v1", "kind": "Deployment", "name": "web", "uid": "1"}]}}}});
        let mock = t.expand(&deployment, "shop").unwrap();
        assert_eq!(
            mock["metadata"]["ownerReferences"],
            json!([{"apiVersion": "apps/v1", "kind": "Deployment", "name": "web", "uid": "1"}])
        );
    }

    /// Templates that expand each other's output are left out with a problem naming the
    /// cycle, as Gatekeeper leaves them out; one outside the cycle is kept. A template that
    /// expands its own output is refused.
    #[test]
    fn templates_in_an_expansion_cycle_are_not_used() {
        let (expansions, problems) = expansions(&[
            template("jobs-to-pods", "batch", "Job", "spec.template", "Pod"),
            template("pods-to-jobs", "", "Pod", "spec", "Job"),
            template("cronjobs", "batch", "CronJob", "spec.jobTemplate", "Job"),
        ]);
        let mut messages: Vec<String> = problems.iter().map(ToString::to_string).collect();
        messages.sort();
        assert_eq!(messages.len(), 2, "{messages:?}");
        assert!(messages[0].starts_with("ExpansionTemplate jobs-to-pods"));
        assert!(messages[1].starts_with("ExpansionTemplate pods-to-jobs"));
        assert!(
            messages[0].contains("jobs-to-pods, pods-to-jobs expand each other's"),
            "{}",
            messages[0]
        );
        let cronjob = json!({"apiVersion": "batch/v1", "kind": "CronJob",
            "metadata": {"name": "n"}, "spec": {"jobTemplate": {"spec": {}}}});
        let made: Vec<String> = expansions
            .resultants(&cronjob, "ops", None)
            .into_iter()
            .map(|r| r.template.name)
            .collect();
        assert_eq!(made, ["cronjobs"]);
        let own = template("jobs", "batch", "Job", "spec.template", "Job");
        assert!(
            ExpansionTemplate::from_value(&own)
                .unwrap_err()
                .to_string()
                .contains("expands the kind it generates")
        );
    }

    /// A long chain of distinct templates stops at Gatekeeper's depth, with the reason.
    #[test]
    fn a_chain_of_expansions_is_bounded() {
        let chain: Vec<Value> = (0..40)
            .map(|i| {
                json!({"metadata": {"name": format!("t{i}")}, "spec": {
                    "applyTo": [{"groups": ["x"], "kinds": [format!("K{i}")], "versions": ["v1"]}],
                    "templateSource": "spec",
                    "generatedGVK": {"kind": format!("K{}", i + 1), "group": "x", "version": "v1"}}})
            })
            .collect();
        let (expansions, problems) = expansions(&chain);
        assert!(problems.is_empty());
        let mut object = json!({"spec": {}});
        for _ in 0..40 {
            object = json!({"spec": object});
        }
        object["apiVersion"] = json!("x/v1");
        object["kind"] = json!("K0");
        object["metadata"] = json!({"name": "w"});
        let found = expansions.resultants(&object, "ns", None);
        assert_eq!(found.len(), MAX_DEPTH + 1);
        assert!(
            found[MAX_DEPTH]
                .mock
                .as_ref()
                .unwrap_err()
                .contains("nested expansions")
        );
    }

    /// Templates that fan out (two for each kind of a chain of twelve: 8,190 mocks) stop at
    /// the bound, the rest said.
    #[test]
    fn a_fan_of_expansions_is_bounded() {
        let fan: Vec<Value> = (0..24)
            .map(|i| {
                json!({"metadata": {"name": format!("t{i}")}, "spec": {
                    "applyTo": [{"groups": ["x"], "kinds": [format!("K{}", i / 2)], "versions": ["v1"]}],
                    "templateSource": "spec",
                    "generatedGVK": {"kind": format!("K{}", i / 2 + 1), "group": "x", "version": "v1"}}})
            })
            .collect();
        let (expansions, problems) = expansions(&fan);
        assert!(problems.is_empty());
        let mut object = json!({"spec": {}});
        for _ in 0..14 {
            object = json!({"spec": object});
        }
        object["apiVersion"] = json!("x/v1");
        object["kind"] = json!("K0");
        let found = expansions.resultants(&object, "ns", None);
        let made = found.iter().filter(|r| r.mock.is_ok()).count();
        assert_eq!(made, MAX_RESULTANTS);
        assert!(found.len() < 2 * MAX_RESULTANTS, "{}", found.len());
        assert!(found.iter().any(|r| {
            r.mock
                .as_ref()
                .is_err_and(|e| e.contains("mock resources of one object"))
        }));
    }

    #[test]
    fn templates_without_source_or_kind_are_refused() {
        for spec in [
            json!({"generatedGVK": {"kind": "Pod", "version": "v1"}}),
            json!({"templateSource": "spec.template", "generatedGVK": {}}),
            json!({"templateSource": "spec.template", "generatedGVK": {"kind": "Pod"}, "enforcementAction": "block"}),
            json!({"templateSource": "spec.template", "generatedGVK": {"kind": "Pod", "version": "v1"}}),
        ] {
            let value = json!({"metadata": {"name": "t"}, "spec": spec});
            assert!(ExpansionTemplate::from_value(&value).is_err(), "{value}");
        }
    }
}
