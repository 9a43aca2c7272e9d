//! Which requests an admission rule selects: the `rules` of a webhook configuration and the
//! `resourceRules` of a ValidatingAdmissionPolicy or its binding (`RuleWithOperations` in
//! admissionregistration.k8s.io/v1), matched as the API server's rules matcher matches them.

use palisade_core::tree::strings;
use serde_json::Value;

/// One `RuleWithOperations`.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct RuleWithOperations {
    pub groups: Vec<String>,
    pub versions: Vec<String>,
    /// Plural names, `name/subresource`, `*`, `name/*`, `*/subresource` or `*/*`.
    pub resources: Vec<String>,
    pub operations: Vec<String>,
    /// `Cluster`, `Namespaced` or `*` (absent: `*`).
    pub scope: Option<String>,
}

/// A request as the matcher sees it.
#[derive(Debug, Clone, Copy)]
pub struct RuleRequest<'a> {
    pub group: &'a str,
    pub version: &'a str,
    /// The plural resource name.
    pub resource: &'a str,
    /// Empty for the object itself.
    pub subresource: &'a str,
    /// `CREATE`, `UPDATE`, `DELETE` or `CONNECT`.
    pub operation: &'a str,
    pub namespaced: bool,
}

fn any(list: &[String], value: &str) -> bool {
    list.iter().any(|item| item == "*" || item == value)
}

impl RuleWithOperations {
    /// Reads one rule (fields of the wrong type read as absent).
    pub fn read(value: &Value) -> RuleWithOperations {
        RuleWithOperations {
            groups: strings(value.get("apiGroups")),
            versions: strings(value.get("apiVersions")),
            resources: strings(value.get("resources")),
            operations: strings(value.get("operations")),
            scope: value
                .get("scope")
                .and_then(Value::as_str)
                .map(str::to_string),
        }
    }

    /// Reads a list of rules (`rules`, `resourceRules`).
    pub fn read_all(value: Option<&Value>) -> Vec<RuleWithOperations> {
        value
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .map(RuleWithOperations::read)
            .collect()
    }

    /// Whether the rule selects the request.
    pub fn matches(&self, request: &RuleRequest) -> bool {
        any(&self.groups, request.group)
            && any(&self.versions, request.version)
            && self.selects_resource(request.resource, request.subresource)
            && self.selects_operation(request.operation)
            && self.selects_scope(request.namespaced)
    }

    /// [`RuleWithOperations::matches`] whatever the request's version: a webhook whose
    /// `matchPolicy` is `Equivalent` (the default) is sent a request made in another version
    /// of a resource it names, converted.
    pub fn matches_any_version(&self, request: &RuleRequest) -> bool {
        any(&self.groups, request.group)
            && self.selects_resource(request.resource, request.subresource)
            && self.selects_operation(request.operation)
            && self.selects_scope(request.namespaced)
    }

    /// Whether the rule selects `operation` (every one when it names none).
    pub fn selects_operation(&self, operation: &str) -> bool {
        self.operations.is_empty() || any(&self.operations, operation)
    }

    /// The API server's resource match: `pods` is the resource alone, `pods/exec` one
    /// subresource, `pods/*` the resource and all its subresources, `*` every resource
    /// (without subresources), `*/scale` one subresource of every resource, `*/*` all.
    pub fn selects_resource(&self, resource: &str, subresource: &str) -> bool {
        self.resources.iter().any(|rule| {
            let (rule_resource, rule_sub) = rule.split_once('/').unwrap_or((rule, ""));
            (rule_resource == "*" || rule_resource == resource)
                && (rule_sub == "*" || rule_sub == subresource)
        })
    }

    fn selects_scope(&self, namespaced: bool) -> bool {
        match self.scope.as_deref() {
            Some("Namespaced") => namespaced,
            Some("Cluster") => !namespaced,
            _ => true,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    /// The API server's resource and operation match (k8s.io/apiserver's rules matcher).
    #[test]
    fn rules_match_operations_and_subresources_as_the_api_server_does() {
        let rule = |resources: &[&str], operations: &[&str]| {
            RuleWithOperations::read(&json!({"apiGroups": [""], "apiVersions": ["v1"],
                "resources": resources, "operations": operations}))
        };
        let request = |subresource: &'static str, operation: &'static str| RuleRequest {
            group: "",
            version: "v1",
            resource: "pods",
            subresource,
            operation,
            namespaced: true,
        };
        let pods = rule(&["pods"], &["UPDATE"]);
        assert!(pods.matches(&request("", "UPDATE")));
        assert!(
            !pods.matches(&request("", "CREATE")),
            "only the listed operations"
        );
        assert!(
            !pods.matches(&request("ephemeralcontainers", "UPDATE")),
            "`pods` is the resource alone"
        );
        assert!(rule(&["pods"], &["*"]).matches(&request("", "DELETE")));
        let sub = rule(&["pods/ephemeralcontainers"], &["UPDATE"]);
        assert!(sub.matches(&request("ephemeralcontainers", "UPDATE")));
        assert!(!sub.matches(&request("", "UPDATE")));
        let every_sub = rule(&["pods/*"], &["UPDATE"]);
        assert!(every_sub.matches(&request("", "UPDATE")));
        assert!(every_sub.matches(&request("ephemeralcontainers", "UPDATE")));
        let star = rule(&["*"], &["UPDATE"]);
        assert!(star.matches(&request("", "UPDATE")));
        assert!(!star.matches(&request("ephemeralcontainers", "UPDATE")));
        assert!(rule(&["*/*"], &["UPDATE"]).matches(&request("ephemeralcontainers", "UPDATE")));
        assert!(
            rule(&["*/ephemeralcontainers"], &["UPDATE"])
                .matches(&request("ephemeralcontainers", "UPDATE"))
        );
    }

    #[test]
    fn versions_groups_and_scope_narrow_the_match() {
        let rule = RuleWithOperations::read(&json!({"apiGroups": ["apps"], "apiVersions": ["v1"],
            "resources": ["deployments"], "operations": ["CREATE"], "scope": "Namespaced"}));
        let request = RuleRequest {
            group: "apps",
            version: "v1beta2",
            resource: "deployments",
            subresource: "",
            operation: "CREATE",
            namespaced: true,
        };
        assert!(!rule.matches(&request), "another version");
        assert!(rule.matches_any_version(&request));
        assert!(!rule.matches_any_version(&RuleRequest {
            group: "extensions",
            ..request
        }));
        assert!(!rule.matches_any_version(&RuleRequest {
            namespaced: false,
            ..request
        }));
        assert!(
            RuleWithOperations::read(&json!({"apiGroups": "apps"}))
                .groups
                .is_empty()
        );
    }
}
