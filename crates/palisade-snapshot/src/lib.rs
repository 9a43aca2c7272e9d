//! Cluster snapshots and drift. A snapshot is what a live scan read: the objects (Secrets as
//! metadata only unless asked), which types could not be listed and why, and where and when it
//! was taken. `palisade scan --snapshot` analyses it offline with the same rules; `palisade
//! drift` compares it (or a live cluster) with the manifests in Git.

pub mod drift;
pub mod format;
pub mod namespaces;
pub mod source;

pub use format::{ListError, Snapshot, SnapshotHeader, SnapshotMeta};
pub use namespaces::UnknownNamespaces;
pub use source::{SnapshotFile, Unlisted, recognising_snapshots, withholds};
