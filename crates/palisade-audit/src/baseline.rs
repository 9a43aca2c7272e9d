//! Behavioural baselines: per identity (a user or service account, as the authenticator
//! names it), the requests it made (verb, resource with subresource, namespace), the addresses
//! it called from and the user agents it used, over a learning window. Analysis against a
//! baseline reports first-seen behaviour with a confidence that grows with how much of the
//! identity was learned, and remembers what it reported so each new behaviour is reported
//! once.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};

use serde::{Deserialize, Serialize};

use crate::event::Event;

/// One request shape: what RBAC would have to grant.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct Behaviour {
    pub verb: String,
    /// `pods`, `pods/exec`, or a non-resource path (`/metrics`).
    pub resource: String,
    /// Empty for cluster-scoped requests.
    pub namespace: String,
}

impl Behaviour {
    pub fn of(event: &Event) -> Behaviour {
        let resource = match (event.resource(), event.subresource()) {
            ("", _) => event.path().to_string(),
            (r, "") => r.to_string(),
            (r, s) => format!("{r}/{s}"),
        };
        Behaviour {
            verb: event.verb().to_string(),
            resource,
            namespace: event.namespace().unwrap_or("").to_string(),
        }
    }

    /// `list secrets in payments`, `get /metrics`.
    pub fn describe(&self) -> String {
        if self.namespace.is_empty() {
            format!("{} {}", self.verb, self.resource)
        } else {
            format!("{} {} in {}", self.verb, self.resource, self.namespace)
        }
    }
}

/// What was learned of one identity.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Profile {
    pub behaviours: BTreeSet<Behaviour>,
    pub source_ips: BTreeSet<String>,
    pub user_agents: BTreeSet<String>,
    /// Events learned.
    pub events: u64,
    /// First and last event time learned (microseconds since the epoch).
    pub first_seen: i64,
    pub last_seen: i64,
}

/// Most distinct values kept per identity and set: an identity that exceeds it (a
/// controller touching every namespace) is learned as "varies", never as an unbounded list.
pub const MAX_VALUES: usize = 10_000;

impl Profile {
    /// How much a first-seen item of this identity means, in [0, 1]: grows with the events
    /// learned (half the way at 50) and with the days covered (a week counts fully; a single
    /// instant counts half).
    pub fn confidence(&self) -> f64 {
        let events = 1.0 - (-(self.events as f64) / 72.0).exp();
        let days = ((self.last_seen - self.first_seen) as f64 / 86_400e6).clamp(0.0, 7.0) / 7.0;
        let span = 0.5 + 0.5 * days;
        ((events * span) * 100.0).round() / 100.0
    }
}

/// Learned profiles by identity.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Baseline {
    pub identities: BTreeMap<String, Profile>,
}

/// What is new in one event, compared with a baseline.
#[derive(Debug, Clone, PartialEq)]
pub enum Novelty {
    /// The identity was never seen while learning.
    Identity,
    Behaviour(Behaviour),
    SourceIp(String),
    UserAgent(String),
}

/// What one event teaches a baseline, taken from the event (on any thread) and recorded
/// later (in the log's order, where the bounded sets make order matter).
#[derive(Debug, Clone, PartialEq)]
pub struct Observation {
    user: String,
    time: i64,
    behaviour: Behaviour,
    source_ips: Vec<String>,
    user_agent: Option<String>,
}

impl Observation {
    /// `None` for a request without a user.
    pub fn of(event: &Event) -> Option<Observation> {
        let user = event.user();
        if user.is_empty() {
            return None;
        }
        Some(Observation {
            user: user.to_string(),
            time: event.time_micros().unwrap_or(0),
            behaviour: Behaviour::of(event),
            source_ips: event.source_ips().map(str::to_string).collect(),
            user_agent: event.user_agent().map(str::to_string),
        })
    }
}

impl Baseline {
    /// Learns one event (stages other than the response's are skipped by the caller).
    pub fn observe(&mut self, event: &Event) {
        if let Some(observation) = Observation::of(event) {
            self.record(observation);
        }
    }

    /// Learns what one event showed.
    pub fn record(&mut self, observation: Observation) {
        let Observation {
            user,
            time,
            behaviour,
            source_ips,
            user_agent,
        } = observation;
        let profile = self.identities.entry(user).or_default();
        if profile.events == 0 || time < profile.first_seen {
            profile.first_seen = time;
        }
        profile.last_seen = profile.last_seen.max(time);
        profile.events += 1;
        insert_bounded(&mut profile.behaviours, behaviour);
        for ip in source_ips {
            insert_bounded(&mut profile.source_ips, ip);
        }
        if let Some(agent) = user_agent {
            insert_bounded(&mut profile.user_agents, agent);
        }
    }

    /// Merges another baseline (a later learning run) into this one.
    pub fn merge(&mut self, other: Baseline) {
        for (user, theirs) in other.identities {
            let ours = self.identities.entry(user).or_default();
            if ours.events == 0 || theirs.first_seen < ours.first_seen {
                ours.first_seen = theirs.first_seen;
            }
            ours.last_seen = ours.last_seen.max(theirs.last_seen);
            ours.events += theirs.events;
            for b in theirs.behaviours {
                insert_bounded(&mut ours.behaviours, b);
            }
            for ip in theirs.source_ips {
                insert_bounded(&mut ours.source_ips, ip);
            }
            for agent in theirs.user_agents {
                insert_bounded(&mut ours.user_agents, agent);
            }
        }
    }
}

/// A baseline prepared for analysis: hash sets looked up without allocating per event
/// (the identity and the request shape are looked up by borrowed text), updated with what
/// is reported so each novelty is reported once.
#[derive(Debug, Default)]
pub struct Watch {
    identities: HashMap<String, Known>,
    key: String,
}

#[derive(Debug, Default)]
struct Known {
    behaviours: HashSet<String>,
    source_ips: HashSet<String>,
    user_agents: HashSet<String>,
    confidence: f64,
}

/// `verb\tresource\tnamespace`, the lookup key of a request shape.
fn behaviour_key(out: &mut String, event: &Event) {
    out.clear();
    out.push_str(event.verb());
    out.push('\t');
    match (event.resource(), event.subresource()) {
        ("", _) => out.push_str(event.path()),
        (r, "") => out.push_str(r),
        (r, s) => {
            out.push_str(r);
            out.push('/');
            out.push_str(s);
        }
    }
    out.push('\t');
    out.push_str(event.namespace().unwrap_or(""));
}

fn key_of(b: &Behaviour) -> String {
    format!("{}\t{}\t{}", b.verb, b.resource, b.namespace)
}

impl Watch {
    pub fn new(baseline: Baseline) -> Watch {
        let identities = baseline
            .identities
            .into_iter()
            .map(|(user, profile)| {
                let known = Known {
                    behaviours: profile.behaviours.iter().map(key_of).collect(),
                    source_ips: profile.source_ips.iter().cloned().collect(),
                    user_agents: profile.user_agents.iter().cloned().collect(),
                    confidence: profile.confidence(),
                };
                (user, known)
            })
            .collect();
        Watch {
            identities,
            key: String::new(),
        }
    }

    /// What is new in `event` for its identity, each novelty once: what is reported is
    /// learned, so it is not reported again. The identity's confidence comes with it (1 for
    /// an identity never learned).
    pub fn novelties(&mut self, event: &Event) -> (Vec<Novelty>, f64) {
        let user = event.user();
        if user.is_empty() {
            return (Vec::new(), 0.0);
        }
        behaviour_key(&mut self.key, event);
        let Some(known) = self.identities.get_mut(user) else {
            let known = Known {
                behaviours: [self.key.clone()].into_iter().collect(),
                source_ips: event.source_ips().map(str::to_string).collect(),
                user_agents: event.user_agent().map(str::to_string).into_iter().collect(),
                confidence: 1.0,
            };
            self.identities.insert(user.to_string(), known);
            return (vec![Novelty::Identity], 1.0);
        };
        let mut out = Vec::new();
        if !known.behaviours.contains(self.key.as_str()) && known.behaviours.len() < MAX_VALUES {
            known.behaviours.insert(self.key.clone());
            out.push(Novelty::Behaviour(Behaviour::of(event)));
        }
        for ip in event.source_ips() {
            if !known.source_ips.contains(ip) && known.source_ips.len() < MAX_VALUES {
                known.source_ips.insert(ip.to_string());
                out.push(Novelty::SourceIp(ip.to_string()));
            }
        }
        if let Some(agent) = event.user_agent()
            && !known.user_agents.contains(agent)
            && known.user_agents.len() < MAX_VALUES
        {
            known.user_agents.insert(agent.to_string());
            out.push(Novelty::UserAgent(agent.to_string()));
        }
        (out, known.confidence)
    }
}

fn insert_bounded<T: Ord>(set: &mut BTreeSet<T>, value: T) {
    if set.len() < MAX_VALUES {
        set.insert(value);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn event(text: &str) -> Event<'_> {
        Event::decode(text).unwrap()
    }

    const GET: &str = r#"{"kind":"Event","stage":"ResponseComplete","verb":"get","user":{"username":"system:serviceaccount:app:web"},"sourceIPs":["10.0.0.5"],"userAgent":"web/1.0","objectRef":{"resource":"configmaps","namespace":"app"},"requestReceivedTimestamp":"2026-01-01T00:00:00Z"}"#;
    const LIST_SECRETS: &str = r#"{"kind":"Event","stage":"ResponseComplete","verb":"list","user":{"username":"system:serviceaccount:app:web"},"sourceIPs":["203.0.113.7"],"userAgent":"curl/8.0","objectRef":{"resource":"secrets","namespace":"app"},"requestReceivedTimestamp":"2026-01-09T00:00:00Z"}"#;

    #[test]
    fn reports_each_first_seen_behaviour_once() {
        let mut baseline = Baseline::default();
        for _ in 0..100 {
            baseline.observe(&event(GET));
        }
        let mut watch = Watch::new(baseline);
        assert!(watch.novelties(&event(GET)).0.is_empty());
        let (new, confidence) = watch.novelties(&event(LIST_SECRETS));
        assert_eq!(new.len(), 3, "{new:?}");
        assert!(matches!(&new[0], Novelty::Behaviour(b) if b.describe() == "list secrets in app"));
        // 100 events, all learned within one instant: half the weight of a week's learning.
        assert!(confidence > 0.3 && confidence < 0.5, "{confidence}");
        assert!(watch.novelties(&event(LIST_SECRETS)).0.is_empty());
    }

    #[test]
    fn an_identity_never_learned_is_one_novelty() {
        let mut watch = Watch::new(Baseline::default());
        let (new, _) = watch.novelties(&event(GET));
        assert_eq!(new, [Novelty::Identity]);
        assert!(watch.novelties(&event(GET)).0.is_empty());
    }

    #[test]
    fn confidence_grows_with_events_and_days() {
        let few = Profile {
            events: 3,
            ..Profile::default()
        };
        let many_days = Profile {
            events: 1000,
            first_seen: 0,
            last_seen: 8 * 86_400_000_000,
            ..Profile::default()
        };
        assert!(few.confidence() < 0.1);
        assert_eq!(many_days.confidence(), 1.0);
    }
}
