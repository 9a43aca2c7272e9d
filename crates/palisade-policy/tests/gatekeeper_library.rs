//! Conformance with the Gatekeeper policy library (../shared/corpora/gatekeeper-library,
//! required): every `suite.yaml` of `library/` run through the Rego engine; each case's
//! assertions (violation counts, message substrings) must hold as they do under Gatekeeper.
//! The cases are counted against `expectations.json` (75 suites, 270 cases); every failing case
//! is printed with its reason, and every case must give Gatekeeper's verdict: 270 of 270.

use std::path::{Path, PathBuf};

use palisade_policy::suite::{CaseResult, EngineChoice, find_suites, run_suite};

/// Counts `results` into the totals: the cases run, passed, and each failure with its reason.
#[derive(Default)]
struct Tally {
    total: usize,
    passed: usize,
    failed: Vec<String>,
}

impl Tally {
    fn add<'r>(&mut self, results: impl IntoIterator<Item = &'r CaseResult>) {
        for result in results {
            self.total += 1;
            if result.passed {
                self.passed += 1;
            } else {
                self.failed.push(format!(
                    "{} / {} / {}: {}",
                    result.suite,
                    result.test,
                    result.case,
                    result.problem.clone().unwrap_or_default()
                ));
            }
        }
    }
}

fn library() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/corpora/gatekeeper-library")
}

#[test]
fn the_rego_engine_gives_gatekeepers_verdicts_on_the_library() {
    let root = library();
    let expectations: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(root.join("expectations.json"))
            .expect("../shared/corpora/gatekeeper-library/expectations.json is required"),
    )
    .unwrap();
    let expected_cases: usize = expectations["suites"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["cases"].as_array().map_or(0, Vec::len))
        .sum();
    assert_eq!(expected_cases, 270);
    let suites = find_suites(&[root.join("library")]);
    let mut tally = Tally::default();
    for suite in &suites {
        let results = run_suite(suite, EngineChoice::Rego).unwrap_or_else(|e| panic!("{e}"));
        tally.add(&results);
    }
    let Tally {
        total,
        passed,
        failed,
    } = tally;
    let rate = passed as f64 * 100.0 / total as f64;
    eprintln!(
        "gatekeeper-library: {passed} of {total} cases pass ({rate:.1}%) over {} suites",
        suites.len()
    );
    for failure in &failed {
        eprintln!("  {failure}");
    }
    assert_eq!(
        total, expected_cases,
        "every case of expectations.json is run"
    );
    // Every case gives Gatekeeper's verdict. The forms regorus reads otherwise than OPA
    // (horizontalpodautoscaler, noupdateserviceaccount, users) are rewritten before they are
    // compiled: `palisade_policy::rego_rewrite`.
    assert!(failed.is_empty(), "failures:\n{failed:#?}");
}

/// The CEL (`K8sNativeValidation`) variants, on the suites of the templates that have one.
#[test]
fn the_cel_engine_gives_gatekeepers_verdicts_where_templates_have_cel() {
    let suites = find_suites(&[library().join("library")]);
    let mut templates = 0;
    let mut tally = Tally::default();
    for suite in &suites {
        let results = run_suite(suite, EngineChoice::Cel).unwrap_or_else(|e| panic!("{e}"));
        let with_cel: Vec<_> = results.iter().filter(|r| r.assessed).collect();
        if with_cel.is_empty() {
            continue;
        }
        templates += 1;
        tally.add(with_cel);
    }
    let Tally {
        total,
        passed,
        failed,
    } = tally;
    let rate = passed as f64 * 100.0 / total.max(1) as f64;
    eprintln!(
        "gatekeeper-library CEL: {passed} of {total} cases pass ({rate:.1}%) over {templates} suites with CEL"
    );
    for failure in &failed {
        eprintln!("  {failure}");
    }
    assert_eq!(templates, 16, "the library's templates with a CEL engine");
    assert!(
        failed.is_empty(),
        "{} failures:\n{}",
        failed.len(),
        failed.join("\n")
    );
}

/// regorus' virtual machine and its interpreter give the same violations for every sample of
/// the library (each template with each sample's constraint and objects), and most templates
/// run on the machine.
#[test]
fn the_virtual_machine_agrees_with_the_interpreter_on_every_sample() {
    let load = |path: &Path| -> Vec<serde_json::Value> {
        let text = std::fs::read_to_string(path).unwrap();
        let loaded = palisade_inventory::load_text(
            &path.display().to_string(),
            &text,
            &palisade_inventory::Limits::default(),
        );
        loaded
            .inventory
            .objects
            .into_iter()
            .map(|o| o.value)
            .collect()
    };
    let empty = serde_json::json!({"cluster": {}, "namespace": {}});
    let (mut templates, mut on_machine, mut compared) = (0, 0, 0);
    let mut dirs = vec![library().join("library")];
    while let Some(dir) = dirs.pop() {
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        let mut entries: Vec<PathBuf> = entries.map(|e| e.unwrap().path()).collect();
        entries.sort();
        let template_file = dir.join("template.yaml");
        if !template_file.is_file() {
            dirs.extend(entries.into_iter().filter(|p| p.is_dir()));
            continue;
        }
        let Some(template) = load(&template_file)
            .first()
            .and_then(|v| palisade_policy::Template::from_value(v).ok())
        else {
            continue;
        };
        let Ok(compiled) = palisade_policy::RegoTemplate::compile(&template) else {
            continue;
        };
        templates += 1;
        on_machine += usize::from(compiled.runs_on_machine());
        let samples = dir.join("samples");
        let Ok(samples) = std::fs::read_dir(&samples) else {
            continue;
        };
        for sample in samples.map(|e| e.unwrap().path()) {
            let Some(constraint) = load(&sample.join("constraint.yaml")).into_iter().next() else {
                continue;
            };
            let Ok(constraint) = palisade_policy::Constraint::from_value(&constraint) else {
                continue;
            };
            let parameters = constraint.parameters;
            let mut objects: Vec<PathBuf> = std::fs::read_dir(&sample)
                .unwrap()
                .map(|e| e.unwrap().path())
                .filter(|p| {
                    p.file_name()
                        .is_some_and(|n| n.to_string_lossy().starts_with("example_"))
                })
                .collect();
            objects.sort();
            for object in objects.iter().flat_map(|p| load(p)) {
                let review = palisade_policy::rego::review_of(&object);
                let machine = compiled.violations(&review, &parameters, &empty);
                let interpreted = compiled.interpreted_violations(&review, &parameters, &empty);
                assert_eq!(
                    machine.as_ref().map_err(ToString::to_string),
                    interpreted.as_ref().map_err(ToString::to_string),
                    "{}: {}",
                    template.name,
                    sample.display()
                );
                compared += 1;
            }
        }
    }
    eprintln!("{on_machine} of {templates} templates on the machine; {compared} samples compared");
    assert!(compared >= 190, "{compared}");
    assert!(
        on_machine * 10 >= templates * 9,
        "{on_machine} of {templates}"
    );
}

/// The library's `k8spspallowedusers` with `RunAsAny`: a pod running as any user and group is
/// allowed, on the virtual machine as by the interpreter (the machine used to find nothing for
/// `accept_users("RunAsAny", _)`, written without a body, and so reject every such pod).
#[test]
fn run_as_any_allows_every_user_on_the_machine_too() {
    let path = library().join("library/pod-security-policy/users/template.yaml");
    let text = std::fs::read_to_string(&path).unwrap();
    let loaded = palisade_inventory::load_text("template.yaml", &text, &Default::default());
    let template =
        palisade_policy::Template::from_value(&loaded.inventory.objects[0].value).unwrap();
    let compiled = palisade_policy::RegoTemplate::compile(&template).unwrap();
    assert!(compiled.runs_on_machine());
    let pod = serde_json::json!({"apiVersion": "v1", "kind": "Pod",
        "metadata": {"name": "p", "namespace": "default"},
        "spec": {"securityContext": {"runAsUser": 1000, "runAsGroup": 3000, "fsGroup": 2000},
                 "containers": [{"name": "c", "image": "nginx"}]}});
    let review = palisade_policy::rego::review_of(&pod);
    let empty = serde_json::json!({"cluster": {}, "namespace": {}});
    let any = serde_json::json!({"runAsUser": {"rule": "RunAsAny"}, "runAsGroup": {"rule": "RunAsAny", "ranges": [{"min": 1, "max": 10}]}, "fsGroup": {"rule": "RunAsAny"}});
    let machine = compiled.violations(&review, &any, &empty).unwrap();
    let interpreted = compiled
        .interpreted_violations(&review, &any, &empty)
        .unwrap();
    assert!(machine.is_empty(), "{machine:?}");
    assert!(interpreted.is_empty(), "{interpreted:?}");
    // And a rule that the pod breaks is still reported on both.
    let must =
        serde_json::json!({"runAsUser": {"rule": "MustRunAs", "ranges": [{"min": 1, "max": 10}]}});
    let machine = compiled.violations(&review, &must, &empty).unwrap();
    assert_eq!(machine.len(), 1, "{machine:?}");
    assert_eq!(
        compiled
            .interpreted_violations(&review, &must, &empty)
            .unwrap()
            .len(),
        1
    );
}
