//! Prometheus metrics (text exposition 0.0.4), kept as atomic counters and small labelled
//! maps: a few dozen series, so no metrics library is needed.

use std::collections::BTreeMap;
use std::fmt::Write;
use std::sync::Mutex;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};

/// Upper bounds (seconds) of the latency histogram's buckets.
const BUCKETS: [f64; 10] = [0.001, 0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1.0, 5.0];

/// A latency histogram.
#[derive(Debug, Default)]
pub struct Histogram {
    counts: [AtomicU64; BUCKETS.len()],
    count: AtomicU64,
    sum_micros: AtomicU64,
}

impl Histogram {
    pub fn observe(&self, seconds: f64) {
        for (bound, count) in BUCKETS.iter().zip(&self.counts) {
            if seconds <= *bound {
                count.fetch_add(1, Ordering::Relaxed);
            }
        }
        self.count.fetch_add(1, Ordering::Relaxed);
        self.sum_micros
            .fetch_add((seconds * 1e6) as u64, Ordering::Relaxed);
    }

    pub fn render(&self, name: &str, help: &str, out: &mut String) {
        let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} histogram");
        for (bound, count) in BUCKETS.iter().zip(&self.counts) {
            let _ = writeln!(
                out,
                "{name}_bucket{{le=\"{bound}\"}} {}",
                count.load(Ordering::Relaxed)
            );
        }
        let count = self.count.load(Ordering::Relaxed);
        let _ = writeln!(out, "{name}_bucket{{le=\"+Inf\"}} {count}");
        let _ = writeln!(
            out,
            "{name}_sum {}",
            self.sum_micros.load(Ordering::Relaxed) as f64 / 1e6
        );
        let _ = writeln!(out, "{name}_count {count}");
    }
}

/// Counters labelled by one value (rule, sink, outcome).
#[derive(Debug, Default)]
pub struct Labelled(Mutex<BTreeMap<String, i64>>);

impl Labelled {
    pub fn add(&self, label: &str, n: i64) {
        if let Ok(mut map) = self.0.lock() {
            *map.entry(label.to_string()).or_default() += n;
        }
    }

    pub fn set(&self, label: &str, n: i64) {
        if let Ok(mut map) = self.0.lock() {
            map.insert(label.to_string(), n);
        }
    }

    pub fn get(&self, label: &str) -> i64 {
        self.0
            .lock()
            .ok()
            .and_then(|m| m.get(label).copied())
            .unwrap_or(0)
    }

    /// Renders the series; `labels` name the parts of a key joined by [`Labelled::key`].
    pub fn render(&self, name: &str, kind: &str, label: &str, help: &str, out: &mut String) {
        self.render_labels(name, kind, &[label], help, out);
    }

    /// The key of a series with several labels (in the order `render_labels` names them).
    pub fn key(parts: &[&str]) -> String {
        parts.join("\u{1f}")
    }

    pub fn render_labels(
        &self,
        name: &str,
        kind: &str,
        labels: &[&str],
        help: &str,
        out: &mut String,
    ) {
        let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} {kind}");
        if let Ok(map) = self.0.lock() {
            for (key, n) in map.iter() {
                let pairs: Vec<String> = labels
                    .iter()
                    .zip(key.split('\u{1f}'))
                    .map(|(label, value)| {
                        let value = value.replace('\\', "\\\\").replace('"', "\\\"");
                        format!("{label}=\"{value}\"")
                    })
                    .collect();
                let _ = writeln!(out, "{name}{{{}}} {n}", pairs.join(","));
            }
        }
    }
}

/// What the operations port's `/metrics` serves.
pub trait Exposition: Send + Sync {
    /// The metrics in the Prometheus text format.
    fn render(&self) -> String;
}

/// The receiver's metrics.
#[derive(Debug, Default)]
pub struct Metrics {
    /// Requests by outcome (`accepted`, `malformed`, `too_large`, `overloaded`, `error`).
    pub requests: Labelled,
    pub events_received: AtomicU64,
    pub events_analysed: AtomicU64,
    /// Lines or items that were not audit events.
    pub events_malformed: AtomicU64,
    /// Alerts by rule id.
    pub alerts: Labelled,
    /// Requests a detection could not judge (logged below the audit level it reads), by
    /// rule id.
    pub not_assessed: Labelled,
    /// Alerts delivered, by sink.
    pub delivered: Labelled,
    /// Failed delivery attempts (alerts), by sink.
    pub delivery_failures: Labelled,
    /// Alerts waiting, by sink.
    pub queued: Labelled,
    /// Of those, alerts a sink took and has yet to confirm stored (Splunk's indexer
    /// acknowledgment), by sink.
    pub awaiting: Labelled,
    /// Batches received and not yet analysed.
    pub inbox: AtomicI64,
    /// From request to durable queueing.
    pub receive_seconds: Histogram,
    /// When the last batch was durably queued (milliseconds since the epoch; 0 for never):
    /// a stream that stops shows here, where no alert can.
    pub last_batch_millis: AtomicU64,
    /// The newest event time analysed (microseconds since the epoch; 0 for none): how far
    /// behind the API server's clock the analysis is.
    pub newest_event_micros: AtomicI64,
    /// Threat-intelligence values matched against (0: none given).
    pub intel_values: AtomicU64,
    /// When the indicators in use were read (milliseconds since the epoch; 0: none).
    pub intel_loaded_millis: AtomicU64,
    /// Feeds that changed and could not be read again (the indicators read before stay).
    pub intel_reload_failures: AtomicU64,
}

/// One counter in the Prometheus text format, written to `out`.
pub fn counter(out: &mut String, name: &str, help: &str, value: impl std::fmt::Display) {
    let _ = writeln!(
        out,
        "# HELP {name} {help}\n# TYPE {name} counter\n{name} {value}"
    );
}

/// One gauge in the Prometheus text format, written to `out`.
pub fn gauge(out: &mut String, name: &str, help: &str, value: impl std::fmt::Display) {
    let _ = writeln!(
        out,
        "# HELP {name} {help}\n# TYPE {name} gauge\n{name} {value}"
    );
}

impl Exposition for Metrics {
    fn render(&self) -> String {
        let mut out = String::new();
        self.render_intake(&mut out);
        self.render_delivery(&mut out);
        self.render_freshness(&mut out);
        out
    }
}

impl Metrics {
    /// Requests, events and alerts.
    fn render_intake(&self, out: &mut String) {
        self.requests.render(
            "palisade_audit_requests_total",
            "counter",
            "outcome",
            "Audit webhook requests by outcome.",
            out,
        );
        counter(
            out,
            "palisade_audit_events_received_total",
            "Audit events received.",
            self.events_received.load(Ordering::Relaxed),
        );
        counter(
            out,
            "palisade_audit_events_analysed_total",
            "Audit events analysed.",
            self.events_analysed.load(Ordering::Relaxed),
        );
        counter(
            out,
            "palisade_audit_events_malformed_total",
            "Items received that were not audit events.",
            self.events_malformed.load(Ordering::Relaxed),
        );
        self.alerts.render(
            "palisade_audit_alerts_total",
            "counter",
            "rule",
            "Alerts raised, by detection.",
            out,
        );
        self.not_assessed.render(
            "palisade_audit_not_assessed_total",
            "counter",
            "rule",
            "Requests a detection was shown but could not judge: logged below the audit level it reads.",
            out,
        );
    }

    /// Delivery to the sinks and what waits for it.
    fn render_delivery(&self, out: &mut String) {
        self.delivered.render(
            "palisade_audit_delivered_total",
            "counter",
            "sink",
            "Alerts delivered, by sink.",
            out,
        );
        self.delivery_failures.render(
            "palisade_audit_delivery_failures_total",
            "counter",
            "sink",
            "Alerts whose delivery attempt failed (they are retried), by sink.",
            out,
        );
        self.queued.render(
            "palisade_audit_queued_alerts",
            "gauge",
            "sink",
            "Alerts waiting for delivery, by sink.",
            out,
        );
        self.awaiting.render(
            "palisade_audit_awaiting_confirmation_alerts",
            "gauge",
            "sink",
            "Queued alerts a sink took and has yet to confirm stored (Splunk indexer acknowledgment), by sink.",
            out,
        );
        gauge(
            out,
            "palisade_audit_inbox_batches",
            "Batches received and not yet analysed.",
            self.inbox.load(Ordering::Relaxed).to_string(),
        );
        self.receive_seconds.render(
            "palisade_audit_receive_seconds",
            "Time from request to the batch being durably queued.",
            out,
        );
    }

    /// How current the stream, the analysis and the threat intelligence are.
    fn render_freshness(&self, out: &mut String) {
        gauge(
            out,
            "palisade_audit_last_batch_timestamp_seconds",
            "When the last batch was received and queued (0: never).",
            format!(
                "{:.3}",
                self.last_batch_millis.load(Ordering::Relaxed) as f64 / 1e3
            ),
        );
        gauge(
            out,
            "palisade_audit_newest_event_timestamp_seconds",
            "The newest audit event time analysed (0: none).",
            format!(
                "{:.6}",
                self.newest_event_micros.load(Ordering::Relaxed) as f64 / 1e6
            ),
        );
        gauge(
            out,
            "palisade_audit_threat_intel_values",
            "Threat-intelligence values matched against (0: none given).",
            self.intel_values.load(Ordering::Relaxed).to_string(),
        );
        gauge(
            out,
            "palisade_audit_threat_intel_loaded_timestamp_seconds",
            "When the threat intelligence in use was read (0: none).",
            format!(
                "{:.3}",
                self.intel_loaded_millis.load(Ordering::Relaxed) as f64 / 1e3
            ),
        );
        counter(
            out,
            "palisade_audit_threat_intel_reload_failures_total",
            "Threat-intelligence feeds that changed and could not be read again.",
            self.intel_reload_failures.load(Ordering::Relaxed),
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_prometheus_text() {
        let m = Metrics::default();
        m.requests.add("accepted", 2);
        m.alerts.add("AUD001", 1);
        m.not_assessed.set("AUD004", 3);
        m.receive_seconds.observe(0.003);
        let text = m.render();
        assert!(text.contains("palisade_audit_requests_total{outcome=\"accepted\"} 2"));
        assert!(text.contains("palisade_audit_alerts_total{rule=\"AUD001\"} 1"));
        assert!(text.contains("palisade_audit_not_assessed_total{rule=\"AUD004\"} 3"));
        assert!(text.contains("palisade_audit_receive_seconds_bucket{le=\"0.005\"} 1"));
        assert!(text.contains("palisade_audit_receive_seconds_bucket{le=\"0.002\"} 0"));
        assert!(text.contains("palisade_audit_receive_seconds_count 1"));
        // Before any batch: 0, so that an alert on a silent stream fires from the start.
        assert!(text.contains("palisade_audit_last_batch_timestamp_seconds 0.000"));
        m.last_batch_millis
            .store(1_796_119_200_250, Ordering::Relaxed);
        m.newest_event_micros
            .store(1_796_119_199_000_001, Ordering::Relaxed);
        let text = m.render();
        assert!(text.contains("palisade_audit_last_batch_timestamp_seconds 1796119200.250"));
        assert!(text.contains("palisade_audit_newest_event_timestamp_seconds 1796119199.000001"));
    }
}
