//! Findings: what a rule found wrong, on which subject, where, and whether someone accepted it.
//!
//! A finding is general: its subject may be a Kubernetes object, a file, an image, a node, an
//! audit event or an identity; its severity is its own (a rule declares the default); a
//! discriminator keeps apart findings of one rule at one place (two CVEs of one image); typed
//! evidence says why without copying a secret value; an optional fix lists edits at byte ranges.
//!
//! The type is kept small because a large scan holds millions of findings: the rule's metadata
//! is shared, not copied; the subject and the file are shared by every finding on them; the
//! rare parts (evidence, fix, suppression) are boxed.

use std::borrow::Cow;
use std::fmt;
use std::ops::Deref;
use std::sync::Arc;

use serde::ser::{SerializeMap, SerializeStruct};
use serde::{Serialize, Serializer};

use crate::fingerprint::Fingerprint;
use crate::{Control, JsonPointer, ObjectRef, RuleMeta, Severity};

/// Where a finding points: the file and position of the offending field (or of the nearest
/// enclosing field that exists, when the problem is a missing field), and its JSON pointer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Location {
    /// The file as given on the command line; for rendered sources, the Kustomization or
    /// chart directory; `-` for standard input. Shared by every finding in the file.
    pub file: Arc<str>,
    /// 1-based line, when the source has lines.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub line: Option<u32>,
    /// 1-based column.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub column: Option<u32>,
    /// JSON pointer of the offending field inside the object (the root for subjects that
    /// are not documents).
    pub path: JsonPointer,
    /// How the source was produced when it is not the file itself (`kustomize`, `helm`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rendered_by: Option<Renderer>,
}

/// What rendered a source that is not a file as written: its lines are the rendered stream's.
/// One byte rather than a name's sixteen, in every finding's location.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Renderer {
    Kustomize,
    Helm,
}

impl Renderer {
    /// The program's name, as reports print it.
    pub fn as_str(self) -> &'static str {
        match self {
            Renderer::Kustomize => "kustomize",
            Renderer::Helm => "helm",
        }
    }
}

impl std::fmt::Display for Renderer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Location {
    /// A location in `file` without a position (a file as a whole, an image, an event).
    pub fn file(file: impl Into<Arc<str>>) -> Self {
        Location {
            file: file.into(),
            line: None,
            column: None,
            path: JsonPointer::root(),
            rendered_by: None,
        }
    }
}

/// Where an accepted-risk decision came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum SuppressionSource {
    /// An entry of `palisade.toml`.
    Config,
    /// A `palisade.dev/ignore` annotation on the object.
    Annotation,
    /// The finding was already in the baseline report (`--baseline`): it is not new.
    Baseline,
}

/// Why a finding is suppressed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Suppression {
    pub source: SuppressionSource,
    pub reason: String,
    /// `YYYY-MM-DD`, when the suppression expires.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub expires: Option<String>,
    /// Where the suppression is written (`palisade.toml:12`, or the annotation's location).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub origin: Option<String>,
}

/// The rule a finding belongs to: built-in rules have static metadata, rules loaded at run
/// time (policies, detections) share theirs. Either way no finding copies it.
#[derive(Debug, Clone)]
pub enum RuleRef {
    Static(&'static RuleMeta),
    Shared(Arc<RuleMeta>),
}

impl Deref for RuleRef {
    type Target = RuleMeta;
    fn deref(&self) -> &RuleMeta {
        match self {
            RuleRef::Static(meta) => meta,
            RuleRef::Shared(meta) => meta,
        }
    }
}

impl From<&'static RuleMeta> for RuleRef {
    fn from(meta: &'static RuleMeta) -> Self {
        RuleRef::Static(meta)
    }
}

impl From<Arc<RuleMeta>> for RuleRef {
    fn from(meta: Arc<RuleMeta>) -> Self {
        RuleRef::Shared(meta)
    }
}

/// What a finding is about.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Subject {
    /// A Kubernetes object (from a manifest, a snapshot, a cluster or an admission request).
    Object(Arc<ObjectRef>),
    /// A file that is not a Kubernetes object (an `.env` file, Helm values).
    File(Arc<str>),
    /// A container image, by reference as written.
    Image(Arc<str>),
    /// A node, by name.
    Node(Arc<str>),
    /// One audit event, by its `auditID`.
    AuditEvent(Arc<str>),
    /// A user, group or service account, as the authorizer names it
    /// (`system:serviceaccount:NS:NAME`).
    Identity(Arc<str>),
}

impl Subject {
    /// The Kubernetes object, when the subject is one.
    pub fn object(&self) -> Option<&ObjectRef> {
        match self {
            Subject::Object(object) => Some(object),
            _ => None,
        }
    }

    /// The kind of subject, as written in reports.
    pub fn kind(&self) -> &'static str {
        match self {
            Subject::Object(_) => "object",
            Subject::File(_) => "file",
            Subject::Image(_) => "image",
            Subject::Node(_) => "node",
            Subject::AuditEvent(_) => "audit-event",
            Subject::Identity(_) => "identity",
        }
    }

    /// The identity that fingerprints use: independent of file, line and object order.
    pub fn identity_key(&self) -> String {
        let mut key = String::new();
        // Writing to a String cannot fail.
        let _ = self.write_identity_key(&mut key);
        key
    }

    /// Writes [`Subject::identity_key`] to `out` (fingerprints hash it without allocating).
    pub fn write_identity_key(&self, out: &mut impl fmt::Write) -> fmt::Result {
        match self {
            Subject::Object(object) => object.write_identity_key(out),
            Subject::File(name)
            | Subject::Image(name)
            | Subject::Node(name)
            | Subject::AuditEvent(name)
            | Subject::Identity(name) => {
                out.write_str(self.kind())?;
                out.write_char(':')?;
                out.write_str(name)
            }
        }
    }
}

impl fmt::Display for Subject {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Subject::Object(object) => write!(f, "{object}"),
            Subject::File(name)
            | Subject::Image(name)
            | Subject::Node(name)
            | Subject::AuditEvent(name)
            | Subject::Identity(name) => write!(f, "{} {name}", self.kind()),
        }
    }
}

impl Serialize for Subject {
    /// `{"kind": "image", "name": "nginx:1.27"}`; an object subject is written as the object
    /// itself (under the finding's `object` key).
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            Subject::Object(object) => object.serialize(serializer),
            Subject::File(name)
            | Subject::Image(name)
            | Subject::Node(name)
            | Subject::AuditEvent(name)
            | Subject::Identity(name) => {
                let mut map = serializer.serialize_map(Some(2))?;
                map.serialize_entry("kind", self.kind())?;
                map.serialize_entry("name", name.as_ref())?;
                map.end()
            }
        }
    }
}

/// Why a finding holds, as data a reader or a tool can follow. Evidence never holds a value
/// read from the input that is not printable (see `redact`): a matched secret is described by
/// where it is and which detector matched, not by what it is.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "type", rename_all = "kebab-case")]
pub enum Evidence {
    /// A chain of steps from an entry point to what it reaches (an attack path).
    Chain { steps: Vec<Step> },
    /// A package with a known flaw: what is installed, and the first version that fixes it.
    Package {
        name: String,
        installed: String,
        #[serde(skip_serializing_if = "Option::is_none")]
        fixed: Option<String>,
    },
    /// A pattern matched in a field. `tag` is the value's stable tag (`<hidden #…>`), so two
    /// reports can tell whether it is the same value without showing it.
    Pattern {
        detector: Cow<'static, str>,
        path: JsonPointer,
        tag: String,
    },
}

/// One step of a chain: from a node, by a relation, to the next node.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Step {
    /// The node this step starts from (`Deployment shop/web`, `ServiceAccount shop/web`).
    pub from: String,
    /// The node it reaches.
    pub to: String,
    /// What makes the step possible, with the binding, role and rule when there is one
    /// (`RoleBinding ops/deploy → Role ops/deployer rule 1: create deployments`).
    pub relation: String,
}

/// A remediation as edits a tool can apply: replace the bytes `start..end` of `file`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Fix {
    /// What the fix does, in a sentence.
    pub description: String,
    pub edits: Vec<Edit>,
}

/// One edit of a [`Fix`]: byte offsets into the file as read, end exclusive.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Edit {
    pub file: Arc<str>,
    pub start: usize,
    pub end: usize,
    pub replacement: String,
}

/// One problem found on one subject.
///
/// A large scan holds millions of findings, so what few findings carry (cited controls, a
/// discriminator, evidence, a fix, a suppression, affected objects) is kept in one box
/// behind accessors, and the message and pointer are shared texts (equal ones can share
/// one copy, see [`crate::intern`]).
#[derive(Debug, Clone)]
pub struct Finding {
    /// The rule, whose id, title, remediation and controls the finding shows.
    pub rule: RuleRef,
    /// This finding's severity: the rule's default unless the rule set it
    /// ([`Finding::with_severity`]).
    pub severity: Severity,
    /// What is wrong on this subject, in a sentence that names the container or field.
    pub message: Arc<str>,
    pub subject: Subject,
    pub location: Location,
    pub(crate) extra: Option<Box<Extra>>,
}

/// What only some findings carry.
#[derive(Debug, Clone, Default)]
pub(crate) struct Extra {
    /// Shared with equal lists of other findings ([`Finding::share_texts`]).
    pub(crate) cited: Option<Arc<[Control]>>,
    pub(crate) discriminator: Option<Box<str>>,
    pub(crate) evidence: Vec<Evidence>,
    pub(crate) fix: Option<Box<Fix>>,
    pub(crate) suppressed: Option<Box<Suppression>>,
    pub(crate) affected: Vec<String>,
    /// The fingerprint, when it is not the one of rule, subject and path alone: a
    /// discriminator's, hashed before redaction could change it, or one set for a test.
    pub(crate) fingerprint: Option<Fingerprint>,
    /// The reason a denial for this finding gives the client at admission, when the policy
    /// says one (a ValidatingAdmissionPolicy validation's `reason`).
    pub(crate) status_reason: Option<crate::StatusReason>,
}

impl Finding {
    /// A finding of `rule` on `subject` at `location`, at the rule's severity and citing all
    /// of the rule's controls.
    pub fn new(
        rule: impl Into<RuleRef>,
        subject: Subject,
        location: Location,
        message: impl Into<Arc<str>>,
    ) -> Self {
        let rule = rule.into();
        Finding {
            severity: rule.severity,
            rule,
            message: message.into(),
            subject,
            location,
            extra: None,
        }
    }

    /// Stable across files, lines and object order; see [`crate::fingerprint`]. Worked out
    /// when asked from what never changes after the finding is made (rule, subject, path),
    /// rather than held in each of millions of findings.
    pub fn fingerprint(&self) -> Fingerprint {
        self.extra
            .as_ref()
            .and_then(|extra| extra.fingerprint)
            .unwrap_or_else(|| {
                Fingerprint::of(&self.rule.id, &self.subject, &self.location.path, None)
            })
    }

    /// Gives the finding a fixed fingerprint (tests that compare rendered reports).
    pub fn set_fingerprint(&mut self, fingerprint: Fingerprint) {
        self.extra_mut().fingerprint = Some(fingerprint);
    }

    fn extra_mut(&mut self) -> &mut Extra {
        self.extra.get_or_insert_with(Box::default)
    }

    pub fn with_severity(mut self, severity: Severity) -> Self {
        self.severity = severity;
        self
    }

    /// Keeps this finding apart from others of its rule at the same place.
    pub fn with_discriminator(mut self, discriminator: impl Into<Box<str>>) -> Self {
        let discriminator = discriminator.into();
        let fingerprint = Fingerprint::of(
            &self.rule.id,
            &self.subject,
            &self.location.path,
            Some(&discriminator),
        );
        let extra = self.extra_mut();
        extra.fingerprint = Some(fingerprint);
        extra.discriminator = Some(discriminator);
        self
    }

    /// Cites only these controls (the ones this finding's condition violates).
    pub fn citing(mut self, controls: Vec<Control>) -> Self {
        self.extra_mut().cited = Some(controls.into());
        self
    }

    pub fn with_evidence(mut self, evidence: Evidence) -> Self {
        self.extra_mut().evidence.push(evidence);
        self
    }

    pub fn with_fix(mut self, fix: Fix) -> Self {
        self.set_fix(Some(fix));
        self
    }

    /// What keeps this finding apart from another of the same rule at the same place (a CVE
    /// id, a detector); part of the fingerprint.
    pub fn discriminator(&self) -> Option<&str> {
        self.extra.as_ref()?.discriminator.as_deref()
    }

    /// Replaces the discriminator's text without changing the fingerprint (redaction).
    pub fn discriminator_mut(&mut self) -> Option<&mut Box<str>> {
        self.extra.as_mut()?.discriminator.as_mut()
    }

    /// Gives a denial for this finding at admission `reason` (and its status code).
    pub fn with_status_reason(mut self, reason: crate::StatusReason) -> Self {
        self.extra_mut().status_reason = Some(reason);
        self
    }

    /// The reason a denial for this finding gives the client, when its policy said one.
    pub fn status_reason(&self) -> Option<crate::StatusReason> {
        self.extra.as_ref()?.status_reason
    }

    /// The evidence, in the order it was added.
    pub fn evidence(&self) -> &[Evidence] {
        self.extra.as_ref().map_or(&[], |e| &e.evidence)
    }

    pub fn evidence_mut(&mut self) -> &mut Vec<Evidence> {
        &mut self.extra_mut().evidence
    }

    pub fn fix(&self) -> Option<&Fix> {
        self.extra.as_ref()?.fix.as_deref()
    }

    pub fn set_fix(&mut self, fix: Option<Fix>) {
        if fix.is_some() || self.extra.is_some() {
            self.extra_mut().fix = fix.map(Box::new);
        }
    }

    /// Why the finding is accepted, when it is.
    pub fn suppressed(&self) -> Option<&Suppression> {
        self.extra.as_ref()?.suppressed.as_deref()
    }

    pub fn is_suppressed(&self) -> bool {
        self.suppressed().is_some()
    }

    pub fn set_suppressed(&mut self, suppression: Option<Suppression>) {
        if suppression.is_some() || self.extra.is_some() {
            self.extra_mut().suppressed = suppression.map(Box::new);
        }
    }

    pub fn suppressed_mut(&mut self) -> Option<&mut Suppression> {
        self.extra.as_mut()?.suppressed.as_deref_mut()
    }

    /// Objects judged through this one: the Pods and ReplicaSets a Deployment controls, when
    /// a cluster or snapshot holds them (they are not reported separately).
    pub fn affected(&self) -> &[String] {
        self.extra.as_ref().map_or(&[], |e| &e.affected)
    }

    pub fn affected_mut(&mut self) -> &mut Vec<String> {
        &mut self.extra_mut().affected
    }

    /// The controls cited in place of the rule's, when this finding's condition violates
    /// only some of them.
    pub fn cited(&self) -> Option<&[Control]> {
        self.extra.as_ref()?.cited.as_deref()
    }

    /// Shares the message's and pointer's texts, and the cited controls, with equal ones
    /// `seen` holds.
    pub fn share_texts(&mut self, seen: &mut crate::intern::Interner) {
        self.message = seen.share(&self.message);
        self.location.path = self.location.path.shared(seen);
        if let Some(cited) = self.extra.as_mut().and_then(|e| e.cited.as_mut()) {
            *cited = seen.share_controls(cited);
        }
    }

    pub fn rule_id(&self) -> &str {
        &self.rule.id
    }

    pub fn title(&self) -> &str {
        &self.rule.title
    }

    pub fn remediation(&self) -> &str {
        &self.rule.remediation
    }

    /// The controls this finding provides evidence against.
    pub fn controls(&self) -> &[Control] {
        self.cited().unwrap_or(&self.rule.controls)
    }

    /// The Kubernetes object, when the subject is one.
    pub fn object(&self) -> Option<&ObjectRef> {
        self.subject.object()
    }
}

impl Serialize for Finding {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut s = serializer.serialize_struct("Finding", 14)?;
        s.serialize_field("rule", self.rule_id())?;
        s.serialize_field("severity", &self.severity)?;
        s.serialize_field("title", self.title())?;
        s.serialize_field("message", &self.message)?;
        match &self.subject {
            Subject::Object(object) => s.serialize_field("object", object)?,
            other => s.serialize_field("subject", other)?,
        }
        s.serialize_field("location", &self.location)?;
        s.serialize_field("controls", self.controls())?;
        s.serialize_field("fingerprint", &self.fingerprint())?;
        if let Some(suppressed) = self.suppressed() {
            s.serialize_field("suppressed", suppressed)?;
        }
        s.serialize_field("remediation", self.remediation())?;
        if !self.affected().is_empty() {
            s.serialize_field("affected", self.affected())?;
        }
        if let Some(discriminator) = self.discriminator() {
            s.serialize_field("discriminator", discriminator)?;
        }
        if !self.evidence().is_empty() {
            s.serialize_field("evidence", self.evidence())?;
        }
        if let Some(fix) = self.fix() {
            s.serialize_field("fix", fix)?;
        }
        s.end()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A large scan holds millions of findings at once (two million for a 47 MB file of
    /// Deployments): each byte here is two megabytes there.
    #[test]
    fn a_finding_stays_small() {
        let size = std::mem::size_of::<Finding>();
        assert!(size <= 128, "a Finding takes {size} bytes");
    }

    #[test]
    fn what_few_findings_carry_is_read_back_as_set() {
        let location = Location::file("f.yaml");
        let subject = Subject::File("f.yaml".into());
        let mut finding = Finding::new(meta(), subject, location, "m");
        assert!(finding.extra.is_none(), "a plain finding carries no box");
        assert!(finding.evidence().is_empty() && finding.affected().is_empty());
        finding.set_suppressed(None);
        finding.set_fix(None);
        assert!(
            finding.extra.is_none(),
            "clearing what is not there adds nothing"
        );
        let plain = finding.fingerprint();
        let mut finding = finding.with_discriminator("CVE-1").citing(vec![]);
        assert_ne!(finding.fingerprint(), plain);
        assert_eq!(finding.discriminator(), Some("CVE-1"));
        assert_eq!(finding.cited(), Some(&[][..]));
        finding.affected_mut().push("Pod p".into());
        assert_eq!(finding.affected(), ["Pod p"]);
        assert!(!finding.is_suppressed());
    }

    fn meta() -> &'static RuleMeta {
        static META: std::sync::LazyLock<RuleMeta> = std::sync::LazyLock::new(|| RuleMeta {
            id: "IMG009".into(),
            slug: "known-vulnerability".into(),
            title: "Image has a known vulnerability".into(),
            severity: Severity::Medium,
            controls: Cow::Owned(vec![]),
            remediation: "Upgrade.".into(),
            docs: "".into(),
        });
        &META
    }

    #[test]
    fn discriminators_keep_findings_apart_and_defaults_keep_the_old_fingerprint() {
        let subject = Subject::Image("nginx:1.0".into());
        let a = Finding::new(meta(), subject.clone(), Location::file("x.yaml"), "a");
        let b = a.clone().with_discriminator("CVE-2024-1");
        let c = a.clone().with_discriminator("CVE-2024-2");
        assert_ne!(a.fingerprint(), b.fingerprint());
        assert_ne!(b.fingerprint(), c.fingerprint());
        assert_eq!(
            a.fingerprint(),
            Fingerprint::of("IMG009", &subject, &JsonPointer::root(), None)
        );
    }

    /// The fingerprint is worked out when asked, not held; a discriminator's is kept as it
    /// was before redaction could rewrite the discriminator, so a baseline still matches.
    #[test]
    fn fingerprints_asked_later_are_the_ones_made_with_the_finding() {
        let subject = Subject::Image("nginx:1.0".into());
        let at = JsonPointer::parse("/spec/containers/0/image").unwrap();
        let mut location = Location::file("x.yaml");
        location.path = at.clone();
        let plain = Finding::new(meta(), subject.clone(), location.clone(), "m");
        assert_eq!(
            plain.fingerprint(),
            Fingerprint::of("IMG009", &subject, &at, None)
        );
        let mut discriminated =
            Finding::new(meta(), subject.clone(), location, "m").with_discriminator("hunter2-key");
        let before = discriminated.fingerprint();
        crate::redact::Redactor::from_needles(vec!["hunter2-key".into()])
            .redact_finding(&mut discriminated);
        assert_ne!(discriminated.discriminator(), Some("hunter2-key"));
        assert_eq!(discriminated.fingerprint(), before);
        assert_eq!(
            before,
            Fingerprint::of("IMG009", &subject, &at, Some("hunter2-key"))
        );
        let mut fixed = plain.clone();
        fixed.set_fingerprint(Fingerprint(7));
        assert_eq!(fixed.fingerprint(), Fingerprint(7));
    }

    #[test]
    fn renderers_are_written_by_name() {
        let mut location = Location::file("chart");
        assert!(
            serde_json::to_value(&location)
                .unwrap()
                .get("rendered_by")
                .is_none()
        );
        location.rendered_by = Some(Renderer::Helm);
        assert_eq!(
            serde_json::to_value(&location).unwrap()["rendered_by"],
            "helm"
        );
        assert_eq!(Renderer::Kustomize.to_string(), "kustomize");
    }

    #[test]
    fn severity_is_per_finding_and_non_object_subjects_serialise_as_subject() {
        let f = Finding::new(
            meta(),
            Subject::Image("nginx:1.0".into()),
            Location::file("x.yaml"),
            "old nginx",
        )
        .with_severity(Severity::Critical)
        .with_evidence(Evidence::Package {
            name: "openssl".into(),
            installed: "1.1.1".into(),
            fixed: Some("1.1.1w".into()),
        });
        let json = serde_json::to_value(&f).unwrap();
        assert_eq!(json["severity"], "critical");
        assert_eq!(json["subject"]["kind"], "image");
        assert!(json.get("object").is_none());
        assert_eq!(json["evidence"][0]["type"], "package");
        assert_eq!(f.rule.severity, Severity::Medium);
    }
}
