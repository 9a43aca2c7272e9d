//! Loads Kubernetes manifests into an [`Inventory`] that remembers where every field came from.
//!
//! Sources are files and directories (YAML, multi-document YAML, JSON, `kind: List`), standard
//! input, Kustomize directories (rendered by `kubectl kustomize`) and Helm charts (rendered by
//! `helm template` when it is installed). Each object is kept as a `serde_json::Value` plus a
//! flat [`Spans`](spans::Spans) array (one 1-based line/column per JSON node, in pre-order), so a
//! finding's JSON pointer resolves to the exact line in SARIF and on the terminal.
//!
//! The boundary: this crate reads and indexes; it knows nothing of rules. Typed Kubernetes
//! structs (k8s-openapi) were rejected as the stored form: they drop fields newer than the
//! chosen API version and turn a mistyped field into a failed object, where a scanner needs to
//! see the field as written and report the mistake.

pub mod admissible;
pub mod alike;
pub mod claims;
pub mod fragment;
pub mod inventory;
pub mod load;
pub mod object;
pub mod operator_pods;
mod owners;
pub mod podspec;
pub mod powers;
pub mod spans;
mod templated;
pub mod unjudged;
pub mod yaml;

pub use inventory::Inventory;
pub use load::{
    FileSource, Input, InventoryBuilder, LoadOptions, Loaded, ObjectSource, Reading, SourceRead,
    TextSource, ValuesSource, load, load_json_dump, load_text, load_values, read_sources,
};
pub use object::{Object, Source, SourceId};
pub use podspec::{Container, ContainerKind, PodSpec, pod_labels, pod_spec};
pub use spans::{Pos, Resolved, Spans};
pub use yaml::Limits;
