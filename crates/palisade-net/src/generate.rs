//! NetworkPolicies generated from what the manifests imply: per namespace a default deny and
//! DNS egress, then allow rules for the flows Services, Ingresses, Routes and declared
//! container ports imply, for an observed flow list, and to the API server for the workloads
//! that call it. The output depends only on the workloads, Services, Ingresses, flows and the
//! API server's clients, never on existing policies, so generating again on the output
//! changes nothing.

use std::collections::BTreeMap;

use palisade_core::tree::Tree as _;
use palisade_inventory::Inventory;
use serde_json::{Map, Value, json};

use crate::addr::AddrRange;
use crate::conn::{Conn, Protocol};
use crate::exposure::Target;
use crate::model::{Endpoint, NAMESPACE_NAME_LABEL};
use crate::network::Network;

/// Names of the generated policies start with this.
pub const PREFIX: &str = "palisade";

/// One end of an observed flow.
#[derive(Debug, Clone, PartialEq)]
pub enum FlowEnd {
    Workload(usize),
    Addresses(AddrRange),
}

/// An observed flow: `src,dst,port` in the flow file.
#[derive(Debug, Clone, PartialEq)]
pub struct Flow {
    pub src: FlowEnd,
    pub dst: FlowEnd,
    pub conn: Conn,
}

/// What to generate.
#[derive(Debug, Clone)]
pub struct Options {
    /// Only this namespace.
    pub namespace: Option<String>,
    /// The namespace of the ingress controller, admitted to what Ingresses and Routes open.
    pub ingress_namespace: String,
    /// Observed flows; when given, Service-implied flows inside a namespace are still allowed.
    pub flows: Vec<Flow>,
    /// The API server's addresses, if known: the workloads of `api_clients` may open them on
    /// [`API_SERVER_PORTS`].
    pub api_server: Vec<AddrRange>,
    /// The inventory objects of the workloads that call the API server (their account is
    /// granted something and they mount its token).
    pub api_clients: Vec<usize>,
}

/// The ports a pod reaches the API server on: the `kubernetes` Service's (443), and the one
/// kube-apiserver listens on in kubeadm's and most self-managed clusters (6443), which is what
/// most network plugins see after the Service's address is translated.
pub const API_SERVER_PORTS: [u16; 2] = [443, 6443];

/// Reads a flow file: `src,dst,port` lines (a header line is skipped), ends being workloads
/// (`NS/NAME`, `NS/KIND/NAME`) or CIDRs, ports `8080`, `8080/TCP`, `53/UDP`.
pub fn parse_flows(network: &Network, text: &str) -> Result<Vec<Flow>, String> {
    let mut flows = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let cells: Vec<&str> = line.split(',').map(str::trim).collect();
        if i == 0 && cells.first().is_some_and(|c| c.eq_ignore_ascii_case("src")) {
            continue;
        }
        let [src, dst, port] = cells.as_slice() else {
            return Err(format!(
                "line {}: expected src,dst,port, found `{line}`",
                i + 1
            ));
        };
        let end = |text: &str| -> Result<FlowEnd, String> {
            if let Ok(range) = AddrRange::parse(text) {
                return Ok(FlowEnd::Addresses(range));
            }
            network
                .find(text)
                .map(FlowEnd::Workload)
                .map_err(|e| format!("line {}: {e}", i + 1))
        };
        let (number, protocol) = port.split_once('/').unwrap_or((port, "TCP"));
        let protocol = Protocol::parse(&protocol.to_ascii_uppercase())
            .ok_or_else(|| format!("line {}: `{port}`: the protocol is TCP, UDP or SCTP", i + 1))?;
        let number: u16 = number
            .parse()
            .ok()
            .filter(|&n| n > 0)
            .ok_or_else(|| format!("line {}: `{port}` is not a port 1-65535", i + 1))?;
        let (src, dst) = (end(src)?, end(dst)?);
        if matches!((&src, &dst), (FlowEnd::Addresses(_), FlowEnd::Addresses(_))) {
            return Err(format!("line {}: one end must be a workload", i + 1));
        }
        flows.push(Flow {
            src,
            dst,
            conn: Conn::port(protocol, number),
        });
    }
    Ok(flows)
}

/// Rules collected for one workload.
#[derive(Default)]
struct Rules {
    ingress: Vec<Value>,
    egress: Vec<Value>,
}

/// The generated policies, in namespace and name order.
pub fn generate(network: &Network, inventory: &Inventory, options: &Options) -> Vec<Value> {
    let wanted = |ns: &str| options.namespace.as_deref().is_none_or(|w| w == ns);
    let mut namespaces: BTreeMap<&str, Vec<usize>> = BTreeMap::new();
    for (i, e) in network.endpoints.iter().enumerate() {
        if wanted(&e.namespace) && !e.host_network {
            namespaces.entry(&e.namespace).or_default().push(i);
        }
    }
    let mut rules: BTreeMap<usize, Rules> = BTreeMap::new();
    // The namespace's pods may call its workloads on their internal ports.
    let mut within: BTreeMap<&str, Vec<Value>> = BTreeMap::new();
    for (ns, members) in &namespaces {
        for &e in members {
            let internal = implied_by_services(network, e, rules.entry(e).or_default());
            if !internal.is_empty() {
                within.entry(ns).or_default().push(json!({
                    "to": [{"podSelector": {"matchLabels": selector_of(inventory, &network.endpoints[e])}}],
                    "ports": internal,
                }));
            }
            if let Some((conn, _)) = network.ingress.get(&e) {
                rules.entry(e).or_default().ingress.push(json!({
                    "from": [{"namespaceSelector": {"matchLabels": {NAMESPACE_NAME_LABEL: options.ingress_namespace}}}],
                    "ports": ports_of(conn),
                }));
            }
        }
    }
    for flow in &options.flows {
        add_flow(network, inventory, flow, &mut rules, &wanted);
    }
    if !options.api_server.is_empty() {
        let to: Vec<Value> = options.api_server.iter().flat_map(ip_blocks).collect();
        let ports: Vec<Value> = API_SERVER_PORTS
            .iter()
            .map(|port| json!({"port": port, "protocol": "TCP"}))
            .collect();
        for members in namespaces.values() {
            for &e in members {
                if options
                    .api_clients
                    .binary_search(&network.endpoints[e].object)
                    .is_ok()
                {
                    rules
                        .entry(e)
                        .or_default()
                        .egress
                        .push(json!({"to": to, "ports": ports}));
                }
            }
        }
    }
    let mut out = Vec::new();
    for (ns, members) in &namespaces {
        out.push(default_deny(ns));
        out.push(allow_dns(ns));
        if let Some(egress) = within.get(ns) {
            out.push(json!({
                "apiVersion": "networking.k8s.io/v1",
                "kind": "NetworkPolicy",
                "metadata": metadata(&format!("{PREFIX}-allow-within-namespace"), ns),
                "spec": {"podSelector": {}, "policyTypes": ["Egress"], "egress": egress},
            }));
        }
        if *ns == options.ingress_namespace
            && let Some(policy) = ingress_controller_egress(network, inventory, ns)
        {
            out.push(policy);
        }
        for &e in members {
            let Some(r) = rules.get_mut(&e) else { continue };
            dedup(&mut r.ingress);
            dedup(&mut r.egress);
            if r.ingress.is_empty() && r.egress.is_empty() {
                continue;
            }
            out.push(workload_policy(network, inventory, e, r));
        }
    }
    out
}

/// Where the ingress controller's namespace is generated too, its egress to what Ingresses,
/// Routes, Gateway API routes and its TCP and UDP services open (the engine's
/// `Network::ingress`), so that the default deny there does not cut the controller off its
/// backends; from every pod of the namespace, which one is the controller being unknown.
fn ingress_controller_egress(network: &Network, inventory: &Inventory, ns: &str) -> Option<Value> {
    let mut egress: Vec<Value> = network
        .ingress
        .iter()
        .map(|(&e, (conn, _))| {
            let end = &network.endpoints[e];
            json!({
                "to": [{
                    "namespaceSelector": {"matchLabels": {NAMESPACE_NAME_LABEL: end.namespace}},
                    "podSelector": {"matchLabels": selector_of(inventory, end)},
                }],
                "ports": ports_of(conn),
            })
        })
        .collect();
    dedup(&mut egress);
    (!egress.is_empty()).then(|| {
        json!({
            "apiVersion": "networking.k8s.io/v1",
            "kind": "NetworkPolicy",
            "metadata": metadata(&format!("{PREFIX}-allow-ingress-controller"), ns),
            "spec": {"podSelector": {}, "policyTypes": ["Egress"], "egress": egress},
        })
    })
}

fn dedup(list: &mut Vec<Value>) {
    let mut seen = Vec::new();
    list.retain(|v| {
        let text = v.to_string();
        if seen.contains(&text) {
            false
        } else {
            seen.push(text);
            true
        }
    });
}

fn metadata(name: &str, ns: &str) -> Value {
    json!({
        "name": name,
        "namespace": ns,
        "labels": {"app.kubernetes.io/managed-by": "palisade-net-generate"},
    })
}

fn default_deny(ns: &str) -> Value {
    json!({
        "apiVersion": "networking.k8s.io/v1",
        "kind": "NetworkPolicy",
        "metadata": metadata(&format!("{PREFIX}-default-deny"), ns),
        "spec": {"podSelector": {}, "policyTypes": ["Ingress", "Egress"]},
    })
}

fn allow_dns(ns: &str) -> Value {
    json!({
        "apiVersion": "networking.k8s.io/v1",
        "kind": "NetworkPolicy",
        "metadata": metadata(&format!("{PREFIX}-allow-dns"), ns),
        "spec": {
            "podSelector": {},
            "policyTypes": ["Egress"],
            "egress": [{
                "to": [{
                    "namespaceSelector": {"matchLabels": {NAMESPACE_NAME_LABEL: "kube-system"}},
                    "podSelector": {"matchLabels": {"k8s-app": "kube-dns"}},
                }],
                "ports": [{"port": 53, "protocol": "UDP"}, {"port": 53, "protocol": "TCP"}],
            }],
        },
    })
}

/// The labels that select a workload's pods: its controller's `matchLabels` when it has only
/// those, else the pod template's labels. For a pod template of a kind with several (a
/// RayCluster's worker group), the labels written in the template when it has some: those
/// its operator adds are known from its sources, not from the input, and a policy that
/// selected nothing by them would leave the Pods to the namespace's default deny.
fn selector_of(inventory: &Inventory, e: &Endpoint) -> Map<String, Value> {
    let object = &inventory.objects[e.object];
    if let Some(template) = &e.template {
        let written = palisade_inventory::podspec::grouped_pod_spec(object, template)
            .labels(object)
            .filter(|labels| !labels.is_empty())
            .cloned();
        return written.unwrap_or_else(|| e.labels.clone());
    }
    let selector = object.value.at("/spec/selector");
    let match_labels = selector
        .and_then(|s| s.get("matchLabels"))
        .and_then(Value::as_object)
        .filter(|m| !m.is_empty());
    let only_labels = selector.is_some_and(|s| {
        s.get("matchExpressions")
            .and_then(Value::as_array)
            .is_none_or(Vec::is_empty)
    });
    match match_labels {
        Some(m) if only_labels && e.kind != "Pod" => m.clone(),
        _ => e.labels.clone(),
    }
}

fn ports_of(conn: &Conn) -> Vec<Value> {
    let mut out = Vec::new();
    for protocol in Protocol::ALL {
        for &(start, end) in conn.of(protocol).ranges() {
            let mut port = json!({"port": start, "protocol": protocol.name()});
            if end > start {
                port["endPort"] = json!(end);
            }
            out.push(port);
        }
    }
    out
}

/// Ingress from the namespace (or from anywhere for an exposed Service) on the ports the
/// Services selecting the workload target, and on declared container ports; egress from the
/// namespace's pods to those ports goes in the namespace's own rules of each client.
fn implied_by_services(network: &Network, e: usize, rules: &mut Rules) -> Vec<Value> {
    let endpoint = &network.endpoints[e];
    let mut internal = Vec::new();
    let mut exposed = Vec::new();
    for service in network.services.iter().filter(|s| s.selected.contains(&e)) {
        for port in &service.ports {
            let target = match &port.target {
                Target::Number(n) => json!(n),
                Target::Name(name) => json!(name),
            };
            let spec = json!({"port": target, "protocol": port.protocol.name()});
            if service.exposed {
                exposed.push(spec)
            } else {
                internal.push(spec)
            }
        }
    }
    for port in &endpoint.ports {
        let spec = json!({"port": port.port, "protocol": port.protocol.name()});
        let by_name = port
            .name
            .as_ref()
            .map(|n| json!({"port": n, "protocol": port.protocol.name()}));
        let covered = internal
            .iter()
            .chain(&exposed)
            .any(|p| *p == spec || Some(p) == by_name.as_ref());
        if !covered {
            internal.push(spec);
        }
    }
    if !internal.is_empty() {
        rules
            .ingress
            .push(json!({"from": [{"podSelector": {}}], "ports": internal.clone()}));
    }
    if !exposed.is_empty() {
        // A load balancer or node port: clients come from anywhere.
        rules.ingress.push(json!({"ports": exposed}));
    }
    internal
}

/// The peers of a rule that name `end`: one `ipBlock` per CIDR block of a range (an
/// `ipBlock` holds one CIDR, and a range such as `10.0.0.1-10.0.0.6` is not one), or the
/// workload's pods.
fn peers_of(network: &Network, inventory: &Inventory, end: &FlowEnd, from_ns: &str) -> Vec<Value> {
    match end {
        FlowEnd::Addresses(range) => ip_blocks(range),
        FlowEnd::Workload(w) => {
            let e = &network.endpoints[*w];
            let pods = json!({"matchLabels": selector_of(inventory, e)});
            vec![if e.namespace == from_ns {
                json!({"podSelector": pods})
            } else {
                json!({
                    "namespaceSelector": {"matchLabels": {NAMESPACE_NAME_LABEL: e.namespace}},
                    "podSelector": pods,
                })
            }]
        }
    }
}

/// One `ipBlock` peer per CIDR block of `range`.
fn ip_blocks(range: &AddrRange) -> Vec<Value> {
    range
        .cidr_blocks()
        .iter()
        .map(|block| json!({"ipBlock": {"cidr": block.to_string()}}))
        .collect()
}

fn add_flow(
    network: &Network,
    inventory: &Inventory,
    flow: &Flow,
    rules: &mut BTreeMap<usize, Rules>,
    wanted: &dyn Fn(&str) -> bool,
) {
    let ports = ports_of(&flow.conn);
    if let FlowEnd::Workload(d) = flow.dst
        && wanted(&network.endpoints[d].namespace)
    {
        let ns = network.endpoints[d].namespace.clone();
        rules.entry(d).or_default().ingress.push(json!({
            "from": peers_of(network, inventory, &flow.src, &ns),
            "ports": ports.clone(),
        }));
    }
    if let FlowEnd::Workload(s) = flow.src
        && wanted(&network.endpoints[s].namespace)
    {
        let ns = network.endpoints[s].namespace.clone();
        rules.entry(s).or_default().egress.push(json!({
            "to": peers_of(network, inventory, &flow.dst, &ns),
            "ports": ports,
        }));
    }
}

fn workload_policy(network: &Network, inventory: &Inventory, e: usize, rules: &Rules) -> Value {
    let endpoint = &network.endpoints[e];
    let mut types = Vec::new();
    let mut spec = Map::new();
    spec.insert(
        "podSelector".into(),
        json!({"matchLabels": selector_of(inventory, endpoint)}),
    );
    if !rules.ingress.is_empty() {
        types.push("Ingress");
        spec.insert("ingress".into(), Value::Array(rules.ingress.clone()));
    }
    if !rules.egress.is_empty() {
        types.push("Egress");
        spec.insert("egress".into(), Value::Array(rules.egress.clone()));
    }
    spec.insert("policyTypes".into(), json!(types));
    json!({
        "apiVersion": "networking.k8s.io/v1",
        "kind": "NetworkPolicy",
        "metadata": metadata(&format!("{PREFIX}-allow-{}", policy_name(&endpoint.name)), &endpoint.namespace),
        "spec": Value::Object(spec),
    })
}

/// A workload's name as part of a policy's name (a DNS subdomain): lower-cased, and a pod
/// template's place written with dashes (`train (spec.workerGroupSpecs.0.template)` becomes
/// `train-spec.workergroupspecs.0.template`).
fn policy_name(workload: &str) -> String {
    workload
        .replace(" (", "-")
        .replace(')', "")
        .chars()
        .map(|c| match c.to_ascii_lowercase() {
            c @ ('a'..='z' | '0'..='9' | '.' | '-') => c,
            _ => '-',
        })
        .collect()
}

/// The inventory with generated policies added (as objects of a source named `generated`),
/// to evaluate what they change.
pub fn with_policies(inventory: &Inventory, policies: &[Value]) -> Inventory {
    let mut sources = inventory.sources.clone();
    sources.push(palisade_inventory::Source {
        path: "generated".into(),
        rendered_by: None,
    });
    let source = sources.len() - 1;
    let mut objects = inventory.objects.clone();
    for (i, policy) in policies.iter().enumerate() {
        let spans = palisade_inventory::Spans::uniform(
            policy,
            palisade_inventory::Pos { line: 1, column: 1 },
        );
        if let Some(object) =
            palisade_inventory::Object::from_value(policy.clone(), spans, source, i)
        {
            objects.push(object);
        }
    }
    let mut combined = Inventory::new(sources, objects);
    combined.complete = inventory.complete;
    combined
}

/// The policies as a YAML stream.
pub fn to_yaml_stream(policies: &[Value]) -> String {
    policies
        .iter()
        .map(|p| format!("---\n{}", crate::yaml::to_yaml(p)))
        .collect()
}
