//! The `palisade` command line: argument parsing, wiring and exit codes. Everything it does is
//! a call into the library crates.

mod analysis_input;
mod audit_cmd;
mod audit_coverage;
mod cluster_cmd;
mod docs_cmd;
mod fix_cmd;
mod history_cmd;
mod install_cmd;
mod install_watch;
mod net_cmd;
mod node_cmd;
mod policy_cmd;
mod probe_cmd;
mod rbac_cmd;
mod serve_cmd;
mod serve_watch;
mod watch_cmd;

/// jemalloc rather than the C library's allocator: a scan makes and frees millions of small
/// strings on every core, where glibc's malloc spent about a sixth of the time and left more
/// memory resident (figures in `docs/dependencies.md`).
#[cfg(not(target_env = "msvc"))]
#[global_allocator]
static ALLOCATOR: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, Result, bail};
use clap::{Args, Parser, Subcommand, ValueEnum};
use palisade_core::{DiagnosticLevel, Profile, Report, Severity, Verdict};
use palisade_inventory::{Input, Limits, LoadOptions};
use palisade_report::answer::{AnswerFormat, write_answer};
use palisade_report::{Format, WriteOptions};
use palisade_scan::{Config, ScanOptions};

/// Exit code when findings (or diagnostics) reach the `--fail-on` threshold.
const EXIT_FINDINGS: u8 = 1;
/// Exit code for usage errors and tool errors (nothing could be scanned, bad config).
pub(crate) const EXIT_ERROR: u8 = 2;

#[derive(Parser)]
#[command(
    name = "palisade",
    version,
    about = "Kubernetes defense-in-depth security: assess, harden, govern and watch a cluster",
    long_about = "Palisade assesses Kubernetes manifests, snapshots and live clusters against one rule \
                  catalogue mapped to the CIS Kubernetes Benchmark, NSA/CISA hardening guide, Pod \
                  Security Standards and MITRE ATT&CK; runs the same rules, with Gatekeeper and \
                  ValidatingAdmissionPolicy policies, as an admission webhook; and watches the API \
                  server's audit events for attacks.",
    after_help = "Exit codes: 0 nothing at or above --fail-on; 1 findings at or above it; 2 usage or tool error."
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Scan manifests (files, directories, Kustomize, Helm charts, or `-` for stdin).
    Scan(ScanArgs),
    /// List the rules, or print one rule's documentation.
    Rules(RulesArgs),
    /// Load manifests and list the objects found (no rules run).
    Inventory(InventoryArgs),
    /// RBAC analysis: who-can, access, escalation paths, roles from audit logs.
    #[command(subcommand)]
    Rbac(rbac_cmd::RbacCommand),
    /// Network reachability: the connectivity matrix, why a connection is allowed, and what a
    /// policy change gains or loses.
    #[command(subcommand)]
    Net(net_cmd::NetCommand),
    /// Runtime detection over API server audit logs: analyse, learn baselines, list the
    /// detections.
    #[command(subcommand)]
    Audit(audit_cmd::AuditCommand),
    /// Policy as code: run Gatekeeper policy test suites, print the resources ExpansionTemplates make.
    #[command(subcommand)]
    Policy(policy_cmd::PolicyCommand),
    /// Long-running services: the admission webhook and the audit webhook receiver.
    #[command(subcommand)]
    Serve(serve_cmd::ServeCommand),
    /// Deploy the admission webhook: print its manifests (`--print`, for `kubectl apply -f -`)
    /// or write its Helm chart (`--chart DIR`).
    Install(install_cmd::InstallArgs),
    /// Judge a node's own files against the CIS Kubernetes Benchmark's sections 1-4: static pod
    /// manifests, the kubelet's configuration merged with its command line, and the modes and
    /// owners of manifests, kubeconfigs, keys and etcd's data (`--root /` on the node, or
    /// `--root /host` in a pod that mounts it).
    Node(node_cmd::NodeArgs),
    /// Ask each host's API server, kubelet (API and read-only port) and etcd one read-only
    /// question with no credential, and report those that answer it (PRB001-PRB003).
    Probe(probe_cmd::ProbeArgs),
    /// Read a live cluster into a snapshot file, to scan offline (`scan --snapshot`).
    Snapshot(cluster_cmd::SnapshotArgs),
    /// Keep a live cluster's findings current: list every type once, follow the API
    /// server's watch, scan again once a change has settled, and write the findings opened
    /// and resolved (JSON lines), Policy Reports in the cluster (`--policy-reports`) and a
    /// history (`--history`); with `--lease`, one replica of several writes.
    Watch(watch_cmd::WatchArgs),
    /// Scan history (`scan --history FILE`): the recorded runs with their counts and what
    /// changed, and the findings new and fixed between two runs.
    #[command(subcommand)]
    History(history_cmd::HistoryCommand),
    /// Compare manifests with a cluster or snapshot: missing and extra objects, changed fields
    /// (classified by security relevance, attributed by managedFields) and findings that exist
    /// only in the cluster.
    Drift(DriftArgs),
    /// Harden manifests: add the securityContext fields that resolve open findings (POD002,
    /// POD003, POD008, POD014), as a reviewable diff or written in place (`--write`), keeping
    /// comments and layout; each edit is checked by scanning again.
    Fix(fix_cmd::FixArgs),
    /// Write a commented palisade.toml with every setting, its default and an example
    /// suppression.
    Init(InitArgs),
    /// Print a shell completion script (bash, zsh, fish, powershell, elvish).
    Completion(docs_cmd::CompletionArgs),
    /// Write the man pages of every command to a directory.
    Man(docs_cmd::ManArgs),
}

#[derive(Args)]
struct InitArgs {
    /// Where to write it; `-` for standard output.
    #[arg(default_value = "palisade.toml", value_name = "FILE")]
    file: String,
    /// Replace an existing file.
    #[arg(long, env = "PALISADE_INIT_FORCE", value_parser = clap::builder::BoolishValueParser::new())]
    force: bool,
}

/// A spinner on standard error for work that turns out to take more than a second, on a
/// terminal only (never in CI logs or pipes).
struct Spinner(Option<indicatif::ProgressBar>);

impl Spinner {
    fn after_a_second(what: &'static str) -> Spinner {
        if !std::io::stderr().is_terminal() {
            return Spinner(None);
        }
        let bar =
            indicatif::ProgressBar::with_draw_target(None, indicatif::ProgressDrawTarget::hidden());
        bar.set_style(
            indicatif::ProgressStyle::with_template("{spinner} {msg} {elapsed}")
                .unwrap_or_else(|_| indicatif::ProgressStyle::default_spinner()),
        );
        bar.set_message(what);
        let shown = bar.clone();
        std::thread::spawn(move || {
            std::thread::sleep(std::time::Duration::from_secs(1));
            if !shown.is_finished() {
                shown.set_draw_target(indicatif::ProgressDrawTarget::stderr());
                shown.enable_steady_tick(std::time::Duration::from_millis(120));
            }
        });
        Spinner(Some(bar))
    }

    fn done(self) {
        if let Some(bar) = self.0 {
            bar.finish_and_clear();
        }
    }
}

fn run_init(args: &InitArgs) -> Result<u8> {
    let text = palisade_scan::config::template(&palisade_scan::default_rules())
        + &palisade_audit::settings::template()
        + &palisade_admission::settings::template();
    if args.file == "-" {
        std::io::stdout().lock().write_all(text.as_bytes())?;
        return Ok(0);
    }
    let path = Path::new(&args.file);
    if path.exists() && !args.force {
        bail!("{}: already exists (--force replaces it)", path.display());
    }
    write_file(path, |out| out.write_all(text.as_bytes()))?;
    eprintln!(
        "palisade: wrote {}; `palisade scan` reads it from this directory",
        path.display()
    );
    Ok(0)
}

#[derive(Args)]
struct DriftArgs {
    #[command(flatten)]
    load: LoadArgs,
    /// The live side: a snapshot file (or a `kubectl get -o json` List).
    #[arg(
        long,
        value_name = "FILE",
        conflicts_with = "cluster",
        env = "PALISADE_SNAPSHOT",
        help_heading = "Cluster"
    )]
    snapshot: Option<PathBuf>,
    /// The live side: the cluster of the kubeconfig context.
    #[arg(long, env = "PALISADE_CLUSTER", value_parser = clap::builder::BoolishValueParser::new(), help_heading = "Cluster")]
    cluster: bool,
    #[command(flatten)]
    cluster_args: cluster_cmd::ClusterArgs,
    /// The namespace manifests without one are compared in.
    #[arg(
        long,
        default_value = "default",
        value_name = "NS",
        env = "PALISADE_DEFAULT_NAMESPACE",
        help_heading = "Cluster"
    )]
    default_namespace: String,
    #[command(flatten)]
    config: ConfigArgs,
    #[command(flatten)]
    output: OutputArgs,
}

/// Output and exit-code flags shared by `scan` and `drift`.
#[derive(Args)]
#[command(next_help_heading = "Output")]
struct OutputArgs {
    /// Output format, optionally with a file: `table`, `json`, `sarif`, `junit`, `markdown` (a
    /// pull request's comment), `html` (one self-contained page), `policyreport` (Kubernetes
    /// Policy Reports for `kubectl apply -f -`), or `FORMAT=FILE`.
    /// Repeat for several (`-o sarif=out.sarif -o table`). Default: `table`.
    #[arg(
        short = 'o',
        long = "output",
        env = "PALISADE_OUTPUT",
        value_name = "FORMAT[=FILE]"
    )]
    outputs: Vec<String>,
    /// Write the output that has no `=FILE` to this file instead of stdout.
    #[arg(long, env = "PALISADE_OUTPUT_FILE", value_name = "FILE")]
    output_file: Option<PathBuf>,
    /// Exit 1 when unsuppressed findings at or above this severity exist
    /// (info, low, medium, high, critical, or `none` to never fail on findings).
    #[arg(
        long,
        env = "PALISADE_FAIL_ON",
        default_value = "high",
        value_name = "SEVERITY"
    )]
    fail_on: String,
    /// Also exit 1 when diagnostics at this level or worse exist. `--fail-on-diagnostics`
    /// alone means `error`; `=warning` also counts warnings.
    #[arg(long, env = "PALISADE_FAIL_ON_DIAGNOSTICS", value_enum, num_args = 0..=1, require_equals = true, default_missing_value = "error", value_name = "LEVEL")]
    fail_on_diagnostics: Option<DiagnosticThreshold>,
    /// Show only findings of these severities (comma-separated: `critical,high`), in every
    /// output. The exit code is still decided by --fail-on over all findings.
    #[arg(
        long,
        env = "PALISADE_SEVERITY",
        value_delimiter = ',',
        value_parser = parse_severity,
        value_name = "LIST"
    )]
    severity: Vec<Severity>,
    /// Table: only the findings at or above --fail-on, error diagnostics and the summary.
    #[arg(short = 'q', long, env = "PALISADE_QUIET", value_parser = clap::builder::BoolishValueParser::new())]
    quiet: bool,
    /// Table: count findings by rule, object or file instead of listing each one (for large
    /// runs).
    #[arg(long, env = "PALISADE_GROUP_BY", value_enum, value_name = "BY")]
    group_by: Option<GroupByArg>,
    /// A previous JSON report (`-o json`): its findings are not new and do not fail the run;
    /// new ones do, and the ones it has that are gone are reported as fixed.
    #[arg(long, env = "PALISADE_BASELINE", value_name = "FILE")]
    baseline: Option<PathBuf>,
    /// Colours in the table output.
    #[arg(long, env = "PALISADE_COLOR", value_enum, default_value = "auto")]
    color: ColorChoice,
    /// Accept a run in which some input could not be read (an unparsable file, a chart that
    /// was not rendered, a type the cluster would not list): exit as if it were complete.
    /// Without it such a run is INCOMPLETE and exits 2.
    #[arg(long, env = "PALISADE_ALLOW_INCOMPLETE", value_parser = clap::builder::BoolishValueParser::new())]
    allow_incomplete: bool,
}

#[derive(Clone, Copy, ValueEnum)]
enum GroupByArg {
    Rule,
    Object,
    File,
}

fn parse_severity(text: &str) -> Result<Severity, String> {
    text.trim().parse::<Severity>().map_err(|e| e.to_string())
}

#[derive(Clone, Copy, ValueEnum)]
enum ColorChoice {
    Auto,
    Always,
    Never,
}

#[derive(Clone, Copy, ValueEnum)]
enum DiagnosticThreshold {
    Error,
    Warning,
}

#[derive(Args)]
#[command(next_help_heading = "Inputs")]
pub(crate) struct LoadArgs {
    /// Files, directories (searched recursively for .yaml, .yml, .json) or `-` for stdin.
    #[arg(value_name = "PATH")]
    pub(crate) paths: Vec<String>,
    /// Largest file (or rendered output) read, in MiB.
    #[arg(
        long,
        env = "PALISADE_MAX_FILE_SIZE_MB",
        default_value_t = 64,
        value_name = "MIB"
    )]
    pub(crate) max_file_size_mb: u64,
    /// Scan files in Kustomize directories one by one instead of rendering them.
    #[arg(long, env = "PALISADE_NO_KUSTOMIZE", value_parser = clap::builder::BoolishValueParser::new())]
    pub(crate) no_kustomize: bool,
    /// Scan every kustomization under a directory, also bases that an overlay found in the
    /// same run includes (by default a base is scanned only through its overlays).
    #[arg(long, env = "PALISADE_ALL_KUSTOMIZATIONS", value_parser = clap::builder::BoolishValueParser::new())]
    pub(crate) all_kustomizations: bool,
    /// Do not render Helm charts.
    #[arg(long, env = "PALISADE_NO_HELM", value_parser = clap::builder::BoolishValueParser::new())]
    pub(crate) no_helm: bool,
    /// Render Helm charts with this values file too (as `helm template --values`; repeatable,
    /// later files win).
    #[arg(
        long = "helm-values",
        value_name = "FILE",
        conflicts_with = "no_helm",
        env = "PALISADE_HELM_VALUES"
    )]
    pub(crate) helm_values: Vec<PathBuf>,
    /// Render Helm charts with this value set (as `helm template --set`; repeatable).
    #[arg(
        long = "helm-set",
        value_name = "KEY=VALUE",
        conflicts_with = "no_helm",
        env = "PALISADE_HELM_SET"
    )]
    pub(crate) helm_set: Vec<String>,
}

impl LoadArgs {
    /// One path with the default settings.
    pub(crate) fn for_path(path: &Path) -> LoadArgs {
        LoadArgs {
            paths: vec![path.display().to_string()],
            max_file_size_mb: 64,
            no_kustomize: false,
            all_kustomizations: false,
            no_helm: false,
            helm_values: Vec::new(),
            helm_set: Vec::new(),
        }
    }
}

/// Where `palisade.toml` comes from, for `scan` and `drift`.
#[derive(Args)]
#[command(next_help_heading = "Rules")]
pub(crate) struct ConfigArgs {
    /// Configuration file (suppressions, disabled rules, rule settings). Default:
    /// ./palisade.toml if present.
    #[arg(long, env = "PALISADE_CONFIG", value_name = "FILE")]
    config: Option<PathBuf>,
    /// Ignore ./palisade.toml.
    #[arg(long, env = "PALISADE_NO_CONFIG", conflicts_with = "config", value_parser = clap::builder::BoolishValueParser::new())]
    no_config: bool,
}

impl ConfigArgs {
    /// The file to read: the one given, else ./palisade.toml when present, else none.
    pub(crate) fn path(&self) -> Option<PathBuf> {
        match (&self.config, self.no_config) {
            (_, true) => None,
            (Some(path), false) => Some(path.clone()),
            (None, false) if Path::new("palisade.toml").is_file() => Some("palisade.toml".into()),
            (None, false) => None,
        }
    }

    /// The configuration: the file given, else ./palisade.toml when present, else none.
    fn load(&self) -> Result<Config> {
        self.load_for(&palisade_scan::default_rules())
    }

    /// The configuration, validated against the rules of the run (built-in and policies).
    fn load_for(&self, rules: &palisade_rules::RuleSet) -> Result<Config> {
        let config = match (&self.config, self.no_config) {
            (_, true) => Config::default(),
            (Some(path), false) => Config::load(path, rules)?,
            (None, false) if Path::new("palisade.toml").is_file() => {
                Config::load(Path::new("palisade.toml"), rules)?
            }
            (None, false) => Config::default(),
        };
        for warning in &config.warnings {
            eprintln!("palisade: warning: {}: {warning}", config.path);
        }
        Ok(config)
    }
}

/// Which rules a run evaluates, with which settings: shared by `scan` and `serve admission`,
/// so the webhook judges with exactly the rules a scan uses.
#[derive(Args)]
pub(crate) struct RuleArgs {
    #[command(flatten)]
    config: ConfigArgs,
    /// Run only these rules (ids or slugs, comma-separated).
    #[arg(
        long,
        env = "PALISADE_RULES",
        value_delimiter = ',',
        value_name = "IDS",
        help_heading = "Rules"
    )]
    rules: Vec<String>,
    /// Skip these rules (ids or slugs, comma-separated).
    #[arg(
        long,
        env = "PALISADE_SKIP_RULES",
        value_delimiter = ',',
        value_name = "IDS",
        help_heading = "Rules"
    )]
    skip_rules: Vec<String>,
    /// Evaluate one framework: run only the rules that cover it and report a verdict per
    /// control (`cis`, `nsa`, `pss`, `pss-baseline`, `pss-restricted`, `mitre`).
    #[arg(long, env = "PALISADE_FRAMEWORK", value_parser = parse_profile, value_name = "FRAMEWORK", help_heading = "Rules")]
    framework: Option<Profile>,
    /// The Pod Security policy version pods are judged against with `--framework pss*`
    /// (`v1.0` ... `v1.37`, or `latest`), as the admission plugin judges them at that version.
    /// A namespace's own `pod-security.kubernetes.io/enforce-version` label wins for NS002.
    #[arg(long, env = "PALISADE_PSS_VERSION", value_parser = parse_pss_version, value_name = "VERSION", requires = "framework", help_heading = "Rules")]
    pss_version: Option<palisade_rules::pss::admission::PolicyVersion>,
    /// Gatekeeper ConstraintTemplates and Constraints, and ValidatingAdmissionPolicies with
    /// their bindings (files or directories), evaluated with the built-in rules: each
    /// constraint or binding is a rule and its violations are findings. Repeatable.
    #[arg(
        long = "policy",
        value_name = "PATH",
        env = "PALISADE_POLICY",
        value_delimiter = ',',
        help_heading = "Rules"
    )]
    policies: Vec<PathBuf>,
    /// Also run the policies the judged cluster holds (`--cluster`, `--snapshot`, or the
    /// webhook's cluster): Gatekeeper ConstraintTemplates and Constraints with its Config
    /// exemptions and ExpansionTemplates, and ValidatingAdmissionPolicies with their bindings.
    /// The webhook reads them again with the cluster.
    #[arg(long, env = "PALISADE_CLUSTER_POLICIES", help_heading = "Rules")]
    cluster_policies: bool,
}

impl RuleArgs {
    /// The scan options these flags select (for `load` and `unlisted` as the caller reads).
    /// Gatekeeper constraints run with their action at `point` (`scopedEnforcementActions`);
    /// `cluster` is the cluster judged, whose policies `--cluster-policies` adds.
    /// A policy the cluster holds that cannot be used is an error, as any other.
    pub(crate) fn scan_options(
        &self,
        load: LoadOptions,
        point: palisade_policy::EnforcementPoint,
        cluster: Option<&palisade_inventory::Inventory>,
    ) -> Result<ScanOptions> {
        let (options, unusable) = self.scan_options_past_cluster_problems(load, point, cluster)?;
        refuse_unusable(&unusable)?;
        Ok(options)
    }

    /// Whether a rule may read an object's `status` beyond what the built-in rules read
    /// ([`palisade_inventory::powers::status_is_read`]): a policy, given or the cluster's.
    pub(crate) fn may_read_any_status(&self) -> bool {
        !self.policies.is_empty() || self.cluster_policies
    }

    /// [`RuleArgs::scan_options`] for a webhook, which goes on without the policies the
    /// cluster holds that cannot be used: it returns them, to be logged and counted.
    pub(crate) fn scan_options_past_cluster_problems(
        &self,
        load: LoadOptions,
        point: palisade_policy::EnforcementPoint,
        cluster: Option<&palisade_inventory::Inventory>,
    ) -> Result<(ScanOptions, Vec<String>)> {
        let in_cluster = match (self.cluster_policies, cluster) {
            (false, _) => None,
            (true, Some(cluster)) => Some(cluster),
            (true, None) => bail!(
                "--cluster-policies runs the policies of the cluster judged: give --cluster or --snapshot"
            ),
        };
        let (rules, unusable) = rules_with_policies(&self.policies, point, in_cluster)?;
        if let Some(profile) = self.framework {
            refuse_policies_outside(&rules, profile)?;
        }
        let config = self.config.load_for(&rules)?;
        Ok((
            ScanOptions {
                only_rules: canonical_in(&rules, &self.rules)?,
                skip_rules: canonical_in(&rules, &self.skip_rules)?,
                rules,
                load,
                config,
                today: None,
                framework: self.framework,
                unlisted: Vec::new(),
                whole_cluster: false,
                judged_alone: false,
                namespaces: Vec::new(),
                pss_version: self.pss_version,
                secrets_in_all_files: false,
                skip_evaluations: true,
                vulnerabilities: None,
            },
            unusable,
        ))
    }
}

#[derive(Args)]
struct ScanArgs {
    #[command(flatten)]
    load: LoadArgs,
    #[command(flatten)]
    output: OutputArgs,
    #[command(flatten)]
    history: history_cmd::RecordArgs,
    /// Scan a snapshot file (from `palisade snapshot`, or a `kubectl get -o json` List)
    /// instead of manifests.
    #[arg(
        long,
        value_name = "FILE",
        conflicts_with = "cluster",
        env = "PALISADE_SNAPSHOT",
        help_heading = "Cluster"
    )]
    snapshot: Option<PathBuf>,
    /// Scan the live cluster of the kubeconfig context instead of manifests.
    #[arg(long, env = "PALISADE_CLUSTER", value_parser = clap::builder::BoolishValueParser::new(), help_heading = "Cluster")]
    cluster: bool,
    /// Judge the manifests (PATH...) as changes to the cluster in this snapshot file, as the
    /// admission webhook would if they were applied: each object against the cluster with the
    /// objects before it (Helm's order), including the chains to cluster-admin it opens for
    /// the workloads running there (RBAC021). For a live cluster, `--against-cluster`.
    #[arg(
        long,
        value_name = "FILE",
        conflicts_with_all = ["cluster", "snapshot"],
        env = "PALISADE_AGAINST",
        help_heading = "Cluster"
    )]
    against: Option<PathBuf>,
    /// `--against` the live cluster of the kubeconfig context, read once at the start (as
    /// `palisade snapshot` reads it; `--context`, `--kubeconfig`, `-n` and the timeouts apply).
    #[arg(
        long,
        conflicts_with_all = ["cluster", "snapshot", "against"],
        env = "PALISADE_AGAINST_CLUSTER",
        value_parser = clap::builder::BoolishValueParser::new(),
        help_heading = "Cluster"
    )]
    against_cluster: bool,
    #[command(flatten)]
    cluster_args: cluster_cmd::ClusterArgs,
    #[command(flatten)]
    select: RuleArgs,
    /// Also scan the files under PATH that hold no Kubernetes object (`.env`,
    /// `*.properties`, `*.ini`, `*.conf`, Helm `values.yaml`, ...) for secrets, with the same
    /// detectors and rules (SEC010-SEC019) as objects' fields.
    #[arg(long, env = "PALISADE_SECRETS_IN_ALL_FILES", value_parser = clap::builder::BoolishValueParser::new(), help_heading = "Rules")]
    secrets_in_all_files: bool,
    #[command(flatten)]
    images: ImageArgs,
}

/// Known vulnerabilities of the images the workloads run.
#[derive(Args, Default)]
pub(crate) struct ImageArgs {
    /// An image's SBOM (CycloneDX, SPDX or Syft JSON) or scanner report (Trivy or Grype
    /// JSON), or a directory of them; repeat for several. Each package is judged against
    /// `--osv-db` (VULN001), on the workloads that run the image. Without manifests or a
    /// cluster, the SBOMs alone are judged.
    #[arg(
        long,
        value_name = "PATH",
        env = "PALISADE_SBOM",
        value_delimiter = ',',
        requires = "osv_db",
        help_heading = "Images"
    )]
    sbom: Vec<PathBuf>,
    /// An OSV database on disk: directories of OSV records (`*.json`) and OSV's
    /// per-ecosystem exports (`all.zip`, from
    /// https://osv-vulnerabilities.storage.googleapis.com/ECOSYSTEM/all.zip); repeat for
    /// several. Nothing is fetched.
    #[arg(
        long,
        value_name = "PATH",
        env = "PALISADE_OSV_DB",
        value_delimiter = ',',
        requires = "sbom",
        help_heading = "Images"
    )]
    osv_db: Vec<PathBuf>,
}

impl ImageArgs {
    /// The SBOMs and database, read; `None` without `--sbom`.
    pub(crate) fn load(
        &self,
    ) -> Result<Option<std::sync::Arc<palisade_scan::vulnerabilities::Vulnerabilities>>> {
        if self.sbom.is_empty() {
            return Ok(None);
        }
        for path in &self.sbom {
            std::fs::metadata(path).with_context(|| format!("--sbom {}", path.display()))?;
        }
        let loaded =
            palisade_scan::vulnerabilities::Vulnerabilities::load(&self.sbom, &self.osv_db)
                .context("--osv-db")?;
        Ok(Some(std::sync::Arc::new(loaded)))
    }
}

fn parse_pss_version(text: &str) -> Result<palisade_rules::pss::admission::PolicyVersion, String> {
    palisade_rules::pss::admission::PolicyVersion::parse(text).ok_or_else(|| {
        format!(
            "unknown Pod Security policy version `{text}` (expected latest or v1.0 ... v1.{})",
            palisade_rules::pss::admission::LATEST_MINOR
        )
    })
}

fn parse_profile(text: &str) -> Result<Profile, String> {
    Profile::parse(text).ok_or_else(|| {
        let names: Vec<&str> = Profile::NAMES.iter().map(|(n, _)| *n).collect();
        format!(
            "unknown framework `{text}` (expected one of: {})",
            names.join(", ")
        )
    })
}

/// How a command that does not print a scan report prints.
#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum ListFormat {
    Table,
    Json,
}

/// `palisade rules` formats; Markdown only with `--framework`.
#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
enum RulesFormat {
    Table,
    Json,
    #[value(alias = "md")]
    Markdown,
}

#[derive(Args)]
struct RulesArgs {
    /// A rule id or slug to explain.
    id: Option<String>,
    /// `table`, `json`, or (with `--framework`) `markdown`.
    #[arg(short = 'o', long = "output", value_enum, default_value_t = RulesFormat::Table, env = "PALISADE_RULES_OUTPUT")]
    output: RulesFormat,
    /// Show the compliance matrix of a framework: each control, the rules that cover it, and
    /// the controls that are manual or not covered.
    #[arg(long, value_parser = parse_profile, value_name = "FRAMEWORK", conflicts_with = "id", env = "PALISADE_FRAMEWORK")]
    framework: Option<Profile>,
}

#[derive(Args)]
struct InventoryArgs {
    #[command(flatten)]
    load: LoadArgs,
    /// `table` or `json`.
    #[arg(short = 'o', long = "output", value_enum, default_value_t = ListFormat::Table, env = "PALISADE_INVENTORY_OUTPUT")]
    output: ListFormat,
    #[command(flatten)]
    completeness: analysis_input::Completeness,
}

/// `0.1.0 (commit 0123456789ab, built 2026-12-01, 67 rules)`.
fn long_version() -> String {
    format!(
        "{} (commit {}, built {}, {} rules)",
        env!("CARGO_PKG_VERSION"),
        env!("PALISADE_COMMIT"),
        env!("PALISADE_BUILD_DATE"),
        palisade_rules::RuleSet::builtin().metas().count()
    )
}

/// The command line as parsed, helped and documented: every `PALISADE_*` variable is named
/// in the help and man pages, never its value (`PALISADE_AUDIT_SINKS` may hold a webhook
/// whose URL is its credential).
fn cli_command() -> clap::Command {
    use clap::CommandFactory;
    fn hide_values(command: clap::Command) -> clap::Command {
        command
            .mut_args(|arg| arg.hide_env_values(true))
            .mut_subcommands(hide_values)
    }
    hide_values(Cli::command())
}

fn main() -> ExitCode {
    use clap::FromArgMatches;
    let version = long_version();
    let matches = cli_command().version(version.clone()).get_matches();
    let cli = match Cli::from_arg_matches(&matches) {
        Ok(cli) => cli,
        Err(err) => err.exit(),
    };
    let result = match cli.command {
        Command::Scan(args) => run_scan(args),
        Command::Rules(args) => run_rules(&args),
        Command::Inventory(args) => run_inventory(&args),
        Command::Rbac(command) => rbac_cmd::run(command),
        Command::Net(command) => net_cmd::run(command),
        Command::Audit(command) => audit_cmd::run(command),
        Command::Serve(command) => serve_cmd::run(command),
        Command::Install(args) => install_cmd::run(args),
        Command::Policy(command) => policy_cmd::run(command),
        Command::Snapshot(args) => cluster_cmd::run_snapshot(&args),
        Command::Watch(args) => watch_cmd::run_watch(args),
        Command::Drift(args) => run_drift(args),
        Command::Node(args) => node_cmd::run_node(args),
        Command::Probe(args) => probe_cmd::run_probe(args),
        Command::History(command) => history_cmd::run_history(command),
        Command::Fix(args) => fix_cmd::run_fix(&args),
        Command::Init(args) => run_init(&args),
        Command::Completion(args) => docs_cmd::completion(cli_command(), &args),
        Command::Man(args) => docs_cmd::man(cli_command().version(version), &args),
    };
    match result {
        Ok(code) => ExitCode::from(code),
        // The reader went away (`palisade ... | head`): stop quietly, as a process killed by
        // SIGPIPE would, with the shell's code for it.
        Err(err) if reader_went_away(&err) => ExitCode::from(141),
        Err(err) => {
            print_error(&err);
            ExitCode::from(EXIT_ERROR)
        }
    }
}

/// Whether `err` is a write to a pipe whose reader has gone. JSON's writer keeps the I/O error
/// inside its own (its `source` skips it), so both are asked.
fn reader_went_away(err: &anyhow::Error) -> bool {
    err.chain().any(|cause| {
        let kind = if let Some(io) = cause.downcast_ref::<std::io::Error>() {
            Some(io.kind())
        } else {
            cause
                .downcast_ref::<serde_json::Error>()
                .and_then(serde_json::Error::io_error_kind)
        };
        kind == Some(std::io::ErrorKind::BrokenPipe)
    })
}

/// `palisade: error: ...` on standard error. An error may quote the input (a file name, a
/// value that did not parse): shown, never obeyed by the terminal.
pub(crate) fn print_error(err: &anyhow::Error) {
    let text = format!("{err:#}");
    eprintln!("palisade: error: {}", palisade_core::printable_lines(&text));
}

pub(crate) fn inputs(load: &LoadArgs) -> Result<(Vec<Input>, LoadOptions)> {
    if load.paths.is_empty() {
        bail!("no PATH given: name files or directories, or `-` for standard input");
    }
    let mut inputs = Vec::new();
    for path in &load.paths {
        if path == "-" {
            inputs.push(Input::Stdin);
        } else {
            // The system's reason: a missing file, a symbolic link in a loop, no permission.
            std::fs::metadata(path).with_context(|| palisade_core::printable(path).to_string())?;
            inputs.push(Input::Path(PathBuf::from(path)));
        }
    }
    Ok((inputs, load_options(load)?))
}

/// How the inputs are read: limits, Kustomize and Helm.
pub(crate) fn load_options(load: &LoadArgs) -> Result<LoadOptions> {
    if let Some(file) = load.helm_values.iter().find(|f| !f.is_file()) {
        bail!("--helm-values {}: no such file", file.display());
    }
    Ok(LoadOptions {
        // A snapshot file among the manifests is read as the objects it holds.
        limits: palisade_snapshot::recognising_snapshots(Limits {
            max_file_bytes: load.max_file_size_mb.saturating_mul(1024 * 1024),
            ..Limits::default()
        }),
        kustomize: !load.no_kustomize,
        helm: !load.no_helm,
        helm_values: load.helm_values.clone(),
        helm_set: load.helm_set.clone(),
        all_kustomizations: load.all_kustomizations,
        ..LoadOptions::default()
    })
}

/// The canonical ids of rules named by id or slug in `rules`; an unknown name is an error.
fn canonical_in(rules: &palisade_rules::RuleSet, ids: &[String]) -> Result<Vec<String>> {
    ids.iter()
        .filter(|s| !s.trim().is_empty())
        .map(|id| {
            rules
                .canonical(id.trim())
                .with_context(|| format!("unknown rule `{id}` (see `palisade rules`)"))
        })
        .collect()
}

/// Prints diagnostics at `level` or worse to stderr, for commands whose output is not a
/// report: `palisade: file:line [code] message`.
pub(crate) fn print_diagnostics(diagnostics: &[palisade_core::Diagnostic], level: DiagnosticLevel) {
    for d in diagnostics.iter().filter(|d| d.level >= level) {
        print_diagnostic(d);
    }
}

/// One diagnostic on stderr: where, its code, and what it says.
pub(crate) fn print_diagnostic(d: &palisade_core::Diagnostic) {
    eprintln!("palisade: {} [{}] {}", d.location(), d.code, d.message);
}

/// Parses `FORMAT` or `FORMAT=FILE`.
fn parse_output(spec: &str) -> Result<(Format, Option<PathBuf>)> {
    let (format, file) = split_output(spec);
    let format: Format = format.parse().map_err(anyhow::Error::msg)?;
    Ok((format, file))
}

/// `FORMAT` or `FORMAT=FILE` (an empty file name is standard output).
pub(crate) fn split_output(spec: &str) -> (&str, Option<PathBuf>) {
    match spec.split_once('=') {
        Some((f, file)) if !file.is_empty() => (f, Some(PathBuf::from(file))),
        Some((f, _)) => (f, None),
        None => (spec, None),
    }
}

/// Refuses two outputs to standard output.
pub(crate) fn one_stdout<T>(outputs: &[(T, Option<PathBuf>)]) -> Result<()> {
    if outputs.iter().filter(|(_, f)| f.is_none()).count() > 1 {
        bail!("several outputs would go to stdout; name their files with -o FORMAT=FILE");
    }
    Ok(())
}

/// The `-o` specs of a command (`default` when none), each format read by `parse`, at most
/// one to standard output.
pub(crate) fn parse_outputs<T>(
    specs: &[String],
    default: &str,
    parse: impl Fn(&str) -> Result<T>,
) -> Result<Vec<(T, Option<PathBuf>)>> {
    let defaults = [default.to_string()];
    let specs = if specs.is_empty() {
        &defaults[..]
    } else {
        specs
    };
    let mut outputs = Vec::new();
    for spec in specs {
        let (format, file) = split_output(spec);
        let format = parse(format).with_context(|| format!("-o {spec}"))?;
        outputs.push((format, file));
    }
    one_stdout(&outputs)?;
    Ok(outputs)
}

/// Writes to a temporary file next to `path`, then renames it, so an interrupted run never
/// leaves a truncated report behind.
pub(crate) fn write_file(
    path: &Path,
    render: impl FnOnce(&mut dyn Write) -> std::io::Result<()>,
) -> Result<()> {
    write_file_as(path, Readers::Everyone, render)
}

/// Who may read a file Palisade writes.
#[derive(Clone, Copy)]
pub(crate) enum Readers {
    /// As the umask allows: reports, meant to be shared.
    Everyone,
    /// Its owner alone (mode 0600): what holds the cluster's content, such as a snapshot.
    Owner,
}

/// Writes `path` whole or not at all (a temporary file beside it, renamed), readable by
/// `readers`. A symbolic link, and what is not a regular file (`/dev/null`, `/dev/stdout`, a
/// pipe such as the shell's `>(jq .)`), is written through as the shell's `>` would: renaming
/// over it would replace the link, device or pipe with a file.
pub(crate) fn write_file_as(
    path: &Path,
    readers: Readers,
    render: impl FnOnce(&mut dyn Write) -> std::io::Result<()>,
) -> Result<()> {
    if let Ok(found) = std::fs::symlink_metadata(path)
        && !found.is_file()
    {
        return render_into(path, path, readers, render);
    }
    let dir = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let name = path
        .file_name()
        .and_then(|n| n.to_str())
        .unwrap_or("report");
    let tmp = dir.join(format!(".{name}.palisade-{}.tmp", std::process::id()));
    let result = render_into(&tmp, path, readers, render).and_then(|()| {
        std::fs::rename(&tmp, path).with_context(|| format!("cannot write {}", path.display()))
    });
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result
}

/// Renders into `target` as it is (a new or truncated file, a device, a pipe, a link and the
/// file it names), a file readable by `readers` (an existing one too); errors name `path`,
/// the file asked for, never a temporary one.
fn render_into(
    target: &Path,
    path: &Path,
    readers: Readers,
    render: impl FnOnce(&mut dyn Write) -> std::io::Result<()>,
) -> Result<()> {
    let failed = || format!("cannot write {}", path.display());
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    if let Readers::Owner = readers {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let file = options.open(target).with_context(failed)?;
    // A file a link names, already there, is its owner's alone too.
    #[cfg(unix)]
    if let Readers::Owner = readers
        && file.metadata().is_ok_and(|m| m.is_file())
    {
        use std::os::unix::fs::PermissionsExt;
        file.set_permissions(std::fs::Permissions::from_mode(0o600))
            .with_context(failed)?;
    }
    let mut file = std::io::BufWriter::new(file);
    render(&mut file).with_context(failed)?;
    file.flush().with_context(failed)
}

fn parse_fail_on(text: &str) -> Result<Option<Severity>> {
    Ok(match text.to_ascii_lowercase().as_str() {
        "none" | "never" => None,
        other => Some(
            other
                .parse::<Severity>()
                .map_err(|e| anyhow::anyhow!("--fail-on: {e}"))?,
        ),
    })
}

/// The scan options common to manifests, snapshots and clusters.
/// The scan of a whole cluster read (a snapshot or a live one, `loaded`), which could not
/// list `unlisted`; the policies it holds run with `--cluster-policies`. Returns the report
/// and why each type was not listed.
fn scan_whole_cluster(
    args: &ScanArgs,
    outputs: &Outputs,
    unlisted: Vec<(String, String, String)>,
    loaded: palisade_inventory::Loaded,
    start: std::time::Instant,
) -> Result<(palisade_core::Report, Vec<String>)> {
    let mut options = scan_options(
        args,
        LoadOptions::default(),
        outputs,
        Some(&loaded.inventory),
    )?;
    options.unlisted = unlisted;
    options.whole_cluster = true;
    let not_listed = options
        .unlisted
        .iter()
        .map(|(_, _, why)| why.clone())
        .collect();
    // Nodes without their kubelets' configurations: the kubelet rules' controls are not
    // assessed (not "not applicable": the nodes are there), without a warning on every read.
    if let Some(why) = kubelet_configs_unread(&loaded.inventory) {
        options.unlisted.push(why);
    }
    Ok((
        palisade_scan::scan_loaded(loaded, &options, start),
        not_listed,
    ))
}

/// When a cluster read holds Nodes but none of their kubelet configurations (read with
/// `--kubelet-configs`), the type to mark as not listed, with why.
pub(crate) fn kubelet_configs_unread(
    inventory: &palisade_inventory::Inventory,
) -> Option<(String, String, String)> {
    let has = |group: &str, kind: &str| {
        inventory
            .objects
            .iter()
            .any(|o| o.id.kind == kind && o.id.group() == group)
    };
    (has("", "Node") && !has("kubelet.config.k8s.io", "KubeletConfiguration")).then(|| {
        (
            "kubelet.config.k8s.io".to_string(),
            "KubeletConfiguration".to_string(),
            "the nodes' kubelet configurations were not read: --kubelet-configs reads them \
             through the API server's node proxy (get nodes/proxy)"
                .to_string(),
        )
    })
}

/// `scan PATH... --against FILE` (or `--against-cluster`): the manifests judged as changes to
/// the cluster `cluster` holds, a snapshot's or one read live (its policies run with
/// `--cluster-policies`). Returns the report and why each type the cluster lacks was not
/// listed.
fn scan_against(
    args: &ScanArgs,
    outputs: &Outputs,
    unlisted: Vec<(String, String, String)>,
    cluster: palisade_inventory::Loaded,
) -> Result<(palisade_core::Report, Vec<String>)> {
    let (inputs, load) = inputs(&args.load)?;
    let mut options = args.select.scan_options(
        load,
        palisade_policy::EnforcementPoint::Validation,
        Some(&cluster.inventory),
    )?;
    options.namespaces = args.cluster_args.namespaces.clone();
    options.skip_evaluations = !outputs.formats.iter().any(|(f, _)| *f == Format::Junit);
    let not_listed = unlisted.iter().map(|(_, _, why)| why.clone()).collect();
    options.unlisted = unlisted;
    let spinner = Spinner::after_a_second("judging the changes");
    let manifests = palisade_inventory::load(&inputs, &options.load);
    let report = palisade_scan::scan_changes(manifests, cluster, &options);
    spinner.done();
    Ok((report, not_listed))
}

/// The scan options common to manifests, snapshots and clusters; `cluster` is the cluster
/// scanned (a snapshot or a live one), whose policies `--cluster-policies` runs.
fn scan_options(
    args: &ScanArgs,
    load: LoadOptions,
    outputs: &Outputs,
    cluster: Option<&palisade_inventory::Inventory>,
) -> Result<ScanOptions> {
    // Gatekeeper's names: manifests are judged shift-left, a cluster's objects as its audit does.
    let point = if args.snapshot.is_some() || args.cluster {
        palisade_policy::EnforcementPoint::Audit
    } else {
        palisade_policy::EnforcementPoint::Gator
    };
    Ok(ScanOptions {
        namespaces: args.cluster_args.namespaces.clone(),
        secrets_in_all_files: args.secrets_in_all_files,
        vulnerabilities: args.images.load()?,
        // Only JUnit lists every (rule, object) check.
        skip_evaluations: !outputs.formats.iter().any(|(f, _)| *f == Format::Junit),
        ..args.select.scan_options(load, point, cluster)?
    })
}

/// `--framework` runs the rules that cite the framework's controls: a policy given with
/// `--policy` that cites none would be silently left out, so that is an error instead.
fn refuse_policies_outside(rules: &palisade_rules::RuleSet, profile: Profile) -> Result<()> {
    let built_in: std::collections::HashSet<String> = palisade_scan::default_rules()
        .metas()
        .map(|m| m.id.to_string())
        .collect();
    let covered: std::collections::HashSet<String> = rules
        .for_framework(profile)
        .iter()
        .map(|r| r.meta().id.to_string())
        .collect();
    let left_out: Vec<String> = rules
        .metas()
        .map(|m| m.id.to_string())
        .filter(|id| !built_in.contains(id) && !covered.contains(id))
        .collect();
    if !left_out.is_empty() {
        bail!(
            "--framework {}: {} policies cite none of its controls and would not be evaluated: {}; annotate them with `palisade.dev/controls`, or leave out --framework",
            profile.name(),
            left_out.len(),
            left_out.join(", ")
        );
    }
    Ok(())
}

/// The admission policies under `policies`, and with `held` those among `inventory`'s objects,
/// for the escalation graph to ask what they refuse of pods that would own their node, as
/// `palisade scan` asks them; `None` without policies. A policy that cannot be used is an
/// error (a brake must not be guessed).
pub(crate) fn admission_asker(
    policies: &[PathBuf],
    held: bool,
    inventory: &palisade_inventory::Inventory,
) -> Result<Option<palisade_rules::refusals::PolicyAsker>> {
    if policies.is_empty() && !held {
        return Ok(None);
    }
    let (rules, unusable) = rules_with_policies(
        policies,
        palisade_policy::EnforcementPoint::Validation,
        held.then_some(inventory),
    )?;
    refuse_unusable(&unusable)?;
    let mut settings = palisade_rules::RuleSettings::default();
    settings.admission_policies = rules.admission_policies();
    Ok(palisade_rules::refusals::PolicyAsker::of(&settings))
}

/// An error naming the policies of the cluster that cannot be used, when there are any: a
/// command that answers once must not answer without them.
pub(crate) fn refuse_unusable(unusable: &[String]) -> Result<()> {
    if !unusable.is_empty() {
        bail!(
            "--cluster-policies: {} of the cluster cannot be used:\n  {}",
            palisade_report::table::plural(unusable.len(), "policy"),
            unusable.join("\n  ")
        );
    }
    Ok(())
}

/// The built-in rules and drift's, with a rule per Gatekeeper constraint under `policies`.
/// A template or constraint that cannot be used is an error: a gate must not pass on a
/// policy it did not evaluate.
pub(crate) fn rules_with_policies(
    policies: &[PathBuf],
    point: palisade_policy::EnforcementPoint,
    cluster: Option<&palisade_inventory::Inventory>,
) -> Result<(palisade_rules::RuleSet, Vec<String>)> {
    let mut rules = palisade_scan::default_rules();
    if policies.is_empty() && cluster.is_none() {
        return Ok((rules, Vec::new()));
    }
    let mut loaded = palisade_policy::provider::load_with(policies, cluster, point);
    let unusable = loaded.take_cluster_problems();
    if cluster.is_some()
        && policies.is_empty()
        && loaded.rules.is_empty()
        && loaded.mutators.is_none()
        && unusable.is_empty()
        && loaded.problems.is_empty()
    {
        // A cluster without policies: nothing of theirs goes unjudged.
        eprintln!(
            "palisade: note: --cluster-policies: the cluster holds no Gatekeeper constraint or ValidatingAdmissionPolicyBinding enforced at {}",
            point.name()
        );
        return Ok((rules, unusable));
    }
    if !loaded.elsewhere.is_empty() {
        eprintln!(
            "palisade: note: --policy: {} not enforced at {} (enforcementAction: scoped), left out: {}",
            palisade_report::table::plural(loaded.elsewhere.len(), "constraint"),
            point.name(),
            palisade_core::words::first_few(&loaded.elsewhere, 5)
        );
    }
    if !loaded.problems.is_empty() {
        bail!(
            "--policy: {} policies cannot be used:\n  {}",
            loaded.problems.len(),
            loaded.problems.join("\n  ")
        );
    }
    // Mutators change what a run judges only through ExpansionTemplates (and at admission):
    // say so where a user might expect them to change the objects scanned.
    if let Some(mutators) = &loaded.mutators
        && point != palisade_policy::EnforcementPoint::Validation
        && loaded.expansions.is_empty()
    {
        eprintln!(
            "palisade: note: --policy: {} read; mutators change only the resources ExpansionTemplates make (none given) and objects at admission, so the objects scanned are judged as written",
            palisade_report::table::plural(mutators.len(), "mutator")
        );
    }
    // Mutators alone act only at admission (`/mutate`).
    let acting = !loaded.rules.is_empty()
        || (loaded.mutators.is_some() && point == palisade_policy::EnforcementPoint::Validation);
    if !acting && !policies.is_empty() {
        bail!(
            "--policy: no Gatekeeper constraint or ValidatingAdmissionPolicyBinding to run under {} ({} templates and policies)",
            policies
                .iter()
                .map(|p| p.display().to_string())
                .collect::<Vec<_>>()
                .join(" "),
            loaded.templates
        );
    }
    let left_out = !loaded.elsewhere.is_empty();
    for rule in loaded.rules {
        rules
            .add(rule)
            .map_err(|e| anyhow::anyhow!("--policy: {e}"))?;
    }
    if let Some(mutators) = loaded.mutators {
        rules.set_mutators(mutators);
    }
    // Constraints left out at this point may deny at the webhook: the escalation graph asks
    // the policies as the webhook enforces them (`palisade rbac paths` and the webhook read
    // them there too).
    if left_out && point != palisade_policy::EnforcementPoint::Validation {
        let at_webhook = palisade_policy::provider::load_with(
            policies,
            cluster,
            palisade_policy::EnforcementPoint::Validation,
        );
        rules.set_admission_policies(palisade_rules::settings::AdmissionPolicies(
            at_webhook.rules,
        ));
    }
    Ok((rules, unusable))
}

/// Refuses flags that would be ignored: what a user asked for is done, or said to be
/// impossible, never dropped.
fn check_sources(
    snapshot: Option<&Path>,
    cluster: bool,
    cluster_args: &cluster_cmd::ClusterArgs,
) -> Result<()> {
    if cluster && snapshot.is_some() {
        bail!("--cluster and --snapshot name two live sides; give one");
    }
    if !cluster && let Some(flag) = cluster_args.cluster_only_flags().first() {
        bail!("{flag} applies only with --cluster");
    }
    Ok(())
}

/// What `--against` and `--against-cluster` need: manifests, and no loose files.
fn check_against(args: &ScanArgs) -> Result<()> {
    if args.load.paths.is_empty() {
        bail!("--against judges manifests as changes to a cluster: give the manifests (PATH...)");
    }
    if args.secrets_in_all_files {
        bail!(
            "--secrets-in-all-files reads files beside the manifests; with --against only objects are judged"
        );
    }
    if !args.images.sbom.is_empty() {
        bail!(
            "--sbom judges the images a scan's workloads run; with --against only the changes are judged: scan the manifests (or the cluster) with --sbom instead"
        );
    }
    Ok(())
}

fn run_scan(args: ScanArgs) -> Result<u8> {
    let start = std::time::Instant::now();
    // Check the flags before any work.
    check_sources(
        args.snapshot.as_deref(),
        args.cluster || args.against_cluster,
        &args.cluster_args,
    )?;
    if (args.snapshot.is_some() || args.cluster) && !args.load.paths.is_empty() {
        bail!(
            "scan reads manifests (PATH...) or a cluster (--snapshot FILE or --cluster), not both: {} would be ignored (--against FILE or --against-cluster judges manifests as changes to a cluster)",
            args.load.paths.join(" ")
        );
    }
    if (args.snapshot.is_some() || args.cluster) && args.secrets_in_all_files {
        bail!("--secrets-in-all-files reads the files under PATH; a cluster has none");
    }
    if (args.snapshot.is_some() || args.cluster)
        && (!args.load.helm_values.is_empty() || !args.load.helm_set.is_empty())
    {
        bail!("--helm-values and --helm-set render the Helm charts under PATH; a cluster has none");
    }
    let outputs = outputs(&args.output)?;
    let mut not_listed: Vec<String> = Vec::new();
    let mut report = if let Some(file) = &args.against {
        check_against(&args)?;
        let snapshot = palisade_snapshot::SnapshotFile::open(file, false)?;
        let report;
        (report, not_listed) = scan_against(&args, &outputs, snapshot.unlisted(), snapshot.load())?;
        report
    } else if args.against_cluster {
        check_against(&args)?;
        let Some(snapshot) = cluster_cmd::capture_cluster(&args.cluster_args)? else {
            eprintln!("palisade: interrupted; nothing written");
            return Ok(130);
        };
        let report;
        (report, not_listed) = scan_against(&args, &outputs, snapshot.unlisted(), snapshot.load())?;
        report
    } else if let Some(file) = &args.snapshot {
        let snapshot = palisade_snapshot::SnapshotFile::open(file, false)?;
        let unlisted = snapshot.unlisted();
        let loaded = snapshot.load_in(&args.cluster_args.namespaces)?;
        let report;
        (report, not_listed) = scan_whole_cluster(&args, &outputs, unlisted, loaded, start)?;
        report
    } else if args.cluster {
        let Some(snapshot) = cluster_cmd::capture_cluster(&args.cluster_args)? else {
            eprintln!("palisade: interrupted; nothing written");
            return Ok(130);
        };
        let unlisted = snapshot.unlisted();
        let report;
        (report, not_listed) =
            scan_whole_cluster(&args, &outputs, unlisted, snapshot.load(), start)?;
        report
    } else {
        // SBOMs may be judged alone, without manifests.
        let (inputs, load) = if args.load.paths.is_empty() && !args.images.sbom.is_empty() {
            (Vec::new(), load_options(&args.load)?)
        } else {
            inputs(&args.load)?
        };
        let options = scan_options(&args, load, &outputs, None)?;
        let spinner = Spinner::after_a_second("scanning");
        let report = palisade_scan::scan(&inputs, &options);
        spinner.done();
        report
    };
    note_not_listed(&mut report, not_listed);
    args.history.record(&report, &scanned(&args))?;
    emit(report, &args.output, &outputs)
}

/// Says every type the cluster would not list where every output shows it (the rules that
/// depend on it say so in their coverage). When nothing at all could be read, these are
/// errors: the run must not look like a clean cluster.
pub(crate) fn note_not_listed(report: &mut Report, not_listed: Vec<String>) {
    let level = if report.objects.is_empty() {
        DiagnosticLevel::Error
    } else {
        DiagnosticLevel::Warning
    };
    for why in not_listed {
        report
            .diagnostics
            .push(palisade_core::Diagnostic::new(level, "not-listed", why));
    }
}

/// What a scan read, as the user named it: the paths, the snapshot or the cluster.
fn scanned(args: &ScanArgs) -> String {
    let mut named: Vec<String> = args.load.paths.clone();
    if let Some(snapshot) = &args.snapshot {
        named.push(format!("--snapshot {}", snapshot.display()));
    }
    if args.cluster {
        let context = args.cluster_args.context.as_deref();
        named.push(context.map_or("--cluster".to_string(), |c| {
            format!("--cluster (context {c})")
        }));
    }
    named.extend(
        args.images
            .sbom
            .iter()
            .map(|p| format!("--sbom {}", p.display())),
    );
    named.join(" ")
}

fn run_drift(args: DriftArgs) -> Result<u8> {
    check_sources(args.snapshot.as_deref(), args.cluster, &args.cluster_args)?;
    let outputs = outputs(&args.output)?;
    let (inputs, load) = inputs(&args.load)?;
    let config = args.config.load()?;
    let mut desired = palisade_inventory::load(&inputs, &load);
    desired.inventory = desired
        .inventory
        .retain_namespaces(&args.cluster_args.namespaces);
    if desired.inventory.objects.is_empty() {
        print_diagnostics(&desired.diagnostics, DiagnosticLevel::Info);
        bail!(
            "no Kubernetes object in the manifests ({}): nothing to compare the cluster with",
            args.load.paths.join(" ")
        );
    }
    // Drift filters both sides by namespace itself (below), so `namespaces` stays empty.
    let mut options = ScanOptions {
        config,
        skip_evaluations: true,
        ..ScanOptions::default()
    };
    let live = if let Some(file) = &args.snapshot {
        let snapshot = palisade_snapshot::SnapshotFile::open(file, true)?;
        options.unlisted = snapshot.unlisted();
        snapshot.load_in(&args.cluster_args.namespaces)?
    } else if args.cluster {
        let Some(snapshot) = cluster_cmd::capture_cluster(&args.cluster_args)? else {
            eprintln!("palisade: interrupted; nothing written");
            return Ok(130);
        };
        options.unlisted = snapshot.unlisted();
        snapshot.load()
    } else {
        bail!("drift needs the live side: --snapshot FILE or --cluster");
    };
    let mut live = live;
    live.inventory = live
        .inventory
        .retain_namespaces(&args.cluster_args.namespaces);
    let drift_options = palisade_snapshot::drift::DriftOptions {
        default_namespace: args.default_namespace.clone(),
        unlisted: options
            .unlisted
            .iter()
            .map(|(group, kind, _)| (group.clone(), kind.clone()))
            .collect(),
    };
    let mut diagnostics = desired.diagnostics;
    diagnostics.extend(live.diagnostics);
    // A type the cluster would not list is not compared: the run says so and is incomplete,
    // never "missing in the cluster" for every object of it.
    for (_, _, why) in &options.unlisted {
        diagnostics.push(palisade_core::Diagnostic::new(
            DiagnosticLevel::Warning,
            "not-listed",
            format!("{why}; objects of this type are not compared"),
        ));
    }
    let report = palisade_scan::drift::drift_report(
        &desired.inventory,
        &live.inventory,
        &options,
        &drift_options,
        diagnostics,
    );
    emit(report, &args.output, &outputs)
}

/// Where the report goes, and what it is compared with; checked before any work.
struct Outputs {
    formats: Vec<(Format, Option<PathBuf>)>,
    baseline: Option<palisade_scan::baseline::Baseline>,
}

/// The outputs asked for, checked before any work.
fn outputs(args: &OutputArgs) -> Result<Outputs> {
    parse_fail_on(&args.fail_on)?;
    let mut outputs = Vec::new();
    for spec in &args.outputs {
        outputs.push(parse_output(spec)?);
    }
    if outputs.is_empty() {
        // Text for people, terminal or CI log alike (as Trivy, kube-linter and Kubescape do);
        // JSON only when asked for.
        outputs.push((Format::Table, None));
    }
    if let Some(file) = &args.output_file {
        match outputs
            .iter_mut()
            .filter(|(_, f)| f.is_none())
            .collect::<Vec<_>>()
            .as_mut_slice()
        {
            [only] => only.1 = Some(file.clone()),
            [] => bail!("--output-file: every -o already names a file"),
            _ => bail!(
                "--output-file: several outputs go to stdout; name their files with -o FORMAT=FILE"
            ),
        }
    }
    one_stdout(&outputs)?;
    let baseline = match &args.baseline {
        Some(path) => Some(palisade_scan::baseline::Baseline::load(path)?),
        None => None,
    };
    Ok(Outputs {
        formats: outputs,
        baseline,
    })
}

/// Writes the report in every format asked for, and gives the exit code.
fn emit(mut report: Report, args: &OutputArgs, outputs: &Outputs) -> Result<u8> {
    let fail_on = parse_fail_on(&args.fail_on)?;
    if let Some(baseline) = &outputs.baseline {
        baseline.apply(&mut report);
    }
    // The exit code is decided on every finding, before --severity narrows what is shown.
    let code = exit_code(&report, fail_on, args);
    let mut hidden = palisade_report::Hidden::default();
    if !args.severity.is_empty() {
        let before = report.findings.len();
        let failing_before = fail_on.map_or(0, |t| report.findings_at_or_above(t));
        report
            .findings
            .retain(|f| args.severity.contains(&f.severity));
        hidden.findings = before - report.findings.len();
        hidden.failing = failing_before - fail_on.map_or(0, |t| report.findings_at_or_above(t));
    }
    let owned = report;
    let report = &owned;
    let group_by = match args.group_by {
        None => palisade_report::GroupBy::Finding,
        Some(GroupByArg::Rule) => palisade_report::GroupBy::Rule,
        Some(GroupByArg::Object) => palisade_report::GroupBy::Object,
        Some(GroupByArg::File) => palisade_report::GroupBy::File,
    };
    let stdout_is_tty = std::io::stdout().is_terminal();
    for (format, file) in &outputs.formats {
        let color = match args.color {
            ColorChoice::Always => true,
            ColorChoice::Never => false,
            ColorChoice::Auto => {
                file.is_none() && stdout_is_tty && std::env::var_os("NO_COLOR").is_none()
            }
        };
        let write_options = WriteOptions {
            color,
            fail_on,
            quiet: args.quiet,
            group_by,
            hidden,
        };
        match file {
            Some(path) => write_file(path, |out| {
                palisade_report::write(*format, report, write_options, out)
            })?,
            None => {
                // Stdout is line-buffered; a multi-megabyte report would cost one write call per
                // line without this buffer.
                let mut out = std::io::BufWriter::with_capacity(1 << 16, std::io::stdout().lock());
                palisade_report::write(*format, report, write_options, &mut out)
                    .context("cannot write to stdout")?;
                out.flush().context("cannot write to stdout")?;
            }
        }
    }
    // The process exits next: freeing millions of findings one by one would only delay it.
    std::mem::forget(owned);
    Ok(code)
}

fn exit_code(report: &Report, fail_on: Option<Severity>, args: &OutputArgs) -> u8 {
    let not_read = report.inputs_not_read();
    match report.verdict(fail_on) {
        Verdict::NothingScanned => {
            if not_read > 0 {
                eprintln!(
                    "palisade: error: nothing could be scanned: {} could not be read (see the diagnostics)",
                    palisade_report::table::plural(not_read, "input")
                );
            } else {
                eprintln!(
                    "palisade: error: nothing was scanned: no Kubernetes object in the input"
                );
            }
            return EXIT_ERROR;
        }
        _ if not_read > 0 && !args.allow_incomplete => {
            eprintln!(
                "palisade: error: incomplete: {} (see the diagnostics); \
                 --allow-incomplete accepts the run as it is",
                palisade_report::table::not_looked_at(report)
            );
            return EXIT_ERROR;
        }
        _ => {}
    }
    let findings_fail = fail_on.is_some_and(|t| report.findings_at_or_above(t) > 0);
    let diagnostics_fail = match args.fail_on_diagnostics {
        None => false,
        Some(DiagnosticThreshold::Error) => {
            report.diagnostics_at_or_above(DiagnosticLevel::Error) > 0
        }
        Some(DiagnosticThreshold::Warning) => {
            report.diagnostics_at_or_above(DiagnosticLevel::Warning) > 0
        }
    };
    if findings_fail || diagnostics_fail {
        EXIT_FINDINGS
    } else {
        0
    }
}

fn run_matrix(profile: Profile, output: RulesFormat) -> Result<u8> {
    let mut out = std::io::stdout().lock();
    let rows = palisade_rules::compliance::matrix(profile);
    match output {
        RulesFormat::Markdown => write!(out, "{}", palisade_rules::compliance::markdown(profile))?,
        RulesFormat::Json => {
            let doc: Vec<_> = rows
                .iter()
                .map(|row| {
                    serde_json::json!({
                        "control": row.control,
                        "title": row.title,
                        "rules": row.rules.iter().map(|r| r.meta().id.as_ref()).collect::<Vec<_>>(),
                        "status": if !row.rules.is_empty() { "covered" } else if row.manual.is_some() { "manual" } else { "not_covered" },
                        "reason": row.manual,
                    })
                })
                .collect();
            serde_json::to_writer_pretty(&mut out, &doc)?;
            writeln!(out)?;
        }
        RulesFormat::Table => {
            writeln!(
                out,
                "{} (--framework {})\n",
                profile.framework().title(),
                profile.name()
            )?;
            let table = palisade_report::answer::Table {
                indent: 0,
                widths: Vec::new(),
                header: Some(vec!["CONTROL".into(), "TITLE".into(), "RULES".into()]),
                rows: rows
                    .iter()
                    .map(|row| {
                        let rules = if !row.rules.is_empty() {
                            row.rules
                                .iter()
                                .map(|r| r.meta().id.as_ref())
                                .collect::<Vec<_>>()
                                .join(" ")
                        } else if let Some(why) = row.manual {
                            format!("manual ({why})")
                        } else {
                            "NOT COVERED".to_string()
                        };
                        vec![row.control.to_string(), row.title.to_string(), rules]
                    })
                    .collect(),
            };
            let mut doc = palisade_report::answer::Document::new();
            doc.table(table);
            palisade_report::answer::write_text(&doc, &mut out)?;
            let covered = rows.iter().filter(|r| !r.rules.is_empty()).count();
            let manual = rows
                .iter()
                .filter(|r| r.rules.is_empty() && r.manual.is_some())
                .count();
            writeln!(
                out,
                "\n{covered} of {} controls covered, {manual} manual, {} not covered",
                rows.len(),
                rows.len() - covered - manual
            )?;
        }
    }
    Ok(0)
}

fn run_rules(args: &RulesArgs) -> Result<u8> {
    if let Some(profile) = args.framework {
        return run_matrix(profile, args.output);
    }
    let format = match args.output {
        RulesFormat::Json => AnswerFormat::Json,
        RulesFormat::Table => AnswerFormat::Text,
        RulesFormat::Markdown => {
            bail!("-o markdown is the format of the compliance matrix: add --framework")
        }
    };
    let mut out = std::io::stdout().lock();
    // Every rule a report may show: the catalogue, and those whose findings drift, `--sbom`,
    // `palisade node` and `palisade probe` make.
    let mut rules = palisade_scan::default_rules();
    for meta in palisade_probe::rule::RULES {
        rules
            .add_reported(meta)
            .map_err(|e| anyhow::anyhow!("built-in rule sets clash: {e}"))?;
    }
    if let Some(id) = &args.id {
        let detail = palisade_scan::answers::RuleDetail::answer(&rules, id)
            .with_context(|| format!("unknown rule `{id}` (see `palisade rules`)"))?;
        write_answer(&detail, format, &mut out)?;
        return Ok(0);
    }
    write_answer(
        &palisade_scan::answers::RuleList::answer(&rules),
        format,
        &mut out,
    )?;
    Ok(0)
}

fn run_inventory(args: &InventoryArgs) -> Result<u8> {
    let (inputs, options) = inputs(&args.load)?;
    let start = std::time::Instant::now();
    let loaded = palisade_inventory::load(&inputs, &options);
    let elapsed = u64::try_from(start.elapsed().as_millis()).unwrap_or(u64::MAX);
    let not_read = loaded
        .diagnostics
        .iter()
        .filter(|d| d.input_not_read())
        .count();
    let listing = palisade_scan::answers::InventoryListing::answer(loaded, elapsed);
    let format = match args.output {
        ListFormat::Json => AnswerFormat::Json,
        ListFormat::Table => AnswerFormat::Text,
    };
    write_answer(&listing, format, &mut std::io::stdout().lock())?;
    // The listing shows what was read; a count taken from it must not look whole.
    if not_read > 0 && !args.completeness.allow_incomplete {
        eprintln!(
            "palisade: error: incomplete: {not_read} input(s) could not be read (listed above); --allow-incomplete accepts that"
        );
        return Ok(EXIT_ERROR);
    }
    Ok(0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    /// Every flag of every command, with the commands that lead to it.
    fn flags(command: &clap::Command, path: &str, out: &mut Vec<(String, clap::Arg)>) {
        for arg in command.get_arguments() {
            if !arg.is_positional() && !matches!(arg.get_id().as_str(), "help" | "version") {
                out.push((path.to_string(), arg.clone()));
            }
        }
        for sub in command.get_subcommands() {
            flags(sub, &format!("{path} {}", sub.get_name()), out);
        }
    }

    #[test]
    fn help_names_the_variables_never_their_values() {
        let mut all = Vec::new();
        flags(&cli_command(), "palisade", &mut all);
        let shown: Vec<String> = all
            .iter()
            .filter(|(_, arg)| !arg.is_hide_env_values_set())
            .map(|(path, arg)| format!("{path} --{}", arg.get_long().unwrap_or_default()))
            .collect();
        assert!(shown.is_empty(), "{shown:?}");
    }

    #[test]
    fn every_flag_has_an_environment_variable() {
        let mut all = Vec::new();
        flags(&Cli::command(), "palisade", &mut all);
        assert!(all.len() > 50, "{}", all.len());
        let missing: Vec<String> = all
            .iter()
            .filter(|(_, arg)| arg.get_env().is_none())
            .map(|(path, arg)| format!("{path} --{}", arg.get_long().unwrap_or_default()))
            .collect();
        assert!(
            missing.is_empty(),
            "flags without a PALISADE_* variable: {missing:?}"
        );
        for (path, arg) in &all {
            let env = arg.get_env().unwrap().to_string_lossy();
            assert!(env.starts_with("PALISADE_"), "{path}: {env}");
        }
    }
}
