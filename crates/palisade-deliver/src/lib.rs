//! Delivery of alerts to where security teams read them, with nothing lost.
//!
//! Alerts are never sent straight from the analysis: they are committed to the store's
//! outbox (one row per sink and alert), and [`deliver`] sends what is due, removes what a
//! sink accepted and reschedules what failed with exponential backoff. A sink that is down
//! for an hour, or a process killed mid-batch, leaves the alerts in the outbox for the next
//! attempt. Alert ids are stable, and the sinks that can deduplicate do (Elasticsearch
//! `create` with the alert id as `_id`; Splunk's events carry it), so a batch sent twice
//! after a crash is stored once there.
//!
//! Transports are blocking (ureq with rustls on ring; std TCP for syslog): delivery runs on
//! its own thread, and a blocking client keeps async runtimes out of this crate. Secrets for
//! sinks (HEC tokens, API keys, passwords) are read from environment variables named in the
//! sink's URL, never written in it, so they do not show in process lists or shell history.

pub mod postgres;
pub mod sink;
pub mod splunk;
pub mod stream;
#[cfg(feature = "test-postgres")]
pub mod test_postgres;
pub mod transport;

pub use sink::{Framing, Sent, Sink, SinkError, Transport};
pub use stream::{Streaming, deliver_until};
pub use transport::Failure;

use palisade_store::{Store, StoreError};

/// Alerts sent per request.
pub const BATCH: usize = 500;

/// What one delivery round did for one sink.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SinkRound {
    /// The sink's identity in the queue ([`Sink::name`]: not to be printed).
    pub sink: String,
    /// How to name it where people and metrics see it ([`Sink::label`]).
    pub label: String,
    pub delivered: usize,
    pub failed: usize,
    /// Taken by the sink and waiting for its confirmation (Splunk's indexer
    /// acknowledgment): still queued, not due again before the deadline.
    pub awaiting: usize,
    /// Why the last batch failed.
    pub error: Option<String>,
}

/// What one delivery round did, per sink.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Round {
    pub sinks: Vec<SinkRound>,
}

impl Round {
    pub fn delivered(&self) -> usize {
        self.sinks.iter().map(|s| s.delivered).sum()
    }

    /// `sink: error` for each sink whose batch failed.
    pub fn errors(&self) -> Vec<String> {
        self.sinks
            .iter()
            .filter_map(|s| s.error.as_ref().map(|e| format!("{}: {e}", s.label)))
            .collect()
    }
}

/// The delay before attempt `attempts + 1`: 1 s doubling to at most 5 minutes.
pub fn backoff_millis(attempts: i64) -> i64 {
    let exponent = u32::try_from(attempts.clamp(0, 9)).unwrap_or(9);
    (1000_i64 << exponent).min(300_000)
}

/// Sends what is due for every sink once (at most `max_batches` batches each); returns
/// what happened. Store errors stop the round; sink errors are recorded and retried later.
pub fn deliver(
    store: &mut Store,
    sinks: &mut [Sink],
    now_millis: i64,
    max_batches: usize,
) -> Result<Round, StoreError> {
    let mut round = Round::default();
    for sink in sinks.iter_mut() {
        let mut result = SinkRound {
            sink: sink.name.clone(),
            label: sink.label.clone(),
            ..SinkRound::default()
        };
        settle(store, sink, now_millis, &mut result)?;
        for _ in 0..max_batches {
            let due = store.due(&sink.name, now_millis, sink.batch_limit)?;
            if due.is_empty() {
                break;
            }
            let seqs: Vec<i64> = due.iter().map(|q| q.seq).collect();
            match sink.send(&due) {
                // Too large for the sink (a proxy's body limit, say): smaller batches from now
                // on, the first at once; a single alert too large fails as any refusal does.
                Err(failure)
                    if failure.status == Some(413) && failure.stored == 0 && due.len() > 1 =>
                {
                    sink.batch_limit = due.len() / 2;
                }
                Ok(Sent::Stored) => {
                    store.delivered(&seqs, now_millis)?;
                    result.delivered += seqs.len();
                }
                Ok(Sent::Awaiting(ack_id)) => {
                    let channel = sink.channel().to_string();
                    let awaiting = splunk::Awaiting::new(&channel, ack_id, seqs, now_millis);
                    store.await_ack(&awaiting.ack)?;
                    result.awaiting += awaiting.ack.seqs.len();
                    sink.awaiting.push(awaiting);
                }
                Err(failure) => {
                    let (stored, rest) = seqs.split_at(failure.stored.min(seqs.len()));
                    if !stored.is_empty() {
                        store.delivered(stored, now_millis)?;
                        result.delivered += stored.len();
                    }
                    let attempts = due[stored.len()..]
                        .iter()
                        .map(|q| q.attempts)
                        .max()
                        .unwrap_or(0);
                    let wait = failure
                        .retry_after_millis
                        .unwrap_or_else(|| backoff_millis(attempts));
                    store.failed(rest, now_millis + wait)?;
                    result.failed += rest.len();
                    result.error = Some(failure.message);
                    break;
                }
            }
        }
        round.sinks.push(result);
    }
    Ok(round)
}

/// Settles the sink's batches awaiting acknowledgment: confirmed ones are delivered, and
/// those unconfirmed at their deadline are due again at once (a failed attempt). The first
/// time, the batches an earlier process left awaiting are taken up.
fn settle(
    store: &mut Store,
    sink: &mut Sink,
    now_millis: i64,
    result: &mut SinkRound,
) -> Result<(), StoreError> {
    if !sink.resumed {
        let earlier = store.awaited_acks(&sink.name)?;
        sink.awaiting.extend(
            earlier
                .into_iter()
                .map(|ack| splunk::Awaiting::resumed(ack, now_millis)),
        );
        sink.resumed = true;
    }
    let settled = sink.settle(now_millis);
    if !settled.indexed.is_empty() {
        store.delivered(&settled.indexed, now_millis)?;
        result.delivered += settled.indexed.len();
    }
    if !settled.expired.is_empty() {
        store.failed(&settled.expired, now_millis)?;
        result.failed += settled.expired.len();
        result.error = Some(format!(
            "{} alerts not confirmed by the indexers within {} s: sent again",
            settled.expired.len(),
            splunk::ACK_DEADLINE_MILLIS / 1000
        ));
    }
    if settled.error.is_some() {
        result.error = settled.error;
    }
    result.awaiting = sink.awaiting.iter().map(|a| a.ack.seqs.len()).sum();
    Ok(())
}

/// Milliseconds since the epoch.
pub fn now_millis() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_up_to_five_minutes() {
        assert_eq!(backoff_millis(0), 1000);
        assert_eq!(backoff_millis(3), 8000);
        assert_eq!(backoff_millis(50), 300_000);
    }
}
