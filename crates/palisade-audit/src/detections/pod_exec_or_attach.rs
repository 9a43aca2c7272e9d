use crate::detection::{Cx, Hit, Trigger};

crate::detection! {
    /// ## What it checks
    /// A command executed in, or a terminal attached to, a running container
    /// (`pods/exec` and `pods/attach`, which `kubectl exec` and `kubectl attach` use).
    ///
    /// ## Why it matters
    /// Exec is an interactive shell inside the workload, with its service account token, its
    /// mounted secrets and its network position. Attackers with a stolen credential use it
    /// to move into the application; in production it should be rare and attributable.
    ///
    /// ## Response
    /// Confirm the user meant to run the command (the `command` evidence, with any secret in
    /// it replaced by its tag). Restrict `create` on `pods/exec` to break-glass roles.
    ///
    /// ## Falco equivalent
    /// `Attach/Exec Pod`.
    ///
    /// ## Sigma equivalent
    /// `Potential Remote Command Execution In Pod Container`,
    /// `Kubernetes Potential Enumeration Activity`.
    pub static POD_EXEC_OR_ATTACH {
        id: "AUD001",
        slug: "pod-exec-or-attach",
        title: "Command executed in or terminal attached to a container",
        severity: Medium,
        mitre: ["T1609"],
        remediation: "Confirm the session was intended; limit create on pods/exec and pods/attach to break-glass roles.",
        triggers: [
            Trigger::sub(&["create", "get"], "pods", "exec"),
            Trigger::sub(&["create", "get"], "pods", "attach"),
        ],
        check: crate::detection::Check::Request(check),
    }
}

fn check(cx: &Cx) -> Vec<Hit> {
    let action = cx.event.subresource();
    let mut hit = Hit::new(format!(
        "{} ran {action} in pod {}",
        cx.actor(),
        cx.target()
    ))
    .with("action", action);
    if let Some(container) = cx.query_values("container").into_iter().next() {
        hit = hit.with("container", container);
    }
    let command: Vec<String> = cx.query_values("command");
    if !command.is_empty() {
        hit = hit.with("command", crate::redact::command_line(&command));
    }
    vec![hit]
}
