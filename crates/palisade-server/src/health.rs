//! The plain-HTTP operations port: liveness (`/healthz`), readiness (`/readyz`: the
//! service listens and its store is open) and Prometheus metrics (`/metrics`). It is kept
//! apart from the HTTPS port so probes need no certificate and the API port serves only
//! the API server.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use axum::Router;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::IntoResponse;
use axum::routing::get;

use crate::metrics::Exposition;

/// What the probes look at.
pub struct Health {
    pub ready: AtomicBool,
    pub metrics: Arc<dyn Exposition>,
}

pub fn router(health: Arc<Health>) -> Router {
    Router::new()
        .route("/healthz", get(|| async { "ok" }))
        .route(
            "/readyz",
            get(|State(h): State<Arc<Health>>| async move {
                if h.ready.load(Ordering::Relaxed) {
                    (StatusCode::OK, "ready")
                } else {
                    (StatusCode::SERVICE_UNAVAILABLE, "starting")
                }
            }),
        )
        .route(
            "/metrics",
            get(|State(h): State<Arc<Health>>| async move {
                (
                    [(header::CONTENT_TYPE, "text/plain; version=0.0.4")],
                    h.metrics.render(),
                )
                    .into_response()
            }),
        )
        .with_state(health)
}
