use std::collections::{HashMap, HashSet};

use serde_json::Value;

use crate::context::Context;
use crate::rule::{Check, Target};

declare_rule! {
    /// ## What it checks
    /// `volumeMounts` with `subPath` or `subPathExpr` on a volume where some container of the
    /// same pod (the same one included) can write the directory that holds the sub-path: it
    /// mounts the whole volume writable, or a writable sub-path that is a parent of this one
    /// (`subPathExpr`, which is only known at run time, counts as a possible parent). Mounts
    /// that all use the same or unrelated sub-paths cannot swap each other's. Projected,
    /// Secret, ConfigMap and downward API volumes are skipped: containers cannot write them.
    ///
    /// ## Why it matters
    /// A process that can write to the volume can replace the sub-path with a symbolic link;
    /// when the kubelet next mounts the sub-path (a container restart), it follows the link on
    /// the node and mounts a host file or directory into the container (CVE-2021-25741,
    /// CVE-2017-1002101; MITRE ATT&CK T1611). Clusters older than 1.19.15, 1.20.11, 1.21.5 and
    /// 1.22.2 are exploitable; on newer ones the pattern still depends on the kubelet's checks.
    ///
    /// ## Severity
    /// Low: fixed in supported kubelets, but cheap to avoid.
    ///
    /// ## Failing example
    /// ```yaml
    /// containers:
    /// - name: app
    ///   volumeMounts:
    ///   - {name: data, mountPath: /data}
    ///   - {name: data, mountPath: /etc/app/conf, subPath: conf}
    /// ```
    ///
    /// ## Passing example
    /// ```yaml
    /// containers:
    /// - name: app
    ///   volumeMounts:
    ///   - {name: config, mountPath: /etc/app/app.yaml, subPath: app.yaml}  # a ConfigMap
    /// ```
    ///
    /// ## Remediation
    /// Mount the whole volume, or mount it read-only everywhere it is mounted with a sub-path;
    /// keep kubelets patched.
    ///
    /// ## References
    /// - CVE-2021-25741 (kubernetes/kubernetes#104980)
    /// - CVE-2017-1002101 (kubernetes/kubernetes#60813)
    pub struct SubPathWritableVolume {
        id: "POD029",
        slug: "subpath-on-writable-volume",
        title: "Sub-path mount of a volume containers can write",
        severity: Low,
        target: Target::PodSpec,
        controls: [
            NsaCisa12 "upgrading/application-security",
            MitreAttack "T1611",
        ],
        remediation: "Mount the whole volume, or make every mount of it read-only.",
    }
}

/// A container's volume mounts with their index.
fn mounts<'a>(container: &palisade_inventory::Container<'a>) -> Vec<(usize, &'a Value)> {
    container
        .value
        .get("volumeMounts")
        .and_then(Value::as_array)
        .map(|m| m.iter().enumerate().collect())
        .unwrap_or_default()
}

/// A mount's sub-path without `./` and trailing slashes; `None` when unset or empty.
fn sub_path(mount: &Value, field: &str) -> Option<String> {
    let text = mount.get(field).and_then(Value::as_str)?;
    let trimmed = text.trim_start_matches("./").trim_end_matches('/');
    (!trimmed.is_empty()).then(|| trimmed.to_string())
}

/// Volume sources the kubelet writes and containers only read.
const READ_ONLY_SOURCES: &[&str] = &["configMap", "secret", "projected", "downwardAPI"];

impl Check for SubPathWritableVolume {
    fn check(&self, cx: &mut Context<'_>) {
        let read_only_volumes: HashSet<&str> = cx
            .volumes()
            .into_iter()
            .filter(|(_, _, v)| READ_ONLY_SOURCES.iter().any(|s| v.contains_key(*s)))
            .map(|(_, name, _)| name)
            .collect();
        let containers = cx.containers();
        // Per volume, the directories writable mounts can write: `None` for the whole volume
        // (or a sub-path only known at run time).
        let mut writable: HashMap<&str, Vec<Option<String>>> = HashMap::new();
        for (_, m) in containers.iter().flat_map(|c| mounts(c)) {
            let Some(name) = m.get("name").and_then(Value::as_str) else {
                continue;
            };
            if m.get("readOnly").and_then(Value::as_bool) == Some(true)
                || read_only_volumes.contains(name)
            {
                continue;
            }
            let dir = match (sub_path(m, "subPath"), sub_path(m, "subPathExpr")) {
                (Some(path), None) => Some(path),
                _ => None,
            };
            writable.entry(name).or_default().push(dir);
        }
        for container in containers {
            for (i, mount) in mounts(container) {
                let Some(name) = mount.get("name").and_then(Value::as_str) else {
                    continue;
                };
                let field = ["subPath", "subPathExpr"].into_iter().find(|f| {
                    mount
                        .get(*f)
                        .and_then(Value::as_str)
                        .is_some_and(|s| !s.is_empty())
                });
                let exposed = |path: Option<&str>| {
                    writable.get(name).is_some_and(|dirs| {
                        dirs.iter().any(|dir| match (dir, path) {
                            (None, _) | (_, None) => true,
                            (Some(dir), Some(path)) => path.starts_with(&format!("{dir}/")),
                        })
                    })
                };
                let path = (field == Some("subPath"))
                    .then(|| sub_path(mount, "subPath"))
                    .flatten();
                if let Some(field) = field
                    && exposed(path.as_deref())
                {
                    cx.report(
                        container.field(&["volumeMounts"]).join(i).join(field),
                        format!(
                            "{} mounts a {field} of volume \"{name}\", which a container of this pod can write (symlink swap, CVE-2021-25741)",
                            container.describe()
                        ),
                    );
                }
            }
        }
    }
}
