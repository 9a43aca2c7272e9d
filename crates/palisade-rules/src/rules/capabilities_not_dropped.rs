use crate::context::Context;
use crate::pss::{BASELINE_CAPABILITIES, RESTRICTED_ADDABLE_CAPABILITY};
use crate::rule::{Check, Rule, Target};

/// The capabilities containerd, CRI-O and Docker grant a container by default: the Pod Security
/// baseline set (which was drawn from them) plus `NET_RAW`.
fn runtime_default_capabilities() -> impl Iterator<Item = &'static str> {
    BASELINE_CAPABILITIES.iter().copied().chain(["NET_RAW"])
}

declare_rule! {
    /// ## What it checks
    /// Containers that keep Linux capabilities the container runtime grants by default: they
    /// neither drop `ALL` nor every default capability (`AUDIT_WRITE`, `CHOWN`,
    /// `DAC_OVERRIDE`, `FOWNER`, `FSETID`, `KILL`, `MKNOD`, `NET_BIND_SERVICE`, `NET_RAW`,
    /// `SETFCAP`, `SETGID`, `SETPCAP`, `SETUID`, `SYS_CHROOT`; runtimes read names without
    /// regard to case), or they add back a baseline capability other than `NET_BIND_SERVICE`.
    /// Adds outside the baseline set are reported by POD007. Windows pods are exempt, as in the
    /// standard.
    ///
    /// This is the Pod Security Restricted capabilities control, with one difference: the
    /// standard accepts only the literal `drop: ["ALL"]`, while a container that lists every
    /// default capability ends up with none and is not reported. The namespace evaluation of
    /// NS002 and `--framework pss-restricted` apply the literal rule, as admission does.
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
    /// only `NET_BIND_SERVICE` if the process binds a port below 1024. `palisade fix` adds the
    /// drop to containers that cannot run as root, or to all with `--drop-all-capabilities
    /// always` (`docs/fix.md`).
    ///
    /// ## References
    /// - Kubernetes Pod Security Standards, Restricted, "Capabilities"
    /// - CIS Kubernetes Benchmark v1.12, 5.2.8 and 5.2.9
    pub struct CapabilitiesNotDropped {
        id: "POD008",
        slug: "capabilities-not-dropped",
        title: "Container does not drop all capabilities",
        severity: Low,
        target: Target::PodSpec,
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

impl Check for CapabilitiesNotDropped {
    fn check(&self, cx: &mut Context<'_>) {
        if cx.is_windows_pod() {
            return;
        }
        for container in cx.containers() {
            let drop = container.field(&["securityContext", "capabilities", "drop"]);
            let dropped = cx.strings_at(&drop);
            let drops = |name: &str| {
                dropped
                    .iter()
                    .any(|(_, c)| palisade_k8s::security::capability_name(c) == name)
            };
            if !drops("ALL") && !runtime_default_capabilities().all(drops) {
                // CIS 5.2.8 is NET_RAW alone; a container that drops it does not violate it.
                let (still, cited) = if drops("NET_RAW") {
                    (
                        "the runtime's default capabilities",
                        self.meta().controls_except(&["5.2.8"]),
                    )
                } else {
                    (
                        "the runtime's default capabilities, including NET_RAW",
                        self.meta().controls.to_vec(),
                    )
                };
                cx.report_citing(
                    drop,
                    format!(
                        "{} does not drop ALL capabilities, so it keeps {still}",
                        container.describe()
                    ),
                    cited,
                );
            }
            let add = container.field(&["securityContext", "capabilities", "add"]);
            for (i, capability) in cx.strings_at(&add) {
                if capability != RESTRICTED_ADDABLE_CAPABILITY
                    && BASELINE_CAPABILITIES.contains(&capability)
                {
                    // Adding a capability is CIS 5.2.9 (capabilities assigned), not 5.2.8.
                    cx.report_citing(
                        add.join(i),
                        format!("{} adds {capability}; the restricted profile allows adding only NET_BIND_SERVICE", container.describe()),
                        self.meta().controls_except(&["5.2.8"]),
                    );
                }
            }
        }
    }
}
