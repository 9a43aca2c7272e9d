//! Runtime detection over the Kubernetes API server's audit events: what `palisade audit`
//! reads, detects, learns and delivers.
//!
//! The boundary: this crate decodes events (`event`, `input`, `cloud`, `body`), runs the detections
//! (`detection`, `detections`, `registry`, `engine`) over them with the state they share
//! (`state`: windows, the baseline being compared against), learns behavioural baselines
//! (`baseline`) and shapes alerts (`alert`, `redact`). It does no network I/O; the
//! receiver and the sinks live in the binary's async layer. Detections are not built on the
//! manifest rule engine: that engine evaluates rules over an inventory of objects, this one
//! over a stream of millions of requests where a rule sees only the requests it asked for
//! (dispatch by resource, verb and subresource), so one detection per file with its own
//! metadata fits better than a Rule trait built for objects. Both share the vocabulary of
//! `palisade-core` (rule metadata, severities, MITRE ATT&CK controls, fingerprints) and
//! the Kubernetes answers of `palisade-k8s` and `palisade-secrets`.

pub mod alert;
pub mod audit_policy;
pub mod baseline;
pub mod body;
pub mod cloud;
pub mod coverage;
mod cri;
pub mod detection;
pub mod detections;
pub mod engine;
pub mod enrich;
pub mod event;
pub mod falco;
pub mod format;
pub mod indicator;
pub mod input;
pub mod least_privilege;
pub mod parallel;
pub mod redact;
pub mod registry;
pub mod settings;
pub mod sigma;
pub mod state;
mod stdin;
pub mod suggest;

pub use alert::{Alert, Origin};
pub use baseline::Baseline;
pub use engine::{Engine, Selection};
pub use event::Event;
pub use settings::Settings;
