//! The hardening additions: safe security-context defaults added where a pod spec leaves them
//! unset, never a value the author chose. Each addition is one the API server accepts for that
//! container (no `allowPrivilegeEscalation: false` beside `privileged` or `SYS_ADMIN`, nothing
//! on Windows pods), so a hardened object is never rejected because of it. The mutating
//! webhook sends them as a JSON Patch; `palisade fix` writes them into the manifest's text.

use palisade_core::JsonPointer;
use palisade_core::tree::Tree as _;
use palisade_inventory::{ContainerKind, PodSpec};
use palisade_k8s::security;
use serde::Deserialize;
use serde_json::{Map, Value, json};

/// When `runAsNonRoot: true` may be added.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum RunAsNonRoot {
    Never,
    /// Only when the container runs as a non-zero `runAsUser` (its own or the pod's): the
    /// image's user cannot be seen from a manifest or a request, and a root image would not
    /// start.
    WhenUserSet,
    /// Always (every image in the cluster declares a non-root user).
    Always,
}

impl RunAsNonRoot {
    pub fn name(self) -> &'static str {
        match self {
            RunAsNonRoot::Never => "never",
            RunAsNonRoot::WhenUserSet => "when-user-set",
            RunAsNonRoot::Always => "always",
        }
    }
}

/// When `capabilities.drop: [ALL]` may be added.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DropAllCapabilities {
    Never,
    /// Only to containers that cannot run as root: a non-zero `runAsUser` or
    /// `runAsNonRoot: true` (their own, the pod's, or the addition's). A process running as
    /// root usually needs some of the runtime's default capabilities (`CHOWN`, `SETUID`,
    /// `SETGID`, `NET_BIND_SERVICE`): the official nginx and postgres images stop at start
    /// without them.
    WhenNonRoot,
    /// Every container that drops nothing (every image in the cluster runs without them).
    Always,
}

impl DropAllCapabilities {
    pub fn name(self) -> &'static str {
        match self {
            DropAllCapabilities::Never => "never",
            DropAllCapabilities::WhenNonRoot => "when-non-root",
            DropAllCapabilities::Always => "always",
        }
    }
}

/// `never`, `when-non-root` or `always`; `false` and `true` (the setting's earlier form) are
/// `never` and `always`.
impl<'de> Deserialize<'de> for DropAllCapabilities {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Written {
            Flag(bool),
            Name(String),
        }
        let written = Written::deserialize(deserializer).map_err(|_| {
            serde::de::Error::custom("expected \"never\", \"when-non-root\" or \"always\"")
        })?;
        match written {
            Written::Flag(false) => Ok(DropAllCapabilities::Never),
            Written::Flag(true) => Ok(DropAllCapabilities::Always),
            Written::Name(name) => [
                DropAllCapabilities::Never,
                DropAllCapabilities::WhenNonRoot,
                DropAllCapabilities::Always,
            ]
            .into_iter()
            .find(|mode| mode.name() == name)
            .ok_or_else(|| {
                serde::de::Error::custom(format!(
                    "unknown value `{name}`: expected \"never\", \"when-non-root\" or \"always\""
                ))
            }),
        }
    }
}

/// Which additions are made.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Hardening {
    /// `seccompProfile: RuntimeDefault` for pods without a seccomp profile.
    pub seccomp: bool,
    /// `capabilities.drop: [ALL]` for containers that drop nothing.
    pub drop_all_capabilities: DropAllCapabilities,
    /// `allowPrivilegeEscalation: false` where it is unset and allowed.
    pub no_privilege_escalation: bool,
    pub run_as_non_root: RunAsNonRoot,
}

impl Default for Hardening {
    fn default() -> Self {
        Hardening {
            seccomp: true,
            drop_all_capabilities: DropAllCapabilities::WhenNonRoot,
            no_privilege_escalation: true,
            run_as_non_root: RunAsNonRoot::WhenUserSet,
        }
    }
}

/// One kind of addition, with the rule whose finding it resolves.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Field {
    /// `allowPrivilegeEscalation: false` (POD002).
    NoPrivilegeEscalation,
    /// `runAsNonRoot: true` (POD003).
    RunAsNonRoot,
    /// `capabilities.drop: [ALL]` (POD008).
    DropAllCapabilities,
    /// `seccompProfile: {type: RuntimeDefault}` (POD014).
    Seccomp,
}

impl Field {
    pub const ALL: [Field; 4] = [
        Field::NoPrivilegeEscalation,
        Field::RunAsNonRoot,
        Field::DropAllCapabilities,
        Field::Seccomp,
    ];

    /// The id of the rule that reports what this addition sets right.
    pub fn rule(self) -> &'static str {
        match self {
            Field::NoPrivilegeEscalation => "POD002",
            Field::RunAsNonRoot => "POD003",
            Field::DropAllCapabilities => "POD008",
            Field::Seccomp => "POD014",
        }
    }

    /// Whether a finding of this field's rule at `path` is the one an addition of this field
    /// to `holder` sets right: the path names this field of a security context in the pod
    /// spec or container (POD008 also reports each added capability, which dropping `ALL`
    /// leaves as it is; POD003 and POD014 name a container's field that the pod's settles).
    pub fn addresses(self, holder: &JsonPointer, path: &JsonPointer) -> bool {
        let field = format!("/securityContext/{}", self.path().join("/"));
        path.starts_with(holder) && path.as_str().ends_with(&field)
    }

    /// Where the field is in a security context.
    pub fn path(self) -> &'static [&'static str] {
        match self {
            Field::NoPrivilegeEscalation => &["allowPrivilegeEscalation"],
            Field::RunAsNonRoot => &["runAsNonRoot"],
            Field::DropAllCapabilities => &["capabilities", "drop"],
            Field::Seccomp => &["seccompProfile"],
        }
    }

    /// The value the addition gives it.
    pub fn value(self) -> Value {
        match self {
            Field::NoPrivilegeEscalation => json!(false),
            Field::RunAsNonRoot => json!(true),
            Field::DropAllCapabilities => json!(["ALL"]),
            Field::Seccomp => json!({"type": "RuntimeDefault"}),
        }
    }

    /// The field as it is written (`allowPrivilegeEscalation: false`).
    pub fn describe(self) -> &'static str {
        match self {
            Field::NoPrivilegeEscalation => "allowPrivilegeEscalation: false",
            Field::RunAsNonRoot => "runAsNonRoot: true",
            Field::DropAllCapabilities => "capabilities.drop: [ALL]",
            Field::Seccomp => "seccompProfile: RuntimeDefault",
        }
    }
}

/// One key added to a mapping that exists: `key: value` under the object at `at`.
#[derive(Debug, Clone, PartialEq)]
pub struct Addition {
    /// The mapping the key goes into.
    pub at: JsonPointer,
    pub key: String,
    pub value: Value,
    /// What the value sets, in order.
    pub fields: Vec<Field>,
    /// The pod spec or container the fields harden.
    pub holder: JsonPointer,
    /// How messages name it: `the pod`, `container "web"`.
    pub holder_name: String,
}

impl Addition {
    /// The JSON pointer of the added key.
    pub fn pointer(&self) -> JsonPointer {
        self.at.join(&self.key)
    }
}

/// Applies `additions` to `value` (each key placed last in its mapping, or replacing a null);
/// false when a mapping named is missing.
pub fn apply(value: &mut Value, additions: &[Addition]) -> bool {
    additions.iter().all(|addition| {
        let mut node = &mut *value;
        for segment in addition.at.segments() {
            node = match node {
                Value::Object(map) => match map.get_mut(segment.as_ref()) {
                    Some(next) => next,
                    None => return false,
                },
                Value::Array(items) => match segment.parse::<usize>().ok() {
                    Some(i) if i < items.len() => &mut items[i],
                    _ => return false,
                },
                _ => return false,
            };
        }
        match node {
            Value::Object(map) => {
                map.insert(addition.key.clone(), addition.value.clone());
                true
            }
            _ => false,
        }
    })
}

/// Whether a pod spec or container leaves `field` unset in its own security context (a
/// `drop` that is not a list of some capability counts as unset).
pub fn lacks(holder: &Value, field: Field) -> bool {
    let mut node = holder.get("securityContext");
    for segment in field.path() {
        node = node.and_then(|n| n.get(*segment));
    }
    match (field, node) {
        (Field::DropAllCapabilities, node) => {
            node.and_then(Value::as_array).is_none_or(Vec::is_empty)
        }
        (_, node) => node.is_none_or(Value::is_null),
    }
}

/// Which additions the caller wants: the field, and the JSON pointer of the pod spec (for
/// pod-level fields) or container (for container-level ones) it hardens.
pub type Wanted<'a> = &'a dyn Fn(Field, &JsonPointer) -> bool;

/// Every addition the settings allow (the mutating webhook's choice).
pub fn every(_: Field, _: &JsonPointer) -> bool {
    true
}

/// The additions for an object of any kind: for each of its pod templates when its kind has
/// several (a RayCluster's groups), none for a kind without a pod spec.
pub fn for_object(
    object: &palisade_inventory::Object,
    settings: &Hardening,
    wanted: Wanted<'_>,
) -> Vec<Addition> {
    for_value(
        object.id.group(),
        &object.id.kind,
        &object.value,
        settings,
        wanted,
    )
}

/// [`for_object`] for an object of `(group, kind)` whose value is `object`, for code that holds
/// a bare JSON value (the mutating webhook).
pub fn for_value(
    group: &str,
    kind: &str,
    object: &Value,
    settings: &Hardening,
    wanted: Wanted<'_>,
) -> Vec<Addition> {
    use palisade_inventory::operator_pods::container_security_defaults_of;
    match container_security_defaults_of(group, kind, object) {
        Some(defaults) => onto_operator_defaults(group, kind, object, defaults, settings, wanted),
        None => for_value_as_written(group, kind, object, settings, wanted),
    }
}

/// [`for_value`] on the object as written.
fn for_value_as_written(
    group: &str,
    kind: &str,
    object: &Value,
    settings: &Hardening,
    wanted: Wanted<'_>,
) -> Vec<Addition> {
    match palisade_inventory::podspec::pod_spec_pointer(group, kind) {
        Some(spec) => additions(object, spec, settings, wanted),
        None => palisade_inventory::podspec::grouped_templates_of(group, kind, object)
            .iter()
            .flat_map(|template| {
                let spec = SpecAt {
                    pointer: &template.spec,
                    containers_alone: template.containers_alone,
                };
                // `spec.workerGroupSpecs.0.template`: which of the pods each addition is for.
                let at = template.label();
                named_additions(object, spec, Some(&at), settings, wanted)
            })
            .collect(),
    }
}

/// [`for_value`] for an object whose operator gives `defaults` as the security context of
/// each container that sets none (ECK's Elasticsearch). The additions are found on the object
/// as the operator's Pods will have it; a container that sets no context of its own then gets
/// one whole context, the operator's with the additions in it, since the operator gives its
/// own only to a container that sets none (writing part of it would lose the rest).
fn onto_operator_defaults(
    group: &str,
    kind: &str,
    object: &Value,
    defaults: &Value,
    settings: &Hardening,
    wanted: Wanted<'_>,
) -> Vec<Addition> {
    use palisade_inventory::operator_pods::with_container_security_defaults;
    let templates = palisade_inventory::podspec::grouped_templates_of(group, kind, object);
    let spec_pointers: Vec<&str> = match palisade_inventory::podspec::pod_spec_pointer(group, kind)
    {
        Some(spec) => vec![spec],
        None => templates.iter().map(|t| t.spec.as_str()).collect(),
    };
    let mut defaulted = object.clone();
    for pointer in &spec_pointers {
        let (Some(spec), Some(slot)) = (object.at(pointer), defaulted.pointer_mut(pointer)) else {
            continue;
        };
        *slot = with_container_security_defaults(spec, defaults);
    }
    let found = for_value_as_written(group, kind, &defaulted, settings, wanted);
    // The containers that set no context of their own: the operator's is theirs.
    let unset = |holder: &JsonPointer| {
        !spec_pointers.contains(&holder.as_str())
            && object
                .at(holder.as_str())
                .is_some_and(|c| c.get("securityContext").is_none_or(Value::is_null))
    };
    let (mut out, onto): (Vec<Addition>, Vec<Addition>) =
        found.into_iter().partition(|a| !unset(&a.holder));
    let mut holders: Vec<&JsonPointer> = Vec::new();
    for addition in &onto {
        if !holders.contains(&&addition.holder) {
            holders.push(&addition.holder);
        }
    }
    for holder in holders {
        let theirs: Vec<Addition> = onto
            .iter()
            .filter(|a| &a.holder == holder)
            .cloned()
            .collect();
        let mut hardened = defaulted.clone();
        apply(&mut hardened, &theirs);
        let context = hardened
            .at(holder.join("securityContext").as_str())
            .cloned()
            .unwrap_or_else(|| defaults.clone());
        out.push(Addition {
            at: holder.clone(),
            key: "securityContext".to_string(),
            value: context,
            fields: theirs
                .iter()
                .flat_map(|a| a.fields.iter().copied())
                .collect(),
            holder: holder.clone(),
            holder_name: theirs[0].holder_name.clone(),
        });
    }
    out
}

/// The additions for `object` whose pod spec is at `spec_pointer`, in order; empty when
/// nothing is missing.
pub fn additions(
    object: &Value,
    spec_pointer: &str,
    settings: &Hardening,
    wanted: Wanted<'_>,
) -> Vec<Addition> {
    let spec = SpecAt {
        pointer: spec_pointer,
        containers_alone: &[],
    };
    named_additions(object, spec, None, settings, wanted)
}

/// Where a pod spec is in its object, and which of its fields hold a container written alone
/// (KServe's `predictor.model`).
#[derive(Clone, Copy)]
struct SpecAt<'a> {
    pointer: &'a str,
    containers_alone: &'static [&'static str],
}

/// [`additions`], the pod and its containers named with the pod template `template` they are
/// in, when the object has several.
fn named_additions(
    object: &Value,
    spec_at: SpecAt<'_>,
    template: Option<&str>,
    settings: &Hardening,
    wanted: Wanted<'_>,
) -> Vec<Addition> {
    let of_template = |name: String| match template {
        Some(at) => format!("{name} of {at}"),
        None => name,
    };
    let Some(spec) = object.at(spec_at.pointer).filter(|s| s.is_object()) else {
        return Vec::new();
    };
    if spec.at("/os/name").and_then(Value::as_str) == Some("windows")
        || spec.at("/securityContext/windowsOptions/hostProcess") == Some(&json!(true))
    {
        return Vec::new();
    }
    let Some(base) = JsonPointer::parse(spec_at.pointer) else {
        return Vec::new();
    };
    let pod_spec = PodSpec {
        pointer: spec_at.pointer,
        metadata_pointer: spec_at.pointer,
        value: spec,
        containers_alone: spec_at.containers_alone,
    };
    let mut out = Vec::new();
    let pod = Holder {
        value: spec,
        at: base,
        name: of_template("the pod".to_string()),
    };
    let pod_non_root = pod_level(&pod, &pod_spec, settings, wanted, &mut out);
    // Ephemeral containers are added through their own subresource, not written in manifests.
    let hardened = pod_spec
        .containers()
        .filter(|c| c.kind != ContainerKind::Ephemeral);
    for container in hardened {
        let holder = Holder {
            value: container.value,
            name: of_template(container.describe()),
            at: container.pointer,
        };
        container_level(&holder, spec, settings, wanted, pod_non_root, &mut out);
    }
    out
}

/// A pod spec or container being hardened.
struct Holder<'v> {
    value: &'v Value,
    at: JsonPointer,
    name: String,
}

impl Holder<'_> {
    fn addition(&self, at: JsonPointer, key: &str, value: Value, fields: Vec<Field>) -> Addition {
        Addition {
            at,
            key: key.to_string(),
            value,
            fields,
            holder: self.at.clone(),
            holder_name: self.name.clone(),
        }
    }
}

/// Adds `fields` under the holder's `securityContext` (creating it when absent or null).
fn add_fields(out: &mut Vec<Addition>, holder: &Holder<'_>, fields: Vec<Field>) {
    if fields.is_empty() {
        return;
    }
    // Each field as a key of the security context: `capabilities` holds `drop`.
    let entry = |field: Field| {
        let (key, inner) = field.path().split_first().unwrap_or((&"", &[]));
        let value = inner
            .iter()
            .rev()
            .fold(field.value(), |value, key| json!({ *key: value }));
        (*key, value)
    };
    let context = holder.at.join("securityContext");
    match holder.value.get("securityContext") {
        Some(Value::Object(_)) => {
            for field in fields {
                let (key, value) = entry(field);
                out.push(holder.addition(context.clone(), key, value, vec![field]));
            }
        }
        // Absent or null: the whole context at once.
        _ => {
            let map: Map<String, Value> = fields
                .iter()
                .map(|f| {
                    let (key, value) = entry(*f);
                    (key.to_string(), value)
                })
                .collect();
            out.push(holder.addition(
                holder.at.clone(),
                "securityContext",
                Value::Object(map),
                fields,
            ));
        }
    }
}

/// Adds the pod-level defaults; true when they include `runAsNonRoot: true`.
fn pod_level(
    pod: &Holder<'_>,
    pod_spec: &PodSpec<'_>,
    settings: &Hardening,
    wanted: Wanted<'_>,
    out: &mut Vec<Addition>,
) -> bool {
    let spec = pod.value;
    let pod_context = spec.get("securityContext");
    let containers = || pod_spec.containers().map(|c| c.value);
    let mut fields = Vec::new();
    let container_seccomp = containers().any(|c| c.at("/securityContext/seccompProfile").is_some());
    if settings.seccomp
        && lacks(spec, Field::Seccomp)
        && !container_seccomp
        && wanted(Field::Seccomp, &pod.at)
    {
        fields.push(Field::Seccomp);
    }
    let pod_user = pod_context
        .and_then(|c| c.get("runAsUser"))
        .and_then(Value::as_i64);
    let a_container_is_root =
        containers().any(|c| c.at("/securityContext/runAsUser").and_then(Value::as_i64) == Some(0));
    let non_root = match settings.run_as_non_root {
        RunAsNonRoot::Never => false,
        RunAsNonRoot::WhenUserSet => pod_user.is_some_and(|u| u != 0),
        RunAsNonRoot::Always => pod_user != Some(0),
    };
    let adds_non_root = non_root
        && lacks(spec, Field::RunAsNonRoot)
        && !a_container_is_root
        && wanted(Field::RunAsNonRoot, &pod.at);
    if adds_non_root {
        fields.push(Field::RunAsNonRoot);
    }
    add_fields(out, pod, fields);
    adds_non_root
}

fn container_level(
    holder: &Holder<'_>,
    spec: &Value,
    settings: &Hardening,
    wanted: Wanted<'_>,
    pod_non_root: bool,
    out: &mut Vec<Addition>,
) {
    let container = holder.value;
    let context = container.get("securityContext").filter(|c| c.is_object());
    let privileged = security::is_privileged(container);
    let mut fields = Vec::new();
    // The API server rejects `allowPrivilegeEscalation: false` with privileged or SYS_ADMIN.
    if settings.no_privilege_escalation
        && lacks(container, Field::NoPrivilegeEscalation)
        && !privileged
        && !security::adds_capability(container, "SYS_ADMIN")
        && wanted(Field::NoPrivilegeEscalation, &holder.at)
    {
        fields.push(Field::NoPrivilegeEscalation);
    }
    let own_user = context
        .and_then(|c| c.get("runAsUser"))
        .and_then(Value::as_i64);
    let own_non_root = settings.run_as_non_root == RunAsNonRoot::WhenUserSet
        && own_user.is_some_and(|u| u != 0)
        && security::effective(container, spec, "runAsNonRoot").is_none()
        && wanted(Field::RunAsNonRoot, &holder.at);
    if own_non_root {
        fields.push(Field::RunAsNonRoot);
    }
    let drop_all = match settings.drop_all_capabilities {
        DropAllCapabilities::Never => false,
        // The pod-level `runAsNonRoot: true` just added covers a container without a user
        // of its own (one with `runAsUser: 0` keeps it from being added).
        DropAllCapabilities::WhenNonRoot => {
            pod_non_root || !security::may_run_as_root(container, spec)
        }
        DropAllCapabilities::Always => true,
    };
    if drop_all
        && !privileged
        && lacks(container, Field::DropAllCapabilities)
        && wanted(Field::DropAllCapabilities, &holder.at)
    {
        match context
            .and_then(|c| c.get("capabilities"))
            .filter(|c| c.is_object())
        {
            Some(_) => {
                out.push(holder.addition(
                    holder.at.join("securityContext").join("capabilities"),
                    "drop",
                    Field::DropAllCapabilities.value(),
                    vec![Field::DropAllCapabilities],
                ));
            }
            None => fields.push(Field::DropAllCapabilities),
        }
    }
    // A context that is present but holds capabilities only: fields go in one by one.
    add_fields(out, holder, fields);
}

#[cfg(test)]
mod tests;
