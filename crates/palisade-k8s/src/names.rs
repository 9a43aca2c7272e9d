//! Names Kubernetes validates: label keys, DNS labels and subdomains.

/// Whether `name` is a DNS-1123 label: lower-case letters, digits and `-`, starting and ending
/// with a letter or digit, at most 63 characters (namespaces, Services).
pub fn is_dns_label(name: &str) -> bool {
    let bytes = name.as_bytes();
    !bytes.is_empty()
        && bytes.len() <= 63
        && bytes
            .iter()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || *b == b'-')
        && bytes[0] != b'-'
        && bytes[bytes.len() - 1] != b'-'
}

/// Whether `name` is a DNS-1123 subdomain: DNS labels joined by `.`, at most 253 characters
/// (the names of most kinds).
pub fn is_dns_subdomain(name: &str) -> bool {
    name.len() <= 253 && name.split('.').all(is_dns_label)
}

/// Whether `name` is the name part of a qualified name (a label key's, an audit annotation
/// key): at most 63 characters, alphanumerics, `-`, `_`, `.`, starting and ending
/// alphanumeric.
pub fn is_qualified_name_part(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 63
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
        && name.starts_with(|c: char| c.is_ascii_alphanumeric())
        && name.ends_with(|c: char| c.is_ascii_alphanumeric())
}

/// Whether `key` is a valid label key: an optional DNS-subdomain prefix and `/`, then a
/// qualified name part.
pub fn is_label_key(key: &str) -> bool {
    let (prefix, name) = match key.rsplit_once('/') {
        Some((p, n)) => (Some(p), n),
        None => (None, key),
    };
    let name_ok = is_qualified_name_part(name);
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

/// Name prefixes of the add-ons Kubernetes distributions and cloud providers install in
/// `kube-system`.
const ADDON_PREFIXES: &[&str] = &[
    "coredns",
    "kube-dns",
    "kube-proxy",
    "metrics-server",
    "calico",
    "cilium",
    "aws-node",
    "ebs-csi",
    "efs-csi",
    "fsx-csi",
    "s3-csi",
    "vpc-",
    "konnectivity",
    "cluster-autoscaler",
    "csi-",
    "gke-",
    "azure-",
    "cloud-controller-manager",
    "ip-masq-agent",
    "node-local-dns",
    "nodelocaldns",
    "nvidia-",
    "snapshot-controller",
    "kube-flannel",
    "flannel",
    "weave-net",
    "antrea",
    "canal",
    "kube-router",
    "event-exporter",
    "pdcsi",
    "l7-default-backend",
    "metadata-proxy",
    "kube-vip",
    "traefik",
    "local-path-provisioner",
    "svclb",
    "kube-apiserver",
    "kube-controller-manager",
    "kube-scheduler",
    "etcd",
    "fluentbit-gke",
    "gcp-",
    "anetd",
    "netd",
    "konnectivity-agent",
    "tigera",
    "eks-pod-identity",
    "aws-load-balancer",
    "ama-",
    "cloud-node-manager",
    "omsagent",
    "secrets-store-csi",
    "kube-state-metrics",
    "hubble",
    "nccl",
    "fluentd",
    "fluent-bit",
];

/// Labels by which a workload says it is a cluster add-on (the addon manager's, static
/// control-plane pods', the providers'). Not `k8s-app`: applications copied from add-on
/// examples carry it too.
const ADDON_LABELS: &[&str] = &[
    "kubernetes.io/cluster-service",
    "addonmanager.kubernetes.io/mode",
    "tier",
    "eks.amazonaws.com/component",
    "components.gke.io/component-name",
];

/// Whether a workload in `kube-system` is one of the cluster's own add-ons (by its name or its
/// labels, or its pod template's) rather than an application placed there.
pub fn is_cluster_addon(
    name: &str,
    labels: &[&serde_json::Map<String, serde_json::Value>],
) -> bool {
    let addon_name = |text: &str| ADDON_PREFIXES.iter().any(|p| text.starts_with(p));
    // The application a workload says it belongs to (`k8s-app: canal` on `configure-canal`).
    let app_labels = [
        "k8s-app",
        "app",
        "app.kubernetes.io/name",
        "app.kubernetes.io/part-of",
    ];
    addon_name(name)
        || labels.iter().any(|l| {
            ADDON_LABELS.iter().any(|key| l.contains_key(*key))
                || app_labels.iter().any(|key| {
                    l.get(*key)
                        .and_then(serde_json::Value::as_str)
                        .is_some_and(addon_name)
                })
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cluster_addons_are_known_by_name_or_labels() {
        let labels = |pairs: &[(&str, &str)]| -> serde_json::Map<String, serde_json::Value> {
            pairs
                .iter()
                .map(|(k, v)| (k.to_string(), serde_json::Value::from(*v)))
                .collect()
        };
        assert!(is_cluster_addon("coredns", &[]));
        assert!(is_cluster_addon(
            "configure-canal",
            &[&labels(&[("k8s-app", "canal")])]
        ));
        assert!(is_cluster_addon(
            "x",
            &[&labels(&[("addonmanager.kubernetes.io/mode", "Reconcile")])]
        ));
        assert!(!is_cluster_addon(
            "oauth2-proxy",
            &[&labels(&[("k8s-app", "oauth2-proxy")])]
        ));
        assert!(!is_cluster_addon("billing-api", &[]));
    }

    #[test]
    fn dns_names_follow_the_api_servers_rules() {
        assert!(is_dns_label("shop-1") && !is_dns_label("Shop") && !is_dns_label("-a"));
        assert!(!is_dns_label(&"a".repeat(64)));
        assert!(is_dns_subdomain("kube-root-ca.crt") && !is_dns_subdomain("a..b"));
        assert!(!is_dns_subdomain("${NAME}"));
    }

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
