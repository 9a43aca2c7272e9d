//! What the analysis commands (`rbac`, `net`, `audit analyze`'s context) read: manifests at PATHs, a snapshot, or the
//! live cluster, with the diagnostics of reading them redacted like every report.

use std::path::PathBuf;

use anyhow::{Result, bail};
use clap::Args;

use crate::{LoadArgs, inputs};

/// Reading the live cluster instead of files.
#[derive(Args, Default)]
pub struct LiveArgs {
    /// Read the live cluster of the kubeconfig context (all namespaces) instead of PATHs.
    #[arg(long, env = "PALISADE_CLUSTER", value_parser = clap::builder::BoolishValueParser::new())]
    pub(crate) cluster: bool,
    /// Kubeconfig file (default: `KUBECONFIG`, else ~/.kube/config, else in-cluster).
    #[arg(long, value_name = "FILE", env = "PALISADE_KUBECONFIG")]
    kubeconfig: Option<PathBuf>,
    /// Kubeconfig context (default: the current context).
    #[arg(long, value_name = "NAME", env = "PALISADE_CONTEXT")]
    context: Option<String>,
    /// Give up reading the cluster after this long (`300`, `5m`, `2m30s`). Default 5m.
    #[arg(long, value_parser = crate::cluster_cmd::parse_duration, value_name = "DURATION", env = "PALISADE_TIMEOUT")]
    timeout: Option<std::time::Duration>,
    /// Longest time one API request may take (`30s`, `1m`). Default 30s.
    #[arg(long, value_parser = crate::cluster_cmd::parse_duration, value_name = "DURATION", env = "PALISADE_REQUEST_TIMEOUT")]
    request_timeout: Option<std::time::Duration>,
}

impl LiveArgs {
    /// The cluster to read, as the cluster commands take it (all namespaces).
    pub(crate) fn cluster_args(&self) -> crate::cluster_cmd::ClusterArgs {
        crate::cluster_cmd::ClusterArgs {
            kubeconfig: self.kubeconfig.clone(),
            context: self.context.clone(),
            namespaces: Vec::new(),
            all_namespaces: false,
            timeout: self.timeout,
            request_timeout: self.request_timeout,
            concurrency: None,
            include_secret_values: false,
        }
    }
}

/// Refuses cluster flags given without `--cluster` (for commands that read objects only
/// when asked).
pub(crate) fn load_objects_if_live(live: &LiveArgs) -> Result<()> {
    if !live.cluster {
        let mut given = live.cluster_args().cluster_only_flags();
        if crate::cluster_cmd::typed(live.kubeconfig.is_some(), "PALISADE_KUBECONFIG") {
            given.insert(0, "--kubeconfig");
        }
        if let Some(flag) = given.first() {
            bail!("{flag} applies only with --cluster");
        }
    }
    Ok(())
}

/// Loads the objects to analyse, refusing flags that do not apply and an input with no
/// object (no answer would mean anything); returns what a live cluster serves too.
pub(crate) fn load_objects(
    load: &LoadArgs,
    live: &LiveArgs,
) -> Result<(
    palisade_inventory::Loaded,
    Vec<palisade_snapshot::format::ListedResource>,
)> {
    // Flags typed for a cluster read refuse to be ignored (the same check as `scan`'s).
    load_objects_if_live(live)?;
    let mut discovered = Vec::new();
    let loaded = if live.cluster {
        let args = crate::cluster_cmd::ClusterArgs {
            all_namespaces: true,
            ..live.cluster_args()
        };
        let Some(snapshot) = crate::cluster_cmd::capture_cluster(&args)? else {
            bail!("interrupted");
        };
        for error in &snapshot.header.errors {
            eprintln!("palisade: warning: {}", error.describe());
        }
        discovered = snapshot.header.resources.clone();
        snapshot.load()
    } else {
        let (inputs, options) = inputs(load)?;
        palisade_inventory::load(&inputs, &options)
    };
    if loaded.inventory.objects.is_empty() {
        crate::print_diagnostics(&loaded.diagnostics, palisade_core::DiagnosticLevel::Info);
        bail!(
            "nothing to analyse: no Kubernetes object was read, so no answer would mean anything"
        );
    }
    Ok((loaded, discovered))
}
