//! The `authorizer` variable of ValidatingAdmissionPolicy CEL, answered as the requesting
//! user against the cluster's RBAC (palisade-rbac decides as the API server's RBAC authorizer
//! does; members of `system:masters` may do everything, as the API server's privileged-group
//! authorizer lets them):
//!
//! - `authorizer.group(g).resource(r).namespace(ns).name(n).subresource(s).check(verb)`,
//!   `authorizer.path(p).check(verb)`, `authorizer.requestResource.check(verb)` (the resource
//!   of the request being admitted) and `authorizer.serviceAccount(ns, name)` (the same checks
//!   as that service account);
//! - a decision's `allowed()`, `reason()`, `errored()` and `error()`.
//!
//! Only RBAC is known: a cluster that also authorizes with webhooks (a cloud's IAM) may allow
//! more than the answer says. A cluster whose inventory holds no binding at all (manifests, or
//! a read that could not list RBAC) has no RBAC to answer from: a check is then an evaluation
//! error, which the policy's `failurePolicy` decides, never a made-up "denied".

use std::collections::HashMap;
use std::sync::Arc;

use kube_cel::cel::extractors::{Arguments, This};
use kube_cel::cel::objects::{Key, Map as CelMap, Opaque};
use kube_cel::cel::{Context, ExecutionError, ResolveResult, Value as Cel};
use palisade_core::tree::Tree as _;
use palisade_rbac::{Identity, Policy, Request};
use serde_json::Value;

/// Who asks, and the RBAC they are judged by.
pub struct Authorizer {
    rbac: Arc<Policy>,
    identity: Identity,
}

impl std::fmt::Debug for Authorizer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Authorizer")
            .field("user", &self.identity.user)
            .finish()
    }
}

impl Authorizer {
    /// The authorizer of the user of `review` (an AdmissionRequest), or `None` when the review
    /// names no user (an object read from a file has no requester).
    pub fn for_review(rbac: Arc<Policy>, review: &Value) -> Option<Authorizer> {
        let user = review.at("/userInfo/username")?.as_str()?.to_string();
        let groups = review
            .at("/userInfo/groups")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(Value::as_str)
            .map(str::to_string)
            .collect();
        Some(Authorizer {
            rbac,
            identity: Identity { user, groups },
        })
    }

    fn decide(&self, request: &Request) -> Decision {
        if self.identity.groups.iter().any(|g| g == "system:masters") {
            return Decision {
                allowed: true,
                reason: "member of system:masters".into(),
            };
        }
        match self.rbac.authorize(&self.identity, request).first() {
            Some(grant) => Decision {
                allowed: true,
                reason: format!("RBAC: allowed by {}", self.rbac.evidence(grant)),
            },
            None => Decision {
                allowed: false,
                reason: String::new(),
            },
        }
    }
}

/// A check being built: the authorizer and the request so far.
#[derive(Debug, Clone)]
struct Check {
    authorizer: Arc<Authorizer>,
    request: Request,
}

impl PartialEq for Check {
    fn eq(&self, other: &Self) -> bool {
        Arc::ptr_eq(&self.authorizer, &other.authorizer) && self.request == other.request
    }
}
impl Eq for Check {}

impl Opaque for Check {
    fn runtime_type_name(&self) -> &str {
        "kubernetes.authorization.ResourceCheck"
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
struct Decision {
    allowed: bool,
    reason: String,
}

impl Opaque for Decision {
    fn runtime_type_name(&self) -> &str {
        "kubernetes.authorization.Decision"
    }
}

/// The key under which the `authorizer` map keeps its check of nothing yet.
const ROOT: &str = "__authorizer";

fn map(entries: Vec<(&str, Cel)>) -> Cel {
    let map: HashMap<Key, Cel> = entries
        .into_iter()
        .map(|(k, v)| (Key::String(Arc::new(k.to_string())), v))
        .collect();
    Cel::Map(CelMap { map: Arc::new(map) })
}

/// The `authorizer` variable for `authorizer` and the request `review` is for.
pub fn variable(authorizer: Authorizer, review: &Value) -> Cel {
    let authorizer = Arc::new(authorizer);
    let text = |pointer: &str| review.at(pointer).and_then(Value::as_str);
    let mut request = Request {
        api_group: text("/resource/group").unwrap_or("").into(),
        resource: text("/resource/resource").unwrap_or("").into(),
        subresource: text("/subResource").unwrap_or("").into(),
        namespace: text("/namespace").filter(|n| !n.is_empty()).map(Into::into),
        ..Request::default()
    };
    request.name = text("/name").filter(|n| !n.is_empty()).map(Into::into);
    root(authorizer.clone(), Some(request))
}

fn root(authorizer: Arc<Authorizer>, request_resource: Option<Request>) -> Cel {
    let mut entries = vec![(
        ROOT,
        Cel::Opaque(Arc::new(Check {
            authorizer: authorizer.clone(),
            request: Request::default(),
        })),
    )];
    if let Some(request) = request_resource {
        entries.push((
            "requestResource",
            Cel::Opaque(Arc::new(Check {
                authorizer,
                request,
            })),
        ));
    }
    map(entries)
}

fn error(function: &str, message: &str) -> ExecutionError {
    ExecutionError::function_error(function, message)
}

/// The check `this` is (or starts, for the `authorizer` map).
fn check_of(function: &str, this: &Cel) -> Result<Check, ExecutionError> {
    let opaque = match this {
        Cel::Opaque(o) => o.clone(),
        Cel::Map(m) => match m.map.get(&Key::String(Arc::new(ROOT.to_string()))) {
            Some(Cel::Opaque(o)) => o.clone(),
            _ => return Err(error(function, "expected an authorizer")),
        },
        _ => return Err(error(function, "expected an authorizer")),
    };
    opaque
        .downcast_ref::<Check>()
        .cloned()
        .ok_or_else(|| error(function, "expected an authorizer"))
}

fn with(
    function: &'static str,
    this: &Cel,
    set: impl FnOnce(&mut Request),
) -> Result<Cel, ExecutionError> {
    let mut check = check_of(function, this)?;
    set(&mut check.request);
    Ok(Cel::Opaque(Arc::new(check)))
}

fn group(This(this): This<Cel>, value: Arc<String>) -> ResolveResult {
    with("group", &this, |r| r.api_group = value.to_string())
}

fn resource(This(this): This<Cel>, value: Arc<String>) -> ResolveResult {
    with("resource", &this, |r| r.resource = value.to_string())
}

fn subresource(This(this): This<Cel>, value: Arc<String>) -> ResolveResult {
    with("subresource", &this, |r| r.subresource = value.to_string())
}

fn namespace(This(this): This<Cel>, value: Arc<String>) -> ResolveResult {
    with("namespace", &this, |r| {
        r.namespace = (!value.is_empty()).then(|| value.to_string());
    })
}

fn name(This(this): This<Cel>, value: Arc<String>) -> ResolveResult {
    with("name", &this, |r| {
        r.name = (!value.is_empty()).then(|| value.to_string());
    })
}

fn path(This(this): This<Cel>, value: Arc<String>) -> ResolveResult {
    with("path", &this, |r| {
        r.non_resource_url = Some(value.to_string());
    })
}

fn service_account(This(this): This<Cel>, Arguments(args): Arguments) -> ResolveResult {
    let check = check_of("serviceAccount", &this)?;
    let [Cel::String(ns), Cel::String(sa)] = args.as_slice() else {
        return Err(error("serviceAccount", "expects a namespace and a name"));
    };
    let identity = palisade_rbac::Subject::service_account(ns.as_str(), sa.as_str()).identity();
    let authorizer = Arc::new(Authorizer {
        rbac: check.authorizer.rbac.clone(),
        identity,
    });
    Ok(root(authorizer, None))
}

fn check(This(this): This<Cel>, verb: Arc<String>) -> ResolveResult {
    let mut check = check_of("check", &this)?;
    if check.request.non_resource_url.is_none() && check.request.resource.is_empty() {
        return Err(error("check", "no resource or path to check"));
    }
    if check.authorizer.rbac.bindings.is_empty() {
        return Err(error(
            "check",
            "the cluster's RBAC is not known (the inventory holds no RoleBinding or ClusterRoleBinding)",
        ));
    }
    check.request.verb = verb.to_string();
    Ok(Cel::Opaque(Arc::new(
        check.authorizer.decide(&check.request),
    )))
}

fn decision_of(function: &str, this: &Cel) -> Result<Decision, ExecutionError> {
    match this {
        Cel::Opaque(o) => o.downcast_ref::<Decision>().cloned(),
        _ => None,
    }
    .ok_or_else(|| error(function, "expected an authorization decision"))
}

fn allowed(This(this): This<Cel>) -> ResolveResult {
    Ok(Cel::Bool(decision_of("allowed", &this)?.allowed))
}

fn reason(This(this): This<Cel>) -> ResolveResult {
    Ok(Cel::String(Arc::new(decision_of("reason", &this)?.reason)))
}

/// RBAC answers without errors.
fn errored(This(this): This<Cel>) -> ResolveResult {
    decision_of("errored", &this)?;
    Ok(Cel::Bool(false))
}

fn error_text(This(this): This<Cel>) -> ResolveResult {
    decision_of("error", &this)?;
    Ok(Cel::String(Arc::new(String::new())))
}

/// Adds the authorizer's functions to `context`.
pub fn register(context: &mut Context) {
    context.add_function("group", group);
    context.add_function("resource", resource);
    context.add_function("subresource", subresource);
    context.add_function("namespace", namespace);
    context.add_function("name", name);
    context.add_function("path", path);
    context.add_function("serviceAccount", service_account);
    context.add_function("check", check);
    context.add_function("allowed", allowed);
    context.add_function("reason", reason);
    context.add_function("errored", errored);
    context.add_function("error", error_text);
}
