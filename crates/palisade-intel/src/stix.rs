//! STIX 2.1 indicators: a bundle (`"type": "bundle"`), a TAXII 2.1 envelope (`{"objects":
//! [...]}`), a list of objects, or one indicator. Objects other than indicators are skipped;
//! an indicator's pattern is read by [`crate::pattern`]; revoked indicators are dropped, and of
//! several versions of one indicator (same `id`) the last `modified` is kept.

use std::collections::HashMap;

use serde_json::Value;

use crate::pattern::{Observable, PatternError, observables};
use crate::{Indicator, Problem, Skipped};

/// Reads indicators from STIX JSON `text`; an error when it is not JSON or holds no list of
/// objects. Indicators it cannot read are problems naming their id.
pub fn read(
    source: &str,
    text: &str,
    out: &mut Vec<(Indicator, Vec<Observable>)>,
    skipped: &mut Skipped,
) -> Result<Vec<Problem>, String> {
    let value: Value = serde_json::from_str(text).map_err(|e| format!("not JSON: {e}"))?;
    let objects: Vec<&Value> = match &value {
        Value::Array(items) => items.iter().collect(),
        Value::Object(map) => match map.get("objects") {
            Some(Value::Array(items)) => items.iter().collect(),
            Some(_) => return Err("`objects` is not a list".into()),
            None if map.get("type").and_then(Value::as_str) == Some("indicator") => vec![&value],
            None => {
                return Err(
                    "neither a STIX bundle, a TAXII envelope nor an indicator (no `objects`)"
                        .into(),
                );
            }
        },
        _ => return Err("not a STIX bundle: the document is not an object or a list".into()),
    };
    let mut problems = Vec::new();
    // The last version of each indicator: its index in `latest`, and its `modified`.
    let mut latest: Vec<(&Value, String)> = Vec::new();
    let mut by_id: HashMap<&str, usize> = HashMap::new();
    for object in objects {
        if object.get("type").and_then(Value::as_str) != Some("indicator") {
            skipped.other_objects += 1;
            continue;
        }
        let Some(id) = object.get("id").and_then(Value::as_str) else {
            problems.push(Problem::new(
                source.to_string(),
                "an indicator without an `id`",
            ));
            continue;
        };
        let modified = text_of(object, "modified").unwrap_or_default().to_string();
        match by_id.get(id) {
            // RFC 3339 times of one precision and zone compare as text.
            Some(&i) if latest[i].1 >= modified => skipped.older_versions += 1,
            Some(&i) => {
                latest[i] = (object, modified);
                skipped.older_versions += 1;
            }
            None => {
                by_id.insert(id, latest.len());
                latest.push((object, modified));
            }
        }
    }
    for (object, _) in latest {
        let id = text_of(object, "id").unwrap_or_default();
        if object.get("revoked").and_then(Value::as_bool) == Some(true) {
            skipped.revoked += 1;
            continue;
        }
        match indicator(source, object) {
            Ok(read) => out.push(read),
            Err(IndicatorError::Unsupported(why)) => {
                skipped.unsupported += 1;
                problems.push(Problem::new(format!("{source}: indicator {id}"), why));
            }
            Err(IndicatorError::Invalid(why)) => {
                problems.push(Problem::new(format!("{source}: indicator {id}"), why));
            }
        }
    }
    Ok(problems)
}

enum IndicatorError {
    Unsupported(String),
    Invalid(String),
}

fn text_of<'v>(object: &'v Value, key: &str) -> Option<&'v str> {
    object.get(key).and_then(Value::as_str)
}

fn indicator(source: &str, object: &Value) -> Result<(Indicator, Vec<Observable>), IndicatorError> {
    let pattern_type = text_of(object, "pattern_type").unwrap_or("stix");
    if pattern_type != "stix" {
        return Err(IndicatorError::Unsupported(format!(
            "pattern_type `{pattern_type}` (only `stix` patterns are matched)"
        )));
    }
    let Some(pattern) = text_of(object, "pattern") else {
        return Err(IndicatorError::Invalid("no `pattern`".into()));
    };
    let observed = observables(pattern).map_err(|e| match e {
        PatternError::Unsupported(why) => {
            IndicatorError::Unsupported(format!("pattern `{}`: {why}", shorten(pattern)))
        }
        syntax @ PatternError::Syntax { .. } => {
            IndicatorError::Invalid(format!("pattern `{}`: {syntax}", shorten(pattern)))
        }
    })?;
    let time = |key: &str| -> Result<Option<i64>, IndicatorError> {
        match text_of(object, key) {
            None => Ok(None),
            Some(text) => palisade_core::date::rfc3339_unix_micros(text)
                .map(Some)
                .ok_or_else(|| IndicatorError::Invalid(format!("`{key}` `{text}` is not a time"))),
        }
    };
    let labels = ["indicator_types", "labels"]
        .iter()
        .filter_map(|key| object.get(*key).and_then(Value::as_array))
        .flatten()
        .filter_map(Value::as_str)
        .map(String::from)
        .collect();
    let indicator = Indicator {
        id: text_of(object, "id").unwrap_or_default().to_string(),
        name: text_of(object, "name").map(String::from),
        source: source.to_string(),
        confidence: object
            .get("confidence")
            .and_then(Value::as_u64)
            .and_then(|c| u8::try_from(c).ok())
            .filter(|c| *c <= 100),
        labels,
        valid_from: time("valid_from")?,
        valid_until: time("valid_until")?,
    };
    Ok((indicator, observed))
}

/// A pattern as quoted in a problem: its first 120 characters.
fn shorten(pattern: &str) -> String {
    match pattern.char_indices().nth(120) {
        Some((end, _)) => format!("{}...", &pattern[..end]),
        None => pattern.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const BUNDLE: &str = r#"{"type": "bundle", "id": "bundle--1", "objects": [
      {"type": "identity", "id": "identity--1", "name": "CTI team"},
      {"type": "indicator", "spec_version": "2.1", "id": "indicator--a", "created": "2026-01-01T00:00:00.000Z",
       "modified": "2026-01-01T00:00:00.000Z", "name": "C2 server", "pattern_type": "stix",
       "pattern": "[ipv4-addr:value = '198.51.100.7']", "valid_from": "2026-01-01T00:00:00Z",
       "indicator_types": ["malicious-activity"], "confidence": 85},
      {"type": "indicator", "spec_version": "2.1", "id": "indicator--a", "created": "2026-01-01T00:00:00.000Z",
       "modified": "2026-02-01T00:00:00.000Z", "name": "C2 server (moved)", "pattern_type": "stix",
       "pattern": "[ipv4-addr:value = '198.51.100.8']", "valid_from": "2026-01-01T00:00:00Z",
       "valid_until": "2027-01-01T00:00:00Z"},
      {"type": "indicator", "id": "indicator--b", "pattern_type": "stix", "revoked": true,
       "pattern": "[domain-name:value = 'old.example']", "valid_from": "2026-01-01T00:00:00Z"},
      {"type": "indicator", "id": "indicator--c", "pattern_type": "yara", "pattern": "rule x {}",
       "valid_from": "2026-01-01T00:00:00Z"},
      {"type": "indicator", "id": "indicator--d", "pattern_type": "stix",
       "pattern": "[file:hashes.'SHA-256' = 'aa']", "valid_from": "2026-01-01T00:00:00Z"},
      {"type": "indicator", "id": "indicator--e", "pattern_type": "stix",
       "pattern": "[ipv4-addr:value = 'x']", "valid_from": "2026-01-01T00:00:00Z"}
    ]}"#;

    #[test]
    fn reads_the_last_version_of_each_indicator_it_can_match() {
        let mut out = Vec::new();
        let mut skipped = Skipped::default();
        let problems = read("feed.json", BUNDLE, &mut out, &mut skipped).unwrap();
        assert_eq!(out.len(), 1);
        let (indicator, observed) = &out[0];
        assert_eq!(indicator.name.as_deref(), Some("C2 server (moved)"));
        assert_eq!(
            observed,
            &[Observable::Address(
                palisade_net::addr::AddrRange::parse_cidr("198.51.100.8").unwrap()
            )]
        );
        assert_eq!(
            indicator.valid_until,
            palisade_core::date::rfc3339_unix_micros("2027-01-01T00:00:00Z")
        );
        assert_eq!(
            skipped,
            Skipped {
                other_objects: 1,
                older_versions: 1,
                revoked: 1,
                unsupported: 2,
            }
        );
        let text: Vec<String> = problems.iter().map(ToString::to_string).collect();
        assert_eq!(text.len(), 3, "{text:?}");
        assert!(
            text[0].starts_with("feed.json: indicator indicator--c: pattern_type `yara`"),
            "{text:?}"
        );
        assert!(text[2].contains("indicator--e"), "{text:?}");
    }

    #[test]
    fn a_document_that_is_no_bundle_is_an_error() {
        let mut skipped = Skipped::default();
        for text in ["[", "{\"type\": \"identity\"}", "3", "{\"objects\": 3}"] {
            assert!(
                read("x.json", text, &mut Vec::new(), &mut skipped).is_err(),
                "{text}"
            );
        }
        let one = r#"{"type": "indicator", "id": "indicator--z", "pattern": "[ipv4-addr:value = '192.0.2.1']"}"#;
        let mut out = Vec::new();
        assert!(
            read("x.json", one, &mut out, &mut skipped)
                .unwrap()
                .is_empty()
        );
        assert_eq!(out.len(), 1);
    }
}
