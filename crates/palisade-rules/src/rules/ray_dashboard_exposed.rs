use palisade_core::tree::Tree as _;
use palisade_core::{JsonPointer, Severity};
use palisade_k8s::exposure::{Exposure, service_exposure};
use serde_json::{Value, json};

use crate::context::{Context, Reported};
use crate::rule::{Check, Target};

declare_rule! {
    /// ## What it checks
    /// KubeRay clusters (RayCluster, and the clusters a RayService or RayJob makes) whose head
    /// service is published outside the cluster (`headGroupSpec.serviceType` or
    /// `headService.spec.type` `LoadBalancer` or `NodePort`, or `enableIngress: true`) while Ray
    /// authenticates nobody: neither `authOptions` nor `RAY_AUTH_MODE` on the head container
    /// turns token authentication on.
    ///
    /// ## Why it matters
    /// The head service carries the Ray dashboard and its Jobs API, the client port and the
    /// GCS. Ray's own documentation says it: anyone who reaches the dashboard can run arbitrary
    /// code on the cluster. Unauthenticated Ray clusters reachable from the internet were taken
    /// over at scale to mine and steal credentials and models (the "ShadowRay" campaign,
    /// CVE-2023-48022, which the vendor disputes because exposing Ray is the user's choice). Ray
    /// added token authentication in 2.52, off by default.
    ///
    /// ## Severity
    /// Critical behind a public load balancer: arbitrary code from the internet, with the
    /// head's service account and whatever data and accelerators the cluster has. High on
    /// every node's address or behind the operator's Ingress, where who reaches it depends on
    /// the network and the Ingress controller.
    ///
    /// ## Failing example
    /// ```yaml
    /// apiVersion: ray.io/v1
    /// kind: RayCluster
    /// spec:
    ///   headGroupSpec:
    ///     serviceType: LoadBalancer
    /// ```
    ///
    /// ## Passing example
    /// ```yaml
    /// apiVersion: ray.io/v1
    /// kind: RayCluster
    /// spec:
    ///   authOptions:
    ///     mode: token
    ///   headGroupSpec:
    ///     serviceType: ClusterIP
    /// ```
    ///
    /// ## Remediation
    /// Keep the head service `ClusterIP` and reach the dashboard with `kubectl port-forward`,
    /// or put an authenticating proxy in front of it. Turn Ray's token authentication on
    /// (`authOptions` with KubeRay 1.5.1 or later, or `RAY_AUTH_MODE=token` with a token from
    /// a Secret on every Ray container) and serve it over TLS.
    ///
    /// ## References
    /// - Ray documentation, "Ray token authentication" and "Ingress" (the dashboard's warning)
    /// - CVE-2023-48022 (Anyscale Ray Jobs API, unauthenticated remote code execution)
    /// - MITRE ATT&CK T1190 (Exploit Public-Facing Application)
    pub struct RayDashboardExposed {
        id: "NET021",
        slug: "ray-dashboard-exposed",
        title: "Ray dashboard and Jobs API exposed without authentication",
        severity: Critical,
        target: Target::Kinds(&[
            ("ray.io", "RayCluster"),
            ("ray.io", "RayService"),
            ("ray.io", "RayJob"),
        ]),
        controls: [
            NsaCisa12 "network/network-policies",
            MitreAttack "T1190",
            MitreAttack "T1610",
        ],
        remediation: "Keep the Ray head service ClusterIP (port-forward or an authenticating proxy) and turn on Ray token authentication (`authOptions`, or `RAY_AUTH_MODE=token`).",
    }
}

/// Where each kind keeps its cluster's spec.
fn cluster_spec(kind: &str) -> Option<&'static str> {
    match kind {
        "RayCluster" => Some("/spec"),
        "RayService" => Some("/spec/rayClusterConfig"),
        "RayJob" => Some("/spec/rayClusterSpec"),
        _ => None,
    }
}

/// Whether Ray authenticates requests: `authOptions.mode`, or `RAY_AUTH_MODE` written on a
/// container of the head template, set to anything but `disabled`.
fn authenticates(cluster: &Value, head: &Value) -> bool {
    let on = |mode: Option<&str>| {
        mode.is_some_and(|m| !m.trim().is_empty() && !m.eq_ignore_ascii_case("disabled"))
    };
    if on(cluster.at("/authOptions/mode").and_then(Value::as_str)) {
        return true;
    }
    head.at("/template/spec/containers")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|c| c.get("env").and_then(Value::as_array))
        .flatten()
        .filter(|e| e.get("name").and_then(Value::as_str) == Some("RAY_AUTH_MODE"))
        .any(|e| on(e.get("value").and_then(Value::as_str)))
}

/// The head service as KubeRay makes it: `headService`, its type from `serviceType` when it
/// gives none.
fn head_service(head: &Value) -> Value {
    let mut service = head
        .get("headService")
        .cloned()
        .unwrap_or_else(|| json!({}));
    if service.at("/spec/type").is_none()
        && let Some(service_type) = head.get("serviceType").cloned()
        && let Some(object) = service.as_object_mut()
    {
        let spec = object.entry("spec").or_insert_with(|| json!({}));
        if let Some(spec) = spec.as_object_mut() {
            spec.insert("type".into(), service_type);
        }
    }
    service
}

impl Check for RayDashboardExposed {
    fn check(&self, cx: &mut Context<'_>) {
        let Some(at) = cluster_spec(&cx.object.id.kind) else {
            return;
        };
        let Some(cluster) = cx.object.value.at(at) else {
            return;
        };
        let head_at = JsonPointer::parse(at)
            .unwrap_or_default()
            .join("headGroupSpec");
        let Some(head) = cluster.get("headGroupSpec") else {
            return;
        };
        if authenticates(cluster, head) {
            return;
        }
        let open = "Ray authenticates nobody (neither authOptions nor RAY_AUTH_MODE turns token authentication on), so whoever reaches the dashboard's Jobs API runs code on the cluster";
        let service = head_service(head);
        let exposure = match service_exposure(&service) {
            Some(exposure @ (Exposure::PublicLoadBalancer | Exposure::NodePort)) => Some(exposure),
            _ => None,
        };
        if let Some(exposure) = exposure {
            let path = if head.at("/headService/spec/type").is_some() {
                head_at.join_all(["headService", "spec", "type"])
            } else {
                head_at.join("serviceType")
            };
            let mut reported = Reported::new(
                path,
                format!(
                    "the Ray head service is published on {}, and {open}",
                    exposure.reach()
                ),
            );
            if exposure == Exposure::NodePort {
                reported.severity = Some(Severity::High);
            }
            cx.report_with(reported);
        }
        if head.get("enableIngress").and_then(Value::as_bool) == Some(true) {
            let mut reported = Reported::new(
                head_at.join("enableIngress"),
                format!("the operator puts an Ingress in front of the Ray dashboard, and {open}"),
            );
            reported.severity = Some(Severity::High);
            cx.report_with(reported);
        }
    }
}
