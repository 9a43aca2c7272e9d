//! What mounting a path of the node into a container gives away.

/// Host paths that are sensitive to mount, what each gives, and whether it hands over the node
/// (root on the node, or every pod's secrets and tokens on it, even read-only).
const SENSITIVE_PATHS: &[(&str, &str, bool)] = &[
    ("/", "the node's whole file system", true),
    (
        "/etc",
        "the node's configuration, including users and kubelet credentials",
        true,
    ),
    ("/root", "root's home directory and its keys", true),
    ("/home", "users' home directories and their keys", false),
    (
        "/var/run/docker.sock",
        "the Docker daemon, which starts privileged containers on request",
        true,
    ),
    (
        "/run/docker.sock",
        "the Docker daemon, which starts privileged containers on request",
        true,
    ),
    (
        "/var/run/containerd/containerd.sock",
        "containerd, which starts any container on request",
        true,
    ),
    (
        "/run/containerd/containerd.sock",
        "containerd, which starts any container on request",
        true,
    ),
    (
        "/var/run/crio/crio.sock",
        "CRI-O, which starts any container on request",
        true,
    ),
    (
        "/run/crio/crio.sock",
        "CRI-O, which starts any container on request",
        true,
    ),
    (
        "/var/run/cri-dockerd.sock",
        "cri-dockerd, which starts any container on request",
        true,
    ),
    ("/var/run", "the runtime sockets under /var/run", true),
    ("/run", "the runtime sockets under /run", true),
    (
        "/var/lib/kubelet",
        "the kubelet's state, including every pod's secrets and tokens",
        true,
    ),
    ("/var/lib/docker", "every container's file system", true),
    ("/var/lib/containerd", "every container's file system", true),
    (
        "/etc/kubernetes",
        "the node's kubeconfigs and certificates",
        true,
    ),
    ("/proc", "every process on the node", false),
    ("/sys", "kernel settings and devices", false),
    ("/boot", "the node's kernel and boot loader", false),
    ("/dev", "the node's devices, including its disks", false),
];

fn entry(path: &str) -> Option<&'static (&'static str, &'static str, bool)> {
    let trimmed = path.trim_end_matches('/');
    let normalized = if trimmed.is_empty() && path.starts_with('/') {
        "/"
    } else {
        trimmed
    };
    SENSITIVE_PATHS.iter().find(|(p, _, _)| *p == normalized)
}

/// What mounting `path` from the host gives away, when it is one of the sensitive paths.
pub fn sensitive_host_path(path: &str) -> Option<&'static str> {
    entry(path).map(|(_, what, _)| *what)
}

/// What mounting `path` gives away, when it hands over the node: its root file system, its
/// configuration and credentials, a container runtime's socket, or the kubelet's state (every
/// pod's tokens). `/proc`, `/sys`, `/dev`, `/boot` and `/home` are sensitive but not counted.
pub fn node_takeover_path(path: &str) -> Option<&'static str> {
    entry(path)
        .filter(|(_, _, takeover)| *takeover)
        .map(|(_, what, _)| *what)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_are_normalised_and_classified() {
        assert!(sensitive_host_path("/").is_some());
        assert!(sensitive_host_path("/var/lib/kubelet/").is_some());
        assert!(sensitive_host_path("/var/lib/kubelet/pods").is_none());
        assert!(node_takeover_path("/run/containerd/containerd.sock").is_some());
        assert!(sensitive_host_path("/sys").is_some());
        assert!(node_takeover_path("/sys").is_none());
        assert!(node_takeover_path("/data").is_none());
    }
}
