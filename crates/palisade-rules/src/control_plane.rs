//! What the control-plane rules share: the containers of a pod spec that run one component,
//! with their flags (`palisade_k8s::control_plane`), and the checks of one flag each, every
//! failed one reported at the flag (or where a missing one belongs) citing its CIS control.
//!
//! A pod spec that runs no container of the component is out of the rule's scope, so the
//! component's CIS controls are `not_applicable`, never passed, when no manifest of it was
//! read (a managed cluster's control plane is not in its objects). A flag the command line
//! leaves out while a configuration file (`--config`) may set it is not assessed, and so is
//! every flag of a component the pod runs without showing its flags (`Component::unread`: a
//! shell script, an entrypoint of the component's image).

use palisade_core::tree::Tree as _;
use palisade_core::{Control, Framework, Severity};
pub(crate) use palisade_k8s::control_plane::Component;
use palisade_k8s::control_plane::Flags;

use crate::context::{Context, Reported};

/// What one flag must be.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Want {
    /// Set to `value`; unset, it is `default`.
    Is {
        value: &'static str,
        default: &'static str,
    },
    /// Given a value.
    Given,
    /// Not given.
    Absent,
    /// A list that includes the item; unset, it is `default`.
    Includes(&'static str, &'static [&'static str]),
    /// A list that does not include the item; unset, it is `default`.
    Excludes(&'static str, &'static [&'static str]),
    /// A number at least this; unset, it is 0.
    AtLeast(i64),
    /// Anything but `value`; unset, it is `default`.
    Not {
        value: &'static str,
        default: &'static str,
    },
    /// A duration other than zero; unset, it is the default, which is not.
    NonZeroDuration,
}

impl Want {
    /// What an unset setting is, when that says more than that it is not set.
    fn default(self) -> Option<String> {
        match self {
            Want::Is { default, .. } | Want::Not { default, .. } => Some(default.to_string()),
            Want::Includes(_, default) | Want::Excludes(_, default) if !default.is_empty() => {
                Some(default.join(","))
            }
            _ => None,
        }
    }

    /// Whether a setting given as `given` (a list's items as `items`) fails.
    fn fails(self, given: Option<&str>, items: &[&str]) -> bool {
        let text = |default: &'static str| given.unwrap_or(default).trim_matches('"');
        match self {
            Want::Is { value, default } => !text(default).eq_ignore_ascii_case(value),
            Want::Not { value, default } => text(default).eq_ignore_ascii_case(value),
            Want::Given => given.is_none_or(|v| v.trim().is_empty()),
            Want::Absent => given.is_some(),
            Want::Includes(item, default) => !listed(given, items, default).contains(&item),
            Want::Excludes(item, default) => listed(given, items, default).contains(&item),
            Want::AtLeast(least) => given
                .and_then(|v| v.trim_matches('"').parse::<i64>().ok())
                .is_none_or(|n| n < least),
            Want::NonZeroDuration => given.is_some_and(palisade_k8s::control_plane::zero_duration),
        }
    }
}

/// The items of a list setting, or `default` when it is not given.
fn listed<'v>(given: Option<&str>, items: &[&'v str], default: &[&'v str]) -> Vec<&'v str> {
    match given {
        Some(_) => items.to_vec(),
        None => default.to_vec(),
    }
}

/// One check of a component's flag.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Expect {
    pub flag: &'static str,
    pub want: Want,
    /// The CIS Kubernetes Benchmark v1.12 control it decides.
    pub control: &'static str,
    /// What failing it means, for the message.
    pub risk: &'static str,
    /// The finding's severity when it is not the rule's.
    pub severity: Option<Severity>,
    /// A file another flag names that may set this instead.
    pub in_file: Option<InFile>,
}

/// A configuration file that may set what a flag leaves out: the file `flag` names, an object
/// of `group`/`kind`, whose top-level `field` holds the setting (the structured authentication
/// configuration's `anonymous` for `--anonymous-auth`). Another rule judges the file.
#[derive(Debug, Clone, Copy)]
pub(crate) struct InFile {
    pub flag: &'static str,
    pub group: &'static str,
    pub kind: &'static str,
    pub field: &'static str,
}

impl Expect {
    pub(crate) const fn new(
        flag: &'static str,
        want: Want,
        control: &'static str,
        risk: &'static str,
    ) -> Self {
        Expect {
            flag,
            want,
            control,
            risk,
            severity: None,
            in_file: None,
        }
    }

    pub(crate) const fn or_in_file(mut self, in_file: InFile) -> Self {
        self.in_file = Some(in_file);
        self
    }

    pub(crate) const fn severity(mut self, severity: Severity) -> Self {
        self.severity = Some(severity);
        self
    }

    /// What is wrong with the flag as `flags` give it, `None` when nothing is.
    fn problem(&self, flags: &Flags<'_>) -> Option<String> {
        let given = flags.value(self.flag);
        // A file flag given bare names no file (`value` reads a bare flag as a boolean's true).
        let bare = flags.get(self.flag).is_some_and(|f| f.value.is_none());
        let failed = self.want.fails(given, &flags.items(self.flag))
            || (bare && matches!(self.want, Want::Given));
        failed.then(|| match (given, self.want.default()) {
            (Some(value), _) => format!("{} (--{}={value})", self.risk, self.flag),
            (None, Some(default)) => {
                format!("{} (--{} is not set, so {default})", self.risk, self.flag)
            }
            (None, None) => format!("{} (--{} is not set)", self.risk, self.flag),
        })
    }
}

/// Runs `expects` on every container of the judged pod spec that runs `component`; the
/// object is out of scope when none does.
pub(crate) fn check(cx: &mut Context<'_>, component: Component, expects: &[Expect]) {
    let mut ran = false;
    for container in cx.containers() {
        if Component::of_container(container.value) != Some(component) {
            if let Some((unread, why)) = Component::unread(container.value)
                && unread == component
            {
                ran = true;
                cx.not_assessed(format!(
                    "{} ({}): {why}",
                    component.noun(),
                    container.describe()
                ));
            }
            continue;
        }
        ran = true;
        let flags = Flags::of(component, container.value, &container.pointer);
        for expect in expects {
            if flags.get(expect.flag).is_none()
                && let Some(file) = flags.config_file()
            {
                cx.not_assessed(format!(
                    "--{} is not on the command line, and {} reads settings from {file}, which \
                     the manifest does not show",
                    expect.flag,
                    component.noun()
                ));
                continue;
            }
            match set_in_file(cx.inventory, &flags, expect) {
                Some(Some(why)) => {
                    cx.not_assessed(format!(
                        "{} ({}): {why}",
                        component.noun(),
                        container.describe()
                    ));
                    continue;
                }
                Some(None) => continue,
                None => {}
            }
            let Some(problem) = expect.problem(&flags) else {
                continue;
            };
            let mut reported = Reported::new(
                flags.pointer(expect.flag),
                format!("{} ({}): {problem}", component.noun(), container.describe()),
            );
            reported.cited = Some(vec![Control::new(Framework::CisK8s112, expect.control)]);
            reported.severity = expect.severity;
            reported.discriminator = Some(expect.flag.to_string());
            cx.report_with(reported);
        }
    }
    if !ran {
        cx.out_of_scope();
    }
}

/// For a flag the command line leaves out that a file may set ([`Expect::in_file`]):
/// `Some(None)` when the input holds that file and it sets it (the file decides, and its own
/// rule judges it), `Some(Some(why))` when the input does not hold the file, `None` when the
/// flag's default applies (the flag is given, no such file is named, or the file leaves the
/// setting out).
fn set_in_file(
    inventory: &palisade_inventory::Inventory,
    flags: &Flags<'_>,
    expect: &Expect,
) -> Option<Option<String>> {
    let in_file = expect.in_file?;
    if flags.get(expect.flag).is_some() {
        return None;
    }
    let path = flags.value(in_file.flag)?;
    let relative = std::path::Path::new(path.trim_start_matches('/'));
    let file = inventory.of_kind(in_file.group, in_file.kind).find(|o| {
        inventory
            .sources
            .get(o.source)
            .is_some_and(|s| std::path::Path::new(&*s.path).ends_with(relative))
    });
    match file {
        Some(file) if file.value.get(in_file.field).is_some() => Some(None),
        Some(_) => None,
        None => Some(Some(format!(
            "--{} is not on the command line, and `{}` of the file --{} names ({path}) may set \
             it: the input does not hold that file",
            expect.flag, in_file.field, in_file.flag
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use palisade_core::JsonPointer;
    use serde_json::json;

    fn problem(expect: Expect, command: &[&str]) -> Option<String> {
        let container = json!({ "command": command });
        let at = JsonPointer::parse("/spec/containers/0").unwrap();
        expect.problem(&Flags::of(Component::ApiServer, &container, &at))
    }

    #[test]
    fn each_want_reads_the_flag_and_its_default() {
        let anonymous = Expect::new(
            "anonymous-auth",
            Want::Is {
                value: "false",
                default: "true",
            },
            "1.2.1",
            "anonymous requests are served",
        );
        assert!(problem(anonymous, &["kube-apiserver"]).is_some());
        assert!(problem(anonymous, &["kube-apiserver", "--anonymous-auth=true"]).is_some());
        assert_eq!(
            problem(anonymous, &["kube-apiserver", "--anonymous-auth=false"]),
            None
        );
        let node = Expect::new(
            "authorization-mode",
            Want::Includes("Node", &["AlwaysAllow"]),
            "1.2.7",
            "kubelets are not limited",
        );
        assert!(problem(node, &["kube-apiserver"]).is_some());
        assert_eq!(
            problem(node, &["kube-apiserver", "--authorization-mode=Node,RBAC"]),
            None
        );
        let always = Expect::new(
            "authorization-mode",
            Want::Excludes("AlwaysAllow", &["AlwaysAllow"]),
            "1.2.6",
            "every request is allowed",
        );
        assert!(problem(always, &["kube-apiserver"]).is_some());
        assert_eq!(
            problem(always, &["kube-apiserver", "--authorization-mode=RBAC"]),
            None
        );
        let age = Expect::new(
            "audit-log-maxage",
            Want::AtLeast(30),
            "1.2.17",
            "kept briefly",
        );
        assert!(problem(age, &["kube-apiserver", "--audit-log-maxage=7"]).is_some());
        assert!(problem(age, &["kube-apiserver", "--audit-log-maxage=x"]).is_some());
        assert_eq!(
            problem(age, &["kube-apiserver", "--audit-log-maxage=30"]),
            None
        );
        let tokens = Expect::new("token-auth-file", Want::Absent, "1.2.2", "static tokens");
        assert_eq!(
            problem(tokens, &["kube-apiserver", "--token-auth-file=/t.csv"]).unwrap(),
            "static tokens (--token-auth-file=/t.csv)"
        );
        let key = Expect::new("tls-private-key-file", Want::Given, "1.2.24", "no TLS key");
        assert!(problem(key, &["kube-apiserver", "--tls-private-key-file"]).is_some());
        assert_eq!(
            problem(key, &["kube-apiserver", "--tls-private-key-file="]).unwrap(),
            "no TLS key (--tls-private-key-file=)"
        );
    }
}

/// One setting of a kubelet's configuration file (`KubeletConfiguration`), at a JSON
/// pointer, judged as a flag is (a boolean or number as its text, a list as its items).
#[derive(Debug, Clone, Copy)]
pub(crate) struct Setting {
    pub pointer: &'static str,
    pub want: Want,
    pub control: &'static str,
    pub risk: &'static str,
}

/// Runs `settings` on the judged KubeletConfiguration, each failure reported at the setting
/// (or the mapping it belongs in) citing its control.
pub(crate) fn check_kubelet(cx: &mut Context<'_>, settings: &[Setting]) {
    let object = cx.object;
    let value = &object.value;
    for setting in settings {
        let found = value.at(setting.pointer).filter(|v| !v.is_null());
        let text = found.and_then(|v| match v {
            serde_json::Value::String(s) => Some(s.clone()),
            serde_json::Value::Bool(_) | serde_json::Value::Number(_) => Some(v.to_string()),
            _ => None,
        });
        let items: Vec<&str> = match found {
            Some(serde_json::Value::Array(items)) => {
                items.iter().filter_map(|i| i.as_str()).collect()
            }
            _ => Vec::new(),
        };
        let given = text.as_deref().or(found.map(|_| ""));
        if !setting.want.fails(given, &items) {
            continue;
        }
        // A zero duration in a file the kubelet reads is replaced by its default (four hours
        // for the streaming timeout); only a running zero is zero.
        if matches!(setting.want, Want::NonZeroDuration)
            && !palisade_k8s::control_plane::is_running_kubelet_configuration(value)
        {
            continue;
        }
        let key = setting.pointer.trim_start_matches('/').replace('/', ".");
        let shown = match (found, &text) {
            (_, Some(text)) => format!("{key}: {text}"),
            (Some(_), None) => format!("{key} is not a plain value"),
            (None, _) => format!("{key} is not set"),
        };
        let pointer = palisade_core::JsonPointer::parse(setting.pointer).unwrap_or_default();
        let mut reported =
            Reported::new(pointer, format!("the kubelet: {} ({shown})", setting.risk));
        reported.cited = Some(vec![Control::new(Framework::CisK8s112, setting.control)]);
        reported.discriminator = Some(key);
        cx.report_with(reported);
    }
}
