//! The probes: one request with no credential to each endpoint of a host, and what its answer
//! says. Only `GET`s of read-only paths are sent, never a credential, never a redirect followed;
//! a server's certificate is not verified (a probe judges what answers, it does not trust it),
//! and every request is bounded by a timeout.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use palisade_core::{
    Control, Coverage, Diagnostic, DiagnosticLevel, Finding, Framework, Location, RuleMeta,
    Severity, Subject,
};

use crate::rule::{
    API_SERVER_ANSWERS_ANONYMOUSLY, ETCD_ANSWERS_WITHOUT_CLIENT_CERTIFICATE,
    KUBELET_ANSWERS_ANONYMOUSLY, RULES,
};

/// An endpoint a probe asks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Endpoint {
    /// The kubelet's API, HTTPS.
    Kubelet,
    /// The kubelet's read-only port, plain HTTP.
    KubeletReadOnly,
    /// The API server, HTTPS.
    ApiServer,
    /// etcd's client port, HTTPS (plain HTTP asked too when it does not speak TLS).
    Etcd,
}

impl Endpoint {
    pub const ALL: [Endpoint; 4] = [
        Endpoint::ApiServer,
        Endpoint::Kubelet,
        Endpoint::KubeletReadOnly,
        Endpoint::Etcd,
    ];

    /// The port it listens on unless told otherwise.
    pub fn default_port(self) -> u16 {
        match self {
            Endpoint::Kubelet => 10250,
            Endpoint::KubeletReadOnly => 10255,
            Endpoint::ApiServer => 6443,
            Endpoint::Etcd => 2379,
        }
    }

    /// How messages name it.
    pub fn noun(self) -> &'static str {
        match self {
            Endpoint::Kubelet => "the kubelet's API",
            Endpoint::KubeletReadOnly => "the kubelet's read-only port",
            Endpoint::ApiServer => "the API server",
            Endpoint::Etcd => "etcd's client port",
        }
    }

    fn path(self) -> &'static str {
        match self {
            Endpoint::Kubelet | Endpoint::KubeletReadOnly => "/pods",
            Endpoint::ApiServer => "/api/v1/namespaces?limit=1",
            Endpoint::Etcd => "/version",
        }
    }

    fn rule(self) -> &'static RuleMeta {
        match self {
            Endpoint::Kubelet | Endpoint::KubeletReadOnly => &KUBELET_ANSWERS_ANONYMOUSLY,
            Endpoint::ApiServer => &API_SERVER_ANSWERS_ANONYMOUSLY,
            Endpoint::Etcd => &ETCD_ANSWERS_WITHOUT_CLIENT_CERTIFICATE,
        }
    }

    /// The CIS controls its answer decides.
    fn controls(self) -> &'static [&'static str] {
        match self {
            Endpoint::Kubelet => &["4.2.1", "4.2.2"],
            Endpoint::KubeletReadOnly => &["4.2.4"],
            Endpoint::ApiServer => &["1.2.1"],
            Endpoint::Etcd => &["2.1", "2.2"],
        }
    }
}

/// What an endpoint answered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Answer {
    /// An HTTP status, over TLS unless `plain`.
    Status { status: u16, plain: bool },
    /// The connection was refused: nothing listens there.
    Refused,
    /// The TLS handshake was refused for want of a client certificate.
    CertificateRequired,
    /// The port does not speak TLS.
    NotTls,
    /// Anything else (a timeout, a reset, an unknown name), with what it was.
    Failed(String),
}

/// How to probe.
#[derive(Debug, Clone)]
pub struct Options {
    /// Each endpoint's port, where it is not the default.
    pub ports: BTreeMap<Endpoint, u16>,
    /// The endpoints asked.
    pub endpoints: Vec<Endpoint>,
    /// The most one request may take, connection included.
    pub timeout: Duration,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            ports: BTreeMap::new(),
            endpoints: Endpoint::ALL.to_vec(),
            timeout: Duration::from_secs(3),
        }
    }
}

impl Options {
    fn port(&self, endpoint: Endpoint) -> u16 {
        self.ports
            .get(&endpoint)
            .copied()
            .unwrap_or_else(|| endpoint.default_port())
    }

    /// Sets an endpoint's port.
    pub fn set_port(&mut self, endpoint: Endpoint, port: u16) {
        self.ports.insert(endpoint, port);
    }
}

/// Asks one endpoint of `host`.
pub fn ask(host: &str, endpoint: Endpoint, options: &Options) -> Answer {
    let port = options.port(endpoint);
    let authority = authority(host, port);
    let agent = agent(options.timeout);
    let plain = endpoint == Endpoint::KubeletReadOnly;
    let scheme = if plain { "http" } else { "https" };
    let answer = get(
        &agent,
        &format!("{scheme}://{authority}{}", endpoint.path()),
        plain,
    );
    if endpoint == Endpoint::Etcd && answer == Answer::NotTls {
        return get(
            &agent,
            &format!("http://{authority}{}", endpoint.path()),
            true,
        );
    }
    answer
}

fn authority(host: &str, port: u16) -> String {
    if host.contains(':') && !host.starts_with('[') {
        format!("[{host}]:{port}")
    } else {
        format!("{host}:{port}")
    }
}

fn agent(timeout: Duration) -> ureq::Agent {
    let tls = ureq::tls::TlsConfig::builder()
        .provider(ureq::tls::TlsProvider::Rustls)
        .disable_verification(true)
        .build();
    ureq::Agent::config_builder()
        .tls_config(tls)
        .http_status_as_error(false)
        .max_redirects(0)
        .timeout_global(Some(timeout))
        .build()
        .into()
}

fn get(agent: &ureq::Agent, url: &str, plain: bool) -> Answer {
    match agent.get(url).call() {
        Ok(response) => Answer::Status {
            status: response.status().as_u16(),
            plain,
        },
        Err(error) => classify(&error),
    }
}

/// What a failed request says of the endpoint.
fn classify(error: &ureq::Error) -> Answer {
    let rustls_error = match error {
        ureq::Error::Rustls(e) => Some(e),
        ureq::Error::Io(io) => io.get_ref().and_then(|e| e.downcast_ref::<rustls::Error>()),
        _ => None,
    };
    if let Some(tls) = rustls_error {
        return match tls {
            rustls::Error::AlertReceived(
                rustls::AlertDescription::CertificateRequired
                | rustls::AlertDescription::BadCertificate
                | rustls::AlertDescription::HandshakeFailure
                | rustls::AlertDescription::UnknownCA
                | rustls::AlertDescription::AccessDenied,
            ) => Answer::CertificateRequired,
            rustls::Error::InvalidMessage(_) | rustls::Error::InappropriateMessage { .. } => {
                Answer::NotTls
            }
            other => Answer::Failed(other.to_string()),
        };
    }
    match error {
        ureq::Error::Io(io) if io.kind() == std::io::ErrorKind::ConnectionRefused => {
            Answer::Refused
        }
        ureq::Error::ConnectionFailed => Answer::Refused,
        other => Answer::Failed(other.to_string()),
    }
}

/// What an answer says: a finding's severity and message, `Ok(None)` for the answer wanted,
/// `Err` when it says nothing either way (nothing listens, or the request failed). A closed
/// read-only port is the answer wanted only on a host whose kubelet answered (`beside_kubelet`).
fn judge(
    endpoint: Endpoint,
    answer: &Answer,
    beside_kubelet: bool,
) -> Result<Option<(Severity, String)>, Judged> {
    let noun = endpoint.noun();
    match (endpoint, answer) {
        (Endpoint::KubeletReadOnly, Answer::Refused) if beside_kubelet => Ok(None),
        (_, Answer::Refused) => Err(Judged::NothingListens),
        (_, Answer::Failed(why)) => Err(Judged::Unknown(why.clone())),
        (Endpoint::KubeletReadOnly, Answer::Status { status, .. }) => Ok(Some((
            Severity::High,
            format!(
                "{noun} answers without authentication (HTTP {status} for /pods over plain HTTP): it serves the node's pods and their settings to anyone who reaches it"
            ),
        ))),
        (Endpoint::KubeletReadOnly, _) => Ok(None),
        (
            Endpoint::Etcd,
            Answer::Status {
                status,
                plain: true,
            },
        ) => Ok(Some((
            Severity::Critical,
            format!(
                "{noun} answers over plain HTTP (HTTP {status} for /version): whoever reaches it reads and writes every object of the cluster, Secrets included, and sees them in transit"
            ),
        ))),
        (Endpoint::Etcd, Answer::Status { status, .. }) => Ok(Some((
            Severity::Critical,
            format!(
                "{noun} answers a client that shows no certificate (HTTP {status} for /version): whoever reaches it reads and writes every object of the cluster, Secrets included"
            ),
        ))),
        (_, Answer::CertificateRequired) => Ok(None),
        (_, Answer::NotTls) => Err(Judged::Unknown("the port does not speak TLS".into())),
        (_, Answer::Status { status: 401, .. }) => Ok(None),
        (Endpoint::Kubelet, Answer::Status { status: 200, .. }) => Ok(Some((
            Severity::Critical,
            format!(
                "{noun} serves a request that carries no credential (HTTP 200 for /pods): anonymous requests are authenticated and authorized, so whoever reaches it runs commands in every container of the node"
            ),
        ))),
        (Endpoint::ApiServer, Answer::Status { status: 200, .. }) => Ok(Some((
            Severity::Critical,
            format!(
                "{noun} lets a request that carries no credential list namespaces (HTTP 200): a binding grants system:anonymous or system:unauthenticated more than the public information"
            ),
        ))),
        (_, Answer::Status { status: 403, .. }) => Ok(Some((
            Severity::Medium,
            format!(
                "{noun} authenticates a request that carries no credential as system:anonymous (HTTP 403 from the authorizer rather than 401): only authorization stands between anonymous requests and what a binding may grant them"
            ),
        ))),
        (_, Answer::Status { status, .. }) => Err(Judged::Unknown(format!(
            "HTTP {status}, which says neither that anonymous requests are refused nor that they are served"
        ))),
    }
}

/// Why an endpoint was not judged.
#[derive(Debug)]
enum Judged {
    NothingListens,
    Unknown(String),
}

/// The most requests in flight at once.
pub const MOST_AT_ONCE: usize = 32;

/// Each `(host, endpoint)`'s answer, in order, asked by a bounded set of threads.
fn ask_all(asked: &[(String, Endpoint)], options: &Options) -> Vec<Answer> {
    let next = std::sync::atomic::AtomicUsize::new(0);
    let answers: Vec<std::sync::Mutex<Option<Answer>>> =
        asked.iter().map(|_| std::sync::Mutex::new(None)).collect();
    std::thread::scope(|scope| {
        for _ in 0..MOST_AT_ONCE.min(asked.len()) {
            scope.spawn(|| {
                loop {
                    let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                    let Some((host, endpoint)) = asked.get(i) else {
                        break;
                    };
                    let answer = ask(host, *endpoint, options);
                    if let Ok(mut slot) = answers[i].lock() {
                        *slot = Some(answer);
                    }
                }
            });
        }
    });
    answers
        .into_iter()
        .map(|slot| {
            slot.into_inner()
                .ok()
                .flatten()
                .unwrap_or_else(|| Answer::Failed("the probe did not finish".into()))
        })
        .collect()
}

/// What probing found.
#[derive(Debug, Default)]
pub struct Probed {
    pub findings: Vec<Finding>,
    pub coverage: Vec<Coverage>,
    pub diagnostics: Vec<Diagnostic>,
    /// Endpoints that answered (judged).
    pub judged: usize,
}

/// Probes every endpoint of every host, at most [`MOST_AT_ONCE`] requests at a time (most of
/// a request's time is waiting on the network, so far more than the cores).
pub fn probe(hosts: &[String], options: &Options) -> Probed {
    let asked: Vec<(String, Endpoint)> = hosts
        .iter()
        .flat_map(|h| options.endpoints.iter().map(move |e| (h.clone(), *e)))
        .collect();
    let answers = ask_all(&asked, options);
    let mut probed = Probed::default();
    let mut counts: BTreeMap<(&'static str, &'static str), (usize, usize)> = BTreeMap::new();
    let mut failed: BTreeMap<&'static str, usize> = BTreeMap::new();
    // A closed read-only port is the answer wanted only beside a kubelet that answers: on a
    // host where nothing answers, it says nothing.
    let kubelet_answered = |host: &str| {
        asked.iter().zip(&answers).any(|((h, e), a)| {
            h == host
                && *e == Endpoint::Kubelet
                && !matches!(a, Answer::Refused | Answer::Failed(_))
        })
    };
    for ((host, endpoint), answer) in asked.iter().zip(&answers) {
        let port = options.port(*endpoint);

        let url = format!(
            "{}://{}{}",
            if *endpoint == Endpoint::KubeletReadOnly {
                "http"
            } else {
                "https"
            },
            authority(host, port),
            endpoint.path()
        );
        let rule = endpoint.rule();
        match judge(*endpoint, answer, kubelet_answered(host)) {
            Ok(found) => {
                probed.judged += 1;
                for control in endpoint.controls() {
                    counts.entry((rule.id.as_ref(), control)).or_default().0 += 1;
                }
                if let Some((severity, message)) = found {
                    *failed.entry(rule.id.as_ref()).or_default() += 1;
                    let cited = endpoint
                        .controls()
                        .iter()
                        .map(|c| Control::new(Framework::CisK8s112, c))
                        .collect();
                    probed.findings.push(
                        Finding::new(
                            rule,
                            Subject::Node(Arc::from(host.as_str())),
                            Location::file(url),
                            format!("{host}:{port}: {message}"),
                        )
                        .with_severity(severity)
                        .with_discriminator(format!("{port}"))
                        .citing(cited),
                    );
                }
            }
            Err(Judged::NothingListens) => probed.diagnostics.push(
                Diagnostic::new(
                    DiagnosticLevel::Info,
                    "probe-closed",
                    format!(
                        "nothing answers for {} at {host}:{port}: not judged",
                        endpoint.noun()
                    ),
                )
                .in_file(url),
            ),
            Err(Judged::Unknown(why)) => {
                for control in endpoint.controls() {
                    counts.entry((rule.id.as_ref(), control)).or_default().1 += 1;
                }
                probed.diagnostics.push(
                    Diagnostic::new(
                        DiagnosticLevel::Warning,
                        "probe-failed",
                        format!("{} at {host}:{port} was not judged: {why}", endpoint.noun()),
                    )
                    .in_file(url),
                );
            }
        }
    }
    probed.coverage = RULES
        .iter()
        .map(|rule| coverage(rule, &counts, failed.get(rule.id.as_ref()).copied()))
        .collect();
    probed
}

fn coverage(
    rule: &RuleMeta,
    counts: &BTreeMap<(&'static str, &'static str), (usize, usize)>,
    failed: Option<usize>,
) -> Coverage {
    let own = |c: &Control| {
        counts
            .get(&(rule.id.as_ref(), c.id.as_ref()))
            .copied()
            .unwrap_or_default()
    };
    // An endpoint decides each of its controls: the rule judged as many as its busiest one.
    let most = |pick: fn((usize, usize)) -> usize| {
        rule.controls
            .iter()
            .map(|c| pick(own(c)))
            .max()
            .unwrap_or(0)
    };
    let totals = (most(|c| c.0), failed.unwrap_or(0), most(|c| c.1));
    Coverage::per_control(rule, Framework::CisK8s112, totals, own)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_answer_is_judged_as_the_component_means_it() {
        let status = |status| Answer::Status {
            status,
            plain: false,
        };
        assert!(matches!(
            judge(Endpoint::Kubelet, &status(401), true),
            Ok(None)
        ));
        assert_eq!(
            judge(Endpoint::Kubelet, &status(200), true)
                .unwrap()
                .unwrap()
                .0,
            Severity::Critical
        );
        assert_eq!(
            judge(Endpoint::ApiServer, &status(403), true)
                .unwrap()
                .unwrap()
                .0,
            Severity::Medium
        );
        assert!(matches!(
            judge(Endpoint::ApiServer, &status(404), true),
            Err(Judged::Unknown(_))
        ));
        // A closed read-only port is the answer wanted; a closed kubelet port is no kubelet.
        assert!(matches!(
            judge(Endpoint::KubeletReadOnly, &Answer::Refused, true),
            Ok(None)
        ));
        assert!(matches!(
            judge(Endpoint::KubeletReadOnly, &Answer::Refused, false),
            Err(Judged::NothingListens)
        ));
        assert!(matches!(
            judge(Endpoint::Kubelet, &Answer::Refused, true),
            Err(Judged::NothingListens)
        ));
        assert!(matches!(
            judge(Endpoint::Etcd, &Answer::CertificateRequired, false),
            Ok(None)
        ));
        assert_eq!(
            judge(Endpoint::Etcd, &status(404), false)
                .unwrap()
                .unwrap()
                .0,
            Severity::Critical
        );
        assert_eq!(authority("::1", 6443), "[::1]:6443");
        assert_eq!(authority("10.0.0.1", 6443), "10.0.0.1:6443");
    }
}
