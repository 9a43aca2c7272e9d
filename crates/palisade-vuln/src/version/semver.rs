//! SemVer 2.0 precedence, read leniently as OSV's `SEMVER` ranges and the npm, crates.io, Go,
//! Hex and Pub ecosystems need: a leading `v` is ignored (Go's `v1.2.3`), build metadata after
//! `+` is ignored, any number of numeric components is read with missing ones as 0, and text
//! that directly follows the numbers (`1.0rc1`) is read as a pre-release.

use super::{cmp_digits, leading_digits};
use std::cmp::Ordering;

/// The numeric components and the pre-release of a version.
fn parts(version: &str) -> (Vec<&str>, Option<&str>) {
    let version = version.trim();
    let version = version
        .strip_prefix(['v', 'V'])
        .filter(|rest| rest.starts_with(|c: char| c.is_ascii_digit()))
        .unwrap_or(version);
    let version = version.split_once('+').map_or(version, |(core, _)| core);
    let mut numbers = Vec::new();
    let mut rest = version;
    loop {
        let (digits, after) = leading_digits(rest);
        if digits.is_empty() {
            break;
        }
        numbers.push(digits);
        rest = after;
        match rest.strip_prefix('.') {
            Some(after) if after.starts_with(|c: char| c.is_ascii_digit()) => rest = after,
            _ => break,
        }
    }
    let pre = match rest {
        "" => None,
        _ => Some(rest.strip_prefix('-').unwrap_or(rest)),
    };
    (numbers, pre)
}

/// Orders two versions by SemVer 2.0 precedence.
pub(super) fn compare(a: &str, b: &str) -> Ordering {
    let (a_numbers, a_pre) = parts(a);
    let (b_numbers, b_pre) = parts(b);
    let length = a_numbers.len().max(b_numbers.len());
    for i in 0..length {
        let order = cmp_digits(
            a_numbers.get(i).copied().unwrap_or("0"),
            b_numbers.get(i).copied().unwrap_or("0"),
        );
        if order != Ordering::Equal {
            return order;
        }
    }
    match (a_pre, b_pre) {
        (None, None) => Ordering::Equal,
        (None, Some(_)) => Ordering::Greater,
        (Some(_), None) => Ordering::Less,
        (Some(a), Some(b)) => compare_pre_release(a, b),
    }
}

/// Pre-release identifiers compared one by one: numbers as numbers and before words, words
/// in ASCII order, and a shorter list of equal identifiers first.
pub(super) fn compare_pre_release(a: &str, b: &str) -> Ordering {
    let mut a = a.split('.');
    let mut b = b.split('.');
    loop {
        match (a.next(), b.next()) {
            (None, None) => return Ordering::Equal,
            (None, Some(_)) => return Ordering::Less,
            (Some(_), None) => return Ordering::Greater,
            (Some(x), Some(y)) => {
                let x_number = !x.is_empty() && x.bytes().all(|c| c.is_ascii_digit());
                let y_number = !y.is_empty() && y.bytes().all(|c| c.is_ascii_digit());
                let order = match (x_number, y_number) {
                    (true, true) => cmp_digits(x, y),
                    (true, false) => Ordering::Less,
                    (false, true) => Ordering::Greater,
                    (false, false) => x.cmp(y),
                };
                if order != Ordering::Equal {
                    return order;
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::{Scheme, fixtures};
    use super::*;

    #[test]
    fn semver_follows_the_specifications_example() {
        // SemVer 2.0, item 11's example, in order.
        let ordered = [
            "1.0.0-alpha",
            "1.0.0-alpha.1",
            "1.0.0-alpha.beta",
            "1.0.0-beta",
            "1.0.0-beta.2",
            "1.0.0-beta.11",
            "1.0.0-rc.1",
            "1.0.0",
        ];
        for pair in ordered.windows(2) {
            assert_eq!(compare(pair[0], pair[1]), Ordering::Less, "{pair:?}");
        }
        assert_eq!(compare("v1.2.3", "1.2.3"), Ordering::Equal);
        assert_eq!(compare("1.2.3+build.5", "1.2.3"), Ordering::Equal);
        assert_eq!(compare("1.2", "1.2.0"), Ordering::Equal);
        assert_eq!(compare("0.0.0-2021", "1.0.0"), Ordering::Less);
    }

    /// Pairs ordered by npm's own `semver` package (tests/fixtures/versions/generate-npm.sh).
    #[test]
    fn semver_agrees_with_npm() {
        fixtures::check(Scheme::Semver, "npm-versions-generated.txt");
    }
}
