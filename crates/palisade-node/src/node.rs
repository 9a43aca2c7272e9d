//! A node read under its root: the kubelet (command line, configuration merged), the static
//! pod manifests and the component each runs, the files the API server names that rules read
//! (its audit policy, its encryption configuration), and the files the benchmark judges, each
//! found where the node's own settings say it is before where kubeadm puts it.

use std::path::{Path, PathBuf};

use palisade_core::tree::Tree as _;
use palisade_core::{Diagnostic, DiagnosticLevel, Finding, Report};
use palisade_inventory::{
    LoadOptions, Object, ObjectSource, Pos, Reading, Source, SourceRead, Spans, TextSource,
};
use palisade_k8s::control_plane::{Component, Flags};
use serde_json::Value;

use crate::accounts::Accounts;
use crate::files::{self, Target, Want};
use crate::kubelet::{self, CommandLine, CommandSource, SetBy};
use crate::root::{Root, RootError};
use crate::systemd::Origin;

/// Where kubeadm keeps what a node's settings do not say otherwise.
const KUBERNETES_DIR: &str = "/etc/kubernetes";
const STATIC_POD_DIR: &str = "/etc/kubernetes/manifests";
const KUBELET_CONFIG: &str = "/var/lib/kubelet/config.yaml";
const KUBELET_KUBECONFIG: &str = "/etc/kubernetes/kubelet.conf";
const PKI_DIR: &str = "/etc/kubernetes/pki";
const CNI_DIR: &str = "/etc/cni/net.d";
const ETCD_DATA_DIR: &str = "/var/lib/etcd";
/// Where kube-proxy's kubeconfig is when it runs on the node rather than from a ConfigMap.
const PROXY_KUBECONFIGS: [&str; 3] = [
    "/etc/kubernetes/proxy.conf",
    "/var/lib/kube-proxy/kubeconfig",
    "/var/lib/kube-proxy/kubeconfig.conf",
];
/// The most entries of one directory tree (the PKI directory, the CNI directory) judged.
const MOST_TREE_ENTRIES: usize = 10_000;

/// Why a node could not be read.
#[derive(Debug, thiserror::Error)]
pub enum NodeError {
    /// The root could not be opened.
    #[error(transparent)]
    Root(#[from] RootError),
    /// Nothing under the root is a Kubernetes node's: no kubelet, no static pod manifests, no
    /// `/etc/kubernetes`. Judging it would pass everything.
    #[error(
        "nothing under {0} is a Kubernetes node's: no kubelet (a systemd unit or a running \
         process), no static pod manifests, no /etc/kubernetes (give the node's root, such as / \
         on the node or /host where a pod mounts it)"
    )]
    NotANode(String),
}

/// The kubelet's configuration as it runs with it.
#[derive(Debug, Clone)]
pub struct KubeletConfig {
    /// The file it reads (`--config`), when it reads one.
    pub file: Option<PathBuf>,
    /// The merged configuration: the file, its drop-ins, the command line.
    pub value: Value,
    /// Who set each setting that is not the file's own.
    pub set_by: Vec<(String, SetBy)>,
    /// The file's object as read, whose lines its own settings are shown at.
    original: Option<Object>,
    /// The name the inventory gives it: the file, or the command line's.
    source: String,
    /// Where a setting set by nothing is shown when there is no file.
    command_origin: Origin,
}

/// A node read under its root.
#[derive(Debug)]
pub struct Node {
    root: Root,
    accounts: Accounts,
    pub kubelet: Option<CommandLine>,
    pub kubelet_config: Option<KubeletConfig>,
    /// The static pod manifests, with the control-plane component each runs.
    pub manifests: Vec<(PathBuf, Vec<Component>)>,
    /// Files the API server's flags name that rules judge (audit policy, encryption
    /// configuration).
    pub named_configs: Vec<PathBuf>,
    /// The static pod manifests as read, handed to the scan as they are.
    manifest_reads: Vec<SourceRead>,
    /// The files whose modes and owners are judged.
    pub targets: Vec<Target>,
    /// Each target's file and kind, so that a file named twice is judged once.
    judged: std::collections::HashSet<(PathBuf, &'static str)>,
    pub diagnostics: Vec<Diagnostic>,
    load: LoadOptions,
}

impl Node {
    /// Reads the node under `dir`.
    pub fn read(dir: &Path, load: &LoadOptions) -> Result<Node, NodeError> {
        let root = Root::open(dir)?;
        let most = load.limits.max_file_bytes;
        let table = |path: &str| {
            root.read(Path::new(path), most)
                .ok()
                .flatten()
                .map(|b| String::from_utf8_lossy(&b).into_owned())
                .unwrap_or_default()
        };
        let accounts = Accounts::parse(&table("/etc/passwd"), &table("/etc/group"));
        let mut node = Node {
            accounts,
            kubelet: None,
            kubelet_config: None,
            manifests: Vec::new(),
            manifest_reads: Vec::new(),
            named_configs: Vec::new(),
            targets: Vec::new(),
            judged: std::collections::HashSet::new(),
            diagnostics: Vec::new(),
            load: load.clone(),
            root,
        };
        // What the kubelet's command line could not be read from leaves its flags unknown: the
        // run is incomplete rather than judged on part of them.
        let mut problems = Vec::new();
        match kubelet::command_line(&node.root) {
            Ok(found) => node.kubelet = found,
            Err(e) => problems.push(format!("the kubelet's command line: {e}")),
        }
        problems.extend(node.kubelet.iter().flat_map(|k| k.problems.clone()));
        for problem in problems {
            node.diagnostics.push(
                Diagnostic::new(DiagnosticLevel::Error, "kubelet-unread", problem).input_unread(),
            );
        }
        node.kubelet_config = node.read_kubelet_config();
        node.read_kube_proxy();
        node.read_manifests();
        node.find_targets();
        let nothing = node.kubelet.is_none()
            && node.kubelet_config.is_none()
            && node.manifests.is_empty()
            && !node.exists(KUBERNETES_DIR);
        if nothing {
            return Err(NodeError::NotANode(dir.display().to_string()));
        }
        Ok(node)
    }

    /// The root the node was read under.
    pub fn root(&self) -> &Root {
        &self.root
    }

    /// Whether the node has `path`; one that cannot be read counts, so that it is judged and
    /// said to be unreadable rather than left out.
    fn exists(&self, path: impl AsRef<Path>) -> bool {
        !matches!(self.root.stat(path.as_ref()), Ok(None))
    }

    fn warn(&mut self, code: &'static str, file: Option<&Path>, message: String) {
        let mut diagnostic = Diagnostic::new(DiagnosticLevel::Warning, code, message);
        if let Some(file) = file {
            diagnostic = diagnostic.in_file(self.shown(file));
        }
        self.diagnostics.push(diagnostic);
    }

    /// A directory or file that could not be read: what it holds was not judged, so the run
    /// is incomplete.
    fn unreadable(&mut self, file: &Path, error: &RootError) {
        let diagnostic = Diagnostic::new(
            DiagnosticLevel::Error,
            "node-file-unreadable",
            format!("{error}: what it holds is not judged"),
        )
        .in_file(self.shown(file))
        .input_unread();
        self.diagnostics.push(diagnostic);
    }

    /// How a node path is named in reports: where it is on this machine.
    pub fn shown(&self, node: &Path) -> String {
        self.root.host_path(node).display().to_string()
    }

    /// What a file of the node holds, read through the root (so that its links stay on the
    /// node) as the scan reads a manifest: its objects and what reading them said, `None`
    /// when the node has no such file.
    fn read_file(&self, path: &Path) -> Option<SourceRead> {
        let name = self.shown(path);
        match self.root.read(path, self.load.limits.max_file_bytes) {
            Ok(Some(bytes)) => {
                Some(Box::new(TextSource { name, bytes }).read(&Reading::new(&self.load)))
            }
            Ok(None) => None,
            Err(e) => Some(SourceRead {
                diagnostics: vec![
                    Diagnostic::new(DiagnosticLevel::Error, "io", e.to_string())
                        .in_file(name)
                        .input_unread(),
                ],
                ..SourceRead::default()
            }),
        }
    }

    /// The objects of a file of the node, its diagnostics added to the node's.
    fn parse(&mut self, path: &Path) -> Vec<Object> {
        let Some(read) = self.read_file(path) else {
            return Vec::new();
        };
        self.diagnostics.extend(read.diagnostics);
        read.objects
    }

    /// The configuration the kubelet runs with: its file (`--config`, else kubeadm's when no
    /// command line was found), drop-ins (`--config-dir`), the command line over them.
    fn read_kubelet_config(&mut self) -> Option<KubeletConfig> {
        let named = self
            .kubelet
            .as_ref()
            .and_then(|k| k.value("config"))
            .map(PathBuf::from);
        let file = match named.clone() {
            Some(path) => Some(path),
            None if self.kubelet.is_none() && self.exists(KUBELET_CONFIG) => {
                Some(PathBuf::from(KUBELET_CONFIG))
            }
            None => None,
        };
        let mut original = None;
        if let Some(file) = &file {
            original = self.parse(file).into_iter().find(is_kubelet_configuration);
            // The kubelet does not start without the file its --config names, so a root
            // without it is not the whole node (a mount left out): what the file sets is
            // unknown, and the command line's defaults are not what runs.
            if named.is_some() && !self.exists(file) {
                self.diagnostics.push(
                    Diagnostic::new(
                        DiagnosticLevel::Error,
                        "kubelet-config-unread",
                        format!(
                            "the kubelet's --config names {}, which is not under the root read \
                             (the kubelet does not start without it; is its directory mounted?), \
                             so the kubelet's settings are not assessed",
                            file.display()
                        ),
                    )
                    .in_file(self.shown(file))
                    .input_unread(),
                );
                return None;
            }
            if original.is_none() && self.exists(file) {
                self.diagnostics.push(
                    Diagnostic::new(
                        DiagnosticLevel::Error,
                        "kubelet-config-unread",
                        "the kubelet's configuration file holds no KubeletConfiguration, so the \
                         kubelet's settings are not assessed",
                    )
                    .in_file(self.shown(file))
                    .input_unread(),
                );
                return None;
            }
        }
        let kubelet = self.kubelet.clone();
        if original.is_none() && kubelet.is_none() {
            return None;
        }
        let mut value = original.as_ref().map_or_else(
            || {
                serde_json::json!({
                    "apiVersion": "kubelet.config.k8s.io/v1beta1",
                    "kind": "KubeletConfiguration",
                })
            },
            |o| o.value.clone(),
        );
        self.name_after_the_node(&mut value, kubelet.as_ref());
        let mut set_by = Vec::new();
        if let Some(dir) = kubelet.as_ref().and_then(|k| k.value("config-dir")) {
            self.merge_drop_ins(Path::new(dir), &mut value, &mut set_by);
        }
        let command_origin = kubelet
            .as_ref()
            .and_then(|k| k.flags.first().map(|f| f.origin.clone()))
            .or_else(|| {
                kubelet.as_ref().and_then(|k| {
                    k.unit_files.first().map(|f| Origin {
                        file: f.clone(),
                        line: None,
                    })
                })
            })
            .unwrap_or_else(|| Origin {
                file: PathBuf::from(KUBELET_CONFIG),
                line: None,
            });
        kubelet::default_file(&mut value);
        palisade_k8s::control_plane::mark_running_kubelet_configuration(&mut value);
        if let Some(kubelet) = &kubelet {
            for (pointer, by) in
                kubelet::apply_command_line(&mut value, kubelet, original.is_some())
            {
                set_by.retain(|(p, _)| *p != pointer);
                set_by.push((pointer, by));
            }
        }
        let source = match &file {
            Some(file) if original.is_some() => self.shown(file),
            _ => self.shown(&command_origin.file),
        };
        Some(KubeletConfig {
            file: file.filter(|_| original.is_some()),
            value,
            set_by,
            original,
            source,
            command_origin,
        })
    }

    /// Names the configuration after the node it runs on (`--hostname-override`, else the
    /// node's `/etc/hostname`), as the cluster's copy read through the API server is named,
    /// unless it has a name.
    fn name_after_the_node(&self, value: &mut Value, kubelet: Option<&CommandLine>) {
        if value.at("/metadata/name").is_some() {
            return;
        }
        let hostname = kubelet
            .and_then(|k| k.value("hostname-override"))
            .map(str::to_string)
            .or_else(|| {
                let bytes = self.root.read(Path::new("/etc/hostname"), 256).ok()??;
                let text = String::from_utf8_lossy(&bytes).trim().to_lowercase();
                palisade_k8s::names::is_dns_subdomain(&text).then_some(text)
            });
        if let (Some(name), Some(map)) = (hostname, value.as_object_mut()) {
            map.entry("metadata")
                .or_insert_with(|| Value::Object(serde_json::Map::new()))
                .as_object_mut()
                .map(|m| m.insert("name".into(), Value::String(name)));
        }
    }

    /// Merges the `*.conf` drop-ins of `dir` over `value`, in name order.
    fn merge_drop_ins(&mut self, dir: &Path, value: &mut Value, set_by: &mut Vec<(String, SetBy)>) {
        let files = match self.root.list(dir) {
            Ok(files) => files,
            Err(e) => {
                self.unreadable(dir, &e);
                return;
            }
        };
        for file in files
            .into_iter()
            .filter(|f| f.extension().is_some_and(|e| e == "conf"))
        {
            let Some(drop_in) = self.parse(&file).into_iter().find(is_kubelet_configuration) else {
                continue;
            };
            let mut over = drop_in.value;
            if let Some(map) = over.as_object_mut() {
                map.remove("apiVersion");
                map.remove("kind");
            }
            let mut pointers = Vec::new();
            kubelet::leaves(&over, "", &mut pointers);
            kubelet::merge(value, &over);
            for pointer in pointers {
                set_by.retain(|(p, _)| *p != pointer);
                set_by.push((pointer, SetBy::DropIn(file.clone())));
            }
        }
    }

    /// kube-proxy when it runs on the node itself (a systemd unit, or a process the root's
    /// `/proc` shows) rather than as kubeadm's DaemonSet: its configuration file (`--config`,
    /// judged by NODE003) and its kubeconfig (4.1.3, 4.1.4).
    fn read_kube_proxy(&mut self) {
        let proxy = match kubelet::command_line_of(&self.root, "kube-proxy", "kube-proxy.service") {
            Ok(Some(proxy)) => proxy,
            Ok(None) => return,
            Err(e) => {
                self.diagnostics.push(Diagnostic::new(
                    DiagnosticLevel::Warning,
                    "kubelet-unread",
                    format!("kube-proxy's command line: {e}"),
                ));
                return;
            }
        };
        if let Some(config) = proxy.value("config").map(PathBuf::from) {
            if self.exists(&config) {
                self.named_configs.push(config);
            } else {
                self.warn(
                    "node-file-missing",
                    Some(&config),
                    format!(
                        "kube-proxy's --config names {}, which the node does not have",
                        config.display()
                    ),
                );
            }
        }
        if let Some(kubeconfig) = proxy.value("kubeconfig").map(PathBuf::from) {
            self.add_target(
                kubeconfig,
                files::PROXY_KUBECONFIG,
                Some("kube-proxy's --kubeconfig"),
            );
        }
    }

    /// The static pod manifests and what they run, and the files their flags name.
    fn read_manifests(&mut self) {
        let dir = self
            .kubelet_config
            .as_ref()
            .and_then(|c| c.value.get("staticPodPath"))
            .and_then(Value::as_str)
            .filter(|p| !p.is_empty())
            .map(PathBuf::from)
            .unwrap_or_else(|| PathBuf::from(STATIC_POD_DIR));
        let files = match self.root.list(&dir) {
            Ok(files) => files,
            Err(e) => {
                self.unreadable(&dir, &e);
                return;
            }
        };
        for file in files {
            if self
                .root
                .stat(&file)
                .ok()
                .flatten()
                .is_some_and(|s| s.is_dir)
            {
                continue;
            }
            let Some(read) = self.read_file(&file) else {
                continue;
            };
            let mut components = Vec::new();
            for object in &read.objects {
                let Some(spec) = palisade_inventory::pod_spec(object) else {
                    continue;
                };
                for container in spec.containers() {
                    let Some(component) = Component::of_container(container.value) else {
                        continue;
                    };
                    components.push(component);
                    let flags = Flags::of(component, container.value, &container.pointer);
                    self.note_named_files(component, &flags);
                }
            }
            self.manifests.push((file, components));
            self.manifest_reads.push(read);
        }
    }

    /// What a component's flags say of the node's files.
    fn note_named_files(&mut self, component: Component, flags: &Flags<'_>) {
        let named = |flag: &str| flags.get(flag).and_then(|f| f.value).map(PathBuf::from);
        match component {
            Component::ApiServer => {
                for flag in [
                    "audit-policy-file",
                    "encryption-provider-config",
                    "authentication-config",
                    "authorization-config",
                ] {
                    if let Some(path) = named(flag)
                        && self.root.stat(&path).ok().flatten().is_some()
                        && !self.named_configs.contains(&path)
                    {
                        self.named_configs.push(path);
                    }
                }
            }
            Component::Etcd => {
                let data = named("data-dir").unwrap_or_else(|| PathBuf::from(ETCD_DATA_DIR));
                self.add_target(data, files::ETCD_DATA, Some("etcd's --data-dir"));
            }
            Component::Scheduler => {
                if let Some(path) = named("kubeconfig") {
                    self.add_target(
                        path,
                        files::SCHEDULER_KUBECONFIG,
                        Some("the scheduler's --kubeconfig"),
                    );
                }
            }
            Component::ControllerManager => {
                if let Some(path) = named("kubeconfig") {
                    self.add_target(
                        path,
                        files::CONTROLLER_MANAGER_KUBECONFIG,
                        Some("the controller manager's --kubeconfig"),
                    );
                }
            }
        }
    }

    fn add_target(&mut self, path: PathBuf, want: Want, named_by: Option<&str>) {
        // One file judged once per control, whoever names it.
        if !self.judged.insert((path.clone(), want.what)) {
            return;
        }
        self.targets.push(Target {
            path,
            want,
            named_by: named_by.map(str::to_string),
        });
    }

    /// The files the benchmark judges, where the node's settings say they are.
    fn find_targets(&mut self) {
        for (file, components) in self.manifests.clone() {
            for component in components {
                let want = match component {
                    Component::ApiServer => files::API_SERVER_MANIFEST,
                    Component::ControllerManager => files::CONTROLLER_MANAGER_MANIFEST,
                    Component::Scheduler => files::SCHEDULER_MANIFEST,
                    Component::Etcd => files::ETCD_MANIFEST,
                };
                self.add_target(file.clone(), want, None);
            }
        }
        let kubernetes = Path::new(KUBERNETES_DIR);
        for (name, want) in [
            ("admin.conf", files::ADMIN_KUBECONFIG),
            ("super-admin.conf", files::ADMIN_KUBECONFIG),
            ("scheduler.conf", files::SCHEDULER_KUBECONFIG),
            (
                "controller-manager.conf",
                files::CONTROLLER_MANAGER_KUBECONFIG,
            ),
        ] {
            let path = kubernetes.join(name);
            if self.exists(&path) {
                self.add_target(path, want, None);
            }
        }
        // etcd's data directory without a manifest: an etcd kubeadm's layout would run.
        let etcd_named = self.targets.iter().any(|t| t.want == files::ETCD_DATA);
        if !etcd_named && self.exists(ETCD_DATA_DIR) {
            self.add_target(PathBuf::from(ETCD_DATA_DIR), files::ETCD_DATA, None);
        }
        self.add_tree(Path::new(PKI_DIR), files::pki_want);
        self.add_tree(Path::new(CNI_DIR), |_, is_dir| match is_dir {
            true => files::Want {
                mode: None,
                ..files::CNI_FILE
            },
            false => files::CNI_FILE,
        });
        self.add_kubelet_targets();
    }

    fn add_tree(&mut self, dir: &Path, want_of: fn(&Path, bool) -> Want) {
        let tree = files::tree(&self.root, dir, want_of, MOST_TREE_ENTRIES);
        for (path, error) in &tree.unlisted {
            self.unreadable(path, error);
        }
        if tree.truncated {
            self.diagnostics.push(
                Diagnostic::new(
                    DiagnosticLevel::Error,
                    "node-file-unreadable",
                    format!("more than {MOST_TREE_ENTRIES} entries: the rest are not judged"),
                )
                .in_file(self.shown(dir))
                .input_unread(),
            );
        }
        for target in tree.targets {
            self.add_target(target.path, target.want, None);
        }
    }

    fn add_kubelet_targets(&mut self) {
        let kubelet = self.kubelet.clone();
        if let Some(kubelet) = &kubelet {
            for file in &kubelet.unit_files {
                self.add_target(file.clone(), files::KUBELET_UNIT, None);
            }
        }
        let kubeconfig = kubelet.as_ref().and_then(|k| k.value("kubeconfig"));
        match kubeconfig {
            Some(path) => self.add_target(
                PathBuf::from(path),
                files::KUBELET_KUBECONFIG,
                Some("the kubelet's --kubeconfig"),
            ),
            None if self.exists(KUBELET_KUBECONFIG) => self.add_target(
                PathBuf::from(KUBELET_KUBECONFIG),
                files::KUBELET_KUBECONFIG,
                None,
            ),
            None => {}
        }
        for path in PROXY_KUBECONFIGS {
            if self.exists(path) {
                self.add_target(PathBuf::from(path), files::PROXY_KUBECONFIG, None);
            }
        }
        let config = self.kubelet_config.clone();
        if let Some(config) = &config {
            if let Some(file) = &config.file {
                self.add_target(
                    file.clone(),
                    files::KUBELET_CONFIG,
                    Some("the kubelet's --config"),
                );
            }
            if let Some(ca) = config
                .value
                .at("/authentication/x509/clientCAFile")
                .and_then(Value::as_str)
                .filter(|c| !c.is_empty())
            {
                self.add_target(
                    PathBuf::from(ca),
                    files::CLIENT_CA,
                    Some("the kubelet's clientCAFile"),
                );
            }
        }
    }

    /// The sources of the objects a scan of the node judges: the kubelet's configuration as it
    /// runs with it, the static pod manifests (as they were read, once), the files the API
    /// server names. The manifests are handed over: a second call has none.
    pub fn take_sources(&mut self) -> Vec<Box<dyn ObjectSource>> {
        let mut sources: Vec<Box<dyn ObjectSource>> = Vec::new();
        if let Some(config) = &self.kubelet_config {
            let pos = config
                .original
                .as_ref()
                .map_or(Pos { line: 1, column: 1 }, Object::pos);
            let spans = Spans::uniform(&config.value, pos);
            if let Some(object) = Object::from_value(config.value.clone(), spans, 0, 0) {
                sources.push(Box::new(SourceRead {
                    source: Some(Source {
                        path: config.source.as_str().into(),
                        rendered_by: None,
                    }),
                    objects: vec![object],
                    diagnostics: Vec::new(),
                    skipped: 0,
                }));
            }
        }
        for read in std::mem::take(&mut self.manifest_reads) {
            sources.push(Box::new(read));
        }
        for file in &self.named_configs {
            if let Some(read) = self.read_file(file) {
                sources.push(Box::new(read));
            }
        }
        sources
    }

    /// NODE004's and NODE005's findings and coverage.
    pub fn judge_files(&self) -> files::Judged {
        files::judge(&self.root, &self.accounts, &self.targets)
    }

    /// Shows each finding on the kubelet's configuration where its setting was written: the
    /// file's own line, or the flag or drop-in that set it, which its message names.
    pub fn place_kubelet_findings(&self, report: &mut Report) {
        let Some(config) = &self.kubelet_config else {
            return;
        };
        for finding in &mut report.findings {
            if *finding.location.file != *config.source
                || finding
                    .subject
                    .object()
                    .is_none_or(|o| o.kind != "KubeletConfiguration")
            {
                continue;
            }
            place(finding, config, &self.root);
        }
    }

    /// What the report says of how the kubelet was read.
    pub fn summary(&self) -> Option<String> {
        let kubelet = self.kubelet.as_ref()?;
        let from = match kubelet.source {
            CommandSource::Process(pid) => format!("the running kubelet (pid {pid})"),
            CommandSource::Unit => "the kubelet's systemd unit".to_string(),
        };
        Some(from)
    }
}

fn is_kubelet_configuration(object: &Object) -> bool {
    object.id.kind == "KubeletConfiguration"
}

/// Moves one finding to where its setting was written.
fn place(finding: &mut Finding, config: &KubeletConfig, root: &Root) {
    let pointer = finding.location.path.to_string();
    let by = config
        .set_by
        .iter()
        .rev()
        .find(|(p, _)| *p == pointer || pointer.starts_with(&format!("{p}/")))
        .map(|(_, by)| by);
    match (by, &config.original) {
        (Some(by), _) => {
            let origin = by.origin(&config.command_origin);
            finding.location.file = root.host_path(&origin.file).display().to_string().into();
            finding.location.line = origin.line;
            finding.location.column = None;
            finding.message = format!("{} ({})", finding.message, by.said()).into();
        }
        (None, Some(original)) => {
            let at = original.locate(&finding.location.path);
            finding.location.line = Some(at.pos.line);
            finding.location.column = Some(at.pos.column);
        }
        (None, None) => {
            finding.location.line = config.command_origin.line;
            finding.location.column = None;
        }
    }
}
