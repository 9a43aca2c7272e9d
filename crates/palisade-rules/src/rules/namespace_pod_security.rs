use std::collections::BTreeMap;

use palisade_core::tree::Tree as _;
use palisade_inventory::PodSpec;
use palisade_inventory::podspec::{grouped_pod_spec, grouped_templates};

use crate::context::Context;
use crate::pss::Level;
use crate::pss::admission::{PolicyVersion, level_of};
use crate::rule::{Check, Target};
use crate::rules::namespace_scope::SYSTEM_NAMESPACES;
use crate::settings::Setting;

use palisade_k8s::pod_security::{
    AdmissionDefaults, ENFORCE_LABEL as ENFORCE, ENFORCE_VERSION_LABEL as ENFORCE_VERSION,
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
    /// A namespace without the label enforces what the API server's PodSecurity admission
    /// configuration sets as its default (`defaults.enforce`, privileged when unset), and an
    /// exempt namespace enforces nothing whatever its labels say. Those come from
    /// `palisade.toml` (`[rules] pod-security-defaults = ["enforce=baseline"]`,
    /// `pod-security-exempt-namespaces`), else from an `AdmissionConfiguration` or
    /// `PodSecurityConfiguration` of the input (of the namespace's own directory or
    /// rendering); without either, no default is assumed.
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

/// `[rules] pod-security-defaults`: what the API server's PodSecurity admission configuration
/// sets for namespaces without labels.
pub(crate) static POD_SECURITY_DEFAULTS: Setting = Setting {
    key: "pod-security-defaults",
    help: "what the API server's PodSecurity admission configuration sets for namespaces without an enforce label: `enforce=LEVEL` and `enforce-version=VERSION` (NS002)",
    example: &["enforce=baseline", "enforce-version=latest"],
    parse: parse_default,
};

/// `[rules] pod-security-exempt-namespaces`: the namespaces that configuration exempts.
pub(crate) static POD_SECURITY_EXEMPT_NAMESPACES: Setting = Setting {
    key: "pod-security-exempt-namespaces",
    help: "namespaces the API server's PodSecurity admission configuration exempts from enforcement (NS002)",
    example: &["ci-runners"],
    parse: |entry| Ok(entry.trim().to_string()),
};

fn parse_default(entry: &str) -> Result<String, String> {
    let key = POD_SECURITY_DEFAULTS.key;
    let (name, value) = entry
        .split_once('=')
        .map(|(n, v)| (n.trim(), v.trim()))
        .ok_or_else(|| {
            format!("{key}: `{entry}` is not `enforce=LEVEL` or `enforce-version=VERSION`")
        })?;
    match name {
        "enforce" => Level::parse(value)
            .map(|level| format!("enforce={level}"))
            .ok_or_else(|| {
                format!("{key}: `{value}` is not a level (privileged, baseline, restricted)")
            }),
        "enforce-version" => PolicyVersion::parse(value)
            .map(|_| format!("enforce-version={value}"))
            .ok_or_else(|| format!("{key}: `{value}` is not a policy version (latest or v1.N)")),
        other => Err(format!(
            "{key}: `{other}` is not enforce or enforce-version"
        )),
    }
}

/// The cluster's Pod Security defaults, and where they were read, for messages.
struct ClusterDefaults {
    defaults: AdmissionDefaults,
    from: String,
}

/// The defaults `palisade.toml` declares, else those of a PodSecurity admission configuration
/// of the input that may speak for the namespace judged.
fn cluster_defaults(cx: &Context<'_>) -> Option<ClusterDefaults> {
    let declared = cx.settings.list(&POD_SECURITY_DEFAULTS);
    let exempt = cx.settings.list(&POD_SECURITY_EXEMPT_NAMESPACES);
    if !declared.is_empty() || !exempt.is_empty() {
        let value = |name: &str| {
            declared
                .iter()
                .find_map(|e| e.strip_prefix(name)?.strip_prefix('='))
        };
        return Some(ClusterDefaults {
            defaults: AdmissionDefaults {
                enforce: value("enforce").and_then(Level::parse),
                enforce_version: value("enforce-version").map(str::to_string),
                exempt_namespaces: exempt.to_vec(),
            },
            from: "palisade.toml's [rules]".into(),
        });
    }
    CONFIGURATION_KINDS.iter().find_map(|(group, kind)| {
        cx.inventory.of_kind(group, kind).find_map(|config| {
            if !cx.same_scope(config) {
                return None;
            }
            let defaults = palisade_k8s::pod_security::admission_defaults(&config.value)?;
            Some(ClusterDefaults {
                defaults,
                from: format!("the {kind} of the input"),
            })
        })
    })
}

/// The kinds that carry a PodSecurity admission configuration.
const CONFIGURATION_KINDS: &[(&str, &str)] = &[
    ("apiserver.config.k8s.io", "AdmissionConfiguration"),
    ("apiserver.k8s.io", "AdmissionConfiguration"),
    (
        "pod-security.admission.config.k8s.io",
        "PodSecurityConfiguration",
    ),
];

/// The level each of the namespace's workloads needs, the worst first; each workload once.
fn workload_needs(
    cx: &Context<'_>,
    namespace: &str,
    version: PolicyVersion,
) -> BTreeMap<Level, Vec<String>> {
    let mut needs: BTreeMap<Level, Vec<String>> = BTreeMap::new();
    for index in cx.objects_in_namespace(namespace) {
        // Pods and ReplicaSets of a controller in the inventory are judged on it, and those
        // made from a template of a RayCluster, a JobSet, ... on that template.
        if cx.inventory.controller_of(index).is_some()
            || cx.inventory.judged_through_template(index).is_some()
        {
            continue;
        }
        let object = &cx.inventory.objects[index];
        let templates = grouped_templates(object);
        let pods: Vec<(PodSpec<'_>, Option<String>)> = match palisade_inventory::pod_spec(object) {
            Some(pod) => vec![(pod, None)],
            None => templates
                .iter()
                .map(|t| (grouped_pod_spec(object, t), Some(t.label())))
                .collect(),
        };
        for (pod, template) in pods {
            if pod.value.is_null() {
                continue;
            }
            let (level, _) = level_of(object.value.at(pod.metadata_pointer), pod.value, version);
            let template = template.map(|t| format!(" ({t})")).unwrap_or_default();
            needs.entry(level).or_default().push(format!(
                "{} {}{template}",
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
    needs
}

/// What the message advises from `needs`: the strictest level every workload meets, or the
/// workloads that need privileged.
fn advice(needs: &BTreeMap<Level, Vec<String>>) -> String {
    let count: usize = needs.values().map(Vec::len).sum();
    match needs.keys().next().copied() {
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
    }
}

impl Check for NamespacePodSecurity {
    fn reads(&self) -> &'static [(&'static str, &'static str)] {
        palisade_inventory::podspec::WORKLOAD_KINDS
    }

    fn settings(&self) -> &'static [&'static Setting] {
        static SETTINGS: &[&Setting] = &[&POD_SECURITY_DEFAULTS, &POD_SECURITY_EXEMPT_NAMESPACES];
        SETTINGS
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
        let metadata = palisade_core::JsonPointer::root().join("metadata");
        let cluster = cluster_defaults(cx);
        let label = cx
            .map_at(&labels_path)
            .and_then(|l| l.get(ENFORCE))
            .map(|v| v.as_str().unwrap_or(""));
        // The policy version admission applies here: the namespace's pin, else the cluster's
        // default for a namespace that takes the default level, else the one asked for
        // (`--pss-version`), else the latest.
        let pinned = cx
            .map_at(&labels_path)
            .and_then(|l| l.get(ENFORCE_VERSION))
            .and_then(|v| v.as_str());
        let default_pin = cluster
            .as_ref()
            .filter(|_| label.is_none())
            .and_then(|c| c.defaults.enforce_version.as_deref());
        let version = match pinned.map(|p| (p, PolicyVersion::parse(p))) {
            Some((_, Some(version))) => version,
            Some((text, None)) => {
                cx.report(
                    labels_path.join(ENFORCE_VERSION),
                    format!("{ENFORCE_VERSION}: {text:?} is not a policy version (latest or v1.N); admission rejects this label, and the latest version is assumed here"),
                );
                cx.settings.pss_version()
            }
            None => default_pin
                .and_then(PolicyVersion::parse)
                .unwrap_or_else(|| cx.settings.pss_version()),
        };
        let needs = workload_needs(cx, name, version);
        let strictest_ok = needs.keys().next().copied();
        let privileged_only = strictest_ok == Some(Level::Privileged) && needs.len() == 1;
        let advice = advice(&needs);
        if let Some(cluster) = &cluster
            && cluster.defaults.exempt_namespaces.iter().any(|n| n == name)
        {
            if !privileged_only {
                cx.report(
                    metadata,
                    format!(
                        "namespace {name} is exempt from Pod Security admission ({}), so nothing is enforced there whatever its labels say; {advice}",
                        cluster.from
                    ),
                );
            }
            return;
        }
        // Without a label, the cluster's default level, when one is known.
        let defaulted = cluster.as_ref().filter(|_| label.is_none()).map(|c| {
            (
                c.defaults.enforce.unwrap_or(Level::Privileged),
                c.from.as_str(),
            )
        });
        let (at, by, policy) = match defaulted {
            Some((_, from)) => (
                metadata.clone(),
                format!(" by the cluster's default ({from})"),
                format!(" by the cluster's default ({from}; policy {version})"),
            ),
            None => (
                labels_path.join(ENFORCE),
                String::new(),
                format!(" (policy {version})"),
            ),
        };
        let enforced = match (label, defaulted) {
            (Some(text), _) => Level::parse(text).ok_or(text),
            (None, Some((level, _))) => Ok(level),
            (None, None) => {
                cx.report(
                    metadata,
                    format!("namespace {name} has no {ENFORCE} label, so Pod Security admission enforces nothing; {advice}"),
                );
                return;
            }
        };
        match enforced {
            Err(text) => cx.report(
                labels_path.join(ENFORCE),
                format!("{ENFORCE}: {text:?} is not a level (privileged, baseline, restricted); {advice}"),
            ),
            // Privileged is what its workloads need: nothing stricter can be asked of it.
            Ok(Level::Privileged) if privileged_only => {}
            Ok(Level::Privileged) => {
                let mut reported = crate::context::Reported::new(
                    at,
                    format!("namespace {name} enforces privileged{by}, which allows anything; {advice}"),
                );
                // Some workloads need privileged: the level is right for them, and the advice
                // (move the others) is hardening, not a missing control.
                if strictest_ok == Some(Level::Privileged) {
                    reported.severity = Some(palisade_core::Severity::Low);
                }
                cx.report_with(reported);
            }
            Ok(enforced) => {
                let rejected: Vec<&String> = needs
                    .iter()
                    .filter(|(level, _)| **level < enforced)
                    .flat_map(|(_, names)| names)
                    .collect();
                if !rejected.is_empty() {
                    let shown = palisade_core::words::first_few(&rejected, 5);
                    cx.report(
                        at,
                        format!("namespace {name} enforces {enforced}{policy}, which would reject the pods of {shown}"),
                    );
                } else if enforced == Level::Baseline && strictest_ok == Some(Level::Restricted) {
                    cx.report(at, format!("namespace {name} enforces baseline{by}; {advice}"));
                }
            }
        }
    }
}
