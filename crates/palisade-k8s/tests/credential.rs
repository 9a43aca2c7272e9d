//! Properties of the reading of leaked credentials (`palisade_k8s::credential`): whatever the
//! text, no panic and nothing expired; a token built for any account, bound or legacy, read
//! back as that account wherever it stands in a value, and never once it has expired.

use base64::Engine as _;
use palisade_k8s::credential::{Form, in_text};
use palisade_k8s::identity::Subject;
use proptest::prelude::*;

const NOW: i64 = 1_780_000_000;

fn token(claims: &serde_json::Value) -> String {
    let url = base64::engine::general_purpose::URL_SAFE_NO_PAD;
    format!(
        "{}.{}.c2lnbmF0dXJl",
        url.encode(r#"{"alg":"RS256","kid":"k"}"#),
        url.encode(claims.to_string())
    )
}

fn claims(namespace: &str, name: &str, legacy: bool, exp: Option<i64>) -> serde_json::Value {
    let mut claims = match legacy {
        true => serde_json::json!({
            "iss": "kubernetes/serviceaccount",
            "kubernetes.io/serviceaccount/namespace": namespace,
            "kubernetes.io/serviceaccount/service-account.name": name,
        }),
        false => serde_json::json!({"sub": format!("system:serviceaccount:{namespace}:{name}")}),
    };
    if let Some(exp) = exp {
        claims["exp"] = exp.into();
    }
    claims
}

proptest! {
    #[test]
    fn any_text_is_read_without_panic_and_nothing_expired(text in "\\PC{0,400}") {
        for value in [text.clone(), format!("eyJ{text}"), format!("client-certificate-data: {text}\nclient-key-data: x")] {
            let found = in_text(&value, NOW);
            prop_assert!(found.len() <= 64);
            prop_assert!(found.iter().all(|c| c.expires.is_none_or(|e| e > NOW)));
        }
    }

    #[test]
    fn a_token_is_read_back_as_its_account_wherever_it_stands(
        namespace in "[a-z][a-z0-9-]{0,20}",
        name in "[a-z][a-z0-9.-]{0,30}",
        legacy in any::<bool>(),
        lifetime in proptest::option::of(1i64..1_000_000_000),
        before in "[ :=\"'{\\[\n]{0,3}[a-z ]{0,10}[ :=\"'\n]",
        after in "[ }\\]\"'\n,]{0,3}[a-z ]{0,10}",
    ) {
        let live = token(&claims(&namespace, &name, legacy, lifetime.map(|l| NOW + l)));
        let found = in_text(&format!("{before}{live}{after}"), NOW);
        prop_assert_eq!(found.len(), 1);
        prop_assert_eq!(found[0].form, Form::ServiceAccountToken);
        prop_assert_eq!(&found[0].subject, &Subject::service_account(&namespace, &name));
        if let Some(lifetime) = lifetime {
            let expired = token(&claims(&namespace, &name, legacy, Some(NOW - lifetime)));
            let value = format!("{before}{expired}{after}");
            prop_assert!(in_text(&value, NOW).is_empty());
        }
    }
}
