//! KubeRay clusters: where a RayCluster, RayService or RayJob keeps its cluster's spec, how
//! the operator publishes the head (the Ray dashboard and its Jobs API, the client port and
//! the GCS), and whether Ray authenticates who reaches it. NET021 and the attack graph ask
//! these questions; this module answers them once.

use palisade_core::JsonPointer;
use palisade_core::tree::Tree as _;
use serde_json::{Value, json};

use crate::exposure::{Exposure, service_exposure};

/// KubeRay's API group.
pub const GROUP: &str = "ray.io";

/// The head service's ports when the head container declares none (KubeRay's
/// `getServicePorts` defaults).
const DEFAULT_HEAD_PORTS: &[(&str, u16)] = &[
    ("client", 10001),
    ("dashboard", 8265),
    ("gcs-server", 6379),
    ("serve", 8000),
    ("metrics", 8080),
];

/// One KubeRay cluster written in an object: a RayCluster's spec, or the cluster a
/// RayService or RayJob makes.
#[derive(Debug, Clone, Copy)]
pub struct RayCluster<'v> {
    /// Where the cluster's spec stands in its object (`/spec`, `/spec/rayClusterConfig`).
    pub at: &'static str,
    /// The cluster's spec.
    pub spec: &'v Value,
    /// Its `headGroupSpec`.
    pub head: &'v Value,
    /// Where a RayJob keeps the pod spec of the Pod that submits its entrypoint to the
    /// cluster's Jobs API (`/spec/submitterPodTemplate/spec`); `None` for other kinds.
    pub submitter: Option<&'static str>,
}

/// What a pod template of a Ray cluster's object runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    /// The head: the dashboard, the Jobs API, the GCS.
    Head,
    /// A worker group's nodes.
    Worker,
    /// A RayJob's submitter, which submits the job to the head.
    Submitter,
}

/// How the operator publishes a cluster's head outside the cluster.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HeadPublished {
    /// The head service's type or external IPs, with the field that says so.
    Service(Exposure, JsonPointer),
    /// `enableIngress: true`: the operator puts an Ingress in front of the dashboard.
    Ingress(JsonPointer),
}

impl HeadPublished {
    /// The field that publishes the head.
    pub fn field(&self) -> &JsonPointer {
        match self {
            HeadPublished::Service(_, field) | HeadPublished::Ingress(field) => field,
        }
    }

    /// What publishes the head, for a message: `the Ray head service is published on a
    /// public load balancer`.
    pub fn describe(&self) -> String {
        match self {
            HeadPublished::Service(exposure, _) => {
                format!("the Ray head service is published on {}", exposure.reach())
            }
            HeadPublished::Ingress(_) => {
                "the operator puts an Ingress in front of the Ray dashboard".to_string()
            }
        }
    }
}

/// The Ray cluster `object` (of `group` and `kind`) writes, when it is a KubeRay object with
/// a head group.
pub fn cluster<'v>(group: &str, kind: &str, object: &'v Value) -> Option<RayCluster<'v>> {
    if group != GROUP {
        return None;
    }
    let at = match kind {
        "RayCluster" => "/spec",
        "RayService" => "/spec/rayClusterConfig",
        "RayJob" => "/spec/rayClusterSpec",
        _ => return None,
    };
    let spec = object.at(at)?;
    let head = spec.get("headGroupSpec")?;
    let submitter = (kind == "RayJob").then_some("/spec/submitterPodTemplate/spec");
    Some(RayCluster {
        at,
        spec,
        head,
        submitter,
    })
}

impl<'v> RayCluster<'v> {
    /// Where `headGroupSpec` stands in the object.
    pub fn head_pointer(&self) -> JsonPointer {
        JsonPointer::parse(self.at)
            .unwrap_or_default()
            .join("headGroupSpec")
    }

    /// The pointer of the head's pod spec (`/spec/headGroupSpec/template/spec`).
    pub fn head_pod_spec(&self) -> JsonPointer {
        self.head_pointer().join_all(["template", "spec"])
    }

    /// What the pod spec at `pointer` of the object runs: the head, a worker group, a
    /// RayJob's submitter; `None` for another pointer.
    pub fn role(&self, pointer: &str) -> Option<Role> {
        if self.head_pod_spec().as_str() == pointer {
            return Some(Role::Head);
        }
        let worker = pointer
            .strip_prefix(self.at)
            .is_some_and(|rest| rest.starts_with("/workerGroupSpecs/"));
        if worker {
            return Some(Role::Worker);
        }
        (self.submitter == Some(pointer)).then_some(Role::Submitter)
    }

    /// Whether Ray authenticates requests: `authOptions.mode`, or `RAY_AUTH_MODE` written on
    /// a container of the head template, set to anything but `disabled`.
    pub fn authenticates(&self) -> bool {
        let on = |mode: Option<&str>| {
            mode.is_some_and(|m| !m.trim().is_empty() && !m.eq_ignore_ascii_case("disabled"))
        };
        if on(self.spec.at("/authOptions/mode").and_then(Value::as_str)) {
            return true;
        }
        self.head
            .at("/template/spec/containers")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(|c| c.get("env").and_then(Value::as_array))
            .flatten()
            .filter(|e| e.get("name").and_then(Value::as_str) == Some("RAY_AUTH_MODE"))
            .any(|e| on(e.get("value").and_then(Value::as_str)))
    }

    /// Whether the head service is reachable from outside the cluster by its type or
    /// external IPs ([`service_exposure`]).
    pub fn head_service_exposed(&self) -> bool {
        service_exposure(&self.head_service()).is_some()
    }

    /// Every way the operator publishes the head outside the cluster: the head service (as
    /// [`service_exposure`] judges it, so an internal load balancer is not public), then
    /// the operator's Ingress.
    pub fn published(&self) -> Vec<HeadPublished> {
        let mut out = Vec::new();
        if let Some(exposure) = service_exposure(&self.head_service()) {
            let field = if self.head.at("/headService/spec/type").is_some()
                || exposure == Exposure::ExternalIps
            {
                let spec = self.head_pointer().join_all(["headService", "spec"]);
                match exposure {
                    Exposure::ExternalIps => spec.join("externalIPs"),
                    _ => spec.join("type"),
                }
            } else {
                self.head_pointer().join("serviceType")
            };
            out.push(HeadPublished::Service(exposure, field));
        }
        if self.head.get("enableIngress").and_then(Value::as_bool) == Some(true) {
            out.push(HeadPublished::Ingress(
                self.head_pointer().join("enableIngress"),
            ));
        }
        out
    }

    /// The name KubeRay gives the head service of this cluster, written by `kind` as `name`
    /// (`GenerateHeadServiceName`): a RayCluster's `headService.metadata.name`, else
    /// `<name>-head-svc`, as a RayService's; `None` for a RayJob, whose cluster's name the
    /// operator generates, and for a name KubeRay would shorten.
    pub fn head_service_name(&self, kind: &str, name: &str) -> Option<String> {
        let written = self
            .head
            .at("/headService/metadata/name")
            .and_then(Value::as_str)
            .filter(|n| !n.is_empty());
        let generated = format!("{name}-head-svc");
        match (kind, written) {
            ("RayCluster", Some(written)) => Some(written.to_string()),
            ("RayCluster" | "RayService", None) => (generated.len() <= 50).then_some(generated),
            _ => None,
        }
    }

    /// The ports of the head service KubeRay makes, `(name, port)`: those the head's Ray
    /// container (its first) declares, else KubeRay's defaults (the client, the dashboard,
    /// the GCS, Serve and metrics).
    pub fn head_service_ports(&self) -> Vec<(Option<String>, u16)> {
        let declared: Vec<(Option<String>, u16)> = self
            .head
            .at("/template/spec/containers/0/ports")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(|port| {
                let number = port.get("containerPort")?.as_u64()?;
                let name = port.get("name").and_then(Value::as_str).map(String::from);
                Some((name, u16::try_from(number).ok()?))
            })
            .collect();
        if !declared.is_empty() {
            return declared;
        }
        DEFAULT_HEAD_PORTS
            .iter()
            .map(|(name, port)| (Some((*name).to_string()), *port))
            .collect()
    }

    /// The ports of the head service through which a caller runs code on the cluster: the
    /// dashboard's (its Jobs API), the Ray client's and the GCS's, by KubeRay's port names,
    /// Ray's default numbers or the numbers `rayStartParams` sets (`dashboard-port`,
    /// `ray-client-server-port`, `port`). Serve's port runs only the applications deployed.
    pub fn code_ports(&self) -> Vec<(Option<String>, u16)> {
        let param = |key: &str| {
            let value = self.head.at(&format!("/rayStartParams/{key}"))?;
            match value {
                Value::String(s) => s.trim().parse::<u16>().ok(),
                Value::Number(n) => n.as_u64().and_then(|n| u16::try_from(n).ok()),
                _ => None,
            }
        };
        let numbers = [
            param("dashboard-port").unwrap_or(8265),
            param("ray-client-server-port").unwrap_or(10001),
            param("port").unwrap_or(6379),
        ];
        self.head_service_ports()
            .into_iter()
            .filter(|(name, port)| {
                numbers.contains(port)
                    || name
                        .as_deref()
                        .is_some_and(|n| matches!(n, "dashboard" | "client" | "gcs-server" | "gcs"))
            })
            .collect()
    }

    /// The head service as KubeRay makes it: `headService`, its type from `serviceType` when
    /// it gives none.
    fn head_service(&self) -> Value {
        let mut service = self
            .head
            .get("headService")
            .cloned()
            .unwrap_or_else(|| json!({}));
        if service.at("/spec/type").is_none()
            && let Some(service_type) = self.head.get("serviceType").cloned()
            && let Some(object) = service.as_object_mut()
        {
            let spec = object.entry("spec").or_insert_with(|| json!({}));
            if let Some(spec) = spec.as_object_mut() {
                spec.insert("type".into(), service_type);
            }
        }
        service
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ray_cluster(spec: Value) -> Value {
        json!({"spec": spec})
    }

    #[test]
    fn the_head_service_is_named_and_its_code_ports_found_as_kuberay_makes_them() {
        let spec = ray_cluster(json!({"headGroupSpec": {
        "rayStartParams": {"dashboard-port": "9000"},
        "template": {"spec": {"containers": [{"name": "head", "ports": [
            {"name": "serve", "containerPort": 8000},
            {"name": "dash", "containerPort": 9000},
            {"name": "gcs-server", "containerPort": 6379},
        ]}]}}}}));
        let ray = cluster(GROUP, "RayCluster", &spec).unwrap();
        assert_eq!(
            ray.head_service_name("RayCluster", "train").as_deref(),
            Some("train-head-svc")
        );
        assert_eq!(ray.head_service_name("RayJob", "train"), None);
        let code: Vec<u16> = ray.code_ports().into_iter().map(|(_, p)| p).collect();
        assert_eq!(code, [9000, 6379]);
        let named = ray_cluster(json!({"headGroupSpec": {
            "headService": {"metadata": {"name": "ray-dash"}},
            "template": {"spec": {"containers": [{"name": "head"}]}}}}));
        let named = cluster(GROUP, "RayCluster", &named).unwrap();
        assert_eq!(
            named.head_service_name("RayCluster", "train").as_deref(),
            Some("ray-dash")
        );
        // No declared port: KubeRay's defaults, of which the client, dashboard and GCS run code.
        let code: Vec<u16> = named.code_ports().into_iter().map(|(_, p)| p).collect();
        assert_eq!(code, [10001, 8265, 6379]);
    }

    #[test]
    fn the_cluster_stands_where_each_kind_keeps_it() {
        let service =
            json!({"spec": {"rayClusterConfig": {"headGroupSpec": {"serviceType": "NodePort"}}}});
        let found = cluster(GROUP, "RayService", &service).unwrap();
        assert_eq!(found.at, "/spec/rayClusterConfig");
        assert_eq!(
            found.head_pod_spec().as_str(),
            "/spec/rayClusterConfig/headGroupSpec/template/spec"
        );
        let role = |pointer: &str| found.role(pointer);
        assert_eq!(
            role("/spec/rayClusterConfig/workerGroupSpecs/0/template/spec"),
            Some(Role::Worker)
        );
        assert_eq!(
            role("/spec/rayClusterConfig/headGroupSpec/template/spec"),
            Some(Role::Head)
        );
        assert_eq!(role("/spec/submitterPodTemplate/spec"), None);
        let job = json!({"spec": {"rayClusterSpec": {"headGroupSpec": {}}}});
        let job = cluster(GROUP, "RayJob", &job).unwrap();
        assert_eq!(
            job.role("/spec/submitterPodTemplate/spec"),
            Some(Role::Submitter)
        );
        assert!(cluster(GROUP, "RayCluster", &service).is_none());
        assert!(cluster("example.com", "RayService", &service).is_none());
    }

    #[test]
    fn the_head_is_published_by_its_service_or_the_operators_ingress() {
        let published = |head: Value| {
            let value = ray_cluster(json!({"headGroupSpec": head}));
            cluster(GROUP, "RayCluster", &value).unwrap().published()
        };
        assert_eq!(
            published(json!({"serviceType": "LoadBalancer"})),
            [HeadPublished::Service(
                Exposure::PublicLoadBalancer,
                JsonPointer::parse("/spec/headGroupSpec/serviceType").unwrap()
            )]
        );
        // headService's own type wins over serviceType.
        let own_type =
            json!({"serviceType": "LoadBalancer", "headService": {"spec": {"type": "ClusterIP"}}});
        assert!(published(own_type).is_empty());
        let internal = json!({"headService": {
            "metadata": {"annotations": {"networking.gke.io/load-balancer-type": "Internal"}},
            "spec": {"type": "LoadBalancer"},
        }});
        assert!(published(internal).is_empty());
        let both = published(json!({"serviceType": "NodePort", "enableIngress": true}));
        assert_eq!(both.len(), 2);
        assert_eq!(
            both[1].field().as_str(),
            "/spec/headGroupSpec/enableIngress"
        );
        assert_eq!(
            both[1].describe(),
            "the operator puts an Ingress in front of the Ray dashboard"
        );
        let ips = published(json!({"headService": {"spec": {"externalIPs": ["203.0.113.7"]}}}));
        assert_eq!(
            ips[0].field().as_str(),
            "/spec/headGroupSpec/headService/spec/externalIPs"
        );
        assert!(published(json!({"serviceType": "ClusterIP"})).is_empty());
    }

    #[test]
    fn ray_authenticates_only_when_a_mode_turns_it_on() {
        let authenticates = |spec: Value| {
            let value = ray_cluster(spec);
            cluster(GROUP, "RayCluster", &value)
                .unwrap()
                .authenticates()
        };
        assert!(!authenticates(json!({"headGroupSpec": {}})));
        assert!(authenticates(
            json!({"authOptions": {"mode": "token"}, "headGroupSpec": {}})
        ));
        assert!(!authenticates(
            json!({"authOptions": {"mode": "disabled"}, "headGroupSpec": {}})
        ));
        let env = |value: &str| {
            json!({"headGroupSpec": {"template": {"spec": {"containers": [
                {"name": "ray-head", "env": [{"name": "RAY_AUTH_MODE", "value": value}]}
            ]}}}})
        };
        assert!(authenticates(env("token")));
        assert!(!authenticates(env("disabled")));
        assert!(!authenticates(env(" ")));
    }
}
