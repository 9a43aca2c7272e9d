//! Fuzzes the reading of leaked Kubernetes credentials (`palisade_k8s::credential`): any bytes
//! read as a value that may hold service-account tokens and kubeconfig certificates, alone, as
//! a token's claims, as a certificate's bytes, and as a ConfigMap's and Secret's values;
//! never a panic, never more than the bounded number of credentials, none expired.
//! Run: `cargo install cargo-fuzz && cd fuzz && RUSTC_BOOTSTRAP=1 cargo fuzz run kube_credentials`.
#![no_main]

use base64::Engine as _;
use libfuzzer_sys::fuzz_target;
use palisade_k8s::credential;

const NOW: i64 = 1_780_000_000;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let url = base64::engine::general_purpose::URL_SAFE_NO_PAD;
    let standard = base64::engine::general_purpose::STANDARD;
    let token = format!(
        "{}.{}.c2ln",
        url.encode(r#"{"alg":"RS256"}"#),
        url.encode(data)
    );
    let kubeconfig = format!(
        "client-certificate-data: {}\nclient-key-data: a\n",
        standard.encode(data)
    );
    let pem = format!(
        "-----BEGIN CERTIFICATE-----\n{}\n-----END CERTIFICATE-----\n",
        standard.encode(data)
    );
    let as_pem = format!(
        "client-certificate-data: {}\nclient-key-data: a\n",
        standard.encode(pem)
    );
    for value in [text.to_string(), token, kubeconfig, as_pem] {
        let found = credential::in_text(&value, NOW);
        assert!(found.len() <= 64);
        assert!(found.iter().all(|c| c.expires.is_none_or(|e| e > NOW)));
        for kind in ["ConfigMap", "Secret"] {
            let object = serde_json::json!({
                "apiVersion": "v1", "kind": kind,
                "data": {"a": value, "b": standard.encode(&value)},
                "binaryData": {"c": standard.encode(&value)},
                "stringData": {"d": value},
            });
            let _ = credential::object_holds_credential(&object, NOW);
        }
    }
});
