//! NODE004 and NODE005: the rules whose findings the node's files make. Like VULN001 they are
//! not in the built-in registry (no Kubernetes object fails them); `palisade node` adds them
//! to its report's rules, so every output format shows their documentation.

use palisade_core::control::{Control, Framework};
use palisade_core::{RuleMeta, Severity};
use std::borrow::Cow;

const PERMISSION_CONTROLS: &[Control] = &[
    Control::new(Framework::CisK8s112, "1.1.1"),
    Control::new(Framework::CisK8s112, "1.1.3"),
    Control::new(Framework::CisK8s112, "1.1.5"),
    Control::new(Framework::CisK8s112, "1.1.7"),
    Control::new(Framework::CisK8s112, "1.1.9"),
    Control::new(Framework::CisK8s112, "1.1.11"),
    Control::new(Framework::CisK8s112, "1.1.13"),
    Control::new(Framework::CisK8s112, "1.1.15"),
    Control::new(Framework::CisK8s112, "1.1.17"),
    Control::new(Framework::CisK8s112, "1.1.20"),
    Control::new(Framework::CisK8s112, "1.1.21"),
    Control::new(Framework::CisK8s112, "4.1.1"),
    Control::new(Framework::CisK8s112, "4.1.3"),
    Control::new(Framework::CisK8s112, "4.1.5"),
    Control::new(Framework::CisK8s112, "4.1.7"),
    Control::new(Framework::CisK8s112, "4.1.9"),
    Control::new(Framework::MitreAttack, "T1552.001"),
];

const OWNERSHIP_CONTROLS: &[Control] = &[
    Control::new(Framework::CisK8s112, "1.1.2"),
    Control::new(Framework::CisK8s112, "1.1.4"),
    Control::new(Framework::CisK8s112, "1.1.6"),
    Control::new(Framework::CisK8s112, "1.1.8"),
    Control::new(Framework::CisK8s112, "1.1.10"),
    Control::new(Framework::CisK8s112, "1.1.12"),
    Control::new(Framework::CisK8s112, "1.1.14"),
    Control::new(Framework::CisK8s112, "1.1.16"),
    Control::new(Framework::CisK8s112, "1.1.18"),
    Control::new(Framework::CisK8s112, "1.1.19"),
    Control::new(Framework::CisK8s112, "4.1.2"),
    Control::new(Framework::CisK8s112, "4.1.4"),
    Control::new(Framework::CisK8s112, "4.1.6"),
    Control::new(Framework::CisK8s112, "4.1.8"),
    Control::new(Framework::CisK8s112, "4.1.10"),
];

/// NODE004's metadata.
pub static NODE_FILE_PERMISSIONS: RuleMeta = RuleMeta {
    id: Cow::Borrowed("NODE004"),
    slug: Cow::Borrowed("node-file-permissions"),
    title: Cow::Borrowed("Node file is more open than the benchmark allows"),
    severity: Severity::Medium,
    controls: Cow::Borrowed(PERMISSION_CONTROLS),
    remediation: Cow::Borrowed(
        "Remove the extra permissions with the `chmod` the finding gives, on the node (kubeadm writes these files 0600, certificates 0644).",
    ),
    docs: Cow::Borrowed(PERMISSION_DOCS),
};

/// NODE005's metadata.
pub static NODE_FILE_OWNERSHIP: RuleMeta = RuleMeta {
    id: Cow::Borrowed("NODE005"),
    slug: Cow::Borrowed("node-file-ownership"),
    title: Cow::Borrowed("Node file is owned by another user or group than the benchmark's"),
    severity: Severity::Medium,
    controls: Cow::Borrowed(OWNERSHIP_CONTROLS),
    remediation: Cow::Borrowed(
        "Give the file back to its owner with the `chown` the finding gives, on the node.",
    ),
    docs: Cow::Borrowed(OWNERSHIP_DOCS),
};

const PERMISSION_DOCS: &str = "## What it checks
The modes of the files a node's Kubernetes components read, found under `palisade node
--root DIR` as the node lays them out: the static pod manifests of the API server, controller
manager, scheduler and etcd (CIS 1.1.1-1.1.7, at most 0600), the CNI configuration (1.1.9,
0600), etcd's data directory (1.1.11, 0700), the administrator's, scheduler's and controller
manager's kubeconfigs (1.1.13-1.1.17, 0600), the PKI directory's certificates (1.1.20, 0644)
and keys (1.1.21, 0600), and on every node the kubelet's systemd unit and drop-ins (4.1.1,
0600), kube-proxy's kubeconfig (4.1.3), the kubelet's kubeconfig (4.1.5), the client CA it
trusts (4.1.7, 0644) and its configuration file (4.1.9). Where the kubelet says a file is
(`--kubeconfig`, `--config`, `clientCAFile`, `--data-dir` of etcd's manifest), that file is
judged; symbolic links are followed inside the root.

A mode is judged as the benchmark's `stat -c %a` test judges it: any bit beyond the allowed
mode fails, set-user-id, set-group-id and sticky bits included. A file the layout expects but
the node does not have is not judged (its control is `not_applicable` when no file was), and a
file that could not be read (permission denied) is `not assessed`, never passed.

## Severity
High when the extra bits let another user write the file (anyone who can change a static pod
manifest runs a privileged pod, anyone who can change the kubelet's unit sets its flags) or
read a credential (a kubeconfig, a private key, etcd's data); low otherwise (an executable bit,
a manifest readable by the node's users).

## Why it matters
A node's users are not all administrators: a monitoring agent, a CI runner or a compromised
process on the node can read `/etc/kubernetes/admin.conf` (cluster-admin) or a private key when
they are world-readable (MITRE ATT&CK T1552.001, credentials in files).
";

const OWNERSHIP_DOCS: &str = "## What it checks
The owners of the same files as NODE004: `root:root` for every file the benchmark names, the
PKI directory and everything in it (1.1.19), and `etcd:etcd` for etcd's data directory
(1.1.12). Names are read from the node's own `/etc/passwd` and `/etc/group` under the root, so
an `etcd` user is the node's, not the machine's that runs Palisade.

## Severity
High when a user other than root owns a file the benchmark gives to root (the owner can change
its mode, and so its content); medium for a group other than root; low for etcd's data
directory owned by root where the benchmark asks for the `etcd` user (kubeadm runs etcd as
root, which the benchmark still fails).

## Why it matters
The owner of a file decides who may read and change it: a manifest, kubeconfig or key owned by
an unprivileged user is only as safe as that user's account.
";
