//! Live cluster access for `scan --cluster`, `snapshot` and `drift --cluster`: flags, the
//! async runtime, progress on a terminal, the overall timeout and Ctrl-C.

use std::io::IsTerminal;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, Result, bail};
use clap::Args;
use palisade_cluster::{CaptureOptions, Progress, capture};
use palisade_snapshot::Snapshot;

/// Which cluster, and how to read it.
#[derive(Args, Clone)]
#[command(next_help_heading = "Cluster")]
pub struct ClusterArgs {
    /// Kubeconfig file (default: `KUBECONFIG`, which may list several files, else
    /// ~/.kube/config, else the in-cluster service account).
    #[arg(long, env = "PALISADE_KUBECONFIG", value_name = "FILE")]
    pub kubeconfig: Option<PathBuf>,
    /// Kubeconfig context (default: the current context).
    #[arg(long, value_name = "NAME", env = "PALISADE_CONTEXT")]
    pub context: Option<String>,
    /// Read only these namespaces (repeatable); cluster-scoped types are always read. A
    /// namespace the cluster does not have is an error.
    #[arg(
        short = 'n',
        long = "namespace",
        value_name = "NS",
        conflicts_with = "all_namespaces",
        env = "PALISADE_NAMESPACE",
        value_delimiter = ','
    )]
    pub namespaces: Vec<String>,
    /// Read every namespace (the default).
    #[arg(short = 'A', long, env = "PALISADE_ALL_NAMESPACES", value_parser = clap::builder::BoolishValueParser::new())]
    pub all_namespaces: bool,
    /// Give up after this long in all (no partial output is written): `300`, `5s`, `2m30s`,
    /// `1h` (a bare number is seconds). Default 5m.
    #[arg(long, value_parser = palisade_core::duration::parse, value_name = "DURATION", env = "PALISADE_TIMEOUT")]
    pub timeout: Option<Duration>,
    /// Longest time one API request may take (as kubectl's `--request-timeout`: `30s`, `1m`,
    /// a bare number is seconds). Default 30s.
    #[arg(long, value_parser = palisade_core::duration::parse, value_name = "DURATION", env = "PALISADE_REQUEST_TIMEOUT")]
    pub request_timeout: Option<Duration>,
    /// Lists in flight at once. Default 8.
    #[arg(long, env = "PALISADE_CONCURRENCY")]
    pub concurrency: Option<usize>,
    /// Also read Secret values (by default only their metadata and key names are read).
    #[arg(long, env = "PALISADE_INCLUDE_SECRET_VALUES", value_parser = clap::builder::BoolishValueParser::new())]
    pub include_secret_values: bool,
    /// Also read each node's kubelet configuration, as the kubelet runs it, through the API
    /// server's node proxy (`/configz`), for the kubelet rules (CIS 4.2). It needs `get` on
    /// `nodes/proxy`, a permission that also reaches the kubelet's API: grant it to the
    /// scanner only for this. Without it, those controls are not assessed on a cluster.
    #[arg(long, env = "PALISADE_KUBELET_CONFIGS", value_parser = clap::builder::BoolishValueParser::new())]
    pub kubelet_configs: bool,
}

/// Overall read time when `--timeout` is not given.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(300);
/// Per-request time when `--request-timeout` is not given.
pub const DEFAULT_REQUEST_TIMEOUT: Duration = Duration::from_secs(30);

impl ClusterArgs {
    /// The flags given that only mean something when a cluster is read; a command that reads
    /// no cluster refuses them rather than ignoring them.
    pub fn cluster_only_flags(&self) -> Vec<&'static str> {
        [
            (
                "--context",
                typed(self.context.is_some(), "PALISADE_CONTEXT"),
            ),
            (
                "--all-namespaces",
                typed(self.all_namespaces, "PALISADE_ALL_NAMESPACES"),
            ),
            (
                "--timeout",
                typed(self.timeout.is_some(), "PALISADE_TIMEOUT"),
            ),
            (
                "--request-timeout",
                typed(self.request_timeout.is_some(), "PALISADE_REQUEST_TIMEOUT"),
            ),
            (
                "--concurrency",
                typed(self.concurrency.is_some(), "PALISADE_CONCURRENCY"),
            ),
            (
                "--include-secret-values",
                typed(self.include_secret_values, "PALISADE_INCLUDE_SECRET_VALUES"),
            ),
            (
                "--kubelet-configs",
                typed(self.kubelet_configs, "PALISADE_KUBELET_CONFIGS"),
            ),
        ]
        .into_iter()
        .filter_map(|(flag, typed)| typed.then_some(flag))
        .collect()
    }
}

/// Whether a flag was typed on the command line: it has a value, and its environment
/// variable (a default for every command, such as `PALISADE_CONTEXT` exported for cluster
/// scans) is not set. Only typed flags are refused where they do not apply.
pub fn typed(has_value: bool, env: &str) -> bool {
    has_value && std::env::var_os(env).is_none()
}
/// A progress bar on a terminal; nothing otherwise.
struct Bar {
    bar: Option<indicatif::ProgressBar>,
    objects: std::sync::atomic::AtomicUsize,
    errors: std::sync::atomic::AtomicUsize,
}

impl Progress for Bar {
    fn discovered(&self, types: usize) {
        if let Some(bar) = &self.bar {
            bar.set_length(types as u64);
        }
    }

    fn listed(&self, resource: &str, objects: usize, failed: bool) {
        use std::sync::atomic::Ordering::Relaxed;
        let total = self.objects.fetch_add(objects, Relaxed) + objects;
        let errors = self.errors.fetch_add(usize::from(failed), Relaxed) + usize::from(failed);
        if let Some(bar) = &self.bar {
            bar.inc(1);
            bar.set_message(format!(
                "{total} objects, {errors} errors; last: {resource}"
            ));
        }
    }
}

/// Reads the cluster. Exits with an error naming the context and endpoint when it cannot be
/// reached; returns `None` when interrupted with Ctrl-C.
/// How `args` reach the cluster.
pub fn capture_options(args: &ClusterArgs) -> CaptureOptions {
    CaptureOptions {
        kubeconfig: args.kubeconfig.clone(),
        context: args.context.clone(),
        namespaces: args.namespaces.clone(),
        request_timeout: args.request_timeout.unwrap_or(DEFAULT_REQUEST_TIMEOUT),
        concurrency: args.concurrency.unwrap_or(8).max(1),
        page_size: 500,
        secret_values: args.include_secret_values,
        kubelet_configs: args.kubelet_configs,
    }
}

pub fn capture_cluster(args: &ClusterArgs) -> Result<Option<Snapshot>> {
    let options = capture_options(args);
    if args.include_secret_values {
        eprintln!(
            "palisade: warning: --include-secret-values reads Secret values; the snapshot will contain them"
        );
    }
    let bar = std::io::stderr().is_terminal().then(|| {
        let bar = indicatif::ProgressBar::new(0);
        bar.set_style(
            indicatif::ProgressStyle::with_template(
                "{spinner} reading cluster {pos}/{len} types {msg}",
            )
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
        );
        bar.enable_steady_tick(Duration::from_millis(200));
        bar
    });
    let progress = Arc::new(Bar {
        bar: bar.clone(),
        objects: 0.into(),
        errors: 0.into(),
    });
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    let overall = args.timeout.unwrap_or(DEFAULT_TIMEOUT);
    let result = runtime.block_on(async {
        // Biased, Ctrl-C first: its handler is installed on the first poll, before the
        // read can open a connection (unbiased, the order is random and an early Ctrl-C
        // could kill the process instead of ending the read).
        tokio::select! {
            biased;
            _ = tokio::signal::ctrl_c() => None,
            r = tokio::time::timeout(overall, capture(&options, progress)) => Some(r),
        }
    });
    if let Some(bar) = bar {
        bar.finish_and_clear();
    }
    match result {
        None => Ok(None),
        Some(Err(_)) => bail!("the cluster was not read within --timeout {:?}", overall),
        Some(Ok(Err(e))) => Err(e.into()),
        Some(Ok(Ok(snapshot))) => Ok(Some(snapshot)),
    }
}

/// `palisade snapshot`.
#[derive(Args)]
pub struct SnapshotArgs {
    #[command(flatten)]
    pub cluster: ClusterArgs,
    /// Where to write the snapshot (JSON).
    #[arg(
        short = 'o',
        long = "output",
        value_name = "FILE",
        env = "PALISADE_SNAPSHOT_OUTPUT"
    )]
    pub output: PathBuf,
}

pub fn run_snapshot(args: &SnapshotArgs) -> Result<u8> {
    let Some(snapshot) = capture_cluster(&args.cluster)? else {
        eprintln!("palisade: interrupted; nothing written");
        return Ok(130);
    };
    // A snapshot holds what the cluster holds (ConfigMaps, environment values, with
    // --include-secret-values the Secrets): for its owner's eyes.
    crate::write_file_as(&args.output, crate::Readers::Owner, |out| {
        snapshot.write(out)
    })?;
    eprintln!(
        "palisade: wrote {} objects of {} types to {}; {} types could not be listed{}",
        snapshot.items.len(),
        snapshot.header.resources.len(),
        args.output.display(),
        snapshot.header.errors.len(),
        if snapshot.header.errors.is_empty() {
            ""
        } else {
            " (see `errors` in the file)"
        }
    );
    Ok(0)
}
