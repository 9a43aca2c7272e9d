//! The packages an SBOM lists, named as OSV's records name them.

use crate::ecosystem::Ecosystem;
use crate::purl::Purl;

/// One installed package, ready to be matched.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Package {
    pub ecosystem: &'static Ecosystem,
    /// The name OSV's records use, normalized for the ecosystem: a distribution's source
    /// package when the SBOM names it (Debian's, Ubuntu's and Alpine's advisories are per
    /// source package: `openssl` for `libssl3`), else the listed name.
    pub name: String,
    /// The version matched: the source package's when the name is the source's and the SBOM
    /// gives its version, else the listed one.
    pub version: String,
    /// The package as the SBOM lists it, for reports (`libssl3`, `golang.org/x/net`).
    pub listed: String,
    pub listed_version: String,
    /// The distribution's release (`12`, `3.19.1`, `22.04`), for distribution ecosystems.
    pub release: Option<String>,
}

/// A distribution's source package, when the SBOM tool records it apart from the purl.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Source {
    pub name: Option<String>,
    pub version: Option<String>,
}

/// Why a listed package cannot be matched: it is counted and reported as not assessed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NotMatched {
    /// A package URL type (and namespace) of no ecosystem OSV covers with ordered versions
    /// (`pkg:generic`, `pkg:github`, a distribution OSV does not publish).
    UnknownEcosystem(String),
    /// No version is given.
    NoVersion,
    /// A distribution's package whose release the SBOM does not say: which release's
    /// advisories apply cannot be told.
    NoRelease(&'static str),
}

impl std::fmt::Display for NotMatched {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            NotMatched::UnknownEcosystem(kind) => {
                write!(
                    f,
                    "no OSV ecosystem with known version ordering for `{kind}` packages"
                )
            }
            NotMatched::NoVersion => f.write_str("no version is given"),
            NotMatched::NoRelease(ecosystem) => write!(
                f,
                "the SBOM does not say which {ecosystem} release the image is built on (no `distro` qualifier or OS in the SBOM)"
            ),
        }
    }
}

/// Codenames some SBOM tools write in place of a release number.
const CODENAMES: [(&str, &str); 12] = [
    ("buster", "10"),
    ("bullseye", "11"),
    ("bookworm", "12"),
    ("trixie", "13"),
    ("bionic", "18.04"),
    ("focal", "20.04"),
    ("jammy", "22.04"),
    ("mantic", "23.10"),
    ("noble", "24.04"),
    ("oracular", "24.10"),
    ("plucky", "25.04"),
    ("questing", "25.10"),
];

/// The OSV ecosystem of a package URL's type and namespace.
fn ecosystem_of(purl: &Purl) -> Option<&'static Ecosystem> {
    let name = match (
        purl.kind.as_str(),
        purl.namespace.to_ascii_lowercase().as_str(),
    ) {
        ("deb", "debian") => "Debian",
        ("deb", "ubuntu") => "Ubuntu",
        ("apk", "alpine") => "Alpine",
        ("apk", "wolfi") => "Wolfi",
        ("apk", "chainguard") => "Chainguard",
        ("rpm", "redhat" | "rhel") => "Red Hat",
        ("rpm", "rocky" | "rockylinux") => "Rocky Linux",
        ("rpm", "almalinux" | "alma") => "AlmaLinux",
        ("rpm", "suse" | "sles" | "sled") => "SUSE",
        ("rpm", "opensuse" | "opensuse-leap" | "opensuse-tumbleweed") => "openSUSE",
        ("rpm", "mageia") => "Mageia",
        ("rpm", "openeuler") => "openEuler",
        ("rpm", "photon") => "Photon OS",
        ("rpm", "azurelinux" | "mariner" | "cbl-mariner") => "Azure Linux",
        ("npm", _) => "npm",
        ("pypi", _) => "PyPI",
        ("maven", _) => "Maven",
        ("golang", _) => "Go",
        ("cargo", _) => "crates.io",
        ("gem", _) => "RubyGems",
        ("nuget", _) => "NuGet",
        ("hex", _) => "Hex",
        ("pub", _) => "Pub",
        ("composer", _) => "Packagist",
        _ => return None,
    };
    Ecosystem::by_osv_name(name)
}

/// The name OSV gives a package, as written: npm's scope, Maven's group, Go's module path and
/// Packagist's vendor are part of it; a distribution's namespace is not.
fn full_name(ecosystem: &Ecosystem, purl: &Purl) -> String {
    match (ecosystem.osv, purl.namespace.is_empty()) {
        (_, true) => purl.name.clone(),
        ("Maven", false) => format!("{}:{}", purl.namespace, purl.name),
        ("npm" | "Go" | "Packagist", false) => format!("{}/{}", purl.namespace, purl.name),
        _ => purl.name.clone(),
    }
}

/// The release a `distro` qualifier names (`debian-12`, `alpine-3.19.1`, `3.19.1`,
/// `ubuntu-22.04`, `bookworm`), as numbers.
fn release_of(distro: &str) -> Option<String> {
    let lower = distro.to_ascii_lowercase();
    if let Some((_, number)) = CODENAMES.iter().find(|(name, _)| lower.contains(name)) {
        return Some((*number).to_string());
    }
    let start = lower.find(|c: char| c.is_ascii_digit())?;
    let release: String = lower[start..]
        .chars()
        .take_while(|c| c.is_ascii_digit() || *c == '.')
        .collect();
    Some(release.trim_end_matches('.').to_string()).filter(|r| !r.is_empty())
}

impl Package {
    /// The package a purl names, with its source package when the SBOM gives one (and the
    /// `upstream` qualifier otherwise), in the release `os_release` when the purl has no
    /// `distro` qualifier.
    pub fn from_purl(
        purl: &Purl,
        source: &Source,
        os_release: Option<&str>,
    ) -> Result<Package, NotMatched> {
        let ecosystem = ecosystem_of(purl).ok_or_else(|| {
            NotMatched::UnknownEcosystem(if purl.namespace.is_empty() {
                purl.kind.clone()
            } else {
                format!("{}/{}", purl.kind, purl.namespace)
            })
        })?;
        let mut listed_version = purl.version.clone().ok_or(NotMatched::NoVersion)?;
        if let Some(epoch) = purl
            .qualifier("epoch")
            .filter(|_| !listed_version.contains(':'))
        {
            listed_version = format!("{epoch}:{listed_version}");
        }
        if ecosystem.osv == "Go" {
            // Go's toolchain is listed as `stdlib` at `go1.21.0`; OSV writes `1.21.0`.
            if let Some(rest) = listed_version.strip_prefix("go") {
                listed_version = rest.to_string();
            }
        }
        let release = if ecosystem.distribution {
            let release = purl
                .qualifier("distro")
                .and_then(release_of)
                .or_else(|| os_release.and_then(release_of))
                .ok_or(NotMatched::NoRelease(ecosystem.osv))?;
            Some(release)
        } else {
            None
        };
        let upstream = purl.qualifier("upstream").map(|u| match u.split_once('@') {
            Some((name, version)) => (name.to_string(), Some(version.to_string())),
            None => (u.to_string(), None),
        });
        let by_source = matches!(ecosystem.osv, "Debian" | "Ubuntu" | "Alpine");
        let (name, version) = match (by_source, &source.name, upstream) {
            (true, Some(name), _) => (
                name.clone(),
                source
                    .version
                    .clone()
                    .unwrap_or_else(|| listed_version.clone()),
            ),
            (true, None, Some((name, version))) => (
                name,
                version
                    .or_else(|| source.version.clone())
                    .unwrap_or_else(|| listed_version.clone()),
            ),
            _ => (full_name(ecosystem, purl), listed_version.clone()),
        };
        Ok(Package {
            ecosystem,
            name: ecosystem.normalize_name(&name),
            version,
            listed: full_name(ecosystem, purl),
            listed_version,
            release,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn package(purl: &str) -> Result<Package, NotMatched> {
        Package::from_purl(&Purl::parse(purl).unwrap(), &Source::default(), None)
    }

    #[test]
    fn distribution_packages_are_matched_by_source_in_their_release() {
        let p = package(
            "pkg:deb/debian/libssl3@3.0.11-1~deb12u2?arch=amd64&upstream=openssl&distro=debian-12.4",
        )
        .unwrap();
        assert_eq!(
            (p.ecosystem.osv, p.name.as_str(), p.release.as_deref()),
            ("Debian", "openssl", Some("12.4"))
        );
        assert_eq!(p.listed, "libssl3");
        let p = package("pkg:apk/alpine/busybox-binsh@1.36.1-r15?distro=3.19.1&upstream=busybox")
            .unwrap();
        assert_eq!(
            (p.name.as_str(), p.release.as_deref()),
            ("busybox", Some("3.19.1"))
        );
        let p = package("pkg:deb/ubuntu/libc6@2.35-0ubuntu3.6?distro=jammy").unwrap();
        assert_eq!(
            (p.name.as_str(), p.release.as_deref()),
            ("libc6", Some("22.04"))
        );
        assert_eq!(
            package("pkg:deb/debian/libc6@2.36-9"),
            Err(NotMatched::NoRelease("Debian"))
        );
        let p = Package::from_purl(
            &Purl::parse("pkg:deb/debian/libc6@2.36-9+deb12u4").unwrap(),
            &Source {
                name: Some("glibc".into()),
                version: Some("2.36-9+deb12u4".into()),
            },
            Some("12.5"),
        )
        .unwrap();
        assert_eq!(
            (p.name.as_str(), p.release.as_deref()),
            ("glibc", Some("12.5"))
        );
        let p = package("pkg:rpm/redhat/openssl-libs@3.0.7-25.el9_3?epoch=1&distro=redhat-9.3")
            .unwrap();
        assert_eq!(
            (p.name.as_str(), p.version.as_str()),
            ("openssl-libs", "1:3.0.7-25.el9_3")
        );
    }

    #[test]
    fn language_packages_are_named_as_osv_names_them() {
        let name = |purl| package(purl).unwrap().name;
        assert_eq!(name("pkg:npm/%40babel/traverse@7.22.0"), "@babel/traverse");
        assert_eq!(
            name("pkg:maven/org.apache.logging.log4j/log4j-core@2.14.1"),
            "org.apache.logging.log4j:log4j-core"
        );
        assert_eq!(
            name("pkg:golang/golang.org/x/net@v0.17.0"),
            "golang.org/x/net"
        );
        assert_eq!(name("pkg:pypi/Django_Rest@3.0"), "django-rest");
        assert_eq!(name("pkg:nuget/Newtonsoft.Json@12.0.1"), "newtonsoft.json");
        assert_eq!(
            package("pkg:golang/stdlib@go1.21.0").unwrap().version,
            "1.21.0"
        );
        assert_eq!(
            package("pkg:generic/openssl@3.0.0"),
            Err(NotMatched::UnknownEcosystem("generic".into()))
        );
        assert_eq!(package("pkg:npm/left-pad"), Err(NotMatched::NoVersion));
    }
}
