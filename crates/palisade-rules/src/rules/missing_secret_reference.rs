use palisade_core::JsonPointer;
use palisade_core::tree::Tree as _;
use palisade_inventory::{Inventory, Object};
use palisade_k8s::references::{Reference, Store, pod_references};
use serde_json::Value;

use crate::context::Context;
use crate::rule::{Check, Target};

/// Kinds that create a Secret, and where they name it (`None`: the object's own name).
const SECRET_PRODUCERS: &[(&str, &str, Option<&str>)] = &[
    ("", "Secret", None),
    ("bitnami.com", "SealedSecret", None),
    (
        "external-secrets.io",
        "ExternalSecret",
        Some("/spec/target/name"),
    ),
    ("cert-manager.io", "Certificate", Some("/spec/secretName")),
    (
        "secrets.hashicorp.com",
        "VaultStaticSecret",
        Some("/spec/destination/name"),
    ),
    (
        "secrets.hashicorp.com",
        "VaultDynamicSecret",
        Some("/spec/destination/name"),
    ),
];

fn produced_name(object: &Object, field: Option<&str>) -> Option<String> {
    field
        .and_then(|f| object.value.at(f))
        .and_then(Value::as_str)
        .map(str::to_string)
        .or_else(|| object.id.name.clone())
}

fn same_namespace(a: Option<&str>, b: Option<&str>) -> bool {
    // An object written without a namespace lands where it is applied; treat it as matching.
    a.is_none() || b.is_none() || a == b
}

fn source_dir(inventory: &Inventory, object: &Object) -> String {
    let path = &inventory.source_of(object).path;
    std::path::Path::new(&**path)
        .parent()
        .map(|p| p.to_string_lossy().into_owned())
        .unwrap_or_default()
}

/// Whether the inventory holds anything that creates the Secret `name` where `pod` runs, and
/// whether the scanned manifests manage Secrets there at all: the same namespace, or, for
/// manifests written without a namespace, the same directory (so unrelated projects scanned
/// together do not vouch for each other).
fn lookup(inventory: &Inventory, pod: &Object, name: &str) -> (bool, bool) {
    let namespace = pod.id.namespace.as_deref();
    let pod_dir = namespace.is_none().then(|| source_dir(inventory, pod));
    let mut managed = false;
    for (group, kind, field) in SECRET_PRODUCERS {
        for object in inventory.of_kind(group, kind) {
            if !same_namespace(object.id.namespace.as_deref(), namespace) {
                continue;
            }
            if produced_name(object, *field).as_deref() == Some(name) {
                return (true, true);
            }
            managed |= match &pod_dir {
                None => object.id.namespace.as_deref() == namespace,
                Some(dir) => object.id.namespace.is_none() && source_dir(inventory, object) == *dir,
            };
        }
    }
    (false, managed)
}

fn grants_secret_create(rules: Option<&Value>) -> bool {
    let has = |rule: &Value, field: &str, wanted: &str| {
        rule.get(field)
            .and_then(Value::as_array)
            .is_some_and(|items| {
                items
                    .iter()
                    .any(|i| i.as_str().is_some_and(|s| s == wanted || s == "*"))
            })
    };
    rules
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .any(|rule| {
            has(rule, "resources", "secrets")
                && (has(rule, "verbs", "create") || has(rule, "verbs", "patch"))
        })
}

/// Whether a Role in the pod's namespace, or any ClusterRole, lets something create Secrets:
/// then the Secret may be made at run time (a cert-generator Job, an init Job) and its absence
/// from the manifests proves nothing.
fn created_at_run_time(inventory: &Inventory, namespace: Option<&str>) -> bool {
    const RBAC: &str = "rbac.authorization.k8s.io";
    inventory
        .of_kind(RBAC, "Role")
        .filter(|role| role.id.namespace.as_deref() == namespace || role.id.namespace.is_none())
        .chain(inventory.of_kind(RBAC, "ClusterRole"))
        .any(|role| grants_secret_create(role.value.get("rules")))
}

/// The Secrets the pod spec names (`palisade_k8s::references`, the one answer to what a pod
/// reads). Fields of the wrong type name nothing and are reported as type mismatches.
fn collect<'a>(cx: &mut Context<'a>) -> Vec<Reference<'a>> {
    let Some(pod) = cx.pod else {
        return Vec::new();
    };
    let volumes_path = cx.pod_field("volumes");
    for (i, volume) in cx.array_at(&volumes_path).iter().enumerate() {
        if volume.get("projected").is_some() {
            cx.array_at(&volumes_path.join(i).join("projected").join("sources"));
        }
    }
    let pulls_path = cx.pod_field("imagePullSecrets");
    cx.array_at(&pulls_path);
    for container in cx.containers() {
        for field in ["env", "envFrom"] {
            cx.array_at(&container.field(&[field]));
        }
    }
    let base = JsonPointer::parse(pod.pointer).unwrap_or_default();
    pod_references(pod.value, &base)
        .into_iter()
        .filter(|reference| reference.store == Store::Secret)
        .collect()
}

declare_rule! {
    /// ## What it checks
    /// Secrets that a pod spec references (secret volumes, projected volumes, `secretKeyRef`,
    /// `envFrom.secretRef`, `imagePullSecrets`) and that nothing in the scanned inventory
    /// creates. Secrets created by SealedSecret, ExternalSecret, cert-manager Certificate and
    /// Vault Secrets Operator objects count as present. References marked `optional: true` are
    /// skipped.
    ///
    /// A Secret may also be made at run time by a Job (certificate generators, init Jobs): when
    /// a Role in the namespace, or any ClusterRole, in the scanned manifests can create Secrets,
    /// a missing Secret is `not_assessed` too.
    ///
    /// Scanning manifests is usually scanning part of a cluster: a Secret may be created by
    /// hand or by a tool outside the files. So the rule only reports a missing Secret when the
    /// scanned set does manage Secrets in that namespace (for manifests without a namespace: in
    /// the same directory), or is a complete cluster snapshot;
    /// otherwise the reference is `not_assessed` in the coverage report, never "pass".
    ///
    /// ## Why it matters
    /// A pod whose Secret is missing does not start, and whoever can create Secrets in the
    /// namespace decides what it gets: a planted `imagePullSecrets` entry or a credentials
    /// Secret under the expected name feeds the workload attacker-chosen data (MITRE ATT&CK
    /// T1552 for the credentials involved). It is also the usual sign of a rename that missed
    /// a reference.
    ///
    /// ## Severity
    /// Low: an integrity and availability risk that needs Secret-create rights to exploit.
    ///
    /// ## Failing example
    /// ```yaml
    /// # the manifests define Secret "db-credentials" but the pod reads "db-credential"
    /// env:
    /// - name: PASSWORD
    ///   valueFrom:
    ///     secretKeyRef: {name: db-credential, key: password}
    /// ```
    ///
    /// ## Passing example
    /// ```yaml
    /// env:
    /// - name: PASSWORD
    ///   valueFrom:
    ///     secretKeyRef: {name: db-credentials, key: password}
    /// ```
    ///
    /// ## Remediation
    /// Fix the reference, add the Secret (or the SealedSecret/ExternalSecret that makes it) to
    /// the manifests, or mark the reference `optional: true` when the workload copes without it.
    ///
    /// ## References
    /// - Kubernetes documentation, "Secrets", "Using Secrets"
    /// - NSA/CISA Kubernetes Hardening Guide v1.2, "Secrets"
    pub struct MissingSecretReference {
        id: "SEC001",
        slug: "missing-secret-reference",
        title: "Pod references a Secret that is not defined",
        severity: Low,
        target: Target::PodSpec,
        controls: [
            NsaCisa12 "network/secrets",
            MitreAttack "T1552",
        ],
        remediation: "Define the Secret (or its SealedSecret/ExternalSecret), fix the name, or mark the reference optional.",
    }
}

impl Check for MissingSecretReference {
    fn reads(&self) -> &'static [(&'static str, &'static str)] {
        &[
            ("", "Secret"),
            ("rbac.authorization.k8s.io", "Role"),
            ("rbac.authorization.k8s.io", "ClusterRole"),
        ]
    }

    fn check(&self, cx: &mut Context<'_>) {
        let namespace = cx.object.id.namespace.clone();
        // Asked at most once per pod: it scans every Role and ClusterRole.
        let mut run_time_creation: Option<bool> = None;
        for reference in collect(cx) {
            if reference.optional {
                continue;
            }
            let (present, namespace_managed) = lookup(cx.inventory, cx.object, reference.name);
            if present {
                continue;
            }
            let where_ = namespace
                .as_deref()
                .map(|n| format!(" in namespace {n}"))
                .unwrap_or_default();
            let created_later = !cx.inventory.complete
                && *run_time_creation
                    .get_or_insert_with(|| created_at_run_time(cx.inventory, namespace.as_deref()));
            if created_later {
                cx.not_assessed(format!(
                    "Secret \"{}\" is not in the scanned manifests, but a Role in them may create Secrets at run time",
                    reference.name
                ));
            } else if namespace_managed || cx.inventory.complete {
                cx.report(
                    reference.pointer,
                    format!(
                        "Secret \"{}\" ({}) is not defined{where_}",
                        reference.name, reference.how
                    ),
                );
            } else {
                cx.not_assessed(format!(
                    "Secret \"{}\" is not in the scanned manifests, which define no Secret{where_}; it may be created outside them (scan a cluster snapshot to assess)",
                    reference.name
                ));
            }
        }
    }
}
