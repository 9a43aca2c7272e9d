use crate::context::Context;
use crate::rule::{Check, Target};

/// The first UID and GID that no account of a typical node uses.
const HIGH_ID: i64 = 10_000;

declare_rule! {
    /// ## What it checks
    /// Containers whose effective `runAsUser` or `runAsGroup` (the container's, else the pod's)
    /// is set below 10000. Zero is reported by POD003 (user) and POD034 (group); an unset value
    /// is not reported here.
    ///
    /// ## Why it matters
    /// Low UIDs and GIDs are those of the node's own accounts and services. A process that
    /// escapes its container as UID 1000 acts on the node as that node user, with its files,
    /// keys and group memberships; a UID of 10000 or more belongs to nobody on the node
    /// (MITRE ATT&CK T1611).
    ///
    /// ## Severity
    /// Low: hardening that limits what an escape gives.
    ///
    /// ## Failing example
    /// ```yaml
    /// securityContext:
    ///   runAsUser: 1000
    /// ```
    ///
    /// ## Passing example
    /// ```yaml
    /// securityContext:
    ///   runAsUser: 10001
    ///   runAsGroup: 10001
    /// ```
    ///
    /// ## Remediation
    /// Run as a UID and GID of 10000 or more, and build the image for it.
    ///
    /// ## References
    /// - NSA/CISA Kubernetes Hardening Guide v1.2, "Non-root containers"
    pub struct LowUserId {
        id: "POD033",
        slug: "low-user-id",
        title: "Container runs as a low UID or GID",
        severity: Low,
        target: Target::PodSpec,
        controls: [
            NsaCisa12 "pod-security/non-root-containers",
            MitreAttack "T1611",
        ],
        remediation: "Run as a UID and GID of 10000 or more.",
    }
}

impl Check for LowUserId {
    fn check(&self, cx: &mut Context<'_>) {
        for container in cx.containers() {
            for (field, what) in [("runAsUser", "UID"), ("runAsGroup", "GID")] {
                if let Some((id, path)) = cx.effective_security_int(container, field)
                    && (1..HIGH_ID).contains(&id)
                {
                    cx.report(
                        path,
                        format!(
                            "{} runs with {what} {id}, below {HIGH_ID}: it may be an account of the node",
                            container.describe()
                        ),
                    );
                }
            }
        }
    }
}
