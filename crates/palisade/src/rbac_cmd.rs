//! `palisade rbac`: who-can, effective permissions, escalation paths, and least-privilege
//! roles from audit logs, over the same inputs as `palisade scan`.

use std::path::PathBuf;

use anyhow::{Context, Result, bail};
use clap::{Args, Subcommand};
use palisade_graph::{Goal, Path};
use palisade_rbac::graph::workload_node;
use palisade_rbac::risk::{Targets, Valuation};
use palisade_rbac::{Policy, Request, Subject};
use palisade_rbac::{access, audit};

use crate::analysis_input::{Completeness, LiveArgs, NETWORK, RBAC_POLICY, RUNNING_AS, Unread};
use crate::{ListFormat, LoadArgs};

/// `rbac generate` formats: the roles to apply, or JSON.
#[derive(Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum ManifestFormat {
    Yaml,
    Json,
}

#[derive(Subcommand)]
pub enum RbacCommand {
    /// Which subjects may make a request, and the binding, role and rule that allow it.
    WhoCan(WhoCanArgs),
    /// A subject's effective permissions: a matrix of resources and verbs.
    Access(AccessArgs),
    /// Escalation paths, as chains of evidence, to cluster-admin, Secrets or nodes.
    Paths(PathsArgs),
    /// The few fixes that cut the most risk: choke points of the attack paths to cluster-admin,
    /// nodes and Secrets, weighed by how likely each start is and how critical each target
    /// (`palisade.dev/criticality` on Namespaces).
    Fixes(FixesArgs),
    /// The minimal Role/ClusterRole and binding covering what a subject did, from audit logs.
    Generate(GenerateArgs),
}

#[derive(Args)]
pub struct WhoCanArgs {
    /// The verb: get, list, create, update, patch, delete, impersonate, escalate, bind, ...
    verb: String,
    /// `resource[.group][/subresource]` (`pods/exec`, `deployments.apps`,
    /// `certificatesigningrequests.certificates.k8s.io/approval`), or a URL path (`/metrics`).
    resource: String,
    /// Namespace of the request; without it, the request is cluster-wide.
    #[arg(short = 'n', long, env = "PALISADE_RBAC_NAMESPACE")]
    namespace: Option<String>,
    /// Name of the object, for roles restricted by resourceNames.
    #[arg(long, env = "PALISADE_RBAC_NAME")]
    name: Option<String>,
    #[command(flatten)]
    load: LoadArgs,
    #[command(flatten)]
    live: LiveArgs,
    #[command(flatten)]
    completeness: Completeness,
    /// `table` or `json`.
    #[arg(short = 'o', long = "output", value_enum, default_value_t = ListFormat::Table, env = "PALISADE_RBAC_OUTPUT")]
    output: ListFormat,
}

#[derive(Args)]
pub struct AccessArgs {
    /// `sa:NS/NAME`, `user:NAME`, `group:NAME` (or `system:serviceaccount:NS:NAME`).
    subject: String,
    /// Evaluate namespaced requests in this namespace; without it, cluster-wide requests.
    #[arg(short = 'n', long, env = "PALISADE_RBAC_NAMESPACE")]
    namespace: Option<String>,
    /// A group the user is in, as the authenticator reports it (repeatable), like
    /// `kubectl auth can-i --as-group`. Implicit groups are always added.
    #[arg(
        long = "group",
        value_name = "GROUP",
        env = "PALISADE_RBAC_GROUPS",
        value_delimiter = ','
    )]
    groups: Vec<String>,
    #[command(flatten)]
    load: LoadArgs,
    #[command(flatten)]
    live: LiveArgs,
    #[command(flatten)]
    completeness: Completeness,
    /// `table` or `json`.
    #[arg(short = 'o', long = "output", value_enum, default_value_t = ListFormat::Table, env = "PALISADE_RBAC_OUTPUT")]
    output: ListFormat,
}

#[derive(Args)]
pub struct FixesArgs {
    /// The targets whose paths to cut: `all` (cluster-admin, nodes, the Secrets and control of
    /// each namespace), `cluster-admin`, `nodes` or `secrets`.
    #[arg(long, default_value = "all", env = "PALISADE_RBAC_TO")]
    to: String,
    /// The most fixes to list (the plan stops earlier when no risk is left).
    #[arg(long, default_value_t = 10, value_parser = clap::value_parser!(u16).range(1..), env = "PALISADE_RBAC_FIX_LIMIT")]
    limit: u16,
    /// An object not to change, written as the plan writes it (`ClusterRoleBinding NAME`,
    /// `RoleBinding NS/NAME`, `Deployment NS/NAME`, `Secret NS/NAME`): an operator that needs
    /// its token, a node agent that needs the node. What it alone makes possible is counted
    /// as by design. Repeatable; a name no fix changes is an error.
    #[arg(
        long = "keep",
        value_name = "OBJECT",
        env = "PALISADE_RBAC_KEEP",
        value_delimiter = ','
    )]
    keep: Vec<String>,
    /// `palisade.toml`'s `[criticality]`: namespaces by name or pattern, each a level, which
    /// wins over a Namespace's `palisade.dev/criticality`.
    #[command(flatten)]
    config: crate::ConfigArgs,
    /// Where the ingress controller runs (also `[network]` in `palisade.toml`): the
    /// internet's way in through an Ingress or a Gateway API route.
    #[command(flatten)]
    ingress: crate::net_cmd::IngressArgs,
    /// `--sbom` and `--osv-db`: a workload whose image has a flaw of high severity or more
    /// exploited over the network is a likelier start (doubled when the internet reaches it).
    #[command(flatten)]
    images: crate::ImageArgs,
    #[command(flatten)]
    policies: AdmissionPolicyArgs,
    #[command(flatten)]
    load: LoadArgs,
    #[command(flatten)]
    live: LiveArgs,
    #[command(flatten)]
    completeness: Completeness,
    /// `table` or `json`.
    #[arg(short = 'o', long = "output", value_enum, default_value_t = ListFormat::Table, env = "PALISADE_RBAC_OUTPUT")]
    output: ListFormat,
}

/// The cluster's admission policies, which decide where "create pods → a node" is a step.
#[derive(Args)]
pub struct AdmissionPolicyArgs {
    /// The cluster's admission policies (Gatekeeper ConstraintTemplates and Constraints,
    /// ValidatingAdmissionPolicies with their bindings; files or directories): "create pods →
    /// a node" is a step only in namespaces where they let some pod that would own its node
    /// in (Pod Security labels are always read). Repeatable.
    #[arg(
        long = "policy",
        value_name = "PATH",
        env = "PALISADE_POLICY",
        value_delimiter = ','
    )]
    policies: Vec<PathBuf>,
    /// Also read the admission policies among the objects analysed (those a live cluster or
    /// a snapshot holds).
    #[arg(long, env = "PALISADE_CLUSTER_POLICIES")]
    cluster_policies: bool,
}

impl AdmissionPolicyArgs {
    /// The escalation graph of `policy`, asking these admission policies what they refuse;
    /// with `fixes`, each edge names the fix that takes it away.
    fn graph(
        &self,
        policy: &Policy,
        inventory: &palisade_inventory::Inventory,
        fixes: bool,
        ingress: &palisade_net::IngressPlacement,
    ) -> Result<palisade_graph::Graph> {
        let asker = crate::admission_asker(&self.policies, self.cluster_policies, inventory)?;
        let asker = asker
            .as_ref()
            .map(|a| a as &dyn palisade_rbac::graph::AdmissionAsker);
        Ok(if fixes {
            palisade_rbac::graph::build_for_fixes(policy, inventory, asker, ingress)
        } else {
            palisade_rbac::graph::build_asking(policy, inventory, asker, ingress)
        })
    }
}

#[derive(Args)]
pub struct PathsArgs {
    /// Start from this subject (`sa:NS/NAME`, `user:NAME`, `group:NAME`).
    #[arg(long, conflicts_with = "from_workload", env = "PALISADE_RBAC_FROM")]
    from: Option<String>,
    /// With `--from`: a group the subject is in, as the authenticator reports it
    /// (repeatable). Implicit groups (`system:authenticated`, ...) are always added.
    #[arg(
        long = "group",
        value_name = "GROUP",
        requires = "from",
        env = "PALISADE_RBAC_GROUPS",
        value_delimiter = ','
    )]
    groups: Vec<String>,
    /// Start from this workload (`NS/NAME`, or `NS/KIND/NAME` when names clash).
    #[arg(long, env = "PALISADE_RBAC_FROM_WORKLOAD")]
    from_workload: Option<String>,
    /// What to reach: `cluster-admin`, `secrets` or `nodes`.
    #[arg(long, default_value = "cluster-admin", env = "PALISADE_RBAC_TO")]
    to: String,
    /// Where the ingress controller runs: the internet's way in through an Ingress or a
    /// Gateway API route.
    #[command(flatten)]
    ingress: crate::net_cmd::IngressArgs,
    /// `palisade.toml`'s `[network]`: where the ingress controller runs (the flags win).
    #[command(flatten)]
    config: crate::ConfigArgs,
    /// `--sbom` and `--osv-db`: each path from a workload whose image has a flaw of high
    /// severity or more exploited over the network names the flaw.
    #[command(flatten)]
    images: crate::ImageArgs,
    #[command(flatten)]
    policies: AdmissionPolicyArgs,
    #[command(flatten)]
    load: LoadArgs,
    #[command(flatten)]
    live: LiveArgs,
    #[command(flatten)]
    completeness: Completeness,
    /// `table` or `json`.
    #[arg(short = 'o', long = "output", value_enum, default_value_t = ListFormat::Table, env = "PALISADE_RBAC_OUTPUT")]
    output: ListFormat,
}

#[derive(Args)]
pub struct GenerateArgs {
    /// Audit log files (JSON lines of audit.k8s.io/v1 Events, or an EventList).
    #[arg(
        long = "audit-log",
        required = true,
        value_name = "FILE",
        env = "PALISADE_RBAC_AUDIT_LOGS",
        value_delimiter = ','
    )]
    audit_logs: Vec<PathBuf>,
    /// The subject whose requests to cover (`sa:NS/NAME`, `user:NAME`).
    #[arg(long, env = "PALISADE_RBAC_SUBJECT")]
    subject: String,
    /// Name of the generated roles and bindings.
    #[arg(
        long,
        default_value = "palisade-generated",
        env = "PALISADE_RBAC_ROLE_NAME"
    )]
    name: String,
    /// Compare with what manifests at these paths grant today: list granted verbs and
    /// resources the logs never used.
    #[arg(long, value_name = "PATH", num_args = 1.., env = "PALISADE_RBAC_DIFF", value_delimiter = ',')]
    diff: Vec<String>,
    /// `yaml` (the roles to apply) or `json`.
    #[arg(short = 'o', long = "output", value_enum, default_value_t = ManifestFormat::Yaml, env = "PALISADE_RBAC_GENERATE_OUTPUT")]
    output: ManifestFormat,
    /// Also grant the requests the API server refused (403): for a subject that ran with no
    /// permissions first. Without it refused requests are listed, never granted.
    #[arg(long, env = "PALISADE_RBAC_INCLUDE_DENIED", value_parser = clap::builder::BoolishValueParser::new())]
    include_denied: bool,
    /// For `--diff`: answer when some of its manifests could not be read.
    #[command(flatten)]
    completeness: Completeness,
}

/// What the rbac commands analyse: the objects, the RBAC policy they define, and the
/// resources names resolve against.
struct Analysed {
    inventory: palisade_inventory::Inventory,
    policy: Policy,
    catalogue: palisade_k8s::Catalogue,
    unread: Unread,
}

/// The resources names resolve against: the built-in API, the custom resources the input
/// defines (CustomResourceDefinitions), and, for a live cluster, what it serves.
fn catalogue(
    inventory: &palisade_inventory::Inventory,
    discovered: &[palisade_snapshot::format::ListedResource],
) -> palisade_k8s::Catalogue {
    use palisade_k8s::{ApiResource, Scope};
    let mut catalogue = inventory.api_catalogue();
    for listed in discovered {
        catalogue.add_if_unknown(ApiResource {
            group: listed.group.clone(),
            version: listed.version.clone(),
            kind: listed.kind.clone(),
            plural: listed.resource.clone(),
            singular: listed.kind.to_ascii_lowercase(),
            short_names: Vec::new(),
            scope: if listed.namespaced {
                Scope::Namespaced
            } else {
                Scope::Cluster
            },
            subresources: Vec::new(),
        });
    }
    catalogue
}

/// `needed`: the types of a cluster the answer is made of (see
/// [`crate::analysis_input::load_objects`]).
fn load_policy(
    load: &LoadArgs,
    live: &LiveArgs,
    completeness: Completeness,
    needed: &[&[(&str, &str)]],
) -> Result<Analysed> {
    let (loaded, discovered, unread) =
        crate::analysis_input::load_objects(load, live, completeness, needed)?;
    let policy = Policy::from_inventory(&loaded.inventory);
    let catalogue = catalogue(&loaded.inventory, &discovered);
    Ok(Analysed {
        inventory: loaded.inventory,
        policy,
        catalogue,
        unread,
    })
}

/// The request `who-can` asks about: the verb checked, the resource resolved as kubectl
/// resolves it (an unknown or ambiguous name is an error, never "nobody"), and the namespace
/// dropped for a cluster-scoped resource (only ClusterRoleBindings can grant those); and
/// whether the resource may be namespaced, so that RoleBindings may grant it.
fn resolve_request(
    catalogue: &palisade_k8s::Catalogue,
    verb: &str,
    resource: &str,
    namespace: Option<&str>,
    name: Option<&str>,
) -> Result<(Request, String, bool)> {
    palisade_k8s::check_verb(verb).map_err(anyhow::Error::msg)?;
    if resource.starts_with('/') {
        return Ok((
            parse_request(verb, resource, None, None),
            resource.to_string(),
            false,
        ));
    }
    let resolved = catalogue.resolve(resource)?;
    let namespace = match (resolved.scope, namespace) {
        (Some(palisade_k8s::Scope::Cluster), Some(ns)) => {
            eprintln!(
                "palisade: note: {resolved} is cluster-scoped; -n {ns} does not apply (only ClusterRoleBindings grant it)"
            );
            None
        }
        (_, ns) => ns,
    };
    let mut request = Request::resource(verb, &resolved.group, &resolved.resource, namespace);
    request.subresource = resolved.subresource.clone();
    if let Some(name) = name {
        request = request.named(name);
    }
    // A resource whose scope is not known may be namespaced: RoleBindings may grant it.
    let namespaced = resolved.scope != Some(palisade_k8s::Scope::Cluster);
    Ok((request, resolved.to_string(), namespaced))
}

/// Says so on stderr when no binding of the input names `subject` and, for a service account,
/// no object read is it: the answer is then only what the groups it is in are allowed, and a
/// misspelt name would otherwise read as a subject without permissions.
fn note_if_unknown(subject: &Subject, policy: &Policy) {
    if policy.bindings.iter().any(|b| b.subjects.contains(subject)) {
        return;
    }
    let read = match subject {
        Subject::ServiceAccount { namespace, name } => {
            if policy
                .service_accounts
                .iter()
                .any(|sa| (&sa.namespace, &sa.name) == (namespace, name))
            {
                return;
            }
            // Only an input with ServiceAccounts can say one is missing (`--cluster` reads
            // the RBAC kinds alone).
            if policy.service_accounts.is_empty() {
                ""
            } else {
                ", nor is it among the objects read"
            }
        }
        _ => "",
    };
    eprintln!(
        "palisade: note: no binding in the input names {subject}{read}; the answer is what the groups it is in are allowed (check the name)"
    );
}

fn parse_subject(text: &str) -> Result<Subject> {
    Subject::parse(text).with_context(|| {
        format!("`{text}` is not a subject: use sa:NAMESPACE/NAME, user:NAME or group:NAME")
    })
}

/// `resource[.group][/subresource]` or a non-resource URL.
fn parse_request(
    verb: &str,
    resource: &str,
    namespace: Option<&str>,
    name: Option<&str>,
) -> Request {
    if resource.starts_with('/') {
        return Request {
            verb: verb.into(),
            non_resource_url: Some(resource.into()),
            ..Request::default()
        };
    }
    let (main, sub) = resource.split_once('/').unwrap_or((resource, ""));
    let (res, group) = main.split_once('.').unwrap_or((main, ""));
    let mut request = Request::resource(verb, group, res, namespace);
    request.subresource = sub.into();
    if let Some(name) = name {
        request = request.named(name);
    }
    request
}

pub fn run(command: RbacCommand) -> Result<u8> {
    match command {
        RbacCommand::WhoCan(args) => who_can(&args),
        RbacCommand::Access(args) => access(&args),
        RbacCommand::Paths(args) => paths(&args),
        RbacCommand::Fixes(args) => fixes(&args),
        RbacCommand::Generate(args) => generate(&args),
    }
}

fn who_can(args: &WhoCanArgs) -> Result<u8> {
    let Analysed {
        policy,
        catalogue,
        unread,
        ..
    } = load_policy(&args.load, &args.live, args.completeness, &[RBAC_POLICY])?;
    let (request, resolved, namespaced) = resolve_request(
        &catalogue,
        &args.verb,
        &args.resource,
        args.namespace.as_deref(),
        args.name.as_deref(),
    )?;
    let answer = palisade_rbac::answers::WhoCan::answer(
        &policy, &request, &args.verb, &resolved, namespaced,
    );
    write_answer(&answer, args.output, unread)?;
    Ok(0)
}

fn access(args: &AccessArgs) -> Result<u8> {
    let Analysed { policy, unread, .. } =
        load_policy(&args.load, &args.live, args.completeness, &[RBAC_POLICY])?;
    let subject = parse_subject(&args.subject)?;
    note_if_unknown(&subject, &policy);
    let mut identity = subject.identity();
    for group in &args.groups {
        if !identity.groups.contains(group) {
            identity.groups.push(group.clone());
        }
    }
    let ns = args.namespace.as_deref();
    let matrix = access::access_matrix(&policy, &identity, ns);
    let answer = palisade_rbac::answers::Access::answer(subject, identity, matrix, ns);
    write_answer(&answer, args.output, unread)?;
    Ok(0)
}

fn paths(args: &PathsArgs) -> Result<u8> {
    let Analysed {
        inventory,
        policy,
        unread,
        ..
    } = load_policy(
        &args.load,
        &args.live,
        args.completeness,
        &[RBAC_POLICY, RUNNING_AS],
    )?;
    let goal = Goal::parse(&args.to)
        .with_context(|| format!("--to {}: expected cluster-admin, secrets or nodes", args.to))?;
    let placement = args.ingress.placement(&args.config)?;
    let mut graph = args
        .policies
        .graph(&policy, &inventory, false, &placement)?;
    mark_exploits(&args.images, &inventory, &policy, &mut graph)?;
    let found: Vec<Path> = if let Some(from) = &args.from {
        let subject = parse_subject(from)?;
        note_if_unknown(&subject, &policy);
        palisade_rbac::graph::subject_path(&graph, &subject, &args.groups, goal)
            .into_iter()
            .collect()
    } else if let Some(spec) = &args.from_workload {
        let workloads = policy
            .find_workload(spec)
            .with_context(|| format!("--from-workload {spec}"))?;
        workloads
            .filter_map(|w| graph.path(&workload_node(&policy, w), goal))
            .collect()
    } else {
        graph.all_paths(goal)
    };
    let answer = palisade_rbac::answers::Paths::answer(&args.to, found, &graph);
    write_answer(&answer, args.output, unread)?;
    Ok(if answer.is_empty() { 0 } else { 1 })
}

/// Marks the workloads whose images have a flaw of high severity or more exploited over the
/// network (`--sbom`, `--osv-db`), as likelier starts of the paths.
fn mark_exploits(
    images: &crate::ImageArgs,
    inventory: &palisade_inventory::Inventory,
    policy: &palisade_rbac::Policy,
    graph: &mut palisade_graph::Graph,
) -> Result<()> {
    let Some(vulnerabilities) = images.load()? else {
        return Ok(());
    };
    let exploitable = palisade_scan::vulnerabilities::exploitable_workloads(
        &vulnerabilities,
        inventory,
        policy,
        graph,
    );
    for flaw in exploitable {
        graph.add_exploit(workload_node(policy, flaw.workload_index), flaw.evidence);
    }
    Ok(())
}

fn fixes(args: &FixesArgs) -> Result<u8> {
    let targets = Targets::parse(&args.to).with_context(|| {
        format!(
            "--to {}: expected one of {}",
            args.to,
            Targets::NAMES.join(", ")
        )
    })?;
    let Analysed {
        inventory,
        policy,
        unread,
        ..
    } = load_policy(
        &args.load,
        &args.live,
        args.completeness,
        &[RBAC_POLICY, RUNNING_AS, NETWORK],
    )?;
    let configured = match args.config.path() {
        Some(path) => palisade_k8s::criticality::Configured::load(&path)?,
        None => palisade_k8s::criticality::Configured::default(),
    };
    let valuation = Valuation::read(&inventory, targets, &configured)?;
    let placement = args.ingress.placement(&args.config)?;
    let mut graph = args.policies.graph(&policy, &inventory, true, &placement)?;
    mark_exploits(&args.images, &inventory, &policy, &mut graph)?;
    for keep in &args.keep {
        if !graph.fixes().any(|fix| fix.object == *keep) {
            bail!("--keep {keep}: {}", no_fix_changes(&graph, keep));
        }
    }
    let plan = graph.plan_fixes(
        &|node| valuation.value(node),
        usize::from(args.limit),
        &|fix| args.keep.contains(&fix.object),
    );
    let answer = palisade_rbac::answers::Fixes::answer(
        targets.describe(),
        usize::from(args.limit),
        args.keep.clone(),
        plan,
    );
    write_answer(&answer, args.output, unread)?;
    Ok(u8::from(answer.at_risk()))
}

/// Why `--keep OBJECT` names nothing: no fix changes it; the objects fixes change whose name
/// ends as its does, when some do.
fn no_fix_changes(graph: &palisade_graph::Graph, object: &str) -> String {
    let name = object.rsplit(['/', ' ']).next().unwrap_or(object);
    let mut alike: Vec<&str> = graph
        .fixes()
        .map(|fix| fix.object.as_str())
        .filter(|o| o.rsplit(['/', ' ']).next() == Some(name))
        .collect();
    alike.sort_unstable();
    alike.dedup();
    let mut text = "no fix of the plan changes this object (objects are written as the plan writes them: `ClusterRoleBinding NAME`, `RoleBinding NS/NAME`, `Deployment NS/NAME`, `Secret NS/NAME`)".to_string();
    if !alike.is_empty() {
        text.push_str(&format!("; did you mean {}?", alike.join(", ")));
    }
    text
}

/// Writes a command's answer to standard output, saying so when it was made without some
/// of its inputs.
fn write_answer<A: palisade_report::answer::Answer>(
    answer: &A,
    format: ListFormat,
    unread: Unread,
) -> Result<()> {
    let format = match format {
        ListFormat::Json => palisade_report::answer::AnswerFormat::Json,
        ListFormat::Table => palisade_report::answer::AnswerFormat::Text,
    };
    let mut out = std::io::stdout().lock();
    unread.write_answer(answer, format, &mut out)?;
    Ok(())
}

/// The identities that made the most requests, to tell a misspelt subject from one that made
/// none (names from the log, made printable).
fn identities_seen(requests: &audit::AuditRequests) -> String {
    let mut seen: Vec<(&String, &usize)> = requests.identities.iter().collect();
    if seen.is_empty() {
        return "the logs hold only events received, not yet answered".to_string();
    }
    seen.sort_by(|a, b| b.1.cmp(a.1).then(a.0.cmp(b.0)));
    let most: Vec<String> = seen
        .iter()
        .take(5)
        .map(|(name, count)| format!("{} ({count})", palisade_core::printable(name)))
        .collect();
    let more = seen.len().saturating_sub(most.len());
    format!(
        "requests were made as {}{}",
        most.join(", "),
        if more > 0 {
            format!(" and {more} other identities")
        } else {
            String::new()
        }
    )
}

fn generate(args: &GenerateArgs) -> Result<u8> {
    let subject = parse_subject(&args.subject)?;
    if let Subject::Group { name } = &subject {
        bail!(
            "--subject group:{name}: audit events name the identity that made each request, not \
             the group its permission came through; generate for a user or a service account \
             (user:NAME, sa:NAMESPACE/NAME) and bind the role to the group yourself"
        );
    }
    let identity = subject.identity();
    let (mut requests, stats) =
        palisade_audit::least_privilege::requests_of(&args.audit_logs, &identity)?;
    crate::audit_cmd::warn_of_problems(&stats);
    if requests.events == 0 {
        bail!(
            "no audit events in {}",
            args.audit_logs
                .iter()
                .map(|p| p.display().to_string())
                .collect::<Vec<_>>()
                .join(", ")
        );
    }
    if requests.matched == 0 {
        bail!(
            "no request of {subject} in the {} audit events read, so no role to generate; {}",
            requests.events,
            identities_seen(&requests)
        );
    }
    let denied: Vec<audit::RequestKey> = requests.denied.iter().cloned().collect();
    if args.include_denied {
        requests.include_denied();
    }
    let mut unread = Unread::default();
    let diff = if args.diff.is_empty() {
        None
    } else {
        let load = LoadArgs {
            paths: args.diff.clone(),
            ..LoadArgs::for_path(std::path::Path::new("."))
        };
        let live = LiveArgs::default();
        let analysed = load_policy(&load, &live, args.completeness, &[RBAC_POLICY])?;
        unread = analysed.unread;
        Some(audit::diff(&analysed.policy, &identity, &requests))
    };
    let answer = palisade_rbac::answers::Generated::answer(
        subject,
        &requests,
        &denied,
        args.include_denied,
        diff,
        &args.name,
    );
    let mut out = std::io::stdout().lock();
    match args.output {
        // YAML is headed by the note as a comment, so that it stays valid YAML.
        ManifestFormat::Yaml => {
            use std::io::Write;
            out.write_all(unread.comment("#").as_bytes())?;
            palisade_report::answer::write_answer(
                &answer,
                palisade_report::answer::AnswerFormat::Text,
                &mut out,
            )?;
        }
        ManifestFormat::Json => {
            unread.write_answer(
                &answer,
                palisade_report::answer::AnswerFormat::Json,
                &mut out,
            )?;
        }
    }
    Ok(0)
}
