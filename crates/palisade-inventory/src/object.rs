//! Kubernetes objects as the inventory holds them: a JSON value, the positions of its nodes and
//! the source it came from.

use palisade_core::tree::Tree as _;
use palisade_core::{JsonPointer, ObjectRef};
use serde_json::Value;

use crate::spans::{Pos, Resolved, Spans};

/// Index of a [`Source`] in the inventory.
pub type SourceId = usize;

/// Where objects came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Source {
    /// The path as the user gave it (or found under a directory they gave); `-` for stdin.
    pub path: std::sync::Arc<str>,
    /// `kustomize` or `helm` when the objects are rendered output; their lines then refer to
    /// the rendered stream, not to a file on disk.
    pub rendered_by: Option<palisade_core::Renderer>,
}

/// One Kubernetes object.
#[derive(Debug, Clone, PartialEq)]
pub struct Object {
    pub id: std::sync::Arc<ObjectRef>,
    pub value: Value,
    pub spans: Spans,
    pub source: SourceId,
    /// 0-based index of the document in its source (items of a List share their list's).
    pub document: usize,
    /// For rendered Kustomize objects: the file and patches they come from, where findings
    /// are located instead of the rendered stream.
    pub origin: Option<Box<crate::load::Origin>>,
    /// At admission: the AdmissionRequest the object arrived in (operation, user, old
    /// object), for policies that read it (Gatekeeper's `input.review`, VAP's `request`).
    pub request: Option<std::sync::Arc<Value>>,
}

impl Object {
    /// The operation of the AdmissionRequest the object arrived in (`CREATE`, `UPDATE`,
    /// `DELETE`, whose object is the one being removed, or `CONNECT`, whose object is the
    /// connection's options); `None` outside admission.
    pub fn operation(&self) -> Option<&str> {
        self.request_text("operation")
    }

    /// The operation, when the request does not store its object whole: a `DELETE` (the
    /// object is the one removed), a `CONNECT` (the object is an exec's or port-forward's
    /// options), or a write to a subresource (a Deployment's `scale`, whose object is a
    /// `Scale`; an object's `status`) other than a Pod's `ephemeralcontainers`, whose object
    /// is the whole Pod. Only the rules that ask for such requests judge them.
    pub fn storing_nothing(&self) -> Option<&str> {
        let operation = self.operation()?;
        let subresource = self.request_text("subResource").unwrap_or("");
        let partial = !matches!(subresource, "" | "ephemeralcontainers");
        (matches!(operation, "DELETE" | "CONNECT") || partial).then_some(operation)
    }

    /// A string field of the AdmissionRequest the object arrived in (`subResource`).
    pub fn request_text(&self, field: &str) -> Option<&str> {
        self.request.as_ref()?.get(field)?.as_str()
    }

    /// At admission, the object the request replaces (an update's `oldObject`).
    pub fn old_object(&self) -> Option<&Value> {
        self.request
            .as_ref()?
            .get("oldObject")
            .filter(|o| o.is_object())
    }

    /// Builds an object from a value and its spans; `None` when the value is not a Kubernetes
    /// object (no string `apiVersion` and `kind`).
    pub fn from_value(
        value: Value,
        spans: Spans,
        source: SourceId,
        document: usize,
    ) -> Option<Self> {
        let id = object_ref(&value)?;
        Some(Object {
            id: std::sync::Arc::new(id),
            value,
            spans,
            source,
            document,
            origin: None,
            request: None,
        })
    }

    /// The source position of `pointer` (or of its deepest existing ancestor).
    pub fn locate(&self, pointer: &JsonPointer) -> Resolved {
        self.spans.resolve(&self.value, pointer.segments())
    }

    /// Position of the object itself (its first line).
    pub fn pos(&self) -> Pos {
        self.spans.pos()
    }

    /// `metadata.annotations` as a map, when present.
    pub fn annotations(&self) -> Option<&serde_json::Map<String, Value>> {
        self.value.at("/metadata/annotations")?.as_object()
    }
}

/// The identity of a value that has string `apiVersion` and `kind`.
pub fn object_ref(value: &Value) -> Option<ObjectRef> {
    let map = value.as_object()?;
    let api_version = map.get("apiVersion")?.as_str()?;
    let kind = map.get("kind")?.as_str()?;
    if api_version.is_empty() || kind.is_empty() {
        return None;
    }
    let metadata = map.get("metadata").and_then(Value::as_object);
    let text = |key: &str| {
        metadata
            .and_then(|m| m.get(key))
            .and_then(Value::as_str)
            .filter(|s| !s.is_empty())
            .map(str::to_string)
    };
    Some(ObjectRef {
        api_version: api_version.to_string(),
        kind: kind.to_string(),
        namespace: text("namespace"),
        name: text("name").or_else(|| text("generateName").map(|g| format!("{g}*"))),
    })
}
