//! Large JSON documents (snapshots, `kubectl get -o json` dumps) read item by item, and objects
//! held in memory; what a snapshot's objects are read without.

use super::*;

/// Drops what a snapshot item does not need: `managedFields` (often a third of a live
/// object; only drift reads it, and drift reads snapshots with them kept). Nothing else is
/// dropped: a Pod or ReplicaSet that names a controller is judged through it only when it has
/// no more power than the controller's template (`crate::powers`), and its labels decide which
/// Services and NetworkPolicies select it, so its spec and its controller's template are read
/// as they are.
pub(super) fn slim(map: &mut serde_json::Map<String, Value>) {
    if let Some(metadata) = map.get_mut("metadata").and_then(Value::as_object_mut) {
        metadata.remove("managedFields");
    }
}

/// Adds one item of a large JSON list, unless it is over the node limit or not an object.
pub(super) fn push_item(
    result: &mut SourceRead,
    path: &str,
    limits: &Limits,
    item: Value,
    line: u32,
    index: usize,
) {
    if crate::spans::count_nodes(&item) > limits.max_nodes {
        result.diagnostics.push(
            Diagnostic::new(
                DiagnosticLevel::Error,
                "limit-exceeded",
                format!(
                    "/items/{} has more than {} nodes; skipped",
                    index, limits.max_nodes
                ),
            )
            .in_file(path)
            .at(line, 1),
        );
        return;
    }
    let spans = Spans::uniform(&item, crate::spans::Pos { line, column: 1 });
    match Object::from_value(item, spans, 0, 0) {
        Some(object) => result.objects.push(object),
        None => result.diagnostics.push(
            Diagnostic::new(
                DiagnosticLevel::Warning,
                "not-an-object",
                format!("/items/{} has no apiVersion or kind; skipped", index),
            )
            .in_file(path)
            .at(line, 1),
        ),
    }
}

/// Above this size a JSON document (a cluster snapshot, a `kubectl get -o json` dump) is read
/// with the JSON parser: one document of hundreds of thousands of objects would otherwise
/// count as one document against the node limit, and the JSON parser needs far less memory.
pub(super) const LARGE_JSON_BYTES: usize = 8 << 20;

/// Reads a large JSON document of objects, one item at a time so that the whole document is
/// never held as one tree. Every node of an item gets the item's position: its own line in
/// Palisade snapshots (one item per line), the document's start otherwise. `None` when the
/// text is not JSON (it is then read as YAML, which reports the problem).
pub(super) fn large_json(
    path: &str,
    rendered_by: Option<palisade_core::Renderer>,
    text: &str,
    limits: &Limits,
) -> Option<SourceRead> {
    use serde::de::{DeserializeSeed, Deserializer, MapAccess, SeqAccess, Visitor};

    let mut result = SourceRead {
        source: Some(Source {
            path: path.into(),
            rendered_by,
        }),
        ..SourceRead::default()
    };
    // Palisade snapshots write `"items": [` on its own line and one item per line.
    let first_item_line = text
        .find("\n\"items\": [\n")
        .map(|at| text[..at].matches('\n').count() as u32 + 3);

    struct Top<'r> {
        path: &'r str,
        result: &'r mut SourceRead,
        limits: &'r Limits,
        first_item_line: Option<u32>,
        api: Option<String>,
        kind: Option<String>,
        had_items: bool,
    }

    struct Items<'t, 'r>(&'t mut Top<'r>);

    impl<'de> DeserializeSeed<'de> for Items<'_, '_> {
        type Value = ();
        fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
            deserializer.deserialize_seq(self)
        }
    }

    impl<'de> Visitor<'de> for Items<'_, '_> {
        type Value = ();
        fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str("a list of objects")
        }
        fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
            let top = self.0;
            let item_kind = top
                .kind
                .as_deref()
                .and_then(|k| k.strip_suffix("List"))
                .unwrap_or_default()
                .to_string();
            let unsupported = Envelope::find(top.limits.envelopes, top.kind.as_deref())
                .is_some_and(|e| top.api.as_deref() != Some(e.api_version));
            let mut i = 0usize;
            while let Some(mut item) = seq.next_element::<Value>()? {
                let line = top.first_item_line.map_or(1, |l| l + i as u32);
                i += 1;
                if unsupported {
                    continue;
                }
                if let Value::Object(map) = &mut item {
                    if !item_kind.is_empty() && !map.contains_key("kind") {
                        map.insert("kind".into(), Value::String(item_kind.clone()));
                        map.insert(
                            "apiVersion".into(),
                            Value::String(top.api.clone().unwrap_or_default()),
                        );
                    }
                    if top.limits.drop_managed_fields {
                        slim(map);
                    }
                }
                push_item(top.result, top.path, top.limits, item, line, i - 1);
            }
            Ok(())
        }
    }

    impl<'de> Visitor<'de> for &mut Top<'_> {
        type Value = ();
        fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str("a JSON object")
        }
        fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
            while let Some(key) = map.next_key::<String>()? {
                match key.as_str() {
                    "items" => {
                        self.had_items = true;
                        map.next_value_seed(Items(self))?;
                    }
                    "apiVersion" => {
                        self.api = map.next_value::<Value>()?.as_str().map(str::to_string)
                    }
                    "kind" => self.kind = map.next_value::<Value>()?.as_str().map(str::to_string),
                    _ => {
                        map.next_value::<serde::de::IgnoredAny>()?;
                    }
                }
            }
            Ok(())
        }
    }

    let mut top = Top {
        path,
        result: &mut result,
        limits,
        first_item_line,
        api: None,
        kind: None,
        had_items: false,
    };
    // serde_json's recursion limit (128) stays on: hostile nesting is an error, not a crash.
    let mut deserializer = serde_json::Deserializer::from_str(text);
    if (&mut deserializer).deserialize_map(&mut top).is_err() {
        return None;
    }
    let (api, kind, had_items) = (top.api.clone(), top.kind.clone(), top.had_items);
    if let Some(envelope) = Envelope::find(limits.envelopes, kind.as_deref())
        && let Some(unsupported) = envelope.unsupported(api.as_deref().unwrap_or_default(), path, 1)
    {
        result.diagnostics.push(unsupported);
    } else if !had_items {
        // One large object, not a list: read it whole.
        let value: Value = serde_json::from_str(text).ok()?;
        let spans = Spans::uniform(&value, crate::spans::Pos { line: 1, column: 1 });
        add_document(&mut result, path, value, spans, 0, limits);
    }
    Some(result)
}
