//! Pod specs that own their node, one for each way [`crate::security::node_takeover`] knows,
//! each made from one restricted pod spec with only what that way needs. An admission
//! control stops "create pods → the node" only when it refuses every one of them while it lets
//! the restricted one in: asking a cluster's admission policies about these specs says which
//! ways they leave open (the escalation graph's brakes).

use serde_json::{Value, json};

/// The image every probe runs: one no exemption names.
pub const PROBE_IMAGE: &str = "registry.invalid/palisade/probe:1";

/// The container every probe runs, by name.
pub const PROBE_CONTAINER: &str = "probe";

/// One way to own the node: what it does (after "a pod that"), and the pod spec doing only
/// that.
#[derive(Debug, Clone)]
pub struct TakeoverProbe {
    pub way: String,
    pub spec: Value,
}

/// A pod spec that passes Pod Security `restricted` and what hardening policies commonly ask
/// for besides (a read-only root file system, resources, probes): the probes start from it,
/// so that a policy refusing a probe for something else refuses this one too.
pub fn restricted_pod_spec() -> Value {
    json!({
        "automountServiceAccountToken": false,
        "securityContext": {
            "runAsNonRoot": true,
            "runAsUser": 65532,
            "runAsGroup": 65532,
            "fsGroup": 65532,
            "seccompProfile": {"type": "RuntimeDefault"},
        },
        "containers": [{
            "name": PROBE_CONTAINER,
            "image": PROBE_IMAGE,
            "imagePullPolicy": "Always",
            "securityContext": {
                "allowPrivilegeEscalation": false,
                "readOnlyRootFilesystem": true,
                "runAsNonRoot": true,
                "runAsUser": 65532,
                "capabilities": {"drop": ["ALL"]},
                "seccompProfile": {"type": "RuntimeDefault"},
            },
            "resources": {
                "requests": {"cpu": "10m", "memory": "16Mi"},
                "limits": {"cpu": "100m", "memory": "64Mi"},
            },
            "livenessProbe": {"exec": {"command": ["true"]}},
            "readinessProbe": {"exec": {"command": ["true"]}},
        }],
    })
}

/// Every way to own the node, each as a probe (see the module's documentation).
pub fn takeover_probes() -> Vec<TakeoverProbe> {
    let mut probes = vec![probe("runs a privileged container", |_, container| {
        // The API server refuses `privileged` with `allowPrivilegeEscalation: false`.
        let context = container_context(container);
        context.remove("allowPrivilegeEscalation");
        context.insert("privileged".into(), true.into());
    })];
    // Each capability as Kubernetes writes it and with the `CAP_` prefix, which runtimes
    // accept too (a policy that forbids `SYS_ADMIN` by name may miss `CAP_SYS_ADMIN`).
    let ways: [(&str, &str, Option<&str>); 5] = [
        ("SYS_ADMIN", "", None),
        ("SYS_MODULE", " (it loads kernel modules)", None),
        ("SYS_PTRACE", "", Some("hostPID")),
        ("NET_ADMIN", "", Some("hostNetwork")),
        ("NET_RAW", "", Some("hostNetwork")),
    ];
    for (capability, why, shared) in ways {
        for spelled in [capability.to_string(), format!("CAP_{capability}")] {
            let way = match shared {
                Some("hostPID") => {
                    format!("shares the node's process namespace and adds {spelled}")
                }
                Some(_) => format!("shares the node's network and adds {spelled}"),
                None => format!("adds {spelled} to a container{why}"),
            };
            probes.push(probe(&way, |spec, container| {
                if let Some(flag) = shared {
                    spec.insert(flag.into(), true.into());
                }
                // The API server refuses `allowPrivilegeEscalation: false` with the
                // capability only when it is spelled `CAP_SYS_ADMIN`: spelled `SYS_ADMIN` it
                // is let in, and `no_new_privs` is no boundary for a process that holds it, so
                // a policy requiring `allowPrivilegeEscalation: false` does not refuse that.
                if spelled == "CAP_SYS_ADMIN" {
                    container_context(container).remove("allowPrivilegeEscalation");
                }
                add_capability(container, &spelled);
            }));
        }
    }
    // Each path also with a doubled slash, which the kernel reads as the path and the API
    // server lets in (it refuses only `..`): a policy that compares text may miss it.
    for path in palisade_core::host_path::node_takeover_paths() {
        probes.push(host_path_probe(path, true));
        probes.push(host_path_probe(&format!("/{path}"), true));
    }
    probes.push(host_path_probe("/var/log", false));
    probes.push(host_path_probe("//var/log", false));
    // Each way again in an init container beside the restricted one: a policy that reads
    // only `containers` lets it in.
    let in_init: Vec<TakeoverProbe> = probes.iter().map(in_init_container).collect();
    probes.extend(in_init);
    probes
}

/// `probe` with its container moved to `initContainers`, the restricted container in its
/// place.
fn in_init_container(probe: &TakeoverProbe) -> TakeoverProbe {
    let mut spec = probe.spec.clone();
    let mut init = spec["containers"][0].take();
    init["name"] = Value::String(format!("{PROBE_CONTAINER}-init"));
    // The API server refuses probes on an init container (but a sidecar's).
    if let Some(init) = init.as_object_mut() {
        init.remove("livenessProbe");
        init.remove("readinessProbe");
    }
    spec["containers"][0] = restricted_pod_spec()["containers"][0].take();
    spec["initContainers"] = json!([init]);
    TakeoverProbe {
        way: format!("{} (in an init container)", probe.way),
        spec,
    }
}

/// The restricted spec changed by `change` (given the spec and its one container).
fn probe(
    way: &str,
    change: impl FnOnce(&mut serde_json::Map<String, Value>, &mut Value),
) -> TakeoverProbe {
    let mut spec = restricted_pod_spec();
    let mut container = spec["containers"][0].take();
    if let Some(map) = spec.as_object_mut() {
        change(map, &mut container);
    }
    spec["containers"][0] = container;
    TakeoverProbe {
        way: way.to_string(),
        spec,
    }
}

/// Root mounting `path` of the node: read-only when that is enough (`read_only`), else
/// writable.
fn host_path_probe(path: &str, read_only: bool) -> TakeoverProbe {
    let how = if read_only { "mounts" } else { "writes" };
    probe(
        &format!("runs as root and {how} hostPath {path}"),
        |spec, container| {
            for context in [
                spec.get_mut("securityContext")
                    .and_then(Value::as_object_mut),
                container
                    .get_mut("securityContext")
                    .and_then(Value::as_object_mut),
            ]
            .into_iter()
            .flatten()
            {
                context.insert("runAsNonRoot".into(), false.into());
                context.insert("runAsUser".into(), 0.into());
                context.insert("runAsGroup".into(), 0.into());
            }
            spec.insert(
                "volumes".into(),
                json!([{"name": "node", "hostPath": {"path": path}}]),
            );
            container["volumeMounts"] =
                json!([{"name": "node", "mountPath": "/node", "readOnly": read_only}]);
        },
    )
}

fn container_context(container: &mut Value) -> &mut serde_json::Map<String, Value> {
    if !container["securityContext"].is_object() {
        container["securityContext"] = json!({});
    }
    container["securityContext"]
        .as_object_mut()
        .unwrap_or_else(|| unreachable!("made an object above"))
}

/// Adds `capability` after the spec's `drop: [ALL]` (an added capability is kept).
fn add_capability(container: &mut Value, capability: &str) {
    let context = container_context(container);
    let capabilities = context
        .entry("capabilities")
        .or_insert_with(|| json!({"drop": ["ALL"]}));
    capabilities["add"] = json!([capability]);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::security::node_takeover;

    fn takeover(spec: &Value) -> Option<String> {
        let containers: Vec<(&Value, String)> = ["containers", "initContainers"]
            .iter()
            .filter_map(|field| spec[field].as_array())
            .flatten()
            .map(|c| {
                (
                    c,
                    format!("container {:?}", c["name"].as_str().unwrap_or("")),
                )
            })
            .collect();
        node_takeover(spec, containers.into_iter())
    }

    /// The one answer says each probe owns its node and the restricted spec does not, so the
    /// probes cannot drift from what the graph counts as owning a node.
    #[test]
    fn each_probe_owns_its_node_and_the_restricted_spec_does_not() {
        assert_eq!(takeover(&restricted_pod_spec()), None);
        let probes = takeover_probes();
        assert!(probes.len() > 10, "{}", probes.len());
        for probe in &probes {
            assert!(
                takeover(&probe.spec).is_some(),
                "{}: {}",
                probe.way,
                probe.spec
            );
        }
        let ways: std::collections::HashSet<&str> = probes.iter().map(|p| p.way.as_str()).collect();
        assert_eq!(ways.len(), probes.len(), "each way once");
        assert!(ways.contains("runs as root and mounts hostPath /"));
        assert!(ways.contains("runs as root and writes hostPath /var/log"));
        assert!(ways.contains("runs as root and mounts hostPath //etc"));
        assert!(ways.contains("runs a privileged container (in an init container)"));
    }

    /// A probe changes only what its way needs: the privileged one keeps the restricted
    /// spec's other settings.
    #[test]
    fn a_probe_is_the_restricted_spec_but_for_its_way() {
        let privileged = &takeover_probes()[0];
        let context = &privileged.spec["containers"][0]["securityContext"];
        assert_eq!(context["privileged"], true);
        assert_eq!(context["allowPrivilegeEscalation"], Value::Null);
        assert_eq!(context["runAsNonRoot"], true);
        assert_eq!(context["readOnlyRootFilesystem"], true);
        assert_eq!(privileged.spec["hostPID"], Value::Null);
        let probes = takeover_probes();
        let context = |way: &str| {
            let probe = probes.iter().find(|p| p.way == way).unwrap();
            probe.spec["containers"][0]["securityContext"].clone()
        };
        let sys_admin = context("adds SYS_ADMIN to a container");
        assert_eq!(sys_admin["capabilities"]["add"][0], "SYS_ADMIN");
        assert_eq!(sys_admin["allowPrivilegeEscalation"], false);
        let prefixed = context("adds CAP_SYS_ADMIN to a container");
        assert_eq!(prefixed["capabilities"]["add"][0], "CAP_SYS_ADMIN");
        assert_eq!(prefixed["allowPrivilegeEscalation"], Value::Null);
        assert_eq!(
            context("shares the node's network and adds CAP_NET_RAW")["capabilities"]["add"][0],
            "CAP_NET_RAW"
        );
    }
}
