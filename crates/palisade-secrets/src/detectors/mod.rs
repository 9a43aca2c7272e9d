//! Detectors that recognise a secret by its structure, wherever it is and whatever its name,
//! and those that need a name (the generic and weak-default detectors).
//!
//! Each detector returns byte ranges into the text it was given; [`structured`] runs them all
//! and keeps the most specific match where two overlap (a GCP key's JSON over the private key
//! inside it).

mod auth_header;
mod cloud;
mod connection;
mod named;
mod private_key;
mod tokens;

pub use named::{by_name, is_weak_default};
pub use tokens::github_checksum_valid;

use crate::detector::Detector;

/// A match: the detector and the byte range of the secret in the scanned text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Found {
    pub detector: Detector,
    pub start: usize,
    pub end: usize,
}

impl Found {
    pub fn new(detector: Detector, start: usize, end: usize) -> Found {
        Found {
            detector,
            start,
            end,
        }
    }
}

/// Where `needle` first occurs in `haystack` (a byte offset, always a character boundary).
/// The detectors look for fixed markers in every string of every object: a SIMD search
/// without per-call set-up, where `str::find` builds a searcher each time.
pub(crate) fn find_text(haystack: &str, needle: &str) -> Option<usize> {
    memchr::memmem::find(haystack.as_bytes(), needle.as_bytes())
}

/// Words of a text: runs of characters that tokens are made of, with their offsets.
pub(crate) fn words(text: &str) -> impl Iterator<Item = (usize, &str)> {
    let is_token =
        |c: char| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '+' | '/' | '=' | '.');
    let mut rest = text.char_indices().peekable();
    std::iter::from_fn(move || {
        while let Some(&(_, c)) = rest.peek() {
            if is_token(c) {
                break;
            }
            rest.next();
        }
        let (start, _) = *rest.peek()?;
        let mut end = start;
        while let Some(&(i, c)) = rest.peek() {
            if !is_token(c) {
                break;
            }
            end = i + c.len_utf8();
            rest.next();
        }
        // A sentence's full stop or a trailing `=` of an assignment is not part of a token.
        let word = text[start..end].trim_end_matches('.');
        Some((start, word))
    })
}

/// How specific a detector is when two matches overlap: a service-account key file over the
/// private key inside it, a GitHub token over the URL it is the password of.
fn generality(detector: Detector) -> u8 {
    match detector {
        Detector::PrivateKey
        | Detector::UrlCredentials
        | Detector::ConnectionString
        | Detector::SqlPassword
        | Detector::AuthorizationHeader => 1,
        _ => 0,
    }
}

/// Every structural match in `text`, overlaps resolved in favour of the more specific
/// detector and then the longer match.
pub fn structured(text: &str) -> Vec<Found> {
    if text.len() < 8 {
        return Vec::new();
    }
    let mut found = Vec::new();
    private_key::find(text, &mut found);
    cloud::find(text, &mut found);
    tokens::find(text, &mut found);
    connection::find(text, &mut found);
    auth_header::find(text, &mut found);
    found.sort_by_key(|f| {
        (
            generality(f.detector),
            std::cmp::Reverse(f.end - f.start),
            f.start,
        )
    });
    let mut kept: Vec<Found> = Vec::new();
    for f in found {
        if !kept.iter().any(|k| k.start < f.end && f.start < k.end) {
            kept.push(f);
        }
    }
    kept.sort_by_key(|f| f.start);
    kept
}

/// What a detector's `find` matches in `text`: each detector and the matched text.
#[cfg(test)]
pub(crate) fn matches(find: fn(&str, &mut Vec<Found>), text: &str) -> Vec<(Detector, String)> {
    let mut out = Vec::new();
    find(text, &mut out);
    out.into_iter()
        .map(|f| (f.detector, text[f.start..f.end].to_string()))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::find_text;

    proptest::proptest! {
        /// The SIMD search finds what `str::find` finds, in any text (multi-byte characters
        /// included).
        #[test]
        fn find_text_agrees_with_str_find(
            haystack in "[a-c=:/ é€-]{0,40}",
            needle in "[a-c=:/é-]{1,4}",
        ) {
            proptest::prop_assert_eq!(find_text(&haystack, &needle), haystack.find(needle.as_str()));
        }
    }
}
