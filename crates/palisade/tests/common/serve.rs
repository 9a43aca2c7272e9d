//! Serving processes in tests: a served child killed when the test ends, the ports it
//! logs when it listens, HTTPS clients that trust given CAs, certificates to rotate.

use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::Value;

/// A served process, killed when the test ends, even by a panic.
pub struct Served(pub Child);

impl Drop for Served {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Starts `command` and waits for its JSON log line with `msg`; returns the child and the
/// ports of the line's `listen` and `health` addresses. The rest of standard error is
/// collected and returned by the thread handle.
pub fn start(command: Command, msg: &str) -> (Served, u16, u16, std::thread::JoinHandle<String>) {
    let (child, listen, health, _, rest) = start_logged(command, msg);
    (child, listen, health, rest)
}

/// [`start`], also returning what the service logged before it listened.
pub fn start_logged(
    mut command: Command,
    msg: &str,
) -> (Served, u16, u16, String, std::thread::JoinHandle<String>) {
    let mut child = Served(
        command
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap(),
    );
    let mut reader = BufReader::new(child.0.stderr.take().unwrap());
    let deadline = Instant::now() + Duration::from_secs(60);
    let mut line = String::new();
    let mut seen = String::new();
    while Instant::now() < deadline {
        line.clear();
        if reader.read_line(&mut line).unwrap() == 0 {
            let status = child.0.wait();
            panic!("the service exited: {status:?}\n{seen}");
        }
        seen.push_str(&line);
        if let Ok(v) = serde_json::from_str::<Value>(&line)
            && v["msg"] == msg
        {
            let port = |key: &str| -> u16 {
                v[key]
                    .as_str()
                    .unwrap()
                    .rsplit(':')
                    .next()
                    .unwrap()
                    .parse()
                    .unwrap()
            };
            let (listen, health) = (port("listen"), port("health"));
            let rest = std::thread::spawn(move || {
                let mut rest = String::new();
                let _ = reader.read_to_string(&mut rest);
                rest
            });
            return (child, listen, health, seen, rest);
        }
    }
    panic!("the service did not start:\n{seen}");
}

pub fn client(ca: &[u8]) -> ureq::Agent {
    let certs: Vec<ureq::tls::Certificate<'static>> = ureq::tls::parse_pem(ca)
        .filter_map(|i| match i {
            Ok(ureq::tls::PemItem::Certificate(c)) => Some(c),
            _ => None,
        })
        .collect();
    ureq::Agent::config_builder()
        .tls_config(
            ureq::tls::TlsConfig::builder()
                .provider(ureq::tls::TlsProvider::Rustls)
                .root_certs(ureq::tls::RootCerts::Specific(Arc::new(certs)))
                .build(),
        )
        .http_status_as_error(false)
        .build()
        .into()
}

/// The Prometheus text the service's health port serves.
pub fn metrics(agent: &ureq::Agent, health: u16) -> String {
    agent
        .get(format!("http://127.0.0.1:{health}/metrics"))
        .call()
        .unwrap()
        .body_mut()
        .read_to_string()
        .unwrap()
}

pub fn wait_for(what: &str, mut done: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(60);
    while !done() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// A CA and a serving certificate for 127.0.0.1 signed by it, written to `dir`.
pub fn issue(dir: &Path, name: &str) -> (PathBuf, PathBuf, Vec<u8>) {
    let mut ca = rcgen::CertificateParams::new(Vec::<String>::new()).unwrap();
    ca.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
    ca.distinguished_name.push(rcgen::DnType::CommonName, name);
    let ca_key = rcgen::KeyPair::generate().unwrap();
    let ca_cert = ca.self_signed(&ca_key).unwrap();
    let issuer = rcgen::Issuer::new(ca, ca_key);
    let leaf = rcgen::CertificateParams::new(vec!["127.0.0.1".to_string()]).unwrap();
    let key = rcgen::KeyPair::generate().unwrap();
    let cert = leaf.signed_by(&key, &issuer).unwrap();
    let (cert_path, key_path) = (
        dir.join(format!("{name}.crt")),
        dir.join(format!("{name}.key")),
    );
    std::fs::write(&cert_path, cert.pem()).unwrap();
    std::fs::write(&key_path, key.serialize_pem()).unwrap();
    (cert_path, key_path, ca_cert.pem().into_bytes())
}

/// Certificate files served while a test replaces them: the live pair the service reads,
/// and the CAs of the certificate before and after.
pub struct Rotation {
    pub live_cert: PathBuf,
    pub live_key: PathBuf,
    new_cert: PathBuf,
    new_key: PathBuf,
    pub old_ca: Vec<u8>,
    pub new_ca: Vec<u8>,
}

impl Rotation {
    /// Two certificates for 127.0.0.1 from two CAs; the old one is live.
    pub fn new(dir: &Path) -> Rotation {
        let (old_cert, old_key, old_ca) = issue(dir, "old");
        let (new_cert, new_key, new_ca) = issue(dir, "new");
        let (live_cert, live_key) = (dir.join("tls.crt"), dir.join("tls.key"));
        std::fs::copy(&old_cert, &live_cert).unwrap();
        std::fs::copy(&old_key, &live_key).unwrap();
        Rotation {
            live_cert,
            live_key,
            new_cert,
            new_key,
            old_ca,
            new_ca,
        }
    }

    /// Replaces the live files while a thread keeps sending with `send` (a new client, so a
    /// new handshake, each time; `Err` is a failed request), waits until the new certificate
    /// is served and the old one is not, and asserts that no request failed meanwhile.
    pub fn rotate_under_load<F>(&self, send: F)
    where
        F: Fn(&ureq::Agent) -> Result<(), String> + Send + Sync + 'static,
    {
        use std::sync::atomic::{AtomicBool, Ordering};
        let send = Arc::new(send);
        let both: Vec<u8> = [self.old_ca.clone(), self.new_ca.clone()].concat();
        let stop = Arc::new(AtomicBool::new(false));
        let load = {
            let (send, stop) = (send.clone(), stop.clone());
            std::thread::spawn(move || {
                let (mut sent, mut failures) = (0, Vec::new());
                while !stop.load(Ordering::Relaxed) {
                    match send(&client(&both)) {
                        Ok(()) => sent += 1,
                        Err(e) => failures.push(e),
                    }
                }
                (sent, failures)
            })
        };
        send(&client(&self.old_ca)).expect("the old certificate is served");
        std::thread::sleep(Duration::from_millis(500));
        std::fs::copy(&self.new_key, &self.live_key).unwrap();
        std::fs::copy(&self.new_cert, &self.live_cert).unwrap();
        wait_for("the new certificate", || {
            send(&client(&self.new_ca)).is_ok()
        });
        assert!(
            send(&client(&self.old_ca)).is_err(),
            "the old certificate is still served"
        );
        std::thread::sleep(Duration::from_millis(300));
        stop.store(true, Ordering::Relaxed);
        let (sent, failures) = load.join().unwrap();
        assert!(sent > 5, "only {sent} requests during the rotation");
        assert!(failures.is_empty(), "{failures:?}");
    }
}
