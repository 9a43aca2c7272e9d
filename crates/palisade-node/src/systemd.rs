//! A systemd service's command line as systemd builds it: the unit file and its drop-ins
//! (`NAME.service.d/*.conf`, across the unit directories, a file in `/etc` masking one of the
//! same name below it, read in name order), `Environment=` and `EnvironmentFile=` (a file's
//! variables overriding `Environment=`'s, a `-` making the file optional), the last
//! `ExecStart=` after an empty one resets it, its words unquoted and `$NAME` (split into
//! words) and `${NAME}` (kept in its word) replaced. Every word remembers the file and line
//! that wrote it, so a finding on a kubelet flag points at the line to change.
//!
//! Only what a command line needs is read; the rest of a unit (dependencies, `[Install]`) is
//! not Palisade's business.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use crate::root::{Root, RootError};

/// Where systemd looks for units, most important first.
pub const UNIT_DIRS: [&str; 5] = [
    "/etc/systemd/system",
    "/run/systemd/system",
    "/usr/local/lib/systemd/system",
    "/usr/lib/systemd/system",
    "/lib/systemd/system",
];

/// The most read of a unit, drop-in or environment file.
const MOST_BYTES: u64 = 1 << 20;

/// Where a word or setting was written: a node path and a 1-based line (none for a process's
/// command line, which has no lines).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Origin {
    pub file: PathBuf,
    pub line: Option<u32>,
}

impl std::fmt::Display for Origin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.line {
            Some(line) => write!(f, "{} line {line}", self.file.display()),
            None => write!(f, "{}", self.file.display()),
        }
    }
}

/// One word of a command line and where it was written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Word {
    pub text: String,
    pub origin: Origin,
}

/// One `Key=value` of a unit's `[Service]` section, continuation lines joined.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    pub key: String,
    pub value: String,
    pub origin: Origin,
}

/// The entries of the `[Service]` section of a unit or drop-in's text (`#` and `;` comments,
/// a line ending in `\` continued on the next).
pub fn service_entries(text: &str, file: &Path) -> Vec<Entry> {
    let mut entries = Vec::new();
    let mut in_service = false;
    let mut lines = text.lines().enumerate();
    while let Some((index, line)) = lines.next() {
        let start = u32::try_from(index + 1).unwrap_or(u32::MAX);
        let mut line = line.trim().to_string();
        if line.starts_with('#') || line.starts_with(';') || line.is_empty() {
            continue;
        }
        let mut continued = line.ends_with('\\');
        while continued {
            if line.ends_with('\\') {
                line.pop();
                line.push(' ');
            }
            match lines.next() {
                // A comment inside a continued line is skipped, as systemd skips it.
                Some((_, next)) if next.trim_start().starts_with(['#', ';']) => {}
                Some((_, next)) => {
                    line.push_str(next.trim());
                    continued = line.ends_with('\\');
                }
                None => break,
            }
        }
        if line.starts_with('[') {
            in_service = line.trim_end() == "[Service]";
            continue;
        }
        if !in_service {
            continue;
        }
        if let Some((key, value)) = line.split_once('=') {
            entries.push(Entry {
                key: key.trim().to_string(),
                value: value.trim().to_string(),
                origin: Origin {
                    file: file.to_path_buf(),
                    line: Some(start),
                },
            });
        }
    }
    entries
}

/// The unit file of `name` and its drop-ins, as systemd orders them.
pub fn unit_files(root: &Root, name: &str) -> Result<Vec<PathBuf>, RootError> {
    let mut files = Vec::new();
    for dir in UNIT_DIRS {
        let unit = Path::new(dir).join(name);
        if root.stat(&unit)?.is_some_and(|s| !s.is_dir) {
            files.push(unit);
            break;
        }
    }
    let mut drop_ins: Vec<(std::ffi::OsString, PathBuf)> = Vec::new();
    for dir in UNIT_DIRS {
        for file in root.list(&Path::new(dir).join(format!("{name}.d")))? {
            let Some(file_name) = file.file_name().map(|n| n.to_os_string()) else {
                continue;
            };
            if file.extension().is_some_and(|e| e == "conf")
                && !drop_ins.iter().any(|(n, _)| *n == file_name)
            {
                drop_ins.push((file_name, file));
            }
        }
    }
    drop_ins.sort();
    if files.is_empty() && drop_ins.is_empty() {
        return Ok(Vec::new());
    }
    files.extend(drop_ins.into_iter().map(|(_, f)| f));
    Ok(files)
}

/// A variable and where it was set.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Variable {
    pub value: String,
    pub origin: Origin,
}

/// A service's command line, read from its unit files.
#[derive(Debug, Clone, Default)]
pub struct ServiceCommand {
    /// The unit files read, main unit first.
    pub files: Vec<PathBuf>,
    /// The environment files named, whether or not they exist.
    pub environment_files: Vec<PathBuf>,
    /// The command line's words; empty when no `ExecStart=` is left.
    pub words: Vec<Word>,
    /// Files that could not be read, with why (a missing optional environment file is not
    /// one).
    pub problems: Vec<String>,
}

/// The command line of the service `name` (`kubelet.service`) under `root`.
pub fn service_command(root: &Root, name: &str) -> Result<ServiceCommand, RootError> {
    let files = unit_files(root, name)?;
    let mut command = ServiceCommand {
        files: files.clone(),
        ..ServiceCommand::default()
    };
    let mut entries = Vec::new();
    for file in &files {
        match root.read(file, MOST_BYTES) {
            Ok(Some(bytes)) => {
                entries.extend(service_entries(&String::from_utf8_lossy(&bytes), file));
            }
            Ok(None) => {}
            Err(e) => command.problems.push(e.to_string()),
        }
    }
    let mut environment: HashMap<String, Variable> = HashMap::new();
    let mut from_files: Vec<(PathBuf, bool)> = Vec::new();
    let mut exec: Option<Entry> = None;
    for entry in entries {
        match entry.key.as_str() {
            "Environment" if entry.value.is_empty() => environment.clear(),
            "Environment" => {
                for assignment in split_words(&entry.value) {
                    if let Some((name, value)) = assignment.split_once('=') {
                        environment.insert(
                            name.to_string(),
                            Variable {
                                value: value.to_string(),
                                origin: entry.origin.clone(),
                            },
                        );
                    }
                }
            }
            "EnvironmentFile" if entry.value.is_empty() => from_files.clear(),
            "EnvironmentFile" => {
                let (optional, path) = match entry.value.strip_prefix('-') {
                    Some(path) => (true, path),
                    None => (false, entry.value.as_str()),
                };
                from_files.push((PathBuf::from(path.trim()), optional));
            }
            "ExecStart" if entry.value.is_empty() => exec = None,
            "ExecStart" => exec = Some(entry),
            _ => {}
        }
    }
    // Variables from files override `Environment=`, later files earlier ones.
    for (file, optional) in from_files {
        command.environment_files.push(file.clone());
        match root.read(&file, MOST_BYTES) {
            Ok(Some(bytes)) => {
                for (name, variable) in environment_file(&String::from_utf8_lossy(&bytes), &file) {
                    environment.insert(name, variable);
                }
            }
            Ok(None) if optional => {}
            Ok(None) => command
                .problems
                .push(format!("{}: no such environment file", file.display())),
            Err(e) => command.problems.push(e.to_string()),
        }
    }
    if let Some(exec) = exec {
        match command_words(&exec.value, &exec.origin, &environment) {
            Ok(words) => command.words = words,
            Err(e) => command.problems.push(format!("{}: {e}", exec.origin)),
        }
    }
    Ok(command)
}

/// The variables of an environment file: `NAME=value` lines, values unquoted (`"..."` with
/// backslash escapes, `'...'` as written), `#` and `;` comments, a line ending in `\`
/// continued.
pub fn environment_file(text: &str, file: &Path) -> Vec<(String, Variable)> {
    let mut out = Vec::new();
    let mut lines = text.lines().enumerate();
    while let Some((index, line)) = lines.next() {
        let start = u32::try_from(index + 1).unwrap_or(u32::MAX);
        let mut line = line.trim_start().to_string();
        while line.ends_with('\\') && !line.ends_with("\\\\") {
            line.pop();
            match lines.next() {
                Some((_, next)) => line.push_str(next),
                None => break,
            }
        }
        if line.starts_with(['#', ';']) {
            continue;
        }
        let Some((name, value)) = line.split_once('=') else {
            continue;
        };
        let name = name.trim();
        if name.is_empty() || !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
            continue;
        }
        let value = value.trim();
        let value = match value.chars().next() {
            Some('"' | '\'') => split_words(value).join(" "),
            _ => value.to_string(),
        };
        out.push((
            name.to_string(),
            Variable {
                value,
                origin: Origin {
                    file: file.to_path_buf(),
                    line: Some(start),
                },
            },
        ));
    }
    out
}

/// A command line's words: whitespace-separated, `"..."` and `'...'` grouping, a backslash
/// escaping the next character (outside single quotes).
pub fn split_words(text: &str) -> Vec<String> {
    split_marked(text).into_iter().map(|(w, _)| w).collect()
}

/// As [`split_words`], each word with whether it was written with no quote or escape (only
/// such a `$NAME` is split into words).
fn split_marked(text: &str) -> Vec<(String, bool)> {
    let mut words = Vec::new();
    let mut word = String::new();
    let mut plain = true;
    let mut in_word = false;
    let mut chars = text.chars();
    let mut quote: Option<char> = None;
    while let Some(c) = chars.next() {
        match (quote, c) {
            (Some(q), c) if c == q => quote = None,
            (Some('"') | None, '\\') => {
                in_word = true;
                plain = false;
                if let Some(next) = chars.next() {
                    word.push(next);
                }
            }
            (Some(_), c) => word.push(c),
            (None, '"' | '\'') => {
                quote = Some(c);
                in_word = true;
                plain = false;
            }
            (None, c) if c.is_whitespace() => {
                if in_word {
                    words.push((std::mem::take(&mut word), plain));
                }
                in_word = false;
                plain = true;
            }
            (None, c) => {
                word.push(c);
                in_word = true;
            }
        }
    }
    if in_word {
        words.push((word, plain));
    }
    words
}

/// The most bytes a command line may hold once its variables are expanded (Linux takes at most
/// 2 MiB of arguments and environment together): a unit whose `$VAR`s would expand beyond it
/// is refused rather than expanded without bound.
pub const MOST_COMMAND_BYTES: usize = 2 << 20;

/// A command line that would be longer than [`MOST_COMMAND_BYTES`] once expanded.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error(
    "the command line is longer than {MOST_COMMAND_BYTES} bytes once its variables are expanded"
)]
pub struct CommandTooLong;

/// `ExecStart=`'s value as words, its prefixes (`-`, `@`, `+`, `!`, `:`) left out and the
/// variables replaced as systemd replaces them.
pub fn command_words(
    exec: &str,
    origin: &Origin,
    environment: &HashMap<String, Variable>,
) -> Result<Vec<Word>, CommandTooLong> {
    let exec = exec.trim_start_matches(['-', '@', '+', '!', ':']);
    let mut out = Vec::new();
    let mut bytes = 0usize;
    for (word, plain) in split_marked(exec) {
        if plain
            && let Some(name) = word.strip_prefix('$')
            && is_name(name)
        {
            // `$NAME` alone: the value's words, none when it is unset or empty.
            if let Some(variable) = environment.get(name) {
                bytes += variable.value.len();
                if bytes > MOST_COMMAND_BYTES {
                    return Err(CommandTooLong);
                }
                out.extend(split_words(&variable.value).into_iter().map(|text| Word {
                    text,
                    origin: variable.origin.clone(),
                }));
            }
            continue;
        }
        let (text, from) =
            substitute(&word, environment, MOST_COMMAND_BYTES - bytes).ok_or(CommandTooLong)?;
        bytes += text.len();
        out.push(Word {
            text,
            origin: from.unwrap_or_else(|| origin.clone()),
        });
    }
    Ok(out)
}

/// `word` with each `${NAME}` replaced (an unset one by nothing), and the origin of the first
/// variable used; `None` when it would be longer than `most` bytes.
fn substitute(
    word: &str,
    environment: &HashMap<String, Variable>,
    most: usize,
) -> Option<(String, Option<Origin>)> {
    let mut out = String::new();
    let mut from = None;
    let mut rest = word;
    while let Some(start) = rest.find("${") {
        let Some(length) = rest[start + 2..].find('}') else {
            break;
        };
        let name = &rest[start + 2..start + 2 + length];
        out.push_str(&rest[..start]);
        if let Some(variable) = environment.get(name) {
            if out.len() + variable.value.len() > most {
                return None;
            }
            out.push_str(&variable.value);
            from.get_or_insert_with(|| variable.origin.clone());
        }
        rest = &rest[start + 3 + length..];
    }
    out.push_str(rest);
    (out.len() <= most).then_some((out, from))
}

fn is_name(text: &str) -> bool {
    let mut chars = text.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(file: &str, line: u32) -> Origin {
        Origin {
            file: PathBuf::from(file),
            line: Some(line),
        }
    }

    #[test]
    fn words_are_unquoted_as_systemd_unquotes_them() {
        assert_eq!(
            split_words(r#"a "b c" 'd "e"' f\ g "h\"i""#),
            vec!["a", "b c", "d \"e\"", "f g", "h\"i"]
        );
        assert!(split_words("   ").is_empty());
        assert_eq!(split_words("\"\""), vec![""]);
    }

    #[test]
    fn variables_alone_are_split_and_inside_words_are_kept_whole() {
        let mut environment = HashMap::new();
        environment.insert(
            "ARGS".to_string(),
            Variable {
                value: "--a=1 --b=\"2 3\"".into(),
                origin: at("/var/lib/kubelet/kubeadm-flags.env", 1),
            },
        );
        let words = command_words(
            "-/usr/bin/kubelet $ARGS --x=${ARGS} $UNSET ${UNSET}",
            &at("/etc/u.conf", 4),
            &environment,
        )
        .unwrap();
        let texts: Vec<&str> = words.iter().map(|w| w.text.as_str()).collect();
        assert_eq!(
            texts,
            vec![
                "/usr/bin/kubelet",
                "--a=1",
                "--b=2 3",
                "--x=--a=1 --b=\"2 3\"",
                ""
            ]
        );
        assert_eq!(words[1].origin, at("/var/lib/kubelet/kubeadm-flags.env", 1));
        assert_eq!(words[0].origin, at("/etc/u.conf", 4));
    }

    #[test]
    fn variables_that_would_expand_without_bound_are_refused() {
        let mut environment = HashMap::new();
        environment.insert(
            "A".to_string(),
            Variable {
                value: "x".repeat(1 << 16),
                origin: at("/f", 1),
            },
        );
        let many = "$A ".repeat(30);
        assert!(command_words(&many, &at("/u", 1), &environment).is_ok());
        let too_many = "$A ".repeat(40);
        assert!(command_words(&too_many, &at("/u", 1), &environment).is_err());
        let inside = format!("--x={}", "${A}".repeat(40));
        assert_eq!(
            command_words(&inside, &at("/u", 1), &environment),
            Err(CommandTooLong)
        );
    }

    #[test]
    fn only_the_service_section_is_read_with_continuations() {
        let text = "[Unit]\nExecStart=/not/this\n[Service]\n# c\nExecStart=/usr/bin/kubelet \\\n  --a=1 \\\n# skipped\n  --b=2\nEnvironment=\"X=1 2\" Y=3\n";
        let entries = service_entries(text, Path::new("/u"));
        assert_eq!(entries.len(), 2);
        assert_eq!(entries[0].key, "ExecStart");
        assert_eq!(
            split_words(&entries[0].value),
            vec!["/usr/bin/kubelet", "--a=1", "--b=2"]
        );
        assert_eq!(entries[0].origin.line, Some(5));
        assert_eq!(split_words(&entries[1].value), vec!["X=1 2", "Y=3"]);
    }

    #[test]
    fn environment_files_unquote_their_values() {
        let vars = environment_file(
            "# kubeadm\nKUBELET_KUBEADM_ARGS=\"--container-runtime-endpoint=unix:///run/containerd/containerd.sock --pod-infra-container-image=registry.k8s.io/pause:3.10\"\nPLAIN = x y \nbad name=1\n; c\nNEXT=a\\\nb\n",
            Path::new("/f"),
        );
        let names: Vec<&str> = vars.iter().map(|(n, _)| n.as_str()).collect();
        assert_eq!(names, vec!["KUBELET_KUBEADM_ARGS", "PLAIN", "NEXT"]);
        assert!(vars[0].1.value.starts_with("--container-runtime-endpoint="));
        assert_eq!(vars[0].1.origin.line, Some(2));
        assert_eq!(vars[1].1.value, "x y");
        assert_eq!(vars[2].1.value, "ab");
    }
}
