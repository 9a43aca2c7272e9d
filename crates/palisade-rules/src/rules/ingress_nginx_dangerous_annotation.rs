use crate::context::Context;
use crate::rule::{Check, Target};

/// Snippet annotations: raw NGINX configuration injected by whoever writes the Ingress.
const SNIPPETS: &[&str] = &[
    "nginx.ingress.kubernetes.io/configuration-snippet",
    "nginx.ingress.kubernetes.io/server-snippet",
    "nginx.ingress.kubernetes.io/auth-snippet",
    "nginx.ingress.kubernetes.io/stream-snippet",
    "nginx.ingress.kubernetes.io/modsecurity-snippet",
];

/// Annotations copied into the NGINX configuration that were the injection points of the 2025
/// "IngressNightmare" advisories; their values must be plain data.
const INJECTABLE: &[(&str, &str)] = &[
    ("nginx.ingress.kubernetes.io/auth-url", "CVE-2025-24514"),
    (
        "nginx.ingress.kubernetes.io/auth-tls-match-cn",
        "CVE-2025-1097",
    ),
    ("nginx.ingress.kubernetes.io/mirror-target", "CVE-2025-1098"),
    ("nginx.ingress.kubernetes.io/mirror-host", "CVE-2025-1098"),
];

declare_rule! {
    /// ## What it checks
    /// Ingress annotations of ingress-nginx that inject configuration into the shared
    /// controller: the snippet annotations (`configuration-snippet`, `server-snippet`,
    /// `auth-snippet`, `stream-snippet`, `modsecurity-snippet`) in any use, and the
    /// `auth-url`, `auth-tls-match-cn`, `mirror-target` and `mirror-host` annotations when their
    /// value contains characters that break out of the NGINX directive (`;`, `{`, `}`, quotes,
    /// backslashes, new lines). NGINX variables such as `$host`, which the ingress-nginx
    /// documentation uses in `auth-url`, are accepted.
    ///
    /// ## Why it matters
    /// The controller runs one NGINX for every Ingress with a service account that can read
    /// every Secret in the cluster. A snippet can read the controller's files and token
    /// (CVE-2021-25742), and crafted values in the other annotations were turned into remote
    /// code execution in the controller (CVE-2025-1974 and its siblings, "IngressNightmare").
    /// Anyone who can create an Ingress then owns the cluster's Secrets (MITRE ATT&CK T1190,
    /// T1552.007).
    ///
    /// ## Severity
    /// High: a cluster-wide credential leak from a namespaced permission.
    ///
    /// ## Failing example
    /// ```yaml
    /// metadata:
    ///   annotations:
    ///     nginx.ingress.kubernetes.io/server-snippet: |
    ///       location /x { alias /var/run/secrets/; }
    /// ```
    ///
    /// ## Passing example
    /// ```yaml
    /// metadata:
    ///   annotations:
    ///     nginx.ingress.kubernetes.io/proxy-body-size: 8m
    /// ```
    ///
    /// ## Remediation
    /// Express the configuration with dedicated annotations or the controller's ConfigMap;
    /// keep `allow-snippet-annotations: "false"` (the default since controller 1.9) and
    /// upgrade the controller to 1.12.1 / 1.11.5 or later.
    ///
    /// ## References
    /// - CVE-2021-25742 (kubernetes/ingress-nginx#7837)
    /// - CVE-2025-1974, CVE-2025-24514, CVE-2025-1097, CVE-2025-1098 (kubernetes/kubernetes#131009)
    pub struct IngressNginxDangerousAnnotation {
        id: "NET005",
        slug: "ingress-nginx-config-injection",
        title: "Ingress injects configuration into ingress-nginx",
        severity: High,
        target: Target::Kinds(&[("networking.k8s.io", "Ingress"), ("extensions", "Ingress")]),
        controls: [
            NsaCisa12 "upgrading/application-security",
            MitreAttack "T1190",
            MitreAttack "T1552.007",
        ],
        remediation: "Remove snippet annotations and NGINX syntax from annotation values; upgrade ingress-nginx.",
    }
}

impl Check for IngressNginxDangerousAnnotation {
    fn check(&self, cx: &mut Context<'_>) {
        let annotations_path = palisade_core::JsonPointer::root()
            .join("metadata")
            .join("annotations");
        let Some(annotations) = cx.map_at(&annotations_path) else {
            return;
        };
        for (key, value) in annotations {
            let value = value.as_str().unwrap_or("");
            if SNIPPETS.contains(&key.as_str()) {
                cx.report(
                    annotations_path.join(key),
                    format!("{key} injects raw NGINX configuration into the shared controller"),
                );
            } else if let Some((_, cve)) = INJECTABLE.iter().find(|(k, _)| k == key)
                && value.contains([';', '{', '}', '"', '\'', '\n', '\r', '\\'])
            {
                cx.report(
                    annotations_path.join(key),
                    format!("{key} contains NGINX syntax, the injection pattern of {cve}"),
                );
            }
        }
    }
}
