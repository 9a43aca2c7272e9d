//! SARIF 2.1.0, as GitHub code scanning and other SARIF consumers read it: the full rule table
//! from the registry, a result per finding with a region at the offending field, logical
//! locations naming the Kubernetes object, stable `partialFingerprints`, suppressions for
//! accepted findings, and diagnostics as tool execution notifications.

use std::io;

use palisade_core::{DiagnosticLevel, Finding, Report, Severity};
use serde_json::{Value, json};

const SCHEMA: &str = "https://json.schemastore.org/sarif-2.1.0.json";
const INFORMATION_URI: &str = "https://github.com/palisade-dev/palisade";

fn level(severity: Severity) -> &'static str {
    match severity {
        Severity::Critical | Severity::High => "error",
        Severity::Medium => "warning",
        Severity::Low | Severity::Info => "note",
    }
}

/// A relative path as a SARIF URI reference: forward slashes, reserved characters escaped.
fn uri(path: &str) -> String {
    let path = path.replace('\\', "/");
    let mut out = String::with_capacity(path.len());
    if path.starts_with('/') {
        out.push_str("file://");
    }
    for byte in path.bytes() {
        match byte {
            b'A'..=b'Z'
            | b'a'..=b'z'
            | b'0'..=b'9'
            | b'-'
            | b'.'
            | b'_'
            | b'~'
            | b'/'
            | b':'
            | b'@'
            | b'+'
            | b'=' => {
                out.push(byte as char);
            }
            other => out.push_str(&format!("%{other:02X}")),
        }
    }
    out
}

fn physical_location(file: &str, line: Option<u32>, column: Option<u32>) -> Value {
    let mut location = json!({ "artifactLocation": { "uri": uri(file) } });
    if let Some(line) = line {
        let mut region = json!({ "startLine": line });
        if let Some(column) = column {
            region["startColumn"] = json!(column);
        }
        location["region"] = region;
    }
    location
}

fn result(finding: &Finding, rule_index: Option<usize>) -> Value {
    let subject = &finding.subject;
    let (name, fqn) = match subject.object() {
        Some(object) => (
            object.display_name().to_string(),
            format!(
                "{}/{}/{}",
                object.namespace.as_deref().unwrap_or("_cluster"),
                object.kind,
                object.display_name()
            ),
        ),
        None => {
            let text = subject.to_string();
            (text.clone(), text)
        }
    };
    let mut value = json!({
        "ruleId": finding.rule_id(),
        "level": level(finding.severity),
        "message": { "text": format!("{} ({}): {}", finding.title(), subject, finding.message) },
        "locations": [{
            "physicalLocation": physical_location(&finding.location.file, finding.location.line, finding.location.column),
            "logicalLocations": [{
                "name": name,
                "fullyQualifiedName": fqn,
                "kind": subject.kind(),
            }],
        }],
        "partialFingerprints": { "palisade/v1": finding.fingerprint() },
        "properties": {
            "severity": finding.severity,
            "controls": finding.controls(),
            "path": finding.location.path,
            (if subject.object().is_some() { "object" } else { "subject" }): subject,
            "remediation": finding.remediation(),
        },
    });
    if let Some(discriminator) = &finding.discriminator() {
        value["properties"]["discriminator"] = json!(discriminator);
    }
    if !finding.evidence().is_empty() {
        value["properties"]["evidence"] = json!(finding.evidence());
    }
    if let Some(fix) = &finding.fix() {
        value["properties"]["fix"] = json!(fix);
    }
    if let Some(index) = rule_index {
        value["ruleIndex"] = json!(index);
    }
    if let Some(rendered_by) = finding.location.rendered_by {
        value["properties"]["renderedBy"] = json!(rendered_by);
    }
    if let Some(s) = &finding.suppressed() {
        let kind = match s.source {
            palisade_core::SuppressionSource::Config => "external",
            palisade_core::SuppressionSource::Annotation => "inSource",
            palisade_core::SuppressionSource::Baseline => "external",
        };
        let mut suppression =
            json!({ "kind": kind, "status": "accepted", "justification": s.reason });
        if let Some(origin) = &s.origin {
            suppression["properties"] = json!({ "origin": origin, "expires": s.expires });
        }
        value["suppressions"] = json!([suppression]);
    }
    value
}

/// The SARIF log. Everything but the results is small and built as JSON values; results are
/// built and written one at a time, so a report with tens of thousands of findings does not
/// hold a second copy of itself in memory.
struct Log<'a> {
    report: &'a Report,
    /// Whether the results are left out, with [`crate::parts::MARKER`] in their place (the
    /// writer renders them in parts).
    marked: bool,
}

/// The results array, serialized lazily.
struct Results<'a>(&'a Report);

/// What the results are made with: each rule's index in the rule table, and whether a
/// baseline was compared.
struct ResultMaker<'a> {
    index: std::collections::HashMap<&'a str, usize>,
    compared: bool,
}

impl<'a> ResultMaker<'a> {
    fn new(report: &'a Report) -> Self {
        ResultMaker {
            index: report
                .rules
                .iter()
                .enumerate()
                .map(|(i, r)| (r.id.as_ref(), i))
                .collect(),
            compared: report.baseline.is_some(),
        }
    }

    fn result(&self, f: &Finding) -> Value {
        let mut value = result(f, self.index.get(f.rule_id()).copied());
        if self.compared {
            // SARIF's own word for what `--baseline` decided.
            let in_baseline = f
                .suppressed()
                .as_ref()
                .is_some_and(|s| s.source == palisade_core::SuppressionSource::Baseline);
            value["baselineState"] = json!(if in_baseline { "unchanged" } else { "new" });
        }
        value
    }
}

impl serde::Serialize for Results<'_> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let maker = ResultMaker::new(self.0);
        serializer.collect_seq(self.0.findings.iter().map(|f| maker.result(f)))
    }
}

impl serde::Serialize for Log<'_> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let (tool, invocations, properties) = run_parts(self.report);
        struct Run<'a> {
            tool: Value,
            invocations: Value,
            results: Results<'a>,
            marked: bool,
            properties: Value,
        }
        impl serde::Serialize for Run<'_> {
            fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                let mut map = serializer.serialize_map(Some(5))?;
                map.serialize_entry("tool", &self.tool)?;
                map.serialize_entry("invocations", &self.invocations)?;
                if self.marked {
                    map.serialize_entry("results", crate::parts::MARKER)?;
                } else {
                    map.serialize_entry("results", &self.results)?;
                }
                map.serialize_entry("columnKind", "unicodeCodePoints")?;
                map.serialize_entry("properties", &self.properties)?;
                map.end()
            }
        }
        let run = Run {
            tool,
            invocations,
            results: Results(self.report),
            marked: self.marked,
            properties,
        };
        let mut map = serializer.serialize_map(Some(3))?;
        map.serialize_entry("$schema", SCHEMA)?;
        map.serialize_entry("version", "2.1.0")?;
        map.serialize_entry("runs", &[run])?;
        map.end()
    }
}

/// The tool, invocations and properties of the run.
fn run_parts(report: &Report) -> (Value, Value, Value) {
    let rules: Vec<Value> = report
        .rules
        .iter()
        .map(|r| {
            let mut tags = vec!["security".to_string(), "kubernetes".to_string()];
            tags.extend(r.controls.iter().map(ToString::to_string));
            json!({
                "id": r.id,
                "name": r.slug,
                "shortDescription": { "text": r.title },
                "fullDescription": { "text": r.summary() },
                "help": { "text": r.docs, "markdown": r.docs },
                "helpUri": format!("{INFORMATION_URI}/blob/main/docs/rules.md#{}", r.id.to_ascii_lowercase()),
                "defaultConfiguration": { "level": level(r.severity) },
                "properties": {
                    "tags": tags,
                    "precision": "high",
                    "problem.severity": level(r.severity),
                    "security-severity": r.severity.security_severity_score(),
                    "severity": r.severity,
                },
            })
        })
        .collect();
    let notifications: Vec<Value> = report
        .diagnostics
        .iter()
        .map(|d| {
            let mut n = json!({
                "level": match d.level {
                    DiagnosticLevel::Error => "error",
                    DiagnosticLevel::Warning => "warning",
                    DiagnosticLevel::Info => "note",
                },
                "message": { "text": match &d.object {
                    Some(object) => format!("{} ({object})", d.message),
                    None => d.message.clone(),
                }},
                "descriptor": { "id": d.code },
            });
            if let Some(file) = &d.file {
                n["locations"] =
                    json!([{ "physicalLocation": physical_location(file, d.line, d.column) }]);
            }
            n
        })
        .collect();
    (
        json!({ "driver": {
            "name": report.tool.name,
            "version": report.tool.version,
            "semanticVersion": report.tool.version,
            "informationUri": INFORMATION_URI,
            "rules": rules,
        }}),
        json!([{
            "executionSuccessful": report.inputs_not_read() == 0 && !report.objects.is_empty(),
            "toolExecutionNotifications": notifications,
        }]),
        {
            let mut properties =
                json!({ "summary": report.summary(), "coverage": report.coverage });
            if let Some(compliance) = &report.compliance {
                properties["compliance"] = json!(compliance);
            }
            properties
        },
    )
}

/// Writes the SARIF log: the results rendered in parts on all cores ([`crate::parts`]).
pub fn write(report: &Report, out: &mut dyn io::Write) -> io::Result<()> {
    let mut rest = Vec::new();
    serde_json::to_writer_pretty(
        &mut rest,
        &Log {
            report,
            marked: true,
        },
    )?;
    let maker = ResultMaker::new(report);
    // `results` is four levels deep: the log, `runs`, the run, the list.
    crate::parts::splice(
        &rest,
        "results",
        &report.findings,
        4,
        &|finding, buf| serde_json::to_writer_pretty(buf, &maker.result(finding)),
        out,
    )?;
    writeln!(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_support::{render, report_with_findings};

    crate::test_support::snapshot_trio!(crate::Format::Sarif);

    #[test]
    fn results_point_at_fields_and_carry_suppressions() {
        let value: Value =
            serde_json::from_str(&render(crate::Format::Sarif, &report_with_findings())).unwrap();
        let result = &value["runs"][0]["results"][0];
        assert_eq!(
            result["locations"][0]["physicalLocation"]["region"]["startLine"],
            12
        );
        assert_eq!(result["ruleIndex"], 0);
        assert_eq!(
            value["runs"][0]["results"][1]["suppressions"][0]["kind"],
            "inSource"
        );
    }

    /// The log with its results in parts is the log serialised whole.
    #[test]
    fn parts_make_what_the_whole_log_makes() {
        for count in [0, 1, crate::parts::PART + 1, 2 * crate::parts::PART + 3] {
            let report = crate::test_support::report_with_finding_count(count);
            let mut ours = Vec::new();
            write(&report, &mut ours).unwrap();
            let log = Log {
                report: &report,
                marked: false,
            };
            let mut whole = serde_json::to_vec_pretty(&log).unwrap();
            whole.push(b'\n');
            assert!(ours == whole, "{count} findings differ");
        }
    }

    #[test]
    fn uris_are_escaped() {
        assert_eq!(
            uri("dir with space/a#b.yaml"),
            "dir%20with%20space/a%23b.yaml"
        );
        assert_eq!(uri("/abs/x.yaml"), "file:///abs/x.yaml");
    }
}
