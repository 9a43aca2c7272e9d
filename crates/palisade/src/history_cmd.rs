//! Scan history: `palisade scan --history FILE` records each run in the SQLite store
//! (`palisade_store::history`), `palisade history list` shows the runs with their counts and
//! what changed from the run before, `palisade history diff` gives the findings one run
//! has and another has not, and `palisade history prune` keeps the newest runs only.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use clap::{Args, Subcommand};
use palisade_core::Report;
use palisade_report::answer::{Answer, AnswerFormat, Document, Table, write_answer};
use palisade_store::Store;
use palisade_store::history::{NewRun, RecordedFinding, SEVERITIES, ScanRun};
use serde::Serialize;

use crate::ListFormat;

/// `--history`: where `palisade scan` records the run.
#[derive(Args, Default)]
pub struct RecordArgs {
    /// Record this run in a scan history (a SQLite file, created when missing, readable by
    /// its owner alone): `palisade history list` and `diff` read it. Only what the report
    /// prints is kept (rule, severity, subject, message), never a value the scan read.
    #[arg(
        long = "history",
        value_name = "FILE",
        env = "PALISADE_HISTORY",
        help_heading = "Output"
    )]
    pub history: Option<PathBuf>,
    /// The run's name in the history (default: what was scanned, as given).
    #[arg(
        long = "history-label",
        value_name = "TEXT",
        env = "PALISADE_HISTORY_LABEL",
        requires = "history",
        help_heading = "Output"
    )]
    pub label: Option<String>,
}

impl RecordArgs {
    /// Records `report` when `--history` asks for it; `scanned` names what was scanned.
    pub fn record(&self, report: &Report, scanned: &str) -> Result<()> {
        let Some(path) = &self.history else {
            return Ok(());
        };
        let findings: Vec<RecordedFinding> = report.findings.iter().map(recorded).collect();
        let run = NewRun {
            at: palisade_core::date::unix_now(),
            label: self.label.clone().unwrap_or_else(|| scanned.to_string()),
            complete: report.inputs_not_read() == 0,
            objects: i64::try_from(report.objects.len()).unwrap_or(i64::MAX),
        };
        open(path)?
            .record_scan(&run, &findings)
            .with_context(|| format!("--history {}", path.display()))?;
        Ok(())
    }
}

/// A finding as a history keeps it and `palisade watch` tells it: what the report prints.
pub(crate) fn recorded(f: &palisade_core::Finding) -> RecordedFinding {
    RecordedFinding {
        fingerprint: f.fingerprint().to_string(),
        rule: f.rule_id().to_string(),
        severity: f.severity.as_str().to_string(),
        subject: f.subject.to_string(),
        message: f.message.to_string(),
        suppressed: f.is_suppressed(),
    }
}

fn open(path: &Path) -> Result<Store> {
    Store::open(path).with_context(|| format!("--history {}", path.display()))
}

/// An existing history: reading one that is not there is an error, never an empty history.
fn open_existing(path: &Path) -> Result<Store> {
    if !path.is_file() {
        bail!(
            "--history {}: no such file (record runs with `palisade scan --history {}`)",
            path.display(),
            path.display()
        );
    }
    open(path)
}

#[derive(Subcommand)]
pub enum HistoryCommand {
    /// The recorded runs, newest first: when, what, how many findings of each severity, and
    /// how many are new and fixed since the run before.
    List(ListArgs),
    /// The findings one run has and another has not: new and fixed (default: the last run
    /// against the one before it).
    Diff(DiffArgs),
    /// Remove every run but the newest ones, with their findings.
    Prune(PruneArgs),
}

#[derive(Args)]
pub struct PruneArgs {
    /// The history file (`palisade scan --history FILE`).
    #[arg(long = "history", value_name = "FILE", env = "PALISADE_HISTORY")]
    history: PathBuf,
    /// How many of the newest runs to keep.
    #[arg(long, value_parser = clap::value_parser!(u32).range(1..), env = "PALISADE_HISTORY_KEEP")]
    keep: u32,
}

fn prune(args: &PruneArgs) -> Result<u8> {
    let mut store = open_existing(&args.history)?;
    let removed = store.prune_scan_runs(args.keep as usize)?;
    println!(
        "removed {removed} run{} from {}; the newest {} are kept",
        if removed == 1 { "" } else { "s" },
        args.history.display(),
        args.keep
    );
    Ok(0)
}

#[derive(Args)]
pub struct ListArgs {
    /// The history file (`palisade scan --history FILE`).
    #[arg(long = "history", value_name = "FILE", env = "PALISADE_HISTORY")]
    history: PathBuf,
    /// The most runs to list.
    #[arg(long, default_value_t = 20, value_parser = clap::value_parser!(u32).range(1..), env = "PALISADE_HISTORY_LIMIT")]
    limit: u32,
    /// `table` or `json`.
    #[arg(short = 'o', long = "output", value_enum, default_value_t = ListFormat::Table, env = "PALISADE_HISTORY_OUTPUT")]
    output: ListFormat,
}

#[derive(Args)]
pub struct DiffArgs {
    /// The history file (`palisade scan --history FILE`).
    #[arg(long = "history", value_name = "FILE", env = "PALISADE_HISTORY")]
    history: PathBuf,
    /// The earlier run's id (default: the run before `--to`).
    #[arg(long = "from", value_name = "RUN", env = "PALISADE_HISTORY_FROM")]
    from: Option<i64>,
    /// The later run's id (default: the last run).
    #[arg(long = "to", value_name = "RUN", env = "PALISADE_HISTORY_TO")]
    to: Option<i64>,
    /// `table` or `json`.
    #[arg(short = 'o', long = "output", value_enum, default_value_t = ListFormat::Table, env = "PALISADE_HISTORY_OUTPUT")]
    output: ListFormat,
}

pub fn run_history(command: HistoryCommand) -> Result<u8> {
    match command {
        HistoryCommand::List(args) => list(&args),
        HistoryCommand::Diff(args) => diff(&args),
        HistoryCommand::Prune(args) => prune(&args),
    }
}

fn format_of(format: ListFormat) -> AnswerFormat {
    match format {
        ListFormat::Json => AnswerFormat::Json,
        ListFormat::Table => AnswerFormat::Text,
    }
}

fn print<A: Answer>(answer: &A, format: ListFormat) -> Result<()> {
    let mut out = std::io::stdout().lock();
    write_answer(answer, format_of(format), &mut out).context("cannot write to stdout")
}

/// A run with what changed since the one before it.
#[derive(Serialize)]
struct Listed {
    #[serde(flatten)]
    run: ScanRun,
    /// Findings (open or not) the run before did not have; `None` for the first run.
    new: Option<usize>,
    /// Findings of the run before that this one no longer has.
    fixed: Option<usize>,
}

#[derive(Serialize)]
struct Runs {
    runs: Vec<Listed>,
}

impl Answer for Runs {
    fn document(&self) -> Document {
        let mut doc = Document::new();
        let mut header = vec!["run".to_string(), "when".into()];
        header.extend(SEVERITIES.iter().map(|s| s.to_string()));
        header.extend(["new".into(), "fixed".into(), "scanned".into()]);
        let rows = self
            .runs
            .iter()
            .map(|listed| {
                let run = &listed.run;
                let mut row = vec![run.id.to_string(), utc(run.at)];
                row.extend(run.counts.iter().map(i64::to_string));
                let or_dash = |n: Option<usize>| n.map_or("-".to_string(), |n| n.to_string());
                row.push(or_dash(listed.new));
                row.push(or_dash(listed.fixed));
                let incomplete = if run.complete { "" } else { " (incomplete)" };
                row.push(format!("{}{incomplete}", run.label));
                row
            })
            .collect();
        doc.table(Table {
            indent: 0,
            widths: vec![3, 20, 8, 4, 6, 3, 4, 3, 5],
            header: Some(header),
            rows,
        });
        doc
    }
}

fn list(args: &ListArgs) -> Result<u8> {
    let store = open_existing(&args.history)?;
    let runs = store.scan_runs(args.limit as usize)?;
    let mut listed = Vec::new();
    for run in runs {
        let (new, fixed) = match store.scan_run_before(run.id)? {
            Some(before) => {
                let (new, fixed) = compare(&store, before, run.id)?;
                (Some(new.len()), Some(fixed.len()))
            }
            None => (None, None),
        };
        listed.push(Listed { run, new, fixed });
    }
    print(&Runs { runs: listed }, args.output)?;
    Ok(0)
}

/// The findings `to` has and `from` has not, and those `from` has and `to` has not.
fn compare(
    store: &Store,
    from: i64,
    to: i64,
) -> Result<(Vec<RecordedFinding>, Vec<RecordedFinding>)> {
    let before = store.scan_findings(from)?;
    let after = store.scan_findings(to)?;
    Ok(palisade_store::history::new_and_fixed(&before, &after))
}

#[derive(Serialize)]
struct Diff {
    from: ScanRun,
    to: ScanRun,
    new: Vec<RecordedFinding>,
    fixed: Vec<RecordedFinding>,
}

impl Answer for Diff {
    fn document(&self) -> Document {
        let mut doc = Document::new();
        doc.line(format!(
            "Run {} ({}, {}) against run {} ({}, {}): {} new, {} fixed",
            self.to.id,
            utc(self.to.at),
            self.to.label,
            self.from.id,
            utc(self.from.at),
            self.from.label,
            self.new.len(),
            self.fixed.len()
        ));
        if !self.from.complete || !self.to.complete {
            doc.line(
                "One of the runs did not read all its inputs: a finding it lacks may only be unread.",
            );
        }
        for (title, findings) in [("New", &self.new), ("Fixed", &self.fixed)] {
            if findings.is_empty() {
                continue;
            }
            doc.line(format!("{title}:"));
            let rows = ordered(findings)
                .into_iter()
                .map(|f| {
                    let suppressed = if f.suppressed { " (suppressed)" } else { "" };
                    vec![
                        format!("{}{suppressed}", f.severity.to_uppercase()),
                        f.rule.clone(),
                        format!("{}: {}", f.subject, f.message),
                    ]
                })
                .collect();
            doc.table(Table {
                indent: 2,
                widths: vec![8, 7],
                header: None,
                rows,
            });
        }
        doc
    }
}

/// Most severe first, then by rule and subject.
fn ordered(findings: &[RecordedFinding]) -> Vec<&RecordedFinding> {
    let rank = |severity: &str| SEVERITIES.iter().position(|s| *s == severity);
    let mut ordered: Vec<&RecordedFinding> = findings.iter().collect();
    ordered.sort_by(|a, b| {
        (rank(&a.severity), &a.rule, &a.subject).cmp(&(rank(&b.severity), &b.rule, &b.subject))
    });
    ordered
}

fn diff(args: &DiffArgs) -> Result<u8> {
    let store = open_existing(&args.history)?;
    let run = |id: i64| -> Result<ScanRun> {
        store
            .scan_run(id)?
            .with_context(|| format!("no run {id} in {}", args.history.display()))
    };
    let to = match args.to {
        Some(id) => run(id)?,
        None => match store.scan_runs(1)?.into_iter().next() {
            Some(last) => last,
            None => bail!("{}: no run recorded yet", args.history.display()),
        },
    };
    let from = match args.from {
        Some(id) => run(id)?,
        None => match store.scan_run_before(to.id)? {
            Some(before) => run(before)?,
            None => bail!(
                "{}: run {} is the first; there is nothing before it to compare with",
                args.history.display(),
                to.id
            ),
        },
    };
    let (new, fixed) = compare(&store, from.id, to.id)?;
    print(
        &Diff {
            from,
            to,
            new,
            fixed,
        },
        args.output,
    )?;
    Ok(0)
}

/// `2026-12-06T10:15:41Z`.
fn utc(at: i64) -> String {
    palisade_core::date::unix_seconds_rfc3339(at)
}
