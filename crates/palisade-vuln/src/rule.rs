//! VULN001: the one rule whose findings the vulnerability assessment makes. It is not in the
//! built-in registry (nothing in a manifest fails it); a run that reads SBOMs adds it to the
//! report's rules, so every output format shows its documentation.

use palisade_core::control::{Control, Framework};
use palisade_core::{RuleMeta, Severity};
use std::borrow::Cow;

const CONTROLS: &[Control] = &[
    Control::new(Framework::NsaCisa12, "pod-security/secure-images"),
    Control::new(Framework::NsaCisa12, "upgrading/application-security"),
    Control::new(Framework::MitreAttack, "T1190"),
];

/// The rule's metadata, shared by its findings.
pub static KNOWN_VULNERABILITY: RuleMeta = RuleMeta {
    id: Cow::Borrowed("VULN001"),
    slug: Cow::Borrowed("known-vulnerability"),
    title: Cow::Borrowed("Image holds a package with a known vulnerability"),
    severity: Severity::High,
    controls: Cow::Borrowed(CONTROLS),
    remediation: Cow::Borrowed(
        "Rebuild the image on the fixed package version (update the base image, or the dependency) and roll the workloads that run it.",
    ),
    docs: Cow::Borrowed(DOCS),
};

const DOCS: &str = "## What it checks
The packages an image holds, as its SBOM (CycloneDX, SPDX or Syft JSON) or a scanner's report
(Trivy or Grype JSON) lists them, against an OSV database on disk (`--osv-db`): each package
whose installed version an advisory's ranges cover, in that ecosystem's own version ordering
(dpkg for Debian and Ubuntu, apk for Alpine, rpm for the Red Hat family and SUSE, PEP 440,
Maven, npm's SemVer, RubyGems, NuGet, Go). Distribution packages are matched by their source
package in the image's release (`Debian:12`, `Alpine:v3.19`), as the distributions publish
their advisories.

One finding per vulnerability and package: advisories that name the same CVE (a GitHub
advisory and a PyPI one) are one finding. The finding names the fixed version when there is
one, and the workloads that run the image.

## Severity
The advisory's own: its CVSS 3 (or 2) base score, else the word its database gives (GitHub's,
Ubuntu's priority), else the rating a record of the same CVE in the database gives. An
advisory with no rating (most of Debian's and Alpine's) is `medium`, and says so. A flaw
exploited over the network (`AV:N`) in an image that a workload exposed to the internet runs
is raised one level, and the finding names the exposure. Such a flaw is raised one level again
when a compromise of a workload that runs the image reaches cluster-admin or a node in the
attack graph (the same chains `palisade rbac paths` gives): the finding names the workload
and how many steps it takes. Any other flaw in such an image says so too, without a raise.

## What is not assessed
A package of an ecosystem the database holds no record of, a distribution package whose
release the SBOM does not name, or a range in an ordering Palisade does not know (Packagist):
these are counted in a warning for each SBOM, never reported as clean.

## Why it matters
A known, published flaw in a running image is the first thing an attacker tries (MITRE ATT&CK
T1190); the NSA/CISA hardening guide asks for images scanned and patched.
";
