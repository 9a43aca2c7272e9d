//! Gatekeeper's objects: ConstraintTemplates (the Rego of the `admission.k8s.gatekeeper.sh`
//! target, its libs, its Rego version) and Constraints (parameters, `match`,
//! `enforcementAction`), with the match semantics Gatekeeper applies before evaluating.

use palisade_core::selector::{NamespaceSelection, label_selector_matches, namespace_selected};
use palisade_core::tree::Tree as _;
use serde_json::{Map, Value};

/// A template or constraint that cannot be used, with the field at fault.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PolicyError {
    /// A required field is missing or has the wrong type.
    #[error("{object}: {field}: {message}")]
    Invalid {
        object: String,
        field: &'static str,
        message: String,
    },
    /// The Rego does not compile (regorus's message, with the template).
    #[error("{template}: Rego: {message}")]
    Rego { template: String, message: String },
    /// A constraint its CRD's schema refuses ([`crate::schema`]): the problems, joined.
    #[error("{object}: schema: does not follow the schema of template {template}: {problems}")]
    Schema {
        object: String,
        template: String,
        problems: String,
    },
    /// A CEL expression does not compile, or its evaluation failed.
    #[error("{template}: CEL: {message}")]
    Cel { template: String, message: String },
    /// The template has no engine Palisade evaluates.
    #[error("{template}: no Rego code for target admission.k8s.gatekeeper.sh")]
    NoRego { template: String },
}

/// A ConstraintTemplate's code for the admission target.
#[derive(Debug, Clone, PartialEq)]
pub struct Template {
    /// `metadata.name`.
    pub name: String,
    /// The constraint kind it defines (`spec.crd.spec.names.kind`).
    pub kind: String,
    pub rego: String,
    pub libs: Vec<String>,
    /// `source.version: v1` (Rego v1 syntax); v0 otherwise, as Gatekeeper defaults.
    pub rego_v1: bool,
    /// The `K8sNativeValidation` (CEL) source, when the template has one.
    pub cel: Option<Value>,
    pub title: Option<String>,
    pub description: Option<String>,
    /// The parameters' schema (`spec.crd.spec.validation.openAPIV3Schema`), when declared.
    pub parameters_schema: Option<Value>,
    /// Whether unknown parameters are kept (`legacySchema`, true by default before `v1`).
    pub legacy_schema: bool,
}

pub(crate) use palisade_core::tree::strings;

fn str_at<'v>(value: &'v Value, pointer: &str) -> Option<&'v str> {
    value.at(pointer).and_then(Value::as_str)
}

impl Template {
    /// Reads a ConstraintTemplate (`templates.gatekeeper.sh` v1, v1beta1, v1alpha1).
    pub fn from_value(value: &Value) -> Result<Template, PolicyError> {
        let name = str_at(value, "/metadata/name").unwrap_or("?").to_string();
        let invalid = |field: &'static str, message: &str| PolicyError::Invalid {
            object: format!("ConstraintTemplate {name}"),
            field,
            message: message.to_string(),
        };
        let kind = str_at(value, "/spec/crd/spec/names/kind")
            .ok_or_else(|| invalid("spec.crd.spec.names.kind", "missing"))?
            .to_string();
        let targets = value
            .at("/spec/targets")
            .and_then(Value::as_array)
            .ok_or_else(|| invalid("spec.targets", "missing"))?;
        let target = targets
            .iter()
            .find(|t| str_at(t, "/target").is_none_or(|name| name == "admission.k8s.gatekeeper.sh"))
            .ok_or_else(|| invalid("spec.targets", "no admission.k8s.gatekeeper.sh target"))?;
        let mut rego = target
            .get("rego")
            .and_then(Value::as_str)
            .map(str::to_string);
        let mut libs = strings(target.get("libs"));
        let mut rego_v1 = false;
        let mut cel = None;
        for code in target
            .get("code")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            match str_at(code, "/engine") {
                Some("Rego") => {
                    let source = code.get("source").cloned().unwrap_or(Value::Null);
                    rego = str_at(&source, "/rego").map(str::to_string).or(rego);
                    libs.extend(strings(source.get("libs")));
                    rego_v1 = str_at(&source, "/version") == Some("v1");
                }
                Some("K8sNativeValidation") => cel = code.get("source").cloned(),
                _ => {}
            }
        }
        let rego = rego.ok_or(PolicyError::NoRego {
            template: name.clone(),
        })?;
        let legacy_default = !str_at(value, "/apiVersion").is_some_and(|v| v.ends_with("/v1"));
        Ok(Template {
            parameters_schema: value
                .at("/spec/crd/spec/validation/openAPIV3Schema")
                .filter(|s| s.is_object())
                .cloned(),
            legacy_schema: value
                .at("/spec/crd/spec/validation/legacySchema")
                .and_then(Value::as_bool)
                .unwrap_or(legacy_default),
            kind,
            rego,
            libs,
            rego_v1,
            cel,
            title: str_at(value, "/metadata/annotations/metadata.gatekeeper.sh~1title")
                .map(str::to_string),
            description: str_at(value, "/metadata/annotations/description").map(str::to_string),
            name,
        })
    }
}

/// What a constraint does with a violation, least severe first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Enforcement {
    Dryrun,
    Warn,
    Deny,
}

impl Enforcement {
    pub(crate) fn parse(text: &str) -> Option<Enforcement> {
        match text {
            "deny" => Some(Enforcement::Deny),
            "warn" => Some(Enforcement::Warn),
            "dryrun" => Some(Enforcement::Dryrun),
            _ => None,
        }
    }
}

/// Where Gatekeeper enforces a constraint, by the names `scopedEnforcementActions` use.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EnforcementPoint {
    /// The admission webhook (`serve admission`).
    Validation,
    /// Shift-left, on manifests (`scan` of files).
    Gator,
    /// What is in the cluster (`scan` of a cluster or snapshot).
    Audit,
}

impl EnforcementPoint {
    /// The Gatekeeper process a `Config`'s `match[].processes` names for this point
    /// (`webhook`, `audit`); shift-left has none of its own, so only `*` reaches it.
    pub fn process(self) -> Option<&'static str> {
        match self {
            EnforcementPoint::Validation => Some("webhook"),
            EnforcementPoint::Audit => Some("audit"),
            EnforcementPoint::Gator => None,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            EnforcementPoint::Validation => "validation.gatekeeper.sh",
            EnforcementPoint::Gator => "gator.gatekeeper.sh",
            EnforcementPoint::Audit => "audit.gatekeeper.sh",
        }
    }
}

/// A constraint's `enforcementAction`: one action everywhere, or (`scoped`) actions per
/// enforcement point (`scopedEnforcementActions`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Actions {
    Everywhere(Enforcement),
    /// `(action, enforcement point names)`; `*` names every point.
    Scoped(Vec<(Enforcement, Vec<String>)>),
}

/// The objects a constraint applies to.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Match {
    /// `(apiGroups, kinds)`; empty matches every kind.
    pub kinds: Vec<(Vec<String>, Vec<String>)>,
    pub namespaces: Vec<String>,
    pub excluded_namespaces: Vec<String>,
    pub label_selector: Option<Value>,
    pub namespace_selector: Option<Value>,
    /// `*`, `Cluster` or `Namespaced`.
    pub scope: Option<String>,
    /// An object name (a trailing `*` is a prefix).
    pub name: Option<String>,
    /// Whether it matches objects as written, the mock resources ExpansionTemplates make of
    /// them, or both.
    pub source: Source,
}

/// `match.source`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Source {
    #[default]
    All,
    Original,
    Generated,
}

/// Whether `object` is a Namespace (core group).
fn is_namespace(object: &Value) -> bool {
    str_at(object, "/kind") == Some("Namespace")
        && !str_at(object, "/apiVersion").unwrap_or("").contains('/')
}

/// The namespace an object counts in for Gatekeeper's namespace fields, its `Config`
/// exemptions and namespace selectors: a Namespace's own name, else its namespace.
pub(crate) fn counted_namespace(object: &Value) -> Option<&str> {
    if is_namespace(object) {
        str_at(object, "/metadata/name")
    } else {
        str_at(object, "/metadata/namespace")
    }
}

/// Why a namespace selector cannot be decided: the namespace was not read.
pub(crate) fn namespace_not_read(namespace: &str) -> String {
    format!(
        "its namespaceSelector reads labels of namespace {namespace}, which is not among the \
         objects read: give its Namespace (or scan the cluster) to judge it"
    )
}

/// Whether a constraint applies to an object.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Applies {
    Yes,
    No,
    /// Its `namespaceSelector` reads labels of a namespace that is not among the objects
    /// read: only the cluster could say (Gatekeeper refuses to match without the Namespace).
    Unknown(String),
}

/// The namespaces a Gatekeeper `Config` (`config.gatekeeper.sh`) exempts from every
/// constraint at `point`: its `spec.match` entries whose `processes` name `*` or the point's
/// process.
pub fn config_exempt_namespaces(config: &Value, point: EnforcementPoint) -> Vec<String> {
    config_exempt_from(config, point.process())
}

/// The namespaces a Gatekeeper `Config` exempts from its mutators (the `mutation-webhook`
/// process, which also mutates the mock resources of ExpansionTemplates).
pub fn config_exempt_from_mutation(config: &Value) -> Vec<String> {
    config_exempt_from(config, Some("mutation-webhook"))
}

fn config_exempt_from(config: &Value, process: Option<&str>) -> Vec<String> {
    config
        .at("/spec/match")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter(|entry| {
            strings(entry.get("processes"))
                .iter()
                .any(|p| p == "*" || Some(p.as_str()) == process)
        })
        .flat_map(|entry| strings(entry.get("excludedNamespaces")))
        .collect()
}

/// A constraint: an instance of a template's kind.
#[derive(Debug, Clone, PartialEq)]
pub struct Constraint {
    pub kind: String,
    pub name: String,
    pub parameters: Value,
    pub matcher: Match,
    pub actions: Actions,
}

/// `kube-*` in a namespace list: a trailing `*` is a prefix, a leading one a suffix.
pub(crate) fn glob(pattern: &str, value: &str) -> bool {
    if let Some(prefix) = pattern.strip_suffix('*') {
        value.starts_with(prefix)
    } else if let Some(suffix) = pattern.strip_prefix('*') {
        value.ends_with(suffix)
    } else {
        pattern == value
    }
}

impl Constraint {
    /// Reads a constraint of `template`, refusing one its CRD's schema refuses (an unknown
    /// field, a wrong type: [`crate::schema`]), as Gatekeeper and gator refuse it.
    pub fn of_template(value: &Value, template: &Template) -> Result<Constraint, PolicyError> {
        let schema = crate::schema::constraint_schema(
            template.parameters_schema.as_ref(),
            template.legacy_schema,
        );
        let problems = crate::schema::problems(value, &schema);
        if !problems.is_empty() {
            return Err(PolicyError::Schema {
                object: format!(
                    "{} {}",
                    str_at(value, "/kind").unwrap_or("?"),
                    str_at(value, "/metadata/name").unwrap_or("?")
                ),
                template: template.name.clone(),
                problems: problems.join("; "),
            });
        }
        Constraint::from_value(value)
    }

    pub fn from_value(value: &Value) -> Result<Constraint, PolicyError> {
        let kind = str_at(value, "/kind").unwrap_or("?").to_string();
        let name = str_at(value, "/metadata/name").unwrap_or("?").to_string();
        let spec_match = value.at("/spec/match").cloned().unwrap_or(Value::Null);
        let invalid = |field: &'static str, message: String| PolicyError::Invalid {
            object: format!("{kind} {name}"),
            field,
            message,
        };
        let actions = match str_at(value, "/spec/enforcementAction") {
            None => Actions::Everywhere(Enforcement::Deny),
            Some("scoped") => Actions::Scoped(
                scoped_actions(value)
                    .map_err(|message| invalid("spec.scopedEnforcementActions", message))?,
            ),
            Some(other) => Actions::Everywhere(Enforcement::parse(other).ok_or_else(|| {
                invalid(
                    "spec.enforcementAction",
                    format!("`{other}` is not deny, warn, dryrun or scoped"),
                )
            })?),
        };
        Ok(Constraint {
            parameters: value
                .at("/spec/parameters")
                .cloned()
                .unwrap_or_else(|| Value::Object(Map::new())),
            matcher: Match::from_spec(&spec_match).map_err(|(field, message)| {
                invalid(
                    match field {
                        "source" => "spec.match.source",
                        _ => "spec.match",
                    },
                    message,
                )
            })?,
            actions,
            kind,
            name,
        })
    }

    /// The action at `point`: the most severe of those naming it (or `*`) when scoped;
    /// `None` when the constraint is not enforced there.
    pub fn enforcement_at(&self, point: EnforcementPoint) -> Option<Enforcement> {
        match &self.actions {
            Actions::Everywhere(action) => Some(*action),
            Actions::Scoped(scoped) => scoped
                .iter()
                .filter(|(_, points)| points.iter().any(|p| p == "*" || p == point.name()))
                .map(|(action, _)| *action)
                .max(),
        }
    }
}

/// `spec.scopedEnforcementActions`: each entry's action and the points it names.
fn scoped_actions(value: &Value) -> Result<Vec<(Enforcement, Vec<String>)>, String> {
    let entries = value
        .at("/spec/scopedEnforcementActions")
        .and_then(Value::as_array)
        .filter(|entries| !entries.is_empty())
        .ok_or("`enforcementAction: scoped` needs a list of actions")?;
    entries
        .iter()
        .map(|entry| {
            let text = entry.get("action").and_then(Value::as_str).unwrap_or("");
            let action = Enforcement::parse(text)
                .ok_or_else(|| format!("action `{text}` is not deny, warn or dryrun"))?;
            let points: Vec<String> = entry
                .get("enforcementPoints")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .filter_map(|p| p.get("name").and_then(Value::as_str))
                .map(str::to_string)
                .collect();
            Ok((action, points))
        })
        .collect()
}

impl Match {
    /// Reads a constraint's or mutator's `spec.match`; an error names the field (`source`)
    /// and what is wrong with it.
    pub fn from_spec(spec_match: &Value) -> Result<Match, (&'static str, String)> {
        let kinds = spec_match
            .get("kinds")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .map(|k| (strings(k.get("apiGroups")), strings(k.get("kinds"))))
            .collect();
        let source = match str_at(spec_match, "/source") {
            None | Some("All") => Source::All,
            Some("Original") => Source::Original,
            Some("Generated") => Source::Generated,
            Some(other) => {
                return Err((
                    "source",
                    format!("`{other}` is not All, Original or Generated"),
                ));
            }
        };
        Ok(Match {
            kinds,
            namespaces: strings(spec_match.get("namespaces")),
            excluded_namespaces: strings(spec_match.get("excludedNamespaces")),
            label_selector: spec_match.get("labelSelector").cloned(),
            namespace_selector: spec_match.get("namespaceSelector").cloned(),
            scope: str_at(spec_match, "/scope").map(str::to_string),
            name: str_at(spec_match, "/name").map(str::to_string),
            source,
        })
    }

    /// Whether `match.source` lets it judge or mutate an object as written (`generated`
    /// false) or a mock resource an ExpansionTemplate makes (`generated` true).
    pub fn source_allows(&self, generated: bool) -> bool {
        match self.source {
            Source::All => true,
            Source::Original => !generated,
            Source::Generated => generated,
        }
    }

    /// Whether the constraint applies to `object` (a Kubernetes object), whose namespace has
    /// `namespace_labels` when it was read (`None` when it was not). `namespaced` says
    /// whether the kind is namespaced.
    pub fn applies(
        &self,
        object: &Value,
        namespaced: bool,
        namespace_labels: Option<&Map<String, Value>>,
    ) -> Applies {
        if !self.matches_apart_from_namespace_labels(object, namespaced) {
            return Applies::No;
        }
        let Some(selector) = &self.namespace_selector else {
            return Applies::Yes;
        };
        if is_namespace(object) {
            // A Namespace is selected by its own labels.
            let labels = object.at("/metadata/labels").and_then(Value::as_object);
            let name = str_at(object, "/metadata/name").unwrap_or("");
            return match namespace_selected(selector, name, Some(labels.unwrap_or(&Map::new()))) {
                NamespaceSelection::Selected => Applies::Yes,
                _ => Applies::No,
            };
        }
        // Gatekeeper's rule for cluster-scoped objects: a namespaceSelector does not exclude them.
        if !namespaced {
            return Applies::Yes;
        }
        let namespace = str_at(object, "/metadata/namespace").unwrap_or("default");
        match namespace_selected(selector, namespace, namespace_labels) {
            NamespaceSelection::Selected => Applies::Yes,
            NamespaceSelection::NotSelected => Applies::No,
            NamespaceSelection::Unknown => Applies::Unknown(namespace_not_read(namespace)),
        }
    }

    /// The kinds `(group, kind)` the match names (`*` as the group: every group), or `None`
    /// when it matches every kind.
    pub fn named_kinds(&self) -> Option<Vec<(String, String)>> {
        let mut named = Vec::new();
        for (groups, kinds) in &self.kinds {
            if kinds.is_empty() || kinds.iter().any(|k| k == "*") {
                return None;
            }
            let groups: Vec<&str> = if groups.is_empty() || groups.iter().any(|g| g == "*") {
                vec!["*"]
            } else {
                groups.iter().map(String::as_str).collect()
            };
            for group in groups {
                named.extend(kinds.iter().map(|k| (group.to_string(), k.clone())));
            }
        }
        (!named.is_empty()).then_some(named)
    }

    /// Every part of the match but the namespace selector.
    fn matches_apart_from_namespace_labels(&self, object: &Value, namespaced: bool) -> bool {
        let api_version = str_at(object, "/apiVersion").unwrap_or("");
        let group = palisade_core::object::api_group(api_version);
        let kind = str_at(object, "/kind").unwrap_or("");
        let kinds_match = self.kinds.is_empty()
            || self.kinds.iter().any(|(groups, kinds)| {
                (groups.is_empty() || groups.iter().any(|g| g == "*" || g == group))
                    && (kinds.is_empty() || kinds.iter().any(|k| k == "*" || k == kind))
            });
        if !kinds_match {
            return false;
        }
        match self.scope.as_deref() {
            Some("Cluster") if namespaced => return false,
            Some("Namespaced") if !namespaced => return false,
            _ => {}
        }
        let name = str_at(object, "/metadata/name")
            .or_else(|| str_at(object, "/metadata/generateName"))
            .unwrap_or("");
        if let Some(pattern) = &self.name
            && !glob(pattern, name)
        {
            return false;
        }
        // A Namespace object is matched by its own name for the namespace fields.
        if namespaced || is_namespace(object) {
            let ns = counted_namespace(object).unwrap_or("default");
            if !self.namespaces.is_empty() && !self.namespaces.iter().any(|p| glob(p, ns)) {
                return false;
            }
            if self.excluded_namespaces.iter().any(|p| glob(p, ns)) {
                return false;
            }
        }
        let labels = object.at("/metadata/labels").and_then(Value::as_object);
        if let Some(selector) = &self.label_selector
            && !label_selector_matches(selector, labels)
        {
            return false;
        }
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn match_follows_gatekeeper() {
        let c = Constraint::from_value(&json!({
            "kind": "K8sRequiredLabels", "metadata": {"name": "x"},
            "spec": {"match": {"kinds": [{"apiGroups": [""], "kinds": ["Pod"]}],
                "excludedNamespaces": ["kube-*"], "labelSelector": {"matchLabels": {"team": "a"}}},
                "enforcementAction": "warn"}
        }))
        .unwrap();
        let pod = |ns: &str, team: &str| {
            json!({"apiVersion": "v1", "kind": "Pod",
            "metadata": {"name": "p", "namespace": ns, "labels": {"team": team}}})
        };
        let applies = |object: &Value| c.matcher.applies(object, true, None);
        assert_eq!(applies(&pod("app", "a")), Applies::Yes);
        assert_eq!(applies(&pod("kube-system", "a")), Applies::No);
        assert_eq!(applies(&pod("app", "b")), Applies::No);
        let deployment =
            json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "d"}});
        assert_eq!(applies(&deployment), Applies::No);
        assert_eq!(
            c.enforcement_at(EnforcementPoint::Validation),
            Some(Enforcement::Warn)
        );
        // A namespaceSelector on labels of a namespace not read: only the cluster knows.
        let c = Constraint::from_value(&json!({
            "kind": "K8sRequiredLabels", "metadata": {"name": "x"},
            "spec": {"match": {"kinds": [{"apiGroups": [""], "kinds": ["Pod"]}],
                "namespaceSelector": {"matchLabels": {"env": "prod"}}}}
        }))
        .unwrap();
        let prod = json!({"env": "prod"});
        assert!(matches!(
            c.matcher.applies(&pod("app", "a"), true, None),
            Applies::Unknown(why) if why.contains("namespace app")
        ));
        assert_eq!(
            c.matcher.applies(&pod("app", "a"), true, prod.as_object()),
            Applies::Yes
        );
        assert_eq!(
            c.matcher.applies(&pod("app", "a"), true, Some(&Map::new())),
            Applies::No
        );
        // A Namespace is judged by its own labels.
        let c = Constraint::from_value(&json!({
            "kind": "K8sRequiredLabels", "metadata": {"name": "x"},
            "spec": {"match": {"kinds": [{"apiGroups": [""], "kinds": ["Namespace"]}],
                "namespaceSelector": {"matchLabels": {"env": "prod"}}}}
        }))
        .unwrap();
        let namespace = |labels: Value| json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "app", "labels": labels}});
        assert_eq!(
            c.matcher.applies(&namespace(prod), false, None),
            Applies::Yes
        );
        assert_eq!(
            c.matcher.applies(&namespace(json!({})), false, None),
            Applies::No
        );
        assert!(
            Constraint::from_value(&json!({"kind": "K", "spec": {"enforcementAction": "block"}}))
                .is_err()
        );
    }

    /// A Gatekeeper `Config` exempts namespaces per process: `*` everywhere, `webhook` at
    /// admission, `audit` in a scan of the cluster; shift-left only by `*`.
    #[test]
    fn config_exemptions_follow_the_process() {
        use EnforcementPoint::*;
        let config = json!({"spec": {"match": [
            {"excludedNamespaces": ["audited-out"], "processes": ["audit"]},
            {"excludedNamespaces": ["webhook-out"], "processes": ["webhook", "sync"]},
            {"excludedNamespaces": ["kube-*"], "processes": ["*"]},
            {"excludedNamespaces": ["synced-out"], "processes": ["sync"]},
        ]}});
        assert_eq!(
            config_exempt_namespaces(&config, Validation),
            ["webhook-out", "kube-*"]
        );
        assert_eq!(
            config_exempt_namespaces(&config, Audit),
            ["audited-out", "kube-*"]
        );
        assert_eq!(config_exempt_namespaces(&config, Gator), ["kube-*"]);
        assert!(config_exempt_namespaces(&json!({}), Gator).is_empty());
    }

    /// `enforcementAction: scoped`: per point, the most severe action naming it or `*`;
    /// none where no action names the point.
    #[test]
    fn scoped_actions_follow_the_enforcement_point() {
        use EnforcementPoint::*;
        let scoped = |actions: Value| {
            Constraint::from_value(&json!({"kind": "K", "metadata": {"name": "x"},
                "spec": {"enforcementAction": "scoped", "scopedEnforcementActions": actions}}))
        };
        let c = scoped(json!([
            {"action": "warn", "enforcementPoints": [{"name": "validation.gatekeeper.sh"}]},
            {"action": "deny", "enforcementPoints": [{"name": "gator.gatekeeper.sh"}]},
        ]))
        .unwrap();
        assert_eq!(c.enforcement_at(Validation), Some(Enforcement::Warn));
        assert_eq!(c.enforcement_at(Gator), Some(Enforcement::Deny));
        assert_eq!(c.enforcement_at(Audit), None);
        let c = scoped(json!([
            {"action": "dryrun", "enforcementPoints": [{"name": "*"}]},
            {"action": "warn", "enforcementPoints": [{"name": "audit.gatekeeper.sh"}]},
        ]))
        .unwrap();
        assert_eq!(c.enforcement_at(Audit), Some(Enforcement::Warn));
        assert_eq!(c.enforcement_at(Validation), Some(Enforcement::Dryrun));
        assert!(scoped(json!([])).is_err());
        assert!(scoped(json!([{"action": "block", "enforcementPoints": []}])).is_err());
    }
}
