//! The modes and owners the CIS Kubernetes Benchmark asks of a node's files (sections 1.1 and
//! 4.1), and the judgement of each file the node has: one NODE004 finding per file whose mode
//! is more open than its control allows, one NODE005 per file owned by another user or group,
//! and each control's own count of files judged, so that a control whose files the node does
//! not have is `not_applicable` rather than passed.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use palisade_core::{
    Control, Coverage, Diagnostic, DiagnosticLevel, Finding, Framework, Location, Severity, Subject,
};

use crate::accounts::Accounts;
use crate::root::{Root, Stat};
use crate::rule::{NODE_FILE_OWNERSHIP, NODE_FILE_PERMISSIONS};

/// What the benchmark asks of one kind of file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Want {
    /// The file, in the benchmark's words, for messages.
    pub what: &'static str,
    /// The mode control and the most open mode it allows.
    pub mode: Option<(&'static str, u32)>,
    /// The ownership control and the user and group it asks for.
    pub owner: Option<(&'static str, &'static str, &'static str)>,
    /// The file holds a credential, so reading it is the risk.
    pub secret: bool,
}

const fn want(
    what: &'static str,
    mode: Option<(&'static str, u32)>,
    owner: Option<(&'static str, &'static str, &'static str)>,
    secret: bool,
) -> Want {
    Want {
        what,
        mode,
        owner,
        secret,
    }
}

pub const API_SERVER_MANIFEST: Want = want(
    "the API server's static pod manifest",
    Some(("1.1.1", 0o600)),
    Some(("1.1.2", "root", "root")),
    false,
);
pub const CONTROLLER_MANAGER_MANIFEST: Want = want(
    "the controller manager's static pod manifest",
    Some(("1.1.3", 0o600)),
    Some(("1.1.4", "root", "root")),
    false,
);
pub const SCHEDULER_MANIFEST: Want = want(
    "the scheduler's static pod manifest",
    Some(("1.1.5", 0o600)),
    Some(("1.1.6", "root", "root")),
    false,
);
pub const ETCD_MANIFEST: Want = want(
    "etcd's static pod manifest",
    Some(("1.1.7", 0o600)),
    Some(("1.1.8", "root", "root")),
    false,
);
pub const CNI_FILE: Want = want(
    "the CNI configuration file",
    Some(("1.1.9", 0o600)),
    Some(("1.1.10", "root", "root")),
    false,
);
pub const ETCD_DATA: Want = want(
    "etcd's data directory",
    Some(("1.1.11", 0o700)),
    Some(("1.1.12", "etcd", "etcd")),
    true,
);
pub const ADMIN_KUBECONFIG: Want = want(
    "the administrator's kubeconfig",
    Some(("1.1.13", 0o600)),
    Some(("1.1.14", "root", "root")),
    true,
);
pub const SCHEDULER_KUBECONFIG: Want = want(
    "the scheduler's kubeconfig",
    Some(("1.1.15", 0o600)),
    Some(("1.1.16", "root", "root")),
    true,
);
pub const CONTROLLER_MANAGER_KUBECONFIG: Want = want(
    "the controller manager's kubeconfig",
    Some(("1.1.17", 0o600)),
    Some(("1.1.18", "root", "root")),
    true,
);
pub const PKI_ENTRY: Want = want(
    "the PKI directory's entry",
    None,
    Some(("1.1.19", "root", "root")),
    false,
);
pub const PKI_CERTIFICATE: Want = want(
    "the PKI certificate",
    Some(("1.1.20", 0o644)),
    Some(("1.1.19", "root", "root")),
    false,
);
pub const PKI_KEY: Want = want(
    "the PKI private key",
    Some(("1.1.21", 0o600)),
    Some(("1.1.19", "root", "root")),
    true,
);
pub const KUBELET_UNIT: Want = want(
    "the kubelet's systemd unit",
    Some(("4.1.1", 0o600)),
    Some(("4.1.2", "root", "root")),
    false,
);
pub const PROXY_KUBECONFIG: Want = want(
    "kube-proxy's kubeconfig",
    Some(("4.1.3", 0o600)),
    Some(("4.1.4", "root", "root")),
    true,
);
pub const KUBELET_KUBECONFIG: Want = want(
    "the kubelet's kubeconfig",
    Some(("4.1.5", 0o600)),
    Some(("4.1.6", "root", "root")),
    true,
);
pub const CLIENT_CA: Want = want(
    "the client certificate authorities file",
    Some(("4.1.7", 0o644)),
    Some(("4.1.8", "root", "root")),
    false,
);
pub const KUBELET_CONFIG: Want = want(
    "the kubelet's configuration file",
    Some(("4.1.9", 0o600)),
    Some(("4.1.10", "root", "root")),
    false,
);

/// One file of the node to judge.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    /// The node's path.
    pub path: PathBuf,
    pub want: Want,
    /// What names this file (`--kubeconfig of the kubelet`), when something does: such a file
    /// that is missing is a warning, where a file the layout only expects is not.
    pub named_by: Option<String>,
}

/// NODE004's and NODE005's findings, coverage and diagnostics.
#[derive(Debug, Default)]
pub struct Judged {
    pub findings: Vec<Finding>,
    pub coverage: Vec<Coverage>,
    pub diagnostics: Vec<Diagnostic>,
}

/// Counts of one control.
#[derive(Debug, Default, Clone, Copy)]
struct Counts {
    evaluated: usize,
    failed: usize,
    not_assessed: usize,
}

/// Judges each target's mode and owner.
pub fn judge(root: &Root, accounts: &Accounts, targets: &[Target]) -> Judged {
    let mut judged = Judged::default();
    let mut modes: BTreeMap<&'static str, Counts> = BTreeMap::new();
    let mut owners: BTreeMap<&'static str, Counts> = BTreeMap::new();
    for target in targets {
        let shown = root.host_path(&target.path).display().to_string();
        let stat = match root.stat(&target.path) {
            Ok(Some(stat)) => stat,
            Ok(None) => {
                if let Some(by) = &target.named_by {
                    judged.diagnostics.push(
                        Diagnostic::new(
                            DiagnosticLevel::Warning,
                            "node-file-missing",
                            format!(
                                "{} {} is named by {by}, but the node has no such file",
                                target.want.what,
                                target.path.display()
                            ),
                        )
                        .in_file(shown),
                    );
                }
                continue;
            }
            Err(e) => {
                judged.diagnostics.push(
                    Diagnostic::new(
                        DiagnosticLevel::Error,
                        "node-file-unreadable",
                        format!(
                            "{} {} could not be read, so its mode and owner are not assessed: {}",
                            target.want.what,
                            target.path.display(),
                            palisade_core::diagnostic::error_chain(&e)
                        ),
                    )
                    .in_file(shown)
                    .input_unread(),
                );
                if let Some((control, _)) = target.want.mode {
                    modes.entry(control).or_default().not_assessed += 1;
                }
                if let Some((control, _, _)) = target.want.owner {
                    owners.entry(control).or_default().not_assessed += 1;
                }
                continue;
            }
        };
        if let Some((control, most)) = target.want.mode {
            let counts = modes.entry(control).or_default();
            counts.evaluated += 1;
            if let Some(finding) = mode_finding(target, &shown, stat, control, most) {
                counts.failed += 1;
                judged.findings.push(finding);
            }
        }
        if let Some((control, user, group)) = target.want.owner {
            let counts = owners.entry(control).or_default();
            counts.evaluated += 1;
            let owner = Owner { user, group };
            if let Some(finding) = owner_finding(target, &shown, stat, control, owner, accounts) {
                counts.failed += 1;
                judged.findings.push(finding);
            }
        }
    }
    judged.coverage = vec![
        coverage(&NODE_FILE_PERMISSIONS, &modes),
        coverage(&NODE_FILE_OWNERSHIP, &owners),
    ];
    judged
}

fn coverage(meta: &palisade_core::RuleMeta, counts: &BTreeMap<&'static str, Counts>) -> Coverage {
    let sum = |f: fn(&Counts) -> usize| counts.values().map(f).sum::<usize>();
    let totals = (
        sum(|c| c.evaluated),
        sum(|c| c.failed),
        sum(|c| c.not_assessed),
    );
    // Each control counts its own files: 1.1.1 is not passed by the kubelet's.
    Coverage::per_control(meta, Framework::CisK8s112, totals, |c| {
        let own = counts.get(c.id.as_ref()).copied().unwrap_or_default();
        (own.evaluated, own.not_assessed)
    })
}

/// The finding on a mode more open than `most`, if it is.
fn mode_finding(
    target: &Target,
    shown: &str,
    stat: Stat,
    control: &'static str,
    most: u32,
) -> Option<Finding> {
    let excess = stat.mode & !most;
    if excess == 0 {
        return None;
    }
    let path = target.path.display();
    let severity = if excess & 0o022 != 0 || (target.want.secret && excess & 0o004 != 0) {
        Severity::High
    } else if target.want.secret && excess & 0o040 != 0 {
        Severity::Medium
    } else {
        Severity::Low
    };
    let message = format!(
        "{} {path} is mode {:04o}, more open than {most:04o}: {}; `chmod {most:o} {path}`",
        target.want.what,
        stat.mode,
        granted(excess, stat.is_dir),
    );
    Some(file_finding(
        &NODE_FILE_PERMISSIONS,
        target,
        shown,
        control,
        message,
        severity,
    ))
}

/// The benchmark's owner.
#[derive(Debug, Clone, Copy)]
struct Owner {
    user: &'static str,
    group: &'static str,
}

/// The finding on an owner other than `want`'s, if it is.
fn owner_finding(
    target: &Target,
    shown: &str,
    stat: Stat,
    control: &'static str,
    want: Owner,
    accounts: &Accounts,
) -> Option<Finding> {
    let uid = accounts.uid(want.user);
    let gid = accounts.gid(want.group);
    let user_wrong = uid != Some(stat.uid);
    let group_wrong = gid != Some(stat.gid);
    if !user_wrong && !group_wrong {
        return None;
    }
    let path = target.path.display();
    let mut message = format!(
        "{} {path} is owned by {}:{}, not {}:{}",
        target.want.what,
        accounts.user_name(stat.uid),
        accounts.group_name(stat.gid),
        want.user,
        want.group
    );
    let missing: Vec<&str> = [(uid.is_none(), "user"), (gid.is_none(), "group")]
        .into_iter()
        .filter(|(missing, _)| *missing)
        .map(|(_, what)| what)
        .collect();
    if missing.is_empty() {
        message.push_str(&format!("; `chown {}:{} {path}`", want.user, want.group));
    } else {
        message.push_str(&format!(
            " (the node has no {} {}: create it and run etcd as it, then `chown {}:{} {path}`)",
            missing.join(" or "),
            want.user,
            want.user,
            want.group
        ));
    }
    let severity = if want.user == "root" && user_wrong {
        Severity::High
    } else if want.user == "root" {
        Severity::Medium
    } else {
        // etcd's data directory: held by root where the benchmark asks for etcd is no opening.
        match (stat.uid, stat.gid) {
            (0, 0) => Severity::Low,
            _ => Severity::High,
        }
    };
    Some(file_finding(
        &NODE_FILE_OWNERSHIP,
        target,
        shown,
        control,
        message,
        severity,
    ))
}

fn file_finding(
    meta: &'static palisade_core::RuleMeta,
    target: &Target,
    shown: &str,
    control: &'static str,
    message: String,
    severity: Severity,
) -> Finding {
    let subject = Subject::File(Arc::from(target.path.display().to_string()));
    Finding::new(meta, subject, Location::file(shown), message)
        .with_severity(severity)
        .with_discriminator(control)
        .citing(vec![Control::new(Framework::CisK8s112, control)])
}

/// What the extra bits give, in words: `other users can read and write it`.
fn granted(excess: u32, is_dir: bool) -> String {
    let mut said = Vec::new();
    for (who, shift) in [("its group", 3), ("other users", 0)] {
        let bits = (excess >> shift) & 0o7;
        let mut can = Vec::new();
        if bits & 0o4 != 0 {
            can.push(if is_dir { "list" } else { "read" });
        }
        if bits & 0o2 != 0 {
            can.push("write");
        }
        if bits & 0o1 != 0 {
            can.push(if is_dir { "enter" } else { "execute" });
        }
        if !can.is_empty() {
            said.push(format!("{who} can {} it", can.join(" and ")));
        }
    }
    if excess & 0o100 != 0 {
        said.push("its owner can execute it".to_string());
    }
    for (bit, name) in [
        (0o4000, "set-user-id"),
        (0o2000, "set-group-id"),
        (0o1000, "sticky"),
    ] {
        if excess & bit != 0 {
            said.push(format!("the {name} bit is set"));
        }
    }
    if said.is_empty() {
        said.push("its owner has more than the benchmark allows".to_string());
    }
    said.join(", ")
}

/// A directory tree's entries to judge.
#[derive(Debug, Default)]
pub struct Tree {
    pub targets: Vec<Target>,
    /// Directories whose entries could not be listed, with why.
    pub unlisted: Vec<(PathBuf, crate::root::RootError)>,
    /// More entries than the most judged were there.
    pub truncated: bool,
}

/// The targets of a directory tree (the PKI directory): every entry, links followed inside
/// the root, at most `most` of them and 8 levels down; what `want_of` says of each. An entry
/// that cannot be read is still a target, so that judging it says it is unreadable.
pub fn tree(root: &Root, dir: &Path, want_of: fn(&Path, bool) -> Want, most: usize) -> Tree {
    let mut tree = Tree::default();
    let mut pending = vec![(dir.to_path_buf(), 0usize)];
    while let Some((path, depth)) = pending.pop() {
        if tree.targets.len() >= most {
            tree.truncated = true;
            break;
        }
        let is_dir = match root.stat(&path) {
            Ok(None) => continue,
            Ok(Some(stat)) => stat.is_dir,
            Err(_) => false,
        };
        tree.targets.push(Target {
            want: want_of(&path, is_dir),
            path: path.clone(),
            named_by: None,
        });
        if is_dir && depth < 8 {
            match root.list(&path) {
                Ok(mut children) => {
                    children.reverse();
                    pending.extend(children.into_iter().map(|c| (c, depth + 1)));
                }
                Err(e) => tree.unlisted.push((path, e)),
            }
        }
    }
    tree
}

/// What the benchmark asks of an entry of the PKI directory.
pub fn pki_want(path: &Path, is_dir: bool) -> Want {
    match path.extension().and_then(|e| e.to_str()) {
        _ if is_dir => PKI_ENTRY,
        Some("crt") => PKI_CERTIFICATE,
        Some("key") => PKI_KEY,
        _ => PKI_ENTRY,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn target(want: Want) -> Target {
        Target {
            path: PathBuf::from("/etc/kubernetes/admin.conf"),
            want,
            named_by: None,
        }
    }

    fn stat(mode: u32, uid: u32, gid: u32) -> Stat {
        Stat {
            mode,
            uid,
            gid,
            is_dir: false,
        }
    }

    #[test]
    fn a_mode_is_judged_bit_by_bit_as_the_benchmark_judges_it() {
        let admin = target(ADMIN_KUBECONFIG);
        assert!(mode_finding(&admin, "x", stat(0o600, 0, 0), "1.1.13", 0o600).is_none());
        assert!(mode_finding(&admin, "x", stat(0o400, 0, 0), "1.1.13", 0o600).is_none());
        let open = mode_finding(&admin, "x", stat(0o644, 0, 0), "1.1.13", 0o600).unwrap();
        assert_eq!(open.severity, Severity::High);
        assert_eq!(
            &*open.message,
            "the administrator's kubeconfig /etc/kubernetes/admin.conf is mode 0644, more open \
             than 0600: its group can read it, other users can read it; \
             `chmod 600 /etc/kubernetes/admin.conf`"
        );
        let group = mode_finding(&admin, "x", stat(0o640, 0, 0), "1.1.13", 0o600).unwrap();
        assert_eq!(group.severity, Severity::Medium);
        // 0700 is not "600 or more restrictive": the owner's execute bit is extra.
        let exec = mode_finding(
            &target(KUBELET_UNIT),
            "x",
            stat(0o700, 0, 0),
            "4.1.1",
            0o600,
        );
        assert_eq!(exec.unwrap().severity, Severity::Low);
        let setuid = mode_finding(&admin, "x", stat(0o4600, 0, 0), "1.1.13", 0o600).unwrap();
        assert!(setuid.message.contains("set-user-id"));
        let writable = mode_finding(
            &target(KUBELET_UNIT),
            "x",
            stat(0o620, 0, 0),
            "4.1.1",
            0o600,
        );
        assert_eq!(writable.unwrap().severity, Severity::High);
    }

    #[test]
    fn owners_are_names_from_the_node_tables() {
        let accounts = Accounts::parse("etcd:x:996:993::/:/bin/false\n", "etcd:x:993:\n");
        let admin = target(ADMIN_KUBECONFIG);
        let root_owner = Owner {
            user: "root",
            group: "root",
        };
        assert!(
            owner_finding(
                &admin,
                "x",
                stat(0o600, 0, 0),
                "1.1.14",
                root_owner,
                &accounts
            )
            .is_none()
        );
        let user = owner_finding(
            &admin,
            "x",
            stat(0o600, 1000, 0),
            "1.1.14",
            root_owner,
            &accounts,
        )
        .unwrap();
        assert_eq!(user.severity, Severity::High);
        assert!(
            user.message
                .contains("owned by 1000:root, not root:root; `chown root:root")
        );
        let etcd = Owner {
            user: "etcd",
            group: "etcd",
        };
        let data = target(ETCD_DATA);
        assert!(
            owner_finding(&data, "x", stat(0o700, 996, 993), "1.1.12", etcd, &accounts).is_none()
        );
        let by_root =
            owner_finding(&data, "x", stat(0o700, 0, 0), "1.1.12", etcd, &accounts).unwrap();
        assert_eq!(by_root.severity, Severity::Low);
        let no_user = owner_finding(
            &data,
            "x",
            stat(0o700, 0, 0),
            "1.1.12",
            etcd,
            &Accounts::default(),
        )
        .unwrap();
        assert!(
            no_user
                .message
                .contains("the node has no user or group etcd"),
            "{}",
            no_user.message
        );
    }

    #[test]
    fn pki_entries_are_told_apart_by_their_extension() {
        assert_eq!(pki_want(Path::new("/p/ca.crt"), false), PKI_CERTIFICATE);
        assert_eq!(pki_want(Path::new("/p/ca.key"), false), PKI_KEY);
        assert_eq!(pki_want(Path::new("/p/sa.pub"), false), PKI_ENTRY);
        assert_eq!(pki_want(Path::new("/p/etcd.crt"), true), PKI_ENTRY);
    }
}
