use palisade_core::Severity;

use crate::baseline::Novelty;
use crate::detection::{Cx, Hit, Trigger};
use crate::state::State;

/// Whether a user name is a service account's.
pub fn is_service_account(user: &str) -> bool {
    user.starts_with("system:serviceaccount:")
}

crate::detection! {
    /// ## What it checks
    /// With a baseline (`palisade audit analyze --baseline`): an identity doing something it
    /// never did while the baseline was learned: a request shape (verb, resource,
    /// namespace) it never made, or any request of an identity never seen. Each novelty is
    /// reported once; the alert's confidence says how much of the identity was learned.
    ///
    /// ## Why it matters
    /// Applications' service accounts repeat themselves: the same few requests, forever.
    /// A token used for something new (listing secrets, creating pods, reading another
    /// namespace) is the sign of a stolen credential, which static RBAC review cannot see
    /// because the permission was always there.
    ///
    /// ## Response
    /// Check whether the change was a deployment; if not, treat the credential as stolen.
    pub static FIRST_SEEN_BEHAVIOUR {
        id: "AUD036",
        slug: "first-seen-behaviour",
        title: "Identity did something it never did while learning",
        severity: Low,
        mitre: ["T1078"],
        remediation: "Confirm the new behaviour with the identity's owner; learn again after expected changes.",
        triggers: [Trigger::every()],
        check: crate::detection::Check::Stream(check),
        baseline: true,
    }
}

fn check(cx: &Cx, state: &mut State) -> Vec<Hit> {
    let Some(baseline) = state.baseline.as_mut() else {
        return Vec::new();
    };
    let (novelties, confidence) = baseline.novelties(cx.event);
    let user = cx.event.user();
    let account = is_service_account(user);
    let mut hits = Vec::new();
    for novelty in novelties {
        let hit = match novelty {
            Novelty::Identity => Hit::new(format!(
                "{user} was never seen while the baseline was learned"
            ))
            .with("novelty", "identity"),
            Novelty::Behaviour(b) => {
                let sensitive = b.resource.starts_with("secrets")
                    || b.resource.contains("/exec")
                    || b.resource.ends_with("bindings");
                let hit = Hit::new(format!("{user} did something new: {}", b.describe()))
                    .with("novelty", "behaviour")
                    .with("behaviour", b.describe());
                if account && sensitive {
                    hit.severity(Severity::Medium)
                } else {
                    hit
                }
            }
            Novelty::SourceIp(ip) => {
                let severity = if account {
                    Severity::Medium
                } else {
                    Severity::Low
                };
                Hit::new(format!("{user} called from a new address {ip}"))
                    .with("novelty", "source_ip")
                    .with("source_ip", ip)
                    .severity(severity)
            }
            Novelty::UserAgent(agent) => {
                let severity = if account {
                    Severity::High
                } else {
                    Severity::Low
                };
                Hit::new(format!("{user} used a new client ({agent})"))
                    .with("novelty", "user_agent")
                    .with("user_agent", agent)
                    .severity(severity)
            }
        };
        let mut hit = hit.confidence(confidence);
        hit.discriminator = hit
            .evidence
            .iter()
            .find(|(k, _)| *k != "novelty" && *k != "confidence")
            .map(|(_, v)| v.clone())
            .or_else(|| Some("identity".into()));
        hits.push(hit);
    }
    hits
}
