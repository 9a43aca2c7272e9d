//! An alert: one detection on one audit event, owned (it outlives the line it came from),
//! with the request's facts an analyst needs and a stable id that sinks deduplicate by.
//!
//! Nothing of the request's body is copied: an alert carries names (user, object, image,
//! role), never a value from a ConfigMap, a Secret or an environment variable. The exec
//! command line is kept only with any secret in it replaced by its tag.

use palisade_core::{RuleMeta, RuleRef, Severity};
use serde::Serialize;
use serde::ser::SerializeStruct;

use crate::detection::{Cx, Hit};

/// Where the event was read.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Origin {
    /// The file as given (`-` for standard input, `receiver` for the webhook).
    pub file: String,
    /// 1-based line of the event (of the EventList document for lists).
    pub line: u64,
}

impl Origin {
    /// Line `line` of `file`.
    pub fn at(file: &str, line: u64) -> Origin {
        Origin {
            file: file.to_string(),
            line,
        }
    }
}

/// The request an alert is about.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct RequestFacts {
    pub audit_id: Option<String>,
    /// As the API server wrote it.
    pub time: Option<String>,
    /// Microseconds since the epoch.
    #[serde(skip)]
    pub time_micros: Option<i64>,
    pub stage: String,
    pub verb: String,
    pub user: String,
    pub groups: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub impersonated_user: Option<String>,
    pub source_ips: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub user_agent: Option<String>,
    pub api_group: String,
    pub resource: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub subresource: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
    pub name: String,
    /// The request path without its query (queries can carry commands and tokens).
    pub path: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub response_code: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub decision: Option<String>,
}

impl RequestFacts {
    /// Whether the request succeeded, by its response code (`None` when none was logged): a
    /// 1xx (an exec's or attach's upgraded connection), 2xx or 3xx is a success.
    pub fn succeeded(&self) -> Option<bool> {
        self.response_code.map(|code| code < 400)
    }

    /// The address of the connection the API server saw (the last of `sourceIPs`; the
    /// others come from forwarding headers the client writes).
    pub fn connection_ip(&self) -> Option<&str> {
        self.source_ips.last().map(String::as_str)
    }

    /// The addresses forwarding headers named (`X-Forwarded-For`, `X-Real-Ip`), first the
    /// client's own claim: written by the client, so never proof of where it is.
    pub fn forwarded_ips(&self) -> &[String] {
        &self.source_ips[..self.source_ips.len().saturating_sub(1)]
    }

    pub fn of(cx: &Cx) -> RequestFacts {
        let e = cx.event;
        RequestFacts {
            audit_id: e.audit_id.as_deref().map(str::to_string),
            time: e.time_text().map(str::to_string),
            time_micros: e.time_micros(),
            stage: e.stage().to_string(),
            verb: e.verb().to_string(),
            user: e.user().to_string(),
            groups: e.user.groups(),
            impersonated_user: e
                .impersonated_user
                .as_ref()
                .map(|u| u.name().to_string())
                .filter(|u| !u.is_empty()),
            source_ips: e.source_ips().map(str::to_string).collect(),
            user_agent: e.user_agent().map(str::to_string),
            api_group: e.api_group().to_string(),
            resource: e.resource().to_string(),
            subresource: e.subresource().to_string(),
            namespace: e.namespace().map(str::to_string),
            name: cx.object_name(),
            path: e.path().to_string(),
            response_code: e.code(),
            decision: e.decision(),
        }
    }

    /// `pods/exec` or `pods`.
    pub fn resource_path(&self) -> String {
        if self.subresource.is_empty() {
            self.resource.clone()
        } else {
            format!("{}/{}", self.resource, self.subresource)
        }
    }
}

/// Context added from an inventory (files, snapshot or cluster).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Enrichment {
    /// The workload the pod belongs to (`Deployment shop/web`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub workload: Option<String>,
    /// The pod's service account (`namespace/name`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub service_account: Option<String>,
    /// What the service account can reach, with the path (`cluster-admin: ...`).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub permissions: Vec<String>,
    /// For an alert about a binding: what its role grants (its risky primitives, such as
    /// `read Secrets`).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub grants: Vec<String>,
    /// For an alert about persistent storage: the workloads that mount the claim concerned
    /// (the one a volume is now bound to, or the one deleted), `Deployment shop/db`.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub mounted_by: Vec<String>,
    /// Whether the target workload is reachable from the internet.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub internet_exposed: Option<bool>,
    /// The namespace's criticality (`palisade.dev/criticality`), when set.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub criticality: Option<String>,
    /// Where the request's identity has a credential written that others can read (a
    /// service-account token in a ConfigMap: `ConfigMap app/settings (its data.kubeconfig
    /// holds ...)`): the request may be made by whoever read it.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub leaked_credential: Vec<String>,
    /// Why the severity was raised, when it was.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub raised_because: Option<String>,
}

/// One alert.
#[derive(Debug, Clone)]
pub struct Alert {
    /// Stable: the same detection on the same request gives the same id in every run.
    pub id: String,
    pub rule: RuleRef,
    pub severity: Severity,
    pub message: String,
    pub evidence: Vec<(&'static str, String)>,
    /// Shared by the alerts of one event.
    pub request: std::sync::Arc<RequestFacts>,
    pub origin: Origin,
    /// For first-seen behaviour: how much of the identity was learned, 0 to 1.
    pub confidence: Option<f64>,
    pub enrichment: Option<Enrichment>,
    /// The threat-intelligence indicator the request matched (AUD050, AUD051).
    pub indicator: Option<Box<crate::indicator::IndicatorMatch>>,
}

impl Alert {
    pub fn new(rule: &'static RuleMeta, hit: Hit, cx: &Cx, origin: &Origin) -> Alert {
        let request = cx.facts();
        let key = request.audit_id.clone().unwrap_or_else(|| {
            format!(
                "{}|{}|{}|{}",
                request.time.as_deref().unwrap_or(""),
                request.user,
                request.verb,
                request.path
            )
        });
        let id = palisade_core::Fingerprint::of_audit_event(
            &rule.id,
            &key,
            hit.discriminator.as_deref(),
        )
        .to_string();
        Alert {
            id,
            rule: RuleRef::Static(rule),
            severity: hit.severity.unwrap_or(rule.severity),
            message: hit.message,
            evidence: hit.evidence,
            request,
            origin: origin.clone(),
            confidence: hit.confidence,
            enrichment: None,
            indicator: hit.indicator,
        }
    }

    /// The MITRE ATT&CK technique ids of the rule.
    pub fn techniques(&self) -> Vec<&str> {
        self.rule.controls.iter().map(|c| c.id.as_ref()).collect()
    }
}

impl Serialize for Alert {
    /// Palisade's own alert shape (`docs/audit.md`).
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut s = serializer.serialize_struct("Alert", 11)?;
        s.serialize_field("id", &self.id)?;
        s.serialize_field("rule", &self.rule.id)?;
        s.serialize_field("slug", &self.rule.slug)?;
        s.serialize_field("title", &self.rule.title)?;
        s.serialize_field("severity", &self.severity)?;
        s.serialize_field("message", &self.message)?;
        s.serialize_field("mitre_attack", &self.techniques())?;
        s.serialize_field("evidence", &EvidenceMap(&self.evidence))?;
        s.serialize_field("request", &self.request)?;
        s.serialize_field("origin", &self.origin)?;
        if let Some(confidence) = self.confidence {
            s.serialize_field("confidence", &confidence)?;
        }
        if let Some(enrichment) = &self.enrichment {
            s.serialize_field("enrichment", enrichment)?;
        }
        s.end()
    }
}

/// An alert's evidence as a JSON object: a key given twice appears once, where it was first
/// given, with the value given last.
pub struct EvidenceMap<'a>(pub &'a [(&'static str, String)]);

impl Serialize for EvidenceMap<'_> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let mut map = serializer.serialize_map(None)?;
        for (i, (key, _)) in self.0.iter().enumerate() {
            if self.0[..i].iter().any(|(k, _)| k == key) {
                continue;
            }
            let last = self.0.iter().rev().find(|(k, _)| k == key);
            if let Some((_, value)) = last {
                map.serialize_entry(key, value)?;
            }
        }
        map.end()
    }
}

#[cfg(test)]
mod tests {
    use super::EvidenceMap;

    /// As a JSON object would hold it: once, where first given, with the last value.
    #[test]
    fn evidence_given_twice_appears_once_with_its_last_value() {
        let evidence = [
            ("container", "a".to_string()),
            ("image", "nginx".to_string()),
            ("container", "b".to_string()),
        ];
        assert_eq!(
            serde_json::to_string(&EvidenceMap(&evidence)).unwrap(),
            r#"{"container":"b","image":"nginx"}"#
        );
    }
}
