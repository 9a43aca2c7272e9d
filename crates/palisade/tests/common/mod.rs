//! Helpers shared by the CLI's integration tests.

#![allow(dead_code)]

pub mod serve;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::Value;

/// Runs `cmd` to its end off the async runtime, so that a server the test runs on that
/// runtime (the recorded API servers) keeps answering it.
pub async fn output_of(cmd: Command) -> Output {
    let mut cmd = cmd;
    tokio::task::spawn_blocking(move || cmd.output().expect("the command runs"))
        .await
        .expect("the command's thread")
}

/// The real binary, run from the workspace root (so paths match the README's), without the
/// environment that would change its output.
pub fn bin() -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_palisade"));
    cmd.current_dir(workspace());
    // Every flag has a PALISADE_* variable: none of the caller's may leak in.
    for (name, _) in std::env::vars_os() {
        if name.to_string_lossy().starts_with("PALISADE_") {
            cmd.env_remove(name);
        }
    }
    cmd.env_remove("KUBECONFIG").env("NO_COLOR", "1");
    cmd
}

pub fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .canonicalize()
        .unwrap()
}

/// A fresh directory under the target dir for one test.
pub fn scratch(name: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join(name);
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// Writes `text` to `path` under `dir`, making the directories it needs.
pub fn write_file(dir: &Path, path: &str, text: &str) {
    let path = dir.join(path);
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, text).unwrap();
}

/// Stdout as JSON, or a panic that shows both streams.
pub fn json(output: &Output) -> Value {
    serde_json::from_slice(&output.stdout).unwrap_or_else(|e| {
        panic!(
            "stdout is not JSON ({e}):\n{}\nstderr:\n{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        )
    })
}

/// Stdout as JSON ([`json`]) of a run that must exit with `code` (a panic showing standard
/// error otherwise).
pub fn json_exiting(output: &Output, code: i32) -> Value {
    exiting(output, code);
    json(output)
}

/// Asserts that the run exited with `code`, showing its standard error when it did not.
pub fn exiting(output: &Output, code: i32) {
    assert_eq!(
        output.status.code(),
        Some(code),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
}

/// Whether `program` runs (`program ARGS` succeeds).
fn runs(program: &str, args: &[&str]) -> bool {
    Command::new(program)
        .args(args)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

/// Whether a test that needs the real `program` can run: CI must have it (`.ci/run` installs
/// it), so there the test fails without it; locally it is skipped with a note.
fn need(program: &str, args: &[&str], tests: &str) -> bool {
    if runs(program, args) {
        return true;
    }
    assert!(
        std::env::var_os("CI").is_none(),
        "{program} is not on PATH: the {tests} tests cannot run in CI without it"
    );
    eprintln!("skipped locally: {program} is not on PATH");
    false
}

/// Whether the Kustomize tests can run: they need `kubectl` (see [`need`]).
pub fn need_kubectl() -> bool {
    need("kubectl", &["version", "--client"], "Kustomize")
}

/// Whether the Helm tests can run: they need `helm` (see [`need`]).
pub fn need_helm() -> bool {
    need("helm", &["version"], "Helm")
}

/// Whether the HTML report tests can run: they open it in headless Chromium (see [`need`]).
pub fn need_chromium() -> bool {
    need("chromium", &["--version"], "HTML report")
}

/// Fails unless `text` is safe for a terminal: no control character but its line ends, and no
/// direction override (`palisade_core::printable` escapes them).
pub fn assert_terminal_safe(text: &str) {
    let unsafe_chars: Vec<char> = text
        .chars()
        .filter(|c| (c.is_control() && *c != '\n') || ('\u{202a}'..='\u{202e}').contains(c))
        .collect();
    assert!(unsafe_chars.is_empty(), "{unsafe_chars:?} in {text:?}");
}
