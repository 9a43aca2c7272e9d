//! Known vulnerabilities of the packages in container images, found offline.
//!
//! - [`version`]: each ecosystem's version ordering (dpkg, rpm, apk, PEP 440, Maven,
//!   RubyGems, NuGet, SemVer), tested against the ecosystems' own tools.
//! - [`ecosystem`]: OSV's ecosystems, their names and releases; [`purl`]: package URLs;
//!   [`package`]: an SBOM's packages named as OSV names them.
//! - [`osv`]: OSV records and whether one covers an installed package; [`cvss`]: base scores;
//!   [`database`]: records on disk (directories, OSV's `all.zip` exports), indexed.
//! - [`sbom`]: CycloneDX, SPDX, Syft, Trivy and Grype documents read for an image's packages.
//! - [`assess`]: packages against the database, one VULN001 finding ([`rule`]) per
//!   vulnerability and package, on the image, with the workloads that run it.

pub mod assess;
pub mod cvss;
pub mod database;
pub mod ecosystem;
pub mod files;
pub mod osv;
pub mod package;
pub mod purl;
pub mod rule;
pub mod sbom;
pub mod version;
