//! The report as Kubernetes Policy Reports (`wgpolicyk8s.io/v1alpha2`, the Policy WG's API that
//! Kyverno, Policy Reporter and the dashboards built on them read), written as a `v1` `List` for
//! `kubectl apply -f -`: one `PolicyReport` per namespace for the findings on its objects, and
//! one `ClusterPolicyReport` for the rest (cluster-scoped objects, objects written without a
//! namespace, files, images, nodes, identities) and for the run's errors and warnings.
//!
//! Reports live in etcd, whose objects must stay small: a report is cut into several
//! (`palisade-shop-1`, `palisade-shop-2`, ...) so that none holds more than
//! [`MOST_RESULTS`] results or [`MOST_BYTES`] bytes of them. Only findings are results
//! (`fail`, or `skip` when suppressed): a result per passed check would be most of a large
//! cluster's reports for no reader's benefit, so the coverage stays in the other formats.

use std::collections::BTreeMap;
use std::io;

use palisade_core::{DiagnosticLevel, Finding, Report, Subject};
use serde_json::{Map, Value, json};

/// The most results one report holds.
pub const MOST_RESULTS: usize = 500;
/// The most bytes of results one report holds (etcd refuses requests over 1.5 MiB).
pub const MOST_BYTES: usize = 512 * 1024;

/// The API version and the label every report carries.
const API_VERSION: &str = "wgpolicyk8s.io/v1alpha2";
const MANAGED_BY: &str = "palisade";

/// Writes `report` as a `List` of Policy Reports.
pub fn write(report: &Report, out: &mut dyn io::Write) -> io::Result<()> {
    let list = json!({"apiVersion": "v1", "kind": "List", "items": reports(report)});
    serde_json::to_writer_pretty(&mut *out, &list)?;
    writeln!(out)
}

/// `report` as Policy Reports: one `PolicyReport` per namespace with findings (in parts
/// when large), and the `ClusterPolicyReport` (always, so that a clean run replaces what an
/// earlier one left).
pub fn reports(report: &Report) -> Vec<Value> {
    let mut by_scope: BTreeMap<Option<&str>, Vec<Value>> = BTreeMap::new();
    for finding in &report.findings {
        by_scope
            .entry(namespace_of(finding))
            .or_default()
            .push(result_of(finding));
    }
    let cluster = by_scope.entry(None).or_default();
    for diagnostic in &report.diagnostics {
        let result = match diagnostic.level {
            DiagnosticLevel::Error => "error",
            DiagnosticLevel::Warning => "warn",
            DiagnosticLevel::Info => continue,
        };
        let mut properties = Map::new();
        if let Some(file) = &diagnostic.file {
            properties.insert("file".into(), file.clone().into());
        }
        if let Some(object) = &diagnostic.object {
            properties.insert("object".into(), object.clone().into());
        }
        cluster.push(json!({
            "source": "palisade",
            "policy": "palisade",
            "rule": diagnostic.code,
            "result": result,
            "scored": false,
            "message": diagnostic.message,
            "properties": properties,
        }));
    }
    let mut items = Vec::new();
    for (namespace, results) in by_scope {
        let mut chunks = chunks(results);
        // The cluster's report is written even with nothing in it, so that applying a clean
        // run replaces the findings an earlier one left there.
        if namespace.is_none() && chunks.is_empty() {
            chunks.push(Vec::new());
        }
        let count = chunks.len();
        for (i, chunk) in chunks.into_iter().enumerate() {
            let base = format!("palisade-{}", namespace.unwrap_or("cluster"));
            let name = if count > 1 {
                format!("{base}-{}", i + 1)
            } else {
                base
            };
            items.push(report_of(namespace, &name, chunk));
        }
    }
    items
}

/// The namespace whose report holds `finding`; `None` for the cluster's.
fn namespace_of(finding: &Finding) -> Option<&str> {
    finding
        .subject
        .object()
        .and_then(|o| o.namespace.as_deref())
        .filter(|n| !n.is_empty())
}

/// One finding as a result.
fn result_of(finding: &Finding) -> Value {
    let mut properties = Map::new();
    properties.insert(
        "fingerprint".into(),
        finding.fingerprint().to_string().into(),
    );
    properties.insert("title".into(), finding.rule.title.to_string().into());
    properties.insert("file".into(), finding.location.file.to_string().into());
    if let Some(line) = finding.location.line {
        properties.insert("line".into(), line.to_string().into());
    }
    if !finding.location.path.as_str().is_empty() {
        properties.insert("path".into(), finding.location.path.to_string().into());
    }
    let controls: Vec<String> = finding.controls().iter().map(ToString::to_string).collect();
    if !controls.is_empty() {
        properties.insert("controls".into(), controls.join(",").into());
    }
    let mut result = json!({
        "source": "palisade",
        "policy": finding.rule_id(),
        "rule": finding.rule.slug,
        "severity": finding.severity.as_str(),
        "result": if finding.suppressed().is_some() { "skip" } else { "fail" },
        "scored": true,
        "message": finding.message,
    });
    match &finding.subject {
        Subject::Object(object) => {
            let mut resource = Map::new();
            resource.insert("apiVersion".into(), object.api_version.clone().into());
            resource.insert("kind".into(), object.kind.clone().into());
            if let Some(namespace) = &object.namespace {
                resource.insert("namespace".into(), namespace.clone().into());
            }
            if let Some(name) = &object.name {
                resource.insert("name".into(), name.clone().into());
            }
            result["resources"] = json!([resource]);
        }
        other => {
            properties.insert(
                "subject".into(),
                format!("{} {}", other.kind(), subject_name(other)).into(),
            );
        }
    }
    if let Some(suppression) = finding.suppressed() {
        properties.insert("suppressed".into(), suppression.reason.clone().into());
    }
    result["properties"] = Value::Object(properties);
    result
}

fn subject_name(subject: &Subject) -> &str {
    match subject {
        Subject::Object(_) => "",
        Subject::File(n)
        | Subject::Image(n)
        | Subject::Node(n)
        | Subject::AuditEvent(n)
        | Subject::Identity(n) => n,
    }
}

/// `results` cut so that no part holds more than [`MOST_RESULTS`] or [`MOST_BYTES`] (a result
/// larger than that alone is a part of its own); none when there are none.
fn chunks(results: Vec<Value>) -> Vec<Vec<Value>> {
    let mut out: Vec<Vec<Value>> = Vec::new();
    let mut current = Vec::new();
    let mut bytes = 0;
    for result in results {
        let size = serde_json::to_vec(&result).map_or(0, |b| b.len());
        if !current.is_empty() && (current.len() >= MOST_RESULTS || bytes + size > MOST_BYTES) {
            out.push(std::mem::take(&mut current));
            bytes = 0;
        }
        bytes += size;
        current.push(result);
    }
    if !current.is_empty() {
        out.push(current);
    }
    out
}

/// One report of `results`, in `namespace` or cluster-wide.
fn report_of(namespace: Option<&str>, name: &str, results: Vec<Value>) -> Value {
    let mut summary: BTreeMap<&str, usize> = ["pass", "fail", "warn", "error", "skip"]
        .map(|k| (k, 0))
        .into();
    for result in &results {
        if let Some(kind) = result["result"].as_str()
            && let Some(count) = summary.get_mut(kind)
        {
            *count += 1;
        }
    }
    let mut metadata = json!({
        "name": name,
        "labels": {"app.kubernetes.io/managed-by": MANAGED_BY},
    });
    let kind = match namespace {
        Some(namespace) => {
            metadata["namespace"] = namespace.into();
            "PolicyReport"
        }
        None => "ClusterPolicyReport",
    };
    json!({
        "apiVersion": API_VERSION,
        "kind": kind,
        "metadata": metadata,
        "summary": summary,
        "results": results,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Format;
    use crate::test_support::render;

    crate::test_support::snapshot_trio!(Format::PolicyReport);

    #[test]
    fn a_large_namespace_is_cut_into_reports_etcd_takes() {
        let report = crate::test_support::report_with_finding_count(1_200);
        let list: Value = serde_json::from_str(&render(Format::PolicyReport, &report)).unwrap();
        let items = list["items"].as_array().unwrap();
        let results: usize = items
            .iter()
            .map(|i| i["results"].as_array().map_or(0, Vec::len))
            .sum();
        assert_eq!(results, 1_200);
        for item in items {
            let bytes = serde_json::to_vec(item).unwrap().len();
            assert!(item["results"].as_array().unwrap().len() <= MOST_RESULTS);
            assert!(bytes < 1024 * 1024, "{bytes}");
            let counted: u64 = ["fail", "skip"]
                .iter()
                .map(|k| item["summary"][k].as_u64().unwrap())
                .sum();
            assert_eq!(counted as usize, item["results"].as_array().unwrap().len());
        }
        let names: Vec<&str> = items
            .iter()
            .filter_map(|i| i["metadata"]["name"].as_str())
            .collect();
        assert!(names.len() >= 3, "{names:?}");
        assert!(names.iter().all(|n| n.len() <= 253));
    }

    /// Every result keeps to the v1alpha2 CRD's schema (kubernetes-sigs/wg-policy-prototypes,
    /// `wgpolicyk8s.io/v1alpha2/policyreports.yaml`): its fields, the `result` and `severity`
    /// enums, `properties` a map of strings, `policy` required; the summary's five counts.
    #[test]
    fn every_result_keeps_to_the_crd_schema() {
        const FIELDS: [&str; 12] = [
            "category",
            "message",
            "policy",
            "properties",
            "resourceSelector",
            "resources",
            "result",
            "rule",
            "scored",
            "severity",
            "source",
            "timestamp",
        ];
        let mut report = crate::test_support::report_with_findings();
        report
            .diagnostics
            .extend(crate::test_support::report_with_diagnostics().diagnostics);
        let list: Value = serde_json::from_str(&render(Format::PolicyReport, &report)).unwrap();
        for item in list["items"].as_array().unwrap() {
            assert_eq!(item["apiVersion"], API_VERSION);
            let keys: Vec<&String> = item["summary"].as_object().unwrap().keys().collect();
            assert_eq!(keys, ["error", "fail", "pass", "skip", "warn"]);
            for result in item["results"].as_array().unwrap() {
                for key in result.as_object().unwrap().keys() {
                    assert!(FIELDS.contains(&key.as_str()), "{key}");
                }
                assert!(!result["policy"].as_str().unwrap().is_empty());
                let outcome = result["result"].as_str().unwrap();
                assert!(["pass", "fail", "warn", "error", "skip"].contains(&outcome));
                if let Some(severity) = result.get("severity") {
                    let severity = severity.as_str().unwrap();
                    assert!(["critical", "high", "medium", "low", "info"].contains(&severity));
                }
                for value in result["properties"].as_object().unwrap().values() {
                    assert!(value.is_string(), "{value}");
                }
            }
        }
    }

    #[test]
    fn a_result_over_the_byte_limit_is_alone_in_its_report() {
        let big = json!({"message": "x".repeat(MOST_BYTES + 1)});
        let small = json!({"message": "y"});
        let cut = chunks(vec![small.clone(), big, small]);
        assert_eq!(cut.iter().map(Vec::len).collect::<Vec<_>>(), [1, 1, 1]);
        assert!(chunks(Vec::new()).is_empty());
    }
}
