//! Managed clusters' audit logs, normalised to the API server's Event: GKE Cloud Logging
//! entries (`protoPayload`, an AuditLog), AKS diagnostic logs (the event as a string in
//! `properties.log`, alone or in `records`), and EKS CloudWatch exports (`message` or
//! `@message` strings, subscription payloads with `logEvents`, and what the AWS CLI prints
//! with `events`; Log Analytics' `log_s`), and rows of AKS's resource-specific audit tables
//! (`AKSAudit`, `AKSAuditAdmin`, `ArcK8sAudit`: the event's fields in PascalCase columns, as
//! objects or in the query API's `tables`). A JSON array of any of them (what `gcloud logging
//! read --format=json`, `az monitor log-analytics query` and `jq -s` write) is read item by
//! item (`input`). Log pipelines' records too: Grafana Loki's query answers (`logcli query
//! -o jsonl` lines and its default `time {labels} line` ones, and the HTTP API's `streams`,
//! put back in time order) and Fluent Bit's file output (`tag: [time, {record}]`).

use palisade_core::tree::Tree as _;
use serde_json::{Map, Value, json};

/// The events inside a wrapper, as JSON text; `None` when the text is no known wrapper,
/// `Some(Err)` when it is one with a problem.
pub fn unwrap(text: &str) -> Option<Result<Vec<String>, String>> {
    let value: Value = match serde_json::from_str(text) {
        Ok(value) => value,
        Err(_) => {
            return fluent_bit_line(text)
                .or_else(|| logcli_line(text))
                .map(|record| Ok(vec![record]));
        }
    };
    let object = value.as_object()?;
    if let Some(found) = loki_streams(object) {
        return Some(found);
    }
    if let Some(payload) = object.get("protoPayload") {
        return Some(gke(object, payload).map(|e| vec![e.to_string()]));
    }
    if let Some(event) = aks_table_row(object) {
        return Some(Ok(vec![event.to_string()]));
    }
    if let Some(tables) = object.get("tables").and_then(Value::as_array) {
        return Some(log_analytics_tables(tables));
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
    if let Some(found) = log_store(object) {
        return Some(found);
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
    // `log_s`: the column of Azure Log Analytics' AzureDiagnostics table that holds it;
    // `line`: Loki's, as `logcli query -o jsonl` prints each entry.
    for key in ["@message", "message", "log", "log_s", "line"] {
        if let Some(inner) = object.get(key).and_then(Value::as_str)
            && inner.trim_start().starts_with('{')
        {
            return Some(Ok(vec![inner.to_string()]));
        }
    }
    None
}

/// A line of Fluent Bit's file output in its default format, `tag: [time, {record}]`: the
/// record (which holds the event under `log`, or is the event when Fluent Bit parsed it).
/// The tag is a name of dots, dashes, underscores, slashes and word characters.
fn fluent_bit_line(text: &str) -> Option<String> {
    let (tag, _) = text.split_once(": [")?;
    let tagged = !tag.is_empty()
        && tag
            .chars()
            .all(|c| c.is_alphanumeric() || matches!(c, '.' | '-' | '_' | '/' | '*'));
    if !tagged {
        return None;
    }
    let entry: Vec<&serde_json::value::RawValue> =
        serde_json::from_str(&text[tag.len() + 2..]).ok()?;
    let [time, record] = entry.as_slice() else {
        return None;
    };
    let time = time.get();
    // The time is a number, or `[time, metadata]` in Fluent Bit's newer event format.
    let timed = time.parse::<f64>().is_ok() || time.starts_with('[');
    (timed && record.get().starts_with('{')).then(|| record.get().to_string())
}

/// A line of `logcli query`'s default output: the entry's time (RFC 3339), its labels
/// (`{job="audit", node="a"}`, padded to a common width; none with `--no-labels`) and the
/// line, here the event. Colours (`--colored-output`) are dropped: an event's JSON holds no
/// raw escape character.
fn logcli_line(text: &str) -> Option<String> {
    let plain = match text.contains('\x1b') {
        true => std::borrow::Cow::Owned(without_colours(text)),
        false => std::borrow::Cow::Borrowed(text),
    };
    let (time, rest) = plain.split_once(' ')?;
    palisade_core::date::rfc3339_unix_micros(time)?;
    let rest = rest.trim_start();
    // A label set starts with a label's name (or is `{}`), the event with a quoted key.
    let line = match rest.starts_with("{\"") {
        true => rest,
        false => after_labels(rest)?,
    };
    line.starts_with('{').then(|| line.trim_end().to_string())
}

/// What follows the label set `{name="value", ...}` that `text` starts with (values quoted
/// as Go quotes them, so a `}` or an escaped `"` in one is no end).
fn after_labels(text: &str) -> Option<&str> {
    let body = text.strip_prefix('{')?;
    let (mut quoted, mut escaped) = (false, false);
    for (at, c) in body.char_indices() {
        match (quoted, escaped, c) {
            (true, true, _) => escaped = false,
            (true, false, '\\') => escaped = true,
            (true, false, '"') => quoted = false,
            (false, _, '"') => quoted = true,
            (false, _, '}') => return Some(body[at + 1..].trim_start()),
            _ => {}
        }
    }
    None
}

/// `text` without its ANSI colour sequences (`ESC [ ... m`).
fn without_colours(text: &str) -> String {
    let mut plain = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find('\x1b') {
        plain.push_str(&rest[..at]);
        let sequence = &rest[at + 1..];
        rest = match sequence
            .strip_prefix('[')
            .and_then(|s| s.find('m').map(|m| &s[m + 1..]))
        {
            Some(after) => after,
            None => sequence,
        };
    }
    plain.push_str(rest);
    plain
}

/// Grafana Loki's answer to a log query (`/loki/api/v1/query_range`, `query`: `data.result`,
/// streams of `[nanoseconds, line]` values): the lines, in time order. Loki answers newest
/// first by default, and stream by stream; the stream checks and baselines read a log in the
/// order it happened.
fn loki_streams(object: &Map<String, Value>) -> Option<Result<Vec<String>, String>> {
    let data = object.get("data")?.as_object()?;
    let result = data.get("result")?.as_array()?;
    if data.get("resultType").and_then(Value::as_str) != Some("streams") {
        return Some(Err(format!(
            "a Loki answer of {}, not log lines (streams): query the log, not a metric",
            data.get("resultType")
                .and_then(Value::as_str)
                .unwrap_or("no resultType")
        )));
    }
    let mut entries: Vec<(u128, String)> = Vec::new();
    for stream in result {
        let values = stream
            .get("values")
            .and_then(Value::as_array)
            .ok_or("a Loki stream without values");
        let values = match values {
            Ok(values) => values,
            Err(problem) => return Some(Err(problem.to_string())),
        };
        for value in values {
            let pair = value.as_array().map(Vec::as_slice);
            let Some([Value::String(time), Value::String(line), ..]) = pair else {
                return Some(Err("a Loki value that is not [time, line]".to_string()));
            };
            entries.push((time.parse().unwrap_or(0), line.clone()));
        }
    }
    entries.sort_by_key(|(time, _)| *time);
    Some(Ok(entries.into_iter().map(|(_, line)| line).collect()))
}

/// The columns of Log Analytics' `AKSAudit`, `AKSAuditAdmin` and `ArcK8sAudit` tables (the
/// resource-specific mode of AKS diagnostic settings) and the event fields they hold.
const AKS_COLUMNS: &[(&str, &str)] = &[
    ("AuditId", "auditID"),
    ("Level", "level"),
    ("Stage", "stage"),
    ("RequestUri", "requestURI"),
    ("Verb", "verb"),
    ("User", "user"),
    ("ImpersonatedUser", "impersonatedUser"),
    ("SourceIps", "sourceIPs"),
    ("UserAgent", "userAgent"),
    ("ObjectRef", "objectRef"),
    ("ResponseStatus", "responseStatus"),
    ("RequestObject", "requestObject"),
    ("ResponseObject", "responseObject"),
    ("RequestReceivedTime", "requestReceivedTimestamp"),
    ("StageReceivedTime", "stageTimestamp"),
    ("Annotations", "annotations"),
];

/// What AKS writes instead of an object too large to log.
const AKS_SKIPPED_OBJECT: &str = "skipped-too-big-size-object";

/// A row of an AKS audit table (`az monitor log-analytics query` prints them as objects) as
/// the event it holds; `None` when the object is no such row. Dynamic columns come as
/// objects or as their JSON text. An object AKS skipped as too large makes the event one the
/// audit backend truncated, so the detections that read it say they could not judge it.
fn aks_table_row(row: &Map<String, Value>) -> Option<Value> {
    if !(row.get("AuditId").is_some_and(Value::is_string) && row.contains_key("Verb")) {
        return None;
    }
    let mut event = Map::new();
    event.insert("kind".into(), json!("Event"));
    event.insert("apiVersion".into(), json!("audit.k8s.io/v1"));
    let mut truncated = false;
    for (column, field) in AKS_COLUMNS {
        let value = match row.get(*column) {
            None | Some(Value::Null) => continue,
            Some(Value::String(text)) if text == AKS_SKIPPED_OBJECT => {
                truncated = true;
                continue;
            }
            Some(Value::String(text)) if text.starts_with(['{', '[']) => {
                serde_json::from_str(text).unwrap_or_else(|_| Value::String(text.clone()))
            }
            Some(Value::String(text)) if text.is_empty() => continue,
            Some(value) => value.clone(),
        };
        event.insert((*field).into(), value);
    }
    if truncated {
        let annotations = event
            .entry("annotations")
            .or_insert_with(|| Value::Object(Map::new()));
        if let Some(map) = annotations.as_object_mut() {
            map.insert(crate::event::TRUNCATED_ANNOTATION.into(), json!("true"));
        }
    }
    Some(Value::Object(event))
}

/// The Log Analytics query API's answer (`tables` of `columns` and `rows`): each row of an
/// AKS audit table as its event.
fn log_analytics_tables(tables: &[Value]) -> Result<Vec<String>, String> {
    let mut events = Vec::new();
    for table in tables {
        let columns: Vec<&str> = table
            .get("columns")
            .and_then(Value::as_array)
            .map(|c| {
                c.iter()
                    .filter_map(|c| c.get("name").and_then(Value::as_str))
                    .collect()
            })
            .unwrap_or_default();
        let rows = table
            .get("rows")
            .and_then(Value::as_array)
            .map_or(&[][..], Vec::as_slice);
        for (index, row) in rows.iter().enumerate() {
            let cells = row.as_array().map_or(&[][..], Vec::as_slice);
            let object: Map<String, Value> = columns
                .iter()
                .zip(cells)
                .map(|(name, cell)| ((*name).to_string(), cell.clone()))
                .collect();
            match aks_table_row(&object) {
                Some(event) => events.push(event.to_string()),
                None => {
                    return Err(format!(
                        "Log Analytics row {index} is not from an AKS audit table (no AuditId and Verb columns)"
                    ));
                }
            }
        }
    }
    Ok(events)
}

/// What log stores give back: Splunk's search results (`result._raw`, or `_raw`: the line
/// as the API server wrote it) and Elasticsearch or OpenSearch documents (`_source`, alone
/// or in a search answer's `hits.hits`), whose source is the event, or holds it under
/// `kubernetes.audit` as Filebeat's Kubernetes audit module writes it.
fn log_store(object: &Map<String, Value>) -> Option<Result<Vec<String>, String>> {
    let raw = object
        .get("result")
        .and_then(|r| r.get("_raw"))
        .or_else(|| object.get("_raw"));
    if let Some(raw) = raw {
        return Some(
            raw.as_str()
                .map(|text| vec![text.to_string()])
                .ok_or_else(|| "Splunk _raw is not a string".to_string()),
        );
    }
    if let Some(hits) = object
        .get("hits")
        .and_then(|h| h.get("hits"))
        .and_then(Value::as_array)
    {
        return Some(
            hits.iter()
                .map(|hit| {
                    hit.get("_source")
                        .map(source_event)
                        .ok_or_else(|| "a search hit without _source".to_string())
                })
                .collect(),
        );
    }
    object
        .get("_source")
        .map(|source| Ok(vec![source_event(source)]))
}

/// The event a log store's document holds.
fn source_event(source: &Value) -> String {
    match source.at("/kubernetes/audit") {
        Some(Value::Object(audit)) => {
            let mut event = audit.clone();
            event.entry("kind").or_insert_with(|| json!("Event"));
            event
                .entry("apiVersion")
                .or_insert_with(|| json!("audit.k8s.io/v1"));
            Value::Object(event).to_string()
        }
        _ => source.to_string(),
    }
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

    /// AKS's resource-specific tables hold the event's fields in PascalCase columns, dynamic
    /// ones as objects or as JSON text; the query API answers with `tables` of rows.
    #[test]
    fn rows_of_aks_audit_tables_become_events() {
        let row = json!({
            "TimeGenerated": "2026-12-01T10:00:01Z", "AuditId": "a-1", "Level": "Request",
            "Stage": "ResponseComplete", "Verb": "create", "RequestUri": "/api/v1/namespaces/app/pods",
            "User": r#"{"username":"alice","groups":["system:authenticated"]}"#,
            "SourceIps": ["203.0.113.9"], "UserAgent": "kubectl/v1.33",
            "ObjectRef": {"resource": "pods", "namespace": "app", "name": "web", "apiVersion": "v1"},
            "ResponseStatus": {"code": 201}, "RequestObject": "skipped-too-big-size-object",
            "RequestReceivedTime": "2026-12-01T10:00:00Z", "PodName": "kube-apiserver-1",
            "Type": "AKSAudit"
        });
        let text = one(&row.to_string());
        let event = Event::decode(&text).unwrap();
        assert_eq!(
            (event.verb(), event.user(), event.resource()),
            ("create", "alice", "pods")
        );
        assert_eq!(event.code(), Some(201));
        assert!(
            event.truncated(),
            "a skipped object is a truncated event: {text}"
        );
        let columns: Vec<Value> = ["AuditId", "Verb", "User", "Stage"]
            .iter()
            .map(|n| json!({"name": n, "type": "string"}))
            .collect();
        let api = json!({"tables": [{"name": "PrimaryResult", "columns": columns, "rows": [
            ["b-1", "get", {"username": "bob"}, "ResponseComplete"],
            ["b-2", "list", {"username": "bob"}, "ResponseComplete"]
        ]}]});
        let events = unwrap(&api.to_string()).unwrap().unwrap();
        assert_eq!(events.len(), 2);
        assert_eq!(Event::decode(&events[1]).unwrap().verb(), "list");
        let other = json!({"tables": [{"columns": [{"name": "Category"}], "rows": [["x"]]}]});
        assert!(unwrap(&other.to_string()).unwrap().is_err());
    }

    /// Events read back from a SIEM: Splunk's search results, Elasticsearch documents and
    /// search answers, with the event as the source or under Filebeat's `kubernetes.audit`.
    #[test]
    fn events_from_log_stores_are_read() {
        let inner = r#"{"kind":"Event","verb":"get","stage":"ResponseComplete"}"#;
        let event: Value = serde_json::from_str(inner).unwrap();
        let splunk =
            json!({"preview": false, "offset": 0, "result": {"_raw": inner, "_time": "x"}});
        assert_eq!(one(&splunk.to_string()), inner);
        let document = json!({"_index": "k8s-audit", "_id": "1", "_source": event});
        assert_eq!(
            Event::decode(&one(&document.to_string())).unwrap().verb(),
            "get"
        );
        let filebeat = json!({"@timestamp": "x", "kubernetes": {"audit": {"verb": "list", "stage": "ResponseComplete"}}});
        let answer = json!({"hits": {"total": {"value": 2}, "hits": [{"_source": event}, {"_source": filebeat}]}});
        let found = unwrap(&answer.to_string()).unwrap().unwrap();
        let verbs: Vec<String> = found
            .iter()
            .map(|t| Event::decode(t).unwrap().verb().to_string())
            .collect();
        assert_eq!(verbs, ["get", "list"]);
        assert!(
            unwrap(r#"{"hits": {"hits": [{"_id": "1"}]}}"#)
                .unwrap()
                .is_err()
        );
    }

    /// Grafana Loki's answers: `logcli query -o jsonl` lines, and the HTTP API's streams,
    /// newest first and stream by stream as Loki answers, read in time order. A metric
    /// answer is no log.
    #[test]
    fn loki_answers_are_read_in_time_order() {
        let inner = |verb: &str| format!(r#"{{"kind":"Event","verb":"{verb}"}}"#);
        let jsonl = json!({"labels": {"job": "audit"}, "line": inner("get"), "timestamp": "2026-12-05T10:00:00Z"});
        assert_eq!(one(&jsonl.to_string()), inner("get"));
        let answer = json!({"status": "success", "data": {"resultType": "streams", "result": [
            {"stream": {"node": "a"}, "values": [["1796464803000000000", inner("delete")], ["1796464801000000000", inner("get")]]},
            {"stream": {"node": "b"}, "values": [["1796464802000000000", inner("patch")]]},
        ], "stats": {}}});
        let found = unwrap(&answer.to_string()).unwrap().unwrap();
        let verbs: Vec<String> = found
            .iter()
            .map(|t| Event::decode(t).unwrap().verb().to_string())
            .collect();
        assert_eq!(verbs, ["get", "patch", "delete"]);
        let metric = json!({"status": "success", "data": {"resultType": "matrix", "result": []}});
        let problem = unwrap(&metric.to_string()).unwrap().unwrap_err();
        assert!(problem.contains("matrix"), "{problem}");
    }

    /// `logcli query`'s default output: time, labels (with a `}` and an escaped quote in a
    /// value, padded), the event; without labels; in colour. Other text is no wrapper.
    #[test]
    fn logcli_default_lines_are_read() {
        let inner = r#"{"kind":"Event","verb":"get","user":{"groups":["system:masters"]}}"#;
        for line in [
            format!(r#"2026-12-05T10:00:00Z {{job="audit", note="a}} "b""}}   {inner}"#),
            format!("2026-12-05T11:00:00+01:00 {inner}"),
            format!("\x1b[34m2026-12-05T10:00:00Z\x1b[0m \x1b[31m{{job=\"audit\"}}\x1b[0m {inner}"),
        ] {
            assert_eq!(one(&line), inner, "{line}");
        }
        for text in [
            "2026-12-05T10:00:00Z {job=\"audit\"} not an event",
            "yesterday {job=\"audit\"} {}",
            "2026-12-05T10:00:00Z {job=\"audit\"",
        ] {
            assert!(unwrap(text).is_none(), "{text}");
        }
    }

    /// Fluent Bit's file output (`tag: [time, {record}]`), with the event as the record's
    /// `log` or as the record itself, in the older and newer time forms; other text is no
    /// wrapper.
    #[test]
    fn fluent_bit_file_lines_are_read() {
        let inner = r#"{"kind":"Event","verb":"get"}"#;
        let logged = format!(
            "kube.var.log.kube-apiserver-audit.log: [1796464800.123456, {}]",
            json!({"log": inner})
        );
        assert!(Event::decode(&one(&logged)).is_err());
        let record = unwrap(&one(&logged)).unwrap().unwrap();
        assert_eq!(record, [inner]);
        let parsed = format!("audit: [[1796464800.5, {{}}], {inner}]");
        assert_eq!(one(&parsed), inner);
        for text in [
            "not: [a wrapper]",
            "some words: [1, {}] more",
            "2026-12-05 error: [1, {}]",
        ] {
            assert!(unwrap(text).is_none(), "{text}");
        }
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
