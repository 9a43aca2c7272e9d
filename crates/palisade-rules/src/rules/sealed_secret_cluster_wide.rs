use palisade_core::JsonPointer;
use serde_json::Value;

use crate::context::Context;
use crate::rule::{Check, Target};

declare_rule! {
    /// ## What it checks
    /// Bitnami `SealedSecret`s sealed with the cluster-wide scope: the annotation
    /// `sealedsecrets.bitnami.com/cluster-wide: "true"` on the SealedSecret or on the Secret
    /// template it makes (`spec.template.metadata.annotations`).
    ///
    /// ## Why it matters
    /// A SealedSecret is safe to commit because only the controller can decrypt it, and by
    /// default (the strict scope) it decrypts it only into a Secret of the same name and
    /// namespace. Sealed cluster-wide, the same ciphertext decrypts under any name in any
    /// namespace: whoever can read the repository and create a SealedSecret in a namespace of
    /// their own gets the plaintext as a Secret they can read (MITRE ATT&CK T1552,
    /// Unsecured Credentials). The sealed-secrets project warns that cluster-wide secrets can
    /// be decrypted by anyone who can create a SealedSecret in the cluster.
    ///
    /// ## Severity
    /// Medium: it takes the right to create a SealedSecret somewhere and read the Secret it
    /// makes, rights that application teams commonly hold in their own namespaces.
    ///
    /// ## Failing example
    /// ```yaml
    /// apiVersion: bitnami.com/v1alpha1
    /// kind: SealedSecret
    /// metadata:
    ///   name: db
    ///   namespace: payments
    ///   annotations: {sealedsecrets.bitnami.com/cluster-wide: "true"}
    /// ```
    ///
    /// ## Passing example
    /// ```yaml
    /// apiVersion: bitnami.com/v1alpha1
    /// kind: SealedSecret
    /// metadata: {name: db, namespace: payments}   # strict: this name, this namespace
    /// ```
    ///
    /// ## Remediation
    /// Seal the value again with the strict scope (`kubeseal --scope strict`, the default)
    /// for each namespace that needs it, and remove the cluster-wide annotation. Rotate the
    /// value if the repository is read by people who should not have it.
    ///
    /// ## References
    /// - sealed-secrets documentation, "Scopes"
    /// - MITRE ATT&CK T1552, Unsecured Credentials
    pub struct SealedSecretClusterWide {
        id: "SEC025",
        slug: "sealed-secret-cluster-wide",
        title: "SealedSecret decrypts in any namespace",
        severity: Medium,
        target: Target::Kinds(&[("bitnami.com", "SealedSecret")]),
        controls: [
            NsaCisa12 "network/secrets",
            MitreAttack "T1552",
        ],
        remediation: "Seal the value again with the strict scope for each namespace that needs it and remove the cluster-wide annotation.",
    }
}

/// The annotation that seals a value for any name in any namespace.
const CLUSTER_WIDE: &str = "sealedsecrets.bitnami.com/cluster-wide";

impl Check for SealedSecretClusterWide {
    fn check(&self, cx: &mut Context<'_>) {
        let own = JsonPointer::root().join("metadata").join("annotations");
        let template = JsonPointer::root()
            .join("spec")
            .join("template")
            .join("metadata")
            .join("annotations");
        for annotations in [own, template] {
            let at = annotations.join(CLUSTER_WIDE);
            let set = at
                .lookup(&cx.object.value)
                .and_then(Value::as_str)
                .is_some_and(|v| v.trim().eq_ignore_ascii_case("true"));
            if set {
                cx.report(
                    at,
                    "this SealedSecret is sealed cluster-wide: its ciphertext decrypts under any name in any namespace, so whoever reads it and may create a SealedSecret in a namespace of their own can read the value",
                );
                return;
            }
        }
    }
}
