//! Version ordering as each ecosystem's own tools order versions. OSV ranges are written in
//! the ecosystem's versions (`ECOSYSTEM` ranges) or in SemVer (`SEMVER` ranges), so whether
//! an installed version is inside a range depends on comparing it the way the package
//! manager would: dpkg for Debian and Ubuntu, rpm for the Red Hat family and SUSE, apk for
//! Alpine and Wolfi, PEP 440 for PyPI, Maven's `ComparableVersion`, RubyGems' `Gem::Version`,
//! NuGet's and SemVer 2.0's precedence for the rest.
//!
//! Every comparison is total: a version the scheme does not define is still ordered (as the
//! tool that reads it would order it, or after a documented fallback), never a panic. Numbers
//! of any length are compared as numbers without parsing them into machine integers.

use std::cmp::Ordering;

mod apk;
mod dpkg;
mod maven;
mod nuget;
mod pep440;
mod rpm;
mod rubygems;
mod semver;

/// A way of ordering versions: one per package manager.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Scheme {
    /// `dpkg --compare-versions`: Debian, Ubuntu.
    Dpkg,
    /// `rpmvercmp` with epoch and release: Red Hat, Rocky Linux, AlmaLinux, SUSE, openSUSE.
    Rpm,
    /// `apk version -t`: Alpine, Wolfi, Chainguard.
    Apk,
    /// SemVer 2.0 precedence, read leniently (a `v` prefix, fewer or more than three numbers):
    /// npm, crates.io, Go, Hex, Pub, and every `SEMVER` range.
    Semver,
    /// PEP 440: PyPI.
    Pep440,
    /// Maven's `ComparableVersion`.
    Maven,
    /// RubyGems' `Gem::Version`.
    RubyGems,
    /// NuGet's SemVer 2.0 with a fourth number and case-insensitive labels.
    NuGet,
}

impl Scheme {
    /// Every scheme.
    pub const ALL: [Scheme; 8] = [
        Scheme::Dpkg,
        Scheme::Rpm,
        Scheme::Apk,
        Scheme::Semver,
        Scheme::Pep440,
        Scheme::Maven,
        Scheme::RubyGems,
        Scheme::NuGet,
    ];

    /// Orders `a` against `b` as the scheme's package manager does.
    pub fn compare(self, a: &str, b: &str) -> Ordering {
        match self {
            Scheme::Dpkg => dpkg::compare(a, b),
            Scheme::Rpm => rpm::compare(a, b),
            Scheme::Apk => apk::compare(a, b),
            Scheme::Semver => semver::compare(a, b),
            Scheme::Pep440 => pep440::compare(a, b),
            Scheme::Maven => maven::compare(a, b),
            Scheme::RubyGems => rubygems::compare(a, b),
            Scheme::NuGet => nuget::compare(a, b),
        }
    }

    /// The scheme's name, as the documentation and diagnostics write it.
    pub fn name(self) -> &'static str {
        match self {
            Scheme::Dpkg => "dpkg",
            Scheme::Rpm => "rpm",
            Scheme::Apk => "apk",
            Scheme::Semver => "SemVer",
            Scheme::Pep440 => "PEP 440",
            Scheme::Maven => "Maven",
            Scheme::RubyGems => "RubyGems",
            Scheme::NuGet => "NuGet",
        }
    }
}

/// Two runs of ASCII digits compared as the numbers they write, of any length: leading zeros
/// ignored, then the longer is larger, then digit by digit.
pub(crate) fn cmp_digits(a: &str, b: &str) -> Ordering {
    let a = a.trim_start_matches('0');
    let b = b.trim_start_matches('0');
    a.len().cmp(&b.len()).then_with(|| a.cmp(b))
}

/// The epoch before the first `:` when it is a number (`0` when there is none, or it is
/// empty), and the rest; a `:` after anything else is part of the version (dpkg, rpm).
pub(crate) fn split_epoch(version: &str) -> (&str, &str) {
    match version.split_once(':') {
        Some((epoch, rest)) if epoch.bytes().all(|b| b.is_ascii_digit()) => {
            (if epoch.is_empty() { "0" } else { epoch }, rest)
        }
        _ => ("0", version),
    }
}

/// The longest run of ASCII digits at the start of `text`, and the rest.
pub(crate) fn leading_digits(text: &str) -> (&str, &str) {
    let end = text
        .bytes()
        .position(|b| !b.is_ascii_digit())
        .unwrap_or(text.len());
    text.split_at(end)
}

#[cfg(test)]
pub(crate) mod fixtures {
    //! The `A <|=|> B` files of `tests/fixtures/versions` (see its PROVENANCE.md): each line is
    //! checked both ways.
    use super::Scheme;
    use std::cmp::Ordering;

    pub(crate) fn check(scheme: Scheme, file: &str) {
        let path = format!(
            "{}/tests/fixtures/versions/{file}",
            env!("CARGO_MANIFEST_DIR")
        );
        let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
        let mut failures = Vec::new();
        let mut cases = 0;
        for (number, line) in text.lines().enumerate() {
            if line.is_empty() || line.starts_with("# ") || line.starts_with("// ") {
                continue;
            }
            let parts: Vec<&str> = line.split(' ').collect();
            let [a, op, b] = parts[..] else {
                panic!("{file}:{}: not `A OP B`: {line}", number + 1);
            };
            let want = match op {
                "<" => Ordering::Less,
                "=" => Ordering::Equal,
                ">" => Ordering::Greater,
                _ => panic!("{file}:{}: unknown comparison {op}", number + 1),
            };
            cases += 1;
            let forward = scheme.compare(a, b);
            let backward = scheme.compare(b, a);
            if forward != want || backward != want.reverse() {
                failures.push(format!(
                    "{file}:{}: {a} {op} {b}, but compared {forward:?} / {backward:?}",
                    number + 1
                ));
            }
        }
        assert!(cases > 0, "{file} holds no case");
        assert!(
            failures.is_empty(),
            "{} of {cases} cases failed:\n{}",
            failures.len(),
            failures.join("\n")
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn digits_compare_as_numbers_of_any_length() {
        assert_eq!(cmp_digits("010", "9"), Ordering::Greater);
        assert_eq!(cmp_digits("0", ""), Ordering::Equal);
        assert_eq!(
            cmp_digits(
                "123456789012345678901234567890",
                "123456789012345678901234567891"
            ),
            Ordering::Less
        );
    }

    proptest! {
        /// Every scheme is an order on any text (characters of several bytes too): reflexive
        /// and antisymmetric, never a panic.
        #[test]
        fn every_scheme_orders_any_text(a in "[0-9a-zA-Z.~^+_:!é\u{feff}-]{0,16}", b in "[0-9a-zA-Z.~^+_:!é\u{feff}-]{0,16}") {
            for scheme in Scheme::ALL {
                prop_assert_eq!(scheme.compare(&a, &a), Ordering::Equal, "{} {}", scheme.name(), a);
                prop_assert_eq!(scheme.compare(&a, &b), scheme.compare(&b, &a).reverse(), "{} {} {}", scheme.name(), a, b);
            }
        }

        /// Versions made of the parts real versions have are ordered transitively.
        #[test]
        fn every_scheme_is_transitive(
            a in "[0-9]{1,2}(\\.[0-9]{1,2}){0,2}(-[a-z0-9]{1,3})?",
            b in "[0-9]{1,2}(\\.[0-9]{1,2}){0,2}(-[a-z0-9]{1,3})?",
            c in "[0-9]{1,2}(\\.[0-9]{1,2}){0,2}(-[a-z0-9]{1,3})?",
        ) {
            for scheme in Scheme::ALL {
                let ab = scheme.compare(&a, &b);
                let bc = scheme.compare(&b, &c);
                if ab == bc && ab != Ordering::Equal {
                    prop_assert_eq!(scheme.compare(&a, &c), ab, "{} {} {} {}", scheme.name(), a, b, c);
                }
            }
        }
    }
}
