//! `palisade serve`: the long-running services. `serve audit` receives the API server's
//! audit webhook over HTTPS, analyses and delivers.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use anyhow::{Context, Result, bail};
use clap::{Args, Subcommand};
use palisade_audit::format::AlertFormat;
use palisade_audit::{Engine, Selection};
use palisade_server::audit_receiver::{self, AlertLog, ReceiverState};
use palisade_server::health::Health;
use palisade_server::metrics::Metrics;
use palisade_server::tls::{self, TlsFiles};
use palisade_store::Store;

use crate::audit_cmd::{DetectionArgs, parse_sinks};

#[derive(Subcommand)]
pub enum ServeCommand {
    /// Receive the API server's audit webhook (HTTPS), run the detections, and deliver the
    /// alerts to the sinks with nothing lost (batches are acknowledged once stored).
    Audit(ServeAuditArgs),
}

#[derive(Args)]
#[command(group(clap::ArgGroup::new("certificate").required(true).args(["cert", "self_signed"])))]
pub struct ServeAuditArgs {
    /// Address of the HTTPS listener.
    #[arg(
        long,
        default_value = "0.0.0.0:8443",
        env = "PALISADE_LISTEN",
        value_name = "ADDR"
    )]
    listen: SocketAddr,
    /// Address of the plain-HTTP listener for /healthz, /readyz and /metrics.
    #[arg(
        long,
        default_value = "0.0.0.0:8080",
        env = "PALISADE_HEALTH_LISTEN",
        value_name = "ADDR"
    )]
    health_listen: SocketAddr,
    /// Serving certificate (PEM, with its chain); reloaded when it changes.
    #[arg(long, requires = "key", env = "PALISADE_TLS_CERT", value_name = "FILE")]
    cert: Option<PathBuf>,
    /// Serving key (PEM).
    #[arg(long, requires = "cert", env = "PALISADE_TLS_KEY", value_name = "FILE")]
    key: Option<PathBuf>,
    /// Make a CA and a serving certificate in DIR (ca.pem for the webhook kubeconfig's
    /// certificate-authority, tls.crt, tls.key).
    #[arg(long, value_name = "DIR", env = "PALISADE_SELF_SIGNED")]
    self_signed: Option<PathBuf>,
    /// Names and addresses the self-signed certificate is valid for.
    #[arg(
        long,
        value_delimiter = ',',
        default_value = "localhost,127.0.0.1",
        env = "PALISADE_TLS_HOSTS",
        value_name = "NAMES"
    )]
    hosts: Vec<String>,
    /// Require clients (the API server) to present a certificate signed by this CA.
    #[arg(long, env = "PALISADE_CLIENT_CA", value_name = "FILE")]
    client_ca: Option<PathBuf>,
    /// Batches waiting for analysis above which requests are refused with 503 (the API
    /// server retries them).
    #[arg(
        long,
        default_value_t = 1000,
        env = "PALISADE_AUDIT_MAX_INBOX",
        value_name = "BATCHES"
    )]
    max_inbox: i64,
    /// Also write alerts to standard output in this format (text, json, ocsf, ecs, cef).
    #[arg(
        short = 'o',
        long = "output",
        env = "PALISADE_AUDIT_OUTPUT",
        value_name = "FORMAT"
    )]
    output: Option<String>,
    #[command(flatten)]
    detect: DetectionArgs,
}

pub fn run(command: ServeCommand) -> Result<u8> {
    match command {
        ServeCommand::Audit(args) => serve_audit(args),
    }
}

fn serve_audit(args: ServeAuditArgs) -> Result<u8> {
    let settings = args.detect.settings()?;
    let log = match &args.output {
        Some(name) => Some(AlertLog {
            format: AlertFormat::parse(name).with_context(|| {
                format!(
                    "-o {name}: unknown format (one of {})",
                    AlertFormat::NAMES.join(", ")
                )
            })?,
            out: Box::new(std::io::stdout()),
        }),
        None => None,
    };
    let files = match (&args.cert, &args.key, &args.self_signed) {
        (Some(cert), Some(key), None) => TlsFiles {
            cert: cert.clone(),
            key: key.clone(),
            client_ca: args.client_ca.clone(),
        },
        (None, None, Some(dir)) => {
            let made = tls::self_signed(dir, &args.hosts)?;
            eprintln!(
                "palisade: self-signed CA in {} (give it to the API server as the webhook's certificate-authority)",
                dir.join("ca.pem").display()
            );
            TlsFiles {
                client_ca: args.client_ca.clone(),
                ..made.files
            }
        }
        _ => bail!("give --cert and --key, or --self-signed DIR"),
    };
    // Checked before listening: a bad certificate is a start-up error, not a failed handshake.
    tls::server_config(&files)?;
    let sinks = parse_sinks(&args.detect.sinks)?;
    let delivery_sinks = parse_sinks(&args.detect.sinks)?;
    let baseline = args.detect.baseline()?;
    let store = Store::open(&args.detect.store.store)?;
    let engine = Engine::new(settings, baseline, &Selection::default());
    let enricher = args.detect.enricher()?;
    let metrics = Arc::new(Metrics::default());
    let stop = Arc::new(AtomicBool::new(false));
    let analyser = {
        let (path, metrics, stop) = (
            args.detect.store.store.clone(),
            metrics.clone(),
            stop.clone(),
        );
        std::thread::spawn(move || {
            audit_receiver::analyse_inbox(path, engine, enricher, sinks, log, metrics, stop)
        })
    };
    let delivery = {
        let (path, metrics, stop) = (
            args.detect.store.store.clone(),
            metrics.clone(),
            stop.clone(),
        );
        std::thread::spawn(move || {
            audit_receiver::deliver_outbox(path, delivery_sinks, metrics, stop)
        })
    };
    let state = Arc::new(ReceiverState {
        store: Mutex::new(store),
        metrics: metrics.clone(),
        max_inbox: args.max_inbox,
    });
    let health = Arc::new(Health {
        ready: AtomicBool::new(false),
        metrics,
    });
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    let served: Result<()> = runtime.block_on(async {
        let config = tls::serve_config(files).await?;
        let handle = axum_server::Handle::new();
        let listener = std::net::TcpListener::bind(args.listen)
            .with_context(|| format!("cannot listen on {}", args.listen))?;
        let health_listener = tokio::net::TcpListener::bind(args.health_listen)
            .await
            .with_context(|| format!("cannot listen on {}", args.health_listen))?;
        eprintln!(
            "{}",
            serde_json::json!({"level": "info", "msg": "receiving audit events", "listen": listener.local_addr()?.to_string(), "health": health_listener.local_addr()?.to_string()})
        );
        let server = axum_server::from_tcp_rustls(listener, config)?
            .handle(handle.clone())
            .serve(audit_receiver::router(state).into_make_service());
        let health_server = axum::serve(health_listener, palisade_server::health::router(health.clone()));
        health.ready.store(true, Ordering::Relaxed);
        let shutdown = handle.clone();
        tokio::spawn(async move {
            shutdown_signal().await;
            shutdown.graceful_shutdown(Some(std::time::Duration::from_secs(10)));
        });
        tokio::select! {
            result = server => result.context("the HTTPS listener failed")?,
            result = health_server => result.context("the health listener failed")?,
        }
        Ok(())
    });
    // Drain: the analyser empties the inbox, the delivery thread makes a last round.
    stop.store(true, Ordering::Relaxed);
    let analysed = analyser
        .join()
        .map_err(|_| anyhow::anyhow!("the analyser panicked"))?;
    let delivered = delivery
        .join()
        .map_err(|_| anyhow::anyhow!("the delivery thread panicked"))?;
    served?;
    analysed.map_err(|e| anyhow::anyhow!("analysis stopped: {e}"))?;
    delivered.map_err(|e| anyhow::anyhow!("delivery stopped: {e}"))?;
    Ok(0)
}

/// SIGINT or SIGTERM.
async fn shutdown_signal() {
    #[cfg(unix)]
    {
        let mut term =
            match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
                Ok(signal) => signal,
                Err(_) => return std::future::pending().await,
            };
        tokio::select! {
            _ = tokio::signal::ctrl_c() => {}
            _ = term.recv() => {}
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}
