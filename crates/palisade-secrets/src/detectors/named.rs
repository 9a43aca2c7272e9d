//! Detectors that need the value's name: the name says "credential" and the value is a
//! literal one (generic), a well-known default (weak default), an AWS secret access key, a
//! registry `auth` entry or an `Authorization` header.

use base64::Engine as _;

use super::Found;
use super::auth_header::scheme_credential;
use crate::detector::Detector;
use crate::names::{is_credential_name, is_password_name, mentions_credential, words};
use crate::values::{
    is_documented_example, is_hyphenated_name, is_placeholder, is_reference, is_setting,
    looks_secret,
};

/// Passwords that products ship as defaults or that people choose first: known to every
/// attacker's wordlist (MITRE ATT&CK T1078.001, Default Accounts).
const WEAK_DEFAULTS: &[&str] = &[
    "password",
    "passw0rd",
    "p@ssw0rd",
    "p@ssword",
    "pa55word",
    "password1",
    "password123",
    "changeme",
    "change_me",
    "change-me",
    "changeit",
    "changeme123",
    "admin",
    "admin123",
    "administrator",
    "root",
    "toor",
    "secret",
    "secret123",
    "default",
    "guest",
    "test",
    "test123",
    "testing",
    "123456",
    "1234567",
    "12345678",
    "123456789",
    "1234567890",
    "qwerty",
    "letmein",
    "welcome",
    "welcome1",
    "pass",
    "pass123",
    "mysql",
    "postgres",
    "redis",
    "mongo",
    "mongodb",
    "minio",
    "minioadmin",
    "minio123",
    "rabbitmq",
    "elastic",
    "kibana",
    "grafana",
    "prom-operator",
    "wordpress",
    "keycloak",
    "superset",
    "airflow",
    "neo4j",
    "demo",
    "user",
    "sa",
    "mypassword",
    "mysecret",
    "supersecret",
    "s3cr3t",
    "topsecret",
    "abc123",
    "adminadmin",
    "rootroot",
    "zabbix",
    "jenkins",
    "nexus",
    "admin@123",
    "harbor12345",
    "bitnami",
    "opensearch",
    "openstack",
    "ubuntu",
    "vagrant",
    "oracle",
    "manager",
    "tomcat",
];

/// Whether `value` under `name` is a well-known default password, or a word of the name
/// itself (`POSTGRES_PASSWORD=postgres`, `MYSQL_ROOT_PASSWORD=root`).
pub fn is_weak_default(name: &str, value: &str) -> bool {
    let lower = value.trim().to_ascii_lowercase();
    if lower.is_empty() {
        return false;
    }
    WEAK_DEFAULTS.contains(&lower.as_str())
        || [
            "changeme",
            "change_me",
            "change-me",
            "changeit",
            "pleasechange",
            "please-change",
        ]
        .iter()
        .any(|p| lower.starts_with(p))
        || (lower.len() >= 4
            && words(name).iter().any(|w| {
                *w == lower && !matches!(w.as_str(), "password" | "secret" | "token" | "key")
            }))
}

/// The detection for a value under a name, if any; the range is within `value`.
pub fn by_name(name: &str, value: &str) -> Option<Found> {
    let trimmed_start = value.len() - value.trim_start().len();
    let v = value.trim();
    let whole = |detector| Some(Found::new(detector, trimmed_start, trimmed_start + v.len()));
    // Every name below (`authorization`, `auth`, a credential's) contains a mark.
    if v.is_empty() || v.len() > 8192 || !mentions_credential(name) {
        return None;
    }
    let joined = words(name).join("_");
    if joined == "authorization" || joined.ends_with("_authorization") {
        return scheme_credential(v).map(|(s, e)| {
            Found::new(
                Detector::AuthorizationHeader,
                trimmed_start + s,
                trimmed_start + e,
            )
        });
    }
    if matches!(joined.as_str(), "auth" | "registry_auth") && registry_auth(v) {
        return whole(Detector::RegistryAuth);
    }
    if !is_credential_name(name) || is_reference(v) || v.contains('\n') {
        return None;
    }
    // The variable's own name in capitals (`COOKIE_SECRET=SECRET`) marks a blank to fill in.
    let echo = v.bytes().all(|b| b.is_ascii_uppercase())
        && words(name).iter().any(|w| w.eq_ignore_ascii_case(v));
    if echo || (is_placeholder(name, v) && !is_setting(v)) {
        return whole(Detector::Placeholder);
    }
    // An access key is the account's name in the AWS and MinIO schemes (`MINIO_ACCESS_KEY=
    // minio`); the secret key is its password.
    let name_words = words(name);
    let access_key = name_words.iter().any(|w| w == "access" || w == "accesskey")
        && !name_words.iter().any(|w| w.contains("secret"));
    if !access_key && is_weak_default(name, v) {
        return whole(Detector::WeakDefault);
    }
    // Settings, examples, and names of Secrets under a "secret" or "token" name are not
    // credentials (code that reads one at run time is a reference, checked above).
    if is_setting(v)
        || is_documented_example(v)
        || (is_hyphenated_name(v) && !is_password_name(name))
    {
        return None;
    }
    let aws_secret = (joined.contains("aws") && joined.contains("secret"))
        || joined.contains("secret_access_key");
    if aws_secret
        && v.len() == 40
        && v.bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'/' | b'+'))
    {
        return whole(Detector::AwsSecretAccessKey);
    }
    // A passphrase is words separated by blanks.
    let passphrase = is_password_name(name)
        && v.len() >= 12
        && v.split_whitespace().count() >= 3
        && v.len() <= 200;
    (passphrase || looks_secret(v))
        .then(|| Found::new(Detector::Generic, trimmed_start, trimmed_start + v.len()))
}

/// A registry `auth` entry: base64 of `user:password`.
fn registry_auth(value: &str) -> bool {
    base64::engine::general_purpose::STANDARD
        .decode(value)
        .ok()
        .and_then(|b| String::from_utf8(b).ok())
        .is_some_and(|s| {
            s.split_once(':')
                .is_some_and(|(u, p)| !u.is_empty() && !p.is_empty())
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn detector(name: &str, value: &str) -> Option<Detector> {
        by_name(name, value).map(|f| f.detector)
    }

    #[test]
    fn names_and_values_together() {
        assert_eq!(detector("DB_PASS", "hunter2"), Some(Detector::Generic));
        assert_eq!(
            detector("MYSQL_ROOT_PASSWORD", "changeme"),
            Some(Detector::WeakDefault)
        );
        assert_eq!(
            detector("POSTGRES_PASSWORD", "postgres"),
            Some(Detector::WeakDefault)
        );
        assert_eq!(
            detector(
                "AWS_SECRET_ACCESS_KEY",
                "Zk8vQ2hYbWx1Tm9wUXJzdHV2d3h5ejAxMjM0NTY3"
            ),
            Some(Detector::AwsSecretAccessKey)
        );
        assert_eq!(
            detector("auth", "dXNlcjpwYXNzd29yZA=="),
            Some(Detector::RegistryAuth)
        );
        assert_eq!(
            detector("Authorization", "Bearer Zk9q2Lm8Pw"),
            Some(Detector::AuthorizationHeader)
        );
        assert_eq!(detector("PASSWORD_MIN_LENGTH", "12"), None);
        assert_eq!(detector("TOKEN_TTL", "3600"), None);
        assert_eq!(detector("SECRET_NAME", "db-creds"), None);
        assert_eq!(detector("AUTH_MODE", "oidc"), None);
        assert_eq!(detector("AUTH", "oidc"), None);
        assert_eq!(detector("DB_PASSWORD", "${DB_PASSWORD}"), None);
        assert_eq!(
            detector("DB_PASSWORD", "<password>"),
            Some(Detector::Placeholder)
        );
        assert_eq!(
            detector("HF_TOKEN", "HF_TOKEN"),
            Some(Detector::Placeholder)
        );
        assert_eq!(
            detector("AWS_SECRET_ACCESS_KEY", "xxxxx"),
            Some(Detector::Placeholder)
        );
    }
}
