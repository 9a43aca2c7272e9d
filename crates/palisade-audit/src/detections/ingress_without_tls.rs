use crate::detection::{Cx, Hit, Level, Trigger};
use palisade_core::tree::Tree;

crate::detection! {
    /// ## What it checks
    /// An Ingress created without a `tls` section.
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
    if has_tls {
        return Vec::new();
    }
    vec![Hit::new(format!(
        "{} created Ingress {} without TLS",
        cx.actor(),
        cx.target()
    ))]
}
