//! The assessment: every package of every SBOM against the database, one finding per
//! vulnerability and package, on the image, naming the workloads that run it.

use crate::cvss;
use crate::database::Database;
use crate::osv::{Rating, Record, Verdict};
use crate::package::Package;
use crate::rule::KNOWN_VULNERABILITY;
use crate::sbom::Bom;
use palisade_core::{Diagnostic, DiagnosticLevel, Evidence, Finding, Location, Severity, Subject};
use palisade_k8s::image::ImageRef;
use std::collections::BTreeMap;

/// One SBOM, with the file it was read from.
#[derive(Debug, Clone)]
pub struct Sbom {
    pub path: String,
    pub bom: Bom,
}

/// A workload's use of an image, from the manifests or the cluster.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImageUse {
    /// The image as the container spec writes it.
    pub reference: String,
    /// The workload (`Deployment shop/web`).
    pub workload: String,
    /// How the internet reaches the workload, when it does (the Service or Ingress).
    pub exposure: Option<String>,
    /// What a compromise of the workload reaches in the attack graph, when that is
    /// cluster-admin or a node (`cluster-admin in 4 steps`).
    pub leads_to: Option<String>,
    /// The caller's index of the workload (in its list of workloads), given back in
    /// [`Assessment::exploitable`].
    pub workload_index: Option<usize>,
}

/// A workload whose image has a flaw of high severity or more exploited over the network.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Exploitable {
    /// [`ImageUse::workload_index`] of the workload.
    pub workload_index: usize,
    /// `CVE-2023-44487 in libnghttp2-14 1.52.0-1 (critical, exploitable over the network)`.
    pub evidence: String,
}

/// What an assessment found.
#[derive(Debug, Default)]
pub struct Assessment {
    pub findings: Vec<Finding>,
    pub diagnostics: Vec<Diagnostic>,
    /// Packages read from the SBOMs, and those matched against the database.
    pub packages: usize,
    pub assessed: usize,
    /// The workloads whose images have a flaw of high severity or more (as the advisory
    /// rates it) exploited over the network, worst first per workload.
    pub exploitable: Vec<Exploitable>,
}

/// One vulnerability of one package, as its advisories describe it.
struct Hit<'a> {
    records: Vec<&'a Record>,
    fixed: Option<String>,
    rating: Option<Rating>,
}

/// The id a reader knows a vulnerability by: its CVE when an advisory names one.
fn canonical_id(record: &Record) -> &str {
    std::iter::once(&record.id)
        .chain(&record.aliases)
        .find(|id| id.starts_with("CVE-"))
        .unwrap_or(&record.id)
}

/// The highest rating of `ratings`.
fn highest(ratings: impl IntoIterator<Item = Rating>) -> Option<Rating> {
    ratings.into_iter().max_by_key(|r| r.severity)
}

/// Assesses every SBOM against `database`, with the workloads' uses of images.
pub fn assess(database: &Database, sboms: &[Sbom], uses: &[ImageUse]) -> Assessment {
    let mut assessment = Assessment::default();
    for sbom in sboms {
        assess_one(database, sbom, uses, &mut assessment);
    }
    if let Some(unjudged) = images_without_sbom(sboms, uses) {
        assessment.diagnostics.push(unjudged);
    }
    assessment
}

/// Whether `bom` describes the image `use_` runs: one of the document's references (a tag or
/// a digest) is the one the workload names, as a runtime would pull it.
fn describes(bom: &Bom, use_: &ImageUse) -> bool {
    let runs = ImageRef::parse(&use_.reference);
    bom.image
        .iter()
        .any(|name| runs.runs_declared(&ImageRef::parse(name)))
}

/// The images workloads run that no SBOM describes: not judged, and said so.
fn images_without_sbom(sboms: &[Sbom], uses: &[ImageUse]) -> Option<Diagnostic> {
    let mut unjudged: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    for use_ in uses {
        if !sboms.iter().any(|sbom| describes(&sbom.bom, use_)) {
            unjudged
                .entry(use_.reference.as_str())
                .or_default()
                .push(use_.workload.as_str());
        }
    }
    if unjudged.is_empty() {
        return None;
    }
    const SHOWN: usize = 10;
    let mut listed: Vec<String> = unjudged
        .iter()
        .take(SHOWN)
        .map(|(image, workloads)| format!("{image} ({})", workloads.join(", ")))
        .collect();
    if unjudged.len() > SHOWN {
        listed.push(format!("and {} more", unjudged.len() - SHOWN));
    }
    Some(Diagnostic::new(
        DiagnosticLevel::Warning,
        "image-not-assessed",
        format!(
            "{} image{} that workloads run {} no SBOM among --sbom, so {} not judged: {}",
            unjudged.len(),
            if unjudged.len() == 1 { "" } else { "s" },
            if unjudged.len() == 1 { "has" } else { "have" },
            if unjudged.len() == 1 {
                "it is"
            } else {
                "they are"
            },
            listed.join("; ")
        ),
    ))
}

fn assess_one(database: &Database, sbom: &Sbom, uses: &[ImageUse], out: &mut Assessment) {
    let bom = &sbom.bom;
    let running: Vec<&ImageUse> = uses.iter().filter(|u| describes(bom, u)).collect();
    let subject = running
        .first()
        .map(|u| u.reference.clone())
        .or_else(|| bom.image.first().cloned())
        .unwrap_or_else(|| sbom.path.clone());
    let mut not_assessed: BTreeMap<String, usize> = BTreeMap::new();
    let mut hits: BTreeMap<(String, String, String), Hit<'_>> = BTreeMap::new();
    for listed in &bom.packages {
        out.packages += 1;
        let package =
            match Package::from_purl(&listed.purl, &listed.source, bom.os_release.as_deref()) {
                Ok(package) => package,
                Err(reason) => {
                    *not_assessed.entry(reason.to_string()).or_default() += 1;
                    continue;
                }
            };
        if !database.covers(package.ecosystem.osv) {
            *not_assessed
                .entry(format!(
                    "the OSV database holds no {} record",
                    package.ecosystem.osv
                ))
                .or_default() += 1;
            continue;
        }
        out.assessed += 1;
        for record in database.records_for(&package) {
            match record.verdict(&package) {
                Some((Verdict::Affected { fixed }, rating)) => {
                    let key = (
                        package.listed.clone(),
                        package.listed_version.clone(),
                        canonical_id(record).to_string(),
                    );
                    let hit = hits.entry(key).or_insert_with(|| Hit {
                        records: Vec::new(),
                        fixed: None,
                        rating: None,
                    });
                    hit.records.push(record);
                    hit.fixed = hit.fixed.take().or(fixed);
                    hit.rating = highest(hit.rating.take().into_iter().chain(rating.cloned()));
                }
                Some((Verdict::Unordered, _)) => {
                    *not_assessed
                        .entry(format!(
                            "an advisory's range is in {} versions, whose ordering Palisade does not know",
                            package.ecosystem.osv
                        ))
                        .or_default() += 1;
                }
                _ => {}
            }
        }
    }
    for ((listed, version, id), hit) in hits {
        let (finding, network) = finding(
            database,
            &sbom.path,
            &subject,
            &running,
            (&listed, &version, &id),
            hit,
        );
        if let Some(rated) = network.filter(|rated| *rated >= Severity::High) {
            let evidence = format!(
                "{id} in {listed} {version} ({}, exploitable over the network)",
                rated.as_str()
            );
            for workload_index in running.iter().filter_map(|u| u.workload_index) {
                out.exploitable.push(Exploitable {
                    workload_index,
                    evidence: evidence.clone(),
                });
            }
        }
        out.findings.push(finding);
    }
    report_gaps(sbom, &running, uses, not_assessed, out);
}

/// A rating for `id` from any record of the database that carries it (a CVE record beside a
/// distribution's unrated advisory).
fn rating_elsewhere(database: &Database, ids: &[&str]) -> Option<Rating> {
    highest(
        ids.iter()
            .flat_map(|id| database.records_named(id))
            .filter_map(|r| r.rating.clone()),
    )
}

/// The finding of one vulnerability of one package, and the advisory's own severity when
/// the flaw is exploited over the network (`AV:N`).
fn finding(
    database: &Database,
    path: &str,
    subject: &str,
    running: &[&ImageUse],
    (listed, version, id): (&str, &str, &str),
    hit: Hit<'_>,
) -> (Finding, Option<Severity>) {
    let mut advisories: Vec<&str> = hit.records.iter().map(|r| r.id.as_str()).collect();
    advisories.sort_unstable();
    advisories.dedup();
    let rating = hit.rating.or_else(|| {
        let mut ids = vec![id];
        ids.extend(
            hit.records
                .iter()
                .flat_map(|r| r.aliases.iter().map(String::as_str)),
        );
        rating_elsewhere(database, &ids)
    });
    let network = rating
        .as_ref()
        .filter(|r| r.vector.as_deref().is_some_and(cvss::network_attack))
        .map(|r| r.severity);
    let (mut severity, mut why) = match &rating {
        Some(rating) => (rating.severity, rating.source.clone()),
        None => (
            Severity::Medium,
            "no rating in the advisory; rated medium".to_string(),
        ),
    };
    let exposed = running.iter().find_map(|u| u.exposure.as_deref());
    if let (Some(exposure), Some(vector)) =
        (exposed, rating.as_ref().and_then(|r| r.vector.as_deref()))
        && cvss::network_attack(vector)
        && severity < Severity::Critical
    {
        severity = raised(severity);
        why = format!(
            "{why}; raised: exploitable over the network in an image exposed to the internet ({exposure})"
        );
    }
    // What a compromise of a workload running the image opens: a vulnerability exploitable
    // over the network is one step to it (CVSS's environmental view: the impact on this
    // cluster, not on any system).
    if let Some((workload, leads_to)) = running
        .iter()
        .find_map(|u| u.leads_to.as_deref().map(|to| (&u.workload, to)))
    {
        let network = rating
            .as_ref()
            .and_then(|r| r.vector.as_deref())
            .is_some_and(cvss::network_attack);
        why = match network && severity < Severity::Critical {
            true => {
                severity = raised(severity);
                format!(
                    "{why}; raised: exploitable over the network, and a compromise of {workload} reaches {leads_to}"
                )
            }
            false => format!("{why}; a compromise of {workload} reaches {leads_to}"),
        };
    }
    let summary = hit
        .records
        .iter()
        .map(|r| r.summary.as_str())
        .find(|s| !s.is_empty())
        .map(|s| format!(": {s}"))
        .unwrap_or_default();
    let fixed = match &hit.fixed {
        Some(fixed) => format!("fixed in {fixed}"),
        None => "no fixed version yet".to_string(),
    };
    let also = if advisories.len() > 1 || advisories.first() != Some(&id) {
        format!(" [{}]", advisories.join(", "))
    } else {
        String::new()
    };
    let message = format!("{listed} {version} has {id}{also}{summary} ({fixed}; {why})");
    let mut finding = Finding::new(
        &KNOWN_VULNERABILITY,
        Subject::Image(subject.into()),
        Location::file(path),
        message,
    )
    .with_severity(severity)
    // The vulnerability's id first: `[[suppress]] vulnerability` matches that word.
    .with_discriminator(format!("{id} {listed}"))
    .with_evidence(Evidence::Package {
        name: listed.to_string(),
        installed: version.to_string(),
        fixed: hit.fixed.clone(),
    });
    let mut workloads: Vec<String> = running.iter().map(|u| u.workload.clone()).collect();
    workloads.sort();
    workloads.dedup();
    *finding.affected_mut() = workloads;
    (finding, network)
}

fn raised(severity: Severity) -> Severity {
    match severity {
        Severity::Info => Severity::Low,
        Severity::Low => Severity::Medium,
        Severity::Medium => Severity::High,
        Severity::High | Severity::Critical => Severity::Critical,
    }
}

/// The diagnostics of one SBOM: what was not judged, and why.
fn report_gaps(
    sbom: &Sbom,
    running: &[&ImageUse],
    uses: &[ImageUse],
    not_assessed: BTreeMap<String, usize>,
    out: &mut Assessment,
) {
    let bom = &sbom.bom;
    let warn = |message: String| {
        Diagnostic::new(DiagnosticLevel::Warning, "packages-not-assessed", message)
            .in_file(sbom.path.clone())
    };
    if let Some(partial) = bom.partial {
        out.diagnostics.push(warn(partial.to_string()));
    }
    if bom.unreadable > 0 {
        out.diagnostics.push(warn(format!(
            "{} entries of the {} document name no package URL Palisade can read; they are not assessed",
            bom.unreadable, bom.format
        )));
    }
    if bom.packages.is_empty() {
        out.diagnostics.push(warn(format!(
            "the {} document lists no package: nothing in it was assessed",
            bom.format
        )));
    }
    for (reason, count) in not_assessed {
        out.diagnostics.push(warn(format!(
            "{count} package{} not assessed: {reason}",
            if count == 1 { "" } else { "s" }
        )));
    }
    if running.is_empty() && !uses.is_empty() {
        let image = if bom.image.is_empty() {
            "names no image".to_string()
        } else {
            format!("describes {}", bom.image.join(", "))
        };
        out.diagnostics.push(
            Diagnostic::new(
                DiagnosticLevel::Info,
                "image-not-run",
                format!("the SBOM {image}, which no workload of the inputs runs"),
            )
            .in_file(sbom.path.clone()),
        );
    }
}
