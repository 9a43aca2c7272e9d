use std::collections::BTreeMap;

use palisade_core::tree::Tree as _;

use crate::context::Context;
use crate::pss::Level;
use crate::pss::admission::{PolicyVersion, level_of};
use crate::rule::{Check, Target};
use crate::rules::namespace_scope::SYSTEM_NAMESPACES;

use palisade_k8s::pod_security::{
    ENFORCE_LABEL as ENFORCE, ENFORCE_VERSION_LABEL as ENFORCE_VERSION,
};

declare_rule! {
    /// ## What it checks
    /// Namespaces whose Pod Security Admission label `pod-security.kubernetes.io/enforce` is
    /// missing, invalid, `privileged`, or does not match what the namespace's workloads need.
    /// Each workload of the namespace in the scanned files is evaluated exactly as the
    /// admission plugin would evaluate its pods (every Baseline and Restricted control), and
    /// the message gives the strictest level all of them satisfy, so the label can be set
    /// without breaking anything, or names the workloads that the enforced level would
    /// reject. System namespaces (`kube-system`, `kube-public`, `kube-node-lease`) are skipped.
    ///
    /// ## Why it matters
    /// Pod Security Admission enforces nothing in a namespace without an `enforce` label
    /// (unless the cluster sets a default), so a workload that is hardened today can be
    /// replaced tomorrow by one that is privileged and mounts the node. The label is the
    /// built-in policy control the CIS Benchmark asks for (MITRE ATT&CK T1610, T1611).
    ///
    /// ## Severity
    /// Medium: no immediate exposure, but no guard rail either. A namespace that enforces
    /// `privileged` because its workloads need it is not reported; when only some of them
    /// need it, the advice to move the others is low severity.
    ///
    /// ## Failing example
    /// ```yaml
    /// kind: Namespace
    /// metadata:
    ///   name: shop
    /// ```
    ///
    /// ## Passing example
    /// ```yaml
    /// kind: Namespace
    /// metadata:
    ///   name: shop
    ///   labels:
    ///     pod-security.kubernetes.io/enforce: restricted
    /// ```
    ///
    /// ## Remediation
    /// Label the namespace with the level its workloads satisfy (the message says which):
    /// `kubectl label ns NAME pod-security.kubernetes.io/enforce=restricted`, after a dry run
    /// with `--dry-run=server`.
    ///
    /// ## References
    /// - Kubernetes documentation, "Pod Security Admission" and "Pod Security Standards"
    /// - CIS Kubernetes Benchmark v1.12, 5.2.1
    /// - NSA/CISA Kubernetes Hardening Guide v1.2, "Pod security enforcement"
    pub struct NamespacePodSecurity {
        id: "NS002",
        slug: "namespace-pod-security-not-enforced",
        title: "Namespace does not enforce a Pod Security level its workloads meet",
        severity: Medium,
        target: Target::Kinds(&[("", "Namespace")]),
        controls: [
            CisK8s112 "5.2.1",
            NsaCisa12 "pod-security/pod-security-enforcement",
            MitreAttack "T1610",
        ],
        remediation: "Set `pod-security.kubernetes.io/enforce` to the strictest level the namespace's workloads meet.",
    }
}

impl Check for NamespacePodSecurity {
    fn reads(&self) -> &'static [(&'static str, &'static str)] {
        palisade_inventory::podspec::WORKLOAD_KINDS
    }

    fn check(&self, cx: &mut Context<'_>) {
        let Some(name) = cx.object.id.name.as_deref() else {
            return;
        };
        if SYSTEM_NAMESPACES.contains(&name) {
            return;
        }
        let labels_path = palisade_core::JsonPointer::root()
            .join("metadata")
            .join("labels");
        // The policy version admission applies here: the namespace's pin, else the one asked
        // for (`--pss-version`), else the latest.
        let pinned = cx
            .map_at(&labels_path)
            .and_then(|l| l.get(ENFORCE_VERSION))
            .and_then(|v| v.as_str());
        let version = match pinned.map(|p| (p, PolicyVersion::parse(p))) {
            Some((_, Some(version))) => version,
            Some((text, None)) => {
                cx.report(
                    labels_path.join(ENFORCE_VERSION),
                    format!("{ENFORCE_VERSION}: {text:?} is not a policy version (latest or v1.N); admission rejects this label, and the latest version is assumed here"),
                );
                cx.settings.pss_version()
            }
            None => cx.settings.pss_version(),
        };
        // What the namespace's workloads satisfy, the worst first.
        let mut needs: BTreeMap<Level, Vec<String>> = BTreeMap::new();
        for index in cx.objects_in_namespace(name) {
            // Pods and ReplicaSets of a controller in the inventory are judged on it.
            if cx.inventory.controller_of(index).is_some() {
                continue;
            }
            let object = &cx.inventory.objects[index];
            let Some(pod) = palisade_inventory::pod_spec(object) else {
                continue;
            };
            if !pod.value.is_null() {
                let (level, _) =
                    level_of(object.value.at(pod.metadata_pointer), pod.value, version);
                needs.entry(level).or_default().push(format!(
                    "{} {}",
                    object.id.kind,
                    object.id.display_name()
                ));
            }
        }
        // The same workload written in two files (a base and a rendered copy) is one workload.
        for names in needs.values_mut() {
            names.sort();
            names.dedup();
        }
        let strictest_ok = needs.keys().next().copied();
        let count: usize = needs.values().map(Vec::len).sum();
        let privileged_only = strictest_ok == Some(Level::Privileged) && needs.len() == 1;
        let advice = match strictest_ok {
            Some(Level::Privileged) => {
                let needing = &needs[&Level::Privileged];
                let shown = palisade_core::words::first_few(needing, 3);
                let others = count - needing.len();
                let split = if others > 0 {
                    format!(
                        "; the other {others} meet baseline or better, and could run in a namespace that enforces it"
                    )
                } else {
                    String::new()
                };
                format!(
                    "of its {count} workload(s) in the scanned files, {shown} need privileged (they fail a baseline control){split}"
                )
            }
            Some(level) => format!(
                "its {count} workload(s) in the scanned files all meet {level}, so it can enforce {level}"
            ),
            None => "no workloads of it are in the scanned files".to_string(),
        };
        let label = cx
            .map_at(&labels_path)
            .and_then(|l| l.get(ENFORCE))
            .map(|v| v.as_str().unwrap_or(""));
        match label.map(|l| (l, Level::parse(l))) {
            None => cx.report(
                palisade_core::JsonPointer::root().join("metadata"),
                format!("namespace {name} has no {ENFORCE} label, so Pod Security admission enforces nothing; {advice}"),
            ),
            Some((text, None)) => cx.report(
                labels_path.join(ENFORCE),
                format!("{ENFORCE}: {text:?} is not a level (privileged, baseline, restricted); {advice}"),
            ),
            // Privileged is what its workloads need: nothing stricter can be asked of it.
            Some((_, Some(Level::Privileged))) if privileged_only => {}
            Some((_, Some(Level::Privileged))) => {
                let mut reported = crate::context::Reported::new(
                    labels_path.join(ENFORCE),
                    format!("namespace {name} enforces privileged, which allows anything; {advice}"),
                );
                // Some workloads need privileged: the label is right for them, and the advice
                // (move the others) is hardening, not a missing control.
                if strictest_ok == Some(Level::Privileged) {
                    reported.severity = Some(palisade_core::Severity::Low);
                }
                cx.report_with(reported);
            }
            Some((_, Some(enforced))) => {
                let rejected: Vec<&String> = needs
                    .iter()
                    .filter(|(level, _)| **level < enforced)
                    .flat_map(|(_, names)| names)
                    .collect();
                if !rejected.is_empty() {
                    let shown = palisade_core::words::first_few(&rejected, 5);
                    cx.report(
                        labels_path.join(ENFORCE),
                        format!("namespace {name} enforces {enforced} (policy {version}), which would reject the pods of {shown}"),
                    );
                } else if enforced == Level::Baseline && strictest_ok == Some(Level::Restricted) {
                    cx.report(
                        labels_path.join(ENFORCE),
                        format!("namespace {name} enforces baseline; {advice}"),
                    );
                }
            }
        }
    }
}
