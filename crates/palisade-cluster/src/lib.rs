//! Reading a live cluster into a [`Snapshot`]: kubeconfig resolution as kubectl does it
//! (`KUBECONFIG` with several files, `--kubeconfig`, `--context`, exec/token/client-certificate
//! auth, the in-cluster service account), discovery of every served resource type (built-in
//! and custom), paginated lists with bounded concurrency, and Secrets read as metadata only
//! unless values are asked for. Every type that cannot be listed is recorded with the reason;
//! nothing is silently skipped.

pub mod lease;
pub mod publish;
#[cfg(feature = "recorded-server")]
pub mod recorded;
#[cfg(feature = "recorded-server")]
pub mod recorded_live;
pub mod watch;

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use kube::config::{KubeConfigOptions, Kubeconfig};
use kube::{Client, Config};
use palisade_core::tree::Tree as _;
use palisade_snapshot::format::{ListedResource, redact_secret, strip_noise};
use palisade_snapshot::{ListError, Snapshot, SnapshotMeta};
use serde_json::Value;
use tokio::sync::Semaphore;

/// What to read and how.
#[derive(Debug, Clone)]
pub struct CaptureOptions {
    pub kubeconfig: Option<PathBuf>,
    pub context: Option<String>,
    /// Namespaces to read; empty means all. Cluster-scoped types are always read.
    pub namespaces: Vec<String>,
    /// Longest time one request may take.
    pub request_timeout: Duration,
    /// Lists in flight at once.
    pub concurrency: usize,
    /// Items per page.
    pub page_size: u32,
    /// Read Secret values (otherwise metadata and key names only).
    pub secret_values: bool,
    /// Also read each node's kubelet configuration as the kubelet runs it, through the API
    /// server's node proxy (`GET /api/v1/nodes/NAME/proxy/configz`, which needs `get` on
    /// `nodes/proxy`): a `KubeletConfiguration` named after its node.
    pub kubelet_configs: bool,
}

impl Default for CaptureOptions {
    fn default() -> Self {
        CaptureOptions {
            kubeconfig: None,
            context: None,
            namespaces: Vec::new(),
            request_timeout: Duration::from_secs(30),
            concurrency: 8,
            page_size: 500,
            secret_values: false,
            kubelet_configs: false,
        }
    }
}

/// Why no snapshot could be taken.
#[derive(Debug, thiserror::Error)]
pub enum CaptureError {
    #[error("cannot load the Kubernetes configuration: {0}")]
    Config(String),
    #[error("cannot reach the cluster of context {context} at {server}: {message}")]
    Unreachable {
        context: String,
        server: String,
        message: String,
    },
    /// The API server answered but nothing could be discovered: the credentials were refused
    /// (401) or discovery is forbidden. Scanning nothing would look like a clean cluster.
    #[error(
        "the cluster of context {context} at {server} refused to list its resource types: {message}"
    )]
    Refused {
        context: String,
        server: String,
        message: String,
    },
    /// A namespace asked for (`--namespace`) that the cluster does not have, when its
    /// Namespaces could be listed: reading it would find nothing, which looks like a clean
    /// namespace.
    #[error(transparent)]
    UnknownNamespaces(#[from] palisade_snapshot::UnknownNamespaces),
}

/// Refuses a read of namespaces the cluster does not have
/// ([`palisade_snapshot::namespaces::check_read`] on what `snapshot` read).
fn has_namespaces(snapshot: &Snapshot, asked: &[String]) -> Result<(), CaptureError> {
    if asked.is_empty() {
        return Ok(());
    }
    let held = snapshot
        .items
        .iter()
        .filter(|i| i.get("kind").and_then(Value::as_str) == Some("Namespace"))
        .filter(|i| i.get("apiVersion").and_then(Value::as_str) == Some("v1"))
        .filter_map(|n| n.at("/metadata/name").and_then(Value::as_str));
    palisade_snapshot::namespaces::check_read(&snapshot.header, held, asked)?;
    Ok(())
}

/// Told about progress, for a progress bar.
pub trait Progress: Send + Sync {
    fn discovered(&self, _types: usize) {}
    fn listed(&self, _resource: &str, _objects: usize, _failed: bool) {}
}

/// No progress reporting.
pub struct Quiet;
impl Progress for Quiet {}

/// One served, listable resource type.
#[derive(Debug, Clone)]
struct ResourceType {
    group: String,
    version: String,
    resource: String,
    kind: String,
    namespaced: bool,
    /// Serves `watch` (almost every type does; the others are listed again on a period).
    watchable: bool,
}

impl ResourceType {
    fn base_path(&self, namespace: Option<&str>) -> String {
        let prefix = if self.group.is_empty() {
            format!("/api/{}", self.version)
        } else {
            format!("/apis/{}/{}", self.group, self.version)
        };
        match namespace {
            Some(ns) => format!("{prefix}/namespaces/{ns}/{}", self.resource),
            None => format!("{prefix}/{}", self.resource),
        }
    }

    /// Secrets, read as metadata only unless their values are asked for.
    fn is_secrets(&self) -> bool {
        self.group.is_empty() && self.resource == "secrets"
    }

    fn api_version(&self) -> String {
        if self.group.is_empty() {
            self.version.clone()
        } else {
            format!("{}/{}", self.group, self.version)
        }
    }

    fn error(
        &self,
        namespace: Option<&str>,
        status: Option<u16>,
        reason: &str,
        message: String,
    ) -> ListError {
        ListError {
            group: self.group.clone(),
            version: self.version.clone(),
            resource: self.resource.clone(),
            kind: self.kind.clone(),
            namespace: namespace.map(str::to_string),
            status,
            reason: reason.into(),
            message,
        }
    }
}

/// Types not worth reading: high-volume, short-lived or not security-relevant.
const SKIPPED: &[(&str, &str)] = &[
    ("", "events"),
    ("events.k8s.io", "events"),
    ("", "componentstatuses"),
    ("coordination.k8s.io", "leases"),
    ("metrics.k8s.io", "pods"),
    ("metrics.k8s.io", "nodes"),
    // Policy Reports are findings (Palisade's own among them), not configuration: read
    // back, a report written from a scan would change the cluster the next scan reads.
    ("wgpolicyk8s.io", "policyreports"),
    ("wgpolicyk8s.io", "clusterpolicyreports"),
];

/// `(status, reason)` of a failed request.
fn classify(error: &kube::Error) -> (Option<u16>, &'static str, String) {
    match error {
        kube::Error::Api(status) => {
            let reason = match status.code {
                401 => "unauthorized",
                403 => "forbidden",
                404 => "not-found",
                410 => "expired",
                429 => "throttled",
                500..=599 => "server-error",
                _ => "api-error",
            };
            (Some(status.code), reason, status.message.clone())
        }
        kube::Error::SerdeError(e) => (None, "conversion", e.to_string()),
        other => (None, "transport", describe_transport(other)),
    }
}

/// A transport error as kubectl would say it: the causes in order (without repeats), and for
/// a certificate the x509 reason, rather than the client's outermost "client error (Connect)".
pub fn describe_transport(error: &(dyn std::error::Error + 'static)) -> String {
    let mut causes: Vec<String> = Vec::new();
    let mut current: Option<&(dyn std::error::Error + 'static)> = Some(error);
    while let Some(e) = current {
        let text = e.to_string();
        if !text.is_empty() && !causes.iter().any(|c| c.contains(&text)) {
            causes.push(text);
        }
        current = e.source();
    }
    let all = causes.join(": ");
    let x509 = [
        (
            "UnknownIssuer",
            "x509: certificate signed by unknown authority (the kubeconfig's certificate-authority does not sign the server's certificate)",
        ),
        (
            "NotValidForName",
            "x509: certificate is not valid for the server's host name",
        ),
        (
            "Expired",
            "x509: certificate has expired or is not yet valid",
        ),
        (
            "NotValidYet",
            "x509: certificate has expired or is not yet valid",
        ),
        // Go (and so kubectl) names a signature that does not verify against the configured CA
        // the same way: "possibly because of a verification error".
        (
            "BadSignature",
            "x509: certificate signed by unknown authority (its signature does not verify with the kubeconfig's certificate-authority)",
        ),
        (
            "UnsupportedCertVersion",
            "x509: unsupported certificate version",
        ),
    ];
    if let Some((_, said)) = x509.iter().find(|(key, _)| all.contains(key)) {
        return format!("tls: failed to verify certificate: {said}");
    }
    // The innermost causes say what happened ("Connection refused (os error 111)"); the
    // client's wrappers ("client error (Connect)", "ServiceError") say nothing more.
    let meaningful: Vec<&String> = causes
        .iter()
        .filter(|c| {
            !c.starts_with("ServiceError")
                && !c.starts_with("client error")
                && !c.starts_with("HyperError")
        })
        .collect();
    match meaningful.last() {
        Some(last) => (*last).clone(),
        None => all,
    }
}

async fn get_json(
    client: &Client,
    path: &str,
    accept: Option<&str>,
    timeout: Duration,
) -> Result<Value, (Option<u16>, &'static str, String)> {
    let mut builder = http::Request::get(path);
    if let Some(accept) = accept {
        builder = builder.header(http::header::ACCEPT, accept);
    }
    let request = builder
        .body(Vec::new())
        .map_err(|e| (None, "request", e.to_string()))?;
    match tokio::time::timeout(timeout, client.request::<Value>(request)).await {
        Err(_) => Err((
            None,
            "timeout",
            format!("no answer within {} s", timeout.as_secs()),
        )),
        Ok(Err(e)) => Err(classify(&e)),
        Ok(Ok(v)) => Ok(v),
    }
}

/// Reads a kubeconfig from text and checks that `context` (or its current context) is one of
/// its contexts: what `--kubeconfig FILE --context C` does before connecting. For the fuzz
/// target and tests; hostile files give an error, never a panic.
pub fn check_kubeconfig(text: &str, context: Option<&str>) -> Result<Vec<String>, CaptureError> {
    let kubeconfig = Kubeconfig::from_yaml(text).map_err(|e| {
        let cause = std::error::Error::source(&e).map_or_else(|| e.to_string(), describe_transport);
        CaptureError::Config(cause)
    })?;
    let wanted = context
        .map(str::to_string)
        .or_else(|| kubeconfig.current_context.clone());
    check_context(wanted.as_deref(), &kubeconfig, "the kubeconfig")?;
    Ok(kubeconfig.contexts.iter().map(|c| c.name.clone()).collect())
}

/// An unknown context is an error that lists the ones there are.
fn check_context(
    wanted: Option<&str>,
    kubeconfig: &Kubeconfig,
    source: &str,
) -> Result<(), CaptureError> {
    let Some(wanted) = wanted else {
        return Ok(());
    };
    if kubeconfig.contexts.iter().any(|c| c.name == wanted) {
        return Ok(());
    }
    let available: Vec<&str> = kubeconfig
        .contexts
        .iter()
        .map(|c| c.name.as_str())
        .collect();
    Err(CaptureError::Config(if available.is_empty() {
        format!("context {wanted} is not in {source}, which has no contexts")
    } else {
        format!(
            "context {wanted} is not in {source}; available: {}",
            available.join(", ")
        )
    }))
}

/// The kubeconfig-derived client, with the context name and server for messages.
async fn connect(options: &CaptureOptions) -> Result<(Client, String, String), CaptureError> {
    let kube_options = KubeConfigOptions {
        context: options.context.clone(),
        ..KubeConfigOptions::default()
    };
    let (config, context) = match &options.kubeconfig {
        Some(path) => {
            let kubeconfig = Kubeconfig::read_from(path).map_err(|e| {
                // The path once, unquoted, with the innermost cause.
                let cause =
                    std::error::Error::source(&e).map_or_else(|| e.to_string(), describe_transport);
                CaptureError::Config(format!("{}: {cause}", path.display()))
            })?;
            check_context(
                options.context.as_deref(),
                &kubeconfig,
                &path.display().to_string(),
            )?;
            let context = options
                .context
                .clone()
                .or_else(|| kubeconfig.current_context.clone())
                .unwrap_or_default();
            let config = Config::from_custom_kubeconfig(kubeconfig, &kube_options)
                .await
                .map_err(|e| CaptureError::Config(e.to_string()))?;
            (config, context)
        }
        None => match Config::from_kubeconfig(&kube_options).await {
            Ok(config) => {
                let context = options
                    .context
                    .clone()
                    .or_else(|| Kubeconfig::read().ok().and_then(|k| k.current_context))
                    .unwrap_or_default();
                (config, context)
            }
            Err(kubeconfig_error) if options.context.is_none() => match Config::incluster() {
                Ok(config) => (config, "in-cluster".to_string()),
                Err(_) => return Err(CaptureError::Config(kubeconfig_error.to_string())),
            },
            Err(e) => {
                if let Ok(kubeconfig) = Kubeconfig::read() {
                    check_context(options.context.as_deref(), &kubeconfig, "the kubeconfig")?;
                }
                return Err(CaptureError::Config(e.to_string()));
            }
        },
    };
    let server = config.cluster_url.to_string();
    let client = Client::try_from(config).map_err(|e| CaptureError::Config(e.to_string()))?;
    Ok((client, context, server))
}

/// Discovery: every listable resource type at its group's preferred version. Groups that fail
/// to answer are recorded as errors.
async fn discover(
    client: &Client,
    timeout: Duration,
    errors: &mut Vec<ListError>,
) -> Vec<ResourceType> {
    let mut lists: Vec<(String, String, String)> =
        vec![(String::new(), "v1".into(), "/api/v1".into())];
    match get_json(client, "/apis", None, timeout).await {
        Ok(groups) => {
            for group in groups
                .get("groups")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
            {
                let name = group
                    .get("name")
                    .and_then(Value::as_str)
                    .unwrap_or_default();
                if let Some(version) = group
                    .at("/preferredVersion/version")
                    .and_then(Value::as_str)
                {
                    lists.push((
                        name.into(),
                        version.into(),
                        format!("/apis/{name}/{version}"),
                    ));
                }
            }
        }
        Err((status, reason, message)) => errors.push(ListError {
            group: "*".into(),
            version: String::new(),
            resource: "apis".into(),
            kind: String::new(),
            namespace: None,
            status,
            reason: reason.into(),
            message,
        }),
    }
    let mut types = Vec::new();
    for (group, version, path) in lists {
        match get_json(client, &path, None, timeout).await {
            Ok(list) => {
                for r in list
                    .get("resources")
                    .and_then(Value::as_array)
                    .into_iter()
                    .flatten()
                {
                    let name = r.get("name").and_then(Value::as_str).unwrap_or_default();
                    let serves = |verb: &str| {
                        r.get("verbs")
                            .and_then(Value::as_array)
                            .is_some_and(|v| v.iter().any(|x| x.as_str() == Some(verb)))
                    };
                    let listable = serves("list");
                    if name.contains('/') || !listable || SKIPPED.contains(&(group.as_str(), name))
                    {
                        continue;
                    }
                    types.push(ResourceType {
                        group: group.clone(),
                        version: version.clone(),
                        resource: name.into(),
                        kind: r
                            .get("kind")
                            .and_then(Value::as_str)
                            .unwrap_or_default()
                            .into(),
                        namespaced: r
                            .get("namespaced")
                            .and_then(Value::as_bool)
                            .unwrap_or(false),
                        watchable: serves("watch"),
                    });
                }
            }
            Err((status, reason, message)) => errors.push(ListError {
                group: group.clone(),
                version,
                resource: "*".into(),
                kind: String::new(),
                namespace: None,
                status,
                reason: reason.into(),
                message: format!("discovery failed: {message}"),
            }),
        }
    }
    types
}

/// An object as read, made what a snapshot holds: its type set (typed and metadata lists
/// omit or replace each item's), server noise stripped, and a Secret's values blanked unless
/// they are asked for.
fn prepare_item(t: &ResourceType, item: &mut Value, secret_values: bool) {
    if let Value::Object(map) = item {
        map.insert("apiVersion".into(), Value::String(t.api_version()));
        map.insert("kind".into(), Value::String(t.kind.clone()));
    }
    strip_noise(item);
    if t.is_secrets() && !secret_values {
        redact_secret(item);
    }
}

/// Lists one type in one scope, all pages. A `410 Gone` on a continue token (the list
/// expired) restarts the list once.
async fn list_all(
    client: &Client,
    t: &ResourceType,
    namespace: Option<&str>,
    options: &CaptureOptions,
) -> Result<Vec<Value>, ListError> {
    let metadata_only = t.is_secrets() && !options.secret_values;
    let accept = metadata_only.then_some(
        "application/json;as=PartialObjectMetadataList;g=meta.k8s.io;v=v1,application/json",
    );
    let mut restarted = false;
    'restart: loop {
        let mut items = Vec::new();
        let mut token: Option<String> = None;
        loop {
            let mut path = format!("{}?limit={}", t.base_path(namespace), options.page_size);
            if let Some(token) = &token {
                path.push_str("&continue=");
                path.push_str(&url_escape(token));
            }
            match get_json(client, &path, accept, options.request_timeout).await {
                Ok(mut page) => {
                    // Taken out of the page, not copied: a page holds up to 500 objects.
                    let page_items = match page.get_mut("items").map(Value::take) {
                        Some(Value::Array(items)) => items,
                        _ => Vec::new(),
                    };
                    for mut item in page_items {
                        prepare_item(t, &mut item, options.secret_values);
                        items.push(item);
                    }
                    token = page
                        .at("/metadata/continue")
                        .and_then(Value::as_str)
                        .filter(|c| !c.is_empty())
                        .map(str::to_string);
                    if token.is_none() {
                        return Ok(items);
                    }
                }
                Err((Some(410), _, _)) if token.is_some() && !restarted => {
                    restarted = true;
                    continue 'restart;
                }
                Err((status, reason, message)) => {
                    return Err(t.error(namespace, status, reason, message));
                }
            }
        }
    }
}

/// The kubelet configurations read through the node proxy, as a type of the snapshot.
pub(crate) static KUBELET_CONFIG: std::sync::LazyLock<ResourceType> =
    std::sync::LazyLock::new(|| ResourceType {
        group: "kubelet.config.k8s.io".into(),
        version: "v1beta1".into(),
        resource: "nodes/proxy/configz".into(),
        kind: "KubeletConfiguration".into(),
        namespaced: false,
        watchable: false,
    });

/// Each node's kubelet configuration (`/configz`: the configuration the kubelet runs with,
/// its flags included), named after the node; the nodes whose configuration could not be
/// read, with the reason. A refusal (401 or 403: no `get` on `nodes/proxy`) is the same for
/// every node and is recorded once.
async fn kubelet_configs(
    client: &Client,
    nodes: Vec<String>,
    options: &CaptureOptions,
) -> (Vec<Value>, Vec<ListError>) {
    let semaphore = Arc::new(Semaphore::new(options.concurrency.max(1)));
    let mut tasks = tokio::task::JoinSet::new();
    for node in nodes {
        let (client, semaphore, timeout) =
            (client.clone(), semaphore.clone(), options.request_timeout);
        tasks.spawn(async move {
            let _permit = semaphore.acquire_owned().await;
            let path = format!("/api/v1/nodes/{}/proxy/configz", url_escape(&node));
            let read = get_json(&client, &path, None, timeout).await;
            (node, read)
        });
    }
    let (mut configs, mut failed) = (Vec::new(), Vec::new());
    let mut refused = false;
    while let Some(joined) = tasks.join_next().await {
        let Ok((node, read)) = joined else { continue };
        let config = match read {
            Ok(mut body) => match body.get_mut("kubeletconfig").map(Value::take) {
                Some(Value::Object(config)) => config,
                _ => {
                    let message = format!("node {node}: the answer holds no kubeletconfig");
                    failed.push(KUBELET_CONFIG.error(None, None, "conversion", message));
                    continue;
                }
            },
            Err((status @ Some(401 | 403), reason, message)) => {
                if !refused {
                    refused = true;
                    let message = format!(
                        "{message} (kubelet configurations are read through the node proxy, \
                         which needs get on nodes/proxy)"
                    );
                    failed.push(KUBELET_CONFIG.error(None, status, reason, message));
                }
                continue;
            }
            Err((status, reason, message)) => {
                let message = format!("node {node}: {message}");
                failed.push(KUBELET_CONFIG.error(None, status, reason, message));
                continue;
            }
        };
        let mut object = serde_json::Map::new();
        object.insert("apiVersion".into(), "kubelet.config.k8s.io/v1beta1".into());
        object.insert("kind".into(), "KubeletConfiguration".into());
        object.insert("metadata".into(), serde_json::json!({ "name": node }));
        object.extend(config.into_iter().filter(|(k, _)| k != "metadata"));
        let mut object = Value::Object(object);
        palisade_k8s::control_plane::mark_running_kubelet_configuration(&mut object);
        configs.push(object);
    }
    (configs, failed)
}

fn url_escape(text: &str) -> String {
    text.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// One object read from the cluster by its path, on a client kept between reads (the
/// admission webhook's look-up of a Namespace it has not seen).
pub struct Reader {
    client: Client,
    timeout: Duration,
}

impl Reader {
    /// Connects as [`capture`] does (kubeconfig, context, or the pod's service account).
    pub async fn connect(options: &CaptureOptions) -> Result<Reader, CaptureError> {
        let (client, _, _) = connect(options).await?;
        Ok(Reader {
            client,
            timeout: options.request_timeout,
        })
    }

    /// The Namespace `name`; `None` when the API server says it does not exist.
    pub async fn namespace(&self, name: &str) -> Result<Option<Value>, String> {
        let path = format!("/api/v1/namespaces/{}", url_escape(name));
        match get_json(&self.client, &path, None, self.timeout).await {
            Ok(value) => Ok(Some(value)),
            Err((Some(404), _, _)) => Ok(None),
            Err((status, _, message)) => Err(match status {
                Some(code) => format!("GET {path}: {code}: {message}"),
                None => format!("GET {path}: {message}"),
            }),
        }
    }
}

/// A connected client and what the API server serves: where `capture` and `watch` start.
struct Discovered {
    client: Client,
    context: String,
    server: String,
    version: Option<String>,
    types: Vec<ResourceType>,
    /// The groups that could not be discovered.
    errors: Vec<ListError>,
}

/// Connects, asks the version (an API server that does not answer is unreachable) and
/// discovers the served types. Credentials refused, or nothing discovered, is an error:
/// reading nothing would look like a clean cluster.
async fn connect_and_discover(options: &CaptureOptions) -> Result<Discovered, CaptureError> {
    let (client, context, server) = connect(options).await?;
    let version = match get_json(&client, "/version", None, options.request_timeout).await {
        Ok(v) => v
            .get("gitVersion")
            .and_then(Value::as_str)
            .map(str::to_string),
        Err((None, "transport" | "timeout", message)) => {
            return Err(CaptureError::Unreachable {
                context,
                server,
                message,
            });
        }
        // An API server that answers (even 401/403 on /version) is reachable.
        Err(_) => None,
    };
    let mut errors = Vec::new();
    let types = discover(&client, options.request_timeout, &mut errors).await;
    let unauthorized = errors.iter().find(|e| e.status == Some(401));
    if types.is_empty() || unauthorized.is_some() {
        let first = unauthorized.or(errors.first());
        return Err(CaptureError::Refused {
            context,
            server,
            message: first.map_or_else(
                || "the API server lists no resource types".to_string(),
                ListError::describe,
            ),
        });
    }
    Ok(Discovered {
        client,
        context,
        server,
        version,
        types,
        errors,
    })
}

/// Counts `count` objects of type `t` (listed in one scope) among `resources`.
fn count_listed(resources: &mut Vec<ListedResource>, t: &ResourceType, count: usize) {
    match resources
        .iter_mut()
        .find(|r| r.group == t.group && r.resource == t.resource)
    {
        Some(r) => r.count += count,
        None => resources.push(ListedResource {
            group: t.group.clone(),
            version: t.version.clone(),
            resource: t.resource.clone(),
            kind: t.kind.clone(),
            namespaced: t.namespaced,
            count,
        }),
    }
}

/// Reads the cluster.
pub async fn capture(
    options: &CaptureOptions,
    progress: Arc<dyn Progress>,
) -> Result<Snapshot, CaptureError> {
    let Discovered {
        client,
        context,
        server,
        version,
        types,
        mut errors,
    } = connect_and_discover(options).await?;
    progress.discovered(types.len());
    let semaphore = Arc::new(Semaphore::new(options.concurrency.max(1)));
    let mut tasks = tokio::task::JoinSet::new();
    for t in types.iter().cloned() {
        let scopes: Vec<Option<String>> = if t.namespaced && !options.namespaces.is_empty() {
            options.namespaces.iter().cloned().map(Some).collect()
        } else {
            vec![None]
        };
        for scope in scopes {
            let (client, t, options, semaphore, progress) = (
                client.clone(),
                t.clone(),
                options.clone(),
                semaphore.clone(),
                progress.clone(),
            );
            tasks.spawn(async move {
                let _permit = semaphore.acquire_owned().await;
                let result = list_all(&client, &t, scope.as_deref(), &options).await;
                match &result {
                    Ok(items) => progress.listed(&t.resource, items.len(), false),
                    Err(_) => progress.listed(&t.resource, 0, true),
                }
                (t, result)
            });
        }
    }
    let mut listed: Vec<(ResourceType, Vec<Value>)> = Vec::new();
    while let Some(joined) = tasks.join_next().await {
        let Ok((t, result)) = joined else { continue };
        match result {
            Ok(items) => listed.push((t, items)),
            Err(e) => errors.push(e),
        }
    }
    if options.kubelet_configs {
        let nodes = listed
            .iter()
            .filter(|(t, _)| t.group.is_empty() && t.resource == "nodes")
            .flat_map(|(_, items)| items.iter())
            .filter_map(|node| node.at("/metadata/name").and_then(Value::as_str))
            .map(str::to_string)
            .collect();
        let (configs, failed) = kubelet_configs(&client, nodes, options).await;
        listed.push((KUBELET_CONFIG.clone(), configs));
        errors.extend(failed);
    }
    // Deterministic order: by group, resource, then namespace and name.
    listed.sort_by(|a, b| (&a.0.group, &a.0.resource).cmp(&(&b.0.group, &b.0.resource)));
    errors.sort_by(|a, b| {
        (&a.group, &a.resource, &a.namespace).cmp(&(&b.group, &b.resource, &b.namespace))
    });
    let mut resources: Vec<ListedResource> = Vec::new();
    let mut items = Vec::new();
    for (t, mut objects) in listed {
        objects.sort_by(|a, b| {
            let key = |v: &Value| {
                (
                    v.at("/metadata/namespace")
                        .and_then(Value::as_str)
                        .map(str::to_string),
                    v.at("/metadata/name")
                        .and_then(Value::as_str)
                        .map(str::to_string),
                )
            };
            key(a).cmp(&key(b))
        });
        count_listed(&mut resources, &t, objects.len());
        items.extend(objects);
    }
    let snapshot = Snapshot {
        header: palisade_snapshot::SnapshotHeader {
            metadata: SnapshotMeta {
                captured_at: palisade_core::date::utc_now_rfc3339(),
                context: Some(context),
                server: Some(server),
                cluster_version: version,
                namespaces: options.namespaces.clone(),
                palisade_version: env!("CARGO_PKG_VERSION").into(),
                secret_values: options.secret_values,
            },
            errors,
            resources,
        },
        items,
    };
    has_namespaces(&snapshot, &options.namespaces)?;
    Ok(snapshot)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_utc_dates_and_escapes_tokens() {
        assert_eq!(palisade_core::date::utc_now_rfc3339().len(), 20);
        assert_eq!(url_escape("a b/c=="), "a%20b%2Fc%3D%3D");
    }
}
