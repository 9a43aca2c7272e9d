use std::collections::BTreeSet;

use palisade_core::tree::Tree;
use palisade_secrets::names::is_credential_name;
use palisade_secrets::pairs::config_lines;
use palisade_secrets::values::is_reference;
use serde_json::Value;

use crate::body::Body;
use crate::detection::{Cx, Hit, Level, Trigger};

const WRITE: &[&str] = &["create", "update", "patch"];

crate::detection! {
    /// ## What it checks
    /// A ConfigMap created or changed with a credential in it: what Palisade's secret
    /// detectors recognise (provider tokens, private keys, URLs with passwords, ...), or a
    /// value under a name that says credential (`password = ...`, `aws_secret_access_key`)
    /// in its data or in a configuration file it holds. A patch is read as what it writes:
    /// a merge patch's `data`, and a JSON patch's (`kubectl patch --type=json`) `add` and
    /// `replace` operations on `/data` and `/data/KEY`. The alert names the keys, never the
    /// values.
    ///
    /// ## Why it matters
    /// ConfigMaps are readable by far more identities than Secrets (views, dashboards,
    /// operators, `kubectl describe`), are not encrypted at rest by default, and are copied
    /// into Git and logs. A credential written to one at run time is one an attacker can
    /// harvest with read-only access.
    ///
    /// ## Response
    /// Move the value into a Secret (or an external secret store), rotate it, and delete the
    /// ConfigMap revision.
    ///
    /// ## Falco equivalent
    /// `Create/Modify Configmap With Private Credentials`.
    pub static CREDENTIAL_IN_CONFIGMAP {
        id: "AUD024",
        slug: "credential-in-configmap",
        title: "ConfigMap written with a credential in it",
        severity: High,
        mitre: ["T1552.001", "T1552.007"],
        remediation: "Move the credential into a Secret or an external store and rotate it.",
        triggers: [Trigger::on(WRITE, "configmaps").reading(Level::Request)],
        check: crate::detection::Check::Request(check),
    }
}

fn check(cx: &Cx) -> Vec<Hit> {
    let Some(body) = cx.request() else {
        return Vec::new();
    };
    // The secret detectors read objects as the scan holds them. A JSON patch
    // (`kubectl patch --type=json`) is read as the data it writes.
    let mut object = match body.items() {
        Some(operations) => patched_data(operations),
        None => body.to_value(),
    };
    let mut keys: BTreeSet<String> = BTreeSet::new();
    // A patch's body is the change, not a ConfigMap: it is read as one (with `kind`) when it
    // lacks its kind.
    if let Some(map) = object.as_object_mut()
        && !map.contains_key("kind")
    {
        map.insert("kind".into(), Value::String("ConfigMap".into()));
        map.insert("apiVersion".into(), Value::String("v1".into()));
    }
    for detection in palisade_secrets::scan_object(&object) {
        keys.insert(detection.location.clone());
    }
    let data = object.get("data").and_then(Value::as_object);
    for (key, value) in data.into_iter().flatten() {
        let Some(text) = value.as_str() else { continue };
        // Said once: the detectors may have named the key already.
        if is_credential_name(key)
            && !is_reference(text)
            && !keys.contains(&format!("data key {key}"))
        {
            keys.insert(format!("key {key}"));
        }
        for pair in config_lines(text) {
            if is_credential_name(pair.name) && !is_reference(pair.value) {
                keys.insert(format!("{} in key {key}", pair.name));
            }
        }
    }
    if keys.is_empty() {
        return Vec::new();
    }
    let keys: Vec<String> = keys.into_iter().collect();
    vec![
        Hit::new(format!(
            "{} wrote ConfigMap {} with a credential ({})",
            cx.actor(),
            cx.target(),
            keys.join("; ")
        ))
        .with("where", keys.join("; ")),
    ]
}

/// The ConfigMap data a JSON patch writes: the values its `add` and `replace` operations put
/// under `/data/KEY`, or as the whole of `/data`.
fn patched_data(operations: &[Body]) -> Value {
    let mut data = serde_json::Map::new();
    for operation in operations {
        let op = operation.get("op").and_then(Tree::as_str);
        if !matches!(op, Some("add" | "replace")) {
            continue;
        }
        let (Some(path), Some(value)) = (
            operation.get("path").and_then(Tree::as_str),
            operation.get("value"),
        ) else {
            continue;
        };
        if path == "/data" {
            if let Value::Object(members) = value.to_value() {
                data.extend(members);
            }
        } else if let Some(key) = path.strip_prefix("/data/") {
            // RFC 6901: `~1` is `/`, `~0` is `~`.
            let key = key.replace("~1", "/").replace("~0", "~");
            data.insert(key, value.to_value());
        }
    }
    serde_json::json!({ "data": data })
}
