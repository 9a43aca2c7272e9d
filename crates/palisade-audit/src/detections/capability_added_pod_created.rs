use palisade_core::tree::Tree;
use palisade_k8s::security::{
    BASELINE_CAPABILITIES, added_capability_risk, capability_name, is_privileged,
};

use super::pod_create::{POD_CREATE, created, spec, trusted, with_images};
use crate::detection::{Cx, Hit, containers, describe_container};

crate::detection! {
    /// ## What it checks
    /// A pod created with a container (init, regular or ephemeral) that adds a Linux
    /// capability outside the Pod Security Baseline set (`AUDIT_WRITE`, `CHOWN`,
    /// `DAC_OVERRIDE`, `FOWNER`, `FSETID`, `KILL`, `MKNOD`, `NET_BIND_SERVICE`, `SETFCAP`,
    /// `SETGID`, `SETPCAP`, `SETUID`, `SYS_CHROOT`), or `ALL`. Names are read as the runtime
    /// reads them (`cap_sys_admin` is `SYS_ADMIN`). A privileged container is AUD004's, not
    /// this one's. Images in `trusted_images.capabilities` (by default those trusted to run
    /// privileged or on the node's network) are not reported. The severity is the most
    /// dangerous capability's: high for those one step from the node (`ALL`, `SYS_ADMIN`,
    /// `SYS_PTRACE`, `SYS_MODULE`, `DAC_READ_SEARCH`, `BPF`, `PERFMON`, `SYS_RAWIO`), medium for
    /// `NET_ADMIN`, `NET_RAW` and others, low for resource limits (`IPC_LOCK`, `SYS_NICE`,
    /// `SYS_RESOURCE`, ...), as the manifest rule POD007 grades them.
    ///
    /// ## Why it matters
    /// These capabilities hand pieces of root on the node to the container without the word
    /// `privileged` appearing anywhere: mounting file systems, reading other processes'
    /// memory, loading kernel modules or eBPF programs. Most published container escapes need
    /// one of them.
    ///
    /// ## Response
    /// Find who created the pod and why it needs the capability; enforce Pod Security
    /// `baseline` on the namespace so the API server refuses it.
    ///
    /// ## Sigma equivalent
    /// `Privileged Container Deployed` (any pod with a capabilities field).
    pub static CAPABILITY_ADDED_POD_CREATED {
        id: "AUD041",
        slug: "capability-added-pod-created",
        title: "Pod adding a capability beyond the baseline set created",
        severity: High,
        mitre: ["T1610", "T1611"],
        remediation: "Remove the added capability or enforce Pod Security baseline on the namespace; trust the image in [audit] trusted_images.capabilities only if it needs it.",
        triggers: [POD_CREATE],
        check: crate::detection::Check::Request(check),
    }
}

fn check(cx: &Cx) -> Vec<Hit> {
    let Some(spec) = spec(cx) else {
        return Vec::new();
    };
    // Each capability added beyond the baseline: (container, name, what it gives, severity).
    let mut added = Vec::new();
    for (kind, container) in containers(spec).filter(|(_, c)| !is_privileged(*c)) {
        let list = container.at("/securityContext/capabilities/add");
        for raw in list.and_then(Tree::items).into_iter().flatten() {
            let Some(raw) = raw.as_str() else { continue };
            let name = capability_name(raw);
            if BASELINE_CAPABILITIES.contains(&name.as_str()) {
                continue;
            }
            let (detail, severity) = added_capability_risk(raw);
            added.push((describe_container(kind, container), name, detail, severity));
        }
    }
    // The message names the first of the most dangerous.
    let Some((what, name, detail, severity)) = added.iter().rev().max_by_key(|a| a.3) else {
        return Vec::new();
    };
    if trusted(spec, &cx.settings.trusted_images.capabilities) {
        return Vec::new();
    }
    let all: Vec<String> = added.iter().map(|(w, n, ..)| format!("{w}: {n}")).collect();
    let hit = Hit::new(created(cx, &format!("with {what} adding {name}: {detail}")))
        .with("capabilities", all.join(", "))
        .severity(*severity);
    vec![with_images(hit, spec)]
}
