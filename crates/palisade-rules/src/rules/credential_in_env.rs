use serde_json::Value;

use crate::context::Context;
use crate::credentials::{credential_reason, describe_hidden};
use crate::rule::{Check, Target};

declare_rule! {
    /// ## What it checks
    /// Environment variables whose literal `value` is a credential: the name says so
    /// (`*PASSWORD*`, `*SECRET*`, `*TOKEN*`, `*API_KEY*`, `AWS_SECRET_ACCESS_KEY`,
    /// `AZURE_*KEY`, ...) and the value is not a reference, a path, a number or a switch; or the
    /// value itself is key material or a known token format (private key blocks, AWS access key
    /// ids, GitHub, GitLab, Slack and Stripe tokens). A placeholder value (`<your-token>`,
    /// `YOUR_API_KEY`, the variable's own name) is reported too, with a message that says so:
    /// the manifest is designed to carry the real credential in plain text. Values are never
    /// printed: findings give a stable tag (`#1a2b3c4d`), never the value or its length.
    ///
    /// ## Why it matters
    /// A credential in a manifest is readable by everyone who can read the repository, the
    /// workload object (`get deployments` is a common, "harmless" permission) or the CI logs,
    /// and it cannot be rotated without a commit (MITRE ATT&CK T1552.001).
    ///
    /// ## Severity
    /// High: the secret is already disclosed to everyone with read access.
    ///
    /// ## Failing example
    /// ```yaml
    /// env:
    /// - name: DB_PASSWORD
    ///   value: "s3cr3t-in-git"
    /// ```
    ///
    /// ## Passing example
    /// ```yaml
    /// env:
    /// - name: DB_PASSWORD_FILE
    ///   value: /run/secrets/db/password
    /// ```
    ///
    /// ## Remediation
    /// Rotate the credential, store it in a Secret (or an external secret store) and mount it
    /// as a file.
    ///
    /// ## References
    /// - CIS Kubernetes Benchmark v1.12, 5.4.1
    /// - NSA/CISA Kubernetes Hardening Guide v1.2, "Secrets"
    pub struct CredentialInEnv {
        id: "POD027",
        slug: "credential-in-env",
        title: "Credential written in plain text in an environment variable",
        severity: High,
        target: Target::PodSpec,
        controls: [
            CisK8s112 "5.4.1",
            NsaCisa12 "network/secrets",
            MitreAttack "T1552.001",
        ],
        remediation: "Rotate the credential and move it into a Secret mounted as a file.",
    }
}

impl Check for CredentialInEnv {
    fn check(&self, cx: &mut Context<'_>) {
        for container in cx.containers() {
            let env = container.field(&["env"]);
            for (i, var) in cx.array_at(&env).iter().enumerate() {
                let (Some(name), Some(value)) = (
                    var.get("name").and_then(Value::as_str),
                    var.get("value").and_then(Value::as_str),
                ) else {
                    continue;
                };
                if let Some(reason) = credential_reason(name, value) {
                    cx.report(
                        env.join(i).join("value"),
                        format!(
                            "{} sets {name} in plain text ({}): {reason}",
                            container.describe(),
                            describe_hidden(value)
                        ),
                    );
                }
            }
        }
    }
}
