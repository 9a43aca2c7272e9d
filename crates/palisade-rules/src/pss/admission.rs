//! The Pod Security admission plugin's checks, exactly as it runs them, per policy version.
//!
//! `k8s.io/pod-security-admission` defines each check with the policy version it first applies
//! to and the versions at which its rule changed (a sysctl allowed, Windows pods exempted,
//! user-namespace pods allowed an unmasked `/proc`). [`evaluate`] runs the checks of a level
//! as of a version on one pod (metadata and spec) and returns every violation with the
//! Pod Security Standards control it belongs to and the field at fault.
//!
//! This is the one answer to "would admission reject this pod": `--framework pss-*`, the
//! namespace evaluation (NS002, honouring `pod-security.kubernetes.io/enforce-version`) and
//! the conformance test over the plugin's own fixtures all use it. The hardening rules
//! (POD001-POD017) keep their own, documented differences from admission; they do not decide
//! compliance with the standard.

use std::fmt;

use palisade_core::tree::Tree as _;
use serde_json::Value;

use super::Level;

/// The newest policy version whose rules are known here. A newer version (or `latest`) is
/// evaluated as this one, as the plugin does with versions newer than itself.
pub const LATEST_MINOR: u32 = 37;

/// A Pod Security policy version (`v1.0` ... `v1.37`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct PolicyVersion {
    minor: u32,
}

impl PolicyVersion {
    pub const LATEST: PolicyVersion = PolicyVersion {
        minor: LATEST_MINOR,
    };

    pub const fn v1(minor: u32) -> PolicyVersion {
        PolicyVersion { minor }
    }

    /// Parses `latest`, `v1.30` or `1.30`, as the `enforce-version` label and `--pss-version`
    /// are written. Versions newer than [`LATEST_MINOR`] read as the latest.
    pub fn parse(text: &str) -> Option<PolicyVersion> {
        let text = text.trim();
        if text == "latest" {
            return Some(PolicyVersion::LATEST);
        }
        let rest = text.strip_prefix('v').unwrap_or(text);
        let (major, minor) = rest.split_once('.')?;
        if major != "1" {
            return None;
        }
        let minor: u32 = minor.parse().ok()?;
        Some(PolicyVersion {
            minor: minor.min(LATEST_MINOR),
        })
    }

    pub fn minor(self) -> u32 {
        self.minor
    }
}

impl fmt::Display for PolicyVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "v1.{}", self.minor)
    }
}

/// One failed check.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Violation {
    /// The plugin's check name (`hostNamespaces`, `seccompProfile_restricted`).
    pub check: &'static str,
    /// The Pod Security Standards control id (`baseline/host-namespaces`).
    pub control: &'static str,
    /// JSON pointer of the offending field, relative to the pod: `/spec/...` or
    /// `/metadata/annotations/...`.
    pub path: String,
    pub message: String,
}

/// Every check of the plugin, with the Pod Security Standards control it enforces and the
/// level it belongs to: the one mapping from the plugin's check ids to the standard's controls.
pub const CHECKS: &[(&str, &str)] = &[
    (
        "allowPrivilegeEscalation",
        "restricted/privilege-escalation",
    ),
    ("appArmorProfile", "baseline/apparmor"),
    ("capabilities_baseline", "baseline/capabilities"),
    ("capabilities_restricted", "restricted/capabilities"),
    ("hostNamespaces", "baseline/host-namespaces"),
    ("hostPathVolumes", "baseline/hostpath-volumes"),
    ("hostPorts", "baseline/host-ports"),
    ("hostProbesAndHostLifecycle", "baseline/host-probes"),
    ("privileged", "baseline/privileged-containers"),
    ("procMount", "baseline/proc-mount-type"),
    ("procMount_restricted", "restricted/proc-mount-type"),
    ("restrictedVolumes", "restricted/volume-types"),
    ("runAsNonRoot", "restricted/running-as-non-root"),
    ("runAsUser", "restricted/running-as-non-root-user"),
    ("seccompProfile_baseline", "baseline/seccomp"),
    ("seccompProfile_restricted", "restricted/seccomp"),
    ("seLinuxOptions", "baseline/selinux"),
    ("sysctls", "baseline/sysctls"),
    ("windowsHostProcess", "baseline/host-process"),
];

/// A check by its id, in any letter case (the plugin's fixtures are named in lower case).
pub fn check(id: &str) -> Option<(&'static str, &'static str)> {
    CHECKS
        .iter()
        .copied()
        .find(|(check, _)| check.eq_ignore_ascii_case(id))
}

/// Capabilities Baseline allows adding.
const BASELINE_CAPABILITIES: &[&str] = super::BASELINE_CAPABILITIES;

/// The sysctls Baseline allows, with the policy version each became allowed.
const SAFE_SYSCTLS: &[(&str, u32)] = &[
    ("kernel.shm_rmid_forced", 0),
    ("net.ipv4.ip_local_port_range", 0),
    ("net.ipv4.tcp_syncookies", 0),
    ("net.ipv4.ping_group_range", 0),
    ("net.ipv4.ip_unprivileged_port_start", 0),
    ("net.ipv4.ip_local_reserved_ports", 27),
    ("net.ipv4.tcp_keepalive_time", 29),
    ("net.ipv4.tcp_fin_timeout", 29),
    ("net.ipv4.tcp_keepalive_intvl", 29),
    ("net.ipv4.tcp_keepalive_probes", 29),
    ("net.ipv4.tcp_rmem", 32),
    ("net.ipv4.tcp_wmem", 32),
    ("net.ipv4.tcp_slow_start_after_idle", 37),
    ("net.ipv4.tcp_notsent_lowat", 37),
];

/// Whether `name` is a safe sysctl at `version`.
pub fn safe_sysctl(name: &str, version: PolicyVersion) -> bool {
    SAFE_SYSCTLS
        .iter()
        .any(|(n, since)| *n == name && version.minor >= *since)
}

/// The safe sysctls at `version`.
pub fn safe_sysctls(version: PolicyVersion) -> Vec<&'static str> {
    SAFE_SYSCTLS
        .iter()
        .filter(|(_, since)| version.minor >= *since)
        .map(|(n, _)| *n)
        .collect()
}

/// SELinux types Baseline allows (empty means unset).
const SELINUX_TYPES: &[&str] = super::SELINUX_TYPES;

/// Volume sources Restricted allows.
const RESTRICTED_VOLUMES: &[&str] = super::RESTRICTED_VOLUME_TYPES;

/// One container of the pod, with its pointer.
struct Container<'v> {
    path: String,
    name: &'v str,
    value: &'v Value,
}

fn containers(spec: &Value) -> Vec<Container<'_>> {
    let mut out = Vec::new();
    for field in ["containers", "initContainers", "ephemeralContainers"] {
        if let Some(list) = spec.get(field).and_then(Value::as_array) {
            for (i, c) in list.iter().enumerate() {
                out.push(Container {
                    path: format!("/spec/{field}/{i}"),
                    name: c.get("name").and_then(Value::as_str).unwrap_or(""),
                    value: c,
                });
            }
        }
    }
    out
}

fn str_at<'v>(value: &'v Value, pointer: &str) -> Option<&'v str> {
    value.at(pointer).and_then(Value::as_str)
}

fn bool_at(value: &Value, pointer: &str) -> Option<bool> {
    value.at(pointer).and_then(Value::as_bool)
}

/// What the checks see of one pod.
struct Pod<'v> {
    annotations: Option<&'v serde_json::Map<String, Value>>,
    spec: &'v Value,
    containers: Vec<Container<'v>>,
    version: PolicyVersion,
    out: Vec<Violation>,
}

impl Pod<'_> {
    /// Records a failed check; its control comes from [`CHECKS`].
    fn fail(&mut self, check: &'static str, path: String, message: String) {
        let control = CHECKS
            .iter()
            .find(|(id, _)| *id == check)
            .map_or("", |(_, control)| *control);
        self.out.push(Violation {
            check,
            control,
            path,
            message,
        });
    }

    fn since(&self, minor: u32) -> bool {
        self.version.minor >= minor
    }

    fn windows(&self) -> bool {
        str_at(self.spec, "/os/name") == Some("windows")
    }

    /// The pod spec and every container, with their pointers: where a security context lives.
    fn places(&self) -> Vec<(String, &Value)> {
        let mut places = vec![("/spec".to_string(), self.spec)];
        places.extend(self.containers.iter().map(|c| (c.path.clone(), c.value)));
        places
    }
}

/// Runs every check of `level` as of `version` on a pod's metadata and spec.
pub fn evaluate(
    metadata: Option<&Value>,
    spec: &Value,
    level: Level,
    version: PolicyVersion,
) -> Vec<Violation> {
    let mut pod = Pod {
        annotations: metadata
            .and_then(|m| m.get("annotations"))
            .and_then(Value::as_object),
        spec,
        containers: containers(spec),
        version,
        out: Vec::new(),
    };
    if level == Level::Privileged {
        return pod.out;
    }
    baseline_checks(&mut pod);
    if level == Level::Restricted {
        restricted_checks(&mut pod);
    }
    pod.out
}

fn baseline_checks(pod: &mut Pod<'_>) {
    windows_host_process(pod);
    host_namespaces(pod);
    privileged(pod);
    capabilities_baseline(pod);
    host_path_volumes(pod);
    host_ports(pod);
    app_armor(pod);
    se_linux_options(pod);
    proc_mount(pod);
    seccomp_baseline(pod);
    sysctls(pod);
    if pod.since(34) {
        host_probes_and_lifecycle(pod);
    }
}

fn restricted_checks(pod: &mut Pod<'_>) {
    restricted_volumes(pod);
    if pod.since(8) {
        allow_privilege_escalation(pod);
    }
    run_as_non_root(pod);
    if pod.since(23) {
        run_as_user(pod);
    }
    if pod.since(19) {
        seccomp_restricted(pod);
    }
    if pod.since(22) {
        capabilities_restricted(pod);
    }
    if pod.since(35) {
        proc_mount_restricted(pod);
    }
}

fn windows_host_process(pod: &mut Pod<'_>) {
    let mut hits = Vec::new();
    if bool_at(pod.spec, "/securityContext/windowsOptions/hostProcess") == Some(true) {
        hits.push("/spec/securityContext/windowsOptions/hostProcess".to_string());
    }
    for c in &pod.containers {
        if bool_at(c.value, "/securityContext/windowsOptions/hostProcess") == Some(true) {
            hits.push(format!(
                "{}/securityContext/windowsOptions/hostProcess",
                c.path
            ));
        }
    }
    for path in hits {
        pod.fail(
            "windowsHostProcess",
            path,
            "hostProcess: true runs the container as a Windows host process".into(),
        );
    }
}

fn host_namespaces(pod: &mut Pod<'_>) {
    for field in ["hostNetwork", "hostPID", "hostIPC"] {
        if pod.spec.get(field).and_then(Value::as_bool) == Some(true) {
            pod.fail(
                "hostNamespaces",
                format!("/spec/{field}"),
                format!("{field}: true shares a namespace of the node"),
            );
        }
    }
}

fn privileged(pod: &mut Pod<'_>) {
    let hits: Vec<(String, String)> = pod
        .containers
        .iter()
        .filter(|c| bool_at(c.value, "/securityContext/privileged") == Some(true))
        .map(|c| {
            (
                format!("{}/securityContext/privileged", c.path),
                c.name.to_string(),
            )
        })
        .collect();
    for (path, name) in hits {
        pod.fail(
            "privileged",
            path,
            format!("container {name} is privileged"),
        );
    }
}

fn capabilities_baseline(pod: &mut Pod<'_>) {
    let mut hits = Vec::new();
    for c in &pod.containers {
        if let Some(add) = c
            .value
            .at("/securityContext/capabilities/add")
            .and_then(Value::as_array)
        {
            for (i, cap) in add.iter().enumerate() {
                let cap = cap.as_str().unwrap_or("");
                if !BASELINE_CAPABILITIES.contains(&cap) {
                    hits.push((
                        format!("{}/securityContext/capabilities/add/{i}", c.path),
                        format!("container {} adds capability {cap}", c.name),
                    ));
                }
            }
        }
    }
    for (path, message) in hits {
        pod.fail("capabilities_baseline", path, message);
    }
}

fn host_path_volumes(pod: &mut Pod<'_>) {
    let hits: Vec<(String, String)> = volumes(pod.spec)
        .filter(|(_, v)| v.get("hostPath").is_some_and(|h| !h.is_null()))
        .map(|(i, v)| {
            (
                format!("/spec/volumes/{i}/hostPath"),
                format!(
                    "volume {} mounts a host path",
                    v.get("name").and_then(Value::as_str).unwrap_or("")
                ),
            )
        })
        .collect();
    for (path, message) in hits {
        pod.fail("hostPathVolumes", path, message);
    }
}

fn volumes(spec: &Value) -> impl Iterator<Item = (usize, &Value)> {
    spec.get("volumes")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .enumerate()
}

fn host_ports(pod: &mut Pod<'_>) {
    let mut hits = Vec::new();
    for c in &pod.containers {
        if let Some(ports) = c.value.get("ports").and_then(Value::as_array) {
            for (i, port) in ports.iter().enumerate() {
                let host_port = port.get("hostPort").and_then(Value::as_i64).unwrap_or(0);
                if host_port != 0 {
                    hits.push((
                        format!("{}/ports/{i}/hostPort", c.path),
                        format!("container {} uses host port {host_port}", c.name),
                    ));
                }
            }
        }
    }
    for (path, message) in hits {
        pod.fail("hostPorts", path, message);
    }
}

fn app_armor(pod: &mut Pod<'_>) {
    let mut hits = Vec::new();
    if let Some(annotations) = pod.annotations {
        for (key, value) in annotations {
            if key.starts_with("container.apparmor.security.beta.kubernetes.io/") {
                let value = value.as_str().unwrap_or("");
                if value != "runtime/default" && !value.starts_with("localhost/") {
                    hits.push((
                        format!(
                            "/metadata/annotations/{}",
                            key.replace('~', "~0").replace('/', "~1")
                        ),
                        format!("AppArmor profile {value:?} is not runtime/default or localhost/*"),
                    ));
                }
            }
        }
    }
    let places = pod.places();
    for (path, value) in places {
        if let Some(kind) = str_at(value, "/securityContext/appArmorProfile/type")
            && kind != "RuntimeDefault"
            && kind != "Localhost"
        {
            hits.push((
                format!("{path}/securityContext/appArmorProfile/type"),
                format!("AppArmor profile type {kind} is not RuntimeDefault or Localhost"),
            ));
        }
    }
    for (path, message) in hits {
        pod.fail("appArmorProfile", path, message);
    }
}

fn se_linux_options(pod: &mut Pod<'_>) {
    let places = pod.places();
    let mut hits = Vec::new();
    for (path, value) in places {
        let Some(options) = value.at("/securityContext/seLinuxOptions") else {
            continue;
        };
        if let Some(kind) = options.get("type").and_then(Value::as_str)
            && !SELINUX_TYPES.contains(&kind)
        {
            hits.push((
                format!("{path}/securityContext/seLinuxOptions/type"),
                format!("SELinux type {kind} is not allowed"),
            ));
        }
        for field in ["user", "role"] {
            if options
                .get(field)
                .and_then(Value::as_str)
                .is_some_and(|v| !v.is_empty())
            {
                hits.push((
                    format!("{path}/securityContext/seLinuxOptions/{field}"),
                    format!("SELinux {field} may not be set"),
                ));
            }
        }
    }
    for (path, message) in hits {
        pod.fail("seLinuxOptions", path, message);
    }
}

/// Whether the pod runs in its own user namespace (`hostUsers: false`), which from v1.35
/// allows an unmasked `/proc` at Baseline.
fn user_namespaced(spec: &Value) -> bool {
    spec.get("hostUsers").and_then(Value::as_bool) == Some(false)
}

fn unmasked_proc_mounts(pod: &Pod<'_>) -> Vec<(String, String)> {
    pod.containers
        .iter()
        .filter_map(|c| {
            let mount = str_at(c.value, "/securityContext/procMount")?;
            (mount != "Default").then(|| {
                (
                    format!("{}/securityContext/procMount", c.path),
                    format!("container {} sets procMount {mount}", c.name),
                )
            })
        })
        .collect()
}

fn proc_mount(pod: &mut Pod<'_>) {
    if pod.since(35) && user_namespaced(pod.spec) {
        return;
    }
    for (path, message) in unmasked_proc_mounts(pod) {
        pod.fail("procMount", path, message);
    }
}

fn proc_mount_restricted(pod: &mut Pod<'_>) {
    for (path, message) in unmasked_proc_mounts(pod) {
        pod.fail("procMount_restricted", path, message);
    }
}

fn seccomp_baseline(pod: &mut Pod<'_>) {
    let mut hits = Vec::new();
    if pod.since(19) {
        let places = pod.places();
        for (path, value) in places {
            if str_at(value, "/securityContext/seccompProfile/type") == Some("Unconfined") {
                hits.push((
                    format!("{path}/securityContext/seccompProfile/type"),
                    "seccomp profile Unconfined".to_string(),
                ));
            }
        }
    } else if let Some(annotations) = pod.annotations {
        for (key, value) in annotations {
            let seccomp = key == "seccomp.security.alpha.kubernetes.io/pod"
                || key.starts_with("container.seccomp.security.alpha.kubernetes.io/");
            if seccomp && value.as_str() == Some("unconfined") {
                hits.push((
                    format!(
                        "/metadata/annotations/{}",
                        key.replace('~', "~0").replace('/', "~1")
                    ),
                    "seccomp profile unconfined".to_string(),
                ));
            }
        }
    }
    for (path, message) in hits {
        pod.fail("seccompProfile_baseline", path, message);
    }
}

fn sysctls(pod: &mut Pod<'_>) {
    let version = pod.version;
    let hits: Vec<(String, String)> = pod
        .spec
        .at("/securityContext/sysctls")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .enumerate()
        .filter_map(|(i, s)| {
            let name = s.get("name").and_then(Value::as_str).unwrap_or("");
            (!safe_sysctl(name, version)).then(|| {
                (
                    format!("/spec/securityContext/sysctls/{i}/name"),
                    format!("sysctl {name} is not in the safe set of policy {version}"),
                )
            })
        })
        .collect();
    for (path, message) in hits {
        pod.fail("sysctls", path, message);
    }
}

fn host_probes_and_lifecycle(pod: &mut Pod<'_>) {
    let mut hits = Vec::new();
    for c in &pod.containers {
        let handlers = [
            "livenessProbe",
            "readinessProbe",
            "startupProbe",
            "lifecycle/postStart",
            "lifecycle/preStop",
        ];
        for handler in handlers {
            for action in ["httpGet", "tcpSocket"] {
                let pointer = format!("/{handler}/{action}/host");
                if str_at(c.value, &pointer).is_some_and(|h| !h.is_empty()) {
                    hits.push((
                        format!("{}{pointer}", c.path),
                        format!(
                            "container {} {handler} {action} targets a host other than the pod",
                            c.name
                        ),
                    ));
                }
            }
        }
    }
    for (path, message) in hits {
        pod.fail("hostProbesAndHostLifecycle", path, message);
    }
}

fn restricted_volumes(pod: &mut Pod<'_>) {
    let mut hits = Vec::new();
    for (i, volume) in volumes(pod.spec) {
        let Some(map) = volume.as_object() else {
            continue;
        };
        for (source, value) in map {
            if source == "name" || value.is_null() {
                continue;
            }
            if !RESTRICTED_VOLUMES.contains(&source.as_str()) {
                hits.push((
                    format!("/spec/volumes/{i}/{source}"),
                    format!("volume type {source} is not allowed"),
                ));
            }
        }
    }
    for (path, message) in hits {
        pod.fail("restrictedVolumes", path, message);
    }
}

fn allow_privilege_escalation(pod: &mut Pod<'_>) {
    if pod.since(25) && pod.windows() {
        return;
    }
    let hits: Vec<(String, String)> = pod
        .containers
        .iter()
        .filter(|c| bool_at(c.value, "/securityContext/allowPrivilegeEscalation") != Some(false))
        .map(|c| {
            (
                format!("{}/securityContext/allowPrivilegeEscalation", c.path),
                format!(
                    "container {} does not set allowPrivilegeEscalation: false",
                    c.name
                ),
            )
        })
        .collect();
    for (path, message) in hits {
        pod.fail("allowPrivilegeEscalation", path, message);
    }
}

fn run_as_non_root(pod: &mut Pod<'_>) {
    let pod_setting = bool_at(pod.spec, "/securityContext/runAsNonRoot");
    let mut hits = Vec::new();
    if pod_setting == Some(false) {
        hits.push((
            "/spec/securityContext/runAsNonRoot".to_string(),
            "runAsNonRoot: false".to_string(),
        ));
    }
    for c in &pod.containers {
        match bool_at(c.value, "/securityContext/runAsNonRoot") {
            Some(false) => hits.push((
                format!("{}/securityContext/runAsNonRoot", c.path),
                format!("container {} sets runAsNonRoot: false", c.name),
            )),
            None if pod_setting != Some(true) => hits.push((
                format!("{}/securityContext/runAsNonRoot", c.path),
                format!(
                    "container {} does not set runAsNonRoot: true (nor does the pod)",
                    c.name
                ),
            )),
            _ => {}
        }
    }
    for (path, message) in hits {
        pod.fail("runAsNonRoot", path, message);
    }
}

fn run_as_user(pod: &mut Pod<'_>) {
    let places = pod.places();
    let hits: Vec<String> = places
        .into_iter()
        .filter(|(_, v)| v.at("/securityContext/runAsUser").and_then(Value::as_i64) == Some(0))
        .map(|(path, _)| format!("{path}/securityContext/runAsUser"))
        .collect();
    for path in hits {
        pod.fail("runAsUser", path, "runAsUser: 0 runs as root".into());
    }
}

fn seccomp_restricted(pod: &mut Pod<'_>) {
    if pod.since(25) && pod.windows() {
        return;
    }
    let allowed = |t: Option<&str>| matches!(t, Some("RuntimeDefault" | "Localhost"));
    let pod_type = str_at(pod.spec, "/securityContext/seccompProfile/type");
    let mut hits = Vec::new();
    if pod_type.is_some() && !allowed(pod_type) {
        hits.push((
            "/spec/securityContext/seccompProfile/type".to_string(),
            format!(
                "seccomp profile {} is not RuntimeDefault or Localhost",
                pod_type.unwrap_or("")
            ),
        ));
    }
    for c in &pod.containers {
        let own = str_at(c.value, "/securityContext/seccompProfile/type");
        match own {
            Some(_) if !allowed(own) => hits.push((
                format!("{}/securityContext/seccompProfile/type", c.path),
                format!(
                    "container {} seccomp profile {} is not RuntimeDefault or Localhost",
                    c.name,
                    own.unwrap_or("")
                ),
            )),
            None if pod_type.is_none() => hits.push((
                format!("{}/securityContext/seccompProfile", c.path),
                format!(
                    "container {} has no seccomp profile (nor does the pod)",
                    c.name
                ),
            )),
            _ => {}
        }
    }
    for (path, message) in hits {
        pod.fail("seccompProfile_restricted", path, message);
    }
}

fn capabilities_restricted(pod: &mut Pod<'_>) {
    if pod.since(25) && pod.windows() {
        return;
    }
    let mut hits = Vec::new();
    for c in &pod.containers {
        let list = |field: &str| -> Vec<&str> {
            c.value
                .at(&format!("/securityContext/capabilities/{field}"))
                .and_then(Value::as_array)
                .map(|a| a.iter().filter_map(Value::as_str).collect())
                .unwrap_or_default()
        };
        if !list("drop").contains(&"ALL") {
            hits.push((
                format!("{}/securityContext/capabilities/drop", c.path),
                format!("container {} does not drop ALL capabilities", c.name),
            ));
        }
        for (i, cap) in list("add").into_iter().enumerate() {
            if cap != super::RESTRICTED_ADDABLE_CAPABILITY {
                hits.push((
                    format!("{}/securityContext/capabilities/add/{i}", c.path),
                    format!("container {} adds capability {cap}", c.name),
                ));
            }
        }
    }
    for (path, message) in hits {
        pod.fail("capabilities_restricted", path, message);
    }
}

/// Violations grouped by the field they are on, in order: checks that fail on one field (the
/// Baseline and Restricted seccomp checks on an `Unconfined` profile) are one finding citing
/// every control, so fingerprints stay unique per field.
pub fn by_field(violations: impl IntoIterator<Item = Violation>) -> Vec<(String, Vec<Violation>)> {
    let mut out: Vec<(String, Vec<Violation>)> = Vec::new();
    for violation in violations {
        match out.iter_mut().find(|(path, _)| *path == violation.path) {
            Some((_, list)) => list.push(violation),
            None => out.push((violation.path.clone(), vec![violation])),
        }
    }
    out
}

/// The strictest level a pod satisfies at `version`, and the controls it fails at Restricted.
pub fn level_of(
    metadata: Option<&Value>,
    spec: &Value,
    version: PolicyVersion,
) -> (Level, Vec<Violation>) {
    let violations = evaluate(metadata, spec, Level::Restricted, version);
    let level = if violations
        .iter()
        .any(|v| v.control.starts_with("baseline/"))
    {
        Level::Privileged
    } else if violations.is_empty() {
        Level::Restricted
    } else {
        Level::Baseline
    };
    (level, violations)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn controls(spec: Value, level: Level, minor: u32) -> Vec<&'static str> {
        let mut c: Vec<_> = evaluate(None, &spec, level, PolicyVersion::v1(minor))
            .into_iter()
            .map(|v| v.control)
            .collect();
        c.dedup();
        c
    }

    #[test]
    fn every_violation_cites_the_control_of_its_check() {
        let spec = json!({"hostNetwork": true, "hostPID": true,
            "securityContext": {"seccompProfile": {"type": "Unconfined"}, "sysctls": [{"name": "kernel.msgmax"}]},
            "volumes": [{"name": "h", "hostPath": {"path": "/"}}],
            "containers": [{"name": "a", "securityContext": {"privileged": true, "procMount": "Unmasked",
                "runAsUser": 0, "capabilities": {"add": ["SYS_ADMIN"]},
                "seLinuxOptions": {"type": "spc_t"}, "windowsOptions": {"hostProcess": true}},
                "ports": [{"hostPort": 80}], "livenessProbe": {"httpGet": {"host": "x"}}}]});
        let violations = evaluate(None, &spec, Level::Restricted, PolicyVersion::LATEST);
        assert!(violations.len() > 10);
        for v in violations {
            assert_eq!(check(v.check), Some((v.check, v.control)), "{v:?}");
        }
    }

    #[test]
    fn versions_parse_as_labels_write_them() {
        assert_eq!(PolicyVersion::parse("v1.30"), Some(PolicyVersion::v1(30)));
        assert_eq!(PolicyVersion::parse("1.8"), Some(PolicyVersion::v1(8)));
        assert_eq!(PolicyVersion::parse("latest"), Some(PolicyVersion::LATEST));
        assert_eq!(PolicyVersion::parse("v1.99"), Some(PolicyVersion::LATEST));
        assert_eq!(PolicyVersion::parse("v2.0"), None);
        assert_eq!(PolicyVersion::parse("soon"), None);
    }

    #[test]
    fn unconfined_seccomp_fails_both_levels_controls() {
        let spec = json!({"securityContext": {"seccompProfile": {"type": "Unconfined"}},
            "containers": [{"name": "a"}]});
        let c = controls(spec, Level::Restricted, 37);
        assert!(
            c.contains(&"baseline/seccomp") && c.contains(&"restricted/seccomp"),
            "{c:?}"
        );
    }

    #[test]
    fn sysctls_follow_the_version() {
        let spec = json!({"securityContext": {"sysctls": [{"name": "net.ipv4.tcp_rmem", "value": "4096 87380 6291456"}]},
            "containers": [{"name": "a"}]});
        assert_eq!(
            controls(spec.clone(), Level::Baseline, 31),
            ["baseline/sysctls"]
        );
        assert!(controls(spec, Level::Baseline, 32).is_empty());
    }

    #[test]
    fn a_missing_run_as_user_is_not_the_non_root_user_control() {
        let spec = json!({"containers": [{"name": "a"}]});
        let c = controls(spec, Level::Restricted, 37);
        assert!(c.contains(&"restricted/running-as-non-root"), "{c:?}");
        assert!(!c.contains(&"restricted/running-as-non-root-user"), "{c:?}");
    }

    #[test]
    fn user_namespaces_allow_an_unmasked_proc_at_baseline_from_v1_35() {
        let spec = json!({"hostUsers": false, "containers": [{"name": "a", "securityContext": {"procMount": "Unmasked"}}]});
        assert_eq!(
            controls(spec.clone(), Level::Baseline, 34),
            ["baseline/proc-mount-type"]
        );
        assert!(controls(spec.clone(), Level::Baseline, 35).is_empty());
        assert!(controls(spec, Level::Restricted, 35).contains(&"restricted/proc-mount-type"));
    }
}
