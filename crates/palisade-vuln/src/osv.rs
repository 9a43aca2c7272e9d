//! OSV records (the Open Source Vulnerability format, schema 1.x) read for what matching needs,
//! and whether a record's `affected` entries cover an installed package: its explicit version
//! list, then its `ECOSYSTEM` and `SEMVER` ranges evaluated with the ecosystem's own version
//! ordering, as the OSV specification's evaluation describes (events sorted by version, each
//! `introduced` opening, each `fixed` or passed `last_affected` closing).
//!
//! Fields are read leniently: unknown fields and range types are ignored (`GIT` ranges name
//! commits, which an installed package does not carry), a record of an ecosystem Palisade
//! does not match is kept out of the index.

use crate::cvss;
use crate::ecosystem::{Ecosystem, release_applies};
use crate::package::Package;
use crate::version::Scheme;
use palisade_core::Severity;
use serde::Deserialize;
use std::cmp::Ordering;
use std::collections::BTreeMap;

#[derive(Debug, Deserialize)]
struct RawRecord {
    id: String,
    #[serde(default)]
    withdrawn: Option<String>,
    #[serde(default)]
    aliases: Vec<String>,
    /// The records a distribution's record derives from (`CVE-2023-4911` for
    /// `DEBIAN-CVE-2023-4911`), schema 1.6.
    #[serde(default)]
    upstream: Vec<String>,
    #[serde(default)]
    summary: Option<String>,
    #[serde(default)]
    details: Option<String>,
    #[serde(default)]
    severity: Vec<RawSeverity>,
    #[serde(default)]
    affected: Vec<RawAffected>,
    #[serde(default)]
    database_specific: Option<serde_json::Value>,
}

#[derive(Debug, Deserialize)]
struct RawSeverity {
    #[serde(rename = "type")]
    kind: String,
    score: String,
}

#[derive(Debug, Deserialize)]
struct RawAffected {
    #[serde(default)]
    package: Option<RawPackage>,
    #[serde(default)]
    ranges: Vec<RawRange>,
    #[serde(default)]
    versions: Vec<String>,
    #[serde(default)]
    severity: Vec<RawSeverity>,
    #[serde(default)]
    ecosystem_specific: Option<serde_json::Value>,
    #[serde(default)]
    database_specific: Option<serde_json::Value>,
}

#[derive(Debug, Deserialize)]
struct RawPackage {
    ecosystem: String,
    name: String,
}

#[derive(Debug, Deserialize)]
struct RawRange {
    #[serde(rename = "type")]
    kind: String,
    #[serde(default)]
    events: Vec<BTreeMap<String, String>>,
}

/// How severe a record says its flaw is, and on what ground.
#[derive(Debug, Clone, PartialEq)]
pub struct Rating {
    pub severity: Severity,
    /// What the severity comes from, as a reader would cite it (`CVSS 3.1 base score 9.8`,
    /// `GitHub's severity HIGH`, `Ubuntu's priority medium`).
    pub source: String,
    /// The CVSS vector, when the severity comes from one (or when the record carries one
    /// Palisade cannot score, CVSS 4).
    pub vector: Option<String>,
}

/// One event of a range.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    Introduced(String),
    Fixed(String),
    LastAffected(String),
    Limit(String),
}

impl Event {
    fn version(&self) -> &str {
        match self {
            Event::Introduced(v) | Event::Fixed(v) | Event::LastAffected(v) | Event::Limit(v) => v,
        }
    }
}

/// A range whose versions Palisade can order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Range {
    /// `SEMVER` ranges are in SemVer whatever the ecosystem; `ECOSYSTEM` ones in its own.
    pub semver: bool,
    /// Sorted by version, `introduced: 0` first.
    pub events: Vec<Event>,
}

/// One `affected` entry of a record.
#[derive(Debug, Clone)]
pub struct Affected {
    pub ecosystem: &'static Ecosystem,
    /// The release a distribution's entry applies to (`12` of `Debian:12`).
    pub release: Option<String>,
    /// Normalized as the ecosystem compares names.
    pub name: String,
    pub ranges: Vec<Range>,
    pub versions: Vec<String>,
    /// This entry's own rating, when it gives one (Ubuntu's per package priority).
    pub rating: Option<Rating>,
}

/// A record, with what matching and reporting need.
#[derive(Debug, Clone)]
pub struct Record {
    pub id: String,
    /// Its aliases and the records it derives from (`upstream`): the ids it is known by.
    pub aliases: Vec<String>,
    /// The summary, or the first line of the details, at most 200 characters.
    pub summary: String,
    pub rating: Option<Rating>,
    pub affected: Vec<Affected>,
}

/// What a record says of one installed package.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// The version is affected; `fixed` is the first version after it that is not.
    Affected {
        fixed: Option<String>,
    },
    NotAffected,
    /// The record has a range in versions whose ordering Palisade does not know.
    Unordered,
}

/// Why a file is not a record Palisade can use.
#[derive(Debug, thiserror::Error)]
pub enum RecordError {
    #[error("not an OSV record: {0}")]
    Json(#[from] serde_json::Error),
    #[error("the record has no id")]
    NoId,
}

fn rating_of(entries: &[RawSeverity]) -> Option<Rating> {
    let mut unscored = None;
    for entry in entries {
        let scored = match entry.kind.as_str() {
            "CVSS_V3" => cvss::v3(&entry.score).map(|s| (s, "CVSS 3")),
            "CVSS_V2" => cvss::v2(&entry.score).map(|s| (s, "CVSS 2")),
            "CVSS_V4" => {
                unscored.get_or_insert_with(|| entry.score.clone());
                None
            }
            "Ubuntu" => {
                return priority(&entry.score).map(|severity| Rating {
                    severity,
                    source: format!("Ubuntu's priority {}", entry.score),
                    vector: None,
                });
            }
            _ => None,
        };
        if let Some((score, version)) = scored {
            let version = if entry.score.starts_with("CVSS:3.0") {
                "CVSS 3.0"
            } else if entry.score.starts_with("CVSS:3.1") {
                "CVSS 3.1"
            } else {
                version
            };
            return Some(Rating {
                severity: score.severity,
                source: format!("{version} base score {:.1}", score.base),
                vector: Some(entry.score.clone()),
            });
        }
    }
    unscored.map(|vector| Rating {
        severity: Severity::Medium,
        source: "a CVSS 4 vector Palisade does not score; rated medium".to_string(),
        vector: Some(vector),
    })
}

/// A word rating (GitHub's `MODERATE`, Ubuntu's `negligible`, Debian's urgency) as a severity.
fn priority(word: &str) -> Option<Severity> {
    Some(match word.trim().to_ascii_lowercase().as_str() {
        "critical" => Severity::Critical,
        "high" | "important" => Severity::High,
        "medium" | "moderate" => Severity::Medium,
        "low" => Severity::Low,
        "negligible" | "unimportant" => Severity::Info,
        _ => return None,
    })
}

/// GitHub's and others' `database_specific.severity` word.
fn word_rating(value: Option<&serde_json::Value>, whose: &str) -> Option<Rating> {
    let word = value?.get("severity")?.as_str()?;
    priority(word).map(|severity| Rating {
        severity,
        source: format!("{whose}'s severity {word}"),
        vector: None,
    })
}

fn range_of(raw: &RawRange, scheme: Option<Scheme>) -> Option<Result<Range, ()>> {
    let semver = match raw.kind.as_str() {
        "SEMVER" => true,
        "ECOSYSTEM" => false,
        _ => return None,
    };
    let scheme = if semver { Scheme::Semver } else { scheme? };
    let mut events: Vec<Event> = raw
        .events
        .iter()
        .filter_map(|event| {
            let (kind, version) = event.iter().next()?;
            Some(match kind.as_str() {
                "introduced" => Event::Introduced(version.clone()),
                "fixed" => Event::Fixed(version.clone()),
                "last_affected" => Event::LastAffected(version.clone()),
                "limit" => Event::Limit(version.clone()),
                _ => return None,
            })
        })
        .collect();
    events.sort_by(|a, b| compare_event_versions(scheme, a.version(), b.version()));
    Some(Ok(Range { semver, events }))
}

/// Versions of events ordered by `scheme`, `0` (every version) first.
fn compare_event_versions(scheme: Scheme, a: &str, b: &str) -> Ordering {
    match (a == "0", b == "0") {
        (true, true) => Ordering::Equal,
        (true, false) => Ordering::Less,
        (false, true) => Ordering::Greater,
        (false, false) => scheme.compare(a, b),
    }
}

impl Record {
    /// Reads one record from its JSON text. `None` for a withdrawn record.
    pub fn parse(text: &[u8]) -> Result<Option<Record>, RecordError> {
        let raw: RawRecord = serde_json::from_slice(text)?;
        if raw.id.trim().is_empty() {
            return Err(RecordError::NoId);
        }
        if raw.withdrawn.is_some() {
            return Ok(None);
        }
        let rating = rating_of(&raw.severity)
            .or_else(|| word_rating(raw.database_specific.as_ref(), "the advisory"));
        let affected = raw
            .affected
            .iter()
            .filter_map(|entry| {
                let package = entry.package.as_ref()?;
                let (ecosystem, release) = Ecosystem::of_record(&package.ecosystem)?;
                let ranges = entry
                    .ranges
                    .iter()
                    .filter_map(|r| range_of(r, ecosystem.scheme))
                    .filter_map(Result::ok)
                    .collect();
                let unordered = entry
                    .ranges
                    .iter()
                    .any(|r| r.kind == "ECOSYSTEM" && ecosystem.scheme.is_none());
                let mut ranges: Vec<Range> = ranges;
                if unordered {
                    // Kept as a marker: an empty-event range Palisade cannot order.
                    ranges.push(Range {
                        semver: false,
                        events: Vec::new(),
                    });
                }
                Some(Affected {
                    ecosystem,
                    release: release.map(str::to_string),
                    name: ecosystem.normalize_name(&package.name),
                    ranges,
                    versions: entry.versions.clone(),
                    rating: rating_of(&entry.severity)
                        .or_else(|| {
                            word_rating(entry.ecosystem_specific.as_ref(), "the distribution")
                        })
                        .or_else(|| word_rating(entry.database_specific.as_ref(), "the advisory")),
                })
            })
            .collect();
        let summary = raw
            .summary
            .filter(|s| !s.trim().is_empty())
            .or_else(|| raw.details.as_deref().and_then(first_sentence))
            .unwrap_or_default();
        let mut aliases = raw.aliases;
        aliases.extend(raw.upstream);
        Ok(Some(Record {
            id: raw.id,
            aliases,
            summary: shorten(summary.trim(), 200),
            rating,
            affected,
        }))
    }

    /// What this record says of `package`, over every entry that names it (`None` when none
    /// does).
    pub fn verdict(&self, package: &Package) -> Option<(Verdict, Option<&Rating>)> {
        let mut seen = None;
        for entry in self.affected.iter().filter(|e| e.names(package)) {
            let verdict = entry.verdict(package);
            let rating = entry.rating.as_ref().or(self.rating.as_ref());
            match verdict {
                Verdict::Affected { .. } => return Some((verdict, rating)),
                Verdict::Unordered => seen = Some((verdict, rating)),
                Verdict::NotAffected => {
                    seen.get_or_insert((verdict, rating));
                }
            }
        }
        seen
    }
}

/// The first sentence of a record's details (its first line, up to the first `. `), for
/// records that give no summary (Debian's, Alpine's).
fn first_sentence(details: &str) -> Option<String> {
    let line = details.lines().find(|l| !l.trim().is_empty())?.trim();
    let line = line.strip_prefix("Issue summary:").map_or(line, str::trim);
    Some(match line.find(". ") {
        Some(end) => line[..=end].to_string(),
        None => line.to_string(),
    })
}

fn shorten(text: &str, most: usize) -> String {
    match text.char_indices().nth(most) {
        Some((at, _)) => format!("{}…", &text[..at]),
        None => text.to_string(),
    }
}

impl Affected {
    /// Whether this entry is about `package`: same ecosystem, name and (for a distribution)
    /// release.
    pub fn names(&self, package: &Package) -> bool {
        if !std::ptr::eq(self.ecosystem, package.ecosystem) || self.name != package.name {
            return false;
        }
        match (&self.release, &package.release) {
            (None, _) => true,
            (Some(record), Some(installed)) => release_applies(record, installed),
            (Some(_), None) => false,
        }
    }

    /// Whether `package`'s version is affected, by the explicit list and then by the ranges.
    pub fn verdict(&self, package: &Package) -> Verdict {
        let scheme = self.ecosystem.scheme;
        let version = package.version.as_str();
        let listed = self.versions.iter().any(|v| {
            v == version || scheme.is_some_and(|s| s.compare(v, version) == Ordering::Equal)
        });
        let mut fixed = None;
        let mut affected = listed;
        let mut unordered = false;
        for range in &self.ranges {
            if range.events.is_empty() {
                unordered = true;
                continue;
            }
            let Some(scheme) = (if range.semver {
                Some(Scheme::Semver)
            } else {
                scheme
            }) else {
                unordered = true;
                continue;
            };
            if let Some(hit) = evaluate(scheme, &range.events, version) {
                affected = true;
                fixed = fixed.or(hit);
            }
        }
        if affected {
            Verdict::Affected { fixed }
        } else if unordered {
            Verdict::Unordered
        } else {
            Verdict::NotAffected
        }
    }
}

/// The OSV specification's evaluation of one range: `Some(fixed)` when `version` is affected,
/// with the first `fixed` event after it.
fn evaluate(scheme: Scheme, events: &[Event], version: &str) -> Option<Option<String>> {
    let at_or_after =
        |event: &str| event == "0" || scheme.compare(version, event) != Ordering::Less;
    let mut affected = false;
    for event in events {
        match event {
            Event::Introduced(v) if at_or_after(v) => affected = true,
            Event::Fixed(v) | Event::Limit(v) if at_or_after(v) => affected = false,
            Event::LastAffected(v) if scheme.compare(version, v) == Ordering::Greater => {
                affected = false
            }
            _ => {}
        }
    }
    if !affected {
        return None;
    }
    let fixed = events.iter().find_map(|event| match event {
        Event::Fixed(v) if scheme.compare(v, version) == Ordering::Greater => Some(v.clone()),
        _ => None,
    });
    Some(fixed)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::package::Source;
    use crate::purl::Purl;

    fn package(purl: &str) -> Package {
        Package::from_purl(&Purl::parse(purl).unwrap(), &Source::default(), None).unwrap()
    }

    /// The shape of a real OSV record (GHSA-jfh8-c2jp-5v3q, Log4Shell, as osv.dev serves it;
    /// trimmed to the fields read).
    const LOG4SHELL: &str = r#"{
      "schema_version": "1.6.0",
      "id": "GHSA-jfh8-c2jp-5v3q",
      "modified": "2024-03-15T05:38:37Z",
      "aliases": ["CVE-2021-44228"],
      "summary": "Remote code injection in Log4j",
      "severity": [{"type": "CVSS_V3", "score": "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:C/C:H/I:H/A:H"}],
      "affected": [
        {"package": {"ecosystem": "Maven", "name": "org.apache.logging.log4j:log4j-core", "purl": "pkg:maven/org.apache.logging.log4j/log4j-core"},
         "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "2.13.0"}, {"fixed": "2.15.0"}]},
                    {"type": "ECOSYSTEM", "events": [{"introduced": "2.4"}, {"fixed": "2.12.2"}]},
                    {"type": "ECOSYSTEM", "events": [{"introduced": "0"}, {"fixed": "2.3.1"}]}],
         "database_specific": {"source": "https://github.com/github/advisory-database/blob/main/advisories/github-reviewed/2021/12/GHSA-jfh8-c2jp-5v3q/GHSA-jfh8-c2jp-5v3q.json"}}
      ],
      "database_specific": {"severity": "CRITICAL", "github_reviewed": true}
    }"#;

    #[test]
    fn a_maven_record_covers_the_versions_of_its_ranges() {
        let record = Record::parse(LOG4SHELL.as_bytes()).unwrap().unwrap();
        assert_eq!(record.rating.as_ref().unwrap().severity, Severity::Critical);
        assert_eq!(
            record.rating.as_ref().unwrap().source,
            "CVSS 3.1 base score 10.0"
        );
        let verdict = |v: &str| {
            record
                .verdict(&package(&format!(
                    "pkg:maven/org.apache.logging.log4j/log4j-core@{v}"
                )))
                .map(|(verdict, _)| verdict)
        };
        assert_eq!(
            verdict("2.14.1"),
            Some(Verdict::Affected {
                fixed: Some("2.15.0".into())
            })
        );
        assert_eq!(verdict("2.15.0"), Some(Verdict::NotAffected));
        assert_eq!(verdict("2.12.2"), Some(Verdict::NotAffected));
        assert_eq!(
            verdict("2.3"),
            Some(Verdict::Affected {
                fixed: Some("2.3.1".into())
            })
        );
        assert_eq!(verdict("2.17.1"), Some(Verdict::NotAffected));
        assert!(
            record
                .verdict(&package(
                    "pkg:maven/org.apache.logging.log4j/log4j-api@2.14.1"
                ))
                .is_none()
        );
    }

    /// A Debian record (the shape of osv.dev's DEBIAN-CVE records): per release, by source
    /// package, in dpkg's ordering.
    #[test]
    fn a_debian_record_applies_to_its_release_only() {
        let record = Record::parse(
            br#"{"id": "DEBIAN-CVE-2024-5535", "summary": "SSL_select_next_proto buffer overread",
                "affected": [
                  {"package": {"ecosystem": "Debian:12", "name": "openssl"},
                   "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "0"}, {"fixed": "3.0.14-1~deb12u1"}]}]},
                  {"package": {"ecosystem": "Debian:11", "name": "openssl"},
                   "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "0"}, {"fixed": "1.1.1w-0+deb11u2"}]}]}
                ]}"#,
        )
        .unwrap()
        .unwrap();
        let verdict = |purl: &str| record.verdict(&package(purl)).map(|(v, _)| v);
        assert_eq!(
            verdict("pkg:deb/debian/libssl3@3.0.11-1~deb12u2?upstream=openssl&distro=debian-12.4"),
            Some(Verdict::Affected {
                fixed: Some("3.0.14-1~deb12u1".into())
            })
        );
        assert_eq!(
            verdict("pkg:deb/debian/libssl3@3.0.15-1~deb12u1?upstream=openssl&distro=debian-12"),
            Some(Verdict::NotAffected)
        );
        assert_eq!(
            verdict("pkg:deb/debian/libssl1.1@1.1.1w-0+deb11u1?upstream=openssl&distro=debian-11"),
            Some(Verdict::Affected {
                fixed: Some("1.1.1w-0+deb11u2".into())
            })
        );
        assert_eq!(
            verdict("pkg:deb/debian/libssl3@3.0.11-1?upstream=openssl&distro=debian-13"),
            None
        );
        assert!(record.rating.is_none());
    }

    #[test]
    fn last_affected_and_explicit_versions_are_read() {
        let record = Record::parse(
            br#"{"id": "PYSEC-1", "affected": [{"package": {"ecosystem": "PyPI", "name": "Some_Lib"},
                 "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "1.0"}, {"last_affected": "1.4.2"}]}],
                 "versions": ["0.9.1"]}]}"#,
        )
        .unwrap()
        .unwrap();
        let verdict = |v: &str| {
            record
                .verdict(&package(&format!("pkg:pypi/some-lib@{v}")))
                .map(|(v, _)| v)
        };
        assert_eq!(verdict("1.4.2"), Some(Verdict::Affected { fixed: None }));
        assert_eq!(verdict("1.4.3"), Some(Verdict::NotAffected));
        assert_eq!(verdict("0.9.1"), Some(Verdict::Affected { fixed: None }));
        assert_eq!(verdict("0.9.2"), Some(Verdict::NotAffected));
    }

    #[test]
    fn ranges_in_an_unknown_ordering_are_not_judged() {
        let record = Record::parse(
            br#"{"id": "GHSA-x", "affected": [{"package": {"ecosystem": "Packagist", "name": "Vendor/Pkg"},
                 "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "0"}, {"fixed": "2.0"}]}],
                 "versions": ["1.0.0"]}]}"#,
        )
        .unwrap()
        .unwrap();
        let verdict = |v: &str| {
            record
                .verdict(&package(&format!("pkg:composer/vendor/pkg@{v}")))
                .map(|(v, _)| v)
        };
        assert_eq!(verdict("1.0.0"), Some(Verdict::Affected { fixed: None }));
        assert_eq!(verdict("1.5.0"), Some(Verdict::Unordered));
    }

    #[test]
    fn withdrawn_and_malformed_records_are_told_apart() {
        assert!(
            Record::parse(br#"{"id": "GHSA-w", "withdrawn": "2024-01-01T00:00:00Z"}"#)
                .unwrap()
                .is_none()
        );
        assert!(Record::parse(br#"{"id": ""}"#).is_err());
        assert!(Record::parse(br#"{"affected": []}"#).is_err());
        assert!(Record::parse(br#"{"id": "X", "affected": [{"ranges": "no"}]}"#).is_err());
        assert!(Record::parse(b"[1, 2]").is_err());
    }

    #[test]
    fn ratings_come_from_cvss_then_words() {
        let rated = |json: &str| {
            Record::parse(json.as_bytes())
                .unwrap()
                .unwrap()
                .affected
                .first()
                .and_then(|a| a.rating.clone())
        };
        let ubuntu = rated(
            r#"{"id": "UBUNTU-CVE-1", "affected": [{"package": {"ecosystem": "Ubuntu:22.04:LTS", "name": "curl"},
                "severity": [{"type": "Ubuntu", "score": "medium"}]}]}"#,
        )
        .unwrap();
        assert_eq!(
            (ubuntu.severity, ubuntu.source.as_str()),
            (Severity::Medium, "Ubuntu's priority medium")
        );
        let v4 = Record::parse(
            br#"{"id": "X", "severity": [{"type": "CVSS_V4", "score": "CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N"}]}"#,
        )
        .unwrap()
        .unwrap();
        assert_eq!(v4.rating.unwrap().severity, Severity::Medium);
    }
}
