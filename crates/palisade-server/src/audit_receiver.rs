//! The audit webhook receiver: the API server's webhook backend (`--audit-webhook-config-file`)
//! POSTs `EventList` batches; each is committed to the store's inbox before the response, so
//! an acknowledged batch survives a crash. An analyser thread takes batches from the inbox
//! in order, runs the detections and commits the alerts to the outbox in the same
//! transaction that removes the batch; a delivery thread sends the outbox to the sinks.
//!
//! Backpressure is bounded and visible: when more than `max_inbox` batches wait to be
//! analysed the receiver answers 503, which the API server's webhook backend retries with
//! backoff; the depth is a metric.

use palisade_core::diagnostic::error_chain;
use std::io::Write;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::Router;
use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use palisade_audit::format::{AlertFormat, render};
use palisade_audit::input::{ReadStats, decode_text};
use palisade_audit::{Engine, Event, Origin};
use palisade_deliver::Sink;
use palisade_store::Store;
use serde::Deserialize;
use serde_json::json;

use crate::metrics::Metrics;

/// What the receiver's handlers share.
pub struct ReceiverState {
    pub store: Mutex<Store>,
    pub metrics: Arc<Metrics>,
    /// Batches waiting for analysis above which requests are refused with 503.
    pub max_inbox: i64,
}

/// Largest request body accepted (the API server's default batch is at most 400 events).
pub const MAX_BODY: usize = 64 << 20;

/// The router: `POST` on any path (the webhook kubeconfig names the URL).
pub fn router(state: Arc<ReceiverState>) -> Router {
    Router::new()
        .fallback(receive)
        .layer(DefaultBodyLimit::max(MAX_BODY))
        .with_state(state)
}

fn error(status: StatusCode, outcome: &str, message: String, metrics: &Metrics) -> Response {
    metrics.requests.add(outcome, 1);
    (status, axum::Json(json!({"error": message}))).into_response()
}

/// The shape of a batch, checked before it is stored.
#[derive(Deserialize)]
struct Batch<'a> {
    #[serde(borrow)]
    kind: Option<&'a str>,
    #[serde(borrow)]
    items: Option<Vec<&'a serde_json::value::RawValue>>,
}

async fn receive(
    State(state): State<Arc<ReceiverState>>,
    method: axum::http::Method,
    body: Result<Bytes, axum::extract::rejection::BytesRejection>,
) -> Response {
    let started = Instant::now();
    let metrics = state.metrics.clone();
    if method != axum::http::Method::POST {
        return error(
            StatusCode::METHOD_NOT_ALLOWED,
            "wrong_method",
            "POST an EventList".into(),
            &metrics,
        );
    }
    let body = match body {
        Ok(body) => body,
        Err(rejection) => {
            return error(
                rejection.status(),
                "too_large",
                rejection.body_text(),
                &metrics,
            );
        }
    };
    let events = match serde_json::from_slice::<Batch>(&body) {
        Ok(Batch {
            kind: None | Some("EventList"),
            items: Some(items),
        }) => items.len(),
        Ok(Batch { kind, .. }) => {
            return error(
                StatusCode::BAD_REQUEST,
                "malformed",
                format!(
                    "expected an audit.k8s.io EventList with items, got kind {}",
                    kind.unwrap_or("(none)")
                ),
                &metrics,
            );
        }
        Err(e) => {
            return error(
                StatusCode::BAD_REQUEST,
                "malformed",
                format!("not a JSON EventList: {e}"),
                &metrics,
            );
        }
    };
    let stored = {
        let state = state.clone();
        tokio::task::spawn_blocking(move || {
            let store = state
                .store
                .lock()
                .map_err(|_| "store lock poisoned".to_string())?;
            let waiting = store.received_pending().map_err(|e| format!("{e:#}"))?;
            state.metrics.inbox.store(waiting, Ordering::Relaxed);
            if waiting >= state.max_inbox {
                return Ok(false);
            }
            store
                .receive(&body, palisade_deliver::now_millis())
                .map(|_| true)
                .map_err(|e| error_chain(&e))
        })
        .await
    };
    match stored {
        Ok(Ok(true)) => {
            metrics.requests.add("accepted", 1);
            metrics.last_batch_millis.store(
                u64::try_from(palisade_deliver::now_millis()).unwrap_or(0),
                Ordering::Relaxed,
            );
            metrics
                .events_received
                .fetch_add(events as u64, Ordering::Relaxed);
            metrics
                .receive_seconds
                .observe(started.elapsed().as_secs_f64());
            (StatusCode::OK, axum::Json(json!({}))).into_response()
        }
        Ok(Ok(false)) => error(
            StatusCode::SERVICE_UNAVAILABLE,
            "overloaded",
            "analysis is behind; retry later".into(),
            &metrics,
        ),
        Ok(Err(message)) => error(
            StatusCode::INTERNAL_SERVER_ERROR,
            "error",
            format!("cannot queue the batch: {message}"),
            &metrics,
        ),
        Err(join) => error(
            StatusCode::INTERNAL_SERVER_ERROR,
            "error",
            join.to_string(),
            &metrics,
        ),
    }
}

/// Where the analyser writes alerts besides the sinks (standard output in a format).
pub struct AlertLog {
    pub format: AlertFormat,
    pub out: Box<dyn Write + Send>,
}

/// The threat-intelligence feeds the analysis matches against, read again when they change.
pub struct IntelRefresh {
    pub feeds: palisade_intel::Feeds,
    /// How often the files are looked at.
    pub every: Duration,
    next: Instant,
}

impl IntelRefresh {
    pub fn new(feeds: palisade_intel::Feeds, every: Duration) -> IntelRefresh {
        IntelRefresh {
            feeds,
            every,
            next: Instant::now() + every,
        }
    }
}

/// What the analyser runs: the detections, the context it adds, where alerts go, and the
/// feeds it watches.
pub struct Analysis {
    pub engine: Engine,
    pub enricher: Option<palisade_audit::enrich::Enricher>,
    pub sinks: Vec<Sink>,
    pub log: Option<AlertLog>,
    pub intel: Option<IntelRefresh>,
}

/// Takes batches from the inbox in order until `stop` is set and the inbox is empty:
/// analyses them and commits their alerts (rendered for each sink) with the batch's
/// removal.
pub fn analyse_inbox(
    store_path: PathBuf,
    analysis: Analysis,
    metrics: Arc<Metrics>,
    stop: Arc<AtomicBool>,
) -> Result<(), String> {
    let Analysis {
        mut engine,
        enricher,
        sinks,
        mut log,
        mut intel,
    } = analysis;
    let mut store = Store::open(&store_path).map_err(|e| error_chain(&e))?;
    loop {
        if let Some(refresh) = intel.as_mut() {
            refresh_intel(refresh, &mut engine, &metrics);
        }
        let next = store.next_received().map_err(|e| error_chain(&e))?;
        let Some((seq, body)) = next else {
            if stop.load(Ordering::Relaxed) {
                return Ok(());
            }
            std::thread::sleep(Duration::from_millis(50));
            continue;
        };
        let mut alerts = Vec::new();
        let mut stats = ReadStats::default();
        let origin = Origin {
            file: "receiver".into(),
            line: u64::try_from(seq).unwrap_or(0),
        };
        let text = String::from_utf8_lossy(&body);
        let mut newest = 0i64;
        let mut sink = |event: &Event, origin: &Origin| {
            newest = newest.max(event.time_micros().unwrap_or(0));
            engine.analyze(event, origin, &mut alerts);
        };
        decode_text(&text, &origin, &mut stats, &mut sink);
        metrics
            .newest_event_micros
            .fetch_max(newest, Ordering::Relaxed);
        report_not_assessed(&engine, &metrics);
        metrics
            .events_analysed
            .fetch_add(stats.events, Ordering::Relaxed);
        metrics
            .events_malformed
            .fetch_add(stats.malformed, Ordering::Relaxed);
        for problem in &stats.problems {
            eprintln!(
                "{}",
                json!({"level": "warning", "msg": "not an audit event", "where": problem})
            );
        }
        if let Some(enricher) = &enricher {
            for alert in &mut alerts {
                enricher.enrich(alert);
            }
        }
        let mut items = Vec::new();
        for alert in &alerts {
            metrics.alerts.add(&alert.rule.id, 1);
            for sink in &sinks {
                items.push((sink.name.clone(), alert.id.clone(), sink.body(alert)));
            }
            if let Some(log) = log.as_mut() {
                let _ = writeln!(log.out, "{}", render(alert, log.format));
            }
        }
        if let Some(log) = log.as_mut() {
            let _ = log.out.flush();
        }
        store
            .enqueue(&items, Some(seq))
            .map_err(|e| error_chain(&e))?;
        metrics
            .inbox
            .store(store.received_pending().unwrap_or(0), Ordering::Relaxed);
    }
}

/// Reads the feeds again when one changed since they were last looked at (at most every
/// `every`): on success the engine matches later events against them; on failure (a download
/// left nothing usable, a file is gone) the indicators read before stay, and the failure is
/// logged and counted.
fn refresh_intel(refresh: &mut IntelRefresh, engine: &mut Engine, metrics: &Metrics) {
    let now = Instant::now();
    if now < refresh.next {
        return;
    }
    refresh.next = now + refresh.every;
    if !refresh.feeds.changed() {
        return;
    }
    match refresh.feeds.load() {
        Ok((indicators, problems)) => {
            let values = indicators.counts().total();
            for problem in problems.iter().take(20) {
                eprintln!(
                    "{}",
                    json!({"level": "warning", "msg": "threat intelligence: an entry was not read", "where": problem.place, "problem": problem.message})
                );
            }
            eprintln!(
                "{}",
                json!({"level": "info", "msg": "threat intelligence read again", "values": values, "not_read": problems.len()})
            );
            engine.replace_threat_intel(Arc::new(indicators));
            note_intel(metrics, values);
        }
        Err(e) => {
            metrics
                .intel_reload_failures
                .fetch_add(1, Ordering::Relaxed);
            eprintln!(
                "{}",
                json!({"level": "warning", "msg": "threat intelligence changed and was not read again; the indicators read before stay", "error": error_chain(&e)})
            );
        }
    }
}

/// Records in the metrics that `values` threat-intelligence values were just read.
pub fn note_intel(metrics: &Metrics, values: usize) {
    metrics
        .intel_values
        .store(u64::try_from(values).unwrap_or(u64::MAX), Ordering::Relaxed);
    let millis = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX));
    metrics.intel_loaded_millis.store(millis, Ordering::Relaxed);
}

/// Sets the not-assessed counters from the engine's totals, and says so in the log the first
/// time a detection cannot judge a request (the audit policy logs it below what it reads).
fn report_not_assessed(engine: &Engine, metrics: &Metrics) {
    for unjudged in engine.not_assessed() {
        let rule = unjudged.rule.id.as_ref();
        let total = i64::try_from(unjudged.requests).unwrap_or(i64::MAX);
        if metrics.not_assessed.get(rule) == 0 {
            eprintln!(
                "{}",
                json!({
                    "level": "warning",
                    "msg": "a detection cannot judge requests: the audit policy logs them below the level it reads",
                    "rule": rule,
                    "slug": unjudged.rule.slug,
                    "needs": unjudged.needs.as_str(),
                    "logged_at": unjudged.logged_at.as_str(),
                    "requests": unjudged.by_request.keys().collect::<Vec<_>>(),
                })
            );
        }
        metrics.not_assessed.set(rule, total);
    }
}

/// Sends the outbox to the sinks until `stop` is set and a last round is done.
pub fn deliver_outbox(
    store_path: PathBuf,
    mut sinks: Vec<Sink>,
    metrics: Arc<Metrics>,
    stop: Arc<AtomicBool>,
) -> Result<(), String> {
    if sinks.is_empty() {
        return Ok(());
    }
    let mut store = Store::open(&store_path).map_err(|e| error_chain(&e))?;
    let mut report = |round: &palisade_deliver::Round, store: &Store| {
        for result in &round.sinks {
            if let Some(error) = &result.error {
                eprintln!(
                    "{}",
                    json!({"level": "warning", "msg": "delivery failed; retrying with backoff", "sink": result.label, "error": error})
                );
            }
            metrics
                .delivered
                .add(&result.label, result.delivered as i64);
            metrics
                .delivery_failures
                .add(&result.label, result.failed as i64);
            metrics
                .queued
                .set(&result.label, store.pending(&result.sink).unwrap_or(0));
            metrics.awaiting.set(
                &result.label,
                i64::try_from(result.awaiting).unwrap_or(i64::MAX),
            );
        }
    };
    palisade_deliver::deliver_until(
        &mut store,
        &mut sinks,
        &stop,
        Duration::from_millis(200),
        &mut report,
    )
    .map_err(|e| error_chain(&e))
}
