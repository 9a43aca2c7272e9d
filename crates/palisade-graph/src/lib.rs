//! One attack graph for every layer. Nodes are typed ([`Node`]): the internet, workloads,
//! identities, pools of service accounts, Secrets, nodes, namespace and cluster admin. Each
//! edge says how one node becomes the next with a typed [`Relation`] and the evidence a
//! person reads (a Service, a mounted token, a binding → role → rule). Analyzers contribute
//! edges without knowing each other: RBAC adds its escalation edges
//! (`palisade_rbac::graph::build`), and network reachability, leaked credentials or
//! vulnerable images add theirs as a [`Contributor`] over the same inventory. A search
//! ([`Graph::toward`]) finds, for every node at once, its shortest chain to a [`Goal`].

mod graph;
mod node;
mod search;

pub use graph::{Contributor, Graph, Relation};
pub use node::{Node, WorkloadRef};
pub use search::{Goal, Path, Step, Toward};
