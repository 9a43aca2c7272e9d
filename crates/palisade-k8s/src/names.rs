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

/// The namespace key of objects written without a namespace in `scope` (a directory): such
/// objects land wherever they are applied, so they share a namespace only with objects of the
/// same scope. Never a valid namespace name, and shown as it is.
pub fn unset_namespace(scope: &str) -> String {
    if scope.is_empty() {
        String::new()
    } else {
        format!("(namespace not set, {scope})")
    }
}

/// Whether the control plane itself creates an object of this kind, namespace and name:
/// the `default` ServiceAccount and the `kube-root-ca.crt` ConfigMap of every namespace, and
/// the API server's own `kubernetes` Service, Endpoints and EndpointSlice in `default`.
/// Neither a user's mistake nor drift.
pub fn made_by_control_plane(kind: &str, namespace: Option<&str>, name: &str) -> bool {
    match kind {
        "ServiceAccount" => name == "default",
        "ConfigMap" => name == "kube-root-ca.crt",
        "Service" | "Endpoints" | "EndpointSlice" => {
            name == "kubernetes" && namespace == Some("default")
        }
        _ => false,
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
