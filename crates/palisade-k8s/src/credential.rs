//! Kubernetes credentials written where they do not belong, and whom they authenticate as: a
//! service-account token (a JWT the API server signed: the account is in its claims) or a
//! kubeconfig's client certificate with its key (the API server's x509 authenticator takes
//! the certificate's common name as the user and its organisations as the groups).
//!
//! This answers "whose credential is this value?" for the escalation graph (whoever reads the
//! value becomes that identity) and for the models a cluster prepared for admission keeps
//! (an object holding one is read by the graph). Nothing here formats a credential: the
//! answer is the identity, never the value.
//!
//! What is not a credential of a known identity is not answered: an opaque bearer token (the
//! identity is wherever the token file of the API server says), an OIDC token (the claim the
//! API server takes the user from is its own flag), a certificate without its key in the same
//! value, a certificate whose extended key usage rules out client authentication, and
//! anything expired at `now`.

use base64::Engine as _;
use serde_json::Value;

use crate::identity::Subject;

/// The longest JWT payload read, in base64 characters: a service-account token's claims are
/// well under a kilobyte.
const MAX_PAYLOAD: usize = 64 * 1024;

/// The longest certificate read, in base64 characters.
const MAX_CERTIFICATE: usize = 64 * 1024;

/// The credentials read in one text at most: a value holding more is not a kubeconfig.
const MAX_PER_TEXT: usize = 64;

/// The legacy tokens' issuer (`kubernetes/serviceaccount`) and their account claims.
const LEGACY_ISSUER: &str = "kubernetes/serviceaccount";
const LEGACY_NAMESPACE: &str = "kubernetes.io/serviceaccount/namespace";
const LEGACY_ACCOUNT: &str = "kubernetes.io/serviceaccount/service-account.name";

/// A kubeconfig's fields that hold a client certificate and its key, base64-encoded.
const CERTIFICATE_FIELD: &str = "client-certificate-data";
const KEY_FIELD: &str = "client-key-data";

/// What kind of credential it is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Form {
    /// A service-account token (legacy, or bound with an expiry).
    ServiceAccountToken,
    /// A kubeconfig's client certificate, with its key beside it.
    ClientCertificate,
}

impl Form {
    /// As people name it: `a service-account token`.
    pub fn noun(self) -> &'static str {
        match self {
            Form::ServiceAccountToken => "a service-account token",
            Form::ClientCertificate => "a kubeconfig's client certificate and key",
        }
    }
}

/// A credential and whom it authenticates as.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Credential {
    pub form: Form,
    /// The user or service account it authenticates as.
    pub subject: Subject,
    /// The groups it adds beyond the implicit ones: a certificate's organisations.
    pub groups: Vec<String>,
    /// When it stops working, in seconds since the epoch (`None`: never, a legacy token).
    pub expires: Option<i64>,
}

impl Credential {
    /// `a service-account token of ServiceAccount ns/name`, `a kubeconfig's client certificate
    /// and key of User admin (groups system:masters)`.
    pub fn describe(&self) -> String {
        let groups = match self.groups.as_slice() {
            [] => String::new(),
            groups => format!(" (groups {})", groups.join(", ")),
        };
        format!("{} of {}{groups}", self.form.noun(), self.subject)
    }
}

/// The credentials in `text` that still work at `now` (seconds since the epoch), in the order
/// they appear, each once.
pub fn in_text(text: &str, now: i64) -> Vec<Credential> {
    let mut found = Vec::new();
    if text.contains("eyJ") {
        tokens(text, now, &mut found);
    }
    if text.contains(CERTIFICATE_FIELD) && text.contains(KEY_FIELD) {
        certificates(text, now, &mut found);
    }
    let mut seen = std::collections::HashSet::new();
    found.retain(|credential| seen.insert(credential.clone()));
    found.truncate(MAX_PER_TEXT);
    found
}

/// The texts of `object`'s values that may hold a credential (they hold what [`in_text`]
/// looks for), with the field each came from (`data.kubeconfig`): a ConfigMap's `data` and
/// `binaryData`, and a Secret's `data` (decoded) and `stringData`, of any Secret type that may
/// hold one; a value that holds nothing of the kind is not copied. A service-account token
/// Secret is its account's own token, not a leak of it (the graph reads it as such); TLS,
/// registry and bootstrap-token Secrets and Helm's release records hold other things.
pub fn stored_texts(object: &Value) -> Vec<(String, String)> {
    let kind = object.get("kind").and_then(Value::as_str).unwrap_or("");
    let api_version = object.get("apiVersion").and_then(Value::as_str);
    if api_version.is_some_and(|v| v != "v1") {
        return Vec::new();
    }
    // Each field, and whether its values are base64-encoded.
    let fields: &[(&str, bool)] = match kind {
        "ConfigMap" => &[("data", false), ("binaryData", true)],
        "Secret" if holds_values(object) => &[("data", true), ("stringData", false)],
        _ => return Vec::new(),
    };
    let mut texts = Vec::new();
    for &(field, base64) in fields {
        let Some(map) = object.get(field).and_then(Value::as_object) else {
            continue;
        };
        for (key, value) in map {
            let Some(raw) = value.as_str() else { continue };
            let text = match base64 {
                true => match base64::engine::general_purpose::STANDARD.decode(raw.trim()) {
                    Ok(bytes) => String::from_utf8_lossy(&bytes).into_owned(),
                    Err(_) => continue,
                },
                false if may_hold(raw) => raw.to_string(),
                false => continue,
            };
            if may_hold(&text) {
                texts.push((format!("{field}.{key}"), text));
            }
        }
    }
    texts
}

/// A container's values that are written in its spec: environment variables, command and
/// arguments, each with where it is.
pub fn container_texts(container: &Value) -> Vec<(String, &str)> {
    let mut texts = Vec::new();
    for item in container
        .get("env")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        if let (Some(name), Some(value)) = (
            item.get("name").and_then(Value::as_str),
            item.get("value").and_then(Value::as_str),
        ) {
            texts.push((format!("environment variable {name}"), value));
        }
    }
    for field in ["command", "args"] {
        let words = container
            .get(field)
            .and_then(Value::as_array)
            .into_iter()
            .flatten();
        for word in words.filter_map(Value::as_str) {
            let place = match field {
                "command" => "its command",
                _ => "its arguments",
            };
            texts.push((place.to_string(), word));
        }
    }
    texts
}

/// The label Argo CD puts on a Secret that holds the credentials of a cluster it deploys to:
/// those authenticate to that cluster, which is this one only at its in-cluster address.
const ARGO_CD_SECRET_TYPE: &str = "argocd.argoproj.io/secret-type";
const IN_CLUSTER_SERVER: &str = "https://kubernetes.default.svc";

/// Whether `object` is an Argo CD cluster Secret for another cluster than the one it is in
/// (its `server` is not the in-cluster address): its credentials authenticate there.
pub fn for_another_cluster(object: &Value) -> bool {
    let labelled = object
        .get("metadata")
        .and_then(|m| m.get("labels"))
        .and_then(|labels| labels.get(ARGO_CD_SECRET_TYPE))
        .and_then(Value::as_str)
        == Some("cluster");
    let field = |field: &str| object.get(field)?.get("server")?.as_str();
    let server = field("stringData").map(str::to_string).or_else(|| {
        let encoded = field("data")?;
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(encoded.trim())
            .ok()?;
        String::from_utf8(bytes).ok()
    });
    labelled && server.is_some_and(|s| s.trim().trim_end_matches('/') != IN_CLUSTER_SERVER)
}

/// Whether `text` holds what [`in_text`] looks for: a JWT's start, or a kubeconfig's
/// certificate field.
fn may_hold(text: &str) -> bool {
    text.contains("eyJ") || text.contains(CERTIFICATE_FIELD)
}

/// Secret types whose values are something other than a credential of a cluster identity
/// (or, for a token Secret, the account's own token).
const OTHER_SECRET_TYPES: &[&str] = &[
    TOKEN_SECRET_TYPE,
    "kubernetes.io/tls",
    "kubernetes.io/dockerconfigjson",
    "kubernetes.io/dockercfg",
    "bootstrap.kubernetes.io/token",
    "helm.sh/release.v1",
];

fn holds_values(secret: &Value) -> bool {
    let kind = secret.get("type").and_then(Value::as_str).unwrap_or("");
    !OTHER_SECRET_TYPES.contains(&kind)
}

/// The type of the Secrets the token controller fills with a ServiceAccount's long-lived
/// token.
pub const TOKEN_SECRET_TYPE: &str = "kubernetes.io/service-account-token";

/// The annotation naming the ServiceAccount a token Secret is for.
const TOKEN_ACCOUNT_ANNOTATION: &str = "kubernetes.io/service-account.name";

/// A Secret that holds a ServiceAccount's long-lived token ([`token_secret`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TokenSecret<'a> {
    /// The ServiceAccount's name (in the Secret's namespace).
    pub account: &'a str,
    /// False when the Secret's type was not read (a cluster read takes Secrets as metadata
    /// only unless `--include-secret-values` is given) and the annotation alone names it.
    pub typed: bool,
}

/// Whether `secret` (a Secret) holds a ServiceAccount's long-lived token, and whose: of type
/// [`TOKEN_SECRET_TYPE`] with the account's annotation, as the token controller fills it. A
/// Secret read as metadata only has no `type` (the API server always sets one): the
/// annotation, which the controller sets on the Secrets it fills, names it then. A Secret of
/// another type is not one, whatever its annotations.
pub fn token_secret(secret: &Value) -> Option<TokenSecret<'_>> {
    let account = secret
        .get("metadata")?
        .get("annotations")?
        .get(TOKEN_ACCOUNT_ANNOTATION)?
        .as_str()?;
    match secret.get("type") {
        None => Some(TokenSecret {
            account,
            typed: false,
        }),
        Some(kind) if kind.as_str() == Some(TOKEN_SECRET_TYPE) => Some(TokenSecret {
            account,
            typed: true,
        }),
        Some(_) => None,
    }
}

/// Whether `object` is a Secret whose values were not read, so that whether it holds a
/// credential is unknown: read as metadata only (a cluster read without
/// `--include-secret-values`: no `type`, `data` or `stringData`), or with every value blanked
/// (`""`, the keys kept). A service-account token Secret (named by its annotation) and a Helm
/// release record are known not to hold a leaked credential, values or not.
pub fn values_withheld(object: &Value) -> bool {
    if object.get("kind").and_then(Value::as_str) != Some("Secret")
        || object.get("apiVersion").and_then(Value::as_str) != Some("v1")
        || !holds_values(object)
    {
        return false;
    }
    let metadata = object.get("metadata");
    let token = token_secret(object).is_some();
    let release = metadata
        .and_then(|m| m.get("name"))
        .and_then(Value::as_str)
        .is_some_and(|n| n.starts_with("sh.helm.release.v1."));
    if token || release {
        return false;
    }
    let values: Vec<&Value> = ["data", "stringData"]
        .iter()
        .filter_map(|f| object.get(*f).and_then(Value::as_object))
        .flat_map(|m| m.values())
        .collect();
    let metadata_only = object.get("type").is_none() && values.is_empty();
    let blanked = !values.is_empty() && values.iter().all(|v| v.as_str() == Some(""));
    metadata_only || blanked
}

/// Whether `object` (a ConfigMap or Secret) holds a credential that works at `now`.
pub fn object_holds_credential(object: &Value, now: i64) -> bool {
    stored_texts(object)
        .iter()
        .any(|(_, text)| !in_text(text, now).is_empty())
}

fn is_token_char(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'-' || b == b'_' || b == b'.'
}

/// Every service-account JWT in `text`.
fn tokens(text: &str, now: i64, found: &mut Vec<Credential>) {
    let bytes = text.as_bytes();
    let mut from = 0;
    while let Some(at) = text[from..].find("eyJ").map(|i| from + i) {
        let starts_word = at == 0 || !is_token_char(bytes[at - 1]);
        let len = bytes[at..]
            .iter()
            .take_while(|b| is_token_char(**b))
            .count();
        from = at + len.max(3);
        if !starts_word {
            continue;
        }
        if let Some(credential) = token(&text[at..at + len], now) {
            found.push(credential);
            if found.len() >= MAX_PER_TEXT {
                return;
            }
        }
    }
}

/// A service-account token's account, when `jwt` is one that works at `now`.
fn token(jwt: &str, now: i64) -> Option<Credential> {
    let mut parts = jwt.split('.');
    let (header, payload, signature) = (parts.next()?, parts.next()?, parts.next()?);
    if parts.next().is_some() || signature.is_empty() || payload.len() > MAX_PAYLOAD {
        return None;
    }
    let decode = |part: &str| {
        base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(part.trim_end_matches('='))
            .ok()
            .and_then(|bytes| serde_json::from_slice::<Value>(&bytes).ok())
    };
    decode(header)?.get("alg")?;
    let claims = decode(payload)?;
    let expires = claims.get("exp").and_then(Value::as_f64);
    if expires.is_some_and(|exp| exp <= now as f64) {
        return None;
    }
    Some(Credential {
        form: Form::ServiceAccountToken,
        subject: account_of(&claims)?,
        groups: Vec::new(),
        expires: expires.map(|exp| exp as i64),
    })
}

/// The account a token's claims name: a bound token's subject, or a legacy token's claims.
fn account_of(claims: &Value) -> Option<Subject> {
    let text = |name: &str| claims.get(name).and_then(Value::as_str);
    if let Some(subject) = text("sub").filter(|s| s.starts_with("system:serviceaccount:")) {
        return match Subject::of_username(subject) {
            Subject::ServiceAccount { namespace, name }
                if !namespace.is_empty() && !name.is_empty() && !name.contains(':') =>
            {
                Some(Subject::ServiceAccount { namespace, name })
            }
            _ => None,
        };
    }
    if text("iss") != Some(LEGACY_ISSUER) {
        return None;
    }
    let namespace = text(LEGACY_NAMESPACE).filter(|s| !s.is_empty())?;
    let name = text(LEGACY_ACCOUNT).filter(|s| !s.is_empty())?;
    Some(Subject::service_account(namespace, name))
}

/// Every kubeconfig client certificate in `text` (YAML or JSON) whose key is in it too.
fn certificates(text: &str, now: i64, found: &mut Vec<Credential>) {
    let mut from = 0;
    while let Some(at) = text[from..].find(CERTIFICATE_FIELD).map(|i| from + i) {
        from = at + CERTIFICATE_FIELD.len();
        let rest = text[from..].trim_start_matches(['"', '\'', ':', '=', ' ', '\t']);
        let len = rest
            .bytes()
            .take(MAX_CERTIFICATE + 1)
            .take_while(|b| b.is_ascii_alphanumeric() || matches!(b, b'+' | b'/' | b'='))
            .count();
        if len == 0 || len > MAX_CERTIFICATE {
            continue;
        }
        if let Some(credential) = certificate(&rest[..len], now) {
            found.push(credential);
            if found.len() >= MAX_PER_TEXT {
                return;
            }
        }
    }
}

/// The user a base64-encoded PEM certificate names, when it may authenticate a client at
/// `now`.
fn certificate(encoded: &str, now: i64) -> Option<Credential> {
    let pem_bytes = base64::engine::general_purpose::STANDARD
        .decode(encoded)
        .ok()?;
    let (_, pem) = x509_parser::pem::parse_x509_pem(&pem_bytes).ok()?;
    let certificate = pem.parse_x509().ok()?;
    let validity = certificate.validity();
    let expires = validity.not_after.timestamp();
    if expires <= now || validity.not_before.timestamp() > now {
        return None;
    }
    // Go's x509 verification with `ExtKeyUsageClientAuth`: a listed usage must allow it.
    if let Ok(Some(usage)) = certificate.extended_key_usage()
        && !(usage.value.client_auth || usage.value.any)
    {
        return None;
    }
    let subject = certificate.subject();
    // Go keeps the last common name of the subject.
    let user = subject
        .iter_common_name()
        .filter_map(|cn| cn.as_str().ok())
        .last()
        .filter(|cn| !cn.is_empty())?;
    let groups: Vec<String> = subject
        .iter_organization()
        .filter_map(|o| o.as_str().ok())
        .filter(|o| !o.is_empty())
        .map(str::to_string)
        .collect();
    Some(Credential {
        form: Form::ClientCertificate,
        subject: Subject::User { name: user.into() },
        groups,
        expires: Some(expires),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn jwt(claims: &str) -> String {
        let e = |s: &str| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(s);
        format!(
            "{}.{}.c2lnbmF0dXJl",
            e(r#"{"alg":"RS256","kid":"k"}"#),
            e(claims)
        )
    }

    const NOW: i64 = 1_780_000_000;

    #[test]
    fn a_bound_token_names_its_account_until_it_expires() {
        let live = jwt(
            r#"{"iss":"https://kubernetes.default.svc","sub":"system:serviceaccount:ci:deployer","exp":1900000000}"#,
        );
        let found = in_text(&format!("token: {live}\n"), NOW);
        assert_eq!(
            found,
            [Credential {
                form: Form::ServiceAccountToken,
                subject: Subject::service_account("ci", "deployer"),
                groups: vec![],
                expires: Some(1_900_000_000),
            }]
        );
        assert_eq!(
            found[0].describe(),
            "a service-account token of ServiceAccount ci/deployer"
        );
        let expired = jwt(r#"{"sub":"system:serviceaccount:ci:deployer","exp":1700000000}"#);
        assert!(in_text(&expired, NOW).is_empty());
    }

    #[test]
    fn a_legacy_token_names_its_account_in_its_own_claims() {
        let legacy = jwt(
            r#"{"iss":"kubernetes/serviceaccount","kubernetes.io/serviceaccount/namespace":"kube-system","kubernetes.io/serviceaccount/service-account.name":"admin"}"#,
        );
        let found = in_text(&format!("{{\"token\":\"{legacy}\"}}"), NOW);
        assert_eq!(
            found[0].subject,
            Subject::service_account("kube-system", "admin")
        );
        assert_eq!(found[0].expires, None);
    }

    #[test]
    fn other_jwts_are_no_cluster_identity() {
        for claims in [
            r#"{"iss":"https://accounts.google.com","sub":"1234","email":"a@b.c"}"#,
            r#"{"sub":"system:serviceaccount:onlyone"}"#,
            r#"{"sub":"system:serviceaccount::name"}"#,
            r#"{"iss":"other","kubernetes.io/serviceaccount/namespace":"a","kubernetes.io/serviceaccount/service-account.name":"b"}"#,
        ] {
            assert!(in_text(&jwt(claims), NOW).is_empty(), "{claims}");
        }
        // Not a token: inside a longer word, or without a signature.
        let token = jwt(r#"{"sub":"system:serviceaccount:a:b"}"#);
        assert!(in_text(&format!("x{token}"), NOW).is_empty());
        let unsigned = token.rsplit_once('.').unwrap().0.to_string() + ".";
        assert!(in_text(&unsigned, NOW).is_empty());
    }

    #[test]
    fn one_token_written_twice_is_one_credential() {
        let token = jwt(r#"{"sub":"system:serviceaccount:a:b"}"#);
        assert_eq!(in_text(&format!("{token} {token}"), NOW).len(), 1);
    }

    /// A kubeconfig whose user has a certificate for `cn` in `organisations`, valid until
    /// `until` (a year), for `usages`.
    fn kubeconfig(
        cn: &str,
        organisations: &[&str],
        until: i32,
        usages: Vec<rcgen::ExtendedKeyUsagePurpose>,
    ) -> String {
        let key = rcgen::KeyPair::generate().unwrap();
        let mut params = rcgen::CertificateParams::new(Vec::<String>::new()).unwrap();
        params
            .distinguished_name
            .push(rcgen::DnType::CommonName, cn);
        for o in organisations {
            params
                .distinguished_name
                .push(rcgen::DnType::OrganizationName, *o);
        }
        params.not_before = rcgen::date_time_ymd(2020, 1, 1);
        params.not_after = rcgen::date_time_ymd(until, 1, 1);
        params.extended_key_usages = usages;
        let certificate = params.self_signed(&key).unwrap();
        let e = |s: String| base64::engine::general_purpose::STANDARD.encode(s);
        format!(
            "apiVersion: v1\nkind: Config\nusers:\n- name: admin\n  user:\n    client-certificate-data: {}\n    client-key-data: {}\n",
            e(certificate.pem()),
            e(key.serialize_pem())
        )
    }

    #[test]
    fn a_kubeconfig_certificate_names_its_user_and_groups() {
        use rcgen::ExtendedKeyUsagePurpose::{ClientAuth, ServerAuth};
        let text = kubeconfig(
            "kubernetes-admin",
            &["system:masters"],
            2100,
            vec![ClientAuth],
        );
        let found = in_text(&text, NOW);
        assert_eq!(found.len(), 1);
        assert_eq!(
            found[0].describe(),
            "a kubeconfig's client certificate and key of User kubernetes-admin (groups system:masters)"
        );
        // As JSON too.
        let json: Value = serde_json::from_str(&format!(
            "{{\"c\": {:?}}}",
            text.replace(
                "client-certificate-data: ",
                "\"client-certificate-data\": \""
            )
            .replace("\n    client-key-data", "\"\n    client-key-data")
        ))
        .unwrap();
        assert_eq!(in_text(json["c"].as_str().unwrap(), NOW).len(), 1);
        // Without client authentication, expired, or without its key: no credential.
        assert!(in_text(&kubeconfig("web", &[], 2100, vec![ServerAuth]), NOW).is_empty());
        assert!(in_text(&kubeconfig("old", &[], 2021, vec![]), NOW).is_empty());
        let keyless = text.replace("client-key-data", "client-key");
        assert!(in_text(&keyless, NOW).is_empty());
        // No extended key usage at all: any use.
        assert_eq!(in_text(&kubeconfig("any", &[], 2100, vec![]), NOW).len(), 1);
    }

    #[test]
    fn an_argo_cd_cluster_secret_names_the_cluster_its_credentials_are_for() {
        let secret = |data: Value| {
            serde_json::json!({"apiVersion": "v1", "kind": "Secret",
                "metadata": {"labels": {"argocd.argoproj.io/secret-type": "cluster"}}})
            .as_object()
            .unwrap()
            .clone()
            .into_iter()
            .chain(data.as_object().unwrap().clone())
            .collect::<serde_json::Map<_, _>>()
            .into()
        };
        let e = |s: &str| base64::engine::general_purpose::STANDARD.encode(s);
        let remote = serde_json::json!({"data": {"server": e("https://prod.example.com:6443")}});
        assert!(for_another_cluster(&secret(remote)));
        let local =
            serde_json::json!({"stringData": {"server": "https://kubernetes.default.svc/"}});
        assert!(!for_another_cluster(&secret(local)));
        let unlabelled =
            serde_json::json!({"kind": "Secret", "stringData": {"server": "https://x"}});
        assert!(!for_another_cluster(&unlabelled));
    }

    #[test]
    fn stored_texts_decode_what_is_encoded() {
        // "eyJhIjoxfQ" is `{"a":1}` as a JWT part; its base64 is "ZXlKaElqb3hmUQ==".
        let secret = serde_json::json!({
            "apiVersion": "v1", "kind": "Secret", "type": "Opaque",
            "data": {"a": "ZXlKaElqb3hmUQ==", "skip": "aGVsbG8="},
            "stringData": {"b": "x eyJhIjoxfQ", "plain": "hello"}
        });
        assert_eq!(
            stored_texts(&secret),
            [
                ("data.a".to_string(), "eyJhIjoxfQ".to_string()),
                ("stringData.b".to_string(), "x eyJhIjoxfQ".to_string())
            ]
        );
        let config_map = serde_json::json!({
            "apiVersion": "v1", "kind": "ConfigMap",
            "data": {"a": "ZXlKaElqb3hmUQ==", "c": "client-certificate-data: x"},
            "binaryData": {"b": "ZXlKaElqb3hmUQ=="}
        });
        assert_eq!(
            stored_texts(&config_map),
            [
                (
                    "data.c".to_string(),
                    "client-certificate-data: x".to_string()
                ),
                ("binaryData.b".to_string(), "eyJhIjoxfQ".to_string())
            ]
        );
        let tls = serde_json::json!({"apiVersion": "v1", "kind": "Secret", "type": "kubernetes.io/tls", "data": {"a": "aGVsbG8="}});
        assert!(stored_texts(&tls).is_empty());
    }

    #[test]
    fn a_token_secret_is_named_by_its_type_or_read_as_metadata_only_by_its_annotation() {
        let secret = |kind: Option<&str>, annotated: bool| {
            let mut secret = serde_json::json!({"apiVersion": "v1", "kind": "Secret",
                "metadata": {"name": "t", "namespace": "ci"}});
            if annotated {
                secret["metadata"]["annotations"] =
                    serde_json::json!({"kubernetes.io/service-account.name": "deployer"});
            }
            if let Some(kind) = kind {
                secret["type"] = kind.into();
            }
            secret
        };
        let typed = secret(Some(TOKEN_SECRET_TYPE), true);
        assert_eq!(
            token_secret(&typed),
            Some(TokenSecret {
                account: "deployer",
                typed: true
            })
        );
        let metadata_only = secret(None, true);
        assert_eq!(
            token_secret(&metadata_only),
            Some(TokenSecret {
                account: "deployer",
                typed: false
            })
        );
        assert_eq!(token_secret(&secret(Some("Opaque"), true)), None);
        assert_eq!(token_secret(&secret(Some(TOKEN_SECRET_TYPE), false)), None);
        assert_eq!(token_secret(&secret(None, false)), None);
    }

    /// A Secret read as metadata only, or with its values blanked, is one whose credentials
    /// are unknown; one read whole, or known to hold none (a token, a TLS pair, a Helm
    /// release), is not.
    #[test]
    fn a_secret_read_without_its_values_is_known_as_such() {
        let secret = |extra: serde_json::Value| {
            let mut object = serde_json::json!({"apiVersion": "v1", "kind": "Secret",
                "metadata": {"name": "db", "namespace": "shop"}});
            for (key, value) in extra.as_object().unwrap() {
                object[key] = value.clone();
            }
            object
        };
        assert!(values_withheld(&secret(serde_json::json!({}))));
        assert!(values_withheld(&secret(
            serde_json::json!({"type": "Opaque", "data": {"a": "", "b": ""}})
        )));
        assert!(!values_withheld(&secret(
            serde_json::json!({"type": "Opaque", "data": {"a": "aGk="}})
        )));
        assert!(!values_withheld(&secret(
            serde_json::json!({"type": "Opaque"})
        )));
        assert!(!values_withheld(&secret(
            serde_json::json!({"type": "kubernetes.io/tls", "data": {"tls.crt": ""}})
        )));
        let mut token = secret(serde_json::json!({}));
        token["metadata"]["annotations"] =
            serde_json::json!({"kubernetes.io/service-account.name": "ci"});
        assert!(!values_withheld(&token));
        let mut release = secret(serde_json::json!({}));
        release["metadata"]["name"] = "sh.helm.release.v1.web.v3".into();
        assert!(!values_withheld(&release));
        let config_map =
            serde_json::json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c"}});
        assert!(!values_withheld(&config_map));
    }
}
