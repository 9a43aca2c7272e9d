//! A ConstraintTemplate's `K8sNativeValidation` engine: CEL as Gatekeeper evaluates it
//! (the ValidatingAdmissionPolicy model), with the Kubernetes CEL libraries of kube-cel.
//!
//! Variables: `object`, `oldObject`, `request` (the AdmissionRequest), `params` (the
//! constraint, whose `spec.parameters` are the parameters), and `variables`: Gatekeeper's
//! `variables.anyObject` (the object, or the old one on DELETE) and `variables.params`, then
//! the template's own variables in order, each seeing those before it (one that cannot be
//! computed is left out, as Kubernetes evaluates variables only where they are used). `matchConditions` that
//! are false mean the template does not apply. A validation that is false is a violation, with
//! its `message`, its evaluated `messageExpression`, or the expression itself.

use std::collections::HashMap;
use std::sync::Arc;

use kube_cel::KubeCelExt;
use kube_cel::cel::extractors::Arguments;
use kube_cel::cel::objects::{Key, Map as CelMap};
use kube_cel::cel::{Context, Value as Cel};
use serde_json::Value;

use crate::cel_expression::{Expression, TimeLimit};
use crate::gatekeeper::PolicyError;
use crate::rego::Violation;

struct Validation {
    text: String,
    program: Expression,
    message: Option<String>,
    message_program: Option<Expression>,
    reason: Option<palisade_core::StatusReason>,
}

/// A compiled `K8sNativeValidation` source (or a ValidatingAdmissionPolicy's spec).
pub struct CelTemplate {
    name: String,
    variables: Vec<(String, Expression)>,
    match_conditions: Vec<(String, Expression)>,
    validations: Vec<Validation>,
    /// A ValidatingAdmissionPolicy's `auditAnnotations`: key and `valueExpression`.
    audit_annotations: Vec<(String, Expression)>,
    /// Whether an expression reads the `authorizer` variable.
    uses_authorizer: bool,
    /// Whether an expression reads who asks (`request.userInfo`).
    reads_user: bool,
    /// Whether an expression reads a namespace (`namespaceObject`, `request.namespace`,
    /// `object.metadata.namespace`).
    reads_namespace: bool,
}

/// What one evaluation found: the failed validations, and the audit annotations a
/// ValidatingAdmissionPolicy's `auditAnnotations` made (`policy-name/key`, value, keyed as
/// the API server keys them).
#[derive(Debug, Default, Clone, PartialEq)]
pub struct CelOutcome {
    pub violations: Vec<Violation>,
    pub annotations: Vec<(String, String)>,
}

/// The API server truncates an audit annotation's value to this many bytes.
const AUDIT_VALUE_BYTES: usize = 10 * 1024;

impl std::fmt::Debug for CelTemplate {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CelTemplate")
            .field("name", &self.name)
            .field("validations", &self.validations.len())
            .finish()
    }
}

impl Validation {
    /// The message when `messageExpression` is unset or gave none: `message`, else the
    /// expression that failed (both trimmed, as the API server writes them).
    fn fallback_message(&self) -> String {
        match &self.message {
            Some(message) => message.trim().to_string(),
            None => format!("failed expression: {}", self.text.trim()),
        }
    }
}

/// What a `messageExpression` gave, when the API server would use it: not empty, not only
/// spaces and without a line break (otherwise the message is made as if it were unset).
fn usable_message(text: &str) -> Option<String> {
    (!text.trim().is_empty() && !text.contains(['\n', '\r'])).then(|| text.to_string())
}

/// A validation's `reason`: one of the four the API server accepts, which refuses a policy
/// naming another.
fn validation_reason(
    template: &str,
    validation: &Value,
) -> Result<Option<palisade_core::StatusReason>, PolicyError> {
    let Some(reason) = validation.get("reason") else {
        return Ok(None);
    };
    reason
        .as_str()
        .and_then(palisade_core::StatusReason::parse)
        .map(Some)
        .ok_or_else(|| PolicyError::Invalid {
            object: template.to_string(),
            field: "validations[].reason",
            message: format!(
                "{reason} is not one of {}",
                palisade_core::StatusReason::ALL
                    .map(palisade_core::StatusReason::as_str)
                    .join(", ")
            ),
        })
}

fn text<'v>(value: &'v Value, key: &str) -> Option<&'v str> {
    value.get(key).and_then(Value::as_str)
}

/// A JSON value as CEL sees it (map keys as they are: Gatekeeper indexes labels by name).
fn to_cel(value: &Value) -> Cel {
    match value {
        Value::Null => Cel::Null,
        Value::Bool(b) => Cel::Bool(*b),
        Value::Number(n) => match (n.as_i64(), n.as_u64()) {
            (Some(i), _) => Cel::Int(i),
            (None, Some(u)) => Cel::UInt(u),
            _ => Cel::Float(n.as_f64().unwrap_or(f64::NAN)),
        },
        Value::String(s) => Cel::String(Arc::new(s.clone())),
        Value::Array(items) => Cel::List(Arc::new(items.iter().map(to_cel).collect())),
        Value::Object(map) => {
            let map: HashMap<Key, Cel> = map
                .iter()
                .map(|(k, v)| (Key::String(Arc::new(k.clone())), to_cel(v)))
                .collect();
            Cel::Map(CelMap { map: Arc::new(map) })
        }
    }
}

/// `dyn(x)`: the identity at run time.
fn dynamic(Arguments(args): Arguments) -> Result<Cel, kube_cel::cel::ExecutionError> {
    Ok(args.first().cloned().unwrap_or(Cel::Null))
}

/// The `request` variable: the admission request without its objects and uid, as the API
/// server builds it (`CreateAdmissionRequest`: "we don't provide access to them via
/// request"), with `dryRun` always set. A policy reads the objects as `object` and
/// `oldObject`.
fn request_variable(review: &Value) -> Cel {
    let Value::Object(fields) = review else {
        return to_cel(review);
    };
    let mut map: HashMap<Key, Cel> = fields
        .iter()
        .filter(|(k, _)| !matches!(k.as_str(), "object" | "oldObject" | "uid"))
        .map(|(k, v)| (Key::String(Arc::new(k.clone())), to_cel(v)))
        .collect();
    map.entry(Key::String(Arc::new("dryRun".into())))
        .or_insert(Cel::Bool(false));
    Cel::Map(CelMap { map: Arc::new(map) })
}

/// A request as a policy's CEL variables read it (`object`, `oldObject`, `request`, and
/// `namespaceObject` once a policy asks), converted once for every policy that judges it.
#[derive(Debug, Clone)]
pub struct CelRequest {
    review: Value,
    object: Cel,
    old_object: Cel,
    request: Cel,
    namespace: std::sync::OnceLock<Cel>,
}

impl CelRequest {
    /// `review`: the admission request (an `AdmissionRequest`, with `object` and `oldObject`).
    pub fn new(review: Value) -> CelRequest {
        CelRequest {
            object: review.get("object").map_or(Cel::Null, to_cel),
            old_object: review.get("oldObject").map_or(Cel::Null, to_cel),
            request: request_variable(&review),
            review,
            namespace: std::sync::OnceLock::new(),
        }
    }

    /// `namespaceObject`, made by `make` when a policy first asks: it is the same for every
    /// policy judging the request.
    pub fn namespace_object(&self, make: impl FnOnce() -> Value) -> Cel {
        self.namespace.get_or_init(|| to_cel(&make())).clone()
    }

    /// The admission request as given.
    pub fn review(&self) -> &Value {
        &self.review
    }
}

thread_local! {
    /// The functions a policy may call, made once per thread: making them costs about ten
    /// microseconds, which every evaluation of every policy paid.
    static FUNCTIONS: Context<'static> = functions();
}

/// A context with Kubernetes' CEL libraries, `dyn`, the compiled expressions' own functions
/// and the authorizer's (which read only an `authorizer` variable, set when a policy uses it).
fn functions() -> Context<'static> {
    let mut context = Context::default().with_all();
    // `dyn(x)` is the identity at run time (a type-checker hint in Kubernetes CEL).
    context.add_function("dyn", dynamic);
    crate::cel_expression::register(&mut context);
    crate::authorizer::register(&mut context);
    context
}

/// Most characters of an expression a diagnostic quotes.
const QUOTED_CHARS: usize = 200;

/// `expression` as a diagnostic quotes it: whole, or its first [`QUOTED_CHARS`] characters
/// and how long it is (a hostile policy's expression may be megabytes long).
fn quoted(expression: &str) -> std::borrow::Cow<'_, str> {
    match expression.char_indices().nth(QUOTED_CHARS) {
        None => expression.into(),
        Some((end, _)) => format!(
            "{}... ({} characters)",
            &expression[..end],
            expression.chars().count()
        )
        .into(),
    }
}

fn cel_map(entries: &[(String, Cel)]) -> Cel {
    let map: HashMap<Key, Cel> = entries
        .iter()
        .map(|(k, v)| (Key::String(Arc::new(k.clone())), v.clone()))
        .collect();
    Cel::Map(CelMap { map: Arc::new(map) })
}

impl CelTemplate {
    /// Compiles a template's `K8sNativeValidation` source.
    pub fn compile(template: &str, source: &Value) -> Result<CelTemplate, PolicyError> {
        let failed = |message| PolicyError::Cel {
            template: template.to_string(),
            message,
        };
        crate::contained(
            "the CEL evaluator",
            || Self::compile_uncontained(template, source),
            failed,
        )
    }

    fn compile_uncontained(template: &str, source: &Value) -> Result<CelTemplate, PolicyError> {
        let error = |message: String| PolicyError::Cel {
            template: template.to_string(),
            message,
        };
        let uses_authorizer = std::cell::Cell::new(false);
        let reads_user = std::cell::Cell::new(false);
        let reads_namespace = std::cell::Cell::new(false);
        let compile = |expression: &str| {
            if expression.contains("authorizer") {
                uses_authorizer.set(true);
            }
            if expression.contains("userInfo") {
                reads_user.set(true);
            }
            if crate::reads_namespace(expression) {
                reads_namespace.set(true);
            }
            Expression::compile(expression)
                .map_err(|e| error(format!("`{}`: {e}", quoted(expression))))
        };
        let named = |key: &str| -> Result<Vec<(String, Expression)>, PolicyError> {
            source
                .get(key)
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .map(|v| {
                    let name = text(v, "name").unwrap_or("").to_string();
                    Ok((name, compile(text(v, "expression").unwrap_or("true"))?))
                })
                .collect()
        };
        let mut validations = Vec::new();
        for v in source
            .get("validations")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            let expression = text(v, "expression").unwrap_or("true");
            validations.push(Validation {
                text: expression.to_string(),
                program: compile(expression)?,
                message: text(v, "message").map(str::to_string),
                message_program: text(v, "messageExpression").map(compile).transpose()?,
                reason: validation_reason(template, v)?,
            });
        }
        let mut audit_annotations: Vec<(String, Expression)> = Vec::new();
        for a in source
            .get("auditAnnotations")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            let key = text(a, "key").unwrap_or("");
            // The API server accepts a qualified name's name part as the key.
            if !palisade_k8s::names::is_qualified_name_part(key) {
                return Err(error(format!(
                    "auditAnnotations key `{key}` is not a qualified name of at most 63 characters"
                )));
            }
            if audit_annotations.iter().any(|(k, _)| k == key) {
                return Err(error(format!("auditAnnotations key `{key}` is repeated")));
            }
            let expression = text(a, "valueExpression")
                .ok_or_else(|| error(format!("auditAnnotations `{key}` has no valueExpression")))?;
            audit_annotations.push((key.to_string(), compile(expression)?));
        }
        Ok(CelTemplate {
            name: template.to_string(),
            variables: named("variables")?,
            match_conditions: named("matchConditions")?,
            validations,
            audit_annotations,
            uses_authorizer: uses_authorizer.get(),
            reads_user: reads_user.get(),
            reads_namespace: reads_namespace.get(),
        })
    }

    /// Whether the verdict depends on the requesting user's permissions (`authorizer`).
    pub fn uses_authorizer(&self) -> bool {
        self.uses_authorizer
    }

    /// Whether the verdict depends on who asks (`request.userInfo`).
    pub fn reads_user(&self) -> bool {
        self.reads_user
    }

    /// Whether an expression reads a namespace.
    pub fn reads_namespace(&self) -> bool {
        self.reads_namespace
    }

    /// Whether `matchConditions` decide which requests are judged.
    pub fn has_match_conditions(&self) -> bool {
        !self.match_conditions.is_empty()
    }

    /// The violations for one review, as Gatekeeper evaluates the template: `params` is the
    /// constraint, `variables.anyObject` and `variables.params` are predefined.
    pub fn violations(
        &self,
        review: &Value,
        parameters: &Value,
    ) -> Result<Vec<Violation>, PolicyError> {
        let request = CelRequest::new(review.clone());
        // The object, converted once: `anyObject` is `object`, or `oldObject` without one.
        let any = match &request.object {
            Cel::Null => request.old_object.clone(),
            object => object.clone(),
        };
        Ok(self
            .evaluate(
                &request,
                &serde_json::json!({"spec": {"parameters": parameters}}),
                &Cel::Null,
                vec![
                    ("anyObject".to_string(), any),
                    ("params".to_string(), to_cel(parameters)),
                ],
                None,
            )?
            .violations)
    }

    /// One review evaluated as the API server evaluates a ValidatingAdmissionPolicy: `params`
    /// is the parameter object (null without one), `namespaceObject` the namespace, and
    /// `authorizer` answers for the requesting user (without one, `authorizer` is undefined).
    pub fn vap_evaluate(
        &self,
        review: &Value,
        params: &Value,
        namespace: &Value,
        authorizer: Option<crate::authorizer::Authorizer>,
    ) -> Result<CelOutcome, PolicyError> {
        let request = CelRequest::new(review.clone());
        self.vap_evaluate_request(&request, params, &to_cel(namespace), authorizer)
    }

    /// [`CelTemplate::vap_evaluate`] for a request already converted (one judged by many
    /// policies is converted once).
    pub fn vap_evaluate_request(
        &self,
        request: &CelRequest,
        params: &Value,
        namespace: &Cel,
        authorizer: Option<crate::authorizer::Authorizer>,
    ) -> Result<CelOutcome, PolicyError> {
        self.evaluate(request, params, namespace, Vec::new(), authorizer)
    }

    /// One evaluation, stopped at the time limit (an error, whatever it found before).
    fn evaluate(
        &self,
        request: &CelRequest,
        params: &Value,
        namespace: &Cel,
        variables: Vec<(String, Cel)>,
        authorizer: Option<crate::authorizer::Authorizer>,
    ) -> Result<CelOutcome, PolicyError> {
        let limit = TimeLimit::start();
        let failed = |message| PolicyError::Cel {
            template: self.name.clone(),
            message,
        };
        let outcome = crate::contained(
            "the CEL evaluator",
            || self.evaluate_unlimited(request, params, namespace, variables, authorizer),
            failed,
        );
        if limit.expired() {
            return Err(PolicyError::Cel {
                template: self.name.clone(),
                message: crate::rego::over_time(),
            });
        }
        outcome
    }

    fn evaluate_unlimited(
        &self,
        request: &CelRequest,
        params: &Value,
        namespace: &Cel,
        variables: Vec<(String, Cel)>,
        authorizer: Option<crate::authorizer::Authorizer>,
    ) -> Result<CelOutcome, PolicyError> {
        let error = |message: String| PolicyError::Cel {
            template: self.name.clone(),
            message,
        };
        FUNCTIONS.with(|functions| {
            let mut context = functions.new_inner_scope();
            context.add_variable_from_value("object", request.object.clone());
            context.add_variable_from_value("oldObject", request.old_object.clone());
            context.add_variable_from_value("request", request.request.clone());
            context.add_variable_from_value("params", to_cel(params));
            context.add_variable_from_value("namespaceObject", namespace.clone());
            context.add_variable_from_value("variables", cel_map(&variables));
            if let Some(authorizer) = authorizer {
                context.add_variable_from_value(
                    "authorizer",
                    crate::authorizer::variable(authorizer, &request.review),
                );
            }
            self.judge(&mut context, variables).map_err(error)
        })
    }

    /// The variables, match conditions, validations and audit annotations, in `context`.
    fn judge(
        &self,
        context: &mut Context,
        mut variables: Vec<(String, Cel)>,
    ) -> Result<CelOutcome, String> {
        // Kubernetes evaluates variables lazily: one that cannot be computed is an error only
        // where it is used. It is left out, so a use fails with "no such key".
        for (name, program) in &self.variables {
            if let Ok(value) = program.execute(context) {
                variables.push((name.clone(), value));
                context.add_variable_from_value("variables", cel_map(&variables));
            }
        }
        // Any condition false skips the policy, even when another could not be evaluated;
        // otherwise the first error is the evaluation's (the API server's order).
        let mut failed = None;
        for (name, condition) in &self.match_conditions {
            match condition.execute(context) {
                Ok(Cel::Bool(true)) => {}
                Ok(Cel::Bool(false)) => return Ok(CelOutcome::default()),
                Ok(other) => {
                    failed.get_or_insert_with(|| format!("matchCondition {name} gave {other:?}"));
                }
                Err(e) => {
                    failed.get_or_insert_with(|| format!("matchCondition {name}: {e}"));
                }
            }
        }
        if let Some(failed) = failed {
            return Err(failed);
        }
        let mut out = Vec::new();
        for validation in &self.validations {
            let passed = match validation.program.execute(context) {
                Ok(Cel::Bool(b)) => b,
                Ok(other) => {
                    return Err(format!("`{}` gave {other:?}", quoted(&validation.text)));
                }
                Err(e) => return Err(format!("`{}`: {e}", quoted(&validation.text))),
            };
            if passed {
                continue;
            }
            let message = validation
                .message_program
                .as_ref()
                .and_then(|program| match program.execute(context) {
                    Ok(Cel::String(s)) => usable_message(&s),
                    _ => None,
                })
                .unwrap_or_else(|| validation.fallback_message());
            out.push(Violation {
                msg: message,
                details: Value::Null,
                reason: validation.reason,
            });
        }
        Ok(CelOutcome {
            violations: out,
            annotations: self.annotations(context)?,
        })
    }

    /// The audit annotations: a string value (truncated as the API server truncates it), none
    /// for null or an empty string; anything else is an error.
    fn annotations(&self, context: &Context) -> Result<Vec<(String, String)>, String> {
        let mut out = Vec::new();
        for (key, program) in &self.audit_annotations {
            match program.execute(context) {
                Ok(Cel::String(value)) if value.is_empty() => {}
                Ok(Cel::String(value)) => {
                    let mut end = value.len().min(AUDIT_VALUE_BYTES);
                    while !value.is_char_boundary(end) {
                        end -= 1;
                    }
                    out.push((format!("{}/{key}", self.name), value[..end].to_string()));
                }
                Ok(Cel::Null) => {}
                Ok(other) => {
                    return Err(format!(
                        "auditAnnotations {key}: valueExpression must give a string or null, not {other:?}"
                    ));
                }
                Err(e) => return Err(format!("auditAnnotations {key}: {e}")),
            }
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    /// Match conditions as the API server reads them: any false skips the policy, even
    /// when another one could not be evaluated; an error with none false fails it.
    #[test]
    fn a_false_match_condition_skips_the_policy_whatever_the_others_give() {
        let outcome = |conditions: &[&str]| {
            let conditions: Vec<Value> = conditions
                .iter()
                .enumerate()
                .map(|(i, e)| json!({"name": format!("c{i}"), "expression": e}))
                .collect();
            let template = CelTemplate::compile(
                "conditions",
                &json!({"matchConditions": conditions,
                    "validations": [{"expression": "false", "message": "denied"}]}),
            )
            .unwrap();
            let review = json!({"object": {"metadata": {"name": "x"}}});
            template
                .vap_evaluate(&review, &Value::Null, &Value::Null, None)
                .map(|o| o.violations.len())
                .map_err(|e| e.to_string())
        };
        let error = "object.missing.field == 'x'";
        assert_eq!(outcome(&["true"]), Ok(1));
        assert_eq!(outcome(&[error, "false"]), Ok(0));
        assert_eq!(outcome(&["false", error]), Ok(0));
        assert_eq!(outcome(&["'not a bool'", "false"]), Ok(0));
        let failed = outcome(&["true", error]).unwrap_err();
        assert!(failed.contains("matchCondition c1"), "{failed}");
    }

    /// Expressions that would make a value of any size, or panicked, are evaluation errors
    /// (which `failurePolicy` decides), reached in bounded time and memory: a huge range, a
    /// doubling through variables by `+`, `strings.quote`, `replace` or `join`, a format
    /// precision Rust cannot format, and iterations past the cost budget.
    #[test]
    fn expressions_that_would_make_huge_values_fail_within_bounds() {
        let doubling = |step: &str| {
            let mut variables = vec![json!({"name": "v0", "expression": "'\\\\\\\\'"})];
            for i in 1..=40 {
                let previous = format!("variables.v{}", i - 1);
                variables.push(
                    json!({"name": format!("v{i}"), "expression": step.replace("V", &previous)}),
                );
            }
            json!({"variables": variables, "validations": [{"expression": "size(variables.v40) > 0"}]})
        };
        let single = |expression: &str| json!({"validations": [{"expression": expression}]});
        // A variable that cannot be computed is left out (Kubernetes computes variables
        // where they are used), so the doubling ones fail where `v40` is read.
        let (exceeded, unread) = ("cost limit exceeded", "v40");
        for (what, source, says) in [
            (
                "range",
                single("lists.range(2000000000).size() > 0"),
                exceeded,
            ),
            ("plus", doubling("V + V"), unread),
            ("quote", doubling("strings.quote(V)"), unread),
            ("replace", doubling("V.replace('', V)"), unread),
            ("join", doubling("[V, V].join(V)"), unread),
            ("format", single("'%.70000f'.format([1.0]) != ''"), exceeded),
            (
                "loops",
                single("lists.range(5000).all(i, lists.range(5000).all(j, i + j >= 0))"),
                "limit",
            ),
        ] {
            let template = CelTemplate::compile(what, &source).unwrap();
            let started = std::time::Instant::now();
            let outcome =
                template.vap_evaluate(&json!({"object": {}}), &Value::Null, &Value::Null, None);
            let error = outcome.map(|_| ()).expect_err(what).to_string();
            assert!(error.contains(says), "{what}: {error}");
            assert!(
                started.elapsed() < std::time::Duration::from_secs(30),
                "{what}"
            );
        }
        // What stays within bounds gives its answer.
        for expression in [
            "'abc'.replace('b', 'x') == 'axc' && ['a', 'b'].join('-') == 'a-b'",
            "strings.quote('a') == '\"a\"' && lists.range(3) == [0, 1, 2]",
            "'%.2f'.format([1.5]) == '1.50' && 'a' + 'b' == 'ab' && [1] + [2] == [1, 2]",
            "1 + 2 == 3 && duration('1s') + duration('1s') == duration('2s')",
            "[1, 2, 3].map(x, x * 2) == [2, 4, 6] && [1, 2, 3].filter(x, x > 1).size() == 2",
        ] {
            let template = CelTemplate::compile("within", &single(expression)).unwrap();
            let outcome = template
                .vap_evaluate(&json!({"object": {}}), &Value::Null, &Value::Null, None)
                .unwrap();
            assert!(outcome.violations.is_empty(), "{expression}");
        }
    }

    /// An expression Kubernetes refuses for its depth is refused when compiled, and the
    /// diagnostic quotes the start of it, not all of it.
    #[test]
    fn an_expression_too_deep_is_refused_and_quoted_short() {
        let expression = format!("object{} == 1", ".b".repeat(40_000));
        let error = CelTemplate::compile(
            "deep",
            &json!({"validations": [{"expression": expression}]}),
        )
        .map(|_| ())
        .expect_err("refused")
        .to_string();
        assert!(
            error.contains("recursion limit exceeded: 250"),
            "{}",
            &error[..300]
        );
        assert!(
            error.contains("... (80011 characters)"),
            "{}",
            &error[..300]
        );
        assert!(error.len() < 600, "{} bytes", error.len());
        assert_eq!(quoted("short"), "short");
    }

    /// `request` is the admission request as the API server gives it to a policy: without
    /// the objects (read as `object` and `oldObject`) and uid, with `dryRun` always set.
    #[test]
    fn the_request_variable_holds_no_objects() {
        let holds = |expression: &str| {
            let template = CelTemplate::compile(
                "request",
                &json!({"validations": [{"expression": expression}]}),
            )
            .unwrap();
            let review = json!({"uid": "u-1", "operation": "CREATE", "name": "x",
                "userInfo": {"username": "alice"},
                "object": {"metadata": {"name": "x"}}, "oldObject": null});
            template
                .vap_evaluate(&review, &Value::Null, &Value::Null, None)
                .map(|o| o.violations.is_empty())
                .map_err(|e| e.to_string())
        };
        for expression in [
            "!has(request.object) && !has(request.oldObject) && !has(request.uid)",
            "request.operation == 'CREATE' && request.userInfo.username == 'alice'",
            "request.dryRun == false",
            "object.metadata.name == request.name && oldObject == null",
        ] {
            assert_eq!(holds(expression), Ok(true), "{expression}");
        }
    }

    /// A validation's message as the API server makes it: `messageExpression` when it gives
    /// a usable string; otherwise (an error, another type, empty, only spaces, a line break)
    /// as if it were unset: `message` trimmed, else "failed expression: " and the expression.
    #[test]
    fn a_message_expression_that_gives_no_usable_message_is_as_if_unset() {
        let messages = |message: Option<&str>, expression: &str| {
            let mut validation = json!({"expression": " object.spec.replicas <= 1 ",
                "messageExpression": expression});
            if let Some(message) = message {
                validation["message"] = json!(message);
            }
            let template =
                CelTemplate::compile("replicas", &json!({"validations": [validation]})).unwrap();
            let review = json!({"object": {"spec": {"replicas": 3}}});
            template
                .vap_evaluate(&review, &Value::Null, &Value::Null, None)
                .unwrap()
                .violations
                .into_iter()
                .map(|v| v.msg)
                .collect::<Vec<_>>()
        };
        let failed = "failed expression: object.spec.replicas <= 1";
        assert_eq!(
            messages(None, "'replicas: ' + string(object.spec.replicas)"),
            ["replicas: 3"]
        );
        for unusable in [
            "''",
            "'   '",
            "'two\\nlines'",
            "object.spec.replicas",
            "object.missing",
        ] {
            assert_eq!(messages(None, unusable), [failed], "{unusable}");
            assert_eq!(
                messages(Some("  at most one replica "), unusable),
                ["at most one replica"],
                "{unusable}"
            );
        }
    }

    /// The Kubernetes CEL libraries a policy may call (quantity, IP and CIDR, URL, regex,
    /// strings, lists, sets, format, semver, base64, math, optionals), each on an example
    /// whose answer their documentation gives: every one is true.
    #[test]
    fn kubernetes_cel_libraries_answer_as_documented() {
        let exprs = [
            "quantity('1Gi').isGreaterThan(quantity('512Mi'))",
            "quantity('200M').asInteger() == 200000000",
            "quantity('1.5').isInteger() == false",
            "quantity('50k').add(quantity('20k')) == quantity('70k')",
            "isQuantity('1Gi')",
            "ip('10.0.0.1').family() == 4",
            "cidr('10.0.0.0/8').containsIP(ip('10.1.2.3'))",
            "cidr('192.168.0.0/24').prefixLength() == 24",
            "isIP('::1')",
            "ip.isCanonical('127.0.0.1')",
            "isCIDR('10.0.0.0/8')",
            "url('https://example.com:80/').getHost() == 'example.com:80'",
            "url('https://example.com/path').getEscapedPath() == '/path'",
            "isURL('https://example.com')",
            "'abc'.matches('^a')",
            "'a,b'.split(',') == ['a', 'b']",
            "'Hello'.lowerAscii() == 'hello'",
            "'hello'.upperAscii() == 'HELLO'",
            "' x '.trim() == 'x'",
            "'abc'.indexOf('b') == 1",
            "'abcb'.lastIndexOf('b') == 3",
            "'abc'.substring(1) == 'bc'",
            "'a'.replace('a', 'b') == 'b'",
            "['a', 'b'].join('-') == 'a-b'",
            "[1, 2, 3].isSorted()",
            "[1, 2, 3].sum() == 6",
            "[3, 1].min() == 1",
            "[3, 1].max() == 3",
            "[1, 2, 2].indexOf(2) == 1",
            "[1, 2, 2].lastIndexOf(2) == 2",
            "sets.contains([1, 2, 3], [1, 2])",
            "sets.equivalent([1, 2], [2, 1])",
            "sets.intersects([1], [1, 2])",
            "'abc'.find('b') == 'b'",
            "'a1b2'.findAll('[0-9]') == ['1', '2']",
            "format.dns1123Label().validate('my-name').hasValue() == false",
            "format.named('dns1123Subdomain').hasValue()",
            "!format.named('dns1123Label').value().validate('my-name').hasValue()",
            "format.named('dns1123Label').value().validate('My_Name').hasValue()",
            "!format.named('no-such-format').hasValue()",
            "semver('1.2.3').isLessThan(semver('1.3.0'))",
            "isSemver('1.2.3')",
            "semver('1.2.3').major() == 1",
            "base64.encode(b'hi') == 'aGk='",
            "strings.quote('a\"b') == '\"a\\\\\"b\"'",
            "'%s-%d'.format(['a', 1]) == 'a-1'",
            "math.greatest(1, 2) == 2",
            "optional.of(1).hasValue()",
            "[1, 2].all(x, x > 0)",
            "{'a': 1}.exists(k, k == 'a')",
            "duration('1h') > duration('30m')",
            "timestamp('2026-01-01T00:00:00Z').getFullYear() == 2026",
            "dyn(1) == 1",
            "'a'.charAt(0) == 'a'",
            "'abc'.reverse() == 'cba'",
            "lists.range(3) == [0, 1, 2]",
            "[1, [2, 3]].flatten() == [1, 2, 3]",
            "[3, 1, 2].sort() == [1, 2, 3]",
            "[1, 1, 2].distinct() == [1, 2]",
            "type(1) == int",
            "type('a') == string && type(b'a') == bytes && type(1u) == uint",
            "type(1.5) == double && type(true) == bool && type(null) == null_type",
            "type([1]) == list && type({'a': 1}) == map && type(int) == type",
            "type(duration('1s')) == google.protobuf.Duration",
            "type(timestamp('2026-01-01T00:00:00Z')) == google.protobuf.Timestamp",
            "type(1) != string",
            "duration('1h') + timestamp('2026-01-01T00:00:00Z') == timestamp('2026-01-01T01:00:00Z')",
        ];
        let mut failures = Vec::new();
        for e in exprs {
            let source = json!({"validations": [{"expression": e}]});
            match CelTemplate::compile("probe", &source) {
                Err(err) => failures.push(format!("COMPILE {e}: {err}")),
                Ok(t) => {
                    match t.vap_evaluate(&json!({"object": {}}), &Value::Null, &Value::Null, None) {
                        Ok(o) if o.violations.is_empty() => {}
                        Ok(o) => failures.push(format!("FALSE {e}: {:?}", o.violations)),
                        Err(err) => failures.push(format!("ERROR {e}: {err}")),
                    }
                }
            }
        }
        assert!(failures.is_empty(), "{}", failures.join("\n"));
    }
}
