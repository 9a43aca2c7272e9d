//! The snapshot file: `apiVersion: palisade.dev/v1alpha1`, `kind: ClusterSnapshot`, a
//! `metadata` block, the per-type `errors`, the `resources` that were listed, and `items`.
//! The inventory loader reads `items` like a List's, so objects keep their positions in the
//! file; this module reads and writes the rest.

use std::io::Write;

use palisade_k8s::LAST_APPLIED;
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// The kind and format version of a snapshot file.
pub const SNAPSHOT_KIND: &str = "ClusterSnapshot";
pub const SNAPSHOT_API_VERSION: &str = "palisade.dev/v1alpha1";

/// Where and when a snapshot was taken.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SnapshotMeta {
    /// RFC 3339 UTC.
    pub captured_at: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub context: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub server: Option<String>,
    /// `gitVersion` of the API server.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cluster_version: Option<String>,
    /// The namespaces read, or empty for all.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub namespaces: Vec<String>,
    pub palisade_version: String,
    /// Whether Secret values were read (only with `--include-secret-values`).
    #[serde(default)]
    pub secret_values: bool,
}

/// A type that could not be listed (completely).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ListError {
    pub group: String,
    pub version: String,
    pub resource: String,
    pub kind: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
    /// HTTP status, when the API server answered.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<u16>,
    /// `forbidden`, `not-found`, `timeout`, `expired`, `conversion`, `transport`, ...
    pub reason: String,
    pub message: String,
}

impl ListError {
    /// `secrets (forbidden: ...)`, for coverage.
    pub fn describe(&self) -> String {
        let group = if self.group.is_empty() {
            String::new()
        } else {
            format!(".{}", self.group)
        };
        format!(
            "could not list {}{group}: {} ({})",
            self.resource, self.reason, self.message
        )
    }
}

/// A resource type that was listed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ListedResource {
    pub group: String,
    pub version: String,
    pub resource: String,
    pub kind: String,
    pub namespaced: bool,
    pub count: usize,
}

/// Everything but the items.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct SnapshotHeader {
    pub metadata: SnapshotMeta,
    #[serde(default)]
    pub errors: Vec<ListError>,
    #[serde(default)]
    pub resources: Vec<ListedResource>,
}

/// A snapshot being written.
#[derive(Debug, Clone, Default)]
pub struct Snapshot {
    pub header: SnapshotHeader,
    pub items: Vec<Value>,
}

/// Why a file could not be read as a snapshot.
#[derive(Debug, thiserror::Error)]
pub enum SnapshotError {
    /// The file could not be read; the cause is the source, printed once.
    #[error("{path}")]
    Io {
        path: String,
        #[source]
        source: std::io::Error,
    },
    #[error("{path}: not JSON: {message}")]
    Json { path: String, message: String },
    /// The file is JSON, but neither a snapshot nor a List of objects.
    #[error(
        "{path}: neither a Palisade snapshot nor a `kubectl get -o json` List (found {found}); pass manifests as PATH arguments instead"
    )]
    NotADump { path: String, found: String },
    #[error(
        "{path}: snapshot format {found} is not supported; this palisade reads {SNAPSHOT_API_VERSION}"
    )]
    Version { path: String, found: String },
}

/// What kind of dump a file holds.
#[derive(Debug, Clone, PartialEq)]
pub enum Dump {
    /// A Palisade snapshot, with its header.
    Snapshot(Box<SnapshotHeader>),
    /// A `kubectl get -o json` List: objects only, nothing known about what is missing.
    List,
}

#[derive(Deserialize)]
struct Envelope {
    #[serde(rename = "apiVersion", default)]
    api_version: String,
    #[serde(default)]
    kind: String,
    /// A snapshot's metadata, or a List's (`{"resourceVersion": ""}`): read as a value first
    /// and typed only for snapshots.
    #[serde(default)]
    metadata: Option<Value>,
    #[serde(default)]
    errors: Vec<ListError>,
    #[serde(default)]
    resources: Vec<ListedResource>,
    #[serde(default)]
    #[allow(dead_code)]
    items: serde::de::IgnoredAny,
}

/// Reads the header of a snapshot file (the items are read by the inventory loader).
pub fn read_header(path: &std::path::Path) -> Result<Dump, SnapshotError> {
    let display = path.display().to_string();
    let file = std::fs::File::open(path).map_err(|source| SnapshotError::Io {
        path: display.clone(),
        source,
    })?;
    read_header_from(std::io::BufReader::with_capacity(1 << 20, file), &display)
}

/// Reads the header of a snapshot from any reader (`display` names it in errors). A UTF-8
/// byte-order mark (what Windows tools write first) is skipped, as the loader skips it.
pub fn read_header_from(reader: impl std::io::Read, display: &str) -> Result<Dump, SnapshotError> {
    let display = display.to_string();
    let mut reader = std::io::BufReader::new(reader);
    let start = std::io::BufRead::fill_buf(&mut reader).map_err(|source| SnapshotError::Io {
        path: display.clone(),
        source,
    })?;
    if palisade_core::encoding::is_utf16(start) {
        return Err(SnapshotError::Json {
            path: display,
            message: palisade_core::encoding::UTF16_ADVICE.into(),
        });
    }
    if start.starts_with(palisade_core::encoding::UTF8_MARK) {
        std::io::BufRead::consume(&mut reader, palisade_core::encoding::UTF8_MARK.len());
    }
    let envelope: Envelope = serde_json::from_reader(reader).map_err(|e| SnapshotError::Json {
        path: display.clone(),
        message: e.to_string(),
    })?;
    if envelope.kind == SNAPSHOT_KIND {
        if envelope.api_version != SNAPSHOT_API_VERSION {
            return Err(SnapshotError::Version {
                path: display,
                found: envelope.api_version,
            });
        }
        let metadata = match envelope.metadata {
            None => SnapshotMeta::default(),
            Some(value) => serde_json::from_value(value).map_err(|e| SnapshotError::Json {
                path: display.clone(),
                message: format!("snapshot metadata: {e}"),
            })?,
        };
        return Ok(Dump::Snapshot(Box::new(SnapshotHeader {
            metadata,
            errors: envelope.errors,
            resources: envelope.resources,
        })));
    }
    if envelope.kind == "List" || envelope.kind.ends_with("List") {
        return Ok(Dump::List);
    }
    Err(SnapshotError::NotADump {
        path: display,
        found: if envelope.kind.is_empty() {
            "a JSON document without `kind`".into()
        } else {
            format!("a {} object", envelope.kind)
        },
    })
}

/// Server-populated metadata that a snapshot does not need for analysis, and the last applied
/// configuration, which repeats the whole object. A Secret's is kept as
/// [`redacted_last_applied`] gives it: that the copy holds values is a finding (SEC021), and
/// the values are not for a snapshot.
pub fn strip_noise(object: &mut Value) {
    let secret = object.get("kind").and_then(Value::as_str) == Some("Secret")
        && object.get("apiVersion").and_then(Value::as_str) == Some("v1");
    if let Some(metadata) = object.get_mut("metadata").and_then(Value::as_object_mut) {
        metadata.remove("selfLink");
        if let Some(annotations) = metadata
            .get_mut("annotations")
            .and_then(Value::as_object_mut)
            && let Some(copy) = annotations.remove(LAST_APPLIED)
            && secret
            && let Some(kept) = copy.as_str().and_then(redacted_last_applied)
        {
            annotations.insert(LAST_APPLIED.into(), Value::String(kept));
        }
    }
}

/// A Secret's last applied configuration (`text`) without its values: its `apiVersion`,
/// `kind` and `type`, and its `data` and `stringData` keys, each value that was not empty
/// replaced by [`palisade_core::redact::REDACTED`]. Nothing else of the copy is kept. `None`
/// when `text` is not a JSON object.
pub fn redacted_last_applied(text: &str) -> Option<String> {
    let copy: serde_json::Map<String, Value> = serde_json::from_str(text).ok()?;
    let mut kept = serde_json::Map::new();
    for field in ["apiVersion", "kind", "type"] {
        if let Some(value) = copy.get(field).filter(|v| v.is_string()) {
            kept.insert(field.into(), value.clone());
        }
    }
    for field in ["data", "stringData"] {
        if let Some(values) = copy.get(field).and_then(Value::as_object) {
            let redacted = values
                .iter()
                .map(|(key, value)| {
                    let empty = value.as_str().is_some_and(str::is_empty) || value.is_null();
                    let said = if empty {
                        ""
                    } else {
                        palisade_core::redact::REDACTED
                    };
                    (key.clone(), Value::String(said.to_string()))
                })
                .collect();
            kept.insert(field.into(), Value::Object(redacted));
        }
    }
    serde_json::to_string(&kept).ok()
}

/// Removes Secret values (`data`, `stringData`), keeping the key names with empty values so
/// that rules about which keys exist still work.
pub fn redact_secret(object: &mut Value) {
    for field in ["data", "stringData"] {
        if let Some(map) = object.get_mut(field).and_then(Value::as_object_mut) {
            for value in map.values_mut() {
                *value = Value::String(String::new());
            }
        }
    }
}

impl Snapshot {
    /// The line of the first item in the written file (items follow, one per line).
    pub const FIRST_ITEM_LINE: u32 = 8;

    /// The name findings on the snapshot's objects are reported under:
    /// `cluster:CONTEXT`.
    pub fn source_name(&self) -> String {
        format!(
            "cluster:{}",
            self.header.metadata.context.as_deref().unwrap_or("current")
        )
    }

    /// Writes the snapshot as JSON, items one per line for diff-friendliness, atomically
    /// through the caller's writer.
    pub fn write(&self, out: &mut dyn Write) -> std::io::Result<()> {
        writeln!(out, "{{")?;
        writeln!(out, "\"apiVersion\": \"{SNAPSHOT_API_VERSION}\",")?;
        writeln!(out, "\"kind\": \"{SNAPSHOT_KIND}\",")?;
        writeln!(
            out,
            "\"metadata\": {},",
            serde_json::to_string(&self.header.metadata)?
        )?;
        writeln!(
            out,
            "\"errors\": {},",
            serde_json::to_string(&self.header.errors)?
        )?;
        writeln!(
            out,
            "\"resources\": {},",
            serde_json::to_string(&self.header.resources)?
        )?;
        writeln!(out, "\"items\": [")?;
        for (i, item) in self.items.iter().enumerate() {
            serde_json::to_writer(&mut *out, item)?;
            writeln!(out, "{}", if i + 1 < self.items.len() { "," } else { "" })?;
        }
        writeln!(out, "]")?;
        writeln!(out, "}}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    /// A Secret keeps a copy of its last applied configuration that says which keys held a
    /// value and holds none of them; any other object's copy is dropped, and so is one that is
    /// not JSON.
    #[test]
    fn a_secrets_last_applied_copy_keeps_its_keys_not_its_values() {
        let copy = r#"{"apiVersion":"v1","kind":"Secret","type":"Opaque","metadata":{"name":"db","annotations":{"note":"s3cr3t-in-a-note"}},"data":{"password":"czNjcjN0LXZhbHVl","empty":""},"stringData":{"token":"s3cr3t-token"}}"#;
        let object = |kind: &str, copy: &str| {
            serde_json::json!({"apiVersion": "v1", "kind": kind,
                "metadata": {"name": "db", "selfLink": "/x", "annotations": {LAST_APPLIED: copy, "other": "kept"}}})
        };
        let mut secret = object("Secret", copy);
        strip_noise(&mut secret);
        let annotations = &secret["metadata"]["annotations"];
        let kept: Value =
            serde_json::from_str(annotations[LAST_APPLIED].as_str().unwrap()).unwrap();
        assert_eq!(
            kept,
            serde_json::json!({"apiVersion": "v1", "kind": "Secret", "type": "Opaque",
                "data": {"password": "[REDACTED]", "empty": ""}, "stringData": {"token": "[REDACTED]"}})
        );
        assert_eq!(annotations["other"], "kept");
        assert!(secret["metadata"].get("selfLink").is_none());
        let text = secret.to_string();
        assert!(
            !text.contains("s3cr3t") && !text.contains("czNjcjN0"),
            "{text}"
        );
        let mut config_map = object("ConfigMap", copy);
        strip_noise(&mut config_map);
        assert!(
            config_map["metadata"]["annotations"]
                .get(LAST_APPLIED)
                .is_none()
        );
        let mut broken = object("Secret", "{\"data\": ");
        strip_noise(&mut broken);
        assert!(
            broken["metadata"]["annotations"]
                .get(LAST_APPLIED)
                .is_none()
        );
    }

    /// A List written by a Windows tool starts with a byte-order mark: it is read; UTF-16
    /// (Windows PowerShell 5's `>`) is refused with what to do.
    #[test]
    fn a_byte_order_mark_is_skipped_and_utf16_is_named() {
        let list = r#"{"apiVersion":"v1","kind":"List","items":[]}"#;
        let with_mark = [&[0xef, 0xbb, 0xbf][..], list.as_bytes()].concat();
        assert!(matches!(
            read_header_from(&with_mark[..], "l.json"),
            Ok(Dump::List)
        ));
        let utf16: Vec<u8> = [0xfeffu16]
            .into_iter()
            .chain(list.encode_utf16())
            .flat_map(u16::to_le_bytes)
            .collect();
        let error = read_header_from(&utf16[..], "l.json")
            .unwrap_err()
            .to_string();
        assert!(
            error.contains("UTF-16") && error.contains("UTF-8"),
            "{error}"
        );
    }

    #[test]
    fn round_trips_and_rejects_unknown_versions() {
        let dir = std::env::temp_dir().join(format!("palisade-snap-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let mut snapshot = Snapshot::default();
        snapshot.header.metadata.captured_at = "2026-11-26T12:00:00Z".into();
        snapshot.header.metadata.palisade_version = "0.1.0".into();
        snapshot.header.errors.push(ListError {
            group: String::new(),
            version: "v1".into(),
            resource: "secrets".into(),
            kind: "Secret".into(),
            namespace: None,
            status: Some(403),
            reason: "forbidden".into(),
            message: "secrets is forbidden".into(),
        });
        snapshot.items.push(
            json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "a", "namespace": "x"}}),
        );
        let mut bytes = Vec::new();
        snapshot.write(&mut bytes).unwrap();
        let path = dir.join("snap.json");
        std::fs::write(&path, &bytes).unwrap();
        let Dump::Snapshot(header) = read_header(&path).unwrap() else {
            panic!("a snapshot")
        };
        assert_eq!(header.errors, snapshot.header.errors);
        let loaded = palisade_inventory::load_text(
            "snap.json",
            std::str::from_utf8(&bytes).unwrap(),
            &crate::recognising_snapshots(palisade_inventory::Limits::default()),
        );
        assert_eq!(loaded.inventory.objects.len(), 1);
        assert_eq!(
            loaded.inventory.objects[0].pos().line,
            Snapshot::FIRST_ITEM_LINE,
            "items keep their lines"
        );
        // Read from memory, the objects are where the written file has them.
        let from_memory = snapshot.clone().load();
        assert_eq!(from_memory.inventory.objects.len(), 1);
        assert_eq!(
            from_memory.inventory.objects[0].pos().line,
            Snapshot::FIRST_ITEM_LINE
        );
        assert_eq!(
            from_memory.inventory.objects[0].value,
            loaded.inventory.objects[0].value
        );
        let future = String::from_utf8(bytes)
            .unwrap()
            .replace("palisade.dev/v1alpha1", "palisade.dev/v9");
        std::fs::write(&path, future).unwrap();
        let error = read_header(&path).unwrap_err().to_string();
        assert!(
            error.contains("palisade.dev/v9 is not supported"),
            "{error}"
        );
        std::fs::remove_dir_all(&dir).ok();
    }

    #[test]
    fn secrets_keep_key_names_only() {
        let mut secret = json!({"kind": "Secret", "data": {"password": "aHVudGVyMg=="}, "stringData": {"token": "x"}});
        redact_secret(&mut secret);
        assert_eq!(secret["data"]["password"], "");
        assert_eq!(secret["stringData"]["token"], "");
    }
}
