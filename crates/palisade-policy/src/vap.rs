//! ValidatingAdmissionPolicy and ValidatingAdmissionPolicyBinding (admissionregistration.k8s.io
//! v1), evaluated as the API server does: on a CREATE of each object in a scan, on the
//! request's operation and subresource at admission. The policy's `matchConstraints` and the
//! binding's `matchResources` (resource rules by group, version, plural with subresource and
//! operation, excluded rules, namespace and object selectors), parameters found by
//! the binding's `paramRef` (by name or selector, in the object's namespace unless one is
//! given; `parameterNotFoundAction`), then the policy's CEL (`crate::cel`).

use palisade_core::selector::{NamespaceSelection, label_selector_matches, namespace_selected};
use palisade_core::tree::Tree as _;
use serde_json::{Map, Value};

use std::sync::Arc;

use crate::authorizer::Authorizer;
use crate::cel::{CelOutcome, CelTemplate};
use crate::gatekeeper::{PolicyError, strings};

fn text<'v>(value: &'v Value, pointer: &str) -> Option<&'v str> {
    value.at(pointer).and_then(Value::as_str)
}

/// One `resourceRules` entry.
type ResourceRule = palisade_k8s::admission_rules::RuleWithOperations;

/// Whether `rule` selects the object being admitted: in the versions it names under
/// `matchPolicy: Exact`; under `Equivalent` (the default) in any version of the resource, as
/// the API server sends a policy a request made in another version (converted: a policy
/// written for `v1` of a custom resource also judges writes of its `v1beta1`).
fn rule_matches(rule: &ResourceRule, target: &Target, exact: bool) -> bool {
    let request = palisade_k8s::admission_rules::RuleRequest {
        group: &target.group,
        version: &target.version,
        resource: &target.resource,
        subresource: target.subresource,
        operation: target.operation,
        namespaced: target.namespaced,
    };
    match exact {
        true => rule.matches(&request),
        false => rule.matches_any_version(&request),
    }
}

/// What `matchConstraints` / `matchResources` select.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct MatchResources {
    rules: Vec<ResourceRule>,
    excluded: Vec<ResourceRule>,
    /// `matchPolicy: Exact`.
    exact: bool,
    namespace_selector: Option<Value>,
    object_selector: Option<Value>,
}

/// The object being admitted, as the matchers see it.
pub struct Target<'a> {
    pub group: String,
    pub version: String,
    /// The plural resource name.
    pub resource: String,
    /// The request's subresource (`ephemeralcontainers`); empty for the object itself.
    pub subresource: &'a str,
    /// The request's operation (`CREATE`, `UPDATE`, `DELETE`, `CONNECT`); a scan judges
    /// each object as created.
    pub operation: &'a str,
    pub namespaced: bool,
    /// The object's name, which a Namespace's selector reads (as its name label).
    pub name: &'a str,
    pub labels: Option<&'a Map<String, Value>>,
    /// At admission, the object an update replaces: an `objectSelector` selects the request
    /// when either object's labels match, so an update cannot remove itself from a policy.
    pub old_object: Option<&'a Value>,
    /// The object's namespace (namespaced objects).
    pub namespace: &'a str,
    /// The labels of the object's namespace when it was read (`None` when it was not).
    pub namespace_labels: Option<&'a Map<String, Value>>,
}

impl MatchResources {
    fn read(value: Option<&Value>) -> Option<MatchResources> {
        let value = value?;
        let rules = |key: &str| ResourceRule::read_all(value.get(key));
        Some(MatchResources {
            rules: rules("resourceRules"),
            excluded: rules("excludeResourceRules"),
            exact: value.get("matchPolicy").and_then(Value::as_str) == Some("Exact"),
            namespace_selector: value.get("namespaceSelector").cloned(),
            object_selector: value.get("objectSelector").cloned(),
        })
    }

    /// Whether no object is left out by its labels.
    fn selects_every_object(&self) -> bool {
        self.object_selector
            .as_ref()
            .is_none_or(palisade_core::selector::selects_everything)
    }

    /// Whether the object is selected. Without `resourceRules` every resource is (a binding's
    /// `matchResources` then only narrows by selectors and exclusions).
    /// `None` when only the cluster could say: the namespace selector reads labels of a
    /// namespace that was not read.
    pub fn matches(&self, target: &Target) -> Option<bool> {
        let selected = (self.rules.is_empty()
            || self
                .rules
                .iter()
                .any(|r| rule_matches(r, target, self.exact)))
            && !self
                .excluded
                .iter()
                .any(|r| rule_matches(r, target, self.exact))
            && self.object_selector.as_ref().is_none_or(|s| {
                label_selector_matches(s, target.labels)
                    || target.old_object.is_some_and(|old| {
                        label_selector_matches(
                            s,
                            old.at("/metadata/labels").and_then(Value::as_object),
                        )
                    })
            });
        let Some(selector) = self.namespace_selector.as_ref().filter(|_| selected) else {
            return Some(selected);
        };
        // A Namespace is selected by its own labels; other cluster-scoped objects always.
        let selection = if target.group.is_empty() && target.resource == "namespaces" {
            namespace_selected(
                selector,
                target.name,
                Some(target.labels.unwrap_or(&Map::new())),
            )
        } else if target.namespaced {
            namespace_selected(selector, target.namespace, target.namespace_labels)
        } else {
            NamespaceSelection::Selected
        };
        match selection {
            NamespaceSelection::Selected => Some(true),
            NamespaceSelection::NotSelected => Some(false),
            NamespaceSelection::Unknown => None,
        }
    }
}

/// A ValidatingAdmissionPolicy.
#[derive(Debug)]
pub struct Policy {
    pub name: String,
    /// `(apiVersion, kind)` of its parameters.
    pub param_kind: Option<(String, String)>,
    constraints: MatchResources,
    cel: CelTemplate,
    /// `failurePolicy: Ignore`: an evaluation error leaves the object unjudged by the policy
    /// (the default, `Fail`, makes the error a failed validation).
    pub ignores_failures: bool,
}

impl Policy {
    pub fn from_value(value: &Value) -> Result<Policy, PolicyError> {
        let name = text(value, "/metadata/name").unwrap_or("?").to_string();
        let spec = value.get("spec").cloned().unwrap_or(Value::Null);
        let constraints = MatchResources::read(spec.get("matchConstraints")).ok_or_else(|| {
            PolicyError::Invalid {
                object: format!("ValidatingAdmissionPolicy {name}"),
                field: "spec.matchConstraints",
                message: "missing".into(),
            }
        })?;
        let invalid = |field: &'static str, message: &str| PolicyError::Invalid {
            object: format!("ValidatingAdmissionPolicy {name}"),
            field,
            message: message.into(),
        };
        let param_kind = match spec.get("paramKind") {
            None => None,
            Some(p) => match (text(p, "/apiVersion"), text(p, "/kind")) {
                (Some(api_version), Some(kind)) if !api_version.is_empty() && !kind.is_empty() => {
                    Some((api_version.to_string(), kind.to_string()))
                }
                _ => return Err(invalid("spec.paramKind", "needs apiVersion and kind")),
            },
        };
        // As the API server refuses it: a policy with nothing to check would pass everything.
        let items = |field: &str| {
            spec.get(field)
                .and_then(Value::as_array)
                .map_or(0, Vec::len)
        };
        if items("validations") == 0 && items("auditAnnotations") == 0 {
            return Err(invalid(
                "spec.validations",
                "validations or auditAnnotations must contain at least one item",
            ));
        }
        let mut names: Vec<&str> = Vec::new();
        for condition in spec
            .get("matchConditions")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            match text(condition, "/name") {
                None | Some("") => {
                    return Err(invalid("spec.matchConditions[].name", "missing"));
                }
                Some(name) if names.contains(&name) => {
                    return Err(invalid(
                        "spec.matchConditions[].name",
                        &format!("`{name}` is named twice"),
                    ));
                }
                Some(name) => names.push(name),
            }
        }
        let ignores_failures = match text(&spec, "/failurePolicy") {
            None | Some("Fail") => false,
            Some("Ignore") => true,
            Some(other) => {
                return Err(PolicyError::Invalid {
                    object: format!("ValidatingAdmissionPolicy {name}"),
                    field: "spec.failurePolicy",
                    message: format!("`{other}` is not Fail or Ignore"),
                });
            }
        };
        Ok(Policy {
            ignores_failures,
            cel: CelTemplate::compile(&name, &spec)?,
            name,
            param_kind,
            constraints,
        })
    }
}

impl Policy {
    /// Whether the verdict depends on the requesting user's permissions (`authorizer`).
    pub fn uses_authorizer(&self) -> bool {
        self.cel.uses_authorizer()
    }

    /// Whether no object is left out by its labels (`matchConstraints.objectSelector`).
    pub fn selects_every_object(&self) -> bool {
        self.constraints.selects_every_object()
    }

    /// Whether `matchConditions` decide which requests are judged.
    pub fn has_match_conditions(&self) -> bool {
        self.cel.has_match_conditions()
    }

    /// Whether an expression reads a namespace (`namespaceObject`, `request.namespace`).
    pub fn reads_namespace(&self) -> bool {
        self.cel.reads_namespace()
    }

    /// Whether the verdict depends on who asks (`request.userInfo`, the `authorizer`).
    pub fn reads_requester(&self) -> bool {
        self.cel.reads_user() || self.cel.uses_authorizer()
    }

    /// The policy's `resourceRules` (`matchConstraints`): what it judges.
    pub fn resource_rules(&self) -> &[palisade_k8s::admission_rules::RuleWithOperations] {
        &self.constraints.rules
    }

    /// Whether the policy's `resourceRules` select `operation` for some resource (every
    /// operation without them).
    pub fn selects_operation(&self, operation: &str) -> bool {
        let rules = &self.constraints.rules;
        rules.is_empty() || rules.iter().any(|r| r.selects_operation(operation))
    }
}

/// What a binding does with a failed validation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Action {
    Audit,
    Warn,
    Deny,
}

/// Why a binding could not judge a request: its policy's evaluation failed, or the binding
/// could not be applied (what the API server calls a configuration error: under
/// `failurePolicy: Fail` it denies the request whatever the binding's `validationActions`).
#[derive(Debug, thiserror::Error)]
pub enum BindingError {
    #[error(transparent)]
    Evaluation(#[from] PolicyError),
    #[error("failed to configure binding: {0}")]
    Configuration(String),
}

/// A binding's `paramRef`.
#[derive(Debug, Clone)]
struct ParamRef {
    name: Option<String>,
    namespace: Option<String>,
    selector: Option<Value>,
    /// `parameterNotFoundAction: Deny` (otherwise Allow).
    deny_when_missing: bool,
}

impl ParamRef {
    fn read(value: &Value) -> ParamRef {
        ParamRef {
            name: text(value, "/name").map(str::to_string),
            namespace: text(value, "/namespace").map(str::to_string),
            selector: value.get("selector").cloned(),
            deny_when_missing: text(value, "/parameterNotFoundAction") == Some("Deny"),
        }
    }

    /// Refuses a reference that names its parameters by both or neither of `name` and
    /// `selector`.
    fn check(&self) -> Result<(), BindingError> {
        match (&self.name, &self.selector) {
            (Some(_), Some(_)) => Err(BindingError::Configuration(
                "paramRef.name and paramRef.selector are mutually exclusive".into(),
            )),
            (None, None) => Err(BindingError::Configuration(
                "one of name or selector must be provided".into(),
            )),
            _ => Ok(()),
        }
    }

    /// Whether `object` (of the parameter kind) is one this reference names: by name, or by
    /// the selector (an empty one selects every object).
    fn names(&self, object: &Value) -> bool {
        match (&self.name, &self.selector) {
            (Some(name), _) => text(object, "/metadata/name") == Some(name.as_str()),
            (None, Some(selector)) => label_selector_matches(
                selector,
                object.at("/metadata/labels").and_then(Value::as_object),
            ),
            (None, None) => false,
        }
    }
}

/// Whether objects of `kind` in `api_version` live in namespaces: the built-in API's
/// answer, else what `of_kind` (the objects of that kind) shows; `None` when neither tells.
/// The fields of a Namespace's metadata a policy's `namespaceObject` holds.
const NAMESPACE_METADATA: &[&str] = &[
    "name",
    "generateName",
    "namespace",
    "uid",
    "resourceVersion",
    "generation",
    "creationTimestamp",
    "deletionTimestamp",
    "deletionGracePeriodSeconds",
    "labels",
    "annotations",
    "finalizers",
];

/// `namespaceObject` as the API server makes it from the Namespace
/// (`CreateNamespaceObject`): its `spec`, its `status`, and of its metadata only
/// [`NAMESPACE_METADATA`] (no `managedFields`, `ownerReferences`, `apiVersion` or `kind`).
fn namespace_object(namespace: &Value) -> Value {
    let mut out = serde_json::Map::new();
    if let Some(metadata) = namespace.get("metadata").and_then(Value::as_object) {
        let kept: serde_json::Map<String, Value> = metadata
            .iter()
            .filter(|(k, _)| NAMESPACE_METADATA.contains(&k.as_str()))
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        out.insert("metadata".into(), Value::Object(kept));
    }
    for field in ["spec", "status"] {
        if let Some(value) = namespace.get(field) {
            out.insert(field.into(), value.clone());
        }
    }
    Value::Object(out)
}

fn param_kind_namespaced(api_version: &str, kind: &str, of_kind: &[&Value]) -> Option<bool> {
    let group = palisade_core::object::api_group(api_version);
    palisade_k8s::resources::builtin_kind_namespaced(group, kind).or_else(|| {
        of_kind
            .first()
            .map(|o| text(o, "/metadata/namespace").is_some())
    })
}

/// A ValidatingAdmissionPolicyBinding.
#[derive(Debug, Clone)]
pub struct Binding {
    pub name: String,
    pub policy: String,
    param_ref: Option<ParamRef>,
    resources: Option<MatchResources>,
    /// The strongest of `validationActions`.
    pub action: Action,
}

impl Binding {
    pub fn from_value(value: &Value) -> Result<Binding, PolicyError> {
        let name = text(value, "/metadata/name").unwrap_or("?").to_string();
        let invalid = |field: &'static str, message: String| PolicyError::Invalid {
            object: format!("ValidatingAdmissionPolicyBinding {name}"),
            field,
            message,
        };
        let policy = text(value, "/spec/policyName")
            .ok_or_else(|| invalid("spec.policyName", "missing".into()))?
            .to_string();
        let mut action = None;
        let actions = strings(value.at("/spec/validationActions"));
        // The API server refuses these bindings: a failure would be said twice.
        if actions.iter().any(|a| a == "Deny") && actions.iter().any(|a| a == "Warn") {
            return Err(invalid(
                "spec.validationActions",
                "Deny and Warn may not be used together (a failure would be both the denial and a warning)".into(),
            ));
        }
        for (i, a) in actions.iter().enumerate() {
            if actions[..i].contains(a) {
                return Err(invalid(
                    "spec.validationActions",
                    format!("`{a}` is named twice"),
                ));
            }
            let parsed = match a.as_str() {
                "Deny" => Action::Deny,
                "Warn" => Action::Warn,
                "Audit" => Action::Audit,
                other => {
                    return Err(invalid(
                        "spec.validationActions",
                        format!("`{other}` is not Deny, Warn or Audit"),
                    ));
                }
            };
            action = Some(action.map_or(parsed, |a: Action| a.max(parsed)));
        }
        Ok(Binding {
            policy,
            param_ref: value.at("/spec/paramRef").map(ParamRef::read),
            resources: MatchResources::read(value.at("/spec/matchResources")),
            action: action.ok_or_else(|| invalid("spec.validationActions", "missing".into()))?,
            name,
        })
    }

    /// Whether the binding leaves no object out by its labels (`matchResources`).
    pub fn selects_every_object(&self) -> bool {
        self.resources
            .as_ref()
            .is_none_or(MatchResources::selects_every_object)
    }

    /// The violations of `policy` through this binding for the object of `review` (an
    /// AdmissionRequest: `rego::review_in`), and its audit annotations keyed
    /// `policy-name/key` as the API server keys them. `objects` are the inventory's (for
    /// parameters and the namespace).
    /// Whether the policy through this binding judges the object: `None` when only the
    /// cluster could say (see [`MatchResources::matches`]).
    pub fn applies(&self, policy: &Policy, target: &Target) -> Option<bool> {
        let by_policy = policy.constraints.matches(target);
        let by_binding = self
            .resources
            .as_ref()
            .map_or(Some(true), |r| r.matches(target));
        match (by_policy, by_binding) {
            (Some(false), _) | (_, Some(false)) => Some(false),
            (Some(true), Some(true)) => Some(true),
            _ => None,
        }
    }

    pub fn evaluate(
        &self,
        policy: &Policy,
        request: &crate::cel::CelRequest,
        target: &Target,
        inventory: &palisade_inventory::Inventory,
        rbac: Option<&Arc<palisade_rbac::Policy>>,
    ) -> Result<CelOutcome, BindingError> {
        let authorizer = || rbac.and_then(|r| Authorizer::for_review(r.clone(), request.review()));
        if self.applies(policy, target) != Some(true) {
            return Ok(CelOutcome::default());
        }
        let object_namespace = target.namespaced.then_some(target.namespace);
        // Looked up by kind: a linear search of the inventory cost each evaluation of each
        // binding a pass over every object (a whole cluster at admission).
        // Found once for the request, whichever binding asks first.
        let namespace = request.namespace_object(|| {
            object_namespace
                .and_then(|ns| {
                    inventory
                        .of_kind("", "Namespace")
                        .find(|o| o.id.name.as_deref() == Some(ns))
                })
                .map_or(Value::Null, |o| namespace_object(&o.value))
        });
        // A policy without `paramKind`, or a binding without `paramRef`, is evaluated once
        // with `params` null.
        let (Some((api_version, kind)), Some(param_ref)) = (&policy.param_kind, &self.param_ref)
        else {
            return Ok(policy.cel.vap_evaluate_request(
                request,
                &Value::Null,
                &namespace,
                authorizer(),
            )?);
        };
        // The objects of the parameter kind, read once: they tell its scope when the
        // built-in API does not, and hold the parameters.
        let group = palisade_core::object::api_group(api_version);
        let of_kind: Vec<&Value> = inventory
            .of_kind(group, kind)
            .map(|o| &o.value)
            .filter(|o| text(o, "/apiVersion") == Some(api_version.as_str()))
            .collect();
        let params_namespace = match param_kind_namespaced(api_version, kind, &of_kind) {
            Some(false) if param_ref.namespace.is_some() => {
                return Err(BindingError::Configuration(
                    "paramRef.namespace must not be provided for a cluster-scoped `paramKind`"
                        .into(),
                ));
            }
            Some(false) => None,
            namespaced => match param_ref.namespace.as_deref().or(object_namespace) {
                None if namespaced == Some(true) => {
                    return Err(BindingError::Configuration(
                        "cannot use namespaced paramRef in policy binding that matches cluster-scoped resources".into(),
                    ));
                }
                found => found,
            },
        };
        param_ref.check()?;
        let params: Vec<&Value> = of_kind
            .into_iter()
            .filter(|o| {
                text(o, "/metadata/namespace").is_none_or(|ns| Some(ns) == params_namespace)
                    && param_ref.names(o)
            })
            .collect();
        if params.is_empty() {
            if param_ref.deny_when_missing {
                return Err(BindingError::Configuration(
                    "no params found for policy binding with `Deny` parameterNotFoundAction".into(),
                ));
            }
            return Ok(CelOutcome::default());
        }
        let mut out = CelOutcome::default();
        for param in params {
            let each = policy
                .cel
                .vap_evaluate_request(request, param, &namespace, authorizer())?;
            out.violations.extend(each.violations);
            out.annotations.extend(each.annotations);
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    /// `matchPolicy: Equivalent` (the default) selects a write in another version of the
    /// resource named; `Exact` only the versions named.
    #[test]
    fn a_match_policy_of_equivalent_selects_other_versions() {
        let target = |version: &str| Target {
            group: "example.com".into(),
            version: version.into(),
            resource: "widgets".into(),
            subresource: "",
            operation: "CREATE",
            namespaced: true,
            name: "w",
            labels: None,
            old_object: None,
            namespace: "shop",
            namespace_labels: None,
        };
        let matching = |policy: Option<&str>| {
            let mut constraints = json!({"resourceRules": [{"apiGroups": ["example.com"],
                "apiVersions": ["v1"], "resources": ["widgets"], "operations": ["CREATE"]}]});
            if let Some(policy) = policy {
                constraints["matchPolicy"] = json!(policy);
            }
            MatchResources::read(Some(&constraints)).unwrap()
        };
        for policy in [None, Some("Equivalent")] {
            let matched = matching(policy);
            assert_eq!(matched.matches(&target("v1")), Some(true), "{policy:?}");
            assert_eq!(
                matched.matches(&target("v1beta1")),
                Some(true),
                "{policy:?}"
            );
        }
        let exact = matching(Some("Exact"));
        assert_eq!(exact.matches(&target("v1")), Some(true));
        assert_eq!(exact.matches(&target("v1beta1")), Some(false));
    }

    /// The bindings the API server refuses are refused when read: Deny with Warn, an action
    /// named twice, another action, none.
    #[test]
    fn validation_actions_are_checked_as_the_api_server_checks_them() {
        let binding = |actions: Value| {
            Binding::from_value(&json!({"metadata": {"name": "b"},
                "spec": {"policyName": "p", "validationActions": actions}}))
        };
        for bad in [
            json!(["Deny", "Warn"]),
            json!(["Warn", "Audit", "Deny"]),
            json!(["Audit", "Audit"]),
            json!(["Block"]),
            json!([]),
        ] {
            assert!(binding(bad.clone()).is_err(), "{bad}");
        }
        for (good, action) in [
            (json!(["Deny"]), Action::Deny),
            (json!(["Deny", "Audit"]), Action::Deny),
            (json!(["Warn", "Audit"]), Action::Warn),
            (json!(["Audit"]), Action::Audit),
        ] {
            assert_eq!(binding(good.clone()).unwrap().action, action, "{good}");
        }
    }

    #[test]
    fn audit_annotation_keys_and_failure_policies_are_checked_when_read() {
        let policy = |extra: Value| {
            let mut spec = json!({"matchConstraints": {"resourceRules": []},
                "validations": [{"expression": "true"}]});
            spec.as_object_mut()
                .unwrap()
                .extend(extra.as_object().unwrap().clone());
            Policy::from_value(&json!({"metadata": {"name": "p"}, "spec": spec}))
        };
        for bad in [
            json!({"auditAnnotations": [{"key": "has/slash", "valueExpression": "'x'"}]}),
            json!({"auditAnnotations": [{"key": "k".repeat(64), "valueExpression": "'x'"}]}),
            json!({"auditAnnotations": [{"key": "k", "valueExpression": "'x'"}, {"key": "k", "valueExpression": "'y'"}]}),
            json!({"auditAnnotations": [{"key": "k"}]}),
            json!({"failurePolicy": "Sometimes"}),
            json!({"validations": []}),
            json!({"paramKind": {"kind": "ConfigMap"}}),
            json!({"matchConditions": [{"expression": "true"}]}),
            json!({"matchConditions": [{"name": "a", "expression": "true"}, {"name": "a", "expression": "false"}]}),
        ] {
            assert!(policy(bad.clone()).is_err(), "{bad}");
        }
        let ok = policy(json!({"failurePolicy": "Ignore",
            "auditAnnotations": [{"key": "k.v-1_x", "valueExpression": "'x'"}]}))
        .unwrap();
        assert!(ok.ignores_failures);
        assert!(!policy(json!({})).unwrap().ignores_failures);
    }

    #[test]
    fn a_binding_applies_its_policy_with_parameters() {
        let policy = Policy::from_value(&json!({
            "metadata": {"name": "replica-limit"},
            "spec": {
                "paramKind": {"apiVersion": "v1", "kind": "ConfigMap"},
                "matchConstraints": {"resourceRules": [{"apiGroups": ["apps"], "apiVersions": ["v1"], "operations": ["CREATE"], "resources": ["deployments"]}]},
                "variables": [{"name": "max", "expression": "int(params.data.maxReplicas)"}],
                "validations": [{"expression": "object.spec.replicas <= variables.max", "message": "too many"}]
            }
        }))
        .unwrap();
        let binding = Binding::from_value(&json!({
            "metadata": {"name": "b"},
            "spec": {"policyName": "replica-limit", "validationActions": ["Deny"],
                "paramRef": {"name": "limits", "namespace": "policy", "parameterNotFoundAction": "Deny"}}
        }))
        .unwrap();
        let loaded = palisade_inventory::load_values(
            "t",
            vec![
                json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "limits", "namespace": "policy"}, "data": {"maxReplicas": "5"}}),
            ],
            1,
            &palisade_inventory::Limits::default(),
        );
        let deployment = json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "d", "namespace": "shop"}, "spec": {"replicas": 10}});
        let target = Target {
            group: "apps".into(),
            version: "v1".into(),
            resource: "deployments".into(),
            subresource: "",
            operation: "CREATE",
            namespaced: true,
            name: "d",
            labels: None,
            old_object: None,
            namespace: "shop",
            namespace_labels: None,
        };
        let found = binding
            .evaluate(
                &policy,
                &crate::cel::CelRequest::new(crate::rego::review_of(&deployment)),
                &target,
                &loaded.inventory,
                None,
            )
            .unwrap();
        assert_eq!(found.violations.len(), 1, "{found:?}");
        assert_eq!(found.violations[0].msg, "too many");
        let none = binding
            .evaluate(
                &policy,
                &crate::cel::CelRequest::new(crate::rego::review_of(&deployment)),
                &target,
                &palisade_inventory::Inventory::default(),
                None,
            )
            .unwrap_err();
        assert!(
            matches!(&none, BindingError::Configuration(m) if m.contains("no params found")),
            "{none:?}"
        );
    }

    /// `namespaceObject` holds what the API server gives a policy of the Namespace: its spec,
    /// status and metadata, without managed fields, owners or type.
    #[test]
    fn the_namespace_object_is_the_api_servers() {
        let namespace = json!({"apiVersion": "v1", "kind": "Namespace",
            "metadata": {"name": "shop", "labels": {"team": "a"}, "uid": "u",
                "managedFields": [{"manager": "kubectl"}], "ownerReferences": [{"name": "x"}]},
            "spec": {"finalizers": ["kubernetes"]}, "status": {"phase": "Active"}});
        assert_eq!(
            namespace_object(&namespace),
            json!({"metadata": {"name": "shop", "labels": {"team": "a"}, "uid": "u"},
                "spec": {"finalizers": ["kubernetes"]}, "status": {"phase": "Active"}})
        );
    }

    /// Parameters as the API server collects them: a binding without `paramRef` evaluates
    /// its policy with `params` null; a reference that cannot be used (a namespace for a
    /// cluster-scoped kind, no namespace for a cluster-scoped object, neither name nor
    /// selector) is a configuration error; parameters not found are an error under
    /// `parameterNotFoundAction: Deny` and no evaluation under `Allow`.
    #[test]
    fn parameters_are_collected_as_the_api_server_collects_them() {
        let policy = |param_kind: Value| {
            Policy::from_value(&json!({
                "metadata": {"name": "p"},
                "spec": {
                    "paramKind": param_kind,
                    "matchConstraints": {"resourceRules": [{"apiGroups": ["*"], "apiVersions": ["*"], "operations": ["CREATE"], "resources": ["*"]}]},
                    "validations": [{"expression": "params == null ? object.metadata.name != 'bad' : object.metadata.name != params.data.forbidden", "message": "forbidden name"}]
                }
            }))
            .unwrap()
        };
        let config_map = policy(json!({"apiVersion": "v1", "kind": "ConfigMap"}));
        let binding = |param_ref: Option<Value>| {
            let mut spec = json!({"policyName": "p", "validationActions": ["Deny"]});
            if let Some(param_ref) = param_ref {
                spec["paramRef"] = param_ref;
            }
            Binding::from_value(&json!({"metadata": {"name": "b"}, "spec": spec})).unwrap()
        };
        let loaded = palisade_inventory::load_values(
            "t",
            vec![json!({"apiVersion": "v1", "kind": "ConfigMap",
                "metadata": {"name": "names", "namespace": "shop", "labels": {"role": "names"}},
                "data": {"forbidden": "evil"}})],
            1,
            &palisade_inventory::Limits::default(),
        );
        let objects = &loaded.inventory;
        let judge = |policy: &Policy, binding: &Binding, name: &str, namespace: Option<&str>| {
            let object = match namespace {
                Some(ns) => {
                    json!({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": name, "namespace": ns}})
                }
                None => {
                    json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}})
                }
            };
            let target = Target {
                group: String::new(),
                version: "v1".into(),
                resource: if namespace.is_some() {
                    "secrets"
                } else {
                    "namespaces"
                }
                .into(),
                subresource: "",
                operation: "CREATE",
                namespaced: namespace.is_some(),
                name,
                labels: None,
                old_object: None,
                namespace: namespace.unwrap_or(""),
                namespace_labels: None,
            };
            binding
                .evaluate(
                    policy,
                    &crate::cel::CelRequest::new(crate::rego::review_of(&object)),
                    &target,
                    objects,
                    None,
                )
                .map(|o| o.violations.len())
                .map_err(|e| match e {
                    BindingError::Configuration(m) => m,
                    BindingError::Evaluation(e) => panic!("{e}"),
                })
        };
        // No paramRef: evaluated with params null.
        let unbound = binding(None);
        assert_eq!(judge(&config_map, &unbound, "bad", Some("shop")), Ok(1));
        assert_eq!(judge(&config_map, &unbound, "good", Some("shop")), Ok(0));
        // By name in the object's namespace, and by selector.
        let by_name = binding(Some(
            json!({"name": "names", "parameterNotFoundAction": "Deny"}),
        ));
        assert_eq!(judge(&config_map, &by_name, "evil", Some("shop")), Ok(1));
        assert_eq!(judge(&config_map, &by_name, "bad", Some("shop")), Ok(0));
        let by_selector = binding(Some(json!({"selector": {"matchLabels": {"role": "names"}},
            "parameterNotFoundAction": "Allow"})));
        assert_eq!(
            judge(&config_map, &by_selector, "evil", Some("shop")),
            Ok(1)
        );
        // Not found: Deny is an error, Allow evaluates nothing.
        let missing = judge(&config_map, &by_name, "evil", Some("other")).unwrap_err();
        assert!(missing.contains("no params found"), "{missing}");
        assert_eq!(
            judge(&config_map, &by_selector, "evil", Some("other")),
            Ok(0)
        );
        // A namespaced kind without a namespace, for a cluster-scoped object.
        let scoped = judge(&config_map, &by_name, "evil", None).unwrap_err();
        assert!(scoped.contains("cluster-scoped resources"), "{scoped}");
        // A namespace for a cluster-scoped kind.
        let cluster_kind =
            policy(json!({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRole"}));
        let namespaced_ref = binding(Some(json!({"name": "x", "namespace": "shop",
            "parameterNotFoundAction": "Allow"})));
        let wrong = judge(&cluster_kind, &namespaced_ref, "evil", Some("shop")).unwrap_err();
        assert!(wrong.contains("must not be provided"), "{wrong}");
        // Neither name nor selector.
        let empty = binding(Some(json!({"parameterNotFoundAction": "Allow"})));
        let neither = judge(&config_map, &empty, "evil", Some("shop")).unwrap_err();
        assert!(neither.contains("name or selector"), "{neither}");
    }
}
