//! `palisade audit coverage --policy FILE`: what an API server audit policy lets the
//! detections see, and what it writes into the log that it should not.

use std::io::Write;
use std::path::PathBuf;

use anyhow::{Context, Result};
use clap::Args;
use palisade_audit::audit_policy::AuditPolicy;
use palisade_audit::coverage::{Coverage, Leak, Verdict, coverage, leaks};
use palisade_audit::suggest::suggest;
use palisade_report::answer::{Document, Table, write_text};

use crate::{ConfigArgs, EXIT_ERROR, EXIT_FINDINGS};

#[derive(Args)]
pub struct CoverageArgs {
    /// The audit policy file (`audit.k8s.io/v1` Policy, YAML or JSON), as given to the API
    /// server's `--audit-policy-file`.
    #[arg(long, value_name = "FILE", env = "PALISADE_AUDIT_POLICY")]
    policy: PathBuf,
    #[command(flatten)]
    config: ConfigArgs,
    #[command(flatten)]
    selection: crate::audit_cmd::SelectionArgs,
    /// `text` or `json`.
    #[arg(short = 'o', long = "output", default_value = "text", value_parser = ["text", "json"], env = "PALISADE_AUDIT_COVERAGE_OUTPUT")]
    output: String,
    /// Print the policy with rules put first that let the detections see what they read
    /// (as written otherwise, comments kept), for review: `diff -u FILE <(palisade audit
    /// coverage --policy FILE --suggest)`. No rule logs a request at less than the policy
    /// does for anyone, or writes credentials; what it cannot fix is said on standard error.
    /// With `-o json`, the rules and what they leave out.
    #[arg(long, env = "PALISADE_AUDIT_COVERAGE_SUGGEST")]
    suggest: bool,
}

/// Exit 0 when every detection is covered and nothing leaks, 1 when some detection is blind
/// or partly covered or the policy writes credentials, 2 when the policy cannot be read.
pub fn run(args: &CoverageArgs) -> Result<u8> {
    let selection = args.selection.selection()?;
    let settings = crate::audit_cmd::settings(&args.config)?;
    let text = match std::fs::read_to_string(&args.policy) {
        Ok(text) => text,
        Err(error) => {
            eprintln!(
                "palisade: error: cannot read {}: {error}",
                args.policy.display()
            );
            return Ok(EXIT_ERROR);
        }
    };
    let policy = match AuditPolicy::parse(&text) {
        Ok(policy) => policy,
        Err(error) => {
            eprintln!("palisade: error: {}: {error}", args.policy.display());
            return Ok(EXIT_ERROR);
        }
    };
    let detections = palisade_audit::engine::selected(&settings, &selection, true);
    if args.suggest {
        return print_suggestion(args, &text, &policy, &detections);
    }
    let covered = coverage(&policy, &detections);
    let leaked = leaks(&policy);
    let mut out = std::io::stdout().lock();
    if args.output == "json" {
        let report = serde_json::json!({
            "policy": args.policy.display().to_string(),
            "detections": covered,
            "leaks": leaked,
        });
        serde_json::to_writer_pretty(&mut out, &report)?;
        writeln!(out)?;
    } else {
        write_text(&document(&covered), &mut out).context("cannot write the report")?;
    }
    summarise(&covered, &leaked);
    let off: Vec<&str> = palisade_audit::registry::DETECTIONS
        .iter()
        .filter(|d| !detections.iter().any(|s| std::ptr::eq(*s, **d)))
        .map(|d| d.meta().id.as_ref())
        .collect();
    if !off.is_empty() {
        eprintln!(
            "palisade: not checked: {} (left out, or off with these settings: an allow-list or the activity trail unset)",
            off.join(", ")
        );
    }
    let gaps = covered.iter().any(|c| c.verdict != Verdict::Covered);
    Ok(if gaps || !leaked.is_empty() {
        EXIT_FINDINGS
    } else {
        0
    })
}

/// `--suggest`: the policy with the rules put first (or the rules alone, when the file's
/// rules are not a block list to put them into), what they leave out on standard error.
/// Exit 0.
fn print_suggestion(
    args: &CoverageArgs,
    text: &str,
    policy: &AuditPolicy,
    detections: &[&'static palisade_audit::detection::Detection],
) -> Result<u8> {
    let suggestion = suggest(policy, detections);
    let mut out = std::io::stdout().lock();
    if args.output == "json" {
        serde_json::to_writer_pretty(&mut out, &suggestion)?;
        writeln!(out)?;
    } else {
        match suggestion.put_first(text, policy) {
            Some(patched) => out.write_all(patched.as_bytes())?,
            None => {
                eprintln!(
                    "palisade: {}: its rules are not a YAML block list: put these rules first in `rules:` yourself",
                    args.policy.display()
                );
                out.write_all(suggestion.to_yaml("  ").as_bytes())?;
            }
        }
    }
    out.flush()?;
    for left in &suggestion.left_out {
        eprintln!("palisade: not suggested: {}: {}", left.detection, left.why);
    }
    let served: std::collections::BTreeSet<&str> = suggestion
        .rules
        .iter()
        .flat_map(|r| r.detections.iter().map(String::as_str))
        .collect();
    if suggestion.rules.is_empty() {
        eprintln!("palisade: nothing to add: no rule would let a detection see more");
    } else {
        eprintln!(
            "palisade: {} put first, for {}; check the result with `palisade audit coverage --policy FILE`",
            palisade_report::table::plural(suggestion.rules.len(), "rule"),
            palisade_report::table::plural(served.len(), "detection"),
        );
    }
    Ok(0)
}

/// One row per detection: what it reads, its verdict, and the first gap.
fn document(covered: &[Coverage]) -> Document {
    let rows = covered
        .iter()
        .map(|c| {
            let why = match c.gaps.as_slice() {
                [] => String::new(),
                [only] => only.describe(),
                [first, rest @ ..] => format!("{} (and {} more)", first.describe(), rest.len()),
            };
            vec![
                c.id.clone(),
                c.slug.clone(),
                c.needs.to_string(),
                c.verdict.as_str().to_string(),
                why,
            ]
        })
        .collect();
    let mut document = Document::new();
    document.table(Table {
        indent: 0,
        widths: Vec::new(),
        header: Some(
            ["ID", "DETECTION", "READS", "COVERAGE", "WHY"]
                .map(String::from)
                .to_vec(),
        ),
        rows,
    });
    document
}

/// The counts, and each leak, on standard error.
fn summarise(covered: &[Coverage], leaked: &[Leak]) {
    let count = |verdict: Verdict| covered.iter().filter(|c| c.verdict == verdict).count();
    eprintln!(
        "palisade: {} of {} detections covered, {} partly, {} blind",
        count(Verdict::Covered),
        covered.len(),
        count(Verdict::Partly),
        count(Verdict::Blind)
    );
    for leak in leaked {
        let only = leak
            .only
            .as_ref()
            .map_or(String::new(), |o| format!(" {o}"));
        eprintln!(
            "palisade: warning: the policy writes {} into the audit log: {}{only} logged at {} (rule {}, line {})",
            leak.holds, leak.request, leak.logged_at, leak.rule, leak.line
        );
    }
}
