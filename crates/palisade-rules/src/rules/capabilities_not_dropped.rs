use crate::context::Context;
use crate::pss::{BASELINE_CAPABILITIES, RESTRICTED_ADDABLE_CAPABILITY};
use crate::rule::{Rule, Target};

declare_rule! {
    /// ## What it checks
    /// The Pod Security Restricted capabilities control: every container must drop `ALL`
    /// capabilities and may add back only `NET_BIND_SERVICE`. Adds of baseline capabilities
    /// other than `NET_BIND_SERVICE` are reported here; adds outside the baseline set are
    /// reported by POD007. Windows pods are exempt, as in the standard.
    ///
    /// ## Why it matters
    /// Container runtimes grant a default set that includes `NET_RAW` (ARP and DNS spoofing
    /// inside the node's network), `CHOWN`, `DAC_OVERRIDE`, `SETUID`, `SETGID` and `MKNOD`.
    /// Few applications need any of them; each one helps an attacker who has code execution in
    /// the container move further (MITRE ATT&CK T1611, T1557).
    ///
    /// ## Severity
    /// Low: the default set is limited, but dropping it costs nothing.
    ///
    /// ## Failing example
    /// ```yaml
    /// securityContext:
    ///   capabilities:
    ///     drop: ["NET_RAW"]
    /// ```
    ///
    /// ## Passing example
    /// ```yaml
    /// securityContext:
    ///   capabilities:
    ///     drop: ["ALL"]
    /// ```
    ///
    /// ## Remediation
    /// Add `capabilities: {drop: ["ALL"]}` to each container's `securityContext`, and add back
    /// only `NET_BIND_SERVICE` if the process binds a port below 1024.
    ///
    /// ## References
    /// - Kubernetes Pod Security Standards, Restricted, "Capabilities"
    /// - CIS Kubernetes Benchmark v1.12, 5.2.8 and 5.2.9
    pub struct CapabilitiesNotDropped {
        id: "POD008",
        slug: "capabilities-not-dropped",
        title: "Container does not drop all capabilities",
        severity: Low,
        controls: [
            CisK8s112 "5.2.8",
            CisK8s112 "5.2.9",
            Pss "restricted/capabilities",
            NsaCisa12 "pod-security/hardening-container-environments",
            MitreAttack "T1557",
        ],
        remediation: "Set `securityContext.capabilities.drop: [\"ALL\"]` and add back only `NET_BIND_SERVICE`.",
    }
}

impl Rule for CapabilitiesNotDropped {
    fn meta(&self) -> &'static palisade_core::RuleMeta {
        Self::metadata()
    }

    fn target(&self) -> Target {
        Target::PodSpec
    }

    fn check(&self, cx: &mut Context<'_>) {
        if cx.is_windows_pod() {
            return;
        }
        for container in cx.containers() {
            let drop = container.field(&["securityContext", "capabilities", "drop"]);
            let dropped = cx.strings_at(&drop);
            if !dropped.iter().any(|(_, c)| *c == "ALL") {
                let still = if dropped
                    .iter()
                    .any(|(_, c)| *c == "NET_RAW" || *c == "CAP_NET_RAW")
                {
                    "the runtime's default capabilities"
                } else {
                    "the runtime's default capabilities, including NET_RAW"
                };
                cx.report(
                    drop,
                    format!(
                        "{} does not drop ALL capabilities, so it keeps {still}",
                        container.describe()
                    ),
                );
            }
            let add = container.field(&["securityContext", "capabilities", "add"]);
            for (i, capability) in cx.strings_at(&add) {
                if capability != RESTRICTED_ADDABLE_CAPABILITY
                    && BASELINE_CAPABILITIES.contains(&capability)
                {
                    cx.report(
                        add.join(i),
                        format!("{} adds {capability}; the restricted profile allows adding only NET_BIND_SERVICE", container.describe()),
                    );
                }
            }
        }
    }
}
