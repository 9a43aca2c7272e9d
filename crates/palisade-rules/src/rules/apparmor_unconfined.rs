use crate::context::Context;
use crate::rule::{Check, Target};

const ANNOTATION_PREFIX: &str = "container.apparmor.security.beta.kubernetes.io/";

declare_rule! {
    /// ## What it checks
    /// AppArmor turned off or replaced: an `appArmorProfile.type` other than `RuntimeDefault`
    /// or `Localhost` on the pod or a container, or a legacy
    /// `container.apparmor.security.beta.kubernetes.io/<container>` annotation whose value is
    /// not `runtime/default` or `localhost/<profile>` (for example `unconfined`).
    ///
    /// ## Why it matters
    /// The runtime's default AppArmor profile blocks writes to `/proc` and `/sys`, mounts and
    /// other steps of known container escapes. `Unconfined` removes that layer (MITRE ATT&CK
    /// T1562.001, T1611).
    ///
    /// ## Severity
    /// Medium: it removes a defence layer rather than granting a privilege.
    ///
    /// ## Failing example
    /// ```yaml
    /// securityContext:
    ///   appArmorProfile:
    ///     type: Unconfined
    /// ```
    ///
    /// ## Passing example
    /// ```yaml
    /// securityContext:
    ///   appArmorProfile:
    ///     type: RuntimeDefault
    /// ```
    ///
    /// ## Remediation
    /// Remove the override, or set `appArmorProfile.type: RuntimeDefault` (or a `Localhost`
    /// profile written for the workload).
    ///
    /// ## References
    /// - Kubernetes Pod Security Standards, Baseline, "AppArmor"
    /// - Kubernetes documentation, "Restrict a Container's Access to Resources with AppArmor"
    pub struct AppArmorUnconfined {
        id: "POD010",
        slug: "apparmor-unconfined",
        title: "AppArmor is disabled or overridden",
        severity: Medium,
        target: Target::PodSpec,
        controls: [
            Pss "baseline/apparmor",
            NsaCisa12 "pod-security/hardening-container-environments",
            MitreAttack "T1562.001",
        ],
        remediation: "Remove the AppArmor override or set `appArmorProfile.type: RuntimeDefault`.",
    }
}

impl Check for AppArmorUnconfined {
    fn check(&self, cx: &mut Context<'_>) {
        let places = cx.security_context_places("appArmorProfile");
        for (path, who) in places {
            let type_path = path.join("type");
            if let Some(kind) = cx.str_at(&type_path)
                && kind != "RuntimeDefault"
                && kind != "Localhost"
            {
                cx.report(
                    type_path,
                    format!("{who} sets AppArmor profile type {kind}"),
                );
            }
        }
        let annotations_path = cx.pod_metadata_field("annotations");
        for (key, value) in cx.pod_annotations().into_iter().flatten() {
            let Some(container) = key.strip_prefix(ANNOTATION_PREFIX) else {
                continue;
            };
            let value = value.as_str().unwrap_or("");
            if value != "runtime/default" && !value.starts_with("localhost/") {
                let shown = if matches!(value, "" | "unconfined") {
                    value.to_string()
                } else {
                    format!("{value:?}")
                };
                cx.report(
                    annotations_path.join(key),
                    format!(
                        "annotation sets AppArmor profile {shown} for container \"{container}\""
                    ),
                );
            }
        }
    }
}
