//! One audit event (`audit.k8s.io/v1` Event, and the older `v1beta1` shape, which has the same
//! fields plus `timestamp`), decoded into borrowed, typed fields.
//!
//! The hot path never builds a JSON tree: strings borrow from the line when they hold no
//! escapes, and the request and response objects stay raw text until a detection asks for
//! them ([`Event::request_object`]), which only the few rules on pod, role, binding and
//! ConfigMap writes do.

use std::borrow::Cow;
use std::fmt;

use serde::Deserialize;
use serde::de::{self, Deserializer, Visitor};
use serde_json::value::RawValue;

use crate::body::Body;

/// A string of the event: borrowed from the input when it has no escapes.
#[derive(Debug, Clone, PartialEq, Eq, Default, PartialOrd, Ord, Hash)]
pub struct Str<'a>(pub Cow<'a, str>);

impl Str<'_> {
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Str<'_> {
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl AsRef<str> for Str<'_> {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

impl std::ops::Deref for Str<'_> {
    type Target = str;
    fn deref(&self) -> &str {
        &self.0
    }
}

impl<'de: 'a, 'a> Deserialize<'de> for Str<'a> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct StrVisitor;
        impl<'de> Visitor<'de> for StrVisitor {
            type Value = Str<'de>;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a string")
            }
            fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<Str<'de>, E> {
                Ok(Str(Cow::Borrowed(v)))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Str<'de>, E> {
                Ok(Str(Cow::Owned(v.to_owned())))
            }
            fn visit_string<E: de::Error>(self, v: String) -> Result<Str<'de>, E> {
                Ok(Str(Cow::Owned(v)))
            }
        }
        deserializer.deserialize_str(StrVisitor)
    }
}

/// Who made the request, as the authenticator named them.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct UserInfo<'a> {
    #[serde(borrow, default)]
    pub username: Option<Str<'a>>,
    #[serde(borrow, default)]
    pub uid: Option<Str<'a>>,
    /// Read when asked for (alerts, impersonation): most events never need them.
    #[serde(borrow, default)]
    pub groups: Option<&'a RawValue>,
}

impl UserInfo<'_> {
    /// The user name; empty when the event has none.
    pub fn name(&self) -> &str {
        self.username.as_deref().unwrap_or("")
    }

    /// The groups (empty when absent or not a list of strings).
    pub fn groups(&self) -> Vec<String> {
        self.groups
            .and_then(|raw| serde_json::from_str::<Vec<String>>(raw.get()).ok())
            .unwrap_or_default()
    }
}

/// The object the request is about.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ObjectRef<'a> {
    #[serde(borrow, default)]
    pub resource: Option<Str<'a>>,
    #[serde(borrow, default)]
    pub namespace: Option<Str<'a>>,
    #[serde(borrow, default)]
    pub name: Option<Str<'a>>,
    #[serde(borrow, default)]
    pub api_group: Option<Str<'a>>,
    #[serde(borrow, default)]
    pub api_version: Option<Str<'a>>,
    #[serde(borrow, default)]
    pub subresource: Option<Str<'a>>,
}

/// The response's status: the code is what detections read.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct ResponseStatus<'a> {
    #[serde(default)]
    pub code: Option<i64>,
    #[serde(borrow, default)]
    pub reason: Option<Str<'a>>,
    #[serde(borrow, default)]
    pub status: Option<Str<'a>>,
}

/// One audit event.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Event<'a> {
    #[serde(borrow, default)]
    pub kind: Option<Str<'a>>,
    #[serde(borrow, default)]
    pub api_version: Option<Str<'a>>,
    #[serde(borrow, default)]
    pub level: Option<Str<'a>>,
    #[serde(borrow, default, rename = "auditID")]
    pub audit_id: Option<Str<'a>>,
    #[serde(borrow, default)]
    pub stage: Option<Str<'a>>,
    #[serde(borrow, default, rename = "requestURI")]
    pub request_uri: Option<Str<'a>>,
    #[serde(borrow, default)]
    pub verb: Option<Str<'a>>,
    #[serde(borrow, default)]
    pub user: UserInfo<'a>,
    #[serde(borrow, default)]
    pub impersonated_user: Option<UserInfo<'a>>,
    #[serde(borrow, default, rename = "sourceIPs")]
    pub source_ips: Option<Vec<Str<'a>>>,
    #[serde(borrow, default)]
    pub user_agent: Option<Str<'a>>,
    #[serde(borrow, default)]
    pub object_ref: Option<ObjectRef<'a>>,
    #[serde(borrow, default)]
    pub response_status: Option<ResponseStatus<'a>>,
    #[serde(borrow, default)]
    pub request_object: Option<&'a RawValue>,
    #[serde(borrow, default)]
    pub response_object: Option<&'a RawValue>,
    #[serde(borrow, default)]
    pub request_received_timestamp: Option<Str<'a>>,
    #[serde(borrow, default)]
    pub stage_timestamp: Option<Str<'a>>,
    /// `v1beta1` only.
    #[serde(borrow, default)]
    pub timestamp: Option<Str<'a>>,
    /// Read when asked for ([`Event::annotation`]).
    #[serde(borrow, default)]
    pub annotations: Option<&'a RawValue>,
}

/// Why a line is not an audit event.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DecodeError {
    /// The text is not JSON, or a field has the wrong type.
    #[error("{0}")]
    Json(String),
    /// Valid JSON whose `kind` is not `Event` (Falco says "data not recognized as a k8s audit
    /// event").
    #[error("not an audit event (kind {0})")]
    NotAnEvent(String),
}

/// The annotation the authorizer writes its decision to.
pub const DECISION_ANNOTATION: &str = "authorization.k8s.io/decision";
/// The annotation the audit backends' truncation (`--audit-log-truncate-enabled`,
/// `--audit-webhook-truncate-enabled`) puts on an event whose objects it dropped.
pub const TRUNCATED_ANNOTATION: &str = "audit.k8s.io/truncated";
/// The annotation the authorizer writes its reason to.
pub const REASON_ANNOTATION: &str = "authorization.k8s.io/reason";

impl<'a> Event<'a> {
    /// Decodes one event; `kind` must be `Event` (an event without `kind` is read too: some
    /// exporters drop it).
    pub fn decode(text: &'a str) -> Result<Event<'a>, DecodeError> {
        let event: Event<'a> =
            serde_json::from_str(text).map_err(|e| DecodeError::Json(e.to_string()))?;
        match event.kind.as_deref() {
            Some("Event") => Ok(event),
            None if event.verb.is_some() && event.stage.is_some() => Ok(event),
            Some(other) => Err(DecodeError::NotAnEvent(format!("`{other}`"))),
            None => Err(DecodeError::NotAnEvent("missing".into())),
        }
    }

    pub fn verb(&self) -> &str {
        self.verb.as_deref().unwrap_or("")
    }

    pub fn resource(&self) -> &str {
        self.object_ref
            .as_ref()
            .and_then(|o| o.resource.as_deref())
            .unwrap_or("")
    }

    pub fn subresource(&self) -> &str {
        self.object_ref
            .as_ref()
            .and_then(|o| o.subresource.as_deref())
            .unwrap_or("")
    }

    pub fn namespace(&self) -> Option<&str> {
        self.object_ref
            .as_ref()
            .and_then(|o| o.namespace.as_deref())
    }

    /// The object's name; for creates without one in `objectRef`, the name in the request
    /// or response object's metadata is found by the caller.
    pub fn name(&self) -> Option<&str> {
        self.object_ref.as_ref().and_then(|o| o.name.as_deref())
    }

    pub fn api_group(&self) -> &str {
        self.object_ref
            .as_ref()
            .and_then(|o| o.api_group.as_deref())
            .unwrap_or("")
    }

    pub fn stage(&self) -> &str {
        self.stage.as_deref().unwrap_or("")
    }

    pub fn user(&self) -> &str {
        self.user.name()
    }

    pub fn code(&self) -> Option<i64> {
        self.response_status.as_ref().and_then(|s| s.code)
    }

    /// A 2xx response (Falco's `response_successful`).
    pub fn succeeded(&self) -> bool {
        self.code().is_some_and(|c| (200..300).contains(&c))
    }

    /// A response that says the request failed (a code outside 2xx); an event without a
    /// code is not refused (its outcome is unknown).
    pub fn refused(&self) -> bool {
        self.code().is_some() && !self.succeeded()
    }

    /// The request path without its query (queries can carry commands and tokens).
    pub fn path(&self) -> &str {
        let uri = self.request_uri.as_deref().unwrap_or("");
        uri.split('?').next().unwrap_or(uri)
    }

    /// The query of the request URI.
    pub fn query(&self) -> &str {
        self.request_uri
            .as_deref()
            .and_then(|u| u.split_once('?'))
            .map_or("", |(_, q)| q)
    }

    /// An annotation's value (annotations are read from the raw text on each call).
    pub fn annotation(&self, key: &str) -> Option<String> {
        let raw = self.annotations?;
        let pairs = annotation_pairs(&mut serde_json::Deserializer::from_str(raw.get())).ok()??;
        pairs
            .into_iter()
            .find(|(k, _)| k.as_str() == key)
            .map(|(_, v)| v.0.into_owned())
    }

    /// Whether the audit backend truncated the event (`audit.k8s.io/truncated: "true"`): it
    /// was larger than the backend's limit, so its request and response objects were
    /// dropped, whatever its level says.
    pub fn truncated(&self) -> bool {
        self.annotations
            .is_some_and(|raw| raw.get().contains(TRUNCATED_ANNOTATION))
            && self.annotation(TRUNCATED_ANNOTATION).as_deref() == Some("true")
    }

    /// The authorizer's decision (`allow`, `forbid`), when annotated.
    pub fn decision(&self) -> Option<String> {
        self.annotation(DECISION_ANNOTATION)
    }

    /// Whether the authorizer allowed the request: its decision when annotated, else a
    /// response below 400 (the API server authorizes before it answers, so a success was
    /// allowed; exporters and older servers drop the annotation). An event with neither says
    /// nothing.
    pub fn authorized(&self) -> bool {
        match self.decision() {
            Some(decision) => decision == "allow",
            None => self.code().is_some_and(|c| (100..400).contains(&c)),
        }
    }

    /// When the request was received (microseconds since the epoch): the received time,
    /// else the stage time, else `v1beta1`'s `timestamp`.
    pub fn time_micros(&self) -> Option<i64> {
        [
            &self.request_received_timestamp,
            &self.stage_timestamp,
            &self.timestamp,
        ]
        .into_iter()
        .flatten()
        .find_map(|t| palisade_core::date::rfc3339_unix_micros(t))
    }

    /// The time as written, for alerts.
    pub fn time_text(&self) -> Option<&str> {
        self.request_received_timestamp
            .as_deref()
            .or(self.stage_timestamp.as_deref())
            .or(self.timestamp.as_deref())
    }

    pub fn source_ips(&self) -> impl Iterator<Item = &str> {
        self.source_ips.iter().flatten().map(Str::as_str)
    }

    pub fn user_agent(&self) -> Option<&str> {
        self.user_agent.as_deref()
    }

    /// Whether the request's object is a JSON patch (a list of operations), as `kubectl patch
    /// --type=json` sends; a merge patch is an object.
    pub fn is_json_patch(&self) -> bool {
        self.request_object
            .is_some_and(|raw| raw.get().trim_start().starts_with('['))
    }

    /// The request object, read (only when a detection needs it).
    pub fn request_object(&self) -> Option<Body<'a>> {
        self.request_object
            .and_then(|raw| Body::parse(raw.get()))
            .filter(|v| !matches!(v, Body::Null))
    }

    /// The response object, read.
    pub fn response_object(&self) -> Option<Body<'a>> {
        self.response_object
            .and_then(|raw| Body::parse(raw.get()))
            .filter(|v| !matches!(v, Body::Null))
    }
}

/// Reads `annotations` (a JSON object of strings) into pairs, without a map.
fn annotation_pairs<'de: 'a, 'a, D: Deserializer<'de>>(
    deserializer: D,
) -> Result<Option<Vec<(Str<'a>, Str<'a>)>>, D::Error> {
    struct PairsVisitor<'a>(std::marker::PhantomData<&'a ()>);
    impl<'de: 'a, 'a> Visitor<'de> for PairsVisitor<'a> {
        type Value = Option<Vec<(Str<'a>, Str<'a>)>>;
        fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
            f.write_str("a map of strings")
        }
        fn visit_none<E: de::Error>(self) -> Result<Self::Value, E> {
            Ok(None)
        }
        fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
            Ok(None)
        }
        fn visit_map<M: de::MapAccess<'de>>(self, mut map: M) -> Result<Self::Value, M::Error> {
            let mut pairs = Vec::new();
            while let Some(pair) = map.next_entry::<Str<'a>, Str<'a>>()? {
                pairs.push(pair);
            }
            Ok(Some(pairs))
        }
    }
    deserializer.deserialize_any(PairsVisitor(std::marker::PhantomData))
}
