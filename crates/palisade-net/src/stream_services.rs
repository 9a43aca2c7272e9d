//! ingress-nginx's TCP and UDP services: the controller publishes raw ports of its own for the
//! Services a ConfigMap names (`--tcp-services-configmap`, `--udp-services-configmap`), each
//! entry `"<port>": "<namespace>/<service>:<service port>[:PROXY][:PROXY]"`. A database or
//! SSH server reached that way faces the outside as surely as one behind a LoadBalancer, with
//! no Ingress object to show it.

use palisade_inventory::{Inventory, Object};
use serde_json::Value;

use crate::conn::Protocol;

/// The ConfigMap flags of ingress-nginx's controller, with the protocol each publishes.
const FLAGS: &[(&str, Protocol)] = &[
    ("tcp-services-configmap", Protocol::Tcp),
    ("udp-services-configmap", Protocol::Udp),
];

/// One entry of such a ConfigMap.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StreamEntry<'i> {
    /// What opens it, for evidence: `ingress-nginx TCP port 5432 (ConfigMap ingress/tcp)`.
    pub via: String,
    pub namespace: String,
    pub service: &'i str,
    /// The Service port, by number or by name.
    pub port: &'i str,
    pub protocol: Protocol,
}

/// The ConfigMaps (namespace, name) ingress-nginx controllers of the inventory read their TCP
/// and UDP services from, with the protocol: the values of their flags, `$(POD_NAMESPACE)`
/// read as the controller's namespace.
pub fn named_config_maps(
    inventory: &Inventory,
    ns_of: &dyn Fn(&Object) -> String,
) -> Vec<(String, String, Protocol)> {
    let mut out = Vec::new();
    for (index, object) in inventory.objects.iter().enumerate() {
        // A Pod or ReplicaSet made by a controller the input holds says what it says.
        if inventory.controller_of(index).is_some() {
            continue;
        }
        let Some(spec) = palisade_inventory::pod_spec(object) else {
            continue;
        };
        let namespace = ns_of(object);
        for container in spec.containers() {
            let words: Vec<Option<&str>> = ["command", "args"]
                .iter()
                .filter_map(|key| container.value.get(*key).and_then(Value::as_array))
                .flatten()
                .map(Value::as_str)
                .collect();
            let flags = palisade_k8s::control_plane::read_flags(&words, |_| false);
            for (flag, protocol) in FLAGS {
                let Some(value) = flags.iter().rev().find(|f| f.name == *flag) else {
                    continue;
                };
                let Some(value) = value.value else { continue };
                let value = value.replace("$(POD_NAMESPACE)", &namespace);
                let Some((ns, name)) = value.split_once('/') else {
                    continue;
                };
                if ns.is_empty() || name.is_empty() || ns.contains("$(") {
                    continue;
                }
                let entry = (ns.to_string(), name.to_string(), *protocol);
                if !out.contains(&entry) {
                    out.push(entry);
                }
            }
        }
    }
    out
}

/// Every entry of the ConfigMaps the controllers name ([`named_config_maps`]) that the input
/// holds.
pub fn entries<'i>(
    inventory: &'i Inventory,
    ns_of: &dyn Fn(&Object) -> String,
) -> Vec<StreamEntry<'i>> {
    let mut out = Vec::new();
    for (ns, name, protocol) in named_config_maps(inventory, ns_of) {
        let maps = inventory
            .of_kind("", "ConfigMap")
            .filter(|m| m.id.name.as_deref() == Some(name.as_str()) && ns_of(m) == ns);
        for map in maps {
            let data = map.value.get("data").and_then(Value::as_object);
            for (published, target) in data.into_iter().flatten() {
                let Some(target) = target.as_str() else {
                    continue;
                };
                let Some((service_ref, rest)) = target.split_once(':') else {
                    continue;
                };
                let port = rest.split(':').next().unwrap_or_default().trim();
                let Some((namespace, service)) = service_ref.trim().split_once('/') else {
                    continue;
                };
                if namespace.is_empty() || service.is_empty() || port.is_empty() {
                    continue;
                }
                let kind = match protocol {
                    Protocol::Udp => "UDP",
                    _ => "TCP",
                };
                out.push(StreamEntry {
                    via: format!("ingress-nginx {kind} port {published} (ConfigMap {ns}/{name})"),
                    namespace: namespace.to_string(),
                    service,
                    port,
                    protocol,
                });
            }
        }
    }
    out
}

/// Whether `map`, a ConfigMap, is one an ingress-nginx controller of the inventory reads its
/// TCP or UDP services from. A map none of whose values reads as such an entry is none,
/// without looking at the controllers.
pub fn is_named(inventory: &Inventory, map: &Object, ns_of: &dyn Fn(&Object) -> String) -> bool {
    let looks_like_one = map
        .value
        .get("data")
        .and_then(Value::as_object)
        .into_iter()
        .flatten()
        .filter_map(|(_, v)| v.as_str())
        .any(|v| {
            v.split_once(':')
                .is_some_and(|(service, _)| service.contains('/'))
        });
    if !looks_like_one {
        return false;
    }
    let ns = ns_of(map);
    named_config_maps(inventory, ns_of)
        .iter()
        .any(|(n, name, _)| *n == ns && map.id.name.as_deref() == Some(name.as_str()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use palisade_inventory::{Limits, load_text};

    const CONTROLLER: &str = "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: ingress-nginx-controller, namespace: ingress-nginx}\nspec:\n  selector: {matchLabels: {app: nginx}}\n  template:\n    metadata: {labels: {app: nginx}}\n    spec:\n      containers:\n      - name: controller\n        image: registry.k8s.io/ingress-nginx/controller:v1.12.1\n        args: [/nginx-ingress-controller, --tcp-services-configmap=$(POD_NAMESPACE)/tcp-services, --udp-services-configmap, ingress-nginx/udp-services]\n";

    fn entries_of(text: &str) -> Vec<(String, String, String, String)> {
        let inventory = load_text("i.yaml", text, &Limits::default()).inventory;
        let ns_of = |o: &Object| o.id.namespace.clone().unwrap_or_default();
        entries(&inventory, &ns_of)
            .into_iter()
            .map(|e| {
                (
                    e.via,
                    e.namespace,
                    e.service.to_string(),
                    e.port.to_string(),
                )
            })
            .collect()
    }

    #[test]
    fn the_controller_flags_name_the_maps_and_their_entries_the_services() {
        let maps = "---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: tcp-services, namespace: ingress-nginx}\ndata: {'5432': 'data/postgres:5432', '2222': 'git/gitea:ssh:PROXY', bad: nothing}\n---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: udp-services, namespace: ingress-nginx}\ndata: {'53': 'kube-system/kube-dns:53'}\n---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: tcp-services, namespace: elsewhere}\ndata: {'6379': 'data/redis:6379'}\n";
        let found = entries_of(&format!("{CONTROLLER}{maps}"));
        assert_eq!(
            found,
            [
                (
                    "ingress-nginx TCP port 5432 (ConfigMap ingress-nginx/tcp-services)".into(),
                    "data".into(),
                    "postgres".into(),
                    "5432".into()
                ),
                (
                    "ingress-nginx TCP port 2222 (ConfigMap ingress-nginx/tcp-services)".into(),
                    "git".into(),
                    "gitea".into(),
                    "ssh".into()
                ),
                (
                    "ingress-nginx UDP port 53 (ConfigMap ingress-nginx/udp-services)".into(),
                    "kube-system".into(),
                    "kube-dns".into(),
                    "53".into()
                ),
            ]
        );
        // Without the controller, the same ConfigMaps open nothing.
        assert!(entries_of(maps).is_empty());
        let inventory =
            load_text("i.yaml", &format!("{CONTROLLER}{maps}"), &Limits::default()).inventory;
        let ns_of = |o: &Object| o.id.namespace.clone().unwrap_or_default();
        let named: Vec<bool> = inventory
            .of_kind("", "ConfigMap")
            .map(|m| is_named(&inventory, m, &ns_of))
            .collect();
        assert_eq!(named, [true, true, false]);
    }
}
