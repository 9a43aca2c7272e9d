//! RubyGems' ordering, as `Gem::Version#<=>`: the version (with `-` read as `.pre.`) split
//! into runs of digits and of letters, trailing zeros dropped from the release part and from
//! the pre-release part, then compared segment by segment, a word before a number.

use super::cmp_digits;
use std::cmp::Ordering;

#[derive(Debug, Clone, PartialEq, Eq)]
enum Segment {
    Number(String),
    Word(String),
}

fn segments(version: &str) -> Vec<Segment> {
    let version = version.trim().replace('-', ".pre.");
    let mut segments = Vec::new();
    let mut current = String::new();
    let mut digits = false;
    let flush = |current: &mut String, digits: bool, segments: &mut Vec<Segment>| {
        if !current.is_empty() {
            let text = std::mem::take(current);
            segments.push(if digits {
                Segment::Number(text)
            } else {
                Segment::Word(text)
            });
        }
    };
    for c in version.chars() {
        if c.is_ascii_digit() || c.is_ascii_alphabetic() {
            if !current.is_empty() && c.is_ascii_digit() != digits {
                flush(&mut current, digits, &mut segments);
            }
            digits = c.is_ascii_digit();
            current.push(c);
        } else {
            flush(&mut current, digits, &mut segments);
        }
    }
    flush(&mut current, digits, &mut segments);
    if segments.is_empty() {
        segments.push(Segment::Number("0".into()));
    }
    canonical(segments)
}

fn is_zero(segment: &Segment) -> bool {
    matches!(segment, Segment::Number(n) if n.bytes().all(|b| b == b'0'))
}

/// `canonical_segments`: trailing zeros dropped from the numbers before the first word and
/// from the rest.
fn canonical(segments: Vec<Segment>) -> Vec<Segment> {
    let split = segments
        .iter()
        .position(|s| matches!(s, Segment::Word(_)))
        .unwrap_or(segments.len());
    let (release, pre) = segments.split_at(split);
    let trim = |part: &[Segment]| {
        let end = part
            .iter()
            .rposition(|s| !is_zero(s))
            .map_or(0, |last| last + 1);
        part[..end].to_vec()
    };
    let mut canonical = trim(release);
    canonical.extend(trim(pre));
    canonical
}

/// Orders two RubyGems versions.
pub(super) fn compare(a: &str, b: &str) -> Ordering {
    let a = segments(a);
    let b = segments(b);
    let zero = Segment::Number("0".into());
    for i in 0..a.len().max(b.len()) {
        let x = a.get(i).unwrap_or(&zero);
        let y = b.get(i).unwrap_or(&zero);
        let order = match (x, y) {
            (Segment::Number(x), Segment::Number(y)) => cmp_digits(x, y),
            (Segment::Word(x), Segment::Word(y)) => x.cmp(y),
            (Segment::Word(_), Segment::Number(_)) => Ordering::Less,
            (Segment::Number(_), Segment::Word(_)) => Ordering::Greater,
        };
        if order != Ordering::Equal {
            return order;
        }
    }
    Ordering::Equal
}

#[cfg(test)]
mod tests {
    use super::super::{Scheme, fixtures};
    use super::*;

    #[test]
    fn rubygems_orders_prereleases_before_releases() {
        assert_eq!(compare("1.0.a", "1.0"), Ordering::Less);
        assert_eq!(compare("1.0.0", "1"), Ordering::Equal);
        assert_eq!(compare("1.0-1", "1.0"), Ordering::Less);
        assert_eq!(compare("2.6.0.rc1", "2.6.0"), Ordering::Less);
        assert_eq!(compare("1.10", "1.9"), Ordering::Greater);
    }

    /// osv-scanner's RubyGems fixtures, generated with Ruby's `Gem::Version`
    /// (tests/fixtures/versions/PROVENANCE.md).
    #[test]
    fn rubygems_agrees_with_gem_version() {
        fixtures::check(Scheme::RubyGems, "rubygems-versions.txt");
    }
}
