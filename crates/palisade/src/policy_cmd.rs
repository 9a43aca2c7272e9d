//! `palisade policy`: policy as code. `policy test` runs Gatekeeper policy test suites
//! (`suite.yaml`, as `gator verify` does) with Palisade's Rego engine; `policy expand` prints
//! the mock resources ExpansionTemplates and mutators make of manifests (as `gator expand`).

use std::io::Write;
use std::path::PathBuf;

use anyhow::{Result, bail};
use clap::{Args, Subcommand};
use palisade_policy::suite::{CaseResult, EngineChoice, find_suites, run_suite};

use crate::{EXIT_ERROR, EXIT_FINDINGS};

#[derive(Subcommand)]
pub enum PolicyCommand {
    /// Run Gatekeeper policy test suites (`suite.yaml` files under PATHs): each case's object
    /// against its template and constraint, assertions on the violations.
    Test(PolicyTestArgs),
    /// Print the resources the ExpansionTemplates among the policies make of the objects
    /// under PATHs (a Deployment's Pod, a CronJob's Job and its Pod), changed by the
    /// policies' mutators, as Gatekeeper judges them; values not on the print allow-list
    /// (env values, arguments, data) are masked.
    Expand(PolicyExpandArgs),
}

#[derive(Args)]
pub struct PolicyExpandArgs {
    #[command(flatten)]
    load: crate::LoadArgs,
    /// ExpansionTemplates and mutators (and, ignored here, templates and constraints): files
    /// or directories. Repeatable.
    #[arg(
        long = "policy",
        required = true,
        value_name = "PATH",
        env = "PALISADE_POLICY"
    )]
    policies: Vec<PathBuf>,
    /// `yaml` (a stream of documents) or `json` (a list).
    #[arg(short = 'o', long = "output", default_value = "yaml", value_parser = ["yaml", "json"], env = "PALISADE_POLICY_EXPAND_OUTPUT")]
    output: String,
    #[command(flatten)]
    completeness: crate::analysis_input::Completeness,
}

#[derive(Args)]
pub struct PolicyTestArgs {
    /// Suite files, or directories searched for `suite.yaml`.
    #[arg(required = true, value_name = "PATH")]
    paths: Vec<PathBuf>,
    /// `table` (default), `json` or `junit`, optionally to a file: `-o junit=report.xml`.
    /// Repeat for several.
    #[arg(
        short = 'o',
        long = "output",
        value_name = "FORMAT[=FILE]",
        env = "PALISADE_POLICY_OUTPUT",
        value_delimiter = ','
    )]
    outputs: Vec<String>,
    /// Which engine of the templates evaluates: `rego`, or `cel` (the `K8sNativeValidation`
    /// code; templates without it fail their cases).
    #[arg(long, default_value = "rego", value_parser = ["rego", "cel"], env = "PALISADE_POLICY_ENGINE")]
    engine: String,
}

pub fn run(command: PolicyCommand) -> Result<u8> {
    match command {
        PolicyCommand::Test(args) => test(&args),
        PolicyCommand::Expand(args) => expand(&args),
    }
}

/// `policy expand`: each object's mock resources, or why one could not be made (exit 2).
fn expand(args: &PolicyExpandArgs) -> Result<u8> {
    let loaded = palisade_policy::provider::load_with(
        &args.policies,
        None,
        palisade_policy::EnforcementPoint::Gator,
    );
    if !loaded.problems.is_empty() {
        bail!(
            "--policy: {} policies cannot be used:\n  {}",
            loaded.problems.len(),
            loaded.problems.join("\n  ")
        );
    }
    if loaded.expansions.is_empty() {
        bail!("--policy: no ExpansionTemplate among the policies: nothing to expand");
    }
    let (inputs, options) = crate::inputs(&args.load)?;
    let mut inventory = palisade_inventory::load(&inputs, &options);
    let not_read = inventory
        .diagnostics
        .iter()
        .filter(|d| d.input_not_read())
        .count();
    // What may be printed: the allow-list of every object read.
    let mut sensitive = palisade_core::redact::Sensitive::new();
    for object in &inventory.inventory.objects {
        sensitive.add_object(&object.value);
    }
    let redactor = sensitive.redactor();
    redactor.redact_diagnostics(&mut inventory.diagnostics);
    crate::print_diagnostics(&inventory.diagnostics, palisade_core::DiagnosticLevel::Info);
    if inventory.inventory.objects.is_empty() {
        eprintln!("palisade: error: no Kubernetes object was read (see the diagnostics)");
        return Ok(EXIT_ERROR);
    }
    let namespaces = inventory.inventory.namespace_labels();
    let mut made = Vec::new();
    let mut failed = 0;
    for object in &inventory.inventory.objects {
        let namespace = object.id.namespace.as_deref().unwrap_or("default");
        let labels = namespaces.get(namespace);
        for resultant in loaded
            .expansions
            .resultants(&object.value, namespace, labels)
        {
            match resultant.mock {
                Ok(mut mock) => {
                    masked(&mut mock, &redactor);
                    made.push(mock);
                }
                Err(why) => {
                    failed += 1;
                    eprintln!(
                        "palisade: error: {}: {} (line {}): {}: {}",
                        inventory.inventory.source_of(object).path,
                        object.id,
                        object.pos().line,
                        resultant.template.name,
                        redactor.redact(&why)
                    );
                }
            }
        }
    }
    let text = if args.output == "json" {
        serde_json::to_string_pretty(&made)? + "\n"
    } else {
        made.iter()
            .map(|m| format!("---\n{}", palisade_net::yaml::to_yaml(m)))
            .collect()
    };
    // Every string was masked above, before it was written.
    std::io::stdout().lock().write_all(text.as_bytes())?;
    eprintln!(
        "palisade: {} made of {}",
        palisade_report::table::plural(made.len(), "resource"),
        palisade_report::table::plural(inventory.inventory.objects.len(), "object")
    );
    Ok(
        if failed > 0 || (not_read > 0 && !args.completeness.allow_incomplete) {
            EXIT_ERROR
        } else {
            0
        },
    )
}

fn test(args: &PolicyTestArgs) -> Result<u8> {
    let outputs = crate::parse_outputs(&args.outputs, "table", |format| {
        if ["table", "json", "junit"].contains(&format) {
            Ok(format.to_string())
        } else {
            bail!("unknown format `{format}` (table, json, junit)")
        }
    })?;
    let suites = find_suites(&args.paths);
    if suites.is_empty() {
        eprintln!(
            "palisade: error: no suite.yaml under {}",
            args.paths
                .iter()
                .map(|p| p.display().to_string())
                .collect::<Vec<_>>()
                .join(" ")
        );
        return Ok(EXIT_ERROR);
    }
    let mut results = Vec::new();
    let mut unreadable = 0;
    for suite in &suites {
        let engine = if args.engine == "cel" {
            EngineChoice::Cel
        } else {
            EngineChoice::Rego
        };
        match run_suite(suite, engine) {
            Ok(cases) => results.extend(cases),
            Err(error) => {
                unreadable += 1;
                crate::print_error(&anyhow::Error::from(error));
            }
        }
    }
    for (format, file) in &outputs {
        let text = match format.as_str() {
            "json" => json(&results)?,
            "junit" => junit(&results),
            _ => table(&results),
        };
        match file {
            Some(path) => crate::write_file(path, |out| out.write_all(text.as_bytes()))?,
            None => std::io::stdout().lock().write_all(text.as_bytes())?,
        }
    }
    let failures = results.iter().filter(|r| failed(r)).count();
    let skipped = results.iter().filter(|r| r.skipped).count();
    let not_assessed = results.iter().filter(|r| !r.assessed).count() - skipped;
    let assessed = results.len() - not_assessed - skipped;
    eprintln!(
        "palisade: {} of {assessed} cases pass in {} suites{}{}",
        assessed - failures,
        suites.len() - unreadable,
        match skipped {
            0 => String::new(),
            n => format!("; {n} skipped (skip: true)"),
        },
        match not_assessed {
            0 => String::new(),
            n => format!(
                "; {n} not assessed (their templates have no code for the {} engine)",
                args.engine
            ),
        }
    );
    // A failure is a finding; a case not run is "not assessed", never a pass.
    Ok(if unreadable > 0 || assessed == 0 {
        EXIT_ERROR
    } else if failures > 0 {
        EXIT_FINDINGS
    } else if not_assessed > 0 {
        EXIT_ERROR
    } else {
        0
    })
}

/// `value` with every string the allow-list does not let print masked, so that the YAML
/// written of it stays what it says (a masked scalar is quoted as any other string).
fn masked(value: &mut serde_json::Value, redactor: &palisade_core::redact::Redactor) {
    match value {
        serde_json::Value::String(text) => redactor.redact_string(text),
        serde_json::Value::Array(items) => items.iter_mut().for_each(|v| masked(v, redactor)),
        serde_json::Value::Object(map) => map.values_mut().for_each(|v| masked(v, redactor)),
        _ => {}
    }
}

/// Whether a case ran and its assertions did not hold (or it could not run).
fn failed(r: &CaseResult) -> bool {
    r.assessed && !r.passed
}

fn status(r: &CaseResult) -> &'static str {
    match (r.assessed, r.passed) {
        (false, _) => "SKIP",
        (true, true) => "PASS",
        (true, false) => "FAIL",
    }
}

fn table(results: &[CaseResult]) -> String {
    let mut out = String::new();
    for r in results {
        let mut line = format!("{}  {} / {} / {}", status(r), r.suite, r.test, r.case);
        if let Some(problem) = &r.problem {
            line.push_str(&format!(": {}", one_line(problem)));
        }
        // Suites, cases and a policy's messages are the input's: shown, never obeyed.
        out.push_str(&palisade_core::printable(&line));
        out.push('\n');
    }
    out
}

/// A case's problem on one line: its first, and from a compiler's report below it (regorus
/// writes `--> file:line:column`, the code, then `error: ...`) the error and where it is.
fn one_line(problem: &str) -> String {
    let mut lines = problem.lines().map(str::trim).filter(|l| !l.is_empty());
    let mut out = lines.next().unwrap_or("").to_string();
    let (mut error, mut location) = (None, None);
    for line in lines {
        if let Some(rest) = line.strip_prefix("-->") {
            location.get_or_insert(rest.trim());
        } else if line.starts_with("error:") {
            error.get_or_insert(line);
        }
    }
    if let Some(error) = error {
        out = format!("{} {error}", out.trim_end());
        if let Some(location) = location {
            out.push_str(&format!(" (at {location})"));
        }
    }
    out
}

fn json(results: &[CaseResult]) -> Result<String> {
    let cases: Vec<serde_json::Value> = results
        .iter()
        .map(|r| {
            serde_json::json!({
                "suite": r.suite, "test": r.test, "case": r.case, "passed": r.passed,
                "assessed": r.assessed, "skipped": r.skipped,
                "violations": r.violations, "problem": r.problem,
            })
        })
        .collect();
    Ok(serde_json::to_string_pretty(&cases)? + "\n")
}

fn junit(results: &[CaseResult]) -> String {
    use palisade_report::junit::xml;
    let mut suites: Vec<(&str, Vec<&CaseResult>)> = Vec::new();
    for r in results {
        match suites.iter_mut().find(|(name, _)| *name == r.suite) {
            Some((_, cases)) => cases.push(r),
            None => suites.push((&r.suite, vec![r])),
        }
    }
    let failures = results.iter().filter(|r| failed(r)).count();
    let skipped = results.iter().filter(|r| !r.assessed).count();
    let mut out = format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuites name=\"palisade policy test\" tests=\"{}\" failures=\"{failures}\" skipped=\"{skipped}\">\n",
        results.len()
    );
    for (name, cases) in suites {
        let failed_here = cases.iter().filter(|c| failed(c)).count();
        let skipped_here = cases.iter().filter(|c| !c.assessed).count();
        out.push_str(&format!(
            "  <testsuite name=\"{}\" tests=\"{}\" failures=\"{failed_here}\" skipped=\"{skipped_here}\">\n",
            xml(name),
            cases.len()
        ));
        for case in cases {
            out.push_str(&format!(
                "    <testcase classname=\"{}\" name=\"{}\"",
                xml(&case.test),
                xml(&case.case)
            ));
            let element = if case.assessed { "failure" } else { "skipped" };
            match (&case.problem, case.passed) {
                (Some(problem), false) => out.push_str(&format!(
                    ">\n      <{element} message=\"{}\"/>\n    </testcase>\n",
                    xml(problem)
                )),
                _ => out.push_str("/>\n"),
            }
        }
        out.push_str("  </testsuite>\n");
    }
    out.push_str("</testsuites>\n");
    out
}

#[cfg(test)]
mod tests {
    use super::one_line;

    #[test]
    fn a_compiler_report_is_summed_up_on_one_line() {
        let report = "k8sx: Rego: \n--> k8sx.rego:8:105\n  |\n8 |   msg := sprintf(\"%v\", [])\n  |   ^\nerror: no argument specified for format verb 0";
        assert_eq!(
            one_line(report),
            "k8sx: Rego: error: no argument specified for format verb 0 (at k8sx.rego:8:105)"
        );
        assert_eq!(
            one_line("expected no violations, got 1"),
            "expected no violations, got 1"
        );
    }
}
