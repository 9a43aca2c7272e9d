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
use kube_cel::cel::{Context, Program, Value as Cel};
use serde_json::Value;

use crate::gatekeeper::PolicyError;
use crate::rego::Violation;

struct Validation {
    text: String,
    program: Program,
    message: Option<String>,
    message_program: Option<Program>,
}

/// A compiled `K8sNativeValidation` source.
pub struct CelTemplate {
    name: String,
    variables: Vec<(String, Program)>,
    match_conditions: Vec<(String, Program)>,
    validations: Vec<Validation>,
}

impl std::fmt::Debug for CelTemplate {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CelTemplate")
            .field("name", &self.name)
            .field("validations", &self.validations.len())
            .finish()
    }
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
        let error = |message: String| PolicyError::Rego {
            template: template.to_string(),
            message: format!("CEL: {message}"),
        };
        let compile = |expression: &str| {
            Program::compile(expression).map_err(|e| error(format!("`{expression}`: {e}")))
        };
        let named = |key: &str| -> Result<Vec<(String, Program)>, PolicyError> {
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
            });
        }
        Ok(CelTemplate {
            name: template.to_string(),
            variables: named("variables")?,
            match_conditions: named("matchConditions")?,
            validations,
        })
    }

    /// The violations for one review, as Gatekeeper evaluates the template: `params` is the
    /// constraint, `variables.anyObject` and `variables.params` are predefined.
    pub fn violations(
        &self,
        review: &Value,
        parameters: &Value,
    ) -> Result<Vec<Violation>, PolicyError> {
        let object = review.get("object").cloned().unwrap_or(Value::Null);
        let old = review.get("oldObject").cloned().unwrap_or(Value::Null);
        let any = if object.is_null() { &old } else { &object };
        self.evaluate(
            review,
            &serde_json::json!({"spec": {"parameters": parameters}}),
            &Value::Null,
            vec![
                ("anyObject".to_string(), to_cel(any)),
                ("params".to_string(), to_cel(parameters)),
            ],
        )
    }

    /// The violations for one review, as the API server evaluates a ValidatingAdmissionPolicy:
    /// `params` is the parameter object (null without one), `namespaceObject` the namespace.
    pub fn vap_violations(
        &self,
        review: &Value,
        params: &Value,
        namespace: &Value,
    ) -> Result<Vec<Violation>, PolicyError> {
        self.evaluate(review, params, namespace, Vec::new())
    }

    fn evaluate(
        &self,
        review: &Value,
        params: &Value,
        namespace: &Value,
        mut variables: Vec<(String, Cel)>,
    ) -> Result<Vec<Violation>, PolicyError> {
        let error = |message: String| PolicyError::Rego {
            template: self.name.clone(),
            message: format!("CEL: {message}"),
        };
        let object = review.get("object").cloned().unwrap_or(Value::Null);
        let old = review.get("oldObject").cloned().unwrap_or(Value::Null);
        let mut context = Context::default().with_all();
        // `dyn(x)` is the identity at run time (a type-checker hint in Kubernetes CEL).
        context.add_function("dyn", dynamic);
        context.add_variable_from_value("object", to_cel(&object));
        context.add_variable_from_value("oldObject", to_cel(&old));
        context.add_variable_from_value("request", to_cel(review));
        context.add_variable_from_value("params", to_cel(params));
        context.add_variable_from_value("namespaceObject", to_cel(namespace));
        context.add_variable_from_value("variables", cel_map(&variables));
        // Kubernetes evaluates variables lazily: one that cannot be computed is an error only
        // where it is used. It is left out, so a use fails with "no such key".
        for (name, program) in &self.variables {
            if let Ok(value) = program.execute(&context) {
                variables.push((name.clone(), value));
                context.add_variable_from_value("variables", cel_map(&variables));
            }
        }
        for (name, condition) in &self.match_conditions {
            match condition.execute(&context) {
                Ok(Cel::Bool(true)) => {}
                Ok(Cel::Bool(false)) => return Ok(Vec::new()),
                Ok(other) => return Err(error(format!("matchCondition {name} gave {other:?}"))),
                Err(e) => return Err(error(format!("matchCondition {name}: {e}"))),
            }
        }
        let mut out = Vec::new();
        for validation in &self.validations {
            let passed = match validation.program.execute(&context) {
                Ok(Cel::Bool(b)) => b,
                Ok(other) => {
                    return Err(error(format!("`{}` gave {other:?}", validation.text)));
                }
                Err(e) => return Err(error(format!("`{}`: {e}", validation.text))),
            };
            if passed {
                continue;
            }
            let message = match &validation.message_program {
                Some(program) => match program.execute(&context) {
                    Ok(Cel::String(s)) => s.to_string(),
                    _ => validation.message.clone().unwrap_or_default(),
                },
                None => validation
                    .message
                    .clone()
                    .unwrap_or_else(|| format!("failed expression: {}", validation.text)),
            };
            out.push(Violation {
                msg: message,
                details: Value::Null,
            });
        }
        Ok(out)
    }
}
