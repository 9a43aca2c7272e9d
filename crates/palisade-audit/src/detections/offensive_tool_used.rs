use crate::detection::{Cx, Hit, Trigger};
use crate::state::State;

/// User-agent fragments of offensive and enumeration tools (lower case).
const TOOLS: &[(&str, &str)] = &[
    ("access_matrix", "rakkess"),
    ("rakkess", "rakkess"),
    ("trufflehog", "trufflehog"),
    ("azurehound", "azurehound"),
    ("micro-scanner", "micro-scanner"),
    ("peirates", "peirates"),
    ("kube-hunter", "kube-hunter"),
    ("kubeletctl", "kubeletctl"),
    ("kdigger", "kdigger"),
    ("botb", "break-out-the-box"),
    ("cdk/", "cdk"),
    ("kubesploit", "kubesploit"),
    ("kubiscan", "kubiscan"),
];

crate::detection! {
    /// ## What it checks
    /// A request whose user agent names an offensive or enumeration tool (peirates,
    /// kube-hunter, rakkess, trufflehog, azurehound, kdigger, kubesploit, ...), reported once
    /// per identity and tool.
    ///
    /// ## Why it matters
    /// These tools map what a credential may do and where the secrets are; outside an
    /// agreed assessment, their user agent in the audit log is an intruder who did not
    /// bother to hide it.
    ///
    /// ## Response
    /// Confirm whether an assessment is running; if not, treat the identity's credentials as
    /// stolen and review what else it did.
    ///
    /// ## Sigma equivalent
    /// `Kubernetes Potential Enumeration Activity`.
    pub static OFFENSIVE_TOOL_USED {
        id: "AUD039",
        slug: "offensive-tool-used",
        title: "Request made with an offensive or enumeration tool",
        severity: High,
        mitre: ["T1613", "T1552.007"],
        remediation: "Confirm an assessment is running; otherwise rotate the identity's credentials.",
        triggers: [Trigger::every()],
        check: crate::detection::Check::Stream(check),
    }
}

fn check(cx: &Cx, state: &mut State) -> Vec<Hit> {
    let Some(agent) = cx.event.user_agent() else {
        return Vec::new();
    };
    // Each distinct user agent is looked at once: a log has few of them.
    let Some(tool) = state.classify_agent(agent, |agent| {
        let lower = agent.to_ascii_lowercase();
        TOOLS
            .iter()
            .find(|(fragment, _)| lower.contains(fragment))
            .map(|(_, tool)| *tool)
    }) else {
        return Vec::new();
    };
    if !state.first("offensive-tool", &format!("{} {tool}", cx.event.user())) {
        return Vec::new();
    }
    vec![
        Hit::new(format!("{} used {tool} against the API server", cx.actor()))
            .with("tool", tool)
            .with("user_agent", agent),
    ]
}
