//! Sinks, named by URL:
//!
//! | URL | delivers |
//! |---|---|
//! | `file:///var/log/palisade/alerts.jsonl`, `-` | lines appended to a file (fsynced), or standard output |
//! | `syslog+tcp://host:514`, `syslog+tls://host:6514` | RFC 5424 messages, octet-counted (RFC 6587) |
//! | `https://host/path` | a JSON array of alerts per POST (`token_env=` sends `Authorization: Bearer`) |
//! | `slack+https://hooks.slack.com/services/...` | one Slack message per alert |
//! | `splunk+https://host:8088` | Splunk HTTP Event Collector (`token_env=`) |
//! | `elasticsearch+https://host:9200`, `opensearch+...` | the bulk API, `create` with the alert id as `_id` |
//!
//! Query parameters: `format=` (json, ocsf, ecs, cef, text; each sink has its default),
//! `ca=PATH` (a PEM CA bundle to trust instead of the public roots), `cert=PATH` with
//! `key=PATH` (a client certificate chain and its key, for sinks that require mutual TLS),
//! `index=`,
//! `token_env=`, `api_key_env=`, `user=` with `password_env=`, `hostname=` (syslog's and Splunk's host),
//! `insecure=true` (credentials over plain HTTP to another host, refused without it),
//! `framing=lf` (syslog messages ended by a line feed instead of counted). A webhook whose URL
//! has a query of its own (a Power Automate trigger's `sig=`) takes them after a `#` instead.

use std::path::PathBuf;

use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};

use palisade_audit::Alert;
use palisade_audit::format::{AlertFormat, render, syslog};
use palisade_store::Queued;

use crate::splunk::{self, Awaiting};
use crate::transport::{self, Failure};

/// A sink that could not be configured or did not accept a batch.
#[derive(Debug, thiserror::Error)]
pub enum SinkError {
    /// The sink URL is not one Palisade knows.
    #[error("sink `{spec}`: {message}")]
    Invalid { spec: String, message: String },
    /// An environment variable the sink names is not set.
    #[error("sink `{name}`: environment variable {variable} is not set")]
    MissingSecret { name: String, variable: String },
}

/// How alerts reach a sink. `Debug` shows no credential (token, key, a webhook's path).
#[derive(Clone)]
pub enum Transport {
    File(PathBuf),
    Stdout,
    Syslog {
        address: String,
        /// The server name to verify, when over TLS.
        tls: Option<String>,
        /// How messages are told apart on the stream.
        framing: Framing,
    },
    Webhook {
        url: String,
        slack: bool,
        /// `Bearer TOKEN`, from `token_env=` (generic webhooks).
        authorization: Option<String>,
    },
    Splunk {
        url: String,
        token: String,
        index: Option<String>,
    },
    Elasticsearch {
        url: String,
        index: String,
        authorization: Option<String>,
    },
    /// A table of a PostgreSQL database.
    Postgres(crate::postgres::Target),
}

impl std::fmt::Debug for Transport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let hidden = |secret: bool| secret.then_some("<hidden>");
        match self {
            Transport::File(path) => f.debug_tuple("File").field(path).finish(),
            Transport::Stdout => f.write_str("Stdout"),
            Transport::Syslog {
                address,
                tls,
                framing,
            } => f
                .debug_struct("Syslog")
                .field("address", address)
                .field("tls", tls)
                .field("framing", framing)
                .finish(),
            Transport::Webhook {
                url,
                slack,
                authorization,
            } => f
                .debug_struct("Webhook")
                .field("url", &shown(url))
                .field("slack", slack)
                .field("authorization", &hidden(authorization.is_some()))
                .finish(),
            Transport::Splunk { url, index, .. } => f
                .debug_struct("Splunk")
                .field("url", url)
                .field("token", &hidden(true))
                .field("index", index)
                .finish(),
            Transport::Elasticsearch {
                url,
                index,
                authorization,
            } => f
                .debug_struct("Elasticsearch")
                .field("url", url)
                .field("index", index)
                .field("authorization", &hidden(authorization.is_some()))
                .finish(),
            Transport::Postgres(target) => f.debug_tuple("Postgres").field(target).finish(),
        }
    }
}

/// How syslog messages are told apart on a TCP or TLS stream (RFC 6587).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Framing {
    /// Each message after its length in bytes (RFC 6587 §3.4.1, RFC 5425): any message,
    /// read by rsyslog, syslog-ng, Vector and most SIEM collectors.
    OctetCounting,
    /// Each message ended by a line feed (RFC 6587 §3.4.2), for collectors that read no
    /// other (Fluent Bit's and Logstash's syslog inputs); a line feed inside a message is
    /// sent as a space.
    LineFeed,
}

/// A configured sink.
pub struct Sink {
    /// The URL without its query: the sink's identity in the queue (kept in the store,
    /// never printed: a webhook's path may be its credential).
    pub name: String,
    /// How messages, logs and metrics name the sink ([`shown`]).
    pub label: String,
    pub format: AlertFormat,
    pub transport: Transport,
    /// A CA bundle (PEM) to trust for TLS, instead of the public roots.
    pub ca: Option<Vec<u8>>,
    /// The certificate and key this sink presents to a server that requires one.
    pub client: Option<ClientIdentity>,
    /// How syslog messages and Splunk events name this host (`-`: not named).
    pub hostname: String,
    pub(crate) agent: Option<ureq::Agent>,
    /// Splunk: the channel every request names, made when first needed.
    channel: Option<String>,
    /// Splunk: batches HEC took, waiting for the indexers' acknowledgment.
    pub(crate) awaiting: Vec<Awaiting>,
    /// Whether the batches an earlier process left awaiting were taken from the store.
    pub(crate) resumed: bool,
    /// The most alerts sent a request: [`crate::BATCH`], halved each time the sink answers
    /// that a request is too large (413).
    pub batch_limit: usize,
    /// PostgreSQL: the connection, made on the first batch and kept.
    pub(crate) database: Option<crate::postgres::Connection>,
}

/// What a sink did with a batch.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Sent {
    /// Stored: delivered.
    Stored,
    /// Taken, to be confirmed later under this acknowledgment id (Splunk HEC with indexer
    /// acknowledgment).
    Awaiting(u64),
}

fn invalid(spec: &str, message: impl Into<String>) -> SinkError {
    SinkError::Invalid {
        spec: shown(spec),
        message: message.into(),
    }
}

impl Sink {
    /// Parses a sink URL (see the module documentation). Secrets come from the environment.
    pub fn parse(spec: &str) -> Result<Sink, SinkError> {
        Sink::parse_with(spec, &|name| std::env::var(name).ok())
    }

    /// Parses with `env` as the environment (tests).
    pub fn parse_with(spec: &str, env: &dyn Fn(&str) -> Option<String>) -> Result<Sink, SinkError> {
        let (base, query) = split_parameters(spec);
        let params = Params {
            spec,
            base,
            pairs: query
                .split('&')
                .filter(|p| !p.is_empty())
                .map(|p| p.split_once('=').unwrap_or((p, "")))
                .collect(),
            env,
        };
        if let Some((key, _)) = params.pairs.iter().find(|(k, _)| !PARAMETERS.contains(k)) {
            return Err(invalid(spec, format!("unknown parameter `{key}`")));
        }
        let (scheme, rest) = match base.split_once("://") {
            Some(parts) => parts,
            None if base == "-" => ("stdout", ""),
            None => {
                return Err(invalid(
                    spec,
                    "not a URL (file://, syslog+tcp://, https://, ...)",
                ));
            }
        };
        if base.contains('?') && !matches!(scheme, "http" | "https") {
            return Err(invalid(
                spec,
                format!("a {scheme} sink takes no query of its own (only a webhook does)"),
            ));
        }
        if let Some((key, _)) = params.pairs.iter().find(|(key, _)| !applies(scheme, key)) {
            return Err(invalid(
                spec,
                format!("parameter `{key}` does not apply to a {scheme} sink"),
            ));
        }
        let (transport, default_format) = transport_of(scheme, rest, &params)?;
        refuse_credentials_in_the_clear(&transport, &params)?;
        let format = match params.get("format") {
            Some(name) => AlertFormat::parse(name).ok_or_else(|| {
                invalid(
                    spec,
                    format!(
                        "unknown format `{name}` ({})",
                        AlertFormat::NAMES.join(", ")
                    ),
                )
            })?,
            None => default_format,
        };
        let ca = match params.get("ca") {
            Some(path) => Some(
                std::fs::read(path)
                    .map_err(|e| invalid(spec, format!("cannot read CA {path}: {e}")))?,
            ),
            None => None,
        };
        let hostname = params
            .get("hostname")
            .map(str::to_string)
            .or_else(|| env("HOSTNAME"))
            .unwrap_or_else(|| "-".to_string());
        let identity = base.split_once('?').map_or(base, |(url, _)| url);
        Ok(Sink {
            name: identity.to_string(),
            label: shown(identity),
            format,
            transport,
            ca,
            client: client_identity(spec, &params)?,
            hostname,
            agent: None,
            channel: None,
            awaiting: Vec::new(),
            resumed: false,
            batch_limit: crate::BATCH,
            database: None,
        })
    }

    /// What the outbox holds for this sink: the alert rendered in the sink's format (a
    /// syslog message for syslog sinks, an HEC event with the request's time for Splunk).
    pub fn body(&self, alert: &Alert) -> String {
        let rendered = render(alert, self.format);
        match &self.transport {
            Transport::Syslog { .. } => syslog(alert, &rendered, &self.hostname),
            Transport::Splunk { index, .. } => {
                splunk::event_line(alert, &rendered, index.as_deref(), &self.hostname)
            }
            _ => rendered,
        }
    }

    /// Sends a batch; `Ok` only when the sink took all of it.
    pub fn send(&mut self, batch: &[Queued]) -> Result<Sent, Failure> {
        transport::send(self, batch)
    }

    /// Whether the label leaves part of the URL out ([`shown`]) that may be the credential: a
    /// path, a password, or a webhook's own query (a signature).
    pub fn label_hides_part(&self) -> bool {
        self.label.contains(ELIDED)
            || matches!(&self.transport, Transport::Webhook { url, .. } if url.contains('?'))
    }

    /// The channel this sink's Splunk requests name.
    pub fn channel(&mut self) -> &str {
        self.channel.get_or_insert_with(splunk::channel_id)
    }

    /// Asks Splunk about the batches awaiting acknowledgment whose time has come (nothing
    /// for other sinks).
    pub fn settle(&mut self, now_millis: i64) -> splunk::Settled {
        if self.awaiting.is_empty() {
            return splunk::Settled::default();
        }
        let mut awaiting = std::mem::take(&mut self.awaiting);
        let settled = splunk::settle(&mut awaiting, now_millis, &mut |channel, body| {
            splunk::query_acks(self, channel, body)
        });
        self.awaiting = awaiting;
        settled
    }
}

/// A client certificate chain and its private key (PEM), read and checked when the sink is
/// named. Its `Debug` shows neither.
#[derive(Clone)]
pub struct ClientIdentity {
    chain_pem: Vec<u8>,
    key_pem: Vec<u8>,
}

impl std::fmt::Debug for ClientIdentity {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ClientIdentity(..)")
    }
}

impl ClientIdentity {
    /// The certificates, leaf first.
    pub fn chain(&self) -> Vec<CertificateDer<'static>> {
        CertificateDer::pem_slice_iter(&self.chain_pem)
            .filter_map(Result::ok)
            .collect()
    }

    /// The private key (checked when read, so `None` does not happen).
    pub fn key(&self) -> Option<PrivateKeyDer<'static>> {
        PrivateKeyDer::from_pem_slice(&self.key_pem).ok()
    }

    /// The key as PEM, for clients that read it so.
    pub(crate) fn key_pem(&self) -> &[u8] {
        &self.key_pem
    }
}

/// `cert=` and `key=`: both or neither; the files must hold a certificate and a key.
fn client_identity(spec: &str, params: &Params) -> Result<Option<ClientIdentity>, SinkError> {
    let (cert, key) = match (params.get("cert"), params.get("key")) {
        (None, None) => return Ok(None),
        (Some(cert), Some(key)) => (cert, key),
        _ => {
            return Err(invalid(
                spec,
                "cert= and key= go together (a client certificate and its key)",
            ));
        }
    };
    let chain_pem = std::fs::read(cert)
        .map_err(|e| invalid(spec, format!("cannot read certificate {cert}: {e}")))?;
    let key_pem =
        std::fs::read(key).map_err(|e| invalid(spec, format!("cannot read key {key}: {e}")))?;
    let identity = ClientIdentity { chain_pem, key_pem };
    if identity.chain().is_empty() {
        return Err(invalid(spec, format!("{cert} holds no PEM certificate")));
    }
    if identity.key().is_none() {
        return Err(invalid(spec, format!("{key} holds no PEM private key")));
    }
    Ok(Some(identity))
}

/// A sink URL's target and Palisade's parameters. These are the query, unless an HTTP URL has
/// a fragment: then they follow the `#`, and the query is the target's own, sent as it is
/// (Power Automate's and Azure Logic Apps' webhooks carry their signature there:
/// `...invoke?api-version=2016-06-01&sig=...#format=ecs`). A fragment is never sent.
fn split_parameters(spec: &str) -> (&str, &str) {
    let http = spec
        .split_once("://")
        .is_some_and(|(scheme, _)| scheme.ends_with("http") || scheme.ends_with("https"));
    match spec.split_once('#') {
        Some(parts) if http => parts,
        _ => spec.split_once('?').unwrap_or((spec, "")),
    }
}

/// What stands in a label for the part of a URL left out, before the part's hash.
const ELIDED: &str = "/… ";

/// A sink URL as it may be printed: a webhook's path (Slack's, Teams', Discord's) is its
/// credential, and a user name and password may sit before the host. Shown: the scheme, the
/// host and port, the first segment of an HTTP path when it is a word such paths are made of
/// (`services`, `api`, `hooks`), and for what is left out a short hash of the whole, which
/// tells two sinks on one host apart. Files and syslog addresses are
/// shown whole.
pub fn shown(spec: &str) -> String {
    let base = spec.split_once(['?', '#']).map_or(spec, |(base, _)| base);
    let Some((scheme, rest)) = base.split_once("://") else {
        return base.to_string();
    };
    if !scheme.ends_with("http") && !scheme.ends_with("https") {
        return base.to_string();
    }
    let (authority, path) = rest.split_once('/').unwrap_or((rest, ""));
    let host = authority
        .rsplit_once('@')
        .map_or(authority, |(_, host)| host);
    // A path segment is shown only when it is a word webhook paths are made of; any other
    // (`https://webhook.site/<uuid>`) may be the credential itself.
    const WORDS: &[&str] = &[
        "api",
        "services",
        "hooks",
        "hook",
        "webhook",
        "webhooks",
        "webhookb2",
        "v1",
        "v2",
        "alerts",
        "events",
        "ingest",
        "collector",
    ];
    let mut segments = path.split('/').filter(|s| !s.is_empty());
    let first = segments.next();
    let word = first.filter(|segment| WORDS.contains(segment));
    let elided = segments.next().is_some()
        || host.len() != authority.len()
        || (first.is_some() && word.is_none());
    let mut text = format!("{scheme}://{host}");
    if let Some(word) = word {
        text.push('/');
        text.push_str(word);
    }
    if elided {
        let hash = palisade_core::fingerprint::fnv1a(&[base]);
        text.push_str(&format!("{ELIDED}[{:04x}]", hash & 0xffff));
    }
    text
}

/// A token, API key or password sent over plain HTTP crosses the network readable by anyone
/// on the path: refused unless the server is this machine or the URL says `insecure=true`.
fn refuse_credentials_in_the_clear(
    transport: &Transport,
    params: &Params,
) -> Result<(), SinkError> {
    let url = match transport {
        Transport::Splunk { url, .. } => url,
        Transport::Webhook {
            url,
            authorization: Some(_),
            ..
        } => url,
        Transport::Elasticsearch {
            url,
            authorization: Some(_),
            ..
        } => url,
        _ => return Ok(()),
    };
    let Some(rest) = url.strip_prefix("http://") else {
        return Ok(());
    };
    let authority = rest.split('/').next().unwrap_or_default();
    let host = match authority.strip_prefix('[') {
        Some(bracketed) => bracketed.split(']').next().unwrap_or_default(),
        None => authority.rsplit_once(':').map_or(authority, |(h, _)| h),
    };
    if palisade_core::addr::is_loopback(host) || params.get("insecure") == Some("true") {
        return Ok(());
    }
    Err(invalid(
        params.spec,
        format!(
            "would send its credentials unencrypted to {host}: use the https form, or add `insecure=true` to accept that"
        ),
    ))
}

/// Whether parameter `key` means something to a sink of `scheme` (one that does not would be
/// ignored: a `token_env` on a webhook would send no token, silently).
fn applies(scheme: &str, key: &str) -> bool {
    let tls = matches!(key, "ca" | "cert" | "key");
    match scheme {
        "stdout" | "file" => key == "format",
        "syslog+tcp" => matches!(key, "format" | "hostname" | "framing"),
        "syslog+tls" => tls || matches!(key, "format" | "hostname" | "framing"),
        "http" | "https" => tls || matches!(key, "format" | "token_env" | "insecure"),
        "postgresql" | "postgres" => {
            tls || matches!(key, "format" | "table" | "password_env" | "insecure")
        }
        "slack+https" => tls || key == "format",
        "splunk+https" | "splunk+http" => {
            tls || matches!(
                key,
                "format" | "hostname" | "index" | "token_env" | "insecure"
            )
        }
        _ => {
            tls || matches!(
                key,
                "format" | "index" | "api_key_env" | "user" | "password_env" | "insecure"
            )
        }
    }
}

/// The query parameters a sink URL may carry.
const PARAMETERS: &[&str] = &[
    "insecure",
    "framing",
    "format",
    "ca",
    "cert",
    "key",
    "index",
    "token_env",
    "api_key_env",
    "user",
    "password_env",
    "hostname",
    "table",
];

/// A sink URL's query parameters, with the environment its secrets are read from.
struct Params<'s> {
    spec: &'s str,
    /// The URL without Palisade's parameters (with the target's own query, when the
    /// parameters follow a `#`).
    base: &'s str,
    pairs: Vec<(&'s str, &'s str)>,
    env: &'s dyn Fn(&str) -> Option<String>,
}

impl Params<'_> {
    fn get(&self, key: &str) -> Option<&str> {
        self.pairs.iter().find(|(k, _)| *k == key).map(|(_, v)| *v)
    }

    /// The secret in the environment variable that parameter `key` names.
    fn secret(&self, key: &str) -> Result<Option<String>, SinkError> {
        match self.get(key) {
            None => Ok(None),
            Some(variable) => {
                (self.env)(variable)
                    .map(Some)
                    .ok_or_else(|| SinkError::MissingSecret {
                        name: shown(self.base),
                        variable: variable.to_string(),
                    })
            }
        }
    }
}

/// The transport of a sink URL's scheme and the rest of it, with the format the sink takes
/// by default.
fn transport_of(
    scheme: &str,
    rest: &str,
    params: &Params,
) -> Result<(Transport, AlertFormat), SinkError> {
    let spec = params.spec;
    let http_url = |inner: &str| format!("{inner}://{rest}");
    Ok(match scheme {
        "stdout" => (Transport::Stdout, AlertFormat::Json),
        "file" => {
            if rest.is_empty() {
                return Err(invalid(spec, "file:// needs a path"));
            }
            (Transport::File(PathBuf::from(rest)), AlertFormat::Json)
        }
        "syslog+tcp" | "syslog+tls" => {
            let host = rest.trim_end_matches('/');
            if !host.contains(':') {
                return Err(invalid(spec, "syslog needs host:port"));
            }
            let tls = (scheme == "syslog+tls")
                .then(|| host.rsplit_once(':').map_or(host, |(h, _)| h).to_string());
            (
                Transport::Syslog {
                    address: host.to_string(),
                    tls,
                    framing: match params.get("framing") {
                        None | Some("octet-counting") => Framing::OctetCounting,
                        Some("lf") => Framing::LineFeed,
                        Some(other) => {
                            return Err(invalid(
                                spec,
                                format!("unknown framing `{other}` (octet-counting, lf)"),
                            ));
                        }
                    },
                },
                AlertFormat::Cef,
            )
        }
        "http" | "https" => (
            Transport::Webhook {
                url: params.base.to_string(),
                slack: false,
                authorization: params
                    .secret("token_env")?
                    .map(|token| format!("Bearer {token}")),
            },
            AlertFormat::Json,
        ),
        "slack+https" => (
            Transport::Webhook {
                url: http_url("https"),
                slack: true,
                authorization: None,
            },
            AlertFormat::Text,
        ),
        "splunk+https" | "splunk+http" => {
            let token = params
                .secret("token_env")?
                .ok_or_else(|| invalid(spec, "Splunk HEC needs token_env=VARIABLE"))?;
            (
                Transport::Splunk {
                    url: format!(
                        "{}/services/collector/event",
                        http_url(&scheme["splunk+".len()..]).trim_end_matches('/')
                    ),
                    token,
                    index: params.get("index").map(str::to_string),
                },
                AlertFormat::Json,
            )
        }
        "elasticsearch+https" | "elasticsearch+http" | "opensearch+https" | "opensearch+http" => {
            let inner = scheme.split_once('+').map_or("https", |(_, s)| s);
            let authorization = match (params.secret("api_key_env")?, params.get("user")) {
                (Some(key), _) => Some(format!("ApiKey {key}")),
                (None, Some(user)) => {
                    let password = params.secret("password_env")?.unwrap_or_default();
                    Some(format!(
                        "Basic {}",
                        transport::base64(&format!("{user}:{password}"))
                    ))
                }
                (None, None) => None,
            };
            (
                Transport::Elasticsearch {
                    url: format!("{}/_bulk", http_url(inner).trim_end_matches('/')),
                    index: params.get("index").unwrap_or("palisade-alerts").to_string(),
                    authorization,
                },
                AlertFormat::Ecs,
            )
        }
        "postgresql" | "postgres" => (postgres_target(rest, params)?, AlertFormat::Json),
        other => return Err(invalid(spec, format!("unknown sink type `{other}`"))),
    })
}

/// A PostgreSQL sink's target: the table (`table=`, `palisade_events` by default), the
/// password from `password_env=`, TLS unless the server is on loopback (and no `ca=` asks
/// for it) or `insecure=true` accepts the clear.
fn postgres_target(rest: &str, params: &Params) -> Result<Transport, SinkError> {
    let spec = params.spec;
    let (host, port, user, database) =
        crate::postgres::target_of(rest.trim_end_matches('/')).map_err(|e| invalid(spec, e))?;
    let table = params.get("table").unwrap_or("palisade_events").to_string();
    if !crate::postgres::valid_table(&table) {
        return Err(invalid(
            spec,
            format!("table `{table}` is not a lowercase name (or schema.name)"),
        ));
    }
    let plain = params.get("insecure") == Some("true")
        || (palisade_core::addr::is_loopback(&host) && params.get("ca").is_none());
    Ok(Transport::Postgres(crate::postgres::Target {
        host,
        port,
        user,
        database,
        table,
        password: params.secret("password_env")?,
        tls: !plain,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(name: &str) -> Option<String> {
        match name {
            "HEC" => Some("t0k".into()),
            "ESKEY" => Some("k3y".into()),
            "PGPW" => Some("pa55".into()),
            _ => None,
        }
    }

    #[test]
    fn postgresql_sinks_take_tls_unless_on_loopback_and_never_a_password_in_the_url() {
        let target = |spec: &str| match Sink::parse_with(spec, &env).unwrap().transport {
            Transport::Postgres(target) => target,
            other => panic!("{other:?}"),
        };
        let remote = target("postgresql://audit@db.example.com/security?password_env=PGPW");
        assert!(remote.tls);
        assert_eq!(
            (
                remote.port,
                remote.table.as_str(),
                remote.password.as_deref()
            ),
            (5432, "palisade_events", Some("pa55"))
        );
        assert!(!format!("{remote:?}").contains("pa55"));
        assert!(!target("postgres://a@127.0.0.1:5433/d").tls);
        assert!(target("postgres://a@127.0.0.1:5433/d?ca=/dev/null").tls);
        assert!(!target("postgres://a@db/d?insecure=true").tls);
        assert_eq!(
            target("postgres://a@db/d?table=sec.alerts").table,
            "sec.alerts"
        );
        for (bad, said) in [
            ("postgresql://a:pw@db/d", "password_env"),
            ("postgresql://a@db/d?table=Alerts", "lowercase"),
            ("postgresql://a@db/d?token_env=PGPW", "does not apply"),
            ("postgresql://a@db/d?password_env=MISSING", "MISSING"),
            ("postgresql://db/d", "user"),
        ] {
            let Err(error) = Sink::parse_with(bad, &env) else {
                panic!("{bad} was taken");
            };
            let error = error.to_string();
            assert!(error.contains(said), "{bad}: {error}");
        }
    }

    #[test]
    fn a_client_certificate_needs_its_key_and_both_must_be_pem() {
        let dir = std::env::temp_dir().join(format!("palisade-sink-cert-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let key = rcgen::KeyPair::generate().unwrap();
        let cert = rcgen::CertificateParams::new(vec!["palisade".to_string()])
            .unwrap()
            .self_signed(&key)
            .unwrap();
        let cert_path = dir.join("c.pem");
        let key_path = dir.join("k.pem");
        let junk = dir.join("junk.pem");
        std::fs::write(&cert_path, cert.pem()).unwrap();
        std::fs::write(&key_path, key.serialize_pem()).unwrap();
        std::fs::write(&junk, "not pem").unwrap();
        let url = |cert: &std::path::Path, key: &std::path::Path| {
            format!(
                "syslog+tls://siem:6514?cert={}&key={}",
                cert.display(),
                key.display()
            )
        };
        let sink = Sink::parse_with(&url(&cert_path, &key_path), &env).unwrap();
        let identity = sink.client.unwrap();
        assert_eq!(identity.chain().len(), 1);
        assert!(identity.key().is_some());
        assert_eq!(format!("{identity:?}"), "ClientIdentity(..)");
        let message = |spec: &str| match Sink::parse_with(spec, &env) {
            Err(SinkError::Invalid { message, .. }) => message,
            other => panic!("{spec}: {:?}", other.map(|s| s.name)),
        };
        let alone = format!("syslog+tls://siem:6514?cert={}", cert_path.display());
        assert!(message(&alone).contains("go together"));
        assert!(message(&url(&junk, &key_path)).contains("holds no PEM certificate"));
        assert!(message(&url(&cert_path, &junk)).contains("holds no PEM private key"));
        assert!(message(&url(&dir.join("missing"), &key_path)).contains("cannot read certificate"));
        // The key is named, never shown.
        assert!(!message(&url(&cert_path, &cert_path)).contains("BEGIN"));
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn urls_name_the_transport_and_secrets_come_from_the_environment() {
        let sink =
            Sink::parse_with("splunk+https://splunk:8088?token_env=HEC&index=sec", &env).unwrap();
        assert_eq!(sink.name, "splunk+https://splunk:8088");
        assert!(
            matches!(&sink.transport, Transport::Splunk { url, token, index }
            if url == "https://splunk:8088/services/collector/event" && token == "t0k" && index.as_deref() == Some("sec"))
        );
        let sink =
            Sink::parse_with("elasticsearch+https://es:9200/?api_key_env=ESKEY", &env).unwrap();
        assert!(
            matches!(&sink.transport, Transport::Elasticsearch { url, authorization, .. }
            if url == "https://es:9200/_bulk" && authorization.as_deref() == Some("ApiKey k3y"))
        );
        assert_eq!(sink.format, AlertFormat::Ecs);
        let sink =
            Sink::parse_with("syslog+tls://siem.example.com:6514?format=json", &env).unwrap();
        assert!(
            matches!(&sink.transport, Transport::Syslog { tls: Some(host), .. } if host == "siem.example.com")
        );
        assert_eq!(sink.format, AlertFormat::Json);
        assert!(matches!(
            Sink::parse_with("splunk+https://s:8088?token_env=NOPE", &env),
            Err(SinkError::MissingSecret { .. })
        ));
        assert!(Sink::parse_with("kafka://broker:9092", &env).is_err());
        assert!(Sink::parse_with("https://x?tokn=1", &env).is_err());
        assert!(Sink::parse_with("syslog+tcp://nohost", &env).is_err());
        // A parameter the sink would ignore is refused: no token sent while one was named.
        let ignored = Sink::parse_with("slack+https://x/hook?token_env=HEC", &env).err();
        assert!(ignored.is_some_and(|e| e.to_string().contains("`token_env` does not apply")),);
        let hook = Sink::parse_with("https://x/hook?token_env=HEC", &env).unwrap();
        assert!(
            matches!(&hook.transport, Transport::Webhook { authorization: Some(a), .. } if a == "Bearer t0k")
        );
        assert!(!format!("{:?}", hook.transport).contains("t0k"));
        assert!(Sink::parse_with("http://x/hook?token_env=HEC", &env).is_err());
        assert!(Sink::parse_with("file:///tmp/a?ca=/x.pem", &env).is_err());
    }

    /// A webhook whose URL has a query of its own (a Power Automate flow's `sig=`) takes
    /// Palisade's parameters after `#`: the query is sent as it is, never shown, and not part
    /// of the sink's identity in the queue (a new signature keeps the queue). Other sinks
    /// take no query of their own, and a `#` in a file's path stays in the path.
    #[test]
    fn a_webhook_keeps_its_own_query_when_the_parameters_follow_a_hash() {
        let spec = "https://prod-00.westus.logic.azure.com:443/workflows/abc/triggers/manual/paths/invoke?api-version=2016-06-01&sp=%2Ftriggers&sig=SECRETXYZ#format=ecs&token_env=HEC";
        let sink = Sink::parse_with(spec, &env).unwrap();
        assert!(
            matches!(&sink.transport, Transport::Webhook { url, authorization: Some(a), .. }
                if url.ends_with("/invoke?api-version=2016-06-01&sp=%2Ftriggers&sig=SECRETXYZ") && a == "Bearer t0k"),
            "{:?}",
            sink.transport
        );
        assert_eq!(sink.format, AlertFormat::Ecs);
        assert_eq!(
            sink.name,
            "https://prod-00.westus.logic.azure.com:443/workflows/abc/triggers/manual/paths/invoke"
        );
        assert!(
            !sink.label.contains("SECRETXYZ") && !sink.label.contains('#'),
            "{}",
            sink.label
        );
        let signed = Sink::parse_with(
            "https://hooks.example.com/hook?sig=SECRETXYZ#format=json",
            &env,
        );
        assert!(signed.unwrap().label_hides_part());
        let unknown = Sink::parse_with(&spec.replace("format=ecs", "formt=ecs"), &env);
        assert!(unknown.err().is_some_and(|e| {
            let e = e.to_string();
            e.contains("unknown parameter `formt`") && !e.contains("SECRETXYZ")
        }));
        let splunk = Sink::parse_with("splunk+https://s:8088/?x=1#token_env=HEC", &env);
        assert!(
            splunk
                .err()
                .is_some_and(|e| e.to_string().contains("no query of its own"))
        );
        let file = Sink::parse_with("file:///tmp/alerts#1.jsonl", &env).unwrap();
        assert!(matches!(&file.transport, Transport::File(p) if p.ends_with("alerts#1.jsonl")));
    }

    /// A webhook's path is its credential: never in a label, nor in an error about the URL.
    #[test]
    fn sinks_are_shown_without_what_may_be_a_credential() {
        let slack = Sink::parse("slack+https://hooks.slack.com/services/T0/B0/SECRETXYZ").unwrap();
        assert!(
            slack
                .label
                .starts_with("slack+https://hooks.slack.com/services/… ["),
            "{}",
            slack.label
        );
        assert!(!format!("{:?}", slack.transport).contains("SECRETXYZ"));
        for spec in [
            "splunk+https://s:8088?token_env=HEC",
            "elasticsearch+https://es:9200?api_key_env=ESKEY",
        ] {
            let debug = format!("{:?}", Sink::parse_with(spec, &env).unwrap().transport);
            assert!(!debug.contains("t0k") && !debug.contains("k3y"), "{debug}");
        }
        let other = shown("slack+https://hooks.slack.com/services/T0/B1/SECRETXYZ");
        assert_ne!(
            slack.label, other,
            "two webhooks on one host are told apart"
        );
        assert_eq!(
            shown("https://ops:hunter2@alerts.example.com"),
            format!(
                "https://alerts.example.com/… [{:04x}]",
                palisade_core::fingerprint::fnv1a(&["https://ops:hunter2@alerts.example.com"])
                    & 0xffff
            )
        );
        assert_eq!(
            shown("https://alerts.example.com/hook"),
            "https://alerts.example.com/hook"
        );
        let site = shown("https://webhook.site/6f1b2c3d-0000-4000-8000-123456789abc");
        assert!(site.starts_with("https://webhook.site/… ["), "{site}");
        assert_eq!(
            shown("splunk+https://splunk:8088?token_env=HEC"),
            "splunk+https://splunk:8088"
        );
        assert_eq!(shown("syslog+tls://siem:6514"), "syslog+tls://siem:6514");
        assert_eq!(shown("file:///var/log/a.jsonl"), "file:///var/log/a.jsonl");
        for spec in [
            "slack+https://hooks.slack.com/services/T0/B0/SECRETXYZ?format=nope",
            "https://x.example.com/api/webhooks/1/SECRETXYZ?bogus=1",
            "slack+https://x.example.com/api/webhooks/1/SECRETXYZ?token_env=HEC",
        ] {
            let error = Sink::parse_with(spec, &|_| None).err().unwrap().to_string();
            assert!(!error.contains("SECRETXYZ"), "{error}");
        }
    }

    #[test]
    fn credentials_go_unencrypted_only_to_this_machine_or_when_accepted() {
        let refused = |spec: &str| match Sink::parse_with(spec, &env) {
            Err(SinkError::Invalid { message, .. }) => message.contains("unencrypted"),
            _ => false,
        };
        assert!(refused("splunk+http://splunk:8088?token_env=HEC"));
        assert!(refused(
            "elasticsearch+http://10.0.0.9:9200?api_key_env=ESKEY"
        ));
        assert!(refused(
            "opensearch+http://[fd00::9]:9200?user=u&password_env=ESKEY"
        ));
        for allowed in [
            "splunk+http://127.0.0.1:8088?token_env=HEC",
            "splunk+http://localhost:8088?token_env=HEC",
            "elasticsearch+http://[::1]:9200?api_key_env=ESKEY",
            "splunk+http://splunk:8088?token_env=HEC&insecure=true",
            // No credentials to leak.
            "elasticsearch+http://es:9200",
            "splunk+https://splunk:8088?token_env=HEC",
        ] {
            assert!(Sink::parse_with(allowed, &env).is_ok(), "{allowed}");
        }
    }
}
