use crate::detection::{Cx, Hit, Trigger};
use crate::state::State;

crate::detection! {
    /// ## What it checks
    /// `unauthenticated_burst` (default 20) requests from one client address that failed
    /// authentication (401) within `burst_window_seconds` (default 60). The client is the
    /// connection's address, or behind the HTTP proxies of `trusted_proxies` the last address
    /// in `sourceIPs` that is not theirs: an `X-Forwarded-For` the client writes itself does
    /// not spread its failures over many addresses. Behind an HTTP proxy not named there,
    /// every client of the proxy counts as one: name it to count them apart.
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
        check: crate::detection::Check::Stream(check),
    }
}

fn check(cx: &Cx, state: &mut State) -> Vec<Hit> {
    if cx.event.code() != Some(401) {
        return Vec::new();
    }
    let Some(now) = cx.event.time_micros() else {
        return Vec::new();
    };
    // The client as far as the chain can be trusted: headers the client writes cannot
    // spread its failures over many addresses.
    let addresses = cx.event.source_ips.as_deref().unwrap_or_default();
    let Some(address) = state
        .client_position(addresses)
        .map(|i| addresses[i].as_str())
    else {
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

#[cfg(test)]
mod tests {
    use crate::{Engine, Event, Origin, Selection, Settings};

    /// Bursts of 401s from one connection, each with another `X-Forwarded-For`; the count of
    /// alerts with and without the connection's address as a trusted proxy.
    fn bursts(trusted_proxies: &[&str], forwarded: impl Fn(usize) -> String) -> usize {
        let settings = Settings {
            trusted_proxies: trusted_proxies.iter().map(|s| (*s).to_string()).collect(),
            unauthenticated_burst: 5,
            ..Settings::default()
        };
        let only = Selection {
            only: vec!["AUD022".into()],
            skip: Vec::new(),
        };
        let mut engine = Engine::new(settings, None, &only);
        let mut alerts = Vec::new();
        for i in 0..10 {
            let line = format!(
                r#"{{"kind":"Event","apiVersion":"audit.k8s.io/v1","auditID":"u-{i}","stage":"ResponseComplete","verb":"get","requestURI":"/api","user":{{"username":""}},"sourceIPs":["{}","203.0.113.50"],"responseStatus":{{"code":401}},"requestReceivedTimestamp":"2026-12-01T10:00:{i:02}Z"}}"#,
                forwarded(i)
            );
            let event = Event::decode(&line).unwrap();
            let origin = Origin {
                file: "audit.log".into(),
                line: i as u64,
            };
            engine.analyze(&event, &origin, &mut alerts);
        }
        alerts.len()
    }

    #[test]
    fn a_forged_forwarded_address_does_not_spread_a_burst() {
        let rotating = |i: usize| format!("198.51.100.{i}");
        // Counted per connection: two bursts of five.
        assert_eq!(bursts(&[], rotating), 2);
        // Behind a trusted proxy, each forwarded client is its own: no burst.
        assert_eq!(bursts(&["203.0.113.50/32"], rotating), 0);
        // One client behind the trusted proxy: two bursts.
        assert_eq!(bursts(&["203.0.113.50/32"], |_| "198.51.100.9".into()), 2);
    }
}
