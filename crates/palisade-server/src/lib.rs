//! Palisade's long-running HTTPS services and what they share: serving certificates from
//! files with hot reload or a self-signed CA, optional client-certificate verification
//! (`tls`), the plain-HTTP operations port with liveness, readiness and Prometheus metrics
//! (`health`, `metrics`), and the audit webhook receiver (`audit_receiver`).
//!
//! Routers are library functions so tests drive them in-process and over real TLS on
//! loopback; the binary only binds addresses and wires flags. Evaluation never runs on the
//! async threads: storage and analysis run in blocking tasks and threads.

pub mod admission;
pub mod audit_receiver;
pub mod health;
pub mod metrics;
pub mod tls;
