//! The Red Hat family's and SUSE's version ordering: rpm's `rpmvercmp` on the epoch, version
//! and release of `[epoch:]version[-release]`.

use super::{cmp_digits, split_epoch};
use std::cmp::Ordering;

/// The epoch before the first `:` when it is a number (`0` without one; a `:` after anything
/// else is part of the version), the release from the first `-` (rpm's version field holds
/// none), with its `-` kept so that a version with a release is after the same version
/// without one.
fn parts(version: &str) -> (&str, &str, &str) {
    let (epoch, rest) = split_epoch(version);
    match rest.find('-') {
        Some(at) => (epoch, &rest[..at], &rest[at..]),
        None => (epoch, rest, ""),
    }
}

/// Orders two rpm versions.
pub(super) fn compare(a: &str, b: &str) -> Ordering {
    let (a_epoch, a_version, a_release) = parts(a);
    let (b_epoch, b_version, b_release) = parts(b);
    rpmvercmp(a_epoch, b_epoch)
        .then_with(|| rpmvercmp(a_version, b_version))
        .then_with(|| rpmvercmp(a_release, b_release))
}

fn is_separator(c: u8) -> bool {
    !c.is_ascii_alphanumeric() && c != b'~' && c != b'^'
}

fn run(text: &[u8], digits: bool) -> (&[u8], &[u8]) {
    let end = text
        .iter()
        .position(|c| {
            if digits {
                !c.is_ascii_digit()
            } else {
                !c.is_ascii_alphabetic()
            }
        })
        .unwrap_or(text.len());
    text.split_at(end)
}

/// rpm's segment comparison: separators skipped, `~` before everything (even the end), `^`
/// after the end but before anything else, digit runs as numbers and newer than letters.
fn rpmvercmp(a: &str, b: &str) -> Ordering {
    if a.is_empty() != b.is_empty() {
        return if a.is_empty() {
            Ordering::Less
        } else {
            Ordering::Greater
        };
    }
    let (mut a, mut b) = (a.as_bytes(), b.as_bytes());
    loop {
        while a.first().is_some_and(|&c| is_separator(c)) {
            a = &a[1..];
        }
        while b.first().is_some_and(|&c| is_separator(c)) {
            b = &b[1..];
        }
        match (a.first(), b.first()) {
            (Some(b'~'), Some(b'~')) | (Some(b'^'), Some(b'^')) => {
                a = &a[1..];
                b = &b[1..];
                continue;
            }
            (Some(b'~'), _) => return Ordering::Less,
            (_, Some(b'~')) => return Ordering::Greater,
            (Some(b'^'), None) => return Ordering::Greater,
            (Some(b'^'), _) => return Ordering::Less,
            (None, Some(b'^')) => return Ordering::Less,
            (_, Some(b'^')) => return Ordering::Greater,
            (None, _) | (_, None) => break,
            (Some(first), Some(_)) => {
                let digits = first.is_ascii_digit();
                let (a_run, a_rest) = run(a, digits);
                let (b_run, b_rest) = run(b, digits);
                if b_run.is_empty() {
                    return if digits {
                        Ordering::Greater
                    } else {
                        Ordering::Less
                    };
                }
                let order = if digits {
                    cmp_digits(
                        std::str::from_utf8(a_run).unwrap_or_default(),
                        std::str::from_utf8(b_run).unwrap_or_default(),
                    )
                } else {
                    a_run.cmp(b_run)
                };
                if order != Ordering::Equal {
                    return order;
                }
                a = a_rest;
                b = b_rest;
            }
        }
    }
    a.len().cmp(&b.len())
}

#[cfg(test)]
mod tests {
    use super::super::{Scheme, fixtures};
    use super::*;

    #[test]
    fn rpm_orders_releases_tildes_and_carets() {
        assert_eq!(compare("1.0~rc1", "1.0"), Ordering::Less);
        assert_eq!(compare("1.0^git1", "1.0"), Ordering::Greater);
        assert_eq!(compare("1.0^git1", "1.0.1"), Ordering::Less);
        assert_eq!(
            compare("0:3.10.0-229.el7", "0:3.10.0-229.1.2.el7"),
            Ordering::Less
        );
        assert_eq!(compare("1:1.0-1.el9", "2.0-1.el9"), Ordering::Greater);
    }

    /// osv-scalibr's Red Hat fixtures (tests/fixtures/versions/PROVENANCE.md).
    #[test]
    fn rpm_agrees_with_osv_fixtures() {
        fixtures::check(Scheme::Rpm, "redhat-versions.txt");
    }
}
