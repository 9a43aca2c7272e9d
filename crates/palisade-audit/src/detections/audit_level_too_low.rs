use palisade_core::words::first_few;

use crate::detection::{Cx, Hit, Level, Trigger, request_words};
use crate::state::State;

/// A kind of request is reported at most once per day of log time (microseconds).
const QUIET: i64 = 24 * 3_600 * 1_000_000;

/// Detections named in the message before "and N more".
const NAMED: usize = 3;

crate::detection! {
    /// ## What it checks
    /// A request that some running detection judges from its objects (a pod created, a role
    /// written, a ConfigMap changed, ...) logged at a lower audit level than that detection
    /// reads: pod creations logged at `Metadata`, without the pod. The detections named in
    /// the alert cannot judge such requests; the analysis also counts them as not assessed
    /// (standard error, exit 2, the receiver's `palisade_audit_not_assessed_total`). This
    /// alert carries the same fact in the alert stream, so that the SIEM that reads the
    /// alerts knows what their silence does not cover. One alert per kind of request
    /// (`create pods`) per day of log time; an event the audit backend truncated for its size
    /// (`audit.k8s.io/truncated`) is reported apart, since no change of policy brings its
    /// objects back.
    ///
    /// ## Why it matters
    /// Silence from a detection is taken as "nothing happened". When the audit policy logs a
    /// request below what the detection reads, silence means "not looked at": privileged
    /// pods, credentials in ConfigMaps or wildcard roles pass unseen. Most often this is a
    /// policy written for volume, not an attack; a policy lowered while the log flows is
    /// AUD048.
    ///
    /// ## Response
    /// Run `palisade audit coverage --policy FILE --suggest` on the API server's audit policy:
    /// it prints the rules to put first so the detections see what they read, without taking
    /// logging from anyone. For truncated events, raise the backend's size limits
    /// (`--audit-log-truncate-max-event-size`, `--audit-webhook-truncate-max-event-size`).
    /// A detection you accept as blind can be deselected (`--skip`).
    pub static AUDIT_LEVEL_TOO_LOW {
        id: "AUD049",
        slug: "audit-level-too-low",
        title: "Request logged below what detections read",
        severity: Low,
        mitre: ["T1562.008"],
        remediation: "Put the rules `palisade audit coverage --policy FILE --suggest` prints first in the API server's audit policy, or deselect the detections you accept as blind.",
        triggers: [Trigger::every()],
        check: crate::detection::Check::Stream(check),
    }
}

fn check(cx: &Cx, state: &mut State) -> Vec<Hit> {
    let mut short = cx.short().peekable();
    if short.peek().is_none() {
        return Vec::new();
    }
    let event = cx.event;
    let level = Level::of(event);
    // The policy's level, when it was enough but the backend dropped the objects for size.
    let truncated = Level::truncated_from(event, level);
    let request = request_words(event.verb(), event.resource(), event.subresource());
    let kind = if truncated.is_some() {
        format!("truncated {request}")
    } else {
        request.clone()
    };
    if !state.too_low.due(&kind, event.time_micros(), QUIET) {
        return Vec::new();
    }
    let mut reads = Level::Metadata;
    let mut blind = Vec::new();
    for (rule, needs) in short {
        reads = reads.max(needs);
        blind.push(format!("{} {}", rule.id, rule.slug));
    }
    let place = match event.namespace() {
        Some(namespace) => format!(" in namespace {namespace}"),
        None => String::new(),
    };
    let detections = match blind.len() {
        1 => "the detection that reads it".to_string(),
        n => format!("the {n} detections that read it"),
    };
    let blind_list = first_few(&blind, NAMED);
    let actor = cx.actor();
    let message = match truncated {
        None => format!(
            "{request} by {actor}{place} was logged at {level}, so {detections} at {reads} \
             ({blind_list}) cannot judge it, nor any {request} logged so: the audit policy \
             logs it too low for them. Said once a day per kind of request"
        ),
        Some(said) => format!(
            "{request} by {actor}{place} was logged at {said}, but the audit backend \
             truncated the event for its size and dropped its objects, so {detections} at \
             {reads} ({blind_list}) cannot judge it, nor any {request} truncated so. Said \
             once a day per kind of request"
        ),
    };
    let hit = Hit::new(message)
        .with("logged_at", truncated.unwrap_or(level).as_str())
        .with("reads", reads.as_str())
        .with("detections", blind.join(", "));
    vec![match truncated {
        Some(_) => hit.with("truncated", "true"),
        None => hit,
    }]
}
