//! Kubernetes knowledge that Palisade needs in many places and must answer once: which
//! resources exist, in which API group, under which kind, plural, singular and short names,
//! whether they are namespaced, and which subresources they have (`resources`); who a request comes from (users, groups, service accounts and
//! their implicit groups: `identity`); whether a
//! Service is reachable from outside the cluster (`exposure`); which controller serves an
//! Ingress, whether it is internal and how it serves HTTPS and plain HTTP (`ingress`); the Pod Security level a
//! namespace enforces (`pod_security`); container image references as runtimes read them
//! (`image`); what a container's
//! security settings amount to, up to owning its node (`security`); and whether a
//! PersistentVolume keeps its data in a directory of the node (`storage`); which requests an
//! admission rule selects (`admission_rules`); how critical a namespace is to the business
//! (`criticality`); whom a Kubernetes credential written into a value authenticates as
//! (`credential`); which Secrets and ConfigMaps a pod spec reads (`references`); the HTTP Service ECK makes for an
//! Elasticsearch cluster (`eck`); how a KubeRay cluster's head
//! is published and whether Ray authenticates (`ray`).
//!
//! The built-in table is the API of Kubernetes v1.33 (the version `k8s-openapi` is pinned to).
//! Custom resources join it from CustomResourceDefinitions found in the input, and a live
//! cluster's discovery can replace it. The crate is pure data and lookups, without the kube
//! client, so the analyzers, the CLI and the webhook can all depend on it; the
//! alternative, asking k8s-openapi's generated types, was rejected because it knows kinds but
//! not short names, plural forms of every group, or subresources, and because custom
//! resources must be answerable the same way.

pub mod admission_rules;
pub mod control_plane;
pub mod credential;
pub mod criticality;
pub mod eck;
pub mod exposure;
pub mod identity;
pub mod identity_claims;
pub mod image;
pub mod ingress;
pub mod install_order;
pub mod names;
pub mod node_address;
pub mod pod_security;
pub mod ray;
pub mod references;
pub mod resources;
pub mod security;
pub mod storage;
pub mod takeover_probes;

/// The annotation in which `kubectl apply` (client-side) keeps a copy of the whole object
/// applied, Secret values included.
pub const LAST_APPLIED: &str = "kubectl.kubernetes.io/last-applied-configuration";

pub use exposure::{Exposure, service_exposure};
pub use resources::{
    ApiResource, Catalogue, REQUEST_VERBS, ResolveError, Resolved, Scope, Scopes, VERBS,
    builtin_kind, builtin_resource, builtin_resource_namespaced, check_verb,
};
