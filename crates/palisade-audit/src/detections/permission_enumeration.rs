use crate::detection::{Cx, Hit, Trigger, is_control_plane};
use crate::state::State;

crate::detection! {
    /// ## What it checks
    /// An identity other than the control plane asking what it may do:
    /// `selfsubjectrulesreviews` (what `kubectl auth can-i --list` sends), reported once per
    /// identity per analysis.
    ///
    /// ## Why it matters
    /// Listing one's own permissions is the first thing an attacker does with a stolen token
    /// (peirates, kubectl from a compromised pod). Applications almost never do it.
    ///
    /// ## Response
    /// Check where the request came from; for a service account, whether its pod was
    /// entered (exec) or its token taken.
    ///
    /// ## Sigma equivalent
    /// `RBAC Permission Enumeration Attempt`.
    pub static PERMISSION_ENUMERATION {
        id: "AUD034",
        slug: "permission-enumeration",
        title: "Identity listed its own permissions",
        severity: Low,
        mitre: ["T1069", "T1613"],
        remediation: "Confirm the caller; investigate the identity's other requests.",
        triggers: [Trigger::on(&["create"], "selfsubjectrulesreviews")],
        check: crate::detection::Check::Stream(check),
    }
}

fn check(cx: &Cx, state: &mut State) -> Vec<Hit> {
    let user = cx.event.user();
    if is_control_plane(user) || user.is_empty() || !state.first("permission-enumeration", user) {
        return Vec::new();
    }
    vec![Hit::new(format!(
        "{} listed its own permissions",
        cx.actor()
    ))]
}
