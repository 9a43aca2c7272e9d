use crate::detection::{Cx, Hit, Trigger, past};

const CHANGE: &[&str] = &["create", "update", "patch", "delete", "deletecollection"];

/// The API group of admission webhooks and policies.
const ADMISSION: &str = "admissionregistration.k8s.io";

crate::detection! {
    /// ## What it checks
    /// An admission webhook configuration or admission policy created, changed or deleted
    /// (`validatingwebhookconfigurations`, `mutatingwebhookconfigurations`,
    /// `validatingadmissionpolicies` and their bindings).
    ///
    /// ## Why it matters
    /// Admission is where the cluster's policies are enforced. Deleting or loosening a
    /// webhook turns the guard off; a new mutating webhook sees, and can rewrite, every object
    /// written, Secrets included, and inject sidecars into every pod.
    ///
    /// ## Response
    /// Confirm the change with the owner of the admission controller; manage these objects
    /// through GitOps so drift is visible.
    ///
    /// ## Sigma equivalent
    /// `Kubernetes Admission Controller Modification`.
    pub static ADMISSION_WEBHOOK_CHANGED {
        id: "AUD025",
        slug: "admission-webhook-changed",
        title: "Admission webhook or policy changed",
        severity: High,
        mitre: ["T1562.001"],
        remediation: "Revert unexpected changes; manage admission configuration through reviewed GitOps changes.",
        triggers: [
            Trigger::on(CHANGE, "validatingwebhookconfigurations"),
            Trigger::on(CHANGE, "mutatingwebhookconfigurations"),
            Trigger::on(CHANGE, "validatingadmissionpolicies"),
            Trigger::on(CHANGE, "validatingadmissionpolicybindings"),
            // Beta in v1.34, after the built-in table's version.
            Trigger::on(CHANGE, "mutatingadmissionpolicies").in_api_group(ADMISSION, false),
            Trigger::on(CHANGE, "mutatingadmissionpolicybindings").in_api_group(ADMISSION, false),
        ],
        check: crate::detection::Check::Request(check),
    }
}

fn check(cx: &Cx) -> Vec<Hit> {
    if cx.event.refused() {
        return Vec::new();
    }
    vec![Hit::new(format!(
        "{} {} {} {}",
        cx.actor(),
        past(cx.event.verb()),
        cx.event.resource(),
        cx.object_name()
    ))]
}
