//! The vocabulary every Palisade crate speaks: object identity, source locations, JSON-pointer
//! paths, severities, rule metadata, findings, diagnostics, compliance controls and the scan
//! report that writers render.
//!
//! The crate does no I/O and depends on serde alone (and toml, to read one table of
//! `palisade.toml` for the crate that owns it), so the parsers, analyzers, writers and the
//! network-facing crates can all share these types without pulling each other in. The
//! alternative, letting each analyzer define its own finding type and converting at the edge,
//! was rejected: suppressions, fingerprints, baselines and every output format must treat a
//! finding from a workload rule, an RBAC path or a Rego policy the same way.

pub mod addr;
pub mod config_section;
pub mod control;
pub mod date;
pub mod diagnostic;
pub mod duration;
pub mod encoding;
pub mod finding;
pub mod fingerprint;
pub mod glob;
pub mod host_path;
pub mod intern;
pub mod intervals;
pub mod object;
pub mod parallel;
pub mod pod_template;
pub mod pointer;
pub mod printable;
pub mod query;
pub mod redact;
pub mod report;
pub mod rule;
pub mod selector;
pub mod severity;
pub mod status_reason;
pub mod tree;
pub mod words;

pub use control::{Control, Framework, Profile};
pub use diagnostic::{Diagnostic, DiagnosticLevel};
pub use finding::{
    Edit, Evidence, Finding, Fix, Location, Renderer, RuleRef, Step, Subject, Suppression,
    SuppressionSource,
};
pub use fingerprint::Fingerprint;
pub use object::ObjectRef;
pub use pointer::JsonPointer;
pub use printable::{printable, printable_lines};
pub use report::{
    BaselineComparison, Compliance, ComplianceStatus, ControlResult, Coverage, FindingOrder,
    FixedFinding, NotAssessed, Report, ReportBuilder, Summary, ToolInfo, Verdict,
};
pub use rule::RuleMeta;
pub use severity::Severity;
pub use status_reason::StatusReason;
