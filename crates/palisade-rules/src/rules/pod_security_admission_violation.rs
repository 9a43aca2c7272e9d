use std::borrow::Cow;

use palisade_core::tree::Tree as _;
use palisade_core::{Control, Framework, JsonPointer};

use crate::context::Context;
use crate::pss::admission::evaluate;
use crate::rule::{Check, Target};
use crate::settings::RuleSettings;

declare_rule! {
    /// ## What it checks
    /// Pod specs (of every workload kind) that the Pod Security admission plugin would reject
    /// at the level and policy version being assessed: `--framework pss-baseline` or
    /// `pss-restricted` (`pss` means Restricted, which includes Baseline), at `--pss-version`
    /// (default: the latest). Each failed check is one finding that cites exactly the
    /// control it violates, so `pss:restricted/seccomp` fails for an `Unconfined` profile and
    /// `pss:restricted/running-as-non-root-user` only for an explicit `runAsUser: 0`.
    ///
    /// The checks are the plugin's own, version by version (the safe sysctls of each
    /// version, Windows pods exempted from some Restricted checks from v1.25, the host probe
    /// check from v1.34, user-namespace pods allowed an unmasked `/proc` at Baseline from
    /// v1.35); they are tested against every fixture the plugin ships for v1.0-v1.37. The
    /// hardening rules POD001-POD017 differ from admission where hardening advice and the
    /// standard's letter part (POD003 accepts a non-zero `runAsUser`, POD008 a complete
    /// explicit drop list); this rule is the standard's letter.
    ///
    /// It runs only when a Pod Security framework is assessed.
    ///
    /// ## Why it matters
    /// A workload that violates the level its namespace enforces is rejected at deploy time;
    /// one that violates the level it is meant to meet runs with the privileges the standard
    /// exists to remove (MITRE ATT&CK T1611).
    ///
    /// ## Severity
    /// High: the pod either fails to deploy or runs outside its security level.
    ///
    /// ## Failing example
    /// ```yaml
    /// spec:
    ///   securityContext:
    ///     seccompProfile: {type: Unconfined}
    ///   containers:
    ///   - name: app
    ///     image: registry.example.com/app:1.0
    /// ```
    ///
    /// ## Passing example
    /// ```yaml
    /// spec:
    ///   securityContext:
    ///     runAsNonRoot: true
    ///     seccompProfile: {type: RuntimeDefault}
    ///   containers:
    ///   - name: app
    ///     image: registry.example.com/app:1.0
    ///     securityContext:
    ///       allowPrivilegeEscalation: false
    ///       capabilities: {drop: [ALL]}
    /// ```
    ///
    /// ## Remediation
    /// Change the field each finding names, or run the workload in a namespace whose
    /// `pod-security.kubernetes.io/enforce` level it needs (with a reason).
    ///
    /// ## References
    /// - Kubernetes Pod Security Standards, and the Pod Security admission plugin
    ///   (`k8s.io/pod-security-admission`, its `policy` checks and `test/testdata` fixtures)
    pub struct PodSecurityAdmissionViolation {
        id: "POD031",
        slug: "pod-security-admission-violation",
        title: "Pod would be rejected by Pod Security admission at the assessed level",
        severity: High,
        target: Target::PodSpec,
        controls: [
            Pss "baseline/host-process",
            Pss "baseline/host-namespaces",
            Pss "baseline/privileged-containers",
            Pss "baseline/capabilities",
            Pss "baseline/hostpath-volumes",
            Pss "baseline/host-ports",
            Pss "baseline/apparmor",
            Pss "baseline/selinux",
            Pss "baseline/proc-mount-type",
            Pss "baseline/seccomp",
            Pss "baseline/sysctls",
            Pss "baseline/host-probes",
            Pss "restricted/volume-types",
            Pss "restricted/privilege-escalation",
            Pss "restricted/running-as-non-root",
            Pss "restricted/running-as-non-root-user",
            Pss "restricted/seccomp",
            Pss "restricted/capabilities",
            Pss "restricted/proc-mount-type",
        ],
        remediation: "Change the named field to what the Pod Security level allows, or run the workload where a lower level is enforced on purpose.",
    }
}

impl Check for PodSecurityAdmissionViolation {
    fn unconfigured(&self, settings: &RuleSettings) -> Option<&'static str> {
        settings
            .pod_security
            .is_none()
            .then_some("runs when a Pod Security framework is assessed (--framework pss, pss-baseline or pss-restricted)")
    }

    fn check(&self, cx: &mut Context<'_>) {
        let (Some(target), Some(pod)) = (cx.settings.pod_security, cx.pod) else {
            return;
        };
        if pod.value.is_null() {
            return;
        }
        let metadata = cx.object.value.at(pod.metadata_pointer);
        let spec_root = JsonPointer::parse(pod.pointer).unwrap_or_default();
        let metadata_root = JsonPointer::parse(pod.metadata_pointer).unwrap_or_default();
        // The Pods an operator makes carry the security context it gives containers that set
        // none; the check judges those Pods.
        let defaulted = palisade_inventory::operator_pods::container_security_defaults(cx.object)
            .map(|d| {
                palisade_inventory::operator_pods::with_container_security_defaults(pod.value, d)
            });
        let pod_value = defaulted.as_ref().unwrap_or(pod.value);
        let violations = evaluate(metadata, pod_value, target.level, target.version);
        for (at, violations) in crate::pss::admission::by_field(violations) {
            let (root, rest) = match at.strip_prefix("/spec") {
                Some(rest) => (&spec_root, rest),
                None => (&metadata_root, at.strip_prefix("/metadata").unwrap_or("")),
            };
            let path = JsonPointer::parse(&format!("{}{rest}", root.as_str())).unwrap_or_default();
            let controls = violations
                .iter()
                .map(|v| Control {
                    framework: Framework::Pss,
                    id: Cow::Borrowed(v.control),
                })
                .collect();
            let checks: Vec<&str> = violations.iter().map(|v| v.check).collect();
            cx.report_citing(
                path,
                format!(
                    "{} (Pod Security {} {}, check {})",
                    violations[0].message,
                    target.level,
                    target.version,
                    checks.join(", ")
                ),
                controls,
            );
        }
    }
}
