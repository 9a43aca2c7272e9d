//! Recognising credentials written in plain text (environment variables, ConfigMap data)
//! without ever echoing them: findings describe a value by its length, never its content.

/// Name fragments that say a value is a credential.
const SENSITIVE_NAME_PARTS: &[&str] = &[
    "password",
    "passwd",
    "secret",
    "token",
    "bearer",
    "apikey",
    "api_key",
    "api-key",
    "private_key",
    "privatekey",
    "secret_access_key",
    "client_secret",
    "credentials",
];

/// Exact names that hold credentials although they contain none of the fragments.
const SENSITIVE_NAMES: &[&str] = &[
    "aws_secret_access_key",
    "oci_cli_key_content",
    "database_url_with_password",
];

/// Names that contain a fragment above but hold no credential: etcd's initial cluster token
/// only keeps two clusters apart during bootstrap (its documentation says it is not a secret).
const NOT_CREDENTIAL_NAMES: &[&str] = &["etcd_initial_cluster_token", "initial_cluster_token"];

/// Suffixes of names that refer to a credential rather than contain one (a file path, a
/// Secret's name, a switch, a lifetime).
const REFERENCE_SUFFIXES: &[&str] = &[
    "_file",
    "_path",
    "_dir",
    "_name",
    "_ref",
    "_enabled",
    "_ttl",
    "_timeout",
    "_length",
    "_expiry",
    "_expiration",
    "_url",
    "_endpoint",
    "_header",
    "_type",
    "_mode",
    "_kind",
    "_key_id",
    "_id",
    "_policy",
    "_size",
    "_version",
    "_namespace",
    "_secret_name",
    "_field",
    "_location",
    "_source",
    "_provider",
    "_lifetime",
    "_duration",
    "_interval",
    "_audience",
    "_issuer",
    "_format",
    "_algorithm",
];

/// Why a name/value pair looks like a plain-text credential, or `None`.
pub fn credential_reason(name: &str, value: &str) -> Option<&'static str> {
    if let Some(reason) = secret_value_reason(value) {
        return Some(reason);
    }
    let lower = name.to_ascii_lowercase().replace('-', "_");
    let named = SENSITIVE_NAMES.contains(&lower.as_str())
        || (lower.starts_with("azure_") && lower.ends_with("key"))
        || SENSITIVE_NAME_PARTS.iter().any(|p| lower.contains(p));
    if !named
        || NOT_CREDENTIAL_NAMES.contains(&lower.as_str())
        || REFERENCE_SUFFIXES.iter().any(|s| lower.ends_with(s))
    {
        return None;
    }
    let v = value.trim();
    let trivial = v.is_empty()
        || v.starts_with("$(")
        || v.starts_with("${")
        || v.contains("{{")
        || v.starts_with('/')
        || v.starts_with("file:")
        || v.starts_with("vault:")
        || v.starts_with("ref+")
        || v.parse::<f64>().is_ok()
        || matches!(
            v.to_ascii_lowercase().as_str(),
            "true" | "false" | "yes" | "no" | "on" | "off" | "none" | "null"
        );
    if trivial {
        None
    } else if is_placeholder(name, v) {
        Some(
            "the value is a placeholder, so the real credential is meant to be written here in plain text",
        )
    } else {
        Some("its name says it holds a credential and it has a literal value")
    }
}

/// Values that stand for a credential to be filled in rather than being one: the variable's
/// own name, `<your-token>`, `YOUR_API_KEY`, `INSERT_TOKEN_HERE`, `xxxx`. Weak real defaults
/// such as `changeme` or `password` are not placeholders: they work as credentials.
fn is_placeholder(name: &str, value: &str) -> bool {
    let lower = value.to_ascii_lowercase();
    value.eq_ignore_ascii_case(name)
        || (value.starts_with('<') && value.ends_with('>'))
        || (value.starts_with('[') && value.ends_with(']'))
        || value
            .chars()
            .all(|c| matches!(c, 'x' | 'X' | '*' | '.' | '-'))
        || (value
            .chars()
            .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_')
            && value.chars().any(|c| c.is_ascii_uppercase()))
        || [
            "your",
            "insert",
            "replace",
            "placeholder",
            "todo",
            "fill-in",
            "fill_in",
        ]
        .iter()
        .any(|p| lower.starts_with(p))
}

/// Why a value is a credential whatever its name: key material and well-known token formats.
pub fn secret_value_reason(value: &str) -> Option<&'static str> {
    // Every format below is at least 20 characters long.
    if value.len() < 20 {
        return None;
    }
    if value.contains("PRIVATE KEY-") {
        return Some("it contains a private key");
    }
    /// `(prefix, shortest token, what it is)`; tokens are runs of alphanumerics, `_` and `-`.
    const TOKENS: &[(&str, usize, &str)] = &[
        ("ghp_", 36, "it contains a source-forge access token"),
        ("github_pat_", 40, "it contains a source-forge access token"),
        ("glpat-", 20, "it contains a source-forge access token"),
        ("xoxb-", 20, "it contains a Slack token"),
        ("xoxp-", 20, "it contains a Slack token"),
        ("sk_live_", 20, "it contains a Stripe live key"),
    ];
    for word in value.split(|c: char| !c.is_ascii_alphanumeric() && c != '_' && c != '-') {
        if word.len() < 20 {
            continue;
        }
        // AWS key ids are exactly 20 upper-case alphanumerics inside a token.
        for part in word.split(['_', '-']) {
            if part.len() == 20
                && (part.starts_with("AKIA") || part.starts_with("ASIA"))
                && part
                    .bytes()
                    .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit())
            {
                return Some("it contains an AWS access key id");
            }
        }
        if let Some((_, _, what)) = TOKENS
            .iter()
            .find(|(prefix, min, _)| word.len() >= *min && word.starts_with(prefix))
        {
            return Some(what);
        }
    }
    None
}

/// How a finding may describe a secret value: a stable tag, never the value or its length
/// (see [`palisade_core::redact`]).
pub fn describe_hidden(value: &str) -> String {
    format!("value not shown, {}", palisade_core::redact::tag(value))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_values_are_recognised_without_noise() {
        assert!(credential_reason("DB_PASSWORD", "hunter2").is_some());
        assert!(credential_reason("AWS_SECRET_ACCESS_KEY", "abc").is_some());
        assert!(credential_reason("AZURE_BATCH_KEY", "abc").is_some());
        assert!(credential_reason("greeting", "hello").is_none());
        assert!(credential_reason("PASSWORD_FILE", "/run/secrets/pw").is_none());
        assert!(credential_reason("TOKEN_TTL", "3600").is_none());
        assert!(credential_reason("ETCD_INITIAL_CLUSTER_TOKEN", "etcd-cluster-1").is_none());
        assert!(credential_reason("DB_PASSWORD", "$(DB_PASSWORD_FROM_SECRET)").is_none());
        assert!(credential_reason("SECRET_NAME", "db-creds").is_none());
        assert!(credential_reason("ENABLE_TOKEN_AUTH", "true").is_none());
        assert!(credential_reason("x", "-----BEGIN RSA PRIVATE KEY-----\nabc").is_some());
        assert!(credential_reason("x", "AKIAIOSFODNN7EXAMPLE").is_some());
        assert!(credential_reason("x", "AKIA-not-a-key").is_none());
        for placeholder in [
            "HF_TOKEN",
            "<your-token>",
            "GOOGLE_API_KEY_VAL",
            "INSERT_TOKEN",
            "yourpassword",
            "xxxx",
        ] {
            let reason = credential_reason("HF_TOKEN", placeholder).unwrap_or("");
            assert!(reason.contains("placeholder"), "{placeholder}: {reason}");
        }
        assert!(
            credential_reason("MYSQL_ROOT_PASSWORD", "changeme").is_some(),
            "weak defaults are real"
        );
    }

    #[test]
    fn hidden_values_show_neither_value_nor_length() {
        let text = describe_hidden("hunter2");
        assert!(
            !text.contains("hunter2") && !text.contains("7 char"),
            "{text}"
        );
        assert_eq!(text, describe_hidden("hunter2"));
    }
}
