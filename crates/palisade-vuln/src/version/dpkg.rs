//! Debian's version ordering, as `dpkg --compare-versions` orders `[epoch:]upstream[-revision]`.

use super::{cmp_digits, split_epoch};
use std::cmp::Ordering;

/// The three parts dpkg reads: the epoch before the first `:` when it is a number (else the
/// whole text is the version, as dpkg treats a malformed epoch: never ahead of a real one),
/// the revision after the last `-`.
fn parts(version: &str) -> (&str, &str, &str) {
    let (epoch, rest) = split_epoch(version.trim());
    match rest.rsplit_once('-') {
        Some((upstream, revision)) => (epoch, upstream, revision),
        None => (epoch, rest, ""),
    }
}

/// Orders two Debian versions.
pub(super) fn compare(a: &str, b: &str) -> Ordering {
    let (a_epoch, a_upstream, a_revision) = parts(a);
    let (b_epoch, b_upstream, b_revision) = parts(b);
    cmp_digits(a_epoch, b_epoch)
        .then_with(|| compare_part(a_upstream, b_upstream))
        .then_with(|| compare_part(a_revision, b_revision))
}

/// Where a character sorts in the non-digit runs: `~` before everything (even the end),
/// the end next, then letters, then every other character.
fn weight(c: Option<u8>) -> i32 {
    match c {
        None => 0,
        Some(b'~') => -1,
        Some(c) if c.is_ascii_digit() => 0,
        Some(c) if c.is_ascii_alphabetic() => i32::from(c),
        Some(c) => i32::from(c) + 256,
    }
}

/// dpkg's `verrevcmp`: alternating runs of non-digits (by [`weight`]) and digits (as numbers).
fn compare_part(a: &str, b: &str) -> Ordering {
    let (mut a, mut b) = (a.as_bytes(), b.as_bytes());
    while !a.is_empty() || !b.is_empty() {
        loop {
            let a_more = a.first().is_some_and(|c| !c.is_ascii_digit());
            let b_more = b.first().is_some_and(|c| !c.is_ascii_digit());
            if !a_more && !b_more {
                break;
            }
            let order = weight(a.first().copied()).cmp(&weight(b.first().copied()));
            if order != Ordering::Equal {
                return order;
            }
            a = a.get(1..).unwrap_or_default();
            b = b.get(1..).unwrap_or_default();
        }
        let (a_digits, a_rest) = a.split_at(a.iter().take_while(|c| c.is_ascii_digit()).count());
        let (b_digits, b_rest) = b.split_at(b.iter().take_while(|c| c.is_ascii_digit()).count());
        // Runs of ASCII digits: always UTF-8.
        let order = cmp_digits(
            std::str::from_utf8(a_digits).unwrap_or_default(),
            std::str::from_utf8(b_digits).unwrap_or_default(),
        );
        if order != Ordering::Equal {
            return order;
        }
        a = a_rest;
        b = b_rest;
    }
    Ordering::Equal
}

#[cfg(test)]
mod tests {
    use super::super::{Scheme, fixtures};
    use super::*;

    #[test]
    fn debian_orders_tildes_epochs_and_revisions() {
        assert_eq!(compare("1.0~rc1", "1.0"), Ordering::Less);
        assert_eq!(compare("1.0", "1.0+deb12u1"), Ordering::Less);
        assert_eq!(compare("1:1.0", "2.0"), Ordering::Greater);
        assert_eq!(compare("3.0.11-1~deb12u2", "3.0.11-1"), Ordering::Less);
        assert_eq!(compare("1.0-1", "1.0-0"), Ordering::Greater);
        assert_eq!(compare("1.0", "1.0-0"), Ordering::Equal);
        assert_eq!(compare("2.36-9+deb12u4", "2.36-9+deb12u10"), Ordering::Less);
        // Characters of several bytes are ordered by their bytes, after letters.
        assert_eq!(compare("1.0é", "1.0z"), Ordering::Greater);
        assert_eq!(compare("1é2", "1é10"), Ordering::Less);
    }

    /// Pairs ordered by the real `dpkg --compare-versions` (tests/fixtures/versions/
    /// generate-dpkg.sh).
    #[test]
    fn debian_agrees_with_dpkg() {
        fixtures::check(Scheme::Dpkg, "dpkg-versions-generated.txt");
    }
}
