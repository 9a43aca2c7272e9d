//! Verdicts: the object of a request judged by the prepared cluster model (the evaluation
//! `palisade scan` runs), each finding given its mode by the settings, and the response the
//! API server reads (denial message, warnings, audit annotations, patch).

use std::collections::{BTreeMap, HashMap, HashSet, VecDeque};
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, Instant};

use kube_core::DynamicObject;
use kube_core::admission::{AdmissionResponse, AdmissionReview};
use kube_core::{Status, TypeMeta};
use palisade_core::tree::Tree as _;
use palisade_core::{Finding, Fingerprint, StatusReason, SuppressionSource};
use palisade_scan::ClusterModel;
use serde::Serialize;
use serde_json::Value;

use crate::review::Review;
use crate::settings::{AdmissionSettings, Mode, OnTimeout};

/// Findings named in a denial message; the rest are counted.
const MESSAGE_FINDINGS: usize = 10;
/// Warnings returned; the rest are counted in a last one.
const MAX_WARNINGS: usize = 20;
/// The API server truncates warnings over 256 characters.
const WARNING_CHARS: usize = 240;

/// What happened to a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    /// Judged and allowed (possibly with warnings or audited findings, or a patch).
    Allowed,
    /// Judged and denied.
    Denied,
    /// Not judged: an exempt namespace, user or group, or a namespace whose mode is off.
    Exempt,
    /// Not judged: nothing to judge (a deletion, a connection, a status update, an object
    /// being deleted).
    Skipped,
    /// The deadline passed; `on_timeout` decided.
    Timeout,
}

impl Outcome {
    pub fn name(self) -> &'static str {
        match self {
            Outcome::Allowed => "allowed",
            Outcome::Denied => "denied",
            Outcome::Exempt => "exempt",
            Outcome::Skipped => "skipped",
            Outcome::Timeout => "timeout",
        }
    }
}

/// One line of the decision log (JSON): who asked for what, and what each rule did. It
/// names rules and objects, never a field's value.
#[derive(Debug, Clone, Serialize)]
pub struct DecisionLog {
    pub uid: String,
    pub operation: &'static str,
    pub kind: String,
    pub namespace: String,
    pub name: String,
    pub user: String,
    pub dry_run: bool,
    pub outcome: Outcome,
    pub allowed: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub denied: Vec<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub warned: Vec<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub audited: Vec<String>,
    /// Findings the stored object already had (an update): at most warnings.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub grandfathered: Vec<String>,
    #[serde(skip_serializing_if = "is_zero")]
    pub patch_operations: usize,
}

fn is_zero(n: &usize) -> bool {
    *n == 0
}

/// A response and its log line.
#[derive(Debug, Clone)]
pub struct Judged {
    pub review: AdmissionReview<DynamicObject>,
    pub log: DecisionLog,
}

impl Judged {
    pub fn allowed(&self) -> bool {
        self.log.allowed
    }

    /// The response body. The patch is base64, as the API's `[]byte` field is written (kube's
    /// type writes an array of numbers, which the API server also reads but other tools
    /// and people do not).
    pub fn to_json(&self) -> Value {
        let mut value = serde_json::to_value(&self.review).unwrap_or(Value::Null);
        if let Some(patch) = value.pointer_mut("/response/patch")
            && let Some(bytes) = patch.as_array().map(|a| {
                a.iter()
                    .filter_map(Value::as_u64)
                    .map(|b| b as u8)
                    .collect::<Vec<u8>>()
            })
        {
            *patch = Value::String(base64::Engine::encode(
                &base64::engine::general_purpose::STANDARD,
                bytes,
            ));
        }
        value
    }

    pub fn response(&self) -> &AdmissionResponse {
        self.review
            .response
            .as_ref()
            .expect("a judged review always holds a response")
    }
}

/// Looks up a Namespace by name in the cluster: `None` when it does not exist.
pub type NamespaceLookup = Arc<dyn Fn(&str) -> Result<Option<Value>, String> + Send + Sync>;

/// How long a Namespace the look-up did not find is not looked up again.
const NOT_FOUND_FOR: Duration = Duration::from_secs(10);

/// The webhook's judge: a prepared cluster and the `[admission]` settings.
pub struct Admission {
    /// Replaced whole when the cluster is read again; a request keeps the model it started
    /// with.
    model: RwLock<Arc<ClusterModel>>,
    settings: AdmissionSettings,
    /// The objects created and let in, with when, newest last (at most [`MOST_KEPT`]; a
    /// Secret without its values): those let in while the cluster was being read again may
    /// be missing from that read, and are offered to the model that replaces the current
    /// one.
    kept: Mutex<VecDeque<(Instant, Value)>>,
    /// When the first object let in since the model was read changed what its cluster-wide
    /// models read (a Service, a policy, a binding, a standalone Pod): the model is stale
    /// from then on, and the webhook reads the cluster again soon ([`Admission::changed_at`]).
    changed: Mutex<Option<Instant>>,
    /// Looks up Namespaces the model lacks ([`Admission::with_namespace_lookup`]).
    namespace_lookup: Option<NamespaceLookup>,
    /// Namespaces the look-up did not find, with when.
    not_found: Mutex<HashMap<String, Instant>>,
}

/// Most objects [`Admission`] lists as let in.
const MOST_KEPT: usize = 2 * palisade_scan::MOST_REMEMBERED;

/// How long before a read of the cluster began an object let in may still be missing from it:
/// the API server stores an object after its webhooks let it in.
const STORE_MARGIN: Duration = Duration::from_secs(30);

impl Admission {
    /// `own_namespace` (where the webhook runs) is always exempt, so the webhook can always
    /// be repaired.
    pub fn new(
        model: ClusterModel,
        mut settings: AdmissionSettings,
        own_namespace: Option<&str>,
    ) -> Admission {
        if let Some(own) = own_namespace.filter(|ns| !ns.is_empty())
            && !settings.exempt_namespaces.iter().any(|n| n == own)
        {
            settings.exempt_namespaces.push(own.to_string());
        }
        Admission {
            model: RwLock::new(Arc::new(model)),
            settings,
            kept: Mutex::new(VecDeque::new()),
            changed: Mutex::new(None),
            namespace_lookup: None,
            not_found: Mutex::new(HashMap::new()),
        }
    }

    /// Looks up with `lookup` the Namespaces of requests that the cluster read does not hold
    /// (created since, through another replica of the webhook or while it was down), as
    /// Gatekeeper reads a namespace it has not cached: a policy's namespace selector then
    /// judges them. Without it, such a policy cannot judge the object, and `on_error` decides.
    pub fn with_namespace_lookup(mut self, lookup: NamespaceLookup) -> Admission {
        self.namespace_lookup = Some(lookup);
        self
    }

    /// Keeps the request's Namespace in the model when the model lacks it and the look-up
    /// finds it (a failed or empty look-up is not repeated for [`NOT_FOUND_FOR`]).
    fn learn_namespace(&self, review: &Review) {
        let (namespace, kind) = (review.namespace(), &review.request.kind);
        let Some(lookup) = &self.namespace_lookup else {
            return;
        };
        if namespace.is_empty() || (kind.group.is_empty() && kind.kind == "Namespace") {
            return;
        }
        let model = self.model();
        if model.namespace_labels(namespace).is_some() {
            return;
        }
        if lock(&self.not_found)
            .get(namespace)
            .is_some_and(|at| at.elapsed() < NOT_FOUND_FOR)
        {
            return;
        }
        match lookup(namespace) {
            Ok(Some(found)) => {
                model.remember(found);
                model.refresh_in_background();
            }
            Ok(None) | Err(_) => {
                let mut not_found = lock(&self.not_found);
                if not_found.len() >= MOST_KEPT {
                    not_found.clear();
                }
                not_found.insert(namespace.to_string(), Instant::now());
            }
        }
    }

    /// When an object let in first changed what the model's cluster-wide models read, since
    /// the model was read; `None` while the model is the cluster's as far as the webhook
    /// knows. A webhook that reads the cluster reads it again soon after.
    pub fn changed_at(&self) -> Option<Instant> {
        *lock(&self.changed)
    }

    /// Judges from now on against `model`, a read of the cluster that began at `read_began`.
    /// The objects created and let in since shortly before then ([`STORE_MARGIN`]) may be
    /// missing from the read: they are offered to the new model, which keeps those it does
    /// not hold ([`ClusterModel::remember`]), so that a rollout under way while the cluster
    /// is read keeps its Pods judged through their Deployment.
    pub fn replace_model(&self, model: ClusterModel, read_began: Instant) {
        let model = Arc::new(model);
        let mut kept = lock(&self.kept);
        let since = read_began.checked_sub(STORE_MARGIN).unwrap_or(read_began);
        while kept.front().is_some_and(|(at, _)| *at < since) {
            kept.pop_front();
        }
        for (_, object) in kept.iter() {
            model.remember(object.clone());
        }
        model.refresh_in_background();
        // A change let in after the read began may be missing from it.
        let mut changed = lock(&self.changed);
        if changed.is_some_and(|at| at < read_began) {
            *changed = None;
        }
        match self.model.write() {
            Ok(mut current) => *current = model,
            Err(poisoned) => *poisoned.into_inner() = model,
        }
    }

    /// How many objects the webhook let in and keeps in the cluster model since it was
    /// read ([`Admission::validate`]).
    pub fn remembered(&self) -> usize {
        self.model().remembered()
    }

    /// Whether the cluster model's models are being prepared again for objects let in since
    /// the cluster was read ([`palisade_scan::ClusterModel::refresh_in_background`]).
    pub fn models_refreshing(&self) -> bool {
        self.model().refreshing()
    }

    fn model(&self) -> Arc<ClusterModel> {
        match self.model.read() {
            Ok(model) => model.clone(),
            Err(poisoned) => poisoned.into_inner().clone(),
        }
    }

    pub fn settings(&self) -> &AdmissionSettings {
        &self.settings
    }

    /// The creations and updates (and deletions and connections, when the settings judge
    /// them) the run's rules judge that no webhook of the ValidatingWebhookConfigurations
    /// named `configurations` (in the cluster read) sends, and, with mutation enabled, those
    /// the hardening patch and the policies' mutators change that no
    /// MutatingWebhookConfiguration of those names sends, with the rules or mutators of each
    /// ([`crate::sent`]). An error says why nothing could be checked: the configurations
    /// were not read.
    pub fn unsent(&self, configurations: &[String]) -> Result<crate::sent::NotSent, String> {
        use crate::sent::{Needs, configured, namespaces_not_sent, object_selectors};
        const VALIDATING: &str = "ValidatingWebhookConfiguration";
        const MUTATING: &str = "MutatingWebhookConfiguration";
        let model = self.model();
        let unlisted = &model.options().unlisted;
        // Not the rules the settings switch off ([`prepare_model`] leaves them out).
        let rules = model.active_rules();
        model.with_inventory(|inventory| {
            let catalogue = inventory.api_catalogue();
            // Deletions and connections when the settings judge them.
            let mut operations = crate::sent::WRITES.to_vec();
            if self.settings.judge_deletions {
                operations.push("DELETE");
            }
            if self.settings.judge_connect {
                operations.push("CONNECT");
            }
            let sent = configured(inventory, unlisted, VALIDATING, configurations)?;
            let needs = Needs::of_operations(&rules, &catalogue, &operations);
            let exempt = &self.settings.exempt_namespaces;
            let mut not_sent = crate::sent::NotSent {
                requests: needs.unsent_by(VALIDATING, &sent),
                namespaces: namespaces_not_sent(&sent, inventory, exempt),
                object_selectors: object_selectors(&sent),
            };
            if self.settings.mutate.enabled {
                let sent = configured(inventory, unlisted, MUTATING, configurations)?;
                let mutators = model.mutators().map(|m| m.as_ref());
                let needs = Needs::of_mutation(mutators, &catalogue);
                not_sent.requests.extend(needs.unsent_by(MUTATING, &sent));
            }
            Ok(not_sent)
        })
    }

    /// `POST /validate`: the verdict. What it lets in is kept in the cluster model until the
    /// cluster is read again ([`Admission::remember`]), so that the objects after it are
    /// judged with it.
    pub fn validate(&self, review: &Review) -> Judged {
        let (judged, changes_models) = self.judge_review(review);
        if let Some(deleted) = deleted(review) {
            if judged.allowed() {
                self.forget(&as_stored(Some(deleted), review));
            }
            // An object the models read makes them stale once it is gone.
            if judged.allowed()
                && self
                    .model()
                    .removal_changes_models(as_stored(Some(deleted), review))
            {
                lock(&self.changed).get_or_insert_with(Instant::now);
            }
            return judged;
        }
        let stored = !review.request.dry_run
            && matches!(review.operation(), "CREATE" | "UPDATE")
            && review.subresource().is_empty()
            && review.object.is_some();
        if judged.allowed() && stored {
            self.remember(review);
            let changes = changes_models.unwrap_or_else(|| {
                self.model()
                    .changes_models(as_stored(review.object.as_ref(), review))
            });
            if changes {
                lock(&self.changed).get_or_insert_with(Instant::now);
            }
        }
        judged
    }

    /// Keeps the object of an allowed request that the cluster stores (not a dry run), so
    /// that the objects judged after it are judged with it (a chart's binding before its
    /// Deployment, `helm upgrade`'s changed binding before its Deployment): any object the
    /// model may keep ([`palisade_scan::ClusterModel::remember`]; not a Pod; an update when
    /// it changes what the models read). The models it changes are prepared again on a thread
    /// of their own. Creations are listed for the model that replaces this one; an update
    /// let in while the cluster is read again is followed by another read
    /// ([`Admission::changed_at`]).
    fn remember(&self, review: &Review) {
        let kind = &review.request.kind;
        if !palisade_rules::unseen::kind_may_be_kept(&kind.group, &kind.kind) {
            return;
        }
        let object = as_stored(review.object.as_ref(), review);
        let model = if review.operation() == "CREATE" {
            // Listed and kept under one lock (the model taken under it too), so that a model
            // replacing this one meanwhile is offered it ([`Admission::replace_model`]).
            let mut kept = lock(&self.kept);
            if kept.len() == MOST_KEPT {
                kept.pop_front();
            }
            // Without a Secret's values: they would stay until the next read.
            kept.push_back((
                Instant::now(),
                palisade_scan::model::without_values(&object),
            ));
            let model = self.model();
            model.remember(object);
            model
        } else {
            let model = self.model();
            model.remember_update(object);
            model
        };
        model.refresh_in_background();
    }

    /// Forgets the object a deletion let in removes, so that a model that replaces this one
    /// is not offered it ([`Admission::replace_model`]).
    fn forget(&self, deleted: &Value) {
        use palisade_inventory::object::object_ref;
        let Some(gone) = object_ref(deleted) else {
            return;
        };
        lock(&self.kept)
            .retain(|(_, object)| !object_ref(object).is_some_and(|o| o.same_identity(&gone)));
    }

    /// The verdict, and whether the object changes what the cluster-wide models read (`None`
    /// when it was not judged).
    fn judge_review(&self, review: &Review) -> (Judged, Option<bool>) {
        if let Some((outcome, reason)) = self.not_judged(review) {
            let judged = respond(review, base_log(review, outcome, Some(reason)), |r| r);
            return (judged, None);
        }
        self.learn_namespace(review);
        // A deletion is judged on the object it removes (only by the policies).
        let object = match review.operation() {
            "DELETE" => as_stored(review.old_object(), review),
            _ => as_stored(review.object.as_ref(), review),
        };
        let judgement = match self.judge(object, Some(review.request_json.clone())) {
            Ok(judgement) => judgement,
            Err(message) => {
                let log = DecisionLog {
                    allowed: false,
                    ..base_log(review, Outcome::Denied, Some(message.clone()))
                };
                return (respond(review, log, |r| r.deny(message)), None);
            }
        };
        let existing: HashSet<Fingerprint> =
            match (review.old_object(), self.settings.grandfather_existing) {
                (Some(old), true) if review.operation() == "UPDATE" => self
                    .judge(as_stored(Some(old), review), None)
                    .map(|old| [old.findings, old.unjudged].concat())
                    .unwrap_or_default()
                    .iter()
                    .map(palisade_core::Finding::fingerprint)
                    .collect(),
                _ => HashSet::new(),
            };
        let changes_models = judgement.changes_models;
        let verdict = self.verdict(review, judgement, &existing);
        (verdict, Some(changes_models))
    }

    /// `POST /mutate`: the policies' Gatekeeper mutators, then the hardening patch, as one
    /// JSONPatch (allowed; the validating pass judges the result).
    pub fn mutate(&self, review: &Review) -> Judged {
        if let Some((outcome, reason)) = self.not_judged(review) {
            return respond(review, base_log(review, outcome, Some(reason)), |r| r);
        }
        let skip = |reason: &str| {
            respond(
                review,
                base_log(review, Outcome::Skipped, Some(reason.into())),
                |r| r,
            )
        };
        if !self.settings.mutate.enabled {
            return skip("mutation is not enabled ([admission.mutate] enabled = false)");
        }
        let Some(object) = &review.object else {
            return skip("no object");
        };
        let model = self.model();
        let mut mutated = object.clone();
        let mut changed = false;
        if let Some(mutators) = model.mutators() {
            let namespace = review.namespace();
            let kind = &review.request.kind;
            // The request names a namespace for namespaced kinds, and for a Namespace its own.
            let is_namespace = kind.group.is_empty() && kind.kind == "Namespace";
            let namespaced = !namespace.is_empty() && !is_namespace;
            self.learn_namespace(review);
            let labels = model.namespace_labels(namespace);
            let labels = labels.as_deref();
            match mutators.mutate(&mut mutated, namespaced, labels, review.operation()) {
                Ok(c) => changed = c,
                Err(why) => return self.mutation_failed(review, &why),
            }
        }
        let hardening = self.hardening(review, &mutated);
        let ops = match (changed, hardening) {
            (false, Err(reason)) => return skip(reason),
            (false, Ok(ops)) => ops,
            (true, hardening) => {
                if let Ok(ops) = hardening
                    && json_patch::patch(&mut mutated, &ops).is_err()
                {
                    return self.mutation_failed(review, "the hardening patch did not apply");
                }
                json_patch::diff(object, &mutated).0
            }
        };
        let log = DecisionLog {
            patch_operations: ops.len(),
            ..base_log(review, Outcome::Allowed, None)
        };
        if ops.is_empty() {
            return respond(review, log, |r| r);
        }
        respond(review, log, |r| {
            let unpatched = r.clone();
            r.with_patch(json_patch::Patch(ops)).unwrap_or(unpatched)
        })
    }

    /// The hardening additions for `object`, or why it gets none.
    fn hardening(
        &self,
        review: &Review,
        object: &Value,
    ) -> Result<Vec<json_patch::PatchOperation>, &'static str> {
        let kind = &review.request.kind;
        let has_pod_spec = palisade_inventory::podspec::pod_spec_pointer(&kind.group, &kind.kind)
            .is_some()
            || palisade_core::pod_template::grouped_site(&kind.group, &kind.kind).is_some();
        if !has_pod_spec {
            return Err("the kind has no pod spec");
        }
        // A pod's spec is immutable once created; its controller's template is not.
        if kind.kind == "Pod"
            && (review.operation() != "CREATE" || !review.subresource().is_empty())
        {
            return Err("a pod is patched only when created");
        }
        // Each pod template of a kind with several (a RayCluster's head and worker groups).
        Ok(crate::mutate::hardening(
            &kind.group,
            &kind.kind,
            object,
            &self.settings.mutate,
        ))
    }

    /// The answer when the policies' mutators failed on the request (a namespace selector
    /// the model cannot decide, mutators that oscillate): denied under `on_error = "deny"`
    /// (Gatekeeper's mutation webhook denies), else allowed unmutated with a warning.
    fn mutation_failed(&self, review: &Review, why: &str) -> Judged {
        let reason = format!("palisade could not mutate the request: {why}");
        match self.settings.on_error {
            OnTimeout::Deny => {
                let log = DecisionLog {
                    allowed: false,
                    ..base_log(review, Outcome::Denied, Some(reason.clone()))
                };
                respond(review, log, |r| r.deny(reason))
            }
            OnTimeout::Allow => {
                let log = base_log(review, Outcome::Allowed, Some(reason.clone()));
                respond(review, log, |mut r| {
                    r.warnings = Some(vec![format!("{reason}; allowed unmutated")]);
                    r
                })
            }
        }
    }

    /// The answer when evaluation did not finish in time (or too many are waiting).
    pub fn timed_out(&self, review: &Review, why: &str) -> Judged {
        let reason = format!("palisade could not judge the request: {why}");
        let mut log = base_log(review, Outcome::Timeout, Some(reason.clone()));
        match self.settings.on_timeout {
            OnTimeout::Deny => {
                log.allowed = false;
                respond(review, log, |r| {
                    r.deny(format!(
                        "{reason}; retry the request (on_timeout = \"deny\")"
                    ))
                })
            }
            OnTimeout::Allow => respond(review, log, |mut r| {
                r.warnings = Some(vec![format!(
                    "{reason}; allowed unjudged (on_timeout = \"allow\")"
                )]);
                r.audit_annotations
                    .insert("unjudged".into(), why.to_string());
                r
            }),
        }
    }

    /// Whether some rule of the run judges requests of `operation` that do not store their
    /// object whole (policies selecting a subresource).
    fn policies_judge(&self, operation: &str) -> bool {
        let model = self.model();
        model
            .active_rules()
            .iter()
            .any(|rule| rule.judges_operation(operation))
    }

    /// Why a request is not judged, when it is not.
    fn not_judged(&self, review: &Review) -> Option<(Outcome, String)> {
        let s = &self.settings;
        let operation = review.operation();
        let sub = review.subresource();
        match operation {
            "CONNECT" if !s.judge_connect => {
                return Some((
                    Outcome::Skipped,
                    "CONNECT is not judged ([admission] judge_connect = false)".into(),
                ));
            }
            "CONNECT" if review.object.is_none() => {
                return Some((Outcome::Skipped, "a CONNECT without its options".into()));
            }
            "DELETE" if !s.judge_deletions => {
                return Some((
                    Outcome::Skipped,
                    "DELETE is not judged ([admission] judge_deletions = false)".into(),
                ));
            }
            "DELETE" if review.old_object().is_none() => {
                return Some((Outcome::Skipped, "a DELETE without its oldObject".into()));
            }
            // A connection is to a subresource (pods/exec). A write to another subresource
            // than a Pod's ephemeral containers (`scale`, `status`) is judged by the policies
            // that select it, when some policy may ([`Rule::judges_operation`]).
            "CONNECT" => {}
            _ if !sub.is_empty()
                && sub != "ephemeralcontainers"
                && !self.policies_judge(operation) =>
            {
                return Some((Outcome::Skipped, format!("subresource {sub} is not judged")));
            }
            _ => {}
        }
        let namespace = review.namespace();
        if !namespace.is_empty() && s.exempt_namespaces.iter().any(|n| n == namespace) {
            return Some((Outcome::Exempt, format!("namespace {namespace} is exempt")));
        }
        let user = &review.request.user_info;
        if let Some(name) = user
            .username
            .as_deref()
            .filter(|u| s.exempt_users.iter().any(|e| e == u))
        {
            return Some((Outcome::Exempt, format!("user {name} is exempt")));
        }
        if let Some(group) = user
            .groups
            .iter()
            .flatten()
            .find(|g| s.exempt_groups.contains(g))
        {
            return Some((Outcome::Exempt, format!("group {group} is exempt")));
        }
        if s.namespace_cap(namespace) == Mode::Off {
            return Some((Outcome::Exempt, format!("namespace {namespace}: mode off")));
        }
        let deleting = review
            .object
            .as_ref()
            .and_then(|o| o.at("/metadata/deletionTimestamp"))
            .is_some_and(|t| !t.is_null());
        if deleting {
            return Some((Outcome::Skipped, "the object is being deleted".into()));
        }
        None
    }

    /// The findings that count for `object` (unsuppressed, or suppressed only by the
    /// object's own annotation when the settings do not honour those) and the audit
    /// annotations the policies made.
    fn judge(&self, object: Value, request: Option<Arc<Value>>) -> Result<Judgement, String> {
        let evaluation = self
            .model()
            .evaluate_request(object, request)
            .map_err(|e| format!("palisade cannot judge the object: {e}"))?;
        let report = evaluation.report;
        let honor = self.settings.honor_object_suppressions;
        let unjudged = unjudged_findings(&report);
        let findings = report
            .findings
            .into_iter()
            .filter(|f| match &f.suppressed() {
                None => true,
                Some(s) => s.source == SuppressionSource::Annotation && !honor,
            })
            .collect();
        Ok(Judgement {
            findings,
            unjudged,
            annotations: report.audit_annotations,
            changes_models: evaluation.changes_models,
        })
    }

    fn verdict(
        &self,
        review: &Review,
        judgement: Judgement,
        existing: &HashSet<Fingerprint>,
    ) -> Judged {
        let namespace = review.namespace();
        let mut by_action: BTreeMap<Mode, Vec<&Finding>> = BTreeMap::new();
        let mut grandfathered = Vec::new();
        let found = judgement.findings.iter().map(|f| (f, false));
        for (finding, unjudged) in found.chain(judgement.unjudged.iter().map(|f| (f, true))) {
            let mut action = self
                .settings
                .action(finding.rule_id(), finding.severity, namespace);
            if unjudged && self.settings.on_error == OnTimeout::Allow {
                action = action.min(Mode::Warn);
            }
            if action == Mode::Enforce && existing.contains(&finding.fingerprint()) {
                action = Mode::Warn;
                grandfathered.push(finding.rule_id().to_string());
            }
            by_action.entry(action).or_default().push(finding);
        }
        let ids = |mode: Mode| -> Vec<String> {
            let mut ids: Vec<String> = by_action
                .get(&mode)
                .into_iter()
                .flatten()
                .map(|f| f.rule_id().to_string())
                .collect();
            ids.sort();
            ids.dedup();
            ids
        };
        let denied = by_action.get(&Mode::Enforce).cloned().unwrap_or_default();
        let log = DecisionLog {
            allowed: denied.is_empty(),
            denied: ids(Mode::Enforce),
            warned: ids(Mode::Warn),
            audited: ids(Mode::Audit),
            grandfathered,
            ..base_log(
                review,
                if denied.is_empty() {
                    Outcome::Allowed
                } else {
                    Outcome::Denied
                },
                None,
            )
        };
        let warned = by_action.get(&Mode::Warn).cloned().unwrap_or_default();
        let audited = log.audited.join(",");
        let (warned_ids, denied_ids) = (log.warned.join(","), log.denied.join(","));
        respond(review, log, |mut r| {
            for (key, value) in [
                ("denied", denied_ids),
                ("warned", warned_ids),
                ("audited", audited),
            ] {
                if !value.is_empty() {
                    r.audit_annotations.insert(key.into(), value);
                }
            }
            r.audit_annotations
                .extend(policy_annotations(judgement.annotations));
            if !warned.is_empty() {
                r.warnings = Some(warnings(&warned));
            }
            if denied.is_empty() {
                r
            } else {
                let (message, reason) = denial(review, &denied);
                let mut r = r.deny(message);
                r.result.code = reason.code();
                r.result.reason = reason.as_str().into();
                r
            }
        })
    }
}

/// The cluster model to judge with `settings`: `inventory` (the cluster) prepared with
/// `copies` copies, and the rules that `[admission.rules]` switches off left out of the run
/// (nobody sees their findings, so nobody should wait for them).
pub fn prepare_model(
    inventory: palisade_inventory::Inventory,
    mut options: palisade_scan::ScanOptions,
    copies: usize,
    settings: &AdmissionSettings,
) -> ClusterModel {
    options.skip_rules.extend(
        settings
            .rules
            .iter()
            .filter(|(_, mode)| **mode == Mode::Off)
            .map(|(rule, _)| rule.clone()),
    );
    ClusterModel::prepare_copies(inventory, options, copies)
}

/// ValidatingAdmissionPolicy audit annotations (`policy/key`) as a webhook returns them: the
/// API server prefixes a webhook's keys with the webhook's name and `/`, and accepts one `/`
/// only, so `policy/key` becomes `policy.key` (a qualified name's name part, at most 63
/// characters: a longer policy name is cut and given a short hash, so two stay apart). The
/// unique values of one key (from several bindings or parameters) are joined with `, `, as
/// the API server joins them.
fn policy_annotations(annotations: Vec<(String, String)>) -> BTreeMap<String, String> {
    let mut values: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for (key, value) in annotations {
        let (policy, key) = key.split_once('/').unwrap_or(("", key.as_str()));
        let list = values.entry(annotation_key(policy, key)).or_default();
        if !list.contains(&value) {
            list.push(value);
        }
    }
    values
        .into_iter()
        .map(|(key, list)| (key, list.join(", ")))
        .collect()
}

fn annotation_key(policy: &str, key: &str) -> String {
    const MAX: usize = 63;
    let whole = format!("{policy}.{key}");
    if whole.len() <= MAX {
        return whole;
    }
    let tag = palisade_core::redact::tag(policy);
    let hash = tag.trim_start_matches('#');
    // `cut-HASH.key`; the key itself is at most 63 characters.
    let room = MAX.saturating_sub(key.len() + hash.len() + 2);
    let cut = policy[..room.min(policy.len())].trim_end_matches(['-', '.']);
    let key = &key[..key.len().min(MAX - hash.len() - 1)];
    if cut.is_empty() {
        format!("{hash}.{key}")
    } else {
        format!("{cut}-{hash}.{key}")
    }
}

/// `(key, value)` audit annotations of the policies that judged an object.
type AuditAnnotations = Vec<(String, String)>;

/// What the rules made of one object: the findings that count, the findings standing for
/// policies that could not judge it ([`unjudged_findings`]), the policies' audit annotations,
/// and whether the object changes what the cluster-wide models read.
struct Judgement {
    findings: Vec<Finding>,
    unjudged: Vec<Finding>,
    annotations: AuditAnnotations,
    changes_models: bool,
}

/// The lock, also when a thread panicked holding it (the list stays valid).
fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// The object a request deletes (its `oldObject`), when the deletion is stored (not a dry run;
/// a whole object, not a subresource).
fn deleted(review: &Review) -> Option<&Value> {
    let deleting = review.operation() == "DELETE"
        && !review.request.dry_run
        && review.subresource().is_empty();
    review.old_object().filter(|_| deleting)
}

/// The object as the API server will store it: the request's namespace filled in, and a
/// name for objects whose name the server generates.
fn as_stored(object: Option<&Value>, review: &Review) -> Value {
    let mut object = object.cloned().unwrap_or(Value::Null);
    let Some(metadata) = object
        .as_object_mut()
        .map(|o| {
            o.entry("metadata")
                .or_insert_with(|| Value::Object(Default::default()))
        })
        .and_then(Value::as_object_mut)
    else {
        return object;
    };
    let namespace = review.namespace();
    if !namespace.is_empty()
        && metadata
            .get("namespace")
            .and_then(Value::as_str)
            .is_none_or(str::is_empty)
    {
        metadata.insert("namespace".into(), Value::String(namespace.to_string()));
    }
    if metadata
        .get("name")
        .and_then(Value::as_str)
        .is_none_or(str::is_empty)
    {
        let name = request_name(review);
        if !name.is_empty() {
            metadata.insert("name".into(), Value::String(name));
        }
    }
    object
}

/// The object's name as the request gives it, or its `generateName` prefix marked as
/// generated (the server names it after admission).
fn request_name(review: &Review) -> String {
    if !review.request.name.is_empty() {
        return review.request.name.clone();
    }
    review
        .object
        .as_ref()
        .and_then(|o| o.at("/metadata/generateName"))
        .and_then(Value::as_str)
        .map(|p| format!("{p}<generated>"))
        .unwrap_or_default()
}

/// How a policy that failed to judge the object says so, in the finding that stands for it.
const UNJUDGED: &str = "could not judge the object: ";

/// A finding for each policy whose evaluation of the object failed (a Rego or CEL error):
/// its mode then decides as for a violation, so an enforced policy that cannot judge denies
/// (`on_error = "deny"`, the default, as a ValidatingAdmissionPolicy with `failurePolicy:
/// Fail` does) or warns (`on_error = "allow"`).
fn unjudged_findings(report: &palisade_core::Report) -> Vec<Finding> {
    let mut out = Vec::new();
    for coverage in &report.coverage {
        let Some(rule) = report.rules.iter().find(|r| r.id == coverage.rule) else {
            continue;
        };
        for failed in coverage.not_assessed_objects.iter().filter(|n| n.failed) {
            out.push(Finding::new(
                rule.clone(),
                palisade_core::Subject::Object(Arc::new(failed.object.clone())),
                palisade_core::Location::file("admission"),
                format!("{UNJUDGED}{}", failed.reason),
            ));
        }
    }
    out
}

fn describe(review: &Review) -> String {
    let name = request_name(review);
    match review.namespace() {
        "" => format!("{} {name}", review.request.kind.kind),
        ns => format!("{} {ns}/{name}", review.request.kind.kind),
    }
}

/// The message of a denial for `denied`, and its reason: the reason of the finding the
/// message leads with when its policy gave one (a ValidatingAdmissionPolicy validation's,
/// `Invalid` when it names none, as the API server answers), `Forbidden` otherwise.
fn denial(review: &Review, denied: &[&Finding]) -> (String, StatusReason) {
    let mut sorted = denied.to_vec();
    sorted.sort_by(|a, b| {
        b.severity
            .cmp(&a.severity)
            .then_with(|| a.rule_id().cmp(b.rule_id()))
    });
    let reason = sorted
        .first()
        .and_then(|f| f.status_reason())
        .unwrap_or(StatusReason::Forbidden);
    let mut parts: Vec<String> = sorted
        .iter()
        .take(MESSAGE_FINDINGS)
        .map(|f| format!("[{} {}] {}", f.rule_id(), f.severity, f.message))
        .collect();
    if sorted.len() > MESSAGE_FINDINGS {
        parts.push(format!("and {} more", sorted.len() - MESSAGE_FINDINGS));
    }
    let message = format!(
        "palisade denied {}: {} (see `palisade rules ID` for each rule's fix)",
        describe(review),
        parts.join("; ")
    );
    (message, reason)
}

fn warnings(findings: &[&Finding]) -> Vec<String> {
    let mut out: Vec<String> = findings
        .iter()
        .take(MAX_WARNINGS)
        .map(|f| {
            let text = format!("palisade [{} {}] {}", f.rule_id(), f.severity, f.message);
            truncate(text, WARNING_CHARS)
        })
        .collect();
    if findings.len() > MAX_WARNINGS {
        out.push(format!(
            "palisade: and {} more warnings",
            findings.len() - MAX_WARNINGS
        ));
    }
    out
}

fn truncate(mut text: String, chars: usize) -> String {
    if let Some((at, _)) = text.char_indices().nth(chars) {
        text.truncate(at);
        text.push('…');
    }
    text
}

fn base_log(review: &Review, outcome: Outcome, reason: Option<String>) -> DecisionLog {
    let user = &review.request.user_info;
    DecisionLog {
        uid: review.request.uid.clone(),
        operation: review.operation(),
        kind: review.request.kind.kind.clone(),
        namespace: review.namespace().to_string(),
        name: review.request.name.clone(),
        user: user.username.clone().unwrap_or_default(),
        dry_run: review.request.dry_run,
        outcome,
        allowed: !matches!(outcome, Outcome::Denied),
        reason,
        denied: Vec::new(),
        warned: Vec::new(),
        audited: Vec::new(),
        grandfathered: Vec::new(),
        patch_operations: 0,
    }
}

/// The response review: the request's uid and version, `allowed`, and what `shape` adds.
fn respond(
    review: &Review,
    log: DecisionLog,
    shape: impl FnOnce(AdmissionResponse) -> AdmissionResponse,
) -> Judged {
    let mut response = AdmissionResponse::from(&review.request);
    response.types = TypeMeta {
        api_version: review.api_version.clone(),
        kind: "AdmissionReview".into(),
    };
    response.result = Status::default();
    let response = shape(response);
    Judged {
        log: DecisionLog {
            allowed: response.allowed,
            ..log
        },
        review: response.into_review(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A Secret let in is listed for the next read without its values (a Helm release's is
    /// up to a megabyte, and the list lives until that read), and kept in the model so.
    #[test]
    fn a_secret_let_in_is_listed_and_kept_without_its_values() {
        let model = ClusterModel::prepare(
            palisade_inventory::Inventory::default(),
            palisade_scan::ScanOptions::default(),
        );
        let settings = AdmissionSettings {
            mode: crate::Mode::Audit,
            ..AdmissionSettings::default()
        };
        let admission = Admission::new(model, settings, None);
        let canary = "c2VjcmV0LWNhbmFyeS03Nzk=";
        let review = serde_json::json!({"apiVersion": "admission.k8s.io/v1", "kind": "AdmissionReview",
            "request": {"uid": "u", "operation": "CREATE", "namespace": "shop", "name": "db",
                "kind": {"group": "", "version": "v1", "kind": "Secret"},
                "resource": {"group": "", "version": "v1", "resource": "secrets"},
                "userInfo": {"username": "alice"},
                "object": {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "db", "namespace": "shop"},
                    "data": {"password": canary}}}});
        let review = crate::decode(&serde_json::to_vec(&review).unwrap()).unwrap();
        assert!(admission.validate(&review).allowed());
        assert_eq!(admission.remembered(), 1);
        let listed = format!("{:?}", lock(&admission.kept));
        assert!(
            listed.contains("\"db\"") && !listed.contains(canary),
            "{listed}"
        );
        let held = admission.model().with_inventory(|inventory| {
            serde_json::to_string(&inventory.objects[0].value).unwrap()
        });
        assert!(
            held.contains("password") && !held.contains(canary),
            "{held}"
        );
    }

    #[test]
    fn policy_annotation_keys_are_names_the_api_server_accepts() {
        assert_eq!(annotation_key("replicas", "count"), "replicas.count");
        let long = "a-very-long-policy-name.that-goes-on.and-on.example.com";
        let key = "high-replica-count";
        let made = annotation_key(long, key);
        assert!(palisade_k8s::names::is_qualified_name_part(&made), "{made}");
        assert!(made.ends_with(".high-replica-count"), "{made}");
        // Two long names that share their start stay apart.
        assert_ne!(made, annotation_key(&format!("{long}x"), key));
        let longest_key = "k".repeat(63);
        let made = annotation_key(long, &longest_key);
        assert!(palisade_k8s::names::is_qualified_name_part(&made), "{made}");
    }

    #[test]
    fn one_key_gets_the_unique_values_of_every_binding() {
        let merged = policy_annotations(vec![
            ("p/k".into(), "one".into()),
            ("p/k".into(), "two".into()),
            ("p/k".into(), "one".into()),
            ("q/k".into(), "three".into()),
        ]);
        assert_eq!(merged.get("p.k").map(String::as_str), Some("one, two"));
        assert_eq!(merged.get("q.k").map(String::as_str), Some("three"));
    }
}
