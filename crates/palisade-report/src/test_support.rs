//! Reports for the writers' snapshot tests: with findings, empty, and with tool errors; and the
//! macro that gives every writer the same trio of snapshot tests.

use std::borrow::Cow;

use palisade_core::report::{Evaluation, Outcome, ScannedObject, ToolInfo};
use palisade_core::{
    Control, Coverage, Diagnostic, DiagnosticLevel, Finding, Fingerprint, Framework, JsonPointer,
    Location, NotAssessed, ObjectRef, Report, RuleMeta, Severity, Subject, Suppression,
    SuppressionSource,
};

fn rule(id: &'static str, slug: &'static str, severity: Severity) -> RuleMeta {
    RuleMeta {
        id: Cow::Borrowed(id),
        slug: Cow::Borrowed(slug),
        title: Cow::Borrowed("Container runs privileged"),
        severity,
        controls: Cow::Owned(vec![
            Control::new(Framework::CisK8s112, "5.2.2"),
            Control::new(Framework::MitreAttack, "T1611"),
        ]),
        remediation: Cow::Borrowed("Remove `privileged: true`."),
        docs: Cow::Borrowed(
            "## What it checks\nPrivileged containers & <friends>.\n\n## Remediation\nDon't.\n",
        ),
    }
}

/// One rule's outcomes on the two scanned objects, in order.
fn evaluations(outcomes: [Outcome; 2]) -> Vec<Evaluation> {
    outcomes
        .into_iter()
        .enumerate()
        .map(|(object, outcome)| Evaluation {
            rule: 0,
            object,
            outcome,
        })
        .collect()
}

fn object(kind: &str, name: &str) -> ObjectRef {
    ObjectRef {
        api_version: "apps/v1".into(),
        kind: kind.into(),
        namespace: Some("shop".into()),
        name: Some(name.into()),
    }
}

fn base(rules: Vec<RuleMeta>) -> Report {
    Report {
        compliance: None,
        schema_version: palisade_core::report::SCHEMA_VERSION,
        tool: ToolInfo {
            name: "palisade".into(),
            version: "0.0.0-test".into(),
        },
        files: 2,
        duration_ms: 7,
        findings: Vec::new(),
        diagnostics: Vec::new(),
        coverage: Vec::new(),
        rules: rules
            .into_iter()
            .map(|r| palisade_core::RuleRef::Shared(std::sync::Arc::new(r)))
            .collect(),
        objects: vec![
            ScannedObject {
                object: object("Deployment", "web").into(),
                file: "deploy/web.yaml".into(),
            },
            ScannedObject {
                object: object("Deployment", "api").into(),
                file: "deploy/api.yaml".into(),
            },
        ],
        evaluations: Vec::new(),
        baseline: None,
        audit_annotations: Vec::new(),
    }
}

pub fn report_with_findings() -> Report {
    let mut report = base(vec![rule(
        "POD001",
        "privileged-container",
        Severity::Critical,
    )]);
    let path =
        JsonPointer::parse("/spec/template/spec/containers/0/securityContext/privileged").unwrap();
    let meta = report.rules[0].clone();
    let finding = |name: &str, file: &str, line: u32, suppressed: Option<Suppression>| {
        let mut f = Finding::new(
            meta.clone(),
            Subject::Object(std::sync::Arc::new(object("Deployment", name))),
            Location {
                file: file.into(),
                line: Some(line),
                column: Some(11),
                path: path.clone(),
                rendered_by: None,
            },
            format!("container \"{name}\" runs privileged: it has full access to the node"),
        );
        f.set_fingerprint(Fingerprint(0x0123_4567_89ab_cdef));
        f.set_suppressed(suppressed);
        f
    };
    report
        .findings
        .push(finding("web", "deploy/web.yaml", 12, None));
    report.findings.push(finding(
        "api",
        "deploy/api.yaml",
        20,
        Some(Suppression {
            source: SuppressionSource::Annotation,
            reason: "node agent <reviewed>".into(),
            expires: Some("2099-01-01".into()),
            origin: Some("deploy/api.yaml:5".into()),
        }),
    ));
    report.coverage.push(Coverage {
        rule: "POD001".into(),
        evaluated: 2,
        failed: 2,
        not_assessed: 0,
        not_assessed_objects: Vec::new(),
        skipped: None,
        incomplete: Vec::new(),
        controls: Vec::new(),
    });
    report.evaluations = evaluations([Outcome::Fail, Outcome::Fail]);
    report
}

/// [`report_with_findings`] with `count` findings, its own repeated in turn (writers that
/// render long lists in parts are tested across part edges).
pub fn report_with_finding_count(count: usize) -> Report {
    let base = report_with_findings();
    let mut report = base.clone();
    report.findings = (0..count)
        .map(|i| base.findings[i % base.findings.len()].clone())
        .collect();
    report
}

pub fn empty_report() -> Report {
    let mut report = base(vec![rule(
        "POD001",
        "privileged-container",
        Severity::Critical,
    )]);
    report.coverage.push(Coverage {
        rule: "POD001".into(),
        evaluated: 2,
        failed: 0,
        not_assessed: 0,
        not_assessed_objects: Vec::new(),
        skipped: None,
        incomplete: Vec::new(),
        controls: Vec::new(),
    });
    report.evaluations = evaluations([Outcome::Pass, Outcome::Pass]);
    report
}

pub fn report_with_diagnostics() -> Report {
    let mut report = base(vec![rule(
        "SEC001",
        "missing-secret-reference",
        Severity::Low,
    )]);
    report.diagnostics.push(
        Diagnostic::new(
            DiagnosticLevel::Error,
            "yaml-syntax",
            "mapping values are not allowed in this context; this document was not scanned",
        )
        .in_file("deploy/broken.yaml")
        .at(4, 9)
        .on_object("Deployment broken"),
    );
    report.diagnostics.push(
        Diagnostic::new(
            DiagnosticLevel::Warning,
            "duplicate-key",
            "duplicate key `image` (first at line 8)",
        )
        .in_file("deploy/web.yaml")
        .at(9, 7),
    );
    report.coverage.push(Coverage {
        rule: "SEC001".into(),
        evaluated: 1,
        failed: 0,
        not_assessed: 1,
        not_assessed_objects: vec![NotAssessed {
            failed: false,
            object: object("Deployment", "api"),
            reason: "Secret \"db\" is not in the scanned manifests".into(),
        }],
        skipped: None,
        incomplete: Vec::new(),
        controls: Vec::new(),
    });
    report.evaluations = evaluations([
        Outcome::Pass,
        Outcome::NotAssessed("Secret \"db\" is not in the scanned manifests".into()),
    ]);
    report
}

/// Renders `report` in `format` as the snapshot tests see it: no colours, `--fail-on high`.
pub fn render(format: crate::Format, report: &Report) -> String {
    let options = crate::WriteOptions {
        color: false,
        fail_on: Some(Severity::High),
        ..crate::WriteOptions::default()
    };
    let mut out = Vec::new();
    crate::write(format, report, options, &mut out).expect("writing to memory");
    String::from_utf8(out).expect("writers emit UTF-8")
}

/// The snapshot trio every writer has: findings, no findings, tool errors.
macro_rules! snapshot_trio {
    ($format:expr) => {
        #[test]
        fn findings() {
            let report = $crate::test_support::report_with_findings();
            insta::assert_snapshot!($crate::test_support::render($format, &report));
        }

        #[test]
        fn empty() {
            let report = $crate::test_support::empty_report();
            insta::assert_snapshot!($crate::test_support::render($format, &report));
        }

        #[test]
        fn diagnostics() {
            let report = $crate::test_support::report_with_diagnostics();
            insta::assert_snapshot!($crate::test_support::render($format, &report));
        }
    };
}
pub(crate) use snapshot_trio;
