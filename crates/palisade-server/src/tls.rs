//! Serving certificates: from PEM files (reloaded when they change, so cert-manager
//! rotations need no restart), or a CA and a serving certificate made at start
//! (`--self-signed`), written to a directory so the CA can be given to the API server.
//! Optionally, clients must present a certificate signed by a given CA.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use axum_server::tls_rustls::RustlsConfig;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};

/// A certificate setup that could not be used.
#[derive(Debug, thiserror::Error)]
pub enum TlsError {
    /// A file could not be read.
    #[error("{path}")]
    Io {
        path: String,
        #[source]
        source: std::io::Error,
    },
    /// A file holds no usable PEM certificate or key, or they do not match.
    #[error("{path}: {message}")]
    Invalid { path: String, message: String },
    /// The self-signed certificates could not be made.
    #[error("cannot create certificates: {0}")]
    Generate(String),
}

/// Where the serving certificate comes from.
#[derive(Debug, Clone)]
pub struct TlsFiles {
    pub cert: PathBuf,
    pub key: PathBuf,
    /// Clients must present a certificate signed by this CA.
    pub client_ca: Option<PathBuf>,
}

fn read(path: &Path) -> Result<Vec<u8>, TlsError> {
    std::fs::read(path).map_err(|source| TlsError::Io {
        path: path.display().to_string(),
        source,
    })
}

/// A rustls server configuration from the files (ring, TLS 1.2 and 1.3, HTTP/1.1).
pub fn server_config(files: &TlsFiles) -> Result<rustls::ServerConfig, TlsError> {
    let invalid = |path: &Path, message: String| TlsError::Invalid {
        path: path.display().to_string(),
        message,
    };
    let cert_pem = read(&files.cert)?;
    let certs: Vec<CertificateDer<'static>> = CertificateDer::pem_slice_iter(&cert_pem)
        .collect::<Result<_, _>>()
        .map_err(|e| invalid(&files.cert, e.to_string()))?;
    if certs.is_empty() {
        return Err(invalid(&files.cert, "no certificate in the file".into()));
    }
    let key = PrivateKeyDer::from_pem_slice(&read(&files.key)?)
        .map_err(|e| invalid(&files.key, format!("no private key: {e}")))?;
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let builder = rustls::ServerConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()
        .map_err(|e| TlsError::Generate(e.to_string()))?;
    let builder = match &files.client_ca {
        None => builder.with_no_client_auth(),
        Some(ca_path) => {
            let mut roots = rustls::RootCertStore::empty();
            for cert in CertificateDer::pem_slice_iter(&read(ca_path)?) {
                let cert = cert.map_err(|e| invalid(ca_path, e.to_string()))?;
                roots
                    .add(cert)
                    .map_err(|e| invalid(ca_path, e.to_string()))?;
            }
            let verifier = rustls::server::WebPkiClientVerifier::builder_with_provider(
                Arc::new(roots),
                provider,
            )
            .build()
            .map_err(|e| invalid(ca_path, e.to_string()))?;
            builder.with_client_cert_verifier(verifier)
        }
    };
    let mut config = builder
        .with_single_cert(certs, key)
        .map_err(|e| invalid(&files.key, format!("does not match the certificate: {e}")))?;
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(config)
}

/// The axum-server configuration, and a task that reloads it when the files change.
pub async fn serve_config(files: TlsFiles) -> Result<RustlsConfig, TlsError> {
    let config = RustlsConfig::from_config(Arc::new(server_config(&files)?));
    let reloading = config.clone();
    tokio::spawn(async move {
        let mut seen = modified(&files);
        loop {
            tokio::time::sleep(Duration::from_secs(2)).await;
            let now = modified(&files);
            if now == seen {
                continue;
            }
            // Files written one after the other: a mismatched pair is retried next time.
            match server_config(&files) {
                Ok(new) => {
                    reloading.reload_from_config(Arc::new(new));
                    seen = now;
                    eprintln!(
                        "{}",
                        serde_json::json!({"level": "info", "msg": "serving certificate reloaded", "cert": files.cert.display().to_string()})
                    );
                }
                Err(error) => eprintln!(
                    "{}",
                    serde_json::json!({"level": "warning", "msg": "serving certificate not reloaded", "error": error.to_string()})
                ),
            }
        }
    });
    Ok(config)
}

fn modified(files: &TlsFiles) -> Vec<Option<SystemTime>> {
    [&files.cert, &files.key]
        .into_iter()
        .map(|p| std::fs::metadata(p).and_then(|m| m.modified()).ok())
        .collect()
}

/// What `--self-signed` made: the CA to give to clients, and the serving files.
#[derive(Debug, Clone)]
pub struct SelfSigned {
    pub ca_pem: String,
    pub files: TlsFiles,
}

/// A CA and a serving certificate signed by it, in PEM, in memory.
#[derive(Clone)]
pub struct MadeCertificates {
    pub ca_pem: String,
    /// The serving certificate followed by the CA.
    pub chain_pem: String,
    pub key_pem: String,
}

/// Makes a CA and a serving certificate for `hosts` (DNS names or addresses).
pub fn make_certificates(hosts: &[String]) -> Result<MadeCertificates, TlsError> {
    let generate = |e: rcgen::Error| TlsError::Generate(e.to_string());
    let mut ca_params = rcgen::CertificateParams::new(Vec::<String>::new()).map_err(generate)?;
    ca_params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Constrained(0));
    ca_params
        .distinguished_name
        .push(rcgen::DnType::CommonName, "palisade self-signed CA");
    ca_params.key_usages = vec![
        rcgen::KeyUsagePurpose::KeyCertSign,
        rcgen::KeyUsagePurpose::CrlSign,
    ];
    let ca_key = rcgen::KeyPair::generate().map_err(generate)?;
    let ca_cert = ca_params.self_signed(&ca_key).map_err(generate)?;
    let issuer = rcgen::Issuer::new(ca_params, ca_key);
    let mut leaf = rcgen::CertificateParams::new(hosts.to_vec()).map_err(generate)?;
    leaf.distinguished_name.push(
        rcgen::DnType::CommonName,
        hosts.first().cloned().unwrap_or_default(),
    );
    leaf.extended_key_usages = vec![rcgen::ExtendedKeyUsagePurpose::ServerAuth];
    let leaf_key = rcgen::KeyPair::generate().map_err(generate)?;
    let leaf_cert = leaf.signed_by(&leaf_key, &issuer).map_err(generate)?;
    let ca_pem = ca_cert.pem();
    Ok(MadeCertificates {
        chain_pem: format!("{}{}", leaf_cert.pem(), ca_pem),
        ca_pem,
        key_pem: leaf_key.serialize_pem(),
    })
}

/// Makes a CA and a serving certificate for `hosts` (DNS names or addresses) in `dir`
/// (`ca.pem`, `tls.crt`, `tls.key`; the key readable by the owner only).
pub fn self_signed(dir: &Path, hosts: &[String]) -> Result<SelfSigned, TlsError> {
    let made = make_certificates(hosts)?;
    std::fs::create_dir_all(dir).map_err(|source| TlsError::Io {
        path: dir.display().to_string(),
        source,
    })?;
    let write = |name: &str, text: &str, private: bool| -> Result<PathBuf, TlsError> {
        let path = dir.join(name);
        let io = |source| TlsError::Io {
            path: path.display().to_string(),
            source,
        };
        #[cfg(unix)]
        {
            use std::io::Write;
            use std::os::unix::fs::OpenOptionsExt;
            let mut file = std::fs::OpenOptions::new()
                .write(true)
                .create(true)
                .truncate(true)
                .mode(if private { 0o600 } else { 0o644 })
                .open(&path)
                .map_err(io)?;
            file.write_all(text.as_bytes()).map_err(io)?;
        }
        #[cfg(not(unix))]
        {
            let _ = private;
            std::fs::write(&path, text).map_err(io)?;
        }
        Ok(path)
    };
    write("ca.pem", &made.ca_pem, false)?;
    let cert = write("tls.crt", &made.chain_pem, false)?;
    let key = write("tls.key", &made.key_pem, true)?;
    Ok(SelfSigned {
        ca_pem: made.ca_pem,
        files: TlsFiles {
            cert,
            key,
            client_ca: None,
        },
    })
}
