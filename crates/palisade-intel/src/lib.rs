//! Threat-intelligence indicators, read from the feeds a security team already has (STIX 2.1
//! bundles and TAXII envelopes, plain lists of addresses, domains and images) and indexed for
//! matching what an audit event shows: the client's address, its user agent and account, and
//! the registries and repositories of the images a pod runs.
//!
//! What cannot be read is said, never guessed: a file that cannot be read or parsed is an
//! error; an indicator or line it cannot match on is a [`Problem`] naming it, and counted in
//! [`Skipped`]. An indicator is matched only within its validity (`valid_from` to
//! `valid_until`) at the time of the event.

mod feeds;
pub mod pattern;
pub mod stix;
pub mod text;

mod index;

use std::collections::HashMap;
use std::fmt;
use std::net::IpAddr;
use std::path::{Path, PathBuf};

use palisade_net::addr::Family;

pub use feeds::Feeds;
pub use pattern::Observable;

/// Largest indicator file read (bytes).
pub const MAX_FILE: u64 = 256 * 1024 * 1024;

/// One indicator: where it comes from and when it holds. Its observables are indexed in
/// [`Indicators`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Indicator {
    /// The STIX id (`indicator--...`), or `file:line` for a list's entry.
    pub id: String,
    pub name: Option<String>,
    /// The file it was read from.
    pub source: String,
    /// STIX `confidence` (0-100).
    pub confidence: Option<u8>,
    /// STIX `indicator_types` (and 2.0 `labels`): `malicious-activity`, `anomalous-activity`.
    pub labels: Vec<String>,
    /// Microseconds since the epoch.
    pub valid_from: Option<i64>,
    pub valid_until: Option<i64>,
}

impl Indicator {
    /// An entry of a plain list: always valid, named by its line.
    pub fn listed(source: &str, line: usize) -> Indicator {
        Indicator {
            id: format!("{source}:{line}"),
            name: None,
            source: source.to_string(),
            confidence: None,
            labels: Vec::new(),
            valid_from: None,
            valid_until: None,
        }
    }

    /// Whether it holds at `at` (microseconds; an event without a time is matched against
    /// every indicator).
    pub fn valid_at(&self, at: Option<i64>) -> bool {
        let Some(at) = at else { return true };
        self.valid_from.is_none_or(|from| at >= from)
            && self.valid_until.is_none_or(|until| at < until)
    }
}

/// An entry that was not read, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    /// `file:line`, or `file: indicator <id>`.
    pub place: String,
    pub message: String,
}

impl Problem {
    pub fn new(place: String, message: impl Into<String>) -> Problem {
        Problem {
            place,
            message: message.into(),
        }
    }
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.place, self.message)
    }
}

/// What was left out on purpose, counted.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Skipped {
    /// STIX objects other than indicators (identities, relationships, malware, ...).
    pub other_objects: u64,
    /// Earlier versions of an indicator whose later `modified` was read.
    pub older_versions: u64,
    pub revoked: u64,
    /// Indicators whose pattern names what an audit event does not show, or uses patterning
    /// this reader does not match on.
    pub unsupported: u64,
}

/// Why indicators could not be loaded at all.
#[derive(Debug, thiserror::Error)]
pub enum IntelError {
    #[error("cannot read {path}")]
    Read {
        path: String,
        source: std::io::Error,
    },
    #[error("{path}: larger than {MAX_FILE} bytes")]
    TooLarge { path: String },
    #[error("{path}: {message}")]
    Invalid { path: String, message: String },
}

/// A match: the indicator, the value of it that matched (`198.51.100.0/24`,
/// `miner.example`), and what kind of value that is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Match<'i> {
    pub indicator: &'i Indicator,
    pub value: &'i str,
    pub kind: Kind,
}

impl Match<'_> {
    /// "C2 server (indicator--a in feeds/c2.json, 198.51.100.0/24)", or for a list's entry
    /// "198.51.100.0/24 (feeds/drop.txt:12)".
    pub fn describe(&self) -> String {
        let indicator = self.indicator;
        match &indicator.name {
            Some(name) => format!(
                "{name} ({} in {}, {})",
                indicator.id, indicator.source, self.value
            ),
            None => format!("{} ({})", self.value, indicator.id),
        }
    }
}

/// The kinds of value an indicator names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Address,
    Domain,
    UserAgent,
    User,
    Image,
}

impl Kind {
    /// The STIX Cyber-observable type of a value of this kind (`ipv4-addr`, `domain-name`),
    /// as ECS's `threat.indicator.type` takes it: a user agent is `software`, an image an
    /// `artifact`.
    pub fn stix_type(self, value: &str) -> &'static str {
        match self {
            Kind::Address if value.contains(':') => "ipv6-addr",
            Kind::Address => "ipv4-addr",
            Kind::Domain => "domain-name",
            Kind::UserAgent => "software",
            Kind::User => "user-account",
            Kind::Image => "artifact",
        }
    }
}

/// How many observables of each kind are indexed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Counts {
    pub addresses: usize,
    pub domains: usize,
    pub user_agents: usize,
    pub users: usize,
    pub images: usize,
}

impl Counts {
    /// Values of every kind.
    pub fn total(&self) -> usize {
        self.addresses + self.domains + self.user_agents + self.users + self.images
    }
}

/// Values with the indicators naming them. Hashed with foldhash, seeded per process: every
/// request's user agent is looked up, and SipHash made that the detection's main cost.
type Keyed = HashMap<String, Vec<u32>, foldhash::fast::RandomState>;

/// Indicators, indexed by what they name.
#[derive(Debug, Default)]
pub struct Indicators {
    indicators: Vec<Indicator>,
    addresses: index::Addresses,
    /// Each keyed value (domains lower case, images by repository), with the indicators
    /// naming it.
    domains: Keyed,
    user_agents: Keyed,
    users: Keyed,
    images: Keyed,
    counts: Counts,
    pub skipped: Skipped,
}

impl Indicators {
    /// Reads every file (a STIX document when it starts with `{` or `[`, else a list), each
    /// named in indicators and problems as given with it; the problems are those of entries
    /// that were not read. Read through [`Feeds::load`], which also refuses files that hold
    /// nothing to match.
    pub(crate) fn load(
        files: &[(String, PathBuf)],
    ) -> Result<(Indicators, Vec<Problem>), IntelError> {
        let mut read = Vec::new();
        let mut problems = Vec::new();
        let mut skipped = Skipped::default();
        for (source, path) in files {
            let text = read_file(source, path)?;
            let source = source.clone();
            problems.extend(
                parse(&source, &text, &mut read, &mut skipped).map_err(|message| {
                    IntelError::Invalid {
                        path: source.clone(),
                        message,
                    }
                })?,
            );
        }
        let mut indicators = Indicators::build(read);
        indicators.skipped = skipped;
        Ok((indicators, problems))
    }

    /// Indexes indicators read with their observables.
    pub fn build(read: Vec<(Indicator, Vec<Observable>)>) -> Indicators {
        let mut out = Indicators::default();
        let mut ranges = Vec::new();
        for (indicator, observables) in read {
            let Ok(id) = u32::try_from(out.indicators.len()) else {
                break;
            };
            out.indicators.push(indicator);
            for observable in observables {
                let (map, count) = match observable {
                    Observable::Address(range) => {
                        ranges.push((range, id));
                        out.counts.addresses += 1;
                        continue;
                    }
                    Observable::Domain(d) => ((&mut out.domains, d), &mut out.counts.domains),
                    Observable::UserAgent(u) => {
                        ((&mut out.user_agents, u), &mut out.counts.user_agents)
                    }
                    Observable::User(u) => ((&mut out.users, u), &mut out.counts.users),
                    Observable::Image(i) => ((&mut out.images, i), &mut out.counts.images),
                };
                let (map, key) = map;
                let ids = map.entry(key).or_default();
                if !ids.contains(&id) {
                    ids.push(id);
                }
                *count += 1;
            }
        }
        out.addresses = index::Addresses::build(ranges);
        out
    }

    pub fn counts(&self) -> Counts {
        self.counts
    }

    pub fn is_empty(&self) -> bool {
        self.counts == Counts::default()
    }

    /// The indicator, valid at `at`, whose range holding `ip` is the narrowest.
    pub fn address(&self, ip: &str, at: Option<i64>) -> Option<Match<'_>> {
        let ip: IpAddr = ip.trim().parse().ok()?;
        let (family, value) = match ip {
            IpAddr::V4(v4) => (Family::V4, u128::from(u32::from(v4))),
            IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
                Some(v4) => (Family::V4, u128::from(u32::from(v4))),
                None => (Family::V6, u128::from(v6)),
            },
        };
        let (range, id) = self
            .addresses
            .holding(family, value)
            .find(|(_, id)| self.indicators[*id as usize].valid_at(at))?;
        Some(Match {
            indicator: &self.indicators[id as usize],
            value: range,
            kind: Kind::Address,
        })
    }

    /// The indicator valid at `at` naming `host` or a domain it is under (`a.miner.example`
    /// is under `miner.example`); a host given by address is looked up as one. A port is
    /// ignored.
    pub fn domain(&self, host: &str, at: Option<i64>) -> Option<Match<'_>> {
        let host = strip_port(host);
        if host.parse::<IpAddr>().is_ok() {
            return self.address(host, at);
        }
        let host = host.trim_end_matches('.').to_ascii_lowercase();
        let mut name = host.as_str();
        loop {
            if let Some(found) = self.lookup(&self.domains, name, at, Kind::Domain) {
                return Some(found);
            }
            let (_, parent) = name.split_once('.')?;
            name = parent;
        }
    }

    pub fn user_agent(&self, agent: &str, at: Option<i64>) -> Option<Match<'_>> {
        self.lookup(&self.user_agents, agent, at, Kind::UserAgent)
    }

    pub fn user(&self, name: &str, at: Option<i64>) -> Option<Match<'_>> {
        self.lookup(&self.users, name, at, Kind::User)
    }

    /// The indicator valid at `at` naming the image's repository (tags and digests do not
    /// matter), or the domain or address of its registry.
    pub fn image(&self, image: &str, at: Option<i64>) -> Option<Match<'_>> {
        let parsed = palisade_k8s::image::ImageRef::parse(image);
        self.lookup(&self.images, &parsed.full_name(), at, Kind::Image)
            .or_else(|| self.domain(parsed.registry, at))
    }

    fn lookup<'s>(
        &'s self,
        map: &'s Keyed,
        key: &str,
        at: Option<i64>,
        kind: Kind,
    ) -> Option<Match<'s>> {
        let (value, ids) = map.get_key_value(key)?;
        let id = ids
            .iter()
            .find(|id| self.indicators[**id as usize].valid_at(at))?;
        Some(Match {
            indicator: &self.indicators[*id as usize],
            value,
            kind,
        })
    }
}

/// `registry.example:5000` without the port; `[2001:db8::1]:5000` without brackets and port.
fn strip_port(host: &str) -> &str {
    if let Some(inner) = host.strip_prefix('[') {
        return inner.split(']').next().unwrap_or(inner);
    }
    if host.matches(':').count() == 1 {
        return host.split(':').next().unwrap_or(host);
    }
    host
}

/// Reads indicators from one document: STIX JSON when it starts with `{` or `[`, a list
/// otherwise. An error when a STIX document cannot be read as one.
pub fn parse(
    source: &str,
    text: &str,
    out: &mut Vec<(Indicator, Vec<Observable>)>,
    skipped: &mut Skipped,
) -> Result<Vec<Problem>, String> {
    let text = text.trim_start_matches('\u{feff}');
    if text.trim_start().starts_with(['{', '[']) {
        stix::read(source, text, out, skipped)
    } else {
        Ok(text::read(source, text, out))
    }
}

fn read_file(source: &str, path: &Path) -> Result<String, IntelError> {
    let name = || source.to_string();
    let read = |source| IntelError::Read {
        path: name(),
        source,
    };
    let size = std::fs::metadata(path).map_err(read)?.len();
    if size > MAX_FILE {
        return Err(IntelError::TooLarge { path: name() });
    }
    let bytes = std::fs::read(path).map_err(read)?;
    String::from_utf8(bytes).map_err(|e| IntelError::Invalid {
        path: name(),
        message: format!("not UTF-8 text (byte {})", e.utf8_error().valid_up_to()),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn indicators(lists: &[(&str, &str)]) -> Indicators {
        let mut read = Vec::new();
        let mut skipped = Skipped::default();
        for (source, text) in lists {
            let problems = parse(source, text, &mut read, &mut skipped).unwrap();
            assert!(problems.is_empty(), "{problems:?}");
        }
        Indicators::build(read)
    }

    #[test]
    fn the_narrowest_valid_range_holding_an_address_matches() {
        let intel = indicators(&[
            ("wide.txt", "198.51.0.0/16\n"),
            (
                "narrow.json",
                r#"[{"type": "indicator", "id": "indicator--n", "pattern": "[ipv4-addr:value = '198.51.100.0/24']", "valid_until": "2026-06-01T00:00:00Z"}]"#,
            ),
        ]);
        let before = palisade_core::date::rfc3339_unix_micros("2026-05-01T00:00:00Z");
        let after = palisade_core::date::rfc3339_unix_micros("2026-07-01T00:00:00Z");
        let found = intel.address("198.51.100.7", before).unwrap();
        assert_eq!(
            (found.indicator.id.as_str(), found.value),
            ("indicator--n", "198.51.100.0/24")
        );
        // Expired: the wider one still holds.
        let found = intel.address("198.51.100.7", after).unwrap();
        assert_eq!(
            (found.indicator.id.as_str(), found.value),
            ("wide.txt:1", "198.51.0.0/16")
        );
        assert_eq!(
            intel.address("::ffff:198.51.3.4", after).unwrap().value,
            "198.51.0.0/16"
        );
        assert!(intel.address("198.52.0.1", None).is_none());
        assert!(intel.address("not an address", None).is_none());
    }

    #[test]
    fn domains_match_their_subdomains_and_images_their_registry() {
        let intel = indicators(&[(
            "feed.txt",
            "miner.example\nimage: xmrig/xmrig\n203.0.113.5\nuser-agent: kube-hunter\nuser: mallory\n",
        )]);
        assert_eq!(
            intel.domain("Pool.Miner.Example.", None).unwrap().value,
            "miner.example"
        );
        assert!(intel.domain("notminer.example", None).is_none());
        assert!(intel.domain("example", None).is_none());
        assert_eq!(
            intel
                .image("pool.miner.example:5000/x/y:1", None)
                .unwrap()
                .value,
            "miner.example"
        );
        assert_eq!(
            intel
                .image("docker.io/xmrig/xmrig@sha256:00", None)
                .unwrap()
                .value,
            "docker.io/xmrig/xmrig"
        );
        assert_eq!(
            intel
                .image("203.0.113.5:5000/tools/scan", None)
                .unwrap()
                .value,
            "203.0.113.5/32"
        );
        assert!(intel.image("nginx:1.27", None).is_none());
        assert!(intel.user_agent("kube-hunter", None).is_some());
        assert!(intel.user_agent("kube-hunter/1", None).is_none());
        assert!(intel.user("mallory", None).is_some());
        assert_eq!(
            intel.counts(),
            Counts {
                addresses: 1,
                domains: 1,
                user_agents: 1,
                users: 1,
                images: 1
            }
        );
    }
}
