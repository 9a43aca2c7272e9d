//! Probes of a cluster's endpoints from where Palisade runs (`palisade probe HOST...`): the API
//! server, each kubelet's API and read-only port, and etcd's client port, each asked one
//! read-only question with no credential, and judged by what it answers. Settings in files say
//! what a component was told; a probe says what it does, from a place an attacker could stand.
//!
//! The boundary: this is the one crate besides `palisade-deliver` that opens connections, and it
//! sends nothing but `GET`s of read-only paths (`/pods`, `/api/v1/namespaces?limit=1`,
//! `/version`) with no credential and follows no redirect, so a probe can never change a
//! cluster or hand it a secret. The alternative, reusing the kube client, would send the
//! kubeconfig's credentials, which is exactly what a probe of anonymous access must not do.

pub mod probe;
pub mod rule;

pub use probe::{Answer, Endpoint, Options, Probed, probe};
