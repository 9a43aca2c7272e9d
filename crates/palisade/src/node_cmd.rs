//! `palisade node --root DIR`: a node's own files judged against the CIS Kubernetes
//! Benchmark's sections 1 to 4. The node is read by `palisade-node`; its static pod manifests,
//! the kubelet's configuration as it runs with it and the files the API server names are
//! judged by the catalogue's rules as a scan judges them, and the files' modes and owners by
//! NODE004 and NODE005. The report is a scan's, in every output format.

use std::path::PathBuf;

use anyhow::{Context as _, Result};
use clap::Args;
use palisade_core::{Diagnostic, DiagnosticLevel, Framework};
use palisade_inventory::LoadOptions;
use palisade_node::rule::{NODE_FILE_OWNERSHIP, NODE_FILE_PERMISSIONS};
use palisade_scan::ScanOptions;

use crate::{Format, OutputArgs, RuleArgs, Spinner, emit, outputs};

#[derive(Args)]
pub(crate) struct NodeArgs {
    /// The node's root directory: `/` on the node itself, or where a pod mounts the node's `/`
    /// (`/host`). Paths the node's files name are read under it, symbolic links included.
    #[arg(long, value_name = "DIR", env = "PALISADE_NODE_ROOT")]
    root: PathBuf,
    #[command(flatten)]
    output: OutputArgs,
    #[command(flatten)]
    select: RuleArgs,
}

/// The rules a node is judged by when neither `--rules` nor `--framework` says: those citing
/// the CIS Kubernetes Benchmark's sections 1 to 4 (control plane, etcd, its configuration and
/// the worker nodes), every control-plane rule (`CP`: CP014 and CP015 judge what the
/// benchmark does not), and the node's file rules. The workload rules would judge the control
/// plane's own pods, which must run as they do (host network, root).
fn node_rules(options: &ScanOptions) -> Vec<String> {
    let node_section = |c: &palisade_core::Control| {
        c.framework == Framework::CisK8s112 && c.id.starts_with(['1', '2', '3', '4'])
    };
    options
        .rules
        .evaluated()
        .into_iter()
        .filter(|r| r.meta().id.starts_with("CP") || r.meta().controls.iter().any(node_section))
        .map(|r| r.meta().id.to_string())
        .chain([
            NODE_FILE_PERMISSIONS.id.to_string(),
            NODE_FILE_OWNERSHIP.id.to_string(),
        ])
        .collect()
}

pub(crate) fn run_node(args: NodeArgs) -> Result<u8> {
    let start = std::time::Instant::now();
    let outputs = outputs(&args.output)?;
    let mut options = args.select.scan_options(
        LoadOptions::default(),
        palisade_policy::EnforcementPoint::Audit,
        None,
    )?;
    options.skip_evaluations = !outputs.formats.iter().any(|(f, _)| *f == Format::Junit);
    if options.only_rules.is_empty() && options.framework.is_none() {
        options.only_rules = node_rules(&options);
    }
    let spinner = Spinner::after_a_second("reading the node");
    let mut node = palisade_node::Node::read(&args.root, &options.load)
        .with_context(|| format!("--root {}", args.root.display()))?;
    let mut diagnostics = node.diagnostics.clone();
    // The kubelet's settings are not "not applicable" on a node: when no kubelet was found, or
    // its configuration file could not be judged (the error says why), nobody looked at them.
    let unassessed = match node.summary() {
        Some(from) => {
            diagnostics.push(Diagnostic::new(
                DiagnosticLevel::Info,
                "kubelet-read",
                format!("the kubelet's command line was read from {from}"),
            ));
            node.kubelet_config.is_none().then_some(
                "the kubelet's configuration file could not be judged (kubelet-config-unread): \
                 its settings are not assessed",
            )
        }
        None => Some(
            "no kubelet was found on the node (no kubelet.service unit, no running kubelet \
             under the root's /proc): its settings are not assessed",
        ),
    };
    if let Some(why) = unassessed {
        options.unlisted.push((
            "kubelet.config.k8s.io".to_string(),
            "KubeletConfiguration".to_string(),
            why.to_string(),
        ));
    }
    let loaded = palisade_inventory::read_sources(node.take_sources(), &options.load);
    let mut report = palisade_scan::scan_loaded(loaded, &options, start);
    node.place_kubelet_findings(&mut report);
    let judged = node.judge_files();
    report.files += node.targets.len();
    for (_, _, why) in &options.unlisted {
        diagnostics.push(Diagnostic::new(
            DiagnosticLevel::Warning,
            "not-listed",
            why.clone(),
        ));
    }
    diagnostics.extend(judged.diagnostics);
    let reported = palisade_scan::Reported {
        rules: vec![&NODE_FILE_PERMISSIONS, &NODE_FILE_OWNERSHIP],
        findings: judged.findings,
        coverage: judged.coverage,
        diagnostics,
    };
    palisade_scan::add_reported(&mut report, reported, &options);
    spinner.done();
    emit(report, &args.output, &outputs)
}
