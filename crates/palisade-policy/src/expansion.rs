//! Gatekeeper's ExpansionTemplates (`expansion.gatekeeper.sh`): a workload (a Deployment, a
//! Job) is also judged as the resource it would create (a Pod), so constraints written for
//! Pods catch the Deployment in CI and at admission instead of its Pods failing later. The
//! mock resource is built as Gatekeeper builds it: the workload's `templateSource` field,
//! given the generated kind, the workload's namespace and the name `<workload>-<kind>`; its
//! violations are the workload's, their messages prefixed `[Implied by <template>]`, with the
//! template's `enforcementAction` when it sets one.
//!
//! Gatekeeper's mutators (`Assign`, `ModifySet`) that shape mock resources are not applied:
//! a mock is the template as written.

use palisade_core::tree::Tree as _;
use serde_json::{Value, json};

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
            .collect();
        Ok(ExpansionTemplate {
            source: source.split('.').map(str::to_string).collect(),
            name,
            apply_to,
            generated,
            action,
        })
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
        let mut mock = source.clone();
        let Some(map) = mock.as_object_mut() else {
            return Err(format!(
                "{}: {} is not a mapping",
                self.name,
                self.source.join(".")
            ));
        };
        let (group, version, kind) = &self.generated;
        let api_version = if group.is_empty() {
            version.clone()
        } else {
            format!("{group}/{version}")
        };
        map.insert("apiVersion".into(), json!(api_version));
        map.insert("kind".into(), json!(kind));
        let workload_name = workload
            .at("/metadata/name")
            .and_then(Value::as_str)
            .unwrap_or("");
        let metadata = map.entry("metadata").or_insert_with(|| json!({}));
        if !metadata.is_object() {
            *metadata = json!({});
        }
        metadata["namespace"] = json!(namespace);
        metadata["name"] = json!(format!("{workload_name}-{kind}").to_lowercase());
        Ok(mock)
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

    /// The fields of `templateSource`, in order.
    pub fn source_path(&self) -> &[String] {
        &self.source
    }

    /// The generated resource's `(group, version, kind)`.
    pub fn generated(&self) -> (&str, &str, &str) {
        let (g, v, k) = &self.generated;
        (g, v, k)
    }
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
                "metadata": {"labels": {"app": "web"}, "namespace": "shop", "name": "web-pod"},
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

    #[test]
    fn templates_without_source_or_kind_are_refused() {
        for spec in [
            json!({"generatedGVK": {"kind": "Pod", "version": "v1"}}),
            json!({"templateSource": "spec.template", "generatedGVK": {}}),
            json!({"templateSource": "spec.template", "generatedGVK": {"kind": "Pod"}, "enforcementAction": "block"}),
        ] {
            let value = json!({"metadata": {"name": "t"}, "spec": spec});
            assert!(ExpansionTemplate::from_value(&value).is_err(), "{value}");
        }
    }
}
