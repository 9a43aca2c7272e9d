//! `palisade serve`: the long-running services. `serve audit` receives the API server's
//! audit webhook over HTTPS, analyses and delivers.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use anyhow::{Context, Result, bail};
use clap::{Args, Subcommand};
use palisade_audit::format::AlertFormat;
use palisade_audit::{Engine, Selection};
use palisade_server::admission::{self, AdmissionMetrics, AdmissionState, DecisionLogLevel};
use palisade_server::audit_receiver::{self, AlertLog, ReceiverState};
use palisade_server::health::Health;
use palisade_server::metrics::{Labelled, Metrics};
use palisade_server::tls::{self, TlsFiles};

use crate::audit_cmd::{DetectionArgs, parse_sinks};

#[derive(Subcommand)]
pub enum ServeCommand {
    /// Receive the API server's audit webhook (HTTPS), run the detections, and deliver the
    /// alerts to the sinks with nothing lost (batches are acknowledged once stored).
    Audit(ServeAuditArgs),
    /// The admission webhook (HTTPS): POST /validate judges each object with the rules and
    /// policies `palisade scan` uses (modes per namespace and rule from [admission] in
    /// palisade.toml); POST /mutate adds opt-in hardening defaults.
    Admission(ServeAdmissionArgs),
}

#[derive(Args)]
pub struct ServeAdmissionArgs {
    #[command(flatten)]
    tls: TlsArgs,
    #[command(flatten)]
    select: crate::RuleArgs,
    /// Manifests or a snapshot of the cluster the objects are judged in (files or
    /// directories; repeatable): cross-object rules (NetworkPolicies, ServiceAccounts, RBAC,
    /// namespaces' Pod Security labels) and Gatekeeper's data.inventory read them. Without
    /// it each object is judged alone.
    #[arg(
        long,
        value_name = "PATH",
        env = "PALISADE_INVENTORY",
        value_delimiter = ','
    )]
    inventory: Vec<PathBuf>,
    #[command(flatten)]
    live: crate::analysis_input::LiveArgs,
    /// With --cluster: read the cluster again this often (`5m`, `30m`); each read replaces
    /// the model whole, and a failed read keeps the last one.
    #[arg(long, value_name = "DURATION", env = "PALISADE_REFRESH", default_value = "5m", value_parser = palisade_core::duration::parse)]
    refresh: std::time::Duration,
    /// With --cluster: once an object the webhook lets in (or sees deleted) changes what the
    /// cross-object rules read (a Service, a NetworkPolicy, a binding, a standalone Pod, a
    /// workload's new account or labels), read the cluster again this long after it, without waiting for
    /// --refresh (changes let in meanwhile wait for the same read). A value of --refresh or
    /// more reads on schedule only.
    #[arg(long, value_name = "DURATION", env = "PALISADE_REFRESH_AFTER_CHANGE", default_value = "1m", value_parser = palisade_core::duration::parse)]
    refresh_after_change: std::time::Duration,
    /// With --cluster: follow the cluster through the API server's watch (listed once, then
    /// watched; docs/watch.md) instead of reading it whole every --refresh. The model is
    /// rebuilt from what is held --refresh-after-change after the watch shows a change, and
    /// every --refresh. Needs `watch` on what is read, as `palisade install` grants it.
    #[arg(long = "watch", env = "PALISADE_WATCH_CLUSTER", value_parser = clap::builder::BoolishValueParser::new(), requires = "cluster")]
    follow: bool,
    /// The webhook's own namespace, always exempt so the webhook can be repaired.
    #[arg(long, value_name = "NAME", env = "PALISADE_WEBHOOK_NAMESPACE")]
    namespace: Option<String>,
    /// Which decisions are logged to standard error as JSON lines: all, findings (requests
    /// with a finding, a patch, a denial or a timeout) or none.
    #[arg(long, value_name = "WHICH", env = "PALISADE_DECISION_LOG", default_value = "findings", value_parser = ["all", "findings", "none"])]
    decision_log: String,
    /// The ValidatingWebhookConfigurations that send this webhook its requests (as `palisade
    /// install` names them): read with the cluster, to say which rules judge requests they
    /// do not send.
    #[arg(
        long,
        value_name = "NAME",
        env = "PALISADE_WEBHOOK_CONFIGURATIONS",
        value_delimiter = ',',
        default_value = "palisade,palisade-connect"
    )]
    webhook_configuration: Vec<String>,
}

/// Where the services listen and their serving certificate.
#[derive(Args)]
#[command(group(clap::ArgGroup::new("certificate").required(true).args(["cert", "self_signed"])))]
pub struct TlsArgs {
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
}

impl TlsArgs {
    /// The certificate files: the ones given, or a CA and serving certificate made now.
    fn files(&self) -> Result<TlsFiles> {
        let files = match (&self.cert, &self.key, &self.self_signed) {
            (Some(cert), Some(key), None) => TlsFiles {
                cert: cert.clone(),
                key: key.clone(),
                client_ca: self.client_ca.clone(),
            },
            (None, None, Some(dir)) => {
                let made = tls::self_signed(dir, &self.hosts)?;
                eprintln!(
                    "palisade: self-signed CA in {} (give it to the API server: the webhook's caBundle or certificate-authority)",
                    dir.join("ca.pem").display()
                );
                TlsFiles {
                    client_ca: self.client_ca.clone(),
                    ..made.files
                }
            }
            _ => bail!("give --cert and --key, or --self-signed DIR"),
        };
        // Checked before listening: a bad certificate is a start-up error, not a failed
        // handshake.
        tls::server_config(&files)?;
        Ok(files)
    }
}

#[derive(Args)]
pub struct ServeAuditArgs {
    #[command(flatten)]
    tls: TlsArgs,
    /// Batches waiting for analysis above which requests are refused with 503 (the API
    /// server retries them).
    #[arg(
        long,
        default_value_t = 1000,
        env = "PALISADE_AUDIT_MAX_INBOX",
        value_name = "BATCHES"
    )]
    max_inbox: i64,
    /// How often the threat-intelligence files (`--threat-intel`, `[audit] threat_intel`) are
    /// looked at: one that changed is read again, and the indicators read before stay when
    /// it cannot be. 0: never.
    #[arg(
        long,
        default_value_t = 60,
        env = "PALISADE_AUDIT_THREAT_INTEL_REFRESH",
        value_name = "SECONDS"
    )]
    threat_intel_refresh: u64,
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
        ServeCommand::Admission(args) => serve_admission(args),
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
    let files = args.tls.files()?;
    let sinks = parse_sinks(&args.detect.sinks)?;
    let delivery_sinks = parse_sinks(&args.detect.sinks)?;
    let baseline = args.detect.baseline()?;
    let store = crate::audit_cmd::open_store(&args.detect.store.store)?;
    let metrics = Arc::new(Metrics::default());
    let intel = settings
        .intel_feeds
        .clone()
        .filter(|_| args.threat_intel_refresh > 0)
        .map(|feeds| {
            audit_receiver::IntelRefresh::new(
                feeds,
                std::time::Duration::from_secs(args.threat_intel_refresh),
            )
        });
    if !settings.intel.is_empty() {
        audit_receiver::note_intel(&metrics, settings.intel.counts().total());
    }
    let engine = Engine::new(settings, baseline, &Selection::default());
    // A receiver starts from an inventory read whole: a broken file is fixed, not skipped.
    let enricher = args.detect.enricher(false)?;
    let stop = Arc::new(AtomicBool::new(false));
    let analyser = {
        let (path, metrics, stop) = (
            args.detect.store.store.clone(),
            metrics.clone(),
            stop.clone(),
        );
        std::thread::spawn(move || {
            let analysis = audit_receiver::Analysis {
                engine,
                enricher,
                sinks,
                log,
                intel,
            };
            audit_receiver::analyse_inbox(path, analysis, metrics, stop)
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
    let served = serve_https(
        &args.tls,
        files,
        audit_receiver::router(state),
        health,
        "receiving audit events",
    );
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

fn serve_admission(args: ServeAdmissionArgs) -> Result<u8> {
    if args.live.cluster && !args.inventory.is_empty() {
        bail!("--cluster and --inventory name two clusters; give one");
    }
    crate::analysis_input::load_objects_if_live(&args.live)?;
    let mut followed = if args.follow {
        Some(crate::serve_watch::Followed::start(
            &args.live,
            args.select.may_read_any_status(),
        )?)
    } else {
        None
    };
    let (options, inventory, unusable) = if args.live.cluster {
        live_model(&args.select, &args.live, followed.as_mut())?
    } else {
        let inventory = context_inventory(&args.inventory)?;
        let cluster = (!args.inventory.is_empty()).then_some(&inventory);
        let (mut options, unusable) = args.select.scan_options_past_cluster_problems(
            palisade_inventory::LoadOptions::default(),
            palisade_policy::EnforcementPoint::Validation,
            cluster,
        )?;
        // Neither the cluster nor manifests of it: each object is judged alone, and no rule
        // may conclude that something the webhook never read is missing.
        options.judged_alone = cluster.is_none();
        (options, inventory, unusable)
    };
    if options.judged_alone {
        eprintln!(
            "{}",
            serde_json::json!({"level": "info", "msg": "judging each object alone (neither --cluster nor --inventory): rules do not conclude that something the webhook never read is missing (a NetworkPolicy, a ResourceQuota or LimitRange, a binding's role, a ServiceAccount, a mesh's PeerAuthentication)"})
        );
    }
    let mut admission =
        prepare_admission(&args.select, options, inventory, args.namespace.as_deref())?;
    if args.live.cluster {
        admission = admission.with_namespace_lookup(namespace_lookup(&args.live));
    }
    let files = args.tls.files()?;
    let log = match args.decision_log.as_str() {
        "all" => DecisionLogLevel::All,
        "none" => DecisionLogLevel::None,
        _ => DecisionLogLevel::Findings,
    };
    let metrics = Arc::new(AdmissionMetrics::default());
    note_unusable_policies(&unusable, &metrics);
    let configurations = args.webhook_configuration.clone();
    let said = Arc::new(Mutex::new(None));
    note_unsent(&admission, &configurations, &metrics, &said);
    let state = Arc::new(AdmissionState::new(
        admission,
        metrics.clone(),
        log,
        palisade_core::parallel::cores(),
    ));
    if args.live.cluster {
        let (judge, reads, select, live, every, after_change) = (
            state.admission.clone(),
            metrics.clone(),
            args.select,
            args.live,
            args.refresh,
            args.refresh_after_change,
        );
        std::thread::spawn(move || {
            let mut last_read = std::time::Instant::now();
            loop {
                let reason = match followed.as_mut() {
                    Some(followed) => followed.next(&judge, last_read, every, after_change),
                    None => next_read(&judge, last_read, every, after_change),
                };
                let began = std::time::Instant::now();
                last_read = began;
                match live_model(&select, &live, followed.as_mut()) {
                    Ok((options, inventory, unusable)) => {
                        note_unusable_policies(&unusable, &reads);
                        let objects = inventory.objects.len();
                        judge.replace_model(
                            palisade_admission::prepare_model(
                                inventory,
                                options,
                                palisade_core::parallel::cores(),
                                judge.settings(),
                            ),
                            began,
                        );
                        note_unsent(&judge, &configurations, &reads, &said);
                        eprintln!(
                            "{}",
                            serde_json::json!({"level": "info", "msg": if followed.is_some() { "model rebuilt from the followed cluster" } else { "cluster read again" }, "objects": objects, "reason": reason})
                        );
                        reads.cluster_reads.add(&Labelled::key(&[reason, "ok"]), 1);
                        let kept = i64::try_from(judge.remembered()).unwrap_or(i64::MAX);
                        reads.remembered.store(kept, Ordering::Relaxed);
                    }
                    Err(error) => {
                        eprintln!(
                            "{}",
                            serde_json::json!({"level": "warning", "msg": "cluster not read; judging with the last read", "error": format!("{error:#}"), "reason": reason})
                        );
                        reads
                            .cluster_reads
                            .add(&Labelled::key(&[reason, "failed"]), 1);
                    }
                }
            }
        });
    }
    let health = Arc::new(Health {
        ready: AtomicBool::new(false),
        metrics,
    });
    serve_https(
        &args.tls,
        files,
        admission::router(state),
        health,
        "serving admission reviews",
    )?;
    Ok(0)
}

/// Reads a Namespace from the live cluster, for requests in one the last read lacks. Called
/// on an evaluation's blocking thread of the server's runtime; the client is made on first
/// use, there, and kept. A look-up is bounded by `--request-timeout` (2 s by default here,
/// below the webhook's deadline).
fn namespace_lookup(live: &crate::analysis_input::LiveArgs) -> palisade_admission::NamespaceLookup {
    let mut options = crate::cluster_cmd::capture_options(&live.cluster_args());
    options.request_timeout = options
        .request_timeout
        .min(std::time::Duration::from_secs(2));
    let reader: Arc<tokio::sync::OnceCell<Result<palisade_cluster::Reader, String>>> =
        Arc::default();
    Arc::new(move |name: &str| {
        let handle = tokio::runtime::Handle::try_current()
            .map_err(|_| "no runtime to read the cluster with".to_string())?;
        handle.block_on(async {
            let reader = reader
                .get_or_init(|| async {
                    palisade_cluster::Reader::connect(&options)
                        .await
                        .map_err(|e| e.to_string())
                })
                .await
                .as_ref()
                .map_err(Clone::clone)?;
            let found = reader.namespace(name).await;
            if let Err(error) = &found {
                eprintln!(
                    "{}",
                    serde_json::json!({"level": "warning", "msg": "namespace not looked up", "namespace": name, "error": error})
                );
            }
            found
        })
    })
}

/// Waits until the cluster is to be read again: `every` after the last read, or
/// `after_change` after an object let in changed what the model reads
/// ([`palisade_admission::Admission::changed_at`]). Returns why: `refresh` or `change`.
fn next_read(
    judge: &palisade_admission::Admission,
    last_read: std::time::Instant,
    every: std::time::Duration,
    after_change: std::time::Duration,
) -> &'static str {
    let tick = std::time::Duration::from_millis(200);
    loop {
        if last_read.elapsed() >= every {
            return "refresh";
        }
        if judge
            .changed_at()
            .is_some_and(|at| at.elapsed() >= after_change)
        {
            return "change";
        }
        std::thread::sleep(tick);
    }
}

/// The judge: the run's rules and settings, the cluster model, the [admission] table.
pub(crate) fn prepare_admission(
    select: &crate::RuleArgs,
    options: palisade_scan::ScanOptions,
    inventory: palisade_inventory::Inventory,
    own_namespace: Option<&str>,
) -> Result<palisade_admission::Admission> {
    let settings = match select.config.path() {
        Some(path) => palisade_admission::AdmissionSettings::load(&path, &|name| {
            options.rules.canonical(name)
        })?,
        None => palisade_admission::AdmissionSettings::default(),
    };
    let idle: Vec<String> = palisade_scan::named_but_idle(&options, true)
        .into_iter()
        .map(|(id, why)| format!("{id}: {why}"))
        .collect();
    if !idle.is_empty() {
        bail!(
            "asked for with --rules but cannot run (the webhook would judge nothing by them): {}",
            idle.join("; ")
        );
    }

    // A policy written for deletions or connections that the settings leave unjudged is
    // said, never silently idle.
    for (operation, judged, setting, flag) in [
        (
            "DELETE",
            settings.judge_deletions,
            "judge_deletions",
            "--judge-deletions",
        ),
        (
            "CONNECT",
            settings.judge_connect,
            "judge_connect",
            "--judge-connect",
        ),
    ] {
        let idle: Vec<String> = options
            .rules
            .evaluated()
            .iter()
            .filter(|r| {
                r.meta().id.starts_with("ValidatingAdmissionPolicy/")
                    && r.judges_operation(operation)
            })
            .map(|r| r.meta().id.to_string())
            .collect();
        if !judged && !idle.is_empty() {
            eprintln!(
                "{}",
                serde_json::json!({"level": "warn", "msg": format!("policies select {operation}, which is not judged: set [admission] {setting} = true (palisade install {flag})"), "policies": idle})
            );
        }
    }
    let model = palisade_admission::prepare_model(
        inventory,
        options,
        palisade_core::parallel::cores(),
        &settings,
    );
    eprintln!(
        "{}",
        serde_json::json!({"level": "info", "msg": "admission model prepared", "objects": model.len(), "rules": model.active_rules().len(), "switched_off": settings.rules.values().filter(|m| **m == palisade_admission::Mode::Off).count()})
    );
    Ok(palisade_admission::Admission::new(
        model,
        settings,
        own_namespace,
    ))
}

/// The objects of `--inventory` paths (none: each object is judged alone). A path that cannot
/// be read is an error: judging against half a cluster must not look like judging against
/// all of it.
fn context_inventory(paths: &[PathBuf]) -> Result<palisade_inventory::Inventory> {
    if paths.is_empty() {
        return Ok(palisade_inventory::Inventory::default());
    }
    let load = crate::LoadArgs {
        paths: paths.iter().map(|p| p.display().to_string()).collect(),
        ..crate::LoadArgs::for_path(Path::new("."))
    };
    let (inputs, load_options) = crate::inputs(&load)?;
    let loaded = palisade_inventory::load(&inputs, &load_options);
    let unread: Vec<String> = loaded
        .diagnostics
        .iter()
        .filter(|d| d.input_not_read())
        .map(|d| format!("{}: {}", d.location(), d.message))
        .collect();
    if !unread.is_empty() {
        bail!(
            "--inventory: {} could not be read:\n  {}",
            palisade_report::table::plural(unread.len(), "input"),
            unread.join("\n  ")
        );
    }
    if loaded.inventory.objects.is_empty() {
        bail!(
            "--inventory: no Kubernetes object under {}",
            load.paths.join(" ")
        );
    }
    Ok(loaded.inventory)
}

/// Logs each policy the cluster holds that cannot be used, and counts them: the webhook goes
/// on with the others, as Gatekeeper goes on past a template in error.
fn note_unusable_policies(unusable: &[String], metrics: &AdmissionMetrics) {
    for problem in unusable {
        eprintln!(
            "{}",
            serde_json::json!({"level": "warning", "msg": "cluster policy not used", "problem": problem})
        );
    }
    let count = i64::try_from(unusable.len()).unwrap_or(i64::MAX);
    metrics.unusable_policies.store(count, Ordering::Relaxed);
}

/// What [`note_unsent`] last said (a read that finds the same says nothing again).
type Said = Mutex<Option<Result<palisade_admission::sent::NotSent, String>>>;

/// Says which rules judge creations or updates that the webhook configurations named
/// `configurations` (in the cluster read) do not send: they never run at admission for
/// those. Counted in `palisade_admission_unsent_requests` at every read; -1 when no such
/// configuration was read, so nothing could be checked. Logged when the answer differs from
/// what `said` holds, the last one logged, so that a known gap (an opt-in namespace selector)
/// is not logged again at every `--refresh`.
fn note_unsent(
    judge: &palisade_admission::Admission,
    configurations: &[String],
    metrics: &AdmissionMetrics,
    said: &Said,
) {
    let answer = judge.unsent(configurations);
    let mut said = said
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    let new = said.as_ref() != Some(&answer);
    let (requests, namespaces) = match &answer {
        Err(why) => {
            if new {
                eprintln!(
                    "{}",
                    serde_json::json!({"level": "warning", "msg": "what the webhook is sent was not checked", "reason": why})
                );
            }
            (-1, -1)
        }
        Ok(not_sent) => {
            if new {
                note_not_sent(not_sent, configurations);
            }
            let count = |n: usize| i64::try_from(n).unwrap_or(i64::MAX);
            (
                count(not_sent.requests.len()),
                count(not_sent.namespaces.len()),
            )
        }
    };
    *said = Some(answer);
    metrics.unsent_requests.store(requests, Ordering::Relaxed);
    metrics
        .unsent_namespaces
        .store(namespaces, Ordering::Relaxed);
}

/// Logs what the webhook configurations do not send: the requests by rule, the namespaces
/// their selector leaves out, and the object selectors an object's author escapes.
fn note_not_sent(not_sent: &palisade_admission::sent::NotSent, configurations: &[String]) {
    let warn = |msg: &str, key: &str, value: serde_json::Value| {
        eprintln!(
            "{}",
            serde_json::json!({"level": "warning", "msg": msg, "configurations": configurations, key: value})
        );
    };
    if !not_sent.requests.is_empty() {
        let mut by_rule: std::collections::BTreeMap<&str, Vec<String>> = Default::default();
        for unsent in &not_sent.requests {
            let request = &unsent.request;
            let to = match unsent.configuration {
                "MutatingWebhookConfiguration" => " (mutating)",
                _ => "",
            };
            for rule in &unsent.rules {
                by_rule.entry(rule).or_default().push(format!(
                    "{} {}{to}",
                    request.operation,
                    request.name()
                ));
            }
        }
        warn(
            "rules judge requests the webhook configuration does not send: they never run at admission for those; add the resources to its rules (palisade install --send, the chart's extraRules)",
            "rules",
            serde_json::json!(by_rule),
        );
    }
    if !not_sent.namespaces.is_empty() {
        warn(
            "the webhook configuration's namespaceSelector leaves out namespaces that are not exempt: nothing in them is judged at admission",
            "namespaces",
            serde_json::json!(not_sent.namespaces),
        );
    }
    if !not_sent.object_selectors.is_empty() {
        warn(
            "the webhook configuration has an objectSelector: an object whose labels it does not select is never judged at admission, and its author writes the labels",
            "object_selectors",
            serde_json::json!(not_sent.object_selectors),
        );
    }
}

/// The live cluster, read now, with the types it would not list marked in the options, and
/// the policies it holds that cannot be used (`--cluster-policies`).
/// The model of the cluster: read now, or as `followed` holds it.
fn live_model(
    select: &crate::RuleArgs,
    live: &crate::analysis_input::LiveArgs,
    followed: Option<&mut crate::serve_watch::Followed>,
) -> Result<(
    palisade_scan::ScanOptions,
    palisade_inventory::Inventory,
    Vec<String>,
)> {
    let snapshot = match followed {
        Some(followed) => followed.snapshot(),
        None => {
            let args = crate::cluster_cmd::ClusterArgs {
                all_namespaces: true,
                ..live.cluster_args()
            };
            let Some(snapshot) = crate::cluster_cmd::capture_cluster(&args)? else {
                bail!("interrupted");
            };
            snapshot
        }
    };
    let unlisted = snapshot.unlisted();
    let loaded = snapshot.load();
    let (mut options, mut unusable) = select.scan_options_past_cluster_problems(
        palisade_inventory::LoadOptions::default(),
        palisade_policy::EnforcementPoint::Validation,
        Some(&loaded.inventory),
    )?;
    // Policies of a type the cluster would not list (RBAC without `install
    // --cluster-policies`' role) are not run: said like any other policy not used, never a
    // cluster that seems to hold fewer policies.
    if select.cluster_policies {
        unusable.extend(policies_not_read(&unlisted));
    }
    options.unlisted = unlisted;
    options.whole_cluster = true;
    Ok((options, loaded.inventory, unusable))
}

/// A problem for each type of policy the cluster would not list (`(group, kind, why)`; an
/// empty kind is a group whose discovery failed).
fn policies_not_read(unlisted: &[(String, String, String)]) -> Vec<String> {
    unlisted
        .iter()
        .filter(|(group, kind, _)| palisade_policy::provider::is_policy_kind(group, kind))
        .map(|(_, _, why)| format!("policies not read, so not run: {why}"))
        .collect()
}

/// Serves `router` over HTTPS and the operations port until SIGINT or SIGTERM (then drains
/// for up to 10 s).
fn serve_https(
    tls_args: &TlsArgs,
    files: TlsFiles,
    router: axum::Router,
    health: Arc<Health>,
    what: &str,
) -> Result<()> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    runtime.block_on(async {
        let config = tls::serve_config(files).await?;
        let handle = axum_server::Handle::new();
        let listener = std::net::TcpListener::bind(tls_args.listen)
            .with_context(|| format!("cannot listen on {}", tls_args.listen))?;
        let health_listener = tokio::net::TcpListener::bind(tls_args.health_listen)
            .await
            .with_context(|| format!("cannot listen on {}", tls_args.health_listen))?;
        eprintln!(
            "{}",
            serde_json::json!({"level": "info", "msg": what, "listen": listener.local_addr()?.to_string(), "health": health_listener.local_addr()?.to_string()})
        );
        let server = axum_server::from_tcp_rustls(listener, config)?
            .handle(handle.clone())
            .serve(router.into_make_service());
        let health_server =
            axum::serve(health_listener, palisade_server::health::router(health.clone()));
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
    })
}

/// SIGINT or SIGTERM.
pub(crate) async fn shutdown_signal() {
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

#[cfg(test)]
mod tests {
    /// Types of policy the cluster would not list are said, each with why; other types, and
    /// groups that hold no policy, are not.
    #[test]
    fn policy_types_the_cluster_would_not_list_are_said() {
        let unlisted = |group: &str, kind: &str| {
            (
                group.to_string(),
                kind.to_string(),
                format!("{kind}.{group}: forbidden"),
            )
        };
        let found = super::policies_not_read(&[
            unlisted("templates.gatekeeper.sh", "ConstraintTemplate"),
            unlisted("constraints.gatekeeper.sh", "K8sRequiredLabels"),
            unlisted(
                "admissionregistration.k8s.io",
                "ValidatingAdmissionPolicyBinding",
            ),
            unlisted(
                "admissionregistration.k8s.io",
                "MutatingWebhookConfiguration",
            ),
            unlisted("expansion.gatekeeper.sh", ""),
            unlisted("", "Secret"),
        ]);
        assert_eq!(
            found,
            [
                "policies not read, so not run: ConstraintTemplate.templates.gatekeeper.sh: forbidden",
                "policies not read, so not run: K8sRequiredLabels.constraints.gatekeeper.sh: forbidden",
                "policies not read, so not run: ValidatingAdmissionPolicyBinding.admissionregistration.k8s.io: forbidden",
                "policies not read, so not run: .expansion.gatekeeper.sh: forbidden",
            ]
        );
    }
}
