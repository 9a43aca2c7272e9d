use palisade_core::tree::Tree as _;
use palisade_k8s::ingress::Controller;
use serde_json::Value;

use crate::context::Context;
use crate::rule::{Check, Target};

declare_rule! {
    /// ## What it checks
    /// Internet-facing Ingresses with no web application firewall in front, as their
    /// annotations show it: ingress-nginx with ModSecurity and the OWASP Core Rule Set
    /// (`nginx.ingress.kubernetes.io/enable-modsecurity: "true"` with
    /// `enable-owasp-core-rules: "true"` or a `modsecurity-snippet`), AWS Load Balancer
    /// Controller (`alb.ingress.kubernetes.io/wafv2-acl-arn` or `waf-acl-id`, on the Ingress
    /// or on another Ingress of its IngressGroup, which shares the load balancer), Azure
    /// Application Gateway (`appgw.ingress.kubernetes.io/waf-policy-for-path`). On GKE, Cloud
    /// Armor is set per backend: each Service the Ingress names must name (annotation
    /// `cloud.google.com/backend-config`, for the port used or by default) a BackendConfig
    /// whose `spec.securityPolicy.name` is set; the backends without one are named. A
    /// Service or BackendConfig the input does not hold counts as no policy.
    /// Ingresses marked internal (`alb.ingress.kubernetes.io/scheme: internal`, on the Ingress
    /// or on another Ingress of its IngressGroup when none asks for another scheme, or the
    /// `scheme: internal` of the IngressClassParams their class names, GKE's
    /// `gce-internal` class, `appgw.ingress.kubernetes.io/use-private-ip: "true"`, an ingress
    /// class whose name says `internal`) are left out. ModSecurity switched on without rules
    /// is reported: the engine then inspects nothing.
    ///
    /// ## Why it matters
    /// The ingress is where internet traffic meets application code. A WAF blocks the common
    /// exploit payloads (injection, deserialisation, path traversal, Log4Shell-style lookups)
    /// before they reach a vulnerable handler, and buys time between a disclosure and a patch
    /// (MITRE ATT&CK T1190). The seed asks for "ingress controllers with WAF capabilities".
    ///
    /// ## Severity
    /// Low: a missing layer of defence; a WAF set cluster-wide in the controller's
    /// configuration is not visible here (suppress the rule then, with the reason).
    ///
    /// ## Failing example
    /// ```yaml
    /// kind: Ingress
    /// metadata: {name: shop}
    /// spec:
    ///   rules: [{host: shop.example.com}]
    /// ```
    ///
    /// ## Passing example
    /// ```yaml
    /// kind: Ingress
    /// metadata:
    ///   name: shop
    ///   annotations:
    ///     nginx.ingress.kubernetes.io/enable-modsecurity: "true"
    ///     nginx.ingress.kubernetes.io/enable-owasp-core-rules: "true"
    /// ```
    ///
    /// ## Remediation
    /// Turn on the controller's WAF for the Ingress (annotations above) or put the Ingress
    /// behind a cloud WAF.
    ///
    /// ## References
    /// - OWASP ModSecurity Core Rule Set
    /// - ingress-nginx documentation, "ModSecurity Web Application Firewall"
    /// - MITRE ATT&CK T1190, Exploit Public-Facing Application
    pub struct IngressWithoutWaf {
        id: "NET014",
        slug: "ingress-without-waf",
        title: "Internet-facing Ingress has no web application firewall",
        severity: Low,
        target: Target::Kinds(&[("networking.k8s.io", "Ingress"), ("extensions", "Ingress")]),
        controls: [
            NsaCisa12 "network/network-policies",
            MitreAttack "T1190",
        ],
        remediation: "Enable the ingress controller's WAF (ModSecurity with the OWASP CRS, AWS WAF, Cloud Armor) for this Ingress.",
    }
}

const NGINX: &str = "nginx.ingress.kubernetes.io/";

impl Check for IngressWithoutWaf {
    fn reads(&self) -> &'static [(&'static str, &'static str)] {
        &[
            ("networking.k8s.io", "IngressClass"),
            ("elbv2.k8s.aws", "IngressClassParams"),
            ("eks.amazonaws.com", "IngressClassParams"),
            ("", "Service"),
            ("cloud.google.com", "BackendConfig"),
        ]
    }

    fn check(&self, cx: &mut Context<'_>) {
        let annotations = cx.object.annotations();
        let get = |key: &str| annotations.and_then(|a| a.get(key)).and_then(Value::as_str);
        let class = palisade_k8s::ingress::class(&cx.object.value).unwrap_or("");
        let groups = cx.derived(palisade_net::exposure::AlbGroups::build);
        if palisade_net::exposure::ingress_internal_reason(cx.inventory, cx.object, &groups)
            .is_some()
            || class.to_ascii_lowercase().contains("internal")
        {
            return;
        }
        let truthy = |key: &str| get(key).is_some_and(|v| v.eq_ignore_ascii_case("true"));
        let modsecurity = truthy(&format!("{NGINX}enable-modsecurity"));
        let rules = truthy(&format!("{NGINX}enable-owasp-core-rules"))
            || get(&format!("{NGINX}modsecurity-snippet")).is_some();
        if crate::ingress::controller(cx) == Controller::Gke {
            return check_cloud_armor(cx);
        }
        use palisade_k8s::ingress::ALB_WAF;
        let cloud_waf = ALB_WAF
            .iter()
            .chain(&["appgw.ingress.kubernetes.io/waf-policy-for-path"])
            .any(|k| get(k).is_some_and(|v| !v.is_empty()));
        // An AWS load balancer's web ACL is set on any one Ingress of its IngressGroup.
        let group = groups.of(cx.inventory, cx.object);
        let cloud_waf = cloud_waf || ALB_WAF.iter().any(|k| group.setting(None, k).is_some());
        if cloud_waf || (modsecurity && rules) {
            return;
        }
        let message = if modsecurity {
            "ModSecurity is on but loads no rules (no enable-owasp-core-rules, no modsecurity-snippet): it inspects nothing"
        } else {
            "no web application firewall is configured for this internet-facing Ingress"
        };
        cx.report(
            palisade_core::JsonPointer::root()
                .join("metadata")
                .join("annotations"),
            message.to_string(),
        );
    }
}

/// GKE: reports the Ingress when some Service it names has no Cloud Armor security policy in
/// the BackendConfig that configures its backend, naming each such backend and why.
fn check_cloud_armor(cx: &mut Context<'_>) {
    let mut unarmored = Vec::new();
    for backend in palisade_k8s::ingress::backends(&cx.object.value) {
        let why = match crate::ingress::gke_backend_config(cx, &backend) {
            Ok((name, config)) => {
                let policy = config
                    .at("/spec/securityPolicy/name")
                    .and_then(Value::as_str)
                    .filter(|p| !p.trim().is_empty());
                if policy.is_some() {
                    continue;
                }
                format!("BackendConfig {name} sets no securityPolicy")
            }
            Err(why) => why,
        };
        if !unarmored.contains(&why) {
            unarmored.push(why);
        }
    }
    if unarmored.is_empty() || cx.absence_unknown("the Services and BackendConfigs it names") {
        return;
    }
    cx.report(
        palisade_core::JsonPointer::root().join("spec"),
        format!(
            "no Cloud Armor security policy covers every backend of this internet-facing Ingress: {}",
            unarmored.join("; ")
        ),
    );
}
