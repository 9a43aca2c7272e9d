//! What detections remember between events: sliding windows for bursts, the behavioural
//! baseline being compared against, and the cluster's address ranges. Memory is bounded:
//! windows hold at most the threshold's timestamps per key, and idle keys are dropped when
//! the table grows past its cap.

use std::collections::{HashMap, HashSet, VecDeque};

use palisade_net::addr::AddrRange;

use crate::baseline::{Baseline, Watch};
use crate::detection::Level;
use crate::settings::Settings;

/// Keys kept per window family before idle ones are dropped.
const MAX_WINDOW_KEYS: usize = 100_000;

/// State shared by the detections of one analysis.
#[derive(Debug, Default)]
pub struct State {
    windows: HashMap<(&'static str, String), VecDeque<i64>>,
    once: HashSet<(&'static str, String)>,
    agents: HashMap<String, Option<&'static str>>,
    /// The learned behaviour to compare against (`--baseline`), updated with what has been
    /// reported so one new behaviour is reported once.
    pub baseline: Option<Watch>,
    /// `cluster_cidrs`, parsed.
    pub cluster_ranges: Vec<AddrRange>,
    /// `trusted_proxies`, parsed.
    pub proxy_ranges: Vec<AddrRange>,
    /// The images of the pods whose stored object the log showed, by `namespace/name`.
    pub pods: Stored<StoredObject>,
    /// The images of the pod templates of the workloads whose stored object the log showed
    /// (AUD044's Deployments, DaemonSets, StatefulSets, ...), by `resource/namespace/name`.
    pub workloads: Stored<StoredObject>,
    /// The claim and reclaim policy of the PersistentVolumes whose stored object the log
    /// showed (AUD046), by name.
    pub volumes: Stored<StoredVolume>,
    /// What the Roles and ClusterRoles whose stored object the log showed grant (AUD053), by
    /// `resource/namespace/name`.
    pub roles: Stored<StoredRole>,
    /// The audit level requests that detections read above `Metadata` were last logged at
    /// (AUD048).
    pub logged: LoggedLevels,
    /// When each kind of request was last reported logged below what detections read
    /// (AUD049).
    pub too_low: Spacing,
    /// When each indicator was last reported for an identity and outcome (AUD050).
    pub threat_intel: Spacing,
}

/// The audit level requests were last logged at, each request keyed by what the API
/// server's audit policy decides a level from (requester, verb, resource, namespace, name),
/// and when each kind of request was last reported logged lower. Bounded: past
/// [`MAX_STORED`] requests, the longest-known are forgotten.
#[derive(Debug, Default)]
pub struct LoggedLevels {
    /// Hashes requests' keys (seeded per process: a requester cannot choose names whose
    /// keys collide with another's).
    hasher: foldhash::fast::RandomState,
    /// Each request's level, and when it was logged at it last (microseconds since the
    /// epoch; `None` for an event without a time).
    by_request: HashMap<u64, (Level, Option<i64>), foldhash::fast::RandomState>,
    order: VecDeque<u64>,
    /// When a lowering of each kind of request (`create pods`) was last reported.
    pub reported: Spacing,
}

/// When an alert of each kind (`create pods`) was last given (microseconds since the epoch;
/// `None` for an event without a time), to give one per kind per quiet period. Bounded: past
/// [`MAX_WINDOW_KEYS`] kinds, all are forgotten and may be reported again.
#[derive(Debug, Default)]
pub struct Spacing {
    last: HashMap<String, Option<i64>>,
}

impl Spacing {
    /// Whether an alert of `kind` seen at `now` is to be given, and if so records it: not
    /// when one was given less than `quiet` microseconds before (or at all, when either has
    /// no time).
    pub fn due(&mut self, kind: &str, now: Option<i64>, quiet: i64) -> bool {
        let due = match (self.last.get(kind), now) {
            (None, _) => true,
            (Some(Some(then)), Some(now)) => now.saturating_sub(*then) >= quiet,
            (Some(_), _) => false,
        };
        if due {
            if self.last.len() >= MAX_WINDOW_KEYS {
                self.last.clear();
            }
            self.last.insert(kind.to_string(), now);
        }
        due
    }
}

impl LoggedLevels {
    /// What request keys are hashed with.
    pub fn hasher(&self) -> &foldhash::fast::RandomState {
        &self.hasher
    }

    /// Records that request `key` was logged at `level` at `time`; returns the level it was
    /// logged at the time before, and when.
    pub fn record(
        &mut self,
        key: u64,
        level: Level,
        time: Option<i64>,
    ) -> Option<(Level, Option<i64>)> {
        let before = self.by_request.insert(key, (level, time));
        if before.is_none() {
            self.order.push_back(key);
            while self.by_request.len() > MAX_STORED {
                let Some(oldest) = self.order.pop_front() else {
                    break;
                };
                self.by_request.remove(&oldest);
            }
        }
        before
    }
}

/// Objects kept by one [`Stored`] before the longest-kept are forgotten.
const MAX_STORED: usize = 100_000;

/// What the API server stored for objects of one kind (a write's response object), as much
/// of it as a detection compares a later write with: the images of pods or of workloads'
/// pod templates, so that a full update, which carries every image, can be compared with
/// what ran before; a PersistentVolume's claim.
/// Bounded: past [`MAX_STORED`], the objects stored longest ago are forgotten.
#[derive(Debug)]
pub struct Stored<T> {
    /// Each object with the number of the write that stored it.
    by_key: HashMap<String, (T, u64)>,
    /// Writes in order, with their numbers: an object written again or forgotten leaves its
    /// earlier entries behind, which are passed over and compacted away.
    order: VecDeque<(String, u64)>,
    writes: u64,
}

/// A stored object's uid and its pod spec's containers' images: `(container, image)` with
/// the container as an alert names it (`container "web"`, `init container "setup"`).
#[derive(Debug, Clone, PartialEq)]
pub struct StoredObject {
    pub uid: String,
    pub images: Vec<(String, String)>,
}

/// A PersistentVolume as stored: its uid, the claim it is bound or reserved to
/// (`namespace/name`), and its reclaim policy.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredVolume {
    pub uid: String,
    pub claim: Option<String>,
    pub reclaim_policy: Option<String>,
}

/// A Role or ClusterRole as stored: its uid and what it grants that the role detections
/// report.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredRole {
    pub uid: String,
    pub grants: crate::detections::role_rules::RoleGrants,
}

impl<T> Default for Stored<T> {
    fn default() -> Self {
        Stored {
            by_key: HashMap::new(),
            order: VecDeque::new(),
            writes: 0,
        }
    }
}

impl<T> Stored<T> {
    /// What the log showed stored for the object `key`.
    pub fn get(&self, key: &str) -> Option<&T> {
        self.by_key.get(key).map(|(object, _)| object)
    }

    /// Remembers the object `key` as stored now.
    pub fn store(&mut self, key: &str, object: T) {
        self.writes += 1;
        self.by_key.insert(key.to_string(), (object, self.writes));
        self.order.push_back((key.to_string(), self.writes));
        while self.by_key.len() > MAX_STORED {
            let Some((oldest, write)) = self.order.pop_front() else {
                break;
            };
            if self.by_key.get(&oldest).is_some_and(|(_, w)| *w == write) {
                self.by_key.remove(&oldest);
            }
        }
        if self.order.len() > 2 * self.by_key.len().max(1024) {
            let by_key = &self.by_key;
            self.order
                .retain(|(key, write)| by_key.get(key).is_some_and(|(_, w)| w == write));
        }
    }

    /// Forgets the object `key` (deleted).
    pub fn forget(&mut self, key: &str) {
        self.by_key.remove(key);
    }
}

/// The address ranges of a setting (validated when the settings were read).
fn ranges(cidrs: &[String]) -> Vec<AddrRange> {
    cidrs
        .iter()
        .filter_map(|c| AddrRange::parse_cidr(c).ok())
        .collect()
}

/// Whether one of `ranges` holds the address `ip` (`None` when it is not an address).
fn holds(ranges: &[AddrRange], ip: &str) -> Option<bool> {
    let addr = AddrRange::parse_cidr(ip.trim()).ok()?;
    Some(
        ranges
            .iter()
            .any(|r| r.family == addr.family && r.start <= addr.start && addr.end <= r.end),
    )
}

impl State {
    pub fn new(settings: &Settings, baseline: Option<Baseline>) -> State {
        State {
            windows: HashMap::new(),
            once: HashSet::new(),
            agents: HashMap::new(),
            baseline: baseline.map(Watch::new),
            pods: Stored::default(),
            workloads: Stored::default(),
            volumes: Stored::default(),
            roles: Stored::default(),
            logged: LoggedLevels::default(),
            too_low: Spacing::default(),
            threat_intel: Spacing::default(),
            cluster_ranges: ranges(&settings.cluster_cidrs),
            proxy_ranges: ranges(&settings.trusted_proxies),
        }
    }

    /// Counts an occurrence for `key` at `now` (microseconds); returns the count when it
    /// reaches `threshold` within `window` microseconds. The window then starts again, so a
    /// sustained burst is reported once per `threshold` occurrences.
    pub fn burst(
        &mut self,
        family: &'static str,
        key: &str,
        now: i64,
        window: i64,
        threshold: u32,
    ) -> Option<usize> {
        let threshold = usize::try_from(threshold.max(1)).unwrap_or(usize::MAX);
        if self.windows.len() >= MAX_WINDOW_KEYS {
            self.windows
                .retain(|_, times| times.back().is_some_and(|&t| now - t <= window));
        }
        let times = self.windows.entry((family, key.to_string())).or_default();
        times.push_back(now);
        while times.front().is_some_and(|&t| now - t > window) {
            times.pop_front();
        }
        if times.len() >= threshold {
            let count = times.len();
            times.clear();
            return Some(count);
        }
        None
    }

    /// True the first time `key` is seen for `family` in this analysis (bounded: past the
    /// cap, keys are forgotten and may be reported again).
    pub fn first(&mut self, family: &'static str, key: &str) -> bool {
        if self.once.len() >= MAX_WINDOW_KEYS {
            self.once.clear();
        }
        self.once.insert((family, key.to_string()))
    }

    /// What `classify` says of a user agent, computed once per distinct agent (bounded).
    pub fn classify_agent(
        &mut self,
        agent: &str,
        classify: impl FnOnce(&str) -> Option<&'static str>,
    ) -> Option<&'static str> {
        if let Some(known) = self.agents.get(agent) {
            return *known;
        }
        if self.agents.len() >= MAX_WINDOW_KEYS {
            self.agents.clear();
        }
        let result = classify(agent);
        self.agents.insert(agent.to_string(), result);
        result
    }

    /// Whether an address is inside the cluster's ranges; `None` when no range is configured
    /// or the address does not parse.
    pub fn in_cluster(&self, ip: &str) -> Option<bool> {
        if self.cluster_ranges.is_empty() {
            return None;
        }
        holds(&self.cluster_ranges, ip)
    }

    /// Where in `addresses` (a request's `sourceIPs`: forwarding headers first, the
    /// connection's address last) the client is: the last address that is not a trusted
    /// proxy's. Without trusted proxies, the connection's address; the ones before it are
    /// written by the client. `None` for no address.
    pub fn client_position<S: AsRef<str>>(&self, addresses: &[S]) -> Option<usize> {
        let last = addresses.len().checked_sub(1)?;
        let position = (0..=last)
            .rev()
            .find(|&i| holds(&self.proxy_ranges, addresses[i].as_ref()) != Some(true));
        // Every address a trusted proxy's: the first is as far as the chain goes.
        Some(position.unwrap_or(0))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pod(uid: &str) -> StoredObject {
        StoredObject {
            uid: uid.to_string(),
            images: vec![("container \"web\"".to_string(), "web:1".to_string())],
        }
    }

    /// The pods stored longest ago are forgotten past the cap, a pod written again counts from
    /// its latest write, and the write order stays bounded however often pods are rewritten
    /// or deleted.
    #[test]
    fn pod_images_stay_bounded() {
        let mut pods = Stored::default();
        for i in 0..MAX_STORED + 5 {
            pods.store(&format!("app/p{i}"), pod("u"));
            if i == MAX_STORED - 10 {
                // Written again: now among the most recent.
                pods.store("app/p0", pod("u0"));
            }
        }
        assert_eq!(pods.by_key.len(), MAX_STORED);
        assert_eq!(pods.get("app/p0").map(|p| p.uid.as_str()), Some("u0"));
        assert!(pods.get("app/p1").is_none() && pods.get("app/p5").is_none());
        assert!(pods.get("app/p6").is_some());
        let mut churn = Stored::default();
        for i in 0..50_000 {
            churn.store("app/web", pod(&i.to_string()));
            churn.store(&format!("app/gone-{i}"), pod("g"));
            churn.forget(&format!("app/gone-{i}"));
        }
        assert_eq!(churn.by_key.len(), 1);
        assert!(churn.order.len() <= 2 * 1024 + 2, "{}", churn.order.len());
    }

    /// A request's level is the one last logged; requests are forgotten oldest first past
    /// the cap; a kind is reported once within the quiet time, and once at all without times.
    #[test]
    fn logged_levels_stay_bounded_and_reports_are_spaced() {
        let mut logged = LoggedLevels::default();
        assert_eq!(logged.record(1, Level::Request, Some(5)), None);
        assert_eq!(
            logged.record(1, Level::Metadata, Some(9)),
            Some((Level::Request, Some(5)))
        );
        assert_eq!(
            logged.record(1, Level::Request, None),
            Some((Level::Metadata, Some(9)))
        );
        for key in 2..(MAX_STORED as u64 + 2) {
            logged.record(key, Level::Request, None);
        }
        assert_eq!(logged.by_request.len(), MAX_STORED);
        let forgotten = logged.record(1, Level::Request, None);
        assert_eq!(forgotten, None, "the first request was forgotten");

        let hour = 3_600_000_000;
        assert!(logged.reported.due("create pods", Some(0), hour));
        assert!(!logged.reported.due("create pods", Some(hour - 1), hour));
        assert!(logged.reported.due("update configmaps", Some(1), hour));
        assert!(logged.reported.due("create pods", Some(hour), hour));
        assert!(logged.reported.due("patch deployments", None, hour));
        assert!(!logged.reported.due("patch deployments", None, hour));
        assert!(
            !logged
                .reported
                .due("patch deployments", Some(5 * hour), hour)
        );
    }

    #[test]
    fn a_burst_is_reported_once_per_threshold_within_the_window() {
        let mut state = State::default();
        let second = 1_000_000;
        let mut fired = Vec::new();
        for i in 0..10 {
            if let Some(n) = state.burst("403", "mallory", i * second, 60 * second, 4) {
                fired.push((i, n));
            }
        }
        assert_eq!(fired, [(3, 4), (7, 4)]);
        // Spread out beyond the window: never a burst.
        let mut state = State::default();
        assert!((0..10).all(|i| {
            state
                .burst("403", "x", i * 61 * second, 60 * second, 2)
                .is_none()
        }));
    }

    #[test]
    fn addresses_are_placed_in_the_cluster_ranges() {
        let settings = Settings {
            cluster_cidrs: vec!["10.0.0.0/8".into(), "fd00::/8".into()],
            ..Settings::default()
        };
        let state = State::new(&settings, None);
        assert_eq!(state.in_cluster("10.1.2.3"), Some(true));
        assert_eq!(state.in_cluster("fd00::1"), Some(true));
        assert_eq!(state.in_cluster("203.0.113.9"), Some(false));
        assert_eq!(state.in_cluster("not an ip"), None);
        assert_eq!(State::default().in_cluster("10.1.2.3"), None);
    }
}
