//! Every transport against a real server on loopback: syslog over TCP and over TLS (a
//! rustls server with a CA made here, and one that requires a client certificate), HTTPS
//! webhooks behind mutual TLS, Splunk HEC (with and without indexer acknowledgment) and the
//! Elasticsearch bulk API (plain HTTP servers that check what they receive and answer as the
//! real ones do, including a bulk response with a conflict and a refusal, rate limits and
//! body limits).

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use palisade_audit::{Alert, Engine, Event, Origin, Selection, Settings};
use palisade_deliver::{Sink, deliver};
use palisade_store::Store;
use serde_json::Value;

fn alerts() -> Vec<Alert> {
    let lines = [
        r#"{"kind":"Event","auditID":"a1","stage":"ResponseStarted","verb":"create","requestURI":"/api/v1/namespaces/app/pods/web/exec?command=sh","user":{"username":"alice"},"sourceIPs":["203.0.113.1"],"objectRef":{"resource":"pods","subresource":"exec","namespace":"app","name":"web"},"responseStatus":{"code":101},"requestReceivedTimestamp":"2026-12-01T10:00:00Z"}"#,
        r#"{"kind":"Event","auditID":"a2","stage":"ResponseComplete","verb":"create","requestURI":"/api/v1/namespaces/app/services","user":{"username":"alice"},"objectRef":{"resource":"services","namespace":"app","name":"np"},"responseStatus":{"code":201},"requestObject":{"kind":"Service","spec":{"type":"NodePort","ports":[{"port":80}]}},"requestReceivedTimestamp":"2026-12-01T10:00:01Z"}"#,
    ];
    let mut engine = Engine::new(Settings::default(), None, &Selection::default());
    let mut out = Vec::new();
    for (i, line) in lines.iter().enumerate() {
        let event = Event::decode(line).unwrap();
        let origin = Origin {
            file: "t".into(),
            line: i as u64 + 1,
        };
        engine.analyze(&event, &origin, &mut out);
    }
    assert_eq!(out.len(), 2);
    out
}

fn store_path(name: &str) -> std::path::PathBuf {
    std::env::temp_dir()
        .join(format!("palisade-deliver-{}-{name}", std::process::id()))
        .join("s.db")
}

/// A new, empty store.
fn store(name: &str) -> Store {
    let path = store_path(name);
    let dir = path.parent().unwrap();
    let _ = std::fs::remove_dir_all(dir);
    std::fs::create_dir_all(dir).unwrap();
    Store::open(&path).unwrap()
}

/// A store holding the alerts queued for the sink.
fn queued(sink: &Sink, name: &str) -> Store {
    let mut store = store(name);
    let items: Vec<(String, String, String)> = alerts()
        .iter()
        .map(|a| (sink.name.clone(), a.id.clone(), sink.body(a)))
        .collect();
    store.enqueue(&items, None).unwrap();
    store
}

/// Queues the alerts for the sink and runs one delivery round; returns what is left.
fn run(sink: &mut Sink, name: &str) -> (palisade_deliver::Round, i64) {
    let mut store = queued(sink, name);
    let round = deliver(&mut store, std::slice::from_mut(sink), 0, 5).unwrap();
    let left = store.pending(&sink.name).unwrap();
    (round, left)
}

/// Certificates for mutual TLS, as PEM: a CA, a server certificate for 127.0.0.1 and its
/// key, a client certificate and its key, all signed by the CA.
struct Mutual {
    ca: String,
    server: (String, String),
    client: (String, String),
}

fn mutual_certificates() -> Mutual {
    let mut ca = rcgen::CertificateParams::new(Vec::<String>::new()).unwrap();
    ca.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
    let ca_key = rcgen::KeyPair::generate().unwrap();
    let ca_cert = ca.self_signed(&ca_key).unwrap();
    let issuer = rcgen::Issuer::new(ca, ca_key);
    let leaf = |names: Vec<String>, usage| {
        let mut params = rcgen::CertificateParams::new(names).unwrap();
        params.extended_key_usages = vec![usage];
        let key = rcgen::KeyPair::generate().unwrap();
        let cert = params.signed_by(&key, &issuer).unwrap();
        (cert.pem(), key.serialize_pem())
    };
    let server = leaf(
        vec!["127.0.0.1".into()],
        rcgen::ExtendedKeyUsagePurpose::ServerAuth,
    );
    let client = leaf(
        vec!["palisade".into()],
        rcgen::ExtendedKeyUsagePurpose::ClientAuth,
    );
    Mutual {
        ca: ca_cert.pem(),
        server,
        client,
    }
}

/// A rustls server that requires a client certificate signed by `ca`.
fn mutual_tls_server(m: &Mutual) -> Arc<rustls::ServerConfig> {
    use rustls::pki_types::pem::PemObject;
    use rustls::pki_types::{CertificateDer, PrivateKeyDer};
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut roots = rustls::RootCertStore::empty();
    for cert in CertificateDer::pem_slice_iter(m.ca.as_bytes()) {
        roots.add(cert.unwrap()).unwrap();
    }
    let verifier = rustls::server::WebPkiClientVerifier::builder_with_provider(
        Arc::new(roots),
        provider.clone(),
    )
    .build()
    .unwrap();
    let certs = CertificateDer::pem_slice_iter(m.server.0.as_bytes())
        .collect::<Result<Vec<_>, _>>()
        .unwrap();
    let key = PrivateKeyDer::from_pem_slice(m.server.1.as_bytes()).unwrap();
    Arc::new(
        rustls::ServerConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .unwrap()
            .with_client_cert_verifier(verifier)
            .with_single_cert(certs, key)
            .unwrap(),
    )
}

/// Writes the CA and the client's certificate and key under a directory of their own;
/// returns the sink URL parameters that name them.
fn mutual_files(m: &Mutual, name: &str) -> (String, String) {
    let dir = std::env::temp_dir().join(format!(
        "palisade-deliver-mtls-{}-{name}",
        std::process::id()
    ));
    std::fs::create_dir_all(&dir).unwrap();
    let write = |file: &str, text: &str| {
        let path = dir.join(file);
        std::fs::write(&path, text).unwrap();
        path.display().to_string()
    };
    let ca = write("ca.pem", &m.ca);
    let cert = write("client.pem", &m.client.0);
    let key = write("client-key.pem", &m.client.1);
    (format!("ca={ca}"), format!("cert={cert}&key={key}"))
}

/// A CA and a certificate for 127.0.0.1, as PEM (ca, cert, key).
fn certificates() -> (String, String, String) {
    let mut ca = rcgen::CertificateParams::new(Vec::<String>::new()).unwrap();
    ca.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
    let ca_key = rcgen::KeyPair::generate().unwrap();
    let ca_cert = ca.self_signed(&ca_key).unwrap();
    let issuer = rcgen::Issuer::new(ca, ca_key);
    let leaf =
        rcgen::CertificateParams::new(vec!["127.0.0.1".to_string(), "localhost".to_string()])
            .unwrap();
    let key = rcgen::KeyPair::generate().unwrap();
    let cert = leaf.signed_by(&key, &issuer).unwrap();
    (ca_cert.pem(), cert.pem(), key.serialize_pem())
}

fn tls_server(cert: &str, key: &str) -> Arc<rustls::ServerConfig> {
    use rustls::pki_types::pem::PemObject;
    use rustls::pki_types::{CertificateDer, PrivateKeyDer};
    let certs = CertificateDer::pem_slice_iter(cert.as_bytes())
        .collect::<Result<Vec<_>, _>>()
        .unwrap();
    let key = PrivateKeyDer::from_pem_slice(key.as_bytes()).unwrap();
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    Arc::new(
        rustls::ServerConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .unwrap()
            .with_no_client_auth()
            .with_single_cert(certs, key)
            .unwrap(),
    )
}

/// Reads RFC 6587 octet-counted frames until the peer closes.
fn frames(stream: &mut dyn Read) -> Vec<String> {
    let mut data = Vec::new();
    let _ = stream.read_to_end(&mut data);
    let mut out = Vec::new();
    let mut rest = &data[..];
    while let Some(space) = rest.iter().position(|&b| b == b' ') {
        let len: usize = std::str::from_utf8(&rest[..space])
            .unwrap()
            .parse()
            .unwrap();
        let start = space + 1;
        out.push(String::from_utf8(rest[start..start + len].to_vec()).unwrap());
        rest = &rest[start + len..];
    }
    out
}

#[test]
fn syslog_over_tcp_sends_octet_counted_rfc5424_cef() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let server = std::thread::spawn(move || {
        let (mut stream, _) = listener.accept().unwrap();
        frames(&mut stream)
    });
    let mut sink = Sink::parse(&format!("syslog+tcp://127.0.0.1:{port}?hostname=node-1")).unwrap();
    let (round, left) = run(&mut sink, "syslog");
    assert_eq!((round.delivered(), left), (2, 0), "{:?}", round.errors());
    let messages = server.join().unwrap();
    assert_eq!(messages.len(), 2);
    for message in &messages {
        assert!(message.starts_with("<13"), "{message}");
        assert!(message.contains(" node-1 palisade - AUD0"), "{message}");
        assert!(message.contains("CEF:0|Palisade|palisade|"), "{message}");
    }
}

/// `framing=lf`: each message ended by a line feed, for collectors that read no other
/// (Fluent Bit's and Logstash's syslog inputs).
#[test]
fn syslog_messages_can_be_ended_by_line_feeds() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let server = std::thread::spawn(move || {
        let (mut stream, _) = listener.accept().unwrap();
        let mut text = String::new();
        stream.read_to_string(&mut text).unwrap();
        text
    });
    let mut sink = Sink::parse(&format!("syslog+tcp://127.0.0.1:{port}?framing=lf")).unwrap();
    let (round, left) = run(&mut sink, "syslog-lf");
    assert_eq!((round.delivered(), left), (2, 0), "{:?}", round.errors());
    let text = server.join().unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 2, "{text}");
    assert!(text.ends_with('\n'));
    for line in lines {
        assert!(line.starts_with("<13") && line.contains("CEF:0|"), "{line}");
    }
    assert!(Sink::parse("syslog+tcp://h:514?framing=crlf").is_err());
}

#[test]
fn syslog_over_tls_verifies_the_server_against_the_given_ca() {
    let (ca, cert, key) = certificates();
    let dir = std::env::temp_dir().join(format!("palisade-deliver-ca-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let ca_path = dir.join("ca.pem");
    std::fs::write(&ca_path, &ca).unwrap();
    let config = tls_server(&cert, &key);
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let server = std::thread::spawn(move || {
        let (stream, _) = listener.accept().unwrap();
        let connection = rustls::ServerConnection::new(config).unwrap();
        let mut tls = rustls::StreamOwned::new(connection, stream);
        frames(&mut tls)
    });
    let mut sink = Sink::parse(&format!(
        "syslog+tls://127.0.0.1:{port}?format=json&ca={}",
        ca_path.display()
    ))
    .unwrap();
    let (round, left) = run(&mut sink, "syslog-tls");
    assert_eq!((round.delivered(), left), (2, 0), "{:?}", round.errors());
    let messages = server.join().unwrap();
    assert_eq!(messages.len(), 2);
    let body = messages[0].split_once("] ").unwrap().1;
    let alert: Value = serde_json::from_str(body).unwrap();
    assert!(alert["rule"].as_str().unwrap().starts_with("AUD"));
    // Without the CA, the public roots do not trust this server: the batch stays queued.
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let config = tls_server(&cert, &key);
    std::thread::spawn(move || {
        if let Ok((stream, _)) = listener.accept() {
            let connection = rustls::ServerConnection::new(config).unwrap();
            let mut tls = rustls::StreamOwned::new(connection, stream);
            let _ = frames(&mut tls);
        }
    });
    let mut untrusting = Sink::parse(&format!("syslog+tls://127.0.0.1:{port}")).unwrap();
    let (round, left) = run(&mut untrusting, "syslog-untrusted");
    assert_eq!((round.delivered(), left), (0, 2));
}

/// One HTTP request: (request line, headers lowercased, body).
type Request = (String, Vec<(String, String)>, Vec<u8>);

/// The Content-Type headers a request named.
fn content_types(headers: &[(String, String)]) -> Vec<&str> {
    headers
        .iter()
        .filter(|(k, _)| k == "content-type")
        .map(|(_, v)| v.as_str())
        .collect()
}

/// A plain HTTP/1.1 server answering every request with `respond`, recording requests.
fn http_server(respond: fn(&Request) -> (u16, String)) -> (u16, Arc<Mutex<Vec<Request>>>) {
    serve_http(None, respond)
}

/// The same over TLS with `config` (one that requires a client certificate).
fn mutual_https_server(
    config: Arc<rustls::ServerConfig>,
    respond: fn(&Request) -> (u16, String),
) -> (u16, Arc<Mutex<Vec<Request>>>) {
    serve_http(Some(config), respond)
}

fn serve_http(
    tls: Option<Arc<rustls::ServerConfig>>,
    respond: fn(&Request) -> (u16, String),
) -> (u16, Arc<Mutex<Vec<Request>>>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let seen = Arc::new(Mutex::new(Vec::new()));
    let record = seen.clone();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(stream) = stream else { continue };
            let (record, tls) = (record.clone(), tls.clone());
            std::thread::spawn(move || match tls {
                None => serve_one(stream, respond, &record),
                Some(config) => {
                    let connection = rustls::ServerConnection::new(config).unwrap();
                    serve_one(
                        rustls::StreamOwned::new(connection, stream),
                        respond,
                        &record,
                    );
                }
            });
        }
    });
    (port, seen)
}

fn serve_one(
    stream: impl Read + Write,
    respond: fn(&Request) -> (u16, String),
    record: &Mutex<Vec<Request>>,
) {
    let mut reader = BufReader::new(stream);
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line).unwrap_or(0) == 0 {
            return;
        }
        let mut headers = Vec::new();
        loop {
            let mut header = String::new();
            if reader.read_line(&mut header).is_err() {
                return;
            }
            if header.trim().is_empty() {
                break;
            }
            let (k, v) = header.split_once(':').unwrap();
            headers.push((k.trim().to_ascii_lowercase(), v.trim().to_string()));
        }
        let length: usize = headers
            .iter()
            .find(|(k, _)| k == "content-length")
            .map_or(0, |(_, v)| v.parse().unwrap());
        let mut body = vec![0; length];
        reader.read_exact(&mut body).unwrap();
        let request = (line.trim().to_string(), headers, body);
        let (status, text) = respond(&request);
        record.lock().unwrap().push(request);
        // Rate limits name the wait, as Slack's do; redirects go to a login page.
        let retry = match status {
            429 => "retry-after: 30\r\n",
            302 => "location: /login\r\n",
            _ => "",
        };
        let writer = reader.get_mut();
        write!(writer, "HTTP/1.1 {status} X\r\n{retry}content-type: application/json\r\ncontent-length: {}\r\n\r\n{text}", text.len()).unwrap();
        writer.flush().unwrap();
    }
}

#[test]
fn splunk_hec_gets_events_with_the_token_and_the_alert_ids() {
    let (port, seen) = http_server(|_| (200, r#"{"text":"Success","code":0}"#.into()));
    let mut sink = Sink::parse_with(
        &format!("splunk+http://127.0.0.1:{port}?token_env=HEC&index=security"),
        &|name| (name == "HEC").then(|| "t0k3n".to_string()),
    )
    .unwrap();
    let (round, left) = run(&mut sink, "splunk");
    assert_eq!((round.delivered(), left), (2, 0), "{:?}", round.errors());
    let requests = seen.lock().unwrap();
    let (line, headers, body) = &requests[0];
    assert_eq!(line, "POST /services/collector/event HTTP/1.1");
    assert_eq!(content_types(headers), ["application/json"]);
    assert!(
        headers
            .iter()
            .any(|(k, v)| k == "authorization" && v == "Splunk t0k3n")
    );
    let events: Vec<Value> = String::from_utf8_lossy(body)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(events.len(), 2);
    assert_eq!(events[0]["index"], "security");
    assert_eq!(events[0]["sourcetype"], "palisade:alert");
    assert!(events[0]["fields"]["alert_id"].is_string());
    assert!(events[0]["event"]["rule"].is_string());
    // Stamped with the requests' times (2026-12-01T10:00:00Z and a second later), not with
    // when they were delivered.
    assert_eq!(events[0]["time"].as_f64(), Some(1_796_119_200.0));
    assert_eq!(events[1]["time"].as_f64(), Some(1_796_119_201.0));
    assert!(
        headers
            .iter()
            .any(|(k, v)| k == "x-splunk-request-channel" && v.len() == 36),
        "{headers:?}"
    );
    // A 200 that is not HEC's success (a proxy's page) keeps the alerts queued.
    let (port, _) = http_server(|_| (200, "<html>maintenance</html>".into()));
    let mut sink = Sink::parse_with(
        &format!("splunk+http://127.0.0.1:{port}?token_env=HEC"),
        &|_| Some("t".to_string()),
    )
    .unwrap();
    let (round, left) = run(&mut sink, "splunk-proxy");
    assert_eq!((round.delivered(), left), (0, 2));
    assert!(round.errors()[0].contains("not an HTTP Event Collector answer"));
}

/// The Splunk channel a request named.
fn channel_of(request: &Request) -> String {
    request
        .1
        .iter()
        .find(|(k, _)| k == "x-splunk-request-channel")
        .map(|(_, v)| v.clone())
        .unwrap()
}

/// HEC with indexer acknowledgment: the event endpoint answers with an ack id, and the ack
/// endpoint says "not yet" to its first query and "indexed" to the next.
fn hec_with_acks(request: &Request) -> (u16, String) {
    static QUERIES: AtomicUsize = AtomicUsize::new(0);
    let (line, _, _) = request;
    if line.starts_with("POST /services/collector/event ") {
        (200, r#"{"text":"Success","code":0,"ackId":5}"#.into())
    } else if line.starts_with("POST /services/collector/ack?channel=") {
        let done = QUERIES.fetch_add(1, Ordering::SeqCst) > 0;
        (200, format!(r#"{{"acks":{{"5":{done}}}}}"#))
    } else {
        (404, r#"{"text":"not found","code":404}"#.into())
    }
}

#[test]
fn splunk_hec_with_indexer_acknowledgment_delivers_what_the_indexers_confirmed() {
    let (port, seen) = http_server(hec_with_acks);
    let mut sink = Sink::parse_with(
        &format!("splunk+http://127.0.0.1:{port}?token_env=HEC"),
        &|_| Some("t".to_string()),
    )
    .unwrap();
    let mut store = queued(&sink, "splunk-ack");
    let mut round_at = |now: i64| {
        let round = deliver(&mut store, std::slice::from_mut(&mut sink), now, 5).unwrap();
        (round.sinks[0].clone(), store.pending(&sink.name).unwrap())
    };
    // Taken, not yet confirmed: still queued, and not sent again.
    let (round, left) = round_at(0);
    assert_eq!((round.delivered, round.awaiting, left), (0, 2, 2));
    let (round, left) = round_at(100);
    assert_eq!((round.delivered, round.awaiting, left), (0, 2, 2));
    // "Not yet", then "indexed".
    let (round, left) = round_at(1_000);
    assert_eq!((round.delivered, left), (0, 2), "{round:?}");
    let (round, left) = round_at(5_000);
    assert_eq!(
        (round.delivered, round.awaiting, left),
        (2, 0, 0),
        "{round:?}"
    );
    let requests = seen.lock().unwrap();
    let lines: Vec<&str> = requests.iter().map(|(l, _, _)| l.as_str()).collect();
    assert_eq!(lines.len(), 3, "{lines:?}");
    let channel = channel_of(&requests[0]);
    assert_eq!(
        lines[1],
        format!("POST /services/collector/ack?channel={channel} HTTP/1.1")
    );
    assert_eq!(String::from_utf8_lossy(&requests[1].2), r#"{"acks":[5]}"#);
}

/// A process stopped while Splunk owed an acknowledgment: the next one (a new sink, its own
/// channel, the store reopened) asks on the earlier channel and sends nothing again.
#[test]
fn a_restarted_process_asks_for_the_acknowledgment_the_last_one_awaited() {
    let (port, seen) = http_server(|(line, _, _)| {
        if line.contains("/ack?") {
            (200, r#"{"acks":{"5":true}}"#.into())
        } else {
            (200, r#"{"text":"Success","code":0,"ackId":5}"#.into())
        }
    });
    let spec = format!("splunk+http://127.0.0.1:{port}?token_env=HEC");
    let parse = || Sink::parse_with(&spec, &|_| Some("t".to_string())).unwrap();
    let mut first = parse();
    let mut store = queued(&first, "splunk-restart");
    let round = deliver(&mut store, std::slice::from_mut(&mut first), 0, 5).unwrap();
    assert_eq!(round.sinks[0].awaiting, 2, "{round:?}");
    drop((first, store));

    let mut second = parse();
    let mut store = Store::open(&store_path("splunk-restart")).unwrap();
    let round = deliver(&mut store, std::slice::from_mut(&mut second), 100, 5).unwrap();
    assert_eq!(
        (round.delivered(), store.pending(&second.name).unwrap()),
        (2, 0),
        "{round:?}"
    );
    let requests = seen.lock().unwrap();
    let lines: Vec<&str> = requests.iter().map(|(l, _, _)| l.as_str()).collect();
    assert_eq!(lines.len(), 2, "{lines:?}");
    let first_channel = channel_of(&requests[0]);
    assert_eq!(
        lines[1],
        format!("POST /services/collector/ack?channel={first_channel} HTTP/1.1")
    );
    assert_eq!(channel_of(&requests[1]), first_channel);
    assert_ne!(second.channel(), first_channel);
}

#[test]
fn a_batch_splunk_never_confirms_is_sent_again_at_the_deadline() {
    let (port, seen) = http_server(|(line, _, _)| {
        if line.contains("/ack?") {
            (200, r#"{"acks":{"1":false}}"#.into())
        } else {
            (200, r#"{"text":"Success","code":0,"ackId":1}"#.into())
        }
    });
    let mut sink = Sink::parse_with(
        &format!("splunk+http://127.0.0.1:{port}?token_env=HEC"),
        &|_| Some("t".to_string()),
    )
    .unwrap();
    let mut store = queued(&sink, "splunk-unconfirmed");
    let sends = |seen: &Mutex<Vec<Request>>| {
        seen.lock()
            .unwrap()
            .iter()
            .filter(|(l, _, _)| l.contains("/event "))
            .count()
    };
    deliver(&mut store, std::slice::from_mut(&mut sink), 0, 5).unwrap();
    let before = palisade_deliver::splunk::ACK_DEADLINE_MILLIS - 1;
    let round = deliver(&mut store, std::slice::from_mut(&mut sink), before, 5).unwrap();
    assert_eq!((round.delivered(), sends(&seen)), (0, 1));
    let deadline = palisade_deliver::splunk::ACK_DEADLINE_MILLIS;
    let round = deliver(&mut store, std::slice::from_mut(&mut sink), deadline, 5).unwrap();
    assert_eq!(round.sinks[0].failed, 2, "{round:?}");
    assert!(round.errors()[0].contains("not confirmed"), "{round:?}");
    // Sent again in the same round, and awaited again.
    assert_eq!((sends(&seen), round.sinks[0].awaiting), (2, 2));
    assert_eq!(store.pending(&sink.name).unwrap(), 2);
}

#[test]
fn elasticsearch_bulk_creates_by_alert_id_and_counts_conflicts_as_delivered() {
    // The first document already exists (409): delivered. Both created otherwise.
    let (port, seen) = http_server(|_| {
        (
            200,
            r#"{"errors":true,"items":[{"create":{"status":409,"error":{"type":"version_conflict_engine_exception"}}},{"create":{"status":201}}]}"#.into(),
        )
    });
    let mut sink = Sink::parse(&format!(
        "elasticsearch+http://127.0.0.1:{port}?index=alerts"
    ))
    .unwrap();
    let (round, left) = run(&mut sink, "es");
    assert_eq!((round.delivered(), left), (2, 0), "{:?}", round.errors());
    let requests = seen.lock().unwrap();
    let (line, headers, body) = &requests[0];
    assert_eq!(line, "POST /_bulk HTTP/1.1");
    // One Content-Type: Elasticsearch refuses a request with two ("only one Content-Type
    // header should be provided").
    assert_eq!(content_types(headers), ["application/x-ndjson"]);
    let lines: Vec<Value> = String::from_utf8_lossy(body)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 4);
    assert_eq!(lines[0]["create"]["_index"], "alerts");
    assert!(lines[0]["create"]["_id"].is_string());
    assert_eq!(lines[1]["event"]["kind"], "alert");
    // A refused document keeps the batch queued.
    let (port, _) = http_server(|_| {
        (200, r#"{"errors":true,"items":[{"create":{"status":400,"error":{"type":"mapper_parsing_exception"}}},{"create":{"status":201}}]}"#.into())
    });
    let mut sink = Sink::parse(&format!("elasticsearch+http://127.0.0.1:{port}")).unwrap();
    let (round, left) = run(&mut sink, "es-refused");
    assert_eq!((round.delivered(), left), (0, 2));
    assert!(
        round.errors()[0].contains("mapper_parsing_exception"),
        "{:?}",
        round.errors()
    );
    // Errors reported for documents the answer does not list: none counts as stored.
    let (port, _) = http_server(|_| {
        (
            200,
            r#"{"errors":true,"items":[{"create":{"status":201}}]}"#.into(),
        )
    });
    let mut sink = Sink::parse(&format!("elasticsearch+http://127.0.0.1:{port}")).unwrap();
    let (round, left) = run(&mut sink, "es-unlisted");
    assert_eq!((round.delivered(), left), (0, 2));
    assert!(round.errors()[0].contains("1 of 2"), "{:?}", round.errors());
}

#[test]
fn webhooks_get_json_with_their_token_and_a_server_error_is_retried() {
    let (port, seen) = http_server(|_| (200, "{}".into()));
    let mut sink = Sink::parse(&format!("http://127.0.0.1:{port}/hook?format=ocsf")).unwrap();
    let (round, left) = run(&mut sink, "hook");
    assert_eq!((round.delivered(), left), (2, 0), "{:?}", round.errors());
    assert_eq!(
        content_types(&seen.lock().unwrap()[0].1),
        ["application/json"]
    );
    let batch: Value = serde_json::from_slice(&seen.lock().unwrap()[0].2).unwrap();
    assert_eq!(batch.as_array().unwrap().len(), 2);
    assert_eq!(batch[0]["class_uid"], 2004);
    let authorizations = |seen: &Mutex<Vec<Request>>| -> Vec<String> {
        seen.lock().unwrap()[0]
            .1
            .iter()
            .filter(|(k, _)| k == "authorization")
            .map(|(_, v)| v.clone())
            .collect()
    };
    assert!(authorizations(&seen).is_empty());
    // A receiver that wants a token gets it as a bearer token.
    let (port, seen) = http_server(|_| (200, "{}".into()));
    let mut sink = Sink::parse_with(
        &format!("http://127.0.0.1:{port}/hook?token_env=HOOK_TOKEN"),
        &|name| (name == "HOOK_TOKEN").then(|| "s3cret".to_string()),
    )
    .unwrap();
    let (round, _) = run(&mut sink, "hook-token");
    assert_eq!(round.delivered(), 2, "{:?}", round.errors());
    assert_eq!(authorizations(&seen), ["Bearer s3cret"]);
    // A webhook with a query of its own (a Power Automate flow's signature) gets it whole;
    // Palisade's parameters follow the `#`, which is never sent.
    let (port, seen) = http_server(|_| (200, "{}".into()));
    let mut sink = Sink::parse(&format!(
        "http://127.0.0.1:{port}/invoke?api-version=2016-06-01&sig=abc#format=ecs"
    ))
    .unwrap();
    let (round, _) = run(&mut sink, "hook-own-query");
    assert_eq!(round.delivered(), 2, "{:?}", round.errors());
    let request = &seen.lock().unwrap()[0];
    assert!(
        request
            .0
            .starts_with("POST /invoke?api-version=2016-06-01&sig=abc HTTP/1.1"),
        "{}",
        request.0
    );
    let batch: Value = serde_json::from_slice(&request.2).unwrap();
    assert!(batch[0]["ecs"].is_object(), "{batch}");
    let (port, _) = http_server(|_| (503, "{}".into()));
    let mut sink = Sink::parse(&format!("http://127.0.0.1:{port}/hook")).unwrap();
    let (round, left) = run(&mut sink, "hook-down");
    assert_eq!((round.delivered(), left), (0, 2));
    assert!(
        round.errors()[0].contains("HTTP 503"),
        "{:?}",
        round.errors()
    );
}

/// A webhook behind a sign-in proxy answers a POST with a redirect to its login page, which
/// answers a GET with 200: the alerts were not taken, and stay queued.
#[test]
fn a_redirect_is_not_followed_and_the_alerts_stay_queued() {
    let (port, seen) = http_server(|(line, _, _)| {
        if line.starts_with("POST ") {
            (302, String::new())
        } else {
            (200, "<html>sign in</html>".into())
        }
    });
    let mut sink = Sink::parse(&format!("http://127.0.0.1:{port}/hook")).unwrap();
    let (round, left) = run(&mut sink, "hook-redirected");
    assert_eq!((round.delivered(), left), (0, 2), "{round:?}");
    let error = &round.errors()[0];
    assert!(error.contains("302") && error.contains("/login"), "{error}");
    let lines: Vec<String> = seen.lock().unwrap().iter().map(|r| r.0.clone()).collect();
    assert_eq!(lines, ["POST /hook HTTP/1.1"]);
}

/// Slack takes one message a request and limits how fast they come: the messages posted
/// before a 429 are delivered (not posted again), and the rest wait as long as Slack asks.
#[test]
fn slack_keeps_what_it_took_before_a_rate_limit_and_waits_as_asked() {
    fn slack(request: &Request) -> (u16, String) {
        static POSTS: AtomicUsize = AtomicUsize::new(0);
        assert!(
            request.0.starts_with("POST /services/T/B/X "),
            "{}",
            request.0
        );
        match POSTS.fetch_add(1, Ordering::SeqCst) {
            1 => (429, "rate_limited".into()),
            _ => (200, "ok".into()),
        }
    }
    let (port, seen) = http_server(slack);
    // Slack's scheme is HTTPS; the test server speaks plain HTTP, so the parsed sink's URL
    // is pointed at it.
    let mut sink = Sink::parse(&format!("slack+https://127.0.0.1:{port}/services/T/B/X")).unwrap();
    if let palisade_deliver::Transport::Webhook { url, .. } = &mut sink.transport {
        *url = url.replacen("https://", "http://", 1);
    }
    let mut store = queued(&sink, "slack-limited");
    let round = deliver(&mut store, std::slice::from_mut(&mut sink), 0, 5).unwrap();
    assert_eq!(
        (round.sinks[0].delivered, round.sinks[0].failed),
        (1, 1),
        "{round:?}"
    );
    assert!(round.errors()[0].contains("HTTP 429"), "{round:?}");
    assert_eq!(store.pending(&sink.name).unwrap(), 1);
    // Not before the 30 s Slack asked for.
    let round = deliver(&mut store, std::slice::from_mut(&mut sink), 29_999, 5).unwrap();
    assert_eq!(round.delivered(), 0);
    let round = deliver(&mut store, std::slice::from_mut(&mut sink), 30_000, 5).unwrap();
    assert_eq!(round.delivered(), 1, "{round:?}");
    assert_eq!(store.pending(&sink.name).unwrap(), 0);
    let texts: Vec<String> = seen
        .lock()
        .unwrap()
        .iter()
        .map(|(_, _, body)| serde_json::from_slice::<Value>(body).unwrap()["text"].to_string())
        .collect();
    // The first alert once, the second twice (refused, then taken).
    assert_eq!(texts.len(), 3);
    assert_ne!(texts[0], texts[1]);
    assert_eq!(texts[1], texts[2]);
}

/// A webhook behind a proxy whose body limit one alert fits and two do not (nginx's default
/// is 1 MB): the sink answers 413, and the batch is sent again in halves, in the same round.
#[test]
fn a_request_too_large_is_sent_again_in_smaller_batches() {
    let (port, seen) = http_server(|(_, _, body)| {
        let alerts: Value = serde_json::from_slice(body).unwrap();
        match alerts.as_array().map_or(0, Vec::len) {
            1 => (200, "{}".into()),
            _ => (413, "Request Entity Too Large".into()),
        }
    });
    let mut sink = Sink::parse(&format!("http://127.0.0.1:{port}/hook")).unwrap();
    let (round, left) = run(&mut sink, "hook-limited");
    assert_eq!((round.delivered(), left), (2, 0), "{round:?}");
    assert_eq!(round.sinks[0].failed, 0);
    assert_eq!(sink.batch_limit, 1);
    assert_eq!(seen.lock().unwrap().len(), 3);
}

/// A syslog server that requires a client certificate takes the messages from a sink that
/// presents one; a sink that presents none is refused after its handshake (TLS 1.3), which
/// only a read sees, and its messages stay queued.
#[test]
fn syslog_over_mutual_tls_presents_the_client_certificate() {
    let m = mutual_certificates();
    let (ca, identity) = mutual_files(&m, "syslog");
    let config = mutual_tls_server(&m);
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let server = std::thread::spawn(move || {
        let mut received = Vec::new();
        for _ in 0..2 {
            let (stream, _) = listener.accept().unwrap();
            let connection = rustls::ServerConnection::new(config.clone()).unwrap();
            let mut tls = rustls::StreamOwned::new(connection, stream);
            received.push(frames(&mut tls));
        }
        received
    });
    let mut anonymous = Sink::parse(&format!("syslog+tls://127.0.0.1:{port}?{ca}")).unwrap();
    let (round, left) = run(&mut anonymous, "syslog-no-client-cert");
    assert_eq!((round.delivered(), left), (0, 2), "{round:?}");
    let mut sink = Sink::parse(&format!("syslog+tls://127.0.0.1:{port}?{ca}&{identity}")).unwrap();
    let (round, left) = run(&mut sink, "syslog-client-cert");
    assert_eq!((round.delivered(), left), (2, 0), "{:?}", round.errors());
    let received = server.join().unwrap();
    assert!(received[0].is_empty());
    assert_eq!(received[1].len(), 2);
}

/// The HTTP sinks present the client certificate too (a webhook behind mutual TLS).
#[test]
fn https_webhooks_present_the_client_certificate() {
    let m = mutual_certificates();
    let (ca, identity) = mutual_files(&m, "https");
    let (port, seen) = mutual_https_server(mutual_tls_server(&m), |_| (200, "{}".into()));
    let mut sink = Sink::parse(&format!("https://127.0.0.1:{port}/hook?{ca}&{identity}")).unwrap();
    let (round, left) = run(&mut sink, "https-client-cert");
    assert_eq!((round.delivered(), left), (2, 0), "{:?}", round.errors());
    assert_eq!(seen.lock().unwrap().len(), 1);
    let mut anonymous = Sink::parse(&format!("https://127.0.0.1:{port}/hook?{ca}")).unwrap();
    let (round, left) = run(&mut anonymous, "https-no-client-cert");
    assert_eq!((round.delivered(), left), (0, 2), "{round:?}");
    assert_eq!(seen.lock().unwrap().len(), 1);
}

/// What a request put in an alert cannot ping a Slack channel or hide a link: Slack's
/// control characters are escaped.
#[test]
fn slack_messages_escape_what_requests_put_in_them() {
    let (port, seen) = http_server(|_| (200, "ok".into()));
    let mut sink = Sink::parse(&format!("slack+https://127.0.0.1:{port}/services/T/B/X")).unwrap();
    if let palisade_deliver::Transport::Webhook { url, .. } = &mut sink.transport {
        *url = url.replacen("https://", "http://", 1);
    }
    let mut store = store("slack-escaped");
    let body = "AUD001 exec by <!channel> & <https://evil.example|the runbook>";
    store
        .enqueue(&[(sink.name.clone(), "a1".into(), body.into())], None)
        .unwrap();
    let round = deliver(&mut store, std::slice::from_mut(&mut sink), 0, 5).unwrap();
    assert_eq!(round.delivered(), 1, "{round:?}");
    let posted: Value = serde_json::from_slice(&seen.lock().unwrap()[0].2).unwrap();
    assert_eq!(
        posted["text"],
        "AUD001 exec by &lt;!channel&gt; &amp; &lt;https://evil.example|the runbook&gt;"
    );
}

/// A PostgreSQL sink of `server`, with the password from the environment it is parsed with.
fn postgres_sink(server: &palisade_deliver::test_postgres::Server, extra: &str) -> Sink {
    let spec = format!(
        "postgresql://palisade@127.0.0.1:{}/postgres?password_env=PGPW{extra}",
        server.port
    );
    Sink::parse_with(&spec, &|name| {
        (name == "PGPW").then(|| palisade_deliver::test_postgres::PASSWORD.to_string())
    })
    .unwrap()
}

/// A real PostgreSQL (Debian's, started on loopback): the table is created, each alert is a
/// row whose body is the JSON alert, and an alert sent again is stored once.
#[test]
fn postgresql_stores_each_alert_once_in_a_table_it_creates() {
    let Some(server) = palisade_deliver::test_postgres::Server::start("rows", None) else {
        return;
    };
    let mut sink = postgres_sink(&server, "");
    let (round, left) = run(&mut sink, "pg-rows");
    assert_eq!((round.sinks[0].delivered, left), (2, 0), "{round:?}");
    let rows = server.query("SELECT id, body->>'detection' FROM palisade_events ORDER BY id");
    assert_eq!(rows.lines().count(), 2, "{rows}");
    for alert in alerts() {
        assert!(rows.contains(&alert.id), "{rows}");
    }
    // The same alerts again (a batch resent after a crash): stored once.
    let (round, left) = run(&mut sink, "pg-rows-again");
    assert_eq!((round.sinks[0].delivered, left), (2, 0));
    assert_eq!(server.query("SELECT count(*) FROM palisade_events"), "2");
    // Another table, in a schema of the user's.
    server.query("CREATE SCHEMA security");
    let mut sink = postgres_sink(&server, "&table=security.alerts&format=cef");
    let (_, left) = run(&mut sink, "pg-table");
    assert_eq!(left, 0);
    // A format that is not JSON is kept as a JSON string.
    let body = server.query("SELECT jsonb_typeof(body) FROM security.alerts LIMIT 1");
    assert_eq!(body, "string");
}

/// Down, the alerts stay queued with why; back, they are delivered. A wrong password is
/// said as the server says it.
#[test]
fn postgresql_down_or_refusing_keeps_the_alerts_queued() {
    let Some(server) = palisade_deliver::test_postgres::Server::start("down", None) else {
        return;
    };
    let mut sink = postgres_sink(&server, "");
    let mut store = queued(&sink, "pg-down");
    server.stop();
    let round = deliver(&mut store, std::slice::from_mut(&mut sink), 0, 5).unwrap();
    assert_eq!(round.sinks[0].delivered, 0);
    assert_eq!(store.pending(&sink.name).unwrap(), 2);
    server.start_again();
    let round = deliver(&mut store, std::slice::from_mut(&mut sink), i64::MAX / 2, 5).unwrap();
    assert_eq!(round.sinks[0].delivered, 2, "{round:?}");
    let mut wrong = Sink::parse_with(
        &format!(
            "postgresql://palisade@127.0.0.1:{}/postgres?password_env=PGPW",
            server.port
        ),
        &|_| Some("not-the-password".into()),
    )
    .unwrap();
    let mut store = queued(&wrong, "pg-wrong");
    let round = deliver(&mut store, std::slice::from_mut(&mut wrong), 0, 5).unwrap();
    let said = round.errors().join("; ");
    assert!(said.contains("password authentication failed"), "{said}");
    assert!(!said.contains("not-the-password"), "{said}");
}

/// Over TLS: the server's certificate is verified against `ca=`; one another CA signed is
/// refused before any alert is sent.
#[test]
fn postgresql_over_tls_verifies_the_server() {
    let (ca, cert, key) = certificates();
    let Some(server) = palisade_deliver::test_postgres::Server::start("tls", Some((&cert, &key)))
    else {
        return;
    };
    let dir = server.dir().to_path_buf();
    let ca_file = dir.join("ca.pem");
    std::fs::write(&ca_file, &ca).unwrap();
    let mut sink = postgres_sink(&server, &format!("&ca={}", ca_file.display()));
    assert!(format!("{:?}", sink.transport).contains("tls: true"));
    let (round, left) = run(&mut sink, "pg-tls");
    assert_eq!((round.sinks[0].delivered, left), (2, 0), "{round:?}");
    let (other_ca, _, _) = certificates();
    let other = dir.join("other-ca.pem");
    std::fs::write(&other, &other_ca).unwrap();
    let mut sink = postgres_sink(&server, &format!("&ca={}", other.display()));
    let (round, left) = run(&mut sink, "pg-tls-other");
    assert_eq!(left, 2);
    let said = round.errors().join("; ");
    assert!(
        said.contains("certificate") || said.contains("UnknownIssuer"),
        "{said}"
    );
}
