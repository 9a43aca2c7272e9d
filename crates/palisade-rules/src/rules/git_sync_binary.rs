use serde_json::Value;

use crate::context::Context;
use crate::rule::{Check, Target};

/// The variables through which git-sync (v3 and v4) takes the path of the `git` it runs.
const GIT_BINARY_VARIABLES: &[&str] = &["GITSYNC_GIT", "GIT_SYNC_GIT"];

declare_rule! {
    /// ## What it checks
    /// Containers that set `GITSYNC_GIT` or `GIT_SYNC_GIT` in `env`: the variables (and the
    /// `--git` flag they stand for) with which git-sync is told which program to run as `git`.
    /// The variable is recognised whatever the image, since git-sync is often rebuilt under
    /// other names.
    ///
    /// ## Why it matters
    /// git-sync runs that program with the container's identity and mounts. Whoever can set
    /// the variable (edit the Deployment, or a ConfigMap it is read from) picks a program of
    /// their own, such as a script on a shared volume: code execution as the pod, and with
    /// the service account's token (MITRE ATT&CK T1059).
    ///
    /// ## Severity
    /// Medium: the attacker needs to change the configuration first, and then runs as the pod.
    ///
    /// ## Failing example
    /// ```yaml
    /// env:
    /// - {name: GITSYNC_GIT, value: /scratch/git}
    /// ```
    ///
    /// ## Passing example
    /// ```yaml
    /// env:
    /// - {name: GITSYNC_REPO, value: https://github.com/example/config}
    /// ```
    ///
    /// ## Remediation
    /// Remove the variable: the image's own `git` is used.
    ///
    /// ## References
    /// - git-sync documentation, `--git` / `GITSYNC_GIT`
    pub struct GitSyncBinary {
        id: "POD035",
        slug: "git-sync-binary-override",
        title: "git-sync is told which program to run as git",
        severity: Medium,
        target: Target::PodSpec,
        controls: [
            NsaCisa12 "pod-security/hardening-container-environments",
            MitreAttack "T1059",
        ],
        remediation: "Remove GITSYNC_GIT / GIT_SYNC_GIT; use the image's own git.",
    }
}

impl Check for GitSyncBinary {
    fn check(&self, cx: &mut Context<'_>) {
        for container in cx.containers() {
            let env = container.value.get("env").and_then(Value::as_array);
            for (i, var) in env.into_iter().flatten().enumerate() {
                let Some(name) = var.get("name").and_then(Value::as_str) else {
                    continue;
                };
                if GIT_BINARY_VARIABLES.contains(&name) {
                    cx.report(
                        container.field(&["env"]).join(i).join("name"),
                        format!(
                            "{} sets {name}: git-sync runs that program as git, with the pod's identity",
                            container.describe()
                        ),
                    );
                }
            }
        }
    }
}
