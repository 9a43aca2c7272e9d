//! The detectors read hostile text: no input may panic them, and every range they return must
//! lie on character boundaries of the text they were given.

use palisade_secrets::detectors::structured;
use palisade_secrets::{scan_command, scan_object, scan_value};
use proptest::prelude::*;

/// Text built from the fragments the detectors look for, so that random input reaches deep
/// into every detector rather than stopping at the first check.
fn fragments() -> impl Strategy<Value = String> {
    let pieces = prop::sample::select(vec![
        "-----BEGIN ",
        "PRIVATE KEY-----",
        "-----END ",
        "AKIA",
        "ghp_",
        "glpat-",
        "xoxb-",
        "sk_live_",
        "SG.",
        "npm_",
        "eyJ",
        ".",
        "://",
        ":",
        "@",
        "/",
        "?",
        "&",
        "sig=",
        "sv=",
        "se=",
        "AccountKey=",
        "password=",
        "Password=",
        ";",
        "host=",
        "Authorization: Bearer ",
        "curl -u ",
        "hooks.slack.com/services/",
        "T0",
        "B0",
        "=",
        "\n",
        " ",
        "\"",
        "'",
        "é",
        "😀",
        "ü",
        "$(",
        "${",
        "service_account",
        "\"private_key\"",
        "PuTTY-User-Key-File-",
        "Private-Lines:",
        "Zk81qLm0x",
        "AAAAAAAAAAAAAAAAAAAAAAAA",
        "aGVsbG8=",
        "--token",
        "--db-password=",
    ]);
    prop::collection::vec(pieces, 0..40).prop_map(|v| v.concat())
}

fn check_ranges(text: &str) {
    for found in structured(text) {
        assert!(found.start <= found.end && found.end <= text.len());
        assert!(text.is_char_boundary(found.start) && text.is_char_boundary(found.end));
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn arbitrary_text_never_panics(text in any::<String>(), name in "[A-Za-z_.-]{0,20}") {
        check_ranges(&text);
        let _ = scan_value(Some(&name), &text);
        let _ = scan_value(None, &text);
        let words: Vec<&str> = text.split(' ').collect();
        let _ = scan_command(&words);
    }

    #[test]
    fn detector_fragments_never_panic(text in fragments(), name in "[A-Za-z_.-]{0,20}") {
        check_ranges(&text);
        for hit in scan_value(Some(&name), &text) {
            prop_assert!(!hit.secret.is_empty());
        }
        let object = serde_json::json!({
            "apiVersion": "v1", "kind": "ConfigMap",
            "metadata": {"name": "x", "annotations": {"a": text, "kubectl.kubernetes.io/last-applied-configuration": text}},
            "data": {name.clone(): text},
            "binaryData": {"b": text},
        });
        let _ = scan_object(&object);
    }
}
