//! A ConstraintTemplate's Rego, compiled once with regorus and evaluated per object under
//! Gatekeeper's input contract: `input.review` (an AdmissionRequest), `input.parameters`
//! (the constraint's), and `data.inventory` (the synced objects:
//! `cluster[apiVersion][kind][name]`, `namespace[ns][apiVersion][kind][name]`).
//!
//! Templates are Rego v0 unless their source says `version: v1`; a module written for the
//! other syntax is retried with it, so both work as Gatekeeper accepts them.
//!
//! A template is evaluated on regorus' virtual machine (its Rego compiled to RVM bytecode,
//! about ten times faster than the interpreter on the gatekeeper-library templates) when it
//! compiles for it; the interpreter answers when it does not, and whenever the machine reports
//! an error, so the interpreter's verdict stands wherever the two could differ.

use palisade_core::tree::Tree as _;
use serde_json::{Map, Value, json};

use crate::gatekeeper::{PolicyError, Template};

/// One violation: its message and details.
#[derive(Debug, Clone, PartialEq)]
pub struct Violation {
    pub msg: String,
    pub details: Value,
    /// The reason a CEL validation gives its denial (`validations[].reason`), when it names
    /// one; Rego violations have none.
    pub reason: Option<palisade_core::StatusReason>,
}

/// A template's violation rule compiled for regorus' virtual machine, with machines that are
/// free again (a machine resets its evaluation state before each run).
struct Machine {
    policy: regorus::CompiledPolicy,
    program: std::sync::Arc<regorus::rvm::Program>,
    idle: std::sync::Mutex<Vec<regorus::rvm::RegoVM>>,
}

impl Machine {
    fn compile(engine: &regorus::Engine, query: &str) -> Option<Machine> {
        let policy = engine.clone().compile_with_entrypoint(&query.into()).ok()?;
        let program =
            regorus::languages::rego::compiler::Compiler::compile_from_policy(&policy, &[query])
                .ok()?;
        let machine = Machine {
            policy,
            program,
            idle: std::sync::Mutex::new(Vec::new()),
        };
        // A program the machine cannot load with the empty inventory is left to the
        // interpreter.
        let vm = machine.new_vm()?;
        machine.release(vm);
        Some(machine)
    }

    fn new_vm(&self) -> Option<regorus::rvm::RegoVM> {
        let mut vm = regorus::rvm::RegoVM::new_with_policy(self.policy.clone());
        vm.load_program(self.program.clone());
        // A builtin given what it cannot take is undefined, as in OPA (and so Gatekeeper),
        // whose strict builtin errors are off by default. Strict, the machine took `not
        // startswith(7, "x")` as false where OPA takes it as true.
        vm.set_strict_builtin_errors(false);
        vm.set_execution_timer_config(Some(time_limit()));
        vm.set_data(regorus::Value::from(
            json!({"inventory": empty_inventory()}),
        ))
        .ok()?;
        Some(vm)
    }

    fn release(&self, vm: regorus::rvm::RegoVM) {
        let mut idle = self
            .idle
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if idle.len() < IDLE_ENGINES {
            idle.push(vm);
        }
    }

    /// The violation rule's value, or `None` when the machine fails (the interpreter then
    /// answers); an error when the evaluation ran past [`EVALUATION_TIME_LIMIT`], which the
    /// interpreter would too.
    fn evaluate(
        &self,
        input: regorus::Value,
        inventory: Option<&Value>,
    ) -> Result<Option<regorus::Value>, String> {
        let vm = self
            .idle
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .pop();
        let Some(mut vm) = vm.or_else(|| self.new_vm()) else {
            return Ok(None);
        };
        if let Some(inventory) = inventory
            && vm
                .set_data(regorus::Value::from(json!({"inventory": inventory})))
                .is_err()
        {
            return Ok(None);
        }
        vm.set_input(input);
        let result = match vm.execute_entry_point_by_index(0) {
            Ok(value) => Some(value),
            Err(regorus::rvm::vm::VmError::TimeLimitExceeded { .. }) => {
                return Err(over_time());
            }
            Err(_) => None,
        };
        // Added data stays in a machine: one given an inventory is not reused.
        if inventory.is_none() && result.is_some() {
            self.release(vm);
        }
        Ok(result)
    }
}

/// A compiled template.
pub struct RegoTemplate {
    engine: regorus::Engine,
    /// The same template on regorus' virtual machine, when it compiles for it.
    machine: Option<Machine>,
    /// Engines that evaluated with the empty inventory and are free again: regorus clears
    /// an engine's evaluation state before each evaluation, so one is reused rather than
    /// cloned from `engine` per evaluation.
    idle: std::sync::Mutex<Vec<regorus::Engine>>,
    query: String,
    pub name: String,
}

/// Free engines kept per template (one per concurrent evaluation is the useful most).
const IDLE_ENGINES: usize = 16;

/// The deepest `[` and `{` may nest in a template's Rego (see
/// `rego_rewrite::bracket_depth`): 16 deep, regorus parses a module in about a second.
const MAX_BRACKET_DEPTH: usize = 16;

/// The longest one evaluation of one template may run (wall-clock time), on the machine and
/// on the interpreter. Rego always ends, but a few nested iterations can take hours; past
/// this the evaluation fails, and the object is not assessed by that policy (a scan is
/// incomplete; at admission `on_error` decides), rather than a scan or the webhook stalling.
/// Gatekeeper's webhook gives a whole request 3 seconds by default.
pub const EVALUATION_TIME_LIMIT: std::time::Duration = std::time::Duration::from_secs(2);

/// The limit as regorus takes it: the clock is read every 1,000 units of work.
fn time_limit() -> regorus::utils::limits::ExecutionTimerConfig {
    regorus::utils::limits::ExecutionTimerConfig {
        limit: EVALUATION_TIME_LIMIT,
        check_interval: std::num::NonZeroU32::new(1_000).expect("not zero"),
    }
}

impl std::fmt::Debug for RegoTemplate {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RegoTemplate")
            .field("name", &self.name)
            .field("query", &self.query)
            .finish()
    }
}

/// The template's modules (its Rego, then its libs) as regorus is given them: with what
/// regorus reads otherwise than OPA rewritten ([`crate::rego_rewrite`]), or an error when
/// their brackets nest deeper than regorus parses in reasonable time.
fn modules(template: &Template) -> Result<Vec<String>, String> {
    std::iter::once(&template.rego)
        .chain(&template.libs)
        .map(|source| {
            let read = crate::rego_rewrite::read(source);
            if read.depth > MAX_BRACKET_DEPTH {
                return Err(format!(
                    "brackets (`[`, `{{`) nest {} deep; at most {MAX_BRACKET_DEPTH} are read, as \
                     regorus' parser takes time exponential in the depth",
                    read.depth
                ));
            }
            if let Some(problem) = read.crashing_format {
                return Err(problem);
            }
            Ok(read.rewritten.unwrap_or_else(|| source.clone()))
        })
        .collect()
}

/// The template's `modules` in one engine, in v0 syntax or v1.
fn compile(
    template: &Template,
    modules: &[String],
    v0: bool,
) -> Result<(regorus::Engine, String), String> {
    let mut engine = regorus::Engine::new();
    engine.set_rego_v0(v0);
    // OPA's default, which regorus' interpreter does not share (see `Machine::new_vm`).
    engine.set_strict_builtin_errors(false);
    // `print` output is kept in the engine and dropped after each evaluation, never written
    // to standard error: a policy's text would break the webhook's JSON log lines, and a
    // policy printing the object would put a Secret's values where Palisade redacts them.
    // (The machine does not know `print`: a template using it runs on the interpreter.)
    engine.set_gather_prints(true);
    engine.set_execution_timer_config(time_limit());
    let (rego, libs) = modules.split_first().ok_or("no Rego module")?;
    let package = engine
        .add_policy(format!("{}.rego", template.name), rego.clone())
        .map_err(|e| e.to_string())?;
    for (i, lib) in libs.iter().enumerate() {
        engine
            .add_policy(format!("{}-lib{i}.rego", template.name), lib.clone())
            .map_err(|e| e.to_string())?;
    }
    Ok((engine, package))
}

/// The `data.inventory` of a run without cluster objects, loaded in every compiled engine.
fn empty_inventory() -> Value {
    json!({"cluster": {}, "namespace": {}})
}

/// The engine with the empty inventory loaded and its modules analysed: regorus analyses
/// (schedules, hoists) on the first evaluation after policies or data change, so doing it
/// once here keeps it out of every clone's evaluation. A query that names no rule analyses
/// without evaluating any (a policy may be arbitrarily slow, even without input); a problem
/// is left for evaluation to report.
fn prepared(mut engine: regorus::Engine) -> regorus::Engine {
    let _ = engine.add_data(regorus::Value::from(
        json!({"inventory": empty_inventory()}),
    ));
    let _ = engine.eval_query("true".to_string(), false);
    engine
}

impl RegoTemplate {
    pub fn compile(template: &Template) -> Result<RegoTemplate, PolicyError> {
        let failed = |message| PolicyError::Rego {
            template: template.name.clone(),
            message,
        };
        crate::contained("regorus", || Self::compile_uncontained(template), failed)
    }

    fn compile_uncontained(template: &Template) -> Result<RegoTemplate, PolicyError> {
        let modules = modules(template).map_err(|message| PolicyError::Rego {
            template: template.name.clone(),
            message,
        })?;
        let first = compile(template, &modules, !template.rego_v1);
        let (engine, package) = match first {
            Ok(compiled) => compiled,
            Err(first_error) => {
                compile(template, &modules, template.rego_v1).map_err(|_| PolicyError::Rego {
                    template: template.name.clone(),
                    message: first_error,
                })?
            }
        };
        let query = format!("{package}.violation");
        let engine = prepared(engine);
        let machine = Machine::compile(&engine, &query);
        Ok(RegoTemplate {
            engine,
            machine,
            idle: std::sync::Mutex::new(Vec::new()),
            query,
            name: template.name.clone(),
        })
    }

    /// Whether the template runs on regorus' virtual machine (else on its interpreter).
    pub fn runs_on_machine(&self) -> bool {
        self.machine.is_some()
    }

    /// [`RegoTemplate::violations`] from the interpreter alone (tests compare the two).
    pub fn interpreted_violations(
        &self,
        review: &Value,
        parameters: &Value,
        inventory: &Value,
    ) -> Result<Vec<Violation>, PolicyError> {
        let result = self.interpret(
            rego_input(to_rego(review), to_rego(parameters)),
            inventory,
            !is_empty_inventory(inventory),
        )?;
        violations_in(&result).map_err(|message| PolicyError::Rego {
            template: self.name.clone(),
            message,
        })
    }

    /// The violations for one review.
    pub fn violations(
        &self,
        review: &Value,
        parameters: &Value,
        inventory: &Value,
    ) -> Result<Vec<Violation>, PolicyError> {
        self.violations_of(to_rego(review), to_rego(parameters), inventory)
    }

    /// [`RegoTemplate::violations`] for a review and parameters already in regorus' form (a
    /// review judged by many constraints is converted once).
    pub fn violations_of(
        &self,
        review: regorus::Value,
        parameters: regorus::Value,
        inventory: &Value,
    ) -> Result<Vec<Violation>, PolicyError> {
        let failed = |message| PolicyError::Rego {
            template: self.name.clone(),
            message,
        };
        crate::contained(
            "regorus",
            || self.violations_uncontained(review, parameters, inventory),
            failed,
        )
    }

    fn violations_uncontained(
        &self,
        review: regorus::Value,
        parameters: regorus::Value,
        inventory: &Value,
    ) -> Result<Vec<Violation>, PolicyError> {
        let error = |message: String| PolicyError::Rego {
            template: self.name.clone(),
            message,
        };
        let with_inventory = !is_empty_inventory(inventory);
        let input = rego_input(review, parameters);
        let machine = match &self.machine {
            Some(machine) => machine
                .evaluate(input.clone(), with_inventory.then_some(inventory))
                .map_err(error)?,
            None => None,
        };
        let result = match machine {
            Some(result) => result,
            None => self.interpret(input, inventory, with_inventory)?,
        };
        violations_in(&result).map_err(error)
    }

    /// The violation rule's value from regorus' interpreter.
    fn interpret(
        &self,
        input: regorus::Value,
        inventory: &Value,
        with_inventory: bool,
    ) -> Result<regorus::Value, PolicyError> {
        let error = |message: String| PolicyError::Rego {
            template: self.name.clone(),
            message,
        };
        let idle = || {
            self.idle
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner)
        };
        let mut engine = match with_inventory {
            // Added data stays in an engine: an engine given an inventory is not reused.
            true => self.engine.clone(),
            false => idle().pop().unwrap_or_else(|| self.engine.clone()),
        };
        engine.set_input(input);
        // The empty inventory is loaded already; adding data makes regorus analyse again, so
        // only a real inventory is added.
        if with_inventory {
            engine
                .add_data(regorus::Value::from(json!({"inventory": inventory})))
                .map_err(|e| error(e.to_string()))?;
        }
        let evaluated = engine.eval_rule(self.query.clone());
        let _ = engine.take_prints();
        let over = matches!(&evaluated, Err(e) if e.downcast_ref::<regorus::LimitError>().is_some_and(|e| matches!(e, regorus::LimitError::TimeLimitExceeded { .. })));
        if over {
            return Err(error(over_time()));
        }
        if !with_inventory {
            let mut idle = idle();
            if idle.len() < IDLE_ENGINES {
                idle.push(engine);
            }
        }
        evaluated.map_err(|e| error(one_line(&e.to_string())))
    }
}

/// The error of an evaluation stopped at [`EVALUATION_TIME_LIMIT`].
pub(crate) fn over_time() -> String {
    format!(
        "the evaluation ran past its time limit of {} s and was stopped",
        EVALUATION_TIME_LIMIT.as_secs()
    )
}

/// An evaluation error on one line, as diagnostics and admission responses carry it:
/// regorus' report (`--> file:line:col`, the source line, `error: ...`) becomes its error and
/// place.
fn one_line(report: &str) -> String {
    let lines: Vec<&str> = report.lines().map(str::trim).collect();
    let error = lines.iter().rev().find_map(|l| l.strip_prefix("error:"));
    let place = lines.iter().find_map(|l| l.strip_prefix("-->"));
    match (error, place) {
        (Some(error), Some(place)) => format!("{} (at {})", error.trim(), place.trim()),
        (Some(error), None) => error.trim().to_string(),
        _ => lines
            .into_iter()
            .filter(|l| !l.is_empty())
            .collect::<Vec<_>>()
            .join(" "),
    }
}

/// Gatekeeper's input: `{"review": ..., "parameters": ...}`.
fn rego_input(review: regorus::Value, parameters: regorus::Value) -> regorus::Value {
    let input: std::collections::BTreeMap<regorus::Value, regorus::Value> = [
        (regorus::Value::from("review"), review),
        (regorus::Value::from("parameters"), parameters),
    ]
    .into_iter()
    .collect();
    regorus::Value::from(input)
}

/// The violations in the value of a template's `violation` rule.
fn violations_in(result: &regorus::Value) -> Result<Vec<Violation>, String> {
    let items: Vec<&regorus::Value> = match result {
        regorus::Value::Set(set) => set.iter_sorted().collect(),
        regorus::Value::Array(items) => items.iter().collect(),
        regorus::Value::Null | regorus::Value::Undefined => Vec::new(),
        regorus::Value::Object(map) if map.is_empty() => Vec::new(),
        other => {
            let text = other.to_json_str().unwrap_or_default();
            return Err(format!("violation is not a set: {text}"));
        }
    };
    Ok(items
        .into_iter()
        .map(|v| {
            let field = |name: &str| match v {
                regorus::Value::Object(map) => map.get(&regorus::Value::from(name)).cloned(),
                _ => None,
            };
            Violation {
                msg: match field("msg") {
                    Some(regorus::Value::String(msg)) => msg.to_string(),
                    _ => String::new(),
                },
                details: field("details")
                    .and_then(|d| serde_json::to_value(&d).ok())
                    .unwrap_or(Value::Null),
                reason: None,
            }
        })
        .collect())
}

fn is_empty_inventory(inventory: &Value) -> bool {
    let empty = |key: &str| {
        inventory
            .get(key)
            .and_then(Value::as_object)
            .is_some_and(Map::is_empty)
    };
    inventory.as_object().is_some_and(|m| m.len() == 2) && empty("cluster") && empty("namespace")
}

/// A JSON value as regorus holds it, converted in one walk (regorus' `From` goes through
/// serde's deserializer, and would need a copy of the value first).
pub fn to_rego(value: &Value) -> regorus::Value {
    match value {
        Value::Null => regorus::Value::Null,
        Value::Bool(b) => regorus::Value::from(*b),
        Value::Number(n) => match (n.as_i64(), n.as_u64()) {
            (Some(i), _) => regorus::Value::from(i),
            (None, Some(u)) => regorus::Value::from(u),
            _ => regorus::Value::from(n.as_f64().unwrap_or(f64::NAN)),
        },
        Value::String(s) => regorus::Value::from(s.as_str()),
        Value::Array(items) => regorus::Value::from(items.iter().map(to_rego).collect::<Vec<_>>()),
        Value::Object(map) => regorus::Value::from(
            map.iter()
                .map(|(k, v)| (regorus::Value::from(k.as_str()), to_rego(v)))
                .collect::<std::collections::BTreeMap<_, _>>(),
        ),
    }
}

/// [`review_in`] in regorus' form, without copying the object or the request first.
pub fn rego_review_in(object: &palisade_inventory::Object) -> regorus::Value {
    let Some(request) = &object.request else {
        return to_rego(&review_of(&object.value));
    };
    let mut map: std::collections::BTreeMap<regorus::Value, regorus::Value> = request
        .as_object()
        .into_iter()
        .flatten()
        .filter(|(k, _)| k.as_str() != "object")
        .map(|(k, v)| (regorus::Value::from(k.as_str()), to_rego(v)))
        .collect();
    map.insert(regorus::Value::from("object"), to_rego(&object.value));
    regorus::Value::from(map)
}

/// The AdmissionRequest of an inventory object: the request it arrived in at admission (with
/// the object as judged), else one made for it (`review_of`).
pub fn review_in(object: &palisade_inventory::Object) -> Value {
    match &object.request {
        Some(request) => {
            let mut review = Value::clone(request);
            if let Some(map) = review.as_object_mut() {
                map.insert("object".into(), object.value.clone());
            }
            review
        }
        None => review_of(&object.value),
    }
}

/// The AdmissionRequest Gatekeeper gives for an object: an AdmissionReview's request as it
/// is (a DELETE's `object` being the deleted `oldObject`, as Gatekeeper and gator set it), or
/// a CREATE of the object.
pub fn review_of(object: &Value) -> Value {
    if object.get("kind").and_then(Value::as_str) == Some("AdmissionReview")
        && let Some(request) = object.get("request")
    {
        let mut request = request.clone();
        if request.get("kind").is_none()
            && let Some(obj) = request.get("object").or_else(|| request.get("oldObject"))
        {
            request["kind"] = gvk(obj);
        }
        if request.get("operation").and_then(Value::as_str) == Some("DELETE")
            && let Some(old) = request.get("oldObject").filter(|o| o.is_object()).cloned()
        {
            request["object"] = old;
        }
        return request;
    }
    let metadata = object.get("metadata").cloned().unwrap_or(Value::Null);
    let mut review = json!({
        "kind": gvk(object),
        "operation": "CREATE",
        "object": object,
        "name": metadata.get("name").cloned().unwrap_or(Value::Null),
        "userInfo": {"username": "palisade", "groups": ["system:authenticated"]},
        "dryRun": false,
    });
    if let Some(ns) = metadata.get("namespace") {
        review["namespace"] = ns.clone();
    }
    review
}

fn gvk(object: &Value) -> Value {
    let api_version = object
        .get("apiVersion")
        .and_then(Value::as_str)
        .unwrap_or("");
    let (group, version) = api_version.rsplit_once('/').unwrap_or(("", api_version));
    json!({
        "group": group,
        "version": version,
        "kind": object.get("kind").cloned().unwrap_or(Value::Null),
    })
}

/// The object under `key` of `map`, made (or replacing a non-object) when needed.
fn child<'m>(map: &'m mut Map<String, Value>, key: &str) -> &'m mut Map<String, Value> {
    let entry = map
        .entry(key.to_string())
        .or_insert_with(|| Value::Object(Map::new()));
    if !entry.is_object() {
        *entry = Value::Object(Map::new());
    }
    match entry {
        Value::Object(map) => map,
        _ => unreachable!("made an object above"),
    }
}

/// `data.inventory` from objects, as Gatekeeper's sync makes it.
pub fn inventory_of<'v>(objects: impl Iterator<Item = &'v Value>) -> Value {
    let mut cluster = Map::new();
    let mut namespaced = Map::new();
    for object in objects {
        let text = |pointer: &str| object.at(pointer).and_then(Value::as_str).unwrap_or("");
        let (api_version, kind, name) =
            (text("/apiVersion"), text("/kind"), text("/metadata/name"));
        let root = match object.at("/metadata/namespace").and_then(Value::as_str) {
            Some(ns) => child(&mut namespaced, ns),
            None => &mut cluster,
        };
        child(child(root, api_version), kind).insert(name.to_string(), object.clone());
    }
    json!({"cluster": cluster, "namespace": namespaced})
}

#[cfg(test)]
mod send_sync {
    fn assert_send_sync<T: Send + Sync>() {}

    #[test]
    fn compiled_templates_can_be_shared_across_threads() {
        assert_send_sync::<super::RegoTemplate>();
    }
}

#[cfg(test)]
mod builtins {
    use super::*;

    fn template(rego: &str) -> Template {
        Template {
            name: "k8scalls".into(),
            kind: "K8sCalls".into(),
            rego: rego.into(),
            libs: Vec::new(),
            rego_v1: false,
            cel: None,
            title: None,
            description: None,
            parameters_schema: None,
            legacy_schema: false,
        }
    }

    /// A panic of regorus while it evaluates (a `sprintf` format computed from the object,
    /// with a numeral its reading of widths cannot take) is contained: the evaluation fails,
    /// naming it, and the process goes on.
    #[test]
    fn a_panic_of_regorus_is_contained() {
        let compiled = RegoTemplate::compile(&template(
            "package k8scalls\nviolation[{\"msg\": m}] {\n  m := sprintf(input.review.object.metadata.annotations.f, [1])\n}\n",
        ))
        .unwrap();
        let review = |format: &str| json!({"object": {"metadata": {"name": "x", "annotations": {"f": format}}}});
        let none = json!({});
        assert_eq!(
            compiled
                .violations(&review("%d"), &none, &none)
                .unwrap()
                .len(),
            1
        );
        let error = compiled
            .violations(&review("%\u{663}d"), &none, &none)
            .unwrap_err()
            .to_string();
        assert!(error.contains("regorus failed on it"), "{error}");
    }

    /// Gatekeeper refuses `http.send`; regorus' stand-in answers "undefined", which would
    /// make every object pass. Without it the call is an error, so the object is not assessed.
    #[test]
    fn http_send_is_an_error_not_a_pass() {
        let compiled = RegoTemplate::compile(&template(
            "package k8scalls\nviolation[{\"msg\": msg}] {\n  r := http.send({\"method\": \"get\", \"url\": \"https://example.com\"})\n  msg := sprintf(\"%v\", [r])\n}\n",
        ))
        .unwrap();
        let review = json!({"object": {"kind": "Pod"}});
        let error = compiled
            .violations(&review, &json!({}), &empty_inventory())
            .unwrap_err();
        assert_eq!(
            error.to_string(),
            "k8scalls: Rego: could not find function http.send (at k8scalls.rego:3:17)"
        );
    }

    /// A builtin given what it cannot take is undefined, as in OPA and Gatekeeper (strict
    /// builtin errors off), on the machine and the interpreter alike.
    #[test]
    fn a_builtin_given_the_wrong_type_is_undefined_as_in_opa() {
        let compiled = RegoTemplate::compile(&template(
            "package k8scalls\nviolation[{\"msg\": \"no team- prefix\"}] {\n  not startswith(input.review.object.metadata.labels.team, \"team-\")\n}\n",
        ))
        .unwrap();
        assert!(compiled.runs_on_machine());
        let review = json!({"object": {"metadata": {"labels": {"team": 7}}}});
        let expected = vec![Violation {
            msg: "no team- prefix".into(),
            details: Value::Null,
            reason: None,
        }];
        let inventory = empty_inventory();
        assert_eq!(
            compiled
                .violations(&review, &json!({}), &inventory)
                .unwrap(),
            expected
        );
        assert_eq!(
            compiled
                .interpreted_violations(&review, &json!({}), &inventory)
                .unwrap(),
            expected
        );
    }

    /// The limit is per evaluation: evaluations that together run far past it (on reused
    /// machines and engines) each still answer.
    #[test]
    fn the_time_limit_is_per_evaluation_not_cumulative() {
        let compiled = RegoTemplate::compile(&template(
            "package k8scalls\nviolation[{\"msg\": \"x\"}] {\n  r := numbers.range(1, 300)\n  count([1 | r[a]; r[b]]) > 0\n}\n",
        ))
        .unwrap();
        let review = json!({"object": {"kind": "Pod"}});
        let inventory = empty_inventory();
        let started = std::time::Instant::now();
        let mut runs = 0;
        while started.elapsed() < EVALUATION_TIME_LIMIT * 2 {
            assert_eq!(
                compiled
                    .violations(&review, &json!({}), &inventory)
                    .unwrap()
                    .len(),
                1
            );
            assert_eq!(
                compiled
                    .interpreted_violations(&review, &json!({}), &inventory)
                    .unwrap()
                    .len(),
                1
            );
            runs += 1;
        }
        assert!(runs > 1);
    }

    /// Brackets nested past what regorus' parser reads in reasonable time are refused at
    /// once (22 nested braces took it over a minute); the depth the parser reads stays.
    #[test]
    fn deeply_nested_brackets_are_refused_before_regorus_parses_them() {
        let nested = |depth: usize| {
            format!(
                "package k8scalls\nviolation[{{\"msg\": \"x\"}}] {{\n  x := {}1{}\n  x == 0\n}}\n",
                "{[".repeat(depth / 2),
                "]}".repeat(depth / 2)
            )
        };
        let error = RegoTemplate::compile(&template(&nested(40))).unwrap_err();
        assert!(
            error
                .to_string()
                .contains("brackets (`[`, `{`) nest 41 deep; at most 16"),
            "{error}"
        );
        assert!(RegoTemplate::compile(&template(&nested(12))).is_ok());
        // Found by the fuzz target: unclosed braces before a byte regorus cannot lex took
        // its parser 27 seconds.
        let unlexable = format!(
            "package k8scalls\nviolation{}rn[{{\"msg\": msg}}]{}v {{",
            "{".repeat(20),
            '\u{1}'
        );
        let error = RegoTemplate::compile(&template(&unlexable)).unwrap_err();
        assert!(error.to_string().contains("nest 2"), "{error}");
    }

    /// A template whose evaluation would run for minutes (five nested iterations of 60:
    /// 777 million steps) is stopped at the time limit with an error, on the machine and on
    /// the interpreter, rather than stalling the scan or the webhook.
    #[test]
    fn an_evaluation_past_the_time_limit_is_stopped_with_an_error() {
        let compiled = RegoTemplate::compile(&template(
            "package k8scalls
violation[{\"msg\": \"never\"}] {
  r := numbers.range(1, 60)
  n := count([1 | r[a]; r[b]; r[c]; r[d]; r[e]])
  n < 0
}
",
        ))
        .unwrap();
        assert!(compiled.runs_on_machine());
        let review = json!({"object": {"kind": "Pod"}});
        let inventory = empty_inventory();
        let expected =
            "k8scalls: Rego: the evaluation ran past its time limit of 2 s and was stopped";
        let machine = compiled.violations(&review, &json!({}), &inventory);
        assert_eq!(machine.unwrap_err().to_string(), expected);
        let interpreter = compiled.interpreted_violations(&review, &json!({}), &inventory);
        assert_eq!(interpreter.unwrap_err().to_string(), expected);
    }
}
