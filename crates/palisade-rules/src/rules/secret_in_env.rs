use palisade_core::tree::Tree as _;

use crate::context::Context;
use crate::rule::{Check, Target};

declare_rule! {
    /// ## What it checks
    /// Secrets exposed as environment variables: `env[].valueFrom.secretKeyRef` and
    /// `envFrom[].secretRef`.
    ///
    /// ## Why it matters
    /// Environment variables leak: they are inherited by every child process, printed by crash
    /// handlers and debug endpoints, visible in `/proc/<pid>/environ` to anything sharing the
    /// process namespace, and cannot be rotated without a restart. Secrets mounted as files can
    /// be read only by the process that opens them and are updated in place (MITRE ATT&CK
    /// T1552.001).
    ///
    /// ## Severity
    /// Low: the Secret is still protected by RBAC; the exposure is inside the pod.
    ///
    /// ## Failing example
    /// ```yaml
    /// env:
    /// - name: DB_PASSWORD
    ///   valueFrom:
    ///     secretKeyRef: {name: db, key: password}
    /// ```
    ///
    /// ## Passing example
    /// ```yaml
    /// volumeMounts:
    /// - {name: db, mountPath: /run/secrets/db, readOnly: true}
    /// ```
    ///
    /// ## Remediation
    /// Mount the Secret as a volume and have the application read the file.
    ///
    /// ## References
    /// - CIS Kubernetes Benchmark v1.12, 5.4.1
    /// - NSA/CISA Kubernetes Hardening Guide v1.2, "Secrets"
    pub struct SecretInEnv {
        id: "POD026",
        slug: "secret-in-env",
        title: "Secret is exposed as an environment variable",
        severity: Low,
        target: Target::PodSpec,
        controls: [
            CisK8s112 "5.4.1",
            NsaCisa12 "network/secrets",
            MitreAttack "T1552.001",
        ],
        remediation: "Mount the Secret as a file instead of injecting it into the environment.",
    }
}

impl Check for SecretInEnv {
    fn check(&self, cx: &mut Context<'_>) {
        for container in cx.containers() {
            let env = container.field(&["env"]);
            for (i, var) in cx.array_at(&env).iter().enumerate() {
                let reference = env.join(i).join("valueFrom").join("secretKeyRef");
                if let Some(secret) = cx.map_at(&reference) {
                    let var_name = var.get("name").and_then(|n| n.as_str()).unwrap_or("?");
                    let secret_name = secret.get("name").and_then(|n| n.as_str()).unwrap_or("?");
                    cx.report(reference, format!("{} reads Secret \"{secret_name}\" into environment variable {var_name}", container.describe()));
                }
            }
            let env_from = container.field(&["envFrom"]);
            for (i, source) in cx.array_at(&env_from).iter().enumerate() {
                let reference = env_from.join(i).join("secretRef");
                if cx.map_at(&reference).is_some() {
                    let secret_name = source
                        .at("/secretRef/name")
                        .and_then(|n| n.as_str())
                        .unwrap_or("?");
                    cx.report(
                        reference,
                        format!(
                            "{} loads every key of Secret \"{secret_name}\" into its environment",
                            container.describe()
                        ),
                    );
                }
            }
        }
    }
}
