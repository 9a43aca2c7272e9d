//! Names Kubernetes validates: label keys.

/// Whether `key` is a valid label key: an optional DNS-subdomain prefix and `/`, then a name of
/// at most 63 characters (alphanumerics, `-`, `_`, `.`, starting and ending alphanumeric).
pub fn is_label_key(key: &str) -> bool {
    let (prefix, name) = match key.rsplit_once('/') {
        Some((p, n)) => (Some(p), n),
        None => (None, key),
    };
    let name_ok = !name.is_empty()
        && name.len() <= 63
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
        && name.starts_with(|c: char| c.is_ascii_alphanumeric())
        && name.ends_with(|c: char| c.is_ascii_alphanumeric());
    let prefix_ok = prefix.is_none_or(|p| {
        !p.is_empty()
            && p.len() <= 253
            && p.chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, '-' | '.'))
    });
    name_ok && prefix_ok
}

/// A namespace for people to read: the empty namespace (an object whose manifest names none)
/// is shown as `(namespace not set)`.
pub fn display_ns(ns: &str) -> &str {
    if ns.is_empty() {
        "(namespace not set)"
    } else {
        ns
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn label_keys_follow_the_api_servers_rules() {
        assert!(is_label_key("app.kubernetes.io/name"));
        assert!(is_label_key("owner"));
        assert!(!is_label_key("Bad Key"));
        assert!(!is_label_key("UPPER.example.com/x"));
        assert!(!is_label_key("x/"));
        assert!(!is_label_key(&"a".repeat(64)));
    }
}
