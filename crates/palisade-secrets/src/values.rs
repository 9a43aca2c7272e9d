//! What a value is when it is not a credential: a placeholder, a reference, a setting, a
//! documented example; and how random a string looks.

use palisade_k8s::names::{is_dns_label, is_dns_subdomain};

/// Values in documentation that stand for a credential (AWS's own examples, the RFC 7519 JWT,
/// the Stripe test keys' prefix): never a leak.
const DOCUMENTED_EXAMPLES: &[&str] = &[
    "AKIAIOSFODNN7EXAMPLE",
    "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
    "je7MtGbClwBF/2Zp9Utk/h3yCo8nvbEXAMPLEKEY",
    "ASIAIOSFODNN7EXAMPLE",
    "AKIAI44QH8DHBEXAMPLE",
];

/// Whether `value` is one of the vendor-documented example credentials, or says it is one.
pub fn is_documented_example(value: &str) -> bool {
    DOCUMENTED_EXAMPLES.iter().any(|e| value.contains(e)) || value.contains("EXAMPLE")
}

/// Whether `value` refers to a credential kept elsewhere, or is a template to be filled:
/// `$(VAR)`, `${VAR}`, `{{ .Values.x }}`, `%(x)s`, `<password>`, a file path, a vault or
/// SOPS reference, an empty value.
pub fn is_reference(value: &str) -> bool {
    let v = value.trim();
    v.is_empty()
        || v.contains("$(")
        || v.contains("${")
        || v.contains('`')
        || is_object_reference(v)
        || is_code(v)
        || (v.len() > 4 && v.starts_with("__") && v.ends_with("__"))
        || v.starts_with("$(")
        || v.starts_with("${")
        || (v.starts_with('$')
            && v[1..]
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'_'))
        || v.contains("{{")
        || v.contains("%(")
        || v.starts_with('/')
        || v.starts_with("./")
        || v.starts_with("file:")
        || v.starts_with("vault:")
        || v.starts_with("ref+")
        || v.starts_with("secretref")
        || v.starts_with("ENC[")
        || v.starts_with("arn:")
        || v.starts_with("projects/")
        || v.starts_with("gcpsm:")
        || v.starts_with("awssm:")
        || v.starts_with("azkv:")
        || v.starts_with("op://")
        || v.starts_with("env:")
        || v.starts_with("@Microsoft.KeyVault")
}

/// An expression that reads the value at run time (`os.environ["TOKEN"]`, `getenv("PW")`,
/// `process.env.TOKEN`, `AutoTokenizer.from_pretrained(x)`), not a literal.
fn is_code(v: &str) -> bool {
    (v.contains('(') && v.contains(')'))
        || v.contains("[\"")
        || v.contains("['")
        || v.contains("process.env.")
        || v.contains("os.environ")
}

/// `namespace/name` of a Kubernetes object (a DNS label and a DNS subdomain, each with a
/// letter: `2024/05` is a date, not an object).
fn is_object_reference(v: &str) -> bool {
    let lettered = |s: &str| s.bytes().any(|b| b.is_ascii_lowercase());
    v.split_once('/').is_some_and(|(ns, name)| {
        is_dns_label(ns) && is_dns_subdomain(name) && lettered(ns) && lettered(name)
    })
}

/// Whether `value` is a name: lower-case words joined by hyphens (`db-creds`, `ca-secret`).
pub fn is_hyphenated_name(value: &str) -> bool {
    value.contains('-')
        && value
            .split('-')
            .all(|w| !w.is_empty() && w.bytes().all(|b| b.is_ascii_lowercase()))
}

/// Values that stand for a credential to be filled in rather than being one: the variable's
/// own name, `<your-token>`, `YOUR_API_KEY`, `INSERT_TOKEN_HERE`, `xxxx`, `***`, `...`.
/// Weak real defaults such as `changeme` are not placeholders: they work as credentials.
/// A PEM block is judged by its body: the words of its armour (`-----BEGIN RSA PRIVATE
/// KEY-----`) say what it holds, not that it stands in for something.
pub fn is_placeholder(name: &str, value: &str) -> bool {
    let value = value.trim();
    match pem_body(value) {
        Some(body) => {
            let body = body.trim();
            body.is_empty() || stands_in(name, body)
        }
        None => stands_in(name, value),
    }
}

/// [`is_placeholder`] of a trimmed value without PEM armour.
fn stands_in(name: &str, value: &str) -> bool {
    let lower = value.to_ascii_lowercase();
    value.eq_ignore_ascii_case(name)
        || (value.starts_with('<') && value.ends_with('>'))
        || (value.starts_with('[') && value.ends_with(']'))
        || value
            .chars()
            .all(|c| matches!(c, 'x' | 'X' | '*' | '.' | '-' | '#' | '?' | '0'))
        || (value
            .chars()
            .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_')
            && value.chars().filter(char::is_ascii_uppercase).count() >= 3
            && value.contains('_'))
        || [
            "your",
            "insert",
            "replace",
            "placeholder",
            "todo",
            "fill-in",
            "fill_in",
            "fillme",
            "redacted",
            "dummy",
            "fake",
            "sample",
            "masked",
            "xxxx",
            "setme",
            "set-me",
            "set_me",
            "put-",
            "put_",
            "enter-",
            "enter_",
            "<",
            "example",
            "sample-",
            "not-a-real",
        ]
        .iter()
        .any(|p| lower.starts_with(p))
        || ["here", "_here", "-here", "redacted"]
            .iter()
            .any(|p| lower.ends_with(p))
        || capital_placeholder_word(value)
        || lower.contains("not-a-real")
        || lower.contains("not_a_real")
}

/// `value` without its PEM armour (`-----BEGIN ...-----`, `-----END ...-----`), when it has
/// any.
fn pem_body(value: &str) -> Option<String> {
    if !value.contains("-----BEGIN ") {
        return None;
    }
    let mut removed = false;
    let mut body = String::with_capacity(value.len());
    let mut rest = value;
    while let Some(open) = rest.find("-----") {
        let after = &rest[open + 5..];
        let armour = if after.starts_with("BEGIN ") || after.starts_with("END ") {
            after.find("-----")
        } else {
            None
        };
        match armour {
            Some(close) => {
                body.push_str(&rest[..open]);
                body.push('\n');
                rest = &after[close + 5..];
                removed = true;
            }
            None => {
                body.push_str(&rest[..open + 5]);
                rest = after;
            }
        }
    }
    body.push_str(rest);
    removed.then_some(body)
}

/// An upper-case word that names what belongs there: `nvapi-NVKEY`, `sk-YOURTOKEN`.
fn capital_placeholder_word(value: &str) -> bool {
    value
        .split(|c: char| !c.is_ascii_alphabetic())
        .filter(|w| w.len() >= 3 && w.bytes().all(|b| b.is_ascii_uppercase()))
        .any(|w| {
            ["KEY", "TOKEN", "SECRET", "PASSWORD", "PASS", "PWD"]
                .iter()
                .any(|s| w.ends_with(s))
        })
}

/// Words that, as a whole value under a credential-looking name, are a setting or a mode,
/// not a credential (`AUTH=oidc`, `TOKEN=none`, `PASSWORD=disabled`).
const SETTING_WORDS: &[&str] = &[
    "true",
    "false",
    "yes",
    "no",
    "on",
    "off",
    "none",
    "null",
    "nil",
    "disabled",
    "enabled",
    "disable",
    "enable",
    "required",
    "optional",
    "oidc",
    "ldap",
    "basic",
    "bearer",
    "jwt",
    "oauth",
    "oauth2",
    "kerberos",
    "file",
    "env",
    "vault",
    "kubernetes",
    "k8s",
    "internal",
    "external",
    "auto",
    "sha256",
    "sha512",
    "bcrypt",
    "argon2",
    "md5",
    "plain",
    "plaintext",
    "scram-sha-256",
    "scram-sha-512",
    "md5",
    "trust",
    "reject",
    "peer",
    "ident",
    "strict",
    "lax",
    "always",
    "never",
    "random",
    "generate",
    "generated",
    "unset",
    "empty",
    "secret",
    "token",
    "password",
    "hidden",
    "prompt",
];

/// Whether `value` is a switch, a number, a duration, a mode word or a host reference.
pub fn is_setting(value: &str) -> bool {
    let v = value.trim();
    let lower = v.to_ascii_lowercase();
    v.parse::<f64>().is_ok()
        || SETTING_WORDS.contains(&lower.as_str())
        || is_duration(&lower)
        || (v.contains("://") && !v.contains('@'))
        || lower.ends_with(".svc")
        || lower.ends_with(".svc.cluster.local")
        || lower.starts_with("http") && !v.contains('@') && !v.contains('?')
}

fn is_duration(lower: &str) -> bool {
    let digits = lower.trim_end_matches(|c: char| c.is_ascii_alphabetic());
    !digits.is_empty()
        && digits.len() < lower.len()
        && digits.bytes().all(|b| b.is_ascii_digit() || b == b'.')
        && matches!(
            &lower[digits.len()..],
            "s" | "m" | "h" | "d" | "ms" | "w" | "y" | "mi" | "gi" | "ki"
        )
}

/// Shannon entropy of `text` in bits per character.
pub fn entropy(text: &str) -> f64 {
    let bytes = text.as_bytes();
    if bytes.is_empty() {
        return 0.0;
    }
    let mut counts = [0u32; 256];
    for &b in bytes {
        counts[usize::from(b)] += 1;
    }
    let len = bytes.len() as f64;
    counts
        .iter()
        .filter(|&&c| c > 0)
        .map(|&c| {
            let p = f64::from(c) / len;
            -p * p.log2()
        })
        .sum()
}

/// How many of lower-case, upper-case, digit and symbol characters `text` mixes.
pub fn character_classes(text: &str) -> usize {
    let has = |f: fn(&u8) -> bool| usize::from(text.as_bytes().iter().any(f));
    has(u8::is_ascii_lowercase)
        + has(u8::is_ascii_uppercase)
        + has(u8::is_ascii_digit)
        + has(|b| b.is_ascii_punctuation())
}

/// Whether `value`, under a credential name, looks like a chosen or generated secret rather
/// than a word: long enough and random enough, or mixing character classes.
pub fn looks_secret(value: &str) -> bool {
    let v = value.trim();
    if v.len() < 6 || v.len() > 4096 || v.contains(char::is_whitespace) && v.len() < 40 {
        return false;
    }
    let classes = character_classes(v);
    let e = entropy(v);
    (v.len() >= 8 && e >= 2.5)
        || (classes >= 2 && e >= 2.2 && v.bytes().any(|b| b.is_ascii_digit()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn references_and_placeholders_are_not_credentials() {
        for v in [
            "$(DB_PASSWORD)",
            "${DB_PASSWORD}",
            "{{ .Values.pw }}",
            "/run/secrets/pw",
            "ENC[AES256_GCM,data:x]",
            "",
        ] {
            assert!(is_reference(v), "{v}");
        }
        for v in [
            "<password>",
            "YOUR_API_KEY",
            "xxxx",
            "***",
            "changeme-here",
            "INSERT_TOKEN_HERE",
        ] {
            assert!(is_placeholder("DB_PASSWORD", v), "{v}");
        }
        assert!(is_placeholder("HF_TOKEN", "HF_TOKEN"));
        for v in [
            "-----BEGIN PRIVATE KEY-----\n-----END PRIVATE KEY-----",
            "-----BEGIN RSA PRIVATE KEY-----\nYOUR_KEY_HERE\n-----END RSA PRIVATE KEY-----\n",
            "-----BEGIN PRIVATE KEY-----\n...\n-----END PRIVATE KEY-----",
        ] {
            assert!(is_placeholder("tls.key", v), "{v}");
        }
        // An armour that never closes is judged as it is written.
        assert!(is_placeholder("tls.key", "-----BEGIN YOUR KEY"));
        assert!(!is_placeholder("tls.key", "-----BEGIN s3cr3t-h4rd"));
        assert!(!is_placeholder("DB_PASSWORD", "hunter2"));
        assert!(!is_placeholder("DB_PASSWORD", "changeme"));
    }

    /// The armour's words (`KEY`) once made every PEM private key a placeholder, so a TLS
    /// Secret's key in a manifest went unreported.
    #[test]
    fn key_blocks_with_a_body_are_never_placeholders() {
        const BASE64: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
        let mut state = 0x9e37_79b9_7f4a_7c15_u64;
        for label in [
            "RSA PRIVATE KEY",
            "PRIVATE KEY",
            "EC PRIVATE KEY",
            "OPENSSH PRIVATE KEY",
        ] {
            for _ in 0..500 {
                let body: String = (0..1600)
                    .map(|i| {
                        state ^= state << 13;
                        state ^= state >> 7;
                        state ^= state << 17;
                        if i % 65 == 64 {
                            '\n'
                        } else {
                            BASE64[(state % 64) as usize] as char
                        }
                    })
                    .collect();
                let key = format!("-----BEGIN {label}-----\n{body}\n-----END {label}-----\n");
                assert!(!is_placeholder("tls.key", &key), "{key}");
            }
        }
    }

    #[test]
    fn settings_are_not_credentials() {
        for v in [
            "true",
            "3600",
            "30s",
            "oidc",
            "none",
            "http://auth.svc:8080",
            "disabled",
        ] {
            assert!(is_setting(v), "{v}");
        }
        assert!(!is_setting("hunter22"));
    }

    #[test]
    fn randomness_separates_secrets_from_words() {
        assert!(looks_secret("hunter2"));
        assert!(looks_secret("s3cr3t-in-git"));
        assert!(looks_secret("Zk8vQ2hYbWx1Tm9wUXJz"));
        assert!(!looks_secret("abc"));
        assert!(!looks_secret("aaaaaaaa"));
        assert!(entropy("ab") > 0.99 && entropy("ab") < 1.01);
    }
}
