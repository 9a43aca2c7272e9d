//! A Kubernetes node's own files, judged where they are: `palisade node --root DIR` reads a
//! node's file system (the node's `/`, or where a pod mounts it) for what the CIS Kubernetes
//! Benchmark's sections 1 to 4 judge and no Kubernetes object shows: the static pod manifests
//! of the control plane, the kubelet's configuration as it runs with it (its file, drop-ins and
//! command line merged, the command line read from the running process or from systemd), and
//! the modes and owners of manifests, kubeconfigs, keys, certificates and etcd's data.
//!
//! The boundary: this crate finds and reads the node's files and judges their modes and owners
//! (NODE004, NODE005); the settings inside them are judged by the catalogue's own rules (the
//! CP and NODE rules, LOG001 on the audit policy, CP013 on the encryption configuration),
//! handed the objects this crate reads, so a manifest in Git and the same manifest on a node
//! get one answer. The alternative, running `stat` and `ps` through a shell as kube-bench
//! does, would make the answers depend on the tools of the image and give no line to fix.

pub mod accounts;
pub mod files;
pub mod kubelet;
pub mod node;
pub mod root;
pub mod rule;
pub mod systemd;

pub use node::{Node, NodeError};
