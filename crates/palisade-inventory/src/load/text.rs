//! Text to objects: YAML and JSON streams with positions, Lists expanded, parse problems as
//! diagnostics naming the object.

use super::*;

pub(super) fn objects_from_bytes(
    path: &str,
    rendered_by: Option<palisade_core::Renderer>,
    bytes: &[u8],
    limits: &Limits,
    run_aliases: &AtomicUsize,
) -> SourceRead {
    // An encoding problem fails the whole file, at the line where it starts when known.
    let encoding = |message: String, offset: Option<usize>| {
        let mut diagnostic =
            Diagnostic::new(DiagnosticLevel::Error, "encoding", message).in_file(path);
        diagnostic.line = offset.map(|o| line_of_offset(bytes, o));
        failed_with(path, rendered_by, diagnostic)
    };
    if palisade_core::encoding::is_utf16(bytes) {
        return encoding(palisade_core::encoding::UTF16_ADVICE.into(), None);
    }
    match std::str::from_utf8(bytes) {
        Ok(text) => match text.find('\0') {
            Some(nul) => encoding(
                "binary file (contains NUL bytes); not scanned".into(),
                Some(nul),
            ),
            None => objects_from_text(path, rendered_by, text, limits, run_aliases),
        },
        Err(err) => {
            let offset = err.valid_up_to();
            encoding(
                format!(
                    "invalid UTF-8 at byte {offset}; Kubernetes manifests must be UTF-8; not scanned"
                ),
                Some(offset),
            )
        }
    }
}

/// The 1-based line that byte `offset` of `bytes` is on.
pub(super) fn line_of_offset(bytes: &[u8], offset: usize) -> u32 {
    let newlines = bytes[..offset.min(bytes.len())]
        .iter()
        .filter(|&&b| b == b'\n')
        .count();
    u32::try_from(newlines + 1).unwrap_or(u32::MAX)
}

/// Whether the text looks like an unrendered Go/Helm template.
pub(super) fn looks_templated(text: &str) -> bool {
    text.contains("{{")
}

pub(super) fn objects_from_text(
    path: &str,
    rendered_by: Option<palisade_core::Renderer>,
    text: &str,
    limits: &Limits,
    run_aliases: &AtomicUsize,
) -> SourceRead {
    if text.len() > LARGE_JSON_BYTES
        && text.trim_start().starts_with('{')
        && let Some(result) = large_json(path, rendered_by, text, limits)
    {
        return result;
    }
    let stream = parse_stream_in_run(text, limits, run_aliases);
    let mut result = SourceRead {
        source: Some(Source {
            path: path.into(),
            rendered_by,
        }),
        ..SourceRead::default()
    };
    let templated = looks_templated(text);
    if templated && !stream.errors.is_empty() {
        // A template is not YAML until rendered; one diagnostic for the file says so.
        result.diagnostics.push(
            Diagnostic::new(
                DiagnosticLevel::Info,
                "not-rendered",
                "contains `{{ }}` template directives and is not valid YAML: an unrendered Helm or \
                 Go template; render it (`helm template ...`) and pipe the output to `palisade scan -`",
            )
            .in_file(path),
        );
        return result;
    }
    for issue in &stream.errors {
        result.diagnostics.push(issue_diagnostic(
            path,
            issue,
            guess_object(text, issue.pos.line),
        ));
    }
    for (document, doc) in stream.documents.into_iter().enumerate() {
        if templated && doc.warnings.iter().any(|w| w.code == "non-string-key") {
            result.diagnostics.push(
                Diagnostic::new(
                    DiagnosticLevel::Info,
                    "not-rendered",
                    "document contains `{{ }}` template directives (an unrendered Helm or Go template); skipped",
                )
                .in_file(path)
                .at(doc.spans.pos().line, 1),
            );
            continue;
        }
        let object_name = (!doc.warnings.is_empty())
            .then(|| object_ref(&doc.value).map(|id| id.to_string()))
            .flatten();
        for warning in &doc.warnings {
            let mut d = issue_diagnostic(path, warning, object_name.clone());
            d.level = DiagnosticLevel::Warning;
            result.diagnostics.push(d);
        }
        add_document(&mut result, path, doc.value, doc.spans, document, limits);
    }
    result
}

/// Adds a document's object, or the items of a List or an envelope.
pub(super) fn add_document(
    result: &mut SourceRead,
    path: &str,
    value: Value,
    spans: Spans,
    document: usize,
    limits: &Limits,
) {
    let Some(map) = value.as_object() else {
        if !value.is_null() {
            result.skipped += 1;
        }
        return;
    };
    let line = spans.pos().line;
    let api_version = map.get("apiVersion");
    let kind = map.get("kind");
    match (api_version, kind) {
        (Some(Value::String(api)), Some(Value::String(kind)))
            if Envelope::find(limits.envelopes, Some(kind))
                .is_some_and(|e| e.api_version != api) =>
        {
            let envelope = Envelope::find(limits.envelopes, Some(kind));
            result
                .diagnostics
                .extend(envelope.and_then(|e| e.unsupported(api, path, line)));
        }
        (Some(Value::String(_)), Some(Value::String(kind)))
            if Envelope::holds_items(limits.envelopes, kind)
                && map.get("items").is_some_and(Value::is_array) =>
        {
            expand_list(result, path, value, spans, document);
        }
        (Some(Value::String(_)), Some(Value::String(_))) => {
            match Object::from_value(value, spans, 0, document) {
                Some(object) => result.objects.push(object),
                None => {
                    result.diagnostics.push(
                        Diagnostic::new(
                            DiagnosticLevel::Warning,
                            "not-an-object",
                            "empty apiVersion or kind; document skipped",
                        )
                        .in_file(path)
                        .at(line, 1),
                    );
                }
            }
        }
        (None, None) => result.skipped += 1,
        (a, k) => {
            let what = match (a, k) {
                (Some(Value::String(_)), None) => "has apiVersion but no kind".to_string(),
                (None, Some(Value::String(_))) => "has kind but no apiVersion".to_string(),
                _ => "has an apiVersion or kind that is not a string".to_string(),
            };
            result.diagnostics.push(
                Diagnostic::new(
                    DiagnosticLevel::Warning,
                    "not-an-object",
                    format!("document {what}; skipped"),
                )
                .in_file(path)
                .at(line, 1),
            );
        }
    }
}

pub(super) fn expand_list(
    result: &mut SourceRead,
    path: &str,
    value: Value,
    spans: Spans,
    document: usize,
) {
    let list_pos = spans.pos();
    // Spans always mirror the value, so this yields one entry per item; the fallback only keeps
    // an item (at the list's position) should that ever not hold.
    let mut item_spans = spans
        .sequence_items(&value, ["items"])
        .unwrap_or_default()
        .into_iter();
    let Value::Object(mut map) = value else {
        return;
    };
    let text = |key: &str| {
        map.get(key)
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string()
    };
    let list_api = text("apiVersion");
    let list_kind = text("kind");
    let item_kind = list_kind
        .strip_suffix("List")
        .unwrap_or_default()
        .to_string();
    let Some(Value::Array(items)) = map.remove("items") else {
        return;
    };
    for (i, mut item) in items.into_iter().enumerate() {
        let mut item_span = item_spans
            .next()
            .unwrap_or_else(|| Spans::uniform(&item, list_pos));
        // Typed lists from the API (`DeploymentList`) omit each item's apiVersion and kind.
        if let Value::Object(item_map) = &mut item
            && !item_kind.is_empty()
            && !item_map.contains_key("kind")
        {
            item_map.insert("kind".into(), Value::String(item_kind.clone()));
            item_map.insert("apiVersion".into(), Value::String(list_api.clone()));
            item_span.append(2, item_span.pos());
        }
        let line = item_span.pos().line;
        match Object::from_value(item, item_span, 0, document) {
            Some(object) => result.objects.push(object),
            None => result.diagnostics.push(
                Diagnostic::new(
                    DiagnosticLevel::Warning,
                    "not-an-object",
                    format!("/items/{i} of {list_kind} has no apiVersion or kind; skipped"),
                )
                .in_file(path)
                .at(line, 1),
            ),
        }
    }
}

pub(super) fn issue_diagnostic(
    path: &str,
    issue: &ParseIssue,
    object: Option<String>,
) -> Diagnostic {
    let level = if issue.fatal {
        DiagnosticLevel::Error
    } else {
        DiagnosticLevel::Warning
    };
    let message = if issue.fatal {
        format!("{}; this document was not scanned", issue.message)
    } else {
        issue.message.clone()
    };
    let mut d = Diagnostic::new(level, issue.code, message)
        .in_file(path)
        .at(issue.pos.line, issue.pos.column);
    d.object = object;
    d
}

/// Names the object a broken document was probably about, from its `kind:` and first
/// `name:` lines at the top of the document that contains `line`.
pub(super) fn guess_object(text: &str, line: u32) -> Option<String> {
    let lines: Vec<&str> = text.lines().collect();
    let error_index = usize::try_from(line)
        .ok()?
        .saturating_sub(1)
        .min(lines.len());
    let start = lines[..error_index]
        .iter()
        .rposition(|l| l.starts_with("---"))
        .map_or(0, |i| i + 1);
    let mut kind = None;
    let mut name = None;
    for l in lines.iter().skip(start) {
        if l.starts_with("---") {
            break;
        }
        if let Some(k) = l.strip_prefix("kind:") {
            kind.get_or_insert_with(|| k.trim().trim_matches(['"', '\'']).to_string());
        } else if let Some(n) = l.strip_prefix("  name:") {
            name.get_or_insert_with(|| n.trim().trim_matches(['"', '\'']).to_string());
        } else if let Some(flow) = l
            .strip_prefix("metadata:")
            .and_then(|m| m.split_once("name:"))
        {
            // `metadata: {name: x, ...}`
            let n = flow.1.split([',', '}']).next().unwrap_or_default();
            name.get_or_insert_with(|| n.trim().trim_matches(['"', '\'']).to_string());
        }
        if kind.is_some() && name.is_some() {
            break;
        }
    }
    match (kind, name) {
        (Some(k), Some(n)) => Some(format!("{k} {n}")),
        (Some(k), None) => Some(k),
        _ => None,
    }
}
