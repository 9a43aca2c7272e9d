//! Managed clusters' audit logs, normalised to the API server's Event: GKE Cloud Logging
//! entries (`protoPayload`, an AuditLog), AKS diagnostic logs (the event as a string in
//! `properties.log`, alone or in `records`), and EKS CloudWatch exports (`message` or
//! `@message` strings, subscription payloads with `logEvents`, and what the AWS CLI prints
//! with `events`; Log Analytics' `log_s`). A JSON array of any of them (what `gcloud logging
//! read --format=json` and `jq -s` write) is read item by item (`input`).

use palisade_core::tree::Tree as _;
use serde_json::{Map, Value, json};

/// The events inside a wrapper, as JSON text; `None` when the text is no known wrapper,
/// `Some(Err)` when it is one with a problem.
pub fn unwrap(text: &str) -> Option<Result<Vec<String>, String>> {
    let value: Value = serde_json::from_str(text).ok()?;
    let object = value.as_object()?;
    if let Some(payload) = object.get("protoPayload") {
        return Some(gke(object, payload).map(|e| vec![e.to_string()]));
    }
    if let Some(records) = object.get("records").and_then(Value::as_array) {
        let mut out = Vec::new();
        for record in records {
            match aks(record) {
                Some(Ok(text)) => out.push(text),
                Some(Err(e)) => return Some(Err(e)),
                None => return Some(Err("AKS record without properties.log".into())),
            }
        }
        return Some(Ok(out));
    }
    if let Some(found) = aks(&value) {
        return Some(found.map(|t| vec![t]));
    }
    // A subscription's payload (`logEvents`), or what `aws logs filter-log-events` and
    // `get-log-events` print (`events`).
    for key in ["logEvents", "events"] {
        if let Some(events) = object.get(key).and_then(Value::as_array) {
            let messages: Option<Vec<String>> = events
                .iter()
                .map(|e| e.get("message").and_then(Value::as_str).map(str::to_string))
                .collect();
            return Some(messages.ok_or_else(|| format!("CloudWatch {key} without message")));
        }
    }
    // `log_s`: the column of Azure Log Analytics' AzureDiagnostics table that holds it.
    for key in ["@message", "message", "log", "log_s"] {
        if let Some(inner) = object.get(key).and_then(Value::as_str)
            && inner.trim_start().starts_with('{')
        {
            return Some(Ok(vec![inner.to_string()]));
        }
    }
    None
}

/// An AKS diagnostic record: `properties.log` holds the event as a string.
fn aks(record: &Value) -> Option<Result<String, String>> {
    let log = record.at("/properties/log")?;
    Some(
        log.as_str()
            .map(str::to_string)
            .ok_or_else(|| "AKS properties.log is not a string".into()),
    )
}

/// Google RPC status codes to the HTTP codes the API server would have answered.
fn http_code(rpc: i64, verb: &str) -> i64 {
    match rpc {
        0 if verb == "create" => 201,
        0 => 200,
        3 | 11 => 400,
        5 => 404,
        6 | 10 => 409,
        7 => 403,
        8 => 429,
        9 => 422,
        16 => 401,
        4 => 504,
        14 => 503,
        _ => 500,
    }
}

/// A GKE Cloud Logging entry with a Kubernetes AuditLog payload.
fn gke(entry: &Map<String, Value>, payload: &Value) -> Result<Value, String> {
    let text = |v: Option<&Value>| v.and_then(Value::as_str).unwrap_or("").to_string();
    let method = text(payload.get("methodName"));
    if !method.starts_with("io.k8s.") {
        return Err(format!(
            "GKE entry is not a Kubernetes audit log (methodName `{method}`)"
        ));
    }
    let verb = method.rsplit('.').next().unwrap_or("").to_string();
    let resource_name = text(payload.get("resourceName"));
    let object_ref = object_ref(&resource_name);
    let rpc = payload
        .at("/status/code")
        .and_then(Value::as_i64)
        .unwrap_or(0);
    let granted = payload
        .at("/authorizationInfo/0/granted")
        .and_then(Value::as_bool);
    let mut annotations = Map::new();
    if let Some(granted) = granted {
        annotations.insert(
            crate::event::DECISION_ANNOTATION.into(),
            json!(if granted { "allow" } else { "forbid" }),
        );
    }
    let strip_type = |v: Option<&Value>| {
        v.cloned().map(|mut v| {
            if let Some(map) = v.as_object_mut() {
                map.remove("@type");
            }
            v
        })
    };
    let operation_first = entry.get("operation").and_then(|o| o.get("first"));
    let operation_last = entry.get("operation").and_then(|o| o.get("last"));
    let stage = if operation_first == Some(&json!(true)) && operation_last != Some(&json!(true)) {
        "ResponseStarted"
    } else {
        "ResponseComplete"
    };
    let audit_id = entry
        .get("operation")
        .and_then(|o| o.get("id"))
        .or_else(|| entry.get("insertId"))
        .cloned()
        .unwrap_or(Value::Null);
    let mut event = json!({
        "kind": "Event",
        "apiVersion": "audit.k8s.io/v1",
        "auditID": audit_id,
        "stage": stage,
        "verb": verb,
        "requestURI": format!("/{resource_name}"),
        "user": {"username": text(payload.at("/authenticationInfo/principalEmail"))},
        "sourceIPs": [text(payload.at("/requestMetadata/callerIp"))],
        "userAgent": text(payload.at("/requestMetadata/callerSuppliedUserAgent")),
        "objectRef": object_ref,
        "responseStatus": {"code": http_code(rpc, &verb)},
        "requestReceivedTimestamp": entry.get("timestamp").cloned().unwrap_or(Value::Null),
        "annotations": annotations,
    });
    if let Some(request) = strip_type(payload.get("request")) {
        event["requestObject"] = request;
    }
    if let Some(response) = strip_type(payload.get("response")) {
        event["responseObject"] = response;
    }
    Ok(event)
}

/// `core/v1/namespaces/app/pods/web/exec` to an objectRef.
fn object_ref(resource_name: &str) -> Value {
    let parts: Vec<&str> = resource_name.split('/').filter(|p| !p.is_empty()).collect();
    if parts.len() < 3 {
        return json!({});
    }
    let group = if parts[0] == "core" { "" } else { parts[0] };
    let version = parts[1];
    let mut rest = &parts[2..];
    let mut namespace = None;
    if rest.len() >= 3 && rest[0] == "namespaces" {
        namespace = Some(rest[1]);
        rest = &rest[2..];
    }
    let mut object = json!({"apiGroup": group, "apiVersion": version, "resource": rest[0]});
    if let Some(ns) = namespace {
        object["namespace"] = json!(ns);
    }
    if let Some(name) = rest.get(1) {
        object["name"] = json!(name);
    }
    if let Some(sub) = rest.get(2) {
        object["subresource"] = json!(sub);
    }
    object
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::Event;

    fn one(text: &str) -> String {
        let mut found = unwrap(text).expect("a wrapper").expect("no problem");
        assert_eq!(found.len(), 1);
        found.remove(0)
    }

    #[test]
    fn gke_entries_become_events() {
        let entry = json!({
            "insertId": "abc",
            "timestamp": "2026-12-01T10:00:00.5Z",
            "protoPayload": {
                "@type": "type.googleapis.com/google.cloud.audit.AuditLog",
                "methodName": "io.k8s.core.v1.pods.exec.create",
                "resourceName": "core/v1/namespaces/app/pods/web/exec",
                "authenticationInfo": {"principalEmail": "alice@example.com"},
                "requestMetadata": {"callerIp": "203.0.113.4", "callerSuppliedUserAgent": "kubectl/v1.33"},
                "authorizationInfo": [{"granted": true}],
                "status": {"code": 0}
            }
        });
        let text = one(&entry.to_string());
        let event = Event::decode(&text).unwrap();
        assert_eq!(event.verb(), "create");
        assert_eq!(event.resource(), "pods");
        assert_eq!(event.subresource(), "exec");
        assert_eq!(event.namespace(), Some("app"));
        assert_eq!(event.name(), Some("web"));
        assert_eq!(event.user(), "alice@example.com");
        assert_eq!(event.code(), Some(201));
        assert_eq!(event.decision().as_deref(), Some("allow"));
        assert!(event.time_micros().is_some());
    }

    #[test]
    fn aks_and_eks_wrappers_hold_the_event_as_a_string() {
        let inner = r#"{"kind":"Event","verb":"get","stage":"ResponseComplete"}"#;
        let aks = json!({"category": "kube-audit", "properties": {"log": inner}});
        assert_eq!(one(&aks.to_string()), inner);
        let records = json!({"records": [aks.clone(), aks]});
        assert_eq!(unwrap(&records.to_string()).unwrap().unwrap().len(), 2);
        let eks = json!({"@timestamp": "x", "@message": inner});
        assert_eq!(one(&eks.to_string()), inner);
        let subscription =
            json!({"messageType": "DATA_MESSAGE", "logEvents": [{"id": "1", "message": inner}]});
        assert_eq!(one(&subscription.to_string()), inner);
        // `aws logs filter-log-events` / `get-log-events`.
        let cli = json!({"events": [{"logStreamName": "kube-apiserver-audit-1", "timestamp": 1, "message": inner}], "searchedLogStreams": []});
        assert_eq!(one(&cli.to_string()), inner);
        // Log Analytics' AzureDiagnostics table.
        let analytics = json!({"Category": "kube-audit", "log_s": inner});
        assert_eq!(one(&analytics.to_string()), inner);
        assert!(unwrap(r#"{"hello": 1}"#).is_none());
        assert!(
            unwrap(r#"{"protoPayload": {"methodName": "storage.objects.get"}}"#)
                .unwrap()
                .is_err()
        );
    }

    #[test]
    fn cluster_scoped_and_namespace_names_are_read() {
        assert_eq!(
            object_ref("rbac.authorization.k8s.io/v1/clusterrolebindings/admins"),
            json!({"apiGroup": "rbac.authorization.k8s.io", "apiVersion": "v1", "resource": "clusterrolebindings", "name": "admins"})
        );
        assert_eq!(
            object_ref("core/v1/namespaces/foo"),
            json!({"apiGroup": "", "apiVersion": "v1", "resource": "namespaces", "name": "foo"})
        );
    }
}
