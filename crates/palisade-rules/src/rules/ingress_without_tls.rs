use palisade_core::JsonPointer;
use palisade_k8s::ingress::{self, Controller, PlainHttp};
use serde_json::Value;

use crate::context::Context;
use crate::rule::{Check, Target};

declare_rule! {
    /// ## What it checks
    /// Ingresses that serve plain HTTP, as their controller reads them:
    /// - most controllers (ingress-nginx, Traefik, HAProxy, Contour...) serve the
    ///   certificates of `spec.tls`: an Ingress without it, or with rule hosts no entry covers
    ///   (a `*.example.com` entry covers one label, as in TLS certificates), is reported, and
    ///   so is ingress-nginx told not to redirect HTTP (`ssl-redirect: "false"`);
    /// - the cloud controllers read annotations instead. The AWS Load Balancer Controller
    ///   serves HTTPS only on an HTTPS `listen-ports` entry (or `certificate-arn`, or the
    ///   `certificateArn` of the IngressClassParams its class names, which make its default
    ///   listener HTTPS) and never serves `spec.tls` secrets; GKE serves
    ///   `spec.tls`, pre-shared and Google-managed certificates; Azure's Application Gateway
    ///   serves `spec.tls` or `appgw-ssl-certificate`. An Ingress they serve no HTTPS for is
    ///   reported, and so is one whose plain HTTP listener stays open beside HTTPS: on AWS
    ///   without `ssl-redirect` (or an IngressClassParams' `sslRedirectPort`, for it or for
    ///   another Ingress of its IngressGroup, as the redirect covers every HTTP listener of
    ///   the group's load balancer), on GKE without `kubernetes.io/ingress.allow-http: "false"` or
    ///   a FrontendConfig that redirects to HTTPS, on Azure without `ssl-redirect: "true"`.
    ///
    /// The controller is the one the class names (`ingressClassName`, the
    /// `kubernetes.io/ingress.class` annotation, or the IngressClass's `spec.controller`:
    /// `ingress.k8s.aws/alb`, `azure/application-gateway`), else the one whose annotations
    /// the Ingress carries.
    ///
    /// ## Why it matters
    /// Without TLS, credentials, session cookies and data cross the network in clear text and
    /// can be read or changed by anyone on the path (MITRE ATT&CK T1557). The NSA/CISA guide
    /// asks for TLS on all traffic entering the cluster.
    ///
    /// ## Severity
    /// Medium: exposure depends on the network path, but the fix is routine.
    ///
    /// ## Failing example
    /// ```yaml
    /// spec:
    ///   rules:
    ///   - host: shop.example.com
    /// ```
    ///
    /// ## Passing example
    /// ```yaml
    /// spec:
    ///   tls:
    ///   - hosts: [shop.example.com]
    ///     secretName: shop-tls
    ///   rules:
    ///   - host: shop.example.com
    /// ```
    ///
    /// ## Remediation
    /// Add a `spec.tls` entry for every host, with a certificate Secret (cert-manager can issue
    /// and renew it). On the cloud controllers: an HTTPS `listen-ports` entry with
    /// `certificate-arn` and `ssl-redirect: "443"` (AWS); a ManagedCertificate with a
    /// FrontendConfig whose `redirectToHttps` is enabled, or `kubernetes.io/ingress.allow-http:
    /// "false"` (GKE); `appgw-ssl-certificate` or `spec.tls` with `ssl-redirect: "true"` (Azure).
    ///
    /// ## References
    /// - NSA/CISA Kubernetes Hardening Guide v1.2, "Encryption"
    /// - Kubernetes documentation, "Ingress", TLS
    pub struct IngressWithoutTls {
        id: "NET006",
        slug: "ingress-without-tls",
        title: "Ingress serves hosts without TLS",
        severity: Medium,
        target: Target::Kinds(&[("networking.k8s.io", "Ingress"), ("extensions", "Ingress")]),
        controls: [
            NsaCisa12 "network/encryption",
            MitreAttack "T1557",
        ],
        remediation: "Serve every host over HTTPS (`spec.tls` entries with a certificate Secret; on AWS an HTTPS `listen-ports` entry with `certificate-arn`; on GKE a managed or pre-shared certificate) and redirect or close plain HTTP.",
    }
}

/// Whether a TLS host entry covers `host` (exact, or a one-label wildcard).
fn covers(pattern: &str, host: &str) -> bool {
    match pattern.strip_prefix("*.") {
        Some(suffix) => host
            .split_once('.')
            .is_some_and(|(first, rest)| !first.is_empty() && rest.eq_ignore_ascii_case(suffix)),
        None => pattern.eq_ignore_ascii_case(host),
    }
}

impl Check for IngressWithoutTls {
    fn reads(&self) -> &'static [(&'static str, &'static str)] {
        &[
            ("networking.k8s.io", "IngressClass"),
            ("elbv2.k8s.aws", "IngressClassParams"),
            ("eks.amazonaws.com", "IngressClassParams"),
            ("networking.gke.io", "FrontendConfig"),
        ]
    }

    fn check(&self, cx: &mut Context<'_>) {
        // Read once, through the context, which reports a `tls` that is not a list whichever
        // controller reads it.
        let tls = cx.array_at(&JsonPointer::root().join("spec").join("tls"));
        let ingress = &cx.object.value;
        let controller = crate::ingress::controller(cx);
        let frontend_config = crate::ingress::frontend_config(cx);
        let groups = cx.derived(palisade_net::exposure::AlbGroups::build);
        let group = groups.of(cx.inventory, cx.object);
        let class_params = palisade_net::exposure::alb_class_params(cx.inventory, ingress)
            .map(|p| (p.id.display_name(), &p.value));
        match ingress::listeners(ingress, controller, frontend_config, class_params, &group) {
            Some(listeners) => check_listeners(cx, controller, listeners, tls),
            None => check_spec_tls(cx, tls),
        }
    }
}

/// Judges a cloud controller's listeners: no HTTPS at all, or plain HTTP answered beside it.
fn check_listeners(
    cx: &mut Context<'_>,
    controller: Controller,
    listeners: ingress::Listeners,
    tls: &[Value],
) {
    let annotations = JsonPointer::root().join("metadata").join("annotations");
    let Some(https) = listeners.https else {
        let message = match controller {
            Controller::AwsAlb => {
                "the AWS load balancer has no HTTPS listener (no HTTPS in alb.ingress.kubernetes.io/listen-ports, no certificate-arn; it never serves spec.tls secrets): every host is served over plain HTTP"
            }
            _ => {
                "the Ingress has no tls section and names no certificate: every host is served over plain HTTP"
            }
        };
        cx.report(JsonPointer::root().join("spec"), message.to_string());
        return;
    };
    if https == "spec.tls" {
        check_hosts_covered(cx, tls);
    }
    match listeners.plain_http {
        PlainHttp::Closed(_) => {}
        PlainHttp::Open(how) => cx.report(
            annotations,
            format!("HTTPS is served ({https}), but plain HTTP is answered too: {how}"),
        ),
        PlainHttp::Unknown(_) if cx.absence_unknown("the FrontendConfig it names") => {}
        PlainHttp::Unknown(what) => cx.report(
            annotations,
            format!("HTTPS is served ({https}), but plain HTTP may be answered too: {what}"),
        ),
    }
}

/// Judges an Ingress whose controller serves `spec.tls` (`tls`): every host covered, and HTTP
/// redirected.
fn check_spec_tls(cx: &mut Context<'_>, tls: &[Value]) {
    if tls.is_empty() {
        cx.report(
            JsonPointer::root().join("spec"),
            "the Ingress has no tls section: every host is served over plain HTTP".to_string(),
        );
        return;
    }
    check_hosts_covered(cx, tls);
    if let Some(annotation) = ingress::nginx_plain_http(&cx.object.value) {
        cx.report(
            JsonPointer::root().join("metadata").join("annotations"),
            format!("the hosts with TLS are answered over plain HTTP too: {annotation} turns off the redirect to HTTPS"),
        );
    }
}

/// Reports each rule host no `spec.tls` entry (`tls`) covers (an entry without hosts serves
/// the controller's default certificate for all of them).
fn check_hosts_covered(cx: &mut Context<'_>, tls: &[Value]) {
    let tls_hosts: Vec<&str> = tls
        .iter()
        .filter_map(|t| t.get("hosts").and_then(Value::as_array))
        .flatten()
        .filter_map(Value::as_str)
        .collect();
    if tls.iter().any(|t| {
        t.get("hosts")
            .and_then(Value::as_array)
            .is_none_or(|h| h.is_empty())
    }) {
        return;
    }
    let rules = JsonPointer::root().join("spec").join("rules");
    for (i, rule) in cx.array_at(&rules).iter().enumerate() {
        let Some(host) = rule.get("host").and_then(Value::as_str) else {
            continue;
        };
        if !tls_hosts.iter().any(|p| covers(p, host)) {
            cx.report(
                rules.join(i).join("host"),
                format!("host {host} has no tls entry and is served over plain HTTP"),
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::covers;

    #[test]
    fn wildcards_cover_one_label() {
        assert!(covers("*.example.com", "shop.example.com"));
        assert!(!covers("*.example.com", "a.b.example.com"));
        assert!(!covers("*.example.com", "example.com"));
        assert!(covers("Shop.Example.com", "shop.example.com"));
    }
}
