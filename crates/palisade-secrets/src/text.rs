//! Scanning one string value: the structural detectors over the whole text, the named
//! detectors over the value's own name and over every `name = value` line or command-line
//! flag inside it, and the same again inside base64 or gzip encodings.

use std::io::Read as _;

use base64::Engine as _;

use crate::detector::Detector;
use crate::detectors::{Found, by_name, structured};
use crate::pairs::{Pair, command_words, config_lines, shell_words};

/// A secret found in a string value. `Debug` shows the secret's length, never the secret.
#[derive(Clone, PartialEq, Eq)]
pub struct Hit {
    pub detector: Detector,
    /// The secret itself: kept in memory for redaction and tags, never printed.
    pub secret: String,
    /// 1-based line inside a multi-line value.
    pub line: Option<usize>,
    /// The name inside the value (a configuration key, a flag) the secret was under.
    pub name: Option<String>,
    /// How the value was encoded when the secret was found inside it (`base64`, `gzip`).
    pub encoding: Option<&'static str>,
}

impl std::fmt::Debug for Hit {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Hit")
            .field("detector", &self.detector)
            .field("secret", &format_args!("<{} bytes>", self.secret.len()))
            .field("line", &self.line)
            .field("name", &self.name)
            .field("encoding", &self.encoding)
            .finish()
    }
}

/// Longest value scanned; longer ones are cut (a bound on time for hostile input).
const MAX_TEXT: usize = 4 << 20;
/// Most bytes a gzip value may inflate to.
const MAX_INFLATED: u64 = 8 << 20;

/// Secrets in `text`, a value stored under `name` (a variable, key or field name).
pub fn scan_value(name: Option<&str>, text: &str) -> Vec<Hit> {
    let mut hits = Vec::new();
    scan_into(name, text, None, 0, &mut hits);
    hits
}

fn push(
    hits: &mut Vec<Hit>,
    found: &Found,
    text: &str,
    line: Option<usize>,
    name: Option<&str>,
    encoding: Option<&'static str>,
) {
    let secret = &text[found.start..found.end];
    if hits
        .iter()
        .any(|h| h.secret == secret || h.secret.contains(secret))
    {
        return;
    }
    hits.push(Hit {
        detector: found.detector,
        secret: secret.to_string(),
        line: line.or_else(|| text.contains('\n').then(|| line_of(text, found.start))),
        name: name.map(str::to_string),
        encoding,
    });
}

fn line_of(text: &str, at: usize) -> usize {
    text[..at].bytes().filter(|b| *b == b'\n').count() + 1
}

fn scan_into(
    name: Option<&str>,
    text: &str,
    encoding: Option<&'static str>,
    depth: usize,
    hits: &mut Vec<Hit>,
) {
    let text = cut(text);
    let before = hits.len();
    for found in structured(text) {
        push(hits, &found, text, None, None, encoding);
    }
    let covered = |hits: &Vec<Hit>, value: &str| {
        hits[before..]
            .iter()
            .any(|h| value.contains(&h.secret) || h.secret.contains(value))
    };
    if let Some(name) = name
        && !text.contains('\n')
        && let Some(found) = by_name(name, text)
        && !covered(hits, &text[found.start..found.end])
    {
        push(hits, &found, text, None, None, encoding);
    }
    if text.contains('\n') || (name.is_none() && text.contains(['=', ':'])) {
        for pair in config_lines(text) {
            named_pair(&pair, text, encoding, hits, before);
        }
    }
    let trimmed = text.trim_start();
    if (trimmed.starts_with('{') || trimmed.starts_with('['))
        && let Ok(json) = serde_json::from_str::<serde_json::Value>(text)
    {
        json_pairs(&json, None, text, encoding, hits, before, 0);
    }
    if depth == 0 && (text.contains(' ') || text.starts_with('-')) && !text.contains('\n') {
        scan_shell(text, encoding, hits, before);
    }
    if depth < 2 && hits.len() == before {
        decode_and_scan(name, text, depth, hits);
    }
}

fn named_pair(
    pair: &Pair<'_>,
    text: &str,
    encoding: Option<&'static str>,
    hits: &mut Vec<Hit>,
    before: usize,
) {
    // `client-key-data: <base64 of a key>`: what the encoded value holds says more than its
    // name.
    let decoded = decoded_structured(pair.value);
    let found = match decoded {
        Some(detector) => Some(Found::new(detector, 0, pair.value.len())),
        None => by_name(pair.name, pair.value),
    };
    // A placeholder inside a configuration file is usually filled in by tooling when the file
    // is installed (`requirepass replace-default-auth`, `"__SERVICEACCOUNT_TOKEN__"`), not by
    // a person editing the manifest: only whole values are reported as placeholders.
    let Some(found) = found.filter(|f| f.detector != Detector::Placeholder) else {
        return;
    };
    let encoding = if decoded.is_some() {
        Some("base64")
    } else {
        encoding
    };
    let secret = &pair.value[found.start..found.end];
    if hits[before..]
        .iter()
        .any(|h| h.secret.contains(secret) || secret.contains(&h.secret))
    {
        return;
    }
    let at = pair.start + found.start;
    let found = Found::new(found.detector, at, at + secret.len());
    let line = Some(pair.line).filter(|_| text.contains('\n'));
    push(hits, &found, text, line, Some(pair.name), encoding);
}

/// The string values of a JSON document under their keys (`{"auths": {"r": {"auth": "..."}}}`).
fn json_pairs(
    value: &serde_json::Value,
    key: Option<&str>,
    text: &str,
    encoding: Option<&'static str>,
    hits: &mut Vec<Hit>,
    before: usize,
    depth: usize,
) {
    if depth > 32 {
        return;
    }
    match value {
        serde_json::Value::Object(map) => {
            for (k, v) in map {
                json_pairs(v, Some(k), text, encoding, hits, before, depth + 1);
            }
        }
        serde_json::Value::Array(items) => {
            for v in items {
                json_pairs(v, key, text, encoding, hits, before, depth + 1);
            }
        }
        serde_json::Value::String(s) => {
            let Some(key) = key else { return };
            let Some(found) = by_name(key, s).filter(|f| f.detector != Detector::Placeholder)
            else {
                return;
            };
            let secret = &s[found.start..found.end];
            if hits[before..]
                .iter()
                .any(|h| h.secret.contains(secret) || secret.contains(&h.secret))
            {
                return;
            }
            let line = text
                .find(secret)
                .filter(|_| text.contains('\n'))
                .map(|at| line_of(text, at));
            hits.push(Hit {
                detector: found.detector,
                secret: secret.to_string(),
                line,
                name: Some(key.to_string()),
                encoding,
            });
        }
        _ => {}
    }
}

/// `PGPASSWORD=x psql ...`, `app --token abc` inside a one-line script.
fn scan_shell(text: &str, encoding: Option<&'static str>, hits: &mut Vec<Hit>, before: usize) {
    let words = shell_words(text);
    let plain: Vec<&str> = words.iter().map(|(_, w)| *w).collect();
    for (index, pair) in command_words(&plain) {
        let word_at = words[index].0;
        let pair = Pair {
            start: word_at + pair.start,
            ..pair
        };
        named_pair(&pair, text, encoding, hits, before);
    }
}

/// Secrets in the words of `args` or `command`: each word scanned, and the flags read as
/// name/value pairs across words. Returns `(word index, hit)`.
pub fn scan_command(words: &[&str]) -> Vec<(usize, Hit)> {
    let mut out: Vec<(usize, Hit)> = Vec::new();
    for (i, word) in words.iter().enumerate() {
        for hit in scan_value(None, word) {
            out.push((i, hit));
        }
    }
    for (index, pair) in command_words(words) {
        let word = words[index];
        let Some(found) = by_name(pair.name, pair.value) else {
            continue;
        };
        let secret = &pair.value[found.start..found.end];
        if out
            .iter()
            .any(|(_, h)| h.secret.contains(secret) || secret.contains(&h.secret))
            || !word.contains(secret)
        {
            continue;
        }
        out.push((
            index,
            Hit {
                detector: found.detector,
                secret: secret.to_string(),
                line: None,
                name: Some(pair.name.to_string()),
                encoding: None,
            },
        ));
    }
    out
}

fn cut(text: &str) -> &str {
    if text.len() <= MAX_TEXT {
        return text;
    }
    let mut end = MAX_TEXT;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    &text[..end]
}

/// The structural detector that recognises the decoded form of a base64 value, if any.
fn decoded_structured(value: &str) -> Option<Detector> {
    let v = value.trim();
    if v.len() < 64
        || !v
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'+' | b'/' | b'='))
    {
        return None;
    }
    let bytes = base64::engine::general_purpose::STANDARD.decode(v).ok()?;
    let (text, _) = decode_bytes(&bytes)?;
    structured(&text).first().map(|f| f.detector)
}

/// A value that is base64 (of text, or of gzip): scanned again decoded. Only whole values
/// that are one base64 word are tried, so prose is never decoded by accident.
fn decode_and_scan(name: Option<&str>, text: &str, depth: usize, hits: &mut Vec<Hit>) {
    let t = text.trim();
    if t.len() < 24
        || !t
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'+' | b'/' | b'=' | b'\n' | b'\r'))
    {
        return;
    }
    let compact: String = t.chars().filter(|c| !c.is_whitespace()).collect();
    let Ok(bytes) = base64::engine::general_purpose::STANDARD.decode(&compact) else {
        return;
    };
    let before = hits.len();
    if let Some(decoded) = decode_bytes(&bytes) {
        scan_into(name, &decoded.0, Some(decoded.1), depth + 1, hits);
    }
    // A decoded secret is reported as the encoded value: that is what a reader of the
    // manifest sees and what must never be printed.
    for hit in &mut hits[before..] {
        hit.secret = t.to_string();
    }
}

/// Bytes as text: UTF-8 as it is, gzip inflated (bounded).
pub fn decode_bytes(bytes: &[u8]) -> Option<(String, &'static str)> {
    if bytes.starts_with(&[0x1f, 0x8b]) {
        let mut out = String::new();
        flate2::read::GzDecoder::new(bytes)
            .take(MAX_INFLATED)
            .read_to_string(&mut out)
            .ok()?;
        return Some((out, "gzip"));
    }
    let text = std::str::from_utf8(bytes).ok()?;
    let printable = text
        .chars()
        .filter(|c| !c.is_control() || c.is_whitespace())
        .count();
    (printable * 10 >= text.chars().count() * 9).then(|| (text.to_string(), "base64"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn detectors(name: Option<&str>, text: &str) -> Vec<(Detector, Option<usize>)> {
        scan_value(name, text)
            .into_iter()
            .map(|h| (h.detector, h.line))
            .collect()
    }

    #[test]
    fn a_hit_debugged_shows_no_secret() {
        let hits = scan_value(Some("app.conf"), "REDIS_PASSWORD=Zq81kLm0\n");
        assert_eq!(hits.len(), 1);
        let debug = format!("{hits:?}");
        assert!(
            !debug.contains("Zq81kLm0") && debug.contains("<8 bytes>"),
            "{debug}"
        );
    }

    #[test]
    fn configuration_files_are_read_line_by_line() {
        let file = "port = 6379\nREDIS_PASSWORD=Zq81kLm0\npassword: hunter2\nurl = postgres://u:Pw0rd99@db/x\n";
        assert_eq!(
            detectors(Some("app.conf"), file),
            [
                (Detector::UrlCredentials, Some(4)),
                (Detector::Generic, Some(2)),
                (Detector::Generic, Some(3))
            ]
        );
    }

    #[test]
    fn encoded_values_are_decoded() {
        let b64 = base64::engine::general_purpose::STANDARD.encode("DB_PASSWORD=Zq81kLm0\n");
        let hits = scan_value(Some("cfg"), &b64);
        assert_eq!(hits.len(), 1);
        assert_eq!(hits[0].encoding, Some("base64"));
        assert_eq!(hits[0].secret, b64, "the encoded form is the needle");
    }

    #[test]
    fn command_words_pair_flags() {
        let words = ["--db-password=Zq81kLm0", "--token", "Tk9x2mQp", "--verbose"];
        let hits = scan_command(&words);
        assert_eq!(
            hits.iter()
                .map(|(i, h)| (*i, h.detector))
                .collect::<Vec<_>>(),
            [(0, Detector::Generic), (2, Detector::Generic)]
        );
    }
}
