//! Palisade's built-in rules, the one registry that lists them, and the engine that evaluates
//! them over an inventory.
//!
//! A rule is one file under `rules/`, declared with [`declare_rule!`]: its doc comment is its
//! documentation (shown by `palisade rules ID`, in SARIF and in the generated docs), and its
//! compliance mappings are typed data. The registry in `registry.rs` is a hand-edited table; no
//! build script or linker trick discovers rules, so the table is the single place to read what
//! ships. The engine lives here rather than in the binary so that the admission webhook and the
//! cluster scanner evaluate rules exactly as `palisade scan` does.

pub mod compliance;
pub mod context;
mod control_plane;
pub mod engine;
pub mod ingress;
pub use palisade_k8s::image;
pub mod network;
pub mod pss;
pub mod rbac;
pub mod refusals;
pub mod secrets;
#[macro_use]
pub mod macros;
pub mod registry;
pub mod rule;
pub mod rule_set;
pub mod rules;
pub mod settings;
pub mod unseen;

pub use context::{Before, ClusterModels, Context, Models, Reported, Sees};
pub use engine::{
    EngineOutput, FindingsOrder, evaluate, evaluate_objects, evaluate_with, evaluate_with_options,
};
pub use registry::{all_rules, find_rule};
pub use rule::{Judges, KindsNeeded, Refusal, Rule, Target};
pub use rule_set::{DuplicateRule, ObjectMutators, RuleSet};
pub use settings::{PodSecurityTarget, RuleSettings, Setting};
