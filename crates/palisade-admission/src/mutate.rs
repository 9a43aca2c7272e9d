//! The opt-in hardening patch: `palisade_fix::hardening`'s additions (safe security-context
//! defaults added where the object leaves them unset, each one the API server accepts for that
//! container) as JSON Patch `add` operations, the same additions `palisade fix` writes into
//! manifests.

use json_patch::jsonptr::PointerBuf;
use json_patch::{AddOperation, PatchOperation};
use palisade_fix::hardening;
use serde_json::Value;

use crate::settings::MutateSettings;

/// The additions for `object` of `(group, kind)` (to each of its pod specs and containers,
/// those written alone too), in order; empty when nothing is missing or the kind has no pod
/// spec.
pub fn hardening(
    group: &str,
    kind: &str,
    object: &Value,
    settings: &MutateSettings,
) -> Vec<PatchOperation> {
    hardening::for_value(
        group,
        kind,
        object,
        &settings.hardening(),
        &hardening::every,
    )
    .into_iter()
    .filter_map(|addition| {
        let path = PointerBuf::parse(addition.pointer().as_str()).ok()?;
        Some(PatchOperation::Add(AddOperation {
            path,
            value: addition.value,
        }))
    })
    .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use palisade_core::tree::Tree as _;
    use serde_json::json;

    /// The patch makes what `palisade fix` writes (the additions' own tests are in
    /// `palisade-fix`).
    #[test]
    fn the_patch_adds_the_hardening_fields() {
        let pod = json!({"spec": {"securityContext": {"runAsUser": 1000}, "containers": [
            {"name": "a", "image": "x"},
            {"name": "b", "image": "x", "securityContext": {"capabilities": {"add": ["NET_ADMIN"]}}},
        ]}});
        let ops = hardening("", "Pod", &pod, &MutateSettings::default());
        let mut doc = pod.clone();
        json_patch::patch(&mut doc, &ops).unwrap();
        assert_eq!(
            doc.at("/spec/securityContext"),
            Some(
                &json!({"runAsUser": 1000, "seccompProfile": {"type": "RuntimeDefault"}, "runAsNonRoot": true})
            )
        );
        assert_eq!(
            doc.at("/spec/containers/0/securityContext"),
            Some(&json!({"allowPrivilegeEscalation": false, "capabilities": {"drop": ["ALL"]}}))
        );
        assert_eq!(
            doc.at("/spec/containers/1/securityContext/capabilities"),
            Some(&json!({"add": ["NET_ADMIN"], "drop": ["ALL"]}))
        );
        assert!(hardening("", "Pod", &doc, &MutateSettings::default()).is_empty());
    }
}
