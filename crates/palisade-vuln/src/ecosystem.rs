//! OSV's ecosystems: how each orders versions, how it names packages, and which releases of a
//! distribution a record applies to. The one table here answers all three, for records (by
//! OSV's ecosystem name) and for packages (by package URL type and namespace).

use crate::version::Scheme;

/// One ecosystem as OSV names it.
#[derive(Debug, PartialEq, Eq, Hash)]
pub struct Ecosystem {
    /// OSV's name (`Debian`, `PyPI`, `crates.io`), before any `:release`.
    pub osv: &'static str,
    /// How its versions are ordered; `None` where Palisade does not know the ordering (a
    /// record's explicit version list is still matched).
    pub scheme: Option<Scheme>,
    /// Whether its records are per release of a distribution (`Debian:12`), so a package whose
    /// release is unknown cannot be matched.
    pub distribution: bool,
    /// How it names packages.
    names: Names,
}

#[derive(Debug, PartialEq, Eq, Hash, Clone, Copy)]
enum Names {
    /// As written.
    Exact,
    /// Without regard to case (NuGet, Packagist, Hex).
    AnyCase,
    /// PEP 503: lower case, runs of `-`, `_` and `.` as one `-`.
    Python,
}

macro_rules! ecosystem {
    ($osv:literal, $scheme:expr, $distribution:literal, $names:ident) => {
        Ecosystem {
            osv: $osv,
            scheme: $scheme,
            distribution: $distribution,
            names: Names::$names,
        }
    };
}

/// Every ecosystem Palisade matches. Ecosystems not listed (OSS-Fuzz, Linux, Android, GIT,
/// ...) name no package an SBOM lists, or name it in a way no purl does.
pub static ECOSYSTEMS: &[Ecosystem] = &[
    ecosystem!("Debian", Some(Scheme::Dpkg), true, Exact),
    ecosystem!("Ubuntu", Some(Scheme::Dpkg), true, Exact),
    ecosystem!("Alpine", Some(Scheme::Apk), true, Exact),
    ecosystem!("Wolfi", Some(Scheme::Apk), false, Exact),
    ecosystem!("Chainguard", Some(Scheme::Apk), false, Exact),
    ecosystem!("Red Hat", Some(Scheme::Rpm), true, Exact),
    ecosystem!("Rocky Linux", Some(Scheme::Rpm), true, Exact),
    ecosystem!("AlmaLinux", Some(Scheme::Rpm), true, Exact),
    ecosystem!("SUSE", Some(Scheme::Rpm), true, Exact),
    ecosystem!("openSUSE", Some(Scheme::Rpm), true, Exact),
    ecosystem!("Mageia", Some(Scheme::Rpm), true, Exact),
    ecosystem!("openEuler", Some(Scheme::Rpm), true, Exact),
    ecosystem!("Photon OS", Some(Scheme::Rpm), true, Exact),
    ecosystem!("Azure Linux", Some(Scheme::Rpm), true, Exact),
    ecosystem!("npm", Some(Scheme::Semver), false, Exact),
    ecosystem!("PyPI", Some(Scheme::Pep440), false, Python),
    ecosystem!("Maven", Some(Scheme::Maven), false, Exact),
    ecosystem!("Go", Some(Scheme::Semver), false, Exact),
    ecosystem!("crates.io", Some(Scheme::Semver), false, Exact),
    ecosystem!("RubyGems", Some(Scheme::RubyGems), false, Exact),
    ecosystem!("NuGet", Some(Scheme::NuGet), false, AnyCase),
    ecosystem!("Hex", Some(Scheme::Semver), false, AnyCase),
    ecosystem!("Pub", Some(Scheme::Semver), false, Exact),
    ecosystem!("Packagist", None, false, AnyCase),
];

impl Ecosystem {
    /// The ecosystem OSV names `name` (the part before any `:`).
    pub fn by_osv_name(name: &str) -> Option<&'static Ecosystem> {
        ECOSYSTEMS.iter().find(|e| e.osv == name)
    }

    /// A record's `ecosystem` field split into the ecosystem and the release it names
    /// (`Debian:12` → Debian, `12`; `Ubuntu:Pro:18.04:LTS` → Ubuntu, `Pro:18.04:LTS`).
    pub fn of_record(field: &str) -> Option<(&'static Ecosystem, Option<&str>)> {
        let (name, release) = match field.split_once(':') {
            Some((name, release)) => (name, Some(release).filter(|r| !r.is_empty())),
            None => (field, None),
        };
        Ecosystem::by_osv_name(name).map(|e| (e, release))
    }

    /// `name` as this ecosystem compares package names.
    pub fn normalize_name(&self, name: &str) -> String {
        match self.names {
            Names::Exact => name.to_string(),
            Names::AnyCase => name.to_lowercase(),
            Names::Python => {
                let mut out = String::with_capacity(name.len());
                let mut separator = false;
                for c in name.chars() {
                    if matches!(c, '-' | '_' | '.') {
                        separator = true;
                        continue;
                    }
                    if separator && !out.is_empty() {
                        out.push('-');
                    }
                    separator = false;
                    out.extend(c.to_lowercase());
                }
                out
            }
        }
    }
}

/// The numbers a release is written with (`v3.19` → 3, 19; `Linux Enterprise Server 15 SP5`
/// → 15, 5; `22.04:LTS` → 22, 4), as numbers without leading zeros.
fn release_numbers(release: &str) -> Vec<&str> {
    release
        .split(|c: char| !c.is_ascii_digit())
        .filter(|part| !part.is_empty())
        .map(|part| {
            let trimmed = part.trim_start_matches('0');
            if trimmed.is_empty() { "0" } else { trimmed }
        })
        .collect()
}

/// Whether a record for release `record` applies to a package of release `package`: the
/// record's release numbers begin the package's (`Debian:12` applies to Debian 12.4,
/// `Alpine:v3.19` to 3.19.1, `Ubuntu:22.04:LTS` to 22.04). A record without numbers in its
/// release applies to none.
pub fn release_applies(record: &str, package: &str) -> bool {
    let record = release_numbers(record);
    let package = release_numbers(package);
    !record.is_empty() && package.starts_with(&record)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn records_name_their_ecosystem_and_release() {
        let (e, r) = Ecosystem::of_record("Debian:12").unwrap();
        assert_eq!((e.osv, r), ("Debian", Some("12")));
        let (e, r) = Ecosystem::of_record("Red Hat:enterprise_linux:9::appstream").unwrap();
        assert_eq!(
            (e.osv, r),
            ("Red Hat", Some("enterprise_linux:9::appstream"))
        );
        assert_eq!(Ecosystem::of_record("PyPI").unwrap().1, None);
        assert!(Ecosystem::of_record("OSS-Fuzz").is_none());
        assert!(
            Ecosystem::of_record("debian:12").is_none(),
            "OSV's names are exact"
        );
    }

    #[test]
    fn releases_apply_by_their_leading_numbers() {
        assert!(release_applies("12", "12.4"));
        assert!(!release_applies("12", "11"));
        assert!(!release_applies("1", "12"));
        assert!(release_applies("v3.19", "3.19.1"));
        assert!(!release_applies("v3.19", "3.1"));
        assert!(release_applies("22.04:LTS", "22.04"));
        assert!(release_applies("Pro:18.04:LTS", "18.04"));
        assert!(release_applies("enterprise_linux:9::appstream", "9.3"));
        assert!(release_applies("Linux Enterprise Server 15 SP5", "15.5"));
        assert!(!release_applies("Linux Enterprise Server 15 SP5", "15.4"));
        assert!(!release_applies("sid", "13"));
    }

    #[test]
    fn names_compare_as_the_ecosystem_compares_them() {
        let pypi = Ecosystem::by_osv_name("PyPI").unwrap();
        assert_eq!(
            pypi.normalize_name("Django_REST.framework"),
            "django-rest-framework"
        );
        assert_eq!(pypi.normalize_name("zope..interface"), "zope-interface");
        let nuget = Ecosystem::by_osv_name("NuGet").unwrap();
        assert_eq!(nuget.normalize_name("Newtonsoft.Json"), "newtonsoft.json");
        let debian = Ecosystem::by_osv_name("Debian").unwrap();
        assert_eq!(debian.normalize_name("OpenSSL"), "OpenSSL");
    }
}
