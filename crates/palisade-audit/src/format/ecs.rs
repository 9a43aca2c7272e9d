//! Elastic Common Schema 8, written straight from the alert.

use palisade_core::Severity;
use serde::Serialize;

use crate::alert::{Alert, Enrichment, EvidenceMap, RequestFacts};
use crate::indicator::IndicatorMatch;

use super::technique_name;

/// ECS numeric severity (Elastic's 21 low, 47 medium, 73 high, 99 critical).
fn severity(severity: Severity) -> u8 {
    match severity {
        Severity::Info => 1,
        Severity::Low => 21,
        Severity::Medium => 47,
        Severity::High => 73,
        Severity::Critical => 99,
    }
}

#[derive(Serialize)]
pub(super) struct Document<'a> {
    #[serde(rename = "@timestamp")]
    timestamp: Option<&'a str>,
    message: &'a str,
    ecs: Version,
    event: EventFields<'a>,
    rule: Rule<'a>,
    threat: Threat<'a>,
    user: User<'a>,
    source: Source<'a>,
    related: Related<'a>,
    #[serde(skip_serializing_if = "Option::is_none")]
    user_agent: Option<UserAgent<'a>>,
    url: Url<'a>,
    http: Http,
    orchestrator: Orchestrator<'a>,
    palisade: Palisade<'a>,
    #[serde(skip_serializing_if = "Option::is_none")]
    container: Option<Container<'a>>,
}

#[derive(Serialize)]
struct Version {
    version: &'static str,
}

#[derive(Serialize)]
struct EventFields<'a> {
    kind: &'static str,
    module: &'static str,
    dataset: &'static str,
    id: &'a str,
    action: &'a str,
    outcome: &'static str,
    severity: u8,
    category: [&'static str; 1],
    #[serde(rename = "type")]
    kind_of_change: [&'static str; 1],
    #[serde(skip_serializing_if = "Option::is_none")]
    risk_score: Option<f64>,
}

#[derive(Serialize)]
struct Rule<'a> {
    id: &'a str,
    name: &'a str,
    description: &'a str,
    ruleset: &'static str,
}

#[derive(Serialize)]
struct Threat<'a> {
    framework: &'static str,
    technique: Vec<Technique<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    enrichments: Option<[ThreatEnrichment<'a>; 1]>,
}

#[derive(Serialize)]
struct Technique<'a> {
    id: &'a str,
    name: &'static str,
    reference: String,
}

/// ECS's `threat.enrichments` entry of an indicator match: the indicator as
/// `threat.indicator.*` gives one, and what matched it (`matched.atomic` in `matched.field`),
/// as Elastic's indicator match rules write them.
#[derive(Serialize)]
struct ThreatEnrichment<'a> {
    indicator: Indicator<'a>,
    matched: Matched<'a>,
}

#[derive(Serialize)]
struct Indicator<'a> {
    #[serde(rename = "type")]
    kind: &'static str,
    provider: &'a str,
    confidence: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    description: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    ip: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    url: Option<Domain<'a>>,
}

#[derive(Serialize)]
struct Domain<'a> {
    domain: &'a str,
}

#[derive(Serialize)]
struct Matched<'a> {
    atomic: &'a str,
    field: &'static str,
    id: &'a str,
    #[serde(rename = "type")]
    kind: &'static str,
}

#[derive(Serialize)]
struct User<'a> {
    name: &'a str,
    group: Group<'a>,
}

#[derive(Serialize)]
struct Group<'a> {
    name: &'a [String],
}

#[derive(Serialize)]
struct Source<'a> {
    ip: Option<&'a str>,
}

#[derive(Serialize)]
struct Related<'a> {
    ip: &'a [String],
    user: [&'a str; 1],
}

#[derive(Serialize)]
struct UserAgent<'a> {
    original: &'a str,
}

#[derive(Serialize)]
struct Url<'a> {
    path: &'a str,
}

#[derive(Serialize)]
struct Http {
    response: Response,
}

#[derive(Serialize)]
struct Response {
    #[serde(skip_serializing_if = "Option::is_none")]
    status_code: Option<i64>,
}

#[derive(Serialize)]
struct Orchestrator<'a> {
    #[serde(rename = "type")]
    kind: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    namespace: Option<&'a str>,
    resource: Resource<'a>,
}

#[derive(Serialize)]
struct Resource<'a> {
    #[serde(rename = "type")]
    kind: String,
    name: &'a str,
}

#[derive(Serialize)]
struct Palisade<'a> {
    severity: Severity,
    #[serde(skip_serializing_if = "Option::is_none")]
    audit_id: Option<&'a str>,
    /// The resource's API group (`apps`; empty for the core group): ECS has no field for it.
    #[serde(skip_serializing_if = "str::is_empty")]
    api_group: &'a str,
    evidence: EvidenceMap<'a>,
    #[serde(skip_serializing_if = "Option::is_none")]
    confidence: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    enrichment: Option<&'a Enrichment>,
    #[serde(skip_serializing_if = "Option::is_none")]
    impersonated_user: Option<&'a str>,
}

#[derive(Serialize)]
struct Container<'a> {
    image: Image<'a>,
}

#[derive(Serialize)]
struct Image<'a> {
    name: &'a str,
}

impl<'a> ThreatEnrichment<'a> {
    fn of(found: &'a IndicatorMatch) -> ThreatEnrichment<'a> {
        ThreatEnrichment {
            indicator: Indicator {
                kind: found.stix_type,
                provider: &found.source,
                confidence: found.ecs_confidence(),
                description: found.name.as_deref(),
                ip: found.address.as_deref(),
                url: (found.stix_type == "domain-name").then_some(Domain {
                    domain: &found.value,
                }),
            },
            matched: Matched {
                atomic: &found.observed,
                field: found.field,
                id: &found.id,
                kind: "indicator_match_rule",
            },
        }
    }
}

impl<'a> Document<'a> {
    pub(super) fn of(alert: &'a Alert) -> Document<'a> {
        let r: &RequestFacts = &alert.request;
        let outcome = match r.succeeded() {
            Some(true) => "success",
            Some(false) => "failure",
            None => "unknown",
        };
        // ECS's types for the configuration category.
        let kind_of_change = match r.verb.as_str() {
            "create" => "creation",
            "update" | "patch" => "change",
            "delete" | "deletecollection" => "deletion",
            _ => "info",
        };
        let indicator = alert.indicator.as_deref();
        Document {
            timestamp: r.time.as_deref(),
            message: &alert.message,
            ecs: Version { version: "8.11.0" },
            event: EventFields {
                kind: "alert",
                module: "kubernetes",
                dataset: "palisade.audit",
                id: &alert.id,
                action: &r.verb,
                outcome,
                severity: severity(alert.severity),
                category: ["configuration"],
                kind_of_change: [kind_of_change],
                risk_score: alert.confidence.map(|c| (c * 100.0).round()),
            },
            rule: Rule {
                id: &alert.rule.id,
                name: &alert.rule.slug,
                description: &alert.rule.title,
                ruleset: "palisade-audit",
            },
            threat: Threat {
                framework: "MITRE ATT&CK",
                technique: alert
                    .rule
                    .controls
                    .iter()
                    .map(|c| Technique {
                        id: &c.id,
                        name: technique_name(c),
                        reference: format!(
                            "https://attack.mitre.org/techniques/{}/",
                            c.id.replace('.', "/")
                        ),
                    })
                    .collect(),
                enrichments: indicator.map(|found| [ThreatEnrichment::of(found)]),
            },
            user: User {
                name: &r.user,
                group: Group { name: &r.groups },
            },
            source: Source {
                ip: r.connection_ip(),
            },
            related: Related {
                ip: &r.source_ips,
                user: [&r.user],
            },
            user_agent: r
                .user_agent
                .as_deref()
                .map(|original| UserAgent { original }),
            url: Url { path: &r.path },
            http: Http {
                response: Response {
                    status_code: r.response_code,
                },
            },
            orchestrator: Orchestrator {
                kind: "kubernetes",
                namespace: r.namespace.as_deref(),
                resource: Resource {
                    kind: r.resource_path(),
                    name: &r.name,
                },
            },
            palisade: Palisade {
                severity: alert.severity,
                audit_id: r.audit_id.as_deref(),
                api_group: &r.api_group,
                evidence: EvidenceMap(&alert.evidence),
                confidence: alert.confidence,
                enrichment: alert.enrichment.as_ref(),
                impersonated_user: r.impersonated_user.as_deref(),
            },
            container: indicator
                .filter(|found| found.field == "container.image.name")
                .map(|found| Container {
                    image: Image {
                        name: &found.observed,
                    },
                }),
        }
    }
}
