use palisade_core::JsonPointer;
use palisade_core::selector::{label_selector_matches, selects_everything};
use serde_json::{Map, Value};

use crate::context::Context;
use crate::rule::{Check, Target};

declare_rule! {
    /// ## What it checks
    /// External Secrets Operator `ClusterSecretStore`s that ExternalSecrets of every
    /// namespace may use: no `spec.conditions`, or a condition that takes every namespace (a
    /// `namespaceSelector` that selects a namespace carrying no label but its name, such as
    /// `{}`, or a `namespaceRegexes` pattern that matches any name, such as `.*` or the empty
    /// pattern; the operator searches names with these patterns unanchored).
    ///
    /// ## Why it matters
    /// A ClusterSecretStore holds the credentials of a secret backend (a Vault role, an AWS
    /// IAM role, a GCP service account, a Kubernetes service account of another namespace).
    /// Without conditions, anyone who may create an ExternalSecret in any namespace can have
    /// the operator fetch whatever those credentials can read, and read it back as a Secret
    /// of their own namespace: one team's database password becomes every team's (MITRE
    /// ATT&CK T1552, Unsecured Credentials). The External Secrets Operator's security
    /// guidance asks for conditions on every ClusterSecretStore, or namespaced
    /// SecretStores.
    ///
    /// ## Severity
    /// High: the right to create an ExternalSecret anywhere becomes the right to read every
    /// secret the store's backend role can read.
    ///
    /// ## Failing example
    /// ```yaml
    /// apiVersion: external-secrets.io/v1
    /// kind: ClusterSecretStore
    /// metadata: {name: vault}
    /// spec:
    ///   provider:
    ///     vault: {server: "https://vault.example.com", path: secret}
    /// ```
    ///
    /// ## Passing example
    /// ```yaml
    /// kind: ClusterSecretStore
    /// spec:
    ///   conditions:
    ///   - namespaces: [payments, payments-staging]
    ///   provider:
    ///     vault: {server: "https://vault.example.com", path: secret/payments}
    /// ```
    ///
    /// ## Remediation
    /// Add `spec.conditions` naming the namespaces that may use the store (`namespaces`, or a
    /// `namespaceSelector` on a label only the platform team sets on Namespaces), and give
    /// each team a store whose backend role reads that team's secrets only; or use a
    /// namespaced SecretStore per team.
    ///
    /// ## References
    /// - External Secrets Operator documentation, "Security Best Practices" and
    ///   "ClusterSecretStore"
    /// - MITRE ATT&CK T1552, Unsecured Credentials
    pub struct ClusterSecretStoreOpen {
        id: "SEC024",
        slug: "cluster-secret-store-open-to-all-namespaces",
        title: "Secret store usable from every namespace",
        severity: High,
        target: Target::Kinds(&[("external-secrets.io", "ClusterSecretStore")]),
        controls: [
            NsaCisa12 "network/secrets",
            MitreAttack "T1552",
        ],
        remediation: "Add spec.conditions naming the namespaces that may use the store, or use a namespaced SecretStore per team.",
    }
}

/// A namespace name no condition is written for: a pattern or selector that takes it takes
/// any namespace someone creates.
const ANY_NAMESPACE: &str = "palisade-any-namespace-7";

impl Check for ClusterSecretStoreOpen {
    fn check(&self, cx: &mut Context<'_>) {
        let spec = JsonPointer::root().join("spec");
        let backend = match cx
            .object
            .value
            .get("spec")
            .and_then(|s| s.get("provider"))
            .and_then(Value::as_object)
            .and_then(|p| p.keys().next())
        {
            Some(provider) => format!("its {provider} credentials"),
            None => "its backend credentials".to_string(),
        };
        let conditions_at = spec.join("conditions");
        let conditions = cx.array_at(&conditions_at);
        if conditions.is_empty() {
            cx.report(
                spec,
                format!(
                    "an ExternalSecret in any namespace may use this store and read what {backend} can read: it has no spec.conditions naming the namespaces that may use it"
                ),
            );
            return;
        }
        for (i, condition) in conditions.iter().enumerate() {
            let at = conditions_at.join(i);
            if let Some((path, why)) = takes_any_namespace(condition, &at) {
                cx.report(
                    path,
                    format!(
                        "an ExternalSecret in any namespace may use this store and read what {backend} can read: {why}"
                    ),
                );
            }
        }
    }
}

/// Where and why `condition` (at `at`) takes every namespace, if it does.
fn takes_any_namespace(condition: &Value, at: &JsonPointer) -> Option<(JsonPointer, String)> {
    if let Some(selector) = condition.get("namespaceSelector").filter(|s| s.is_object()) {
        let mut labels = Map::new();
        labels.insert(
            "kubernetes.io/metadata.name".to_string(),
            Value::String(ANY_NAMESPACE.to_string()),
        );
        if label_selector_matches(selector, Some(&labels)) {
            let why = if selects_everything(selector) {
                "its namespaceSelector is empty and selects every namespace"
            } else {
                "its namespaceSelector selects a namespace that carries no label but its name, so it takes every namespace created without one"
            };
            return Some((at.join("namespaceSelector"), why.to_string()));
        }
    }
    let patterns = condition
        .get("namespaceRegexes")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .enumerate();
    for (j, pattern) in patterns {
        let Some(text) = pattern.as_str() else {
            continue;
        };
        if matches_any_name(text) {
            return Some((
                at.join("namespaceRegexes").join(j),
                format!("the pattern `{text}` matches every namespace name"),
            ));
        }
    }
    None
}

/// Whether a namespace pattern, searched unanchored as Go's `regexp.MatchString` searches,
/// matches every name: empty, or any character repeated, between optional anchors.
fn matches_any_name(pattern: &str) -> bool {
    let inner = pattern.strip_prefix('^').unwrap_or(pattern);
    let inner = inner.strip_suffix('$').unwrap_or(inner);
    let inner = inner
        .strip_prefix('(')
        .and_then(|i| i.strip_suffix(')'))
        .map_or(inner, |i| i.strip_prefix("?:").unwrap_or(i));
    let anchored = pattern.starts_with('^') && pattern.ends_with('$');
    match inner {
        "" => !anchored,
        ".*" | ".*?" | ".+" | ".+?" | "[\\s\\S]*" | "[\\s\\S]+" | "[^/]*" | "[^/]+" | "\\S*"
        | "\\S+" | "[a-z0-9-]*" | "[a-z0-9-]+" | "[-a-z0-9]*" | "[-a-z0-9]+" => true,
        // One character of a name, not anchored at both ends: every name holds one.
        "." | "\\S" | "[a-z]" | "[a-z0-9]" | "\\w" => !anchored,
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::matches_any_name;

    #[test]
    fn patterns_that_match_every_name() {
        for pattern in [
            "",
            "^",
            ".*",
            "^.*$",
            ".+",
            "^(.*)$",
            "(?:.+)",
            "[a-z0-9-]*",
            "\\w",
            "^.",
        ] {
            assert!(matches_any_name(pattern), "{pattern}");
        }
        for pattern in [
            "^$",
            "^team-a$",
            "^team-.*$",
            "team-a",
            "^\\w$",
            "^payments",
        ] {
            assert!(!matches_any_name(pattern), "{pattern}");
        }
    }
}
