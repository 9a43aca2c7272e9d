//! Manifests judged as changes to a cluster (`palisade scan PATH --against SNAPSHOT`): what the
//! admission webhook would answer if they were applied, before they are. Each object is
//! judged against the cluster with the objects applied before it (created, or in place of the
//! object of its identity), in the order `helm install` creates kinds, so cross-object rules
//! read the cluster's bindings, policies and Services, and RBAC021 names the chains an object
//! opens for the workloads already running. Findings are the manifests' only, at their lines.

use std::time::Instant;

use palisade_core::report::{Coverage, Evaluation, FindingOrder, ReportBuilder};
use palisade_core::{Diagnostic, Report};
use palisade_inventory::Loaded;

use crate::model::ClusterModel;
use crate::scan::{ScanOptions, active_rules, compliance, rules_not_run};

/// Judges the objects of `manifests` as changes to `cluster` (a whole cluster, as read);
/// the report holds the diagnostics of reading both.
pub fn scan_changes(manifests: Loaded, cluster: Loaded, options: &ScanOptions) -> Report {
    let start = Instant::now();
    let mut diagnostics = manifests.diagnostics;
    diagnostics.extend(cluster.diagnostics);
    let (manifests, mut cluster) = (manifests.inventory, cluster.inventory);
    // The manifests' files join the cluster's sources, so that findings name them.
    let offset = cluster.sources.len();
    for source in &manifests.sources {
        cluster.add_source(source.clone());
    }
    let options = ScanOptions {
        whole_cluster: true,
        ..options.clone()
    };
    let model = ClusterModel::prepare(cluster, options.clone());
    let mut order: Vec<usize> = (0..manifests.objects.len()).collect();
    order.sort_by_key(|&i| palisade_k8s::install_order::rank(&manifests.objects[i].id.kind));
    let mut parts = Vec::with_capacity(order.len());
    for index in order {
        let mut object = manifests.objects[index].clone();
        object.source += offset;
        let value = object.value.clone();
        parts.push(model.evaluate_object(object).report);
        // Applied: the objects after it are judged with it.
        model.remember_update(value);
    }
    let files = manifests.sources.len();
    let mut report = merged(parts, &options, diagnostics, files).build(start.elapsed());
    report.compliance = options.framework.map(|p| compliance(p, &report));
    report
}

/// One report of the reports of each object judged.
fn merged(
    parts: Vec<Report>,
    options: &ScanOptions,
    mut diagnostics: Vec<Diagnostic>,
    files: usize,
) -> ReportBuilder {
    let rules = match parts.first() {
        Some(part) => part.rules.clone(),
        None => active_rules(options)
            .iter()
            .map(|r| r.meta().into())
            .collect(),
    };
    let mut builder = ReportBuilder {
        findings: Vec::new(),
        diagnostics: Vec::new(),
        coverage: Vec::new(),
        rules,
        objects: Vec::new(),
        evaluations: Vec::new(),
        files,
        order: FindingOrder::Location,
        ranks: None,
    };
    for part in parts {
        let offset = builder.objects.len();
        builder.objects.extend(part.objects);
        builder
            .evaluations
            .extend(part.evaluations.into_iter().map(|e| Evaluation {
                object: e.object + offset,
                ..e
            }));
        builder.findings.extend(part.findings);
        diagnostics.extend(part.diagnostics);
        add_coverage(&mut builder.coverage, part.coverage);
    }
    diagnostics.extend(rules_not_run(options, true));
    builder.diagnostics = diagnostics;
    builder
}

/// Adds one object's coverage to the run's, rule by rule.
fn add_coverage(total: &mut Vec<Coverage>, part: Vec<Coverage>) {
    for entry in part {
        match total.iter_mut().find(|t| t.rule == entry.rule) {
            None => total.push(entry),
            Some(t) => {
                t.evaluated += entry.evaluated;
                t.failed += entry.failed;
                t.not_assessed += entry.not_assessed;
                t.not_assessed_objects.extend(entry.not_assessed_objects);
                for why in entry.incomplete {
                    if !t.incomplete.contains(&why) {
                        t.incomplete.push(why);
                    }
                }
            }
        }
    }
}
