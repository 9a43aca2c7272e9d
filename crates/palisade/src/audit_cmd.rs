//! `palisade audit`: detections over API server audit logs, learned baselines, and the
//! detection catalogue.

use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use clap::{Args, Subcommand};
use palisade_audit::format::{AlertFormat, render};
use palisade_audit::input::{self, ReadStats};
use palisade_audit::parallel;
use palisade_audit::{Alert, Baseline, Engine, Event, Selection, Settings};
use palisade_core::Severity;
use palisade_store::Store;

use crate::{ConfigArgs, EXIT_ERROR, EXIT_FINDINGS, parse_fail_on};

#[derive(Subcommand)]
pub enum AuditCommand {
    /// Run the detections over audit logs (JSON lines, EventLists, rotated and .gz files,
    /// GKE/AKS/EKS exports, `-` for stdin) and print or write the alerts. Also spelt
    /// `analyse`.
    #[command(alias = "analyse")]
    Analyze(Box<AnalyzeArgs>),
    /// Learn, show, reset or export behavioural baselines.
    #[command(subcommand)]
    Baseline(BaselineCommand),
    /// List the detections, or print one's documentation.
    Rules(AuditRulesArgs),
    /// Send the alerts waiting in the store's queue to their sinks (retrying with backoff
    /// until the queue is empty or --timeout).
    Deliver(DeliverArgs),
    /// Check an API server audit policy (`--audit-policy-file`): which detections it lets see
    /// what they read, which rule blinds the others, and whether it writes credentials into
    /// the log.
    Coverage(crate::audit_coverage::CoverageArgs),
}

#[derive(Args)]
pub struct SinkArgs {
    /// Deliver alerts to a sink, through the store's queue (at least once): `file:///path`,
    /// `syslog+tcp://host:514`, `syslog+tls://host:6514`, `https://host/hook`,
    /// `slack+https://hooks.slack.com/...`, `splunk+https://host:8088?token_env=VAR`,
    /// `elasticsearch+https://host:9200?api_key_env=VAR`; `?format=` and `?ca=` apply to all.
    /// Repeat for several. A URL that is a credential (a Slack webhook's) belongs in the
    /// environment variable (space-separated), which other users cannot read.
    #[arg(
        long = "sink",
        value_name = "URL",
        env = "PALISADE_AUDIT_SINKS",
        value_delimiter = ' '
    )]
    pub sinks: Vec<String>,
}

#[derive(Args)]
pub struct DeliverArgs {
    #[command(flatten)]
    sinks: SinkArgs,
    #[command(flatten)]
    store: StoreArgs,
    /// Give up after this many seconds; what is left stays queued.
    #[arg(
        long,
        default_value_t = 60,
        env = "PALISADE_AUDIT_DELIVER_TIMEOUT",
        value_name = "SECONDS"
    )]
    timeout: u64,
}

#[derive(Args)]
pub struct StoreArgs {
    /// The SQLite store holding baselines and the delivery queue.
    #[arg(
        long,
        value_name = "FILE",
        default_value = "palisade.db",
        env = "PALISADE_STORE"
    )]
    pub store: PathBuf,
}

#[derive(Args)]
pub struct AnalyzeArgs {
    /// Audit log files or directories (rotated files are read oldest first); `-` reads
    /// standard input.
    #[arg(required = true, value_name = "FILE")]
    paths: Vec<PathBuf>,
    /// Keep reading the file as it grows (and across rotation) until interrupted.
    #[arg(long, env = "PALISADE_AUDIT_FOLLOW", value_parser = clap::builder::BoolishValueParser::new())]
    follow: bool,
    /// Alert format, optionally to a file: text (default), json, ocsf, ecs, cef; `-o FORMAT=FILE`.
    /// Repeat for several.
    #[arg(
        short = 'o',
        long = "output",
        value_name = "FORMAT[=FILE]",
        env = "PALISADE_AUDIT_OUTPUT",
        value_delimiter = ','
    )]
    outputs: Vec<String>,
    #[command(flatten)]
    detect: DetectionArgs,
    #[command(flatten)]
    selection: SelectionArgs,
    /// Exit 1 when an alert at or above this severity was raised (`none` never).
    #[arg(
        long,
        default_value = "high",
        env = "PALISADE_AUDIT_FAIL_ON",
        value_name = "SEVERITY"
    )]
    fail_on: String,
    /// Accept a run in which some input could not be read, or some requests were logged
    /// below the audit level a detection reads (exit 0/1 instead of 2).
    #[arg(long, env = "PALISADE_ALLOW_INCOMPLETE", value_parser = clap::builder::BoolishValueParser::new())]
    allow_incomplete: bool,
    /// Threads that analyse files (default: one per core); the alerts and their order are
    /// the same with any number. Standard input and `--follow` are analysed as they come,
    /// on one.
    #[arg(long, env = "PALISADE_AUDIT_THREADS", value_name = "N", value_parser = clap::value_parser!(u16).range(1..=256))]
    threads: Option<u16>,
}

/// Which detections run.
#[derive(Args)]
pub struct SelectionArgs {
    /// Only these detections (ids or slugs, comma-separated).
    #[arg(
        long,
        value_delimiter = ',',
        env = "PALISADE_AUDIT_RULES",
        value_name = "IDS"
    )]
    rules: Vec<String>,
    /// Not these detections (those you accept blind, say).
    #[arg(
        long,
        value_delimiter = ',',
        env = "PALISADE_AUDIT_SKIP_RULES",
        value_name = "IDS"
    )]
    skip_rules: Vec<String>,
}

impl SelectionArgs {
    /// The selection; a name no detection has is an error, never an empty selection.
    pub fn selection(&self) -> Result<Selection> {
        for name in self.rules.iter().chain(&self.skip_rules) {
            if palisade_audit::registry::find(name).is_none() {
                bail!("unknown detection `{name}` (see `palisade audit rules`)");
            }
        }
        Ok(Selection {
            only: self.rules.clone(),
            skip: self.skip_rules.clone(),
        })
    }
}

/// What analysis and the receiver share: settings, the store and its baseline, the sinks,
/// and the inventory that gives alerts context.
#[derive(Args)]
pub struct DetectionArgs {
    /// Compare each identity with its learned baseline (from --store) and report first-seen
    /// behaviour (AUD036).
    #[arg(long, env = "PALISADE_AUDIT_BASELINE", value_parser = clap::builder::BoolishValueParser::new())]
    baseline: bool,
    #[command(flatten)]
    pub store: StoreArgs,
    #[command(flatten)]
    pub sinks: SinkArgs,
    #[command(flatten)]
    config: ConfigArgs,
    /// Manifests or a snapshot that give alerts context (a pod's workload, its service
    /// account and what it reaches, internet exposure, namespace criticality; read once).
    /// Repeatable.
    #[arg(
        long,
        value_name = "PATH",
        env = "PALISADE_AUDIT_INVENTORY",
        value_delimiter = ','
    )]
    inventory: Vec<String>,
    /// Read the context from the live cluster instead (`--cluster`, with the usual
    /// kubeconfig flags).
    #[command(flatten)]
    live: crate::analysis_input::LiveArgs,
    /// The cluster's admission policies (Gatekeeper ConstraintTemplates and Constraints,
    /// ValidatingAdmissionPolicies with their bindings; files or directories), read with the
    /// context: what a pod's account reaches counts "create pods → a node" only where they let
    /// a pod that owns its node in, as `palisade scan --policy` does. Repeatable.
    #[arg(
        long = "admission-policy",
        value_name = "PATH",
        env = "PALISADE_AUDIT_ADMISSION_POLICY",
        value_delimiter = ','
    )]
    admission_policies: Vec<PathBuf>,
    /// Also read the admission policies the context holds (its snapshot's or live cluster's).
    #[arg(
        long = "context-cluster-policies",
        env = "PALISADE_AUDIT_CONTEXT_CLUSTER_POLICIES"
    )]
    context_cluster_policies: bool,
    /// Threat-intelligence file: a STIX 2.1 bundle or TAXII envelope, or a list of
    /// addresses, CIDRs and domains (`image: ...`, `user-agent: ...`, `user: ...` for other
    /// kinds). Requests from what it names (AUD050) and pods running it (AUD051) are
    /// reported. Repeatable; added to `[audit] threat_intel`.
    #[arg(
        long,
        value_name = "FILE",
        env = "PALISADE_AUDIT_THREAT_INTEL",
        value_delimiter = ','
    )]
    threat_intel: Vec<PathBuf>,
}

impl DetectionArgs {
    /// The `[audit]` settings of the configuration file, with the threat intelligence of the
    /// file and of `--threat-intel` read.
    pub fn settings(&self) -> Result<Settings> {
        settings_with_intel(&self.config, &self.threat_intel)
    }

    /// The learned baseline, when `--baseline` asks for it; an empty one is an error.
    pub fn baseline(&self) -> Result<Option<Baseline>> {
        if !self.baseline {
            return Ok(None);
        }
        let baseline = open_store(&self.store.store)?.load_baseline()?;
        if baseline.identities.is_empty() {
            bail!(
                "--baseline: the store {} holds no baseline; learn one first with `palisade audit baseline learn`",
                self.store.store.display()
            );
        }
        Ok(Some(baseline))
    }

    /// The enricher of `--inventory`/`--cluster`, when one was asked for; `allow_incomplete`
    /// accepts an inventory of which some input could not be read.
    /// `palisade.toml`'s `[criticality]` alone makes one too: alerts in the namespaces it names
    /// carry their level.
    pub fn enricher(
        &self,
        allow_incomplete: bool,
    ) -> Result<Option<palisade_audit::enrich::Enricher>> {
        let (configured, ingress) = match self.config.path() {
            Some(path) => (
                palisade_k8s::criticality::Configured::load(&path)?,
                palisade_net::IngressPlacement::load(&path)?,
            ),
            None => Default::default(),
        };
        if self.inventory.is_empty() && !self.live.cluster {
            // Flags typed for a cluster read refuse to be ignored.
            crate::analysis_input::load_objects_if_live(&self.live)?;
            if !self.admission_policies.is_empty() || self.context_cluster_policies {
                bail!(
                    "--admission-policy and --context-cluster-policies apply to the context: give --inventory or --cluster"
                );
            }
            return Ok((configured != Default::default()).then(|| {
                palisade_audit::enrich::Enricher::default().with_criticality(configured)
            }));
        }
        let load = crate::LoadArgs {
            paths: self.inventory.clone(),
            ..crate::LoadArgs::for_path(std::path::Path::new("."))
        };
        let completeness = crate::analysis_input::Completeness { allow_incomplete };
        // Context only: what a cluster would not list is warned about, and alerts go on.
        let (loaded, _, _) =
            crate::analysis_input::load_objects(&load, &self.live, completeness, &[])?;
        let asker = crate::admission_asker(
            &self.admission_policies,
            self.context_cluster_policies,
            &loaded.inventory,
        )?;
        Ok(Some(
            palisade_audit::enrich::Enricher::from_inventory_asking(
                &loaded.inventory,
                asker
                    .as_ref()
                    .map(|a| a as &dyn palisade_rbac::graph::AdmissionAsker),
                &ingress,
            )
            .with_criticality(configured),
        ))
    }
}

#[derive(Subcommand)]
pub enum BaselineCommand {
    /// Learn from audit logs: per identity, the requests, source addresses and user agents
    /// seen; merged into what the store already holds.
    Learn(LearnArgs),
    /// What was learned, per identity.
    Show(ShowArgs),
    /// Forget what was learned (of one identity, or all).
    Reset(ResetArgs),
    /// Write the baseline as JSON.
    Export(ExportArgs),
}

#[derive(Args)]
pub struct LearnArgs {
    #[arg(required = true, value_name = "FILE")]
    paths: Vec<PathBuf>,
    #[command(flatten)]
    store: StoreArgs,
    /// Threads that read files (default: one per core); what is learned is the same with
    /// any number. Standard input is read on one.
    #[arg(long, env = "PALISADE_AUDIT_THREADS", value_name = "N", value_parser = clap::value_parser!(u16).range(1..=256))]
    threads: Option<u16>,
}

#[derive(Args)]
pub struct ShowArgs {
    /// Only this identity (`system:serviceaccount:NS:NAME`, a user name).
    #[arg(long, value_name = "NAME", env = "PALISADE_AUDIT_IDENTITY")]
    identity: Option<String>,
    /// `text` or `json`.
    #[arg(short = 'o', long = "output", default_value = "text", value_parser = ["text", "json"], env = "PALISADE_AUDIT_BASELINE_OUTPUT")]
    output: String,
    #[command(flatten)]
    store: StoreArgs,
}

#[derive(Args)]
pub struct ResetArgs {
    /// Only this identity.
    #[arg(long, value_name = "NAME", env = "PALISADE_AUDIT_IDENTITY")]
    identity: Option<String>,
    #[command(flatten)]
    store: StoreArgs,
}

#[derive(Args)]
pub struct ExportArgs {
    #[command(flatten)]
    store: StoreArgs,
}

#[derive(Args)]
pub struct AuditRulesArgs {
    /// A detection's id or slug: print its documentation.
    id: Option<String>,
    /// `text` or `json`.
    #[arg(short = 'o', long = "output", default_value = "text", value_parser = ["text", "json"], env = "PALISADE_AUDIT_RULES_OUTPUT")]
    output: String,
}

pub fn run(command: AuditCommand) -> Result<u8> {
    match command {
        AuditCommand::Analyze(args) => analyze(&args),
        AuditCommand::Baseline(BaselineCommand::Learn(args)) => learn(&args),
        AuditCommand::Baseline(BaselineCommand::Show(args)) => show(&args),
        AuditCommand::Baseline(BaselineCommand::Reset(args)) => reset(&args),
        AuditCommand::Baseline(BaselineCommand::Export(args)) => export(&args),
        AuditCommand::Rules(args) => rules(&args),
        AuditCommand::Deliver(args) => deliver_queued(&args),
        AuditCommand::Coverage(args) => crate::audit_coverage::run(&args),
    }
}

/// The `[audit]` settings of the configuration file, with the threat intelligence it names
/// read.
pub fn settings(config: &ConfigArgs) -> Result<Settings> {
    settings_with_intel(config, &[])
}

/// The `[audit]` settings of the configuration file, with the threat intelligence it names
/// (relative to it) and `more` read: entries not read are warned about with their place, and
/// the indicators read are counted on standard error.
fn settings_with_intel(config: &ConfigArgs, more: &[PathBuf]) -> Result<Settings> {
    let (mut settings, base) = match config.path() {
        Some(path) => {
            let base = path.parent().map(Path::to_path_buf).unwrap_or_default();
            (Settings::load(&path)?, base)
        }
        None => (Settings::default(), PathBuf::new()),
    };
    let problems = settings
        .read_threat_intel(&base, more)
        .context("threat intelligence")?;
    for problem in problems.iter().take(MAX_INTEL_PROBLEMS) {
        eprintln!("palisade: warning: threat intelligence: {problem}");
    }
    if problems.len() > MAX_INTEL_PROBLEMS {
        eprintln!(
            "palisade: warning: threat intelligence: {} more entries not read",
            problems.len() - MAX_INTEL_PROBLEMS
        );
    }
    if !settings.intel.is_empty() {
        eprintln!(
            "palisade: threat intelligence: {}",
            intel_summary(&settings.intel, problems.len())
        );
    }
    Ok(settings)
}

/// Entries not read that are named one by one.
const MAX_INTEL_PROBLEMS: usize = 20;

/// "1,204 values indexed (1,200 addresses, 4 domains); 3 indicators revoked, 2 unsupported".
fn intel_summary(intel: &palisade_intel::Indicators, not_read: usize) -> String {
    let counts = intel.counts();
    let kinds: Vec<String> = [
        (counts.addresses, "address", "addresses"),
        (counts.domains, "domain", "domains"),
        (counts.images, "image", "images"),
        (counts.user_agents, "user agent", "user agents"),
        (counts.users, "account", "accounts"),
    ]
    .into_iter()
    .filter(|(n, _, _)| *n > 0)
    .map(|(n, one, many)| format!("{n} {}", if n == 1 { one } else { many }))
    .collect();
    let total = counts.total();
    let skipped = intel.skipped;
    let mut left: Vec<String> = Vec::new();
    if skipped.revoked > 0 {
        left.push(format!("{} revoked", skipped.revoked));
    }
    if skipped.older_versions > 0 {
        left.push(format!("{} older versions", skipped.older_versions));
    }
    if not_read > 0 {
        left.push(format!("{not_read} not read (above)"));
    }
    let values = if total == 1 { "value" } else { "values" };
    let mut text = format!("{total} {values} to match ({})", kinds.join(", "));
    if !left.is_empty() {
        text.push_str(&format!("; left out: {}", left.join(", ")));
    }
    text
}

/// An alert as the outputs and sinks take it, made on the thread that gave it.
struct Prepared {
    severity: Severity,
    id: String,
    /// Rendered in each output's format.
    outputs: Vec<String>,
    /// Each sink's body.
    sinks: Vec<String>,
}

/// Where alerts go: each format to stdout or a file.
struct Outputs {
    writers: Vec<(AlertFormat, Box<dyn Write + Send>)>,
}

impl Outputs {
    fn open(specs: &[String]) -> Result<Outputs> {
        let parsed = crate::parse_outputs(specs, "text", |name| {
            AlertFormat::parse(name).with_context(|| {
                format!(
                    "unknown format `{name}` (one of {})",
                    AlertFormat::NAMES.join(", ")
                )
            })
        })?;
        let mut writers: Vec<(AlertFormat, Box<dyn Write + Send>)> = Vec::new();
        for (format, file) in parsed {
            // Alerts stream (--follow, stdin), so files are written as they come.
            let writer: Box<dyn Write + Send> = match file {
                Some(path) => Box::new(std::io::BufWriter::new(
                    std::fs::File::create(&path)
                        .with_context(|| format!("cannot write {}", path.display()))?,
                )),
                None => Box::new(std::io::stdout()),
            };
            writers.push((format, writer));
        }
        Ok(Outputs { writers })
    }

    fn formats(&self) -> Vec<AlertFormat> {
        self.writers.iter().map(|(format, _)| *format).collect()
    }

    /// Writes an alert rendered in each output's format, in the order of [`Outputs::formats`].
    fn write(&mut self, rendered: &[String]) -> std::io::Result<()> {
        for ((_, writer), text) in self.writers.iter_mut().zip(rendered) {
            writeln!(writer, "{text}")?;
        }
        Ok(())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        for (_, writer) in &mut self.writers {
            writer.flush()?;
        }
        Ok(())
    }
}

fn analyze(args: &AnalyzeArgs) -> Result<u8> {
    let fail_on = parse_fail_on(&args.fail_on)?;
    let settings = args.detect.settings()?;
    let baseline = args.detect.baseline()?;
    let selection = args.selection.selection()?;
    let idle = palisade_audit::engine::named_but_idle(&settings, &selection, baseline.is_some());
    if !idle.is_empty() {
        bail!("asked for with --rules but cannot run: {}", idle.join("; "));
    }
    if args.follow && (args.paths.len() != 1 || args.paths[0].as_os_str() == "-") {
        bail!("--follow reads one file (standard input is read as it comes without it)");
    }
    let sinks = parse_sinks(&args.detect.sinks)?;
    let enricher = args.detect.enricher(args.allow_incomplete)?;
    let mut outputs = Outputs::open(&args.outputs)?;
    let mut engine = Engine::new(settings, baseline, &selection);
    let files = input::expand(&args.paths)?;
    let mut stats = ReadStats::default();
    let mut not_read = 0;
    let mut by_severity = [0u64; 5];
    let mut failing = 0u64;
    let mut write_error: Option<std::io::Error> = None;
    let streaming = args.follow || files.iter().any(|f| f.as_os_str() == "-");
    let mut queue = AlertQueue::open(args, &sinks, streaming)?;
    // Set when an alert could not be queued or written.
    let broken = std::sync::atomic::AtomicBool::new(false);
    {
        let formats = outputs.formats();
        // What needs no order is done on the thread that gave the alert.
        let prepare = |mut alert: Alert| {
            if let Some(enricher) = &enricher {
                enricher.enrich(&mut alert);
            }
            Prepared {
                severity: alert.severity,
                outputs: formats.iter().map(|f| render(&alert, *f)).collect(),
                sinks: sinks.iter().map(|sink| sink.body(&alert)).collect(),
                id: alert.id,
            }
        };
        let mut handle = |alert: Prepared| {
            by_severity[severity_index(alert.severity)] += 1;
            if fail_on.is_some_and(|t| alert.severity >= t) {
                failing += 1;
            }
            let queued = queue.push(
                sinks
                    .iter()
                    .zip(alert.sinks)
                    .map(|(sink, body)| (sink.name.clone(), alert.id.clone(), body))
                    .collect(),
            );
            if write_error.is_none() {
                let written = outputs
                    .write(&alert.outputs)
                    .and_then(|()| if streaming { outputs.flush() } else { Ok(()) });
                if let Err(e) = written {
                    write_error = Some(e);
                }
            }
            // Alerts that can go nowhere end a stream that would otherwise go on without them.
            if !queued || write_error.is_some() {
                broken.store(true, std::sync::atomic::Ordering::Relaxed);
            }
        };
        // What streams is analysed as it comes; files are read on every core.
        let errors = if streaming {
            // A signal ends the stream as its end would.
            let stop = stopped_by_signal()?;
            let stopped = || {
                stop.load(std::sync::atomic::Ordering::Relaxed)
                    || broken.load(std::sync::atomic::Ordering::Relaxed)
            };
            let mut handle = |alert| handle(prepare(alert));
            let mut sink = parallel::handing(&mut engine, &mut handle);
            files
                .iter()
                .filter_map(|file| {
                    if args.follow {
                        if !file.exists() {
                            // As `tail -F`: the log may be made later (an API server starting).
                            eprintln!(
                                "palisade: {} does not exist yet; waiting for it",
                                palisade_core::printable(&file.display().to_string())
                            );
                        }
                        input::follow(file, &mut stats, &mut sink, &stopped)
                    } else {
                        input::read_path_until(file, &mut stats, &mut sink, &stopped)
                    }
                    .err()
                })
                .collect()
        } else {
            let threads = args
                .threads
                .map_or_else(palisade_core::parallel::cores, usize::from);
            parallel::analyze_files_prepared(
                &mut engine,
                &files,
                threads,
                &mut stats,
                &prepare,
                &mut handle,
            )
        };
        for error in errors {
            not_read += 1;
            crate::print_error(&anyhow::Error::from(error));
        }
    }
    if let Some(error) = write_error {
        return Err(error).context("cannot write the alerts");
    }
    if let Some((mut store, mut sinks)) = queue.finish(sinks)?
        && !flush_queue(&mut store, &mut sinks, std::time::Duration::from_secs(30))?
    {
        summarise(&stats, &engine, &by_severity);
        return Ok(EXIT_ERROR);
    }
    outputs.flush().context("cannot write the alerts")?;
    summarise(&stats, &engine, &by_severity);
    Ok(verdict(args, &stats, &engine, not_read, failing))
}

/// The exit code of an analysis once its alerts are out: an error when nothing was analysed,
/// an input could not be read or a detection could not judge every request (unless
/// `--allow-incomplete`), else whether an alert reached `--fail-on`.
fn verdict(
    args: &AnalyzeArgs,
    stats: &ReadStats,
    engine: &Engine,
    not_read: usize,
    failing: u64,
) -> u8 {
    if stats.events == 0 {
        eprintln!("palisade: error: nothing analysed: no audit event in the input");
        return EXIT_ERROR;
    }
    if not_read > 0 && !args.allow_incomplete {
        eprintln!(
            "palisade: error: incomplete: {} could not be read; --allow-incomplete accepts the run as it is",
            palisade_report::table::plural(not_read, "input")
        );
        return EXIT_ERROR;
    }
    let blind = report_not_assessed(engine);
    if !blind.is_empty() && !args.allow_incomplete {
        eprintln!(
            "palisade: error: incomplete: {} could not judge every request shown to {}: \
             the audit policy logs them below the level {}. Raise the policy's level for those \
             requests (`palisade audit coverage --policy FILE --suggest` prints the rules to \
             put first), skip the detections you accept blind (--skip-rules {}), or \
             --allow-incomplete accepts the run as it is",
            palisade_report::table::plural(blind.len(), "detection"),
            if blind.len() == 1 { "it" } else { "them" },
            if blind.len() == 1 {
                "it reads"
            } else {
                "they read"
            },
            blind.join(","),
        );
        return EXIT_ERROR;
    }
    if failing > 0 { EXIT_FINDINGS } else { 0 }
}

/// Says which detections could not judge some requests (logged below the audit level they
/// read), how many and which; returns their ids.
fn report_not_assessed(engine: &Engine) -> Vec<String> {
    let mut detections = Vec::new();
    for unjudged in engine.not_assessed() {
        detections.push(unjudged.rule.id.to_string());
        let requests: Vec<String> = unjudged
            .by_request
            .iter()
            .map(|(request, n)| format!("{n} {request}"))
            .collect();
        let truncated = match unjudged.truncated {
            0 => String::new(),
            n if n == unjudged.requests => {
                "; the audit backend truncated them (too large: their objects were dropped)"
                    .to_string()
            }
            n => format!(
                "; the audit backend truncated {n} of them (too large: their objects were dropped)"
            ),
        };
        eprintln!(
            "palisade: not assessed: {} {} could not judge {} ({}{}) logged at {}: it reads {}{truncated}",
            unjudged.rule.id,
            unjudged.rule.slug,
            counted(unjudged.requests, "request", "requests"),
            requests.join(", "),
            if unjudged.by_request.values().sum::<u64>() < unjudged.requests {
                ", ..."
            } else {
                ""
            },
            unjudged.logged_at,
            unjudged.needs,
        );
    }
    detections
}

fn severity_index(severity: Severity) -> usize {
    match severity {
        Severity::Critical => 0,
        Severity::High => 1,
        Severity::Medium => 2,
        Severity::Low => 3,
        Severity::Info => 4,
    }
}

/// The first lines of the input that were not audit events, on standard error.
pub(crate) fn warn_of_problems(stats: &ReadStats) {
    const SHOWN: usize = 10;
    for problem in stats.problems.iter().take(SHOWN) {
        eprintln!("palisade: warning: {problem}");
    }
    if stats.malformed > SHOWN as u64 {
        eprintln!(
            "palisade: warning: ... and {} more lines that are not audit events",
            stats.malformed - SHOWN as u64
        );
    }
}

/// The run's counts on standard error, with the first problems.
fn summarise(stats: &ReadStats, engine: &Engine, by_severity: &[u64; 5]) {
    warn_of_problems(stats);
    let names = ["critical", "high", "medium", "low", "info"];
    let counts: Vec<String> = names
        .iter()
        .zip(by_severity)
        .filter(|(_, n)| **n > 0)
        .map(|(name, n)| format!("{n} {name}"))
        .collect();
    eprintln!(
        "palisade: {} read from {} ({} analysed, {}), {}{}",
        counted(stats.events, "event", "events"),
        counted(stats.files, "file", "files"),
        engine.counts().analysed,
        counted(stats.malformed, "line not an event", "lines not events"),
        counted(engine.counts().alerts, "alert", "alerts"),
        if counts.is_empty() {
            String::new()
        } else {
            format!(" ({})", counts.join(", "))
        }
    );
}

/// `1 event`, `2 events`.
fn counted(n: u64, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

fn learn(args: &LearnArgs) -> Result<u8> {
    let mut baseline = Baseline::default();
    let mut stats = ReadStats::default();
    let files = input::expand(&args.paths)?;
    let threads = match files.iter().any(|f| f.as_os_str() == "-") {
        true => 1,
        false => args
            .threads
            .map_or_else(palisade_core::parallel::cores, usize::from),
    };
    // Requests are learned from the stages that carry their outcome, as analysed.
    let keep = |event: &Event| event.stage() != "RequestReceived";
    let (errors, learned) =
        parallel::learn_files(&mut baseline, &files, threads, &mut stats, &keep);
    let not_read = errors.len();
    for error in errors {
        crate::print_error(&anyhow::Error::from(error));
    }
    for problem in stats.problems.iter().take(10) {
        eprintln!("palisade: warning: {problem}");
    }
    if learned == 0 {
        eprintln!("palisade: error: nothing learned: no audit event in the input");
        return Ok(EXIT_ERROR);
    }
    let mut store = open_store(&args.store.store)?;
    store.save_baseline(&baseline)?;
    eprintln!(
        "palisade: learned {} of {} into {} ({})",
        counted(learned, "event", "events"),
        counted(baseline.identities.len() as u64, "identity", "identities"),
        args.store.store.display(),
        counted(stats.malformed, "line not an event", "lines not events")
    );
    Ok(if not_read > 0 { EXIT_ERROR } else { 0 })
}

fn stored(store: &StoreArgs) -> Result<Baseline> {
    if !store.store.exists() {
        bail!(
            "no store at {} (learn a baseline first, or give --store)",
            store.store.display()
        );
    }
    Ok(open_store(&store.store)?.load_baseline()?)
}

fn show(args: &ShowArgs) -> Result<u8> {
    let mut baseline = stored(&args.store)?;
    if let Some(identity) = &args.identity {
        let Some(profile) = baseline.identities.remove(identity) else {
            bail!("no identity `{identity}` in the baseline (see `palisade audit baseline show`)");
        };
        baseline.identities = [(identity.clone(), profile)].into_iter().collect();
    }
    let mut out = std::io::stdout().lock();
    if args.output == "json" {
        serde_json::to_writer_pretty(&mut out, &baseline)?;
        writeln!(out)?;
        return Ok(0);
    }
    if baseline.identities.is_empty() {
        writeln!(out, "The baseline is empty.")?;
    }
    for (identity, profile) in &baseline.identities {
        writeln!(
            out,
            "{identity}: {} events, {} request shapes, {} addresses, {} user agents, confidence {:.2}",
            profile.events,
            profile.behaviours.len(),
            profile.source_ips.len(),
            profile.user_agents.len(),
            profile.confidence()
        )?;
        if args.identity.is_some() {
            for behaviour in &profile.behaviours {
                writeln!(out, "  {}", behaviour.describe())?;
            }
            for ip in &profile.source_ips {
                writeln!(out, "  from {ip}")?;
            }
            for agent in &profile.user_agents {
                writeln!(out, "  with {agent}")?;
            }
        }
    }
    Ok(0)
}

fn reset(args: &ResetArgs) -> Result<u8> {
    if !args.store.store.exists() {
        bail!("no store at {}", args.store.store.display());
    }
    let mut store = open_store(&args.store.store)?;
    let removed = store.reset_baseline(args.identity.as_deref())?;
    if let Some(identity) = &args.identity
        && removed == 0
    {
        bail!("no identity `{identity}` in the baseline");
    }
    eprintln!("palisade: forgot {removed} identities");
    Ok(0)
}

fn export(args: &ExportArgs) -> Result<u8> {
    let baseline = stored(&args.store)?;
    let mut out = std::io::stdout().lock();
    serde_json::to_writer_pretty(&mut out, &baseline)?;
    writeln!(out)?;
    Ok(0)
}

fn rules(args: &AuditRulesArgs) -> Result<u8> {
    let mut out = std::io::stdout().lock();
    if let Some(id) = &args.id {
        let detection = palisade_audit::registry::find(id)
            .with_context(|| format!("unknown detection `{id}` (see `palisade audit rules`)"))?;
        let meta = detection.meta();
        if args.output == "json" {
            serde_json::to_writer_pretty(&mut out, meta)?;
            writeln!(out)?;
        } else {
            writeln!(
                out,
                "{} {} ({})\n",
                meta.id,
                meta.title,
                meta.severity.as_str()
            )?;
            let triggers: Vec<String> = detection.triggers.iter().map(|t| t.describe()).collect();
            writeln!(out, "Looks at: {}.\n", triggers.join(", "))?;
            write!(out, "{}", meta.docs)?;
        }
        return Ok(0);
    }
    let metas: Vec<_> = palisade_audit::registry::DETECTIONS
        .iter()
        .map(|d| d.meta())
        .collect();
    if args.output == "json" {
        serde_json::to_writer_pretty(&mut out, &metas)?;
        writeln!(out)?;
        return Ok(0);
    }
    let table = palisade_report::answer::Table {
        indent: 0,
        widths: Vec::new(),
        header: Some(vec![
            "ID".into(),
            "SEVERITY".into(),
            "MITRE".into(),
            "TITLE".into(),
        ]),
        rows: metas
            .iter()
            .map(|meta| {
                let techniques: Vec<&str> = meta.controls.iter().map(|c| c.id.as_ref()).collect();
                vec![
                    meta.id.to_string(),
                    meta.severity.as_str().to_string(),
                    techniques.join(","),
                    meta.title.to_string(),
                ]
            })
            .collect(),
    };
    let mut document = palisade_report::answer::Document::new();
    document.table(table);
    palisade_report::answer::write_text(&document, &mut out)?;
    Ok(0)
}

/// Opens (creating it, owner-only) the store at `path`; says once when others may read it.
pub(crate) fn open_store(path: &Path) -> Result<Store> {
    static WARNED: std::sync::Once = std::sync::Once::new();
    let store = Store::open(path)?;
    if palisade_store::readable_by_others(path) {
        WARNED.call_once(|| {
            eprintln!(
                "palisade: warning: {} can be read by others than its owner; it holds audit batches, alerts and baselines (`chmod 600` it, and its -wal and -shm files)",
                palisade_core::printable(&path.display().to_string())
            );
        });
    }
    Ok(store)
}

pub fn parse_sinks(args: &SinkArgs) -> Result<Vec<palisade_deliver::Sink>> {
    parse_sink_urls(&args.sinks, "PALISADE_AUDIT_SINKS")
}

/// The sinks of `--sink` URLs (`variable` is where they may be given instead): each once,
/// with a warning when one that may be a credential was typed on the command line.
pub(crate) fn parse_sink_urls(
    urls: &[String],
    variable: &str,
) -> Result<Vec<palisade_deliver::Sink>> {
    let mut sinks = Vec::new();
    for spec in urls.iter().filter(|s| !s.trim().is_empty()) {
        let sink = palisade_deliver::Sink::parse(spec)?;
        if sinks
            .iter()
            .any(|s: &palisade_deliver::Sink| s.name == sink.name)
        {
            bail!("--sink {}: given twice", sink.label);
        }
        sinks.push(sink);
    }
    warn_of_typed_credentials(&sinks, variable);
    Ok(sinks)
}

/// A sink URL whose label hides part of it (a webhook's path, a password) may be a
/// credential; typed on the command line it is readable by every user of the machine
/// (`/proc/PID/cmdline`, `ps`) and by whoever reads the pod's spec. Said once per process.
fn warn_of_typed_credentials(sinks: &[palisade_deliver::Sink], variable: &str) {
    static SAID: std::sync::Once = std::sync::Once::new();
    if !crate::cluster_cmd::typed(!sinks.is_empty(), variable) {
        return;
    }
    let hidden: Vec<&str> = sinks
        .iter()
        .filter(|sink| sink.label_hides_part())
        .map(|sink| sink.label.as_str())
        .collect();
    if hidden.is_empty() {
        return;
    }
    SAID.call_once(|| {
        eprintln!(
            "palisade: warning: --sink {} is on the command line, which other users of this machine can read (`ps`) and a pod's spec shows; if the URL is a credential (a Slack, Teams or Discord webhook, a password), give the sinks in {variable} instead (in a pod, from a Secret)",
            hidden.join(", ")
        );
    });
}

/// A flag SIGINT or SIGTERM sets, so that a stream (`--follow`, standard input) ends as a
/// file does: what was read is analysed, its alerts queued and delivered, and the summary
/// printed.
fn stopped_by_signal() -> Result<std::sync::Arc<std::sync::atomic::AtomicBool>> {
    let flag = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let set = flag.clone();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("cannot watch for signals")?;
    std::thread::spawn(move || {
        runtime.block_on(crate::serve_cmd::shutdown_signal());
        set.store(true, std::sync::atomic::Ordering::Relaxed);
    });
    Ok(flag)
}

/// Where the alerts for sinks go while a log is analysed.
enum AlertQueue {
    /// No sink.
    Off,
    /// Files: committed a thousand at a time, delivered once they are read.
    Batched {
        store: Store,
        pending: Vec<palisade_deliver::stream::Item>,
        error: Option<palisade_store::StoreError>,
    },
    /// A stream (`--follow`, standard input), which may never end: committed as they come
    /// and delivered while it goes on.
    Streaming {
        store: Store,
        streaming: palisade_deliver::Streaming,
    },
}

impl AlertQueue {
    fn open(
        args: &AnalyzeArgs,
        sinks: &[palisade_deliver::Sink],
        streaming: bool,
    ) -> Result<AlertQueue> {
        if sinks.is_empty() {
            return Ok(AlertQueue::Off);
        }
        let path = &args.detect.store.store;
        let store = open_store(path)?;
        if !streaming {
            return Ok(AlertQueue::Batched {
                store,
                pending: Vec::new(),
                error: None,
            });
        }
        // The delivery thread's own sinks (a sink keeps its connection and what it awaits).
        let delivering = parse_sinks(&args.detect.sinks)?;
        let report = Box::new(|round: &palisade_deliver::Round| {
            for error in round.errors() {
                eprintln!(
                    "palisade: warning: delivery failed (retried with backoff): {}",
                    palisade_core::printable(&error)
                );
            }
        });
        Ok(AlertQueue::Streaming {
            store,
            streaming: palisade_deliver::Streaming::start(path, delivering, report)?,
        })
    }

    /// Queues an alert's bodies, one per sink; `false` once the queue cannot take them (why
    /// is said when it is finished).
    fn push(&mut self, items: Vec<palisade_deliver::stream::Item>) -> bool {
        match self {
            AlertQueue::Off => true,
            AlertQueue::Batched {
                store,
                pending,
                error,
            } => {
                pending.extend(items);
                if pending.len() >= palisade_deliver::BATCH
                    && let Err(e) = store.enqueue(&std::mem::take(pending), None)
                {
                    error.get_or_insert(e);
                }
                error.is_none()
            }
            AlertQueue::Streaming { streaming, .. } => streaming.queue(items),
        }
    }

    /// Commits what is left; returns the store and the sinks for the last deliveries.
    fn finish(
        self,
        sinks: Vec<palisade_deliver::Sink>,
    ) -> Result<Option<(Store, Vec<palisade_deliver::Sink>)>> {
        match self {
            AlertQueue::Off => Ok(None),
            AlertQueue::Batched {
                mut store,
                pending,
                error,
            } => {
                if let Some(error) = error {
                    return Err(anyhow::Error::from(error).context("cannot queue the alerts"));
                }
                store
                    .enqueue(&pending, None)
                    .context("cannot queue the alerts")?;
                Ok(Some((store, sinks)))
            }
            AlertQueue::Streaming { store, streaming } => {
                let delivering = streaming.finish().context("cannot queue the alerts")?;
                Ok(Some((store, delivering)))
            }
        }
    }
}

/// Delivers what the queue holds for `sinks` until it is empty or `timeout` passes;
/// returns whether everything was delivered (what is left stays queued, and says so).
fn flush_queue(
    store: &mut Store,
    sinks: &mut [palisade_deliver::Sink],
    timeout: std::time::Duration,
) -> Result<bool> {
    let start = std::time::Instant::now();
    let mut delivered = 0;
    let mut last_errors = Vec::new();
    loop {
        let round = palisade_deliver::deliver(store, sinks, palisade_deliver::now_millis(), 1000)?;
        delivered += round.delivered();
        let errors = round.errors();
        if !errors.is_empty() {
            last_errors = errors;
        }
        let left: i64 = sinks
            .iter()
            .map(|s| store.pending(&s.name).unwrap_or(0))
            .sum();
        if left == 0 {
            if delivered > 0 {
                eprintln!("palisade: delivered {delivered} alerts");
            }
            return Ok(true);
        }
        if start.elapsed() >= timeout {
            for error in &last_errors {
                // What a sink answered, shown, never obeyed by the terminal.
                eprintln!(
                    "palisade: error: delivery failed: {}",
                    palisade_core::printable(error)
                );
            }
            let awaiting: usize = round.sinks.iter().map(|s| s.awaiting).sum();
            if awaiting > 0 {
                eprintln!(
                    "palisade: {awaiting} alerts were taken by a sink that has yet to confirm it stored them (Splunk indexer acknowledgment); unconfirmed, they are sent again"
                );
            }
            eprintln!(
                "palisade: error: {left} alerts could not be delivered yet; they stay queued in the store and are sent by `palisade audit deliver` or `palisade serve audit`"
            );
            return Ok(false);
        }
        std::thread::sleep(std::time::Duration::from_millis(250));
    }
}

fn deliver_queued(args: &DeliverArgs) -> Result<u8> {
    let mut sinks = parse_sinks(&args.sinks)?;
    if sinks.is_empty() {
        bail!("--sink: name the sinks to deliver to (their queued alerts are kept per sink)");
    }
    if !args.store.store.exists() {
        bail!("no store at {}", args.store.store.display());
    }
    let mut store = open_store(&args.store.store)?;
    let ok = flush_queue(
        &mut store,
        &mut sinks,
        std::time::Duration::from_secs(args.timeout),
    )?;
    Ok(if ok { 0 } else { EXIT_ERROR })
}
