//! `palisade watch`: a live cluster kept current in memory (listed once, then followed
//! through the API server's watch), scanned again once a change has settled and at least
//! every `--rescan`. Each scan's findings opened and resolved are written as JSON lines, the
//! findings written into the cluster as Policy Reports, and each scan that changed something
//! recorded in a history. Of several replicas given one `--lease`, one leads and writes; the
//! others follow the cluster and scan, ready to take over.

use std::io::Write;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use clap::Args;
use palisade_cluster::lease::{Elector, LeaseOptions};
use palisade_cluster::publish::Publisher;
use palisade_cluster::watch::{WatchOptions, WatchStats, Watched};
use palisade_core::Report;
use palisade_store::history::{Changes, OpenFindings, RecordedFinding};
use serde_json::{Value, json};

use crate::analysis_input::Completeness;
use crate::cluster_cmd::{ClusterArgs, DEFAULT_TIMEOUT, capture_options};

#[derive(Args)]
pub struct WatchArgs {
    #[command(flatten)]
    cluster: ClusterArgs,
    #[command(flatten)]
    select: crate::RuleArgs,
    #[command(flatten)]
    images: crate::ImageArgs,
    /// After a change, wait this long before scanning, so that the many changes of one
    /// rollout make one scan. A change of an object's status alone (a Pod's conditions) is
    /// not a change unless a policy runs: no built-in rule reads it.
    #[arg(long, value_name = "DURATION", env = "PALISADE_SETTLE", default_value = "10s", value_parser = palisade_core::duration::parse)]
    settle: Duration,
    /// Scan at least this often without a change (rules that depend on the date: expired
    /// certificates and tokens).
    #[arg(long, value_name = "DURATION", env = "PALISADE_RESCAN", default_value = "1h", value_parser = palisade_core::duration::parse)]
    rescan: Duration,
    /// How often the few types that serve list but not watch are listed again.
    #[arg(long, value_name = "DURATION", env = "PALISADE_RELIST", default_value = "5m", value_parser = palisade_core::duration::parse)]
    relist: Duration,
    /// Where each scan's findings opened and resolved go, as JSON lines: `-` for standard
    /// output, or a file, appended to (created readable by its owner alone).
    #[arg(
        long,
        value_name = "FILE",
        env = "PALISADE_EVENTS",
        default_value = "-"
    )]
    events: String,
    /// Deliver the events to a sink too, through the store's queue (at least once: kept
    /// until the sink takes them, retried with backoff, across restarts): the URLs of
    /// `palisade audit --sink` (file, syslog, webhook, Splunk HEC, Elasticsearch), each
    /// event as JSON. Repeat for several; a URL that is a credential belongs in the
    /// environment variable (space-separated).
    #[arg(
        long = "sink",
        value_name = "URL",
        env = "PALISADE_WATCH_SINKS",
        value_delimiter = ' ',
        requires = "store"
    )]
    sinks: Vec<String>,
    /// The SQLite store holding the sinks' queue (created readable by its owner alone).
    #[arg(long, value_name = "FILE", env = "PALISADE_WATCH_STORE")]
    store: Option<PathBuf>,
    /// Write the findings into the cluster as Policy Reports (wgpolicyk8s.io/v1alpha2) after
    /// each scan that changed them, and delete those an earlier scan wrote that this one
    /// did not (needs create, patch, list and delete on policyreports and
    /// clusterpolicyreports).
    #[arg(long, env = "PALISADE_POLICY_REPORTS", value_parser = clap::builder::BoolishValueParser::new())]
    policy_reports: bool,
    #[command(flatten)]
    history: crate::history_cmd::RecordArgs,
    /// The runs kept in --history: older ones are removed after each record.
    #[arg(
        long,
        value_name = "N",
        env = "PALISADE_HISTORY_KEEP",
        default_value_t = 1000,
        requires = "history"
    )]
    history_keep: usize,
    /// Lead among replicas through this Lease (coordination.k8s.io/v1, NAMESPACE/NAME):
    /// only the leader writes events, reports and history (needs get, create and update on
    /// leases there).
    #[arg(long, value_name = "NAMESPACE/NAME", env = "PALISADE_LEASE")]
    lease: Option<String>,
    /// This replica's name in the Lease (default: $POD_NAME, else the host name, with the
    /// process id).
    #[arg(
        long,
        value_name = "NAME",
        env = "PALISADE_IDENTITY",
        requires = "lease"
    )]
    identity: Option<String>,
    /// How long the Lease's holder keeps it without renewing.
    #[arg(long, value_name = "DURATION", env = "PALISADE_LEASE_DURATION", default_value = "15s", value_parser = palisade_core::duration::parse, requires = "lease")]
    lease_duration: Duration,
    /// Serve /healthz, /readyz (ready once the first scan is done) and /metrics on this
    /// address, over plain HTTP.
    #[arg(long, value_name = "ADDR", env = "PALISADE_WATCH_HEALTH_LISTEN")]
    health_listen: Option<SocketAddr>,
    /// Scan once, as soon as every type has been listed (or --timeout has passed), write
    /// what it found and exit: 0, or 2 when a type could not be listed.
    #[arg(long, env = "PALISADE_ONCE", value_parser = clap::builder::BoolishValueParser::new(), conflicts_with = "lease")]
    once: bool,
    #[command(flatten)]
    completeness: Completeness,
}

/// What /metrics shows.
struct WatchMetrics {
    /// The followed cluster's counts, read at each request.
    stats: palisade_cluster::watch::StatsSource,
    scans: AtomicU64,
    scan_millis: AtomicU64,
    open: AtomicU64,
    leading: AtomicBool,
    publish_failures: AtomicU64,
}

impl palisade_server::metrics::Exposition for WatchMetrics {
    fn render(&self) -> String {
        let stats = self.stats.stats();
        let gauge = |name: &str, help: &str, value: u64| {
            let mut out = String::new();
            palisade_server::metrics::gauge(&mut out, name, help, value);
            out
        };
        let counter = |name: &str, help: &str, value: u64| {
            let mut out = String::new();
            palisade_server::metrics::counter(&mut out, name, help, value);
            out
        };
        let as_u64 = |n: usize| u64::try_from(n).unwrap_or(u64::MAX);
        [
            gauge(
                "palisade_watch_objects",
                "Objects kept in memory.",
                as_u64(stats.objects),
            ),
            gauge(
                "palisade_watch_bytes",
                "Bytes of the objects kept.",
                as_u64(stats.bytes),
            ),
            gauge(
                "palisade_watch_types",
                "Types followed (one per namespace asked for).",
                as_u64(stats.types),
            ),
            gauge(
                "palisade_watch_types_listing",
                "Types whose first list is not read yet.",
                as_u64(stats.listing),
            ),
            gauge(
                "palisade_watch_types_failed",
                "Types whose list failed.",
                as_u64(stats.failed),
            ),
            counter(
                "palisade_watch_changes_total",
                "Changes seen: objects added, changed or deleted, types listed or failing.",
                stats.changes.all,
            ),
            counter(
                "palisade_watch_status_changes_total",
                "Changes seen of an object's status alone, which no built-in rule reads.",
                stats.changes.all - stats.changes.judged,
            ),
            counter(
                "palisade_watch_interruptions_total",
                "Watches broken and resumed or listed again.",
                stats.interruptions,
            ),
            counter(
                "palisade_watch_scans_total",
                "Scans made.",
                self.scans.load(Ordering::Relaxed),
            ),
            gauge(
                "palisade_watch_scan_milliseconds",
                "How long the last scan took.",
                self.scan_millis.load(Ordering::Relaxed),
            ),
            gauge(
                "palisade_watch_open_findings",
                "Findings open after the last scan.",
                self.open.load(Ordering::Relaxed),
            ),
            gauge(
                "palisade_watch_leading",
                "1 when this replica writes (leads, or no --lease).",
                u64::from(self.leading.load(Ordering::Relaxed)),
            ),
            counter(
                "palisade_watch_publish_failures_total",
                "Policy Report writes that failed.",
                self.publish_failures.load(Ordering::Relaxed),
            ),
        ]
        .concat()
    }
}

pub fn run_watch(args: WatchArgs) -> Result<u8> {
    if args.cluster.include_secret_values {
        eprintln!(
            "palisade: warning: --include-secret-values keeps Secret values in this process's memory"
        );
    }
    let lease = args.lease.as_deref().map(lease_of).transpose()?;
    let mut events = open_events(&args.events)?;
    let mut queue = EventQueue::open(&args)?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    let code = runtime.block_on(watch(&args, lease, &mut *events, queue.as_mut()));
    if let Some(queue) = queue {
        queue.finish();
    }
    code
}

/// The events queued for the sinks (`--sink`), delivered by their own threads.
struct EventQueue {
    streaming: palisade_deliver::Streaming,
    sinks: Vec<String>,
    /// Names this process's events apart from another's: when it started.
    run: i64,
    events: u64,
}

impl EventQueue {
    fn open(args: &WatchArgs) -> Result<Option<EventQueue>> {
        let Some(path) = args.store.as_deref().filter(|_| !args.sinks.is_empty()) else {
            return Ok(None);
        };
        let sinks = crate::audit_cmd::parse_sink_urls(&args.sinks, "PALISADE_WATCH_SINKS")?;
        if let Some(sink) = sinks
            .iter()
            .find(|s| s.format != palisade_audit::format::AlertFormat::Json)
        {
            bail!(
                "--sink {}: watch events are JSON; format= applies to audit alerts",
                sink.label
            );
        }
        drop(crate::audit_cmd::open_store(path)?);
        let names = sinks.iter().map(|s| s.name.clone()).collect();
        let report = Box::new(|round: &palisade_deliver::Round| {
            for error in round.errors() {
                eprintln!(
                    "palisade: warning: delivery failed (retried with backoff): {}",
                    palisade_core::printable(&error)
                );
            }
        });
        Ok(Some(EventQueue {
            streaming: palisade_deliver::Streaming::start(path, sinks, report)?,
            sinks: names,
            run: palisade_core::date::unix_now_micros(),
            events: 0,
        }))
    }

    /// Queues one event for every sink, under an id no other event has.
    fn push(&mut self, event: &Value) -> Result<()> {
        self.events += 1;
        let id = format!("watch/{}/{}", self.run, self.events);
        let body = event.to_string();
        let items = self
            .sinks
            .iter()
            .map(|sink| (sink.clone(), id.clone(), body.clone()))
            .collect();
        if !self.streaming.queue(items) {
            bail!("the sinks' queue stopped taking events (see the error below)");
        }
        Ok(())
    }

    /// Commits what was queued and makes a last delivery round; what is left stays queued
    /// for the next start.
    fn finish(self) {
        if let Err(e) = self.streaming.finish() {
            eprintln!("palisade: error: the sinks' queue: {e}");
        }
    }
}

/// `NAMESPACE/NAME` as the Lease's place.
fn lease_of(text: &str) -> Result<(String, String)> {
    match text.split_once('/') {
        Some((namespace, name))
            if !namespace.is_empty() && !name.is_empty() && !name.contains('/') =>
        {
            Ok((namespace.to_string(), name.to_string()))
        }
        _ => bail!("--lease {text}: expected NAMESPACE/NAME"),
    }
}

fn open_events(target: &str) -> Result<Box<dyn Write + Send>> {
    if target == "-" {
        return Ok(Box::new(std::io::stdout()));
    }
    let mut options = std::fs::OpenOptions::new();
    options.append(true).create(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let file = options
        .open(target)
        .with_context(|| format!("--events {target}"))?;
    Ok(Box::new(std::io::LineWriter::new(file)))
}

/// This replica's default name in a Lease.
fn default_identity() -> String {
    let host = std::env::var("POD_NAME")
        .ok()
        .filter(|n| !n.is_empty())
        .or_else(|| {
            std::fs::read_to_string("/proc/sys/kernel/hostname")
                .ok()
                .map(|h| h.trim().to_string())
        })
        .unwrap_or_else(|| "palisade".into());
    format!("{host}_{}", std::process::id())
}

/// The leader election, run on its own task until told to stop; then it gives back the
/// elector, to release the Lease.
struct Election {
    task: tokio::task::JoinHandle<Elector>,
    stop: tokio::sync::oneshot::Sender<()>,
}

impl Election {
    /// Starts the rounds; `leading` says whether this replica writes (and `metrics` shows
    /// it).
    async fn start(
        args: &WatchArgs,
        (namespace, name): (String, String),
        leading: tokio::sync::watch::Sender<bool>,
        metrics: Arc<WatchMetrics>,
    ) -> Result<Election> {
        let options = LeaseOptions {
            namespace,
            name,
            identity: args.identity.clone().unwrap_or_else(default_identity),
            duration: args.lease_duration,
        };
        let mut elector = Elector::connect(&capture_options(&args.cluster), options).await?;
        let (stop, mut stopped) = tokio::sync::oneshot::channel();
        let task = tokio::spawn(async move {
            let mut said: Option<bool> = None;
            // A failure is said when it starts or changes, not at every round.
            let mut failing: Option<String> = None;
            loop {
                match elector.round().await {
                    Err(e) if failing.as_deref() != Some(e.to_string().as_str()) => {
                        eprintln!("palisade: warning: {e}");
                        failing = Some(e.to_string());
                    }
                    Err(_) => {}
                    Ok(_) => failing = None,
                }
                let now = elector.leading();
                metrics.leading.store(now, Ordering::Relaxed);
                leading.send_if_modified(|was| std::mem::replace(was, now) != now);
                if said != Some(now) {
                    let lease = elector.options();
                    eprintln!(
                        "palisade: {} {} the Lease {}/{}",
                        lease.identity,
                        if now { "holds" } else { "does not hold" },
                        lease.namespace,
                        lease.name
                    );
                    said = Some(now);
                }
                tokio::select! {
                    _ = &mut stopped => return elector,
                    _ = tokio::time::sleep(elector.options().retry_period()) => {}
                }
            }
        });
        Ok(Election { task, stop })
    }

    /// Stops the rounds and gives the Lease up, so another replica takes it at once.
    async fn release(self) {
        let _ = self.stop.send(());
        if let Ok(mut elector) = self.task.await
            && let Err(e) = elector.release().await
        {
            eprintln!("palisade: warning: {e}");
        }
    }
}

/// What one replica has written, to write next only what changed.
#[derive(Default)]
struct Written {
    /// The open findings were written as `open` since this replica leads.
    told: bool,
    reports: Option<Vec<Value>>,
    recorded: bool,
}

async fn watch(
    args: &WatchArgs,
    lease: Option<(String, String)>,
    events: &mut (dyn Write + Send),
    mut queue: Option<&mut EventQueue>,
) -> Result<u8> {
    let options = WatchOptions {
        capture: capture_options(&args.cluster),
        relist: args.relist,
    };
    let watched = palisade_cluster::watch::watch(&options).await?;
    let metrics = Arc::new(WatchMetrics {
        stats: watched.stats_source(),
        scans: AtomicU64::default(),
        scan_millis: AtomicU64::default(),
        open: AtomicU64::default(),
        leading: AtomicBool::default(),
        publish_failures: AtomicU64::default(),
    });
    let ready = Arc::new(palisade_server::health::Health {
        ready: AtomicBool::new(false),
        metrics: metrics.clone(),
    });
    if let Some(address) = args.health_listen {
        let listener = tokio::net::TcpListener::bind(address)
            .await
            .with_context(|| format!("--health-listen {address}"))?;
        let router = palisade_server::health::router(ready.clone());
        tokio::spawn(async move { axum::serve(listener, router).await });
    }
    // Without a Lease this replica always writes; the sender is kept so that the receiver
    // waits rather than ends.
    let (leading, mut leads) = tokio::sync::watch::channel(lease.is_none());
    metrics.leading.store(lease.is_none(), Ordering::Relaxed);
    let (election, _alone) = match lease {
        Some(lease) => (
            Some(Election::start(args, lease, leading, metrics.clone()).await?),
            None,
        ),
        None => (None, Some(leading)),
    };
    let publisher = match args.policy_reports {
        true => Some(Publisher::connect(&options.capture).await?),
        false => None,
    };
    settle_first_lists(
        &watched,
        args.cluster.timeout.unwrap_or(DEFAULT_TIMEOUT),
        &args.cluster.namespaces,
    )
    .await?;
    // The SBOMs and the OSV database, read once.
    let vulnerabilities = tokio::task::block_in_place(|| args.images.load())?;
    let mut open = OpenFindings::default();
    let mut written = Written::default();
    let mut changes = watched.changes();
    // Built-in rules read no object's status but a StatefulSet's: a change of one alone is
    // scanned at the next `--rescan` or change, unless a policy may read it.
    let statuses_read = args.select.may_read_any_status();
    let code = loop {
        let scanned_at = changes.borrow_and_update().count(statuses_read);
        if *leads.borrow_and_update() {
            let mut outputs = Outputs {
                events: &mut *events,
                queue: queue.as_deref_mut(),
                publisher: publisher.as_ref(),
            };
            let scanning = Scanning {
                watched: &watched,
                vulnerabilities: vulnerabilities.as_ref(),
            };
            let report = lead(
                args,
                &scanning,
                &mut open,
                &mut written,
                &mut outputs,
                &metrics,
            )
            .await?;
            if args.once {
                break once_code(&report, args.completeness.allow_incomplete);
            }
        } else {
            // A replica that does not lead only follows the cluster: it scans once it leads,
            // and then tells the whole state.
            (open, written) = (OpenFindings::default(), Written::default());
        }
        ready.ready.store(true, Ordering::Relaxed);
        let waits = Waits {
            settle: args.settle,
            rescan: args.rescan,
            statuses_read,
        };
        if !next_change(&mut changes, &mut leads, scanned_at, waits).await {
            break 0;
        }
    };
    if let Some(election) = election {
        election.release().await;
    }
    Ok(code)
}

/// Where the leader writes.
struct Outputs<'a> {
    events: &'a mut (dyn Write + Send),
    queue: Option<&'a mut EventQueue>,
    publisher: Option<&'a Publisher>,
}

/// What a scan reads: the followed cluster, and the images' flaws when `--sbom` is given.
struct Scanning<'a> {
    watched: &'a Watched,
    vulnerabilities: Option<&'a Arc<palisade_scan::vulnerabilities::Vulnerabilities>>,
}

/// The leader's turn: scans the cluster as held now and writes what changed (events, the
/// sinks' queue, Policy Reports, history).
async fn lead(
    args: &WatchArgs,
    scanning: &Scanning<'_>,
    open: &mut OpenFindings,
    written: &mut Written,
    outputs: &mut Outputs<'_>,
    metrics: &WatchMetrics,
) -> Result<Report> {
    let started = Instant::now();
    let watched = scanning.watched;
    let report = tokio::task::block_in_place(|| scan(args, scanning))?;
    metrics.scans.fetch_add(1, Ordering::Relaxed);
    let millis = u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX);
    metrics.scan_millis.store(millis, Ordering::Relaxed);
    let found = report
        .findings
        .iter()
        .map(crate::history_cmd::recorded)
        .collect();
    let changed = open.update(found, |rule| not_assessed(&report, rule));
    let count = u64::try_from(open.open().count()).unwrap_or(0);
    metrics.open.store(count, Ordering::Relaxed);
    let cluster = watched.context();
    let scanned = Scanned {
        report: &report,
        millis,
        kept: watched.stats(),
    };
    let lines = tell(&cluster, &scanned, open, &changed, written);
    write_events(outputs.events, outputs.queue.as_deref_mut(), &lines)?;
    publish(outputs.publisher, &report, written, metrics).await;
    record(args, &report, &cluster, &changed, written)?;
    Ok(report)
}

/// Waits until every type's first list is read or has failed, at most `timeout`: what is
/// still listing then is scanned as not listed. Then refuses to follow `namespaces` the
/// cluster does not have ([`Watched::has_namespaces`]).
pub(crate) async fn settle_first_lists(
    watched: &Watched,
    timeout: Duration,
    namespaces: &[String],
) -> Result<()> {
    let mut changes = watched.changes();
    let deadline = tokio::time::Instant::now() + timeout;
    while !watched.settled() {
        if tokio::time::timeout_at(deadline, changes.changed())
            .await
            .is_err()
        {
            eprintln!(
                "palisade: warning: {} types were not listed within --timeout {timeout:?}; scanning without them",
                watched.stats().listing
            );
            break;
        }
    }
    watched.has_namespaces(namespaces)?;
    Ok(())
}

/// How the watch waits between scans.
#[derive(Clone, Copy)]
struct Waits {
    /// After a change, before scanning.
    settle: Duration,
    /// Without a change.
    rescan: Duration,
    /// Whether a change of an object's status alone is a change
    /// ([`palisade_cluster::watch::Changes::count`]).
    statuses_read: bool,
}

/// Waits for the next scan: `settle` after a change counted past `scanned_at`, `rescan`
/// without one, at once when this replica comes to lead or stops (what it writes changes).
/// False on SIGINT or SIGTERM.
async fn next_change(
    changes: &mut tokio::sync::watch::Receiver<palisade_cluster::watch::Changes>,
    leads: &mut tokio::sync::watch::Receiver<bool>,
    scanned_at: u64,
    waits: Waits,
) -> bool {
    let rescan = tokio::time::sleep(waits.rescan);
    // One signal listener for the whole wait: one made again at each change could miss a
    // signal sent in between.
    let shutdown = crate::serve_cmd::shutdown_signal();
    tokio::pin!(rescan, shutdown);
    loop {
        tokio::select! {
            _ = &mut shutdown => return false,
            _ = &mut rescan => return true,
            _ = leads.changed() => return true,
            changed = changes.changed() => {
                let counted = changes.borrow_and_update().count(waits.statuses_read);
                if changed.is_err() || counted != scanned_at {
                    break;
                }
            }
        }
    }
    tokio::select! {
        _ = shutdown => false,
        _ = tokio::time::sleep(waits.settle) => true,
    }
}

/// Scans the cluster as followed now, as `scan --cluster` scans one read.
fn scan(args: &WatchArgs, scanning: &Scanning<'_>) -> Result<Report> {
    let start = Instant::now();
    let snapshot = scanning.watched.snapshot();
    let unlisted = snapshot.unlisted();
    let loaded = snapshot.load();
    let mut options = args.select.scan_options(
        palisade_inventory::LoadOptions::default(),
        palisade_policy::EnforcementPoint::Audit,
        Some(&loaded.inventory),
    )?;
    let not_listed: Vec<String> = unlisted.iter().map(|(_, _, why)| why.clone()).collect();
    options.unlisted = unlisted;
    options.whole_cluster = true;
    options.namespaces = args.cluster.namespaces.clone();
    options.vulnerabilities = scanning.vulnerabilities.cloned();
    if let Some(why) = crate::kubelet_configs_unread(&loaded.inventory) {
        options.unlisted.push(why);
    }
    let mut report = palisade_scan::scan_loaded(loaded, &options, start);
    crate::note_not_listed(&mut report, not_listed);
    Ok(report)
}

/// Whether `report` could not judge `rule`: it did not run, or a type it reads was not
/// listed.
fn not_assessed(report: &Report, rule: &str) -> bool {
    report
        .coverage
        .iter()
        .find(|c| c.rule == rule)
        .is_none_or(|c| c.skipped.is_some() || !c.incomplete.is_empty())
}

fn event(kind: &str, cluster: &str, finding: &RecordedFinding) -> Value {
    json!({
        "time": palisade_core::date::utc_now_rfc3339(),
        "event": kind,
        "cluster": cluster,
        "fingerprint": finding.fingerprint,
        "rule": finding.rule,
        "severity": finding.severity,
        "subject": finding.subject,
        "message": finding.message,
    })
}

/// A scan's report, how long it took, and what was kept in memory when it ran.
struct Scanned<'a> {
    report: &'a Report,
    millis: u64,
    kept: WatchStats,
}

/// The scan's events: every open finding once this replica leads (`open`), then what each
/// scan opened and resolved, and a `scan` line.
fn tell(
    cluster: &str,
    scanned: &Scanned<'_>,
    open: &OpenFindings,
    changed: &Changes,
    written: &mut Written,
) -> Vec<Value> {
    let report = scanned.report;
    let mut lines: Vec<Value> = Vec::new();
    if written.told {
        lines.extend(changed.opened.iter().map(|f| event("opened", cluster, f)));
        lines.extend(
            changed
                .resolved
                .iter()
                .map(|f| event("resolved", cluster, f)),
        );
    } else {
        lines.extend(open.open().map(|f| event("open", cluster, f)));
        written.told = true;
    }
    let not_listed: Vec<&str> = report
        .diagnostics
        .iter()
        .filter(|d| d.code == "not-listed")
        .map(|d| d.message.as_str())
        .collect();
    lines.push(json!({
        "time": palisade_core::date::utc_now_rfc3339(),
        "event": "scan",
        "cluster": cluster,
        "objects": report.objects.len(),
        "open": open.open().count(),
        "opened": changed.opened.len(),
        "resolved": changed.resolved.len(),
        "carried": changed.carried,
        "not_listed": not_listed,
        "milliseconds": scanned.millis,
        "kept_objects": scanned.kept.objects,
        "kept_bytes": scanned.kept.bytes,
    }));
    lines
}

/// Writes the events as JSON lines and queues them for the sinks.
fn write_events(
    out: &mut (dyn Write + Send),
    mut queue: Option<&mut EventQueue>,
    lines: &[Value],
) -> Result<()> {
    for line in lines {
        serde_json::to_writer(&mut *out, line).context("cannot write the events")?;
        out.write_all(b"\n").context("cannot write the events")?;
        if let Some(queue) = queue.as_deref_mut() {
            queue.push(line)?;
        }
    }
    out.flush().context("cannot write the events")
}

/// Writes the Policy Reports when they changed (or this replica has just come to lead). A
/// failure is said and counted; the next scan tries again.
async fn publish(
    publisher: Option<&Publisher>,
    report: &Report,
    written: &mut Written,
    metrics: &WatchMetrics,
) {
    let Some(publisher) = publisher else {
        return;
    };
    let reports = palisade_report::policy_report::reports(report);
    if written.reports.as_ref() == Some(&reports) {
        return;
    }
    match publisher.publish(&reports).await {
        Ok(_) => written.reports = Some(reports),
        Err(e) => {
            metrics.publish_failures.fetch_add(1, Ordering::Relaxed);
            eprintln!("palisade: error: Policy Reports: {e}");
        }
    }
}

/// Records the scan in the history when it changed something (and the first time).
fn record(
    args: &WatchArgs,
    report: &Report,
    cluster: &str,
    changed: &Changes,
    written: &mut Written,
) -> Result<()> {
    let Some(path) = &args.history.history else {
        return Ok(());
    };
    if written.recorded && changed.opened.is_empty() && changed.resolved.is_empty() {
        return Ok(());
    }
    args.history.record(report, &format!("watch {cluster}"))?;
    written.recorded = true;
    palisade_store::Store::open(path)
        .and_then(|mut store| store.prune_scan_runs(args.history_keep.max(1)))
        .with_context(|| format!("--history {}", path.display()))?;
    Ok(())
}

/// `--once`'s exit code: 2 when a type could not be listed (unless `--allow-incomplete`).
fn once_code(report: &Report, allow_incomplete: bool) -> u8 {
    let not_read = report.inputs_not_read();
    if not_read > 0 && !allow_incomplete {
        eprintln!(
            "palisade: error: incomplete: {} (see the scan event); --allow-incomplete accepts the run as it is",
            palisade_report::table::not_looked_at(report)
        );
        return crate::EXIT_ERROR;
    }
    0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_lease_is_named_by_namespace_and_name() {
        assert_eq!(
            lease_of("palisade/watch").unwrap(),
            ("palisade".to_string(), "watch".to_string())
        );
        for bad in ["watch", "/watch", "palisade/", "a/b/c"] {
            assert!(lease_of(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn an_identity_names_the_process() {
        assert!(default_identity().ends_with(&format!("_{}", std::process::id())));
    }
}
