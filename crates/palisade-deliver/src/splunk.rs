//! Splunk's HTTP Event Collector: events stamped with the time of the request that raised
//! them, and indexer acknowledgment.
//!
//! HEC answers 200 as soon as a request looks valid, before the events enter Splunk's
//! pipeline, where an outage can still lose them. A token with indexer acknowledgment on
//! answers with an `ackId` instead, and the events count as stored only once the ack
//! endpoint says so. Every request names a channel (a GUID made per sink and process, as
//! Splunk requires with acknowledgment and accepts without), so the same sink works with
//! either kind of token. A batch waiting for its ack stays in the outbox, not due before the
//! deadline; unconfirmed by then it is sent again: at least once, never zero times. The store
//! keeps each batch's channel and ack id, so a restarted process asks Splunk about what the
//! one before it sent instead of sending it again.

use palisade_audit::Alert;
use serde::Serialize;
use serde_json::Value;
use serde_json::value::RawValue;

use palisade_store::AwaitedAck;

use crate::sink::Sink;

/// How long a batch may wait for Splunk's acknowledgment before it is sent again (Splunk's
/// guidance, as Vector follows it: 30 queries 10 s apart).
pub const ACK_DEADLINE_MILLIS: i64 = 300_000;
/// The first query for an ack waits this long, doubling up to [`ACK_QUERY_MAX_MILLIS`].
const ACK_QUERY_FIRST_MILLIS: i64 = 500;
const ACK_QUERY_MAX_MILLIS: i64 = 10_000;

/// One HEC event: the rendered alert with Splunk's metadata.
#[derive(Serialize)]
struct Envelope<'a> {
    /// Seconds since the epoch (milliseconds as the fraction) of the request, so a backlog
    /// sent after an outage lands where it happened in Splunk's timeline, not at delivery.
    #[serde(skip_serializing_if = "Option::is_none")]
    time: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    host: Option<&'a str>,
    source: &'static str,
    sourcetype: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    index: Option<&'a str>,
    fields: Fields<'a>,
    event: Event,
}

/// The rendered alert: a JSON format's document as it was written (no tree is built), or
/// the text of the text and CEF formats as a string.
#[derive(Serialize)]
#[serde(untagged)]
enum Event {
    Document(Box<RawValue>),
    Text(String),
}

#[derive(Serialize)]
struct Fields<'a> {
    alert_id: &'a str,
}

const SOURCETYPE: &str = "palisade:alert";

/// The HEC event line for `alert` rendered as `rendered` (a JSON format's document, or the
/// text of the text and CEF formats).
pub fn event_line(alert: &Alert, rendered: &str, index: Option<&str>, host: &str) -> String {
    let time = alert
        .request
        .time_micros
        .map(|micros| micros.div_euclid(1000) as f64 / 1000.0);
    envelope(time, index, host, &alert.id, rendered)
}

fn envelope(
    time: Option<f64>,
    index: Option<&str>,
    host: &str,
    alert_id: &str,
    rendered: &str,
) -> String {
    let envelope = Envelope {
        time,
        host: (!host.is_empty() && host != "-").then_some(host),
        source: "palisade",
        sourcetype: SOURCETYPE,
        index,
        fields: Fields { alert_id },
        event: RawValue::from_string(rendered.to_string())
            .map_or_else(|_| Event::Text(rendered.to_string()), Event::Document),
    };
    serde_json::to_string(&envelope).unwrap_or_default()
}

/// The line to send for a queued body: bodies are queued as event lines; a body queued by a
/// Palisade that queued the bare alert is wrapped as that one sent it.
pub fn queued_line(body: &str, alert_id: &str, index: Option<&str>) -> String {
    #[derive(serde::Deserialize)]
    struct Queued<'a> {
        sourcetype: Option<&'a str>,
        #[serde(borrow)]
        event: Option<&'a RawValue>,
    }
    let is_envelope = serde_json::from_str::<Queued>(body)
        .is_ok_and(|q| q.sourcetype == Some(SOURCETYPE) && q.event.is_some());
    if is_envelope {
        body.to_string()
    } else {
        envelope(None, index, "", alert_id, body)
    }
}

/// What HEC answered a request of events: stored, or waiting for acknowledgment `ackId`.
/// Anything but HEC's success (`code` 0), such as a proxy's page answered with 200, is an
/// error: the events are not known to be in Splunk.
pub fn accepted(answer: &str) -> Result<Option<u64>, String> {
    let parsed: Value = serde_json::from_str(answer)
        .map_err(|_| format!("not an HTTP Event Collector answer: {}", excerpt(answer)))?;
    if parsed.get("code").and_then(Value::as_i64) != Some(0) {
        return Err(format!(
            "HTTP Event Collector refused: {}",
            excerpt(&parsed.to_string())
        ));
    }
    Ok(parsed.get("ackId").and_then(Value::as_u64))
}

fn excerpt(text: &str) -> String {
    text.chars().take(200).collect()
}

/// A GUID for the sink's channel, from the TLS provider's system random source.
pub fn channel_id() -> String {
    let mut bytes = [0u8; 16];
    let random = rustls::crypto::ring::default_provider().secure_random;
    if random.fill(&mut bytes).is_err() {
        // Unique enough for a channel when the system random source fails.
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos());
        bytes = (now ^ (u128::from(std::process::id()) << 64)).to_be_bytes();
    }
    bytes[6] = (bytes[6] & 0x0f) | 0x40;
    bytes[8] = (bytes[8] & 0x3f) | 0x80;
    let hex: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
    format!(
        "{}-{}-{}-{}-{}",
        &hex[0..8],
        &hex[8..12],
        &hex[12..16],
        &hex[16..20],
        &hex[20..32]
    )
}

/// A batch HEC took with an `ackId`, waiting for the indexers to confirm it. What the store
/// keeps of it ([`AwaitedAck`]) lets the next process ask in its stead.
#[derive(Debug, Clone, PartialEq)]
pub struct Awaiting {
    pub ack: AwaitedAck,
    next_query: i64,
    wait: i64,
}

impl Awaiting {
    /// A batch just taken under `ack_id` on `channel`.
    pub fn new(channel: &str, ack_id: u64, seqs: Vec<i64>, now_millis: i64) -> Awaiting {
        Awaiting {
            ack: AwaitedAck {
                channel: channel.to_string(),
                id: ack_id,
                seqs,
                deadline: now_millis + ACK_DEADLINE_MILLIS,
            },
            next_query: now_millis + ACK_QUERY_FIRST_MILLIS,
            wait: ACK_QUERY_FIRST_MILLIS,
        }
    }

    /// A batch an earlier process left awaiting: asked about at once.
    pub fn resumed(ack: AwaitedAck, now_millis: i64) -> Awaiting {
        Awaiting {
            ack,
            next_query: now_millis,
            wait: ACK_QUERY_FIRST_MILLIS,
        }
    }
}

/// What querying the acks settled.
#[derive(Debug, Default, PartialEq)]
pub struct Settled {
    /// Rows Splunk confirmed stored.
    pub indexed: Vec<i64>,
    /// Rows unconfirmed at their deadline: to be sent again.
    pub expired: Vec<i64>,
    /// Why the query failed (the acks stay awaited until their deadline).
    pub error: Option<String>,
}

/// The ack endpoint beside the event endpoint `event_url`.
pub fn ack_url(event_url: &str, channel: &str) -> String {
    let base = event_url
        .strip_suffix("/event")
        .unwrap_or(event_url)
        .trim_end_matches('/');
    format!("{base}/ack?channel={channel}")
}

/// The body of an ack query.
pub fn ack_query(ids: &[u64]) -> String {
    serde_json::json!({ "acks": ids }).to_string()
}

/// Reads the ack endpoint's answer (`{"acks": {"7": true, ...}}`): the ids confirmed.
pub fn acknowledged(answer: &str) -> Result<Vec<u64>, String> {
    let parsed: Value = serde_json::from_str(answer)
        .map_err(|_| format!("not an acknowledgment answer: {}", excerpt(answer)))?;
    let acks = parsed
        .get("acks")
        .and_then(Value::as_object)
        .ok_or_else(|| format!("not an acknowledgment answer: {}", excerpt(answer)))?;
    Ok(acks
        .iter()
        .filter(|(_, done)| done.as_bool() == Some(true))
        .filter_map(|(id, _)| id.parse().ok())
        .collect())
}

/// Queries the acks due at `now_millis` and settles what Splunk confirmed or what ran out
/// of time; `query` posts an ack query's body to a channel and returns the answer. Acks
/// are asked on the channel they were given on (an earlier process's, after a restart).
pub fn settle(
    awaiting: &mut Vec<Awaiting>,
    now_millis: i64,
    query: &mut dyn FnMut(&str, String) -> Result<String, String>,
) -> Settled {
    let mut settled = Settled::default();
    let mut channels: Vec<&str> = awaiting
        .iter()
        .filter(|a| a.next_query <= now_millis)
        .map(|a| a.ack.channel.as_str())
        .collect();
    channels.sort_unstable();
    channels.dedup();
    let mut confirmed: Vec<(String, u64)> = Vec::new();
    for channel in channels {
        let due: Vec<u64> = awaiting
            .iter()
            .filter(|a| a.next_query <= now_millis && a.ack.channel == channel)
            .map(|a| a.ack.id)
            .collect();
        match query(channel, ack_query(&due)).and_then(|answer| acknowledged(&answer)) {
            Ok(ids) => confirmed.extend(ids.into_iter().map(|id| (channel.to_string(), id))),
            Err(error) => settled.error = Some(format!("acknowledgment query: {error}")),
        }
    }
    awaiting.retain(|a| {
        let done = confirmed
            .iter()
            .any(|(channel, id)| *id == a.ack.id && *channel == a.ack.channel);
        if done {
            settled.indexed.extend(&a.ack.seqs);
        }
        !done
    });
    for waiting in awaiting.iter_mut().filter(|a| a.next_query <= now_millis) {
        waiting.wait = (waiting.wait * 2).min(ACK_QUERY_MAX_MILLIS);
        waiting.next_query = now_millis + waiting.wait;
    }
    awaiting.retain(|a| {
        let expired = a.ack.deadline <= now_millis;
        if expired {
            settled.expired.extend(&a.ack.seqs);
        }
        !expired
    });
    settled
}

/// Posts an ack query for `sink` (HEC's token) on `channel`.
pub fn query_acks(sink: &mut Sink, channel: &str, body: String) -> Result<String, String> {
    let crate::sink::Transport::Splunk { url, token, .. } = sink.transport.clone() else {
        return Err("not a Splunk sink".into());
    };
    let authorization = format!("Splunk {token}");
    crate::transport::post_reading(
        sink,
        &ack_url(&url, channel),
        &[
            ("Authorization", &authorization),
            ("X-Splunk-Request-Channel", channel),
        ],
        body,
    )
    .map_err(|failure| failure.message)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn channels_are_version_4_guids_and_differ() {
        let a = channel_id();
        let b = channel_id();
        assert_ne!(a, b);
        let parts: Vec<&str> = a.split('-').collect();
        assert_eq!(
            parts.iter().map(|p| p.len()).collect::<Vec<_>>(),
            [8, 4, 4, 4, 12]
        );
        assert!(parts[2].starts_with('4'));
        assert!(matches!(&parts[3][..1], "8" | "9" | "a" | "b"));
    }

    #[test]
    fn only_hecs_success_counts_as_accepted() {
        assert_eq!(accepted(r#"{"text":"Success","code":0}"#), Ok(None));
        assert_eq!(
            accepted(r#"{"text":"Success","code":0,"ackId":7}"#),
            Ok(Some(7))
        );
        assert!(accepted("<html>OK</html>").is_err());
        assert!(accepted("").is_err());
        let refused = accepted(r#"{"text":"Data channel is missing","code":10}"#).unwrap_err();
        assert!(refused.contains("Data channel is missing"), "{refused}");
    }

    #[test]
    fn bodies_queued_bare_are_wrapped_and_event_lines_kept() {
        let line = envelope(
            Some(1.5),
            Some("sec"),
            "node-1",
            "id1",
            r#"{"rule":"AUD001"}"#,
        );
        assert_eq!(
            line,
            r#"{"time":1.5,"host":"node-1","source":"palisade","sourcetype":"palisade:alert","index":"sec","fields":{"alert_id":"id1"},"event":{"rule":"AUD001"}}"#
        );
        assert_eq!(queued_line(&line, "id1", Some("sec")), line);
        let wrapped: Value =
            serde_json::from_str(&queued_line(r#"{"rule":"AUD001"}"#, "id1", None)).unwrap();
        assert_eq!(wrapped["event"]["rule"], "AUD001");
        assert_eq!(wrapped["fields"]["alert_id"], "id1");
        let text: Value = serde_json::from_str(&queued_line("AUD001 high", "id1", None)).unwrap();
        assert_eq!(text["event"], "AUD001 high");
    }

    #[test]
    fn acks_are_settled_when_confirmed_and_sent_again_at_the_deadline() {
        let mut awaiting = vec![
            Awaiting::new("c-1", 1, vec![10, 11], 0),
            Awaiting::new("c-1", 2, vec![12], 0),
        ];
        let mut asked = Vec::new();
        // Not yet time to ask.
        let settled = settle(&mut awaiting, 100, &mut |channel, body| {
            asked.push(format!("{channel} {body}"));
            Ok(String::new())
        });
        assert_eq!(settled, Settled::default());
        assert!(asked.is_empty());
        let settled = settle(&mut awaiting, 600, &mut |channel, body| {
            asked.push(format!("{channel} {body}"));
            Ok(r#"{"acks":{"1":true,"2":false}}"#.into())
        });
        assert_eq!(asked, [r#"c-1 {"acks":[1,2]}"#]);
        assert_eq!(settled.indexed, [10, 11]);
        assert_eq!(awaiting.len(), 1);
        // A failed query keeps waiting; the deadline sends the batch again.
        let settled = settle(&mut awaiting, 2_000, &mut |_, _| Err("refused".into()));
        assert!(settled.error.is_some() && settled.expired.is_empty());
        let settled = settle(&mut awaiting, ACK_DEADLINE_MILLIS, &mut |_, _| {
            Ok(r#"{"acks":{"2":false}}"#.into())
        });
        assert_eq!(settled.expired, [12]);
        assert!(awaiting.is_empty());
    }

    #[test]
    fn acks_are_asked_on_the_channel_that_gave_them() {
        // An earlier process's batch (its channel, ack 1) and this one's (ack 1 too).
        let earlier = AwaitedAck {
            channel: "c-old".into(),
            id: 1,
            seqs: vec![5],
            deadline: 100_000,
        };
        let mut awaiting = vec![
            Awaiting::resumed(earlier, 0),
            Awaiting::new("c-new", 1, vec![6], 0),
        ];
        let mut asked = Vec::new();
        let settled = settle(&mut awaiting, 0, &mut |channel, body| {
            asked.push(format!("{channel} {body}"));
            Ok(if channel == "c-old" {
                r#"{"acks":{"1":true}}"#.into()
            } else {
                r#"{"acks":{"1":false}}"#.into()
            })
        });
        // Only the resumed batch was due at once; its ack confirms it alone.
        assert_eq!(asked, [r#"c-old {"acks":[1]}"#]);
        assert_eq!(settled.indexed, [5]);
        assert_eq!(awaiting.len(), 1);
        assert_eq!(awaiting[0].ack.channel, "c-new");
    }

    #[test]
    fn the_ack_endpoint_sits_beside_the_event_endpoint() {
        assert_eq!(
            ack_url("https://s:8088/services/collector/event", "c-1"),
            "https://s:8088/services/collector/ack?channel=c-1"
        );
    }
}
