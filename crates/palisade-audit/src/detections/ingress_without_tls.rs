use crate::detection::{Cx, Hit, Level, Trigger};
use palisade_core::tree::Tree;

crate::detection! {
    /// ## What it checks
    /// An Ingress created that its controller serves no HTTPS for: without a `tls` section
    /// for most controllers; for the cloud controllers, as they read their annotations
    /// (the AWS Load Balancer Controller needs an HTTPS listener or `certificate-arn` and
    /// never serves `tls` secrets; GKE also serves managed and pre-shared certificates;
    /// Azure's Application Gateway a certificate installed on it). The same reading as the
    /// scan's NET006 (`palisade_k8s::ingress`), without the IngressClass objects an event
    /// does not carry.
    ///
    /// ## Why it matters
    /// Without TLS the application's traffic, cookies and credentials cross the network in
    /// the clear from the ingress controller outward.
    ///
    /// ## Response
    /// Add a `tls` section with a certificate (cert-manager issues them).
    ///
    /// ## Falco equivalent
    /// `Ingress Object without TLS Certificate Created`.
    pub static INGRESS_WITHOUT_TLS {
        id: "AUD033",
        slug: "ingress-without-tls",
        title: "Ingress created without TLS",
        severity: Low,
        mitre: ["T1557"],
        remediation: "Add a tls section with a certificate to the Ingress.",
        triggers: [Trigger::on(&["create"], "ingresses").reading(Level::Request)],
        check: crate::detection::Check::Request(check),
    }
}

fn check(cx: &Cx) -> Vec<Hit> {
    if !cx.event.succeeded() {
        return Vec::new();
    }
    let Some(ingress) = cx.request() else {
        return Vec::new();
    };
    let has_tls = ingress
        .at("/spec/tls")
        .and_then(Tree::items)
        .is_some_and(|t| !t.is_empty());
    if serves_https(ingress, has_tls) {
        return Vec::new();
    }
    vec![Hit::new(format!(
        "{} created Ingress {} without TLS",
        cx.actor(),
        cx.target()
    ))]
}

/// Whether the controller of `ingress` (as the request names it: class or annotations)
/// serves it HTTPS; `has_tls`, whether it has a `tls` entry, decides for any other controller.
fn serves_https(ingress: &crate::body::Body<'_>, has_tls: bool) -> bool {
    use palisade_k8s::ingress;
    let value = ingress.to_value();
    let controller = ingress::controller(&value, None);
    match ingress::listeners(
        &value,
        controller,
        ingress::FrontendConfig::None,
        None,
        &ingress::AlbGroup::default(),
    ) {
        Some(listeners) => listeners.https.is_some(),
        None => has_tls,
    }
}
