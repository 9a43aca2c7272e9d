//! Palisade at admission: an AdmissionReview decoded (`review`), its object judged by the
//! prepared cluster model with exactly the rules, policies, settings and redaction of
//! `palisade scan` (`decide`), each finding given a mode by the `[admission]` settings
//! (`settings`: enforce, warn, audit or off, by severity, rule and namespace; exemptions;
//! the deadline's fail-closed or fail-open answer), and the opt-in hardening patch
//! (`mutate`); what the webhook must be sent for its rules to judge, and what its
//! configuration sends (`sent`).
//!
//! The crate has no network code: `palisade-server` serves it over HTTPS, and tests and the
//! fuzz target call it directly.

pub mod decide;
pub mod mutate;
pub mod review;
pub mod sent;
pub mod settings;

pub use decide::{Admission, DecisionLog, Judged, NamespaceLookup, Outcome, prepare_model};
pub use review::{Review, ReviewError, decode};
pub use settings::{AdmissionSettings, Mode, OnTimeout};
