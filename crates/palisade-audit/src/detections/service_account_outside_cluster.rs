use super::first_seen_behaviour::is_service_account;
use crate::detection::{Cx, Hit, Trigger};
use crate::state::State;

crate::detection! {
    /// ## What it checks
    /// When `cluster_cidrs` is set: a request by a service account from an address outside
    /// the cluster's pod and node ranges, reported once per account and address. Every
    /// address the API server lists counts (`sourceIPs`: the `X-Forwarded-For` and
    /// `X-Real-Ip` headers, then the connection's address): a forged header naming a pod's
    /// address does not hide a connection from outside. The HTTP proxies of `trusted_proxies`
    /// are the path in, not the client, and are not judged.
    ///
    /// ## Why it matters
    /// Service account tokens are meant for pods. One used from a laptop or a server
    /// elsewhere has been copied out of the cluster: the token still works there, and every
    /// permission of the account goes with it.
    ///
    /// ## Response
    /// Rotate the token (delete the pod or the token Secret, or rotate the signing key for
    /// legacy tokens) and find how it left the cluster.
    pub static SERVICE_ACCOUNT_OUTSIDE_CLUSTER {
        id: "AUD037",
        slug: "service-account-outside-cluster",
        title: "Service account used from outside the cluster",
        severity: High,
        mitre: ["T1528", "T1078.004"],
        remediation: "Rotate the service account's tokens and find how the token left the cluster.",
        triggers: [Trigger::every()],
        check: crate::detection::Check::Stream(check),
    }
}

fn check(cx: &Cx, state: &mut State) -> Vec<Hit> {
    let user = cx.event.user();
    if !is_service_account(user) {
        return Vec::new();
    }
    // Every address counts: the forwarding headers come first and the client writes them,
    // so one saying "inside" cannot vouch for a connection from outside (the last address).
    // The HTTP proxies of `trusted_proxies` after the client are the path in, not the client.
    let addresses: Vec<&str> = cx.event.source_ips().collect();
    let client = state.client_position(&addresses).unwrap_or(0);
    let Some((index, address)) = addresses[..addresses.len().min(client + 1)]
        .iter()
        .enumerate()
        .rev()
        .find(|(_, a)| state.in_cluster(a) == Some(false))
    else {
        return Vec::new();
    };
    if !state.first("service-account-outside", &format!("{user} {address}")) {
        return Vec::new();
    }
    let connection = addresses.last().copied().unwrap_or(address);
    let message = if index + 1 == addresses.len() {
        format!("{user} made a request from {address}, outside the cluster's ranges")
    } else {
        format!(
            "{user} made a request forwarded for {address}, outside the cluster's ranges (the \
             connection came from {connection})"
        )
    };
    vec![Hit::new(message).with("source_ip", *address)]
}

#[cfg(test)]
mod tests {
    use crate::{Engine, Event, Origin, Selection, Settings};

    /// Alerts for a service account's request whose `sourceIPs` are `addresses`, with the
    /// cluster at 10.244.0.0/16 and `trusted_proxies`.
    fn alerts(addresses: &str, trusted_proxies: &[&str]) -> usize {
        let settings = Settings {
            cluster_cidrs: vec!["10.244.0.0/16".into()],
            trusted_proxies: trusted_proxies.iter().map(|s| (*s).to_string()).collect(),
            ..Settings::default()
        };
        let only = Selection {
            only: vec!["AUD037".into()],
            skip: Vec::new(),
        };
        let mut engine = Engine::new(settings, None, &only);
        let line = format!(
            r#"{{"kind":"Event","apiVersion":"audit.k8s.io/v1","auditID":"s-1","stage":"ResponseComplete","verb":"get","requestURI":"/api/v1/pods","user":{{"username":"system:serviceaccount:app:web"}},"sourceIPs":{addresses},"responseStatus":{{"code":200}},"requestReceivedTimestamp":"2026-12-01T10:00:00Z"}}"#
        );
        let mut out = Vec::new();
        let origin = Origin {
            file: "audit.log".into(),
            line: 1,
        };
        engine.analyze(&Event::decode(&line).unwrap(), &origin, &mut out);
        out.len()
    }

    #[test]
    fn a_trusted_proxy_is_the_path_in_and_a_forged_header_vouches_for_nothing() {
        // A pod through the cluster's own HTTP proxy, whose address is outside the ranges.
        assert_eq!(
            alerts(r#"["10.244.3.17","192.0.2.10"]"#, &["192.0.2.10/32"]),
            0
        );
        // The same without trusting the proxy: its address is outside.
        assert_eq!(alerts(r#"["10.244.3.17","192.0.2.10"]"#, &[]), 1);
        // From the internet through the trusted proxy.
        assert_eq!(
            alerts(r#"["198.51.100.23","192.0.2.10"]"#, &["192.0.2.10/32"]),
            1
        );
        // A forged header naming a pod, on a connection from the internet.
        assert_eq!(alerts(r#"["10.244.3.17","198.51.100.23"]"#, &[]), 1);
    }
}
