//! What a detection is: its metadata (documentation from its doc comment, MITRE ATT&CK
//! techniques as compliance controls), the requests it looks at (`Trigger`s: verbs,
//! resource, subresource) and its check. The engine indexes triggers by resource, so an event
//! is shown only to the detections that asked for its request, never to every rule.

use std::cell::OnceCell;

use palisade_core::tree::Tree;
use palisade_core::{RuleMeta, Severity};
use serde_json::value::RawValue;

use crate::body::Body;

use crate::event::Event;
use crate::settings::Settings;
use crate::state::State;

/// Which subresource a trigger wants.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Sub {
    /// The object itself, no subresource.
    None,
    /// Any subresource, or none.
    Any,
    /// This subresource.
    Is(&'static str),
}

/// An audit level: how much of a request the API server's audit policy logs. A trigger names
/// the least its check needs; an event logged at less cannot be judged by it (it is counted
/// as not assessed, never taken as harmless).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize)]
pub enum Level {
    /// Nothing is logged.
    None,
    /// Who asked for what, when, from where, and the response's code.
    Metadata,
    /// The request's object too (what a create, update or patch sent).
    Request,
    /// The response's object too (the object as the API server stored it).
    RequestResponse,
}

impl Level {
    /// The level as the audit API spells it (`RequestResponse`).
    pub fn as_str(self) -> &'static str {
        match self {
            Level::None => "None",
            Level::Metadata => "Metadata",
            Level::Request => "Request",
            Level::RequestResponse => "RequestResponse",
        }
    }

    /// Parses the audit API's spelling.
    pub fn parse(text: &str) -> Option<Level> {
        [
            Level::None,
            Level::Metadata,
            Level::Request,
            Level::RequestResponse,
        ]
        .into_iter()
        .find(|l| l.as_str() == text)
    }

    /// The level an event was logged at: its `level`, raised to what its bodies show (some
    /// exporters drop the field; a body present is read whatever the field says). An event
    /// the audit backend truncated (`audit.k8s.io/truncated`: it was too large, and its
    /// bodies were dropped) is at what its bodies show, whatever level the policy gave it.
    pub fn of(event: &Event) -> Level {
        let shown = if event.response_object.is_some() {
            Level::RequestResponse
        } else if event.request_object.is_some() {
            Level::Request
        } else {
            Level::Metadata
        };
        match Level::declared(event) {
            // Truncation only ever takes away: checked when the bodies fall short of the level.
            Some(said) if said > shown && !event.truncated() => said,
            _ => shown,
        }
    }

    /// The level the API server's audit policy gave the event's request (its `level`).
    pub fn declared(event: &Event) -> Option<Level> {
        event.level.as_deref().and_then(Level::parse)
    }

    /// The level the policy gave a request whose event the audit backend truncated: above
    /// `shown`, the level [`Level::of`] gives the event (truncation only takes away).
    pub fn truncated_from(event: &Event, shown: Level) -> Option<Level> {
        Level::declared(event).filter(|said| *said > shown)
    }
}

impl std::fmt::Display for Level {
    fn fmt(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A request in words: `create pods`, `create pods/exec`.
pub fn request_words(verb: &str, resource: &str, subresource: &str) -> String {
    let mut words = String::with_capacity(verb.len() + resource.len() + subresource.len() + 2);
    words.push_str(verb);
    words.push(' ');
    words.push_str(resource);
    if !subresource.is_empty() {
        words.push('/');
        words.push_str(subresource);
    }
    words
}

/// The resource of a trigger on every resource of an API group, as an audit policy names
/// them all.
pub const ANY_RESOURCE: &str = "*";

/// The requests a detection looks at.
#[derive(Debug, Clone, Copy)]
pub struct Trigger {
    /// Verbs (`create`, `get`, ...); empty for any.
    pub verbs: &'static [&'static str],
    /// The resource (plural, as in `objectRef.resource`); `None` for every request, including
    /// non-resource URLs.
    pub resource: Option<&'static str>,
    pub sub: Sub,
    /// The least audit level at which the check can judge these requests.
    pub needs: Level,
    /// The least level for a JSON patch among them, when less: a JSON patch says what it
    /// adds, where a merge patch must be applied to what was stored.
    pub json_patch_needs: Option<Level>,
    /// For a resource outside Kubernetes' built-in table (a CRD's, or an API newer than the
    /// table): its API group, and whether it lives in namespaces.
    pub api_group: Option<(&'static str, bool)>,
}

impl Trigger {
    pub const fn on(verbs: &'static [&'static str], resource: &'static str) -> Trigger {
        Trigger {
            verbs,
            resource: Some(resource),
            sub: Sub::None,
            needs: Level::Metadata,
            json_patch_needs: None,
            api_group: None,
        }
    }

    pub const fn sub(
        verbs: &'static [&'static str],
        resource: &'static str,
        sub: &'static str,
    ) -> Trigger {
        Trigger {
            verbs,
            resource: Some(resource),
            sub: Sub::Is(sub),
            needs: Level::Metadata,
            json_patch_needs: None,
            api_group: None,
        }
    }

    /// Every request of these verbs to the resource, with or without a subresource.
    pub const fn any_sub(verbs: &'static [&'static str], resource: &'static str) -> Trigger {
        Trigger {
            verbs,
            resource: Some(resource),
            sub: Sub::Any,
            needs: Level::Metadata,
            json_patch_needs: None,
            api_group: None,
        }
    }

    /// Requests of these verbs to any resource of API group `group` (its resources in
    /// namespaces or not), without a subresource: for a group whose resources have no fixed
    /// names (Gatekeeper names each constraint resource after its template).
    pub const fn any_in_group(
        verbs: &'static [&'static str],
        group: &'static str,
        namespaced: bool,
    ) -> Trigger {
        Trigger {
            verbs,
            resource: Some(ANY_RESOURCE),
            sub: Sub::None,
            needs: Level::Metadata,
            json_patch_needs: None,
            api_group: Some((group, namespaced)),
        }
    }

    /// Whether the trigger names no resource but every one of its API group
    /// ([`Trigger::any_in_group`]).
    pub fn any_resource_of_group(&self) -> Option<&'static str> {
        match (self.resource, self.api_group) {
            (Some(ANY_RESOURCE), Some((group, _))) => Some(group),
            _ => None,
        }
    }

    /// Every request.
    pub const fn every() -> Trigger {
        Trigger {
            verbs: &[],
            resource: None,
            sub: Sub::Any,
            needs: Level::Metadata,
            json_patch_needs: None,
            api_group: None,
        }
    }

    /// The same requests, judged from the request's object (or the response's, with
    /// [`Level::RequestResponse`]): events logged at less are not assessed.
    pub const fn reading(self, needs: Level) -> Trigger {
        Trigger { needs, ..self }
    }

    /// The same, with a JSON patch among them judged at `needs`.
    pub const fn reading_json_patches(self, needs: Level) -> Trigger {
        Trigger {
            json_patch_needs: Some(needs),
            ..self
        }
    }

    /// The same requests, of a resource outside Kubernetes' built-in table (a CRD's, or an
    /// API newer than the table): in API group `group`, namespaced or not. Only requests in
    /// that group match.
    pub const fn in_api_group(self, group: &'static str, namespaced: bool) -> Trigger {
        Trigger {
            api_group: Some((group, namespaced)),
            ..self
        }
    }

    /// The API group of the trigger's resource and whether it lives in namespaces: the one
    /// declared ([`Trigger::in_api_group`]), else the built-in table's; `None` for every
    /// request, or a resource neither names.
    pub fn group_and_scope(&self) -> Option<(&'static str, bool)> {
        let resource = self.resource?;
        self.api_group.or_else(|| {
            let (group, _) = palisade_k8s::builtin_resource("", resource)?;
            let namespaced = palisade_k8s::builtin_resource_namespaced(group, resource)?;
            Some((group, namespaced))
        })
    }

    /// The least level at which the check can judge this event.
    pub fn needs_for(&self, event: &Event) -> Level {
        match self.json_patch_needs {
            Some(needs) if event.verb() == "patch" && event.is_json_patch() => needs,
            _ => self.needs,
        }
    }

    /// The requests in words, with the audit level they must be logged at when it is more
    /// than `Metadata`: "`update` `pods`, logged at `RequestResponse`".
    pub fn describe(&self) -> String {
        let verbs = if self.verbs.is_empty() {
            "any verb".to_string()
        } else {
            self.verbs.join("/")
        };
        let resource = match (self.resource, self.api_group) {
            (Some(resource), Some((group, _))) => format!("{resource}.{group}"),
            (Some(resource), None) => resource.to_string(),
            (None, _) => "any request".to_string(),
        };
        let requests = match self.sub {
            Sub::None => format!("`{verbs}` `{resource}`"),
            Sub::Any => format!("`{verbs}` `{resource}` (any subresource)"),
            Sub::Is(sub) => format!("`{verbs}` `{resource}/{sub}`"),
        };
        let json_patches = match self.json_patch_needs {
            Some(level) if level != self.needs => format!(" (a JSON patch at `{level}`)"),
            _ => String::new(),
        };
        match self.needs {
            Level::None | Level::Metadata => requests,
            level => format!("{requests}, logged at `{level}`{json_patches}"),
        }
    }

    /// Whether the event's verb and subresource are the trigger's (the resource was matched
    /// by the index).
    pub fn matches(&self, event: &Event) -> bool {
        (self.verbs.is_empty() || self.verbs.contains(&event.verb()))
            && self
                .api_group
                .is_none_or(|(group, _)| event.api_group() == group)
            && match self.sub {
                Sub::Any => true,
                Sub::None => event.subresource().is_empty(),
                Sub::Is(sub) => event.subresource() == sub,
            }
    }
}

/// What a detection found in one event.
#[derive(Debug, Clone, PartialEq)]
pub struct Hit {
    pub message: String,
    /// The severity, when it is not the rule's default.
    pub severity: Option<Severity>,
    /// Facts an analyst reads (`container`, `host_path`, `role`), never a secret value.
    pub evidence: Vec<(&'static str, String)>,
    /// Keeps apart alerts of one rule on one event (two new behaviours of one request).
    pub discriminator: Option<String>,
    /// The threat-intelligence indicator the request matched (AUD050, AUD051).
    pub indicator: Option<Box<crate::indicator::IndicatorMatch>>,
    /// How sure the detection is, 0 to 1, when it can say (first-seen behaviour: how much
    /// of the identity was learned).
    pub confidence: Option<f64>,
}

impl Hit {
    pub fn new(message: impl Into<String>) -> Hit {
        Hit {
            message: message.into(),
            severity: None,
            evidence: Vec::new(),
            discriminator: None,
            indicator: None,
            confidence: None,
        }
    }

    pub fn with(mut self, key: &'static str, value: impl Into<String>) -> Hit {
        self.evidence.push((key, value.into()));
        self
    }

    /// [`Hit::with`] when there is a value.
    pub fn with_some(self, key: &'static str, value: Option<impl Into<String>>) -> Hit {
        match value {
            Some(value) => self.with(key, value),
            None => self,
        }
    }

    pub fn severity(mut self, severity: Severity) -> Hit {
        self.severity = Some(severity);
        self
    }

    /// How sure the detection is (0 to 1), also given as evidence.
    pub fn confidence(mut self, confidence: f64) -> Hit {
        self.confidence = Some(confidence);
        self.with("confidence", format!("{confidence:.2}"))
    }
}

/// What a check sees: the event, the settings, the request object parsed at most once, and
/// the state shared across events (windows, baselines).
pub struct Cx<'e, 'a> {
    pub event: &'e Event<'a>,
    pub settings: &'e Settings,
    request: OnceCell<Option<Body<'a>>>,
    response: OnceCell<Option<Body<'a>>>,
    name: OnceCell<String>,
    facts: OnceCell<std::sync::Arc<crate::alert::RequestFacts>>,
    reads: Level,
    /// The running detections, and the indexes among them of those the request was logged
    /// below (with what they read).
    running: &'e [&'static Detection],
    short: &'e [(usize, Level)],
}

impl<'e, 'a> Cx<'e, 'a> {
    pub fn new(event: &'e Event<'a>, settings: &'e Settings) -> Self {
        Cx {
            event,
            settings,
            request: OnceCell::new(),
            response: OnceCell::new(),
            name: OnceCell::new(),
            facts: OnceCell::new(),
            reads: Level::Metadata,
            running: &[],
            short: &[],
        }
    }

    /// The same, told what the running detections read of this request: the highest level
    /// any of them needs (`reads`), and those it was logged below (`short`: indexes into
    /// `running`, with what each reads).
    pub fn reading(
        self,
        reads: Level,
        running: &'e [&'static Detection],
        short: &'e [(usize, Level)],
    ) -> Self {
        Cx {
            reads,
            running,
            short,
            ..self
        }
    }

    /// The highest audit level a running detection reads this request at (`Metadata` when
    /// none reads its objects).
    pub fn reads(&self) -> Level {
        self.reads
    }

    /// The running detections that cannot judge this request, each with the level it reads
    /// the request at: it was logged below that.
    pub fn short(&self) -> impl Iterator<Item = (&'static RuleMeta, Level)> + '_ {
        self.short.iter().filter_map(|(index, needs)| {
            let detection = self.running.get(*index)?;
            Some((detection.meta(), *needs))
        })
    }

    /// The request object (the object sent with a create, update or patch).
    pub fn request(&self) -> Option<&Body<'a>> {
        self.request
            .get_or_init(|| self.event.request_object())
            .as_ref()
    }

    /// The response object.
    pub fn response(&self) -> Option<&Body<'a>> {
        self.response
            .get_or_init(|| self.event.response_object())
            .as_ref()
    }

    /// The request's facts for alerts, made once per event.
    pub fn facts(&self) -> std::sync::Arc<crate::alert::RequestFacts> {
        self.facts
            .get_or_init(|| std::sync::Arc::new(crate::alert::RequestFacts::of(self)))
            .clone()
    }

    /// The object's name: `objectRef.name`, else the name in the request, else the one the
    /// API server gave it (the response), else the request's `generateName` with `*`, else
    /// `-`. Only the metadata is read from the bodies when no detection parsed them.
    pub fn object_name(&self) -> String {
        self.name.get_or_init(|| self.find_name()).clone()
    }

    fn find_name(&self) -> String {
        if let Some(name) = self.event.name() {
            return name.to_string();
        }
        // The request's name, else the response's (the server names an object created with
        // `generateName`), else the request's `generateName`. A body a detection parsed
        // already is not read again, and the response is read only when the request has no
        // name.
        let request = Self::metadata(&self.request, self.event.request_object);
        if let Some(name) = request.name {
            return name;
        }
        if let Some(name) = Self::metadata(&self.response, self.event.response_object).name {
            return name;
        }
        request
            .generate_name
            .map(|g| format!("{g}*"))
            .unwrap_or_else(|| "-".to_string())
    }

    /// The name and `generateName` of a body: from its parsed tree when a detection parsed
    /// it, else read from its text.
    fn metadata(parsed: &OnceCell<Option<Body>>, raw: Option<&RawValue>) -> Metadata {
        match parsed.get() {
            Some(body) => {
                let field = |name: &str| {
                    body.as_ref()
                        .and_then(|b| b.get("metadata"))
                        .and_then(|m| m.get(name))
                        .and_then(Tree::as_str)
                        .map(str::to_string)
                };
                Metadata {
                    name: field("name"),
                    generate_name: field("generateName"),
                }
            }
            None => raw.map(|r| metadata_of(r.get())).unwrap_or_default(),
        }
    }

    pub fn target(&self) -> String {
        match self.event.namespace() {
            Some(ns) => format!("{ns}/{}", self.object_name()),
            None => self.object_name(),
        }
    }

    /// The kind of the requested resource for messages (`RoleBinding` for `rolebindings`),
    /// or the resource itself when Kubernetes does not define it.
    pub fn kind(&self) -> &str {
        let resource = self.event.resource();
        palisade_k8s::builtin_kind(self.event.api_group(), resource).unwrap_or(resource)
    }

    /// What was asked for: `pods app/web`, or the path of a non-resource request.
    pub fn what(&self) -> String {
        if self.event.resource().is_empty() {
            self.event.path().to_string()
        } else {
            format!("{} {}", self.event.resource(), self.target())
        }
    }

    /// Every value of a query parameter of the request URI, percent-decoded.
    pub fn query_values(&self, key: &str) -> Vec<String> {
        self.event
            .query()
            .split('&')
            .filter_map(|pair| pair.split_once('='))
            .filter(|(k, _)| *k == key)
            .map(|(_, v)| crate::redact::percent_decode(v))
            .collect()
    }

    /// Whether the request was a dry run (`?dryRun=All`): the API server judged it, admission
    /// webhooks included, and stored nothing.
    pub fn dry_run(&self) -> bool {
        self.query_values("dryRun").iter().any(|v| v == "All")
    }

    /// The user, with the identity they impersonate when they do.
    pub fn actor(&self) -> String {
        let user = self.event.user();
        match self.event.impersonated_user.as_ref().map(|u| u.name()) {
            Some(as_user) if !as_user.is_empty() => format!("{user} (as {as_user})"),
            _ if user.is_empty() => "an unknown user".to_string(),
            _ => user.to_string(),
        }
    }
}

/// The names in an object's metadata.
#[derive(Debug, Default, serde::Deserialize)]
struct Metadata {
    #[serde(default)]
    name: Option<String>,
    #[serde(default, rename = "generateName")]
    generate_name: Option<String>,
}

/// An object's metadata, reading nothing else (the rest is skipped, not built).
fn metadata_of(text: &str) -> Metadata {
    #[derive(serde::Deserialize)]
    struct Object {
        #[serde(default)]
        metadata: Option<Metadata>,
    }
    serde_json::from_str::<Object>(text)
        .ok()
        .and_then(|o| o.metadata)
        .unwrap_or_default()
}

/// A check: the event's hits (usually none or one).
#[derive(Clone, Copy)]
pub enum Check {
    /// Reads the request alone: checks of different requests run in any order, on any
    /// thread.
    Request(fn(&Cx) -> Vec<Hit>),
    /// Reads and updates what earlier requests showed (bursts, baselines, stored objects,
    /// alerts given once): runs on the requests in the order the log holds them.
    Stream(fn(&Cx, &mut State) -> Vec<Hit>),
}

/// A detection rule.
pub struct Detection {
    pub meta: fn() -> &'static RuleMeta,
    pub triggers: &'static [Trigger],
    pub check: Check,
    /// Reads the behavioural baseline: runs only when one is given.
    pub needs_baseline: bool,
    /// Whether the settings give it something to look for (an allow-list, the activity
    /// switch); a detection with nothing to look for does not run, and so is never counted
    /// as not assessed.
    pub active: fn(&Settings) -> bool,
}

/// A detection's [`Detection::active`] when no setting turns it on or off.
pub fn always(_: &Settings) -> bool {
    true
}

impl Detection {
    pub fn meta(&self) -> &'static RuleMeta {
        (self.meta)()
    }
}

/// Declares a detection: the doc comment is its documentation, `mitre` its ATT&CK
/// techniques, `triggers` the requests it is shown, `check` what it looks for.
#[macro_export]
macro_rules! detection {
    (
        $(#[doc = $doc:expr])*
        pub static $name:ident {
            id: $id:literal,
            slug: $slug:literal,
            title: $title:literal,
            severity: $severity:ident,
            mitre: [$($technique:literal),* $(,)?],
            remediation: $remediation:literal,
            triggers: [$($trigger:expr),* $(,)?],
            check: $check:expr $(, baseline: $baseline:literal)? $(, active: $active:path)? $(,)?
        }
    ) => {
        $(#[doc = $doc])*
        pub static $name: $crate::detection::Detection = $crate::detection::Detection {
            meta: || {
                static META: std::sync::LazyLock<palisade_core::RuleMeta> =
                    std::sync::LazyLock::new(|| palisade_core::RuleMeta {
                        id: std::borrow::Cow::Borrowed($id),
                        slug: std::borrow::Cow::Borrowed($slug),
                        title: std::borrow::Cow::Borrowed($title),
                        severity: palisade_core::Severity::$severity,
                        controls: std::borrow::Cow::Owned(vec![
                            $(palisade_core::Control::new(palisade_core::Framework::MitreAttack, $technique)),*
                        ]),
                        remediation: std::borrow::Cow::Borrowed($remediation),
                        docs: std::borrow::Cow::Owned(palisade_core::rule::unindent_docs(concat!($($doc, "\n"),*))),
                    });
                &META
            },
            triggers: &[$($trigger),*],
            check: $check,
            needs_baseline: false $(|| $baseline)?,
            active: $crate::active_or_always!($($active)?),
        };
    };
}

/// The `active` of a detection: the one given, else [`always`].
#[macro_export]
macro_rules! active_or_always {
    () => {
        $crate::detection::always
    };
    ($active:path) => {
        $active
    };
}

/// The pod spec of a pod create (the request object's `spec`).
pub fn pod_spec<'c>(cx: &'c Cx) -> Option<&'c Body<'c>> {
    cx.request().and_then(|pod| pod.get("spec"))
}

/// Every container of a pod spec (init, regular and ephemeral), with its kind.
pub fn containers<'s, 'a>(
    spec: &'s Body<'a>,
) -> impl Iterator<Item = (&'static str, &'s Body<'a>)> {
    [
        ("initContainers", "init container"),
        ("containers", "container"),
        ("ephemeralContainers", "ephemeral container"),
    ]
    .into_iter()
    .flat_map(move |(field, kind)| {
        spec.get(field)
            .and_then(Tree::items)
            .into_iter()
            .flatten()
            .map(move |c| (kind, c))
    })
}

/// The images of a pod spec's containers, as written.
pub fn images<'s>(spec: &'s Body) -> impl Iterator<Item = &'s str> {
    containers(spec).filter_map(|(_, c)| c.get("image").and_then(Tree::as_str))
}

/// `container "web"`.
pub fn describe_container(kind: &str, container: &Body) -> String {
    let name = container.get("name").and_then(Tree::as_str).unwrap_or("?");
    format!("{kind} \"{name}\"")
}

/// Whether the user is the control plane or a node (names starting `system:` that are not
/// service accounts, or kube-system's controllers).
pub fn is_control_plane(user: &str) -> bool {
    (user.starts_with("system:") && !user.starts_with("system:serviceaccount:"))
        || user.starts_with("system:serviceaccount:kube-system:")
}

/// `created`, `deleted`, `modified`: a verb in messages.
pub fn past(verb: &str) -> &'static str {
    match verb {
        "create" => "created",
        "delete" | "deletecollection" => "deleted",
        _ => "modified",
    }
}

/// `created`, or `tried to create (403)` for a creation the API server refused.
pub fn created_or_tried(cx: &Cx) -> String {
    match cx.event.code() {
        Some(code) if !(200..300).contains(&code) => format!("tried to create ({code})"),
        _ => "created".to_string(),
    }
}

/// Falco's `non_system_user`: a name not starting with `system:`.
pub fn is_person_or_external(user: &str) -> bool {
    !user.starts_with("system:")
}
