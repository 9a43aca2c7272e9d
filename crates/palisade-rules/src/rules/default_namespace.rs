use crate::context::Context;
use crate::rule::{Check, Target};
use crate::rules::namespace_scope::NAMESPACED_KINDS;

declare_rule! {
    /// ## What it checks
    /// Built-in namespaced objects placed explicitly in the `default` namespace. What the
    /// control plane itself creates there is exempt (the `kubernetes` Service, Endpoints and
    /// EndpointSlice, the `default` ServiceAccount, the `kube-root-ca.crt` ConfigMap), as in
    /// drift. Objects without a namespace are reported by META003.
    ///
    /// ## Why it matters
    /// `default` is where everything lands by accident: it usually has no NetworkPolicies, no
    /// Pod Security labels, no quotas and broad bindings, and objects from unrelated teams
    /// share its default service account. Administrative boundaries need dedicated
    /// namespaces (MITRE ATT&CK T1078.001).
    ///
    /// ## Severity
    /// Low: it weakens isolation rather than opening a hole.
    ///
    /// ## Failing example
    /// ```yaml
    /// metadata:
    ///   name: api
    ///   namespace: default
    /// ```
    ///
    /// ## Passing example
    /// ```yaml
    /// metadata:
    ///   name: api
    ///   namespace: shop
    /// ```
    ///
    /// ## Remediation
    /// Move the application into its own namespace with its own policies.
    ///
    /// ## References
    /// - CIS Kubernetes Benchmark v1.12, 5.6.4 and 5.6.1
    /// - NSA/CISA Kubernetes Hardening Guide v1.2, "Namespaces"
    pub struct DefaultNamespace {
        id: "META002",
        slug: "default-namespace",
        title: "Object is in the default namespace",
        severity: Low,
        target: Target::Kinds(NAMESPACED_KINDS),
        controls: [
            CisK8s112 "5.6.4",
            CisK8s112 "5.6.1",
            NsaCisa12 "network/namespaces",
            MitreAttack "T1078.001",
        ],
        remediation: "Move the object to a dedicated namespace.",
    }
}

impl Check for DefaultNamespace {
    fn check(&self, cx: &mut Context<'_>) {
        let id = &cx.object.id;
        let made_by_control_plane = palisade_k8s::names::made_by_control_plane(
            &id.kind,
            id.namespace.as_deref(),
            id.name.as_deref().unwrap_or_default(),
        );
        if id.namespace.as_deref() == Some("default") && !made_by_control_plane {
            cx.report(
                palisade_core::JsonPointer::root()
                    .join("metadata")
                    .join("namespace"),
                format!(
                    "{} {} is in the default namespace",
                    id.kind,
                    id.display_name()
                ),
            );
        }
    }
}
