//! Gatekeeper policy test suites (`suite.yaml`, the format `gator verify` runs): for each test,
//! a template and a constraint; for each case, an object (or an AdmissionReview), optional
//! inventory objects, and assertions on the number of violations, optionally of those whose
//! message matches a regular expression (unanchored, as gator's). A test may name an
//! ExpansionTemplate (`expansion`): each object is then also judged as the resources it would
//! create, their violations aggregated with its own.

use std::path::{Path, PathBuf};

use palisade_core::tree::Tree as _;

use crate::expansion::{ExpansionTemplate, Expansions};
use palisade_inventory::{Limits, load_text};
use palisade_k8s::resources::Scopes;
use serde_json::{Map, Value};

pub use crate::engine::{Compiled, EngineChoice};
use crate::gatekeeper::{Constraint, Template};
use crate::rego::{Violation, inventory_of, review_of};

/// The outcome of one case.
#[derive(Debug, Clone, PartialEq)]
pub struct CaseResult {
    pub suite: String,
    pub test: String,
    pub case: String,
    pub passed: bool,
    /// Whether the case was run: not when the engine asked for has no code in the template
    /// (`--engine cel` on a template without `K8sNativeValidation`), which is neither a pass
    /// nor a failure of the policy.
    pub assessed: bool,
    /// Whether the suite said not to run it (`skip: true`): not assessed either, by choice.
    pub skipped: bool,
    /// The violations found (messages).
    pub violations: Vec<String>,
    /// Why the case failed or could not run.
    pub problem: Option<String>,
}

/// A file of a suite that could not be used.
#[derive(Debug, thiserror::Error)]
pub enum SuiteError {
    #[error("{path}")]
    Io {
        path: String,
        #[source]
        source: std::io::Error,
    },
    #[error("{path}: {message}")]
    Invalid { path: String, message: String },
}

/// The objects of a YAML or JSON file.
fn objects(path: &Path) -> Result<Vec<Value>, SuiteError> {
    let display = path.display().to_string();
    let text = std::fs::read_to_string(path).map_err(|source| SuiteError::Io {
        path: display.clone(),
        source,
    })?;
    let loaded = load_text(&display, &text, &Limits::default());
    if let Some(error) = loaded
        .diagnostics
        .iter()
        .find(|d| d.level == palisade_core::DiagnosticLevel::Error)
    {
        return Err(SuiteError::Invalid {
            path: display,
            message: error.message.clone(),
        });
    }
    Ok(loaded
        .inventory
        .objects
        .into_iter()
        .map(|o| o.value)
        .collect())
}

fn one(path: &Path) -> Result<Value, SuiteError> {
    objects(path)?
        .into_iter()
        .next()
        .ok_or_else(|| SuiteError::Invalid {
            path: path.display().to_string(),
            message: "no object in the file".into(),
        })
}

/// An assertion: `violations: yes|no|N`, with an optional message substring.
#[derive(Debug, Clone, PartialEq)]
enum Expected {
    Some,
    None,
    Exactly(usize),
}

fn expected(value: &Value) -> Option<Expected> {
    match value {
        Value::Bool(true) => Some(Expected::Some),
        Value::Bool(false) => Some(Expected::None),
        Value::String(s) if s == "yes" => Some(Expected::Some),
        Value::String(s) if s == "no" => Some(Expected::None),
        Value::Number(n) => n.as_u64().map(|n| Expected::Exactly(n as usize)),
        Value::String(s) => s.parse().ok().map(Expected::Exactly),
        _ => None,
    }
}

/// The violations of `template` and `constraint` for `object` with `inventory` (empty when
/// the constraint does not match the object).
pub fn evaluate(
    template: &Compiled,
    constraint: &Constraint,
    object: &Value,
    inventory: &[Value],
    scopes: &Scopes,
) -> Result<Vec<Violation>, crate::gatekeeper::PolicyError> {
    let review = review_of(object);
    let target = review
        .get("object")
        .filter(|o| !o.is_null())
        .or_else(|| review.get("oldObject"))
        .cloned()
        .unwrap_or(Value::Null);
    let api_version = target
        .get("apiVersion")
        .and_then(Value::as_str)
        .unwrap_or("");
    let group = palisade_core::object::api_group(api_version);
    let kind = target.get("kind").and_then(Value::as_str).unwrap_or("");
    let namespaced = scopes.is_namespaced(group, kind);
    let namespace = target
        .at("/metadata/namespace")
        .and_then(Value::as_str)
        .or_else(|| review.get("namespace").and_then(Value::as_str));
    let namespace_labels: Option<Map<String, Value>> = namespace.and_then(|ns| {
        inventory
            .iter()
            .find(|o| {
                o.get("kind").and_then(Value::as_str) == Some("Namespace")
                    && o.at("/metadata/name").and_then(Value::as_str) == Some(ns)
            })
            .map(|o| {
                o.at("/metadata/labels")
                    .and_then(Value::as_object)
                    .cloned()
                    .unwrap_or_default()
            })
    });
    match constraint
        .matcher
        .applies(&target, namespaced, namespace_labels.as_ref())
    {
        crate::gatekeeper::Applies::Yes => {}
        crate::gatekeeper::Applies::No => return Ok(Vec::new()),
        // gator refuses such a case too: the suite must give the Namespace.
        crate::gatekeeper::Applies::Unknown(why) => {
            return Err(crate::gatekeeper::PolicyError::Invalid {
                object: format!("{} {}", constraint.kind, constraint.name),
                field: "spec.match.namespaceSelector",
                message: why,
            });
        }
    }
    template.violations(
        &review,
        &constraint.parameters,
        &inventory_of(inventory.iter()),
    )
}

/// Runs one `suite.yaml` with `engine`. `skip: true` on the suite, a test or a case skips
/// it (reported as not assessed), and a test with `invalid: true` passes when its
/// constraint is refused by its template's schema, as in gator.
pub fn run_suite(path: &Path, engine: EngineChoice) -> Result<Vec<CaseResult>, SuiteError> {
    let suite = one(path)?;
    let suite_name = suite
        .at("/metadata/name")
        .and_then(Value::as_str)
        .unwrap_or("suite")
        .to_string();
    let mut results = Vec::new();
    for test in suite
        .get("tests")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        let test_name = test
            .get("name")
            .and_then(Value::as_str)
            .unwrap_or("?")
            .to_string();
        let mut result = |case: String| CaseResult {
            suite: suite_name.clone(),
            test: test_name.clone(),
            case,
            passed: false,
            assessed: true,
            skipped: false,
            violations: Vec::new(),
            problem: None,
        };
        let skipped = skips(&suite) || skips(test);
        results.extend(run_test(path, test, engine, skipped, &mut result)?);
    }
    Ok(results)
}

/// A case the suite says not to run.
fn skip(case: CaseResult) -> CaseResult {
    CaseResult {
        assessed: false,
        skipped: true,
        problem: Some("skipped (skip: true)".into()),
        ..case
    }
}

/// Whether a suite, test or case says `skip: true`.
fn skips(value: &Value) -> bool {
    value.get("skip").and_then(Value::as_bool).unwrap_or(false)
}

/// Runs one test of the suite at `path`; `result` makes a case's result.
fn run_test(
    path: &Path,
    test: &Value,
    engine: EngineChoice,
    skipped: bool,
    result: &mut dyn FnMut(String) -> CaseResult,
) -> Result<Vec<CaseResult>, SuiteError> {
    let dir = path.parent().unwrap_or(Path::new("."));
    let cases: Vec<&Value> = test
        .get("cases")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .collect();
    let name_of = |case: &Value| {
        case.get("name")
            .and_then(Value::as_str)
            .unwrap_or("?")
            .to_string()
    };
    if skipped {
        return Ok(cases
            .iter()
            .map(|case| skip(result(name_of(case))))
            .collect());
    }
    let file = |key: &str| -> Result<PathBuf, SuiteError> {
        test.get(key)
            .and_then(Value::as_str)
            .map(|f| dir.join(f))
            .ok_or_else(|| SuiteError::Invalid {
                path: path.display().to_string(),
                message: format!("test {}: no {key}", name_of(test)),
            })
    };
    let template = one(&file("template")?)?;
    let constraint = one(&file("constraint")?)?;
    let parsed = Template::from_value(&template);
    if test.get("invalid").and_then(Value::as_bool) == Some(true) {
        return Ok(vec![invalid_constraint(
            parsed.as_ref(),
            &constraint,
            result("(invalid constraint)".into()),
        )]);
    }
    let assessed = !matches!((&parsed, engine), (Ok(t), EngineChoice::Cel) if t.cel.is_none());
    let expansion = match test.get("expansion") {
        None => Ok(None),
        Some(_) => objects(&file("expansion")?)?
            .iter()
            .map(ExpansionTemplate::from_value)
            .collect::<Result<Vec<_>, _>>()
            .and_then(|templates| match Expansions::new(templates) {
                (expansions, cycles) if cycles.is_empty() => Ok(Some(expansions)),
                (_, mut cycles) => Err(cycles.swap_remove(0).1),
            }),
    };
    let compiled: Result<Judge, String> = parsed
        .and_then(|t| {
            let constraint = Constraint::of_template(&constraint, &t)?;
            Ok((Compiled::compile(&t, engine)?, constraint, expansion?))
        })
        .map_err(|e| e.to_string());
    let scopes = Scopes::new(std::iter::empty(), std::iter::empty());
    let mut results = Vec::new();
    for case in cases {
        let mut out = CaseResult {
            assessed,
            ..result(name_of(case))
        };
        if skips(case) {
            results.push(skip(out));
            continue;
        }
        let outcome = compiled
            .as_ref()
            .map_err(Clone::clone)
            .and_then(|compiled| run_case(dir, case, compiled, &scopes));
        match outcome {
            Ok((passed, violations, problem)) => {
                out.passed = passed;
                out.violations = violations;
                out.problem = problem;
            }
            Err(problem) => out.problem = Some(problem),
        }
        results.push(out);
    }
    Ok(results)
}

/// A test that expects its constraint to be refused by the template's schema (`invalid:
/// true`): it passes when it is, and fails when the constraint is accepted or the template
/// cannot be read.
fn invalid_constraint(
    template: Result<&Template, &crate::gatekeeper::PolicyError>,
    constraint: &Value,
    mut out: CaseResult,
) -> CaseResult {
    match template.map(|t| Constraint::of_template(constraint, t)) {
        Err(e) => out.problem = Some(e.to_string()),
        Ok(Ok(_)) => {
            out.problem = Some(
                "the constraint follows its template's schema, but the test expects it refused"
                    .into(),
            );
        }
        Ok(Err(crate::gatekeeper::PolicyError::Schema { .. })) => {
            out.passed = true;
        }
        Ok(Err(e)) => {
            out.problem = Some(format!("refused for another reason than the schema: {e}"))
        }
    }
    out
}

/// A test's compiled template, its constraint and its ExpansionTemplates.
type Judge = (Compiled, Constraint, Option<Expansions>);

/// The violations of `object` and, with `expansion`, of the resources it would create
/// (their messages prefixed as Gatekeeper prefixes them), as `match.source` selects.
pub fn evaluate_expanded(
    (template, constraint, expansion): &Judge,
    object: &Value,
    inventory: &[Value],
    scopes: &Scopes,
) -> Result<Vec<Violation>, crate::gatekeeper::PolicyError> {
    let mut found = if !constraint.matcher.source_allows(false) {
        Vec::new()
    } else {
        evaluate(template, constraint, object, inventory, scopes)?
    };
    let review = review_of(object);
    let workload = review.get("object").filter(|o| !o.is_null());
    let Some((expansions, workload)) = expansion.as_ref().zip(workload) else {
        return Ok(found);
    };
    if !constraint.matcher.source_allows(true) {
        return Ok(found);
    }
    let namespace = workload
        .at("/metadata/namespace")
        .and_then(Value::as_str)
        .or_else(|| review.get("namespace").and_then(Value::as_str))
        .unwrap_or("default");
    for resultant in expansions.resultants(workload, namespace, None) {
        // gator refuses a workload without the source field, as the webhook does.
        let mock = resultant
            .mock
            .map_err(|message| crate::gatekeeper::PolicyError::Invalid {
                object: format!("ExpansionTemplate {}", resultant.template.name),
                field: "spec.templateSource",
                message,
            })?;
        let mock_review = serde_json::json!({"kind": "AdmissionReview",
            "request": resultant.template.mock_review(&review, mock)});
        for mut violation in evaluate(template, constraint, &mock_review, inventory, scopes)? {
            violation.msg = crate::expansion::implied(&resultant.template.name, &violation.msg);
            found.push(violation);
        }
    }
    Ok(found)
}

/// One case: whether its assertions hold, the violation messages, and what failed.
fn run_case(
    dir: &Path,
    case: &Value,
    judge: &Judge,
    scopes: &Scopes,
) -> Result<(bool, Vec<String>, Option<String>), String> {
    let object_file = case
        .get("object")
        .and_then(Value::as_str)
        .ok_or("the case names no object")?;
    let object = one(&dir.join(object_file)).map_err(|e| e.to_string())?;
    let mut inventory = Vec::new();
    for file in case
        .get("inventory")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        let file = file.as_str().ok_or("inventory entries are file names")?;
        inventory.extend(objects(&dir.join(file)).map_err(|e| e.to_string())?);
    }
    // A policy's message or error may quote the object (a Secret's values): what is printed
    // is redacted as a scan's findings are, while the assertions read the messages as they are.
    let redactor = redactor_of(&object, &inventory);
    let redacted = |text: &str| redactor.redact(text).into_owned();
    let violations = evaluate_expanded(judge, &object, &inventory, scopes)
        .map_err(|e| redacted(&e.to_string()))?;
    let messages: Vec<String> = violations.iter().map(|v| v.msg.clone()).collect();
    let mut failed = Vec::new();
    for assertion in case
        .get("assertions")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        // Without `violations`, gator asserts at least one (with the message, if given).
        let want = match assertion.get("violations") {
            None => Expected::Some,
            Some(value) => expected(value).ok_or("`violations` is not yes, no or a number")?,
        };
        let filter = assertion.get("message").and_then(Value::as_str);
        let pattern = filter
            .filter(|f| !f.is_empty())
            .map(regex::Regex::new)
            .transpose()
            .map_err(|e| format!("`message` is not a regular expression: {e}"))?;
        let count = messages
            .iter()
            .filter(|m| pattern.as_ref().is_none_or(|p| p.is_match(m)))
            .count();
        let ok = match want {
            Expected::Some => count > 0,
            Expected::None => count == 0,
            Expected::Exactly(n) => count == n,
        };
        if !ok {
            failed.push(format!(
                "expected {} violations{}, got {count}",
                match want {
                    Expected::Some => "some".to_string(),
                    Expected::None => "no".to_string(),
                    Expected::Exactly(n) => n.to_string(),
                },
                filter.map(|f| format!(" with `{f}`")).unwrap_or_default()
            ));
        }
    }
    let problem = (!failed.is_empty()).then(|| failed.join("; "));
    let printed = messages.iter().map(|m| redacted(m)).collect();
    Ok((failed.is_empty(), printed, problem))
}

/// What may not be printed of a case's object (and, for an AdmissionReview, of the objects
/// it carries) and its inventory.
fn redactor_of(object: &Value, inventory: &[Value]) -> palisade_core::redact::Redactor {
    let mut sensitive = palisade_core::redact::Sensitive::new();
    sensitive.add_object(object);
    for carried in ["/request/object", "/request/oldObject"] {
        if let Some(value) = object.at(carried).filter(|v| v.is_object()) {
            sensitive.add_object(value);
        }
    }
    for value in inventory {
        sensitive.add_object(value);
    }
    sensitive.redactor()
}

/// Every `suite.yaml` under the paths (files are taken as suites).
pub fn find_suites(paths: &[PathBuf]) -> Vec<PathBuf> {
    crate::files_under(paths, |name| name == "suite.yaml")
}
