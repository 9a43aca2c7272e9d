use std::collections::HashMap;

use palisade_core::Severity;
use palisade_inventory::Inventory;
use palisade_k8s::exposure::Exposure;
use palisade_k8s::ray::HeadPublished;

use crate::context::{Context, Derived, Reported};
use crate::rule::{Check, Target};

declare_rule! {
    /// ## What it checks
    /// KubeRay clusters (RayCluster, and the clusters a RayService or RayJob makes) whose head
    /// service is published outside the cluster (`headGroupSpec.serviceType` or
    /// `headService.spec.type` `LoadBalancer` or `NodePort`, `headService.spec.externalIPs`, or
    /// `enableIngress: true`) while Ray
    /// authenticates nobody: neither `authOptions` nor `RAY_AUTH_MODE` on the head container
    /// turns token authentication on; and, from manifests, heads whose service (`<cluster>-head-svc`,
    /// which KubeRay makes) an Ingress, Route or public Gateway's route names on a port that
    /// runs code (the dashboard's, the Ray client's, the GCS's; not Serve's) (high). Read from manifests, the head template's NetworkPolicies
    /// are evaluated as the network engine evaluates them (`palisade net exposure`): a head
    /// they keep every outside address and the ingress controller from, for certain, is not
    /// reported, and what they let in is said.
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
    /// every node's address, on external IPs or behind the operator's Ingress, where who
    /// reaches it depends on the network and the Ingress controller.
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

impl Check for RayDashboardExposed {
    fn models(&self, models: &mut crate::context::Models) {
        crate::network::ask(models);
    }

    fn reads(&self) -> &'static [(&'static str, &'static str)] {
        palisade_net::READS
    }

    fn check(&self, cx: &mut Context<'_>) {
        let id = &cx.object.id;
        let Some(cluster) = palisade_k8s::ray::cluster(id.group(), &id.kind, &cx.object.value)
        else {
            return;
        };
        if cluster.authenticates() {
            return;
        }
        let published = cluster.published();
        let routed = cx
            .derived_from(routes_to_heads)
            .0
            .get(&cx.object_index)
            .cloned()
            .unwrap_or_default();
        if published.is_empty() && routed.is_empty() {
            return;
        }
        // What the head's ingress policies let in from outside, where the network holds its
        // template (from manifests): the answer the attack graph's exposure gives too.
        let facts = crate::network::facts(cx);
        let outside = facts
            .template_endpoint(cx.object_index, cluster.head_pod_spec().as_str())
            .map(|head| facts.engine.from_outside(head));
        let policies = match &outside {
            // Its policies keep everything from outside out, for certain.
            Some(v) if v.conn.is_empty() && v.not_evaluated.is_empty() => return,
            Some(v) if !v.conn.is_all() => format!(
                "; its NetworkPolicies let in {} from outside{}",
                v.conn,
                if v.not_evaluated.is_empty() {
                    String::new()
                } else {
                    format!(", or more ({})", v.notes())
                }
            ),
            _ => String::new(),
        };
        let open = "Ray authenticates nobody (neither authOptions nor RAY_AUTH_MODE turns token authentication on), so whoever reaches the dashboard's Jobs API runs code on the cluster";
        for published in published {
            let severity = match &published {
                HeadPublished::Service(Exposure::PublicLoadBalancer, _) => None,
                HeadPublished::Service(Exposure::NodePort | Exposure::ExternalIps, _)
                | HeadPublished::Ingress(_) => Some(Severity::High),
            };
            let message = format!("{}, and {open}{policies}", published.describe());
            let mut reported = Reported::new(published.field().clone(), message);
            reported.severity = severity;
            cx.report_with(reported);
        }
        for via in routed {
            let message = format!("{via}, and {open}{policies}");
            let mut reported = Reported::new(cluster.head_pointer(), message);
            reported.severity = Some(Severity::High);
            cx.report_with(reported);
        }
    }
}

/// What routes traffic from outside the cluster to the head Service KubeRay makes for each
/// Ray cluster of the inventory (by the index of its object): an Ingress, a Route, a Gateway
/// API route of a public Gateway naming `<cluster>-head-svc`, from manifests that do not hold
/// that Service themselves, on a port that runs code (the dashboard's Jobs API, the client,
/// the GCS: a route to Serve's port reaches the applications deployed). Found once per
/// evaluation: the inventory's doors are many to find.
struct RoutesToHeads(HashMap<usize, Vec<String>>);

/// A Ray cluster's object (its index) and its head Service's ports that run code, as Service
/// port entries.
type HeadPorts = (usize, Vec<serde_json::Value>);

fn routes_to_heads(inventory: &Inventory, _: &Derived) -> RoutesToHeads {
    // Objects written without a namespace land in `default`, as `kubectl apply` puts them
    // (and as `palisade net` places them).
    let placer = palisade_net::model::Placer {
        inventory,
        placement: palisade_net::model::Placement::Default,
    };
    let ns_of = |o: &palisade_inventory::Object| placer.namespace(o);
    // By (namespace, head Service name): each cluster's object and the ports that run code.
    let mut heads: HashMap<(String, String), Vec<HeadPorts>> = HashMap::new();
    for (index, object, cluster) in palisade_net::exposure::ray_clusters(inventory) {
        let Some(name) =
            palisade_net::exposure::kuberay_head_service(inventory, object, &cluster, &ns_of)
        else {
            continue;
        };
        let code_ports = cluster
            .code_ports()
            .into_iter()
            .map(|(name, port)| serde_json::json!({"name": name, "port": port, "targetPort": port}))
            .collect();
        heads
            .entry((ns_of(object), name))
            .or_default()
            .push((index, code_ports));
    }
    let mut out: HashMap<usize, Vec<String>> = HashMap::new();
    if heads.is_empty() {
        return RoutesToHeads(out);
    }
    for door in palisade_net::exposure::doors(inventory, &ns_of) {
        let key = (door.namespace.clone(), door.service.to_string());
        let Some(clusters) = heads.get(&key).filter(|_| door.external) else {
            continue;
        };
        for (index, code_ports) in clusters {
            if door.names_a_port() && !code_ports.iter().any(|p| door.opens(p)) {
                continue;
            }
            out.entry(*index).or_default().push(format!(
                "{} routes to {}, the head service KubeRay makes",
                door.via, door.service
            ));
        }
    }
    for vias in out.values_mut() {
        vias.sort();
        vias.dedup();
    }
    RoutesToHeads(out)
}
