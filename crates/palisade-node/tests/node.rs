//! A node's files read under a root built here, as kubeadm lays them out, with the modes set
//! as the test needs: what is found, what the kubelet runs with, and the modes and owners
//! judged.

use std::os::unix::fs::PermissionsExt as _;
use std::path::{Path, PathBuf};

use palisade_core::Severity;
use palisade_inventory::LoadOptions;
use palisade_node::kubelet::{CommandSource, SetBy};
use palisade_node::{Node, NodeError};

fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("palisade-node-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn write(root: &Path, path: &str, text: &str, mode: u32) {
    let file = root.join(path.trim_start_matches('/'));
    std::fs::create_dir_all(file.parent().unwrap()).unwrap();
    std::fs::write(&file, text).unwrap();
    std::fs::set_permissions(&file, std::fs::Permissions::from_mode(mode)).unwrap();
}

fn apiserver(extra: &str) -> String {
    format!(
        "apiVersion: v1\nkind: Pod\nmetadata: {{name: kube-apiserver, namespace: kube-system}}\n\
         spec:\n  containers:\n  - name: kube-apiserver\n    image: registry.k8s.io/kube-apiserver:v1.31.4\n    \
         command:\n    - kube-apiserver\n    - --anonymous-auth=false\n{extra}"
    )
}

const ETCD: &str = "apiVersion: v1\nkind: Pod\nmetadata: {name: etcd, namespace: kube-system}\n\
spec:\n  containers:\n  - name: etcd\n    image: registry.k8s.io/etcd:3.5.15-0\n    command: [etcd, --data-dir=/data/etcd]\n";

const KUBELET_CONFIG: &str = "apiVersion: kubelet.config.k8s.io/v1beta1\nkind: KubeletConfiguration\n\
authentication:\n  anonymous:\n    enabled: false\n  x509:\n    clientCAFile: /etc/kubernetes/pki/ca.crt\n\
authorization:\n  mode: Webhook\nreadOnlyPort: 0\nstaticPodPath: /etc/kubernetes/manifests\n";

const UNIT: &str = "[Service]\nExecStart=/usr/bin/kubelet\n";
const DROP_IN: &str = "[Service]\nEnvironment=\"KUBELET_KUBECONFIG_ARGS=--kubeconfig=/etc/kubernetes/kubelet.conf\"\n\
Environment=\"KUBELET_CONFIG_ARGS=--config=/var/lib/kubelet/config.yaml\"\n\
EnvironmentFile=-/var/lib/kubelet/kubeadm-flags.env\nExecStart=\n\
ExecStart=/usr/bin/kubelet $KUBELET_KUBECONFIG_ARGS $KUBELET_CONFIG_ARGS $KUBELET_KUBEADM_ARGS\n";

/// A control-plane node as kubeadm leaves it, every mode as the benchmark asks.
fn control_plane(dir: &Path) {
    write(
        dir,
        "/etc/kubernetes/manifests/kube-apiserver.yaml",
        &apiserver(""),
        0o600,
    );
    write(dir, "/etc/kubernetes/manifests/etcd.yaml", ETCD, 0o600);
    write(dir, "/etc/kubernetes/admin.conf", "kind: Config\n", 0o600);
    write(dir, "/etc/kubernetes/kubelet.conf", "kind: Config\n", 0o600);
    write(dir, "/etc/kubernetes/pki/ca.crt", "certificate\n", 0o644);
    write(dir, "/etc/kubernetes/pki/ca.key", "key\n", 0o600);
    write(dir, "/usr/lib/systemd/system/kubelet.service", UNIT, 0o600);
    write(
        dir,
        "/etc/systemd/system/kubelet.service.d/10-kubeadm.conf",
        DROP_IN,
        0o600,
    );
    write(
        dir,
        "/var/lib/kubelet/kubeadm-flags.env",
        "KUBELET_KUBEADM_ARGS=\"--container-runtime-endpoint=unix:///run/containerd/containerd.sock\"\n",
        0o600,
    );
    write(dir, "/var/lib/kubelet/config.yaml", KUBELET_CONFIG, 0o600);
    write(dir, "/data/etcd/member/wal", "", 0o600);
    std::fs::set_permissions(
        dir.join("data/etcd"),
        std::fs::Permissions::from_mode(0o700),
    )
    .unwrap();
    write(
        dir,
        "/etc/passwd",
        "root:x:0:0::/root:/bin/sh\netcd:x:0:0::/:/bin/false\n",
        0o644,
    );
    write(dir, "/etc/group", "root:x:0:\netcd:x:0:\n", 0o644);
}

/// The owner's findings this machine's files give: none when the test runs as root, one per
/// file owned by its user otherwise.
fn running_as_root() -> bool {
    use std::os::unix::fs::MetadataExt as _;
    std::fs::metadata(std::env::temp_dir()).is_ok() && {
        let probe = scratch("uid");
        let uid = std::fs::metadata(&probe).unwrap().uid();
        std::fs::remove_dir_all(&probe).unwrap();
        uid == 0
    }
}

fn read(dir: &Path) -> Node {
    Node::read(dir, &LoadOptions::default()).unwrap()
}

#[test]
fn a_control_plane_node_laid_out_as_the_benchmark_asks_passes_every_file() {
    let dir = scratch("hardened");
    control_plane(&dir);
    let node = read(&dir);
    let judged = node.judge_files();
    let modes: Vec<&str> = judged
        .findings
        .iter()
        .filter(|f| f.rule_id() == "NODE004")
        .map(|f| &*f.message)
        .collect();
    assert!(modes.is_empty(), "{modes:#?}");
    if running_as_root() {
        assert!(judged.findings.is_empty(), "{:#?}", judged.findings);
    }
    // What was found: the etcd data directory from etcd's --data-dir, the kubelet's files
    // from its command line, built from the unit, its drop-in and the environment file.
    let paths: Vec<String> = node
        .targets
        .iter()
        .map(|t| format!("{} {}", t.want.what, t.path.display()))
        .collect();
    for expected in [
        "the API server's static pod manifest /etc/kubernetes/manifests/kube-apiserver.yaml",
        "etcd's static pod manifest /etc/kubernetes/manifests/etcd.yaml",
        "etcd's data directory /data/etcd",
        "the administrator's kubeconfig /etc/kubernetes/admin.conf",
        "the PKI certificate /etc/kubernetes/pki/ca.crt",
        "the PKI private key /etc/kubernetes/pki/ca.key",
        "the kubelet's systemd unit /usr/lib/systemd/system/kubelet.service",
        "the kubelet's systemd unit /etc/systemd/system/kubelet.service.d/10-kubeadm.conf",
        "the kubelet's kubeconfig /etc/kubernetes/kubelet.conf",
        "the client certificate authorities file /etc/kubernetes/pki/ca.crt",
        "the kubelet's configuration file /var/lib/kubelet/config.yaml",
    ] {
        assert!(
            paths.iter().any(|p| p == expected),
            "{expected} not in {paths:#?}"
        );
    }
    let kubelet = node.kubelet.as_ref().unwrap();
    assert_eq!(kubelet.source, CommandSource::Unit);
    assert_eq!(
        kubelet.value("container-runtime-endpoint"),
        Some("unix:///run/containerd/containerd.sock")
    );
    // Controls whose files the node has count them; 1.1.3 (no controller manager) counts none.
    let permissions = &judged.coverage[0];
    let count = |id: &str| {
        permissions
            .controls
            .iter()
            .find(|c| c.control.id == id)
            .map(|c| c.evaluated)
    };
    assert_eq!(count("1.1.1"), Some(1));
    assert_eq!(count("1.1.3"), Some(0));
    assert_eq!(count("1.1.21"), Some(1));
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn each_loose_mode_is_one_finding_at_its_own_control_and_severity() {
    let dir = scratch("loose");
    control_plane(&dir);
    for (path, mode) in [
        ("etc/kubernetes/admin.conf", 0o644),
        ("etc/kubernetes/pki/ca.key", 0o640),
        ("etc/kubernetes/manifests/kube-apiserver.yaml", 0o664),
        ("etc/kubernetes/pki/ca.crt", 0o644),
        ("data/etcd", 0o750),
    ] {
        std::fs::set_permissions(dir.join(path), std::fs::Permissions::from_mode(mode)).unwrap();
    }
    let judged = read(&dir).judge_files();
    let mut found: Vec<(String, String, Severity)> = judged
        .findings
        .iter()
        .filter(|f| f.rule_id() == "NODE004")
        .map(|f| {
            (
                f.discriminator().unwrap().to_string(),
                f.subject.identity_key(),
                f.severity,
            )
        })
        .collect();
    found.sort();
    let subjects: Vec<(&str, Severity)> = found
        .iter()
        .map(|(control, _, severity)| (control.as_str(), *severity))
        .collect();
    assert_eq!(
        subjects,
        vec![
            ("1.1.1", Severity::High),
            ("1.1.11", Severity::Medium),
            ("1.1.13", Severity::High),
            ("1.1.21", Severity::Medium),
        ],
        "{found:#?}"
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn a_file_owned_by_another_user_is_a_high_finding() {
    if !running_as_root() {
        eprintln!(
            "skipped: giving a file to another user needs root (files.rs's unit tests judge owners without it)"
        );
        return;
    }
    let dir = scratch("owner");
    control_plane(&dir);
    std::os::unix::fs::chown(dir.join("etc/kubernetes/admin.conf"), Some(1000), None).unwrap();
    let judged = read(&dir).judge_files();
    let owners: Vec<(&str, Severity, &str)> = judged
        .findings
        .iter()
        .map(|f| (f.discriminator().unwrap(), f.severity, &*f.message))
        .collect();
    assert_eq!(owners.len(), 1, "{owners:#?}");
    assert_eq!(owners[0].0, "1.1.14");
    assert_eq!(owners[0].1, Severity::High);
    assert!(
        owners[0].2.contains("owned by 1000:root"),
        "{}",
        owners[0].2
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn the_running_kubelet_is_read_before_its_unit_and_wins_over_the_file() {
    let dir = scratch("process");
    control_plane(&dir);
    write(&dir, "/proc/1/comm", "systemd\n", 0o444);
    write(&dir, "/proc/1/cmdline", "/sbin/init\0", 0o444);
    write(&dir, "/proc/812/comm", "kubelet\n", 0o444);
    write(
        &dir,
        "/proc/812/cmdline",
        "/usr/bin/kubelet\0--config=/var/lib/kubelet/config.yaml\0--read-only-port\x0010255\0",
        0o444,
    );
    let node = read(&dir);
    let kubelet = node.kubelet.as_ref().unwrap();
    assert_eq!(kubelet.source, CommandSource::Process(812));
    let config = node.kubelet_config.as_ref().unwrap();
    assert_eq!(config.value["readOnlyPort"], serde_json::json!(10255));
    let (_, by) = config
        .set_by
        .iter()
        .find(|(p, _)| p == "/readOnlyPort")
        .unwrap();
    let SetBy::Flag(flag) = by else {
        panic!("{by:?}")
    };
    assert_eq!(flag.origin.file, PathBuf::from("/proc/812/cmdline"));
    // The unit files are still judged: they start the kubelet again.
    assert!(
        node.targets
            .iter()
            .any(|t| t.path.ends_with("10-kubeadm.conf"))
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn a_kubelet_without_a_configuration_file_runs_with_the_command_line_defaults() {
    let dir = scratch("flags-only");
    write(
        &dir,
        "/etc/systemd/system/kubelet.service",
        "[Service]\nExecStart=/usr/bin/kubelet --kubeconfig=/etc/kubernetes/kubelet.conf --read-only-port=0\n",
        0o600,
    );
    let node = read(&dir);
    let config = node.kubelet_config.as_ref().unwrap();
    assert_eq!(config.file, None);
    assert_eq!(
        config.value["authentication"]["anonymous"]["enabled"],
        serde_json::json!(true)
    );
    assert_eq!(
        config.value["authorization"]["mode"],
        serde_json::json!("AlwaysAllow")
    );
    assert_eq!(config.value["readOnlyPort"], serde_json::json!(0));
    // The kubeconfig it names is missing: a warning, not a pass and not silence.
    assert!(node.judge_files().diagnostics.iter().any(
        |d| d.code == "node-file-missing" && d.message.contains("/etc/kubernetes/kubelet.conf")
    ),);
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn drop_ins_of_the_config_dir_merge_over_the_file() {
    let dir = scratch("config-dir");
    control_plane(&dir);
    write(
        &dir,
        "/etc/systemd/system/kubelet.service.d/20-dropins.conf",
        "[Service]\nExecStart=\nExecStart=/usr/bin/kubelet $KUBELET_CONFIG_ARGS --config-dir=/etc/kubernetes/kubelet.conf.d\n",
        0o600,
    );
    write(
        &dir,
        "/etc/kubernetes/kubelet.conf.d/50-ro.conf",
        "apiVersion: kubelet.config.k8s.io/v1beta1\nkind: KubeletConfiguration\nreadOnlyPort: 10255\n",
        0o600,
    );
    let node = read(&dir);
    let config = node.kubelet_config.as_ref().unwrap();
    assert_eq!(config.value["readOnlyPort"], serde_json::json!(10255));
    assert_eq!(
        config.value["authorization"]["mode"],
        serde_json::json!("Webhook")
    );
    assert!(
        config
            .set_by
            .iter()
            .any(|(p, by)| p == "/readOnlyPort" && matches!(by, SetBy::DropIn(_)))
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn a_directory_that_is_no_node_is_an_error_not_a_clean_node() {
    let dir = scratch("empty");
    write(&dir, "/etc/hostname", "laptop\n", 0o644);
    assert!(matches!(
        Node::read(&dir, &LoadOptions::default()),
        Err(NodeError::NotANode(_))
    ));
    assert!(matches!(
        Node::read(&dir.join("missing"), &LoadOptions::default()),
        Err(NodeError::Root(_))
    ));
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn links_to_absolute_paths_are_followed_on_the_node() {
    let dir = scratch("links");
    control_plane(&dir);
    // kubeadm's kubelet.conf names a rotated client certificate through a link; a link out of
    // the root must be read inside it.
    std::fs::remove_file(dir.join("etc/kubernetes/admin.conf")).unwrap();
    write(&dir, "/srv/admin.conf", "kind: Config\n", 0o644);
    std::os::unix::fs::symlink("/srv/admin.conf", dir.join("etc/kubernetes/admin.conf")).unwrap();
    let judged = read(&dir).judge_files();
    let admin: Vec<&str> = judged
        .findings
        .iter()
        .filter(|f| f.discriminator() == Some("1.1.13"))
        .map(|f| &*f.message)
        .collect();
    assert_eq!(admin.len(), 1, "{admin:?}");
    assert!(admin[0].contains("mode 0644"));
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn an_unreadable_entry_of_the_pki_directory_leaves_the_others_judged() {
    let dir = scratch("pki-loop");
    control_plane(&dir);
    write(
        &dir,
        "/etc/kubernetes/pki/front-proxy-ca.key",
        "key\n",
        0o644,
    );
    std::os::unix::fs::symlink(
        "/etc/kubernetes/pki/b.key",
        dir.join("etc/kubernetes/pki/a.key"),
    )
    .unwrap();
    std::os::unix::fs::symlink(
        "/etc/kubernetes/pki/a.key",
        dir.join("etc/kubernetes/pki/b.key"),
    )
    .unwrap();
    let judged = read(&dir).judge_files();
    let keys = judged.coverage[0]
        .controls
        .iter()
        .find(|c| c.control.id == "1.1.21")
        .unwrap();
    assert_eq!((keys.evaluated, keys.not_assessed), (2, 2));
    assert!(judged.findings.iter().any(|f| {
        f.message
            .contains("/etc/kubernetes/pki/front-proxy-ca.key is mode 0644")
    }));
    let unreadable = judged
        .diagnostics
        .iter()
        .filter(|d| d.code == "node-file-unreadable")
        .count();
    assert_eq!(unreadable, 2);
    std::fs::remove_dir_all(&dir).unwrap();
}
