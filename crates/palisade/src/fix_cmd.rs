//! `palisade fix`: the hardening fields that resolve open findings, shown as a diff or written
//! into the manifests (`palisade_scan::remedy` finds and checks them).

use std::io::Write as _;
use std::path::Path;

use anyhow::{Context as _, Result, bail};
use clap::Args;
use palisade_fix::{DropAllCapabilities, Field, Hardening, RunAsNonRoot};
use palisade_scan::remedy::{FixOptions, FixRun, FixedFile};

use crate::{ConfigArgs, LoadArgs};

#[derive(Args)]
pub(crate) struct FixArgs {
    #[command(flatten)]
    load: LoadArgs,
    #[command(flatten)]
    config: ConfigArgs,
    /// Fix only these rules' findings (ids or slugs, comma-separated): POD002
    /// (`allowPrivilegeEscalation: false`), POD003 (`runAsNonRoot: true`), POD008
    /// (`capabilities.drop: [ALL]`), POD014 (`seccompProfile: RuntimeDefault`). Default: all
    /// four.
    #[arg(
        long,
        env = "PALISADE_FIX_RULES",
        value_delimiter = ',',
        value_name = "IDS",
        help_heading = "Fixes"
    )]
    rules: Vec<String>,
    /// When `runAsNonRoot: true` is added: `when-user-set` (the container or pod sets a
    /// non-zero `runAsUser`: a manifest does not show the image's user, and an image that
    /// runs as root would not start) or `always` (every image declares a non-root user).
    #[arg(
        long,
        env = "PALISADE_FIX_RUN_AS_NON_ROOT",
        value_name = "WHEN",
        default_value = "when-user-set",
        value_parser = ["when-user-set", "always"],
        help_heading = "Fixes"
    )]
    run_as_non_root: String,
    /// When `capabilities.drop: [ALL]` is added: `when-non-root` (the container cannot run as
    /// root: a process running as root usually needs some of the default capabilities) or
    /// `always`.
    #[arg(
        long,
        env = "PALISADE_FIX_DROP_ALL_CAPABILITIES",
        value_name = "WHEN",
        default_value = "when-non-root",
        value_parser = ["when-non-root", "always"],
        help_heading = "Fixes"
    )]
    drop_all_capabilities: String,
    /// Write the fixed files in place. Without it nothing is written: the changes are printed
    /// as a unified diff.
    #[arg(long, env = "PALISADE_FIX_WRITE", value_parser = clap::builder::BoolishValueParser::new(), help_heading = "Fixes")]
    write: bool,
    /// Output format: `text` (the changes and their diff) or `json` (the same, for tools).
    #[arg(
        short,
        long,
        env = "PALISADE_FIX_OUTPUT",
        value_enum,
        default_value = "text",
        help_heading = "Fixes"
    )]
    output: FixFormat,
    /// Exit 1 when a file would change, writing nothing (for CI).
    #[arg(long, env = "PALISADE_FIX_CHECK", conflicts_with = "write", value_parser = clap::builder::BoolishValueParser::new(), help_heading = "Fixes")]
    check: bool,
}

#[derive(Clone, Copy, clap::ValueEnum)]
enum FixFormat {
    Text,
    Json,
}

impl FixArgs {
    fn fields(&self, rules: &palisade_rules::RuleSet) -> Result<Vec<Field>> {
        if self.rules.is_empty() {
            return Ok(Field::ALL.to_vec());
        }
        let fixable = Field::ALL.map(Field::rule).join(", ");
        crate::canonical_in(rules, &self.rules)?
            .into_iter()
            .map(|id| {
                Field::ALL
                    .into_iter()
                    .find(|f| f.rule() == id)
                    .with_context(|| {
                        format!("{id} has no automatic fix: palisade fix resolves {fixable}")
                    })
            })
            .collect()
    }

    fn hardening(&self) -> Hardening {
        Hardening {
            run_as_non_root: if self.run_as_non_root == "always" {
                RunAsNonRoot::Always
            } else {
                RunAsNonRoot::WhenUserSet
            },
            drop_all_capabilities: if self.drop_all_capabilities == "always" {
                DropAllCapabilities::Always
            } else {
                DropAllCapabilities::WhenNonRoot
            },
            ..Hardening::default()
        }
    }
}

pub(crate) fn run_fix(args: &FixArgs) -> Result<u8> {
    if args.load.paths.iter().any(|p| p == "-") {
        bail!("fix edits files: standard input (`-`) cannot be written; give the file");
    }
    let (inputs, load) = crate::inputs(&args.load)?;
    let rules = palisade_scan::default_rules();
    let options = FixOptions {
        fields: args.fields(&rules)?,
        hardening: args.hardening(),
        scan: palisade_scan::ScanOptions {
            load,
            config: args.config.load_for(&rules)?,
            rules,
            skip_evaluations: true,
            ..palisade_scan::ScanOptions::default()
        },
    };
    let mut run = palisade_scan::remedy::fix(&inputs, &options);
    // Through the redaction boundary, as a scan's: a diagnostic may quote its input.
    run.redactor.redact_diagnostics(&mut run.diagnostics);
    crate::print_diagnostics(&run.diagnostics, palisade_core::DiagnosticLevel::Warning);
    // What writing each file gave: `None` without --write, else the reason it failed.
    let mut unwritten: Vec<&str> = Vec::new();
    let written: Vec<Option<Option<String>>> = run
        .files
        .iter()
        .map(|file| {
            args.write.then(|| {
                let missing = file.needs.iter().find(|n| unwritten.contains(&&***n));
                let result = match missing {
                    Some(needed) => Err(anyhow::anyhow!(
                        "{} was not written, and this file would name it",
                        printable(needed)
                    )),
                    None => write_fixed(file),
                };
                result.err().map(|e| {
                    unwritten.push(&file.path);
                    let e = e.context(format!("{}: not written", printable(&file.path)));
                    crate::print_error(&e);
                    format!("{e:#}")
                })
            })
        })
        .collect();
    let failed = written.iter().any(|w| matches!(w, Some(Some(_))));
    let mut out = std::io::stdout().lock();
    match args.output {
        FixFormat::Text => text(&mut out, &run, &written, args)?,
        FixFormat::Json => json(&mut out, &run, &written, args)?,
    }
    Ok(if failed || run.incomplete || !run.not_fixed.is_empty() {
        2
    } else if args.check && !run.files.is_empty() {
        1
    } else {
        0
    })
}

/// Prints each file's changes and its diff (or that it was written), then the summary.
fn text(
    out: &mut impl std::io::Write,
    run: &FixRun,
    written: &[Option<Option<String>>],
    args: &FixArgs,
) -> Result<()> {
    for (file, written) in run.files.iter().zip(written) {
        describe(out, run, file)?;
        match written {
            None => {
                for line in diff(run, file).lines() {
                    writeln!(out, "{line}")?;
                }
            }
            Some(None) if file.created => writeln!(out, "created {}", printable(&file.path))?,
            Some(None) => writeln!(out, "wrote {}", printable(&file.path))?,
            Some(Some(_)) => {}
        }
    }
    summary(out, run, args)
}

/// The run as one JSON document, for tools that open pull requests or comment on them: per
/// file, the findings resolved, each object's additions (the fields' own values), the
/// redacted diff and whether it was written; the files not fixed; what is left open.
fn json(
    out: &mut impl std::io::Write,
    run: &FixRun,
    written: &[Option<Option<String>>],
    args: &FixArgs,
) -> Result<()> {
    use serde_json::json;
    let redact = |text: &str| run.redactor.redact(text).into_owned();
    let files: Vec<_> = run
        .files
        .iter()
        .zip(written)
        .map(|(file, written)| {
            let objects: Vec<_> = file
                .changes
                .iter()
                .map(|(object, additions)| {
                    let additions: Vec<_> = additions
                        .iter()
                        .map(|a| {
                            json!({
                                "holder": redact(&a.holder_name),
                                "pointer": a.pointer().as_str(),
                                "value": a.value,
                                "rules": a.fields.iter().map(|f| f.rule()).collect::<Vec<_>>(),
                            })
                        })
                        .collect();
                    json!({"object": redact(&object.to_string()), "additions": additions})
                })
                .collect();
            json!({
                "path": redact(&file.path),
                "resolved": file.resolved,
                "objects": objects,
                "diff": diff(run, file),
                // Byte ranges of the file as read, and the text Palisade writes there (its own:
                // keys and the fields' values, nothing read from the input).
                "edits": file.edits.iter().map(|e| json!({
                    "start": e.start, "end": e.end, "replacement": e.replacement,
                })).collect::<Vec<_>>(),
                "created": file.created,
                "needs": file.needs.iter().map(|n| redact(n)).collect::<Vec<_>>(),
                "written": matches!(written, Some(None)),
                "error": written.clone().flatten(),
            })
        })
        .collect();
    let not_fixed: Vec<_> = run
        .not_fixed
        .iter()
        .map(|n| json!({"path": redact(&n.path), "reason": redact(&n.reason), "findings": n.findings}))
        .collect();
    let document = json!({
        "files": files,
        "not_fixed": not_fixed,
        "left_open": run.left,
        "open_findings": {"before": run.open_before, "after": run.open_after},
        "incomplete": run.incomplete,
        "written": args.write,
    });
    writeln!(out, "{}", serde_json::to_string_pretty(&document)?)?;
    Ok(())
}

fn printable(text: &str) -> String {
    palisade_core::printable(text).to_string()
}

/// `web.yaml: Deployment shop/web: container "app": allowPrivilegeEscalation: false, ...`
fn describe(out: &mut impl std::io::Write, run: &FixRun, file: &FixedFile) -> Result<()> {
    if !file.needs.is_empty() && file.resolved.is_empty() {
        let names: Vec<String> = file.needs.iter().map(|n| printable(n)).collect();
        return Ok(writeln!(
            out,
            "{}: lists {} under `patches:`",
            printable(&file.path),
            names.join(", ")
        )?);
    }
    let resolved: usize = file.resolved.values().sum();
    let by_rule = file
        .resolved
        .iter()
        .map(|(rule, n)| format!("{rule} {n}"))
        .collect::<Vec<_>>()
        .join(", ");
    writeln!(
        out,
        "{}{}: {resolved} finding{} resolved ({by_rule})",
        printable(&file.path),
        if file.created { " (new)" } else { "" },
        if resolved == 1 { "" } else { "s" }
    )?;
    for (object, additions) in &file.changes {
        let mut holders: Vec<(&str, Vec<&str>)> = Vec::new();
        for addition in additions {
            let fields = addition.fields.iter().map(|f| f.describe());
            match holders.iter_mut().find(|(h, _)| *h == addition.holder_name) {
                Some((_, list)) => list.extend(fields),
                None => holders.push((&addition.holder_name, fields.collect())),
            }
        }
        let what = holders
            .iter()
            .map(|(holder, fields)| format!("{holder}: {}", fields.join(", ")))
            .collect::<Vec<_>>()
            .join("; ");
        writeln!(
            out,
            "  {}: {}",
            run.redactor.redact(&object.to_string()),
            run.redactor.redact(&what)
        )?;
    }
    Ok(())
}

/// The change as a unified diff, every line through the redaction boundary: a value the
/// inputs hold that is not known to be harmless (a credential beside the edited lines) is
/// shown as its tag, so the diff is for reading; `--write` makes the change.
fn diff(run: &FixRun, file: &FixedFile) -> String {
    let shown = printable(&file.path);
    let path = shown.trim_start_matches("./");
    let diff = similar::TextDiff::from_lines(&file.original, &file.fixed);
    let before = match file.created {
        true => "/dev/null".to_string(),
        false => format!("a/{path}"),
    };
    let text = diff
        .unified_diff()
        .context_radius(3)
        .header(&before, &format!("b/{path}"))
        .to_string();
    let mut out = String::with_capacity(text.len());
    for line in text.lines() {
        out.push_str(&run.redactor.redact(line));
        out.push('\n');
    }
    out
}

fn summary(out: &mut impl std::io::Write, run: &FixRun, args: &FixArgs) -> Result<()> {
    for not in &run.not_fixed {
        writeln!(
            out,
            "not fixed: {}: {} ({} finding{})",
            printable(&not.path),
            run.redactor.redact(&not.reason),
            not.findings,
            if not.findings == 1 { "" } else { "s" }
        )?;
    }
    let resolved: usize = run.files.iter().flat_map(|f| f.resolved.values()).sum();
    let files = run.files.len();
    let verb = if args.write { "fixed" } else { "would fix" };
    if files == 0 && !run.not_fixed.is_empty() {
        writeln!(out, "nothing fixed")?;
    } else if files == 0 {
        writeln!(
            out,
            "nothing to fix: no open finding of {} that an added field resolves",
            Field::ALL.map(Field::rule).join(", ")
        )?;
    } else {
        writeln!(
            out,
            "{verb} {resolved} finding{} in {files} file{}; {} open finding{} would remain (palisade scan lists them)",
            if resolved == 1 { "" } else { "s" },
            if files == 1 { "" } else { "s" },
            run.open_after,
            if run.open_after == 1 { "" } else { "s" },
        )?;
    }
    if !run.left.is_empty() {
        let by_rule = run
            .left
            .iter()
            .map(|(rule, n)| format!("{rule} {n}"))
            .collect::<Vec<_>>()
            .join(", ");
        writeln!(
            out,
            "left open ({by_rule}): besides the files not fixed, a manifest does not show \
             whether an image runs as root, so runAsNonRoot and dropping every capability are \
             added only where runAsUser is set (or with --run-as-non-root always / \
             --drop-all-capabilities always), nothing is added beside privileged or SYS_ADMIN, \
             a capability a container adds or a value someone set stays as written, and a \
             chart's values get no field a pod or container that may not have it could read, \
             nor help a template that does not read them"
        )?;
    }
    if run.incomplete {
        writeln!(
            out,
            "INCOMPLETE: some input could not be read, so it was neither judged nor fixed"
        )?;
    }
    Ok(())
}

/// Writes a fixed file in place of the original: only if it still holds the text the fix was
/// made on, through a temporary file in the same directory renamed over it (so a reader never
/// sees half a file), with the original's permissions; a symbolic link's target is written.
fn write_fixed(file: &FixedFile) -> Result<()> {
    if file.created {
        return create(file);
    }
    let target = std::fs::canonicalize(Path::new(&*file.path))?;
    let now = std::fs::read(&target)?;
    if now != file.original.as_bytes() {
        bail!("the file changed while it was being fixed; run palisade fix again");
    }
    let permissions = std::fs::metadata(&target)?.permissions();
    Ok(through_temporary(
        &target,
        file.fixed.as_bytes(),
        |temporary| {
            std::fs::set_permissions(temporary, permissions)?;
            std::fs::rename(temporary, &target)
        },
    )??)
}

/// Writes `bytes` to a temporary file in `target`'s directory, synced, and hands it to `place`
/// (renamed over the target, or linked to its name), so a reader never sees half a file; the
/// temporary file does not outlive the call. The outer error: `target` has no name.
fn through_temporary(
    target: &Path,
    bytes: &[u8],
    place: impl FnOnce(&Path) -> std::io::Result<()>,
) -> Result<std::io::Result<()>> {
    let dir = match target.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir,
        _ => Path::new("."),
    };
    let name = target
        .file_name()
        .context("the file has no name")?
        .to_string_lossy();
    let temporary = dir.join(format!(".{name}.palisade-fix-{}", std::process::id()));
    let written = (|| -> std::io::Result<()> {
        let mut handle = std::fs::File::create(&temporary)?;
        handle.write_all(bytes)?;
        handle.sync_all()?;
        place(&temporary)
    })();
    let _ = std::fs::remove_file(&temporary);
    Ok(written)
}

/// Creates a file the fix adds: written to a temporary file in its directory that is then
/// linked to its name, which fails when a file of that name appeared meanwhile (it is never
/// replaced).
fn create(file: &FixedFile) -> Result<()> {
    let target = Path::new(&*file.path);
    match through_temporary(target, file.fixed.as_bytes(), |temporary| {
        std::fs::hard_link(temporary, target)
    })? {
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
            bail!("a file of that name appeared while it was being fixed; run palisade fix again")
        }
        other => Ok(other?),
    }
}
