//! What a container's security settings amount to, answered once for the rules and the
//! attack-path graph: the effective security context (the container's field, else the pod's),
//! capability names as the runtime reads them, and whether a compromised container owns its
//! node.

use std::collections::HashMap;

use palisade_core::Severity;
use palisade_core::host_path::node_takeover_path;
use palisade_core::tree::Tree;
use serde_json::Value;

use crate::storage::ClaimedDirectory;

/// A capability as the runtime applies it: upper case, without the `CAP_` prefix
/// (`cap_sys_admin` and `CAP_SYS_ADMIN` are both `SYS_ADMIN`).
pub fn capability_name(raw: &str) -> String {
    let upper = raw.to_ascii_uppercase();
    match upper.strip_prefix("CAP_") {
        Some(rest) => rest.to_string(),
        None => upper,
    }
}

/// Capabilities the Pod Security Baseline profile allows in `capabilities.add` (compared as
/// written, as the admission plugin compares them).
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

/// What adding a capability outside [`BASELINE_CAPABILITIES`] hands a container, and how
/// serious that is: high for those one step from the node, medium for the network's and
/// for capabilities not named here, low for resource and scheduling limits.
pub fn added_capability_risk(raw: &str) -> (&'static str, Severity) {
    match capability_name(raw).as_str() {
        "ALL" => (
            "every capability, which is root on the node",
            Severity::High,
        ),
        "SYS_ADMIN" => (
            "mount, namespaces and most of root's powers",
            Severity::High,
        ),
        "SYS_PTRACE" => ("reading and injecting into other processes", Severity::High),
        "SYS_MODULE" => ("loading kernel modules", Severity::High),
        "NET_ADMIN" => ("reconfiguring the network stack", Severity::Medium),
        "NET_RAW" => ("raw sockets for spoofing and sniffing", Severity::Medium),
        "DAC_READ_SEARCH" => (
            "reading any file by handle (the `shocker` escape)",
            Severity::High,
        ),
        "BPF" | "PERFMON" => ("loading eBPF programs into the kernel", Severity::High),
        "SYS_RAWIO" => ("raw I/O to devices and kernel memory", Severity::High),
        // Resource and scheduling limits: no escape by themselves.
        "IPC_LOCK" | "SYS_NICE" | "SYS_RESOURCE" | "WAKE_ALARM" | "BLOCK_SUSPEND" | "LEASE" => (
            "a capability outside the Pod Security baseline set (resource limits, no escape by itself)",
            Severity::Low,
        ),
        _ => (
            "a capability outside the Pod Security baseline set",
            Severity::Medium,
        ),
    }
}

/// A security-context field as the kubelet applies it: the container's value when set,
/// otherwise the pod's.
pub fn effective<'v>(container: &'v Value, pod_spec: &'v Value, field: &str) -> Option<&'v Value> {
    container
        .get("securityContext")
        .and_then(|c| c.get(field))
        .or_else(|| pod_spec.get("securityContext").and_then(|c| c.get(field)))
}

/// `privileged: true` (a container-only field).
pub fn is_privileged(container: &impl Tree) -> bool {
    container
        .at("/securityContext/privileged")
        .and_then(Tree::as_bool)
        == Some(true)
}

/// Whether the container adds `capability` (by [`capability_name`]), or `ALL`.
pub fn adds_capability(container: &impl Tree, capability: &str) -> bool {
    container
        .at("/securityContext/capabilities/add")
        .and_then(Tree::items)
        .into_iter()
        .flatten()
        .filter_map(Tree::as_str)
        .map(capability_name)
        .any(|c| c == capability || c == "ALL")
}

/// Whether the container may run as root: `runAsUser: 0`, or no user and no
/// `runAsNonRoot: true` (the image may run as root).
pub fn may_run_as_root(container: &Value, pod_spec: &Value) -> bool {
    match effective(container, pod_spec, "runAsUser").and_then(Value::as_i64) {
        Some(user) => user == 0,
        None => {
            effective(container, pod_spec, "runAsNonRoot").and_then(Value::as_bool) != Some(true)
        }
    }
}

/// The pod spec's volumes (none when `volumes` is absent or not a list).
pub fn volumes<T: Tree>(pod_spec: &T) -> impl Iterator<Item = &T> {
    pod_spec
        .get("volumes")
        .and_then(Tree::items)
        .into_iter()
        .flatten()
}

/// The pod spec's hostPath volumes: `(volume name when set, path)`.
pub fn host_path_volumes<T: Tree>(pod_spec: &T) -> impl Iterator<Item = (Option<&str>, &str)> {
    volumes(pod_spec).filter_map(|v| {
        let path = v.at("/hostPath/path").and_then(Tree::as_str)?;
        Some((v.get("name").and_then(Tree::as_str), path))
    })
}

/// Whether some container of the pod spec (init, app or ephemeral) mounts the volume named
/// `volume` without `readOnly: true`; `None` when no container mounts it.
pub fn volume_mounted_writable<T: Tree>(pod_spec: &T, volume: &str) -> Option<bool> {
    ["initContainers", "containers", "ephemeralContainers"]
        .into_iter()
        .filter_map(|field| pod_spec.get(field).and_then(Tree::items))
        .flatten()
        .filter_map(|container| container.get("volumeMounts").and_then(Tree::items))
        .flatten()
        .filter(|mount| mount.get("name").and_then(Tree::as_str) == Some(volume))
        .map(|mount| mount.get("readOnly").and_then(Tree::as_bool) != Some(true))
        .reduce(|a, b| a || b)
}

/// A hostPath of this pod spec that holds the cluster's control-plane credentials
/// (`/etc/kubernetes/...`: the cluster CA key, admin kubeconfigs; or etcd's data under
/// `/var/lib/etcd`), as kube-apiserver, kube-controller-manager and etcd mount them.
pub fn control_plane_path(pod_spec: &Value) -> Option<&str> {
    host_path_volumes(pod_spec)
        .map(|(_, path)| path)
        .find(|path| {
            let path = path.trim_end_matches('/');
            ["/etc/kubernetes", "/var/lib/etcd"].iter().any(|dir| {
                path == *dir || path.strip_prefix(dir).is_some_and(|r| r.starts_with('/'))
            })
        })
}

/// Why a compromised container of this pod spec is root on its node, if it is: a privileged
/// container, one that adds SYS_ADMIN, or one that may run as root and mounts a host path
/// that gives the node away (its root, credentials or the runtime socket). `containers` are
/// the pod's containers with their descriptions (`container "web"`). Claims are not followed
/// (see [`node_takeover_with_claims`]).
pub fn node_takeover<'v>(
    pod_spec: &'v Value,
    containers: impl Iterator<Item = (&'v Value, String)> + Clone,
) -> Option<String> {
    node_takeover_with_claims(pod_spec, containers, &|_| None)
}

/// [`node_takeover`], with the pod's PersistentVolumeClaims followed to their volumes:
/// `claimed` gives the directory of the node a claim of the pod's namespace is bound to (a
/// `hostPath` or `local` PersistentVolume), which a container mounts as it would the path
/// itself. Pod Security never sees through a claim, so this is the way around it.
pub fn node_takeover_with_claims<'v>(
    pod_spec: &'v Value,
    containers: impl Iterator<Item = (&'v Value, String)> + Clone,
    claimed: &dyn Fn(&str) -> Option<ClaimedDirectory>,
) -> Option<String> {
    for (container, description) in containers.clone() {
        if is_privileged(container) {
            return Some(format!("{description} runs privileged"));
        }
        if adds_capability(container, "SYS_ADMIN") {
            return Some(format!("{description} adds SYS_ADMIN"));
        }
        if adds_capability(container, "SYS_MODULE") {
            return Some(format!(
                "{description} adds SYS_MODULE: it loads modules into the node's kernel"
            ));
        }
        if adds_capability(container, "SYS_PTRACE") && host_flag(pod_spec, "hostPID") {
            return Some(format!(
                "{description} adds SYS_PTRACE and shares the node's process namespace: it injects code into the node's processes"
            ));
        }
        if host_flag(pod_spec, "hostNetwork")
            && let Some(cap) = ["NET_ADMIN", "NET_RAW"]
                .into_iter()
                .find(|cap| adds_capability(container, cap))
        {
            return Some(format!(
                "{description} adds {cap} on the node's network: it intercepts the node's traffic (the kubelet's and other pods' credentials)"
            ));
        }
    }
    // Each volume on a directory of the node: (path, how it is named in the reason).
    let mut host_paths: HashMap<&str, (String, String)> = host_path_volumes(pod_spec)
        .filter_map(|(name, path)| Some((name?, (path.to_string(), format!("hostPath {path}")))))
        .collect();
    for volume in crate::storage::claim_volumes(pod_spec) {
        let claim = volume.claim;
        if let (Some(name), Some(directory)) = (volume.name, claimed(claim)) {
            let how = format!(
                "claim {claim}, bound to PersistentVolume {} on {} {}",
                directory.volume, directory.source, directory.path
            );
            host_paths.insert(name, (directory.path, how));
        }
    }
    if host_paths.is_empty() {
        return None;
    }
    containers
        .filter(|(container, _)| may_run_as_root(container, pod_spec))
        .find_map(|(container, description)| {
            container
                .get("volumeMounts")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .find_map(|mount| {
                    let (path, how) = host_paths.get(mount.get("name")?.as_str()?)?;
                    if let Some(what) = node_takeover_path(path) {
                        return Some(format!(
                            "{description} may run as root and mounts {how} ({what})"
                        ));
                    }
                    let writable = mount.get("readOnly").and_then(Value::as_bool) != Some(true);
                    let var_log = palisade_core::host_path::normalize(path)
                        .is_some_and(|p| p == "/var/log" || p.starts_with("/var/log/"));
                    (writable && var_log).then(|| {
                        format!(
                            "{description} may run as root and writes {how}: the kubelet follows symbolic links there when it serves logs, so any file of the node can be read"
                        )
                    })
                })
        })
}

/// Whether the pod spec sets `flag` (`hostNetwork`, `hostPID`, `hostIPC`) to true.
pub fn host_flag(pod_spec: &Value, flag: &str) -> bool {
    pod_spec.get(flag).and_then(Value::as_bool) == Some(true)
}

/// The service account a pod spec runs as: `serviceAccountName`, else the deprecated
/// `serviceAccount` (the API server copies one into the other), else `default`.
pub fn service_account(pod_spec: &Value) -> &str {
    ["serviceAccountName", "serviceAccount"]
        .into_iter()
        .filter_map(|field| pod_spec.get(field).and_then(Value::as_str))
        .find(|name| !name.is_empty())
        .unwrap_or("default")
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn the_service_account_is_the_name_else_the_deprecated_field_else_default() {
        let account = |spec: Value| service_account(&spec).to_string();
        assert_eq!(
            account(json!({"serviceAccountName": "a", "serviceAccount": "b"})),
            "a"
        );
        assert_eq!(
            account(json!({"serviceAccountName": "", "serviceAccount": "b"})),
            "b"
        );
        assert_eq!(account(json!({"serviceAccount": "b"})), "b");
        assert_eq!(account(json!({"serviceAccountName": ""})), "default");
        assert_eq!(account(json!({})), "default");
    }

    fn takeover(spec: Value) -> Option<String> {
        let containers: Vec<(&Value, String)> = spec["containers"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| (c, format!("container \"{}\"", c["name"].as_str().unwrap())))
            .collect();
        node_takeover(&spec, containers.into_iter())
    }

    #[test]
    fn container_escapes_lead_to_the_node_with_their_technique() {
        let with = |extra: Value, container: Value| {
            let mut spec = json!({"containers": [container]});
            for (k, v) in extra.as_object().unwrap() {
                spec[k] = v.clone();
            }
            takeover(spec)
        };
        let caps =
            |add: &[&str]| json!({"name": "c", "securityContext": {"capabilities": {"add": add}}});
        assert!(
            with(json!({}), caps(&["SYS_MODULE"]))
                .unwrap()
                .contains("kernel")
        );
        assert!(
            with(json!({}), caps(&["SYS_PTRACE"])).is_none(),
            "needs hostPID"
        );
        assert!(
            with(json!({"hostPID": true}), caps(&["SYS_PTRACE"]))
                .unwrap()
                .contains("injects")
        );
        assert!(
            with(json!({}), caps(&["NET_ADMIN"])).is_none(),
            "needs hostNetwork"
        );
        assert!(
            with(json!({"hostNetwork": true}), caps(&["NET_RAW"]))
                .unwrap()
                .contains("intercepts")
        );
        let logs = |read_only: bool| {
            with(
                json!({"volumes": [{"name": "logs", "hostPath": {"path": "/var/log"}}]}),
                json!({"name": "c", "volumeMounts": [{"name": "logs", "mountPath": "/logs", "readOnly": read_only}]}),
            )
        };
        assert!(logs(false).unwrap().contains("symbolic links"));
        assert!(logs(true).is_none(), "reading the logs is no escape");
    }

    #[test]
    fn capability_names_are_read_as_the_runtime_reads_them() {
        assert_eq!(capability_name("cap_sys_admin"), "SYS_ADMIN");
        assert_eq!(capability_name("NET_RAW"), "NET_RAW");
        assert!(adds_capability(
            &json!({"securityContext": {"capabilities": {"add": ["cap_sys_admin"]}}}),
            "SYS_ADMIN"
        ));
    }

    #[test]
    fn a_container_owns_its_node_by_privilege_capability_or_host_mount() {
        assert_eq!(
            takeover(
                json!({"containers": [{"name": "c", "securityContext": {"privileged": true}}]})
            )
            .as_deref(),
            Some("container \"c\" runs privileged")
        );
        let mount = json!({
            "volumes": [{"name": "sock", "hostPath": {"path": "/var/run/docker.sock"}}],
            "containers": [{"name": "c", "volumeMounts": [{"name": "sock", "mountPath": "/s"}]}]
        });
        assert!(
            takeover(mount.clone())
                .unwrap()
                .contains("mounts hostPath /var/run/docker.sock")
        );
        let mut non_root = mount;
        non_root["securityContext"] = json!({"runAsNonRoot": true});
        assert_eq!(takeover(non_root), None);
        assert_eq!(takeover(json!({"containers": [{"name": "c"}]})), None);
    }
}
