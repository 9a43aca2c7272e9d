//! `palisade probe HOST...`: each host's API server, kubelet and etcd asked one read-only
//! question with no credential (`palisade-probe`), the answers judged by PRB001-PRB003 and
//! reported as a scan's report, in every output format.

use anyhow::{Result, bail};
use clap::Args;
use palisade_core::{Diagnostic, DiagnosticLevel};
use palisade_probe::{Endpoint, rule::RULES};

use crate::{OutputArgs, Spinner, emit, outputs};

#[derive(Args)]
pub(crate) struct ProbeArgs {
    /// The hosts to probe: control-plane and worker nodes' addresses or names (IPv6 without
    /// brackets). Probe only hosts you are allowed to probe.
    #[arg(required_unless_present = "snapshot", value_name = "HOST")]
    hosts: Vec<String>,
    /// Also probe every node of this snapshot (`palisade snapshot`), at its internal address
    /// (else its external one, else its host name).
    #[arg(long, value_name = "FILE", env = "PALISADE_SNAPSHOT")]
    snapshot: Option<std::path::PathBuf>,
    /// The API server's port.
    #[arg(
        long,
        default_value_t = 6443,
        env = "PALISADE_API_SERVER_PORT",
        help_heading = "Ports"
    )]
    api_server_port: u16,
    /// The kubelet's API port.
    #[arg(
        long,
        default_value_t = 10250,
        env = "PALISADE_KUBELET_PORT",
        help_heading = "Ports"
    )]
    kubelet_port: u16,
    /// The kubelet's read-only port.
    #[arg(
        long,
        default_value_t = 10255,
        env = "PALISADE_READ_ONLY_PORT",
        help_heading = "Ports"
    )]
    read_only_port: u16,
    /// etcd's client port.
    #[arg(
        long,
        default_value_t = 2379,
        env = "PALISADE_ETCD_PORT",
        help_heading = "Ports"
    )]
    etcd_port: u16,
    /// The most one request may take, its connection included (`3s`, `500ms`).
    #[arg(long, default_value = "3s", value_parser = palisade_core::duration::parse, value_name = "DURATION", env = "PALISADE_PROBE_TIMEOUT")]
    timeout: std::time::Duration,
    #[command(flatten)]
    output: OutputArgs,
}

pub(crate) fn run_probe(args: ProbeArgs) -> Result<u8> {
    let start = std::time::Instant::now();
    let outputs = outputs(&args.output)?;
    let mut args = args;
    if let Some(file) = &args.snapshot {
        let snapshot = palisade_snapshot::SnapshotFile::open(file, false)?;
        let nodes = node_addresses(&snapshot.load().inventory);
        if nodes.is_empty() {
            bail!(
                "{}: the snapshot holds no Node with an address",
                file.display()
            );
        }
        for address in nodes {
            if !args.hosts.contains(&address) {
                args.hosts.push(address);
            }
        }
    }
    if let Some(host) = args.hosts.iter().find(|h| h.is_empty() || h.contains('/')) {
        bail!("`{host}` is not a host: give an address or a name, without a scheme or a path");
    }
    let mut options = palisade_probe::Options {
        timeout: args.timeout,
        ..Default::default()
    };
    for (endpoint, port) in [
        (Endpoint::ApiServer, args.api_server_port),
        (Endpoint::Kubelet, args.kubelet_port),
        (Endpoint::KubeletReadOnly, args.read_only_port),
        (Endpoint::Etcd, args.etcd_port),
    ] {
        options.set_port(endpoint, port);
    }
    let spinner = Spinner::after_a_second("probing");
    let probed = palisade_probe::probe(&args.hosts, &options);
    spinner.done();
    let mut scan = palisade_scan::ScanOptions::default();
    for meta in RULES {
        scan.rules
            .add_reported(meta)
            .map_err(|e| anyhow::anyhow!("built-in rule sets clash: {e}"))?;
    }
    scan.only_rules = RULES.iter().map(|m| m.id.to_string()).collect();
    let mut report =
        palisade_scan::scan_loaded(palisade_inventory::Loaded::default(), &scan, start);
    let mut diagnostics = probed.diagnostics;
    if probed.judged == 0 {
        diagnostics.push(
            Diagnostic::new(
                DiagnosticLevel::Error,
                "probe-failed",
                format!(
                    "no endpoint of {} answered: nothing was judged (a firewall between here and \
                     the nodes, or the wrong ports?)",
                    args.hosts.join(", ")
                ),
            )
            .input_unread(),
        );
    }
    palisade_scan::add_reported(
        &mut report,
        palisade_scan::Reported {
            rules: RULES.to_vec(),
            findings: probed.findings,
            coverage: probed.coverage,
            diagnostics,
        },
        &scan,
    );
    emit(report, &args.output, &outputs)
}

/// Each Node's address ([`palisade_k8s::node_address::node_address`]).
fn node_addresses(inventory: &palisade_inventory::Inventory) -> Vec<String> {
    inventory
        .objects
        .iter()
        .filter(|o| o.id.kind == "Node" && o.id.group().is_empty())
        .filter_map(|o| palisade_k8s::node_address::node_address(&o.value))
        .map(str::to_string)
        .collect()
}
