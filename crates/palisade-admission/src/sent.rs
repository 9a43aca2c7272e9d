//! What the webhook must be sent for its rules to judge, and what a webhook configuration
//! sends. The API server sends a webhook only the requests its configuration's `rules`
//! select, so a policy judging a kind the configuration leaves out never runs at admission,
//! and nothing says so: `palisade install` writes its rules from what the rules and policies
//! judge ([`Needs::webhook_rules`]), and `serve admission` says which rules judge requests
//! the configuration it is registered in does not send ([`Needs::unsent`]).
//!
//! Creations and updates are always checked; deletions and connections when the settings
//! judge them (`judge_deletions`, `judge_connect`), for the policies that select them.

use std::collections::{BTreeMap, BTreeSet};

use palisade_k8s::admission_rules::{RuleRequest, RuleWithOperations};
use palisade_k8s::{ApiResource, Catalogue, Scope};
use palisade_rules::{Judges, Rule};
use serde_json::{Value, json};

/// The operations a webhook judges objects on; deletions and connections are judged too when
/// the settings say so (`judge_deletions`, `judge_connect`), by the rules that ask for them.
pub const WRITES: [&str; 2] = ["CREATE", "UPDATE"];

/// A request on a resource some rules judge.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Request {
    pub group: String,
    /// The plural name, with `/subresource` for one (`pods/ephemeralcontainers`).
    pub resource: String,
    pub operation: &'static str,
    /// The resource's preferred version (a webhook with `matchPolicy: Exact` must name it).
    pub version: String,
    pub namespaced: bool,
}

impl Request {
    /// `deployments.apps`, `pods/ephemeralcontainers`: as kubectl names it.
    pub fn name(&self) -> String {
        let (resource, sub) = self
            .resource
            .split_once('/')
            .unwrap_or((&self.resource, ""));
        let group = match self.group.as_str() {
            "" => String::new(),
            group => format!(".{group}"),
        };
        let sub = match sub {
            "" => String::new(),
            sub => format!("/{sub}"),
        };
        format!("{resource}{group}{sub}")
    }

    fn as_rule_request(&self) -> RuleRequest<'_> {
        let (resource, subresource) = self
            .resource
            .split_once('/')
            .unwrap_or((&self.resource, ""));
        RuleRequest {
            group: &self.group,
            version: &self.version,
            resource,
            subresource,
            operation: self.operation,
            namespaced: self.namespaced,
        }
    }
}

/// What a set of rules judges, by request.
#[derive(Debug, Clone, Default)]
pub struct Needs {
    /// Each request some rule judges, with the ids of the rules judging it.
    pub requests: BTreeMap<Request, BTreeSet<String>>,
    /// Kinds a rule names that no resource of the catalogue serves `(rule, group, kind)`: a
    /// custom resource whose definition was not read, or a kind that is not an API resource
    /// (an audit policy file).
    pub unknown: BTreeSet<(String, String, String)>,
    /// Rules that judge whatever they are shown (every kind): they ask nothing of their own.
    pub anything: BTreeSet<String>,
}

/// What one webhook of a configuration sends.
#[derive(Debug, Clone)]
pub struct Sent {
    rules: Vec<RuleWithOperations>,
    /// `matchPolicy: Equivalent` (the default): a request in another version of a resource it
    /// names is sent too.
    any_version: bool,
    namespace_selector: Option<Value>,
    object_selector: Option<Value>,
}

impl Sent {
    /// The webhooks of a Validating- or MutatingWebhookConfiguration.
    pub fn of_configuration(configuration: &Value) -> Vec<Sent> {
        configuration
            .get("webhooks")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .map(|webhook| Sent {
                rules: RuleWithOperations::read_all(webhook.get("rules")),
                any_version: webhook.get("matchPolicy").and_then(Value::as_str) != Some("Exact"),
                namespace_selector: webhook.get("namespaceSelector").cloned(),
                object_selector: webhook.get("objectSelector").cloned(),
            })
            .collect()
    }

    fn sends(&self, request: &Request) -> bool {
        let request = request.as_rule_request();
        self.rules.iter().any(|rule| match self.any_version {
            true => rule.matches_any_version(&request),
            false => rule.matches(&request),
        })
    }
}

impl Needs {
    /// What `rules` judge, their kinds resolved to resources through `catalogue`. A rule
    /// judging Pods judges the ephemeral containers added to one too (they are written
    /// through `pods/ephemeralcontainers`).
    pub fn of(rules: &[&dyn Rule], catalogue: &Catalogue) -> Needs {
        Needs::of_operations(rules, catalogue, &WRITES)
    }

    /// [`Needs::of`] for requests of `operations`: a rule judges a `DELETE` or a `CONNECT`
    /// only when it asks for them ([`Rule::judges_operation`]: policies), and a connection
    /// only when it names the subresource (a policy's `pods/exec`).
    pub fn of_operations(
        rules: &[&dyn Rule],
        catalogue: &Catalogue,
        operations: &[&'static str],
    ) -> Needs {
        let mut needs = Needs::default();
        for rule in rules {
            let id = rule.meta().id.to_string();
            let operations: Vec<&'static str> = operations
                .iter()
                .copied()
                .filter(|op| WRITES.contains(op) || rule.judges_operation(op))
                .collect();
            if operations.is_empty() {
                continue;
            }
            match rule.judges() {
                Judges::Anything => {
                    needs.anything.insert(id);
                }
                Judges::Kinds(kinds) => {
                    for (group, kind) in kinds {
                        needs.add_kind_on(&id, &group, &kind, catalogue, &operations);
                    }
                }
                Judges::Requests(selected) => {
                    needs.add_selected(&id, &selected, catalogue, &operations);
                }
            }
        }
        needs
    }

    /// The requests of `operations` only.
    pub fn only(&self, operations: &[&str]) -> Needs {
        Needs {
            requests: self
                .requests
                .iter()
                .filter(|(r, _)| operations.contains(&r.operation))
                .map(|(r, rules)| (r.clone(), rules.clone()))
                .collect(),
            ..self.clone()
        }
    }

    /// What the mutating webhook must be sent: creations and updates of the kinds with pod
    /// specs (one, or several templates), whose defaults the hardening patch sets, and of the
    /// kinds each of `mutators` (Gatekeeper's) applies to.
    pub fn of_mutation(
        mutators: Option<&dyn palisade_rules::ObjectMutators>,
        catalogue: &Catalogue,
    ) -> Needs {
        let mut needs = Needs::default();
        let podspec = palisade_inventory::podspec::pod_spec_kinds()
            .chain(palisade_inventory::podspec::grouped_pod_spec_kinds());
        for (group, kind) in podspec {
            needs.add_kind("[admission.mutate]", group, kind, catalogue);
        }
        // A Pod is patched only when created, not through its ephemeral containers.
        needs.requests.retain(|r, _| !r.resource.contains('/'));
        for (id, kinds) in mutators.map(|m| m.applied_kinds()).unwrap_or_default() {
            match kinds {
                None => {
                    needs.anything.insert(id);
                }
                Some(kinds) => {
                    for (group, kind) in kinds {
                        needs.add_kind(&id, &group, &kind, catalogue);
                    }
                }
            }
        }
        needs
    }

    /// Adds the creations and updates `rule` judges of kind `(group, kind)`.
    pub fn add_kind(&mut self, rule: &str, group: &str, kind: &str, catalogue: &Catalogue) {
        self.add_kind_on(rule, group, kind, catalogue, &WRITES);
    }

    /// Adds the requests of `operations` that `rule` judges of kind `(group, kind)`: the
    /// object itself (a kind names no connection's subresource), and for Pods their ephemeral
    /// containers.
    fn add_kind_on(
        &mut self,
        rule: &str,
        group: &str,
        kind: &str,
        catalogue: &Catalogue,
        operations: &[&'static str],
    ) {
        let resources: Vec<&ApiResource> = catalogue
            .resources()
            .iter()
            .filter(|r| r.kind == kind && (group == "*" || r.group == group))
            .collect();
        if resources.is_empty() {
            self.unknown
                .insert((rule.to_string(), group.to_string(), kind.to_string()));
        }
        for operation in operations.iter().copied().filter(|op| *op != "CONNECT") {
            for resource in &resources {
                self.add_request(rule, resource, &resource.plural, operation);
                if resource.group.is_empty()
                    && resource.plural == "pods"
                    && WRITES.contains(&operation)
                {
                    self.add_request(rule, resource, "pods/ephemeralcontainers", operation);
                }
            }
        }
    }

    /// Adds the requests that `selected` (a policy's `resourceRules`) select among the
    /// catalogue's resources and subresources; a rule on every resource of every group
    /// judges anything.
    fn add_selected(
        &mut self,
        rule: &str,
        selected: &[RuleWithOperations],
        catalogue: &Catalogue,
        operations: &[&'static str],
    ) {
        let everything = |r: &RuleWithOperations| {
            r.groups.iter().any(|g| g == "*") && r.resources.iter().any(|x| x == "*" || x == "*/*")
        };
        if selected.iter().any(everything) {
            self.anything.insert(rule.to_string());
            return;
        }
        for resource in catalogue.resources() {
            let names = std::iter::once(resource.plural.clone()).chain(
                resource
                    .subresources
                    .iter()
                    .map(|s| format!("{}/{s}", resource.plural)),
            );
            for name in names {
                for operation in operations.iter().copied() {
                    let request = request_on(resource, &name, operation);
                    if selected
                        .iter()
                        .any(|r| r.matches_any_version(&request.as_rule_request()))
                    {
                        self.requests
                            .entry(request)
                            .or_default()
                            .insert(rule.to_string());
                    }
                }
            }
        }
    }

    /// Adds creations and updates of `resource` (a plural, `name/subresource`) of `group`,
    /// which the catalogue need not know (a custom resource named by the user).
    pub fn add_named(&mut self, reason: &str, group: &str, resource: &str) {
        for operation in WRITES {
            self.add_request_named(reason, group, resource, operation);
        }
    }

    /// Adds a request of `operation` on `resource` (a plural or `name/subresource`) of
    /// `group`, for `reason`.
    pub fn add_request_named(
        &mut self,
        reason: &str,
        group: &str,
        resource: &str,
        operation: &'static str,
    ) {
        let request = Request {
            group: group.to_string(),
            resource: resource.to_string(),
            operation,
            version: String::new(),
            namespaced: true,
        };
        self.requests
            .entry(request)
            .or_default()
            .insert(reason.to_string());
    }

    fn add_request(
        &mut self,
        rule: &str,
        resource: &ApiResource,
        name: &str,
        operation: &'static str,
    ) {
        self.requests
            .entry(request_on(resource, name, operation))
            .or_default()
            .insert(rule.to_string());
    }

    /// The requests no webhook of `sent` sends, with the rules that judge them.
    pub fn unsent<'a>(
        &'a self,
        sent: &[Sent],
    ) -> impl Iterator<Item = (&'a Request, &'a BTreeSet<String>)> {
        self.requests
            .iter()
            .filter(|(request, _)| !sent.iter().any(|s| s.sends(request)))
    }

    /// Webhook `rules` sending every request needed: one rule per API group and set of
    /// operations, in every version (the API server converts to none: a webhook judges the
    /// version asked for).
    pub fn webhook_rules(&self) -> Vec<Value> {
        let mut operations: BTreeMap<(&str, &str), BTreeSet<&str>> = BTreeMap::new();
        for request in self.requests.keys() {
            operations
                .entry((&request.group, &request.resource))
                .or_default()
                .insert(request.operation);
        }
        let mut rules: BTreeMap<(&str, Vec<&str>), BTreeSet<&str>> = BTreeMap::new();
        for ((group, resource), ops) in operations {
            rules
                .entry((group, ops.into_iter().collect()))
                .or_default()
                .insert(resource);
        }
        rules
            .into_iter()
            .map(|((group, operations), resources)| {
                json!({"apiGroups": [group], "apiVersions": ["*"],
                       "resources": resources, "operations": operations})
            })
            .collect()
    }
}

/// A request that a webhook configuration does not send, with what needs it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unsent {
    /// `ValidatingWebhookConfiguration` or `MutatingWebhookConfiguration`.
    pub configuration: &'static str,
    pub request: Request,
    /// The rules (or mutators) judging it.
    pub rules: BTreeSet<String>,
}

/// What the webhook configurations in the cluster do not send of what the run judges.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct NotSent {
    pub requests: Vec<Unsent>,
    /// Namespaces read whose requests no validating webhook selects (its
    /// `namespaceSelector`), besides the exempt ones: nothing in them is judged.
    pub namespaces: Vec<String>,
    /// The validating webhooks' `objectSelector`s that leave objects out by their labels: the
    /// author of an object escapes the webhook by what it writes.
    pub object_selectors: Vec<String>,
}

/// The webhooks of the configurations of kind `kind` (`ValidatingWebhookConfiguration`,
/// `MutatingWebhookConfiguration`) named `names` in `inventory`. An error when none was read
/// (`unlisted` says the cluster would not list the kind; otherwise none of those names is
/// in it).
pub fn configured(
    inventory: &palisade_inventory::Inventory,
    unlisted: &[(String, String, String)],
    kind: &'static str,
    names: &[String],
) -> Result<Vec<Sent>, String> {
    const GROUP: &str = "admissionregistration.k8s.io";
    if let Some((_, _, why)) = unlisted
        .iter()
        .find(|(g, k, _)| g == GROUP && (k == kind || k.is_empty()))
    {
        return Err(format!(
            "the {kind}s could not be listed: {why} (palisade install's reader role may list them)"
        ));
    }
    let sent: Vec<Sent> = inventory
        .of_kind(GROUP, kind)
        .filter(|c| {
            names
                .iter()
                .any(|n| c.id.name.as_deref() == Some(n.as_str()))
        })
        .flat_map(|c| Sent::of_configuration(&c.value))
        .collect();
    if sent.is_empty() {
        return Err(format!(
            "no {kind} named {} in the cluster read",
            names.join(" or ")
        ));
    }
    Ok(sent)
}

impl Needs {
    /// [`Needs::unsent`] as [`Unsent`]s of the configuration kind `configuration`.
    pub fn unsent_by(&self, configuration: &'static str, sent: &[Sent]) -> Vec<Unsent> {
        self.unsent(sent)
            .map(|(request, rules)| Unsent {
                configuration,
                request: request.clone(),
                rules: rules.clone(),
            })
            .collect()
    }
}

/// The Namespaces of `inventory` that no webhook of `sent` selects (by its
/// `namespaceSelector`, read against the labels the API server serves), but those in
/// `exempt` (the webhook lets them in unjudged anyway).
pub fn namespaces_not_sent(
    sent: &[Sent],
    inventory: &palisade_inventory::Inventory,
    exempt: &[String],
) -> Vec<String> {
    use palisade_core::selector::{NamespaceSelection, namespace_selected};
    let mut out: Vec<String> = inventory
        .served_namespace_labels()
        .into_iter()
        .filter(|(name, _)| !exempt.contains(name))
        .filter(|(name, labels)| {
            !sent.iter().any(|webhook| {
                webhook.namespace_selector.as_ref().is_none_or(|selector| {
                    namespace_selected(selector, name, Some(labels)) == NamespaceSelection::Selected
                })
            })
        })
        .map(|(name, _)| name)
        .collect();
    out.sort();
    out
}

/// The `objectSelector`s of `sent` that leave objects out by their labels, as JSON text.
pub fn object_selectors(sent: &[Sent]) -> Vec<String> {
    let mut out: Vec<String> = sent
        .iter()
        .filter_map(|webhook| webhook.object_selector.as_ref())
        .filter(|selector| !palisade_core::selector::selects_everything(selector))
        .map(Value::to_string)
        .collect();
    out.sort();
    out.dedup();
    out
}

fn request_on(resource: &ApiResource, name: &str, operation: &'static str) -> Request {
    Request {
        group: resource.group.clone(),
        resource: name.to_string(),
        operation,
        version: resource.version.clone(),
        namespaced: resource.scope == Scope::Namespaced,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use palisade_core::RuleMeta;
    use palisade_rules::{Context, Target};

    struct Judging(Judges, &'static RuleMeta);

    impl Rule for Judging {
        fn meta(&self) -> &'static RuleMeta {
            self.1
        }
        fn target(&self) -> Target {
            Target::All
        }
        fn check(&self, _: &mut Context<'_>) {}
        fn judges(&self) -> Judges {
            self.0.clone()
        }
    }

    fn meta(id: &str) -> &'static RuleMeta {
        Box::leak(Box::new(RuleMeta {
            id: id.to_string().into(),
            slug: "test".into(),
            title: "test".into(),
            severity: palisade_core::Severity::High,
            controls: Vec::new().into(),
            remediation: "".into(),
            docs: "".into(),
        }))
    }

    fn kinds(id: &str, kinds: &[(&str, &str)]) -> Judging {
        Judging(
            Judges::Kinds(
                kinds
                    .iter()
                    .map(|(g, k)| (g.to_string(), k.to_string()))
                    .collect(),
            ),
            meta(id),
        )
    }

    fn needed(rules: &[Judging]) -> Needs {
        let rules: Vec<&dyn Rule> = rules.iter().map(|r| r as &dyn Rule).collect();
        Needs::of(&rules, &Catalogue::builtin())
    }

    fn names(needs: &Needs, sent: &[Sent]) -> Vec<String> {
        needs
            .unsent(sent)
            .map(|(r, rules)| {
                let rules: Vec<&str> = rules.iter().map(String::as_str).collect();
                format!("{} {} {}", r.operation, r.name(), rules.join(","))
            })
            .collect()
    }

    #[test]
    fn kinds_become_resources_and_a_pod_brings_its_ephemeral_containers() {
        let needs = needed(&[
            kinds("PDB", &[("policy", "PodDisruptionBudget")]),
            kinds("POD", &[("", "Pod")]),
            kinds("ANY", &[("*", "Ingress")]),
            kinds("CRD", &[("gateway.networking.k8s.io", "Gateway")]),
        ]);
        let sent = Sent::of_configuration(&json!({"webhooks": [{"rules": [
            {"apiGroups": [""], "apiVersions": ["v1"], "resources": ["pods"], "operations": ["CREATE", "UPDATE"]}]}]}));
        assert_eq!(
            names(&needs, &sent),
            [
                "CREATE pods/ephemeralcontainers POD",
                "UPDATE pods/ephemeralcontainers POD",
                "CREATE ingresses.networking.k8s.io ANY",
                "UPDATE ingresses.networking.k8s.io ANY",
                "CREATE poddisruptionbudgets.policy PDB",
                "UPDATE poddisruptionbudgets.policy PDB",
            ]
        );
        assert_eq!(
            needs.unknown.iter().cloned().collect::<Vec<_>>(),
            [(
                "CRD".to_string(),
                "gateway.networking.k8s.io".to_string(),
                "Gateway".to_string()
            )]
        );
        // What the install writes sends all of it.
        let written =
            Sent::of_configuration(&json!({"webhooks": [{"rules": needs.webhook_rules()}]}));
        assert!(names(&needs, &written).is_empty());
    }

    #[test]
    fn a_webhook_sends_what_its_rules_select_in_any_version_unless_exact() {
        let needs = needed(&[kinds("DEP", &[("apps", "Deployment")])]);
        let configuration = |policy: &str, operations: Value| {
            json!({"webhooks": [{"matchPolicy": policy, "rules": [
                {"apiGroups": ["apps"], "apiVersions": ["v1beta2"], "resources": ["deployments"], "operations": operations}]}]})
        };
        let equivalent = Sent::of_configuration(&configuration("Equivalent", json!(["*"])));
        assert!(names(&needs, &equivalent).is_empty());
        let exact = Sent::of_configuration(&configuration("Exact", json!(["*"])));
        assert_eq!(names(&needs, &exact).len(), 2, "v1 is not sent");
        let creations = Sent::of_configuration(&configuration("Equivalent", json!(["CREATE"])));
        assert_eq!(names(&needs, &creations), ["UPDATE deployments.apps DEP"]);
        assert_eq!(
            names(&needs, &[]).len(),
            2,
            "no configuration sends nothing"
        );
    }

    #[test]
    fn a_policys_resource_rules_are_read_among_the_catalogues_resources() {
        let rule = |value: Value| RuleWithOperations::read(&value);
        let scale = Judging(
            Judges::Requests(vec![rule(
                json!({"apiGroups": ["apps"], "apiVersions": ["v1"],
                "resources": ["deployments/scale"], "operations": ["UPDATE"]}),
            )]),
            meta("SCALE"),
        );
        let every = Judging(
            Judges::Requests(vec![rule(json!({"apiGroups": ["*"], "apiVersions": ["*"],
                "resources": ["*"], "operations": ["CREATE"]}))]),
            meta("EVERY"),
        );
        let needs = needed(&[scale, every]);
        assert_eq!(names(&needs, &[]), ["UPDATE deployments.apps/scale SCALE"]);
        assert!(needs.anything.contains("EVERY"));
    }
}
