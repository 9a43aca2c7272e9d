//! Rendering Kustomize and Helm sources with the real tools, bounded in time and output.

use super::*;

pub(super) fn skipped_chart(dir: &Path, level: DiagnosticLevel, why: &str) -> SourceRead {
    SourceRead {
        diagnostics: vec![
            Diagnostic::new(
                level,
                "not-rendered",
                format!(
                    "Helm chart not scanned: {why}. Render it yourself and pipe it in: \
                     `helm template RELEASE {} | palisade scan -`",
                    display(dir)
                ),
            )
            .in_file(display(dir)),
        ],
        ..SourceRead::default()
    }
}

/// The commands that render the kustomization in `dir`, with `--enable-helm` when `charts`
/// ([`inflates_local_charts`]).
pub(super) fn kustomize_commands(dir: &Path, charts: bool) -> Vec<Command> {
    let mut kubectl = Command::new("kubectl");
    kubectl.arg("kustomize").arg(dir);
    let mut kustomize = Command::new("kustomize");
    kustomize.arg("build").arg(dir);
    if charts {
        kubectl.arg("--enable-helm");
        kustomize.arg("--enable-helm");
    }
    vec![kubectl, kustomize]
}

/// The Helm charts the kustomization in `dir` (or one it includes) inflates with
/// `helmCharts`: how many are local (no `repo`) and how many come from a repository.
pub(super) fn inflated_charts(dir: &Path, options: &LoadOptions) -> (usize, usize) {
    let mut dirs = vec![dir.canonicalize().unwrap_or_else(|_| dir.to_path_buf())];
    super::discover::included(dir, options, &mut dirs, 0);
    let (mut local, mut remote) = (0, 0);
    for dir in &dirs {
        let Some(kustomization) =
            kustomization_file(dir).and_then(|file| first_document(&file, &options.limits))
        else {
            continue;
        };
        for chart in items(&kustomization, "helmCharts") {
            if chart.get("repo").is_some() {
                remote += 1;
            } else {
                local += 1;
            }
        }
    }
    (local, remote)
}

/// The fields of a kustomization that name files or directories to read, which Kustomize
/// also reads from a URL or a Git repository.
const REFERENCE_FIELDS: &[&str] = &[
    "resources",
    "bases",
    "components",
    "generators",
    "transformers",
    "validators",
    "crds",
    "configurations",
];

/// What the kustomization in `dir`, or one it includes, reads from the network: entries of
/// [`REFERENCE_FIELDS`] and `openapi.path` that are URLs (`https://...`, `git@...`) or
/// repository references (`github.com/org/repo//dir?ref=v1`), as written. Kustomize fetches
/// them when it renders; a scan does not reach the network (a pull request could point the
/// CI runner at an internal address, such as a cloud metadata endpoint).
pub(super) fn remote_references(dir: &Path, options: &LoadOptions) -> Vec<String> {
    let mut dirs = vec![dir.canonicalize().unwrap_or_else(|_| dir.to_path_buf())];
    super::discover::included(dir, options, &mut dirs, 0);
    let mut out = Vec::new();
    for dir in &dirs {
        let Some(kustomization) =
            kustomization_file(dir).and_then(|file| first_document(&file, &options.limits))
        else {
            continue;
        };
        let openapi = kustomization.get("openapi").and_then(|o| o.get("path"));
        let entries = REFERENCE_FIELDS
            .iter()
            .flat_map(|field| items(&kustomization, field))
            .chain(openapi);
        for entry in entries.filter_map(Value::as_str) {
            if is_remote(dir, entry) && !out.iter().any(|seen| seen == entry) {
                out.push(entry.to_string());
            }
        }
    }
    out
}

/// Whether Kustomize would fetch `entry` (of the kustomization in `dir`): a URL other than
/// `file://`, an scp-style Git address, or, when nothing of that name is in `dir`, a path
/// that starts with a host name (`github.com/...`) or names a Git reference or subdirectory
/// (`?ref=`, `//`).
fn is_remote(dir: &Path, entry: &str) -> bool {
    let entry = entry.trim();
    if let Some((scheme, _)) = entry.split_once("://") {
        return !scheme.eq_ignore_ascii_case("file");
    }
    if entry.starts_with("git@") || entry.starts_with("ssh:") {
        return true;
    }
    if dir.join(entry).exists() {
        return false;
    }
    let host = entry.split('/').next().unwrap_or("");
    (entry.contains('/') && host.contains('.') && !host.starts_with('.'))
        || entry.contains("?ref=")
        || entry.contains("//")
}

/// Whether a kustomization that inflates `charts` ([`inflated_charts`]: local, remote) is
/// rendered with `--enable-helm`: it inflates Helm charts, all of them local. A chart from a
/// repository is not fetched: Kustomize would pull it over the network into the user's
/// directory, which a scan must not do; the rendering then fails, and the diagnostic says why.
pub(super) fn inflates_local_charts(charts: (usize, usize), options: &LoadOptions) -> bool {
    options.helm && matches!(charts, (1.., 0))
}

/// What running the first renderer that exists gave.
pub(super) enum Rendered {
    Output(Vec<u8>),
    /// The renderer that ran and failed, and why.
    Failed(String, String),
    /// None of them exists; the programs tried.
    NotFound(Vec<String>),
}

/// Runs the first of `commands` whose program exists, within the run's time and size limits.
pub(super) fn run_first(commands: Vec<Command>, options: &LoadOptions) -> Rendered {
    let mut tried = Vec::new();
    for mut cmd in commands {
        let program = cmd.get_program().to_string_lossy().into_owned();
        match run_with_timeout(
            &mut cmd,
            options.render_timeout,
            options.limits.max_file_bytes,
        ) {
            Err(RunError::NotFound) => tried.push(program),
            Err(RunError::Failed(message)) => return Rendered::Failed(program, message),
            Ok(output) => return Rendered::Output(output),
        }
    }
    Rendered::NotFound(tried)
}

/// Runs the first renderer that exists and parses its output.
pub(super) fn render(
    dir: &Path,
    renderer: palisade_core::Renderer,
    commands: Vec<Command>,
    reading: &Reading<'_>,
) -> SourceRead {
    render_traced(dir, renderer, commands, reading, |_, _| {})
}

/// [`render`], then `trace` with the renderer's output and what was read from it (to point
/// the objects at the files they come from).
pub(super) fn render_traced(
    dir: &Path,
    renderer: palisade_core::Renderer,
    commands: Vec<Command>,
    reading: &Reading<'_>,
    trace: impl FnOnce(&[u8], &mut SourceRead),
) -> SourceRead {
    let name = display(dir);
    let tried = match run_first(commands, reading.options) {
        Rendered::Output(output) => {
            let mut read = reading.parse(&name, Some(renderer), &output);
            trace(&output, &mut read);
            return read;
        }
        Rendered::Failed(program, message) => {
            return failed(
                &name,
                Some(renderer),
                "render-failed",
                format!("`{program}` failed: {message}"),
            );
        }
        Rendered::NotFound(tried) => tried,
    };
    if renderer == palisade_core::Renderer::Helm {
        // Not scanned though it was asked for: the run is incomplete.
        return skipped_chart(dir, DiagnosticLevel::Error, "`helm` is not on PATH");
    }
    failed(
        &name,
        Some(renderer),
        "not-rendered",
        format!(
            "Kustomization not rendered: none of {} is on PATH. Render it yourself and pipe it in: \
             `kubectl kustomize {name} | palisade scan -`",
            tried.join(", ")
        ),
    )
}

pub(super) enum RunError {
    NotFound,
    Failed(String),
}

pub(super) fn run_with_timeout(
    cmd: &mut Command,
    timeout: Duration,
    limit: u64,
) -> Result<Vec<u8>, RunError> {
    let mut child = cmd
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| {
            if e.kind() == std::io::ErrorKind::NotFound {
                RunError::NotFound
            } else {
                RunError::Failed(e.to_string())
            }
        })?;
    // Drain both pipes on threads so a chatty renderer cannot block on a full pipe.
    let mut stdout = child.stdout.take();
    let mut stderr = child.stderr.take();
    let out_reader = std::thread::spawn(move || {
        let mut buf = Vec::new();
        if let Some(out) = stdout.as_mut() {
            let _ = out.take(limit + 1).read_to_end(&mut buf);
        }
        buf
    });
    let err_reader = std::thread::spawn(move || {
        let mut buf = Vec::new();
        if let Some(err) = stderr.as_mut() {
            let _ = err.take(64 * 1024).read_to_end(&mut buf);
        }
        buf
    });
    let start = Instant::now();
    let status = loop {
        match child.try_wait() {
            Ok(Some(status)) => break status,
            Ok(None) if start.elapsed() > timeout => {
                let _ = child.kill();
                let _ = child.wait();
                return Err(RunError::Failed(format!(
                    "timed out after {} s (a remote base that cannot be fetched?)",
                    timeout.as_secs()
                )));
            }
            Ok(None) => std::thread::sleep(Duration::from_millis(10)),
            Err(e) => return Err(RunError::Failed(e.to_string())),
        }
    };
    let out = out_reader.join().unwrap_or_default();
    let err = err_reader.join().unwrap_or_default();
    if !status.success() {
        let text = String::from_utf8_lossy(&err);
        return Err(RunError::Failed(format!(
            "{status}: {}",
            stderr_summary(&text)
        )));
    }
    if out.len() as u64 > limit {
        return Err(RunError::Failed(format!(
            "output is over the {} limit",
            mib(limit)
        )));
    }
    Ok(out)
}

/// What a renderer's error output says, in one line: kubectl wraps its error in a log line
/// (`E1202 ... "command failed" err=<`, the message indented below, then ` >`), whose header
/// says nothing; a long message keeps its first and last lines (the last says what to do).
fn stderr_summary(text: &str) -> String {
    let lines: Vec<&str> = text.lines().collect();
    let body = match lines.iter().position(|l| l.trim_end().ends_with("err=<")) {
        Some(start) => {
            let rest = &lines[start + 1..];
            let end = rest
                .iter()
                .position(|l| l.trim() == ">")
                .unwrap_or(rest.len());
            &rest[..end]
        }
        None => &lines[..],
    };
    let said: Vec<&str> = body
        .iter()
        .map(|l| l.trim())
        .filter(|l| !l.is_empty())
        .collect();
    let summary = match said.as_slice() {
        [] => "no message".to_string(),
        [one] => (*one).to_string(),
        [first, .., last] => format!("{first} ... {last}"),
    };
    summary.chars().take(400).collect()
}

#[cfg(test)]
mod tests {
    use super::{is_remote, stderr_summary};

    #[test]
    fn kubectl_errors_are_summarised_by_what_they_say() {
        let kubectl = "E1202 20:11:13.563298   17987 run.go:72] \"command failed\" err=<\n\ttrouble configuring builtin HelmChartInflationGenerator with config: `\n\tname: nginx\n\t`: must specify --enable-helm\n >\n";
        assert_eq!(
            stderr_summary(kubectl),
            "trouble configuring builtin HelmChartInflationGenerator with config: ` ... `: must specify --enable-helm"
        );
        assert_eq!(
            stderr_summary("Error: release name is invalid\n"),
            "Error: release name is invalid"
        );
        assert_eq!(stderr_summary("\n \n"), "no message");
        assert!(stderr_summary(&"x".repeat(5000)).chars().count() <= 400);
    }

    /// What Kustomize would fetch is told from what it reads on disk.
    #[test]
    fn remote_entries_are_told_from_local_ones() {
        let dir = std::env::temp_dir().join(format!("palisade-remote-{}", std::process::id()));
        std::fs::create_dir_all(dir.join("base.d")).unwrap();
        for remote in [
            "https://example.com/deploy.yaml",
            "http://169.254.169.254/latest/meta-data/",
            "git@github.com:org/repo.git",
            "ssh://git@example.com/org/repo",
            "github.com/org/repo//deploy?ref=v1",
            "gitlab.com/org/repo/deploy",
            "example.com/org/repo",
            "deploy?ref=main",
        ] {
            assert!(is_remote(&dir, remote), "{remote}");
        }
        for local in [
            "deployment.yaml",
            "../base",
            "base.d",
            "file:///tmp/repo",
            "./x.yaml",
        ] {
            assert!(!is_remote(&dir, local), "{local}");
        }
        let _ = std::fs::remove_dir_all(&dir);
    }
}
