//! Kubernetes network reachability.
//!
//! [`Network::from_inventory`] reads endpoints (workloads, pods grouped under their
//! controller), namespaces, NetworkPolicies, AdminNetworkPolicies, the
//! BaselineAdminNetworkPolicy and what Ingresses and Routes open; [`Engine`] answers which
//! connections one party may open to another, with the steps that decide
//! ([`Engine::verdict`]), for every pair ([`matrix::matrix`]) and between two inputs
//! ([`matrix::diff`]). Calico and Cilium policies are recognised and the pairs they may
//! govern are marked "not evaluated", never silently allowed or denied.

pub use palisade_core::addr;
pub mod answers;
pub mod calico;
pub mod cilium;
pub mod conn;
pub mod engine;
pub mod exposure;
pub mod gateway;
pub mod generate;
pub use palisade_core::intervals;
pub mod matrix;
pub mod model;
pub mod network;
pub mod policy;
pub mod stream_services;
pub mod surface;
pub mod yaml;

pub use conn::{Conn, Protocol};
pub use engine::{Effect, Engine, Party, Step, Verdict};
pub use model::Endpoint;
pub use network::{IngressPlacement, Network, READS};

/// Whether the network reads `map`, a ConfigMap: a Gateway's parameters
/// ([`gateway::infrastructure::may_be_parameters`]) or the TCP or UDP services of an
/// ingress-nginx controller ([`stream_services::is_named`]). Other ConfigMaps change nothing
/// of it. `ns_of` places objects without a namespace.
pub fn reads_config_map(
    inventory: &palisade_inventory::Inventory,
    map: &palisade_inventory::Object,
    ns_of: &dyn Fn(&palisade_inventory::Object) -> String,
) -> bool {
    gateway::infrastructure::may_be_parameters(inventory, map)
        || stream_services::is_named(inventory, map, ns_of)
}
