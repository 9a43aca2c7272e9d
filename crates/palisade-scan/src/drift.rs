//! `palisade drift` as a report: each difference between the manifests and the cluster becomes
//! a finding (so every output format and `--fail-on` work), and findings that exist only on the
//! live object (someone made a pod privileged by hand) are reported with their rule.

use std::borrow::Cow;
use std::collections::HashSet;

use palisade_core::redact::{hidden, is_printable};
use palisade_core::{
    Finding, FindingOrder, JsonPointer, Report, ReportBuilder, RuleMeta, Severity, Subject,
};
use palisade_inventory::Inventory;
use palisade_snapshot::drift::{Change, DriftOptions, Manager, compare, creator};
use serde_json::Value;

use crate::date::Date;
use crate::scan::{ScanOptions, scan_inventory};

fn meta(
    id: &'static str,
    slug: &'static str,
    title: &'static str,
    severity: Severity,
    docs: &'static str,
    remediation: &'static str,
) -> RuleMeta {
    RuleMeta {
        id: Cow::Borrowed(id),
        slug: Cow::Borrowed(slug),
        title: Cow::Borrowed(title),
        severity,
        controls: Cow::Borrowed(&[]),
        remediation: Cow::Borrowed(remediation),
        docs: Cow::Borrowed(docs),
    }
}

/// The drift "rules" (kinds of difference): one static metadata each, so findings share it.
static MISSING_IN_CLUSTER: std::sync::LazyLock<RuleMeta> = std::sync::LazyLock::new(|| {
    meta(
        "DRIFT001",
        "missing-in-cluster",
        "Object in the manifests is missing in the cluster",
        Severity::Medium,
        "## What it checks\nObjects of the manifests that the cluster does not have (by group, kind, namespace and name).\n\n## Why it matters\nA missing NetworkPolicy, Role or PodDisruptionBudget is a control that is not enforced.\n",
        "Apply the manifests, or remove the object from Git if it is obsolete.",
    )
});

static NOT_IN_MANIFESTS: std::sync::LazyLock<RuleMeta> = std::sync::LazyLock::new(|| {
    meta(
        "DRIFT002",
        "not-in-manifests",
        "Object in the cluster is not in the manifests",
        Severity::Medium,
        "## What it checks\nObjects in the cluster that the manifests do not define: of a kind and namespace the manifests manage, and, in any namespace the manifests manage, of a kind that changes access or what runs (Role, RoleBinding, NetworkPolicy, ServiceAccount, Pod, workloads, Service, Ingress) even when the manifests have none of that kind. Owned objects and those the cluster creates itself are ignored. The message names who first wrote the object (`managedFields`).\n\n## Why it matters\nObjects created by hand escape review: a debug pod, an extra RoleBinding, a second Service. Findings of every rule on such an object are reported with it.\n",
        "Add the object to Git, or delete it from the cluster.",
    )
});

static FIELD_DRIFT: std::sync::LazyLock<RuleMeta> = std::sync::LazyLock::new(|| {
    meta(
        "DRIFT003",
        "field-drift",
        "Field differs between the manifests and the cluster",
        Severity::Low,
        "## What it checks\nFields whose live value differs from the manifest's, ignoring what the API server fills in (defaults, status, server metadata). Severity follows the field: security contexts, RBAC rules, images, host namespaces, NetworkPolicy specs and Service types are high; environment, ports and volumes medium; replicas and annotations low. `managedFields` names who changed it.\n\n## Why it matters\nA hand edit is an unreviewed change and, for security fields, often the first sign of tampering.\n",
        "Revert the live change (re-apply the manifests) or bring it into Git through review.",
    )
});

/// The drift rules, in id order.
pub fn drift_rule_metas() -> [&'static RuleMeta; 3] {
    [&MISSING_IN_CLUSTER, &NOT_IN_MANIFESTS, &FIELD_DRIFT]
}

/// A value for a drift message, rendered through the redaction allow-list
/// ([`palisade_core::redact::is_printable`]): booleans, numbers and strings of harmless fields
/// (images, pull policies, capabilities, ports, quantities, names) are shown; every other
/// string is `<hidden #tag>`, a stable short hash that says nothing of its length, so two
/// reports can be compared without either showing the value.
/// What an object's values are judged by: its API version and kind.
#[derive(Clone, Copy)]
struct Schema<'a> {
    api_version: &'a str,
    kind: &'a str,
}

fn shown(value: &Option<Value>, schema: Schema<'_>, path: &JsonPointer) -> String {
    let Some(v) = value else {
        return "(absent)".into();
    };
    let segments: Vec<String> = path.segments().map(|s| s.into_owned()).collect();
    let mut at: Vec<&str> = segments.iter().map(String::as_str).collect();
    let text = match v {
        // A hidden scalar reads better without JSON quotes: `<hidden #1a2b3c4d>`.
        Value::String(s) if !is_printable(schema.api_version, schema.kind, &at, v) => hidden(s),
        _ => render(v, schema, &mut at).to_string(),
    };
    if text.chars().count() > 120 {
        format!("{}...", text.chars().take(120).collect::<String>())
    } else {
        text
    }
}

/// `value` with every string the allow-list does not name replaced by its tag.
fn render<'v>(value: &'v Value, schema: Schema<'_>, at: &mut Vec<&'v str>) -> Value {
    match value {
        Value::String(s) => {
            if is_printable(schema.api_version, schema.kind, at, value) {
                value.clone()
            } else {
                Value::String(hidden(s))
            }
        }
        Value::Object(map) => Value::Object(
            map.iter()
                .map(|(k, v)| {
                    at.push(k);
                    let shown = render(v, schema, at);
                    at.pop();
                    (k.clone(), shown)
                })
                .collect(),
        ),
        Value::Array(items) => Value::Array(
            items
                .iter()
                .map(|v| {
                    at.push("0");
                    let shown = render(v, schema, at);
                    at.pop();
                    shown
                })
                .collect(),
        ),
        other => other.clone(),
    }
}

/// `kubectl-edit (Update at 2026-11-25T22:14:03Z)`.
fn manager_text(m: &Manager) -> String {
    format!(
        "{} ({}{})",
        m.manager,
        m.operation,
        m.time
            .as_ref()
            .map(|t| format!(" at {t}"))
            .unwrap_or_default()
    )
}

/// Compares `desired` with `live` and reports the differences and the live-only findings,
/// with the diagnostics of loading both sides first.
pub fn drift_report(
    desired: &Inventory,
    live: &Inventory,
    options: &ScanOptions,
    drift: &DriftOptions,
    diagnostics: Vec<palisade_core::Diagnostic>,
) -> Report {
    let start = std::time::Instant::now();
    let drifts = compare(desired, live, drift);
    let mut findings: Vec<Finding> = drifts
        .iter()
        .filter_map(|d| drift_finding(d, desired, live))
        .collect();
    // Disabled drift kinds, and `palisade.toml` suppressions of drift findings (by rule,
    // namespace, kind, name or file).
    findings.retain(|f| {
        !options
            .config
            .disabled_rules
            .iter()
            .any(|r| r == f.rule_id())
    });
    let today = options.today.unwrap_or_else(Date::today);
    crate::suppress::apply_config(&mut findings, &options.config, today);
    let live_report = scan_inventory(live, options);
    let mut rules: Vec<palisade_core::RuleRef> =
        drift_rule_metas().into_iter().map(Into::into).collect();
    rules.extend(live_report.rules.iter().cloned());
    findings.extend(live_only_findings(
        desired,
        live,
        &drifts,
        options,
        live_report.findings,
    ));
    let mut report = ReportBuilder {
        findings,
        diagnostics,
        coverage: live_report.coverage,
        rules,
        objects: live_report.objects,
        files: desired.sources.len() + live.sources.len(),
        order: FindingOrder::Subject,
        ..ReportBuilder::default()
    }
    .build(start.elapsed());
    crate::scan::redactor(&[desired, live]).redact_report(&mut report);
    report
}

/// The finding for one difference, located where a reviewer would change it: on the manifest
/// in Git whenever the object is there (the field, or its nearest parent when the manifest
/// does not write it), on the live object only for objects made in the cluster.
fn drift_finding(
    d: &palisade_snapshot::drift::Drift,
    desired: &Inventory,
    live: &Inventory,
) -> Option<Finding> {
    let (rule, severity, path, message, on_live): (&'static RuleMeta, _, _, _, _) = match &d.change
    {
        Change::MissingInCluster => (
            &MISSING_IN_CLUSTER,
            MISSING_IN_CLUSTER.severity,
            JsonPointer::root(),
            format!(
                "{} {} is in the manifests but not in the cluster",
                d.object.kind,
                d.object.display_name()
            ),
            false,
        ),
        Change::NotInManifests => {
            let by = d
                .live
                .and_then(|l| creator(&live.objects[l].value))
                .map(|m| format!("; written by {}", manager_text(&m)))
                .unwrap_or_default();
            (
                &NOT_IN_MANIFESTS,
                NOT_IN_MANIFESTS.severity,
                JsonPointer::root(),
                format!(
                    "{} {} is in the cluster but not in the manifests{by}",
                    d.object.kind,
                    d.object.display_name()
                ),
                true,
            )
        }
        Change::Field(f) => (
            &FIELD_DRIFT,
            f.relevance,
            f.path.clone(),
            field_message(d, f, desired, live),
            true,
        ),
    };
    let (inventory, index) = if on_live && d.desired.is_none() {
        (live, d.live)
    } else {
        (desired, d.desired)
    };
    let object = &inventory.objects[index?];
    let location = palisade_rules::engine::locate(inventory, object, &path);
    let subject = Subject::Object(std::sync::Arc::new(d.object.clone()));
    Some(Finding::new(rule, subject, location, message).with_severity(severity))
}

/// `spec/replicas is 5 in the cluster, 2 in the manifests; changed by kubectl-edit (...)`,
/// with every value passed through the printing allow-list.
fn field_message(
    d: &palisade_snapshot::drift::Drift,
    f: &palisade_snapshot::drift::FieldChange,
    desired: &Inventory,
    live: &Inventory,
) -> String {
    let object = d
        .live
        .map(|l| &live.objects[l].value)
        .or(d.desired.map(|i| &desired.objects[i].value));
    let field = |name: &str| {
        object
            .and_then(|o| o.get(name))
            .and_then(Value::as_str)
            .unwrap_or("")
    };
    let schema = Schema {
        api_version: field("apiVersion"),
        kind: field("kind"),
    };
    let show = |value: &Option<serde_json::Value>| shown(value, schema, &f.path);
    let what = match (&f.desired, &f.live) {
        (Some(_), None) => format!(
            "{} is set in the manifests but absent in the cluster ({})",
            f.path,
            show(&f.desired)
        ),
        (None, Some(_)) => {
            format!("{} was added in the cluster: {}", f.path, show(&f.live))
        }
        _ => format!(
            "{} is {} in the cluster, {} in the manifests",
            f.path,
            show(&f.live),
            show(&f.desired)
        ),
    };
    let by = f
        .manager
        .as_ref()
        .map(|m| format!("; changed by {}", manager_text(m)))
        .unwrap_or_default();
    format!("{what}{by}")
}

/// Findings of the live objects that the manifests do not have: on an object the manifests
/// define, those the manifest's scan does not find; on an object made in the cluster, all.
fn live_only_findings(
    desired: &Inventory,
    live: &Inventory,
    drifts: &[palisade_snapshot::drift::Drift],
    options: &ScanOptions,
    live_findings: Vec<Finding>,
) -> Vec<Finding> {
    let desired_report = scan_inventory(desired, options);
    let key = |f: &Finding| {
        (
            f.rule_id().to_string(),
            f.subject.identity_key(),
            f.location.path.to_string(),
        )
    };
    let known: HashSet<(String, String, String)> =
        desired_report.findings.iter().map(key).collect();
    // The manifest of each live object the manifests define, where its findings are shown.
    let desired_objects: std::collections::HashMap<String, usize> = desired
        .objects
        .iter()
        .enumerate()
        .map(|(i, o)| (o.id.identity_key(), i))
        .collect();
    // Objects made in the cluster (DRIFT002): every finding on them is live-only.
    let hand_made: HashSet<String> = drifts
        .iter()
        .filter(|d| d.change == Change::NotInManifests)
        .filter_map(|d| d.live)
        .map(|l| live.objects[l].id.identity_key())
        .collect();
    let mut out = Vec::new();
    for mut f in live_findings {
        let id = f.subject.identity_key();
        if let Some(&manifest) = desired_objects.get(&id)
            && !known.contains(&key(&f))
        {
            f.message = format!("only in the cluster, not in the manifests: {}", f.message).into();
            let object = &desired.objects[manifest];
            f.location = palisade_rules::engine::locate(desired, object, &f.location.path);
            out.push(f);
        } else if hand_made.contains(&id) {
            f.message = format!(
                "on an object made in the cluster, not in the manifests: {}",
                f.message
            )
            .into();
            out.push(f);
        }
    }
    out
}
