//! Policies as a rule-set provider: each Constraint (with its template) becomes a rule of
//! the run, evaluated by the same engine as the built-in rules on every object it matches, so
//! its violations are ordinary findings (suppressible, in every format, in the exit code).
//!
//! A rule's id is `<ConstraintKind>/<constraint name>` and its slug the constraint's name.
//! Severity follows the enforcement action (`deny` high, `warn` medium, `dryrun` low) unless
//! the constraint says otherwise with the `palisade.dev/severity` annotation; controls come
//! from `palisade.dev/controls` (comma-separated, `cis-k8s-1.12:5.2.2`).

use std::borrow::Cow;
use std::path::PathBuf;
use std::sync::Arc;

use palisade_core::tree::Tree as _;
use palisade_core::{Control, JsonPointer, RuleMeta, Severity, StatusReason};
use palisade_inventory::{Inventory, Limits, load_text};
use palisade_k8s::resources::Scopes;
use palisade_rules::{Context, Judges, Refusal, Rule, Target};
use serde_json::{Map, Value};

use crate::engine::Compiled;
use crate::expansion::{ExpansionTemplate, Expansions, Resultant};
use crate::gatekeeper::{
    Applies, Constraint, Enforcement, EnforcementPoint, PolicyError, Template,
};
use crate::rego::{inventory_of, rego_review_in, review_in, to_rego};

/// The annotation that sets a constraint's severity.
pub const SEVERITY: &str = "palisade.dev/severity";
/// The annotation that lists the controls a constraint provides evidence for.
pub const CONTROLS: &str = "palisade.dev/controls";

/// A constraint as a rule.
pub struct ConstraintRule {
    meta: &'static RuleMeta,
    template: Arc<Compiled>,
    constraint: Constraint,
    /// The constraint's parameters in regorus' form, converted once.
    parameters: regorus::Value,
    uses_inventory: bool,
    /// Whether the template reads who asks (`input.review.userInfo`, CEL `request.userInfo`).
    reads_user: bool,
    /// Whether the template is judged with its CEL, which has `matchConditions` (they may
    /// read anything of the request).
    match_conditions: bool,
    /// Whether the template's code reads a namespace (it may judge a pod by it).
    reads_namespace: bool,
    /// The run's ExpansionTemplates: the constraint also judges the resources workloads
    /// would create.
    expansions: Arc<Expansions>,
    /// Whether `palisade.dev/severity` set the severity (an ExpansionTemplate's action then
    /// does not change it).
    severity_annotated: bool,
    /// Namespaces a Gatekeeper `Config` exempts from every constraint at the run's point.
    exempt_namespaces: Arc<Vec<String>>,
    /// Namespaces a `Config` exempts from every constraint at the admission webhook.
    webhook_exempt_namespaces: Arc<Vec<String>>,
}

/// A policy that cannot tell whether it applies (its namespace selector reads a namespace
/// that was not read): in a scan the object is not assessed; at admission the policy could
/// not judge the request, so `on_error` decides (deny by default), as for an evaluation
/// error: a request in a namespace the webhook cannot see must not pass the policies that
/// namespace would select.
fn cannot_tell(cx: &mut Context<'_>, why: String) {
    match cx.object.request {
        Some(_) => cx.evaluation_failed(why),
        None => cx.not_assessed(why),
    }
}

/// The judged object's review in regorus' form, shared by the constraints judging it.
struct RegoReview(regorus::Value);

/// What every constraint rule of a run reads from the inventory, built once.
struct Cluster {
    /// `data.inventory`.
    inventory: Value,
    /// The API: built-in resources and the inventory's CRDs (plural names for VAP rules).
    catalogue: palisade_k8s::resources::Catalogue,
    /// Namespace labels by name.
    namespaces: std::collections::HashMap<String, Map<String, Value>>,
    scopes: Scopes,
}

impl Cluster {
    /// The labels of the judged object's namespace, when its Namespace was read: with the
    /// cluster, or since (at admission, a Namespace the webhook let in or looked up after the
    /// read is in the evaluation's `inventory`, not in this model built at the read).
    fn namespace_labels<'c>(&'c self, cx: &Context<'_>) -> Option<Cow<'c, Map<String, Value>>> {
        let namespace = cx.object.id.namespace.as_deref()?;
        match self.namespaces.get(namespace) {
            Some(labels) => Some(Cow::Borrowed(labels)),
            None => cx
                .inventory
                .served_labels_of_namespace(namespace)
                .map(Cow::Owned),
        }
    }

    fn build(inventory: &Inventory) -> Cluster {
        let values: Vec<&Value> = inventory.objects.iter().map(|o| &o.value).collect();
        let namespaces = inventory.served_namespace_labels();
        let crds: Vec<&Value> = inventory
            .objects
            .iter()
            .filter(|o| o.id.kind == "CustomResourceDefinition")
            .map(|o| &o.value)
            .collect();
        let catalogue = inventory.api_catalogue();
        Cluster {
            inventory: inventory_of(values.into_iter()),
            namespaces,
            scopes: Scopes::new(crds, std::iter::empty()),
            catalogue,
        }
    }
}

impl Rule for ConstraintRule {
    fn meta(&self) -> &'static RuleMeta {
        self.meta
    }

    fn target(&self) -> Target {
        Target::All
    }

    fn prepare(&self, inventory: &Inventory, models: &palisade_rules::ClusterModels) {
        models.add(inventory, Cluster::build);
    }

    fn check(&self, cx: &mut Context<'_>) {
        let cluster = cx.cluster_model(Cluster::build);
        let empty = serde_json::json!({"cluster": {}, "namespace": {}});
        let inventory = if self.uses_inventory {
            &cluster.inventory
        } else {
            &empty
        };
        if self.constraint.matcher.source_allows(false) && self.applies_to_request(cx, &cluster) {
            let found = match &*self.template {
                Compiled::Rego(rego) => {
                    let review = cx.object_memo(|| RegoReview(rego_review_in(cx.object)));
                    rego.violations_of(review.0.clone(), self.parameters.clone(), inventory)
                }
                compiled => compiled.violations(
                    &review_in(cx.object),
                    &self.constraint.parameters,
                    inventory,
                ),
            };
            self.report(cx, found, None);
        }
        // A deletion or a connection creates nothing: the resources a workload would make are
        // not judged.
        if self.constraint.matcher.source_allows(true) && cx.object.storing_nothing().is_none() {
            self.check_expanded(cx, &cluster, inventory);
        }
    }

    /// Gatekeeper judges a deletion (when its webhook is sent them) with the deleted object
    /// as `input.review.object`, and a connection with its options (`PodExecOptions`).
    fn judges_operation(&self, _operation: &str) -> bool {
        true
    }

    /// The kinds its `match` names (every kind without them, as Gatekeeper's webhook is sent
    /// everything).
    fn judges(&self) -> Judges {
        self.constraint
            .matcher
            .named_kinds()
            .map_or(Judges::Anything, Judges::Kinds)
    }

    /// A constraint refuses at admission when its webhook action is `deny` and the webhook
    /// does not exempt the namespace. A pod's creator escapes it when its match reads what
    /// the creator writes (a label selector selecting less than everything, a name), when it
    /// exempts images (the library's `exemptImages` parameter), judges only the resources
    /// ExpansionTemplates make, decides by other objects (`data.inventory`) or by who asks
    /// (`userInfo`), or lets its CEL's `matchConditions` decide which requests it judges.
    fn refuses_at_admission(&self, namespace: &str) -> Refusal {
        if self.constraint.enforcement_at(EnforcementPoint::Validation) != Some(Enforcement::Deny)
            || self
                .webhook_exempt_namespaces
                .iter()
                .any(|pattern| crate::gatekeeper::glob(pattern, namespace))
        {
            return Refusal::No;
        }
        let matcher = &self.constraint.matcher;
        let exempt_images: Vec<&str> = self
            .constraint
            .parameters
            .get("exemptImages")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(Value::as_str)
            .collect();
        let escape = if !exempt_images.is_empty() {
            format!(
                "it exempts images {}",
                palisade_core::words::first_few(&exempt_images, 3)
            )
        } else if matcher
            .label_selector
            .as_ref()
            .is_some_and(|s| !palisade_core::selector::selects_everything(s))
        {
            "its labelSelector leaves out pods by their labels".to_string()
        } else if matcher.name.as_deref().is_some_and(|name| name != "*") {
            "it matches pods by name".to_string()
        } else if !matcher.source_allows(false) {
            "it judges only the resources ExpansionTemplates make".to_string()
        } else if self.uses_inventory {
            "it decides by other objects of the cluster (data.inventory)".to_string()
        } else if self.reads_user {
            "its verdict depends on who asks (userInfo)".to_string()
        } else if self.match_conditions {
            "its matchConditions decide which requests it judges".to_string()
        } else {
            return Refusal::Yes;
        };
        Refusal::Escapable(escape)
    }

    /// The constraint's match decides, unless its code reads a namespace or other objects.
    fn judges_pods_in(&self, namespace: &str, labels: Option<&Map<String, Value>>) -> Option<bool> {
        if self.uses_inventory || self.reads_namespace {
            return None;
        }
        if self
            .exempt_namespaces
            .iter()
            .any(|pattern| crate::gatekeeper::glob(pattern, namespace))
        {
            return Some(false);
        }
        let pod = serde_json::json!({"apiVersion": "v1", "kind": "Pod",
            "metadata": {"name": "probe", "namespace": namespace}});
        match self.constraint.matcher.applies(&pod, true, labels) {
            Applies::Yes => Some(true),
            Applies::No => Some(false),
            Applies::Unknown(_) => None,
        }
    }
}

impl ConstraintRule {
    /// Whether the constraint applies to the judged object or, at admission, to the object
    /// the request replaces (an update's `oldObject`): Gatekeeper judges a request when
    /// either matches, so an update that removes the label a `labelSelector` reads escapes
    /// no constraint.
    fn applies_to_request(&self, cx: &mut Context<'_>, cluster: &Cluster) -> bool {
        let new = self.matching(cx, cluster, &cx.object.value);
        let verdict = match cx.object.old_object() {
            Some(old) if !matches!(new, Applies::Yes) => {
                match (new, self.matching(cx, cluster, old)) {
                    (Applies::Yes, _) | (_, Applies::Yes) => Applies::Yes,
                    (Applies::Unknown(why), _) | (Applies::No, Applies::Unknown(why)) => {
                        Applies::Unknown(why)
                    }
                    (Applies::No, Applies::No) => Applies::No,
                }
            }
            _ => new,
        };
        self.decided(cx, verdict)
    }

    /// Whether the constraint applies to `object` (the judged object or a mock resource of
    /// it); when only the cluster could say, the object is not assessed.
    fn applies(&self, cx: &mut Context<'_>, cluster: &Cluster, object: &Value) -> bool {
        let verdict = self.matching(cx, cluster, object);
        self.decided(cx, verdict)
    }

    /// An answer of the matcher as a yes or no: unknown is no, with the object not assessed.
    fn decided(&self, cx: &mut Context<'_>, verdict: Applies) -> bool {
        match verdict {
            Applies::Yes => true,
            Applies::No => false,
            Applies::Unknown(why) => {
                cannot_tell(
                    cx,
                    format!("whether the constraint applies is unknown: {why}"),
                );
                false
            }
        }
    }

    /// What the constraint's match says of `object`.
    fn matching(&self, cx: &Context<'_>, cluster: &Cluster, object: &Value) -> Applies {
        // A Namespace is exempt by its own name, as Gatekeeper exempts it.
        if let Some(namespace) = crate::gatekeeper::counted_namespace(&cx.object.value)
            && self
                .exempt_namespaces
                .iter()
                .any(|pattern| crate::gatekeeper::glob(pattern, namespace))
        {
            return Applies::No;
        }
        let api_version = object
            .get("apiVersion")
            .and_then(Value::as_str)
            .unwrap_or("");
        let group = palisade_core::object::api_group(api_version);
        let kind = object.get("kind").and_then(Value::as_str).unwrap_or("");
        let namespaced = cluster.scopes.is_namespaced(group, kind);
        let labels = cluster.namespace_labels(cx);
        self.constraint
            .matcher
            .applies(object, namespaced, labels.as_deref())
    }

    /// The mock resources the run's ExpansionTemplates make of the object (a Deployment's
    /// Pod), each judged as Gatekeeper judges it; violations are the object's, at the
    /// template's source field.
    fn check_expanded(&self, cx: &mut Context<'_>, cluster: &Cluster, inventory: &Value) {
        if self.expansions.is_empty() {
            return;
        }
        let labels = cluster.namespace_labels(cx);
        let make = || Mocks::of(&self.expansions, cx.object, labels.as_deref());
        let mut mocks = cx.object_memo(make);
        if !Arc::ptr_eq(&mocks.of, &self.expansions) {
            mocks = Arc::new(make());
        }
        for mock in &mocks.mocks {
            let (object, review, rego) = match &mock.made {
                Ok(made) => made,
                Err(why) => {
                    cx.not_assessed(format!("the resource it would create is unknown: {why}"));
                    continue;
                }
            };
            if !self.applies(cx, cluster, object) {
                continue;
            }
            let found = match &*self.template {
                Compiled::Rego(template) => {
                    template.violations_of(rego.clone(), self.parameters.clone(), inventory)
                }
                compiled => compiled.violations(review, &self.constraint.parameters, inventory),
            };
            self.report(cx, found, Some((&mock.template, &mock.path)));
        }
    }

    /// Reports the violations found (of a mock resource when `expansion` made it), or that
    /// the evaluation failed.
    fn report(
        &self,
        cx: &mut Context<'_>,
        found: Result<Vec<crate::rego::Violation>, PolicyError>,
        expansion: Option<(&ExpansionTemplate, &[String])>,
    ) {
        let violations = match found {
            Ok(violations) => violations,
            Err(error) => return cx.evaluation_failed(error.to_string()),
        };
        for violation in violations {
            let (path, message) = match expansion {
                Some((template, path)) => (
                    JsonPointer::root().join_all(path),
                    crate::expansion::implied(&template.name, &violation.msg),
                ),
                None => (JsonPointer::root(), violation.msg),
            };
            let mut reported = palisade_rules::Reported::new(path, message.clone());
            reported.discriminator = Some(message);
            if let Some(action) = expansion.and_then(|(template, _)| template.action)
                && !self.severity_annotated
            {
                reported.severity = Some(action_severity(action));
            }
            cx.report_with(reported);
        }
    }
}

/// The mock resources of the judged object with their reviews, made once for every
/// constraint that judges it, as the object's own review is ([`RegoReview`]).
struct Mocks {
    /// The ExpansionTemplates that made them.
    of: Arc<Expansions>,
    mocks: Vec<Mock>,
}

/// One mock resource: what made it, and the mock, its review and that review as regorus
/// reads it (or why it could not be made).
struct Mock {
    template: ExpansionTemplate,
    /// Where its source lies in the judged object.
    path: Vec<String>,
    made: Result<(Value, Value, regorus::Value), String>,
}

impl Mocks {
    fn of(
        expansions: &Arc<Expansions>,
        object: &palisade_inventory::Object,
        namespace_labels: Option<&serde_json::Map<String, Value>>,
    ) -> Mocks {
        let namespace = object.id.namespace.as_deref().unwrap_or("default");
        let review = review_in(object);
        let mocks = expansions
            .resultants(&object.value, namespace, namespace_labels)
            .into_iter()
            .map(
                |Resultant {
                     template,
                     path,
                     mock,
                 }| {
                    let made = mock.map(|mock| {
                        let review = template.mock_review(&review, mock.clone());
                        let rego = to_rego(&review);
                        (mock, review, rego)
                    });
                    Mock {
                        template,
                        path,
                        made,
                    }
                },
            )
            .collect();
        Mocks {
            of: expansions.clone(),
            mocks,
        }
    }
}

/// The cluster's RBAC, for policies' `authorizer`.
fn rbac_policy(inventory: &Inventory) -> palisade_rbac::Policy {
    palisade_rbac::Policy::from_inventory(inventory)
}

/// A ValidatingAdmissionPolicyBinding (with its policy) as a rule.
pub struct VapRule {
    meta: &'static RuleMeta,
    policy: Arc<crate::vap::Policy>,
    binding: crate::vap::Binding,
}

impl Rule for VapRule {
    fn meta(&self) -> &'static RuleMeta {
        self.meta
    }

    fn target(&self) -> Target {
        Target::All
    }

    fn prepare(&self, inventory: &Inventory, models: &palisade_rules::ClusterModels) {
        models.add(inventory, Cluster::build);
        if self.policy.uses_authorizer() {
            models.add(inventory, rbac_policy);
        }
    }

    /// A policy whose rules select `DELETE` or `CONNECT` judges those requests (its match
    /// decides which).
    fn judges_operation(&self, operation: &str) -> bool {
        self.policy.selects_operation(operation)
    }

    /// The requests its `matchConstraints.resourceRules` select.
    fn judges(&self) -> Judges {
        match self.policy.resource_rules() {
            [] => Judges::Anything,
            rules => Judges::Requests(rules.to_vec()),
        }
    }

    /// A binding refuses at admission when its actions include `Deny`. A pod's creator
    /// escapes it when it or its policy selects objects by their labels (a selector selecting
    /// less than everything), when the policy's match conditions decide which requests it
    /// judges (they may read anything of the request), or when its verdict depends on who
    /// asks (`request.userInfo`, `authorizer`).
    fn refuses_at_admission(&self, _namespace: &str) -> Refusal {
        if self.binding.action != crate::vap::Action::Deny {
            return Refusal::No;
        }
        let escape = if !self.policy.selects_every_object() || !self.binding.selects_every_object()
        {
            "its objectSelector leaves out objects by their labels"
        } else if self.policy.has_match_conditions() {
            "its matchConditions decide which requests it judges"
        } else if self.policy.reads_requester() {
            "its verdict depends on who asks (request.userInfo, authorizer)"
        } else {
            return Refusal::Yes;
        };
        Refusal::Escapable(escape.to_string())
    }

    /// The binding's and policy's match decide, unless the policy has parameters (they may
    /// be the namespace's), reads a namespace or asks the authorizer.
    fn judges_pods_in(&self, namespace: &str, labels: Option<&Map<String, Value>>) -> Option<bool> {
        if self.policy.param_kind.is_some()
            || self.policy.reads_namespace()
            || self.policy.uses_authorizer()
        {
            return None;
        }
        let target = crate::vap::Target {
            group: String::new(),
            version: "v1".into(),
            resource: "pods".into(),
            subresource: "",
            operation: "CREATE",
            namespaced: true,
            name: "probe",
            labels: None,
            old_object: None,
            namespace,
            namespace_labels: labels,
        };
        self.binding.applies(&self.policy, &target)
    }

    /// The policy's parameters (`paramKind`).
    fn reads_at_admission(&self) -> Vec<(String, String)> {
        self.policy
            .param_kind
            .iter()
            .map(|(api_version, kind)| {
                let group = palisade_core::object::api_group(api_version);
                (group.to_string(), kind.clone())
            })
            .collect()
    }

    fn reads(&self) -> &'static [(&'static str, &'static str)] {
        if self.policy.uses_authorizer() {
            palisade_rules::rbac::AUTHORIZER_INPUTS
        } else {
            &[]
        }
    }

    fn check(&self, cx: &mut Context<'_>) {
        let cluster = cx.cluster_model(Cluster::build);
        let id = &cx.object.id;
        let request = cx.object.request.as_deref();
        let requested = |field: &str| {
            request
                .and_then(|r| r.at(&format!("/resource/{field}")))
                .and_then(Value::as_str)
        };
        // At admission the request names the resource, as the API server matches it: a custom
        // resource's plural need not be its kind's, and a subresource's object is of another
        // kind (a Deployment's `scale` is an autoscaling/v1 Scale). Otherwise the object's
        // kind, through the catalogue and the CRDs read.
        let (group, version, resource) = match requested("resource").filter(|r| !r.is_empty()) {
            Some(resource) => (
                requested("group").unwrap_or(""),
                requested("version").unwrap_or(""),
                resource.to_string(),
            ),
            None => {
                let group = id.group();
                let resource = cluster
                    .catalogue
                    .by_kind(group, &id.kind)
                    .map(|r| r.plural.clone())
                    .unwrap_or_else(|| format!("{}s", id.kind.to_ascii_lowercase()));
                let version = id.api_version.rsplit('/').next().unwrap_or("");
                (group, version, resource)
            }
        };
        let namespaced = match cluster
            .catalogue
            .resources()
            .iter()
            .find(|r| r.group == group && r.plural == resource)
        {
            Some(served) => served.scope == palisade_k8s::Scope::Namespaced,
            None => cluster.scopes.is_namespaced(group, &id.kind),
        };
        let namespace_labels = cluster.namespace_labels(cx);
        let target = crate::vap::Target {
            group: group.to_string(),
            version: version.to_string(),
            resource,
            subresource: cx.object.request_text("subResource").unwrap_or(""),
            operation: cx.object.operation().unwrap_or("CREATE"),
            namespaced,
            name: id.name.as_deref().unwrap_or(""),
            labels: cx
                .object
                .value
                .at("/metadata/labels")
                .and_then(Value::as_object),
            old_object: cx.object.old_object(),
            namespace: id.namespace.as_deref().unwrap_or("default"),
            namespace_labels: namespace_labels.as_deref(),
        };
        match self.binding.applies(&self.policy, &target) {
            Some(true) => {}
            Some(false) => return,
            None => {
                cannot_tell(
                    cx,
                    format!(
                        "whether the policy applies is unknown: {}",
                        crate::gatekeeper::namespace_not_read(target.namespace)
                    ),
                );
                return;
            }
        }
        let rbac = if self.policy.uses_authorizer() {
            if cx.object.request.is_none() {
                // An object read from a file or a cluster has no requester to ask about.
                cx.not_assessed(
                    "the policy asks what the requesting user may do (authorizer): judged at admission",
                );
                return;
            }
            Some(cx.cluster_model(rbac_policy))
        } else {
            None
        };
        let deleting = target.operation == "DELETE";
        let request = cx.object_memo(|| {
            let mut review = review_in(cx.object);
            if deleting {
                // The API server gives a deletion's policies the object as `oldObject` only.
                if let Some(review) = review.as_object_mut() {
                    review.insert("object".into(), Value::Null);
                }
            }
            crate::cel::CelRequest::new(review)
        });
        match self
            .binding
            .evaluate(&self.policy, &request, &target, cx.inventory, rbac.as_ref())
        {
            Ok(outcome) => {
                for violation in outcome.violations {
                    let mut reported =
                        palisade_rules::Reported::new(JsonPointer::root(), violation.msg.clone());
                    reported.discriminator = Some(violation.msg);
                    // The API server answers a validation that names no reason as `Invalid`.
                    reported.status_reason =
                        Some(violation.reason.unwrap_or(StatusReason::Invalid));
                    cx.report_with(reported);
                }
                for (key, value) in outcome.annotations {
                    cx.audit_annotation(key, value);
                }
            }
            // `failurePolicy: Ignore`: the policy did not judge the object.
            Err(error) if self.policy.ignores_failures => cx.not_assessed(error.to_string()),
            // `Fail` (the default): a binding that could not be applied denies the request
            // whatever its actions, as the API server denies it.
            Err(crate::vap::BindingError::Configuration(problem)) => {
                let mut reported = palisade_rules::Reported::new(
                    JsonPointer::root(),
                    format!(
                        "failed to configure binding {}: {problem}",
                        self.binding.name
                    ),
                );
                reported.severity = Some(Severity::High);
                reported.status_reason = Some(StatusReason::Invalid);
                cx.report_with(reported);
            }
            // An evaluation error is a failed validation, with the binding's actions.
            Err(crate::vap::BindingError::Evaluation(error)) => {
                let mut reported = palisade_rules::Reported::new(
                    JsonPointer::root(),
                    format!("the policy could not be evaluated (failurePolicy: Fail): {error}"),
                );
                reported.status_reason = Some(StatusReason::Invalid);
                cx.report_with(reported);
            }
        }
    }
}

/// Policies read from files, and what could not be used.
#[derive(Default)]
pub struct Loaded {
    pub rules: Vec<Arc<dyn Rule>>,
    /// `file: problem` for templates and constraints that could not be used.
    pub problems: Vec<String>,
    /// `Kind/name` of constraints whose `scopedEnforcementActions` name other enforcement
    /// points than the run's: left out, as Gatekeeper leaves them out there.
    pub elsewhere: Vec<String>,
    pub templates: usize,
    /// The mutators among the policies (they change mock resources, and at admission the
    /// objects let in), when there are any.
    pub mutators: Option<Arc<crate::mutation::Mutators>>,
    /// The ExpansionTemplates among the policies, with the mutators of their mock resources.
    pub expansions: Arc<Expansions>,
}

/// The `palisade.dev/severity` annotation of a policy object, when set.
fn severity_annotation(object: &Value) -> Result<Option<Severity>, String> {
    object
        .at("/metadata/annotations")
        .and_then(|a| a.get(SEVERITY))
        .and_then(Value::as_str)
        .map(|text| text.parse().map_err(|e| format!("{SEVERITY}: {e}")))
        .transpose()
}

fn severity_of(constraint: &Value, enforcement: Enforcement) -> Result<Severity, String> {
    Ok(severity_annotation(constraint)?.unwrap_or(action_severity(enforcement)))
}

/// The severity of a Gatekeeper action: `deny` high, `warn` medium, `dryrun` low.
fn action_severity(enforcement: Enforcement) -> Severity {
    match enforcement {
        Enforcement::Deny => Severity::High,
        Enforcement::Warn => Severity::Medium,
        Enforcement::Dryrun => Severity::Low,
    }
}

fn controls_of(constraint: &Value) -> Result<Vec<Control>, String> {
    let Some(text) = constraint
        .at("/metadata/annotations")
        .and_then(|a| a.get(CONTROLS))
        .and_then(Value::as_str)
    else {
        return Ok(Vec::new());
    };
    text.split(',')
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .map(|t| {
            Control::parse(t)
                .filter(|c| c.title().is_some())
                .ok_or_else(|| format!("{CONTROLS}: unknown control `{t}`"))
        })
        .collect()
}

/// Reads every ConstraintTemplate and Constraint under `paths` (files or directories) and
/// makes a rule of each constraint whose template compiled and that is enforced at `point`,
/// with the severity of its action there.
pub fn load(paths: &[PathBuf], point: EnforcementPoint) -> Loaded {
    load_with(paths, None, point)
}

/// [`load`], with the policies `cluster` holds (a cluster read or a snapshot) read with
/// those of the files, so that a constraint and its template may come from either.
pub fn load_with(
    paths: &[PathBuf],
    cluster: Option<&Inventory>,
    point: EnforcementPoint,
) -> Loaded {
    let files = crate::files_under(paths, |name| {
        name.ends_with(".yaml") || name.ends_with(".yml") || name.ends_with(".json")
    });
    let mut problems = Vec::new();
    let mut objects = Vec::new();
    for file in &files {
        let display = file.display().to_string();
        match std::fs::read_to_string(file) {
            Ok(text) => objects.extend(
                load_text(&display, &text, &Limits::default())
                    .inventory
                    .objects
                    .into_iter()
                    .map(|object| (display.clone(), object)),
            ),
            Err(e) => problems.push(format!("{display}: {e}")),
        }
    }
    let held = cluster
        .into_iter()
        .flat_map(|c| c.objects.iter())
        .filter(|o| is_policy(o))
        .map(|o| (format!("{CLUSTER_SOURCE}{}", o.id), o.clone()));
    objects.extend(held);
    let mut loaded = load_objects(objects, point);
    problems.append(&mut loaded.problems);
    loaded.problems = problems;
    loaded
}

/// How a policy read from a cluster is named in problems (`cluster: Kind/name`).
pub const CLUSTER_SOURCE: &str = "cluster: ";

impl Loaded {
    /// Takes out the problems of policies the cluster holds (their files are not the
    /// user's to fix here, and a webhook goes on without them).
    pub fn take_cluster_problems(&mut self) -> Vec<String> {
        let (cluster, files) = std::mem::take(&mut self.problems)
            .into_iter()
            .partition(|p| p.starts_with(CLUSTER_SOURCE));
        self.problems = files;
        cluster
    }
}

/// Whether an object is one [`load_objects`] reads.
fn is_policy(object: &palisade_inventory::Object) -> bool {
    is_policy_kind(object.id.group(), &object.id.kind)
}

/// Whether objects of `group` and `kind` are policies [`load_objects`] reads; an empty kind
/// (a group whose discovery failed) is one when the group holds policies.
pub fn is_policy_kind(group: &str, kind: &str) -> bool {
    let any = kind.is_empty();
    match group {
        "templates.gatekeeper.sh" => any || kind == "ConstraintTemplate",
        "constraints.gatekeeper.sh" => true,
        "config.gatekeeper.sh" => any || kind == "Config",
        "expansion.gatekeeper.sh" => any || kind == "ExpansionTemplate",
        "mutations.gatekeeper.sh" => any || crate::mutation::MutatorKind::of(kind).is_some(),
        "admissionregistration.k8s.io" => {
            any || matches!(
                kind,
                "ValidatingAdmissionPolicy" | "ValidatingAdmissionPolicyBinding"
            )
        }
        _ => false,
    }
}

/// The policies among `objects`, each with where it was read (a file, or a cluster): the
/// ConstraintTemplates and Constraints, a Gatekeeper `Config`'s exemptions, the
/// ExpansionTemplates and the mutators that change their mock resources, and the
/// ValidatingAdmissionPolicies with their bindings; other objects are not policies and are
/// passed over.
pub fn load_objects(
    objects: Vec<(String, palisade_inventory::Object)>,
    point: EnforcementPoint,
) -> Loaded {
    let mut templates: Vec<(Template, Result<Arc<Compiled>, PolicyError>)> = Vec::new();
    let mut constraints: Vec<(String, Value)> = Vec::new();
    let mut vaps: Vec<VapRead> = Vec::new();
    let mut bindings: Vec<(String, Value)> = Vec::new();
    let mut expansions: Vec<(String, ExpansionTemplate)> = Vec::new();
    let mut mutators: Vec<crate::mutation::Mutator> = Vec::new();
    let mut exempt_namespaces: Vec<String> = Vec::new();
    let mut webhook_exempt_namespaces: Vec<String> = Vec::new();
    let mut exempt_from_mutation: Vec<String> = Vec::new();
    let mut loaded = Loaded::default();
    for (display, object) in objects {
        let group = object.id.group().to_string();
        if object.id.kind == "ConstraintTemplate" {
            match Template::from_value(&object.value) {
                Ok(template) => {
                    let compiled = Compiled::compile_preferring_rego(&template).map(Arc::new);
                    templates.push((template, compiled));
                }
                Err(e) => loaded.problems.push(format!("{display}: {e}")),
            }
        } else if group == "constraints.gatekeeper.sh" {
            constraints.push((display.clone(), object.value));
        } else if group == "config.gatekeeper.sh" && object.id.kind == "Config" {
            exempt_namespaces.extend(crate::gatekeeper::config_exempt_namespaces(
                &object.value,
                point,
            ));
            webhook_exempt_namespaces.extend(crate::gatekeeper::config_exempt_namespaces(
                &object.value,
                EnforcementPoint::Validation,
            ));
            exempt_from_mutation.extend(crate::gatekeeper::config_exempt_from_mutation(
                &object.value,
            ));
        } else if group == "expansion.gatekeeper.sh" && object.id.kind == "ExpansionTemplate" {
            match ExpansionTemplate::from_value(&object.value) {
                Ok(template) => expansions.push((display.clone(), template)),
                Err(e) => loaded.problems.push(format!("{display}: {e}")),
            }
        } else if group == "mutations.gatekeeper.sh" {
            match crate::mutation::Mutator::from_value(&object.value) {
                Ok(mutator) => mutators.push(mutator),
                Err(e) => loaded.problems.push(format!("{display}: {e}")),
            }
        } else if group == "admissionregistration.k8s.io"
            && object.id.kind == "ValidatingAdmissionPolicy"
        {
            let name = object.id.name.clone().unwrap_or_default();
            let policy = crate::vap::Policy::from_value(&object.value)
                .map(Arc::new)
                .map_err(|e| PolicyError::Invalid {
                    object: format!("ValidatingAdmissionPolicy {name}"),
                    field: "spec",
                    message: e.to_string(),
                });
            vaps.push((name, display.clone(), policy));
        } else if group == "admissionregistration.k8s.io"
            && object.id.kind == "ValidatingAdmissionPolicyBinding"
        {
            bindings.push((display.clone(), object.value));
        }
    }
    loaded.templates = templates.len() + vaps.len();
    for (file, value) in bindings {
        match vap_rule(&vaps, &value, &file) {
            Ok(rule) => loaded.rules.push(Arc::new(rule)),
            Err(e) => loaded.problems.push(format!("{file}: {e}")),
        }
    }
    let (displays, expansions): (Vec<String>, Vec<ExpansionTemplate>) =
        expansions.into_iter().unzip();
    let (expansions, cycles) = Expansions::new(expansions);
    loaded.problems.extend(
        cycles
            .into_iter()
            .map(|(i, e)| format!("{}: {e}", displays[i])),
    );
    let (mutators, conflicts) = crate::mutation::Mutators::new(mutators, exempt_from_mutation);
    loaded.problems.extend(conflicts);
    let mutators = Arc::new(mutators);
    if !mutators.is_empty() {
        loaded.mutators = Some(mutators.clone());
    }
    let expansions = Arc::new(expansions.with_mutators(mutators));
    loaded.expansions = expansions.clone();
    let shared = Shared {
        expansions,
        exempt_namespaces: Arc::new(exempt_namespaces),
        webhook_exempt_namespaces: Arc::new(webhook_exempt_namespaces),
        point,
    };
    for (file, value) in constraints {
        match constraint_rule(&file, &value, &templates, &shared) {
            Ok(Some(rule)) => loaded.rules.push(Arc::new(rule)),
            Ok(None) => loaded.elsewhere.push(format!(
                "{}/{}",
                value.get("kind").and_then(Value::as_str).unwrap_or(""),
                value
                    .at("/metadata/name")
                    .and_then(Value::as_str)
                    .unwrap_or("")
            )),
            Err(problem) => loaded.problems.push(problem),
        }
    }
    loaded
}

/// What every constraint of a load shares.
struct Shared {
    expansions: Arc<Expansions>,
    exempt_namespaces: Arc<Vec<String>>,
    webhook_exempt_namespaces: Arc<Vec<String>>,
    point: EnforcementPoint,
}

/// The rule of one constraint (read from `file`): `None` when it is not enforced at the
/// load's point, a problem when it cannot be used.
fn constraint_rule(
    file: &str,
    value: &Value,
    templates: &[(Template, Result<Arc<Compiled>, PolicyError>)],
    shared: &Shared,
) -> Result<Option<ConstraintRule>, String> {
    let kind = value.get("kind").and_then(Value::as_str).unwrap_or("");
    let (template, compiled) = templates
        .iter()
        .find(|(t, _)| t.kind == kind)
        .ok_or_else(|| format!("{file}: no ConstraintTemplate defines kind {kind}"))?;
    let compiled = compiled
        .as_ref()
        .map_err(|e| format!("{file}: {e}"))?
        .clone();
    let constraint =
        Constraint::of_template(value, template).map_err(|e| format!("{file}: {e}"))?;
    let Some(enforcement) = constraint.enforcement_at(shared.point) else {
        return Ok(None);
    };
    let problem = |e: String| format!("{file}: {kind} {}: {e}", constraint.name);
    let severity = severity_of(value, enforcement).map_err(problem)?;
    let controls = controls_of(value).map_err(problem)?;
    let title = template
        .title
        .clone()
        .unwrap_or_else(|| format!("{kind} policy violated"));
    let docs = format!(
        "## What it checks\n{}\n\nGatekeeper ConstraintTemplate `{}`, constraint `{}` ({}).\n",
        template
            .description
            .clone()
            .unwrap_or_else(|| format!("The Rego policy of template {}.", template.name)),
        template.name,
        constraint.name,
        file
    );
    let meta = lasting(RuleMeta {
        id: Cow::Owned(format!("{kind}/{}", constraint.name)),
        slug: Cow::Owned(constraint.name.clone()),
        title: Cow::Owned(title),
        severity,
        controls: Cow::Owned(controls),
        remediation: Cow::Owned(format!(
            "Change the object to satisfy {kind} {}, or exclude it in the constraint's match.",
            constraint.name
        )),
        docs: Cow::Owned(docs),
    });
    Ok(Some(ConstraintRule {
        meta,
        uses_inventory: template.rego.contains("data.inventory")
            || template.libs.iter().any(|l| l.contains("data.inventory")),
        reads_user: template.rego.contains("userInfo")
            || template.libs.iter().any(|l| l.contains("userInfo"))
            || template
                .cel
                .as_ref()
                .is_some_and(|cel| cel.to_string().contains("userInfo")),
        match_conditions: matches!(&*compiled, Compiled::Cel(cel) if cel.has_match_conditions()),
        reads_namespace: crate::reads_namespace(&template.rego)
            || template.libs.iter().any(|l| crate::reads_namespace(l))
            || template
                .cel
                .as_ref()
                .is_some_and(|cel| crate::reads_namespace(&cel.to_string())),
        template: compiled,
        parameters: to_rego(&constraint.parameters),
        constraint,
        expansions: shared.expansions.clone(),
        exempt_namespaces: shared.exempt_namespaces.clone(),
        webhook_exempt_namespaces: shared.webhook_exempt_namespaces.clone(),
        severity_annotated: value
            .at("/metadata/annotations")
            .is_some_and(|a| a.get(SEVERITY).is_some()),
    }))
}

/// Rule metadata that lasts as long as the process, as rules' metadata does: one copy per
/// distinct policy, so a cluster's policies read again every few minutes reuse theirs rather
/// than leaking a copy per read.
fn lasting(meta: RuleMeta) -> &'static RuleMeta {
    static KEPT: std::sync::Mutex<std::collections::BTreeMap<String, &'static RuleMeta>> =
        std::sync::Mutex::new(std::collections::BTreeMap::new());
    let key = format!("{meta:?}");
    let mut kept = KEPT
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    kept.entry(key).or_insert_with(|| Box::leak(Box::new(meta)))
}

/// The rule of a ValidatingAdmissionPolicyBinding and its policy.
/// A ValidatingAdmissionPolicy read: its name, where it was read, and it (or why it cannot
/// be used).
type VapRead = (String, String, Result<Arc<crate::vap::Policy>, PolicyError>);

/// The rule of one binding (read from `file`) and the policy it names.
fn vap_rule(policies: &[VapRead], value: &Value, file: &str) -> Result<VapRule, String> {
    let binding = crate::vap::Binding::from_value(value).map_err(|e| e.to_string())?;
    let (_, policy_file, policy) = policies
        .iter()
        .find(|(name, _, _)| *name == binding.policy)
        .ok_or_else(|| {
            format!(
                "binding {}: no ValidatingAdmissionPolicy {}",
                binding.name, binding.policy
            )
        })?;
    let policy = policy
        .as_ref()
        .map_err(|e| match policy_file == file {
            true => e.to_string(),
            false => format!("{e} (the policy is in {policy_file})"),
        })?
        .clone();
    let severity = match severity_annotation(value)? {
        Some(severity) => severity,
        None => match binding.action {
            crate::vap::Action::Deny => Severity::High,
            crate::vap::Action::Warn => Severity::Medium,
            crate::vap::Action::Audit => Severity::Low,
        },
    };
    let controls = controls_of(value)?;
    let meta = lasting(RuleMeta {
        id: Cow::Owned(format!("ValidatingAdmissionPolicy/{}", binding.name)),
        slug: Cow::Owned(binding.name.clone()),
        title: Cow::Owned(format!(
            "ValidatingAdmissionPolicy {} violated",
            policy.name
        )),
        severity,
        controls: Cow::Owned(controls),
        remediation: Cow::Owned(format!(
            "Change the object to satisfy ValidatingAdmissionPolicy {}.",
            policy.name
        )),
        docs: Cow::Owned(format!(
            "## What it checks\nThe CEL validations of ValidatingAdmissionPolicy `{}`, through binding `{}`.\n",
            policy.name, binding.name
        )),
    });
    Ok(VapRule {
        meta,
        policy,
        binding,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A cluster's policies are read again every few minutes: the same policy keeps its
    /// metadata, a changed one gets its own.
    #[test]
    fn policies_read_again_reuse_their_metadata() {
        let meta = |title: &str| RuleMeta {
            id: Cow::Owned("K8sX/x".into()),
            slug: Cow::Owned("x".into()),
            title: Cow::Owned(title.into()),
            severity: Severity::High,
            controls: Cow::Owned(Vec::new()),
            remediation: Cow::Owned(String::new()),
            docs: Cow::Owned(String::new()),
        };
        let first = lasting(meta("a"));
        assert!(std::ptr::eq(first, lasting(meta("a"))));
        assert!(!std::ptr::eq(first, lasting(meta("b"))));
    }

    /// The policies in `yaml`, loaded at `point`, all usable.
    fn loaded(yaml: &str, point: EnforcementPoint) -> Loaded {
        let objects = load_text("policies.yaml", yaml, &Limits::default())
            .inventory
            .objects
            .into_iter()
            .map(|o| ("policies.yaml".to_string(), o))
            .collect();
        let loaded = load_objects(objects, point);
        assert!(loaded.problems.is_empty(), "{:?}", loaded.problems);
        loaded
    }

    /// The rules of the policies in `yaml`, by id, with what each does at admission in
    /// namespaces `web` and `kube-system`.
    fn refusals(yaml: &str) -> Vec<(String, Refusal, Refusal)> {
        loaded(yaml, EnforcementPoint::Gator)
            .rules
            .iter()
            .map(|rule| {
                (
                    rule.meta().id.to_string(),
                    rule.refuses_at_admission("web"),
                    rule.refuses_at_admission("kube-system"),
                )
            })
            .collect()
    }

    const TEMPLATE: &str = "apiVersion: templates.gatekeeper.sh/v1\nkind: ConstraintTemplate\nmetadata: {name: k8sguard}\nspec:\n  crd: {spec: {names: {kind: K8sGuard}}}\n  targets: [{target: admission.k8s.gatekeeper.sh, rego: \"package k8sguard\\nviolation[{\\\"msg\\\": \\\"no\\\"}] { input.review.object.spec.hostPID }\"}]\n";

    /// A K8sGuard constraint; `spec` is added to its spec, or to its match when it starts
    /// with `match`.
    fn constraint(name: &str, spec: &str) -> String {
        let (matching, spec) = match spec.strip_prefix("match") {
            Some(matching) => (matching, ""),
            None => ("", spec),
        };
        format!(
            "---\napiVersion: constraints.gatekeeper.sh/v1beta1\nkind: K8sGuard\nmetadata: {{name: {name}}}\nspec: {{match: {{kinds: [{{apiGroups: [''], kinds: [Pod]}}]{matching}}}{spec}}}\n"
        )
    }

    /// A constraint refuses at admission with `deny` at the webhook; its creator escapes it by
    /// an exempted image, a label or a name it matches; a warning or a namespace the webhook's
    /// Config exempts refuses nothing.
    #[test]
    fn constraints_say_what_they_refuse_at_admission() {
        let mut yaml = TEMPLATE.to_string();
        for (name, spec) in [
            ("plain", ""),
            ("empty-selector", "match, labelSelector: {}"),
            ("warned", ", enforcementAction: warn"),
            (
                "webhook-dryrun",
                ", enforcementAction: scoped, scopedEnforcementActions: [{action: deny, enforcementPoints: [{name: gator.gatekeeper.sh}]}, {action: dryrun, enforcementPoints: [{name: validation.gatekeeper.sh}]}]",
            ),
            (
                "exempting",
                ", parameters: {exemptImages: ['debug.example/*']}",
            ),
            (
                "selecting",
                "match, labelSelector: {matchExpressions: [{key: guard, operator: NotIn, values: ['off']}]}",
            ),
        ] {
            yaml.push_str(&constraint(name, spec));
        }
        // A template that lets some users through.
        yaml.push_str("---\n");
        yaml.push_str(&TEMPLATE.replace("K8sGuard", "K8sUserGuard").replace("k8sguard", "k8suserguard").replace(
            "input.review.object.spec.hostPID }",
            "input.review.object.spec.hostPID; input.review.userInfo.username != \\\"ops\\\" }",
        ));
        yaml.push_str("---\napiVersion: constraints.gatekeeper.sh/v1beta1\nkind: K8sUserGuard\nmetadata: {name: by-user}\nspec: {}\n");
        // A template judged with its CEL (its Rego does not compile), whose match conditions
        // let labelled pods through.
        yaml.push_str("---\napiVersion: templates.gatekeeper.sh/v1\nkind: ConstraintTemplate\nmetadata: {name: k8scelguard}\nspec:\n  crd: {spec: {names: {kind: K8sCelGuard}}}\n  targets:\n  - target: admission.k8s.gatekeeper.sh\n    rego: 'package k8scelguard\nviolation[{\"msg\": \"no\"}] { input.review.object.spec.hostPID === }'\n    code:\n    - engine: K8sNativeValidation\n      source:\n        matchConditions: [{name: not-debug, expression: \"!has(object.metadata.labels) || !('debug' in object.metadata.labels)\"}]\n        validations: [{expression: \"!has(object.spec.hostPID) || !object.spec.hostPID\", message: 'no'}]\n---\napiVersion: constraints.gatekeeper.sh/v1beta1\nkind: K8sCelGuard\nmetadata: {name: cel}\nspec: {}\n");
        yaml.push_str("---\napiVersion: config.gatekeeper.sh/v1alpha1\nkind: Config\nmetadata: {name: config, namespace: gatekeeper-system}\nspec: {match: [{excludedNamespaces: [kube-*], processes: [webhook]}]}\n");
        let got = refusals(&yaml);
        let of = |id: &str| got.iter().find(|(i, _, _)| i == id).unwrap().clone();
        assert_eq!(of("K8sGuard/plain").1, Refusal::Yes);
        assert_eq!(
            of("K8sGuard/plain").2,
            Refusal::No,
            "the webhook exempts kube-*"
        );
        assert_eq!(of("K8sGuard/empty-selector").1, Refusal::Yes);
        assert_eq!(of("K8sGuard/warned").1, Refusal::No);
        assert_eq!(of("K8sGuard/webhook-dryrun").1, Refusal::No);
        assert_eq!(
            of("K8sCelGuard/cel").1,
            Refusal::Escapable("its matchConditions decide which requests it judges".into())
        );
        assert_eq!(
            of("K8sUserGuard/by-user").1,
            Refusal::Escapable("its verdict depends on who asks (userInfo)".into())
        );
        assert_eq!(
            of("K8sGuard/exempting").1,
            Refusal::Escapable("it exempts images debug.example/*".into())
        );
        assert!(
            matches!(of("K8sGuard/selecting").1, Refusal::Escapable(how) if how.contains("labelSelector"))
        );
    }

    /// A binding refuses at admission with `Deny`; selecting by label, match conditions or
    /// the authorizer let a pod's creator escape it.
    #[test]
    fn bindings_say_what_they_refuse_at_admission() {
        let policy = |name: &str, extra: &str| {
            format!(
                "---\napiVersion: admissionregistration.k8s.io/v1\nkind: ValidatingAdmissionPolicy\nmetadata: {{name: {name}}}\nspec:\n  matchConstraints: {{resourceRules: [{{apiGroups: [''], apiVersions: [v1], operations: [CREATE], resources: [pods]}}]}}\n  validations: [{{expression: '!has(object.spec.hostPID)'}}]\n{extra}"
            )
        };
        let binding = |name: &str, extra: &str| {
            format!(
                "---\napiVersion: admissionregistration.k8s.io/v1\nkind: ValidatingAdmissionPolicyBinding\nmetadata: {{name: {name}}}\nspec: {{policyName: {name}{extra}}}\n"
            )
        };
        let yaml = [
            policy("plain", ""),
            binding("plain", ", validationActions: [Deny]"),
            policy("warned", ""),
            binding("warned", ", validationActions: [Warn, Audit]"),
            policy("selected", ""),
            binding("selected", ", validationActions: [Deny], matchResources: {objectSelector: {matchLabels: {guard: 'on'}}}"),
            policy("conditional", "  matchConditions: [{name: not-ci, expression: \"request.userInfo.username != 'ci'\"}]\n"),
            binding("conditional", ", validationActions: [Deny]"),
            policy("by-user", "").replace(
                "'!has(object.spec.hostPID)'",
                "\"!has(object.spec.hostPID) || request.userInfo.username == 'break-glass'\"",
            ),
            binding("by-user", ", validationActions: [Deny]"),
        ]
        .concat();
        let got = refusals(&yaml);
        let of = |name: &str| {
            got.iter()
                .find(|(id, _, _)| id.ends_with(name))
                .unwrap_or_else(|| panic!("{name}: {got:?}"))
                .1
                .clone()
        };
        assert_eq!(of("plain"), Refusal::Yes);
        assert_eq!(of("warned"), Refusal::No);
        assert!(
            matches!(of("selected"), Refusal::Escapable(how) if how.contains("objectSelector"))
        );
        assert!(
            matches!(of("conditional"), Refusal::Escapable(how) if how.contains("matchConditions"))
        );
        assert!(matches!(of("by-user"), Refusal::Escapable(how) if how.contains("userInfo")));
    }

    /// Namespaces the policies treat alike share one answer; a namespace a selector or an
    /// exclusion treats otherwise gets its own.
    #[test]
    fn namespaces_treated_alike_share_an_answer_and_the_others_get_theirs() {
        use palisade_rbac::graph::AdmissionAsker as _;
        let template = "apiVersion: templates.gatekeeper.sh/v1\nkind: ConstraintTemplate\nmetadata: {name: k8snoprivileged}\nspec:\n  crd: {spec: {names: {kind: K8sNoPrivileged}}}\n  targets: [{target: admission.k8s.gatekeeper.sh, rego: \"package k8snoprivileged\\nviolation[{\\\"msg\\\": \\\"privileged\\\"}] { input.review.object.spec.containers[_].securityContext.privileged }\"}]\n---\napiVersion: constraints.gatekeeper.sh/v1beta1\nkind: K8sNoPrivileged\nmetadata: {name: guarded}\nspec: {match: {kinds: [{apiGroups: [''], kinds: [Pod]}], namespaceSelector: {matchLabels: {guard: 'on'}}, excludedNamespaces: [d]}}\n";
        let mut settings = palisade_rules::RuleSettings::default();
        settings.admission_policies = palisade_rules::settings::AdmissionPolicies(
            loaded(template, EnforcementPoint::Validation).rules,
        );
        let namespace = |name: &str, labels: &str| {
            format!(
                "apiVersion: v1\nkind: Namespace\nmetadata: {{name: {name}, labels: {{{labels}}}}}\n"
            )
        };
        let cluster = [
            namespace("a", "guard: 'on'"),
            namespace("b", "guard: 'on', team: x"),
            namespace("c", ""),
            namespace("d", "guard: 'on'"),
        ]
        .join("---\n");
        let inventory = load_text("cluster.yaml", &cluster, &Limits::default()).inventory;
        let asker = palisade_rules::refusals::PolicyAsker::of(&settings).unwrap();
        let names: Vec<String> = ["a", "b", "c", "d", "e"].map(String::from).to_vec();
        let answers = asker.ask(&inventory, &names);
        let privileged = |ns: &str| {
            let ways = answers
                .of(ns)
                .unwrap_or_else(|| panic!("{ns} not answered"));
            assert_eq!(ways[0].way, "runs a privileged container");
            ways[0].refused_by.clone()
        };
        assert_eq!(privileged("a").as_deref(), Some("K8sNoPrivileged/guarded"));
        assert_eq!(privileged("b").as_deref(), Some("K8sNoPrivileged/guarded"));
        assert_eq!(privileged("c"), None, "the selector leaves c out");
        assert_eq!(privileged("d"), None, "d is excluded");
        // `e` was not read: only the probes could say, and they cannot match it.
        assert_eq!(privileged("e"), None);
    }
}
