//! One attack graph for every layer. Nodes are typed ([`Node`]): the internet, workloads,
//! identities, pools of service accounts, Secrets, nodes, namespace and cluster admin. Each
//! edge says how one node becomes the next with a typed [`Relation`] and the evidence a
//! person reads (a Service, a mounted token, a binding → role → rule). Analyzers contribute
//! edges without knowing each other: RBAC adds its escalation edges
//! (`palisade_rbac::graph::build`), and network reachability, leaked credentials or
//! vulnerable images add theirs as a [`Contributor`] over the same inventory. A search
//! ([`Graph::toward`]) finds, for every node at once, its shortest chain to a [`Goal`]. Each
//! edge names the [`Fix`] that takes it away, when a change to one object does; the plan
//! ([`Graph::plan_fixes`]) picks the few fixes that cut the most risk.

mod fix;
mod graph;
mod node;
mod plan;
mod search;

pub use fix::{Change, Fix, FixId};
pub use graph::{Contributor, Graph, Relation};
pub use node::{Node, WorkloadRef};
pub use plan::{AtRisk, Plan, PlannedFix, likelihood};
pub use search::{Goal, Path, Step, Toward};
