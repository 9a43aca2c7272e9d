use crate::detection::{Cx, Hit, Trigger};
use crate::state::State;

crate::detection! {
    /// ## What it checks
    /// `unauthenticated_burst` (default 20) requests from one source address that failed
    /// authentication (401) within `burst_window_seconds` (default 60).
    ///
    /// ## Why it matters
    /// Repeated failed authentication is token guessing or a scanner trying leaked or
    /// expired credentials against an exposed API server.
    ///
    /// ## Response
    /// Block the address at the API server's network edge; check where the API server is
    /// reachable from.
    ///
    /// ## Sigma equivalent
    /// `Kubernetes Unauthorized or Unauthenticated Access`.
    pub static UNAUTHENTICATED_BURST {
        id: "AUD022",
        slug: "unauthenticated-burst",
        title: "Burst of failed authentication from one address",
        severity: Medium,
        mitre: ["T1110"],
        remediation: "Restrict who can reach the API server; block the address.",
        triggers: [Trigger::every()],
        check: check,
    }
}

fn check(cx: &Cx, state: &mut State) -> Vec<Hit> {
    if cx.event.code() != Some(401) {
        return Vec::new();
    }
    let Some(now) = cx.event.time_micros() else {
        return Vec::new();
    };
    let Some(address) = cx.event.source_ips().next() else {
        return Vec::new();
    };
    let window = i64::from(cx.settings.burst_window_seconds) * 1_000_000;
    match state.burst(
        "unauthenticated",
        address,
        now,
        window,
        cx.settings.unauthenticated_burst,
    ) {
        Some(count) => vec![
            Hit::new(format!(
                "{count} requests from {address} failed authentication within {} s",
                cx.settings.burst_window_seconds
            ))
            .with("source_ip", address)
            .with("count", count.to_string()),
        ],
        None => Vec::new(),
    }
}
