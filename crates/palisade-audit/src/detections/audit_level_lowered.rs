use std::hash::{BuildHasher, Hash, Hasher};

use palisade_core::date::unix_seconds_rfc3339;
use palisade_core::words::first_few;

use crate::detection::{Cx, Hit, Level, Trigger, request_words};
use crate::event::Event;
use crate::state::State;

/// A kind of request is reported lowered at most once per hour (microseconds).
const QUIET: i64 = 3_600 * 1_000_000;

/// Detections named in the message before "and N more".
const NAMED: usize = 3;

crate::detection! {
    /// ## What it checks
    /// A request that some detection judges from its objects (a pod created, a role written,
    /// a ConfigMap changed, ...) logged at a lower audit level than the same request was
    /// logged at before, low enough that those detections can no longer judge it: pods
    /// created by one controller in one namespace were logged at `Request`, and now at
    /// `Metadata`.
    ///
    /// The API server's audit policy chooses a level from the requester (user and groups),
    /// the verb, the resource, the namespace and the object's name, and from nothing else.
    /// So the same requester making the same request and getting less logged means the
    /// policy changed, or that the API servers behind one endpoint run different policies.
    /// An event the audit backend truncated for its size (`audit.k8s.io/truncated`) keeps its
    /// level and is not a lowering; it is reported as not assessed. One alert per kind of
    /// request per hour.
    ///
    /// ## Why it matters
    /// The audit policy is a file on the control plane's nodes; changing it is not itself an
    /// audited request. An attacker with the control plane who lowers the level of pod
    /// creations to `Metadata` can then create privileged pods that no audit-log detection
    /// sees, while the log keeps flowing and looks healthy. The lowered level in the events
    /// themselves is the one trace of it in the log.
    ///
    /// ## Response
    /// Compare the API servers' `--audit-policy-file` with the one in version control and
    /// find out who changed it. Until the level is restored, the detections named in the
    /// alert are blind to those requests: `palisade audit coverage --policy FILE` shows what
    /// the policy in place lets each detection see.
    pub static AUDIT_LEVEL_LOWERED {
        id: "AUD048",
        slug: "audit-level-lowered",
        title: "Audit level lowered for requests detections read",
        severity: Medium,
        mitre: ["T1562.008"],
        remediation: "Restore the audit policy from version control and find out who changed it; check that every API server runs the same policy.",
        triggers: [Trigger::every()],
        check: crate::detection::Check::Stream(check),
    }
}

fn check(cx: &Cx, state: &mut State) -> Vec<Hit> {
    let reads = cx.reads();
    let event = cx.event;
    if reads <= Level::Metadata {
        return Vec::new();
    }
    // The level the policy gave the request: an event the backend truncated keeps it.
    let Some(level) = Level::declared(event) else {
        return Vec::new();
    };
    let key = policy_key(event, state.logged.hasher());
    let before = state.logged.record(key, level, event.time_micros());
    let Some((before, last)) = before.filter(|(b, _)| *b >= reads && level < reads) else {
        return Vec::new();
    };
    // When it was last logged at enough: the policy changed after that.
    let last = last.map(|micros| unix_seconds_rfc3339(micros.div_euclid(1_000_000)));
    let request = request_words(event.verb(), event.resource(), event.subresource());
    if !state
        .logged
        .reported
        .due(&request, event.time_micros(), QUIET)
    {
        return Vec::new();
    }
    let blind: Vec<String> = cx
        .short()
        .map(|(rule, _)| format!("{} {}", rule.id, rule.slug))
        .collect();
    let place = match event.namespace() {
        Some(namespace) => format!(" in namespace {namespace}"),
        None => String::new(),
    };
    let detections = match blind.len() {
        1 => "1 detection that reads it".to_string(),
        n => format!("{n} detections that read it"),
    };
    let until = last
        .as_deref()
        .map_or(String::new(), |at| format!(" (last at {at})"));
    vec![
        Hit::new(format!(
            "{request} by {}{place} was logged at {before}{until} and is now logged at \
             {level}: {detections} can no longer judge it ({}). The API server's audit policy \
             was lowered, or its API servers run different policies",
            cx.actor(),
            first_few(&blind, NAMED)
        ))
        .with("logged_before", before.as_str())
        .with_some("logged_before_last_at", last)
        .with("logged_now", level.as_str())
        .with("detections", blind.join(", ")),
    ]
}

/// What the API server's audit policy chooses a level from: the requester as authenticated
/// (before impersonation), the verb, the resource and subresource, the namespace, and the
/// object's name, which a create of an object names nowhere the policy looks (its URL
/// ends at the collection).
fn policy_key(event: &Event, hasher: &impl BuildHasher) -> u64 {
    let mut hasher = hasher.build_hasher();
    event.user().hash(&mut hasher);
    event.user.groups.map(|g| g.get()).hash(&mut hasher);
    event.verb().hash(&mut hasher);
    event.api_group().hash(&mut hasher);
    event.resource().hash(&mut hasher);
    event.subresource().hash(&mut hasher);
    event.namespace().hash(&mut hasher);
    let named = !(event.verb() == "create" && event.subresource().is_empty());
    named.then(|| event.name()).flatten().hash(&mut hasher);
    hasher.finish()
}
