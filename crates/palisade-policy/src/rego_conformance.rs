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
    crate::rego_rewrite::read(&source)
        .rewritten
        .unwrap_or(source)
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

/// The test rules run so far: how many passed, and each that did not.
#[derive(Default)]
struct Tally {
    passed: usize,
    failures: Vec<String>,
}

impl Tally {
    /// Runs the `test_*` rules of `tests` with `modules` (the package is the tests').
    fn suite(&mut self, name: &str, modules: &[PathBuf], tests: &[PathBuf]) {
        let package = package_of(&tests[0]);
        let (engine, rules) = engine_with(modules, tests);
        assert!(!rules.is_empty(), "{name}: no test rules");
        for rule in rules {
            match run(&engine, &format!("data.{package}.{rule}")) {
                Ok(true) => self.passed += 1,
                other => self.failures.push(format!("{name} {rule}: {other:?}")),
            }
        }
    }

    /// Says how many passed, and fails on any that did not.
    fn check(self, what: &str) {
        eprintln!(
            "{what}: {} of {} test rules pass",
            self.passed,
            self.passed + self.failures.len()
        );
        assert!(self.failures.is_empty(), "{}", self.failures.join("\n"));
    }
}

/// The entries of `dir` (required) for which `keep` holds, sorted.
fn entries(dir: &Path, keep: impl Fn(&Path) -> bool) -> Vec<PathBuf> {
    let mut found: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("{} is required: {e}", dir.display()))
        .map(|e| e.unwrap().path())
        .filter(|p| keep(p))
        .collect();
    found.sort();
    found
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
        suites.extend(entries(&src.join(group), |p| {
            p.join("src_test.rego").is_file()
        }));
    }
    assert!(suites.len() >= 45, "{} suites", suites.len());
    let mut tally = Tally::default();
    for suite in &suites {
        let mut modules = vec![suite.join("src.rego")];
        modules.extend(libs.iter().cloned());
        let name = suite.file_name().unwrap().to_string_lossy().to_string();
        tally.suite(&name, &modules, &[suite.join("src_test.rego")]);
    }
    for lib in &libs {
        let name = lib.file_stem().unwrap().to_string_lossy().to_string();
        let test = lib.with_file_name(format!("{name}_test.rego"));
        tally.suite(&name, std::slice::from_ref(lib), &[test]);
    }
    tally.check("gatekeeper-library unit tests");
}

#[test]
fn kubewarden_rego_library_tests_pass_as_on_opa() {
    let policies = entries(&corpus(), |p| p.join("policy.rego").is_file());
    assert_eq!(policies.len(), 69, "the corpus holds 69 policies");
    let mut tally = Tally::default();
    for policy in &policies {
        let tests = entries(&policy.join("tests"), |p| {
            p.extension().is_some_and(|e| e == "rego")
        });
        let name = policy.file_name().unwrap().to_string_lossy().to_string();
        tally.suite(&name, &[policy.join("policy.rego")], &tests);
    }
    tally.check("kubewarden rego-policies-library");
}
