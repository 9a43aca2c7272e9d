use palisade_core::Severity;

use crate::detection::{Cx, Hit, Trigger, is_person_or_external};
use crate::settings::Settings;

const CREATE_DELETE: &[&str] = &["create", "delete"];

crate::detection! {
    /// ## What it checks
    /// When `activity = true`: every successful create and delete of Deployments, Services,
    /// ConfigMaps, namespaces, service accounts, Roles, ClusterRoles and their bindings; every
    /// successful create, update, patch and delete of a Secret by people outside kube-system
    /// (a Secret's values are never part of the alert); and every read of a Secret by name
    /// (successful ones at medium severity, refused ones at low).
    ///
    /// ## Why it matters
    /// An activity trail, not an attack signal: it gives the sequence of changes around an
    /// alert, in the SIEM, without shipping the whole audit log.
    ///
    /// ## Response
    /// None by itself; use it to investigate other alerts.
    ///
    /// ## Falco equivalent
    /// The activity rules: K8s Deployment Created and the others of that form for each kind
    /// above, K8s Secret Get Successfully and K8s Secret Get Unsuccessfully Tried.
    ///
    /// ## Sigma equivalent
    /// `Deployment Deleted From Kubernetes Cluster`, `New Kubernetes Service Account Created`,
    /// `Kubernetes Secrets Modified or Deleted`, and the creations and deletions of
    /// `Kubernetes Rolebinding Modification`.
    pub static OBJECT_LIFECYCLE {
        id: "AUD035",
        slug: "object-lifecycle",
        title: "Object created or deleted, or Secret read or changed (activity trail)",
        severity: Info,
        mitre: [],
        remediation: "Informational: use it to reconstruct the changes around other alerts.",
        triggers: [
            Trigger::on(CREATE_DELETE, "deployments"),
            Trigger::on(CREATE_DELETE, "services"),
            Trigger::on(CREATE_DELETE, "configmaps"),
            Trigger::on(CREATE_DELETE, "namespaces"),
            Trigger::on(CREATE_DELETE, "serviceaccounts"),
            Trigger::on(CREATE_DELETE, "roles"),
            Trigger::on(CREATE_DELETE, "clusterroles"),
            Trigger::on(CREATE_DELETE, "rolebindings"),
            Trigger::on(CREATE_DELETE, "clusterrolebindings"),
            Trigger::on(&["create", "update", "patch", "delete", "get"], "secrets"),
        ],
        check: crate::detection::Check::Request(check),
        active: recording,
    }
}

/// Runs only when its setting is given.
fn recording(settings: &Settings) -> bool {
    settings.activity
}

fn check(cx: &Cx) -> Vec<Hit> {
    if !cx.settings.activity || cx.event.stage() == "ResponseStarted" {
        return Vec::new();
    }
    let event = cx.event;
    let resource = event.resource();
    let verb = event.verb();
    if resource == "secrets" && verb == "get" {
        let (outcome, severity) = if event.succeeded() {
            ("read", Severity::Medium)
        } else {
            ("tried to read", Severity::Low)
        };
        return vec![
            Hit::new(format!("{} {outcome} Secret {}", cx.actor(), cx.target()))
                .with("action", format!("{verb} {resource}"))
                .severity(severity),
        ];
    }
    if !event.succeeded() {
        return Vec::new();
    }
    if resource == "secrets"
        && (event.namespace() == Some("kube-system") || !is_person_or_external(event.user()))
    {
        return Vec::new();
    }
    let done = match verb {
        "create" => "created",
        "delete" => "deleted",
        _ => "changed",
    };
    vec![
        Hit::new(format!("{} {done} {resource} {}", cx.actor(), cx.target()))
            .with("action", format!("{verb} {resource}")),
    ]
}
