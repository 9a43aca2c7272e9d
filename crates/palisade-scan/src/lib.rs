//! Runs a scan end to end: load the inputs, evaluate the rules, apply `palisade.toml` and
//! in-manifest suppressions, and assemble the [`Report`](palisade_core::Report) that every
//! writer renders.
//!
//! This is the layer the CLI, and later the cluster scanner and the webhook, share. It is a
//! library rather than code in the binary so that "what a scan means" (which suppressions
//! apply, when a suppression has expired, how findings are ordered) is defined once and tested
//! without spawning processes.

pub mod answers;
pub mod baseline;
pub mod changes;
pub mod config;
pub use palisade_core::date;
pub mod drift;
pub use palisade_core::glob;
pub mod loose_files;
pub mod model;
pub mod remedy;
pub mod scan;
pub mod suppress;
pub mod vulnerabilities;

pub use changes::scan_changes;
pub use config::{Config, ConfigError, SuppressionEntry};
pub use model::{ClusterModel, Evaluation, MOST_REMEMBERED, ModelError, REMEMBERED_KINDS};
pub use scan::{
    Reported, ScanOptions, add_reported, named_but_idle, reported_rule_runs, scan, scan_inventory,
    scan_loaded,
};

/// The rules a scan knows by default: the built-in catalogue, drift's kinds of difference
/// (reported by `palisade drift`), the vulnerability rule (reported when SBOMs are given) and
/// the node's file rules (reported by `palisade node`), all named in suppressions and
/// `--rules`.
pub fn default_rules() -> palisade_rules::RuleSet {
    let mut rules = palisade_rules::RuleSet::builtin();
    let reported = drift::drift_rule_metas().into_iter().chain([
        &palisade_vuln::rule::KNOWN_VULNERABILITY,
        &palisade_node::rule::NODE_FILE_PERMISSIONS,
        &palisade_node::rule::NODE_FILE_OWNERSHIP,
    ]);
    for meta in reported {
        // The drift ids are reserved in the catalogue's id space; a clash is a bug.
        rules
            .add_reported(meta)
            .unwrap_or_else(|e| panic!("built-in rule sets clash: {e}"));
    }
    rules
}

impl Default for ScanOptions {
    fn default() -> Self {
        ScanOptions {
            rules: default_rules(),
            // Snapshot files among the inputs are read as the objects they hold.
            load: palisade_inventory::LoadOptions {
                limits: palisade_snapshot::recognising_snapshots(Default::default()),
                ..Default::default()
            },
            config: Default::default(),
            only_rules: Vec::new(),
            skip_rules: Vec::new(),
            today: None,
            framework: None,
            unlisted: Vec::new(),
            whole_cluster: false,
            judged_alone: false,
            pss_version: None,
            skip_evaluations: false,
            namespaces: Vec::new(),
            secrets_in_all_files: false,
            vulnerabilities: None,
        }
    }
}
