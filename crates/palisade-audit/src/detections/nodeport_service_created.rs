use palisade_core::tree::Tree;

use crate::detection::{Cx, Hit, Level, Trigger};

crate::detection! {
    /// ## What it checks
    /// A Service of type `NodePort` created.
    ///
    /// ## Why it matters
    /// A NodePort opens the port on every node's address, outside ingress controllers,
    /// their TLS and their authentication; nodes often sit on networks broader than the
    /// application's clients. Attackers use it to expose a backdoor.
    ///
    /// ## Response
    /// Expose the application through an Ingress, a Gateway or a LoadBalancer with source
    /// ranges; forbid NodePort with an admission policy where it is not needed.
    ///
    /// ## Falco equivalent
    /// `Create NodePort Service`.
    pub static NODEPORT_SERVICE_CREATED {
        id: "AUD023",
        slug: "nodeport-service-created",
        title: "NodePort Service created",
        severity: Medium,
        mitre: ["T1133"],
        remediation: "Expose the application through an Ingress or a restricted LoadBalancer instead.",
        triggers: [Trigger::on(&["create"], "services").reading(Level::Request)],
        check: crate::detection::Check::Request(check),
    }
}

fn check(cx: &Cx) -> Vec<Hit> {
    let Some(service) = cx.request() else {
        return Vec::new();
    };
    if service.at("/spec/type").and_then(Tree::as_str) != Some("NodePort") {
        return Vec::new();
    }
    let ports: Vec<String> = service
        .at("/spec/ports")
        .and_then(Tree::items)
        .into_iter()
        .flatten()
        .map(|p| {
            let port = p.get("port").map(ToString::to_string).unwrap_or_default();
            match p.get("nodePort") {
                Some(node) => format!("{port}->{node}"),
                None => port,
            }
        })
        .collect();
    vec![
        Hit::new(format!(
            "{} created NodePort Service {}",
            cx.actor(),
            cx.target()
        ))
        .with("ports", ports.join(",")),
    ]
}
