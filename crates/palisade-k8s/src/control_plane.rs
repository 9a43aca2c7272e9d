//! The control plane as its pods run it: which component a container runs (the API server,
//! controller manager, scheduler or etcd, as kubeadm's static pods, a cluster's mirror pods or
//! a hosted control plane's Deployments run them), and the flags it was started with, read
//! from its `command` and `args` (and, for etcd, its `ETCD_*` environment variables).
//!
//! Flags are read as the components' flag parser reads them: `--name=value`, or `--name value`
//! for a flag that takes a value (a boolean flag never takes the next word), the last
//! occurrence of a flag winning, and a list flag (`--enable-admission-plugins`) read as its
//! comma-separated items.

use palisade_core::JsonPointer;
use serde_json::Value;

/// The annotation Palisade gives a `KubeletConfiguration` that is the configuration a kubelet
/// runs with (its `/configz`, or its file merged with its command line by `palisade node`),
/// rather than a file as written. The two differ: the kubelet replaces a zero duration in its
/// file by its default (`streamingConnectionIdleTimeout: 0s` is four hours), while a running
/// zero is zero (set by `--streaming-connection-idle-timeout=0`).
pub const RUNNING_KUBELET_CONFIGURATION: &str = "palisade.dev/running-configuration";

/// Whether a `KubeletConfiguration` is one a kubelet runs with
/// ([`RUNNING_KUBELET_CONFIGURATION`]).
pub fn is_running_kubelet_configuration(value: &Value) -> bool {
    value
        .get("metadata")
        .and_then(|m| m.get("annotations"))
        .and_then(|a| a.get(RUNNING_KUBELET_CONFIGURATION))
        .and_then(Value::as_str)
        == Some("true")
}

/// Whether a Go duration as a flag or configuration file gives it (`0`, `0s`, `0h0m0s`) is
/// zero.
pub fn zero_duration(text: &str) -> bool {
    let text = text.trim().trim_matches('"');
    !text.is_empty()
        && text
            .chars()
            .all(|c| c == '0' || c == '.' || c.is_ascii_alphabetic())
}

/// Marks a `KubeletConfiguration` as one a kubelet runs with.
pub fn mark_running_kubelet_configuration(value: &mut Value) {
    let Some(map) = value.as_object_mut() else {
        return;
    };
    let metadata = map
        .entry("metadata")
        .or_insert_with(|| Value::Object(serde_json::Map::new()));
    if !metadata.is_object() {
        *metadata = Value::Object(serde_json::Map::new());
    }
    if let Some(metadata) = metadata.as_object_mut() {
        let annotations = metadata
            .entry("annotations")
            .or_insert_with(|| Value::Object(serde_json::Map::new()));
        if !annotations.is_object() {
            *annotations = Value::Object(serde_json::Map::new());
        }
        if let Some(annotations) = annotations.as_object_mut() {
            annotations.insert(RUNNING_KUBELET_CONFIGURATION.into(), "true".into());
        }
    }
}

/// A control-plane component.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Component {
    ApiServer,
    ControllerManager,
    Scheduler,
    Etcd,
}

impl Component {
    pub const ALL: [Component; 4] = [
        Component::ApiServer,
        Component::ControllerManager,
        Component::Scheduler,
        Component::Etcd,
    ];

    /// The program that runs it.
    pub fn program(self) -> &'static str {
        match self {
            Component::ApiServer => "kube-apiserver",
            Component::ControllerManager => "kube-controller-manager",
            Component::Scheduler => "kube-scheduler",
            Component::Etcd => "etcd",
        }
    }

    /// How messages name it.
    pub fn noun(self) -> &'static str {
        match self {
            Component::ApiServer => "the API server",
            Component::ControllerManager => "the controller manager",
            Component::Scheduler => "the scheduler",
            Component::Etcd => "etcd",
        }
    }

    /// The flag that names a configuration file whose settings a manifest does not show.
    pub fn config_flag(self) -> Option<&'static str> {
        match self {
            Component::ApiServer => None,
            Component::ControllerManager | Component::Scheduler => Some("config"),
            Component::Etcd => Some("config-file"),
        }
    }

    /// The component a container runs: the program its command starts (the first word of
    /// `command`, else of `args` when the image's entrypoint is left as it is), by its file
    /// name (`/usr/local/bin/kube-apiserver`).
    pub fn of_container(container: &Value) -> Option<Component> {
        let first = |key: &str| {
            container
                .get(key)
                .and_then(Value::as_array)
                .and_then(|items| items.first())
                .and_then(Value::as_str)
        };
        let program = first("command").or_else(|| first("args"))?;
        let program = program.trim().rsplit('/').next()?;
        Component::ALL.into_iter().find(|c| c.program() == program)
    }
}

impl Component {
    /// A component a container runs whose flags cannot be read from its `command` and `args`,
    /// with why: a shell script (`sh -c '... kube-apiserver ...'`) that starts it, or an image
    /// of the API server, controller manager or scheduler whose command starts something else
    /// (an entrypoint script) or is left to the image. Checks of such a container's flags are
    /// not assessed, never passed. `None` when [`Component::of_container`] finds the program,
    /// or nothing says a component runs.
    pub fn unread(container: &Value) -> Option<(Component, String)> {
        if Component::of_container(container).is_some() {
            return None;
        }
        let words = || {
            ["command", "args"]
                .into_iter()
                .filter_map(|key| container.get(key).and_then(Value::as_array))
                .flatten()
                .filter_map(Value::as_str)
        };
        let first = words().next();
        let shell = first.is_some_and(|first| {
            let program = first.trim().rsplit('/').next().unwrap_or("");
            matches!(program, "sh" | "bash" | "ash" | "dash" | "zsh")
        });
        if let Some(shell) = first.filter(|_| shell) {
            let script = words().skip(1).collect::<Vec<_>>().join(" ");
            let runs = |c: &Component| {
                script
                    .split(|ch: char| ch.is_whitespace() || "'\";&|()`$".contains(ch))
                    .any(|word| word.rsplit('/').next() == Some(c.program()))
            };
            if let Some(component) = Component::ALL.into_iter().find(runs) {
                return Some((
                    component,
                    format!(
                        "{} is started by a shell script ({}), whose flags are not read",
                        component.program(),
                        shell.trim()
                    ),
                ));
            }
        }
        let image = container
            .get("image")
            .and_then(Value::as_str)
            .filter(|image| image.contains("kube-"))?;
        let repository = crate::image::ImageRef::parse(image).repository;
        let name = repository.rsplit('/').next().unwrap_or("");
        let component = [
            Component::ApiServer,
            Component::ControllerManager,
            Component::Scheduler,
        ]
        .into_iter()
        .find(|c| c.program() == name)?;
        let how = match first {
            Some(first) => format!("its command starts {}", first.trim()),
            None => "its command is left to the image".to_string(),
        };
        Some((
            component,
            format!(
                "the container runs the {} image, but {how}: the flags it passes are not read",
                component.program()
            ),
        ))
    }
}

/// Whether `name` is a boolean flag (one that never takes the next word as its value) of the
/// components: a flag not listed takes the next word unless it starts with `-`.
fn boolean(name: &str) -> bool {
    const BOOLEAN: [&str; 12] = [
        "anonymous-auth",
        "profiling",
        "service-account-lookup",
        "service-account-extend-token-expiration",
        "use-service-account-credentials",
        "client-cert-auth",
        "peer-client-cert-auth",
        "auto-tls",
        "peer-auto-tls",
        "allow-privileged",
        "leader-elect",
        "enable-bootstrap-token-auth",
    ];
    BOOLEAN.contains(&name)
}

/// Whether `name` is a boolean flag of the kubelet (and of kube-proxy, for the flags Palisade
/// reads of it): given alone it is true, and it never takes the next word.
pub fn kubelet_boolean(name: &str) -> bool {
    const BOOLEAN: [&str; 31] = [
        "anonymous-auth",
        "authentication-token-webhook",
        "make-iptables-util-chains",
        "rotate-certificates",
        "rotate-server-certificates",
        "seccomp-default",
        "protect-kernel-defaults",
        "fail-swap-on",
        "register-node",
        "register-schedulable",
        "enable-server",
        "enable-debugging-handlers",
        "enable-controller-attach-detach",
        "cgroups-per-qos",
        "kernel-memcg-notification",
        "keep-terminated-pod-volumes",
        "exit-on-lock-contention",
        "fail-cgroupv1",
        "enable-load-reader",
        "serialize-image-pulls",
        "allow-privileged",
        "alsologtostderr",
        "logtostderr",
        "skip-headers",
        "skip-log-headers",
        "one-output",
        "add-dir-header",
        "experimental-mounter-path",
        "help",
        "version",
        "log-flush-frequency",
    ];
    BOOLEAN.contains(&name)
}

/// One flag read from a command line's words.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WordFlag<'w> {
    /// The index of the word the flag is written in.
    pub at: usize,
    pub name: &'w str,
    /// `None` for a flag given alone (a boolean's true).
    pub value: Option<&'w str>,
}

/// The flags of a command line's words (the program left out), read as the components' flag
/// parser (pflag) reads them: `--name=value`, or `--name value` for a flag that is not
/// `boolean` when the next word is not a flag; `-name` as `--name`; `--` ends the flags. Words
/// are trimmed; one that is not text (`None`, an item of a manifest's `command` that is not a
/// string) is skipped.
pub fn read_flags<'w>(
    words: &[Option<&'w str>],
    boolean: impl Fn(&str) -> bool,
) -> Vec<WordFlag<'w>> {
    let mut out = Vec::new();
    let mut i = 0;
    while i < words.len() {
        let at = i;
        i += 1;
        let Some(word) = words[at].map(str::trim) else {
            continue;
        };
        if word == "--" {
            break;
        }
        let Some(body) = word
            .strip_prefix("--")
            .or_else(|| word.strip_prefix('-'))
            .filter(|b| !b.is_empty())
        else {
            continue;
        };
        let (name, value) = match body.split_once('=') {
            Some((name, value)) => (name, Some(value)),
            None => match words.get(i).copied().flatten() {
                Some(next) if !next.starts_with('-') && !boolean(body) => {
                    i += 1;
                    (body, Some(next.trim()))
                }
                _ => (body, None),
            },
        };
        out.push(WordFlag { at, name, value });
    }
    out
}

/// One flag as the container passes it.
#[derive(Debug, Clone, PartialEq)]
pub struct Flag<'v> {
    pub name: &'v str,
    /// `None` for a flag given without a value (a boolean set to true).
    pub value: Option<&'v str>,
    /// Where it is written: the item of `command`, `args` or the `env` entry.
    pub pointer: JsonPointer,
}

/// The flags a component's container was started with.
#[derive(Debug, Clone)]
pub struct Flags<'v> {
    pub component: Component,
    flags: Vec<Flag<'v>>,
    /// The container's pointer, where a missing flag belongs (its `command`, else `args`).
    missing_at: JsonPointer,
}

impl<'v> Flags<'v> {
    /// The flags of `container` (at `at`), which runs `component`.
    pub fn of(component: Component, container: &'v Value, at: &JsonPointer) -> Flags<'v> {
        let mut flags = Vec::new();
        let mut list = None;
        for key in ["command", "args"] {
            let Some(items) = container.get(key).and_then(Value::as_array) else {
                continue;
            };
            list.get_or_insert(key);
            let words: Vec<Option<&str>> = items.iter().map(Value::as_str).collect();
            flags.extend(read_flags(&words, boolean).into_iter().map(|f| Flag {
                name: f.name,
                value: f.value,
                pointer: at.join(key).join(f.at.to_string()),
            }));
        }
        if component == Component::Etcd {
            flags.extend(etcd_environment(container, at, &flags));
        }
        Flags {
            component,
            flags,
            missing_at: at.join(list.unwrap_or("command")),
        }
    }

    /// The flag `name` as it takes effect: its last occurrence.
    pub fn get(&self, name: &str) -> Option<&Flag<'v>> {
        self.flags.iter().rev().find(|f| f.name == name)
    }

    /// The value of the flag `name`: `"true"` for a flag given without one.
    pub fn value(&self, name: &str) -> Option<&'v str> {
        self.get(name).map(|f| f.value.unwrap_or("true"))
    }

    /// The items of a list flag (comma-separated, across every occurrence of it).
    pub fn items(&self, name: &str) -> Vec<&'v str> {
        self.flags
            .iter()
            .filter(|f| f.name == name)
            .flat_map(|f| f.value.unwrap_or_default().split(','))
            .map(str::trim)
            .filter(|item| !item.is_empty())
            .collect()
    }

    /// Where `name` is written, or where a missing flag belongs.
    pub fn pointer(&self, name: &str) -> JsonPointer {
        self.get(name)
            .map_or_else(|| self.missing_at.clone(), |f| f.pointer.clone())
    }

    /// The configuration file that may set what the command line leaves out.
    pub fn config_file(&self) -> Option<&'v str> {
        self.value(self.component.config_flag()?)
    }
}

/// etcd's settings given as `ETCD_<FLAG>` environment variables, but for the flags the
/// command line gives (it overrides them).
fn etcd_environment<'v>(
    container: &'v Value,
    at: &JsonPointer,
    given: &[Flag<'v>],
) -> Vec<Flag<'v>> {
    let Some(env) = container.get("env").and_then(Value::as_array) else {
        return Vec::new();
    };
    let mut out: Vec<Flag<'v>> = Vec::new();
    for (i, entry) in env.iter().enumerate() {
        let Some(name) = entry.get("name").and_then(Value::as_str) else {
            continue;
        };
        let Some(flag) = name.strip_prefix("ETCD_") else {
            continue;
        };
        let flag = flag.to_ascii_lowercase().replace('_', "-");
        let Some(known) = ETCD_FLAGS.iter().find(|f| **f == flag) else {
            continue;
        };
        if given.iter().any(|g| g.name == *known) {
            continue;
        }
        out.push(Flag {
            name: known,
            value: Some(entry.get("value").and_then(Value::as_str).unwrap_or("")),
            pointer: at.join("env").join(i.to_string()),
        });
    }
    out
}

/// The etcd flags that may be set from the environment and that checks read.
const ETCD_FLAGS: [&str; 9] = [
    "cert-file",
    "key-file",
    "client-cert-auth",
    "auto-tls",
    "peer-cert-file",
    "peer-key-file",
    "peer-client-cert-auth",
    "peer-auto-tls",
    "trusted-ca-file",
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flags_are_read_from_words_as_pflag_reads_them() {
        let words = [
            Some("--config"),
            Some(" /etc/k.yaml "),
            None,
            Some("--anonymous-auth"),
            Some("false-is-not-taken"),
            Some("-v=2"),
            Some("-"),
            Some("--"),
            Some("--after=ignored"),
        ];
        let read = read_flags(&words, kubelet_boolean);
        let seen: Vec<(usize, &str, Option<&str>)> =
            read.iter().map(|f| (f.at, f.name, f.value)).collect();
        assert_eq!(
            seen,
            [
                (0, "config", Some("/etc/k.yaml")),
                (3, "anonymous-auth", None),
                (5, "v", Some("2")),
            ]
        );
    }
    use serde_json::json;

    fn at() -> JsonPointer {
        JsonPointer::parse("/spec/containers/0").unwrap()
    }

    #[test]
    fn the_component_is_the_program_its_command_starts() {
        for (container, component) in [
            (
                json!({"command": ["kube-apiserver", "--x"]}),
                Some(Component::ApiServer),
            ),
            (
                json!({"command": ["/usr/local/bin/etcd"]}),
                Some(Component::Etcd),
            ),
            (
                json!({"args": ["kube-scheduler"]}),
                Some(Component::Scheduler),
            ),
            (json!({"command": ["sh", "-c", "kube-apiserver"]}), None),
            (
                json!({"image": "registry.k8s.io/kube-apiserver:v1.33.0"}),
                None,
            ),
        ] {
            assert_eq!(
                Component::of_container(&container),
                component,
                "{container}"
            );
        }
    }

    /// A component whose flags the command line does not show is said to be one, so that its
    /// checks are not assessed rather than skipped as if no component ran.
    #[test]
    fn a_component_behind_a_shell_or_an_entrypoint_is_unread() {
        let unread = |container: Value| Component::unread(&container).map(|(c, _)| c);
        assert_eq!(
            unread(
                json!({"command": ["/bin/sh", "-c"], "args": ["exec /usr/local/bin/kube-apiserver --x=1"]})
            ),
            Some(Component::ApiServer)
        );
        assert_eq!(
            unread(json!({"command": ["bash", "-c", "etcd --data-dir=/var/lib/etcd"]})),
            Some(Component::Etcd)
        );
        assert_eq!(
            unread(json!({"image": "registry.k8s.io/kube-scheduler:v1.33.0"})),
            Some(Component::Scheduler)
        );
        assert_eq!(
            unread(
                json!({"image": "registry.k8s.io/kube-controller-manager:v1.33.0", "command": ["/entrypoint.sh"]})
            ),
            Some(Component::ControllerManager)
        );
        // Read as it is, or no component at all.
        assert_eq!(
            unread(
                json!({"image": "registry.k8s.io/kube-apiserver:v1.33.0", "command": ["kube-apiserver"]})
            ),
            None
        );
        assert_eq!(unread(json!({"image": "bitnami/etcd:3.5"})), None);
        assert_eq!(
            unread(json!({"command": ["sh", "-c", "echo kube-apiserverx"]})),
            None
        );
        assert_eq!(unread(json!({"image": "nginx:1.27"})), None);
    }

    #[test]
    fn flags_are_read_as_the_flag_parser_reads_them() {
        let container = json!({"command": [
            "kube-apiserver",
            "--authorization-mode=Node",
            "--profiling",
            "--etcd-servers", "https://127.0.0.1:2379",
            "--anonymous-auth", "false",
            "--enable-admission-plugins=NodeRestriction,EventRateLimit",
            "--authorization-mode=Node,RBAC",
            "--enable-admission-plugins=AlwaysPullImages"
        ]});
        let flags = Flags::of(Component::ApiServer, &container, &at());
        assert_eq!(flags.value("authorization-mode"), Some("Node,RBAC"));
        assert_eq!(flags.value("profiling"), Some("true"));
        assert_eq!(flags.value("etcd-servers"), Some("https://127.0.0.1:2379"));
        // A boolean flag does not take the next word: `false` is a stray argument.
        assert_eq!(flags.value("anonymous-auth"), Some("true"));
        assert_eq!(
            flags.items("enable-admission-plugins"),
            ["NodeRestriction", "EventRateLimit", "AlwaysPullImages"]
        );
        assert_eq!(
            flags.pointer("profiling").as_str(),
            "/spec/containers/0/command/2"
        );
        assert_eq!(
            flags.pointer("token-auth-file").as_str(),
            "/spec/containers/0/command"
        );
        assert_eq!(flags.value("missing"), None);
    }

    #[test]
    fn etcd_reads_its_environment_below_its_command_line() {
        let container = json!({
            "command": ["etcd", "--client-cert-auth=true"],
            "env": [
                {"name": "ETCD_CLIENT_CERT_AUTH", "value": "false"},
                {"name": "ETCD_CERT_FILE", "value": "/pki/etcd.crt"},
                {"name": "OTHER", "value": "x"}
            ]
        });
        let flags = Flags::of(Component::Etcd, &container, &at());
        assert_eq!(flags.value("client-cert-auth"), Some("true"));
        assert_eq!(flags.value("cert-file"), Some("/pki/etcd.crt"));
        assert_eq!(
            flags.pointer("cert-file").as_str(),
            "/spec/containers/0/env/1"
        );
        let config = json!({"command": ["etcd", "--config-file", "/etc/etcd.yaml"]});
        let flags = Flags::of(Component::Etcd, &config, &at());
        assert_eq!(flags.config_file(), Some("/etc/etcd.yaml"));
    }
}
