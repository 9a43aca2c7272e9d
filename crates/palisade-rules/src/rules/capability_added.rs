use crate::context::Context;
use crate::pss::BASELINE_CAPABILITIES;
use crate::rule::{Check, Target};
use crate::settings::Setting;

/// `[rules] allowed-capabilities`: capabilities accepted beyond the Pod Security baseline set.
pub(crate) static ALLOWED_CAPABILITIES: Setting = Setting {
    key: "allowed-capabilities",
    help: "capabilities accepted in `capabilities.add` beyond the Pod Security baseline set (`NET_ADMIN`)",
    example: &["NET_ADMIN"],
    parse: |entry| {
        let value = entry.trim();
        let name = value.strip_prefix("CAP_").unwrap_or(value);
        if name.is_empty()
            || !name
                .chars()
                .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_')
        {
            return Err(format!(
                "`allowed-capabilities` entries are capability names in upper case such as `NET_ADMIN`, found `{value}`"
            ));
        }
        if name == "ALL" {
            return Err(
                "`allowed-capabilities` cannot allow `ALL`; list the capabilities needed".into(),
            );
        }
        Ok(name.to_string())
    },
};

declare_rule! {
    /// ## What it checks
    /// Containers (regular, init and ephemeral) that add a Linux capability outside the Pod
    /// Security Baseline set (`AUDIT_WRITE`, `CHOWN`, `DAC_OVERRIDE`, `FOWNER`, `FSETID`,
    /// `KILL`, `MKNOD`, `NET_BIND_SERVICE`, `SETFCAP`, `SETGID`, `SETPCAP`, `SETUID`,
    /// `SYS_CHROOT`), including `ALL`. Capabilities listed under `[rules]
    /// allowed-capabilities` in `palisade.toml` are accepted.
    ///
    /// ## Why it matters
    /// Capabilities such as `SYS_ADMIN`, `SYS_PTRACE`, `SYS_MODULE`, `NET_ADMIN`, `DAC_READ_SEARCH`
    /// or `BPF` hand pieces of root on the node to the container: mounting file systems,
    /// reading other processes' memory, loading kernel modules, rewriting the node's network.
    /// Most published container escapes need one of them (MITRE ATT&CK T1611).
    ///
    /// ## Severity
    /// Per finding, by what the capability enables: high for those one step from the node
    /// (`ALL`, `SYS_ADMIN`, `SYS_PTRACE`, `SYS_MODULE`, `DAC_READ_SEARCH`, `BPF`, `PERFMON`,
    /// `SYS_RAWIO`); medium for `NET_ADMIN`, `NET_RAW` and capabilities not listed here; low for
    /// resource and scheduling limits (`IPC_LOCK`, `SYS_NICE`, `SYS_RESOURCE`, `WAKE_ALARM`,
    /// `BLOCK_SUSPEND`, `LEASE`).
    ///
    /// ## Failing example
    /// ```yaml
    /// securityContext:
    ///   capabilities:
    ///     add: ["SYS_ADMIN"]
    /// ```
    ///
    /// ## Passing example
    /// ```yaml
    /// securityContext:
    ///   capabilities:
    ///     drop: ["ALL"]
    ///     add: ["NET_BIND_SERVICE"]
    /// ```
    ///
    /// ## Remediation
    /// Remove the capability. If the workload truly needs it (a CNI or storage agent), run it in
    /// a dedicated namespace labelled `privileged` and list it in `allowed-capabilities` or
    /// suppress the finding with a reason.
    ///
    /// ## References
    /// - Kubernetes Pod Security Standards, Baseline, "Capabilities"
    /// - CIS Kubernetes Benchmark v1.12, 5.2.9
    /// - capabilities(7)
    pub struct CapabilityAdded {
        id: "POD007",
        slug: "dangerous-capability-added",
        title: "Container adds a capability outside the baseline set",
        severity: High,
        target: Target::PodSpec,
        controls: [
            CisK8s112 "5.2.9",
            Pss "baseline/capabilities",
            NsaCisa12 "pod-security/hardening-container-environments",
            MitreAttack "T1611",
        ],
        remediation: "Remove the added capability from `securityContext.capabilities.add`.",
    }
}

impl Check for CapabilityAdded {
    fn settings(&self) -> &'static [&'static Setting] {
        static SETTINGS: &[&Setting] = &[&ALLOWED_CAPABILITIES];
        SETTINGS
    }

    fn check(&self, cx: &mut Context<'_>) {
        for container in cx.containers() {
            let add = container.field(&["securityContext", "capabilities", "add"]);
            for (i, capability) in cx.strings_at(&add) {
                if BASELINE_CAPABILITIES.contains(&capability)
                    || cx
                        .settings
                        .list(&ALLOWED_CAPABILITIES)
                        .iter()
                        .any(|c| c == capability)
                {
                    continue;
                }
                let (detail, severity) = palisade_k8s::security::added_capability_risk(capability);
                let mut reported = crate::context::Reported::new(
                    add.join(i),
                    format!("{} adds {capability}: {detail}", container.describe()),
                );
                reported.severity = Some(severity);
                cx.report_with(reported);
            }
        }
    }
}
