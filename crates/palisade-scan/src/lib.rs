//! Runs a scan end to end: load the inputs, evaluate the rules, apply `palisade.toml` and
//! in-manifest suppressions, and assemble the [`Report`](palisade_core::Report) that every
//! writer renders.
//!
//! This is the layer the CLI, and later the cluster scanner and the webhook, share. It is a
//! library rather than code in the binary so that "what a scan means" (which suppressions
//! apply, when a suppression has expired, how findings are ordered) is defined once and tested
//! without spawning processes.

pub mod config;
pub use palisade_core::date;
pub mod drift;
pub mod glob;
pub mod scan;
pub mod suppress;

pub use config::{Config, ConfigError, SuppressionEntry};
pub use scan::{ScanOptions, scan, scan_inventory, scan_loaded};
