use crate::detection::{Cx, Hit, Trigger};

/// Health endpoints that clusters serve to anonymous callers by design.
const HEALTH: &[&str] = &["/healthz", "/livez", "/readyz", "/version"];

crate::detection! {
    /// ## What it checks
    /// A request by `system:anonymous` that the authorizer allowed, other than the health
    /// and version endpoints. An event without the authorizer's decision annotation (some
    /// exporters drop annotations) counts as allowed when its response is below 400.
    ///
    /// ## Why it matters
    /// Anything anonymous callers may do, anyone who reaches the API server may do. Clusters
    /// exposed with anonymous access and a permissive binding (`system:anonymous` or
    /// `system:unauthenticated` bound to a role) are taken over within hours.
    ///
    /// ## Response
    /// Remove bindings to `system:anonymous` and `system:unauthenticated`; start the API
    /// server with `--anonymous-auth=false` or restrict it to the health endpoints.
    ///
    /// ## Falco equivalent
    /// `Anonymous Request Allowed`.
    pub static ANONYMOUS_REQUEST_ALLOWED {
        id: "AUD020",
        slug: "anonymous-request-allowed",
        title: "Anonymous request allowed",
        severity: High,
        mitre: ["T1078.001", "T1190"],
        remediation: "Remove RBAC bindings to system:anonymous and system:unauthenticated; disable anonymous authentication.",
        triggers: [Trigger::every()],
        check: crate::detection::Check::Request(check),
    }
}

fn check(cx: &Cx) -> Vec<Hit> {
    if cx.event.user() != "system:anonymous" || !cx.event.authorized() {
        return Vec::new();
    }
    let path = cx.event.path();
    if HEALTH
        .iter()
        .any(|h| path == *h || path.starts_with(&format!("{h}/")))
    {
        return Vec::new();
    }
    let what = cx.what();
    let mut hit = Hit::new(format!(
        "an anonymous caller was allowed to {} {what}",
        cx.event.verb()
    ));
    if let Some(reason) = cx.event.annotation(crate::event::REASON_ANNOTATION) {
        hit = hit.with("reason", reason);
    }
    vec![hit]
}
