//! Where secrets hide in a Kubernetes object, and the walk that visits every such place:
//! containers' `env`, `args` and `command`, probe headers, ConfigMap `data` and `binaryData`,
//! annotations (with the object copied into `kubectl.kubernetes.io/last-applied-configuration`
//! read as an object of its own), Helm release records, and every other string of any kind
//! (custom resources included) that is not a field the schema says is harmless to print.
//!
//! A Secret's own `data` and `stringData` are where credentials belong: they are decoded and
//! checked for well-known default passwords only. Whether a Secret belongs in the scanned
//! files at all is a rule of its own.

use base64::Engine as _;
use palisade_core::JsonPointer;
use palisade_core::object::api_group;
use palisade_core::pod_template::GroupedSite;
use palisade_core::redact::is_printable;
use palisade_core::tree::Tree as _;
use serde_json::{Map, Value};

use crate::detector::Detector;
use crate::text::{Hit, decode_bytes, scan_command, scan_value};

pub use palisade_k8s::LAST_APPLIED;

/// What kind of place a secret was found in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Place {
    /// A container's environment variable, argument, command or probe header.
    Container,
    /// A ConfigMap's `data` or `binaryData`.
    ConfigMap,
    /// A Secret's own `data` or `stringData` (only weak defaults are reported there).
    Secret,
    /// An annotation's value.
    Annotation,
    /// A Helm release record's values.
    HelmRelease,
    /// Any other field (a custom resource's spec, a webhook's URL, ...).
    Field,
}

/// A secret in an object.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Detection {
    pub detector: Detector,
    pub place: Place,
    /// The field holding the secret.
    pub pointer: JsonPointer,
    /// Where it is, for messages: `environment variable DB_PASS of container "web"`.
    pub location: String,
    /// Found only in the `last-applied-configuration` copy, not in the object's own fields.
    pub last_applied: bool,
    pub hit: Hit,
}

/// Kinds that define APIs and hold schemas, not data.
const SCHEMA_KINDS: &[&str] = &["CustomResourceDefinition", "APIService"];

/// Kinds of external-secret tooling that hold references to a vault (`remoteRef.key`,
/// `secretKey: password`, `objectName`) or ciphertext (SealedSecret `encryptedData`), never a
/// credential under its name: only the structural detectors read them.
pub const REFERENCE_KINDS: &[&str] = &[
    "SealedSecret",
    "ExternalSecret",
    "ClusterExternalSecret",
    "PushSecret",
    "SecretProviderClass",
    "VaultStaticSecret",
    "VaultDynamicSecret",
    "VaultPKISecret",
    "OnePasswordItem",
    "InfisicalSecret",
    "DopplerSecret",
];

/// Annotation prefixes of secret injectors, whose values are vault paths and templates.
const INJECTOR_ANNOTATIONS: &[&str] = &["vault.hashicorp.com/", "vault.security.banzaicloud.io/"];

/// Every secret in one object.
pub fn scan_object(object: &Value) -> Vec<Detection> {
    let Some(map) = object.as_object() else {
        return Vec::new();
    };
    let kind = map.get("kind").and_then(Value::as_str).unwrap_or("");
    if SCHEMA_KINDS.contains(&kind) {
        return Vec::new();
    }
    let mut walk = Walk::new(object);
    walk.object(map, &JsonPointer::root(), false);
    if REFERENCE_KINDS.contains(&kind) {
        walk.found.retain(|d| !d.detector.needs_name());
        return walk.found;
    }
    // The applied copy is read last, so a secret also present in the object is reported at
    // the object's own field.
    if let Some(text) = object
        .at("/metadata/annotations")
        .and_then(|a| a.get(LAST_APPLIED))
        .and_then(Value::as_str)
        && let Ok(inner) = serde_json::from_str::<Value>(text)
        && let Some(inner_map) = inner.as_object()
    {
        let pointer = JsonPointer::root()
            .join("metadata")
            .join("annotations")
            .join(LAST_APPLIED);
        let mut copy = Walk::new(&inner);
        copy.object(inner_map, &pointer, true);
        for mut detection in copy.found {
            if walk
                .found
                .iter()
                .any(|d| d.hit.secret == detection.hit.secret)
            {
                continue;
            }
            detection.pointer = pointer.clone();
            detection.last_applied = true;
            walk.found.push(detection);
        }
    }
    walk.found
}

struct Walk<'v> {
    api_version: &'v str,
    kind: &'v str,
    object: &'v Value,
    /// The object's kind when it has pod specs holding containers written alone (KServe's).
    grouped: Option<&'static GroupedSite>,
    found: Vec<Detection>,
}

impl<'v> Walk<'v> {
    fn new(object: &'v Value) -> Self {
        let api_version = object
            .get("apiVersion")
            .and_then(Value::as_str)
            .unwrap_or("");
        let kind = object.get("kind").and_then(Value::as_str).unwrap_or("");
        Walk {
            api_version,
            kind,
            object,
            grouped: palisade_core::pod_template::grouped_site(api_group(api_version), kind)
                .filter(|site| !site.containers_alone.is_empty()),
            found: Vec::new(),
        }
    }

    /// The field holding the map at `segments` when it is a container written alone
    /// (KServe's `predictor.model`).
    fn alone_field(&self, segments: &[String]) -> Option<&'static str> {
        let site = self.grouped?;
        let path: Vec<&str> = segments.iter().map(String::as_str).collect();
        if !site.holds_container_alone(&path) {
            return None;
        }
        let field = segments.last()?;
        site.containers_alone.iter().copied().find(|f| f == field)
    }

    fn object(&mut self, map: &'v Map<String, Value>, root: &JsonPointer, copy: bool) {
        for (key, value) in map {
            let pointer = root.join(key);
            match (self.kind, key.as_str()) {
                (_, "status" | "apiVersion" | "kind") => {}
                (_, "metadata") => self.metadata(value, &pointer, copy),
                ("ConfigMap", "data" | "binaryData") => self.config_map(key, value, &pointer),
                ("Secret", "data" | "stringData") => self.secret(key, value, &pointer),
                _ => {
                    let mut segments = vec![key.clone()];
                    self.value(value, &pointer, &mut segments, None);
                }
            }
        }
    }

    fn report(&mut self, place: Place, pointer: &JsonPointer, location: String, hit: Hit) {
        self.found.push(Detection {
            detector: hit.detector,
            place,
            pointer: pointer.clone(),
            location,
            last_applied: false,
            hit,
        });
    }

    fn metadata(&mut self, metadata: &'v Value, pointer: &JsonPointer, copy: bool) {
        let Some(annotations) = metadata.get("annotations").and_then(Value::as_object) else {
            return;
        };
        for (key, value) in annotations {
            let Some(text) = value.as_str() else { continue };
            if key == LAST_APPLIED
                || key == "palisade.dev/ignore"
                || (copy && key.starts_with("kubectl.kubernetes.io/"))
                || is_injector(key)
            {
                continue;
            }
            let at = pointer.join("annotations").join(key);
            for hit in scan_value(Some(key), text) {
                self.report(Place::Annotation, &at, format!("annotation {key}"), hit);
            }
        }
    }

    fn config_map(&mut self, field: &str, data: &'v Value, pointer: &JsonPointer) {
        let Some(entries) = data.as_object() else {
            return;
        };
        for (key, value) in entries {
            let Some(text) = value.as_str() else { continue };
            let at = pointer.join(key);
            let hits = if field == "binaryData" {
                let decoded = base64::engine::general_purpose::STANDARD
                    .decode(text.trim())
                    .ok()
                    .and_then(|b| decode_bytes(&b));
                let Some((decoded, encoding)) = decoded else {
                    continue;
                };
                let mut hits = scan_value(Some(key), &decoded);
                for hit in &mut hits {
                    hit.encoding = Some(encoding);
                }
                hits
            } else {
                scan_value(Some(key), text)
            };
            for hit in hits {
                self.report(Place::ConfigMap, &at, format!("{field} key {key}"), hit);
            }
        }
    }

    /// A Secret's values: weak defaults only, and Helm's release records read for the chart
    /// values inside them.
    fn secret(&mut self, field: &str, data: &'v Value, pointer: &JsonPointer) {
        let Some(entries) = data.as_object() else {
            return;
        };
        let helm = self.object.get("type").and_then(Value::as_str) == Some("helm.sh/release.v1");
        for (key, value) in entries {
            let Some(text) = value.as_str() else { continue };
            let at = pointer.join(key);
            let plain = if field == "data" {
                match base64::engine::general_purpose::STANDARD
                    .decode(text.trim())
                    .ok()
                    .and_then(|b| String::from_utf8(b).ok())
                {
                    Some(plain) => plain,
                    None => continue,
                }
            } else {
                text.to_string()
            };
            if helm && key == "release" {
                self.helm_release(&plain, &at);
                continue;
            }
            if let Some(found) = crate::detectors::by_name(key, &plain)
                .filter(|f| f.detector == Detector::WeakDefault)
            {
                let hit = Hit {
                    detector: found.detector,
                    secret: text.trim().to_string(),
                    line: None,
                    name: None,
                    encoding: None,
                };
                self.report(Place::Secret, &at, format!("{field} key {key}"), hit);
            }
        }
    }

    /// Helm's release record: base64 of gzip of JSON; `config` holds the values the release
    /// was installed with.
    fn helm_release(&mut self, encoded: &str, pointer: &JsonPointer) {
        let Some(record) = decode_helm_release(encoded) else {
            return;
        };
        let Some(config) = record.get("config") else {
            return;
        };
        let mut inner = Walk {
            api_version: "",
            kind: "",
            object: self.object,
            grouped: None,
            found: Vec::new(),
        };
        let mut segments = vec!["config".to_string()];
        inner.value(config, pointer, &mut segments, None);
        for mut detection in inner.found {
            detection.place = Place::HelmRelease;
            detection.location = format!("Helm release values ({})", detection.location);
            detection.pointer = pointer.clone();
            self.found.push(detection);
        }
    }

    fn value(
        &mut self,
        value: &'v Value,
        pointer: &JsonPointer,
        segments: &mut Vec<String>,
        container: Option<&'v str>,
    ) {
        match value {
            Value::Object(map) => {
                // A container: remember its name for messages (a container written alone
                // without one is named by its field, as the rules name it).
                let listed = segments.len() >= 2
                    && matches!(
                        segments[segments.len() - 2].as_str(),
                        "containers" | "initContainers" | "ephemeralContainers"
                    );
                let name = map.get("name").and_then(Value::as_str);
                let container = if listed {
                    name.or(container)
                } else if let Some(field) = self.alone_field(segments) {
                    name.or(Some(field))
                } else {
                    container
                };
                if let (Some(Value::String(name)), Some(Value::String(text))) =
                    (map.get("name"), map.get("value"))
                {
                    self.named_value(name, text, &pointer.join("value"), segments, container);
                }
                for (key, child) in map {
                    if (key == "value" && map.get("name").is_some_and(Value::is_string))
                        || key == "name"
                    {
                        continue;
                    }
                    segments.push(key.clone());
                    if matches!(key.as_str(), "args" | "command")
                        && let Some(items) = child.as_array()
                    {
                        self.command(key, items, &pointer.join(key), container);
                    } else {
                        self.value(child, &pointer.join(key), segments, container);
                    }
                    segments.pop();
                }
            }
            Value::Array(items) => {
                for (i, child) in items.iter().enumerate() {
                    segments.push(i.to_string());
                    self.value(child, &pointer.join(i), segments, container);
                    segments.pop();
                }
            }
            Value::String(text) => {
                let path: Vec<&str> = segments.iter().map(String::as_str).collect();
                if text.len() < 6 || is_printable(self.api_version, self.kind, &path, value) {
                    return;
                }
                // A pod template's annotations: an injector's own, or named like any other.
                if let [.., "annotations", key] = path.as_slice() {
                    if is_injector(key) {
                        return;
                    }
                    for hit in scan_value(Some(key), text) {
                        self.report(
                            Place::Annotation,
                            pointer,
                            format!("pod template annotation {key}"),
                            hit,
                        );
                    }
                    return;
                }
                let field = path
                    .iter()
                    .rev()
                    .find(|s| !s.bytes().all(|b| b.is_ascii_digit()))
                    .copied()
                    .unwrap_or("");
                for hit in scan_value(Some(field), text) {
                    let place = if container.is_some() {
                        Place::Container
                    } else {
                        Place::Field
                    };
                    self.report(place, pointer, describe_field(&path, container), hit);
                }
            }
            _ => {}
        }
    }

    /// `{name: X, value: Y}`: an environment variable, a probe header, a parameter.
    fn named_value(
        &mut self,
        name: &str,
        text: &str,
        pointer: &JsonPointer,
        segments: &[String],
        container: Option<&str>,
    ) {
        let list = segments
            .iter()
            .rev()
            .find(|s| !s.bytes().all(|b| b.is_ascii_digit()))
            .map_or("", String::as_str);
        let what = match list {
            "env" => format!("environment variable {name}"),
            "httpHeaders" => format!("HTTP header {name}"),
            _ => format!("{list} entry {name}"),
        };
        let location = match container {
            Some(c) => format!("{what} of container \"{c}\""),
            None => what,
        };
        for hit in scan_value(Some(name), text) {
            let place = if container.is_some() {
                Place::Container
            } else {
                Place::Field
            };
            self.report(place, pointer, location.clone(), hit);
        }
    }

    fn command(
        &mut self,
        field: &str,
        items: &'v [Value],
        pointer: &JsonPointer,
        container: Option<&str>,
    ) {
        let words: Vec<&str> = items.iter().map(|v| v.as_str().unwrap_or("")).collect();
        for (index, hit) in scan_command(&words) {
            let location = match container {
                Some(c) => format!("{field}[{index}] of container \"{c}\""),
                None => format!("{field}[{index}]"),
            };
            let place = if container.is_some() {
                Place::Container
            } else {
                Place::Field
            };
            self.report(place, &pointer.join(index), location, hit);
        }
    }
}

/// Annotations of secret injectors (Vault agent, Bank-Vaults): vault paths and templates.
fn is_injector(key: &str) -> bool {
    INJECTOR_ANNOTATIONS.iter().any(|p| key.starts_with(p))
}

fn describe_field(path: &[&str], container: Option<&str>) -> String {
    let field = path.join(".");
    match container {
        Some(c) => format!("field {field} of container \"{c}\""),
        None => format!("field {field}"),
    }
}

/// Helm's release record as JSON: the Secret's value is base64 (and, stored in a Secret,
/// base64 again) of gzip.
pub fn decode_helm_release(encoded: &str) -> Option<Value> {
    let mut bytes = encoded.trim().as_bytes().to_vec();
    for _ in 0..2 {
        if bytes.starts_with(&[0x1f, 0x8b]) {
            break;
        }
        bytes = base64::engine::general_purpose::STANDARD
            .decode(&bytes)
            .ok()?;
    }
    let (text, _) = decode_bytes(&bytes)?;
    serde_json::from_str(&text).ok()
}
