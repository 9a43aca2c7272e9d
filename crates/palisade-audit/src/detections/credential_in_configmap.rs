use std::collections::BTreeSet;

use palisade_secrets::names::is_credential_name;
use palisade_secrets::pairs::config_lines;
use palisade_secrets::values::is_reference;
use serde_json::Value;

use crate::detection::{Cx, Hit, Trigger};
use crate::state::State;

const WRITE: &[&str] = &["create", "update", "patch"];

crate::detection! {
    /// ## What it checks
    /// A ConfigMap created or changed with a credential in it: what Palisade's secret
    /// detectors recognise (provider tokens, private keys, URLs with passwords, ...), or a
    /// value under a name that says credential (`password = ...`, `aws_secret_access_key`)
    /// in its data or in a configuration file it holds. The alert names the keys, never the
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
        triggers: [Trigger::on(WRITE, "configmaps")],
        check: check,
    }
}

fn check(cx: &Cx, _: &mut State) -> Vec<Hit> {
    let Some(object) = cx.request() else {
        return Vec::new();
    };
    let mut keys: BTreeSet<String> = BTreeSet::new();
    // A patch's body is the change, not a ConfigMap: it is read as one (a copy with `kind`)
    // only when it lacks its kind.
    let detections = if object.get("kind").is_some() {
        palisade_secrets::scan_object(object)
    } else {
        let mut as_configmap = object.clone();
        if let Some(map) = as_configmap.as_object_mut() {
            map.insert("kind".into(), Value::String("ConfigMap".into()));
            map.insert("apiVersion".into(), Value::String("v1".into()));
        }
        palisade_secrets::scan_object(&as_configmap)
    };
    for detection in detections {
        keys.insert(detection.location.clone());
    }
    for (key, value) in object
        .get("data")
        .and_then(Value::as_object)
        .into_iter()
        .flatten()
    {
        let Some(text) = value.as_str() else { continue };
        if is_credential_name(key) && !is_reference(text) {
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
