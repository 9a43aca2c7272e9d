//! Rego conformance beyond Gatekeeper's suites: the library's own OPA unit tests
//! (`../shared/corpora/gatekeeper-library/src/**/src_test.rego`, with its `lib` modules), and
//! the unit tests of kubewarden's
//! rego-policies-library (`../shared/corpora/gatekeeper-library/extra-kubewarden-rego-policies-library`,
//! 69 Gatekeeper-style policies in v0 syntax with their `test_*` rules, which OPA passes),
//! each module prepared as Palisade prepares a template's (`crate::rego_rewrite`), evaluated
//! on regorus' interpreter. The corpus is required.

use std::path::{Path, PathBuf};

fn corpus() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(
        "../../../shared/corpora/gatekeeper-library/extra-kubewarden-rego-policies-library/policies",
    )
}

/// A module as Palisade compiles it.
fn prepared(source: String) -> String {
    crate::rego_rewrite::read(&source).1.unwrap_or(source)
}

/// The names of the `test_*` rules a test module defines.
fn test_rules(source: &str) -> Vec<String> {
    let mut names: Vec<String> = source
        .lines()
        .filter_map(|line| line.strip_prefix("test_"))
        .map(|rest| {
            let name: String = rest
                .chars()
                .take_while(|c| c.is_alphanumeric() || *c == '_')
                .collect();
            format!("test_{name}")
        })
        .collect();
    names.sort();
    names.dedup();
    names
}

/// What one test rule gives (`true` passes). On regorus' interpreter: the tests set their
/// input with `with`, which its virtual machine does not compile (the machine's agreement
/// with the interpreter is tested on Gatekeeper's library, where inputs are given).
fn run(engine: &regorus::Engine, rule: &str) -> Result<bool, String> {
    engine
        .clone()
        .eval_rule(rule.to_string())
        .map(|v| v == regorus::Value::from(true))
        .map_err(|e| e.to_string())
}

/// An engine as Palisade builds a template's (v0, OPA's builtin errors, prints kept) with
/// `modules` prepared, and the `test_*` rules of `tests` (their paths) loaded too.
fn engine_with(modules: &[PathBuf], tests: &[PathBuf]) -> (regorus::Engine, Vec<String>) {
    let mut engine = regorus::Engine::new();
    engine.set_rego_v0(true);
    engine.set_strict_builtin_errors(false);
    engine.set_gather_prints(true);
    let mut rules = Vec::new();
    for (path, is_test) in modules
        .iter()
        .map(|p| (p, false))
        .chain(tests.iter().map(|p| (p, true)))
    {
        let source = std::fs::read_to_string(path).unwrap();
        if is_test {
            rules.extend(test_rules(&source));
        }
        engine
            .add_policy(path.display().to_string(), prepared(source))
            .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    }
    (engine, rules)
}

/// The package a module declares.
fn package_of(path: &Path) -> String {
    std::fs::read_to_string(path)
        .unwrap()
        .lines()
        .find_map(|l| l.trim().strip_prefix("package "))
        .unwrap()
        .trim()
        .to_string()
}

#[test]
fn gatekeeper_library_unit_tests_pass_as_on_opa() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../../shared/corpora/gatekeeper-library/src");
    let libs: Vec<PathBuf> = ["lib_exclude_update", "lib_exempt_container"]
        .iter()
        .map(|l| src.join("rego").join(l).join(format!("{l}.rego")))
        .collect();
    let mut suites: Vec<PathBuf> = Vec::new();
    for group in ["general", "pod-security-policy"] {
        let dir = src.join(group);
        suites.extend(
            std::fs::read_dir(&dir)
                .unwrap_or_else(|e| panic!("{} is required: {e}", dir.display()))
                .map(|e| e.unwrap().path())
                .filter(|p| p.join("src_test.rego").is_file()),
        );
    }
    suites.sort();
    assert!(suites.len() >= 45, "{} suites", suites.len());
    let (mut passed, mut failures) = (0, Vec::new());
    let mut run_suite = |name: String, modules: Vec<PathBuf>, tests: Vec<PathBuf>| {
        let package = package_of(&tests[0]);
        let (engine, rules) = engine_with(&modules, &tests);
        assert!(!rules.is_empty(), "{name}: no test rules");
        for rule in rules {
            match run(&engine, &format!("data.{package}.{rule}")) {
                Ok(true) => passed += 1,
                other => failures.push(format!("{name} {rule}: {other:?}")),
            }
        }
    };
    for suite in &suites {
        let mut modules = vec![suite.join("src.rego")];
        modules.extend(libs.iter().cloned());
        let name = suite.file_name().unwrap().to_string_lossy().to_string();
        run_suite(name, modules, vec![suite.join("src_test.rego")]);
    }
    for lib in &libs {
        let test = lib.with_file_name(format!(
            "{}_test.rego",
            lib.file_stem().unwrap().to_string_lossy()
        ));
        let name = lib.file_stem().unwrap().to_string_lossy().to_string();
        run_suite(name, vec![lib.clone()], vec![test]);
    }
    eprintln!(
        "gatekeeper-library unit tests: {passed} of {} test rules pass",
        passed + failures.len()
    );
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn kubewarden_rego_library_tests_pass_as_on_opa() {
    let dir = corpus();
    let mut policies: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{} is required: {e}", dir.display()))
        .map(|e| e.unwrap().path())
        .filter(|p| p.join("policy.rego").is_file())
        .collect();
    policies.sort();
    assert_eq!(policies.len(), 69, "the corpus holds 69 policies");
    let (mut passed, mut failures) = (0, Vec::new());
    for policy in &policies {
        let mut engine = regorus::Engine::new();
        engine.set_rego_v0(true);
        engine.set_strict_builtin_errors(false);
        engine.set_gather_prints(true);
        let source = std::fs::read_to_string(policy.join("policy.rego")).unwrap();
        let package = source
            .lines()
            .find_map(|l| l.trim().strip_prefix("package "))
            .unwrap()
            .trim()
            .to_string();
        engine
            .add_policy("policy.rego".into(), prepared(source))
            .unwrap_or_else(|e| panic!("{}: {e}", policy.display()));
        let mut rules = Vec::new();
        let mut tests: Vec<PathBuf> = std::fs::read_dir(policy.join("tests"))
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| p.extension().is_some_and(|e| e == "rego"))
            .collect();
        tests.sort();
        for test in tests {
            let source = std::fs::read_to_string(&test).unwrap();
            rules.extend(test_rules(&source));
            engine
                .add_policy(test.display().to_string(), prepared(source))
                .unwrap_or_else(|e| panic!("{}: {e}", test.display()));
        }
        let name = policy.file_name().unwrap().to_string_lossy().to_string();
        for rule in rules {
            match run(&engine, &format!("data.{package}.{rule}")) {
                Ok(true) => passed += 1,
                other => failures.push(format!("{name} {rule}: {other:?}")),
            }
        }
    }
    eprintln!(
        "kubewarden rego-policies-library: {passed} of {} test rules pass",
        passed + failures.len()
    );
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
