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
    #[arg(long, value_parser = palisade_core::duration::parse, value_name = "DURATION", env = "PALISADE_TIMEOUT")]
    timeout: Option<std::time::Duration>,
    /// Longest time one API request may take (`30s`, `1m`). Default 30s.
    #[arg(long, value_parser = palisade_core::duration::parse, value_name = "DURATION", env = "PALISADE_REQUEST_TIMEOUT")]
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
            kubelet_configs: false,
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

/// The types an RBAC answer (who-can, access) is made of.
pub(crate) const RBAC_POLICY: &[(&str, &str)] = palisade_rbac::model::AUTHORIZATION_KINDS;

/// The types escalation paths are made of besides the RBAC policy: the pods that run as
/// service accounts (in a live cluster each pod stands for its controller when that cannot
/// be listed) and the accounts.
pub(crate) const RUNNING_AS: &[(&str, &str)] = &[("", "Pod"), ("", "ServiceAccount")];

/// The types a network answer is made of: pods (standing for their controllers), namespaces,
/// services and what exposes them, and every kind of network policy (palisade-net's own list).
pub(crate) const NETWORK: &[(&str, &str)] = palisade_net::READS;

/// Whether an analysis may answer from inputs of which some could not be read.
#[derive(Args, Default, Clone, Copy)]
pub struct Completeness {
    /// Answer from what was read when some input could not be read (an unparsable file, a
    /// chart that did not render, a type the cluster would not list). Without it the command
    /// exits 2 before answering: an answer from the rest could miss what the unread input
    /// holds ("nobody" where someone can).
    #[arg(long, env = "PALISADE_ALLOW_INCOMPLETE", value_parser = clap::builder::BoolishValueParser::new())]
    pub(crate) allow_incomplete: bool,
}

/// How many inputs an answer was made without (`--allow-incomplete`). Every format that can
/// carry a note says so: JSON and text through [`palisade_report::answer::Partial`], YAML
/// and DOT as a comment first; CSV, which has no place for one, through the note on stderr.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct Unread(pub(crate) usize);

impl Unread {
    /// Writes `answer`, headed by the INCOMPLETE note when inputs were not read.
    pub(crate) fn write_answer<A: palisade_report::answer::Answer>(
        self,
        answer: &A,
        format: palisade_report::answer::AnswerFormat,
        out: &mut dyn std::io::Write,
    ) -> std::io::Result<()> {
        use palisade_report::answer::{Partial, write_answer};
        match self.0 {
            0 => write_answer(answer, format, out),
            inputs_not_read => write_answer(
                &Partial {
                    inputs_not_read,
                    answer,
                },
                format,
                out,
            ),
        }
    }

    /// The INCOMPLETE note as a comment line (`# ` for YAML, `// ` for DOT), when inputs
    /// were not read; empty otherwise.
    pub(crate) fn comment(self, marker: &str) -> String {
        match self.0 {
            0 => String::new(),
            n => format!("{marker} {}\n", palisade_report::answer::incomplete_note(n)),
        }
    }

    /// Both inputs' unread counts (a comparison of two inputs).
    pub(crate) fn and(self, other: Unread) -> Unread {
        Unread(self.0 + other.0)
    }
}

/// Loads the objects to analyse, refusing flags that do not apply, an input with no object
/// (no answer would mean anything) and, unless `completeness` allows it, an input of which
/// some part could not be read: a file, or a type of the cluster among the `needed` (group,
/// kind)s, the types the answer is made of (the others a cluster would not list are warned
/// about: the least-privileged reader often may not list Secrets). The diagnostics of
/// reading go to stderr, redacted like every report. Returns what a live cluster serves too,
/// and how many inputs were not read (when `completeness` allows answering without them).
pub(crate) fn load_objects(
    load: &LoadArgs,
    live: &LiveArgs,
    completeness: Completeness,
    needed: &[&[(&str, &str)]],
) -> Result<(
    palisade_inventory::Loaded,
    Vec<palisade_snapshot::format::ListedResource>,
    Unread,
)> {
    // Flags typed for a cluster read refuse to be ignored (the same check as `scan`'s).
    load_objects_if_live(live)?;
    let mut discovered = Vec::new();
    let mut unlisted = 0;
    let mut loaded = if live.cluster {
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
        unlisted = snapshot
            .header
            .errors
            .iter()
            .filter(|e| {
                let failed = (e.group.as_str(), e.kind.as_str());
                needed
                    .iter()
                    .copied()
                    .flatten()
                    .any(|&need| palisade_snapshot::withholds(failed, need))
            })
            .count();
        discovered = snapshot.header.resources.clone();
        snapshot.load()
    } else {
        let (inputs, options) = inputs(load)?;
        palisade_inventory::load(&inputs, &options)
    };
    palisade_scan::scan::redactor(&[&loaded.inventory]).redact_diagnostics(&mut loaded.diagnostics);
    if loaded.inventory.objects.is_empty() {
        crate::print_diagnostics(&loaded.diagnostics, palisade_core::DiagnosticLevel::Info);
        bail!(
            "nothing to analyse: no Kubernetes object was read, so no answer would mean anything"
        );
    }
    // Errors, and every input not read (some of those are warnings), which the refusal
    // below points at.
    for d in &loaded.diagnostics {
        if d.level >= palisade_core::DiagnosticLevel::Error || d.input_not_read() {
            crate::print_diagnostic(d);
        }
    }
    let not_read = unlisted
        + loaded
            .diagnostics
            .iter()
            .filter(|d| d.input_not_read())
            .count();
    if not_read > 0 {
        let inputs = if not_read == 1 { "input" } else { "inputs" };
        if !completeness.allow_incomplete {
            bail!(
                "incomplete: {not_read} {inputs} could not be read (see above), and an answer from \
                 the rest could miss what they hold; fix them, or pass --allow-incomplete to \
                 answer from what was read"
            );
        }
        eprintln!(
            "palisade: note: incomplete: {not_read} {inputs} could not be read; the answer covers \
             what was read"
        );
    }
    Ok((loaded, discovered, Unread(not_read)))
}
