//! Policy as code: Gatekeeper ConstraintTemplates and Constraints, evaluated by regorus (a
//! Rego interpreter in Rust, v0 and v1 syntax) under Gatekeeper's input contract and match
//! semantics (`gatekeeper`, `rego`), constraints as rules of a scan (`provider`), and Gatekeeper's
//! policy test suites (`suite`).
//!
//! The boundary: this crate knows Gatekeeper's objects and Rego; the scan pipeline and the
//! webhook call it. regorus is kept here so crates that do not evaluate policies do not
//! compile it. The rejected alternative, running `opa` or `gator` as subprocesses, would add
//! a runtime dependency users must install and a process per evaluation.

pub mod gatekeeper;
pub mod provider;
pub mod rego;
pub mod suite;

pub use gatekeeper::{Constraint, Enforcement, Match, PolicyError, Template};
pub use rego::{RegoTemplate, Violation};
