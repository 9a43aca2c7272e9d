use crate::detection::{Cx, Hit, Trigger, is_control_plane};

const DELETE: &[&str] = &["delete", "deletecollection"];

crate::detection! {
    /// ## What it checks
    /// Kubernetes Events deleted (one or a collection) by anyone other than the control
    /// plane, which expires them itself.
    ///
    /// ## Why it matters
    /// Events record what happened to pods and nodes (image pulls, failed mounts, evictions,
    /// exec-related restarts). Deleting them is cleaning up after an intrusion.
    ///
    /// ## Response
    /// Find what the identity did before; ship Events to durable storage.
    ///
    /// ## Sigma equivalent
    /// `Kubernetes Events Deleted`.
    pub static EVENTS_DELETED {
        id: "AUD029",
        slug: "events-deleted",
        title: "Kubernetes Events deleted",
        severity: Medium,
        mitre: ["T1070"],
        remediation: "Investigate the identity's preceding activity; remove delete on events from its roles.",
        triggers: [Trigger::on(DELETE, "events")],
        check: crate::detection::Check::Request(check),
    }
}

fn check(cx: &Cx) -> Vec<Hit> {
    if is_control_plane(cx.event.user()) || !cx.event.succeeded() {
        return Vec::new();
    }
    let what = match (cx.event.verb(), cx.event.namespace()) {
        ("deletecollection", Some(ns)) => format!("every Event of namespace {ns}"),
        ("deletecollection", None) => "every Event of the cluster".to_string(),
        _ => format!("Event {}", cx.target()),
    };
    vec![Hit::new(format!("{} deleted {what}", cx.actor()))]
}
