use palisade_core::Severity;
use palisade_intel::Match;

use super::threat_intel::with_indicator;
use crate::detection::{Cx, Hit, Trigger, request_words};
use crate::settings::Settings;
use crate::state::State;

/// One alert per indicator, identity and outcome per hour of log time (microseconds).
const QUIET: i64 = 3_600 * 1_000_000;

crate::detection! {
    /// ## What it checks
    /// When threat-intelligence files are given (`[audit] threat_intel`, `--threat-intel`): a
    /// request whose client address, account or user agent an indicator names, while the
    /// indicator is valid (its `valid_from` to `valid_until`, at the request's time). The
    /// narrowest address range wins when several hold the address.
    ///
    /// The API server lists the addresses of a request in `sourceIPs`: the `X-Forwarded-For`
    /// and `X-Real-Ip` headers first, the connection's own address last. The headers are
    /// written by the client and can be forged (but for what the HTTP proxies of
    /// `trusted_proxies` add), so a match on one of them alone is medium;
    /// a match on the connection's address, the account or the user agent is high. A
    /// request the API server refused is medium: the credentials did not work, or did not
    /// reach. One alert per indicator, identity and outcome per hour.
    ///
    /// ## Why it matters
    /// An address a feed lists as a command-and-control server, a scanner or an anonymising
    /// exit, or an account or tool a report names, calling the API server means credentials
    /// of the cluster are in an adversary's hands, or the API server is reachable by them.
    /// Correlating the API server's own log with the intelligence a team already has is what
    /// a SIEM would do, done where the events are.
    ///
    /// ## Response
    /// Treat the identity's credentials as stolen: revoke its tokens and certificates (for a
    /// service account, delete its token Secrets or the pods holding them), review what it did
    /// (`palisade audit analyze` over its requests), and block the address at the API server's
    /// network edge.
    pub static THREAT_INTEL_SOURCE {
        id: "AUD050",
        slug: "threat-intel-source",
        title: "Request from an address, account or tool threat intelligence names",
        severity: High,
        mitre: ["T1078", "T1133"],
        remediation: "Revoke the identity's credentials, review what it did, and block the address at the API server's edge.",
        triggers: [Trigger::every()],
        check: crate::detection::Check::Stream(check),
        active: has_source_indicators,
    }
}

/// Runs only when threat intelligence was read (of any kind: a receiver reads its feeds
/// again when they change, and a feed may then name other kinds).
fn has_source_indicators(settings: &Settings) -> bool {
    !settings.intel.is_empty()
}

/// What matched: the observed value, what it is, and whether the client could have written
/// it (a forwarding header).
struct Seen<'i> {
    found: Match<'i>,
    what: &'static str,
    observed: String,
    forgeable: bool,
    /// The ECS field of the alert that holds what was observed.
    field: &'static str,
}

fn check(cx: &Cx, state: &mut State) -> Vec<Hit> {
    let intel = &cx.settings.intel;
    let event = cx.event;
    let at = event.time_micros();
    // Only the kinds the feeds name are looked up: this runs on every request.
    let counts = intel.counts();
    let mut seen: Vec<Seen> = Vec::new();
    let addresses = match counts.addresses {
        0 => &[][..],
        _ => event.source_ips.as_deref().unwrap_or_default(),
    };
    // The connection's address is last; the ones before the client (the connection's, or
    // the last behind `trusted_proxies`) come from headers the client writes.
    let client = state.client_position(addresses).unwrap_or(0);
    for (i, address) in addresses.iter().enumerate().rev() {
        if let Some(found) = intel.address(address, at) {
            let forgeable = i < client;
            let what = if forgeable {
                "forwarded address (a header the client writes)"
            } else {
                "address"
            };
            seen.push(Seen {
                found,
                what,
                observed: address.to_string(),
                forgeable,
                field: if i + 1 == addresses.len() {
                    "source.ip"
                } else {
                    "related.ip"
                },
            });
        }
    }
    // The account as authenticated, and the one it acts as (`--as`).
    let impersonated = event.impersonated_user.as_ref().map(|u| u.name());
    let users = [
        (Some(event.user()), "account", "user.name"),
        (
            impersonated,
            "impersonated account",
            "palisade.impersonated_user",
        ),
    ];
    for (user, what, field) in users.into_iter().filter(|_| counts.users > 0) {
        if let Some(user) = user
            && let Some(found) = intel.user(user, at)
        {
            seen.push(Seen {
                found,
                what,
                observed: user.to_string(),
                forgeable: false,
                field,
            });
        }
    }
    if counts.user_agents > 0
        && let Some(agent) = event.user_agent()
        && let Some(found) = intel.user_agent(agent, at)
    {
        seen.push(Seen {
            found,
            what: "user agent",
            observed: agent.to_string(),
            forgeable: false,
            field: "user_agent.original",
        });
    }
    // The strongest match speaks for the request: one the client could not have forged.
    let Some(best) = seen.iter().find(|s| !s.forgeable).or_else(|| seen.first()) else {
        return Vec::new();
    };
    let refused = event.refused();
    let key = format!(
        "{}\u{0}{}\u{0}{refused}",
        best.found.indicator.id,
        cx.actor()
    );
    if !state.threat_intel.due(&key, at, QUIET) {
        return Vec::new();
    }
    let request = request_words(event.verb(), event.resource(), event.subresource());
    let outcome = if refused { " (refused)" } else { "" };
    let mut hit = Hit::new(format!(
        "{request}{outcome} by {}: its {} {} is named by threat intelligence: {}",
        cx.actor(),
        best.what,
        best.observed,
        best.found.describe()
    ));
    if refused || best.forgeable {
        hit.severity = Some(Severity::Medium);
    }
    hit = with_indicator(hit, &best.found, &best.observed, best.field)
        .with("matched", format!("{} {}", best.what, best.observed));
    if seen.len() > 1 {
        let all: Vec<String> = seen
            .iter()
            .map(|s| format!("{} {} ({})", s.what, s.observed, s.found.indicator.id))
            .collect();
        hit = hit.with("all_matches", all.join(", "));
    }
    vec![hit]
}

#[cfg(test)]
mod tests {
    use crate::{Engine, Event, Origin, Selection, Settings};
    use palisade_core::Severity;

    /// The severity AUD050 gives a request from a C2 address forwarded by a proxy at
    /// 203.0.113.50, with and without that proxy trusted.
    fn severity(trusted_proxies: &[&str]) -> Option<Severity> {
        let mut read = Vec::new();
        let mut skipped = palisade_intel::Skipped::default();
        palisade_intel::parse("c2.txt", "198.51.100.7\n", &mut read, &mut skipped).unwrap();
        let settings = Settings {
            trusted_proxies: trusted_proxies.iter().map(|s| (*s).to_string()).collect(),
            intel: std::sync::Arc::new(palisade_intel::Indicators::build(read)),
            ..Settings::default()
        };
        let only = Selection {
            only: vec!["AUD050".into()],
            skip: Vec::new(),
        };
        let mut engine = Engine::new(settings, None, &only);
        let line = r#"{"kind":"Event","apiVersion":"audit.k8s.io/v1","auditID":"p-1","stage":"ResponseComplete","verb":"list","requestURI":"/api/v1/secrets","user":{"username":"alice"},"sourceIPs":["10.9.9.9","198.51.100.7","203.0.113.50"],"objectRef":{"resource":"secrets","apiVersion":"v1"},"responseStatus":{"code":200},"requestReceivedTimestamp":"2026-12-01T10:00:00Z"}"#;
        let mut alerts = Vec::new();
        let origin = Origin {
            file: "audit.log".into(),
            line: 1,
        };
        engine.analyze(&Event::decode(line).unwrap(), &origin, &mut alerts);
        alerts.first().map(|a| a.severity)
    }

    #[test]
    fn a_client_a_trusted_proxy_forwards_is_not_a_forged_header() {
        // Untrusted, the header could be forged: medium.
        assert_eq!(severity(&[]), Some(Severity::Medium));
        // The proxy is ours: the address it forwards is the client's, and the header before
        // it (10.9.9.9) is the one the client could have written.
        assert_eq!(severity(&["203.0.113.50/32"]), Some(Severity::High));
    }
}
