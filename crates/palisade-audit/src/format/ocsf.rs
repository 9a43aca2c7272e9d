//! OCSF 1.1 Detection Finding (class 2004, type 200401), written straight from the alert.

use serde::Serialize;

use crate::alert::{Alert, Enrichment, EvidenceMap, RequestFacts};

use super::{millis, technique_name};

/// OCSF severity ids: 1 informational to 5 critical.
fn severity(severity: palisade_core::Severity) -> (u8, &'static str) {
    use palisade_core::Severity;
    match severity {
        Severity::Info => (1, "Informational"),
        Severity::Low => (2, "Low"),
        Severity::Medium => (3, "Medium"),
        Severity::High => (4, "High"),
        Severity::Critical => (5, "Critical"),
    }
}

#[derive(Serialize)]
pub(super) struct Finding<'a> {
    class_uid: u32,
    class_name: &'static str,
    category_uid: u8,
    category_name: &'static str,
    activity_id: u8,
    activity_name: &'static str,
    type_uid: u32,
    type_name: &'static str,
    time: i64,
    severity_id: u8,
    severity: &'static str,
    status_id: u8,
    status: &'static str,
    message: &'a str,
    metadata: Metadata<'a>,
    finding_info: FindingInfo<'a>,
    remediation: Described<'a>,
    resources: [Resource<'a>; 1],
    evidences: [Evidence<'a>; 1],
    unmapped: Unmapped<'a>,
    #[serde(skip_serializing_if = "Option::is_none")]
    confidence_score: Option<i64>,
}

#[derive(Serialize)]
struct Metadata<'a> {
    version: &'static str,
    uid: &'a str,
    product: Product,
    log_name: &'static str,
}

#[derive(Serialize)]
struct Product {
    name: &'static str,
    vendor_name: &'static str,
    version: &'static str,
}

#[derive(Serialize)]
struct FindingInfo<'a> {
    uid: &'a str,
    title: &'a str,
    desc: &'a str,
    types: [&'a str; 1],
    analytic: Analytic<'a>,
    attacks: Vec<Attack<'a>>,
}

#[derive(Serialize)]
struct Analytic<'a> {
    uid: &'a str,
    name: &'a str,
    type_id: u8,
    #[serde(rename = "type")]
    kind: &'static str,
}

#[derive(Serialize)]
struct Attack<'a> {
    technique: Technique<'a>,
    version: &'static str,
}

#[derive(Serialize)]
struct Technique<'a> {
    uid: &'a str,
    name: &'static str,
}

#[derive(Serialize)]
struct Described<'a> {
    desc: &'a str,
}

#[derive(Serialize)]
struct Named<'a> {
    name: &'a str,
}

/// The Kubernetes object of the request, as OCSF's resource.
#[derive(Serialize)]
struct Resource<'a> {
    #[serde(rename = "type")]
    kind: String,
    name: &'a str,
    group: Named<'a>,
    #[serde(skip_serializing_if = "Option::is_none")]
    namespace: Option<&'a str>,
}

#[derive(Serialize)]
struct Evidence<'a> {
    actor: Actor<'a>,
    api: Api<'a>,
    src_endpoint: Endpoint<'a>,
    http_request: HttpRequest<'a>,
}

#[derive(Serialize)]
struct Actor<'a> {
    user: User<'a>,
}

#[derive(Serialize)]
struct User<'a> {
    name: &'a str,
    groups: Vec<Named<'a>>,
}

#[derive(Serialize)]
struct Api<'a> {
    operation: &'a str,
    service: Named<'static>,
    request: Uid<'a>,
    response: Code,
}

#[derive(Serialize)]
struct Uid<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    uid: Option<&'a str>,
}

#[derive(Serialize)]
struct Code {
    #[serde(skip_serializing_if = "Option::is_none")]
    code: Option<i64>,
}

/// The connection's address, and those forwarding headers named (OCSF's
/// `intermediate_ips`: "the IP addresses in the HTTP X-Forwarded-For header").
#[derive(Serialize)]
struct Endpoint<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    ip: Option<&'a str>,
    #[serde(skip_serializing_if = "<[String]>::is_empty")]
    intermediate_ips: &'a [String],
}

#[derive(Serialize)]
struct HttpRequest<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    user_agent: Option<&'a str>,
    url: Path<'a>,
}

#[derive(Serialize)]
struct Path<'a> {
    path: &'a str,
}

#[derive(Serialize)]
struct Unmapped<'a> {
    evidence: EvidenceMap<'a>,
    #[serde(skip_serializing_if = "Option::is_none")]
    impersonated_user: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    decision: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    enrichment: Option<&'a Enrichment>,
}

impl<'a> Finding<'a> {
    pub(super) fn of(alert: &'a Alert) -> Finding<'a> {
        let (severity_id, severity) = severity(alert.severity);
        let r: &RequestFacts = &alert.request;
        let rule = &alert.rule;
        Finding {
            class_uid: 2004,
            class_name: "Detection Finding",
            category_uid: 2,
            category_name: "Findings",
            activity_id: 1,
            activity_name: "Create",
            type_uid: 200401,
            type_name: "Detection Finding: Create",
            time: millis(alert),
            severity_id,
            severity,
            status_id: 1,
            status: "New",
            message: &alert.message,
            metadata: Metadata {
                version: "1.1.0",
                uid: &alert.id,
                product: Product {
                    name: "Palisade",
                    vendor_name: "Palisade",
                    version: env!("CARGO_PKG_VERSION"),
                },
                log_name: "kubernetes-audit",
            },
            finding_info: FindingInfo {
                uid: &alert.id,
                title: &rule.title,
                desc: rule.summary(),
                types: [&rule.slug],
                analytic: Analytic {
                    uid: &rule.id,
                    name: &rule.slug,
                    type_id: 1,
                    kind: "Rule",
                },
                attacks: rule
                    .controls
                    .iter()
                    .map(|c| Attack {
                        technique: Technique {
                            uid: &c.id,
                            name: technique_name(c),
                        },
                        version: "15",
                    })
                    .collect(),
            },
            remediation: Described {
                desc: &rule.remediation,
            },
            resources: [Resource {
                kind: r.resource_path(),
                name: &r.name,
                group: Named { name: &r.api_group },
                namespace: r.namespace.as_deref(),
            }],
            evidences: [Evidence {
                actor: Actor {
                    user: User {
                        name: &r.user,
                        groups: r.groups.iter().map(|g| Named { name: g }).collect(),
                    },
                },
                api: Api {
                    operation: &r.verb,
                    service: Named {
                        name: "kube-apiserver",
                    },
                    request: Uid {
                        uid: r.audit_id.as_deref(),
                    },
                    response: Code {
                        code: r.response_code,
                    },
                },
                src_endpoint: Endpoint {
                    ip: r.connection_ip(),
                    intermediate_ips: r.forwarded_ips(),
                },
                http_request: HttpRequest {
                    user_agent: r.user_agent.as_deref(),
                    url: Path { path: &r.path },
                },
            }],
            unmapped: Unmapped {
                evidence: EvidenceMap(&alert.evidence),
                impersonated_user: r.impersonated_user.as_deref(),
                decision: r.decision.as_deref(),
                enrichment: alert.enrichment.as_ref(),
            },
            confidence_score: alert.confidence.map(|c| (c * 100.0).round() as i64),
        }
    }
}
