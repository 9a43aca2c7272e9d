use super::first_seen_behaviour::is_service_account;
use crate::detection::{Cx, Hit, Trigger};
use crate::state::State;

crate::detection! {
    /// ## What it checks
    /// When `cluster_cidrs` is set: a request by a service account from an address outside
    /// the cluster's pod and node ranges, reported once per account and address.
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
    let Some(address) = cx.event.source_ips().next() else {
        return Vec::new();
    };
    if state.in_cluster(address) != Some(false)
        || !state.first("service-account-outside", &format!("{user} {address}"))
    {
        return Vec::new();
    }
    vec![
        Hit::new(format!(
            "{user} made a request from {address}, outside the cluster's ranges"
        ))
        .with("source_ip", address),
    ]
}
