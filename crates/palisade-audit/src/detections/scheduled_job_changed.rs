use crate::detection::{Cx, Hit, Trigger, is_control_plane, past};
use crate::state::State;

const CHANGE: &[&str] = &["create", "update", "patch", "delete"];

crate::detection! {
    /// ## What it checks
    /// A CronJob created, changed or deleted by anyone other than the control plane.
    ///
    /// ## Why it matters
    /// A CronJob runs a pod on a schedule, for as long as it exists: a persistence mechanism
    /// that survives pod deletions and restarts, and one that is rarely reviewed once it runs.
    ///
    /// ## Response
    /// Confirm the change with the workload's owner (it should come from the deployment
    /// pipeline); review the image and service account it runs with.
    pub static SCHEDULED_JOB_CHANGED {
        id: "AUD038",
        slug: "scheduled-job-changed",
        title: "CronJob created or changed outside the control plane",
        severity: Low,
        mitre: ["T1053.007"],
        remediation: "Confirm the CronJob with its owner; deploy scheduled jobs through the pipeline only.",
        triggers: [Trigger::on(CHANGE, "cronjobs")],
        check: check,
    }
}

fn check(cx: &Cx, _: &mut State) -> Vec<Hit> {
    if is_control_plane(cx.event.user()) || cx.event.refused() {
        return Vec::new();
    }
    vec![Hit::new(format!(
        "{} {} CronJob {}",
        cx.actor(),
        past(cx.event.verb()),
        cx.target()
    ))]
}
