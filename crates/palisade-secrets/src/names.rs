//! Whether a key, variable or flag name says that its value is a credential.
//!
//! A name is split into words (`dbPassword`, `DB_PASSWORD`, `db-password` and `db.password` are
//! the same three words) and judged on them, so a new spelling of a known word needs no new
//! entry. Settings that only mention a credential (`PASSWORD_MIN_LENGTH`, `TOKEN_TTL`,
//! `SECRET_NAME`, `AUTH_MODE`) end in a word that says what they are instead.

/// Words that make a name a credential's wherever they occur.
const CREDENTIAL_WORDS: &[&str] = &[
    "password",
    "passwd",
    "pass",
    "pwd",
    "passphrase",
    "secret",
    "token",
    "apikey",
    "credential",
    "credentials",
    "creds",
    "pgpass",
    "requirepass",
    "masterauth",
    "bearer",
    "privatekey",
    "dsn",
];

/// Fragments that make a name a credential's at the end of a longer word (`dbpassword`,
/// `clientsecret`, `authtoken`; not `tokenizer`).
const CREDENTIAL_FRAGMENTS: &[&str] = &[
    "password",
    "passwd",
    "passphrase",
    "secret",
    "token",
    "apikey",
    "credential",
];

/// Words that, before `key`, make the pair a credential (`ENCRYPTION_KEY`, `SSH_KEY`).
const KEY_QUALIFIERS: &[&str] = &[
    "access",
    "secret",
    "private",
    "signing",
    "sign",
    "encryption",
    "encrypt",
    "decryption",
    "session",
    "ssh",
    "api",
    "master",
    "auth",
    "hmac",
    "crypto",
    "client",
    "account",
    "storage",
    "shared",
    "jwt",
    "cookie",
    "webhook",
    "app",
    "license",
    "service",
    "admin",
    "root",
    "aes",
    "cipher",
];

/// Final words that make a name refer to a credential, or describe one, rather than hold it.
const DESCRIBING_WORDS: &[&str] = &[
    "file",
    "path",
    "dir",
    "directory",
    "name",
    "names",
    "ref",
    "reference",
    "enabled",
    "enable",
    "disabled",
    "ttl",
    "timeout",
    "length",
    "len",
    "expiry",
    "expiration",
    "expires",
    "url",
    "uri",
    "endpoint",
    "header",
    "type",
    "mode",
    "kind",
    "id",
    "ids",
    "policy",
    "size",
    "version",
    "namespace",
    "field",
    "location",
    "source",
    "provider",
    "lifetime",
    "duration",
    "interval",
    "audience",
    "issuer",
    "format",
    "algorithm",
    "alg",
    "min",
    "max",
    "count",
    "required",
    "prefix",
    "suffix",
    "regex",
    "pattern",
    "hash",
    "salt_rounds",
    "rounds",
    "store",
    "backend",
    "manager",
    "mount",
    "volume",
    "key_id",
    "keyid",
    "annotation",
    "label",
    "selector",
    "env",
    "var",
    "variable",
    "template",
    "method",
    "scheme",
    "strategy",
    "period",
    "age",
    "days",
    "hours",
    "seconds",
    "minutes",
    "secs",
    "ms",
    "limit",
    "threshold",
    "retries",
    "attempts",
    "cache",
    "refresh",
    "rotation",
    "reset",
    "complexity",
    "strength",
    "hint",
    "placeholder",
    "description",
    "help",
    "label",
    "title",
    "text",
    "message",
    "user",
    "username",
    "login",
    "host",
    "port",
    "server",
    "scope",
    "scopes",
    "claim",
    "claims",
    "class",
    "handler",
    "validator",
    "validation",
    "check",
    "sync",
    "secrets",
    "kms",
    "arn",
    "version_id",
    "bucket",
    "region",
    "generator",
    "length_min",
    "flag",
    "switch",
    "option",
];

/// Exact names that hold no credential although a word above says so: etcd's initial cluster
/// token only keeps two clusters apart during bootstrap; a CSRF or cache "token" name
/// describes a mechanism.
const NOT_CREDENTIAL: &[&str] = &[
    "etcd_initial_cluster_token",
    "initial_cluster_token",
    "pass_through",
    "passthrough",
    "bypass",
    "compass",
    "password_hash_algorithm",
    "token_auth",
    "secret_key_ref",
    "secretkeyref",
    "secretref",
    "secret_ref",
    "tokenreview",
    "tokenreviews",
    "serviceaccounttoken",
    "automountserviceaccounttoken",
    "expirationseconds",
];

/// Exact names that hold a credential although no word above says so.
const CREDENTIAL_NAMES: &[&str] = &[
    "aws_secret_access_key",
    "oci_cli_key_content",
    "mysql_pwd",
    "auth",
    "authorization",
    "client_key_data",
    "htpasswd",
    "erlang_cookie",
    "rabbitmq_erlang_cookie",
    "x_api_key",
    "api_key",
];

/// Words that anywhere in a name make it about a credential rather than one: a checksum of a
/// Secret (`checksum/secret`), where one comes from (`inject-ca-from-secret`).
const REFERRING_WORDS: &[&str] = &[
    "checksum",
    "hash",
    "digest",
    "fingerprint",
    "sha",
    "sha256",
    "md5",
    "from",
    "ref",
    "refs",
    "reference",
    "name",
    "names",
];

/// The words of a name, lower-case: `dbPassword` and `DB-PASSWORD` give `db`, `password`.
pub fn words(name: &str) -> Vec<String> {
    let mut words = Vec::new();
    let mut current = String::new();
    let mut previous_lower = false;
    for c in name.chars() {
        if !c.is_ascii_alphanumeric() {
            if !current.is_empty() {
                words.push(std::mem::take(&mut current));
            }
            previous_lower = false;
            continue;
        }
        if c.is_ascii_uppercase() && previous_lower && !current.is_empty() {
            words.push(std::mem::take(&mut current));
        }
        previous_lower = c.is_ascii_lowercase() || c.is_ascii_digit();
        current.push(c.to_ascii_lowercase());
    }
    if !current.is_empty() {
        words.push(current);
    }
    words
}

/// Fragments one of which every credential name above contains (case aside): a name without
/// any is judged without splitting it into words. Keep in step with the lists above: a name
/// that [`is_credential_name`] accepts contains one of these (a test checks every list entry).
const CREDENTIAL_MARKS: &[&[u8]] = &[
    b"pass", b"pwd", b"secret", b"token", b"key", b"cred", b"bearer", b"dsn", b"auth", b"cookie",
];

/// Whether `name` contains a fragment that a credential's name needs (a cheap test that
/// clears most names, such as `replicas` or `LOG_LEVEL`, without allocating).
pub(crate) fn mentions_credential(name: &str) -> bool {
    let name = name.as_bytes();
    (0..name.len()).any(|at| {
        // `| 0x20` lower-cases a letter and turns no other byte into one.
        let first = name[at] | 0x20;
        MARK_STARTS[usize::from(first)]
            && CREDENTIAL_MARKS.iter().any(|mark| {
                mark[0] == first
                    && name.len() - at >= mark.len()
                    && name[at..at + mark.len()].eq_ignore_ascii_case(mark)
            })
    })
}

/// The bytes a mark starts with.
const MARK_STARTS: [bool; 256] = {
    let mut starts = [false; 256];
    let mut i = 0;
    while i < CREDENTIAL_MARKS.len() {
        starts[CREDENTIAL_MARKS[i][0] as usize] = true;
        i += 1;
    }
    starts
};

/// Whether a value under `name` is meant to be a credential.
pub fn is_credential_name(name: &str) -> bool {
    mentions_credential(name) && judged_by_words(name)
}

/// [`is_credential_name`] without the cheap test in front.
fn judged_by_words(name: &str) -> bool {
    let words = words(name);
    let Some(last) = words.last() else {
        return false;
    };
    let joined = words.join("_");
    if NOT_CREDENTIAL.contains(&joined.as_str())
        || NOT_CREDENTIAL.contains(&words.concat().as_str())
    {
        return false;
    }
    if CREDENTIAL_NAMES.contains(&joined.as_str()) {
        return true;
    }
    if words.iter().any(|w| REFERRING_WORDS.contains(&w.as_str())) {
        return false;
    }
    if words.len() > 1 && DESCRIBING_WORDS.contains(&last.as_str()) {
        // `*_KEY_ID`, `TOKEN_TTL`, `SECRET_NAME`: about a credential, not one. Except when the
        // describing word is itself preceded by "password" only to name a user's password
        // (`USER_PASSWORD` ends in `password`, so it never reaches here).
        return false;
    }
    if joined.ends_with("key_id") || joined.ends_with("keyid") {
        return false;
    }
    let credential_word = words.iter().any(|w| CREDENTIAL_WORDS.contains(&w.as_str()))
        || words
            .iter()
            .any(|w| w.len() > 6 && CREDENTIAL_FRAGMENTS.iter().any(|f| w.ends_with(f)));
    // `REDIS_AUTH`, `PROXY_AUTH`: a password under the service's name (`AUTH_MODE` ends in a
    // describing word and never gets here).
    if credential_word || (words.len() > 1 && last == "auth") {
        return true;
    }
    // `ENCRYPTION_KEY`, `SSH_KEY`, `accessKey`, `SECRET_ACCESS_KEY`; `azure*key`.
    let qualified_key = words.windows(2).any(|pair| {
        matches!(pair[1].as_str(), "key" | "keys") && KEY_QUALIFIERS.contains(&pair[0].as_str())
    }) && matches!(last.as_str(), "key" | "keys");
    let glued_key = words.len() == 1
        && KEY_QUALIFIERS
            .iter()
            .any(|q| last.len() > q.len() && last.starts_with(q) && last.ends_with("key"));
    qualified_key || glued_key || (words[0] == "azure" && last.ends_with("key"))
}

/// Whether the name is about a password (or passphrase) rather than a key or token: for
/// these, a phrase of lower-case words is a plausible value; for a "secret" or "token" it is
/// more often the name of a Secret.
pub fn is_password_name(name: &str) -> bool {
    words(name).iter().any(|w| {
        matches!(
            w.as_str(),
            "password"
                | "passwd"
                | "pass"
                | "pwd"
                | "passphrase"
                | "pgpass"
                | "requirepass"
                | "masterauth"
        ) || (w.len() > 8 && w.ends_with("password"))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The cheap test in front of [`is_credential_name`] never clears a credential's name.
    #[test]
    fn every_credential_name_carries_a_mark() {
        let lists = [CREDENTIAL_WORDS, CREDENTIAL_FRAGMENTS, CREDENTIAL_NAMES];
        for name in lists.into_iter().flatten() {
            assert!(mentions_credential(name), "{name}");
            assert!(mentions_credential(&name.to_ascii_uppercase()), "{name}");
        }
        for qualifier in KEY_QUALIFIERS {
            let name = format!("{qualifier}_KEY");
            assert_eq!(
                is_credential_name(&name),
                mentions_credential(&name),
                "{name}"
            );
        }
        assert!(!mentions_credential("replicas"));
        assert!(!mentions_credential("LOG_LEVEL"));
    }

    proptest::proptest! {
        /// Names glued from words of every list, in every spelling, get the same answer
        /// with the cheap test as without it.
        #[test]
        fn the_cheap_test_changes_no_answer(
            parts in proptest::collection::vec(
                proptest::sample::select(
                    [CREDENTIAL_WORDS, CREDENTIAL_FRAGMENTS, KEY_QUALIFIERS, DESCRIBING_WORDS,
                     NOT_CREDENTIAL, CREDENTIAL_NAMES, REFERRING_WORDS, &["db", "x", "azure", "key", "keys", "auth", "app"]]
                        .concat(),
                ),
                1..4,
            ),
            separator in proptest::sample::select(vec!["_", "-", ".", "", "/"]),
            upper in proptest::bool::ANY,
        ) {
            let mut name = parts.join(separator);
            if upper {
                name = name.to_ascii_uppercase();
            }
            proptest::prop_assert_eq!(is_credential_name(&name), judged_by_words(&name), "{}", name);
        }
    }

    #[test]
    fn words_split_every_spelling_alike() {
        for name in [
            "dbPassword",
            "DB_PASSWORD",
            "db-password",
            "db.password",
            "DbPassword",
        ] {
            assert_eq!(words(name), ["db", "password"], "{name}");
        }
        assert_eq!(
            words("AWS_SECRET_ACCESS_KEY"),
            ["aws", "secret", "access", "key"]
        );
    }

    #[test]
    fn credential_names_are_recognised() {
        for name in [
            "DB_PASS",
            "PGPASS",
            "MYSQL_PWD",
            "DB_PWD",
            "ENCRYPTION_KEY",
            "JWT_SIGNING_KEY",
            "SESSION_KEY",
            "SSH_KEY",
            "PASSPHRASE",
            "ACCESS_KEY",
            "AUTH",
            "dbPassword",
            "client_secret",
            "GITHUB_TOKEN",
            "apiKey",
            "api-key",
            "requirepass",
            "masterauth",
            "AZURE_STORAGE_KEY",
            "accesskey",
            "secretKey",
            "AWS_SECRET_ACCESS_KEY",
            "authToken",
            "db.password",
            "clientSecret",
            "HF_TOKEN",
            "password",
        ] {
            assert!(is_credential_name(name), "{name}");
        }
    }

    #[test]
    fn names_that_describe_a_credential_are_not_credentials() {
        for name in [
            "PASSWORD_MIN_LENGTH",
            "TOKEN_TTL",
            "SECRET_NAME",
            "AUTH_MODE",
            "PASSWORD_FILE",
            "AWS_ACCESS_KEY_ID",
            "ETCD_INITIAL_CLUSTER_TOKEN",
            "CACHE_KEY",
            "PRIMARY_KEY",
            "SORT_KEY",
            "S3_KEY",
            "secretKeyRef",
            "TOKEN_URL",
            "greeting",
            "BYPASS",
            "SECRET_KEY_REF",
            "passwordPolicy",
            "keyboard",
            "tokenizer_path",
            "automountServiceAccountToken",
            "PASSWORD_USER",
            "key",
            "checksum/secret",
            "inject-ca-from-secret",
            "self.tokenizer",
        ] {
            assert!(!is_credential_name(name), "{name}");
        }
    }
}
