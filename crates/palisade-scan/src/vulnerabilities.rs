//! Known vulnerabilities of the images the scanned workloads run (`--sbom`, `--osv-db`): the
//! SBOMs read once, assessed by `palisade-vuln` against the OSV database with each image's
//! uses (the workloads of the inventory that run it, how the internet reaches them, and what
//! their compromise reaches, from the attack graph), and the findings added to the scan's
//! report as VULN001 with their coverage.

use std::path::{Path, PathBuf};

use palisade_core::{Coverage, Diagnostic, DiagnosticLevel, Report};
use palisade_graph::Goal;
use palisade_inventory::Inventory;
use palisade_vuln::assess::{ImageUse, Sbom, assess};
use palisade_vuln::database::{Database, DatabaseError};
use palisade_vuln::rule::KNOWN_VULNERABILITY;
use palisade_vuln::sbom::{Bom, MAX_SBOM_BYTES};

/// The SBOMs and database of a run.
#[derive(Debug)]
pub struct Vulnerabilities {
    pub database: Database,
    pub sboms: Vec<Sbom>,
    /// SBOM files that could not be read, each naming its file.
    pub diagnostics: Vec<Diagnostic>,
}

impl Vulnerabilities {
    /// Reads the database (an error when it cannot be used at all) and every SBOM under
    /// `sboms` (files, or directories of `*.json` files); an SBOM that cannot be read is a
    /// diagnostic naming it, and the others are assessed.
    pub fn load(sboms: &[PathBuf], database: &[PathBuf]) -> Result<Vulnerabilities, DatabaseError> {
        let mut database = Database::load(database)?;
        let mut diagnostics = std::mem::take(&mut database.diagnostics);
        let (mut files, mut failed) = (Vec::new(), Vec::new());
        for path in sboms {
            palisade_vuln::files::walk(
                path,
                &|name| name.ends_with(".json"),
                &mut files,
                &mut failed,
            );
        }
        for (path, error) in failed {
            diagnostics.push(unread(&path, "io", error.to_string()));
        }
        let mut read = Vec::new();
        for path in &files {
            read_sbom(path, &mut read, &mut diagnostics);
        }
        Ok(Vulnerabilities {
            database,
            sboms: read,
            diagnostics,
        })
    }
}

fn unread(path: &Path, code: &'static str, message: String) -> Diagnostic {
    Diagnostic::new(DiagnosticLevel::Error, code, message)
        .in_file(path.display().to_string())
        .input_unread()
}

/// The SBOM at `path` read, or a diagnostic naming it.
fn read_sbom(path: &Path, read: &mut Vec<Sbom>, diagnostics: &mut Vec<Diagnostic>) {
    let text = match std::fs::metadata(path) {
        Ok(m) if m.len() > MAX_SBOM_BYTES => {
            return diagnostics.push(unread(
                path,
                "limit-exceeded",
                format!("larger than {MAX_SBOM_BYTES} bytes; not read"),
            ));
        }
        Ok(_) => std::fs::read(path),
        Err(e) => Err(e),
    };
    match text.map(|text| Bom::read(&text)) {
        Ok(Ok(bom)) => read.push(Sbom {
            path: path.display().to_string(),
            bom,
        }),
        Ok(Err(e)) => diagnostics.push(unread(path, "not-an-sbom", e.to_string())),
        Err(e) => diagnostics.push(unread(path, "io", e.to_string())),
    }
}

/// Every container image a workload of `inventory` runs, with the workload, how the internet
/// reaches it (the ingress controller where `ingress` places it), and what its compromise
/// reaches in the attack graph (cluster-admin, else a node).
pub fn image_uses(
    inventory: &Inventory,
    ingress: &palisade_net::IngressPlacement,
) -> Vec<ImageUse> {
    let policy = palisade_rbac::Policy::from_inventory(inventory);
    let graph = palisade_rbac::graph::build_asking(&policy, inventory, None, ingress);
    image_uses_in(inventory, &policy, &graph)
}

/// [`image_uses`] with the RBAC policy and attack graph of `inventory` a caller already has.
pub fn image_uses_in(
    inventory: &Inventory,
    policy: &palisade_rbac::Policy,
    graph: &palisade_graph::Graph,
) -> Vec<ImageUse> {
    let toward = [Goal::ClusterAdmin, Goal::Nodes].map(|goal| graph.toward(goal));
    let mut uses = Vec::new();
    for (w, workload) in policy.workloads.iter().enumerate() {
        let Some(spec) = workload.pod_spec(inventory) else {
            continue;
        };
        let node = palisade_rbac::graph::workload_node(policy, w);
        let exposure = graph.exposure(&node).map(str::to_string);
        let leads_to = toward.iter().find_map(|toward| {
            let path = graph
                .path_with(toward, &node)
                .filter(|p| !p.steps.is_empty())?;
            let to = path.steps.last()?.to.to_string();
            let steps = path.steps.len();
            Some(format!(
                "{to} in {steps} step{}",
                if steps == 1 { "" } else { "s" }
            ))
        });
        let named = node.to_string();
        for container in spec.containers() {
            if let Some(image) = container.value.get("image").and_then(|i| i.as_str()) {
                uses.push(ImageUse {
                    reference: image.to_string(),
                    workload: named.clone(),
                    exposure: exposure.clone(),
                    leads_to: leads_to.clone(),
                    workload_index: Some(w),
                });
            }
        }
    }
    uses
}

/// The workloads of `policy` (by index) whose images have a flaw of high severity or
/// more exploited over the network, each with its evidence: the attack graph's likelier
/// starting points ([`palisade_graph::Graph::add_exploit`]). `policy` and `graph` are the
/// caller's, of the same inventory.
pub fn exploitable_workloads(
    vulnerabilities: &Vulnerabilities,
    inventory: &Inventory,
    policy: &palisade_rbac::Policy,
    graph: &palisade_graph::Graph,
) -> Vec<palisade_vuln::assess::Exploitable> {
    let uses = image_uses_in(inventory, policy, graph);
    assess(&vulnerabilities.database, &vulnerabilities.sboms, &uses).exploitable
}

/// An assessment made while the inventory was at hand, to be added to the report.
#[derive(Debug)]
pub struct Assessed {
    assessment: palisade_vuln::assess::Assessment,
    diagnostics: Vec<Diagnostic>,
    /// SBOMs read (the report's file count includes them).
    pub sboms: usize,
}

/// Assesses the SBOMs with `inventory`'s image uses, the ingress controller where `ingress`
/// places it.
pub fn assessed(
    vulnerabilities: &Vulnerabilities,
    inventory: &Inventory,
    ingress: &palisade_net::IngressPlacement,
) -> Assessed {
    let uses = image_uses(inventory, ingress);
    Assessed {
        assessment: assess(&vulnerabilities.database, &vulnerabilities.sboms, &uses),
        diagnostics: vulnerabilities.diagnostics.clone(),
        sboms: vulnerabilities.sboms.len(),
    }
}

/// Adds an assessment's findings (with `palisade.toml`'s suppressions applied), diagnostics
/// and VULN001's coverage (packages judged, failed and not assessed) to `report`.
pub(crate) fn add_to(report: &mut Report, assessed: Assessed, options: &crate::ScanOptions) {
    let Assessed {
        assessment,
        diagnostics,
        ..
    } = assessed;
    let failed = {
        // Packages with a finding, each once per image (and SBOM) that holds it.
        let packages: std::collections::HashSet<(&palisade_core::Subject, &str, &str, &str)> =
            assessment
                .findings
                .iter()
                .filter_map(|f| match f.evidence().first() {
                    Some(palisade_core::Evidence::Package {
                        name, installed, ..
                    }) => Some((
                        &f.subject,
                        &*f.location.file,
                        name.as_str(),
                        installed.as_str(),
                    )),
                    _ => None,
                })
                .collect();
        packages.len()
    };
    let coverage = Coverage {
        rule: KNOWN_VULNERABILITY.id.to_string(),
        evaluated: assessment.assessed,
        failed,
        not_assessed: assessment.packages - assessment.assessed,
        not_assessed_objects: Vec::new(),
        skipped: None,
        incomplete: Vec::new(),
        controls: Vec::new(),
    };
    let mut diagnostics = diagnostics;
    diagnostics.extend(assessment.diagnostics);
    let reported = crate::scan::Reported {
        rules: vec![&KNOWN_VULNERABILITY],
        findings: assessment.findings,
        coverage: vec![coverage],
        diagnostics,
    };
    crate::scan::add_reported(report, reported, options);
}
