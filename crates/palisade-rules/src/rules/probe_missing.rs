use palisade_inventory::ContainerKind;

use crate::context::Context;
use crate::rule::{Check, Target};

declare_rule! {
    /// ## What it checks
    /// Long-running workloads (every pod-spec kind except Job and CronJob, and Pods whose
    /// `restartPolicy` is `Never` or `OnFailure`) whose containers have no `livenessProbe` or no
    /// `readinessProbe`. Init and ephemeral containers
    /// are not checked; sidecars (`restartPolicy: Always` init containers) are.
    ///
    /// ## Why it matters
    /// Without a readiness probe a Service sends traffic to pods that are not ready, and a
    /// rollout of a broken version proceeds; without a liveness probe a wedged process (for
    /// example one exhausted by a slow-loris or a resource-exhaustion attack) is never
    /// restarted. The NSA/CISA guide counts both among the application-security practices that
    /// keep a service available (MITRE ATT&CK T1499).
    ///
    /// ## Severity
    /// Info: an availability and operability concern.
    ///
    /// ## Failing example
    /// ```yaml
    /// containers:
    /// - name: web
    ///   image: registry.example.com/web:2.1.0
    /// ```
    ///
    /// ## Passing example
    /// ```yaml
    /// containers:
    /// - name: web
    ///   image: registry.example.com/web:2.1.0
    ///   readinessProbe: {httpGet: {path: /ready, port: 8080}}
    ///   livenessProbe: {httpGet: {path: /healthz, port: 8080}}
    /// ```
    ///
    /// ## Remediation
    /// Add a `readinessProbe` that checks the service can answer and a `livenessProbe` that
    /// checks the process is not wedged.
    ///
    /// ## References
    /// - NSA/CISA Kubernetes Hardening Guide v1.2, "Upgrading and application security practices"
    /// - Kubernetes documentation, "Configure Liveness, Readiness and Startup Probes"
    pub struct ProbeMissing {
        id: "POD028",
        slug: "probe-missing",
        title: "Container has no liveness or readiness probe",
        severity: Info,
        target: Target::PodSpec,
        controls: [
            NsaCisa12 "upgrading/application-security",
            MitreAttack "T1499",
        ],
        remediation: "Add `readinessProbe` and `livenessProbe` to the container.",
    }
}

impl Check for ProbeMissing {
    fn check(&self, cx: &mut Context<'_>) {
        if matches!(
            cx.object.id.kind.as_str(),
            "Job" | "CronJob" | "PodTemplate"
        ) {
            return;
        }
        let restart = cx.pod_field("restartPolicy");
        if matches!(cx.str_at(&restart), Some("Never" | "OnFailure")) {
            return;
        }
        for container in cx.containers() {
            let sidecar = container.kind == ContainerKind::Init
                && container
                    .value
                    .get("restartPolicy")
                    .and_then(|v| v.as_str())
                    == Some("Always");
            if container.kind != ContainerKind::Container && !sidecar {
                continue;
            }
            for probe in ["readinessProbe", "livenessProbe"] {
                let path = container.field(&[probe]);
                if cx.map_at(&path).is_none() {
                    cx.report(path, format!("{} has no {probe}", container.describe()));
                }
            }
        }
    }
}
