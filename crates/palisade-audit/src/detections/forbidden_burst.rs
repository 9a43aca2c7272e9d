use crate::detection::{Cx, Hit, Trigger};
use crate::state::State;

crate::detection! {
    /// ## What it checks
    /// `forbidden_burst` (default 20) requests of one identity refused by the authorizer
    /// (403) within `burst_window_seconds` (default 60).
    ///
    /// ## Why it matters
    /// A stolen credential is first used to find out what it may do: tools such as
    /// `kubectl auth can-i --list`, peirates or kube-hunter try request after request, most
    /// refused. Legitimate workloads rarely hit 403 in bursts.
    ///
    /// ## Response
    /// Find where the identity's requests come from (source address, user agent); rotate the
    /// credential if the caller is not its owner.
    ///
    /// ## Sigma equivalent
    /// `Kubernetes Unauthorized or Unauthenticated Access`.
    pub static FORBIDDEN_BURST {
        id: "AUD021",
        slug: "forbidden-burst",
        title: "Burst of refused requests from one identity",
        severity: Medium,
        mitre: ["T1613", "T1087"],
        remediation: "Investigate the identity's recent requests; rotate its credentials if misused.",
        triggers: [Trigger::every()],
        check: crate::detection::Check::Stream(check),
    }
}

fn check(cx: &Cx, state: &mut State) -> Vec<Hit> {
    if cx.event.code() != Some(403) || cx.event.user().is_empty() {
        return Vec::new();
    }
    let Some(now) = cx.event.time_micros() else {
        return Vec::new();
    };
    let window = i64::from(cx.settings.burst_window_seconds) * 1_000_000;
    match state.burst(
        "forbidden",
        cx.event.user(),
        now,
        window,
        cx.settings.forbidden_burst,
    ) {
        Some(count) => vec![
            Hit::new(format!(
                "{} was refused {count} requests within {} s (the last: {} {})",
                cx.actor(),
                cx.settings.burst_window_seconds,
                cx.event.verb(),
                if cx.event.resource().is_empty() {
                    "a path"
                } else {
                    cx.event.resource()
                }
            ))
            .with("count", count.to_string()),
        ],
        None => Vec::new(),
    }
}
