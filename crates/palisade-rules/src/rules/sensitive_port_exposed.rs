use std::collections::HashMap;

use palisade_core::JsonPointer;
use palisade_core::tree::Tree as _;
use palisade_inventory::Inventory;
use serde_json::Value;

use crate::context::{Context, Reported};
use crate::rule::{Check, Target};

/// Ports of administrative and data services that should never face the outside.
const SENSITIVE_PORTS: &[(i64, &str)] = &[
    (22, "SSH"),
    (23, "Telnet"),
    (1433, "SQL Server"),
    (1521, "Oracle"),
    (2375, "the Docker API"),
    (2376, "the Docker API"),
    (2379, "etcd"),
    (2380, "etcd peers"),
    (3306, "MySQL"),
    (3389, "RDP"),
    (5432, "PostgreSQL"),
    (5900, "VNC"),
    (5984, "CouchDB"),
    (6379, "Redis"),
    (6443, "the Kubernetes API"),
    (9042, "Cassandra"),
    (9200, "Elasticsearch"),
    (9300, "Elasticsearch transport"),
    (10250, "the kubelet API"),
    (10255, "the kubelet read-only API"),
    (11211, "memcached"),
    (27017, "MongoDB"),
];

/// Named target ports that say what they carry.
const SENSITIVE_PORT_NAMES: &[(&str, &str)] = &[
    ("ssh", "SSH"),
    ("mysql", "MySQL"),
    ("postgres", "PostgreSQL"),
    ("postgresql", "PostgreSQL"),
    ("redis", "Redis"),
    ("mongodb", "MongoDB"),
    ("etcd", "etcd"),
];

declare_rule! {
    /// ## What it checks
    /// Services reachable from outside the cluster whose `port` or `targetPort` is a
    /// remote-administration or database port: SSH, Telnet, RDP, VNC, the Docker, etcd,
    /// kubelet and Kubernetes APIs, MySQL, PostgreSQL, SQL Server, Oracle, Redis, MongoDB,
    /// CouchDB, Cassandra, Elasticsearch, memcached. Reachable by its type (a LoadBalancer
    /// that is not internal, a NodePort, `externalIPs`), or through the port an Ingress, an
    /// OpenShift Route, a Gateway API route of a public Gateway (a `TCPRoute` to PostgreSQL,
    /// say) or an entry of ingress-nginx's TCP and UDP services (the ConfigMap its controller's
    /// `--tcp-services-configmap` names) sends traffic to, as `palisade net exposure` lists
    /// them. From manifests, an Elasticsearch of ECK is judged for the HTTP Service ECK
    /// makes for it (`<name>-es-http`, port 9200): published by the type
    /// `spec.http.service.spec` gives it, or named by an Ingress or route. Ports that
    /// several common products share (8500 is both Consul and TensorFlow Serving) are left
    /// out to keep findings true.
    ///
    /// ## Why it matters
    /// These services are scanned for continuously on the internet; exposed Redis, Docker and
    /// Elasticsearch instances are among the most common ways clusters get cryptominers and
    /// data theft (MITRE ATT&CK T1133, T1190).
    ///
    /// ## Severity
    /// High: an administrative or data interface facing untrusted networks.
    ///
    /// ## Failing example
    /// ```yaml
    /// spec:
    ///   type: LoadBalancer
    ///   ports: [{port: 6379, targetPort: 6379}]
    /// ```
    ///
    /// ## Passing example
    /// ```yaml
    /// spec:
    ///   type: ClusterIP
    ///   ports: [{port: 6379, targetPort: 6379}]
    /// ```
    ///
    /// ## Remediation
    /// Make the Service `ClusterIP` and reach it through a VPN, a bastion or `kubectl
    /// port-forward`; for managed access use an internal load balancer with source ranges.
    /// Attach a route that publishes such a port only to an internal Gateway.
    ///
    /// ## References
    /// - NSA/CISA Kubernetes Hardening Guide v1.2, "Network separation and hardening"
    pub struct SensitivePortExposed {
        id: "NET003",
        slug: "sensitive-port-exposed",
        title: "Administrative or database port is exposed outside the cluster",
        severity: High,
        target: Target::Kinds(&[("", "Service"), palisade_k8s::eck::ELASTICSEARCH]),
        controls: [
            NsaCisa12 "network/network-policies",
            MitreAttack "T1133",
            MitreAttack "T1190",
        ],
        remediation: "Make the Service ClusterIP; reach the port through a VPN, bastion or port-forward.",
    }
}

/// Whether a Service port entry's `port` or `targetPort` is a sensitive one: which field,
/// the port as written, and the service it carries.
fn sensitive(port: &Value) -> Option<(&'static str, String, &'static str)> {
    for field in ["port", "targetPort"] {
        match port.get(field) {
            Some(Value::Number(n)) => {
                if let Some(found) = n
                    .as_i64()
                    .and_then(|p| SENSITIVE_PORTS.iter().find(|(q, _)| *q == p))
                {
                    return Some((field, found.0.to_string(), found.1));
                }
            }
            Some(Value::String(name)) => {
                if let Some(found) = SENSITIVE_PORT_NAMES
                    .iter()
                    .find(|(n, _)| n.eq_ignore_ascii_case(name))
                {
                    return Some((field, name.clone(), found.1));
                }
            }
            _ => {}
        }
    }
    None
}

/// A way in from outside that sends traffic to ports of a Service: what opens it, from where,
/// and the indexes of the Service's `spec.ports` it reaches.
struct OpenedBy {
    via: String,
    reach: String,
    ports: Vec<usize>,
}

/// The ways in from outside of the inventory's Ingresses, Routes and Gateway API routes
/// (`palisade_net::exposure::doors`), by the (namespace, name) of the Service they open,
/// namespaces placed by scope as the network rules place them.
#[derive(Default)]
struct Doors(HashMap<(String, String), Vec<OpenedBy>>);

impl Doors {
    fn build(inventory: &Inventory) -> Doors {
        let placer = palisade_net::model::Placer::by_scope(inventory);
        let ns_of = |o: &palisade_inventory::Object| placer.namespace(o);
        let mut out: HashMap<(String, String), Vec<OpenedBy>> = HashMap::new();
        for door in palisade_net::exposure::doors(inventory, &ns_of) {
            if !door.external || !door.names_a_port() {
                continue;
            }
            let service = inventory
                .of_kind("", "Service")
                .find(|s| s.id.name.as_deref() == Some(door.service) && ns_of(s) == door.namespace);
            let written = match service {
                Some(service) => service.value.at("/spec/ports").cloned(),
                // The HTTP Service ECK makes, from manifests: its one port.
                None => eck_http_ports(inventory, &door.namespace, door.service, &ns_of),
            };
            let ports: Vec<usize> = written
                .as_ref()
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .enumerate()
                .filter(|(_, entry)| door.opens(entry))
                .map(|(i, _)| i)
                .collect();
            if !ports.is_empty() {
                let key = (door.namespace.clone(), door.service.to_string());
                out.entry(key).or_default().push(OpenedBy {
                    via: door.via,
                    reach: door.reach,
                    ports,
                });
            }
        }
        Doors(out)
    }
}

/// The `spec.ports` of the HTTP Service ECK makes, named `name` in `namespace`, for an
/// Elasticsearch of the input that holds no Service of that name.
fn eck_http_ports(
    inventory: &Inventory,
    namespace: &str,
    name: &str,
    ns_of: &dyn Fn(&palisade_inventory::Object) -> String,
) -> Option<Value> {
    let (group, kind) = palisade_k8s::eck::ELASTICSEARCH;
    inventory.of_kind(group, kind).find_map(|object| {
        let http = palisade_net::exposure::eck_http_service(inventory, object, ns_of)?;
        (http.name == name && ns_of(object) == namespace).then(|| {
            let port = palisade_k8s::eck::HTTP_PORT;
            serde_json::json!([{"name": http.port_name, "port": port, "targetPort": port}])
        })
    })
}

/// Judges an Elasticsearch of ECK for the HTTP Service ECK makes for it: published by its
/// type, or opened by a way in from outside.
fn check_eck_http(cx: &mut Context<'_>) {
    let placer = palisade_net::model::Placer::by_scope(cx.inventory);
    let ns_of = |o: &palisade_inventory::Object| placer.namespace(o);
    let Some(http) = palisade_net::exposure::eck_http_service(cx.inventory, cx.object, &ns_of)
    else {
        return;
    };
    let port = palisade_k8s::eck::HTTP_PORT;
    if let Some((exposure, field)) = &http.published {
        cx.report(
            field.clone(),
            format!(
                "Elasticsearch's HTTP API (port {port}) is published on {} through {}, the Service ECK makes",
                exposure.reach(),
                http.name
            ),
        );
    }
    let doors = cx.derived(Doors::build);
    let key = (ns_of(cx.object), http.name.clone());
    for opened in doors.0.get(&key).into_iter().flatten() {
        let mut reported = Reported::new(
            JsonPointer::root().join("metadata").join("name"),
            format!(
                "Elasticsearch's HTTP API (port {port}) is published through {} to {}, the Service ECK makes: {}",
                opened.via, http.name, opened.reach
            ),
        );
        reported.discriminator = Some(opened.via.clone());
        cx.report_with(reported);
    }
}

impl Check for SensitivePortExposed {
    fn reads(&self) -> &'static [(&'static str, &'static str)] {
        palisade_net::READS
    }

    fn check(&self, cx: &mut Context<'_>) {
        if cx.object.id.kind != "Service" {
            return check_eck_http(cx);
        }
        let ports = JsonPointer::root().join("spec").join("ports");
        let entries = cx.array_at(&ports);
        if let Some(exposure) = palisade_k8s::service_exposure(&cx.object.value) {
            let exposure = exposure.reach();
            for (i, entry) in entries.iter().enumerate() {
                if let Some((field, port, service)) = sensitive(entry) {
                    cx.report(
                        ports.join(i).join(field),
                        format!("{field} {port} ({service}) is published on {exposure}"),
                    );
                }
            }
        }
        let doors = cx.derived(Doors::build);
        let placer = palisade_net::model::Placer::by_scope(cx.inventory);
        let key = (
            placer.namespace(cx.object),
            cx.object.id.display_name().to_string(),
        );
        for opened in doors.0.get(&key).into_iter().flatten() {
            for &i in &opened.ports {
                let Some((field, port, service)) = entries.get(i).and_then(sensitive) else {
                    continue;
                };
                let mut reported = Reported::new(
                    ports.join(i).join(field),
                    format!(
                        "{field} {port} ({service}) is published through {}: {}",
                        opened.via, opened.reach
                    ),
                );
                reported.discriminator = Some(opened.via.clone());
                cx.report_with(reported);
            }
        }
    }
}
