use crate::context::Context;
use crate::pss::admission::safe_sysctl;
use crate::rule::{Check, Target};

declare_rule! {
    /// ## What it checks
    /// Pod `securityContext.sysctls` outside the Pod Security "safe" set of the policy version
    /// pods are judged against (`--pss-version`, the latest by default), from the same table as
    /// the admission plugin's checks: `kernel.shm_rmid_forced`, `net.ipv4.ip_local_port_range`,
    /// `net.ipv4.ip_unprivileged_port_start`, `net.ipv4.tcp_syncookies`,
    /// `net.ipv4.ping_group_range`; since v1.27 `net.ipv4.ip_local_reserved_ports`; since v1.29
    /// `net.ipv4.tcp_keepalive_time`, `tcp_fin_timeout`, `tcp_keepalive_intvl`,
    /// `tcp_keepalive_probes`; since v1.32 `net.ipv4.tcp_rmem` and `tcp_wmem`; since v1.37
    /// `net.ipv4.tcp_slow_start_after_idle` and `tcp_notsent_lowat`.
    ///
    /// ## Why it matters
    /// Sysctls outside the namespaced safe set change kernel behaviour for the whole node or
    /// weaken isolation between pods (for example `kernel.core_pattern` has been used to run a
    /// command on the host, CVE-2022-0811 "cr8escape"). They need the kubelet's
    /// `--allowed-unsafe-sysctls` and should never be set by ordinary workloads (MITRE ATT&CK
    /// T1611).
    ///
    /// ## Severity
    /// High: unsafe sysctls reach outside the pod.
    ///
    /// ## Failing example
    /// ```yaml
    /// securityContext:
    ///   sysctls:
    ///   - name: kernel.core_pattern
    ///     value: "|/tmp/x"
    /// ```
    ///
    /// ## Passing example
    /// ```yaml
    /// securityContext:
    ///   sysctls:
    ///   - name: net.ipv4.ip_local_port_range
    ///     value: "32768 60999"
    /// ```
    ///
    /// ## Remediation
    /// Remove the sysctl; tune the node through its own configuration if it is really needed.
    ///
    /// ## References
    /// - Kubernetes Pod Security Standards, Baseline, "Sysctls"
    /// - Kubernetes documentation, "Using sysctls in a Kubernetes Cluster"
    pub struct UnsafeSysctl {
        id: "POD015",
        slug: "unsafe-sysctl",
        title: "Pod sets an unsafe sysctl",
        severity: High,
        target: Target::PodSpec,
        controls: [
            Pss "baseline/sysctls",
            NsaCisa12 "pod-security/hardening-container-environments",
            MitreAttack "T1611",
        ],
        remediation: "Remove sysctls outside the safe set from `securityContext.sysctls`.",
    }
}

impl Check for UnsafeSysctl {
    fn check(&self, cx: &mut Context<'_>) {
        let sysctls = cx.pod_field("securityContext").join("sysctls");
        for i in 0..cx.array_at(&sysctls).len() {
            let path = sysctls.join(i).join("name");
            let version = cx.settings.pss_version();
            if let Some(name) = cx.str_at(&path)
                && !safe_sysctl(name, version)
            {
                cx.report(
                    path,
                    format!("sysctl {name} is not in the safe set (policy {version})"),
                );
            }
        }
    }
}
