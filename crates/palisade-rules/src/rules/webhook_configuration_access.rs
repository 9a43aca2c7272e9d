use crate::context::Context;
use crate::rbac::{BINDINGS, report_primitives_at};
use crate::rule::{Check, Target};

declare_rule! {
    /// ## What it checks
    /// ClusterRoleBindings that allow creating or changing ValidatingWebhookConfigurations or
    /// MutatingWebhookConfigurations. Control-plane grants of the default policy (`system:*` users
    /// and groups such as `system:kube-controller-manager`, and each controller's service account
    /// bound to its own `system:controller:*` role) are not reported; broad groups such as
    /// `system:authenticated` are. A binding that grants full control (`cluster-admin`, or every
    /// verb on every resource) is reported once, by RBAC001.
    ///
    /// ## Why it matters
    /// A mutating webhook sees and rewrites every object the API server admits (Secrets included),
    /// and can inject privileged containers into every new pod: that is cluster-admin. A
    /// validating webhook cannot change what is admitted, but whoever controls it can refuse
    /// requests, remove the policies it enforced (MITRE ATT&CK T1562.001), or have every
    /// admitted object, Secrets included, sent to a server of their choice.
    ///
    /// ## Severity
    /// Critical for mutating webhooks (control over everything admitted); high for validating
    /// webhooks only (defences disabled and objects observed, but no rewrite). The escalation
    /// graph follows only the mutating case to cluster-admin.
    ///
    /// ## Failing example
    /// ```yaml
    /// rules:
    /// - apiGroups: [admissionregistration.k8s.io]
    ///   resources: [mutatingwebhookconfigurations]
    ///   verbs: [create, patch]
    /// ```
    ///
    /// ## Passing example
    /// ```yaml
    /// rules:
    /// - apiGroups: [admissionregistration.k8s.io]
    ///   resources: [mutatingwebhookconfigurations]
    ///   verbs: [get, list]
    /// ```
    ///
    /// ## Remediation
    /// Restrict changes to the webhook's own configuration with `resourceNames`, and only for its
    /// operator.
    ///
    /// ## References
    /// - CIS Kubernetes Benchmark v1.12, 5.1.12
    pub struct WebhookConfigurationAccess {
        id: "RBAC010",
        slug: "webhook-configuration-access",
        title: "Subject can change admission webhook configurations",
        severity: Critical,
        target: Target::Kinds(BINDINGS),
        controls: [
            CisK8s112 "5.1.12",
            NsaCisa12 "authn-authz/rbac",
            MitreAttack "T1562.001",
        ],
        remediation: "Restrict changes to the webhook's own configuration with `resourceNames`, and only for its operator.",
    }
}

impl Check for WebhookConfigurationAccess {
    fn models(&self, models: &mut crate::context::Models) {
        crate::rbac::ask(models);
    }

    fn reads(&self) -> &'static [(&'static str, &'static str)] {
        crate::rbac::ROLES
    }

    fn check(&self, cx: &mut Context<'_>) {
        report_primitives_at(
            cx,
            &[
                "mutating-webhook-configuration",
                "validating-webhook-configuration",
            ],
            |id| {
                (id == "validating-webhook-configuration").then_some(palisade_core::Severity::High)
            },
        );
    }
}
