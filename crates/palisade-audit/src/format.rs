//! Alert formats: Palisade's own JSON, OCSF 1.1 Detection Finding (class 2004, with the
//! request as the finding's API-activity evidence; the source is the connection's address,
//! the forwarding headers' addresses apart), Elastic Common Schema, ArcSight CEF, a
//! one-line text form for terminals, and the RFC 5424 syslog envelope the CEF and JSON
//! forms travel in. Pure functions: where alerts go is the sinks' business.

use palisade_core::{Control, Severity};
use serde_json::Value;

use crate::alert::Alert;

mod ecs;
mod ocsf;

/// The formats alerts are written in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AlertFormat {
    /// One line per alert for people.
    Text,
    /// Palisade's alert JSON, one object per line.
    Json,
    /// OCSF 1.1 Detection Finding, one object per line.
    Ocsf,
    /// Elastic Common Schema, one object per line.
    Ecs,
    /// ArcSight Common Event Format, one line per alert.
    Cef,
}

impl AlertFormat {
    pub fn parse(text: &str) -> Option<AlertFormat> {
        Some(match text {
            "text" => AlertFormat::Text,
            "json" => AlertFormat::Json,
            "ocsf" => AlertFormat::Ocsf,
            "ecs" => AlertFormat::Ecs,
            "cef" => AlertFormat::Cef,
            _ => return None,
        })
    }

    pub const NAMES: &'static [&'static str] = &["text", "json", "ocsf", "ecs", "cef"];
}

/// One alert as one line (no newline) in `format`.
pub fn render(alert: &Alert, format: AlertFormat) -> String {
    match format {
        AlertFormat::Text => text(alert),
        AlertFormat::Json => serde_json::to_string(alert).unwrap_or_default(),
        AlertFormat::Ocsf => serde_json::to_string(&ocsf::Finding::of(alert)).unwrap_or_default(),
        AlertFormat::Ecs => serde_json::to_string(&ecs::Document::of(alert)).unwrap_or_default(),
        AlertFormat::Cef => cef(alert),
    }
}

/// `HIGH  AUD004 2026-12-01T10:00:00Z alice created pod app/p with privileged ... [T1610]`.
pub fn text(alert: &Alert) -> String {
    let time = alert.request.time.as_deref().unwrap_or("-");
    let techniques = alert.techniques();
    let mut line = format!(
        "{:<8} {} {time} {}",
        alert.severity.as_str().to_uppercase(),
        alert.rule.id,
        alert.message
    );
    if !techniques.is_empty() {
        line.push_str(&format!(" [{}]", techniques.join(",")));
    }
    if let Some(confidence) = alert.confidence {
        line.push_str(&format!(" (confidence {confidence:.2})"));
    }
    line.push_str(&format!(" ({}:{})", alert.origin.file, alert.origin.line));
    // One line a person reads: what a request put in it (a user name, a user agent) can
    // neither start a line of its own nor steer the terminal.
    palisade_core::printable(&line).into_owned()
}

fn millis(alert: &Alert) -> i64 {
    alert.request.time_micros.map_or(0, |t| t / 1000)
}

fn technique_name(control: &Control) -> &'static str {
    control.title().unwrap_or("")
}

/// OCSF 1.1 Detection Finding.
pub fn ocsf(alert: &Alert) -> Value {
    serde_json::to_value(ocsf::Finding::of(alert)).unwrap_or_default()
}

/// Elastic Common Schema 8.
pub fn ecs(alert: &Alert) -> Value {
    serde_json::to_value(ecs::Document::of(alert)).unwrap_or_default()
}

/// CEF severity 0-10.
fn cef_severity(severity: Severity) -> u8 {
    match severity {
        Severity::Info => 1,
        Severity::Low => 3,
        Severity::Medium => 5,
        Severity::High => 8,
        Severity::Critical => 10,
    }
}

/// A CEF header field: `|` and `\` escaped, no newlines.
fn cef_header(text: &str) -> String {
    text.replace('\\', "\\\\")
        .replace('|', "\\|")
        .replace(['\r', '\n'], " ")
}

/// A CEF extension value: `=` and `\` escaped, newlines as `\n`.
fn cef_value(text: &str) -> String {
    text.replace('\\', "\\\\")
        .replace('=', "\\=")
        .replace('\n', "\\n")
        .replace('\r', "\\r")
}

/// ArcSight CEF:0. The standard keys hold what they name (`suser` the requester, `duser`
/// the user they impersonated, `outcome` success or failure); the rest goes in labelled
/// custom strings, each with its label only when it has a value.
pub fn cef(alert: &Alert) -> String {
    let r = &alert.request;
    let mut ext: Vec<(&str, String)> = vec![
        ("rt", millis(alert).to_string()),
        ("externalId", alert.id.clone()),
        ("suser", r.user.clone()),
        ("duser", r.impersonated_user.clone().unwrap_or_default()),
        ("act", r.verb.clone()),
        ("request", r.path.clone()),
        ("msg", alert.message.clone()),
    ];
    let custom = [
        (
            "cs1",
            "cs1Label",
            "namespace",
            r.namespace.clone().unwrap_or_default(),
        ),
        ("cs2", "cs2Label", "resource", r.resource_path()),
        (
            "cs3",
            "cs3Label",
            "mitreTechniques",
            alert.techniques().join(","),
        ),
        (
            "cs4",
            "cs4Label",
            "auditID",
            r.audit_id.clone().unwrap_or_default(),
        ),
        ("cs5", "cs5Label", "objectName", r.name.clone()),
    ];
    for (key, label_key, label, value) in custom {
        if !value.is_empty() {
            ext.push((label_key, label.to_string()));
            ext.push((key, value));
        }
    }
    if let Some(ip) = r.connection_ip() {
        ext.push(("src", ip.to_string()));
    }
    if let Some(agent) = &r.user_agent {
        ext.push(("requestClientApplication", agent.clone()));
    }
    if let (Some(code), Some(succeeded)) = (r.response_code, r.succeeded()) {
        let outcome = if succeeded { "success" } else { "failure" };
        ext.push(("outcome", outcome.into()));
        ext.push(("cn1Label", "responseCode".into()));
        ext.push(("cn1", code.to_string()));
    }
    let extension: Vec<String> = ext
        .into_iter()
        .filter(|(_, v)| !v.is_empty())
        .map(|(k, v)| format!("{k}={}", cef_value(&v)))
        .collect();
    format!(
        "CEF:0|Palisade|palisade|{}|{}|{}|{}|{}",
        env!("CARGO_PKG_VERSION"),
        cef_header(&alert.rule.id),
        cef_header(&alert.rule.title),
        cef_severity(alert.severity),
        extension.join(" ")
    )
}

/// Syslog severity (RFC 5424) of an alert.
fn syslog_severity(severity: Severity) -> u8 {
    match severity {
        Severity::Critical => 2,
        Severity::High => 3,
        Severity::Medium => 4,
        Severity::Low => 5,
        Severity::Info => 6,
    }
}

/// An RFC 5424 message (facility local0) carrying `body`; `hostname` as the sender names
/// itself. Without framing: TCP transports prefix the octet count (RFC 6587).
pub fn syslog(alert: &Alert, body: &str, hostname: &str) -> String {
    let pri = 16 * 8 + u32::from(syslog_severity(alert.severity));
    let time = alert
        .request
        .time
        .as_deref()
        .filter(|t| !t.is_empty() && !t.contains(' '))
        .unwrap_or("-");
    let host = if hostname.is_empty() { "-" } else { hostname };
    format!(
        "<{pri}>1 {time} {host} palisade - {} [palisade@32473 id=\"{}\" rule=\"{}\"] {body}",
        alert.rule.id,
        sd_escape(&alert.id),
        sd_escape(&alert.rule.id)
    )
}

/// An RFC 5424 structured-data parameter value: `"`, `\` and `]` escaped.
fn sd_escape(text: &str) -> String {
    text.replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace(']', "\\]")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Engine, Origin, Selection, Settings};
    use serde_json::json;

    fn alert() -> Alert {
        let line = r#"{"kind":"Event","apiVersion":"audit.k8s.io/v1","auditID":"a-1","stage":"ResponseComplete","verb":"create","requestURI":"/api/v1/namespaces/app/pods","user":{"username":"alice","groups":["dev|ops"]},"sourceIPs":["203.0.113.9"],"userAgent":"kubectl/v1.33","objectRef":{"resource":"pods","namespace":"app","apiVersion":"v1"},"responseStatus":{"code":201},"requestReceivedTimestamp":"2026-12-01T10:00:00.000000Z","requestObject":{"kind":"Pod","metadata":{"name":"p"},"spec":{"containers":[{"name":"a","image":"busybox","securityContext":{"privileged":true}}]}}}"#;
        let event = crate::Event::decode(line).unwrap();
        let mut engine = Engine::new(Settings::default(), None, &Selection::default());
        let mut alerts = Vec::new();
        let origin = Origin {
            file: "audit.log".into(),
            line: 7,
        };
        engine.analyze(&event, &origin, &mut alerts);
        alerts.into_iter().find(|a| a.rule.id == "AUD004").unwrap()
    }

    /// A forged `X-Forwarded-For` comes first in `sourceIPs`; the connection's address is
    /// last, and is the one every format gives as the source.
    #[test]
    fn the_source_is_the_connection_and_forwarded_addresses_are_apart() {
        let mut alert = alert();
        std::sync::Arc::make_mut(&mut alert.request).source_ips =
            vec!["10.244.1.5".into(), "203.0.113.9".into()];
        let ocsf = ocsf(&alert);
        assert_eq!(ocsf["evidences"][0]["src_endpoint"]["ip"], "203.0.113.9");
        assert_eq!(
            ocsf["evidences"][0]["src_endpoint"]["intermediate_ips"],
            json!(["10.244.1.5"])
        );
        let ecs = ecs(&alert);
        assert_eq!(ecs["source"]["ip"], "203.0.113.9");
        assert_eq!(ecs["related"]["ip"], json!(["10.244.1.5", "203.0.113.9"]));
        assert!(cef(&alert).contains(" src=203.0.113.9 "), "{}", cef(&alert));
    }

    #[test]
    fn ocsf_is_a_detection_finding_with_the_request_as_evidence() {
        let v = ocsf(&alert());
        assert_eq!(v["class_uid"], 2004);
        assert_eq!(v["type_uid"], 200401);
        assert_eq!(v["severity_id"], 4);
        assert_eq!(v["time"], 1_796_119_200_000_i64);
        assert_eq!(v["finding_info"]["analytic"]["uid"], "AUD004");
        assert_eq!(v["finding_info"]["attacks"][0]["technique"]["uid"], "T1610");
        assert_eq!(v["evidences"][0]["actor"]["user"]["name"], "alice");
        assert_eq!(v["evidences"][0]["api"]["operation"], "create");
        assert_eq!(v["resources"][0]["namespace"], "app");
    }

    #[test]
    fn ecs_names_the_rule_the_threat_and_the_orchestrator() {
        let v = ecs(&alert());
        assert_eq!(v["event"]["kind"], "alert");
        assert_eq!(v["event"]["severity"], 73);
        assert_eq!(v["rule"]["id"], "AUD004");
        assert_eq!(v["threat"]["technique"][1]["id"], "T1611");
        assert_eq!(v["orchestrator"]["namespace"], "app");
        assert_eq!(v["source"]["ip"], "203.0.113.9");
    }

    /// What only some alerts have (a confidence, context) is in the fields both schemas
    /// give it, and absent, not null, when the alert has none.
    #[test]
    fn confidence_and_context_appear_only_when_the_alert_has_them() {
        let plain = alert();
        let ocsf_plain = ocsf(&plain);
        assert!(ocsf_plain.get("confidence_score").is_none());
        assert!(ocsf_plain["unmapped"].get("enrichment").is_none());
        let ecs_plain = ecs(&plain);
        assert!(ecs_plain["event"].get("risk_score").is_none());
        assert!(ecs_plain["palisade"]["confidence"].is_null());
        assert!(ecs_plain.get("container").is_none());
        let mut rich = plain.clone();
        rich.confidence = Some(0.734);
        rich.enrichment = Some(crate::alert::Enrichment {
            criticality: Some("high".into()),
            ..Default::default()
        });
        let o = ocsf(&rich);
        assert_eq!(o["confidence_score"], 73);
        assert_eq!(o["unmapped"]["enrichment"]["criticality"], "high");
        let e = ecs(&rich);
        assert_eq!(e["event"]["risk_score"], 73.0);
        assert_eq!(e["palisade"]["confidence"], 0.734);
        assert_eq!(e["palisade"]["enrichment"]["criticality"], "high");
        // What `render` writes is what these give.
        assert_eq!(render(&rich, AlertFormat::Ocsf), o.to_string());
        assert_eq!(render(&rich, AlertFormat::Ecs), e.to_string());
    }

    /// An exec's upgraded connection (101) is a success in ECS and CEF alike, and ECS says
    /// what kind of change the request made.
    #[test]
    fn outcomes_and_kinds_of_change() {
        let mut exec = alert();
        for (code, verb, outcome, kind) in [
            (101, "create", "success", "creation"),
            (403, "patch", "failure", "change"),
        ] {
            let request = std::sync::Arc::make_mut(&mut exec.request);
            request.response_code = Some(code);
            request.verb = verb.into();
            let e = ecs(&exec);
            assert_eq!(e["event"]["outcome"], outcome);
            assert_eq!(e["event"]["type"], serde_json::json!([kind]));
            let line = cef(&exec);
            assert!(line.contains(&format!(" outcome={outcome} ")), "{line}");
        }
        // What the request did not say is left out, not written as null.
        let request = std::sync::Arc::make_mut(&mut exec.request);
        request.user_agent = None;
        request.audit_id = None;
        for format in [AlertFormat::Ecs, AlertFormat::Ocsf] {
            let text = render(&exec, format);
            assert!(!text.contains("null"), "{text}");
        }
    }

    #[test]
    fn cef_and_syslog_escape_what_their_grammar_reserves() {
        let a = alert();
        let line = cef(&a);
        assert!(line.starts_with("CEF:0|Palisade|palisade|"), "{line}");
        assert!(
            line.contains("|AUD004|Pod with a privileged container created|8|"),
            "{line}"
        );
        assert!(line.contains("suser=alice"), "{line}");
        // The object is no user: a custom string names it; `duser` is whom they impersonated.
        assert!(!line.contains("duser="), "{line}");
        let mut acting = a.clone();
        std::sync::Arc::make_mut(&mut acting.request).impersonated_user =
            Some("system:admin".into());
        assert!(
            cef(&acting).contains(" duser=system:admin "),
            "{}",
            cef(&acting)
        );
        // A label only with its value.
        let mut cluster_scoped = a.clone();
        std::sync::Arc::make_mut(&mut cluster_scoped.request).namespace = None;
        assert!(
            !cef(&cluster_scoped).contains("cs1Label"),
            "{}",
            cef(&cluster_scoped)
        );
        let mut tricky = a.clone();
        tricky.message = "a=b|c\nd".into();
        assert!(cef(&tricky).contains("msg=a\\=b|c\\nd"));
        let message = syslog(&a, &line, "node-1");
        assert!(
            message.starts_with(
                "<131>1 2026-12-01T10:00:00.000000Z node-1 palisade - AUD004 [palisade@32473 id=\""
            ),
            "{message}"
        );
    }

    #[test]
    fn text_is_one_line_with_the_origin() {
        let line = text(&alert());
        assert!(
            line.starts_with("HIGH     AUD004 2026-12-01T10:00:00.000000Z alice created pod app/p"),
            "{line}"
        );
        assert!(line.ends_with("(audit.log:7)"), "{line}");
        assert!(!line.contains('\n'));
    }
}
