use serde_json::Value;

use crate::context::Context;
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
    /// Services reachable from outside the cluster (type LoadBalancer that is not internal,
    /// NodePort, or with `externalIPs`) whose `port` or `targetPort` is a remote-administration
    /// or database port: SSH, Telnet, RDP, VNC, the Docker, etcd, kubelet and Kubernetes APIs,
    /// MySQL, PostgreSQL, SQL Server, Oracle, Redis, MongoDB, CouchDB, Cassandra,
    /// Elasticsearch, memcached. Ports that several common products share (8500 is both Consul
    /// and TensorFlow Serving) are left out to keep findings true.
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
    ///
    /// ## References
    /// - NSA/CISA Kubernetes Hardening Guide v1.2, "Network separation and hardening"
    pub struct SensitivePortExposed {
        id: "NET003",
        slug: "sensitive-port-exposed",
        title: "Administrative or database port is exposed outside the cluster",
        severity: High,
        target: Target::Kinds(&[("", "Service")]),
        controls: [
            NsaCisa12 "network/network-policies",
            MitreAttack "T1133",
            MitreAttack "T1190",
        ],
        remediation: "Make the Service ClusterIP; reach the port through a VPN, bastion or port-forward.",
    }
}

impl Check for SensitivePortExposed {
    fn check(&self, cx: &mut Context<'_>) {
        let spec = palisade_core::JsonPointer::root().join("spec");
        let Some(exposure) = palisade_k8s::service_exposure(&cx.object.value) else {
            return;
        };
        let exposure = exposure.reach();
        let ports = spec.join("ports");
        for (i, port) in cx.array_at(&ports).iter().enumerate() {
            let mut what = None;
            for field in ["port", "targetPort"] {
                match port.get(field) {
                    Some(Value::Number(n)) => {
                        if let Some(found) = n
                            .as_i64()
                            .and_then(|p| SENSITIVE_PORTS.iter().find(|(q, _)| *q == p))
                        {
                            what = Some((field, found.0.to_string(), found.1));
                        }
                    }
                    Some(Value::String(name)) => {
                        if let Some(found) = SENSITIVE_PORT_NAMES
                            .iter()
                            .find(|(n, _)| n.eq_ignore_ascii_case(name))
                        {
                            what = Some((field, name.clone(), found.1));
                        }
                    }
                    _ => {}
                }
                if what.is_some() {
                    break;
                }
            }
            if let Some((field, port_text, service)) = what {
                cx.report(
                    ports.join(i).join(field),
                    format!("{field} {port_text} ({service}) is published on {exposure}"),
                );
            }
        }
    }
}
