//! Sending one batch over each transport. A batch succeeds only when the sink accepted all
//! of it; otherwise the whole batch is retried (sinks that deduplicate by alert id absorb
//! the repeats).

use std::io::Write;
use std::net::TcpStream;
use std::sync::Arc;
use std::time::Duration;

use base64::Engine as _;
use palisade_store::Queued;
use serde_json::{Value, json};

use crate::sink::{Framing, Sent, Sink, Transport};
use crate::splunk;

const TIMEOUT: Duration = Duration::from_secs(15);

pub fn base64(text: &str) -> String {
    base64::engine::general_purpose::STANDARD.encode(text)
}

/// Why a batch was not taken whole.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct Failure {
    /// How many of the batch's first alerts the sink stored before it failed (Slack takes
    /// one alert a request): they are delivered, and only the rest is sent again.
    pub stored: usize,
    pub message: String,
    /// How long the sink asked to be left alone (`Retry-After` on a 429 or 503).
    pub retry_after_millis: Option<i64>,
    /// The HTTP status the sink answered with, for HTTP sinks.
    pub status: Option<u16>,
}

impl From<String> for Failure {
    fn from(message: String) -> Failure {
        Failure {
            stored: 0,
            message,
            retry_after_millis: None,
            status: None,
        }
    }
}

/// Sends `batch` to `sink`.
pub fn send(sink: &mut Sink, batch: &[Queued]) -> Result<Sent, Failure> {
    let stored: Result<(), Failure> = match sink.transport.clone() {
        Transport::Stdout => {
            let mut out = std::io::stdout().lock();
            for item in batch {
                writeln!(out, "{}", item.body).map_err(|e| e.to_string())?;
            }
            out.flush().map_err(|e| e.to_string().into())
        }
        Transport::File(path) => {
            let mut file = std::fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(&path)
                .map_err(|e| format!("{}: {e}", path.display()))?;
            let mut text = String::new();
            for item in batch {
                text.push_str(&item.body);
                text.push('\n');
            }
            append_whole(&mut file, text.as_bytes())
                .map_err(|e| format!("{}: {e}", path.display()).into())
        }
        Transport::Syslog {
            address,
            tls,
            framing,
        } => syslog(sink, &address, tls.as_deref(), &frames(batch, framing)).map_err(Failure::from),
        Transport::Webhook {
            url,
            slack,
            authorization,
        } => {
            if slack {
                slack_messages(sink, &url, batch)
            } else {
                let items: Vec<Value> = batch.iter().map(|q| parse_or_string(&q.body)).collect();
                let headers: Vec<(&str, &str)> = authorization
                    .as_deref()
                    .map(|value| ("Authorization", value))
                    .into_iter()
                    .collect();
                post(sink, &url, &headers, Value::Array(items).to_string())
            }
        }
        Transport::Elasticsearch {
            url,
            index,
            authorization,
        } => elasticsearch(sink, &url, &index, authorization.as_deref(), batch)
            .map_err(Failure::from),
        Transport::Splunk { url, token, index } => {
            return send_splunk(sink, &url, &token, index.as_deref(), batch);
        }
        Transport::Postgres(_) => crate::postgres::store(sink, batch),
    };
    stored.map(|()| Sent::Stored)
}

/// One Slack message per alert, in order; a failure (Slack limits a webhook to about one
/// message a second) counts the messages already posted as delivered, so they are not
/// posted again and the rest follow after the wait Slack asks for.
fn slack_messages(sink: &mut Sink, url: &str, batch: &[Queued]) -> Result<(), Failure> {
    for (posted, item) in batch.iter().enumerate() {
        post(
            sink,
            url,
            &[],
            json!({"text": slack_escape(&item.body)}).to_string(),
        )
        .map_err(|failure| Failure {
            stored: posted,
            ..failure
        })?;
    }
    Ok(())
}

/// Slack's control characters escaped, so that what a request put in an alert (a user
/// agent of `<!channel>`, a name with `<https://...|click here>`) shows as text instead of
/// notifying a whole channel or linking away.
fn slack_escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

/// HEC's event endpoint, naming the sink's channel: stored, or awaiting acknowledgment when
/// the token has it on.
fn send_splunk(
    sink: &mut Sink,
    url: &str,
    token: &str,
    index: Option<&str>,
    batch: &[Queued],
) -> Result<Sent, Failure> {
    let mut body = String::new();
    for item in batch {
        body.push_str(&splunk::queued_line(&item.body, &item.alert_id, index));
        body.push('\n');
    }
    let authorization = format!("Splunk {token}");
    let channel = sink.channel().to_string();
    let answer = post_reading(
        sink,
        url,
        &[
            ("Authorization", &authorization),
            ("X-Splunk-Request-Channel", &channel),
        ],
        body,
    )?;
    Ok(match splunk::accepted(&answer)? {
        Some(ack_id) => Sent::Awaiting(ack_id),
        None => Sent::Stored,
    })
}

fn parse_or_string(body: &str) -> Value {
    serde_json::from_str(body).unwrap_or_else(|_| Value::String(body.to_string()))
}

fn agent(sink: &mut Sink) -> Result<ureq::Agent, String> {
    if let Some(agent) = &sink.agent {
        return Ok(agent.clone());
    }
    let mut tls = ureq::tls::TlsConfig::builder().provider(ureq::tls::TlsProvider::Rustls);
    if let Some(pem) = &sink.ca {
        let certificates: Vec<ureq::tls::Certificate<'static>> = ureq::tls::parse_pem(pem)
            .filter_map(|item| match item {
                Ok(ureq::tls::PemItem::Certificate(c)) => Some(c),
                _ => None,
            })
            .collect();
        if certificates.is_empty() {
            return Err(format!("{}: the CA file holds no certificate", sink.label));
        }
        tls = tls.root_certs(ureq::tls::RootCerts::Specific(Arc::new(certificates)));
    }
    if let Some(identity) = &sink.client {
        let chain: Vec<ureq::tls::Certificate<'static>> = identity
            .chain()
            .iter()
            .map(|c| ureq::tls::Certificate::from_der(c.as_ref()).to_owned())
            .collect();
        let key = ureq::tls::PrivateKey::from_pem(identity.key_pem())
            .map_err(|e| format!("{}: client key: {e}", sink.label))?;
        tls = tls.client_cert(Some(ureq::tls::ClientCert::new_with_certs(&chain, key)));
    }
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .tls_config(tls.build())
        .http_status_as_error(false)
        // A redirected POST is followed as a GET (as curl does), and the page it reaches (a
        // sign-in proxy's login page) answers 200 to alerts never taken: not followed.
        .max_redirects(0)
        .timeout_global(Some(TIMEOUT))
        .build()
        .into();
    sink.agent = Some(agent.clone());
    Ok(agent)
}

/// POSTs `body` (JSON unless `headers` name another `Content-Type`: a request naming two
/// is refused by Elasticsearch); a 2xx status is success. Returns the response body.
pub(crate) fn post_reading(
    sink: &mut Sink,
    url: &str,
    headers: &[(&str, &str)],
    body: String,
) -> Result<String, Failure> {
    let agent = agent(sink)?;
    let mut request = agent.post(url);
    if !headers
        .iter()
        .any(|(name, _)| name.eq_ignore_ascii_case("content-type"))
    {
        request = request.header("Content-Type", "application/json");
    }
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    let mut response = request.send(body).map_err(|e| e.to_string())?;
    let status = response.status().as_u16();
    let retry_after_millis = matches!(status, 429 | 503)
        .then(|| {
            let value = response.headers().get("retry-after")?.to_str().ok()?;
            retry_after_seconds(value, crate::now_millis() / 1000)
        })
        .flatten()
        .map(|seconds| seconds.clamp(0, 300) * 1000);
    let location = (300..400)
        .contains(&status)
        .then(|| {
            let location = response.headers().get("location")?.to_str().ok()?;
            Some(format!(
                "redirected to {location}, not followed: name the sink by the URL that takes the alerts"
            ))
        })
        .flatten();
    let text = response
        .body_mut()
        .with_config()
        .limit(16 << 20)
        .read_to_string()
        .unwrap_or_default();
    if !(200..300).contains(&status) {
        let detail: String = location.unwrap_or_else(|| text.chars().take(200).collect());
        return Err(Failure {
            stored: 0,
            message: format!("HTTP {status} {detail}"),
            retry_after_millis,
            status: Some(status),
        });
    }
    Ok(text)
}

/// Appends `text` to `file` and syncs it, or leaves the file as it was: a write that stops
/// part-way (a full disk) is cut off again, so the batch sent again does not follow half a
/// line (which a log shipper would read as one malformed line with the next).
fn append_whole(file: &mut std::fs::File, text: &[u8]) -> std::io::Result<()> {
    let before = file.metadata()?.len();
    let written = file.write_all(text).and_then(|()| file.sync_data());
    if written.is_err() {
        let _ = file.set_len(before).and_then(|()| file.sync_data());
    }
    written
}

/// The wait a `Retry-After` value asks for, in seconds from `now` (seconds since the epoch):
/// a number of seconds, or an HTTP date (RFC 9110 §10.2.3).
fn retry_after_seconds(value: &str, now: i64) -> Option<i64> {
    let value = value.trim();
    value
        .parse::<i64>()
        .ok()
        .or_else(|| palisade_core::date::http_date_unix_seconds(value).map(|at| at - now))
}

fn post(sink: &mut Sink, url: &str, headers: &[(&str, &str)], body: String) -> Result<(), Failure> {
    post_reading(sink, url, headers, body).map(|_| ())
}

/// The bulk API with `create` and the alert id as `_id`: a document already stored (409)
/// counts as delivered.
fn elasticsearch(
    sink: &mut Sink,
    url: &str,
    index: &str,
    authorization: Option<&str>,
    batch: &[Queued],
) -> Result<(), String> {
    let mut body = String::new();
    for item in batch {
        body.push_str(&json!({"create": {"_index": index, "_id": item.alert_id}}).to_string());
        body.push('\n');
        body.push_str(&parse_or_string(&item.body).to_string());
        body.push('\n');
    }
    let mut headers = vec![("Content-Type", "application/x-ndjson")];
    if let Some(auth) = authorization {
        headers.push(("Authorization", auth));
    }
    let response = post_reading(sink, url, &headers, body).map_err(|f| f.message)?;
    let parsed: Value =
        serde_json::from_str(&response).map_err(|_| "not a bulk API response".to_string())?;
    if parsed.get("errors").and_then(Value::as_bool) != Some(true) {
        return Ok(());
    }
    // Some documents failed: each must be accounted for as stored (or already stored) before
    // the batch counts as delivered.
    let items = parsed
        .get("items")
        .and_then(Value::as_array)
        .map_or(&[][..], Vec::as_slice);
    if items.len() != batch.len() {
        return Err(format!(
            "the bulk API reported errors and answered for {} of {} documents",
            items.len(),
            batch.len()
        ));
    }
    let refused: Vec<String> = items
        .iter()
        .filter_map(|item| {
            let create = item.get("create");
            let status = create.and_then(|c| c.get("status")).and_then(Value::as_i64);
            match status {
                Some(status) if (200..300).contains(&status) || status == 409 => None,
                _ => {
                    let reason = create
                        .and_then(|c| c.get("error"))
                        .and_then(|e| e.get("type"))
                        .and_then(Value::as_str)
                        .unwrap_or("error");
                    let status = status.map_or("no status".to_string(), |s| s.to_string());
                    Some(format!("{status} {reason}"))
                }
            }
        })
        .collect();
    if refused.is_empty() {
        Ok(())
    } else {
        Err(format!(
            "{} documents refused ({})",
            refused.len(),
            refused.first().cloned().unwrap_or_default()
        ))
    }
}

/// Octet-counted RFC 5424 frames over TCP, or TLS verified against `server_name`.
/// The batch's syslog messages as one stream, each framed as `framing` says.
fn frames(batch: &[Queued], framing: Framing) -> Vec<u8> {
    let mut frames = Vec::new();
    for item in batch {
        match framing {
            Framing::OctetCounting => {
                frames.extend_from_slice(format!("{} {}", item.body.len(), item.body).as_bytes());
            }
            Framing::LineFeed => {
                frames.extend_from_slice(item.body.replace(['\n', '\r'], " ").as_bytes());
                frames.push(b'\n');
            }
        }
    }
    frames
}

fn syslog(
    sink: &Sink,
    address: &str,
    server_name: Option<&str>,
    frames: &[u8],
) -> Result<(), String> {
    let addresses: Vec<std::net::SocketAddr> = std::net::ToSocketAddrs::to_socket_addrs(address)
        .map_err(|e| e.to_string())?
        .collect();
    let target = addresses.first().ok_or_else(|| "no address".to_string())?;
    let stream = TcpStream::connect_timeout(target, TIMEOUT).map_err(|e| e.to_string())?;
    stream
        .set_write_timeout(Some(TIMEOUT))
        .map_err(|e| e.to_string())?;
    stream
        .set_read_timeout(Some(CLOSE_WAIT))
        .map_err(|e| e.to_string())?;
    match server_name {
        None => {
            let mut stream = stream;
            stream
                .write_all(frames)
                .and_then(|()| stream.flush())
                .map_err(|e| e.to_string())?;
            let _ = stream.shutdown(std::net::Shutdown::Write);
            server_closed(&mut stream)
        }
        Some(name) => {
            let config = tls_client(sink.ca.as_deref(), sink.client.as_ref())?;
            let server = rustls::pki_types::ServerName::try_from(name.to_string())
                .map_err(|e| format!("{name}: {e}"))?;
            let connection = rustls::ClientConnection::new(Arc::new(config), server)
                .map_err(|e| e.to_string())?;
            let mut tls = rustls::StreamOwned::new(connection, stream);
            tls.write_all(frames)
                .and_then(|()| tls.flush())
                .map_err(|e| e.to_string())?;
            tls.conn.send_close_notify();
            tls.flush().map_err(|e| e.to_string())?;
            let _ = tls.sock.shutdown(std::net::Shutdown::Write);
            server_closed(&mut tls)
        }
    }
}

/// How long a syslog server may take to close its side once ours is closed.
const CLOSE_WAIT: Duration = Duration::from_secs(5);

/// Reads what the server sends once our side is closed, until it closes its own: whether it
/// took the frames. A TLS 1.3 server judges a client certificate after the client finished
/// its handshake and answers a refusal with an alert, which only a read sees; a server that
/// closes with frames unread resets the connection. A server that keeps its side open past
/// [`CLOSE_WAIT`] has said no to nothing, and counts as having taken them.
fn server_closed(stream: &mut impl std::io::Read) -> Result<(), String> {
    use std::io::ErrorKind;
    let mut discard = [0u8; 1024];
    loop {
        match stream.read(&mut discard) {
            Ok(0) => return Ok(()),
            Ok(_) => {}
            // Closed without TLS's close_notify: closed all the same.
            Err(e) if e.kind() == ErrorKind::UnexpectedEof => return Ok(()),
            Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {
                return Ok(());
            }
            Err(e) if e.kind() == ErrorKind::Interrupted => {}
            Err(e) => return Err(format!("the server did not take the messages: {e}")),
        }
    }
}

/// A rustls client trusting `ca` (PEM), or the public roots, presenting `client` when given.
pub(crate) fn tls_client(
    ca: Option<&[u8]>,
    client: Option<&crate::sink::ClientIdentity>,
) -> Result<rustls::ClientConfig, String> {
    use rustls::pki_types::CertificateDer;
    use rustls::pki_types::pem::PemObject;
    let mut roots = rustls::RootCertStore::empty();
    match ca {
        Some(pem) => {
            for cert in CertificateDer::pem_slice_iter(pem) {
                let cert = cert.map_err(|e| format!("CA: {e}"))?;
                roots.add(cert).map_err(|e| format!("CA: {e}"))?;
            }
        }
        None => roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned()),
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let builder = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| e.to_string())?
        .with_root_certificates(roots);
    match client {
        None => Ok(builder.with_no_client_auth()),
        Some(identity) => {
            let key = identity
                .key()
                .ok_or_else(|| "the client key could not be read".to_string())?;
            builder
                .with_client_auth_cert(identity.chain(), key)
                .map_err(|e| format!("client certificate: {e}"))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retry_after_is_seconds_or_an_http_date() {
        let now =
            palisade_core::date::http_date_unix_seconds("Sat, 05 Dec 2026 12:00:00 GMT").unwrap();
        assert_eq!(retry_after_seconds(" 30 ", now), Some(30));
        assert_eq!(
            retry_after_seconds("Sat, 05 Dec 2026 12:02:00 GMT", now),
            Some(120)
        );
        assert_eq!(retry_after_seconds("soon", now), None);
    }
}
