//! AdmissionReview decoding. The envelope is kube's `AdmissionRequest`; the object and the
//! old object are kept as the JSON the API server sent, so the rules read exactly the fields
//! `palisade scan` reads in a manifest (nothing dropped by a typed round trip).

use kube_core::DynamicObject;
use kube_core::admission::{AdmissionRequest, AdmissionReview, Operation};
use serde_json::Value;

/// `"value"`, or `(none)` for a field the review lacks.
fn quoted_or_none(value: &str) -> String {
    if value.is_empty() {
        "(none)".to_string()
    } else {
        format!("{value:?}")
    }
}

/// Why a body is not an AdmissionReview this webhook can answer. Every variant is a 400.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ReviewError {
    #[error("the body is not JSON: {0}")]
    NotJson(String),
    #[error(
        "expected kind AdmissionReview of admission.k8s.io/v1 or v1beta1, got kind {} with apiVersion {}",
        quoted_or_none(.kind),
        quoted_or_none(.api_version)
    )]
    WrongKind { kind: String, api_version: String },
    #[error("the AdmissionReview has no request")]
    NoRequest,
    #[error("request.{field}: {message}")]
    Field {
        field: &'static str,
        message: String,
    },
    #[error("the AdmissionReview's request is malformed: {0}")]
    Malformed(String),
}

/// A decoded request: kube's envelope and the objects as sent.
#[derive(Debug, Clone)]
pub struct Review {
    /// The review's apiVersion, echoed in the response.
    pub api_version: String,
    pub request: AdmissionRequest<DynamicObject>,
    pub object: Option<Value>,
    /// The request as sent, without `object` (the judged object takes its place): what
    /// Gatekeeper policies read as `input.review` and VAP policies as `request`/`oldObject`.
    pub request_json: std::sync::Arc<Value>,
}

impl Review {
    pub fn operation(&self) -> &'static str {
        match self.request.operation {
            Operation::Create => "CREATE",
            Operation::Update => "UPDATE",
            Operation::Delete => "DELETE",
            Operation::Connect => "CONNECT",
        }
    }

    pub fn namespace(&self) -> &str {
        self.request.namespace.as_deref().unwrap_or("")
    }

    /// The stored object of an update or deletion, as sent.
    pub fn old_object(&self) -> Option<&Value> {
        self.request_json.get("oldObject").filter(|o| o.is_object())
    }

    pub fn subresource(&self) -> &str {
        self.request.sub_resource.as_deref().unwrap_or("")
    }
}

const VERSIONS: [&str; 2] = ["admission.k8s.io/v1", "admission.k8s.io/v1beta1"];

/// Decodes an AdmissionReview body.
pub fn decode(body: &[u8]) -> Result<Review, ReviewError> {
    let mut value: Value =
        serde_json::from_slice(body).map_err(|e| ReviewError::NotJson(e.to_string()))?;
    let text = |v: &Value, field: &str| {
        v.get(field)
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_string()
    };
    let (kind, api_version) = (text(&value, "kind"), text(&value, "apiVersion"));
    if kind != "AdmissionReview" || !VERSIONS.contains(&api_version.as_str()) {
        return Err(ReviewError::WrongKind { kind, api_version });
    }
    let request = match value.get_mut("request") {
        Some(Value::Object(request)) => request,
        Some(Value::Null) | None => return Err(ReviewError::NoRequest),
        Some(_) => {
            return Err(ReviewError::Field {
                field: "request",
                message: "not an object".into(),
            });
        }
    };
    let mut take = |field: &'static str| -> Result<Option<Value>, ReviewError> {
        match request.insert(field.to_string(), Value::Null) {
            None | Some(Value::Null) => Ok(None),
            Some(object @ Value::Object(_)) => Ok(Some(object)),
            Some(_) => Err(ReviewError::Field {
                field,
                message: "not an object".into(),
            }),
        }
    };
    let object = take("object")?;
    let old_object = take("oldObject")?;
    let mut request_json = request.clone();
    request_json.remove("object");
    if let Some(old) = old_object {
        request_json.insert("oldObject".into(), old);
    }
    let review: AdmissionReview<DynamicObject> =
        serde_json::from_value(value).map_err(|e| ReviewError::Malformed(e.to_string()))?;
    let request = review.request.ok_or(ReviewError::NoRequest)?;
    if request.uid.is_empty() {
        return Err(ReviewError::Field {
            field: "uid",
            message: "empty (the response could not be matched to the request)".into(),
        });
    }
    if matches!(request.operation, Operation::Create | Operation::Update) && object.is_none() {
        return Err(ReviewError::Field {
            field: "object",
            message: format!("missing for {:?}", request.operation),
        });
    }
    Ok(Review {
        api_version,
        request,
        object,
        request_json: std::sync::Arc::new(Value::Object(request_json)),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use palisade_core::tree::Tree as _;
    use serde_json::json;

    fn review(request: Value) -> Vec<u8> {
        serde_json::to_vec(&json!({"apiVersion": "admission.k8s.io/v1", "kind": "AdmissionReview", "request": request})).unwrap()
    }

    fn request() -> Value {
        json!({"uid": "u1", "kind": {"group": "", "version": "v1", "kind": "Pod"},
               "resource": {"group": "", "version": "v1", "resource": "pods"},
               "namespace": "shop", "operation": "CREATE", "userInfo": {"username": "alice"},
               "object": {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p", "x-unknown": 1}}})
    }

    #[test]
    fn keeps_the_object_as_sent() {
        let r = decode(&review(request())).unwrap();
        assert_eq!(r.request.uid, "u1");
        assert_eq!(r.namespace(), "shop");
        assert_eq!(
            r.object.as_ref().unwrap().at("/metadata/x-unknown"),
            Some(&json!(1))
        );
        assert!(r.old_object().is_none());
    }

    #[test]
    fn names_what_is_wrong() {
        assert_eq!(
            decode(br#"{"kind": "AdmissionReview"}"#)
                .err()
                .map(|e| e.to_string()),
            Some(
                "expected kind AdmissionReview of admission.k8s.io/v1 or v1beta1, got kind \"AdmissionReview\" with apiVersion (none)"
                    .to_string()
            )
        );
        assert!(matches!(decode(b"{"), Err(ReviewError::NotJson(_))));
        assert!(matches!(decode(b"[]"), Err(ReviewError::WrongKind { .. })));
        assert!(matches!(
            decode(br#"{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview"}"#),
            Err(ReviewError::NoRequest)
        ));
        let mut r = request();
        r["object"] = json!("text");
        assert!(matches!(
            decode(&review(r)),
            Err(ReviewError::Field {
                field: "object",
                ..
            })
        ));
        let mut r = request();
        r["object"] = Value::Null;
        assert!(matches!(
            decode(&review(r)),
            Err(ReviewError::Field {
                field: "object",
                ..
            })
        ));
        let mut r = request();
        r["operation"] = json!("PATCH");
        assert!(matches!(decode(&review(r)), Err(ReviewError::Malformed(_))));
        let mut r = request();
        r["uid"] = json!("");
        assert!(matches!(
            decode(&review(r)),
            Err(ReviewError::Field { field: "uid", .. })
        ));
    }
}
