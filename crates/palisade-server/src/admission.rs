//! The admission webhook: `POST /validate` and `POST /mutate` (AdmissionReview v1), judged by
//! `palisade-admission` off the async threads, with a bounded number of requests in flight,
//! a deadline below the API server's timeout (fail closed or open, as configured), a body
//! limit, typed 400s for bodies that are not reviews, Prometheus metrics and one JSON log
//! line per decision with the request's uid.

use std::sync::Arc;
use std::sync::atomic::{AtomicI64, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use axum::Router;
use axum::body::Body;
use axum::extract::{DefaultBodyLimit, RawQuery, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use palisade_admission::{Admission, Judged, Review};
use serde_json::json;
use tokio::sync::Semaphore;

use crate::metrics::{Exposition, Histogram, Labelled};

/// Which decision lines are logged to standard error.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DecisionLogLevel {
    /// Every request.
    All,
    /// Requests with a finding, a patch, a timeout or a denial.
    Findings,
    None,
}

/// The webhook's metrics.
#[derive(Debug, Default)]
pub struct AdmissionMetrics {
    /// Requests by endpoint and outcome (allowed, denied, exempt, skipped, timeout) or
    /// rejection (malformed, too_large, unsupported_media_type).
    pub requests: Labelled,
    /// Findings by rule and the mode they had (enforce, warn, audit).
    pub findings: Labelled,
    pub in_flight: AtomicI64,
    /// Objects let in and kept in the cluster model since it was read.
    pub remembered: AtomicI64,
    /// From the body read to the response.
    pub seconds: Histogram,
    /// Reads of the cluster after the first, by why (`refresh`, `change`) and outcome (`ok`,
    /// `failed`).
    pub cluster_reads: Labelled,
    /// Policies the cluster holds that the last read could not use (`--cluster-policies`).
    pub unusable_policies: AtomicI64,
    /// Creations and updates some rule judges that the webhook's configuration does not send
    /// (-1: the configuration was not read).
    pub unsent_requests: AtomicI64,
    /// Namespaces read (not exempt) that the webhook configuration's namespaceSelector
    /// leaves out (-1: the configuration was not read).
    pub unsent_namespaces: AtomicI64,
}

impl Exposition for AdmissionMetrics {
    fn render(&self) -> String {
        let mut out = String::new();
        self.requests.render_labels(
            "palisade_admission_requests_total",
            "counter",
            &["endpoint", "outcome"],
            "Admission requests by endpoint and outcome.",
            &mut out,
        );
        self.findings.render_labels(
            "palisade_admission_findings_total",
            "counter",
            &["rule", "mode"],
            "Findings at admission by rule and the mode they had (enforce denies).",
            &mut out,
        );
        out.push_str(&format!(
            "# HELP palisade_admission_in_flight Requests being judged or waiting.\n# TYPE palisade_admission_in_flight gauge\npalisade_admission_in_flight {}\n",
            self.in_flight.load(Ordering::Relaxed)
        ));
        out.push_str(&format!(
            "# HELP palisade_admission_remembered_objects Objects let in and kept in the cluster model since the cluster was read.\n# TYPE palisade_admission_remembered_objects gauge\npalisade_admission_remembered_objects {}\n",
            self.remembered.load(Ordering::Relaxed)
        ));
        out.push_str(&format!(
            "# HELP palisade_admission_cluster_policies_unusable Policies the cluster holds that the last read could not use (a template that does not compile, a constraint without its template); they are not run.\n# TYPE palisade_admission_cluster_policies_unusable gauge\npalisade_admission_cluster_policies_unusable {}\n",
            self.unusable_policies.load(Ordering::Relaxed)
        ));
        out.push_str(&format!(
            "# HELP palisade_admission_unsent_requests Creations and updates (by resource) some rule or policy judges that the webhook configurations do not send, so never judged at admission; -1 when the configurations were not read.\n# TYPE palisade_admission_unsent_requests gauge\npalisade_admission_unsent_requests {}\n",
            self.unsent_requests.load(Ordering::Relaxed)
        ));
        out.push_str(&format!(
            "# HELP palisade_admission_unsent_namespaces Namespaces (not exempt) that the webhook configurations' namespaceSelector leaves out, so nothing in them is judged at admission; -1 when the configurations were not read.\n# TYPE palisade_admission_unsent_namespaces gauge\npalisade_admission_unsent_namespaces {}\n",
            self.unsent_namespaces.load(Ordering::Relaxed)
        ));
        self.cluster_reads.render_labels(
            "palisade_admission_cluster_reads_total",
            "counter",
            &["reason", "outcome"],
            "Reads of the cluster after the first: on schedule (refresh) or after an object let in changed what the rules read (change); failed reads keep the last model.",
            &mut out,
        );
        self.seconds.render(
            "palisade_admission_request_seconds",
            "Time from the request's body to its verdict.",
            &mut out,
        );
        out
    }
}

/// What the handlers share.
pub struct AdmissionState {
    pub admission: Arc<Admission>,
    pub metrics: Arc<AdmissionMetrics>,
    /// Evaluations running at once (CPU-bound: about the number of cores).
    pub workers: Arc<Semaphore>,
    pub in_flight: AtomicUsize,
    pub log: DecisionLogLevel,
}

impl AdmissionState {
    /// `workers`: evaluations at once, as many as the model has copies of the cluster.
    pub fn new(
        admission: Admission,
        metrics: Arc<AdmissionMetrics>,
        log: DecisionLogLevel,
        workers: usize,
    ) -> Self {
        AdmissionState {
            admission: Arc::new(admission),
            metrics,
            workers: Arc::new(Semaphore::new(workers.max(1))),
            in_flight: AtomicUsize::new(0),
            log,
        }
    }
}

#[derive(Clone, Copy)]
enum Endpoint {
    Validate,
    Mutate,
}

impl Endpoint {
    fn name(self) -> &'static str {
        match self {
            Endpoint::Validate => "validate",
            Endpoint::Mutate => "mutate",
        }
    }
}

pub fn router(state: Arc<AdmissionState>) -> Router {
    Router::new()
        .route(
            "/validate",
            post(
                |State(s): State<Arc<AdmissionState>>,
                 RawQuery(query): RawQuery,
                 headers: HeaderMap,
                 body: Body| async move {
                    handle(s, Endpoint::Validate, query, headers, body).await
                },
            ),
        )
        .route(
            "/mutate",
            post(
                |State(s): State<Arc<AdmissionState>>,
                 RawQuery(query): RawQuery,
                 headers: HeaderMap,
                 body: Body| async move {
                    handle(s, Endpoint::Mutate, query, headers, body).await
                },
            ),
        )
        // The limit is applied while reading, so the answer is a typed 413.
        .layer(DefaultBodyLimit::disable())
        .with_state(state)
}

fn rejection(
    state: &AdmissionState,
    endpoint: Endpoint,
    status: StatusCode,
    reason: &str,
    message: String,
) -> Response {
    state
        .metrics
        .requests
        .add(&Labelled::key(&[endpoint.name(), reason]), 1);
    if state.log != DecisionLogLevel::None {
        eprintln!(
            "{}",
            json!({"level": "warning", "msg": "admission request rejected", "endpoint": endpoint.name(), "status": status.as_u16(), "reason": reason, "error": message})
        );
    }
    (
        status,
        axum::Json(json!({"error": reason, "message": message})),
    )
        .into_response()
}

async fn handle(
    state: Arc<AdmissionState>,
    endpoint: Endpoint,
    query: Option<String>,
    headers: HeaderMap,
    body: Body,
) -> Response {
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("application/json");
    if !content_type.contains("json") {
        return rejection(
            &state,
            endpoint,
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported_media_type",
            format!("expected application/json, got {content_type}"),
        );
    }
    let limit = state.admission.settings().max_body_bytes;
    let bytes = match read_limited(body, limit).await {
        Ok(bytes) => bytes,
        Err(()) => {
            return rejection(
                &state,
                endpoint,
                StatusCode::PAYLOAD_TOO_LARGE,
                "too_large",
                format!("the body is over {limit} bytes (max_body_bytes)"),
            );
        }
    };
    let start = Instant::now();
    let review = match palisade_admission::decode(&bytes) {
        Ok(review) => Arc::new(review),
        Err(error) => {
            return rejection(
                &state,
                endpoint,
                StatusCode::BAD_REQUEST,
                "malformed",
                error.to_string(),
            );
        }
    };
    drop(bytes);
    state.metrics.in_flight.fetch_add(1, Ordering::Relaxed);
    let api_server = api_server_deadline(query.as_deref());
    let judged = judge(&state, endpoint, &review, api_server).await;
    state.metrics.in_flight.fetch_sub(1, Ordering::Relaxed);
    state.metrics.seconds.observe(start.elapsed().as_secs_f64());
    record(&state, endpoint, &judged, start.elapsed());
    axum::Json(judged.to_json()).into_response()
}

/// The body, or `Err` when it is over `limit`. An oversized body is read to its end (and
/// dropped) up to 8 times the limit, so the client, still sending, reads a typed 413 rather
/// than a reset connection; past that the connection is closed.
async fn read_limited(body: Body, limit: usize) -> Result<axum::body::Bytes, ()> {
    use http_body_util::BodyExt;
    let mut body = body;
    let mut collected: Vec<u8> = Vec::new();
    let mut seen = 0usize;
    while let Some(frame) = body.frame().await {
        let Ok(frame) = frame else {
            return Err(());
        };
        let Ok(data) = frame.into_data() else {
            continue;
        };
        seen += data.len();
        if seen > limit.saturating_mul(8) {
            return Err(());
        }
        if seen <= limit {
            collected.extend_from_slice(&data);
        } else if !collected.is_empty() {
            collected = Vec::new();
        }
    }
    if seen > limit {
        return Err(());
    }
    Ok(collected.into())
}

/// How long the API server waits for this request, less a margin for the answer's way back
/// (a tenth, from 100 ms to 1 s). The API server names it in the query (`?timeout=5s`): the
/// webhook's `timeoutSeconds`, or what is left of the request's own deadline when that is
/// sooner, rounded up to whole seconds. `None` when the query names no duration.
fn api_server_deadline(query: Option<&str>) -> Option<Duration> {
    let value = query?
        .split('&')
        .find_map(|pair| pair.strip_prefix("timeout="))?;
    let waits = palisade_core::duration::parse(value).ok()?;
    let margin = (waits / 10).clamp(Duration::from_millis(100), Duration::from_secs(1));
    Some(waits.saturating_sub(margin))
}

/// The verdict, or the deadline's answer (`timeout_ms`, or sooner when the API server would
/// give up before it); at most `max_in_flight` requests wait.
async fn judge(
    state: &Arc<AdmissionState>,
    endpoint: Endpoint,
    review: &Arc<Review>,
    api_server: Option<Duration>,
) -> Judged {
    let settings = state.admission.settings();
    let waiting = state.in_flight.fetch_add(1, Ordering::AcqRel) + 1;
    let _leave = Leave(&state.in_flight);
    if waiting > settings.max_in_flight {
        return state.admission.timed_out(
            review,
            &format!(
                "overloaded: more than {} requests in flight",
                settings.max_in_flight
            ),
        );
    }
    let own = Duration::from_millis(settings.timeout_ms);
    let (deadline, whose) = match api_server {
        Some(sooner) if sooner < own => (sooner, "the API server's timeout, less a margin"),
        _ => (own, "timeout_ms"),
    };
    let work = {
        let (admission, review, workers) = (
            state.admission.clone(),
            review.clone(),
            state.workers.clone(),
        );
        async move {
            let permit = workers.acquire_owned().await;
            // The permit moves into the blocking task: an evaluation that outlives its
            // deadline still holds its worker until it ends.
            tokio::task::spawn_blocking(move || {
                let _permit = permit;
                match endpoint {
                    Endpoint::Validate => admission.validate(&review),
                    Endpoint::Mutate => admission.mutate(&review),
                }
            })
            .await
        }
    };
    match tokio::time::timeout(deadline, work).await {
        Ok(Ok(judged)) => judged,
        Ok(Err(_)) => state.admission.timed_out(review, "the evaluation failed"),
        Err(_) => state.admission.timed_out(
            review,
            &format!("no verdict within {} ms ({whose})", deadline.as_millis()),
        ),
    }
}

struct Leave<'a>(&'a AtomicUsize);

impl Drop for Leave<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::AcqRel);
    }
}

fn record(state: &AdmissionState, endpoint: Endpoint, judged: &Judged, took: Duration) {
    let log = &judged.log;
    let metrics = &state.metrics;
    metrics.remembered.store(
        i64::try_from(state.admission.remembered()).unwrap_or(i64::MAX),
        Ordering::Relaxed,
    );
    metrics
        .requests
        .add(&Labelled::key(&[endpoint.name(), log.outcome.name()]), 1);
    for (mode, rules) in [
        ("enforce", &log.denied),
        ("warn", &log.warned),
        ("audit", &log.audited),
    ] {
        for rule in rules {
            metrics.findings.add(&Labelled::key(&[rule, mode]), 1);
        }
    }
    let interesting = !log.denied.is_empty()
        || !log.warned.is_empty()
        || !log.audited.is_empty()
        || log.patch_operations > 0
        || !log.allowed
        || log.outcome == palisade_admission::Outcome::Timeout;
    let print = match state.log {
        DecisionLogLevel::All => true,
        DecisionLogLevel::Findings => interesting,
        DecisionLogLevel::None => false,
    };
    if print {
        let mut line = serde_json::to_value(log).unwrap_or_default();
        if let Some(map) = line.as_object_mut() {
            map.insert("level".into(), json!("info"));
            map.insert("msg".into(), json!("admission decision"));
            map.insert("endpoint".into(), json!(endpoint.name()));
            map.insert(
                "ms".into(),
                json!((took.as_secs_f64() * 1e4).round() / 10.0),
            );
        }
        eprintln!("{line}");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_api_servers_timeout_is_read_from_the_query_less_a_margin() {
        let ms = |query: &str| api_server_deadline(Some(query)).map(|d| d.as_millis());
        assert_eq!(ms("timeout=5s"), Some(4500));
        assert_eq!(ms("timeout=1s"), Some(900));
        assert_eq!(ms("timeout=30s"), Some(29_000));
        assert_eq!(ms("dryRun=All&timeout=2s"), Some(1800));
        assert_eq!(ms("timeout=1m0s"), Some(59_000));
        for unread in [
            "",
            "timeout=",
            "timeout=soon",
            "timeout=0s",
            "timeout=-5s",
            "wait=5s",
        ] {
            assert_eq!(ms(unread), None, "{unread}");
        }
        assert_eq!(api_server_deadline(None), None);
    }
}
