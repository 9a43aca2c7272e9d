use crate::detection::{Cx, Hit, Trigger, is_control_plane, is_person_or_external, past};

const CHANGE: &[&str] = &["create", "update", "patch", "delete"];

crate::detection! {
    /// ## What it checks
    /// A CronJob created, changed or deleted by anyone other than the control plane, and a
    /// Job created, changed or deleted by a person or an identity from outside the cluster
    /// (not `system:`: the CronJob controller, and operators and pipelines that run Jobs
    /// under service accounts, do it all day; a service account that starts doing it is
    /// AUD036's first-seen behaviour). Refused requests are not reported.
    ///
    /// ## Why it matters
    /// A CronJob runs a pod on a schedule, for as long as it exists: a persistence mechanism
    /// that survives pod deletions and restarts, and one that is rarely reviewed once it runs.
    /// A Job started by hand runs any image with any service account of its namespace, once,
    /// and is easily deleted afterwards.
    ///
    /// ## Response
    /// Confirm the change with the workload's owner (it should come from the deployment
    /// pipeline); review the image and service account it runs with.
    ///
    /// ## Sigma equivalent
    /// `Kubernetes CronJob/Job Modification`.
    pub static SCHEDULED_JOB_CHANGED {
        id: "AUD038",
        slug: "scheduled-job-changed",
        title: "CronJob or Job created or changed outside the control plane",
        severity: Low,
        mitre: ["T1053.007"],
        remediation: "Confirm the CronJob or Job with its owner; deploy jobs through the pipeline only.",
        triggers: [Trigger::on(CHANGE, "cronjobs"), Trigger::on(CHANGE, "jobs")],
        check: crate::detection::Check::Request(check),
    }
}

fn check(cx: &Cx) -> Vec<Hit> {
    let user = cx.event.user();
    let job = cx.event.resource() == "jobs";
    if is_control_plane(user) || cx.event.refused() || (job && !is_person_or_external(user)) {
        return Vec::new();
    }
    vec![Hit::new(format!(
        "{} {} {} {}",
        cx.actor(),
        past(cx.event.verb()),
        cx.kind(),
        cx.target()
    ))]
}
