use palisade_core::Severity;

use super::bindings::{role, role_name, subjects};
use crate::detection::{Cx, Hit, Trigger, is_control_plane};

const CHANGE: &[&str] = &["update", "patch"];

crate::detection! {
    /// ## What it checks
    /// An existing RoleBinding or ClusterRoleBinding updated or patched by anyone other than
    /// the control plane. A binding's role cannot change, but its subjects can: adding one
    /// hands the role to a new user, group or service account without any new binding being
    /// created. The alert names the role and the subjects the binding holds after the
    /// change, from the response object (`RequestResponse` level) or a full update's request;
    /// it is high when the role is `cluster-admin`. Left to other detections: a RoleBinding
    /// in kube-system (AUD016), and an update whose request names `cluster-admin` (AUD011).
    /// Refused requests and dry runs (`?dryRun=All`) change nothing and are not reported.
    ///
    /// ## Why it matters
    /// Reviews and admission policies look at new bindings; a subject slipped into an
    /// existing, trusted binding (`kubectl patch rolebinding ... --type=json -p
    /// '[{"op":"add","path":"/subjects/-",...}]'`, or `kubectl edit`) is privilege
    /// escalation and persistence that looks like maintenance.
    ///
    /// ## Response
    /// Compare the subjects with the binding in version control; remove any subject nobody
    /// asked for and find how the writer got `update` or `patch` on bindings.
    ///
    /// ## Sigma equivalent
    /// `Kubernetes Rolebinding Modification` (its update and patch part; creations and
    /// deletions are AUD035's trail, AUD011 and AUD016).
    pub static ROLE_BINDING_CHANGED {
        id: "AUD043",
        slug: "role-binding-changed",
        title: "Existing role binding changed outside the control plane",
        severity: Medium,
        mitre: ["T1098.006"],
        remediation: "Compare the binding's subjects with version control and remove unexpected ones; grant update and patch on bindings only to the deployment pipeline.",
        triggers: [
            Trigger::on(CHANGE, "rolebindings"),
            Trigger::on(CHANGE, "clusterrolebindings"),
        ],
        check: crate::detection::Check::Request(check),
    }
}

fn check(cx: &Cx) -> Vec<Hit> {
    let event = cx.event;
    if is_control_plane(event.user()) || event.refused() || cx.dry_run() {
        return Vec::new();
    }
    if event.resource() == "rolebindings" && event.namespace() == Some("kube-system") {
        return Vec::new();
    }
    let request = cx.request();
    if request.and_then(role_name) == Some("cluster-admin") {
        return Vec::new();
    }
    // The binding as stored, else as a full update sent it (a patch shows only its change).
    let stored = cx
        .response()
        .filter(|b| role_name(b).is_some())
        .or(request.filter(|b| role_name(b).is_some()));
    let changed = format!("{} changed {} {}", cx.actor(), cx.kind(), cx.target());
    let Some(binding) = stored else {
        return vec![Hit::new(changed)];
    };
    let granted = role(binding).unwrap_or_default();
    let holders = subjects(binding).unwrap_or_default();
    let severity = if role_name(binding) == Some("cluster-admin") {
        Severity::High
    } else {
        Severity::Medium
    };
    let bound_to = if holders.is_empty() {
        "nobody".to_string()
    } else {
        holders.join(", ")
    };
    vec![
        Hit::new(format!("{changed}: {granted} is now bound to {bound_to}"))
            .with("role", granted)
            .with("subjects", holders.join(","))
            .severity(severity),
    ]
}
