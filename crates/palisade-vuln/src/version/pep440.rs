//! PyPI's ordering, PEP 440 as the `packaging` library reads it: epoch, release (trailing
//! zeros ignored), pre-release (`a`, `b`, `rc` and their spellings), post-release, development
//! release, local label. A version PEP 440 does not define (`0.9-doduo`) is a legacy
//! version, ordered before every valid one and among others by setuptools' legacy key, as
//! `packaging` did before it dropped them.

use super::cmp_digits;
use std::cmp::Ordering;

#[derive(Debug, Clone, PartialEq, Eq)]
struct Version {
    epoch: String,
    release: Vec<String>,
    /// Pre-release letter rank (`a` 0, `b` 1, `rc` 2) and number.
    pre: Option<(u8, String)>,
    post: Option<String>,
    dev: Option<String>,
    local: Option<Vec<String>>,
}

/// A text reader for the grammar of PEP 440's appendix.
struct Reader<'a> {
    rest: &'a str,
}

impl<'a> Reader<'a> {
    fn digits(&mut self) -> Option<&'a str> {
        let (digits, rest) = super::leading_digits(self.rest);
        if digits.is_empty() {
            return None;
        }
        self.rest = rest;
        Some(digits)
    }

    fn separator(&mut self) -> bool {
        match self.rest.as_bytes().first() {
            Some(b'-' | b'_' | b'.') => {
                self.rest = &self.rest[1..];
                true
            }
            _ => false,
        }
    }

    /// One of `words` (longest first where one is a prefix of another), after an optional
    /// separator, with an optional number after another optional separator. Nothing is read
    /// unless a word is found.
    fn labelled(&mut self, words: &[(&str, u8)]) -> Option<(u8, String)> {
        let start = self.rest;
        self.separator();
        let Some(&(word, rank)) = words.iter().find(|(w, _)| self.rest.starts_with(w)) else {
            self.rest = start;
            return None;
        };
        self.rest = &self.rest[word.len()..];
        let before_number = self.rest;
        self.separator();
        let number = match self.digits() {
            Some(n) => n.to_string(),
            None => {
                self.rest = before_number;
                "0".to_string()
            }
        };
        Some((rank, number))
    }
}

const PRE: [(&str, u8); 8] = [
    ("alpha", 0),
    ("a", 0),
    ("beta", 1),
    ("b", 1),
    ("preview", 2),
    ("pre", 2),
    ("c", 2),
    ("rc", 2),
];
const POST: [(&str, u8); 3] = [("post", 0), ("rev", 0), ("r", 0)];
const DEV: [(&str, u8); 1] = [("dev", 0)];

fn parse(text: &str) -> Option<Version> {
    let lowered = text.trim().to_ascii_lowercase();
    let text = lowered.strip_prefix('v').unwrap_or(&lowered);
    let (public, local) = match text.split_once('+') {
        Some((public, local)) => (public, Some(local)),
        None => (text, None),
    };
    let mut reader = Reader { rest: public };
    let first = reader.digits()?;
    let (epoch, mut release) = if let Some(rest) = reader.rest.strip_prefix('!') {
        reader.rest = rest;
        (first.to_string(), vec![reader.digits()?.to_string()])
    } else {
        ("0".to_string(), vec![first.to_string()])
    };
    while let Some(rest) = reader.rest.strip_prefix('.') {
        let mut next = Reader { rest };
        let Some(digits) = next.digits() else { break };
        release.push(digits.to_string());
        reader.rest = next.rest;
    }
    let pre = reader.labelled(&PRE);
    let post = match reader.rest.strip_prefix('-') {
        Some(rest) if rest.starts_with(|c: char| c.is_ascii_digit()) => {
            reader.rest = rest;
            reader.digits().map(str::to_string)
        }
        _ => reader.labelled(&POST).map(|(_, n)| n),
    };
    let dev = reader.labelled(&DEV).map(|(_, n)| n);
    if !reader.rest.is_empty() {
        return None;
    }
    let local = match local {
        None => None,
        Some(local) => {
            let parts: Vec<String> = local.split(['-', '_', '.']).map(str::to_string).collect();
            if parts
                .iter()
                .any(|p| p.is_empty() || !p.bytes().all(|b| b.is_ascii_alphanumeric()))
            {
                return None;
            }
            Some(parts)
        }
    };
    Some(Version {
        epoch,
        release,
        pre,
        post,
        dev,
        local,
    })
}

/// `packaging`'s key: pre-release absent sorts after any (but a bare dev release before),
/// post absent before any, dev absent after any, local absent before any.
fn compare_valid(a: &Version, b: &Version) -> Ordering {
    cmp_digits(&a.epoch, &b.epoch)
        .then_with(|| compare_release(&a.release, &b.release))
        .then_with(|| pre_key(a).cmp(&pre_key(b)))
        .then_with(|| compare_optional(&a.post, &b.post, Ordering::Less))
        .then_with(|| compare_optional(&a.dev, &b.dev, Ordering::Greater))
        .then_with(|| compare_local(a.local.as_deref(), b.local.as_deref()))
}

fn compare_release(a: &[String], b: &[String]) -> Ordering {
    let trim = |r: &[String]| -> usize {
        r.iter()
            .rposition(|n| n.bytes().any(|b| b != b'0'))
            .map_or(0, |i| i + 1)
    };
    let (a, b) = (&a[..trim(a)], &b[..trim(b)]);
    for (x, y) in a.iter().zip(b) {
        let order = cmp_digits(x, y);
        if order != Ordering::Equal {
            return order;
        }
    }
    a.len().cmp(&b.len())
}

/// The pre-release's place: a bare development release first, then pre-releases by letter and
/// number, then the release itself.
#[derive(Debug, PartialEq, Eq, PartialOrd, Ord)]
enum PreKey<'a> {
    DevOnly,
    Pre(u8, Number<'a>),
    Release,
}

#[derive(Debug, PartialEq, Eq)]
struct Number<'a>(&'a str);

impl PartialOrd for Number<'_> {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Number<'_> {
    fn cmp(&self, other: &Self) -> Ordering {
        cmp_digits(self.0, other.0)
    }
}

fn pre_key(v: &Version) -> PreKey<'_> {
    match (&v.pre, &v.post, &v.dev) {
        (None, None, Some(_)) => PreKey::DevOnly,
        (None, _, _) => PreKey::Release,
        (Some((rank, n)), _, _) => PreKey::Pre(*rank, Number(n)),
    }
}

/// Two optional numbers, `absent` saying where a missing one sorts.
fn compare_optional(a: &Option<String>, b: &Option<String>, absent: Ordering) -> Ordering {
    match (a, b) {
        (None, None) => Ordering::Equal,
        (None, Some(_)) => absent,
        (Some(_), None) => absent.reverse(),
        (Some(x), Some(y)) => cmp_digits(x, y),
    }
}

/// Local labels: none first; then part by part, numbers after words, numbers as numbers,
/// words in order, and a shorter equal list first.
fn compare_local(a: Option<&[String]>, b: Option<&[String]>) -> Ordering {
    let (a, b) = match (a, b) {
        (None, None) => return Ordering::Equal,
        (None, Some(_)) => return Ordering::Less,
        (Some(_), None) => return Ordering::Greater,
        (Some(a), Some(b)) => (a, b),
    };
    for (x, y) in a.iter().zip(b) {
        let x_number = x.bytes().all(|c| c.is_ascii_digit());
        let y_number = y.bytes().all(|c| c.is_ascii_digit());
        let order = match (x_number, y_number) {
            (true, true) => cmp_digits(x, y),
            (true, false) => Ordering::Greater,
            (false, true) => Ordering::Less,
            (false, false) => x.cmp(y),
        };
        if order != Ordering::Equal {
            return order;
        }
    }
    a.len().cmp(&b.len())
}

/// setuptools' legacy key: runs of digits, letters, `.` and `-` (and anything between them),
/// with `pre`/`preview`/`rc` read as `c`, `dev` as `@` and `-` as `final-`, numbers padded,
/// words marked with `*`, and zeros and `final-` markers before a pre-release dropped.
fn legacy_key(text: &str) -> Vec<String> {
    let lowered = text.to_ascii_lowercase();
    let mut pieces = Vec::new();
    let bytes = lowered.as_bytes();
    let mut i = 0;
    let mut other = String::new();
    while i < bytes.len() {
        let c = bytes[i];
        let end = if c.is_ascii_digit() {
            bytes[i..]
                .iter()
                .position(|b| !b.is_ascii_digit())
                .map_or(bytes.len(), |p| i + p)
        } else if c.is_ascii_lowercase() {
            bytes[i..]
                .iter()
                .position(|b| !b.is_ascii_lowercase())
                .map_or(bytes.len(), |p| i + p)
        } else if c == b'.' || c == b'-' {
            i + 1
        } else {
            other.push(char::from(c));
            i += 1;
            continue;
        };
        if !other.is_empty() {
            pieces.push(std::mem::take(&mut other));
        }
        pieces.push(lowered[i..end].to_string());
        i = end;
    }
    if !other.is_empty() {
        pieces.push(other);
    }
    let mut parts: Vec<String> = Vec::new();
    let marked = pieces.into_iter().filter_map(|piece| {
        let piece = match piece.as_str() {
            "pre" | "preview" | "rc" => "c".to_string(),
            "-" => "final-".to_string(),
            "dev" => "@".to_string(),
            _ => piece,
        };
        if piece.is_empty() || piece == "." {
            None
        } else if piece.starts_with(|c: char| c.is_ascii_digit()) {
            Some(format!("{piece:0>8}"))
        } else {
            Some(format!("*{piece}"))
        }
    });
    for part in marked.chain(std::iter::once("*final".to_string())) {
        if part.starts_with('*') {
            if part.as_str() < "*final" {
                while parts.last().is_some_and(|p| p == "*final-") {
                    parts.pop();
                }
            }
            while parts.last().is_some_and(|p| p == "00000000") {
                parts.pop();
            }
        }
        parts.push(part);
    }
    parts
}

/// Orders two PyPI versions.
pub(super) fn compare(a: &str, b: &str) -> Ordering {
    match (parse(a), parse(b)) {
        (Some(x), Some(y)) => compare_valid(&x, &y),
        (None, Some(_)) => Ordering::Less,
        (Some(_), None) => Ordering::Greater,
        (None, None) => legacy_key(a).cmp(&legacy_key(b)),
    }
}

#[cfg(test)]
mod tests {
    use super::super::{Scheme, fixtures};
    use super::*;

    #[test]
    fn pep440_orders_the_specifications_example() {
        // PEP 440's "summary of permitted suffixes and relative ordering".
        let ordered = [
            "1.dev0",
            "1.0.dev456",
            "1.0a1",
            "1.0a2.dev456",
            "1.0a12.dev456",
            "1.0a12",
            "1.0b1.dev456",
            "1.0b2",
            "1.0b2.post345.dev456",
            "1.0b2.post345",
            "1.0rc1.dev456",
            "1.0rc1",
            "1.0",
            "1.0+abc.5",
            "1.0+abc.7",
            "1.0+5",
            "1.0.post456.dev34",
            "1.0.post456",
            "1.0.15",
            "1.1.dev1",
        ];
        for pair in ordered.windows(2) {
            assert_eq!(compare(pair[0], pair[1]), Ordering::Less, "{pair:?}");
        }
        assert_eq!(compare("1.0", "1.0.0"), Ordering::Equal);
        assert_eq!(compare("1.0-alpha.1", "1.0a1"), Ordering::Equal);
    }

    /// osv-scanner's PyPI fixtures (tests/fixtures/versions/PROVENANCE.md).
    #[test]
    fn pep440_agrees_with_osv_fixtures() {
        fixtures::check(Scheme::Pep440, "pypi-versions.txt");
    }

    /// Pairs ordered by `packaging.version.Version` (tests/fixtures/versions/generate-pypi.py).
    #[test]
    fn pep440_agrees_with_packaging() {
        fixtures::check(Scheme::Pep440, "pypi-versions-generated.txt");
    }
}
