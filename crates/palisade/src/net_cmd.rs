//! `palisade net`: the workload connectivity matrix, why one connection is allowed or not,
//! and connectivity gained or lost between two inputs, over the same inputs as `scan`.

use std::sync::Arc;

use anyhow::{Context, Result, bail};
use clap::{Args, Subcommand, ValueEnum};
use palisade_net::addr::AddrRange;
use palisade_net::answers::{DiffAnswer, MatrixAnswer, WhyAnswer};
use palisade_net::matrix::{diff, matrix, party_name};
use palisade_net::{Conn, Engine, IngressPlacement, Network, Party, Protocol};

use crate::LoadArgs;
use crate::analysis_input::{Completeness, LiveArgs, NETWORK, Unread, load_objects};

#[derive(Subcommand)]
pub enum NetCommand {
    /// Every allowed connection: workloads, external addresses and the ingress controller.
    Matrix(MatrixArgs),
    /// Why a connection is allowed or denied: the policies and rules that decide.
    Why(WhyArgs),
    /// Connectivity gained or lost from OLD to NEW (review a policy change before it ships).
    Diff(DiffArgs),
    /// Every way in from outside: Services exposed by their type, Ingresses, Routes and
    /// Gateway API routes, each with why it is reachable from outside (or stays inside), the
    /// workloads behind it and what their ingress policies let in.
    Exposure(ExposureArgs),
    /// Write NetworkPolicies: a default deny per namespace, DNS, and allow rules for the flows
    /// Services, Ingresses and container ports imply (or an observed flow list), with the
    /// connectivity they change.
    Generate(GenerateArgs),
}

/// `net generate` formats.
#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
enum ManifestFormat {
    Yaml,
    Json,
}

#[derive(Args)]
pub struct GenerateArgs {
    /// Only this namespace.
    #[arg(short = 'n', long, env = "PALISADE_NET_NAMESPACE")]
    namespace: Option<String>,
    /// Observed flows, a CSV of `src,dst,port` (`shop/web,shop/api,8080/TCP`; ends may be
    /// CIDRs): allowed in addition to what the manifests imply.
    #[arg(long, value_name = "FILE", env = "PALISADE_NET_FLOWS")]
    flows: Option<std::path::PathBuf>,
    /// What is read, and where the ingress controller runs: the rules written admit its
    /// namespace (`ingress-nginx` unless `--ingress-namespace` says otherwise).
    #[command(flatten)]
    input: NetInput,
    /// `yaml` (the policies, headed by the connectivity they change) or `json`.
    #[arg(short = 'o', long = "output", value_enum, default_value_t = ManifestFormat::Yaml, env = "PALISADE_NET_GENERATE_OUTPUT")]
    output: ManifestFormat,
}

/// `net matrix` formats.
#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
enum MatrixFormat {
    Table,
    Json,
    Csv,
    Dot,
}

/// Where the ingress controller runs. Unknown unless given: a rule that selects namespaces or
/// pods by label may or may not admit it, and answers that depend on one are not final.
#[derive(Args, Default)]
pub struct IngressArgs {
    /// The namespace the ingress controller runs in (its labels are the Namespace object's
    /// when the input has it).
    #[arg(long, value_name = "NAMESPACE", env = "PALISADE_NET_INGRESS_NAMESPACE")]
    ingress_namespace: Option<String>,
    /// A label of the ingress controller's pods (repeatable):
    /// `app.kubernetes.io/name=ingress-nginx`. Given once, the controller's pods have these
    /// labels and no other.
    #[arg(
        long = "ingress-label",
        value_name = "KEY=VALUE",
        value_parser = parse_label,
        env = "PALISADE_NET_INGRESS_LABEL",
        value_delimiter = ','
    )]
    ingress_labels: Vec<(String, String)>,
}

/// Where the API server is, as the network plugin sees it. Unknown unless given: what a
/// workload may open to some addresses only may or may not include it.
#[derive(Args, Default)]
pub struct ApiServerArgs {
    /// The API server's address (a CIDR or address; repeatable, or comma-separated; or
    /// `api-server` in palisade.toml's `[network]`), as your network plugin sees it (for most,
    /// the API server's own address rather than the `kubernetes` Service's): answers about
    /// `api-server` are what the policies allow to it, and `net generate` lets the workloads
    /// that call it (a binding grants their account something, and they mount its token)
    /// open it on TCP 443 and 6443
    #[arg(
        long = "api-server",
        value_name = "CIDR",
        value_parser = parse_api_server,
        env = "PALISADE_NET_API_SERVER",
        value_delimiter = ','
    )]
    api_server: Vec<palisade_net::addr::AddrRange>,
}

/// What a network answer is read from (the manifests, or the cluster), and where the ingress
/// controller and the API server are.
#[derive(Args)]
pub struct NetInput {
    #[command(flatten)]
    ingress: IngressArgs,
    #[command(flatten)]
    api: ApiServerArgs,
    /// `palisade.toml`'s `[network]`: where the ingress controller runs and the API server is
    /// (the flags win).
    #[command(flatten)]
    config: crate::ConfigArgs,
    #[command(flatten)]
    load: LoadArgs,
    #[command(flatten)]
    live: LiveArgs,
    #[command(flatten)]
    completeness: Completeness,
}

impl NetInput {
    /// Where the ingress controller runs and the API server is ([`ApiServerArgs::placement`]).
    fn placement(&self) -> Result<IngressPlacement> {
        self.api.placement(&self.ingress, &self.config)
    }

    /// The objects and their network, the ingress controller placed as `placement` says.
    fn read(
        &self,
        placement: &IngressPlacement,
    ) -> Result<(palisade_inventory::Inventory, Arc<Network>, Unread)> {
        read(&self.load, &self.live, self.completeness, placement)
    }

    /// The network alone, the ingress controller placed where the input says.
    fn network(&self) -> Result<(Arc<Network>, Unread)> {
        network(
            &self.load,
            &self.live,
            self.completeness,
            &self.placement()?,
        )
    }
}

impl IngressArgs {
    /// Where the ingress controller runs: `palisade.toml`'s `[network]` (the file `config`
    /// names, if any), with these flags in place of what they give.
    pub(crate) fn placement(&self, config: &crate::ConfigArgs) -> Result<IngressPlacement> {
        let configured = match config.path() {
            Some(path) => IngressPlacement::load(&path)?,
            None => IngressPlacement::default(),
        };
        let labels = (!self.ingress_labels.is_empty()).then(|| {
            self.ingress_labels
                .iter()
                .map(|(k, v)| (k.clone(), serde_json::Value::String(v.clone())))
                .collect()
        });
        Ok(configured.overridden_by(IngressPlacement {
            namespace: self.ingress_namespace.clone(),
            labels,
            api_server: None,
        }))
    }
}

impl ApiServerArgs {
    /// Where the ingress controller runs and the API server is: `palisade.toml`'s
    /// `[network]`, with the flags (`ingress`'s and these) in place of what they give.
    fn placement(
        &self,
        ingress: &IngressArgs,
        config: &crate::ConfigArgs,
    ) -> Result<IngressPlacement> {
        let mut placement = ingress.placement(config)?;
        if !self.api_server.is_empty() {
            placement.api_server = Some(self.api_server.clone());
        }
        Ok(placement)
    }
}

/// An address or CIDR of the API server (`10.0.0.1`, `192.168.49.2/32`).
fn parse_api_server(text: &str) -> Result<palisade_net::addr::AddrRange, String> {
    palisade_net::addr::AddrRange::parse_cidr(text.trim())
}

/// `KEY=VALUE`, a label as a selector reads it.
fn parse_label(text: &str) -> Result<(String, String), String> {
    match text.split_once('=') {
        Some((key, value)) if !key.trim().is_empty() => {
            Ok((key.trim().to_string(), value.trim().to_string()))
        }
        _ => Err(format!("`{text}` is not KEY=VALUE")),
    }
}

#[derive(Args)]
pub struct MatrixArgs {
    /// Only connections with an end in this namespace.
    #[arg(short = 'n', long, env = "PALISADE_NET_NAMESPACE")]
    namespace: Option<String>,
    #[command(flatten)]
    input: NetInput,
    /// `table`, `json`, `csv` or `dot` (Graphviz).
    #[arg(short = 'o', long = "output", value_enum, default_value_t = MatrixFormat::Table, env = "PALISADE_NET_OUTPUT")]
    output: MatrixFormat,
}

#[derive(Args)]
pub struct WhyArgs {
    /// The source: a workload (`NS/NAME`, `NS/KIND/NAME`), an IP address or CIDR, or
    /// `ingress-controller`.
    src: String,
    /// The destination: a workload, an IP address or CIDR, `cluster-dns` (when the input has
    /// no DNS workload of its own) or `api-server`.
    dst: String,
    /// The port: `8080`, `8080/TCP`, `53/UDP`, or a container port name (`http/TCP`).
    #[arg(long, short = 'p', env = "PALISADE_NET_PORT")]
    port: Option<String>,
    #[command(flatten)]
    input: NetInput,
    /// `table` or `json`.
    #[arg(short = 'o', long = "output", value_enum, default_value_t = crate::ListFormat::Table, env = "PALISADE_NET_WHY_OUTPUT")]
    output: crate::ListFormat,
}

#[derive(Args)]
pub struct DiffArgs {
    /// The manifests before the change (file or directory).
    old: std::path::PathBuf,
    /// The manifests after the change.
    new: std::path::PathBuf,
    /// Only pairs with an end in this namespace.
    #[arg(short = 'n', long, env = "PALISADE_NET_NAMESPACE")]
    namespace: Option<String>,
    /// `table` or `json`.
    #[arg(short = 'o', long = "output", value_enum, default_value_t = crate::ListFormat::Table, env = "PALISADE_NET_DIFF_OUTPUT")]
    output: crate::ListFormat,
    #[command(flatten)]
    ingress: IngressArgs,
    #[command(flatten)]
    api: ApiServerArgs,
    /// `palisade.toml`'s `[network]`: where the ingress controller runs and the API server is
    /// (the flags win).
    #[command(flatten)]
    config: crate::ConfigArgs,
    #[command(flatten)]
    completeness: Completeness,
}

pub fn run(command: NetCommand) -> Result<u8> {
    match command {
        NetCommand::Matrix(args) => run_matrix(&args),
        NetCommand::Why(args) => run_why(&args),
        NetCommand::Diff(args) => run_diff(&args),
        NetCommand::Exposure(args) => run_exposure(&args),
        NetCommand::Generate(args) => run_generate(&args),
    }
}

/// Reads the network of the inputs; diagnostics (redacted) and invalid policies go to
/// stderr. Also how many inputs were not read.
fn network(
    load: &LoadArgs,
    live: &LiveArgs,
    completeness: Completeness,
    placement: &IngressPlacement,
) -> Result<(Arc<Network>, Unread)> {
    let (_, network, unread) = read(load, live, completeness, placement)?;
    Ok((network, unread))
}

/// The network of `inventory`, the ingress controller and the API server placed as
/// `placement` says.
fn placed_network(
    inventory: &palisade_inventory::Inventory,
    placement: &IngressPlacement,
) -> Network {
    let mut network = Network::from_inventory(inventory);
    network.place_ingress(placement);
    network
}

/// The inventory and its network, placed as `placement` says, and how many inputs were not
/// read.
fn read(
    load: &LoadArgs,
    live: &LiveArgs,
    completeness: Completeness,
    placement: &IngressPlacement,
) -> Result<(palisade_inventory::Inventory, Arc<Network>, Unread)> {
    let (loaded, _, unread) = load_objects(load, live, completeness, &[NETWORK])?;
    let network = placed_network(&loaded.inventory, placement);
    Ok((loaded.inventory, Arc::new(network), unread))
}

/// Says on stderr which namespaces have answers that depend on labels the input does not
/// give, and how to give them: the matrix marks each pair, this names the remedy once.
fn note_namespaces_guessed(engine: &Engine, input: Option<&std::path::Path>) {
    let guessed = engine.namespaces_guessed();
    if guessed.is_empty() {
        return;
    }
    const SHOWN: usize = 5;
    let mut names: Vec<&str> = guessed.iter().copied().take(SHOWN).collect();
    if guessed.len() > SHOWN {
        names.push("...");
    }
    let of = input.map_or_else(String::new, |p| format!("{}: ", p.display()));
    eprintln!(
        "palisade: note: {of}{} namespaces ({}) have no Namespace object in the input, and policies select namespaces by labels they may have: the pairs that depend on it are not final. Add their Namespace objects (`kubectl get namespaces -o yaml`) or read a snapshot for final answers",
        guessed.len(),
        names.join(", ")
    );
}

fn check_namespace(network: &Network, namespace: Option<&str>) -> Result<()> {
    if let Some(ns) = namespace
        && !network.namespaces.contains(ns)
    {
        let known: Vec<&str> = network.namespaces.names().collect();
        bail!(
            "no namespace `{ns}` in the input (known: {})",
            known.join(", ")
        );
    }
    Ok(())
}

/// The most connections listed sorted, and the most a table or a diff holds; larger
/// matrices are written as they are computed (CSV, JSON, DOT), in the engine's order.
const HELD: usize = 1_000_000;

#[derive(Args)]
pub struct ExposureArgs {
    /// Only the ways in to Services of this namespace.
    #[arg(short = 'n', long, env = "PALISADE_NET_NAMESPACE")]
    namespace: Option<String>,
    #[command(flatten)]
    input: NetInput,
    /// `table` or `json`.
    #[arg(short = 'o', long = "output", value_enum, default_value_t = crate::ListFormat::Table, env = "PALISADE_NET_EXPOSURE_OUTPUT")]
    output: crate::ListFormat,
}

fn run_exposure(args: &ExposureArgs) -> Result<u8> {
    use std::io::Write;
    let placement = args.input.placement()?;
    let (inventory, network, unread) = args.input.read(&placement)?;
    check_namespace(&network, args.namespace.as_deref())?;
    let engine = Engine::new(Arc::clone(&network));
    note_namespaces_guessed(&engine, None);
    let answer = palisade_net::answers::ExposureAnswer {
        ways_in: palisade_net::surface::ways_in(&engine, &inventory, args.namespace.as_deref()),
    };
    let format = match args.output {
        crate::ListFormat::Json => palisade_report::answer::AnswerFormat::Json,
        crate::ListFormat::Table => palisade_report::answer::AnswerFormat::Text,
    };
    let mut out = std::io::BufWriter::new(std::io::stdout().lock());
    unread.write_answer(&answer, format, &mut out)?;
    out.flush()?;
    Ok(0)
}

fn run_matrix(args: &MatrixArgs) -> Result<u8> {
    use std::io::Write;
    let (network, unread) = args.input.network()?;
    check_namespace(&network, args.namespace.as_deref())?;
    let engine = Engine::new(Arc::clone(&network));
    note_namespaces_guessed(&engine, None);
    let ns = args.namespace.as_deref();
    let total = palisade_net::matrix::count(&engine, ns);
    let mut out = std::io::BufWriter::new(std::io::stdout().lock());
    if total > HELD {
        let matrix = Streamed {
            engine: &engine,
            network: &network,
            ns,
            total,
        };
        return stream_matrix(&matrix, args.output, unread, &mut out);
    }
    let answer = MatrixAnswer::new(&network, matrix(&engine, ns));
    match args.output {
        // CSV has no place for a note: the one on stderr says it.
        MatrixFormat::Csv => out.write_all(answer.csv().as_bytes())?,
        MatrixFormat::Dot => {
            out.write_all(unread.comment("//").as_bytes())?;
            out.write_all(answer.dot().as_bytes())?;
        }
        MatrixFormat::Json => unread.write_answer(
            &answer,
            palisade_report::answer::AnswerFormat::Json,
            &mut out,
        )?,
        MatrixFormat::Table => unread.write_answer(
            &answer,
            palisade_report::answer::AnswerFormat::Text,
            &mut out,
        )?,
    }
    out.flush()?;
    Ok(0)
}

/// A matrix too large to hold, to be written connection by connection.
struct Streamed<'a> {
    engine: &'a Engine,
    network: &'a Network,
    ns: Option<&'a str>,
    total: usize,
}

/// Writes a matrix too large to hold connection by connection.
fn stream_matrix(
    matrix: &Streamed<'_>,
    format: MatrixFormat,
    unread: Unread,
    out: &mut dyn std::io::Write,
) -> Result<u8> {
    let Streamed {
        engine,
        network,
        ns,
        total,
    } = *matrix;
    use palisade_net::answers::{CSV_HEADER, DOT_FOOTER, DOT_HEADER, csv_line, dot_line};
    if format == MatrixFormat::Table {
        bail!(
            "{total} connections are too many for a table: use -o csv, -o json or -o dot (written as they are computed, grouped rather than sorted), or narrow with -n NAMESPACE"
        );
    }
    eprintln!(
        "palisade: note: {total} connections: written as they are computed, grouped rather than sorted"
    );
    let mut failure: Option<std::io::Error> = None;
    let mut write = |text: &[u8]| {
        if failure.is_none()
            && let Err(e) = out.write_all(text)
        {
            failure = Some(e);
        }
    };
    match format {
        MatrixFormat::Csv => {
            write(CSV_HEADER.as_bytes());
            palisade_net::matrix::stream(engine, ns, &mut |c| write(csv_line(&c).as_bytes()));
        }
        MatrixFormat::Dot => {
            write(unread.comment("//").as_bytes());
            write(DOT_HEADER.as_bytes());
            palisade_net::matrix::stream(engine, ns, &mut |c| write(dot_line(&c).as_bytes()));
            write(DOT_FOOTER.as_bytes());
        }
        _ => {
            // The same document as the held answer, its list written item by item.
            let shell = MatrixAnswer::new(network, Vec::new());
            // The same field a held answer made without some inputs has first.
            let partial = match unread.0 {
                0 => String::new(),
                n => format!("\n  \"inputs_not_read\": {n},"),
            };
            let head = format!(
                "{{{partial}\n  \"workloads\": {},\n  \"policies\": {},\n  \"connections\": [",
                shell.workloads, shell.policies
            );
            write(head.as_bytes());
            let mut first = true;
            palisade_net::matrix::stream(engine, ns, &mut |c| {
                let item = serde_json::to_string(&c).unwrap_or_default();
                let sep = if first { "\n    " } else { ",\n    " };
                first = false;
                write(format!("{sep}{item}").as_bytes());
            });
            let tail = format!(
                "\n  ],\n  \"not_evaluated\": {},\n  \"invalid_policies\": {}\n}}\n",
                serde_json::to_string(&shell.not_evaluated).unwrap_or_default(),
                serde_json::to_string(&shell.invalid_policies).unwrap_or_default()
            );
            write(tail.as_bytes());
        }
    }
    if let Some(e) = failure {
        return Err(e.into());
    }
    out.flush()?;
    Ok(0)
}

/// A party named on the command line.
fn party(network: &Network, text: &str) -> Result<Party> {
    match text {
        "ingress-controller" | "{ingress-controller}" => return Ok(Party::IngressController),
        "api-server" | "{api-server}" => return Ok(Party::ApiServer),
        "cluster-dns" | "{cluster-dns}" if network.has_cluster_dns => {
            bail!(
                "the input has its own cluster DNS workloads (kube-system, k8s-app: kube-dns): name one as NS/NAME"
            )
        }
        "cluster-dns" | "{cluster-dns}" => return Ok(Party::ClusterDns),
        _ => {}
    }
    // An address, CIDR or range; names of workloads never parse as one.
    if let Ok(range) = AddrRange::parse(text) {
        return Ok(Party::Addr(range));
    }
    network
        .find(text)
        .map(Party::Pod)
        .map_err(anyhow::Error::msg)
}

/// `8080`, `8080/TCP`, `http/TCP` (a named port of the destination).
fn port(network: &Network, dst: Party, text: &str) -> Result<Conn> {
    let (port, protocol) = text.split_once('/').unwrap_or((text, "TCP"));
    let protocol = Protocol::parse(&protocol.to_ascii_uppercase())
        .with_context(|| format!("`{text}`: the protocol is TCP, UDP or SCTP"))?;
    if let Ok(n) = port.parse::<u16>() {
        if n == 0 {
            bail!("`{text}`: ports are 1-65535");
        }
        return Ok(Conn::port(protocol, n));
    }
    let Party::Pod(d) = dst else {
        bail!("`{text}`: a named port needs a workload destination");
    };
    let found = network.endpoints[d].named_port(port, Some(protocol));
    if found.is_empty() {
        bail!(
            "`{text}`: {} declares no {} port named `{port}`",
            network.endpoints[d].id(),
            protocol.name()
        );
    }
    Ok(found
        .into_iter()
        .fold(Conn::none(), |acc, (p, n)| acc.union(&Conn::port(p, n))))
}

fn run_why(args: &WhyArgs) -> Result<u8> {
    let (network, unread) = args.input.network()?;
    let src = party(&network, &args.src)?;
    let dst = party(&network, &args.dst)?;
    if matches!(dst, Party::IngressController) {
        bail!("the ingress controller is only a source: its own policies are not in the input");
    }
    if matches!(src, Party::ClusterDns | Party::ApiServer) {
        bail!("cluster DNS and the API server are only destinations");
    }
    if matches!(
        (src, dst),
        (Party::Addr(_), Party::Addr(_) | Party::ApiServer)
    ) {
        bail!("one end must be a workload (or the ingress controller)");
    }
    let asked = args
        .port
        .as_deref()
        .map(|p| port(&network, dst, p))
        .transpose()?;
    let engine = Engine::new(Arc::clone(&network));
    let mut steps = Vec::new();
    let verdict = engine.verdict(src, dst, Some(&mut steps));
    let allowed_here = match &asked {
        Some(conn) => verdict.conn.covers(conn),
        None => !verdict.conn.is_empty(),
    };
    let answer = WhyAnswer {
        src: party_name(&engine, src),
        dst: party_name(&engine, dst),
        port: args.port.clone(),
        verdict: if allowed_here { "allowed" } else { "denied" },
        is_final: verdict.not_evaluated.is_empty(),
        allowed: verdict.conn.clone(),
        steps,
        not_evaluated: verdict.not_evaluated.into_iter().collect(),
    };
    let format = match args.output {
        crate::ListFormat::Json => palisade_report::answer::AnswerFormat::Json,
        crate::ListFormat::Table => palisade_report::answer::AnswerFormat::Text,
    };
    unread.write_answer(&answer, format, &mut std::io::stdout().lock())?;
    Ok(0)
}

fn run_diff(args: &DiffArgs) -> Result<u8> {
    let placement = args.api.placement(&args.ingress, &args.config)?;
    let read = |path: &std::path::Path| -> Result<(Arc<Network>, Unread)> {
        let load = LoadArgs::for_path(path);
        network(&load, &LiveArgs::default(), args.completeness, &placement)
            .with_context(|| format!("reading {}", path.display()))
    };
    let ((old, unread_old), (new, unread_new)) = (read(&args.old)?, read(&args.new)?);
    let unread = unread_old.and(unread_new);
    for (net, path) in [(&old, &args.old), (&new, &args.new)] {
        if let Some(ns) = args.namespace.as_deref()
            && !net.namespaces.contains(ns)
        {
            eprintln!("palisade: note: {} has no namespace `{ns}`", path.display());
        }
    }
    let (a, b) = (Engine::new(Arc::clone(&old)), Engine::new(Arc::clone(&new)));
    note_namespaces_guessed(&a, Some(&args.old));
    note_namespaces_guessed(&b, Some(&args.new));
    for (engine, path) in [(&a, &args.old), (&b, &args.new)] {
        let total = palisade_net::matrix::count(engine, args.namespace.as_deref());
        if total > HELD {
            bail!(
                "{}: {total} connections are too many to compare whole: narrow with -n NAMESPACE",
                path.display()
            );
        }
    }
    let answer = DiffAnswer::new(&old, &new, diff(&a, &b, args.namespace.as_deref()));
    let format = match args.output {
        crate::ListFormat::Json => palisade_report::answer::AnswerFormat::Json,
        crate::ListFormat::Table => palisade_report::answer::AnswerFormat::Text,
    };
    unread.write_answer(&answer, format, &mut std::io::stdout().lock())?;
    Ok(0)
}

/// Where `net generate` admits the ingress controller from when nobody says.
const GUESSED_INGRESS_NAMESPACE: &str = "ingress-nginx";

/// Says on stderr that the policies admit the ingress controller from a guessed namespace,
/// when something of the input opens a way in (an Ingress, a Route, a Gateway API route);
/// for Gateway API routes, where their proxies run.
fn note_ingress_namespace_guessed(inventory: &palisade_inventory::Inventory) {
    let unplaced = |o: &palisade_inventory::Object| o.id.namespace.clone().unwrap_or_default();
    if palisade_net::exposure::doors(inventory, &unplaced).is_empty() {
        return;
    }
    let routes = palisade_net::gateway::ROUTE_KINDS.iter().any(|kind| {
        inventory
            .of_kind(palisade_net::gateway::GROUP, kind)
            .next()
            .is_some()
    });
    let gateway = if routes {
        "; the Gateway API's proxies run in their Gateway's namespace with Istio, Contour and NGINX Gateway Fabric, and in envoy-gateway-system with Envoy Gateway's default"
    } else {
        ""
    };
    eprintln!(
        "palisade: note: the policies admit the ingress controller from namespace {GUESSED_INGRESS_NAMESPACE}, a guess: give --ingress-namespace, or ingress-namespace in palisade.toml's [network], where yours runs{gateway}"
    );
}

/// Says on stderr which generated workloads call the API server (`clients`, inventory
/// objects) and lose it to the default deny, when `--api-server` does not say where it is.
fn note_api_clients_cut_off(network: &Network, clients: &[usize], namespace: Option<&str>) {
    let cut: Vec<String> = network
        .endpoints
        .iter()
        .filter(|e| !e.host_network && namespace.is_none_or(|ns| ns == e.namespace))
        .filter(|e| clients.binary_search(&e.object).is_ok())
        .map(|e| e.id())
        .collect();
    if cut.is_empty() {
        return;
    }
    const SHOWN: usize = 5;
    let more = match cut.len().saturating_sub(SHOWN) {
        0 => String::new(),
        n => format!(" and {n} more"),
    };
    eprintln!(
        "palisade: note: the default deny cuts off from the API server the workloads that call it (a binding grants their account something and they mount its token): {}{more}; give --api-server with its address to allow them",
        cut[..cut.len().min(SHOWN)].join(", ")
    );
}

fn run_generate(args: &GenerateArgs) -> Result<u8> {
    use palisade_net::generate::{Options, generate, parse_flows, with_policies};
    let mut placement = args.input.placement()?;
    let guessed = placement.namespace.is_none();
    let ingress_namespace = placement
        .namespace
        .get_or_insert_with(|| GUESSED_INGRESS_NAMESPACE.to_string())
        .clone();
    let (inventory, network, unread) = args.input.read(&placement)?;
    check_namespace(&network, args.namespace.as_deref())?;
    if guessed {
        note_ingress_namespace_guessed(&inventory);
    }
    let flows = match &args.flows {
        Some(path) => {
            let text = std::fs::read_to_string(path)
                .with_context(|| format!("reading {}", path.display()))?;
            parse_flows(&network, &text).map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?
        }
        None => Vec::new(),
    };
    let api_clients = palisade_rbac::model::Policy::from_inventory(&inventory).api_clients();
    let api_server = placement.api_server.clone().unwrap_or_default();
    if api_server.is_empty() {
        note_api_clients_cut_off(&network, &api_clients, args.namespace.as_deref());
    }
    let options = Options {
        namespace: args.namespace.clone(),
        ingress_namespace,
        flows,
        api_server,
        api_clients,
    };
    let policies = generate(&network, &inventory, &options);
    if policies.is_empty() {
        bail!("no workload to write policies for in the input");
    }
    let after = Arc::new(placed_network(
        &with_policies(&inventory, &policies),
        &placement,
    ));
    let (before, after) = (Engine::new(Arc::clone(&network)), Engine::new(after));
    let ns = args.namespace.as_deref();
    let total = palisade_net::matrix::count(&before, ns);
    let changes = if total > HELD {
        eprintln!(
            "palisade: note: {total} connections before the policies are too many to compare whole; the YAML is not headed by its effect (compare with `net diff -n NAMESPACE`)"
        );
        Vec::new()
    } else {
        diff(&before, &after, ns)
    };
    let answer = palisade_net::answers::GenerateAnswer { policies, changes };
    let mut out = std::io::stdout().lock();
    match args.output {
        ManifestFormat::Yaml => {
            use std::io::Write;
            out.write_all(unread.comment("#").as_bytes())?;
            out.write_all(answer.yaml().as_bytes())?;
        }
        ManifestFormat::Json => unread.write_answer(
            &answer,
            palisade_report::answer::AnswerFormat::Json,
            &mut out,
        )?,
    }
    Ok(0)
}
