use crate::context::Context;
use crate::rbac::{BINDINGS, report_primitives_at};
use crate::rule::{Check, Target};

declare_rule! {
    /// ## What it checks
    /// Bindings that let a subject steer network traffic: write a Service's load-balancer
    /// status (`services/status`), Endpoints or EndpointSlices (high), create, change or
    /// delete NetworkPolicies (medium), or create or change Ingresses (medium). Control-plane grants of the default policy (`system:*`
    /// users and groups, and each controller's service account bound to its own
    /// `system:controller:*` role) are not reported; broad groups such as
    /// `system:authenticated` are. A binding that grants full control (`cluster-admin`, or
    /// every verb on every resource) is reported once, by RBAC001.
    ///
    /// ## Why it matters
    /// A load balancer's status or a hand-written endpoint sends the traffic of other Services,
    /// and of other pods connecting to their addresses, to an address of the holder's choice:
    /// credentials and data in transit are theirs (CVE-2020-8554; MITRE ATT&CK T1557). Changing
    /// NetworkPolicies removes the segmentation between tiers that the cluster relies on. An
    /// Ingress routes a host's external traffic to a Service of the writer's choice; on a
    /// shared controller it can claim another team's host or path, and ingress-nginx snippet
    /// annotations run configuration inside the controller (CVE-2021-25742).
    ///
    /// ## Severity
    /// High for Service traffic (interception); medium for NetworkPolicies (a defence removed,
    /// no access gained by itself) and Ingresses (traffic of hosts the controller serves).
    ///
    /// ## Failing example
    /// ```yaml
    /// rules:
    /// - apiGroups: [""]
    ///   resources: [services/status]
    ///   verbs: [patch]
    /// ```
    ///
    /// ## Passing example
    /// ```yaml
    /// rules:
    /// - apiGroups: [""]
    ///   resources: [services, endpoints]
    ///   verbs: [get, list, watch]
    /// ```
    ///
    /// ## Remediation
    /// Leave load-balancer status and endpoints to their controllers; give NetworkPolicy
    /// changes to the platform team only.
    ///
    /// ## References
    /// - CVE-2020-8554 (kubernetes/kubernetes#97076)
    pub struct TrafficRedirectionAccess {
        id: "RBAC019",
        slug: "traffic-redirection-access",
        title: "Subject can redirect traffic or remove network segmentation",
        severity: High,
        target: Target::Kinds(BINDINGS),
        controls: [
            NsaCisa12 "authn-authz/rbac",
            MitreAttack "T1557",
        ],
        remediation: "Leave load-balancer status and endpoints to their controllers; restrict NetworkPolicy changes to the platform team.",
    }
}

impl Check for TrafficRedirectionAccess {
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
                "redirect-service-traffic",
                "change-network-policies",
                "change-ingresses",
            ],
            |id| {
                matches!(id, "change-network-policies" | "change-ingresses")
                    .then_some(palisade_core::Severity::Medium)
            },
        );
    }
}
