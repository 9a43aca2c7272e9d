//! Kubernetes RBAC over an inventory, evaluated exactly as the API server's RBAC authorizer
//! does: Role and ClusterRole rules (API groups, resources and `*/subresource`, resource names,
//! verbs, non-resource URLs), ClusterRole aggregation, RoleBindings to ClusterRoles (namespace
//! scoped grants), users, groups, service accounts and their implicit groups. On top of the
//! authorizer: who-can, a subject's effective permissions, the escalation primitives a grant
//! gives, paths from a workload or subject to cluster-admin, Secrets or nodes, and
//! least-privilege roles generated from audit logs; and the value of each target of a path
//! (`risk`), for the fixes that cut the most risk.

pub mod access;
pub mod answers;
pub mod audit;
pub mod authorizer;
pub mod builtin;
pub mod external_secrets;
pub mod graph;
mod leaks;
pub mod model;
pub mod primitives;
mod ray;
pub mod risk;

pub use authorizer::{Grant, Request};
pub use model::{Binding, Policy, PolicyRule, Role, RoleRef};
pub use palisade_k8s::identity;
pub use palisade_k8s::identity::{Identity, Subject};
