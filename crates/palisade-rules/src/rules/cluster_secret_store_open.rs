use palisade_core::JsonPointer;
use palisade_rbac::external_secrets::{Openness, kubernetes_namespace, open_to_every_namespace};
use serde_json::Value;

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
        target: Target::Kinds(&[(palisade_rbac::external_secrets::GROUP, "ClusterSecretStore")]),
        controls: [
            NsaCisa12 "network/secrets",
            MitreAttack "T1552",
        ],
        remediation: "Add spec.conditions naming the namespaces that may use the store, or use a namespaced SecretStore per team.",
    }
}

impl Check for ClusterSecretStoreOpen {
    fn check(&self, cx: &mut Context<'_>) {
        let provider = cx
            .object
            .value
            .get("spec")
            .and_then(|s| s.get("provider"))
            .and_then(Value::as_object);
        let reads = kubernetes_namespace(&cx.object.value);
        let backend = match (provider.and_then(|p| p.keys().next()), reads) {
            // The Kubernetes provider reads the Secrets of one namespace.
            (_, Some(namespace)) => format!(
                "its kubernetes credentials can read (the Secrets of namespace {namespace})"
            ),
            (Some(name), None) => format!("its {name} credentials can read"),
            (None, None) => "its backend credentials can read".to_string(),
        };
        let (path, why) = match open_to_every_namespace(&cx.object.value) {
            Openness::NoConditions => (
                JsonPointer::root().join("spec"),
                "it has no spec.conditions naming the namespaces that may use it".to_string(),
            ),
            Openness::Open(open) => (open.path, open.why),
            Openness::Narrowed => return,
        };
        cx.report(
            path,
            format!(
                "an ExternalSecret in any namespace may use this store and read what {backend}: {why}"
            ),
        );
    }
}
