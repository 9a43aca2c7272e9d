//! A threat-intelligence match an alert carries (AUD050, AUD051), whole, so that the formats
//! give it in a SIEM's own fields (ECS `threat.enrichments`) as well as in the evidence.

use palisade_intel::{Kind, Match};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IndicatorMatch {
    /// The STIX id, or `file:line` of a list's entry.
    pub id: String,
    pub name: Option<String>,
    /// The file it was read from, as named in the configuration or on the command line.
    pub source: String,
    /// The indicator's value that matched (`198.51.100.0/24`, `miner.example`).
    pub value: String,
    /// The STIX Cyber-observable type of that value (`ipv4-addr`, `domain-name`).
    pub stix_type: &'static str,
    /// When it is a single address, that address.
    pub address: Option<String>,
    pub confidence: Option<u8>,
    pub types: Vec<String>,
    /// What the event showed that matched, and the ECS field of the alert that holds it.
    pub observed: String,
    pub field: &'static str,
}

impl IndicatorMatch {
    pub fn of(found: &Match, observed: &str, field: &'static str) -> IndicatorMatch {
        let indicator = found.indicator;
        let single = [("/32", false), ("/128", true)]
            .into_iter()
            .find_map(|(suffix, v6)| {
                let address = found.value.strip_suffix(suffix)?;
                (address.contains(':') == v6).then(|| address.to_string())
            });
        IndicatorMatch {
            id: indicator.id.clone(),
            name: indicator.name.clone(),
            source: indicator.source.clone(),
            value: found.value.to_string(),
            stix_type: found.kind.stix_type(found.value),
            address: single.filter(|_| found.kind == Kind::Address),
            confidence: indicator.confidence,
            types: indicator.labels.clone(),
            observed: observed.to_string(),
            field,
        }
    }

    /// ECS's `threat.indicator.confidence` of the feed's STIX confidence (0-100).
    pub fn ecs_confidence(&self) -> &'static str {
        match self.confidence {
            None => "Not Specified",
            Some(0) => "None",
            Some(1..=29) => "Low",
            Some(30..=69) => "Medium",
            Some(_) => "High",
        }
    }
}
