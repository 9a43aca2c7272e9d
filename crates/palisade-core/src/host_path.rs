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
    (
        "/etc/ssh",
        "the node's SSH host keys and configuration",
        true,
    ),
    ("/etc/shadow", "the node's password hashes", true),
    ("/etc/sudoers", "who may become root on the node", true),
    (
        "/proc/sys/kernel",
        "kernel settings such as core_pattern, which runs a command on the node when written",
        true,
    ),
    (
        "/var/lib/kubelet/pods",
        "every pod's volumes, including their Secrets and service account tokens",
        true,
    ),
    (
        "/var/lib/kubelet/pki",
        "the kubelet's client certificate: the node's identity to the API server",
        true,
    ),
    ("/proc", "every process on the node", false),
    ("/sys", "kernel settings and devices", false),
    ("/boot", "the node's kernel and boot loader", false),
    ("/dev", "the node's devices, including its disks", false),
];

/// Entries whose whole subtree is sensitive (a mount of `/root/.ssh` gives root's keys); the
/// others are sensitive as a whole only (`/etc/ssl/certs` or `/sys/fs/cgroup` are ordinary
/// read-only mounts).
const WHOLE_SUBTREE: &[&str] = &[
    "/root",
    "/var/lib/kubelet/pods",
    "/var/lib/kubelet/pki",
    "/etc/kubernetes",
    "/etc/ssh",
    "/proc/sys/kernel",
];

/// `path` as the kernel resolves it: repeated slashes collapsed, `.` dropped, `..` applied
/// (never above `/`), no trailing slash. `None` for a relative path.
pub fn normalize(path: &str) -> Option<String> {
    if !path.starts_with('/') {
        return None;
    }
    let mut parts: Vec<&str> = Vec::new();
    for part in path.split('/') {
        match part {
            "" | "." => {}
            ".." => {
                parts.pop();
            }
            other => parts.push(other),
        }
    }
    Some(format!("/{}", parts.join("/")))
}

/// Whether `path` is `dir` or below it (both normalised).
fn under(path: &str, dir: &str) -> bool {
    dir == "/" || path == dir || path.strip_prefix(dir).is_some_and(|r| r.starts_with('/'))
}

/// What mounting `path` gives away and whether that hands over the node: the entry itself,
/// an entry whose whole subtree is sensitive and that holds it, or, for a directory that
/// holds sensitive entries (`/var` holds the runtime sockets), the worst of those.
fn classify(path: &str) -> Option<(String, bool)> {
    let path = normalize(path)?;
    if let Some((_, what, takeover)) = SENSITIVE_PATHS.iter().find(|(p, _, _)| *p == path) {
        return Some(((*what).to_string(), *takeover));
    }
    let holder = SENSITIVE_PATHS
        .iter()
        .filter(|(p, _, _)| WHOLE_SUBTREE.contains(p) && under(&path, p))
        .max_by_key(|(p, _, _)| p.len());
    if let Some((p, what, takeover)) = holder {
        return Some((format!("part of {p}: {what}"), *takeover));
    }
    let mut held: Vec<_> = SENSITIVE_PATHS
        .iter()
        .filter(|(p, _, _)| *p != "/" && under(p, &path))
        .collect();
    held.sort_by_key(|(_, _, takeover)| !*takeover);
    held.first()
        .map(|(p, what, takeover)| (format!("it holds {p}: {what}"), *takeover))
}

/// What mounting `path` from the host gives away, when it is, holds or lies in a sensitive
/// path. Paths are normalised first (`//etc`, `/etc/../etc` are `/etc`).
pub fn sensitive_host_path(path: &str) -> Option<String> {
    classify(path).map(|(what, _)| what)
}

/// What mounting `path` gives away, when it hands over the node: its root file system, its
/// configuration and credentials, a container runtime's socket, the kubelet's state (every
/// pod's tokens), or a directory that holds one of those. `/proc`, `/sys`, `/dev`, `/boot`,
/// `/home` and `/var/log` are sensitive but not counted.
pub fn node_takeover_path(path: &str) -> Option<String> {
    classify(path)
        .filter(|(_, takeover)| *takeover)
        .map(|(what, _)| what)
}

/// The paths whose mount hands over the node ([`node_takeover_path`] names each), as listed:
/// what an admission policy must refuse to mount, one by one, for creating a pod not to give
/// the node away.
pub fn node_takeover_paths() -> impl Iterator<Item = &'static str> {
    SENSITIVE_PATHS
        .iter()
        .filter(|(_, _, takeover)| *takeover)
        .map(|(path, _, _)| *path)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_are_normalised_and_classified() {
        assert!(sensitive_host_path("/").is_some());
        assert!(sensitive_host_path("/var/lib/kubelet/").is_some());
        // Below an entry whose whole subtree is sensitive.
        for below in [
            "/var/lib/kubelet/pods/0b1c/volumes",
            "/root/.ssh",
            "/etc/kubernetes/pki",
            "/proc/sys/kernel",
        ] {
            assert!(node_takeover_path(below).is_some(), "{below}");
        }
        // Spelled another way.
        for spelled in ["//etc", "/etc/../etc", "/etc/./", "/var/../../etc"] {
            assert_eq!(
                node_takeover_path(spelled).as_deref(),
                node_takeover_path("/etc").as_deref(),
                "{spelled}"
            );
        }
        // A directory that holds sensitive paths.
        let var = node_takeover_path("/var").unwrap();
        assert!(
            var.contains("/var/run") || var.contains("/var/lib"),
            "{var}"
        );
        // Ordinary read-only mounts stay ordinary.
        for ordinary in [
            "/etc/ssl/certs",
            "/etc/localtime",
            "/sys/fs/cgroup",
            "/opt/data",
            "/var/log",
            "/var/lib/docker/containers",
            "/var/lib/kubelet/plugins/csi.example.com",
            "/home/kubernetes/bin",
        ] {
            assert!(node_takeover_path(ordinary).is_none(), "{ordinary}");
        }
        assert!(sensitive_host_path("/etc/ssl/certs").is_none());
        assert!(sensitive_host_path("relative/path").is_none());
        assert!(node_takeover_path("/run/containerd/containerd.sock").is_some());
        assert!(sensitive_host_path("/sys").is_some());
        assert!(node_takeover_path("/sys").is_none());
        assert!(node_takeover_path("/data").is_none());
    }
}
