//! NuGet's ordering: SemVer 2.0 precedence with a fourth number (`1.0.0.1`, legacy versions
//! `1.0.0.0 = 1.0.0`) and pre-release labels compared without regard to case.

use std::cmp::Ordering;

/// Orders two NuGet versions.
pub(super) fn compare(a: &str, b: &str) -> Ordering {
    super::semver::compare(&a.to_ascii_lowercase(), &b.to_ascii_lowercase())
}

#[cfg(test)]
mod tests {
    use super::super::{Scheme, fixtures};
    use super::*;

    #[test]
    fn nuget_reads_four_numbers_and_ignores_case() {
        assert_eq!(compare("1.0.0.1", "1.0.0"), Ordering::Greater);
        assert_eq!(compare("1.0.0.0", "1.0.0"), Ordering::Equal);
        assert_eq!(compare("1.0.0-Beta", "1.0.0-beta"), Ordering::Equal);
        assert_eq!(compare("1.0.0-beta", "1.0.0"), Ordering::Less);
    }

    /// osv-scanner's NuGet fixtures (tests/fixtures/versions/PROVENANCE.md).
    #[test]
    fn nuget_agrees_with_osv_fixtures() {
        fixtures::check(Scheme::NuGet, "nuget-versions.txt");
    }
}
