//! `palisade install`: the admission webhook's deployment, from one builder. `--print` writes
//! the manifests for `kubectl apply -f -` (with a CA and serving certificate made now, or
//! cert-manager's); `--chart DIR` writes the Helm chart (deploy/helm/palisade is its output,
//! checked by a test), whose templates are the same objects with values in place of the
//! settings.

use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use clap::Args;
use serde_json::{Value, json};

#[derive(Args)]
pub struct InstallArgs {
    /// Write the manifests to standard output (for `kubectl apply -f -`).
    #[arg(long, env = "PALISADE_PRINT", value_parser = clap::builder::BoolishValueParser::new(), required_unless_present = "chart")]
    print: bool,
    /// Write the Helm chart to DIR instead.
    #[arg(
        long,
        value_name = "DIR",
        env = "PALISADE_CHART",
        conflicts_with = "print"
    )]
    chart: Option<PathBuf>,
    /// The namespace the webhook runs in (exempt from it).
    #[arg(
        long,
        default_value = "palisade-system",
        env = "PALISADE_INSTALL_NAMESPACE",
        value_name = "NAME"
    )]
    namespace: String,
    /// The container image.
    #[arg(long, default_value = concat!("ghcr.io/palisade-dev/palisade:", env!("CARGO_PKG_VERSION")), env = "PALISADE_IMAGE", value_name = "IMAGE")]
    image: String,
    /// Replicas of the webhook (a PodDisruptionBudget keeps one up).
    #[arg(long, default_value_t = 2, env = "PALISADE_REPLICAS", value_name = "N")]
    replicas: u32,
    /// What the API server does when the webhook cannot answer: `Fail` (fail closed: the
    /// request is refused; the webhook's namespace and kube-system stay exempt so it can be
    /// repaired) or `Ignore` (fail open).
    #[arg(long, default_value = "Fail", value_parser = ["Fail", "Ignore"], env = "PALISADE_FAILURE_POLICY", value_name = "POLICY")]
    failure_policy: String,
    /// Seconds the API server waits for the webhook (1-30); the webhook's own deadline
    /// (timeout_ms) must be below it.
    #[arg(long, default_value_t = 5, value_parser = clap::value_parser!(u32).range(1..=30), env = "PALISADE_TIMEOUT_SECONDS", value_name = "SECONDS")]
    timeout_seconds: u32,
    /// Also install the mutating webhook (hardening defaults) and enable it.
    #[arg(long, env = "PALISADE_MUTATE", value_parser = clap::builder::BoolishValueParser::new())]
    mutate: bool,
    /// Judge objects alone instead of reading the cluster (no RBAC, no token mounted).
    #[arg(long, env = "PALISADE_NO_CLUSTER_READ", value_parser = clap::builder::BoolishValueParser::new())]
    no_cluster_read: bool,
    /// Also run the policies the cluster holds (Gatekeeper constraints and their templates,
    /// Config and ExpansionTemplates, ValidatingAdmissionPolicies): adds read access to
    /// Gatekeeper's policy objects and `serve admission --cluster-policies`.
    #[arg(long, env = "PALISADE_CLUSTER_POLICIES", value_parser = clap::builder::BoolishValueParser::new(), conflicts_with = "no_cluster_read")]
    cluster_policies: bool,
    /// Judge deletions with the policies (`[admission] judge_deletions`): Gatekeeper
    /// constraints and ValidatingAdmissionPolicies that select DELETE. Deletions are then
    /// sent under the webhook's failurePolicy and timeout (otherwise `Ignore` and 2 s, only
    /// to learn of them).
    #[arg(long, env = "PALISADE_JUDGE_DELETIONS", value_parser = clap::builder::BoolishValueParser::new())]
    judge_deletions: bool,
    /// Judge exec, attach and port-forward into pods with the policies (`[admission]
    /// judge_connect`: ValidatingAdmissionPolicies selecting CONNECT): adds a webhook
    /// configuration sending them, under the webhook's failurePolicy and timeout.
    #[arg(long, env = "PALISADE_JUDGE_CONNECT", value_parser = clap::builder::BoolishValueParser::new())]
    judge_connect: bool,
    /// Policies (Gatekeeper templates and constraints, ValidatingAdmissionPolicies and their
    /// bindings; files or directories) the webhook will run from the cluster: the webhook is
    /// sent the kinds they judge as well as those of the built-in rules.
    #[arg(
        long = "policy",
        value_name = "PATH",
        env = "PALISADE_INSTALL_POLICY",
        value_delimiter = ','
    )]
    policies: Vec<PathBuf>,
    /// More resources to send the webhooks (`poddisruptionbudgets.policy`,
    /// `gateways.gateway.networking.k8s.io`): what a policy judges that `--policy` does not
    /// name (`serve admission` says which).
    #[arg(
        long = "send",
        value_name = "RESOURCE",
        env = "PALISADE_INSTALL_SEND",
        value_delimiter = ','
    )]
    send: Vec<String>,
    /// Also deploy `palisade watch` (docs/watch.md): replicas sharing a Lease follow the
    /// cluster, keep its findings in Policy Reports and log what each scan opened and
    /// resolved. Needs the Policy Reports' CRDs (wgpolicyk8s.io).
    #[arg(long, env = "PALISADE_INSTALL_WATCH", value_parser = clap::builder::BoolishValueParser::new())]
    watch: bool,
    /// Where the serving certificate comes from: `cert-manager` issues it and injects the CA
    /// (needs cert-manager; nothing secret is printed), or `self-signed`: a CA and
    /// certificate made now, printed as a Secret (apply it, never commit it: Palisade's own
    /// SEC020 flags it).
    #[arg(long, default_value = "cert-manager", value_parser = ["cert-manager", "self-signed"], env = "PALISADE_INSTALL_TLS", value_name = "SOURCE")]
    tls: String,
}

/// How the serving certificate and the webhooks' caBundle are made.
enum Tls {
    /// Made now: base64 of the CA, the serving certificate and key.
    Made {
        ca: String,
        cert: String,
        key: String,
    },
    CertManager,
    /// Helm's genCA/genSignedCert in the webhook template.
    Helm,
}

/// What differs between installs. Strings are placeholders in the chart.
struct Install {
    namespace: String,
    image: Value,
    replicas: Value,
    failure_policy: Value,
    timeout_seconds: Value,
    mutate: bool,
    read_cluster: bool,
    /// Run the cluster's policies (only when the cluster is read).
    cluster_policies: bool,
    deletions: Deletions,
    /// Send exec, attach and port-forward (CONNECT) to be judged.
    judge_connect: bool,
    tls: Tls,
    /// The webhooks' `rules`.
    sends: Sends,
    /// Also `palisade watch`, with this many replicas.
    watch: Option<Value>,
}

/// What the webhooks are sent (their `rules`).
#[derive(Clone)]
struct Sends {
    /// What the rules and policies judge or read.
    validating: Vec<Value>,
    /// What the hardening patch and the policies' mutators change.
    mutating: Vec<Value>,
    /// The deletions the policies judge of resources the validating webhook is not sent.
    deletions: Vec<Value>,
    /// The connections: exec, attach and port-forward, and those the policies judge.
    connections: Vec<Value>,
}

/// Whether the webhook judges deletions (`[admission] judge_deletions`).
#[derive(Clone, Copy, PartialEq, Eq)]
enum Deletions {
    /// Sent only so the webhook learns of them: never refused, `Ignore`, a short timeout.
    Unjudged,
    /// Judged by the policies, under the webhook's failurePolicy and timeout.
    Judged,
    /// The chart's `judgeDeletions` value decides.
    ByValue,
}

pub(crate) const NAME: &str = "palisade-webhook";
const APP: &str = "palisade-webhook";

pub fn run(args: InstallArgs) -> Result<u8> {
    if let Some(dir) = &args.chart {
        write_chart(dir)?;
        eprintln!("palisade: wrote the Helm chart to {}", dir.display());
        return Ok(0);
    }
    let service_host = format!("{NAME}.{}.svc", args.namespace);
    let tls = if args.tls == "cert-manager" {
        Tls::CertManager
    } else {
        if std::io::IsTerminal::is_terminal(&std::io::stdout()) {
            eprintln!(
                "palisade: warning: the output holds the webhook's private key: pipe it to `kubectl apply -f -`, do not commit it"
            );
        }
        made_certificate(&service_host)?
    };
    let sends = webhook_rules(&args.policies, &args.send, args.mutate)?;
    let install = Install {
        sends,
        namespace: args.namespace.clone(),
        image: json!(args.image),
        replicas: json!(args.replicas),
        failure_policy: json!(args.failure_policy),
        timeout_seconds: json!(args.timeout_seconds),
        mutate: args.mutate,
        read_cluster: !args.no_cluster_read,
        cluster_policies: args.cluster_policies,
        deletions: if args.judge_deletions {
            Deletions::Judged
        } else {
            Deletions::Unjudged
        },
        judge_connect: args.judge_connect,
        tls,
        watch: args.watch.then(|| json!(2)),
    };
    let documents: String = objects(&install)
        .iter()
        .map(|o| format!("---\n{}", palisade_net::yaml::to_yaml(o)))
        .collect();
    std::io::stdout().lock().write_all(documents.as_bytes())?;
    Ok(0)
}

/// The webhooks' `rules`. The validating webhook's: creations and updates of what the
/// built-in rules judge or read (a change to what they read makes the webhook read the
/// cluster again), of what the policies of `policy_paths` judge, and of the `send`
/// resources. The deletions webhook adds the deletions the policies judge of other
/// resources; the connections webhook, the connections they judge besides exec, attach and
/// port-forward. The mutating webhook's: the kinds with a pod spec (the hardening patch) and
/// those the policies' mutators apply to.
fn webhook_rules(policy_paths: &[PathBuf], send: &[String], mutate: bool) -> Result<Sends> {
    use palisade_admission::sent::{Needs, WRITES};
    let catalogue = palisade_k8s::Catalogue::builtin_with_well_known();
    let builtin = palisade_rules::registry::all_rules();
    let mut needs = Needs::of(builtin, &catalogue);
    for rule in builtin {
        for (group, kind) in rule.reads() {
            needs.add_kind(&rule.meta().id, group, kind, &catalogue);
        }
    }
    let (judged, mutators) = match policy_paths {
        [] => (Needs::default(), None),
        paths => policy_needs(paths, &catalogue)?,
    };
    needs.requests.extend(judged.only(&WRITES).requests);
    let mutators = mutators
        .as_deref()
        .map(|m| m as &dyn palisade_rules::ObjectMutators);
    let mut mutation = Needs::of_mutation(mutators, &catalogue);
    for id in mutation.anything.iter().filter(|_| mutate) {
        eprintln!(
            "palisade: warning: {id} applies to every kind; the mutating webhook is sent the kinds named (add others with --send)"
        );
    }
    for name in send {
        let (group, resource) = sent_resource(&catalogue, name)?;
        needs.add_named("--send", &group, &resource);
        mutation.add_named("--send", &group, &resource);
    }
    // The deletions webhook is sent the deletions of every resource the validating one is.
    let mut deletions = judged.only(&["DELETE"]);
    deletions.requests.retain(|request, _| {
        !needs
            .requests
            .keys()
            .any(|r| r.group == request.group && r.resource == request.resource)
    });
    let mut connections = judged.only(&["CONNECT"]);
    for sub in ["exec", "attach", "portforward"] {
        connections.add_request_named("CONNECT", "", &format!("pods/{sub}"), "CONNECT");
    }
    Ok(Sends {
        validating: needs.webhook_rules(),
        mutating: mutation.webhook_rules(),
        deletions: deletions.webhook_rules(),
        connections: connections.webhook_rules(),
    })
}

/// What the policies of `paths` judge (creations, updates, deletions and connections), and
/// their mutators; said on standard error: the kinds the built-in API does not serve, the
/// policies on every kind, and the resources the cluster writes all the time.
fn policy_needs(
    paths: &[PathBuf],
    catalogue: &palisade_k8s::Catalogue,
) -> Result<(
    palisade_admission::sent::Needs,
    Option<std::sync::Arc<palisade_policy::mutation::Mutators>>,
)> {
    let loaded =
        palisade_policy::provider::load(paths, palisade_policy::EnforcementPoint::Validation);
    if !loaded.problems.is_empty() {
        anyhow::bail!(
            "--policy: policies that cannot be used:\n  {}",
            loaded.problems.join("\n  ")
        );
    }
    if loaded.rules.is_empty() && loaded.mutators.is_none() {
        anyhow::bail!("--policy: no policy found in the paths given");
    }
    let policies: Vec<&dyn palisade_rules::Rule> = loaded.rules.iter().map(AsRef::as_ref).collect();
    let judged = palisade_admission::sent::Needs::of_operations(
        &policies,
        catalogue,
        &["CREATE", "UPDATE", "DELETE", "CONNECT"],
    );
    for (rule, group, kind) in &judged.unknown {
        eprintln!(
            "palisade: warning: {rule} judges {kind} ({group}), which the built-in API (Kubernetes 1.33) does not serve: if the cluster serves it, name its resource with --send"
        );
    }
    for rule in &judged.anything {
        eprintln!(
            "palisade: warning: {rule} judges every kind; the webhook is sent the kinds the rules and policies name (add others with --send)"
        );
    }
    // Written by the cluster itself all the time: each write waits for the webhook, and
    // under `Fail` is refused while it cannot answer.
    let busy: std::collections::BTreeSet<String> = judged
        .requests
        .keys()
        .filter(|r| {
            matches!(
                (r.group.as_str(), r.resource.as_str()),
                ("", "events" | "endpoints")
                    | ("events.k8s.io", "events")
                    | ("discovery.k8s.io", "endpointslices")
                    | ("coordination.k8s.io", "leases")
            )
        })
        .map(|r| r.name())
        .collect();
    if !busy.is_empty() {
        eprintln!(
            "palisade: warning: the policies send the webhook {}, which the cluster writes all the time: each write waits for the webhook, and with failurePolicy Fail is refused while it cannot answer",
            busy.into_iter().collect::<Vec<_>>().join(", ")
        );
    }
    Ok((judged, loaded.mutators))
}

/// `--send NAME` as `(group, resource)`: resolved as kubectl resolves it, or, for a group the
/// built-in API does not serve, `plural.group` as written (a custom resource).
fn sent_resource(catalogue: &palisade_k8s::Catalogue, name: &str) -> Result<(String, String)> {
    match catalogue.resolve(name) {
        Ok(resolved) if resolved.resource == "*" => {
            anyhow::bail!("--send {name}: name one resource, not `*`")
        }
        Ok(resolved) => Ok((
            resolved.group,
            match resolved.subresource.as_str() {
                "" => resolved.resource,
                sub => format!("{}/{sub}", resolved.resource),
            },
        )),
        Err(error) => {
            let (main, sub) = name.split_once('/').unwrap_or((name, ""));
            let custom = main.split_once('.').filter(|(plural, group)| {
                !plural.is_empty()
                    && group.contains('.')
                    && !catalogue.resources().iter().any(|r| r.group == *group)
            });
            match custom {
                Some((plural, group)) if sub.is_empty() => {
                    Ok((group.to_string(), plural.to_ascii_lowercase()))
                }
                _ => Err(error).with_context(|| format!("--send {name}")),
            }
        }
    }
}

/// A CA and a serving certificate for the Service's names, made in memory (the key is
/// written nowhere but the output).
fn made_certificate(host: &str) -> Result<Tls> {
    use base64::Engine;
    let short = host.trim_end_matches(".svc").to_string();
    let made = palisade_server::tls::make_certificates(&[
        host.to_string(),
        short,
        format!("{host}.cluster.local"),
    ])?;
    let b64 = |text: String| base64::engine::general_purpose::STANDARD.encode(text);
    Ok(Tls::Made {
        ca: b64(made.ca_pem),
        cert: b64(made.chain_pem),
        key: b64(made.key_pem),
    })
}

fn labels() -> Value {
    labels_of(APP)
}

fn meta(name: &str, namespace: Option<&str>) -> Value {
    meta_of(APP, name, namespace)
}

/// The labels of every object of Palisade's component `app`.
pub(crate) fn labels_of(app: &str) -> Value {
    json!({"app.kubernetes.io/name": app, "app.kubernetes.io/part-of": "palisade"})
}

/// The metadata of an object of component `app`: its name, labels and namespace.
pub(crate) fn meta_of(app: &str, name: &str, namespace: Option<&str>) -> Value {
    let mut meta = json!({"name": name, "labels": labels_of(app)});
    if let Some(ns) = namespace {
        meta["namespace"] = json!(ns);
    }
    meta
}

/// Every object of the install, in apply order.
fn objects(install: &Install) -> Vec<Value> {
    let ns = install.namespace.as_str();
    let mut out = vec![
        json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": ns, "labels": {
            "pod-security.kubernetes.io/enforce": "restricted",
            "pod-security.kubernetes.io/enforce-version": "latest"}}}),
        json!({"apiVersion": "v1", "kind": "ServiceAccount", "metadata": meta(NAME, Some(ns)),
               "automountServiceAccountToken": install.read_cluster}),
    ];
    if install.read_cluster {
        out.extend(reader_rbac(ns));
        if install.cluster_policies {
            out.extend(policy_reader_rbac(ns));
        }
    }
    out.push(config_map(install));
    match &install.tls {
        Tls::Made { cert, key, .. } => out.push(json!({"apiVersion": "v1", "kind": "Secret",
            "metadata": meta(&format!("{NAME}-tls"), Some(ns)), "type": "kubernetes.io/tls",
            "data": {"tls.crt": cert, "tls.key": key}})),
        Tls::CertManager => out.extend(cert_manager(ns)),
        Tls::Helm => {}
    }
    out.push(deployment(install));
    out.push(json!({"apiVersion": "v1", "kind": "Service", "metadata": meta(NAME, Some(ns)),
        "spec": {"type": "ClusterIP", "selector": {"app.kubernetes.io/name": APP},
                 "ports": [{"name": "https", "port": 443, "targetPort": "https", "protocol": "TCP"}]}}));
    out.push(json!({"apiVersion": "policy/v1", "kind": "PodDisruptionBudget", "metadata": meta(NAME, Some(ns)),
        "spec": {"minAvailable": 1, "selector": {"matchLabels": {"app.kubernetes.io/name": APP}}}}));
    out.push(network_policy(ns));
    out.push(
        json!({"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy",
        "metadata": meta("default-deny", Some(ns)),
        "spec": {"podSelector": {}, "policyTypes": ["Ingress", "Egress"]}}),
    );
    if let Some(replicas) = &install.watch {
        out.extend(crate::install_watch::objects(ns, &install.image, replicas));
    }
    out.push(webhook_configuration(install, false));
    if install.judge_connect {
        out.push(connect_webhook_configuration(install));
    }
    if install.mutate {
        out.push(webhook_configuration(install, true));
    }
    out
}

/// What the webhook reads of the cluster to judge cross-object rules: never Secrets (to
/// list them is to read their values), never anything it could change.
fn reader_rbac(ns: &str) -> Vec<Value> {
    let rules = read_rules();
    vec![
        json!({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRole",
               "metadata": meta(&format!("{NAME}-reader"), None), "rules": rules}),
        json!({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRoleBinding",
               "metadata": meta(&format!("{NAME}-reader"), None),
               "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": format!("{NAME}-reader")},
               "subjects": [{"kind": "ServiceAccount", "name": NAME, "namespace": ns}]}),
    ]
}

/// Kinds that hold secret material, which no installed reader lists: Secrets (to list them
/// is to read their values), and OpenShift Routes, which carry their TLS private key in
/// `spec.tls.key`.
const HOLDS_SECRETS: &[(&str, &str)] = &[("", "Secret"), ("route.openshift.io", "Route")];

/// Read access to the kinds the built-in rules judge or read that [`builtin_read_rules`]
/// does not grant: ConfigMaps, PodTemplates and HorizontalPodAutoscalers of the built-in
/// API, and the custom resources (the Gateway API, Cilium's and Calico's policies,
/// AdminNetworkPolicy, the External Secrets Operator's stores, ...), so that where they are
/// served an installed reader lists them rather than leaving those rules incomplete; by
/// group, plurals as the catalogue knows them or as the API server names custom resources
/// by convention. [`HOLDS_SECRETS`] is left out.
fn rules_read_rules(granted: &Value) -> Vec<Value> {
    let mut by_group: std::collections::BTreeMap<&str, std::collections::BTreeSet<String>> =
        std::collections::BTreeMap::new();
    for (_, group, kind, plural) in kinds_rules_need() {
        if !HOLDS_SECRETS.contains(&(group, kind)) && !grants(granted, group, &plural) {
            by_group.entry(group).or_default().insert(plural);
        }
    }
    let read = json!(["get", "list", "watch"]);
    by_group
        .into_iter()
        .map(|(group, plurals)| json!({"apiGroups": [group], "resources": plurals, "verbs": read}))
        .collect()
}

/// Each kind of the cluster's API a built-in rule needs listed ([`palisade_rules::Rule::kinds_needed`]),
/// as `(rule id, group, kind, plural)`: plurals as the catalogue knows them or as the API
/// server names custom resources by convention. Config-file formats are left out.
fn kinds_rules_need() -> Vec<(&'static str, &'static str, &'static str, String)> {
    let catalogue = palisade_k8s::Catalogue::builtin_with_well_known();
    let mut needed = Vec::new();
    for rule in palisade_rules::registry::all_rules() {
        for (group, kind) in rule.kinds_needed().kinds {
            if group == "*" || palisade_k8s::resources::is_file_format_group(group) {
                continue;
            }
            let plural = catalogue.by_kind(group, kind).map_or_else(
                || palisade_k8s::resources::guess_plural(kind),
                |r| r.plural.clone(),
            );
            needed.push((&*rule.meta().id, group, kind, plural));
        }
    }
    needed
}

/// The rules of reading the cluster's configuration: never Secrets (to list them is to read
/// their values), never anything that could change it; every other kind a rule judges or
/// reads ([`rules_read_rules`]).
pub(crate) fn read_rules() -> Value {
    let mut rules = builtin_read_rules();
    let more = rules_read_rules(&rules);
    if let Some(rules) = rules.as_array_mut() {
        rules.extend(more);
    }
    rules
}

/// Whether RBAC `rules` grant `list` on `plural` of `group`.
fn grants(rules: &Value, group: &str, plural: &str) -> bool {
    let names = |rule: &Value, key: &str, name: &str| {
        rule.get(key)
            .and_then(Value::as_array)
            .is_some_and(|names| names.iter().any(|n| n == name))
    };
    rules.as_array().is_some_and(|rules| {
        rules.iter().any(|rule| {
            names(rule, "apiGroups", group)
                && names(rule, "resources", plural)
                && names(rule, "verbs", "list")
        })
    })
}

/// [`read_rules`] of the built-in API.
fn builtin_read_rules() -> Value {
    let read = json!(["get", "list", "watch"]);
    json!([
        {"apiGroups": [""], "resources": ["namespaces", "pods", "services", "serviceaccounts", "nodes",
                                          "replicationcontrollers", "limitranges", "resourcequotas",
                                          "persistentvolumes", "persistentvolumeclaims", "endpoints"], "verbs": read},
        {"apiGroups": ["apps"], "resources": ["deployments", "statefulsets", "daemonsets", "replicasets"], "verbs": read},
        {"apiGroups": ["batch"], "resources": ["jobs", "cronjobs"], "verbs": read},
        {"apiGroups": ["networking.k8s.io"], "resources": ["networkpolicies", "ingresses", "ingressclasses"], "verbs": read},
        {"apiGroups": ["rbac.authorization.k8s.io"], "resources": ["roles", "rolebindings", "clusterroles", "clusterrolebindings"], "verbs": read},
        {"apiGroups": ["policy"], "resources": ["poddisruptionbudgets"], "verbs": read},
        {"apiGroups": ["admissionregistration.k8s.io"], "resources": ["validatingadmissionpolicies", "validatingadmissionpolicybindings", "validatingwebhookconfigurations", "mutatingwebhookconfigurations"], "verbs": read},
        {"apiGroups": ["apiextensions.k8s.io"], "resources": ["customresourcedefinitions"], "verbs": read},
    ])
}

/// Read access to Gatekeeper's policy objects, for `--cluster-policies` (ValidatingAdmission
/// Policies are in the reader's role already). Constraint kinds are made by their templates,
/// so their group is read whole; it holds nothing but constraints.
fn policy_reader_rbac(ns: &str) -> Vec<Value> {
    let read = json!(["get", "list", "watch"]);
    let name = format!("{NAME}-policy-reader");
    vec![
        json!({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRole",
               "metadata": reviewed_meta(&name, "RBAC003: constraint kinds are made by their templates; the group holds only constraints, read, never written"),
               "rules": [
            {"apiGroups": ["templates.gatekeeper.sh"], "resources": ["constrainttemplates"], "verbs": read},
            {"apiGroups": ["constraints.gatekeeper.sh"], "resources": ["*"], "verbs": read},
            {"apiGroups": ["config.gatekeeper.sh"], "resources": ["configs"], "verbs": read},
            {"apiGroups": ["expansion.gatekeeper.sh"], "resources": ["expansiontemplates"], "verbs": read},
            {"apiGroups": ["mutations.gatekeeper.sh"], "resources": ["assign", "assignimage", "assignmetadata", "modifyset"], "verbs": read},
        ]}),
        json!({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRoleBinding",
               "metadata": meta(&name, None),
               "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": name},
               "subjects": [{"kind": "ServiceAccount", "name": NAME, "namespace": ns}]}),
    ]
}

/// [`meta`] of a cluster-scoped object with a finding accepted, and why, in the annotation
/// `palisade scan` reads, so the install scans clean and the reason stays with the object.
fn reviewed_meta(name: &str, suppression: &str) -> Value {
    let mut meta = meta(name, None);
    meta["annotations"] = json!({"palisade.dev/ignore": suppression});
    meta
}

fn config_map(install: &Install) -> Value {
    let mut config = String::from(
        "# palisade serve admission's settings; `palisade init` writes every one, commented.\n[admission]\nexempt_namespaces = [\"kube-system\"]\n",
    );
    if install.deletions != Deletions::Unjudged {
        config.push_str("judge_deletions = true\n");
    }
    if install.judge_connect {
        config.push_str("judge_connect = true\n");
    }
    if install.mutate {
        config.push_str("\n[admission.mutate]\nenabled = true\n");
    }
    json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": meta(&format!("{NAME}-config"), Some(&install.namespace)),
           "data": {"palisade.toml": config}})
}

fn cert_manager(ns: &str) -> Vec<Value> {
    vec![
        json!({"apiVersion": "cert-manager.io/v1", "kind": "Issuer", "metadata": meta(&format!("{NAME}-selfsigned"), Some(ns)),
               "spec": {"selfSigned": {}}}),
        json!({"apiVersion": "cert-manager.io/v1", "kind": "Certificate", "metadata": meta(&format!("{NAME}-tls"), Some(ns)),
               "spec": {"secretName": format!("{NAME}-tls"),
                        "dnsNames": [format!("{NAME}.{ns}.svc"), format!("{NAME}.{ns}.svc.cluster.local")],
                        "issuerRef": {"name": format!("{NAME}-selfsigned"), "kind": "Issuer"},
                        "privateKey": {"rotationPolicy": "Always"}}}),
    ]
}

fn deployment(install: &Install) -> Value {
    let mut args = vec![
        "serve",
        "admission",
        "--cert",
        "/tls/tls.crt",
        "--key",
        "/tls/tls.key",
        "--listen",
        "0.0.0.0:8443",
        "--health-listen",
        "0.0.0.0:8080",
        "--config",
        "/config/palisade.toml",
    ];
    if install.read_cluster {
        // Followed through the watch: current within seconds, listed once.
        args.extend(["--cluster", "--watch"]);
        if install.cluster_policies {
            args.push("--cluster-policies");
        }
    }
    let container = json!({
        "name": "webhook", "image": install.image, "imagePullPolicy": "Always", "args": args,
        "env": [{"name": "PALISADE_WEBHOOK_NAMESPACE", "valueFrom": {"fieldRef": {"fieldPath": "metadata.namespace"}}}],
        "ports": [{"name": "https", "containerPort": 8443, "protocol": "TCP"},
                  {"name": "health", "containerPort": 8080, "protocol": "TCP"}],
        "readinessProbe": {"httpGet": {"path": "/readyz", "port": "health"}, "periodSeconds": 5},
        "livenessProbe": {"httpGet": {"path": "/healthz", "port": "health"}, "periodSeconds": 10},
        "resources": {"requests": {"cpu": "100m", "memory": "128Mi"}, "limits": {"cpu": "1", "memory": "512Mi"}},
        "securityContext": restricted_container(),
        "volumeMounts": [{"name": "tls", "mountPath": "/tls", "readOnly": true},
                         {"name": "config", "mountPath": "/config", "readOnly": true}],
    });
    json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": meta(NAME, Some(&install.namespace)),
        "spec": {"replicas": install.replicas,
                 "selector": {"matchLabels": {"app.kubernetes.io/name": APP}},
                 "template": {"metadata": {"labels": labels()}, "spec": {
                     "serviceAccountName": NAME,
                     "automountServiceAccountToken": install.read_cluster,
                     "enableServiceLinks": false,
                     "securityContext": restricted_pod(),
                     "topologySpreadConstraints": spread(APP),
                     "containers": [container],
                     "volumes": [{"name": "tls", "secret": {"secretName": format!("{NAME}-tls")}},
                                 {"name": "config", "configMap": {"name": format!("{NAME}-config")}}]}}}})
}

/// A container as the restricted Pod Security profile wants it, with a read-only root.
pub(crate) fn restricted_container() -> Value {
    json!({"allowPrivilegeEscalation": false, "readOnlyRootFilesystem": true,
           "runAsNonRoot": true, "runAsUser": 65532, "runAsGroup": 65532,
           "capabilities": {"drop": ["ALL"]}, "seccompProfile": {"type": "RuntimeDefault"}})
}

/// A pod as the restricted Pod Security profile wants it.
pub(crate) fn restricted_pod() -> Value {
    json!({"runAsNonRoot": true, "runAsUser": 65532, "runAsGroup": 65532,
           "fsGroup": 65532, "seccompProfile": {"type": "RuntimeDefault"}})
}

/// Replicas of `app` spread over nodes.
pub(crate) fn spread(app: &str) -> Value {
    json!([{"maxSkew": 1, "topologyKey": "kubernetes.io/hostname",
            "whenUnsatisfiable": "ScheduleAnyway",
            "labelSelector": {"matchLabels": {"app.kubernetes.io/name": app}}}])
}

/// Egress to the API server and DNS, which every Palisade pod needs.
pub(crate) fn api_server_and_dns() -> Value {
    json!([{"ports": [{"port": 443, "protocol": "TCP"}, {"port": 6443, "protocol": "TCP"}]},
           {"ports": [{"port": 53, "protocol": "UDP"}, {"port": 53, "protocol": "TCP"}]}])
}

/// The API server's calls in, probes and metrics in; the API server and DNS out.
fn network_policy(ns: &str) -> Value {
    json!({"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy", "metadata": meta(NAME, Some(ns)),
        "spec": {"podSelector": {"matchLabels": {"app.kubernetes.io/name": APP}}, "policyTypes": ["Ingress", "Egress"],
                 "ingress": [{"ports": [{"port": 8443, "protocol": "TCP"}, {"port": 8080, "protocol": "TCP"}]}],
                 "egress": api_server_and_dns()}})
}

fn webhook_configuration(install: &Install, mutating: bool) -> Value {
    let ns = install.namespace.as_str();
    let (kind, path, name) = if mutating {
        (
            "MutatingWebhookConfiguration",
            "/mutate",
            "mutate.palisade.dev",
        )
    } else {
        (
            "ValidatingWebhookConfiguration",
            "/validate",
            "validate.palisade.dev",
        )
    };
    let rules = match mutating {
        true => install.sends.mutating.clone(),
        false => install.sends.validating.clone(),
    };
    let mut client = json!({"service": {"name": NAME, "namespace": ns, "path": path, "port": 443}});
    let mut metadata = json!({"name": "palisade", "labels": labels()});
    match &install.tls {
        Tls::Made { ca, .. } => client["caBundle"] = json!(ca),
        Tls::CertManager => {
            metadata["annotations"] =
                json!({"cert-manager.io/inject-ca-from": format!("{ns}/{NAME}-tls")});
        }
        Tls::Helm => client["caBundle"] = json!("HELM_CA_BUNDLE"),
    }
    let mut webhook = json!({
        "name": name, "clientConfig": client, "rules": rules,
        "failurePolicy": install.failure_policy, "sideEffects": "None", "matchPolicy": "Equivalent",
        "admissionReviewVersions": ["v1"], "timeoutSeconds": install.timeout_seconds,
        // The webhook's namespace and kube-system are never sent: the cluster can always be
        // repaired, whatever the webhook's state and failurePolicy.
        "namespaceSelector": {"matchExpressions": [{"key": "kubernetes.io/metadata.name", "operator": "NotIn",
                                                    "values": ["kube-system", ns]}]},
    });
    if mutating {
        webhook["reinvocationPolicy"] = json!("IfNeeded");
        return json!({"apiVersion": "admissionregistration.k8s.io/v1", "kind": kind, "metadata": metadata, "webhooks": [webhook]});
    }
    let deletions = deletions_webhook(&webhook, install.deletions, &install.sends.deletions);
    json!({"apiVersion": "admissionregistration.k8s.io/v1", "kind": kind, "metadata": metadata, "webhooks": [webhook, deletions]})
}

/// The name of the webhook configuration that sends connections (`--judge-connect`).
const CONNECT_CONFIGURATION: &str = "palisade-connect";

/// Exec, attach and port-forward into pods (CONNECT), sent to `/validate` for the policies
/// that select them, under the validating webhook's failure policy and timeout: with `Fail`,
/// no exec while the webhook cannot answer (the webhook's namespace and kube-system stay
/// exempt).
fn connect_webhook_configuration(install: &Install) -> Value {
    let mut configuration = webhook_configuration(install, false);
    configuration["metadata"]["name"] = json!(CONNECT_CONFIGURATION);
    let mut webhook = configuration["webhooks"][0].clone();
    webhook["name"] = json!("connect.palisade.dev");
    webhook["rules"] = json!(install.sends.connections);
    configuration["webhooks"] = json!([webhook]);
    configuration
}

/// The deletions of what the validating webhook judges (and of what else the policies judge
/// deletions of: `judged`), sent so that the webhook reads the
/// cluster again soon after one that its cluster-wide models read (a Service, a policy, a
/// binding). Unjudged, they are never refused: `Ignore` as the failure policy and a short
/// timeout, so that a webhook that cannot answer never holds up a deletion. Judged (by the
/// policies), they take the validating webhook's failure policy and timeout.
fn deletions_webhook(validating: &Value, deletions: Deletions, judged: &[Value]) -> Value {
    let mut webhook = validating.clone();
    webhook["name"] = json!("deletions.palisade.dev");
    match deletions {
        Deletions::Judged => {}
        Deletions::Unjudged => {
            webhook["failurePolicy"] = json!("Ignore");
            // Answered at once (nothing is judged); a slow answer must not hold deletions up.
            webhook["timeoutSeconds"] = json!(2);
        }
        Deletions::ByValue => {
            webhook["failurePolicy"] = json!("HELM_DELETIONS_FAILURE_POLICY");
            webhook["timeoutSeconds"] = json!("HELM_DELETIONS_TIMEOUT");
        }
    }
    let rules: Vec<Value> = validating["rules"]
        .as_array()
        .into_iter()
        .flatten()
        // Not the chart's `extraRules`: what they send is not judged on deletion.
        .filter(|rule| rule.is_object())
        .map(|rule| {
            let mut rule = rule.clone();
            let whole = |r: &&Value| r.as_str().is_some_and(|r| !r.contains('/'));
            rule["resources"] = json!(
                rule["resources"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .filter(whole)
                    .collect::<Vec<_>>()
            );
            rule["operations"] = json!(["DELETE"]);
            rule
        })
        .chain(judged.iter().cloned())
        .collect();
    webhook["rules"] = json!(rules);
    webhook
}

/// The chart's values.yaml: the settings `--print` takes as flags.
const VALUES: &str = "\
# Palisade's admission webhook. `palisade install --print` writes the same objects for
# `kubectl apply`; docs/admission.md explains each setting and the failure policy.
image: ghcr.io/palisade-dev/palisade:VERSION
replicas: 2
# Fail: requests are refused while the webhook cannot answer (the release namespace and
# kube-system stay exempt). Ignore: they are admitted unjudged.
failurePolicy: Fail
timeoutSeconds: 5
# Also install the mutating webhook (hardening defaults).
mutate: false
# Judge deletions with the policies (Gatekeeper constraints, ValidatingAdmissionPolicies
# selecting DELETE) under failurePolicy and timeoutSeconds. false: deletions are sent only so
# the webhook learns of them (Ignore, 2 s), never refused.
judgeDeletions: false
# Judge exec, attach and port-forward into pods with the policies that select CONNECT (adds
# the palisade-connect webhook configuration, under failurePolicy and timeoutSeconds).
judgeConnect: false
# Read the cluster (ClusterRole without Secrets) so cross-object rules see it.
readCluster: true
# Also run the policies the cluster holds (Gatekeeper constraints, ValidatingAdmission
# Policies); adds read access to Gatekeeper's policy objects. Needs readCluster.
clusterPolicies: false
# More webhook rules for the validating webhook, after those of the built-in rules: the
# resources the cluster's policies judge that the built-in rules do not (`serve admission`
# logs which, and `palisade install --print --policy DIR` writes them). For example:
#   - apiGroups: [policy]
#     apiVersions: [\"*\"]
#     resources: [poddisruptionbudgets]
#     operations: [CREATE, UPDATE]
extraRules: []
# cert-manager issues the serving certificate and injects the CA (nothing secret in the
# rendered manifests). false: Helm makes a CA and certificate at each render (a Secret
# holding the key, which `palisade scan` of the rendered chart reports as SEC020).
certManager: true
# Also run `palisade watch` (docs/watch.md): replicas sharing a Lease follow the cluster, keep
# its findings in Policy Reports (needs the Policy WG's CRDs, wgpolicyk8s.io) and log what each
# scan opened and resolved.
watch: false
watchReplicas: 2
";

/// Placeholders in the objects and the template text that replaces them.
const HELM: [(&str, &str); 9] = [
    // Before HELM_FAILURE_POLICY and HELM_TIMEOUT, which they contain.
    (
        "HELM_DELETIONS_FAILURE_POLICY",
        "{{ if .Values.judgeDeletions }}{{ .Values.failurePolicy }}{{ else }}Ignore{{ end }}",
    ),
    (
        "HELM_DELETIONS_TIMEOUT",
        "{{ if .Values.judgeDeletions }}{{ .Values.timeoutSeconds }}{{ else }}2{{ end }}",
    ),
    ("HELM_NAMESPACE", "{{ .Release.Namespace }}"),
    ("HELM_IMAGE", "{{ .Values.image | quote }}"),
    ("HELM_REPLICAS", "{{ .Values.replicas }}"),
    ("HELM_WATCH_REPLICAS", "{{ .Values.watchReplicas }}"),
    ("HELM_FAILURE_POLICY", "{{ .Values.failurePolicy }}"),
    ("HELM_TIMEOUT", "{{ .Values.timeoutSeconds }}"),
    ("HELM_CA_BUNDLE", "{{ $ca.Cert | b64enc }}"),
];

/// Where the `extraRules` value is written into the validating webhook's rules.
const HELM_EXTRA_RULES: &str = "HELM_EXTRA_RULES";

fn helm_text(documents: &[Value]) -> String {
    let mut text: String = documents
        .iter()
        .map(|o| format!("---\n{}", palisade_net::yaml::to_yaml(o)))
        .collect();
    let item = format!("- {HELM_EXTRA_RULES}");
    text = text
        .lines()
        .map(|line| match line.split_once(&item) {
            Some((indent, "")) if indent.trim().is_empty() => format!(
                "{indent}{{{{- with .Values.extraRules }}}}{{{{- toYaml . | nindent {} }}}}{{{{- end }}}}\n",
                indent.len()
            ),
            _ => format!("{line}\n"),
        })
        .collect();
    for (placeholder, template) in HELM {
        text = text.replace(placeholder, template);
    }
    text
}

/// Writes the chart: the objects with placeholders, split into templates by what values
/// switch them on.
fn write_chart(dir: &Path) -> Result<()> {
    // The chart's `extraRules` value goes after what the built-in rules need.
    let mut sends = webhook_rules(&[], &[], false)?;
    sends.validating.push(json!(HELM_EXTRA_RULES));
    let install = |mutate: bool, read_cluster: bool, tls: Tls| Install {
        sends: sends.clone(),
        namespace: "HELM_NAMESPACE".into(),
        image: json!("HELM_IMAGE"),
        replicas: json!("HELM_REPLICAS"),
        failure_policy: json!("HELM_FAILURE_POLICY"),
        timeout_seconds: json!("HELM_TIMEOUT"),
        mutate,
        read_cluster,
        cluster_policies: true,
        deletions: Deletions::ByValue,
        judge_connect: true,
        tls,
        watch: None,
    };
    let full = objects(&install(true, true, Tls::Helm));
    let managed = objects(&install(true, true, Tls::CertManager));
    let kind = |k: &str| of_kind(&full, k);
    let templates = dir.join("templates");
    std::fs::create_dir_all(&templates).with_context(|| templates.display().to_string())?;
    let write = |path: PathBuf, text: String| -> Result<()> {
        std::fs::write(&path, text).with_context(|| path.display().to_string())
    };
    let version = env!("CARGO_PKG_VERSION");
    write(
        dir.join("Chart.yaml"),
        format!(
            "apiVersion: v2\nname: palisade\ndescription: \"Palisade's admission webhook: the rules and policies of palisade scan, at admission\"\ntype: application\nversion: {version}\nappVersion: \"{version}\"\n"
        ),
    )?;
    write(dir.join("values.yaml"), VALUES.replace("VERSION", version))?;
    write(templates.join("workload.yaml"), workload_template(&full))?;
    write(
        templates.join("service.yaml"),
        helm_text(
            &[
                kind("Service"),
                kind("PodDisruptionBudget"),
                kind("NetworkPolicy"),
            ]
            .concat(),
        ),
    )?;
    let reader = |policies: bool| {
        [kind("ClusterRole"), kind("ClusterRoleBinding")]
            .concat()
            .into_iter()
            .filter(|o| {
                o["metadata"]["name"]
                    .as_str()
                    .is_some_and(|n| n.ends_with("-policy-reader") == policies)
            })
            .collect::<Vec<_>>()
    };
    write(
        templates.join("rbac.yaml"),
        format!(
            "{{{{- if .Values.readCluster }}}}\n{}{{{{- if .Values.clusterPolicies }}}}\n{}{{{{- end }}}}\n{{{{- end }}}}\n",
            helm_text(&reader(false)),
            helm_text(&reader(true))
        ),
    )?;
    let config = kind("ConfigMap").remove(0);
    let mut config_text = helm_text(&[config]);
    config_text = config_text.replace(
        "exempt_namespaces = [\\\"kube-system\\\"]\\njudge_deletions = true\\njudge_connect = true\\n\\n[admission.mutate]\\nenabled = true\\n",
        "exempt_namespaces = [\\\"kube-system\\\"]\\n{{- if .Values.judgeDeletions }}\\njudge_deletions = true{{- end }}\\n{{- if .Values.judgeConnect }}\\njudge_connect = true{{- end }}\\n{{- if .Values.mutate }}\\n\\n[admission.mutate]\\nenabled = true\\n{{- end }}\\n",
    );
    write(templates.join("config.yaml"), config_text)?;
    write(
        templates.join("webhook.yaml"),
        webhook_template(&full, &managed),
    )?;
    let watch = crate::install_watch::objects(
        "HELM_NAMESPACE",
        &json!("HELM_IMAGE"),
        &json!("HELM_WATCH_REPLICAS"),
    );
    write(
        templates.join("watch.yaml"),
        format!(
            "{{{{- if .Values.watch }}}}\n{}{{{{- end }}}}\n",
            helm_text(&watch)
        ),
    )?;
    Ok(())
}

/// The objects of `objects` of kind `kind`.
fn of_kind(objects: &[Value], kind: &str) -> Vec<Value> {
    objects
        .iter()
        .filter(|o| o["kind"] == kind)
        .cloned()
        .collect()
}

/// The chart's ServiceAccount and Deployment: the service account's token mounted, and the
/// flags that read the cluster given, only when the `readCluster` value asks.
fn workload_template(full: &[Value]) -> String {
    let kind = |k: &str| of_kind(full, k);
    // The service account's token is mounted only when the cluster is read.
    let mut base = [kind("ServiceAccount"), kind("Deployment")].concat();
    for object in &mut base {
        for pointer in [
            "/automountServiceAccountToken",
            "/spec/template/spec/automountServiceAccountToken",
        ] {
            if let Some(v) = object.pointer_mut(pointer) {
                *v = json!("HELM_READ_CLUSTER");
            }
        }
        if let Some(args) = object
            .pointer_mut("/spec/template/spec/containers/0/args")
            .and_then(Value::as_array_mut)
        {
            args.retain(|a| a != "--cluster" && a != "--watch" && a != "--cluster-policies");
            args.push(json!("HELM_CLUSTER_FLAG"));
        }
    }
    helm_text(&base)
        .replace("HELM_READ_CLUSTER", "{{ .Values.readCluster }}")
        .lines()
        .map(|line| match line.split_once("- HELM_CLUSTER_FLAG") {
            Some((indent, _)) => format!(
                "{indent}{{{{- if .Values.readCluster }}}}\n{indent}- --cluster\n{indent}- --watch\n{indent}{{{{- if .Values.clusterPolicies }}}}\n{indent}- --cluster-policies\n{indent}{{{{- end }}}}\n{indent}{{{{- end }}}}\n"
            ),
            None => format!("{line}\n"),
        })
        .collect()
}

/// The chart's webhook configurations with their certificates: issued by cert-manager when
/// the `certManager` value asks, else made by Helm; the mutating one and the connections'
/// one only when their values ask.
fn webhook_template(full: &[Value], managed: &[Value]) -> String {
    let kind = |k: &str| of_kind(full, k);
    let managed_kind = |k: &str| of_kind(managed, k);
    // The CA and the serving certificate, made by Helm, in the file that uses them.
    let secret = json!({"apiVersion": "v1", "kind": "Secret", "metadata": meta(&format!("{NAME}-tls"), Some("HELM_NAMESPACE")),
        "type": "kubernetes.io/tls", "data": {"tls.crt": "HELM_TLS_CERT", "tls.key": "HELM_TLS_KEY"}});
    let header = format!(
        "{{{{- $host := printf \"{NAME}.%s.svc\" .Release.Namespace }}}}\n{{{{- $ca := genCA \"palisade webhook CA\" 3650 }}}}\n{{{{- $cert := genSignedCert $host nil (list $host (printf \"%s.cluster.local\" $host)) 3650 $ca }}}}\n"
    );
    // The validating configurations: the main one always, the connections' with its value.
    let validating = |objects: Vec<Value>| {
        let (connect, main): (Vec<Value>, Vec<Value>) = objects
            .into_iter()
            .partition(|o| o["metadata"]["name"] == CONNECT_CONFIGURATION);
        format!(
            "{}{{{{- if .Values.judgeConnect }}}}\n{}{{{{- end }}}}\n",
            helm_text(&main),
            helm_text(&connect)
        )
    };
    let made = format!(
        "{header}{}{}{{{{- if .Values.mutate }}}}\n{}{{{{- end }}}}\n",
        helm_text(&[secret])
            .replace("HELM_TLS_CERT", "{{ $cert.Cert | b64enc }}")
            .replace("HELM_TLS_KEY", "{{ $cert.Key | b64enc }}"),
        validating(kind("ValidatingWebhookConfiguration")),
        helm_text(&kind("MutatingWebhookConfiguration")),
    );
    let issued = format!(
        "{}{}{{{{- if .Values.mutate }}}}\n{}{{{{- end }}}}\n",
        helm_text(&[managed_kind("Issuer"), managed_kind("Certificate")].concat()),
        validating(managed_kind("ValidatingWebhookConfiguration")),
        helm_text(&managed_kind("MutatingWebhookConfiguration")),
    );
    format!("{{{{- if .Values.certManager }}}}\n{issued}{{{{- else }}}}\n{made}{{{{- end }}}}\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_reader_lists_every_kind_a_rule_reads_but_those_holding_secrets() {
        let rules = read_rules();
        for (id, group, kind, plural) in kinds_rules_need() {
            let secret = HOLDS_SECRETS.contains(&(group, kind));
            assert_eq!(
                grants(&rules, group, &plural),
                !secret,
                "{id} reads {group}/{kind}"
            );
        }
    }
}
