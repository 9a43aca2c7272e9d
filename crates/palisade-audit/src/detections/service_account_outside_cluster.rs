use super::first_seen_behaviour::is_service_account;
use crate::detection::{Cx, Hit, Trigger};
use crate::state::State;

crate::detection! {
    /// ## What it checks
    /// When `cluster_cidrs` is set: a request by a service account from an address outside
    /// the cluster's pod and node ranges, reported once per account and address. Every
    /// address the API server lists counts (`sourceIPs`: the `X-Forwarded-For` and
    /// `X-Real-Ip` headers, then the connection's address): a forged header naming a pod's
    /// address does not hide a connection from outside.
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
        check: check,
    }
}

fn check(cx: &Cx, state: &mut State) -> Vec<Hit> {
    let user = cx.event.user();
    if !is_service_account(user) {
        return Vec::new();
    }
    // Every address counts: the forwarding headers come first and the client writes them,
    // so one saying "inside" cannot vouch for a connection from outside (the last address).
    let addresses: Vec<&str> = cx.event.source_ips().collect();
    let Some((index, address)) = addresses
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
