//! What the threat-intelligence detections share: how an indicator is carried in an alert's
//! evidence.

use palisade_intel::Match;

use crate::detection::Hit;
use crate::indicator::IndicatorMatch;

/// The hit with the indicator as evidence (its id, name, file, the value that matched, and
/// the feed's confidence and types when it gives them) and whole, with what the event showed
/// (`observed`) and the ECS field of the alert that holds it.
pub fn with_indicator(mut hit: Hit, found: &Match, observed: &str, field: &'static str) -> Hit {
    hit.indicator = Some(Box::new(IndicatorMatch::of(found, observed, field)));
    let indicator = found.indicator;
    let types = (!indicator.labels.is_empty()).then(|| indicator.labels.join(","));
    hit.with("indicator_id", indicator.id.as_str())
        .with_some("indicator_name", indicator.name.as_deref())
        .with("indicator_source", indicator.source.as_str())
        .with("indicator_value", found.value)
        .with_some(
            "indicator_confidence",
            indicator.confidence.map(|c| c.to_string()),
        )
        .with_some("indicator_types", types)
}
