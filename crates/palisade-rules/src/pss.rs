//! The Pod Security Standards as data: the levels, the allowed values the admission plugin
//! (`k8s.io/pod-security-admission`, policy version v1.33) compares against, and which rules
//! implement which control. Rules read the lists from here so that the rule and the namespace
//! evaluation (`palisade scan --framework pss-...`) cannot disagree.

use std::collections::BTreeSet;
use std::fmt;

use palisade_core::Framework;
use palisade_inventory::{Inventory, pod_spec};
use serde_json::Value;

use crate::context::Context;
use crate::registry::all_rules;
use crate::settings::RuleSettings;

/// A Pod Security Standards level.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Level {
    Privileged,
    Baseline,
    Restricted,
}

impl Level {
    /// Parses a `pod-security.kubernetes.io/enforce` label value.
    pub fn parse(text: &str) -> Option<Level> {
        match text {
            "privileged" => Some(Level::Privileged),
            "baseline" => Some(Level::Baseline),
            "restricted" => Some(Level::Restricted),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Level::Privileged => "privileged",
            Level::Baseline => "baseline",
            Level::Restricted => "restricted",
        }
    }

    /// The level a `pss:<level>/<control>` id belongs to.
    pub fn of_control(id: &str) -> Option<Level> {
        Level::parse(id.split('/').next()?)
    }
}

impl fmt::Display for Level {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Capabilities the Baseline profile allows in `capabilities.add`.
pub const BASELINE_CAPABILITIES: &[&str] = &[
    "AUDIT_WRITE",
    "CHOWN",
    "DAC_OVERRIDE",
    "FOWNER",
    "FSETID",
    "KILL",
    "MKNOD",
    "NET_BIND_SERVICE",
    "SETFCAP",
    "SETGID",
    "SETPCAP",
    "SETUID",
    "SYS_CHROOT",
];

/// The only capability the Restricted profile allows adding.
pub const RESTRICTED_ADDABLE_CAPABILITY: &str = "NET_BIND_SERVICE";

/// The "safe" sysctls the Baseline profile allows (policy v1.29 and later).
pub const SAFE_SYSCTLS: &[&str] = &[
    "kernel.shm_rmid_forced",
    "net.ipv4.ip_local_port_range",
    "net.ipv4.ip_unprivileged_port_start",
    "net.ipv4.tcp_syncookies",
    "net.ipv4.ping_group_range",
    "net.ipv4.ip_local_reserved_ports",
    "net.ipv4.tcp_keepalive_time",
    "net.ipv4.tcp_fin_timeout",
    "net.ipv4.tcp_keepalive_intvl",
    "net.ipv4.tcp_keepalive_probes",
];

/// Volume sources the Restricted profile allows.
pub const RESTRICTED_VOLUME_TYPES: &[&str] = &[
    "configMap",
    "csi",
    "downwardAPI",
    "emptyDir",
    "ephemeral",
    "persistentVolumeClaim",
    "projected",
    "secret",
];

/// SELinux types the Baseline profile allows (empty means unset).
pub const SELINUX_TYPES: &[&str] = &[
    "",
    "container_t",
    "container_init_t",
    "container_kvm_t",
    "container_engine_t",
];

/// The Pod Security level one pod spec satisfies, given which PSS controls it fails.
pub fn level_satisfied<'a>(failed_controls: impl IntoIterator<Item = &'a str>) -> Level {
    let mut level = Level::Restricted;
    for control in failed_controls {
        match Level::of_control(control) {
            Some(Level::Baseline) => return Level::Privileged,
            Some(Level::Restricted) => level = Level::Baseline,
            _ => {}
        }
    }
    level
}

/// Rules whose verdict differs from the admission plugin's on purpose; the namespace
/// evaluation uses [`non_root_violations`] instead of them.
const NOT_EXACT: &[&str] = &["POD003", "POD008"];

/// The Pod Security level `object`'s pod spec satisfies and the PSS controls it fails,
/// evaluated as the admission plugin would (the PSS-mapped rules with default settings, plus
/// the exact non-root checks). `None` for objects without a pod spec.
pub fn workload_level(inventory: &Inventory, index: usize) -> Option<(Level, BTreeSet<String>)> {
    let object = inventory.objects.get(index)?;
    let pod = pod_spec(object)?;
    let settings = RuleSettings::default();
    let derived = crate::context::Derived::default();
    let mut failing = BTreeSet::new();
    for rule in all_rules() {
        let meta = rule.meta();
        let controls: Vec<String> = meta
            .controls
            .iter()
            .filter(|c| c.framework == Framework::Pss)
            .map(|c| c.id.to_string())
            .collect();
        if controls.is_empty() || NOT_EXACT.contains(&meta.id.as_ref()) {
            continue;
        }
        let mut cx = Context::new(index, object, inventory, Some(pod), &settings, &derived);
        rule.check(&mut cx);
        if !cx.findings.is_empty() {
            // A rule mapped to a baseline and a restricted control fails the baseline one.
            let worst = controls
                .iter()
                .find(|c| Level::of_control(c) == Some(Level::Baseline))
                .unwrap_or(&controls[0]);
            failing.insert(worst.clone());
        }
    }
    failing.extend(
        non_root_violations(pod.value)
            .into_iter()
            .map(str::to_string),
    );
    Some((level_satisfied(failing.iter().map(String::as_str)), failing))
}

/// The Restricted "Capabilities" check exactly as the admission plugin runs it (Linux pods
/// only): every container drops the literal `ALL` and adds nothing but `NET_BIND_SERVICE`.
pub fn capabilities_violation(spec: &Value) -> bool {
    if spec.pointer("/os/name").and_then(Value::as_str) == Some("windows") {
        return false;
    }
    ["containers", "initContainers", "ephemeralContainers"]
        .iter()
        .filter_map(|f| spec.get(*f).and_then(Value::as_array))
        .flatten()
        .any(|c| {
            let list = |field: &str| -> Vec<&str> {
                c.pointer(&format!("/securityContext/capabilities/{field}"))
                    .and_then(Value::as_array)
                    .map(|a| a.iter().filter_map(Value::as_str).collect())
                    .unwrap_or_default()
            };
            !list("drop").contains(&"ALL")
                || list("add")
                    .iter()
                    .any(|a| *a != RESTRICTED_ADDABLE_CAPABILITY)
        })
}

/// The Restricted "Running as Non-root" and "Running as Non-root user" checks exactly as the
/// admission plugin runs them: `runAsNonRoot: true` at the pod level (no container setting it
/// `false`) or on every container; and no `runAsUser: 0` anywhere.
pub fn non_root_violations(spec: &Value) -> Vec<&'static str> {
    let mut out = Vec::new();
    let pod_context = spec.get("securityContext");
    let pod_non_root = pod_context
        .and_then(|c| c.get("runAsNonRoot"))
        .and_then(Value::as_bool);
    let containers: Vec<&Value> = ["containers", "initContainers", "ephemeralContainers"]
        .iter()
        .filter_map(|f| spec.get(*f).and_then(Value::as_array))
        .flatten()
        .collect();
    let container_setting =
        |c: &Value, field: &str| c.get("securityContext").and_then(|s| s.get(field)).cloned();
    let non_root_ok = if pod_non_root == Some(false) {
        false
    } else if pod_non_root == Some(true) {
        containers
            .iter()
            .all(|c| container_setting(c, "runAsNonRoot").and_then(|v| v.as_bool()) != Some(false))
    } else {
        containers
            .iter()
            .all(|c| container_setting(c, "runAsNonRoot").and_then(|v| v.as_bool()) == Some(true))
    };
    if !non_root_ok {
        out.push("restricted/running-as-non-root");
    }
    let pod_root = pod_context
        .and_then(|c| c.get("runAsUser"))
        .and_then(Value::as_i64)
        == Some(0);
    if pod_root
        || containers
            .iter()
            .any(|c| container_setting(c, "runAsUser").and_then(|v| v.as_i64()) == Some(0))
    {
        out.push("restricted/running-as-non-root-user");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn capabilities_follow_the_admission_plugin_literally() {
        let listed = json!({"containers": [{"securityContext": {"capabilities": {"drop": ["CHOWN", "NET_RAW"]}}}]});
        assert!(capabilities_violation(&listed));
        let all = json!({"containers": [{"securityContext": {"capabilities": {"drop": ["ALL"], "add": ["NET_BIND_SERVICE"]}}}]});
        assert!(!capabilities_violation(&all));
        let added = json!({"containers": [{"securityContext": {"capabilities": {"drop": ["ALL"], "add": ["CHOWN"]}}}]});
        assert!(capabilities_violation(&added));
    }

    #[test]
    fn non_root_follows_the_admission_plugin() {
        let spec =
            json!({"securityContext": {"runAsNonRoot": true}, "containers": [{"name": "a"}]});
        assert!(non_root_violations(&spec).is_empty());
        let spec = json!({"securityContext": {"runAsNonRoot": true}, "containers": [{"securityContext": {"runAsNonRoot": false}}]});
        assert_eq!(
            non_root_violations(&spec),
            ["restricted/running-as-non-root"]
        );
        let spec = json!({"containers": [{"securityContext": {"runAsUser": 1000}}]});
        assert_eq!(
            non_root_violations(&spec),
            ["restricted/running-as-non-root"]
        );
        let spec =
            json!({"containers": [{"securityContext": {"runAsNonRoot": true, "runAsUser": 0}}]});
        assert_eq!(
            non_root_violations(&spec),
            ["restricted/running-as-non-root-user"]
        );
    }

    #[test]
    fn levels_follow_the_worst_failed_control() {
        assert_eq!(level_satisfied([]), Level::Restricted);
        assert_eq!(level_satisfied(["restricted/seccomp"]), Level::Baseline);
        assert_eq!(
            level_satisfied(["restricted/seccomp", "baseline/host-ports"]),
            Level::Privileged
        );
        assert!(Level::Privileged < Level::Baseline && Level::Baseline < Level::Restricted);
    }
}
