//! Generated documentation for the command line: shell completions (`palisade completion`)
//! and man pages (`palisade man`), both from the same clap definition as the parser, so they
//! cannot drift from the flags.

use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use clap::{Args, Command};
use clap_complete::Shell;

/// `palisade completion SHELL`.
#[derive(Args)]
pub struct CompletionArgs {
    /// bash, zsh, fish, powershell or elvish.
    #[arg(value_enum)]
    pub shell: Shell,
}

/// `palisade man DIR`.
#[derive(Args)]
pub struct ManArgs {
    /// Directory to write the pages to (`palisade.1`, `palisade-scan.1`, ...); created if
    /// missing.
    #[arg(value_name = "DIR")]
    pub dir: PathBuf,
}

/// Writes the completion script for `shell` to standard output.
pub fn completion(mut command: Command, args: &CompletionArgs) -> Result<u8> {
    let name = command.get_name().to_string();
    // Into memory first: `generate` panics when its writer fails (a closed pipe).
    let mut script = Vec::new();
    clap_complete::generate(args.shell, &mut command, name, &mut script);
    std::io::stdout().lock().write_all(&script)?;
    Ok(0)
}

/// Writes one man page per command and subcommand into `args.dir`.
pub fn man(command: Command, args: &ManArgs) -> Result<u8> {
    std::fs::create_dir_all(&args.dir)
        .with_context(|| format!("cannot create {}", args.dir.display()))?;
    let mut written = Vec::new();
    write_pages(command, "palisade", &args.dir, &mut written)?;
    let mut out = std::io::stdout().lock();
    for path in &written {
        writeln!(out, "{}", path.display())?;
    }
    Ok(0)
}

fn write_pages(command: Command, name: &str, dir: &Path, written: &mut Vec<PathBuf>) -> Result<()> {
    let command = command.name(name.to_string());
    let mut page = Vec::new();
    clap_mangen::Man::new(command.clone())
        .render(&mut page)
        .context("cannot render a man page")?;
    let path = dir.join(format!("{name}.1"));
    crate::write_file(&path, |out| out.write_all(&page))?;
    written.push(path);
    for sub in command.get_subcommands().filter(|s| s.get_name() != "help") {
        let sub_name = format!("{name}-{}", sub.get_name());
        write_pages(sub.clone(), &sub_name, dir, written)?;
    }
    Ok(())
}
